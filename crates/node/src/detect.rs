//! Behaviour detection over telemetry files: `accord detect c2` and `accord detect ddos`,
//! and the detectors the flow collector runs beside indicator matching.
//!
//! One way to run any set of [`Observer`]s over files: each input read through
//! [`read_input`] (format sniffed or forced, invalid records counted, an input that
//! breaks off reported while the others go on), every record handed to one
//! [`Pass`], in one window over everything ([`Windows::Whole`]) or in tumbling windows
//! of telemetry time ([`Windows::Tumbling`]). The findings are stored with
//! [`crate::findings::store_findings`]. The detectors themselves are the pure
//! `accord_detect`; this module does the files.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use accord_detect::botnet::Botnets;
use accord_detect::c2::{C2Config, C2Detector};
use accord_detect::ddos::{DdosConfig, DdosDetector};
use accord_detect::{Finding, InternalNets, Observer, Pass, Tumbling, Warninglists};
use accord_telemetry::{Format, Micros};
use serde_json::Value;

use crate::telemetry::{open_input, read_input, InputFailure, ReadSummary, READ_BUFFER};

/// How the records of a run are cut into windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Windows {
    /// One window spanning every record read: what an analyst wants of a capture.
    Whole,
    /// Tumbling windows of this many microseconds of telemetry time (at least one
    /// second), aligned to multiples of the length, as the flow collector cuts them:
    /// a window closes when a record dated past its end is read.
    Tumbling(Micros),
}

/// What a run over files gave.
#[derive(Debug, Default)]
pub struct DetectRun {
    /// The findings of every window, in window order, each window's in observer order.
    pub findings: Vec<Box<dyn Finding>>,
    /// Windows finished (0 when no record was read).
    pub windows: u64,
    /// Inputs, records, invalid records, failures.
    pub read: ReadSummary,
}

impl DetectRun {
    /// Inputs that broke off (what was read before was used).
    pub fn failed_inputs(&self) -> &[InputFailure] {
        &self.read.failed_inputs
    }
}

/// Runs `observers` over `inputs` (`-` is standard input) in `windows`. `format`
/// forces the telemetry format (else each input's first bytes tell it); `now` is the
/// node's clock (microseconds) for the implausible-dates check; `report` gets the
/// warnings (invalid records, implausible dates).
pub fn run_files<'a>(
    observers: Vec<Box<dyn Observer + 'a>>,
    inputs: &[PathBuf],
    format: Option<Format>,
    windows: Windows,
    now: i64,
    report: &mut dyn FnMut(String),
) -> DetectRun {
    let mut run = DetectRun::default();
    let mut sink = match windows {
        Windows::Whole => Sink::Whole(Pass::whole(observers)),
        Windows::Tumbling(length) => Sink::Tumbling(Tumbling::new(observers, length)),
    };
    let mut findings: Vec<Box<dyn Finding>> = Vec::new();
    for path in inputs {
        let name = path.display().to_string();
        let reader = match open_input(path) {
            Ok((r, _)) => BufReader::with_capacity(READ_BUFFER, r),
            Err(e) => {
                run.read.inputs += 1;
                run.read.failed_inputs.push(InputFailure {
                    input: name,
                    error: e.to_string(),
                });
                continue;
            }
        };
        let mut observe = |record: &accord_telemetry::Record<'_>| match &mut sink {
            Sink::Whole(p) => p.observe(record),
            Sink::Tumbling(t) => findings.extend(t.observe(record, record.ts())),
        };
        if let Err(e) = read_input(
            reader,
            format,
            &name,
            now,
            &mut run.read,
            &mut observe,
            report,
        ) {
            run.read.failed_inputs.push(InputFailure {
                input: name,
                error: e.to_string(),
            });
        }
    }
    let (last, windows) = match sink {
        Sink::Whole(p) => {
            let windows = u64::from(p.records() > 0);
            (p.finish(), windows)
        }
        Sink::Tumbling(t) => t.finish(),
    };
    findings.extend(last);
    run.findings = findings;
    run.windows = windows;
    run
}

/// Where records go: one pass over everything, or tumbling windows.
enum Sink<'a> {
    Whole(Pass<'a>),
    Tumbling(Tumbling<'a>),
}

/// Why a detection run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// A warninglist file could not be read.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// A warninglist file was refused (not a MISP warninglist, too large).
    #[error("{path}: {source}")]
    List {
        /// The file.
        path: String,
        /// The rule it broke.
        source: accord_detect::Error,
    },
}

/// The known-benign destinations of the C2 detector: the lists bundled in
/// `accord-detect` (unless `bundled` is false) and MISP warninglist files
/// (`list.json` of github.com/MISP/misp-warninglists), each at most
/// [`accord_detect::warninglist::MAX_LIST_BYTES`].
pub fn load_warninglists(files: &[PathBuf], bundled: bool) -> Result<Warninglists, DetectError> {
    let mut lists = if bundled {
        Warninglists::bundled()
    } else {
        Warninglists::empty()
    };
    for path in files {
        let bytes = read_list(path)?;
        let fallback = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        lists
            .add(&fallback, &bytes)
            .map_err(|source| DetectError::List {
                path: path.display().to_string(),
                source,
            })?;
    }
    Ok(lists)
}

fn read_list(path: &Path) -> Result<Vec<u8>, DetectError> {
    let err = |detail: String| DetectError::File {
        path: path.display().to_string(),
        detail,
    };
    let max = accord_detect::warninglist::MAX_LIST_BYTES;
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > max as u64 {
        return Err(err(format!(
            "{} bytes, more than the {max} bytes a warninglist may have",
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| err(e.to_string()))
}

/// The behaviour detectors that run on flows without names (NetFlow/IPFIX, CSV, Zeek
/// `conn`): C2 (with the bundled warninglists) and DDoS, both with `internal` as the
/// operator's networks, run as one [`Botnets`] observer so that an outbound flood
/// names the C2 its participants beaconed to. What the flow collector runs beside
/// indicator matching; the phishing detector needs names (DNS, HTTP, TLS) and is not
/// among them.
pub fn flow_detectors<'a>(internal: &InternalNets) -> Vec<Box<dyn Observer + 'a>> {
    let c2 = C2Config {
        internal: internal.clone(),
        ..C2Config::default()
    };
    vec![Box::new(Botnets::new(
        C2Detector::new(c2),
        DdosDetector::new(DdosConfig::with_internal(internal.clone())),
    ))]
}

/// Of the findings of a [`Botnets`] run, the floods and only the C2 findings some
/// outbound flood names as its controller (what `accord detect ddos --link-c2`
/// reports: the C2 objects the floods' relationships refer to, not every beacon).
pub fn floods_and_their_controllers(findings: Vec<Box<dyn Finding>>) -> Vec<Box<dyn Finding>> {
    let controllers: Vec<(Value, Value)> = findings
        .iter()
        .filter(|f| f.kind() == "ddos")
        .flat_map(|f| {
            f.to_json()
                .pointer("/evidence/controlled_by")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map(|c| (c["destination"].clone(), c["port"].clone()))
        .collect();
    findings
        .into_iter()
        .filter(|f| {
            f.kind() != "c2" || {
                let j = f.to_json();
                controllers
                    .iter()
                    .any(|(d, p)| j["destination"] == *d && j["port"] == *p)
            }
        })
        .collect()
}

/// The internal networks of a detector: `cidrs`, or [`InternalNets::private`] (the
/// RFC 1918, RFC 6598 and RFC 4193 ranges of
/// [`accord_detect::internal::DEFAULT_INTERNAL`]) when none is given.
pub fn internal_nets<S: AsRef<str>>(cidrs: &[S]) -> Result<InternalNets, accord_detect::Error> {
    if cidrs.is_empty() {
        Ok(InternalNets::private())
    } else {
        InternalNets::parse(cidrs.iter().map(AsRef::as_ref))
    }
}

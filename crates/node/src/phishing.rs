//! Look-alike (phishing) domains: load the brands, read plain lists and Zeek logs, run
//! the detector, store its findings as STIX 2.1 so that re-runs update, not duplicate.
//!
//! The engine is `accord_lookalike` (pure); this module does the files and the store.
//! Each input is sniffed by content: a Zeek log (TSV `#separator` header or JSON lines;
//! `dns.log` queries, `http.log` hosts, `ssl.log` server names) goes through the
//! telemetry reader and the detector's [`accord_detect::Observer`]; anything else is a
//! plain list, one domain or URL a line (`#` comments, hosts-file lines accepted).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use accord_lookalike::input::{host_of_line, is_zeek};
use accord_lookalike::{Index, IndexBuilder, PhishingFinding, PhishingObserver, SuffixList};
use serde::Serialize;

use crate::telemetry::{open_input, read_input, InputFailure, ReadSummary, READ_BUFFER};

/// Largest brands, allow-list or suffix-list file read (bytes): these are read whole.
pub const MAX_LIST_FILE: u64 = 64 << 20;

/// Why a run could not start or store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhishingError {
    /// A brands, allow-list or suffix-list file could not be read.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// A line of a brands or allow-list file, or the suffix list, was refused.
    #[error("{path}: {refusal}")]
    List {
        /// The file.
        path: String,
        /// The rule and reason.
        refusal: accord_lookalike::Refusal,
    },
}

fn read_list(path: &Path) -> Result<String, PhishingError> {
    let err = |detail: String| PhishingError::File {
        path: path.display().to_string(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > MAX_LIST_FILE {
        return Err(err(format!(
            "{} bytes, more than the {MAX_LIST_FILE} bytes a list may have",
            meta.len()
        )));
    }
    std::fs::read_to_string(path).map_err(|e| err(e.to_string()))
}

/// Build the index: brands files, allow-list files, an optional newer Public Suffix
/// List file, the bundled popular-domain list, and the lowest score reported.
pub fn load_index(
    brands: &[PathBuf],
    allow: &[PathBuf],
    psl: Option<&Path>,
    min_score: Option<f64>,
) -> Result<Index, PhishingError> {
    let list_err = |path: &Path, refusal| PhishingError::List {
        path: path.display().to_string(),
        refusal,
    };
    let suffixes = match psl {
        Some(p) => SuffixList::parse(&read_list(p)?).map_err(|r| list_err(p, r))?,
        None => SuffixList::Bundled,
    };
    let mut b = IndexBuilder::new(suffixes);
    for p in brands {
        b.add_brands(&read_list(p)?).map_err(|r| list_err(p, r))?;
    }
    for p in allow {
        b.add_allow(&read_list(p)?).map_err(|r| list_err(p, r))?;
    }
    b.add_popular(accord_lookalike::index::BUNDLED_POPULAR);
    if let Some(m) = min_score {
        b.min_score(m);
    }
    Ok(b.build())
}

/// Totals of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// Inputs read.
    pub inputs: usize,
    /// Inputs that broke off (what was read before was used).
    pub failed_inputs: Vec<InputFailure>,
    /// Names read from plain lists.
    pub names: u64,
    /// Telemetry records read.
    pub records: u64,
    /// Telemetry lines skipped as invalid.
    pub bad_records: u64,
    /// Names refused by the normaliser (too long, invalid punycode...).
    pub refused: u64,
    /// Look-alike names found.
    pub findings: usize,
}

/// Run the detector over `inputs` (`-` is standard input). `now` is the node's clock
/// (microseconds) for the telemetry time checks; `report` gets warnings.
pub fn run(
    index: &Index,
    inputs: &[PathBuf],
    now: i64,
    report: &mut dyn FnMut(String),
) -> (Vec<PhishingFinding>, RunSummary) {
    let mut observer = PhishingObserver::new(index);
    let mut summary = RunSummary::default();
    let mut telemetry = ReadSummary::default();
    for path in inputs {
        let name = path.display().to_string();
        let fail = |summary: &mut RunSummary, error: String| {
            summary.failed_inputs.push(InputFailure {
                input: name.clone(),
                error,
            });
        };
        let (reader, _) = match open_input(path) {
            Ok(r) => r,
            Err(e) => {
                summary.inputs += 1;
                fail(&mut summary, e.to_string());
                continue;
            }
        };
        let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
        let zeek = match reader.fill_buf() {
            Ok(start) => is_zeek(start),
            Err(e) => {
                summary.inputs += 1;
                fail(&mut summary, e.to_string());
                continue;
            }
        };
        if zeek {
            let mut observe = |rec: &accord_telemetry::Record<'_>| {
                accord_detect::Observer::observe(&mut observer, rec)
            };
            if let Err(e) = read_input(
                reader,
                None,
                &name,
                now,
                &mut telemetry,
                &mut observe,
                report,
            ) {
                fail(&mut summary, e.to_string());
            }
        } else {
            summary.inputs += 1;
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) => break,
                    Ok(_) => {
                        if let Some(host) = host_of_line(&line) {
                            summary.names += 1;
                            observer.see(host, None);
                        }
                    }
                    Err(e) => {
                        let error = format!("after {} names: {e}", summary.names);
                        fail(&mut summary, error);
                        break;
                    }
                }
            }
        }
    }
    summary.inputs += telemetry.inputs;
    summary.records = telemetry.records;
    summary.bad_records = telemetry.bad_records;
    summary.failed_inputs.extend(telemetry.failed_inputs);
    summary.refused = observer.refused;
    let findings = observer.take();
    summary.findings = findings.len();
    (findings, summary)
}

//! Reading telemetry: files or standard input, one record stream, bad lines counted.
//!
//! Every telemetry command (`accord match`, `accord detect`) reads its inputs the same
//! way: the format sniffed per input (or forced), invalid records skipped and counted
//! (the first few reported), an input that breaks off reported while the others go on,
//! and record times checked for the two clock mistakes that would misdate findings.
//! What is done with each record is the caller's: an [`accord_detect::Pass`] of
//! observers, or the indicator matcher.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

use accord_telemetry::{Format, Record, TelemetryReader};
use serde::Serialize;

/// Read buffer per input: large enough that a read is rare next to the parsing.
pub const READ_BUFFER: usize = 1 << 20;

/// Record errors reported per input before the rest are only counted.
pub const MAX_REPORTED_ERRORS: u64 = 10;

/// Records dated before this instant (2000-01-01T00:00:00Z, in microseconds) are
/// implausible for network telemetry: most often a capture with timestamps relative
/// to its start, which would date the sightings in 1970.
pub const PLAUSIBLE_SINCE_US: i64 = 946_684_800_000_000;

/// Records dated more than this far past the clock of the machine (microseconds: one
/// hour, beyond clock skew between sensor and node) are dated in the future.
pub const FUTURE_TOLERANCE_US: i64 = 3_600_000_000;

/// Records of one input dated before 2000 or in the future.
#[derive(Debug, Clone, Serialize)]
pub struct ImplausibleTimes {
    /// The file (`-` for standard input).
    pub input: String,
    /// Records dated before 2000-01-01.
    pub before_2000: u64,
    /// Records dated in the future.
    pub in_future: u64,
    /// The earliest and latest record time of the input.
    pub earliest: String,
    /// The latest record time of the input.
    pub latest: String,
}

impl fmt::Display for ImplausibleTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut what = Vec::new();
        if self.before_2000 > 0 {
            what.push(format!("{} records dated before 2000", self.before_2000));
        }
        if self.in_future > 0 {
            what.push(format!("{} records dated in the future", self.in_future));
        }
        write!(
            f,
            "{}: {} (times from {} to {}), as relative timestamps (seconds since the start \
             of a capture) or a wrong clock would give. Assumed: the times are absolute \
             (seconds since 1970-01-01 UTC) and were used as given, so the first_seen and \
             last_seen of sightings and findings carry these dates",
            self.input,
            what.join(" and "),
            self.earliest,
            self.latest
        )
    }
}

/// An input that could not be read to its end.
#[derive(Debug, Clone, Serialize)]
pub struct InputFailure {
    /// The file (`-` for standard input).
    pub input: String,
    /// What went wrong (the line and rule where the format was broken).
    pub error: String,
}

/// Watches the record times of one input for dates before 2000 or in the future.
struct TimeCheck {
    now: i64,
    before_2000: u64,
    in_future: u64,
    earliest: i64,
    latest: i64,
}

impl TimeCheck {
    fn new(now: i64) -> Self {
        TimeCheck {
            now,
            before_2000: 0,
            in_future: 0,
            earliest: i64::MAX,
            latest: i64::MIN,
        }
    }

    fn see(&mut self, ts: i64) {
        self.earliest = self.earliest.min(ts);
        self.latest = self.latest.max(ts);
        if ts < PLAUSIBLE_SINCE_US {
            self.before_2000 += 1;
        } else if ts > self.now.saturating_add(FUTURE_TOLERANCE_US) {
            self.in_future += 1;
        }
    }

    fn finish(&self, input: &str) -> Option<ImplausibleTimes> {
        if self.before_2000 == 0 && self.in_future == 0 {
            return None;
        }
        let text = |us: i64| accord_stix::Timestamp::from_micros(us).as_str().to_string();
        Some(ImplausibleTimes {
            input: input.to_string(),
            before_2000: self.before_2000,
            in_future: self.in_future,
            earliest: text(self.earliest),
            latest: text(self.latest),
        })
    }
}

/// Totals of reading a set of inputs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadSummary {
    /// Inputs read.
    pub inputs: usize,
    /// Inputs that broke off (their records up to there were used).
    pub failed_inputs: Vec<InputFailure>,
    /// Records read.
    pub records: u64,
    /// Lines skipped because they are not valid records.
    pub bad_records: u64,
    /// Inputs with records dated before 2000 or in the future.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implausible_times: Vec<ImplausibleTimes>,
}

/// Opens `path` for reading (`-` is standard input), with its size when known.
pub fn open_input(path: &Path) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(io::stdin()), None));
    }
    let file = File::open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("opening {}: {e}", path.display())))?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(file), size))
}

/// Reads one input to its end, handing each record to `observe`.
///
/// Invalid records are skipped and counted into `summary`; the first
/// [`MAX_REPORTED_ERRORS`] of them, and a warning about implausible times, go to
/// `report` (the CLI prints them to standard error). A fatal reader error ends the
/// input and is returned; the records before it were observed. `now` is the node's
/// clock in microseconds, for the future-dates check.
pub fn read_input(
    reader: impl BufRead,
    format: Option<Format>,
    name: &str,
    now: i64,
    summary: &mut ReadSummary,
    observe: &mut dyn FnMut(&Record<'_>),
    report: &mut dyn FnMut(String),
) -> Result<(), accord_telemetry::Error> {
    summary.inputs += 1;
    let mut reader = TelemetryReader::new(reader, format)?;
    let mut bad = 0u64;
    let mut times = TimeCheck::new(now);
    let result = loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                summary.records += 1;
                times.see(record.ts());
                observe(&record);
            }
            Ok(None) => break Ok(()),
            Err(error) if !error.is_fatal() => {
                bad += 1;
                if bad <= MAX_REPORTED_ERRORS {
                    report(format!("{name}: {error}"));
                }
            }
            Err(error) => break Err(error),
        }
    };
    if bad > MAX_REPORTED_ERRORS {
        report(format!(
            "{name}: ... {} more invalid records skipped",
            bad - MAX_REPORTED_ERRORS
        ));
    }
    summary.bad_records += bad;
    if let Some(warning) = times.finish(name) {
        report(format!("warning: {warning}"));
        summary.implausible_times.push(warning);
    }
    result
}

//! `accord match`: match telemetry against the stored indicators and produce sightings.
//!
//! This module handles files and standard input, the progress bar and the summary;
//! the matching itself is `accord_match`. The caller loads the indicators from the
//! store, calls [`run`], stores the sightings and prints the [`Summary`].

use std::fmt;

use std::io::BufReader;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::input::progress_bar;
use accord_match::{DetectStats, Detector, DetectorConfig, IndicatorInput, Ruleset};
use accord_node::telemetry::{
    open_input, read_input, ImplausibleTimes, InputFailure, ReadSummary, READ_BUFFER,
};
use accord_telemetry::Format;

/// Rejected indicators printed before the rest are only counted.
const MAX_PRINTED_REJECTIONS: usize = 10;

/// What compiling the indicators found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IndicatorSummary {
    /// Indicators given.
    pub received: usize,
    /// Compiled into the flat structures.
    pub compiled: usize,
    /// Atoms compiled.
    pub atoms: usize,
    /// Left to the pattern engine.
    pub fallback: usize,
    /// Fallback patterns that name no object telemetry yields (never evaluated).
    pub unreachable: usize,
    /// Revoked (never match).
    pub revoked: usize,
    /// With an empty validity window.
    pub never_valid: usize,
    /// Older versions of an id given twice.
    pub superseded: usize,
    /// Patterns that do not parse.
    pub rejected: usize,
}

/// Totals of one `accord match` run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    /// Inputs read.
    pub inputs: usize,
    /// Inputs that broke off (their records up to there were matched).
    pub failed_inputs: Vec<InputFailure>,
    /// Records read.
    pub records: u64,
    /// Lines skipped because they are not valid records.
    pub bad_records: u64,
    /// Records matching at least one indicator in force.
    pub matched_records: u64,
    /// (record, indicator) matches.
    pub matches: u64,
    /// Matches outside the indicator's validity window (not counted).
    pub outside_validity: u64,
    /// Sightings produced.
    pub sightings: usize,
    /// The indicators.
    pub indicators: IndicatorSummary,
    /// Pattern-engine evaluations, and how many failed.
    pub fallback_evaluations: u64,
    /// Pattern-engine evaluations that failed (counted as no match).
    pub fallback_errors: u64,
    /// Seconds spent compiling the indicators.
    pub compile_secs: f64,
    /// Seconds spent reading and matching.
    pub match_secs: f64,
    /// Records per second while reading and matching.
    pub records_per_sec: f64,
    /// Inputs with records dated before 2000 or in the future (warned about).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implausible_times: Vec<ImplausibleTimes>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.indicators;
        writeln!(
            f,
            "indicators: {} received, {} compiled ({} atoms), {} for the pattern engine ({} unreachable), {} revoked, {} never valid, {} superseded, {} rejected ({:.2}s)",
            i.received, i.compiled, i.atoms, i.fallback, i.unreachable, i.revoked, i.never_valid, i.superseded, i.rejected, self.compile_secs
        )?;
        writeln!(
            f,
            "telemetry:  {} inputs, {} records ({} skipped as invalid), {:.2}s, {:.0} records/s",
            self.inputs, self.records, self.bad_records, self.match_secs, self.records_per_sec
        )?;
        write!(
            f,
            "matches:    {} records matched ({} matches, {} outside validity), {} sightings",
            self.matched_records, self.matches, self.outside_validity, self.sightings
        )?;
        for failure in &self.failed_inputs {
            write!(f, "\nfailed:     {}: {}", failure.input, failure.error)?;
        }

        Ok(())
    }
}

/// Reads every input (`-` is standard input), matches its records against
/// `indicators`, and returns the sightings as STIX JSON (ordered by indicator, then
/// window) with a summary.
///
/// `format` `None` sniffs each input's format. `internal_cidrs` are the operator's
/// customer networks: their addresses are only counted (`x_accord_distinct_hosts`),
/// never written. Bad records are skipped and counted (the first ones are printed to
/// standard error); an input that breaks off is reported in the summary and the run
/// goes on with the next one. Errors: a bad identity, window or CIDR, or an input that
/// cannot be opened.
pub fn run(
    inputs: &[PathBuf],
    format: Option<Format>,
    indicators: Vec<IndicatorInput>,
    observer_identity: &str,
    internal_cidrs: &[String],
    window: Duration,
    progress: bool,
) -> anyhow::Result<(Vec<serde_json::Value>, Summary)> {
    let config = accord_node::collector::matcher_config(observer_identity, internal_cidrs, window)?;
    let started = Instant::now();
    let rules = Ruleset::compile(indicators);
    let compile_secs = started.elapsed().as_secs_f64();
    let (sightings, mut summary) = match_inputs(&rules, inputs, format, config, progress)?;
    summary.compile_secs = compile_secs;
    Ok((sightings, summary))
}

/// The reading and matching half of [`run`], over already compiled indicators.
pub fn match_inputs(
    rules: &Ruleset,
    inputs: &[PathBuf],
    format: Option<Format>,
    config: DetectorConfig,
    progress: bool,
) -> anyhow::Result<(Vec<serde_json::Value>, Summary)> {
    let mut summary = Summary::default();
    summarise_rules(rules, &mut summary);
    let started = Instant::now();
    let mut detector = Detector::new(rules, config);
    let now = accord_stix::Timestamp::now().as_micros();
    let mut read = ReadSummary::default();
    for input in inputs {
        let (reader, size) = open_input(input)?;
        let bar = progress_bar(size, progress);
        let reader = BufReader::with_capacity(READ_BUFFER, bar.wrap_read(reader));
        let name = input.display().to_string();
        let result = read_input(
            reader,
            format,
            &name,
            now,
            &mut read,
            &mut |record| detector.observe(record),
            &mut |line| eprintln!("accord: {line}"),
        );
        if let Err(error) = result {
            read.failed_inputs.push(InputFailure {
                input: name,
                error: error.to_string(),
            });
        }
        bar.finish_and_clear();
    }
    summary.inputs = read.inputs;
    summary.records = read.records;
    summary.bad_records = read.bad_records;
    summary.failed_inputs = read.failed_inputs;
    summary.implausible_times = read.implausible_times;
    summary.match_secs = started.elapsed().as_secs_f64();
    let (sightings, stats) = detector.finish();
    add_stats(&mut summary, &stats);
    summary.records_per_sec = summary.records as f64 / summary.match_secs.max(1e-9);
    summary.sightings = sightings.len();
    Ok((sightings.iter().map(|s| s.to_json()).collect(), summary))
}

fn summarise_rules(rules: &Ruleset, summary: &mut Summary) {
    let r = rules.report();
    summary.indicators = IndicatorSummary {
        received: r.received,
        compiled: r.compiled,
        atoms: r.atoms,
        fallback: r.fallback,
        unreachable: r.unreachable,
        revoked: r.revoked,
        never_valid: r.never_valid,
        superseded: r.superseded,
        rejected: r.rejected.len(),
    };
    for rejected in r.rejected.iter().take(MAX_PRINTED_REJECTIONS) {
        eprintln!(
            "accord: indicator {} not used: {}",
            rejected.id, rejected.reason
        );
    }
    if r.rejected.len() > MAX_PRINTED_REJECTIONS {
        eprintln!(
            "accord: ... and {} more indicators not used",
            r.rejected.len() - MAX_PRINTED_REJECTIONS
        );
    }
}

fn add_stats(summary: &mut Summary, stats: &DetectStats) {
    summary.matched_records = stats.matched_records;
    summary.matches = stats.matches;
    summary.outside_validity = stats.outside_validity;
    summary.fallback_evaluations = stats.fallback_evaluations;
    summary.fallback_errors = stats.fallback_errors;
}

//! Runs the C2 detector over telemetry files and prints the findings as the JSON
//! array of `accord --json detect c2`, without a node: the reference runner of
//! `scripts/eval-detect` and `scripts/bench-detect` (`ACCORD=target/release/accord
//! scripts/eval-detect` runs the CLI instead, with the same figures).
//!
//! ```text
//! cargo run --release -p accord-detect --example detect_c2 -- [--internal CIDR]... [--stats] FILE...
//! ```
//!
//! Files are read in the order given (give `dns`/`http`/`ssl` logs before or after
//! the `conn` log of the same sensor). `--stats` prints records, seconds and
//! records/s on stderr.

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use accord_detect::c2::{C2Config, C2Detector};
use accord_detect::{InternalNets, Observer, Window};
use accord_telemetry::TelemetryReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut internal = Vec::new();
    let mut files = Vec::new();
    let mut stats = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--internal" => internal.push(args.next().ok_or("--internal needs a CIDR")?),
            "--stats" => stats = true,
            _ => files.push(a),
        }
    }
    let mut config = C2Config::default();
    if !internal.is_empty() {
        config.internal = InternalNets::parse(&internal)?;
    }
    let mut det = C2Detector::new(config);
    let started = Instant::now();
    let (mut n, mut lo, mut hi) = (0u64, i64::MAX, i64::MIN);
    for f in &files {
        let mut r = TelemetryReader::new(BufReader::with_capacity(1 << 20, File::open(f)?), None)?;
        loop {
            match r.next_record() {
                Ok(Some(rec)) => {
                    n += 1;
                    lo = lo.min(rec.ts());
                    hi = hi.max(rec.ts());
                    det.observe(&rec);
                }
                Ok(None) => break,
                Err(e) if !e.is_fatal() => continue,
                Err(e) => return Err(format!("{f}: {e}").into()),
            }
        }
    }
    let window = Window {
        start: lo.min(hi),
        end: hi.max(lo),
    };
    let pairs = det.pairs();
    let observed = started.elapsed().as_secs_f64();
    let findings = det.finish(&window);
    let secs = started.elapsed().as_secs_f64();
    let out: Vec<_> = findings.iter().map(|f| f.to_json()).collect();
    println!("{}", serde_json::to_string_pretty(&out)?);
    if stats {
        eprintln!(
            "records {n} pairs {pairs} pair_state_bytes {} findings {} seconds {secs:.3} (finish {:.3}) records/s {:.0}",
            accord_detect::c2::pair::PAIR_STATE_BYTES,
            out.len(),
            secs - observed,
            n as f64 / secs.max(1e-9)
        );
    }
    Ok(())
}

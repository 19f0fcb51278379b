//! The measuring side of `scripts/bench-match`.
//!
//! ```text
//! bench_match parse CONN.log              # read every record, nothing else (the floor)
//! bench_match match CONN.log IND.jsonl    # what `accord match` does, through its code
//! ```
//!
//! `match` runs the CLI's own `match_cmd::run` (compiled in from the cli crate), so the
//! figures are those of `accord match` without the store. Output: one JSON line.

#[path = "../../cli/src/input.rs"]
#[allow(dead_code)]
mod input;
#[path = "../../cli/src/commands/match_cmd.rs"]
#[allow(dead_code)]
mod match_cmd;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use accord_match::IndicatorInput;
use accord_telemetry::TelemetryReader;

const OBSERVER: &str = "identity--6f1c3f2e-0d2a-4a53-9a53-0d1b8f6c2a10";

/// CPU time of this process (user + system), from `/proc/self/stat` (10 ms ticks).
/// The benchmark machine is shared, so CPU time is steadier than wall time.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the `(comm)`; utime and stime are fields 14 and 15 (1-based).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn parse_only(path: &str) -> anyhow::Result<()> {
    let cpu0 = cpu_secs();
    let started = Instant::now();
    let f = File::open(path)?;
    let mut r = TelemetryReader::new(BufReader::with_capacity(1 << 20, f), None)?;
    let (mut n, mut sum, mut bad) = (0u64, 0u64, 0u64);
    loop {
        match r.next_record() {
            Ok(Some(rec)) => {
                n += 1;
                let c = rec.conn();
                // Touch the fields matching uses so nothing is optimised away.
                sum = sum
                    .wrapping_add(u64::from(c.resp_p.unwrap_or(0)))
                    .wrapping_add(u64::from(c.orig_h.is_ipv4()));
            }
            Ok(None) => break,
            Err(e) if !e.is_fatal() => bad += 1,
            Err(e) => return Err(e.into()),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    println!(
        "{}",
        serde_json::json!({"mode": "parse", "records": n, "bad": bad, "secs": secs, "cpu_secs": cpu,
            "records_per_cpu_sec": n as f64 / cpu, "records_per_sec": n as f64 / secs, "checksum": sum})
    );
    Ok(())
}

fn load_indicators(path: &str) -> anyhow::Result<Vec<IndicatorInput>> {
    let mut out = Vec::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        out.push(IndicatorInput {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            pattern: v["pattern"].as_str().unwrap_or_default().to_string(),
            valid_from: 0,
            valid_until: None,
            revoked: false,
            modified: 0,
        });
    }
    Ok(out)
}

fn full_match(conn: &str, indicators: &str) -> anyhow::Result<()> {
    let inds = load_indicators(indicators)?;
    let config = accord_node::collector::matcher_config(
        OBSERVER,
        &["10.0.0.0/8".to_string()],
        Duration::from_secs(3600),
    )?;
    let (cpu0, t0) = (cpu_secs(), Instant::now());
    let rules = accord_match::Ruleset::compile(inds);
    let (compile_cpu, compile_secs) = (cpu_secs() - cpu0, t0.elapsed().as_secs_f64());
    // BENCH_REPEAT=n matches n times (for profiling the matching phase); the last counts.
    let repeat: usize = std::env::var("BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for _ in 1..repeat {
        match_cmd::match_inputs(&rules, &[PathBuf::from(conn)], None, config.clone(), false)?;
    }
    let cpu1 = cpu_secs();
    let (sightings, s) =
        match_cmd::match_inputs(&rules, &[PathBuf::from(conn)], None, config, false)?;
    let cpu = cpu_secs() - cpu1;
    println!(
        "{}",
        serde_json::json!({
            "mode": "match", "records": s.records, "bad": s.bad_records, "indicators": s.indicators.received,
            "compiled": s.indicators.compiled, "fallback": s.indicators.fallback,
            "compile_secs": compile_secs, "compile_cpu_secs": compile_cpu,
            "secs": s.match_secs, "cpu_secs": cpu, "records_per_sec": s.records_per_sec,
            "records_per_cpu_sec": s.records as f64 / cpu,
            "matched_records": s.matched_records, "sightings": sightings.len(),
        })
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2), args.get(3)) {
        (Some("parse"), Some(conn), None) => parse_only(conn),
        (Some("match"), Some(conn), Some(ind)) => full_match(conn, ind),
        _ => {
            anyhow::bail!("usage: bench_match parse CONN | bench_match match CONN INDICATORS.jsonl")
        }
    }
}

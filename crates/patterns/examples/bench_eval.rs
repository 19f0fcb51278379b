//! Pattern evaluation throughput, for `scripts/bench-pattern-eval`.
//!
//! Usage: `bench-eval CASES.json [SECONDS_PER_PATTERN]`, where CASES.json is
//! `{"observations": <bundle or array>, "patterns": ["...", ...]}`.
//! For each pattern, prints one JSON line: the outcome, evaluations per
//! second against already-loaded observations (`eval_per_s`, the pattern
//! compiled once), and with the observations read from the parsed JSON each
//! time (`load_eval_per_s`, comparable to `stix2-matcher`'s `match()`, which
//! prepares the observations on every call).

use std::time::{Duration, Instant};

use accord_patterns::{CompiledPattern, ObservedData};
use serde_json::{json, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: bench-eval CASES.json [SECONDS]")?;
    let seconds: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1.0);
    let budget = Duration::from_secs_f64(seconds);
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let observations = &cases["observations"];
    let data = ObservedData::from_json(observations)?;
    let patterns = cases["patterns"].as_array().ok_or("no patterns")?;
    for p in patterns {
        let text = p.as_str().ok_or("pattern is not a string")?;
        let compiled = CompiledPattern::compile(text)?;
        let outcome = match compiled.matches(&data) {
            Ok(true) => "match",
            Ok(false) => "no-match",
            Err(_) => "error",
        };
        let eval_rate = rate(budget, || {
            let _ = std::hint::black_box(compiled.matches(&data));
        });
        let load_rate = rate(budget, || {
            if let Ok(d) = ObservedData::from_json(observations) {
                let _ = std::hint::black_box(compiled.matches(&d));
            }
        });
        let compile_rate = rate(budget / 4, || {
            let _ = std::hint::black_box(CompiledPattern::compile(text));
        });
        println!(
            "{}",
            json!({"pattern": text, "outcome": outcome, "eval_per_s": eval_rate,
                   "load_eval_per_s": load_rate, "compile_per_s": compile_rate})
        );
    }
    Ok(())
}

/// Calls `f` repeatedly for about `budget`; returns calls per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n: u64 = 0;
    let mut batch: u64 = 1;
    while start.elapsed() < budget {
        for _ in 0..batch {
            f();
        }
        n += batch;
        batch = (batch * 2).min(1 << 16);
    }
    n as f64 / start.elapsed().as_secs_f64()
}

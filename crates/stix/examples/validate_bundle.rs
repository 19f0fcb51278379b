//! Validates every object of a STIX bundle file and reports the throughput.
//!
//! Usage: `validate-bundle FILE [ROUNDS]`
//!
//! Prints one line per rejected object, then the number of objects, the time
//! for reading + validating the file once (streaming), and the time for
//! validating the already-read objects ROUNDS times (validation alone).
//! With ROUNDS = 0 the objects are not kept: a pure streaming run whose memory
//! stays flat whatever the file size.
//! `scripts/bench-validate` runs it beside the OASIS stix2-validator.

use std::fs::File;
use std::time::Instant;

use accord_stix::{parse_object, BundleReader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: validate-bundle FILE [ROUNDS]")?;
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(20);

    let start = Instant::now();
    let (mut count, mut rejected, mut bytes) = (0usize, 0usize, 0usize);
    let mut texts = Vec::new();
    for raw in BundleReader::new(File::open(&path)?) {
        let raw = raw?;
        bytes += raw.text.len();
        count += 1;
        if let Err(r) = parse_object(&raw.text) {
            rejected += 1;
            println!("object {}: {r}", raw.index);
        }
        if rounds > 0 {
            texts.push(raw.text);
        }
    }
    let stream = start.elapsed().as_secs_f64();

    println!(
        "objects: {count} ({rejected} rejected), {:.0} bytes/object",
        bytes as f64 / count.max(1) as f64
    );
    println!(
        "stream read + validate: {:.3} s, {:.0} objects/s, {:.0} MB/s",
        stream,
        count as f64 / stream,
        bytes as f64 / stream / 1e6
    );
    if rounds == 0 {
        return Ok(());
    }
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for t in &texts {
            ok += usize::from(parse_object(t).is_ok());
        }
    }
    let validate = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_start).map(|(end, begin)| end - begin);
    let n = (count * rounds) as f64;
    println!(
        "validate only ({rounds} rounds, {ok} ok): {:.0} objects/s, {:.0} MB/s",
        n / validate,
        (bytes * rounds) as f64 / validate / 1e6
    );
    if let Some(cpu) = cpu {
        // On a busy machine wall time includes waiting for a core; CPU time does not.
        println!(
            "validate only, per CPU second: {:.0} objects/s, {:.0} MB/s",
            n / cpu,
            (bytes * rounds) as f64 / cpu / 1e6
        );
    }
    Ok(())
}

/// CPU time of this thread from /proc/thread-self/schedstat (Linux), in seconds.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

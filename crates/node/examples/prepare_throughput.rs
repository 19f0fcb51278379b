//! Time the stages of ingest preparation on a bundle, single-threaded: splitting the
//! bundle into objects, validating them, extracting gate facts (from the validator's
//! parse: the facts stage is validation with facts less validation alone), storing.
//!
//! `cargo run --release -p accord-node --example prepare_throughput -- BUNDLE`

use std::time::Instant;

use accord_node::facts;
use accord_stix::{parse_object, parse_object_then, BundleReader, ParseOptions};
use accord_store::{Durability, Provenance, SqliteStore, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: prepare_throughput BUNDLE")?;
    let file = std::fs::File::open(&path)?;
    let started = Instant::now();
    let raws: Vec<String> = BundleReader::new(std::io::BufReader::new(file))
        .map(|r| r.map(|o| o.text))
        .collect::<Result<_, _>>()?;
    let split = started.elapsed();
    let n = raws.len() as f64;
    let started = Instant::now();
    let objects: Vec<_> = raws.iter().filter_map(|t| parse_object(t).ok()).collect();
    let validate = started.elapsed();
    let started = Instant::now();
    let mut bytes = 0;
    for t in &raws {
        if let Ok((_, f)) = parse_object_then(t, &ParseOptions::default(), facts::extract) {
            bytes += f.len();
        }
    }
    let extract = started.elapsed().saturating_sub(validate);
    let prepared: Vec<_> = raws
        .iter()
        .filter_map(|t| accord_node::ingest::prepare(t, &Default::default()).ok())
        .collect();
    let dir = std::env::temp_dir().join(format!("prepare-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open_with(dir.join("store.sqlite"), Durability::AtSync)?;
    let provenance = Provenance::new("bench", "bench");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    for batch in prepared.chunks(2_000) {
        store.insert(batch, &provenance, None)?;
    }
    store.sync()?;
    let insert = started.elapsed();
    let store_cpu = cpu_seconds() - cpu_before;
    std::fs::remove_dir_all(&dir)?;
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n;
    println!(
        "{} objects ({} valid), facts {} bytes/object",
        raws.len(),
        objects.len(),
        bytes / objects.len().max(1)
    );
    println!(
        "split    {:>8.2} us/object  {:>10.0} objects/s",
        per(split),
        n / split.as_secs_f64()
    );
    println!(
        "validate {:>8.2} us/object  {:>10.0} objects/s",
        per(validate),
        n / validate.as_secs_f64()
    );
    println!(
        "facts    {:>8.2} us/object  {:>10.0} objects/s",
        per(extract),
        n / extract.as_secs_f64()
    );
    println!(
        "store    {:>8.2} us/object  {:>10.0} objects/s",
        per(insert),
        n / insert.as_secs_f64()
    );
    println!(
        "store cpu {:.2} s of {:.2} s wall",
        store_cpu,
        insert.as_secs_f64()
    );
    Ok(())
}

/// User + system CPU seconds of this process (Linux), for telling CPU from I/O waits.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

//! Time the stages of ingest preparation on a bundle, single-threaded: splitting the
//! bundle into objects, validating them, extracting gate facts.
//!
//! `cargo run --release -p accord-node --example prepare_throughput -- BUNDLE`

use std::time::Instant;

use accord_node::facts;
use accord_stix::{parse_object, BundleReader};

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
    for o in &objects {
        bytes += facts::extract(o)?.len();
    }
    let extract = started.elapsed();
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
    Ok(())
}

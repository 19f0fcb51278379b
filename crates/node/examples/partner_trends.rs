//! A partner's trends over a collection that mostly withholds from it: W indicators at
//! TLP:RED and R at TLP:GREEN in the one collection it reads, under an agreement up to
//! GREEN; its release view decided beforehand (as `accord serve` keeps it); then
//! `accord_node::trends::trends --by type --interval day` for the partner, best of 3.
//! Its time should follow R, what the partner may read, not W.
//!
//! Usage: cargo run --release -p accord-node --example partner_trends -- [W] [R]

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::{Gate, Tlp};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_node::trends::{trends, Interval, TrendQuery};
use accord_store::{Provenance, SqliteStore};

mod support;
use support::{agreement, indicator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let withheld: usize = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let released: usize = args.next().map_or(Ok(1_000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(dir.path().join("accord.sqlite"))?);
    let texts: Vec<String> = (0..withheld + released)
        .map(|n| {
            let tlp = if n < withheld { Tlp::Red } else { Tlp::Green };
            indicator(n, n, 1 + n % 28, Some(tlp))
        })
        .collect();
    let provenance = Provenance::new("telco", "bench");
    for chunk in texts.chunks(10_000) {
        ingest_batch(
            &*store,
            chunk,
            &provenance,
            Some("shared"),
            &IngestOptions::default(),
        )?;
    }
    let agreement = agreement("telco", "centre", "aggregate_min_providers = 1")?;
    let mut readers = Readers::none();
    readers.grant("shared", "centre");
    let door = Egress::new(store.clone(), "telco")
        .with_gate(Gate::new(vec![agreement])?)
        .with_readers(readers);
    door.refresh_views()?;
    let query = TrendQuery {
        dimension: "type".into(),
        interval: Interval::Day,
        since_day: None,
    };
    let mut best = f64::MAX;
    let mut counted = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let answer = trends(&*store, &door, &Recipient::new("centre"), &query)?;
        best = best.min(started.elapsed().as_secs_f64());
        counted = answer
            .series
            .iter()
            .flat_map(|s| &s.buckets)
            .filter_map(|b| b.count)
            .sum::<i64>();
    }
    println!(
        "{withheld} withheld, {released} released: a partner's trends {:.1} ms (best of 3, {counted} counted)",
        best * 1e3
    );
    Ok(())
}

//! A partner's correlation of one value it names, beside withheld statements of that
//! same value: two providers state the value at TLP:GREEN (the partner may read both)
//! and W more indicators of each state it at TLP:RED (withheld from it), with W
//! TLP:RED sightings by the second of the first one's released statement, in the one
//! collection the partner reads under agreements up to GREEN; its release view decided
//! beforehand (as `accord serve` keeps it); then `accord_node::correlate::correlate`
//! naming the value, for the partner, best of 5 (and the first, which files the
//! partner's view by value, O(what it may read)). Its time should not follow W: how long
//! the answer takes would otherwise tell the partner how many withheld objects state
//! the value it asked about.
//!
//! Usage: cargo run --release -p accord-node --example partner_value_correlation -- [W]

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::{Gate, Tlp};
use accord_detect::Warninglists;
use accord_node::correlate::{correlate, CorrelateQuery};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_store::{Provenance, SqliteStore, Store};

mod support;
use support::{agreement, indicator, sighting};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let withheld: usize = std::env::args().nth(1).map_or(Ok(10_000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(dir.path().join("accord.sqlite"))?);
    for (p, provider) in ["telco", "isp"].iter().enumerate() {
        // Value 0 everywhere: one released statement, then the withheld ones.
        let mut texts: Vec<String> = (0..=withheld)
            .map(|n| {
                let tlp = if n == 0 { Tlp::Green } else { Tlp::Red };
                indicator(p * 10_000_000 + n, 0, 1, Some(tlp))
            })
            .collect();
        if p == 1 {
            texts.extend((1..=withheld).map(|n| sighting(20_000_000 + n, 0, Tlp::Red)));
        }
        let provenance = Provenance::new(*provider, "bench");
        for chunk in texts.chunks(10_000) {
            ingest_batch(
                &*store,
                chunk,
                &provenance,
                Some("shared"),
                &IngestOptions::default(),
            )?;
        }
    }
    store.settle_correlation()?;
    let mut readers = Readers::none();
    readers.grant("shared", "centre");
    let door = Egress::new(store.clone(), "telco")
        .with_gate(Gate::new(vec![
            agreement("telco", "centre", "")?,
            agreement("isp", "centre", "")?,
        ])?)
        .with_readers(readers);
    door.refresh_views()?;
    let query = CorrelateQuery {
        value: Some("10.0.0.0".into()),
        min_providers: 1,
        limit: 10,
    };
    let mut best = f64::MAX;
    let mut first = None;
    let mut objects = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let answer = correlate(
            &*store,
            &door,
            &Recipient::new("centre"),
            &query,
            &Warninglists::empty(),
        )?;
        let took = started.elapsed().as_secs_f64();
        first.get_or_insert(took);
        best = best.min(took);
        objects = answer.first().map_or(0, |c| c.objects.len());
    }
    println!(
        "{withheld} withheld statements of the value per provider and sightings of it: a partner's correlation of it {:.2} ms (best of 5; the first {:.2} ms), {objects} objects in it",
        best * 1e3,
        first.unwrap_or_default() * 1e3
    );
    Ok(())
}

//! A partner's list of correlations (no value named) beside values shared by withheld
//! objects: W values stated by two providers at TLP:RED (withheld from the partner) and
//! R values stated by both at TLP:GREEN, in the one collection the partner reads under
//! agreements up to GREEN; its release view decided beforehand (as `accord serve`
//! keeps it); then `accord_node::correlate::correlate` for the partner, best of 3. Its
//! time should follow R, what the partner may read, not W.
//!
//! Usage: cargo run --release -p accord-node --example partner_correlations -- [W] [R]

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::{Gate, Tlp};
use accord_detect::Warninglists;
use accord_node::correlate::{correlate, CorrelateQuery};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_store::{Provenance, SqliteStore, Store};

mod support;
use support::{agreement, indicator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let withheld: usize = args.next().map_or(Ok(50_000), |s| s.parse())?;
    let released: usize = args.next().map_or(Ok(100), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(dir.path().join("accord.sqlite"))?);
    for (p, provider) in ["telco", "isp"].iter().enumerate() {
        let texts: Vec<String> = (0..withheld + released)
            .map(|v| {
                let tlp = if v < withheld { Tlp::Red } else { Tlp::Green };
                indicator(p * 10_000_000 + v, v, 1, Some(tlp))
            })
            .collect();
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
        value: None,
        min_providers: 2,
        limit: 1_000,
    };
    let mut best = f64::MAX;
    let mut found = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let answer = correlate(
            &*store,
            &door,
            &Recipient::new("centre"),
            &query,
            &Warninglists::empty(),
        )?;
        best = best.min(started.elapsed().as_secs_f64());
        found = answer.len();
    }
    println!(
        "{withheld} values shared by withheld objects, {released} by released ones: a partner's correlations {:.1} ms (best of 3, {found} found)",
        best * 1e3
    );
    Ok(())
}

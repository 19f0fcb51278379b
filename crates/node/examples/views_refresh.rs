//! What one pass of `Egress::refresh_views` costs after a load, as the number of
//! partners' views grows: a store holding 1,000 indicators in the collection every
//! partner reads, V partners with an agreement each (so V views), then W indicators
//! stored outside that collection (new versions the views must check for ids their
//! decisions looked up); the pass after them is timed, best of 3 fresh stores.
//!
//! Usage: cargo run --release -p accord-node --example views_refresh -- [V] [W]

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::Gate;
use accord_node::egress::{Egress, Readers};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_store::{Provenance, SqliteStore};

mod support;
use support::{agreement, indicator};

fn store_in(
    store: &SqliteStore,
    collection: &str,
    from: usize,
    count: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let provenance = Provenance::new("telco", "bench");
    let texts: Vec<String> = (from..from + count)
        .map(|n| indicator(n, n, 1, None))
        .collect();
    for chunk in texts.chunks(10_000) {
        ingest_batch(
            store,
            chunk,
            &provenance,
            Some(collection),
            &IngestOptions::default(),
        )?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let views: usize = args.next().map_or(Ok(50), |s| s.parse())?;
    let writes: usize = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let dir = tempfile::tempdir()?;
        let store = Arc::new(SqliteStore::open(dir.path().join("accord.sqlite"))?);
        store_in(&store, "shared", 0, 1_000)?;
        let agreements = (0..views)
            .map(|v| agreement("telco", &format!("partner-{v}"), ""))
            .collect::<Result<Vec<_>, _>>()?;
        let mut readers = Readers::none();
        for v in 0..views {
            readers.grant("shared", &format!("partner-{v}"));
        }
        let door = Egress::new(store.clone(), "telco")
            .with_gate(Gate::new(agreements)?)
            .with_readers(readers);
        door.refresh_views()?;
        store_in(&store, "elsewhere", 1_000, writes)?;
        let started = Instant::now();
        let pass = door.refresh_views()?;
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(pass.views, views);
        best = best.min(seconds);
    }
    println!(
        "{views} views, {writes} versions stored elsewhere: refresh_views {:.1} ms (best of 3)",
        best * 1e3
    );
    Ok(())
}

//! A partner's list of correlations (no value named) beside values shared by withheld
//! objects: W values stated by two providers at TLP:RED (withheld from the partner) and
//! R values stated by both at TLP:GREEN, in the one collection the partner reads under
//! agreements up to GREEN; its release view decided beforehand (as `accord serve`
//! keeps it); then `accord_node::correlate::correlate` for the partner, best of 3. Its
//! time should follow R, what the partner may read, not W.
//!
//! Usage: cargo run --release -p accord-node --example partner_correlations -- [W] [R]

use std::sync::Arc;

use accord_agreements::Tlp;
use accord_node::correlate::CorrelateQuery;
use accord_store::{SqliteStore, Store};

mod support;
use support::{centre_correlations, indicator, ingest_shared, timed, two_provider_door, Failure};

/// Answers timed.
const RUNS: usize = 3;

fn main() -> Result<(), Failure> {
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
        ingest_shared(&store, provider, &texts)?;
    }
    store.settle_correlation()?;
    let door = two_provider_door(&store)?;
    let query = CorrelateQuery {
        value: None,
        min_providers: Some(2),
        limit: 1_000,
    };
    let run = timed(RUNS, || centre_correlations(&store, &door, &query))?;
    println!(
        "{withheld} values shared by withheld objects, {released} by released ones: a partner's correlations {:.1} ms (best of {RUNS}, {} found)",
        run.best_ms,
        run.answer.len()
    );
    Ok(())
}

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
//! With R (default 0), the first provider also states R other values at TLP:GREEN,
//! which the partner may read: the first answer files them all (the cost of a view's
//! filing, paid once).
//!
//! Usage: cargo run --release -p accord-node --example partner_value_correlation -- [W] [R]

use std::sync::Arc;

use accord_agreements::Tlp;
use accord_node::correlate::CorrelateQuery;
use accord_store::{SqliteStore, Store};

mod support;
use support::{
    centre_correlations, indicator, ingest_shared, sighting, timed, two_provider_door, Failure,
};

/// Answers timed.
const RUNS: usize = 5;

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let withheld: usize = args.next().map_or(Ok(10_000), |s| s.parse())?;
    let readable: usize = args.next().map_or(Ok(0), |s| s.parse())?;
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
        } else {
            // Other values the partner may read (value numbers from 1 on).
            texts.extend((1..=readable).map(|n| indicator(30_000_000 + n, n, 1, Some(Tlp::Green))));
        }
        ingest_shared(&store, provider, &texts)?;
    }
    store.settle_correlation()?;
    let door = two_provider_door(&store)?;
    let query = CorrelateQuery {
        value: Some("10.0.0.0".into()),
        min_providers: Some(1),
        limit: 10,
    };
    let run = timed(RUNS, || centre_correlations(&store, &door, &query))?;
    let objects = run.answer.first().map_or(0, |c| c.objects.len());
    println!(
        "{withheld} withheld statements of the value per provider and sightings of it, {readable} other readable: a partner's correlation of it {:.2} ms (best of {RUNS}; the first {:.2} ms), {objects} objects in it",
        run.best_ms, run.first_ms
    );
    Ok(())
}

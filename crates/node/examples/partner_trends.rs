//! A partner's trends over a collection that mostly withholds from it: W indicators at
//! TLP:RED and R at TLP:GREEN in the one collection it reads, under an agreement up to
//! GREEN; its release view decided beforehand (as `accord serve` keeps it); then
//! `accord_node::trends::trends --by type --interval day` for the partner, best of 3.
//! Its time should follow R, what the partner may read, not W.
//!
//! Usage: cargo run --release -p accord-node --example partner_trends -- [W] [R]

use std::sync::Arc;

use accord_agreements::Tlp;
use accord_node::egress::Recipient;
use accord_node::trends::{trends, Interval, TrendQuery};
use accord_store::SqliteStore;

mod support;
use support::{agreement, indicator, ingest_shared, partner_door, timed, Failure};

/// Answers timed.
const RUNS: usize = 3;

fn main() -> Result<(), Failure> {
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
    ingest_shared(&store, "telco", &texts)?;
    let door = partner_door(
        &store,
        vec![agreement("telco", "centre", "aggregate_min_providers = 1")?],
    )?;
    let query = TrendQuery {
        dimension: "type".into(),
        interval: Interval::Day,
        since_day: None,
    };
    let run = timed(RUNS, || {
        Ok(trends(&*store, &door, &Recipient::new("centre"), &query)?)
    })?;
    let counted: i64 = run
        .answer
        .series
        .iter()
        .flat_map(|s| &s.buckets)
        .filter_map(|b| b.count)
        .sum();
    println!(
        "{withheld} withheld, {released} released: a partner's trends {:.1} ms (best of {RUNS}, {counted} counted)",
        run.best_ms
    );
    Ok(())
}

//! Trends query latency over the store's aggregates (scripts/bench-hub-trends): fills
//! a store with the trend increments of N sightings (default 10,000,000; one increment
//! per sighting and dimension, as ingest makes them: a year of days, 6 sighted types,
//! 7 providers), then times `accord_node::trends::trends` for the operator.
//!
//! Usage: cargo run --release -p accord-node --example trends_query -- STORE_FILE [N]

use std::sync::Arc;
use std::time::Instant;

use accord_node::egress::{Egress, Recipient};
use accord_node::trends::{trends, Interval, TrendQuery};
use accord_store::{Durability, SqliteStore, Store, TrendKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: trends_query STORE_FILE [N]")?;
    let n: u64 = args.next().map_or(Ok(10_000_000), |s| s.parse())?;
    let store = Arc::new(SqliteStore::open_with(&path, Durability::AtSync)?);
    let types = [
        "indicator",
        "malware",
        "infrastructure",
        "tool",
        "campaign",
        "threat-actor",
    ];
    let start = Instant::now();
    let batch = 100_000u64;
    let mut done = 0u64;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while done < n {
        let take = batch.min(n - done);
        for p in 0..7u64 {
            let mut keys = Vec::with_capacity(take as usize * 2 / 7 + 2);
            for _ in 0..take / 7 + u64::from(p < take % 7) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let day = 20_454 + (x % 365) as i64;
                let kind = types[((x >> 20) % types.len() as u64) as usize];
                for (dimension, key) in
                    [("type", kind.to_string()), ("provider", format!("prov{p}"))]
                {
                    keys.push(TrendKey {
                        metric: "sightings".into(),
                        day,
                        dimension: dimension.into(),
                        key,
                        weight: 1,
                    });
                }
            }
            store.add_trend_cells(&format!("prov{p}"), &keys)?;
        }
        done += take;
    }
    store.sync()?;
    println!(
        "filled the aggregates of {n} sightings in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let egress = Egress::new(store.clone(), "operator");
    let operator = Recipient::new("operator");
    for (by, interval) in [
        ("type", Interval::Day),
        ("type", Interval::Week),
        ("provider", Interval::Day),
        ("provider", Interval::Week),
    ] {
        let query = TrendQuery {
            dimension: by.into(),
            interval,
            since_day: None,
        };
        let mut best = f64::MAX;
        let mut total = 0i64;
        for _ in 0..5 {
            let t0 = Instant::now();
            let t = trends(&*store, &egress, &operator, &query)?;
            best = best.min(t0.elapsed().as_secs_f64() * 1e3);
            total = t
                .series
                .iter()
                .flat_map(|s| s.buckets.iter())
                .filter_map(|b| b.count)
                .sum();
        }
        println!(
            "trends --by {by} --interval {interval:?}: best of 5 {best:.1} ms ({total} sightings counted)"
        );
    }
    Ok(())
}

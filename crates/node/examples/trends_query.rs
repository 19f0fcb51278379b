//! Trends query latency over the store's aggregates (scripts/bench-hub-trends): fills
//! a store with the trend increments of N sightings (default 10,000,000; one increment
//! per sighting and dimension, as ingest makes them: a year of days, 6 sighted types,
//! 7 providers; and the country and ASN cells `accord enrich` keeps, over 12 countries
//! and 40 ASes with `unknown`), then times `accord_node::trends::trends` for the
//! operator; for country and asn also after 1,000 indicators and sightings arrived
//! since the last `accord enrich` (the query adds their delta).
//!
//! Usage: cargo run --release -p accord-node --example trends_query -- STORE_FILE [N]

use std::sync::Arc;
use std::time::Instant;

use accord_node::egress::{Egress, Recipient};
use accord_node::trends::{trends, Interval, TrendQuery};
use accord_store::{Durability, LocatedState, NewObject, Provenance, SqliteStore, Store, TrendKey};

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
                let country = COUNTRIES[((x >> 28) % COUNTRIES.len() as u64) as usize];
                let asn = match (x >> 36) % 41 {
                    0 => "unknown".to_string(),
                    a => format!("AS{}", 64_500 + a),
                };
                for (dimension, key) in [
                    ("type", kind.to_string()),
                    ("provider", format!("prov{p}")),
                    ("country", country.to_string()),
                    ("asn", asn),
                ] {
                    keys.push(TrendKey {
                        metric: "sightings",
                        day,
                        dimension,
                        key: key.into(),
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
    // What `accord enrich` records once it has counted them (no database behind
    // these cells: an empty enrichment of generation 1).
    store.put_enrichment(true, &[], store.feed_heads()?.objects, &[], &[])?;
    let generation = store.enrichment_state()?.map_or(0, |s| s.generation);
    store.put_located(
        false,
        &[],
        LocatedState {
            covers_until: store.feed_heads()?.objects,
            generation,
        },
    )?;
    let egress = Egress::new(store.clone(), "operator");
    let operator = Recipient::new("operator");
    for (by, interval) in [
        ("type", Interval::Day),
        ("type", Interval::Week),
        ("provider", Interval::Day),
        ("provider", Interval::Week),
        ("country", Interval::Day),
        ("country", Interval::Week),
        ("asn", Interval::Day),
        ("asn", Interval::Week),
    ] {
        time(&*store, &egress, &operator, by, interval)?;
    }
    // Objects ingested since the count: the query adds their delta (located through
    // the store, one lookup per address).
    let mut objects = Vec::new();
    for i in 0..500u32 {
        objects.push(object(&format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{i:012}","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.{}']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z"}}"#,
            i % 250
        )));
        objects.push(object(&format!(
            r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-{i:012}","created":"2026-03-02T00:00:00.000Z","modified":"2026-03-02T00:00:00.000Z","count":3,"sighting_of_ref":"indicator--00000000-0000-4000-8000-{:012}"}}"#,
            (i * 7) % 500
        )));
    }
    accord_node::analytics::complete(&*store, &mut objects)?;
    store.insert(&objects, &Provenance::new("prov0", "bench"), None)?;
    println!("after 1,000 objects ingested since the last count:");
    for (by, interval) in [("country", Interval::Day), ("asn", Interval::Day)] {
        time(&*store, &egress, &operator, by, interval)?;
    }
    Ok(())
}

/// Countries of the generated cells.
const COUNTRIES: [&str; 13] = [
    "MY", "SG", "NL", "US", "DE", "FR", "GB", "ID", "TH", "VN", "PH", "JP", "unknown",
];

/// An object as ingest makes it (analytics extracted).
fn object(json: &str) -> NewObject {
    let id = json
        .split("\"id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_string();
    NewObject {
        object_type: id.split("--").next().unwrap_or_default().to_string(),
        id,
        spec_version: "2.1".into(),
        version: None,
        facts: Vec::new(),
        json: json.to_string(),
        analytics: accord_node::analytics::extract_text(json).unwrap_or_default(),
    }
}

/// Best of 5 of one query, with the sightings it counted.
fn time(
    store: &dyn Store,
    egress: &Egress,
    operator: &Recipient,
    by: &str,
    interval: Interval,
) -> Result<(), Box<dyn std::error::Error>> {
    {
        let query = TrendQuery {
            dimension: by.into(),
            interval,
            since_day: None,
        };
        let mut best = f64::MAX;
        let mut total = 0i64;
        for _ in 0..5 {
            let t0 = Instant::now();
            let t = trends(store, egress, operator, &query)?;
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

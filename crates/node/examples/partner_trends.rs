//! A partner's trends over a collection that mostly withholds from it: W indicators at
//! TLP:RED and R at TLP:GREEN in the one collection it reads, under an agreement up to
//! GREEN; its release view decided beforehand (as `accord serve` keeps it); then
//! `accord_node::trends::trends --by type --interval day` for the partner, best of 3.
//! Its time should follow R, what the partner may read, not W.
//!
//! Usage: cargo run --release -p accord-node --example partner_trends -- [W] [R]

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::{Agreement, Gate, Tlp};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_node::trends::{trends, Interval, TrendQuery};
use accord_store::{Provenance, SqliteStore};

fn indicator(n: usize, tlp: Tlp) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-01-{:02}T00:00:00.000Z","modified":"2026-01-{:02}T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.{}.{}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["{}"]}}"#,
        1 + n % 28,
        1 + n % 28,
        (n / 250) % 250,
        n % 250,
        tlp.marking_id()
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let withheld: usize = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let released: usize = args.next().map_or(Ok(1_000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(dir.path().join("accord.sqlite"))?);
    let texts: Vec<String> = (0..withheld + released)
        .map(|n| indicator(n, if n < withheld { Tlp::Red } else { Tlp::Green }))
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
    let agreement = Agreement::from_toml(
        r#"
id = "telco-centre"
version = 1
provider = { id = "telco" }
recipient = { id = "centre" }
purpose = "Benchmark"
legal_basis = "MoU"
[validity]
from = 2020-01-01T00:00:00Z
[scope]
types = ["indicator"]
max_tlp = "GREEN"
[protections]
aggregate_min_providers = 1
[obligations]
onward_sharing = true
"#,
    )?;
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

//! A partner's trends over a collection that mostly withholds from it: W indicators at
//! TLP:RED, R at TLP:GREEN and S sightings of the green ones in the one collection it
//! reads, under an agreement up to GREEN; its release view decided beforehand (as
//! `accord serve` keeps it). Times `accord_node::trends::trends` for the partner:
//!
//! - the first query, which files what the view releases (O(R + S)), or with `--kept`
//!   reads the cells the view's first decisions filed (`accord serve`'s default,
//!   `Egress::keeping_partner_trends`: the view's decision is timed with them);
//! - later queries by type, provider, country and asn (best of 5): they read the
//!   kept cells (`Egress::partner_trend_cells`), O(cells);
//! - a query after 1,000 more sightings arrived and the views were refreshed (as
//!   `accord serve` refreshes them);
//! - the pass over what the partner may read that answered before the cells were
//!   kept (`trends::partner_cells_by_pass`), for comparison.
//!
//! and prints the process's resident memory before and after the first query, and
//! its peak.
//!
//! Usage: cargo run --release -p accord-node --example partner_trends -- [W] [R] [S]
//! [--no-pass] [--kept] (`--no-pass`: the pass is not timed; at 10,000,000 it holds
//! every released text in memory at once)

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::{Agreement, Tlp};
use accord_node::egress::Recipient;
use accord_node::trends::{partner_cells_by_pass, trends, Interval, TrendQuery};
use accord_store::SqliteStore;

mod support;
use support::{indicator, ingest_shared, partner_door, sighting, timed, Failure};

/// Answers timed per dimension.
const RUNS: usize = 5;

/// Sightings that arrive between the kept queries and the last one.
const LATE: usize = 1_000;

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let withheld: usize = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let released: usize = args.next().map_or(Ok(1_000), |s| s.parse())?;
    let sightings: usize = args.next().map_or(Ok(0), |s| s.parse())?;
    let (mut pass, mut kept) = (true, false);
    for flag in args {
        match flag.as_str() {
            "--no-pass" => pass = false,
            "--kept" => kept = true,
            other => return Err(format!("unknown argument '{other}'").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(dir.path().join("accord.sqlite"))?);
    let started = Instant::now();
    let texts: Vec<String> = (0..withheld + released)
        .map(|n| {
            let tlp = if n < withheld { Tlp::Red } else { Tlp::Green };
            indicator(n, n, 1 + n % 28, Some(tlp))
        })
        .collect();
    ingest_shared(&store, "telco", &texts)?;
    drop(texts);
    let sighting_of = |k: usize| withheld + k % released.max(1);
    for from in (0..sightings).step_by(100_000) {
        let texts: Vec<String> = (from..sightings.min(from + 100_000))
            .map(|k| sighting(10_000_000_000 + k, sighting_of(k), Tlp::Green))
            .collect();
        ingest_shared(&store, "telco", &texts)?;
    }
    let stored = started.elapsed().as_secs_f64();
    let deciding = Instant::now();
    let door = partner_door(&store, vec![partner_agreement()?], kept)?;
    let cells = if kept { " with its trend cells" } else { "" };
    println!(
        "{withheld} withheld, {released} released indicators, {sightings} sightings: stored in {stored:.1} s, the partner's view decided{cells} in {:.1} s, resident {} MB",
        deciding.elapsed().as_secs_f64(),
        memory_mb("VmRSS:").unwrap_or(0)
    );
    let centre = Recipient::new("centre");
    let query = |dimension: &str| TrendQuery {
        dimension: dimension.into(),
        interval: Interval::Day,
        since_day: None,
    };
    let first = timed(1, || Ok(trends(&*store, &door, &centre, &query("type"))?))?;
    let what = if kept {
        "reads the cells kept from the view's start"
    } else {
        "files what the view releases"
    };
    println!(
        "first query ({what}): {:.1} ms, {} counted, resident {} MB",
        first.best_ms,
        counted(&first.answer),
        memory_mb("VmRSS:").unwrap_or(0)
    );
    for dimension in ["type", "provider", "country", "asn"] {
        let run = timed(RUNS, || {
            Ok(trends(&*store, &door, &centre, &query(dimension))?)
        })?;
        println!(
            "by {dimension}: {:.2} ms (best of {RUNS}), {} series",
            run.best_ms,
            run.answer.series.len()
        );
    }
    let late: Vec<String> = (0..LATE)
        .map(|k| sighting(20_000_000_000 + k, sighting_of(k), Tlp::Green))
        .collect();
    ingest_shared(&store, "telco", &late)?;
    let refresh = Instant::now();
    door.refresh_views()?;
    let refresh_ms = refresh.elapsed().as_secs_f64() * 1e3;
    let after = timed(1, || Ok(trends(&*store, &door, &centre, &query("type"))?))?;
    println!(
        "{LATE} more sightings: views refreshed in {refresh_ms:.1} ms, then a query {:.2} ms, {} counted",
        after.best_ms,
        counted(&after.answer)
    );
    if pass {
        let started = Instant::now();
        let cells = partner_cells_by_pass(&*store, &door, &centre, "type", i64::MIN)?;
        println!(
            "the pass over what it may read: {:.1} ms ({} cells)",
            started.elapsed().as_secs_f64() * 1e3,
            cells.len()
        );
    }
    println!(
        "peak resident memory: {} MB",
        memory_mb("VmHWM:").unwrap_or(0)
    );
    Ok(())
}

fn counted(t: &accord_node::trends::Trends) -> i64 {
    t.series
        .iter()
        .flat_map(|s| &s.buckets)
        .filter_map(|b| b.count)
        .sum()
}

/// Indicators and sightings from `telco` to `centre` up to TLP:GREEN, k = 1.
fn partner_agreement() -> Result<Agreement, Failure> {
    Ok(Agreement::from_toml(
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
types = ["indicator", "sighting"]
max_tlp = "GREEN"
unmarked_tlp = "GREEN"
[protections]
aggregate_min_providers = 1
[obligations]
onward_sharing = true
"#,
    )?)
}

/// A memory figure of the process (`VmRSS:` resident, `VmHWM:` peak resident), in MB.
fn memory_mb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

//! Country/ASN trend cells kept by `accord enrich` (issue 15, item 4): whatever the
//! order of ingests and enrichment runs (new objects, new versions, versions older
//! than those stored arriving late, sightings before what they sight, databases
//! changing), the kept cells plus the query-time delta equal the pass over every
//! object (`trends::located_cells_by_pass`, the computation they replace).

use std::path::PathBuf;

use accord_node::enrich::{self, Databases};
use accord_node::located;
use accord_node::trends::located_cells_by_pass;
use accord_store::{SqliteStore, Store, TrendCell};
use proptest::prelude::*;

use crate::egress::{ingest, store, uuid};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/hub")
        .join(name)
}

/// Addresses the fixture databases place in different countries and ASes, and some
/// they do not know.
const ADDRESSES: [&str; 8] = [
    "203.0.113.5",
    "203.0.113.70",
    "203.0.113.200",
    "198.51.100.7",
    "192.0.2.10",
    "192.0.2.200",
    "100.64.0.1",
    "10.0.0.1",
];

/// Three sets of databases: a change between them recomputes the enrichment.
fn databases(set: u8) -> Databases {
    match set % 3 {
        0 => Databases::open(Some(&fixture("country.mmdb")), Some(&fixture("asn.mmdb"))),
        1 => Databases::open(Some(&fixture("country-code-v4.mmdb")), None),
        _ => Databases::open(None, Some(&fixture("asn.mmdb"))),
    }
    .expect("fixture databases")
}

fn indicator(n: u32, day: u32, minute: u32, addresses: &[&str]) -> String {
    let pattern = addresses
        .iter()
        .map(|a| format!("ipv4-addr:value = '{a}'"))
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-03-{day:02}T10:00:00.000Z","modified":"2026-03-{day:02}T10:{minute:02}:00.000Z","pattern":"[{pattern}]","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z"}}"#,
        uuid(n)
    )
}

fn sighting(n: u32, target: u32, day: u32, count: u32) -> String {
    format!(
        r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--{}","created":"2026-03-{day:02}T00:00:00.000Z","modified":"2026-03-{day:02}T00:00:00.000Z","first_seen":"2026-03-{day:02}T00:00:00Z","count":{count},"sighting_of_ref":"indicator--{}"}}"#,
        uuid(n),
        uuid(target)
    )
}

#[derive(Debug, Clone)]
enum Op {
    /// Indicator `n` (version `minute`) on some addresses, from provider `p`.
    Indicator {
        p: u8,
        n: u32,
        day: u32,
        minute: u32,
        addresses: Vec<usize>,
    },
    /// Sighting `n` of indicator `target` (which may not exist yet, or ever).
    Sighting {
        p: u8,
        n: u32,
        target: u32,
        day: u32,
        count: u32,
    },
    /// `accord enrich` with database set `set`.
    Enrich { set: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, 1u32..8, 1u32..6, 0u32..3, prop::collection::vec(0usize..ADDRESSES.len(), 1..3))
            .prop_map(|(p, n, day, minute, addresses)| Op::Indicator { p, n, day, minute, addresses }),
        3 => (0u8..3, 100u32..106, 1u32..9, 1u32..6, 1u32..5)
            .prop_map(|(p, n, target, day, count)| Op::Sighting { p, n, target, day, count }),
        2 => (0u8..3).prop_map(|set| Op::Enrich { set }),
    ]
}

/// A cell as a comparable tuple: metric, day, key, provider, count, victims.
pub type Compared = (String, i64, String, String, i64, Vec<String>);

/// Cells as comparable tuples, in order (also for `partner_trends`).
pub fn sorted(mut cells: Vec<TrendCell>) -> Vec<Compared> {
    cells.sort_by(|a, b| {
        (&a.metric, a.day, &a.key, &a.provider).cmp(&(&b.metric, b.day, &b.key, &b.provider))
    });
    cells
        .into_iter()
        .map(|c| (c.metric, c.day, c.key, c.provider, c.count, c.victims))
        .collect()
}

/// The kept cells (with the delta of what was added since) against the pass.
fn check(store: &SqliteStore, enriched: bool) -> Result<(), TestCaseError> {
    for dimension in located::DIMENSIONS {
        for since in [i64::MIN, 20_516] {
            let kept = located::cells(store, dimension, since).expect("kept cells");
            let pass = located_cells_by_pass(store, dimension, since).expect("pass");
            match kept {
                Some(kept) => prop_assert_eq!(sorted(kept), sorted(pass), "{}", dimension),
                None => prop_assert!(!enriched, "enriched, yet no kept cells"),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn kept_location_cells_equal_the_pass_over_the_objects(ops in prop::collection::vec(op(), 1..24)) {
        let store = store();
        let mut enriched = false;
        for op in ops {
            match op {
                Op::Indicator { p, n, day, minute, addresses } => {
                    let addresses: Vec<&str> = addresses.iter().map(|&i| ADDRESSES[i]).collect();
                    ingest(&store, &format!("prov{p}"), &[indicator(n, day, minute, &addresses)]);
                }
                Op::Sighting { p, n, target, day, count } => {
                    ingest(&store, &format!("prov{p}"), &[sighting(n, target, day, count)]);
                }
                Op::Enrich { set } => {
                    let summary = enrich::run(&*store, &databases(set), false).expect("enrich");
                    prop_assert!(summary.trend_cells.covers_until >= store.feed_heads().unwrap().objects);
                    enriched = true;
                }
            }
            check(&store, enriched)?;
        }
        // Counting up to any point, then the delta from there, is the pass (what a
        // rebuild does while objects arrive, then the query adds).
        let head = store.feed_heads().unwrap().objects;
        let mut bounds = vec![0];
        let mut q = accord_store::ObjectQuery::new(accord_store::Scope::Store, 100);
        q.versions = accord_store::VersionFilter::all();
        accord_store::for_each_row(&*store, q, |row| { bounds.push(row.date_added); true }).unwrap();
        let mut pass = located::Cells::new();
        for dimension in located::DIMENSIONS {
            for c in located_cells_by_pass(&*store, dimension, i64::MIN).unwrap() {
                pass.insert((dimension.to_string(), c.metric, c.day, c.key, c.provider), c.count);
            }
        }
        for bound in bounds {
            let (mut cells, _) = located::count_all(&*store, bound).unwrap();
            for (k, n) in located::delta(&*store, bound, head).unwrap() {
                *cells.entry(k).or_default() += n;
            }
            cells.retain(|_, n| *n != 0);
            prop_assert_eq!(&cells, &pass, "split at {}", bound);
        }
    }
}

/// An ingest after `accord enrich` is counted by the query (the delta) without being
/// stored, and by the next run; a sighting of an already-counted indicator moves
/// nothing but adds where its target is.
#[test]
fn enrich_keeps_the_cells_and_a_query_adds_what_came_since() {
    let store = store();
    ingest(&store, "prov0", &[indicator(1, 1, 0, &["203.0.113.5"])]);
    ingest(&store, "prov1", &[sighting(100, 2, 2, 3)]);
    let s = enrich::run(&*store, &databases(0), false).unwrap();
    assert!(s.trend_cells.rebuilt);
    let stored = |dimension: &str| sorted(store.trend_cells(dimension, None, i64::MIN).unwrap());
    assert_eq!(
        stored("country"),
        vec![
            (
                "indicators".into(),
                20_513,
                "MY".into(),
                "prov0".into(),
                1,
                vec![]
            ),
            (
                "sightings".into(),
                20_514,
                "unknown".into(),
                "prov1".into(),
                3,
                vec![]
            ),
        ]
    );
    // The sighted indicator arrives: the sighting moves to where it is, at query time.
    ingest(&store, "prov2", &[indicator(2, 3, 0, &["198.51.100.7"])]);
    let kept = sorted(
        located::cells(&*store, "country", i64::MIN)
            .unwrap()
            .unwrap(),
    );
    assert_eq!(
        kept,
        sorted(located_cells_by_pass(&*store, "country", i64::MIN).unwrap())
    );
    assert!(
        kept.contains(&(
            "sightings".into(),
            20_514,
            "unknown".into(),
            "prov1".into(),
            3,
            vec![]
        )),
        "198.51.100.7 is not enriched yet: {kept:?}"
    );
    // The next run locates it and stores the move.
    let s = enrich::run(&*store, &databases(0), false).unwrap();
    assert!(!s.trend_cells.rebuilt);
    assert_eq!(
        s.trend_cells.objects, 2,
        "the new indicator and its sighting"
    );
    assert_eq!(
        stored("country"),
        vec![
            (
                "indicators".into(),
                20_513,
                "MY".into(),
                "prov0".into(),
                1,
                vec![]
            ),
            (
                "indicators".into(),
                20_515,
                "NL".into(),
                "prov2".into(),
                1,
                vec![]
            ),
            (
                "sightings".into(),
                20_514,
                "NL".into(),
                "prov1".into(),
                3,
                vec![]
            ),
        ]
    );
    // Other databases: everything counted again.
    let s = enrich::run(&*store, &databases(2), false).unwrap();
    assert!(s.trend_cells.rebuilt);
    assert_eq!(
        sorted(store.trend_cells("country", None, i64::MIN).unwrap())
            .iter()
            .map(|c| c.2.as_str())
            .collect::<Vec<_>>(),
        ["unknown", "unknown", "unknown"],
        "an ASN database places no country"
    );
}

/// Several providers send the same (first) version of an indicator, each copy on
/// other addresses: a sighting of it is placed as the pass places it, dimension by
/// dimension (the countries of the last copy with a country, the ASes of the last
/// copy with an AS), by the query delta, by an incremental `accord enrich` and by a
/// rebuild alike.
#[test]
fn a_sighting_of_a_version_several_providers_sent_is_placed_per_dimension() {
    let store = store();
    let sighting_cell = |cells: Vec<TrendCell>| -> Vec<String> {
        sorted(cells)
            .into_iter()
            .filter(|c| c.0 == "sightings")
            .map(|c| c.2)
            .collect()
    };
    let kept = |dimension: &str| {
        let kept = located::cells(&*store, dimension, i64::MIN)
            .unwrap()
            .unwrap();
        assert_eq!(
            sorted(kept.clone()),
            sorted(located_cells_by_pass(&*store, dimension, i64::MIN).unwrap()),
            "{dimension}"
        );
        sighting_cell(kept)
    };
    let stored =
        |dimension: &str| sighting_cell(store.trend_cells(dimension, None, i64::MIN).unwrap());
    // 203.0.113.5: MY, AS4788. Indicator 2 has the addresses of the copies to come
    // enriched already, so the query places them before the next run.
    ingest(&store, "prov0", &[indicator(1, 1, 0, &["203.0.113.5"])]);
    ingest(
        &store,
        "prov0",
        &[indicator(2, 1, 0, &["192.0.2.200", "100.64.0.1"])],
    );
    ingest(&store, "prov2", &[sighting(100, 1, 2, 3)]);
    assert!(
        enrich::run(&*store, &databases(0), false)
            .unwrap()
            .trend_cells
            .rebuilt
    );
    assert_eq!(
        (stored("country"), stored("asn")),
        (vec!["MY".into()], vec!["AS4788".into()])
    );
    // The same version from prov1 on 192.0.2.200 (DE, no AS): the country moves, the
    // AS stays: at query time, then kept by an incremental run.
    ingest(&store, "prov1", &[indicator(1, 1, 0, &["192.0.2.200"])]);
    assert_eq!(
        (kept("country"), kept("asn")),
        (vec!["DE".into()], vec!["AS4788".into()])
    );
    let s = enrich::run(&*store, &databases(0), false).unwrap();
    assert!(!s.trend_cells.rebuilt);
    assert_eq!(
        (stored("country"), stored("asn")),
        (vec!["DE".into()], vec!["AS4788".into()])
    );
    // From prov3 on 100.64.0.1 (an AS, no country): the AS moves, the country stays.
    ingest(&store, "prov3", &[indicator(1, 1, 0, &["100.64.0.1"])]);
    assert_eq!(
        (kept("country"), kept("asn")),
        (vec!["DE".into()], vec!["AS64501".into()])
    );
    // Other databases, then these again: counted anew, the same.
    enrich::run(&*store, &databases(1), false).unwrap();
    let s = enrich::run(&*store, &databases(0), false).unwrap();
    assert!(s.trend_cells.rebuilt);
    assert_eq!(
        (stored("country"), stored("asn")),
        (vec!["DE".into()], vec!["AS64501".into()])
    );
    assert_eq!(
        (kept("country"), kept("asn")),
        (vec!["DE".into()], vec!["AS64501".into()])
    );
}

//! Correlation and trends over a real store: the store-wide answer for the node's
//! operator, and for a partner only what the gate releases to it (a count over
//! withheld objects would be a leak).

use std::sync::Arc;

use accord_agreements::{Agreement, Gate, Tlp};
use accord_detect::Warninglists;
use accord_node::correlate::{correlate, CorrelateQuery};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_node::trends::{trends, Interval, TrendQuery};
use accord_store::SqliteStore;

use crate::egress::{ingest, store, uuid, CENTRE, TELCO};

const ISP: &str = "isp";
const BANK: &str = "bank";

fn indicator_on(n: u32, day: u32, tlp: Tlp, ip: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-03-{day:02}T10:00:00.000Z","modified":"2026-03-{day:02}T10:00:00.000Z","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z","object_marking_refs":["{}"]}}"#,
        uuid(n),
        tlp.marking_id()
    )
}

fn sighting_of(n: u32, target: u32, count: u32, tlp: Tlp) -> String {
    format!(
        r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--{}","created":"2026-03-05T00:00:00.000Z","modified":"2026-03-05T00:00:00.000Z","first_seen":"2026-03-04T00:00:00Z","last_seen":"2026-03-06T00:00:00Z","count":{count},"sighting_of_ref":"indicator--{}","object_marking_refs":["{}"]}}"#,
        uuid(n),
        uuid(target),
        tlp.marking_id()
    )
}

/// An agreement from `provider` to CENTRE up to TLP:AMBER.
fn agreement(provider: &str, k: Option<u32>) -> Agreement {
    let k = k.map_or(String::new(), |k| format!("aggregate_min_providers = {k}"));
    let text = format!(
        r#"
id = "{provider}-centre"
version = 1
provider = {{ id = "{provider}" }}
recipient = {{ id = "{CENTRE}" }}
purpose = "Joint operation"
legal_basis = "MoU"
[validity]
from = 2020-01-01T00:00:00Z
[scope]
types = ["indicator", "sighting", "malware", "relationship"]
max_tlp = "AMBER"
[protections]
{k}
[obligations]
onward_sharing = true
"#
    );
    Agreement::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn door(store: &Arc<SqliteStore>, agreements: Vec<Agreement>) -> Egress {
    Egress::new(store.clone(), TELCO)
        .with_gate(Gate::new(agreements).expect("gate"))
        .with_readers(Readers::everyone())
}

/// The door with an agreement to CENTRE from each of TELCO, ISP and BANK (up to AMBER,
/// no k).
fn door_of_three(store: &Arc<SqliteStore>) -> Egress {
    door_of_three_with_k(store, None)
}

/// [`door_of_three`], TELCO's agreement giving `k`.
fn door_of_three_with_k(store: &Arc<SqliteStore>, k: Option<u32>) -> Egress {
    door(
        store,
        vec![
            agreement(TELCO, k),
            agreement(ISP, None),
            agreement(BANK, None),
        ],
    )
}

fn query(value: Option<&str>, min: usize) -> CorrelateQuery {
    CorrelateQuery {
        value: value.map(str::to_string),
        min_providers: Some(min),
        limit: 100,
    }
}

/// `correlate` as `org` asks it, with `query`.
fn correlate_as(
    store: &SqliteStore,
    door: &Egress,
    org: &str,
    query: &CorrelateQuery,
) -> Vec<accord_node::correlate::Correlation> {
    correlate(
        store,
        door,
        &Recipient::new(org),
        query,
        &Warninglists::empty(),
    )
    .expect("correlate")
}

/// `correlate` as `org` asks it, with `query(value, min)`.
fn correlations(
    store: &SqliteStore,
    door: &Egress,
    org: &str,
    value: Option<&str>,
    min: usize,
) -> Vec<accord_node::correlate::Correlation> {
    correlate_as(store, door, org, &query(value, min))
}

/// Three providers state 203.0.113.7; ISP's second statement and BANK's are TLP:RED,
/// as is a sighting by ISP. Returns the store.
fn corpus() -> Arc<SqliteStore> {
    let store = store();
    ingest_corpus(&store);
    store
}

/// [`corpus`]'s objects, into `store`.
fn ingest_corpus(store: &SqliteStore) {
    ingest(
        store,
        TELCO,
        &[indicator_on(1, 1, Tlp::Green, "203.0.113.7")],
    );
    ingest(
        store,
        ISP,
        &[
            indicator_on(2, 2, Tlp::Green, "203.0.113.7"),
            indicator_on(3, 3, Tlp::Red, "203.0.113.7"),
            sighting_of(4, 1, 40, Tlp::Red),
            sighting_of(5, 1, 2, Tlp::Green),
        ],
    );
    ingest(store, BANK, &[indicator_on(6, 4, Tlp::Red, "203.0.113.7")]);
}

#[test]
fn the_operator_sees_every_provider_of_a_value() {
    let store = corpus();
    let door = door(&store, Vec::new());
    let found = correlations(&store, &door, TELCO, None, 2);
    assert_eq!(found.len(), 1, "{found:?}");
    let c = &found[0];
    assert_eq!((c.kind.as_str(), c.value.as_str()), ("ip", "203.0.113.7"));
    assert_eq!(c.provider_count, 3);
    assert_eq!(c.sightings, 42);
    let isp = c.providers.iter().find(|p| p.provider == ISP).expect("isp");
    assert_eq!((isp.objects, isp.sightings), (2, 42));
    assert_eq!(isp.first_seen, "2026-03-02T10:00:00.000000Z");
    assert_eq!(isp.last_seen, "2026-03-06T00:00:00.000000Z");
    assert_eq!(c.objects.len(), 6);
}

#[test]
fn a_partner_correlation_counts_only_what_the_gate_releases_to_it() {
    let store = corpus();
    // Agreements from all three providers, up to AMBER: every RED object is withheld.
    let door = door_of_three(&store);
    let found = correlations(&store, &door, CENTRE, Some("203.0.113.7"), 1);
    assert_eq!(found.len(), 1, "{found:?}");
    let c = &found[0];
    // BANK's only statement is withheld: two providers, not three.
    assert_eq!(c.provider_count, 2, "{c:?}");
    // ISP's RED indicator and RED sighting (count 40) are not counted.
    assert_eq!(c.sightings, 2);
    let objects: u64 = c.providers.iter().map(|p| p.objects).sum();
    assert_eq!(objects, 2);
    assert!(
        !c.objects
            .iter()
            .any(|id| id.ends_with(&uuid(3)) || id.ends_with(&uuid(4)) || id.ends_with(&uuid(6))),
        "{c:?}"
    );
    // Providers are not named to a partner.
    assert!(c
        .providers
        .iter()
        .all(|p| p.provider.starts_with("provider-")));
    // With 3 providers asked for, nothing: the third is withheld.
    let none = correlations(&store, &door, CENTRE, None, 3);
    assert!(none.is_empty(), "{none:?}");
    // Without agreements the partner sees no correlation at all.
    let closed = door_without(&store);
    let nothing = correlations(&store, &closed, CENTRE, Some("203.0.113.7"), 1);
    assert!(nothing.is_empty(), "{nothing:?}");
}

fn door_without(store: &Arc<SqliteStore>) -> Egress {
    door(store, Vec::new())
}

#[test]
fn warninglisted_values_are_marked_with_the_list() {
    let store = store();
    ingest(&store, TELCO, &[indicator_on(1, 1, Tlp::Green, "8.8.8.8")]);
    ingest(&store, ISP, &[indicator_on(2, 1, Tlp::Green, "8.8.8.8")]);
    let door = door(&store, Vec::new());
    let found = correlate(
        &*store,
        &door,
        &Recipient::new(TELCO),
        &query(None, 2),
        &Warninglists::bundled(),
    )
    .expect("correlate");
    assert_eq!(found.len(), 1);
    assert!(found[0].warninglist.is_some(), "{found:?}");
}

fn trend_query(dimension: &str) -> TrendQuery {
    TrendQuery {
        dimension: dimension.into(),
        interval: Interval::Day,
        since_day: None,
    }
}

#[test]
fn trends_count_new_objects_per_day_and_suppress_cells_of_few_providers() {
    let store = store();
    // Day 1: three providers one indicator each; day 2: TELCO alone two.
    ingest(
        &store,
        TELCO,
        &[
            indicator_on(1, 1, Tlp::Green, "198.51.100.1"),
            indicator_on(2, 2, Tlp::Green, "198.51.100.2"),
            indicator_on(3, 2, Tlp::Green, "198.51.100.3"),
        ],
    );
    ingest(
        &store,
        ISP,
        &[indicator_on(4, 1, Tlp::Green, "198.51.100.4")],
    );
    ingest(
        &store,
        BANK,
        &[
            indicator_on(5, 1, Tlp::Green, "198.51.100.5"),
            indicator_on(6, 1, Tlp::Red, "198.51.100.6"),
        ],
    );
    let door = door_of_three_with_k(&store, Some(3));
    let local =
        trends(&*store, &door, &Recipient::new(TELCO), &trend_query("type")).expect("trends");
    assert_eq!(local.k, 1);
    let ip = local
        .series
        .iter()
        .find(|s| s.key == "ip" && s.metric == "indicators")
        .expect("ip");
    let counts: Vec<Option<i64>> = ip.buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, vec![Some(4), Some(2)]);
    assert_eq!(ip.buckets[0].start, "2026-03-01");
    let partner = trends(
        &*store,
        &door,
        &Recipient::new(CENTRE),
        &trend_query("type"),
    )
    .expect("trends");
    assert_eq!(partner.k, 3);
    let ip = partner.series.iter().find(|s| s.key == "ip").expect("ip");
    let counts: Vec<Option<i64>> = ip.buckets.iter().map(|b| b.count).collect();
    // Day 1: three providers, the RED indicator withheld (3, not 4); day 2: TELCO
    // alone, suppressed.
    assert_eq!(counts, vec![Some(3), None]);
    // By provider every cell is one provider's: all suppressed, no series shown.
    let by_provider = trends(
        &*store,
        &door,
        &Recipient::new(CENTRE),
        &trend_query("provider"),
    )
    .expect("trends");
    assert!(by_provider.series.is_empty(), "{by_provider:?}");
}

/// A sighting of indicator `target` on 2026-03-04, seen at `victims` (identity
/// numbers; none: no `where_sighted_refs`).
fn sighting_at(n: u32, target: u32, victims: &[u32]) -> String {
    let refs = if victims.is_empty() {
        String::new()
    } else {
        let ids: Vec<String> = victims
            .iter()
            .map(|v| format!(r#""identity--{}""#, uuid(*v)))
            .collect();
        format!(r#","where_sighted_refs":[{}]"#, ids.join(","))
    };
    format!(
        r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--{}","created":"2026-03-05T00:00:00.000Z","modified":"2026-03-05T00:00:00.000Z","first_seen":"2026-03-04T00:00:00Z","count":1,"sighting_of_ref":"indicator--{}"{refs},"object_marking_refs":["{}"]}}"#,
        uuid(n),
        uuid(target),
        Tlp::Green.marking_id()
    )
}

/// CENTRE's trends by type per day: the published counts of its indicators and of
/// its sightings series (empty when left out).
fn centres_counts_by_type(
    store: &Arc<SqliteStore>,
    door: &Egress,
) -> (Vec<Option<i64>>, Vec<Option<i64>>) {
    let t = trends(
        &**store,
        door,
        &Recipient::new(CENTRE),
        &trend_query("type"),
    )
    .expect("trends");
    let counts = |metric: &str| -> Vec<Option<i64>> {
        t.series
            .iter()
            .filter(|s| s.metric == metric)
            .flat_map(|s| s.buckets.iter().map(|b| b.count))
            .collect()
    };
    (counts("indicators"), counts("sightings"))
}

/// k-anonymity counts victims too: sightings of three providers all seen at one
/// organisation single it out (suppressed under k = 3), at three organisations they
/// do not; a sighting naming nobody stands for its provider's own.
#[test]
fn a_partners_sighting_cells_of_fewer_than_k_victims_are_suppressed() {
    let sightings_for_centre = |victims: [&[u32]; 3]| {
        let store = store();
        for (i, (provider, at)) in [TELCO, ISP, BANK].into_iter().zip(victims).enumerate() {
            let i = i as u32;
            ingest(
                &store,
                provider,
                &[
                    indicator_on(10 + i, 1, Tlp::Green, "198.51.100.1"),
                    sighting_at(20 + i, 10 + i, at),
                ],
            );
        }
        let door = door_of_three_with_k(&store, Some(3));
        centres_counts_by_type(&store, &door)
    };
    // One victim behind three providers' sightings: the sightings series says
    // nothing, the indicators (no victims) still count.
    let (indicators, sightings) = sightings_for_centre([&[900], &[900], &[900]]);
    // (Days 1 to 4: the indicators on the first, the sightings on the last.)
    assert_eq!(indicators, vec![Some(3), Some(0), Some(0), Some(0)]);
    assert_eq!(sightings, Vec::<Option<i64>>::new());
    // Two victims (one sighting names both of the others' victims again): still few.
    let (_, sightings) = sightings_for_centre([&[900], &[901], &[900, 901]]);
    assert_eq!(sightings, Vec::<Option<i64>>::new());
    // Three victims, or none named (each provider's own): published.
    let published = vec![Some(0), Some(0), Some(0), Some(3)];
    let (_, sightings) = sightings_for_centre([&[900], &[901], &[902]]);
    assert_eq!(sightings, published);
    let (_, sightings) = sightings_for_centre([&[], &[], &[900]]);
    assert_eq!(sightings, published);
}

#[test]
fn relationships_count_their_sources_under_the_family() {
    let store = store();
    ingest(&store, TELCO, &family_corpus());
    let door = door(&store, Vec::new());
    let t = trends(
        &*store,
        &door,
        &Recipient::new(TELCO),
        &trend_query("family"),
    )
    .expect("trends");
    assert_eq!(t.series.len(), 1, "{t:?}");
    assert_eq!(t.series[0].key, "Emotet");
    assert_eq!(t.series[0].buckets[0].start, "2026-03-03");
}

#[test]
fn the_poisson_test_flags_a_jump_against_the_series_history() {
    use accord_node::trends::test;
    assert!(test(&[1, 1, 1, 1, 9]).1);
    assert!(!test(&[1, 1, 1, 1, 4]).1, "below the least count");
    assert!(!test(&[1, 1, 1, 9]).1, "too little history");
    assert!(!test(&[10, 10, 10, 10, 12]).1);
}

/// Trends by country: indicators where the enrichment locates their addresses, a
/// sighting where what it sights is, unlocated objects under `unknown`; a partner
/// counts only what the gate releases to it.
#[test]
fn trends_by_country_follow_the_enrichment_and_the_gate() {
    use accord_store::{AddressEnrichment, EnrichmentSource, Store};
    let store = store();
    ingest(
        &store,
        TELCO,
        &[
            indicator_on(1, 1, Tlp::Green, "203.0.113.5"),
            indicator_on(2, 1, Tlp::Green, "198.51.100.7"),
            indicator_on(3, 1, Tlp::Red, "203.0.113.9"),
            indicator_on(4, 1, Tlp::Green, "192.0.2.200"),
            sighting_of(5, 1, 7, Tlp::Green),
        ],
    );
    let place = |a: &str, c: &str, asn: u32| AddressEnrichment {
        address: a.into(),
        country: Some(c.into()),
        asn: Some(asn),
        as_name: None,
    };
    let source = EnrichmentSource {
        role: "country".into(),
        path: "test.mmdb".into(),
        database_type: "Test".into(),
        build_epoch: 1,
        node_count: 1,
    };
    store
        .put_enrichment(
            true,
            &[source],
            i64::MAX,
            &[
                place("203.0.113.5", "MY", 4788),
                place("198.51.100.7", "NL", 1136),
                place("203.0.113.9", "MY", 4788),
            ],
            &[],
        )
        .unwrap();
    let egress = door(&store, vec![agreement(TELCO, Some(1))]);
    let count = |t: &accord_node::trends::Trends, metric: &str, key: &str| -> Option<i64> {
        t.series
            .iter()
            .find(|s| s.metric == metric && s.key == key)
            .map(|s| s.buckets.iter().filter_map(|b| b.count).sum())
    };
    let local = trends(
        &*store,
        &egress,
        &Recipient::new(TELCO),
        &trend_query("country"),
    )
    .unwrap();
    assert_eq!(count(&local, "indicators", "MY"), Some(2));
    assert_eq!(count(&local, "indicators", "NL"), Some(1));
    assert_eq!(count(&local, "indicators", "unknown"), Some(1));
    assert_eq!(
        count(&local, "sightings", "MY"),
        Some(7),
        "where what it sights is"
    );
    let by_as = trends(
        &*store,
        &egress,
        &Recipient::new(TELCO),
        &trend_query("asn"),
    )
    .unwrap();
    assert_eq!(count(&by_as, "indicators", "AS4788"), Some(2));
    // The partner reads up to TLP:AMBER: the TLP:RED indicator in MY is not counted.
    let centre = trends(
        &*store,
        &egress,
        &Recipient::new(CENTRE),
        &trend_query("country"),
    )
    .unwrap();
    assert_eq!(count(&centre, "indicators", "MY"), Some(1));
    assert_eq!(count(&centre, "indicators", "NL"), Some(1));
}

/// A store of schema 7 (objects, no analytics: stored before correlation and trends
/// existed) migrates, backfills its analytics on the first writable open's path, and
/// answers correlations and trends as the same objects freshly ingested do.
#[test]
fn a_store_migrated_from_before_analytics_answers_as_a_fresh_one() {
    let [malware, rel] = emotet_indicated_by(2);
    let fill = |store: &SqliteStore| {
        ingest(
            store,
            TELCO,
            &[indicator_on(1, 1, Tlp::Green, "203.0.113.7")],
        );
        ingest(
            store,
            ISP,
            &[
                sighting_of(4, 1, 40, Tlp::Red),
                indicator_on(2, 2, Tlp::Green, "203.0.113.7"),
                indicator_on(3, 3, Tlp::Red, "198.51.100.1"),
                malware.clone(),
                rel.clone(),
            ],
        );
        ingest(store, BANK, &[indicator_on(6, 4, Tlp::Red, "203.0.113.7")]);
        ingest(store, TELCO, &[sighting_of(5, 2, 2, Tlp::Green)]);
    };
    let fresh = store();
    fill(&fresh);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v7.sqlite");
    {
        let old = SqliteStore::open(&path).unwrap();
        fill(&old);
    }
    {
        // What a schema 7 store is: no analytics tables (no correlation index file),
        // no enrichment tables.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE correlation_queue; DROP TABLE trend_counts;
             DROP TABLE enrich_addresses; DROP TABLE enrich_domains; DROP TABLE enrich_sources;
             PRAGMA user_version = 7;",
        )
        .unwrap();
        remove_correlation_file(&path);
    }
    let migrated = Arc::new(SqliteStore::open(&path).unwrap());
    use accord_store::Store as _;
    assert!(migrated.analytics_backfill().unwrap().is_some());
    let mut reported = 0;
    let done = accord_node::analytics::backfill(&*migrated, &mut |n| reported = n).unwrap();
    assert_eq!((done, reported), (8, 8));
    assert_eq!(migrated.analytics_backfill().unwrap(), None, "done once");
    assert_eq!(
        accord_node::analytics::backfill(&*migrated, &mut |_| {}).unwrap(),
        0
    );
    let answers = |store: &Arc<SqliteStore>| {
        let door = door(store, Vec::new());
        let me = Recipient::new(TELCO);
        let c = correlations(store, &door, &me.organisation, None, 1);
        let t: Vec<_> = ["type", "provider", "family"]
            .iter()
            .map(|d| trends(&**store, &door, &me, &trend_query(d)).expect("trends"))
            .collect();
        (format!("{c:?}"), t)
    };
    let (c_fresh, t_fresh) = answers(&fresh);
    let (c_migrated, t_migrated) = answers(&migrated);
    assert_eq!(c_migrated, c_fresh);
    assert_eq!(t_migrated, t_fresh);
    assert!(t_fresh[2].series.iter().any(|s| s.key == "Emotet"));
    assert!(c_fresh.contains("203.0.113.7"));
}

/// A store that has analytics is not backfilled again by the migration (its trend
/// cells would count twice): only its correlation index is rebuilt, from the objects.
#[test]
fn a_store_with_analytics_is_not_backfilled() {
    use accord_store::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let path = sighted_indicator_store(&dir);
    let cells = {
        let store = SqliteStore::open(&path).unwrap();
        store.trend_cells("type", None, i64::MIN).unwrap()
    };
    downgrade_to_v10(&path);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 9;")
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    rebuild_correlation(&store);
    let after = store.trend_cells("type", None, i64::MIN).unwrap();
    assert_eq!(format!("{after:?}"), format!("{cells:?}"));
    assert_eq!(correlation_of(&store, "203.0.113.7"), (2, 1));
}

/// A schema 10 store opened by this build: its correlation is rebuilt in the index's
/// own file and answers as before; what is inserted after goes through the queue.
#[test]
fn a_version_10_store_keeps_its_correlation() {
    let dir = tempfile::tempdir().unwrap();
    let path = sighted_indicator_store(&dir);
    downgrade_to_v10(&path);
    let store = SqliteStore::open(&path).unwrap();
    rebuild_correlation(&store);
    // Stated by the telco, sighted by the ISP.
    assert_eq!(correlation_of(&store, "203.0.113.7"), (2, 1));
    ingest(
        &store,
        BANK,
        &[indicator_on(3, 2, Tlp::Green, "203.0.113.7")],
    );
    assert_eq!(correlation_of(&store, "203.0.113.7"), (3, 2));
}

/// Runs the correlation rebuild a migration (or a lost index file) leaves pending, as
/// the first writable open of the CLI does, and checks it was pending.
fn rebuild_correlation(store: &SqliteStore) {
    use accord_store::Store as _;
    assert!(
        store.analytics_backfill().unwrap().is_some(),
        "a rebuild is pending"
    );
    accord_node::analytics::backfill(store, &mut |_| {}).unwrap();
    assert_eq!(store.analytics_backfill().unwrap(), None);
}

/// Two handles on one store (as two processes: each its own follower, each applying
/// every queued row in order): a follower whose memory of the index is older than the
/// index (the other applied rows since) reads the index again, and counts each
/// provider once.
#[test]
fn two_followers_on_one_index_count_each_provider_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let ip = "203.0.113.50";
    ingest(&a, TELCO, &[indicator_on(1, 1, Tlp::Green, ip)]);
    assert_eq!(correlation_of(&a, ip), (1, 1));
    // b's follower applies the bank's row; a's remembers the telco alone.
    ingest(&b, BANK, &[indicator_on(2, 1, Tlp::Green, ip)]);
    assert_eq!(correlation_of(&b, ip), (2, 2));
    ingest(&a, ISP, &[indicator_on(3, 1, Tlp::Green, ip)]);
    assert_eq!(correlation_of(&a, ip), (3, 3));
    // And back: b's memory is older than the index too.
    ingest(&b, BANK, &[indicator_on(4, 2, Tlp::Green, ip)]);
    assert_eq!(correlation_of(&b, ip), (3, 4));
    drop(a);
    drop(b);
    let again = SqliteStore::open(&path).unwrap();
    assert_eq!(correlation_of(&again, ip), (3, 4));
}

/// A correlation index that lost its last commit (a crash before it reached the disk;
/// here, its rows deleted and its mark reset while the queue still holds the row, as
/// the queue does until the store's next insert): the next open applies the queue
/// again, and applying a row twice changes nothing.
#[test]
fn a_lost_index_commit_is_applied_again_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let answer = |store: &SqliteStore| correlation_of(store, "203.0.113.7");
    {
        // One insert, so one queued row, which no later insert has deleted.
        let store = SqliteStore::open(&path).unwrap();
        ingest(
            &store,
            TELCO,
            &[
                indicator_on(1, 1, Tlp::Green, "203.0.113.7"),
                sighting_of(2, 1, 3, Tlp::Green),
            ],
        );
        assert_eq!(answer(&store), (1, 1));
    }
    let index = {
        let mut name = path.as_os_str().to_owned();
        name.push("-correlation");
        std::path::PathBuf::from(name)
    };
    let lose = |tables: &str| {
        let conn = rusqlite::Connection::open(&index).unwrap();
        conn.execute_batch(tables).unwrap();
    };
    lose(
        "DELETE FROM obs_values; DELETE FROM obs_links; DELETE FROM id_values;
         DELETE FROM providers; DELETE FROM sighting_links; DELETE FROM correlation_meta;",
    );
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(answer(&store), (1, 1));
        use accord_store::Store as _;
        assert_eq!(
            store
                .sightings_of(&format!("indicator--{}", uuid(1)))
                .unwrap()
                .len(),
            1
        );
    }
    // Applied twice (the mark reset again, the rows kept): the same answer.
    lose("DELETE FROM correlation_meta;");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(answer(&store), (1, 1));
}

/// A store whose index file is gone (not copied with it): the node rebuilds the
/// correlation from the objects, and the trend cells are not counted again.
#[test]
fn a_lost_index_file_is_rebuilt_without_counting_trends_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = sighted_indicator_store(&dir);
    let cells;
    {
        let store = SqliteStore::open(&path).unwrap();
        // Applied and then deleted from the queue by the next insert: the index holds
        // the only copy of these rows.
        ingest(&store, BANK, &[indicator_on(3, 2, Tlp::Green, "192.0.2.1")]);
        cells = store.trend_cells("type", None, i64::MIN).unwrap();
        assert!(!cells.is_empty());
    }
    remove_correlation_file(&path);
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    use accord_store::Store as _;
    assert!(store.analytics_backfill().unwrap().is_some());
    accord_node::analytics::backfill(&*store, &mut |_| {}).unwrap();
    assert_eq!(store.analytics_backfill().unwrap(), None);
    assert_eq!(correlation_of(&store, "203.0.113.7"), (2, 1));
    assert_eq!(correlation_of(&store, "192.0.2.1"), (1, 1));
    let after = store.trend_cells("type", None, i64::MIN).unwrap();
    assert_eq!(format!("{after:?}"), format!("{cells:?}"));
}

/// A store file in `dir` where the telco states 203.0.113.7 and the ISP sights it
/// (its handle closed, so everything is applied).
fn sighted_indicator_store(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("accord.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    ingest(
        &store,
        TELCO,
        &[indicator_on(1, 1, Tlp::Green, "203.0.113.7")],
    );
    ingest(&store, ISP, &[sighting_of(2, 1, 3, Tlp::Green)]);
    path
}

/// The one value named `value`: (its providers, the object versions stating it),
/// counting everything `store` inserted.
fn correlation_of(store: &SqliteStore, value: &str) -> (i64, usize) {
    use accord_store::Store as _;
    store.settle_correlation().unwrap();
    let values = store.values_named(value).unwrap();
    assert_eq!(values.len(), 1, "{value}: {values:?}");
    let objects = store.value_objects(values[0].vid).unwrap().len();
    (values[0].providers, objects)
}

/// Removes the correlation index file of the store at `path` (and its log).
fn remove_correlation_file(path: &std::path::Path) {
    for suffix in ["-correlation", "-correlation-wal", "-correlation-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

/// A schema 11 store opened by this build: its index (values numbered in arrival
/// order, providers as rows of their own) is rebuilt from the objects, with its queue
/// (which the old index would have applied) dropped; the trend cells are not counted
/// again, and the store answers as before.
#[test]
fn a_version_11_store_gets_its_index_rebuilt() {
    use accord_store::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let path = sighted_indicator_store(&dir);
    let cells = {
        let store = SqliteStore::open(&path).unwrap();
        store.trend_cells("type", None, i64::MIN).unwrap()
    };
    {
        let mut index = path.as_os_str().to_owned();
        index.push("-correlation");
        let conn = rusqlite::Connection::open(&index).unwrap();
        // Schema 11's table (and a row the rebuild must not keep).
        conn.execute_batch(
            "CREATE TABLE obs_providers (vid INTEGER NOT NULL, provider TEXT NOT NULL,
                 PRIMARY KEY (vid, provider)) WITHOUT ROWID;
             UPDATE obs_values SET providers = 9;",
        )
        .unwrap();
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 11;")
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    rebuild_correlation(&store);
    assert_eq!(correlation_of(&store, "203.0.113.7"), (2, 1));
    let after = store.trend_cells("type", None, i64::MIN).unwrap();
    assert_eq!(format!("{after:?}"), format!("{cells:?}"));
    ingest(
        &store,
        BANK,
        &[indicator_on(3, 2, Tlp::Green, "203.0.113.7")],
    );
    assert_eq!(correlation_of(&store, "203.0.113.7"), (3, 2));
}

/// Makes the store at `path` what schema 10 wrote: the correlation tables in the store
/// file (values and links copied from the index file, which goes), no queue.
fn downgrade_to_v10(path: &std::path::Path) {
    let mut index = path.as_os_str().to_owned();
    index.push("-correlation");
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute(
        "ATTACH DATABASE ?1 AS c",
        [index.to_string_lossy().into_owned()],
    )
    .unwrap();
    conn.execute_batch(
        "CREATE TABLE obs_values (vid INTEGER PRIMARY KEY, kind TEXT NOT NULL,
             value TEXT NOT NULL, providers INTEGER NOT NULL DEFAULT 0);
         CREATE UNIQUE INDEX obs_values_by_value ON obs_values (kind, value);
         CREATE TABLE obs_links (vid INTEGER NOT NULL, object_added INTEGER NOT NULL,
             PRIMARY KEY (vid, object_added)) WITHOUT ROWID;
         CREATE TABLE obs_providers (vid INTEGER NOT NULL, provider TEXT NOT NULL,
             PRIMARY KEY (vid, provider)) WITHOUT ROWID;
         CREATE TABLE sighting_links (target_key INTEGER NOT NULL,
             object_added INTEGER NOT NULL, PRIMARY KEY (target_key, object_added)) WITHOUT ROWID;
         INSERT INTO main.obs_values SELECT vid, kind, value, providers FROM c.obs_values;
         INSERT INTO main.obs_links SELECT vid, object_added FROM c.obs_links;
         INSERT INTO main.sighting_links SELECT target_key, object_added FROM c.sighting_links;
         DROP TABLE main.correlation_queue;
         DETACH DATABASE c;
         PRAGMA user_version = 10;",
    )
    .unwrap();
    drop(conn);
    remove_correlation_file(path);
}

/// A sighting counts its provider among the sighted object's values whether it arrives
/// before the object, after it, or in the same batch (sighting first): the batch's
/// analytics are written at its end, the answer must not depend on the order.
#[test]
fn a_sighting_counts_its_provider_whichever_arrives_first() {
    let ip = "198.51.100.9";
    let orders: [&[(&str, &[String])]; 3] = [
        &[
            (TELCO, &[indicator_on(11, 1, Tlp::Green, ip)]),
            (BANK, &[sighting_of(12, 11, 5, Tlp::Green)]),
        ],
        &[
            (BANK, &[sighting_of(12, 11, 5, Tlp::Green)]),
            (TELCO, &[indicator_on(11, 1, Tlp::Green, ip)]),
        ],
        &[
            (
                BANK,
                &[
                    sighting_of(12, 11, 5, Tlp::Green),
                    indicator_on(11, 1, Tlp::Green, ip),
                ],
            ),
            (ISP, &[sighting_of(13, 11, 2, Tlp::Green)]),
        ],
    ];
    let expected = [(2, 5), (2, 5), (2, 7)];
    for (batches, (providers, sightings)) in orders.iter().zip(expected) {
        let store = store();
        for (provider, objects) in batches.iter() {
            ingest(&store, provider, objects);
        }
        let door = door(&store, Vec::new());
        let found = // Listed only if the store counted both providers of the value at ingest.
        correlations(&store, &door, TELCO, None, 2);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].provider_count, found[0].sightings),
            (providers, sightings),
            "{:?}",
            found[0]
        );
    }
}

/// A later version of indicator `n` (created on March 1st, modified on the 20th),
/// stating `ip`.
fn revised_indicator(n: u32, ip: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-03-01T10:00:00.000Z","modified":"2026-03-20T10:00:00.000Z","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z","object_marking_refs":["{}"]}}"#,
        uuid(n),
        Tlp::Green.marking_id()
    )
}

/// The first version of an id is applied without looking for its sightings unless
/// the index recorded the id as sighted before it was stated: that record outlives the
/// process that made it (here, a handle closed and a new one, whose follower starts
/// from an empty memory).
#[test]
fn a_sighting_before_its_target_counts_in_a_later_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let ip = "198.51.100.21";
    {
        let store = SqliteStore::open(&path).unwrap();
        ingest(&store, BANK, &[sighting_of(22, 21, 4, Tlp::Green)]);
        // Another id, stated first: its first version is not looked up.
        ingest(
            &store,
            ISP,
            &[indicator_on(23, 1, Tlp::Green, "198.51.100.23")],
        );
    }
    let store = SqliteStore::open(&path).unwrap();
    ingest(&store, TELCO, &[indicator_on(21, 1, Tlp::Green, ip)]);
    assert_eq!(correlation_of(&store, ip), (2, 1));
    // A second sighting, by another provider, now finds the value from its side.
    ingest(&store, ISP, &[sighting_of(24, 21, 1, Tlp::Green)]);
    assert_eq!(correlation_of(&store, ip), (3, 1));
    assert_eq!(correlation_of(&store, "198.51.100.23"), (1, 1));
}

/// A later version of a sighted indicator states another value: the sighting's
/// provider sights it too (the sighting names the id, not a version), whether the
/// follower remembers the id (same handle) or reads the index (a new one).
#[test]
fn a_new_version_of_a_sighted_indicator_counts_its_sighters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    {
        let store = SqliteStore::open(&path).unwrap();
        ingest(
            &store,
            TELCO,
            &[indicator_on(31, 1, Tlp::Green, "198.51.100.31")],
        );
        ingest(&store, BANK, &[sighting_of(32, 31, 2, Tlp::Green)]);
        ingest(&store, TELCO, &[revised_indicator(31, "198.51.100.32")]);
        assert_eq!(correlation_of(&store, "198.51.100.32"), (2, 1));
        // And a sighting after both versions reaches both values.
        ingest(&store, ISP, &[sighting_of(33, 31, 1, Tlp::Green)]);
        assert_eq!(correlation_of(&store, "198.51.100.31"), (3, 1));
        assert_eq!(correlation_of(&store, "198.51.100.32"), (3, 1));
    }
    {
        let store = SqliteStore::open(&path).unwrap();
        ingest(
            &store,
            TELCO,
            &[indicator_on(34, 1, Tlp::Green, "198.51.100.34")],
        );
        ingest(&store, BANK, &[sighting_of(35, 34, 2, Tlp::Green)]);
    }
    let store = SqliteStore::open(&path).unwrap();
    ingest(&store, TELCO, &[revised_indicator(34, "198.51.100.35")]);
    assert_eq!(correlation_of(&store, "198.51.100.35"), (2, 1));
}

/// A schema 12 store (its index without the record of ids sighted and not stated)
/// opened by this build: a sighting that came before its target still counts when the
/// target arrives (schema 13 made the record from the index's sightings; since schema
/// 15 the upgrade rebuilds the index from the objects, which makes it too).
#[test]
fn a_version_12_index_gets_its_record_of_unstated_sightings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let ip = "198.51.100.41";
    {
        let store = SqliteStore::open(&path).unwrap();
        ingest(&store, BANK, &[sighting_of(42, 41, 4, Tlp::Green)]);
        ingest(
            &store,
            ISP,
            &[indicator_on(43, 1, Tlp::Green, "198.51.100.43")],
        );
        ingest(&store, ISP, &[sighting_of(44, 43, 1, Tlp::Green)]);
    }
    {
        let mut index = path.as_os_str().to_owned();
        index.push("-correlation");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "ATTACH DATABASE ?1 AS c",
            [index.to_string_lossy().into_owned()],
        )
        .unwrap();
        conn.execute_batch(
            "DROP TABLE c.sighted_unstated;
             DELETE FROM c.correlation_meta WHERE name = 'unstated';
             PRAGMA main.user_version = 12;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    rebuild_correlation(&store);
    ingest(&store, TELCO, &[indicator_on(41, 1, Tlp::Green, ip)]);
    assert_eq!(correlation_of(&store, ip), (2, 1));
    assert_eq!(correlation_of(&store, "198.51.100.43"), (1, 1));
}

/// Inserts large enough to be applied to the index while they are written (a bulk
/// load's batches: `accord_store`'s `correlation.rs`, "Applying ahead") leave the index
/// that the same objects leave inserted in small batches, applied from the queue:
/// every value with the same providers and stating objects. The corpus has values
/// shared within and across providers, sightings of earlier inserts' indicators and of
/// indicators later in the same insert.
#[test]
fn large_inserts_applied_ahead_correlate_as_small_ones() {
    const N: u32 = 5_000;
    let ip = |n: u32| format!("198.18.{}.{}", n / 250, n % 250);
    let telco: Vec<String> = (0..N)
        .flat_map(|n| {
            let mut objects = Vec::new();
            if n % 10 == 0 && n + 5 < N {
                // A sighting of an indicator further on in the same insert.
                objects.push(sighting_of(40_000 + n, 10_000 + n + 5, 1, Tlp::Green));
            }
            objects.push(indicator_on(10_000 + n, 1, Tlp::Green, &ip(n % 1_500)));
            objects
        })
        .collect();
    let isp: Vec<String> = (0..N)
        .map(|n| indicator_on(20_000 + n, 2, Tlp::Green, &ip(700 + n % 2_000)))
        .collect();
    let bank: Vec<String> = (0..N)
        .map(|n| sighting_of(30_000 + n, 10_000 + (n * 7) % N, 1, Tlp::Green))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let index_of = |name: &str, chunk: usize| {
        let store = SqliteStore::open(dir.path().join(name)).unwrap();
        for (provider, objects) in [(TELCO, &telco), (ISP, &isp), (BANK, &bank)] {
            for part in objects.chunks(chunk) {
                ingest(&store, provider, part);
            }
        }
        use accord_store::Store as _;
        store.settle_correlation().unwrap();
        (0..2_700)
            .map(|n| {
                let found = store.values_named(&ip(n)).unwrap();
                assert_eq!(found.len(), 1, "{}", ip(n));
                let objects = store.value_objects(found[0].vid).unwrap().len();
                (found[0].providers, objects)
            })
            .collect::<Vec<_>>()
    };
    let ahead = index_of("ahead.sqlite", usize::MAX);
    let queued = index_of("queued.sqlite", 500);
    // Telco's addresses are sighted by the bank; 700 to 1,499 are the ISP's too.
    assert_eq!(ahead[0], (2, 4), "{:?}", ahead[0]);
    assert_eq!(ahead[800].0, 3);
    assert_eq!(ahead[2_000], (1, 2));
    assert_eq!(ahead, queued);
}

/// A bulk load's end (`Store::sync`) has the follower empty the index's log beside the
/// store's own checkpoint, while the store is still open: the closing connection then
/// has no log to copy and drop after the load.
#[test]
fn a_sync_empties_the_index_log_before_the_store_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    ingest(
        &store,
        TELCO,
        &[indicator_on(61, 1, Tlp::Green, "198.51.100.61")],
    );
    use accord_store::Store as _;
    store.settle_correlation().unwrap();
    let mut log = path.as_os_str().to_owned();
    log.push("-correlation-wal");
    let log_len = || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert!(log_len() > 0, "the index's commits are in its log");
    store.sync().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while log_len() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(log_len(), 0);
    assert_eq!(correlation_of(&store, "198.51.100.61"), (1, 1));
}

/// Two writers of one store file (a server and a CLI ingest beside it), each with its
/// own follower, inserting at the same time: every value ends with the providers that
/// stated or sighted it, once each, whichever follower applied which row.
#[test]
fn two_writers_of_one_store_correlate_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.sqlite");
    let a = Arc::new(SqliteStore::open(&path).unwrap());
    let b = Arc::new(SqliteStore::open(&path).unwrap());
    const N: u32 = 60;
    let ip = |n: u32| format!("198.51.{}.{}", n / 200, n % 200);
    std::thread::scope(|s| {
        let (a, b) = (&a, &b);
        s.spawn(move || {
            for n in 0..N {
                ingest(a, TELCO, &[indicator_on(1_000 + n, 1, Tlp::Green, &ip(n))]);
            }
        });
        s.spawn(move || {
            for n in 0..N {
                ingest(b, ISP, &[indicator_on(2_000 + n, 2, Tlp::Green, &ip(n))]);
                // The telco's indicator, sighted by the bank through the second writer.
                ingest(b, BANK, &[sighting_of(3_000 + n, 1_000 + n, 1, Tlp::Green)]);
            }
        });
    });
    use accord_store::Store as _;
    // A query waits for its own handle's inserts; the other writer's appear once its
    // follower has applied them (done by the time its `sync` returns).
    a.sync().unwrap();
    b.sync().unwrap();
    for store in [&a, &b] {
        for n in 0..N {
            // The bank's sighting may arrive before the telco's indicator: either way
            // it counts once the indicator is there.
            assert_eq!(correlation_of(store, &ip(n)), (3, 2), "{}", ip(n));
        }
    }
    let shared = a.shared_values(3, 1_000).unwrap();
    assert_eq!(shared.len(), N as usize);
}

/// A partner's list of correlations depends only on what it may read: values shared
/// more widely among withheld objects neither push its own out of the answer nor
/// change which of them it gets, whatever the limit.
#[test]
fn withheld_correlations_do_not_crowd_out_a_partners_own() {
    let store = store();
    for (n, provider, ip) in [
        (1, TELCO, "203.0.113.7"),
        (2, ISP, "203.0.113.7"),
        (3, TELCO, "203.0.113.8"),
        (4, BANK, "203.0.113.8"),
    ] {
        ingest(&store, provider, &[indicator_on(n, 1, Tlp::Green, ip)]);
    }
    let door = door(
        &store,
        vec![
            agreement(TELCO, Some(1)),
            agreement(ISP, Some(1)),
            agreement(BANK, Some(1)),
        ],
    );
    let centre = Recipient::new(CENTRE);
    let answer = |limit: usize| {
        let q = CorrelateQuery {
            value: None,
            min_providers: Some(2),
            limit,
        };
        let found =
            correlate(&*store, &door, &centre, &q, &Warninglists::empty()).expect("correlate");
        found.into_iter().map(|c| c.value).collect::<Vec<_>>()
    };
    let before = (answer(1), answer(2), answer(100));
    assert_eq!(before.2, ["203.0.113.7", "203.0.113.8"]);
    // Many values shared by all three providers, every statement TLP:RED (withheld).
    for n in 0..60u32 {
        let ip = format!("198.51.100.{n}");
        ingest(
            &store,
            TELCO,
            &[indicator_on(100 + 3 * n, 1, Tlp::Red, &ip)],
        );
        ingest(&store, ISP, &[indicator_on(101 + 3 * n, 1, Tlp::Red, &ip)]);
        ingest(&store, BANK, &[indicator_on(102 + 3 * n, 1, Tlp::Red, &ip)]);
    }
    assert_eq!((answer(1), answer(2), answer(100)), before);
}

/// One object of a generated history: a new version of indicator `id` stating the
/// address numbered `ip`, or a sighting of indicator `id`.
#[derive(Debug, Clone)]
enum Generated {
    State { id: u32, ip: u32 },
    Sight { id: u32 },
}

/// One step of a generated history: a batch by one of three providers, or the store
/// closed and opened again (a new process: its follower starts from an empty memory).
#[derive(Debug, Clone)]
enum Step {
    Ingest {
        provider: usize,
        objects: Vec<Generated>,
    },
    Reopen,
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let object = prop_oneof![
        (0u32..4, 0u32..4).prop_map(|(id, ip)| Generated::State { id, ip }),
        (0u32..4).prop_map(|id| Generated::Sight { id }),
    ];
    prop_oneof![
        4 => (0usize..3, proptest::collection::vec(object, 1..4))
            .prop_map(|(provider, objects)| Step::Ingest { provider, objects }),
        1 => Just(Step::Reopen),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Whatever the order of indicators, their later versions and sightings, in one
    /// batch or many, across processes: a value's providers are those that stated it
    /// and those that sighted any version of an indicator stating it, computed here
    /// from the history alone. (The follower skips looking for sightings of an id's
    /// first version unless the index recorded the id as sighted before: a wrong skip
    /// loses a provider here.)
    #[test]
    fn correlation_follows_the_history_in_any_order(
        steps in proptest::collection::vec(step(), 1..10)
    ) {
        use std::collections::{BTreeMap, BTreeSet};
        const PROVIDERS: [&str; 3] = [TELCO, ISP, BANK];
        let ip = |n: u32| format!("198.51.100.{}", 60 + n);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accord.sqlite");
        let mut store = Some(SqliteStore::open(&path).unwrap());
        // Each version its own `modified` (so each is new), each sighting its own id.
        let mut day = 1;
        let mut sightings = 0;
        let mut stated: BTreeMap<u32, BTreeSet<(u32, usize)>> = BTreeMap::new();
        let mut sighters: BTreeMap<u32, BTreeSet<usize>> = BTreeMap::new();
        for step in &steps {
            match step {
                Step::Reopen => {
                    drop(store.take());
                    store = Some(SqliteStore::open(&path).unwrap());
                }
                Step::Ingest { provider, objects } => {
                    let mut texts = Vec::new();
                    for object in objects {
                        match *object {
                            Generated::State { id, ip: n } => {
                                day += 1;
                                texts.push(indicator_version(100 + id, day, &ip(n)));
                                stated.entry(id).or_default().insert((n, *provider));
                            }
                            Generated::Sight { id } => {
                                sightings += 1;
                                texts.push(sighting_of(200 + sightings, 100 + id, 1, Tlp::Green));
                                sighters.entry(id).or_default().insert(*provider);
                            }
                        }
                    }
                    let open = store.as_ref().unwrap();
                    ingest(open, PROVIDERS[*provider], &texts);
                }
            }
        }
        let mut expected: BTreeMap<u32, BTreeSet<usize>> = BTreeMap::new();
        for (id, states) in &stated {
            for &(n, provider) in states {
                let providers = expected.entry(n).or_default();
                providers.insert(provider);
                providers.extend(sighters.get(id).into_iter().flatten());
            }
        }
        let open = store.as_ref().unwrap();
        for (n, providers) in &expected {
            let (found, _) = correlation_of(open, &ip(*n));
            proptest::prop_assert_eq!(found, providers.len() as i64, "{}", ip(*n));
        }
    }
}

/// Version `day` of indicator `n` (created on March 1st, modified on day `day` after
/// it), stating `ip`.
fn indicator_version(n: u32, day: u32, ip: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-03-01T10:00:00.000Z","modified":"2026-03-01T10:{:02}:{:02}.000Z","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z","object_marking_refs":["{}"]}}"#,
        uuid(n),
        day / 60,
        day % 60,
        Tlp::Green.marking_id()
    )
}

/// A partner's trends by provider count each object it may read once, under the
/// provider that sent it (as the store's own cells count at insert), and nothing it
/// may not read.
#[test]
fn a_partner_sees_each_provider_count_what_it_may_read() {
    let store = store();
    ingest(
        &store,
        TELCO,
        &[
            indicator_on(1, 1, Tlp::Green, "198.51.100.1"),
            indicator_on(2, 1, Tlp::Red, "198.51.100.2"),
        ],
    );
    ingest(
        &store,
        ISP,
        &[
            indicator_on(3, 1, Tlp::Green, "198.51.100.3"),
            sighting_of(4, 1, 5, Tlp::Green),
        ],
    );
    let door = door(
        &store,
        vec![agreement(TELCO, Some(1)), agreement(ISP, Some(1))],
    );
    let counts = |recipient: &str| {
        let answer = trends(
            &*store,
            &door,
            &Recipient::new(recipient),
            &trend_query("provider"),
        )
        .expect("trends");
        assert_eq!(answer.k, 1, "{answer:?}");
        let mut counts: Vec<(String, String, i64)> = answer
            .series
            .iter()
            .map(|s| {
                let total = s.buckets.iter().filter_map(|b| b.count).sum();
                (s.metric.clone(), s.key.clone(), total)
            })
            .collect();
        counts.sort();
        counts
    };
    let series = |metric: &str, key: &str, total: i64| (metric.to_string(), key.to_string(), total);
    assert_eq!(
        counts(TELCO),
        vec![
            series("indicators", ISP, 1),
            series("indicators", TELCO, 2),
            series("sightings", ISP, 5),
        ]
    );
    assert_eq!(
        counts(CENTRE),
        vec![
            series("indicators", ISP, 1),
            series("indicators", TELCO, 1),
            series("sightings", ISP, 5),
        ],
        "the RED indicator is withheld from the partner"
    );
}

/// A partner's correlations never wait for the index's follower, whose backlog is
/// everyone's recent inserts (a wait would let the partner time them): they are read
/// from its release views. Here the follower cannot apply at all (another connection
/// holds the index file's write lock, for longer than the follower's busy timeout): the
/// partner is answered at once; the operator's answer waits for the index, and counts
/// the new statement once the lock is gone.
#[test]
fn a_partners_correlations_do_not_wait_for_others_inserts() {
    use accord_store::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let ip = "203.0.113.9";
    ingest(&store, TELCO, &[indicator_on(1, 1, Tlp::Green, ip)]);
    ingest(&store, ISP, &[indicator_on(2, 1, Tlp::Green, ip)]);
    store.settle_correlation().unwrap();
    let mut index = path.as_os_str().to_owned();
    index.push("-correlation");
    let blocker = rusqlite::Connection::open(std::path::PathBuf::from(index)).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    // Withheld from the centre (RED), and queued behind the lock.
    ingest(&store, BANK, &[indicator_on(3, 2, Tlp::Red, ip)]);
    let door = door_of_three(&store);
    let ask = |org: &str| {
        correlate(
            &*store,
            &door,
            &Recipient::new(org),
            &query(Some(ip), 1),
            &Warninglists::empty(),
        )
    };
    let started = std::time::Instant::now();
    let found = ask(CENTRE).expect("a partner's answer does not wait for the follower");
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(5),
        "the partner waited {waited:?}"
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].provider_count, 2);
    blocker.execute_batch("ROLLBACK").unwrap();
    let operator = ask(TELCO).expect("correlate");
    assert_eq!(operator[0].provider_count, 3, "{operator:?}");
}

/// Which values a partner's correlations list depends only on what it may read. The
/// telco states two values at TLP:GREEN; the bank states one of them too, at TLP:RED
/// (withheld). Asked for every value with at least one provider, the partner gets the
/// same list whether or not the bank's statement exists: a value listed because
/// another, withheld provider shares it would tell the partner that someone it may not
/// read states it.
#[test]
fn a_withheld_statement_does_not_choose_a_partners_correlations() {
    let answer = |with_bank: bool| {
        let store = store();
        ingest(
            &store,
            TELCO,
            &[
                indicator_on(1, 1, Tlp::Green, "203.0.113.20"),
                indicator_on(2, 1, Tlp::Green, "203.0.113.21"),
            ],
        );
        if with_bank {
            ingest(
                &store,
                BANK,
                &[indicator_on(3, 1, Tlp::Red, "203.0.113.20")],
            );
        }
        let door = door(
            &store,
            vec![agreement(TELCO, Some(1)), agreement(BANK, Some(1))],
        );
        let found = correlations(&store, &door, CENTRE, None, 1);
        found
            .iter()
            .map(|c| (c.value.clone(), c.provider_count))
            .collect::<Vec<_>>()
    };
    assert_eq!(answer(true), answer(false));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// A partner's list of correlations (no value named, read from what its release
    /// views release) holds exactly the correlations that queries naming each value
    /// give it (read from the index) with two providers or more: generated statements
    /// and sightings by three providers, each at TLP:GREEN or TLP:RED (withheld).
    #[test]
    fn a_partners_list_is_what_naming_each_value_gives(
        objects in proptest::collection::vec(
            (0usize..3, 0u32..4, proptest::bool::ANY, proptest::option::of(0u32..12)),
            1..14,
        )
    ) {
        const PROVIDERS: [&str; 3] = [TELCO, ISP, BANK];
        let store = store();
        let ip = |n: u32| format!("198.51.100.{}", 80 + n);
        for (at, &(provider, n, red, sighted)) in objects.iter().enumerate() {
            let tlp = if red { Tlp::Red } else { Tlp::Green };
            let text = match sighted {
                // A sighting of the indicator of an earlier (or later, or absent) step.
                Some(target) => sighting_of(500 + at as u32, 100 + target, 1 + n, tlp),
                None => indicator_on(100 + at as u32, 1 + n, tlp, &ip(n)),
            };
            ingest(&store, PROVIDERS[provider], &[text]);
        }
        let door = door(
            &store,
            PROVIDERS.iter().map(|p| agreement(p, Some(1))).collect(),
        );
        let centre = Recipient::new(CENTRE);
        let ask = |value: Option<String>, min: usize| {
            correlate(&*store, &door, &centre, &query(value.as_deref(), min), &Warninglists::empty())
                .expect("correlate")
        };
        let listed = ask(None, 2);
        let mut named: Vec<_> = (0..4)
            .flat_map(|n| ask(Some(ip(n)), 2))
            .filter(|c| c.provider_count >= 2)
            .collect();
        named.sort_by(|a, b| {
            b.provider_count
                .cmp(&a.provider_count)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.value.cmp(&b.value))
        });
        proptest::prop_assert_eq!(listed, named);
    }
}

/// A partner's correlations are made from its release views alone, never from the
/// store-wide index (whose rows include every withheld statement and sighting of a
/// value: reading them made the answer's time grow with those it may not read, 0.2 ms
/// against 1.3 s for 10,000 withheld statements in `examples/partner_value_correlation`).
/// Emptying the index leaves the partner's answers as they were, and the operator's
/// empty.
#[test]
fn a_partners_correlations_read_none_of_the_store_wide_index() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("accord.sqlite");
    let store = Arc::new(SqliteStore::open(&path).expect("store"));
    ingest_corpus(&store);
    // Everything in the index before the first answer.
    accord_store::Store::settle_correlation(&*store).expect("settle");
    let door = door_of_three(&store);
    let ask = |org: &str, value: Option<&str>| correlations(&store, &door, org, value, 1);
    let named = ask(CENTRE, Some("203.0.113.7"));
    let listed = ask(CENTRE, None);
    assert_eq!(named.len(), 1, "{named:?}");
    assert_eq!(named[0].provider_count, 2);
    assert_eq!(
        named[0].sightings, 2,
        "the withheld sighting is not counted"
    );
    assert_eq!(listed, named);
    assert_eq!(ask(TELCO, Some("203.0.113.7"))[0].provider_count, 3);

    let mut index_path = path.as_os_str().to_owned();
    index_path.push("-correlation");
    let index = rusqlite::Connection::open(&index_path).expect("index");
    index
        .execute_batch(
            "DELETE FROM obs_links; DELETE FROM id_values; DELETE FROM sighting_links; \
             DELETE FROM obs_values;",
        )
        .expect("empty the index");
    assert!(
        ask(TELCO, Some("203.0.113.7")).is_empty(),
        "the index is empty"
    );
    assert_eq!(ask(CENTRE, Some("203.0.113.7")), named);
    assert_eq!(ask(CENTRE, None), listed);
}

/// A partner's views, once filed by value (its first correlation), follow what they
/// release: a statement and a sighting that arrive later count, an agreement taken
/// away stops its provider's counting, and one given back counts it again.
#[test]
fn a_partners_correlation_follows_new_objects_and_agreements() {
    let store = store();
    let ip = "203.0.113.11";
    ingest(&store, TELCO, &[indicator_on(1, 1, Tlp::Green, ip)]);
    let both = || vec![agreement(TELCO, None), agreement(ISP, None)];
    let door = door(&store, both());
    let ask = || {
        let found = correlations(&store, &door, CENTRE, Some(ip), 1);
        found
            .first()
            .map_or((0, 0), |c| (c.provider_count, c.sightings))
    };
    assert_eq!(ask(), (1, 0));
    ingest(
        &store,
        ISP,
        &[
            indicator_on(2, 2, Tlp::Green, ip),
            sighting_of(3, 1, 7, Tlp::Green),
            sighting_of(4, 1, 100, Tlp::Red),
        ],
    );
    assert_eq!(
        ask(),
        (2, 7),
        "the new statement and released sighting count"
    );
    door.set_gate(Gate::new(vec![agreement(TELCO, None)]).expect("gate"));
    assert_eq!(ask(), (1, 0), "nothing of the ISP's is released any more");
    door.set_gate(Gate::new(both()).expect("gate"));
    assert_eq!(ask(), (2, 7));
}

/// A partner's views file what they release by what the released text states: a
/// customer address the gate pseudonymises is found under its pseudonym, never under
/// the real address. Filed by the stored text, naming the real address found the
/// indicator, which was then decided and dropped: nothing in the answer, but the time
/// of that decision told the partner that the address it guessed is a customer's
/// behind a pseudonym.
#[test]
fn a_customers_address_is_filed_under_its_pseudonym() {
    use crate::egress::{agreement as telco_agreement, door as telco_door, everything, KEY_HEX};
    let store = store();
    let customer = "198.51.100.77";
    ingest(
        &store,
        TELCO,
        &[
            crate::egress::indicator(1, Some(Tlp::Green), &["c2"], customer),
            crate::egress::indicator(2, Some(Tlp::Green), &["c2"], "192.0.2.9"),
        ],
    );
    let key = accord_agreements::PseudonymKey::from_hex(KEY_HEX).expect("key");
    let agreement = telco_agreement(
        r#"max_tlp = "GREEN""#,
        r#"customer_ranges = ["198.51.100.0/24"]
pseudonym_key_env = "ACCORD_TEST_ANALYTICS_KEY""#,
    )
    .with_key(key);
    let door = telco_door(&store, vec![agreement]);
    let released = everything(&door, CENTRE, 10);
    let first = released
        .iter()
        .find(|o| o.id.ends_with("000000000001"))
        .expect("the customer's indicator is released, pseudonymised");
    let analytics = accord_node::analytics::extract_text(&first.json).expect("analytics");
    let (kind, pseudonym) = analytics.values.first().cloned().expect("a value");
    assert_ne!(pseudonym, customer, "{}", first.json);

    let reader = door
        .released_reader(&Recipient::new(CENTRE))
        .expect("reader");
    let found = |value: &str| reader.stating(kind, value).expect("stating").len();
    assert_eq!(
        found(customer),
        0,
        "nothing is filed under the real address"
    );
    assert_eq!(found(&pseudonym), 1);
    assert_eq!(
        found("192.0.2.9"),
        1,
        "other addresses are filed as they are"
    );

    let ask = |value: &str| correlations(&store, &door, CENTRE, Some(value), 1).len();
    assert_eq!((ask(customer), ask(&pseudonym)), (0, 1));
}

/// `Recorded::TrendsOnly` (`accord ingest --no-correlation`, what
/// `scripts/bench-hub-trends` measures correlation's cost against) counts every trend
/// and puts nothing in the correlation index; `Recorded::Nothing` records neither.
#[test]
fn ingest_can_record_trends_without_correlation() {
    use accord_node::ingest::{ingest_batch, IngestOptions, Recorded};
    use accord_store::Provenance;
    let ways = [
        (Recorded::All, true, true),
        (Recorded::TrendsOnly, false, true),
        (Recorded::Nothing, false, false),
    ];
    for (recorded, correlated, counted) in ways {
        let store = store();
        let options = IngestOptions {
            analytics: recorded,
            ..IngestOptions::default()
        };
        for (n, provider) in [(1, TELCO), (2, ISP)] {
            let objects = [
                indicator_on(n, 1, Tlp::Green, "203.0.113.7"),
                sighting_of(n + 10, n, 3, Tlp::Green),
            ];
            let results = ingest_batch(
                &*store,
                &objects,
                &Provenance::new(provider, "test"),
                Some(crate::egress::COLLECTION),
                &options,
            )
            .expect("ingest");
            assert!(results.iter().all(|r| r.is_stored()), "{results:?}");
        }
        let door = door(&store, Vec::new());
        let found = correlations(&store, &door, TELCO, None, 2);
        assert_eq!(!found.is_empty(), correlated, "{recorded:?}: {found:?}");
        let local =
            trends(&*store, &door, &Recipient::new(TELCO), &trend_query("type")).expect("trends");
        let sightings: i64 = local
            .series
            .iter()
            .filter(|s| s.metric == "sightings")
            .flat_map(|s| s.buckets.iter().filter_map(|b| b.count))
            .sum();
        let expected = if counted { 6 } else { 0 };
        assert_eq!(sightings, expected, "{recorded:?}: {local:?}");
    }
}

/// A partner's country trends do not tell it that a withheld object stated an address
/// before: a released indicator on an address a withheld one already stated (and the
/// enrichment located) counts under `unknown` until an enrichment run covers it, as an
/// indicator on a fresh address does; then where the address is. (Located at once, it
/// counted in MY while one on a fresh address counted `unknown`.)
#[test]
fn a_partners_country_trends_do_not_tell_a_withheld_object_stated_the_address() {
    use accord_store::{AddressEnrichment, EnrichmentSource, Store};
    let store = store();
    ingest(
        &store,
        TELCO,
        &[indicator_on(1, 1, Tlp::Red, "203.0.113.5")],
    );
    let source = EnrichmentSource {
        role: "country".into(),
        path: "test.mmdb".into(),
        database_type: "Test".into(),
        build_epoch: 1,
        node_count: 1,
    };
    let place = |a: &str| AddressEnrichment {
        address: a.into(),
        country: Some("MY".into()),
        asn: Some(4788),
        as_name: None,
    };
    let run = |recompute: bool, addresses: &[&str]| {
        let head = store.feed_heads().unwrap().objects;
        let rows: Vec<AddressEnrichment> = addresses.iter().map(|a| place(a)).collect();
        store
            .put_enrichment(recompute, std::slice::from_ref(&source), head, &rows, &[])
            .unwrap();
    };
    run(true, &["203.0.113.5"]);
    // After the run: one on the withheld indicator's address, one on a fresh one.
    ingest(
        &store,
        TELCO,
        &[
            indicator_on(2, 1, Tlp::Green, "203.0.113.5"),
            indicator_on(3, 1, Tlp::Green, "203.0.113.6"),
        ],
    );
    let egress = door(&store, vec![agreement(TELCO, Some(1))]);
    let by_country = || {
        let t = trends(
            &*store,
            &egress,
            &Recipient::new(CENTRE),
            &trend_query("country"),
        )
        .unwrap();
        let mut counts: Vec<(String, i64)> = t
            .series
            .iter()
            .map(|s| {
                (
                    s.key.clone(),
                    s.buckets.iter().filter_map(|b| b.count).sum(),
                )
            })
            .collect();
        counts.sort();
        counts
    };
    assert_eq!(by_country(), vec![("unknown".to_string(), 2)]);
    run(false, &["203.0.113.6"]);
    assert_eq!(
        by_country(),
        vec![("MY".to_string(), 2)],
        "located once the enrichment covers them"
    );
}

/// Trends by provider count each new indicator, infrastructure or sighting once under
/// its provider: a relationship to a malware or attack pattern counts its source
/// under the family or technique, not once more under the provider (it did up to
/// store schema 13, for the operator and for a partner alike).
#[test]
fn a_relationship_counts_under_the_family_not_again_under_its_provider() {
    let store = store();
    ingest(&store, TELCO, &family_corpus());
    let egress = door(&store, vec![agreement(TELCO, Some(1))]);
    for who in [TELCO, CENTRE] {
        let t = trends(
            &*store,
            &egress,
            &Recipient::new(who),
            &trend_query("provider"),
        )
        .unwrap();
        let counts: Vec<(String, Vec<Option<i64>>)> = t
            .series
            .iter()
            .map(|s| (s.key.clone(), s.buckets.iter().map(|b| b.count).collect()))
            .collect();
        assert_eq!(counts, vec![(TELCO.to_string(), vec![Some(1)])], "{who}");
    }
}

/// An indicator of TELCO's on March 3rd, the malware Emotet and a relationship from
/// one to the other.
fn family_corpus() -> Vec<String> {
    let [malware, rel] = emotet_indicated_by(1);
    vec![indicator_on(1, 3, Tlp::Green, "198.51.100.1"), malware, rel]
}

/// The malware Emotet and a relationship from indicator `n` to it.
fn emotet_indicated_by(n: u32) -> [String; 2] {
    let malware = format!(
        r#"{{"type":"malware","spec_version":"2.1","id":"malware--{}","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Emotet","is_family":true}}"#,
        uuid(9)
    );
    let rel = format!(
        r#"{{"type":"relationship","spec_version":"2.1","id":"relationship--{}","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--{}","target_ref":"malware--{}"}}"#,
        uuid(10),
        uuid(n),
        uuid(9)
    );
    [malware, rel]
}

/// A store of schema 13 counted a relationship once more under its provider; opening
/// it migrates the provider cells to what a fresh ingest counts: the relationships'
/// part comes off, and a provider cell of relationships alone goes.
#[test]
fn a_version_13_store_counts_its_providers_once_per_object() {
    use accord_store::Store;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let fresh = {
        let store = SqliteStore::open(&path).unwrap();
        ingest(&store, TELCO, &family_corpus());
        store.trend_cells("provider", None, i64::MIN).unwrap()
    };
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    // What schema 13 wrote: TELCO's relationship counted under TELCO on March 3rd, and
    // ISP's relationship alone on March 4th.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "UPDATE trend_counts SET count = count + 1 WHERE dimension = 'provider';
         INSERT INTO trend_counts VALUES ('family', 'indicators', 20516, 'Emotet', 'isp', 1);
         INSERT INTO trend_counts VALUES ('provider', 'indicators', 20516, 'isp', 'isp', 1);
         PRAGMA user_version = 13;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.trend_cells("provider", None, i64::MIN).unwrap(),
        fresh
    );
    assert_eq!(
        store.trend_cells("family", None, i64::MIN).unwrap().len(),
        2
    );
}

/// `objects` from `provider` into `collection`.
fn ingest_into(store: &SqliteStore, provider: &str, collection: &str, objects: &[String]) {
    let results = accord_node::ingest::ingest_batch(
        store,
        objects,
        &accord_store::Provenance::new(provider, "test"),
        Some(collection),
        &accord_node::ingest::IngestOptions::default(),
    )
    .expect("ingest");
    assert!(results.iter().all(|r| r.is_stored()), "{results:?}");
}

/// TELCO reports 203.0.113.70 in collections `c2` and `phishing`, and 203.0.113.71
/// twice in `c2` alone.
fn one_provider_two_collections(store: &SqliteStore) {
    ingest_into(
        store,
        TELCO,
        "c2",
        &[
            indicator_on(1, 1, Tlp::Green, "203.0.113.70"),
            indicator_on(3, 1, Tlp::Green, "203.0.113.71"),
            indicator_on(4, 2, Tlp::Green, "203.0.113.71"),
        ],
    );
    ingest_into(
        store,
        TELCO,
        "phishing",
        &[indicator_on(2, 2, Tlp::Green, "203.0.113.70")],
    );
}

/// The (value, provider count, collections) of each correlation.
fn summary(found: &[accord_node::correlate::Correlation]) -> Vec<(String, usize, Vec<String>)> {
    found
        .iter()
        .map(|c| {
            assert_eq!(c.collection_count, c.collections.len());
            (c.value.clone(), c.provider_count, c.collections.clone())
        })
        .collect()
}

/// "Reported by several providers or collections": one provider's value in two
/// collections is a correlation of the operator's listing (two objects in one
/// collection are not); asked for two providers, it is not. A partner reading one of
/// the collections neither lists it nor learns of the other collection when it names
/// the value; one reading both lists it.
#[test]
fn a_value_one_provider_reports_in_two_collections_is_a_correlation() {
    let store = store();
    one_provider_two_collections(&store);
    let both = || vec!["c2".to_string(), "phishing".to_string()];
    let operator = door(&store, vec![agreement(TELCO, None)]);
    let listed = |door: &Egress, org: &str, value: Option<&str>, min: Option<usize>| {
        let query = CorrelateQuery {
            value: value.map(str::to_string),
            min_providers: min,
            limit: 100,
        };
        summary(&correlate_as(&store, door, org, &query))
    };
    assert_eq!(
        listed(&operator, TELCO, None, None),
        vec![("203.0.113.70".to_string(), 1, both())]
    );
    assert_eq!(listed(&operator, TELCO, None, Some(2)), vec![]);
    assert_eq!(
        listed(&operator, TELCO, Some("203.0.113.71"), None),
        vec![("203.0.113.71".to_string(), 1, vec!["c2".to_string()])]
    );
    // A partner that reads c2 only.
    let mut readers = Readers::none();
    readers.grant("c2", CENTRE);
    let c2_only = Egress::new(store.clone(), TELCO)
        .with_gate(Gate::new(vec![agreement(TELCO, None)]).expect("gate"))
        .with_readers(readers);
    assert_eq!(listed(&c2_only, CENTRE, None, None), vec![]);
    assert_eq!(
        listed(&c2_only, CENTRE, Some("203.0.113.70"), None),
        vec![("203.0.113.70".to_string(), 1, vec!["c2".to_string()])]
    );
    // One that reads both.
    assert_eq!(
        listed(&operator, CENTRE, None, None),
        vec![("203.0.113.70".to_string(), 1, both())]
    );
}

/// A schema 14 store (its index's sets of providers) opened by this build: the index
/// is rebuilt from the objects with each version's source, its provider in the
/// collection it was first added to, so one provider's value in two collections is
/// shared (two sources) and listed.
#[test]
fn a_version_14_store_gets_its_index_rebuilt_with_collections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    {
        let store = SqliteStore::open(&path).unwrap();
        one_provider_two_collections(&store);
    }
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 14;")
        .unwrap();
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    rebuild_correlation(&store);
    assert_eq!(correlation_of(&store, "203.0.113.70"), (2, 2));
    assert_eq!(correlation_of(&store, "203.0.113.71"), (1, 2));
    let operator = door(&store, Vec::new());
    let found = correlations(&store, &operator, TELCO, None, 2);
    assert_eq!(found.len(), 0, "two providers asked: {found:?}");
    let query = CorrelateQuery {
        value: None,
        min_providers: None,
        limit: 100,
    };
    assert_eq!(
        summary(&correlate_as(&store, &operator, TELCO, &query)),
        vec![(
            "203.0.113.70".to_string(),
            1,
            vec!["c2".to_string(), "phishing".to_string()]
        )]
    );
}

/// The operator's listing reads its candidates most sources first (a provider in a
/// collection): values of one provider in many collections, which a listing of two
/// providers does not keep, come first, and must not leave the answer short while a
/// value of two providers is further on in the index.
#[test]
fn a_listing_reads_past_candidates_it_does_not_keep() {
    let store = store();
    for n in 0..6u32 {
        let ip = format!("203.0.113.{}", 100 + n);
        for (c, collection) in ["c2", "phishing", "ddos"].iter().enumerate() {
            let c = c as u32;
            ingest_into(
                &store,
                TELCO,
                collection,
                &[indicator_on(200 + n * 3 + c, 1, Tlp::Green, &ip)],
            );
        }
    }
    ingest(
        &store,
        TELCO,
        &[indicator_on(300, 1, Tlp::Green, "198.51.100.9")],
    );
    ingest(
        &store,
        ISP,
        &[indicator_on(301, 1, Tlp::Green, "198.51.100.9")],
    );
    let operator = door(&store, Vec::new());
    let query = CorrelateQuery {
        value: None,
        min_providers: Some(2),
        limit: 1,
    };
    assert_eq!(
        summary(&correlate_as(&store, &operator, TELCO, &query)),
        vec![("198.51.100.9".to_string(), 2, vec!["c2".to_string()])]
    );
}

/// A partner that also provides cannot lift a cell over `k` victims with victims of
/// its own making: its own sightings stand for one victim (itself), as it counts as
/// one provider, whatever identities they name. Two providers' sightings seen at one
/// bank and the partner's own naming two made-up victims stay suppressed.
#[test]
fn a_partners_own_sightings_count_as_one_victim_in_its_trends() {
    let store = store();
    for (i, provider) in [TELCO, ISP].into_iter().enumerate() {
        let i = i as u32;
        ingest(
            &store,
            provider,
            &[
                indicator_on(10 + i, 1, Tlp::Green, "198.51.100.1"),
                sighting_at(20 + i, 10 + i, &[900]),
            ],
        );
    }
    ingest(
        &store,
        CENTRE,
        &[
            indicator_on(12, 1, Tlp::Green, "198.51.100.1"),
            sighting_at(22, 12, &[901, 902]),
        ],
    );
    let door = door(
        &store,
        vec![agreement(TELCO, Some(3)), agreement(ISP, None)],
    );
    let (indicators, sightings) = centres_counts_by_type(&store, &door);
    assert_eq!(indicators, vec![Some(3), Some(0), Some(0), Some(0)]);
    assert_eq!(sightings, Vec::<Option<i64>>::new());
}

/// A cell names at most 1,000 victims (no `k` is larger), the same in the kept cells
/// as in the pass, however many identities the sightings name.
#[test]
fn a_cell_names_at_most_a_thousand_victims() {
    use accord_node::trends::partner_cells_by_pass;
    let store = store();
    let many: Vec<u32> = (5_000..6_500).collect();
    for (i, provider) in [TELCO, ISP, BANK].into_iter().enumerate() {
        let i = i as u32;
        let at: &[u32] = if i == 0 { &many } else { &[900] };
        ingest(
            &store,
            provider,
            &[
                indicator_on(10 + i, 1, Tlp::Green, "198.51.100.1"),
                sighting_at(20 + i, 10 + i, at),
            ],
        );
    }
    let door = door_of_three(&store);
    let centre = Recipient::new(CENTRE);
    let kept = door
        .partner_trend_cells(&centre, "type", i64::MIN)
        .expect("kept");
    let pass = partner_cells_by_pass(&*store, &door, &centre, "type", i64::MIN).expect("pass");
    let telco = |cells: &[accord_store::TrendCell]| {
        cells
            .iter()
            .find(|c| c.provider == TELCO && c.metric == "sightings")
            .map(|c| c.victims.clone())
            .expect("telco's sightings")
    };
    assert_eq!(telco(&kept).len(), 1_000);
    assert_eq!(telco(&kept), telco(&pass));
    assert_eq!(telco(&kept)[0], format!("identity--{}", uuid(5_000)));
}

//! The hub's enrichment over a real store (issue 15, item 1): facts beside the objects,
//! recomputed when the database changes, incremental for new objects, and the door
//! releasing under `scope.countries` / `scope.asns` from them (fail-closed).

use std::path::PathBuf;

use accord_agreements::Tlp;
use accord_node::enrich::{self, Databases, Index};
use accord_store::Store;

use crate::egress::{agreement, door, everything, indicator, ingest, ipv4, store, CENTRE, TELCO};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/hub")
        .join(name)
}

/// The ids CENTRE receives, sorted.
fn ids(door: &accord_node::egress::Egress) -> Vec<String> {
    let mut v: Vec<String> = everything(door, CENTRE, 100)
        .into_iter()
        .map(|o| o.id)
        .collect();
    v.sort();
    v
}

fn databases() -> Databases {
    Databases::open(Some(&fixture("country.mmdb")), Some(&fixture("asn.mmdb"))).unwrap()
}

#[test]
fn enrichment_is_stored_beside_objects_and_refreshed_when_the_database_changes() {
    let store = store();
    let objects = [
        ipv4("203.0.113.5"),
        indicator(1, Some(Tlp::Green), &[], "198.51.100.7"),
        ipv4("10.0.0.1"),
    ];
    ingest(&store, TELCO, &objects);
    let before: Vec<String> = store
        .query(&accord_store::ObjectQuery::new(
            accord_store::Scope::Store,
            10,
        ))
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.json)
        .collect();
    let s = enrich::run(&*store, &databases(), false).unwrap();
    assert!(s.recomputed && !s.up_to_date);
    assert_eq!((s.objects_read, s.addresses, s.located), (3, 3, 2));
    // Objects are untouched.
    let after: Vec<String> = store
        .query(&accord_store::ObjectQuery::new(
            accord_store::Scope::Store,
            10,
        ))
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.json)
        .collect();
    assert_eq!(before, after);
    let index = Index::load(&*store).unwrap();
    assert_eq!(index.len(), 3);
    let loc = index.locate(&accord_enrich::Subjects::of_json(&objects[1]));
    assert_eq!(
        (loc.countries, loc.asns),
        (vec!["NL".to_string()], vec![1136])
    );
    // Same databases, nothing new: nothing to do.
    assert!(
        enrich::run(&*store, &databases(), false)
            .unwrap()
            .up_to_date
    );
    // A new object: only it is read.
    ingest(&store, TELCO, &[ipv4("203.0.113.200")]);
    let s = enrich::run(&*store, &databases(), false).unwrap();
    assert!(!s.recomputed && !s.up_to_date);
    assert_eq!((s.objects_read, s.addresses), (1, 1));
    assert_eq!(store.enrichment_state().unwrap().unwrap().addresses, 4);
    // Another database (different type and tree): everything is recomputed, and the
    // ASNs the old one gave are gone (the new one has none).
    let other = Databases::open(Some(&fixture("country-code-v4.mmdb")), None).unwrap();
    let s = enrich::run(&*store, &other, false).unwrap();
    assert!(s.recomputed);
    assert_eq!(s.objects_read, 4);
    let rows = store.enriched_addresses(&["203.0.113.5".into()]).unwrap();
    assert_eq!(rows[0].country.as_deref(), Some("MY"));
    assert_eq!(rows[0].asn, None);
}

#[test]
fn the_door_releases_by_country_and_asn_and_withholds_the_unlocated() {
    let store = store();
    let my = ipv4("203.0.113.5");
    let sg = ipv4("203.0.113.200");
    let nowhere = ipv4("10.0.0.1");
    let ind_my = indicator(1, Some(Tlp::Green), &[], "2001:db8:1::9");
    let ind_nl = indicator(2, Some(Tlp::Green), &[], "198.51.100.7");
    ingest(&store, TELCO, &[my.clone(), sg, nowhere, ind_my, ind_nl]);
    let scope = |extra: &str| {
        agreement(
            &format!("max_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\n{extra}"),
            "",
        )
    };
    // Before enrichment, a country scope releases nothing (fail-closed).
    let d = door(&store, vec![scope("countries = [\"MY\"]")]);
    assert!(ids(&d).is_empty());
    enrich::run(&*store, &databases(), false).unwrap();
    let d = door(&store, vec![scope("countries = [\"MY\"]")]);
    let mut want = vec![
        accord_agreements::sco_id("ipv4-addr", "203.0.113.5"),
        "indicator--00000000-0000-4000-8000-000000000001".to_string(),
    ];
    want.sort();
    assert_eq!(ids(&d), want);
    let d = door(&store, vec![scope("asns = [1136, 4773]")]);
    let mut want = vec![
        accord_agreements::sco_id("ipv4-addr", "203.0.113.200"),
        "indicator--00000000-0000-4000-8000-000000000002".to_string(),
    ];
    want.sort();
    assert_eq!(ids(&d), want);
    // Without a location scope, everything (located or not).
    let d = door(&store, vec![scope("")]);
    assert_eq!(ids(&d).len(), 5);
}

/// `accord serve`'s enrichment keeper: nothing for a store never enriched; after the
/// operator's first `accord enrich`, new objects are enriched on the next tick, and a
/// location-scoped agreement's views are decided again, so what was withheld for
/// want of a location is released without a restart (and an `accord enrich` run by
/// another process is picked up the same way).
#[test]
fn a_serving_node_keeps_enrichment_and_location_scoped_views_current() {
    use accord_node::enrich_keeper::Keeper;
    let store = store();
    let first = ipv4("203.0.113.5");
    ingest(&store, TELCO, std::slice::from_ref(&first));
    let d = door(
        &store,
        vec![agreement(
            "max_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\ncountries = [\"MY\"]",
            "",
        )],
    );
    let mut keeper = Keeper::default();
    assert!(
        keeper.tick(&*store, &d, None).unwrap().is_none(),
        "a store never enriched is left alone"
    );
    assert!(ids(&d).is_empty(), "unlocated: withheld");

    // The operator's first run names the databases.
    enrich::run(&*store, &databases(), false).unwrap();
    let tick = keeper
        .tick(&*store, &d, None)
        .unwrap()
        .expect("enriched store");
    assert!(tick.summary.up_to_date);
    assert!(
        tick.views_redecided,
        "the run since the views were decided changed them"
    );
    assert_eq!(
        ids(&d),
        vec![accord_agreements::sco_id("ipv4-addr", "203.0.113.5")]
    );

    let second = ipv4("203.0.113.9");
    ingest(&store, TELCO, std::slice::from_ref(&second));
    assert_eq!(ids(&d).len(), 1, "the new address is not located yet");
    let tick = keeper
        .tick(&*store, &d, None)
        .unwrap()
        .expect("enriched store");
    assert!(!tick.summary.up_to_date);
    assert_eq!(tick.summary.objects_read, 1);
    assert!(tick.views_redecided);
    let mut want = vec![
        accord_agreements::sco_id("ipv4-addr", "203.0.113.5"),
        accord_agreements::sco_id("ipv4-addr", "203.0.113.9"),
    ];
    want.sort();
    assert_eq!(ids(&d), want);
    let tick = keeper
        .tick(&*store, &d, None)
        .unwrap()
        .expect("enriched store");
    assert!(
        tick.summary.up_to_date && !tick.views_redecided,
        "nothing new: nothing redone"
    );
}

/// A change of the enrichment has only the views of recipients with an agreement
/// scoped by location decide again: the centre's (scoped to MY) rebuilds, the
/// police's (unscoped) keeps its decisions. Before, every view of every recipient
/// decided its whole collection again after each change.
#[test]
fn an_enrichment_change_rebuilds_only_location_scoped_views() {
    use crate::egress::agreement_to;
    let store = store();
    let addresses: Vec<String> = (1..=20).map(|n| ipv4(&format!("203.0.113.{n}"))).collect();
    ingest(&store, TELCO, &addresses);
    let d = door(
        &store,
        vec![
            agreement(
                "max_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\ncountries = [\"MY\"]",
                "",
            ),
            agreement_to(
                "police",
                "max_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"",
                "",
            ),
        ],
    );
    let first = d.refresh_views().expect("refresh");
    assert_eq!((first.views, first.entries_decided), (2, 40));
    assert_eq!(d.refresh_views().expect("refresh").entries_decided, 0);
    enrich::run(&*store, &databases(), false).unwrap();
    d.redecide_views();
    let again = d.refresh_views().expect("refresh");
    assert_eq!(
        again.entries_decided, 20,
        "the centre's view decides its collection again, the police's does not"
    );
    assert_eq!(
        ids(&d).len(),
        20,
        "the centre now gets the located addresses"
    );
}

//! Each country its part (issue 15, item 5): what a responsible organisation's package
//! holds, and what it never holds — objects outside its scope, objects its agreement
//! withholds, or any trace (id, count) of them.

use std::collections::{BTreeSet, HashMap};

use accord_agreements::Tlp;
use accord_node::enrich::{self, Databases, Index};
use accord_node::route::{self, Responsible, Why};
use proptest::prelude::*;

use crate::egress::{
    agreement, door, ingest, ipv4, ledger, malware, relationship, store, uuid, CENTRE, TELCO,
};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/hub")
        .join(name)
}

fn enriched(store: &accord_store::SqliteStore) -> Index {
    let dbs = Databases::open(Some(&fixture("country.mmdb")), Some(&fixture("asn.mmdb"))).unwrap();
    enrich::run(store, &dbs, false).unwrap();
    Index::load(store).unwrap()
}

fn centre(countries: &[&str]) -> Responsible {
    Responsible {
        organisation: CENTRE.into(),
        countries: countries.iter().map(|c| c.to_string()).collect(),
        asns: BTreeSet::new(),
    }
}

fn indicator(n: u32, tlp: Tlp, ip: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","labels":["c2"],"object_marking_refs":["{}"]}}"#,
        uuid(n),
        tlp.marking_id()
    )
}

fn sighting(n: u32, of: &str) -> String {
    format!(
        r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","sighting_of_ref":"{of}","count":3}}"#,
        uuid(n)
    )
}

#[test]
fn a_package_holds_what_is_located_there_and_explains_it_and_nothing_withheld() {
    let store = store();
    let ind_my = format!("indicator--{}", uuid(1));
    let ind_my_red = format!("indicator--{}", uuid(2));
    let ind_nl = format!("indicator--{}", uuid(3));
    let mal = format!("malware--{}", uuid(4));
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Tlp::Green, "203.0.113.5"),
            indicator(2, Tlp::Red, "203.0.113.6"),
            indicator(3, Tlp::Green, "198.51.100.7"),
            malware(4, Tlp::Green),
            relationship(5, &ind_my, &mal),
            relationship(6, &ind_my_red, &mal),
            relationship(7, &ind_nl, &mal),
            sighting(8, &ind_my),
            sighting(9, &ind_my_red),
            ipv4("10.0.0.1"),
        ],
    );
    let index = enriched(&store);
    let egress = door(
        &store,
        vec![agreement(
            "max_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\ntypes = [\"*\"]",
            "",
        )],
    );
    let recipients = [centre(&["MY"])];
    // The dry run: selection, decisions, nothing in the ledger.
    let dry = route::route(&*store, &egress, &index, &recipients, None, false).unwrap();
    assert!(ledger(&store).is_empty(), "a dry run records nothing");
    let p = &dry[0];
    let released: Vec<(String, Why)> = p.released.iter().map(|o| (o.id.clone(), o.why)).collect();
    assert_eq!(
        released,
        [
            (ind_my.clone(), Why::Located),
            (mal.clone(), Why::Context),
            (format!("relationship--{}", uuid(5)), Why::Explains),
            (format!("sighting--{}", uuid(8)), Why::Sighting),
        ]
    );
    let withheld: Vec<(String, &str)> = p
        .withheld
        .iter()
        .map(|w| (w.id.clone(), w.reason.as_str()))
        .collect();
    assert_eq!(
        withheld,
        [
            (ind_my_red.clone(), "tlp-above-maximum"),
            (format!("relationship--{}", uuid(6)), "references-withheld"),
            (format!("sighting--{}", uuid(9)), "references-withheld"),
        ]
    );
    // The NL indicator and its relationship are not selected at all.
    let all: Vec<&str> = p
        .released
        .iter()
        .map(|o| o.id.as_str())
        .chain(p.withheld.iter().map(|w| w.id.as_str()))
        .collect();
    assert!(!all.contains(&ind_nl.as_str()));
    assert!(!all.contains(&format!("relationship--{}", uuid(7)).as_str()));
    // The real run: every release in the ledger, the package files without a trace of
    // the withheld objects (ids, nor how many there were).
    let real = route::route(&*store, &egress, &index, &recipients, None, true).unwrap();
    let entries = ledger(&store);
    assert_eq!(entries.len(), 4);
    let bundle = route::bundle(&real[0]);
    let events = route::events(
        &real[0],
        &recipients[0],
        &index,
        &HashMap::new(),
        "2026-06-01T00:00:00Z",
    );
    let files = [
        bundle,
        route::events_csv(&events),
        route::events_json(&events),
    ]
    .concat();
    for w in &real[0].withheld {
        let uuid_part = w.id.split_once("--").unwrap().1;
        assert!(!files.contains(uuid_part), "{} leaked", w.id);
    }
    assert!(!files.contains("withheld") && !files.contains("203.0.113.6"));
    assert!(!files.contains("198.51.100.7"), "another country's address");
    // Events: one per located address in the recipient's scope, classified.
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["source.ip"], "203.0.113.5");
    assert_eq!(events[0]["source.geolocation.cc"], "MY");
    assert_eq!(events[0]["source.asn"], "4788");
    assert_eq!(events[0]["classification.type"], "c2-server");
    assert_eq!(events[0]["feed.provider"], TELCO);
}

#[test]
fn infrastructure_is_located_through_its_addresses_and_scope_narrows_the_gate() {
    let store = store();
    let infra = format!(
        r#"{{"type":"infrastructure","spec_version":"2.1","id":"infrastructure--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"C2","infrastructure_types":["command-and-control"]}}"#,
        uuid(1)
    );
    let infra_id = format!("infrastructure--{}", uuid(1));
    let addr = ipv4("203.0.113.200");
    let addr_id = accord_agreements::sco_id("ipv4-addr", "203.0.113.200");
    ingest(
        &store,
        TELCO,
        &[infra, addr, relationship(2, &infra_id, &addr_id)],
    );
    let index = enriched(&store);
    let sg = [centre(&["SG"])];
    let all = door(
        &store,
        vec![agreement(
            "max_tlp = \"GREEN\"\ntypes = [\"*\"]\nunmarked_tlp = \"GREEN\"",
            "",
        )],
    );
    let p = &route::route(&*store, &all, &index, &sg, None, false).unwrap()[0];
    let ids: Vec<&str> = p.released.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            infra_id.as_str(),
            addr_id.as_str(),
            &format!("relationship--{}", uuid(2))
        ]
    );
    // Under an agreement scoped by country, the infrastructure (no address of its own)
    // is withheld (fail-closed), and so is the relationship to it.
    let scoped = door(
        &store,
        vec![agreement(
            "max_tlp = \"GREEN\"\ntypes = [\"*\"]\nunmarked_tlp = \"GREEN\"\ncountries = [\"SG\"]",
            "",
        )],
    );
    let p = &route::route(&*store, &scoped, &index, &sg, None, false).unwrap()[0];
    let ids: Vec<&str> = p.released.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [addr_id.as_str()]);
    let reasons: Vec<&str> = p.withheld.iter().map(|w| w.reason.as_str()).collect();
    assert_eq!(reasons, ["location-unknown", "references-withheld"]);
    // A recipient responsible elsewhere gets nothing at all, not even a count.
    let p = &route::route(&*store, &all, &index, &[centre(&["DE"])], None, false).unwrap()[0];
    assert!(p.released.is_empty() && p.withheld.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Random markings and locations: every released object is selected for a reason
    /// the rules give, located objects are in the recipient's scope, and no withheld id
    /// appears anywhere in the package's files.
    #[test]
    fn packages_never_carry_what_the_gate_withholds(
        objects in proptest::collection::vec((0usize..6, 0usize..3), 1..12)
    ) {
        let pool = ["203.0.113.5", "203.0.113.70", "198.51.100.9", "203.0.113.200", "10.1.1.1", "192.0.2.1"];
        let tlps = [Tlp::Green, Tlp::Amber, Tlp::Red];
        let store = store();
        let mal = format!("malware--{}", uuid(999));
        let mut texts = vec![malware(999, Tlp::Green)];
        for (i, (ip, tlp)) in objects.iter().enumerate() {
            let n = i as u32 + 1;
            texts.push(indicator(n, tlps[*tlp], pool[*ip]));
            texts.push(relationship(100 + n, &format!("indicator--{}", uuid(n)), &mal));
        }
        ingest(&store, TELCO, &texts);
        let index = enriched(&store);
        let egress = door(&store, vec![agreement("max_tlp = \"GREEN\"\ntypes = [\"*\"]", "")]);
        let r = centre(&["MY"]);
        let p = route::route(&*store, &egress, &index, std::slice::from_ref(&r), None, true).unwrap().remove(0);
        let events = route::events(&p, &r, &index, &HashMap::new(), "2026-06-01T00:00:00Z");
        let files = [route::bundle(&p), route::events_csv(&events), route::events_json(&events)].concat();
        for w in &p.withheld {
            prop_assert!(!files.contains(w.id.split_once("--").unwrap().1), "{} leaked", w.id);
        }
        for o in &p.released {
            if o.why == Why::Located {
                let loc = index.locate(&accord_enrich::Subjects::of_json(&o.json));
                prop_assert!(r.covers(&loc), "{} is not in MY", o.id);
                prop_assert!(o.json.contains(Tlp::Green.marking_id()));
            }
        }
        prop_assert_eq!(ledger(&store).len(), p.released.len());
    }
}

/// The ids a collection holds, with how many versions each.
fn held(
    store: &accord_store::SqliteStore,
    collection: &str,
) -> std::collections::BTreeMap<String, usize> {
    use accord_store::{ObjectQuery, Scope, Store, VersionFilter};
    let mut query = ObjectQuery::new(Scope::Collection(collection.into()), 1_000);
    query.versions = VersionFilter::all();
    let mut out = std::collections::BTreeMap::new();
    for row in store.query(&query).unwrap().rows {
        *out.entry(row.id).or_insert(0) += 1;
    }
    out
}

#[test]
fn a_routed_collection_follows_the_routing_new_versions_in_and_what_left_out() {
    const ROUTED: &str = "6f1c2b0e-1d2a-4e8b-9c3d-0a1b2c3d4e5f";
    let store = store();
    let ind_my = format!("indicator--{}", uuid(1));
    let ind_nl = format!("indicator--{}", uuid(3));
    let mal = format!("malware--{}", uuid(4));
    let addr = ipv4("203.0.113.9");
    let addr_id = serde_json::from_str::<serde_json::Value>(&addr).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Tlp::Green, "203.0.113.5"),
            indicator(3, Tlp::Green, "198.51.100.7"),
            malware(4, Tlp::Green),
            relationship(5, &ind_my, &mal),
            sighting(8, &ind_my),
            addr,
        ],
    );
    let index = enriched(&store);
    let collections = std::collections::BTreeMap::from([(CENTRE.to_string(), ROUTED.to_string())]);
    let my = [centre(&["MY"])];
    // A dry run counts and writes nothing.
    let dry = accord_node::routed::deliver(&*store, &index, &my, None, &collections, true).unwrap();
    assert_eq!((dry[0].added, dry[0].held), (5, 5));
    assert!(held(&store, ROUTED).is_empty());
    let first =
        accord_node::routed::deliver(&*store, &index, &my, None, &collections, false).unwrap();
    assert_eq!((first[0].added, first[0].removed), (5, 0));
    let want: BTreeSet<String> = [
        ind_my.clone(),
        mal.clone(),
        format!("relationship--{}", uuid(5)),
        format!("sighting--{}", uuid(8)),
        addr_id.clone(),
    ]
    .into();
    assert_eq!(
        held(&store, ROUTED)
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        want
    );
    assert!(
        ledger(&store).is_empty(),
        "filling a collection releases nothing"
    );
    // Same routing: nothing added (the unversioned address included).
    let again =
        accord_node::routed::deliver(&*store, &index, &my, None, &collections, false).unwrap();
    assert_eq!((again[0].added, again[0].removed), (0, 0));
    // A new version of the MY indicator enters beside the old one.
    ingest(
        &store,
        TELCO,
        &[indicator(1, Tlp::Green, "203.0.113.5").replace(
            "\"modified\":\"2026-01-01T00:00:00.000Z\"",
            "\"modified\":\"2026-02-01T00:00:00.000Z\"",
        )],
    );
    let index = enriched(&store);
    let newer =
        accord_node::routed::deliver(&*store, &index, &my, None, &collections, false).unwrap();
    assert_eq!((newer[0].added, newer[0].removed), (1, 0));
    assert_eq!(held(&store, ROUTED)[&ind_my], 2);
    // A marking definition the node published into the collection (an agreement's
    // obligations) is not routing's: never removed.
    let marking = r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--6b6c08d1-3667-4930-b460-28838ea6b12e","created":"2026-01-01T00:00:00.000Z","name":"Accord agreement a v1 obligations","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension"}}}"#;
    let stored = accord_node::ingest::ingest_batch(
        &*store,
        &[marking],
        &accord_store::Provenance::new(TELCO, "agreement"),
        Some(ROUTED),
        &accord_node::ingest::IngestOptions::default(),
    )
    .unwrap();
    assert!(stored[0].is_stored(), "{stored:?}");
    // The organisation is responsible for NL now: the MY objects leave, the NL ones enter.
    let nl = [centre(&["NL"])];
    let moved =
        accord_node::routed::deliver(&*store, &index, &nl, None, &collections, false).unwrap();
    let now = held(&store, ROUTED);
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        [
            &ind_nl,
            "marking-definition--6b6c08d1-3667-4930-b460-28838ea6b12e"
        ]
    );
    assert_eq!((moved[0].added, moved[0].removed), (1, 5), "{moved:?}");
}

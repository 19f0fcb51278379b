//! Each country its part over TAXII (issue 15, item 5): a responsible organisation's
//! routed collection holds what routing selects for it, and its account reads
//! exactly what the gate releases of that (the same objects as `accord route`'s
//! bundle), with `added_after` paging and ledger entries; another organisation's
//! account does not see the collection at all.

use std::collections::{BTreeMap, BTreeSet};

use accord_agreements::{Agreement, Gate, Tlp};
use accord_node::enrich::{self, Databases, Index};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_node::route::{self, Responsible};
use accord_node::routed;
use accord_store::{Provenance, Store};

use crate::support::*;

const ROUTED_CERT: &str = "6f1c2b0e-1d2a-4e8b-9c3d-0a1b2c3d4e5f";
const ROUTED_POLICE: &str = "7a2d3c1f-2e3b-4f9c-8d4e-1b2c3d4e5f60";

fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/hub")
        .join(name)
}

/// The test configuration with cert responsible for MY and police for SG, each with
/// its routed collection.
fn routed_config() -> String {
    let text = config_text("")
        .replace(
            "[organisations.cert]\n",
            "[organisations.cert]\ncountries = [\"MY\"]\n",
        )
        .replace(
            "[organisations.police]\n",
            "[organisations.police]\ncountries = [\"SG\"]\n",
        );
    let text = text.replace(
        "[api_roots.other]",
        &format!(
            "[api_roots.intel.collections.routed-cert]\nid = \"{ROUTED_CERT}\"\ntitle = \"Routed to cert\"\n\
             read = [\"cert\"]\nrouted_to = \"cert\"\n\n\
             [api_roots.intel.collections.routed-police]\nid = \"{ROUTED_POLICE}\"\ntitle = \"Routed to police\"\n\
             read = [\"police\"]\nrouted_to = \"police\"\n\n[api_roots.other]"
        ),
    );
    text
}

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn indicator(n: u32, ip: &str, tlp: Tlp) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","labels":["c2"],"object_marking_refs":["{}"]}}"#,
        uuid(n),
        tlp.marking_id()
    )
}

fn malware(n: u32) -> String {
    format!(
        r#"{{"type":"malware","spec_version":"2.1","id":"malware--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Bot","is_family":true,"object_marking_refs":["{}"]}}"#,
        uuid(n),
        Tlp::Green.marking_id()
    )
}

fn relationship(n: u32, from: &str, to: &str) -> String {
    format!(
        r#"{{"type":"relationship","spec_version":"2.1","id":"relationship--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"{from}","target_ref":"{to}","object_marking_refs":["{}"]}}"#,
        uuid(n),
        Tlp::Green.marking_id()
    )
}

fn agreement(recipient: &str) -> Agreement {
    Agreement::from_toml(&format!(
        "id = \"telco-{recipient}\"\nversion = 1\nprovider = {{ id = \"telco\" }}\nrecipient = {{ id = \"{recipient}\" }}\n\
         purpose = \"Notification\"\nlegal_basis = \"MoU\"\n[validity]\nfrom = 2020-01-01T00:00:00Z\n\
         [scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\n[protections]\n[obligations]\nonward_sharing = true\n"
    ))
    .unwrap()
}

fn ingest(store: &dyn Store, objects: &[String]) {
    let results = ingest_batch(
        store,
        objects,
        &Provenance::new("telco", "test"),
        Some(INBOX),
        &IngestOptions::default(),
    )
    .unwrap();
    assert!(results.iter().all(|r| r.is_stored()), "{results:?}");
}

/// Enrich, then fill the routed collections as `accord route --deliver taxii` does.
fn deliver(f: &Fixture) -> Vec<routed::Delivery> {
    let store = f.state.store().clone();
    let dbs = Databases::open(
        Some(&fixture_path("country.mmdb")),
        Some(&fixture_path("asn.mmdb")),
    )
    .unwrap();
    enrich::run(&*store, &dbs, false).unwrap();
    let index = Index::load(&*store).unwrap();
    let config = f.state.access().config.clone();
    let collections: BTreeMap<String, String> = config
        .routed_collections()
        .into_iter()
        .map(|(org, (_, c))| (org.to_string(), c.id.clone()))
        .collect();
    routed::deliver(
        &*store,
        &index,
        &Responsible::from_config(&config),
        None,
        &collections,
        false,
    )
    .unwrap()
}

/// Every object `who` reads of `collection` (following `next`), and the last
/// `X-TAXII-Date-Added-Last`.
async fn read_all(
    f: &Fixture,
    collection: &str,
    who: Who,
    added_after: Option<&str>,
) -> (Vec<serde_json::Value>, Option<String>) {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    let mut last = None;
    loop {
        let mut uri = format!("/intel/collections/{collection}/objects/?limit=5");
        if let Some(a) = added_after {
            uri.push_str(&format!("&added_after={a}"));
        }
        if let Some(n) = &next {
            uri.push_str(&format!("&next={n}"));
        }
        let reply = get(&f.app, &uri, who).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        if let Some(l) = reply.header("x-taxii-date-added-last") {
            last = Some(l.to_string());
        }
        let j = reply.json();
        out.extend(j["objects"].as_array().cloned().unwrap_or_default());
        match j["next"].as_str() {
            Some(n) if j["more"] == true => next = Some(n.to_string()),
            _ => break,
        }
    }
    (out, last)
}

fn ids(objects: &[serde_json::Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_cert_reads_its_routed_collection_through_the_gate_and_nobody_else_sees_it() {
    let f = fixture_from(routed_config());
    let store = f.state.store().clone();
    let ind_my = format!("indicator--{}", uuid(1));
    let ind_red = format!("indicator--{}", uuid(2));
    let ind_nl = format!("indicator--{}", uuid(3));
    let ind_sg = format!("indicator--{}", uuid(4));
    let mal = format!("malware--{}", uuid(5));
    ingest(
        &*store,
        &[
            indicator(1, "203.0.113.5", Tlp::Green),
            indicator(2, "203.0.113.6", Tlp::Red),
            indicator(3, "198.51.100.7", Tlp::Green),
            indicator(4, "203.0.113.200", Tlp::Green),
            malware(5),
            relationship(6, &ind_my, &mal),
            relationship(7, &ind_red, &mal),
            relationship(8, &ind_nl, &mal),
            relationship(9, &ind_sg, &mal),
        ],
    );
    f.state
        .set_agreements(Gate::new([agreement("cert"), agreement("police")]).unwrap());
    let deliveries = deliver(&f);
    let cert = deliveries.iter().find(|d| d.recipient == "cert").unwrap();
    assert_eq!(cert.collection, ROUTED_CERT);
    // Selected (before the gate): the two MY indicators, the malware as context, the
    // two relationships that explain them.
    assert_eq!((cert.added, cert.removed, cert.held), (5, 0, 5));
    assert!(
        f.state.store().ledger_scan(0, 100).unwrap().is_empty(),
        "filling releases nothing"
    );

    // What accord route's bundle for cert holds (a dry run: nothing recorded).
    let index = Index::load(&*store).unwrap();
    let responsible = Responsible::from_config(&f.state.access().config);
    let packages = route::route(
        &*store,
        &f.state.egress(),
        &index,
        &responsible,
        None,
        false,
    )
    .unwrap();
    let bundle: BTreeSet<String> = packages
        .iter()
        .find(|p| p.recipient == "cert")
        .unwrap()
        .released
        .iter()
        .map(|o| o.id.clone())
        .collect();
    assert_eq!(
        bundle,
        BTreeSet::from([
            ind_my.clone(),
            mal.clone(),
            format!("relationship--{}", uuid(6))
        ])
    );

    // cert lists its collection and reads exactly that, over pages.
    let list = get(&f.app, "/intel/collections/", Who::Cert).await;
    let listed: Vec<String> = list.json()["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, [ROUTED_CERT], "cert has no other right");
    let (read, last) = read_all(&f, ROUTED_CERT, Who::Cert, None).await;
    assert_eq!(
        ids(&read),
        bundle,
        "the collection serves what the bundle holds"
    );
    let text = serde_json::to_string(&read).unwrap();
    for absent in [&ind_red, &ind_nl, &ind_sg] {
        assert!(
            !text.contains(absent.split_once("--").unwrap().1),
            "{absent} leaked"
        );
    }
    assert!(!text.contains("203.0.113.6") && !text.contains("203.0.113.200"));
    // Every object read is in the ledger, released to cert under its agreement.
    let entries: Vec<_> = store
        .ledger_scan(0, 100)
        .unwrap()
        .iter()
        .map(|r| accord_node::egress::ledger::decode_record(r).unwrap())
        .collect();
    let recorded: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.recipient == "cert" && e.agreement_id == "telco-cert")
        .map(|e| e.released_id.clone())
        .collect();
    assert_eq!(recorded, bundle);

    // police: its own collection holds the SG indicator; cert's does not exist for it.
    let (police_read, _) = read_all(&f, ROUTED_POLICE, Who::Police, None).await;
    assert!(ids(&police_read).contains(&ind_sg));
    assert!(!ids(&police_read).contains(&ind_my));
    let list = get(&f.app, "/intel/collections/", Who::Police).await;
    assert!(!list.body.contains(ROUTED_CERT), "{}", list.body);
    for path in [
        format!("/intel/collections/{ROUTED_CERT}/"),
        format!("/intel/collections/{ROUTED_CERT}/objects/"),
        format!("/intel/collections/{ROUTED_CERT}/manifest/"),
        format!("/intel/collections/{ROUTED_CERT}/objects/{ind_my}/"),
    ] {
        get(&f.app, &path, Who::Police)
            .await
            .assert_taxii_error(404);
    }

    // A new MY indicator, enriched and routed: cert polling with added_after gets it
    // alone; an indicator now withheld by the gate (RED) never shows.
    ingest(
        &*store,
        &[
            indicator(10, "203.0.113.70", Tlp::Green),
            indicator(11, "203.0.113.71", Tlp::Red),
        ],
    );
    let again = deliver(&f);
    let cert = again.iter().find(|d| d.recipient == "cert").unwrap();
    assert_eq!((cert.added, cert.removed), (2, 0));
    let (new, _) = read_all(&f, ROUTED_CERT, Who::Cert, last.as_deref()).await;
    assert_eq!(
        ids(&new),
        BTreeSet::from([format!("indicator--{}", uuid(10))])
    );
    // Delivering again without change adds nothing.
    let same = deliver(&f);
    assert!(
        same.iter().all(|d| d.added == 0 && d.removed == 0),
        "{same:?}"
    );
}

//! A partner's trend cells, kept between its queries beside its release views, are
//! at every moment those of a pass over what the gate releases to it
//! (`trends::partner_cells_by_pass`): generated histories of new versions in two
//! collections, removals, agreements replaced (scoped by TLP, by type, by country)
//! and enrichment runs (new databases, incremental runs), in any order.

use std::sync::Arc;

use accord_agreements::{Agreement, Gate, Tlp};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_node::trends::partner_cells_by_pass;
use accord_store::{
    AddressEnrichment, EnrichmentSource, Provenance, SqliteStore, Store, VersionFilter,
};
use proptest::prelude::*;

use crate::egress::{uuid, CENTRE, TELCO};
use crate::located::sorted;

const PROVIDERS: [&str; 3] = [TELCO, "isp", "bank"];
const COLLECTIONS: [&str; 2] = ["c2", "phishing"];
const DIMENSIONS: [&str; 6] = ["type", "provider", "family", "technique", "country", "asn"];

/// The objects a history is made of, by index: indicators 0–3, sightings 4–6 (of
/// indicators 0, 1 and the infrastructure), infrastructure 7, malware 8, attack
/// pattern 9, relationships 10–14 (to the malware or the attack pattern).
const OBJECTS: u32 = 15;

fn id(object: u32) -> String {
    let kind = match object {
        0..=3 => "indicator",
        4..=6 => "sighting",
        7 => "infrastructure",
        8 => "malware",
        9 => "attack-pattern",
        _ => "relationship",
    };
    format!("{kind}--{}", uuid(900 + object))
}

/// Version `version` (0–2) of `object`, marked `tlp`: versions differ in what trends
/// read (day, address, count, names), so which version counts shows.
fn text(object: u32, version: u32, tlp: Tlp) -> String {
    let own = id(object);
    let day = 1 + (object + version) % 4;
    let common = format!(
        r#""spec_version":"2.1","id":"{own}","created":"2026-03-0{day}T00:00:00.000Z","modified":"2026-03-0{day}T00:0{version}:00.000Z","object_marking_refs":["{}"]"#,
        tlp.marking_id()
    );
    match object {
        0..=3 => {
            let pattern = if (object + version) % 5 == 4 {
                format!("[domain-name:value = 'c{object}.example']")
            } else {
                format!(
                    "[ipv4-addr:value = '198.51.100.{}']",
                    1 + (object + version) % 4
                )
            };
            format!(
                r#"{{"type":"indicator",{common},"pattern":"{pattern}","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z"}}"#
            )
        }
        4..=6 => {
            let target = match object {
                4 => id(0),
                5 => id(1),
                _ => id(7),
            };
            // Victims: none named (the provider's own), a shared identity, or an
            // identity of its own (named twice) and the shared one, with a location
            // (not a victim) between them.
            let victims = match (object + version) % 3 {
                0 => String::new(),
                1 => format!(r#","where_sighted_refs":["identity--{}"]"#, uuid(950)),
                _ => format!(
                    r#","where_sighted_refs":["identity--{0}","location--{1}","identity--{2}","identity--{0}"]"#,
                    uuid(950 + object),
                    uuid(960),
                    uuid(950)
                ),
            };
            format!(
                r#"{{"type":"sighting",{common},"first_seen":"2026-03-0{day}T00:00:00Z","count":{}{victims},"sighting_of_ref":"{target}"}}"#,
                1 + version * 3
            )
        }
        7 => format!(
            r#"{{"type":"infrastructure",{common},"name":"c2","infrastructure_types":["{}"]}}"#,
            ["command-and-control", "botnet", "hosting-malware"][version as usize % 3]
        ),
        8 => format!(
            r#"{{"type":"malware",{common},"name":"{}","is_family":true}}"#,
            ["Emotet", "Qakbot", "Mirai"][version as usize % 3]
        ),
        9 => format!(
            r#"{{"type":"attack-pattern",{common},"name":"Application Layer Protocol","external_references":[{{"source_name":"mitre-attack","external_id":"T107{version}"}}]}}"#
        ),
        _ => {
            let (source, target) = match object {
                10 => (0, 8),
                11 => (1, 8),
                12 => (7, 8),
                13 => (7, 9),
                _ => (2, 9),
            };
            format!(
                r#"{{"type":"relationship",{common},"relationship_type":"indicates","source_ref":"{}","target_ref":"{}"}}"#,
                id(source),
                id(target)
            )
        }
    }
}

/// What the centre may read: each provider's agreement, scoped by one of these.
const SCOPES: [&str; 4] = [
    r#"max_tlp = "AMBER""#,
    r#"max_tlp = "GREEN""#,
    "max_tlp = \"AMBER\"\ntypes = [\"indicator\", \"infrastructure\", \"relationship\", \"malware\", \"attack-pattern\"]",
    "max_tlp = \"AMBER\"\ncountries = [\"MY\"]",
];

fn agreement(provider: &str, scope: &str) -> Agreement {
    let types = if scope.contains("types") {
        ""
    } else {
        r#"types = ["indicator", "sighting", "infrastructure", "relationship", "malware", "attack-pattern"]"#
    };
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
{scope}
{types}
[obligations]
onward_sharing = true
"#
    );
    Agreement::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// One step of a history.
#[derive(Debug, Clone)]
enum Step {
    /// `provider` sends these versions (object, version) into `collection`, at
    /// TLP:RED or GREEN.
    Send {
        provider: usize,
        collection: usize,
        versions: Vec<(u32, u32)>,
        red: bool,
    },
    /// Every version of `object` leaves `collection`.
    Remove { collection: usize, object: u32 },
    /// The agreements become: each provider's, scoped by `scopes[provider]`
    /// (`None`: no agreement).
    Agree { scopes: [Option<usize>; 3] },
    /// An enrichment run with database `database` (0 or 1), locating the addresses
    /// of the objects sent so far (as `accord enrich` does).
    Enrich { database: usize },
    /// The door's background refresh of every view.
    Refresh,
}

fn step() -> impl Strategy<Value = Step> {
    let scope = proptest::option::weighted(0.8, 0usize..SCOPES.len());
    prop_oneof![
        8 => (
            0usize..3,
            0usize..2,
            proptest::collection::vec((0..OBJECTS, 0u32..3), 1..5),
            proptest::bool::weighted(0.2),
        )
            .prop_map(|(provider, collection, versions, red)| Step::Send {
                provider,
                collection,
                versions,
                red,
            }),
        1 => (0usize..2, 0..OBJECTS).prop_map(|(collection, object)| Step::Remove { collection, object }),
        1 => [scope.clone(), scope.clone(), scope].prop_map(|scopes| Step::Agree { scopes }),
        1 => (0usize..2).prop_map(|database| Step::Enrich { database }),
        1 => Just(Step::Refresh),
    ]
}

/// Where database `database` places address `n` (198.51.100.n): `None` unknown.
fn place(database: usize, n: u32) -> Option<(&'static str, u32)> {
    match (database, n) {
        (0, 1 | 2) => Some(("MY", 4788)),
        (0, 3) => Some(("NL", 1136)),
        (1, 1) => Some(("NL", 1136)),
        (1, 2 | 4) => Some(("MY", 4788)),
        _ => None,
    }
}

fn enrich(store: &SqliteStore, database: usize, sent: &std::collections::BTreeSet<u32>) {
    let source = EnrichmentSource {
        role: "country".into(),
        path: format!("db{database}.mmdb"),
        database_type: "Test".into(),
        build_epoch: database as u64,
        node_count: 1,
    };
    let recompute = store
        .enrichment_state()
        .unwrap()
        .is_none_or(|s| s.sources != vec![source.clone()]);
    let rows: Vec<AddressEnrichment> = sent
        .iter()
        .map(|&n| AddressEnrichment {
            address: format!("198.51.100.{n}"),
            country: place(database, n).map(|(c, _)| c.to_string()),
            asn: place(database, n).map(|(_, a)| a),
            as_name: None,
        })
        .collect();
    let head = store.feed_heads().unwrap().objects;
    store
        .put_enrichment(recompute, &[source], head, &rows, &[])
        .unwrap();
}

fn gate(scopes: &[Option<usize>; 3]) -> Gate {
    let agreements: Vec<Agreement> = scopes
        .iter()
        .zip(PROVIDERS)
        .filter_map(|(scope, provider)| scope.map(|s| agreement(provider, SCOPES[s])))
        .collect();
    Gate::new(agreements).expect("gate")
}

/// The kept cells and the pass agree on every dimension.
fn check(store: &SqliteStore, door: &Egress, at: usize) -> Result<(), TestCaseError> {
    let centre = Recipient::new(CENTRE);
    for dimension in DIMENSIONS {
        let kept = door
            .partner_trend_cells(&centre, dimension, i64::MIN)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let pass = partner_cells_by_pass(store, door, &centre, dimension, i64::MIN)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(
            sorted(kept),
            sorted(pass),
            "{} after step {}",
            dimension,
            at
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn kept_partner_cells_are_the_pass_over_what_is_released(
        steps in proptest::collection::vec(step(), 1..24),
        check_every in 1usize..4,
        kept_from_start in proptest::bool::ANY,
    ) {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        // Kept from the views' start (`accord serve`'s default), the background
        // refresh files what the views release; else the first check does.
        let door = Egress::new(store.clone(), TELCO)
            .with_gate(gate(&[Some(0), Some(0), Some(0)]))
            .with_readers(Readers::everyone())
            .keeping_partner_trends(kept_from_start);
        // The last octets of the addresses sent so far.
        let mut sent = std::collections::BTreeSet::new();
        for (at, step) in steps.iter().enumerate() {
            match step {
                Step::Send { provider, collection, versions, red } => {
                    let tlp = if *red { Tlp::Red } else { Tlp::Green };
                    let texts: Vec<String> = versions
                        .iter()
                        .map(|&(object, version)| text(object, version, tlp))
                        .collect();
                    for t in &texts {
                        if let Some(at) = t.find("198.51.100.") {
                            sent.extend(t[at + 11..at + 12].parse::<u32>().ok());
                        }
                    }
                    let results = ingest_batch(
                        &*store,
                        &texts,
                        &Provenance::new(PROVIDERS[*provider], "test"),
                        Some(COLLECTIONS[*collection]),
                        &IngestOptions::default(),
                    )
                    .unwrap();
                    prop_assert!(results.iter().all(|r| r.is_stored()), "{:?}", results);
                }
                &Step::Remove { collection, object } => {
                    store
                        .remove_from_collection(
                            COLLECTIONS[collection],
                            &id(object),
                            &VersionFilter::all(),
                            None,
                        )
                        .unwrap();
                }
                Step::Agree { scopes } => door.set_gate(gate(scopes)),
                &Step::Enrich { database } => {
                    enrich(&store, database, &sent);
                    door.redecide_views();
                }
                Step::Refresh => {
                    door.refresh_views().unwrap();
                }
            }
            if at % check_every == 0 {
                check(&store, &door, at)?;
            }
        }
        check(&store, &door, steps.len())?;
    }
}

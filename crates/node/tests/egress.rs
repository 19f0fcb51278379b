//! The door, end to end over a real store: what partners receive, in what form, and the
//! ledger entry of every release.

use std::sync::Arc;

use accord_agreements::ledger::Verifier;
use accord_agreements::{Agreement, Gate, Tlp};
use accord_node::egress::ledger::decode_record;
use accord_node::egress::{Egress, Readers, Recipient, Released};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_store::{ObjectQuery, Provenance, Scope, SqliteStore, Store, VersionFilter};

pub const TELCO: &str = "telco";
pub const CENTRE: &str = "centre";
pub const COLLECTION: &str = "c2";
/// A test key (hex, 32 bytes) for pseudonymisation.
pub const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub fn store() -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open_in_memory().expect("store"))
}

pub fn ingest(store: &SqliteStore, provider: &str, objects: &[String]) {
    let results = ingest_batch(
        store,
        objects,
        &Provenance::new(provider, "test"),
        Some(COLLECTION),
        &IngestOptions::default(),
    )
    .expect("ingest");
    for r in results {
        assert!(r.is_stored(), "{r:?}");
    }
}

pub fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

pub fn indicator(n: u32, tlp: Option<Tlp>, labels: &[&str], ip: &str) -> String {
    let markings = tlp.map_or(String::new(), |t| {
        format!(r#","object_marking_refs":["{}"]"#, t.marking_id())
    });
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!(
            r#","labels":[{}]"#,
            labels
                .iter()
                .map(|l| format!("\"{l}\""))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","description":"C2 seen talking to {ip}"{markings}{labels}}}"#,
        uuid(n)
    )
}

pub fn malware(n: u32, tlp: Tlp) -> String {
    format!(
        r#"{{"type":"malware","spec_version":"2.1","id":"malware--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"m{n}","is_family":true,"labels":["c2"],"object_marking_refs":["{}"]}}"#,
        uuid(n),
        tlp.marking_id()
    )
}

pub fn relationship(n: u32, source: &str, target: &str) -> String {
    format!(
        r#"{{"type":"relationship","spec_version":"2.1","id":"relationship--{}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"{source}","target_ref":"{target}","object_marking_refs":["{}"]}}"#,
        uuid(n),
        Tlp::Green.marking_id()
    )
}

pub fn ipv4(value: &str) -> String {
    let id = accord_agreements::sco_id("ipv4-addr", value);
    format!(r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"{id}","value":"{value}"}}"#)
}

/// An agreement from TELCO to CENTRE with the given scope and protections (TOML lines).
pub fn agreement(scope: &str, protections: &str) -> Agreement {
    agreement_to(CENTRE, scope, protections)
}

/// An agreement from TELCO to `recipient` with the given scope and protections.
pub fn agreement_to(recipient: &str, scope: &str, protections: &str) -> Agreement {
    let types = if scope.contains("types") {
        ""
    } else {
        r#"types = ["indicator", "malware", "relationship", "ipv4-addr"]"#
    };
    let text = format!(
        r#"
id = "telco-{recipient}"
version = 1
provider = {{ id = "{TELCO}" }}
recipient = {{ id = "{recipient}" }}
purpose = "Joint operation against DDoS C2"
legal_basis = "MoU clause 4"
[validity]
from = 2020-01-01T00:00:00Z
[scope]
{scope}
{types}
[protections]
{protections}
[obligations]
onward_sharing = true
"#
    );
    match Agreement::from_toml(&text) {
        Ok(a) => a,
        Err(e) => panic!("{e}\n{text}"),
    }
}

pub fn door(store: &Arc<SqliteStore>, agreements: Vec<Agreement>) -> Egress {
    let gate = Gate::new(agreements).expect("gate");
    Egress::new(store.clone(), TELCO)
        .with_gate(gate)
        .with_readers(Readers::everyone())
}

pub fn everything(
    door: &Egress,
    org: &str,
    limit: usize,
) -> Vec<accord_node::egress::ReleasedObject> {
    let mut query = ObjectQuery::new(Scope::Collection(COLLECTION.into()), limit);
    query.versions = VersionFilter::all();
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let Released {
            objects,
            more,
            next,
            ..
        } = door
            .objects(&Recipient::new(org), &query, token.as_deref())
            .expect("egress");
        assert!(objects.len() <= limit);
        out.extend(objects);
        match (more, next) {
            (true, Some(n)) => token = Some(n),
            _ => return out,
        }
    }
}

/// Every ledger entry, checked as a chain.
pub fn ledger(store: &SqliteStore) -> Vec<accord_agreements::LedgerEntry> {
    let records = store.ledger_scan(0, usize::MAX).expect("ledger");
    let mut verifier = Verifier::new();
    records
        .iter()
        .map(|r| {
            let entry = decode_record(r).expect("decodes");
            verifier.push(&entry).expect("chain holds");
            entry
        })
        .collect()
}

#[test]
fn without_an_agreement_a_partner_receives_nothing_and_the_owner_everything() {
    let store = store();
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Some(Tlp::Clear), &["c2"], "192.0.2.1"),
            malware(2, Tlp::Clear),
        ],
    );
    let door = door(&store, Vec::new());
    assert!(everything(&door, CENTRE, 10).is_empty());
    let manifest = door
        .manifest(
            &Recipient::new(CENTRE),
            &ObjectQuery::new(Scope::Collection(COLLECTION.into()), 10),
            None,
        )
        .unwrap();
    assert!(manifest.objects.is_empty(), "not even in the manifest");
    assert_eq!(everything(&door, TELCO, 10).len(), 2);
    assert!(ledger(&store).is_empty(), "local reads are not releases");
}

#[test]
fn the_agreement_scope_decides_and_every_release_is_in_the_ledger() {
    let store = store();
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Some(Tlp::Green), &["c2"], "192.0.2.1"),
            indicator(2, Some(Tlp::Red), &["c2"], "192.0.2.2"),
            indicator(3, Some(Tlp::Clear), &["phishing"], "192.0.2.3"),
            malware(4, Tlp::Green),
            indicator(5, None, &["c2"], "192.0.2.5"),
        ],
    );
    let door = door(
        &store,
        vec![agreement(
            r#"types = ["indicator"]
labels = ["c2"]
max_tlp = "GREEN"
unmarked_tlp = "AMBER""#,
            "",
        )],
    );
    let got = everything(&door, CENTRE, 10);
    let ids: Vec<_> = got.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [format!("indicator--{}", uuid(1))]);
    let entries = ledger(&store);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].recipient, CENTRE);
    assert_eq!(entries[0].object_id, ids[0]);
    assert_eq!(entries[0].agreement_id, "telco-centre");
    assert_eq!(entries[0].purpose, "Joint operation against DDoS C2");
    use sha2::Digest as _;
    let sha: [u8; 32] = sha2::Sha256::digest(got[0].json.as_bytes()).into();
    assert_eq!(
        entries[0].released_sha256, sha,
        "the ledger holds the hash of the bytes sent"
    );
    // A manifest makes the same decisions but releases no content.
    let manifest = door
        .manifest(
            &Recipient::new(CENTRE),
            &ObjectQuery::new(Scope::Collection(COLLECTION.into()), 10),
            None,
        )
        .unwrap();
    assert_eq!(
        manifest
            .objects
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ids
    );
    assert!(manifest.objects[0].json.is_empty());
    assert_eq!(ledger(&store).len(), 1, "a manifest adds no ledger entry");
}

#[test]
fn relationships_to_withheld_objects_are_withheld() {
    let store = store();
    let shared = format!("indicator--{}", uuid(1));
    let secret = format!("malware--{}", uuid(2));
    let public = format!("malware--{}", uuid(3));
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Some(Tlp::Green), &["c2"], "192.0.2.1"),
            malware(2, Tlp::Red),
            malware(3, Tlp::Green),
            relationship(10, &shared, &secret),
            relationship(11, &shared, &public),
        ],
    );
    let door = door(&store, vec![agreement(r#"max_tlp = "GREEN""#, "")]);
    let got: Vec<_> = everything(&door, CENTRE, 10)
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert!(got.contains(&shared) && got.contains(&public));
    assert!(!got.contains(&secret));
    assert!(got.contains(&format!("relationship--{}", uuid(11))));
    assert!(
        !got.contains(&format!("relationship--{}", uuid(10))),
        "points at a withheld object"
    );
}

#[test]
fn customer_addresses_never_leave_in_clear() {
    let store = store();
    let customer = "198.51.100.77";
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Some(Tlp::Green), &["c2"], customer),
            ipv4(customer),
            ipv4("192.0.2.9"),
        ],
    );
    std::env::set_var("ACCORD_TEST_EGRESS_KEY", KEY_HEX);
    let agreement = agreement(
        r#"max_tlp = "GREEN"
unmarked_tlp = "GREEN""#,
        r#"customer_ranges = ["198.51.100.0/24"]
pseudonym_key_env = "ACCORD_TEST_EGRESS_KEY""#,
    )
    .with_key(accord_agreements::PseudonymKey::from_hex(KEY_HEX).unwrap());
    let door = door(&store, vec![agreement]);
    let got = everything(&door, CENTRE, 10);
    assert_eq!(got.len(), 3);
    for object in &got {
        assert!(!object.json.contains(customer), "leaked: {}", object.json);
    }
    let customer_sco = accord_agreements::sco_id("ipv4-addr", customer);
    assert!(
        got.iter().all(|o| o.id != customer_sco),
        "the SCO id is derived from the address"
    );
    assert!(
        got.iter().any(|o| o.json.contains("192.0.2.9")),
        "other addresses are untouched"
    );
    // Same input, same pseudonym: a second read gives the same bytes.
    assert_eq!(everything(&door, CENTRE, 10), got);
}

#[test]
fn embargoed_objects_wait() {
    let store = store();
    ingest(
        &store,
        TELCO,
        &[indicator(1, Some(Tlp::Green), &["c2"], "192.0.2.1")],
    );
    let door = door(
        &store,
        vec![agreement(r#"max_tlp = "GREEN""#, r#"embargo = "24h""#)],
    );
    assert!(everything(&door, CENTRE, 10).is_empty());
}

/// Pages hold released objects only: when most of a collection is withheld, every page
/// is full but the last, `more` says whether more released objects follow, and no page
/// is empty with `more: true` (which would reveal a run of withheld objects).
#[test]
fn pages_are_full_of_released_objects_when_most_are_withheld() {
    let store = store();
    let mut objects = Vec::new();
    for n in 0..500 {
        let tlp = if n % 47 == 0 { Tlp::Green } else { Tlp::Red };
        objects.push(indicator(n, Some(tlp), &["c2"], "192.0.2.1"));
    }
    ingest(&store, TELCO, &objects);
    let door = door(&store, vec![agreement(r#"max_tlp = "GREEN""#, "")]);
    let limit = 4;
    let query = ObjectQuery::new(Scope::Collection(COLLECTION.into()), limit);
    let mut pages = Vec::new();
    let mut released = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = door
            .objects(&Recipient::new(CENTRE), &query, token.as_deref())
            .unwrap();
        pages.push((page.objects.len(), page.more));
        released.extend(page.objects.iter().map(|o| o.id.clone()));
        match (page.more, page.next) {
            (true, Some(n)) => token = Some(n),
            _ => break,
        }
    }
    assert_eq!(pages, [(4, true), (4, true), (3, false)]);
    // Exactly the GREEN ones, in order: the 500 entries are judged on several threads
    // (one batch of a refresh), and each judgement must land on its own entry.
    let green: Vec<String> = (0..500)
        .filter(|n| n % 47 == 0)
        .map(|n| format!("indicator--{}", uuid(n)))
        .collect();
    assert_eq!(released, green);
}

/// A `next` token opens only for the recipient and collection it was issued to, and
/// survives a new door over the same store (a restart).
#[test]
fn next_tokens_are_bound_to_their_reader_and_survive_a_restart() {
    let store = store();
    let objects: Vec<_> = (0..6)
        .map(|n| indicator(n, Some(Tlp::Green), &["c2"], "192.0.2.1"))
        .collect();
    ingest(&store, TELCO, &objects);
    let agreements = || vec![agreement(r#"max_tlp = "GREEN""#, "")];
    let first = door(&store, agreements());
    let query = ObjectQuery::new(Scope::Collection(COLLECTION.into()), 2);
    let page = first
        .objects(&Recipient::new(CENTRE), &query, None)
        .unwrap();
    let token = page.next.expect("more follow");
    let restarted = door(&store, agreements());
    let second = restarted
        .objects(&Recipient::new(CENTRE), &query, Some(&token))
        .unwrap();
    assert_eq!(second.objects.len(), 2);
    assert!(second.objects[0].date_added > page.objects[1].date_added);
    let foreign = restarted.objects(&Recipient::new("police"), &query, Some(&token));
    assert!(
        matches!(
            foreign,
            Err(accord_node::egress::EgressError::InvalidNext(_))
        ),
        "{foreign:?}"
    );
    let local = restarted.objects(&Recipient::new(TELCO), &query, Some(&token));
    assert!(matches!(
        local,
        Err(accord_node::egress::EgressError::InvalidNext(_))
    ));
}

#[test]
fn concurrent_readers_share_one_unbroken_chain() {
    let store = store();
    let objects: Vec<_> = (0..50)
        .map(|n| indicator(n, Some(Tlp::Green), &["c2"], "192.0.2.1"))
        .collect();
    ingest(&store, TELCO, &objects);
    let door = Arc::new(door(&store, vec![agreement(r#"max_tlp = "GREEN""#, "")]));
    std::thread::scope(|s| {
        for _ in 0..4 {
            let door = door.clone();
            s.spawn(move || {
                for _ in 0..5 {
                    assert_eq!(everything(&door, CENTRE, 7).len(), 50);
                }
            });
        }
    });
    assert_eq!(ledger(&store).len(), 4 * 5 * 50);
}

/// Facts stored by an older build are re-extracted when a writer opens the store: a
/// gate deciding with them would miss what the current extraction finds (here, a
/// customer address the old facts did not list), and release it in clear.
#[test]
fn stale_facts_are_re_extracted_before_the_gate_reads_them() {
    let store = store();
    let customer = "198.51.100.78";
    ingest(
        &store,
        TELCO,
        &[indicator(1, Some(Tlp::Green), &["c2"], customer)],
    );
    // An older build's extraction: it did not see this address.
    store
        .refresh_facts(0, &mut |json| {
            let object = serde_json::from_str(&json.replace(customer, "c2.example")).ok()?;
            Some(accord_agreements::ObjectFacts::extract(&object).to_column())
        })
        .expect("old facts");
    assert!(accord_node::facts::check_current(&*store).is_err());
    std::env::set_var("ACCORD_TEST_EGRESS_KEY", KEY_HEX);
    let agreement = || {
        agreement(
            r#"max_tlp = "GREEN""#,
            r#"customer_ranges = ["198.51.100.0/24"]
pseudonym_key_env = "ACCORD_TEST_EGRESS_KEY""#,
        )
        .with_key(accord_agreements::PseudonymKey::from_hex(KEY_HEX).unwrap())
    };
    // The gate trusts the stored facts: with the old ones, the address goes out.
    let stale = everything(&door(&store, vec![agreement()]), CENTRE, 10);
    assert!(stale[0].json.contains(customer));

    assert_eq!(accord_node::facts::refresh(&*store).expect("refresh"), 1);
    assert_eq!(
        store.facts_extraction().unwrap(),
        accord_node::facts::EXTRACTION
    );
    accord_node::facts::check_current(&*store).expect("current");
    assert_eq!(accord_node::facts::refresh(&*store).expect("again"), 0);
    let got = everything(&door(&store, vec![agreement()]), CENTRE, 10);
    assert_eq!(got.len(), 1);
    assert!(!got[0].json.contains(customer), "leaked: {}", got[0].json);
}

/// `refresh_views` reads the store's new versions once for all the views and hands
/// them to each: every view still decides again what depended on a new version stored
/// anywhere. Two partners' views withhold a relationship whose target, a malware held
/// outside the collection, is TLP:RED; a new version of the malware at TLP:GREEN,
/// stored outside the collection too, releases the relationship in both (were the runs
/// handed over but not acted on, the views would have moved past them and kept it
/// withheld).
#[test]
fn every_view_decides_again_what_a_new_version_changes() {
    const CERT: &str = "cert-my";
    let store = store();
    let indicator_id = format!("indicator--{}", uuid(1));
    let malware_id = format!("malware--{}", uuid(2));
    let elsewhere = |object: String| {
        let stored = ingest_batch(
            &*store,
            &[object],
            &Provenance::new(TELCO, "test"),
            Some("elsewhere"),
            &IngestOptions::default(),
        )
        .expect("ingest");
        assert!(stored[0].is_stored(), "{stored:?}");
    };
    elsewhere(malware(2, Tlp::Red));
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Some(Tlp::Green), &["c2"], "192.0.2.1"),
            relationship(10, &indicator_id, &malware_id),
        ],
    );
    let to_cert = agreement_to(CERT, r#"max_tlp = "GREEN""#, "");
    let door = door(&store, vec![agreement(r#"max_tlp = "GREEN""#, ""), to_cert]);
    let relationship_id = format!("relationship--{}", uuid(10));
    let has = |org: &str| {
        everything(&door, org, 10)
            .iter()
            .any(|o| o.id == relationship_id)
    };
    // Two partners, each reading both collections.
    assert_eq!(door.refresh_views().expect("refresh").views, 4);
    for org in [CENTRE, CERT] {
        assert!(!has(org), "{org}: its target is RED");
    }
    elsewhere(format!(
        r#"{{"type":"malware","spec_version":"2.1","id":"{malware_id}","created":"2026-01-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z","name":"m2","is_family":true,"labels":["c2"],"object_marking_refs":["{}"]}}"#,
        Tlp::Green.marking_id()
    ));
    door.refresh_views().expect("refresh");
    for org in [CENTRE, CERT] {
        assert!(has(org), "{org}: its target is GREEN now");
    }
}

/// `accord serve` keeps every partner's release view decided (`refresh_views`): a
/// partner's first request, or one after an ingest, then finds its entries decided
/// (withheld ones included), so its wait does not measure what the collection holds.
#[test]
fn views_are_decided_before_partners_ask() {
    let store = store();
    let mut objects = Vec::new();
    for n in 0..300 {
        let tlp = if n % 3 == 0 { Tlp::Green } else { Tlp::Red };
        objects.push(indicator(n, Some(tlp), &["c2"], "192.0.2.1"));
    }
    ingest(&store, TELCO, &objects);
    let door = door(&store, vec![agreement(r#"max_tlp = "GREEN""#, "")]);
    let first = door.refresh_views().expect("refresh");
    assert_eq!(first.views, 1, "one partner, one collection it may read");
    assert_eq!(
        first.entries_decided, 300,
        "withheld entries are decided too"
    );
    assert_eq!(door.refresh_views().expect("refresh").entries_decided, 0);

    // The partner's pull finds nothing left to decide, and gets what it would have.
    assert_eq!(everything(&door, CENTRE, 7).len(), 100);
    assert_eq!(door.refresh_views().expect("refresh").entries_decided, 0);

    ingest(
        &store,
        TELCO,
        &[
            indicator(1_000, Some(Tlp::Red), &["c2"], "192.0.2.2"),
            indicator(1_001, Some(Tlp::Green), &["c2"], "192.0.2.3"),
        ],
    );
    assert_eq!(door.refresh_views().expect("refresh").entries_decided, 2);
    assert_eq!(everything(&door, CENTRE, 7).len(), 101);

    // Only the collections a partner may read get a view.
    let mut readers = Readers::none();
    readers.grant("another-collection", CENTRE);
    door.set_readers(readers);
    let other = door.refresh_views().expect("refresh");
    assert_eq!((other.views, other.entries_decided), (1, 0));
    door.set_readers(Readers::none());
    assert_eq!(door.refresh_views().expect("refresh").views, 0);
}

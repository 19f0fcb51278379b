//! Gate cost per object: the fast path (stored text released untouched) against
//! the transform paths (obligations marking + retention, pseudonymisation),
//! plus the ingest-time facts extraction and a ledger append.
//!
//! Run: `cargo bench -p accord-agreements --bench gate`

use std::collections::HashMap;

use accord_agreements::ledger::{ChainHead, LedgerDraft};
use accord_agreements::{
    Agreement, Decision, Gate, NoObjects, ObjectFacts, ObjectVersion, PseudonymKey, ResolvedObject,
    UtcMicros,
};
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

const HEADER: &str = r#"
version = 1
provider = { id = "telco" }
recipient = { id = "centre" }
purpose = "Joint operation against DDoS C2 infrastructure"
legal_basis = "MoU clause 4"
validity = { from = 2026-01-01T00:00:00Z }
"#;

fn read_all() -> Gate {
    let text = format!("id = \"read-all\"\n{HEADER}\nobligations = {{ onward_sharing = true }}\nscope = {{ types = [\"*\"], max_tlp = \"RED\" }}\n");
    Gate::new([Agreement::from_toml(&text).unwrap()]).unwrap()
}

fn protective() -> Gate {
    let text = format!(
        "id = \"telco\"\n{HEADER}\nobligations = {{ retention = \"180d\" }}\n\
         scope = {{ types = [\"*\"], max_tlp = \"AMBER\", labels = [\"c2\"], min_confidence = 50 }}\n\
         [protections]\ncustomer_ranges = [\"198.51.100.0/24\", \"2001:db8:4000::/36\"]\npseudonym_key_env = \"K\"\n\
         remove_properties = [\"x_telco_ticket\"]\nembargo = \"24h\"\n"
    );
    let a = Agreement::from_toml(&text)
        .unwrap()
        .with_key(PseudonymKey::from_bytes(&[9; 32]).unwrap());
    Gate::new([a]).unwrap()
}

/// A typical C2 indicator (about 600 bytes).
const INDICATOR: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-02-01T10:00:00.000Z","modified":"2026-02-01T10:00:00.000Z","name":"DDoS botnet C2 server","description":"Command-and-control server of a DDoS botnet, seen beaconing from compromised hosts.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '192.0.2.45'] OR [domain-name:value = 'c2.example.net']","pattern_type":"stix","valid_from":"2026-02-01T10:00:00Z","labels":["c2","ddos"],"confidence":85,"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}]}"#;

fn customer_indicator() -> String {
    INDICATOR.replace("192.0.2.45", "198.51.100.45")
}

struct Object {
    raw: String,
    facts: ObjectFacts,
}

fn object(raw: String) -> Object {
    let facts = ObjectFacts::extract(&serde_json::from_str(&raw).unwrap());
    Object { raw, facts }
}

fn now() -> UtcMicros {
    UtcMicros::parse("2026-06-15T12:00:00Z").unwrap()
}

fn version(o: &Object) -> ObjectVersion<'_> {
    ObjectVersion {
        facts: &o.facts,
        provider: "telco",
        collection: None,
        date_added: UtcMicros::parse("2026-02-01T10:00:00Z").unwrap(),
        raw: &o.raw,
    }
}

fn run(
    bencher: Bencher,
    gate: Gate,
    o: Object,
    resolver: &(dyn accord_agreements::ReferenceResolver + Sync),
) {
    let view = gate.view("centre", now());
    assert!(view.decide(&version(&o), resolver).is_release());
    bencher
        .counter(divan::counter::BytesCount::new(o.raw.len()))
        .bench_local(|| match view.decide(black_box(&version(&o)), resolver) {
            Decision::Release(r) => r.bytes.len(),
            Decision::Withhold(_) => 0,
        });
}

#[divan::bench]
fn fast_path_read_all(bencher: Bencher) {
    run(
        bencher,
        read_all(),
        object(INDICATOR.to_owned()),
        &NoObjects,
    );
}

#[divan::bench]
fn fast_path_protective_agreement_no_obligations(bencher: Bencher) {
    // Scope, TLP, labels, confidence, embargo and the customer-range check, no change.
    let text = format!(
        "id = \"p\"\n{HEADER}\nobligations = {{ onward_sharing = true }}\n\
         scope = {{ types = [\"*\"], max_tlp = \"AMBER\", labels = [\"c2\"], min_confidence = 50 }}\n\
         [protections]\ncustomer_ranges = [\"198.51.100.0/24\"]\npseudonym_key_env = \"K\"\nembargo = \"24h\"\n"
    );
    let a = Agreement::from_toml(&text)
        .unwrap()
        .with_key(PseudonymKey::from_bytes(&[9; 32]).unwrap());
    run(
        bencher,
        Gate::new([a]).unwrap(),
        object(INDICATOR.to_owned()),
        &NoObjects,
    );
}

#[divan::bench]
fn transform_obligations_and_retention(bencher: Bencher) {
    run(
        bencher,
        protective(),
        object(INDICATOR.to_owned()),
        &NoObjects,
    );
}

#[divan::bench]
fn transform_pseudonymise_customer_ip(bencher: Bencher) {
    run(
        bencher,
        protective(),
        object(customer_indicator()),
        &NoObjects,
    );
}

fn relationship_world() -> (Object, HashMap<String, ResolvedObject>) {
    let rel = r#"{"type":"relationship","spec_version":"2.1","id":"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad","created":"2026-02-01T10:00:00.000Z","modified":"2026-02-01T10:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}"#;
    let malware = r#"{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2026-02-01T10:00:00.000Z","modified":"2026-02-01T10:00:00.000Z","name":"Mirai variant","is_family":true,"labels":["ddos"]}"#;
    let mut resolver = HashMap::new();
    for raw in [INDICATOR, malware] {
        let facts = ObjectFacts::extract(&serde_json::from_str(raw).unwrap());
        resolver.insert(
            facts.id.clone(),
            ResolvedObject {
                facts,
                provider: "telco".into(),
                collection: None,
                date_added: UtcMicros(0),
                raw: Some(raw.into()),
            },
        );
    }
    (object(rel.to_owned()), resolver)
}

#[divan::bench]
fn fast_path_relationship_two_resolved_refs(bencher: Bencher) {
    let (rel, resolver) = relationship_world();
    run(bencher, read_all(), rel, &resolver);
}

#[divan::bench]
fn recipient_view_build(bencher: Bencher) {
    let gate = protective();
    bencher.bench_local(|| gate.view(black_box("centre"), now()));
}

#[divan::bench]
fn ingest_facts_extract(bencher: Bencher) {
    let value: serde_json::Value = serde_json::from_str(INDICATOR).unwrap();
    bencher.bench_local(|| ObjectFacts::extract(black_box(&value)));
}

/// A report with 2 KB of prose, timestamps, ids and a few addresses: the scanner's
/// share of ingest on text-heavy objects.
#[divan::bench]
fn ingest_facts_extract_prose(bencher: Bencher) {
    let prose = "The actor used compromised routers to relay traffic; beaconing was seen \
        every 60 seconds from 192.0.2.45 and later from hxxp://c2[.]example[.]net/gate.php. \
        Version 2.1.4 of the loader, build 10.0.19041, dropped a.bin (sha256 \
        9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08). ";
    let value = serde_json::json!({
        "type": "report", "spec_version": "2.1",
        "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        "created": "2026-02-01T10:00:00.000Z", "modified": "2026-02-01T10:00:00.000Z",
        "name": "Botnet infrastructure, February", "published": "2026-02-01T10:00:00Z",
        "description": prose.repeat(5),
        "object_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                        "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"]
    });
    bencher
        .counter(divan::counter::BytesCount::new(value.to_string().len()))
        .bench_local(|| ObjectFacts::extract(black_box(&value)));
}

/// A sighting as a bulk load carries them by the hundred thousand: nothing but ids and
/// timestamps, every one of which the scanner reads.
#[divan::bench]
fn ingest_facts_extract_sighting(bencher: Bencher) {
    let value = serde_json::json!({
        "type": "sighting", "spec_version": "2.1",
        "id": "sighting--9a8a018c-31b0-443f-8d28-d549ee369d78",
        "created": "2026-02-13T22:43:04.000Z", "modified": "2026-02-13T22:43:04.000Z",
        "sighting_of_ref": "indicator--aca94fb0-1b17-4343-8f87-27970b27e157",
        "first_seen": "2026-02-12T22:50:48.000Z"
    });
    bencher.bench_local(|| ObjectFacts::extract(black_box(&value)));
}

/// The scanner alone on one id and on one timestamp.
#[divan::bench(args = ["indicator--aca94fb0-1b17-4343-8f87-27970b27e157", "2026-02-12T22:50:48.000Z"])]
fn ipscan_visit(bencher: Bencher, text: &str) {
    bencher.bench_local(|| {
        let mut readings = 0;
        accord_agreements::ipscan::visit(black_box(text), &mut |_| readings += 1);
        readings
    });
}

#[divan::bench]
fn ingest_facts_column_decode(bencher: Bencher) {
    let column = object(INDICATOR.to_owned()).facts.to_column();
    bencher.bench_local(|| ObjectFacts::from_column(black_box(&column)).unwrap());
}

#[divan::bench]
fn ledger_append(bencher: Bencher) {
    let draft = LedgerDraft {
        time: now(),
        recipient: "centre".into(),
        object_id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into(),
        released_id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into(),
        object_salt: [3; 16],
        object_version: "2026-02-01T10:00:00.000Z".into(),
        agreement_id: "telco".into(),
        agreement_version: 1,
        purpose: "Joint operation against DDoS C2 infrastructure".into(),
        legal_basis: "MoU clause 4".into(),
        released_sha256: [1; 32],
    };
    let mut head = ChainHead::genesis();
    bencher.bench_local(|| head.append(black_box(draft.clone())));
}

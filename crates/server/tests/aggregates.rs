//! Aggregate answers in the ledger (issue 15, item 6): a trends or correlation answer
//! served to a partner is recorded like any release — to whom, the query, what it
//! holds, `k`, the digest of the exact bytes — and the log still verifies.

use accord_agreements::transparency::LogVerifier;
use accord_node::egress::ledger::decode_record;
use accord_store::Store;
use sha2::{Digest, Sha256};

use crate::support::*;

fn indicator(n: u32) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-01-0{n}T00:00:00.000Z","modified":"2026-01-0{n}T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.{n}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}}"#
    )
}

fn entries(store: &dyn Store) -> Vec<accord_agreements::LedgerEntry> {
    store
        .ledger_scan(0, 10_000)
        .unwrap()
        .iter()
        .map(|r| decode_record(r).unwrap())
        .collect()
}

#[tokio::test]
async fn a_partners_trends_and_correlations_are_in_the_ledger_and_the_log_verifies() {
    let f = fixture();
    let store = f.state.store().clone();
    let objects: Vec<String> = (1..=4).map(indicator).collect();
    telco_shares_with_police(&f, &objects, 2, "aggregate_min_providers = 2\n");

    // The node's own organisation reads its aggregates: nothing leaves, nothing recorded.
    let own = get(&f.app, "/intel/analytics/trends/?by=type", Who::Telco).await;
    assert_eq!(own.status.as_u16(), 200, "{}", own.body);
    assert!(entries(&*store).is_empty());

    let reply = get(
        &f.app,
        "/intel/analytics/trends/?by=type&interval=week&since=2026-01-01",
        Who::Police,
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let t = reply.json();
    assert_eq!(t["k"], 2);
    let buckets: Vec<&serde_json::Value> = t["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["buckets"].as_array().unwrap())
        .collect();
    let suppressed = buckets.iter().filter(|b| b["count"].is_null()).count();
    let all = entries(&*store);
    assert_eq!(all.len(), 1, "one entry per agreement in force");
    let e = &all[0];
    assert_eq!(e.recipient, "police");
    assert_eq!(
        e.released_id,
        "aggregate:analytics/trends?by=type&interval=week&since=2026-01-01"
    );
    assert_eq!(
        e.object_version,
        format!(
            "series={};cells={};suppressed={suppressed};k=2",
            t["series"].as_array().unwrap().len(),
            buckets.len() - suppressed
        )
    );
    assert_eq!(
        (e.agreement_id.as_str(), e.agreement_version),
        ("telco-police", 2)
    );
    let digest: [u8; 32] = Sha256::digest(reply.body.as_bytes()).into();
    assert_eq!(e.released_sha256, digest, "the digest of the bytes sent");
    assert!(reply.header("x-accord-receipt").is_some());

    let reply = get(
        &f.app,
        "/intel/analytics/correlations/?value=203.0.113.1",
        Who::Police,
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let found = reply.json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let all = entries(&*store);
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1].released_id,
        "aggregate:analytics/correlations?value=203.0.113.1&min_providers=1&limit=1000"
    );
    assert_eq!(
        all[1].object_version,
        format!(
            "values={};objects={}",
            found.as_array().unwrap().len(),
            found
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["objects"].as_array().unwrap().len())
                .sum::<usize>()
        )
    );
    let digest: [u8; 32] = Sha256::digest(reply.body.as_bytes()).into();
    assert_eq!(all[1].released_sha256, digest);

    // The log verifies as `accord ledger verify` checks it: the chain, the Merkle tree
    // the store keeps, and the signed head.
    let head = store.ledger_latest_head().unwrap().expect("a signed head");
    let mut verifier = LogVerifier::new([head.head]);
    for entry in &all {
        verifier.push(entry).unwrap();
    }
    let tree = verifier.finish().unwrap();
    let stored = store.ledger_tree().unwrap();
    assert_eq!((stored.size, stored.root), (tree.size(), tree.root()));
}

/// A partner's trends follow what arrives after its first answer: its cells are kept
/// beside its release views, and the next answer counts the new indicator.
#[tokio::test]
async fn a_partners_trends_count_what_arrives_after_its_first_answer() {
    let f = fixture();
    let store = f.state.store().clone();
    telco_shares_with_police(
        &f,
        &[indicator(1), indicator(2)],
        2,
        "aggregate_min_providers = 1\n",
    );
    let counted = |t: &serde_json::Value| -> i64 {
        t["series"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["buckets"].as_array().unwrap())
            .filter_map(|b| b["count"].as_i64())
            .sum()
    };
    let path = "/intel/analytics/trends/?by=type";
    let first = get(&f.app, path, Who::Police).await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.body);
    assert_eq!(counted(&first.json()), 2);
    let results = accord_node::ingest::ingest_batch(
        &*store,
        &[indicator(3)],
        &accord_store::Provenance::new("telco", "test"),
        Some(SHARED),
        &accord_node::ingest::IngestOptions::default(),
    )
    .unwrap();
    assert!(results.iter().all(|r| r.is_stored()));
    let second = get(&f.app, path, Who::Police).await;
    assert_eq!(second.status.as_u16(), 200, "{}", second.body);
    assert_eq!(counted(&second.json()), 3);
}

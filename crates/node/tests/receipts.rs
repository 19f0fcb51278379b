//! Receipts: every page that releases objects under an agreement comes with a receipt
//! the recipient verifies offline with the node's public key; the receipt shows the id
//! the recipient holds (a pseudonym), never the stored id behind it, and nobody else
//! can fetch it.

use std::sync::Arc;

use accord_agreements::transparency::{LedgerProof, LedgerSigner};
use accord_agreements::{Gate, Tlp};
use accord_node::egress::ledger::{receipt_proof, LedgerWriter};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_store::{ObjectQuery, Scope, Store, VersionFilter};
use sha2::{Digest, Sha256};

use crate::egress::{
    agreement, indicator, ingest, ipv4, store, CENTRE, COLLECTION, KEY_HEX, TELCO,
};

#[test]
fn each_page_gets_a_receipt_its_recipient_verifies_offline() {
    let store = store();
    let customer = "198.51.100.77";
    ingest(
        &store,
        TELCO,
        &[
            indicator(1, Some(Tlp::Green), &["c2"], "192.0.2.1"),
            ipv4(customer),
            indicator(2, Some(Tlp::Green), &["c2"], "192.0.2.2"),
        ],
    );
    let agreement = agreement(
        r#"max_tlp = "GREEN"
unmarked_tlp = "GREEN""#,
        r#"customer_ranges = ["198.51.100.0/24"]
pseudonym_key_env = "ACCORD_TEST_EGRESS_KEY""#,
    )
    .with_key(accord_agreements::PseudonymKey::from_hex(KEY_HEX).unwrap());
    let signer = Arc::new(LedgerSigner::from_seed(&[9; 32]));
    let public = signer.public_key();
    let writer = LedgerWriter::start(store.clone(), Some(signer)).unwrap();
    let door = Egress::new(store.clone(), TELCO)
        .with_gate(Gate::new([agreement]).unwrap())
        .with_readers(Readers::everyone())
        .with_ledger(writer);
    let mut query = ObjectQuery::new(Scope::Collection(COLLECTION.into()), 2);
    query.versions = VersionFilter::all();
    let first = door.objects(&Recipient::new(CENTRE), &query, None).unwrap();
    let receipt = first.receipt.expect("a page that released has a receipt");
    assert_eq!((receipt.first_seq, receipt.last_seq), (1, 2));
    let second = door
        .objects(&Recipient::new(CENTRE), &query, first.next.as_deref())
        .unwrap();
    let second_receipt = second.receipt.expect("second receipt");
    assert_eq!(second_receipt.first_seq, 3);
    // The owner's own reads release nothing under an agreement: no receipt.
    let own = door.objects(&Recipient::new(TELCO), &query, None).unwrap();
    assert_eq!(own.receipt, None);

    // The recipient fetches the proof, keeps it as JSON, and checks it with the
    // public key alone.
    let proof = receipt_proof(&*store, &receipt.id(), CENTRE)
        .unwrap()
        .expect("the recipient's receipt");
    let text = proof.to_json().to_string();
    let customer_sco = accord_agreements::sco_id("ipv4-addr", customer);
    assert!(
        !text.contains(&customer_sco),
        "the stored id leaked: {text}"
    );
    assert!(!text.contains(customer), "{text}");
    let kept = LedgerProof::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
    let entries = kept.verify(&public).unwrap();
    assert_eq!(entries.len(), 2);
    for (entry, object) in entries.iter().zip(&first.objects) {
        assert_eq!(entry.released_id, object.id);
        let received: [u8; 32] = Sha256::digest(object.json.as_bytes()).into();
        assert_eq!(entry.released_sha256, received);
        assert_eq!(entry.recipient, CENTRE);
    }
    assert!(
        entries
            .iter()
            .any(|e| e.released_id.starts_with("ipv4-addr--")),
        "the pseudonymised SCO is in the receipt under its released id"
    );
    // The later head still proves the first page (a receipt of any size verifies).
    let later = receipt_proof(&*store, &second_receipt.id(), CENTRE)
        .unwrap()
        .unwrap();
    later.verify(&public).unwrap();

    // Nobody else can fetch it; a made-up id is answered the same way.
    assert!(receipt_proof(&*store, &receipt.id(), "cert")
        .unwrap()
        .is_none());
    let bigger = format!("1-3-{}", second_receipt.tree_size);
    assert!(receipt_proof(&*store, &bigger, "cert").unwrap().is_none());
    assert!(receipt_proof(&*store, "1-2-999", CENTRE).unwrap().is_none());
    assert!(receipt_proof(&*store, "x", CENTRE).unwrap().is_none());

    // Explain by the id the recipient holds: the pseudonymised SCO's entry is found
    // by its released id.
    let pseudonym = entries
        .iter()
        .map(|e| e.released_id.clone())
        .find(|id| id.starts_with("ipv4-addr--"))
        .unwrap();
    let found = store.ledger_find_released(CENTRE, &pseudonym).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].object_id, customer_sco);
}

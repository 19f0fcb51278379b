//! Tampering with the ledger: every byte flip, deletion, reordering, insertion
//! and truncation is detected and the first broken entry is named.

use accord_agreements::ledger::{
    decode_chain, encode_chain, verify, BreakKind, ChainHead, EntryFormat, LedgerDraft,
    LedgerEntry, Verifier,
};
use accord_agreements::UtcMicros;

fn draft(i: u64) -> LedgerDraft {
    LedgerDraft {
        time: UtcMicros(1_780_000_000_000_000 + i as i64),
        recipient: "cybercrime-centre".into(),
        object_id: format!("indicator--00000000-0000-4000-8000-{i:012}"),
        released_id: format!("indicator--00000000-0000-4000-8000-{i:012}"),
        object_salt: [i as u8 ^ 0x5a; 16],
        object_version: "2026-02-01T00:00:00.000Z".into(),
        agreement_id: "telco-ec3-ddos-2026".into(),
        agreement_version: 3,
        purpose: "Joint operation against DDoS C2 infrastructure".into(),
        legal_basis: "MoU clause 4".into(),
        released_sha256: [i as u8; 32],
    }
}

fn chain_of(n: u64) -> Vec<LedgerEntry> {
    let mut head = ChainHead::genesis();
    (0..n).map(|i| head.append(draft(i))).collect()
}

#[test]
fn an_intact_chain_verifies_and_round_trips() {
    let entries = chain_of(5);
    let head = verify(&entries).unwrap();
    assert_eq!(head, ChainHead::after(&entries[4]));
    // The opening (stored id and salt) is kept beside the encoding, not in it.
    let without: Vec<_> = entries.iter().map(LedgerEntry::without_opening).collect();
    assert_eq!(decode_chain(&encode_chain(&entries)).unwrap(), without);
    assert!(without.iter().all(|e| e.object_id.is_empty()));
    assert_eq!(verify(&without).unwrap(), head);
}

/// Entries written before format 2 keep verifying, alone and followed by format 2
/// entries, and decode to themselves.
#[test]
fn format_1_entries_keep_verifying() {
    let mut head = ChainHead::genesis();
    let mut entries: Vec<LedgerEntry> = (0..3)
        .map(|i| {
            let mut e = accord_agreements::ledger::chain(head, draft(i));
            e.format = EntryFormat::V1;
            e.released_id.clear();
            e.object_salt = [0; 16];
            e.object_commitment = [0; 32];
            e.hash = e.compute_hash();
            head = ChainHead::after(&e);
            e
        })
        .collect();
    assert_eq!(decode_chain(&encode_chain(&entries)).unwrap(), entries);
    assert_eq!(
        entries[0].encoded()[4],
        0,
        "a format 1 body starts with seq"
    );
    entries.push(head.append(draft(3)));
    assert_eq!(
        entries[3].encoded()[4],
        2,
        "a format 2 body starts with its mark"
    );
    assert_eq!(verify(&entries).unwrap(), head);
    entries[1].object_id.push('x');
    assert_eq!(
        verify(&entries).unwrap_err().kind,
        BreakKind::ContentChanged
    );
}

#[test]
fn every_single_byte_flip_of_an_encoded_chain_is_detected() {
    let entries = chain_of(4);
    let encoded = encode_chain(&entries);
    let head = verify(&entries).unwrap();
    for i in 0..encoded.len() {
        for bit in [0x01u8, 0x80] {
            let mut bytes = encoded.clone();
            bytes[i] ^= bit;
            let detected = match decode_chain(&bytes) {
                Err(_) => true,
                Ok(decoded) => {
                    let mut v = Verifier::new();
                    decoded.iter().try_for_each(|e| v.push(e)).is_err()
                        || v.finish_at(head).is_err()
                }
            };
            assert!(detected, "flip of bit {bit:#x} at byte {i} went unnoticed");
        }
    }
}

#[test]
fn a_changed_entry_is_named() {
    let mut entries = chain_of(5);
    entries[2].released_id.push('x');
    let broken = verify(&entries).unwrap_err();
    assert_eq!(
        (broken.seq, broken.index, broken.kind),
        (3, 2, BreakKind::ContentChanged)
    );
    assert!(broken.to_string().contains("seq 3"), "{broken}");
    // The stored id is committed to: changing it (or the salt) is named too.
    let mut entries = chain_of(5);
    entries[1].object_id.push('x');
    assert_eq!(
        verify(&entries).unwrap_err().kind,
        BreakKind::OpeningChanged
    );
    let mut entries = chain_of(5);
    entries[3].object_salt[0] ^= 1;
    assert_eq!(verify(&entries).unwrap_err().seq, 4);
}

#[test]
fn a_deleted_entry_is_named() {
    let mut entries = chain_of(5);
    entries.remove(1);
    let broken = verify(&entries).unwrap_err();
    assert_eq!(
        (broken.seq, broken.kind),
        (3, BreakKind::Missing { expected_seq: 2 })
    );
}

#[test]
fn reordered_entries_are_named() {
    let mut entries = chain_of(5);
    entries.swap(1, 2);
    let broken = verify(&entries).unwrap_err();
    assert_eq!(
        (broken.seq, broken.index, broken.kind),
        (3, 1, BreakKind::Missing { expected_seq: 2 })
    );
    let mut dup = chain_of(3);
    dup.insert(2, dup[1].clone());
    assert_eq!(
        verify(&dup).unwrap_err().kind,
        BreakKind::OutOfOrder { expected_seq: 3 }
    );
}

#[test]
fn an_inserted_and_renumbered_entry_breaks_the_link_after_it() {
    let entries = chain_of(4);
    // A forger builds a valid-looking entry 3 and renumbers nothing else.
    let forged = accord_agreements::ledger::chain(ChainHead::after(&entries[1]), draft(99));
    let mut tampered = entries.clone();
    tampered[2] = forged;
    let broken = verify(&tampered).unwrap_err();
    assert_eq!((broken.seq, broken.kind), (4, BreakKind::LinkBroken));
}

#[test]
fn deleting_the_newest_entries_is_detected_against_a_kept_head() {
    let entries = chain_of(5);
    let head = verify(&entries).unwrap();
    let mut v = Verifier::new();
    entries[..3].iter().for_each(|e| v.push(e).unwrap());
    let broken = v.finish_at(head).unwrap_err();
    assert_eq!(broken.kind, BreakKind::Truncated { expected_seq: 4 });
}

#[test]
fn verification_resumes_from_a_trusted_head() {
    let entries = chain_of(6);
    let mut v = Verifier::resume(ChainHead::after(&entries[2]));
    entries[3..].iter().for_each(|e| v.push(e).unwrap());
    assert_eq!(v.head(), ChainHead::after(&entries[5]));
}

/// What the ledger writer stores is what the entry encodes to.
#[test]
fn the_encoding_built_while_chaining_is_the_entrys() {
    let mut head = ChainHead::genesis();
    let mut plain = ChainHead::genesis();
    for i in 0..3 {
        let (entry, encoded) = head.append_encoded(draft(i));
        assert_eq!(entry, plain.append(draft(i)));
        assert_eq!(encoded, entry.encoded());
    }
}

//! The ledger against an adversary: truncation, rewriting with every later hash
//! recomputed, reordering, forged heads, heads of another node and stale proofs. Each
//! case first shows that the hash chain alone (all the ledger had before signed tree
//! heads) accepts the tampered ledger, then that the signed head catches it.

use accord_agreements::ledger::{verify, ChainHead, LedgerDraft, LedgerEntry};
use accord_agreements::merkle::{self, Frontier, Hash};
use accord_agreements::transparency::{
    LedgerProof, LedgerSigner, LogProblem, LogVerifier, ProofError, ProvenEntry, SignedTreeHead,
    TreeHead,
};
use accord_agreements::UtcMicros;

fn draft(i: u64) -> LedgerDraft {
    LedgerDraft {
        time: UtcMicros(1_780_000_000_000_000 + i as i64),
        recipient: if i % 3 == 0 { "cert" } else { "centre" }.into(),
        object_id: format!("ipv4-addr--real-{i}"),
        released_id: format!("ipv4-addr--pseudonym-{i}"),
        object_salt: [i as u8; 16],
        object_version: String::new(),
        agreement_id: "telco-centre".into(),
        agreement_version: 1,
        purpose: "p".into(),
        legal_basis: "b".into(),
        released_sha256: [i as u8; 32],
    }
}

/// A chain rebuilt from drafts: what a forger with write access to the store or the
/// export can always make (every hash recomputed).
fn rechain(drafts: impl IntoIterator<Item = LedgerDraft>) -> Vec<LedgerEntry> {
    let mut head = ChainHead::genesis();
    drafts.into_iter().map(|d| head.append(d)).collect()
}

fn signer() -> LedgerSigner {
    LedgerSigner::from_seed(&[0x11; 32])
}

fn head_of(signer: &LedgerSigner, entries: &[LedgerEntry], size: usize) -> SignedTreeHead {
    let mut tree = Frontier::new();
    for e in &entries[..size] {
        tree.push(e.leaf_hash());
    }
    signer.sign(TreeHead {
        tree_size: size as u64,
        root_hash: tree.root(),
        timestamp: UtcMicros(1_790_000_000_000_000 + size as i64),
    })
}

fn check(entries: &[LedgerEntry], head: &SignedTreeHead) -> Result<(), LogProblem> {
    let mut v = LogVerifier::new([head.head]);
    for e in entries {
        v.push(e)?;
    }
    v.finish().map(|_| ())
}

#[test]
fn an_intact_ledger_holds_against_every_earlier_head() {
    let entries = rechain((1..=20).map(draft));
    let s = signer();
    for size in 0..=20 {
        check(&entries, &head_of(&s, &entries, size)).unwrap();
    }
}

#[test]
fn truncation_is_caught_by_a_head() {
    let entries = rechain((1..=20).map(draft));
    let head = head_of(&signer(), &entries, 20);
    let cut = &entries[..17];
    assert!(verify(cut).is_ok(), "the chain alone accepts a cut ledger");
    assert!(matches!(
        check(cut, &head),
        Err(LogProblem::Truncated {
            entries: 17,
            tree_size: 20,
            ..
        })
    ));
}

#[test]
fn rewriting_with_every_later_hash_recomputed_is_caught() {
    let entries = rechain((1..=20).map(draft));
    let head = head_of(&signer(), &entries, 12);
    // Change what entry 5 says (to whom, what was released) and rebuild the chain.
    let forged = rechain((1..=20).map(|i| {
        let mut d = draft(i);
        if i == 5 {
            d.recipient = "someone-else".into();
            d.released_sha256 = [0xee; 32];
        }
        d
    }));
    assert!(
        verify(&forged).is_ok(),
        "the chain alone accepts the rewrite"
    );
    let err = check(&forged, &head).unwrap_err();
    assert!(
        matches!(err, LogProblem::Rewritten { tree_size: 12, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("rewritten"), "{err}");
    // A rewrite after the head is not the head's business; a later head catches it.
    let later = rechain((1..=20).map(|i| {
        let mut d = draft(i);
        if i == 15 {
            d.purpose = "changed".into();
        }
        d
    }));
    check(&later, &head).unwrap();
    assert!(check(&later, &head_of(&signer(), &entries, 20)).is_err());
}

#[test]
fn reordering_is_caught() {
    let entries = rechain((1..=10).map(draft));
    let head = head_of(&signer(), &entries, 10);
    let swapped = rechain([1, 2, 4, 3, 5, 6, 7, 8, 9, 10].map(draft));
    assert!(
        verify(&swapped).is_ok(),
        "the chain alone accepts the reorder"
    );
    assert!(matches!(
        check(&swapped, &head),
        Err(LogProblem::Rewritten { .. })
    ));
}

#[test]
fn forged_heads_and_heads_of_another_node_are_refused() {
    let entries = rechain((1..=8).map(draft));
    let ours = signer();
    let theirs = LedgerSigner::from_seed(&[0x22; 32]);
    let genuine = head_of(&ours, &entries, 8);
    genuine.verify(&ours.public_key()).unwrap();
    // A head of another node (its own ledger, its own key).
    let other_node = head_of(&theirs, &rechain((1..=8).map(|i| draft(i + 100))), 8);
    assert!(matches!(
        other_node.verify(&ours.public_key()),
        Err(ProofError::OtherKey { .. })
    ));
    // A forger signs a rewritten ledger's head with its own key and claims ours.
    let forged_entries = rechain((2..=9).map(draft));
    let mut forged = head_of(&theirs, &forged_entries, 8);
    forged.key_id = ours.public_key().id();
    assert_eq!(
        forged.verify(&ours.public_key()),
        Err(ProofError::BadSignature)
    );
    // Our head with a changed root (to fit a rewritten ledger).
    let mut changed = genuine;
    changed.head.root_hash = head_of(&ours, &forged_entries, 8).head.root_hash;
    assert_eq!(
        changed.verify(&ours.public_key()),
        Err(ProofError::BadSignature)
    );
}

/// Every perfect subtree hash, as a store keeps them.
struct Tree {
    completed: Vec<Vec<Hash>>,
}

impl Tree {
    fn of(entries: &[LedgerEntry]) -> Tree {
        let mut f = Frontier::new();
        Tree {
            completed: entries.iter().map(|e| f.push(e.leaf_hash())).collect(),
        }
    }

    fn inclusion(&self, seq: u64, size: u64) -> Vec<Hash> {
        let plan = merkle::inclusion_plan(seq - 1, size).unwrap();
        let hashes: Vec<Hash> = plan
            .nodes()
            .iter()
            .map(|n| self.completed[(n.completed_at_seq() - 1) as usize][n.level as usize])
            .collect();
        plan.assemble(&hashes).unwrap()
    }
}

fn proof(
    entries: &[LedgerEntry],
    seqs: &[u64],
    head: SignedTreeHead,
    proof_size: u64,
    openings: bool,
) -> LedgerProof {
    let tree = Tree::of(entries);
    LedgerProof {
        receipt_id: Some("r".into()),
        signed_head: head,
        entries: seqs
            .iter()
            .map(|&seq| {
                let e = &entries[(seq - 1) as usize];
                ProvenEntry {
                    seq,
                    leaf: e.encoded(),
                    inclusion_proof: tree.inclusion(seq, proof_size),
                    opening: openings.then(|| (e.object_id.clone(), e.object_salt)),
                }
            })
            .collect(),
    }
}

#[test]
fn a_receipt_verifies_offline_and_reveals_no_stored_id() {
    let entries = rechain((1..=13).map(draft));
    let s = signer();
    let head = head_of(&s, &entries, 13);
    let receipt = proof(&entries, &[4, 5, 7], head, 13, false);
    // Through JSON, as the recipient keeps it.
    let json = receipt.to_json();
    let text = json.to_string();
    assert!(!text.contains("ipv4-addr--real"), "{text}");
    assert!(text.contains("ipv4-addr--pseudonym-4"), "{text}");
    let read = LedgerProof::from_json(&json).unwrap();
    let proven = read.verify(&s.public_key()).unwrap();
    assert_eq!(
        proven
            .iter()
            .map(|e| e.released_id.as_str())
            .collect::<Vec<_>>(),
        [
            "ipv4-addr--pseudonym-4",
            "ipv4-addr--pseudonym-5",
            "ipv4-addr--pseudonym-7"
        ]
    );
    assert!(proven.iter().all(|e| e.object_id.is_empty()));
    assert_eq!(proven[0].released_sha256, [4; 32]);
    // An auditor's proof carries the opening, which is checked.
    let audit = proof(&entries, &[5], head, 13, true);
    let opened = LedgerProof::from_json(&audit.to_json())
        .unwrap()
        .verify(&s.public_key())
        .unwrap();
    assert_eq!(opened[0].object_id, "ipv4-addr--real-5");
    let mut lying = audit.clone();
    lying.entries[0].opening = Some(("ipv4-addr--real-6".into(), [5; 16]));
    assert!(matches!(
        lying.verify(&s.public_key()),
        Err(ProofError::WrongOpening { seq: 5, .. })
    ));
}

#[test]
fn tampered_stale_or_foreign_proofs_fail() {
    let entries = rechain((1..=13).map(draft));
    let s = signer();
    let head = head_of(&s, &entries, 13);
    let good = proof(&entries, &[6], head, 13, false);
    good.verify(&s.public_key()).unwrap();
    // Another key.
    assert!(matches!(
        good.verify(&LedgerSigner::from_seed(&[3; 32]).public_key()),
        Err(ProofError::OtherKey { .. })
    ));
    // A stale proof: the inclusion path of an older tree (size 9) with the current head.
    let stale = proof(&entries, &[6], head, 9, false);
    assert!(matches!(
        stale.verify(&s.public_key()),
        Err(ProofError::NotIncluded { seq: 6, .. })
    ));
    // The leaf changed (another released hash), its hash recomputed.
    let mut changed = good.clone();
    let mut e = entries[5].clone();
    e.released_sha256 = [0xaa; 32];
    e.hash = e.compute_hash();
    changed.entries[0].leaf = e.encoded();
    assert!(matches!(
        changed.verify(&s.public_key()),
        Err(ProofError::NotIncluded { .. })
    ));
    // The leaf of another seq offered as this one.
    let mut moved = good.clone();
    moved.entries[0].seq = 7;
    assert!(moved.verify(&s.public_key()).is_err());
    // A flipped bit in the path.
    let mut flipped = good.clone();
    flipped.entries[0].inclusion_proof[1][3] ^= 0x10;
    assert!(flipped.verify(&s.public_key()).is_err());
    // The readable copy says something the leaf does not.
    let mut json = good.to_json();
    json["entries"][0]["entry"]["recipient"] = "someone-else".into();
    assert!(matches!(
        LedgerProof::from_json(&json),
        Err(ProofError::ReadableMismatch { seq: 6 })
    ));
}

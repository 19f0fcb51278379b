//! The ledger writer: chains release records, commits them in groups, and signs a tree
//! head per commit; and the proofs built from the store (receipts, `accord ledger prove`).
//!
//! Readers hand their drafts to one writer thread and wait for the commit that holds
//! them. The thread takes everything queued at once, chains it, and commits it in one
//! store transaction (group commit), so concurrent readers share commits instead of
//! queueing on a lock, and the chain is built in exactly one place per process. The
//! store extends the Merkle tree in the same transaction; the writer then signs the new
//! tree head with the node's key and keeps it, and each request gets a [`Receipt`]: its
//! entries (one contiguous seq range) and the signed head that covers them. A second
//! process appending to the same store (a CLI export beside the server) is detected by
//! the store's sequence check; the writer then reloads the head and chains again.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

use accord_agreements::ledger::{decode_chain, EntryFormat};
use accord_agreements::merkle::{self, Hash, NodeId};
use accord_agreements::transparency::{
    LedgerProof, LedgerSigner, ProvenEntry, SignedTreeHead, TreeHead,
};
use accord_agreements::{ChainHead, LedgerDraft, LedgerEntry, UtcMicros};
use accord_store::{LedgerRecord, LedgerTree, Store, StoreError};
use rand::RngCore as _;

/// Most drafts committed in one transaction.
const MAX_GROUP: usize = 100_000;

/// Attempts to append after another process moved the chain head.
const MAX_RETRIES: usize = 8;

/// Most entries one receipt covers (a TAXII page is at most the server's
/// `max_page_size`; this bounds what a receipt id can ask for).
pub const MAX_RECEIPT_ENTRIES: u64 = 100_000;

/// Why drafts were not recorded.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The store failed.
    #[error("ledger store error: {0}")]
    Store(String),
    /// The stored chain's last entry cannot be read: it was tampered with or corrupted.
    #[error("the ledger's last entry cannot be decoded: {0}; run `accord ledger verify`")]
    CorruptHead(String),
    /// The writer thread is gone (the process is shutting down).
    #[error("the ledger writer has stopped")]
    Stopped,
}

/// What a recipient keeps for one response: which ledger entries recorded its
/// releases, and the signed tree head they are proven against. Its [`Receipt::id`]
/// fetches the proof (`GET /{api_root}/ledger/receipts/{id}/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The first entry's seq.
    pub first_seq: u64,
    /// The last entry's seq.
    pub last_seq: u64,
    /// The size of the signed tree the receipt is proven against.
    pub tree_size: u64,
}

impl Receipt {
    /// The id: `<first>-<last>-<tree size>`.
    pub fn id(&self) -> String {
        format!("{}-{}-{}", self.first_seq, self.last_seq, self.tree_size)
    }

    /// Reads an id; `None` when it is not one this node could have issued.
    pub fn parse(id: &str) -> Option<Receipt> {
        let mut parts = id.split('-');
        let mut next = || -> Option<u64> {
            let part = parts.next()?;
            // Digits only, no leading zeros: one spelling per receipt.
            if part.is_empty()
                || !part.bytes().all(|b| b.is_ascii_digit())
                || (part.len() > 1 && part.starts_with('0'))
            {
                return None;
            }
            part.parse().ok()
        };
        let receipt = Receipt {
            first_seq: next()?,
            last_seq: next()?,
            tree_size: next()?,
        };
        let valid = parts.next().is_none()
            && receipt.first_seq >= 1
            && receipt.first_seq <= receipt.last_seq
            && receipt.last_seq <= receipt.tree_size
            && receipt.last_seq - receipt.first_seq < MAX_RECEIPT_ENTRIES;
        valid.then_some(receipt)
    }
}

struct Request {
    drafts: Vec<LedgerDraft>,
    done: mpsc::SyncSender<Result<Option<Receipt>, LedgerError>>,
}

/// Handle to the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub struct LedgerWriter {
    requests: mpsc::Sender<Request>,
}

impl LedgerWriter {
    /// Start the writer thread over `store`. With a `signer`, every commit ends with a
    /// signed tree head and every request gets a receipt; without one (a node with no
    /// key, some tests), entries and the tree are kept but no head is signed.
    pub fn start(
        store: Arc<dyn Store>,
        signer: Option<Arc<LedgerSigner>>,
    ) -> std::io::Result<LedgerWriter> {
        let (requests, queue) = mpsc::channel::<Request>();
        thread::Builder::new()
            .name("accord-ledger".into())
            .spawn(move || run(&*store, signer.as_deref(), &queue))?;
        Ok(LedgerWriter { requests })
    }

    /// Record `drafts` in order; returns once they are committed, with the receipt
    /// for them (`None` for no drafts, or a writer without a key).
    pub fn record(&self, drafts: Vec<LedgerDraft>) -> Result<Option<Receipt>, LedgerError> {
        if drafts.is_empty() {
            return Ok(None);
        }
        let (done, wait) = mpsc::sync_channel(1);
        self.requests
            .send(Request { drafts, done })
            .map_err(|_| LedgerError::Stopped)?;
        wait.recv().map_err(|_| LedgerError::Stopped)?
    }
}

fn run(store: &dyn Store, signer: Option<&LedgerSigner>, queue: &mpsc::Receiver<Request>) {
    let mut head: Option<ChainHead> = None;
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        let mut drafts = group[0].drafts.len();
        while drafts < MAX_GROUP {
            match queue.try_recv() {
                Ok(request) => {
                    drafts += request.drafts.len();
                    group.push(request);
                }
                Err(_) => break,
            }
        }
        let result = commit(store, signer, &mut head, &group);
        if result.is_err() {
            head = None; // reload from the store next time
        }
        let mut next_seq = match &result {
            Ok(Some((first_seq, _))) => *first_seq,
            _ => 0,
        };
        for request in group {
            let answer = result.clone().map(|signed| {
                signed.map(|(_, tree)| {
                    let count = request.drafts.len() as u64;
                    let receipt = Receipt {
                        first_seq: next_seq,
                        last_seq: next_seq + count - 1,
                        tree_size: tree.size,
                    };
                    next_seq += count;
                    receipt
                })
            });
            let _ = request.done.send(answer);
        }
    }
}

/// Chain and append one group (with its signed tree head, in the same transaction,
/// when there is a signer), reloading the head when another writer moved it. Returns
/// the first seq of the group and the tree after it, when a head was signed.
fn commit(
    store: &dyn Store,
    signer: Option<&LedgerSigner>,
    head: &mut Option<ChainHead>,
    group: &[Request],
) -> Result<Option<(u64, LedgerTree)>, LedgerError> {
    let mut rng = rand::thread_rng();
    let mut drafts: Vec<LedgerDraft> = group
        .iter()
        .flat_map(|r| r.drafts.iter().cloned())
        .collect();
    // A fresh salt per entry for its object commitment.
    for draft in &mut drafts {
        rng.fill_bytes(&mut draft.object_salt);
    }
    for _ in 0..MAX_RETRIES {
        let start = match *head {
            Some(h) => h,
            None => load_head(store)?,
        };
        let mut next = start;
        let records: Vec<LedgerRecord> = drafts
            .iter()
            .map(|draft| {
                let (entry, encoded) = next.append_encoded(draft.clone());
                into_record(entry, encoded)
            })
            .collect();
        let appended = match signer {
            Some(signer) => store
                .ledger_append_signed(&records, &|tree: LedgerTree| {
                    signer.sign(TreeHead {
                        tree_size: tree.size,
                        root_hash: tree.root,
                        timestamp: UtcMicros(accord_stix::Timestamp::now().as_micros()),
                    })
                })
                .map(|signed| {
                    Some(LedgerTree {
                        size: signed.head.tree_size,
                        root: signed.head.root_hash,
                    })
                }),
            None => store.ledger_append(&records).map(|_| None),
        };
        match appended {
            Ok(tree) => {
                *head = Some(next);
                return Ok(tree.map(|tree| (start.next_seq, tree)));
            }
            Err(StoreError::LedgerOutOfOrder { .. }) => *head = None,
            Err(e) => return Err(LedgerError::Store(e.to_string())),
        }
    }
    Err(LedgerError::Store(
        "the ledger head kept moving; too many concurrent writers".into(),
    ))
}

/// Where the stored chain continues.
pub fn load_head(store: &dyn Store) -> Result<ChainHead, LedgerError> {
    match store
        .ledger_last()
        .map_err(|e| LedgerError::Store(e.to_string()))?
    {
        None => Ok(ChainHead::genesis()),
        Some(record) => {
            let entry = decode_record(&record).map_err(LedgerError::CorruptHead)?;
            Ok(ChainHead::after(&entry))
        }
    }
}

/// The stored form of an entry (its opening in the `object_id` and `salt` columns).
pub fn to_record(entry: &LedgerEntry) -> LedgerRecord {
    let v2 = entry.format == EntryFormat::V2;
    LedgerRecord {
        seq: entry.seq,
        recipient: entry.recipient.clone(),
        object_id: entry.object_id.clone(),
        released_id: entry.released_id.clone(),
        encoded: entry.encoded(),
        hash: entry.hash.to_vec(),
        salt: if v2 {
            entry.object_salt.to_vec()
        } else {
            Vec::new()
        },
    }
}

/// The stored form of an entry, given its encoding, taking its strings.
fn into_record(entry: LedgerEntry, encoded: Vec<u8>) -> LedgerRecord {
    let salt = match entry.format {
        EntryFormat::V2 => entry.object_salt.to_vec(),
        _ => Vec::new(),
    };
    LedgerRecord {
        seq: entry.seq,
        recipient: entry.recipient,
        object_id: entry.object_id,
        released_id: entry.released_id,
        encoded,
        hash: entry.hash.to_vec(),
        salt,
    }
}

/// Decode a stored record with its opening, checking that its indexed columns agree
/// with its content. The message names what is wrong with *this* entry (offsets are
/// within the entry's stored bytes).
pub fn decode_record(record: &LedgerRecord) -> Result<LedgerEntry, String> {
    let mut entries = decode_chain(&record.encoded).map_err(|e| {
        format!(
            "its stored bytes cannot be decoded: {} (at byte {} of the entry)",
            e.message, e.offset
        )
    })?;
    let mut entry = match (entries.pop(), entries.is_empty()) {
        (Some(entry), true) => entry,
        _ => return Err("its stored bytes do not hold exactly one entry".to_string()),
    };
    if entry.format == EntryFormat::V2 {
        entry.object_id.clone_from(&record.object_id);
        entry.object_salt = record
            .salt
            .as_slice()
            .try_into()
            .map_err(|_| "its stored salt is not 16 bytes".to_string())?;
    }
    let released_agrees = match entry.format {
        EntryFormat::V1 => record.released_id.is_empty(),
        _ => entry.released_id == record.released_id,
    };
    if entry.seq != record.seq
        || entry.recipient != record.recipient
        || entry.object_id != record.object_id
        || entry.hash[..] != record.hash[..]
        || !released_agrees
    {
        return Err("its indexed columns disagree with the entry it holds".to_string());
    }
    Ok(entry)
}

/// Why a proof could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofBuildError {
    /// The store failed or its tree is incomplete.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A proof plan did not fit the tree (an entry beyond the head).
    #[error(transparent)]
    Merkle(#[from] merkle::MerkleError),
}

/// Builds the proof of `records` (entries of the tree of `head`) against `head`:
/// each entry's leaf and inclusion proof, and its opening when `openings` (for an
/// auditor; never for a recipient's receipt). Node hashes shared by several proofs
/// are fetched once.
pub fn build_proof(
    store: &dyn Store,
    records: &[LedgerRecord],
    head: SignedTreeHead,
    openings: bool,
    receipt_id: Option<String>,
) -> Result<LedgerProof, ProofBuildError> {
    let size = head.head.tree_size;
    let plans = records
        .iter()
        .map(|r| merkle::inclusion_plan(r.seq.saturating_sub(1), size))
        .collect::<Result<Vec<_>, _>>()?;
    let mut wanted: BTreeMap<NodeId, Hash> = BTreeMap::new();
    for plan in &plans {
        for node in plan.nodes() {
            wanted.insert(node, [0; 32]);
        }
    }
    let ids: Vec<NodeId> = wanted.keys().copied().collect();
    for (id, hash) in ids.iter().zip(store.ledger_nodes(&ids)?) {
        wanted.insert(*id, hash);
    }
    let entries = records
        .iter()
        .zip(&plans)
        .map(|(record, plan)| {
            let hashes: Vec<Hash> = plan.nodes().iter().map(|n| wanted[n]).collect();
            let opening = (openings && record.salt.len() == 16).then(|| {
                let mut salt = [0; 16];
                salt.copy_from_slice(&record.salt);
                (record.object_id.clone(), salt)
            });
            Ok(ProvenEntry {
                seq: record.seq,
                leaf: record.encoded.clone(),
                inclusion_proof: plan.assemble(&hashes)?,
                opening,
            })
        })
        .collect::<Result<Vec<_>, merkle::MerkleError>>()?;
    Ok(LedgerProof {
        receipt_id,
        signed_head: head,
        entries,
    })
}

/// The proof behind a receipt id, for `recipient`: `None` when the id is not one
/// this node issued to that recipient (another recipient's entries, entries beyond
/// the tree, no head of that size) — the same answer as for an id that never existed.
pub fn receipt_proof(
    store: &dyn Store,
    id: &str,
    recipient: &str,
) -> Result<Option<LedgerProof>, ProofBuildError> {
    let Some(receipt) = Receipt::parse(id) else {
        return Ok(None);
    };
    let Some(head) = store.ledger_head(receipt.tree_size)? else {
        return Ok(None);
    };
    let count = receipt.last_seq - receipt.first_seq + 1;
    let records = store.ledger_scan(
        receipt.first_seq - 1,
        usize::try_from(count).unwrap_or(usize::MAX),
    )?;
    let whole = records.len() as u64 == count
        && records.iter().all(|r| r.recipient == recipient)
        && records.last().map(|r| r.seq) == Some(receipt.last_seq);
    if !whole {
        return Ok(None);
    }
    build_proof(store, &records, head, false, Some(receipt.id())).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_ids_round_trip_and_odd_spellings_are_refused() {
        let r = Receipt {
            first_seq: 3,
            last_seq: 7,
            tree_size: 9,
        };
        assert_eq!(r.id(), "3-7-9");
        assert_eq!(Receipt::parse("3-7-9"), Some(r));
        for bad in [
            "",
            "3-7",
            "3-7-9-1",
            "03-7-9",
            "3-7-6",
            "0-1-1",
            "8-7-9",
            "+3-7-9",
            "3-7-9 ",
            "a-b-c",
            "1-100001-100001",
        ] {
            assert_eq!(Receipt::parse(bad), None, "{bad:?}");
        }
    }
}

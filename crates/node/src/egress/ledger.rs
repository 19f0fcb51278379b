//! The ledger writer: chains release records and commits them in groups.
//!
//! Readers hand their drafts to one writer thread and wait for the commit that holds
//! them. The thread takes everything queued at once, chains it, and commits it in one
//! store transaction (group commit), so concurrent readers share commits instead of
//! queueing on a lock, and the chain is built in exactly one place per process. A second
//! process appending to the same store (a CLI export beside the server) is detected by
//! the store's sequence check; the writer then reloads the head and chains again.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

use accord_agreements::ledger::decode_chain;
use accord_agreements::{ChainHead, LedgerDraft, LedgerEntry};
use accord_store::{LedgerRecord, Store, StoreError};

/// Most drafts committed in one transaction.
const MAX_GROUP: usize = 100_000;

/// Attempts to append after another process moved the chain head.
const MAX_RETRIES: usize = 8;

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

struct Request {
    drafts: Vec<LedgerDraft>,
    done: mpsc::SyncSender<Result<(), LedgerError>>,
}

/// Handle to the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub struct LedgerWriter {
    requests: mpsc::Sender<Request>,
}

impl LedgerWriter {
    /// Start the writer thread over `store`.
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<LedgerWriter> {
        let (requests, queue) = mpsc::channel::<Request>();
        thread::Builder::new()
            .name("accord-ledger".into())
            .spawn(move || run(&*store, &queue))?;
        Ok(LedgerWriter { requests })
    }

    /// Record `drafts` in order; returns once they are committed.
    pub fn record(&self, drafts: Vec<LedgerDraft>) -> Result<(), LedgerError> {
        if drafts.is_empty() {
            return Ok(());
        }
        let (done, wait) = mpsc::sync_channel(1);
        self.requests
            .send(Request { drafts, done })
            .map_err(|_| LedgerError::Stopped)?;
        wait.recv().map_err(|_| LedgerError::Stopped)?
    }
}

fn run(store: &dyn Store, queue: &mpsc::Receiver<Request>) {
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
        let result = commit(store, &mut head, &group);
        if result.is_err() {
            head = None; // reload from the store next time
        }
        for request in group {
            let _ = request.done.send(result.clone());
        }
    }
}

/// Chain and append one group, reloading the head when another writer moved it.
fn commit(
    store: &dyn Store,
    head: &mut Option<ChainHead>,
    group: &[Request],
) -> Result<(), LedgerError> {
    for _ in 0..MAX_RETRIES {
        let start = match *head {
            Some(h) => h,
            None => load_head(store)?,
        };
        let mut next = start;
        let mut records = Vec::with_capacity(group.iter().map(|r| r.drafts.len()).sum());
        for draft in group.iter().flat_map(|r| r.drafts.iter()) {
            records.push(to_record(&next.append(draft.clone())));
        }
        match store.ledger_append(&records) {
            Ok(()) => {
                *head = Some(next);
                return Ok(());
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

/// The stored form of an entry.
pub fn to_record(entry: &LedgerEntry) -> LedgerRecord {
    let mut encoded = Vec::with_capacity(256);
    entry.encode(&mut encoded);
    LedgerRecord {
        seq: entry.seq,
        recipient: entry.recipient.clone(),
        object_id: entry.object_id.clone(),
        encoded,
        hash: entry.hash.to_vec(),
    }
}

/// Decode a stored record, checking that its indexed columns agree with its content.
pub fn decode_record(record: &LedgerRecord) -> Result<LedgerEntry, String> {
    let mut entries = decode_chain(&record.encoded).map_err(|e| e.to_string())?;
    let entry = match (entries.pop(), entries.is_empty()) {
        (Some(entry), true) => entry,
        _ => {
            return Err(format!(
                "row {} does not hold exactly one entry",
                record.seq
            ))
        }
    };
    if entry.seq != record.seq
        || entry.recipient != record.recipient
        || entry.object_id != record.object_id
        || entry.hash[..] != record.hash[..]
    {
        return Err(format!(
            "row {} disagrees with the entry it holds",
            record.seq
        ));
    }
    Ok(entry)
}

//! The correlation index: every observable value interned once, linked to the object
//! versions stating it and to the sightings of those objects, with the providers that
//! stated or sighted it. It lives in a file of its own beside the store
//! ([`path_of`]), written by a follower thread on its own connection, so that
//! ingest's one writer does not pay for it.
//!
//! Why a second file: SQLite has one writer per database file. In the insert's own
//! transaction the index cost the writer more than the objects did (measured on an
//! observable-heavy corpus, `scripts/bench-hub-trends`: ingest 1.7x slower than
//! without it), and the writer is ingest's critical path. Written by another
//! connection to the same file it would wait for the same lock. In its own file it is
//! written on the other core while the writer stores the next batch.
//!
//! How it stays exact: the insert writes what the index must record of its batch as
//! one row of `correlation_queue` (in the store file, in the insert's transaction: an
//! object is never stored without it). The follower applies queued rows in `seq`
//! order, and records in the index file's own `correlation_meta` the last `seq`
//! applied, in the same transaction as the rows it applied: a crash at any point
//! leaves either the row applied and marked, or neither, and whoever applies next
//! (this process's follower, or another process's on its next write) starts after
//! the mark. Every process's follower applies every row (not only its own), under the
//! index file's write lock, so two processes never apply a row twice. The store's
//! writer deletes rows the index has applied.
//!
//! Applying ahead: an insert of many versions (a bulk load's batch, a large pull)
//! hands its queue body to the follower in pieces as it writes it ([`Shared::ahead`]),
//! and the follower applies them in an index transaction it commits only once the
//! insert has committed, with the insert's queue row as its mark (and rolls back if the
//! insert did not commit: the row, if any, is then applied from the queue as any
//! other). The index is then written while the writer stores the batch instead of after:
//! at the end of a load the writer stores its last batch alone on one core, and the
//! follower's work on that batch used to follow it, on the load's critical path.
//! Measured (BENCHMARKS.md, "Applying ahead"). It is exact for the same reason as the
//! queue: the insert holds the store's write lock from its start to its commit, so no
//! other row can be queued between the rows the follower applied first and the insert's
//! own, and the follower checks that at the commit (the insert's row the only one after
//! its mark) before it moves the mark.
//!
//! What readers see: the index as it stands, without waiting (a wait made the
//! answer's timing depend on others' recent inserts). A reader that needs this
//! process's inserts counted waits for its follower first (`Store::settle_correlation`,
//! [`Follower::settle`]); another process's inserts appear once its follower (or ours)
//! has applied them, usually within its next commit. Trends are not here: their cells are few per batch and stay in the
//! insert's transaction.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rusqlite::{params, CachedStatement, Connection, OpenFlags, OptionalExtension};

use super::value_memory::{IdValues, Unstated, MEMORY_UNSTATED};
use super::value_memory::{Pid, ProviderSet, ValueMemory};
use super::write::Queued;
use crate::error::StoreError;

/// Who reports a value, as the index's sets of "providers" count them: a provider in
/// a collection (the provider, U+001F, the collection), or a provider alone for
/// versions stored in no collection. So a value shared by two providers, or reported
/// by one provider in two collections, is shared (`providers > 1`): a correlation
/// ([`crate::Store::shared_values`]). The store's readers compute providers and
/// collections from the versions themselves; the index's count only finds candidates.
pub(super) fn source<'a>(provider: &'a str, collection: Option<&str>) -> std::borrow::Cow<'a, str> {
    match collection {
        Some(c) => std::borrow::Cow::Owned(format!("{provider}\u{1f}{c}")),
        None => std::borrow::Cow::Borrowed(provider),
    }
}

/// The schema name the index file is attached under on every connection that reads
/// it (readers, the follower, an in-memory store's one connection).
pub(super) const SCHEMA_NAME: &str = "correlation";

/// The index's tables (created with `IF NOT EXISTS` at every writable open): values
/// (`obs_values`, with their providers: how many, and which, as a
/// [`ProviderSet`] of the providers' numbers in `providers`), the object versions
/// stating each (`obs_links`), the values stated by any version of an id (`id_values`,
/// by the id's key: what a sighting of that id sights), and sightings by the key of the
/// id they sight, with their provider (`sighting_links`). Everything a queued row needs
/// is here: applying it reads nothing of the store file but the queue. Ids are matched
/// by their 64-bit key alone (two ids of one key would share their sightings'
/// providers: about one chance in 300,000 for a store of 10,000,000 ids).
///
/// A value's `vid` is its [`value_key`] (or, when another value holds that key, the
/// first free one after it: [`probe`]), so that finding a value is a search of
/// the table by integer rather than of an index of texts.
///
/// Schema 12: `vid`s are value keys (schema 11 numbered values in arrival order and
/// found them through an index of `(kind, value)`: a text search per stated value, and
/// a second B-tree per new value), and a value's providers are kept in its own row
/// (schema 11 kept one row per (value, provider) in a table of its own,
/// `obs_providers`: an insert, or a search that found the pair, per pair and batch).
/// An index of schema 11 is rebuilt from the objects (`migrate_from_11`).
///
/// `sighted_unstated` (schema 13): the keys of ids sighted while no version stating
/// values had been applied (a sighting that arrived before what it sights, or of an
/// object that states none). Applying the first version of an id, the follower looks
/// for sightings of it only if its key is there ([`Version::first_of_id`]): most ids
/// are new and never sighted beforehand, and this look-up was one B-tree search per
/// stated object. Made from the other tables when an index of schema 12 is first
/// opened ([`create`]).
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS correlation.obs_values (
    vid          INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    providers    INTEGER NOT NULL DEFAULT 0,
    provider_set BLOB    NOT NULL DEFAULT x''
);
CREATE INDEX IF NOT EXISTS correlation.obs_values_shared ON obs_values (providers) WHERE providers > 1;
CREATE TABLE IF NOT EXISTS correlation.obs_links (
    vid          INTEGER NOT NULL,
    object_added INTEGER NOT NULL,
    PRIMARY KEY (vid, object_added)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS correlation.id_values (
    id_key INTEGER NOT NULL,
    vid    INTEGER NOT NULL,
    PRIMARY KEY (id_key, vid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS correlation.providers (
    pid  INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS correlation.sighting_links (
    target_key   INTEGER NOT NULL,
    object_added INTEGER NOT NULL,
    provider     TEXT    NOT NULL,
    PRIMARY KEY (target_key, object_added)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS correlation.sighted_unstated (
    target_key INTEGER PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS correlation.correlation_meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);";

/// How many `vid`s after its [`value_key`] a value may be found at: the key is 64
/// bits of SHA-256, so two values share one about once in 2^32 values chosen to collide,
/// and a run of three taken keys needs far more; a longer run is a damaged index.
const MAX_PROBES: usize = 64;

/// The key of a value: the first 8 bytes of SHA-256 over its kind, a zero byte and its
/// text. A hash no party can steer: a partner cannot make its values take the keys of
/// another's at will (which would only lengthen probes: every probe compares the text).
pub(super) fn value_key(kind: &str, value: &str) -> i64 {
    ValueDigest::of(kind, value).key
}

/// A value's first 16 bytes of SHA-256 (as [`value_key`] hashes it): its key, and 8
/// more bytes that tell it from another value of the same key. The follower's memory
/// knows values by their digest instead of their texts (no copy of a text per value
/// remembered, a hash of 16 bytes per look-up instead of the text's). Two values share
/// a digest with a chance of 2^-128 a pair, and nobody can steer SHA-256 to make them;
/// the index itself always compares texts ([`probe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct ValueDigest {
    /// The value's key.
    pub key: i64,
    /// The next 8 bytes.
    pub check: u64,
}

impl ValueDigest {
    pub(super) fn of(kind: &str, value: &str) -> Self {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(kind.as_bytes());
        hash.update([0u8]);
        hash.update(value.as_bytes());
        let digest = hash.finalize();
        let mut key = [0u8; 8];
        let mut check = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        check.copy_from_slice(&digest[8..16]);
        ValueDigest {
            key: i64::from_le_bytes(key),
            check: u64::from_le_bytes(check),
        }
    }
}

/// Where a value is, probing from its key (`key`, its [`value_key`]): `Ok(vid)` where
/// it is, `Err(vid)` the free `vid` it would take. `row_at` says whether the row at a
/// `vid` is this value, `None` when that `vid` is free.
fn probe(
    key: i64,
    kind: &str,
    value: &str,
    mut row_at: impl FnMut(i64) -> Result<Option<bool>, StoreError>,
) -> Result<Result<i64, i64>, StoreError> {
    let mut vid = key;
    for _ in 0..MAX_PROBES {
        match row_at(vid)? {
            Some(true) => return Ok(Ok(vid)),
            Some(false) => vid = vid.wrapping_add(1),
            None => return Ok(Err(vid)),
        }
    }
    Err(StoreError::Corrupt {
        table: "correlation.obs_values",
        detail: format!("{MAX_PROBES} values in a row before {kind} {value:?}"),
    })
}

/// The value `(kind, value)` as the index holds it, if it does (readers).
pub(super) fn find_value(
    conn: &Connection,
    kind: &str,
    value: &str,
) -> Result<Option<crate::model::ValueRow>, StoreError> {
    let mut at = conn.prepare_cached(
        "SELECT kind = ?2 AND value = ?3, providers FROM obs_values WHERE vid = ?1",
    )?;
    let mut providers = 0;
    let found = probe(value_key(kind, value), kind, value, |vid| {
        let row: Option<(bool, i64)> = at
            .query_row(params![vid, kind, value], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((true, count)) = row {
            providers = count;
        }
        Ok(row.map(|r| r.0))
    })?;
    Ok(found.ok().map(|vid| crate::model::ValueRow {
        vid,
        kind: kind.to_owned(),
        value: value.to_owned(),
        providers,
    }))
}

/// The queue in the store file (schema 11): one row per insert (or backfill batch)
/// that stated or sighted values; `body` is [`encode`]d.
pub(super) const QUEUE_TABLE: &str = "CREATE TABLE IF NOT EXISTS correlation_queue (
    seq      INTEGER PRIMARY KEY,
    provider TEXT    NOT NULL,
    body     BLOB    NOT NULL
);";

/// Queued rows applied per index transaction: enough to amortise the commit (a sync)
/// over a bulk load's batches, few enough that readers of the index see progress.
const ROWS_PER_APPLY: i64 = 16;

/// Object versions the follower gathers before it applies them, unless [`GATHER_FOR`]
/// has passed or someone needs the index now: a few TAXII pages; one batch of a bulk
/// `accord ingest` (16 MiB of objects) is applied as soon as it is queued, in step
/// with the writer.
const GATHER_VERSIONS: usize = 40_000;

/// How long the follower gathers queued rows before applying them, when nobody waits
/// for the index: a transaction of the index rewrites every page its values, ids and
/// links touch, and those are spread at random over the index (values by text, ids by
/// hash), so one transaction per insert (a TAXII page, an ingest batch) rewrote about
/// as many pages as it added rows. Gathered, a page is written once per gathering.
/// A query of this process does not wait for it (it asks the follower to apply at
/// once); another process sees the correlations of this one's inserts at most this
/// much later.
const GATHER_FOR: Duration = Duration::from_millis(1_000);

/// Inserts of at least this many object versions with correlation facts are applied
/// ahead (the module's doc): a bulk load's batches and large pulls. Smaller inserts (a
/// TAXII page, a push) are gathered instead ([`GATHER_FOR`]): an index transaction
/// per insert rewrote as many pages as it added rows.
pub(super) const AHEAD_FROM: usize = 4_096;

/// Bytes of queue body an insert applied ahead hands to the follower at a time: large
/// enough that the follower's sorted inserts still share pages, small enough that it
/// keeps up with the writer.
pub(super) const AHEAD_PIECE: usize = 1 << 20;

/// Inserts applied ahead that the follower holds at most (the one it applies, the
/// next): past that, inserts are applied from the queue.
const AHEAD_HELD: usize = 2;

/// How long the follower waits before trying again after a failed apply (a locked or
/// full disk): the rows stay queued, nothing is lost.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// The follower's page cache for the index file, in KiB: at most 1 GiB, taken only as
/// the index grows (about 50 bytes per object; 505 MB at 10,000,000 objects). Its rows
/// are keyed by hash, so every batch touches pages all over the index: with a cache
/// smaller than the index each insert read its page through the kernel and each
/// transaction spilled dirty pages to the log before its commit. Measured rebuilding the
/// index of 10,000,000 objects (`scripts/bench-index-rebuild 1587302`, BENCHMARKS.md):
/// 64 MiB, 336 s (273 s of it in the kernel); 1 GiB, 240 s; peak resident memory
/// 213 MB and 649 MB.
const CACHE_KIB: i64 = 1_048_576;

/// The follower's page cache for the store file, in KiB: it reads only the queue,
/// each row once (a cache as large as the index's would fill with pages read once).
const QUEUE_CACHE_KIB: i64 = 2_048;

/// Pages of the index's write-ahead log past which a commit of the follower copies
/// the log into the index file (SQLite's automatic checkpoint; its default is 1,000).
/// A bulk load's apply rewrites most of the index's pages (its rows are keyed by hash),
/// so with the default every commit was followed by a copy of the whole index and a
/// sync: 50 MB written into a 22 MB index file per 210,000 objects
/// (`scripts/bench-hub-trends`), twice what the last copy at close needs. 8,192
/// pages of 16 KiB let the log grow to 128 MiB (plus one transaction) between copies.
const CHECKPOINT_PAGES: i64 = 8_192;

/// How long the follower waits for another process's lock on the index file.
const BUSY_FOR: Duration = Duration::from_secs(10);

/// Prepared statements the follower's connection keeps.
const STATEMENTS: usize = 32;

/// The mark of an index that has applied nothing.
const NOTHING_APPLIED: i64 = i64::MIN;

/// The index file of the store at `store`: beside it, its name plus `-correlation`
/// (its log and shared memory files beside that, as SQLite names them).
pub(super) fn path_of(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-correlation");
    PathBuf::from(name)
}

/// Removes the index file of the store at `store` and its log (nothing when absent).
pub(super) fn remove(store: &Path) -> Result<(), StoreError> {
    let path = path_of(store);
    let mut files = vec![path.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    for file in files {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Database(format!(
                    "cannot remove the old correlation index {}: {e}",
                    file.display()
                )))
            }
        }
    }
    Ok(())
}

/// Attaches the index file of the store at `store` to `conn` (read-only when `conn`
/// is: an attached file takes its connection's open flags).
pub(super) fn attach(conn: &Connection, store: &Path) -> Result<(), StoreError> {
    let path = path_of(store);
    conn.execute(
        &format!("ATTACH DATABASE ?1 AS {SCHEMA_NAME}"),
        params![path.to_string_lossy()],
    )?;
    Ok(())
}

/// Creates the index file of the store at `store` if needed (tables, write-ahead log).
/// Returns whether it was created now.
pub(super) fn create(store: &Path) -> Result<bool, StoreError> {
    let path = path_of(store);
    let existed = path.exists();
    let conn = Connection::open(store)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    attach(&conn, store)?;
    // Small rows keyed at random (values): small pages keep each insert's dirty pages
    // (and the log) small.
    if !existed {
        conn.pragma_update(Some(SCHEMA_NAME), "page_size", 16_384)?;
    }
    conn.pragma_update(Some(SCHEMA_NAME), "journal_mode", "WAL")?;
    conn.execute_batch(SCHEMA)?;
    // An index of schema 12 has no record of the ids sighted and not stated: made
    // once, from the sightings and the ids stating values (O(sightings)). Asked first
    // without a write lock: every writable open comes here, and the transaction locks
    // the store file too (two opens that both find it missing make it twice, the same).
    let recorded: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM correlation_meta WHERE name = 'unstated')",
        [],
        |r| r.get(0),
    )?;
    if !recorded {
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             INSERT OR IGNORE INTO sighted_unstated
               SELECT DISTINCT target_key FROM sighting_links s
               WHERE NOT EXISTS (SELECT 1 FROM id_values v WHERE v.id_key = s.target_key);
             INSERT OR IGNORE INTO correlation_meta (name, value) VALUES ('unstated', 1);
             COMMIT;",
        )?;
    }
    Ok(!existed)
}

/// An in-memory index for an in-memory store (`conn` is its only connection).
pub(super) fn attach_in_memory(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(&format!(
        "ATTACH DATABASE ':memory:' AS {SCHEMA_NAME}; {SCHEMA}"
    ))?;
    Ok(())
}

/// The correlation facts of one queued object version besides its values' texts, as
/// [`read_body_facts`] reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    /// The version's `date_added` (its row in `objects`).
    object_added: i64,
    /// The id key of its id (`write::id_key`).
    key: i64,
    /// How many observable values it states.
    stated: usize,
    /// The key of the id it sights (a sighting).
    sighting_of: Option<i64>,
    /// Whether it is the first version of its id the store held (no version of the id
    /// was queued before it): then only sightings the index has recorded as of an id
    /// not yet stated can sight it (`sighted_unstated`).
    first_of_id: bool,
}

/// A queued object version as [`decode`] gives it: its [`Version`] and its values,
/// `(kind, value)` (texts borrowed from the queue body).
#[cfg(test)]
#[derive(Debug, PartialEq, Eq)]
struct Pending<'a> {
    version: Version,
    values: Vec<(&'a str, &'a str)>,
}

/// The last byte of an object's facts in a queue body: a sighted id's key follows.
const SIGHTS: u8 = 1;
/// The last byte of an object's facts in a queue body: the first version of its id.
/// (Rows queued before schema 13 never say so: they are applied as later versions,
/// which is always right, only slower.)
const FIRST_OF_ID: u8 = 2;

/// Appends one object's correlation facts ([`Version`], and its values) to a queue body: its stamp and key, the
/// count of values, each value's kind and text, then a byte of flags ([`SIGHTS`],
/// [`FIRST_OF_ID`]) and the sighted id's key if it sights one. Integers are
/// little-endian, each text a `u32` length and its bytes. Written by the insert (the
/// critical path: no allocation beyond the body's growth), read by [`decode`].
pub(super) fn encode<K: AsRef<str>>(
    body: &mut Vec<u8>,
    object_added: i64,
    key: i64,
    values: &[(K, String)],
    sighting_of: Option<i64>,
    first_of_id: bool,
) {
    body.extend_from_slice(&object_added.to_le_bytes());
    body.extend_from_slice(&key.to_le_bytes());
    push_len(body, values.len());
    for (kind, value) in values {
        push_text(body, kind.as_ref());
        push_text(body, value);
    }
    let first = if first_of_id { FIRST_OF_ID } else { 0 };
    match sighting_of {
        Some(target) => {
            body.push(SIGHTS | first);
            body.extend_from_slice(&target.to_le_bytes());
        }
        None => body.push(first),
    }
}

/// The bytes [`encode`] appends for an object stating `values` (and sighting an id).
pub(super) fn encoded_len<K: AsRef<str>>(values: &[(K, String)]) -> usize {
    let texts: usize = values
        .iter()
        .map(|(k, v)| 8 + k.as_ref().len() + v.len())
        .sum();
    8 + 8 + 4 + texts + 9
}

fn push_len(body: &mut Vec<u8>, len: usize) {
    body.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

fn push_text(body: &mut Vec<u8>, text: &str) {
    push_len(body, text.len());
    body.extend_from_slice(text.as_bytes());
}

/// The objects of a queue body, in the order [`encode`] wrote them.
#[cfg(test)]
fn decode(body: &[u8]) -> Result<Vec<Pending<'_>>, StoreError> {
    let mut out: Vec<Pending<'_>> = Vec::new();
    let values = std::cell::RefCell::new(Vec::new());
    read_body_facts(
        body,
        |kind, value, _, _| values.borrow_mut().push((kind, value)),
        |version| {
            out.push(Pending {
                version,
                values: values.take(),
            })
        },
    )?;
    Ok(out)
}

/// Reads a queue body as [`encode`] wrote it: `value` is called with each stated value
/// as it is read (kind, text, the version's id key and `date_added`), then `version`
/// with the version's other facts. Nothing is allocated per version: the follower
/// reads hundreds of thousands per bulk load.
fn read_body_facts<'a>(
    body: &'a [u8],
    mut value: impl FnMut(&'a str, &'a str, i64, i64),
    mut version: impl FnMut(Version),
) -> Result<(), StoreError> {
    let mut reader = BodyReader { body, at: 0 };
    while reader.at < body.len() {
        let object_added = reader.i64()?;
        let key = reader.i64()?;
        let count = reader.len()?;
        for _ in 0..count {
            value(reader.text()?, reader.text()?, key, object_added);
        }
        let flags = reader.byte()?;
        if flags & !(SIGHTS | FIRST_OF_ID) != 0 {
            return Err(corrupt(format!("unknown flags {flags:#04x}")));
        }
        let sighting_of = match flags & SIGHTS {
            0 => None,
            _ => Some(reader.i64()?),
        };
        version(Version {
            object_added,
            key,
            stated: count,
            sighting_of,
            first_of_id: flags & FIRST_OF_ID != 0,
        });
    }
    Ok(())
}

struct BodyReader<'a> {
    body: &'a [u8],
    at: usize,
}

impl<'a> BodyReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.body.len());
        let Some(end) = end else {
            return Err(corrupt(format!(
                "queue body ends at byte {}",
                self.body.len()
            )));
        };
        let out = &self.body[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn i64(&mut self) -> Result<i64, StoreError> {
        let bytes = self.take(8)?;
        Ok(i64::from_le_bytes(bytes.try_into().unwrap_or_default()))
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().unwrap_or_default()) as usize)
    }

    fn byte(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }

    fn text(&mut self) -> Result<&'a str, StoreError> {
        let len = self.len()?;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| corrupt("a text is not UTF-8".into()))
    }
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        table: "correlation_queue",
        detail,
    }
}

/// Applies queued rows after the index's mark, [`ROWS_PER_APPLY`] per transaction,
/// until none is left. `conn` reads the store file (its main schema) and writes the
/// index (attached); `memory` is what this follower knows of the index; `body` holds
/// each row's body as it is applied (kept by the follower between applies: a body is
/// megabytes, and a fresh buffer each time was mapped and faulted in anew). Returns
/// the mark reached.
pub(super) fn apply_pending(
    conn: &mut Connection,
    memory: &mut ValueMemory,
    body: &mut Vec<u8>,
) -> Result<i64, StoreError> {
    loop {
        let (mark, applied) = apply_some(conn, memory, body)?;
        if applied == 0 {
            return Ok(mark);
        }
    }
}

/// One transaction of [`apply_pending`]: (the mark after it, rows applied).
fn apply_some(
    conn: &mut Connection,
    memory: &mut ValueMemory,
    body: &mut Vec<u8>,
) -> Result<(i64, usize), StoreError> {
    let (tx, mark) = begin_apply(conn, memory)?;
    let rows: Vec<(i64, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT seq, provider FROM main.correlation_queue
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![mark, ROWS_PER_APPLY], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let Some(last) = rows.last().map(|r| r.0) else {
        tx.commit()?;
        memory.committed(mark);
        return Ok((mark, 0));
    };
    {
        let mut index = Index::prepare(&tx, memory)?;
        for (seq, provider) in &rows {
            let mut batch = Batch::default();
            batch.read(read_body(&tx, *seq, body)?)?;
            batch.flush(&mut index, provider)?;
        }
    }
    commit_apply(tx, memory, last)?;
    Ok((last, rows.len()))
}

/// Starts a transaction of the index that applies rows: returns it and the index's
/// mark. Deferred, and a write to the index first: that takes the index file's write
/// lock (waiting for another process's follower) and no lock on the store file, which
/// the transaction only reads (BEGIN IMMEDIATE would lock every attached file, the
/// store's too, and stop its writer).
fn begin_apply<'c>(
    conn: &'c mut Connection,
    memory: &mut ValueMemory,
) -> Result<(rusqlite::Transaction<'c>, i64), StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO correlation_meta (name, value) VALUES ('applied', ?1)
         ON CONFLICT (name) DO UPDATE SET value = value",
        params![NOTHING_APPLIED],
    )?;
    let mark = applied_mark(&tx)?;
    memory.begin(mark);
    Ok((tx, mark))
}

/// Commits a transaction of [`begin_apply`] with `mark` as the index's mark (the last
/// queue row it applied), in the same transaction as that row's effects.
fn commit_apply(
    tx: rusqlite::Transaction<'_>,
    memory: &mut ValueMemory,
    mark: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE correlation_meta SET value = ?1 WHERE name = 'applied'",
        params![mark],
    )?;
    tx.commit()?;
    memory.committed(mark);
    Ok(())
}

/// Applies the oldest insert applied ahead (the module's doc): first the rows queued
/// before it, then its pieces as they come, in one transaction committed with the
/// insert's row as the mark if the insert committed and that row is the only one after
/// the mark the transaction started from; rolled back otherwise. The insert is taken
/// off the list whatever happens. Returns the mark reached.
fn apply_ahead(
    conn: &mut Connection,
    memory: &mut ValueMemory,
    body: &mut Vec<u8>,
    shared: &Shared,
) -> Result<i64, StoreError> {
    let outcome = apply_ahead_in_one(conn, memory, body, shared);
    let mut state = shared.lock();
    state.ahead.pop_front();
    outcome
}

fn apply_ahead_in_one(
    conn: &mut Connection,
    memory: &mut ValueMemory,
    body: &mut Vec<u8>,
    shared: &Shared,
) -> Result<i64, StoreError> {
    // The insert holds the store's write lock: what is queued now was committed before
    // it, and nothing more can be until it commits.
    let before = apply_pending(conn, memory, body)?;
    // An insert that has ended by now is applied from the queue (its row was, if it
    // committed before the rows above were read), as are those the follower gave up.
    let Some((number, provider)) = shared
        .lock()
        .ahead
        .front()
        .filter(|a| a.end.is_none())
        .map(|a| (a.number, a.provider.clone()))
    else {
        return Ok(before);
    };
    let (tx, mark) = begin_apply(conn, memory)?;
    let end = {
        let mut index = Index::prepare(&tx, memory)?;
        loop {
            let (pieces, end) = next_pieces(shared, number);
            for piece in &pieces {
                let mut batch = Batch::default();
                batch.read(piece)?;
                batch.flush(&mut index, &provider)?;
            }
            if let Some(end) = end {
                break end;
            }
        }
    };
    match end {
        Some(seq) if seq > mark && rows_between(&tx, mark, seq)? == [seq] => {
            commit_apply(tx, memory, seq)?;
            Ok(seq)
        }
        // Rolled back (the transaction's drop): the memory holds what it wrote.
        _ => {
            drop(tx);
            memory.forget();
            Ok(mark)
        }
    }
}

/// Waits for pieces of insert `number` or its end, and takes them: the pieces, and
/// the end if it came (`Some(None)` too when the follower was given up on or the store
/// closes).
fn next_pieces(shared: &Shared, number: u64) -> (Vec<Vec<u8>>, Option<Option<i64>>) {
    let mut state = shared.lock();
    loop {
        let stop = state.stop;
        let Some(ahead) = state.ahead.iter_mut().find(|a| a.number == number) else {
            return (Vec::new(), Some(None));
        };
        if !ahead.pieces.is_empty() || ahead.end.is_some() {
            let pieces: Vec<Vec<u8>> = ahead.pieces.drain(..).collect();
            // The end counts once every piece before it is taken.
            return (pieces, ahead.end);
        }
        if stop {
            return (Vec::new(), Some(None));
        }
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(|p| p.into_inner());
    }
}

/// The queue rows after `mark` up to `last` (their `seq`s, at most two), read at the
/// store's latest commit.
fn rows_between(tx: &Connection, mark: i64, last: i64) -> Result<Vec<i64>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT seq FROM main.correlation_queue WHERE seq > ?1 AND seq <= ?2
         ORDER BY seq LIMIT 2",
    )?;
    let rows = stmt.query_map(params![mark, last], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reads the body of queue row `seq` into `body`, through SQLite's incremental blob
/// I/O, and returns it: a body is megabytes, and read as a column it was copied twice
/// (into a buffer SQLite allocated, then into ours), each copy into fresh pages. The
/// buffer only grows, and only its growth is zeroed (`Read::read_to_end` zeroed all of
/// it for every row: 5% of the follower's time, `perf`).
fn read_body<'b>(
    conn: &Connection,
    seq: i64,
    body: &'b mut Vec<u8>,
) -> Result<&'b [u8], StoreError> {
    let blob = conn.blob_open(rusqlite::MAIN_DB, c"correlation_queue", c"body", seq, true)?;
    let len = blob.len();
    if body.len() < len {
        body.resize(len, 0);
    }
    let read = &mut body[..len];
    blob.read_at_exact(read, 0)
        .map_err(|e| corrupt(format!("queue row {seq} cannot be read: {e}")))?;
    Ok(read)
}

/// The index's mark (the last queue `seq` applied), read through `conn` with the
/// index attached.
pub(super) fn applied_mark(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .query_row(
            "SELECT value FROM correlation_meta WHERE name = 'applied'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(NOTHING_APPLIED))
}

/// The index as one transaction writes it: its statements, prepared once, and the
/// follower's memory of it.
struct Index<'t> {
    tx: &'t Connection,
    memory: &'t mut ValueMemory,
    find: CachedStatement<'t>,
    intern: CachedStatement<'t>,
    providers_of: CachedStatement<'t>,
    set_providers: CachedStatement<'t>,
    find_pid: CachedStatement<'t>,
    add_pid: CachedStatement<'t>,
    values_of: CachedStatement<'t>,
    sighters_of: CachedStatement<'t>,
    add_unstated: CachedStatement<'t>,
}

impl<'t> Index<'t> {
    fn prepare(tx: &'t Connection, memory: &'t mut ValueMemory) -> Result<Self, StoreError> {
        Ok(Index {
            tx,
            memory,
            find: tx.prepare_cached(
                "SELECT kind, value, provider_set FROM obs_values WHERE vid = ?1",
            )?,
            // OR IGNORE (the vid was just found free, so nothing is ignored): a
            // statement that cannot abort needs no statement journal, which SQLite
            // otherwise writes, a whole page per new value, to a temporary file.
            intern: tx.prepare_cached(
                "INSERT OR IGNORE INTO obs_values (vid, kind, value, providers, provider_set)
                 VALUES (?1, ?2, ?3, 1, ?4)",
            )?,
            providers_of: tx
                .prepare_cached("SELECT provider_set FROM obs_values WHERE vid = ?1")?,
            set_providers: tx.prepare_cached(
                "UPDATE obs_values SET providers = ?2, provider_set = ?3 WHERE vid = ?1",
            )?,
            find_pid: tx.prepare_cached("SELECT pid FROM providers WHERE name = ?1")?,
            add_pid: tx.prepare_cached(
                "INSERT OR IGNORE INTO providers (name) VALUES (?1) RETURNING pid",
            )?,
            values_of: tx.prepare_cached(VALUES_OF_SIGHTED)?,
            sighters_of: tx.prepare_cached(SIGHTERS_OF)?,
            add_unstated: tx.prepare_cached(
                "INSERT OR IGNORE INTO sighted_unstated (target_key) VALUES (?1)",
            )?,
        })
    }

    /// Whether the id of key `key` may have been sighted before any version of it
    /// stating values was applied (when the memory cannot tell, it may).
    fn maybe_unstated(&mut self, key: i64) -> Result<bool, StoreError> {
        if matches!(self.memory.unstated, Unstated::Unread) {
            let mut read = self
                .tx
                .prepare_cached("SELECT target_key FROM sighted_unstated LIMIT ?1")?;
            let bound = i64::try_from(MEMORY_UNSTATED).unwrap_or(i64::MAX);
            let keys = read
                .query_map(params![bound + 1], |r| r.get::<_, i64>(0))?
                .collect::<Result<foldhash::HashSet<i64>, _>>()?;
            self.memory.unstated = if keys.len() > MEMORY_UNSTATED {
                Unstated::TooMany
            } else {
                Unstated::Known(keys)
            };
        }
        Ok(match &self.memory.unstated {
            Unstated::Known(keys) => keys.contains(&key),
            Unstated::Unread | Unstated::TooMany => true,
        })
    }

    /// Records ids sighted while none of their versions stating values is applied.
    fn note_unstated(&mut self, keys: &[i64]) -> Result<(), StoreError> {
        for &key in keys {
            self.add_unstated.execute(params![key])?;
            if let Unstated::Known(known) = &mut self.memory.unstated {
                known.insert(key);
            }
        }
        Ok(())
    }

    /// The id of key `key` now has a version stating values applied: a later sighting
    /// finds its values (its record as sighted and not stated is no longer needed).
    fn now_stated(&mut self, key: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("DELETE FROM sighted_unstated WHERE target_key = ?1")?
            .execute(params![key])?;
        if let Unstated::Known(known) = &mut self.memory.unstated {
            known.remove(&key);
        }
        Ok(())
    }

    /// The `vid` of a value stated by the provider numbered `stated_by`, interned if new.
    #[cfg(test)]
    fn vid(&mut self, kind: &str, value: &str, stated_by: Pid) -> Result<i64, StoreError> {
        let digest = ValueDigest::of(kind, value);
        match self.memory.vid(digest) {
            Some(vid) => Ok(vid),
            None => self.resolve(digest, kind, value, stated_by),
        }
    }

    /// The `vid` of a value the memory does not hold, of digest `digest`, stated by the
    /// provider numbered `stated_by`. A value found is remembered with its providers
    /// (read from the same row); a new one is interned with its provider (its row
    /// written once, not again to add it). The texts are compared here rather than
    /// bound into the statement (a copy of each into SQLite per probe).
    fn resolve(
        &mut self,
        digest: ValueDigest,
        kind: &str,
        value: &str,
        stated_by: Pid,
    ) -> Result<i64, StoreError> {
        let find = &mut self.find;
        let mut providers = ProviderSet::default();
        let found = probe(digest.key, kind, value, |vid| {
            let mut rows = find.query(params![vid])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let text = |at: usize| row.get_ref(at).and_then(|v| Ok(v.as_str()?));
            let same = text(0)? == kind && text(1)? == value;
            if same {
                let set = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
                providers = ProviderSet::from_blob(set);
            }
            Ok(Some(same))
        })?;
        let vid = match found {
            Ok(vid) => vid,
            Err(free) => {
                providers.insert(stated_by);
                self.intern
                    .execute(params![free, kind, value, &providers.to_blob()[..]])?;
                free
            }
        };
        self.memory.remember_providers(vid, providers);
        self.memory.remember_vid(digest, vid);
        Ok(vid)
    }

    /// A provider's number, given one if new.
    fn pid(&mut self, provider: &str) -> Result<Pid, StoreError> {
        if let Some(pid) = self.memory.pid(provider) {
            return Ok(pid);
        }
        let found: Option<i64> = self
            .find_pid
            .query_row(params![provider], |r| r.get(0))
            .optional()?;
        let pid = match found {
            Some(pid) => pid,
            None => self.add_pid.query_row(params![provider], |r| r.get(0))?,
        };
        let pid =
            Pid::try_from(pid).map_err(|_| corrupt_index(format!("provider number {pid}")))?;
        self.memory.remember_pid(provider, pid);
        Ok(pid)
    }

    /// Adds providers to values: `additions` are (vid, pid) pairs, sorted. A value's
    /// row is rewritten once, and only if its set grew.
    fn add_providers(&mut self, additions: &[(i64, Pid)]) -> Result<(), StoreError> {
        for group in additions.chunk_by(|a, b| a.0 == b.0) {
            let vid = group[0].0;
            if self.memory.providers_mut(vid).is_none() {
                let blob: Vec<u8> = self
                    .providers_of
                    .query_row(params![vid], |r| r.get(0))
                    .optional()?
                    .unwrap_or_default();
                self.memory
                    .remember_providers(vid, ProviderSet::from_blob(&blob));
            }
            let Some(set) = self.memory.providers_mut(vid) else {
                continue;
            };
            let mut grew = false;
            for (_, pid) in group {
                grew |= set.insert(*pid);
            }
            if grew {
                let count = i64::try_from(set.len()).unwrap_or(i64::MAX);
                let blob = set.to_blob();
                self.set_providers.execute(params![vid, count, &blob[..]])?;
            }
        }
        Ok(())
    }
}

fn corrupt_index(detail: String) -> StoreError {
    StoreError::Corrupt {
        table: "correlation.providers",
        detail,
    }
}

/// What one queued row adds to the index, gathered before it is written: each value
/// looked up once (in the follower's memory first), and every lookup, insert and probe
/// made in key order, so that consecutive ones go through the same B-tree pages
/// instead of one random page each (values, ids and sighted ids by hash); each value's
/// providers rewritten once. Measured (BENCHMARKS.md, "Correlation and trends"):
/// per-object upserts and statements made ingest several times slower. The providers
/// of a value are a set (stating objects' providers, and those sighting any version of
/// an object stating it), whatever the order of objects and sightings.
#[derive(Default)]
struct Batch<'a> {
    /// Values stated: (kind, value, id key, object_added) of each.
    stated: Vec<(&'a str, &'a str, i64, i64)>,
    /// (target_key, object_added) rows of `sighting_links`.
    sighting_links: Vec<(i64, i64)>,
    /// The keys of the ids whose first version is in the batch and states values.
    first_ids: Vec<i64>,
}

impl<'a> Batch<'a> {
    /// Gathers the facts of every object version of a queue body: the values each
    /// states, the key of the id each sights.
    fn read(&mut self, body: &'a [u8]) -> Result<(), StoreError> {
        let Batch {
            stated,
            sighting_links,
            first_ids,
        } = self;
        read_body_facts(
            body,
            |kind, value, key, object_added| stated.push((kind, value, key, object_added)),
            |version| {
                if version.first_of_id && version.stated > 0 {
                    first_ids.push(version.key);
                }
                if let Some(target_key) = version.sighting_of {
                    sighting_links.push((target_key, version.object_added));
                }
            },
        )
    }

    /// Writes what the batch gathered (all its objects by `provider`).
    fn flush(self, index: &mut Index<'_>, provider: &str) -> Result<(), StoreError> {
        let Batch {
            stated,
            mut sighting_links,
            mut first_ids,
        } = self;
        let pid = index.pid(provider)?;
        // Each value once, grouped by its digest (a sort of the batch by text cost more
        // than the memory's look-ups it ordered).
        let mut distinct: foldhash::HashMap<ValueDigest, usize> =
            foldhash::HashMap::with_capacity_and_hasher(stated.len(), Default::default());
        let mut values: Vec<(ValueDigest, &str, &str)> = Vec::with_capacity(stated.len());
        let mut members: Vec<usize> = Vec::with_capacity(stated.len());
        for &(kind, value, _, _) in &stated {
            let digest = ValueDigest::of(kind, value);
            let at = *distinct.entry(digest).or_insert_with(|| {
                values.push((digest, kind, value));
                values.len() - 1
            });
            members.push(at);
        }
        let mut vids: Vec<i64> = vec![0; values.len()];
        // The values the memory lacks, found in key order: their rows are keyed by it.
        let mut unknown: Vec<(i64, usize)> = Vec::new();
        for (at, &(digest, _, _)) in values.iter().enumerate() {
            match index.memory.vid(digest) {
                Some(vid) => vids[at] = vid,
                None => unknown.push((digest.key, at)),
            }
        }
        unknown.sort_unstable();
        for (_, at) in unknown {
            let (digest, kind, value) = values[at];
            vids[at] = index.resolve(digest, kind, value, pid)?;
        }
        // (vid, object_added): rows of `obs_links`.
        let mut links: Vec<(i64, i64)> = Vec::with_capacity(stated.len());
        // (id key, vid): rows of `id_values`, and the stating objects' values.
        let mut stating: Vec<(i64, i64)> = Vec::with_capacity(stated.len());
        for (&(_, _, key, object_added), &at) in stated.iter().zip(&members) {
            links.push((vids[at], object_added));
            stating.push((key, vids[at]));
        }
        insert_rows(
            index.tx,
            "obs_links (vid, object_added)",
            sorted(&mut links),
            None,
        )?;
        insert_rows(
            index.tx,
            "id_values (id_key, vid)",
            sorted(&mut stating),
            None,
        )?;
        insert_rows(
            index.tx,
            "sighting_links (target_key, object_added, provider)",
            sorted(&mut sighting_links),
            Some(provider),
        )?;
        first_ids.sort_unstable();
        let is_first = |key: i64| first_ids.binary_search(&key).is_ok();
        for same_id in stating.chunk_by(|a, b| a.0 == b.0) {
            let key = same_id[0].0;
            let vids = same_id.iter().map(|&(_, vid)| vid);
            index.memory.stated(key, vids, is_first(key));
        }
        // What the batch's own provider states, and sights: the values of every
        // version of what its sightings sight (stored before, or in this batch: its
        // rows are written). An id sighted with none is recorded as such.
        let mut additions: Vec<(i64, Pid)> = stating.iter().map(|&(_, vid)| (vid, pid)).collect();
        let mut sighted: Vec<i64> = sighting_links.iter().map(|&(key, _)| key).collect();
        sighted.dedup();
        let mut unstated: Vec<i64> = Vec::new();
        for key in sighted {
            if let Some(known) = index.memory.id_values(key).map(IdValues::as_slice) {
                additions.extend(known.iter().map(|&vid| (vid, pid)));
                continue;
            }
            let before = additions.len();
            let mut rows = index.values_of.query(params![key])?;
            while let Some(row) = rows.next()? {
                additions.push((row.get(0)?, pid));
            }
            if additions.len() == before {
                unstated.push(key);
            }
        }
        index.note_unstated(&unstated)?;
        // Sightings of the batch's stating objects (stored before, or in this batch):
        // their providers sight those values. Not looked for when the batch holds the
        // id's first version and no sighting of it came before (those of this batch
        // were counted above, from the sighting's side).
        let mut sighters: Vec<String> = Vec::new();
        for same_id in stating.chunk_by(|a, b| a.0 == b.0) {
            let key = same_id[0].0;
            let first = is_first(key);
            if first && !index.maybe_unstated(key)? {
                continue;
            }
            sighters.clear();
            {
                let mut rows = index.sighters_of.query(params![key])?;
                while let Some(row) = rows.next()? {
                    let sighter = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                    if !sighters.iter().any(|s| s == sighter) {
                        sighters.push(sighter.to_owned());
                    }
                }
            }
            for sighter in &sighters {
                let sighter = index.pid(sighter)?;
                additions.extend(same_id.iter().map(|&(_, vid)| (vid, sighter)));
            }
            // Found here, the id was recorded as sighted and not stated.
            if first && !sighters.is_empty() {
                index.now_stated(key)?;
            }
        }
        additions.sort_unstable();
        additions.dedup();
        index.add_providers(&additions)
    }
}

/// The values stated by the id of the key `?1`: what sightings of it sight.
const VALUES_OF_SIGHTED: &str = "SELECT vid FROM id_values WHERE id_key = ?1";

/// The providers of the sightings of the id of the key `?1` (repeated: DISTINCT would
/// build a temporary table per probe, and most probes find nothing).
const SIGHTERS_OF: &str = "SELECT provider FROM sighting_links WHERE target_key = ?1";

/// Rows per statement of [`insert_rows`]: a statement's run (binding, stepping,
/// resetting) costs about as much as the B-tree insert of a small row, so rows go in
/// many at a time.
const ROWS_PER_INSERT: usize = 64;

/// Inserts `rows` (pairs, with `tail` as a third column when given) into `target`
/// (a table and its columns), [`ROWS_PER_INSERT`] per statement, ignoring rows
/// already there.
fn insert_rows(
    tx: &Connection,
    target: &str,
    rows: &[(i64, i64)],
    tail: Option<&str>,
) -> Result<(), StoreError> {
    let row = if tail.is_some() {
        "(?, ?, ?)"
    } else {
        "(?, ?)"
    };
    let sql = |n: usize| {
        format!(
            "INSERT OR IGNORE INTO {target} VALUES {}",
            vec![row; n].join(", ")
        )
    };
    let run = |stmt: &mut CachedStatement<'_>, rows: &[(i64, i64)]| -> rusqlite::Result<()> {
        let mut at = 1;
        for (a, b) in rows {
            stmt.raw_bind_parameter(at, a)?;
            stmt.raw_bind_parameter(at + 1, b)?;
            at += 2;
            if let Some(tail) = tail {
                stmt.raw_bind_parameter(at, tail)?;
                at += 1;
            }
        }
        stmt.raw_execute().map(|_| ())
    };
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    if rows.len() >= ROWS_PER_INSERT {
        let mut many = tx.prepare_cached(&sql(ROWS_PER_INSERT))?;
        for chunk in &mut chunks {
            run(&mut many, chunk)?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut one = tx.prepare_cached(&sql(1))?;
        for row in rest.chunks(1) {
            run(&mut one, row)?;
        }
    }
    Ok(())
}

/// Pairs sorted, without repeats, so that inserts and probes go through the B-trees
/// in key order (appended in order, not one random page each).
fn sorted(rows: &mut Vec<(i64, i64)>) -> &[(i64, i64)] {
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// Where this process's follower stands.
#[derive(Default)]
struct State {
    /// The last queue `seq` this process wrote.
    wanted: i64,
    /// The index's mark as the follower last read or wrote it.
    applied: i64,
    /// The last apply's failure, in words (cleared by a success).
    failure: Option<String>,
    /// The store is closing: drain and stop.
    stop: bool,
    /// Object versions in the rows this process queued since the follower last started
    /// applying.
    waiting_versions: usize,
    /// When the first of them was queued.
    waiting_since: Option<Instant>,
    /// Threads waiting in [`Follower::settle`] (they need the index now).
    settling: usize,
    /// What is queued is to be applied now, without gathering more
    /// ([`Follower::hurry`]); cleared when an apply starts.
    hurried: bool,
    /// Inserts being applied ahead, oldest first (the writer's current one last).
    ahead: VecDeque<Ahead>,
    /// The index's log is to be copied into its file once nothing is pending
    /// ([`Follower::checkpoint_soon`]).
    checkpoint: bool,
    /// The number the next insert applied ahead gets.
    next_ahead: u64,
}

/// An insert applied ahead ([`Shared::ahead`]): the pieces of its queue body handed
/// over and not yet taken by the follower, and how it ended.
struct Ahead {
    /// Tells it from the others (the writer names it in [`Shared::ahead_piece`]).
    number: u64,
    /// The inserting provider.
    provider: String,
    /// Pieces of the body, each a run of whole [`encode`]d versions.
    pieces: VecDeque<Vec<u8>>,
    /// `None` while the insert runs; then `Some(Some(seq))` if it committed with the
    /// queue row `seq`, `Some(None)` if it did not (or queued nothing).
    end: Option<Option<i64>>,
}

impl State {
    /// Whether the follower should apply now rather than wait for more rows: some are
    /// pending and someone needs them (a query, a bulk load's end, the store closing),
    /// enough have gathered, or the first has waited [`GATHER_FOR`]. Otherwise how long
    /// it may go on waiting (`Err`), `None` when nothing is pending.
    fn due(&self, now: Instant) -> Result<(), Option<Duration>> {
        if !self.ahead.is_empty() {
            return Ok(());
        }
        if self.applied >= self.wanted {
            return Err(None);
        }
        if self.stop
            || self.settling > 0
            || self.hurried
            || self.waiting_versions >= GATHER_VERSIONS
        {
            return Ok(());
        }
        let waited = self.waiting_since.map_or(GATHER_FOR, |t| now - t);
        match GATHER_FOR.checked_sub(waited) {
            Some(left) if !left.is_zero() => Err(Some(left)),
            _ => Ok(()),
        }
    }
}

/// The shared state and its signal.
#[derive(Default)]
pub(super) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The index's mark as last seen (the writer deletes queue rows up to it).
    pub(super) fn applied(&self) -> i64 {
        self.lock().applied
    }
}

/// The thread that applies the queue to the index, one per writable store handle.
pub(super) struct Follower {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The thread's id in the operating system, where it says (Linux).
    thread_id: Option<u32>,
}

impl Follower {
    /// Starts following the store at `store` (its index file created). Applies what a
    /// crashed process left queued at once.
    pub(super) fn start(store: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open_with_flags(
            store,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_FOR)?;
        super::plan_once(&conn)?;
        attach(&conn, store)?;
        // The index's commits are as durable as the store's (the writer deletes queue
        // rows the index says it applied: the index must keep them).
        conn.pragma_update(Some(SCHEMA_NAME), "synchronous", "FULL")?;
        // Values, ids and links are looked up at random: the index's cache as large as
        // the writer's. The store file is only read for the queue, once, in order.
        conn.pragma_update(Some(SCHEMA_NAME), "cache_size", -CACHE_KIB)?;
        conn.pragma_update(None, "cache_size", -QUEUE_CACHE_KIB)?;
        // The follower only reads the store file: this bounds the index's log alone.
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)?;
        // The apply's statements (with the multi-row inserts') all stay prepared.
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        let mut memory = ValueMemory::default();
        let mark = apply_pending(&mut conn, &mut memory, &mut Vec::new())?;
        let shared = Arc::new(Shared::default());
        {
            let mut state = shared.lock();
            state.applied = mark;
            state.wanted = mark;
        }
        let (id_sender, id_receiver) = std::sync::mpsc::sync_channel(1);
        let thread = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("accord-correlation".into())
                .spawn(move || {
                    let _ = id_sender.send(current_thread_id());
                    follow(conn, memory, &shared)
                })
                .map_err(|e| {
                    StoreError::Database(format!("cannot start the correlation follower: {e}"))
                })?
        };
        let thread_id = id_receiver.recv().ok().flatten();
        Ok(Self {
            shared,
            thread: Some(thread),
            thread_id,
        })
    }

    /// The follower thread's id in the operating system (Linux), for a caller that
    /// sets its scheduling priority (a bulk load gives the writer precedence).
    pub(super) fn thread_id(&self) -> Option<u32> {
        self.thread_id
    }

    /// The state the writer reads and signals.
    pub(super) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Waits until the index has applied everything this process queued.
    /// Has the follower start applying what this process queued, without waiting for
    /// it (a bulk load's end: the store's own checkpoint then runs while the follower
    /// applies, instead of after it; [`Follower::settle`] waits).
    pub(super) fn hurry(&self) {
        let mut state = self.shared.lock();
        if state.applied < state.wanted {
            state.hurried = true;
            self.shared.changed.notify_all();
        }
    }

    /// Has the follower copy the index's log into its file once it has applied what is
    /// queued (a bulk load's end, while the writer copies the store's own log): the
    /// copy the closing connection would make after the store's, on the load's
    /// critical path, is made beside it.
    pub(super) fn checkpoint_soon(&self) {
        let mut state = self.shared.lock();
        state.checkpoint = true;
        self.shared.changed.notify_all();
    }

    pub(super) fn settle(&self) -> Result<(), StoreError> {
        let mut state = self.shared.lock();
        if state.applied >= state.wanted {
            return Ok(());
        }
        // The follower applies now instead of gathering more rows.
        state.settling += 1;
        self.shared.changed.notify_all();
        let outcome = loop {
            if state.applied >= state.wanted {
                break Ok(());
            }
            if let Some(failure) = &state.failure {
                break Err(StoreError::CorrelationBehind(failure.clone()));
            }
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        };
        state.settling -= 1;
        outcome
    }
}

impl Shared {
    /// Tells the follower that a row is queued (called after the insert committed).
    pub(super) fn queued(&self, row: &Queued) {
        let mut state = self.lock();
        state.wanted = state.wanted.max(row.seq);
        if state.applied >= row.seq {
            // Applied ahead: nothing waits.
            return;
        }
        state.waiting_versions += row.versions;
        state.waiting_since.get_or_insert_with(Instant::now);
        self.changed.notify_all();
    }

    /// An insert by `provider` starts being applied ahead (called in its transaction,
    /// which holds the store's write lock); returns its number. `None` when
    /// [`AHEAD_HELD`] inserts already wait for the follower: the insert is then applied
    /// from the queue, so that a follower slower than the writer holds at most that
    /// many queue bodies in memory (the queue itself is on disk).
    pub(super) fn ahead(&self, provider: &str) -> Option<u64> {
        let mut state = self.lock();
        if state.ahead.len() >= AHEAD_HELD {
            return None;
        }
        let number = state.next_ahead;
        state.next_ahead += 1;
        state.ahead.push_back(Ahead {
            number,
            provider: provider.to_owned(),
            pieces: VecDeque::new(),
            end: None,
        });
        self.changed.notify_all();
        Some(number)
    }

    /// Hands the follower the next piece of insert `number`'s queue body (whole
    /// versions). Ignored when the follower has given that insert up.
    pub(super) fn ahead_piece(&self, number: u64, piece: &[u8]) {
        let mut state = self.lock();
        if let Some(ahead) = state.ahead.iter_mut().find(|a| a.number == number) {
            ahead.pieces.push_back(piece.to_vec());
            self.changed.notify_all();
        }
    }

    /// Insert `number` ended: committed with the queue row `seq`, or not (`None`).
    pub(super) fn ahead_end(&self, number: u64, seq: Option<i64>) {
        let mut state = self.lock();
        if let Some(ahead) = state.ahead.iter_mut().find(|a| a.number == number) {
            ahead.end = Some(seq);
            self.changed.notify_all();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            self.shared.changed.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The calling thread's id as Linux numbers threads (`/proc/thread-self` links to
/// `<pid>/task/<tid>`); `None` elsewhere.
fn current_thread_id() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

fn follow(mut conn: Connection, mut memory: ValueMemory, shared: &Shared) {
    let mut body = Vec::new();
    loop {
        {
            let mut state = shared.lock();
            loop {
                match state.due(Instant::now()) {
                    Ok(()) => break,
                    Err(None) if state.stop => return,
                    Err(None) if state.checkpoint => {
                        state.checkpoint = false;
                        drop(state);
                        checkpoint_now(&conn);
                        state = shared.lock();
                    }
                    Err(None) => {
                        state = shared
                            .changed
                            .wait(state)
                            .unwrap_or_else(|p| p.into_inner());
                    }
                    Err(Some(left)) => {
                        state = shared
                            .changed
                            .wait_timeout(state, left)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                    }
                }
            }
            state.waiting_versions = 0;
            state.waiting_since = None;
            state.hurried = false;
        }
        // A panic (a bug) must not leave `settle` waiting for a thread that is gone.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if shared.lock().ahead.is_empty() {
                apply_pending(&mut conn, &mut memory, &mut body)
            } else {
                apply_ahead(&mut conn, &mut memory, &mut body, shared)
            }
        }))
        .unwrap_or_else(|_| {
            Err(StoreError::CorrelationBehind(
                "the correlation follower failed; the queue is applied again on the next open"
                    .into(),
            ))
        });
        let mut state = shared.lock();
        match result {
            Ok(mark) => {
                state.applied = state.applied.max(mark);
                state.failure = None;
            }
            Err(e) => {
                state.failure = Some(e.to_string());
                let stop = state.stop;
                shared.changed.notify_all();
                drop(state);
                if stop {
                    // Closing: the rows stay queued for the next open.
                    return;
                }
                thread::sleep(RETRY_AFTER);
                continue;
            }
        }
        shared.changed.notify_all();
    }
}

/// Copies the index's log into its file and empties the log, without waiting for
/// readers: one that still reads the log keeps what it reads (the copy then stops
/// short, and the log is left to the next checkpoint). Emptied here, the log is not
/// deleted by the closing connection after the load (the kernel dropping tens of
/// megabytes of cached pages, measured on the load's critical path).
fn checkpoint_now(conn: &Connection) {
    if conn.busy_timeout(Duration::ZERO).is_err() {
        return;
    }
    let _ = conn.query_row(
        &format!("PRAGMA {SCHEMA_NAME}.wal_checkpoint(TRUNCATE)"),
        [],
        |_| Ok(()),
    );
    let _ = conn.busy_timeout(BUSY_FOR);
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;

    use super::*;

    /// The follower gathers small rows for [`GATHER_FOR`], applies a bulk batch at
    /// once, and never keeps a waiting query or a closing store waiting.
    #[test]
    fn the_follower_gathers_small_rows_and_never_a_waiter() {
        let t0 = Instant::now();
        let mut state = State {
            wanted: 10,
            applied: 5,
            waiting_versions: 1_000,
            waiting_since: Some(t0),
            ..State::default()
        };
        assert_eq!(state.due(t0), Err(Some(GATHER_FOR)), "a TAXII page waits");
        let half = GATHER_FOR / 2;
        assert_eq!(state.due(t0 + half), Err(Some(GATHER_FOR - half)));
        assert_eq!(state.due(t0 + GATHER_FOR), Ok(()), "until its time is up");
        state.settling = 1;
        assert_eq!(
            state.due(t0),
            Ok(()),
            "a query of this process waits for nobody"
        );
        state.settling = 0;
        state.hurried = true;
        assert_eq!(
            state.due(t0),
            Ok(()),
            "a bulk load's end waits for nothing more"
        );
        state.hurried = false;
        state.stop = true;
        assert_eq!(state.due(t0), Ok(()), "a closing store drains at once");
        state.stop = false;
        state.waiting_versions = GATHER_VERSIONS;
        assert_eq!(state.due(t0), Ok(()), "a bulk batch is applied in step");
        state.applied = 10;
        assert_eq!(state.due(t0 + GATHER_FOR), Err(None), "nothing pending");
    }

    /// The batch's joins with sightings probe the indexes once per key of the batch:
    /// no scan of the links or sightings.
    #[test]
    fn batch_sighting_joins_use_indexes() {
        let conn = super::super::plan::empty_store();
        let keys = [Value::Integer(1)];
        for sql in [VALUES_OF_SIGHTED, SIGHTERS_OF] {
            let plan = super::super::plan::of(&conn, sql, &keys);
            assert!(!plan.contains("SCAN id_values"), "{plan}");
            assert!(!plan.contains("SCAN sighting_links"), "{plan}");
            assert!(plan.contains("SEARCH"), "{plan}");
        }
    }

    /// A value whose key another value holds (standing for a collision: the row at
    /// the key is another value) takes the next free vid, and is found there again, by
    /// a follower with an empty memory and by readers.
    #[test]
    fn a_value_whose_key_is_taken_goes_to_the_next_free_vid() {
        let conn = super::super::plan::empty_store();
        let key = value_key("ip", "192.0.2.1");
        conn.execute(
            "INSERT INTO obs_values (vid, kind, value) VALUES (?1, 'domain', 'taken.example')",
            params![key],
        )
        .unwrap();
        for _ in 0..2 {
            let mut memory = ValueMemory::default();
            let mut index = Index::prepare(&conn, &mut memory).unwrap();
            assert_eq!(
                index.vid("ip", "192.0.2.1", 1).unwrap(),
                key.wrapping_add(1)
            );
        }
        let found = |kind: &str, value: &str| {
            find_value(&conn, kind, value)
                .unwrap()
                .map(|row| (row.vid, row.kind, row.value))
        };
        assert_eq!(
            found("ip", "192.0.2.1"),
            Some((key.wrapping_add(1), "ip".into(), "192.0.2.1".into()))
        );
        assert_eq!(found("ip", "192.0.2.2"), None);
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM obs_values", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2, "each value interned once");
    }

    /// A run of taken vids longer than any collision makes is a damaged index: an
    /// error naming the value, not an endless probe.
    #[test]
    fn an_endless_run_of_taken_vids_is_refused() {
        let mut probes = 0;
        let outcome = probe(value_key("ip", "192.0.2.1"), "ip", "192.0.2.1", |_| {
            probes += 1;
            Ok(Some(false))
        });
        assert_eq!(probes, MAX_PROBES);
        let message = outcome.unwrap_err().to_string();
        assert!(message.contains("192.0.2.1"), "{message}");
    }

    #[test]
    fn a_body_decodes_to_what_was_encoded() {
        let mut body = Vec::new();
        let values = vec![
            ("ip".to_string(), "198.51.100.7".to_string()),
            ("domain".to_string(), "ünïcode.example".to_string()),
        ];
        encode(&mut body, 17, -3, &values, None, true);
        let first = body.len();
        assert!(first <= encoded_len(&values), "the reserve covers the body");
        let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (&**k, &**v)).collect();
        encode::<&str>(&mut body, 18, 9, &[], Some(-77), false);
        assert_eq!(
            body.len() - first,
            encoded_len::<&str>(&[]),
            "exact with a sighting"
        );
        let decoded = decode(&body).unwrap();
        assert_eq!(
            decoded,
            vec![
                Pending {
                    version: Version {
                        object_added: 17,
                        key: -3,
                        stated: 2,
                        sighting_of: None,
                        first_of_id: true,
                    },
                    values,
                },
                Pending {
                    version: Version {
                        object_added: 18,
                        key: 9,
                        stated: 0,
                        sighting_of: Some(-77),
                        first_of_id: false,
                    },
                    values: vec![],
                },
            ]
        );
    }

    proptest::proptest! {
        /// Any objects' facts come back as they were encoded, and any cut or changed
        /// body decodes to an error or to objects, never a panic.
        #[test]
        fn bodies_round_trip_and_damage_never_panics(
            objects in proptest::collection::vec(
                (
                    proptest::num::i64::ANY,
                    proptest::num::i64::ANY,
                    proptest::collection::vec((".{0,8}", ".{0,40}"), 0..4),
                    proptest::option::of(proptest::num::i64::ANY),
                    proptest::bool::ANY,
                ),
                0..6,
            ),
            cut in 0usize..2_000,
            flip in proptest::num::u8::ANY,
        ) {
            let mut body = Vec::new();
            for (added, key, values, sighting, first) in &objects {
                encode(&mut body, *added, *key, values, *sighting, *first);
            }
            let decoded = decode(&body).unwrap();
            let expected: Vec<Pending> = objects
                .iter()
                .map(|(object_added, key, values, sighting_of, first_of_id)| Pending {
                    version: Version {
                        object_added: *object_added,
                        key: *key,
                        stated: values.len(),
                        sighting_of: *sighting_of,
                        first_of_id: *first_of_id,
                    },
                    values: values.iter().map(|(k, v)| (&**k, &**v)).collect(),
                })
                .collect();
            proptest::prop_assert_eq!(decoded, expected);
            let _ = decode(&body[..cut.min(body.len())]);
            if !body.is_empty() {
                let at = cut % body.len();
                body[at] ^= flip;
                let _ = decode(&body);
            }
        }
    }

    #[test]
    fn a_truncated_body_is_refused_not_misread() {
        let mut body = Vec::new();
        encode::<String>(
            &mut body,
            1,
            2,
            &[("ip".into(), "192.0.2.1".into())],
            None,
            false,
        );
        for cut in 1..body.len() {
            assert!(decode(&body[..cut]).is_err(), "cut at {cut}");
        }
    }

    /// A store file with its index, and the two connections applying ahead involves:
    /// the writer's (the store) and the follower's (the store, the index attached).
    fn store_file(dir: &Path) -> (Connection, Connection) {
        let path = dir.join("ahead.sqlite");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        super::super::migrate(&writer, Some(&path)).unwrap();
        create(&path).unwrap();
        let follower = Connection::open(&path).unwrap();
        follower.busy_timeout(Duration::from_secs(10)).unwrap();
        attach(&follower, &path).unwrap();
        (writer, follower)
    }

    /// A queue body stating one address per version: versions 10, 11... of ids 1, 2...
    fn body_of(addresses: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        for (at, address) in (0i64..).zip(addresses) {
            let values = [("ip".to_string(), (*address).to_string())];
            encode(&mut body, 10 + at, 1 + at, &values, None, true);
        }
        body
    }

    fn queue_row(conn: &Connection, seq: i64, body: &[u8]) {
        conn.execute(
            "INSERT INTO correlation_queue (seq, provider, body) VALUES (?1, 'prov', ?2)",
            params![seq, body],
        )
        .unwrap();
    }

    fn count(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// What applying insert `number` ahead on another thread gives: the mark, the
    /// follower's connection and its memory.
    fn applying(
        shared: &Arc<Shared>,
        mut follower: Connection,
    ) -> JoinHandle<(i64, Connection, ValueMemory)> {
        let shared = Arc::clone(shared);
        thread::spawn(move || {
            let mut memory = ValueMemory::default();
            let mark =
                apply_ahead(&mut follower, &mut memory, &mut Vec::new(), &shared).expect("applied");
            (mark, follower, memory)
        })
    }

    /// One insert applied ahead, from its start to its end, with a follower applying it
    /// on another thread: the insert hands `piece` over, queues `rows` in its
    /// transaction, waits until the follower has taken the piece, then commits (and
    /// says it committed with its last row) or rolls back. Returns what the follower's
    /// [`apply_ahead`] gave.
    fn insert_ahead(
        dir: &Path,
        piece: &[u8],
        rows: &[(i64, Vec<u8>)],
        commit: bool,
    ) -> (Arc<Shared>, (i64, Connection, ValueMemory)) {
        let (mut writer, follower) = store_file(dir);
        queue_row(&writer, 40, &body_of(&["192.0.2.40"]));
        let shared = Arc::new(Shared::default());
        let number = shared.ahead("prov").unwrap();
        let follower = applying(&shared, follower);
        let tx = writer
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        shared.ahead_piece(number, piece);
        for (seq, body) in rows {
            queue_row(&tx, *seq, body);
        }
        taken(&shared);
        if commit {
            tx.commit().unwrap();
            shared.ahead_end(number, rows.last().map(|row| row.0));
        } else {
            tx.rollback().unwrap();
            shared.ahead_end(number, None);
        }
        let applied = follower.join().unwrap();
        (shared, applied)
    }

    /// Waits until the follower has taken every piece handed over.
    fn taken(shared: &Shared) {
        while shared
            .lock()
            .ahead
            .front()
            .is_some_and(|a| !a.pieces.is_empty())
        {
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// An insert applied ahead is in the index, with its row as the mark, once the
    /// insert commits: the rows queued before it first, its own once (the queue's path
    /// finds nothing left to apply).
    #[test]
    fn an_insert_applied_ahead_commits_with_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let body = body_of(&["192.0.2.1", "192.0.2.2"]);
        let (shared, (mark, mut follower, mut memory)) =
            insert_ahead(dir.path(), &body, &[(50, body.clone())], true);
        assert_eq!(mark, 50);
        assert_eq!(applied_mark(&follower).unwrap(), 50);
        assert_eq!(
            count(&follower, "obs_links"),
            3,
            "row 40's link and row 50's two"
        );
        assert!(shared.lock().ahead.is_empty());
        assert_eq!(
            apply_pending(&mut follower, &mut memory, &mut Vec::new()).unwrap(),
            50
        );
        assert_eq!(count(&follower, "obs_links"), 3, "nothing applied twice");
    }

    /// An insert that does not commit leaves the index as it was (and the follower's
    /// memory of what it wrote is gone).
    #[test]
    fn an_insert_applied_ahead_that_rolls_back_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let body = body_of(&["192.0.2.1"]);
        let (_, (mark, follower, memory)) =
            insert_ahead(dir.path(), &body, &[(50, body.clone())], false);
        assert_eq!(mark, 40, "row 40, queued before, is applied");
        assert_eq!(applied_mark(&follower).unwrap(), 40);
        assert_eq!(count(&follower, "obs_values"), 1);
        assert_eq!(count(&follower, "obs_links"), 1);
        assert_eq!(memory.vid(ValueDigest::of("ip", "192.0.2.1")), None);
    }

    /// An insert that says it committed with a row that is not the only one after the
    /// mark (standing for any disagreement between the pieces and the queue) is rolled
    /// back, and the queue's rows are applied as queued.
    #[test]
    fn an_insert_applied_ahead_that_disagrees_with_the_queue_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            (45, body_of(&["192.0.2.45"])),
            (50, body_of(&["192.0.2.50"])),
        ];
        let (_, (mark, mut follower, mut memory)) =
            insert_ahead(dir.path(), &body_of(&["192.0.2.1"]), &rows, true);
        assert_eq!(mark, 40);
        assert_eq!(count(&follower, "obs_values"), 1);
        assert_eq!(
            apply_pending(&mut follower, &mut memory, &mut Vec::new()).unwrap(),
            50
        );
        let found = |value: &str| find_value(&follower, "ip", value).unwrap().is_some();
        assert!(found("192.0.2.45") && found("192.0.2.50"));
        assert!(!found("192.0.2.1"), "the pieces were not kept");
    }

    /// An insert that ended before the follower came to it is applied from the queue,
    /// once.
    #[test]
    fn an_insert_that_ended_before_the_follower_came_is_applied_from_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, follower) = store_file(dir.path());
        let shared = Arc::new(Shared::default());
        let number = shared.ahead("prov").unwrap();
        let body = body_of(&["192.0.2.1", "192.0.2.2"]);
        shared.ahead_piece(number, &body);
        queue_row(&writer, 50, &body);
        shared.ahead_end(number, Some(50));
        let (mark, follower, _) = applying(&shared, follower).join().unwrap();
        assert_eq!(mark, 50);
        assert_eq!(count(&follower, "obs_links"), 2);
        assert!(shared.lock().ahead.is_empty());
    }

    /// A follower slower than the writer holds at most `AHEAD_HELD` inserts' bodies:
    /// past that an insert is applied from the queue, until the follower takes one off.
    #[test]
    fn a_follower_holds_few_inserts_ahead() {
        let shared = Shared::default();
        let held: Vec<Option<u64>> = (0..AHEAD_HELD + 1).map(|_| shared.ahead("prov")).collect();
        assert!(held[..AHEAD_HELD].iter().all(Option::is_some));
        assert_eq!(held[AHEAD_HELD], None);
        shared.lock().ahead.pop_front();
        assert!(shared.ahead("prov").is_some());
    }
}

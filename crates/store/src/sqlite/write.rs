//! Everything that changes the store file, one transaction per call.

use std::collections::HashMap;
use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::clock::StampClock;
use super::correlation::{self, AHEAD_FROM, AHEAD_PIECE};
use crate::error::StoreError;
use crate::model::{
    InsertOutcome, LedgerRecord, LedgerTree, NewObject, Provenance, StatusRecord, VersionFilter,
};
use crate::store::HeadSigner;
use accord_agreements::merkle::Frontier;
use accord_agreements::transparency::SignedTreeHead;

/// The `version_us` of unversioned objects (SCOs): one version per id.
pub(super) const UNVERSIONED: i64 = i64::MIN;

/// The entries of one id (`?2`, its key `?3`) in one collection (`?1`). Entries are
/// indexed by the object row they point to, not by id: that index grows at its end as
/// objects arrive, where one keyed by (random) id would rewrite a page per insert
/// (schema.sql).
const ENTRIES_OF_ID: &str = "collection = ?1 AND object_added IN \
     (SELECT date_added FROM objects WHERE id_key = ?3 AND id = ?2)";

/// Every stored version of an id (`?2`, its key `?1`): the id compared on the rows
/// (keys may collide). New ids, the bulk of any load, cost one probe of the key index
/// and no table read.
const VERSIONS_OF_ID: &str =
    "SELECT date_added, version_us, provider FROM objects WHERE id_key = ?1 AND id = ?2";

/// The span of an id's versions (`?2`, its key `?3`) in one collection (`?1`).
const ENTRY_SPAN: &str = "SELECT max(o.version_us), min(o.version_us) FROM objects o \
     JOIN entries e ON e.object_added = o.date_added AND e.collection = ?1 \
     WHERE o.id_key = ?3 AND o.id = ?2";

/// Rows re-extracted per transaction by [`Writer::refresh_facts`]: big enough that a
/// million-object store refreshes in a thousand commits, small enough that a reader
/// waits at most one batch.
const REFRESH_FACTS_BATCH: i64 = 1_000;

/// The write connection and the clock that stamps what it writes.
pub(super) struct Writer {
    conn: Connection,
    clock: StampClock,
    /// Frames in the write-ahead log after the last commit (set by SQLite's WAL hook).
    wal_frames: Arc<AtomicU64>,
    /// The ledger tree's right edge after this writer's last append (reloaded when
    /// another process appended since).
    ledger_frontier: Option<Frontier>,
    /// Who applies the correlation queue this writer fills.
    correlation: Correlation,
    /// Queue rows up to this `seq` are deleted (the index applied them).
    queue_cleared: i64,
    /// The buffer the correlation queue's bodies are encoded into, kept between
    /// inserts (cleared, never shrunk: as large as the largest batch's body, megabytes
    /// for a bulk load): a fresh one per insert was mapped and faulted in anew.
    queue_body: Vec<u8>,
}

/// Who applies the correlation queue (`correlation.rs`) a writer fills.
pub(super) enum Correlation {
    /// This store handle's follower thread (a store file).
    Follower(Arc<correlation::Shared>),
    /// The writer itself, after each commit, on its own connection (an in-memory
    /// store, whose index is attached to that connection).
    Inline,
    /// Nobody: the store is read-only.
    Nobody,
}

/// Where an object version already stored sits.
struct Existing {
    date_added: i64,
    provider: String,
    differs: bool,
}

impl Writer {
    /// The writer of `conn`. Takes over the connection's WAL hook, so it must come
    /// after `PRAGMA wal_autocheckpoint` (which sets the hook too).
    pub(super) fn new(mut conn: Connection, correlation: Correlation) -> Result<Self, StoreError> {
        let wal_frames = Arc::new(AtomicU64::new(0));
        let frames = wal_frames.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: c_int| {
            frames.store(u64::try_from(pages).unwrap_or(0), Ordering::Relaxed);
            Ok(())
        }))?;
        Ok(Self {
            conn,
            clock: StampClock::default(),
            wal_frames,
            ledger_frontier: None,
            correlation,
            queue_cleared: i64::MIN,
            queue_body: Vec::new(),
        })
    }

    /// After a commit that queued a row: has it applied.
    fn queued(&mut self, row: Option<Queued>) -> Result<(), StoreError> {
        let Some(row) = row else {
            return Ok(());
        };
        match &self.correlation {
            Correlation::Follower(shared) => shared.queued(&row),
            Correlation::Inline => {
                // An in-memory store's index: nothing to gain from remembering it.
                correlation::apply_pending(
                    &mut self.conn,
                    &mut Default::default(),
                    &mut Vec::new(),
                )?;
            }
            Correlation::Nobody => {}
        }
        Ok(())
    }

    /// Frames in the write-ahead log after the last commit.
    pub(super) fn wal_frames(&self) -> u64 {
        self.wal_frames.load(Ordering::Relaxed)
    }

    pub(super) fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(super) fn add_trend_cells(
        &mut self,
        provider: &str,
        keys: &[crate::model::TrendKey],
    ) -> Result<(), StoreError> {
        add_trend_cells(&mut self.conn, provider, keys)
    }

    pub(super) fn insert(
        &mut self,
        objects: &[NewObject],
        provenance: &Provenance,
        collection: Option<&str>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process (a CLI ingest beside the server) may have written since we
        // last looked: continue above its stamps. Both are O(log n) rowid lookups.
        let seen: i64 = tx.query_row(
            "SELECT max(coalesce((SELECT max(date_added) FROM objects), 0),
                        coalesce((SELECT max(date_added) FROM entries), 0))",
            [],
            |r| r.get(0),
        )?;
        self.clock.observe(seen);
        clear_queue(&self.correlation, &mut self.queue_cleared, &tx)?;
        let mut outcomes = Vec::with_capacity(objects.len());
        let queued;
        let mut ahead;
        {
            let mut add_object = tx.prepare_cached(
                "INSERT INTO objects
                 (date_added, id, type, spec_version, version_us, version_text, provider, channel, facts, json,
                  is_latest, is_first, id_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            let mut versions_of = tx.prepare_cached(VERSIONS_OF_ID)?;
            let mut stored_json =
                tx.prepare_cached("SELECT json FROM objects WHERE date_added = ?1")?;
            let mut entry_span = tx.prepare_cached(ENTRY_SPAN)?;
            let mut add_entry = tx.prepare_cached(
                "INSERT OR IGNORE INTO entries
                 (date_added, collection, object_added, id, type, version_us, provider, is_latest, is_first)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut find_entry = tx.prepare_cached(
                "SELECT date_added FROM entries WHERE object_added = ?1 AND collection = ?2",
            )?;
            let provider = provenance.organisation.as_str();
            let source = correlation::source(provider, collection);
            let body = std::mem::take(&mut self.queue_body);
            let (mut batch, correlating) = AnalyticsBatch::sized_for(objects.iter(), body);
            ahead = AheadFeed::start(&self.correlation, correlating, &source);
            let prior = Prior::read(&mut versions_of, objects, provider)?;
            for ((object, key), known) in objects.iter().zip(prior.keys).zip(prior.known) {
                let stamp = self.clock.next();
                let (version_us, version_text) = match &object.version {
                    Some(v) => (v.micros, v.text.as_str()),
                    None => (UNVERSIONED, ""),
                };
                let known = match known {
                    Some(known) => known,
                    None => Known::read(&mut versions_of, key, &object.id, version_us, provider)?,
                };
                // No version of the id anywhere: none in any collection either.
                let first_of_id = known.span.max.is_none();
                let existing = match known.exact {
                    Some((date_added, provider)) => {
                        let json: String =
                            stored_json.query_row(params![date_added], |r| r.get(0))?;
                        Some(Existing {
                            date_added,
                            provider,
                            differs: json != object.json,
                        })
                    }
                    None => {
                        let flags = known.span.flags(version_us);
                        add_object.execute(params![
                            stamp,
                            object.id,
                            object.object_type,
                            object.spec_version,
                            version_us,
                            version_text,
                            provenance.organisation,
                            provenance.channel,
                            object.facts,
                            object.json,
                            flags.latest,
                            flags.first,
                            key,
                        ])?;
                        let target = Target::Objects { key };
                        known
                            .span
                            .demote_others(&tx, target, &object.id, version_us, flags)?;
                        if !object.analytics.is_empty() {
                            batch.record(object, stamp, key, first_of_id, first_of_id);
                            if let Some(ahead) = &mut ahead {
                                ahead.offer(&batch.queue, AHEAD_PIECE);
                            }
                        }
                        None
                    }
                };
                let Some(collection) = collection else {
                    outcomes.push(match existing {
                        None => InsertOutcome::Added { date_added: stamp },
                        Some(e) => InsertOutcome::AlreadyPresent {
                            date_added: e.date_added,
                            differs: e.differs,
                        },
                    });
                    continue;
                };
                let (object_added, provider, entry_stamp) = match &existing {
                    None => (stamp, provenance.organisation.as_str(), stamp),
                    Some(e) => (e.date_added, e.provider.as_str(), self.clock.next()),
                };
                let span = if first_of_id {
                    Span::default()
                } else {
                    entry_span.query_row(params![collection, object.id, key], span_of)?
                };
                let flags = span.flags(version_us);
                let entered = add_entry.execute(params![
                    entry_stamp,
                    collection,
                    object_added,
                    object.id,
                    object.object_type,
                    version_us,
                    provider,
                    flags.latest,
                    flags.first,
                ])? == 1;
                if entered {
                    let target = Target::Entries { collection, key };
                    span.demote_others(&tx, target, &object.id, version_us, flags)?;
                }
                let differs = existing.as_ref().is_some_and(|e| e.differs);
                outcomes.push(match (entered, existing.is_none()) {
                    (true, true) => InsertOutcome::Added {
                        date_added: entry_stamp,
                    },
                    (true, false) => InsertOutcome::AlreadyPresent {
                        date_added: entry_stamp,
                        differs,
                    },
                    (false, _) => {
                        let date_added: i64 = find_entry
                            .query_row(params![object_added, collection], |r| r.get(0))?;
                        InsertOutcome::AlreadyPresent {
                            date_added,
                            differs,
                        }
                    }
                });
            }
            if let Some(ahead) = &mut ahead {
                ahead.offer(&batch.queue, 1);
            }
            let (row, body) = batch.flush(&tx, provider, &source, &mut self.clock)?;
            queued = row;
            self.queue_body = body;
        }
        tx.commit()?;
        if let Some(ahead) = ahead {
            ahead.end(queued.as_ref().map(|row| row.seq));
        }
        self.queued(queued)?;
        Ok(outcomes)
    }

    pub(super) fn remove_from_collection(
        &mut self,
        collection: &str,
        id: &str,
        versions: &VersionFilter,
        provider: Option<&str>,
    ) -> Result<u64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stamps: Vec<(i64, i64)> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT date_added, version_us FROM entries WHERE {ENTRIES_OF_ID}
                 AND (?4 IS NULL OR provider = ?4) ORDER BY version_us"
            ))?;
            let rows = stmt.query_map(params![collection, id, id_key(id), provider], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let chosen = choose_versions(&stamps, versions);
        let mut removed = 0;
        {
            let mut delete = tx.prepare_cached("DELETE FROM entries WHERE date_added = ?1")?;
            // Each version removed leaves a tombstone, stamped after every earlier one
            // (the writer holds the store's write lock: stamps commit in order).
            let last: i64 = tx.query_row(
                "SELECT coalesce(max(deleted), 0) FROM tombstones",
                [],
                |r| r.get(0),
            )?;
            let mut stamp = last;
            let mut tombstone = tx.prepare_cached(
                "INSERT INTO tombstones (deleted, collection, id, version_us, version_text, provider)
                 SELECT ?1, ?2, ?3, e.version_us, o.version_text, e.provider
                 FROM entries e JOIN objects o ON o.date_added = e.object_added
                 WHERE e.date_added = ?4",
            )?;
            for entry in chosen {
                stamp = now_micros().max(stamp.saturating_add(1));
                tombstone.execute(params![stamp, collection, id, entry])?;
                removed += delete.execute(params![entry])? as u64;
            }
            // The latest or earliest version may have gone: mark the new ones.
            tx.prepare_cached(&format!(
                "UPDATE entries SET
                   is_latest = (version_us = (SELECT max(version_us) FROM entries WHERE {ENTRIES_OF_ID})),
                   is_first = (version_us = (SELECT min(version_us) FROM entries WHERE {ENTRIES_OF_ID}))
                 WHERE {ENTRIES_OF_ID}"
            ))?
            .execute(params![collection, id, id_key(id)])?;
            if removed > 0 {
                // Readers that keep derived state per collection (the egress door's
                // release views) learn of removals from this log.
                tx.prepare_cached("INSERT INTO removals (collection, id) VALUES (?1, ?2)")?
                    .execute(params![collection, id])?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    /// The secret stored under `name`, storing `fresh` first if there is none.
    pub(super) fn node_secret(&mut self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)")?
            .execute(params![name, fresh])?;
        let value: Vec<u8> = tx
            .prepare_cached("SELECT value FROM secrets WHERE name = ?1")?
            .query_row(params![name], |r| r.get(0))?;
        tx.commit()?;
        Ok(value)
    }

    /// See [`crate::Store::refresh_facts`].
    pub(super) fn refresh_facts(
        &mut self,
        extraction: u32,
        extract: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        let mut after = i64::MIN;
        let mut rewritten = 0u64;
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let rows: Vec<(i64, Vec<u8>, String)> = tx
                .prepare_cached(
                    "SELECT date_added, facts, json FROM objects WHERE date_added > ?1 \
                     ORDER BY date_added LIMIT ?2",
                )?
                .query_map(params![after, REFRESH_FACTS_BATCH], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<Result<_, _>>()?;
            let Some(last) = rows.last().map(|r| r.0) else {
                tx.prepare_cached(
                    "INSERT INTO meta (name, value) VALUES ('facts_extraction', ?1) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![extraction])?;
                tx.commit()?;
                return Ok(rewritten);
            };
            {
                let mut update =
                    tx.prepare_cached("UPDATE objects SET facts = ?2 WHERE date_added = ?1")?;
                for (date_added, old, json) in &rows {
                    let Some(facts) = extract(json) else { continue };
                    if &facts != old {
                        update.execute(params![date_added, facts])?;
                        rewritten += 1;
                    }
                }
            }
            tx.commit()?;
            after = last;
        }
    }

    /// Records the analytics of stored versions as their insert would have (each
    /// version's trend cells when it is the earliest-arrived of its id; only their
    /// correlation when the pending backfill is the index's rebuild), and moves the
    /// pending backfill to `after` (ends it when `done`), in one transaction.
    pub(super) fn backfill_analytics(
        &mut self,
        provider: &str,
        rows: &[crate::model::BackfillRow],
        after: i64,
        done: bool,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut queued = Vec::new();
        {
            let Some((marker, _)) = pending_backfill(&tx)? else {
                return Ok(());
            };
            // The index's rebuild counts no trend: it looks up no version's place among
            // its id's (at 10,000,000 objects, a random read of the store's index of
            // ids per object was half the rebuild's writer's time).
            let with_trends = marker == ANALYTICS_BACKFILL;
            let mut earliest = if with_trends {
                Some(tx.prepare_cached(
                    "SELECT min(date_added) FROM objects WHERE id_key = ?1 AND id = ?2",
                )?)
            } else {
                None
            };
            // Each version is reported by its provider in the collection its insert
            // added it to, as the insert queued it: one queue row per run of one
            // source.
            let mut reported_in = tx.prepare_cached(FIRST_COLLECTION)?;
            let mut sources = Vec::with_capacity(rows.len());
            for row in rows {
                let collection: Option<String> = reported_in
                    .query_row(params![row.date_added], |r| r.get(0))
                    .optional()?;
                sources.push(correlation::source(provider, collection.as_deref()).into_owned());
            }
            let mut start = 0;
            while start < rows.len() {
                let source = &sources[start];
                let end = sources[start..]
                    .iter()
                    .position(|s| s != source)
                    .map_or(rows.len(), |n| start + n);
                let run = &rows[start..end];
                let body = std::mem::take(&mut self.queue_body);
                let (mut batch, _) = AnalyticsBatch::sized_for(run.iter().map(|r| &r.object), body);
                for row in run {
                    if row.object.analytics.is_empty() {
                        continue;
                    }
                    let key = id_key(&row.object.id);
                    let first = match &mut earliest {
                        Some(earliest) => {
                            let first: Option<i64> =
                                earliest.query_row(params![key, row.object.id], |r| r.get(0))?;
                            first == Some(row.date_added)
                        }
                        None => false,
                    };
                    // Not queued as the first version of its id, even when it is: the
                    // index may hold later versions of the id (inserted while the
                    // backfill was pending) and sightings of them, which only a
                    // look-up finds.
                    batch.record(&row.object, row.date_added, key, false, first);
                }
                let (row, body) = batch.flush(&tx, provider, source, &mut self.clock)?;
                queued.extend(row);
                self.queue_body = body;
                start = end;
            }
            if done {
                tx.execute("DELETE FROM meta WHERE name = ?1", params![marker])?;
            } else {
                tx.execute(
                    "UPDATE meta SET value = ?2 WHERE name = ?1",
                    params![marker, after],
                )?;
            }
        }
        tx.commit()?;
        for row in queued {
            self.queued(Some(row))?;
        }
        Ok(())
    }

    pub(super) fn put_status(&mut self, status: &StatusRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO statuses (id, organisation, json) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![status.id, status.organisation, status.json])?;
        Ok(())
    }

    pub(super) fn ledger_append(
        &mut self,
        records: &[LedgerRecord],
        sign: Option<&HeadSigner<'_>>,
    ) -> Result<(LedgerTree, Option<SignedTreeHead>), StoreError> {
        let result =
            super::ledger::append(&mut self.conn, &mut self.ledger_frontier, records, sign);
        if result.is_err() {
            self.ledger_frontier = None;
        }
        result
    }
}

/// The collection an object version's insert added it to (where it was reported), if
/// any: that entry shares the version's stamp; a collection that took the version
/// later (the same version sent again there) has an entry of a later stamp.
pub(super) const FIRST_COLLECTION: &str =
    "SELECT collection FROM entries WHERE date_added = ?1 AND object_added = ?1";

/// Deletes the queue rows the index has applied (in the writer's transaction `tx`).
fn clear_queue(
    correlation: &Correlation,
    cleared: &mut i64,
    tx: &Connection,
) -> Result<(), StoreError> {
    let applied = match correlation {
        Correlation::Follower(shared) => shared.applied(),
        Correlation::Inline => correlation::applied_mark(tx)?,
        Correlation::Nobody => return Ok(()),
    };
    if applied > *cleared {
        tx.prepare_cached("DELETE FROM correlation_queue WHERE seq <= ?1")?
            .execute(params![applied])?;
        *cleared = applied;
    }
    Ok(())
}

/// The versions an id already has (in the store, or in one collection).
#[derive(Default)]
struct Span {
    max: Option<i64>,
    min: Option<i64>,
}

/// Whether a new version is the latest and the earliest of its id.
#[derive(Clone, Copy)]
struct Flags {
    latest: bool,
    first: bool,
}

fn span_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Span> {
    Ok(Span {
        max: row.get(0)?,
        min: row.get(1)?,
    })
}

impl Span {
    /// A version equal to the latest (another provider's copy of it) is latest too.
    fn flags(&self, version_us: i64) -> Flags {
        Flags {
            latest: self.max.is_none_or(|max| version_us >= max),
            first: self.min.is_none_or(|min| version_us <= min),
        }
    }

    /// After inserting a version that became the latest (or earliest), the one that
    /// was loses the mark.
    fn demote_others(
        &self,
        tx: &rusqlite::Transaction<'_>,
        target: Target<'_>,
        id: &str,
        version_us: i64,
        flags: Flags,
    ) -> Result<(), StoreError> {
        // `?1` the collection (unused for `objects`), `?2` the id, `?3` its key, `?4`
        // the new version.
        let (table, scope, key, rows_of_id) = match target {
            Target::Entries { collection, key } => ("entries", collection, key, ENTRIES_OF_ID),
            Target::Objects { key } => ("objects", "", key, "?1 = ?1 AND id_key = ?3 AND id = ?2"),
        };
        for (wanted, column, had_any) in [
            (flags.latest, "is_latest", self.max.is_some()),
            (flags.first, "is_first", self.min.is_some()),
        ] {
            if wanted && had_any {
                tx.prepare_cached(&format!(
                    "UPDATE {table} SET {column} = 0 WHERE {rows_of_id} AND {column} = 1 AND version_us <> ?4"
                ))?
                .execute(params![scope, id, key, version_us])?;
            }
        }
        Ok(())
    }
}

/// The rows whose version marks an insert may change.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// The id's versions in the store.
    Objects { key: i64 },
    /// The id's versions in one collection.
    Entries { collection: &'a str, key: i64 },
}

/// What the store holds of each id a batch names once, read before the batch is
/// written; ids named twice are read as they are inserted, when the lookup sees the
/// batch's earlier versions.
///
/// Why read beforehand: ids are random, so lookups made in input order land on a
/// different page of the id index each, one that has usually left the CPU's caches
/// since it was last read; made in key order, consecutive lookups share pages
/// (measured on 1,000,000 ATT&CK objects: 15.8 s -> 15.0 s, 1.2 s less CPU).
struct Prior {
    /// `id_key` of each object, in batch order.
    keys: Vec<i64>,
    /// What the store holds of each object's id, in batch order (`None`: named twice).
    known: Vec<Option<Known>>,
}

impl Prior {
    fn read(
        versions_of: &mut rusqlite::CachedStatement<'_>,
        objects: &[NewObject],
        provider: &str,
    ) -> Result<Prior, StoreError> {
        let keys: Vec<i64> = objects.iter().map(|o| id_key(&o.id)).collect();
        let mut order: Vec<(i64, &str, usize)> = keys
            .iter()
            .zip(objects)
            .enumerate()
            .map(|(at, (key, o))| (*key, o.id.as_str(), at))
            .collect();
        order.sort_unstable();
        let mut known: Vec<Option<Known>> = std::iter::repeat_with(|| None)
            .take(objects.len())
            .collect();
        for (n, &(key, id, at)) in order.iter().enumerate() {
            let same_id = |other: Option<&(i64, &str, usize)>| other.is_some_and(|o| o.1 == id);
            if same_id(order.get(n + 1)) || same_id(n.checked_sub(1).and_then(|p| order.get(p))) {
                continue;
            }
            let version_us = objects[at]
                .version
                .as_ref()
                .map_or(UNVERSIONED, |v| v.micros);
            known[at] = Some(Known::read(versions_of, key, id, version_us, provider)?);
        }
        Ok(Prior { keys, known })
    }
}

/// What the store holds of an id before an insert: the span of its versions (whoever
/// provided them), and the row (`date_added`, provider) of the version being inserted
/// if the same provider already stored it.
///
/// A version is one provider's: the same id and version from another provider is
/// another row, with its own text and provenance. Otherwise a writer could put its
/// own id into a collection and have the collection point at someone else's text
/// (an SCO's id is a hash of its value, so anyone can name the telco's row).
#[derive(Default)]
struct Known {
    span: Span,
    exact: Option<(i64, String)>,
}

impl Known {
    fn read(
        versions_of: &mut rusqlite::CachedStatement<'_>,
        key: i64,
        id: &str,
        version_us: i64,
        provider: &str,
    ) -> Result<Known, StoreError> {
        let mut known = Known::default();
        let mut rows = versions_of.query(params![key, id])?;
        while let Some(row) = rows.next()? {
            let (date_added, version, row_provider): (i64, i64, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            known.span.max = Some(known.span.max.map_or(version, |m| m.max(version)));
            known.span.min = Some(known.span.min.map_or(version, |m| m.min(version)));
            if version == version_us && row_provider == provider {
                known.exact = Some((date_added, row_provider));
            }
        }
        Ok(known)
    }
}

/// The `date_added` stamps of the entries a version filter selects, given every
/// `(date_added, version_us)` of one id sorted by version.
fn choose_versions(stamps: &[(i64, i64)], versions: &VersionFilter) -> Vec<i64> {
    if versions.all {
        return stamps.iter().map(|s| s.0).collect();
    }
    let first = stamps.first().map(|s| s.1);
    let last = stamps.last().map(|s| s.1);
    stamps
        .iter()
        .filter(|(date_added, v)| {
            (versions.first && Some(*v) == first)
                || (versions.last && Some(*v) == last)
                || versions.exact.contains(v)
                || (*v == UNVERSIONED && versions.exact.contains(date_added))
        })
        .map(|s| s.0)
        .collect()
}

/// The wall clock in microseconds (a tombstone's deletion time, before it is made
/// unique).
fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The `release_key` of a ledger row: FNV-1a (64 bits) over the recipient, a zero byte
/// and the object id. Stable across builds (it is stored); collisions only cost an
/// extra row to filter.
pub(super) fn release_key(recipient: &str, object_id: &str) -> i64 {
    fnv1a(recipient.bytes().chain([0]).chain(object_id.bytes()))
}

/// The `id_key` of an object row: FNV-1a (64 bits) over its id. The id index holds
/// this integer instead of the id text, a third of the size per entry: random ids
/// rewrite an index page per insert, so the fewer the pages, the less each commit
/// writes. Stable across builds (it is stored); a collision only costs a row to filter.
pub(super) fn id_key(id: &str) -> i64 {
    fnv1a(id.bytes())
}

fn fnv1a(bytes: impl Iterator<Item = u8>) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// What an insert's batch adds to the analytics: its trend increments summed per cell
/// (written once per batch, in the insert's transaction: a few rows), and what the
/// correlation index must record of each new version, queued as one row
/// (`correlation.rs` applies it on another connection, to another file).
#[derive(Default)]
struct AnalyticsBatch<'a> {
    /// The trend increments of the batch's first versions, summed per cell (keyed by
    /// the objects' own texts: no copy per object).
    trends: HashMap<(&'a str, &'a str, i64, &'a str), i64, foldhash::fast::RandomState>,
    /// The `provider` dimension's increments, per (metric, day): each counted object
    /// counts once under the inserting provider, with its first trend key's metric,
    /// day and weight ([`crate::Analytics::trends`]).
    by_provider: HashMap<(&'static str, i64), i64, foldhash::fast::RandomState>,
    /// The correlation facts of the batch's new versions, [`correlation::encode`]d.
    queue: Vec<u8>,
    /// How many versions `queue` holds.
    queued_versions: usize,
}

impl<'a> AnalyticsBatch<'a> {
    /// An empty batch whose queue body, `body` emptied, has room for these objects'
    /// facts (the body grows to megabytes; reallocating it as it grows copied it
    /// several times), and how many of the objects have such facts.
    fn sized_for(objects: impl Iterator<Item = &'a NewObject>, mut body: Vec<u8>) -> (Self, usize) {
        let (mut bytes, mut versions) = (0, 0);
        for analytics in objects.map(|o| &o.analytics).filter(|a| a.correlates()) {
            bytes += correlation::encoded_len(&analytics.values);
            versions += 1;
        }
        body.clear();
        body.reserve(bytes);
        let batch = AnalyticsBatch {
            queue: body,
            ..AnalyticsBatch::default()
        };
        (batch, versions)
    }

    /// Gathers a new object version's [`crate::Analytics`]: its correlation facts
    /// queued (`first_of_id`: no version of its id is queued before it, see
    /// `correlation::Version::first_of_id`), its trend cells incremented when
    /// `count_trends` (it is the first version of its id).
    fn record(
        &mut self,
        object: &'a NewObject,
        stamp: i64,
        key: i64,
        first_of_id: bool,
        count_trends: bool,
    ) {
        let analytics = &object.analytics;
        if analytics.correlates() {
            correlation::encode(
                &mut self.queue,
                stamp,
                key,
                &analytics.values,
                analytics.sighting_of.as_deref().map(id_key),
                first_of_id,
            );
            self.queued_versions += 1;
        }
        if count_trends {
            // Once per counted object (`TrendKey::basis`).
            if let Some(basis) = analytics.basis() {
                *self
                    .by_provider
                    .entry((basis.metric, basis.day))
                    .or_default() += basis.weight;
            }
            for t in &analytics.trends {
                *self
                    .trends
                    .entry((t.dimension, t.metric, t.day, t.key.as_ref()))
                    .or_default() += t.weight;
            }
        }
    }

    /// Writes the batch's trend cells (all its objects by `provider`) and queues its
    /// correlation facts (all reported by `source`, [`correlation::source`]); returns
    /// the queue row, if it queued one, and the body's buffer for the next batch.
    fn flush(
        self,
        tx: &Connection,
        provider: &str,
        source: &str,
        clock: &mut StampClock,
    ) -> Result<(Option<Queued>, Vec<u8>), StoreError> {
        let AnalyticsBatch {
            trends,
            by_provider,
            queue,
            queued_versions,
        } = self;
        if !trends.is_empty() || !by_provider.is_empty() {
            let mut count = tx.prepare_cached(TREND_INCREMENT)?;
            for ((dimension, metric, day, key), weight) in trends {
                count.execute(params![dimension, metric, day, key, provider, weight])?;
            }
            for ((metric, day), weight) in by_provider {
                count.execute(params!["provider", metric, day, provider, provider, weight])?;
            }
        }
        if queue.is_empty() {
            return Ok((None, queue));
        }
        let seq = clock.next();
        // The body is written into the row's pages through SQLite's incremental blob
        // I/O: bound as a parameter, its megabytes were first copied into a buffer of
        // SQLite's, on the writer's critical path.
        let len = i64::try_from(queue.len()).unwrap_or(i64::MAX);
        tx.prepare_cached(
            "INSERT INTO correlation_queue (seq, provider, body) VALUES (?1, ?2, zeroblob(?3))",
        )?
        .execute(params![seq, source, len])?;
        let mut body =
            tx.blob_open(rusqlite::MAIN_DB, c"correlation_queue", c"body", seq, false)?;
        body.write_all_at(&queue, 0)?;
        Ok((
            Some(Queued {
                seq,
                versions: queued_versions,
            }),
            queue,
        ))
    }
}

/// The writer's side of an insert applied ahead (`correlation.rs`, "Applying ahead"):
/// hands the follower its queue body in pieces as it grows, and the insert's end. Its
/// drop without [`AheadFeed::end`] (an insert that failed) tells the follower the
/// insert did not commit.
struct AheadFeed {
    shared: Arc<correlation::Shared>,
    number: u64,
    /// Bytes of the body handed over.
    handed: usize,
    ended: bool,
}

impl AheadFeed {
    /// Starts applying an insert by `source` ahead, when a follower applies this
    /// writer's queue and the insert has [`AHEAD_FROM`] versions or more with
    /// correlation facts (`correlating`).
    fn start(correlation: &Correlation, correlating: usize, source: &str) -> Option<Self> {
        let Correlation::Follower(shared) = correlation else {
            return None;
        };
        if correlating < AHEAD_FROM {
            return None;
        }
        Some(AheadFeed {
            number: shared.ahead(source)?,
            shared: Arc::clone(shared),
            handed: 0,
            ended: false,
        })
    }

    /// Hands over what `body` (ending with a whole version) holds past what was
    /// handed, once that is at least `least` bytes.
    fn offer(&mut self, body: &[u8], least: usize) {
        let fresh = body.get(self.handed..).unwrap_or_default();
        if !fresh.is_empty() && fresh.len() >= least {
            self.shared.ahead_piece(self.number, fresh);
            self.handed = body.len();
        }
    }

    /// The insert committed, with the queue row `seq` if it queued one.
    fn end(mut self, seq: Option<i64>) {
        self.ended = true;
        self.shared.ahead_end(self.number, seq);
    }
}

impl Drop for AheadFeed {
    fn drop(&mut self) {
        if !self.ended {
            self.shared.ahead_end(self.number, None);
        }
    }
}

/// A row an insert queued for the correlation index.
pub(super) struct Queued {
    /// Its `seq`.
    pub(super) seq: i64,
    /// The object versions it holds.
    pub(super) versions: usize,
}

/// Adds `?6` to one trend cell (`?1`-`?5`: dimension, metric, day, key, provider).
const TREND_INCREMENT: &str =
    "INSERT INTO trend_counts (dimension, metric, day, key, provider, count)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (dimension, metric, day, key, provider)
     DO UPDATE SET count = count + excluded.count";

/// The meta row of a backfill of trends and correlation (schema 10).
pub(super) const ANALYTICS_BACKFILL: &str = "analytics_backfill";
/// The meta row of a rebuild of the correlation index alone (its file was lost).
pub(super) const CORRELATION_BACKFILL: &str = "correlation_backfill";

/// The pending backfill (its meta row's name) and where it stands.
fn pending_backfill(conn: &Connection) -> Result<Option<(&'static str, i64)>, StoreError> {
    for marker in [ANALYTICS_BACKFILL, CORRELATION_BACKFILL] {
        let at: Option<i64> = conn
            .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
            .query_row(params![marker], |r| r.get(0))
            .optional()?;
        if let Some(at) = at {
            return Ok(Some((marker, at)));
        }
    }
    Ok(None)
}

/// Where a pending analytics backfill stands (see `migrate_from_9`, and
/// [`CORRELATION_BACKFILL`]).
pub(super) fn analytics_backfill(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(pending_backfill(conn)?.map(|(_, at)| at))
}

/// Adds trend cells directly (the benchmark's way of standing for millions of
/// sightings without storing them; also what an insert's batch writes).
pub(super) fn add_trend_cells(
    conn: &mut Connection,
    provider: &str,
    keys: &[crate::model::TrendKey],
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut count = tx.prepare_cached(TREND_INCREMENT)?;
        for t in keys {
            count.execute(params![
                t.dimension,
                t.metric,
                t.day,
                t.key,
                provider,
                t.weight
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;

    use super::*;

    /// The lookups every insert and removal makes go through the id key and the
    /// entries' object index: no scan of a collection or of the store.
    #[test]
    fn id_lookups_use_indexes() {
        let conn = super::super::plan::empty_store();
        let values = [
            Value::Text("c".into()),
            Value::Text("indicator--a".into()),
            Value::Integer(1),
        ];
        for sql in [
            VERSIONS_OF_ID.to_string(),
            ENTRY_SPAN.to_string(),
            format!("SELECT date_added FROM entries WHERE {ENTRIES_OF_ID}"),
        ] {
            let plan = super::super::plan::of(&conn, &sql, &values);
            assert!(plan.contains("objects_by_key"), "{plan}");
            assert!(!plan.contains("SCAN"), "scans: {plan}");
            if sql.contains("entries") {
                assert!(plan.contains("entries_by_object"), "{plan}");
            }
        }
    }
}

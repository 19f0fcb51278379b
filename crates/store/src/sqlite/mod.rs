//! The embedded default backend: one SQLite file in WAL mode.
//!
//! One writer connection (behind a mutex: SQLite allows one writer at a time anyway, and
//! holding it in-process keeps writers from spinning on `SQLITE_BUSY`) and a pool of
//! reader connections, which WAL lets run beside the writer.

mod checkpoint;
mod clock;
mod correlation;
mod enrich;
mod ledger;
#[cfg(test)]
mod plan;
mod pool;
mod query;
mod value_memory;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;
use accord_agreements::merkle::{Hash, NodeId};
use accord_agreements::transparency::SignedTreeHead;

use crate::model::{
    AddressEnrichment, BackfillRow, DomainEnrichment, EnrichmentSource, EnrichmentState, FeedHeads,
    InsertOutcome, LedgerRecord, LedgerTree, LocatedDelta, LocatedState, NewObject, ObjectQuery,
    ObjectRow, Page, PeerRecord, Provenance, Removal, Stats, StatusRecord, Tombstone, TrendCell,
    TrendKey, ValueRow, VersionFilter,
};
use crate::store::{HeadSigner, Store};
use pool::ReaderPool;
pub use pool::MAX_READERS;
use write::{Correlation, Writer};

/// The schema version this build writes and understands.
const SCHEMA_VERSION: i64 = 15;

/// Database page size of new stores, in bytes: SQLite's largest. Objects are around
/// 1-2 KiB of JSON with their facts, and a bulk load appends them: the larger the page,
/// the fewer pages to allocate, balance and log per object. Measured on 1,000,000
/// ATT&CK objects (`scripts/bench-ingest`, side by side): 16 KiB pages, 11.33 s and
/// 10.57 s; 32 KiB, 9.63 s and 9.60 s; 64 KiB, 9.24 s and 8.68 s. The cost is on small
/// commits into a large store, where every random id dirties a larger index page:
/// TAXII POSTs of 1,000 objects into 1,000,000 run at 29,000 objects/s instead of
/// 33,000 (`scripts/bench-taxii`; into a small store, 60,000 instead of 45,000).
const PAGE_SIZE: i64 = 65_536;

/// The writer's SQLite page cache, in KiB: commits into a large store touch index pages
/// all over it (random ids), and the cache keeps them between commits.
const WRITER_CACHE_KIB: i64 = 65_536;

/// Each reader's SQLite page cache, in KiB. Readers map nothing (`mmap_size = 0`): with
/// a 1 GiB map each of the 16 pooled readers held the pages it had touched, 16 times
/// the store's hot size in all (100,000 objects read by 16 clients at once: 1.2 GB
/// resident, 1.1 GB of it mapped file pages, all of it still held once idle). Without
/// it pages come from the operating system's cache through the readers' own caches,
/// bounded by this × [`MAX_READERS`] (32 MiB) whatever the store's size. A page query
/// walks one index and reads its objects in order, so a small cache loses little: the
/// interior pages it revisits fit many times over. Measured (`scripts/bench-taxii`,
/// BENCHMARKS.md): 2 MiB reads as fast as the 64 MiB map did, 4 MiB no faster beyond
/// the machine's noise and 30-40 MB more resident.
pub const READER_CACHE_KIB: i64 = 2_048;

/// A [`Store`] in one SQLite file.
pub struct SqliteStore {
    /// The single write connection. `std::sync::Mutex`: critical sections are one
    /// transaction and never await.
    writer: Mutex<Writer>,
    readers: ReaderPool,
    path: Option<PathBuf>,
    /// Checkpoints the log off the writer's thread and bounds it (`None` in memory).
    checkpointer: Option<checkpoint::Checkpointer>,
    /// The database page size, which is the size of a log frame's page.
    page_size: u64,
    /// Applies the correlation queue to the index file (`None`: in memory, where the
    /// writer applies it itself, or read-only).
    follower: Option<correlation::Follower>,
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path`. Every committed write is durable
    /// when the call that made it returns.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::EveryCommit)
    }

    /// Open with a chosen [`Durability`].
    pub fn open_with(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        Self::open_bounded(path.as_ref(), durability, checkpoint::WalBound::DEFAULT)
    }

    fn open_bounded(
        path: &Path,
        durability: Durability,
        bound: checkpoint::WalBound,
    ) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let conn = Connection::open(&path)?;
        configure_writer(&conn, durability)?;
        migrate(&conn, Some(&path))?;
        if correlation::create(&path)? {
            // A store whose index file is new but which holds objects (the file was
            // lost, or not copied with the store, or its schema changed): the node
            // rebuilds it. Not when a backfill of all analytics is pending and not
            // started (a store migrated from before them): that one records every
            // object's correlation too.
            conn.execute(
                "INSERT OR IGNORE INTO meta (name, value)
                 SELECT ?1, -9223372036854775808 WHERE EXISTS (SELECT 1 FROM objects)
                   AND NOT EXISTS (SELECT 1 FROM meta
                                   WHERE name = ?2 AND value = -9223372036854775808)",
                [write::CORRELATION_BACKFILL, write::ANALYTICS_BACKFILL],
            )?;
        }
        let follower = correlation::Follower::start(&path)?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let checkpointer = Some(checkpoint::Checkpointer::start(&path, bound)?);
        Ok(Self {
            writer: Mutex::new(Writer::new(conn, Correlation::Follower(follower.shared()))?),
            readers: ReaderPool::new(path.clone()),
            path: Some(path),
            checkpointer,
            page_size: u64::try_from(page_size).unwrap_or(0),
            follower: Some(follower),
        })
    }

    /// Open an existing store for reading only: nothing is created, migrated or
    /// checkpointed, and SQLite itself refuses every write (a read-only command that
    /// tried to write would fail instead of changing the store). The file must exist
    /// and have this build's schema version.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = open_reader(&path)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            return Err(StoreError::SchemaTooOld {
                found: version,
                current: SCHEMA_VERSION,
            });
        }
        Ok(Self {
            writer: Mutex::new(Writer::new(conn, Correlation::Nobody)?),
            readers: ReaderPool::new(path.clone()),
            path: Some(path),
            checkpointer: None,
            page_size: 0,
            follower: None,
        })
    }

    /// A private in-memory store (tests, examples). Reads share the writer connection.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        plan_once(&conn)?;
        migrate(&conn, None)?;
        correlation::attach_in_memory(&conn)?;
        Ok(Self {
            writer: Mutex::new(Writer::new(conn, Correlation::Inline)?),
            readers: ReaderPool::none(),
            path: None,
            checkpointer: None,
            page_size: 0,
            follower: None,
        })
    }

    /// The file this store lives in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The operating system's id of the thread that writes the correlation index
    /// (Linux; `None` elsewhere, and for stores without one). A bulk load lowers its
    /// priority below the store's writer, the load's critical path (`accord ingest`).
    pub fn correlation_thread_id(&self) -> Option<u32> {
        self.follower.as_ref().and_then(|f| f.thread_id())
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A poisoned lock means a panic mid-transaction; the transaction was rolled back
        // when its guard dropped, so the connection is still consistent.
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let result = f(&mut guard);
        if let Some(checkpointer) = &self.checkpointer {
            // Still under the lock: a wait for the whole log to be copied must not
            // let another write in.
            checkpointer.after_commit(guard.wal_frames() * self.page_size);
        }
        result
    }

    /// Waits until the correlation index has applied what this process inserted.
    fn settle_index(&self) -> Result<(), StoreError> {
        match &self.follower {
            Some(follower) => follower.settle(),
            None => Ok(()),
        }
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.readers.take()? {
            Some(conn) => f(&conn),
            None => self.write(|w| f(w.connection())),
        }
    }
}

/// When writes reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is on disk when it returns (`synchronous = FULL`): for servers,
    /// where each request acknowledges its writes (DESIGN.md, principle 3).
    EveryCommit,
    /// Commits are ordered and atomic but reach the disk at checkpoints or at
    /// [`Store::sync`] (`synchronous = NORMAL`): for bulk loads that acknowledge once,
    /// at the end, after calling `sync`.
    AtSync,
}

/// Makes SQLite plan each statement once, whatever values are bound to it (its query
/// planner stability guarantee). Without it, a statement whose plan SQLite thought a
/// bound value might change (a join's `x = ?` term, which it guesses more selective
/// unless the value is 0 or 1) was prepared again after every rebinding and every
/// return to rusqlite's statement cache (which clears the bindings): a partner's
/// correlations spent 17% of their time re-preparing `entries_at`'s join. The store
/// keeps no `sqlite_stat4` samples and matches no `LIKE` against parameters, the two
/// uses of bound values this gives up; partial indexes are chosen by literal terms.
pub(super) fn plan_once(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn configure_writer(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    plan_once(conn)?;
    // Only takes effect on a new, empty file (and must precede WAL mode).
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let synchronous = match durability {
        Durability::EveryCommit => "FULL",
        Durability::AtSync => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    // The background checkpointer does it (see `checkpoint`).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    plan_once(&conn)?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    conn.pragma_update(None, "mmap_size", 0)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Read-only like `conn`. A store of an older schema (refused by `open_read_only`)
    // has no index file yet.
    if correlation::path_of(path).exists() {
        correlation::attach(&conn, path)?;
    }
    Ok(conn)
}

fn migrate(conn: &Connection, path: Option<&Path>) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    match version {
        0 => conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {} {} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;",
            include_str!("schema.sql"),
            enrich::SCHEMA
        ))?,
        // Each step brings a store one version up (and says so in `user_version`).
        from @ 1..SCHEMA_VERSION => {
            for step in from..SCHEMA_VERSION {
                match step {
                    1 => migrate_from_1(conn)?,
                    2 => migrate_from_2(conn)?,
                    3 => migrate_from_3(conn)?,
                    4 => migrate_from_4(conn)?,
                    5 => migrate_from_5(conn)?,
                    6 => migrate_from_6(conn)?,
                    7 => migrate_from_7(conn)?,
                    8 => migrate_from_8(conn)?,
                    9 => migrate_from_9(conn)?,
                    10 => migrate_from_10(conn)?,
                    11 => migrate_from_11(conn, path)?,
                    12 => migrate_from_12(conn)?,
                    13 => migrate_from_13(conn)?,
                    _ => migrate_from_14(conn, path)?,
                }
            }
        }
        // This build's version (or a negative one no build writes): nothing to do.
        _ => {}
    }
    // Not a schema version of its own (see TOMBSTONES_TABLE): every writable open
    // makes sure the table is there.
    conn.execute_batch(TOMBSTONES_TABLE)?;
    Ok(())
}

/// The tombstones of removed object versions (federation propagates deletions from
/// them: `accord_node::federation`). Created at every writable open with `IF NOT
/// EXISTS`, not by a schema version: an older build opening the store ignores the
/// table, and a store without it (opened read-only before any writable open) reads as
/// having no tombstones. Keyed by the deletion stamp in microseconds (unique, strictly
/// increasing: the order and the cursor), indexed by collection in that order.
const TOMBSTONES_TABLE: &str = "CREATE TABLE IF NOT EXISTS tombstones (
    deleted      INTEGER PRIMARY KEY,
    collection   TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version_us   INTEGER NOT NULL,
    version_text TEXT    NOT NULL,
    provider     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS tombstones_in_order ON tombstones (collection, deleted);";

/// Version 1 stores lack the version marks, and the first of them indexed the ledger
/// by text.
fn migrate_from_1(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         ALTER TABLE objects ADD COLUMN is_latest INTEGER NOT NULL DEFAULT 1;
         ALTER TABLE objects ADD COLUMN is_first INTEGER NOT NULL DEFAULT 1;
         ALTER TABLE entries ADD COLUMN is_latest INTEGER NOT NULL DEFAULT 1;
         ALTER TABLE entries ADD COLUMN is_first INTEGER NOT NULL DEFAULT 1;
         UPDATE objects SET
           is_latest = (version_us = (SELECT max(x.version_us) FROM objects x WHERE x.id = objects.id)),
           is_first = (version_us = (SELECT min(x.version_us) FROM objects x WHERE x.id = objects.id));
         UPDATE entries SET
           is_latest = (version_us = (SELECT max(x.version_us) FROM entries x
                                      WHERE x.collection = entries.collection AND x.id = entries.id)),
           is_first = (version_us = (SELECT min(x.version_us) FROM entries x
                                     WHERE x.collection = entries.collection AND x.id = entries.id));",
    )?;
    let has_release_key = conn
        .prepare("SELECT 1 FROM pragma_table_info('ledger') WHERE name = 'release_key'")?
        .exists([])?;
    if !has_release_key {
        conn.execute_batch(
            "ALTER TABLE ledger ADD COLUMN release_key INTEGER NOT NULL DEFAULT 0;",
        )?;
        let rows: Vec<(i64, String, String)> = {
            let mut stmt = conn.prepare("SELECT seq, recipient, object_id FROM ledger")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut update = conn.prepare("UPDATE ledger SET release_key = ?1 WHERE seq = ?2")?;
        for (seq, recipient, object_id) in rows {
            update.execute(rusqlite::params![
                write::release_key(&recipient, &object_id),
                seq
            ])?;
        }
        conn.execute_batch(
            "DROP INDEX IF EXISTS ledger_by_recipient;
             CREATE INDEX ledger_by_release ON ledger (release_key);",
        )?;
    }
    conn.execute_batch("PRAGMA user_version = 2; COMMIT;")?;
    Ok(())
}

/// Version 2 stores index objects by id text and entries by (collection, id): random
/// keys, a page rewritten per insert, in two large indexes. Version 3 indexes objects by
/// an integer key of the id and entries by the object row they point to.
fn migrate_from_2(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         ALTER TABLE objects ADD COLUMN id_key INTEGER NOT NULL DEFAULT 0;",
    )?;
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT date_added, id FROM objects")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    {
        let mut update = conn.prepare("UPDATE objects SET id_key = ?1 WHERE date_added = ?2")?;
        for (date_added, id) in rows {
            update.execute(rusqlite::params![write::id_key(&id), date_added])?;
        }
    }
    conn.execute_batch(
        "DROP INDEX IF EXISTS objects_by_id;
         CREATE INDEX objects_by_key ON objects (id_key, version_us);
         DROP INDEX IF EXISTS entries_by_id;
         CREATE UNIQUE INDEX entries_by_object ON entries (object_added, collection);
         PRAGMA user_version = 3;
         COMMIT;",
    )?;
    Ok(())
}

/// Version 3 stores index objects by (id key, version); version 4 by the id key alone
/// (the schema says why).
fn migrate_from_3(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         DROP INDEX IF EXISTS objects_by_key;
         CREATE INDEX objects_by_key ON objects (id_key);
         PRAGMA user_version = 4;
         COMMIT;",
    )?;
    Ok(())
}

/// Version 4 stores have a hash chain only; version 5 adds the Merkle tree over the
/// ledger (built here for the entries already there), lookup indexes led by the
/// entry's epoch (`ledger::EPOCH_BITS`), the released id of each entry,
/// the salt of its object commitment, the signed tree heads, the log of removals from
/// collections and the node's secrets.
/// Version 5 stores lack the `meta` table; their facts were extracted by an earlier
/// build, which the missing `facts_extraction` row says (the node re-extracts).
fn migrate_from_5(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
         PRAGMA user_version = 6;
         COMMIT;",
    )?;
    Ok(())
}

/// Version 6 stores lack the federation peers (schema 7).
fn migrate_from_6(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {PEERS_TABLE} PRAGMA user_version = 7; COMMIT;"
    ))?;
    Ok(())
}

/// Version 8 stores lack the hub's enrichment tables (version 9; empty: enrichment is
/// computed by `accord enrich`).
fn migrate_from_8(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {} PRAGMA user_version = 9; COMMIT;",
        enrich::SCHEMA
    ))?;
    Ok(())
}

/// Version 9 stores may hold objects without analytics: those migrated from a schema
/// before 8, whose objects were stored before correlation and trends existed. When
/// the store has objects but no analytics at all (nothing recorded, so nothing can be
/// counted twice), version 10 marks a backfill pending (`meta.analytics_backfill`,
/// the `date_added` it has reached): the node records the analytics of every stored
/// version on its next writable open (`accord_node::analytics::backfill`), resumably.
/// The country/ASN trend cells of version 10 (rows of `trend_counts`, and the
/// `located_*` and `enrich_generation` rows of `meta`) need no table: they are counted
/// by the next `accord enrich`, and computed at query time until then.
fn migrate_from_9(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         INSERT OR IGNORE INTO meta (name, value)
           SELECT 'analytics_backfill', -9223372036854775808
           WHERE EXISTS (SELECT 1 FROM objects)
             AND NOT EXISTS (SELECT 1 FROM obs_links)
             AND NOT EXISTS (SELECT 1 FROM sighting_links)
             AND NOT EXISTS (SELECT 1 FROM trend_counts);
         PRAGMA user_version = 10;
         COMMIT;",
    )?;
    Ok(())
}

/// Version 7 stores have no analytics tables; version 8 adds them empty (objects
/// stored before count in no correlation or trend until re-ingested: see
/// docs/trends.md). The correlation tables as version 8 had them are in
/// `analytics_v8.sql` (version 11 moves them out); the trend cells are still in
/// `schema.sql`.
fn migrate_from_7(conn: &Connection) -> Result<(), StoreError> {
    let schema = include_str!("schema.sql");
    let trends = schema
        .find("-- Trends: counts per")
        .map(|at| &schema[at..])
        .unwrap_or_default();
    let analytics = format!("{}\n{trends}", include_str!("analytics_v8.sql"))
        .replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ")
        .replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ")
        .replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ");
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {analytics} PRAGMA user_version = 8; COMMIT;"
    ))?;
    Ok(())
}

/// Version 10 stores keep the correlation tables in the store file, written in the
/// insert's own transaction; version 11 keeps them in the index's own file, written by
/// a follower from a queue (`correlation.rs` says why). They are dropped from the
/// store with the queue created, in the store's transaction; the index file is made
/// at open, new, and rebuilt from the objects (the correlation backfill), as that of
/// a store copied without it is.
fn migrate_from_10(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DROP TABLE IF EXISTS main.obs_links;
         DROP TABLE IF EXISTS main.obs_providers;
         DROP TABLE IF EXISTS main.sighting_links;
         DROP TABLE IF EXISTS main.obs_values;
         {}
         PRAGMA user_version = 11;
         COMMIT;",
        correlation::QUEUE_TABLE
    ))?;
    Ok(())
}

/// Version 11 indexes number values in arrival order and keep a value's providers as
/// rows of their own; version 12 keys values by a hash of their text and keeps their
/// providers in their row (`correlation.rs` says why). Every row of the index
/// changes, so the index file is removed (with the queue, which it would apply
/// again) and made at open, new, and rebuilt from the objects (the correlation
/// backfill). A crash before the version is written removes it again, which is
/// harmless: nothing reads it before the rebuild.
fn migrate_from_11(conn: &Connection, path: Option<&Path>) -> Result<(), StoreError> {
    rebuild_index_at(conn, path, 12)
}

/// Removes the correlation index file of the store at `path` and the queue it would
/// apply, and moves the store to `version`: the index is made at open, new, and
/// rebuilt from the objects (the correlation backfill).
fn rebuild_index_at(
    conn: &Connection,
    path: Option<&Path>,
    version: i64,
) -> Result<(), StoreError> {
    if let Some(path) = path {
        correlation::remove(path)?;
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DELETE FROM correlation_queue;
         PRAGMA user_version = {version};
         COMMIT;"
    ))?;
    Ok(())
}

/// Version 13's correlation index records the ids sighted and not stated, and its
/// queue says which versions are the first of their id (`correlation.rs` says why).
/// The record is made from the index's other tables when the index is opened
/// (`correlation::create`); the store's version moves so that an older build, which
/// would apply sightings without keeping the record, refuses the store.
fn migrate_from_12(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA user_version = 13;")?;
    Ok(())
}

/// Up to version 13 a relationship counted under `family` or `technique` also counted
/// under `provider` (the store took the provider cell from an object's first key,
/// which for a relationship is that one): an indicator with a family counted twice
/// for its provider. Each such relationship added to the provider cell exactly what
/// it added to its family or technique cell (same metric, day, weight and provider;
/// one key each), so those cells' sums come off; a provider cell left at 0 with no
/// `type` cell beside it counted relationships only, and goes.
fn migrate_from_13(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         UPDATE trend_counts AS p
            SET count = p.count - (
                SELECT coalesce(sum(s.count), 0) FROM trend_counts AS s
                 WHERE s.dimension IN ('family', 'technique')
                   AND s.metric = p.metric AND s.day = p.day AND s.provider = p.provider)
          WHERE p.dimension = 'provider';
         DELETE FROM trend_counts AS p
          WHERE p.dimension = 'provider' AND p.count = 0
            AND NOT EXISTS (
                SELECT 1 FROM trend_counts AS t
                 WHERE t.dimension = 'type'
                   AND t.metric = p.metric AND t.day = p.day AND t.provider = p.provider);
         PRAGMA user_version = 14;
         COMMIT;",
    )?;
    Ok(())
}

/// Up to version 14 the index's sets counted providers; from 15 they count sources,
/// a provider in a collection (`correlation::source`), so that a value one provider
/// reports in two collections is a correlation too. The sets of every value change,
/// so the index is removed and rebuilt from the objects, as from version 11.
fn migrate_from_14(conn: &Connection, path: Option<&Path>) -> Result<(), StoreError> {
    rebuild_index_at(conn, path, 15)
}

/// The federation peers' table (also in `schema.sql`).
const PEERS_TABLE: &str = "CREATE TABLE IF NOT EXISTS peers (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT '{}'
);";

fn migrate_from_4(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         ALTER TABLE ledger ADD COLUMN released_id TEXT NOT NULL DEFAULT '';
         ALTER TABLE ledger ADD COLUMN held_key INTEGER;
         ALTER TABLE ledger ADD COLUMN salt BLOB NOT NULL DEFAULT x'';
         ALTER TABLE ledger ADD COLUMN nodes BLOB NOT NULL DEFAULT x'';
         DROP INDEX IF EXISTS ledger_by_release;
         CREATE INDEX ledger_by_release ON ledger (seq >> 14, release_key);
         CREATE INDEX ledger_by_held ON ledger (seq >> 14, held_key) WHERE held_key IS NOT NULL;
         CREATE TABLE ledger_heads (
             tree_size   INTEGER PRIMARY KEY,
             root_hash   BLOB NOT NULL,
             timestamp   INTEGER NOT NULL,
             key_id      BLOB NOT NULL,
             signature   BLOB NOT NULL
         );
         CREATE TABLE removals (
             seq        INTEGER PRIMARY KEY,
             collection TEXT NOT NULL,
             id         TEXT NOT NULL
         );
         CREATE TABLE secrets (
             name  TEXT PRIMARY KEY,
             value BLOB NOT NULL
         );",
    )?;
    if let Err(e) = ledger::build_tree(conn) {
        let _ = conn.execute_batch("ROLLBACK;");
        return Err(e);
    }
    conn.execute_batch("PRAGMA user_version = 5; COMMIT;")?;
    Ok(())
}

impl Store for SqliteStore {
    fn settle_correlation(&self) -> Result<(), StoreError> {
        self.settle_index()
    }

    fn shared_values(&self, min_providers: i64, limit: usize) -> Result<Vec<ValueRow>, StoreError> {
        self.read(|conn| query::shared_values(conn, min_providers, limit))
    }

    fn values_named(&self, value: &str) -> Result<Vec<ValueRow>, StoreError> {
        self.read(|conn| query::values_named(conn, value))
    }

    fn value_objects(&self, vid: i64) -> Result<Vec<ObjectRow>, StoreError> {
        self.read(|conn| query::value_objects(conn, vid))
    }

    fn sightings_of(&self, id: &str) -> Result<Vec<ObjectRow>, StoreError> {
        self.read(|conn| query::sightings_of(conn, id))
    }

    fn reported_in(&self, versions: &[i64]) -> Result<Vec<Option<String>>, StoreError> {
        self.read(|conn| query::reported_in(conn, versions))
    }

    fn trend_cells(
        &self,
        dimension: &str,
        metric: Option<&str>,
        since_day: i64,
    ) -> Result<Vec<TrendCell>, StoreError> {
        self.read(|conn| query::trend_cells(conn, dimension, metric, since_day))
    }

    fn add_trend_cells(&self, provider: &str, keys: &[TrendKey]) -> Result<(), StoreError> {
        self.write(|w| w.add_trend_cells(provider, keys))
    }

    fn insert(
        &self,
        objects: &[NewObject],
        provenance: &Provenance,
        collection: Option<&str>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        self.write(|w| w.insert(objects, provenance, collection))
    }

    fn query(&self, query: &ObjectQuery) -> Result<Page, StoreError> {
        self.read(|conn| query::run(conn, query))
    }

    fn sync(&self) -> Result<(), StoreError> {
        if self.path.is_none() {
            return Ok(());
        }
        // The index's commits are durable when made; what is queued is applied too,
        // so a bulk load that syncs at its end leaves nothing for later. The follower
        // starts on it at once and applies it during the checkpoint (it only reads this
        // file, at its latest commit, which a checkpoint does not wait for), then copies
        // the index's own log: they overlap instead of following each other at the end
        // of every load.
        if let Some(follower) = &self.follower {
            follower.hurry();
            follower.checkpoint_soon();
        }
        // A full checkpoint writes the WAL into the database file and syncs both.
        self.write(|w| {
            w.connection()
                .query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(()))?;
            Ok(())
        })?;
        self.settle_index()
    }

    fn latest(&self, id: &str) -> Result<Option<ObjectRow>, StoreError> {
        self.read(|conn| query::latest(conn, id))
    }

    fn remove_from_collection(
        &self,
        collection: &str,
        id: &str,
        versions: &VersionFilter,
        provider: Option<&str>,
    ) -> Result<u64, StoreError> {
        self.write(|w| w.remove_from_collection(collection, id, versions, provider))
    }

    fn ids_added_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
        self.read(|conn| query::ids_added_after(conn, after, limit))
    }

    fn entries_at(
        &self,
        collection: &str,
        positions: &[i64],
    ) -> Result<Vec<ObjectRow>, StoreError> {
        self.read(|conn| query::entries_at(conn, collection, positions))
    }

    fn tombstones_after(
        &self,
        collection: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Tombstone>, StoreError> {
        self.read(|conn| query::tombstones_after(conn, collection, after, limit))
    }

    fn removals_after(&self, after: u64, limit: usize) -> Result<Vec<Removal>, StoreError> {
        self.read(|conn| query::removals_after(conn, after, limit))
    }

    fn feed_heads(&self) -> Result<FeedHeads, StoreError> {
        self.read(query::feed_heads)
    }

    fn node_secret(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.write(|w| w.node_secret(name, fresh))
    }

    fn facts_extraction(&self) -> Result<u32, StoreError> {
        self.read(query::facts_extraction)
    }

    fn refresh_facts(
        &self,
        extraction: u32,
        extract: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        self.write(|w| w.refresh_facts(extraction, extract))
    }

    fn enrichment_state(&self) -> Result<Option<EnrichmentState>, StoreError> {
        self.read(enrich::state)
    }

    fn put_enrichment(
        &self,
        replace: bool,
        sources: &[EnrichmentSource],
        covers_until: i64,
        addresses: &[AddressEnrichment],
        domains: &[DomainEnrichment],
    ) -> Result<(), StoreError> {
        self.write(|w| {
            enrich::put(
                w.connection(),
                replace,
                sources,
                covers_until,
                addresses,
                domains,
            )
        })
    }

    fn located_state(&self) -> Result<Option<LocatedState>, StoreError> {
        self.read(enrich::located_state)
    }

    fn put_located(
        &self,
        replace: bool,
        deltas: &[LocatedDelta],
        state: LocatedState,
    ) -> Result<(), StoreError> {
        self.write(|w| enrich::put_located(w.connection(), replace, deltas, state))
    }

    fn analytics_backfill(&self) -> Result<Option<i64>, StoreError> {
        self.read(write::analytics_backfill)
    }

    fn backfill_analytics(
        &self,
        provider: &str,
        rows: &[BackfillRow],
        after: i64,
        done: bool,
    ) -> Result<(), StoreError> {
        self.write(|w| w.backfill_analytics(provider, rows, after, done))
    }

    fn enriched_addresses(
        &self,
        addresses: &[String],
    ) -> Result<Vec<AddressEnrichment>, StoreError> {
        self.read(|conn| enrich::addresses(conn, addresses))
    }

    fn enriched_domains(&self, domains: &[String]) -> Result<Vec<DomainEnrichment>, StoreError> {
        self.read(|conn| enrich::domains(conn, domains))
    }

    fn scan_enriched_addresses(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<AddressEnrichment>, StoreError> {
        self.read(|conn| enrich::scan_addresses(conn, after, limit))
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        self.read(query::stats)
    }

    fn put_status(&self, status: &StatusRecord) -> Result<(), StoreError> {
        self.write(|w| w.put_status(status))
    }

    fn status(&self, id: &str, organisation: &str) -> Result<Option<StatusRecord>, StoreError> {
        self.read(|conn| query::status(conn, id, organisation))
    }

    fn put_peer(&self, name: &str, definition: &str) -> Result<(), StoreError> {
        self.write(|w| {
            w.connection()
                .prepare_cached(
                    "INSERT INTO peers (name, definition) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET definition = excluded.definition",
                )?
                .execute(rusqlite::params![name, definition])?;
            Ok(())
        })
    }

    fn put_peer_state(&self, name: &str, state: &str) -> Result<bool, StoreError> {
        self.write(|w| {
            let n = w
                .connection()
                .prepare_cached("UPDATE peers SET state = ?2 WHERE name = ?1")?
                .execute(rusqlite::params![name, state])?;
            Ok(n > 0)
        })
    }

    fn peers(&self) -> Result<Vec<PeerRecord>, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT name, definition, state FROM peers ORDER BY name")?;
            let rows = stmt.query_map([], |r| {
                Ok(PeerRecord {
                    name: r.get(0)?,
                    definition: r.get(1)?,
                    state: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn remove_peer(&self, name: &str) -> Result<bool, StoreError> {
        self.write(|w| {
            let n = w
                .connection()
                .prepare_cached("DELETE FROM peers WHERE name = ?1")?
                .execute(rusqlite::params![name])?;
            Ok(n > 0)
        })
    }

    fn ledger_append(&self, records: &[LedgerRecord]) -> Result<LedgerTree, StoreError> {
        self.write(|w| w.ledger_append(records, None))
            .map(|(tree, _)| tree)
    }

    fn ledger_append_signed(
        &self,
        records: &[LedgerRecord],
        sign: &HeadSigner<'_>,
    ) -> Result<SignedTreeHead, StoreError> {
        self.write(|w| w.ledger_append(records, Some(sign)))?
            .1
            .ok_or_else(|| StoreError::Database("the append made no head".into()))
    }

    fn ledger_tree(&self) -> Result<LedgerTree, StoreError> {
        self.read(ledger::tree)
    }

    fn ledger_nodes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        self.read(|conn| ledger::nodes(conn, nodes))
    }

    fn ledger_put_head(&self, head: &SignedTreeHead) -> Result<(), StoreError> {
        self.write(|w| ledger::put_head(w.connection(), head))
    }

    fn ledger_head(&self, tree_size: u64) -> Result<Option<SignedTreeHead>, StoreError> {
        self.read(|conn| ledger::head(conn, tree_size))
    }

    fn ledger_latest_head(&self) -> Result<Option<SignedTreeHead>, StoreError> {
        self.read(ledger::latest_head)
    }

    fn ledger_last(&self) -> Result<Option<LedgerRecord>, StoreError> {
        self.read(ledger::last)
    }

    fn ledger_scan(&self, after: u64, limit: usize) -> Result<Vec<LedgerRecord>, StoreError> {
        self.read(|conn| ledger::scan(conn, after, limit))
    }

    fn ledger_find(
        &self,
        recipient: &str,
        object_id: &str,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        self.read(|conn| ledger::find(conn, recipient, object_id))
    }

    fn ledger_find_released(
        &self,
        recipient: &str,
        released_id: &str,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        self.read(|conn| ledger::find_released(conn, recipient, released_id))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::model::NewObject;

    /// A fresh store whose log is bounded at 1 MiB (waking the checkpointer at 256
    /// KiB), its path, and the folder that holds it.
    fn small_bound_store() -> (tempfile::TempDir, PathBuf, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let bound = checkpoint::WalBound {
            wake_bytes: 256 << 10,
            limit_bytes: 1 << 20,
        };
        let store = SqliteStore::open_bounded(&path, Durability::AtSync, bound).unwrap();
        (dir, path, store)
    }

    /// Commits `batches` batches of 256 objects of about 4 KB each (1 MiB a batch).
    fn write_batches(store: &SqliteStore, first: usize, batches: usize) {
        let provenance = Provenance::new("test", "test");
        let padding = "x".repeat(4000);
        for batch in first..first + batches {
            let objects: Vec<NewObject> = (0..256)
                .map(|i| {
                    let id = format!("x-test--00000000-0000-4000-8000-{:012}", batch * 256 + i);
                    NewObject {
                        json: format!(r#"{{"id":"{id}","type":"x-test","x_pad":"{padding}"}}"#),
                        id,
                        object_type: "x-test".into(),
                        spec_version: "2.1".into(),
                        version: None,
                        facts: Vec::new(),
                        analytics: Default::default(),
                    }
                })
                .collect();
            store.insert(&objects, &provenance, None).unwrap();
        }
    }

    fn log_bytes(path: &Path) -> u64 {
        std::fs::metadata(path.with_extension("sqlite-wal"))
            .unwrap()
            .len()
    }

    /// Readers are bounded: many reads at once share at most `MAX_READERS` connections
    /// (the rest wait), each with a small page cache and no map, so their memory does
    /// not grow with the number of clients or the size of the store.
    #[test]
    fn readers_are_bounded_in_number_and_memory() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (_dir, _path, store) = small_bound_store();
        write_batches(&store, 0, 1);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..MAX_READERS + 8 {
                scope.spawn(|| {
                    store
                        .read(|conn| {
                            let cache: i64 =
                                conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
                            let map: i64 = conn.query_row("PRAGMA mmap_size", [], |r| r.get(0))?;
                            assert_eq!((cache, map), (-READER_CACHE_KIB, 0));
                            let here = now.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(here, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(100));
                            now.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .unwrap();
                });
            }
        });
        let most = most.load(Ordering::SeqCst);
        assert!((2..=MAX_READERS).contains(&most), "{most} readers at once");
        assert_eq!(store.readers.open(), most);
    }

    /// A read that panics gives its connection back: the pool does not shrink by one
    /// slot per panic until every read waits forever.
    #[test]
    fn a_panicking_read_gives_its_connection_back() {
        let (_dir, _path, store) = small_bound_store();
        for _ in 0..MAX_READERS + 1 {
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                store.read(|_| -> Result<(), StoreError> { panic!("a failing read") })
            }));
            assert!(panicked.is_err());
        }
        assert_eq!(store.readers.open(), 1);
        assert_eq!(store.stats().unwrap().objects, 0);
    }

    /// A writer that never pauses still finds the log reused from its start: with a
    /// 1 MiB bound, 40 MiB of commits leave a log of a few MiB (without the bound it
    /// grows past the 40 MiB written).
    #[test]
    fn the_log_stays_bounded_under_a_steady_writer() {
        let (_dir, path, store) = small_bound_store();
        write_batches(&store, 0, 40);
        let log = log_bytes(&path);
        assert!(log < 8 << 20, "log of {log} bytes");
        assert_eq!(store.stats().unwrap().objects, 40 * 256);
    }

    /// A reader that holds an old snapshot keeps the log from being copied in full: the
    /// writer waits for one pass, not for the reader, and the log grows meanwhile; once
    /// the reader is gone the log is reused again.
    #[test]
    fn a_pinned_reader_delays_the_bound_but_never_blocks_the_writer() {
        let (_dir, path, store) = small_bound_store();
        write_batches(&store, 0, 1);
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let seen: i64 = reader
            .query_row("SELECT count(*) FROM objects", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seen, 256);
        let started = Instant::now();
        write_batches(&store, 1, 8);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the writer waited for the reader"
        );
        let pinned = log_bytes(&path);
        assert!(pinned > 8 << 20, "log of {pinned} bytes while pinned");
        reader.execute_batch("COMMIT").unwrap();
        drop(reader);
        // The next commits find the log copied and start it again.
        write_batches(&store, 9, 4);
        let restarted: i64 = store
            .write(|w| {
                Ok(w.connection()
                    .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?)
            })
            .unwrap();
        assert!(
            restarted < i64::try_from(pinned / store.page_size).unwrap(),
            "{restarted} frames after the reader left, {pinned} bytes while pinned"
        );
    }
}

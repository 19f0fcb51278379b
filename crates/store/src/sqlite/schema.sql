-- Accord store schema, version 13 (PRAGMA user_version; `migrate` brings versions 1 to 12 up).
-- The hub's enrichment tables (version 9) are in `enrich.rs` (`enrich::SCHEMA`); the
-- correlation index (versions 11 to 13) is in its own file (`correlation::SCHEMA`).
--
-- Every object version is one row of `objects`, keyed by its store `date_added` in
-- microseconds: unique and strictly increasing, so it doubles as the arrival order and
-- the cursor. Collection membership is one row of `entries`, keyed the same way by the
-- collection's `date_added` (what TAXII reports). Unversioned objects (SCOs) have
-- version_us = -9223372036854775808 and version_text = ''. `is_latest` / `is_first`
-- mark the latest and earliest version of an id (store-wide in `objects`, per collection
-- in `entries`), kept at insert and removal, so TAXII's default `match[version]=last`
-- is a column test on the row a page reads, not a lookup per row.

CREATE TABLE objects (
    date_added   INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    spec_version TEXT    NOT NULL,
    version_us   INTEGER NOT NULL,
    version_text TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    facts        BLOB    NOT NULL,
    json         TEXT    NOT NULL,
    is_latest    INTEGER NOT NULL DEFAULT 1,
    is_first     INTEGER NOT NULL DEFAULT 1,
    id_key       INTEGER NOT NULL
);
-- Versions of an id, found by a 64-bit hash of the id (FNV-1a, `write::id_key`) and
-- the id compared on the rows. Random ids dirty a page of this index per insert, and a
-- commit writes every page it dirtied to the log: the smaller the entry, the fewer
-- pages. An integer key is a third of the id's text; the version is left out (version
-- 3 had it), since every lookup reads the rows to compare the id anyway: 22 bytes an
-- entry instead of 31. The writer keeps (id, version_us) unique (it looks before it
-- inserts, in the same transaction).
CREATE INDEX objects_by_key ON objects (id_key);

CREATE TABLE entries (
    date_added   INTEGER PRIMARY KEY,
    collection   TEXT    NOT NULL,
    object_added INTEGER NOT NULL REFERENCES objects (date_added),
    id           TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    version_us   INTEGER NOT NULL,
    provider     TEXT    NOT NULL,
    is_latest    INTEGER NOT NULL DEFAULT 1,
    is_first     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX entries_in_order ON entries (collection, date_added);
-- An entry is found by id through objects_by_key and this index, which grows at its
-- end as objects arrive; an index on (collection, id) would take random ids and rewrite
-- a page per insert (measured: half of a TAXII POST's page writes in a large store).
CREATE UNIQUE INDEX entries_by_object ON entries (object_added, collection);
CREATE INDEX entries_by_type ON entries (collection, type, date_added);

CREATE TABLE statuses (
    id           TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,
    json         TEXT NOT NULL
);

-- One row per ledger entry. `encoded` is the entry (and its Merkle leaf); `salt` the
-- salt of its commitment to `object_id` (format 2), kept beside it. `nodes` holds the
-- hashes of the perfect subtrees of the Merkle tree that this entry completed, level 0
-- (its leaf hash) first, 32 bytes each: node (level l, index k) is in the row with
-- seq = (k + 1) << l, so every node a proof needs is one primary-key lookup, and an
-- append writes only its own row.
CREATE TABLE ledger (
    seq         INTEGER PRIMARY KEY,
    release_key INTEGER NOT NULL,
    recipient   TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    encoded     BLOB NOT NULL,
    hash        BLOB NOT NULL,
    released_id TEXT NOT NULL DEFAULT '',
    held_key    INTEGER,
    salt        BLOB NOT NULL DEFAULT x'',
    nodes       BLOB NOT NULL DEFAULT x''
);
-- Who got what: an integer hash of (recipient, object id) (a text index on the pair
-- cost more than half of a partner's read), led by the entry's epoch, `seq >> 14`
-- (runs of 16,384 entries; `ledger::EPOCH_BITS`). Keyed by the hash alone, every
-- append of 1,000 entries landed on up to 1,000 random pages of an index as large as
-- the ledger, each written to the log at commit: 61,000 appends/s at 1,000,000 entries
-- against 132,000 without the index. Led by the epoch, an append inserts only into
-- the current epoch's few pages at the index's right edge, whatever the ledger's size;
-- a lookup seeks once per epoch (62 seeks at 1,000,000 entries).
CREATE INDEX ledger_by_release ON ledger (seq >> 14, release_key);
-- Who holds what under another id: the same hash of (recipient, released id), only for
-- entries whose released id differs from the stored id (pseudonymised SCOs), so the
-- common append maintains no second index; led by the epoch for the same reason.
CREATE INDEX ledger_by_held ON ledger (seq >> 14, held_key) WHERE held_key IS NOT NULL;

-- Signed tree heads the node issued, one per tree size (the first one kept).
CREATE TABLE ledger_heads (
    tree_size   INTEGER PRIMARY KEY,
    root_hash   BLOB NOT NULL,
    timestamp   INTEGER NOT NULL,
    key_id      BLOB NOT NULL,
    signature   BLOB NOT NULL
);

-- Removals of object versions from collections (TAXII DELETE), in order: readers that
-- keep state derived from a collection (the egress door's per-recipient release views)
-- read what was removed since they last looked. Inserts need no log: `date_added` is
-- the order of arrival.
CREATE TABLE removals (
    seq        INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    id         TEXT NOT NULL
);

-- Tombstones (one per object version removed from a collection, with its deletion
-- time) are created at every writable open, not by a schema version:
-- `TOMBSTONES_TABLE` in mod.rs.

-- Secrets of the node that every process serving this store must share (the key of the
-- paging tokens), created on first use.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Facts about the store's own content, set by the node: `facts_extraction` is the
-- version of the gate-facts extraction the `facts` column was written with (a node
-- whose extraction is newer re-extracts every row before it serves or writes).
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Federation peers (`accord peer add`): the definition and the sync state (cursors per
-- direction, counters, last error) as JSON texts the node defines, one row per peer
-- so a page's cursor advance is one write.
CREATE TABLE peers (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT '{}'
);

-- Analytics kept at ingest (the node extracts what to record: `accord_node::analytics`).
--
-- Correlation (every observable value interned once, linked to the object versions
-- stating it, the providers that stated or sighted it) is kept in a file of its own
-- beside the store, by a follower thread (`correlation.rs` says why and how). The
-- insert queues what it must record, one row per batch, in its own transaction.
CREATE TABLE correlation_queue (
    seq      INTEGER PRIMARY KEY,
    provider TEXT    NOT NULL,
    body     BLOB    NOT NULL
);

-- Trends: counts per (dimension, metric, day, series, provider), incremented when the
-- first version of an id arrives. A query over any number of sightings reads one row
-- per cell (days x series x providers), not one per object.
CREATE TABLE trend_counts (
    dimension TEXT    NOT NULL,
    metric    TEXT    NOT NULL,
    day       INTEGER NOT NULL,
    key       TEXT    NOT NULL,
    provider  TEXT    NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (dimension, metric, day, key, provider)
) WITHOUT ROWID;

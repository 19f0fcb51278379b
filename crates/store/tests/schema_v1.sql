-- Accord store schema, version 1 (PRAGMA user_version).
--
-- Every object version is one row of `objects`, keyed by its store `date_added` in
-- microseconds: unique and strictly increasing, so it doubles as the arrival order and
-- the cursor. Collection membership is one row of `entries`, keyed the same way by the
-- collection's `date_added` (what TAXII reports). Unversioned objects (SCOs) have
-- version_us = -9223372036854775808 and version_text = ''.

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
    json         TEXT    NOT NULL
);
CREATE UNIQUE INDEX objects_by_id ON objects (id, version_us);

CREATE TABLE entries (
    date_added   INTEGER PRIMARY KEY,
    collection   TEXT    NOT NULL,
    object_added INTEGER NOT NULL REFERENCES objects (date_added),
    id           TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    version_us   INTEGER NOT NULL,
    provider     TEXT    NOT NULL
);
CREATE INDEX entries_in_order ON entries (collection, date_added);
CREATE UNIQUE INDEX entries_by_id ON entries (collection, id, version_us);
CREATE INDEX entries_by_type ON entries (collection, type, date_added);

CREATE TABLE statuses (
    id           TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,
    json         TEXT NOT NULL
);

CREATE TABLE ledger (
    seq       INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    object_id TEXT NOT NULL,
    encoded   BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE INDEX ledger_by_recipient ON ledger (recipient, object_id, seq);

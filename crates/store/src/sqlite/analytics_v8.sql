-- The correlation tables as schemas 8 to 10 kept them in the store file (created by
-- `migrate_from_7`; `migrate_from_10` moves their rows to the correlation index's own
-- file, `correlation::SCHEMA`, and drops them).
--
-- Analytics kept at ingest, in the insert's transaction (version 8; the node extracts
-- what to record: `accord_node::analytics`).
--
-- Correlation: every observable value (kind, normalised value) is interned once in
-- `obs_values`, linked to each object version stating it (`obs_links`), and the
-- providers that stated or sighted it are kept once each (`obs_providers`, counted in
-- `obs_values.providers`): memory grows with distinct values and objects, never with
-- pairs of objects. Sightings are linked to the key of the id they sight, so a
-- sighting's provider joins the value whichever arrives first.
CREATE TABLE obs_values (
    vid       INTEGER PRIMARY KEY,
    kind      TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    providers INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX obs_values_by_value ON obs_values (kind, value);
-- Only values several providers share are candidates of a correlation listing.
CREATE INDEX obs_values_shared ON obs_values (providers) WHERE providers > 1;
CREATE TABLE obs_links (
    vid          INTEGER NOT NULL,
    object_added INTEGER NOT NULL,
    PRIMARY KEY (vid, object_added)
) WITHOUT ROWID;
CREATE INDEX obs_links_by_object ON obs_links (object_added);
CREATE TABLE obs_providers (
    vid      INTEGER NOT NULL,
    provider TEXT    NOT NULL,
    PRIMARY KEY (vid, provider)
) WITHOUT ROWID;
CREATE TABLE sighting_links (
    target_key   INTEGER NOT NULL,
    object_added INTEGER NOT NULL,
    PRIMARY KEY (target_key, object_added)
) WITHOUT ROWID;


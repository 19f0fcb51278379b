//! The hub's enrichment facts (schema version 7): country, ASN and AS name of every
//! address the objects are about, the registrable domain of every domain, and the
//! databases they came from. Kept beside the objects, never in them; replaced whole
//! when the databases change.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::StoreError;
use crate::model::{
    AddressEnrichment, DomainEnrichment, EnrichmentSource, EnrichmentState, LocatedDelta,
    LocatedState,
};

/// The tables (created in new stores and by the migration from version 6).
///
/// `enrich_addresses` and `enrich_domains` are keyed by the value's canonical text
/// (no rowid: the key is the row). `enrich_sources` holds one row per database role
/// (`country`, `asn`) with the metadata the run read; `meta`'s `enrich_covers_until`
/// is the newest object `date_added` the run saw (objects added later are enriched by
/// the next run).
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS enrich_addresses (
    address TEXT PRIMARY KEY,
    country TEXT,
    asn     INTEGER,
    as_name TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrich_domains (
    domain      TEXT PRIMARY KEY,
    registrable TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrich_sources (
    role          TEXT PRIMARY KEY,
    path          TEXT NOT NULL,
    database_type TEXT NOT NULL,
    build_epoch   INTEGER NOT NULL,
    node_count    INTEGER NOT NULL
);
";

pub(super) fn state(conn: &Connection) -> Result<Option<EnrichmentState>, StoreError> {
    let covers: Option<i64> = conn
        .prepare_cached("SELECT value FROM meta WHERE name = 'enrich_covers_until'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let Some(covers_until) = covers else {
        return Ok(None);
    };
    let sources = conn
        .prepare_cached(
            "SELECT role, path, database_type, build_epoch, node_count FROM enrich_sources \
             ORDER BY role",
        )?
        .query_map([], |r| {
            Ok(EnrichmentSource {
                role: r.get(0)?,
                path: r.get(1)?,
                database_type: r.get(2)?,
                build_epoch: r.get::<_, i64>(3)?.max(0) as u64,
                node_count: r.get::<_, i64>(4)?.clamp(0, i64::from(u32::MAX)) as u32,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))?.max(0) as u64)
    };
    Ok(Some(EnrichmentState {
        sources,
        covers_until,
        addresses: count("SELECT count(*) FROM enrich_addresses")?,
        domains: count("SELECT count(*) FROM enrich_domains")?,
        generation: meta(conn, "enrich_generation")?.unwrap_or(0),
    }))
}

pub(super) fn put(
    conn: &Connection,
    replace: bool,
    sources: &[EnrichmentSource],
    covers_until: i64,
    addresses: &[AddressEnrichment],
    domains: &[DomainEnrichment],
) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    if replace {
        tx.execute_batch(
            "DELETE FROM enrich_addresses; DELETE FROM enrich_domains; DELETE FROM enrich_sources;",
        )?;
    }
    {
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO enrich_addresses (address, country, asn, as_name) \
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for a in addresses {
            stmt.execute(params![a.address, a.country, a.asn, a.as_name])?;
        }
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO enrich_domains (domain, registrable) VALUES (?1, ?2)",
        )?;
        for d in domains {
            stmt.execute(params![d.domain, d.registrable])?;
        }
        tx.execute("DELETE FROM enrich_sources", [])?;
        let mut stmt = tx.prepare_cached(
            "INSERT INTO enrich_sources (role, path, database_type, build_epoch, node_count) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for s in sources {
            let epoch = i64::try_from(s.build_epoch).unwrap_or(i64::MAX);
            stmt.execute(params![
                s.role,
                s.path,
                s.database_type,
                epoch,
                s.node_count
            ])?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES ('enrich_covers_until', ?1)",
            params![covers_until],
        )?;
        // Every change of the facts is a new generation: location cells counted
        // against an older one are not trusted as they are (`located_state`).
        tx.execute(
            "INSERT INTO meta (name, value) VALUES ('enrich_generation', 1) \
             ON CONFLICT (name) DO UPDATE SET value = value + 1",
            [],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn address_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AddressEnrichment> {
    Ok(AddressEnrichment {
        address: r.get(0)?,
        country: r.get(1)?,
        asn: r
            .get::<_, Option<i64>>(2)?
            .and_then(|a| u32::try_from(a).ok()),
        as_name: r.get(3)?,
    })
}

pub(super) fn addresses(
    conn: &Connection,
    addresses: &[String],
) -> Result<Vec<AddressEnrichment>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT address, country, asn, as_name FROM enrich_addresses WHERE address = ?1",
    )?;
    let mut out = Vec::new();
    for a in addresses {
        if let Some(row) = stmt.query_row(params![a], address_row).optional()? {
            out.push(row);
        }
    }
    Ok(out)
}

pub(super) fn domains(
    conn: &Connection,
    domains: &[String],
) -> Result<Vec<DomainEnrichment>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT domain, registrable FROM enrich_domains WHERE domain = ?1")?;
    let mut out = Vec::new();
    for d in domains {
        let row = stmt
            .query_row(params![d], |r| {
                Ok(DomainEnrichment {
                    domain: r.get(0)?,
                    registrable: r.get(1)?,
                })
            })
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

pub(super) fn scan_addresses(
    conn: &Connection,
    after: &str,
    limit: usize,
) -> Result<Vec<AddressEnrichment>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = conn
        .prepare_cached(
            "SELECT address, country, asn, as_name FROM enrich_addresses WHERE address > ?1 \
             ORDER BY address LIMIT ?2",
        )?
        .query_map(params![after, limit], address_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn meta(conn: &Connection, name: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
        .query_row(params![name], |r| r.get(0))
        .optional()?)
}

/// The dimensions of the location cells in `trend_counts`.
const LOCATED_DIMENSIONS: &str = "('country', 'asn')";

pub(super) fn located_state(conn: &Connection) -> Result<Option<LocatedState>, StoreError> {
    let covers = meta(conn, "located_covers_until")?;
    let generation = meta(conn, "located_generation")?;
    Ok(covers
        .zip(generation)
        .map(|(covers_until, generation)| LocatedState {
            covers_until,
            generation,
        }))
}

/// The location cells live in `trend_counts` beside the dimensions kept at ingest
/// (dimension `country` or `asn`), so a query reads them the same way.
pub(super) fn put_located(
    conn: &Connection,
    replace: bool,
    deltas: &[LocatedDelta],
    state: LocatedState,
) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    if replace {
        tx.execute(
            &format!("DELETE FROM trend_counts WHERE dimension IN {LOCATED_DIMENSIONS}"),
            [],
        )?;
    }
    {
        let mut add = tx.prepare_cached(
            "INSERT INTO trend_counts (dimension, metric, day, key, provider, count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (dimension, metric, day, key, provider)
             DO UPDATE SET count = count + excluded.count",
        )?;
        let mut empty = tx.prepare_cached(
            "DELETE FROM trend_counts WHERE dimension = ?1 AND metric = ?2 AND day = ?3 \
             AND key = ?4 AND provider = ?5 AND count = 0",
        )?;
        for d in deltas {
            let c = &d.cell;
            // The cells kept at ingest are not the location cells' to change.
            if !matches!(d.dimension.as_str(), "country" | "asn") {
                continue;
            }
            add.execute(params![
                d.dimension,
                c.metric,
                c.day,
                c.key,
                c.provider,
                c.count
            ])?;
            empty.execute(params![d.dimension, c.metric, c.day, c.key, c.provider])?;
        }
        let mut set = tx.prepare_cached(
            "INSERT INTO meta (name, value) VALUES (?1, ?2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )?;
        set.execute(params!["located_covers_until", state.covers_until])?;
        set.execute(params!["located_generation", state.generation])?;
    }
    tx.commit()?;
    Ok(())
}

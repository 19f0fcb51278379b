//! Reads: pages of object versions, the latest version of an id, stats, statuses and the
//! ledger.

use accord_stix::Timestamp;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::write::UNVERSIONED;
use crate::error::StoreError;
use crate::model::{
    Cursor, FeedHeads, ObjectQuery, ObjectRow, Page, Provenance, Removal, Scope, Stats,
    StatusRecord, Tombstone, TrendCell, ValueRow, VersionFilter,
};

/// Columns every object query selects, in the order [`object_row`] reads them. `k` is the
/// scope's key column (`e.date_added` in a collection, `o.date_added` store-wide).
const COLUMNS: &str = "o.id, o.type, o.spec_version, o.version_text, o.version_us, \
                       o.provider, o.channel, o.facts, o.json";

/// Builds the SQL of one page query and its parameters.
struct SqlBuilder {
    sql: String,
    params: Vec<Value>,
}

impl SqlBuilder {
    fn param(&mut self, value: impl Into<Value>) -> String {
        self.params.push(value.into());
        format!("?{}", self.params.len())
    }

    fn list<T: Clone + Into<Value>>(&mut self, items: &[T]) -> String {
        let names: Vec<String> = items.iter().map(|i| self.param(i.clone())).collect();
        names.join(", ")
    }
}

/// One page of `query`.
pub(super) fn run(conn: &Connection, query: &ObjectQuery) -> Result<Page, StoreError> {
    let Some(b) = page_sql(query) else {
        return Ok(Page::default());
    };
    let mut stmt = conn.prepare_cached(&b.sql)?;
    let mut rows = stmt.query(params_from_iter(b.params.iter()))?;
    let mut page = Page {
        rows: Vec::with_capacity(query.limit.min(1024)),
        more: false,
    };
    while let Some(row) = rows.next()? {
        if page.rows.len() == query.limit {
            page.more = true;
            break;
        }
        page.rows.push(object_row(row)?);
    }
    Ok(page)
}

/// The SQL of one page of `query`, with its parameters; `None` when nothing can match.
fn page_sql(query: &ObjectQuery) -> Option<SqlBuilder> {
    // `key`: the table whose `date_added` orders the page; `row_of_object`: the column
    // that names the object row.
    let (mut b, key, row_of_object) = match &query.scope {
        Scope::Collection(collection) => {
            let mut b = SqlBuilder {
                sql: String::new(),
                params: Vec::new(),
            };
            let c = b.param(collection.clone());
            // With ids the result is a few versions: reach them by id (see below), not
            // by walking the collection in order, which the planner would otherwise
            // prefer for the ORDER BY ... LIMIT.
            let index = if query.ids.is_empty() {
                ""
            } else {
                " INDEXED BY entries_by_object"
            };
            b.sql = format!(
                "SELECT e.date_added, {COLUMNS} FROM entries e{index} \
                 JOIN objects o ON o.date_added = e.object_added WHERE e.collection = {c}"
            );
            (b, "e", "e.object_added")
        }
        Scope::Store => {
            let b = SqlBuilder {
                sql: format!("SELECT o.date_added, {COLUMNS} FROM objects o WHERE 1"),
                params: Vec::new(),
            };
            (b, "o", "o.date_added")
        }
    };
    let after = query
        .after
        .map(|c| c.0)
        .into_iter()
        .chain(query.added_after)
        .max();
    if let Some(after) = after {
        let p = b.param(after);
        b.sql.push_str(&format!(" AND {key}.date_added > {p}"));
    }
    if !query.types.is_empty() {
        let list = b.list(&query.types);
        b.sql.push_str(&format!(" AND {key}.type IN ({list})"));
    }
    if !query.ids.is_empty() {
        // Each list is one parameter, a JSON array read by `json_each`: the statement's
        // text is then the same for any number of ids, so it is prepared once and
        // cached. With one parameter per id (a federation page names 10,000), every
        // page compiled a statement of 20,000 parameters anew, 4% of a pulling node's
        // CPU.
        let keys: Vec<serde_json::Value> = query
            .ids
            .iter()
            .map(|id| super::write::id_key(id).into())
            .collect();
        let keys = b.param(serde_json::Value::Array(keys).to_string());
        let list = b.param(serde_json::Value::from(query.ids.clone()).to_string());
        // Found through the objects' id index (entries have none: schema.sql).
        b.sql.push_str(&format!(
            " AND {row_of_object} IN (SELECT date_added FROM objects \
             WHERE id_key IN (SELECT value FROM json_each({keys})) \
             AND id IN (SELECT value FROM json_each({list})))"
        ));
    }
    if !query.spec_versions.is_empty() {
        let list = b.list(&query.spec_versions);
        b.sql.push_str(&format!(" AND o.spec_version IN ({list})"));
    }
    if let Some(clause) = version_clause(&mut b, &query.versions, key) {
        b.sql.push_str(&format!(" AND ({clause})"));
    }
    if let Some(providers) = &query.providers {
        if providers.is_empty() {
            return None;
        }
        let mut alternatives = Vec::new();
        for window in providers {
            let org = b.param(window.organisation.clone());
            let mut alt = format!("o.provider = {org}");
            if let Some(until) = window.added_until {
                let u = b.param(until);
                alt.push_str(&format!(" AND o.date_added <= {u}"));
            }
            alternatives.push(format!("({alt})"));
        }
        b.sql
            .push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    let limit = b.param(
        i64::try_from(query.limit)
            .unwrap_or(i64::MAX)
            .saturating_add(1),
    );
    b.sql
        .push_str(&format!(" ORDER BY {key}.date_added LIMIT {limit}"));
    Some(b)
}

/// The SQL condition of a version filter, `None` when every version passes.
fn version_clause(b: &mut SqlBuilder, versions: &VersionFilter, key: &str) -> Option<String> {
    if versions.all {
        return None;
    }
    let mut alternatives = Vec::new();
    if versions.last {
        alternatives.push(format!("{key}.is_latest = 1"));
    }
    if versions.first {
        alternatives.push(format!("{key}.is_first = 1"));
    }
    if !versions.exact.is_empty() {
        let list = b.list(&versions.exact);
        alternatives.push(format!("{key}.version_us IN ({list})"));
        // An unversioned object's version is its date_added (TAXII 2.1, 3.4.1).
        let unversioned = b.param(UNVERSIONED);
        alternatives.push(format!(
            "({key}.version_us = {unversioned} AND {key}.date_added IN ({list}))"
        ));
    }
    if alternatives.is_empty() {
        // A filter that names no version selects nothing.
        return Some("0".to_string());
    }
    Some(alternatives.join(" OR "))
}

/// Decode a row selected with `<key>, COLUMNS`.
fn object_row(row: &Row<'_>) -> Result<ObjectRow, StoreError> {
    let date_added: i64 = row.get(0)?;
    let version_us: i64 = row.get(5)?;
    let (version, version_micros) = if version_us == UNVERSIONED {
        (
            Timestamp::from_micros(date_added).as_str().to_string(),
            date_added,
        )
    } else {
        (row.get::<_, String>(4)?, version_us)
    };
    Ok(ObjectRow {
        cursor: Cursor(date_added),
        id: row.get(1)?,
        object_type: row.get(2)?,
        spec_version: row.get(3)?,
        version,
        version_micros,
        date_added,
        provenance: Provenance {
            organisation: row.get(6)?,
            channel: row.get(7)?,
        },
        facts: row.get(8)?,
        json: row.get(9)?,
    })
}

/// Object versions stored after `after` (store `date_added`), oldest first: their
/// `date_added` and id only.
pub(super) fn ids_added_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT date_added, id FROM objects WHERE date_added > ?1 ORDER BY date_added LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// [`entries_at`]'s statement: one entry, by position and collection.
fn entries_at_sql() -> String {
    format!(
        "SELECT e.date_added, {COLUMNS} FROM entries e \
         JOIN objects o ON o.date_added = e.object_added \
         WHERE e.date_added = ?1 AND e.collection = ?2"
    )
}

/// The entries of `collection` at these positions (`date_added` in the collection)
/// that still exist, in ascending order.
///
/// One read transaction for all the lookups: outside one, SQLite opens and closes a
/// read transaction per statement, two `fcntl` locks on the WAL index each (a page of
/// 10,000 positions made 20,000 system calls), and the rows could come from
/// different snapshots of the store.
pub(super) fn entries_at(
    conn: &Connection,
    collection: &str,
    positions: &[i64],
) -> Result<Vec<ObjectRow>, StoreError> {
    let mut sorted = positions.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    // Read only: dropping it ends the read transaction (a rollback of nothing).
    let tx = conn.unchecked_transaction()?;
    let mut stmt = tx.prepare_cached(&entries_at_sql())?;
    let mut rows = Vec::with_capacity(sorted.len());
    for position in sorted {
        let mut found = stmt.query(params![position, collection])?;
        if let Some(row) = found.next()? {
            rows.push(object_row(row)?);
        }
    }
    Ok(rows)
}

pub(super) fn feed_heads(conn: &Connection) -> Result<FeedHeads, StoreError> {
    let objects: Option<i64> =
        conn.query_row("SELECT max(date_added) FROM objects", [], |r| r.get(0))?;
    let removals: Option<i64> =
        conn.query_row("SELECT max(seq) FROM removals", [], |r| r.get(0))?;
    Ok(FeedHeads {
        objects: objects.unwrap_or(0),
        removals: removals.map_or(0, |r| u64::try_from(r).unwrap_or(0)),
    })
}

/// Tombstones of `collection` deleted after `after`, oldest first. A store whose
/// tombstone table was never created (only ever opened read-only since an older build
/// wrote it) has none.
pub(super) fn tombstones_after(
    conn: &Connection,
    collection: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<Tombstone>, StoreError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tombstones')",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT deleted, collection, id, version_text, version_us, provider FROM tombstones
         WHERE collection = ?1 AND deleted > ?2 ORDER BY deleted LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![collection, after, limit], |r| {
        Ok(Tombstone {
            deleted: r.get(0)?,
            collection: r.get(1)?,
            id: r.get(2)?,
            version: r.get(3)?,
            version_micros: r.get(4)?,
            provider: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removals logged after `after`, in order.
pub(super) fn removals_after(
    conn: &Connection,
    after: u64,
    limit: usize,
) -> Result<Vec<Removal>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, collection, id FROM removals WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(Removal {
            seq: r.get::<_, i64>(0)? as u64,
            collection: r.get(1)?,
            id: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn latest(conn: &Connection, id: &str) -> Result<Option<ObjectRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.date_added, {COLUMNS} FROM objects o WHERE o.id_key = ?2 AND o.id = ?1 \
         ORDER BY o.version_us DESC LIMIT 1"
    ))?;
    let mut rows = stmt.query(params![id, super::write::id_key(id)])?;
    match rows.next()? {
        Some(row) => Ok(Some(object_row(row)?)),
        None => Ok(None),
    }
}

pub(super) fn stats(conn: &Connection) -> Result<Stats, StoreError> {
    let grouped = |sql: &str| -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
    };
    Ok(Stats {
        object_versions: count("SELECT count(*) FROM objects")?,
        objects: count("SELECT count(DISTINCT id) FROM objects")?,
        by_type: grouped("SELECT type, count(*) FROM objects GROUP BY type ORDER BY type")?,
        by_provider: grouped(
            "SELECT provider, count(*) FROM objects GROUP BY provider ORDER BY provider",
        )?,
        by_collection: grouped(
            "SELECT collection, count(*) FROM entries GROUP BY collection ORDER BY collection",
        )?,
        ledger_entries: count("SELECT count(*) FROM ledger")?,
    })
}

pub(super) fn status(
    conn: &Connection,
    id: &str,
    organisation: &str,
) -> Result<Option<StatusRecord>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT json FROM statuses WHERE id = ?1 AND organisation = ?2")?
        .query_row(params![id, organisation], |r| r.get::<_, String>(0))
        .optional()?
        .map(|json| StatusRecord {
            id: id.to_string(),
            organisation: organisation.to_string(),
            json,
        }))
}

/// See [`crate::Store::facts_extraction`].
pub(super) fn facts_extraction(conn: &Connection) -> Result<u32, StoreError> {
    let value: Option<i64> = conn
        .prepare_cached("SELECT value FROM meta WHERE name = 'facts_extraction'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// [`shared_values`]'s statement (`providers > 1` lets SQLite use the partial index of
/// shared values).
const SHARED_VALUES: &str = "SELECT vid, kind, value, providers FROM obs_values
     WHERE providers > 1 AND providers >= ?1
     ORDER BY providers DESC, kind, value LIMIT ?2";

/// Values stated or sighted by at least `min_providers` providers (store-wide), most
/// shared first, at most `limit`.
pub(super) fn shared_values(
    conn: &Connection,
    min_providers: i64,
    limit: usize,
) -> Result<Vec<ValueRow>, StoreError> {
    let mut stmt = conn.prepare_cached(SHARED_VALUES)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![min_providers, limit], value_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The interned values equal to `value` (of any kind), by kind.
pub(super) fn values_named(conn: &Connection, value: &str) -> Result<Vec<ValueRow>, StoreError> {
    let mut found = Vec::new();
    for kind in VALUE_KINDS {
        found.extend(super::correlation::find_value(conn, kind, value)?);
    }
    Ok(found)
}

/// The kinds of interned values, in their text order.
const VALUE_KINDS: [&str; 6] = ["cidr", "domain", "email", "file-hash", "ip", "url"];

fn value_row(r: &Row<'_>) -> rusqlite::Result<ValueRow> {
    Ok(ValueRow {
        vid: r.get(0)?,
        kind: r.get(1)?,
        value: r.get(2)?,
        providers: r.get(3)?,
    })
}

/// The object versions linked to value `vid`, in arrival order.
pub(super) fn value_objects(conn: &Connection, vid: i64) -> Result<Vec<ObjectRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.date_added, {COLUMNS} FROM obs_links l JOIN objects o
         ON o.date_added = l.object_added WHERE l.vid = ?1 ORDER BY o.date_added"
    ))?;
    let mut rows = stmt.query(params![vid])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(object_row(row)?);
    }
    Ok(out)
}

/// The sighting versions that sight `id`, in arrival order.
pub(super) fn sightings_of(conn: &Connection, id: &str) -> Result<Vec<ObjectRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.date_added, {COLUMNS} FROM sighting_links s JOIN objects o
         ON o.date_added = s.object_added WHERE s.target_key = ?1 ORDER BY o.date_added"
    ))?;
    let mut rows = stmt.query(params![super::write::id_key(id)])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(object_row(row)?);
    }
    Ok(out)
}

/// The collection each version's insert added it to (`None`: none).
pub(super) fn reported_in(
    conn: &Connection,
    versions: &[i64],
) -> Result<Vec<Option<String>>, StoreError> {
    let mut stmt = conn.prepare_cached(super::write::FIRST_COLLECTION)?;
    let mut out = Vec::with_capacity(versions.len());
    for version in versions {
        out.push(stmt.query_row(params![version], |r| r.get(0)).optional()?);
    }
    Ok(out)
}

/// Trend cells of `dimension` (one `metric`, or all) from `since_day` on.
pub(super) fn trend_cells(
    conn: &Connection,
    dimension: &str,
    metric: Option<&str>,
    since_day: i64,
) -> Result<Vec<TrendCell>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT metric, day, key, provider, count FROM trend_counts
         WHERE dimension = ?1 AND (?2 IS NULL OR metric = ?2) AND day >= ?3",
    )?;
    let rows = stmt.query_map(params![dimension, metric, since_day], |r| {
        Ok(TrendCell {
            metric: r.get(0)?,
            day: r.get(1)?,
            key: r.get(2)?,
            provider: r.get(3)?,
            count: r.get(4)?,
            victims: Vec::new(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderWindow;

    /// A statement is prepared once, whatever is bound to it next (`plan_once`): SQLite
    /// re-prepared `entries_at`'s join whenever a rebinding replaced a 0 or 1, and at
    /// every return to the statement cache, which clears the bindings.
    #[test]
    fn a_cached_join_is_not_prepared_again_for_new_values() {
        let conn = super::super::plan::empty_store();
        let sql = entries_at_sql();
        for position in [1i64, 2, 1, 0, 5] {
            let mut stmt = conn.prepare_cached(&sql).unwrap();
            let mut rows = stmt.query(rusqlite::params![position, "c"]).unwrap();
            assert!(rows.next().unwrap().is_none());
        }
        let stmt = conn.prepare_cached(&sql).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    /// The operator's most shared values are read from the partial index of shared
    /// values, not from every value.
    #[test]
    fn shared_values_walk_the_partial_index() {
        use rusqlite::types::Value;
        let conn = super::super::plan::empty_store();
        let params = [Value::Integer(2), Value::Integer(100)];
        let plan = super::super::plan::of(&conn, SHARED_VALUES, &params);
        assert!(plan.contains("obs_values_shared"), "{plan}");
    }

    /// Every page TAXII asks for, as `run` builds it, walks an index: a collection in
    /// `date_added` order without sorting it, or (with ids) the id index.
    #[test]
    fn page_queries_use_indexes() {
        let conn = super::super::plan::empty_store();
        let collection = || Scope::Collection("c".into());
        let mut queries = Vec::new();
        let mut q = ObjectQuery::new(collection(), 100);
        queries.push(q.clone());
        q.added_after = Some(5);
        queries.push(q.clone());
        q.types = vec!["indicator".into()];
        queries.push(q.clone());
        q.versions = VersionFilter::all();
        q.providers = Some(vec![ProviderWindow {
            organisation: "telco".into(),
            added_until: Some(9),
        }]);
        queries.push(q.clone());
        for q in &queries {
            let b = page_sql(q).unwrap();
            let plan = super::super::plan::of(&conn, &b.sql, &b.params);
            assert!(
                plan.contains("entries_in_order") || plan.contains("entries_by_type"),
                "{plan}"
            );
            assert!(
                !plan.contains("TEMP B-TREE"),
                "sorts the collection: {plan}"
            );
        }
        for scope in [collection(), Scope::Store] {
            let in_collection = matches!(scope, Scope::Collection(_));
            let mut q = ObjectQuery::new(scope, 100);
            q.ids = vec!["indicator--a".into(), "indicator--b".into()];
            let b = page_sql(&q).unwrap();
            let plan = super::super::plan::of(&conn, &b.sql, &b.params);
            assert!(plan.contains("objects_by_key"), "{plan}");
            // Entries reached from the object rows, not by walking the collection.
            assert!(
                !in_collection || plan.contains("entries_by_object"),
                "{plan}"
            );
            assert!(
                !plan.contains("entries_in_order"),
                "walks the collection: {plan}"
            );
            // The only scans are of the id lists themselves (`json_each`).
            assert!(
                !plan.replace("SCAN json_each", "").contains("SCAN"),
                "scans: {plan}"
            );
        }
    }
}

//! The ledger's rows, its Merkle tree and its signed heads (schema.sql says how the
//! tree's nodes are laid out: node (level l, index k) in the row with seq = (k+1) << l).

use accord_agreements::merkle::{self, Frontier, Hash, NodeId};
use accord_agreements::transparency::{SignedTreeHead, TreeHead};
use accord_agreements::UtcMicros;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::write::release_key;
use crate::error::StoreError;
use crate::model::{LedgerRecord, LedgerTree};
use crate::store::HeadSigner;

const LEDGER_COLUMNS: &str = "seq, recipient, object_id, released_id, encoded, hash, salt";

pub(super) fn record(row: &Row<'_>) -> rusqlite::Result<LedgerRecord> {
    Ok(LedgerRecord {
        seq: row.get::<_, i64>(0)? as u64,
        recipient: row.get(1)?,
        object_id: row.get(2)?,
        released_id: row.get(3)?,
        encoded: row.get(4)?,
        hash: row.get(5)?,
        salt: row.get(6)?,
    })
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        table: "ledger",
        detail,
    }
}

fn seq_param(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| corrupt(format!("seq {seq} out of range")))
}

/// The number of entries (the largest seq; the writer keeps them without gaps).
fn size(conn: &Connection) -> Result<u64, StoreError> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM ledger")?
        .query_row([], |r| r.get(0))?;
    Ok(last.map_or(0, |s| s as u64))
}

/// Node hashes, in the order asked, for a tree of `size` entries.
fn read_nodes(conn: &Connection, size: u64, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT nodes FROM ledger WHERE seq = ?1")?;
    ids.iter()
        .map(|id| {
            let at = id.completed_at_seq();
            if id.level >= 64 || at == 0 || at > size {
                return Err(StoreError::LedgerNodeAbsent {
                    level: id.level,
                    index: id.index,
                    size,
                });
            }
            let blob: Vec<u8> = stmt
                .query_row([seq_param(at)?], |r| r.get(0))
                .optional()?
                .ok_or_else(|| corrupt(format!("no row {at} for tree node {id:?}")))?;
            let from = usize::from(id.level) * 32;
            blob.get(from..from + 32)
                .and_then(|h| <Hash>::try_from(h).ok())
                .ok_or_else(|| corrupt(format!("row {at} lacks the tree node {id:?}")))
        })
        .collect()
}

fn frontier(conn: &Connection, size: u64) -> Result<Frontier, StoreError> {
    let hashes = read_nodes(conn, size, &Frontier::ids(size))?;
    Frontier::from_parts(size, hashes).map_err(|e| corrupt(e.to_string()))
}

/// Appends records and their tree nodes in one transaction. `cache` is the frontier
/// after the last append this writer made; it is used when no one else appended since.
pub(super) fn append(
    conn: &mut Connection,
    cache: &mut Option<Frontier>,
    records: &[LedgerRecord],
    sign: Option<&HeadSigner<'_>>,
) -> Result<(LedgerTree, Option<SignedTreeHead>), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let last = size(&tx)?;
    let mut tree = match cache.take() {
        Some(f) if f.size() == last => f,
        _ => frontier(&tx, last)?,
    };
    let mut expected = last + 1;
    {
        let mut add = tx.prepare_cached(
            "INSERT INTO ledger (seq, release_key, recipient, object_id, encoded, hash, released_id, held_key, salt, nodes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut nodes = Vec::with_capacity(64 * 32);
        for record in records {
            if record.seq != expected {
                return Err(StoreError::LedgerOutOfOrder {
                    expected,
                    got: record.seq,
                });
            }
            let seq = i64::try_from(record.seq).map_err(|_| StoreError::LedgerOutOfOrder {
                expected,
                got: record.seq,
            })?;
            nodes.clear();
            for hash in tree.push(merkle::leaf_hash(&record.encoded)) {
                nodes.extend_from_slice(&hash);
            }
            let held_key = (!record.released_id.is_empty()
                && record.released_id != record.object_id)
                .then(|| release_key(&record.recipient, &record.released_id));
            add.execute(params![
                seq,
                release_key(&record.recipient, &record.object_id),
                record.recipient,
                record.object_id,
                record.encoded,
                record.hash,
                record.released_id,
                held_key,
                record.salt,
                nodes,
            ])?;
            expected += 1;
        }
    }
    let result = LedgerTree {
        size: tree.size(),
        root: tree.root(),
    };
    let head = sign.map(|sign| sign(result));
    if let Some(head) = &head {
        put_head(&tx, head)?;
    }
    tx.commit()?;
    *cache = Some(tree);
    Ok((result, head))
}

pub(super) fn tree(conn: &Connection) -> Result<LedgerTree, StoreError> {
    let size = size(conn)?;
    let frontier = frontier(conn, size)?;
    Ok(LedgerTree {
        size,
        root: frontier.root(),
    })
}

pub(super) fn nodes(conn: &Connection, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
    let size = size(conn)?;
    read_nodes(conn, size, ids)
}

pub(super) fn put_head(conn: &Connection, head: &SignedTreeHead) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO ledger_heads (tree_size, root_hash, timestamp, key_id, signature) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        seq_param(head.head.tree_size)?,
        head.head.root_hash.as_slice(),
        head.head.timestamp.0,
        head.key_id.as_slice(),
        head.signature.as_slice(),
    ])?;
    Ok(())
}

const HEAD_COLUMNS: &str = "tree_size, root_hash, timestamp, key_id, signature";

/// A `ledger_heads` row: size, root, timestamp, key id, signature.
type HeadRow = (i64, Vec<u8>, i64, Vec<u8>, Vec<u8>);

fn head_row(row: &Row<'_>) -> rusqlite::Result<HeadRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_head(
    (size, root, timestamp, key_id, signature): HeadRow,
) -> Result<SignedTreeHead, StoreError> {
    let bad = |what: &str| StoreError::Corrupt {
        table: "ledger_heads",
        detail: format!("head of size {size}: {what} has the wrong length"),
    };
    Ok(SignedTreeHead {
        head: TreeHead {
            tree_size: size as u64,
            root_hash: root.try_into().map_err(|_| bad("root_hash"))?,
            timestamp: UtcMicros(timestamp),
        },
        key_id: key_id.try_into().map_err(|_| bad("key_id"))?,
        signature: signature.try_into().map_err(|_| bad("signature"))?,
    })
}

pub(super) fn head(
    conn: &Connection,
    tree_size: u64,
) -> Result<Option<SignedTreeHead>, StoreError> {
    let Ok(size) = i64::try_from(tree_size) else {
        return Ok(None);
    };
    conn.prepare_cached(&format!(
        "SELECT {HEAD_COLUMNS} FROM ledger_heads WHERE tree_size = ?1"
    ))?
    .query_row([size], head_row)
    .optional()?
    .map(to_head)
    .transpose()
}

pub(super) fn latest_head(conn: &Connection) -> Result<Option<SignedTreeHead>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {HEAD_COLUMNS} FROM ledger_heads ORDER BY tree_size DESC LIMIT 1"
    ))?
    .query_row([], head_row)
    .optional()?
    .map(to_head)
    .transpose()
}

pub(super) fn last(conn: &Connection) -> Result<Option<LedgerRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {LEDGER_COLUMNS} FROM ledger ORDER BY seq DESC LIMIT 1"
        ))?
        .query_row([], record)
        .optional()?)
}

pub(super) fn scan(
    conn: &Connection,
    after: u64,
    limit: usize,
) -> Result<Vec<LedgerRecord>, StoreError> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LEDGER_COLUMNS} FROM ledger WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![after, limit], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The width of the ledger's lookup epochs, in bits of seq: the lookup indexes lead
/// with `seq >> EPOCH_BITS`, so appends insert at their right edge (schema.sql says
/// why). Must match the expression in schema.sql and `migrate_from_4`: a lookup whose
/// expression differs from the index's cannot use it (the plan tests catch that).
const EPOCH_BITS: u32 = 14;

/// The epochs of the ledger, as a table `epochs(e)` from 0 to `?1` (the last one).
const EPOCHS: &str =
    "WITH RECURSIVE epochs(e) AS (SELECT 0 UNION ALL SELECT e + 1 FROM epochs WHERE e < ?1)";

/// A recipient's releases of `object_id` (by the id the node stores), in seq order:
/// one index seek per epoch.
pub(super) fn find(
    conn: &Connection,
    recipient: &str,
    object_id: &str,
) -> Result<Vec<LedgerRecord>, StoreError> {
    lookup(
        conn,
        &find_sql(),
        release_key(recipient, object_id),
        recipient,
        object_id,
    )
}

/// A recipient's releases under `released_id` where it differs from the stored id
/// (pseudonymised SCOs), in seq order.
pub(super) fn find_released(
    conn: &Connection,
    recipient: &str,
    released_id: &str,
) -> Result<Vec<LedgerRecord>, StoreError> {
    lookup(
        conn,
        &find_released_sql(),
        release_key(recipient, released_id),
        recipient,
        released_id,
    )
}

fn find_sql() -> String {
    format!(
        "{EPOCHS} SELECT {LEDGER_COLUMNS} FROM ledger \
         WHERE seq >> {EPOCH_BITS} IN epochs AND release_key = ?2 AND recipient = ?3 AND object_id = ?4 \
         ORDER BY seq"
    )
}

fn find_released_sql() -> String {
    format!(
        "{EPOCHS} SELECT {LEDGER_COLUMNS} FROM ledger \
         WHERE seq >> {EPOCH_BITS} IN epochs AND held_key = ?2 \
         AND recipient = ?3 AND released_id = ?4 ORDER BY seq"
    )
}

fn lookup(
    conn: &Connection,
    sql: &str,
    key: i64,
    recipient: &str,
    id: &str,
) -> Result<Vec<LedgerRecord>, StoreError> {
    let last_epoch = seq_param(size(conn)? >> EPOCH_BITS)?;
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![last_epoch, key, recipient, id], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Builds the tree's nodes for the entries of a store written before the tree
/// (schema version 4), in seq order. It stops at a gap in the sequence (a ledger
/// changed outside Accord): `accord ledger verify` names it, and appends are refused
/// until then (the tree cannot continue past it).
pub(super) fn build_tree(conn: &Connection) -> Result<(), StoreError> {
    let mut frontier = Frontier::new();
    let mut select = conn.prepare("SELECT seq, encoded FROM ledger ORDER BY seq")?;
    let mut update = conn.prepare("UPDATE ledger SET nodes = ?1 WHERE seq = ?2")?;
    let mut rows = select.query([])?;
    let mut nodes = Vec::with_capacity(64 * 32);
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if seq as u64 != frontier.size() + 1 {
            break;
        }
        let encoded: Vec<u8> = row.get(1)?;
        nodes.clear();
        for hash in frontier.push(merkle::leaf_hash(&encoded)) {
            nodes.extend_from_slice(&hash);
        }
        update.execute(params![nodes, seq])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;

    use super::*;

    /// `accord ledger explain`'s lookups seek the epoch-led indexes, one seek per
    /// epoch, and never scan the ledger: the expression in the statements is the one
    /// the indexes were built on.
    #[test]
    fn lookups_seek_the_epoch_indexes() {
        let conn = super::super::plan::empty_store();
        let values = [
            Value::Integer(3),
            Value::Integer(1),
            Value::Text("centre".into()),
            Value::Text("indicator--a".into()),
        ];
        for (sql, index, key) in [
            (find_sql(), "ledger_by_release", "release_key"),
            (find_released_sql(), "ledger_by_held", "held_key"),
        ] {
            let plan = super::super::plan::of(&conn, &sql, &values);
            assert!(
                plan.contains(&format!(
                    "SEARCH ledger USING INDEX {index} (<expr>=? AND {key}=?)"
                )),
                "{plan}"
            );
            assert!(!plan.contains("SCAN ledger"), "scans: {plan}");
        }
    }
}

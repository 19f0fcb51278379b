//! The store's error type.

/// What can go wrong in a store operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error (I/O, corruption, constraint, ...).
    #[error("database error: {0}")]
    Database(String),
    /// The store file was written by an incompatible (newer) version of Accord.
    #[error("the store schema version {found} is newer than this Accord supports ({supported})")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Highest version this build understands.
        supported: i64,
    },
    /// A store opened read-only has an older schema (or is not a store at all,
    /// version 0); a writing open upgrades it.
    #[error("the store schema version {found} is older than this Accord's ({current}): open it once for writing (accord serve, accord ingest) to upgrade it")]
    SchemaTooOld {
        /// Version found in the file (0: an empty file or not an Accord store).
        found: i64,
        /// The version this build writes.
        current: i64,
    },
    /// A ledger append did not continue the chain the store holds.
    #[error("ledger append out of order: expected seq {expected}, got {got}")]
    LedgerOutOfOrder {
        /// The next sequence number the store expects.
        expected: u64,
        /// What was offered.
        got: u64,
    },
    /// A Merkle tree node was asked for that the ledger's tree does not have yet.
    #[error(
        "the ledger's tree has no node at level {level}, index {index} (it covers {size} entries)"
    )]
    LedgerNodeAbsent {
        /// The node's level.
        level: u8,
        /// The node's index in its level.
        index: u64,
        /// Entries in the tree.
        size: u64,
    },
    /// The correlation index could not apply what was queued for it (the objects are
    /// stored; the index catches up on a later write or open).
    #[error("the correlation index is behind the store: {0}")]
    CorrelationBehind(String),
    /// A stored value could not be decoded (the file was changed outside Accord).
    #[error("corrupt stored value in {table}: {detail}")]
    Corrupt {
        /// Table holding the value.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// Longest database error message kept, in bytes. SQLite's errors about a statement
/// quote the whole statement, which holds every value of a query's filters: a query of
/// 17,000 ids made a 250 KB message, logged whole by the server on each request.
pub const MAX_ERROR_TEXT: usize = 512;

/// Of a statement quoted in an error, the first bytes kept.
const QUOTED_SQL: usize = 160;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let text = match e {
            rusqlite::Error::SqlInputError {
                msg, sql, offset, ..
            } => format!(
                "{msg} at offset {offset} of a statement of {} bytes: {}",
                sql.len(),
                clip(&sql, QUOTED_SQL)
            ),
            other => other.to_string(),
        };
        StoreError::Database(clip(&text, MAX_ERROR_TEXT))
    }
}

/// `text` cut to at most `max` bytes at a character boundary, the cut marked with the
/// full length.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement with more variables than SQLite allows: the error names the problem
    /// and stays short whatever the statement's length.
    #[test]
    fn errors_about_huge_statements_stay_short() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let list = vec!["?"; 40_000].join(", ");
        let sql = format!("SELECT 1 WHERE 1 IN ({list})");
        let e = StoreError::from(conn.prepare(&sql).unwrap_err());
        let text = e.to_string();
        assert!(text.len() <= MAX_ERROR_TEXT + 64, "{} bytes", text.len());
        assert!(text.contains("too many SQL variables"), "{text}");
        assert!(text.contains(&format!("{} bytes", sql.len())), "{text}");
    }

    #[test]
    fn clip_keeps_characters_whole() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("aéb", 2), "a…(4 bytes)");
    }
}

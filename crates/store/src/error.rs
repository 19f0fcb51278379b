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
    /// A stored value could not be decoded (the file was changed outside Accord).
    #[error("corrupt stored value in {table}: {detail}")]
    Corrupt {
        /// Table holding the value.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

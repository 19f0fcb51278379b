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

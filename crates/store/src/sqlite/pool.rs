//! A small pool of read-only connections.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::Connection;

use crate::error::StoreError;

/// Idle connections kept for reuse; more are opened on demand under load and closed
/// when returned to a full pool.
const MAX_IDLE: usize = 16;

/// Read connections to one store file (or none, for in-memory stores, whose readers
/// share the writer connection).
pub(super) struct ReaderPool {
    path: Option<PathBuf>,
    /// `std::sync::Mutex`: held only to push or pop a connection.
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    pub(super) fn new(path: PathBuf) -> Self {
        Self {
            path: Some(path),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn none() -> Self {
        Self {
            path: None,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A reader connection, or `None` when this pool has no file (use the writer).
    pub(super) fn take(&self) -> Result<Option<Connection>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(conn) => Ok(Some(conn)),
            None => super::open_reader(path).map(Some),
        }
    }

    pub(super) fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

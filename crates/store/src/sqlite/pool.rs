//! A bounded pool of read-only connections.
//!
//! At most [`MAX_READERS`] are open at once; a read that finds them all busy waits for
//! one to come back. Each holds at most [`READER_CACHE_KIB`](super::READER_CACHE_KIB)
//! of page cache and maps nothing, so the readers' memory is bounded by their product
//! whatever the store's size, busy or idle (the connections stay open between reads, and
//! their caches with them).

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};

use rusqlite::Connection;

use crate::error::StoreError;

/// Read connections open at once (busy and idle). Reads are short (one page of a
/// query); more of them than this at once wait their turn. Sixteen keep a 2-core
/// machine's cores busy many times over, and with the page cache each may hold they
/// bound the readers' memory (`READER_CACHE_KIB`).
pub const MAX_READERS: usize = 16;

/// Read connections to one store file (or none, for in-memory stores, whose readers
/// share the writer connection).
pub(super) struct ReaderPool {
    path: Option<PathBuf>,
    /// `std::sync::Mutex`: held only to push or pop a connection or count one.
    state: Mutex<PoolState>,
    /// Signalled when a connection comes back (or a slot for one frees up).
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// Connections open, idle or lent out.
    open: usize,
}

/// A connection lent out by the pool; it goes back when dropped (also when the read
/// that used it panicked).
pub(super) struct Reader<'a> {
    pool: &'a ReaderPool,
    conn: Option<Connection>,
}

impl Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Always `Some` until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut state = self.pool.lock();
            state.idle.push(conn);
            drop(state);
            self.pool.returned.notify_one();
        }
    }
}

impl ReaderPool {
    pub(super) fn new(path: PathBuf) -> Self {
        Self::with_path(Some(path))
    }

    pub(super) fn none() -> Self {
        Self::with_path(None)
    }

    fn with_path(path: Option<PathBuf>) -> Self {
        Self {
            path,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A poisoned lock only means a panic while pushing or popping; the state is whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A reader connection, or `None` when this pool has no file (use the writer).
    /// Waits while [`MAX_READERS`] are lent out.
    pub(super) fn take(&self) -> Result<Option<Reader<'_>>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Some(self.lend(conn)));
            }
            if state.open < MAX_READERS {
                state.open += 1;
                drop(state);
                return match super::open_reader(path) {
                    Ok(conn) => Ok(Some(self.lend(conn))),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn lend(&self, conn: Connection) -> Reader<'_> {
        Reader {
            pool: self,
            conn: Some(conn),
        }
    }

    /// Connections open now (tests).
    #[cfg(test)]
    pub(super) fn open(&self) -> usize {
        self.lock().open
    }
}

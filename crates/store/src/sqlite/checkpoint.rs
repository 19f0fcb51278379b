//! A background checkpointer for bulk loads.
//!
//! In WAL mode every commit appends pages to the log, and a checkpoint copies them into
//! the database file and syncs both. Left to SQLite's automatic checkpoints, that
//! copy-and-sync runs inside the writer's commits and stalls the load (measured: about
//! a third of the time of a bulk ingest). For [`Durability::AtSync`](super::Durability)
//! stores the writer's automatic checkpoints are off, and this thread checkpoints
//! (`PASSIVE`: never blocks the writer) on its own connection, on the other core.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::StoreError;

/// How often the log is checkpointed during a load.
const INTERVAL: Duration = Duration::from_millis(250);

/// The running checkpointer; stops (after a last checkpoint) when dropped.
pub(super) struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("accord-checkpoint".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::park_timeout(INTERVAL);
                    // A failed passive checkpoint is retried at the next tick; the
                    // final `sync` runs a full one and reports errors.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .map_err(|e| StoreError::Database(format!("cannot start the checkpointer: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

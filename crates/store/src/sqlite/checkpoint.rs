//! The background checkpointer.
//!
//! In WAL mode every commit appends pages to the log, and a checkpoint copies them into
//! the database file and syncs both. Left to SQLite's automatic checkpoints, that
//! copy-and-sync runs inside the writer's commits and stalls them (measured: about a
//! third of the time of a bulk ingest). So the writer's automatic checkpoints are off,
//! and this thread checkpoints (`PASSIVE`: never blocks the writer or readers) on its
//! own connection, on the other core. Commits stay durable: a commit is durable once
//! its log frames are synced, which the writer does itself under
//! [`Durability::EveryCommit`](super::Durability).
//!
//! Checkpoints are spaced out on purpose. Inserts with random ids dirty a different
//! index page each; a page changed by many commits in a row reaches the log once per
//! commit but the database file once per checkpoint (measured with
//! `examples/insert_throughput`: every 250 ms, 16,400 objects/s; every 2 s, 18,500).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::StoreError;

/// How often the log is checkpointed.
const INTERVAL: Duration = Duration::from_millis(2000);

/// The running checkpointer; stops when dropped.
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

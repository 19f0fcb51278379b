//! The background checkpointer, and the bound on the write-ahead log.
//!
//! In WAL mode every commit appends pages to the log, and a checkpoint copies them into
//! the database file and syncs both. Left to SQLite's automatic checkpoints, that
//! copy-and-sync runs inside the writer's commits and stalls them. So the writer's
//! automatic checkpoints are off, and this thread checkpoints (`PASSIVE`: never blocks
//! the writer or readers) on its own connection, on the other core. Commits stay
//! durable: a commit is durable once its log frames are synced, which the writer does
//! itself under [`Durability::EveryCommit`](super::Durability).
//!
//! Checkpoints are spaced out on purpose. Inserts with random ids dirty a different
//! index page each; a page changed by many commits in a row reaches the log once per
//! commit but the database file once per checkpoint (measured with
//! `examples/insert_throughput`: every 250 ms, 16,400 objects/s; every 2 s, 18,500).
//!
//! The log starts again from its beginning only when a write transaction begins with
//! every frame already copied; a writer that never pauses (a bulk load) would grow it
//! without end, to more than the database itself (measured: a 2.9 GB log for a 2.1 GB
//! store after 1,000,000 ATT&CK objects), and every frame would be a new page of the
//! file for the kernel to allocate and zero. So the writer reports the log's size
//! after each commit ([`Checkpointer::after_commit`]): past [`WalBound::wake_bytes`]
//! the checkpointer is woken to copy what is there while the writer goes on; past
//! [`WalBound::limit_bytes`] the writer waits for a pass that copies the rest, and its
//! next transaction reuses the log from the start, pages the kernel already holds.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::StoreError;

/// How often the log is checkpointed when nothing asks sooner.
const INTERVAL: Duration = Duration::from_millis(2000);

/// The longest a writer waits for a checkpoint pass. A pass never waits for anyone
/// (`PASSIVE`), so this only guards against a stalled disk; the writer then goes on
/// and the log grows until a later pass catches up.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// When the writer wakes the checkpointer, and when it waits for it.
#[derive(Debug, Clone, Copy)]
pub(super) struct WalBound {
    /// Log size past which a commit wakes the checkpointer.
    pub wake_bytes: u64,
    /// Log size past which a commit waits until the whole log is copied.
    pub limit_bytes: u64,
}

impl WalBound {
    /// 256 MiB of log at most (plus one transaction): large enough that a bulk load
    /// waits rarely (each wait is the copy of what was written since the last pass,
    /// and a sync), small enough that the log stays in the page cache.
    pub(super) const DEFAULT: WalBound = WalBound {
        wake_bytes: 64 << 20,
        limit_bytes: 256 << 20,
    };
}

/// The running checkpointer; stops when dropped.
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    bound: WalBound,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled to start a pass (or stop).
    wake: Condvar,
    /// Signalled when a pass ends.
    passed: Condvar,
}

#[derive(Default)]
struct State {
    stop: bool,
    /// Passes begun and finished so far; a writer waiting for pass `n` waits until
    /// `finished >= n`.
    started: u64,
    finished: u64,
    /// The highest pass number anyone asked for.
    wanted: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain counters: still consistent if a holder panicked.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Checkpointer {
    pub(super) fn start(path: &Path, bound: WalBound) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            passed: Condvar::new(),
        });
        let worker = shared.clone();
        let thread = thread::Builder::new()
            .name("accord-checkpoint".into())
            .spawn(move || run(&conn, &worker))
            .map_err(|e| StoreError::Database(format!("cannot start the checkpointer: {e}")))?;
        Ok(Checkpointer {
            shared,
            bound,
            thread: Some(thread),
        })
    }

    /// Called by the writer, still holding the write lock, after a commit left
    /// `wal_bytes` in the log: wakes the checkpointer, or waits for it (module docs).
    pub(super) fn after_commit(&self, wal_bytes: u64) {
        if wal_bytes < self.bound.wake_bytes {
            return;
        }
        let mut state = self.shared.lock();
        if wal_bytes < self.bound.limit_bytes {
            if state.started == state.finished {
                state.wanted = state.wanted.max(state.started + 1);
                self.shared.wake.notify_one();
            }
            return;
        }
        // A pass that starts after this commit copies every frame: the writer holds
        // the write lock and writes nothing until it returns.
        let needed = state.started + 1;
        state.wanted = state.wanted.max(needed);
        self.shared.wake.notify_one();
        let (_state, _timed_out) = self
            .shared
            .passed
            .wait_timeout_while(state, LONGEST_WAIT, |s| s.finished < needed && !s.stop)
            .unwrap_or_else(|p| p.into_inner());
    }
}

/// The checkpointer's loop: a pass at every tick, or as soon as one is wanted.
fn run(conn: &Connection, shared: &Shared) {
    let mut state = shared.lock();
    loop {
        let (next, _) = shared
            .wake
            .wait_timeout_while(state, INTERVAL, |s| !s.stop && s.wanted <= s.finished)
            .unwrap_or_else(|p| p.into_inner());
        state = next;
        if state.stop {
            return;
        }
        state.started += 1;
        let pass = state.started;
        drop(state);
        // A failed passive checkpoint is retried at the next pass; the final `sync`
        // runs a full one and reports errors.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        state = shared.lock();
        state.finished = pass;
        shared.passed.notify_all();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        self.shared.passed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

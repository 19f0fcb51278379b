//! Picking up configuration changes while serving: the file is checked every
//! [`RELOAD_INTERVAL`]; when it changed and loads cleanly, its organisations, users,
//! tokens, API roots, collections and rights are put in force at once. A file that
//! does not load is reported in the log and the configuration in force is kept.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use accord_node::config::Config;

use crate::state::AppState;

/// How often the configuration file is checked for changes.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

fn stamp(path: &PathBuf) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Watch `path` until `shutdown` completes. The file's state is noted when this is
/// called (not when the future first runs), so a change made right after start-up is
/// not missed.
pub fn watch(
    state: AppState,
    path: PathBuf,
    shutdown: impl Future<Output = ()>,
) -> impl Future<Output = ()> {
    let seen = stamp(&path);
    watch_from(state, path, seen, shutdown)
}

async fn watch_from(
    state: AppState,
    path: PathBuf,
    mut seen: Option<(SystemTime, u64)>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = tokio::time::sleep(RELOAD_INTERVAL) => {}
            () = &mut shutdown => return,
        }
        let now = stamp(&path);
        if now == seen {
            continue;
        }
        seen = now;
        let loaded = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || Config::load(&path)).await
        };
        match loaded {
            Ok(Ok(config)) => match state.replace_config(config) {
                Ok(ignored) if ignored.is_empty() => {
                    tracing::info!(file = %path.display(), "configuration reloaded");
                }
                Ok(ignored) => tracing::warn!(
                    file = %path.display(),
                    needs_restart = ?ignored,
                    "configuration reloaded; some changes need a restart"
                ),
                Err(why) => {
                    tracing::error!(file = %path.display(), "configuration not reloaded: {why}")
                }
            },
            Ok(Err(e)) => {
                tracing::error!("configuration not reloaded, keeping the one in force: {e}")
            }
            Err(e) => tracing::error!(error = %e, "configuration reload task failed"),
        }
    }
}

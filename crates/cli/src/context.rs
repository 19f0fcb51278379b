//! What every command needs: where the store is and who this node is.

use std::path::PathBuf;
use std::sync::Arc;

use accord_store::{Durability, SqliteStore};
use anyhow::Context as _;

/// The default data directory, shared by `accord serve` and the other commands so
/// that `accord ingest` and a plain `accord serve` use the same store.
pub const DEFAULT_DATA_DIR: &str = "accord-data";

/// The store file inside a data directory.
pub const STORE_FILE: &str = "accord.sqlite";

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// The store file [default: the configuration's store, else ./accord-data/accord.sqlite]
    #[arg(long, global = true, env = "ACCORD_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// The node configuration [default: ./accord-data/accord.toml if it exists]
    #[arg(long, global = true, env = "ACCORD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of human tables
    #[arg(long, global = true)]
    pub json: bool,
}

impl GlobalArgs {
    /// The store file to use.
    pub fn db_path(&self) -> PathBuf {
        match &self.db {
            Some(path) => path.clone(),
            None => PathBuf::from(DEFAULT_DATA_DIR).join(STORE_FILE),
        }
    }

    /// Open (creating if needed) the store; every commit is durable when it returns.
    pub fn open_store(&self) -> anyhow::Result<Arc<SqliteStore>> {
        self.open_store_with(Durability::EveryCommit)
    }

    /// Open (creating if needed) the store with a chosen durability.
    pub fn open_store_with(&self, durability: Durability) -> anyhow::Result<Arc<SqliteStore>> {
        let path = self.db_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the store directory {}", dir.display()))?;
        }
        let store = SqliteStore::open_with(&path, durability)
            .with_context(|| format!("opening the store {}", path.display()))?;
        Ok(Arc::new(store))
    }

    /// The organisation this node runs for (the provider of what is ingested here and
    /// the local reader of exports).
    pub fn local_organisation(&self) -> String {
        "local".to_string()
    }
}

/// Print to standard output; a closed pipe (`accord get ... | head`) is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

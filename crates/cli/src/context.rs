//! What every command needs: where the store is and who this node is.

use std::path::PathBuf;
use std::sync::Arc;

use accord_agreements::transparency::LedgerSigner;
use accord_node::agreements::{load_gate, publish_obligations};
use accord_node::config::Config;
use accord_node::egress::{Egress, LedgerWriter};
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

/// The configuration file inside a data directory.
pub const CONFIG_FILE: &str = "accord.toml";

/// The organisation of a node that has no configuration yet (and of `accord init`'s
/// starter configuration unless told otherwise).
pub const DEFAULT_ORGANISATION: &str = "local";

impl GlobalArgs {
    /// The node configuration, if there is one: `--config` (which must exist), else
    /// `./accord-data/accord.toml` when present.
    pub fn load_config(&self) -> anyhow::Result<Option<Config>> {
        let path = match &self.config {
            Some(path) => path.clone(),
            None => {
                let default = PathBuf::from(DEFAULT_DATA_DIR).join(CONFIG_FILE);
                if !default.exists() {
                    return Ok(None);
                }
                default
            }
        };
        Ok(Some(Config::load(&path)?))
    }

    /// The store file to use: `--db`, else the configuration's store, else
    /// `./accord-data/accord.sqlite`.
    pub fn db_path(&self) -> anyhow::Result<PathBuf> {
        if let Some(path) = &self.db {
            return Ok(path.clone());
        }
        Ok(match self.load_config()? {
            Some(config) => config.store_path(),
            None => PathBuf::from(DEFAULT_DATA_DIR).join(STORE_FILE),
        })
    }

    /// Open (creating if needed) the store; every commit is durable when it returns.
    pub fn open_store(&self) -> anyhow::Result<Arc<SqliteStore>> {
        self.open_store_with(Durability::EveryCommit)
    }

    /// Open (creating if needed) the store with a chosen durability.
    pub fn open_store_with(&self, durability: Durability) -> anyhow::Result<Arc<SqliteStore>> {
        let path = self.db_path()?;
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
    pub fn local_organisation(&self) -> anyhow::Result<String> {
        Ok(match self.load_config()? {
            Some(config) => config.server.organisation,
            None => DEFAULT_ORGANISATION.to_string(),
        })
    }

    /// The ledger signing key file: the configuration's `server.ledger_key`, else
    /// `ledger.key` beside the store.
    pub fn ledger_key_path(&self) -> anyhow::Result<PathBuf> {
        if let Some(config) = self.load_config()? {
            return Ok(config.ledger_key_path());
        }
        let store = self.db_path()?;
        Ok(store
            .parent()
            .map_or_else(PathBuf::new, std::path::Path::to_path_buf)
            .join(accord_node::ledger_key::LEDGER_KEY_FILE))
    }

    /// The node's ledger signing key, created (and said so on standard error) for a
    /// node that has none yet (one initialised by an older build).
    pub fn ledger_signer(&self) -> anyhow::Result<LedgerSigner> {
        let path = self.ledger_key_path()?;
        let loaded = accord_node::ledger_key::load_or_create(&path)?;
        if loaded.created {
            eprintln!(
                "created the ledger signing key {} (key id {}); give partners and auditors its public key: accord ledger key",
                path.display(),
                hex::encode(loaded.signer.public_key().id())
            );
        }
        Ok(loaded.signer)
    }

    /// A ledger writer that signs a tree head per commit with the node's key (for a
    /// door that releases to partners: `accord export --recipient`).
    pub fn ledger_writer(&self, store: Arc<SqliteStore>) -> anyhow::Result<LedgerWriter> {
        let signer = Arc::new(self.ledger_signer()?);
        LedgerWriter::start(store, Some(signer)).context("starting the ledger writer")
    }

    /// The one door out for this node: its store, its organisation, its agreements.
    pub fn egress(&self, store: Arc<SqliteStore>) -> anyhow::Result<Egress> {
        let config = self.load_config()?;
        let Some(config) = config else {
            return Ok(Egress::new(store, DEFAULT_ORGANISATION));
        };
        let dir = config.agreements_dir();
        let gate = load_gate(&dir)
            .map_err(|e| anyhow::anyhow!("loading the agreements in {}:\n{e}", dir.display()))?;
        publish_obligations(
            &*store,
            &gate,
            &config.server.organisation,
            &collection_ids(&config),
        )?;
        Ok(Egress::new(store, config.server.organisation).with_gate(gate))
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

/// The ids of every collection of every API root.
pub fn collection_ids(config: &Config) -> Vec<String> {
    config
        .api_roots
        .values()
        .flat_map(|r| r.collections.values().map(|c| c.id.clone()))
        .collect()
}

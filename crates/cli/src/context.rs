//! What every command needs: which node it works on (its configuration and store),
//! and the names it was given, looked up in one place.
//!
//! Two rules hold for every command, and live here so that no command can forget them:
//! - a name the node does not know (a collection, an organisation) is refused with the
//!   names it does know, before anything is changed;
//! - a read-only command opens the store read-only (SQLite refuses any write) and never
//!   creates one; without a configuration (or `--db`), a command that needs a node says
//!   so. Only `accord init` and a plain `accord serve` create a node.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use accord_agreements::transparency::LedgerSigner;
use accord_agreements::Gate;
use accord_node::agreements::{load_node_gate, publish_obligations};
use accord_node::config::{Config, CONFIG_FILE};
use accord_node::egress::{Egress, LedgerWriter, Readers};
use accord_store::{Durability, SqliteStore};
use anyhow::{bail, Context as _};

/// The default data directory, shared by `accord serve` and the other commands so
/// that `accord ingest` and a plain `accord serve` use the same store.
pub const DEFAULT_DATA_DIR: &str = "accord-data";

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// The store file [default: the configuration's store]
    #[arg(long, global = true, env = "ACCORD_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// The node configuration [default: ./accord-data/accord.toml if it exists]
    #[arg(long, global = true, env = "ACCORD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of human tables
    #[arg(long, global = true)]
    pub json: bool,
}

/// The organisation of a store named by `--db` without a configuration (and of
/// `accord init`'s starter configuration unless told otherwise).
pub const DEFAULT_ORGANISATION: &str = "local";

impl GlobalArgs {
    /// The configuration file: `--config` / `ACCORD_CONFIG`, else
    /// `./accord-data/accord.toml` (which may not exist).
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| Path::new(DEFAULT_DATA_DIR).join(CONFIG_FILE))
    }

    /// The node configuration, if there is one: `--config` (which must exist), else
    /// `./accord-data/accord.toml` when present.
    pub fn load_config(&self) -> anyhow::Result<Option<Config>> {
        let path = self.config_path();
        if self.config.is_none() && !path.exists() {
            return Ok(None);
        }
        Ok(Some(Config::load(&path)?))
    }

    /// The node configuration; without one, an error saying where it was looked for
    /// and how to make one.
    pub fn require_config(&self) -> anyhow::Result<Config> {
        match self.load_config()? {
            Some(config) => Ok(config),
            None => Err(no_configuration(&self.config_path())),
        }
    }

    /// The node this command works on: the configuration and its store (`--db`
    /// overrides the store), or only a store given by `--db` (a bare store: no
    /// collections, no partners, organisation `local`). Neither is an error.
    pub fn node(&self) -> anyhow::Result<Node> {
        let config = self.load_config()?;
        let store_path = match (&self.db, &config) {
            (Some(db), _) => db.clone(),
            (None, Some(config)) => config.store_path(),
            (None, None) => return Err(no_configuration(&self.config_path())),
        };
        Ok(Node { config, store_path })
    }

    /// The node's store, opened read-only (see [`Node::read_store`]).
    pub fn open_store(&self) -> anyhow::Result<Arc<SqliteStore>> {
        self.node()?.read_store()
    }
}

/// The error of a command that needs a node and has none.
pub fn no_configuration(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "no configuration at {} (create one with `accord init`, or pass --config)",
        path.display()
    )
}

/// A node's configuration and store, as a command sees them.
pub struct Node {
    /// `None` for a bare store named by `--db` alone.
    pub config: Option<Config>,
    /// The store file.
    pub store_path: PathBuf,
}

impl Node {
    /// The organisation this node runs for (the provider of what is ingested here and
    /// the local reader of exports).
    pub fn organisation(&self) -> &str {
        self.config
            .as_ref()
            .map_or(DEFAULT_ORGANISATION, |c| &c.server.organisation)
    }

    /// The id of the collection `name` (its id, alias or `root/alias`); an unknown
    /// name is an error listing the node's collections. `None` stays `None`.
    pub fn collection_id(&self, name: Option<&str>) -> anyhow::Result<Option<String>> {
        let Some(name) = name else { return Ok(None) };
        match &self.config {
            Some(config) => Ok(Some(config.find_collection(None, name)?.id().to_string())),
            None => bail!(
                "no collection '{name}': without a node configuration (only --db) no \
                 collection is known; pass --config, or create a node with `accord init`"
            ),
        }
    }

    /// The organisation `name` names, checked as [`Self::require_organisation`] checks
    /// it, else this node's own: the provider an ingest records (`--org`), the reader an
    /// export is for (`--recipient`).
    pub fn organisation_or_own(&self, name: Option<&str>) -> anyhow::Result<String> {
        match name {
            Some(name) => {
                self.require_organisation(name)?;
                Ok(name.to_string())
            }
            None => Ok(self.organisation().to_string()),
        }
    }

    /// Checks that `name` is an organisation of this node (an error listing them if not).
    pub fn require_organisation(&self, name: &str) -> anyhow::Result<()> {
        match &self.config {
            Some(config) => {
                config.find_organisation(name)?;
            }
            None if name == DEFAULT_ORGANISATION => {}
            None => bail!(
                "no organisation '{name}': without a node configuration (only --db) the \
                 only organisation is '{DEFAULT_ORGANISATION}'; pass --config, or create a \
                 node with `accord init`"
            ),
        }
        Ok(())
    }

    /// The ids of every collection of every API root.
    pub fn collection_ids(&self) -> Vec<String> {
        self.config.as_ref().map(collection_ids).unwrap_or_default()
    }

    /// The store, read-only: it must exist, nothing is created or changed, and any
    /// write fails.
    pub fn read_store(&self) -> anyhow::Result<Arc<SqliteStore>> {
        let path = &self.store_path;
        if !path.exists() {
            bail!(
                "no store at {} (a command that writes, such as `accord ingest` or \
                 `accord serve`, creates it)",
                path.display()
            );
        }
        let store = SqliteStore::open_read_only(path)
            .with_context(|| format!("opening the store {}", path.display()))?;
        accord_node::facts::check_current(&store)
            .with_context(|| format!("opening the store {}", path.display()))?;
        Ok(Arc::new(store))
    }

    /// The store, for writing (created if needed: the node, or `--db`, names it).
    pub fn write_store(&self, durability: Durability) -> anyhow::Result<Arc<SqliteStore>> {
        let path = &self.store_path;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the store directory {}", dir.display()))?;
        }
        let store = SqliteStore::open_with(path, durability)
            .with_context(|| format!("opening the store {}", path.display()))?;
        refresh_facts(&store, path)?;
        backfill_analytics(&store, path)?;
        Ok(Arc::new(store))
    }

    /// The node's agreements, each checked against the node (an agreement naming a
    /// collection or organisation the node does not have is refused). A bare store
    /// has none.
    pub fn gate(&self) -> anyhow::Result<Gate> {
        let Some(config) = &self.config else {
            return Ok(Gate::default());
        };
        load_node_gate(config).map_err(|e| {
            anyhow::anyhow!(
                "loading the agreements in {}:\n{e}",
                config.agreements_dir().display()
            )
        })
    }

    /// The ledger signing key file: the configuration's `server.ledger_key`, else
    /// `ledger.key` beside the store.
    pub fn ledger_key_path(&self) -> PathBuf {
        if let Some(config) = &self.config {
            return config.ledger_key_path();
        }
        self.store_path
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf)
            .join(accord_node::ledger_key::LEDGER_KEY_FILE)
    }

    /// The node's ledger signing key, created (and said so on standard error) for a
    /// node that has none yet (one initialised by an older build).
    pub fn ledger_signer(&self) -> anyhow::Result<LedgerSigner> {
        let path = self.ledger_key_path();
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
    /// Writes nothing by itself (see [`Node::publish_obligations`]). Partners read the collections the configuration grants them; a bare store
    /// (no configuration) grants nothing.
    pub fn egress(&self, store: Arc<SqliteStore>, gate: Gate) -> Egress {
        let readers = self
            .config
            .as_ref()
            .map_or_else(Readers::none, Readers::from);
        Egress::new(store, self.organisation())
            .with_gate(gate)
            .with_readers(readers)
    }

    /// Store the agreements' obligations markings (before anything is released to a
    /// partner, who receives the markings its objects reference).
    pub fn publish_obligations(&self, store: &SqliteStore, gate: &Gate) -> anyhow::Result<()> {
        publish_obligations(store, gate, self.organisation(), &self.collection_ids())
            .context("storing the agreements' obligations markings")?;
        Ok(())
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
    config.collections().map(|c| c.id().to_string()).collect()
}

/// Re-extracts the gate facts of a store written by an older build (see
/// [`accord_node::facts::refresh`]), telling the user when it changed any.
pub fn refresh_facts(store: &SqliteStore, path: &std::path::Path) -> anyhow::Result<()> {
    let changed = accord_node::facts::refresh(store)
        .with_context(|| format!("re-extracting the gate facts of {}", path.display()))?;
    if changed > 0 {
        tracing::info!(changed, store = %path.display(), "gate facts re-extracted");
    }
    Ok(())
}

/// Versions between two progress lines of [`backfill_analytics`].
const BACKFILL_PROGRESS_EVERY: u64 = 100_000;

/// Records the correlation and trend analytics of a store migrated from a schema
/// without them, or its correlation alone when its index is new (lost, or rebuilt by
/// an upgrade: see [`accord_node::analytics::backfill`]): once, on the first writable
/// open after the upgrade, saying so on standard error (a store of 10,000,000 objects
/// takes minutes; interrupted, it resumes at the next writable open).
pub fn backfill_analytics(store: &SqliteStore, path: &std::path::Path) -> anyhow::Result<()> {
    use accord_store::Store as _;
    if store.analytics_backfill()?.is_none() {
        return Ok(());
    }
    eprintln!(
        "{}: recording the analytics of the stored objects (once, after an upgrade or the \
         loss of the correlation index; resumes where it stopped if interrupted)",
        path.display()
    );
    let mut next = BACKFILL_PROGRESS_EVERY;
    let done = accord_node::analytics::backfill(store, &mut |done| {
        if done >= next {
            eprintln!("  {done} object versions done");
            next = done + BACKFILL_PROGRESS_EVERY;
        }
    })
    .with_context(|| format!("recording the analytics of {}", path.display()))?;
    eprintln!("  analytics recorded for {done} object versions");
    Ok(())
}

//! What every request handler shares: the store, the egress door, the current access
//! rules (configuration and credentials, swapped whole on reload) and the metrics.

use std::sync::{Arc, RwLock};

use accord_node::accounts::Accounts;
use accord_node::config::{Collection, Config};
use accord_node::egress::{Egress, Readers};
use accord_store::Store;
use tokio::sync::Semaphore;

use crate::metrics::Metrics;
use crate::params::PageLimits;
use crate::tls::TlsError;
use accord_node::egress::LedgerWriter;
use accord_node::ledger_key::{self, LedgerKeyError};

/// Why the server's state could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The TLS certificate or key could not be loaded.
    #[error("setting up TLS: {0}")]
    Tls(#[from] TlsError),
    /// The ledger signing key could not be loaded or created.
    #[error(transparent)]
    LedgerKey(#[from] LedgerKeyError),
    /// The ledger writer thread could not start.
    #[error("starting the ledger writer: {0}")]
    LedgerWriter(std::io::Error),
}
use tokio_rustls::TlsAcceptor;

/// Argon2 verifications run at once; more wait. Argon2 is memory-hard and CPU-bound,
/// so running more than the machine has cores only slows every login down.
pub fn password_checks_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The configuration and the credentials derived from it, replaced together.
pub struct Access {
    /// The configuration in force.
    pub config: Config,
    /// Its users and tokens.
    pub accounts: Accounts,
}

impl Access {
    /// Access rules from a configuration.
    pub fn new(config: Config) -> Access {
        let accounts = Accounts::from_config(&config);
        Access { config, accounts }
    }

    /// A collection of `root` by id as `organisation` sees it: `None` when it does not
    /// exist or the organisation has no right on it (so it does not exist for it).
    pub fn collection(
        &self,
        root: &str,
        id: &str,
        organisation: &str,
    ) -> Option<CollectionView<'_>> {
        let r = self.config.api_roots.get(root)?;
        r.collections
            .iter()
            .find(|(_, c)| c.id == id)
            .and_then(|(alias, c)| CollectionView::of(alias, c, organisation))
    }

    /// Every collection of `root` visible to `organisation`, in alias order.
    pub fn collections(&self, root: &str, organisation: &str) -> Vec<CollectionView<'_>> {
        self.config.api_roots.get(root).map_or_else(Vec::new, |r| {
            r.collections
                .iter()
                .filter_map(|(alias, c)| CollectionView::of(alias, c, organisation))
                .collect()
        })
    }
}

/// A collection with one organisation's rights on it.
#[derive(Debug, Clone, Copy)]
pub struct CollectionView<'a> {
    /// Its alias (configuration key).
    pub alias: &'a str,
    /// Its declaration.
    pub collection: &'a Collection,
    /// May the organisation read it?
    pub can_read: bool,
    /// May the organisation write to it?
    pub can_write: bool,
}

impl<'a> CollectionView<'a> {
    fn of(alias: &'a str, collection: &'a Collection, organisation: &str) -> Option<Self> {
        let can_read = collection.can_read(organisation);
        let can_write = collection.can_write(organisation);
        (can_read || can_write).then_some(CollectionView {
            alias,
            collection,
            can_read,
            can_write,
        })
    }
}

fn hex_id(signer: &accord_agreements::transparency::LedgerSigner) -> String {
    signer
        .public_key()
        .id()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The server's shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) egress: Arc<Egress>,
    access: Arc<RwLock<Arc<Access>>>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) password_checks: Arc<Semaphore>,
    pub(crate) limits: PageLimits,
    pub(crate) max_content_length: u64,
    pub(crate) tls: Option<TlsAcceptor>,
}

impl AppState {
    /// The node's one door out (federation pushes through it too).
    pub fn egress(&self) -> Arc<Egress> {
        self.egress.clone()
    }

    /// State for serving `config` from `store`; loads the TLS certificate and key when
    /// the configuration has `[server.tls]`, and the ledger signing key (creating it,
    /// with a log message, for a node initialised before the key existed).
    pub fn new(config: Config, store: Arc<dyn Store>) -> Result<AppState, StateError> {
        let tls = match config.tls_paths() {
            Some((certificate, key)) => Some(crate::tls::acceptor(&certificate, &key)?),
            None => None,
        };
        let key_path = config.ledger_key_path();
        let key = ledger_key::load_or_create(&key_path)?;
        if key.created {
            tracing::warn!(
                path = %key_path.display(),
                key_id = %hex_id(&key.signer),
                "created the ledger signing key (this node had none); give partners and auditors its public key: accord ledger key"
            );
        }
        let writer = LedgerWriter::start(store.clone(), Some(Arc::new(key.signer)))
            .map_err(StateError::LedgerWriter)?;
        let egress = Arc::new(
            Egress::new(store.clone(), config.server.organisation.clone())
                .with_readers(Readers::from(&config))
                .keeping_partner_trends(config.server.keep_partner_trends)
                .with_ledger(writer),
        );
        let limits = PageLimits {
            default: config.server.page_size,
            max: config.server.max_page_size,
        };
        let max_content_length = config.server.max_content_length;
        Ok(AppState {
            store,
            egress,
            access: Arc::new(RwLock::new(Arc::new(Access::new(config)))),
            metrics: Arc::new(Metrics::default()),
            password_checks: Arc::new(Semaphore::new(password_checks_at_once())),
            limits,
            max_content_length,
            tls,
        })
    }

    /// Apply these data exchange agreements to every read from now on.
    pub fn set_agreements(&self, gate: accord_agreements::Gate) {
        self.egress.set_gate(gate);
    }

    /// The access rules in force (a snapshot: a reload does not change it under a
    /// request that is being served).
    pub fn access(&self) -> Arc<Access> {
        // A poisoned lock only means a panic while swapping an Arc; the value is whole.
        self.access
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Put a new configuration's organisations, users, tokens, API roots, collections
    /// and rights in force. Listen address, store, ledger key, TLS and limits need a restart; a
    /// change of them is reported in the returned list (and not applied). A change of
    /// the node's own organisation is refused: it decides who reads everything, and
    /// the egress door was built for the old one.
    pub fn replace_config(&self, config: Config) -> Result<Vec<&'static str>, String> {
        let mut ignored = Vec::new();
        {
            let current = self.access();
            let (old, new) = (&current.config.server, &config.server);
            if old.organisation != new.organisation {
                return Err(format!(
                    "server.organisation changed from '{}' to '{}': restart the server to apply it",
                    old.organisation, new.organisation
                ));
            }
            if old.listen != new.listen {
                ignored.push("server.listen");
            }
            if old.store != new.store {
                ignored.push("server.store");
            }
            if old.ledger_key != new.ledger_key {
                ignored.push("server.ledger_key");
            }
            if old.tls.is_some() != new.tls.is_some() {
                ignored.push("server.tls");
            }
            if old.max_content_length != new.max_content_length
                || old.page_size != new.page_size
                || old.max_page_size != new.max_page_size
                || old.max_concurrent_requests != new.max_concurrent_requests
                || old.max_connections != new.max_connections
                || old.max_requests_per_organisation != new.max_requests_per_organisation
                || old.header_read_timeout != new.header_read_timeout
                || old.body_read_timeout != new.body_read_timeout
                || old.body_idle_timeout != new.body_idle_timeout
            {
                ignored.push("server limits");
            }
        }
        self.egress.set_readers(Readers::from(&config));
        let access = Arc::new(Access::new(config));
        *self.access.write().unwrap_or_else(|p| p.into_inner()) = access;
        Ok(ignored)
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

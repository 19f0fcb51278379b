//! The node's configuration file (TOML): who this node is, the partner organisations,
//! their users and API tokens, the TAXII API roots and collections, and which
//! organisation may read or write which collection.
//!
//! The file is the single source of truth for access: the server reads it at start-up
//! (and again whenever it changes on disk), and the `accord org|user|token|collection`
//! verbs change it through [`edit::ConfigEditor`], which keeps comments and layout
//! (`toml_edit`) and refuses to write a file that would not load.
//!
//! # Layout
//! - [`model`]: the typed configuration and its defaults.
//! - [`validate`]: the rules a configuration must satisfy (names, references, limits).
//! - [`edit`]: comment-preserving changes for the CLI verbs.
//! - [`starter`]: the commented configuration `accord init` writes.
//!
//! # Example
//! ```
//! use accord_node::config::Config;
//! let text = r#"
//! [server]
//! organisation = "telco"
//! identity = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
//!
//! [organisations.telco]
//! title = "Example Telco"
//!
//! [api_roots.intel]
//! title = "Threat intelligence"
//!
//! [api_roots.intel.collections.shared]
//! id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
//! title = "Shared indicators"
//! read = ["telco"]
//! write = ["telco"]
//! "#;
//! let config = Config::parse(text, "/etc/accord/accord.toml".as_ref())?;
//! assert_eq!(config.server.organisation, "telco");
//! assert_eq!(config.store_path(), std::path::Path::new("/etc/accord/accord.sqlite"));
//! let (root, alias, collection) = config.collection_by_id("91a7b528-80eb-42ed-a74d-c6fbd5a26116").unwrap();
//! assert_eq!((root, alias), ("intel", "shared"));
//! assert!(collection.can_read("telco"));
//! # Ok::<(), accord_node::config::ConfigError>(())
//! ```

pub mod edit;
pub mod model;
mod names;
pub mod starter;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use model::{
    ApiRoot, Collection, Config, Organisation, Server, Telemetry, Tls, Token, User,
    DEFAULT_BODY_IDLE_TIMEOUT, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_LISTEN, DEFAULT_MAX_CONTENT_LENGTH, DEFAULT_MAX_PAGE_SIZE,
    DEFAULT_MAX_REQUESTS_PER_ORGANISATION, DEFAULT_PAGE_SIZE, DEFAULT_TELEMETRY_WINDOW,
    MAX_TIMEOUT_SECONDS,
};
pub use names::CollectionRef;

/// The configuration file's name inside a data directory.
pub const CONFIG_FILE: &str = "accord.toml";

/// Why a configuration could not be loaded, checked or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not TOML, or a value has the wrong type or an unknown key.
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The file parses but breaks rules (each problem names the key).
    #[error("{}: {}", path.display(), problems.join("; "))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// One sentence per broken rule, naming the key.
        problems: Vec<String>,
    },
    /// An edit asked for something the file cannot do (a duplicate name).
    #[error("{0}")]
    Edit(String),
    /// A name given to a command is not one the configuration declares. Nothing was
    /// changed; `known` lists what the user could have meant.
    #[error("{}", names::unknown_message(kind, name, known))]
    Unknown {
        /// What was looked for: `collection`, `organisation`, `user`, `API root`, ...
        kind: String,
        /// The name given.
        name: String,
        /// The names of that kind the configuration declares (with details, such as
        /// a collection's id and API root), in file order.
        known: Vec<String>,
    },
    /// A name matches more than one thing (a collection alias used in two API roots).
    #[error("{kind} '{name}' is ambiguous: it may be {}; name it by id or as root/alias", candidates.join(" or "))]
    Ambiguous {
        /// What was looked for.
        kind: String,
        /// The name given.
        name: String,
        /// What it may stand for.
        candidates: Vec<String>,
    },
}

impl Config {
    /// Read and check the configuration at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parse and check a configuration text; `path` is where it lives (relative paths
    /// in it are resolved against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.file = path.to_path_buf();
        let problems = validate::problems(&config);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                problems,
            })
        }
    }

    /// The folder relative paths are resolved against.
    pub fn dir(&self) -> &Path {
        match self.file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    /// `path` resolved against the configuration's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.dir().join(path)
        }
    }

    /// The store file (`server.store`, default `accord.sqlite` beside the file).
    pub fn store_path(&self) -> PathBuf {
        self.resolve(&self.server.store)
    }

    /// The folder of agreement files (`server.agreements_dir`, default `agreements`).
    pub fn agreements_dir(&self) -> PathBuf {
        self.resolve(&self.server.agreements_dir)
    }

    /// The ledger signing key file (`server.ledger_key`, default `ledger.key`).
    pub fn ledger_key_path(&self) -> PathBuf {
        self.resolve(&self.server.ledger_key)
    }

    /// The TLS certificate chain and key files, resolved, when TLS is configured.
    pub fn tls_paths(&self) -> Option<(PathBuf, PathBuf)> {
        self.server
            .tls
            .as_ref()
            .map(|tls| (self.resolve(&tls.certificate), self.resolve(&tls.key)))
    }

    /// A collection by its TAXII id: `(api root name, alias, collection)`.
    pub fn collection_by_id(&self, id: &str) -> Option<(&str, &str, &Collection)> {
        self.api_roots.iter().find_map(|(root_name, root)| {
            root.collections
                .iter()
                .find(|(_, c)| c.id == id)
                .map(|(alias, c)| (root_name.as_str(), alias.as_str(), c))
        })
    }

    /// The routed collections (`routed_to`), by organisation: `(api root, collection)`.
    pub fn routed_collections(&self) -> BTreeMap<&str, (&str, &Collection)> {
        self.api_roots
            .iter()
            .flat_map(|(root, r)| {
                r.collections.values().filter_map(move |c| {
                    c.routed_to.as_deref().map(|org| (org, (root.as_str(), c)))
                })
            })
            .collect()
    }

    /// The organisation a user belongs to, with the user's entry.
    pub fn user(&self, name: &str) -> Option<(&str, &User)> {
        self.organisations
            .iter()
            .find_map(|(org, o)| o.users.get(name).map(|u| (org.as_str(), u)))
    }

    /// The API root discovery names as default: the one marked `default = true`, else
    /// the only one, else none.
    pub fn default_api_root(&self) -> Option<&str> {
        let marked = self
            .api_roots
            .iter()
            .find(|(_, r)| r.default)
            .map(|(n, _)| n.as_str());
        marked.or_else(|| {
            if self.api_roots.len() == 1 {
                self.api_roots.keys().next().map(String::as_str)
            } else {
                None
            }
        })
    }
}

#[cfg(test)]
mod tests;

//! Looking up the names commands are given: collections (by id or alias),
//! organisations, users, tokens and API roots.
//!
//! One place for every command, so that they all agree: a name the configuration does
//! not declare is an error ([`ConfigError::Unknown`]) that lists the names it does
//! declare, and nothing is changed. (A made-up collection name used to be taken as a
//! new collection id, filing data where no partner would ever see it.)

use super::model::{Collection, Config, Organisation, User};
use super::ConfigError;

/// A collection of the configuration, found by [`Config::find_collection`].
#[derive(Debug, Clone, Copy)]
pub struct CollectionRef<'a> {
    /// The API root it belongs to.
    pub api_root: &'a str,
    /// Its alias (its key in the configuration).
    pub alias: &'a str,
    /// Its entry (`id`, rights, ...).
    pub collection: &'a Collection,
}

impl CollectionRef<'_> {
    /// The TAXII collection id (what the store and the agreements use).
    pub fn id(&self) -> &str {
        &self.collection.id
    }
}

/// The text of [`ConfigError::Unknown`].
pub(super) fn unknown_message(kind: &str, name: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!("no {kind} '{name}': this node has none")
    } else {
        format!(
            "no {kind} '{name}'; the known ones are: {}",
            known.join(", ")
        )
    }
}

fn unknown(kind: &str, name: &str, known: Vec<String>) -> ConfigError {
    ConfigError::Unknown {
        kind: kind.to_string(),
        name: name.to_string(),
        known,
    }
}

impl Config {
    /// Every collection as `alias = id (API root r)`, for messages.
    pub fn known_collections(&self) -> Vec<String> {
        self.collections()
            .map(|c| format!("{} = {} (API root {})", c.alias, c.id(), c.api_root))
            .collect()
    }

    /// Every collection of every API root, in file order.
    pub fn collections(&self) -> impl Iterator<Item = CollectionRef<'_>> {
        self.api_roots.iter().flat_map(|(root, r)| {
            r.collections.iter().map(move |(alias, c)| CollectionRef {
                api_root: root,
                alias,
                collection: c,
            })
        })
    }

    /// The collection `name` stands for: its TAXII id, its alias, or `root/alias`.
    /// With `api_root`, only that API root's collections are candidates.
    ///
    /// An alias used in two API roots is ambiguous unless the root is named.
    ///
    /// ```
    /// # use accord_node::config::Config;
    /// # let text = "[server]\norganisation = \"telco\"\nidentity = \"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"\n\
    /// #   [organisations.telco]\n[api_roots.intel]\ntitle = \"t\"\n\
    /// #   [api_roots.intel.collections.shared]\nid = \"91a7b528-80eb-42ed-a74d-c6fbd5a26116\"\ntitle = \"s\"\n";
    /// # let config = Config::parse(text, "accord.toml".as_ref())?;
    /// let by_alias = config.find_collection(None, "shared")?;
    /// let by_id = config.find_collection(None, "91a7b528-80eb-42ed-a74d-c6fbd5a26116")?;
    /// assert_eq!(by_alias.id(), by_id.id());
    /// let err = config.find_collection(None, "sharde").unwrap_err().to_string();
    /// assert!(err.contains("'sharde'") && err.contains("shared = 91a7b528"), "{err}");
    /// # Ok::<(), accord_node::config::ConfigError>(())
    /// ```
    pub fn find_collection(
        &self,
        api_root: Option<&str>,
        name: &str,
    ) -> Result<CollectionRef<'_>, ConfigError> {
        if let Some(root) = api_root {
            self.find_api_root(root)?;
        }
        let (root_part, alias_part) = match name.split_once('/') {
            Some((root, alias)) if api_root.is_none() => (Some(root), alias),
            _ => (api_root, name),
        };
        let in_root = |c: &CollectionRef<'_>| root_part.is_none_or(|r| r == c.api_root);
        if let Some(found) = self.collections().find(|c| in_root(c) && c.id() == name) {
            return Ok(found);
        }
        let matches: Vec<CollectionRef<'_>> = self
            .collections()
            .filter(|c| in_root(c) && c.alias == alias_part)
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(unknown("collection", name, self.known_collections())),
            several => Err(ConfigError::Ambiguous {
                kind: "collection".to_string(),
                name: name.to_string(),
                candidates: several
                    .iter()
                    .map(|c| format!("{}/{} = {}", c.api_root, c.alias, c.id()))
                    .collect(),
            }),
        }
    }

    /// The API root named `name`.
    pub fn find_api_root(&self, name: &str) -> Result<&super::ApiRoot, ConfigError> {
        self.api_roots
            .get(name)
            .ok_or_else(|| unknown("API root", name, self.api_roots.keys().cloned().collect()))
    }

    /// The organisation named `name` (this node's own or a partner).
    pub fn find_organisation(&self, name: &str) -> Result<&Organisation, ConfigError> {
        self.organisations.get(name).ok_or_else(|| {
            unknown(
                "organisation",
                name,
                self.organisations.keys().cloned().collect(),
            )
        })
    }

    /// The user named `name`, with the organisation it belongs to.
    pub fn find_user(&self, name: &str) -> Result<(&str, &User), ConfigError> {
        self.user(name).ok_or_else(|| {
            let known = self
                .organisations
                .iter()
                .flat_map(|(org, o)| o.users.keys().map(move |u| format!("{u} ({org})")))
                .collect();
            unknown("user", name, known)
        })
    }

    /// The token `name` of `organisation`.
    pub fn find_token(&self, organisation: &str, name: &str) -> Result<&super::Token, ConfigError> {
        let org = self.find_organisation(organisation)?;
        org.tokens.get(name).ok_or_else(|| {
            unknown(
                &format!("token of organisation '{organisation}'"),
                name,
                org.tokens.keys().cloned().collect(),
            )
        })
    }
}

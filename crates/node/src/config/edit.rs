//! Comment-preserving changes to the configuration file, for the CLI verbs.
//!
//! Every change is made on the TOML document (`toml_edit`), so comments, order and
//! layout written by people survive; [`ConfigEditor::save`] re-reads the result with
//! the full checks of [`Config::parse`] and writes it only if it is valid, atomically
//! (a temporary file in the same folder, then a rename).
//!
//! ```
//! use accord_node::config::edit::ConfigEditor;
//! let text = "# our node\n[server]\norganisation = \"telco\"\n\
//!             identity = \"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"\n\
//!             [organisations.telco] # us\n";
//! let mut editor = ConfigEditor::from_text(text, "accord.toml".as_ref())?;
//! editor.add_organisation("police", Some("Cybercrime centre"))?;
//! let config = editor.config()?;
//! assert!(config.organisations.contains_key("police"));
//! assert!(editor.text().starts_with("# our node\n"));
//! assert!(editor.text().contains("[organisations.telco] # us"));
//! # Ok::<(), accord_node::config::ConfigError>(())
//! ```

use std::path::{Path, PathBuf};

use toml_edit::{value, Array, DocumentMut, Item, Table};

use super::validate::is_name;
use super::{Config, ConfigError};

/// A configuration file open for editing.
pub struct ConfigEditor {
    file: PathBuf,
    doc: DocumentMut,
}

fn edit_error(message: impl Into<String>) -> ConfigError {
    ConfigError::Edit(message.into())
}

fn check_name(kind: &str, name: &str) -> Result<(), ConfigError> {
    if is_name(name) {
        Ok(())
    } else {
        Err(edit_error(format!(
            "'{name}' is not a valid {kind} name (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit)"
        )))
    }
}

impl ConfigEditor {
    /// Open the file at `path` (it must load without errors).
    pub fn open(path: &Path) -> Result<ConfigEditor, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        ConfigEditor::from_text(&text, path)
    }

    /// Edit `text`, which lives (or will live) at `path`.
    pub fn from_text(text: &str, path: &Path) -> Result<ConfigEditor, ConfigError> {
        Config::parse(text, path)?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| ConfigError::Syntax {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(ConfigEditor {
            file: path.to_path_buf(),
            doc,
        })
    }

    /// The configuration as edited so far, fully checked.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::parse(&self.doc.to_string(), &self.file)
    }

    /// The document text as edited so far.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Check the edited configuration and write it back atomically. Returns it.
    pub fn save(&self) -> Result<Config, ConfigError> {
        let text = self.doc.to_string();
        let config = Config::parse(&text, &self.file)?;
        write_atomically(&self.file, &text)?;
        Ok(config)
    }

    /// Declare a new organisation.
    pub fn add_organisation(&mut self, name: &str, title: Option<&str>) -> Result<(), ConfigError> {
        check_name("organisation", name)?;
        let orgs = table_at(&mut self.doc, &["organisations"])?;
        if orgs.contains_key(name) {
            return Err(edit_error(format!("organisation '{name}' already exists")));
        }
        let mut t = Table::new();
        if let Some(title) = title {
            t.insert("title", value(title));
        }
        orgs.insert(name, Item::Table(t));
        Ok(())
    }

    /// Declare the countries (ISO 3166-1 alpha-2, stored uppercase) and autonomous
    /// systems an organisation is responsible for (replacing earlier ones); `accord
    /// route` sends it the objects located there.
    pub fn set_responsibility(
        &mut self,
        name: &str,
        countries: &[String],
        asns: &[u32],
    ) -> Result<(), ConfigError> {
        let mut codes = Array::new();
        for c in countries {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(edit_error(format!(
                    "{c:?} is not an ISO 3166-1 alpha-2 country code (two letters)"
                )));
            }
            codes.push(c.to_ascii_uppercase());
        }
        let mut numbers = Array::new();
        for &n in asns {
            if n == 0 {
                return Err(edit_error("0 is not an autonomous system number"));
            }
            numbers.push(i64::from(n));
        }
        let org = table_at(&mut self.doc, &["organisations", name])?;
        org.insert("countries", value(codes));
        org.insert("asns", value(numbers));
        Ok(())
    }

    /// Remove an organisation, its users and tokens, and its rights on every collection.
    /// The node's own organisation cannot be removed.
    pub fn remove_organisation(&mut self, name: &str) -> Result<(), ConfigError> {
        let config = self.config()?;
        if config.server.organisation == name {
            return Err(edit_error(format!(
                "'{name}' is this node's own organisation (server.organisation) and cannot be removed"
            )));
        }
        config.find_organisation(name)?;
        table_at(&mut self.doc, &["organisations"])?.remove(name);
        for (root, r) in &config.api_roots {
            for alias in r.collections.keys() {
                let c = table_at(&mut self.doc, &["api_roots", root, "collections", alias])?;
                for list in ["read", "write"] {
                    remove_from_array(c, list, name);
                }
            }
        }
        Ok(())
    }

    /// Add a user (with an argon2id PHC password hash) to an organisation.
    pub fn add_user(
        &mut self,
        organisation: &str,
        user: &str,
        phc: &str,
    ) -> Result<(), ConfigError> {
        let config = self.config()?;
        config.find_organisation(organisation)?;
        check_name("user", user)?;
        if let Some((org, _)) = config.user(user) {
            return Err(edit_error(format!(
                "user '{user}' already exists (organisation '{org}')"
            )));
        }
        let users = table_at(&mut self.doc, &["organisations", organisation, "users"])?;
        let mut t = Table::new();
        t.insert("password", value(phc));
        users.insert(user, Item::Table(t));
        Ok(())
    }

    /// Replace a user's password hash.
    pub fn set_password(&mut self, user: &str, phc: &str) -> Result<(), ConfigError> {
        let config = self.config()?;
        let (org, _) = config.find_user(user)?;
        let org = org.to_string();
        table_at(&mut self.doc, &["organisations", &org, "users", user])?
            .insert("password", value(phc));
        Ok(())
    }

    /// Remove a user.
    pub fn remove_user(&mut self, user: &str) -> Result<(), ConfigError> {
        let config = self.config()?;
        let (org, _) = config.find_user(user)?;
        let org = org.to_string();
        table_at(&mut self.doc, &["organisations", &org, "users"])?.remove(user);
        Ok(())
    }

    /// Add an API token (its SHA-256 digest) to an organisation.
    pub fn add_token(
        &mut self,
        organisation: &str,
        name: &str,
        sha256: &str,
        created: &str,
    ) -> Result<(), ConfigError> {
        let config = self.config()?;
        let org = config.find_organisation(organisation)?;
        check_name("token", name)?;
        if org.tokens.contains_key(name) {
            return Err(edit_error(format!(
                "organisation '{organisation}' already has a token '{name}'"
            )));
        }
        let tokens = table_at(&mut self.doc, &["organisations", organisation, "tokens"])?;
        let mut t = Table::new();
        t.insert("sha256", value(sha256));
        t.insert("created", value(created));
        tokens.insert(name, Item::Table(t));
        Ok(())
    }

    /// Remove (revoke) an API token.
    pub fn remove_token(&mut self, organisation: &str, name: &str) -> Result<(), ConfigError> {
        let config = self.config()?;
        config.find_token(organisation, name)?;
        table_at(&mut self.doc, &["organisations", organisation, "tokens"])?.remove(name);
        Ok(())
    }

    /// Declare an API root.
    pub fn add_api_root(&mut self, name: &str, title: &str) -> Result<(), ConfigError> {
        check_name("API root", name)?;
        let roots = table_at(&mut self.doc, &["api_roots"])?;
        if roots.contains_key(name) {
            return Err(edit_error(format!("API root '{name}' already exists")));
        }
        let mut t = Table::new();
        t.insert("title", value(title));
        roots.insert(name, Item::Table(t));
        Ok(())
    }

    /// Declare a collection in an API root.
    pub fn add_collection(
        &mut self,
        root: &str,
        alias: &str,
        spec: &NewCollection,
    ) -> Result<(), ConfigError> {
        check_name("collection", alias)?;
        let config = self.config()?;
        let r = config.find_api_root(root)?;
        for organisation in spec.read.iter().chain(&spec.write) {
            config.find_organisation(organisation)?;
        }
        if r.collections.contains_key(alias) {
            return Err(edit_error(format!(
                "API root '{root}' already has a collection '{alias}'"
            )));
        }
        let collections = table_at(&mut self.doc, &["api_roots", root, "collections"])?;
        let mut t = Table::new();
        t.insert("id", value(spec.id.as_str()));
        t.insert("title", value(spec.title.as_str()));
        if let Some(d) = &spec.description {
            t.insert("description", value(d.as_str()));
        }
        t.insert("read", value(spec.read.iter().collect::<Array>()));
        t.insert("write", value(spec.write.iter().collect::<Array>()));
        collections.insert(alias, Item::Table(t));
        Ok(())
    }

    /// Declare `organisation`'s routed collection in `root` (alias `routed-<org>`, a
    /// fresh UUID, read by the organisation only, written by nobody: see
    /// [`Collection::routed_to`](super::Collection::routed_to)); returns its id.
    pub fn add_routed_collection(
        &mut self,
        root: &str,
        organisation: &str,
    ) -> Result<String, ConfigError> {
        let alias = format!("routed-{organisation}");
        let id = uuid::Uuid::new_v4().to_string();
        self.add_collection(
            root,
            &alias,
            &NewCollection {
                id: id.clone(),
                title: format!("Routed to {organisation}"),
                description: Some(format!(
                    "What the hub routes to {organisation}: objects located in its countries and ASNs, with what explains them (accord route --deliver taxii)"
                )),
                read: vec![organisation.to_string()],
                write: Vec::new(),
            },
        )?;
        table_at(&mut self.doc, &["api_roots", root, "collections", &alias])?
            .insert("routed_to", value(organisation));
        Ok(id)
    }

    /// Remove a collection (named by alias or id) from the configuration (its objects
    /// stay in the store).
    pub fn remove_collection(&mut self, root: &str, alias: &str) -> Result<(), ConfigError> {
        let config = self.config()?;
        let found = config.find_collection(Some(root), alias)?;
        let alias = found.alias.to_string();
        table_at(&mut self.doc, &["api_roots", root, "collections"])?.remove(&alias);
        Ok(())
    }

    /// Grant (`Some(true)`) or revoke (`Some(false)`) an organisation's read and write
    /// rights on a collection (named by alias or id); `None` leaves that right as it is.
    pub fn set_rights(
        &mut self,
        root: &str,
        alias: &str,
        organisation: &str,
        read: Option<bool>,
        write: Option<bool>,
    ) -> Result<(), ConfigError> {
        let config = self.config()?;
        let found = config.find_collection(Some(root), alias)?;
        let alias = found.alias.to_string();
        config.find_organisation(organisation)?;
        let c = table_at(&mut self.doc, &["api_roots", root, "collections", &alias])?;
        for (list, wanted) in [("read", read), ("write", write)] {
            match wanted {
                Some(true) => add_to_array(c, list, organisation)?,
                Some(false) => remove_from_array(c, list, organisation),
                None => {}
            }
        }
        Ok(())
    }
}

/// What [`ConfigEditor::add_collection`] declares.
#[derive(Debug, Clone)]
pub struct NewCollection {
    /// The TAXII id (a lowercase UUID).
    pub id: String,
    /// TAXII `title`.
    pub title: String,
    /// TAXII `description`.
    pub description: Option<String>,
    /// Organisations that may read.
    pub read: Vec<String>,
    /// Organisations that may write.
    pub write: Vec<String>,
}

/// The table at `path`, creating missing (implicit) tables on the way.
fn table_at<'a>(doc: &'a mut DocumentMut, path: &[&str]) -> Result<&'a mut Table, ConfigError> {
    let mut table = doc.as_table_mut();
    for (depth, key) in path.iter().enumerate() {
        let item = table.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        table = item.as_table_mut().ok_or_else(|| {
            edit_error(format!(
                "{} is not written as a [table] section; edit it by hand or rewrite it as one",
                path[..=depth].join(".")
            ))
        })?;
    }
    Ok(table)
}

fn add_to_array(table: &mut Table, key: &str, name: &str) -> Result<(), ConfigError> {
    let item = table.entry(key).or_insert_with(|| value(Array::new()));
    let array = item
        .as_array_mut()
        .ok_or_else(|| edit_error(format!("'{key}' is not a list of organisation names")))?;
    if !array.iter().any(|v| v.as_str() == Some(name)) {
        array.push(name);
    }
    Ok(())
}

fn remove_from_array(table: &mut Table, key: &str, name: &str) {
    if let Some(array) = table.get_mut(key).and_then(Item::as_array_mut) {
        array.retain(|v| v.as_str() != Some(name));
    }
}

/// Write `text` to `path` through a temporary file and a rename, so a reader (the
/// server reloading) never sees half a file. A new file is readable by its owner only.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), ConfigError> {
    let io = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).map_err(io)?;
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => owner_only(),
    };
    if let Some(p) = permissions {
        std::fs::set_permissions(&tmp, p).map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

#[cfg(unix)]
fn owner_only() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn owner_only() -> Option<std::fs::Permissions> {
    None
}

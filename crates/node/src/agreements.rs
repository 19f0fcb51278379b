//! Loading the node's agreements: every `*.toml` in the agreements directory, with the
//! pseudonym keys they point to, into one [`Gate`].

use std::fmt;
use std::path::{Path, PathBuf};

use accord_agreements::{Agreement, AgreementError, Gate, GateError, KeySource, PseudonymKey};

use crate::config::Config;

/// Why the agreements could not be loaded. Every problem of every file is listed.
#[derive(Debug)]
pub struct LoadError {
    /// One entry per failing file (or the set as a whole).
    pub problems: Vec<FileProblem>,
}

/// A problem with one agreement file.
#[derive(Debug)]
pub struct FileProblem {
    /// The file (or the directory for set-wide problems).
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", p.path.display(), p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// The agreement files in `dir`, sorted by name. A missing directory holds none.
pub fn agreement_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Read and validate one agreement file, loading its pseudonym key if it needs one.
pub fn load_file(path: &Path) -> Result<Agreement, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let agreement = Agreement::from_toml(&text).map_err(|e: AgreementError| e.to_string())?;
    if !agreement.pseudonymises() {
        return Ok(agreement);
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let key = match agreement.key_source() {
        Some(source) => read_key(source, base)?,
        None => {
            return Err(
                "customer addresses are pseudonymised but no pseudonym key is named \
                            (pseudonym_key_env or pseudonym_key_file)"
                    .to_string(),
            )
        }
    };
    Ok(agreement.with_key(key))
}

fn read_key(source: &KeySource, base: &Path) -> Result<PseudonymKey, String> {
    let (text, origin) = match source {
        KeySource::Env(var) => (
            std::env::var(var).map_err(|_| format!("pseudonym key variable {var} is not set"))?,
            format!("environment variable {var}"),
        ),
        KeySource::File(file) => {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                base.join(file)
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read pseudonym key file {}: {e}", path.display()))?;
            (text, format!("key file {}", path.display()))
        }
    };
    PseudonymKey::from_hex(text.trim()).map_err(|e| format!("{origin}: {e}"))
}

/// Load every agreement in `dir` into a gate. All files are checked; every problem is
/// reported, so an operator fixes them in one pass.
pub fn load_gate(dir: &Path) -> Result<Gate, LoadError> {
    load(dir, None)
}

fn load(dir: &Path, node: Option<&Config>) -> Result<Gate, LoadError> {
    let files = agreement_files(dir).map_err(|e| LoadError {
        problems: vec![FileProblem {
            path: dir.to_path_buf(),
            message: e.to_string(),
        }],
    })?;
    let mut agreements = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        match load_file(&path) {
            Ok(a) => {
                for message in node.map(|c| node_problems(&a, c)).unwrap_or_default() {
                    problems.push(FileProblem {
                        path: path.clone(),
                        message,
                    });
                }
                agreements.push(a);
            }
            Err(message) => problems.push(FileProblem { path, message }),
        }
    }
    if !problems.is_empty() {
        return Err(LoadError { problems });
    }
    Gate::new(agreements).map_err(|e: GateError| LoadError {
        problems: vec![FileProblem {
            path: dir.to_path_buf(),
            message: e.to_string(),
        }],
    })
}

/// What `agreement` names that this node does not have: `scope.collections` entries
/// that are not collection ids of the node (the example's `COLLECTION_ID`
/// placeholder, a typo, an alias where the id is needed) and a provider or recipient
/// organisation the configuration does not declare. Empty when the agreement fits.
///
/// Such an agreement is valid on its own but cannot be what its parties meant: it
/// would silently release nothing (an unknown collection matches no object; an
/// unknown recipient can never log in), and `agreement preview` would only count
/// everything as out of scope.
pub fn node_problems(agreement: &Agreement, config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    for (role, party) in [
        ("provider", agreement.provider()),
        ("recipient", agreement.recipient()),
    ] {
        if let Err(e) = config.find_organisation(&party.id) {
            problems.push(format!("{role}.id: {e} (add it with `accord org add`)"));
        }
    }
    for name in agreement.scope().collections.iter().flatten() {
        if config.collections().any(|c| c.id() == name) {
            continue;
        }
        let hint = match config.find_collection(None, name) {
            Ok(c) => format!(
                "'{name}' is the alias of collection {}: an agreement names collections by id",
                c.id()
            ),
            Err(e) => format!("{e} (print an id with `accord collection id ALIAS`)"),
        };
        problems.push(format!("scope.collections: {hint}"));
    }
    problems
}

/// Load the agreements of the node `config` describes (its agreements directory),
/// as [`load_gate`] does, and refuse any that names a collection or organisation the
/// node does not have ([`node_problems`]): every problem of every file is listed.
///
/// Refused rather than warned about: an agreement is a commitment between two
/// organisations, and one that cannot apply to this node is a mistake to fix before
/// serving, just as an invalid file is (a warning in a server log goes unread while
/// the partner silently receives nothing).
///
/// The node's organisation is the gate's holder ([`Gate::with_holder`]): what the
/// node received from another organisation (a federation peer) goes onward only when
/// that organisation's agreement with the node permits onward sharing.
pub fn load_node_gate(config: &Config) -> Result<Gate, LoadError> {
    Ok(load(&config.agreements_dir(), Some(config))?
        .with_holder(config.server.organisation.clone()))
}

/// Store the statement marking definitions that carry the agreements' obligations
/// (retention, onward sharing), so that recipients receive the markings their objects
/// reference. Each goes into the collections its agreement covers (`all_collections`
/// when the agreement names none), provided by the local organisation; the gate
/// releases it to that agreement's recipient only. Idempotent: the markings' ids and
/// texts are fixed per agreement version. Returns how many (marking, collection) pairs
/// were newly stored.
pub fn publish_obligations(
    store: &dyn accord_store::Store,
    gate: &Gate,
    local_organisation: &str,
    all_collections: &[String],
) -> Result<usize, accord_store::StoreError> {
    use crate::ingest::{ingest_batch, IngestOptions, ObjectResult};
    let provenance = accord_store::Provenance::new(local_organisation, "agreement");
    let mut added = 0;
    for agreement in gate.agreements() {
        let Some(marking) = agreement.obligations_marking() else {
            continue;
        };
        let text = marking.to_string();
        let collections: Vec<String> = match &agreement.scope().collections {
            Some(named) => named.iter().cloned().collect(),
            None => all_collections.to_vec(),
        };
        let targets: Vec<Option<&str>> = if collections.is_empty() {
            vec![None]
        } else {
            collections.iter().map(|c| Some(c.as_str())).collect()
        };
        for collection in targets {
            let results = ingest_batch(
                store,
                &[&text],
                &provenance,
                collection,
                &IngestOptions::default(),
            )?;
            for result in results {
                match result {
                    ObjectResult::Stored {
                        already_present: false,
                        ..
                    } => added += 1,
                    ObjectResult::Stored { .. } => {}
                    ObjectResult::Rejected { rejection, .. } => {
                        tracing::error!(agreement = %agreement.reference(), "obligations marking rejected: {rejection}");
                    }
                }
            }
        }
    }
    Ok(added)
}

/// The obligations markings that [`publish_obligations`] would store for the
/// agreements whose recipient is `recipient` and that the store does not hold yet in
/// `collection` (anywhere, when `None`). `accord serve` and a partner's `accord
/// export` store them before releasing anything, and the gate always releases a
/// marking to its own agreement's recipient; a read-only `accord agreement preview`
/// counts them from this list instead of storing them.
pub fn unpublished_obligations(
    store: &dyn accord_store::Store,
    gate: &Gate,
    recipient: &str,
    collection: Option<&str>,
    all_collections: &[String],
) -> Result<Vec<String>, accord_store::StoreError> {
    use accord_store::{ObjectQuery, Scope};
    let mut missing = Vec::new();
    for agreement in gate.agreements() {
        if agreement.recipient().id != recipient {
            continue;
        }
        let Some(id) = agreement.obligations_marking_id() else {
            continue;
        };
        let targets: Vec<&String> = match &agreement.scope().collections {
            Some(named) => named.iter().collect(),
            None => all_collections.iter().collect(),
        };
        let scope = match collection {
            Some(c) if !targets.iter().any(|t| *t == c) => continue,
            Some(c) => Scope::Collection(c.to_string()),
            None => Scope::Store,
        };
        let mut query = ObjectQuery::new(scope, 1);
        query.ids = vec![id.to_string()];
        if store.query(&query)?.rows.is_empty() && !missing.iter().any(|m| m == id) {
            missing.push(id.to_string());
        }
    }
    Ok(missing)
}

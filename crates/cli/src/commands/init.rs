//! `accord init DIR`: a starter node — a commented configuration (one API root, one
//! collection, an administrator), an empty store, the ledger signing key and an
//! agreements folder.
//!
//! Also the helpers the configuration verbs share (where the configuration is).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use accord_node::accounts::{generate_password, hash_password};
use accord_node::config::edit::{write_atomically, ConfigEditor};
use accord_node::config::starter::{render, Starter};
use accord_node::config::{Config, CONFIG_FILE};
use anyhow::{bail, Context as _};

use crate::context::{GlobalArgs, DEFAULT_DATA_DIR};

/// Environment variable holding the administrator's password for `accord init` (and
/// a first `accord serve`); without it a password is generated and printed once.
pub const ADMIN_PASSWORD_ENV: &str = "ACCORD_ADMIN_PASSWORD";

/// Create a node: DIR/accord.toml, DIR/accord.sqlite, DIR/ledger.key, DIR/agreements/.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord init accord-data\n  ACCORD_ADMIN_PASSWORD='a long secret phrase' accord init /srv/accord --organisation telco"
)]
pub struct InitArgs {
    /// The folder to create the node in
    #[arg(default_value = DEFAULT_DATA_DIR)]
    pub dir: PathBuf,
    /// The name of the organisation that runs this node
    #[arg(long, default_value = "local")]
    pub organisation: String,
    /// Address and port to listen on
    #[arg(long, default_value = accord_node::config::DEFAULT_LISTEN)]
    pub listen: String,
}

/// What [`initialise`] made.
pub struct Initialised {
    /// The configuration file written.
    pub config: PathBuf,
    /// The store file created.
    pub store: PathBuf,
    /// The ledger signing key file (created unless one was there).
    pub ledger_key: PathBuf,
    /// Its public key id (hex).
    pub ledger_key_id: String,
    /// The administrator's password, when it was generated (to show once).
    pub generated_password: Option<String>,
}

/// Write a starter node into `dir` (which must not hold a configuration yet).
pub fn initialise(
    dir: &Path,
    organisation: &str,
    listen: &str,
    db: Option<&Path>,
) -> anyhow::Result<Initialised> {
    let config_path = dir.join(CONFIG_FILE);
    if config_path.exists() {
        bail!(
            "{} already exists; not overwriting it",
            config_path.display()
        );
    }
    listen
        .parse::<std::net::SocketAddr>()
        .with_context(|| format!("--listen '{listen}' is not an address:port"))?;
    let (password, generated) = match std::env::var(ADMIN_PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (generate_password(), true),
    };
    let hash = hash_password(&password)
        .with_context(|| format!("the administrator password ({ADMIN_PASSWORD_ENV})"))?;
    let mut starter = Starter::new(organisation, &hash);
    starter.listen = listen.to_string();
    let text = render(&starter);
    // Check the result before anything is created (for example a bad organisation name).
    let config = Config::parse(&text, &config_path).context("the starter configuration")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::create_dir_all(config.agreements_dir())
        .with_context(|| format!("creating {}", config.agreements_dir().display()))?;
    let store = db.map_or_else(|| config.store_path(), Path::to_path_buf);
    let opened = accord_store::SqliteStore::open(&store)
        .with_context(|| format!("creating the store {}", store.display()))?;
    crate::context::refresh_facts(&opened, &store)?;
    crate::context::backfill_analytics(&opened, &store)?;
    let ledger_key = config.ledger_key_path();
    let signer = if ledger_key.exists() {
        accord_node::ledger_key::load(&ledger_key)?
    } else {
        accord_node::ledger_key::create(&ledger_key)?
    };
    write_atomically(&config_path, &text)?;
    Ok(Initialised {
        config: config_path,
        store,
        ledger_key,
        ledger_key_id: hex::encode(signer.public_key().id()),
        generated_password: generated.then_some(password),
    })
}

/// Tell the user what was made, and the generated password (once).
pub fn report(made: &Initialised) {
    println!(
        "Created {} and the store {}",
        made.config.display(),
        made.store.display()
    );
    println!(
        "Ledger signing key: {} (key id {}; partners and auditors get the public key with `accord ledger key`)",
        made.ledger_key.display(),
        made.ledger_key_id
    );
    match &made.generated_password {
        Some(p) => println!(
            "Administrator: user 'admin', password '{p}'\n\
             (shown only now; change it with `accord user passwd admin`)"
        ),
        None => println!("Administrator: user 'admin', password from {ADMIN_PASSWORD_ENV}"),
    }
}

pub fn run(global: &GlobalArgs, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let made = initialise(
        &args.dir,
        &args.organisation,
        &args.listen,
        global.db.as_deref(),
    )?;
    report(&made);
    println!(
        "Start it with: accord serve --config {}",
        made.config.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The configuration file the verbs work on: `--config` / `ACCORD_CONFIG`, else
/// `./accord-data/accord.toml`.
pub fn config_path(global: &GlobalArgs) -> PathBuf {
    global.config_path()
}

/// Open the configuration for editing, with a hint when there is none.
pub fn editor(global: &GlobalArgs) -> anyhow::Result<ConfigEditor> {
    let path = config_path(global);
    if !path.exists() {
        return Err(crate::context::no_configuration(&path));
    }
    Ok(ConfigEditor::open(&path)?)
}

/// The configuration, read for a listing, with a hint when there is none.
pub fn read_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let path = config_path(global);
    if !path.exists() {
        return Err(crate::context::no_configuration(&path));
    }
    Ok(Config::load(&path)?)
}

/// Save an edited configuration and say so.
pub fn save(editor: &ConfigEditor, what: &str) -> anyhow::Result<Config> {
    let config = editor.save()?;
    eprintln!(
        "{what} ({}); a running server applies it within seconds",
        config.file.display()
    );
    Ok(config)
}

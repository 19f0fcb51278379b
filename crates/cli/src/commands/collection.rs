//! `accord collection`: TAXII collections and who may read or write them.

use std::process::ExitCode;

use accord_node::config::edit::NewCollection;
use accord_node::config::Config;
use anyhow::bail;

use super::init::{config_path, editor, save};
use crate::context::GlobalArgs;

/// Manage collections and the organisations' rights on them.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord collection add c2 --title 'C2 servers' --read local,police --write local\n  accord collection grant c2 --org cert --read\n  accord collection revoke c2 --org police --write\n  accord collection list"
)]
pub struct CollectionArgs {
    #[command(subcommand)]
    pub command: CollectionCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CollectionCommand {
    /// Add a collection (and its API root, if new)
    Add {
        /// Its alias (a short name for these commands)
        alias: String,
        /// The API root it belongs to
        #[arg(long, default_value = "intel")]
        api_root: String,
        /// Its title
        #[arg(long)]
        title: String,
        /// Its description
        #[arg(long)]
        description: Option<String>,
        /// Its TAXII id [default: a new random UUID]
        #[arg(long)]
        id: Option<String>,
        /// Organisations that may read it [default: this node's own]
        #[arg(long, value_delimiter = ',')]
        read: Option<Vec<String>>,
        /// Organisations that may write to it [default: this node's own]
        #[arg(long, value_delimiter = ',')]
        write: Option<Vec<String>>,
    },
    /// Give an organisation read and/or write rights (both if neither is named)
    Grant(RightsArgs),
    /// Take read and/or write rights away (both if neither is named)
    Revoke(RightsArgs),
    /// Remove a collection from the configuration (its objects stay in the store)
    Remove {
        /// Its alias
        alias: String,
        /// Its API root
        #[arg(long, default_value = "intel")]
        api_root: String,
    },
    /// List collections with their ids and rights
    List,
}

#[derive(Debug, clap::Args)]
pub struct RightsArgs {
    /// The collection's alias
    pub alias: String,
    /// Its API root
    #[arg(long, default_value = "intel")]
    pub api_root: String,
    /// The organisation
    #[arg(long)]
    pub org: String,
    /// The read right
    #[arg(long)]
    pub read: bool,
    /// The write right
    #[arg(long)]
    pub write: bool,
}

fn rights(args: &RightsArgs, value: bool) -> (Option<bool>, Option<bool>) {
    let both = !args.read && !args.write;
    (
        (args.read || both).then_some(value),
        (args.write || both).then_some(value),
    )
}

pub fn run(global: &GlobalArgs, args: &CollectionArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        CollectionCommand::Add {
            alias,
            api_root,
            title,
            description,
            id,
            read,
            write,
        } => {
            let mut e = editor(global)?;
            let config = e.config()?;
            let local = vec![config.server.organisation.clone()];
            let id = id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            if !config.api_roots.contains_key(api_root) {
                e.add_api_root(api_root, api_root)?;
            }
            let spec = NewCollection {
                id: id.clone(),
                title: title.clone(),
                description: description.clone(),
                read: read.clone().unwrap_or_else(|| local.clone()),
                write: write.clone().unwrap_or(local),
            };
            e.add_collection(api_root, alias, &spec)?;
            save(
                &e,
                &format!("Added collection '{alias}' to API root '{api_root}'"),
            )?;
            println!("{id}");
        }
        CollectionCommand::Grant(r) | CollectionCommand::Revoke(r) => {
            let grant = matches!(args.command, CollectionCommand::Grant(_));
            let (read, write) = rights(r, grant);
            let mut e = editor(global)?;
            e.set_rights(&r.api_root, &r.alias, &r.org, read, write)?;
            let verb = if grant { "Granted" } else { "Revoked" };
            save(
                &e,
                &format!(
                    "{verb} rights of '{}' on '{}/{}'",
                    r.org, r.api_root, r.alias
                ),
            )?;
        }
        CollectionCommand::Remove { alias, api_root } => {
            let mut e = editor(global)?;
            e.remove_collection(api_root, alias)?;
            save(
                &e,
                &format!("Removed collection '{alias}' from API root '{api_root}'"),
            )?;
        }
        CollectionCommand::List => list(global)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs) -> anyhow::Result<()> {
    let path = config_path(global);
    if !path.exists() {
        bail!("no configuration at {}", path.display());
    }
    let config = Config::load(&path)?;
    let mut rows = Vec::new();
    for (root, r) in &config.api_roots {
        for (alias, c) in &r.collections {
            rows.push(serde_json::json!({
                "api_root": root, "alias": alias, "id": c.id, "title": c.title,
                "read": c.read, "write": c.write,
            }));
        }
    }
    if global.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for (root, r) in &config.api_roots {
        for (alias, c) in &r.collections {
            println!("/{root}/collections/{}/  {alias} — {}", c.id, c.title);
            println!(
                "  read:  {}",
                if c.read.is_empty() {
                    "-".into()
                } else {
                    c.read.join(", ")
                }
            );
            println!(
                "  write: {}",
                if c.write.is_empty() {
                    "-".into()
                } else {
                    c.write.join(", ")
                }
            );
        }
    }
    Ok(())
}

//! `accord collection`: TAXII collections and who may read or write them.

use std::process::ExitCode;

use accord_node::config::edit::NewCollection;

use super::init::{editor, read_config, save};
use crate::context::{print_stdout, GlobalArgs};

/// Manage collections and the organisations' rights on them.
///
/// A collection is named by its id or its alias (`shared`, or `intel/shared` when two
/// API roots use the same alias); an unknown name is refused with the known ones.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord collection add c2 --title 'C2 servers' --read local,police --write local\n  accord collection grant c2 --org cert --read\n  accord collection revoke c2 --org police --write\n  accord collection list\n  COLLECTION=$(accord collection id shared)"
)]
pub struct CollectionArgs {
    #[command(subcommand)]
    pub command: CollectionCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CollectionCommand {
    /// Add a collection (and its API root, if new); prints its id
    #[command(
        after_help = "Examples:\n  accord collection add c2 --title 'C2 servers'\n  accord collection add ddos --title 'DDoS' --read local,police --write local --api-root ops"
    )]
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
    #[command(
        after_help = "Examples:\n  accord collection grant shared --org police --read\n  accord collection grant 91a7b528-80eb-42ed-a74d-c6fbd5a26116 --org cert"
    )]
    Grant(RightsArgs),
    /// Take read and/or write rights away (both if neither is named)
    #[command(
        after_help = "Examples:\n  accord collection revoke shared --org police --write\n  accord collection revoke shared --org cert"
    )]
    Revoke(RightsArgs),
    /// Remove a collection from the configuration (its objects stay in the store)
    #[command(after_help = "Example:\n  accord collection remove c2")]
    Remove {
        /// Its alias or id
        #[arg(value_name = "COLLECTION")]
        collection: String,
        /// Look the alias up in this API root only
        #[arg(long)]
        api_root: Option<String>,
    },
    /// Print a collection's id alone (for scripts)
    #[command(after_help = "Example:\n  COLLECTION=$(accord collection id shared)")]
    Id {
        /// Its alias (or id)
        #[arg(value_name = "COLLECTION")]
        collection: String,
        /// Look the alias up in this API root only
        #[arg(long)]
        api_root: Option<String>,
    },
    /// List collections with their ids and rights
    #[command(
        after_help = "Examples:\n  accord collection list\n  accord collection list --ids\n  accord --json collection list"
    )]
    List {
        /// Print only the ids, one a line
        #[arg(long)]
        ids: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct RightsArgs {
    /// The collection's alias or id
    #[arg(value_name = "COLLECTION")]
    pub collection: String,
    /// Look the alias up in this API root only
    #[arg(long)]
    pub api_root: Option<String>,
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
            let spec = NewCollection {
                id: id.clone(),
                title: title.clone(),
                description: description.clone(),
                read: read.clone().unwrap_or_else(|| local.clone()),
                write: write.clone().unwrap_or(local),
            };
            for organisation in spec.read.iter().chain(&spec.write) {
                config.find_organisation(organisation)?;
            }
            if !config.api_roots.contains_key(api_root) {
                e.add_api_root(api_root, api_root)?;
            }
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
            let config = e.config()?;
            let found = config.find_collection(r.api_root.as_deref(), &r.collection)?;
            e.set_rights(found.api_root, found.alias, &r.org, read, write)?;
            let verb = if grant { "Granted" } else { "Revoked" };
            save(
                &e,
                &format!(
                    "{verb} rights of '{}' on '{}/{}'",
                    r.org, found.api_root, found.alias
                ),
            )?;
        }
        CollectionCommand::Remove {
            collection,
            api_root,
        } => {
            let mut e = editor(global)?;
            let config = e.config()?;
            let found = config.find_collection(api_root.as_deref(), collection)?;
            e.remove_collection(found.api_root, found.alias)?;
            save(
                &e,
                &format!(
                    "Removed collection '{}' from API root '{}'",
                    found.alias, found.api_root
                ),
            )?;
        }
        CollectionCommand::Id {
            collection,
            api_root,
        } => {
            let config = read_config(global)?;
            let found = config.find_collection(api_root.as_deref(), collection)?;
            print_stdout(found.id())?;
        }
        CollectionCommand::List { ids } => list(global, *ids)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs, ids: bool) -> anyhow::Result<()> {
    let config = read_config(global)?;
    if ids {
        let ids: Vec<String> = crate::context::collection_ids(&config);
        if global.json {
            print_stdout(&serde_json::to_string_pretty(&ids)?)?;
        } else if !ids.is_empty() {
            print_stdout(&ids.join("\n"))?;
        }
        return Ok(());
    }
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

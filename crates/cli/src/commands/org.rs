//! `accord org`: the organisations of the node configuration.

use std::process::ExitCode;

use super::init::{editor, read_config, save};
use crate::context::GlobalArgs;

/// Manage organisations (this node's own and its partners).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord org add police --title 'Cybercrime centre'\n  accord org list\n  accord org remove police"
)]
pub struct OrgArgs {
    #[command(subcommand)]
    pub command: OrgCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum OrgCommand {
    /// Declare a partner organisation
    #[command(
        after_help = "Examples:\n  accord org add police --title 'Cybercrime centre'\n  accord org add cert-eu\n  accord org add cert-my --countries MY --asns 4788,38466"
    )]
    Add {
        /// Its name (1-64 of A-Z a-z 0-9 . _ -)
        name: String,
        /// A human name
        #[arg(long)]
        title: Option<String>,
        /// Countries it is responsible for (ISO 3166-1 alpha-2, comma-separated):
        /// `accord route` sends it the objects located there
        #[arg(long, value_delimiter = ',', value_name = "CC,...")]
        countries: Vec<String>,
        /// Autonomous systems it is responsible for (comma-separated numbers)
        #[arg(long, value_delimiter = ',', value_name = "ASN,...")]
        asns: Vec<u32>,
    },
    /// List organisations with their users, tokens and rights
    #[command(after_help = "Examples:\n  accord org list\n  accord --json org list")]
    List,
    /// Remove an organisation with its users, tokens and rights
    #[command(after_help = "Example:\n  accord org remove police")]
    Remove {
        /// Its name
        name: String,
    },
}

pub fn run(global: &GlobalArgs, args: &OrgArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        OrgCommand::Add {
            name,
            title,
            countries,
            asns,
        } => {
            let mut e = editor(global)?;
            e.add_organisation(name, title.as_deref())?;
            if !countries.is_empty() || !asns.is_empty() {
                e.set_responsibility(name, countries, asns)?;
            }
            save(&e, &format!("Added organisation '{name}'"))?;
        }
        OrgCommand::Remove { name } => {
            let mut e = editor(global)?;
            e.remove_organisation(name)?;
            save(
                &e,
                &format!("Removed organisation '{name}', its users, tokens and rights"),
            )?;
        }
        OrgCommand::List => list(global)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs) -> anyhow::Result<()> {
    let config = read_config(global)?;
    let rights = |org: &str| -> Vec<String> {
        let mut out = Vec::new();
        for (root, r) in &config.api_roots {
            for (alias, c) in &r.collections {
                let rw = match (c.can_read(org), c.can_write(org)) {
                    (true, true) => "read+write",
                    (true, false) => "read",
                    (false, true) => "write",
                    (false, false) => continue,
                };
                out.push(format!("{root}/{alias}:{rw}"));
            }
        }
        out
    };
    if global.json {
        let orgs: Vec<serde_json::Value> = config
            .organisations
            .iter()
            .map(|(name, o)| {
                serde_json::json!({
                    "name": name,
                    "title": o.title,
                    "local": *name == config.server.organisation,
                    "users": o.users.keys().collect::<Vec<_>>(),
                    "tokens": o.tokens.keys().collect::<Vec<_>>(),
                    "rights": rights(name),
                    "countries": o.countries,
                    "asns": o.asns,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&orgs)?);
        return Ok(());
    }
    for (name, o) in &config.organisations {
        let local = if *name == config.server.organisation {
            " (this node)"
        } else {
            ""
        };
        println!(
            "{name}{local}{}",
            o.title
                .as_deref()
                .map(|t| format!(" — {t}"))
                .unwrap_or_default()
        );
        println!("  users:  {}", join(o.users.keys()));
        println!("  tokens: {}", join(o.tokens.keys()));
        println!("  rights: {}", join(rights(name).iter()));
        if o.is_responsible() {
            println!(
                "  routes: countries [{}] asns [{}]",
                o.countries.join(", "),
                o.asns
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

fn join<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = items.map(String::as_str).collect();
    if v.is_empty() {
        "-".to_string()
    } else {
        v.join(", ")
    }
}

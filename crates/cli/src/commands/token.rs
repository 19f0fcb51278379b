//! `accord token`: API tokens (HTTP Bearer) of the organisations.

use std::process::ExitCode;

use accord_node::accounts::new_token;
use accord_stix::Timestamp;

use super::init::{editor, read_config, save};
use crate::context::GlobalArgs;

/// Manage API tokens (shown once at creation; only their SHA-256 is kept).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord token create sensor-push --org local\n  accord token list\n  accord token revoke sensor-push --org local"
)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token for an organisation and print it (once)
    #[command(
        after_help = "Examples:\n  accord token create sensor-push --org local\n  TOKEN=$(accord token create puller --org police)"
    )]
    Create {
        /// A name for the token (unique within the organisation)
        name: String,
        /// The organisation it acts for
        #[arg(long)]
        org: String,
    },
    /// Revoke a token
    #[command(after_help = "Example:\n  accord token revoke sensor-push --org local")]
    Revoke {
        /// The token's name
        name: String,
        /// Its organisation
        #[arg(long)]
        org: String,
    },
    /// List tokens (names and creation times, never the tokens)
    #[command(after_help = "Examples:\n  accord token list\n  accord --json token list")]
    List,
}

pub fn run(global: &GlobalArgs, args: &TokenArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        TokenCommand::Create { name, org } => {
            let token = new_token();
            let mut e = editor(global)?;
            e.add_token(org, name, &token.sha256, Timestamp::now().as_str())?;
            save(
                &e,
                &format!("Created token '{name}' for organisation '{org}'"),
            )?;
            if global.json {
                println!(
                    "{}",
                    serde_json::json!({"name": name, "organisation": org, "token": token.secret})
                );
            } else {
                println!("{}", token.secret);
                eprintln!("(shown only now; send it as: Authorization: Bearer <token>)");
            }
        }
        TokenCommand::Revoke { name, org } => {
            let mut e = editor(global)?;
            e.remove_token(org, name)?;
            save(
                &e,
                &format!("Revoked token '{name}' of organisation '{org}'"),
            )?;
        }
        TokenCommand::List => {
            let config = read_config(global)?;
            let mut rows = Vec::new();
            for (org, o) in &config.organisations {
                for (name, t) in &o.tokens {
                    rows.push((org, name, t.created.clone().unwrap_or_default()));
                }
            }
            if global.json {
                let v: Vec<_> = rows
                    .iter()
                    .map(
                        |(o, n, c)| serde_json::json!({"organisation": o, "name": n, "created": c}),
                    )
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for (o, n, c) in rows {
                    println!("{o:<24} {n:<32} {c}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `accord user`: users (HTTP Basic) of the organisations.

use std::io::BufRead as _;
use std::process::ExitCode;

use accord_node::accounts::{generate_password, hash_password};
use anyhow::{bail, Context as _};

use super::init::{editor, read_config, save};
use crate::context::GlobalArgs;

/// Environment variable a new password can be given in (instead of --password-stdin).
pub const PASSWORD_ENV: &str = "ACCORD_PASSWORD";

/// Manage users (HTTP Basic; passwords are kept as argon2id hashes).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord user add ana --org police            # generates and prints a password\n  printf '%s\\n' 'a long secret phrase' | accord user add ana --org police --password-stdin\n  accord user passwd admin\n  accord user list\n  accord user remove ana"
)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user to an organisation
    #[command(
        after_help = "Examples:\n  accord user add ana --org police            # generates and prints a password\n  ACCORD_PASSWORD='a long secret phrase' accord user add ana --org police\n  printf '%s\\n' 'a long secret phrase' | accord user add ana --org police --password-stdin"
    )]
    Add {
        /// The user name (unique across organisations)
        name: String,
        /// The organisation it belongs to
        #[arg(long)]
        org: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password
    #[command(
        after_help = "Examples:\n  accord user passwd admin                    # generates and prints a password\n  printf '%s\\n' 'a long secret phrase' | accord user passwd ana --password-stdin"
    )]
    Passwd {
        /// The user name
        name: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user
    #[command(after_help = "Example:\n  accord user remove ana")]
    Remove {
        /// The user name
        name: String,
    },
    /// List users and their organisations
    #[command(after_help = "Examples:\n  accord user list\n  accord --json user list")]
    List,
}

/// The password to set: standard input, `ACCORD_PASSWORD`, or a generated one
/// (returned second, to be shown once).
fn new_password(stdin: bool) -> anyhow::Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            bail!("no password on standard input");
        }
        return Ok((line, false));
    }
    match std::env::var(PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => Ok((p, false)),
        _ => Ok((generate_password(), true)),
    }
}

fn announce(name: &str, password: &str, generated: bool) {
    if generated {
        println!("Password for '{name}': {password}\n(shown only now)");
    }
}

pub fn run(global: &GlobalArgs, args: &UserArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        UserCommand::Add {
            name,
            org,
            password_stdin,
        } => {
            let (password, generated) = new_password(*password_stdin)?;
            let hash = hash_password(&password)?;
            let mut e = editor(global)?;
            e.add_user(org, name, &hash)?;
            save(&e, &format!("Added user '{name}' to organisation '{org}'"))?;
            announce(name, &password, generated);
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = new_password(*password_stdin)?;
            let hash = hash_password(&password)?;
            let mut e = editor(global)?;
            e.set_password(name, &hash)?;
            save(&e, &format!("Changed the password of '{name}'"))?;
            announce(name, &password, generated);
        }
        UserCommand::Remove { name } => {
            let mut e = editor(global)?;
            e.remove_user(name)?;
            save(&e, &format!("Removed user '{name}'"))?;
        }
        UserCommand::List => {
            let config = read_config(global)?;
            let users: Vec<(&String, &String)> = config
                .organisations
                .iter()
                .flat_map(|(org, o)| o.users.keys().map(move |u| (u, org)))
                .collect();
            if global.json {
                let v: Vec<_> = users
                    .iter()
                    .map(|(u, o)| serde_json::json!({"user": u, "organisation": o}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for (u, o) in users {
                    println!("{u:<32} {o}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

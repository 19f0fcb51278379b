//! `accord peer` and `accord sync`: federation peers (definitions and state kept in
//! the store; the work is `accord_node::federation`'s).

use std::process::ExitCode;
use std::sync::Arc;

use accord_node::federation::{self, Credentials, Direction, Federation, Peer, PeerEntry};
use accord_store::Durability;
use anyhow::{bail, Context as _};

use crate::context::{GlobalArgs, Node};

/// Manage federation peers: other TAXII 2.1 servers this node pulls from and pushes to.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord peer add cert-b --url https://b.example/api1/ --collection 91a7b528-80eb-42ed-a74d-c6fbd5a26116 --org cert-b --local-collection shared --token-env B_TOKEN --direction both --interval 5m\n  accord peer list\n  accord peer status\n  accord peer remove cert-b"
)]
pub struct PeerArgs {
    #[command(subcommand)]
    pub command: PeerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PeerCommand {
    /// Add (or redefine, keeping its cursors) a peer
    #[command(
        after_help = "Examples:\n  accord peer add cert-b --url https://b.example/api1/ --collection 91a7b528-80eb-42ed-a74d-c6fbd5a26116 --local-collection shared --token-env B_TOKEN\n  ACCORD_PEER_PASSWORD=… accord peer add medallion --url http://127.0.0.1:5000/api/ --collection 6c3b3c1e-4f6e-4b0e-9a51-0e1d6f7b2a10 --local-collection shared --user accord --direction both --interval 1m"
    )]
    Add(Box<AddArgs>),
    /// List the peers
    #[command(after_help = "Examples:\n  accord peer list\n  accord --json peer list")]
    List,
    /// Remove a peer and its sync state
    #[command(after_help = "Example:\n  accord peer remove cert-b")]
    Remove {
        /// The peer's name
        name: String,
    },
    /// Each peer's sync state: last success, objects in and out, lag, failures, last error
    #[command(
        after_help = "Examples:\n  accord peer status\n  accord peer status cert-b\n  accord --json peer status"
    )]
    Status {
        /// Only this peer
        name: Option<String>,
    },
}

/// `accord peer add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// A name for the peer on this node (A-Za-z0-9._-)
    pub name: String,
    /// The peer's API root URL
    #[arg(long)]
    pub url: String,
    /// The remote collection id
    #[arg(long)]
    pub collection: String,
    /// The organisation of this node's configuration the peer is (provider of what
    /// is pulled, recipient of what is pushed) [default: NAME]
    #[arg(long)]
    pub org: Option<String>,
    /// The local collection (id or alias) pulled into and pushed from
    #[arg(long, value_name = "COLLECTION")]
    pub local_collection: String,
    /// HTTP Basic user (the password in the variable named by --password-env)
    #[arg(long, conflicts_with = "token_env")]
    pub user: Option<String>,
    /// Environment variable holding the Basic password
    #[arg(long, requires = "user", default_value = "ACCORD_PEER_PASSWORD")]
    pub password_env: String,
    /// Environment variable holding a bearer token
    #[arg(long)]
    pub token_env: Option<String>,
    /// pull, push or both
    #[arg(long, default_value = "pull")]
    pub direction: String,
    /// Time between syncs inside `accord serve` (s, m, h, d)
    #[arg(long, default_value = "5m")]
    pub interval: String,
    /// PEM file of the CA that signs the peer's HTTPS certificate: only it is trusted
    /// for this peer (a private CA, a self-signed peer) [default: the system's roots]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
}

/// Sync now.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  accord sync\n  accord sync cert-b")]
pub struct SyncArgs {
    /// Only this peer [default: every peer]
    pub peer: Option<String>,
}

/// `5m` → 300.
fn interval_secs(text: &str) -> anyhow::Result<u64> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .with_context(|| format!("interval '{text}': a number and s, m, h or d"))?;
    let factor = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => bail!("interval '{text}': a number and s, m, h or d"),
    };
    Ok(n.saturating_mul(factor))
}

pub fn run(global: &GlobalArgs, args: &PeerArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    match &args.command {
        PeerCommand::Add(a) => {
            let organisation = a.org.clone().unwrap_or_else(|| a.name.clone());
            node.require_organisation(&organisation)?;
            let local_collection = node
                .collection_id(Some(&a.local_collection))?
                .unwrap_or_default();
            let credentials = match (&a.user, &a.token_env) {
                (Some(user), _) => Credentials::Basic {
                    user: user.clone(),
                    password_env: a.password_env.clone(),
                },
                (None, Some(env)) => Credentials::Token { env: env.clone() },
                (None, None) => Credentials::None,
            };
            // Kept absolute: `accord serve` may run from another directory.
            let ca_cert = match &a.ca_cert {
                Some(path) => {
                    let absolute = std::path::absolute(path)
                        .with_context(|| format!("--ca-cert {}", path.display()))?;
                    let text = absolute.display().to_string();
                    federation::read_ca_certificates(&text)?;
                    Some(text)
                }
                None => None,
            };
            let peer = Peer {
                name: a.name.clone(),
                url: a.url.clone(),
                collection: a.collection.clone(),
                organisation,
                local_collection,
                direction: a.direction.parse::<Direction>()?,
                interval_secs: interval_secs(&a.interval)?,
                credentials,
                ca_cert,
            };
            let store = node.write_store(Durability::EveryCommit)?;
            federation::add_peer(&*store, &peer)?;
            eprintln!("Peer '{}' saved ({}).", peer.name, peer.url);
        }
        PeerCommand::List => {
            let store = node.write_store(Durability::EveryCommit)?;
            let entries = federation::peers(&*store)?;
            if global.json {
                let v: Vec<&Peer> = entries.iter().map(|e| &e.peer).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for e in &entries {
                    let p = &e.peer;
                    println!(
                        "{:<20} {:<5} every {:>6}s  {} collection {} ↔ local {} (as {})",
                        p.name,
                        format!("{:?}", p.direction).to_lowercase(),
                        p.interval_secs,
                        p.url,
                        p.collection,
                        p.local_collection,
                        p.organisation
                    );
                }
            }
        }
        PeerCommand::Remove { name } => {
            let store = node.write_store(Durability::EveryCommit)?;
            if !federation::remove_peer(&*store, name)? {
                bail!("no peer '{name}'");
            }
            eprintln!("Peer '{name}' removed.");
        }
        PeerCommand::Status { name } => {
            let store = node.write_store(Durability::EveryCommit)?;
            let entries: Vec<PeerEntry> = federation::peers(&*store)?
                .into_iter()
                .filter(|e| name.as_ref().is_none_or(|n| *n == e.peer.name))
                .collect();
            if let Some(n) = name.as_ref().filter(|_| entries.is_empty()) {
                bail!("no peer '{n}'");
            }
            print_status(global, &entries)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(global: &GlobalArgs, entries: &[PeerEntry]) -> anyhow::Result<()> {
    if global.json {
        let v: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                let mut s = serde_json::to_value(&e.state).unwrap_or_default();
                if let Some(m) = s.as_object_mut() {
                    m.insert("peer".into(), e.peer.name.clone().into());
                    m.insert("lag_seconds".into(), e.state.lag_seconds().into());
                }
                s
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    for e in entries {
        let s = &e.state;
        println!("{}", e.peer.name);
        println!(
            "  last success:   {}",
            s.last_success.as_deref().unwrap_or("never")
        );
        println!(
            "  last attempt:   {}",
            s.last_attempt.as_deref().unwrap_or("never")
        );
        println!(
            "  objects in:     {} new, {} already held, {} rejected",
            s.objects_in, s.duplicates_in, s.rejected_in
        );
        println!("  objects out:    {}", s.objects_out);
        println!(
            "  deletions:      {} applied, {} pushed{}",
            s.deletions_in,
            s.deletions_out,
            match s.deletion_feed {
                Some(true) => "",
                Some(false) => " (the peer tells of no deletions: not an Accord node)",
                None => "",
            }
        );
        println!(
            "  lag:            {}",
            s.lag_seconds()
                .map_or_else(|| "unknown (never pulled)".to_string(), |l| format!("{l}s"))
        );
        println!(
            "  pull cursor:    {}",
            s.pull_after.as_deref().unwrap_or("(start)")
        );
        println!("  failures:       {} in a row", s.consecutive_failures);
        if let Some(err) = &s.last_error {
            println!("  last error:     {err}");
        }
    }
    Ok(())
}

/// The federation of this node: its store for writing, its door out with the ledger.
pub fn federation(node: &Node) -> anyhow::Result<Federation> {
    let store = node.write_store(Durability::EveryCommit)?;
    let gate = node.gate()?;
    node.publish_obligations(&store, &gate)?;
    let writer = node.ledger_writer(store.clone())?;
    let egress = Arc::new(node.egress(store.clone(), gate).with_ledger(writer));
    Ok(Federation::new(store, egress)?)
}

pub fn sync(global: &GlobalArgs, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let fed = federation(&node)?;
    let store = node.write_store(Durability::EveryCommit)?;
    let names: Vec<String> = match &args.peer {
        Some(n) => vec![n.clone()],
        None => federation::peers(&*store)?
            .into_iter()
            .map(|e| e.peer.name)
            .collect(),
    };
    let mut failed = false;
    for name in names {
        match fed.sync(&name) {
            Ok(r) => println!(
                "{name}: {} new, {} already held, {} rejected, {} pushed ({} pages); deletions: {} applied, {} pushed",
                r.pulled, r.duplicates, r.rejected, r.pushed, r.pages, r.deleted, r.deletions_pushed
            ),
            Err(e) => {
                failed = true;
                eprintln!("{name}: {e}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals() {
        assert_eq!(super::interval_secs("5m").unwrap(), 300);
        assert_eq!(super::interval_secs("30").unwrap(), 30);
        assert_eq!(super::interval_secs("2h").unwrap(), 7_200);
        assert!(super::interval_secs("5x").is_err());
        assert!(super::interval_secs("m").is_err());
    }
}

//! `accord agreement`: check, list and preview data exchange agreements.

use std::path::PathBuf;
use std::process::ExitCode;

use accord_agreements::{Agreement, Counts, UtcMicros};
use accord_node::agreements::{agreement_files, load_file, node_problems, unpublished_obligations};
use accord_node::egress::Recipient;
use accord_store::{ObjectQuery, Scope, VersionFilter};

use crate::context::{print_stdout, GlobalArgs};

/// Rows fetched at a time while previewing.
const PAGE: usize = 5_000;

/// Check, list and preview data exchange agreements.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord agreement check accord-data/agreements/telco-centre.toml\n  accord agreement list\n  accord agreement preview --recipient centre --collection shared"
)]
pub struct AgreementArgs {
    #[command(subcommand)]
    pub command: AgreementCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AgreementCommand {
    /// Validate agreement files (and load their pseudonym keys); list every problem.
    ///
    /// With a node configuration (--config, ACCORD_CONFIG or ./accord-data), also
    /// check the agreement against the node: every `scope.collections` entry must be
    /// one of its collection ids, provider and recipient must be its organisations.
    ///
    /// Exit status: 0 all valid, 1 some invalid.
    #[command(
        after_help = "Example:\n  accord agreement check examples/agreements/telco-to-cybercrime-centre.toml"
    )]
    Check {
        /// Agreement files (TOML)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write a new random pseudonym key (32 bytes, hex) to FILE, readable only by its
    /// owner, for an agreement's `pseudonym_key_file`.
    #[command(
        after_help = "Example:\n  accord agreement keygen accord-data/agreements/keys/telco-ec3-ddos.key"
    )]
    Keygen {
        /// Where to write the key (must not exist)
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// List the agreements of this node (its agreements directory).
    #[command(after_help = "Examples:\n  accord agreement list\n  accord agreement list --json")]
    List,
    /// What ORG would receive now: counts by type and TLP, and what is withheld and why.
    /// Nothing is released and nothing is recorded.
    #[command(
        after_help = "Example:\n  accord agreement preview --recipient centre --collection shared"
    )]
    Preview {
        /// The receiving organisation
        #[arg(long, value_name = "ORG")]
        recipient: String,
        /// Only objects in this collection (its id or alias) [default: the whole store]
        #[arg(short, long, value_name = "COLLECTION")]
        collection: Option<String>,
    },
}

pub fn run(global: &GlobalArgs, args: &AgreementArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        AgreementCommand::Check { files } => check(global, files),
        AgreementCommand::Keygen { file } => keygen(file),
        AgreementCommand::List => list(global),
        AgreementCommand::Preview {
            recipient,
            collection,
        } => preview(global, recipient, collection.as_deref()),
    }
}

fn check(global: &GlobalArgs, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let config = global.load_config()?;
    let mut all_valid = true;
    let mut report = Vec::new();
    for file in files {
        let checked = load_file(file).and_then(|a| {
            let problems = config
                .as_ref()
                .map(|c| node_problems(&a, c))
                .unwrap_or_default();
            if problems.is_empty() {
                Ok(a)
            } else {
                Err(problems.join("\n"))
            }
        });
        match checked {
            Ok(a) => report
                .push(serde_json::json!({"file": file, "valid": true, "agreement": summary(&a)})),
            Err(problems) => {
                all_valid = false;
                report
                    .push(serde_json::json!({"file": file, "valid": false, "problems": problems}));
            }
        }
    }
    if global.json {
        print_stdout(&serde_json::to_string_pretty(&report)?)?;
    } else {
        for (file, item) in files.iter().zip(&report) {
            if item["valid"] == true {
                let a = &item["agreement"];
                print_stdout(&format!(
                    "{}: valid — {} v{}, {} → {}, {}",
                    file.display(),
                    a["id"].as_str().unwrap_or_default(),
                    a["version"],
                    a["provider"].as_str().unwrap_or_default(),
                    a["recipient"].as_str().unwrap_or_default(),
                    a["validity"].as_str().unwrap_or_default(),
                ))?;
            } else {
                eprintln!(
                    "{}: invalid\n{}",
                    file.display(),
                    item["problems"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn list(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = global.require_config()?;
    let dir = config.agreements_dir();
    let mut rows = Vec::new();
    let mut invalid = false;
    for file in agreement_files(&dir)? {
        let checked = load_file(&file).and_then(|a| {
            let problems = node_problems(&a, &config);
            if problems.is_empty() {
                Ok(a)
            } else {
                Err(problems.join("\n"))
            }
        });
        match checked {
            Ok(a) => {
                let mut row = summary(&a);
                row["file"] = serde_json::json!(file);
                rows.push(row);
            }
            Err(problems) => {
                invalid = true;
                rows.push(serde_json::json!({"file": file, "invalid": problems}));
            }
        }
    }
    if global.json {
        print_stdout(&serde_json::to_string_pretty(&rows)?)?;
    } else if rows.is_empty() {
        print_stdout(&format!("no agreements in {}", dir.display()))?;
    } else {
        let mut text = format!(
            "{:<28} {:>3}  {:<36} {:<8} {}\n",
            "AGREEMENT", "V", "PROVIDER → RECIPIENT", "STATUS", "VALIDITY"
        );
        for r in &rows {
            if let Some(problems) = r["invalid"].as_str() {
                text.push_str(&format!(
                    "{}: INVALID: {}\n",
                    r["file"].as_str().unwrap_or_default(),
                    problems.lines().next().unwrap_or_default()
                ));
                continue;
            }
            text.push_str(&format!(
                "{:<28} {:>3}  {:<36} {:<8} {}\n",
                r["id"].as_str().unwrap_or_default(),
                // A JSON value prints without padding: format the number itself.
                r["version"].as_u64().unwrap_or_default(),
                format!(
                    "{} → {}",
                    r["provider"].as_str().unwrap_or_default(),
                    r["recipient"].as_str().unwrap_or_default()
                ),
                r["status"].as_str().unwrap_or_default(),
                r["validity"].as_str().unwrap_or_default(),
            ));
        }
        print_stdout(text.trim_end())?;
    }
    Ok(if invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The facts of an agreement shown by `check` and `list`.
fn summary(a: &Agreement) -> serde_json::Value {
    let now = UtcMicros(accord_stix::Timestamp::now().as_micros());
    let status = if a.is_active(now) {
        "active"
    } else if a.valid_from() > now {
        "pending"
    } else {
        "expired"
    };
    let until = a
        .valid_until()
        .map_or_else(|| "open-ended".to_string(), |u| u.to_stix());
    serde_json::json!({
        "id": a.id(),
        "version": a.version(),
        "title": a.title(),
        "provider": a.provider().id,
        "recipient": a.recipient().id,
        "purpose": a.purpose(),
        "legal_basis": a.legal_basis(),
        "status": status,
        "validity": format!("{} to {}", a.valid_from().to_stix(), until),
        "max_tlp": a.scope().max_tlp.name(),
        "embargo": a.protections().embargo.to_string(),
        "onward_sharing": a.obligations().onward_sharing,
    })
}

fn preview(
    global: &GlobalArgs,
    recipient: &str,
    collection: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let collection = node.collection_id(collection)?;
    node.require_organisation(recipient)?;
    let gate = node.gate()?;
    // Read-only: the store is opened so that any write would fail.
    let store = node.read_store()?;
    let pending = unpublished_obligations(
        &*store,
        &gate,
        recipient,
        collection.as_deref(),
        &node.collection_ids(),
    )?;
    let egress = node.egress(store, gate);
    let scope = match collection {
        Some(c) => Scope::Collection(c),
        None => Scope::Store,
    };
    let mut query = ObjectQuery::new(scope, PAGE);
    query.versions = VersionFilter::last();
    let mut preview = egress.preview(&Recipient::new(recipient), &query)?;
    // The obligations markings are stored when the node serves or exports to the
    // partner (not by a preview), and always released to their agreement's recipient.
    for _ in &pending {
        for counts in [
            &mut preview.total,
            preview
                .by_type
                .entry("marking-definition".to_string())
                .or_default(),
            preview.by_tlp.entry("unmarked".to_string()).or_default(),
        ] {
            counts.released += 1;
        }
    }
    if global.json {
        let counts = |c: &Counts| serde_json::json!({"released": c.released, "transformed": c.transformed, "withheld": c.withheld});
        let value = serde_json::json!({
            "recipient": recipient,
            "total": counts(&preview.total),
            "by_type": preview.by_type.iter().map(|(k, c)| (k.clone(), counts(c))).collect::<serde_json::Map<_, _>>(),
            "by_tlp": preview.by_tlp.iter().map(|(k, c)| (k.clone(), counts(c))).collect::<serde_json::Map<_, _>>(),
            "withheld_by_reason": preview.by_reason,
            "obligations_markings_not_yet_stored": pending,
        });
        print_stdout(&serde_json::to_string_pretty(&value)?)?;
    } else {
        let mut text = format!("What {recipient} would receive now (latest versions; nothing is released):\n\n{preview}");
        if !pending.is_empty() {
            text.push_str(&format!(
                "\n(counted among the released: {} obligations marking(s) that `accord serve` or `accord export --recipient {recipient}` stores first)",
                pending.len()
            ));
        }
        print_stdout(text.trim_end())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn keygen(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    use rand::RngCore as _;
    use std::io::Write as _;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(file).map_err(|e| {
        anyhow::anyhow!("cannot create {} (it must not exist): {e}", file.display())
    })?;
    writeln!(out, "{}", hex::encode(key))?;
    eprintln!("wrote a new pseudonym key to {}", file.display());
    Ok(ExitCode::SUCCESS)
}

//! `accord misp import`: MISP events (as PyMISP writes them) converted to STIX 2.1 with
//! misp-stix's mapping (`accord_misp`), then stored like `accord ingest` stores.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use accord_node::ingest::ObjectResult;
use accord_store::{Durability, Provenance, Store as _};
use anyhow::Context as _;

use crate::context::GlobalArgs;

/// MISP events in and out (out: `accord export --format misp`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord misp import event.json\n  accord misp import -c shared events/*.json\n  accord export --recipient centre --format misp -o centre.json"
)]
pub struct MispArgs {
    #[command(subcommand)]
    pub command: MispCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum MispCommand {
    /// Convert MISP events to STIX 2.1 (as misp-stix does) and store them.
    ///
    /// Each FILE holds an event, {"Event": …}, a list of them or a MISP REST answer
    /// (`-` reads standard input). An attribute or object that cannot be converted is
    /// skipped and named on stderr (event, uuid, property, rule); the rest of its event
    /// is imported. An event without a valid uuid or timestamp is refused whole.
    /// Exit status: 0 all imported, 1 something skipped or rejected, 2 error.
    #[command(
        after_help = "Examples:\n  accord misp import event.json\n  accord misp import -c shared events/*.json\n  accord misp import -o bundle.json event.json   (convert only, store nothing)"
    )]
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// MISP event JSON files (`-` for standard input)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also add the objects to this TAXII collection (its id or alias)
    #[arg(short, long, value_name = "COLLECTION")]
    pub collection: Option<String>,
    /// The providing organisation recorded as provenance [default: this node's organisation]
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// Convert only: write the STIX bundle to FILE (`-` for standard output), store nothing
    #[arg(short, long, value_name = "FILE", conflicts_with_all = ["collection", "org"])]
    pub output: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &MispArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        MispCommand::Import(a) => import(global, a),
    }
}

fn read(file: &PathBuf) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        return Ok(text);
    }
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

fn import(global: &GlobalArgs, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let mut problems = 0usize;
    if let Some(output) = &args.output {
        let mut objects = Vec::new();
        let mut events = 0;
        for file in &args.files {
            let conversion = accord_node::misp::convert(&read(file)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            problems += report(file, &conversion);
            events += conversion.events;
            objects.extend(conversion.objects);
        }
        let bundle = format!(
            "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[{}]}}\n",
            uuid::Uuid::new_v4(),
            objects.join(",")
        );
        if output.as_os_str() == "-" {
            std::io::stdout().lock().write_all(bundle.as_bytes())?;
        } else {
            std::fs::write(output, bundle)
                .with_context(|| format!("writing {}", output.display()))?;
        }
        eprintln!(
            "converted {events} events to {} STIX objects",
            objects.len()
        );
        return Ok(exit(problems));
    }
    let node = global.node()?;
    let collection = node.collection_id(args.collection.as_deref())?;
    let provider = node.organisation_or_own(args.org.as_deref())?;
    let store = node.write_store(Durability::AtSync)?;
    let provenance = Provenance::new(provider, "misp-import");
    let (mut events, mut stored, mut present, mut rejected) = (0, 0, 0, 0);
    for file in &args.files {
        let text = read(file)?;
        let (conversion, results) =
            accord_node::misp::import(&*store, &text, &provenance, collection.as_deref())?
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        problems += report(file, &conversion);
        events += conversion.events;
        for result in results {
            match result {
                ObjectResult::Stored {
                    already_present: true,
                    ..
                } => present += 1,
                ObjectResult::Stored { .. } => stored += 1,
                ObjectResult::Rejected { rejection, .. } => {
                    rejected += 1;
                    problems += 1;
                    eprintln!("{}: converted object rejected: {rejection}", file.display());
                }
            }
        }
    }
    store
        .sync()
        .context("making the imported objects durable")?;
    if global.json {
        println!(
            "{}",
            serde_json::json!({"events": events, "stored": stored, "already_present": present, "rejected": rejected, "problems": problems})
        );
    } else {
        println!(
            "imported {events} events: stored {stored} objects ({present} already present), rejected {rejected}"
        );
    }
    Ok(exit(problems))
}

/// Name on stderr each event refused and each attribute or object skipped; their count.
fn report(file: &std::path::Path, conversion: &accord_node::misp::MispConversion) -> usize {
    for e in &conversion.refused {
        eprintln!("{}: event refused: {e}", file.display());
    }
    for e in &conversion.skipped {
        eprintln!("{}: skipped: {e}", file.display());
    }
    // Kept whole, not dropped: named so the user knows what a partner's tools will see
    // as custom objects. Not a problem (exit status unchanged).
    let mut kinds: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for (_, item, kind) in &conversion.custom {
        let what = if item.starts_with("object") {
            "object template"
        } else {
            "attribute type"
        };
        *kinds.entry((what, kind.as_str())).or_default() += 1;
    }
    for ((what, kind), n) in kinds {
        eprintln!(
            "{}: kept as custom STIX (no mapping): {n} × {what} '{kind}'",
            file.display()
        );
    }
    conversion.refused.len() + conversion.skipped.len()
}

fn exit(problems: usize) -> ExitCode {
    if problems > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

//! `accord get`: print one object.

use std::process::ExitCode;

use accord_node::egress::Recipient;
use accord_store::{ObjectQuery, Scope, VersionFilter};

use crate::context::GlobalArgs;

/// Print one object by id (the latest version; all versions with --versions).
///
/// Exit status: 0 found, 1 not found, 2 error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord get indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\n  accord get --versions indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
)]
pub struct GetArgs {
    /// The object's STIX id
    pub id: String,
    /// Print every stored version (a JSON array, oldest first by arrival)
    #[arg(long)]
    pub versions: bool,
}

/// Versions fetched at most (an object with more versions is listed up to this many).
const MAX_VERSIONS: usize = 10_000;

pub fn run(global: &GlobalArgs, args: &GetArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let store = node.read_store()?;
    // This node's own organisation reads: no agreement applies.
    let egress = node.egress(store, accord_agreements::Gate::default());
    let mut query = ObjectQuery::new(Scope::Store, MAX_VERSIONS);
    query.ids = vec![args.id.clone()];
    query.versions = if args.versions {
        VersionFilter::all()
    } else {
        VersionFilter::last()
    };
    let released = egress.objects(
        &Recipient::new(egress.local_organisation().to_string()),
        &query,
        None,
    )?;
    if released.objects.is_empty() {
        eprintln!("accord: no object {}", args.id);
        return Ok(ExitCode::from(1));
    }
    let values = released
        .objects
        .iter()
        .map(|o| serde_json::from_str::<serde_json::Value>(&o.json))
        .collect::<Result<Vec<_>, _>>()?;
    let text = if args.versions {
        serde_json::to_string_pretty(&values)?
    } else {
        serde_json::to_string_pretty(&values[0])?
    };
    crate::context::print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

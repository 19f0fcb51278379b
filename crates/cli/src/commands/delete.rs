//! `accord delete`: remove an object's versions from a collection, as the node's own
//! organisation (what a TAXII `DELETE` by it does). The versions stay in the store;
//! each removed version leaves a tombstone, and federation tells the peers that
//! received it (docs/federation.md, Deletions).

use std::process::ExitCode;

use accord_stix::Timestamp;
use accord_store::{Durability, Store as _, VersionFilter};
use anyhow::Context as _;

use crate::context::GlobalArgs;

/// Remove an object (every version, or one) from a collection.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord delete -c shared indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\n  accord delete -c shared indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f --version 2026-02-01T00:00:00.000Z"
)]
pub struct DeleteArgs {
    /// The collection (id or alias)
    #[arg(short, long)]
    pub collection: String,
    /// The object id
    pub id: String,
    /// Only this version (its `modified`) [default: every version]
    #[arg(long)]
    pub version: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &DeleteArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let collection = node
        .collection_id(Some(&args.collection))?
        .unwrap_or_default();
    let versions = match &args.version {
        Some(v) => VersionFilter {
            exact: vec![Timestamp::parse(v)
                .with_context(|| format!("--version '{v}'"))?
                .as_micros()],
            ..VersionFilter::default()
        },
        None => VersionFilter::all(),
    };
    let store = node.write_store(Durability::EveryCommit)?;
    let removed = store.remove_from_collection(&collection, &args.id, &versions, None)?;
    if removed == 0 {
        eprintln!(
            "No such object (or version) in collection '{}'.",
            args.collection
        );
        return Ok(ExitCode::from(1));
    }
    eprintln!(
        "{removed} version(s) of {} removed from '{}'.",
        args.id, args.collection
    );
    Ok(ExitCode::SUCCESS)
}

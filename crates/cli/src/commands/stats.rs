//! `accord stats`: counts of what the store holds.

use std::process::ExitCode;

use accord_store::Store;

use crate::context::GlobalArgs;

/// Print counts: object versions, objects, per type, per provider, per collection, ledger.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  accord stats\n  accord stats --json")]
pub struct StatsArgs {}

pub fn run(global: &GlobalArgs, _args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let stats = store.stats()?;
    if global.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<40} {:>12}", "object versions", stats.object_versions);
    println!("{:<40} {:>12}", "objects", stats.objects);
    println!("{:<40} {:>12}", "ledger entries", stats.ledger_entries);
    for (title, rows) in [
        ("by type", &stats.by_type),
        ("by provider", &stats.by_provider),
        ("by collection", &stats.by_collection),
    ] {
        if rows.is_empty() {
            continue;
        }
        println!("\n{title}");
        for (name, count) in rows {
            println!("  {name:<38} {count:>12}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

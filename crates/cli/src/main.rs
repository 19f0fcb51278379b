//! `accord`: the command-line program of Accord.
//!
//! Arguments are parsed flat by clap, then each command module turns them into calls
//! on the libraries. Exit codes: 0 success, 1 a negative answer or rejected input (the
//! command says which), 2 an error.

mod commands;
mod context;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use context::GlobalArgs;

/// Accord: exchange threat intelligence in STIX 2.1 over TAXII 2.1, under agreements
/// the software enforces and records.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, long_about = None)]
#[command(after_help = "Examples:\n  accord serve\n  accord ingest --collection c2 bundle.json\n  accord export --type indicator -o out.json\n  accord pattern check \"[ipv4-addr:value = '198.51.100.1']\"")]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate STIX 2.1 objects and store them.
    Ingest(commands::ingest::IngestArgs),
    /// Write stored objects as a STIX 2.1 bundle (through the agreement gate).
    Export(commands::export::ExportArgs),
    /// Print one object (all its versions with --versions).
    Get(commands::get::GetArgs),
    /// Print counts of what the store holds.
    Stats(commands::stats::StatsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Ingest(args) => commands::ingest::run(&cli.global, args),
        Command::Export(args) => commands::export::run(&cli.global, args),
        Command::Get(args) => commands::get::run(&cli.global, args),
        Command::Stats(args) => commands::stats::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("accord: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

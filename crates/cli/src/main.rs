//! `accord`: the command-line program of Accord.
//!
//! Arguments are parsed flat by clap, then each command module turns them into calls
//! on the libraries. Exit codes: 0 success, 1 a negative answer or rejected input (the
//! command says which), 2 an error.

mod commands;
mod context;
mod input;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use context::GlobalArgs;

/// mimalloc: ingest and matching allocate many short-lived buffers on several threads,
/// where glibc's allocator spent a tenth of the CPU (measured: scripts/bench-ingest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Accord: exchange threat intelligence in STIX 2.1 over TAXII 2.1, under agreements
/// the software enforces and records.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  accord serve\n  accord ingest --collection shared bundle.json\n  accord export --type indicator -o out.json\n  accord pattern check \"[ipv4-addr:value = '198.51.100.1']\""
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a node: a commented configuration, an empty store, an administrator.
    Init(commands::init::InitArgs),
    /// Serve TAXII 2.1 (initialises ./accord-data on first run).
    Serve(commands::serve::ServeArgs),
    /// Validate STIX 2.1 objects and store them.
    Ingest(commands::ingest::IngestArgs),
    /// Import MISP events (converted to STIX 2.1 as MISP's misp-stix converts them).
    Misp(commands::misp::MispArgs),
    /// Write stored objects as a STIX 2.1 bundle (through the agreement gate).
    Export(commands::export::ExportArgs),
    /// Remove an object (every version, or one) from a collection; peers that received it learn of it.
    Delete(commands::delete::DeleteArgs),
    /// Print one object (all its versions with --versions).
    Get(commands::get::GetArgs),
    /// Print counts of what the store holds.
    Stats(commands::stats::StatsArgs),
    /// Values several providers report alike (addresses, domains, URLs, hashes, emails).
    Correlate(commands::analytics::CorrelateArgs),
    /// New indicators, infrastructure and sightings per day or week; emerging series.
    Trends(commands::analytics::TrendsArgs),
    /// Check STIX patterns and match them against observed data.
    Pattern(PatternArgs),
    /// Match telemetry (Zeek logs, CSV flows) against the stored indicators; store sightings.
    Match(commands::telemetry::MatchArgs),
    /// Detect behaviour nobody has named yet: look-alike (phishing) domains, C2 beacons, DDoS floods.
    Detect(commands::detect::DetectArgs),
    /// Receive NetFlow v5/v9 and IPFIX over UDP; match flows and detect C2 and DDoS in windows; store the findings.
    Collect(commands::collect::CollectArgs),
    /// Enrich the store's addresses (country, ASN, AS name from .mmdb files) and domains (registrable domain); look them up.
    Enrich(commands::enrich::EnrichArgs),
    /// Each country its part: per responsible organisation, the objects located in its countries/ASNs, through the gate (--dry-run previews).
    Route(commands::route::RouteArgs),
    /// Check, list and preview data exchange agreements.
    Agreement(commands::agreement::AgreementArgs),
    /// Verify, explain and export the ledger of releases.
    Ledger(commands::ledger::LedgerArgs),
    /// Manage the partner organisations in the configuration.
    Org(commands::org::OrgArgs),
    /// Manage users (HTTP Basic) in the configuration.
    User(commands::user::UserArgs),
    /// Manage API tokens (Bearer) in the configuration.
    Token(commands::token::TokenArgs),
    /// Manage TAXII collections and their read/write rights.
    Collection(commands::collection::CollectionArgs),
    /// Manage federation peers (TAXII 2.1 servers pulled from and pushed to).
    Peer(commands::peer::PeerArgs),
    /// Sync with the peers now (every peer, or one).
    Sync(commands::peer::SyncArgs),
}

/// `accord pattern`: the STIX 2.1 patterning language.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord pattern check \"[ipv4-addr:value = '198.51.100.1']\"\n  accord pattern match --observed observed.json \"[ipv4-addr:value = '198.51.100.1']\""
)]
struct PatternArgs {
    #[command(subcommand)]
    command: PatternCommand,
}

#[derive(Debug, Subcommand)]
enum PatternCommand {
    /// Exit 0 if PATTERN is valid STIX 2.1 patterning, 1 if not (the reason on stderr).
    #[command(
        after_help = "Example:\n  accord pattern check \"[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'c2.example.com']\""
    )]
    Check {
        /// The pattern
        pattern: String,
    },
    /// Exit 0 if PATTERN matches the observed data in FILE, 1 if not, 2 on an error.
    ///
    /// FILE is a JSON array of observed-data objects plus the SCOs they reference, or a
    /// STIX bundle (`-` for standard input).
    #[command(
        after_help = "Example:\n  accord pattern match --observed observed.json \"[ipv4-addr:value = '198.51.100.1']\""
    )]
    Match {
        /// Observed data: a JSON array or a bundle
        #[arg(long, value_name = "FILE")]
        observed: std::path::PathBuf,
        /// The pattern
        pattern: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Init(args) => commands::init::run(&cli.global, args),
        Command::Serve(args) => commands::serve::run(&cli.global, args),
        Command::Ingest(args) => commands::ingest::run(&cli.global, args),
        Command::Misp(args) => commands::misp::run(&cli.global, args),
        Command::Export(args) => commands::export::run(&cli.global, args),
        Command::Delete(args) => commands::delete::run(&cli.global, args),
        Command::Get(args) => commands::get::run(&cli.global, args),
        Command::Stats(args) => commands::stats::run(&cli.global, args),
        Command::Correlate(args) => commands::analytics::correlate_run(&cli.global, args),
        Command::Trends(args) => commands::analytics::trends_run(&cli.global, args),
        Command::Pattern(args) => Ok(match &args.command {
            PatternCommand::Check { pattern } => commands::pattern::check(pattern),
            PatternCommand::Match { observed, pattern } => {
                commands::pattern::match_observed(observed, pattern)
            }
        }),
        Command::Match(args) => commands::telemetry::run(&cli.global, args),
        Command::Detect(args) => commands::detect::run(&cli.global, args),
        Command::Collect(args) => commands::collect::run(&cli.global, args),
        Command::Enrich(args) => commands::enrich::run(&cli.global, args),
        Command::Route(args) => commands::route::run(&cli.global, args),
        Command::Agreement(args) => commands::agreement::run(&cli.global, args),
        Command::Ledger(args) => commands::ledger::run(&cli.global, args),
        Command::Org(args) => commands::org::run(&cli.global, args),
        Command::User(args) => commands::user::run(&cli.global, args),
        Command::Token(args) => commands::token::run(&cli.global, args),
        Command::Peer(args) => commands::peer::run(&cli.global, args),
        Command::Sync(args) => commands::peer::sync(&cli.global, args),
        Command::Collection(args) => commands::collection::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("accord: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

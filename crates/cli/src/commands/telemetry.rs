//! `accord match`: the command around [`super::match_cmd`]: which indicators, where the
//! sightings go.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use accord_agreements::Span;
use accord_node::ingest::{ingest_batch, IngestOptions, ObjectResult};
use accord_store::{Provenance, Store};
use accord_telemetry::Format;
use anyhow::Context as _;

use super::match_cmd;
use crate::context::{print_stdout, GlobalArgs};

/// Sightings stored per transaction.
const BATCH: usize = 5_000;

/// Telemetry formats on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Zeek ASCII logs (conn, dns, http, ssl), tab-separated with `#` headers
    ZeekTsv,
    /// Zeek JSON lines (conn, dns, http, ssl)
    ZeekJson,
    /// CSV flow records: nfdump `-o csv` or the generic layout (docs/telemetry.md)
    Csv,
}

impl FormatArg {
    /// The reader's format.
    pub fn format(self) -> Format {
        match self {
            FormatArg::ZeekTsv => Format::ZeekTsv,
            FormatArg::ZeekJson => Format::ZeekJson,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// Match telemetry against the stored indicators and store the sightings.
///
/// Reads Zeek conn/dns/http logs (TSV or JSON) and CSV flow records from files or
/// standard input. Every stored indicator in force is matched; one STIX sighting is made
/// per indicator and time window, with count, first and last seen, this node's identity
/// as where_sighted_refs and the estimated number of distinct internal hosts
/// (x_accord_distinct_hosts). Internal (customer) addresses never appear in a sighting.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord match conn.log dns.log\n  zcat conn.log.gz | accord match --format zeek-tsv --internal 10.0.0.0/8 -\n  accord match --collection shared --window 15m flows.csv"
)]
pub struct MatchArgs {
    /// Telemetry files (`-` for standard input)
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// The input format [default: detected from each input's first bytes]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// An internal (customer) network, counted but never written (repeatable)
    #[arg(long = "internal", value_name = "CIDR")]
    pub internal: Vec<String>,
    /// Length of a sighting's time window (s, m, h, d)
    #[arg(long, default_value = "1h", value_name = "SPAN")]
    pub window: String,
    /// Only indicators of this collection, and store the sightings in it (its id or alias)
    #[arg(short, long, value_name = "COLLECTION")]
    pub collection: Option<String>,
    /// The observing identity (identity--UUID) [default: the configuration's server.identity]
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// Print the sightings instead of storing them
    #[arg(long)]
    pub dry_run: bool,
    /// Never show a progress bar
    #[arg(long)]
    pub no_progress: bool,
}

pub fn run(global: &GlobalArgs, args: &MatchArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let collection = node.collection_id(args.collection.as_deref())?;
    let identity = match (&args.identity, &node.config) {
        (Some(identity), _) => identity.clone(),
        (None, Some(config)) => config.server.identity.clone(),
        (None, None) => anyhow::bail!("no observing identity: pass --identity identity--UUID or create a node with `accord init`"),
    };
    let span = Span::parse(&args.window)
        .filter(|s| s.0 > 0)
        .with_context(|| {
            format!(
                "--window {}: expected a span like 30s, 15m, 1h or 1d",
                args.window
            )
        })?;
    let window = Duration::from_micros(u64::try_from(span.0).unwrap_or(u64::MAX));
    // A dry run only reads; otherwise the sightings are stored.
    let store = if args.dry_run {
        node.read_store()?
    } else {
        node.write_store(accord_store::Durability::EveryCommit)?
    };
    // The indicators are read with local access, to which no agreement applies.
    let egress = node.egress(store.clone(), accord_agreements::Gate::default());
    let local = egress.local_organisation().to_string();
    let (indicators, unreadable) =
        accord_node::collector::load_indicators(&egress, &local, collection.as_deref())?;
    for problem in unreadable.iter().take(10) {
        eprintln!("accord: indicator skipped: {problem}");
    }
    let format = args.format.map(FormatArg::format);
    let progress = !(args.no_progress || global.json);
    let (sightings, summary) = match_cmd::run(
        &args.inputs,
        format,
        indicators,
        &identity,
        &args.internal,
        window,
        progress,
    )?;
    if args.dry_run {
        print_stdout(&serde_json::to_string_pretty(&sightings)?)?;
        eprintln!("{summary}");
        return Ok(exit_code(&summary));
    }
    let texts: Vec<String> = sightings.iter().map(serde_json::Value::to_string).collect();
    let provenance = Provenance::new(local, "match");
    let mut stored = 0usize;
    for chunk in texts.chunks(BATCH) {
        let results = ingest_batch(
            &*store,
            chunk,
            &provenance,
            collection.as_deref(),
            &IngestOptions::default(),
        )?;
        for result in results {
            match result {
                ObjectResult::Stored { .. } => stored += 1,
                ObjectResult::Rejected { rejection, .. } => {
                    anyhow::bail!(
                        "a sighting failed validation (a bug in accord match): {rejection}"
                    )
                }
            }
        }
    }
    store.sync()?;
    if global.json {
        let mut value = serde_json::to_value(&summary)?;
        value["stored"] = serde_json::json!(stored);
        print_stdout(&value.to_string())?;
    } else {
        print_stdout(&format!("{summary}\nstored:     {stored} sightings"))?;
    }
    Ok(exit_code(&summary))
}

/// 0 when every input was read to its end, 1 when one broke off.
fn exit_code(summary: &match_cmd::Summary) -> ExitCode {
    if summary.failed_inputs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

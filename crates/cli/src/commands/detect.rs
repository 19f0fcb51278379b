//! `accord detect`: behaviour detection over names and telemetry. Parsing and printing
//! only; reading the inputs, running the detectors and storing the findings is
//! `accord_node` (`accord_node::phishing`).

use std::path::PathBuf;
use std::process::ExitCode;

use accord_detect::{Finding as _, Producer};
use accord_store::{Provenance, Store as _};

use crate::context::{print_stdout, GlobalArgs};

/// `accord detect`: find what nobody has named yet.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord detect phishing --brands brands.txt domains.txt\n  accord --json detect phishing --brands brands.txt dns.log ssl.log"
)]
pub struct DetectArgs {
    #[command(subcommand)]
    pub command: DetectCommand,
}

/// The detectors.
#[derive(Debug, clap::Subcommand)]
pub enum DetectCommand {
    /// Find domains that imitate protected brands and government portals.
    Phishing(PhishingArgs),
}

/// Find look-alike (phishing) domains of protected brands.
///
/// Each FILE is a plain list of domains or URLs (one a line, `#` comments), or a Zeek
/// dns.log (queries), http.log (hosts) or ssl.log (server names), TSV or JSON; the kind
/// is told by content. Techniques: typo, homoglyph, bitsquat, tld-swap, combosquat,
/// subdomain, hyphenation, vowel-swap (docs/detect-phishing.md). The brands' own
/// domains, the allow-list and popular domains are never reported.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord detect phishing --brands brands.txt domains.txt\n  accord --json detect phishing --brands banks.txt --brands gov.txt --allow allow.txt dns.log ssl.log\n  accord detect phishing --brands brands.txt --store -c shared urls.txt"
)]
pub struct PhishingArgs {
    /// Protected brands: registrable domains, one a line, `#` comments (repeatable)
    #[arg(long, required = true, value_name = "FILE")]
    pub brands: Vec<PathBuf>,
    /// Names never reported: domains (with their subdomains), one a line (repeatable)
    #[arg(long, value_name = "FILE")]
    pub allow: Vec<PathBuf>,
    /// A newer Public Suffix List (public_suffix_list.dat) [default: the bundled list]
    #[arg(long, value_name = "FILE")]
    pub psl: Option<PathBuf>,
    /// Report findings scoring at least this (0..1)
    #[arg(long, value_name = "SCORE", default_value_t = accord_lookalike::index::DEFAULT_MIN_SCORE)]
    pub min_score: f64,
    /// Store the findings as STIX 2.1 (re-runs update, never duplicate)
    #[arg(long)]
    pub store: bool,
    /// The collection to store into (its id or alias)
    #[arg(short, long, value_name = "COLLECTION", requires = "store")]
    pub collection: Option<String>,
    /// The producing identity (identity--UUID) [default: the configuration's server.identity]
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// Domain lists, URL lists or Zeek dns/http/ssl logs (`-` for standard input)
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &DetectArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        DetectCommand::Phishing(a) => phishing(global, a),
    }
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn phishing(global: &GlobalArgs, args: &PhishingArgs) -> anyhow::Result<ExitCode> {
    use accord_node::phishing;
    if !(0.0..=1.0).contains(&args.min_score) {
        anyhow::bail!(
            "--min-score {}: expected a number from 0 to 1",
            args.min_score
        );
    }
    let index = phishing::load_index(
        &args.brands,
        &args.allow,
        args.psl.as_deref(),
        Some(args.min_score),
    )?;
    let now = now_micros();
    let (findings, summary) =
        phishing::run(&index, &args.inputs, now, &mut |w| eprintln!("accord: {w}"));
    for failure in &summary.failed_inputs {
        eprintln!("accord: {}: {}", failure.input, failure.error);
    }
    let mut stored = None;
    if args.store {
        let node = global.node()?;
        let collection = node.collection_id(args.collection.as_deref())?;
        let identity = match (&args.identity, &node.config) {
            (Some(identity), _) => identity.clone(),
            (None, Some(config)) => config.server.identity.clone(),
            (None, None) => anyhow::bail!(
                "no producing identity: pass --identity identity--UUID or create a node with `accord init`"
            ),
        };
        let store = node.write_store(accord_store::Durability::EveryCommit)?;
        let producer = Producer { identity, now };
        let provenance = Provenance::new(node.organisation().to_string(), "detect-phishing");
        let s = phishing::store_findings(
            &*store,
            &findings,
            &producer,
            &provenance,
            collection.as_deref(),
        )?;
        store.sync()?;
        stored = Some(s);
    }
    if global.json {
        let array: Vec<serde_json::Value> = findings.iter().map(|f| f.to_json()).collect();
        print_stdout(&serde_json::to_string(&array)?)?;
    } else {
        let mut out = format!(
            "{:<5}  {:<11}  {:<40}  {:<24}  {}\n",
            "SCORE", "TECHNIQUE", "DOMAIN", "IMITATES", "EVIDENCE"
        );
        for f in &findings {
            out.push_str(&format!(
                "{:<5.2}  {:<11}  {:<40}  {:<24}  {}\n",
                f.finding.score,
                f.finding.technique.as_str(),
                f.finding.domain,
                f.finding.imitates,
                f.summary()
            ));
        }
        out.push_str(&format!(
            "\n{} look-alike names; {} names and {} records read from {} inputs; {} refused",
            summary.findings, summary.names, summary.records, summary.inputs, summary.refused
        ));
        print_stdout(&out)?;
    }
    if let Some(s) = stored {
        eprintln!(
            "accord: stored {} new and {} updated objects ({} unchanged)",
            s.created, s.updated, s.unchanged
        );
    }
    Ok(if summary.failed_inputs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

//! `accord detect`: behaviour detection over names and telemetry. Parsing and printing
//! only; reading the inputs, running the detectors and storing the findings is
//! `accord_node` (`accord_node::phishing`, `accord_node::detect`,
//! `accord_node::findings`).

use std::path::PathBuf;
use std::process::ExitCode;

use accord_agreements::Span;
use accord_detect::botnet::Botnets;
use accord_detect::c2::{C2Config, C2Detector};
use accord_detect::ddos::{DdosConfig, DdosDetector};
use accord_detect::{Finding, Observer, Producer};
use accord_node::detect::{self, Windows};
use accord_store::{Provenance, Store as _};
use anyhow::Context as _;

use super::telemetry::FormatArg;
use crate::context::{print_stdout, GlobalArgs};

/// `accord detect`: find what nobody has named yet.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord detect phishing --brands brands.txt domains.txt\n  accord --json detect phishing --brands brands.txt dns.log ssl.log\n  accord detect c2 conn.log dns.log http.log ssl.log\n  accord detect c2 --internal 10.0.0.0/8 --store -c shared conn.log\n  accord detect ddos --internal 198.51.100.0/24 flows.csv\n  accord --json detect ddos conn.log"
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
    /// Find the command-and-control destinations internal hosts beacon to.
    C2(C2Args),
    /// Find floods against the internal networks, and floods leaving them.
    Ddos(DdosArgs),
}

/// Where findings go: what every detector that stores findings takes.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Store the findings as STIX 2.1 (re-runs update, never duplicate)
    #[arg(long)]
    pub store: bool,
    /// The collection to store into (its id or alias)
    #[arg(short, long, value_name = "COLLECTION", requires = "store")]
    pub collection: Option<String>,
    /// The producing identity (identity--UUID) [default: the configuration's server.identity]
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
}

/// What `detect c2` and `detect ddos` share: the telemetry, the networks, the windows
/// and where the findings go.
#[derive(Debug, clap::Args)]
pub struct TelemetryDetectArgs {
    /// Telemetry files: Zeek conn/dns/http/ssl logs (TSV or JSON) or CSV flows (`-` for standard input)
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// The input format [default: detected from each input's first bytes]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// An internal (customer) network (repeatable) [default: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7]
    #[arg(long = "internal", value_name = "CIDR")]
    pub internal: Vec<String>,
    /// Tumbling windows of telemetry time (s, m, h, d; at least 1s) [default: one window over everything read]
    #[arg(long, value_name = "SPAN")]
    pub window: Option<String>,
    #[command(flatten)]
    pub storing: StoreArgs,
}

/// Find the command-and-control (C2) destinations internal hosts talk to.
///
/// Signals: beacons (regular gaps, robust to jitter), dead C2 (regular unanswered
/// attempts), fan-in (several hosts beaconing to one destination), HTTP check-ins,
/// DGA names (NXDOMAIN bursts), long connections, HTTP to address literals
/// (docs/detect-c2.md). Give the dns/http/ssl logs of the same sensor beside conn.log:
/// names strengthen the evidence and let warninglists suppress known services.
/// Internal addresses never leave the detector: findings count internal hosts.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord detect c2 conn.log dns.log http.log ssl.log\n  accord --json detect c2 --internal 10.0.0.0/8 --warninglist tranco.json conn.log\n  zcat conn.log.gz | accord detect c2 --format zeek-tsv --store -c shared -"
)]
pub struct C2Args {
    #[command(flatten)]
    pub common: TelemetryDetectArgs,
    /// A MISP warninglist (list.json) of known-benign destinations, added to the bundled ones (repeatable)
    #[arg(long, value_name = "FILE")]
    pub warninglist: Vec<PathBuf>,
    /// Do not use the warninglists bundled with Accord (public resolvers, CRL/OCSP, OS update and push services...)
    #[arg(long)]
    pub no_bundled_warninglists: bool,
    /// Report destinations scoring at least this (0..1)
    #[arg(long, value_name = "SCORE", default_value_t = accord_detect::c2::score::REPORT_SCORE)]
    pub min_score: f64,
}

/// Find DDoS floods: inbound against customers, outbound from internal hosts.
///
/// Reads flow telemetry (Zeek conn.log, CSV flows). A target is reported when an attack
/// vector (SYN flood, UDP flood, UDP reflection, ICMP flood, TCP flood) carries at
/// least 1,000 packets/s or 10 Mbit/s over a 10-second bucket, from enough distinct
/// sources, and is most of the target's traffic (docs/detect-ddos.md). An inbound
/// finding never names the customer.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord detect ddos --internal 198.51.100.0/24 conn.log\n  accord --json detect ddos --sampling-rate 1000 flows.csv\n  accord detect ddos --window 5m --store -c shared conn.log"
)]
pub struct DdosArgs {
    #[command(flatten)]
    pub common: TelemetryDetectArgs,
    /// Multiply packet, byte and flow counts by this (records exported from a sampled collector without scaling; NetFlow decoded by Accord is already scaled)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub sampling_rate: u32,
    /// Also run the C2 detector and link each outbound flood to the C2 destinations its participants beaconed to; those C2 findings are reported too
    #[arg(long)]
    pub link_c2: bool,
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
    #[command(flatten)]
    pub storing: StoreArgs,
    /// Domain lists, URL lists or Zeek dns/http/ssl logs (`-` for standard input)
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &DetectArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        DetectCommand::Phishing(a) => phishing(global, a),
        DetectCommand::C2(a) => c2(global, a),
        DetectCommand::Ddos(a) => ddos(global, a),
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
    // Resolve the node before reading: a wrong collection fails fast.
    let target = StoreTarget::resolve(global, &args.storing)?;
    let now = now_micros();
    let (findings, summary) =
        phishing::run(&index, &args.inputs, now, &mut |w| eprintln!("accord: {w}"));
    for failure in &summary.failed_inputs {
        eprintln!("accord: {}: {}", failure.input, failure.error);
    }
    let stored = match &target {
        Some(target) => Some(target.store(
            now,
            "detect-phishing",
            findings.iter().map(|f| f as &dyn Finding),
        )?),
        None => None,
    };
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

fn c2(global: &GlobalArgs, args: &C2Args) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.min_score) {
        anyhow::bail!(
            "--min-score {}: expected a number from 0 to 1",
            args.min_score
        );
    }
    let internal = detect::internal_nets(&args.common.internal).context("--internal")?;
    let benign = detect::load_warninglists(&args.warninglist, !args.no_bundled_warninglists)
        .context("--warninglist")?;
    let config = C2Config {
        internal,
        benign,
        report_score: args.min_score,
        ..C2Config::default()
    };
    let detector: Box<dyn Observer> = Box::new(C2Detector::new(config));
    run_detector(global, &args.common, detector, "detect-c2", "C2", false)
}

fn ddos(global: &GlobalArgs, args: &DdosArgs) -> anyhow::Result<ExitCode> {
    let internal = detect::internal_nets(&args.common.internal).context("--internal")?;
    let config = DdosConfig {
        sampling_rate: args.sampling_rate,
        ..DdosConfig::with_internal(internal)
    };
    let detector: Box<dyn Observer> = if args.link_c2 {
        let c2 = C2Config {
            internal: config.internal.clone(),
            ..C2Config::default()
        };
        Box::new(Botnets::new(C2Detector::new(c2), DdosDetector::new(config)))
    } else {
        Box::new(DdosDetector::new(config))
    };
    run_detector(
        global,
        &args.common,
        detector,
        "detect-ddos",
        "DDoS",
        args.link_c2,
    )
}

/// Runs one detector over the inputs through the node, stores and prints its findings:
/// what `detect c2` and `detect ddos` share. `source` names the provenance of stored
/// objects; `what` the findings in the human summary line; `controllers_only` keeps,
/// of the C2 findings, those a flood names as its controller (`--link-c2`).
fn run_detector(
    global: &GlobalArgs,
    args: &TelemetryDetectArgs,
    detector: Box<dyn Observer>,
    source: &str,
    what: &str,
    controllers_only: bool,
) -> anyhow::Result<ExitCode> {
    let windows = match &args.window {
        None => Windows::Whole,
        Some(w) => Windows::Tumbling(
            Span::parse(w)
                .filter(|s| s.0 >= 1_000_000)
                .map(|s| s.0)
                .with_context(|| {
                    format!("--window {w}: expected a span of at least 1s like 30s, 15m, 1h or 1d")
                })?,
        ),
    };
    // Resolve the node before reading: a wrong collection fails fast.
    let target = StoreTarget::resolve(global, &args.storing)?;
    let now = now_micros();
    let run = detect::run_files(
        vec![detector],
        &args.inputs,
        args.format.map(FormatArg::format),
        windows,
        now,
        &mut |w| eprintln!("accord: {w}"),
    );
    for failure in run.failed_inputs() {
        eprintln!("accord: {}: {}", failure.input, failure.error);
    }
    let mut findings = if controllers_only {
        detect::floods_and_their_controllers(run.findings)
    } else {
        run.findings
    };
    // Best first; equal scores by subject, so the output is stable.
    findings.sort_by(|a, b| {
        b.score()
            .total_cmp(&a.score())
            .then_with(|| a.subject().cmp(&b.subject()))
    });
    let stored = match &target {
        Some(target) => Some(target.store(now, source, findings.iter().map(|f| &**f))?),
        None => None,
    };
    if global.json {
        let array: Vec<serde_json::Value> = findings.iter().map(|f| f.to_json()).collect();
        print_stdout(&serde_json::to_string(&array)?)?;
    } else {
        let mut out = format!("{:<5}  {:<40}  {}\n", "SCORE", "SUBJECT", "EVIDENCE");
        for f in &findings {
            out.push_str(&format!(
                "{:<5.2}  {:<40}  {}\n",
                f.score(),
                f.subject(),
                f.summary()
            ));
        }
        let r = &run.read;
        out.push_str(&format!(
            "\n{} {what} findings over {} window(s); {} records read from {} inputs; {} invalid records skipped",
            findings.len(),
            run.windows,
            r.records,
            r.inputs,
            r.bad_records
        ));
        print_stdout(&out)?;
    }
    if let Some(s) = stored {
        eprintln!(
            "accord: stored {} new and {} updated objects ({} unchanged)",
            s.created, s.updated, s.unchanged
        );
    }
    Ok(if run.read.failed_inputs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Where `--store` writes findings: the node, its collection, the producing identity.
struct StoreTarget {
    node: crate::context::Node,
    collection: Option<String>,
    identity: String,
}

impl StoreTarget {
    /// The target of `--store` (`None` without it), resolved before any input is read.
    fn resolve(global: &GlobalArgs, args: &StoreArgs) -> anyhow::Result<Option<Self>> {
        if !args.store {
            return Ok(None);
        }
        let node = global.node()?;
        let collection = node.collection_id(args.collection.as_deref())?;
        let identity = match (&args.identity, &node.config) {
            (Some(identity), _) => identity.clone(),
            (None, Some(config)) => config.server.identity.clone(),
            (None, None) => anyhow::bail!(
                "no producing identity: pass --identity identity--UUID or create a node with `accord init`"
            ),
        };
        Ok(Some(Self {
            node,
            collection,
            identity,
        }))
    }

    /// Stores the findings' STIX (updating, never duplicating) with provenance `source`.
    fn store<'f>(
        &self,
        now: i64,
        source: &str,
        findings: impl IntoIterator<Item = &'f dyn Finding>,
    ) -> anyhow::Result<accord_node::findings::StoreSummary> {
        let store = self
            .node
            .write_store(accord_store::Durability::EveryCommit)?;
        let producer = Producer {
            identity: self.identity.clone(),
            now,
        };
        let provenance = Provenance::new(self.node.organisation().to_string(), source);
        let summary = accord_node::findings::store_findings(
            &*store,
            findings,
            &producer,
            &provenance,
            self.collection.as_deref(),
        )?;
        store.sync()?;
        Ok(summary)
    }
}

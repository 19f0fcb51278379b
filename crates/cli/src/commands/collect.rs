//! `accord collect`: the NetFlow v5/v9 and IPFIX collector. Parses arguments, loads the
//! indicators, and prints; receiving, decoding, windowing and storing findings is
//! `accord_node::collect`, the detectors beside matching `accord_node::detect`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use accord_agreements::Span;
use accord_node::collect::{self, CollectOptions};
use accord_node::collector::Collector;
use accord_node::dnstap::DnstapAddr;
use accord_telemetry::netflow::Flow;
use anyhow::Context as _;

use crate::context::{print_stdout, GlobalArgs};

/// Receive NetFlow v5/v9 and IPFIX over UDP, and resolvers' dnstap; match flows and
/// DNS answers against the stored indicators and run the C2, DDoS and (with --brands)
/// look-alike detectors in windows; store the sightings and findings as each window
/// closes.
///
/// Names reach the collector only through dnstap (`--dnstap`): Unbound, BIND, Knot or
/// PowerDNS stream their client responses to it (docs/telemetry.md).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord collect --listen 0.0.0.0:2055 --internal 10.0.0.0/8\n  accord collect --dnstap unix:/run/accord/dnstap.sock --brands brands.txt\n  accord collect --decode-only --flows - --idle-exit 5\n\nStops on Ctrl-C or SIGTERM (the open window is finished and stored first)."
)]
pub struct CollectArgs {
    /// UDP address and port to receive on
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:2055")]
    pub listen: SocketAddr,
    /// Customer networks, only counted, never written (repeatable) [default: for matching, the other end of a match; for C2 and DDoS, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7]
    #[arg(long, value_name = "CIDR")]
    pub internal: Vec<String>,
    /// Window of telemetry time over which sightings and findings are made and stored
    #[arg(long, default_value = "5m", value_name = "SPAN")]
    pub window: String,
    /// Only indicators of this collection, and store the sightings and findings in it (its id or alias)
    #[arg(short, long, value_name = "COLLECTION")]
    pub collection: Option<String>,
    /// The observing identity (identity--UUID) [default: the configuration's server.identity]
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// Print the sightings and findings (STIX) instead of storing them
    #[arg(long)]
    pub dry_run: bool,
    /// Decode only: no node, no matching (with --flows, a decoder for other tools)
    #[arg(long)]
    pub decode_only: bool,
    /// Write every decoded flow as CSV (the generic layout of docs/telemetry.md; `-` = stdout)
    #[arg(long, value_name = "FILE")]
    pub flows: Option<PathBuf>,
    /// Stop after this many seconds without a datagram
    #[arg(long, value_name = "SECONDS")]
    pub idle_exit: Option<f64>,
    /// Stop after this many datagrams
    #[arg(long, value_name = "N")]
    pub max_datagrams: Option<u64>,
    /// Receive resolvers' dnstap here: unix:/path (or an absolute path) or tcp:ADDR:PORT
    #[arg(long, value_name = "ADDR", value_parser = clap::value_parser!(DnstapAddr))]
    pub dnstap: Option<DnstapAddr>,
    /// Over TCP, a resolver allowed to stream dnstap besides loopback: an address or a network (repeatable)
    #[arg(long, value_name = "CIDR", requires = "dnstap")]
    pub dnstap_from: Vec<String>,
    /// Protected brands for the look-alike detector over DNS names: registrable domains, one a line (repeatable; needs --dnstap)
    #[arg(long, value_name = "FILE", requires = "dnstap")]
    pub brands: Vec<PathBuf>,
    /// Names the look-alike detector never reports, one a line (repeatable)
    #[arg(long, value_name = "FILE", requires = "brands")]
    pub allow: Vec<PathBuf>,
}

/// The CSV header of `--flows`.
pub const FLOWS_HEADER: &str =
    "ts,te,src_ip,src_port,dst_ip,dst_port,proto,src_pkts,src_bytes,tcp_flags,sampling";

pub fn run(global: &GlobalArgs, args: &CollectArgs) -> anyhow::Result<ExitCode> {
    let span = Span::parse(&args.window)
        .filter(|s| s.0 >= 1_000_000)
        .with_context(|| {
            format!(
                "--window {}: expected a span of at least 1s like 30s, 15m, 1h",
                args.window
            )
        })?;
    let options = CollectOptions {
        window: span.0,
        idle_exit: args.idle_exit.map(|s| Duration::from_secs_f64(s.max(0.0))),
        max_datagrams: args.max_datagrams,
    };
    let socket =
        collect::bind(args.listen).with_context(|| format!("binding UDP {}", args.listen))?;
    eprintln!(
        "accord: collecting NetFlow v5/v9 and IPFIX on udp {}",
        socket.local_addr()?
    );
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_watcher(stop.clone());
    let mut flows_out = open_flows(args.flows.as_ref())?;
    let mut write_error: Option<std::io::Error> = None;
    let mut on_flows = |flows: &[Flow]| {
        if let (Some(out), None) = (flows_out.as_mut(), write_error.as_ref()) {
            for f in flows {
                if let Err(e) = write_flow(out, f) {
                    write_error = Some(e);
                    break;
                }
            }
        }
    };

    if args.decode_only {
        if args.dnstap.is_some() {
            anyhow::bail!("--decode-only decodes flows only: it takes no --dnstap");
        }
        let summary = collect::run(
            &socket,
            Vec::new(),
            &options,
            None,
            &stop,
            &mut on_flows,
            |_| {},
        )?;
        return finish(global, summary, flows_out, write_error, 0);
    }

    let node = global.node()?;
    let collection = node.collection_id(args.collection.as_deref())?;
    let identity = match (&args.identity, &node.config) {
        (Some(identity), _) => identity.clone(),
        (None, Some(config)) => config.server.identity.clone(),
        (None, None) => anyhow::bail!("no observing identity: pass --identity identity--UUID or create a node with `accord init`"),
    };
    let store = if args.dry_run {
        node.read_store()?
    } else {
        node.write_store(accord_store::Durability::EveryCommit)?
    };
    let egress = node.egress(store.clone(), accord_agreements::Gate::default());
    let collector = Collector {
        store,
        egress,
        identity,
        internal: args.internal.clone(),
        window: span.0,
        collection,
        dry_run: args.dry_run,
        brands: args.brands.clone(),
        allow: args.allow.clone(),
    };
    let dns = match &args.dnstap {
        Some(addr) => {
            let senders = accord_node::dnstap::parse_senders(&args.dnstap_from)
                .map_err(|e| anyhow::anyhow!("--dnstap-from {e}"))?;
            let (feed, _accepting) = accord_node::dnstap::listen(addr, senders, stop.clone())
                .with_context(|| format!("--dnstap {addr}"))?;
            eprintln!("accord: receiving dnstap on {}", feed.local);
            Some(feed)
        }
        None => None,
    };
    let (summary, stored) = collector.run(
        &socket,
        &options,
        dns.as_ref(),
        &stop,
        &mut on_flows,
        &mut |object| println!("{object}"),
        &mut |line| eprintln!("accord: {line}"),
    )?;
    finish(global, summary, flows_out, write_error, stored)
}

fn finish(
    global: &GlobalArgs,
    summary: collect::CollectSummary,
    flows_out: Option<Box<dyn Write>>,
    write_error: Option<std::io::Error>,
    stored: usize,
) -> anyhow::Result<ExitCode> {
    if let Some(mut out) = flows_out {
        out.flush().context("writing --flows")?;
    }
    if let Some(e) = write_error {
        return Err(anyhow::Error::new(e).context("writing --flows"));
    }
    if global.json {
        let mut value = serde_json::to_value(&summary)?;
        value["stored"] = serde_json::json!(stored);
        eprintln!("{value}");
    } else {
        eprintln!("{summary}\nstored:     {stored} objects");
    }
    let _ = print_stdout;
    Ok(ExitCode::SUCCESS)
}

fn open_flows(path: Option<&PathBuf>) -> anyhow::Result<Option<Box<dyn Write>>> {
    let Some(path) = path else { return Ok(None) };
    let mut out: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ))
    };
    writeln!(out, "{FLOWS_HEADER}")?;
    Ok(Some(out))
}

fn write_flow(out: &mut dyn Write, f: &Flow) -> std::io::Result<()> {
    let secs = |us: i64| {
        format!(
            "{}.{:06}",
            us.div_euclid(1_000_000),
            us.rem_euclid(1_000_000)
        )
    };
    writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{}",
        secs(f.start),
        secs(f.end),
        f.src,
        f.src_port,
        f.dst,
        f.dst_port,
        f.proto,
        f.packets,
        f.bytes,
        f.tcp_flags,
        f.sampling
    )
}

/// Sets `stop` on Ctrl-C or SIGTERM, from a small signal thread.
fn spawn_signal_watcher(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(super::serve::shutdown_signal());
        stop.store(true, Ordering::Relaxed);
    });
}

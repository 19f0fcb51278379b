//! `accord correlate` and `accord trends`: what several providers report alike, and
//! what is rising (docs/trends.md). Both answer for this node's organisation, or with
//! `--recipient ORG` over what that partner may read (k-anonymous for trends).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use accord_node::correlate::{correlate, CorrelateQuery};
use accord_node::egress::{Egress, Recipient};
use accord_node::trends::{parse_day, trends, Interval, TrendQuery};

use crate::context::GlobalArgs;

/// Values several providers report, or one reports in several collections: one
/// correlation per value, with each provider's first and last sighting, objects and
/// sightings, and the collections.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord correlate\n  accord correlate 203.0.113.7\n  accord correlate --min-providers 3 --json\n  accord correlate --recipient centre"
)]
pub struct CorrelateArgs {
    /// One value (an address, domain, URL, file hash or email address)
    pub value: Option<String>,
    /// Only values reported by at least N providers [default: 2 providers or 2 collections, or 1 provider with a VALUE]
    #[arg(long, value_name = "N")]
    pub min_providers: Option<usize>,
    /// At most this many correlations
    #[arg(long, default_value_t = 1_000)]
    pub limit: usize,
    /// Answer over what this partner may read (providers are not named to it)
    #[arg(long, value_name = "ORG")]
    pub recipient: Option<String>,
    /// A MISP warninglist (list.json) whose values are marked known-benign, beside the
    /// bundled ones (repeatable)
    #[arg(long, value_name = "FILE")]
    pub warninglist: Vec<std::path::PathBuf>,
}

/// Counts of new indicators, infrastructure and sightings per day or week, per series,
/// with emerging series flagged by a Poisson z-score against each series' history.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord trends --by type\n  accord trends --by family --interval week --since 2026-01-01\n  accord trends --by provider --json\n  accord trends --by type --recipient centre   (cells of fewer than k providers or victims suppressed)"
)]
pub struct TrendsArgs {
    /// The dimension: type, family, provider, technique, country, asn (country and asn from `accord enrich`, computed at query time)
    #[arg(long, value_name = "DIMENSION")]
    pub by: String,
    /// Bucket width: day or week (ISO weeks, Monday to Sunday, UTC)
    #[arg(long, default_value = "day", value_name = "INTERVAL")]
    pub interval: String,
    /// First day counted (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Answer over what this partner may read, k-anonymous under its agreements
    #[arg(long, value_name = "ORG")]
    pub recipient: Option<String>,
}

fn door(global: &GlobalArgs, recipient: &Option<String>) -> anyhow::Result<(Egress, Recipient)> {
    let node = global.node()?;
    let store = node.read_store()?;
    accord_node::facts::check_current(&*store)?;
    match recipient {
        Some(org) if org != node.organisation() => {
            node.require_organisation(org)?;
            let gate = node.gate()?;
            Ok((node.egress(store, gate), Recipient::new(org.clone())))
        }
        _ => Ok((
            node.egress(store, accord_agreements::Gate::default()),
            Recipient::new(node.organisation()),
        )),
    }
}

pub fn correlate_run(global: &GlobalArgs, args: &CorrelateArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let store = node.read_store()?;
    let (egress, recipient) = door(global, &args.recipient)?;
    let query = CorrelateQuery {
        value: args.value.clone(),
        min_providers: args.min_providers,
        limit: args.limit,
    };
    let found = correlate(
        &*store,
        &egress,
        &recipient,
        &query,
        &accord_node::detect::load_warninglists(&args.warninglist, true)
            .map_err(|e| anyhow::anyhow!("--warninglist: {e}"))?,
    )?;
    if global.json {
        return emit(serde_json::to_string_pretty(&found)? + "\n");
    }
    if found.is_empty() {
        eprintln!("no correlation");
    }
    // Collections by the aliases the operator gave them (ids stay in --json).
    let aliases: std::collections::HashMap<&str, &str> = node
        .config
        .iter()
        .flat_map(|config| config.collections())
        .map(|c| (c.collection.id.as_str(), c.alias))
        .collect();
    let mut out = String::new();
    for c in &found {
        let listed = c
            .warninglist
            .as_ref()
            .map_or(String::new(), |l| format!("  [known-benign: {l}]"));
        let _ = writeln!(
            out,
            "{} {}  providers {}  collections {}  objects {}  sightings {}{listed}",
            c.kind,
            c.value,
            c.provider_count,
            c.collection_count,
            c.objects.len(),
            c.sightings
        );
        for p in &c.providers {
            let _ = writeln!(
                out,
                "  {:<24} first {}  last {}  objects {}  sightings {}",
                p.provider, p.first_seen, p.last_seen, p.objects, p.sightings
            );
        }
        let named: Vec<&str> = c
            .collections
            .iter()
            .map(|id| aliases.get(id.as_str()).copied().unwrap_or(id))
            .collect();
        if !named.is_empty() {
            let _ = writeln!(out, "  in {}", named.join(", "));
        }
    }
    emit(out)
}

/// Writes `text` to standard output; a closed pipe (`| head`) ends quietly.
fn emit(text: String) -> anyhow::Result<ExitCode> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => {
            other?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn trends_run(global: &GlobalArgs, args: &TrendsArgs) -> anyhow::Result<ExitCode> {
    let interval = match args.interval.as_str() {
        "day" => Interval::Day,
        "week" => Interval::Week,
        other => anyhow::bail!("--interval takes day or week, not {other:?}"),
    };
    let known: Vec<&str> = accord_node::analytics::DIMENSIONS
        .iter()
        .chain(accord_node::trends::LOCATION_DIMENSIONS.iter())
        .copied()
        .collect();
    if !known.contains(&args.by.as_str()) {
        anyhow::bail!("--by takes one of {}, not {:?}", known.join(", "), args.by);
    }
    let since_day = match &args.since {
        Some(text) => Some(parse_day(text).ok_or_else(|| {
            anyhow::anyhow!(
                "--since: {text:?} is not a date (YYYY-MM-DD) nor an RFC 3339 timestamp"
            )
        })?),
        None => None,
    };
    let node = global.node()?;
    let store = node.read_store()?;
    let (egress, recipient) = door(global, &args.recipient)?;
    let query = TrendQuery {
        dimension: args.by.clone(),
        interval,
        since_day,
    };
    let t = trends(&*store, &egress, &recipient, &query)?;
    if global.json {
        return emit(serde_json::to_string_pretty(&t)? + "\n");
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "trends by {} per {}; test: {}",
        t.dimension, args.interval, t.test
    );
    if t.k > 1 {
        let _ = writeln!(
            out,
            "cells from fewer than {0} providers (sightings: or {0} victims) are suppressed (shown as -)",
            t.k
        );
    }
    for s in &t.series {
        let counts: Vec<String> = s
            .buckets
            .iter()
            .map(|b| b.count.map_or("-".to_string(), |c| c.to_string()))
            .collect();
        let flag = if s.emerging { "  EMERGING" } else { "" };
        let z = s.z.map_or(String::new(), |z| format!("  z {z:.2}"));
        let _ = writeln!(
            out,
            "{:<16} {:<32} from {}: {}{z}{flag}",
            s.metric,
            s.key,
            s.buckets.first().map_or("", |b| b.start.as_str()),
            counts.join(" ")
        );
    }
    emit(out)
}

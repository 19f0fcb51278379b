//! The collector as `accord collect` and `accord serve`'s `[telemetry]` run it: the
//! stored indicators loaded through the door, the observers assembled (indicator
//! matching; C2 and DDoS linked; the look-alike detector when brands are given), the
//! receive loop of [`crate::collect::run`] over NetFlow/IPFIX and dnstap, and each
//! window's sightings and findings stored as it closes.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use accord_detect::{Finding, Observer, Producer};
use accord_lookalike::PhishingObserver;
use accord_match::{Detector, DetectorConfig, IndicatorInput, Ruleset};
use accord_store::{ObjectQuery, Provenance, Scope, SqliteStore, Store, StoreError, VersionFilter};
use accord_telemetry::netflow::Flow;
use serde_json::Value;

use crate::collect::{self, CollectOptions, CollectSummary};
use crate::dnstap::{DnsFeed, DnstapAddr};
use crate::egress::{Egress, EgressError, Recipient};

/// Indicators read per page from the store.
const PAGE: usize = 10_000;

/// Why the collector could not start or store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectorError {
    /// Reading the indicators through the door failed.
    #[error("reading the indicators: {0}")]
    Egress(#[from] EgressError),
    /// A stored object is not JSON.
    #[error("a stored indicator is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The identity, window or customer networks were refused.
    #[error("{0}")]
    Config(String),
    /// The brands or allow-list files were refused.
    #[error("{0}")]
    Phishing(#[from] crate::phishing::PhishingError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Storing a window's findings failed.
    #[error("storing findings: {0}")]
    Findings(#[from] crate::findings::StoreFindingsError),
    /// A socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The `[telemetry]` section names something that does not exist.
    #[error("[telemetry] {0}")]
    Telemetry(String),
}

/// Every stored indicator (latest versions) that `reader` may read — the node's own
/// organisation for the collector and `accord match` — through the door, with the
/// indicators that could not be read, in words.
pub fn load_indicators(
    egress: &Egress,
    reader: &str,
    collection: Option<&str>,
) -> Result<(Vec<IndicatorInput>, Vec<String>), CollectorError> {
    let scope = match collection {
        Some(c) => Scope::Collection(c.to_string()),
        None => Scope::Store,
    };
    let mut query = ObjectQuery::new(scope, PAGE);
    query.types = vec!["indicator".to_string()];
    query.versions = VersionFilter::last();
    let mut indicators = Vec::new();
    let mut unreadable = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = egress.objects(&Recipient::new(reader), &query, next.as_deref())?;
        for object in &page.objects {
            let value: Value = serde_json::from_str(&object.json)?;
            match IndicatorInput::from_stix(&value) {
                Ok(indicator) => indicators.push(indicator),
                Err(e) => unreadable.push(e.to_string()),
            }
        }
        match (page.more, page.next) {
            (true, Some(token)) => next = Some(token),
            _ => return Ok((indicators, unreadable)),
        }
    }
}

/// The matcher's configuration: the observing identity, the window and the customer
/// networks (only counted, never written), each checked.
pub fn matcher_config(
    identity: &str,
    internal: &[String],
    window: Duration,
) -> Result<DetectorConfig, CollectorError> {
    let err = |e: accord_match::Error| CollectorError::Config(e.to_string());
    Ok(DetectorConfig::new(identity)
        .map_err(err)?
        .with_window(window)
        .map_err(err)?
        .with_internal(
            accord_match::InternalNets::parse(internal)
                .map_err(|e| CollectorError::Config(e.to_string()))?,
        ))
}

/// A collector, ready to run.
pub struct Collector {
    /// Where sightings go (and indicators come from).
    pub store: Arc<SqliteStore>,
    /// The door, with the node's own access, to read the indicators.
    pub egress: Egress,
    /// The observing identity.
    pub identity: String,
    /// Customer networks (for the detectors, the private ranges when empty).
    pub internal: Vec<String>,
    /// Window length, microseconds.
    pub window: i64,
    /// Indicators of, and sightings into, this collection id.
    pub collection: Option<String>,
    /// Hand the STIX objects to the caller instead of storing them.
    pub dry_run: bool,
    /// Protected brands: the look-alike detector runs over DNS names when given.
    pub brands: Vec<PathBuf>,
    /// Allow-list files of the look-alike detector.
    pub allow: Vec<PathBuf>,
}

impl Collector {
    /// Runs until `stop` (or an `options` limit); returns the summary and how many
    /// objects were stored. `on_flows` sees every decoded flow; with `dry_run`,
    /// `on_object` gets each STIX object instead of the store; `report` gets the
    /// indicators that could not be used, in words.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        self,
        socket: &UdpSocket,
        options: &CollectOptions,
        dns: Option<&DnsFeed>,
        stop: &AtomicBool,
        on_flows: &mut dyn FnMut(&[Flow]),
        on_object: &mut dyn FnMut(&Value),
        report: &mut dyn FnMut(String),
    ) -> Result<(CollectSummary, usize), CollectorError> {
        let local = self.egress.local_organisation().to_string();
        let (indicators, unreadable) =
            load_indicators(&self.egress, &local, self.collection.as_deref())?;
        for problem in unreadable.iter().take(10) {
            report(format!("indicator skipped: {problem}"));
        }
        let rules = Ruleset::compile(indicators);
        let config = matcher_config(
            &self.identity,
            &self.internal,
            Duration::from_micros(u64::try_from(self.window).unwrap_or(1_000_000)),
        )?;
        let internal = crate::detect::internal_nets(&self.internal)
            .map_err(|e| CollectorError::Config(format!("internal networks: {e}")))?;
        let index = if self.brands.is_empty() {
            None
        } else {
            Some(crate::phishing::load_index(
                &self.brands,
                &self.allow,
                None,
                None,
            )?)
        };
        // Indicator matching, the flow detectors (C2 and DDoS, linked) and, over DNS
        // names, the look-alike detector.
        let mut observers: Vec<Box<dyn Observer + '_>> =
            vec![Box::new(Detector::new(&rules, config))];
        observers.extend(crate::detect::flow_detectors(&internal));
        if let Some(index) = &index {
            observers.push(Box::new(PhishingObserver::new(index)));
        }
        let producer = Producer {
            identity: self.identity.clone(),
            now: accord_stix::Timestamp::now().as_micros(),
        };
        let provenance = Provenance::new(local, "collect");
        let mut stored = 0usize;
        let mut store_error: Option<CollectorError> = None;
        let (store, collection, dry_run) = (&self.store, self.collection.as_deref(), self.dry_run);
        let on_findings = |findings: Vec<Box<dyn Finding>>| {
            if dry_run {
                for f in &findings {
                    for object in f.to_stix(&producer) {
                        on_object(&object);
                    }
                }
                return;
            }
            let each = findings.iter().map(|f| &**f);
            match collect::store_findings(&**store, each, &producer, &provenance, collection) {
                Ok(s) => {
                    stored += s.written();
                    tracing::info!(
                        objects = s.written(),
                        unchanged = s.unchanged,
                        findings = findings.len(),
                        kinds = %kinds(&findings),
                        "collect: findings stored"
                    );
                }
                Err(e) => {
                    tracing::error!("collect: storing findings failed: {e}");
                    store_error.get_or_insert(e.into());
                }
            }
        };
        let summary = collect::run(socket, observers, options, dns, stop, on_flows, on_findings)?;
        if !dry_run {
            self.store.sync()?;
        }
        if let Some(e) = store_error {
            return Err(e);
        }
        Ok((summary, stored))
    }
}

/// The kinds of `findings` with their counts (`c2 1, sighting 3`), for the log.
fn kinds(findings: &[Box<dyn Finding>]) -> String {
    let mut by = std::collections::BTreeMap::<&str, usize>::new();
    for f in findings {
        *by.entry(f.kind()).or_default() += 1;
    }
    by.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Starts the `[telemetry]` collector of `accord serve` on its own thread (with its
/// own store connection, opened at `store_path`); it runs until `stop` is set.
/// `None` when the configuration has no `[telemetry]`.
pub fn spawn_for_serve(
    config: &crate::config::Config,
    store_path: &Path,
    stop: Arc<AtomicBool>,
) -> Result<Option<JoinHandle<()>>, CollectorError> {
    let Some(t) = config.telemetry.clone() else {
        return Ok(None);
    };
    let window = accord_agreements::Span::parse(&t.window)
        .map(|s| s.0)
        .unwrap_or(collect::DEFAULT_WINDOW);
    let collection = match &t.collection {
        Some(c) => Some(
            config
                .find_collection(None, c)
                .map_err(|e| CollectorError::Telemetry(e.to_string()))?
                .id()
                .to_string(),
        ),
        None => None,
    };
    let store = Arc::new(SqliteStore::open_with(
        store_path,
        accord_store::Durability::EveryCommit,
    )?);
    let egress = Egress::new(store.clone(), config.server.organisation.clone())
        .with_gate(accord_agreements::Gate::default())
        .with_readers(crate::egress::Readers::from(config));
    let socket = collect::bind(t.listen)?;
    tracing::info!(listen = %t.listen, "collecting NetFlow v5/v9 and IPFIX");
    let dns = match &t.dnstap {
        Some(addr) => {
            let addr: DnstapAddr = addr
                .parse()
                .map_err(|e| CollectorError::Telemetry(format!("dnstap {e}")))?;
            let senders = crate::dnstap::parse_senders(&t.dnstap_from)
                .map_err(|e| CollectorError::Telemetry(format!("dnstap_from: {e}")))?;
            let (feed, _accepting) = crate::dnstap::listen(&addr, senders, stop.clone())?;
            tracing::info!(dnstap = %feed.local, "receiving dnstap");
            Some(feed)
        }
        None => None,
    };
    let collector = Collector {
        store,
        egress,
        identity: config.server.identity.clone(),
        internal: t.internal,
        window,
        collection,
        dry_run: false,
        brands: t.brands.iter().map(|p| config.resolve(p)).collect(),
        allow: t.allow.iter().map(|p| config.resolve(p)).collect(),
    };
    Ok(Some(std::thread::spawn(move || {
        let options = CollectOptions {
            window,
            ..CollectOptions::default()
        };
        let mut report = |line: String| tracing::warn!("collect: {line}");
        match collector.run(
            &socket,
            &options,
            dns.as_ref(),
            &stop,
            &mut |_| {},
            &mut |_| {},
            &mut report,
        ) {
            Ok((summary, stored)) => tracing::info!(
                stored,
                "collector stopped: {}",
                summary.to_string().replace('\n', "; ")
            ),
            Err(e) => tracing::error!("collector failed: {e}"),
        }
    })))
}

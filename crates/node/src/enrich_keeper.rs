//! `accord serve` keeps the hub's enrichment current while it runs, as `accord enrich`
//! (no options) would: the recorded databases are read again and the objects added
//! since the last run enriched, the country/ASN trend cells counted up to them, the
//! standing routed collections delivered, and, when an agreement is scoped by
//! location, the release views decided again.
//!
//! Why: between runs, new objects have no location. A location-scoped agreement
//! withholds them (fail-closed) until someone runs `accord enrich` (and a running
//! server kept views decided before it); an operator's country/ASN trend query adds
//! them in memory at ~0.1 ms an object (BENCHMARKS.md, "Correlation and trends"), so a
//! busy hub's query grew with the time since the last run. A store never enriched is
//! left alone: the first run names its databases (`accord enrich --mmdb-country
//! F --mmdb-asn F`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use accord_store::Store;

use crate::config::Config;
use crate::egress::Egress;
use crate::enrich::{self, Databases, EnrichError, Summary};
use crate::route::Responsible;
use crate::routed::{self, Delivery};

/// How often `accord serve` brings the enrichment up to the objects stored.
pub const ENRICH_INTERVAL: Duration = Duration::from_secs(10);

/// What one [`Keeper::tick`] did (`None` when the store was never enriched).
#[derive(Debug, Default)]
pub struct Tick {
    /// The enrichment run.
    pub summary: Summary,
    /// Routed collections that received or lost objects.
    pub deliveries: Vec<Delivery>,
    /// The release views were set to be decided again (the enrichment changed and
    /// an agreement is scoped by location).
    pub views_redecided: bool,
}

/// The serve-side enrichment: the databases kept open between ticks (read again when
/// a file changes: another build replaced in place is "the database changed").
#[derive(Default)]
pub struct Keeper {
    databases: Option<(Vec<FileStamp>, Databases)>,
    /// The enrichment generation the release views were last decided with.
    seen_generation: Option<i64>,
}

/// The generation a keeper saw when the store had no enrichment (any first run
/// then changes what the views were decided with).
const NOT_ENRICHED: i64 = i64::MIN;

/// A database file as last opened: its path, length and modification time.
type FileStamp = (PathBuf, u64, Option<SystemTime>);

impl Keeper {
    /// One pass: nothing when the store was never enriched (or names no database);
    /// else an incremental (or, when a database file changed, complete) run of the
    /// recorded databases, then what follows from it (the routed collections of
    /// `config`, when given).
    pub fn tick(
        &mut self,
        store: &dyn Store,
        egress: &Egress,
        config: Option<&Config>,
    ) -> Result<Option<Tick>, EnrichError> {
        let state = store.enrichment_state()?.filter(|s| !s.sources.is_empty());
        let Some(state) = state else {
            self.seen_generation = Some(NOT_ENRICHED);
            return Ok(None);
        };
        let stamps: Vec<FileStamp> = state
            .sources
            .iter()
            .map(|s| {
                let path = PathBuf::from(&s.path);
                let meta = std::fs::metadata(&path).ok();
                let len = meta.as_ref().map_or(0, |m| m.len());
                let modified = meta.and_then(|m| m.modified().ok());
                (path, len, modified)
            })
            .collect();
        let reopen = self
            .databases
            .as_ref()
            .is_none_or(|(kept, _)| *kept != stamps);
        if reopen {
            self.databases = Some((stamps, Databases::reopen(&state)?));
        }
        let Some((_, databases)) = &self.databases else {
            return Ok(None);
        };
        let before = state.generation;
        let summary = enrich::run(store, databases, false)?;
        let deliveries = match config {
            Some(config) if !summary.up_to_date => deliver_routed(store, config)?,
            _ => Vec::new(),
        };
        let generation = store.enrichment_state()?.map_or(before, |s| s.generation);
        // Changed by this run, or by an `accord enrich` since the last tick.
        let changed = generation != before || self.seen_generation.is_some_and(|g| g != before);
        let views_redecided = changed
            && egress
                .gate()
                .agreements()
                .iter()
                .any(|a| a.scope().by_location());
        if views_redecided {
            egress.redecide_views();
        }
        self.seen_generation = Some(generation);
        Ok(Some(Tick {
            summary,
            deliveries,
            views_redecided,
        }))
    }
}

/// The standing routed collections brought up to the enrichment (what `accord
/// enrich` does after a run that changed something).
pub fn deliver_routed(store: &dyn Store, config: &Config) -> Result<Vec<Delivery>, EnrichError> {
    let routed_collections = config.routed_collections();
    if routed_collections.is_empty() {
        return Ok(Vec::new());
    }
    let collections: BTreeMap<String, String> = routed_collections
        .into_iter()
        .map(|(org, (_, c))| (org.to_owned(), c.id.clone()))
        .collect();
    let index = enrich::Index::load(store)?;
    Ok(routed::deliver(
        store,
        &index,
        &Responsible::from_config(config),
        None,
        &collections,
        false,
    )?)
}

/// Runs [`Keeper::tick`] every [`ENRICH_INTERVAL`] until `stop` is set (the first at
/// once). A failed tick is logged and tried again on the next.
pub fn keep_enriched(store: &dyn Store, egress: &Egress, config: &Config, stop: &AtomicBool) {
    let mut keeper = Keeper::default();
    crate::periodic::run_every(ENRICH_INTERVAL, stop, || {
        match keeper.tick(store, egress, Some(config)) {
            Ok(Some(tick)) if !tick.summary.up_to_date => tracing::info!(
                objects = tick.summary.objects_read,
                addresses = tick.summary.addresses,
                recomputed = tick.summary.recomputed,
                routed = tick.deliveries.len(),
                views_redecided = tick.views_redecided,
                "enrichment brought up to date"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "keeping the enrichment current failed"),
        }
    });
}

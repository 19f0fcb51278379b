//! Country and ASN trend cells kept between queries (store schema 10), so that
//! `accord trends --by country|asn` reads cells like the other dimensions instead of
//! locating every object at query time.
//!
//! The cells are those [`crate::trends`]' pass over the objects computes: the first
//! version of each id (its earliest `version`) counts where it is: an indicator or
//! infrastructure in every country (AS) of its addresses, as the stored enrichment
//! locates them; a sighting where the first version of what it sights is; `unknown`
//! when nowhere. When several providers sent that first version (one row each, in
//! arrival order), each copy counts where its own addresses are, and a sighting of
//! the id is placed dimension by dimension (`over`): in the countries of the
//! last-arrived copy that has a country, in the ASes of the last-arrived copy that
//! has an AS (so a sighting's country and AS may come from different copies). Unlike the dimensions kept at ingest, where an object is changes
//! after it arrives (`accord enrich` locates addresses later, and a new database moves
//! them), so the cells are kept by the enrichment run, not by the insert:
//!
//! - `accord enrich` counts every object it covers ([`refresh`]): all of them again
//!   when the databases changed (the facts are replaced, so every location may have
//!   moved; the cost is that of the enrichment itself, a pass over the objects),
//!   else only what changed since the cells' last count ([`delta`]): the ids with a
//!   version added since, and the sightings of those ids (whose place is theirs).
//! - A query ([`cells`]) reads the stored cells and adds, in memory, the delta of the
//!   objects added since (ingested after the last `accord enrich`): O(new objects),
//!   never O(store). When the enrichment changed without the cells following (a run
//!   interrupted between its two writes) or was never counted, it answers `None` and
//!   the caller computes the pass.
//!
//! Exactness: an object added up to the cells' bound is never located differently
//! later except by a new enrichment generation: an incremental `accord enrich` adds
//! the addresses of new objects only, each looked up in the same databases.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use accord_agreements::Location;
use accord_enrich::Subjects;
use accord_store::{
    for_each_row, LocatedDelta, LocatedState, ObjectQuery, ObjectRow, Scope, Store, StoreError,
    TrendCell, VersionFilter,
};

use crate::analytics;
use crate::enrich::{locate_in_store, Index, Place};

/// The dimensions these cells are of.
pub const DIMENSIONS: [&str; 2] = ["country", "asn"];

/// Rows per store page of a pass.
const PAGE: usize = 1_000;

/// (dimension, metric, day, key, provider) → count.
pub type Cells = BTreeMap<(String, String, i64, String, String), i64>;

/// What a [`refresh`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Refresh {
    /// Every cell was counted again (the enrichment changed, or none was counted).
    pub rebuilt: bool,
    /// Ids whose cells were (re)counted (a rebuild: every first version).
    pub objects: u64,
    /// The newest object `date_added` the cells cover.
    pub covers_until: i64,
}

/// Where objects are: the loaded index (a pass over everything) or the store, one
/// lookup per address not seen before (a few objects).
enum Locator {
    Index(Index),
    Store(HashMap<IpAddr, Place>),
}

impl Locator {
    fn locate(&mut self, store: &dyn Store, json: &str) -> Result<Location, StoreError> {
        match self {
            Locator::Index(index) => Ok(index.locate(&Subjects::of_json(json))),
            Locator::Store(cache) => locate_in_store(store, json, cache),
        }
    }
}

/// Adds `sign` × the cells of one object (its first version's analytics, from
/// `provider`, at `location`).
fn add(
    cells: &mut Cells,
    provider: &str,
    a: &accord_store::Analytics,
    location: &Location,
    sign: i64,
) {
    let countries: Vec<String> = if location.countries.is_empty() {
        vec!["unknown".to_string()]
    } else {
        location.countries.clone()
    };
    let asns: Vec<String> = if location.asns.is_empty() {
        vec!["unknown".to_string()]
    } else {
        location.asns.iter().map(|a| format!("AS{a}")).collect()
    };
    // One count per object: an infrastructure with several `infrastructure_types`
    // has one `type` row per type, all of the same metric, day and weight (the
    // provider dimension counts the first likewise, crate::analytics).
    for t in a.trends.iter().filter(|t| t.dimension == "type").take(1) {
        for (dimension, keys) in [("country", &countries), ("asn", &asns)] {
            for key in keys {
                *cells
                    .entry((
                        dimension.to_string(),
                        t.metric.to_string(),
                        t.day,
                        key.clone(),
                        provider.to_string(),
                    ))
                    .or_default() += sign * t.weight;
            }
        }
    }
}

/// The versions of ids, each read from the store once per pass: a delta counts every
/// id twice (up to its two bounds) and places each sighting by its target's versions,
/// so without it one id's versions were read up to four times (BENCHMARKS.md, "Country
/// and ASN over kept cells": the delta's cost is these reads).
struct Versions<'s> {
    store: &'s dyn Store,
    /// The latest bound asked: every version added up to it is kept.
    upto: i64,
    read: HashMap<String, Vec<ObjectRow>>,
}

/// Ids whose versions a [`Versions`] keeps at once (emptied when full: a delta after a
/// large ingest reads its ids in passes of the store's pages, not all at once).
const VERSIONS_KEPT: usize = 16_384;

impl<'s> Versions<'s> {
    fn new(store: &'s dyn Store, upto: i64) -> Self {
        Versions {
            store,
            upto,
            read: HashMap::new(),
        }
    }

    /// The first versions of `id` among its versions added up to `bound` (at most
    /// `upto`): those of its earliest `version` (several when providers sent the same
    /// version), in arrival order, as the store marks them first.
    fn first(&mut self, id: &str, bound: i64) -> Result<Vec<ObjectRow>, StoreError> {
        let bound = bound.min(self.upto);
        if !self.read.contains_key(id) {
            if self.read.len() >= VERSIONS_KEPT {
                self.read.clear();
            }
            let rows = all_versions(self.store, id, self.upto)?;
            self.read.insert(id.to_string(), rows);
        }
        let mut rows: Vec<ObjectRow> = self
            .read
            .get(id)
            .into_iter()
            .flatten()
            .filter(|r| r.date_added <= bound)
            .cloned()
            .collect();
        let Some(min) = rows.iter().map(|r| r.version_micros).min() else {
            return Ok(rows);
        };
        rows.retain(|r| r.version_micros == min);
        Ok(rows)
    }
}

/// Ids whose versions [`Versions::read_ahead`] asks the store for in one query.
const READ_AHEAD: usize = 256;

impl Versions<'_> {
    /// Reads the versions of `ids` not kept yet, [`READ_AHEAD`] ids a query (a query
    /// per id was most of a delta's time: BENCHMARKS.md).
    fn read_ahead(&mut self, ids: &[String]) -> Result<(), StoreError> {
        let wanted: Vec<&String> = ids
            .iter()
            .filter(|id| !self.read.contains_key(*id))
            .collect();
        for chunk in wanted.chunks(READ_AHEAD) {
            if self.read.len() + chunk.len() > VERSIONS_KEPT {
                self.read.clear();
            }
            let mut query = ObjectQuery::new(Scope::Store, PAGE);
            query.ids = chunk.iter().map(|id| id.to_string()).collect();
            query.versions = VersionFilter::all();
            let mut found: HashMap<String, Vec<ObjectRow>> = chunk
                .iter()
                .map(|id| (id.to_string(), Vec::new()))
                .collect();
            let upto = self.upto;
            for_each_row(self.store, query, |row| {
                if row.date_added <= upto {
                    if let Some(rows) = found.get_mut(&row.id) {
                        rows.push(row);
                    }
                }
                true
            })?;
            for (id, mut rows) in found {
                rows.sort_by_key(|r| r.date_added);
                self.read.insert(id, rows);
            }
        }
        Ok(())
    }
}

/// Every version of `id` added up to `bound`, in arrival order.
fn all_versions(store: &dyn Store, id: &str, bound: i64) -> Result<Vec<ObjectRow>, StoreError> {
    let mut query = ObjectQuery::new(Scope::Store, PAGE);
    query.ids = vec![id.to_string()];
    query.versions = VersionFilter::all();
    let mut rows: Vec<ObjectRow> = Vec::new();
    for_each_row(store, query, |row| {
        if row.id == id && row.date_added <= bound {
            rows.push(row);
        }
        true
    })?;
    rows.sort_by_key(|r| r.date_added);
    Ok(rows)
}

/// Where a sighting's target is, from the copies of its first version taken in
/// arrival order: each dimension (countries, ASes) is that of the last copy placing
/// the target somewhere in that dimension. The rule of the pass
/// (`trends::located_cells`, which keeps per dimension the keys of the last first-version
/// row that has any), so every incremental path places a sighting exactly as it does:
/// a copy known in one dimension only (a country, no AS) does not move the other.
fn over(found: &mut Location, copy: Location) {
    if !copy.countries.is_empty() {
        found.countries = copy.countries;
    }
    if !copy.asns.is_empty() {
        found.asns = copy.asns;
    }
}

/// Where the object `id` is as a sighting's target, counting versions up to `bound`:
/// its first version's copies, in arrival order, merged by [`over`]; nowhere when
/// absent or itself a sighting.
fn target_location(
    versions: &mut Versions<'_>,
    locator: &mut Locator,
    id: &str,
    bound: i64,
) -> Result<Location, StoreError> {
    let mut found = Location::default();
    for row in versions.first(id, bound)? {
        if let Some(a) = analytics::extract_text(&row.json) {
            if a.sighting_of.is_none() {
                over(&mut found, locator.locate(versions.store, &row.json)?);
            }
        }
    }
    Ok(found)
}

/// Adds `sign` × the cells of id `id` counting its versions up to `bound`.
fn add_id(
    versions: &mut Versions<'_>,
    locator: &mut Locator,
    cells: &mut Cells,
    id: &str,
    bound: i64,
    sign: i64,
) -> Result<(), StoreError> {
    for row in versions.first(id, bound)? {
        let Some(a) = analytics::extract_text(&row.json) else {
            continue;
        };
        if a.trends.is_empty() {
            continue;
        }
        let location = match &a.sighting_of {
            Some(target) => target_location(versions, locator, target, bound)?,
            None => locator.locate(versions.store, &row.json)?,
        };
        add(cells, &row.provenance.organisation, &a, &location, sign);
    }
    Ok(())
}

/// The change to the cells counted up to `from` that counts up to `to` instead:
/// the ids with a version added in between, and the sightings of those ids, each
/// taken away as it was and added as it is. Returns the cells (non-zero only) and
/// the number of ids recounted.
fn delta_with(
    store: &dyn Store,
    locator: &mut Locator,
    from: i64,
    to: i64,
) -> Result<(Cells, u64), StoreError> {
    let mut ids: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut query = ObjectQuery::new(Scope::Store, PAGE);
    query.versions = VersionFilter::all();
    query.added_after = Some(from);
    for_each_row(store, query, |row| {
        if row.date_added > to {
            return false;
        }
        if seen.insert(row.id.clone()) {
            ids.push(row.id);
        }
        true
    })?;
    let changed = ids.clone();
    // The sightings of the changed ids up to `to`, all of them: the index must hold
    // what was inserted before.
    store.settle_correlation()?;
    for id in &changed {
        for s in store.sightings_of(id)? {
            if seen.insert(s.id.clone()) {
                ids.push(s.id);
            }
        }
    }
    let mut cells = Cells::new();
    let mut versions = Versions::new(store, to);
    for chunk in ids.chunks(VERSIONS_KEPT / 2) {
        versions.read_ahead(chunk)?;
        for id in chunk {
            add_id(&mut versions, locator, &mut cells, id, from, -1)?;
            add_id(&mut versions, locator, &mut cells, id, to, 1)?;
        }
    }
    cells.retain(|_, n| *n != 0);
    Ok((cells, ids.len() as u64))
}

/// [`delta_with`], locating through the store (a few objects).
pub fn delta(store: &dyn Store, from: i64, to: i64) -> Result<Cells, StoreError> {
    let mut locator = Locator::Store(HashMap::new());
    Ok(delta_with(store, &mut locator, from, to)?.0)
}

/// Every cell, counting the versions added up to `bound`: two passes over the first
/// versions (where the sighted objects are, then the cells), O(objects) time and
/// O(located objects) memory.
pub fn count_all(store: &dyn Store, bound: i64) -> Result<(Cells, u64), StoreError> {
    let mut locator = Locator::Index(Index::load(store)?);
    let first_rows = || {
        let mut q = ObjectQuery::new(Scope::Store, PAGE);
        q.versions = VersionFilter {
            first: true,
            ..VersionFilter::default()
        };
        q
    };
    // Ids whose earliest version arrived after the bound: their first version up to
    // the bound is another one (rare: an older version sent late), looked up alone.
    let mut late: HashMap<String, i64> = HashMap::new();
    let mut places: HashMap<String, Location> = HashMap::new();
    let mut failed = None;
    for_each_row(store, first_rows(), |row| {
        if row.date_added > bound {
            late.insert(row.id, row.version_micros);
            return true;
        }
        let Some(a) = analytics::extract_text(&row.json) else {
            return true;
        };
        if a.sighting_of.is_none() {
            // Rows come in arrival order: the copies of a first version merge as
            // `target_location` merges them.
            match locator.locate(store, &row.json) {
                Ok(l) if !l.is_unknown() => over(places.entry(row.id).or_default(), l),
                Ok(_) => {}
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            }
        }
        true
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let mut cells = Cells::new();
    let mut versions = Versions::new(store, bound);
    let mut objects = 0u64;
    let mut failed = None;
    for_each_row(store, first_rows(), |row| {
        if row.date_added > bound {
            return true;
        }
        let Some(a) = analytics::extract_text(&row.json) else {
            return true;
        };
        if a.trends.is_empty() {
            return true;
        }
        objects += 1;
        let location = match &a.sighting_of {
            Some(t) if late.contains_key(t) => {
                match target_location(&mut versions, &mut locator, t, bound) {
                    Ok(l) => l,
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            }
            Some(t) => places.get(t).cloned().unwrap_or_default(),
            None => match locator.locate(store, &row.json) {
                Ok(l) => l,
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            },
        };
        add(&mut cells, &row.provenance.organisation, &a, &location, 1);
        true
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    for (id, first) in &late {
        // Versions of the earliest `version` up to the bound were counted above.
        let counted = versions
            .first(id, bound)?
            .first()
            .is_some_and(|r| r.version_micros == *first);
        if !counted {
            objects += 1;
            add_id(&mut versions, &mut locator, &mut cells, id, bound, 1)?;
        }
    }
    cells.retain(|_, n| *n != 0);
    Ok((cells, objects))
}

fn deltas(cells: Cells) -> Vec<LocatedDelta> {
    cells
        .into_iter()
        .map(
            |((dimension, metric, day, key, provider), count)| LocatedDelta {
                dimension,
                cell: TrendCell {
                    metric,
                    day,
                    key,
                    provider,
                    count,
                    victims: Vec::new(),
                },
            },
        )
        .collect()
}

/// Brings the stored cells up to the stored enrichment (called by [`crate::enrich::run`]
/// after it stores its facts). `still_valid`: the enrichment generation whose cells
/// the run left true (an incremental run only adds addresses of new objects, so cells
/// counted against the generation before it stand); `None` when every location may
/// have moved. Does nothing without an enrichment.
pub fn refresh(store: &dyn Store, still_valid: Option<i64>) -> Result<Refresh, StoreError> {
    let Some(enrichment) = store.enrichment_state()? else {
        return Ok(Refresh::default());
    };
    let to = enrichment.covers_until;
    let state = LocatedState {
        covers_until: to,
        generation: enrichment.generation,
    };
    let counted = store
        .located_state()?
        .filter(|s| s.generation == enrichment.generation || Some(s.generation) == still_valid);
    match counted {
        Some(s) if s.covers_until >= to && s.generation == enrichment.generation => Ok(Refresh {
            rebuilt: false,
            objects: 0,
            covers_until: s.covers_until,
        }),
        Some(s) => {
            let mut locator = Locator::Store(HashMap::new());
            let (cells, objects) = delta_with(store, &mut locator, s.covers_until, to)?;
            store.put_located(false, &deltas(cells), state)?;
            Ok(Refresh {
                rebuilt: false,
                objects,
                covers_until: to,
            })
        }
        None => {
            let (cells, objects) = count_all(store, to)?;
            store.put_located(true, &deltas(cells), state)?;
            Ok(Refresh {
                rebuilt: true,
                objects,
                covers_until: to,
            })
        }
    }
}

/// The cells of `dimension` (`country` or `asn`) from `since` on, for the node's
/// operator: the stored cells plus those of the objects added since they were
/// counted. `None` when the stored cells do not match the stored enrichment (never
/// counted, or the enrichment changed since): the caller counts by a pass.
pub fn cells(
    store: &dyn Store,
    dimension: &str,
    since: i64,
) -> Result<Option<Vec<TrendCell>>, StoreError> {
    let (Some(enrichment), Some(state)) = (store.enrichment_state()?, store.located_state()?)
    else {
        return Ok(None);
    };
    if enrichment.generation != state.generation {
        return Ok(None);
    }
    let stored = store.trend_cells(dimension, None, since)?;
    let head = store.feed_heads()?.objects;
    if head <= state.covers_until {
        return Ok(Some(stored));
    }
    let mut merged: BTreeMap<(String, i64, String, String), i64> = stored
        .into_iter()
        .map(|c| ((c.metric, c.day, c.key, c.provider), c.count))
        .collect();
    for ((d, metric, day, key, provider), n) in delta(store, state.covers_until, head)? {
        if d == dimension && day >= since {
            *merged.entry((metric, day, key, provider)).or_default() += n;
        }
    }
    Ok(Some(
        merged
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((metric, day, key, provider), count)| TrendCell {
                metric,
                day,
                key,
                provider,
                count,
                victims: Vec::new(),
            })
            .collect(),
    ))
}

//! A partner's trend cells, kept between its queries beside its release views, so
//! that `trends` for a partner reads cells, not objects: O(cells) per query, whatever
//! the number of sightings the partner may read.
//!
//! The cells are exactly those of a pass over what the partner may read
//! ([`crate::trends::partner_cells_by_pass`], the oracle of the property test in
//! `tests/partner_trends.rs`):
//!
//! - each id counts once, at its earliest released version across the collections the
//!   partner reads (ties: the collection first by name, then the earlier position),
//!   from the text the gate released of it, under that version's provider;
//! - a relationship from a counted object to a malware or attack pattern counts its
//!   source's first key under `family` / `technique` (the target's series name) when
//!   both ends are released to the partner ([`crate::analytics::complete`]'s rule,
//!   resolved among released objects only);
//! - `provider`: once per counted object ([`TrendKey::basis`]; a relationship counts
//!   under `family` / `technique` only);
//! - `country` / `asn`: an object where the enrichment locates the addresses of its
//!   released text, a sighting where what it sights is, `unknown` when nowhere;
//! - a cell of sightings names their victims ([`analytics::sighting_victims`], from
//!   the released text), which k-anonymity counts beside the providers.
//!
//! How it stays current: each release view tapped by a partner's trends
//! ([`super::view::ReleaseView::tap_trends`]) sends what it releases and forgets
//! ([`TrendEvent`]) at the end of each refresh. A change of an id's counted version
//! takes back what the id and what depends on it counted (the relationships with it
//! as an end, the sightings of it) and counts them again: O(what depends on the id).
//! Places follow the enrichment: a counted object whose version arrived after what
//! the enrichment covers is nowhere (`unknown`) until the enrichment covers it, even
//! when its addresses were already located for an earlier object (which the partner
//! may not read: a place before the run would tell it that someone stated the
//! address before); every object is located again when the enrichment's databases
//! change.
//!
//! Memory: one [`TrendFiling`] per released version of a type that can count
//! ([`FILED_TYPES`]) and its place in the maps, some 450 bytes with the allocator's
//! share (BENCHMARKS.md, "A partner's trends"), beside the view's own entry.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use accord_agreements::Location;
use accord_store::{Analytics, EnrichmentSource, Store, StoreError, TrendCell, TrendKey};
use smallvec::SmallVec;

use super::names::Names;
use crate::analytics;
use crate::enrich::Index;

/// Types whose released versions can count in a partner's trends: the counted ones,
/// the relationships that name their series, the series they name, and what a
/// sighting may be located by (the types with addresses of their own,
/// [`accord_enrich::Subjects`]).
pub const FILED_TYPES: [&str; 9] = [
    "indicator",
    "infrastructure",
    "sighting",
    "relationship",
    "malware",
    "attack-pattern",
    "ipv4-addr",
    "ipv6-addr",
    "url",
];

/// Whether released versions of `object_type` are filed.
pub(super) fn files(object_type: &str) -> bool {
    FILED_TYPES.contains(&object_type)
}

/// What one released version can add to its recipient's trends, from the released
/// text.
#[derive(Debug)]
pub(super) struct TrendFiling {
    provider: Arc<str>,
    /// Its own keys (dimension `type`), the first one its basis.
    trends: SmallVec<[TrendKey; 1]>,
    sighting_of: Option<Arc<str>>,
    /// A sighting's victims ([`analytics::sighting_victims`]).
    victims: Option<Victims>,
    link: Option<Box<Link>>,
    /// A malware's or attack pattern's series name.
    series: Option<Box<str>>,
    /// The addresses it is about (not a sighting's: it is where its target is).
    addresses: SmallVec<[IpAddr; 1]>,
    /// When the version entered the collection (the enrichment covers up to an
    /// arrival).
    date_added: i64,
}

/// A relationship's ends, when it counts its source in a series of its target.
#[derive(Debug)]
struct Link {
    dimension: &'static str,
    source: Arc<str>,
    target: Arc<str>,
}

impl TrendFiling {
    /// The filing of a released version of `object_type` (one of [`FILED_TYPES`]):
    /// `text` as released, `analytics` extracted from it.
    pub(super) fn of_released(
        object_type: &str,
        text: &str,
        analytics: Option<&Analytics>,
        provider: &str,
        date_added: i64,
    ) -> TrendFiling {
        let (trends, sighting_of) = match analytics {
            Some(a) => (a.trends.clone(), a.sighting_of.as_deref().map(Arc::from)),
            None => (SmallVec::new(), None),
        };
        let link = (object_type == "relationship")
            .then(|| analytics::series_link(text))
            .flatten()
            .map(|l| {
                Box::new(Link {
                    dimension: l.dimension,
                    source: Arc::from(l.source),
                    target: Arc::from(l.target),
                })
            });
        let series = analytics::series_of(text, object_type).map(String::into_boxed_str);
        let victims = sighting_of.is_some().then(|| {
            analytics::sighting_victims(text, provider)
                .into_iter()
                .map(Arc::from)
                .collect()
        });
        let addresses = if sighting_of.is_none() && analytics.is_some() {
            accord_enrich::Subjects::of_json(text)
                .addresses
                .into_iter()
                .collect()
        } else {
            SmallVec::new()
        };
        TrendFiling {
            provider: Arc::from(provider),
            trends,
            sighting_of,
            victims,
            link,
            series,
            addresses,
            date_added,
        }
    }

    /// A relationship's ends, each once.
    fn ends(&self) -> SmallVec<[Arc<str>; 2]> {
        let mut ends: SmallVec<[Arc<str>; 2]> = self
            .link
            .iter()
            .flat_map(|l| [l.source.clone(), l.target.clone()])
            .collect();
        ends.dedup();
        ends
    }

    /// What the object counts with under its provider and where it is.
    fn basis(&self) -> Option<&TrendKey> {
        TrendKey::basis(&self.trends)
    }
}

/// What a tapped view sends its recipient's cells.
#[derive(Debug)]
pub(super) enum TrendEvent {
    /// A version released at `position`, under the released `id`.
    Released {
        id: Arc<str>,
        version: i64,
        position: i64,
        filing: Box<TrendFiling>,
    },
    /// The release at `position` forgotten (decided again, or left the collection).
    Forgotten {
        id: Arc<str>,
        version: i64,
        position: i64,
    },
}

/// One released version of an id.
#[derive(Debug)]
struct Held {
    version: i64,
    collection: Arc<str>,
    position: i64,
    filing: Box<TrendFiling>,
}

impl Held {
    fn order(&self) -> (i64, &str, i64) {
        (self.version, &self.collection, self.position)
    }
}

/// A cell of one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CellKey {
    metric: &'static str,
    day: i64,
    key: Arc<str>,
    provider: Arc<str>,
}

/// A cell's count, how many contributions make it (a cell of count 0 still names
/// its provider, as the pass's does) and its sightings' victims, each with how many
/// contributions name it.
/// (A map: a provider may name a new identity in each sighting, and a cell's
/// additions and removals stay O(1) each.)
#[derive(Debug, Clone, Default)]
struct Cell {
    count: i64,
    parts: u64,
    victims: HashMap<Arc<str>, u64>,
}

impl Cell {
    fn add(&mut self, weight: i64, victims: &[Arc<str>]) {
        self.count += weight;
        self.parts += 1;
        for v in victims {
            *self.victims.entry(v.clone()).or_default() += 1;
        }
    }

    fn take(&mut self, weight: i64, victims: &[Arc<str>]) {
        self.count -= weight;
        self.parts = self.parts.saturating_sub(1);
        for v in victims {
            if let Some(n) = self.victims.get_mut(v) {
                *n -= 1;
                if *n == 0 {
                    self.victims.remove(v);
                }
            }
        }
    }

    /// Its victims as a [`TrendCell`] names them: the first
    /// [`crate::trends::VICTIMS_SHOWN`], sorted (O(victims)).
    fn shown_victims(&self) -> Vec<String> {
        let mut victims: Vec<&Arc<str>> = self.victims.keys().collect();
        let shown = crate::trends::VICTIMS_SHOWN;
        if victims.len() > shown {
            victims.select_nth_unstable(shown - 1);
            victims.truncate(shown);
        }
        victims.sort_unstable();
        victims.into_iter().map(|v| v.to_string()).collect()
    }
}

/// One contribution of a counted id.
struct Part {
    dimension: &'static str,
    metric: &'static str,
    day: i64,
    key: Cow<'static, str>,
    provider: Arc<str>,
    weight: i64,
    victims: Option<Victims>,
}

/// A sighting's victims, shared by its filing and its contributions.
type Victims = Arc<[Arc<str>]>;

/// The enrichment the places were taken from: its databases and the arrivals it
/// covers.
#[derive(Debug, Clone, PartialEq)]
struct Enrichment {
    sources: Vec<EnrichmentSource>,
    covers_until: i64,
}

/// One partner's trend cells (module docs).
#[derive(Debug, Default)]
pub(super) struct PartnerTrends {
    versions: HashMap<Arc<str>, SmallVec<[Held; 1]>>,
    /// Counted relationships by each of their ends.
    links_by_end: HashMap<Arc<str>, SmallVec<[Arc<str>; 1]>>,
    /// Counted sightings by what they sight.
    sightings_by_target: HashMap<Arc<str>, SmallVec<[Arc<str>; 1]>>,
    /// Where each counted object with addresses is.
    places: HashMap<Arc<str>, Location>,
    /// Counted objects with addresses, by arrival, that arrived after what the
    /// enrichment covered when they were located.
    unsettled: BTreeSet<(i64, Arc<str>)>,
    enrichment: Option<Enrichment>,
    cells: HashMap<&'static str, HashMap<CellKey, Cell>>,
    names: Names,
    /// Each distinct set of victims once (most sightings of a provider name the
    /// same), those no filing holds dropped whenever the set has doubled.
    victim_sets: HashSet<Victims>,
    /// The size of `victim_sets` after its last pruning.
    victim_sets_kept: usize,
}

impl PartnerTrends {
    /// The cells of `dimension` from day `since` on.
    pub(super) fn cells(&self, dimension: &str, since: i64) -> Vec<TrendCell> {
        let Some(cells) = self.cells.get(dimension) else {
            return Vec::new();
        };
        cells
            .iter()
            .filter(|(k, _)| k.day >= since)
            .map(|(k, c)| TrendCell {
                metric: k.metric.to_string(),
                day: k.day,
                key: k.key.to_string(),
                provider: k.provider.to_string(),
                count: c.count,
                victims: c.shown_victims(),
            })
            .collect()
    }

    /// Applies what a view of `collection` released and forgot, in order. The store
    /// is read (places of new addresses) before anything changes: on an error the
    /// events are left to the caller, to send again.
    pub(super) fn apply(
        &mut self,
        store: &dyn Store,
        collection: &str,
        pending: &mut Vec<TrendEvent>,
    ) -> Result<(), StoreError> {
        let events = &*pending;
        self.follow_enrichment(store)?;
        let index = Self::places_for(
            self.enrichment.is_some(),
            store,
            events.iter().flat_map(|e| {
                let (id, new) = match e {
                    TrendEvent::Released { id, filing, .. } => (id, Some(&**filing)),
                    TrendEvent::Forgotten { id, .. } => (id, None),
                };
                let held = self.versions.get(id).into_iter().flatten();
                new.into_iter()
                    .chain(held.map(|h| &*h.filing))
                    .filter(|f| self.covers(f.date_added))
                    .flat_map(|f| f.addresses.iter().copied())
            }),
        )?;
        let collection = self.name(collection);
        for event in std::mem::take(pending) {
            match event {
                TrendEvent::Released {
                    id,
                    version,
                    position,
                    mut filing,
                } => {
                    filing.provider = self.name(&filing.provider);
                    if let Some(victims) = &filing.victims {
                        filing.victims = Some(self.victim_set(victims.clone()));
                    }
                    // What a sighting sights shares the id's text when it is held
                    // (most sightings' targets are: a copy each was most of a
                    // sighting's filing).
                    if let Some(target) = &filing.sighting_of {
                        if let Some((held, _)) = self.versions.get_key_value(&**target) {
                            filing.sighting_of = Some(held.clone());
                        }
                    }
                    let held = Held {
                        version,
                        collection: collection.clone(),
                        position,
                        filing,
                    };
                    self.release(&id, held, &index);
                }
                TrendEvent::Forgotten {
                    id,
                    version,
                    position,
                } => self.forget(&id, (version, &collection, position), &index),
            }
        }
        Ok(())
    }

    fn release(&mut self, id: &Arc<str>, held: Held, index: &Index) {
        // The same position released again without being forgotten first: replaced.
        let again = self.versions.get(id).and_then(|list| {
            list.iter()
                .position(|h| h.collection == held.collection && h.position == held.position)
        });
        let first = match again {
            Some(at) => at == 0 || self.position_of(id, &held) == 0,
            None => self.position_of(id, &held) == 0,
        };
        let change = |s: &mut Self| {
            let list = s.versions.entry(id.clone()).or_default();
            if let Some(at) = again {
                list.remove(at);
            }
            let to = list.partition_point(|h| h.order() < held.order());
            list.insert(to, held);
        };
        if first {
            self.rewrite(id, index, change);
        } else {
            change(self);
        }
    }

    /// Where `held` goes among `id`'s versions.
    fn position_of(&self, id: &str, held: &Held) -> usize {
        self.versions
            .get(id)
            .map_or(0, |list| list.partition_point(|h| h.order() < held.order()))
    }

    fn forget(&mut self, id: &Arc<str>, order: (i64, &str, i64), index: &Index) {
        let Some(at) = self
            .versions
            .get(id)
            .and_then(|list| list.iter().position(|h| h.order() == order))
        else {
            return;
        };
        if at == 0 {
            self.rewrite(id, index, |s| s.take(id, 0));
        } else {
            self.take(id, at);
        }
    }

    /// Removes the version at `at` of `id`.
    fn take(&mut self, id: &str, at: usize) {
        if let Some(list) = self.versions.get_mut(id) {
            list.remove(at);
            if list.is_empty() {
                self.versions.remove(id);
            }
        }
    }

    /// Changes what `id` counts with: what it and its dependents counted is taken
    /// back, `change` applied, the id indexed and located again, and all counted anew.
    fn rewrite(&mut self, id: &Arc<str>, index: &Index, change: impl FnOnce(&mut Self)) {
        let before = self.affected(id);
        for a in &before {
            self.count(a, -1);
        }
        self.unindex(id);
        change(self);
        self.index(id, index);
        let after = self.affected(id);
        for a in &after {
            self.count(a, 1);
        }
    }

    /// `id` and what counts by it: relationships with it as an end, sightings of it.
    fn affected(&self, id: &Arc<str>) -> Vec<Arc<str>> {
        let mut out = vec![id.clone()];
        out.extend(self.links_by_end.get(id).into_iter().flatten().cloned());
        out.extend(
            self.sightings_by_target
                .get(id)
                .into_iter()
                .flatten()
                .cloned(),
        );
        out.sort_unstable();
        out.dedup();
        out
    }

    fn counted(&self, id: &str) -> Option<&TrendFiling> {
        self.versions.get(id)?.first().map(|h| &*h.filing)
    }

    /// Removes the index entries of `id`'s counted version.
    fn unindex(&mut self, id: &Arc<str>) {
        let Some(filing) = self.counted(id) else {
            return;
        };
        let ends = filing.ends();
        let target = filing.sighting_of.clone();
        let arrival = filing.date_added;
        for end in ends {
            remove_member(&mut self.links_by_end, &end, id);
        }
        if let Some(target) = target {
            remove_member(&mut self.sightings_by_target, &target, id);
        }
        self.places.remove(id);
        self.unsettled.remove(&(arrival, id.clone()));
    }

    /// Indexes `id`'s counted version and locates it with `index`.
    fn index(&mut self, id: &Arc<str>, index: &Index) {
        let Some(filing) = self.counted(id) else {
            return;
        };
        let ends = filing.ends();
        let target = filing.sighting_of.clone();
        let arrival = filing.date_added;
        // (A sighting's filing has no addresses: it is where its target is.)
        let located = (!filing.addresses.is_empty()).then(|| {
            if self.covers(arrival) {
                index.locate_addresses(&filing.addresses)
            } else {
                Location::default()
            }
        });
        for end in ends {
            self.links_by_end.entry(end).or_default().push(id.clone());
        }
        if let Some(target) = target {
            self.sightings_by_target
                .entry(target)
                .or_default()
                .push(id.clone());
        }
        if let Some(location) = located {
            self.places.insert(id.clone(), location);
            if !self.covers(arrival) {
                self.unsettled.insert((arrival, id.clone()));
            }
        }
    }

    /// Whether the enrichment covers a version that arrived at `arrival`: else it is
    /// nowhere yet, even when its addresses were located for an earlier object (the
    /// partner may not read that one: a place before the run would tell it that
    /// someone stated the address before).
    fn covers(&self, arrival: i64) -> bool {
        self.enrichment
            .as_ref()
            .is_some_and(|e| arrival <= e.covers_until)
    }

    /// Adds (`sign` 1) or takes back (-1) what `id` counts now.
    fn count(&mut self, id: &Arc<str>, sign: i64) {
        let parts = self.parts(id);
        for p in parts {
            let key = self.name(&p.key);
            let cells = self.cells.entry(p.dimension).or_default();
            let cell = CellKey {
                metric: p.metric,
                day: p.day,
                key,
                provider: p.provider,
            };
            if sign > 0 {
                cells
                    .entry(cell)
                    .or_default()
                    .add(p.weight, p.victims.as_deref().unwrap_or_default());
            } else if let Some(c) = cells.get_mut(&cell) {
                c.take(p.weight, p.victims.as_deref().unwrap_or_default());
                if c.parts == 0 {
                    cells.remove(&cell);
                }
            }
        }
    }

    /// What `id` counts now, cell by cell.
    fn parts(&self, id: &str) -> Vec<Part> {
        let mut out = Vec::new();
        let Some(f) = self.counted(id) else {
            return out;
        };
        let provider = &f.provider;
        let part = |t: &TrendKey, dimension: &'static str, key: Cow<'static, str>| Part {
            dimension,
            metric: t.metric,
            day: t.day,
            key,
            provider: provider.clone(),
            weight: t.weight,
            victims: f.victims.clone(),
        };
        for t in &f.trends {
            out.push(part(t, t.dimension, t.key.clone()));
        }
        if let Some(link) = &f.link {
            let source = self.counted(&link.source).and_then(|s| s.trends.first());
            let series = self.counted(&link.target).and_then(|t| t.series.as_deref());
            if let (Some(b), Some(name)) = (source, series) {
                out.push(part(b, link.dimension, Cow::Owned(name.to_owned())));
            }
        }
        if let Some(b) = f.basis() {
            out.push(part(b, "provider", Cow::Owned(provider.to_string())));
            let place = match &f.sighting_of {
                Some(target) => self.places.get(&**target),
                None => self.places.get(id),
            };
            let countries = place.map(|p| p.countries.as_slice()).unwrap_or_default();
            let asns = place.map(|p| p.asns.as_slice()).unwrap_or_default();
            if countries.is_empty() {
                out.push(part(b, "country", Cow::Borrowed(UNKNOWN)));
            }
            for c in countries {
                out.push(part(b, "country", Cow::Owned(c.clone())));
            }
            if asns.is_empty() {
                out.push(part(b, "asn", Cow::Borrowed(UNKNOWN)));
            }
            for a in asns {
                out.push(part(b, "asn", Cow::Owned(format!("AS{a}"))));
            }
        }
        out
    }

    /// Brings the places up to the store's enrichment: every counted object located
    /// again when its databases changed; after any other run, those that arrived
    /// after what the enrichment covered and that it covers now.
    pub(super) fn follow_enrichment(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        let now = store.enrichment_state()?.map(|s| Enrichment {
            sources: s.sources,
            covers_until: s.covers_until,
        });
        let due: Vec<Arc<str>> = match (&self.enrichment, &now) {
            (Some(was), Some(is)) if was.sources == is.sources => {
                if is.covers_until <= was.covers_until {
                    return Ok(());
                }
                self.unsettled
                    .iter()
                    .take_while(|(arrival, _)| *arrival <= is.covers_until)
                    .map(|(_, id)| id.clone())
                    .collect()
            }
            (None, None) => return Ok(()),
            _ => self.places.keys().cloned().collect(),
        };
        let covers = now.as_ref().map_or(i64::MIN, |e| e.covers_until);
        let index = Self::places_for(
            now.is_some(),
            store,
            due.iter()
                .filter_map(|id| self.counted(id))
                .filter(|f| f.date_added <= covers)
                .flat_map(|f| f.addresses.iter().copied())
                .collect::<Vec<_>>(),
        )?;
        self.enrichment = now;
        for id in &due {
            self.rewrite(id, &index, |_| {});
        }
        Ok(())
    }

    /// The stored places of `addresses` (none when nothing is `enriched`).
    fn places_for(
        enriched: bool,
        store: &dyn Store,
        addresses: impl IntoIterator<Item = IpAddr>,
    ) -> Result<Index, StoreError> {
        let mut addresses = addresses.into_iter().peekable();
        if !enriched || addresses.peek().is_none() {
            return Ok(Index::default());
        }
        Index::of_addresses(store, addresses)
    }

    fn name(&mut self, text: &str) -> Arc<str> {
        self.names.of(text)
    }

    /// The kept copy of `victims` (kept when new). The identities come from the
    /// providers' objects, so sets no filing holds any more are dropped (amortised
    /// O(1)): the memory is that of the sets held.
    fn victim_set(&mut self, victims: Victims) -> Victims {
        if let Some(kept) = self.victim_sets.get(&victims) {
            return kept.clone();
        }
        if self.victim_sets.len() >= 2 * self.victim_sets_kept.max(512) {
            self.victim_sets.retain(|v| Arc::strong_count(v) > 1);
            self.victim_sets_kept = self.victim_sets.len();
        }
        self.victim_sets.insert(victims.clone());
        victims
    }
}

/// The key of objects nowhere located.
const UNKNOWN: &str = "unknown";

/// Removes one `member` from the list at `key` (dropping the list when empty).
fn remove_member(map: &mut HashMap<Arc<str>, SmallVec<[Arc<str>; 1]>>, key: &str, member: &str) {
    if let Some(list) = map.get_mut(key) {
        if let Some(at) = list.iter().position(|m| &**m == member) {
            list.swap_remove(at);
        }
        if list.is_empty() {
            map.remove(key);
        }
    }
}

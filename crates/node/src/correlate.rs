//! Correlation: the same observable value stated (or sighted) by several providers, or
//! reported in several collections, is one correlation (docs/trends.md). The store
//! keeps, at ingest, each distinct value once, the object versions stating it and who
//! reported it, a provider in a collection (`accord_store::Analytics`): memory in
//! distinct values and objects, never in pairs.
//!
//! The operator's query reads that index: its candidates, then the objects behind each.
//! A partner's reads only what its release views release ([`ReleasedReader`]): each
//! object version and each sighting counts only when the gate releases it to the
//! partner ([`ReleasedReader::texts`]) and the released text still states the value (a
//! redaction or pseudonymisation may remove it). A count over withheld objects would
//! tell the partner that withheld objects exist, and so would an answer whose time
//! grew with them: the index (store-wide, withheld objects included) is not read for a
//! partner at all.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use accord_detect::Warninglists;
use accord_store::{ObjectRow, Store, ValueRow};
use serde::Serialize;

use crate::analytics::extract_text;
use crate::egress::{Egress, HeldRow, ReleasedReader};
use crate::egress::{EgressError, Recipient};
use crate::enforcement::Kind;

/// Most correlations one listing returns.
pub const MAX_CORRELATIONS: usize = 10_000;

/// One provider's part of a correlation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderPart {
    /// The provider (for a partner: `provider-1`, `provider-2`... in order of first
    /// sight, so a partner learns how many providers agree, not who they are).
    pub provider: String,
    /// Earliest instant it stated or sighted the value (RFC 3339).
    pub first_seen: String,
    /// Latest such instant.
    pub last_seen: String,
    /// Object versions of this provider stating the value.
    pub objects: u64,
    /// Sum of the `count` of this provider's sightings of those objects.
    pub sightings: u64,
    #[serde(skip)]
    first_us: i64,
    #[serde(skip)]
    last_us: i64,
}

/// One correlated value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correlation {
    /// `ip`, `cidr`, `domain`, `url`, `file-hash` or `email`.
    pub kind: String,
    /// The normalised value.
    pub value: String,
    /// How many providers.
    pub provider_count: usize,
    /// Each provider's part, by first sight.
    pub providers: Vec<ProviderPart>,
    /// How many collections.
    pub collection_count: usize,
    /// The collections (ids) the objects were reported in, sorted: for the node's
    /// operator the collection each stating or sighting version's insert added it to;
    /// for a partner those it reads them in.
    pub collections: Vec<String>,
    /// The ids of the objects (stating the value, then sighting it), as the asker
    /// holds them.
    pub objects: Vec<String>,
    /// Total sightings.
    pub sightings: u64,
    /// The known-benign list the value is on, if any (with `accord export`, such
    /// values are left out of blocking formats by default).
    pub warninglist: Option<String>,
}

/// What to correlate.
#[derive(Debug, Clone)]
pub struct CorrelateQuery {
    /// One value (of any kind), or every shared value.
    pub value: Option<String>,
    /// Correlations with fewer providers are left out (at least 1 with a value, 2
    /// without). `None`: with a value, every correlation of it; without, the values
    /// reported by two providers or in two collections at least.
    pub min_providers: Option<usize>,
    /// At most this many correlations.
    pub limit: usize,
}

/// Correlations visible to `recipient` (the node's own organisation sees all).
///
/// The operator's include everything inserted before the call (the index is settled
/// first), and are the most shared values, read from the index in that order.
///
/// A partner's are computed from its release views alone, so neither which values
/// rank first store-wide (withheld objects included), nor how many values are shared
/// store-wide, nor how many withheld objects state or sight a value it names may
/// choose them or time them: the candidates are the values stated in what its views
/// release (`partner_candidates`, O(what it may read)), each built from the released
/// versions stating it and the released sightings of them (`build_for_partner`,
/// O(what it may read of the value)), and the answer is the best `limit` by what the
/// partner may read (docs/trends.md).
pub fn correlate(
    store: &dyn Store,
    egress: &Egress,
    recipient: &Recipient,
    query: &CorrelateQuery,
    warninglists: &Warninglists,
) -> Result<Vec<Correlation>, EgressError> {
    let local = recipient.organisation == egress.local_organisation();
    if local {
        // The operator's answer counts what was just inserted. A partner's reads the
        // index as it stands: a wait for the follower would time everyone's recent
        // inserts, withheld ones included (`Store::settle_correlation`).
        store.settle_correlation()?;
    }
    let limit = query.limit.min(MAX_CORRELATIONS);
    let least = Least::of(query);
    // The index counts who reported a value as sources, a provider in a collection
    // (at least as many as its providers), so its count can only pre-filter.
    let min = i64::try_from(least.providers.max(2)).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let keep = |c: Option<Correlation>, out: &mut Vec<Correlation>| {
        if let Some(c) = c.filter(|c| least.kept(c)) {
            out.push(c);
        }
    };
    match (&query.value, local) {
        (Some(v), true) => {
            for candidate in store.values_named(v)? {
                if (candidate.providers as usize) >= least.providers {
                    keep(build_local(store, &candidate, warninglists)?, &mut out);
                }
            }
        }
        (None, true) => {
            // Candidates come most sources first; those that do not qualify (with
            // `--min-providers`, a value of one provider in many collections has many
            // sources) must not leave the answer short while the index holds more: a
            // larger batch is read until `limit` are kept or the index has no more.
            let mut batch = limit.saturating_mul(4).max(1);
            let mut built = HashSet::new();
            'candidates: loop {
                let candidates = store.shared_values(min, batch)?;
                let last = candidates.len() < batch;
                for candidate in candidates {
                    if !built.insert(candidate.vid) {
                        continue;
                    }
                    keep(build_local(store, &candidate, warninglists)?, &mut out);
                    if out.len() >= limit {
                        break 'candidates;
                    }
                }
                if last {
                    break;
                }
                batch = batch.saturating_mul(2);
            }
        }
        (Some(v), false) => {
            let reader = egress.released_reader(recipient)?;
            for kind in Kind::ALL {
                keep(
                    build_for_partner(&reader, kind.name(), v, warninglists)?,
                    &mut out,
                );
            }
        }
        (None, false) => {
            let reader = egress.released_reader(recipient)?;
            for (kind, value) in partner_candidates(egress, recipient, least)? {
                let c = build_for_partner(&reader, kind, &value, warninglists)?;
                keep(c, &mut out);
                // Only the best `limit` are kept (memory stays O(limit)).
                if out.len() > limit.saturating_mul(2) {
                    rank(&mut out);
                    out.truncate(limit);
                }
            }
        }
    }
    rank(&mut out);
    out.truncate(limit);
    Ok(out)
}

/// Which correlations an answer keeps.
#[derive(Debug, Clone, Copy)]
struct Least {
    /// Providers at least.
    providers: usize,
    /// Or, instead, two collections at least (a listing asked for no minimum).
    or_collections: bool,
}

impl Least {
    /// With a value, its correlations of `min_providers` providers (1 when not
    /// given); without, the values the asker sees shared by `min_providers` providers
    /// (at least 2), or when not given, by two providers or in two collections.
    /// Without a value, a partner's answer keeps only what it sees shared itself: a
    /// value listed with one provider and one collection it may read would say that
    /// another, withheld, reports it too.
    fn of(query: &CorrelateQuery) -> Least {
        match (&query.value, query.min_providers) {
            (Some(_), min) => Least {
                providers: min.unwrap_or(1).max(1),
                or_collections: false,
            },
            (None, Some(min)) => Least {
                providers: min.max(2),
                or_collections: false,
            },
            (None, None) => Least {
                providers: 2,
                or_collections: true,
            },
        }
    }

    fn kept(&self, c: &Correlation) -> bool {
        self.met(c.provider_count, c.collection_count)
    }

    fn met(&self, providers: usize, collections: usize) -> bool {
        providers >= self.providers || (self.or_collections && collections >= 2)
    }
}

/// The values a partner sees shared ([`Least`]), from the versions its release views
/// release (`Egress::released_rows`): each value stated by a released version, with
/// the providers and collections of the released versions stating it and of the
/// released sightings of their ids. O(what the partner may read): the index's shared
/// values, withheld ones included, are not read, so the answer's time does not tell how
/// many there are. Each is then built as a query naming it would be
/// (`build_for_partner`), so the answer is the same.
fn partner_candidates(
    egress: &Egress,
    recipient: &Recipient,
    least: Least,
) -> Result<Vec<(&'static str, String)>, EgressError> {
    // Who reported: (provider, collection).
    type Reporter = (String, String);
    // Value → the (stored id, reporter) of each released version stating it.
    let mut stating: HashMap<(&'static str, String), Vec<(String, Reporter)>> = HashMap::new();
    // Sighted id → the reporters of its released sightings.
    let mut sighters: HashMap<String, BTreeSet<Reporter>> = HashMap::new();
    for collection in egress.readable_collections(&recipient.organisation)? {
        egress.released_rows(recipient, &collection, |rows| {
            let released = egress.released_texts_in(recipient, &collection, &rows)?;
            for (row, text) in rows.into_iter().zip(released) {
                let Some(text) = text else { continue };
                let Some(analytics) = extract_text(&text) else {
                    continue;
                };
                let reporter = (row.provenance.organisation, collection.clone());
                if let Some(target) = analytics.sighting_of {
                    sighters.entry(target).or_default().insert(reporter.clone());
                }
                for value in analytics.values {
                    stating
                        .entry(value)
                        .or_default()
                        .push((row.id.clone(), reporter.clone()));
                }
            }
            Ok(())
        })?;
    }
    let mut candidates = Vec::new();
    for (value, versions) in stating {
        let mut reporters: BTreeSet<&Reporter> = versions.iter().map(|(_, r)| r).collect();
        for (id, _) in &versions {
            reporters.extend(sighters.get(id).into_iter().flatten());
        }
        let providers: BTreeSet<&str> = reporters.iter().map(|(p, _)| p.as_str()).collect();
        let collections: BTreeSet<&str> = reporters.iter().map(|(_, c)| c.as_str()).collect();
        if least.met(providers.len(), collections.len()) {
            candidates.push(value);
        }
    }
    Ok(candidates)
}

/// Most providers first, then most collections, then by kind and value.
fn rank(correlations: &mut [Correlation]) {
    correlations.sort_by(|a, b| {
        b.provider_count
            .cmp(&a.provider_count)
            .then_with(|| b.collection_count.cmp(&a.collection_count))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.value.cmp(&b.value))
    });
}

/// An object version, what the asker receives of it (`None`: withheld) and the
/// collection it counts in (`None`: in none).
struct Decision {
    row: ObjectRow,
    text: Option<String>,
    collection: Option<String>,
}

type Decided = Vec<Decision>;

/// The operator's correlation of an indexed value: from every object version the index
/// links to it and every sighting of their ids.
fn build_local(
    store: &dyn Store,
    candidate: &ValueRow,
    warninglists: &Warninglists,
) -> Result<Option<Correlation>, EgressError> {
    // The node's own organisation reads every row as stored, in the collection it
    // was reported in.
    let as_stored = |rows: Vec<ObjectRow>| -> Result<Decided, EgressError> {
        let versions: Vec<i64> = rows.iter().map(|r| r.date_added).collect();
        let collections = store.reported_in(&versions)?;
        Ok(rows
            .into_iter()
            .zip(collections)
            .map(|(row, collection)| Decision {
                text: Some(row.json.clone()),
                row,
                collection,
            })
            .collect())
    };
    let stating = as_stored(store.value_objects(candidate.vid)?)?;
    let sightings_of = |ids: &[&str]| {
        let mut rows = Vec::new();
        for id in ids {
            rows.extend(store.sightings_of(id)?);
        }
        as_stored(rows)
    };
    let value = (candidate.kind.as_str(), candidate.value.as_str());
    assemble(true, value, stating, sightings_of, warninglists)
}

/// A partner's correlation of `(kind, value)`: from what its release views release of
/// the value and of the sightings of the versions stating it ([`ReleasedReader`]),
/// never from the store-wide statements, so neither its content nor its time depends
/// on withheld objects stating or sighting it.
fn build_for_partner(
    reader: &ReleasedReader<'_>,
    kind: &str,
    value: &str,
    warninglists: &Warninglists,
) -> Result<Option<Correlation>, EgressError> {
    let decided = |held: Vec<HeldRow>| -> Result<Decided, EgressError> {
        let texts = reader.texts(&held)?;
        Ok(held
            .into_iter()
            .zip(texts)
            .map(|(h, text)| Decision {
                row: h.row,
                text,
                collection: Some(h.collection),
            })
            .collect())
    };
    let stating = decided(reader.stating(kind, value)?)?;
    if stating.is_empty() {
        return Ok(None);
    }
    let sightings_of = |ids: &[&str]| decided(reader.sightings_of(ids)?);
    assemble(false, (kind, value), stating, sightings_of, warninglists)
}

/// A correlation of `(kind, value)` from the versions that may state it and the
/// sightings of their ids, each counted when the asker receives it and its received
/// text still states the value.
fn assemble(
    local: bool,
    (kind, value): (&str, &str),
    stating: Decided,
    sightings_of: impl Fn(&[&str]) -> Result<Decided, EgressError>,
    warninglists: &Warninglists,
) -> Result<Option<Correlation>, EgressError> {
    let mut parts: BTreeMap<String, ProviderPart> = BTreeMap::new();
    let mut collections: BTreeSet<&str> = BTreeSet::new();
    let mut objects = Vec::new();
    let mut sightings_total = 0u64;
    let mut stated_by: Vec<&ObjectRow> = Vec::new();
    for Decision {
        row,
        text,
        collection,
    } in &stating
    {
        let Some(text) = text else { continue };
        let Some(analytics) = extract_text(text) else {
            continue;
        };
        let stated = |(k, v): &(&str, String)| *k == kind && *v == value;
        if !analytics.values.iter().any(stated) {
            continue;
        }
        let at = instant(text, row.date_added);
        add(&mut parts, &row.provenance.organisation, at, at, 1, 0);
        collections.extend(collection.as_deref());
        objects.push(released_id(text, &row.id));
        stated_by.push(row);
    }
    // Sightings of the stating objects (each sighted id once).
    let mut sighted: Vec<&str> = stated_by.iter().map(|r| r.id.as_str()).collect();
    sighted.sort_unstable();
    sighted.dedup();
    let sightings = if sighted.is_empty() {
        Vec::new()
    } else {
        sightings_of(&sighted)?
    };
    for Decision {
        row,
        text,
        collection,
    } in &sightings
    {
        let Some(text) = text else { continue };
        let Some((first, last, count)) = sighting(text, row.date_added) else {
            continue;
        };
        collections.extend(collection.as_deref());
        add(
            &mut parts,
            &row.provenance.organisation,
            first,
            last,
            0,
            count,
        );
        sightings_total += count;
        objects.push(released_id(text, &row.id));
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let mut providers: Vec<ProviderPart> = parts.into_values().collect();
    providers.sort_by(|a, b| {
        a.first_us
            .cmp(&b.first_us)
            .then_with(|| a.provider.cmp(&b.provider))
    });
    if !local {
        for (i, p) in providers.iter_mut().enumerate() {
            p.provider = format!("provider-{}", i + 1);
        }
    }
    objects.dedup();
    let warninglist = listed(warninglists, kind, value);
    Ok(Some(Correlation {
        kind: kind.to_string(),
        value: value.to_string(),
        provider_count: providers.len(),
        providers,
        collection_count: collections.len(),
        collections: collections.into_iter().map(str::to_string).collect(),
        objects,
        sightings: sightings_total,
        warninglist,
    }))
}

/// The warninglist `value` of `kind` is on, if any.
pub fn listed(warninglists: &Warninglists, kind: &str, value: &str) -> Option<String> {
    match kind {
        "ip" => value
            .parse()
            .ok()
            .and_then(|a| warninglists.addr_listed(a))
            .map(str::to_string),
        "domain" => warninglists.name_listed(value).map(str::to_string),
        "url" => url_host(value).and_then(|h| match h.parse() {
            Ok(a) => warninglists.addr_listed(a).map(str::to_string),
            Err(_) => warninglists.name_listed(&h).map(str::to_string),
        }),
        "email" => value
            .rsplit_once('@')
            .and_then(|(_, d)| warninglists.name_listed(d))
            .map(str::to_string),
        _ => None,
    }
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    Some(host.to_ascii_lowercase())
}

fn add(
    parts: &mut BTreeMap<String, ProviderPart>,
    provider: &str,
    first: i64,
    last: i64,
    objects: u64,
    sightings: u64,
) {
    let part = parts
        .entry(provider.to_string())
        .or_insert_with(|| ProviderPart {
            provider: provider.to_string(),
            first_seen: String::new(),
            last_seen: String::new(),
            objects: 0,
            sightings: 0,
            first_us: i64::MAX,
            last_us: i64::MIN,
        });
    part.objects += objects;
    part.sightings += sightings;
    if first < part.first_us {
        part.first_us = first;
        part.first_seen = accord_stix::Timestamp::from_micros(first)
            .as_str()
            .to_string();
    }
    if last > part.last_us {
        part.last_us = last;
        part.last_seen = accord_stix::Timestamp::from_micros(last)
            .as_str()
            .to_string();
    }
}

fn field(json: &serde_json::Value, key: &str) -> Option<i64> {
    accord_stix::Timestamp::parse(json.get(key)?.as_str()?)
        .ok()
        .map(|t| t.as_micros())
}

/// When an object stated its value: `created`, else when the store took it (SCOs).
fn instant(text: &str, date_added: i64) -> i64 {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| field(&v, "created"))
        .unwrap_or(date_added)
}

fn released_id(text: &str, stored: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .unwrap_or_else(|| stored.to_string())
}

/// A sighting's first and last seen (else `created`) and its `count` (1 when absent).
fn sighting(text: &str, date_added: i64) -> Option<(i64, i64, u64)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let created = field(&v, "created").unwrap_or(date_added);
    let first = field(&v, "first_seen").unwrap_or(created);
    let last = field(&v, "last_seen").unwrap_or(first);
    let count = v.get("count").and_then(|c| c.as_u64()).unwrap_or(1);
    Some((first, last, count))
}

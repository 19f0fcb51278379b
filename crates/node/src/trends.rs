//! Trends: counts of new indicators, infrastructure and sightings per day or week,
//! per series of a dimension, with emerging series flagged by a stated test
//! (docs/trends.md).
//!
//! For the node's operator the counts come from the aggregates the store keeps at
//! ingest (`trend_counts`: one row per day, series and provider), so a query reads
//! cells, not objects, whatever the number of sightings behind them; country and ASN
//! cells are kept by `accord enrich` instead ([`crate::located`]), plus the objects
//! ingested since. For a partner they count what the gate releases to it (every
//! object it may read, from the released text), kept beside its release views from
//! its first query on ([`Egress::partner_trend_cells`]), and every cell made from
//! fewer than `k` distinct providers is suppressed, and every cell of sightings seen
//! at fewer than `k` distinct victims, `k` being the largest
//! `protections.aggregate_min_providers` of the partner's agreements in force.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use accord_store::{for_each_row, NewObject, ObjectQuery, Scope, Store, TrendCell, VersionFilter};
use serde::Serialize;

use crate::analytics::{self, DAY_MICROS};
use crate::egress::Egress;
use crate::egress::{EgressError, Recipient};

/// Bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// UTC days.
    Day,
    /// ISO weeks (Monday to Sunday, UTC).
    Week,
}

impl Interval {
    /// The first day (days since the epoch) of the bucket holding `day`.
    pub fn bucket(self, day: i64) -> i64 {
        match self {
            Interval::Day => day,
            // 1970-01-01 was a Thursday: day 4 is the first Monday.
            Interval::Week => (day - 4).div_euclid(7) * 7 + 4,
        }
    }

    fn step(self) -> i64 {
        match self {
            Interval::Day => 1,
            Interval::Week => 7,
        }
    }
}

/// The emerging test: Poisson z-score of the last bucket against the mean of the
/// series' earlier buckets in the window.
pub const TEST: &str = "poisson-z: z = (x - m) / sqrt(max(m, 1)), x the last bucket's count, \
                        m the mean of the series' earlier buckets in the window (suppressed \
                        cells count 0); emerging when z >= 3 and x >= 5 with at least 4 \
                        earlier buckets";

/// The k-anonymity rule of an answer ([`Trends::k`]), stated in it.
pub const SUPPRESSION: &str = "a cell (count null) made from fewer than k providers, or a \
                               cell of sightings seen at fewer than k victims (the \
                               identities of their where_sighted_refs, the asker's own \
                               sightings as one), is suppressed; a series of suppressed \
                               or zero cells is left out; k = 1 suppresses nothing";

/// The z threshold of [`TEST`].
pub const Z_THRESHOLD: f64 = 3.0;

/// The least last-bucket count of an emerging series.
pub const MIN_EMERGING_COUNT: i64 = 5;

/// The least number of earlier buckets the test needs.
pub const MIN_HISTORY: usize = 4;

/// What to count.
#[derive(Debug, Clone)]
pub struct TrendQuery {
    /// `type`, `provider`, `family` or `technique` (`country`, `asn` when enrichment
    /// is present).
    pub dimension: String,
    /// Bucket width.
    pub interval: Interval,
    /// First day counted (days since the epoch); `None`: from the first cell.
    pub since_day: Option<i64>,
}

/// One bucket of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// First day of the bucket (YYYY-MM-DD).
    pub start: String,
    /// The count; `None` when suppressed (fewer than `k` providers or victims).
    pub count: Option<i64>,
}

/// One series: a metric of one key of the dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The metric (`indicators`, `infrastructure`, `sightings`).
    pub metric: String,
    /// The key within the dimension.
    pub key: String,
    /// Every bucket from the first to the last of the window.
    pub buckets: Vec<Bucket>,
    /// The test's z of the last bucket (`None`: too little history).
    pub z: Option<f64>,
    /// Whether the series is emerging.
    pub emerging: bool,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trends {
    /// The dimension.
    pub dimension: String,
    /// The bucket width.
    pub interval: Interval,
    /// The statistical test, stated.
    pub test: &'static str,
    /// Its z threshold.
    pub threshold: f64,
    /// Cells from fewer providers are suppressed (1: nothing suppressed).
    pub k: u32,
    /// The suppression rule, stated ([`SUPPRESSION`]).
    pub suppression: &'static str,
    /// Series, by metric then key.
    pub series: Vec<Series>,
}

/// Trends for `recipient` (the node's own organisation reads the store's aggregates).
pub fn trends(
    store: &dyn Store,
    egress: &Egress,
    recipient: &Recipient,
    query: &TrendQuery,
) -> Result<Trends, EgressError> {
    let since = query.since_day.unwrap_or(i64::MIN);
    let located = LOCATION_DIMENSIONS.contains(&query.dimension.as_str());
    if recipient.organisation == egress.local_organisation() {
        let kept = if located {
            crate::located::cells(store, &query.dimension, since)?
        } else {
            None
        };
        let cells = if let Some(cells) = kept {
            cells
        } else if located {
            // The location cells do not match the enrichment (never counted by
            // `accord enrich`, or a run stopped between its writes): a pass.
            located_cells_by_pass(store, &query.dimension, since)?
        } else {
            store.trend_cells(&query.dimension, None, since)?
        };
        return Ok(summarise(query, &cells, 1));
    }
    let k = k_of(egress, &recipient.organisation);
    let mut cells = egress.partner_trend_cells(recipient, &query.dimension, since)?;
    own_sightings_as_one_victim(&mut cells, &recipient.organisation);
    Ok(summarise(query, &cells, k))
}

/// The asker's own sightings stand for one victim, itself, whatever identities they
/// name: as it counts as one provider towards `k`, it must not lift a cell over `k`
/// victims with victims of its own making (and then subtract its part to read, say,
/// one bank's count). Test `a_partners_own_sightings_count_as_one_victim_in_its_trends`.
fn own_sightings_as_one_victim(cells: &mut [TrendCell], asker: &str) {
    for cell in cells.iter_mut().filter(|c| c.provider == asker) {
        if !cell.victims.is_empty() {
            cell.victims = vec![analytics::provider_victim(asker)];
        }
    }
}

/// `recipient`'s cells of `dimension` by a pass over everything its release views
/// release (O(what it may read)): what `trends` computed for a partner before the
/// cells were kept ([`Egress::partner_trend_cells`]), and the oracle they are tested
/// against.
pub fn partner_cells_by_pass(
    store: &dyn Store,
    egress: &Egress,
    recipient: &Recipient,
    dimension: &str,
    since: i64,
) -> Result<Vec<TrendCell>, EgressError> {
    let held = released_first_versions(egress, recipient)?;
    if LOCATION_DIMENSIONS.contains(&dimension) {
        // A version that arrived after what the enrichment covers is nowhere yet,
        // whether or not its addresses were located for an earlier object (which
        // may be withheld from the partner).
        let covers = store.enrichment_state()?.map(|s| s.covers_until);
        let held: Vec<Placed> = held
            .into_values()
            .map(|r| Placed {
                placeable: covers.is_some_and(|c| r.date_added <= c),
                provider: r.provider,
                json: r.text,
            })
            .collect();
        located_cells(store, &held, dimension, since, true)
    } else {
        partner_cells(held, dimension, since)
    }
}

/// The operator's cells of a location dimension by a pass over every object's first
/// version: what `trends` computed before the cells were kept
/// ([`crate::located`]), now the answer until `accord enrich` counts them, and the
/// oracle the kept cells are tested against. O(objects).
pub fn located_cells_by_pass(
    store: &dyn Store,
    dimension: &str,
    since: i64,
) -> Result<Vec<TrendCell>, EgressError> {
    let mut held = Vec::new();
    let mut q = ObjectQuery::new(Scope::Store, 10_000);
    q.versions = VersionFilter {
        first: true,
        ..VersionFilter::default()
    };
    for_each_row(store, q, |row| {
        held.push(Placed {
            provider: row.provenance.organisation,
            json: row.json,
            placeable: true,
        });
        true
    })?;
    located_cells(store, &held, dimension, since, false)
}

/// Dimensions computed from the hub's enrichment (`accord enrich`): where the
/// objects are, which is known only after ingest. The operator reads cells kept by
/// the enrichment run ([`crate::located`]); a partner's are computed from what the
/// gate releases to it, as for every dimension.
pub const LOCATION_DIMENSIONS: [&str; 2] = ["country", "asn"];

/// One object version a location pass counts.
struct Placed {
    provider: String,
    json: String,
    /// Whether it may be located (else it counts under `unknown`, and a sighting of
    /// it too).
    placeable: bool,
}

/// The cells of a location dimension over `held` (the first version each id has): an
/// indicator or infrastructure counts in every country (or
/// AS) of the addresses it is about, as the enrichment located them; a sighting where
/// what it sights is. When `held` has several copies of an id (providers that sent the
/// same first version), the sighting takes, in this dimension, the keys of the last
/// copy in `held` that has any (the operator's pass holds them in arrival order; a
/// partner's holds one version per id); `crate::located` keeps the same rule. Objects
/// nowhere located count under `unknown`. With `with_victims`, a sighting's cells name
/// its victims (a partner's; the operator's answers suppress nothing). A pass over the
/// objects (the other dimensions are kept at ingest): O(objects), documented.
fn located_cells(
    store: &dyn Store,
    held: &[Placed],
    dimension: &str,
    since: i64,
    with_victims: bool,
) -> Result<Vec<TrendCell>, EgressError> {
    let index = crate::enrich::Index::load(store)?;
    let keys_of = |json: &str| -> Vec<String> {
        let location = index.locate(&accord_enrich::Subjects::of_json(json));
        if dimension == "country" {
            location.countries
        } else {
            location.asns.iter().map(|a| format!("AS{a}")).collect()
        }
    };
    // Where each object with addresses is, for the sightings of it.
    let mut places: HashMap<String, Vec<String>> = HashMap::new();
    let mut extracted = Vec::with_capacity(held.len());
    for Placed {
        provider,
        json,
        placeable,
    } in held
    {
        let Some(a) = analytics::extract_text(json) else {
            continue;
        };
        if !placeable {
            extracted.push((provider, json, a, false));
            continue;
        }
        if a.sighting_of.is_none() {
            let keys = keys_of(json);
            if !keys.is_empty() {
                if let Some(id) = id_of(json) {
                    places.insert(id, keys);
                }
            }
        }
        extracted.push((provider, json, a, true));
    }
    let mut cells = PassCells::new();
    for (provider, json, a, placeable) in extracted {
        let keys = match &a.sighting_of {
            Some(target) => places.get(target).cloned().unwrap_or_default(),
            None if placeable => keys_of(json),
            None => Vec::new(),
        };
        let keys = if keys.is_empty() {
            vec!["unknown".to_string()]
        } else {
            keys
        };
        if let Some(t) = a.basis().filter(|t| t.day >= since) {
            let victims = if with_victims {
                victims_of(&a, json, provider)
            } else {
                Vec::new()
            };
            // One count per object, not per infrastructure type (crate::located::add).
            for key in &keys {
                let cell = (t.metric.to_string(), t.day, key.clone(), provider.clone());
                add_to(&mut cells, cell, t.weight, &victims);
            }
        }
    }
    Ok(pass_cells(cells))
}

/// The `id` of a JSON object text.
fn id_of(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("id")?.as_str().map(str::to_string)
}

/// The `k` of `organisation`'s aggregates: the largest of its agreements' (the
/// default when it has none).
pub fn k_of(egress: &Egress, organisation: &str) -> u32 {
    egress
        .gate()
        .agreements()
        .iter()
        .filter(|a| a.recipient().id == organisation)
        .map(|a| a.protections().aggregate_min_providers)
        .max()
        .unwrap_or(accord_agreements::DEFAULT_AGGREGATE_MIN_PROVIDERS)
}

/// Builds the series from cells, suppressing those from fewer than `k` providers or,
/// of sightings, fewer than `k` victims ([`TrendCell::victims`]).
pub fn summarise(query: &TrendQuery, cells: &[TrendCell], k: u32) -> Trends {
    let interval = query.interval;
    // (metric, key) -> bucket -> (count, providers, victims)
    type Cells<'a> = BTreeMap<i64, (i64, BTreeSet<&'a str>, BTreeSet<&'a str>)>;
    let mut series: BTreeMap<(&str, &str), Cells<'_>> = BTreeMap::new();
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    for c in cells {
        let b = interval.bucket(c.day);
        first = first.min(b);
        last = last.max(b);
        let slot = series
            .entry((c.metric.as_str(), c.key.as_str()))
            .or_default()
            .entry(b)
            .or_default();
        slot.0 += c.count;
        slot.1.insert(c.provider.as_str());
        slot.2.extend(c.victims.iter().map(String::as_str));
    }
    if let Some(since) = query.since_day {
        first = interval.bucket(since).min(first);
    }
    let mut out = Vec::new();
    for ((metric, key), buckets) in series {
        let mut list = Vec::new();
        let mut values = Vec::new();
        let k = k as usize;
        let by_victims = k > 1 && metric == analytics::SIGHTINGS;
        let mut b = first;
        while b <= last {
            let count = buckets
                .get(&b)
                .map(|(n, providers, victims)| {
                    let few = providers.len() < k || (by_victims && victims.len() < k);
                    (!few).then_some(*n)
                })
                .unwrap_or(Some(0));
            values.push(count.unwrap_or(0));
            list.push(Bucket {
                start: date(b),
                count,
            });
            b += interval.step();
        }
        // A series every cell of which is suppressed says nothing: left out, so its
        // key (a family one provider reports) is not revealed either.
        if k > 1 && list.iter().all(|b| b.count.is_none() || b.count == Some(0)) {
            continue;
        }
        let (z, emerging) = test(&values);
        out.push(Series {
            metric: metric.to_string(),
            key: key.to_string(),
            buckets: list,
            z,
            emerging,
        });
    }
    Trends {
        dimension: query.dimension.clone(),
        interval,
        test: TEST,
        threshold: Z_THRESHOLD,
        k,
        suppression: SUPPRESSION,
        series: out,
    }
}

/// The Poisson z of the last value against the mean of the earlier ones.
pub fn test(values: &[i64]) -> (Option<f64>, bool) {
    let Some((&x, history)) = values.split_last() else {
        return (None, false);
    };
    if history.len() < MIN_HISTORY {
        return (None, false);
    }
    let mean = history.iter().sum::<i64>() as f64 / history.len() as f64;
    let z = (x as f64 - mean) / mean.max(1.0).sqrt();
    // Rounded so that the JSON compares exactly with other implementations.
    let z = (z * 1e6).round() / 1e6;
    (Some(z), z >= Z_THRESHOLD && x >= MIN_EMERGING_COUNT)
}

/// `YYYY-MM-DD` of a day since the epoch.
pub fn date(day: i64) -> String {
    let text = accord_stix::Timestamp::from_micros(day.saturating_mul(DAY_MICROS))
        .as_str()
        .to_string();
    text.get(..10).unwrap_or(&text).to_string()
}

/// Days since the epoch of a `YYYY-MM-DD` date or RFC 3339 timestamp.
pub fn parse_day(text: &str) -> Option<i64> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    accord_stix::Timestamp::parse(&full)
        .ok()
        .map(|t| t.as_micros().div_euclid(DAY_MICROS))
}

/// Every released object version of the collections `recipient` reads, each id once
/// (its earliest released version; of equal versions, the one of the collection first
/// by name, then the first in it): id → (version, provider, released text). Read
/// through the recipient's release views, so its cost is what the recipient may read,
/// not what the collections hold; each row decided in the collection it was read from
/// ([`Egress::released_texts_in`]).
fn released_first_versions(
    egress: &Egress,
    recipient: &Recipient,
) -> Result<HashMap<String, FirstRelease>, EgressError> {
    let mut held: HashMap<String, FirstRelease> = HashMap::new();
    for collection in egress.readable_collections(&recipient.organisation)? {
        // Only what the recipient's view releases: the withheld entries are not read.
        egress.released_rows(recipient, &collection, |rows| {
            let released = egress.released_texts_in(recipient, &collection, &rows)?;
            for (row, text) in rows.into_iter().zip(released) {
                let Some(text) = text else { continue };
                let earlier = held
                    .get(&row.id)
                    .is_some_and(|r| r.version <= row.version_micros);
                if !earlier {
                    held.insert(
                        row.id,
                        FirstRelease {
                            version: row.version_micros,
                            provider: row.provenance.organisation,
                            text,
                            date_added: row.date_added,
                        },
                    );
                }
            }
            Ok(())
        })?;
    }
    Ok(held)
}

/// The earliest released version of an id.
struct FirstRelease {
    version: i64,
    provider: String,
    text: String,
    /// When it entered the collection it was read from.
    date_added: i64,
}

fn partner_cells(
    held: HashMap<String, FirstRelease>,
    dimension: &str,
    since: i64,
) -> Result<Vec<TrendCell>, EgressError> {
    // The released objects as a batch, so relationships resolve among them only
    // (`analytics::complete` with an empty store behind it).
    // Each object's provider beside it (the texts move into the batch, not copied).
    let mut providers: Vec<String> = Vec::with_capacity(held.len());
    let mut all: Vec<NewObject> = Vec::with_capacity(held.len());
    for (id, FirstRelease { provider, text, .. }) in held {
        let Some(a) = analytics::extract_text(&text) else {
            continue;
        };
        providers.push(provider);
        all.push(NewObject {
            object_type: id.split("--").next().unwrap_or_default().to_string(),
            id,
            spec_version: "2.1".into(),
            version: None,
            facts: Vec::new(),
            json: text,
            analytics: a,
        });
    }
    let empty = accord_store::SqliteStore::open_in_memory()?;
    analytics::complete(&empty, &mut all)?;
    let mut cells = PassCells::new();
    for (object, provider) in all.into_iter().zip(&providers) {
        let provider = provider.as_str();
        let victims = victims_of(&object.analytics, &object.json, provider);
        // Each counted object under its provider, as the store counts it at insert.
        let by_provider = analytics::provider_key(&object.analytics, provider);
        for t in object.analytics.trends.into_iter().chain(by_provider) {
            if t.dimension == dimension && t.day >= since {
                let cell = (
                    t.metric.to_string(),
                    t.day,
                    t.key.into_owned(),
                    provider.to_owned(),
                );
                add_to(&mut cells, cell, t.weight, &victims);
            }
        }
    }
    Ok(pass_cells(cells))
}

/// A pass's cells: (metric, day, key, provider) → (count, victims).
type PassCells = BTreeMap<(String, i64, String, String), (i64, BTreeSet<String>)>;

/// Who a counted object was seen at: a sighting's victims, nobody for the rest.
fn victims_of(a: &accord_store::Analytics, json: &str, provider: &str) -> Vec<String> {
    if a.sighting_of.is_some() {
        analytics::sighting_victims(json, provider)
    } else {
        Vec::new()
    }
}

fn add_to(
    cells: &mut PassCells,
    cell: (String, i64, String, String),
    weight: i64,
    victims: &[String],
) {
    let slot = cells.entry(cell).or_default();
    slot.0 += weight;
    slot.1.extend(victims.iter().cloned());
}

fn pass_cells(cells: PassCells) -> Vec<TrendCell> {
    cells
        .into_iter()
        .map(
            |((metric, day, key, provider), (count, victims))| TrendCell {
                metric,
                day,
                key,
                provider,
                count,
                victims: victims.into_iter().take(VICTIMS_SHOWN).collect(),
            },
        )
        .collect()
}

/// Victims a cell names at most ([`TrendCell::victims`]): whether a bucket has `k`
/// needs no more, and a provider naming a new identity in each of its sightings must
/// not make every query copy them all.
pub(crate) const VICTIMS_SHOWN: usize = accord_agreements::MAX_AGGREGATE_MIN_PROVIDERS as usize;

//! What ingest records for correlation and trends (docs/trends.md), extracted from the
//! validator's own parse of each object and applied by the store in the insert's
//! transaction ([`accord_store::Analytics`]).
//!
//! - **Values**: the observable values an object states (an SCO's `value` or hashes,
//!   the values an indicator's STIX pattern compares for equality), normalised as the
//!   exports normalise them ([`crate::enforcement`]): kinds `ip`, `cidr`, `domain`,
//!   `url`, `file-hash`, `email`.
//! - **Trends**: the first version of an indicator, infrastructure or sighting counts
//!   once, on the UTC day of its `created` (a sighting: `first_seen`, else `created`),
//!   weighted 1 (a sighting: its `count`, 1 when absent), under dimension `type` (an
//!   indicator: the kinds of its values, `other` when none; infrastructure: its
//!   `infrastructure_types`, `unspecified` when none; a sighting: the type of what it
//!   sights) and `provider`. A relationship from one of those to a `malware` counts its
//!   source under `family` (the malware's `name`), to an `attack-pattern` under
//!   `technique` (its MITRE ATT&CK external id, else its name), when both ends are in
//!   the same batch or already stored.

use std::borrow::Cow;
use std::collections::HashMap;

use accord_stix::{JsonView, Timestamp};
use accord_store::{Analytics, NewObject, Store, StoreError, TrendKey};

use crate::enforcement::{pattern_values, Kind};

/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;

/// The metrics trends count.
pub const METRICS: [&str; 3] = ["indicators", "infrastructure", SIGHTINGS];

/// The dimensions kept at ingest.
pub const DIMENSIONS: [&str; 4] = ["type", "provider", "family", "technique"];

/// The members [`extract`] reads, found in one pass over the object
/// ([`JsonView::pick`]): it runs on every object ingest validates, and a look-up by name
/// each walked the members from the start (measured: half of the extraction's cost).
const MEMBERS: [&str; 10] = [
    "type",
    "pattern_type",
    "pattern",
    "value",
    "hashes",
    "sighting_of_ref",
    "created",
    "first_seen",
    "count",
    "infrastructure_types",
];

/// The STIX 2.1 `infrastructure-type-ov` vocabulary (section 10.13): trend keys of
/// these names are static, with no copy per object; other names are copied.
const INFRASTRUCTURE_TYPES: [&str; 11] = [
    "amplification",
    "anonymization",
    "botnet",
    "command-and-control",
    "exfiltration",
    "hosting-malware",
    "hosting-target-lists",
    "phishing",
    "reconnaissance",
    "staging",
    "undefined",
];

/// The members [`extract`] reads, by name ([`MEMBERS`]).
struct Members<'t> {
    kind: Cow<'t, str>,
    pattern_type: Option<JsonView<'t>>,
    pattern: Option<JsonView<'t>>,
    value: Option<JsonView<'t>>,
    hashes: Option<JsonView<'t>>,
    sighting_of_ref: Option<JsonView<'t>>,
    created: Option<JsonView<'t>>,
    first_seen: Option<JsonView<'t>>,
    count: Option<JsonView<'t>>,
    infrastructure_types: Option<JsonView<'t>>,
}

impl<'t> Members<'t> {
    fn of(object: JsonView<'t>) -> Self {
        let [kind, pattern_type, pattern, value, hashes, sighting_of_ref, created, first_seen, count, infrastructure_types] =
            object.pick(MEMBERS);
        Members {
            kind: text(kind),
            pattern_type,
            pattern,
            value,
            hashes,
            sighting_of_ref,
            created,
            first_seen,
            count,
            infrastructure_types,
        }
    }
}

/// The analytics of one validated object.
pub fn extract(object: JsonView<'_>) -> Analytics {
    let object = Members::of(object);
    let mut analytics = Analytics::default();
    let kinds = state_values(&object, &mut analytics);
    if let Some((metric, day, weight)) = trend_basis(&object) {
        for key in type_keys(&object, kinds) {
            analytics.trends.push(TrendKey {
                metric,
                day,
                dimension: "type",
                key,
                weight,
            });
        }
    }
    analytics
}

/// Records the values `object` states (and what it sights) in `analytics`; returns the
/// kinds of the values, in order.
fn state_values(object: &Members<'_>, analytics: &mut Analytics) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    let kind = &*object.kind;
    match kind {
        "indicator" if text(object.pattern_type) == "stix" => {
            // The validator has just checked this text on this thread: its parse is
            // reused (`pattern_memo`).
            let check = crate::pattern_memo::check(&text(object.pattern));
            if let Some(parsed) = &check.pattern {
                let mut values = Vec::new();
                pattern_values(&parsed.expr, &mut values);
                for (k, v) in values {
                    push_value(analytics, &mut kinds, k, v);
                }
            }
        }
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" => {
            let value = text(object.value);
            if let Some((k, v)) = crate::enforcement::classify(kind, "value", &value) {
                push_value(analytics, &mut kinds, k, v);
            }
        }
        "email-addr" => {
            let value = text(object.value);
            if value.contains('@') {
                push_value(
                    analytics,
                    &mut kinds,
                    Kind::Email,
                    value.to_ascii_lowercase(),
                );
            }
        }
        "file" => {
            for (_, h) in object.hashes.iter().flat_map(|h| h.members()) {
                if let Some(h) = h.as_str() {
                    if let Some((k, v)) = crate::enforcement::classify("file", "hashes", &h) {
                        push_value(analytics, &mut kinds, k, v);
                    }
                }
            }
        }
        "sighting" => {
            let target = text(object.sighting_of_ref);
            if !target.is_empty() {
                analytics.sighting_of = Some(target.into_owned());
            }
        }
        _ => {}
    }
    kinds
}

/// The metric, UTC day and weight an object counts with, if it counts.
fn trend_basis(object: &Members<'_>) -> Option<(&'static str, i64, i64)> {
    let (metric, time) = match &*object.kind {
        "indicator" => ("indicators", text(object.created)),
        "infrastructure" => ("infrastructure", text(object.created)),
        "sighting" => {
            let first = text(object.first_seen);
            let time = if first.is_empty() {
                text(object.created)
            } else {
                first
            };
            (SIGHTINGS, time)
        }
        _ => return None,
    };
    let micros = Timestamp::micros_of(&time).ok()?;
    let weight = if object.kind == "sighting" {
        object
            .count
            .and_then(|c| c.as_u64())
            .map_or(1, |c| i64::try_from(c).unwrap_or(i64::MAX))
    } else {
        1
    };
    Some((metric, micros.div_euclid(DAY_MICROS), weight))
}

/// The keys a counted object counts under in the `type` dimension: an indicator's
/// value kinds (`kinds`), an infrastructure's types, the type a sighting sights.
fn type_keys(object: &Members<'_>, kinds: Vec<&'static str>) -> Vec<Cow<'static, str>> {
    match &*object.kind {
        "indicator" if kinds.is_empty() => vec![Cow::Borrowed("other")],
        "indicator" => kinds.into_iter().map(Cow::Borrowed).collect(),
        "infrastructure" => {
            let mut types: Vec<Cow<'static, str>> = object
                .infrastructure_types
                .iter()
                .flat_map(|a| a.items())
                .filter_map(|t| t.as_str().map(|t| infrastructure_type(&t)))
                .collect();
            types.sort();
            types.dedup();
            if types.is_empty() {
                types.push(Cow::Borrowed("unspecified"));
            }
            types
        }
        _ => {
            let target = text(object.sighting_of_ref);
            let target_type = target.split("--").next().unwrap_or_default();
            // The specification's types by their catalogue's static names.
            let key = accord_stix::types::lookup(target_type).map_or_else(
                || Cow::Owned(target_type.to_owned()),
                |t| Cow::Borrowed(t.name),
            );
            vec![key]
        }
    }
}

/// An infrastructure type as a static text when the vocabulary holds it (no copy per
/// object), else copied.
fn infrastructure_type(name: &str) -> Cow<'static, str> {
    match INFRASTRUCTURE_TYPES.iter().find(|k| **k == name) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(name.to_owned()),
    }
}

/// [`extract`] over a stored or released JSON text (`None` when it does not parse).
pub fn extract_text(json: &str) -> Option<Analytics> {
    JsonView::parse_then(json, extract).ok()
}

fn push_value(analytics: &mut Analytics, kinds: &mut Vec<&'static str>, kind: Kind, value: String) {
    let name = kind_name(kind);
    if !kinds.contains(&name) {
        kinds.push(name);
    }
    let pair = (name, value);
    if !analytics.values.contains(&pair) {
        analytics.values.push(pair);
    }
}

/// The kind names of correlated values (the export kinds, and `email`).
pub fn kind_name(kind: Kind) -> &'static str {
    kind.name()
}

/// A string member, borrowed from the text when it has no escapes (no copy per
/// object on ingest's path); empty when absent or not a string.
fn text(member: Option<JsonView<'_>>) -> Cow<'_, str> {
    member.and_then(|v| v.as_str()).unwrap_or_default()
}

/// Completes a batch's analytics before it is stored: the `family` / `technique` of
/// relationships' sources (looked up in the batch first, then in the store). The
/// `provider` dimension is not here: the store counts each counted object under its
/// inserting provider ([`provider_key`]).
pub fn complete(store: &dyn Store, batch: &mut [NewObject]) -> Result<(), StoreError> {
    // The batch's ids, indexed when a relationship needs them (most batches have none).
    let mut by_id: Option<HashMap<&str, usize>> = None;
    let mut additions: Vec<(usize, TrendKey)> = Vec::new();
    for (i, object) in batch.iter().enumerate() {
        if object.object_type != "relationship" {
            continue;
        }
        let Some(SeriesLink {
            dimension,
            source,
            target,
        }) = series_link(&object.json)
        else {
            continue;
        };
        let by_id = by_id.get_or_insert_with(|| {
            batch
                .iter()
                .enumerate()
                .map(|(i, o)| (o.id.as_str(), i))
                .collect()
        });
        let Some(target_json) = lookup(store, batch, by_id, &target)? else {
            continue;
        };
        let Some(source_json) = lookup(store, batch, by_id, &source)? else {
            continue;
        };
        let Some(name) = series_of(&target_json, type_of(&target)) else {
            continue;
        };
        let Some(source_analytics) = extract_text(&source_json) else {
            continue;
        };
        if let Some(basis) = source_analytics.trends.first() {
            additions.push((
                i,
                TrendKey {
                    metric: basis.metric,
                    day: basis.day,
                    dimension,
                    key: Cow::Owned(name),
                    weight: basis.weight,
                },
            ));
        }
    }
    for (i, key) in additions {
        batch[i].analytics.trends.push(key);
    }
    Ok(())
}

/// The cell an object's analytics count under the `provider` dimension, as the store
/// counts it at insert: once per counted object (its first `type` key's metric, day
/// and weight), under the inserting `provider`. A relationship counts none: its
/// `family` / `technique` key counts its source, which counts itself.
pub fn provider_key(analytics: &Analytics, provider: &str) -> Option<TrendKey> {
    analytics.basis().map(|basis| TrendKey {
        metric: basis.metric,
        day: basis.day,
        dimension: "provider",
        key: Cow::Owned(provider.to_owned()),
        weight: basis.weight,
    })
}

/// A relationship that counts its source in a series of its target: from an
/// indicator, infrastructure or sighting to a `malware` (dimension `family`) or an
/// `attack-pattern` (dimension `technique`).
pub(crate) struct SeriesLink {
    /// `family` or `technique`.
    pub dimension: &'static str,
    /// The counted object's id.
    pub source: String,
    /// The malware's or attack pattern's id.
    pub target: String,
}

/// The [`SeriesLink`] a relationship's JSON text states, if it is one.
pub(crate) fn series_link(json: &str) -> Option<SeriesLink> {
    let (source, target) = relationship_ends(json)?;
    let dimension = match type_of(&target) {
        "malware" => "family",
        "attack-pattern" => "technique",
        _ => return None,
    };
    if !matches!(
        type_of(&source),
        "indicator" | "infrastructure" | "sighting"
    ) {
        return None;
    }
    Some(SeriesLink {
        dimension,
        source,
        target,
    })
}

/// The metric of sightings, whose cells k-anonymity also counts by victim.
pub const SIGHTINGS: &str = "sightings";

/// Who a sighting (JSON text, as released) was seen at: the victims k-anonymity
/// counts (docs/trends.md). The identities of its `where_sighted_refs`, each once and
/// sorted; a sighting naming none (or only locations) stands for its provider's own
/// ([`provider_victim`]), which is all a recipient can tell of it.
pub(crate) fn sighting_victims(json: &str, provider: &str) -> Vec<String> {
    let mut victims: Vec<String> = JsonView::parse_then(json, |o| {
        o.get("where_sighted_refs")
            .map(|refs| {
                refs.items()
                    .filter_map(|r| r.as_str())
                    .filter(|r| type_of(r) == "identity")
                    .map(Cow::into_owned)
                    .collect()
            })
            .unwrap_or_default()
    })
    .unwrap_or_default();
    victims.sort_unstable();
    victims.dedup();
    if victims.is_empty() {
        victims.push(provider_victim(provider));
    }
    victims
}

/// The victim that stands for `provider`'s own (`provider:` and the organisation,
/// which no identity id can equal).
pub(crate) fn provider_victim(provider: &str) -> String {
    format!("provider:{provider}")
}

/// The STIX type an id names.
fn type_of(id: &str) -> &str {
    id.split("--").next().unwrap_or_default()
}

/// The series a malware or attack pattern (JSON text) names, by its type: a
/// malware's `name`; an attack pattern's ATT&CK id, else its `name`. `None` for
/// other types.
pub(crate) fn series_of(json: &str, object_type: &str) -> Option<String> {
    match object_type {
        "malware" => series_name(json, "name"),
        "attack-pattern" => series_name(json, "attack"),
        _ => None,
    }
}

fn relationship_ends(json: &str) -> Option<(String, String)> {
    JsonView::parse_then(json, |o| {
        (
            text(o.get("source_ref")).into_owned(),
            text(o.get("target_ref")).into_owned(),
        )
    })
    .ok()
    .filter(|(s, t)| !s.is_empty() && !t.is_empty())
}

fn lookup(
    store: &dyn Store,
    batch: &[NewObject],
    by_id: &HashMap<&str, usize>,
    id: &str,
) -> Result<Option<String>, StoreError> {
    if let Some(&i) = by_id.get(id) {
        return Ok(Some(batch[i].json.clone()));
    }
    Ok(store.latest(id)?.map(|row| row.json))
}

/// A malware's `name`; an attack pattern's ATT&CK id (else its `name`).
fn series_name(json: &str, key: &str) -> Option<String> {
    JsonView::parse_then(json, |o| {
        if key == "attack" {
            if let Some(refs) = o.get("external_references") {
                for r in refs.items() {
                    if text(r.get("source_name")) == "mitre-attack" {
                        let id = text(r.get("external_id"));
                        if !id.is_empty() {
                            return Some(id.into_owned());
                        }
                    }
                }
            }
        }
        let name = text(o.get("name"));
        (!name.is_empty()).then(|| name.into_owned())
    })
    .ok()
    .flatten()
}

/// Object versions per backfill transaction (one store page).
pub const BACKFILL_BATCH: usize = 1_000;

/// Records the analytics of every stored version of a store migrated from a schema
/// without them (store schema 10 marks it: `Store::analytics_backfill`), as ingest
/// would have, in arrival order: the versions of each store page, by runs of one
/// provider, are extracted, completed ([`complete`]) and recorded in one transaction
/// that also moves the backfill's mark, so an interrupted backfill resumes where it
/// stopped. `progress` is called after each transaction with the versions done so far.
/// Returns the versions read (0 when nothing was pending).
///
/// One difference with a fresh ingest: a relationship's ends are looked up in the
/// whole store, so a relationship stored before its malware or attack pattern counts
/// under the family or technique here, where its ingest found neither.
pub fn backfill(store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<u64, StoreError> {
    let Some(mut after) = store.analytics_backfill()? else {
        return Ok(0);
    };
    let mut done = 0u64;
    loop {
        let mut query = accord_store::ObjectQuery::new(accord_store::Scope::Store, BACKFILL_BATCH);
        query.versions = accord_store::VersionFilter::all();
        query.added_after = Some(after);
        let page = store.query(&query)?;
        if page.rows.is_empty() {
            store.backfill_analytics("", &[], after, true)?;
            return Ok(done);
        }
        let last_page = !page.more;
        let rows = page.rows;
        let mut start = 0;
        while start < rows.len() {
            let provider = rows[start].provenance.organisation.clone();
            let end = rows[start..]
                .iter()
                .position(|r| r.provenance.organisation != provider)
                .map_or(rows.len(), |n| start + n);
            let run = &rows[start..end];
            let mut batch: Vec<NewObject> = run
                .iter()
                .map(|r| NewObject {
                    id: r.id.clone(),
                    object_type: r.object_type.clone(),
                    spec_version: r.spec_version.clone(),
                    version: None,
                    facts: Vec::new(),
                    json: r.json.clone(),
                    analytics: extract_text(&r.json).unwrap_or_default(),
                })
                .collect();
            complete(store, &mut batch)?;
            let records: Vec<accord_store::BackfillRow> = run
                .iter()
                .zip(batch)
                .map(|(r, object)| accord_store::BackfillRow {
                    date_added: r.date_added,
                    object,
                })
                .collect();
            after = run.last().map_or(after, |r| r.date_added);
            let finished = last_page && end == rows.len();
            store.backfill_analytics(&provider, &records, after, finished)?;
            done += run.len() as u64;
            progress(done);
            if finished {
                return Ok(done);
            }
            start = end;
        }
    }
}

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
pub const METRICS: [&str; 3] = ["indicators", "infrastructure", "sightings"];

/// The dimensions kept at ingest.
pub const DIMENSIONS: [&str; 4] = ["type", "provider", "family", "technique"];

/// The analytics of one validated object.
pub fn extract(object: JsonView<'_>) -> Analytics {
    let mut analytics = Analytics::default();
    let kind = text(object, "type");
    let mut kinds: Vec<&'static str> = Vec::new();
    match &*kind {
        "indicator" if text(object, "pattern_type") == "stix" => {
            // The validator has just checked this text on this thread: its parse is
            // reused (`pattern_memo`).
            let check = crate::pattern_memo::check(&text(object, "pattern"));
            if let Some(parsed) = &check.pattern {
                let mut values = Vec::new();
                pattern_values(&parsed.expr, &mut values);
                for (k, v) in values {
                    push_value(&mut analytics, &mut kinds, k, v);
                }
            }
        }
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" => {
            let value = text(object, "value");
            if let Some((k, v)) = crate::enforcement::classify(&kind, "value", &value) {
                push_value(&mut analytics, &mut kinds, k, v);
            }
        }
        "email-addr" => {
            let value = text(object, "value");
            if value.contains('@') {
                push_value(
                    &mut analytics,
                    &mut kinds,
                    Kind::Email,
                    value.to_ascii_lowercase(),
                );
            }
        }
        "file" => {
            if let Some(hashes) = object.get("hashes") {
                for (_, h) in hashes.members() {
                    if let Some(h) = h.as_str() {
                        if let Some((k, v)) = crate::enforcement::classify("file", "hashes", &h) {
                            push_value(&mut analytics, &mut kinds, k, v);
                        }
                    }
                }
            }
        }
        "sighting" => {
            let target = text(object, "sighting_of_ref");
            if !target.is_empty() {
                analytics.sighting_of = Some(target.into_owned());
            }
        }
        _ => {}
    }
    if let Some((metric, day, weight)) = trend_basis(object, &kind) {
        let keys: Vec<String> = match &*kind {
            "indicator" if kinds.is_empty() => vec!["other".into()],
            "indicator" => kinds.iter().map(|k| k.to_string()).collect(),
            "infrastructure" => {
                let types: Vec<String> = object
                    .get("infrastructure_types")
                    .map(|a| {
                        a.items()
                            .filter_map(|t| t.as_str().map(|s| s.into_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                if types.is_empty() {
                    vec!["unspecified".into()]
                } else {
                    dedup(types)
                }
            }
            _ => {
                let target = text(object, "sighting_of_ref");
                vec![target.split("--").next().unwrap_or_default().to_string()]
            }
        };
        for key in keys {
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

/// [`extract`] over a stored or released JSON text (`None` when it does not parse).
pub fn extract_text(json: &str) -> Option<Analytics> {
    JsonView::parse_then(json, extract).ok()
}

fn push_value(analytics: &mut Analytics, kinds: &mut Vec<&'static str>, kind: Kind, value: String) {
    let name = kind_name(kind);
    if !kinds.contains(&name) {
        kinds.push(name);
    }
    let pair = (name.to_string(), value);
    if !analytics.values.contains(&pair) {
        analytics.values.push(pair);
    }
}

/// The kind names of correlated values (the export kinds, and `email`).
pub fn kind_name(kind: Kind) -> &'static str {
    kind.name()
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// A string property, borrowed from the text when it has no escapes (no copy per
/// object on ingest's path); empty when absent or not a string.
fn text<'t>(object: JsonView<'t>, key: &str) -> Cow<'t, str> {
    object.get(key).and_then(|v| v.as_str()).unwrap_or_default()
}

/// The metric, UTC day and weight an object counts with, if it counts.
fn trend_basis(object: JsonView<'_>, kind: &str) -> Option<(&'static str, i64, i64)> {
    let (metric, time) = match kind {
        "indicator" => ("indicators", text(object, "created")),
        "infrastructure" => ("infrastructure", text(object, "created")),
        "sighting" => {
            let first = text(object, "first_seen");
            let time = if first.is_empty() {
                text(object, "created")
            } else {
                first
            };
            ("sightings", time)
        }
        _ => return None,
    };
    let micros = Timestamp::parse(&time).ok()?.as_micros();
    let weight = if kind == "sighting" {
        object
            .get("count")
            .and_then(|c| c.as_u64())
            .map_or(1, |c| i64::try_from(c).unwrap_or(i64::MAX))
    } else {
        1
    };
    Some((metric, micros.div_euclid(DAY_MICROS), weight))
}

/// Completes a batch's analytics before it is stored: the `provider` dimension of every
/// counted object, and the `family` / `technique` of relationships' sources (looked up
/// in the batch first, then in the store).
pub fn complete(
    store: &dyn Store,
    batch: &mut [NewObject],
    provider: &str,
) -> Result<(), StoreError> {
    // The batch's ids, indexed when a relationship needs them (most batches have none).
    let mut by_id: Option<HashMap<&str, usize>> = None;
    let mut additions: Vec<(usize, TrendKey)> = Vec::new();
    for (i, object) in batch.iter().enumerate() {
        if let Some(basis) = object.analytics.trends.first() {
            additions.push((
                i,
                TrendKey {
                    metric: basis.metric,
                    day: basis.day,
                    dimension: "provider",
                    key: provider.to_string(),
                    weight: basis.weight,
                },
            ));
        }
        if object.object_type != "relationship" {
            continue;
        }
        let Some((source, target)) = relationship_ends(&object.json) else {
            continue;
        };
        let (dimension, key) = match target.split("--").next() {
            Some("malware") => ("family", "name"),
            Some("attack-pattern") => ("technique", "attack"),
            _ => continue,
        };
        let source_type = source.split("--").next().unwrap_or_default();
        if !matches!(source_type, "indicator" | "infrastructure" | "sighting") {
            continue;
        }
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
        let Some(name) = series_name(&target_json, key) else {
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
                    key: name,
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

fn relationship_ends(json: &str) -> Option<(String, String)> {
    JsonView::parse_then(json, |o| {
        (
            text(o, "source_ref").into_owned(),
            text(o, "target_ref").into_owned(),
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
                    if text(r, "source_name") == "mitre-attack" {
                        let id = text(r, "external_id");
                        if !id.is_empty() {
                            return Some(id.into_owned());
                        }
                    }
                }
            }
        }
        let name = text(o, "name");
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
            complete(store, &mut batch, &provider)?;
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

//! Storing detectors' findings as STIX 2.1, so that re-runs update instead of
//! duplicating.
//!
//! Every detector (`accord detect c2|ddos|phishing`, the flow collector's matching
//! and detectors) hands its findings here. A [`Finding`]'s STIX objects carry
//! deterministic ids (UUIDv5 over what the finding is about), so the same telemetry
//! read again finds what it stored: an object whose content is unchanged (apart from
//! the fields every run rewrites, [`VOLATILE`]) is not stored again; an object whose
//! content changed (a later `last_seen`, a new score) is stored as a new version that
//! keeps the first version's `created` (and an indicator's `valid_from`) and carries a
//! later `modified`. Objects are validated like any ingest: a finding whose STIX fails
//! is a detector bug, reported as [`StoreFindingsError::Invalid`].

use std::collections::{BTreeMap, HashMap};

use accord_detect::{Finding, Producer};
use accord_store::{Provenance, Store, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::ingest::{ingest_batch, IngestOptions, ObjectResult};

/// The fields that change on every run without the finding changing: they are left
/// out when a new object is compared with the stored one.
pub const VOLATILE: [&str; 3] = ["created", "modified", "valid_from"];

/// What storing did, counted in STIX objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreSummary {
    /// Objects stored for the first time.
    pub created: usize,
    /// Objects stored as a new version (their content changed).
    pub updated: usize,
    /// Objects already stored with the same content (not stored again).
    pub unchanged: usize,
}

impl StoreSummary {
    /// Objects written (first versions and new versions).
    pub fn written(&self) -> usize {
        self.created + self.updated
    }
}

/// Why [`store_findings`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreFindingsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A finding's STIX failed validation (a detector bug).
    #[error("a finding's STIX object failed validation (a detector bug): {0}")]
    Invalid(String),
}

fn without_volatile(m: &Map<String, Value>) -> BTreeMap<&str, &Value> {
    m.iter()
        .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v))
        .collect()
}

/// Whether `old` and `new` differ only in [`VOLATILE`] fields.
fn same_content(old: &Value, new: &Value) -> bool {
    match (old.as_object(), new.as_object()) {
        (Some(a), Some(b)) => without_volatile(a) == without_volatile(b),
        _ => false,
    }
}

fn micros_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| accord_stix::Timestamp::parse(s).ok())
        .map(|t| t.as_micros())
}

/// Makes `new` the next version of `old`: `created` and `valid_from` (where `new` has
/// them) are the first version's, and `modified` is later than `old`'s (a version with
/// the same `modified` would be taken for the stored one and dropped).
fn as_next_version(old: &Value, new: &mut Value) {
    let Some(m) = new.as_object_mut() else { return };
    for keep in ["created", "valid_from"] {
        if let (true, Some(v)) = (m.contains_key(keep), old.get(keep)) {
            m.insert(keep.to_string(), v.clone());
        }
    }
    let (Some(old_modified), true) = (micros_of(old, "modified"), m.contains_key("modified"))
    else {
        return;
    };
    let new_modified = m
        .get("modified")
        .and_then(Value::as_str)
        .and_then(|s| accord_stix::Timestamp::parse(s).ok())
        .map(|t| t.as_micros());
    if new_modified.is_none_or(|n| n <= old_modified) {
        // Millisecond precision, as STIX recommends for `modified`.
        let bumped = (old_modified / 1000 + 1) * 1000;
        m.insert(
            "modified".to_string(),
            Value::String(accord_stix::timestamp::format_millis(bumped)),
        );
    }
}

/// Stores the STIX objects of `findings` (each [`Finding::to_stix`] with `producer`)
/// into `collection` with `provenance`, updating instead of duplicating (see the
/// module documentation). An object given several times in one call (one brand's
/// identity for many look-alikes, one destination over several windows) is stored
/// once, as the last content given, as the next version of the first.
pub fn store_findings<'f>(
    store: &dyn Store,
    findings: impl IntoIterator<Item = &'f (dyn Finding + 'f)>,
    producer: &Producer,
    provenance: &Provenance,
    collection: Option<&str>,
) -> Result<StoreSummary, StoreFindingsError> {
    // Each id once, in the order first given: the last content given, as the next
    // version of the first (so `created` is the first's).
    let mut objects: Vec<(String, Value)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for f in findings {
        for mut obj in f.to_stix(producer) {
            let Some(id) = obj.get("id").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            match at.get(&id) {
                Some(&i) => {
                    if !same_content(&objects[i].1, &obj) {
                        as_next_version(&objects[i].1, &mut obj);
                        objects[i].1 = obj;
                    }
                }
                None => {
                    at.insert(id.clone(), objects.len());
                    objects.push((id, obj));
                }
            }
        }
    }
    // Then against the store: unchanged skipped, changed as the stored one's next version.
    let mut summary = StoreSummary::default();
    let mut out: Vec<Value> = Vec::with_capacity(objects.len());
    for (id, mut obj) in objects {
        match store.latest(&id)? {
            Some(row) => {
                let old: Value = serde_json::from_str(&row.json).unwrap_or(Value::Null);
                if same_content(&old, &obj) {
                    summary.unchanged += 1;
                    continue;
                }
                as_next_version(&old, &mut obj);
                summary.updated += 1;
            }
            None => summary.created += 1,
        }
        out.push(obj);
    }
    let texts: Vec<String> = out.iter().map(Value::to_string).collect();
    let results = ingest_batch(
        store,
        &texts,
        provenance,
        collection,
        &IngestOptions::default(),
    )?;
    for r in results {
        if let ObjectResult::Rejected { rejection, .. } = r {
            return Err(StoreFindingsError::Invalid(rejection.to_string()));
        }
    }
    Ok(summary)
}

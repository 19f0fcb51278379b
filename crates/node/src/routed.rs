//! Each country its part, as a TAXII collection of its own (issue 15, item 5): the
//! routed collection of a responsible organisation (`routed_to` in the configuration)
//! holds the latest version of every object routing selects for it
//! ([`crate::route::select`]: located in its countries or ASNs, with the
//! relationships, context and sightings that explain it).
//!
//! Why a stored collection and not a package served aside: the recipient then polls
//! it like any TAXII collection, and every read goes through the one door
//! ([`crate::egress`]) with nothing new to trust — the release view decides each entry
//! under the recipient's agreements with the object's provider (TLP, scope, embargo,
//! redaction, pseudonymisation; withheld entries are never served, counted or paged
//! over), `added_after` paging and sealed `next` tokens work as everywhere, and every
//! released object is recorded in the ledger when it is read. Filling the collection
//! releases nothing: no byte leaves until the recipient reads.
//!
//! [`deliver`] makes the collection equal to the routing now: versions not yet in it
//! are added (their `date_added` there is the delivery's, so a recipient polling with
//! `added_after` gets what is new or newly located), ids routing no longer selects
//! (their location changed, a new database build) are removed. Marking definitions
//! are left as they are: routing selects none, and the node publishes the agreements'
//! obligations markings into the collections they cover, routed ones included.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use accord_store::{
    for_each_row, NewObject, ObjectQuery, ObjectRow, Provenance, Scope, Store, StoreError,
    VersionFilter, VersionStamp,
};

use crate::enrich::Index;
use crate::route::{select, Responsible};

/// Provenance channel of routed entries (the object keeps its first provenance; the
/// channel names how it entered the collection).
pub const CHANNEL: &str = "route";

/// Object versions added to a collection per store write.
const BATCH: usize = 500;

/// What one delivery changed in one routed collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    /// The recipient organisation.
    pub recipient: String,
    /// Its routed collection (id).
    pub collection: String,
    /// Object versions added (new objects, new versions, newly located ones).
    pub added: usize,
    /// Objects removed (routing no longer selects them).
    pub removed: usize,
    /// Objects the collection holds after the delivery (before the gate: what the
    /// recipient may read of them is decided at each read).
    pub held: usize,
}

/// Makes each recipient's routed collection (`collections`: organisation → collection
/// id) hold the latest version of what routing selects for it now; recipients
/// without a routed collection are skipped. With `dry_run`, counts what would change
/// and writes nothing.
pub fn deliver(
    store: &dyn Store,
    index: &Index,
    recipients: &[Responsible],
    operation: Option<&str>,
    collections: &BTreeMap<String, String>,
    dry_run: bool,
) -> Result<Vec<Delivery>, StoreError> {
    let recipients: Vec<Responsible> = recipients
        .iter()
        .filter(|r| collections.contains_key(&r.organisation))
        .cloned()
        .collect();
    let selection = select(store, index, &recipients, operation)?;
    let mut latest: HashMap<String, Option<ObjectRow>> = HashMap::new();
    let mut out = Vec::new();
    for r in &recipients {
        let Some(collection) = collections.get(&r.organisation) else {
            continue;
        };
        let chosen = selection.get(&r.organisation).cloned().unwrap_or_default();
        let held = held_versions(store, collection)?;
        let mut to_add: Vec<ObjectRow> = Vec::new();
        for id in chosen.keys() {
            let row = match latest.get(id) {
                Some(row) => row.clone(),
                None => {
                    let row = store.latest(id)?;
                    latest.insert(id.clone(), row.clone());
                    row
                }
            };
            let Some(row) = row else { continue };
            let present = held.get(id).is_some_and(|v| v.contains(&key_of(&row)));
            if !present {
                to_add.push(row);
            }
        }
        let gone: Vec<&String> = held.keys().filter(|id| !chosen.contains_key(*id)).collect();
        let delivery = Delivery {
            recipient: r.organisation.clone(),
            collection: collection.clone(),
            added: to_add.len(),
            removed: gone.len(),
            held: chosen.len(),
        };
        if !dry_run {
            add(store, collection, &to_add)?;
            for id in gone {
                store.remove_from_collection(collection, id, &VersionFilter::all(), None)?;
            }
        }
        out.push(delivery);
    }
    Ok(out)
}

/// What tells two stored versions of an id apart: the version instant, or for an
/// unversioned object (whose row instant is its `date_added`, different in each
/// collection) its text.
type VersionKey = (i64, Option<String>);

fn key_of(row: &ObjectRow) -> VersionKey {
    if is_versioned(&row.json) {
        (row.version_micros, None)
    } else {
        (i64::MIN, Some(row.json.clone()))
    }
}

/// The versions a collection holds, by id.
fn held_versions(
    store: &dyn Store,
    collection: &str,
) -> Result<BTreeMap<String, BTreeSet<VersionKey>>, StoreError> {
    let mut query = ObjectQuery::new(Scope::Collection(collection.to_string()), 1_000);
    query.versions = VersionFilter::all();
    let mut held: BTreeMap<String, BTreeSet<VersionKey>> = BTreeMap::new();
    for_each_row(store, query, |row| {
        // Marking definitions are not routing's: the node publishes the agreements'
        // obligations markings into every collection they cover (so a recipient gets
        // the markings its objects reference), and routing never selects one.
        if row.object_type == "marking-definition" {
            return true;
        }
        let key = key_of(&row);
        held.entry(row.id).or_default().insert(key);
        true
    })?;
    Ok(held)
}

/// Adds stored versions to `collection` (each under its provider's provenance, so
/// the store keeps them as they are).
fn add(store: &dyn Store, collection: &str, rows: &[ObjectRow]) -> Result<(), StoreError> {
    let mut by_provider: BTreeMap<&str, Vec<NewObject>> = BTreeMap::new();
    for row in rows {
        by_provider
            .entry(row.provenance.organisation.as_str())
            .or_default()
            .push(new_object(row));
    }
    for (provider, objects) in by_provider {
        let provenance = Provenance::new(provider, CHANNEL);
        for chunk in objects.chunks(BATCH) {
            store.insert(chunk, &provenance, Some(collection))?;
        }
    }
    Ok(())
}

/// The stored version again, as an insert of it (found present, so only the
/// collection entry is written).
fn new_object(row: &ObjectRow) -> NewObject {
    NewObject {
        id: row.id.clone(),
        object_type: row.object_type.clone(),
        spec_version: row.spec_version.clone(),
        version: is_versioned(&row.json).then(|| VersionStamp {
            micros: row.version_micros,
            text: row.version.clone(),
        }),
        facts: row.facts.clone(),
        json: row.json.clone(),
        analytics: Default::default(),
    }
}

/// Whether the object has a version (`modified` or `created`): SCOs have none.
fn is_versioned(json: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .is_some_and(|v| v.get("modified").is_some() || v.get("created").is_some())
}

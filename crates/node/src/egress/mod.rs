//! The one door out (DESIGN.md, principle 2).
//!
//! Every path by which objects leave Accord — TAXII reads (objects, object, versions,
//! manifest), exports, pushes — asks [`Egress`] for them. Nothing else in Accord reads
//! object content for a recipient.
//!
//! **Every answer to a recipient is a function of what that recipient may read** (and
//! of what it wrote itself, which it may read): its content, its `more` flag and `next`
//! token, whether an id exists, which versions exist. The door keeps, per recipient and
//! collection, a release view ([`view`]) of the entries the agreement gate releases,
//! decided when objects, agreements or time change; pages, version filters and id
//! lookups are answered from it alone, in O(page), never by walking withheld rows.
//! When a page is served, the gate renders each released row (retention caps change
//! with the day) and every release is recorded in the ledger before the page is
//! returned.
//!
//! References resolve to what the referencing object's provider holds ([`resolver`]):
//! what a recipient or a third party writes never changes a decision about someone
//! else's objects.
//!
//! A partner reads only collections the node's rights let it read ([`Readers`]); the
//! node's own organisation reads what the node holds (local access: nothing leaves, no
//! agreement applies).

mod aggregate;
mod cursor;
mod deletions;
pub mod ledger;
mod names;
mod released;
mod resolver;
mod trend_cells;
mod view;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use accord_agreements::{
    Decision, Gate, LedgerDraft, ObjectVersion, Preview, RecipientView, Release, UtcMicros,
};
use accord_store::{ObjectQuery, ObjectRow, Scope, Store, StoreError};

pub use aggregate::{aggregate_drafts, AggregateAnswer, AGGREGATE_PREFIX, MAX_AGGREGATE_QUERY};
pub use cursor::{TokenError, MAX_TOKEN_LEN};
pub use deletions::{DeletionNotice, DeletionsPage, DELETION_SCAN_BATCH};
pub use ledger::{LedgerError, LedgerWriter, Receipt};
use resolver::StoreResolver;
use view::{Basis, Ctx, ReleaseView};

pub use released::{HeldRow, ReleasedReader};

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
    /// The organisation that provided it (provenance): federation never sends an
    /// object back to the peer it came from.
    pub provider: String,
    /// When it was added to the collection, microseconds.
    pub date_added: i64,
    /// The released JSON text (empty for manifest queries, which release no content).
    pub json: String,
}

impl ReleasedObject {
    /// Stored entry `row` as `release` releases it; its text only `with_content`.
    fn of(row: &ObjectRow, release: Release<'_>, with_content: bool) -> Self {
        let json = if with_content {
            release.bytes.into_owned()
        } else {
            String::new()
        };
        ReleasedObject {
            id: release
                .released_id
                .clone()
                .unwrap_or_else(|| row.id.clone()),
            version: row.version.clone(),
            spec_version: row.spec_version.clone(),
            provider: row.provenance.organisation.clone(),
            date_added: row.date_added,
            json,
        }
    }
}

/// A page of released objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// What the recipient gets, in ascending `date_added` order.
    pub objects: Vec<ReleasedObject>,
    /// More objects the recipient may read follow (TAXII `more`).
    pub more: bool,
    /// Where to continue (TAXII `next`), when `more`: an opaque token.
    pub next: Option<String>,
    /// The ledger receipt for the releases of this page (none when nothing was
    /// released under an agreement, or the door has no signing key).
    pub receipt: Option<Receipt>,
}

/// What [`Egress::decide_rows`] decided.
#[derive(Debug, Default)]
pub struct Decided {
    /// Released, in the order given.
    pub released: Vec<ReleasedObject>,
    /// Withheld: the stored id and the gate's reason (for the node's operator only).
    pub withheld: Vec<(String, accord_agreements::WithholdReason)>,
    /// The ledger receipt of the releases (when recorded and signed).
    pub receipt: Option<Receipt>,
}

/// Why egress failed. Nothing was released.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The `next` token was not issued by this node to this recipient for this
    /// collection (forged, altered, foreign, or under a key the node no longer has).
    #[error("next: {0}; start the paging again without it")]
    InvalidNext(#[from] TokenError),
    /// A partner asked for a collection it may not read, or for the whole store.
    #[error("organisation '{organisation}' may not read {what}")]
    NotReadable {
        /// The recipient.
        organisation: String,
        /// What it asked for.
        what: String,
    },
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
    /// The paging key could not be read or created.
    #[error("the paging key is unusable: {0}")]
    PagingKey(String),
}

/// Which organisations may read which collections (the configuration's read rights).
/// The door refuses a partner's read of any other collection, whatever path asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readers {
    everyone: bool,
    by_collection: HashMap<String, BTreeSet<String>>,
}

impl Readers {
    /// Nobody but the node's own organisation reads anything.
    pub fn none() -> Readers {
        Readers::default()
    }

    /// Every organisation may read every collection (what agreements allow of it): for
    /// tools and tests without a configuration.
    pub fn everyone() -> Readers {
        Readers {
            everyone: true,
            by_collection: HashMap::new(),
        }
    }

    /// Let `organisation` read `collection`.
    pub fn grant(&mut self, collection: &str, organisation: &str) {
        self.by_collection
            .entry(collection.to_string())
            .or_default()
            .insert(organisation.to_string());
    }

    /// May `organisation` read `collection`?
    pub fn may_read(&self, organisation: &str, collection: &str) -> bool {
        self.everyone
            || self
                .by_collection
                .get(collection)
                .is_some_and(|orgs| orgs.contains(organisation))
    }

    /// Whether every organisation reads every collection ([`Readers::everyone`]).
    pub fn reads_everything(&self) -> bool {
        self.everyone
    }

    /// The collections `organisation` may read, by id (with [`Readers::everyone`],
    /// none are listed: the caller names its collections).
    pub fn collections_of(&self, organisation: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .by_collection
            .iter()
            .filter(|(_, orgs)| orgs.contains(organisation))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }
}

impl From<&crate::config::Config> for Readers {
    fn from(config: &crate::config::Config) -> Readers {
        let mut readers = Readers::none();
        for root in config.api_roots.values() {
            for collection in root.collections.values() {
                for organisation in &collection.read {
                    readers.grant(&collection.id, organisation);
                }
            }
        }
        readers
    }
}

/// The door.
pub struct Egress {
    store: Arc<dyn Store>,
    local_organisation: String,
    /// Replaced whole when agreements are reloaded; readers clone the `Arc` and
    /// release the lock at once.
    gate: RwLock<Arc<Gate>>,
    readers: RwLock<Arc<Readers>>,
    /// Bumped on every new gate or set of readers: release views built before rebuild.
    generation: AtomicU64,
    /// Bumped when the enrichment changed: views of recipients with an agreement scoped
    /// by location rebuild.
    located: AtomicU64,
    views: Mutex<ReleaseViews>,
    /// Each partner's trend cells, kept from its first trends query on
    /// ([`Egress::partner_trend_cells`]), or from its views' start
    /// ([`Egress::keeping_partner_trends`]).
    partner_trends: Mutex<HashMap<String, KeptTrends>>,
    /// Whether [`Egress::refresh_views`] keeps every partner's trend cells.
    keeps_partner_trends: bool,
    /// Started on first use (a door that only serves local reads never needs it).
    ledger: OnceLock<LedgerWriter>,
    /// Loaded from the store on first use.
    tokens: OnceLock<cursor::TokenSeal>,
}

impl Egress {
    /// A door over `store` for the node run by `local_organisation`, with no
    /// agreements and no read rights yet: partners receive nothing until
    /// [`Egress::with_gate`] and [`Egress::with_readers`] (or their `set_` forms) say
    /// what they may receive.
    pub fn new(store: Arc<dyn Store>, local_organisation: impl Into<String>) -> Self {
        Self {
            store,
            local_organisation: local_organisation.into(),
            gate: RwLock::new(Arc::new(Gate::default())),
            readers: RwLock::new(Arc::new(Readers::none())),
            generation: AtomicU64::new(0),
            located: AtomicU64::new(0),
            views: Mutex::new(HashMap::new()),
            partner_trends: Mutex::new(HashMap::new()),
            keeps_partner_trends: false,
            ledger: OnceLock::new(),
            tokens: OnceLock::new(),
        }
    }

    /// The same door applying `gate`.
    pub fn with_gate(self, gate: Gate) -> Self {
        self.set_gate(gate);
        self
    }

    /// The same door with these read rights.
    pub fn with_readers(self, readers: Readers) -> Self {
        self.set_readers(readers);
        self
    }

    /// The same door keeping (`true`) every partner's trend cells beside its release
    /// views from their start ([`Egress::refresh_views`] taps them before it builds
    /// them: the views' first decisions file what they release, with no pass of their
    /// own), so that a partner's first trends query reads cells as later ones do.
    /// Without it (the default) a partner's cells are made at its first trends query,
    /// one pass over what it may read, sparing their memory (some 450 bytes per entry
    /// a partner may read) for partners that never ask (`server.keep_partner_trends`).
    pub fn keeping_partner_trends(mut self, keep: bool) -> Self {
        self.keeps_partner_trends = keep;
        self
    }

    /// Apply a new set of agreements from now on.
    pub fn set_gate(&self, gate: Gate) {
        *self.gate.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(gate);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Apply new read rights from now on.
    pub fn set_readers(&self, readers: Readers) {
        *self.readers.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(readers);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Has every release view whose decisions read the hub's enrichment (those of a
    /// recipient with an agreement scoped by countries or ASNs) decide again from
    /// scratch on its next refresh: the enrichment changed. Other views keep theirs.
    pub fn redecide_views(&self) {
        self.located.fetch_add(1, Ordering::SeqCst);
    }

    /// The agreements in force.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The read rights in force.
    pub fn readers(&self) -> Arc<Readers> {
        self.readers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The organisation this node runs for.
    pub fn local_organisation(&self) -> &str {
        &self.local_organisation
    }

    /// Object versions for `recipient` (TAXII objects, object, versions; exports),
    /// continuing after the `next` token of an earlier page. Every release under an
    /// agreement is in the ledger when this returns.
    pub fn objects(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
        next: Option<&str>,
    ) -> Result<Released, EgressError> {
        self.page(recipient, query, next, now(), true)
    }

    /// The manifest view: the same selection, no content released (and so no ledger
    /// entries).
    pub fn manifest(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
        next: Option<&str>,
    ) -> Result<Released, EgressError> {
        self.page(recipient, query, next, now(), false)
    }

    /// What `recipient` would receive of everything matching `query` now, counted by
    /// type, TLP and withhold reason, without releasing or recording anything. (For the
    /// node's operator: it counts what is withheld too.)
    ///
    /// Released versions are counted as a page would select them (the version filter
    /// applies to what the recipient may read); withheld ones as the store selects
    /// them (the version filter applies to everything held).
    pub fn preview(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
    ) -> Result<Preview, EgressError> {
        let gate = self.gate();
        let mut views = ProviderViews::new(&gate, &recipient.organisation, UtcMicros(now()));
        let collection = collection_of(query);
        let resolver = StoreResolver::new(&*self.store, collection);
        let mut preview = Preview::default();
        let mut all = query.clone();
        all.after = None;
        all.versions = accord_store::VersionFilter::all();
        // (id, version) spans: of released versions by released id, and of every
        // version by stored id.
        let mut released = Vec::new();
        let mut withheld = Vec::new();
        let mut released_span: HashMap<String, (i64, i64)> = HashMap::new();
        let mut stored_span: HashMap<String, (i64, i64)> = HashMap::new();
        loop {
            let page = self.store.query(&all)?;
            for row in &page.rows {
                let facts = facts_of(row)?;
                let version = object_version(row, &facts, collection);
                let bound = resolver.bound(&row.provenance.organisation);
                let decision = views
                    .of(&row.provenance.organisation)
                    .decide(&version, &bound);
                bound.check()?;
                widen(&mut stored_span, &row.id, row.version_micros);
                match decision {
                    Decision::Release(release) => {
                        let id = release
                            .released_id
                            .clone()
                            .unwrap_or_else(|| row.id.clone());
                        widen(&mut released_span, &id, row.version_micros);
                        let transformed = release.is_transformed();
                        released.push((id, row.version_micros, facts, transformed));
                    }
                    Decision::Withhold(reason) => {
                        withheld.push((row.id.clone(), row.version_micros, facts, reason));
                    }
                }
            }
            match (page.more, page.cursor()) {
                (true, Some(c)) => all.after = Some(c),
                _ => break,
            }
        }
        for (id, version, facts, transformed) in released {
            if chosen(&query.versions, released_span.get(&id), version) {
                preview.record_release(&facts, transformed);
            }
        }
        for (id, version, facts, reason) in withheld {
            if chosen(&query.versions, stored_span.get(&id), version) {
                preview.record(&facts, &Decision::Withhold(reason));
            }
        }
        Ok(preview)
    }

    fn page(
        &self,
        recipient: &Recipient,
        query: &ObjectQuery,
        next: Option<&str>,
        now: i64,
        with_content: bool,
    ) -> Result<Released, EgressError> {
        if recipient.organisation == self.local_organisation {
            return self.local_page(query, next, with_content);
        }
        let Scope::Collection(collection) = &query.scope else {
            return Err(EgressError::NotReadable {
                organisation: recipient.organisation.clone(),
                what: "the whole store (name a collection)".into(),
            });
        };
        if !self.readers().may_read(&recipient.organisation, collection) {
            return Err(EgressError::NotReadable {
                organisation: recipient.organisation.clone(),
                what: format!("collection '{collection}'"),
            });
        }
        let after = match next {
            Some(token) => Some(
                self.tokens()?
                    .open(token, &recipient.organisation, collection)?,
            ),
            None => None,
        };
        if query.limit == 0 {
            return Ok(Released::default());
        }
        let (basis, gate) = self.basis_and_gate();
        let ctx = Ctx {
            store: &*self.store,
            gate: &gate,
            now,
            basis,
        };
        let view = self.view_of(&recipient.organisation, collection);
        let selection = {
            let mut view = lock(&view);
            view.refresh(&ctx)?;
            view.select(query, after, query.limit)
        };
        let rows = self.store.entries_at(collection, &selection.positions)?;
        let Rendered {
            objects,
            disagreed,
            receipt,
        } = self.render(&ctx, recipient, collection, &rows, with_content)?;
        if !disagreed.is_empty() {
            let mut view = lock(&view);
            for position in disagreed {
                view.mark_stale(position);
            }
        }
        let next = match (selection.more, selection.positions.last()) {
            (true, Some(last)) => Some(self.tokens()?.seal(
                *last,
                &recipient.organisation,
                collection,
            )),
            _ => None,
        };
        Ok(Released {
            objects,
            more: next.is_some(),
            next,
            receipt,
        })
    }

    /// The released form of each selected row, recorded in the ledger when content is
    /// released (with the ledger's receipt for them). Rows the gate no longer releases
    /// (something changed since the view was refreshed) are left out and returned, to
    /// be decided again.
    fn render(
        &self,
        ctx: &Ctx<'_>,
        recipient: &Recipient,
        collection: &str,
        rows: &[ObjectRow],
        with_content: bool,
    ) -> Result<Rendered, EgressError> {
        let mut views = ProviderViews::new(ctx.gate, &recipient.organisation, UtcMicros(ctx.now));
        let resolver = StoreResolver::new(ctx.store, Some(collection));
        let mut objects = Vec::with_capacity(rows.len());
        let mut drafts = Vec::new();
        let mut disagreed = Vec::new();
        for row in rows {
            let released = decide_row(&mut views, &resolver, collection, row, |decision| {
                let Decision::Release(release) = decision else {
                    return None;
                };
                let draft = with_content
                    .then(|| {
                        LedgerDraft::for_release(
                            UtcMicros(ctx.now),
                            &recipient.organisation,
                            &row.id,
                            &row.version,
                            &release,
                        )
                    })
                    .flatten();
                let object = ReleasedObject::of(row, release, with_content);
                Some((draft, object))
            })?;
            let Some((draft, object)) = released else {
                disagreed.push(row.cursor.0);
                continue;
            };
            drafts.extend(draft);
            objects.push(object);
        }
        let receipt = self.record(drafts)?;
        Ok(Rendered {
            objects,
            disagreed,
            receipt,
        })
    }

    /// Decides each of these stored object versions (read from the whole store, no
    /// collection: an agreement limited to `scope.collections` withholds them) for
    /// `recipient` now: the released ones with their released text, the withheld ones
    /// with the gate's reason. With `record`, every release is in the ledger when this
    /// returns; without (a dry run), nothing is recorded. For pushes the door decides
    /// itself, such as the hub's routing (`crate::route`). The recipient may not be
    /// this node's own organisation (nothing would leave).
    pub fn decide_rows(
        &self,
        recipient: &Recipient,
        rows: &[ObjectRow],
        record: bool,
    ) -> Result<Decided, EgressError> {
        if recipient.organisation == self.local_organisation {
            return Err(EgressError::NotReadable {
                organisation: recipient.organisation.clone(),
                what: "a push to the node's own organisation".into(),
            });
        }
        let gate = self.gate();
        let now = now();
        let mut views = ProviderViews::new(&gate, &recipient.organisation, UtcMicros(now));
        let resolver = StoreResolver::new(&*self.store, None);
        let mut decided = Decided::default();
        let mut drafts = Vec::new();
        for row in rows {
            let facts = facts_of(row)?;
            let version = object_version(row, &facts, None);
            let bound = resolver.bound(&row.provenance.organisation);
            let decision = views
                .of(&row.provenance.organisation)
                .decide(&version, &bound);
            bound.check()?;
            match decision {
                Decision::Release(release) => {
                    if record {
                        drafts.extend(LedgerDraft::for_release(
                            UtcMicros(now),
                            &recipient.organisation,
                            &row.id,
                            &row.version,
                            &release,
                        ));
                    }
                    decided
                        .released
                        .push(ReleasedObject::of(row, release, true));
                }
                Decision::Withhold(reason) => decided.withheld.push((row.id.clone(), reason)),
            }
        }
        decided.receipt = self.record(drafts)?;
        Ok(decided)
    }

    /// Whether `recipient` may read anything of object `id` in `collection` now (any
    /// version): what decides a TAXII 404 for an object.
    pub fn holds(
        &self,
        recipient: &Recipient,
        collection: &str,
        id: &str,
    ) -> Result<bool, EgressError> {
        let mut query = ObjectQuery::new(Scope::Collection(collection.to_string()), 1);
        query.ids = vec![id.to_string()];
        query.versions = accord_store::VersionFilter::all();
        Ok(!self.manifest(recipient, &query, None)?.objects.is_empty())
    }

    /// What `recipient` receives now of each of `rows`, entries of `collection` (as
    /// [`Egress::released_rows`] and [`ReleasedReader`] read them): the released text,
    /// or `None` (the gate decides otherwise than the view did). Nothing is recorded:
    /// for aggregates computed over what a recipient may read (correlation, trends),
    /// whose answers carry counts and ids, not object content; each row is decided as a
    /// page would decide it.
    pub fn released_texts_in<'r>(
        &self,
        recipient: &Recipient,
        collection: &str,
        rows: impl IntoIterator<Item = &'r ObjectRow>,
    ) -> Result<Vec<Option<String>>, EgressError> {
        let gate = self.gate();
        let mut views = ProviderViews::new(&gate, &recipient.organisation, UtcMicros(now()));
        rows.into_iter()
            .map(|row| released_text(&mut views, &*self.store, collection, row))
            .collect()
    }

    /// The collections `organisation` may read (with [`Readers::everyone`], every
    /// collection of the store), by name, each once (what counts each id once across
    /// them breaks ties by this order: `crate::trends`).
    pub fn readable_collections(&self, organisation: &str) -> Result<Vec<String>, EgressError> {
        let readers = self.readers();
        if !readers.reads_everything() {
            return Ok(readers.collections_of(organisation));
        }
        let mut all: Vec<String> = self
            .store
            .stats()?
            .by_collection
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        all.sort_unstable();
        all.dedup();
        Ok(all)
    }

    /// The versions of `collection` that its release view releases to `recipient`, a
    /// run at a time in collection order, the view brought up to date first: what an
    /// aggregate for a partner is computed over. A pass over the whole collection,
    /// deciding each entry, took time (and memory) in proportion to what the partner
    /// may not read. Nothing is recorded here; the aggregate built from them is, as one
    /// answer. Each run still goes through [`Egress::released_texts_in`] at its
    /// caller, which decides again as a page would.
    pub fn released_rows(
        &self,
        recipient: &Recipient,
        collection: &str,
        mut each: impl FnMut(Vec<ObjectRow>) -> Result<(), EgressError>,
    ) -> Result<(), EgressError> {
        if !self.readers().may_read(&recipient.organisation, collection) {
            return Err(EgressError::NotReadable {
                organisation: recipient.organisation.clone(),
                what: format!("collection '{collection}'"),
            });
        }
        let (basis, gate) = self.basis_and_gate();
        let ctx = Ctx {
            store: &*self.store,
            gate: &gate,
            now: now(),
            basis,
        };
        let view = self.view_of(&recipient.organisation, collection);
        let mut query = ObjectQuery::new(Scope::Collection(collection.to_string()), RELEASED_RUN);
        query.versions = accord_store::VersionFilter::all();
        let mut after = None;
        loop {
            let selection = {
                let mut view = lock(&view);
                if after.is_none() {
                    view.refresh(&ctx)?;
                }
                view.select(&query, after, RELEASED_RUN)
            };
            let Some(&last) = selection.positions.last() else {
                return Ok(());
            };
            each(self.store.entries_at(collection, &selection.positions)?)?;
            if !selection.more {
                return Ok(());
            }
            after = Some(last);
        }
    }

    /// `recipient`'s trend cells of `dimension` from day `since` on, over what its
    /// release views release (`crate::trends` for what they count). Kept between
    /// queries: the first query of a partner files what its views release (O(what it
    /// may read)); from then on its views send what they release and forget at each
    /// refresh, and a query reads cells (O(cells)). Built again when the collections
    /// the partner may read change.
    pub fn partner_trend_cells(
        &self,
        recipient: &Recipient,
        dimension: &str,
        since: i64,
    ) -> Result<Vec<accord_store::TrendCell>, EgressError> {
        let collections = self.readable_collections(&recipient.organisation)?;
        let cells = self.kept_trends(&recipient.organisation, &collections);
        let (basis, gate) = self.basis_and_gate();
        let ctx = Ctx {
            store: &*self.store,
            gate: &gate,
            now: now(),
            basis,
        };
        for collection in &collections {
            let view = self.view_of(&recipient.organisation, collection);
            let mut view = lock(&view);
            view.tap_trends(&ctx, &cells)?;
            view.refresh(&ctx)?;
        }
        let mut cells = lock(&cells);
        cells.follow_enrichment(&*self.store)?;
        Ok(cells.cells(dimension, since))
    }

    /// `organisation`'s kept trend cells over `collections` (what it may read, as
    /// [`Egress::readable_collections`] answers): new, empty ones when it had none or
    /// had them over other collections.
    fn kept_trends(
        &self,
        organisation: &str,
        collections: &[String],
    ) -> Arc<Mutex<trend_cells::PartnerTrends>> {
        let mut all = lock(&self.partner_trends);
        let kept = all
            .entry(organisation.to_string())
            .or_insert_with(|| (Vec::new(), Arc::default()));
        if kept.0 != collections {
            *kept = (collections.to_vec(), Arc::default());
        }
        kept.1.clone()
    }

    /// A reader of what `recipient`'s release views release, each view brought up to
    /// date once, here: for aggregates about single values (a partner's correlations).
    pub fn released_reader(
        &self,
        recipient: &Recipient,
    ) -> Result<ReleasedReader<'_>, EgressError> {
        ReleasedReader::new(self, recipient)
    }

    /// Brings every release view a partner may ask for up to date: each organisation
    /// an agreement releases to, in each collection it may read. Returns how many
    /// views there are and how many new entries this pass decided.
    ///
    /// Why: a view decides what changed when it is asked, so without this the first
    /// request of a partner decided the whole collection, withheld entries included,
    /// and any request after an ingest decided what the ingest added: the partner's
    /// wait measured how much the collection held or received, beyond what it may
    /// read. `accord serve` runs this at start and then every
    /// [`VIEW_REFRESH_INTERVAL`] (`accord_node::egress::keep_views_fresh`), so a
    /// request finds its view decided but for the last moments' writes.
    pub fn refresh_views(&self) -> Result<ViewsRefreshed, EgressError> {
        let (basis, gate) = self.basis_and_gate();
        let mut recipients: Vec<&str> = gate
            .agreements()
            .iter()
            .map(|a| a.recipient().id.as_str())
            .filter(|r| *r != self.local_organisation)
            .collect();
        recipients.sort_unstable();
        recipients.dedup();
        let mut views = Vec::new();
        let mut taps = Vec::new();
        for recipient in recipients {
            let collections = self.readable_collections(recipient)?;
            let cells = self
                .keeps_partner_trends
                .then(|| self.kept_trends(recipient, &collections));
            for collection in collections {
                let view = self.view_of(recipient, &collection);
                if let Some(cells) = &cells {
                    taps.push((view.clone(), cells.clone()));
                }
                views.push(view);
            }
        }
        let ctx = |now| Ctx {
            store: &*self.store,
            gate: &gate,
            now,
            basis,
        };
        // Tapped before their first decisions, new views file what they release as
        // they decide it; an untapped view already decided files it here, once.
        for (view, cells) in &taps {
            lock(view).tap_trends(&ctx(now()), cells)?;
        }
        self.feed_arrivals(&views, &ctx(now()))?;
        let mut refreshed = ViewsRefreshed::default();
        for view in &views {
            let mut view = lock(view);
            refreshed.entries_decided += view.refresh(&ctx(now()))?;
            refreshed.views += 1;
        }
        Ok(refreshed)
    }

    /// Reads the store's feed of new versions once, from the position of the view
    /// furthest behind, and hands each run to every view that follows it: each used to
    /// read the whole feed itself, which made a pass O(writes × views). A view that is
    /// about to be rebuilt does not follow the feed (its rebuild starts at its end).
    fn feed_arrivals(
        &self,
        views: &[Arc<Mutex<ReleaseView>>],
        ctx: &Ctx<'_>,
    ) -> Result<(), EgressError> {
        let Some(mut from) = views
            .iter()
            .filter_map(|v| lock(v).arrivals_seen(ctx))
            .min()
        else {
            return Ok(());
        };
        loop {
            let batch = self.store.ids_added_after(from, ARRIVALS_BATCH)?;
            let Some(&(last, _)) = batch.last() else {
                return Ok(());
            };
            for view in views {
                let mut view = lock(view);
                if view.arrivals_seen(ctx).is_some() {
                    view.note_arrivals(&batch);
                }
            }
            from = last;
        }
    }

    /// The views' generations, then the gate: read in that order, a gate replaced in
    /// between is newer than the generation a view records, so the next refresh
    /// rebuilds the view (the other order could record old decisions as current). The
    /// enrichment is changed before its generation is bumped
    /// (`crate::enrich_keeper`), so a view decided in between rebuilds once more.
    fn basis_and_gate(&self) -> (Basis, Arc<Gate>) {
        let basis = Basis {
            generation: self.generation.load(Ordering::SeqCst),
            located: self.located.load(Ordering::SeqCst),
        };
        (basis, self.gate())
    }

    fn view_of(&self, recipient: &str, collection: &str) -> Arc<Mutex<ReleaseView>> {
        let mut views = lock(&self.views);
        views
            .entry((recipient.to_string(), collection.to_string()))
            .or_insert_with(|| Arc::new(Mutex::new(ReleaseView::new(recipient, collection))))
            .clone()
    }

    fn tokens(&self) -> Result<&cursor::TokenSeal, EgressError> {
        if let Some(seal) = self.tokens.get() {
            return Ok(seal);
        }
        let key = self
            .store
            .node_secret(cursor::KEY_NAME, &cursor::TokenSeal::fresh_key())?;
        let seal = cursor::TokenSeal::new(&key).ok_or_else(|| {
            EgressError::PagingKey(format!("stored key has {} bytes, not 32", key.len()))
        })?;
        Ok(self.tokens.get_or_init(|| seal))
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

    /// Local access: the node's own organisation reads what the node holds.
    fn local_page(
        &self,
        query: &ObjectQuery,
        next: Option<&str>,
        with_content: bool,
    ) -> Result<Released, EgressError> {
        let scope = scope_name(query);
        let mut query = query.clone();
        query.after = match next {
            Some(token) => Some(accord_store::Cursor(self.tokens()?.open(
                token,
                &self.local_organisation,
                &scope,
            )?)),
            None => None,
        };
        if query.limit == 0 {
            return Ok(Released::default());
        }
        let page = self.store.query(&query)?;
        let next = match (page.more, page.cursor()) {
            (true, Some(c)) => Some(self.tokens()?.seal(c.0, &self.local_organisation, &scope)),
            _ => None,
        };
        let objects = page
            .rows
            .into_iter()
            .map(|row| ReleasedObject {
                id: row.id,
                version: row.version,
                spec_version: row.spec_version,
                provider: row.provenance.organisation,
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
            more: next.is_some(),
            next,
            receipt: None,
        })
    }
}

/// Widen the (first, last) version span of `id` with `version`.
fn widen(spans: &mut HashMap<String, (i64, i64)>, id: &str, version: i64) {
    let span = spans.entry(id.to_string()).or_insert((version, version));
    span.0 = span.0.min(version);
    span.1 = span.1.max(version);
}

/// Whether a version filter selects `version`, given its id's (first, last) span.
fn chosen(versions: &accord_store::VersionFilter, span: Option<&(i64, i64)>, version: i64) -> bool {
    let (first, last) = span.copied().unwrap_or((version, version));
    versions.all
        || (versions.last && version == last)
        || (versions.first && version == first)
        || versions.exact.contains(&version)
}

/// What a local token is bound to: the collection, or the store as a whole.
fn scope_name(query: &ObjectQuery) -> String {
    match &query.scope {
        Scope::Collection(c) => c.clone(),
        Scope::Store => "\0store".to_string(),
    }
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

/// The gate's decision now on the stored entry `row` of `collection`, for the
/// recipient of `views`, its references resolved through `resolver`, handed to
/// `then` (the decision borrows the row's decoded facts, which live here). A store
/// failure while resolving is an error, not a withholding.
fn decide_row<R>(
    views: &mut ProviderViews<'_>,
    resolver: &StoreResolver<'_>,
    collection: &str,
    row: &ObjectRow,
    then: impl FnOnce(Decision<'_>) -> R,
) -> Result<R, EgressError> {
    let facts = facts_of(row)?;
    let version = object_version(row, &facts, Some(collection));
    let bound = resolver.bound(&row.provenance.organisation);
    let decision = views
        .of(&row.provenance.organisation)
        .decide(&version, &bound);
    bound.check()?;
    Ok(then(decision))
}

/// What the gate releases of the entry `row` of `collection` now (`None`: withheld).
fn released_text(
    views: &mut ProviderViews<'_>,
    store: &dyn Store,
    collection: &str,
    row: &ObjectRow,
) -> Result<Option<String>, EgressError> {
    let resolver = StoreResolver::new(store, Some(collection));
    decide_row(
        views,
        &resolver,
        collection,
        row,
        |decision| match decision {
            Decision::Release(release) => Some(release.bytes.into_owned()),
            Decision::Withhold(_) => None,
        },
    )
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

/// The gate's views of one recipient, one per provider. A view remembers the outcome
/// of each referenced object by id, and the same id resolves to each provider's own
/// holdings (see [`resolver`]), so providers must not share a view.
struct ProviderViews<'g> {
    gate: &'g Gate,
    recipient: &'g str,
    now: UtcMicros,
    views: HashMap<String, RecipientView<'g>>,
}

impl<'g> ProviderViews<'g> {
    fn new(gate: &'g Gate, recipient: &'g str, now: UtcMicros) -> Self {
        Self {
            gate,
            recipient,
            now,
            views: HashMap::new(),
        }
    }

    fn of(&mut self, provider: &str) -> &RecipientView<'g> {
        let (gate, recipient, now) = (self.gate, self.recipient, self.now);
        self.views
            .entry(provider.to_string())
            .or_insert_with(|| gate.view(recipient, now))
    }
}

/// Released entries read per run of [`Egress::released_rows`].
const RELEASED_RUN: usize = 1_000;

/// New versions read from the store's feed per step of [`Egress::refresh_views`],
/// handed to every view at once.
const ARRIVALS_BATCH: usize = 10_000;

/// `m` locked; a lock a panicking thread held is taken as it is (what it guards is
/// kept consistent by each holder's own steps).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How often `accord serve` brings every release view up to date
/// ([`Egress::refresh_views`]).
pub const VIEW_REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// What one [`Egress::refresh_views`] pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewsRefreshed {
    /// The views brought up to date.
    pub views: usize,
    /// New entries of their collections decided in this pass.
    pub entries_decided: u64,
}

/// Keeps `egress`'s release views up to date until `stop` is set: a pass at once,
/// then one every [`VIEW_REFRESH_INTERVAL`]. A failed pass is logged and retried on
/// the next tick (the views are decided on request meanwhile, as without it).
pub fn keep_views_fresh(egress: &Egress, stop: &std::sync::atomic::AtomicBool) {
    crate::periodic::run_every(VIEW_REFRESH_INTERVAL, stop, || {
        if let Err(e) = egress.refresh_views() {
            tracing::warn!(error = %e, "refreshing the release views failed");
        }
    });
}

/// A partner's kept trend cells and the collections they count (the cells are built
/// again when those change).
type KeptTrends = (Vec<String>, Arc<Mutex<trend_cells::PartnerTrends>>);

/// The release views of the door, by (recipient, collection).
type ReleaseViews = HashMap<(String, String), Arc<Mutex<ReleaseView>>>;

/// A rendered page: the released objects, the positions the gate no longer releases,
/// and the ledger's receipt.
struct Rendered {
    objects: Vec<ReleasedObject>,
    disagreed: Vec<i64>,
    receipt: Option<Receipt>,
}

//! The `Store` trait: everything Accord keeps, behind one interface.

use accord_agreements::merkle::{Hash, NodeId};
use accord_agreements::transparency::SignedTreeHead;

use crate::error::StoreError;
use crate::model::{
    AddressEnrichment, BackfillRow, DomainEnrichment, EnrichmentSource, EnrichmentState, FeedHeads,
    InsertOutcome, LedgerRecord, LedgerTree, LocatedDelta, LocatedState, NewObject, ObjectQuery,
    ObjectRow, Page, PeerRecord, Provenance, Removal, Stats, StatusRecord, Tombstone, TrendCell,
    TrendKey, ValueRow, VersionFilter,
};

/// Signs the tree an append made (called inside the append's transaction).
pub type HeadSigner<'a> = dyn Fn(LedgerTree) -> SignedTreeHead + Sync + 'a;

/// Durable storage for object versions, collection membership, TAXII status resources
/// and the release ledger.
///
/// Every backend (SQLite now, PostgreSQL next) passes the same conformance suite
/// (`crates/store/tests/conformance.rs`). Methods are synchronous: backends manage their
/// own connections, and async callers use `spawn_blocking`.
///
/// Guarantees every backend gives:
/// - an insert is atomic per call and durable when it returns `Ok`;
/// - `date_added` values are unique and strictly increasing across the store, so the
///   arrival order is a total order and a cursor never skips or repeats a row;
/// - a query page costs O(limit) index work, whatever the collection size (filters on
///   id, type and `added_after` are index-backed; version filters cost O(versions of
///   each returned id)).
pub trait Store: Send + Sync {
    /// Store object versions (with their provenance) and, if `collection` is given, add
    /// them to it. One outcome per object, in order. Already-present versions are kept
    /// as first stored (and keep their first provenance).
    fn insert(
        &self,
        objects: &[NewObject],
        provenance: &Provenance,
        collection: Option<&str>,
    ) -> Result<Vec<InsertOutcome>, StoreError>;

    /// Make every write so far durable (for stores opened for bulk loading, whose
    /// commits reach the disk lazily). A no-op where every commit is already durable.
    fn sync(&self) -> Result<(), StoreError>;

    /// One page of object versions matching `query`, in ascending `date_added` order.
    fn query(&self, query: &ObjectQuery) -> Result<Page, StoreError>;

    /// The latest stored version of an object, store-wide (used to resolve references).
    fn latest(&self, id: &str) -> Result<Option<ObjectRow>, StoreError>;

    /// Remove versions of an object from a collection (only those `provider` provided,
    /// when given); returns how many entries went, and logs the removal (see
    /// [`Store::removals_after`]) and a tombstone per version removed (see
    /// [`Store::tombstones_after`]). The versions stay in the store (other collections and
    /// the ledger refer to them).
    fn remove_from_collection(
        &self,
        collection: &str,
        id: &str,
        versions: &VersionFilter,
        provider: Option<&str>,
    ) -> Result<u64, StoreError>;

    /// The tombstones of `collection` (one per version [`Store::remove_from_collection`]
    /// removed, written in the removal's transaction) deleted after `after`
    /// (microseconds, a [`Tombstone::deleted`]), oldest first, at most `limit`.
    /// Index-backed: costs O(returned).
    fn tombstones_after(
        &self,
        collection: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Tombstone>, StoreError>;

    /// `date_added` and id of the object versions stored after `after`, oldest first, at
    /// most `limit`: what changed in the store since a reader last looked.
    fn ids_added_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, String)>, StoreError>;

    /// The entries of `collection` at these positions (their `date_added` there), those
    /// that still exist, in ascending order. Costs O(positions) index lookups.
    fn entries_at(&self, collection: &str, positions: &[i64])
        -> Result<Vec<ObjectRow>, StoreError>;

    /// Removals from collections logged after `after` (a [`Removal::seq`]), in order, at
    /// most `limit`.
    fn removals_after(&self, after: u64, limit: usize) -> Result<Vec<Removal>, StoreError>;

    /// Where the change feeds end now: the newest object version's `date_added` (0 for
    /// an empty store) and the last removal's `seq` (0 when none). O(1).
    fn feed_heads(&self) -> Result<FeedHeads, StoreError>;

    /// The node secret stored under `name`; the first call stores `fresh` and returns
    /// it, later calls (from any process sharing the store) return the stored value.
    fn node_secret(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError>;

    /// The version of the gate-facts extraction every stored `facts` column was written
    /// with (0: written before versions were recorded, or an empty new store).
    fn facts_extraction(&self) -> Result<u32, StoreError>;

    /// Re-extracts the `facts` of every stored object version with `extract` (given the
    /// object's JSON; `None` keeps the stored column), rewriting the columns that change, and records `extraction` as
    /// the store's [`Store::facts_extraction`]. Runs in batches, each its own
    /// transaction; a run that stops half-way leaves the version unrecorded, so the
    /// next run starts again. Returns the number of columns rewritten.
    fn refresh_facts(
        &self,
        extraction: u32,
        extract: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<u64, StoreError>;

    /// Waits until the correlation index holds everything this handle inserted (its
    /// follower has applied it).
    ///
    /// The correlation reads below do not wait: they read the index as it stands, which
    /// lags an insert by at most about a second (the follower gathers small inserts).
    /// Waiting inside them made an answer's timing depend on what anyone had written a
    /// moment before (every provider's inserts, queued ahead of the reader's own): a
    /// partner could time its queries to watch others write. A caller that needs its
    /// own inserts counted (the operator's answers, a recount of location cells) waits
    /// here first; a partner's answers never do.
    fn settle_correlation(&self) -> Result<(), StoreError>;

    /// Values (correlation candidates) stated or sighted by at least `min_providers`
    /// distinct providers store-wide (at least 2), most shared first, at most `limit`.
    /// Index-backed: costs O(returned), whatever the number of distinct values. Reads
    /// the index as it stands ([`Store::settle_correlation`]).
    fn shared_values(&self, min_providers: i64, limit: usize) -> Result<Vec<ValueRow>, StoreError>;

    /// The interned values equal to `value`, of any kind.
    fn values_named(&self, value: &str) -> Result<Vec<ValueRow>, StoreError>;

    /// The object versions that state value `vid`, in arrival order.
    fn value_objects(&self, vid: i64) -> Result<Vec<ObjectRow>, StoreError>;

    /// The sighting versions whose `sighting_of_ref` is `id`, in arrival order.
    fn sightings_of(&self, id: &str) -> Result<Vec<ObjectRow>, StoreError>;

    /// The collection each stored version (by `date_added`, as [`ObjectRow`] gives
    /// it) was reported in: the one its insert added it to (not one that took the same
    /// version later); `None` for a version inserted into no collection. One answer
    /// per version, in order.
    fn reported_in(&self, versions: &[i64]) -> Result<Vec<Option<String>>, StoreError>;

    /// The trend cells of `dimension` (of one `metric`, or every metric) from day
    /// `since_day` (days since the Unix epoch) on, in no particular order.
    fn trend_cells(
        &self,
        dimension: &str,
        metric: Option<&str>,
        since_day: i64,
    ) -> Result<Vec<TrendCell>, StoreError>;

    /// Adds to trend cells without objects behind them (benchmarks stand for millions
    /// of sightings this way), in one transaction.
    fn add_trend_cells(&self, provider: &str, keys: &[TrendKey]) -> Result<(), StoreError>;
    /// Where the stored enrichment stands (`None`: never computed).
    fn enrichment_state(&self) -> Result<Option<EnrichmentState>, StoreError>;

    /// Stores enrichment facts in one transaction: with `replace`, everything stored
    /// before is dropped first (the databases changed); without, the rows are added or
    /// replaced one by one (objects added since the last run). Records `sources` and
    /// `covers_until` as the new [`EnrichmentState`].
    fn put_enrichment(
        &self,
        replace: bool,
        sources: &[EnrichmentSource],
        covers_until: i64,
        addresses: &[AddressEnrichment],
        domains: &[DomainEnrichment],
    ) -> Result<(), StoreError>;

    /// Where the stored country/ASN trend cells stand (`None`: never counted).
    fn located_state(&self) -> Result<Option<LocatedState>, StoreError>;

    /// Changes the stored country/ASN trend cells in one transaction (with
    /// `replace`, every stored one is dropped first) and records `state`.
    fn put_located(
        &self,
        replace: bool,
        deltas: &[LocatedDelta],
        state: LocatedState,
    ) -> Result<(), StoreError>;

    /// Where a pending analytics backfill stands: `Some(after)` when the objects
    /// added after `after` still need their analytics recorded (a store migrated from
    /// a schema without analytics), `None` when nothing is pending.
    fn analytics_backfill(&self) -> Result<Option<i64>, StoreError>;

    /// Records the analytics of stored versions (all of `provider`, in `date_added`
    /// order) as their insert would have, and moves the backfill past `after`, in one
    /// transaction (so an interrupted backfill resumes where it stopped). `done`
    /// ends the backfill.
    fn backfill_analytics(
        &self,
        provider: &str,
        rows: &[BackfillRow],
        after: i64,
        done: bool,
    ) -> Result<(), StoreError>;

    /// The enrichment of these addresses (canonical text), those that have one, in
    /// the order asked.
    fn enriched_addresses(
        &self,
        addresses: &[String],
    ) -> Result<Vec<AddressEnrichment>, StoreError>;

    /// The enrichment of these domains, those that have one, in the order asked.
    fn enriched_domains(&self, domains: &[String]) -> Result<Vec<DomainEnrichment>, StoreError>;

    /// Enriched addresses after `after` in text order, at most `limit` (a scan of the
    /// whole table, page by page: `after` is the last address of the previous page,
    /// `""` to start).
    fn scan_enriched_addresses(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<AddressEnrichment>, StoreError>;

    /// Counts by type, provider and collection.
    fn stats(&self) -> Result<Stats, StoreError>;

    /// Save (insert or replace) a TAXII status resource.
    fn put_status(&self, status: &StatusRecord) -> Result<(), StoreError>;

    /// A status resource, if it exists and belongs to `organisation`.
    fn status(&self, id: &str, organisation: &str) -> Result<Option<StatusRecord>, StoreError>;

    /// Append ledger entries and extend the ledger's Merkle tree over them, in one
    /// transaction; returns the tree after the append. `records[0].seq` must be one
    /// past the last stored entry and the sequence must have no gaps; else
    /// [`StoreError::LedgerOutOfOrder`] (and nothing is appended).
    ///
    /// The leaf of entry `seq` is `SHA-256(0x00 || encoded)` at index `seq - 1`; the
    /// store keeps every perfect subtree hash ([`NodeId`]) a leaf completes
    /// ([`accord_agreements::merkle::Frontier::push`]), so any proof costs O(log n).
    fn ledger_append(&self, records: &[LedgerRecord]) -> Result<LedgerTree, StoreError>;

    /// [`Store::ledger_append`], and the head `sign` makes of the new tree kept with
    /// [`Store::ledger_put_head`]'s rule, in the same transaction: one durable commit
    /// per page of releases, and never a tree without its head.
    fn ledger_append_signed(
        &self,
        records: &[LedgerRecord],
        sign: &HeadSigner<'_>,
    ) -> Result<SignedTreeHead, StoreError>;

    /// The ledger's Merkle tree now (size and root).
    fn ledger_tree(&self) -> Result<LedgerTree, StoreError>;

    /// The hashes of perfect subtrees of the ledger's tree, in the order asked
    /// ([`StoreError::LedgerNodeAbsent`] for a node beyond the tree). A node, once
    /// complete, never changes: the nodes of any earlier tree size are found here too.
    fn ledger_nodes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError>;

    /// Keep a signed tree head. The first head kept for a tree size stays.
    fn ledger_put_head(&self, head: &SignedTreeHead) -> Result<(), StoreError>;

    /// The signed head kept for `tree_size`, if any.
    fn ledger_head(&self, tree_size: u64) -> Result<Option<SignedTreeHead>, StoreError>;

    /// The signed head of the largest tree size, if any.
    fn ledger_latest_head(&self) -> Result<Option<SignedTreeHead>, StoreError>;

    /// The last ledger entry, if any (where the chain continues from).
    fn ledger_last(&self) -> Result<Option<LedgerRecord>, StoreError>;

    /// Ledger entries with `seq > after`, in order, at most `limit`.
    fn ledger_scan(&self, after: u64, limit: usize) -> Result<Vec<LedgerRecord>, StoreError>;

    /// Add or replace a federation peer's definition (its state is kept when it exists,
    /// `{}` for a new peer).
    fn put_peer(&self, name: &str, definition: &str) -> Result<(), StoreError>;

    /// Replace a peer's sync state; `false` when no such peer exists (it was removed
    /// meanwhile: the state is dropped, not resurrected).
    fn put_peer_state(&self, name: &str, state: &str) -> Result<bool, StoreError>;

    /// Every peer, in order of name.
    fn peers(&self) -> Result<Vec<PeerRecord>, StoreError>;

    /// Remove a peer and its state; `false` when there was none.
    fn remove_peer(&self, name: &str) -> Result<bool, StoreError>;

    /// Ledger entries recording releases of `object_id` to `recipient`, in order.
    fn ledger_find(
        &self,
        recipient: &str,
        object_id: &str,
    ) -> Result<Vec<LedgerRecord>, StoreError>;

    /// Ledger entries whose released id is `released_id` and differs from the stored
    /// id (pseudonymised SCOs: the id the recipient holds), to `recipient`, in order.
    /// Entries released under their stored id are found by [`Store::ledger_find`].
    fn ledger_find_released(
        &self,
        recipient: &str,
        released_id: &str,
    ) -> Result<Vec<LedgerRecord>, StoreError>;
}

/// Convenience: fetch a whole query, page by page (for exports and tests).
///
/// Calls `each` for every row; stops early if `each` returns `false`.
pub fn for_each_row(
    store: &dyn Store,
    mut query: ObjectQuery,
    mut each: impl FnMut(ObjectRow) -> bool,
) -> Result<(), StoreError> {
    loop {
        let page = store.query(&query)?;
        let cursor = page.cursor();
        for row in page.rows {
            if !each(row) {
                return Ok(());
            }
        }
        match (page.more, cursor) {
            (true, Some(c)) => query.after = Some(c),
            _ => return Ok(()),
        }
    }
}

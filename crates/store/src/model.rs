//! The values that cross the [`Store`](crate::Store) interface.
//!
//! Times are microseconds since the Unix epoch (`i64`), the resolution at which Accord
//! orders and compares STIX timestamps; the original timestamp text is kept beside them
//! for output.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// Where an object version came from: who provided it and through which door.
///
/// The provider is the organisation whose agreements govern onward release of the
/// object (DESIGN.md, principle 2), so it is recorded once, at the first insert of a
/// version, and never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The providing organisation's name as declared in the server configuration.
    pub organisation: String,
    /// How it arrived, for example `taxii`, `cli-ingest` or `match`.
    pub channel: String,
}

impl Provenance {
    /// A provenance record for `organisation` arriving through `channel`.
    pub fn new(organisation: impl Into<String>, channel: impl Into<String>) -> Self {
        Self {
            organisation: organisation.into(),
            channel: channel.into(),
        }
    }
}

/// One validated object version, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// The STIX identifier, `type--uuid`.
    pub id: String,
    /// The STIX type (the prefix of `id`).
    pub object_type: String,
    /// `spec_version`; `2.1` when the object (an SCO) omits it.
    pub spec_version: String,
    /// The version: `modified`, else `created`, else `None` (SCOs, which are not versioned).
    pub version: Option<VersionStamp>,
    /// Facts the agreement gate needs, extracted once at ingest; opaque to the store.
    pub facts: Vec<u8>,
    /// The object's JSON text, exactly as it will be served.
    pub json: String,
    /// What the node's analytics (correlation, trends) keep of it, maintained in the
    /// same transaction as the object; opaque in meaning to the store.
    pub analytics: Analytics,
}

/// What a new object version adds to the store's incremental analytics (see
/// `accord_node::analytics`): extracted by the node at ingest, applied by the store in
/// the insert's own transaction, so the aggregates never disagree with the objects.
/// Applied only when the version is new to the store.
///
/// Its lists hold their first element inline: most objects state one value and count
/// under one key, and ingest extracts these on the validators' threads and frees them
/// on the writer's. An allocation freed on another thread than the one that made it is
/// not reused there at once, and the validators took fresh pages from the system
/// instead, each zeroed by the kernel (BENCHMARKS.md, "Analytics without a copy per
/// object").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analytics {
    /// Observable values the object states, `(kind, value)` normalised (`ip`,
    /// `domain`, `url`, `file-hash`, `email`): each is interned once store-wide and
    /// linked to this object version (correlation). Kinds are a fixed set: no copy
    /// per object.
    pub values: SmallVec<[(&'static str, String); 1]>,
    /// For a sighting: the id of the object it sights (its values gain the sighting's
    /// provider, whichever of the two arrives first).
    pub sighting_of: Option<String>,
    /// Counts this object adds to the trend aggregates when it is the first version of
    /// its id the store holds ("new" indicators, infrastructure, sightings). The store
    /// adds the `provider` dimension itself: the first `type` key's metric, day and
    /// weight, under the inserting provider (one cell per counted object, not one key
    /// each; a relationship, whose `family` / `technique` key counts its source, adds
    /// none).
    pub trends: SmallVec<[TrendKey; 1]>,
}

impl Analytics {
    /// Nothing to record.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.sighting_of.is_none() && self.trends.is_empty()
    }

    /// Something for the correlation index: values stated, or an id sighted.
    pub fn correlates(&self) -> bool {
        !self.values.is_empty() || self.sighting_of.is_some()
    }

    /// What the object counts with as one object ([`TrendKey::basis`]).
    pub fn basis(&self) -> Option<&TrendKey> {
        TrendKey::basis(&self.trends)
    }
}

/// One cell increment of the trend aggregates: `weight` more `metric` on `day` under
/// `key` of `dimension`, from the inserting provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendKey {
    /// `indicators`, `infrastructure` or `sightings` (a fixed set: no copy per
    /// object).
    pub metric: &'static str,
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// `type`, `family`, `provider`, `technique`, ... (a fixed set).
    pub dimension: &'static str,
    /// The series within the dimension (static for the fixed names, such as value
    /// kinds and STIX types: no copy per object).
    pub key: std::borrow::Cow<'static, str>,
    /// How much to add (a sighting's `count`).
    pub weight: i64,
}

impl TrendKey {
    /// Among an object's keys, the one it counts with as one object (under its
    /// provider, where it is): its first `type` key. A relationship has none: its
    /// `family` / `technique` key counts its source, which counts itself.
    pub fn basis(keys: &[TrendKey]) -> Option<&TrendKey> {
        keys.iter().find(|t| t.dimension == "type")
    }
}

/// One stored cell of the trend aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendCell {
    /// The metric.
    pub metric: String,
    /// Days since the Unix epoch.
    pub day: i64,
    /// The series.
    pub key: String,
    /// The provider whose objects made the cell.
    pub provider: String,
    /// The sum of weights.
    pub count: i64,
    /// Who the cell's sightings were seen at, each once, sorted: the victims
    /// k-anonymity counts (docs/trends.md), at most the first 1,000 (no `k` is larger:
    /// `accord_agreements::MAX_AGGREGATE_MIN_PROVIDERS`). Empty for other metrics, and
    /// in the cells the store keeps, which only the node's operator reads (its answers
    /// suppress nothing).
    pub victims: Vec<String>,
}

/// An interned observable value and how many providers stated it (or sighted an
/// object stating it), store-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRow {
    /// The store's id of the value.
    pub vid: i64,
    /// `ip`, `domain`, `url`, `file-hash` or `email`.
    pub kind: String,
    /// The normalised value.
    pub value: String,
    /// Distinct sources store-wide that state or sight it, a source being a provider
    /// in a collection (at least the distinct providers): a value is shared when it
    /// has two, by two providers or by one in two collections.
    pub providers: i64,
}

/// A version timestamp: the instant for ordering and equality, the text for output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionStamp {
    /// Microseconds since the Unix epoch.
    pub micros: i64,
    /// The timestamp as the object states it.
    pub text: String,
}

/// What happened to one object of an insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// A new version was stored (and added to the collection, if one was named).
    Added {
        /// When the store took it in (and, in a collection, the TAXII `date_added`).
        date_added: i64,
    },
    /// The store already held this id and version; it was (if needed) added to the
    /// collection, and the stored text was kept.
    AlreadyPresent {
        /// The `date_added` of the existing entry (collection entry if one was named).
        date_added: i64,
        /// True when the new text differs from the stored one (a STIX producer error:
        /// a changed object must get a new `modified`).
        differs: bool,
    },
}

impl InsertOutcome {
    /// The `date_added` of the object in the collection (or store).
    pub fn date_added(&self) -> i64 {
        match *self {
            Self::Added { date_added } | Self::AlreadyPresent { date_added, .. } => date_added,
        }
    }
}

/// Which part of the store a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every object version the store holds, in the order they arrived.
    Store,
    /// The versions added to one TAXII collection, in the order they were added to it.
    Collection(String),
}

/// TAXII `match[version]`: which versions of each object to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter {
    /// Every version.
    pub all: bool,
    /// The earliest version (by version timestamp).
    pub first: bool,
    /// The latest version (by version timestamp).
    pub last: bool,
    /// Versions with exactly these timestamps (microseconds).
    pub exact: Vec<i64>,
}

impl VersionFilter {
    /// The TAXII default: the latest version of each object.
    pub fn last() -> Self {
        Self {
            last: true,
            ..Self::default()
        }
    }

    /// Every version of each object.
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }
}

/// A provider whose objects the reader may see, up to a `date_added` (an embargo).
///
/// This is how the agreement gate pushes its coarse decision into the query, so that a
/// page of results for a recipient costs O(page) and not O(collection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderWindow {
    /// The providing organisation.
    pub organisation: String,
    /// Only versions added at or before this instant (microseconds); `None` = no bound.
    pub added_until: Option<i64>,
}

/// A page request. Results come in ascending `date_added` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    /// The collection or the whole store.
    pub scope: Scope,
    /// Only these ids (empty = any).
    pub ids: Vec<String>,
    /// Only these types (empty = any).
    pub types: Vec<String>,
    /// Only these `spec_version`s (empty = any).
    pub spec_versions: Vec<String>,
    /// Which versions of each object.
    pub versions: VersionFilter,
    /// Only entries added strictly after this instant (TAXII `added_after`).
    pub added_after: Option<i64>,
    /// Continue after this cursor (from [`Page::cursor`]).
    pub after: Option<Cursor>,
    /// Only objects of these providers (within their windows); `None` = any provider.
    pub providers: Option<Vec<ProviderWindow>>,
    /// At most this many rows.
    pub limit: usize,
}

impl ObjectQuery {
    /// A query for everything in `scope`, latest versions, `limit` rows.
    pub fn new(scope: Scope, limit: usize) -> Self {
        Self {
            scope,
            ids: Vec::new(),
            types: Vec::new(),
            spec_versions: Vec::new(),
            versions: VersionFilter::last(),
            added_after: None,
            after: None,
            providers: None,
            limit,
        }
    }
}

/// A position in a scope's arrival order. Opaque to clients; stable across writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor(pub i64);

impl Cursor {
    /// The cursor as a TAXII `next` token.
    pub fn to_token(self) -> String {
        format!("{:x}", self.0)
    }

    /// Parse a TAXII `next` token made by [`Cursor::to_token`].
    pub fn from_token(token: &str) -> Option<Cursor> {
        if token.is_empty() || token.len() > 16 {
            return None;
        }
        i64::from_str_radix(token, 16)
            .ok()
            .filter(|v| *v >= 0)
            .map(Cursor)
    }
}

/// One stored object version as a query returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// The object's position in the scope (its `date_added` in microseconds).
    pub cursor: Cursor,
    /// The STIX identifier.
    pub id: String,
    /// The STIX type.
    pub object_type: String,
    /// `spec_version` (`2.1` where the object omits it).
    pub spec_version: String,
    /// The version timestamp text; for unversioned objects, the `date_added` text.
    pub version: String,
    /// The version instant in microseconds (for unversioned objects, the store `date_added`).
    pub version_micros: i64,
    /// When it was added to the scope (microseconds).
    pub date_added: i64,
    /// Who provided it and how.
    pub provenance: Provenance,
    /// The gate facts stored with it.
    pub facts: Vec<u8>,
    /// The object's JSON text.
    pub json: String,
}

/// A page of results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The rows, in ascending `date_added` order.
    pub rows: Vec<ObjectRow>,
    /// True when more rows match after this page.
    pub more: bool,
}

impl Page {
    /// Where the next page starts.
    pub fn cursor(&self) -> Option<Cursor> {
        self.rows.last().map(|r| r.cursor)
    }
}

/// Counts for `accord stats` and the metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Object versions stored.
    pub object_versions: u64,
    /// Distinct object ids stored.
    pub objects: u64,
    /// Versions per type, sorted by type.
    pub by_type: Vec<(String, u64)>,
    /// Versions per provider organisation, sorted by name.
    pub by_provider: Vec<(String, u64)>,
    /// Entries per collection, sorted by collection id.
    pub by_collection: Vec<(String, u64)>,
    /// Ledger entries.
    pub ledger_entries: u64,
}

/// A stored TAXII status resource (the JSON body as served), scoped to its poster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    /// The status id (a UUID).
    pub id: String,
    /// The organisation that made the request; only it may read the status.
    pub organisation: String,
    /// The status resource JSON.
    pub json: String,
}

/// One ledger entry as stored. The entry logic (encoding, hashing, verification) lives
/// in `accord-agreements`; the store keeps the bytes, indexes who got what, and keeps
/// the Merkle tree over the entries (the leaf of entry `seq` is its `encoded` bytes,
/// leaf index `seq - 1`; see [`accord_agreements::merkle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// Receiving organisation.
    pub recipient: String,
    /// The released object's stored id.
    pub object_id: String,
    /// The id the recipient holds, when the entry records it (format 2; empty for
    /// format 1). Indexed when it differs from `object_id` (a pseudonymised SCO).
    pub released_id: String,
    /// The canonical encoding of the entry (hashed by the chain; the Merkle leaf).
    pub encoded: Vec<u8>,
    /// The entry hash (which the next entry includes).
    pub hash: Vec<u8>,
    /// The salt of the entry's commitment to `object_id` (format 2; empty for format
    /// 1): kept beside the entry, never in it, so a recipient's receipt does not
    /// reveal the stored id.
    pub salt: Vec<u8>,
}

/// The ledger's Merkle tree: how many entries it covers and its root hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerTree {
    /// Entries (leaves).
    pub size: u64,
    /// The root hash (`SHA-256()` of nothing for the empty tree).
    pub root: [u8; 32],
}

/// A removal of an object's versions from a collection, as the store logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// Position in the removal log, from 1.
    pub seq: u64,
    /// The collection.
    pub collection: String,
    /// The object id whose versions (some or all) were removed.
    pub id: String,
}

/// A tombstone: one object version removed from a collection (TAXII `DELETE`), kept
/// with its deletion time so that readers of the collection (federation peers) learn
/// of the deletion ([`Store::tombstones_after`](crate::Store::tombstones_after)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// When it was removed, microseconds: unique and strictly increasing across the
    /// store's tombstones, so it orders them and serves as a cursor.
    pub deleted: i64,
    /// The collection it was removed from.
    pub collection: String,
    /// The object id.
    pub id: String,
    /// The removed version's text (`modified`; empty for unversioned objects).
    pub version: String,
    /// The removed version in microseconds (`i64::MIN` for unversioned objects).
    pub version_micros: i64,
    /// The organisation that provided the removed version.
    pub provider: String,
}

/// Where the store's change feeds end ([`Store::feed_heads`](crate::Store::feed_heads)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedHeads {
    /// `date_added` of the newest object version (0 when the store is empty).
    pub objects: i64,
    /// `seq` of the last logged removal (0 when none).
    pub removals: u64,
}

/// A federation peer as the store keeps it: its definition and its sync state, each a
/// JSON text the node defines (`accord_node::federation`), so the store stays
/// independent of the protocol. Kept in one row so a peer's cursor and counters are
/// replaced in one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRecord {
    /// The peer's name (unique on this node).
    pub name: String,
    /// Its definition (URL, collection, credentials source, direction, interval).
    pub definition: String,
    /// Its sync state (cursors per direction, counters, last error); `{}` at first.
    pub state: String,
}

/// What the hub's enrichment knows about one address (`accord_node::enrich`): a fact
/// kept beside the objects that carry the address, never written into them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressEnrichment {
    /// The address in canonical text (`203.0.113.5`, `2001:db8::1`).
    pub address: String,
    /// ISO 3166-1 alpha-2 country code, uppercase; `None` when the database does not
    /// know it.
    pub country: Option<String>,
    /// Autonomous system number, when known.
    pub asn: Option<u32>,
    /// The autonomous system's organisation name, when known.
    pub as_name: Option<String>,
}

/// The registrable domain of one domain name (Public Suffix List).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEnrichment {
    /// The domain name, lowercased.
    pub domain: String,
    /// Its registrable domain; `None` for a public suffix or an unusable name.
    pub registrable: Option<String>,
}

/// One database the enrichment was computed from, as its metadata described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichmentSource {
    /// `country` or `asn`.
    pub role: String,
    /// The file it was read from, as given.
    pub path: String,
    /// Its `database_type`.
    pub database_type: String,
    /// Its build epoch (seconds since the Unix epoch).
    pub build_epoch: u64,
    /// Nodes of its search tree.
    pub node_count: u32,
}

/// Where the stored enrichment stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichmentState {
    /// The databases it was computed from.
    pub sources: Vec<EnrichmentSource>,
    /// The `date_added` of the newest object version it covers ([`FeedHeads`]'s
    /// `objects`): versions added later are not enriched yet.
    pub covers_until: i64,
    /// Addresses enriched.
    pub addresses: u64,
    /// Domains enriched.
    pub domains: u64,
    /// Bumped by every [`crate::Store::put_enrichment`]: the location cells
    /// ([`LocatedState`]) say which generation of the enrichment they were counted
    /// against.
    #[serde(default)]
    pub generation: i64,
}

/// Where the stored country/ASN trend cells stand (kept by `accord enrich`, see
/// `accord_node::located`): they count every first object version added up to
/// `covers_until`, located with the enrichment of `generation`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocatedState {
    /// The newest object `date_added` counted.
    pub covers_until: i64,
    /// The [`EnrichmentState::generation`] counted against.
    pub generation: i64,
}

/// One change to a stored location cell: `cell.count` is added (negative: taken
/// away) to the cell of `dimension` (`country` or `asn`); a cell reaching zero is
/// removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedDelta {
    /// `country` or `asn`.
    pub dimension: String,
    /// The cell and the amount.
    pub cell: TrendCell,
}

/// One stored object version whose analytics a backfill records (a store migrated
/// from a schema without analytics, see `accord_node::analytics::backfill`).
#[derive(Debug, Clone)]
pub struct BackfillRow {
    /// The version's `date_added` in the store.
    pub date_added: i64,
    /// The object, its analytics completed as ingest would.
    pub object: NewObject,
}

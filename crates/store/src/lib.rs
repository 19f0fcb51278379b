//! Accord's store: every object version, its provenance and collections, TAXII status
//! resources and the release ledger.
//!
//! # Layout
//! - [`store`]: the [`Store`] trait every backend implements, and helpers over it.
//! - [`model`]: the values crossing the interface (queries, rows, outcomes).
//! - [`sqlite`]: the embedded default backend (one file, WAL).
//! - [`error`]: the error type, [`StoreError`].
//!
//! The conformance suite every backend must pass is `tests/conformance.rs`.
//!
//! # Example
//! ```
//! use accord_store::{ObjectQuery, Provenance, Scope, SqliteStore, Store, NewObject};
//! let store = SqliteStore::open_in_memory()?;
//! let object = NewObject {
//!     id: "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4".into(),
//!     object_type: "ipv4-addr".into(),
//!     spec_version: "2.1".into(),
//!     version: None,
//!     facts: Vec::new(),
//!     analytics: Default::default(),
//!     json: r#"{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}"#.into(),
//! };
//! store.insert(&[object], &Provenance::new("telco", "cli-ingest"), Some("c2"))?;
//! let page = store.query(&ObjectQuery::new(Scope::Collection("c2".into()), 10))?;
//! assert_eq!(page.rows.len(), 1);
//! # Ok::<(), accord_store::StoreError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod model;
pub mod sqlite;
pub mod store;

pub use error::StoreError;
pub use model::{
    AddressEnrichment, Analytics, BackfillRow, Cursor, DomainEnrichment, EnrichmentSource,
    EnrichmentState, FeedHeads, InsertOutcome, LedgerRecord, LedgerTree, LocatedDelta,
    LocatedState, NewObject, ObjectQuery, ObjectRow, Page, PeerRecord, Provenance, ProviderWindow,
    Removal, Scope, Stats, StatusRecord, Tombstone, TrendCell, TrendKey, ValueRow, VersionFilter,
    VersionStamp,
};
pub use sqlite::{Durability, SqliteStore};
pub use store::{for_each_row, HeadSigner, Store};

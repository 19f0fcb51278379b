//! What the agreement gate needs to know about an object, extracted once at ingest and
//! kept beside it in the store, so that a read decides from a small record instead of
//! re-parsing every object.

use accord_agreements::{FactsError, ObjectFacts};
use accord_stix::JsonView;
use accord_store::{Store, StoreError};

/// The stored facts of a validated object, read from the validator's own parse of it
/// (see [`accord_stix::parse_object_then`]): ingest parses each object once.
pub fn extract(object: JsonView<'_>) -> Vec<u8> {
    ObjectFacts::extract_view(object).to_column()
}

/// The facts stored with an object.
pub fn decode(stored: &[u8]) -> Result<ObjectFacts, FactsError> {
    ObjectFacts::from_column(stored)
}

/// The version of what [`extract`] extracts. Bump it with every change to the facts
/// extraction (a new kind of address form, a reference property, a field the gate
/// reads): facts stored by an older build would otherwise keep deciding releases
/// with the old rules, and a partner's old objects would pass a gate that the same
/// objects sent today would not. Writable opens re-extract ([`refresh`]); read-only
/// opens refuse stale facts ([`check_current`]).
pub const EXTRACTION: u32 = 1;

/// Brings every stored facts column up to [`EXTRACTION`] (nothing to do when the
/// store records it already). Returns the number of columns that changed. Runs once
/// per writable open of a store written by an older build: one pass over the
/// objects, in batches of the store's size.
pub fn refresh(store: &dyn Store) -> Result<u64, StoreError> {
    if store.facts_extraction()? == EXTRACTION {
        return Ok(0);
    }
    store.refresh_facts(EXTRACTION, &mut |json| {
        // Stored JSON passed validation at ingest; a row that no longer parses keeps
        // its column rather than losing its facts.
        let object: serde_json::Value = serde_json::from_str(json).ok()?;
        Some(ObjectFacts::extract(&object).to_column())
    })
}

/// Whether the stored facts were extracted by this build; a read-only command cannot
/// refresh them, so it refuses a stale store instead of deciding with old facts.
pub fn check_current(store: &dyn Store) -> Result<(), StaleFacts> {
    let found = store.facts_extraction().map_err(StaleFacts::Store)?;
    if found == EXTRACTION {
        Ok(())
    } else {
        Err(StaleFacts::Stale { found })
    }
}

/// A store whose facts this build cannot use as they are.
#[derive(Debug, thiserror::Error)]
pub enum StaleFacts {
    /// Extracted by another build.
    #[error(
        "the store's gate facts were extracted by another build (extraction {found}, this \
         build {current}); open it once with a command that writes (accord serve, accord \
         ingest) to re-extract them",
        current = EXTRACTION
    )]
    Stale {
        /// The extraction the store records.
        found: u32,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(StoreError),
}

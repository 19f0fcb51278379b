//! What the agreement gate needs to know about an object, extracted once at ingest and
//! kept beside it in the store, so that a read decides from a small record instead of
//! re-parsing every object.

use accord_agreements::{FactsError, ObjectFacts};
use accord_stix::JsonView;

/// The stored facts of a validated object, read from the validator's own parse of it
/// (see [`accord_stix::parse_object_then`]): ingest parses each object once.
pub fn extract(object: JsonView<'_>) -> Vec<u8> {
    ObjectFacts::extract_view(object).to_column()
}

/// The facts stored with an object.
pub fn decode(stored: &[u8]) -> Result<ObjectFacts, FactsError> {
    ObjectFacts::from_column(stored)
}

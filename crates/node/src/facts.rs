//! What the agreement gate needs to know about an object, extracted once at ingest and
//! kept beside it in the store, so that a read decides from a small record instead of
//! re-parsing every object.

use accord_agreements::{FactsError, ObjectFacts};
use accord_stix::StixObject;

/// The stored facts of a validated object.
pub fn extract(object: &StixObject) -> Result<Vec<u8>, serde_json::Error> {
    Ok(ObjectFacts::extract_text(&object.json)?
        .to_column()
        .into_bytes())
}

/// The facts stored with an object.
pub fn decode(stored: &[u8]) -> Result<ObjectFacts, FactsError> {
    ObjectFacts::from_column(&String::from_utf8_lossy(stored))
}

//! What the agreement gate needs to know about an object, extracted once at ingest and
//! kept beside it in the store.

use accord_stix::StixObject;

/// The stored facts of an object.
pub fn extract(_object: &StixObject) -> Vec<u8> {
    Vec::new()
}

//! MISP in: events converted to STIX 2.1 by `accord-misp` (the mapping of misp-stix),
//! then stored through [`crate::ingest`] like any other input, so every object is
//! validated and carries the gate's facts. MISP out is a format of
//! [`crate::enforcement`] (through the door like every export).

use std::collections::HashSet;

use accord_misp::{event_to_stix, read_events, InputError, MispError};
use accord_store::{Provenance, Store, StoreError};

use crate::ingest::{ingest_batch, IngestOptions, ObjectResult};

/// What a MISP input became.
#[derive(Debug, Default)]
pub struct MispConversion {
    /// Events converted (wholly or in part).
    pub events: usize,
    /// The STIX objects (JSON texts), each id and version once (an identity or a TLP
    /// marking shared by several events is written once).
    pub objects: Vec<String>,
    /// Attributes and objects skipped, each naming event, uuid, property and rule.
    pub skipped: Vec<MispError>,
    /// Events refused whole (no valid uuid, no timestamp).
    pub refused: Vec<MispError>,
    /// Attributes and objects kept whole as `x-misp-attribute` / `x-misp-object`, having
    /// no STIX mapping: (event uuid, `attribute <uuid>` / `object <uuid>`, MISP type or
    /// template).
    pub custom: Vec<(String, String, String)>,
}

/// Convert a MISP JSON text (an event, `{"Event": …}`, a list, a REST answer).
/// `Err` when the text is no MISP input at all; otherwise every event that can be is
/// converted, and what could not is listed.
pub fn convert(text: &str) -> Result<MispConversion, InputError> {
    let events = read_events(text)?;
    let mut out = MispConversion::default();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (n, event) in events.iter().enumerate() {
        match event_to_stix(event, n) {
            Ok(converted) => {
                out.events += 1;
                out.skipped.extend(converted.skipped);
                let event = converted.event_uuid.clone();
                out.custom.extend(
                    converted
                        .custom
                        .into_iter()
                        .map(|(item, kind)| (event.clone(), item, kind)),
                );
                for object in converted.objects {
                    let id = object["id"].as_str().unwrap_or_default().to_string();
                    let version = object["modified"]
                        .as_str()
                        .or(object["created"].as_str())
                        .unwrap_or_default()
                        .to_string();
                    if seen.insert((id, version)) {
                        out.objects.push(object.to_string());
                    }
                }
            }
            Err(e) => out.refused.push(e),
        }
    }
    Ok(out)
}

/// Convert and store a MISP input (one transaction); the conversion and each object's fate.
pub fn import(
    store: &dyn Store,
    text: &str,
    provenance: &Provenance,
    collection: Option<&str>,
) -> Result<Result<(MispConversion, Vec<ObjectResult>), InputError>, StoreError> {
    let conversion = match convert(text) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let results = ingest_batch(
        store,
        &conversion.objects,
        provenance,
        collection,
        &IngestOptions::default(),
    )?;
    Ok(Ok((conversion, results)))
}

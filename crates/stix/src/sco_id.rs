//! Deterministic SCO identifiers (STIX 2.1 section 2.9): UUIDv5 in the STIX
//! namespace over the RFC 8785 canonical JSON of the ID contributing
//! properties, computed exactly as the OASIS `stix2` Python library does:
//!
//! - properties are taken in the library's order (catalogue `id_contributing`),
//!   absent ones skipped; no property present means no deterministic id;
//! - `hashes` contributes one hash: MD5, else SHA-1, else SHA-256, else SHA-512,
//!   else the first one; hash names are normalised first the way the library
//!   does (`sha256` becomes `SHA-256`);
//! - timestamps (network-traffic `start`/`end`) are re-formatted the way the
//!   library serialises them (trailing zeros of the fraction dropped);
//! - the canonical JSON text, as UTF-8, is the name for UUIDv5.

use serde_json::{Map, Value};

use crate::canonical::canonical_json;
use crate::json::Val;
use crate::timestamp::Timestamp;
use crate::types::{self, ObjectKind, TypeDef};

/// The namespace of deterministic SCO ids.
pub const SCO_ID_NAMESPACE: uuid::Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// Why an SCO id cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScoIdError {
    /// The object has no string `type`.
    #[error("the object has no string 'type'")]
    NoType,
    /// The type is not one of the 18 SCO types of the specification.
    #[error("'{0}' is not a STIX 2.1 cyber-observable type")]
    NotAnSco(String),
    /// `hashes` is present but empty or not an object.
    #[error("'hashes' is present but holds no hash")]
    NoHashes,
    /// A timestamp property is not a STIX timestamp.
    #[error("'{0}' is not a valid timestamp")]
    Timestamp(String),
}

/// Computes the deterministic id of an SCO, or `None` for a type or object
/// without ID contributing properties (the `stix2` library then uses UUIDv4).
///
/// `serde_json::Map` keeps keys sorted unless serde_json's `preserve_order`
/// feature is on, so "the first hash" (only used when none of MD5, SHA-1,
/// SHA-256, SHA-512 is present) is the alphabetically first; [`crate::parse_object_with`]
/// with `fill_sco_ids` uses document order, as `stix2` does.
///
/// ```
/// let obj = serde_json::json!({"type": "ipv4-addr", "value": "198.51.100.3"});
/// let id = accord_stix::sco_id(obj.as_object().unwrap())?;
/// assert_eq!(id.as_deref(), Some("ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"));
/// # Ok::<(), accord_stix::ScoIdError>(())
/// ```
pub fn sco_id(object: &Map<String, Value>) -> Result<Option<String>, ScoIdError> {
    let ty = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or(ScoIdError::NoType)?;
    let def = sco_def(ty)?;
    compute(def, |name| {
        object.get(name).map(|v| match (name, v) {
            ("hashes", Value::Object(m)) => {
                Contrib::Hashes(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            _ => Contrib::Value(v.clone()),
        })
    })
}

/// The same over a parsed tape (document order of hashes).
pub(crate) fn sco_id_of(def: &TypeDef, root: Val<'_>) -> Result<Option<String>, ScoIdError> {
    compute(def, |name| {
        root.get(name).map(|v| {
            if name == "hashes" && v.kind() == crate::json::Kind::Obj {
                Contrib::Hashes(
                    v.members()
                        .map(|(k, h)| (k.str().unwrap_or_default().into_owned(), h.to_value()))
                        .collect(),
                )
            } else {
                Contrib::Value(v.to_value())
            }
        })
    })
}

fn sco_def(ty: &str) -> Result<&'static TypeDef, ScoIdError> {
    types::lookup(ty)
        .filter(|d| d.kind == ObjectKind::Sco)
        .ok_or_else(|| ScoIdError::NotAnSco(ty.to_owned()))
}

enum Contrib {
    Value(Value),
    /// Hashes in document order.
    Hashes(Vec<(String, Value)>),
}

fn compute(
    def: &TypeDef,
    get: impl Fn(&str) -> Option<Contrib>,
) -> Result<Option<String>, ScoIdError> {
    let mut contributing = Map::new();
    for &name in def.id_contributing {
        let Some(c) = get(name) else { continue };
        let value = match c {
            Contrib::Hashes(h) => choose_one_hash(h)?,
            Contrib::Value(Value::Object(_)) if name == "hashes" => {
                return Err(ScoIdError::NoHashes)
            }
            Contrib::Value(v) if matches!(name, "start" | "end") => normalise_timestamp(v)?,
            Contrib::Value(v) => v,
        };
        contributing.insert(name.to_owned(), value);
    }
    if contributing.is_empty() {
        return Ok(None);
    }
    let name = canonical_json(&Value::Object(contributing));
    let uuid = uuid::Uuid::new_v5(&SCO_ID_NAMESPACE, name.as_bytes());
    Ok(Some(format!("{}--{uuid}", def.name)))
}

/// The spec name of a hash algorithm the `stix2` library recognises
/// (`infer_hash_algorithm`: hyphens dropped, case ignored), if it is one of
/// hash-algorithm-ov.
fn spec_hash_name(name: &str) -> Option<&'static str> {
    let norm: String = name
        .chars()
        .filter(|&c| c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    Some(match norm.as_str() {
        "MD5" => "MD5",
        "SHA1" => "SHA-1",
        "SHA256" => "SHA-256",
        "SHA512" => "SHA-512",
        "SHA3256" => "SHA3-256",
        "SHA3512" => "SHA3-512",
        "SSDEEP" => "SSDEEP",
        "TLSH" => "TLSH",
        _ => return None,
    })
}

fn choose_one_hash(hashes: Vec<(String, Value)>) -> Result<Value, ScoIdError> {
    // Normalise names, keeping the first position of a name seen twice (a
    // Python dict updated in place).
    let mut normalised: Vec<(String, Value)> = Vec::with_capacity(hashes.len());
    for (k, v) in hashes {
        let k = spec_hash_name(&k).map_or(k, str::to_owned);
        match normalised.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => normalised.push((k, v)),
        }
    }
    let pick = ["MD5", "SHA-1", "SHA-256", "SHA-512"]
        .iter()
        .find_map(|want| normalised.iter().position(|(k, _)| k == want))
        .unwrap_or(0);
    let (k, v) = normalised
        .into_iter()
        .nth(pick)
        .ok_or(ScoIdError::NoHashes)?;
    let mut m = Map::new();
    m.insert(k, v);
    Ok(Value::Object(m))
}

/// `stix2` serialises a timestamp of "any" precision as seconds plus the
/// microseconds with trailing zeros removed (none when zero).
fn normalise_timestamp(v: Value) -> Result<Value, ScoIdError> {
    let Value::String(s) = &v else { return Ok(v) };
    let t = Timestamp::parse(s).map_err(|_| ScoIdError::Timestamp(s.clone()))?;
    let base = &t.as_str()[..19];
    let micros = t.as_micros().rem_euclid(1_000_000);
    let text = if micros == 0 {
        format!("{base}Z")
    } else {
        let frac = format!("{micros:06}");
        format!("{base}.{}Z", frac.trim_end_matches('0'))
    };
    Ok(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(v: Value) -> Option<String> {
        sco_id(v.as_object().unwrap()).unwrap()
    }

    #[test]
    fn known_vectors() {
        // From the STIX 2.1 specification's examples and the stix2 library.
        assert_eq!(
            id(json!({"type": "ipv4-addr", "value": "198.51.100.3"})).unwrap(),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"
        );
        assert_eq!(id(json!({"type": "process", "pid": 1})), None);
        assert!(matches!(
            sco_id(json!({"type": "indicator"}).as_object().unwrap()),
            Err(ScoIdError::NotAnSco(_))
        ));
    }

    #[test]
    fn hash_choice_and_names() {
        let a = id(
            json!({"type": "file", "hashes": {"SHA-256": "a".repeat(64), "MD5": "b".repeat(32)}}),
        );
        let b = id(json!({"type": "file", "hashes": {"md5": "b".repeat(32)}}));
        assert_eq!(a, b);
        assert!(matches!(
            sco_id(json!({"type": "file", "hashes": {}}).as_object().unwrap()),
            Err(ScoIdError::NoHashes)
        ));
    }

    #[test]
    fn timestamps_normalised() {
        let a = id(
            json!({"type": "network-traffic", "start": "2020-01-01T00:00:00.000Z", "protocols": ["tcp"]}),
        );
        let b = id(
            json!({"type": "network-traffic", "start": "2020-01-01T00:00:00Z", "protocols": ["tcp"]}),
        );
        assert_eq!(a, b);
    }
}

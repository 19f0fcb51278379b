//! MISP events to STIX 2.1 and back, following MISP's own converter, misp-stix
//! (`MISPtoSTIX21Parser`): the same ids (the MISP uuid behind every STIX type), the same
//! objects, patterns, labels and markings, so that a partner who converts the same event
//! with misp-stix gets the same objects (`scripts/interop-misp` checks it; differences
//! that remain are listed in docs/misp.md).
//!
//! Pure: takes JSON text or values, returns JSON values. No I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod from_stix;
mod galaxies;
mod objects;
pub mod to_stix;

pub use error::{InputError, MispError, Rule};
pub use to_stix::{event_to_stix, Converted};

use serde_json::Value;

/// Largest MISP input read, in bytes: a big MISP export is tens of MiB; past this the
/// caller should split it (one event per file).
pub const MAX_INPUT_BYTES: usize = 512 << 20;

/// Most events in one input.
pub const MAX_EVENTS: usize = 1_000_000;

/// The events of a MISP JSON input: `{"Event": {...}}` (as PyMISP's `to_json` writes
/// it), a bare event, a list of either, or a MISP REST search answer
/// (`{"response": [...]}`).
pub fn read_events(text: &str) -> Result<Vec<Value>, InputError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(InputError {
            rule: Rule::Limit,
            message: format!(
                "the input has {} bytes, more than {MAX_INPUT_BYTES}",
                text.len()
            ),
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| InputError {
        rule: Rule::Json,
        message: format!("not JSON: {e}"),
    })?;
    events_of(value)
}

/// The events of an already parsed input (see [`read_events`]).
pub fn events_of(value: Value) -> Result<Vec<Value>, InputError> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("response") {
            Some(Value::Array(items)) => items,
            Some(other) => {
                map.insert("response".into(), other);
                vec![Value::Object(map)]
            }
            None => vec![Value::Object(map)],
        },
        _ => {
            return Err(InputError {
                rule: Rule::Shape,
                message: "a MISP input is an event, {\"Event\": …}, or a list of them".into(),
            })
        }
    };
    if items.len() > MAX_EVENTS {
        return Err(InputError {
            rule: Rule::Limit,
            message: format!("{} events, more than {MAX_EVENTS}", items.len()),
        });
    }
    let mut events = Vec::with_capacity(items.len());
    for (n, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(mut map) => match map.remove("Event") {
                Some(inner @ Value::Object(_)) => events.push(inner),
                Some(_) => {
                    return Err(InputError {
                        rule: Rule::Shape,
                        message: format!("item #{n}: 'Event' is not an object"),
                    })
                }
                None => events.push(Value::Object(map)),
            },
            _ => {
                return Err(InputError {
                    rule: Rule::Shape,
                    message: format!("item #{n} is not an object (an event or {{\"Event\": …}})"),
                })
            }
        }
    }
    Ok(events)
}

//! The envelope (TAXII 2.1 section 3.7): a page of objects. Objects are kept as raw
//! JSON text so a client validates and stores each exactly as it was sent, without a
//! parse-and-serialise round trip.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// An envelope as read from a response or a POST body.
///
/// ```
/// let e: accord_taxii::Envelope = serde_json::from_str(
///     r#"{"more":true,"next":"abc","objects":[{"id":"indicator--1"}]}"#).unwrap();
/// assert!(e.more);
/// assert_eq!(e.next.as_deref(), Some("abc"));
/// assert_eq!(e.objects[0].get(), r#"{"id":"indicator--1"}"#);
/// ```
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Envelope<'a> {
    /// Whether more objects match.
    #[serde(default)]
    pub more: bool,
    /// The server's token for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The objects, as sent.
    #[serde(default, borrow, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<&'a RawValue>,
}

//! The envelope (TAXII 2.1 section 3.7): a page of objects. Objects are kept as raw
//! JSON text so a client validates and stores each exactly as it was sent, without a
//! parse-and-serialise round trip.
//!
//! The writers ([`write_envelope`], [`write_manifest`], [`write_versions`]) write the
//! pages a server answers (and the envelope a client posts) straight into one buffer:
//! object texts are already JSON (validated and stored as they were received), so they
//! are copied, never parsed and serialised again; that copy is most of the work of a
//! page. What they write reads back as [`Envelope`], [`Manifest`](crate::resources::Manifest)
//! and [`Versions`](crate::resources::Versions).

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "A page of STIX 2.1 objects (TAXII 2.1 section 3.7).")
)]
pub struct Envelope<'a> {
    /// Whether more objects match.
    #[serde(default)]
    pub more: bool,
    /// The server's token for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub next: Option<String>,
    /// The objects (STIX 2.1 objects), as sent.
    #[serde(default, borrow, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub objects: Vec<&'a RawValue>,
}

/// Where a page stands: `more`, and the token of the next page (written only when
/// `more` is true).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paging<'a> {
    /// Whether more items match.
    pub more: bool,
    /// The server's token for the next page.
    pub next: Option<&'a str>,
}

/// One entry of a manifest page, borrowed (see [`ManifestRecord`](crate::resources::ManifestRecord)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestEntry<'a> {
    /// The object's id.
    pub id: &'a str,
    /// When the server added this version (a STIX timestamp).
    pub date_added: &'a str,
    /// The version.
    pub version: &'a str,
    /// The STIX spec version of the object (`2.1`): its media type is
    /// [`stix_media_type`](crate::media::stix_media_type) of it.
    pub spec_version: &'a str,
}

/// Append `{"more":…[,"next":…]` (a server's page) or `{` (a client's POST body).
fn open(out: &mut String, paging: Option<Paging<'_>>) -> bool {
    match paging {
        None => {
            out.push('{');
            false
        }
        Some(p) => {
            out.push_str(if p.more {
                "{\"more\":true"
            } else {
                "{\"more\":false"
            });
            if let (true, Some(next)) = (p.more, p.next) {
                out.push_str(",\"next\":");
                push_str(out, next);
            }
            true
        }
    }
}

/// Append `"name":[items…]` (after a comma when something precedes it); nothing when
/// there are no items: TAXII, like STIX, forbids empty lists.
fn list<I, F>(out: &mut String, preceded: bool, name: &str, items: I, mut write: F)
where
    I: IntoIterator,
    F: FnMut(&mut String, I::Item),
{
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        return;
    }
    if preceded {
        out.push(',');
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\":[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, item);
    }
    out.push(']');
}

/// Append an envelope of `objects` (each already a JSON object text) to `out`. With
/// `paging` it is a server's page (`more`, `next`); without, a client's POST body
/// (`objects` alone).
///
/// ```
/// use accord_taxii::envelope::{write_envelope, Paging};
/// let mut page = String::new();
/// write_envelope(&mut page, Some(Paging { more: true, next: Some("t1") }), [r#"{"id":"x--1"}"#]);
/// assert_eq!(page, r#"{"more":true,"next":"t1","objects":[{"id":"x--1"}]}"#);
/// let mut post = String::new();
/// write_envelope(&mut post, None, [r#"{"id":"x--1"}"#, r#"{"id":"x--2"}"#]);
/// assert_eq!(post, r#"{"objects":[{"id":"x--1"},{"id":"x--2"}]}"#);
/// ```
pub fn write_envelope<'o>(
    out: &mut String,
    paging: Option<Paging<'_>>,
    objects: impl IntoIterator<Item = &'o str>,
) {
    let preceded = open(out, paging);
    list(out, preceded, "objects", objects, |out, o| out.push_str(o));
    out.push('}');
}

/// Append a manifest page (section 5.6.1) to `out`.
///
/// ```
/// use accord_taxii::envelope::{write_manifest, ManifestEntry, Paging};
/// let mut page = String::new();
/// let entry = ManifestEntry { id: "x--1", date_added: "2026-01-01T00:00:00.000000Z",
///                             version: "2025-01-01T00:00:00.000Z", spec_version: "2.1" };
/// write_manifest(&mut page, Paging::default(), [entry]);
/// assert_eq!(page, r#"{"more":false,"objects":[{"id":"x--1","date_added":"2026-01-01T00:00:00.000000Z","version":"2025-01-01T00:00:00.000Z","media_type":"application/stix+json;version=2.1"}]}"#);
/// ```
pub fn write_manifest<'e>(
    out: &mut String,
    paging: Paging<'_>,
    entries: impl IntoIterator<Item = ManifestEntry<'e>>,
) {
    open(out, Some(paging));
    list(out, true, "objects", entries, |out, e| {
        out.push_str("{\"id\":");
        push_str(out, e.id);
        out.push_str(",\"date_added\":");
        push_str(out, e.date_added);
        out.push_str(",\"version\":");
        push_str(out, e.version);
        out.push_str(",\"media_type\":");
        push_str(out, &crate::media::stix_media_type(e.spec_version));
        out.push('}');
    });
    out.push('}');
}

/// Append an object's versions page (section 5.8.1) to `out`.
///
/// ```
/// use accord_taxii::envelope::{write_versions, Paging};
/// let mut page = String::new();
/// write_versions(&mut page, Paging::default(), ["2016-01-01T00:00:00.000Z"]);
/// assert_eq!(page, r#"{"more":false,"versions":["2016-01-01T00:00:00.000Z"]}"#);
/// ```
pub fn write_versions<'v>(
    out: &mut String,
    paging: Paging<'_>,
    versions: impl IntoIterator<Item = &'v str>,
) {
    open(out, Some(paging));
    list(out, true, "versions", versions, push_str);
    out.push('}');
}

/// Append `s` as a JSON string.
fn push_str(out: &mut String, s: &str) {
    let plain = s
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::Value::from(s).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Manifest, ManifestRecord, Versions};

    #[test]
    fn written_pages_read_back_as_the_typed_resources() {
        let mut text = String::new();
        let odd = "x--\"quoted\"\n";
        write_envelope(
            &mut text,
            Some(Paging {
                more: true,
                next: Some("n\"1"),
            }),
            [r#"{"id":"a--1"}"#, r#"{"id":"a--2"}"#],
        );
        let e: Envelope<'_> = serde_json::from_str(&text).unwrap();
        assert!(e.more);
        assert_eq!(e.next.as_deref(), Some("n\"1"));
        assert_eq!(e.objects.len(), 2);

        let mut text = String::new();
        let entry = ManifestEntry {
            id: odd,
            date_added: "2026-01-01T00:00:00.000000Z",
            version: "2026-01-01T00:00:00.000Z",
            spec_version: "2.1",
        };
        write_manifest(&mut text, Paging::default(), [entry]);
        let m: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(
            m.objects,
            vec![ManifestRecord {
                id: odd.into(),
                date_added: entry.date_added.into(),
                version: entry.version.into(),
                media_type: Some("application/stix+json;version=2.1".into()),
            }]
        );

        let mut text = String::new();
        // `next` is left out when `more` is false.
        let last = Paging {
            more: false,
            next: Some("stale"),
        };
        write_versions(&mut text, last, [odd]);
        let v: Versions = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            Versions {
                more: false,
                next: None,
                versions: vec![odd.into()]
            }
        );
    }

    #[test]
    fn empty_lists_are_left_out() {
        let mut text = String::new();
        write_envelope(&mut text, Some(Paging::default()), []);
        assert_eq!(text, r#"{"more":false}"#);
        text.clear();
        write_versions(&mut text, Paging::default(), []);
        assert_eq!(text, r#"{"more":false}"#);
        text.clear();
        write_envelope(&mut text, None, []);
        assert_eq!(text, "{}");
    }
}

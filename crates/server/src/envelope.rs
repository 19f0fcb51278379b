//! Response bodies for pages of objects: the envelope, the manifest and the versions
//! list, written straight into one buffer.
//!
//! Object texts come from the store (through the egress door) as the JSON they were
//! validated and stored as, so they are copied into the envelope as they are, never
//! parsed and serialised again: that copy is most of the work of a page.

use accord_node::egress::{Released, ReleasedObject};
use accord_stix::Timestamp;
use accord_taxii::headers;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::media::TAXII_MEDIA_TYPE;

/// `X-TAXII-Date-Added-First`.
pub static DATE_ADDED_FIRST: HeaderName = HeaderName::from_static(headers::DATE_ADDED_FIRST);
/// `X-TAXII-Date-Added-Last`.
pub static DATE_ADDED_LAST: HeaderName = HeaderName::from_static(headers::DATE_ADDED_LAST);

/// `X-Accord-Receipt`: the ledger receipt id of a response that released objects
/// under an agreement (its proof: `GET /{api_root}/ledger/receipts/{id}/`).
pub static RECEIPT: HeaderName = HeaderName::from_static(headers::RECEIPT);

/// What a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An envelope of objects (get objects, get an object).
    Objects,
    /// A manifest (id, date_added, version, media_type per entry).
    Manifest,
    /// An object's version timestamps.
    Versions,
}

/// Render a released page as a TAXII 200 response with the date-added headers.
pub fn page_response(page: &Released, kind: Kind) -> Response {
    let body = render(page, kind);
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    if let Some(receipt) = &page.receipt {
        if let Ok(v) = HeaderValue::from_str(&receipt.id()) {
            headers.insert(RECEIPT.clone(), v);
        }
    }
    if let (Some(first), Some(last)) = (page.objects.first(), page.objects.last()) {
        for (name, micros) in [
            (&DATE_ADDED_FIRST, first.date_added),
            (&DATE_ADDED_LAST, last.date_added),
        ] {
            if let Ok(v) = HeaderValue::from_str(Timestamp::from_micros(micros).as_str()) {
                headers.insert(name.clone(), v);
            }
        }
    }
    response
}

/// The JSON text of a page.
///
/// ```
/// use accord_node::egress::{Released, ReleasedObject};
/// use accord_server::envelope::{render, Kind};
/// let page = Released {
///     objects: vec![ReleasedObject {
///         id: "indicator--1".into(), version: "2016-01-01T00:00:00.000Z".into(),
///         spec_version: "2.1".into(), provider: "telco".into(), date_added: 0, json: r#"{"id":"indicator--1"}"#.into(),
///     }],
///     more: false,
///     next: None,
///     receipt: None,
/// };
/// assert_eq!(render(&page, Kind::Objects), r#"{"more":false,"objects":[{"id":"indicator--1"}]}"#);
/// assert_eq!(render(&page, Kind::Versions), r#"{"more":false,"versions":["2016-01-01T00:00:00.000Z"]}"#);
/// ```
pub fn render(page: &Released, kind: Kind) -> String {
    let content: usize = match kind {
        Kind::Objects => page.objects.iter().map(|o| o.json.len() + 1).sum(),
        Kind::Manifest => page.objects.len() * 200,
        Kind::Versions => page.objects.len() * 40,
    };
    let mut out = String::with_capacity(content + 64);
    out.push_str(if page.more {
        "{\"more\":true"
    } else {
        "{\"more\":false"
    });
    if let (true, Some(next)) = (page.more, &page.next) {
        out.push_str(",\"next\":");
        push_str(&mut out, next);
    }
    if !page.objects.is_empty() {
        out.push_str(match kind {
            Kind::Objects | Kind::Manifest => ",\"objects\":[",
            Kind::Versions => ",\"versions\":[",
        });
        for (i, object) in page.objects.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match kind {
                Kind::Objects => out.push_str(&object.json),
                Kind::Manifest => manifest_entry(&mut out, object),
                Kind::Versions => push_str(&mut out, &object.version),
            }
        }
        out.push(']');
    }
    out.push('}');
    out
}

fn manifest_entry(out: &mut String, object: &ReleasedObject) {
    out.push_str("{\"id\":");
    push_str(out, &object.id);
    out.push_str(",\"date_added\":\"");
    out.push_str(Timestamp::from_micros(object.date_added).as_str());
    out.push_str("\",\"version\":");
    push_str(out, &object.version);
    out.push_str(",\"media_type\":");
    push_str(
        out,
        &format!("application/stix+json;version={}", object.spec_version),
    );
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

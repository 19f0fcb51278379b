//! Response bodies for pages of objects: the envelope, the manifest and the versions
//! list, written straight into one buffer by `accord_taxii::envelope`'s writers (the
//! client reads them back with the same crate's types).
//!
//! Object texts come from the store (through the egress door) as the JSON they were
//! validated and stored as, so they are copied into the envelope as they are, never
//! parsed and serialised again: that copy is most of the work of a page.

use accord_node::egress::Released;
use accord_stix::Timestamp;
use accord_taxii::envelope::{
    write_envelope, write_manifest, write_versions, ManifestEntry, Paging,
};
use accord_taxii::headers;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
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
        insert_date_added(headers, first.date_added, last.date_added);
    }
    response
}

/// Set `X-TAXII-Date-Added-First` and `-Last` to these times (microseconds): the
/// `date_added` of a page's first and last objects, or the deletion times of a page of
/// deletions, which is paged the same way.
pub fn insert_date_added(headers: &mut HeaderMap, first: i64, last: i64) {
    for (name, micros) in [(&DATE_ADDED_FIRST, first), (&DATE_ADDED_LAST, last)] {
        if let Ok(v) = HeaderValue::from_str(Timestamp::from_micros(micros).as_str()) {
            headers.insert(name.clone(), v);
        }
    }
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
    let paging = Paging {
        more: page.more,
        next: page.next.as_deref(),
    };
    let objects = page.objects.iter();
    match kind {
        Kind::Objects => write_envelope(&mut out, Some(paging), objects.map(|o| o.json.as_str())),
        Kind::Versions => write_versions(&mut out, paging, objects.map(|o| o.version.as_str())),
        Kind::Manifest => {
            let added: Vec<Timestamp> = page
                .objects
                .iter()
                .map(|o| Timestamp::from_micros(o.date_added))
                .collect();
            let entries = objects.zip(&added).map(|(o, date_added)| ManifestEntry {
                id: &o.id,
                date_added: date_added.as_str(),
                version: &o.version,
                spec_version: &o.spec_version,
            });
            write_manifest(&mut out, paging, entries);
        }
    }
    out
}

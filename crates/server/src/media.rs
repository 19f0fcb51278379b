//! Media types and content negotiation (TAXII 2.1 section 1.6.8).
//!
//! Every TAXII response is `application/taxii+json;version=2.1`; the STIX media type
//! appears in collections' `media_types` and manifests' `media_type`. A request is
//! acceptable when its `Accept` header (absent means anything) admits the TAXII type:
//! `*/*`, `application/*`, or `application/taxii+json` with `version=2.1` or no
//! version, at a non-zero quality. A POST body must be `application/taxii+json`
//! (version 2.1 or unstated).

use axum::http::{header, HeaderMap};

use crate::error::TaxiiError;

/// The TAXII 2.1 media type.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// The STIX 2.1 media type.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// A media range or type split into lowercase `type/subtype` and its parameters.
struct MediaType<'a> {
    essence: String,
    params: Vec<(String, &'a str)>,
}

fn parse(text: &str) -> MediaType<'_> {
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"')))
        .collect();
    MediaType { essence, params }
}

impl MediaType<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    fn is_taxii_21(&self) -> bool {
        self.essence == "application/taxii+json" && self.param("version").is_none_or(|v| v == "2.1")
    }
}

/// Does the request accept the TAXII media type? 406 if not.
pub fn require_taxii_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let mut values = headers.get_all(header::ACCEPT).iter().peekable();
    if values.peek().is_none() {
        return Ok(());
    }
    for value in values {
        let Ok(text) = value.to_str() else { continue };
        for range in text.split(',').filter(|r| !r.trim().is_empty()) {
            let m = parse(range);
            let quality = m
                .param("q")
                .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
            let matches = m.essence == "*/*" || m.essence == "application/*" || m.is_taxii_21();
            if matches && quality > 0.0 {
                return Ok(());
            }
        }
    }
    Err(TaxiiError::not_acceptable())
}

/// Is the request body declared as TAXII 2.1 JSON? 415 if not.
pub fn require_taxii_content_type(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match declared {
        Some(text) if parse(text).is_taxii_21() => Ok(()),
        _ => Err(TaxiiError::unsupported_media_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        require_taxii_accept(&h).is_ok()
    }

    #[test]
    fn accept_header_negotiation() {
        assert!(require_taxii_accept(&HeaderMap::new()).is_ok());
        assert!(accept("application/taxii+json;version=2.1"));
        assert!(accept("application/taxii+json; version=\"2.1\""));
        assert!(accept("Application/TAXII+JSON"));
        assert!(accept("text/html, */*;q=0.1"));
        assert!(accept("application/*"));
        assert!(!accept("application/taxii+json;version=2.0"));
        assert!(!accept("application/json"));
        assert!(!accept("application/stix+json;version=2.1"));
        assert!(!accept("application/taxii+json;q=0"));
        assert!(!accept("text/html"));
    }

    #[test]
    fn content_type_check() {
        let mut h = HeaderMap::new();
        assert!(require_taxii_content_type(&h).is_err());
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/taxii+json;version=2.1"),
        );
        assert!(require_taxii_content_type(&h).is_ok());
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(require_taxii_content_type(&h).is_err());
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/stix+json;version=2.1"),
        );
        assert!(require_taxii_content_type(&h).is_err());
    }
}

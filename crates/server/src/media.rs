//! Content negotiation (TAXII 2.1 section 1.6.8) as TAXII errors: the media types and
//! the rules are `accord_taxii::media`'s, shared with the client; this module turns a
//! refusal into the 406 or 415 the server answers.

use axum::http::{header, HeaderMap};

use crate::error::TaxiiError;

pub use accord_taxii::media::{STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE};

/// Does the request accept the TAXII media type? 406 if not.
pub fn require_taxii_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let values = headers
        .get_all(header::ACCEPT)
        .iter()
        .map(|v| v.to_str().unwrap_or(""));
    if accord_taxii::media::accepts_taxii(values) {
        Ok(())
    } else {
        Err(TaxiiError::not_acceptable())
    }
}

/// Is the request body declared as TAXII 2.1 JSON? 415 if not.
pub fn require_taxii_content_type(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match declared {
        Some(text) if accord_taxii::media::is_taxii_21(text) => Ok(()),
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
        assert!(accept("text/html, */*;q=0.1"));
        assert!(!accept("application/taxii+json;version=2.0"));
        assert!(!accept("application/json"));
        assert!(!accept("application/taxii+json;q=0"));
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
            HeaderValue::from_static("application/stix+json;version=2.1"),
        );
        assert!(require_taxii_content_type(&h).is_err());
    }
}

//! Media types and content negotiation (TAXII 2.1 section 1.6.8).
//!
//! Every TAXII response is `application/taxii+json;version=2.1`; the STIX media type
//! appears in collections' `media_types` and manifests' `media_type`. A request is
//! acceptable when its `Accept` header (absent means anything) admits the TAXII type:
//! `*/*`, `application/*`, or `application/taxii+json` with `version=2.1` or no
//! version, at a non-zero quality. A POST body (and, for a client, a response body)
//! must be `application/taxii+json` (version 2.1 or unstated).

/// The TAXII 2.1 media type.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// The STIX 2.1 media type.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// The STIX media type of objects of `spec_version` (a manifest entry's `media_type`).
///
/// ```
/// assert_eq!(accord_taxii::media::stix_media_type("2.1"), accord_taxii::STIX_MEDIA_TYPE);
/// ```
pub fn stix_media_type(spec_version: &str) -> String {
    format!("application/stix+json;version={spec_version}")
}

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

/// Is `content_type` (a `Content-Type` value) TAXII 2.1 JSON?
///
/// ```
/// assert!(accord_taxii::media::is_taxii_21("application/taxii+json; version=\"2.1\""));
/// assert!(!accord_taxii::media::is_taxii_21("text/html"));
/// ```
pub fn is_taxii_21(content_type: &str) -> bool {
    parse(content_type).is_taxii_21()
}

/// Do these `Accept` header values admit the TAXII 2.1 media type? No values at all
/// admit anything.
pub fn accepts_taxii<'a>(values: impl IntoIterator<Item = &'a str>) -> bool {
    let mut values = values.into_iter().peekable();
    if values.peek().is_none() {
        return true;
    }
    for text in values {
        for range in text.split(',').filter(|r| !r.trim().is_empty()) {
            let m = parse(range);
            let quality = m
                .param("q")
                .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
            let matches = m.essence == "*/*" || m.essence == "application/*" || m.is_taxii_21();
            if matches && quality > 0.0 {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> bool {
        accepts_taxii([v])
    }

    #[test]
    fn accept_header_negotiation() {
        assert!(accepts_taxii([]));
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
        assert!(is_taxii_21("application/taxii+json;version=2.1"));
        assert!(is_taxii_21("application/taxii+json"));
        assert!(!is_taxii_21("application/json"));
        assert!(!is_taxii_21("application/stix+json;version=2.1"));
        assert!(!is_taxii_21("application/taxii+json;version=2.0"));
    }
}

//! Query parameters of the TAXII endpoints (TAXII 2.1 section 3.4): their names, and a
//! builder a client uses to write a query string.

/// `added_after`: objects added after this timestamp.
pub const ADDED_AFTER: &str = "added_after";
/// `limit`: the largest page wanted.
pub const LIMIT: &str = "limit";
/// `next`: the server's token for the next page.
pub const NEXT: &str = "next";
/// `match[id]`.
pub const MATCH_ID: &str = "match[id]";
/// `match[type]`.
pub const MATCH_TYPE: &str = "match[type]";
/// `match[version]`: `first`, `last`, `all` or timestamps.
pub const MATCH_VERSION: &str = "match[version]";
/// `match[spec_version]`.
pub const MATCH_SPEC_VERSION: &str = "match[spec_version]";

/// A client's query for objects or the manifest.
///
/// ```
/// use accord_taxii::query::Query;
/// let q = Query { added_after: Some("2026-01-01T00:00:00.000Z".into()), limit: Some(500),
///                 versions: Some("all".into()), ..Query::default() };
/// assert_eq!(q.to_query_string(),
///            "added_after=2026-01-01T00%3A00%3A00.000Z&limit=500&match%5Bversion%5D=all");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `added_after` (a STIX timestamp, as the server wrote it).
    pub added_after: Option<String>,
    /// `limit`.
    pub limit: Option<usize>,
    /// `next`.
    pub next: Option<String>,
    /// `match[type]` values.
    pub types: Vec<String>,
    /// `match[version]`.
    pub versions: Option<String>,
}

impl Query {
    /// The query string (without `?`), percent-encoded.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(a) = &self.added_after {
            pairs.push((ADDED_AFTER, a.clone()));
        }
        if let Some(l) = self.limit {
            pairs.push((LIMIT, l.to_string()));
        }
        if let Some(n) = &self.next {
            pairs.push((NEXT, n.clone()));
        }
        if !self.types.is_empty() {
            pairs.push((MATCH_TYPE, self.types.join(",")));
        }
        if let Some(v) = &self.versions {
            pairs.push((MATCH_VERSION, v.clone()));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

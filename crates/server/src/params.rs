//! URL parameters of the TAXII endpoints: `added_after`, `limit`, `next` and the
//! `match[...]` filters (TAXII 2.1 section 3.4), parsed into a [`Request`]: an
//! [`ObjectQuery`] and the `next` token, which only the egress door can open.
//!
//! Each endpoint admits a set of parameters ([`Allowed`]); parameters it does not
//! admit, and unknown ones, are ignored, as TAXII asks of filters a server does not
//! support. A malformed value of an admitted parameter is a 400 naming it.

use accord_node::egress::MAX_TOKEN_LEN;
use accord_stix::Timestamp;
use accord_store::{ObjectQuery, Scope, VersionFilter};

use crate::error::TaxiiError;

/// Longest value list a `match[...]` parameter may carry (bounds the SQL it becomes).
pub const MAX_MATCH_VALUES: usize = 100;

/// Which parameters an endpoint admits.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    /// `added_after`, `limit`, `next`.
    pub paging: bool,
    /// `match[id]` and `match[type]`.
    pub id_and_type: bool,
    /// `match[version]`.
    pub version: bool,
}

impl Allowed {
    /// Get objects and the manifest: every filter.
    pub const ALL: Allowed = Allowed {
        paging: true,
        id_and_type: true,
        version: true,
    };
    /// Get an object: no `match[id]` / `match[type]` (the id is in the path).
    pub const OBJECT: Allowed = Allowed {
        paging: true,
        id_and_type: false,
        version: true,
    };
    /// Object versions: paging and `match[spec_version]` only.
    pub const VERSIONS: Allowed = Allowed {
        paging: true,
        id_and_type: false,
        version: false,
    };
    /// Delete an object: `match[version]` and `match[spec_version]`.
    pub const DELETE: Allowed = Allowed {
        paging: false,
        id_and_type: false,
        version: true,
    };
}

/// Page sizes the server applies.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Used when the client gives no `limit`.
    pub default: usize,
    /// Larger `limit`s are lowered to this.
    pub max: usize,
}

/// A request's parameters.
#[derive(Debug, Clone)]
pub struct Request {
    /// The selection.
    pub query: ObjectQuery,
    /// The `next` token of an earlier page, as the client sent it.
    pub next: Option<String>,
}

/// Parse the query string of a request to `scope` into a query. `default_versions` is
/// the endpoint's version filter when the client gives none.
pub fn parse(
    raw: Option<&str>,
    allowed: Allowed,
    scope: Scope,
    default_versions: VersionFilter,
    limits: PageLimits,
) -> Result<Request, TaxiiError> {
    let mut query = ObjectQuery::new(scope, limits.default);
    query.versions = default_versions;
    let mut next = None;
    for (key, value) in pairs(raw.unwrap_or(""))? {
        match key.as_str() {
            "added_after" if allowed.paging => {
                let t = Timestamp::parse(&value)
                    .map_err(|e| TaxiiError::bad_request(format!("added_after: {e}")))?;
                query.added_after = Some(t.as_micros());
            }
            "limit" if allowed.paging => {
                let n: usize = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    TaxiiError::bad_request(format!("limit: '{value}' is not a positive integer"))
                })?;
                query.limit = n.min(limits.max);
            }
            "next" if allowed.paging => {
                let plausible = !value.is_empty()
                    && value.len() <= MAX_TOKEN_LEN
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !plausible {
                    return Err(TaxiiError::bad_request(
                        "next: not a paging token of this server; start again without it",
                    ));
                }
                next = Some(value);
            }
            "match[id]" if allowed.id_and_type => query.ids.extend(list(&key, &value)?),
            "match[type]" if allowed.id_and_type => query.types.extend(list(&key, &value)?),
            "match[spec_version]" => query.spec_versions.extend(list(&key, &value)?),
            "match[version]" if allowed.version => {
                query.versions = versions(&value)?;
            }
            _ => {}
        }
    }
    Ok(Request { query, next })
}

/// A `match[...]` value: a comma-separated list of non-empty items.
fn list(key: &str, value: &str) -> Result<Vec<String>, TaxiiError> {
    let items: Vec<String> = value.split(',').map(|s| s.trim().to_string()).collect();
    if items.iter().any(String::is_empty) {
        return Err(TaxiiError::bad_request(format!(
            "{key}: empty item in '{value}'"
        )));
    }
    if items.len() > MAX_MATCH_VALUES {
        return Err(TaxiiError::bad_request(format!(
            "{key}: more than {MAX_MATCH_VALUES} values"
        )));
    }
    Ok(items)
}

/// `match[version]`: `first`, `last`, `all` or timestamps, comma-separated.
fn versions(value: &str) -> Result<VersionFilter, TaxiiError> {
    let mut filter = VersionFilter::default();
    for item in list("match[version]", value)? {
        match item.as_str() {
            "all" => filter.all = true,
            "first" => filter.first = true,
            "last" => filter.last = true,
            text => {
                let t = Timestamp::parse(text).map_err(|e| {
                    TaxiiError::bad_request(format!(
                        "match[version]: '{text}' is not first, last, all or a timestamp ({e})"
                    ))
                })?;
                filter.exact.push(t.as_micros());
            }
        }
    }
    Ok(filter)
}

/// Split and percent-decode `a=b&c=d` (`+` is a space). Invalid UTF-8 is a 400.
fn pairs(raw: &str) -> Result<Vec<(String, String)>, TaxiiError> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(s: &str) -> Result<String, TaxiiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| TaxiiError::bad_request("the query string is not valid UTF-8 after decoding"))
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PageLimits = PageLimits {
        default: 100,
        max: 500,
    };

    fn q(raw: &str, allowed: Allowed) -> Result<ObjectQuery, TaxiiError> {
        request(raw, allowed).map(|r| r.query)
    }

    fn request(raw: &str, allowed: Allowed) -> Result<Request, TaxiiError> {
        parse(
            Some(raw),
            allowed,
            Scope::Collection("c".into()),
            VersionFilter::last(),
            LIMITS,
        )
    }

    #[test]
    fn filters_parse() {
        let query = q(
            "added_after=2016-01-01T00:00:00Z&limit=10&match[id]=indicator--a,indicator--b\
             &match%5Btype%5D=indicator&match[version]=first,2016-01-01T00:00:00.5Z&match[spec_version]=2.1",
            Allowed::ALL,
        )
        .unwrap();
        assert_eq!(query.added_after, Some(1_451_606_400_000_000));
        assert_eq!(query.limit, 10);
        assert_eq!(query.ids, ["indicator--a", "indicator--b"]);
        assert_eq!(query.types, ["indicator"]);
        assert!(query.versions.first && !query.versions.last && !query.versions.all);
        assert_eq!(query.versions.exact, [1_451_606_400_500_000]);
        assert_eq!(query.spec_versions, ["2.1"]);
    }

    #[test]
    fn defaults_and_clamping() {
        let query = q("", Allowed::ALL).unwrap();
        assert_eq!(query.limit, 100);
        assert_eq!(query.versions, VersionFilter::last());
        assert_eq!(q("limit=100000", Allowed::ALL).unwrap().limit, 500);
        assert_eq!(
            request("next=AbC-_9", Allowed::ALL)
                .unwrap()
                .next
                .as_deref(),
            Some("AbC-_9")
        );
    }

    #[test]
    fn endpoint_restrictions_ignore_other_filters() {
        let query = q(
            "match[id]=x&match[type]=y&match[version]=all",
            Allowed::VERSIONS,
        )
        .unwrap();
        assert!(query.ids.is_empty() && query.types.is_empty());
        assert_eq!(query.versions, VersionFilter::last());
        assert_eq!(q("limit=5", Allowed::DELETE).unwrap().limit, 100);
    }

    #[test]
    fn bad_values_are_400_naming_the_parameter() {
        for (raw, name) in [
            ("limit=0", "limit"),
            ("limit=-3", "limit"),
            ("limit=ten", "limit"),
            ("added_after=yesterday", "added_after"),
            ("next=z%2Bz", "next"),
            ("next=", "next"),
            ("match[version]=newest", "match[version]"),
            ("match[type]=a,,b", "match[type]"),
            ("match[id]=%FF", "UTF-8"),
        ] {
            let e = q(raw, Allowed::ALL).unwrap_err();
            assert_eq!(e.status().as_u16(), 400, "{raw}");
            assert!(format!("{e:?}").contains(name), "{raw}: {e:?}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a%2Cb+c%").unwrap(), "a,b c%");
        assert_eq!(decode("%4").unwrap(), "%4");
        assert_eq!(decode("%zz").unwrap(), "%zz");
    }
}

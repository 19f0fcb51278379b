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
use accord_taxii::query::{
    ADDED_AFTER, LIMIT, MATCH_ID, MATCH_SPEC_VERSION, MATCH_TYPE, MATCH_VERSION, NEXT,
};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::Required;

use crate::error::TaxiiError;

/// Most values a `match[...]` parameter may carry, counted over all its repetitions
/// (`match[id]=a&match[id]=b` is two values of `match[id]`): each value becomes one or
/// two SQL variables, and SQLite refuses a statement with more than 32,766. Above it:
/// 400 naming the parameter and the limit.
pub const MAX_MATCH_VALUES: usize = 100;

/// Longest query string accepted, in bytes (percent-encoded, as sent). Every admitted
/// parameter at its limit fits in a third of it (100 ids of ~50 characters, 100 types,
/// 100 version timestamps); above it the request is a 400 before anything is decoded.
pub const MAX_QUERY_LEN: usize = 32 * 1024;

/// Longest client value quoted back in an error message, in bytes (longer ones are cut).
pub const MAX_QUOTED_VALUE: usize = 64;

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
    /// Accord's deletions feed: paging only (`next` is refused by the handler).
    pub const DELETIONS: Allowed = Allowed {
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

    /// The names of the parameters admitted (`match[spec_version]` always is).
    pub fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.paging {
            names.extend([ADDED_AFTER, LIMIT, NEXT]);
        }
        if self.id_and_type {
            names.extend([MATCH_ID, MATCH_TYPE]);
        }
        if self.version {
            names.push(MATCH_VERSION);
        }
        names.push(MATCH_SPEC_VERSION);
        names
    }

    /// The OpenAPI description of the parameters admitted.
    pub fn parameters(self) -> Vec<Parameter> {
        self.names().into_iter().map(parameter).collect()
    }
}

/// The OpenAPI description of a TAXII query parameter.
fn parameter(name: &'static str) -> Parameter {
    let text = ObjectBuilder::new().schema_type(Type::String);
    let (description, schema) = match name {
        ADDED_AFTER => (
            "Only items added strictly after this timestamp (RFC 3339, UTC).",
            text.format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        ),
        LIMIT => (
            "Largest number of items wanted; the server lowers it to its max_page_size.",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        ),
        NEXT => ("The next token of the previous page.", text),
        MATCH_ID => ("Comma-separated object ids.", text),
        MATCH_TYPE => ("Comma-separated STIX types.", text),
        MATCH_VERSION => (
            "Comma-separated: first, last, all, or version timestamps. Default: last (all on DELETE and versions).",
            text,
        ),
        _ => ("Comma-separated STIX spec versions.", text),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(if name.starts_with("match[") {
            format!("{description} At most {MAX_MATCH_VALUES} values (repetitions add up).")
        } else {
            description.to_string()
        }))
        .schema(Some(schema))
        .build()
}

/// Declares a marker type whose OpenAPI parameters are those an [`Allowed`] admits.
macro_rules! filters {
    ($(#[$doc:meta] $name:ident = $allowed:expr;)*) => {$(
        #[$doc]
        pub struct $name;

        impl utoipa::IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                $allowed.parameters()
            }
        }
    )*};
}

filters! {
    /// The filters of get objects and the manifest ([`Allowed::ALL`]).
    AllFilters = Allowed::ALL;
    /// The filters of get an object ([`Allowed::OBJECT`]).
    ObjectFilters = Allowed::OBJECT;
    /// The filters of an object's versions ([`Allowed::VERSIONS`]).
    VersionsFilters = Allowed::VERSIONS;
    /// The filters of delete an object ([`Allowed::DELETE`]).
    DeleteFilters = Allowed::DELETE;
    /// The filters of the deletions extension ([`Allowed::DELETIONS`]).
    DeletionsFilters = Allowed::DELETIONS;
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
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY_LEN {
        return Err(TaxiiError::bad_request(format!(
            "the query string is {} bytes; at most {MAX_QUERY_LEN} are accepted",
            raw.len()
        )));
    }
    let mut query = ObjectQuery::new(scope, limits.default);
    query.versions = default_versions;
    let mut next = None;
    let mut counts = MatchCounts::default();
    for (key, value) in pairs(raw)? {
        match key.as_str() {
            ADDED_AFTER if allowed.paging => {
                let t = Timestamp::parse(&value).map_err(|e| {
                    TaxiiError::bad_request(format!("added_after: {}", quoted_error(&e)))
                })?;
                query.added_after = Some(t.as_micros());
            }
            LIMIT if allowed.paging => {
                let n: usize = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    TaxiiError::bad_request(format!(
                        "limit: '{}' is not a positive integer",
                        quoted(&value)
                    ))
                })?;
                query.limit = n.min(limits.max);
            }
            NEXT if allowed.paging => {
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
            MATCH_ID if allowed.id_and_type => {
                let items = add_up(&key, &mut counts.id, list(&key, &value)?)?;
                query.ids.extend(items);
            }
            MATCH_TYPE if allowed.id_and_type => {
                let items = add_up(&key, &mut counts.r#type, list(&key, &value)?)?;
                query.types.extend(items);
            }
            MATCH_SPEC_VERSION => {
                let items = add_up(&key, &mut counts.spec_version, list(&key, &value)?)?;
                query.spec_versions.extend(items);
            }
            MATCH_VERSION if allowed.version => {
                let items = add_up(&key, &mut counts.version, list(&key, &value)?)?;
                query.versions = versions(items)?;
            }
            _ => {}
        }
    }
    Ok(Request { query, next })
}

/// Values seen so far of each `match[...]` parameter, over all its repetitions.
#[derive(Default)]
struct MatchCounts {
    id: usize,
    r#type: usize,
    spec_version: usize,
    version: usize,
}

/// Count `items` into `seen` (the values of `key` so far); a 400 naming the parameter
/// and the limit when the total passes [`MAX_MATCH_VALUES`].
fn add_up(key: &str, seen: &mut usize, items: Vec<String>) -> Result<Vec<String>, TaxiiError> {
    *seen += items.len();
    if *seen > MAX_MATCH_VALUES {
        return Err(TaxiiError::bad_request(format!(
            "{key}: more than {MAX_MATCH_VALUES} values (repetitions of the parameter add up; \
             at most {MAX_MATCH_VALUES} in all)"
        )));
    }
    Ok(items)
}

/// A `match[...]` value: a comma-separated list of non-empty items.
fn list(key: &str, value: &str) -> Result<Vec<String>, TaxiiError> {
    let items: Vec<String> = value.split(',').map(|s| s.trim().to_string()).collect();
    if items.iter().any(String::is_empty) {
        return Err(TaxiiError::bad_request(format!(
            "{key}: empty item in '{}'",
            quoted(value)
        )));
    }
    Ok(items)
}

/// `value` as quoted back in an error message: at most [`MAX_QUOTED_VALUE`] bytes (cut
/// at a character boundary, `…` marking the cut).
fn quoted(value: &str) -> String {
    crate::error::clip(value, MAX_QUOTED_VALUE).into_owned()
}

/// An error that quotes the client's value, cut like [`quoted`] values (with room for
/// the sentence around the value).
fn quoted_error(e: &dyn std::fmt::Display) -> String {
    crate::error::clip(&e.to_string(), 2 * MAX_QUOTED_VALUE + 100).into_owned()
}

/// `match[version]`: `first`, `last`, `all` or timestamps, comma-separated.
fn versions(items: Vec<String>) -> Result<VersionFilter, TaxiiError> {
    let mut filter = VersionFilter::default();
    for item in items {
        match item.as_str() {
            "all" => filter.all = true,
            "first" => filter.first = true,
            "last" => filter.last = true,
            text => {
                let t = Timestamp::parse(text).map_err(|e| {
                    TaxiiError::bad_request(format!(
                        "match[version]: '{}' is not first, last, all or a timestamp ({})",
                        quoted(text),
                        quoted_error(&e)
                    ))
                })?;
                filter.exact.push(t.as_micros());
            }
        }
    }
    Ok(filter)
}

/// Split and percent-decode `a=b&c=d` (`+` is a space). Invalid UTF-8 is a 400.
pub(crate) fn pairs(raw: &str) -> Result<Vec<(String, String)>, TaxiiError> {
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

    /// Repetitions of a `match[...]` parameter add up to its limit: each value is an
    /// SQL variable, and 17,000 ids once made a statement SQLite refused (a 500).
    #[test]
    fn repeated_match_parameters_add_up_to_the_limit() {
        let values = |prefix: &str, n: usize| {
            (0..n)
                .map(|i| format!("{prefix}{i}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        for key in [
            "match[id]",
            "match[type]",
            "match[spec_version]",
            "match[version]",
        ] {
            let item = if key == "match[version]" { "all" } else { "x" };
            let item_list = |n: usize| {
                if key == "match[version]" {
                    vec![item; n].join(",")
                } else {
                    values(item, n)
                }
            };
            // 100 in all, over two repetitions: accepted.
            let at = format!("{key}={}&{key}={}", item_list(60), item_list(40));
            assert!(q(&at, Allowed::ALL).is_ok(), "{key}");
            // 101 in all: refused, naming the parameter and the limit.
            let over = format!("{key}={}&{key}={}", item_list(60), item_list(41));
            let e = q(&over, Allowed::ALL).unwrap_err();
            assert_eq!(e.status().as_u16(), 400, "{key}");
            let text = format!("{e:?}");
            assert!(text.contains(key) && text.contains("100"), "{text}");
        }
        // Parameters are counted apart: 100 ids and 100 types together are fine.
        let both = format!(
            "match[id]={}&match[type]={}",
            values("i", 100),
            values("t", 100)
        );
        assert!(q(&both, Allowed::ALL).is_ok());
    }

    #[test]
    fn long_query_strings_are_400_naming_the_limit() {
        let raw = format!("match[id]={}", "x,".repeat(MAX_QUERY_LEN / 2));
        let e = q(&raw, Allowed::ALL).unwrap_err();
        assert_eq!(e.status().as_u16(), 400);
        assert!(
            format!("{e:?}").contains(&MAX_QUERY_LEN.to_string()),
            "{e:?}"
        );
    }

    /// Values quoted back in an error are cut: an error message does not grow with the
    /// client's input.
    #[test]
    fn quoted_values_are_bounded() {
        let long = "z".repeat(10_000);
        for raw in [
            format!("limit={long}"),
            format!("next={long}"),
            format!("added_after={long}"),
            format!("match[version]={long}"),
            format!("match[type]=a,,{long}"),
        ] {
            let e = q(&raw, Allowed::ALL).unwrap_err();
            let text = format!("{e:?}");
            assert!(text.len() < 600, "{} bytes for {}", text.len(), &raw[..12]);
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a%2Cb+c%").unwrap(), "a,b c%");
        assert_eq!(decode("%4").unwrap(), "%4");
        assert_eq!(decode("%zz").unwrap(), "%zz");
    }
}

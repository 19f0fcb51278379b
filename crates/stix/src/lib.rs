//! accord-stix: the STIX 2.1 object model of Accord.
//!
//! Objects are kept as their JSON text (minified, otherwise untouched) plus a
//! few parsed common properties; validation enforces the MUST rules of the
//! STIX 2.1 specification and reports every broken rule with the property's
//! JSON path and a stable rule code.
//!
//! # Layout
//! - [`timestamp`]: [`Timestamp`], RFC 3339 UTC timestamps that keep their text.
//! - [`identifier`]: [`Identifier`], `type--UUID`.
//! - [`types`]: the catalogue of every STIX 2.1 type (kind, required and ID
//!   contributing properties, value kinds, predefined extensions), TLP 1.0 ids.
//! - `json`: one-pass JSON reader (syntax, minification, depth limit, tape).
//! - `validate`: the rules, driven by the catalogue.
//! - [`object`]: [`parse_object`], [`StixObject`].
//! - [`error`]: [`Rule`], [`ValidationError`], [`Rejection`].
//! - [`bundle`]: [`BundleReader`], streaming bundles with flat memory.
//! - [`mod@sco_id`] and [`canonical`]: deterministic SCO ids, RFC 8785.
//!
//! # Conformance
//! The rules ([`Rule`]) are the MUST requirements of STIX 2.1 as the OASIS
//! `stix2-validator` (JSON schemas plus `v21/musts.py`) checks them, with these
//! deliberate differences (`scripts/interop-stix` lists them against the real
//! validator):
//! - stricter, following the specification where the validator does not:
//!   duplicate member names are rejected; `bundle` is not an object type;
//!   `created_by_ref` must name an identity and `object_marking_refs` marking
//!   definitions; a granular marking has exactly one of `marking_ref` and
//!   `lang`; `spec_version` must be `2.1`;
//! - checked by syntax rather than against fixed lists: language tags
//!   (RFC 5646), character-set names and media types (the validator's offline
//!   fallback), CPE 2.3 strings; IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`)
//!   are accepted (the schema's regular expression wrongly refuses them);
//! - indicator pattern syntax is checked only when a [`PatternChecker`] is
//!   given in [`ParseOptions`] (the patterning language lives in another crate);
//! - SHOULD-level advice (vocabularies, `x_` prefixes, UUIDv5 for SCOs,
//!   relationship type combinations) never rejects an object.
//!
//! ```
//! use accord_stix::{parse_object, Rule};
//! let text = r#"{"type":"indicator","spec_version":"2.1",
//!   "id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
//!   "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
//!   "pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",
//!   "valid_from":"2016-04-06T20:03:48Z","valid_until":"2016-01-01T00:00:00Z"}"#;
//! let rejection = parse_object(text).unwrap_err();
//! assert!(rejection.has(Rule::ValidUntilNotAfterValidFrom, "valid_until"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundle;
pub mod canonical;
pub mod error;
pub mod identifier;
mod json;
pub mod object;
pub mod sco_id;
pub mod timestamp;
pub mod types;
mod validate;

pub use bundle::{BundleReader, RawObject, ReadError};
pub use canonical::canonical_json;
pub use error::{Rejection, Rule, ValidationError};
pub use identifier::{Identifier, IdentifierError};
pub use json::{minify_json, minify_json_into, JsonView};
pub use object::{
    parse_object, parse_object_then, parse_object_with, ParseOptions, PatternChecker, StixObject,
};
pub use sco_id::{sco_id, ScoIdError, SCO_ID_NAMESPACE};
pub use timestamp::{Timestamp, TimestampError};
pub use types::ObjectKind;

/// Deepest nesting of arrays and objects accepted in one object (the object
/// itself is depth 1). STIX objects nest a handful of levels; the limit keeps
/// every walk over an object bounded and stays below serde_json's own limit of
/// 128, so stored objects can always be read back with serde_json.
pub const MAX_NESTING_DEPTH: usize = 64;

/// Largest accepted JSON text of one object, in bytes (16 MiB). Larger objects
/// are rejected (rule `object-too-large`) and skipped by [`BundleReader`]
/// without being held in memory.
pub const MAX_OBJECT_BYTES: usize = 16 * 1024 * 1024;

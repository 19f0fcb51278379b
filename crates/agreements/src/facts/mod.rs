//! What the gate needs to know about one object version, extracted once at
//! ingest ([`ObjectFacts::extract`]) and kept by the store in a column
//! ([`ObjectFacts::to_column`] / [`ObjectFacts::from_column`]), so a TAXII read
//! decides release without parsing the object again.

use std::borrow::Cow;
use std::collections::BTreeSet;

use accord_stix::JsonView;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ipscan;
use crate::time::UtcMicros;
use crate::tlp::{Tlp, TLP2_EXTENSION_ID};

mod column;
pub(crate) mod ids;

/// Single reference properties that STIX 2.1 requires (or of which one of a pair is
/// required): a referencing object cannot be released without them, so a reference
/// to a withheld object withholds the object. Every other top-level `*_ref` (and
/// `created_by_ref`) is optional and is removed instead.
pub const REQUIRED_REFERENCES: &[&str] = &[
    "source_ref",
    "target_ref",
    "sighting_of_ref",
    "object_ref",
    "src_ref",
    "dst_ref",
];

/// Version of the column encoding [`ObjectFacts::to_column`] writes (binary; see
/// `column.rs`). [`ObjectFacts::from_column`] also reads format 1 (JSON), which
/// earlier builds wrote.
pub const FACTS_FORMAT: u8 = 2;

/// The format of the JSON columns written by earlier builds.
const JSON_FACTS_FORMAT: u8 = 1;

/// Facts about one STIX object version.
///
/// ```
/// use accord_agreements::{ObjectFacts, Tlp};
/// let object = serde_json::json!({
///     "type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
///     "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
///     "labels": ["c2"], "confidence": 80,
///     "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
///     "valid_from": "2026-01-01T00:00:00Z"
/// });
/// let facts = ObjectFacts::extract(&object);
/// assert_eq!(facts.tlp, Some(Tlp::Green));
/// assert_eq!(facts.ips[0].net.to_string(), "198.51.100.7/32");
/// let column = facts.to_column();
/// assert_eq!(ObjectFacts::from_column(&column).unwrap(), facts);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectFacts {
    /// Encoding version: [`FACTS_FORMAT`] once extracted or read back, whatever the
    /// column's format (the fields are the same).
    #[serde(rename = "F")]
    pub format: u8,
    /// The object's `id`.
    #[serde(rename = "i")]
    pub id: String,
    /// The object's `type`.
    #[serde(rename = "t")]
    pub kind: String,
    /// The most restrictive standard TLP marking among `object_marking_refs` and
    /// `granular_markings` (granular markings count for the whole object).
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
    /// Marking definition ids that are not standard TLP markings.
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    pub other_markings: Vec<String>,
    /// `confidence`, if present and an integer 0–100.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// Whether a `confidence` property is present at all (even if malformed).
    #[serde(rename = "C", default, skip_serializing_if = "is_false")]
    pub has_confidence: bool,
    /// `labels`.
    #[serde(rename = "l", default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Every `*_ref` property value anywhere in the object except
    /// `created_by_ref`, marking references and [`ObjectFacts::optional_refs`]: ids
    /// this object depends on (a withheld one withholds the object). Facts extracted
    /// by earlier builds hold the optional references here too (the stricter rule).
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// Top-level `*_ref` values under names not in [`REQUIRED_REFERENCES`]
    /// (`sample_ref`, `x_acme_ref`, ...): a withheld one is removed from the released
    /// object.
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub optional_refs: Vec<String>,
    /// Id-shaped tokens written inside any string or member name (prose, custom
    /// properties of any shape, external references), except a reference property's
    /// value that is exactly one id: `<type run>--<uuid>`, lowercased, sorted (see
    /// `facts/ids.rs`). The gate redacts those naming objects the recipient may not
    /// receive. Empty in facts extracted by earlier builds.
    #[serde(rename = "n", default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Every `*_refs` list anywhere in the object except `object_marking_refs`.
    #[serde(rename = "L", default, skip_serializing_if = "Vec::is_empty")]
    pub ref_lists: Vec<RefList>,
    /// `created_by_ref` (never withholds; kept for explanations).
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Distinct IP address readings found in any string (keys included) by
    /// [`ipscan`], and integer values read as IPv4 addresses ([`number_address`]), sorted.
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<IpFact>,
    /// For `ipv4-addr`/`ipv6-addr`: the `value` text.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub sco_value: Option<String>,
    /// For indicators: `valid_from`.
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<i64>,
    /// For indicators: `valid_until`.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<i64>,
    /// For marking definitions: what the marking says.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub marking: Option<MarkingKind>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A `*_refs` list: its property name and its ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefList {
    /// The property name (`object_refs`, `where_sighted_refs`, ...).
    #[serde(rename = "k")]
    pub key: String,
    /// The ids listed.
    #[serde(rename = "r")]
    pub ids: Vec<String>,
}

/// One IP literal: an address, or a network when a prefix length was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpFact {
    /// Address (full-length prefix) or network.
    pub net: IpNet,
    /// Whether the text wrote a `/prefix`.
    pub has_prefix: bool,
}

impl Serialize for IpFact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.has_prefix {
            s.collect_str(&self.net)
        } else {
            s.collect_str(&self.net.addr())
        }
    }
}

impl<'de> Deserialize<'de> for IpFact {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<IpFact, D::Error> {
        let text = String::deserialize(d)?;
        if text.contains('/') {
            let net: IpNet = text.parse().map_err(serde::de::Error::custom)?;
            Ok(IpFact {
                net,
                has_prefix: true,
            })
        } else {
            let addr: std::net::IpAddr = text.parse().map_err(serde::de::Error::custom)?;
            Ok(IpFact {
                net: IpNet::from(addr),
                has_prefix: false,
            })
        }
    }
}

/// What a marking definition expresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MarkingKind {
    /// A TLP level (standard id, `definition_type: "tlp"`, or the TLP 2.0 extension).
    #[serde(rename = "T")]
    Tlp(Tlp),
    /// A statement (copyright, terms of use): no sharing level.
    #[serde(rename = "S")]
    Statement,
    /// Anything else.
    #[serde(rename = "O")]
    Other,
}

/// Why a facts column could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FactsError {
    /// A format 1 (JSON) column that is not the JSON earlier builds wrote.
    #[error("object facts column is malformed: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A format 2 (binary) column that does not decode.
    #[error("object facts column is corrupt at byte {at}: {what}")]
    Corrupt {
        /// Offset of the byte where decoding failed.
        at: usize,
        /// What was wrong there.
        what: &'static str,
    },
    /// Written by an incompatible version.
    #[error("object facts column has format {found}, this build reads format {expected}; re-extract the facts")]
    Format {
        /// Format found.
        found: u8,
        /// Format this build writes.
        expected: u8,
    },
}

impl ObjectFacts {
    /// Extracts the facts from a parsed STIX object. Never fails: absent or
    /// malformed properties simply yield no facts (validation is the ingest
    /// pipeline's job, not the gate's).
    pub fn extract(object: &Value) -> ObjectFacts {
        extract_from(object)
    }

    /// Extracts the facts from the validator's parse of an object
    /// ([`accord_stix::parse_object_then`]): the same facts as
    /// [`ObjectFacts::extract`], without parsing the text again. This is the ingest path.
    ///
    /// ```
    /// use accord_agreements::ObjectFacts;
    /// use accord_stix::{parse_object_then, ParseOptions};
    /// let text = r#"{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}"#;
    /// let (_, facts) = parse_object_then(text, &ParseOptions::default(), ObjectFacts::extract_view)?;
    /// assert_eq!(facts, ObjectFacts::extract(&serde_json::from_str(text).unwrap()));
    /// # Ok::<(), accord_stix::Rejection>(())
    /// ```
    pub fn extract_view(object: JsonView<'_>) -> ObjectFacts {
        extract_from(object)
    }

    /// The compact column form the store keeps: binary, ids as a type code and 16
    /// bytes (format [`FACTS_FORMAT`]; the layout is described in `column.rs`).
    pub fn to_column(&self) -> Vec<u8> {
        column::encode(self)
    }

    /// Reads a column written by [`ObjectFacts::to_column`], or by an earlier build
    /// (format 1, JSON). Never panics: anything else is an error.
    pub fn from_column(bytes: &[u8]) -> Result<ObjectFacts, FactsError> {
        match bytes.first() {
            Some(&FACTS_FORMAT) => column::decode(bytes),
            Some(b'{') => {
                let mut facts: ObjectFacts = serde_json::from_slice(bytes)?;
                if facts.format != JSON_FACTS_FORMAT {
                    return Err(FactsError::Format {
                        found: facts.format,
                        expected: FACTS_FORMAT,
                    });
                }
                facts.format = FACTS_FORMAT;
                Ok(facts)
            }
            found => Err(FactsError::Format {
                found: found.copied().unwrap_or(0),
                expected: FACTS_FORMAT,
            }),
        }
    }

    /// Whether the object is a STIX Domain Object or an SRO of the 2.1 catalogue
    /// or a custom object (anything not an SCO or a meta object): the objects the
    /// label and confidence rules of a scope apply to.
    pub fn is_domain_or_relationship(&self) -> bool {
        !is_cyber_observable(&self.kind)
            && self.kind != "marking-definition"
            && self.kind != "language-content"
            && self.kind != "extension-definition"
    }

    /// Whether the object is an `ipv4-addr` or `ipv6-addr` SCO.
    pub fn is_address_sco(&self) -> bool {
        self.kind == "ipv4-addr" || self.kind == "ipv6-addr"
    }
}

/// The STIX 2.1 cyber-observable object types.
pub fn is_cyber_observable(kind: &str) -> bool {
    matches!(
        kind,
        "artifact"
            | "autonomous-system"
            | "directory"
            | "domain-name"
            | "email-addr"
            | "email-message"
            | "file"
            | "ipv4-addr"
            | "ipv6-addr"
            | "mac-addr"
            | "mutex"
            | "network-traffic"
            | "process"
            | "software"
            | "url"
            | "user-account"
            | "windows-registry-key"
            | "x509-certificate"
    )
}

fn extract_from<'a, V: View<'a>>(object: V) -> ObjectFacts {
    let mut facts = ObjectFacts {
        format: FACTS_FORMAT,
        ..ObjectFacts::default()
    };
    if !object.is_object() {
        return facts;
    }
    let mut found = Found::default();
    let mut top = TopLevel::default();
    walk(object, &mut facts, &mut found, Some(&mut top));
    facts.ips = found.ips.into_iter().collect();
    facts.mentions = found.mentions.into_iter().collect();
    let text = |value: Option<V>| value.and_then(V::as_str);
    facts.id = text(top.id).unwrap_or_default().into_owned();
    facts.kind = text(top.kind).unwrap_or_default().into_owned();
    facts.has_confidence = top.confidence.is_some();
    facts.confidence = top
        .confidence
        .and_then(V::as_u64)
        .filter(|c| *c <= 100)
        .and_then(|c| u8::try_from(c).ok());
    facts.labels = string_list(top.labels);
    facts.created_by = text(top.created_by).map(Cow::into_owned);
    extract_markings(&top, &mut facts);
    if facts.kind == "indicator" {
        let time = |value| text(value).and_then(|t| UtcMicros::parse(&t)).map(|t| t.0);
        facts.valid_from = time(top.valid_from);
        facts.valid_until = time(top.valid_until);
    }
    if facts.kind == "ipv4-addr" || facts.kind == "ipv6-addr" {
        facts.sco_value = text(top.value).map(Cow::into_owned);
    }
    if facts.kind == "marking-definition" {
        facts.marking = Some(marking_kind(object, &facts.id));
    }
    facts
}

/// The top-level members the facts read, noted during the walk over every member:
/// looking each up by name would scan the object's members once per name.
struct TopLevel<V> {
    id: Option<V>,
    kind: Option<V>,
    confidence: Option<V>,
    labels: Option<V>,
    created_by: Option<V>,
    marking_refs: Option<V>,
    granular_markings: Option<V>,
    valid_from: Option<V>,
    valid_until: Option<V>,
    value: Option<V>,
}

impl<V> Default for TopLevel<V> {
    fn default() -> Self {
        TopLevel {
            id: None,
            kind: None,
            confidence: None,
            labels: None,
            created_by: None,
            marking_refs: None,
            granular_markings: None,
            valid_from: None,
            valid_until: None,
            value: None,
        }
    }
}

impl<V> TopLevel<V> {
    /// Keeps the first member of each name, as a lookup by name finds it.
    fn note(&mut self, key: &str, value: V) {
        let slot = match key {
            "id" => &mut self.id,
            "type" => &mut self.kind,
            "confidence" => &mut self.confidence,
            "labels" => &mut self.labels,
            "created_by_ref" => &mut self.created_by,
            "object_marking_refs" => &mut self.marking_refs,
            "granular_markings" => &mut self.granular_markings,
            "valid_from" => &mut self.valid_from,
            "valid_until" => &mut self.valid_until,
            "value" => &mut self.value,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
}

/// Read access to a parsed JSON value, so that one extraction serves both
/// `serde_json::Value` and the validator's own parse ([`JsonView`], the ingest path,
/// which so parses each object once).
trait View<'a>: Copy {
    fn as_str(self) -> Option<Cow<'a, str>>;
    fn as_u64(self) -> Option<u64>;
    fn as_f64(self) -> Option<f64>;
    fn is_object(self) -> bool;
    fn is_array(self) -> bool;
    fn get(self, key: &str) -> Option<Self>;
    /// Calls `f` with each member of an object, in order (nothing for other values).
    fn for_each_member(self, f: &mut dyn FnMut(&str, Self));
    /// Calls `f` with each element of an array, in order (nothing for other values).
    fn for_each_item(self, f: &mut dyn FnMut(Self));
}

impl<'a> View<'a> for &'a Value {
    fn as_str(self) -> Option<Cow<'a, str>> {
        Value::as_str(self).map(Cow::Borrowed)
    }
    fn as_u64(self) -> Option<u64> {
        Value::as_u64(self)
    }
    fn as_f64(self) -> Option<f64> {
        Value::as_f64(self)
    }
    fn is_object(self) -> bool {
        Value::is_object(self)
    }
    fn is_array(self) -> bool {
        Value::is_array(self)
    }
    fn get(self, key: &str) -> Option<&'a Value> {
        self.as_object().and_then(|m| m.get(key))
    }
    fn for_each_member(self, f: &mut dyn FnMut(&str, &'a Value)) {
        if let Some(map) = self.as_object() {
            map.iter().for_each(|(k, v)| f(k, v));
        }
    }
    fn for_each_item(self, f: &mut dyn FnMut(&'a Value)) {
        if let Some(items) = self.as_array() {
            items.iter().for_each(f);
        }
    }
}

impl<'a> View<'a> for JsonView<'a> {
    fn as_str(self) -> Option<Cow<'a, str>> {
        JsonView::as_str(&self)
    }
    fn as_u64(self) -> Option<u64> {
        JsonView::as_u64(&self)
    }
    fn as_f64(self) -> Option<f64> {
        JsonView::as_f64(&self)
    }
    fn is_object(self) -> bool {
        JsonView::is_object(&self)
    }
    fn is_array(self) -> bool {
        JsonView::is_array(&self)
    }
    fn get(self, key: &str) -> Option<JsonView<'a>> {
        // The first member with the name, as serde_json's map keeps the last:
        // validated objects have no duplicate names, so the two agree.
        JsonView::get(&self, key)
    }
    fn for_each_member(self, f: &mut dyn FnMut(&str, JsonView<'a>)) {
        self.members().for_each(|(k, v)| f(&k, v));
    }
    fn for_each_item(self, f: &mut dyn FnMut(JsonView<'a>)) {
        self.items().for_each(f);
    }
}

fn string_list<'a, V: View<'a>>(value: Option<V>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(value) = value {
        value.for_each_item(&mut |item| {
            if let Some(s) = item.as_str() {
                out.push(s.into_owned());
            }
        });
    }
    out
}

fn extract_markings<'a, V: View<'a>>(top: &TopLevel<V>, facts: &mut ObjectFacts) {
    let mut ids = string_list(top.marking_refs);
    if let Some(granular) = top.granular_markings {
        granular.for_each_item(&mut |g| {
            if let Some(id) = g.get("marking_ref").and_then(V::as_str) {
                ids.push(id.into_owned());
            }
        });
    }
    for id in ids {
        match Tlp::from_marking_id(&id) {
            Some(level) => facts.tlp = facts.tlp.max(Some(level)),
            None if !facts.other_markings.contains(&id) => facts.other_markings.push(id),
            None => {}
        }
    }
}

fn marking_kind<'a, V: View<'a>>(object: V, id: &str) -> MarkingKind {
    if let Some(level) = Tlp::from_marking_id(id) {
        return MarkingKind::Tlp(level);
    }
    let tlp2 = object
        .get("extensions")
        .and_then(|e| e.get(TLP2_EXTENSION_ID))
        .and_then(|e| e.get("tlp_2_0"))
        .and_then(V::as_str);
    if let Some(level) = tlp2.and_then(|t| Tlp::from_definition_text(&t)) {
        return MarkingKind::Tlp(level);
    }
    let definition_type = object.get("definition_type").and_then(V::as_str);
    let definition = object.get("definition");
    match definition_type.as_deref() {
        Some("tlp") => definition
            .and_then(|d| d.get("tlp"))
            .and_then(V::as_str)
            .and_then(|t| Tlp::from_definition_text(&t))
            .map_or(MarkingKind::Other, MarkingKind::Tlp),
        Some("statement") => MarkingKind::Statement,
        _ => MarkingKind::Other,
    }
}

/// What the walk collects besides the references.
#[derive(Default)]
struct Found {
    ips: BTreeSet<IpFact>,
    mentions: BTreeSet<String>,
}

/// Collects references, IP literals and id mentions from every member, at any depth.
/// `top` is given for the object itself (not for nested objects): its members of
/// interest are noted there.
fn walk<'a, V: View<'a>>(
    object: V,
    facts: &mut ObjectFacts,
    found: &mut Found,
    top: Option<&mut TopLevel<V>>,
) {
    walk_members(object, facts, found, top, false);
}

/// [`walk`]; `in_extensions`: the members are those of an `extensions` dictionary,
/// whose names are extension definition ids (the object's schema, not a mention).
fn walk_members<'a, V: View<'a>>(
    object: V,
    facts: &mut ObjectFacts,
    found: &mut Found,
    mut top: Option<&mut TopLevel<V>>,
    in_extensions: bool,
) {
    object.for_each_member(&mut |key, value| {
        if let Some(top) = top.as_deref_mut() {
            top.note(key, value);
        }
        let at_top = top.is_some();
        scan_ips(key, &mut found.ips);
        scan_mentions(key, in_extensions, &mut found.mentions);
        let marking_key = key == "object_marking_refs" || key == "marking_ref";
        // A string is decoded once: prose with escapes is copied to decode it.
        if let Some(s) = value.as_str() {
            scan_ips(&s, &mut found.ips);
            let single_ref = key.ends_with("_ref");
            scan_mentions(
                &s,
                single_ref || (at_top && key == "id"),
                &mut found.mentions,
            );
            if single_ref && !marking_key && !(at_top && key == "created_by_ref") {
                if at_top && !REQUIRED_REFERENCES.contains(&key) {
                    facts.optional_refs.push(s.into_owned());
                } else {
                    facts.refs.push(s.into_owned());
                }
            }
            return;
        }
        if value.is_array() {
            let list = key.ends_with("_refs");
            if list && !marking_key {
                let ids = string_list(Some(value));
                if !ids.is_empty() {
                    facts.ref_lists.push(RefList {
                        key: key.to_owned(),
                        ids,
                    });
                }
            }
            value.for_each_item(&mut |v| walk_value(key, v, list, facts, found));
            return;
        }
        if at_top && key == "extensions" && value.is_object() {
            walk_members(value, facts, found, None, true);
            return;
        }
        walk_value(key, value, false, facts, found);
    });
}

/// `key` is the member name the value (or the array holding it) is under;
/// `list_item`: the value is an item of a `*_refs` list.
fn walk_value<'a, V: View<'a>>(
    key: &str,
    value: V,
    list_item: bool,
    facts: &mut ObjectFacts,
    found: &mut Found,
) {
    if let Some(s) = value.as_str() {
        scan_ips(&s, &mut found.ips);
        scan_mentions(&s, list_item, &mut found.mentions);
    } else if value.is_array() {
        value.for_each_item(&mut |v| walk_value(key, v, false, facts, found));
    } else if value.is_object() {
        walk(value, facts, found, None);
    } else {
        scan_number(key, value, &mut found.ips);
    }
}

/// Adds the id tokens of `text` to `mentions`. `reference`: the text is a reference's
/// value (or the object's own id), handled by the reference rules when it is exactly
/// one id in canonical (lowercase) form.
fn scan_mentions(text: &str, reference: bool, mentions: &mut BTreeSet<String>) {
    ids::visit(text, &mut |token| {
        let exact = reference
            && token.start == 0
            && token.end == text.len()
            && text.as_bytes().get(token.run.len()..token.run.len() + 2) == Some(b"--")
            && !text.bytes().any(|b| b.is_ascii_uppercase());
        if !exact {
            mentions.insert(token.key());
        }
    });
}

fn scan_ips(text: &str, ips: &mut BTreeSet<IpFact>) {
    ipscan::visit(text, &mut |literal| {
        ips.insert(IpFact {
            net: literal.net,
            has_prefix: literal.has_prefix,
        });
    });
}

/// The properties STIX 2.1 defines as integers (counts, sizes, ports, process ids,
/// AS numbers, PE header fields, ...), at any depth: their meaning is fixed by the
/// specification, so their values are not read as integer IPv4 addresses. Every
/// other integer (custom `x_` properties, custom objects and extensions, `ipfix`
/// values) from [`ipscan::MIN_INTEGER_V4`] to 2^32 − 1 is read as one.
pub const STIX_INTEGER_PROPERTIES: &[&str] = &[
    "address_of_entry_point",
    "base_of_code",
    "base_of_data",
    "bits_per_pixel",
    "confidence",
    "count",
    "dst_byte_count",
    "dst_packets",
    "dst_port",
    "file_alignment",
    "gid",
    "image_base",
    "image_height",
    "image_width",
    "major_image_version",
    "major_linker_version",
    "major_os_version",
    "major_subsystem_version",
    "message_body_length",
    "minor_image_version",
    "minor_linker_version",
    "minor_os_version",
    "minor_subsystem_version",
    "number",
    "number_observed",
    "number_of_rva_and_sizes",
    "number_of_sections",
    "number_of_subkeys",
    "number_of_symbols",
    "pid",
    "section_alignment",
    "size",
    "size_of_code",
    "size_of_headers",
    "size_of_heap_commit",
    "size_of_heap_reserve",
    "size_of_image",
    "size_of_initialized_data",
    "size_of_optional_header",
    "size_of_stack_commit",
    "size_of_stack_reserve",
    "size_of_uninitialized_data",
    "socket_descriptor",
    "socket_handle",
    "src_byte_count",
    "src_packets",
    "src_port",
    "subject_public_key_exponent",
];

/// The IPv4 address a JSON number under `key` stands for: an integer (or a float
/// with no fraction, read lazily through `float`) in the range of
/// [`ipscan::integer_v4`], under any property but [`STIX_INTEGER_PROPERTIES`].
pub fn number_address(
    key: &str,
    integer: Option<u64>,
    float: impl FnOnce() -> Option<f64>,
) -> Option<std::net::Ipv4Addr> {
    let n = match integer {
        Some(n) => n,
        None => float()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u64)?,
    };
    let addr = ipscan::integer_v4(n)?;
    (!STIX_INTEGER_PROPERTIES.contains(&key)).then_some(addr)
}

fn scan_number<'a, V: View<'a>>(key: &str, value: V, ips: &mut BTreeSet<IpFact>) {
    if let Some(addr) = number_address(key, value.as_u64(), || value.as_f64()) {
        ips.insert(IpFact {
            net: IpNet::from(std::net::IpAddr::V4(addr)),
            has_prefix: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Facts from the validator's parse (the ingest path).
    fn from_view(text: &str) -> ObjectFacts {
        accord_stix::JsonView::parse_then(text, ObjectFacts::extract_view).unwrap()
    }

    /// Every object of the real fixtures (ATT&CK for ICS and the OASIS examples).
    pub(super) fn fixture_objects() -> Vec<Value> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/stix");
        let mut files = vec![format!("{dir}/ics-attack-18.1.json")];
        for entry in std::fs::read_dir(format!("{dir}/oasis-examples")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path.display().to_string());
            }
        }
        let mut objects = Vec::new();
        for file in files {
            let data: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            match data.get("objects").and_then(Value::as_array) {
                Some(list) => objects.extend(list.iter().cloned()),
                None => objects.push(data),
            }
        }
        objects
    }

    /// The ingest path (the validator's parse) and the `Value` path give the same
    /// facts on every object of the real fixtures.
    #[test]
    fn view_and_value_extraction_agree_on_real_data() {
        let objects = fixture_objects();
        assert!(objects.len() > 2000, "{}", objects.len());
        for object in objects {
            let text = object.to_string();
            assert_eq!(from_view(&text), ObjectFacts::extract(&object), "{text}");
        }
    }

    #[test]
    fn view_extraction_handles_escapes_and_numbers() {
        let text = r#"{"type":"indicator","id":"indicator--1","confidence":-1,"labels":["c\u0032"],"description":"at 198.51.100.7\n","x":[1.5,true,null,{"y_ref":"file--f"}]}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let facts = from_view(text);
        assert_eq!(facts, ObjectFacts::extract(&value));
        assert_eq!(facts.labels, ["c2"]);
        assert!(facts.has_confidence && facts.confidence.is_none());
        assert_eq!(facts.refs, ["file--f"]);
    }

    #[test]
    fn extracts_references_of_every_kind() {
        let sighting = json!({
            "type": "sighting", "id": "sighting--1",
            "created_by_ref": "identity--c",
            "sighting_of_ref": "indicator--a",
            "observed_data_refs": ["observed-data--b"],
            "where_sighted_refs": ["identity--d"],
            "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "marking-definition--x"],
            "granular_markings": [{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": ["description"]}],
            "extensions": {"x-ext": {"sample_ref": "file--f"}}
        });
        let f = ObjectFacts::extract(&sighting);
        let mut refs = f.refs.clone();
        refs.sort();
        assert_eq!(refs, ["file--f", "indicator--a"]);
        assert_eq!(f.ref_lists.len(), 2);
        assert_eq!(f.created_by.as_deref(), Some("identity--c"));
        assert_eq!(f.tlp, Some(Tlp::Red));
        assert_eq!(f.other_markings, ["marking-definition--x"]);
    }

    #[test]
    fn finds_ips_in_keys_values_and_patterns() {
        let o = json!({"type": "observed-data", "id": "observed-data--1",
            "x_note": {"seen 192.0.2.1": "and [2001:db8::2]"},
            "pattern": "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"});
        let f = ObjectFacts::extract(&o);
        let ips: Vec<String> = f
            .ips
            .iter()
            .map(|i| serde_json::to_string(i).unwrap())
            .collect();
        assert_eq!(
            ips,
            // `db8::2` is the reading from the start after the first colon (a word
            // glued before an address must not hide it).
            [
                "\"192.0.2.1\"",
                "\"203.0.113.0/24\"",
                "\"db8::2\"",
                "\"2001:db8::2\""
            ]
        );
        assert_eq!(ObjectFacts::from_column(&f.to_column()).unwrap(), f);
    }

    #[test]
    fn recognises_tlp_marking_definitions_by_content() {
        let v1 = json!({"type": "marking-definition", "id": "marking-definition--z",
            "definition_type": "tlp", "definition": {"tlp": "amber"}});
        assert_eq!(
            ObjectFacts::extract(&v1).marking,
            Some(MarkingKind::Tlp(Tlp::Amber))
        );
        let v2 = json!({"type": "marking-definition", "id": "marking-definition--y",
            "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}});
        assert_eq!(
            ObjectFacts::extract(&v2).marking,
            Some(MarkingKind::Tlp(Tlp::AmberStrict))
        );
        let st = json!({"type": "marking-definition", "id": "marking-definition--s",
            "definition_type": "statement", "definition": {"statement": "Copyright"}});
        assert_eq!(
            ObjectFacts::extract(&st).marking,
            Some(MarkingKind::Statement)
        );
    }

    #[test]
    fn column_of_another_format_is_refused_with_a_reason() {
        let err = ObjectFacts::from_column(br#"{"F":9,"i":"x","t":"y"}"#).unwrap_err();
        assert!(err.to_string().contains("format 9"), "{err}");
        assert!(ObjectFacts::from_column(b"{").is_err());
        let err = ObjectFacts::from_column(&[7, 0, 0]).unwrap_err();
        assert!(err.to_string().contains("format 7"), "{err}");
        assert!(ObjectFacts::from_column(&[]).is_err());
    }
}

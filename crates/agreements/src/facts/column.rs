//! The stored form of [`ObjectFacts`]: a compact binary record (format 2).
//!
//! Every object version carries its facts in the store, and a TAXII read decodes them
//! for every object it considers, so the form is chosen for size and decoding speed.
//! Format 1 was JSON with one-letter keys: 365 bytes for a typical ATT&CK
//! relationship, two fifths of the object's own text, most of it STIX ids written out
//! (and the id and type twice). Format 2 writes an id of the usual form
//! (`<type>--<lowercase UUID>`) as a one-byte type code and the UUID's 16 bytes:
//! about 110 bytes for the same relationship. Format 1 columns, written by earlier
//! builds, are still read (they start with `{`; format 2 starts with byte 2).
//!
//! Layout: the format byte, two bytes (little-endian) of [`Present`] flags, the id,
//! the kind unless it is the id's type, then each optional field whose flag is set, in
//! the flags' order (`has_confidence` is a flag alone). An id is a tag byte (a known
//! type's code, or a type written out, each followed by the 16 UUID bytes; or the
//! text as written), an address a tag byte (family, prefix written), its bytes and its
//! prefix length; times are 8 bytes little-endian. Counts and lengths are LEB128
//! varints; strings are UTF-8. Nothing here panics on any input: every read is
//! bounds-checked and a malformed column is a [`FactsError::Corrupt`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use uuid::Uuid;

use super::{FactsError, IpFact, MarkingKind, ObjectFacts, RefList, FACTS_FORMAT};
use crate::bytes::ByteCursor;
use crate::tlp::Tlp;

/// Which optional fields follow the id, one bit each, in the order they are written.
struct Present;

impl Present {
    /// `kind` is not written: it is the id's type.
    const KIND_IS_ID_TYPE: u16 = 1 << 0;
    const TLP: u16 = 1 << 1;
    const OTHER_MARKINGS: u16 = 1 << 2;
    const CONFIDENCE: u16 = 1 << 3;
    const HAS_CONFIDENCE: u16 = 1 << 4;
    const LABELS: u16 = 1 << 5;
    const REFS: u16 = 1 << 6;
    const REF_LISTS: u16 = 1 << 7;
    const CREATED_BY: u16 = 1 << 8;
    const IPS: u16 = 1 << 9;
    const SCO_VALUE: u16 = 1 << 10;
    const VALID_FROM: u16 = 1 << 11;
    const VALID_UNTIL: u16 = 1 << 12;
    const MARKING: u16 = 1 << 13;
    /// Added after the first format 2 columns were written: a column without these
    /// two flags (every column of an earlier build) decodes as before. With them,
    /// all 16 flags are fields.
    const OPTIONAL_REFS: u16 = 1 << 14;
    const MENTIONS: u16 = 1 << 15;
}

/// Declares the known types' table (code order) and its reverse lookup, from one list.
macro_rules! known_types {
    ($($index:literal => $name:literal,)*) => {
        const KNOWN_TYPES: &[&str] = &[$($name),*];

        /// The index of a known type in [`KNOWN_TYPES`] (a `match`: no scan of the table).
        fn known_type_index(kind: &str) -> Option<usize> {
            match kind {
                $($name => Some($index),)*
                _ => None,
            }
        }
    };
}

// Object types given a one-byte code in ids: the STIX 2.1 object types and common
// custom ones (ATT&CK, OCA, MISP, OpenCTI). Part of the format: append only, never
// reorder.
known_types! {
    0 => "attack-pattern",
    1 => "campaign",
    2 => "course-of-action",
    3 => "grouping",
    4 => "identity",
    5 => "incident",
    6 => "indicator",
    7 => "infrastructure",
    8 => "intrusion-set",
    9 => "location",
    10 => "malware",
    11 => "malware-analysis",
    12 => "note",
    13 => "observed-data",
    14 => "opinion",
    15 => "report",
    16 => "threat-actor",
    17 => "tool",
    18 => "vulnerability",
    19 => "relationship",
    20 => "sighting",
    21 => "artifact",
    22 => "autonomous-system",
    23 => "directory",
    24 => "domain-name",
    25 => "email-addr",
    26 => "email-message",
    27 => "file",
    28 => "ipv4-addr",
    29 => "ipv6-addr",
    30 => "mac-addr",
    31 => "mutex",
    32 => "network-traffic",
    33 => "process",
    34 => "software",
    35 => "url",
    36 => "user-account",
    37 => "windows-registry-key",
    38 => "x509-certificate",
    39 => "marking-definition",
    40 => "language-content",
    41 => "extension-definition",
    42 => "x-mitre-tactic",
    43 => "x-mitre-matrix",
    44 => "x-mitre-collection",
    45 => "x-mitre-data-source",
    46 => "x-mitre-data-component",
    47 => "x-mitre-analytic",
    48 => "x-mitre-detection-strategy",
    49 => "x-mitre-asset",
    50 => "x-oca-asset",
    51 => "x-oca-behavior",
    52 => "x-mitre-log-source",
    53 => "x-misp-object",
    54 => "x-opencti-simple-observable",
    55 => "x-opencti-text",
}

/// First id tag byte of a known type; below it: 0 = text as written, 1 = type text
/// then UUID.
const ID_KNOWN_BASE: u8 = 2;
const ID_TEXT: u8 = 0;
const ID_TYPE_TEXT: u8 = 1;
const _: () = assert!(KNOWN_TYPES.len() + ID_KNOWN_BASE as usize <= 256);

/// Writes `facts` in format 2.
pub(super) fn encode(facts: &ObjectFacts) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(FACTS_FORMAT);
    let present = present(facts);
    out.extend_from_slice(&present.to_le_bytes());
    put_id(&mut out, &facts.id);
    if present & Present::KIND_IS_ID_TYPE == 0 {
        put_str(&mut out, &facts.kind);
    }
    if let Some(tlp) = facts.tlp {
        out.push(tlp_code(tlp));
    }
    put_ids(&mut out, &facts.other_markings);
    if let Some(confidence) = facts.confidence {
        out.push(confidence);
    }
    if !facts.labels.is_empty() {
        put_len(&mut out, facts.labels.len());
        for label in &facts.labels {
            put_str(&mut out, label);
        }
    }
    put_ids(&mut out, &facts.refs);
    if !facts.ref_lists.is_empty() {
        put_len(&mut out, facts.ref_lists.len());
        for list in &facts.ref_lists {
            put_str(&mut out, &list.key);
            put_len(&mut out, list.ids.len());
            for id in &list.ids {
                put_id(&mut out, id);
            }
        }
    }
    if let Some(created_by) = &facts.created_by {
        put_id(&mut out, created_by);
    }
    if !facts.ips.is_empty() {
        put_len(&mut out, facts.ips.len());
        for ip in &facts.ips {
            put_ip(&mut out, ip);
        }
    }
    if let Some(value) = &facts.sco_value {
        put_str(&mut out, value);
    }
    for time in [facts.valid_from, facts.valid_until].into_iter().flatten() {
        out.extend_from_slice(&time.to_le_bytes());
    }
    if let Some(marking) = facts.marking {
        out.push(marking_code(marking));
    }
    put_ids(&mut out, &facts.optional_refs);
    put_ids(&mut out, &facts.mentions);
    out
}

fn present(facts: &ObjectFacts) -> u16 {
    let flags = [
        (
            id_type(&facts.id) == Some(facts.kind.as_str()),
            Present::KIND_IS_ID_TYPE,
        ),
        (facts.tlp.is_some(), Present::TLP),
        (!facts.other_markings.is_empty(), Present::OTHER_MARKINGS),
        (facts.confidence.is_some(), Present::CONFIDENCE),
        (facts.has_confidence, Present::HAS_CONFIDENCE),
        (!facts.labels.is_empty(), Present::LABELS),
        (!facts.refs.is_empty(), Present::REFS),
        (!facts.ref_lists.is_empty(), Present::REF_LISTS),
        (facts.created_by.is_some(), Present::CREATED_BY),
        (!facts.ips.is_empty(), Present::IPS),
        (facts.sco_value.is_some(), Present::SCO_VALUE),
        (facts.valid_from.is_some(), Present::VALID_FROM),
        (facts.valid_until.is_some(), Present::VALID_UNTIL),
        (facts.marking.is_some(), Present::MARKING),
        (!facts.optional_refs.is_empty(), Present::OPTIONAL_REFS),
        (!facts.mentions.is_empty(), Present::MENTIONS),
    ];
    flags
        .into_iter()
        .filter(|(set, _)| *set)
        .fold(0, |all, (_, bit)| all | bit)
}

/// Reads a format 2 column (`bytes[0]` is the format byte).
pub(super) fn decode(bytes: &[u8]) -> Result<ObjectFacts, FactsError> {
    let mut input = Input {
        cursor: ByteCursor::at(bytes, 1),
    };
    // Every one of the 16 flags is a field.
    let present = u16::from_le_bytes([input.byte()?, input.byte()?]);
    let has = |bit: u16| present & bit != 0;
    let mut facts = ObjectFacts {
        format: FACTS_FORMAT,
        id: input.id()?,
        has_confidence: has(Present::HAS_CONFIDENCE),
        ..ObjectFacts::default()
    };
    facts.kind = if has(Present::KIND_IS_ID_TYPE) {
        id_type(&facts.id)
            .ok_or_else(|| input.corrupt("kind taken from an id without a type"))?
            .to_owned()
    } else {
        input.string()?
    };
    if has(Present::TLP) {
        facts.tlp = Some(input.tlp()?);
    }
    if has(Present::OTHER_MARKINGS) {
        facts.other_markings = input.list(Input::id)?;
    }
    if has(Present::CONFIDENCE) {
        facts.confidence = Some(input.byte()?);
    }
    if has(Present::LABELS) {
        facts.labels = input.list(Input::string)?;
    }
    if has(Present::REFS) {
        facts.refs = input.list(Input::id)?;
    }
    if has(Present::REF_LISTS) {
        facts.ref_lists = input.list(|input| {
            Ok(RefList {
                key: input.string()?,
                ids: input.list(Input::id)?,
            })
        })?;
    }
    if has(Present::CREATED_BY) {
        facts.created_by = Some(input.id()?);
    }
    if has(Present::IPS) {
        facts.ips = input.list(Input::ip)?;
    }
    if has(Present::SCO_VALUE) {
        facts.sco_value = Some(input.string()?);
    }
    if has(Present::VALID_FROM) {
        facts.valid_from = Some(input.time()?);
    }
    if has(Present::VALID_UNTIL) {
        facts.valid_until = Some(input.time()?);
    }
    if has(Present::MARKING) {
        facts.marking = Some(input.marking()?);
    }
    if has(Present::OPTIONAL_REFS) {
        facts.optional_refs = input.list(Input::id)?;
    }
    if has(Present::MENTIONS) {
        facts.mentions = input.list(Input::id)?;
    }
    if input.cursor.remaining() != 0 {
        return Err(input.corrupt("bytes after the last field"));
    }
    Ok(facts)
}

/// Splits an id written `<type>--<uuid>` at the `--` before its last 36 bytes. Any
/// function of the text would do for the format, as long as writer and reader use
/// the same; this one costs no search (every id of every stored object goes through
/// it).
fn split_id(id: &str) -> Option<(&str, &str)> {
    let cut = id.len().checked_sub(38)?;
    // `-` is ASCII, so `cut` and `cut + 2` are character boundaries.
    (id.as_bytes()[cut..cut + 2] == *b"--").then(|| (&id[..cut], &id[cut + 2..]))
}

/// The type part of an id written `<type>--<uuid>`.
fn id_type(id: &str) -> Option<&str> {
    split_id(id).map(|(kind, _)| kind)
}

/// The UUID of an id, when its text is exactly what the UUID's canonical form writes
/// back (lowercase, hyphenated), so that decoding gives the same text.
fn canonical_uuid(text: &str) -> Option<Uuid> {
    let text: &[u8; 36] = text.as_bytes().try_into().ok()?;
    let (mut value, mut invalid) = (0u128, 0u8);
    for (i, &b) in text.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            invalid |= if b == b'-' { 0 } else { NOT_HEX };
        } else {
            let nibble = LOWER_HEX[usize::from(b)];
            invalid |= nibble;
            value = value << 4 | u128::from(nibble & 0xf);
        }
    }
    (invalid & NOT_HEX == 0).then(|| Uuid::from_u128(value))
}

/// Marks a byte that is not a lowercase hex digit in [`LOWER_HEX`].
const NOT_HEX: u8 = 0x10;

/// The value of each lowercase hex digit; [`NOT_HEX`] for any other byte.
const LOWER_HEX: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 16 {
        table[b"0123456789abcdef"[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The one-byte code of a known type.
fn known_type_code(kind: &str) -> Option<u8> {
    u8::try_from(known_type_index(kind)?)
        .ok()?
        .checked_add(ID_KNOWN_BASE)
}

fn put_id(out: &mut Vec<u8>, id: &str) {
    let compact = split_id(id).and_then(|(kind, rest)| Some((kind, canonical_uuid(rest)?)));
    match compact {
        Some((kind, uuid)) => {
            match known_type_code(kind) {
                Some(code) => out.push(code),
                None => {
                    out.push(ID_TYPE_TEXT);
                    put_str(out, kind);
                }
            }
            out.extend_from_slice(uuid.as_bytes());
        }
        None => {
            out.push(ID_TEXT);
            put_str(out, id);
        }
    }
}

fn put_ids(out: &mut Vec<u8>, ids: &[String]) {
    if !ids.is_empty() {
        put_len(out, ids.len());
        for id in ids {
            put_id(out, id);
        }
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_ip(out: &mut Vec<u8>, ip: &IpFact) {
    let prefix_flag = if ip.has_prefix { 2 } else { 0 };
    match ip.net {
        IpNet::V4(net) => {
            out.push(prefix_flag);
            out.extend_from_slice(&net.addr().octets());
        }
        IpNet::V6(net) => {
            out.push(prefix_flag | 1);
            out.extend_from_slice(&net.addr().octets());
        }
    }
    out.push(ip.net.prefix_len());
}

fn tlp_code(tlp: Tlp) -> u8 {
    match tlp {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

fn tlp_from_code(code: u8) -> Option<Tlp> {
    [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ]
    .get(usize::from(code))
    .copied()
}

fn marking_code(marking: MarkingKind) -> u8 {
    match marking {
        MarkingKind::Tlp(tlp) => tlp_code(tlp),
        MarkingKind::Statement => 5,
        MarkingKind::Other => 6,
    }
}

/// A column being read.
struct Input<'a> {
    cursor: ByteCursor<'a>,
}

impl<'a> Input<'a> {
    fn corrupt(&self, what: &'static str) -> FactsError {
        FactsError::Corrupt {
            at: self.cursor.pos(),
            what,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], FactsError> {
        self.cursor
            .take(n)
            .ok_or_else(|| self.corrupt("column ends inside a field"))
    }

    fn byte(&mut self) -> Result<u8, FactsError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FactsError> {
        self.cursor
            .array()
            .ok_or_else(|| self.corrupt("column ends inside a field"))
    }

    /// A varint length or count, at most what the rest of the column could hold (every
    /// item takes a byte at least), which bounds what a corrupt count can reserve.
    fn len(&mut self) -> Result<usize, FactsError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= self.cursor.remaining())
                    .ok_or_else(|| self.corrupt("length beyond the column"));
            }
        }
        Err(self.corrupt("varint longer than 64 bits"))
    }

    fn string(&mut self) -> Result<String, FactsError> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| self.corrupt("string is not UTF-8"))
    }

    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, FactsError>,
    ) -> Result<Vec<T>, FactsError> {
        let n = self.len()?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(item(self)?);
        }
        Ok(items)
    }

    fn id(&mut self) -> Result<String, FactsError> {
        let tag = self.byte()?;
        let kind = match tag {
            ID_TEXT => return self.string(),
            ID_TYPE_TEXT => self.string()?,
            code => KNOWN_TYPES
                .get(usize::from(code - ID_KNOWN_BASE))
                .ok_or_else(|| self.corrupt("unknown id type code"))?
                .to_string(),
        };
        let uuid = Uuid::from_bytes(self.array()?);
        let mut id = kind;
        id.push_str("--");
        id.push_str(uuid.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        Ok(id)
    }

    fn ip(&mut self) -> Result<IpFact, FactsError> {
        let tag = self.byte()?;
        if tag > 3 {
            return Err(self.corrupt("unknown address tag"));
        }
        let addr = if tag & 1 == 0 {
            IpAddr::V4(Ipv4Addr::from(self.array::<4>()?))
        } else {
            IpAddr::V6(Ipv6Addr::from(self.array::<16>()?))
        };
        let prefix = self.byte()?;
        let net = match addr {
            IpAddr::V4(addr) => Ipv4Net::new(addr, prefix).map(IpNet::V4),
            IpAddr::V6(addr) => Ipv6Net::new(addr, prefix).map(IpNet::V6),
        }
        .map_err(|_| self.corrupt("prefix longer than the address"))?;
        Ok(IpFact {
            net,
            has_prefix: tag & 2 != 0,
        })
    }

    fn tlp(&mut self) -> Result<Tlp, FactsError> {
        let code = self.byte()?;
        tlp_from_code(code).ok_or_else(|| self.corrupt("unknown TLP code"))
    }

    fn time(&mut self) -> Result<i64, FactsError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn marking(&mut self) -> Result<MarkingKind, FactsError> {
        match self.byte()? {
            5 => Ok(MarkingKind::Statement),
            6 => Ok(MarkingKind::Other),
            code => tlp_from_code(code)
                .map(MarkingKind::Tlp)
                .ok_or_else(|| self.corrupt("unknown marking code")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::fixture_objects;
    use proptest::prelude::*;

    /// Every object of the real fixtures: the column reads back to the same facts, in
    /// well under half the bytes of format 1.
    #[test]
    fn real_objects_round_trip_in_less_than_half_the_json_size() {
        let (mut binary, mut json) = (0, 0);
        let objects = fixture_objects();
        assert!(objects.len() > 1_800);
        for object in &objects {
            let facts = ObjectFacts::extract(object);
            let column = facts.to_column();
            assert_eq!(
                ObjectFacts::from_column(&column).unwrap(),
                facts,
                "{object}"
            );
            binary += column.len();
            json += serde_json::to_vec(&facts).unwrap().len();
        }
        assert!(binary * 5 < json * 2, "{binary} bytes binary, {json} JSON");
    }

    /// A format 1 column, as earlier builds stored it, reads to the facts it wrote.
    #[test]
    fn format_1_columns_of_earlier_builds_still_read() {
        let stored = br#"{"F":1,"i":"relationship--007a2c53-fc5c-4750-aff0-defb282e178a","t":"relationship","m":"amber","o":["marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"],"c":80,"C":true,"r":["attack-pattern--53a26eee-1080-4d17-9762-2027d5a1b805"],"b":"identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5","a":["198.51.100.7","10.0.0.0/8"]}"#;
        let facts = ObjectFacts::from_column(stored).unwrap();
        assert_eq!(facts.format, FACTS_FORMAT);
        assert_eq!(facts.kind, "relationship");
        assert_eq!(facts.tlp, Some(Tlp::Amber));
        assert_eq!(facts.confidence, Some(80));
        assert!(facts.has_confidence);
        assert_eq!(facts.refs.len(), 1);
        assert_eq!(facts.ips.len(), 2);
        assert!(facts.ips[1].has_prefix);
        assert_eq!(ObjectFacts::from_column(&facts.to_column()).unwrap(), facts);
    }

    /// A format 2 column written before optional references and id mentions were
    /// facts (bytes as that build wrote them) reads to the same facts, with neither.
    #[test]
    fn format_2_columns_without_the_later_fields_still_read() {
        let object = serde_json::json!({
            "type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created_by_ref": "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5",
            "x_acme_ref": "malware--53a26eee-1080-4d17-9762-2027d5a1b805"
        });
        let mut old = ObjectFacts::extract(&object);
        // What the earlier build extracted: the optional reference among `refs`.
        old.refs.append(&mut old.optional_refs);
        old.mentions.clear();
        let column = old.to_column();
        assert_eq!(column[2] & 0xc0, 0, "no new flag set");
        let read = ObjectFacts::from_column(&column).unwrap();
        assert_eq!(read, old);
        assert_eq!(read.refs, ["malware--53a26eee-1080-4d17-9762-2027d5a1b805"]);
    }

    #[test]
    fn known_type_codes_are_the_table_order() {
        for (index, kind) in KNOWN_TYPES.iter().enumerate() {
            assert_eq!(known_type_index(kind), Some(index), "{kind}");
        }
        assert_eq!(known_type_index("x-unknown"), None);
    }

    #[test]
    fn ids_of_the_usual_form_take_a_type_code_and_sixteen_bytes() {
        let id = |id: &str| {
            let mut out = Vec::new();
            put_id(&mut out, id);
            out
        };
        assert_eq!(
            id("relationship--007a2c53-fc5c-4750-aff0-defb282e178a").len(),
            17
        );
        // A custom type: its name, then the UUID.
        assert_eq!(
            id("x-acme-thing--007a2c53-fc5c-4750-aff0-defb282e178a").len(),
            30
        );
        // Uppercase or malformed UUIDs (here a hyphen out of place) are kept as written.
        for odd in [
            "relationship--007A2C53-FC5C-4750-AFF0-DEFB282E178A",
            "relationship--0-7a2c53-fc5c-4750-aff0-defb282e178a",
        ] {
            assert_eq!(id(odd).len(), 2 + odd.len(), "{odd}");
            let bytes = id(odd);
            let mut input = Input {
                cursor: ByteCursor::at(&bytes, 0),
            };
            assert_eq!(input.id().unwrap(), odd);
        }
    }

    /// Every truncation and every extra byte of a real column is an error naming the
    /// offset, never a panic.
    #[test]
    fn truncated_or_padded_columns_are_refused() {
        let object = serde_json::json!({
            "type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
            "labels": ["c2"], "confidence": 80, "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
            "created_by_ref": "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
        });
        let column = ObjectFacts::extract(&object).to_column();
        for end in 1..column.len() {
            let err = ObjectFacts::from_column(&column[..end]).unwrap_err();
            assert!(matches!(err, FactsError::Corrupt { .. }), "{end}: {err}");
        }
        let mut padded = column.clone();
        padded.push(0);
        let err = ObjectFacts::from_column(&padded).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "object facts column is corrupt at byte {}: bytes after the last field",
                column.len()
            )
        );
    }

    fn any_id() -> impl Strategy<Value = String> {
        prop_oneof![
            (0..KNOWN_TYPES.len(), any::<u128>()).prop_map(|(k, u)| format!(
                "{}--{}",
                KNOWN_TYPES[k],
                Uuid::from_u128(u)
            )),
            ("x-[a-z]{1,12}", any::<u128>())
                .prop_map(|(k, u)| format!("{k}--{}", Uuid::from_u128(u))),
            // Nearly a UUID: one character of one replaced.
            (
                any::<u128>(),
                0..36usize,
                prop_oneof![Just('-'), Just('A'), Just('g')]
            )
                .prop_map(|(u, at, c)| {
                    let mut text = Uuid::from_u128(u).to_string();
                    text.replace_range(at..=at, c.encode_utf8(&mut [0; 4]));
                    format!("indicator--{text}")
                }),
            ".{0,60}",
        ]
    }

    fn any_ip() -> impl Strategy<Value = IpFact> {
        prop_oneof![
            (any::<u32>(), 0u8..=32, any::<bool>()).prop_map(|(a, p, has_prefix)| IpFact {
                net: IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), p).unwrap()),
                has_prefix,
            }),
            (any::<u128>(), 0u8..=128, any::<bool>()).prop_map(|(a, p, has_prefix)| IpFact {
                net: IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), p).unwrap()),
                has_prefix,
            }),
        ]
    }

    fn any_tlp() -> impl Strategy<Value = Tlp> {
        (0u8..5).prop_map(|code| tlp_from_code(code).unwrap())
    }

    fn any_facts() -> impl Strategy<Value = ObjectFacts> {
        let ids = || proptest::collection::vec(any_id(), 0..4);
        let texts = || proptest::collection::vec(".{0,20}", 0..4);
        (
            (
                any_id(),
                prop_oneof![
                    Just(None),
                    Just(Some(String::new())),
                    ".{0,20}".prop_map(Some)
                ],
            ),
            (
                proptest::option::of(any_tlp()),
                ids(),
                proptest::option::of(any::<u8>()),
                any::<bool>(),
            ),
            (
                texts(),
                ids(),
                proptest::collection::vec((".{0,12}", ids()), 0..3),
            ),
            (
                proptest::option::of(any_id()),
                proptest::collection::vec(any_ip(), 0..4),
            ),
            (
                proptest::option::of(".{0,40}"),
                proptest::option::of(any::<i64>()),
                proptest::option::of(any::<i64>()),
            ),
            (
                proptest::option::of(prop_oneof![
                    any_tlp().prop_map(MarkingKind::Tlp),
                    Just(MarkingKind::Statement),
                    Just(MarkingKind::Other),
                ]),
                ids(),
                ids(),
            ),
        )
            .prop_map(
                |(
                    (id, kind),
                    (tlp, other_markings, confidence, has_confidence),
                    (labels, refs, lists),
                    (created_by, ips),
                    (sco_value, valid_from, valid_until),
                    (marking, optional_refs, mentions),
                )| {
                    let kind = kind.unwrap_or_else(|| id_type(&id).unwrap_or_default().to_owned());
                    ObjectFacts {
                        format: FACTS_FORMAT,
                        id,
                        kind,
                        tlp,
                        other_markings,
                        confidence,
                        has_confidence,
                        labels,
                        refs,
                        ref_lists: lists
                            .into_iter()
                            .map(|(key, ids)| RefList { key, ids })
                            .collect(),
                        created_by,
                        ips,
                        sco_value,
                        valid_from,
                        valid_until,
                        marking,
                        optional_refs,
                        mentions,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn any_facts_round_trip(facts in any_facts()) {
            prop_assert_eq!(ObjectFacts::from_column(&facts.to_column()).unwrap(), facts);
        }

        #[test]
        fn any_bytes_after_the_format_byte_are_read_or_refused(tail in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut column = vec![FACTS_FORMAT];
            column.extend(tail);
            if let Ok(facts) = ObjectFacts::from_column(&column) {
                prop_assert_eq!(ObjectFacts::from_column(&facts.to_column()).unwrap(), facts);
            }
        }
    }
}

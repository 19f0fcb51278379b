//! Producing the released text: untouched when the plan is empty (the fast
//! path), otherwise parsed, transformed and serialised again.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::facts::{number_address, ObjectFacts};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::ipscan::{self, IpLiteral, LiteralForm, V4Style, V6Style};
use crate::pseudonym::PseudonymKey;
use crate::ranges::AddressRanges;

use super::evaluate::{MentionEdit, Outcome};
use super::{WithholdReason, WITHHELD_ID};
use crate::agreement::{Redactor, REQUIRED_NESTED_PROPERTIES, REQUIRED_PROPERTIES};
use crate::facts::ids;

/// The STIX 2.1 namespace for deterministic SCO ids (section 2.9).
pub const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);

/// The deterministic id of an address SCO with this `value`: UUIDv5 over the
/// RFC 8785 canonical JSON of `{"value": value}`.
///
/// ```
/// use accord_agreements::sco_id;
/// // As the OASIS stix2 library computes it (the specification's own example
/// // id for this address, ff26c055-..., was not derived by the algorithm).
/// assert_eq!(sco_id("ipv4-addr", "198.51.100.3"), "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
/// assert_eq!(sco_id("ipv6-addr", "100::1"), "ipv6-addr--3a847094-7803-55c5-b768-6e5f550a1690");
/// ```
pub fn sco_id(kind: &str, value: &str) -> String {
    // A one-member object with a string value: serde_json's output is the RFC
    // 8785 form (its string escaping matches the ECMAScript rules the RFC uses).
    let canonical = serde_json::json!({ "value": value }).to_string();
    format!(
        "{kind}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes())
    )
}

/// Most rounds of replacement [`pseudonymise_text`] makes: a replacement may join
/// with its neighbours into a new reading (a window of a long dotted number), which
/// the next round replaces; text that still holds a customer address after this many
/// rounds is withheld.
const MAX_REPLACEMENT_ROUNDS: usize = 8;

/// Replaces every customer address in `text`, in every form the scanner
/// ([`crate::ipscan`]) recognises, with its pseudonym. `Ok(None)` when there is none;
/// `Err` when the text names a network inside the customer ranges (a pseudonym
/// cannot stand for a network). Afterwards the scanner finds no customer address in
/// the text: replacement is repeated until it does not, at most
/// [`MAX_REPLACEMENT_ROUNDS`] times, else the text is refused.
///
/// ```
/// use accord_agreements::{pseudonymise_text, AddressRanges, PseudonymKey};
/// let ranges = AddressRanges::new(["198.51.100.0/24".parse().unwrap()]);
/// let key = PseudonymKey::from_bytes(&[7; 32]).unwrap();
/// let out = pseudonymise_text("C2 contacted by 198.51.100.23 and 192.0.2.1", &ranges, &key).unwrap().unwrap();
/// assert!(!out.contains("198.51.100.23") && out.contains("192.0.2.1"));
/// assert_eq!(pseudonymise_text("nothing here", &ranges, &key).unwrap(), None);
/// ```
pub fn pseudonymise_text(
    text: &str,
    ranges: &AddressRanges,
    key: &PseudonymKey,
) -> Result<Option<String>, WithholdReason> {
    let mut current: Option<String> = None;
    for _ in 0..MAX_REPLACEMENT_ROUNDS {
        match replace_once(current.as_deref().unwrap_or(text), ranges, key)? {
            None => return Ok(current),
            Some(next) => current = Some(next),
        }
    }
    Err(WithholdReason::CustomerAddressNotReplaced)
}

/// Whether a reading is a customer address (not a network).
fn is_customer(literal: &IpLiteral, ranges: &AddressRanges) -> bool {
    !literal.is_network() && ranges.contains_addr(literal.net.addr())
}

/// One round: every reading group (same start and address end) with a customer
/// reading is replaced, left to right, skipping groups that overlap a replaced one.
fn replace_once(
    text: &str,
    ranges: &AddressRanges,
    key: &PseudonymKey,
) -> Result<Option<String>, WithholdReason> {
    let literals = ipscan::scan(text);
    if let Some(network) = literals
        .iter()
        .find(|l| l.is_network() && ranges.contains_net(&l.net))
    {
        return Err(WithholdReason::CustomerNetwork {
            net: network.net.to_string(),
        });
    }
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < literals.len() {
        let (start, addr_end) = (literals[i].span.0, literals[i].addr_end);
        let mut j = i + 1;
        while j < literals.len() && (literals[j].span.0, literals[j].addr_end) == (start, addr_end)
        {
            j += 1;
        }
        let group = &literals[i..j];
        i = j;
        if start < copied || !group.iter().any(|l| is_customer(l, ranges)) {
            continue;
        }
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
        buf.push_str(&text[copied..start]);
        buf.push_str(&replacement(text, group, ranges, key));
        copied = addr_end;
    }
    Ok(out.map(|mut buf| {
        buf.push_str(&text[copied..]);
        buf
    }))
}

/// The text that replaces a group of readings of one literal, in the literal's own
/// form where there is one (dashed stays dashed, a reversed name stays reversed, an
/// integer stays an integer, IPv6 keeps its prefix and dotted tail), else canonical.
fn replacement(
    text: &str,
    group: &[IpLiteral],
    ranges: &AddressRanges,
    key: &PseudonymKey,
) -> String {
    let v6 = group.iter().find_map(|l| match (l.form, l.net) {
        (LiteralForm::V6(style), IpNet::V6(net)) => Some((net.addr(), style)),
        (LiteralForm::V4InV6 { v6, style, .. }, _) => Some((v6, style)),
        _ => None,
    });
    let Some((addr, style)) = v6 else {
        let Some(literal) = group.iter().find(|l| is_customer(l, ranges)) else {
            return String::new();
        };
        let IpAddr::V4(v4) = literal.net.addr() else {
            return String::new();
        };
        let style = match literal.form {
            LiteralForm::V4(style) => style,
            _ => V4Style::Dotted,
        };
        return format_v4(key.pseudonymise_v4(v4), style);
    };
    let original = u128::from(addr);
    let whole = group
        .iter()
        .any(|l| matches!(l.form, LiteralForm::V6(_)) && is_customer(l, ranges));
    let new = if whole {
        u128::from(key.pseudonymise_v6(addr))
    } else {
        group
            .iter()
            .fold(original, |acc, l| match (l.form, l.net.addr()) {
                (LiteralForm::V4InV6 { embedding, .. }, IpAddr::V4(v4))
                    if is_customer(l, ranges) =>
                {
                    embedding.insert(acc, key.pseudonymise_v4(v4))
                }
                _ => acc,
            })
    };
    let start = group[0].span.0;
    match style {
        V6Style::Text {
            dotted_tail: Some(tail),
        } if new >> 32 == original >> 32 && tail >= start => {
            format!("{}{}", &text[start..tail], Ipv4Addr::from(new as u32))
        }
        V6Style::Text { .. } => Ipv6Addr::from(new).to_string(),
        V6Style::Nibbles => {
            let mut out = String::with_capacity(63);
            for k in 0..32 {
                if k > 0 {
                    out.push('.');
                }
                let nibble = (new >> (4 * k)) & 0xF;
                out.push(char::from_digit(nibble as u32, 16).unwrap_or('0'));
            }
            out
        }
        V6Style::Decimal => new.to_string(),
        V6Style::Hex { upper: true } => format!("0x{new:032X}"),
        V6Style::Hex { upper: false } => format!("0x{new:032x}"),
    }
}

fn format_v4(addr: Ipv4Addr, style: V4Style) -> String {
    let [a, b, c, d] = addr.octets();
    match style {
        V4Style::Dotted => addr.to_string(),
        V4Style::Separated(sep) => {
            let sep = char::from(sep);
            format!("{a}{sep}{b}{sep}{c}{sep}{d}")
        }
        V4Style::Reversed => format!("{d}.{c}.{b}.{a}"),
        V4Style::Decimal => u32::from(addr).to_string(),
        V4Style::Hex { upper: true } => format!("0x{:08X}", u32::from(addr)),
        V4Style::Hex { upper: false } => format!("0x{:08x}", u32::from(addr)),
        V4Style::Octal => format!("0{:o}", u32::from(addr)),
    }
}

/// The ID contributing properties of SCO type `kind` (STIX 2.1 catalogue), or none
/// for other types (whose ids are random, so no address derives them).
pub(crate) fn id_contributing(kind: &str) -> &'static [&'static str] {
    accord_stix::types::lookup(kind)
        .filter(|d| d.kind == accord_stix::ObjectKind::Sco)
        .map_or(&[], |d| d.id_contributing)
}

/// The changes a release makes to an object's text, as [`render`] applies them.
pub(crate) struct Transform<'p> {
    /// Referenced ids to replace.
    pub rewrites: &'p [(String, String)],
    /// Listed references to drop.
    pub removals: &'p [String],
    /// Ids mentioned in strings to redact or rewrite.
    pub mentions: &'p [(String, MentionEdit)],
    /// Properties removed by the agreement.
    pub remove_properties: &'p [String],
    /// Customer ranges and key, when customer addresses are replaced.
    pub pseudonymiser: Option<(&'p AddressRanges, &'p PseudonymKey)>,
}

/// The deterministic id an SCO of type `kind` (stored as `raw`) is released under
/// after `transform`: `Ok(None)` when no ID contributing property changes (the id
/// stays), else UUIDv5 over the RFC 8785 form of the transformed ID contributing
/// properties, as `accord_stix::sco_id` computes it. An id that derives from a
/// customer address (a `url` holding one, a `network-traffic` whose `src_ref` is a
/// pseudonymised address object, ...) must not be released: a brute force over the
/// customer range would find the address again.
pub(crate) fn transformed_sco_id(
    kind: &str,
    raw: &str,
    transform: &Transform<'_>,
) -> Result<Option<String>, WithholdReason> {
    let names = id_contributing(kind);
    if names.is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(raw).map_err(|e| WithholdReason::MalformedObject {
        message: e.to_string(),
    })?;
    let Value::Object(map) = value else {
        return Err(WithholdReason::MalformedObject {
            message: "not a JSON object".to_owned(),
        });
    };
    let mut original = Map::new();
    for &name in names {
        if let Some(v) = map.get(name) {
            original.insert(name.to_owned(), v.clone());
        }
    }
    let mut edited = original.clone();
    for path in transform.remove_properties {
        remove_path(&mut edited, path);
    }
    let edit = Edit {
        rewrites: transform
            .rewrites
            .iter()
            .map(|(o, n)| (o.as_str(), n.as_str()))
            .collect(),
        removals: transform.removals,
        mentions: transform.mentions,
        pseudonymiser: transform.pseudonymiser,
    };
    edit.object(&mut edited)?;
    if edited == original {
        return Ok(None);
    }
    edited.insert("type".to_owned(), Value::String(kind.to_owned()));
    match accord_stix::sco_id(&edited) {
        Ok(Some(id)) => Ok(Some(id)),
        // Every contributing property was removed, or one no longer reads: the id
        // cannot be recomputed, and the original one may not be released.
        _ => Err(WithholdReason::ScoIdNotRecomputable {
            id: map
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }),
    }
}

/// Whether the text may hold a `\u` escape (a false positive only costs the tree
/// path). Runs for every object released under an agreement that removes properties,
/// where `memmem::find` would build a searcher on every call.
fn has_unicode_escape(text: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', text).any(|at| text.get(at + 1) == Some(&b'u'))
}

/// The released text for a release outcome.
pub(crate) fn render<'a>(
    raw: &'a str,
    facts: &ObjectFacts,
    outcome: &Outcome<'_>,
) -> Result<Cow<'a, str>, WithholdReason> {
    let plan = &outcome.plan;
    // A property name written with `\u` escapes would escape the literal search,
    // so any escape sends the object down the tree path, which compares decoded names.
    let removal = plan.agreement.is_some_and(|a| {
        let finders = a.removal_finders();
        !finders.is_empty()
            && (finders.iter().any(|f| f.find(raw.as_bytes()).is_some())
                || has_unicode_escape(raw.as_bytes()))
    });
    let nothing = !plan.pseudonymise
        && plan.new_id.is_none()
        && plan.rewrites.is_empty()
        && plan.removals.is_empty()
        && plan.mentions.is_empty()
        && !plan.redact
        && plan.valid_until.is_none()
        && plan.add_marking.is_none()
        && !removal;
    if nothing {
        return Ok(Cow::Borrowed(raw));
    }
    let only_obligations = !plan.pseudonymise
        && plan.new_id.is_none()
        && plan.rewrites.is_empty()
        && plan.removals.is_empty()
        && plan.mentions.is_empty()
        && !plan.redact
        && !removal;
    if only_obligations {
        let cap = plan.valid_until.map(|c| c.to_stix());
        if let Some(text) = super::splice::splice(raw, plan.add_marking, cap.as_deref()) {
            return Ok(Cow::Owned(text));
        }
    }
    let mut value: Value =
        serde_json::from_str(raw).map_err(|e| WithholdReason::MalformedObject {
            message: e.to_string(),
        })?;
    let Value::Object(map) = &mut value else {
        return Err(WithholdReason::MalformedObject {
            message: "not a JSON object".to_owned(),
        });
    };
    if let Some(a) = plan.agreement {
        for path in &a.protections().remove_properties {
            remove_path(map, path);
        }
    }
    let mut rewrites: HashMap<&str, &str> = plan
        .rewrites
        .iter()
        .map(|(o, n)| (o.as_str(), n.as_str()))
        .collect();
    if let Some(new_id) = &plan.new_id {
        rewrites.insert(facts.id.as_str(), new_id.as_str());
    }
    let pseudonymiser = match plan
        .agreement
        .and_then(|a| a.key().map(|k| (&a.protections().customer_ranges, k)))
    {
        Some(pair) if plan.pseudonymise => Some(pair),
        _ => None,
    };
    let edit = Edit {
        rewrites,
        removals: &plan.removals,
        mentions: &plan.mentions,
        pseudonymiser,
    };
    edit.object(map)?;
    if let (true, Some(redactor)) = (plan.redact, plan.agreement.and_then(|a| a.redactor())) {
        redact_members(map, redactor, &Redaction::top(&facts.kind), true)?;
    }
    if let Some(cap) = plan.valid_until {
        map.insert("valid_until".to_owned(), Value::String(cap.to_stix()));
    }
    if let Some(marking) = plan.add_marking {
        add_marking(map, marking);
    }
    serde_json::to_string(&value)
        .map(Cow::Owned)
        .map_err(|e| WithholdReason::MalformedObject {
            message: e.to_string(),
        })
}

/// Removes a `remove_properties` entry: a dotted path exactly where it leads
/// (`extensions.x-telco-ext.account`: only that member of that object); a bare name
/// (`x_telco_ticket`) wherever a member has that name, at any depth, inside objects
/// and lists of objects.
fn remove_path(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => remove_everywhere(map, path),
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = map.get_mut(head) {
                remove_dotted(inner, rest);
            }
        }
    }
}

fn remove_dotted(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        // `retain` keeps the member order whether or not serde_json preserves it.
        None => map.retain(|key, _| key != path),
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = map.get_mut(head) {
                remove_dotted(inner, rest);
            }
        }
    }
}

fn remove_everywhere(map: &mut Map<String, Value>, name: &str) {
    if map.contains_key(name) {
        map.retain(|key, _| key != name);
    }
    for value in map.values_mut() {
        remove_in_value(value, name);
    }
}

fn remove_in_value(value: &mut Value, name: &str) {
    match value {
        Value::Object(inner) => remove_everywhere(inner, name),
        Value::Array(items) => items.iter_mut().for_each(|v| remove_in_value(v, name)),
        _ => {}
    }
}

/// Where a string or member name sits, for `redact_patterns`.
struct Redaction<'k> {
    /// ID contributing properties of the object's type (SCOs), at the top level.
    contributing: &'k [&'k str],
}

impl Redaction<'_> {
    fn top(kind: &str) -> Redaction<'static> {
        Redaction {
            contributing: id_contributing(kind),
        }
    }

    /// Whether changing the member's value could break the object: the identity
    /// and timestamps every object has, any reference, and an SCO's ID contributing
    /// properties (its id would no longer be the id of its content).
    fn protected(&self, key: &str, top: bool) -> bool {
        key.ends_with("_ref")
            || key.ends_with("_refs")
            || (top
                && (matches!(key, "id" | "type" | "spec_version" | "created" | "modified")
                    || self.contributing.contains(&key)))
    }
}

/// Applies `redact_patterns` to a parsed object (see [`redaction_needed`]).
fn redact_members(
    map: &mut Map<String, Value>,
    redactor: &Redactor,
    ctx: &Redaction<'_>,
    top: bool,
) -> Result<(), WithholdReason> {
    let members = std::mem::take(map);
    for (key, mut value) in members {
        if redactor.is_match(&key) {
            continue;
        }
        if !ctx.protected(&key, top) {
            redact_value(&mut value, redactor, ctx);
        }
        map.insert(key, value);
    }
    Ok(())
}

fn redact_value(value: &mut Value, redactor: &Redactor, ctx: &Redaction<'_>) {
    match value {
        Value::String(s) => {
            if let Some(new) = redactor.redact(s) {
                *s = new;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| redact_value(v, redactor, ctx)),
        Value::Object(inner) => {
            // Nested members are never at the top level; errors were found before.
            let _ = redact_members(inner, redactor, ctx, false);
        }
        _ => {}
    }
}

/// Whether `redact_patterns` change the object stored as `raw` (of type `kind`):
/// `Ok(false)` when no string or member name matches; `Err` when a match lies where
/// a change would break the object — in `id`, `type`, `spec_version`, `created`,
/// `modified`, a reference (`*_ref`, `*_refs`), an SCO's ID contributing property
/// (all at any depth below them), or in the name of a member that is protected or
/// required (`REQUIRED_PROPERTIES`, `REQUIRED_NESTED_PROPERTIES`). Elsewhere a
/// matching string is rewritten and a member whose name matches is removed.
pub(crate) fn redaction_needed(
    redactor: &Redactor,
    raw: &str,
    kind: &str,
) -> Result<bool, WithholdReason> {
    if !redactor.may_match_object(raw) {
        return Ok(false);
    }
    let value: Value = serde_json::from_str(raw).map_err(|e| WithholdReason::MalformedObject {
        message: e.to_string(),
    })?;
    let Value::Object(map) = &value else {
        return Err(WithholdReason::MalformedObject {
            message: "not a JSON object".to_owned(),
        });
    };
    let mut found = false;
    check_members(map, redactor, &Redaction::top(kind), "", false, &mut found)?;
    Ok(found)
}

fn check_members(
    map: &Map<String, Value>,
    redactor: &Redactor,
    ctx: &Redaction<'_>,
    path: &str,
    protected: bool,
    found: &mut bool,
) -> Result<(), WithholdReason> {
    let top = path.is_empty();
    for (key, value) in map {
        let here = if top {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let guarded = protected || ctx.protected(key, top);
        if redactor.is_match(key) {
            let required = REQUIRED_PROPERTIES.contains(&key.as_str())
                || REQUIRED_NESTED_PROPERTIES.contains(&key.as_str());
            if guarded || required {
                return Err(WithholdReason::RedactionBreaksObject { property: here });
            }
            *found = true;
            continue;
        }
        check_value(value, redactor, ctx, &here, guarded, found)?;
    }
    Ok(())
}

fn check_value(
    value: &Value,
    redactor: &Redactor,
    ctx: &Redaction<'_>,
    path: &str,
    protected: bool,
    found: &mut bool,
) -> Result<(), WithholdReason> {
    match value {
        Value::String(s) if redactor.is_match(s) => {
            if protected {
                return Err(WithholdReason::RedactionBreaksObject {
                    property: path.to_owned(),
                });
            }
            *found = true;
        }
        Value::Array(items) => {
            for item in items {
                check_value(item, redactor, ctx, path, protected, found)?;
            }
        }
        Value::Object(inner) => check_members(inner, redactor, ctx, path, protected, found)?,
        _ => {}
    }
    Ok(())
}

/// `text` with the id mentions the plan changes replaced (see `facts/ids.rs`);
/// `None` when none is (no allocation for a text without an id token).
fn replace_mentions(text: &str, mentions: &[(String, MentionEdit)]) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    ids::visit(text, &mut |token| {
        let key = token.key();
        let Ok(at) = mentions.binary_search_by(|(k, _)| k.as_str().cmp(&key)) else {
            return;
        };
        let (start, replacement) = match &mentions[at].1 {
            MentionEdit::Withheld => (token.start, WITHHELD_ID),
            MentionEdit::Rewrite { type_len, new_id } => (
                token.start + token.run.len().saturating_sub(*type_len),
                new_id.as_str(),
            ),
        };
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
        buf.push_str(&text[copied..start]);
        buf.push_str(replacement);
        copied = token.end;
    });
    out.map(|mut buf| {
        buf.push_str(&text[copied..]);
        buf
    })
}

fn add_marking(map: &mut Map<String, Value>, marking: &str) {
    let refs = map
        .entry("object_marking_refs")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = refs {
        if !items.iter().any(|v| v.as_str() == Some(marking)) {
            items.push(Value::String(marking.to_owned()));
        }
    }
}

struct Edit<'p> {
    rewrites: HashMap<&'p str, &'p str>,
    removals: &'p [String],
    mentions: &'p [(String, MentionEdit)],
    pseudonymiser: Option<(&'p AddressRanges, &'p PseudonymKey)>,
}

impl Edit<'_> {
    fn text(&self, s: &str) -> Result<Option<String>, WithholdReason> {
        if let Some(new) = self.rewrites.get(s) {
            return Ok(Some((*new).to_owned()));
        }
        let mentioned = if self.mentions.is_empty() {
            None
        } else {
            replace_mentions(s, self.mentions)
        };
        match self.pseudonymiser {
            Some((ranges, key)) => {
                Ok(
                    pseudonymise_text(mentioned.as_deref().unwrap_or(s), ranges, key)?
                        .or(mentioned),
                )
            }
            None => Ok(mentioned),
        }
    }

    /// Rebuilds the members in their original order (whether or not serde_json
    /// keeps insertion order), dropping emptied reference lists.
    fn object(&self, map: &mut Map<String, Value>) -> Result<(), WithholdReason> {
        let members = std::mem::take(map);
        for (key, mut value) in members {
            // An optional single reference to a withheld object goes (a required one
            // withheld the object before it got here).
            if key.ends_with("_ref")
                && value
                    .as_str()
                    .is_some_and(|s| self.removals.iter().any(|r| r == s))
            {
                continue;
            }
            if key.ends_with("_refs") && !self.removals.is_empty() {
                if let Value::Array(items) = &mut value {
                    items.retain(|v| {
                        !v.as_str()
                            .is_some_and(|s| self.removals.iter().any(|r| r == s))
                    });
                    if items.is_empty() {
                        continue;
                    }
                }
            }
            self.value(&key, &mut value)?;
            let new_key = self.text(&key)?.unwrap_or(key);
            map.insert(new_key, value);
        }
        Ok(())
    }

    /// `key` is the member name the value (or the array holding it) is under.
    fn value(&self, key: &str, value: &mut Value) -> Result<(), WithholdReason> {
        match value {
            Value::String(s) => {
                if let Some(new) = self.text(s)? {
                    *s = new;
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.value(key, item)?;
                }
            }
            Value::Object(map) => self.object(map)?,
            Value::Number(n) => {
                if let Some((ranges, k)) = self.pseudonymiser {
                    let addr = number_address(key, n.as_u64(), || n.as_f64());
                    if let Some(addr) = addr.filter(|a| ranges.contains_addr(IpAddr::V4(*a))) {
                        *n = u32::from(k.pseudonymise_v4(addr)).into();
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

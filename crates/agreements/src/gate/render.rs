//! Producing the released text: untouched when the plan is empty (the fast
//! path), otherwise parsed, transformed and serialised again.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::facts::ObjectFacts;
use crate::ipscan::{self, LiteralForm};
use crate::pseudonym::PseudonymKey;
use crate::ranges::AddressRanges;

use super::evaluate::Outcome;
use super::WithholdReason;

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

/// Replaces every customer address literal in `text` with its pseudonym.
/// `Ok(None)` when there is none; `Err` when the text names a network inside the
/// customer ranges (a pseudonym cannot stand for a network).
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
    let mut out: Option<String> = None;
    let mut copied = 0;
    for literal in ipscan::scan(text) {
        if literal.has_prefix {
            if ranges.contains_net(&literal.net) {
                return Err(WithholdReason::CustomerNetwork {
                    net: literal.net.to_string(),
                });
            }
            continue;
        }
        let addr = literal.net.addr();
        if !ranges.contains_addr(addr) {
            continue;
        }
        let (start, end) = literal.span;
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
        buf.push_str(&text[copied..start]);
        let pseudo = key.pseudonymise(addr);
        match literal.form {
            LiteralForm::V4 | LiteralForm::V6 => buf.push_str(&pseudo.to_string()),
            LiteralForm::V4InV6 {
                head_end: Some(head),
            } => {
                buf.push_str(&text[start..head]);
                buf.push_str(&pseudo.to_string());
            }
            LiteralForm::V4InV6 { head_end: None } => {
                buf.push_str("::ffff:");
                buf.push_str(&pseudo.to_string());
            }
        }
        copied = end;
    }
    Ok(out.map(|mut buf| {
        buf.push_str(&text[copied..]);
        buf
    }))
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
        pseudonymiser,
    };
    edit.object(map)?;
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

fn remove_path(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        // `retain` keeps the member order whether or not serde_json preserves it.
        None => map.retain(|key, _| key != path),
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = map.get_mut(head) {
                remove_path(inner, rest);
            }
        }
    }
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
    pseudonymiser: Option<(&'p AddressRanges, &'p PseudonymKey)>,
}

impl Edit<'_> {
    fn text(&self, s: &str) -> Result<Option<String>, WithholdReason> {
        if let Some(new) = self.rewrites.get(s) {
            return Ok(Some((*new).to_owned()));
        }
        match self.pseudonymiser {
            Some((ranges, key)) => pseudonymise_text(s, ranges, key),
            None => Ok(None),
        }
    }

    /// Rebuilds the members in their original order (whether or not serde_json
    /// keeps insertion order), dropping emptied reference lists.
    fn object(&self, map: &mut Map<String, Value>) -> Result<(), WithholdReason> {
        let members = std::mem::take(map);
        for (key, mut value) in members {
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
            self.value(&mut value)?;
            let new_key = self.text(&key)?.unwrap_or(key);
            map.insert(new_key, value);
        }
        Ok(())
    }

    fn value(&self, value: &mut Value) -> Result<(), WithholdReason> {
        match value {
            Value::String(s) => {
                if let Some(new) = self.text(s)? {
                    *s = new;
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.value(item)?;
                }
            }
            Value::Object(map) => self.object(map)?,
            _ => {}
        }
        Ok(())
    }
}

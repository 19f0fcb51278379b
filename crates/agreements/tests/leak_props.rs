//! Property tests that try to make the gate leak: random objects, markings,
//! relationships, reports and agreements; every released object is checked
//! against the agreement by an independent oracle.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use accord_agreements::ledger::{verify, ChainHead, LedgerDraft};
use accord_agreements::tlp::{TLP1_MARKINGS, TLP2_MARKINGS};
use accord_agreements::{sco_id, Decision, ReleaseBasis, Tlp};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::*;

const TYPES: [&str; 6] = [
    "indicator",
    "malware",
    "relationship",
    "ipv4-addr",
    "report",
    "sighting",
];

#[derive(Clone, Debug)]
struct Terms {
    max_tlp: Tlp,
    types: Option<Vec<&'static str>>,
    labels: bool,
    min_confidence: Option<u8>,
    embargo_h: u32,
    drop: bool,
    retention_d: Option<u32>,
}

impl Terms {
    fn toml(&self) -> String {
        let types = match &self.types {
            None => "[\"*\"]".to_owned(),
            Some(t) => format!("{t:?}"),
        };
        let mut s = String::new();
        match self.retention_d {
            Some(d) => s.push_str(&format!("obligations = {{ retention = \"{d}d\" }}\n")),
            None => s.push_str("obligations = { onward_sharing = true }\n"),
        }
        s.push_str(&format!(
            "[scope]\ntypes = {types}\nmax_tlp = \"{}\"\nexclude_labels = [\"internal-only\"]\n",
            self.max_tlp.name()
        ));
        if self.labels {
            s.push_str("labels = [\"c2\"]\n");
        }
        if let Some(c) = self.min_confidence {
            s.push_str(&format!("min_confidence = {c}\n"));
        }
        s.push_str(&format!(
            "[protections]\ncustomer_ranges = [\"198.51.100.0/24\", \"2001:db8:1::/48\"]\nembargo = \"{}h\"\n",
            self.embargo_h
        ));
        if self.drop {
            s.push_str("customer_addresses = \"drop\"\n");
        } else {
            s.push_str("pseudonym_key_env = \"K\"\n");
        }
        s
    }
}

fn terms() -> impl Strategy<Value = Terms> {
    (
        prop_oneof![3 => 2..5usize, 1 => 0..2usize],
        prop::option::weighted(0.3, prop::sample::subsequence(TYPES.to_vec(), 1..=6)),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.3, 0..=100u8),
        prop_oneof![3 => Just(0u32), 1 => 1..200u32],
        any::<bool>(),
        prop::option::of(1..400u32),
    )
        .prop_map(
            |(t, types, labels, min_confidence, embargo_h, drop, retention_d)| Terms {
                max_tlp: Tlp::ALL[t],
                types,
                labels,
                min_confidence,
                embargo_h,
                drop,
                retention_d,
            },
        )
}

/// An address and the way it is written.
fn address_text() -> impl Strategy<Value = String> {
    let v4 = (any::<bool>(), 0..=255u8).prop_map(|(customer, last)| {
        if customer {
            Ipv4Addr::new(198, 51, 100, last)
        } else {
            Ipv4Addr::new(192, 0, 2, last)
        }
    });
    prop_oneof![
        v4.clone().prop_map(|a| a.to_string()),
        v4.clone().prop_map(|a| a.to_string().replace('.', "[.]")),
        v4.clone().prop_map(|a| a
            .octets()
            .iter()
            .map(|o| format!("{o:03}"))
            .collect::<Vec<_>>()
            .join(".")),
        v4.clone().prop_map(|a| format!("::ffff:{a}")),
        v4.clone().prop_map(|a| {
            let o = a.octets();
            format!(
                "::FFFF:{:x}:{:x}",
                u16::from_be_bytes([o[0], o[1]]),
                u16::from_be_bytes([o[2], o[3]])
            )
        }),
        (any::<bool>(), 1..0xffffu32)
            .prop_map(|(customer, x)| format!("2001:db8:{}::{x:x}", if customer { 1 } else { 2 })),
        (1..0xffffu32).prop_map(|x| format!("2001:DB8:1:0::{x:X}")),
        // Forms of issue 11: integer, dashed, full-width, percent-encoded, 6to4.
        v4.clone().prop_map(|a| u32::from(a).to_string()),
        v4.clone().prop_map(|a| a.to_string().replace('.', "-")),
        v4.clone().prop_map(|a| a
            .to_string()
            .chars()
            .map(|c| match c {
                '.' => '\u{FF0E}',
                d => char::from_u32(d as u32 - 0x30 + 0xFF10).unwrap(),
            })
            .collect()),
        v4.clone().prop_map(|a| a.to_string().replace('.', "%2E")),
        v4.prop_map(|a| format!(
            "2002:{:x}:{:x}::1",
            u32::from(a) >> 16,
            u32::from(a) & 0xffff
        )),
    ]
}

#[derive(Clone, Debug)]
struct Spec {
    kind: usize,
    marking: Option<usize>,
    labels: Vec<&'static str>,
    confidence: Option<u8>,
    other_provider: bool,
    added_h_ago: u32,
    ip: String,
    refs: Vec<usize>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..6usize,
        prop::option::weighted(0.7, 0..9usize),
        prop::sample::subsequence(
            vec![
                "c2",
                "C2 ",
                "ddos",
                "internal-only",
                "INTERNAL-ONLY",
                " Internal-Only",
            ],
            0..=2,
        ),
        prop::option::of(0..=100u8),
        prop::bool::weighted(0.15),
        0..240u32,
        address_text(),
        prop::collection::vec(0..64usize, 1..4),
    )
        .prop_map(
            |(kind, marking, labels, confidence, other_provider, added_h_ago, ip, refs)| Spec {
                kind,
                marking,
                labels,
                confidence,
                other_provider,
                added_h_ago,
                ip,
                refs,
            },
        )
}

/// Builds object `i` of the universe; references point to earlier objects.
fn build(i: usize, s: &Spec, ids: &[String], ipv4_values: &mut Vec<String>) -> Stored {
    let kind = TYPES[s.kind];
    let target = |n: usize| ids[s.refs[n % s.refs.len()] % ids.len()].clone();
    let mut v = match kind {
        // Ids of other objects in prose and in custom properties of every shape.
        "indicator" if !ids.is_empty() => indicator(
            i as u32,
            json!({
                "pattern": format!("[ipv4-addr:value = '{}']", s.ip),
                "description": format!("C2 contacted from {} (see {})", s.ip, target(0)),
                "created_by_ref": target(1),
                "x_acme_refs": target(2),
                "x_acme_ref": [target(0)],
                "x_meta": {"seen": [{"with": target(1).to_uppercase()}]}
            }),
        ),
        "indicator" => indicator(
            i as u32,
            json!({
                "pattern": format!("[ipv4-addr:value = '{}']", s.ip),
                "description": format!("C2 contacted from {} (see ticket)", s.ip)
            }),
        ),
        "malware" => sdo(
            "malware",
            i as u32,
            json!({"is_family": false, "description": format!("beacons to {}", s.ip)}),
        ),
        "ipv4-addr" => {
            let value = s.ip.replace("[.]", ".");
            let value = if value.contains(':') {
                format!("198.51.100.{}", i % 256)
            } else {
                value
            };
            let value: Ipv4Addr = value
                .split('.')
                .map(|o| o.parse::<u8>().unwrap_or(0))
                .collect::<Vec<_>>()
                .try_into()
                .map(|o: [u8; 4]| Ipv4Addr::from(o))
                .unwrap_or(Ipv4Addr::new(198, 51, 100, 1));
            ipv4_values.push(value.to_string());
            ipv4(&value.to_string())
        }
        "relationship" if !ids.is_empty() => relationship(i as u32, &target(0), &target(1)),
        "report" if !ids.is_empty() => sdo(
            "report",
            i as u32,
            json!({
                "published": "2026-02-01T00:00:00Z",
                "object_refs": s.refs.iter().map(|r| ids[r % ids.len()].clone()).collect::<Vec<_>>()
            }),
        ),
        "sighting" if !ids.is_empty() => json!({"type": "sighting", "spec_version": "2.1",
            "id": format!("sighting--00000000-0000-4000-8000-{i:012}"),
            "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
            "sighting_of_ref": target(0), "where_sighted_refs": [target(1)],
            "description": format!("sighted at {}", s.ip)}),
        _ => sdo("malware", i as u32, json!({"is_family": true})),
    };
    if let Some(m) = s.marking {
        let id = TLP1_MARKINGS
            .iter()
            .chain(TLP2_MARKINGS.iter())
            .nth(m)
            .unwrap()
            .0;
        merge(&mut v, json!({"object_marking_refs": [id]}));
    }
    if !s.labels.is_empty() && v["type"] != "ipv4-addr" {
        merge(&mut v, json!({"labels": s.labels}));
    }
    if let (Some(c), false) = (s.confidence, v["type"] == "ipv4-addr") {
        merge(&mut v, json!({"confidence": c}));
    }
    let provider = if s.other_provider {
        "other-telco"
    } else {
        PROVIDER
    };
    let mut o = Stored::from_provider(v, provider);
    o.date_added = UtcMicrosExt::hours_before(now(), s.added_h_ago);
    o
}

trait UtcMicrosExt {
    fn hours_before(self, h: u32) -> Self;
}

impl UtcMicrosExt for accord_agreements::UtcMicros {
    fn hours_before(self, h: u32) -> Self {
        accord_agreements::UtcMicros(self.0 - i64::from(h) * 3_600_000_000)
    }
}

/// The oracle: what the agreement forbids, read from the original JSON alone.
fn forbidden(terms: &Terms, o: &Stored) -> Option<&'static str> {
    let v: Value = serde_json::from_str(&o.raw).unwrap();
    let kind = v["type"].as_str().unwrap();
    if o.provider != PROVIDER {
        return Some("provider");
    }
    if terms.types.as_ref().is_some_and(|t| !t.contains(&kind)) {
        return Some("type");
    }
    let level = v["object_marking_refs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().and_then(Tlp::from_marking_id))
        .max()
        .unwrap_or(Tlp::Amber);
    if level > terms.max_tlp {
        return Some("tlp");
    }
    let labels: Vec<&str> = v["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let labels: Vec<String> = labels.iter().map(|l| l.trim().to_lowercase()).collect();
    if labels.iter().any(|l| l == "internal-only") {
        return Some("excluded label");
    }
    let domain = !matches!(kind, "relationship" | "sighting" | "ipv4-addr");
    if terms.labels && domain && !labels.iter().any(|l| l == "c2") {
        return Some("label");
    }
    if let (Some(min), Some(c)) = (terms.min_confidence, v["confidence"].as_u64()) {
        if c < u64::from(min) {
            return Some("confidence");
        }
    }
    if o.date_added.0 + i64::from(terms.embargo_h) * 3_600_000_000 > now().0 {
        return Some("embargo");
    }
    None
}

/// Customer IPv4 addresses in any dotted form (plain, defanged, zero-padded).
fn customer_v4_in(text: &str) -> Option<String> {
    let re = regex::Regex::new(
        r"(\d{1,3})(?:\.|\[\.\])(\d{1,3})(?:\.|\[\.\])(\d{1,3})(?:\.|\[\.\])(\d{1,3})",
    )
    .unwrap();
    let found = re
        .captures_iter(text)
        .find(|c| {
            let o: Vec<u32> = (1..=4).map(|i| c[i].parse().unwrap()).collect();
            o[0] == 198 && o[1] == 51 && o[2] == 100 && o[3] <= 255
        })
        .map(|c| c[0].to_owned());
    found
}

/// A customer address in any form the reference scanner reads (the released text
/// is JSON: strings are read as the gate reads them, decoded).
fn customer_in_any_form(text: &str) -> Option<std::net::IpAddr> {
    let ranges = accord_agreements::AddressRanges::new([
        "198.51.100.0/24".parse().unwrap(),
        "2001:db8:1::/48".parse().unwrap(),
    ]);
    let value: Value = serde_json::from_str(text).ok()?;
    let mut strings = Vec::new();
    collect_strings(&value, &mut strings);
    strings.iter().find_map(|s| {
        accord_agreements::ipscan::reference::addresses(s)
            .into_iter()
            .find(|a| ranges.contains_addr(*a))
    })
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            collect_strings(v, out);
        }),
        _ => {}
    }
}

fn customer_v6_in(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let hex_mapped = regex::Regex::new(r"::ffff:c633:64[0-9a-f]{2}\b").unwrap();
    if let Some(m) = hex_mapped.find(&lower) {
        return Some(m.as_str().to_owned());
    }
    lower
        .find("2001:db8:1:")
        .map(|i| lower[i..].chars().take(24).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_gate_never_leaks(terms in terms(), specs in prop::collection::vec(spec(), 1..14)) {
        let agreement = agreement("prop", 1, &terms.toml());
        let g = gate(vec![agreement]);
        let view = g.view(RECIPIENT, now());
        let mut ids = Vec::new();
        let mut objects = Vec::new();
        let mut ipv4_values = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let o = build(i, s, &ids, &mut ipv4_values);
            ids.push(o.facts.id.clone());
            objects.push(o);
        }
        let resolver = store(&objects.iter().collect::<Vec<_>>());
        let mut released: HashMap<String, String> = HashMap::new();
        // Ids the recipient must never see: of withheld objects, and the stored ids of
        // objects released under another (pseudonymous) id.
        let mut hidden: Vec<String> = Vec::new();
        let mut head = ChainHead::genesis();
        let mut ledger = Vec::new();
        for o in &objects {
            let decision = view.decide(&o.version(), &resolver);
            let Decision::Release(r) = decision else {
                hidden.push(o.facts.id.clone());
                continue;
            };
            if r.released_id.is_some() {
                hidden.push(o.facts.id.clone());
            }
            prop_assert!(matches!(r.basis, ReleaseBasis::Agreement(_)));
            if let Some(why) = forbidden(&terms, o) {
                prop_assert!(false, "released {} although forbidden by {why}", o.raw);
            }
            let text = r.bytes.to_string();
            if let Some(ip) = customer_v4_in(&text) { prop_assert!(false, "customer IPv4 {ip} in {text}"); }
            if let Some(ip) = customer_v6_in(&text) { prop_assert!(false, "customer IPv6 {ip} in {text}"); }
            if let Some(ip) = customer_in_any_form(&text) { prop_assert!(false, "customer address {ip} in {text}"); }
            if terms.drop {
                let original_has_customer = customer_v4_in(&o.raw).is_some() || customer_v6_in(&o.raw).is_some()
                    || customer_in_any_form(&o.raw).is_some();
                prop_assert!(!original_has_customer, "drop policy released {}", o.raw);
            }
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == "ipv4-addr" {
                prop_assert_eq!(v["id"].as_str().unwrap(), sco_id("ipv4-addr", v["value"].as_str().unwrap()));
            }
            if let (Some(d), "indicator") = (terms.retention_d, v["type"].as_str().unwrap()) {
                let cap = now().floor_day().0 + i64::from(d) * 86_400_000_000;
                let until = accord_agreements::UtcMicros::parse(v["valid_until"].as_str().unwrap()).unwrap();
                prop_assert!(until.0 <= cap);
            }
            let draft = LedgerDraft::for_release(now(), RECIPIENT, &o.facts.id, "v1", &r).unwrap();
            prop_assert_eq!(draft.released_sha256, r.sha256());
            ledger.push(head.append(draft));
            released.insert(v["id"].as_str().unwrap().to_owned(), text);
        }
        // No id of a withheld object, in any case, in any property.
        for text in released.values() {
            let lower = text.to_lowercase();
            for id in &hidden {
                let uuid = &id[id.len() - 36..];
                prop_assert!(!lower.contains(uuid), "{} reached the recipient in {}", id, text);
            }
        }
        // Consistency: whatever a released object references was released too.
        for text in released.values() {
            let v: Value = serde_json::from_str(text).unwrap();
            let mut refs: Vec<&str> = ["source_ref", "target_ref", "sighting_of_ref"].iter().filter_map(|k| v[*k].as_str()).collect();
            for key in ["object_refs", "where_sighted_refs"] {
                refs.extend(v[key].as_array().into_iter().flatten().filter_map(Value::as_str));
            }
            for id in refs {
                prop_assert!(released.contains_key(id), "{} references {id}, which was not released", v["id"]);
            }
        }
        // The chain of every release's ledger entry verifies. (Each entry's hash was
        // checked against its release above.)
        prop_assert!(verify(&ledger).is_ok());
    }
}

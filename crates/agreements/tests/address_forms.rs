//! End to end (decide + render): customer addresses in every recognised form are
//! replaced or withheld, and every SCO whose id derives from one is released under a
//! recomputed id that every referencing object carries.

use std::collections::HashMap;
use std::net::IpAddr;

use accord_agreements::ipscan::reference;
use accord_agreements::{
    sco_id, AddressRanges, Decision, ObjectFacts, ResolvedObject, WithholdReason,
};
use serde_json::{json, Value};

use crate::common::*;

const PROTECT: &str = "obligations = { onward_sharing = true }\n[protections]\ncustomer_ranges = [\"198.51.100.0/24\", \"2001:db8:4000::/36\"]\npseudonym_key_env = \"K\"\n";
const DROP: &str = "obligations = { onward_sharing = true }\n[protections]\ncustomer_ranges = [\"198.51.100.0/24\", \"2001:db8:4000::/36\"]\ncustomer_addresses = \"drop\"\n";

fn ranges() -> AddressRanges {
    AddressRanges::new([
        "198.51.100.0/24".parse().unwrap(),
        "2001:db8:4000::/36".parse().unwrap(),
    ])
}

/// Customer addresses the reference scanner reads anywhere in a released text.
fn leaks(text: &str) -> Vec<IpAddr> {
    reference::addresses(text)
        .into_iter()
        .filter(|a| ranges().contains_addr(*a))
        .collect()
}

const FORMS: &[&str] = &[
    "beaconing...198.51.100.23",
    "www.198.51.100.23.nip.io",
    "capture.198.51.100.23.pcap",
    "2001:db8:4000::17.Data",
    "198.51.100.23/16",
    "2001:db8:4000::17/32",
    "3325256727",
    "0xC6336417",
    "0306.063.0144.027",
    "198.51.25623",
    "23.100.51.198.in-addr.arpa",
    "7.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.8.b.d.0.1.0.0.2.ip6.arpa",
    "198%2E51%2E100%2E23",
    "%31%39%38%2E%35%31%2E%31%30%30%2E%32%33",
    "198\\.51\\.100\\.23",
    "198[dot]51[dot]100[dot]23",
    "ip-198-51-100-23.example",
    "198_51_100_23",
    "１９８．５１．１００．２３",
    "198。51。100。23",
    "2002:c633:6417::",
    "64:ff9b::c633:6417",
    "::ffff:0:198.51.100.23",
    "::c633:6417",
    "host2001:db8:4000::17",
    "abc:2001:db8:4000::17",
    "IP 198.51.100.23.52344 > 192.0.2.1.443",
];

#[test]
fn every_form_is_pseudonymised_in_released_text() {
    let g = gate(vec![agreement("a", 1, PROTECT)]);
    let view = g.view(RECIPIENT, now());
    for (i, form) in FORMS.iter().enumerate() {
        let o = Stored::new(indicator(
            i as u32,
            json!({"description": format!("C2 reached from {form} today"),
                   "x_note": {(*form): "key too"}}),
        ));
        let out = decide(&view, &o, &store(&[])).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert!(leaks(&out).is_empty(), "{form}: {:?} in {out}", leaks(&out));
        assert_ne!(out, o.raw, "{form}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["description"]
            .as_str()
            .unwrap()
            .starts_with("C2 reached from "));
    }
}

#[test]
fn every_form_is_withheld_under_drop() {
    let g = gate(vec![agreement("a", 1, DROP)]);
    let view = g.view(RECIPIENT, now());
    for (i, form) in FORMS.iter().enumerate() {
        let o = Stored::new(indicator(
            i as u32,
            json!({"description": format!("seen {form}")}),
        ));
        assert_eq!(
            decide(&view, &o, &store(&[])),
            Err("customer-address-dropped".into()),
            "{form}"
        );
    }
}

#[test]
fn replacements_keep_the_form_where_there_is_one() {
    let g = gate(vec![agreement("a", 1, PROTECT)]);
    let view = g.view(RECIPIENT, now());
    let key = key();
    let p = key.pseudonymise_v4("198.51.100.23".parse().unwrap());
    let [a, b, c, d] = p.octets();
    for (form, want) in [
        ("198.51.100.23/16", format!("{p}/16")),
        (
            "ip-198-51-100-23.example",
            format!("ip-{a}-{b}-{c}-{d}.example"),
        ),
        (
            "23.100.51.198.in-addr.arpa",
            format!("{d}.{c}.{b}.{a}.in-addr.arpa"),
        ),
        ("3325256727", u32::from(p).to_string()),
        ("0xC6336417", format!("0x{:08X}", u32::from(p))),
    ] {
        let o = Stored::new(indicator(1, json!({"description": form})));
        let out: Value = serde_json::from_str(&decide(&view, &o, &store(&[])).unwrap()).unwrap();
        assert_eq!(out["description"], want.as_str(), "{form}");
    }
    let host6 = key.pseudonymise_v6("2001:db8:4000::17".parse().unwrap());
    let o = Stored::new(indicator(2, json!({"description": "2001:db8:4000::17/32"})));
    let out: Value = serde_json::from_str(&decide(&view, &o, &store(&[])).unwrap()).unwrap();
    assert_eq!(out["description"], format!("{host6}/32").as_str());
}

#[test]
fn networks_inside_the_customer_ranges_still_withhold() {
    let g = gate(vec![agreement("a", 1, PROTECT)]);
    let view = g.view(RECIPIENT, now());
    for net in [
        "198.51.100.0/25",
        "2001:db8:4000::/40",
        "100.51.198.in-addr.arpa",
    ] {
        let o = Stored::new(indicator(1, json!({"description": net})));
        assert_eq!(
            decide(&view, &o, &store(&[])),
            Err("customer-network".into()),
            "{net}"
        );
    }
}

#[test]
fn integer_values_in_customer_ranges_are_replaced_but_stix_counts_are_not() {
    let g = gate(vec![agreement("a", 1, PROTECT)]);
    let view = g.view(RECIPIENT, now());
    let o = Stored::new(sdo(
        "observed-data",
        1,
        json!({"first_observed": "2026-02-01T00:00:00Z", "last_observed": "2026-02-01T00:00:00Z",
               "number_observed": 1, "object_refs": ["x-thing--00000000-0000-4000-8000-000000000001"],
               "x_src_int": 3325256727u64, "x_list": [3325256727u64, 7], "x_float": 3325256727.0}),
    ));
    assert!(o
        .facts
        .ips
        .iter()
        .any(|ip| ip.net.addr().to_string() == "198.51.100.23"));
    let out: Value = serde_json::from_str(&decide(&view, &o, &store(&[])).unwrap()).unwrap();
    let p = u32::from(key().pseudonymise_v4("198.51.100.23".parse().unwrap()));
    assert_eq!(out["x_src_int"], p);
    assert_eq!(out["x_list"], json!([p, 7]));
    assert_eq!(out["x_float"], p);
    // A file's size is a size, not an address.
    let file = Stored::new(json!({"type": "file", "spec_version": "2.1",
        "id": "file--00000000-0000-4000-8000-000000000009", "name": "a.bin", "size": 3325256727u64}));
    assert_eq!(decide(&view, &file, &store(&[])).unwrap(), file.raw);
}

/// An SCO with its deterministic id, as a producer writes it.
fn sco(mut v: Value) -> Value {
    let id = accord_stix::sco_id(v.as_object().unwrap())
        .unwrap()
        .unwrap();
    v["id"] = Value::String(id);
    v["spec_version"] = json!("2.1");
    v
}

/// Decides every object of a store and returns the released objects by their
/// released id (withheld ones left out).
fn release_all(objects: &[&Stored], agreement_body: &str) -> HashMap<String, Value> {
    let g = gate(vec![agreement("a", 1, agreement_body)]);
    let view = g.view(RECIPIENT, now());
    let resolver = store(objects);
    let mut out = HashMap::new();
    for o in objects {
        if let Decision::Release(r) = view.decide(&o.version(), &resolver) {
            let v: Value = serde_json::from_str(&r.bytes).unwrap();
            let id = v["id"].as_str().unwrap().to_owned();
            assert_eq!(r.released_id.as_deref().unwrap_or(&o.facts.id), id);
            out.insert(id, v);
        }
    }
    out
}

#[test]
fn scos_whose_ids_derive_from_customer_addresses_get_recomputed_ids_and_references_follow() {
    let ip = Stored::new(ipv4("198.51.100.23"));
    let url = Stored::new(sco(
        json!({"type": "url", "value": "http://198.51.100.23:8080/gate.php"}),
    ));
    let email = Stored::new(sco(
        json!({"type": "email-addr", "value": "abuse@[198.51.100.23]"}),
    ));
    let domain = Stored::new(sco(
        json!({"type": "domain-name", "value": "ip-198-51-100-23.example"}),
    ));
    let other = Stored::new(sco(json!({"type": "ipv4-addr", "value": "192.0.2.80"})));
    let traffic = Stored::new(sco(
        json!({"type": "network-traffic", "src_ref": ip.facts.id,
        "dst_ref": other.facts.id, "dst_port": 80, "protocols": ["tcp"]}),
    ));
    let directory = Stored::new(sco(
        json!({"type": "directory", "path": "\\\\198.51.100.23\\share"}),
    ));
    let file = Stored::new(sco(json!({"type": "file", "name": "dump.pcap",
        "parent_directory_ref": directory.facts.id})));
    let observed = Stored::new(sdo(
        "observed-data",
        1,
        json!({"first_observed": "2026-02-01T00:00:00Z", "last_observed": "2026-02-01T00:00:00Z",
        "number_observed": 1, "object_refs": [ip.facts.id, url.facts.id, email.facts.id,
        domain.facts.id, traffic.facts.id, file.facts.id, other.facts.id]}),
    ));
    let malware = Stored::new(sdo("malware", 2, json!({"is_family": false})));
    let rel = Stored::new(relationship(3, &malware.facts.id, &traffic.facts.id));
    let all = [
        &ip, &url, &email, &domain, &other, &traffic, &directory, &file, &observed, &malware, &rel,
    ];
    let released = release_all(&all, PROTECT);
    assert_eq!(released.len(), all.len(), "{:?}", released.keys());
    let original_ids: Vec<&str> = [&ip, &url, &email, &domain, &traffic, &directory, &file]
        .iter()
        .map(|o| o.facts.id.as_str())
        .collect();
    for (id, v) in &released {
        let text = v.to_string();
        for old in &original_ids {
            assert!(
                !text.contains(old),
                "{old} (derived from a customer address) in {text}"
            );
        }
        assert!(leaks(&text).is_empty(), "{text}");
        // Every released SCO's id is the deterministic id of what was released.
        if let Ok(Some(want)) = accord_stix::sco_id(v.as_object().unwrap()) {
            assert_eq!(id, &want, "{text}");
        }
        // Whatever a released object references was released, under that id.
        for key in [
            "src_ref",
            "dst_ref",
            "parent_directory_ref",
            "source_ref",
            "target_ref",
        ] {
            if let Some(r) = v[key].as_str() {
                assert!(released.contains_key(r), "{key} {r} of {text}");
            }
        }
        for r in v["object_refs"].as_array().into_iter().flatten() {
            assert!(released.contains_key(r.as_str().unwrap()), "{r} of {text}");
        }
    }
    // Objects outside the customer space keep their ids.
    assert!(released.contains_key(&other.facts.id) && released.contains_key(&malware.facts.id));
}

#[test]
fn a_reference_to_an_sco_whose_text_is_unknown_or_absent_is_withheld() {
    let g = gate(vec![agreement("a", 1, PROTECT)]);
    let view = g.view(RECIPIENT, now());
    let url = Stored::new(sco(
        json!({"type": "url", "value": "http://198.51.100.23/"}),
    ));
    let malware = Stored::new(sdo("malware", 2, json!({"is_family": false})));
    let rel = Stored::new(relationship(3, &malware.facts.id, &url.facts.id));
    // The resolver gives the url's facts but not its text.
    let mut resolver = store(&[&url, &malware]);
    resolver.get_mut(&url.facts.id).unwrap().raw = None;
    match view.decide(&rel.version(), &resolver) {
        Decision::Withhold(WithholdReason::ReferencesWithheld { because, .. }) => {
            assert_eq!(because.code(), "sco-id-not-recomputable")
        }
        other => panic!("{other:?}"),
    }
    // A url that is not in the store at all.
    let resolver: HashMap<String, ResolvedObject> = store(&[&malware]);
    assert_eq!(
        decide(&view, &rel, &resolver),
        Err("references-withheld".into())
    );
    // Without customer ranges both are kept.
    let open = gate(vec![agreement(
        "b",
        1,
        "obligations = { onward_sharing = true }\n",
    )]);
    assert!(decide(&open.view(RECIPIENT, now()), &rel, &resolver).is_ok());
    let _ = ObjectFacts::default();
}

#[test]
fn an_sco_from_another_provider_is_referenced_by_its_id_under_the_referencing_agreement() {
    // The url comes from a provider whose agreement has no customer ranges; the
    // telco's relationship to it must still not carry the id of the real address.
    let url = Stored::from_provider(
        sco(json!({"type": "url", "value": "http://198.51.100.23/"})),
        "other-telco",
    );
    let malware = Stored::new(sdo("malware", 2, json!({"is_family": false})));
    let rel = Stored::new(relationship(3, &malware.facts.id, &url.facts.id));
    let other = accord_agreements::Agreement::from_toml(&format!(
        "id = \"o\"\nversion = 1\nprovider = {{ id = \"other-telco\" }}\nrecipient = {{ id = \"{RECIPIENT}\" }}\n\
         purpose = \"p\"\nlegal_basis = \"l\"\nobligations = {{ onward_sharing = true }}\n\
         validity = {{ from = 2026-01-01T00:00:00Z }}\nscope = {{ types = [\"*\"], max_tlp = \"RED\" }}\n"
    ))
    .unwrap();
    let g = gate(vec![agreement("a", 1, PROTECT), other]);
    let view = g.view(RECIPIENT, now());
    let out = decide(&view, &rel, &store(&[&url, &malware])).unwrap();
    assert!(!out.contains(&url.facts.id), "{out}");
    let _ = sco_id;
}

/// The collection the relationship below is read from.
const COLLECTION: &str = "joint-operation";

/// A partner puts into the collection an ipv4-addr carrying the id of the telco's
/// customer address but another value (an SCO's id is a hash of its value: anyone can
/// name it). The telco's network-traffic from that address is held outside the
/// collection, and a relationship in the collection points at it. The traffic's
/// released id is recomputed from the address as the traffic holds it where it was
/// found (store-wide), so the relationship carries the id the traffic itself is
/// released under, and never the id derived from the customer address. Resolved from
/// the collection instead (before `2da2813`), the partner's object decided the
/// traffic's fate: it has no agreement, so the relationship was withheld (a partner
/// could make the telco's objects disappear from the recipient's view).
#[test]
fn a_derived_sco_takes_its_references_from_where_it_was_found() {
    let ip = Stored::new(ipv4("198.51.100.23"));
    let mut spoofed = ipv4("192.0.2.80");
    spoofed["id"] = json!(ip.facts.id);
    let mut spoofed = Stored::from_provider(spoofed, "partner");
    spoofed.collection = Some(COLLECTION.to_owned());
    let traffic = Stored::new(sco(
        json!({"type": "network-traffic", "src_ref": ip.facts.id,
        "dst_port": 80, "protocols": ["tcp"]}),
    ));
    let malware = Stored::new(sdo("malware", 2, json!({"is_family": false})));
    let mut rel = Stored::new(relationship(3, &malware.facts.id, &traffic.facts.id));
    rel.collection = Some(COLLECTION.to_owned());
    let resolver = Collected {
        collection: store(&[&spoofed, &rel]),
        store: store(&[&ip, &traffic, &malware]),
    };
    let g = gate(vec![agreement("a", 1, PROTECT)]);
    let view = g.view(RECIPIENT, now());
    let released = |o: &Stored| -> Value {
        match view.decide(&o.version(), &resolver) {
            Decision::Release(r) => serde_json::from_str(&r.bytes).unwrap(),
            Decision::Withhold(reason) => panic!("{} withheld: {reason:?}", o.facts.id),
        }
    };
    let traffic_out = released(&traffic);
    let rel_out = released(&rel);
    assert_ne!(traffic_out["id"], json!(traffic.facts.id), "{traffic_out}");
    assert_eq!(rel_out["target_ref"], traffic_out["id"], "{rel_out}");
    assert!(leaks(&rel_out.to_string()).is_empty(), "{rel_out}");
}

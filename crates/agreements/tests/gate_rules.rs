//! Gate rules: validity and versions, embargo, scope, references,
//! pseudonymisation, retention and obligations, property removal.

use std::borrow::Cow;

use accord_agreements::{sco_id, Decision, LedgerDraft, ReleaseBasis, Tlp, WithholdReason};
use serde_json::{json, Value};

use crate::common::*;

const OPEN: &str = "obligations = { onward_sharing = true }\n";
const RANGES: &str = "obligations = { onward_sharing = true }\n[protections]\ncustomer_ranges = [\"198.51.100.0/24\", \"2001:db8:1::/48\"]\npseudonym_key_env = \"K\"\n";

fn green(id: u32) -> Stored {
    Stored::new(indicator(
        id,
        json!({"object_marking_refs": [Tlp::Green.marking_id()]}),
    ))
}

#[test]
fn no_agreement_means_no_release() {
    let g = gate(vec![agreement("a", 1, OPEN)]);
    assert_eq!(
        decide(&g.view("someone-else", now()), &green(1), &store(&[])),
        Err("no-agreement".into())
    );
    let other_provider = Stored::from_provider(indicator(2, json!({})), "other-telco");
    assert_eq!(
        decide(&g.view(RECIPIENT, now()), &other_provider, &store(&[])),
        Err("no-agreement".into())
    );
}

#[test]
fn agreements_apply_only_within_their_validity() {
    let body =
        format!("{OPEN}[validity]\nfrom = 2026-02-01T00:00:00Z\nuntil = 2026-03-01T00:00:00Z\n");
    let g = gate(vec![agreement("a", 1, &body)]);
    let o = green(1);
    let before = g.view(RECIPIENT, t("2026-01-31T23:59:59Z"));
    match before.decide(&o.version(), &store(&[])) {
        Decision::Withhold(WithholdReason::AgreementNotYetValid { from, .. }) => {
            assert_eq!(from, t("2026-02-01T00:00:00Z"))
        }
        other => panic!("{other:?}"),
    }
    assert!(decide(
        &g.view(RECIPIENT, t("2026-02-01T00:00:00Z")),
        &o,
        &store(&[])
    )
    .is_ok());
    assert!(decide(
        &g.view(RECIPIENT, t("2026-02-28T23:59:59Z")),
        &o,
        &store(&[])
    )
    .is_ok());
    assert_eq!(
        decide(
            &g.view(RECIPIENT, t("2026-03-01T00:00:00Z")),
            &o,
            &store(&[])
        ),
        Err("agreement-expired".into())
    );
}

#[test]
fn a_new_version_supersedes_the_old_from_its_start() {
    let v1 = agreement(
        "a",
        1,
        &format!("{OPEN}[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\n"),
    );
    let v2 = agreement(
        "a",
        2,
        &format!("{OPEN}[validity]\nfrom = 2026-07-01T00:00:00Z\n[scope]\ntypes = [\"malware\"]\nmax_tlp = \"GREEN\"\n"),
    );
    let g = gate(vec![v1, v2]);
    let o = green(1);
    assert!(decide(&g.view(RECIPIENT, now()), &o, &store(&[])).is_ok());
    assert_eq!(
        decide(
            &g.view(RECIPIENT, t("2026-07-01T00:00:00Z")),
            &o,
            &store(&[])
        ),
        Err("type-out-of-scope".into())
    );
}

#[test]
fn of_two_agreements_the_first_by_id_that_releases_decides() {
    let narrow = agreement(
        "a-narrow",
        1,
        &format!("{OPEN}[scope]\ntypes = [\"malware\"]\nmax_tlp = \"RED\"\n"),
    );
    let wide = agreement(
        "b-wide",
        1,
        "[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\n",
    );
    let g = gate(vec![wide, narrow]);
    let view = g.view(RECIPIENT, now());
    let o = green(1);
    match view.decide(&o.version(), &store(&[])) {
        Decision::Release(r) => assert_eq!(r.agreement().unwrap().id(), "b-wide"),
        other => panic!("{other:?}"),
    }
    let red = Stored::new(indicator(
        2,
        json!({"object_marking_refs": [Tlp::Red.marking_id()]}),
    ));
    // Neither releases: the first agreement's reason is reported.
    assert_eq!(
        decide(&view, &red, &store(&[])),
        Err("type-out-of-scope".into())
    );
}

#[test]
fn embargo_holds_until_date_added_plus_delay() {
    let g = gate(vec![agreement(
        "a",
        1,
        &format!("{OPEN}[protections]\nembargo = \"48h\"\n"),
    )]);
    let mut o = green(1);
    o.date_added = t("2026-06-14T00:00:00Z");
    match g
        .view(RECIPIENT, t("2026-06-15T23:59:59Z"))
        .decide(&o.version(), &store(&[]))
    {
        Decision::Withhold(WithholdReason::Embargoed { until }) => {
            assert_eq!(until, t("2026-06-16T00:00:00Z"))
        }
        other => panic!("{other:?}"),
    }
    assert!(decide(
        &g.view(RECIPIENT, t("2026-06-16T00:00:00Z")),
        &o,
        &store(&[])
    )
    .is_ok());
}

#[test]
fn scope_rules_each_withhold_with_their_reason() {
    let body = format!(
        "{OPEN}[scope]\ntypes = [\"indicator\", \"malware\", \"ipv4-addr\"]\nmax_tlp = \"AMBER\"\nlabels = [\"c2\"]\n\
         exclude_labels = [\"internal-only\"]\nmin_confidence = 50\ncollections = [\"c2-feed\"]\n"
    );
    let g = gate(vec![agreement("a", 1, &body)]);
    let view = g.view(RECIPIENT, now());
    let with = |extra: Value| {
        let mut o = Stored::new(indicator(1, extra));
        o.collection = Some("c2-feed".into());
        o
    };
    assert!(decide(
        &view,
        &with(json!({"labels": ["c2"], "confidence": 50})),
        &store(&[])
    )
    .is_ok());
    assert_eq!(
        decide(&view, &with(json!({"labels": ["ddos"]})), &store(&[])),
        Err("label-out-of-scope".into())
    );
    assert_eq!(
        decide(
            &view,
            &with(json!({"labels": ["c2", "internal-only"]})),
            &store(&[])
        ),
        Err("excluded-label".into())
    );
    assert_eq!(
        decide(
            &view,
            &with(json!({"labels": ["c2"], "confidence": 49})),
            &store(&[])
        ),
        Err("below-min-confidence".into())
    );
    let mut elsewhere = with(json!({"labels": ["c2"]}));
    elsewhere.collection = Some("other".into());
    assert_eq!(
        decide(&view, &elsewhere, &store(&[])),
        Err("collection-out-of-scope".into())
    );
    let mut tool = Stored::new(sdo("tool", 1, json!({"labels": ["c2"]})));
    tool.collection = Some("c2-feed".into());
    assert_eq!(
        decide(&view, &tool, &store(&[])),
        Err("type-out-of-scope".into())
    );
    // SCOs carry no labels: the label rule does not apply to them.
    let mut ip = Stored::new(ipv4("192.0.2.1"));
    ip.collection = Some("c2-feed".into());
    assert!(decide(&view, &ip, &store(&[])).is_ok());
}

#[test]
fn a_relationship_to_a_withheld_object_is_withheld_and_says_why() {
    let g = gate(vec![agreement("a", 1, OPEN)]);
    let view = g.view(RECIPIENT, now());
    let ok = Stored::new(sdo("malware", 1, json!({"is_family": false})));
    let red = Stored::new(sdo(
        "threat-actor",
        2,
        json!({"object_marking_refs": [Tlp::Red.marking_id()]}),
    ));
    let stranger = Stored::from_provider(sdo("campaign", 3, json!({})), "other-telco");
    let objects = store(&[&ok, &red, &stranger]);
    let r_ok = Stored::new(relationship(10, &ok.facts.id, &ok.facts.id));
    assert!(decide(&view, &r_ok, &objects).is_ok());
    let r_red = Stored::new(relationship(11, &ok.facts.id, &red.facts.id));
    match view.decide(&r_red.version(), &objects) {
        Decision::Withhold(WithholdReason::ReferencesWithheld { id, because }) => {
            assert_eq!(id, red.facts.id);
            assert_eq!(because.code(), "tlp-above-maximum");
        }
        other => panic!("{other:?}"),
    }
    let r_stranger = Stored::new(relationship(12, &stranger.facts.id, &ok.facts.id));
    assert_eq!(
        decide(&view, &r_stranger, &objects),
        Err("references-withheld".into())
    );
    let sighting = Stored::new(json!({"type": "sighting", "spec_version": "2.1",
        "id": "sighting--00000000-0000-4000-8000-000000000020", "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z", "sighting_of_ref": red.facts.id}));
    assert_eq!(
        decide(&view, &sighting, &objects),
        Err("references-withheld".into())
    );
}

#[test]
fn reports_lose_withheld_references_and_are_withheld_when_none_remain() {
    let g = gate(vec![agreement("a", 1, OPEN)]);
    let view = g.view(RECIPIENT, now());
    let ok = Stored::new(sdo("malware", 1, json!({"is_family": false})));
    let red = Stored::new(sdo(
        "threat-actor",
        2,
        json!({"object_marking_refs": [Tlp::Red.marking_id()]}),
    ));
    let objects = store(&[&ok, &red]);
    let report = |refs: Vec<&str>| {
        Stored::new(sdo(
            "report",
            5,
            json!({"published": "2026-02-01T00:00:00Z", "object_refs": refs}),
        ))
    };
    let released = decide(&view, &report(vec![&ok.facts.id, &red.facts.id]), &objects).unwrap();
    let v: Value = serde_json::from_str(&released).unwrap();
    assert_eq!(v["object_refs"], json!([ok.facts.id]));
    assert_eq!(
        decide(&view, &report(vec![&red.facts.id]), &objects),
        Err("references-withheld".into())
    );
}

const COLLECTION: &str = "col-1";

/// An object found outside the collection read is judged as held in the store, and
/// so is what it names: a report in the collection whose only reference is a
/// relationship held elsewhere, to an indicator whose version in the collection is
/// GREEN but whose latest is RED, is withheld (the relationship as held is withheld
/// wherever it is read). The same view still resolves the indicator in the collection
/// for an object read from it (outcomes are remembered per collection).
#[test]
fn what_an_object_resolved_outside_the_collection_names_resolves_outside_it() {
    let g = gate(vec![agreement("a", 1, OPEN)]);
    let view = g.view(RECIPIENT, now());
    let in_collection = |mut o: Stored| {
        o.collection = Some(COLLECTION.to_owned());
        o
    };
    let older = in_collection(green(1));
    let mut newer = indicator(1, json!({"object_marking_refs": [Tlp::Red.marking_id()]}));
    newer["modified"] = json!("2026-03-01T00:00:00.000Z");
    let newer = Stored::new(newer);
    let elsewhere = Stored::new(relationship(2, &older.facts.id, &older.facts.id));
    let resolver = Collected {
        collection: store(&[&older]),
        store: store(&[&newer, &elsewhere]),
    };
    let report = in_collection(Stored::new(sdo(
        "report",
        3,
        json!({"published": "2026-02-01T00:00:00Z", "object_refs": [&elsewhere.facts.id]}),
    )));
    let decided = match view.decide(&report.version(), &resolver) {
        Decision::Release(r) => Ok(r.bytes.into_owned()),
        Decision::Withhold(reason) => Err(reason.code().to_owned()),
    };
    assert_eq!(decided, Err("references-withheld".into()));
    let here = in_collection(Stored::new(relationship(
        4,
        &older.facts.id,
        &older.facts.id,
    )));
    assert!(
        view.decide(&here.version(), &resolver).is_release(),
        "the indicator's version in the collection is GREEN"
    );
}

#[test]
fn reference_cycles_terminate_and_long_chains_are_cut() {
    let g = gate(vec![agreement("a", 1, OPEN)]);
    let view = g.view(RECIPIENT, now());
    let a = Stored::new(
        json!({"type": "domain-name", "id": "domain-name--00000000-0000-4000-8000-000000000001",
        "value": "a.example", "resolves_to_refs": ["domain-name--00000000-0000-4000-8000-000000000002"]}),
    );
    let b = Stored::new(
        json!({"type": "domain-name", "id": "domain-name--00000000-0000-4000-8000-000000000002",
        "value": "b.example", "resolves_to_refs": ["domain-name--00000000-0000-4000-8000-000000000001"]}),
    );
    let objects = store(&[&a, &b]);
    assert!(decide(&view, &a, &objects).is_ok());
    // A chain of 10 objects, each referencing the next by a reference STIX requires
    // (an optional one would be removed at the limit instead: see
    // `optional_references_to_withheld_objects_are_removed`).
    let chain: Vec<Stored> = (0..10)
        .map(|i| {
            Stored::new(
                json!({"type": "x-node", "id": format!("x-node--00000000-0000-4000-8000-{i:012}"),
                "object_ref": format!("x-node--00000000-0000-4000-8000-{:012}", i + 1)}),
            )
        })
        .collect();
    let objects = store(&chain.iter().collect::<Vec<_>>());
    assert_eq!(
        decide(&view, &chain[0], &objects),
        Err("references-withheld".into())
    );
    let limit = accord_agreements::MAX_REFERENCE_DEPTH;
    assert!(decide(&view, &chain[10 - limit], &objects).is_ok());
    // One link longer is cut, in a fresh view as in the view that just remembered
    // the outcomes of the rest of the chain (a decision does not depend on what the
    // view decided before).
    let fresh = g.view(RECIPIENT, now());
    assert_eq!(
        decide(&fresh, &chain[9 - limit], &objects),
        Err("references-withheld".into())
    );
    assert_eq!(
        decide(&view, &chain[9 - limit], &objects),
        Err("references-withheld".into())
    );
    assert!(decide(&view, &chain[10 - limit], &objects).is_ok());
}

fn customer_view_gate() -> accord_agreements::Gate {
    gate(vec![agreement("a", 1, RANGES)])
}

#[test]
fn customer_address_objects_get_pseudonymous_values_and_ids_and_references_follow() {
    let g = customer_view_gate();
    let view = g.view(RECIPIENT, now());
    let ip = Stored::new(ipv4("198.51.100.23"));
    let outside = Stored::new(ipv4("192.0.2.1"));
    let objects = store(&[&ip, &outside]);
    let released = match view.decide(&ip.version(), &objects) {
        Decision::Release(r) => {
            let v: Value = serde_json::from_str(&r.bytes).unwrap();
            assert_eq!(r.released_id.as_deref(), v["id"].as_str());
            v
        }
        other => panic!("{other:?}"),
    };
    let value = released["value"].as_str().unwrap();
    assert!(
        value.starts_with("24") || value.starts_with("25"),
        "{value}"
    );
    assert_eq!(released["id"].as_str().unwrap(), sco_id("ipv4-addr", value));
    // Same address, same pseudonym; an address outside the ranges is untouched.
    let again: Value = serde_json::from_str(&decide(&view, &ip, &objects).unwrap()).unwrap();
    assert_eq!(again, released);
    assert_eq!(decide(&view, &outside, &objects).unwrap(), outside.raw);
    // A relationship and an observed-data pointing to it use the new id.
    let malware = Stored::new(sdo("malware", 1, json!({"is_family": false})));
    let objects = store(&[&ip, &malware]);
    let rel = Stored::new(relationship(3, &malware.facts.id, &ip.facts.id));
    let rel_out: Value = serde_json::from_str(&decide(&view, &rel, &objects).unwrap()).unwrap();
    assert_eq!(rel_out["target_ref"], released["id"]);
    let observed = Stored::new(sdo(
        "observed-data",
        4,
        json!({"first_observed": "2026-02-01T00:00:00Z",
        "last_observed": "2026-02-01T00:00:00Z", "number_observed": 1, "object_refs": [ip.facts.id]}),
    ));
    let obs_out = decide(&view, &observed, &objects).unwrap();
    assert!(obs_out.contains(released["id"].as_str().unwrap()) && !obs_out.contains(&ip.facts.id));
}

#[test]
fn customer_addresses_in_text_are_replaced_in_every_form() {
    let g = customer_view_gate();
    let view = g.view(RECIPIENT, now());
    let o = Stored::new(indicator(
        1,
        json!({
            "pattern": "[ipv4-addr:value = '198.51.100.23'] OR [ipv6-addr:value = '2001:db8:1::9']",
            "description": "Seen from 198.51.100[.]23, ::ffff:198.51.100.23, ::FFFF:c633:6417 and 198.051.100.023; C2 at 192.0.2.1",
            "x_hosts": {"198.51.100.23": "customer"}
        }),
    ));
    let out = decide(&view, &o, &store(&[])).unwrap();
    for leak in [
        "198.51.100.23",
        "198.51.100[.]23",
        "c633:6417",
        "198.051.100.023",
        "2001:db8:1::9",
    ] {
        assert!(!out.contains(leak), "{leak} survived in {out}");
    }
    assert!(out.contains("192.0.2.1"));
    // The same address in every spelling gets the same pseudonym.
    let key = key();
    let p = key
        .pseudonymise_v4("198.51.100.23".parse().unwrap())
        .to_string();
    assert_eq!(out.matches(&p).count(), 6, "{out}");
}

#[test]
fn drop_policy_and_customer_networks_withhold() {
    let g = gate(vec![agreement(
        "a",
        1,
        "obligations = { onward_sharing = true }\n[protections]\ncustomer_ranges = [\"198.51.100.0/24\"]\ncustomer_addresses = \"drop\"\n",
    )]);
    let view = g.view(RECIPIENT, now());
    assert_eq!(
        decide(&view, &Stored::new(ipv4("198.51.100.23")), &store(&[])),
        Err("customer-address-dropped".into())
    );
    let net = Stored::new(indicator(
        1,
        json!({"pattern": "[ipv4-addr:value ISSUBSET '198.51.100.128/25']"}),
    ));
    assert_eq!(
        decide(&view, &net, &store(&[])),
        Err("customer-network".into())
    );
    let wider = Stored::new(indicator(
        2,
        json!({"pattern": "[ipv4-addr:value ISSUBSET '198.51.0.0/16']"}),
    ));
    assert!(decide(&view, &wider, &store(&[])).is_ok());
}

#[test]
fn unresolvable_address_references_are_withheld_when_customers_are_protected() {
    let g = customer_view_gate();
    let view = g.view(RECIPIENT, now());
    let malware = Stored::new(sdo("malware", 1, json!({"is_family": false})));
    let rel = Stored::new(relationship(
        3,
        &malware.facts.id,
        &sco_id("ipv4-addr", "198.51.100.99"),
    ));
    let objects = store(&[&malware]);
    assert_eq!(
        decide(&view, &rel, &objects),
        Err("references-withheld".into())
    );
    let open = gate(vec![agreement("a", 1, OPEN)]);
    assert!(decide(&open.view(RECIPIENT, now()), &rel, &objects).is_ok());
}

#[test]
fn retention_caps_valid_until_and_the_obligations_marking_is_added() {
    let g = gate(vec![agreement(
        "a",
        1,
        "obligations = { retention = \"30d\" }\n",
    )]);
    let view = g.view(RECIPIENT, now());
    let marking_id = g.agreements()[0]
        .obligations_marking_id()
        .unwrap()
        .to_owned();
    let o = Stored::new(indicator(
        1,
        json!({"object_marking_refs": [Tlp::Green.marking_id()]}),
    ));
    let out: Value = serde_json::from_str(&decide(&view, &o, &store(&[])).unwrap()).unwrap();
    assert_eq!(out["valid_until"], "2026-07-15T00:00:00.000Z");
    assert_eq!(
        out["object_marking_refs"],
        json!([Tlp::Green.marking_id(), marking_id])
    );
    let early = Stored::new(indicator(2, json!({"valid_until": "2026-06-20T00:00:00Z"})));
    let out: Value = serde_json::from_str(&decide(&view, &early, &store(&[])).unwrap()).unwrap();
    assert_eq!(out["valid_until"], "2026-06-20T00:00:00Z");
    let future = Stored::new(indicator(3, json!({"valid_from": "2027-01-01T00:00:00Z"})));
    assert_eq!(
        decide(&view, &future, &store(&[])),
        Err("retention-before-valid-from".into())
    );
    // The marking definition itself goes to this recipient only.
    let m = Stored::new(g.agreements()[0].obligations_marking().unwrap());
    assert!(decide(&view, &m, &store(&[])).is_ok());
    let other = gate(vec![
        agreement("a", 1, "obligations = { retention = \"30d\" }\n"),
        accord_agreements::Agreement::from_toml(&format!(
            "id = \"b\"\nversion = 1\nprovider = {{ id = \"{PROVIDER}\" }}\nrecipient = {{ id = \"peer\" }}\npurpose = \"p\"\nlegal_basis = \"l\"\n\
             validity = {{ from = 2026-01-01T00:00:00Z }}\nscope = {{ types = [\"*\"], max_tlp = \"RED\" }}\n"
        ))
        .unwrap(),
    ]);
    assert_eq!(
        decide(&other.view("peer", now()), &m, &store(&[])),
        Err("other-recipients-marking".into())
    );
}

#[test]
fn removed_properties_are_gone_and_untouched_objects_are_borrowed() {
    let g = gate(vec![agreement(
        "a",
        1,
        "obligations = { onward_sharing = true }\n[protections]\nremove_properties = [\"x_telco_ticket\", \"extensions.x-telco-ext.account\"]\n",
    )]);
    let view = g.view(RECIPIENT, now());
    let o = Stored::new(indicator(
        1,
        json!({"x_telco_ticket": "T-1", "extensions": {"x-telco-ext": {"account": "A-7", "keep": 1}}}),
    ));
    let out: Value = serde_json::from_str(&decide(&view, &o, &store(&[])).unwrap()).unwrap();
    assert!(out.get("x_telco_ticket").is_none());
    assert_eq!(out["extensions"]["x-telco-ext"], json!({"keep": 1}));
    let escaped = Stored {
        raw: r#"{"type":"indicator","id":"indicator--00000000-0000-4000-8000-000000000009","x_telco\u005fticket":"T-9"}"#.into(),
        ..green(9)
    };
    let out = decide(&view, &escaped, &store(&[])).unwrap();
    assert!(!out.contains("T-9"), "{out}");
    let plain = green(2);
    match view.decide(&plain.version(), &store(&[])) {
        Decision::Release(r) => assert!(matches!(r.bytes, Cow::Borrowed(_))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn own_objects_are_released_without_ledger_and_agreement_releases_produce_a_draft() {
    let g = gate(vec![agreement("a", 1, OPEN)]);
    let mine = Stored::from_provider(
        indicator(1, json!({"object_marking_refs": [Tlp::Red.marking_id()]})),
        RECIPIENT,
    );
    let view = g.view(RECIPIENT, now());
    match view.decide(&mine.version(), &store(&[])) {
        Decision::Release(r) => {
            assert!(matches!(r.basis, ReleaseBasis::Owner));
            assert!(LedgerDraft::for_release(now(), RECIPIENT, &mine.facts.id, "v", &r).is_none());
        }
        other => panic!("{other:?}"),
    }
    let theirs = green(2);
    match view.decide(&theirs.version(), &store(&[])) {
        Decision::Release(r) => {
            let draft =
                LedgerDraft::for_release(now(), RECIPIENT, &theirs.facts.id, "v", &r).unwrap();
            assert_eq!(
                (draft.agreement_id.as_str(), draft.agreement_version),
                ("a", 1)
            );
            assert_eq!(
                draft.purpose,
                "Joint operation against DDoS C2 infrastructure"
            );
            assert_eq!(draft.released_sha256, r.sha256());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn gate_refuses_duplicates_changed_parties_and_missing_keys() {
    use accord_agreements::{Agreement, Gate, GateError};
    let a = agreement("a", 1, OPEN);
    assert!(matches!(
        Gate::new([a.clone(), a.clone()]),
        Err(GateError::Duplicate(_))
    ));
    let text = |v: u32, r: &str| {
        format!(
            "id = \"a\"\nversion = {v}\nprovider = {{ id = \"{PROVIDER}\" }}\nrecipient = {{ id = \"{r}\" }}\npurpose = \"p\"\nlegal_basis = \"l\"\n\
             validity = {{ from = 2026-01-01T00:00:00Z }}\nscope = {{ types = [\"*\"], max_tlp = \"RED\" }}\n{RANGES}"
        )
    };
    let keyless = Agreement::from_toml(&text(1, RECIPIENT)).unwrap();
    assert!(matches!(
        Gate::new([keyless]),
        Err(GateError::MissingKey(_))
    ));
    let v1 = Agreement::from_toml(&text(1, RECIPIENT))
        .unwrap()
        .with_key(key());
    let v2 = Agreement::from_toml(&text(2, "peer"))
        .unwrap()
        .with_key(key());
    assert!(matches!(
        Gate::new([v1, v2]),
        Err(GateError::PartiesChanged { .. })
    ));
}

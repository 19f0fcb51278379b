//! Issue 11, classes 5 and 6: ids of withheld objects never reach a recipient (in
//! optional references, in prose, in custom properties of any shape), and scope
//! rules mean what a person reads (labels in any case, marked marking definitions,
//! bare property names at any depth, redaction patterns).

use accord_agreements::{Agreement, WITHHELD_ID};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::*;

const OPEN: &str = "obligations = { onward_sharing = true }\n";
const RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
const GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";

fn green_scope(extra: &str) -> String {
    format!(
        "{OPEN}[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\n{extra}"
    )
}

/// A withheld identity (TLP:RED) and a released one.
fn identities() -> (Stored, Stored) {
    let secret = Stored::new(sdo(
        "identity",
        1,
        json!({"identity_class": "organization", "object_marking_refs": [RED]}),
    ));
    let public = Stored::new(sdo(
        "identity",
        2,
        json!({"identity_class": "organization"}),
    ));
    (secret, public)
}

#[test]
fn optional_references_to_withheld_objects_are_removed() {
    let g = gate(vec![agreement("a", 1, &green_scope(""))]);
    let view = g.view(RECIPIENT, now());
    let (secret, public) = identities();
    let malware = Stored::new(sdo(
        "malware",
        3,
        json!({"is_family": true, "object_marking_refs": [RED]}),
    ));
    let objects = store(&[&secret, &public, &malware]);
    for (by, kept) in [(&secret, false), (&public, true)] {
        let o = Stored::new(indicator(
            10,
            json!({"created_by_ref": by.facts.id, "x_acme_sample_ref": malware.facts.id}),
        ));
        let released = decide(&view, &o, &objects).expect("released");
        let v: Value = serde_json::from_str(&released).unwrap();
        assert_eq!(v.get("created_by_ref").is_some(), kept, "{released}");
        assert!(v.get("x_acme_sample_ref").is_none(), "{released}");
        assert!(!released.contains(&secret.facts.id[10..]));
        assert!(!released.contains(&malware.facts.id[9..]));
    }
    // A required reference still withholds the referencing object.
    let rel = Stored::new(relationship(20, &public.facts.id, &malware.facts.id));
    assert_eq!(
        decide(&view, &rel, &objects),
        Err("references-withheld".into())
    );
}

#[test]
fn ids_of_withheld_objects_are_redacted_from_every_string() {
    let g = gate(vec![agreement("a", 1, &green_scope(""))]);
    let view = g.view(RECIPIENT, now());
    let (secret, public) = identities();
    let objects = store(&[&secret, &public]);
    let s = &secret.facts.id;
    let uuid = &s["identity--".len()..];
    let o = Stored::new(indicator(
        11,
        json!({
            "description": format!("Reported by {s} (see also {})", public.facts.id),
            "name": format!("from {}", s.to_uppercase()),
            "x_acme_refs": s,
            "x_acme_ref": [s],
            "x_meta": {"deep": [{"who": format!("my-identity--{uuid}")}], s.as_str(): 1},
            "external_references": [{"source_name": "x", "url": format!("https://cti.example/identity:{uuid}")}]
        }),
    ));
    let released = decide(&view, &o, &objects).expect("released");
    assert!(!released.to_lowercase().contains(uuid), "{released}");
    assert!(released.contains(&public.facts.id), "{released}");
    assert!(released.contains(WITHHELD_ID));
    // Ids the provider does not hold are its own knowledge: kept.
    let unknown = "identity--99999999-0000-4000-8000-000000000000";
    let o = Stored::new(indicator(
        12,
        json!({"description": format!("by {unknown}")}),
    ));
    assert!(decide(&view, &o, &objects).unwrap().contains(unknown));
}

#[test]
fn mentioned_address_objects_get_their_released_ids() {
    let text = "obligations = { onward_sharing = true }\n[protections]\ncustomer_ranges = [\"198.51.100.0/24\"]\npseudonym_key_env = \"K\"\n";
    let g = gate(vec![agreement("a", 1, text)]);
    let view = g.view(RECIPIENT, now());
    let addr = Stored::new(ipv4("198.51.100.23"));
    let objects = store(&[&addr]);
    let o = Stored::new(indicator(
        13,
        json!({"description": format!("seen as {}", addr.facts.id)}),
    ));
    let released = decide(&view, &o, &objects).unwrap();
    assert!(!released.contains(&addr.facts.id), "{released}");
    let Ok(own) = decide(&view, &addr, &objects) else {
        panic!()
    };
    let own: Value = serde_json::from_str(&own).unwrap();
    assert!(released.contains(own["id"].as_str().unwrap()), "{released}");
}

#[test]
fn labels_compare_ignoring_case_and_surrounding_space() {
    let g = gate(vec![agreement(
        "a",
        1,
        &green_scope("exclude_labels = [\"internal-only\"]\nlabels = [\" C2 \"]\n"),
    )]);
    let view = g.view(RECIPIENT, now());
    let objects = store(&[]);
    for label in ["INTERNAL-ONLY", " Internal-Only", "internal-only"] {
        let o = Stored::new(indicator(1, json!({"labels": ["c2", label]})));
        assert_eq!(
            decide(&view, &o, &objects),
            Err("excluded-label".into()),
            "{label}"
        );
    }
    let o = Stored::new(indicator(2, json!({"labels": ["c2 "]})));
    assert!(decide(&view, &o, &objects).is_ok());
    let g = gate(vec![agreement(
        "b",
        1,
        &green_scope("exclude_labels = [\"ÄRGER\"]\n"),
    )]);
    let o = Stored::new(indicator(3, json!({"labels": ["ärger"]})));
    assert_eq!(
        decide(&g.view(RECIPIENT, now()), &o, &objects),
        Err("excluded-label".into())
    );
}

#[test]
fn marking_definitions_marked_above_max_tlp_are_withheld_with_what_they_mark() {
    let g = gate(vec![agreement("a", 1, &green_scope(""))]);
    let view = g.view(RECIPIENT, now());
    let statement = |n: u32, marking: &str| {
        Stored::new(json!({"type": "marking-definition", "spec_version": "2.1",
            "id": format!("marking-definition--00000000-0000-4000-8000-{n:012}"),
            "created": "2026-02-01T00:00:00.000Z", "definition_type": "statement",
            "definition": {"statement": "Operation Nightjar, case 2026/17"},
            "object_marking_refs": [marking]}))
    };
    let red = statement(1, RED);
    let green = statement(2, GREEN);
    let objects = store(&[&red, &green]);
    assert_eq!(
        decide(&view, &red, &objects),
        Err("tlp-above-maximum".into())
    );
    assert!(decide(&view, &green, &objects).is_ok());
    // An object carrying the withheld marking is withheld (its terms cannot travel
    // without the marking, and the marking's id must not).
    let marked = Stored::new(indicator(
        5,
        json!({"object_marking_refs": [GREEN, red.facts.id]}),
    ));
    assert_eq!(
        decide(&view, &marked, &objects),
        Err("references-withheld".into())
    );
    let marked = Stored::new(indicator(
        6,
        json!({"object_marking_refs": [green.facts.id]}),
    ));
    assert!(decide(&view, &marked, &objects).is_ok());
}

#[test]
fn bare_property_names_are_removed_at_any_depth_and_dotted_paths_exactly() {
    let g = gate(vec![agreement(
        "a",
        1,
        &format!(
            "{}[protections]\nremove_properties = [\"x_telco_ticket\", \"x_meta.x_owner\"]\n",
            green_scope("")
        ),
    )]);
    let view = g.view(RECIPIENT, now());
    let o = Stored::new(indicator(
        1,
        json!({"x_telco_ticket": "INC-1", "x_meta": {"x_telco_ticket": "INC-2", "x_owner": "a",
               "list": [{"x_telco_ticket": "INC-3"}], "inner": {"x_owner": "keep"}},
               "extensions": {"x-acme-ext": {"extension_type": "property-extension", "x_telco_ticket": "INC-4"}}}),
    ));
    let released = decide(&view, &o, &store(&[])).unwrap();
    assert!(!released.contains("x_telco_ticket"), "{released}");
    assert!(!released.contains("INC-"), "{released}");
    let v: Value = serde_json::from_str(&released).unwrap();
    assert!(v["x_meta"].get("x_owner").is_none());
    assert_eq!(v["x_meta"]["inner"]["x_owner"], "keep");
}

fn redacting(patterns: &str) -> Agreement {
    agreement(
        "r",
        1,
        &format!(
            "{}[protections]\nredact_patterns = {patterns}\n",
            green_scope("")
        ),
    )
}

#[test]
fn redact_patterns_replace_matches_in_every_string() {
    let g = gate(vec![redacting(r#"['(?i)ticket\s*#?\d+']"#)]);
    let view = g.view(RECIPIENT, now());
    let o = Stored::new(indicator(
        1,
        json!({"description": "C2 (ticket 4711)", "x_meta": {"notes": ["Ticket #12"], "ticket 99": "x"},
               "external_references": [{"source_name": "crm", "description": "TICKET 5"}]}),
    ));
    let released = decide(&view, &o, &store(&[])).unwrap();
    assert!(!released.to_lowercase().contains("ticket"), "{released}");
    assert!(released.contains("C2 ([redacted])"), "{released}");
    // Untouched objects stay on the fast path.
    let plain = Stored::new(indicator(2, json!({"description": "nothing to see"})));
    assert_eq!(decide(&view, &plain, &store(&[])).unwrap(), plain.raw);
}

#[test]
fn redact_patterns_never_break_an_object_they_withhold_it() {
    let g = gate(vec![redacting(r#"['secret\d']"#)]);
    let view = g.view(RECIPIENT, now());
    let file = Stored::new(json!({"type": "file", "spec_version": "2.1",
        "id": "file--00000000-0000-4000-8000-000000000001", "name": "secret1.exe"}));
    match view.decide(&file.version(), &store(&[])) {
        accord_agreements::Decision::Withhold(r) => {
            assert_eq!(r.code(), "redaction-breaks-object");
            assert!(r.to_string().contains("name"), "{r}");
        }
        _ => panic!("released"),
    }
    let o = Stored::new(indicator(3, json!({"x_link_ref": "secret1"})));
    assert_eq!(
        decide(&view, &o, &store(&[])),
        Err("redaction-breaks-object".into())
    );
}

#[test]
fn invalid_or_oversized_redact_patterns_refuse_the_agreement() {
    let base = "id = \"acme-1\"\nversion = 1\nprovider = { id = \"p\" }\nrecipient = { id = \"r\" }\npurpose = \"x\"\nlegal_basis = \"y\"\nvalidity = { from = 2026-01-01T00:00:00Z }\nscope = { types = [\"*\"], max_tlp = \"GREEN\" }\n";
    for bad in [r"'(unclosed'", r"'\w{1000}{1000}'", "'x*'"] {
        let err =
            Agreement::from_toml(&format!("{base}[protections]\nredact_patterns = [{bad}]\n"))
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("acme-1") && err.contains("protections.redact_patterns"),
            "{err}"
        );
        assert!(err.contains(&bad[1..bad.len() - 1]), "{err}");
    }
    let many = vec!["'a'"; accord_agreements::agreement::MAX_REDACT_PATTERNS + 1].join(",");
    assert!(Agreement::from_toml(&format!(
        "{base}[protections]\nredact_patterns = [{many}]\n"
    ))
    .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// However a withheld object's id is written into whatever property, the released
    /// text does not hold its UUID.
    #[test]
    fn a_withheld_id_never_reaches_the_recipient(
        prefix in "[ a-z(\\[/:]{0,4}",
        sep in prop_oneof![Just("--"), Just("---"), Just(":"), Just("/"), Just("_")],
        upper in any::<bool>(),
        glued in prop_oneof![Just(""), Just("see-"), Just("x-")],
        place in 0..6usize,
    ) {
        let g = gate(vec![agreement("a", 1, &green_scope(""))]);
        let view = g.view(RECIPIENT, now());
        let (secret, _) = identities();
        let objects = store(&[&secret]);
        let uuid = &secret.facts.id["identity--".len()..];
        let mut id = format!("{glued}identity{sep}{uuid}");
        if upper { id = id.to_uppercase(); }
        let text = format!("{prefix}{id} end");
        let extra = match place {
            0 => json!({"description": text}),
            1 => json!({"x_acme_refs": text}),
            2 => json!({"x_acme_ref": [text]}),
            3 => json!({"x_meta": {"list": [{"note": text}]}}),
            4 => json!({"x_meta": {text.as_str(): true}}),
            _ => json!({"external_references": [{"source_name": "s", "external_id": text}]}),
        };
        let o = Stored::new(indicator(7, extra));
        if let Ok(released) = decide(&view, &o, &objects) {
            prop_assert!(!released.to_lowercase().contains(uuid), "{}", released);
        }
    }
}

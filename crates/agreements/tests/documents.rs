//! Agreement files: the examples load, bad files get errors naming the field.

use accord_agreements::{Agreement, AgreementError, CustomerAddressPolicy, KeySource, Span, Tlp};

const TELCO: &str = include_str!("../../../examples/agreements/telco-to-cybercrime-centre.toml");
const PEER: &str = include_str!("../../../examples/agreements/peer-cert-green.toml");

#[test]
fn the_example_agreements_load() {
    let a = Agreement::from_toml(TELCO).unwrap();
    assert_eq!(a.id(), "telco-ec3-ddos-2026");
    assert_eq!(a.version(), 3);
    assert_eq!(a.scope().max_tlp, Tlp::Amber);
    assert_eq!(a.scope().min_confidence, Some(60));
    assert_eq!(
        a.protections().customer_addresses,
        CustomerAddressPolicy::Pseudonymise
    );
    assert_eq!(a.protections().embargo, Span::parse("24h").unwrap());
    assert_eq!(
        a.key_source(),
        Some(&KeySource::File("keys/telco-ec3-ddos.key".into()))
    );
    assert!(a.needs_key());
    assert_eq!(a.obligations().retention, Span::parse("180d"));
    let marking = a.obligations_marking().unwrap();
    assert_eq!(marking["definition_type"], "statement");
    assert!(marking["definition"]["statement"]
        .as_str()
        .unwrap()
        .contains("not permitted"));
    let peer = Agreement::from_toml(PEER).unwrap();
    assert!(!peer.has_obligations());
    assert_eq!(peer.valid_until(), None);
}

fn problems(text: &str) -> Vec<(String, &'static str)> {
    match Agreement::from_toml(text) {
        Err(AgreementError::Invalid(list)) => list.into_iter().map(|p| (p.field, p.rule)).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn every_problem_is_reported_with_its_field_and_rule() {
    let text = TELCO
        .replace("max_tlp = \"AMBER\"", "max_tlp = \"AMBR\"")
        .replace(
            "until = 2027-02-01T00:00:00Z",
            "until = 2025-02-01T00:00:00Z",
        )
        .replace("embargo = \"24h\"", "embargo = \"1 day\"")
        .replace("\"198.51.100.0/24\"", "\"198.51.100.7/24\"")
        .replace("\"x_telco_ticket\"", "\"pattern\"")
        .replace("min_confidence = 60", "min_confidence = 101");
    let found = problems(&text);
    for expected in [
        ("scope.max_tlp", "tlp-level"),
        ("validity.until", "validity-order"),
        ("protections.embargo", "duration"),
        ("protections.customer_ranges", "host-bits"),
        ("protections.remove_properties", "remove-required-property"),
        ("scope.min_confidence", "confidence-range"),
    ] {
        assert!(
            found
                .iter()
                .any(|(f, r)| f == expected.0 && *r == expected.1),
            "{expected:?} missing from {found:?}"
        );
    }
}

#[test]
fn a_pseudonymising_agreement_without_key_source_is_refused() {
    let text = TELCO.replace("pseudonym_key_file = \"keys/telco-ec3-ddos.key\"", "");
    assert!(problems(&text).contains(&("protections.pseudonym_key_env".into(), "key-required")));
    let both = TELCO.replace(
        "\npseudonym_key_file = ",
        "\npseudonym_key_env = \"K\"\npseudonym_key_file = ",
    );
    assert!(problems(&both).iter().any(|(_, r)| *r == "one-key-source"));
}

#[test]
fn customer_ranges_may_not_overlap_the_pseudonym_space() {
    let text = TELCO.replace("\"203.0.113.0/25\"", "\"240.0.0.0/8\"");
    assert!(problems(&text).iter().any(|(_, r)| *r == "pseudonym-range"));
}

#[test]
fn unknown_fields_and_wrong_types_name_the_line() {
    let err = Agreement::from_toml(&TELCO.replace("onward_sharing", "onward_sharin")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("onward_sharin") && text.contains("line"),
        "{text}"
    );
    let err = Agreement::from_toml(&TELCO.replace("version = 3", "version = \"3\"")).unwrap_err();
    assert!(err.to_string().contains("version"), "{err}");
}

#[test]
fn dates_without_offset_and_local_dates_are_refused() {
    let text = TELCO.replace("from = 2026-02-01T00:00:00Z", "from = 2026-02-01");
    assert!(problems(&text).contains(&("validity.from".into(), "datetime")));
    let quoted = TELCO.replace(
        "from = 2026-02-01T00:00:00Z",
        "from = \"2026-02-01T00:00:00+01:00\"",
    );
    let a = Agreement::from_toml(&quoted).unwrap();
    assert_eq!(a.valid_from().to_stix(), "2026-01-31T23:00:00.000Z");
}

#[test]
fn types_must_be_stix_names_or_a_lone_star() {
    let text = TELCO.replace("\"indicator\", \"infrastructure\"", "\"Indicator\", \"*\"");
    let found = problems(&text);
    assert_eq!(
        found.iter().filter(|(f, _)| f == "scope.types").count(),
        2,
        "{found:?}"
    );
}

#[test]
fn the_same_party_on_both_sides_is_refused() {
    let text = TELCO.replace("id = \"cybercrime-centre\"", "id = \"example-telco\"");
    assert!(problems(&text).contains(&("recipient.id".into(), "distinct-parties")));
}

/// A TLP marking id in `withhold_markings` would never match (TLP is compared by
/// level): the agreement is refused and pointed at `max_tlp`.
#[test]
fn tlp_ids_in_withhold_markings_are_refused() {
    let red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
    let text = TELCO.replace(
        "withhold_markings = [\"",
        &format!("withhold_markings = [\"{red}\", \""),
    );
    assert_eq!(
        problems(&text),
        [("scope.withhold_markings".to_string(), "tlp-marking")]
    );
}

//! Deterministic SCO ids against vectors computed by the OASIS stix2 library
//! (frozen by `scripts/interop-stix --freeze`).

use accord_stix::{parse_object, parse_object_with, sco_id, ParseOptions};
use serde_json::Value;

fn vectors() -> Vec<(serde_json::Map<String, Value>, String)> {
    let text = std::fs::read_to_string(crate::fixture("sco-ids.json")).unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    all.into_iter()
        .map(|v| {
            let obj = v["object"].as_object().unwrap().clone();
            (obj, v["id"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn ids_equal_the_stix2_library() {
    let vectors = vectors();
    assert!(vectors.len() >= 300);
    let mut types = std::collections::BTreeSet::new();
    for (mut obj, expected) in vectors {
        types.insert(obj["type"].as_str().unwrap().to_owned());
        obj.remove("id");
        assert_eq!(
            sco_id(&obj).unwrap().as_deref(),
            Some(expected.as_str()),
            "{}",
            Value::Object(obj)
        );
    }
    for t in [
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "file",
        "network-traffic",
    ] {
        assert!(types.contains(t), "no vector of {t}");
    }
}

#[test]
fn stix2_objects_validate_and_missing_ids_are_filled() {
    let opts = ParseOptions {
        fill_sco_ids: true,
        ..Default::default()
    };
    for (obj, expected) in vectors() {
        let text = Value::Object(obj.clone()).to_string();
        let parsed = parse_object(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(parsed.id, expected);
        let mut without = obj;
        without.remove("id");
        let text = Value::Object(without).to_string();
        let filled = parse_object_with(&text, &opts).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(filled.id, expected, "{text}");
        assert!(
            parse_object(&text).is_err(),
            "an SCO without id is invalid unless filled"
        );
    }
}

#[test]
fn objects_without_contributing_properties_get_uuid4() {
    let opts = ParseOptions {
        fill_sco_ids: true,
        ..Default::default()
    };
    let obj = parse_object_with(r#"{"type":"process","pid":4}"#, &opts).unwrap();
    let uuid = uuid_of(&obj.id);
    assert_eq!(uuid.get_version_num(), 4);
    // Two fills differ (random), and an id already present is kept.
    let again = parse_object_with(r#"{"type":"process","pid":4}"#, &opts).unwrap();
    assert_ne!(obj.id, again.id);
    let kept = parse_object_with(&obj.json, &opts).unwrap();
    assert_eq!(kept.id, obj.id);
    // Not an SCO: nothing is filled, the missing id is an error.
    let err = parse_object_with(r#"{"type":"x-thing","spec_version":"2.1"}"#, &opts).unwrap_err();
    assert!(err.has(accord_stix::Rule::RequiredProperty, "id"));
}

fn uuid_of(id: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(id.split_once("--").unwrap().1).unwrap()
}

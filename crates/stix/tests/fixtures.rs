//! Every object of the OASIS examples and of MITRE ATT&CK for ICS parses,
//! validates, and keeps its JSON (equal as serde_json values).

use std::fs::File;
use std::io::BufReader;

use accord_stix::{parse_object, BundleReader, ObjectKind};
use serde_json::Value;

fn check_bundle(rel: &str) -> usize {
    let path = crate::fixture(rel);
    let whole: Value = serde_json::from_reader(BufReader::new(File::open(&path).unwrap())).unwrap();
    let raws: Vec<accord_stix::RawObject> = if whole["type"] == "bundle" {
        let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let raws: Result<Vec<_>, _> = BundleReader::new(BufReader::new(file)).collect();
        raws.unwrap_or_else(|e| panic!("{rel}: {e}"))
    } else {
        // A file holding one object.
        vec![accord_stix::RawObject {
            index: 0,
            text: std::fs::read_to_string(&path).unwrap(),
        }]
    };
    let mut count = 0;
    for raw in raws {
        let obj =
            parse_object(&raw.text).unwrap_or_else(|e| panic!("{rel} object {}: {e}", raw.index));
        let input: Value = serde_json::from_str(&raw.text).unwrap();
        let kept: Value = serde_json::from_str(&obj.json).unwrap();
        assert_eq!(input, kept, "{rel} object {}", raw.index);
        assert_eq!(input["id"], Value::String(obj.id.clone()));
        assert_eq!(input["type"], Value::String(obj.object_type.clone()));
        assert!(!obj.json.contains("\n  "), "json is minified");
        if let Some(created) = input.get("created").and_then(Value::as_str) {
            assert_eq!(obj.created.as_ref().map(|t| t.as_str()), Some(created));
        }
        count += 1;
    }
    count
}

#[test]
fn oasis_examples_validate_and_round_trip() {
    let mut total = 0;
    for entry in std::fs::read_dir(crate::fixture("oasis-examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = format!(
                "oasis-examples/{}",
                path.file_name().unwrap().to_string_lossy()
            );
            total += check_bundle(&name);
        }
    }
    assert_eq!(total, 260);
}

#[test]
fn attack_ics_validates_and_round_trips() {
    assert_eq!(check_bundle("ics-attack-18.1.json"), 1826);
}

#[test]
fn attack_custom_types_are_custom() {
    let file = File::open(crate::fixture("ics-attack-18.1.json")).unwrap();
    let mut kinds = std::collections::HashMap::new();
    for raw in BundleReader::new(BufReader::new(file)) {
        let obj = parse_object(&raw.unwrap().text).unwrap();
        *kinds.entry(obj.kind()).or_insert(0) += 1;
        if obj.object_type.starts_with("x-mitre-") {
            assert_eq!(obj.kind(), ObjectKind::Custom);
        }
        assert!(obj.version().is_some());
    }
    assert_eq!(kinds[&ObjectKind::Sro], 1373);
    assert_eq!(
        kinds[&ObjectKind::Custom],
        83 + 82 + 36 + 18 + 17 + 12 + 1 + 1
    );
    assert_eq!(kinds[&ObjectKind::Meta], 1);
}

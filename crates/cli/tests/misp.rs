//! `accord misp import` and `accord export --format misp`: MISP events in, skipped
//! attributes named, TLP honoured by the gate (an event's TLP covers its attributes), the
//! release in the ledger.

use super::{code, stderr, stdout, Scratch};

const EVENT: &str = r#"{"Event": {"uuid": "a6ef17d6-91cb-4a05-b10b-2f045daf877a", "info": "mixed",
 "timestamp": "1603642920", "published": false,
 "Orgc": {"name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
 "Attribute": [
  {"uuid": "01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "domain", "value": "clear.example",
   "category": "Network activity", "timestamp": "1603642920", "to_ids": true, "Tag": [{"name": "tlp:clear"}]},
  {"uuid": "02ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "domain", "value": "red.example",
   "category": "Network activity", "timestamp": "1603642920", "to_ids": false, "Tag": [{"name": "tlp:red"}]},
  {"uuid": "03ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "ip-dst", "value": "not an address",
   "category": "Network activity", "timestamp": "1603642920", "to_ids": true}
 ]}}"#;

/// An unpublished event under TLP:RED: none of its attributes is released under CLEAR,
/// although misp-stix writes their objects without markings.
const RED_EVENT: &str = r#"{"Event": {"uuid": "b6ef17d6-91cb-4a05-b10b-2f045daf877a", "info": "red",
 "timestamp": "1603642920", "Tag": [{"name": "tlp:red"}],
 "Attribute": [{"uuid": "04ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "ip-dst", "value": "203.0.113.9",
   "category": "Network activity", "timestamp": "1603642920", "to_ids": true}]}}"#;

#[test]
fn import_names_what_it_skipped_and_export_misp_goes_through_the_gate() {
    let s = Scratch::node();
    let event = s.write("event.json", EVENT);
    let red = s.write("red.json", RED_EVENT);
    std::fs::write(
        s.path("node/agreements/telco-centre.toml"),
        "id = \"telco-centre\"\nversion = 1\nprovider = { id = \"telco\" }\nrecipient = { id = \"centre\" }\n\
         purpose = \"MISP tests\"\nlegal_basis = \"Test\"\n[validity]\nfrom = 2020-01-01T00:00:00Z\n\
         [scope]\ntypes = [\"*\"]\nmax_tlp = \"CLEAR\"\nunmarked_tlp = \"CLEAR\"\n\
         [obligations]\nonward_sharing = false\n",
    )
    .unwrap();
    let out = s.run(&["collection", "grant", "shared", "--org", "centre", "--read"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = s.run(&[
        "misp",
        "import",
        "-c",
        "shared",
        event.to_str().unwrap(),
        red.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "an attribute was skipped: exit 1");
    let err = stderr(&out);
    assert!(
        err.contains("attribute 03ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f")
            && err.contains("a6ef17d6-91cb-4a05-b10b-2f045daf877a")
            && err.contains("misp-value"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("imported 2 events"),
        "{}",
        stdout(&out)
    );

    // The node's own export has everything that was imported.
    let own = s.run(&["export", "--format", "misp"]);
    assert_eq!(code(&own), 0, "{}", stderr(&own));
    assert!(stdout(&own).contains("red.example") && stdout(&own).contains("203.0.113.9"));

    let out = s.run(&["export", "--recipient", "centre", "--format", "misp"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let events: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let text = events.to_string();
    assert!(text.contains("clear.example"), "{text}");
    assert!(
        !text.contains("red.example"),
        "TLP:RED attribute released: {text}"
    );
    assert!(
        !text.contains("203.0.113.9"),
        "attribute of a TLP:RED event released: {text}"
    );
    let attribute = &events[0]["Event"]["Attribute"][0];
    assert_eq!(attribute["uuid"], "01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f");
    assert_eq!(attribute["to_ids"], true);
    assert_eq!(attribute["Tag"], serde_json::json!([{"name": "tlp:clear"}]));

    let explained = s.run(&[
        "ledger",
        "explain",
        "--recipient",
        "centre",
        "--object",
        "indicator--01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f",
    ]);
    assert_eq!(code(&explained), 0, "{}", stderr(&explained));
}

#[test]
fn convert_only_writes_a_bundle_and_refuses_an_event_without_uuid() {
    let s = Scratch::new();
    let event = s.write("event.json", EVENT);
    let out = s.run(&["misp", "import", "-o", "-", event.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let bundle: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert!(ids.contains(&"grouping--a6ef17d6-91cb-4a05-b10b-2f045daf877a"));
    assert!(ids.contains(&"indicator--01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"));
    let bad = s.write(
        "bad.json",
        r#"{"Event": {"info": "no uuid", "timestamp": "1"}}"#,
    );
    let out = s.run(&["misp", "import", "-o", "-", bad.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("event refused") && stderr(&out).contains("misp-required-property"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&[
        "misp",
        "import",
        "-o",
        "-",
        s.write("x.json", "[1]").to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("misp-shape"), "{}", stderr(&out));
}

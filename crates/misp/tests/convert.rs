//! MISP → STIX as misp-stix converts (the expected values are misp-stix 2026.10.12's
//! output for the same events), and STIX → MISP back.

use accord_misp::from_stix::Exporter;
use accord_misp::{event_to_stix, read_events, Rule};
use proptest::prelude::*;
use serde_json::{json, Value};

fn event(attributes: Value) -> Value {
    json!({
        "uuid": "a6ef17d6-91cb-4a05-b10b-2f045daf877a", "info": "test", "timestamp": "1603642920",
        "published": false,
        "Orgc": {"name": "MISP-Project", "uuid": "a0c22599-9e58-4da4-96ac-7051603fa951"},
        "Tag": [{"name": "tlp:white"}, {"name": "misp:tool=\"misp2stix2\""}],
        "Attribute": attributes
    })
}

fn by_id<'a>(objects: &'a [Value], id: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {objects:#?}"))
}

#[test]
fn to_ids_attribute_is_observed_data_indicator_and_based_on_relationship_with_misp_stix_ids() {
    let e = event(
        json!([{"uuid": "01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "md5",
        "value": "B2A5ABFEEF9E36964281A31E17B57C97", "category": "Payload delivery",
        "timestamp": "1603642920", "to_ids": true}]),
    );
    let c = event_to_stix(&e, 0).unwrap();
    assert!(c.skipped.is_empty());
    let ind = by_id(
        &c.objects,
        "indicator--01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f",
    );
    assert_eq!(
        ind["pattern"],
        "[file:hashes.MD5 = 'b2a5abfeef9e36964281a31e17b57c97']"
    );
    assert_eq!(ind["valid_from"], "2020-10-25T16:22:00Z");
    assert_eq!(ind["created"], "2020-10-25T16:22:00.000Z");
    assert_eq!(
        ind["created_by_ref"],
        "identity--a0c22599-9e58-4da4-96ac-7051603fa951"
    );
    assert_eq!(
        ind["labels"],
        json!(["misp:type=\"md5\"", "misp:category=\"Payload delivery\""])
    );
    let file = by_id(&c.objects, "file--01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f");
    assert_eq!(file["hashes"]["MD5"], "b2a5abfeef9e36964281a31e17b57c97");
    // misp-stix: UUIDv5 of "source - based-on - target" in its namespace.
    let rel = by_id(
        &c.objects,
        "relationship--e7603816-7805-5ab0-9cea-2f0eaa1e3ad4",
    );
    assert_eq!(
        rel["source_ref"],
        "indicator--01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"
    );
    assert_eq!(
        rel["target_ref"],
        "observed-data--01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"
    );
    let grouping = by_id(&c.objects, "grouping--a6ef17d6-91cb-4a05-b10b-2f045daf877a");
    assert_eq!(grouping["context"], "suspicious-activity");
    assert!(grouping["object_refs"]
        .as_array()
        .unwrap()
        .contains(&json!("relationship--e7603816-7805-5ab0-9cea-2f0eaa1e3ad4")));
    assert_eq!(
        grouping["object_marking_refs"],
        json!(["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"])
    );
    assert_eq!(
        grouping["labels"],
        json!([
            "Threat-Report",
            "misp:tool=\"MISP-STIX-Converter\"",
            "misp:tool=\"misp2stix2\""
        ])
    );
}

#[test]
fn without_to_ids_no_indicator_and_ip_src_is_network_traffic() {
    let e = event(
        json!([{"uuid": "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d2f", "type": "ip-src",
        "value": "1.2.3.4", "category": "Network activity", "timestamp": "1603642920",
        "to_ids": false, "Tag": [{"name": "tlp:amber"}, {"name": "foo"}]}]),
    );
    let c = event_to_stix(&e, 0).unwrap();
    assert!(!c.objects.iter().any(|o| o["type"] == "indicator"));
    let nt = by_id(
        &c.objects,
        "network-traffic--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d2f",
    );
    assert_eq!(
        nt["src_ref"],
        "ipv4-addr--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d2f"
    );
    assert_eq!(nt["protocols"], json!(["tcp"]));
    let od = by_id(
        &c.objects,
        "observed-data--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d2f",
    );
    assert_eq!(
        od["object_marking_refs"],
        json!(["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"])
    );
    assert_eq!(od["labels"][2], "foo");
    assert!(c.objects.iter().any(|o| o["id"]
        == "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
        && o["definition"]["tlp"] == "amber"));
}

#[test]
fn a_bad_attribute_is_skipped_by_uuid_property_and_rule_and_the_rest_converted() {
    let e = event(json!([
        {"uuid": "02ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "sha256", "value": "abc",
         "category": "Payload delivery", "timestamp": "1603642920", "to_ids": true},
        {"uuid": "not-a-uuid", "type": "domain", "value": "a.example", "category": "Network activity"},
        {"uuid": "03ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "domain", "value": "b.example",
         "category": "Network activity", "timestamp": "1603642920", "to_ids": true}
    ]));
    let c = event_to_stix(&e, 0).unwrap();
    assert_eq!(c.skipped.len(), 2);
    let hash = &c.skipped[0];
    assert_eq!(hash.rule, Rule::Value);
    assert_eq!(hash.property, "value");
    assert_eq!(
        hash.item.as_deref(),
        Some("attribute 02ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f")
    );
    let text = hash.to_string();
    assert!(
        text.contains("a6ef17d6-91cb-4a05-b10b-2f045daf877a") && text.contains("misp-value"),
        "{text}"
    );
    assert_eq!(c.skipped[1].rule, Rule::Uuid);
    by_id(
        &c.objects,
        "indicator--03ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f",
    );
}

/// An object reference becomes a relationship to the first object converted from its
/// target (an attribute's observed-data here); one to nothing in the event is reported
/// with rule misp-reference, and the rest is converted.
#[test]
fn object_references_are_relationships_and_a_dangling_one_is_reported() {
    let mut e = event(
        json!([{"uuid": "01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", "type": "domain",
        "value": "example.com", "category": "Network activity", "timestamp": "1603642920",
        "to_ids": false}]),
    );
    e["Object"] = json!([{"name": "mutex", "meta-category": "misc", "timestamp": "1603642920",
        "uuid": "b0f55591-6a63-4fbd-a169-064e64738d96",
        "Attribute": [{"type": "text", "object_relation": "name", "value": "m", "to_ids": false,
            "uuid": "c0f55591-6a63-4fbd-a169-064e64738d96"}],
        "ObjectReference": [
            {"referenced_uuid": "01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f",
             "relationship_type": "communicates-with", "timestamp": "1603642950"},
            {"uuid": "d0f55591-6a63-4fbd-a169-064e64738d96",
             "referenced_uuid": "e0f55591-6a63-4fbd-a169-064e64738d96",
             "relationship_type": "drops"}]}]);
    let c = event_to_stix(&e, 0).unwrap();
    let relationships: Vec<&Value> = c
        .objects
        .iter()
        .filter(|o| o["type"] == "relationship")
        .collect();
    assert_eq!(relationships.len(), 1, "{relationships:#?}");
    let r = relationships[0];
    assert_eq!(
        r["source_ref"],
        "observed-data--b0f55591-6a63-4fbd-a169-064e64738d96"
    );
    assert_eq!(
        r["target_ref"],
        "observed-data--01ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"
    );
    assert_eq!(r["relationship_type"], "communicates-with");
    assert_eq!(r["created"], "2020-10-25T16:22:30.000Z");
    assert_eq!(c.skipped.len(), 1);
    assert_eq!(c.skipped[0].rule, Rule::Reference);
    assert_eq!(
        c.skipped[0].item.as_deref(),
        Some("object b0f55591-6a63-4fbd-a169-064e64738d96")
    );
}

#[test]
fn an_event_without_uuid_or_timestamp_is_refused() {
    let mut e = event(json!([]));
    e.as_object_mut().unwrap().remove("uuid");
    let error = event_to_stix(&e, 3).unwrap_err();
    assert_eq!((error.rule, error.event.as_str()), (Rule::Required, "#3"));
    let mut e = event(json!([]));
    e.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(event_to_stix(&e, 0).unwrap_err().property, "timestamp");
}

#[test]
fn a_published_event_is_a_report_and_galaxies_become_sdos() {
    let mut e = event(json!([]));
    e["published"] = json!(true);
    e["publish_timestamp"] = json!("1603642950");
    e["Tag"] = json!([{"name": "misp-galaxy:threat-actor=\"APT28\""}]);
    e["Galaxy"] = json!([{"name": "Threat Actor", "type": "threat-actor", "GalaxyCluster": [
        {"uuid": "5b4ee3ea-eee3-4c8e-8323-85ae32658754", "type": "threat-actor", "value": "APT28",
         "tag_name": "misp-galaxy:threat-actor=\"APT28\"", "description": "The Sofacy Group",
         "meta": {"synonyms": ["Sofacy"], "country": ["RU"]}}]}]);
    let c = event_to_stix(&e, 0).unwrap();
    let report = by_id(&c.objects, "report--a6ef17d6-91cb-4a05-b10b-2f045daf877a");
    assert_eq!(report["published"], "2020-10-25T16:22:30Z");
    // the galaxy's tag is not a label of the report
    assert_eq!(
        report["labels"],
        json!(["Threat-Report", "misp:tool=\"MISP-STIX-Converter\""])
    );
    let ta = by_id(
        &c.objects,
        "threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658754",
    );
    assert_eq!(ta["aliases"], json!(["Sofacy"]));
    assert_eq!(ta["x_misp_country"], json!(["RU"]));
}

#[test]
fn inputs_of_every_shape_pymisp_writes() {
    let one = r#"{"Event": {"uuid": "a6ef17d6-91cb-4a05-b10b-2f045daf877a"}}"#;
    assert_eq!(read_events(one).unwrap().len(), 1);
    let list = format!("[{one}, {{\"uuid\": \"b6ef17d6-91cb-4a05-b10b-2f045daf877a\"}}]");
    assert_eq!(read_events(&list).unwrap().len(), 2);
    let rest = format!("{{\"response\": [{one}]}}");
    assert_eq!(
        read_events(&rest).unwrap()[0]["uuid"],
        "a6ef17d6-91cb-4a05-b10b-2f045daf877a"
    );
    assert_eq!(read_events("[1]").unwrap_err().rule, Rule::Shape);
    assert_eq!(read_events("{").unwrap_err().rule, Rule::Json);
}

proptest! {
    /// What the import writes, the export gives back: type, value, uuid, to_ids, tags.
    #[test]
    fn round_trip_keeps_type_value_uuid_and_tags(
        a in 1u8..=254, b in 0u8..=255, label in "[a-z]{1,12}", tld in "(com|net|example)",
        hash in "[0-9a-f]{64}", to_ids: bool,
    ) {
        let values = [
            ("ip-dst", format!("198.51.{a}.{b}")),
            ("domain", format!("{label}.{tld}")),
            ("sha256", hash.clone()),
            ("url", format!("http://{label}.{tld}/x?y='z'")),
            ("ip-src|port", format!("203.0.113.{a}|{b}")),
        ];
        let attributes: Vec<Value> = values.iter().enumerate().map(|(n, (t, v))| json!({
            "uuid": format!("00000000-0000-4000-8000-{n:012}"), "type": t, "value": v,
            "category": "Network activity", "timestamp": "1603642920", "to_ids": to_ids,
            "Tag": [{"name": "tlp:green"}, {"name": label.clone()}]
        })).collect();
        let c = event_to_stix(&event(Value::Array(attributes)), 0).unwrap();
        prop_assert!(c.skipped.is_empty());
        let mut exporter = Exporter::new();
        for o in &c.objects {
            exporter.add(&o.to_string()).unwrap();
        }
        let out = exporter.render();
        prop_assert_eq!(out.events.len(), 1);
        let back = out.events[0]["Event"]["Attribute"].as_array().unwrap().clone();
        prop_assert_eq!(back.len(), values.len());
        for (n, (t, v)) in values.iter().enumerate() {
            let uuid = format!("00000000-0000-4000-8000-{n:012}");
            let a = back.iter().find(|a| a["uuid"] == uuid.as_str()).unwrap();
            prop_assert_eq!(&a["type"], *t);
            prop_assert_eq!(a["value"].as_str().unwrap(), v.as_str());
            prop_assert_eq!(&a["to_ids"], &json!(to_ids));
            prop_assert_eq!(&a["Tag"], &json!([{"name": "tlp:green"}, {"name": label.clone()}]));
        }
        prop_assert_eq!(&out.events[0]["Event"]["uuid"], "a6ef17d6-91cb-4a05-b10b-2f045daf877a");
    }
}

const TYPES: &[&str] = &[
    "ip-src",
    "ip-dst",
    "ip-src|port",
    "ip-dst|port",
    "domain",
    "hostname",
    "domain|ip",
    "url",
    "md5",
    "sha1",
    "sha256",
    "filename",
    "filename|md5",
    "email-src",
    "email-dst",
    "AS",
    "mutex",
    "port",
    "user-agent",
    "vulnerability",
    "campaign-name",
    "text",
    "regkey",
    "hostname|port",
];

/// Templates whose conversion reads other objects, numbers, coordinates or contents.
const OBJECT_TEMPLATES: [&str; 14] = [
    "registry-key",
    "registry-key-value",
    "file",
    "pe",
    "pe-section",
    "netflow",
    "geolocation",
    "lnk",
    "image",
    "yara",
    "annotation",
    "script",
    "legal-entity",
    "person",
];

/// (relation, MISP type) of those templates.
const OBJECT_RELATIONS: [(&str, &str); 22] = [
    ("key", "regkey"),
    ("data", "text"),
    ("filename", "filename"),
    ("md5", "md5"),
    ("malware-sample", "malware-sample"),
    ("attachment", "attachment"),
    ("path", "text"),
    ("number-sections", "counter"),
    ("entrypoint-address", "text"),
    ("name", "text"),
    ("entropy", "float"),
    ("size-in-bytes", "size-in-bytes"),
    ("ip-src", "ip-src"),
    ("src-as", "AS"),
    ("dst-port", "port"),
    ("first-packet-seen", "datetime"),
    ("latitude", "float"),
    ("longitude", "float"),
    ("accuracy-radius", "float"),
    ("yara", "yara"),
    ("text", "text"),
    ("state", "text"),
];

proptest! {
    /// Whatever the values, an attribute is converted or skipped with a rule (no panic),
    /// and every id written is `type--uuid`.
    #[test]
    fn any_value_of_any_type_converts_or_is_skipped(
        picks in proptest::collection::vec((0..TYPES.len(), ".{0,40}", any::<bool>()), 1..12),
    ) {
        let attributes: Vec<Value> = picks.iter().enumerate().map(|(n, (t, v, ids))| json!({
            "uuid": format!("00000000-0000-4000-8000-{n:012}"), "type": TYPES[*t], "value": v,
            "timestamp": "1603642920", "to_ids": ids,
        })).collect();
        let c = event_to_stix(&event(Value::Array(attributes)), 0).unwrap();
        for o in &c.objects {
            let id = o["id"].as_str().unwrap();
            let (_, uuid) = id.split_once("--").unwrap();
            prop_assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{}", id);
        }
        let skipped: std::collections::HashSet<_> = c.skipped.iter().map(|e| e.item.clone()).collect();
        prop_assert_eq!(skipped.len(), c.skipped.len(), "one reason per skipped attribute");
    }

    /// Whatever the relations and values, the objects of the templates that take other
    /// objects in, numbers, coordinates, samples or references (a file with its pe and
    /// sections, netflow, geolocation, lnk, image, rules, annotations) convert or are
    /// kept whole, each object once, and every id written is `type--uuid`.
    #[test]
    fn objects_of_any_relations_and_values_convert(
        picks in proptest::collection::vec(
            (0..OBJECT_TEMPLATES.len(), proptest::collection::vec(
                (0..OBJECT_RELATIONS.len(), "[-+.0-9a-fA-F|_:/ ]{0,24}", any::<bool>(), any::<bool>()),
                0..8,
            )),
            1..6,
        ),
    ) {
        let uuid = |n: usize| format!("00000000-0000-4000-8000-{n:012}");
        let objects: Vec<Value> = picks.iter().enumerate().map(|(n, (t, attributes))| {
            let attributes: Vec<Value> = attributes.iter().enumerate().map(|(k, (r, v, ids, data))| {
                let (relation, kind) = OBJECT_RELATIONS[*r];
                let mut a = json!({"uuid": uuid(1000 + n * 100 + k), "type": kind,
                    "object_relation": relation, "value": v, "to_ids": ids});
                if *data {
                    a["data"] = json!("UEsDBAoAAAAAAA==");
                }
                a
            }).collect();
            // Each object refers to the next, including (as a pe, a section) and annotating.
            let next = uuid((n + 1) % picks.len());
            let next_name = OBJECT_TEMPLATES[picks[(n + 1) % picks.len()].0];
            json!({"name": OBJECT_TEMPLATES[*t], "meta-category": "misc", "uuid": uuid(n),
                "timestamp": "1603642920", "Attribute": attributes,
                "ObjectReference": [
                    {"referenced_uuid": next, "relationship_type": "includes",
                     "Object": {"name": next_name}},
                    {"referenced_uuid": next, "relationship_type": "annotates"},
                    {"referenced_uuid": next, "relationship_type": "contains",
                     "Object": {"name": next_name}},
                ]})
        }).collect();
        let mut e = event(json!([]));
        e["Object"] = Value::Array(objects);
        let c = event_to_stix(&e, 0).unwrap();
        let mut seen = std::collections::HashSet::new();
        for o in &c.objects {
            let id = o["id"].as_str().unwrap();
            let (_, uuid) = id.split_once("--").unwrap();
            prop_assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{}", id);
            prop_assert!(seen.insert(id.to_string()), "{} twice", id);
        }
    }

    /// Arbitrary text is read as events or refused with a rule.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        if let Ok(events) = read_events(&text) {
            for (n, e) in events.iter().enumerate() {
                let _ = event_to_stix(e, n);
            }
        }
    }
}

/// An event report is a note (as misp-stix writes it) referring to what the attributes
/// and objects its text mentions became (an attribute's observed-data and indicator,
/// not its SCOs; an object's attribute stands for the object), else to the event's
/// grouping; exported, it comes back as the same event report.
#[test]
fn event_reports_are_notes_and_come_back() {
    let text = std::fs::read_to_string(format!(
        "{}/../../fixtures/misp/sightings-references-reports.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture is readable");
    let event = read_events(&text).expect("events").remove(0);
    let c = event_to_stix(&event, 0).unwrap();
    let note = by_id(&c.objects, "note--e1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8");
    let mut refs: Vec<&str> = note["object_refs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    refs.sort_unstable();
    assert_eq!(
        refs,
        [
            "indicator--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f",
            "indicator--b0f55591-6a63-4fbd-a169-064e64738d96",
            "mutex--b0f55591-6a63-4fbd-a169-064e64738d96",
            "observed-data--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f",
            "observed-data--b0f55591-6a63-4fbd-a169-064e64738d96",
            "x-misp-attribute--93ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f",
        ]
    );
    assert_eq!(note["abstract"], "Incident summary");
    let empty = by_id(&c.objects, "note--e2a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8");
    assert_eq!(
        empty["object_refs"],
        json!(["grouping--c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"])
    );
    let mut exporter = Exporter::new();
    for o in &c.objects {
        exporter.add(&o.to_string()).unwrap();
    }
    let exported = exporter.render();
    let again = event_to_stix(&exported.events[0]["Event"], 0).unwrap();
    for id in [
        "note--e1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
        "note--e2a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
    ] {
        let before = by_id(&c.objects, id);
        let after = by_id(&again.objects, id);
        for key in ["abstract", "content", "created", "labels"] {
            assert_eq!(before[key], after[key], "{id} {key}");
        }
    }
}

/// The first event of a development fixture (fixtures/misp), converted.
fn fixture_stix(name: &str) -> accord_misp::Converted {
    let text = std::fs::read_to_string(format!(
        "{}/../../fixtures/misp/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    event_to_stix(&read_events(&text).unwrap().remove(0), 0).unwrap()
}

fn export_all(objects: &[Value]) -> accord_misp::from_stix::Exported {
    let mut exporter = Exporter::new();
    for o in objects {
        exporter.add(&o.to_string()).unwrap();
    }
    exporter.render()
}

fn clusters_of(holder: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for g in holder["Galaxy"].as_array().into_iter().flatten() {
        for c in g["GalaxyCluster"].as_array().into_iter().flatten() {
            out.push((
                g["type"].as_str().unwrap_or_default().to_string(),
                c.clone(),
            ));
        }
    }
    out
}

/// The galaxies of a MISP event come back from its STIX as clusters, where misp-stix
/// puts them (an attribute's on the attribute, the others on the event), with their
/// uuid, type, value (from the cluster's tag: "Mimikatz - S0002", the STIX name being
/// "Mimikatz"), synonyms, refs and external id.
#[test]
fn galaxies_come_back_as_clusters() {
    let c = fixture_stix("galaxies-objects-tlp2.json");
    let exported = export_all(&c.objects);
    assert!(
        !exported
            .left_out
            .iter()
            .any(|(id, _)| id.starts_with("malware--") || id.starts_with("tool--")),
        "{:?}",
        exported.left_out
    );
    let event = &exported.events[0]["Event"];
    let on_event = clusters_of(event);
    let get = |uuid: &str| {
        on_event
            .iter()
            .find(|(_, c)| c["uuid"] == uuid)
            .unwrap_or_else(|| panic!("cluster {uuid} not on the event: {on_event:?}"))
    };
    let (galaxy, malware) = get("f86c31c6-dbf3-5702-875f-1b77eb97d644");
    assert_eq!(galaxy, "mitre-malware");
    assert_eq!(malware["value"], "BlackEnergy - S0089");
    // The STIX name is a synonym again (misp-stix's STIX leaves a synonym equal to the
    // name out of the aliases; MITRE's clusters have it), as misp-stix reads it.
    assert_eq!(malware["meta"]["synonyms"], json!(["BE", "BlackEnergy"]));
    assert_eq!(malware["meta"]["external_id"], "S0089");
    assert_eq!(malware["meta"]["refs"], json!(["https://x"]));
    assert_eq!(malware["description"], "d BlackEnergy - S0089");
    assert_eq!(
        get("a76d8da3-c634-5c62-9798-8240cd3c8275").1["value"],
        "Mimikatz - S0002"
    );
    assert_eq!(get("3ce25a77-ff26-53b8-b90d-4a6d2886a194").0, "sector");
    assert_eq!(on_event.len(), 6, "{on_event:?}");
    let tags: Vec<&str> = event["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        tags.contains(&"misp-galaxy:mitre-tool=\"Mimikatz - S0002\""),
        "{tags:?}"
    );
    // The threat actor of the domain attribute is the attribute's, not the event's.
    let attribute = event["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["uuid"] == "04ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f")
        .unwrap();
    let on_attribute = clusters_of(attribute);
    assert_eq!(on_attribute.len(), 1, "{attribute}");
    assert_eq!(on_attribute[0].1["value"], "APT28");
    assert_eq!(on_attribute[0].0, "threat-actor");
    assert!(attribute["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "misp-galaxy:threat-actor=\"APT28\""));
    // And misp-stix's STIX of the exported event has the same galaxy objects.
    let again = event_to_stix(event, 0).unwrap();
    for id in [
        "malware--f86c31c6-dbf3-5702-875f-1b77eb97d644",
        "tool--a76d8da3-c634-5c62-9798-8240cd3c8275",
        "threat-actor--b025728e-608f-5078-9f26-b0ca0ebe5a88",
    ] {
        let (before, after) = (by_id(&c.objects, id), by_id(&again.objects, id));
        for key in [
            "name",
            "description",
            "labels",
            "aliases",
            "external_references",
        ] {
            assert_eq!(before[key], after[key], "{id} {key}");
        }
    }
}

/// Plain STIX (no misp-stix labels: an ATT&CK technique, a malware family) is read as
/// misp-stix's external parser reads it: clusters of the `stix-2.1-<type>` galaxies,
/// uuids derived from the object's and MISP's organisation's, meta from the STIX
/// properties; the malware an indicator `indicates` on that indicator's attribute.
/// The expected values are misp-stix 2026.10.12's (ExternalSTIX2toMISPParser) for
/// fixtures/misp/stix/plain-galaxies.json.
#[test]
fn plain_stix_galaxies_are_read_as_misp_stix_reads_them() {
    let text = std::fs::read_to_string(format!(
        "{}/../../fixtures/misp/stix/plain-galaxies.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let exported = export_all(bundle["objects"].as_array().unwrap());
    // Only the creator's identity is left out (it names the threat actor's source).
    let left_out: Vec<&str> = exported
        .left_out
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(left_out, ["identity--8c6af861-7b20-41ef-9b59-6344fd872a8f"]);
    let event = &exported.events[0]["Event"];
    let on_event = clusters_of(event);
    // attack pattern, threat actor, tool, intrusion set, course of action,
    // vulnerability, campaign, sector, location (scripts/lib/misp_galaxies.py --plain
    // compares every field of them all with misp-stix's).
    assert_eq!(on_event.len(), 9, "{on_event:?}");
    let (_, actor) = on_event
        .iter()
        .find(|(g, _)| g == "stix-2.1-threat-actor")
        .unwrap();
    assert_eq!(actor["source"], "Example CERT");
    assert_eq!(actor["meta"]["synonyms"], json!(["Voodoo Bear"]));
    assert_eq!(actor["meta"]["labels"], json!(["apt"]));
    assert!(on_event
        .iter()
        .any(|(g, c)| g == "sector" && c["value"] == "Telecommunications"));
    // A malware instance is a MISP `malware` object (misp-stix's uuids).
    let object = &event["Object"][0];
    assert_eq!(object["name"], "malware");
    assert_eq!(object["uuid"], "1a3ead4e-6d47-4ccb-854c-a6a4f9d96b22");
    let attribute = |relation: &str| {
        object["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["object_relation"] == relation)
            .unwrap()
            .clone()
    };
    assert_eq!(
        attribute("first_seen")["uuid"],
        "548e99b0-ace0-5f78-a03f-1577b03bbdda"
    );
    assert_eq!(
        attribute("first_seen")["value"],
        "2023-12-01T00:00:00+00:00"
    );
    assert_eq!(
        attribute("is_family")["uuid"],
        "a5d0de32-c939-5e39-a234-4057aa36311d"
    );
    assert_eq!(object["Attribute"].as_array().unwrap().len(), 12);
    // A location with a place is a MISP `geolocation` object: a whole longitude and
    // the precision (metres) in kilometres are Python floats (`6.0`, `1.5`), uuids too.
    let place = &event["Object"][1];
    assert_eq!(place["name"], "geolocation");
    assert_eq!(place["comment"], "Head office");
    let radius = place["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["object_relation"] == "accuracy-radius")
        .unwrap();
    assert_eq!(radius["value"], 1.5);
    assert_eq!(radius["uuid"], "21d137bc-342b-5ae1-8a6b-1c52f8a212c9");
    let (galaxy, pattern) = on_event
        .iter()
        .find(|(g, _)| g == "stix-2.1-attack-pattern")
        .unwrap();
    assert_eq!(galaxy, "stix-2.1-attack-pattern");
    assert_eq!(
        event["Galaxy"][0]["uuid"],
        "9be38d88-6e00-570b-b6c9-0076006ffb61"
    );
    assert_eq!(event["Galaxy"][0]["name"], "STIX 2.1 Attack Pattern");
    assert_eq!(
        pattern,
        &json!({
            "value": "Phishing", "uuid": "a40974e3-8fbf-56ad-b9f8-3e7ff0c68753",
            "source": "misp-stix", "version": "21",
            "collection_uuid": "9be38d88-6e00-570b-b6c9-0076006ffb61",
            "type": "stix-2.1-attack-pattern",
            "description": "Adversaries may send phishing messages.",
            "meta": {
                "created": "2017-05-31T21:30:59.769000Z", "modified": "2020-03-11T17:11:58.129000Z",
                "refs": ["https://attack.mitre.org/techniques/T1566"], "external_id": "T1566",
                "kill_chain": ["mitre-attack:initial-access"]
            }
        })
    );
    let attribute = &event["Attribute"][0];
    assert_eq!(attribute["value"], "evil.example");
    let on_attribute = clusters_of(attribute);
    assert_eq!(on_attribute.len(), 1, "{attribute}");
    assert_eq!(
        on_attribute[0].1,
        json!({
            "value": "BlackEnergy", "uuid": "d019b1ac-479f-5cdc-9413-02bf5d507318",
            "source": "misp-stix", "version": "21",
            "collection_uuid": "5de9a83d-06f0-532b-bcf6-54eaf4db61c8",
            "type": "stix-2.1-malware", "description": "Blackenergy",
            "meta": {
                "created": "2017-05-31T21:32:31.601000Z", "modified": "2020-03-30T18:34:49.124000Z",
                "synonyms": ["Black Energy"], "is_family": true, "malware_types": ["backdoor"],
                "labels": ["vendor-label"]
            }
        })
    );
}

/// Analyst notes and opinions (MISP `Note`, `Opinion` of the event, its attributes,
/// objects and event reports) are misp-stix's `note` and `opinion` of what they are of;
/// exported, each comes back on the event, the attribute, the object (an object's
/// attribute's on the object, as misp-stix reads them) or the report, and converts to
/// the same STIX again.
#[test]
fn analyst_notes_and_opinions_come_back() {
    let c = fixture_stix("analyst-notes-opinions.json");
    let opinion = by_id(&c.objects, "opinion--e3a2b3c4-d5e6-4f70-8192-a3b4c5d6e704");
    assert_eq!(opinion["opinion"], "strongly-disagree");
    assert_eq!(opinion["x_misp_opinion"], 10);
    let note = by_id(&c.objects, "note--e3a2b3c4-d5e6-4f70-8192-a3b4c5d6e701");
    assert_eq!(
        note["object_refs"],
        json!(["grouping--f7a8b9c0-1d2e-4f30-8a4b-5c6d7e8f9012"])
    );
    assert_eq!(note["created"], "2024-01-02T10:00:00.000Z");
    let exported = export_all(&c.objects);
    let event = &exported.events[0]["Event"];
    assert_eq!(event["Note"][0]["note"], "The event's analyst note");
    assert_eq!(event["Note"][0]["language"], "en");
    assert_eq!(event["Opinion"][0]["opinion"], "75");
    let attribute = event["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["uuid"] == "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f")
        .unwrap();
    assert_eq!(attribute["Note"][0]["authors"], "analyst@example.org");
    // An analyst opinion that strongly disagrees is no false positive sighting.
    assert_eq!(attribute["Opinion"][0]["comment"], "Looks benign");
    assert!(attribute.get("Sighting").is_none(), "{attribute}");
    let object = &event["Object"][0];
    assert_eq!(object["Note"][0]["note"], "The object's note");
    assert_eq!(object["Opinion"][0]["opinion"], "90");
    let again = event_to_stix(event, 0).unwrap();
    let analyst = |objects: &[Value]| -> Vec<Value> {
        let mut out: Vec<Value> = objects
            .iter()
            .filter(|o| o["type"] == "note" || o["type"] == "opinion")
            .cloned()
            .collect();
        out.sort_by_key(|o| o["id"].as_str().unwrap_or_default().to_string());
        out
    };
    assert_eq!(analyst(&c.objects), analyst(&again.objects));
    // 9 analyst notes and opinions, and the event report's note.
    assert_eq!(analyst(&c.objects).len(), 10);
    // An event report's are of its note, and come back on the report.
    let on_report = by_id(&c.objects, "note--e3a2b3c4-d5e6-4f70-8192-a3b4c5d6e731");
    assert_eq!(
        on_report["object_refs"],
        json!(["note--e4a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f1"])
    );
    let report = &event["EventReport"][0];
    assert_eq!(report["Note"][0]["note"], "A note on the report");
    assert_eq!(report["Opinion"][0]["opinion"], "100");
}

/// Course-of-action, country, region and branded-vulnerability galaxies, and galaxy
/// meta beyond synonyms and references, as misp-stix 2026.10.12 writes them (the
/// expected values are its output for fixtures/misp/galaxies-coa-territories-meta.json;
/// the country code is the one deliberate difference: misp-stix writes `"['FR']"`).
#[test]
fn course_of_action_territories_and_galaxy_meta_as_misp_stix() {
    let c = fixture_stix("galaxies-coa-territories-meta.json");
    let coa = by_id(
        &c.objects,
        "course-of-action--2a4f6c11-a4a7-4cb9-b0ef-6ae1bb3a718a",
    );
    assert_eq!(coa["name"], "Account Use Policies");
    assert_eq!(
        coa["external_references"],
        json!([
            {"source_name": "mitre-attack", "external_id": "M1036"},
            {"source_name": "url", "url": "https://attack.mitre.org/mitigations/M1036"}
        ])
    );
    let france = by_id(&c.objects, "location--84668357-5a8c-4bdd-9f0f-6b50b242be03");
    assert_eq!(france["name"], "France");
    assert_eq!(france["country"], "FR");
    assert_eq!(
        france["description"],
        "Country meta information based on the database provided by geonames.org. | france"
    );
    assert_eq!(
        france["x_misp_original_names"],
        json!({"x_misp_iso": "ISO", "x_misp_iso3": "ISO3"})
    );
    assert_eq!(france["x_misp_capital"], json!(["Paris"]));
    let region = by_id(&c.objects, "location--a5e0e3b6-1bd3-4a5c-9a7a-30a1f7c8e2a1");
    assert_eq!(region["name"], "Western Europe");
    assert_eq!(region["region"], "western-europe");
    assert_eq!(
        region["description"],
        "Regions based on UN M49. | Western Europe"
    );
    let ghost = by_id(
        &c.objects,
        "vulnerability--a1640081-aa8d-4070-84b2-d23e2ae82799",
    );
    assert_eq!(
        ghost["external_references"],
        json!([{"source_name": "cve", "external_id": "CVE-2015-0235"}])
    );
    let actor = by_id(
        &c.objects,
        "threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658755",
    );
    assert_eq!(actor["aliases"], json!(["Cozy Bear"]));
    assert_eq!(actor["x_misp_suspected_state_sponsor"], json!(["Russia"]));
    assert_eq!(
        actor["x_misp_original_names"],
        json!({
            "x_misp_cfr_suspected_victims": "cfr-suspected-victims",
            "x_misp_attribution_confidence": "attribution-confidence",
            "x_misp_cfr_type_of_incident": "cfr-type-of-incident",
            "x_misp_suspected_state_sponsor": "Suspected State Sponsor"
        })
    );
    let emotet = by_id(&c.objects, "malware--f86c31c6-dbf3-5702-875f-1b77eb97d645");
    assert_eq!(emotet["is_family"], true);
    assert_eq!(emotet["aliases"], json!(["Geodo"]));
    assert_eq!(
        emotet["kill_chain_phases"],
        json!([{"kill_chain_name": "mitre-attack", "phase_name": "defense-evasion"}])
    );
    assert_eq!(emotet["x_misp_mitre_platforms"], json!(["Windows"]));
    assert!(emotet.get("x_misp_is_family").is_none());
    // The attribute's country and course of action are related to its observed-data.
    for target in [
        "location--84668357-5a8c-4bdd-9f0f-6b50b242be0f",
        "course-of-action--3a4f6c11-a4a7-4cb9-b0ef-6ae1bb3a718b",
    ] {
        assert!(
            c.objects.iter().any(|o| o["type"] == "relationship"
                && o["source_ref"] == "observed-data--94ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"
                && o["target_ref"] == target
                && o["relationship_type"] == "related-to"),
            "{target}"
        );
    }
    // Exported, the clusters come back with the original's value and description.
    let exported = export_all(&c.objects);
    let event = &exported.events[0]["Event"];
    let clusters = clusters_of(event);
    let (galaxy, france) = clusters
        .iter()
        .find(|(_, c)| c["uuid"] == "84668357-5a8c-4bdd-9f0f-6b50b242be03")
        .unwrap();
    assert_eq!(galaxy, "country");
    assert_eq!(france["value"], "france");
    assert_eq!(france["description"], "France");
    assert_eq!(france["meta"]["ISO"], json!(["FR"]));
}

/// A relationship between two of the event's clusters (as misp-stix writes clusters:
/// their STIX uuid the cluster's) is a relation of the first, as misp-stix's internal
/// parser reads it: `{"referenced_galaxy_cluster_uuid", "referenced_galaxy_cluster_type"
/// (the relationship's type), "galaxy_cluster_uuid"}` (misp-stix 2026.10.12's output for
/// the same STIX, but the `distribution` PyMISP adds).
#[test]
fn relationships_between_clusters_are_cluster_relations() {
    let mut c = fixture_stix("galaxies-objects-tlp2.json");
    let relationship = json!({
        "type": "relationship", "spec_version": "2.1",
        "id": "relationship--2b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6f",
        "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z",
        "relationship_type": "uses",
        "source_ref": "intrusion-set--51a0fb65-0f8d-5508-99e2-baf9407b4478",
        "target_ref": "malware--f86c31c6-dbf3-5702-875f-1b77eb97d644"
    });
    for o in c.objects.iter_mut() {
        if o["type"] == "grouping" || o["type"] == "report" {
            o["object_refs"]
                .as_array_mut()
                .unwrap()
                .push(relationship["id"].clone());
        }
    }
    c.objects.push(relationship);
    let exported = export_all(&c.objects);
    assert!(
        !exported
            .left_out
            .iter()
            .any(|(id, _)| id.starts_with("relationship--2b8c7d6e")),
        "{:?}",
        exported.left_out
    );
    let clusters = clusters_of(&exported.events[0]["Event"]);
    let (_, apt1) = clusters
        .iter()
        .find(|(_, c)| c["uuid"] == "51a0fb65-0f8d-5508-99e2-baf9407b4478")
        .unwrap();
    assert_eq!(
        apt1["GalaxyClusterRelation"],
        json!([{
            "referenced_galaxy_cluster_uuid": "f86c31c6-dbf3-5702-875f-1b77eb97d644",
            "referenced_galaxy_cluster_type": "uses",
            "galaxy_cluster_uuid": "51a0fb65-0f8d-5508-99e2-baf9407b4478"
        }])
    );
}

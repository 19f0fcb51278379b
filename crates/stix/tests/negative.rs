//! One broken object per validation rule: the rejection must name the rule
//! (by code) and the property. The last test checks that every rule is covered.

use std::collections::BTreeSet;

use accord_stix::{parse_object, parse_object_with, ParseOptions, Rule};
use serde_json::{json, Map, Value};

const UUID: &str = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const TS: &str = "2016-04-06T20:03:48.000Z";

/// A valid object of `ty` with `extra` merged in (`null` removes a property).
fn obj(ty: &str, extra: Value) -> String {
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    let kind = accord_stix::types::kind_of(ty);
    if kind != accord_stix::ObjectKind::Sco {
        m.insert("spec_version".into(), json!("2.1"));
    }
    m.insert("id".into(), json!(format!("{ty}--{UUID}")));
    if kind != accord_stix::ObjectKind::Sco {
        m.insert("created".into(), json!(TS));
        m.insert("modified".into(), json!(TS));
    }
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        if v.is_null() {
            m.remove(&k);
        } else {
            m.insert(k, v);
        }
    }
    Value::Object(m).to_string()
}

/// A valid indicator with `extra` merged in.
fn indicator(extra: Value) -> String {
    let mut base = json!({"pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix", "valid_from": TS});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        base[k] = v;
    }
    obj("indicator", base)
}

/// Each case: the object text, the rule and property its rejection must name.
fn cases() -> Vec<(String, Rule, &'static str)> {
    let big = format!(
        "{{\"type\":\"x-big\",\"x_pad\":\"{}\"}}",
        "a".repeat(accord_stix::MAX_OBJECT_BYTES)
    );
    vec![
        ("{\"type\": \"indicator\",}".into(), Rule::JsonSyntax, ""),
        (
            format!("{}{}", "[".repeat(100), "]".repeat(100)),
            Rule::NestingTooDeep,
            "",
        ),
        (big, Rule::ObjectTooLarge, ""),
        (
            r#"{"type":"x-a","id":"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","x_q":1,"x_q":2}"#
                .into(),
            Rule::DuplicateProperty,
            "x_q",
        ),
        ("[1,2]".into(), Rule::NotAnObject, ""),
        (
            obj("attack-pattern", json!({})),
            Rule::RequiredProperty,
            "name",
        ),
        (
            obj("attack-pattern", json!({"name": "x", "created": null})),
            Rule::RequiredProperty,
            "created",
        ),
        (
            obj("attack-pattern", json!({"name": 5})),
            Rule::ValueType,
            "name",
        ),
        (
            obj("attack-pattern", json!({"name": "x", "x_null": null}))
                .replace("\"name\"", "\"x_n\":null,\"name\""),
            Rule::NullValue,
            "x_n",
        ),
        (
            obj("attack-pattern", json!({"name": "x", "aliases": []})),
            Rule::EmptyList,
            "aliases",
        ),
        (
            obj("attack-pattern", json!({"name": "x", "X_Bad": 1})),
            Rule::PropertyName,
            "X_Bad",
        ),
        (
            obj("attack-pattern", json!({"name": "x", "severity": "high"})),
            Rule::ReservedProperty,
            "severity",
        ),
        (
            obj("file", json!({"name": "a", "hashes": {"SHA 256": "ab"}})),
            Rule::DictionaryKey,
            "hashes.SHA 256",
        ),
        (obj("x-A", json!({})), Rule::TypeName, "type"),
        (obj("bundle", json!({})), Rule::TypeName, "type"),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "id": "attack-pattern--1234"}),
            ),
            Rule::IdentifierFormat,
            "id",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "id": format!("malware--{UUID}")}),
            ),
            Rule::IdentifierTypeMismatch,
            "id",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "created_by_ref": format!("malware--{UUID}")}),
            ),
            Rule::ReferenceType,
            "created_by_ref",
        ),
        (
            obj(
                "process",
                json!({"pid": 1, "id": "process--4f6b1b4c-2a63-5d4e-8a3b-1f1e1d1c1b1a"}),
            ),
            Rule::UuidVersion,
            "id",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "created": "2016-04-06 20:03:48.000Z"}),
            ),
            Rule::TimestampFormat,
            "created",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "created": "2016-02-30T20:03:48.000Z"}),
            ),
            Rule::TimestampFormat,
            "created",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "modified": "2016-04-06T20:03:48Z"}),
            ),
            Rule::TimestampPrecision,
            "modified",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "modified": "2016-04-06T20:03:47.000Z"}),
            ),
            Rule::ModifiedBeforeCreated,
            "modified",
        ),
        (
            indicator(json!({"valid_until": TS})),
            Rule::ValidUntilNotAfterValidFrom,
            "valid_until",
        ),
        (
            obj(
                "campaign",
                json!({"name": "c", "first_seen": TS, "last_seen": "2015-01-01T00:00:00Z"}),
            ),
            Rule::LastSeenBeforeFirstSeen,
            "last_seen",
        ),
        (
            obj(
                "sighting",
                json!({"sighting_of_ref": format!("indicator--{UUID}"), "first_seen": TS, "last_seen": "2015-01-01T00:00:00Z"}),
            ),
            Rule::LastSeenBeforeFirstSeen,
            "last_seen",
        ),
        (
            obj(
                "observed-data",
                json!({"first_observed": TS, "last_observed": "2015-01-01T00:00:00Z", "number_observed": 1, "object_refs": [format!("ipv4-addr--{UUID}")]}),
            ),
            Rule::LastObservedBeforeFirstObserved,
            "last_observed",
        ),
        (
            obj(
                "relationship",
                json!({"relationship_type": "uses", "source_ref": format!("malware--{UUID}"), "target_ref": format!("tool--{UUID}"), "start_time": TS, "stop_time": TS}),
            ),
            Rule::StopTimeNotAfterStartTime,
            "stop_time",
        ),
        (
            obj(
                "network-traffic",
                json!({"protocols": ["tcp"], "src_ref": format!("ipv4-addr--{UUID}"), "start": TS, "end": "2015-01-01T00:00:00Z"}),
            ),
            Rule::EndBeforeStart,
            "end",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "spec_version": "2.0"}),
            ),
            Rule::SpecVersion,
            "spec_version",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "object_marking_refs": [format!("identity--{UUID}")]}),
            ),
            Rule::MarkingReference,
            "object_marking_refs[0]",
        ),
        (
            obj(
                "marking-definition",
                json!({"modified": null, "definition_type": "statement", "definition": {"statement": "c"}, "object_marking_refs": [format!("marking-definition--{UUID}")]}),
            ),
            Rule::MarkingReference,
            "object_marking_refs[0]",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "granular_markings": [{"selectors": ["name"]}]}),
            ),
            Rule::GranularMarking,
            "granular_markings[0]",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "granular_markings": [{"selectors": ["name"], "lang": "en", "marking_ref": accord_stix::types::tlp::RED}]}),
            ),
            Rule::GranularMarking,
            "granular_markings[0]",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "granular_markings": [{"selectors": ["name", "description"], "marking_ref": accord_stix::types::tlp::RED}]}),
            ),
            Rule::GranularMarkingSelector,
            "granular_markings[0].selectors[1]",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "aliases": ["a"], "granular_markings": [{"selectors": ["aliases.[1]"], "marking_ref": accord_stix::types::tlp::RED}]}),
            ),
            Rule::GranularMarkingSelector,
            "granular_markings[0].selectors[0]",
        ),
        (
            obj(
                "marking-definition",
                json!({"modified": null, "id": accord_stix::types::tlp::RED, "name": "TLP:RED", "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "amber"}}),
            ),
            Rule::TlpMarking,
            "definition.tlp",
        ),
        (
            obj("attack-pattern", json!({"name": "x", "confidence": 101})),
            Rule::ConfidenceRange,
            "confidence",
        ),
        (
            obj(
                "network-traffic",
                json!({"protocols": ["tcp"], "src_ref": format!("ipv4-addr--{UUID}"), "src_port": 70000}),
            ),
            Rule::ValueRange,
            "src_port",
        ),
        (
            obj(
                "opinion",
                json!({"opinion": "maybe", "object_refs": [format!("report--{UUID}")]}),
            ),
            Rule::EnumValue,
            "opinion",
        ),
        (
            obj(
                "network-traffic",
                json!({"protocols": ["tcp"], "src_ref": format!("ipv4-addr--{UUID}"), "extensions": {"socket-ext": {"address_family": "AF_UNIX"}}}),
            ),
            Rule::EnumValue,
            "extensions.socket-ext.address_family",
        ),
        (obj("file", json!({"size": 3})), Rule::AtLeastOneOf, ""),
        (
            obj("location", json!({"city": "Lyon"})),
            Rule::AtLeastOneOf,
            "",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "external_references": [{"source_name": "s"}]}),
            ),
            Rule::AtLeastOneOf,
            "external_references[0]",
        ),
        (
            obj(
                "artifact",
                json!({"payload_bin": "aGk=", "url": "https://example.com/a", "hashes": {"MD5": "0".repeat(32)}}),
            ),
            Rule::PropertyConflict,
            "url",
        ),
        (
            obj("email-message", json!({"is_multipart": true, "body": "hi"})),
            Rule::PropertyConflict,
            "body",
        ),
        (
            obj(
                "network-traffic",
                json!({"protocols": ["tcp"], "src_ref": format!("ipv4-addr--{UUID}"), "is_active": true, "end": TS}),
            ),
            Rule::PropertyConflict,
            "end",
        ),
        (
            obj("location", json!({"latitude": 45.0})),
            Rule::PropertyDependency,
            "latitude",
        ),
        (
            obj("artifact", json!({"url": "https://example.com/a"})),
            Rule::PropertyDependency,
            "hashes",
        ),
        (
            obj("ipv4-addr", json!({"value": "198.51.100.300"})),
            Rule::Ipv4Address,
            "value",
        ),
        (
            obj("ipv4-addr", json!({"value": "198.51.100.0/33"})),
            Rule::Ipv4Address,
            "value",
        ),
        (
            obj("ipv6-addr", json!({"value": "2001:db8::g"})),
            Rule::Ipv6Address,
            "value",
        ),
        (
            obj("mac-addr", json!({"value": "00:0A:ff:12:34:56"})),
            Rule::MacAddress,
            "value",
        ),
        (
            obj("email-addr", json!({"value": "no at sign"})),
            Rule::EmailAddress,
            "value",
        ),
        (
            obj("domain-name", json!({"value": "exa mple.com"})),
            Rule::DomainName,
            "value",
        ),
        (
            obj("url", json!({"value": "not a url"})),
            Rule::UrlFormat,
            "value",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "external_references": [{"source_name": "s", "url": "www example"}]}),
            ),
            Rule::UrlFormat,
            "external_references[0].url",
        ),
        (
            obj("file", json!({"hashes": {"SHA-256": "abc"}})),
            Rule::HashLength,
            "hashes.SHA-256",
        ),
        (
            obj("file", json!({"hashes": {"MD5": "z".repeat(32)}})),
            Rule::HashLength,
            "hashes.MD5",
        ),
        (
            obj("artifact", json!({"payload_bin": "not base64!"})),
            Rule::BinaryFormat,
            "payload_bin",
        ),
        (
            obj("attack-pattern", json!({"name": "x", "x_data_bin": "***"})),
            Rule::BinaryFormat,
            "x_data_bin",
        ),
        (
            obj("file", json!({"name": "a", "magic_number_hex": "abc"})),
            Rule::HexFormat,
            "magic_number_hex",
        ),
        (
            obj(
                "attack-pattern",
                json!({"name": "x", "lang": "english please"}),
            ),
            Rule::LanguageTag,
            "lang",
        ),
        (
            obj(
                "software",
                json!({"name": "w", "cpe": "cpe:/a:microsoft:word"}),
            ),
            Rule::CpeFormat,
            "cpe",
        ),
        (
            obj(
                "artifact",
                json!({"payload_bin": "aGk=", "mime_type": "exe"}),
            ),
            Rule::MimeType,
            "mime_type",
        ),
        (
            obj("directory", json!({"path": "/tmp", "path_enc": "utf 8"})),
            Rule::CharacterSet,
            "path_enc",
        ),
        (
            obj(
                "file",
                json!({"name": "a", "extensions": {"bogus": {"a": 1}}}),
            ),
            Rule::ExtensionKey,
            "extensions.bogus",
        ),
        (
            obj(
                "relationship",
                json!({"relationship_type": "Uses It", "source_ref": format!("malware--{UUID}"), "target_ref": format!("tool--{UUID}")}),
            ),
            Rule::RelationshipType,
            "relationship_type",
        ),
        (
            obj(
                "vulnerability",
                json!({"name": "v", "external_references": [{"source_name": "cve", "external_id": "CVE-16-1"}]}),
            ),
            Rule::ExternalId,
            "external_references[0].external_id",
        ),
        (
            obj("windows-registry-key", json!({"key": "HKLM\\Software"})),
            Rule::RegistryKeyHive,
            "key",
        ),
        (
            obj(
                "observed-data",
                json!({"first_observed": TS, "last_observed": TS, "number_observed": 1, "objects": {"0": {"type": "network-traffic", "src_ref": "1", "protocols": ["tcp"]}}}),
            ),
            Rule::ObservableReference,
            "objects.0.src_ref",
        ),
        (
            obj(
                "observed-data",
                json!({"first_observed": TS, "last_observed": TS, "number_observed": 1, "objects": {
                "0": {"type": "network-traffic", "src_ref": "1", "protocols": ["tcp"]},
                "1": {"type": "file", "name": "a"}}}),
            ),
            Rule::ReferenceType,
            "objects.0.src_ref",
        ),
        (
            obj(
                "observed-data",
                json!({"first_observed": TS, "last_observed": TS, "number_observed": 1, "objects": {
                "0": {"type": "ipv4-addr", "value": "1.2.3.999"}}}),
            ),
            Rule::Ipv4Address,
            "objects.0.value",
        ),
    ]
}

#[test]
fn each_broken_object_names_rule_and_property() {
    // scripts/interop-stix sets this to run the same objects through stix2-validator.
    if let Ok(path) = std::env::var("ACCORD_STIX_DUMP_INVALID") {
        let lines: Vec<String> = cases()
            .iter()
            .filter(|c| c.0.len() < 100_000)
            .map(|(text, rule, property)| {
                json!({"rule": rule.code(), "property": property, "text": text}).to_string()
            })
            .collect();
        std::fs::write(path, lines.join("\n")).unwrap();
    }
    for (text, rule, property) in cases() {
        let rejection = match parse_object(&text) {
            Ok(_) => panic!(
                "accepted, expected {rule}: {}",
                &text[..text.len().min(300)]
            ),
            Err(r) => r,
        };
        assert!(
            rejection.has(rule, property),
            "expected [{}] at '{property}', got {rejection}\n  object: {}",
            rule.code(),
            &text[..text.len().min(300)]
        );
        assert!(rejection.to_string().contains(rule.code()));
    }
}

/// A pattern checker standing in for the patterning crate.
fn reject_all_but_brackets(_ty: &str, pattern: &str, _v: Option<&str>) -> Result<(), String> {
    if pattern.starts_with('[') && pattern.ends_with(']') {
        Ok(())
    } else {
        Err("a pattern must be an observation expression in brackets".into())
    }
}

#[test]
fn pattern_checker_is_applied() {
    let opts = ParseOptions {
        pattern_checker: Some(reject_all_but_brackets),
        ..Default::default()
    };
    let good = indicator(json!({}));
    assert!(parse_object_with(&good, &opts).is_ok());
    let bad = indicator(json!({"pattern": "ipv4-addr:value = '1'"}));
    assert!(parse_object_with(&bad, &opts)
        .unwrap_err()
        .has(Rule::PatternSyntax, "pattern"));
    // Without a checker the pattern is not judged here.
    assert!(parse_object(&bad).is_ok());
}

#[test]
fn every_rule_has_a_negative_test() {
    let mut covered: BTreeSet<Rule> = cases().into_iter().map(|c| c.1).collect();
    covered.insert(Rule::PatternSyntax);
    let missing: Vec<_> = Rule::ALL
        .iter()
        .filter(|r| !covered.contains(r))
        .map(|r| r.code())
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a negative test: {missing:?}"
    );
}

#[test]
fn all_errors_are_reported_together() {
    let text = obj(
        "attack-pattern",
        json!({"confidence": 500, "lang": "??", "modified": "2000-01-01T00:00:00.000Z"}),
    );
    let r = parse_object(&text).unwrap_err();
    for (rule, prop) in [
        (Rule::RequiredProperty, "name"),
        (Rule::ConfidenceRange, "confidence"),
        (Rule::LanguageTag, "lang"),
        (Rule::ModifiedBeforeCreated, "modified"),
    ] {
        assert!(r.has(rule, prop), "{rule} {prop}: {r}");
    }
    assert_eq!(
        r.object_id.as_deref(),
        Some(format!("attack-pattern--{UUID}").as_str())
    );
}

/// One valid object of every type of the catalogue.
fn valid_objects() -> Vec<String> {
    let r = |t: &str| format!("{t}--{UUID}");
    vec![
        obj(
            "attack-pattern",
            json!({"name": "x", "kill_chain_phases": [{"kill_chain_name": "k", "phase_name": "p"}]}),
        ),
        obj(
            "campaign",
            json!({"name": "c", "first_seen": TS, "last_seen": TS}),
        ),
        obj("course-of-action", json!({"name": "c"})),
        obj(
            "grouping",
            json!({"context": "suspicious-activity", "object_refs": [r("indicator")]}),
        ),
        obj(
            "identity",
            json!({"name": "ACME", "identity_class": "organization", "sectors": ["technology"]}),
        ),
        obj("incident", json!({"name": "i"})),
        indicator(
            json!({"valid_until": "2017-01-01T00:00:00Z", "indicator_types": ["malicious-activity"]}),
        ),
        obj(
            "infrastructure",
            json!({"name": "c2", "infrastructure_types": ["command-and-control"]}),
        ),
        obj(
            "intrusion-set",
            json!({"name": "APT", "aliases": ["a"], "first_seen": TS}),
        ),
        obj(
            "location",
            json!({"latitude": 48.8, "longitude": 2.3, "precision": 10.5}),
        ),
        obj(
            "malware",
            json!({"is_family": true, "name": "m", "sample_refs": [r("file")]}),
        ),
        obj(
            "malware-analysis",
            json!({"product": "p", "result": "malicious", "sample_ref": r("file")}),
        ),
        obj(
            "note",
            json!({"content": "c", "object_refs": [r("indicator")]}),
        ),
        obj(
            "observed-data",
            json!({"first_observed": TS, "last_observed": TS, "number_observed": 1, "object_refs": [r("ipv4-addr")]}),
        ),
        obj(
            "opinion",
            json!({"opinion": "agree", "object_refs": [r("report")]}),
        ),
        obj(
            "report",
            json!({"name": "r", "published": TS, "object_refs": [r("indicator")]}),
        ),
        obj(
            "threat-actor",
            json!({"name": "t", "threat_actor_types": ["crime-syndicate"]}),
        ),
        obj("tool", json!({"name": "t"})),
        obj(
            "vulnerability",
            json!({"name": "CVE-2016-1234", "external_references": [{"source_name": "cve", "external_id": "CVE-2016-1234"}]}),
        ),
        obj(
            "relationship",
            json!({"relationship_type": "uses", "source_ref": r("malware"), "target_ref": r("tool"), "start_time": TS, "stop_time": "2017-01-01T00:00:00Z"}),
        ),
        obj(
            "sighting",
            json!({"sighting_of_ref": r("indicator"), "count": 3, "where_sighted_refs": [r("identity")], "observed_data_refs": [r("observed-data")]}),
        ),
        obj(
            "artifact",
            json!({"url": "https://example.com/a.bin", "hashes": {"SHA-256": "a".repeat(64)}}),
        ),
        obj(
            "autonomous-system",
            json!({"number": 15139, "name": "Slime"}),
        ),
        obj(
            "directory",
            json!({"path": "C:\\Windows", "path_enc": "UTF-8"}),
        ),
        obj(
            "domain-name",
            json!({"value": "example.com", "resolves_to_refs": [r("ipv4-addr")]}),
        ),
        obj(
            "email-addr",
            json!({"value": "john@example.com", "display_name": "John"}),
        ),
        obj(
            "email-message",
            json!({"is_multipart": true, "body_multipart": [{"body": "x"}]}),
        ),
        obj(
            "file",
            json!({"name": "a.exe", "hashes": {"SHA-256": "a".repeat(64)}, "extensions": {"windows-pebinary-ext": {"pe_type": "exe", "time_date_stamp": "2016-01-01T00:00:00Z"}}}),
        ),
        obj("ipv4-addr", json!({"value": "198.51.100.0/24"})),
        obj("ipv6-addr", json!({"value": "2001:db8::/32"})),
        obj("mac-addr", json!({"value": "d2:fb:49:24:37:18"})),
        obj("mutex", json!({"name": "__CLEANSWEEP__"})),
        obj(
            "network-traffic",
            json!({"protocols": ["ipv4", "tcp"], "dst_ref": r("ipv4-addr"), "dst_port": 443, "extensions": {"tcp-ext": {"src_flags_hex": "00"}}}),
        ),
        obj(
            "network-traffic",
            json!({"protocols": ["ipv6", "tcp"], "dst_ref": r("ipv6-addr"), "extensions": {"socket-ext": {"address_family": "AF_INET6", "socket_type": "SOCK_SEQPACKET"}}}),
        ),
        obj("process", json!({"pid": 1221, "command_line": "a.exe -x"})),
        obj(
            "software",
            json!({"name": "Word", "cpe": "cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*", "languages": ["en"]}),
        ),
        obj(
            "url",
            json!({"value": "https://example.com/research/index.html"}),
        ),
        obj(
            "user-account",
            json!({"user_id": "1001", "extensions": {"unix-account-ext": {"gid": 1001}}}),
        ),
        obj(
            "windows-registry-key",
            json!({"key": "HKEY_LOCAL_MACHINE\\System", "values": [{"name": "Foo", "data": "qwerty", "data_type": "REG_SZ"}]}),
        ),
        obj(
            "x509-certificate",
            json!({"serial_number": "01", "validity_not_before": TS}),
        ),
        obj(
            "language-content",
            json!({"object_ref": r("indicator"), "contents": {"de": {"name": "Der Name"}}}),
        ),
        obj(
            "extension-definition",
            json!({"created_by_ref": r("identity"), "name": "e", "schema": "s", "version": "1", "extension_types": ["property-extension"]}),
        ),
        obj(
            "marking-definition",
            json!({"modified": null, "id": accord_stix::types::tlp::WHITE, "name": "TLP:WHITE", "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "white"}}),
        ),
        obj(
            "marking-definition",
            json!({"modified": null, "definition_type": "statement", "definition": {"statement": "Copyright ACME"}}),
        ),
        obj(
            "x-acme-widget",
            json!({"x_acme_size": 3, "anything": [1, {"nested": true}]}),
        ),
        obj(
            "attack-pattern",
            json!({"name": "x", "extensions": {format!("extension-definition--{UUID}"): {"extension_type": "property-extension", "rank": 5}}}),
        ),
    ]
}

#[test]
fn valid_objects_of_every_type_pass() {
    let mut types = BTreeSet::new();
    // scripts/interop-stix sets this to check the same objects with stix2-validator.
    if let Ok(path) = std::env::var("ACCORD_STIX_DUMP_VALID") {
        let objects: Vec<Value> = valid_objects()
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect();
        let bundle = json!({"type": "bundle", "id": format!("bundle--{UUID}"), "objects": objects});
        std::fs::write(path, bundle.to_string()).unwrap();
    }
    for text in valid_objects() {
        match parse_object(&text) {
            Ok(o) => {
                types.insert(o.object_type);
            }
            Err(e) => panic!("{e}\n  object: {text}"),
        }
    }
    for t in accord_stix::types::TYPES {
        assert!(types.contains(t.name), "no valid example of {}", t.name);
    }
}

//! Fuzz the pattern language end to end: parse, semantic checks, canonical
//! text round trip, compilation and evaluation against a fixed observation.
#![no_main]

use std::sync::OnceLock;

use accord_patterns::{check, parse, CompiledPattern, ObservedData};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn observations() -> &'static Value {
    static OBS: OnceLock<Value> = OnceLock::new();
    OBS.get_or_init(|| {
        json!([{"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "observed-data", "id": "observed-data--1", "number_observed": 3,
             "first_observed": "2016-06-01T00:00:00Z", "last_observed": "2016-06-01T00:01:00Z",
             "object_refs": ["file--1", "ipv4-addr--1", "network-traffic--1"]},
            {"type": "file", "id": "file--1", "name": "a.exe", "size": 1024, "magic_number_hex": "ffd8",
             "hashes": {"MD5": "cead3f77f6cda6ec00f57d76c9a6879f"}},
            {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "10.1.2.3"},
            {"type": "network-traffic", "id": "network-traffic--1", "dst_port": 443,
             "protocols": ["ipv4", "tcp"], "dst_ref": "ipv4-addr--1", "start": "2016-06-01T00:00:30Z"}
        ]}])
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let checked = check(src);
    let Some(pattern) = checked.pattern else { return };
    let text = pattern.to_string();
    let reparsed = parse(&text).expect("canonical text parses");
    assert_eq!(reparsed.to_string(), text);
    let _ = accord_patterns::atoms::atoms(&pattern);
    if let Ok(compiled) = CompiledPattern::new(&pattern, src) {
        let obs = ObservedData::from_json(observations()).expect("fixed observations");
        let _ = compiled.matches(&obs);
    }
});

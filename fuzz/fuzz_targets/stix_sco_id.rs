//! Fuzz deterministic SCO ids and RFC 8785 canonicalisation on arbitrary JSON:
//! no panic, and the canonical text is JSON whose canonical form is itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let canonical = accord_stix::canonical_json(&value);
    let back: serde_json::Value = serde_json::from_str(&canonical).expect("canonical text is JSON");
    // Canonicalising is idempotent.
    assert_eq!(accord_stix::canonical_json(&back), canonical);
    if let serde_json::Value::Object(map) = &value {
        let _ = accord_stix::sco_id(map);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = accord_stix::Timestamp::parse(s);
        let _ = accord_stix::Identifier::parse(s);
    }
});

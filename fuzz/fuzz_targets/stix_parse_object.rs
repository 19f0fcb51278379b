//! Fuzz the object parser and validator: any text gives an object or a
//! rejection, never a panic; an accepted object's JSON equals the input as a
//! JSON value, and parsing that JSON again gives the same object.
#![no_main]

use accord_stix::{parse_object, parse_object_with, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let fill = ParseOptions { fill_sco_ids: true, ..Default::default() };
    let _ = parse_object_with(text, &fill);
    match parse_object(text) {
        Ok(obj) => {
            let input: serde_json::Value = serde_json::from_str(text).expect("accepted text is JSON");
            let kept: serde_json::Value = serde_json::from_str(&obj.json).expect("kept text is JSON");
            assert_eq!(input, kept);
            assert_eq!(parse_object(&obj.json).expect("kept text validates"), obj);
        }
        Err(rejection) => {
            assert!(!rejection.errors.is_empty());
            let _ = rejection.to_string();
        }
    }
    let _ = accord_stix::minify_json(text);
});

//! Fuzz the streaming bundle reader (then the object parser on each object):
//! no input makes it panic or loop, and it stops after a fatal error.
#![no_main]

use accord_stix::{parse_object, BundleReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fatal = false;
    for item in BundleReader::new(data) {
        assert!(!fatal, "no item after a fatal error");
        match item {
            Ok(raw) => {
                let _ = parse_object(&raw.text);
            }
            Err(e) => fatal = e.is_fatal(),
        }
    }
});

//! Agreement files: any text is either refused with an error or yields an
//! agreement whose derived outputs can be built.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match accord_agreements::Agreement::from_toml(text) {
        Ok(a) => {
            let _ = a.obligations_marking();
            let _ = a.key_source();
            assert!(a.valid_until().is_none_or(|u| u > a.valid_from()));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

//! The IP literal scanner: spans are in bounds, on character boundaries and in
//! order; after pseudonymisation no customer address literal is left.
#![no_main]

use accord_agreements::ipscan::scan;
use accord_agreements::{pseudonymise_text, AddressRanges, PseudonymKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut last_end = 0;
    for literal in scan(text) {
        let (start, end) = literal.span;
        assert!(start >= last_end && start < end && end <= text.len());
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        last_end = end;
    }
    let ranges = AddressRanges::new(["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]);
    let key = PseudonymKey::from_bytes(&[1; 32]).unwrap();
    if let Ok(Some(out)) = pseudonymise_text(text, &ranges, &key) {
        for literal in scan(&out) {
            assert!(
                literal.has_prefix || !ranges.contains_addr(literal.net.addr()),
                "customer address {} left in {out:?}",
                literal.net
            );
        }
    }
});

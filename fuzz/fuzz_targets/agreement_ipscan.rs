//! The address scanner against the slow reference one: every customer address the
//! reference reads, the fast scanner reads too; spans are in bounds and on character
//! boundaries; after pseudonymisation neither scanner finds a customer address.
#![no_main]

use accord_agreements::ipscan::{reference, scan};
use accord_agreements::{pseudonymise_text, AddressRanges, PseudonymKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The reference tries every substring: keep inputs short.
    if text.len() > 400 {
        return;
    }
    let ranges = AddressRanges::new([
        "198.51.100.0/24".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ]);
    let literals = scan(text);
    for l in &literals {
        assert!(l.span.0 < l.addr_end && l.addr_end <= l.span.1 && l.span.1 <= text.len());
        assert!(text.is_char_boundary(l.span.0) && text.is_char_boundary(l.addr_end));
    }
    let fast: Vec<_> = literals
        .iter()
        .filter(|l| !l.is_network())
        .map(|l| l.net.addr())
        .collect();
    for addr in reference::addresses(text) {
        if ranges.contains_addr(addr) {
            assert!(fast.contains(&addr), "{addr} read by the reference only in {text:?}");
        }
    }
    let key = PseudonymKey::from_bytes(&[1; 32]).unwrap();
    if let Ok(Some(out)) = pseudonymise_text(text, &ranges, &key) {
        for l in scan(&out) {
            assert!(
                l.is_network() || !ranges.contains_addr(l.net.addr()),
                "customer address {} left in {out:?}",
                l.net
            );
        }
        for addr in reference::addresses(&out) {
            assert!(!ranges.contains_addr(addr), "{addr} left in {out:?}");
        }
    }
});

//! Encoded ledgers: decoding never panics, and a decoded chain encodes back to
//! the same bytes (the encoding is canonical).
#![no_main]

use accord_agreements::ledger::{decode_chain, encode_chain, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = decode_chain(data) {
        assert_eq!(encode_chain(&entries), data);
        let _ = verify(&entries);
    }
});

//! A signed bundle's JWS (`accord ingest --verify-with`): any text over any payload is
//! refused or verified without a panic, and only the one trusted key's own signature
//! over these exact bytes verifies.
#![no_main]

use accord_agreements::jws::{sign_detached, verify_detached};
use accord_agreements::transparency::LedgerSigner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let signer = LedgerSigner::from_seed(&[7; 32]);
    let split = data.first().map_or(0, |n| usize::from(*n)).min(data.len());
    let (jws, payload) = data.split_at(split);
    let jws = String::from_utf8_lossy(jws);
    if verify_detached(&jws, payload, &[signer.public_key()]).is_ok() {
        assert_eq!(jws.trim(), sign_detached(&signer, payload), "a foreign JWS verified");
    }
    let own = sign_detached(&signer, payload);
    assert!(verify_detached(&own, payload, &[signer.public_key()]).is_ok());
});

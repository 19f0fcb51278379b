//! Ledger proofs and receipts as a partner or an auditor receives them: reading and
//! verifying any JSON never panics, and a proof that verifies under a fixed key has a
//! head signed by that key (no input makes a forged head pass).
#![no_main]

use accord_agreements::transparency::{LedgerProof, LedgerSigner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let key = LedgerSigner::from_seed(&[0x42; 32]).public_key();
    if let Ok(proof) = LedgerProof::from_json(&value) {
        if proof.verify(&key).is_ok() {
            assert!(proof.signed_head.verify(&key).is_ok());
        }
        let _ = LedgerProof::from_json(&proof.to_json());
    }
});

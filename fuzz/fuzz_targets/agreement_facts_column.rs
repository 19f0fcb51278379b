//! The facts column (binary format 2, or format 1 JSON from earlier builds): anything
//! is refused or read, and what is read round-trips through the current format.
#![no_main]

use accord_agreements::ObjectFacts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(facts) = ObjectFacts::from_column(data) {
        let again = ObjectFacts::from_column(&facts.to_column()).expect("own column must read back");
        assert_eq!(again, facts);
    }
});

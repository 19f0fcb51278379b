//! The facts column: anything is refused or read, and what is read round-trips.
#![no_main]

use accord_agreements::ObjectFacts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(facts) = ObjectFacts::from_column(text) {
        let again = ObjectFacts::from_column(&facts.to_column()).expect("own column must read back");
        assert_eq!(again, facts);
    }
});

//! Fuzz the TAXII URL parameters a client sends (`added_after`, `limit`, `next`,
//! `match[...]`): any query string gets a query or a 400, never a panic, for every
//! endpoint's set of admitted parameters.
#![no_main]

use accord_server::params::{parse, Allowed, PageLimits};
use accord_store::{Scope, VersionFilter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let limits = PageLimits {
        default: 100,
        max: 1000,
    };
    for allowed in [Allowed::ALL, Allowed::OBJECT, Allowed::VERSIONS, Allowed::DELETE] {
        let scope = Scope::Collection("c".into());
        if let Ok(query) = parse(Some(raw), allowed, scope, VersionFilter::last(), limits) {
            assert!(query.query.limit <= limits.max);
        }
    }
});

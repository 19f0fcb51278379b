//! Integration tests of accord-match (one binary).

mod aggregation;
mod compile;
mod fallback;
mod props;
mod telemetry;

use accord_match::IndicatorInput;

/// The observer identity of the tests.
pub const OBSERVER: &str = "identity--00000000-0000-4000-8000-0000000000aa";

/// An indicator valid forever.
pub fn ind(n: u32, pattern: &str) -> IndicatorInput {
    IndicatorInput {
        id: format!("indicator--00000000-0000-4000-8000-{n:012}"),
        pattern: pattern.to_string(),
        valid_from: 0,
        valid_until: None,
        revoked: false,
        modified: 0,
    }
}

/// Path of a fixture under the workspace's `fixtures/telemetry/`.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/telemetry")
        .join(rel)
}

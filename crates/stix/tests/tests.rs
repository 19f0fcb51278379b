//! Integration tests of accord-stix (one binary).

mod bundle_reader;
mod fixtures;
mod negative;
mod robustness;
mod sco_ids;

/// Path of a file under the workspace's `fixtures/stix/`.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/stix")
        .join(rel)
}

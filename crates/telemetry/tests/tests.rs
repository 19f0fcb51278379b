//! Integration tests of accord-telemetry (one binary).

mod formats;
mod netflow;
mod props;
mod stratosphere;

use std::path::PathBuf;

/// Path of a fixture under the workspace's `fixtures/telemetry/`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/telemetry")
        .join(rel)
}

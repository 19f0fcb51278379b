//! Opening inputs (files or standard input) and showing progress through them, for the
//! commands that stream large inputs (`ingest`, `match`).

use std::io::Read;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

/// Inputs at least this large get a progress bar.
pub const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// Open `path` for reading (`-` is standard input), with its size when known.
pub fn open_input(path: &Path) -> anyhow::Result<(Box<dyn Read + Send>, Option<u64>)> {
    Ok(accord_node::telemetry::open_input(path)?)
}

/// A progress bar in bytes for a large input, a spinner for standard input, nothing
/// when disabled or small. (indicatif draws only on a terminal.)
pub fn progress_bar(size: Option<u64>, enabled: bool) -> ProgressBar {
    match size {
        Some(bytes) if enabled && bytes >= PROGRESS_MIN_BYTES => {
            let bar = ProgressBar::new(bytes);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        None if enabled => ProgressBar::new_spinner(),
        _ => ProgressBar::hidden(),
    }
}

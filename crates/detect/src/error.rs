//! Errors of the detection crate.

/// What can go wrong configuring a detector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is invalid.
    #[error("{setting}: {message}")]
    Config {
        /// The setting at fault, e.g. `internal_cidrs`.
        setting: &'static str,
        /// A human sentence.
        message: String,
    },
}

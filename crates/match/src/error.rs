//! The one error type of accord-match.

/// What can go wrong when turning inputs into a detector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A timestamp is not in the STIX form `YYYY-MM-DDTHH:MM:SS[.s+]Z`.
    #[error("{object}: {property}: timestamp-format: `{value}` is not a STIX timestamp")]
    Timestamp {
        /// The object id (or `-` when unknown).
        object: String,
        /// The property, e.g. `valid_from`.
        property: &'static str,
        /// The offending text (shortened).
        value: String,
    },
    /// An indicator object lacks a property or has one of the wrong type.
    #[error("{object}: {property}: {rule}: {message}")]
    Indicator {
        /// The object id (or `-` when unknown).
        object: String,
        /// The property at fault.
        property: &'static str,
        /// A stable kebab-case rule code.
        rule: &'static str,
        /// A human sentence.
        message: String,
    },
    /// A configuration value (internal network, observer identity, window) is invalid.
    #[error("config: {setting}: {message}")]
    Config {
        /// The setting at fault, e.g. `internal_cidrs`.
        setting: &'static str,
        /// A human sentence.
        message: String,
    },
    /// A detection setting shared with the detectors (internal networks) is invalid.
    #[error("config: {0}")]
    Detect(#[from] accord_detect::Error),
}

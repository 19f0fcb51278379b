//! Why a name or a list line was refused.

/// A refusal: the input named is not a domain name this crate will look at, and why.
/// Every variant is a stable rule; `Display` gives a sentence an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Nothing left after trimming whitespace and the trailing dot (rule `empty`).
    #[error("empty: no domain name")]
    Empty,
    /// Longer than the limit, in bytes (rule `too-long`).
    #[error("too-long: {len} bytes, the limit is {max}")]
    TooLong {
        /// Length seen.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A label longer than 63 bytes (rule `label-too-long`).
    #[error("label-too-long: a label of {len} bytes, the limit is {max}")]
    LabelTooLong {
        /// Length seen.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More labels than a DNS name can have (rule `too-many-labels`).
    #[error("too-many-labels: {labels} labels, the limit is {max}")]
    TooManyLabels {
        /// Labels seen.
        labels: usize,
        /// The limit.
        max: usize,
    },
    /// Two dots in a row (rule `empty-label`).
    #[error("empty-label: two dots in a row")]
    EmptyLabel,
    /// A byte that is not a letter, digit, hyphen, underscore or dot (rule `invalid-char`).
    #[error("invalid-char: {ch:?} is not allowed in a host name")]
    InvalidChar {
        /// The character.
        ch: char,
    },
    /// IDNA (UTS #46) processing failed: invalid punycode, disallowed code point,
    /// bidi or hyphen rule (rule `idna`).
    #[error("idna: {detail}")]
    Idna {
        /// What the `idna` crate reported.
        detail: String,
    },
    /// A Public Suffix List file could not be read (rule `suffix-list`).
    #[error("suffix-list: {detail}")]
    SuffixList {
        /// The parser's message.
        detail: String,
    },
    /// A brand line is not a usable registrable domain (rule `brand`).
    #[error("brand {line:?}: {detail}")]
    Brand {
        /// The line.
        line: String,
        /// Why.
        detail: String,
    },
}

impl Refusal {
    /// The stable rule code (kebab-case).
    pub fn rule(&self) -> &'static str {
        match self {
            Refusal::Empty => "empty",
            Refusal::TooLong { .. } => "too-long",
            Refusal::LabelTooLong { .. } => "label-too-long",
            Refusal::TooManyLabels { .. } => "too-many-labels",
            Refusal::EmptyLabel => "empty-label",
            Refusal::InvalidChar { .. } => "invalid-char",
            Refusal::Idna { .. } => "idna",
            Refusal::SuffixList { .. } => "suffix-list",
            Refusal::Brand { .. } => "brand",
        }
    }
}

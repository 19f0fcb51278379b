//! The STIX 2.1 patterning language: parse, check and evaluate patterns.
//!
//! A pure library: no I/O, no clock. Input observations are
//! `serde_json::Value`s given by the caller.
//!
//! ```
//! use accord_patterns::{check, parse};
//!
//! let pattern = parse("[ipv4-addr:value ISSUBSET '198.51.100.0/24']")?;
//! assert_eq!(pattern.to_string(), "[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
//! assert!(check("[ipv4-addr:value ISSUBSET '198.51.100.0/24']").is_valid());
//! # Ok::<(), accord_patterns::ParseError>(())
//! ```
//!
//! # Layout
//! - [`lexer`]: text to tokens, with the longest-match rules of the OASIS
//!   ANTLR grammar (`STIXPattern.g4`).
//! - [`parser`]: tokens to the syntax tree, recursive descent, errors with
//!   position and expected tokens; the limits below.
//! - [`ast`]: the public syntax tree, with a canonical `Display`.
//! - [`semantic`]: [`check`]: errors as the OASIS validator reports them,
//!   and warnings against the specification and the STIX 2.1 vocabulary
//!   ([`vocab`]).
//! - [`atoms`]: recognises patterns that are a disjunction of single-object
//!   comparisons, for compiled (indexed) matching elsewhere.
//! - [`error`]: [`ParseError`], [`Diagnostic`], [`EvalError`].
//! - [`timestamp`]: timestamp literals and values (microsecond instants).
//! - [`codec`]: base64/hex decoding with Python `binascii` rules.
//! - [`eval`]: [`CompiledPattern`] and [`ObservedData`]: evaluation with the
//!   semantics of the OASIS `stix2-matcher`.
//!
//! - [`conformance`]: how agreement with the OASIS tools is tested, and the
//!   deliberate differences.
//!
//! # Limits
//! - [`MAX_PATTERN_LEN`]: longest pattern accepted (64 KiB).
//! - [`MAX_NESTING_DEPTH`]: deepest nesting of `(` and `[` (100).
//! - [`MAX_BINDING_STEPS`]: work allowed to search observation bindings
//!   per evaluation.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
pub mod atoms;
pub mod codec;
pub mod conformance;
pub mod error;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod semantic;
pub mod timestamp;
pub mod vocab;

pub use ast::Pattern;
pub use error::{Diagnostic, EvalError, ParseError, ParseErrorKind, Position, Severity, Span};
pub use eval::{CompiledPattern, ObservedData};
pub use parser::parse;
pub use semantic::{check, Check};
pub use timestamp::Timestamp;

/// The longest pattern accepted, in bytes (64 KiB).
///
/// Indicators carry patterns of a few hundred bytes; the limit bounds the
/// work a hostile producer can cause per pattern.
pub const MAX_PATTERN_LEN: usize = 64 * 1024;

/// The deepest nesting of parentheses and brackets accepted.
///
/// The parser recurses once per level; the limit keeps the stack bounded
/// (e.g. against `((((((...`).
pub const MAX_NESTING_DEPTH: usize = 100;

/// The most steps the search for a binding of observations may take in one
/// evaluation (each step tries one candidate observation or combination).
///
/// `REPEATS` and `AND` over many observations can make the search
/// combinatorial; past this limit evaluation fails with
/// [`EvalError::TooManyBindings`] instead of running unbounded.
pub const MAX_BINDING_STEPS: usize = 2_000_000;

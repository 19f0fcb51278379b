//! The STIX 2.1 patterning language: parse, check and evaluate patterns.
//!
//! A pure library: no I/O, no clock. Input observations are
//! `serde_json::Value`s given by the caller.
//!
//! ```
//! use accord_patterns::parse;
//!
//! let pattern = parse("[ipv4-addr:value ISSUBSET '198.51.100.0/24']")?;
//! assert_eq!(pattern.to_string(), "[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
//! # Ok::<(), accord_patterns::ParseError>(())
//! ```
//!
//! # Layout
//! - [`lexer`]: text to tokens, with the longest-match rules of the OASIS
//!   ANTLR grammar (`STIXPattern.g4`).
//! - [`parser`]: tokens to the syntax tree, recursive descent, errors with
//!   position and expected tokens; the limits below.
//! - [`ast`]: the public syntax tree, with a canonical `Display`.
//! - [`error`]: [`ParseError`], [`Diagnostic`], [`EvalError`].
//! - [`timestamp`]: timestamp literals and values (microsecond instants).
//! - [`codec`]: base64/hex decoding with Python `binascii` rules.
//!
//! # Limits
//! - [`MAX_PATTERN_LEN`]: longest pattern accepted (64 KiB).
//! - [`MAX_NESTING_DEPTH`]: deepest nesting of `(` and `[` (100).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
pub mod codec;
pub mod error;
pub mod lexer;
pub mod parser;
pub mod timestamp;

pub use ast::Pattern;
pub use error::{Diagnostic, EvalError, ParseError, ParseErrorKind, Position, Severity, Span};
pub use parser::parse;
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

//! Error and diagnostic types of the crate.
//!
//! Three kinds of failure exist, one type each:
//! - [`ParseError`]: the text is not a STIX 2.1 pattern (lexical or syntax
//!   error, or a limit exceeded). Carries the position and what was expected.
//! - [`Diagnostic`]: a finding of the semantic checks ([`crate::check`]),
//!   either an error (the OASIS `stix2-patterns` validator rejects the
//!   pattern too) or a warning (the specification or the STIX 2.1 vocabulary
//!   is not followed, but the OASIS validator accepts the pattern).
//! - [`EvalError`]: a pattern that parses but cannot be evaluated (e.g. an
//!   invalid regular expression), or observed-data that cannot be evaluated
//!   (e.g. a missing `first_observed`), mirroring the cases where the OASIS
//!   `stix2-matcher` raises an exception.

use std::fmt;

/// A position in the pattern text.
///
/// `offset` is a byte offset into the pattern; `line` and `column` are
/// 1-based and count Unicode scalar values, for messages meant for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Position {
    /// Byte offset from the start of the pattern.
    pub offset: usize,
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number (in characters), starting at 1.
    pub column: u32,
}

impl Position {
    /// Computes the position of byte `offset` in `text`.
    ///
    /// Offsets past the end (or inside a multi-byte character) are clamped to
    /// the nearest preceding character boundary.
    ///
    /// ```
    /// let p = accord_patterns::Position::of("[a:b = 'é'\n]x", 13);
    /// assert_eq!((p.line, p.column), (2, 2));
    /// ```
    pub fn of(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Position {
            offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A byte range `start..end` of the pattern text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// Creates a span from byte offsets.
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// What went wrong while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A token was found where the grammar does not allow it.
    Unexpected {
        /// The text of the token found (or `end of pattern`).
        found: String,
        /// What the grammar allows at this point, e.g. `["']'", "AND", "OR"]`.
        expected: Vec<&'static str>,
    },
    /// A character that starts no token of the grammar.
    InvalidCharacter(char),
    /// The pattern is longer than [`crate::MAX_PATTERN_LEN`] bytes.
    TooLong {
        /// The length of the rejected pattern in bytes.
        len: usize,
    },
    /// Parentheses or brackets nest deeper than [`crate::MAX_NESTING_DEPTH`].
    TooDeep,
    /// The pattern is empty (or only whitespace and comments).
    Empty,
}

/// A pattern that is not valid STIX 2.1 patterning syntax.
///
/// ```
/// let err = accord_patterns::parse("[file:size = ]").unwrap_err();
/// assert_eq!(err.position.column, 14);
/// assert!(err.to_string().contains("expected a literal"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {position}")]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Where it went wrong.
    pub position: Position,
    /// The byte range of the offending token.
    pub span: Span,
    /// A sentence for people, without the position.
    pub message: String,
}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Not followed by the specification or vocabulary, but accepted by the
    /// OASIS validator; the pattern is still valid.
    Warning,
    /// The pattern is invalid (the OASIS validator rejects it too).
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding of the semantic checks.
///
/// `code` is a stable kebab-case rule name (see [`crate::semantic`] for the
/// list); `message` a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error (the pattern is invalid) or warning.
    pub severity: Severity,
    /// Stable rule code, e.g. `hash-format` or `unknown-object-type`.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The part of the pattern the finding is about.
    pub span: Span,
    /// The start of `span` as line and column.
    pub position: Position,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] at {}: {}",
            self.severity, self.code, self.position, self.message
        )
    }
}

/// A failure to compile or evaluate a pattern.
///
/// These are the situations in which the OASIS `stix2-matcher` raises an
/// exception instead of answering match / no match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The pattern text does not parse.
    #[error("invalid pattern: {0}")]
    Parse(#[from] ParseError),
    /// The pattern parses but cannot be evaluated (e.g. `WITHIN 0 SECONDS`,
    /// an invalid regular expression, a set of mixed types).
    #[error("pattern cannot be evaluated at {position}: {message}")]
    Pattern {
        /// Stable rule code, e.g. `regex-syntax`.
        code: &'static str,
        /// A sentence for people.
        message: String,
        /// Where in the pattern.
        position: Position,
    },
    /// The observed data is not usable (a missing or malformed property).
    #[error("invalid observed data{}: {message}", .object.as_ref().map(|o| format!(" in {o}")).unwrap_or_default())]
    Data {
        /// Stable rule code, e.g. `missing-property`.
        code: &'static str,
        /// The `id` of the object concerned, when known.
        object: Option<String>,
        /// A sentence for people, naming the property.
        message: String,
    },
    /// Evaluating the observation expressions would exceed
    /// [`crate::MAX_BINDING_STEPS`] candidate bindings.
    #[error("evaluation stopped: more than {limit} candidate bindings of observations")]
    TooManyBindings {
        /// The limit that was reached.
        limit: usize,
    },
}

impl EvalError {
    /// Shorthand for a data error.
    pub(crate) fn data(code: &'static str, object: Option<&str>, message: String) -> EvalError {
        EvalError::Data {
            code,
            object: object.map(str::to_owned),
            message,
        }
    }
}

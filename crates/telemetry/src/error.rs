//! The one error type of the telemetry readers.
//!
//! Errors come in two kinds: *fatal* ones (I/O, a header that cannot be understood, a
//! missing required column) end the input, while a *record* error concerns one line
//! only: the reader has already moved past it and the caller may count it and carry on.
//! [`Error::is_fatal`] tells them apart.

use std::fmt;

/// Everything that can go wrong while reading telemetry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the underlying input failed.
    #[error("read error at line {line}: {source}")]
    Io {
        /// 1-based line number being read when the error happened.
        line: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A header line (`#separator`, `#fields`, a CSV header row, ...) is malformed.
    #[error("line {line}: bad header ({rule}): {message}")]
    Header {
        /// 1-based line number of the header line.
        line: u64,
        /// A stable kebab-case rule code such as `separator-syntax`.
        rule: &'static str,
        /// A human sentence.
        message: String,
    },
    /// A column the reader needs is absent from the header.
    #[error("line {line}: required column `{column}` is missing from the header")]
    MissingColumn {
        /// 1-based line number of the header that lacks the column.
        line: u64,
        /// The column name as the format spells it.
        column: &'static str,
    },
    /// One record (line) could not be read; the reader has skipped it.
    #[error("line {line}: {field}: {rule}: {message}")]
    Record {
        /// 1-based line number of the record.
        line: u64,
        /// The column (field) at fault, or `line` for the line as a whole.
        field: FieldName,
        /// A stable kebab-case rule code such as `ip-address`.
        rule: &'static str,
        /// A human sentence.
        message: String,
    },
}

impl Error {
    /// `true` if reading cannot go on after this error; `false` if only the current
    /// record was skipped.
    ///
    /// ```
    /// use accord_telemetry::{Error, FieldName};
    /// let e = Error::Record { line: 3, field: FieldName::Line, rule: "utf8", message: "x".into() };
    /// assert!(!e.is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Error::Record { .. })
    }

    pub(crate) fn record(
        line: u64,
        field: FieldName,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Error::Record {
            line,
            field,
            rule,
            message: message.into(),
        }
    }

    pub(crate) fn header(line: u64, rule: &'static str, message: impl Into<String>) -> Self {
        Error::Header {
            line,
            rule,
            message: message.into(),
        }
    }
}

/// The field a record error is about: a known column name, or the line as a whole.
///
/// Kept as a `&'static str` so that building an error does not allocate for the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldName {
    /// The whole line (encoding, column count, JSON syntax).
    Line,
    /// A named column.
    Column(&'static str),
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldName::Line => f.write_str("line"),
            FieldName::Column(c) => f.write_str(c),
        }
    }
}

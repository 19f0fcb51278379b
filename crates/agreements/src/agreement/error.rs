//! Errors of reading an agreement file.

use std::fmt;

/// One thing wrong with an agreement file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field, as a TOML path (`scope.max_tlp`).
    pub field: String,
    /// A stable kebab-case rule code (`tlp-level`).
    pub rule: &'static str,
    /// A sentence for a person.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.field, self.message, self.rule)
    }
}

/// Why an agreement file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgreementError {
    /// Not TOML, or a field is missing, unknown or of the wrong type (the message
    /// names the line, the column and the field).
    #[error("agreement file is not valid: {0}")]
    Syntax(String),
    /// Well-formed, but some fields break a rule; every problem is listed.
    #[error("agreement file has {} problem(s):\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

//! The abstract syntax tree of a STIX 2.1 pattern.
//!
//! The tree mirrors the grammar (`STIXPattern.g4` of OASIS) with two
//! simplifications that keep it shallow whatever the input:
//! - chains of the same binary operator (`a AND b AND c`) are one n-ary node
//!   holding the operands in source order (all three operators are
//!   left-associative, so the meaning is a left fold);
//! - a chain of qualifiers (`[...] REPEATS 2 TIMES WITHIN 5 SECONDS`) is one
//!   [`ObservationExpr::Qualified`] node holding the qualifiers in the order
//!   they apply (innermost first, i.e. source order).
//!
//! Precedence, loosest first: `FOLLOWEDBY`, `OR`, `AND`, qualifiers, at the
//! observation level; `OR`, `AND` inside `[...]`.
//!
//! Every node knows its [`Span`] in the source text. [`std::fmt::Display`]
//! renders a canonical text that parses back to an equal tree (spans aside).
//!
//! ```
//! use accord_patterns::ast::{ComparisonExpr, CompOp, Literal, ObservationExpr, Operand};
//!
//! let pattern = accord_patterns::parse("[ipv4-addr:value = '198.51.100.1']").unwrap();
//! let ObservationExpr::Observation { comparison, .. } = &pattern.expr else { panic!() };
//! let ComparisonExpr::Comparison(c) = comparison else { panic!() };
//! assert_eq!(c.path.object_type, "ipv4-addr");
//! assert_eq!(c.op, CompOp::Eq);
//! assert_eq!(c.operand, Operand::Literal(Literal::String("198.51.100.1".into())));
//! ```

use std::fmt;

pub use crate::error::Span;
use crate::timestamp::Timestamp;

/// A parsed pattern: one observation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The top-level observation expression.
    pub expr: ObservationExpr,
}

/// An observation expression: what must be observed, across one or more
/// observed-data objects.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison ]`: one observation whose objects satisfy the comparison.
    Observation {
        /// The comparison expression between the brackets.
        comparison: ComparisonExpr,
        /// From `[` to `]`.
        span: Span,
    },
    /// `a AND b AND ...`: each operand matched by a different observation.
    And(Vec<ObservationExpr>),
    /// `a OR b OR ...`: any operand matches.
    Or(Vec<ObservationExpr>),
    /// `a FOLLOWEDBY b FOLLOWEDBY ...`: operands matched in time order
    /// (a left fold: `(a FOLLOWEDBY b) FOLLOWEDBY c`).
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with qualifiers, applied in order (the first one binds
    /// tightest).
    Qualified {
        /// The qualified expression (never itself `Qualified`).
        expr: Box<ObservationExpr>,
        /// At least one qualifier, in source order.
        qualifiers: Vec<Qualifier>,
    },
    /// `( expr )`: kept because the OASIS validator's rule against repeated
    /// qualifiers of one kind applies only to unparenthesised observations.
    Group {
        /// The expression inside the parentheses.
        expr: Box<ObservationExpr>,
        /// From `(` to `)`.
        span: Span,
    },
}

/// A qualifier of an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`: all observations fit in a window of `n` seconds.
    Within {
        /// The window length in seconds (an integer or decimal literal).
        seconds: f64,
        /// The literal as written, e.g. `300` or `.5`.
        text: String,
        /// From `WITHIN` to `SECONDS`.
        span: Span,
    },
    /// `REPEATS n TIMES`: the expression matches `n` times, each time with
    /// different observations.
    Repeats {
        /// The repetition count as written (0 is syntactically valid but
        /// cannot be evaluated).
        times: u64,
        /// From `REPEATS` to `TIMES`.
        span: Span,
    },
    /// `START t'..' STOP t'..'`: observations lie in `[start, stop)`.
    StartStop {
        /// The start instant (inclusive).
        start: Timestamp,
        /// The stop instant (exclusive).
        stop: Timestamp,
        /// From `START` to the stop literal.
        span: Span,
    },
}

impl Qualifier {
    /// The kind of qualifier as its keyword (`WITHIN`, `REPEATS`, `START`).
    pub fn keyword(&self) -> &'static str {
        match self {
            Qualifier::Within { .. } => "WITHIN",
            Qualifier::Repeats { .. } => "REPEATS",
            Qualifier::StartStop { .. } => "START",
        }
    }

    /// The span of the qualifier in the source text.
    pub fn span(&self) -> Span {
        match self {
            Qualifier::Within { span, .. }
            | Qualifier::Repeats { span, .. }
            | Qualifier::StartStop { span, .. } => *span,
        }
    }
}

/// A comparison expression: the boolean expression inside `[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// One comparison of an object path with a value.
    Comparison(Comparison),
    /// `a AND b AND ...`: all hold, on the same object (or objects reached
    /// from it through references).
    And(Vec<ComparisonExpr>),
    /// `a OR b OR ...`: any holds.
    Or(Vec<ComparisonExpr>),
}

/// A comparison operator. `negated` on [`Comparison`] records a `NOT` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompOp {
    /// `=` (also written `==`).
    Eq,
    /// `!=` (also written `<>`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN ( ... )`.
    In,
    /// `LIKE 'pattern'` (SQL-style `%` and `_` wildcards).
    Like,
    /// `MATCHES 'regex'`.
    Matches,
    /// `ISSUBSET 'cidr'`: the property (an address or network) lies within.
    IsSubset,
    /// `ISSUPERSET 'cidr'`: the property (a network) contains the operand.
    IsSuperset,
    /// `EXISTS path`.
    Exists,
}

impl CompOp {
    /// The operator as written in canonical pattern text.
    pub fn as_str(self) -> &'static str {
        match self {
            CompOp::Eq => "=",
            CompOp::Ne => "!=",
            CompOp::Lt => "<",
            CompOp::Le => "<=",
            CompOp::Gt => ">",
            CompOp::Ge => ">=",
            CompOp::In => "IN",
            CompOp::Like => "LIKE",
            CompOp::Matches => "MATCHES",
            CompOp::IsSubset => "ISSUBSET",
            CompOp::IsSuperset => "ISSUPERSET",
            CompOp::Exists => "EXISTS",
        }
    }
}

/// The right-hand side of a comparison.
///
/// The parser guarantees the combination with [`CompOp`]: `Eq`/`Ne` take any
/// literal; `Lt`/`Le`/`Gt`/`Ge` any literal but a boolean; `In` a set;
/// `Like`, `Matches`, `IsSubset`, `IsSuperset` a string literal; `Exists`
/// nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A single literal.
    Literal(Literal),
    /// The members of `( ... )` after `IN`, possibly empty.
    Set(Vec<Literal>),
    /// `EXISTS` has no operand.
    None,
}

/// A comparison: `path [NOT] op operand`, or `[NOT] EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The object path on the left.
    pub path: ObjectPath,
    /// Whether the comparison is prefixed with `NOT` (result inverted).
    pub negated: bool,
    /// The operator.
    pub op: CompOp,
    /// The operand (see [`Operand`] for which operator takes which).
    pub operand: Operand,
    /// The operand's text in the source (empty, at the end, for `EXISTS`).
    pub operand_span: Span,
    /// From the path (or `NOT`/`EXISTS`) to the end of the operand.
    pub span: Span,
}

/// An object path: `type:property.sub[0].'quoted key'[*]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    /// The object type before the colon, e.g. `network-traffic`.
    pub object_type: String,
    /// The steps after the colon. The first is always a [`PathStep::Key`].
    pub steps: Vec<PathStep>,
    /// The span of the whole path.
    pub span: Span,
}

impl ObjectPath {
    /// The property named right after the colon.
    pub fn property(&self) -> &str {
        match self.steps.first() {
            Some(PathStep::Key(k)) => k,
            _ => "",
        }
    }
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// `.name` or `.'quoted name'` (also the first property after `:`).
    Key(String),
    /// `[n]`: one list element; negative indexes select nothing.
    Index(i64),
    /// `[*]`: every list element.
    AnyIndex,
}

/// A literal value of the pattern language.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer, e.g. `443` or `-1`.
    Int(i128),
    /// A decimal number, e.g. `7.0` or `.5`; also an integer literal beyond
    /// 128 bits (approximated, and reported by the semantic checks). May be
    /// infinite for literals beyond the `f64` range (as in Python).
    Float(f64),
    /// A string, quotes removed and `\'` / `\\` unescaped.
    String(String),
    /// `true` or `false`.
    Bool(bool),
    /// `b'base64'`, decoded.
    Binary(Vec<u8>),
    /// `h'hex'`, decoded.
    Hex(Vec<u8>),
    /// `t'2016-01-01T00:00:00Z'`.
    Timestamp(Timestamp),
}

impl Literal {
    /// A short name of the literal's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Literal::Int(_) => "integer",
            Literal::Float(_) => "float",
            Literal::String(_) => "string",
            Literal::Bool(_) => "boolean",
            Literal::Binary(_) => "binary",
            Literal::Hex(_) => "hex",
            Literal::Timestamp(_) => "timestamp",
        }
    }
}

impl ObservationExpr {
    /// Calls `f` on every comparison of the expression, in source order.
    ///
    /// ```
    /// let p = accord_patterns::parse("[a:b = 1 OR a:c = 2] AND [d:e = 3]").unwrap();
    /// let mut n = 0;
    /// p.expr.for_each_comparison(&mut |_| n += 1);
    /// assert_eq!(n, 3);
    /// ```
    pub fn for_each_comparison<'a>(&'a self, f: &mut dyn FnMut(&'a Comparison)) {
        match self {
            ObservationExpr::Observation { comparison, .. } => comparison.for_each_comparison(f),
            ObservationExpr::And(v) | ObservationExpr::Or(v) | ObservationExpr::FollowedBy(v) => {
                v.iter().for_each(|e| e.for_each_comparison(f))
            }
            ObservationExpr::Qualified { expr, .. } | ObservationExpr::Group { expr, .. } => {
                expr.for_each_comparison(f)
            }
        }
    }
}

impl ComparisonExpr {
    /// Calls `f` on every comparison, in source order.
    pub fn for_each_comparison<'a>(&'a self, f: &mut dyn FnMut(&'a Comparison)) {
        match self {
            ComparisonExpr::Comparison(c) => f(c),
            ComparisonExpr::And(v) | ComparisonExpr::Or(v) => {
                v.iter().for_each(|e| e.for_each_comparison(f))
            }
        }
    }
}

// ---- canonical text -------------------------------------------------------

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

fn join<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Operands of a looser operator are wrapped in parentheses so that the
        // text parses back to the same tree.
        match self {
            ObservationExpr::Observation { comparison, .. } => write!(f, "[{comparison}]"),
            ObservationExpr::FollowedBy(v) => join(f, v, " FOLLOWEDBY "),
            ObservationExpr::Or(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    match e {
                        ObservationExpr::FollowedBy(_) => write!(f, "({e})")?,
                        _ => e.fmt(f)?,
                    }
                }
                Ok(())
            }
            ObservationExpr::And(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    match e {
                        ObservationExpr::FollowedBy(_) | ObservationExpr::Or(_) => {
                            write!(f, "({e})")?
                        }
                        _ => e.fmt(f)?,
                    }
                }
                Ok(())
            }
            ObservationExpr::Qualified { expr, qualifiers } => {
                match **expr {
                    ObservationExpr::Observation { .. } | ObservationExpr::Group { .. } => {
                        expr.fmt(f)?
                    }
                    _ => write!(f, "({expr})")?,
                }
                for q in qualifiers {
                    write!(f, " {q}")?;
                }
                Ok(())
            }
            ObservationExpr::Group { expr, .. } => write!(f, "({expr})"),
        }
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within { text, .. } => write!(f, "WITHIN {text} SECONDS"),
            Qualifier::Repeats { times, .. } => write!(f, "REPEATS {times} TIMES"),
            Qualifier::StartStop { start, stop, .. } => {
                write!(f, "START t'{}' STOP t'{}'", start.text(), stop.text())
            }
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComparisonExpr::Comparison(c) => c.fmt(f),
            ComparisonExpr::Or(v) => join(f, v, " OR "),
            ComparisonExpr::And(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    match e {
                        ComparisonExpr::Or(_) => write!(f, "({e})")?,
                        _ => e.fmt(f)?,
                    }
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "NOT " } else { "" };
        if self.op == CompOp::Exists {
            return write!(f, "{not}EXISTS {}", self.path);
        }
        write!(
            f,
            "{} {not}{} {}",
            self.path,
            self.op.as_str(),
            self.operand
        )
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Literal(l) => l.fmt(f),
            Operand::Set(v) => {
                f.write_str("(")?;
                join(f, v, ", ")?;
                f.write_str(")")
            }
            Operand::None => Ok(()),
        }
    }
}

fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !crate::lexer::is_keyword(s)
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            _ => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_plain_identifier(k) {
                        f.write_str(k)?;
                    } else {
                        write_quoted(f, k)?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// A float as the grammar writes it (digits, a point, digits).
fn write_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_infinite() {
        // A literal that reads back as infinity.
        let sign = if x < 0.0 { "-" } else { "" };
        return write!(f, "{sign}1{}.0", "0".repeat(309));
    }
    if x.is_nan() {
        return f.write_str("0.0");
    }
    // Display never uses an exponent and round-trips; the grammar needs
    // a fraction part.
    let s = x.to_string();
    if s.contains('.') {
        f.write_str(&s)
    } else {
        write!(f, "{s}.0")
    }
}

fn write_base64(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        write!(f, "{}{}", sextet(18), sextet(12))?;
        match chunk.len() {
            1 => f.write_str("==")?,
            2 => write!(f, "{}=", sextet(6))?,
            _ => write!(f, "{}{}", sextet(6), sextet(0))?,
        }
    }
    Ok(())
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Float(x) => write_float(f, *x),
            Literal::String(s) => write_quoted(f, s),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Binary(bytes) => {
                f.write_str("b'")?;
                write_base64(f, bytes)?;
                f.write_str("'")
            }
            Literal::Hex(bytes) => {
                f.write_str("h'")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("'")
            }
            Literal::Timestamp(t) => write!(f, "t'{}'", t.text()),
        }
    }
}

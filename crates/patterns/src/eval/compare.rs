//! Comparison operators, compiled once per pattern and applied per value.
//!
//! Semantics follow the OASIS matcher (see [`super::values`] for the type
//! rules). In particular:
//! - `LIKE` and `MATCHES` apply to strings (NFC-normalised, as are the
//!   patterns) and to binary values; `LIKE` matches the whole value, where
//!   `%` and `_` do not match a newline and a single trailing newline is
//!   ignored (Python `re.match` with `^...$`); `MATCHES` searches anywhere.
//! - `MATCHES` uses the `regex` crate (linear time). Python `re` features
//!   it lacks (look-around, back-references, possessive quantifiers) make
//!   the pattern fail to compile; `$` matches only at the very end (Python
//!   also matches before a final newline); `\Z` is written `\z`.
//! - `NOT` inverts the result of the test, except that an order comparison
//!   of incomparable types is false with or without `NOT` (as in the
//!   matcher).
//! - `EXISTS path` holds for a root object from which the path selects at
//!   least one value (JSON `null` included); `NOT EXISTS` for one from which
//!   it selects none. (`stix2-matcher` 3.0.0 has no `EXISTS` support of its
//!   own: it treats `NOT EXISTS` like `EXISTS` and fails on `EXISTS ... AND`.)

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::ip::{self, Net};
use super::values::{equals, latin1, order, set_member_equals, Lit, Order, Scalar, Val};
use crate::ast::{CompOp, Literal, Operand};
use crate::timestamp::Timestamp;

/// A compiled comparison test (operator and operand, without the path).
#[derive(Debug)]
pub(crate) struct Test {
    kind: TestKind,
    negated: bool,
}

#[derive(Debug)]
enum TestKind {
    Eq { lit: Lit, ne: bool },
    Order { lit: Lit, op: CompOp },
    In(Vec<Lit>),
    Like(Box<TextRegex>),
    Matches(Box<TextRegex>),
    Subset(Result<Net, String>),
    Superset(String),
    Exists,
}

/// A regular expression for text, and its byte version for binary values
/// (when every character of the pattern is below 256).
#[derive(Debug)]
struct TextRegex {
    text: Regex,
    bytes: Option<regex::bytes::Regex>,
    /// `LIKE` decodes binary values as UTF-8 and matches them as text.
    decode_binary: bool,
}

/// Why a pattern cannot be compiled: (rule code, message).
pub(crate) type CompileError = (&'static str, String);

impl Test {
    /// Compiles `op operand` (with `NOT` if `negated`).
    pub fn compile(op: CompOp, operand: &Operand, negated: bool) -> Result<Test, CompileError> {
        let kind = match (op, operand) {
            (CompOp::Exists, _) => TestKind::Exists,
            (CompOp::Eq | CompOp::Ne, Operand::Literal(l)) => TestKind::Eq {
                lit: lit(l)?,
                ne: op == CompOp::Ne,
            },
            (CompOp::Lt | CompOp::Le | CompOp::Gt | CompOp::Ge, Operand::Literal(l)) => {
                TestKind::Order { lit: lit(l)?, op }
            }
            (CompOp::In, Operand::Set(items)) => TestKind::In(set(items)?),
            (CompOp::Like, Operand::Literal(Literal::String(s))) => {
                TestKind::Like(Box::new(like_regex(s)?))
            }
            (CompOp::Matches, Operand::Literal(Literal::String(s))) => {
                TestKind::Matches(Box::new(matches_regex(s)?))
            }
            (CompOp::IsSubset, Operand::Literal(Literal::String(s))) => {
                TestKind::Subset(ip::parse_network(s).ok_or_else(|| s.clone()))
            }
            (CompOp::IsSuperset, Operand::Literal(Literal::String(s))) => {
                TestKind::Superset(s.clone())
            }
            _ => {
                return Err((
                    "operand-type",
                    format!("operator {} cannot take operand {operand}", op.as_str()),
                ))
            }
        };
        Ok(Test { kind, negated })
    }

    /// Whether the test holds for a value set on a root object that has the
    /// path (`EXISTS`), by `any` over `values` as the matcher does.
    pub fn holds_any(&self, values: &[Val<'_>]) -> Result<bool, String> {
        if let TestKind::Exists = self.kind {
            return Ok(values.is_empty() == self.negated);
        }
        for v in values {
            if self.holds(v)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The test on one value. An `Err` is the message of a data error.
    fn holds(&self, v: &Val<'_>) -> Result<bool, String> {
        let value = v.scalar();
        let result = match &self.kind {
            TestKind::Exists => true,
            TestKind::Eq { lit, ne } => {
                let value = as_time_if(value, lit)?;
                equals(value, lit.scalar()) != *ne
            }
            TestKind::Order { lit, op } => {
                let value = as_time_if(value, lit)?;
                match order(value, lit.scalar()) {
                    Order::Incomparable => return Ok(false),
                    Order::Refused => false,
                    Order::Ordered(o) => match op {
                        CompOp::Lt => o.is_lt(),
                        CompOp::Le => o.is_le(),
                        CompOp::Gt => o.is_gt(),
                        _ => o.is_ge(),
                    },
                }
            }
            TestKind::In(members) => {
                let value = match members.first() {
                    Some(first) => as_time_if(value, first)?,
                    None => value,
                };
                members.iter().any(|m| set_member_equals(value, m.scalar()))
            }
            TestKind::Like(re) | TestKind::Matches(re) => re.is_match(value)?,
            TestKind::Subset(net) => match value {
                Scalar::Str(s) => {
                    let member = ip::parse_member(s)
                        .ok_or_else(|| format!("invalid IP address or CIDR subnet: {s}"))?;
                    let net = net.as_ref().map_err(|n| {
                        format!("the ISSUBSET operand of the pattern is not a CIDR subnet: {n}")
                    })?;
                    ip::contains(*net, member)
                }
                _ => false,
            },
            TestKind::Superset(operand) => match value {
                Scalar::Str(s) => {
                    let member = ip::parse_member(operand)
                        .ok_or_else(|| format!("the ISSUPERSET operand of the pattern is not an IP address or CIDR subnet: {operand}"))?;
                    let net =
                        ip::parse_network(s).ok_or_else(|| format!("invalid CIDR subnet: {s}"))?;
                    ip::contains(net, member)
                }
                _ => false,
            },
        };
        Ok(result != self.negated)
    }
}

/// A string compared with a timestamp literal is read as a timestamp.
fn as_time_if<'v>(value: Scalar<'v>, lit: &Lit) -> Result<Scalar<'v>, String> {
    match (value, lit) {
        (Scalar::Str(s), Lit::Time(_)) => Timestamp::parse_lenient(s)
            .and_then(|t| t.micros())
            .map(Scalar::Time)
            .ok_or_else(|| format!("invalid timestamp in JSON: {s}")),
        _ => Ok(value),
    }
}

fn lit(l: &Literal) -> Result<Lit, CompileError> {
    Ok(match l {
        Literal::Int(i) => Lit::Int(*i),
        Literal::Float(x) => Lit::Float(*x),
        Literal::String(s) => Lit::Str(s.clone()),
        Literal::Bool(b) => Lit::Bool(*b),
        Literal::Binary(b) | Literal::Hex(b) => Lit::Bytes(b.clone()),
        Literal::Timestamp(t) => Lit::Time(t.micros().ok_or_else(|| {
            (
                "timestamp-value",
                format!("timestamp literal t'{}' names no real instant", t.text()),
            )
        })?),
    })
}

/// A set literal: all members of one type, or all numbers.
fn set(items: &[Literal]) -> Result<Vec<Lit>, CompileError> {
    let lits = items.iter().map(lit).collect::<Result<Vec<_>, _>>()?;
    let kind = |l: &Lit| std::mem::discriminant(l);
    let homogeneous = lits.windows(2).all(|w| kind(&w[0]) == kind(&w[1]));
    let numbers = lits
        .iter()
        .all(|l| matches!(l, Lit::Int(_) | Lit::Float(_)));
    if !homogeneous && !numbers {
        let text = items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return Err((
            "set-types",
            format!("the members of a set must have one type: ({text})"),
        ));
    }
    Ok(lits)
}

fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// `LIKE` to an anchored regex: `%` is any run, `_` any one character.
fn like_regex(operand: &str) -> Result<TextRegex, CompileError> {
    let operand = nfc(operand);
    let mut re = String::from(r"\A(?:");
    for c in operand.chars() {
        match c {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            _ => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push_str(r")\n?\z");
    let text = Regex::new(&re).map_err(|e| ("like-pattern", e.to_string()))?;
    Ok(TextRegex {
        text,
        bytes: None,
        decode_binary: latin1(&operand).is_some(),
    })
}

fn matches_regex(operand: &str) -> Result<TextRegex, CompileError> {
    let pattern = nfc(operand);
    let text = Regex::new(&pattern)
        .map_err(|e| ("regex-syntax", format!("invalid regular expression: {e}")))?;
    let bytes = latin1(&pattern).and_then(|_| {
        // Characters above ASCII stand for one byte each, as in a Python
        // bytes pattern.
        let mut b = String::from("(?-u)");
        for c in pattern.chars() {
            if c.is_ascii() {
                b.push(c);
            } else {
                b.push_str(&format!(r"\x{:02x}", u32::from(c)));
            }
        }
        regex::bytes::Regex::new(&b).ok()
    });
    Ok(TextRegex {
        text,
        bytes,
        decode_binary: false,
    })
}

impl TextRegex {
    fn is_match(&self, value: Scalar<'_>) -> Result<bool, String> {
        match value {
            Scalar::Str(s) => Ok(self.text.is_match(&nfc_cow(s))),
            Scalar::Bytes(b) if self.decode_binary => {
                let s = std::str::from_utf8(b)
                    .map_err(|_| "binary value is not valid UTF-8 for LIKE".to_string())?;
                Ok(self.text.is_match(&nfc_cow(s)))
            }
            Scalar::Bytes(b) => Ok(self.bytes.as_ref().is_some_and(|re| re.is_match(b))),
            _ => Ok(false),
        }
    }
}

/// NFC form, without allocating for the common already-normalised ASCII.
fn nfc_cow(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(nfc(s))
    }
}

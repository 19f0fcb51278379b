//! Values selected by object paths, and the type rules of comparisons.
//!
//! The OASIS matcher compares Python values; these are the same rules in
//! Rust terms:
//! - integers and floats compare with each other exactly (as Python does);
//!   booleans are not numbers for `=` and `<` (but are for `IN`);
//! - strings compare by code point;
//! - a binary value (from a `b'..'`/`h'..'` literal or a `*_bin`/`*_hex`
//!   property) compares with a string whose code points are all below 256,
//!   taken as Latin-1 bytes;
//! - a string compared with a timestamp literal is read as a timestamp, and
//!   an unreadable one is an error;
//! - anything else (lists, objects, null, mismatched types) is unequal and
//!   unordered.
//!
//! JSON integers beyond the 64-bit range are read as floats (serde_json
//! without arbitrary precision); Python keeps them exact.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

/// A value selected by an object path.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    /// A JSON value of an observed object.
    Json(&'a Value),
    /// The decoded value of a `*_hex` or `*_bin` property.
    Bytes(Vec<u8>),
    /// The objects a `*_refs` list refers to (a list for later steps).
    Objects(Vec<&'a Value>),
}

/// `map[key]`, by a linear scan for the small maps STIX objects are (no
/// hashing of the key: cheaper than the map's own lookup up to a dozen
/// entries), by the map's lookup otherwise.
pub(crate) fn get<'v>(map: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= 12 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// `value[key]` if `value` is an object.
pub(crate) fn get_in<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_object().and_then(|m| get(m, key))
}

/// A scalar on the right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
    Bytes(Vec<u8>),
    /// Microseconds since the epoch.
    Time(i64),
}

/// A scalar of the left-hand side, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'v> {
    Int(i128),
    Float(f64),
    Str(&'v str),
    Bool(bool),
    Bytes(&'v [u8]),
    Time(i64),
    /// Lists, objects, null: comparable with nothing.
    Other,
}

impl<'a> Val<'a> {
    /// The value as a scalar (lists, objects and null are `Other`).
    pub fn scalar(&self) -> Scalar<'_> {
        match self {
            Val::Json(v) => json_scalar(v),
            Val::Bytes(b) => Scalar::Bytes(b),
            Val::Objects(_) => Scalar::Other,
        }
    }
}

pub(crate) fn json_scalar(v: &Value) -> Scalar<'_> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Scalar::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Scalar::Int(i128::from(u))
            } else {
                n.as_f64().map_or(Scalar::Other, Scalar::Float)
            }
        }
        Value::String(s) => Scalar::Str(s),
        Value::Bool(b) => Scalar::Bool(*b),
        _ => Scalar::Other,
    }
}

impl Lit {
    pub fn scalar(&self) -> Scalar<'_> {
        match self {
            Lit::Int(i) => Scalar::Int(*i),
            Lit::Float(x) => Scalar::Float(*x),
            Lit::Str(s) => Scalar::Str(s),
            Lit::Bool(b) => Scalar::Bool(*b),
            Lit::Bytes(b) => Scalar::Bytes(b),
            Lit::Time(t) => Scalar::Time(*t),
        }
    }
}

/// Exact comparison of an integer with a float (Python semantics).
pub(crate) fn cmp_int_float(i: i128, f: f64) -> Ordering {
    const TWO_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if f >= TWO_127 {
        return Ordering::Less;
    }
    if f < -TWO_127 {
        return Ordering::Greater;
    }
    let floor = f.floor();
    // |floor| < 2^127, so the conversion is exact.
    let fi = floor as i128;
    match i.cmp(&fi) {
        Ordering::Equal if f > floor => Ordering::Less,
        other => other,
    }
}

/// Ordering of two numbers, if both are numbers (booleans are not).
pub(crate) fn cmp_numbers(a: Scalar<'_>, b: Scalar<'_>) -> Option<Ordering> {
    match (a, b) {
        (Scalar::Int(x), Scalar::Int(y)) => Some(x.cmp(&y)),
        (Scalar::Int(x), Scalar::Float(y)) => Some(cmp_int_float(x, y)),
        (Scalar::Float(x), Scalar::Int(y)) => Some(cmp_int_float(y, x).reverse()),
        (Scalar::Float(x), Scalar::Float(y)) => x.partial_cmp(&y),
        _ => None,
    }
}

/// A string as Latin-1 bytes, if all its code points are below 256.
pub(crate) fn latin1(s: &str) -> Option<Cow<'_, [u8]>> {
    if s.is_ascii() {
        return Some(Cow::Borrowed(s.as_bytes()));
    }
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .map(Cow::Owned)
}

/// Result of an order comparison in the matcher's type table.
pub(crate) enum Order {
    /// The types are comparable; here is the ordering of value vs literal.
    Ordered(Ordering),
    /// A binary/string comparison with an unsuitable string (the matcher's
    /// `ValueError`: the result is false, and `NOT` still applies).
    Refused,
    /// The types are not in the table (the result is false, and `NOT` does
    /// not apply, as in the matcher).
    Incomparable,
}

/// `=` per the matcher's equality table.
pub(crate) fn equals(value: Scalar<'_>, lit: Scalar<'_>) -> bool {
    if let Some(o) = cmp_numbers(value, lit) {
        return o == Ordering::Equal;
    }
    match (value, lit) {
        (Scalar::Str(a), Scalar::Str(b)) => a == b,
        (Scalar::Bytes(a), Scalar::Bytes(b)) => a == b,
        (Scalar::Bytes(b), Scalar::Str(s)) | (Scalar::Str(s), Scalar::Bytes(b)) => {
            latin1(s).is_some_and(|s| *s == *b)
        }
        (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
        (Scalar::Time(a), Scalar::Time(b)) => a == b,
        _ => false,
    }
}

/// `<`, `>`, ... per the matcher's order table (value compared to literal).
pub(crate) fn order(value: Scalar<'_>, lit: Scalar<'_>) -> Order {
    if let Some(o) = cmp_numbers(value, lit) {
        return Order::Ordered(o);
    }
    match (value, lit) {
        (Scalar::Str(a), Scalar::Str(b)) => Order::Ordered(a.cmp(b)),
        (Scalar::Bytes(a), Scalar::Bytes(b)) => Order::Ordered(a.cmp(b)),
        (Scalar::Bytes(b), Scalar::Str(s)) => match latin1(s) {
            Some(s) => Order::Ordered(b.cmp(&s)),
            None => Order::Refused,
        },
        (Scalar::Str(s), Scalar::Bytes(b)) => match latin1(s) {
            Some(s) => Order::Ordered((*s).cmp(b)),
            None => Order::Refused,
        },
        (Scalar::Time(a), Scalar::Time(b)) => Order::Ordered(a.cmp(&b)),
        _ => Order::Incomparable,
    }
}

/// Set membership with Python's `==` for hashable values: numbers and
/// booleans compare numerically (`true` is `1`), strings with strings,
/// bytes with bytes, timestamps with timestamps.
pub(crate) fn set_member_equals(value: Scalar<'_>, member: Scalar<'_>) -> bool {
    if let Some(o) = cmp_numbers(bool_as_int(value), bool_as_int(member)) {
        return o == Ordering::Equal;
    }
    match (value, member) {
        (Scalar::Str(a), Scalar::Str(b)) => a == b,
        (Scalar::Bytes(a), Scalar::Bytes(b)) => a == b,
        (Scalar::Time(a), Scalar::Time(b)) => a == b,
        _ => false,
    }
}

fn bool_as_int(s: Scalar<'_>) -> Scalar<'_> {
    match s {
        Scalar::Bool(b) => Scalar::Int(i128::from(b)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_float_comparison_is_exact() {
        assert_eq!(cmp_int_float(5, 4.9), Ordering::Greater);
        assert_eq!(cmp_int_float(5, 5.0), Ordering::Equal);
        assert_eq!(cmp_int_float(5, 5.1), Ordering::Less);
        assert_eq!(cmp_int_float(-5, -5.5), Ordering::Greater);
        assert_eq!(
            cmp_int_float((1 << 53) + 1, 9_007_199_254_740_992.0),
            Ordering::Greater
        );
        assert_eq!(cmp_int_float(0, 1e300), Ordering::Less);
    }

    #[test]
    fn type_table() {
        assert!(!equals(Scalar::Bool(true), Scalar::Int(1)));
        assert!(set_member_equals(Scalar::Bool(true), Scalar::Int(1)));
        assert!(equals(Scalar::Bytes(b"\xe9"), Scalar::Str("é")));
        assert!(!equals(Scalar::Bytes(b"a"), Scalar::Str("€")));
        assert!(matches!(
            order(Scalar::Str("€"), Scalar::Bytes(b"a")),
            Order::Refused
        ));
        assert!(matches!(
            order(Scalar::Bool(true), Scalar::Int(1)),
            Order::Incomparable
        ));
        assert!(matches!(
            order(Scalar::Str("b"), Scalar::Str("a")),
            Order::Ordered(Ordering::Greater)
        ));
    }
}

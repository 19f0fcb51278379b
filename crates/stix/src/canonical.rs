//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Members sorted by the UTF-16 code units of their names, no whitespace,
//! strings with only the mandatory escapes, numbers in the ECMAScript
//! `Number.prototype.toString` form (integers too are read as doubles, as the
//! reference implementation used by the `stix2` library does).

use serde_json::Value;
use std::fmt::Write;

/// The RFC 8785 canonical form of a JSON value.
///
/// ```
/// let v = serde_json::json!({"b": [1.0, 1e21, 0.000001], "a": "é\n", "\u{20ac}": true});
/// assert_eq!(accord_stix::canonical_json(&v), "{\"a\":\"é\\n\",\"b\":[1,1e+21,0.000001],\"€\":true}");
/// ```
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n.as_f64().unwrap_or(0.0)),
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// ECMAScript Number::toString(x) for finite x (ECMA-262 section 7.1.12.1).
fn write_number(out: &mut String, x: f64) {
    if x == 0.0 || !x.is_finite() {
        out.push('0');
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    // Shortest round-trip digits and exponent from Rust's formatter: "d.ddde±x".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let e: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = e + 1; // position of the decimal point relative to the digits
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        let _ = write!(out, "{}", (n - 1).abs());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(x: f64) -> String {
        let mut s = String::new();
        write_number(&mut s, x);
        s
    }

    #[test]
    fn numbers_as_ecmascript() {
        // RFC 8785 appendix B samples.
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-1.5), "-1.5");
        assert_eq!(num(1e21), "1e+21");
        assert_eq!(num(1e20), "100000000000000000000");
        assert_eq!(num(123456789012345680000.0), "123456789012345680000");
        assert_eq!(num(0.000001), "0.000001");
        assert_eq!(num(0.0000001), "1e-7");
        assert_eq!(num(5e-324), "5e-324");
        assert_eq!(num(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(num(9007199254740992.0), "9007199254740992");
        assert_eq!(num(333_333_333.333_333_3), "333333333.3333333");
        assert_eq!(num(1e23), "1e+23");
        assert_eq!(num(295147905179352830000.0), "295147905179352830000");
        assert_eq!(num(4.50), "4.5");
        assert_eq!(num(2e-3), "0.002");
    }

    #[test]
    fn sorts_by_utf16() {
        // RFC 8785 section 3.2.3 example ordering.
        let v = serde_json::json!({"\u{20ac}": 1, "\r": 2, "\u{1f600}": 3, "\u{80}": 4, "1": 5, "\u{fb33}": 6, "\u{f6}": 7});
        let s = canonical_json(&v);
        let order: Vec<usize> = [
            "\\r",
            "\"1\"",
            "\u{80}",
            "\u{f6}",
            "\u{20ac}",
            "\u{1f600}",
            "\u{fb33}",
        ]
        .iter()
        .map(|k| s.find(k).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{s}");
    }
}

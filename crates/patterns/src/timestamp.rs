//! Timestamps as the pattern language and the OASIS matcher see them.
//!
//! A [`Timestamp`] keeps the text as written (for display) and, when the text
//! names a real instant, microseconds since the Unix epoch (for ordering and
//! equality). The grammar accepts `t'2016-02-30T00:00:60Z'` (it checks digit
//! ranges only), so a literal may be syntactically valid yet name no instant;
//! such a literal is reported by the semantic checks and refused by the
//! evaluator, as the OASIS matcher refuses it.
//!
//! Precision is the microsecond, as in the OASIS matcher (Python `datetime`):
//! further fraction digits are truncated.

use std::fmt;

/// A timestamp literal or value.
///
/// ```
/// use accord_patterns::Timestamp;
/// let t = Timestamp::parse_strict("2016-01-01T00:00:00.5Z").unwrap();
/// assert_eq!(t.micros(), Some(1_451_606_400_500_000));
/// assert_eq!(t.text(), "2016-01-01T00:00:00.5Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    micros: Option<i64>,
}

impl Timestamp {
    /// Parses the text of a timestamp literal (without `t'` and `'`) in the
    /// strict form of the grammar: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with
    /// two-digit fields. Returns `None` when the text does not have that
    /// form; returns a timestamp without an instant when the form is right
    /// but the date or time does not exist (e.g. February 30, second 60).
    pub fn parse_strict(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 || !b.ends_with(b"Z") {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut n = 0u32;
            for &c in b.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n * 10 + u32::from(c - b'0');
            }
            Some(n)
        };
        let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if seps.iter().any(|&(i, c)| b.get(i) != Some(&c)) {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        let ranges_ok = (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour <= 23
            && minute <= 59
            && second <= 60;
        if !ranges_ok {
            return None;
        }
        let rest = &b[19..b.len() - 1];
        let micros_frac = match rest {
            [] => 0,
            [b'.', frac @ ..] if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => {
                fraction_micros(frac)
            }
            _ => return None,
        };
        let micros = instant(year, month, day, hour, minute, second, micros_frac);
        Some(Timestamp {
            text: text.to_owned(),
            micros,
        })
    }

    /// Parses a timestamp the way the OASIS matcher parses timestamps found
    /// in JSON (`first_observed`, or a string compared with a timestamp
    /// literal): Python's `strptime` with `%Y-%m-%dT%H:%M:%S[.%f]Z`, which
    /// also accepts one-digit fields, and no lower-case letters. Returns
    /// `None` unless the text names a real instant.
    ///
    /// ```
    /// use accord_patterns::Timestamp;
    /// assert!(Timestamp::parse_lenient("2014-4-9T6:5:2Z").is_some());
    /// assert!(Timestamp::parse_lenient("2014-02-29T00:00:00Z").is_none());
    /// ```
    pub fn parse_lenient(text: &str) -> Option<Timestamp> {
        if text.chars().any(char::is_lowercase) {
            return None;
        }
        let mut p = Lenient {
            b: text.as_bytes(),
            i: 0,
        };
        let year = p.fixed(4)?;
        p.byte(b'-')?;
        let month = p.field(&[(b'1', b'0'..=b'2'), (b'0', b'1'..=b'9')], b'1'..=b'9')?;
        p.byte(b'-')?;
        let day = p.day()?;
        p.byte(b'T')?;
        let hour = p.field(
            &[
                (b'2', b'0'..=b'3'),
                (b'0', b'0'..=b'9'),
                (b'1', b'0'..=b'9'),
            ],
            b'0'..=b'9',
        )?;
        p.byte(b':')?;
        let minute = p.two_or_one(b'0'..=b'5')?;
        p.byte(b':')?;
        let second = p.field(
            &[
                (b'6', b'0'..=b'1'),
                (b'0', b'0'..=b'9'),
                (b'1', b'0'..=b'9'),
                (b'2', b'0'..=b'9'),
                (b'3', b'0'..=b'9'),
                (b'4', b'0'..=b'9'),
                (b'5', b'0'..=b'9'),
            ],
            b'0'..=b'9',
        )?;
        let frac = if p.b.get(p.i) == Some(&b'.') {
            p.i += 1;
            let start = p.i;
            while p.b.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            let frac = &p.b[start..p.i];
            // The matcher keeps the first 6 digits of longer fractions.
            if frac.is_empty() {
                return None;
            }
            fraction_micros(frac)
        } else {
            0
        };
        p.byte(b'Z')?;
        if p.i != p.b.len() || second > 59 {
            return None;
        }
        let micros = instant(year, month, day, hour, minute, second, frac)?;
        Some(Timestamp {
            text: text.to_owned(),
            micros: Some(micros),
        })
    }

    /// A timestamp that names no instant (text kept for messages).
    pub(crate) fn without_instant(text: &str) -> Timestamp {
        Timestamp {
            text: text.to_owned(),
            micros: None,
        }
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Microseconds since 1970-01-01T00:00:00Z, or `None` when the text
    /// names no real instant.
    pub fn micros(&self) -> Option<i64> {
        self.micros
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Cursor for [`Timestamp::parse_lenient`], mimicking `strptime`'s regexes.
struct Lenient<'a> {
    b: &'a [u8],
    i: usize,
}

impl Lenient<'_> {
    fn byte(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn digit_at(&self, i: usize) -> Option<u32> {
        self.b
            .get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u32::from(c - b'0'))
    }

    fn fixed(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = v * 10 + self.digit_at(self.i)?;
            self.i += 1;
        }
        Some(v)
    }

    /// A two-digit alternative (first digit, allowed second digits) if one
    /// applies, else a single digit in `single`.
    fn field(
        &mut self,
        pairs: &[(u8, std::ops::RangeInclusive<u8>)],
        single: std::ops::RangeInclusive<u8>,
    ) -> Option<u32> {
        let (c0, c1) = (self.b.get(self.i).copied(), self.b.get(self.i + 1).copied());
        if let (Some(c0), Some(c1)) = (c0, c1) {
            if pairs.iter().any(|(a, r)| *a == c0 && r.contains(&c1)) {
                self.i += 2;
                return Some(u32::from(c0 - b'0') * 10 + u32::from(c1 - b'0'));
            }
        }
        let c0 = c0.filter(|c| single.contains(c))?;
        self.i += 1;
        Some(u32::from(c0 - b'0'))
    }

    fn two_or_one(&mut self, first: std::ops::RangeInclusive<u8>) -> Option<u32> {
        let pairs: Vec<(u8, std::ops::RangeInclusive<u8>)> =
            first.map(|c| (c, b'0'..=b'9')).collect();
        self.field(&pairs, b'0'..=b'9')
    }

    fn day(&mut self) -> Option<u32> {
        // %d: 3[01] | [12]\d | 0[1-9] | [1-9] | ' '[1-9]
        if self.b.get(self.i) == Some(&b' ') {
            self.i += 1;
            return self.field(&[], b'1'..=b'9');
        }
        self.field(
            &[
                (b'3', b'0'..=b'1'),
                (b'1', b'0'..=b'9'),
                (b'2', b'0'..=b'9'),
                (b'0', b'1'..=b'9'),
            ],
            b'1'..=b'9',
        )
    }
}

/// The first six fraction digits as microseconds (right-padded with zeros).
fn fraction_micros(frac: &[u8]) -> u32 {
    let mut v = 0u32;
    for i in 0..6 {
        let d = frac.get(i).map_or(0, |c| u32::from(c - b'0'));
        v = v * 10 + d;
    }
    v
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch, or `None` if the fields name no instant
/// (Python's `datetime` rules: years 1-9999, real day of month, second < 60).
fn instant(
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
) -> Option<i64> {
    let valid = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day));
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(secs * 1_000_000 + i64::from(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_forms() {
        let t = Timestamp::parse_strict("1970-01-01T00:00:01Z").unwrap();
        assert_eq!(t.micros(), Some(1_000_000));
        let t = Timestamp::parse_strict("2000-02-29T12:00:00.123456789Z").unwrap();
        assert_eq!(t.micros(), Some(951_825_600_123_456));
        // Syntactically fine, no such instant.
        assert_eq!(
            Timestamp::parse_strict("2023-02-29T12:00:00Z")
                .unwrap()
                .micros(),
            None
        );
        assert_eq!(
            Timestamp::parse_strict("2023-01-01T12:00:60Z")
                .unwrap()
                .micros(),
            None
        );
        for bad in [
            "2024-13-01T12:00:00Z",
            "2024-01-15T12:30:45",
            "2024/01/15T12:30:45Z",
            "2024-01-15T12:30:45.Z",
            "2024-01-15T24:00:00Z",
            "2024-01-00T00:00:00Z",
        ] {
            assert!(Timestamp::parse_strict(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lenient_forms_follow_python_strptime() {
        let ok = |s: &str| Timestamp::parse_lenient(s).and_then(|t| t.micros());
        assert_eq!(ok("2014-4-9T6:5:2Z"), ok("2014-04-09T06:05:02Z"));
        assert!(ok("2014-04- 9T06:51:26Z").is_some());
        assert_eq!(
            ok("2014-04-19T06:51:26.12345678Z"),
            ok("2014-04-19T06:51:26.123456Z")
        );
        assert!(ok("2014-04-19T06:51:26.1234567Z").is_some());
        for bad in [
            "2014-04-19T06:51:60Z",
            "2014-04-19t06:51:26Z",
            "0000-01-01T00:00:00Z",
            "2014-02-29T00:00:00Z",
            " 2014-04-19T06:51:26Z",
            "2014-04-19T06:51:26Z ",
            "2014-04-19T06:51:26.Z",
        ] {
            assert!(ok(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn epoch_arithmetic() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
    }
}

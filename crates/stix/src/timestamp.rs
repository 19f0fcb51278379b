//! STIX timestamps (STIX 2.1 section 3.2: RFC 3339, UTC, `Z`).
//!
//! A [`Timestamp`] keeps the text it was parsed from, so that output gives back
//! exactly what came in (`.000` and any number of fraction digits included),
//! and the instant in microseconds since the Unix epoch, which is what ordering,
//! equality and hashing use.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Why a text is not a STIX timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The text does not have the shape `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    #[error("'{0}' is not a timestamp of the form YYYY-MM-DDTHH:MM:SS[.s+]Z (RFC 3339, UTC)")]
    Format(String),
    /// The shape is right but a field is out of range (month 13, 30 February, hour 24 ...).
    #[error("'{0}' is not a valid date and time: {1}")]
    Range(String, &'static str),
}

/// A STIX timestamp: the original text for output, microseconds since the Unix
/// epoch for order and equality.
///
/// Two timestamps that name the same microsecond are equal even when their texts
/// differ (`2016-01-01T00:00:00Z` and `2016-01-01T00:00:00.000Z`); digits past the
/// sixth fraction digit are kept in the text but do not take part in comparisons.
///
/// ```
/// use accord_stix::Timestamp;
/// let a = Timestamp::parse("2016-04-06T20:03:48.000Z")?;
/// let b = Timestamp::parse("2016-04-06T20:03:48Z")?;
/// assert_eq!(a, b);
/// assert_eq!(a.as_str(), "2016-04-06T20:03:48.000Z");
/// assert_eq!(a.as_micros(), 1_459_973_028_000_000);
/// assert!(Timestamp::parse("2016-04-06T20:03:48+01:00").is_err());
/// # Ok::<(), accord_stix::TimestampError>(())
/// ```
#[derive(Clone)]
pub struct Timestamp {
    micros: i64,
    text: Box<str>,
}

/// Microseconds in one day.
const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Timestamp {
    /// Parses a STIX timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with an uppercase
    /// `T` and `Z`, one or more fraction digits when a dot is present, and a real
    /// calendar date (years 0001 to 9999, leap years honoured, no leap second).
    pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
        let micros = parse_micros(s)?;
        Ok(Timestamp {
            micros,
            text: s.into(),
        })
    }

    /// Checks a timestamp as [`Timestamp::parse`] does and gives its microseconds
    /// since the Unix epoch, without keeping its text (no allocation: for code that
    /// needs only the instant, once per object).
    ///
    /// ```
    /// use accord_stix::Timestamp;
    /// assert_eq!(Timestamp::micros_of("2016-04-06T20:03:48.000Z")?, 1_459_973_028_000_000);
    /// assert!(Timestamp::micros_of("2016-04-06T20:03:48").is_err());
    /// # Ok::<(), accord_stix::TimestampError>(())
    /// ```
    pub fn micros_of(s: &str) -> Result<i64, TimestampError> {
        parse_micros(s)
    }

    /// Builds a timestamp from microseconds since the Unix epoch; its text has six
    /// fraction digits (`YYYY-MM-DDTHH:MM:SS.ffffffZ`). Used for server-side
    /// `date_added`. Instants outside years 0001..=9999 are clamped to that range.
    ///
    /// ```
    /// use accord_stix::Timestamp;
    /// let t = Timestamp::from_micros(1_459_973_028_000_123);
    /// assert_eq!(t.as_str(), "2016-04-06T20:03:48.000123Z");
    /// ```
    pub fn from_micros(micros: i64) -> Timestamp {
        let micros = micros.clamp(MIN_MICROS, MAX_MICROS);
        Timestamp {
            micros,
            text: format_micros(micros).into(),
        }
    }

    /// The current time, read from the system clock. Pure code takes a
    /// `Timestamp` from its caller instead of calling this.
    pub fn now() -> Timestamp {
        let micros = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(MAX_MICROS),
            Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(MAX_MICROS),
        };
        Timestamp::from_micros(micros)
    }

    /// Microseconds since 1970-01-01T00:00:00Z (negative before).
    pub fn as_micros(&self) -> i64 {
        self.micros
    }

    /// The original text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of fraction digits in the text (0 when there is no dot).
    pub fn fraction_digits(&self) -> usize {
        match self.text.find('.') {
            Some(dot) => self.text.len() - dot - 2,
            None => 0,
        }
    }
}

/// Checks a timestamp without keeping its text: the instant in microseconds
/// and the number of fraction digits.
pub(crate) fn check(s: &str) -> Result<(i64, usize), TimestampError> {
    let micros = parse_micros(s)?;
    let digits = s.find('.').map_or(0, |dot| s.len() - dot - 2);
    Ok((micros, digits))
}

impl Timestamp {
    /// A timestamp from a text already checked by [`check`].
    pub(crate) fn from_checked(micros: i64, text: &str) -> Timestamp {
        Timestamp {
            micros,
            text: text.into(),
        }
    }
}

/// 0001-01-01T00:00:00Z.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999Z.
const MAX_MICROS: i64 = 253_402_300_799_999_999;

fn digits(b: &[u8], s: &str) -> Result<i64, TimestampError> {
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return Err(TimestampError::Format(s.to_owned()));
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Ok(v)
}

/// Parses the text into microseconds since the epoch, or says why not.
fn parse_micros(s: &str) -> Result<i64, TimestampError> {
    let b = s.as_bytes();
    let bad = || TimestampError::Format(s.to_owned());
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return Err(bad());
    }
    let year = digits(&b[0..4], s)?;
    let month = digits(&b[5..7], s)?;
    let day = digits(&b[8..10], s)?;
    let hour = digits(&b[11..13], s)?;
    let minute = digits(&b[14..16], s)?;
    let second = digits(&b[17..19], s)?;
    let mut micros_frac = 0i64;
    let rest = &b[19..b.len() - 1];
    if !rest.is_empty() {
        if rest[0] != b'.' || rest.len() < 2 {
            return Err(bad());
        }
        let frac = &rest[1..];
        if !frac.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        for i in 0..6 {
            micros_frac = micros_frac * 10 + frac.get(i).map_or(0, |c| i64::from(c - b'0'));
        }
    }
    let range = |why| TimestampError::Range(s.to_owned(), why);
    if year == 0 {
        return Err(range("year 0000 does not exist"));
    }
    if !(1..=12).contains(&month) {
        return Err(range("month must be 01 to 12"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(range("day out of range for the month"));
    }
    if hour > 23 {
        return Err(range("hour must be 00 to 23"));
    }
    if minute > 59 {
        return Err(range("minute must be 00 to 59"));
    }
    if second > 59 {
        return Err(range("second must be 00 to 59"));
    }
    let days = days_from_civil(year, month, day);
    Ok(days * MICROS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros_frac)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn format_micros(micros: i64) -> String {
    format_fixed(micros, 6)
}

/// Formats microseconds since the epoch as a STIX timestamp with millisecond precision,
/// `YYYY-MM-DDTHH:MM:SS.sssZ`: sub-millisecond digits are truncated (never later), and
/// instants outside years 0001-9999 are clamped. The form Accord writes into objects it
/// makes (sightings, retention caps).
///
/// ```
/// use accord_stix::timestamp::format_millis;
/// assert_eq!(format_millis(1_655_071_198_444_458), "2022-06-12T21:59:58.444Z");
/// assert_eq!(format_millis(i64::MAX), "9999-12-31T23:59:59.999Z");
/// ```
pub fn format_millis(micros: i64) -> String {
    format_fixed(micros, 3)
}

/// `YYYY-MM-DDTHH:MM:SS.<fraction>Z` with `fraction_digits` (3 or 6) digits, digits
/// written by hand (this runs per released object and per sighting; `format!` cost
/// more than the rest of the work).
fn format_fixed(micros: i64, fraction_digits: u32) -> String {
    let micros = micros.clamp(MIN_MICROS, MAX_MICROS);
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 1_000_000;
    let fraction = (rem % 1_000_000) / 10_i64.pow(6 - fraction_digits);
    let mut out = String::with_capacity(21 + fraction_digits as usize);
    for (value, width, separator) in [
        (y, 4, '-'),
        (m, 2, '-'),
        (d, 2, 'T'),
        (secs / 3600, 2, ':'),
        (secs / 60 % 60, 2, ':'),
        (secs % 60, 2, '.'),
        (fraction, fraction_digits, 'Z'),
    ] {
        for place in (0..width).rev() {
            let digit = (value / 10_i64.pow(place)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(separator);
    }
    out
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.micros == other.micros
    }
}
impl Eq for Timestamp {}
impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.micros.cmp(&other.micros)
    }
}
impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.micros.hash(state);
    }
}
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.text)
    }
}
impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let t = Timestamp::parse("1970-01-01T00:00:00Z").unwrap();
        assert_eq!(t.as_micros(), 0);
        let t = Timestamp::parse("1969-12-31T23:59:59.999999Z").unwrap();
        assert_eq!(t.as_micros(), -1);
        let t = Timestamp::parse("2020-02-29T12:00:00.1234567Z").unwrap();
        assert_eq!(t.as_str(), "2020-02-29T12:00:00.1234567Z");
        assert_eq!(t.as_micros() % 1_000_000, 123_456);
        assert_eq!(t.fraction_digits(), 7);
        assert!(
            Timestamp::parse("2016-01-01T00:00:00.001Z").unwrap()
                > Timestamp::parse("2016-01-01T00:00:00Z").unwrap()
        );
    }

    #[test]
    fn rejects_bad_text() {
        for s in [
            "",
            "2016-01-01",
            "2016-01-01T00:00:00",
            "2016-01-01t00:00:00Z",
            "2016-01-01T00:00:00z",
            "2016-01-01T00:00:00+00:00",
            "2016-01-01T00:00:00.Z",
            "2016-01-01 00:00:00Z",
            "2016-1-01T00:00:00Z",
            "2016-02-30T00:00:00Z",
            "2015-02-29T00:00:00Z",
            "2016-13-01T00:00:00Z",
            "2016-00-01T00:00:00Z",
            "2016-01-01T24:00:00Z",
            "2016-01-01T00:60:00Z",
            "2016-01-01T00:00:60Z",
            "0000-01-01T00:00:00Z",
            "+016-01-01T00:00:00Z",
            "2016-01-01T00:00:00.1a2Z",
            "２016-01-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn from_micros_round_trips() {
        for m in [
            0,
            1,
            -1,
            1_459_973_028_000_123,
            MIN_MICROS,
            MAX_MICROS,
            951_782_400_000_000,
        ] {
            let t = Timestamp::from_micros(m);
            assert_eq!(Timestamp::parse(t.as_str()).unwrap().as_micros(), m, "{t}");
        }
        assert_eq!(
            Timestamp::from_micros(951_782_400_000_000).as_str(),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}

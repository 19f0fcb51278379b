//! Instants and durations as the gate needs them.
//!
//! The gate compares "now" with validity periods, embargoes and retention caps,
//! so it only needs an instant with a total order and a way to print a STIX
//! timestamp. [`UtcMicros`] is microseconds since the Unix epoch, the same unit as
//! `accord_stix::Timestamp`, so the store converts with one field access.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Microseconds in one second.
const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in one day.
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// An instant in UTC, microseconds since 1970-01-01T00:00:00Z.
///
/// ```
/// use accord_agreements::UtcMicros;
/// let t = UtcMicros::parse("2026-03-01T12:00:00.5Z").unwrap();
/// assert_eq!(t.to_stix(), "2026-03-01T12:00:00.500Z");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcMicros(pub i64);

impl UtcMicros {
    /// Parses an RFC 3339 timestamp that ends in `Z` (STIX requires UTC).
    /// Returns `None` for anything else, so callers can name the field in their error.
    pub fn parse(text: &str) -> Option<UtcMicros> {
        if !text.ends_with('Z') && !text.ends_with('z') {
            return None;
        }
        let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        let micros = t.unix_timestamp_nanos() / 1_000;
        i64::try_from(micros).ok().map(UtcMicros)
    }

    /// Formats as a STIX timestamp with millisecond precision (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    /// Sub-millisecond digits are truncated, which never moves a cap later.
    pub fn to_stix(self) -> String {
        accord_stix::timestamp::format_millis(self.0)
    }

    /// The start (00:00:00Z) of this instant's UTC day.
    pub fn floor_day(self) -> UtcMicros {
        UtcMicros(self.0.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY)
    }

    /// This instant moved later by `span`, saturating at the ends of `i64`.
    pub fn plus(self, span: Span) -> UtcMicros {
        UtcMicros(self.0.saturating_add(span.0))
    }
}

impl fmt::Display for UtcMicros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_stix())
    }
}

/// A non-negative length of time in microseconds, written in agreements as
/// `"<n><unit>"` with unit `s`, `m`, `h`, `d` or `w` (`"72h"`, `"180d"`).
///
/// ```
/// use accord_agreements::Span;
/// assert_eq!(Span::parse("2d").unwrap(), Span::parse("48h").unwrap());
/// assert!(Span::parse("2 days").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub i64);

impl Span {
    /// Parses `"<digits><unit>"`; `None` on any other form or on overflow.
    pub fn parse(text: &str) -> Option<Span> {
        let unit = text.chars().last()?;
        let digits = &text[..text.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: i64 = digits.parse().ok()?;
        let seconds = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        n.checked_mul(seconds)?
            .checked_mul(MICROS_PER_SECOND)
            .map(Span)
    }

    /// Whole seconds in this span.
    pub fn as_secs(self) -> i64 {
        self.0 / MICROS_PER_SECOND
    }
}

impl fmt::Display for Span {
    /// Prints the largest unit that divides the span exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.as_secs();
        for (unit, size) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3_600), ("m", 60)] {
            if secs != 0 && secs % size == 0 {
                return write!(f, "{}{unit}", secs / size);
            }
        }
        write!(f, "{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_stix_timestamps() {
        let t = UtcMicros::parse("2016-05-12T08:17:27.000Z").unwrap();
        assert_eq!(t.0, 1_463_041_047_000_000);
        assert_eq!(t.to_stix(), "2016-05-12T08:17:27.000Z");
        assert_eq!(UtcMicros::parse("2016-05-12T08:17:27+01:00"), None);
        assert_eq!(UtcMicros::parse("yesterday"), None);
    }

    #[test]
    fn floor_day_goes_to_midnight_also_before_1970() {
        let t = UtcMicros::parse("2026-03-01T12:34:56Z").unwrap();
        assert_eq!(t.floor_day().to_stix(), "2026-03-01T00:00:00.000Z");
        let old = UtcMicros::parse("1969-12-31T23:00:00Z").unwrap();
        assert_eq!(old.floor_day().to_stix(), "1969-12-31T00:00:00.000Z");
    }

    #[test]
    fn spans_parse_units_and_reject_the_rest() {
        assert_eq!(Span::parse("90s").unwrap().as_secs(), 90);
        assert_eq!(Span::parse("1w").unwrap().as_secs(), 604_800);
        for bad in ["", "d", "-1d", "1.5d", "1y", "99999999999999999999d", "1dd"] {
            assert!(Span::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Span::parse("48h").unwrap().to_string(), "2d");
        assert_eq!(Span::parse("0s").unwrap().to_string(), "0s");
    }
}

//! STIX timestamps as microseconds since the Unix epoch.

use accord_telemetry::Micros;

use crate::Error;

/// Formats microseconds since the epoch as a STIX timestamp with millisecond precision,
/// `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC). Times outside years 0001-9999 are clamped
/// ([`accord_stix::timestamp::format_millis`]).
///
/// ```
/// assert_eq!(accord_match::format_timestamp(1_655_071_198_444_458), "2022-06-12T21:59:58.444Z");
/// assert_eq!(accord_match::format_timestamp(0), "1970-01-01T00:00:00.000Z");
/// ```
pub fn format_timestamp(us: Micros) -> String {
    accord_stix::timestamp::format_millis(us)
}

/// Parses a STIX timestamp (`Z` required, any number of fractional digits) into
/// microseconds since the epoch; `object`/`property` name it in the error.
///
/// ```
/// let us = accord_match::parse_timestamp("2022-06-12T21:59:58.444458Z", "indicator--x", "valid_from")?;
/// assert_eq!(us, 1_655_071_198_444_458);
/// assert!(accord_match::parse_timestamp("2022-06-12 21:59:58", "-", "valid_from").is_err());
/// # Ok::<(), accord_match::Error>(())
/// ```
pub fn parse_timestamp(text: &str, object: &str, property: &'static str) -> Result<Micros, Error> {
    let ok = text.len() >= 20 && text.as_bytes()[10] == b'T' && text.ends_with('Z');
    ok.then(|| accord_telemetry::parse_datetime(text))
        .flatten()
        .ok_or_else(|| Error::Timestamp {
            object: object.to_string(),
            property,
            value: text.chars().take(64).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_over_a_wide_range() {
        for us in [
            0i64,
            1,
            999,
            951_782_400_123_000,
            1_709_164_800_000_000,
            4_102_444_799_999_000,
        ] {
            let t = format_timestamp(us);
            assert_eq!(
                parse_timestamp(&t, "-", "x").unwrap(),
                us - us % 1000,
                "{t}"
            );
        }
        assert_eq!(
            format_timestamp(951_782_400_000_000),
            "2000-02-29T00:00:00.000Z"
        );
    }
}

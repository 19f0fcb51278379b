//! STIX timestamps as microseconds since the Unix epoch.

use accord_telemetry::Micros;

use crate::Error;

/// Formats microseconds since the epoch as a STIX timestamp with millisecond precision,
/// `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC). Times outside years 0000-9999 are clamped.
///
/// ```
/// assert_eq!(accord_detect::format_timestamp(1_655_071_198_444_458), "2022-06-12T21:59:58.444Z");
/// assert_eq!(accord_detect::format_timestamp(0), "1970-01-01T00:00:00.000Z");
/// ```
pub fn format_timestamp(us: Micros) -> String {
    const MIN: i64 = -62_167_219_200_000_000; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z
    let us = us.clamp(MIN, MAX);
    let secs = us.div_euclid(1_000_000);
    let millis = us.rem_euclid(1_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Parses a STIX timestamp (`Z` required, any number of fractional digits) into
/// microseconds since the epoch; `object`/`property` name it in the error.
///
/// ```
/// let us = accord_detect::parse_timestamp("2022-06-12T21:59:58.444458Z", "indicator--x", "valid_from")?;
/// assert_eq!(us, 1_655_071_198_444_458);
/// assert!(accord_detect::parse_timestamp("2022-06-12 21:59:58", "-", "valid_from").is_err());
/// # Ok::<(), accord_detect::Error>(())
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

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
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

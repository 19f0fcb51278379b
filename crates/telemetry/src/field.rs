//! Decoding of single field values: times, addresses, ports, numbers, flags, Zeek escapes.
//!
//! All functions take a `&str` slice of the line and return `None` on anything they do
//! not accept; the reader turns that into an [`Error::Record`](crate::Error::Record)
//! naming the column. They never allocate, except [`unescape_zeek`] when the text is
//! actually escaped.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::record::{Micros, Proto};

/// Microseconds in one second.
const MICROS: i64 = 1_000_000;

/// Parses an epoch timestamp in seconds with an optional fraction (`1655071198.444458`),
/// as Zeek writes `time` values. Digits past the sixth fractional digit are truncated.
pub fn parse_epoch(s: &str) -> Option<Micros> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (int_part, frac_part) = match memchr::memchr(b'.', b) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if int_part.len() > 12 || !int_part.iter().all(u8::is_ascii_digit) {
        // Exponent notation (a JSON writer may use it) goes through f64.
        return parse_epoch_float(s);
    }
    if !frac_part.iter().all(u8::is_ascii_digit) {
        return parse_epoch_float(s);
    }
    let mut secs: i64 = 0;
    for &d in int_part {
        secs = secs * 10 + i64::from(d - b'0');
    }
    let mut frac: i64 = 0;
    for i in 0..6 {
        frac *= 10;
        if let Some(&d) = frac_part.get(i) {
            frac += i64::from(d - b'0');
        }
    }
    Some(secs * MICROS + frac)
}

fn parse_epoch_float(s: &str) -> Option<Micros> {
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() || !(0.0..=253_402_300_799.0).contains(&v) {
        return None;
    }
    Some((v * 1e6).round() as i64)
}

/// Parses a calendar time: `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM]`.
///
/// Without a zone designator the time is taken as UTC (nfdump prints local time: run
/// it with `TZ=UTC`, as the README says).
pub fn parse_datetime(s: &str) -> Option<Micros> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |a, &d| a * 10 + i64::from(d - b'0')))
    };
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut frac: i64 = 0;
    if let Some((&b'.', tail)) = rest.split_first() {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for i in 0..6 {
            frac = frac * 10
                + tail
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |&d| i64::from(d - b'0'));
        }
        rest = &tail[n..];
    }
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let h = i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0');
            let m = i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0');
            let o = (h * 60 + m) * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(secs * MICROS + frac)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
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

/// Parses a time that is either epoch seconds or a calendar time.
pub fn parse_any_time(s: &str) -> Option<Micros> {
    if s.len() >= 19 && s.as_bytes().get(4) == Some(&b'-') {
        parse_datetime(s)
    } else {
        parse_epoch(s)
    }
}

/// Parses an IPv4 or IPv6 address (no zone, no brackets).
///
/// Dotted-quad IPv4 — nearly every address in telemetry — takes a hand-written path
/// (the same strictness as the standard library: four decimal octets of at most three
/// digits, no leading zeros, each at most 255); anything else goes to the standard
/// parser.
#[inline]
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    match parse_ipv4_fast(s.as_bytes()) {
        Some(a) => Some(IpAddr::V4(std::net::Ipv4Addr::from(a))),
        None if s.len() > 15 || s.contains(':') => s.parse().ok(),
        None => None,
    }
}

#[inline]
fn parse_ipv4_fast(b: &[u8]) -> Option<u32> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut addr: u32 = 0;
    let mut octet: u32 = 0;
    let mut digits = 0u32;
    let mut dots = 0u32;
    let mut first_zero = false;
    for &c in b {
        if c == b'.' {
            if digits == 0 || dots == 3 {
                return None;
            }
            addr = (addr << 8) | octet;
            octet = 0;
            digits = 0;
            dots += 1;
        } else {
            let d = c.wrapping_sub(b'0');
            if d > 9 || digits == 3 || (digits == 1 && first_zero) {
                return None;
            }
            if digits == 0 {
                first_zero = d == 0;
            }
            octet = octet * 10 + u32::from(d);
            if octet > 255 {
                return None;
            }
            digits += 1;
        }
    }
    if dots != 3 || digits == 0 {
        return None;
    }
    Some((addr << 8) | octet)
}

/// Parses a port number (0-65535).
#[inline]
pub fn parse_port(s: &str) -> Option<u16> {
    parse_u64(s).and_then(|v| u16::try_from(v).ok())
}

/// Parses an unsigned decimal integer; nfdump's scaled forms (`1.2 M`) are accepted.
pub fn parse_u64(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 20 {
        return parse_scaled(s);
    }
    let mut v: u64 = 0;
    for &d in b {
        if !d.is_ascii_digit() {
            return parse_scaled(s);
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

/// nfdump abbreviates large counters: `1.2 M`, `3.4 G`.
fn parse_scaled(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1e3),
        b'M' => (&s[..s.len() - 1], 1e6),
        b'G' => (&s[..s.len() - 1], 1e9),
        b'T' => (&s[..s.len() - 1], 1e12),
        _ => return None,
    };
    let v: f64 = num.trim().parse().ok()?;
    let v = v * mult;
    (v.is_finite() && (0.0..1.8e19).contains(&v)).then_some(v.round() as u64)
}

/// Parses a non-negative decimal number (durations, intervals).
///
/// `digits[.digits]` with up to 15 significant digits is computed exactly (an integer
/// divided by a power of ten, which IEEE division rounds correctly, so the result is
/// the one the standard parser gives); other forms go to the standard parser.
pub fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 16 {
        let mut mantissa: u64 = 0;
        let mut frac_digits: i32 = -1;
        let mut ok = true;
        for &c in b {
            if c == b'.' && frac_digits < 0 {
                frac_digits = 0;
                continue;
            }
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                ok = false;
                break;
            }
            mantissa = mantissa * 10 + u64::from(d);
            if frac_digits >= 0 {
                frac_digits += 1;
            }
        }
        let digits = b.len() - usize::from(frac_digits >= 0);
        if ok && digits > 0 && digits <= 15 {
            const POW10: [f64; 16] = [
                1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                1e15,
            ];
            let scale = POW10[frac_digits.max(0) as usize];
            return Some(mantissa as f64 / scale);
        }
    }
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Parses a Zeek `bool` (`T`/`F`) or JSON-ish `true`/`false`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.as_bytes() {
        [b'T'] | [b'1'] | [b't', b'r', b'u', b'e'] => Some(true),
        [b'F'] | [b'0'] | [b'f', b'a', b'l', b's', b'e'] => Some(false),
        _ => None,
    }
}

/// Parses a protocol given by name (`tcp`, `UDP`, `unknown_transport`) or number (`6`).
pub fn parse_proto(s: &str) -> Option<Proto> {
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_digit) {
        let n: u8 = s.parse().ok()?;
        return Some(match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 | 58 => Proto::Icmp,
            n => Proto::Other(n),
        });
    }
    if s.eq_ignore_ascii_case("tcp") {
        Some(Proto::Tcp)
    } else if s.eq_ignore_ascii_case("udp") {
        Some(Proto::Udp)
    } else if s.eq_ignore_ascii_case("icmp") || s.eq_ignore_ascii_case("icmp6") {
        Some(Proto::Icmp)
    } else if s.eq_ignore_ascii_case("unknown_transport") {
        Some(Proto::Unknown)
    } else {
        (1..=255u8)
            .find(|&n| proto_name(n).is_some_and(|name| name.eq_ignore_ascii_case(s)))
            .map(Proto::Other)
    }
}

/// IANA keyword (lower case, as STIX uses it) of the IP protocols flow exporters commonly
/// report besides TCP, UDP and ICMP.
pub fn proto_name(n: u8) -> Option<&'static str> {
    Some(match n {
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        89 => "ospf",
        103 => "pim",
        132 => "sctp",
        _ => return None,
    })
}

/// Decodes Zeek's ASCII escapes (`\xHH`, used for separators and non-printable bytes).
///
/// Borrowed unless the text contains an escape. Decoded bytes that are not valid UTF-8
/// become U+FFFD.
///
/// ```
/// use accord_telemetry::unescape_zeek;
/// assert_eq!(unescape_zeek("a\\x09b"), "a\tb");
/// assert!(matches!(unescape_zeek("plain"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn unescape_zeek(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    let Some(first) = memchr::memmem::find(b, b"\\x") else {
        return Cow::Borrowed(s);
    };
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first]);
    let mut i = first;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            if let (Some(h), Some(l)) = (
                b.get(i + 2).and_then(|c| hex_val(*c)),
                b.get(i + 3).and_then(|c| hex_val(*c)),
            ) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_exact_to_the_microsecond() {
        assert_eq!(
            parse_epoch("1655071198.444458"),
            Some(1_655_071_198_444_458)
        );
        assert_eq!(parse_epoch("19.981745"), Some(19_981_745));
        assert_eq!(parse_epoch("5"), Some(5_000_000));
        assert_eq!(parse_epoch("5.1"), Some(5_100_000));
        assert_eq!(parse_epoch("5.1234567"), Some(5_123_456));
        assert_eq!(parse_epoch("1.6e9"), Some(1_600_000_000_000_000));
        assert_eq!(parse_epoch(""), None);
        assert_eq!(parse_epoch("."), None);
        assert_eq!(parse_epoch("-1"), None);
        assert_eq!(parse_epoch("abc"), None);
    }

    #[test]
    fn datetime_forms() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_datetime("2022-06-12T21:59:58.444458Z"),
            Some(1_655_071_198_444_458)
        );
        assert_eq!(
            parse_datetime("2022-06-12 21:59:58.444"),
            Some(1_655_071_198_444_000)
        );
        assert_eq!(
            parse_datetime("2022-06-12T23:59:58+02:00"),
            Some(1_655_071_198_000_000)
        );
        assert_eq!(parse_datetime("2022-02-30 00:00:00"), None);
        assert!(parse_datetime("2024-02-29 00:00:00").is_some());
        assert_eq!(parse_datetime("2022-06-12 21:59:58."), None);
        assert_eq!(parse_datetime("2022-06-12 21:59:58 junk"), None);
    }

    #[test]
    fn numbers_and_flags() {
        assert_eq!(parse_port("65535"), Some(65535));
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64("1.5 M"), Some(1_500_000));
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("x"), None);
        assert_eq!(parse_proto("TCP"), Some(Proto::Tcp));
        assert_eq!(parse_proto("47"), Some(Proto::Other(47)));
        assert_eq!(parse_proto("gre"), Some(Proto::Other(47)));
        assert_eq!(parse_proto("unknown_transport"), Some(Proto::Unknown));
        assert_eq!(parse_proto("bogus"), None);
    }

    #[test]
    fn fast_paths_agree_with_std() {
        for s in [
            "0.0.0.0",
            "255.255.255.255",
            "1.2.3.4",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            "1.2.3.-4",
            "::1",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "1234.1.1.1",
            "1.2.3.000",
            "",
        ] {
            assert_eq!(parse_ip(s), s.parse().ok(), "{s:?}");
        }
        for s in [
            "0",
            "0.5",
            "0.136721",
            "2.997940",
            "123456789012345",
            "1.",
            ".5",
            "1e3",
            "99999999999999999",
            "1.2.3",
            "x",
            "",
            ".",
        ] {
            let want = s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
            assert_eq!(parse_f64(s), want, "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ip_fast_path_is_std(s in "[0-9.:a-f]{0,20}", a in proptest::prelude::any::<u32>()) {
            proptest::prop_assert_eq!(parse_ip(&s), s.parse().ok());
            let dotted = std::net::Ipv4Addr::from(a).to_string();
            proptest::prop_assert_eq!(parse_ip(&dotted), Some(IpAddr::V4(a.into())));
        }

        #[test]
        fn f64_fast_path_is_std(s in "[0-9]{0,9}(\\.[0-9]{0,8})?") {
            let want = s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
            proptest::prop_assert_eq!(parse_f64(&s), want);
        }
    }

    #[test]
    fn zeek_escapes() {
        assert_eq!(unescape_zeek("\\x2c\\x"), ",\\x");
        assert_eq!(unescape_zeek("\\xff"), "\u{fffd}");
        assert_eq!(unescape_zeek("\\xc3\\xa9"), "é");
    }
}

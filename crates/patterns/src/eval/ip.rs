//! `ISSUBSET` / `ISSUPERSET`: containment of addresses and CIDR networks.
//!
//! IPv4 follows the OASIS matcher exactly: addresses are read with the C
//! library's `inet_aton` rules (so `10.1` and `0x0a.0.0.1` are addresses),
//! a network needs a prefix length of 1 to 32, and a malformed address or
//! network is an error.
//!
//! IPv6 is an extension: the OASIS matcher raises an error for IPv6
//! addresses; here, when the IPv4 reading fails and both sides are IPv6
//! (prefix 0 to 128), containment is computed, and an IPv6 value tested
//! against an IPv4 network (or the reverse) is simply not contained.

use std::net::Ipv6Addr;

/// A parsed address or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net {
    V4 { addr: u32, prefix: u8 },
    V6 { addr: u128, prefix: u8 },
}

/// Reads an IPv4 address like glibc's `inet_aton`: one to four parts,
/// each decimal, octal (leading `0`) or hex (`0x`); the last part fills the
/// remaining bytes; trailing whitespace (and anything after it) is ignored.
pub(crate) fn inet_aton(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    let val = loop {
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (mut val, mut base, mut digit) = (0u64, 10u64, false);
        if b[i] == b'0' {
            i += 1;
            if matches!(b.get(i), Some(b'x' | b'X')) {
                base = 16;
                i += 1;
            } else {
                base = 8;
                digit = true;
            }
        }
        while let Some(&c) = b.get(i) {
            let d = match c {
                b'0'..=b'9' if base == 8 && c >= b'8' => return None,
                b'0'..=b'9' => u64::from(c - b'0'),
                b'a'..=b'f' if base == 16 => u64::from(c - b'a' + 10),
                b'A'..=b'F' if base == 16 => u64::from(c - b'A' + 10),
                _ => break,
            };
            val = val.checked_mul(base)?.checked_add(d)?;
            if val > u64::from(u32::MAX) {
                return None;
            }
            digit = true;
            i += 1;
        }
        if !digit {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            if parts.len() >= 3 || val > 0xff {
                return None;
            }
            parts.push(val);
            i += 1;
        } else {
            break val;
        }
    };
    if let Some(&c) = b.get(i) {
        if !(c.is_ascii_whitespace() || c == 0x0b) {
            return None;
        }
    }
    let max_last: u64 = match parts.len() {
        0 => 0xffff_ffff,
        1 => 0x00ff_ffff,
        2 => 0xffff,
        _ => 0xff,
    };
    if val > max_last {
        return None;
    }
    let mut addr = val;
    for (k, p) in parts.iter().enumerate() {
        addr |= p << (24 - 8 * k);
    }
    u32::try_from(addr).ok()
}

/// Reads `a.b.c.d/n` with the matcher's rules (prefix digits only, 1..=32).
fn cidr_v4(s: &str) -> Option<(u32, u8)> {
    let (ip, prefix) = s.split_once('/')?;
    let addr = inet_aton(ip)?;
    if prefix.is_empty() || !prefix.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = prefix.parse().ok().unwrap_or(u32::MAX);
    (1..=32).contains(&n).then_some((addr, n as u8))
}

fn v6(s: &str, network: bool) -> Option<Net> {
    let (ip, prefix) = match s.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None if !network => (s, None),
        None => return None,
    };
    let addr = u128::from(ip.parse::<Ipv6Addr>().ok()?);
    let prefix = match prefix {
        Some(p) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
            let n: u32 = p.parse().ok()?;
            u8::try_from(n).ok().filter(|n| *n <= 128)?
        }
        Some(_) => return None,
        None => 128,
    };
    Some(Net::V6 { addr, prefix })
}

/// Reads a value that may be an address or a network (the contained side).
pub(crate) fn parse_member(s: &str) -> Option<Net> {
    let v4 = if s.contains('/') {
        cidr_v4(s).map(|(addr, prefix)| Net::V4 { addr, prefix })
    } else {
        inet_aton(s).map(|addr| Net::V4 { addr, prefix: 32 })
    };
    v4.or_else(|| v6(s, false))
}

/// Reads a network (the containing side).
pub(crate) fn parse_network(s: &str) -> Option<Net> {
    cidr_v4(s)
        .map(|(addr, prefix)| Net::V4 { addr, prefix })
        .or_else(|| v6(s, true))
}

/// Whether `inner` lies within `outer`.
pub(crate) fn contains(outer: Net, inner: Net) -> bool {
    match (outer, inner) {
        (
            Net::V4 {
                addr: o,
                prefix: op,
            },
            Net::V4 {
                addr: i,
                prefix: ip,
            },
        ) => {
            let mask = if op == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(op))
            };
            op <= ip && (o & mask) == (i & mask)
        }
        (
            Net::V6 {
                addr: o,
                prefix: op,
            },
            Net::V6 {
                addr: i,
                prefix: ip,
            },
        ) => {
            let mask = if op == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(op))
            };
            op <= ip && (o & mask) == (i & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("1.2.3.4"), Some(0x0102_0304));
        assert_eq!(inet_aton("10.1"), Some(0x0a00_0001));
        assert_eq!(inet_aton("1.2.3"), Some(0x0102_0003));
        assert_eq!(inet_aton("16909060"), Some(0x0102_0304));
        assert_eq!(inet_aton("0x7f.1"), Some(0x7f00_0001));
        assert_eq!(inet_aton("010.0.0.1"), Some(0x0800_0001));
        assert_eq!(inet_aton("1.2.3.4 trailing"), Some(0x0102_0304));
        for bad in [
            "",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "08.1.1.1",
            "1..2",
            "a.b.c.d",
            "0x",
            "1.2.3.4x",
            "4294967296",
            "::1",
        ] {
            assert_eq!(inet_aton(bad), None, "{bad}");
        }
    }

    #[test]
    fn containment() {
        let net = parse_network("11.22.33.44/20").unwrap();
        assert!(contains(net, parse_member("11.22.33.44").unwrap()));
        assert!(contains(net, parse_member("11.22.32.0/21").unwrap()));
        assert!(!contains(net, parse_member("11.22.0.0/16").unwrap()));
        assert!(parse_network("1.2.3.4/0").is_none());
        assert!(parse_network("1.2.3.4/33").is_none());
        assert!(parse_network("1.2.3.4").is_none());
        let v6net = parse_network("2001:db8::/32").unwrap();
        assert!(contains(v6net, parse_member("2001:db8::1").unwrap()));
        assert!(!contains(v6net, parse_member("2001:db9::1").unwrap()));
        assert!(!contains(net, parse_member("2001:db8::1").unwrap()));
    }
}

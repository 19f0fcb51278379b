//! A slow address scanner written to be obviously correct, the oracle the fast one
//! ([`super::scan`]) is tested and fuzzed against: the fast scanner must find every
//! address this one finds (it finds more: windows of longer dotted numbers, short
//! glued forms, prefixed IPv4 carried in IPv6).
//!
//! It decodes the whole text into logical characters with its own decoder (Unicode
//! NFKC from the `unicode-normalization` crate instead of a table), then tries every
//! substring of up to 80 logical characters against each form, parsed by the
//! standard library, with the boundary rules the documentation states.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use unicode_normalization::UnicodeNormalization;

/// One logical character: what it reads as (`'\u{80}'` for anything that reads as
/// no ASCII character).
type Logical = char;

const NONE: Logical = '\u{80}';

/// The logical characters of `text`.
pub fn logical(text: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (c, len) = decode_one(rest);
        out.push(c);
        rest = &rest[len..];
    }
    out
}

fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// What a code point reads as: itself if ASCII, its NFKC form if that is one ASCII
/// character, `.` for the ideographic full stops, else [`NONE`].
fn read_char(c: char) -> Logical {
    if c.is_ascii() {
        return c;
    }
    if c == '\u{3002}' || c == '\u{FF61}' {
        return '.';
    }
    let n: String = c.to_string().nfkc().collect();
    let mut it = n.chars();
    match (it.next(), it.next()) {
        (Some(a), None)
            if a.is_ascii_alphanumeric() || matches!(a, '.' | ':' | '/' | '-' | '_' | '%') =>
        {
            a
        }
        _ => NONE,
    }
}

fn hex_digits(s: &str, min: usize, max: usize) -> Option<(u32, usize)> {
    let n = s
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_hexdigit)
        .count();
    if n < min {
        return None;
    }
    Some((u32::from_str_radix(&s[..n], 16).ok()?, n))
}

/// The logical character at the start of `s` and its length in bytes.
fn decode_one(s: &str) -> (Logical, usize) {
    let first = s.chars().next().unwrap_or(NONE);
    // Percent-encoding (nested `%25`, UTF-8 sequences).
    if first == '%' {
        let mut i = 1;
        while starts_ci(&s[i..], "25") && hex_digits(&s[i + 2..], 2, 2).is_some() {
            i += 2;
        }
        if let Some((b, _)) = hex_digits(&s[i..], 2, 2) {
            let mut bytes = vec![b as u8];
            let mut j = i + 2;
            while bytes.len() < 4 && std::str::from_utf8(&bytes).is_err() {
                match s[j..].strip_prefix('%').and_then(|r| hex_digits(r, 2, 2)) {
                    Some((b, _)) => {
                        bytes.push(b as u8);
                        j += 3;
                    }
                    None => return (NONE, j),
                }
            }
            return match std::str::from_utf8(&bytes) {
                Ok(t) => (t.chars().next().map_or(NONE, read_char), j),
                Err(_) => (NONE, j),
            };
        }
    }
    if first == '\\' {
        let slashes = s.bytes().take_while(|&b| b == b'\\').count();
        let rest = &s[slashes..];
        if let Some(c) = rest.chars().next().filter(|c| ".:/-".contains(*c)) {
            return (c, slashes + 1);
        }
        if let Some(r) = rest.strip_prefix('x') {
            if let Some((v, _)) = hex_digits(r, 2, 2) {
                return (char::from_u32(v).map_or(NONE, read_char), slashes + 3);
            }
        }
        if let Some(r) = rest.strip_prefix("u{") {
            if let Some((v, n)) = hex_digits(r, 1, 6) {
                if r[n..].starts_with('}') {
                    return (char::from_u32(v).map_or(NONE, read_char), slashes + 3 + n);
                }
            }
        }
        if let Some(r) = rest.strip_prefix('u') {
            if let Some((v, _)) = hex_digits(r, 4, 4) {
                return (char::from_u32(v).map_or(NONE, read_char), slashes + 5);
            }
        }
    }
    if first == '&' {
        for (name, c) in [("&period;", '.'), ("&colon;", ':'), ("&sol;", '/')] {
            if starts_ci(s, name) {
                return (c, name.len());
            }
        }
        let (radix, skip) = if starts_ci(s, "&#x") {
            (16, 3)
        } else if s.starts_with("&#") {
            (10, 2)
        } else {
            (0, 0)
        };
        if radix > 0 {
            let digits = s[skip..].chars().take_while(|c| c.is_digit(radix)).count();
            if (1..=7).contains(&digits) && s[skip + digits..].starts_with(';') {
                let v = u32::from_str_radix(&s[skip..skip + digits], radix).unwrap_or(0);
                return (char::from_u32(v).map_or(NONE, read_char), skip + digits + 1);
            }
        }
    }
    // Defangs: optional space, bracket, optional space, `.`/`dot`/`:`, optional
    // space, closing bracket (and the closing space when one opened).
    for lead in ["", " "] {
        if !s.starts_with(lead) {
            continue;
        }
        for (open, close) in [('[', ']'), ('(', ')'), ('{', '}'), ('<', '>')] {
            for inner in [".", "dot", ":"] {
                for pad in ["", " "] {
                    for pad2 in ["", " "] {
                        let group = format!("{lead}{open}{pad}{inner}{pad2}{close}");
                        if starts_ci(s, &group) {
                            let c = if inner == ":" { ':' } else { '.' };
                            if lead.is_empty() {
                                return (c, group.len());
                            }
                            if s[group.len()..].starts_with(' ') {
                                return (c, group.len() + 1);
                            }
                        }
                    }
                }
            }
        }
    }
    if starts_ci(s, " dot ") {
        return ('.', 5);
    }
    if s.starts_with(" . ") {
        return ('.', 3);
    }
    (read_char(first), first.len_utf8())
}

fn is_hex(c: Logical) -> bool {
    c.is_ascii_hexdigit()
}

/// The decimal and the `inet_aton` value of a part.
type PartValues = (Option<u128>, Option<u128>);

/// An `inet_aton` part: decimal, `0` + octal, `0x` + hex. Returns (all-decimal
/// value if decimal, inet_aton value).
fn aton_part(p: &str) -> Option<PartValues> {
    if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v = u128::from_str_radix(h.trim_start_matches('0'), 16)
            .ok()
            .or(Some(0).filter(|_| h.trim_start_matches('0').is_empty()));
        return Some((None, v));
    }
    if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let dec = p.parse::<u128>().ok();
    let aton = if p.len() > 1 && p.starts_with('0') {
        u128::from_str_radix(p, 8).ok()
    } else {
        dec
    };
    Some((dec, aton))
}

/// Every address (not network) that some form of the documentation reads in `text`.
pub fn addresses(text: &str) -> BTreeSet<IpAddr> {
    let l = logical(text);
    let mut out = BTreeSet::new();
    let at = |k: isize| -> Logical {
        if k < 0 {
            NONE
        } else {
            l.get(k as usize).copied().unwrap_or(NONE)
        }
    };
    for i in 0..l.len() {
        for j in i + 1..=(i + 80).min(l.len()) {
            let s: String = l[i..j].iter().collect();
            let (i, j) = (i as isize, j as isize);
            let prev = at(i - 1);
            let next = at(j);
            let after: String = l[j as usize..].iter().take(14).collect();
            v4_forms(&s, prev, at(i - 2), next, at(j + 1), &after, &mut out);
            v6_forms(&s, prev, at(i - 2), next, at(j + 1), &after, &mut out);
        }
    }
    out
}

fn v4_forms(
    s: &str,
    prev: Logical,
    prev2: Logical,
    next: Logical,
    next2: Logical,
    after: &str,
    out: &mut BTreeSet<IpAddr>,
) {
    let parts: Vec<&str> = s.split('.').collect();
    let whole_parts = !prev.is_ascii_alphanumeric() && !next.is_ascii_alphanumeric();
    let arpa = starts_ci(after, ".in-addr.arpa") || starts_ci(after, ".ip6.arpa");
    let parsed: Option<Vec<PartValues>> = parts.iter().map(|p| aton_part(p)).collect();
    if let Some(values) = parsed.filter(|_| whole_parts) {
        let read = |pick: fn(&PartValues) -> Option<u128>| -> Vec<u128> {
            values.iter().filter_map(pick).collect()
        };
        for vals in [read(|v| v.0), read(|v| v.1)] {
            if vals.len() != parts.len() {
                continue;
            }
            // Four parts, each a byte; a prefix with no host bit set makes a network.
            if vals.len() == 4 && vals.iter().all(|v| *v <= 255) && !arpa {
                let addr =
                    Ipv4Addr::new(vals[0] as u8, vals[1] as u8, vals[2] as u8, vals[3] as u8);
                if !is_network_v4(addr, after) {
                    out.insert(IpAddr::V4(addr));
                }
            }
            // Short forms, alone (not part of a longer dotted number).
            let alone =
                !(prev == '.' && prev2.is_ascii_digit() || next == '.' && next2.is_ascii_digit());
            if alone && !arpa && (vals.len() == 2 || vals.len() == 3) {
                let (head, last) = vals.split_at(vals.len() - 1);
                let bits = if vals.len() == 3 { 16 } else { 24 };
                if head.iter().all(|v| *v <= 255) && last[0] > 255 && last[0] < 1 << bits {
                    let mut v = last[0] as u32;
                    for (k, h) in head.iter().enumerate() {
                        v |= (*h as u32) << (24 - 8 * k);
                    }
                    out.insert(IpAddr::V4(Ipv4Addr::from(v)));
                }
            }
        }
        // One number standing alone.
        let glued_before = prev.is_ascii_alphanumeric()
            || "-_".contains(prev)
            || prev == '.' && prev2.is_ascii_digit();
        let glued_after = next.is_ascii_alphanumeric()
            || "-_".contains(next)
            || next == '.' && next2.is_ascii_digit();
        let lone = !glued_before && !glued_after;
        if parts.len() == 1 && lone {
            let p = parts[0];
            let (dec, aton) = values[0];
            let hex = p.starts_with("0x") || p.starts_with("0X");
            let significant = p
                .trim_start_matches("0x")
                .trim_start_matches("0X")
                .trim_start_matches('0')
                .len();
            let v4 = |v: Option<u128>| v.filter(|v| (1 << 24..1 << 32).contains(v));
            if hex {
                if let Some(v) = v4(aton).filter(|_| significant <= 8) {
                    out.insert(IpAddr::V4(Ipv4Addr::from(v as u32)));
                } else if let Some(v) = aton.filter(|v| *v >> 64 != 0 && significant <= 32) {
                    out.insert(IpAddr::V6(Ipv6Addr::from(v)));
                }
            } else {
                if (8..=10).contains(&significant) {
                    if let Some(v) = v4(dec) {
                        out.insert(IpAddr::V4(Ipv4Addr::from(v as u32)));
                    }
                }
                if p.starts_with('0') && significant <= 11 {
                    if let Some(v) = v4(aton) {
                        out.insert(IpAddr::V4(Ipv4Addr::from(v as u32)));
                    }
                }
                if (20..=39).contains(&significant) {
                    if let Some(v) = dec.filter(|v| *v >> 64 != 0) {
                        out.insert(IpAddr::V6(Ipv6Addr::from(v)));
                    }
                }
            }
        }
    }
    // Reversed before .in-addr.arpa: four decimal bytes.
    if starts_ci(after, ".in-addr.arpa")
        && !after[".in-addr.arpa".len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && parts.len() == 4
        && !prev.is_ascii_alphanumeric()
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        let v: Vec<u128> = parts.iter().filter_map(|p| p.parse().ok()).collect();
        if v.len() == 4 && v.iter().all(|x| *x <= 255) {
            out.insert(IpAddr::V4(Ipv4Addr::new(
                v[3] as u8, v[2] as u8, v[1] as u8, v[0] as u8,
            )));
        }
    }
    // Four decimal bytes joined by `-` or `_`, not part of a longer such run.
    for sep in ['-', '_'] {
        let pieces: Vec<&str> = s.split(sep).collect();
        if pieces.len() == 4
            && pieces
                .iter()
                .all(|p| (1..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
            && !prev.is_ascii_alphanumeric()
            && !(prev == sep && prev2.is_ascii_digit())
            && !next.is_ascii_digit()
            && !(next == sep && next2.is_ascii_digit())
        {
            let v: Vec<u32> = pieces.iter().filter_map(|p| p.parse().ok()).collect();
            if v.iter().all(|x| *x <= 255) {
                out.insert(IpAddr::V4(Ipv4Addr::new(
                    v[0] as u8, v[1] as u8, v[2] as u8, v[3] as u8,
                )));
            }
        }
    }
}

/// Whether `/n` follows (n ≤ 32, no digit after) and leaves every host bit of `addr` zero.
fn is_network_v4(addr: Ipv4Addr, after: &str) -> bool {
    prefix_len(after, 32).is_some_and(|n| n < 32 && u32::from(addr) << n == 0 || n == 32)
}

fn prefix_len(after: &str, max: u32) -> Option<u32> {
    let digits: String = after
        .strip_prefix('/')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    digits.parse().ok().filter(|n| *n <= max)
}

fn v6_forms(
    s: &str,
    prev: Logical,
    prev2: Logical,
    next: Logical,
    next2: Logical,
    after: &str,
    out: &mut BTreeSet<IpAddr>,
) {
    // Nibble names: 32 single hex digits each followed by a dot, then ip6.arpa.
    let arpa_end = after.chars().nth("ip6.arpa".len());
    if s.len() == 64
        && s.ends_with('.')
        && starts_ci(after, "ip6.arpa")
        && !arpa_end.is_some_and(|c| c.is_ascii_alphanumeric())
        && !prev.is_ascii_alphanumeric()
    {
        let nibbles: Vec<u32> = s
            .split('.')
            .filter_map(|n| {
                (n.len() == 1)
                    .then(|| n.chars().next().and_then(|c| c.to_digit(16)))
                    .flatten()
            })
            .collect();
        if nibbles.len() == 32 {
            let a = nibbles
                .iter()
                .rev()
                .fold(0u128, |acc, n| acc << 4 | u128::from(*n));
            out.insert(IpAddr::V6(Ipv6Addr::from(a)));
        }
    }
    let Ok(addr) = s.parse::<Ipv6Addr>() else {
        return;
    };
    // Where the fast scanner starts: at the start of a run, after a dot, or after a
    // single colon.
    let start_ok = (!is_hex(prev) && prev != ':') || (prev == ':' && prev2 != ':');
    // Read to its end: no further hex digit, group or dotted tail follows.
    let end_ok =
        !(is_hex(next) || next == ':' && is_hex(next2) || next == '.' && next2.is_ascii_digit());
    if !start_ok || !end_ok || u128::from(addr) == 0 {
        return;
    }
    let a = u128::from(addr);
    if let Some(n) = prefix_len(after, 128) {
        if n == 128 || a << n == 0 {
            return;
        }
        out.insert(IpAddr::V6(addr));
        return;
    }
    out.insert(IpAddr::V6(addr));
    let seg = addr.segments();
    let low = Ipv4Addr::from(a as u32);
    let upper96 = a >> 32;
    let low32 = s.contains('.')
        || (upper96 == 0 && u32::from(low) >= 1 << 24)
        || addr.to_ipv4_mapped().is_some()
        || upper96 == 0xFFFF_0000
        || (seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
        || (seg[..3] == [0x64, 0xff9b, 1])
        || (seg[4] & 0xFDFF == 0 && seg[5] == 0x5EFE)
        || seg[0] == 0x2002;
    if low32 {
        out.insert(IpAddr::V4(low));
    }
    if seg[0] == 0x2002 {
        out.insert(IpAddr::V4(Ipv4Addr::from(
            u32::from(seg[1]) << 16 | u32::from(seg[2]),
        )));
    }
    if seg[0] == 0x2001 && seg[1] == 0 {
        out.insert(IpAddr::V4(Ipv4Addr::from(
            u32::from(seg[2]) << 16 | u32::from(seg[3]),
        )));
        out.insert(IpAddr::V4(Ipv4Addr::from(!(a as u32))));
    }
    if seg[..3] == [0x64, 0xff9b, 1] {
        let o = addr.octets();
        out.insert(IpAddr::V4(Ipv4Addr::new(o[6], o[7], o[9], o[10])));
    }
}

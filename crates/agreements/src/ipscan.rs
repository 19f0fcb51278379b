//! Finding IP address literals in free text.
//!
//! One scanner serves both ends: [`crate::ObjectFacts::extract`] records every
//! literal at ingest, and the gate's transformation replaces the customer ones in
//! the released text. Because both use the same function, what the facts say is
//! exactly what the transformation rewrites.
//!
//! Forms recognised:
//! - dotted IPv4 (`192.0.2.1`), octets with leading zeros read as decimal
//!   (`010.0.0.1` is 10.0.0.1), and the defanged separators `[.]`, `(.)`, `{.}`;
//! - IPv6 in any form the standard library parses (compressed, uppercase, with a
//!   dotted IPv4 tail), inside brackets or not;
//! - an optional `/prefix` after either, making a network literal;
//! - IPv6 text that carries an IPv4 address: `::ffff:a.b.c.d`, `::ffff:a00:1`
//!   (IPv4-mapped), and any IPv6 literal written with a dotted IPv4 tail
//!   (IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`): these are reported
//!   as the IPv4 address they carry.
//!
//! Not recognised (documented in docs/agreements.md): integer or hexadecimal
//! forms of an IPv4 address (`3221225985`, `0xC0000201`), NAT64 in hex form.
//!
//! A dotted quad that is part of a longer dotted number (`1.2.3.4.5`, a version
//! string) is not an address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Longest IPv6 text considered (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255` is 45).
const MAX_V6_TEXT: usize = 45;

/// How a literal was written, so a replacement keeps its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiteralForm {
    /// A dotted IPv4 address or network (possibly defanged).
    V4,
    /// An IPv6 address or network.
    V6,
    /// IPv6 text carrying an IPv4 address; `head_end` is the byte offset (in the
    /// scanned text) where the carried IPv4 part starts, or `None` for the hex
    /// IPv4-mapped form (`::ffff:a00:1`), which is rewritten as `::ffff:<v4>`.
    V4InV6 {
        /// Start of the dotted IPv4 tail, if the text has one.
        head_end: Option<usize>,
    },
}

/// One IP literal found in text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpLiteral {
    /// Byte range of the literal in the scanned text (prefix length included).
    pub span: (usize, usize),
    /// The address, or the network if a `/prefix` followed. IPv4 carried in
    /// IPv6 text is reported as IPv4.
    pub net: IpNet,
    /// How it was written.
    pub form: LiteralForm,
    /// Whether a `/prefix` was written (a network literal rather than an address).
    pub has_prefix: bool,
}

impl IpLiteral {
    /// The byte range as a `Range`.
    pub fn range(&self) -> Range<usize> {
        self.span.0..self.span.1
    }
}

/// Iterates over the IP literals of `text`, left to right, without allocating.
///
/// ```
/// use accord_agreements::ipscan::scan;
/// let found: Vec<String> = scan("C2 at 198.51.100[.]7:443 and [2001:db8::1]")
///     .map(|l| l.net.to_string())
///     .collect();
/// assert_eq!(found, ["198.51.100.7/32", "2001:db8::1/128"]);
/// ```
pub fn scan(text: &str) -> Scanner<'_> {
    Scanner {
        text: text.as_bytes(),
        pos: 0,
    }
}

/// The iterator returned by [`scan`].
pub struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
}

/// Bytes an IP literal can extend before its first `.` or `:`: an IPv4 octet has at
/// most three digits (then `.` or a defanged `[.]`), an IPv6 group at most four.
const MAX_LEAD: usize = 5;

impl Iterator for Scanner<'_> {
    type Item = IpLiteral;

    fn next(&mut self) -> Option<IpLiteral> {
        // Every literal has a `.` or `:` within MAX_LEAD bytes of its start, so only
        // the few positions before each one (found with memchr) are tried: prose is
        // skipped at memchr speed.
        let t = self.text;
        let mut from = self.pos;
        while from < t.len() {
            let Some(offset) = find_separator(&t[from..]) else {
                break;
            };
            let trigger = from + offset;
            if let Some(found) = literal_around(t, from, trigger) {
                self.pos = found.span.1;
                return Some(found);
            }
            from = trigger + 1;
        }
        self.pos = t.len();
        None
    }
}

/// The first `.` or `:` of `t`. Most texts scanned are short (every member name and
/// value of an object is), where eight bytes at a time beat `memchr`'s setup.
#[inline]
fn find_separator(t: &[u8]) -> Option<usize> {
    if t.len() >= 32 {
        return memchr::memchr2(b'.', b':', t);
    }
    let mut words = t.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(word);
        if let Some(i) = separator_in_word(u64::from_le_bytes(bytes)) {
            return Some(at + i);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&b| b == b'.' || b == b':')
        .map(|i| at + i)
}

/// The index of the first `.` or `:` byte of a little-endian word: a byte equal to one
/// of them becomes zero after the XOR, and the lowest zero byte is found exactly by
/// the borrow trick (bytes above it may be flagged falsely, which `trailing_zeros`
/// ignores).
#[inline]
fn separator_in_word(word: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let found =
        zero_bytes(word ^ (ONES * u64::from(b'.'))) | zero_bytes(word ^ (ONES * u64::from(b':')));
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

/// The first literal whose first `.` or `:` is the byte at `trigger` (the first such
/// byte at or after `from`). It starts in the run of hex digits just before the
/// trigger (or before the `[`, `(` or `{` of a defanged separator), at most
/// [`MAX_LEAD`] bytes back, or at the trigger itself (`::1`): only those positions are
/// tried, about one per sentence end in prose instead of six.
fn literal_around(t: &[u8], from: usize, trigger: usize) -> Option<IpLiteral> {
    let lowest = trigger.saturating_sub(MAX_LEAD).max(from);
    let mut end = trigger;
    if t[trigger] == b'.' && end > lowest && matches!(t[end - 1], b'[' | b'(' | b'{') {
        end -= 1;
    }
    let mut start = end;
    while start > lowest && t[start - 1].is_ascii_hexdigit() {
        start -= 1;
    }
    (start..end)
        .chain((t[trigger] == b':').then_some(trigger))
        .find_map(|i| literal_at(t, i))
}

/// The literal starting at `i`, if one does.
fn literal_at(t: &[u8], i: usize) -> Option<IpLiteral> {
    let b = t[i];
    if !(b.is_ascii_hexdigit() || b == b':') {
        return None;
    }
    let prev = if i == 0 { None } else { Some(t[i - 1]) };
    let v6_start = match prev {
        None => true,
        // "src:2001:db8::1": a single colon after a word that is not hex.
        Some(b':') => after_word(t, i - 1),
        Some(p) => !(p.is_ascii_alphanumeric() || p == b'.'),
    };
    if v6_start {
        if let Some(found) = v6_at(t, i) {
            return Some(found);
        }
    }
    if b.is_ascii_digit() && prev.is_none_or(|p| !(p.is_ascii_digit() || p == b'.')) {
        return v4_at(t, i);
    }
    None
}

/// Whether the colon at `colon` follows a word with a non-hex letter (so an
/// IPv6 literal may start after it; a hex word would have been part of it).
fn after_word(t: &[u8], colon: usize) -> bool {
    let word_start = t[..colon]
        .iter()
        .rposition(|b| !b.is_ascii_alphanumeric())
        .map_or(0, |p| p + 1);
    let word = &t[word_start..colon];
    word.is_empty() && (colon == 0 || t[colon - 1] != b':')
        || word
            .iter()
            .any(|b| b.is_ascii_alphabetic() && !b.is_ascii_hexdigit())
}

/// Reads up to three decimal digits as an octet; returns (value, end).
fn octet(t: &[u8], i: usize) -> Option<(u8, usize)> {
    let mut end = i;
    let mut value: u32 = 0;
    while end < t.len() && t[end].is_ascii_digit() {
        if end - i == 3 {
            return None;
        }
        value = value * 10 + u32::from(t[end] - b'0');
        end += 1;
    }
    if end == i {
        return None;
    }
    u8::try_from(value).ok().map(|v| (v, end))
}

/// Reads an IPv4 separator (`.`, `[.]`, `(.)`, `{.}`); returns its end.
fn separator(t: &[u8], i: usize) -> Option<usize> {
    match t.get(i)? {
        b'.' => Some(i + 1),
        open @ (b'[' | b'(' | b'{') => {
            let close = match open {
                b'[' => b']',
                b'(' => b')',
                _ => b'}',
            };
            (t.get(i + 1) == Some(&b'.') && t.get(i + 2) == Some(&close)).then_some(i + 3)
        }
        _ => None,
    }
}

/// Reads `/digits` (a prefix length up to `max`) that is not followed by another digit.
fn prefix(t: &[u8], i: usize, max: u8) -> Option<(u8, usize)> {
    if t.get(i) != Some(&b'/') {
        return None;
    }
    let mut end = i + 1;
    let mut value: u32 = 0;
    while end < t.len() && t[end].is_ascii_digit() && end - i <= 3 {
        value = value * 10 + u32::from(t[end] - b'0');
        end += 1;
    }
    if end == i + 1 || t.get(end).is_some_and(u8::is_ascii_digit) || value > u32::from(max) {
        return None;
    }
    u8::try_from(value).ok().map(|v| (v, end))
}

/// Tries a dotted IPv4 literal starting at `i`.
fn v4_at(t: &[u8], i: usize) -> Option<IpLiteral> {
    let mut octets = [0u8; 4];
    let mut pos = i;
    for (n, slot) in octets.iter_mut().enumerate() {
        if n > 0 {
            pos = separator(t, pos)?;
        }
        let (value, end) = octet(t, pos)?;
        *slot = value;
        pos = end;
    }
    // Part of a longer dotted number (a version string) or a longer digit run.
    if t.get(pos).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if let Some(after) = separator(t, pos) {
        if t.get(after).is_some_and(u8::is_ascii_digit) {
            return None;
        }
    }
    let addr = Ipv4Addr::from(octets);
    let (net, end, has_prefix) = match prefix(t, pos, 32) {
        Some((len, end)) => (Ipv4Net::new(addr, len).ok()?, end, true),
        None => (Ipv4Net::from(addr), pos, false),
    };
    Some(IpLiteral {
        span: (i, end),
        net: IpNet::V4(net),
        form: LiteralForm::V4,
        has_prefix,
    })
}

/// Tries an IPv6 literal starting at `i`.
fn v6_at(t: &[u8], i: usize) -> Option<IpLiteral> {
    let mut end = i;
    let mut colons = 0;
    while end < t.len() && (t[end].is_ascii_hexdigit() || t[end] == b':' || t[end] == b'.') {
        colons += usize::from(t[end] == b':');
        end += 1;
        if end - i > MAX_V6_TEXT + 2 {
            return None;
        }
    }
    if colons < 2 {
        return None;
    }
    // Sentence punctuation: "at 2001:db8::1." or "2001:db8::1: refused".
    while end > i && t[end - 1] == b'.' {
        end -= 1;
    }
    if end >= i + 2 && t[end - 1] == b':' && t[end - 2] != b':' {
        end -= 1;
    }
    if end - i > MAX_V6_TEXT {
        return None;
    }
    let text = std::str::from_utf8(&t[i..end]).ok()?;
    let addr: Ipv6Addr = text.parse().ok()?;
    let dotted_tail = text
        .rfind(':')
        .filter(|_| text.contains('.'))
        .map(|c| i + c + 1);
    let written_prefix = prefix(t, end, 128);
    let span_end = written_prefix.map_or(end, |(_, e)| e);
    let has_prefix = written_prefix.is_some();
    let carried = addr.to_ipv4_mapped().filter(|_| dotted_tail.is_none());
    let (net, form) = if let Some(v4) = carried.or_else(|| dotted_tail.map(|_| last_32_bits(addr)))
    {
        let len = written_prefix.map_or(32, |(p, _)| p.saturating_sub(96));
        let form = LiteralForm::V4InV6 {
            head_end: dotted_tail,
        };
        if written_prefix.is_some_and(|(p, _)| p < 96) {
            (
                IpNet::V6(Ipv6Net::new(addr, written_prefix.map_or(128, |(p, _)| p)).ok()?),
                LiteralForm::V6,
            )
        } else {
            (IpNet::V4(Ipv4Net::new(v4, len).ok()?), form)
        }
    } else {
        let len = written_prefix.map_or(128, |(p, _)| p);
        (IpNet::V6(Ipv6Net::new(addr, len).ok()?), LiteralForm::V6)
    };
    Some(IpLiteral {
        span: (i, span_end),
        net,
        form,
        has_prefix,
    })
}

/// The IPv4 address in the last 32 bits of an IPv6 address.
fn last_32_bits(addr: Ipv6Addr) -> Ipv4Addr {
    let o = addr.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// The address itself when `net` is a single address, as the scanner reports it.
pub fn single_address(net: &IpNet) -> Option<IpAddr> {
    (net.prefix_len() == net.max_prefix_len()).then(|| net.addr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The scanner without its memchr windows: every position tried in turn.
    fn naive(text: &str) -> Vec<IpLiteral> {
        let t = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < t.len() {
            match literal_at(t, i) {
                Some(found) => {
                    i = found.span.1;
                    out.push(found);
                }
                None => i += 1,
            }
        }
        out
    }

    proptest! {
        #[test]
        fn words_find_the_first_separator(text in proptest::collection::vec(prop_oneof![Just(b'.'), Just(b':'), Just(b'-'), Just(b';'), Just(0x2eu8 ^ 0x80), any::<u8>()], 0..40)) {
            prop_assert_eq!(find_separator(&text), text.iter().position(|&b| b == b'.' || b == b':'));
        }

        /// Skipping to the bytes before each `.` and `:` finds exactly what trying every
        /// position finds.
        #[test]
        fn windows_find_what_every_position_finds(
            text in proptest::string::string_regex("([0-9a-fA-F:.\\[\\](){}/ xzgs_-]|198\\.51\\.100\\.7|2001:db8::1|::ffff:10\\.0\\.0\\.1|1\\[\\.\\]2){0,40}").unwrap()
        ) {
            prop_assert_eq!(scan(&text).collect::<Vec<_>>(), naive(&text));
        }
    }

    fn found(text: &str) -> Vec<String> {
        scan(text)
            .map(|l| format!("{}={}", &text[l.range()], l.net))
            .collect()
    }

    #[test]
    fn finds_plain_defanged_and_zero_padded_ipv4() {
        assert_eq!(found("a 10.0.0.1, b"), ["10.0.0.1=10.0.0.1/32"]);
        assert_eq!(found("x10[.]0(.)0{.}1y"), ["10[.]0(.)0{.}1=10.0.0.1/32"]);
        assert_eq!(found("010.000.000.001"), ["010.000.000.001=10.0.0.1/32"]);
        assert_eq!(
            found("'198.51.100.0/24'"),
            ["198.51.100.0/24=198.51.100.0/24"]
        );
        assert_eq!(found("http://192.0.2.5:8080/x"), ["192.0.2.5=192.0.2.5/32"]);
    }

    #[test]
    fn ignores_version_strings_and_out_of_range_octets() {
        assert!(found("v 1.2.3.4.5").is_empty());
        assert!(found("256.1.1.1 and 1.2.3").is_empty());
        assert!(found("11.2.3.4567").is_empty());
        assert_eq!(found("9.2.3.4/33"), ["9.2.3.4=9.2.3.4/32"]);
    }

    #[test]
    fn finds_ipv6_including_brackets_and_punctuation() {
        assert_eq!(found("[2001:DB8::1]:443"), ["2001:DB8::1=2001:db8::1/128"]);
        assert_eq!(found("to 2001:db8::1."), ["2001:db8::1=2001:db8::1/128"]);
        assert_eq!(found("2001:db8::/32"), ["2001:db8::/32=2001:db8::/32"]);
        assert!(found("00:1a:2b:3c:4d:5e 12:30:45").is_empty());
        assert_eq!(found("src:2001:db8::7"), ["2001:db8::7=2001:db8::7/128"]);
    }

    #[test]
    fn reports_ipv4_carried_in_ipv6_text() {
        let l: Vec<_> = scan("::ffff:10.1.2.3").collect();
        assert_eq!(l[0].net.to_string(), "10.1.2.3/32");
        assert_eq!(l[0].form, LiteralForm::V4InV6 { head_end: Some(7) });
        let hex: Vec<_> = scan("::FFFF:a01:203").collect();
        assert_eq!(hex[0].net.to_string(), "10.1.2.3/32");
        assert_eq!(hex[0].form, LiteralForm::V4InV6 { head_end: None });
        assert_eq!(
            found("64:ff9b::10.1.2.3"),
            ["64:ff9b::10.1.2.3=10.1.2.3/32"]
        );
    }

    #[test]
    fn long_hex_runs_are_linear_and_find_nothing() {
        let text = "1:".repeat(50_000);
        assert!(found(&text).is_empty());
    }
}

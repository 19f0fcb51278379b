//! Finding IP addresses in free text, in every form a person, a tool or a URL
//! parser writes them.
//!
//! One scanner serves both ends: [`crate::ObjectFacts::extract`] records every
//! reading at ingest, and the gate's transformation replaces the customer ones in
//! the released text. Because both use the same function, what the facts say is
//! exactly what the transformation rewrites. docs/agreements.md ("Customer
//! addresses") lists the forms for people; in short:
//!
//! - Every character is read through [`decode`]: full-width and other compatibility
//!   digits and dots, `%2E` percent-encoding, `\.` regex escapes, `&#46;` references,
//!   `[.]`/`(dot)` defangs all read as the character they stand for.
//! - IPv4: dotted with 4 parts, each part decimal (leading zeros allowed), octal
//!   (`0306`) or hexadecimal (`0xC6`) as `inet_aton` reads them (a part with leading
//!   zeros gives both the decimal and the octal reading); every 4 consecutive parts of
//!   a longer dotted number (`198.51.100.23.443`, an SNMP OID); the `inet_aton` short
//!   forms `a.b.c` and `a.b` whose last part is wider than a byte (`198.51.25623`);
//!   one number of 8–10 decimal digits, `0x` + hex or `0` + octal worth at least
//!   2^24 standing alone (`3325256727`, `0xC6336417`); four parts joined by `-` or
//!   `_` (`ip-198-51-100-23`); reversed before `.in-addr.arpa`.
//! - IPv6: every form the standard parser accepts, read greedily so that text glued
//!   after it (`2001:db8::17.Data`, `::17abc`) or before it (`host2001:db8::1`,
//!   `abc:2001:db8::1`: every start after a single `:` is tried) does not hide it;
//!   nibble names before `.ip6.arpa`; `0x` + 9–32 hex digits or 20–39 decimal digits
//!   worth at least 2^64.
//! - IPv4 carried in IPv6 ([`Embedding`]): a dotted tail, IPv4-mapped, SIIT,
//!   IPv4-compatible, NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4, Teredo (server
//!   and client), ISATAP. These give both the IPv6 reading and the IPv4 one.
//! - A following `/prefix` makes a network literal, or, when host bits are set, an
//!   address written with its prefix (`198.51.100.23/16` is the host 198.51.100.23).
//!
//! Readings may overlap (both readings of `010.0.0.1`, the windows of a long dotted
//! number, the suffixes of an IPv6 run); the consumer decides which to use.

mod compat;
pub(crate) mod decode;
#[cfg(any(test, feature = "reference-scanner"))]
pub mod reference;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use decode::{lc, may_encode};

/// How an IPv4 address was written, so a replacement keeps the shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V4Style {
    /// Dotted, in any encoding of the digits and dots; replaced by plain dotted decimal.
    Dotted,
    /// Four decimal parts joined by this byte (`-` or `_`).
    Separated(u8),
    /// Dotted and reversed, before `.in-addr.arpa`.
    Reversed,
    /// One decimal number.
    Decimal,
    /// `0x` and hexadecimal digits.
    Hex {
        /// Whether the digits were written in uppercase.
        upper: bool,
    },
    /// `0` and octal digits.
    Octal,
}

/// How an IPv6 address was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V6Style {
    /// Colon-hex text; `dotted_tail` is the byte offset where a dotted IPv4 tail starts.
    Text {
        /// Start of the dotted tail, if written with one.
        dotted_tail: Option<usize>,
    },
    /// Reversed nibbles before `.ip6.arpa`.
    Nibbles,
    /// One decimal number.
    Decimal,
    /// `0x` and 32 hexadecimal digits at most.
    Hex {
        /// Whether the digits were written in uppercase.
        upper: bool,
    },
}

/// Where an IPv6 address carries an IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Embedding {
    /// The last 32 bits: a dotted tail, IPv4-mapped `::ffff:0:0/96`, SIIT
    /// `::ffff:0:0:0/96`, IPv4-compatible `::/96`, NAT64 `64:ff9b::/96` and
    /// `64:ff9b:1::/48`, ISATAP (`…:0:5efe:a.b.c.d`), 6to4 hosts that repeat it.
    Low32,
    /// 6to4 `2002:AABB:CCDD::/48`: bits 16–47.
    SixToFour,
    /// Teredo `2001:0::/32`: the server in bits 32–63.
    TeredoServer,
    /// Teredo: the client, inverted, in the last 32 bits.
    TeredoClient,
    /// NAT64 local-use `64:ff9b:1::/48` laid out as RFC 6052 does for a /48 prefix:
    /// bits 48–63 and 72–87.
    Nat64Split48,
}

impl Embedding {
    /// The first and the last-plus-one bit of the field (bit 0 is the most significant).
    pub fn bits(self) -> (u8, u8) {
        match self {
            Embedding::Low32 | Embedding::TeredoClient => (96, 128),
            Embedding::SixToFour => (16, 48),
            Embedding::TeredoServer => (32, 64),
            Embedding::Nat64Split48 => (48, 88),
        }
    }

    /// The IPv4 address in `a`.
    pub fn extract(self, a: u128) -> Ipv4Addr {
        Ipv4Addr::from(match self {
            Embedding::Low32 => a as u32,
            Embedding::SixToFour => (a >> 80) as u32,
            Embedding::TeredoServer => (a >> 64) as u32,
            Embedding::TeredoClient => !(a as u32),
            Embedding::Nat64Split48 => {
                ((((a >> 64) & 0xFFFF) as u32) << 16) | ((a >> 40) & 0xFFFF) as u32
            }
        })
    }

    /// `a` with the field replaced by `v4`.
    pub fn insert(self, a: u128, v4: Ipv4Addr) -> u128 {
        let v = u128::from(u32::from(v4));
        match self {
            Embedding::Low32 => (a & !0xFFFF_FFFF) | v,
            Embedding::TeredoClient => (a & !0xFFFF_FFFF) | (!u32::from(v4) as u128),
            Embedding::SixToFour => (a & !(0xFFFF_FFFF << 80)) | (v << 80),
            Embedding::TeredoServer => (a & !(0xFFFF_FFFF << 64)) | (v << 64),
            Embedding::Nat64Split48 => {
                let cleared = a & !(0xFFFF << 64) & !(0xFFFF << 40);
                cleared | ((v >> 16) << 64) | ((v & 0xFFFF) << 40)
            }
        }
    }

    /// The fields of `a` that carry an IPv4 address. `dotted` says the text wrote the
    /// last 32 bits as a dotted IPv4 tail.
    pub fn of(a: u128, dotted: bool) -> impl Iterator<Item = Embedding> {
        let upper = a >> 32;
        let low = a as u32;
        let low32 = dotted
            || (upper == 0 && low >= 1 << 24)
            || upper == 0xFFFF
            || upper == 0xFFFF_0000
            || upper == 0x0064_FF9B_0000_0000_0000_0000
            || a >> 80 == 0x0064_FF9B_0001
            || upper & 0xFDFF_FFFF == 0x0000_5EFE
            || a >> 112 == 0x2002;
        let teredo = a >> 96 == 0x2001_0000;
        [
            (low32, Embedding::Low32),
            (a >> 112 == 0x2002, Embedding::SixToFour),
            (teredo, Embedding::TeredoServer),
            (teredo, Embedding::TeredoClient),
            (a >> 80 == 0x0064_FF9B_0001, Embedding::Nat64Split48),
        ]
        .into_iter()
        .filter_map(|(yes, e)| yes.then_some(e))
    }
}

/// What a reading is and how it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiteralForm {
    /// An IPv4 address written as IPv4.
    V4(V4Style),
    /// An IPv6 address.
    V6(V6Style),
    /// An IPv4 address carried in the IPv6 address `v6` (reported as IPv4).
    V4InV6 {
        /// The whole IPv6 address as written.
        v6: Ipv6Addr,
        /// Where the IPv4 address sits.
        embedding: Embedding,
        /// How the IPv6 address was written.
        style: V6Style,
    },
}

/// One reading of an IP literal found in text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpLiteral {
    /// Byte range of the literal in the scanned text (prefix length included).
    pub span: (usize, usize),
    /// Where the address text ends (before a `/prefix`).
    pub addr_end: usize,
    /// The address, or the network if a `/prefix` followed (host bits kept as
    /// written). IPv4 carried in IPv6 is reported as IPv4 ([`LiteralForm::V4InV6`]).
    pub net: IpNet,
    /// How it was written.
    pub form: LiteralForm,
    /// Whether a prefix was written (or implied: a partial `.arpa` name is a network).
    pub has_prefix: bool,
}

impl IpLiteral {
    /// The byte range as a `Range`.
    pub fn range(&self) -> Range<usize> {
        self.span.0..self.span.1
    }

    /// Whether this reading is a network: a prefix with every host bit zero. An
    /// address written with a shorter prefix (`198.51.100.23/16`) is an address.
    pub fn is_network(&self) -> bool {
        is_network(&self.net, self.has_prefix)
    }
}

/// Whether `net` (with `has_prefix` as the scanner reports it) names a network
/// rather than a host: a prefix was written and every host bit is zero.
pub fn is_network(net: &IpNet, has_prefix: bool) -> bool {
    has_prefix && net.addr() == net.network()
}

/// The smallest integer read as an IPv4 address (1.0.0.0): smaller numbers are
/// counts, ports and years far more often than addresses in `0.0.0.0/8`, which no
/// provider has as customer space.
pub const MIN_INTEGER_V4: u64 = 1 << 24;

/// The IPv4 address an integer stands for, when it is one ([`MIN_INTEGER_V4`] to 2^32 − 1).
pub fn integer_v4(n: u64) -> Option<Ipv4Addr> {
    (MIN_INTEGER_V4..=u64::from(u32::MAX))
        .contains(&n)
        .then(|| Ipv4Addr::from(n as u32))
}

/// Every reading in `text`, sorted by start (longest first at one start). Allocates
/// only when something is found.
///
/// ```
/// use accord_agreements::ipscan::scan;
/// let found: Vec<String> = scan("C2 at 198.51.100[.]7:443, ip-203-0-113-5.example, 0xC0000201")
///     .iter()
///     .map(|l| l.net.to_string())
///     .collect();
/// assert_eq!(found, ["198.51.100.7/32", "203.0.113.5/32", "192.0.2.1/32"]);
/// ```
pub fn scan(text: &str) -> Vec<IpLiteral> {
    let mut out = Vec::new();
    visit(text, &mut |l| out.push(l));
    out.sort_by_key(|l| (l.span.0, std::cmp::Reverse(l.addr_end), l.span.1));
    out.dedup();
    out
}

/// Calls `found` with every reading in `text` (unordered, possibly repeated), without
/// allocating.
pub fn visit(text: &str, found: &mut dyn FnMut(IpLiteral)) {
    visit_with(text, found, true);
}

/// [`visit`]; `pass_short` lets it pass a short number that starts no reading
/// ([`starts_nothing`]) without the number parsers (false only in tests, which check
/// that it changes no reading).
fn visit_with(text: &str, found: &mut dyn FnMut(IpLiteral), pass_short: bool) {
    let t = text.as_bytes();
    let mut i = 0;
    // Positions before which the IPv6 and the number parsers have done their work.
    let mut v6_until = 0;
    let mut num_until = 0;
    // The last anchor's logical character and where it ended: the logical character
    // before an anchor is that one when they touch (`%2C3325256727` reads `,`
    // before the number), else the plain byte before it.
    let mut last: (usize, u8) = (usize::MAX, 0);
    while let Some(at) = next_anchor(t, i) {
        let Some((c, end)) = lc(t, at) else { break };
        let prev = if last.0 == at {
            last.1
        } else if at > 0 {
            t[at - 1]
        } else {
            0
        };
        if at >= v6_until && (c.is_ascii_hexdigit() || c == b':') {
            // Hex letters before the anchor are glued to it only if plain text (not
            // the end of the last anchor's encoding, as in `%2a::1`).
            let lower = if last.0 <= at {
                v6_until.max(last.0)
            } else {
                v6_until
            };
            v6_until = v6_run(t, at, lower, found);
        }
        if at >= num_until && c.is_ascii_digit() {
            // A plain digit run glued to a letter on its right (a hash, a UUID group,
            // `17d4`) reads as nothing: every number form needs a separator or a
            // boundary there. Only `0x` starts a hex part.
            let mut e = at;
            while e < t.len() && t[e].is_ascii_digit() {
                e += 1;
            }
            let glued = e > at
                && e < t.len()
                && t[e].is_ascii_alphabetic()
                && !(e == at + 1 && t[at] == b'0' && t[e] | 0x20 == b'x');
            num_until = if glued || (pass_short && starts_nothing(t, at, e)) {
                e
            } else {
                numbers(t, at, prev, found)
            };
        }
        last = (end, c);
        i = end;
        // Letters and digits both parsers have already passed (the rest of a hash,
        // of a number) are skipped without a look each: they are plain text, so the
        // byte before the next anchor is still its logical predecessor.
        let done = v6_until.min(num_until);
        while i < done && t[i].is_ascii_alphanumeric() {
            i += 1;
        }
    }
}

/// Whether the plain digit run `t[at..e]` starts no reading, so that the number
/// parsers need not read it: shorter than any number standing alone that is an address
/// (8 digits), and followed by no character that would carry it on (a digit written
/// some other way, a `.` of a dotted number, `x` of `0x`, or the `-`/`_` of a
/// separated form when it is short enough to be one of its parts), and not the `6` of
/// `ip6.arpa`. Most numbers in STIX objects are such runs (the parts of timestamps and
/// of ids), and each cost a full parse: measured (`cargo bench -p accord-agreements
/// --bench gate -- ipscan_visit`), a timestamp took about 4,000 instructions.
#[inline]
fn starts_nothing(t: &[u8], at: usize, e: usize) -> bool {
    let len = e - at;
    if len == 0 || len >= 8 || t[at] == b'6' {
        return false;
    }
    let (next, _) = peek(t, e);
    match next {
        b'0'..=b'9' | b'.' | b'x' | b'X' => false,
        b'-' | b'_' => len > 3,
        _ => true,
    }
}

/// The next byte at or after `i` that may start an address: an ASCII digit, `:`, or
/// the start of an encoding ([`may_encode`]). Prose without them is skipped byte by
/// byte through a 256-entry table.
#[inline]
fn next_anchor(t: &[u8], i: usize) -> Option<usize> {
    static ANCHOR: [bool; 256] = {
        let mut a = [false; 256];
        let mut b = 0;
        while b < 256 {
            let byte = b as u8;
            a[b] = byte.is_ascii_digit()
                || byte == b':'
                || byte == b'%'
                || byte == b'\\'
                || byte == b'&'
                || byte >= 0xC0;
            b += 1;
        }
        a
    };
    debug_assert!(ANCHOR[b'%' as usize] == may_encode(b'%'));
    t.get(i..)?
        .iter()
        .position(|&b| ANCHOR[b as usize])
        .map(|p| i + p)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// The logical character at `i`, or 0 at the end.
#[inline]
fn peek(t: &[u8], i: usize) -> (u8, usize) {
    lc(t, i).unwrap_or((0, i))
}

// ---------------------------------------------------------------------------
// IPv6

/// Most logical characters an IPv6 text may take (45 with a dotted tail), plus
/// room for encodings that a parse never reads past.
const MAX_V6_GROUPS: usize = 8;

/// Processes the run of hex digits, colons and dots around the anchor at `at`: tries
/// an IPv6 address from the run's start, after every single colon and every dot
/// (`v1.2001:db8::1`), and from the last four digits of a longer hex word before a colon. Returns where the run ends.
fn v6_run(t: &[u8], at: usize, lower: usize, found: &mut dyn FnMut(IpLiteral)) -> usize {
    // Hex letters glued before the anchor (plain ASCII; digits would have been anchors).
    let mut s = at;
    while s > lower && at - s < 64 && t[s - 1].is_ascii_alphabetic() && is_hex(t[s - 1]) {
        s -= 1;
    }
    // An IPv6 address has `::` or seven colons: most runs (numbers, hashes, times
    // of day, MAC addresses) have neither, and are passed at once.
    let mut run_end = s;
    let mut colons = 0;
    let mut double = false;
    let mut last = 0u8;
    while let Some((c, next)) = lc(t, run_end) {
        if !(is_hex(c) || c == b':' || c == b'.') {
            break;
        }
        if c == b':' {
            colons += 1;
            double |= last == b':';
        }
        last = c;
        run_end = next;
    }
    if !double && colons < 7 {
        return run_end.max(at + 1);
    }
    let mut pos = s;
    let mut prev = 0u8;
    let mut prev2 = 0u8;
    // Starts of the last four hex characters of the current hex word.
    let mut word: [usize; 4] = [0; 4];
    let mut word_len = 0usize;
    let mut best_end = at;
    let try_at = |p: usize, found: &mut dyn FnMut(IpLiteral), best_end: &mut usize| {
        if let Some(end) = v6_at(t, p, found) {
            *best_end = (*best_end).max(end);
        }
    };
    try_at(s, found, &mut best_end);
    while let Some((c, next)) = lc(t, pos) {
        if !(is_hex(c) || c == b':' || c == b'.') {
            break;
        }
        if is_hex(c) {
            if (prev == b':' && prev2 != b':' || prev == b'.') && pos != s {
                try_at(pos, found, &mut best_end);
            }
            word[word_len % 4] = pos;
            word_len += 1;
        } else {
            if c == b':' && word_len > 4 {
                try_at(word[word_len % 4], found, &mut best_end);
            }
            // `src:::1`: a label's colon, then an address starting with `::`; and
            // `9.::1` after a dot.
            if c == b':' && (prev == b':' || prev == b'.') {
                try_at(pos, found, &mut best_end);
            }
            word_len = 0;
        }
        prev2 = prev;
        prev = c;
        pos = next;
    }
    pos.max(best_end).max(at + 1)
}

/// The longest IPv6 address starting at `p`, reported with its embedded IPv4
/// readings; returns where it (and its prefix) ends.
fn v6_at(t: &[u8], p: usize, found: &mut dyn FnMut(IpLiteral)) -> Option<usize> {
    // `::` alone (the unspecified address) is a path separator in code far more
    // often than an address, and so is one group and `::` glued to a name
    // (`std::string`): neither is anyone's customer address.
    let parsed = v6_parse(t, p).filter(|v| {
        let one_group = v.addr & ((1u128 << 112) - 1) == 0 && v.dotted_tail.is_none();
        let glued = {
            let c = peek(t, v.end).0;
            c.is_ascii_alphanumeric() || c == b'_'
        };
        !(one_group && (v.addr == 0 || glued))
    })?;
    let prefix = prefix_at(t, parsed.end, 128);
    let style = V6Style::Text {
        dotted_tail: parsed.dotted_tail,
    };
    emit_v6(
        found,
        (p, parsed.end),
        parsed.addr,
        style,
        prefix,
        parsed.dotted_tail.is_some(),
    );
    Some(prefix.map_or(parsed.end, |(_, e)| e))
}

struct V6Parse {
    addr: u128,
    end: usize,
    dotted_tail: Option<usize>,
}

/// Greedy IPv6 parse: the longest prefix of the text at `p` that is a valid address.
/// A group is at most four hex digits even when more follow (the rest is glued text).
fn v6_parse(t: &[u8], p: usize) -> Option<V6Parse> {
    let mut groups = [0u16; MAX_V6_GROUPS];
    let mut n = 0usize;
    let mut gap: Option<usize> = None;
    let mut pos = p;
    let mut colons = 0usize;
    let mut best: Option<V6Parse> = None;
    let finish = |groups: &[u16; MAX_V6_GROUPS], n: usize, gap: Option<usize>| -> Option<u128> {
        let filled = match gap {
            None if n == 8 => *groups,
            Some(g) if n <= 7 => {
                let mut out = [0u16; 8];
                out[..g].copy_from_slice(&groups[..g]);
                let tail = n - g;
                out[8 - tail..].copy_from_slice(&groups[g..n]);
                out
            }
            _ => return None,
        };
        Some(
            filled
                .iter()
                .fold(0u128, |acc, &g| acc << 16 | u128::from(g)),
        )
    };
    let (c0, after0) = peek(t, pos);
    if c0 == b':' {
        let (c1, after1) = peek(t, after0);
        if c1 != b':' {
            return None;
        }
        gap = Some(0);
        colons = 2;
        pos = after1;
        best = finish(&groups, n, gap).map(|addr| V6Parse {
            addr,
            end: pos,
            dotted_tail: None,
        });
    }
    loop {
        let room = 8usize.saturating_sub(n + usize::from(gap.is_some()));
        // A dotted IPv4 tail takes two groups.
        if colons > 0 && room >= 2 {
            if let Some((v4, end)) = dotted_quad(t, pos) {
                groups[n] = (v4 >> 16) as u16;
                groups[n + 1] = v4 as u16;
                if let Some(addr) = finish(&groups, n + 2, gap) {
                    best = Some(V6Parse {
                        addr,
                        end,
                        dotted_tail: Some(pos),
                    });
                }
                break;
            }
        }
        if room == 0 {
            break;
        }
        let mut value: u16 = 0;
        let mut digits = 0;
        let mut q = pos;
        while digits < 4 {
            let (c, next) = peek(t, q);
            let Some(d) = (c as char).to_digit(16).filter(|_| c != 0) else {
                break;
            };
            value = value << 4 | d as u16;
            digits += 1;
            q = next;
        }
        if digits == 0 {
            break;
        }
        groups[n] = value;
        n += 1;
        pos = q;
        if colons > 0 {
            if let Some(addr) = finish(&groups, n, gap) {
                best = Some(V6Parse {
                    addr,
                    end: pos,
                    dotted_tail: None,
                });
            }
        }
        let (c, next) = peek(t, pos);
        if c != b':' {
            break;
        }
        let (c2, next2) = peek(t, next);
        if c2 == b':' {
            if gap.is_some() {
                break;
            }
            gap = Some(n);
            colons += 2;
            pos = next2;
            if let Some(addr) = finish(&groups, n, gap) {
                best = Some(V6Parse {
                    addr,
                    end: pos,
                    dotted_tail: None,
                });
            }
        } else {
            colons += 1;
            pos = next;
        }
    }
    best
}

/// A plain dotted quad of decimal octets (for an IPv6 tail): value and end.
fn dotted_quad(t: &[u8], p: usize) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    let mut pos = p;
    for k in 0..4 {
        if k > 0 {
            let (c, next) = peek(t, pos);
            if c != b'.' {
                return None;
            }
            pos = next;
        }
        let mut octet: u32 = 0;
        let mut digits = 0;
        loop {
            let (c, next) = peek(t, pos);
            if !c.is_ascii_digit() {
                break;
            }
            octet = octet * 10 + u32::from(c - b'0');
            digits += 1;
            pos = next;
            if digits > 3 {
                return None;
            }
        }
        if digits == 0 || octet > 255 {
            return None;
        }
        value = value << 8 | octet;
    }
    if peek(t, pos).0.is_ascii_digit() {
        return None;
    }
    Some((value, pos))
}

/// Reports an IPv6 address (spanning `span`, the address text) with its prefix and
/// every IPv4 address it carries.
fn emit_v6(
    found: &mut dyn FnMut(IpLiteral),
    span: (usize, usize),
    a: u128,
    style: V6Style,
    prefix: Option<(u8, usize)>,
    dotted: bool,
) {
    let addr = Ipv6Addr::from(a);
    let end = prefix.map_or(span.1, |(_, e)| e);
    let len = prefix.map_or(128, |(p, _)| p);
    let Ok(net) = Ipv6Net::new(addr, len) else {
        return;
    };
    found(IpLiteral {
        span: (span.0, end),
        addr_end: span.1,
        net: IpNet::V6(net),
        form: LiteralForm::V6(style),
        has_prefix: prefix.is_some(),
    });
    let network = is_network(&IpNet::V6(net), prefix.is_some());
    for embedding in Embedding::of(a, dotted) {
        let (first, last) = embedding.bits();
        let v4 = embedding.extract(a);
        let (v4_len, has_prefix) = match prefix {
            Some((p, _)) if network && p < last => {
                if p <= first || embedding == Embedding::TeredoClient {
                    continue;
                }
                ((p - first).min(32), true)
            }
            _ => (32, false),
        };
        let Ok(v4net) = Ipv4Net::new(v4, v4_len) else {
            continue;
        };
        found(IpLiteral {
            span: (span.0, end),
            addr_end: span.1,
            net: IpNet::V4(v4net),
            form: LiteralForm::V4InV6 {
                v6: addr,
                embedding,
                style,
            },
            has_prefix,
        });
    }
}

/// `/digits` (a prefix length up to `max`) not followed by another digit.
fn prefix_at(t: &[u8], i: usize, max: u8) -> Option<(u8, usize)> {
    let (c, mut pos) = peek(t, i);
    if c != b'/' {
        return None;
    }
    let mut value: u32 = 0;
    let mut digits = 0;
    loop {
        let (c, next) = peek(t, pos);
        if !c.is_ascii_digit() {
            break;
        }
        if digits == 3 {
            return None;
        }
        value = value * 10 + u32::from(c - b'0');
        digits += 1;
        pos = next;
    }
    if digits == 0 || value > u32::from(max) {
        return None;
    }
    Some((value as u8, pos))
}

// ---------------------------------------------------------------------------
// Numbers: dotted, short, single, separated, reversed, nibbles

/// One part of a dotted number as `inet_aton` reads it.
#[derive(Clone, Copy, Default)]
struct Part {
    start: usize,
    end: usize,
    /// The decimal value (`None` for a hex part or on overflow).
    dec: Option<u128>,
    /// The value `inet_aton` reads: hex after `0x`, octal after a leading `0`
    /// (`None` when not valid octal), else decimal.
    aton: Option<u128>,
    /// Digits after the leading zeros (and after `0x`).
    significant: usize,
    leading_zero: bool,
    hex: Option<bool>,
}

/// Reads one part starting at the logical digit at `p`.
fn part(t: &[u8], p: usize) -> Part {
    let (c0, after0) = peek(t, p);
    let (cx, afterx) = peek(t, after0);
    if c0 == b'0' && (cx == b'x' || cx == b'X') && is_hex(peek(t, afterx).0) {
        let mut value: Option<u128> = Some(0);
        let mut significant = 0;
        let mut upper = false;
        let mut pos = afterx;
        loop {
            let (c, next) = peek(t, pos);
            let Some(d) = (c as char).to_digit(16).filter(|_| c != 0) else {
                break;
            };
            upper |= c.is_ascii_uppercase();
            if significant > 0 || d > 0 {
                significant += 1;
            }
            value = value.and_then(|v| v.checked_mul(16)?.checked_add(u128::from(d)));
            pos = next;
        }
        return Part {
            start: p,
            end: pos,
            dec: None,
            aton: value,
            significant,
            leading_zero: false,
            hex: Some(upper),
        };
    }
    let mut dec: Option<u128> = Some(0);
    let mut oct: Option<u128> = Some(0);
    let mut significant = 0;
    let mut count = 0;
    let mut pos = p;
    loop {
        let (c, next) = peek(t, pos);
        if !c.is_ascii_digit() {
            break;
        }
        let d = u128::from(c - b'0');
        if significant > 0 || d > 0 {
            significant += 1;
        }
        count += 1;
        dec = dec.and_then(|v| v.checked_mul(10)?.checked_add(d));
        oct = oct
            .filter(|_| d < 8)
            .and_then(|v| v.checked_mul(8)?.checked_add(d));
        pos = next;
    }
    let leading_zero = c0 == b'0' && count > 1;
    Part {
        start: p,
        end: pos,
        dec,
        aton: if leading_zero { oct } else { dec },
        significant,
        leading_zero,
        hex: None,
    }
}

/// Whether `prev`, the logical character before the number at `i`, glues it to a
/// word (so a lone number there is not an address): an ASCII letter or digit, `-`,
/// `_`, or a `.` after a plain digit (a decimal fraction). A digit that ends a
/// percent escape (`%29.`) is not one: the escape decodes to another character, and
/// the scanner errs towards reading the number.
fn glued_before(t: &[u8], i: usize, prev: u8) -> bool {
    let escape_tail = |d: usize| d >= 2 && t[d - 2] == b'%' && t[d - 1].is_ascii_hexdigit();
    prev.is_ascii_alphanumeric()
        || matches!(prev, b'-' | b'_')
        || (prev == b'.' && i > 1 && t[i - 2].is_ascii_digit() && !escape_tail(i - 2))
}

/// Whether the logical character at `i` glues a number to what follows.
fn glued_after(t: &[u8], i: usize) -> bool {
    let (c, _) = peek(t, i);
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// Processes the numbers starting at the logical digit at `at`; returns where the
/// work ended (later digits of the same dotted number are not restarted).
fn numbers(t: &[u8], at: usize, prev: u8, found: &mut dyn FnMut(IpLiteral)) -> usize {
    // `….ip6.arpa` whose nibbles are all letters: the first digit is the 6 of ip6.
    if t[at] == b'6' && at >= 3 && t[at - 3] == b'.' && t[at - 2..at].eq_ignore_ascii_case(b"ip") {
        if let Some(end) = nibble_name(t, at - 2, found) {
            return end;
        }
    }
    let (_, after_first) = peek(t, at);
    let (next_c, _) = peek(t, after_first);
    if next_c == b'.' {
        if let Some(end) = nibble_name(t, at, found) {
            return end;
        }
    }
    let first = part(t, at);
    let (sep, _) = peek(t, first.end);
    if sep == b'-' || sep == b'_' {
        // `0x198-51-100-23`: the separated form starts after the `0x`.
        let from = match first.hex {
            None => at,
            Some(_) => peek(t, peek(t, at).1).1,
        };
        if let Some(end) = separated(t, from, sep, found) {
            return end;
        }
    }
    // A word: digits glued to letters are neither a part nor a number.
    if sep.is_ascii_alphanumeric() && sep != b'.' {
        return first.end;
    }
    dotted(t, first, prev, found)
}

/// A dotted number from its first part: windows of four parts, short forms, one
/// number, or a reversed `.in-addr.arpa` name.
fn dotted(t: &[u8], first: Part, prev: u8, found: &mut dyn FnMut(IpLiteral)) -> usize {
    let (end, last) = dotted_parts(t, first, prev, found);
    // `9.198-51-100-23`: the last part may start a separated form.
    let (sep, _) = peek(t, last.end);
    if (sep == b'-' || sep == b'_') && last.start != first.start && last.hex.is_none() {
        if let Some(e) = separated(t, last.start, sep, found) {
            return end.max(e);
        }
    }
    end
}

/// [`dotted`] without the separated form after it; returns where it ended and the
/// last part.
fn dotted_parts(
    t: &[u8],
    first: Part,
    prev: u8,
    found: &mut dyn FnMut(IpLiteral),
) -> (usize, Part) {
    // Most numbers are one part (a count, a year, the end of a hash): no ring.
    let (c, next) = peek(t, first.end);
    if c != b'.' || !peek(t, next).0.is_ascii_digit() {
        if c == b'.' {
            if let Some(after) = word_at(t, first.end, b".in-addr.arpa") {
                if reversed(found, 1, &|_| first, first.end) {
                    return (after, first);
                }
            }
        }
        single(t, &first, prev, found);
        return (first.end, first);
    }
    // The last five parts: a window is reported once the part after it is seen.
    let mut ring = [Part::default(); 5];
    let mut count = 0usize;
    let mut current = first;
    loop {
        ring[count % 5] = current;
        count += 1;
        if count >= 5 {
            let window = [
                ring[(count - 5) % 5],
                ring[(count - 4) % 5],
                ring[(count - 3) % 5],
                ring[(count - 2) % 5],
            ];
            emit_quad(found, &window, None);
        }
        let (c, next) = peek(t, current.end);
        if c != b'.' || !peek(t, next).0.is_ascii_digit() {
            break;
        }
        current = part(t, next);
    }
    let end = current.end;
    let last_k = |k: usize| -> Part { ring[(count - k) % 5] };
    if let Some(after) = word_at(t, end, b".in-addr.arpa") {
        if reversed(found, count.min(4), &last_k, end) {
            return (after, current);
        }
    }
    if count >= 4 && word_at(t, end, b".ip6.arpa").is_some() {
        return (end, current);
    }
    if count >= 4 {
        let window = [last_k(4), last_k(3), last_k(2), last_k(1)];
        let prefix = prefix_at(t, end, 32);
        emit_quad(found, &window, prefix);
        return (prefix.map_or(end, |(_, e)| e), current);
    }
    if count >= 2 {
        let mut parts = [Part::default(); 3];
        for (slot, k) in parts.iter_mut().zip((1..=count).rev()) {
            *slot = last_k(k);
        }
        short_form(found, &parts[..count]);
        return (end, current);
    }
    single(t, &first, prev, found);
    (end, current)
}

/// The reversed name of the last `n` parts (the last written is the first octet):
/// an address for four, a network for fewer. False when a part is not a byte.
fn reversed(
    found: &mut dyn FnMut(IpLiteral),
    n: usize,
    last_k: &dyn Fn(usize) -> Part,
    end: usize,
) -> bool {
    let mut octets = [0u8; 4];
    for (k, slot) in octets.iter_mut().take(n).enumerate() {
        match last_k(k + 1).dec.and_then(|v| u8::try_from(v).ok()) {
            Some(v) => *slot = v,
            None => return false,
        }
    }
    if let Ok(net) = Ipv4Net::new(Ipv4Addr::from(octets), (8 * n) as u8) {
        found(IpLiteral {
            span: (last_k(n).start, end),
            addr_end: end,
            net: IpNet::V4(net),
            form: LiteralForm::V4(V4Style::Reversed),
            has_prefix: n < 4,
        });
    }
    true
}

/// Reports the readings of four dotted parts: all decimal, and as `inet_aton` reads them.
fn emit_quad(found: &mut dyn FnMut(IpLiteral), parts: &[Part; 4], prefix: Option<(u8, usize)>) {
    let read = |f: fn(&Part) -> Option<u128>| -> Option<Ipv4Addr> {
        let mut octets = [0u8; 4];
        for (slot, p) in octets.iter_mut().zip(parts) {
            *slot = u8::try_from(f(p)?).ok()?;
        }
        Some(Ipv4Addr::from(octets))
    };
    let decimal = read(|p| p.dec);
    let aton = read(|p| p.aton);
    let start = parts[0].start;
    let addr_end = parts[3].end;
    for addr in [decimal, aton.filter(|a| Some(*a) != decimal)]
        .into_iter()
        .flatten()
    {
        emit_v4(found, (start, addr_end), addr, V4Style::Dotted, prefix);
    }
}

fn emit_v4(
    found: &mut dyn FnMut(IpLiteral),
    span: (usize, usize),
    addr: Ipv4Addr,
    style: V4Style,
    prefix: Option<(u8, usize)>,
) {
    let len = prefix.map_or(32, |(p, _)| p);
    if let Ok(net) = Ipv4Net::new(addr, len) {
        found(IpLiteral {
            span: (span.0, prefix.map_or(span.1, |(_, e)| e)),
            addr_end: span.1,
            net: IpNet::V4(net),
            form: LiteralForm::V4(style),
            has_prefix: prefix.is_some(),
        });
    }
}

/// `a.b.c` (c up to 16 bits) and `a.b` (b up to 24 bits) whose last part is wider
/// than a byte, as `inet_aton` reads them.
fn short_form(found: &mut dyn FnMut(IpLiteral), parts: &[Part]) {
    let n = parts.len();
    let last_bits = if n == 3 { 16 } else { 24 };
    let read = |f: fn(&Part) -> Option<u128>| -> Option<Ipv4Addr> {
        let last = f(&parts[n - 1])?;
        if last <= 255 || last >= 1 << last_bits {
            return None;
        }
        let mut value = last as u32;
        for (k, p) in parts[..n - 1].iter().enumerate() {
            let v = u8::try_from(f(p)?).ok()?;
            value |= u32::from(v) << (24 - 8 * k);
        }
        Some(Ipv4Addr::from(value))
    };
    let decimal = read(|p| p.dec);
    let aton = read(|p| p.aton);
    for addr in [decimal, aton.filter(|a| Some(*a) != decimal)]
        .into_iter()
        .flatten()
    {
        emit_v4(
            found,
            (parts[0].start, parts[n - 1].end),
            addr,
            V4Style::Dotted,
            None,
        );
    }
}

/// One number standing alone: IPv4 from 2^24, IPv6 from 2^64.
fn single(t: &[u8], p: &Part, prev: u8, found: &mut dyn FnMut(IpLiteral)) {
    if glued_before(t, p.start, prev) || glued_after(t, p.end) {
        return;
    }
    let span = (p.start, p.end);
    let v4 = |v: Option<u128>| v.and_then(|v| u64::try_from(v).ok()).and_then(integer_v4);
    match p.hex {
        Some(upper) => {
            if let Some(addr) = v4(p.aton).filter(|_| p.significant <= 8) {
                emit_v4(found, span, addr, V4Style::Hex { upper }, None);
            } else if let Some(a) = p.aton.filter(|v| *v >> 64 != 0 && p.significant <= 32) {
                emit_v6(found, span, a, V6Style::Hex { upper }, None, false);
            }
        }
        None => {
            if (8..=10).contains(&p.significant) {
                if let Some(addr) = v4(p.dec) {
                    emit_v4(found, span, addr, V4Style::Decimal, None);
                }
            }
            if p.leading_zero && p.significant <= 11 {
                if let Some(addr) = v4(p.aton) {
                    emit_v4(found, span, addr, V4Style::Octal, None);
                }
            }
            if (20..=39).contains(&p.significant) {
                if let Some(a) = p.dec.filter(|v| *v >> 64 != 0) {
                    emit_v6(found, span, a, V6Style::Decimal, None, false);
                }
            }
        }
    }
}

/// Four decimal parts of at most three digits joined by `sep` (`-` or `_`), not part
/// of a longer such run: `ip-198-51-100-23.example`.
fn separated(t: &[u8], at: usize, sep: u8, found: &mut dyn FnMut(IpLiteral)) -> Option<usize> {
    if at >= 2 && t[at - 1] == sep && t[at - 2].is_ascii_digit() {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut pos = at;
    for (k, slot) in octets.iter_mut().enumerate() {
        if k > 0 {
            let (c, next) = peek(t, pos);
            if c != sep {
                return None;
            }
            pos = next;
        }
        let mut value: u32 = 0;
        let mut digits = 0;
        loop {
            let (c, next) = peek(t, pos);
            if !c.is_ascii_digit() {
                break;
            }
            value = value * 10 + u32::from(c - b'0');
            digits += 1;
            pos = next;
            if digits > 3 {
                return None;
            }
        }
        if digits == 0 {
            return None;
        }
        *slot = u8::try_from(value).ok()?;
    }
    let (c, next) = peek(t, pos);
    if c == sep && peek(t, next).0.is_ascii_digit() {
        return None;
    }
    emit_v4(
        found,
        (at, pos),
        Ipv4Addr::from(octets),
        V4Style::Separated(sep),
        None,
    );
    Some(pos)
}

/// Whether the logical text at `i` is `word` (ASCII case ignored) not followed by a
/// letter or digit; returns where it ends.
fn word_at(t: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let mut pos = i;
    for &w in word {
        let (c, next) = lc(t, pos)?;
        if !c.eq_ignore_ascii_case(&w) {
            return None;
        }
        pos = next;
    }
    (!peek(t, pos).0.is_ascii_alphanumeric()).then_some(pos)
}

/// Bytes before a nibble name's suffix searched for its nibbles: 32 nibbles and dots
/// in the longest encodings (`&#x61;&#x2e;`) take 384.
const NIBBLE_WINDOW: usize = 512;

/// A `….ip6.arpa` name whose nibbles include the one at `at` (or end right before the
/// `ip6` at `at`): up to 32 single hex digits, each followed by a dot, in any encoding.
fn nibble_name(t: &[u8], at: usize, found: &mut dyn FnMut(IpLiteral)) -> Option<usize> {
    // Forward: pairs of a hex digit and a dot, then `ip6.arpa`.
    let mut pos = at;
    loop {
        let (c, next) = peek(t, pos);
        let (dot, after) = peek(t, next);
        if !is_hex(c) || c == 0 || dot != b'.' {
            break;
        }
        pos = after;
    }
    let suffix = pos;
    let end = word_at(t, suffix, b"ip6.arpa")?;
    // Back: decode a window before the suffix and read the pairs from the right
    // (an encoded dot cannot be read backwards byte by byte).
    let mut w = suffix.saturating_sub(NIBBLE_WINDOW);
    while w < suffix && (0x80..0xC0).contains(&t[w]) {
        w += 1;
    }
    let mut chars: Vec<(usize, usize, u8)> = Vec::new();
    let mut i = w;
    while i < suffix {
        let Some((c, next)) = lc(t, i) else { break };
        chars.push((i, next, c));
        i = next;
    }
    let mut nibbles = [0u8; 32];
    let mut n = 0;
    let mut k = chars.len();
    while k >= 2 && n < 32 {
        let (_, _, dot) = chars[k - 1];
        let (_, _, c) = chars[k - 2];
        let Some(d) = (c as char).to_digit(16).filter(|_| dot == b'.' && c != 0) else {
            break;
        };
        if k >= 3 && chars[k - 3].2.is_ascii_alphanumeric() {
            break;
        }
        nibbles[n] = d as u8;
        n += 1;
        k -= 2;
    }
    if n == 0 || (k > 0 && chars[k - 1].2.is_ascii_alphanumeric()) {
        return None;
    }
    // Nibbles were collected from the right: the first is the most significant.
    let mut a: u128 = 0;
    for &d in &nibbles[..n] {
        a = a << 4 | u128::from(d);
    }
    let len = (4 * n) as u8;
    a <<= 128 - u32::from(len);
    let start = chars[k].0;
    let last_end = chars[k + 2 * n - 2].1;
    let prefix = (n < 32).then_some((len, last_end));
    emit_v6(found, (start, last_end), a, V6Style::Nibbles, prefix, false);
    Some(end)
}

/// The address itself when `net` is a single address, as the scanner reports it.
pub fn single_address(net: &IpNet) -> Option<IpAddr> {
    (net.prefix_len() == net.max_prefix_len()).then(|| net.addr())
}

#[cfg(test)]
mod tests;

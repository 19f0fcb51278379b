//! Reading text as a stream of *logical* ASCII characters: every way of writing a
//! digit, a hex letter, `.`, `:` or `/` that a person, a URL parser or a regex engine
//! reads as that character counts as it. The address parsers read only through
//! [`lc`], so every form they recognise is recognised in every encoding below.
//!
//! - plain ASCII;
//! - compatibility characters ([`super::compat`]): full-width `１９８．５１`, `。`,
//!   mathematical and circled digits, ...;
//! - percent-encoding `%2E`, `%2e`, nested `%252E`, and percent-encoded UTF-8 of a
//!   compatibility character (`%EF%BC%91` is `１`);
//! - backslash escapes: `\.` (regular expressions; any number of backslashes),
//!   `\:`, `\/`, `\-`, `\xHH`, `\uHHHH`, `\u{H…}`;
//! - HTML character references: `&#46;`, `&#x2e;`, `&period;`, `&colon;`, `&sol;`;
//! - defanged dots: `[.]`, `(.)`, `{.}`, `<.>`, `[dot]`, `(dot)`, `{dot}`, `<dot>`
//!   (any case, spaces allowed inside), `[:]`, and with a space on each side
//!   ` [.] `, ` dot `, ` . `.
//!
//! A character that is not ASCII and reads as nothing is returned as [`OTHER`].

use super::compat::compat;

/// What a non-ASCII character that reads as no ASCII character decodes to.
pub(crate) const OTHER: u8 = 0x80;

/// Bytes that may start a multi-byte encoding of a logical character.
static SPECIAL: [bool; 128] = {
    let mut s = [false; 128];
    s[b'%' as usize] = true;
    s[b'\\' as usize] = true;
    s[b'&' as usize] = true;
    s[b'[' as usize] = true;
    s[b'(' as usize] = true;
    s[b'{' as usize] = true;
    s[b'<' as usize] = true;
    s[b' ' as usize] = true;
    s
};

/// The logical character starting at byte `i` of `t` and the byte after it, or
/// `None` at the end. `i` must be on a character boundary of the UTF-8 text.
#[inline(always)]
pub(crate) fn lc(t: &[u8], i: usize) -> Option<(u8, usize)> {
    let b = *t.get(i)?;
    if b < 0x80 && !SPECIAL[b as usize] {
        return Some((b, i + 1));
    }
    Some(slow(t, i))
}

/// Whether the byte at `i` may start a logical character other than itself (so the
/// scanner's skip loop stops there): an escape, a reference, a percent sign or a
/// non-ASCII lead byte.
#[inline]
pub(crate) fn may_encode(b: u8) -> bool {
    matches!(b, b'%' | b'\\' | b'&') || b >= 0xC0
}

#[inline(never)]
fn slow(t: &[u8], i: usize) -> (u8, usize) {
    let b = t[i];
    let decoded = match b {
        b'%' => percent(t, i),
        b'\\' => backslash(t, i),
        b'&' => reference(t, i),
        b'[' | b'(' | b'{' | b'<' => defang(t, i),
        b' ' => spaced(t, i),
        _ => {
            let (cp, end) = utf8_at(t, i);
            return (ascii_of(cp), end);
        }
    };
    decoded.unwrap_or((b, i + 1))
}

/// The ASCII character a code point reads as, or [`OTHER`].
pub(crate) fn ascii_of(cp: u32) -> u8 {
    if cp < 0x80 {
        cp as u8
    } else {
        compat(cp).unwrap_or(OTHER)
    }
}

/// Decodes the UTF-8 character at `i` (the text is valid UTF-8; a stray byte reads
/// as U+FFFD and advances by one).
pub(crate) fn utf8_at(t: &[u8], i: usize) -> (u32, usize) {
    let b = t[i];
    let (len, init) = match b {
        0x00..=0x7F => return (u32::from(b), i + 1),
        0xC0..=0xDF => (2, u32::from(b & 0x1F)),
        0xE0..=0xEF => (3, u32::from(b & 0x0F)),
        0xF0..=0xF7 => (4, u32::from(b & 0x07)),
        _ => return (0xFFFD, i + 1),
    };
    let mut cp = init;
    for k in 1..len {
        match t.get(i + k) {
            Some(&c) if c & 0xC0 == 0x80 => cp = (cp << 6) | u32::from(c & 0x3F),
            _ => return (0xFFFD, i + 1),
        }
    }
    (cp, i + len)
}

fn hex_value(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn hex_pair(t: &[u8], i: usize) -> Option<u8> {
    let hi = hex_value(*t.get(i)?)?;
    let lo = hex_value(*t.get(i + 1)?)?;
    Some((hi * 16 + lo) as u8)
}

/// `%HH`, with any number of `25` (an encoded `%`) in between, and percent-encoded
/// UTF-8 sequences of up to four bytes.
fn percent(t: &[u8], i: usize) -> Option<(u8, usize)> {
    let mut j = i + 1;
    let mut byte = hex_pair(t, j)?;
    while byte == 0x25 {
        match hex_pair(t, j + 2) {
            Some(next) => {
                j += 2;
                byte = next;
            }
            None => break,
        }
    }
    j += 2;
    if byte < 0x80 {
        return Some((byte, j));
    }
    let len = match byte {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return Some((OTHER, j)),
    };
    let mut bytes = [byte, 0, 0, 0];
    for slot in bytes.iter_mut().take(len).skip(1) {
        if t.get(j) != Some(&b'%') {
            return Some((OTHER, j));
        }
        *slot = hex_pair(t, j + 1)?;
        j += 3;
    }
    let cp = std::str::from_utf8(&bytes[..len])
        .ok()
        .and_then(|s| s.chars().next())
        .map_or(0xFFFD, u32::from);
    Some((ascii_of(cp), j))
}

/// `\.` and friends (any run of backslashes), `\xHH`, `\uHHHH`, `\u{H…}`.
fn backslash(t: &[u8], i: usize) -> Option<(u8, usize)> {
    let mut j = i;
    while t.get(j) == Some(&b'\\') {
        j += 1;
    }
    match *t.get(j)? {
        c @ (b'.' | b':' | b'/' | b'-') => Some((c, j + 1)),
        b'x' => Some((ascii_of(u32::from(hex_pair(t, j + 1)?)), j + 3)),
        b'u' if t.get(j + 1) == Some(&b'{') => {
            let mut k = j + 2;
            let mut cp: u32 = 0;
            while let Some(d) = t.get(k).and_then(|&b| hex_value(b)) {
                if k - (j + 2) == 6 {
                    return None;
                }
                cp = cp * 16 + d;
                k += 1;
            }
            (k > j + 2 && t.get(k) == Some(&b'}')).then(|| (ascii_of(cp), k + 1))
        }
        b'u' => {
            let hi = u32::from(hex_pair(t, j + 1)?);
            let lo = u32::from(hex_pair(t, j + 3)?);
            Some((ascii_of(hi << 8 | lo), j + 5))
        }
        _ => None,
    }
}

/// `&#N;`, `&#xH;`, `&period;`, `&colon;`, `&sol;`.
fn reference(t: &[u8], i: usize) -> Option<(u8, usize)> {
    let rest = &t[i + 1..];
    for (name, c) in [(&b"period;"[..], b'.'), (b"colon;", b':'), (b"sol;", b'/')] {
        if rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name) {
            return Some((c, i + 1 + name.len()));
        }
    }
    if rest.first() != Some(&b'#') {
        return None;
    }
    let (radix, mut k) = match rest.get(1) {
        Some(b'x' | b'X') => (16, i + 3),
        _ => (10, i + 2),
    };
    let digits_start = k;
    let mut cp: u32 = 0;
    while let Some(d) = t.get(k).and_then(|&b| (b as char).to_digit(radix)) {
        if k - digits_start == 7 {
            return None;
        }
        cp = cp * radix + d;
        k += 1;
    }
    (k > digits_start && t.get(k) == Some(&b';')).then(|| (ascii_of(cp), k + 1))
}

/// `[.]`, `(dot)`, `[:]`, ... starting at the opening bracket.
fn defang(t: &[u8], i: usize) -> Option<(u8, usize)> {
    let close = match t[i] {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        _ => b'>',
    };
    let mut j = i + 1;
    if t.get(j) == Some(&b' ') {
        j += 1;
    }
    let (c, after) = match *t.get(j)? {
        b'.' => (b'.', j + 1),
        b':' => (b':', j + 1),
        _ if t.len() >= j + 3 && t[j..j + 3].eq_ignore_ascii_case(b"dot") => (b'.', j + 3),
        _ => return None,
    };
    let mut k = after;
    if t.get(k) == Some(&b' ') {
        k += 1;
    }
    (t.get(k) == Some(&close)).then_some((c, k + 1))
}

/// A dot written with a space on each side: ` [.] `, ` dot `, ` . `.
fn spaced(t: &[u8], i: usize) -> Option<(u8, usize)> {
    let j = i + 1;
    let (c, end) = match *t.get(j)? {
        b'[' | b'(' | b'{' | b'<' => defang(t, j)?,
        b'.' => (b'.', j + 1),
        _ if t.len() >= j + 3 && t[j..j + 3].eq_ignore_ascii_case(b"dot") => (b'.', j + 3),
        _ => return None,
    };
    (t.get(end) == Some(&b' ')).then_some((c, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The logical text of `s`.
    fn logical(s: &str) -> String {
        let t = s.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while let Some((c, end)) = lc(t, i) {
            out.push(if c == OTHER { '?' } else { c as char });
            i = end;
        }
        out
    }

    #[test]
    fn every_encoding_reads_as_its_character() {
        for (text, want) in [
            ("198.51", "198.51"),
            ("１９８．５１。１", "198.51.1"),
            ("198%2E51%2e1%252E2", "198.51.1.2"),
            ("%31%39%38", "198"),
            ("%EF%BC%91", "1"),
            ("198\\.51\\\\.1", "198.51.1"),
            ("\\x31\\u0039\\u{38}", "198"),
            ("&#49;&#x39;8&period;5&colon;", "198.5:"),
            (
                "1[.]2(.)3{.}4<.>5[dot]6(DOT)7[ . ]8[:]9",
                "1.2.3.4.5.6.7.8:9",
            ),
            ("1 [.] 2 dot 3 . 4", "1.2.3.4"),
            ("a dotty [x] 1 2", "a dotty [x] 1 2"),
            ("é", "?"),
        ] {
            assert_eq!(logical(text), want, "{text}");
        }
    }
}

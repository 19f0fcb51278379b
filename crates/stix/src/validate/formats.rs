//! Syntax checks of string values: addresses, URLs, language tags, CPE, base64 ...
//! Each returns `Err(reason)` with a short explanation.

use std::net::{Ipv4Addr, Ipv6Addr};

type Check = Result<(), &'static str>;

/// `a.b.c.d` or `a.b.c.d/n` (n 0-32), no leading zeros (OASIS schema pattern).
pub(crate) fn ipv4_or_cidr(s: &str) -> Check {
    let (addr, prefix) = split_prefix(s);
    if !addr.split('.').all(|o| o == "0" || !o.starts_with('0')) {
        return Err("octets must not have leading zeros");
    }
    addr.parse::<Ipv4Addr>()
        .map_err(|_| "not an IPv4 address")?;
    check_prefix(prefix, 32)
}

/// An IPv6 address (optionally with a `%zone`) or CIDR block (prefix 0-128).
pub(crate) fn ipv6_or_cidr(s: &str) -> Check {
    let (addr, prefix) = split_prefix(s);
    let addr = match addr.split_once('%') {
        Some((a, zone)) if !zone.is_empty() => a,
        Some(_) => return Err("empty zone identifier"),
        None => addr,
    };
    addr.parse::<Ipv6Addr>()
        .map_err(|_| "not an IPv6 address")?;
    check_prefix(prefix, 128)
}

fn split_prefix(s: &str) -> (&str, Option<&str>) {
    match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    }
}

fn check_prefix(prefix: Option<&str>, max: u8) -> Check {
    let Some(p) = prefix else { return Ok(()) };
    if p.is_empty()
        || p.len() > 3
        || !p.bytes().all(|b| b.is_ascii_digit())
        || (p.len() > 1 && p.starts_with('0'))
    {
        return Err("CIDR prefix length is not a decimal number");
    }
    match p.parse::<u8>() {
        Ok(n) if n <= max => Ok(()),
        _ => Err("CIDR prefix length out of range"),
    }
}

/// `xx:xx:xx:xx:xx:xx` in lowercase hex.
pub(crate) fn mac_addr(s: &str) -> Check {
    let b = s.as_bytes();
    let ok = b.len() == 17
        && b.iter().enumerate().all(|(i, &c)| {
            if i % 3 == 2 {
                c == b':'
            } else {
                c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
            }
        });
    if ok {
        Ok(())
    } else {
        Err("must be a MAC-48 address in lowercase, colon separated, with leading zeros (00:0a:...)")
    }
}

/// An RFC 5322 addr-spec: `local@domain`, local part a dot-atom (or quoted
/// string), domain a dot-atom (or `[literal]`), ASCII only.
pub(crate) fn email_addr(s: &str) -> Check {
    if !s.is_ascii() {
        return Err("is not ASCII (RFC 5322)");
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("has no '@'");
    };
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if !quoted && !dot_atom(local) {
        return Err("local part is not a dot-atom of RFC 5322 characters");
    }
    let literal = domain.starts_with('[') && domain.ends_with(']');
    if !literal && !dot_atom(domain) {
        return Err("domain is not a dot-atom of RFC 5322 characters");
    }
    Ok(())
}

/// RFC 5322 dot-atom: atoms of atext joined by single dots.
fn dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c))
        })
}

/// A (possibly internationalised) domain name: labels of 1-63 characters,
/// at most 253 characters, no whitespace or URL punctuation.
pub(crate) fn domain_name(s: &str) -> Check {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > 253 {
        return Err("is longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has an empty label");
        }
        if label.len() > 63 {
            return Err("has a label longer than 63 characters");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a label that starts or ends with '-'");
        }
        // ASCII: letters, digits, '-' and '_' (DNS names such as _dmarc); other
        // scripts: anything but spaces, controls, symbols and punctuation blocks (IDNA).
        if !label.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '_' || (!c.is_ascii() && idn_char(c))
        }) {
            return Err("contains a character not allowed in a domain name");
        }
    }
    Ok(())
}

/// A non-ASCII character IDNA could allow: not a space or control, not in the
/// punctuation, symbol, emoji, private-use or specials blocks.
fn idn_char(c: char) -> bool {
    let u = c as u32;
    !(c.is_whitespace()
        || c.is_control()
        || (0x80..=0xBF).contains(&u)
        || (0xD7..=0xD7).contains(&u)
        || (0xF7..=0xF7).contains(&u)
        || (0x2000..=0x2BFF).contains(&u)
        || (0x3000..=0x303F).contains(&u)
        || (0xE000..=0xF8FF).contains(&u)
        || (0xFE00..=0xFE0F).contains(&u)
        || (0xFF00..=0xFF0F).contains(&u)
        || (0xFFF0..=0xFFFF).contains(&u)
        || (0x1F000..=0x1FAFF).contains(&u))
}

/// ASCII characters allowed in a URI outside `%` escapes (RFC 3986
/// unreserved and reserved sets).
static URI_CHAR: [bool; 128] = {
    let mut t = [false; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    let extra = b"-._~:/?#[]@!$&'()*+,;=";
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
};

/// An absolute URI (RFC 3986): `scheme:` followed by at least one character,
/// ASCII only (non-ASCII must be percent-encoded or punycode), no whitespace,
/// controls or characters URIs exclude, valid `%` escapes.
pub(crate) fn url(s: &str) -> Check {
    let Some((scheme, rest)) = s.split_once(':') else {
        return Err("has no scheme");
    };
    let sb = scheme.as_bytes();
    if sb.is_empty()
        || !sb[0].is_ascii_alphabetic()
        || !sb
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return Err("has no valid scheme");
    }
    if rest.is_empty() {
        return Err("is empty after the scheme");
    }
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return Err("has a '%' not followed by two hex digits");
            }
            i += 3;
            continue;
        }
        if c >= 0x80 {
            return Err("contains non-ASCII characters (RFC 3986: percent-encode them)");
        }
        if !URI_CHAR[c as usize] {
            return Err(
                "contains a character not allowed in a URI (space, quote, angle bracket ...)",
            );
        }
        i += 1;
    }
    Ok(())
}

/// An RFC 5646 language tag (syntax): a 2-3 letter (or 4-8 letter registered)
/// primary subtag, or a private-use `x-...` / grandfathered `i-...` tag, then
/// subtags of 1-8 letters or digits.
pub(crate) fn language_tag(s: &str) -> Check {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    let private = first.eq_ignore_ascii_case("x") || first.eq_ignore_ascii_case("i");
    if !private && !(2..=8).contains(&first.len())
        || !first.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return Err("primary language subtag must be 2 to 8 letters");
    }
    let mut count = 0;
    for p in parts {
        count += 1;
        if !(1..=8).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("subtags must be 1 to 8 letters or digits");
        }
    }
    if private && count == 0 {
        return Err("private-use tag needs a subtag");
    }
    Ok(())
}

/// Base64 (RFC 4648, with padding), as the OASIS schema `binary.json`.
pub(crate) fn base64(s: &str) -> Check {
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return Err("length is not a multiple of 4");
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return Err("too much padding");
    }
    let body = &b[..b.len() - pad];
    if !body
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    {
        return Err("contains characters outside the base64 alphabet");
    }
    Ok(())
}

/// An even number of hex digits (at least two).
pub(crate) fn hex(s: &str) -> Check {
    if s.is_empty() || s.len() % 2 != 0 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err("must be an even number (at least 2) of hex digits");
    }
    Ok(())
}

/// A CPE 2.3 formatted string binding: `cpe:2.3:` then 11 colon-separated
/// components (part, vendor, product, version, update, edition, language,
/// sw_edition, target_sw, target_hw, other); `\` escapes a character.
pub(crate) fn cpe23(s: &str) -> Check {
    let Some(rest) = s.strip_prefix("cpe:2.3:") else {
        return Err("does not start with 'cpe:2.3:'");
    };
    let mut comps: Vec<&str> = Vec::with_capacity(11);
    let b = rest.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b':' => {
                comps.push(&rest[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    comps.push(rest.get(start..).unwrap_or(""));
    if comps.len() != 11 {
        return Err("must have 13 colon-separated components");
    }
    if !matches!(comps[0], "a" | "o" | "h" | "*" | "-") {
        return Err("part must be a, o, h, * or -");
    }
    for c in &comps[1..] {
        if c.is_empty() {
            return Err("has an empty component");
        }
        if c.chars().any(|ch| ch.is_whitespace() || !ch.is_ascii()) {
            return Err("has whitespace or non-ASCII characters");
        }
    }
    Ok(())
}

/// `type/subtype` with a registered top-level type (the OASIS validator's
/// offline check).
pub(crate) fn mime_type(s: &str) -> Check {
    let Some((top, sub)) = s.split_once('/') else {
        return Err("is not of the form type/subtype");
    };
    const TOP: &[&str] = &[
        "application",
        "audio",
        "font",
        "image",
        "message",
        "model",
        "multipart",
        "text",
        "video",
    ];
    if !TOP.contains(&top) {
        return Err("top-level type is not a registered one");
    }
    let name = sub.split(';').next().unwrap_or("");
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".+_-".contains(&c))
    {
        return Err("subtype is empty or has characters other than letters, digits, . + _ -");
    }
    Ok(())
}

/// An IANA character-set name: 1-250 of letters, digits and `/ . + _ : - ( )`.
pub(crate) fn character_set(s: &str) -> Check {
    if s.is_empty()
        || s.len() > 250
        || !s
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"/.+_:-()".contains(&c))
    {
        return Err("is not an IANA character-set name");
    }
    Ok(())
}

/// A registry key must name its hive in full (`HKEY_LOCAL_MACHINE\...`).
pub(crate) fn registry_key(s: &str) -> Check {
    let hive = s.split('\\').next().unwrap_or("");
    if ["HKLM", "HKCC", "HKCR", "HKCU", "HKU"]
        .iter()
        .any(|a| hive.eq_ignore_ascii_case(a))
    {
        return Err("uses an abbreviated hive name; write it in full (e.g. HKEY_LOCAL_MACHINE)");
    }
    Ok(())
}

/// `a-z`, `0-9` and `-` only.
pub(crate) fn relationship_type(s: &str) -> Check {
    if s.is_empty()
        || !s
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err("must contain only a-z, 0-9 and '-'");
    }
    Ok(())
}

/// Property names: 3-250 of `a-z`, `0-9`, `_` (or exactly `id`).
pub(crate) fn property_name(s: &str) -> bool {
    s == "id"
        || (3..=250).contains(&s.len())
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Dictionary keys: 1-250 of `a-z A-Z 0-9 _ -`.
pub(crate) fn dictionary_key(s: &str) -> bool {
    (1..=250).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// `CVE-YYYY-NNNN...` (4 digits, or more without a leading zero).
pub(crate) fn cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|c| c.is_ascii_digit())
        && num.bytes().all(|c| c.is_ascii_digit())
        && (num.len() == 4 || (num.len() > 4 && !num.starts_with('0')))
}

/// `CAPEC-N...`.
pub(crate) fn capec_id(s: &str) -> bool {
    s.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "198.51.100.3",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "255.255.255.255/32",
        ] {
            assert!(ipv4_or_cidr(ok).is_ok(), "{ok}");
        }
        for bad in [
            "256.1.1.1",
            "1.2.3",
            "01.2.3.4",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/01",
            "a.b.c.d",
            " 1.2.3.4",
        ] {
            assert!(ipv4_or_cidr(bad).is_err(), "{bad}");
        }
        for ok in [
            "2001:db8::1",
            "::",
            "::ffff:1.2.3.4",
            "2001:db8::/32",
            "fe80::1%eth0",
        ] {
            assert!(ipv6_or_cidr(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2001:db8:::1",
            "1.2.3.4",
            "2001:db8::/129",
            "g::1",
            "fe80::1%",
        ] {
            assert!(ipv6_or_cidr(bad).is_err(), "{bad}");
        }
        assert!(mac_addr("00:0a:ff:12:34:56").is_ok());
        assert!(mac_addr("00:0A:ff:12:34:56").is_err());
        assert!(mac_addr("0:0a:ff:12:34:56").is_err());
    }

    #[test]
    fn names_and_uris() {
        assert!(email_addr("jdoe@example.com").is_ok());
        assert!(email_addr("jdoe example.com").is_err());
        assert!(email_addr("a b@example.com").is_err());
        assert!(domain_name("example.com").is_ok());
        assert!(domain_name("_dmarc.xn--bcher-kva.example.").is_ok());
        assert!(domain_name("bücher.example").is_ok());
        assert!(domain_name("exa mple.com").is_err());
        assert!(domain_name("a..b").is_err());
        assert!(domain_name("http://x").is_err());
        assert!(url("https://attack.mitre.org/techniques/T0800").is_ok());
        assert!(url("http://example.com/a%20b?q=1#f").is_ok());
        assert!(url("http://例え.jp/パス").is_err());
        assert!(url("http://xn--r8jz45g.jp/%E3%83%91").is_ok());
        assert!(email_addr("first.last+tag@sub.example.org").is_ok());
        assert!(email_addr("\"a b\"@example.org").is_ok());
        assert!(email_addr("x@évasion.com").is_err());
        assert!(email_addr("a..b@example.org").is_err());
        assert!(domain_name("😀.example").is_err());
        assert!(domain_name("हिन्दी.example").is_ok());
        assert!(domain_name("a→b.example").is_err());
        assert!(url("example.com").is_err());
        assert!(url("http://exa mple.com").is_err());
        assert!(url("http://example.com/%zz").is_err());
        assert!(language_tag("en").is_ok());
        assert!(language_tag("zh-Hant-TW").is_ok());
        assert!(language_tag("x-klingon").is_ok());
        assert!(language_tag("english language").is_err());
        assert!(language_tag("e").is_err());
    }

    #[test]
    fn encodings() {
        assert!(base64("aGVsbG8=").is_ok());
        assert!(base64("aGVsbG8").is_err());
        assert!(base64("aGVs*G8=").is_err());
        assert!(hex("0aFF").is_ok());
        assert!(hex("0aF").is_err());
        assert!(cpe23("cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*").is_ok());
        assert!(cpe23("cpe:2.3:a:foo\\:bar:word:2000:*:*:*:*:*:*:*").is_ok());
        assert!(cpe23("cpe:/a:microsoft:word:2000").is_err());
        assert!(cpe23("cpe:2.3:q:microsoft:word:2000:*:*:*:*:*:*:*").is_err());
        assert!(mime_type("application/zip").is_ok());
        assert!(mime_type("zip").is_err());
        assert!(registry_key("HKEY_LOCAL_MACHINE\\System").is_ok());
        assert!(registry_key("hklm\\System").is_err());
        assert!(
            cve_id("CVE-2016-1234")
                && cve_id("CVE-2016-12345")
                && !cve_id("CVE-2016-01234")
                && !cve_id("CVE-16-1234")
        );
        assert!(capec_id("CAPEC-163") && !capec_id("CAPEC-"));
    }
}

//! Registrable domains (the Public Suffix List's "eTLD+1").

/// Longest domain name looked up (RFC 1035: 253 characters in text form).
pub const MAX_DOMAIN_LEN: usize = 253;

/// The registrable domain of `name` (`example.co.uk` of `www.example.co.uk`), by the
/// Public Suffix List bundled with the `psl` crate (ICANN and private sections, as
/// browsers use it), lowercased, without a trailing dot. `None` for a name that is a
/// public suffix itself (`co.uk`), an address, empty, longer than [`MAX_DOMAIN_LEN`],
/// or not ASCII (internationalised names are looked up in their punycode form:
/// `xn--...`, as STIX `domain-name` values carry them).
pub fn registrable_domain(name: &str) -> Option<String> {
    let name = name.trim_end_matches('.');
    if name.is_empty() || name.len() > MAX_DOMAIN_LEN || !name.is_ascii() {
        return None;
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let valid = lower.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !valid {
        return None;
    }
    let domain = psl::domain(lower.as_bytes())?;
    std::str::from_utf8(domain.as_bytes())
        .ok()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::registrable_domain;

    #[test]
    fn registrable_domains() {
        assert_eq!(
            registrable_domain("WWW.Example.CO.UK.").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            registrable_domain("a.b.example.com").as_deref(),
            Some("example.com")
        );
        // A private-section suffix: each project is its own registrable domain.
        assert_eq!(
            registrable_domain("evil.github.io").as_deref(),
            Some("evil.github.io")
        );
        assert_eq!(registrable_domain("co.uk"), None);
        assert_eq!(registrable_domain("203.0.113.9"), None);
        assert_eq!(registrable_domain(""), None);
        assert_eq!(registrable_domain("bad..example.com"), None);
        assert_eq!(registrable_domain("bücher.de"), None);
    }
}

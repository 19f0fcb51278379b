//! Plain lists of names: one domain or one URL a line, told apart by content.

/// The host of one line of a plain list: the line itself for a domain list, the URL's
/// host for a URL (`scheme://[user@]host[:port]/...`, or `host/path` without a scheme);
/// `None` for blank lines and `#` comments. The host is returned as written (the
/// normaliser lower-cases and checks it).
pub fn host_of_line(line: &str) -> Option<&str> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    // A hosts-file line ("0.0.0.0 name"): the name.
    let line = match line.split_once(char::is_whitespace) {
        Some((first, rest)) if first.parse::<std::net::IpAddr>().is_ok() => rest.trim(),
        _ => line,
    };
    let rest = match line.find("://") {
        Some(p) => &line[p + 3..],
        None => line,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host // an IPv6 literal: the normaliser refuses it
    } else {
        match host.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        }
    };
    if host.is_empty() {
        None
    } else {
        Some(host)
    }
}

/// Whether an input's first bytes look like Zeek telemetry (a `#separator` header or a
/// JSON object) rather than a plain list of names or URLs.
pub fn is_zeek(start: &[u8]) -> bool {
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    let trimmed: &[u8] = {
        let skip = start.iter().take_while(|b| b.is_ascii_whitespace()).count();
        &start[skip..]
    };
    trimmed.starts_with(b"#separator") || trimmed.starts_with(b"{")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_lines() {
        assert_eq!(host_of_line("paypal.com"), Some("paypal.com"));
        assert_eq!(
            host_of_line("https://user@PayPal-login.example:8443/a?b"),
            Some("PayPal-login.example")
        );
        assert_eq!(
            host_of_line("paypal.com.evil.tk/login"),
            Some("paypal.com.evil.tk")
        );
        assert_eq!(host_of_line("0.0.0.0 evil.example"), Some("evil.example"));
        assert_eq!(host_of_line("# comment"), None);
        assert_eq!(host_of_line("   "), None);
        assert!(is_zeek(b"#separator \\x09\n"));
        assert!(is_zeek(b" {\"ts\":1}"));
        assert!(!is_zeek(b"# brands\npaypal.com"));
        assert!(!is_zeek(b"https://x.example/"));
    }
}

//! Atoms: the simple conditions that compiled matching understands, and the
//! normalisation both indicator values and observed values go through.
//!
//! An indicator whose pattern is a disjunction of atoms matches a record when any atom
//! matches any observable of the record.
//!
//! Normalisation (applied to pattern values when compiling and to telemetry values
//! when matching, so that both sides compare alike):
//! - domain names: ASCII lower case, one trailing dot removed (DNS names are
//!   case-insensitive; `Example.COM.` is `example.com`);
//! - URLs: see [`normalize_url`];
//! - e-mail addresses: lower case;
//! - hashes: lower-case hex, the algorithm name upper case without `-` (`SHA256`).

use std::net::IpAddr;

use ipnet::IpNet;

/// Which endpoint of a flow an address condition is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Either endpoint, or an address seen elsewhere (a DNS answer): `ipv4-addr:value`.
    Any,
    /// The originator: `network-traffic:src_ref.value`.
    Src,
    /// The responder: `network-traffic:dst_ref.value`.
    Dst,
}

/// A condition on a flow's ports, protocol and endpoints; every present field must hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrafficAtom {
    /// `network-traffic:protocols[*] = '...'`, lower case.
    pub protocol: Option<String>,
    /// `network-traffic:src_port = n`.
    pub src_port: Option<u16>,
    /// `network-traffic:dst_port = n`.
    pub dst_port: Option<u16>,
    /// `network-traffic:src_ref.value` (address or network).
    pub src: Option<IpNet>,
    /// `network-traffic:dst_ref.value` (address or network).
    pub dst: Option<IpNet>,
}

/// One simple condition of an indicator's pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Atom {
    /// An address or network (`ipv4-addr:value = '10.0.0.0/8'`, `ISSUBSET`), optionally
    /// tied to one side of a flow.
    Ip {
        /// The network (a host address is a /32 or /128).
        net: IpNet,
        /// The endpoint it applies to.
        side: Side,
    },
    /// `domain-name:value = '...'` (normalised).
    Domain(String),
    /// `domain-name:value LIKE '...'` (normalised; `%` and `_` wildcards).
    DomainLike(String),
    /// `url:value = '...'` (normalised).
    Url(String),
    /// `url:value LIKE '...'` (the LIKE text is normalised as far as it is a URL).
    UrlLike(String),
    /// `email-addr:value = '...'` (normalised).
    Email(String),
    /// `email-addr:value LIKE '...'`.
    EmailLike(String),
    /// `file:hashes.'SHA-256' = '...'` and the like.
    Hash {
        /// Normalised algorithm name, e.g. `SHA256`, `MD5`.
        algorithm: String,
        /// Lower-case hex digest.
        value: String,
    },
    /// A port / protocol / endpoint combination on `network-traffic`.
    Traffic(TrafficAtom),
}

/// Parses an address or CIDR as a network; a CIDR's host bits are cleared.
///
/// ```
/// let n = accord_match::atom::parse_net("10.1.2.3/8").unwrap();
/// assert_eq!(n.to_string(), "10.0.0.0/8");
/// assert_eq!(accord_match::atom::parse_net("2001:db8::1").unwrap().prefix_len(), 128);
/// ```
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if s.contains('/') {
        s.parse::<IpNet>().ok().map(|n| n.trunc())
    } else {
        s.parse::<IpAddr>().ok().map(IpNet::from)
    }
}

/// Normalises a domain name into `out` (lower case, one trailing dot removed).
pub fn normalize_domain_into(s: &str, out: &mut String) {
    out.clear();
    let s = s.strip_suffix('.').unwrap_or(s);
    out.push_str(s);
    out.make_ascii_lowercase();
}

/// Normalises a domain name.
///
/// ```
/// assert_eq!(accord_match::atom::normalize_domain("WWW.Example.COM."), "www.example.com");
/// ```
pub fn normalize_domain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    normalize_domain_into(s, &mut out);
    out
}

/// Normalises a URL into `out`, the form in which URLs are compared:
/// - the scheme and host are lower-cased (a URL without `scheme://` is taken as `http://`);
/// - the scheme's default port is removed (`:80` for http, `:443` for https);
/// - a trailing dot of the host is removed;
/// - an empty path becomes `/`;
/// - the fragment (`#...`) is removed (it is never sent over the network);
/// - path and query are kept as they are (case-sensitive, percent-escapes untouched).
///
/// ```
/// let mut out = String::new();
/// accord_match::atom::normalize_url_into("HTTP://Evil.Example:80?q=A#frag", &mut out);
/// assert_eq!(out, "http://evil.example/?q=A");
/// ```
pub fn normalize_url_into(s: &str, out: &mut String) {
    out.clear();
    let s = s.trim();
    let s = s.split_once('#').map_or(s, |(a, _)| a);
    let (scheme, rest) = match s.find("://") {
        Some(i)
            if s[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            (&s[..i], &s[i + 3..])
        }
        _ => ("http", s),
    };
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let start = out.len();
    out.push_str(scheme);
    out[start..].make_ascii_lowercase();
    let scheme_lower_end = out.len();
    out.push_str("://");
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..=i]), &authority[i + 1..]),
        None => (None, authority),
    };
    if let Some(u) = userinfo {
        out.push_str(u);
    }
    let (host, port) = split_port(hostport);
    let h = out.len();
    out.push_str(host.strip_suffix('.').unwrap_or(host));
    out[h..].make_ascii_lowercase();
    let default = match &out[start..scheme_lower_end] {
        "http" => Some("80"),
        "https" => Some("443"),
        _ => None,
    };
    if let Some(p) = port {
        if Some(p) != default {
            out.push(':');
            out.push_str(p);
        }
    }
    if !tail.starts_with('/') {
        out.push('/');
    }
    out.push_str(tail);
}

/// Normalises a URL (see [`normalize_url_into`]).
pub fn normalize_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    normalize_url_into(s, &mut out);
    out
}

/// Splits `host:port` (also `[v6]:port`); the port only if it is all digits.
fn split_port(hostport: &str) -> (&str, Option<&str>) {
    if hostport.starts_with('[') {
        if let Some(i) = hostport.find(']') {
            let port = hostport[i + 1..].strip_prefix(':').filter(|p| is_port(p));
            return (&hostport[..=i], port);
        }
        return (hostport, None);
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) if is_port(p) && !h.contains(':') => (h, Some(p)),
        _ => (hostport, None),
    }
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// Normalises a hash algorithm name: `SHA-256`, `sha256` → `SHA256`.
pub fn normalize_hash_algorithm(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for (i, o) in [
            ("http://a.example", "http://a.example/"),
            ("https://A.Example:443/P?Q", "https://a.example/P?Q"),
            ("https://a.example:8443", "https://a.example:8443/"),
            ("a.example/x", "http://a.example/x"),
            ("http://user@A.example.:80/x#y", "http://user@a.example/x"),
            ("http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"),
            ("ftp://h.example:80/", "ftp://h.example:80/"),
            ("", "http:///"),
        ] {
            assert_eq!(normalize_url(i), o, "{i}");
        }
    }

    #[test]
    fn nets_and_names() {
        assert_eq!(parse_net("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        assert!(parse_net("192.0.2.0/33").is_none());
        assert!(parse_net("nope").is_none());
        assert_eq!(normalize_hash_algorithm("SHA-256"), "SHA256");
    }
}

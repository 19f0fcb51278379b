//! Known-benign destinations: MISP warninglists.
//!
//! A beacon detector's false positives are healthy devices doing what they do on a
//! timer: asking a public resolver, setting the clock, checking for updates, keeping a
//! push channel open. MISP's warninglists (CC0) name those services by address range
//! and by host name; [`Warninglists::bundled`] carries the lists that matter for C2
//! detection (the copies and their licence are in `crates/detect/data/warninglists/`),
//! and [`Warninglists::parse`] reads any upstream list so that an operator can load the
//! full set. Cloud-provider ranges are deliberately not bundled: C2 lives on cloud
//! providers too, and a destination is never benign merely for where it is hosted.
//!
//! Matching: `cidr` lists by address (a bare address is a /32 or /128); `hostname`,
//! `string` and `substring` lists by name suffix on label boundaries (`.example.com`
//! and `example.com` both match `a.example.com` and `example.com`), case-insensitive.
//! `regex` lists are skipped (counted in [`Warninglists::skipped`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde_json::Value;

use crate::Error;

/// Longest list file [`Warninglists::parse`] accepts (the largest upstream list,
/// Majestic's million, is about 25 MB).
pub const MAX_LIST_BYTES: usize = 64 << 20;

/// The lists compiled into the library, with the file they came from.
const BUNDLED: [(&str, &[u8]); 13] = [
    (
        "public-dns-v4",
        include_bytes!("../data/warninglists/public-dns-v4.json"),
    ),
    (
        "public-dns-v6",
        include_bytes!("../data/warninglists/public-dns-v6.json"),
    ),
    (
        "crl-hostname",
        include_bytes!("../data/warninglists/crl-hostname.json"),
    ),
    ("crl-ip", include_bytes!("../data/warninglists/crl-ip.json")),
    (
        "captive-portals",
        include_bytes!("../data/warninglists/captive-portals.json"),
    ),
    (
        "microsoft-win10-connection-endpoints",
        include_bytes!("../data/warninglists/microsoft-win10-connection-endpoints.json"),
    ),
    (
        "microsoft",
        include_bytes!("../data/warninglists/microsoft.json"),
    ),
    ("apple", include_bytes!("../data/warninglists/apple.json")),
    ("google", include_bytes!("../data/warninglists/google.json")),
    (
        "whats-my-ip",
        include_bytes!("../data/warninglists/whats-my-ip.json"),
    ),
    (
        "multicast",
        include_bytes!("../data/warninglists/multicast.json"),
    ),
    (
        "ipv6-linklocal",
        include_bytes!("../data/warninglists/ipv6-linklocal.json"),
    ),
    (
        "accord-periodic-services",
        include_bytes!("../data/warninglists/accord-periodic-services.json"),
    ),
];

/// Known-benign addresses and names, from one or more warninglists.
#[derive(Debug, Clone, Default)]
pub struct Warninglists {
    /// Real prefixes.
    nets: Vec<(IpNet, u16)>,
    /// Lower-case names without a leading dot, with the index of their list.
    names: HashMap<String, u16>,
    /// Single addresses, canonical (IPv4 as IPv4), with the index of their list.
    addr_list: HashMap<IpAddr, u16>,
    /// The lists' names, by index.
    lists: Vec<String>,
    skipped: usize,
}

impl Warninglists {
    /// No list: nothing is suppressed.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The lists compiled into the library (see the module documentation), parsed
    /// once per process and cloned.
    pub fn bundled() -> Self {
        static BUNDLED_LISTS: std::sync::OnceLock<Warninglists> = std::sync::OnceLock::new();
        BUNDLED_LISTS
            .get_or_init(|| {
                let mut w = Warninglists::default();
                for (name, bytes) in BUNDLED {
                    // The bundled lists are checked by a unit test; a broken copy would
                    // only suppress less, never panic.
                    let _ = w.add(name, bytes);
                }
                w
            })
            .clone()
    }

    /// Parses one MISP warninglist (`list.json` of the upstream repository).
    ///
    /// ```
    /// let w = accord_detect::Warninglists::parse(br#"{"name":"t","type":"hostname","list":[".example.org"]}"#)?;
    /// assert_eq!(w.name_listed("a.b.example.org"), Some("t"));
    /// assert_eq!(w.name_listed("example.org.evil.net"), None);
    /// # Ok::<(), accord_detect::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let mut w = Warninglists::default();
        w.add("", bytes)?;
        Ok(w)
    }

    /// Adds one MISP warninglist; `fallback` names it if it has no `name`.
    pub fn add(&mut self, fallback: &str, bytes: &[u8]) -> Result<(), Error> {
        let bad = |message: String| Error::Config {
            setting: "warninglist",
            message,
        };
        if bytes.len() > MAX_LIST_BYTES {
            return Err(bad(format!(
                "list `{fallback}` is {} bytes, more than the limit {MAX_LIST_BYTES}",
                bytes.len()
            )));
        }
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("list `{fallback}` is not JSON: {e}")))?;
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(fallback)
            .to_string();
        let ty = v.get("type").and_then(Value::as_str).unwrap_or("string");
        let list = v
            .get("list")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(format!("list `{name}` has no `list` array")))?;
        let idx = u16::try_from(self.lists.len()).unwrap_or(u16::MAX);
        self.lists.push(name);
        for entry in list.iter().filter_map(Value::as_str) {
            let entry = entry.trim();
            match ty {
                "cidr" => {
                    if let Ok(a) = IpAddr::from_str(entry) {
                        let a = a.to_canonical();
                        self.addr_list.entry(a).or_insert(idx);
                    } else if let Ok(n) = IpNet::from_str(entry) {
                        let n = n.trunc();
                        if n.prefix_len() == n.max_prefix_len() {
                            let a = n.addr().to_canonical();
                            self.addr_list.entry(a).or_insert(idx);
                        } else {
                            self.nets.push((n, idx));
                        }
                    } else {
                        self.skipped += 1;
                    }
                }
                "hostname" | "string" | "substring" => {
                    let n = entry.trim_start_matches('.').trim_end_matches('.');
                    if n.is_empty() || n.contains('/') {
                        self.skipped += 1;
                    } else {
                        self.names.entry(n.to_ascii_lowercase()).or_insert(idx);
                    }
                }
                _ => self.skipped += 1,
            }
        }
        Ok(())
    }

    /// Merges another set of lists into this one.
    pub fn extend(&mut self, other: Warninglists) {
        let base = u16::try_from(self.lists.len()).unwrap_or(u16::MAX);
        let shift = |i: u16| base.saturating_add(i);
        for (a, i) in other.addr_list {
            self.addr_list.entry(a).or_insert(shift(i));
        }
        self.nets
            .extend(other.nets.into_iter().map(|(n, i)| (n, shift(i))));
        for (n, i) in other.names {
            self.names.entry(n).or_insert(shift(i));
        }
        self.lists.extend(other.lists);
        self.skipped += other.skipped;
    }

    /// Entries that could not be used (regex lists, malformed entries).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Number of usable entries.
    pub fn len(&self) -> usize {
        self.addr_list.len() + self.nets.len() + self.names.len()
    }

    /// `true` if nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The list naming `addr`, if any.
    pub fn addr_listed(&self, addr: IpAddr) -> Option<&str> {
        let addr = addr.to_canonical();
        let idx = match self.addr_list.get(&addr) {
            Some(i) => Some(*i),
            None => self
                .nets
                .iter()
                .find(|(n, _)| n.contains(&addr))
                .map(|(_, i)| *i),
        }?;
        self.lists.get(usize::from(idx)).map(String::as_str)
    }

    /// The list naming `name` or one of its parent domains, if any.
    pub fn name_listed(&self, name: &str) -> Option<&str> {
        let name = name.trim_end_matches('.');
        let lower;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = name.to_ascii_lowercase();
            lower.as_str()
        } else {
            name
        };
        let mut rest = name;
        loop {
            if let Some(i) = self.names.get(rest) {
                return self.lists.get(usize::from(*i)).map(String::as_str);
            }
            match rest.find('.') {
                Some(dot) => rest = &rest[dot + 1..],
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_lists_all_parse() {
        for (name, bytes) in BUNDLED {
            let w = Warninglists::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!w.is_empty(), "{name} is empty");
        }
        let w = Warninglists::bundled();
        assert!(w.addr_listed("8.8.8.8".parse().unwrap()).is_some());
        assert!(w.addr_listed("239.1.2.3".parse().unwrap()).is_some());
        assert!(w.name_listed("0.pool.ntp.org").is_some());
        assert!(w.name_listed("ctldl.windowsupdate.com").is_some());
        assert!(w.name_listed("qxzvbtrw.com").is_none());
        assert!(w.addr_listed("41.108.179.197".parse().unwrap()).is_none());
    }
}

//! Which addresses and domains locate a STIX object: the values it is *about*, not
//! every string that looks like an address (a description citing a resolver is not
//! where a C2 server is).
//!
//! - `ipv4-addr`, `ipv6-addr`: `value` (a CIDR block counts as its network address);
//! - `domain-name`: `value`;
//! - `url`: the host of `value` (an address or a domain name);
//! - `indicator` with a STIX pattern (`pattern_type` `stix` or absent): every literal
//!   compared with `=` or `IN` (not negated) against `ipv4-addr:value`,
//!   `ipv6-addr:value`, `network-traffic:dst_ref.value`, `network-traffic:src_ref.value`,
//!   `domain-name:value` or `url:value`, wherever the comparison sits in the pattern
//!   (`AND`, `FOLLOWEDBY` and qualifiers included: the indicator concerns each value),
//!   and the network of an address path `ISSUBSET` (its network address, as a CIDR
//!   `value` counts);
//! - every other type: nothing of its own. The hub locates infrastructure, malware and
//!   the like through their relationships to located objects (`accord_node::route`).
//!
//! At most [`MAX_SUBJECTS`] values per object are kept.

use std::borrow::Cow;
use std::net::IpAddr;

use accord_patterns::ast::{
    CompOp, ComparisonExpr, Literal, ObservationExpr, Operand, PathStep, Pattern,
};

/// Most addresses plus domains kept for one object: an indicator listing a million
/// addresses in `IN (...)` must not make enrichment unbounded.
pub const MAX_SUBJECTS: usize = 4096;

/// The addresses and domain names an object is about, in order of appearance, without
/// duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subjects {
    /// Addresses.
    pub addresses: Vec<IpAddr>,
    /// Domain names, lowercased, without a trailing dot.
    pub domains: Vec<String>,
}

impl Subjects {
    /// The subjects of an object given as JSON text (nothing if it does not parse).
    pub fn of_json(json: &str) -> Subjects {
        if let Some(head) = Head::parse(json) {
            return Subjects::of_head(&head);
        }
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(v) => Subjects::of(&v),
            Err(_) => Subjects::default(),
        }
    }

    /// The subjects of a parsed object.
    pub fn of(object: &serde_json::Value) -> Subjects {
        let text = |k: &str| object.get(k).and_then(|v| v.as_str());
        Subjects::of_fields(
            text("type").unwrap_or(""),
            text("value"),
            text("pattern_type"),
            text("pattern"),
        )
    }

    /// The subjects of an object read as a [`Head`].
    pub fn of_head(head: &Head<'_>) -> Subjects {
        Subjects::of_fields(
            head.kind.as_deref().unwrap_or(""),
            head.value.as_deref(),
            head.pattern_type.as_deref(),
            head.pattern.as_deref(),
        )
    }

    fn of_fields(
        kind: &str,
        value: Option<&str>,
        pattern_type: Option<&str>,
        pattern: Option<&str>,
    ) -> Subjects {
        let mut out = Subjects::default();
        match (kind, value) {
            ("ipv4-addr" | "ipv6-addr", Some(v)) => out.add("ipv4-addr", "value", v),
            ("domain-name", Some(v)) => out.add("domain-name", "value", v),
            ("url", Some(v)) => out.add("url", "value", v),
            ("indicator", _) => {
                let stix = pattern_type.is_none_or(|t| t == "stix");
                if let (true, Some(pattern)) = (stix, pattern) {
                    if let Ok(parsed) = accord_patterns::parse(pattern) {
                        out.pattern(&parsed);
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// Whether nothing locates the object.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.domains.is_empty()
    }

    fn full(&self) -> bool {
        self.addresses.len() + self.domains.len() >= MAX_SUBJECTS
    }

    fn pattern(&mut self, pattern: &Pattern) {
        self.observation(&pattern.expr);
    }

    fn observation(&mut self, expr: &ObservationExpr) {
        match expr {
            ObservationExpr::Observation { comparison, .. } => self.comparison(comparison),
            ObservationExpr::And(items)
            | ObservationExpr::Or(items)
            | ObservationExpr::FollowedBy(items) => {
                items.iter().for_each(|e| self.observation(e));
            }
            ObservationExpr::Qualified { expr, .. } | ObservationExpr::Group { expr, .. } => {
                self.observation(expr)
            }
        }
    }

    fn comparison(&mut self, expr: &ComparisonExpr) {
        let c = match expr {
            ComparisonExpr::And(items) | ComparisonExpr::Or(items) => {
                return items.iter().for_each(|e| self.comparison(e));
            }
            ComparisonExpr::Comparison(c) => c,
        };
        if c.negated {
            return;
        }
        let steps: Vec<&str> = c
            .path
            .steps
            .iter()
            .map(|s| match s {
                PathStep::Key(k) => k.as_str(),
                _ => "",
            })
            .collect();
        let kind = match (c.path.object_type.as_str(), steps.as_slice()) {
            ("ipv4-addr" | "ipv6-addr", ["value"]) => "ipv4-addr",
            ("network-traffic", ["dst_ref" | "src_ref", "value"]) => "ipv4-addr",
            ("domain-name", ["value"]) => "domain-name",
            ("url", ["value"]) => "url",
            _ => return,
        };
        let literals: Vec<&Literal> = match (&c.op, &c.operand) {
            (CompOp::Eq, Operand::Literal(l)) => vec![l],
            (CompOp::In, Operand::Set(set)) => set.iter().collect(),
            // An address within a network: the network, as a CIDR `value` counts.
            (CompOp::IsSubset, Operand::Literal(l)) if kind == "ipv4-addr" => vec![l],
            _ => return,
        };
        for literal in literals {
            if let Literal::String(v) = literal {
                self.add(kind, "value", v);
            }
        }
    }

    fn add(&mut self, kind: &str, _property: &str, value: &str) {
        if self.full() {
            return;
        }
        match kind {
            "ipv4-addr" => {
                let addr = value.split_once('/').map_or(value, |(a, _)| a);
                if let Ok(ip) = addr.parse::<IpAddr>() {
                    let ip = match value.split_once('/') {
                        Some((_, prefix)) => match prefix.parse::<u8>() {
                            Ok(p) => network(ip, p),
                            Err(_) => return,
                        },
                        None => ip,
                    };
                    if !self.addresses.contains(&ip) {
                        self.addresses.push(ip);
                    }
                }
            }
            "domain-name" => {
                let d = value.trim_end_matches('.').to_ascii_lowercase();
                if d.parse::<IpAddr>().is_ok() {
                    return self.add("ipv4-addr", "value", &d);
                }
                if !d.is_empty() && !self.domains.contains(&d) {
                    self.domains.push(d);
                }
            }
            "url" => {
                if let Some(host) = url_host(value) {
                    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                        self.add("ipv4-addr", "value", ip);
                    } else {
                        self.add("domain-name", "value", &host);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The top-level string properties of an object that locate it or link it (each
/// `None` when absent or not a string), read without building a JSON tree: routing
/// and enrichment read every object of a store, and measured, the tree was most of
/// their time. [`Head::parse`] is `None` for text a tree would read differently (not
/// an object, a repeated key): callers then parse the tree.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Head<'a> {
    /// `type`.
    #[serde(rename = "type", borrow, default, deserialize_with = "text")]
    pub kind: Option<Cow<'a, str>>,
    /// `value` (SCOs).
    #[serde(borrow, default, deserialize_with = "text")]
    pub value: Option<Cow<'a, str>>,
    /// `pattern` (indicators).
    #[serde(borrow, default, deserialize_with = "text")]
    pub pattern: Option<Cow<'a, str>>,
    /// `pattern_type` (indicators).
    #[serde(borrow, default, deserialize_with = "text")]
    pub pattern_type: Option<Cow<'a, str>>,
    /// `source_ref` (relationships).
    #[serde(borrow, default, deserialize_with = "text")]
    pub source_ref: Option<Cow<'a, str>>,
    /// `target_ref` (relationships).
    #[serde(borrow, default, deserialize_with = "text")]
    pub target_ref: Option<Cow<'a, str>>,
    /// `sighting_of_ref` (sightings).
    #[serde(borrow, default, deserialize_with = "text")]
    pub sighting_of_ref: Option<Cow<'a, str>>,
}

impl<'a> Head<'a> {
    /// The head of `json`, if it is one JSON object without repeated keys.
    pub fn parse(json: &'a str) -> Option<Head<'a>> {
        serde_json::from_str(json).ok()
    }
}

/// A property's text if it is a string; any other JSON value is skipped as `None`.
fn text<'de, 'a, D>(d: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
    'de: 'a,
{
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            while a
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    d.deserialize_any(Text)
}

/// The host of an absolute URL (`scheme://[userinfo@]host[:port]/...`), bracketed for
/// an IPv6 literal.
fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        &host_port[..=end]
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// The network address of `ip/prefix` (a prefix beyond the address length keeps it).
fn network(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let keep = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - keep).unwrap_or(0);
            IpAddr::from((u32::from(a) & mask).to_be_bytes())
        }
        IpAddr::V6(a) => {
            let keep = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - keep).unwrap_or(0);
            IpAddr::from((u128::from(a) & mask).to_be_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(s: &Subjects) -> Vec<String> {
        s.addresses.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn scos() {
        let s = Subjects::of_json(r#"{"type":"ipv4-addr","value":"198.51.100.0/24"}"#);
        assert_eq!(ips(&s), ["198.51.100.0"]);
        let s = Subjects::of_json(r#"{"type":"ipv6-addr","value":"2001:db8::1"}"#);
        assert_eq!(ips(&s), ["2001:db8::1"]);
        let s = Subjects::of_json(r#"{"type":"url","value":"http://user@[2001:db8::2]:8080/x"}"#);
        assert_eq!(ips(&s), ["2001:db8::2"]);
        let s = Subjects::of_json(r#"{"type":"url","value":"https://Login.Example.com:443/a?b"}"#);
        assert_eq!(s.domains, ["login.example.com"]);
        let s = Subjects::of_json(r#"{"type":"domain-name","value":"Example.COM."}"#);
        assert_eq!(s.domains, ["example.com"]);
        // Other types have no subjects of their own, even with addresses in prose.
        let s = Subjects::of_json(
            r#"{"type":"infrastructure","name":"C2 at 203.0.113.5","description":"8.8.8.8"}"#,
        );
        assert!(s.is_empty());
    }

    proptest::proptest! {
        /// Read through [`Head`] (no JSON tree) or through the tree: the same subjects,
        /// whatever the types of the properties, repeated keys and escapes included.
        #[test]
        fn head_reads_as_the_tree(
            props in proptest::collection::vec((0usize..7, 0usize..8), 0..8),
        ) {
            let keys = ["type", "value", "pattern", "pattern_type", "source_ref", "name", "sighting_of_ref"];
            let values = [
                r#""ipv4-addr""#, r#""indicator""#, r#""203.0.113.9""#,
                r#""[ipv4-addr:value = '198.51.100.7']""#, r#""stix""#,
                r#""http:\/\/c2.example.net\/a""#, "17", r#"{"a":[1,{"b":null}]}"#,
            ];
            let body: Vec<String> = props.iter().map(|(k, v)| format!("\"{}\":{}", keys[*k], values[*v])).collect();
            let json = format!("{{{}}}", body.join(","));
            let tree: serde_json::Value = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(Subjects::of_json(&json), Subjects::of(&tree), "{}", json);
        }
    }

    #[test]
    fn indicator_patterns() {
        let s = Subjects::of_json(
            r#"{"type":"indicator","pattern":"([ipv4-addr:value = '203.0.113.5' AND file:name = 'x'] FOLLOWEDBY [network-traffic:dst_ref.value IN ('198.51.100.7', '2001:db8::9')]) WITHIN 60 SECONDS OR [url:value = 'http://c2.example.net/gate.php'] OR [ipv4-addr:value != '192.0.2.1'] OR [ipv4-addr:value LIKE '10.%'] OR [domain-name:value = 'evil.example.org']"}"#,
        );
        assert_eq!(ips(&s), ["203.0.113.5", "198.51.100.7", "2001:db8::9"]);
        assert_eq!(s.domains, ["c2.example.net", "evil.example.org"]);
        let s = Subjects::of_json(
            r#"{"type":"indicator","pattern":"[ipv4-addr:value ISSUBSET '203.0.113.64/26'] OR [network-traffic:dst_ref.value ISSUBSET '2001:db8:1::/48'] OR [domain-name:value ISSUBSET 'x'] OR [ipv4-addr:value NOT ISSUBSET '198.51.100.0/24']"}"#,
        );
        assert_eq!(ips(&s), ["203.0.113.64", "2001:db8:1::"]);
        assert!(s.domains.is_empty());
        // NOT, another pattern language, a broken pattern: nothing.
        for json in [
            r#"{"type":"indicator","pattern":"[ipv4-addr:value NOT = '203.0.113.5']"}"#,
            r#"{"type":"indicator","pattern_type":"snort","pattern":"[ipv4-addr:value = '203.0.113.5']"}"#,
            r#"{"type":"indicator","pattern":"[ipv4-addr:value = "}"#,
            "not json",
        ] {
            assert!(Subjects::of_json(json).is_empty(), "{json}");
        }
    }
}

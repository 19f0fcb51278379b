//! The compiled, flat structures that find which indicators an observable matches.
//!
//! | atom | structure | cost per observable |
//! |---|---|---|
//! | address or network (CIDR) | [`PrefixTable`](crate::prefix::PrefixTable) (a host is a /32 or /128) | two dependent memory reads + nesting depth |
//! | domain, URL, e-mail, hash | `HashMap<str>`, seeded | one probe (domains: one per label for `%.suffix`) |
//! | other `LIKE` | Aho-Corasick over each pattern's longest literal, then the full `LIKE` | linear in the text |
//! | ports / protocols | `HashMap<port>` then a check of the remaining conditions | one probe per port |
//!
//! Host addresses live in the prefix table with the networks rather than in a hash set:
//! measured on the 10M-record benchmark with a million indicators, one table lookup
//! per address (index, then the interval) costs fewer cache misses than a hash probe
//! plus a table lookup.
//!
//! Keys are attacker-controlled (telemetry and partners' indicators), so every hash map
//! uses `foldhash`'s randomly seeded hasher. All values for one key live in one flat
//! pool, addressed by a [`Span`]: no per-key allocation.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

use accord_telemetry::Proto;
use aho_corasick::AhoCorasick;
use foldhash::fast::RandomState;
use ipnet::IpNet;

use crate::atom::{Atom, Side, TrafficAtom};
use crate::like::{self, LikeShape};
use crate::prefix::{self, NetEntry, PrefixTable};

type Map<K, V> = HashMap<K, V, RandomState>;

/// A run of values in a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn of<T>(self, pool: &[T]) -> &[T] {
        let s = self.start as usize;
        pool.get(s..s + self.len as usize).unwrap_or(&[])
    }
}

/// An indicator reached through an address, with the endpoint the condition is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpHit {
    indicator: u32,
    side: Side,
}

/// Groups `(key, value)` pairs by key into a map of spans over `pool`.
fn freeze<K: Ord + Hash + Eq, T>(mut pairs: Vec<(K, T)>, pool: &mut Vec<T>) -> Map<K, Span> {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut map: Map<K, Span> = Map::with_capacity_and_hasher(pairs.len(), RandomState::default());
    let mut it = pairs.into_iter().peekable();
    while let Some((k, v)) = it.next() {
        let start = pool.len() as u32;
        pool.push(v);
        while it.peek().is_some_and(|(k2, _)| *k2 == k) {
            if let Some((_, v2)) = it.next() {
                pool.push(v2);
            }
        }
        map.insert(
            k,
            Span {
                start,
                len: pool.len() as u32 - start,
            },
        );
    }
    map.shrink_to_fit();
    map
}

/// `LIKE` patterns found through Aho-Corasick on their longest literal.
#[derive(Debug, Default)]
struct LikeSet {
    ac: Option<AhoCorasick>,
    /// Per Aho-Corasick pattern: the entries having that literal.
    by_literal: Vec<Span>,
    entry_pool: Vec<u32>,
    /// Patterns without any literal (`%`, `___`): checked on every text.
    always: Vec<u32>,
    entries: Vec<(Box<str>, u32)>,
}

impl LikeSet {
    fn build(entries: Vec<(String, u32)>) -> Self {
        let entries: Vec<(Box<str>, u32)> = entries
            .into_iter()
            .map(|(p, i)| (p.into_boxed_str(), i))
            .collect();
        let mut keyed: Vec<(&str, u32)> = Vec::new();
        let mut always = Vec::new();
        for (i, (p, _)) in entries.iter().enumerate() {
            let lit = like::longest_literal(p);
            if lit.is_empty() {
                always.push(i as u32);
            } else {
                keyed.push((lit, i as u32));
            }
        }
        keyed.sort();
        let mut literals: Vec<&str> = Vec::new();
        let mut by_literal = Vec::new();
        let mut entry_pool = Vec::with_capacity(keyed.len());
        for (lit, e) in keyed {
            if literals.last() != Some(&lit) {
                literals.push(lit);
                by_literal.push(Span {
                    start: entry_pool.len() as u32,
                    len: 0,
                });
            }
            entry_pool.push(e);
            if let Some(s) = by_literal.last_mut() {
                s.len += 1;
            }
        }
        // Building can only fail past aho-corasick's size limits (billions of states);
        // the literals are then checked the slow way instead of being lost.
        let ac = if literals.is_empty() {
            None
        } else {
            AhoCorasick::new(&literals).ok()
        };
        if ac.is_none() && !literals.is_empty() {
            always.extend(entry_pool.iter().copied());
            by_literal.clear();
        }
        LikeSet {
            ac,
            by_literal,
            entry_pool,
            always,
            entries,
        }
    }

    fn for_each(&self, text: &str, f: &mut impl FnMut(u32)) {
        let mut check = |e: u32| {
            if let Some((p, ind)) = self.entries.get(e as usize) {
                if like::like_match(p, text) {
                    f(*ind);
                }
            }
        };
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(text) {
                if let Some(span) = self.by_literal.get(m.pattern().as_usize()) {
                    span.of(&self.entry_pool).iter().for_each(|e| check(*e));
                }
            }
        }
        self.always.iter().for_each(|e| check(*e));
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A flow as the traffic conditions see it.
#[derive(Debug, Clone, Copy)]
pub struct FlowView<'a> {
    /// Transport protocol.
    pub proto: Proto,
    /// Zeek's `service` (comma-separated application protocols), if known.
    pub service: Option<&'a str>,
    /// Originator address.
    pub src: IpAddr,
    /// Originator port.
    pub src_port: Option<u16>,
    /// Responder address.
    pub dst: IpAddr,
    /// Responder port.
    pub dst_port: Option<u16>,
}

impl FlowView<'_> {
    /// `network-traffic:protocols[*] = name` against this flow: the transport protocol,
    /// the IP version (`ipv4`/`ipv6`), or one of Zeek's detected services.
    fn has_protocol(&self, name: &str) -> bool {
        self.proto.stix_name() == Some(name)
            || (name == "ipv4" && self.src.is_ipv4())
            || (name == "ipv6" && self.src.is_ipv6())
            || self
                .service
                .is_some_and(|s| s.split(',').any(|x| x.eq_ignore_ascii_case(name)))
    }

    fn satisfies(&self, t: &TrafficAtom) -> bool {
        t.protocol.as_deref().is_none_or(|p| self.has_protocol(p))
            && t.src_port.is_none_or(|p| self.src_port == Some(p))
            && t.dst_port.is_none_or(|p| self.dst_port == Some(p))
            && t.src.is_none_or(|n| n.contains(&self.src))
            && t.dst.is_none_or(|n| n.contains(&self.dst))
    }
}

/// Traffic conditions, indexed by their most selective port.
#[derive(Debug, Default)]
struct TrafficIndex {
    entries: Vec<(TrafficAtom, u32)>,
    by_dst_port: Map<u16, Span>,
    by_src_port: Map<u16, Span>,
    pool: Vec<u32>,
    /// Conditions without a port: checked on every flow.
    unkeyed: Vec<u32>,
}

impl TrafficIndex {
    fn build(entries: Vec<(TrafficAtom, u32)>) -> Self {
        let (mut dst, mut src, mut unkeyed) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (t, _)) in entries.iter().enumerate() {
            match (t.dst_port, t.src_port) {
                (Some(p), _) => dst.push((p, i as u32)),
                (None, Some(p)) => src.push((p, i as u32)),
                (None, None) => unkeyed.push(i as u32),
            }
        }
        let mut pool = Vec::new();
        let by_dst_port = freeze(dst, &mut pool);
        let by_src_port = freeze(src, &mut pool);
        TrafficIndex {
            entries,
            by_dst_port,
            by_src_port,
            pool,
            unkeyed,
        }
    }

    fn for_each(&self, flow: &FlowView<'_>, f: &mut impl FnMut(u32)) {
        if self.entries.is_empty() {
            return;
        }
        let mut check = |e: &u32| {
            if let Some((t, ind)) = self.entries.get(*e as usize) {
                if flow.satisfies(t) {
                    f(*ind);
                }
            }
        };
        if let Some(p) = flow.dst_port {
            if let Some(s) = self.by_dst_port.get(&p) {
                s.of(&self.pool).iter().for_each(&mut check);
            }
        }
        if let Some(p) = flow.src_port {
            if let Some(s) = self.by_src_port.get(&p) {
                s.of(&self.pool).iter().for_each(&mut check);
            }
        }
        self.unkeyed.iter().for_each(check);
    }
}

/// Sizes of the compiled structures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatcherSizes {
    /// Distinct host addresses and networks (CIDRs).
    pub addresses_and_networks: usize,
    /// Distinct exact domain names (and `%.suffix` suffixes).
    pub domains: usize,
    /// Distinct exact URLs.
    pub urls: usize,
    /// `LIKE` patterns needing Aho-Corasick.
    pub like_patterns: usize,
    /// E-mail addresses and hashes.
    pub other_exact: usize,
    /// Port / protocol conditions.
    pub traffic: usize,
}

/// The compiled atoms of every indicator (see the module documentation).
#[derive(Debug)]
pub struct Matcher {
    v4_nets: PrefixTable<u32, Span>,
    v6_nets: PrefixTable<u128, Span>,
    ip_pool: Vec<IpHit>,
    domains: Map<Box<str>, Span>,
    subdomains: Map<Box<str>, Span>,
    domain_like: LikeSet,
    urls: Map<Box<str>, Span>,
    url_like: LikeSet,
    emails: Map<Box<str>, Span>,
    email_like: LikeSet,
    hashes: Map<Box<str>, Span>,
    pool: Vec<u32>,
    traffic: TrafficIndex,
}

impl Matcher {
    /// Compiles `(atom, indicator index)` pairs.
    ///
    /// ```
    /// use accord_match::matcher::Matcher;
    /// use accord_match::atom::{Atom, Side, parse_net};
    /// let m = Matcher::build(vec![
    ///     (Atom::Ip { net: parse_net("198.51.100.0/24").unwrap(), side: Side::Any }, 0),
    ///     (Atom::DomainLike("%.evil.example".into()), 1),
    /// ]);
    /// let mut hits = Vec::new();
    /// m.match_ip("198.51.100.9".parse().unwrap(), Side::Dst, &mut |i| hits.push(i));
    /// m.match_domain("c2.evil.example", &mut |i| hits.push(i));
    /// assert_eq!(hits, [0, 1]);
    /// ```
    pub fn build(atoms: Vec<(Atom, u32)>) -> Self {
        let (mut n4, mut n6) = (Vec::new(), Vec::new());
        let (mut domains, mut subdomains, mut dlike) = (Vec::new(), Vec::new(), Vec::new());
        let (mut urls, mut ulike, mut emails, mut elike) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut hashes, mut traffic) = (Vec::new(), Vec::new());
        for (atom, ind) in atoms {
            match atom {
                Atom::Ip { net, side } => {
                    let hit = IpHit {
                        indicator: ind,
                        side,
                    };
                    match net {
                        IpNet::V4(n) => n4.push((prefix::v4_range(&n), hit)),
                        IpNet::V6(n) => n6.push((prefix::v6_range(&n), hit)),
                    }
                }
                Atom::Domain(d) => domains.push((d.into_boxed_str(), ind)),
                Atom::DomainLike(p) => match like::shape(&p) {
                    LikeShape::Exact(d) => domains.push((d.into(), ind)),
                    LikeShape::Subdomain(s) => subdomains.push((s.into(), ind)),
                    LikeShape::General => dlike.push((p, ind)),
                },
                Atom::Url(u) => urls.push((u.into_boxed_str(), ind)),
                Atom::UrlLike(p) => match like::shape(&p) {
                    LikeShape::Exact(u) => urls.push((u.into(), ind)),
                    _ => ulike.push((p, ind)),
                },
                Atom::Email(e) => emails.push((e.into_boxed_str(), ind)),
                Atom::EmailLike(p) => match like::shape(&p) {
                    LikeShape::Exact(e) => emails.push((e.into(), ind)),
                    _ => elike.push((p, ind)),
                },
                Atom::Hash { algorithm, value } => {
                    hashes.push((hash_key(&algorithm, &value).into_boxed_str(), ind))
                }
                Atom::Traffic(t) => traffic.push((t, ind)),
            }
        }
        let mut ip_pool = Vec::new();
        let v4_nets = PrefixTable::build(nets(n4, &mut ip_pool));
        let v6_nets = PrefixTable::build(nets(n6, &mut ip_pool));
        let mut pool = Vec::new();
        Matcher {
            v4_nets,
            v6_nets,
            ip_pool,
            domains: freeze(domains, &mut pool),
            subdomains: freeze(subdomains, &mut pool),
            domain_like: LikeSet::build(dlike),
            urls: freeze(urls, &mut pool),
            url_like: LikeSet::build(ulike),
            emails: freeze(emails, &mut pool),
            email_like: LikeSet::build(elike),
            hashes: freeze(hashes, &mut pool),
            pool,
            traffic: TrafficIndex::build(traffic),
        }
    }

    /// Sizes of the compiled structures.
    pub fn sizes(&self) -> MatcherSizes {
        MatcherSizes {
            addresses_and_networks: self.v4_nets.len() + self.v6_nets.len(),
            domains: self.domains.len() + self.subdomains.len(),
            urls: self.urls.len(),
            like_patterns: self.domain_like.len() + self.url_like.len() + self.email_like.len(),
            other_exact: self.emails.len() + self.hashes.len(),
            traffic: self.traffic.entries.len(),
        }
    }

    /// Calls `f` with each indicator an address matches. `seen_as` is the endpoint the
    /// address was (`Src`/`Dst`), or `Any` for an address seen outside a flow's
    /// endpoints (a DNS answer), which only side-less conditions match.
    #[inline]
    pub fn match_ip(&self, addr: IpAddr, seen_as: Side, f: &mut impl FnMut(u32)) {
        let mut emit = |hits: &[IpHit]| {
            for h in hits {
                if h.side == Side::Any || h.side == seen_as {
                    f(h.indicator);
                }
            }
        };
        match addr {
            IpAddr::V4(a) => self
                .v4_nets
                .lookup(u32::from(a), |s| emit(s.of(&self.ip_pool))),
            IpAddr::V6(a) => self
                .v6_nets
                .lookup(u128::from(a), |s| emit(s.of(&self.ip_pool))),
        }
    }

    /// `false` if no address condition can match `addr` (see
    /// [`PrefixTable::may_contain`]); `true` if one may.
    #[inline]
    pub fn ip_may_match(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.v4_nets.may_contain(u32::from(a)),
            IpAddr::V6(a) => self.v6_nets.may_contain(u128::from(a)),
        }
    }

    /// Calls `f` with each indicator a normalised domain name matches (exactly, as a
    /// subdomain of a `%.suffix` pattern, or through another `LIKE`).
    pub fn match_domain(&self, domain: &str, f: &mut impl FnMut(u32)) {
        let pool = &self.pool;
        if let Some(s) = self.domains.get(domain) {
            s.of(pool).iter().for_each(|i| f(*i));
        }
        if !self.subdomains.is_empty() {
            for (i, b) in domain.bytes().enumerate() {
                if b == b'.' {
                    if let Some(s) = self.subdomains.get(&domain[i + 1..]) {
                        s.of(pool).iter().for_each(|i| f(*i));
                    }
                }
            }
        }
        self.domain_like.for_each(domain, f);
    }

    /// Calls `f` with each indicator a normalised URL matches.
    pub fn match_url(&self, url: &str, f: &mut impl FnMut(u32)) {
        if let Some(s) = self.urls.get(url) {
            s.of(&self.pool).iter().for_each(|i| f(*i));
        }
        self.url_like.for_each(url, f);
    }

    /// Calls `f` with each indicator a lower-cased e-mail address matches.
    pub fn match_email(&self, email: &str, f: &mut impl FnMut(u32)) {
        if let Some(s) = self.emails.get(email) {
            s.of(&self.pool).iter().for_each(|i| f(*i));
        }
        self.email_like.for_each(email, f);
    }

    /// Calls `f` with each indicator a file hash matches (`algorithm` as in
    /// [`normalize_hash_algorithm`](crate::atom::normalize_hash_algorithm), `hex` lower case).
    pub fn match_hash(&self, algorithm: &str, hex: &str, f: &mut impl FnMut(u32)) {
        if let Some(s) = self.hashes.get(hash_key(algorithm, hex).as_str()) {
            s.of(&self.pool).iter().for_each(|i| f(*i));
        }
    }

    /// Calls `f` with each indicator whose port / protocol conditions a flow satisfies.
    #[inline]
    pub fn match_flow(&self, flow: &FlowView<'_>, f: &mut impl FnMut(u32)) {
        self.traffic.for_each(flow, f);
    }

    /// `true` if some condition looks at domain names.
    pub fn wants_domains(&self) -> bool {
        !(self.domains.is_empty() && self.subdomains.is_empty() && self.domain_like.len() == 0)
    }

    /// `true` if some condition looks at URLs.
    pub fn wants_urls(&self) -> bool {
        !(self.urls.is_empty() && self.url_like.len() == 0)
    }
}

fn hash_key(algorithm: &str, hex: &str) -> String {
    format!("{algorithm}:{hex}")
}

fn nets<K: Ord + Copy>(
    mut v: Vec<((K, K), IpHit)>,
    pool: &mut Vec<IpHit>,
) -> Vec<NetEntry<K, Span>> {
    v.sort_by_key(|a| a.0);
    let mut out: Vec<NetEntry<K, Span>> = Vec::new();
    for ((first, last), hit) in v {
        match out.last_mut() {
            Some(e) if e.first == first && e.last == last => e.value.len += 1,
            _ => out.push(NetEntry {
                first,
                last,
                value: Span {
                    start: pool.len() as u32,
                    len: 1,
                },
            }),
        }
        pool.push(hit);
    }
    out
}

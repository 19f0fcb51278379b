//! Command-and-control detection: which external destinations do internal hosts
//! beacon to, or reach the way bots reach their C2.
//!
//! Signals (see [`score`] for weights and the combination):
//! - **beacon**: regular gaps between connections of one internal host to one
//!   destination and port (half-octave gap histogram, robust to jitter and to
//!   sleep-with-jitter implants), weighted by regular sizes and volume;
//! - **dead**: regular attempts nobody answers (a dead or sinkholed C2);
//! - **fan_in**: several internal hosts beaconing to one destination (a botnet);
//! - **checkin**: HTTP requests repeating one method, path and user agent;
//! - **shared_checkin**: an address-literal HTTP destination reached with the same
//!   user agent as a reported destination of the same host (bots that rotate over
//!   many C2 addresses, each reached once or twice);
//! - **dga**: addresses resolved from random-looking names by a host whose other
//!   random-looking names did not exist (NXDOMAIN burst);
//! - **long**: long-lived connections; **literal**: HTTP to an address literal.
//!
//! Known-benign destinations are suppressed by [`Warninglists`]: by address, and by
//! the names the destination was seen as on the same sensor (DNS answers, HTTP
//! `Host`, TLS server name). Internal addresses never leave the detector: findings
//! carry counts of internal hosts.
//!
//! Memory is bounded: [`C2Config::max_pairs`] pairs of [`pair::PAIR_STATE_BYTES`]
//! each, [`C2Config::max_named`] addresses with at most [`MAX_NAMES_PER_ADDR`] names,
//! and per internal host three DNS counters. Records beyond a bound are counted
//! (see [`C2Detector::dropped`]), never stored.

pub mod dga;
pub mod finding;
pub mod pair;
pub mod score;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};

use accord_telemetry::{Conn, Dns, Http, Micros, Proto, Record, Ssl};
use foldhash::fast::FixedState;
use serde_json::{json, Value};

use crate::observer::{Finding, Observer, Window};
use crate::warninglist::Warninglists;
use crate::InternalNets;

pub use finding::{C2Finding, C2_NAMESPACE};
use pair::{PairState, Source};
use score::{weight, Signal};

/// Default bound on (host, destination, port) pairs kept per window.
pub const MAX_PAIRS: usize = 4_000_000;

/// Default bound on destination addresses whose names are remembered.
pub const MAX_NAMED: usize = 1_000_000;

/// Names remembered per destination address (more are counted, not kept).
pub const MAX_NAMES_PER_ADDR: usize = 4;

/// Longest name remembered.
pub const MAX_NAME_LEN: usize = 253;

/// Configuration of the C2 detector.
#[derive(Debug, Clone)]
pub struct C2Config {
    /// The operator's networks: hosts inside are the ones that beacon.
    pub internal: InternalNets,
    /// Known-benign destinations.
    pub benign: Warninglists,
    /// Score from which a destination is reported (default [`score::REPORT_SCORE`]).
    pub report_score: f64,
    /// Bound on pairs ([`MAX_PAIRS`]).
    pub max_pairs: usize,
    /// Bound on named addresses ([`MAX_NAMED`]).
    pub max_named: usize,
}

impl Default for C2Config {
    /// Private ranges internal, bundled warninglists, default thresholds.
    fn default() -> Self {
        C2Config {
            internal: InternalNets::private(),
            benign: Warninglists::bundled(),
            report_score: score::REPORT_SCORE,
            max_pairs: MAX_PAIRS,
            max_named: MAX_NAMED,
        }
    }
}

/// UDP ports whose periodic traffic is a protocol's timer, not a beacon: NTP (123).
/// Flows to them are not tracked at all.
pub const TIMER_UDP_PORTS: [u16; 1] = [123];

/// TCP ports of push-notification channels (Apple APNs 5223 and 2197, Google FCM
/// 5228–5230, MQTT over TLS 8883 as used by antivirus and IoT push): a device keeps
/// them open and reconnects on a timer, which looks like a beacon. On these ports the
/// beacon signal counts half ([`PUSH_PORT_FACTOR`]); other signals count in full.
pub const PUSH_TCP_PORTS: [u16; 6] = [2197, 5223, 5228, 5229, 5230, 8883];

/// Factor of the beacon signal on [`PUSH_TCP_PORTS`].
pub const PUSH_PORT_FACTOR: f64 = 0.5;

/// Port value of a key for portless flows.
const NO_PORT: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PairKey {
    host: u128,
    dst: u128,
    port: u32,
}

#[derive(Debug, Clone, Default)]
struct Names {
    names: Vec<Box<str>>,
    /// Distinct names seen (those kept and, approximately, those beyond).
    distinct: u32,
    /// Names among them that look random.
    random: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct HostDns {
    nx: u32,
    nx_random: u32,
}

fn bits(a: IpAddr) -> u128 {
    match a.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

fn addr(b: u128) -> IpAddr {
    Ipv6Addr::from_bits(b).to_canonical()
}

/// Destinations a host may beacon to: routable unicast.
fn routable(a: IpAddr) -> bool {
    match a.to_canonical() {
        IpAddr::V4(v) => {
            !(v.is_unspecified()
                || v.is_loopback()
                || v.is_multicast()
                || v.is_broadcast()
                || v.is_link_local()
                || v.octets()[3] == 255)
        }
        IpAddr::V6(v) => {
            !(v.is_unspecified()
                || v.is_loopback()
                || v.is_multicast()
                || (v.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// The C2 detector (an [`Observer`]).
#[derive(Debug)]
pub struct C2Detector {
    config: C2Config,
    pairs: HashMap<PairKey, PairState, FixedState>,
    names: HashMap<u128, Names, FixedState>,
    hosts: HashMap<u128, HostDns, FixedState>,
    hasher: FixedState,
    label_buf: String,
    dropped: u64,
    window_start: Option<Micros>,
}

impl C2Detector {
    /// A detector with `config`.
    pub fn new(config: C2Config) -> Self {
        C2Detector {
            config,
            pairs: HashMap::default(),
            names: HashMap::default(),
            hosts: HashMap::default(),
            hasher: FixedState::with_seed(0x00c2),
            label_buf: String::new(),
            dropped: 0,
            window_start: None,
        }
    }

    /// Records not kept because a bound was reached, in this window.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Pairs kept in this window.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }

    /// The internal host and the key of a record's connection, if it goes out.
    #[inline]
    fn key(&self, c: &Conn<'_>) -> Option<PairKey> {
        let int = &self.config.internal;
        if !int.contains(c.orig_h) || int.contains(c.resp_h) || !routable(c.resp_h) {
            return None;
        }
        if c.proto == Proto::Udp && c.resp_p.is_some_and(|p| TIMER_UDP_PORTS.contains(&p)) {
            return None;
        }
        Some(PairKey {
            host: bits(c.orig_h),
            dst: bits(c.resp_h),
            port: c.resp_p.map_or(NO_PORT, u32::from),
        })
    }

    #[inline]
    fn pair(&mut self, key: PairKey) -> Option<&mut PairState> {
        let full = self.pairs.len() >= self.config.max_pairs;
        if full && !self.pairs.contains_key(&key) {
            self.dropped += 1;
            return None;
        }
        Some(self.pairs.entry(key).or_default())
    }

    fn conn(&mut self, c: &Conn<'_>) {
        let Some(key) = self.key(c) else { return };
        let Some(p) = self.pair(key) else { return };
        if p.source == Source::App {
            // A connection log covers the pair: its timing replaces the HTTP/TLS one.
            let http = (p.http, p.checkin, p.agent, p.literal_host);
            *p = PairState::default();
            (p.http, p.checkin, p.agent, p.literal_host) = http;
        }
        p.source = Source::Conn;
        p.connection(c.ts);
        p.volumes(c.orig_bytes, c.resp_bytes, c.resp_pkts, c.duration);
    }

    fn app(&mut self, c: &Conn<'_>) -> Option<(PairKey, &mut PairState)> {
        let key = self.key(c)?;
        let p = self.pair(key)?;
        if p.source != Source::Conn {
            p.source = Source::App;
            p.connection(c.ts);
        }
        Some((key, p))
    }

    fn hash(&self, parts: &[&str]) -> u32 {
        let mut h = self.hasher.build_hasher();
        for p in parts {
            p.hash(&mut h);
        }
        h.finish() as u32
    }

    fn http(&mut self, h: &Http<'_>) {
        let method = h.method.unwrap_or("");
        let uri = h.uri.as_deref().unwrap_or("");
        let path = uri.split('?').next().unwrap_or("");
        let agent = h.user_agent.as_deref().unwrap_or("");
        let fp = self.hash(&[method, path, agent]);
        let ua = self.hash(&[agent]);
        let host = h
            .host
            .as_deref()
            .map(|s| s.rsplit_once(':').map_or(s, |x| x.0));
        let literal = host.is_some_and(|s| {
            s.trim_matches(|c| c == '[' || c == ']')
                .parse::<IpAddr>()
                .is_ok()
        });
        let Some((key, p)) = self.app(&h.conn) else {
            return;
        };
        p.http = p.http.saturating_add(1);
        if h.method.is_none() && p.source == Source::App {
            // Zeek logs a transaction without a request when the connection carried
            // none: an attempt nobody answered.
            p.failed = p.failed.saturating_add(1);
        }
        p.checkin.push(fp);
        p.agent.push(ua);
        p.literal_host |= literal;
        if let (Some(host), false) = (host, literal) {
            self.name(key.dst, host);
        }
    }

    fn ssl(&mut self, s: &Ssl<'_>) {
        let Some((key, _)) = self.app(&s.conn) else {
            return;
        };
        if let Some(n) = s.server_name.as_deref() {
            self.name(key.dst, n);
        }
    }

    fn dns(&mut self, d: &Dns<'_>) {
        let c = &d.conn;
        if !self.config.internal.contains(c.orig_h) {
            return;
        }
        let Some(query) = d.query.as_deref() else {
            return;
        };
        let random = dga::name_randomness(query, &mut self.label_buf) >= dga::RANDOM_NAME;
        if d.rcode_name == Some("NXDOMAIN") {
            let host = bits(c.orig_h);
            if self.hosts.len() < self.config.max_pairs || self.hosts.contains_key(&host) {
                let h = self.hosts.entry(host).or_default();
                h.nx = h.nx.saturating_add(1);
                if random {
                    h.nx_random = h.nx_random.saturating_add(1);
                }
            }
            return;
        }
        let mut answers: [Option<IpAddr>; 8] = [None; 8];
        let mut n = 0;
        d.answers.for_each(|a| {
            if let (Ok(ip), true) = (a.parse::<IpAddr>(), n < answers.len()) {
                answers[n] = Some(ip);
                n += 1;
            }
        });
        for ip in answers.iter().flatten() {
            if self.config.internal.contains(*ip) || !routable(*ip) {
                continue;
            }
            if self.name(bits(*ip), query) && random {
                if let Some(e) = self.names.get_mut(&bits(*ip)) {
                    e.random = e.random.saturating_add(1);
                }
            }
        }
    }

    /// Remembers that `dst` was seen as `name`; `true` if the name is new for it.
    fn name(&mut self, dst: u128, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return false;
        }
        if self.names.len() >= self.config.max_named && !self.names.contains_key(&dst) {
            self.dropped += 1;
            return false;
        }
        let e = self.names.entry(dst).or_default();
        if e.names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return false;
        }
        e.distinct = e.distinct.saturating_add(1);
        if e.names.len() < MAX_NAMES_PER_ADDR {
            e.names.push(name.to_ascii_lowercase().into_boxed_str());
        }
        true
    }

    fn suppressed_by(&self, dst: IpAddr, names: Option<&Names>) -> Option<String> {
        if let Some(l) = self.config.benign.addr_listed(dst) {
            return Some(format!("address on warninglist `{l}`"));
        }
        for n in names.map(|n| n.names.as_slice()).unwrap_or(&[]) {
            if let Some(l) = self.config.benign.name_listed(n) {
                return Some(format!("seen as `{n}`, on warninglist `{l}`"));
            }
        }
        None
    }
}

/// What one destination (and port) gathered at the end of a window.
struct Dest<'a> {
    dst: u128,
    port: u32,
    pairs: Vec<(u128, &'a PairState)>,
}

impl Observer for C2Detector {
    fn name(&self) -> &'static str {
        "c2"
    }

    #[inline]
    fn observe(&mut self, record: &Record<'_>) {
        if self.window_start.is_none() {
            self.window_start = Some(record.ts());
        }
        match record {
            Record::Conn(c) => self.conn(c),
            Record::Http(h) => self.http(h),
            Record::Ssl(s) => self.ssl(s),
            Record::Dns(d) => self.dns(d),
            _ => {}
        }
    }

    fn finish(&mut self, window: &Window) -> Vec<Box<dyn Finding>> {
        let findings = self.findings(window);
        self.pairs = HashMap::default();
        self.names = HashMap::default();
        self.hosts = HashMap::default();
        self.dropped = 0;
        self.window_start = None;
        findings
            .into_iter()
            .map(|f| Box::new(f) as Box<dyn Finding>)
            .collect()
    }
}

impl C2Detector {
    /// The findings of the window so far, without resetting (what
    /// [`Observer::finish`] returns, typed).
    pub fn findings(&self, window: &Window) -> Vec<C2Finding> {
        // Group pairs by destination and port.
        let mut dests: HashMap<(u128, u32), Dest<'_>, FixedState> = HashMap::default();
        for (k, p) in &self.pairs {
            dests
                .entry((k.dst, k.port))
                .or_insert_with(|| Dest {
                    dst: k.dst,
                    port: k.port,
                    pairs: Vec::new(),
                })
                .pairs
                .push((k.host, p));
        }
        // First round: every signal that a destination shows on its own.
        let mut scored: Vec<(Dest<'_>, Vec<Signal>, usize)> = Vec::new();
        for (_, d) in dests {
            let mut beaconing = 0usize;
            let mut best = (0.0f64, 0usize);
            let (mut dead, mut checkin, mut long, mut literal) = (0.0f64, 0.0f64, 0.0f64, false);
            let push_port = u16::try_from(d.port).is_ok_and(|p| PUSH_TCP_PORTS.contains(&p));
            let factor = if push_port { PUSH_PORT_FACTOR } else { 1.0 };
            for (i, (_, p)) in d.pairs.iter().enumerate() {
                let b = score::beacon(p) * factor;
                if b >= 0.5 {
                    beaconing += 1;
                }
                if b > best.0 {
                    best = (b, i);
                }
                dead = dead.max(score::dead(p));
                checkin = checkin.max(score::checkin(p));
                long = long.max(score::long(p));
                literal |= p.literal_host;
            }
            let mut signals = Vec::new();
            let mut push = |name, value: f64, weight| {
                if value > 0.0 {
                    signals.push(Signal {
                        name,
                        value: value.min(1.0),
                        weight,
                    });
                }
            };
            push("beacon", best.0, weight::BEACON);
            push("dead", dead, weight::DEAD);
            if beaconing >= score::FAN_IN_HOSTS {
                push("fan_in", (beaconing as f64 / 10.0).max(0.6), weight::FAN_IN);
            }
            push("checkin", checkin, weight::CHECKIN);
            push("long", long, weight::LONG);
            push("literal", f64::from(u8::from(literal)), weight::LITERAL);
            let names = self.names.get(&d.dst);
            if let Some(n) = names.filter(|n| n.random > 0) {
                let bot = d.pairs.iter().any(|(h, _)| {
                    self.hosts
                        .get(h)
                        .is_some_and(|s| s.nx_random >= score::NX_BURST)
                });
                if bot {
                    push(
                        "dga",
                        (0.8 + 0.2 * f64::from(n.random) / f64::from(n.distinct.max(1))).min(1.0),
                        weight::DGA,
                    );
                }
            }
            scored.push((d, signals, best.1));
        }
        // Second round: link address-literal check-ins of a host to its reported
        // destinations by user agent.
        let mut agents: HashMap<(u128, u32), (), FixedState> = HashMap::default();
        for (d, s, _) in &scored {
            if score::combine(s) >= self.config.report_score {
                for (h, p) in &d.pairs {
                    if p.http > 0 {
                        agents.insert((*h, p.agent.get().0), ());
                    }
                }
            }
        }
        // and to the unanswered, never named destinations on the same port of a host
        // with a reported destination (a bot walking its list of C2 addresses).
        let mut ports: HashMap<(u128, u32), (), FixedState> = HashMap::default();
        for (d, s, _) in &scored {
            if score::combine(s) >= self.config.report_score {
                for (h, _) in &d.pairs {
                    ports.insert((*h, d.port), ());
                }
            }
        }
        for (d, s, _) in &mut scored {
            if score::combine(s) >= self.config.report_score {
                continue;
            }
            let linked = d.pairs.iter().any(|(h, p)| {
                p.http > 0 && p.literal_host && agents.contains_key(&(*h, p.agent.get().0))
            });
            if linked {
                s.push(Signal {
                    name: "shared_checkin",
                    value: 1.0,
                    weight: weight::SHARED_CHECKIN,
                });
            }
            let unnamed = !self.names.contains_key(&d.dst);
            let sibling = unnamed
                && d.pairs.iter().any(|(h, p)| {
                    p.count <= score::SIBLING_MAX_CONNS
                        && p.failed == p.count
                        && ports.contains_key(&(*h, d.port))
                });
            if sibling {
                s.push(Signal {
                    name: "sibling",
                    value: 1.0,
                    weight: weight::SIBLING,
                });
            }
        }
        let mut out = Vec::new();
        for (d, signals, best) in scored {
            let score = score::combine(&signals);
            if score < self.config.report_score {
                continue;
            }
            let dst = addr(d.dst);
            let names = self.names.get(&d.dst);
            if self.suppressed_by(dst, names).is_some() {
                continue;
            }
            out.push(self.finding(&d, dst, score, signals, best, names, window));
        }
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.destination.cmp(&b.destination))
                .then(a.port.cmp(&b.port))
        });
        out
    }

    /// Destinations that would be reported but are on a warninglist, with the reason
    /// (for the analyst's "why not" and for tests).
    pub fn suppressed(&self, window: &Window) -> Vec<(IpAddr, String)> {
        let strict = C2Detector {
            config: C2Config {
                benign: Warninglists::empty(),
                ..self.config.clone()
            },
            pairs: self.pairs.clone(),
            names: self.names.clone(),
            hosts: self.hosts.clone(),
            hasher: self.hasher.clone(),
            label_buf: String::new(),
            dropped: 0,
            window_start: self.window_start,
        };
        let mut out: Vec<(IpAddr, String)> = strict
            .findings(window)
            .into_iter()
            .filter_map(|f| {
                let names = self.names.get(&bits(f.destination));
                self.suppressed_by(f.destination, names)
                    .map(|r| (f.destination, r))
            })
            .collect();
        out.dedup();
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        d: &Dest<'_>,
        dst: IpAddr,
        score: f64,
        signals: Vec<Signal>,
        best: usize,
        names: Option<&Names>,
        window: &Window,
    ) -> C2Finding {
        let first = d.pairs.iter().map(|(_, p)| p.first).min().unwrap_or(0);
        let last = d.pairs.iter().map(|(_, p)| p.last).max().unwrap_or(0);
        let connections: u64 = d.pairs.iter().map(|(_, p)| u64::from(p.count)).sum();
        let failed: u64 = d.pairs.iter().map(|(_, p)| u64::from(p.failed)).sum();
        let long: u64 = d.pairs.iter().map(|(_, p)| u64::from(p.long)).sum();
        let sent: u64 = d.pairs.iter().map(|(_, p)| p.orig_bytes).sum();
        let received: u64 = d.pairs.iter().map(|(_, p)| p.resp_bytes).sum();
        let http: u64 = d.pairs.iter().map(|(_, p)| u64::from(p.http)).sum();
        let beaconing = d
            .pairs
            .iter()
            .filter(|(_, p)| score::beacon(p) >= 0.5)
            .count();
        let fan_in = signals.iter().any(|s| s.name == "fan_in");
        let p = d
            .pairs
            .get(best)
            .map_or(&PairState::default(), |x| x.1)
            .clone();
        let (conc, peak) = p.concentration();
        let histogram: Vec<Value> = p
            .bins
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(k, c)| {
                let to = if k + 1 < pair::INTERVAL_BINS {
                    json!(round(pair::bin_lower_secs(k + 1)))
                } else {
                    Value::Null
                };
                json!({"from_s": round(pair::bin_lower_secs(k)), "to_s": to, "count": c})
            })
            .collect();
        let names_list: Vec<String> = names
            .map(|n| n.names.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        let evidence = json!({
            "signals": signals.iter().map(|s| json!({
                "name": s.name, "value": round(s.value), "weight": s.weight,
            })).collect::<Vec<_>>(),
            "connections": connections,
            "failed_connections": failed,
            "long_connections": long,
            "beaconing_hosts": beaconing,
            "timing_from": match p.source { Source::Conn => "conn", _ => "http/tls" },
            "interval": {
                "histogram": histogram,
                "mean_s": round(p.gaps.mean()),
                "jitter": round(p.gaps.cv()),
                "peak_from_s": round(pair::bin_lower_secs(peak)),
                "peak_to_s": round(pair::bin_lower_secs((peak + 3).min(pair::INTERVAL_BINS - 1))),
                "concentration": round(conc),
            },
            "bytes": {
                "sent": sent,
                "received": received,
                "mean_sent": round(p.sizes.mean()),
                "size_regularity": round(p.size_regularity()),
                "max_duration_s": round(f64::from(p.max_duration)),
            },
            "http_requests": http,
            "names": names_list,
            "distinct_names": names.map_or(0, |n| n.distinct),
        });
        C2Finding {
            destination: dst,
            port: u16::try_from(d.port).ok(),
            score,
            internal_hosts: d.pairs.len() as u64,
            first_seen: first,
            last_seen: last,
            window_start: window.start,
            connections,
            botnet: fan_in,
            names: names_list,
            evidence,
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

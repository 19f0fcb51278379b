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

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use accord_telemetry::{Conn, Dns, Http, Micros, Proto, Record, Ssl};
use foldhash::fast::FixedState;
use serde_json::{json, Value};

use crate::observer::{Finding, Observer, Window};
use crate::warninglist::Warninglists;
use crate::InternalNets;

pub use finding::{C2Finding, C2_NAMESPACE, DISTINCT_HOSTS_PROPERTY};
use pair::{HttpState, PairState, Source};
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
    /// How long a pair's state outlives the window it was last active in
    /// ([`DEFAULT_HORIZON`]): a beacon every ten minutes shows no rhythm inside one
    /// five-minute window of the collector, only across windows. `0` forgets
    /// everything at the end of each window. A single window over whole files
    /// ([`crate::Pass::whole`]) finishes once, so this does not matter there.
    pub horizon: Micros,
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
            horizon: DEFAULT_HORIZON,
        }
    }
}

/// Default [`C2Config::horizon`]: a day of telemetry time, which holds implants
/// that sleep for hours between check-ins.
pub const DEFAULT_HORIZON: Micros = 86_400_000_000;

/// Connections a pair needs to be carried into the next window when the carried
/// pairs would fill more than half of [`C2Config::max_pairs`]: one or two
/// connections show no rhythm yet, and new pairs need room.
pub const MIN_CARRIED_CONNECTIONS: u32 = 3;

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

/// An address as two words: 8-byte alignment keeps the key at 40 bytes (a `u128`
/// would align it to 16 and pad it to 48).
type Addr = [u64; 2];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PairKey {
    host: Addr,
    dst: Addr,
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

fn bits(a: IpAddr) -> Addr {
    let b = match a.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => v6.to_bits(),
    };
    [(b >> 64) as u64, b as u64]
}

fn addr(b: Addr) -> IpAddr {
    Ipv6Addr::from_bits((u128::from(b[0]) << 64) | u128::from(b[1])).to_canonical()
}

/// Destinations a host may beacon to: routable unicast.
fn routable(a: IpAddr) -> bool {
    match a.to_canonical() {
        IpAddr::V4(v) => {
            !(v.octets()[0] == 0
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

/// Internal hosts kept per reported destination in [`C2Links`].
pub const MAX_LINKED_HOSTS: usize = 1024;

/// Which internal hosts talked to each reported destination of the last window.
///
/// Nothing here is part of a finding: the node uses it for remediation and for
/// correlating the C2's hosts with other detectors (a DDoS detector's participants),
/// and must not publish it. A handle: take it with [`C2Detector::links`] before the
/// detector is handed to a [`crate::Pass`]; replaced at every `finish`. `Debug`
/// prints counts only.
#[derive(Clone, Default)]
pub struct C2Links {
    inner: Arc<Mutex<LinkMap>>,
}

/// Reported destination and port → its internal hosts.
type LinkMap = HashMap<(IpAddr, Option<u16>), Vec<IpAddr>>;

impl C2Links {
    fn with<T>(&self, f: impl FnOnce(&mut LinkMap) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// The internal hosts of the finding on `destination` and `port` (at most
    /// [`MAX_LINKED_HOSTS`], sorted).
    pub fn hosts(&self, destination: IpAddr, port: Option<u16>) -> Option<Vec<IpAddr>> {
        self.with(|l| l.get(&(destination, port)).cloned())
    }

    /// The reported destinations `host` talked to.
    pub fn destinations_of(&self, host: IpAddr) -> Vec<(IpAddr, Option<u16>)> {
        let host = host.to_canonical();
        let mut v: Vec<_> = self.with(|l| {
            l.iter()
                .filter(|(_, hs)| hs.binary_search(&host).is_ok())
                .map(|(k, _)| *k)
                .collect()
        });
        v.sort();
        v
    }

    /// Calls `f` with each reported destination of the last window and its internal
    /// hosts (sorted).
    pub fn for_each(&self, mut f: impl FnMut((IpAddr, Option<u16>), &[IpAddr])) {
        self.with(|l| {
            for (k, hs) in l.iter() {
                f(*k, hs);
            }
        });
    }

    /// Every internal host of every finding of the last window.
    pub fn all_hosts(&self) -> HashSet<IpAddr> {
        self.with(|l| l.values().flatten().copied().collect())
    }
}

impl std::fmt::Debug for C2Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (d, h) = self.with(|l| (l.len(), l.values().map(Vec::len).sum::<usize>()));
        f.debug_struct("C2Links")
            .field("destinations", &d)
            .field("hosts", &h)
            .finish()
    }
}

/// The C2 detector (an [`Observer`]).
#[derive(Debug)]
pub struct C2Detector {
    config: C2Config,
    pairs: HashMap<PairKey, PairState, FixedState>,
    names: HashMap<Addr, Names, FixedState>,
    http: HashMap<PairKey, HttpState, FixedState>,
    hosts: HashMap<Addr, HostDns, FixedState>,
    hasher: FixedState,
    label_buf: String,
    dropped: u64,
    window_start: Option<Micros>,
    links: C2Links,
}

impl C2Detector {
    /// A detector with `config`.
    pub fn new(config: C2Config) -> Self {
        C2Detector {
            config,
            pairs: HashMap::default(),
            names: HashMap::default(),
            http: HashMap::default(),
            hosts: HashMap::default(),
            hasher: FixedState::with_seed(0x00c2),
            label_buf: String::new(),
            dropped: 0,
            window_start: None,
            links: C2Links::default(),
        }
    }

    /// The handle on the internal hosts of each finding (see [`C2Links`]).
    pub fn links(&self) -> C2Links {
        self.links.clone()
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
            *p = PairState::default();
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
        if h.method.is_none() && p.source == Source::App {
            // Zeek logs a transaction without a request when the connection carried
            // none: an attempt nobody answered.
            p.failed = p.failed.saturating_add(1);
        }
        let hs = self.http.entry(key).or_default();
        hs.http = hs.http.saturating_add(1);
        hs.checkin.push(fp);
        hs.agent.push(ua);
        hs.literal_host |= literal;
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
    fn name(&mut self, dst: Addr, name: &str) -> bool {
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

/// The first-round signals of one pair.
#[derive(Debug, Clone, Copy)]
struct PairSignals {
    host: Addr,
    beacon: f64,
    dead: f64,
    checkin: f64,
    long: f64,
    literal: bool,
    agent: Option<u32>,
}

/// A destination (and port) being scored.
#[derive(Debug, Default)]
struct Dest {
    /// Pairs with a first-round signal.
    pairs: Vec<PairSignals>,
    signals: Vec<Signal>,
    /// Host of the most regular pair (its timing is the evidence).
    best: Option<Addr>,
}

/// Totals of a reported destination over all its pairs.
#[derive(Debug, Default)]
struct Totals {
    first: Micros,
    last: Micros,
    connections: u64,
    failed: u64,
    long: u64,
    sent: u64,
    received: u64,
    http: u64,
    hosts: u64,
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
        self.finish_window(window)
            .into_iter()
            .map(|f| Box::new(f) as Box<dyn Finding>)
            .collect()
    }
}

impl C2Detector {
    /// [`Observer::finish`], typed: the findings of the window that ends now. The
    /// internal hosts of each finding go to [`C2Links`]; the state of pairs active
    /// within [`C2Config::horizon`] of the window's end is carried into the next
    /// window (with the names, HTTP state and DNS counters that concern them), the
    /// rest is forgotten. Destinations with no connection in this window are not
    /// reported again.
    pub fn finish_window(&mut self, window: &Window) -> Vec<C2Finding> {
        let mut findings = self.findings(window);
        // A destination quiet in this window was reported in an earlier one; its
        // carried state only strengthens the case once it talks again.
        findings.retain(|f| f.last_seen >= window.start);
        let mut links: LinkMap = findings
            .iter()
            .map(|f| ((f.destination, f.port), Vec::new()))
            .collect();
        for k in self.pairs.keys() {
            let key = (addr(k.dst), u16::try_from(k.port).ok());
            if let Some(v) = links.get_mut(&key) {
                if v.len() < MAX_LINKED_HOSTS {
                    v.push(addr(k.host));
                }
            }
        }
        for v in links.values_mut() {
            v.sort();
        }
        self.links.with(|l| *l = links);
        let episode = self.episode_start(window);
        self.carry(window.end);
        if self.window_start.is_some() {
            self.window_start = Some(episode);
        }
        findings
    }

    /// Start of the episode the window's findings belong to: the window's start, or
    /// the start of the first window whose state was carried into this one (so that
    /// a beacon reported window after window keeps one sighting, updated).
    fn episode_start(&self, window: &Window) -> Micros {
        self.window_start
            .map_or(window.start, |s| s.min(window.start))
    }

    /// Keeps what is recent enough to matter in the next window (see
    /// [`C2Config::horizon`], [`MIN_CARRIED_CONNECTIONS`]).
    fn carry(&mut self, end: Micros) {
        self.dropped = 0;
        let horizon = self.config.horizon;
        if horizon <= 0 {
            self.pairs = HashMap::default();
            self.http = HashMap::default();
            self.names = HashMap::default();
            self.hosts = HashMap::default();
            self.window_start = None;
            return;
        }
        let since = end.saturating_sub(horizon);
        self.pairs.retain(|_, p| p.last >= since);
        if self.pairs.len() > self.config.max_pairs / 2 {
            self.pairs.retain(|_, p| p.count >= MIN_CARRIED_CONNECTIONS);
        }
        if self.pairs.len() > self.config.max_pairs / 2 {
            // Still too many: keep the most recently active half.
            let mut lasts: Vec<Micros> = self.pairs.values().map(|p| p.last).collect();
            let keep = self.config.max_pairs / 2;
            match lasts.len().checked_sub(keep) {
                Some(cut) if keep > 0 => {
                    let (_, at, _) = lasts.select_nth_unstable(cut);
                    let at = *at;
                    self.pairs.retain(|_, p| p.last > at);
                }
                _ => self.pairs.clear(),
            }
        }
        if self.pairs.is_empty() {
            self.http = HashMap::default();
            self.names = HashMap::default();
            self.hosts = HashMap::default();
            self.window_start = None;
            return;
        }
        let pairs = &self.pairs;
        self.http.retain(|k, _| pairs.contains_key(k));
        let mut dsts: HashSet<Addr, FixedState> = HashSet::default();
        let mut hosts: HashSet<Addr, FixedState> = HashSet::default();
        for k in pairs.keys() {
            dsts.insert(k.dst);
            hosts.insert(k.host);
        }
        self.names.retain(|d, _| dsts.contains(d));
        self.hosts.retain(|h, _| hosts.contains(h));
        // The episode goes on: its sightings keep their ids (the window's start).
    }
}

impl C2Detector {
    /// The findings of the window so far, without resetting (what
    /// [`Observer::finish`] returns, typed).
    ///
    /// Memory beyond the state is proportional to the pairs that show a signal,
    /// not to all pairs: three passes over the pairs, grouping only what matters.
    pub fn findings(&self, window: &Window) -> Vec<C2Finding> {
        let report = self.config.report_score;
        // Round 1: pairs with a signal of their own, grouped by destination and port.
        let mut dests: HashMap<(Addr, u32), Dest, FixedState> = HashMap::default();
        for (k, p) in &self.pairs {
            let http = self.http.get(k);
            let push_port = u16::try_from(k.port).is_ok_and(|p| PUSH_TCP_PORTS.contains(&p));
            let factor = if push_port { PUSH_PORT_FACTOR } else { 1.0 };
            let sig = PairSignals {
                host: k.host,
                beacon: score::beacon(p) * factor,
                dead: score::dead(p),
                checkin: http.map_or(0.0, score::checkin),
                long: score::long(p),
                literal: http.is_some_and(|h| h.literal_host),
                agent: http.map(|h| h.agent.get().0),
            };
            let dga = self.dga_candidate(k);
            if sig.beacon > 0.0 || sig.dead > 0.0 || sig.checkin > 0.0 || sig.long > 0.0 || dga {
                dests.entry((k.dst, k.port)).or_default().pairs.push(sig);
            }
        }
        for ((dst, _), d) in &mut dests {
            let mut beaconing = 0usize;
            let mut best = (0.0f64, None);
            let (mut dead, mut checkin, mut long, mut literal) = (0.0f64, 0.0f64, 0.0f64, false);
            for p in &d.pairs {
                if p.beacon >= 0.5 {
                    beaconing += 1;
                }
                if p.beacon > best.0 || best.1.is_none() {
                    best = (p.beacon, Some(p.host));
                }
                dead = dead.max(p.dead);
                checkin = checkin.max(p.checkin);
                long = long.max(p.long);
                literal |= p.literal;
            }
            d.best = best.1;
            let mut push = |name, value: f64, weight| {
                if value > 0.0 {
                    d.signals.push(Signal {
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
            if let Some(n) = self.names.get(dst).filter(|n| n.random > 0) {
                let bot = d.pairs.iter().any(|p| {
                    self.hosts
                        .get(&p.host)
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
        }
        // Round 2: link to the reported destinations of the same host the address-
        // literal check-ins with the same user agent, and the unanswered, never named
        // destinations on the same port (a bot walking its list of C2 addresses).
        let mut agents: HashMap<(Addr, u32), (), FixedState> = HashMap::default();
        let mut ports: HashMap<(Addr, u32), (), FixedState> = HashMap::default();
        for ((_, port), d) in &dests {
            if score::combine(&d.signals) >= report {
                for p in &d.pairs {
                    ports.insert((p.host, *port), ());
                    if let Some(a) = p.agent {
                        agents.insert((p.host, a), ());
                    }
                }
            }
        }
        let mut linked: Vec<((Addr, u32), Signal)> = Vec::new();
        if !ports.is_empty() {
            for (k, p) in &self.pairs {
                let reported = dests
                    .get(&(k.dst, k.port))
                    .is_some_and(|d| score::combine(&d.signals) >= report);
                if reported {
                    continue;
                }
                let http = self.http.get(k);
                let shared = http.is_some_and(|h| {
                    h.http > 0 && h.literal_host && agents.contains_key(&(k.host, h.agent.get().0))
                });
                if shared {
                    linked.push((
                        (k.dst, k.port),
                        Signal {
                            name: "shared_checkin",
                            value: 1.0,
                            weight: weight::SHARED_CHECKIN,
                        },
                    ));
                }
                let sibling = p.count <= score::SIBLING_MAX_CONNS
                    && p.failed == p.count
                    && ports.contains_key(&(k.host, k.port))
                    && !self.names.contains_key(&k.dst);
                if sibling {
                    linked.push((
                        (k.dst, k.port),
                        Signal {
                            name: "sibling",
                            value: 1.0,
                            weight: weight::SIBLING,
                        },
                    ));
                }
            }
        }
        for (key, signal) in linked {
            let d = dests.entry(key).or_default();
            if !d.signals.iter().any(|s| s.name == signal.name) {
                d.signals.push(signal);
            }
        }
        // Reported: over the score, not on a warninglist.
        let mut totals: HashMap<(Addr, u32), Totals, FixedState> = HashMap::default();
        for ((dst, port), d) in &dests {
            if score::combine(&d.signals) >= report
                && self
                    .suppressed_by(addr(*dst), self.names.get(dst))
                    .is_none()
            {
                totals.insert(
                    (*dst, *port),
                    Totals {
                        first: Micros::MAX,
                        last: Micros::MIN,
                        ..Totals::default()
                    },
                );
            }
        }
        // Round 3: totals of the reported destinations over all their pairs.
        for (k, p) in &self.pairs {
            if let Some(t) = totals.get_mut(&(k.dst, k.port)) {
                t.first = t.first.min(p.first);
                t.last = t.last.max(p.last);
                t.connections += u64::from(p.count);
                t.failed += u64::from(p.failed);
                t.long += u64::from(p.long);
                t.sent = t.sent.saturating_add(p.orig_bytes);
                t.received = t.received.saturating_add(p.resp_bytes);
                t.http += self.http.get(k).map_or(0, |h| u64::from(h.http));
                t.hosts += 1;
            }
        }
        let mut out: Vec<C2Finding> = totals
            .into_iter()
            .filter_map(|(key, t)| {
                let d = dests.get(&key)?;
                Some(self.finding(key, d, &t, window))
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.destination.cmp(&b.destination))
                .then(a.port.cmp(&b.port))
        });
        out
    }

    /// Could the pair's destination be a DGA bot's: a random-looking name, asked by
    /// a host with an NXDOMAIN burst.
    fn dga_candidate(&self, k: &PairKey) -> bool {
        self.names.get(&k.dst).is_some_and(|n| n.random > 0)
            && self
                .hosts
                .get(&k.host)
                .is_some_and(|h| h.nx_random >= score::NX_BURST)
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
            http: self.http.clone(),
            hosts: self.hosts.clone(),
            hasher: self.hasher.clone(),
            label_buf: String::new(),
            dropped: 0,
            window_start: self.window_start,
            links: C2Links::default(),
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

    fn finding(&self, key: (Addr, u32), d: &Dest, t: &Totals, window: &Window) -> C2Finding {
        let (dst, port) = key;
        let score = score::combine(&d.signals);
        let beaconing = d.pairs.iter().filter(|p| p.beacon >= 0.5).count();
        let fan_in = d.signals.iter().any(|s| s.name == "fan_in");
        let empty = PairState::default();
        let p = d
            .best
            .and_then(|host| self.pairs.get(&PairKey { host, dst, port }))
            .unwrap_or(&empty);
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
        let names = self.names.get(&dst);
        let names_list: Vec<String> = names
            .map(|n| n.names.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        let evidence = json!({
            "signals": d.signals.iter().map(|s| json!({
                "name": s.name, "value": round(s.value), "weight": s.weight,
            })).collect::<Vec<_>>(),
            "connections": t.connections,
            "failed_connections": t.failed,
            "long_connections": t.long,
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
                "sent": t.sent,
                "received": t.received,
                "mean_sent": round(p.sizes.mean()),
                "size_regularity": round(p.size_regularity()),
                "max_duration_s": round(f64::from(p.max_duration)),
            },
            "http_requests": t.http,
            "names": names_list,
            "distinct_names": names.map_or(0, |n| n.distinct),
        });
        C2Finding {
            destination: addr(dst),
            port: u16::try_from(port).ok(),
            score,
            internal_hosts: t.hosts,
            first_seen: t.first,
            last_seen: t.last,
            window_start: self.episode_start(window),
            connections: t.connections,
            botnet: fan_in,
            names: names_list,
            evidence,
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

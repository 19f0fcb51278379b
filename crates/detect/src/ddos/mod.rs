//! DDoS detection: floods against the operator's customers, and floods *from* its
//! network.
//!
//! [`DdosDetector`] is an [`Observer`]: it reads each flow record once, classifies each
//! direction of it into an attack [`Vector`] or ordinary traffic ([`vector`]), and
//! keeps per-target counters for the heaviest targets only ([`heavy`]). At the end of a
//! window it reports every target where a vector carried enough packets or bits per
//! second over a 10-second bucket, from enough distinct participants, and attack
//! traffic made up most of the target's traffic around that peak ([`DdosConfig`];
//! every rule is in `docs/detect-ddos.md`).
//!
//! Two directions:
//! - **inbound**: the target is internal (a customer) and the sources are external.
//!   The finding never names the customer (`target` is `null`); the external heavy
//!   sources and reflectors are what may be shared ([`finding`]). The node resolves
//!   the victim for local mitigation through [`DdosLinks::victim`].
//! - **outbound**: the target is external and the sources are internal hosts joining
//!   a flood (a botnet's members). The finding names the external target and counts
//!   the participants ([`crate::DistinctHosts`]); it never holds their addresses. The
//!   node links the members to C2 through [`DdosLinks::participants`], an in-memory
//!   set that lives only in the detector and its handle and is never serialised.
//!
//! Flows between two internal or two external hosts are not considered.
//!
//! # Memory
//! - one Count-Min sketch gating which targets get counters:
//!   [`CM_DEPTH`](heavy::CM_DEPTH) × [`ADMIT_SKETCH_WIDTH`] × 4 bytes = 1 MiB, and two
//!   holding every target's ordinary packets and flows per bucket (the denominator of
//!   the attack share): 2 × 4 × [`ORDINARY_SKETCH_WIDTH`] × 4 bytes = 4 MiB;
//! - at most [`MAX_TARGETS`] tracked targets (Space-Saving over attack packets), each
//!   with a distinct-participant sketch per vector (≤ 5 × 3 KiB), a bucket series of at most
//!   [`MAX_BUCKETS`] buckets (≈ 150 bytes each, ≤ 53 KiB; when full, the quietest
//!   bucket is dropped so peaks survive), [`TOP_SOURCES`] heavy external sources and
//!   [`TOP_PORTS`] heavy source ports (≈ 96 bytes each, ≤ 26 KiB), and for outbound
//!   targets at most [`MAX_LINKED_PARTICIPANTS`] internal host addresses (≤ 150 KiB);
//! - so at most about 110 KiB per inbound target and 260 KiB per outbound target,
//!   ≤ 270 MiB overall in the worst case, whatever the number of sources.
//!
//! A target gets counters once it has received [`ADMIT_FLOWS`] attack-vector flows
//! (Count-Min estimate), so up to `ADMIT_FLOWS - 1` early participants go uncounted:
//! a small, documented under-count that keeps millions of one-flow targets (a scan)
//! from churning the table.
//!
//! # Sampling
//! Counts decoded from NetFlow/IPFIX are already multiplied by the exporter's sampling
//! rate; [`DdosConfig::sampling_rate`] multiplies records whose counts were not (e.g.
//! CSV exported from a sampled collector), and scales flow counts alike.

pub mod finding;
pub mod heavy;
pub mod vector;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use accord_telemetry::{Micros, Proto, Record};

use crate::internal::InternalNets;
use crate::observer::{Finding, Observer, Window};
use crate::sketch::DistinctHosts;

pub use finding::{ControlledBy, DdosFinding, Direction, DDOS_NAMESPACE};
use heavy::{CountMin, SpaceSaving};
use vector::{classify, reflector_service, Send, NVECTORS};
pub use vector::{Vector, REFLECTOR_PORTS};

/// Length of a rate bucket: peak pps/bps are the largest bucket over this length.
pub const BUCKET_SECONDS: i64 = 10;
const BUCKET_MICROS: i64 = BUCKET_SECONDS * 1_000_000;

/// Default least peak packets per second of a vector for a finding.
pub const MIN_PEAK_PPS: f64 = 1_000.0;
/// Default least peak bits per second of a vector for a finding (10 Mbit/s), as
/// the telemetry counts bytes (Zeek: payload; flows: layer 3).
pub const MIN_PEAK_BPS: f64 = 10_000_000.0;
/// Default least distinct external sources of an inbound flood (except reflection).
pub const MIN_SOURCES: u64 = 20;
/// Default least distinct reflectors of an inbound reflection attack: amplification
/// needs few of them.
pub const MIN_REFLECTORS: u64 = 5;
/// Default least distinct internal participants of an outbound flood.
pub const MIN_BOTS: u64 = 10;
/// Default least share of the target's traffic in the attack episode the vector must
/// carry: of its flows for a SYN flood (a SYN-only flow is 1-3 packets, a completed
/// connection many: flows compare like with like), of its packets otherwise. A busy
/// server whose clients complete handshakes has few SYN-only flows among its flows.
pub const MIN_ATTACK_SHARE: f64 = 0.5;
/// Largest ratio of the target's own requests to reflector ports over the responses
/// it received for those responses to still count as unsolicited (a resolver asks),
/// and of the UDP packets it sent over the UDP flood packets it received for those to
/// still count as unanswered (a server answering its clients in unidirectional flow
/// records, which carry no reverse counts).
pub const MAX_SOLICITED_RATIO: f64 = 0.1;

/// Attack-vector flows a target needs (Count-Min estimate) before it gets counters.
pub const ADMIT_FLOWS: u32 = 8;
/// Width of the admission Count-Min sketch.
pub const ADMIT_SKETCH_WIDTH: usize = 1 << 16;
/// Most targets with counters at once (Space-Saving over attack packets).
pub const MAX_TARGETS: usize = 1024;
/// Most rate buckets kept per target (one hour at 10 s); the quietest is dropped.
pub const MAX_BUCKETS: usize = 360;
/// Most buckets one long flow is spread over (longer flows: the rest is ignored).
pub const MAX_SPREAD_BUCKETS: i64 = 60;
/// Heavy external sources kept per inbound target.
pub const TOP_SOURCES: usize = 256;
/// Heavy source ports kept per target.
pub const TOP_PORTS: usize = 16;
/// Internal participants kept per outbound target for [`DdosLinks`].
pub const MAX_LINKED_PARTICIPANTS: usize = 4096;

/// Settings of [`DdosDetector`]. `Default` is the documented constants with the
/// private ranges as internal.
#[derive(Debug, Clone)]
pub struct DdosConfig {
    /// The operator's networks: inbound targets and outbound participants.
    pub internal: InternalNets,
    /// Least peak packets per second ([`MIN_PEAK_PPS`]).
    pub min_peak_pps: f64,
    /// Least peak bits per second ([`MIN_PEAK_BPS`]); either rate suffices.
    pub min_peak_bps: f64,
    /// Least distinct external sources, inbound ([`MIN_SOURCES`]).
    pub min_sources: u64,
    /// Least distinct reflectors, inbound reflection ([`MIN_REFLECTORS`]).
    pub min_reflectors: u64,
    /// Least distinct internal participants, outbound ([`MIN_BOTS`]).
    pub min_bots: u64,
    /// Least share of the target's packets in the vector ([`MIN_ATTACK_SHARE`]).
    pub min_attack_share: f64,
    /// Multiplier for packet, byte and flow counts of unsampled-looking records
    /// (1 = counts are true or already scaled by the decoder).
    pub sampling_rate: u32,
}

impl Default for DdosConfig {
    fn default() -> Self {
        DdosConfig {
            internal: InternalNets::private(),
            min_peak_pps: MIN_PEAK_PPS,
            min_peak_bps: MIN_PEAK_BPS,
            min_sources: MIN_SOURCES,
            min_reflectors: MIN_REFLECTORS,
            min_bots: MIN_BOTS,
            min_attack_share: MIN_ATTACK_SHARE,
            sampling_rate: 1,
        }
    }
}

impl DdosConfig {
    /// The defaults with `internal` as the operator's networks.
    pub fn with_internal(internal: InternalNets) -> Self {
        DdosConfig {
            internal,
            ..Self::default()
        }
    }
}

/// What the node may resolve locally about the findings of the last finished window,
/// keyed by [`DdosFinding::id`]: the internal victim of an inbound finding and the
/// internal participants of an outbound one. Obtained with [`DdosDetector::links`]
/// before the detector is handed to a [`crate::Pass`]; replaced at every `finish`.
///
/// Nothing here is part of a finding: the node uses it for mitigation and for
/// correlating botnet members with the C2 detector's beaconing hosts, and must not
/// publish it. `Debug` prints counts only.
#[derive(Clone, Default)]
pub struct DdosLinks {
    inner: Arc<Mutex<LinksInner>>,
}

#[derive(Default)]
struct LinksInner {
    victims: HashMap<String, IpAddr>,
    participants: HashMap<String, Vec<IpAddr>>,
}

impl DdosLinks {
    fn with<T>(&self, f: impl FnOnce(&mut LinksInner) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// The internal victim of the inbound finding `id`.
    pub fn victim(&self, id: &str) -> Option<IpAddr> {
        self.with(|l| l.victims.get(id).copied())
    }

    /// The internal participants of the outbound finding `id` (at most
    /// [`MAX_LINKED_PARTICIPANTS`], sorted).
    pub fn participants(&self, id: &str) -> Option<Vec<IpAddr>> {
        self.with(|l| l.participants.get(id).cloned())
    }

    /// Every internal participant of every outbound finding of the last window: the
    /// hosts to look up among the C2 detector's beaconing hosts.
    pub fn all_participants(&self) -> HashSet<IpAddr> {
        self.with(|l| l.participants.values().flatten().copied().collect())
    }
}

impl std::fmt::Debug for DdosLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (v, p) = self.with(|l| (l.victims.len(), l.participants.len()));
        f.debug_struct("DdosLinks")
            .field("victims", &v)
            .field("outbound_findings", &p)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct TargetKey {
    addr: IpAddr,
    direction: Direction,
}

/// One bucket: packets per vector (`[0, NVECTORS)`), bytes per vector
/// (`[NVECTORS, 2 * NVECTORS)`) and flows per vector (from [`FLOWS`]). A target's
/// ordinary traffic is in [`Ordinary`], for every target, tracked or not.
type Bucket = [u64; BUCKET_LEN];
const BUCKET_LEN: usize = 3 * NVECTORS;
/// Offset of the flows per vector in a [`Bucket`].
const FLOWS: usize = 2 * NVECTORS;

/// Ordinary (non-attack) packets and flows per (target, bucket), for every target:
/// the attack share must compare a flood with the target's own traffic, including
/// what it received before it had counters. Count-Min sketches over-estimate, so the
/// share can only come out lower (fewer findings, never more).
#[derive(Debug, Clone)]
pub(crate) struct Ordinary {
    packets: CountMin,
    flows: CountMin,
}

/// Width of the ordinary-traffic Count-Min sketches (two of `4 x` this many 32-bit
/// counters: 4 MiB).
pub const ORDINARY_SKETCH_WIDTH: usize = 1 << 17;

/// Most buckets one ordinary flow's packets are spread over (the rest of a long
/// ordinary flow counts in its last spread bucket).
pub const MAX_ORDINARY_SPREAD_BUCKETS: i64 = 6;

impl Ordinary {
    fn new() -> Self {
        Ordinary {
            packets: CountMin::new(ORDINARY_SKETCH_WIDTH),
            flows: CountMin::new(ORDINARY_SKETCH_WIDTH),
        }
    }

    fn add(&mut self, key: TargetKey, ts: Micros, duration: Option<f64>, pkts: u64, flows: u64) {
        let first = ts.div_euclid(BUCKET_MICROS);
        let dur = duration
            .filter(|d| d.is_finite() && *d > 0.0)
            .map_or(0, |d| (d * 1e6) as i64);
        let last = ts.saturating_add(dur).div_euclid(BUCKET_MICROS);
        let n = (last - first + 1).clamp(1, MAX_ORDINARY_SPREAD_BUCKETS);
        let clamp = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        self.flows.add(&(key, first), clamp(flows));
        let per = pkts / n as u64;
        for i in 0..n {
            let p = if i == n - 1 {
                pkts - per * (n as u64 - 1)
            } else {
                per
            };
            if p > 0 {
                self.packets.add(&(key, first + i), clamp(p));
            }
        }
    }

    /// Estimated ordinary (packets, flows) of `key` in `bucket`.
    fn get(&self, key: TargetKey, bucket: i64) -> (u64, u64) {
        (
            u64::from(self.packets.estimate(&(key, bucket))),
            u64::from(self.flows.estimate(&(key, bucket))),
        )
    }

    fn bytes(&self) -> usize {
        self.packets.bytes() + self.flows.bytes()
    }
}

#[derive(Debug, Clone)]
struct TargetState {
    key: TargetKey,
    sources: [DistinctHosts; NVECTORS],
    flows: [u64; NVECTORS],
    packets: [u64; NVECTORS],
    bytes: [u64; NVECTORS],
    unanswered: [u64; NVECTORS],
    first: [Micros; NVECTORS],
    last: [Micros; NVECTORS],
    proto_packets: [u64; 4],
    solicited_packets: u64,
    sent_udp_packets: u64,
    series: BTreeMap<i64, Bucket>,
    top_sources: SpaceSaving<IpAddr>,
    top_ports: SpaceSaving<(u8, u16)>,
    linked: HashSet<IpAddr>,
}

impl TargetState {
    fn new(key: TargetKey) -> Self {
        TargetState {
            key,
            sources: Default::default(),
            flows: [0; NVECTORS],
            packets: [0; NVECTORS],
            bytes: [0; NVECTORS],
            unanswered: [0; NVECTORS],
            first: [Micros::MAX; NVECTORS],
            last: [Micros::MIN; NVECTORS],
            proto_packets: [0; 4],
            solicited_packets: 0,
            sent_udp_packets: 0,
            series: BTreeMap::new(),
            top_sources: SpaceSaving::new(TOP_SOURCES),
            top_ports: SpaceSaving::new(TOP_PORTS),
            linked: HashSet::new(),
        }
    }

    /// Adds a send of vector `v` to the buckets its flow spans (the flow itself
    /// counts in the first).
    fn add_to_series(
        &mut self,
        v: usize,
        ts: Micros,
        duration: Option<f64>,
        (pkts, bytes, flows): (u64, u64, u64),
    ) {
        let first = ts.div_euclid(BUCKET_MICROS);
        let dur = duration
            .filter(|d| d.is_finite() && *d > 0.0)
            .map_or(0, |d| (d * 1e6) as i64);
        let last = ts.saturating_add(dur).div_euclid(BUCKET_MICROS);
        let n = (last - first + 1).clamp(1, MAX_SPREAD_BUCKETS);
        let (pp, pr) = (pkts / n as u64, pkts % n as u64);
        let (bp, br) = (bytes / n as u64, bytes % n as u64);
        for i in 0..n {
            let (p, b) = if i == 0 { (pp + pr, bp + br) } else { (pp, bp) };
            let f = if i == 0 { flows } else { 0 };
            if p == 0 && b == 0 && f == 0 {
                continue;
            }
            let bucket = self.series.entry(first + i).or_insert([0; BUCKET_LEN]);
            bucket[v] = bucket[v].saturating_add(p);
            bucket[NVECTORS + v] = bucket[NVECTORS + v].saturating_add(b);
            bucket[FLOWS + v] = bucket[FLOWS + v].saturating_add(f);
        }
        while self.series.len() > MAX_BUCKETS {
            // Drop the quietest bucket: peaks are what the finding reports. Never the
            // bucket just added to, which starts small and would otherwise be dropped
            // at once, every time, however large the flood it begins.
            let quiet = self
                .series
                .iter()
                .filter(|(k, _)| !(first..first + n).contains(*k))
                .min_by_key(|(_, b)| b[..NVECTORS].iter().sum::<u64>())
                .map(|(k, _)| *k);
            match quiet {
                Some(k) => {
                    self.series.remove(&k);
                }
                None => break,
            }
        }
    }
}

/// The DDoS detector: an [`Observer`] over flow records. See the [module](self) docs.
///
/// ```
/// use accord_detect::ddos::{DdosConfig, DdosDetector};
/// let detector = DdosDetector::new(DdosConfig::default());
/// let links = detector.links(); // keep before boxing the detector into a Pass
/// # let _ = (detector, links);
/// ```
#[derive(Debug)]
pub struct DdosDetector {
    config: DdosConfig,
    admit: CountMin,
    ordinary: Ordinary,
    targets: SpaceSaving<TargetKey>,
    states: Vec<TargetState>,
    links: DdosLinks,
}

impl DdosDetector {
    /// A detector with `config`.
    pub fn new(config: DdosConfig) -> Self {
        DdosDetector {
            config,
            admit: CountMin::new(ADMIT_SKETCH_WIDTH),
            ordinary: Ordinary::new(),
            targets: SpaceSaving::new(MAX_TARGETS),
            states: Vec::new(),
            links: DdosLinks::default(),
        }
    }

    /// The handle through which the node resolves victims and participants of the
    /// last finished window (see [`DdosLinks`]).
    pub fn links(&self) -> DdosLinks {
        self.links.clone()
    }

    /// Targets with counters now (at most [`MAX_TARGETS`]).
    pub fn tracked_targets(&self) -> usize {
        self.states.len()
    }

    /// An upper bound of the bytes the detector's state holds now (sketches, tables
    /// and series, with per-entry overheads), for tests and monitoring.
    pub fn state_bytes(&self) -> usize {
        let per_target: usize = self
            .states
            .iter()
            .map(|s| {
                5 * 4096
                    + s.series.len() * 150
                    + (TOP_SOURCES + TOP_PORTS) * 96
                    + s.linked.capacity() * 24
                    + std::mem::size_of::<TargetState>()
            })
            .sum();
        self.admit.bytes() + self.ordinary.bytes() + MAX_TARGETS * 64 + per_target
    }

    fn scale(&self, n: u64) -> u64 {
        n.saturating_mul(u64::from(self.config.sampling_rate.max(1)))
    }

    fn state_mut(
        &mut self,
        key: TargetKey,
        vector: Option<Vector>,
        weight: u64,
    ) -> Option<&mut TargetState> {
        if vector.is_some() {
            if !self.targets.contains(&key) {
                let est = self.admit.add(&key, 1);
                if est < ADMIT_FLOWS {
                    return None;
                }
            }
            self.targets.add(&key, weight.max(1));
            let slot = self.targets.slot(&key)?;
            if slot == self.states.len() {
                self.states.push(TargetState::new(key));
            } else if self.states.get(slot).is_some_and(|s| s.key != key) {
                self.states[slot] = TargetState::new(key);
            }
            self.states.get_mut(slot)
        } else {
            let slot = self.targets.slot(&key)?;
            self.states.get_mut(slot)
        }
    }

    fn observe_send(
        &mut self,
        ts: Micros,
        duration: Option<f64>,
        sender: IpAddr,
        receiver: IpAddr,
        dst_port: Option<u16>,
        s: Send,
    ) {
        let internal_sender = self.config.internal.contains(sender);
        let internal_receiver = self.config.internal.contains(receiver);
        let direction = match (internal_sender, internal_receiver) {
            (false, true) => Direction::Inbound,
            (true, false) => Direction::Outbound,
            _ => return,
        };
        // What an internal host sends over UDP: requests to a reflector port make
        // the responses it receives solicited, and any UDP it sends answers what it
        // receives (unidirectional flow records carry the answers as records of
        // their own, and no reverse counts).
        if direction == Direction::Outbound && s.proto == Proto::Udp {
            let pk = self.scale(s.packets.unwrap_or(1));
            let key = TargetKey {
                addr: sender,
                direction: Direction::Inbound,
            };
            if let Some(slot) = self.targets.slot(&key) {
                if let Some(st) = self.states.get_mut(slot) {
                    st.sent_udp_packets = st.sent_udp_packets.saturating_add(pk);
                    if dst_port.and_then(reflector_service).is_some() {
                        st.solicited_packets = st.solicited_packets.saturating_add(pk);
                    }
                }
            }
        }
        let vector = classify(&s);
        let packets = self.scale(s.packets.unwrap_or(1));
        let bytes = self.scale(s.bytes.unwrap_or(0));
        let flows = self.scale(1);
        let key = TargetKey {
            addr: receiver,
            direction,
        };
        let Some(v) = vector else {
            self.ordinary.add(key, ts, duration, packets, flows);
            return;
        };
        let Some(st) = self.state_mut(key, vector, packets) else {
            return;
        };
        let i = v.index();
        st.flows[i] = st.flows[i].saturating_add(flows);
        st.packets[i] = st.packets[i].saturating_add(packets);
        st.bytes[i] = st.bytes[i].saturating_add(bytes);
        if s.reply_packets == Some(0) || (s.reply_packets.is_none() && s.reply_bytes == Some(0)) {
            st.unanswered[i] = st.unanswered[i].saturating_add(flows);
        }
        st.first[i] = st.first[i].min(ts);
        let end = ts.saturating_add(
            duration
                .filter(|d| d.is_finite() && *d > 0.0)
                .map_or(0, |d| (d * 1e6) as i64),
        );
        st.last[i] = st.last[i].max(end);
        let p = match s.proto {
            Proto::Tcp => 0,
            Proto::Udp => 1,
            Proto::Icmp => 2,
            _ => 3,
        };
        st.proto_packets[p] = st.proto_packets[p].saturating_add(packets);
        st.sources[i].insert(sender);
        if let Some(port) = s.src_port {
            let proto = match s.proto {
                Proto::Tcp => 6,
                Proto::Udp => 17,
                Proto::Icmp => 1,
                Proto::Other(n) => n,
                _ => 0,
            };
            st.top_ports.add(&(proto, port), packets);
        }
        match direction {
            Direction::Inbound => {
                st.top_sources.add(&sender, flows);
            }
            Direction::Outbound => {
                if st.linked.len() < MAX_LINKED_PARTICIPANTS {
                    st.linked.insert(sender);
                }
            }
        }
        st.add_to_series(i, ts, duration, (packets, bytes, flows));
    }
}

impl Observer for DdosDetector {
    fn name(&self) -> &'static str {
        "ddos"
    }

    fn observe(&mut self, record: &Record<'_>) {
        // DNS and HTTP records repeat a connection already in the conn log.
        let Record::Conn(c) = record else {
            return;
        };
        let fwd = Send {
            proto: c.proto,
            src_port: c.orig_p,
            packets: c.orig_pkts,
            bytes: c.orig_bytes,
            reply_packets: c.resp_pkts,
            reply_bytes: c.resp_bytes,
            from_originator: true,
        };
        self.observe_send(c.ts, c.duration, c.orig_h, c.resp_h, c.resp_p, fwd);
        let replied = c.resp_pkts.unwrap_or(0) > 0 || c.resp_bytes.unwrap_or(0) > 0;
        if replied {
            let back = Send {
                proto: c.proto,
                src_port: c.resp_p,
                packets: c.resp_pkts,
                bytes: c.resp_bytes,
                reply_packets: c.orig_pkts,
                reply_bytes: c.orig_bytes,
                from_originator: false,
            };
            self.observe_send(c.ts, c.duration, c.resp_h, c.orig_h, c.orig_p, back);
        }
    }

    fn finish(&mut self, window: &Window) -> Vec<Box<dyn Finding>> {
        self.finish_window(window)
            .into_iter()
            .map(|f| Box::new(f) as Box<dyn Finding>)
            .collect()
    }
}

impl DdosDetector {
    /// [`Observer::finish`], typed: the floods of the window that ends now, best
    /// first; victims and participants go to [`DdosLinks`]; the state starts afresh.
    pub fn finish_window(&mut self, _window: &Window) -> Vec<DdosFinding> {
        let states = std::mem::take(&mut self.states);
        self.targets = SpaceSaving::new(MAX_TARGETS);
        self.admit.clear();
        let ordinary = std::mem::replace(&mut self.ordinary, Ordinary::new());
        let mut findings = Vec::new();
        let mut links = LinksInner::default();
        for st in states {
            if let Some(f) = finding::evaluate(&st, &ordinary, &self.config) {
                match st.key.direction {
                    Direction::Inbound => {
                        links.victims.insert(f.id.clone(), st.key.addr);
                    }
                    Direction::Outbound => {
                        let mut hosts: Vec<IpAddr> = st.linked.iter().copied().collect();
                        hosts.sort();
                        links.participants.insert(f.id.clone(), hosts);
                    }
                }
                findings.push(f);
            }
        }
        findings.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        self.links.with(|l| *l = links);
        findings
    }
}

//! A DDoS finding: its evidence, the JSON contract and the STIX it publishes.
//!
//! What a finding holds is what may leave the node: for an inbound attack, never the
//! internal target (its `target` is `None`; the victim is resolved locally through
//! [`super::DdosLinks`]); for an outbound one, never the internal participants (a
//! count only). The external heavy sources it keeps are external by construction
//! (inbound sources are outside the internal networks).

use std::net::IpAddr;

use accord_telemetry::Micros;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::vector::{reflector_service, Vector, NVECTORS};
use super::{DdosConfig, Ordinary, TargetState, BUCKET_SECONDS, FLOWS, MAX_SOLICITED_RATIO};
use crate::observer::{Finding, Producer};

/// UUIDv5 namespace of every object a DDoS finding publishes: ids are derived from
/// what the finding is about (direction, vector, target or sources, time), so storing
/// the findings of the same telemetry again updates instead of duplicating.
pub const DDOS_NAMESPACE: Uuid = Uuid::from_u128(0x3b0c_6f1e_8d2a_4c55_b1e7_5a9f_0d4c_2e81);

/// The largest `count` / `number_observed` STIX allows.
pub const MAX_COUNT: u64 = 999_999_999;

/// Least flows a heavy external source must certainly (Space-Saving `count - error`)
/// have sent for it to be published as an indicator: spoofed sources of a SYN flood
/// appear once or twice each and are not published.
pub const MIN_PUBLISHED_SOURCE_FLOWS: u64 = 10;

/// Most external sources published per finding.
pub const MAX_PUBLISHED_SOURCES: usize = 16;

/// `created`/`modified` of the shared ATT&CK `attack-pattern` objects: fixed, so that
/// every producer's copy is the same object version.
const ATTACK_PATTERN_TIME: &str = "2020-02-20T00:00:00.000Z";

/// Which side of the operator's network the target is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A customer is attacked from outside.
    Inbound,
    /// Internal hosts attack an external target.
    Outbound,
}

impl Direction {
    /// `inbound` or `outbound`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// A heavy external source of an inbound attack.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The external address.
    pub addr: IpAddr,
    /// Flows counted (Space-Saving estimate).
    pub flows: u64,
    /// Flows certainly sent (`count - error`).
    pub guaranteed: u64,
}

/// A heavy source port.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    /// IP protocol number.
    pub proto: u8,
    /// The port.
    pub port: u16,
    /// Packets counted (Space-Saving estimate).
    pub packets: u64,
}

/// One detected flood.
#[derive(Debug, Clone)]
pub struct DdosFinding {
    /// Deterministic id (a UUIDv5 under [`DDOS_NAMESPACE`]): the key of
    /// [`super::DdosLinks`] and the base of every STIX id.
    pub id: String,
    /// The external target of an outbound attack; `None` for inbound (a customer).
    pub target: Option<IpAddr>,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The dominant vector.
    pub vector: Vector,
    /// Estimated distinct participants (sources of the attack traffic).
    pub participants: u64,
    /// Largest packets per second of the vector over a bucket.
    pub peak_pps: f64,
    /// Largest bits per second of the vector over a bucket.
    pub peak_bps: f64,
    /// First attack-vector flow.
    pub start: Micros,
    /// End of the last attack-vector flow.
    pub end: Micros,
    /// Confidence in `0..=1`.
    pub score: f64,
    /// Flows, packets, bytes of the vector.
    pub flows: u64,
    /// Packets of the vector.
    pub packets: u64,
    /// Bytes of the vector.
    pub bytes: u64,
    /// Share of the vector's flows the receiver did not answer (when known).
    pub unanswered_share: f64,
    /// Share of attack traffic (every vector) in the target's traffic during the
    /// episode (flows for a SYN flood, packets otherwise).
    pub attack_share: f64,
    /// Packets per protocol (tcp, udp, icmp, other) over every attack vector.
    pub proto_packets: [u64; 4],
    /// Packets per vector.
    pub vector_packets: [u64; NVECTORS],
    /// Heavy source ports.
    pub top_ports: Vec<Port>,
    /// Heavy external sources (inbound only; empty outbound).
    pub top_sources: Vec<Source>,
    /// Rate series summary: active buckets, peak bucket start, median and mean pps.
    pub buckets: usize,
    /// Start of the peak bucket.
    pub peak_bucket: Micros,
    /// Median pps over active buckets.
    pub median_pps: f64,
    /// Mean pps over active buckets.
    pub mean_pps: f64,
    /// The target's own packets to reflector ports (inbound reflection).
    pub solicited_packets: u64,
    /// Outbound: the C2 destinations some participants beaconed to (set by
    /// [`crate::botnet::Botnets`] when the C2 detector ran in the same pass).
    pub controlled_by: Vec<ControlledBy>,
}

/// A C2 destination that participants of an outbound flood beaconed to in the same
/// window: the botnet's controller, as far as this sensor can tell. Counts only: the
/// participants are customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlledBy {
    /// The C2 finding's destination.
    pub destination: IpAddr,
    /// The C2 finding's port.
    pub port: Option<u16>,
    /// Participants of the flood among the C2 destination's internal hosts.
    pub shared_participants: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Least share of the peak bucket's packets a bucket needs to belong to the attack
/// episode around the peak (`start`/`end`, attack share): background noise to the
/// same target before and after the flood (internet scanning, days of SYN-only
/// probes) does not stretch the attack to the whole window.
pub const EPISODE_FRACTION: f64 = 0.1;

/// Largest share of an inbound vector's flows one source may certainly have sent for
/// the attack to count as distributed.
pub const MAX_TOP_SOURCE_SHARE: f64 = 0.5;

/// Quiet buckets tolerated inside an episode (a flood that pauses for 10 s is one).
pub const EPISODE_GAP_BUCKETS: i64 = 1;

/// The finding of one target's counters, if they pass the thresholds.
pub(super) fn evaluate(
    st: &TargetState,
    ordinary: &Ordinary,
    cfg: &DdosConfig,
) -> Option<DdosFinding> {
    // The vector with the heaviest bucket.
    let (v, _) = Vector::ALL
        .iter()
        .map(|v| {
            let i = v.index();
            (*v, st.series.values().map(|b| b[i]).max().unwrap_or(0))
        })
        .max_by_key(|(_, p)| *p)?;
    let i = v.index();
    if st.packets[i] == 0 {
        return None;
    }
    let secs = BUCKET_SECONDS as f64;
    let mut pps: Vec<(i64, f64, f64)> = st
        .series
        .iter()
        .filter(|(_, b)| b[i] > 0)
        .map(|(k, b)| (*k, b[i] as f64 / secs, b[NVECTORS + i] as f64 * 8.0 / secs))
        .collect();
    let peak = pps.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let peak_pps = peak.1;
    // The episode: contiguous buckets (gaps of EPISODE_GAP_BUCKETS allowed) around the
    // peak with at least EPISODE_FRACTION of its packets.
    let floor = ((peak_pps * secs * EPISODE_FRACTION).ceil() as u64).max(1);
    let strong = |k: i64| st.series.get(&k).is_some_and(|b| b[i] >= floor);
    let (mut lo, mut hi) = (peak.0, peak.0);
    'left: loop {
        for g in 1..=EPISODE_GAP_BUCKETS + 1 {
            if strong(lo - g) {
                lo -= g;
                continue 'left;
            }
        }
        break;
    }
    'right: loop {
        for g in 1..=EPISODE_GAP_BUCKETS + 1 {
            if strong(hi + g) {
                hi += g;
                continue 'right;
            }
        }
        break;
    }
    // The share of attack traffic (every vector: a multi-vector flood is one attack)
    // in the target's traffic, in flows for SYN floods, in packets otherwise (see
    // MIN_ATTACK_SHARE).
    let syn = v == Vector::SynFlood;
    let all = if syn {
        FLOWS..FLOWS + NVECTORS
    } else {
        0..NVECTORS
    };
    let (mut ep_attack, mut ep_total, mut peak_bps) = (0u64, 0u64, 0f64);
    for k in lo..=hi {
        let (o_pkts, o_flows) = ordinary.get(st.key, k);
        ep_total = ep_total.saturating_add(if syn { o_flows } else { o_pkts });
        if let Some(b) = st.series.get(&k) {
            let a = b[all.clone()].iter().sum::<u64>();
            ep_attack = ep_attack.saturating_add(a);
            ep_total = ep_total.saturating_add(a);
            peak_bps = peak_bps.max(b[NVECTORS + i] as f64 * 8.0 / secs);
        }
    }
    let participants = st.sources[i].estimate();
    let attack_share = ratio(ep_attack, ep_total);
    let min_participants = match (st.key.direction, v) {
        (Direction::Outbound, _) => cfg.min_bots,
        (Direction::Inbound, Vector::UdpReflection) => cfg.min_reflectors,
        (Direction::Inbound, _) => cfg.min_sources,
    };
    let rate_ratio =
        (peak_pps / cfg.min_peak_pps.max(1e-9)).max(peak_bps / cfg.min_peak_bps.max(1e-9));
    if rate_ratio < 1.0 || participants < min_participants || attack_share < cfg.min_attack_share {
        return None;
    }
    // One source carrying most of the attack flows is a scan or a single-source DoS,
    // not a distributed attack, however many others probe the same target.
    if st.key.direction == Direction::Inbound {
        if let Some(top) = st.top_sources.top().first() {
            if top.guaranteed() as f64 > MAX_TOP_SOURCE_SHARE * st.flows[i] as f64 {
                return None;
            }
        }
    }
    if st.key.direction == Direction::Inbound {
        let answered = match v {
            Vector::UdpReflection => st.solicited_packets,
            Vector::UdpFlood => st.sent_udp_packets,
            _ => 0,
        };
        if answered as f64 > MAX_SOLICITED_RATIO * st.packets[i] as f64 {
            return None;
        }
    }
    let bucket_us = BUCKET_SECONDS * 1_000_000;
    let start = st.first[i].max(lo.saturating_mul(bucket_us));
    let end = st.last[i]
        .min((hi + 1).saturating_mul(bucket_us) - 1)
        .max(start);
    let pr = (participants as f64 / min_participants.max(1) as f64).max(1.0);
    let score =
        ((0.5 + 0.25 * (rate_ratio.log10() / 2.0).min(1.0) + 0.25 * (pr.log10() / 2.0).min(1.0))
            * (0.5 + 0.5 * attack_share))
            .clamp(0.0, 1.0);
    pps.sort_by(|a, b| a.1.total_cmp(&b.1));
    let median_pps = pps[pps.len() / 2].1;
    let mean_pps = pps.iter().map(|x| x.1).sum::<f64>() / pps.len() as f64;
    let top_ports: Vec<Port> = st
        .top_ports
        .top()
        .into_iter()
        .take(5)
        .map(|c| Port {
            proto: c.key.0,
            port: c.key.1,
            packets: c.count,
        })
        .collect();
    let top_sources: Vec<Source> = match st.key.direction {
        Direction::Inbound => st
            .top_sources
            .top()
            .into_iter()
            .take(MAX_PUBLISHED_SOURCES)
            .filter(|c| !cfg.internal.contains(c.key))
            .map(|c| Source {
                addr: c.key,
                flows: c.count,
                guaranteed: c.guaranteed(),
            })
            .collect(),
        Direction::Outbound => Vec::new(),
    };
    let target = match st.key.direction {
        Direction::Outbound if !cfg.internal.contains(st.key.addr) => Some(st.key.addr),
        _ => None,
    };
    // The id: what the finding is about. Inbound, the internal target is left out
    // (a hash of an IPv4 address is reversible by trying them all): the sources,
    // time span and volume tell two victims apart.
    let name = match target {
        Some(t) => format!("outbound|{}|{t}|{start}", v.name()),
        None => {
            let srcs: Vec<String> = top_sources.iter().map(|s| s.addr.to_string()).collect();
            format!(
                "inbound|{}|{start}|{end}|{}|{}",
                v.name(),
                st.packets[i],
                srcs.join(",")
            )
        }
    };
    Some(DdosFinding {
        id: Uuid::new_v5(&DDOS_NAMESPACE, name.as_bytes()).to_string(),
        target,
        direction: st.key.direction,
        vector: v,
        participants,
        peak_pps,
        peak_bps,
        start,
        end,
        score,
        flows: st.flows[i],
        packets: st.packets[i],
        bytes: st.bytes[i],
        unanswered_share: ratio(st.unanswered[i], st.flows[i]),
        attack_share,
        proto_packets: st.proto_packets,
        vector_packets: st.packets,
        top_ports,
        top_sources,
        buckets: pps.len(),
        peak_bucket: peak.0.saturating_mul(BUCKET_SECONDS * 1_000_000),
        median_pps,
        mean_pps,
        solicited_packets: st.solicited_packets,
        controlled_by: Vec::new(),
    })
}

fn ts(us: Micros) -> String {
    accord_stix::timestamp::format_millis(us)
}

fn proto_name(p: u8) -> &'static str {
    match p {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        _ => "other",
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn addr_sco(addr: IpAddr) -> Value {
    let ty = if addr.is_ipv4() {
        "ipv4-addr"
    } else {
        "ipv6-addr"
    };
    let mut obj = json!({"type": ty, "spec_version": "2.1", "value": addr.to_string()});
    let id = obj
        .as_object()
        .and_then(|m| accord_stix::sco_id(m).ok().flatten())
        .unwrap_or_else(|| {
            format!(
                "{ty}--{}",
                Uuid::new_v5(&DDOS_NAMESPACE, addr.to_string().as_bytes())
            )
        });
    if let Some(m) = obj.as_object_mut() {
        m.insert("id".into(), Value::String(id));
    }
    obj
}

impl DdosFinding {
    fn sid(&self, ty: &str, part: &str) -> String {
        format!(
            "{ty}--{}",
            Uuid::new_v5(
                &DDOS_NAMESPACE,
                format!("{ty}|{}|{part}", self.id).as_bytes()
            )
        )
    }

    /// The reflector port of a reflection attack: the heaviest UDP reflector source port.
    pub fn reflector_port(&self) -> Option<u16> {
        (self.vector == Vector::UdpReflection)
            .then(|| {
                self.top_ports
                    .iter()
                    .find(|p| p.proto == 17 && reflector_service(p.port).is_some())
                    .map(|p| p.port)
            })
            .flatten()
    }

    /// The evidence object of the JSON contract (and of the STIX `note`).
    pub fn evidence(&self) -> Value {
        let mut protocols = Map::new();
        for (n, p) in ["tcp", "udp", "icmp", "other"]
            .iter()
            .zip(self.proto_packets)
        {
            if p > 0 {
                protocols.insert((*n).into(), p.into());
            }
        }
        let mut vectors = Map::new();
        for v in Vector::ALL {
            let p = self.vector_packets[v.index()];
            if p > 0 {
                vectors.insert(v.name().into(), p.into());
            }
        }
        let ports: Vec<Value> = self
            .top_ports
            .iter()
            .map(|p| {
                let mut o =
                    json!({"proto": proto_name(p.proto), "port": p.port, "packets": p.packets});
                if p.proto == 17 {
                    if let Some(s) = reflector_service(p.port) {
                        o["service"] = s.into();
                    }
                }
                o
            })
            .collect();
        let mut ev = json!({
            "flows": self.flows,
            "packets": self.packets,
            "bytes": self.bytes,
            "bytes_per_packet": round(ratio(self.bytes, self.packets)),
            "unanswered_share": round(self.unanswered_share),
            "attack_share": round(self.attack_share),
            "protocols": protocols,
            "vectors": vectors,
            "top_source_ports": ports,
            "series": {
                "bucket_seconds": BUCKET_SECONDS,
                "active_buckets": self.buckets,
                "peak_bucket_start": ts(self.peak_bucket),
                "median_pps": round(self.median_pps),
                "mean_pps": round(self.mean_pps),
            },
        });
        if !self.controlled_by.is_empty() {
            ev["controlled_by"] = self
                .controlled_by
                .iter()
                .map(|c| {
                    json!({"destination": c.destination.to_string(), "port": c.port,
                           "shared_participants": c.shared_participants})
                })
                .collect::<Vec<_>>()
                .into();
        }
        if self.direction == Direction::Inbound {
            ev["top_sources"] = self
                .top_sources
                .iter()
                .map(|s| json!({"ip": s.addr.to_string(), "flows": s.flows, "guaranteed_flows": s.guaranteed}))
                .collect::<Vec<_>>()
                .into();
            if self.vector == Vector::UdpReflection {
                ev["requests_to_reflector_ports"] = self.solicited_packets.into();
            }
        }
        ev
    }

    fn published_sources(&self) -> Vec<&Source> {
        self.top_sources
            .iter()
            .filter(|s| s.guaranteed >= MIN_PUBLISHED_SOURCE_FLOWS)
            .collect()
    }

    fn attack_pattern(&self) -> Value {
        let (id, name) = self.vector.attack_technique();
        let parent = "T1498";
        json!({
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": format!("attack-pattern--{}", Uuid::new_v5(&DDOS_NAMESPACE, format!("attack-pattern|{id}").as_bytes())),
            "created": ATTACK_PATTERN_TIME,
            "modified": ATTACK_PATTERN_TIME,
            "name": name,
            "external_references": [
                {"source_name": "mitre-attack", "external_id": id,
                 "url": format!("https://attack.mitre.org/techniques/{}/", id.replace('.', "/"))},
                {"source_name": "mitre-attack", "external_id": parent,
                 "url": "https://attack.mitre.org/techniques/T1498/"},
            ],
        })
    }

    fn confidence(&self) -> u64 {
        (self.score * 100.0).round().clamp(0.0, 100.0) as u64
    }
}

impl Finding for DdosFinding {
    fn kind(&self) -> &'static str {
        "ddos"
    }

    fn score(&self) -> f64 {
        self.score
    }

    fn subject(&self) -> String {
        match self.target {
            Some(t) => t.to_string(),
            None => format!("internal target ({})", &self.id[..8]),
        }
    }

    fn summary(&self) -> String {
        let port = self
            .reflector_port()
            .map(|p| format!(" from port {p}"))
            .unwrap_or_default();
        format!(
            "{} {}{port}: {} participants, peak {:.0} pps / {:.1} Mbit/s",
            self.direction.name(),
            self.vector.name(),
            self.participants,
            self.peak_pps,
            self.peak_bps / 1e6
        )
    }

    fn to_json(&self) -> Value {
        json!({
            "kind": "ddos",
            "id": self.id,
            "target": self.target.map(|t| t.to_string()),
            "vector": self.vector.name(),
            "reflector_port": self.reflector_port(),
            "participants": self.participants,
            "peak_pps": round(self.peak_pps),
            "peak_bps": round(self.peak_bps),
            "start": ts(self.start),
            "end": ts(self.end),
            "direction": self.direction.name(),
            "score": round(self.score),
            "evidence": self.evidence(),
        })
    }

    fn to_stix(&self, producer: &Producer) -> Vec<Value> {
        let common = |mut o: Value| {
            if let Some(m) = o.as_object_mut() {
                m.insert("spec_version".into(), "2.1".into());
                m.insert("created".into(), ts(self.start).into());
                m.insert("modified".into(), ts(self.end).into());
                m.insert("created_by_ref".into(), producer.identity.clone().into());
            }
            o
        };
        let ap = self.attack_pattern();
        let ap_id = ap["id"].clone();
        let mut out = vec![ap];
        let mut observed: Vec<Value> = Vec::new();
        match self.target {
            Some(t) => {
                let sco = addr_sco(t);
                observed.push(sco["id"].clone());
                out.push(sco);
            }
            None => {
                for s in self.published_sources() {
                    let sco = addr_sco(s.addr);
                    let sco_id = sco["id"].clone();
                    let ind_id = format!(
                        "indicator--{}",
                        Uuid::new_v5(
                            &DDOS_NAMESPACE,
                            format!("indicator|{}|{}", self.vector.name(), s.addr).as_bytes()
                        )
                    );
                    let ty = if s.addr.is_ipv4() {
                        "ipv4-addr"
                    } else {
                        "ipv6-addr"
                    };
                    let role = if self.vector == Vector::UdpReflection {
                        "reflector"
                    } else {
                        "source"
                    };
                    out.push(common(json!({
                        "type": "indicator",
                        "id": ind_id,
                        "name": format!("DDoS {role} ({})", self.vector.name()),
                        "indicator_types": [if role == "reflector" { "anomalous-activity" } else { "malicious-activity" }],
                        "pattern": format!("[{ty}:value = '{}']", s.addr),
                        "pattern_type": "stix",
                        "valid_from": ts(self.start),
                        "confidence": self.confidence(),
                    })));
                    out.push(common(json!({
                        "type": "relationship",
                        "id": self.sid("relationship", &s.addr.to_string()),
                        "relationship_type": "indicates",
                        "source_ref": ind_id,
                        "target_ref": ap_id,
                    })));
                    observed.push(sco_id);
                    out.push(sco);
                }
            }
        }
        let flows = self.flows.clamp(1, MAX_COUNT);
        let od_id = self.sid("observed-data", "");
        if !observed.is_empty() {
            out.push(common(json!({
                "type": "observed-data",
                "id": od_id,
                "first_observed": ts(self.start),
                "last_observed": ts(self.end),
                "number_observed": flows,
                "object_refs": observed,
            })));
        }
        let sighting_id = self.sid("sighting", "");
        let mut sighting = common(json!({
            "type": "sighting",
            "id": sighting_id,
            "sighting_of_ref": ap_id,
            "where_sighted_refs": [producer.identity],
            "first_seen": ts(self.start),
            "last_seen": ts(self.end),
            "count": flows,
            "confidence": self.confidence(),
            "x_accord_direction": self.direction.name(),
            "x_accord_vector": self.vector.name(),
            "x_accord_participants": self.participants,
            "x_accord_peak_pps": round(self.peak_pps),
            "x_accord_peak_bps": round(self.peak_bps),
        }));
        if !observed.is_empty() {
            sighting["observed_data_refs"] = json!([od_id]);
        }
        out.push(sighting);
        let mut refs = vec![Value::String(sighting_id)];
        if !observed.is_empty() {
            refs.push(Value::String(od_id));
        }
        for c in &self.controlled_by {
            let infra = crate::c2::finding::infrastructure_id(c.destination, c.port, producer);
            out.push(common(json!({
                "type": "relationship",
                "id": self.sid("relationship", &format!("controlled-by|{infra}")),
                "relationship_type": "related-to",
                "source_ref": infra,
                "target_ref": ap_id,
                "description": format!(
                    "{} of the {} internal participants of this {} flood beaconed to the \
                     command-and-control server: its bots took part",
                    c.shared_participants, self.participants, self.vector.name()
                ),
            })));
            refs.push(Value::String(infra));
        }
        out.push(common(json!({
            "type": "note",
            "id": self.sid("note", ""),
            "abstract": self.summary(),
            "content": self.evidence().to_string(),
            "object_refs": refs,
        })));
        out
    }
}

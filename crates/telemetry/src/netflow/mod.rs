//! NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) decoding.
//!
//! A [`Decoder`] takes UDP datagrams as they arrive, with the address they came from,
//! and hands out the flow records each one carries as a slice of [`Flow`]s in a
//! buffer it reuses: decoding allocates nothing per record (templates allocate once,
//! when they are learnt). The decoder does no I/O and reads no clock: all times come
//! from the datagrams.
//!
//! What it keeps per *exporter session* — the exporter's address and port, the
//! protocol version and the observation domain (v9 source id, IPFIX observation
//! domain id, v5 engine type and id):
//! - the templates (v9 and IPFIX), replaced when redefined, withdrawn by IPFIX
//!   withdrawal records (one template, or all of a set's kind);
//! - the sampling rate announced by options records (v9 `SAMPLING_INTERVAL` 34 and
//!   `FLOW_SAMPLER_RANDOM_INTERVAL` 50, IPFIX `samplingInterval` 34,
//!   `samplerRandomInterval` 50, `samplingPacketInterval` 305 with
//!   `samplingPacketSpace` 306), per sampler id (`FLOW_SAMPLER_ID` 48, `selectorId`
//!   302) or for the whole session; the v5 header's sampling interval. Packet and byte
//!   counts are multiplied by the rate, and [`Flow::sampling`] says by how much;
//! - the next expected sequence number. The three protocols count differently: v5
//!   counts *flows* (the header's sequence is the number of flows sent before this
//!   datagram), v9 counts *export packets* (RFC 3954 §5.1), IPFIX counts *data records*
//!   (RFC 7011 §3.1; options data records included, template records not). A jump
//!   forward is counted as lost flows, packets or records in [`DecodeStats`]; a step
//!   back within [`REORDER_WINDOW`] as a reordered datagram; anything else (an
//!   exporter restart) as a reset;
//! - the IPFIX `systemInitTimeMilliseconds` (160) from options records, the base of
//!   flow times given relative to the exporter's boot (`flowStartSysUpTime` 22).
//!
//! A datagram that breaks the format (truncated, a length that lies, a malformed
//! template, a record that overruns its set, a limit exceeded) is dropped as a whole
//! and counted by [`DropReason`]; nothing an exporter sends can make the decoder
//! panic or stop. Templates defined earlier in a dropped datagram stay learnt. Data
//! sets whose template is not known yet (an exporter sends templates only every so
//! often) are skipped and counted, and the datagram's other sets are decoded.
//! Enterprise-specific IPFIX elements and unknown elements are skipped by their
//! length; variable-length elements (RFC 7011 §7) are read and skipped.
//!
//! ```
//! use accord_telemetry::netflow::{encode, Decoder, Flow};
//! let flow = Flow {
//!     start: 1_700_000_000_000_000, end: 1_700_000_001_500_000,
//!     src: [10, 0, 0, 1].into(), dst: [192, 0, 2, 7].into(),
//!     src_port: 40_000, dst_port: 443, proto: 6, tcp_flags: 0x1b,
//!     packets: 12, bytes: 3_400, sampling: 1,
//! };
//! let datagram = encode::ipfix(7, 0, 1_700_000_002, &[flow], true);
//! let mut decoder = Decoder::new();
//! let exporter = "192.0.2.1:4739".parse().unwrap();
//! let flows = decoder.decode(exporter, &datagram).unwrap();
//! assert_eq!(flows, &[flow]);
//! ```

pub mod encode;
mod ipfix;
mod template;
mod v5;
mod v9;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::record::{Conn, Micros, Proto};

pub use template::FieldKind;

/// Exporter sessions (address and port, version, observation domain) kept at once.
/// Past it, the session idle longest is forgotten (its templates with it), so that a
/// flood of spoofed sources costs bounded memory and cannot lock out real exporters.
pub const MAX_EXPORTERS: usize = 1024;

/// Templates (data and options) one exporter session may define. A new template id
/// past it drops the datagram ([`DropReason::TemplateLimit`]); redefining a known id
/// is always allowed.
pub const MAX_TEMPLATES_PER_EXPORTER: usize = 256;

/// Fields (information elements) in one template; the largest real templates have a
/// few dozen. Past it the datagram is dropped ([`DropReason::Template`]).
pub const MAX_FIELDS_PER_TEMPLATE: usize = 128;

/// Samplers (v9 `FLOW_SAMPLER_ID`, IPFIX `selectorId`) remembered per session; options
/// records for further samplers are ignored (their flows count at the session rate).
pub const MAX_SAMPLERS_PER_EXPORTER: usize = 64;

/// Largest sequence step forward counted as loss (about a million flows, packets or
/// records); a larger jump is taken as an exporter restart and counted as a reset.
pub const MAX_SEQUENCE_GAP: u32 = 1 << 20;

/// A sequence number at most this far behind the expected one is a reordered
/// (late) datagram: counted, and the expectation is kept.
pub const REORDER_WINDOW: u32 = 1 << 16;

/// Latest time a flow may carry (9999-12-31T23:59:59.999999Z). Decoded times are
/// clamped to [0, `MAX_TIME`], so that what an exporter sends cannot overflow the
/// window and duration arithmetic downstream.
pub const MAX_TIME: Micros = 253_402_300_799_999_999;

/// Clamps a decoded time to [0, [`MAX_TIME`]].
#[inline]
fn clamp_time(t: Micros) -> Micros {
    t.clamp(0, MAX_TIME)
}

/// Largest UDP payload; the collector's receive buffer.
pub const MAX_DATAGRAM: usize = 65_535;

/// One flow record, decoded: unidirectional (source to destination), as NetFlow and
/// IPFIX carry them, with counts already multiplied by the sampling rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// First packet of the flow, microseconds since the Unix epoch.
    pub start: Micros,
    /// Last packet of the flow.
    pub end: Micros,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port (0 when the protocol has none).
    pub src_port: u16,
    /// Destination port; for ICMP, type × 256 + code (as nfdump shows it).
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Cumulative TCP flags (the OR of every packet's flags).
    pub tcp_flags: u8,
    /// Packets, times the sampling rate.
    pub packets: u64,
    /// Bytes (layer 3, headers included), times the sampling rate.
    pub bytes: u64,
    /// The sampling rate applied (1 = unsampled).
    pub sampling: u32,
}

impl Flow {
    /// The flow as a connection record, for the matchers and detectors that read
    /// [`Conn`]: start time, endpoints, protocol, duration, and packets and bytes as
    /// the originator's (a flow is one direction).
    ///
    /// ```
    /// # use accord_telemetry::{netflow::Flow, Proto};
    /// let f = Flow { start: 1_000_000, end: 3_500_000, src: [10, 0, 0, 1].into(),
    ///     dst: [192, 0, 2, 1].into(), src_port: 5000, dst_port: 53, proto: 17,
    ///     tcp_flags: 0, packets: 2, bytes: 140, sampling: 1 };
    /// let c = f.conn();
    /// assert_eq!((c.proto, c.resp_p, c.duration, c.orig_bytes), (Proto::Udp, Some(53), Some(2.5), Some(140)));
    /// ```
    pub fn conn(&self) -> Conn<'static> {
        let proto = match self.proto {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 | 58 => Proto::Icmp,
            n => Proto::Other(n),
        };
        let ports = matches!(self.proto, 6 | 17 | 132 | 136);
        Conn {
            ts: self.start,
            uid: None,
            orig_h: self.src,
            orig_p: ports.then_some(self.src_port),
            resp_h: self.dst,
            resp_p: ports.then_some(self.dst_port),
            proto,
            service: None,
            duration: Some(self.end.saturating_sub(self.start).max(0) as f64 / 1e6),
            orig_bytes: Some(self.bytes),
            resp_bytes: None,
            orig_pkts: Some(self.packets),
            resp_pkts: None,
            local_orig: None,
            local_resp: None,
        }
    }
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            start: 0,
            end: 0,
            src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            src_port: 0,
            dst_port: 0,
            proto: 0,
            tcp_flags: 0,
            packets: 0,
            bytes: 0,
            sampling: 1,
        }
    }
}

/// Why a datagram was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// Shorter than its header, or than its header says.
    Truncated,
    /// Not version 5, 9 or 10.
    Version,
    /// The header's length or count disagrees with the datagram.
    Length,
    /// A (flow)set whose length is shorter than its header or runs past the datagram.
    SetLength,
    /// A malformed template: reserved id, no fields, too many fields, a bad scope,
    /// records of length zero, or a template record overrunning its set.
    Template,
    /// The session already has [`MAX_TEMPLATES_PER_EXPORTER`] templates.
    TemplateLimit,
    /// A data record overruns its set (a variable-length element's length lies).
    Record,
}

impl DropReason {
    /// Every reason, in the order of [`DecodeStats::dropped`].
    pub const ALL: [DropReason; 7] = [
        DropReason::Truncated,
        DropReason::Version,
        DropReason::Length,
        DropReason::SetLength,
        DropReason::Template,
        DropReason::TemplateLimit,
        DropReason::Record,
    ];

    /// A stable kebab-case name, for counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::Version => "version",
            DropReason::Length => "length",
            DropReason::SetLength => "set-length",
            DropReason::Template => "template",
            DropReason::TemplateLimit => "template-limit",
            DropReason::Record => "record",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for DropReason {}

/// Counters of a [`Decoder`] since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Datagrams given to the decoder.
    pub datagrams: u64,
    /// Datagrams per version: v5, v9, IPFIX.
    pub by_version: [u64; 3],
    /// Flow records decoded.
    pub flows: u64,
    /// Datagrams dropped, indexed like [`DropReason::ALL`].
    pub dropped: [u64; 7],
    /// Templates learnt or redefined (data and options).
    pub templates: u64,
    /// Templates withdrawn (IPFIX).
    pub templates_withdrawn: u64,
    /// Options data records read (sampling, system init time).
    pub options_records: u64,
    /// Data sets skipped because their template is not known (yet).
    pub unknown_template_sets: u64,
    /// NetFlow v5 flows lost (sequence gaps).
    pub lost_v5_flows: u64,
    /// NetFlow v9 export packets lost (sequence gaps).
    pub lost_v9_packets: u64,
    /// IPFIX data records lost (sequence gaps).
    pub lost_ipfix_records: u64,
    /// Datagrams that arrived late (sequence number behind the expected one).
    pub reordered: u64,
    /// Sequence resets (exporter restarts, or jumps beyond [`MAX_SEQUENCE_GAP`]).
    pub sequence_resets: u64,
    /// IPFIX flows timed relative to the exporter's boot before its
    /// `systemInitTimeMilliseconds` was known: timed at the message's export time.
    pub untimed_flows: u64,
    /// Exporter sessions forgotten because [`MAX_EXPORTERS`] were kept.
    pub exporters_evicted: u64,
}

impl DecodeStats {
    /// Datagrams dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()]
    }

    /// Datagrams dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// Identifies an exporter session: templates and sequence numbers live per session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SessionKey {
    exporter: SocketAddr,
    version: u16,
    domain: u32,
}

/// What is kept per exporter session.
#[derive(Debug, Default)]
struct Session {
    templates: HashMap<u16, template::Template>,
    /// The next sequence number expected; `None` until known or after a resync.
    expected: Option<u32>,
    /// Sampling rates and boot time announced by options records.
    rates: template::Rates,
    /// The decoder's datagram counter when this session was last used.
    last_used: u64,
}

/// Outcome of checking a sequence number.
enum Seq {
    InOrder,
    Lost(u32),
    Late,
    Reset,
}

impl Session {
    /// Checks `got` against the expected sequence number and advances the expectation
    /// by `advance` (flows, packets or records of this datagram).
    fn sequence(&mut self, got: u32, advance: u32) -> Seq {
        let outcome = match self.expected {
            None => Seq::InOrder,
            Some(want) => {
                let ahead = got.wrapping_sub(want);
                let behind = want.wrapping_sub(got);
                if ahead == 0 {
                    Seq::InOrder
                } else if ahead <= MAX_SEQUENCE_GAP {
                    Seq::Lost(ahead)
                } else if behind <= REORDER_WINDOW {
                    return Seq::Late;
                } else {
                    Seq::Reset
                }
            }
        };
        self.expected = Some(got.wrapping_add(advance));
        outcome
    }
}

/// Decodes NetFlow v5, v9 and IPFIX datagrams, keeping templates, sampling rates and
/// sequence numbers per exporter session. See the [module documentation](self).
#[derive(Debug, Default)]
pub struct Decoder {
    sessions: HashMap<SessionKey, Session>,
    flows: Vec<Flow>,
    stats: DecodeStats,
}

impl Decoder {
    /// A decoder that knows no exporter yet.
    pub fn new() -> Self {
        Decoder {
            sessions: HashMap::new(),
            flows: Vec::with_capacity(64),
            stats: DecodeStats::default(),
        }
    }

    /// Decodes one datagram received from `exporter`; the flows it carried (possibly
    /// none: a datagram of templates) borrow the decoder's buffer until the next call.
    /// A malformed datagram is counted and dropped: the error says why.
    pub fn decode(&mut self, exporter: SocketAddr, datagram: &[u8]) -> Result<&[Flow], DropReason> {
        self.flows.clear();
        self.stats.datagrams += 1;
        let result = match datagram.get(..2).map(|v| u16::from_be_bytes([v[0], v[1]])) {
            None => Err(DropReason::Truncated),
            Some(5) => {
                self.stats.by_version[0] += 1;
                v5::decode(self, exporter, datagram)
            }
            Some(9) => {
                self.stats.by_version[1] += 1;
                v9::decode(self, exporter, datagram)
            }
            Some(10) => {
                self.stats.by_version[2] += 1;
                ipfix::decode(self, exporter, datagram)
            }
            Some(_) => Err(DropReason::Version),
        };
        match result {
            Ok(()) => {
                self.stats.flows += self.flows.len() as u64;
                Ok(&self.flows)
            }
            Err(reason) => {
                self.flows.clear();
                self.stats.dropped[reason.index()] += 1;
                Err(reason)
            }
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Exporter sessions known now.
    pub fn exporters(&self) -> usize {
        self.sessions.len()
    }

    /// Templates known now, over all sessions.
    pub fn templates(&self) -> usize {
        self.sessions.values().map(|s| s.templates.len()).sum()
    }

    /// Counts a sequence check's outcome into the lost counter `lost`.
    fn count_sequence(stats: &mut DecodeStats, seq: Seq, lost: fn(&mut DecodeStats) -> &mut u64) {
        match seq {
            Seq::InOrder => {}
            Seq::Lost(n) => *lost(stats) += u64::from(n),
            Seq::Late => stats.reordered += 1,
            Seq::Reset => stats.sequence_resets += 1,
        }
    }
}

/// The session of `key` in `sessions`, made (evicting the idlest one if full) if new.
fn session<'s>(
    sessions: &'s mut HashMap<SessionKey, Session>,
    stats: &mut DecodeStats,
    key: SessionKey,
) -> &'s mut Session {
    let now = stats.datagrams;
    if !sessions.contains_key(&key) && sessions.len() >= MAX_EXPORTERS {
        let idlest = sessions
            .iter()
            .min_by_key(|(_, s)| s.last_used)
            .map(|(k, _)| *k);
        if let Some(k) = idlest {
            sessions.remove(&k);
            stats.exporters_evicted += 1;
        }
    }
    let s = sessions.entry(key).or_default();
    s.last_used = now;
    s
}

/// Big-endian reads that fail instead of panicking.
pub(crate) trait ReadBe {
    fn u8_at(&self, at: usize) -> Option<u8>;
    fn u16_at(&self, at: usize) -> Option<u16>;
    fn u32_at(&self, at: usize) -> Option<u32>;
}

impl ReadBe for [u8] {
    #[inline]
    fn u8_at(&self, at: usize) -> Option<u8> {
        self.get(at).copied()
    }
    #[inline]
    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.get(at..at.checked_add(2)?)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    #[inline]
    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.get(at..at.checked_add(4)?)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Multiplies the counts of `flow` by `rate` (when above 1), saturating.
#[inline]
fn apply_sampling(flow: &mut Flow, rate: u32) {
    if rate > 1 {
        flow.packets = flow.packets.saturating_mul(u64::from(rate));
        flow.bytes = flow.bytes.saturating_mul(u64::from(rate));
        flow.sampling = rate;
    } else {
        flow.sampling = 1;
    }
}

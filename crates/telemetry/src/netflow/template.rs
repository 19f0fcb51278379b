//! Templates shared by NetFlow v9 and IPFIX: what each field of a record means, and
//! decoding data records with them.
//!
//! A template is compiled once, when learnt, into a list of (kind, length) pairs: a
//! data record is then read field by field with one `match` on the kind, into a
//! [`Flow`] on the stack.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{
    apply_sampling, clamp_time, DropReason, Flow, MAX_FIELDS_PER_TEMPLATE,
    MAX_SAMPLERS_PER_EXPORTER,
};

/// The length IPFIX uses for a variable-length element (RFC 7011 §7).
pub(crate) const VARIABLE: u16 = 65_535;

/// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// What a field of a template means to the decoder; everything else is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// Not used (unknown, enterprise-specific, v9 scope, or of an unusable length).
    Skip,
    /// `sourceIPv4Address` (8).
    Src4,
    /// `destinationIPv4Address` (12).
    Dst4,
    /// `sourceIPv6Address` (27).
    Src6,
    /// `destinationIPv6Address` (28).
    Dst6,
    /// `sourceTransportPort` (7).
    SrcPort,
    /// `destinationTransportPort` (11).
    DstPort,
    /// `protocolIdentifier` (4).
    Proto,
    /// `tcpControlBits` (6); its low 8 bits.
    TcpFlags,
    /// `octetDeltaCount` (1).
    Bytes,
    /// `packetDeltaCount` (2).
    Packets,
    /// `octetTotalCount` (85), used when no delta count is given.
    BytesTotal,
    /// `packetTotalCount` (86), used when no delta count is given.
    PacketsTotal,
    /// `flowStartSysUpTime` / v9 `FIRST_SWITCHED` (22), milliseconds since boot.
    StartUptime,
    /// `flowEndSysUpTime` / v9 `LAST_SWITCHED` (21).
    EndUptime,
    /// `flowStartSeconds` (150).
    StartSec,
    /// `flowEndSeconds` (151).
    EndSec,
    /// `flowStartMilliseconds` (152).
    StartMs,
    /// `flowEndMilliseconds` (153).
    EndMs,
    /// `flowStartMicroseconds` (154), NTP format.
    StartNtp,
    /// `flowEndMicroseconds` (155) and `flowEndNanoseconds` (157), NTP format.
    EndNtp,
    /// `flowStartDeltaMicroseconds` (158), before the export time.
    StartDelta,
    /// `flowEndDeltaMicroseconds` (159).
    EndDelta,
    /// `icmpTypeCodeIPv4` (32) / `icmpTypeCodeIPv6` (139).
    IcmpTypeCode,
    /// `samplingInterval` / v9 `SAMPLING_INTERVAL` (34), and
    /// `samplerRandomInterval` / `FLOW_SAMPLER_RANDOM_INTERVAL` (50).
    SamplingInterval,
    /// `samplerId` / v9 `FLOW_SAMPLER_ID` (48), and `selectorId` (302).
    SamplerId,
    /// `samplingPacketInterval` (305).
    PacketInterval,
    /// `samplingPacketSpace` (306).
    PacketSpace,
    /// `systemInitTimeMilliseconds` (160).
    SysInit,
}

impl FieldKind {
    /// The kind of information element `id` (IANA IPFIX numbering, which v9 shares for
    /// these) of `len` bytes; fields of a length the decoder cannot use are skipped.
    pub fn of(id: u16, len: u16) -> FieldKind {
        use FieldKind::*;
        let kind = match id {
            8 => Src4,
            12 => Dst4,
            27 => Src6,
            28 => Dst6,
            7 => SrcPort,
            11 => DstPort,
            4 => Proto,
            6 => TcpFlags,
            1 => Bytes,
            2 => Packets,
            85 => BytesTotal,
            86 => PacketsTotal,
            22 => StartUptime,
            21 => EndUptime,
            150 => StartSec,
            151 => EndSec,
            152 => StartMs,
            153 => EndMs,
            154 | 156 => StartNtp,
            155 | 157 => EndNtp,
            158 => StartDelta,
            159 => EndDelta,
            32 | 139 => IcmpTypeCode,
            34 | 50 => SamplingInterval,
            48 | 302 => SamplerId,
            305 => PacketInterval,
            306 => PacketSpace,
            160 => SysInit,
            _ => return Skip,
        };
        let usable = match kind {
            Src4 | Dst4 => len == 4,
            Src6 | Dst6 => len == 16,
            StartNtp | EndNtp => len == 8,
            // Unsigned integers, possibly in reduced-size encoding (RFC 7011 §6.2).
            _ => (1..=8).contains(&len),
        };
        if usable {
            kind
        } else {
            Skip
        }
    }
}

/// One field of a compiled template.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub kind: FieldKind,
    /// Length in bytes, or [`VARIABLE`].
    pub len: u16,
}

/// A compiled template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub fields: Box<[Field]>,
    /// The shortest record (variable-length fields at their 1-byte minimum); never 0.
    pub min_len: usize,
    /// An options template: its records describe the exporter, not flows.
    pub options: bool,
}

impl Template {
    /// Compiles `fields` (id, length; scope fields of v9 options templates given as
    /// `Skip` by the caller).
    pub fn new(fields: Vec<Field>, options: bool) -> Result<Template, DropReason> {
        if fields.is_empty() || fields.len() > MAX_FIELDS_PER_TEMPLATE {
            return Err(DropReason::Template);
        }
        let min_len: usize = fields
            .iter()
            .map(|f| {
                if f.len == VARIABLE {
                    1
                } else {
                    usize::from(f.len)
                }
            })
            .sum();
        if min_len == 0 {
            return Err(DropReason::Template);
        }
        Ok(Template {
            fields: fields.into_boxed_slice(),
            min_len,
            options,
        })
    }
}

/// The times a message gives to resolve a record's times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Export time of the message, milliseconds since the epoch.
    pub export_ms: i64,
    /// The exporter's boot, milliseconds since the epoch, from the header (v9); else
    /// (IPFIX) the session's `systemInitTimeMilliseconds`.
    pub boot_ms: Option<i64>,
}

/// Counts of one data set.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SetCounts {
    /// Data records read (flows and options).
    pub records: u32,
    /// Options records read.
    pub options: u32,
    /// Flows timed at the export time for want of a boot time.
    pub untimed: u32,
}

#[inline]
fn uint(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x))
}

/// An unsigned field as a time quantity: values past `i64::MAX` saturate.
#[inline]
fn int(b: &[u8]) -> i64 {
    i64::try_from(uint(b)).unwrap_or(i64::MAX)
}

/// NTP timestamp (seconds since 1900 . fraction) to microseconds since 1970.
#[inline]
fn ntp_us(b: &[u8]) -> i64 {
    let v = uint(b);
    let secs = (v >> 32) as i64 - NTP_UNIX_OFFSET;
    let frac = ((v & 0xffff_ffff) * 1_000_000) >> 32;
    secs * 1_000_000 + frac as i64
}

/// Decodes the records of one data set (`body` without the set header) with
/// `template`, pushing flows to `out`; options records update `rates` at once (so
/// that the flows after them in the same datagram count at the announced rate).
/// Trailing bytes shorter than a record are padding.
pub(crate) fn decode_set(
    template: &Template,
    body: &[u8],
    clock: Clock,
    rates: &mut Rates,
    out: &mut Vec<Flow>,
) -> Result<SetCounts, DropReason> {
    let mut counts = SetCounts::default();
    let mut at = 0usize;
    while body.len().saturating_sub(at) >= template.min_len {
        let mut rec = Rec::default();
        for f in template.fields.iter() {
            let len = if f.len == VARIABLE {
                let first = *body.get(at).ok_or(DropReason::Record)?;
                at += 1;
                if first < 255 {
                    usize::from(first)
                } else {
                    let b = body.get(at..at + 2).ok_or(DropReason::Record)?;
                    at += 2;
                    usize::from(u16::from_be_bytes([b[0], b[1]]))
                }
            } else {
                usize::from(f.len)
            };
            let v = body.get(at..at + len).ok_or(DropReason::Record)?;
            at += len;
            if f.kind != FieldKind::Skip {
                rec.set(f.kind, v);
            }
        }
        counts.records += 1;
        if template.options {
            counts.options += 1;
            rates.take(&rec);
        } else {
            let rate = if rec.sampling > 0 {
                rec.sampling
            } else if let Some(r) = rec.sampler.and_then(|id| rates.samplers.get(&id)) {
                *r
            } else {
                rates.sampling
            };
            let boot_ms = clock.boot_ms.or(rates.sys_init_ms);
            if let Some(mut flow) = rec.flow(clock.export_ms, boot_ms, &mut counts) {
                apply_sampling(&mut flow, rate);
                out.push(flow);
            }
        }
    }
    Ok(counts)
}

/// The fields of one data record, as read.
#[derive(Debug, Default, Clone, Copy)]
struct Rec {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    src_port: u16,
    dst_port: u16,
    icmp: u16,
    proto: u8,
    tcp_flags: u8,
    bytes: Option<u64>,
    packets: Option<u64>,
    bytes_total: u64,
    packets_total: u64,
    start_up: Option<i64>,
    end_up: Option<i64>,
    start_us: Option<i64>,
    end_us: Option<i64>,
    start_delta: Option<i64>,
    end_delta: Option<i64>,
    sampling: u32,
    sampler: Option<u64>,
    packet_interval: u64,
    packet_space: u64,
    sys_init: Option<i64>,
}

impl Rec {
    #[inline]
    fn set(&mut self, kind: FieldKind, v: &[u8]) {
        use FieldKind::*;
        match kind {
            Skip => {}
            Src4 | Dst4 => {
                let mut a = [0u8; 4];
                a.copy_from_slice(v);
                let ip = IpAddr::V4(Ipv4Addr::from(a));
                if kind == Src4 {
                    self.src = Some(ip);
                } else {
                    self.dst = Some(ip);
                }
            }
            Src6 | Dst6 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(v);
                let ip = IpAddr::V6(Ipv6Addr::from(a));
                if kind == Src6 {
                    self.src = Some(ip);
                } else {
                    self.dst = Some(ip);
                }
            }
            SrcPort => self.src_port = uint(v) as u16,
            DstPort => self.dst_port = uint(v) as u16,
            IcmpTypeCode => self.icmp = uint(v) as u16,
            Proto => self.proto = uint(v) as u8,
            TcpFlags => self.tcp_flags = uint(v) as u8,
            Bytes => self.bytes = Some(uint(v)),
            Packets => self.packets = Some(uint(v)),
            BytesTotal => self.bytes_total = uint(v),
            PacketsTotal => self.packets_total = uint(v),
            StartUptime => self.start_up = Some(int(v)),
            EndUptime => self.end_up = Some(int(v)),
            StartSec => self.start_us = Some(int(v).saturating_mul(1_000_000)),
            EndSec => self.end_us = Some(int(v).saturating_mul(1_000_000)),
            StartMs => self.start_us = Some(int(v).saturating_mul(1_000)),
            EndMs => self.end_us = Some(int(v).saturating_mul(1_000)),
            StartNtp => self.start_us = Some(ntp_us(v)),
            EndNtp => self.end_us = Some(ntp_us(v)),
            StartDelta => self.start_delta = Some(int(v)),
            EndDelta => self.end_delta = Some(int(v)),
            SamplingInterval => self.sampling = uint(v).min(u64::from(u32::MAX)) as u32,
            SamplerId => self.sampler = Some(uint(v)),
            PacketInterval => self.packet_interval = uint(v),
            PacketSpace => self.packet_space = uint(v),
            SysInit => self.sys_init = Some(int(v)),
        }
    }

    /// The flow this record describes; `None` without both addresses.
    #[inline]
    fn flow(&self, export_ms: i64, boot_ms: Option<i64>, counts: &mut SetCounts) -> Option<Flow> {
        let (src, dst) = (self.src?, self.dst?);
        let export_us = export_ms.saturating_mul(1000);
        let mut untimed = false;
        let mut time = |abs: Option<i64>, up: Option<i64>, delta: Option<i64>| -> Option<i64> {
            if let Some(t) = abs {
                return Some(t);
            }
            if let Some(ms) = up {
                return match boot_ms {
                    Some(boot) => Some(boot.saturating_add(ms).saturating_mul(1000)),
                    None => {
                        untimed = true;
                        Some(export_us)
                    }
                };
            }
            delta.map(|d| export_us.saturating_sub(d))
        };
        let start = time(self.start_us, self.start_up, self.start_delta);
        let end = time(self.end_us, self.end_up, self.end_delta);
        if untimed {
            counts.untimed += 1;
        }
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s),
            (None, Some(e)) => (e, e),
            (None, None) => (export_us, export_us),
        };
        let dst_port = if self.dst_port == 0 && matches!(self.proto, 1 | 58) {
            self.icmp
        } else {
            self.dst_port
        };
        Some(Flow {
            start: clamp_time(start),
            end: clamp_time(end),
            src,
            dst,
            src_port: self.src_port,
            dst_port,
            proto: self.proto,
            tcp_flags: self.tcp_flags,
            packets: self.packets.unwrap_or(self.packets_total),
            bytes: self.bytes.unwrap_or(self.bytes_total),
            sampling: 1,
        })
    }
}

/// What options records announced to a session: sampling rates and the exporter's
/// boot time.
#[derive(Debug, Default)]
pub(crate) struct Rates {
    /// Session-wide sampling rate (0 = none announced).
    pub sampling: u32,
    /// Sampling rate per sampler / selector id.
    pub samplers: HashMap<u64, u32>,
    /// IPFIX `systemInitTimeMilliseconds`.
    pub sys_init_ms: Option<i64>,
}

impl Rates {
    fn take(&mut self, rec: &Rec) {
        let mut rate = rec.sampling;
        if rate == 0 && rec.packet_interval > 0 {
            let r = (rec.packet_interval.saturating_add(rec.packet_space)) / rec.packet_interval;
            rate = r.min(u64::from(u32::MAX)) as u32;
        }
        if rate > 0 {
            match rec.sampler {
                Some(id) => {
                    if self.samplers.len() < MAX_SAMPLERS_PER_EXPORTER
                        || self.samplers.contains_key(&id)
                    {
                        self.samplers.insert(id, rate);
                    }
                }
                None => self.sampling = rate,
            }
        }
        if let Some(t) = rec.sys_init {
            self.sys_init_ms = Some(t);
        }
    }
}

//! NetFlow v5: a 24-byte header and fixed 48-byte IPv4 flow records.
//!
//! Header: version, count, sysUptime (ms), unix_secs, unix_nsecs, flow_sequence (flows
//! sent before this datagram), engine_type, engine_id, sampling_interval (2 bits of
//! mode, 14 bits of interval). Record: srcaddr, dstaddr, nexthop, input, output,
//! dPkts, dOctets, First and Last (sysUptime at the first and last packet), srcport,
//! dstport, pad, tcp_flags, prot, tos, src_as, dst_as, masks, pad.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{
    apply_sampling, clamp_time, DecodeStats, Decoder, DropReason, Flow, ReadBe, SessionKey,
};

/// Header length.
pub(crate) const HEADER: usize = 24;
/// Record length.
pub(crate) const RECORD: usize = 48;

pub(super) fn decode(d: &mut Decoder, exporter: SocketAddr, b: &[u8]) -> Result<(), DropReason> {
    if b.len() < HEADER {
        return Err(DropReason::Truncated);
    }
    let count = b.u16_at(2).ok_or(DropReason::Truncated)? as usize;
    let uptime = i64::from(b.u32_at(4).ok_or(DropReason::Truncated)?);
    let secs = i64::from(b.u32_at(8).ok_or(DropReason::Truncated)?);
    let nsecs = i64::from(b.u32_at(12).ok_or(DropReason::Truncated)?);
    let sequence = b.u32_at(16).ok_or(DropReason::Truncated)?;
    let engine = b.u16_at(20).ok_or(DropReason::Truncated)?;
    let sampling = b.u16_at(22).ok_or(DropReason::Truncated)? & 0x3fff;
    if b.len() < HEADER + count * RECORD {
        return Err(DropReason::Length);
    }
    // The exporter's boot, in milliseconds since the epoch: record times are sysUptime.
    let boot_ms = secs * 1000 + nsecs / 1_000_000 - uptime;
    let key = SessionKey {
        exporter,
        version: 5,
        domain: u32::from(engine),
    };
    let seq = super::session(&mut d.sessions, &mut d.stats, key).sequence(sequence, count as u32);
    Decoder::count_sequence(&mut d.stats, seq, |s: &mut DecodeStats| {
        &mut s.lost_v5_flows
    });
    let rate = u32::from(sampling);
    for r in b
        .get(HEADER..HEADER + count * RECORD)
        .unwrap_or(&[])
        .chunks_exact(RECORD)
    {
        let ip = |at: usize| IpAddr::V4(Ipv4Addr::from(r.u32_at(at).unwrap_or(0)));
        let ms = |at: usize| clamp_time((boot_ms + i64::from(r.u32_at(at).unwrap_or(0))) * 1000);
        let mut flow = Flow {
            start: ms(24),
            end: ms(28),
            src: ip(0),
            dst: ip(4),
            src_port: r.u16_at(32).unwrap_or(0),
            dst_port: r.u16_at(34).unwrap_or(0),
            proto: r.u8_at(38).unwrap_or(0),
            tcp_flags: r.u8_at(37).unwrap_or(0),
            packets: u64::from(r.u32_at(16).unwrap_or(0)),
            bytes: u64::from(r.u32_at(20).unwrap_or(0)),
            sampling: 1,
        };
        apply_sampling(&mut flow, rate);
        d.flows.push(flow);
    }
    Ok(())
}

//! Encoding flows as NetFlow v5, v9 and IPFIX datagrams: the inverse of the decoder,
//! for tests, benchmarks, fuzzing seeds and traffic generators.
//!
//! The v9 and IPFIX encoders use two templates: 256 for IPv4 flows and 257 for IPv6
//! flows, each with addresses, ports, protocol, TCP flags, 64-bit packet and byte
//! counts, and times (v9: `FIRST_SWITCHED`/`LAST_SWITCHED` relative to the header's
//! uptime; IPFIX: `flowStartMilliseconds`/`flowEndMilliseconds`). Times are kept to the
//! millisecond.

use std::net::IpAddr;

use super::Flow;

/// Template id of the IPv4 flow template.
pub const TEMPLATE_V4: u16 = 256;
/// Template id of the IPv6 flow template.
pub const TEMPLATE_V6: u16 = 257;

/// Fields (IANA element id, length) of the v9 templates; the address fields first.
fn fields(v6: bool, ipfix: bool) -> Vec<(u16, u16)> {
    let (src, dst, alen) = if v6 { (27, 28, 16) } else { (8, 12, 4) };
    let mut f = vec![
        (src, alen),
        (dst, alen),
        (7, 2),
        (11, 2),
        (4, 1),
        (6, 1),
        (2, 8),
        (1, 8),
    ];
    if ipfix {
        f.extend([(152, 8), (153, 8)]);
    } else {
        f.extend([(22, 4), (21, 4)]);
    }
    f
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

/// A NetFlow v5 datagram of the IPv4 `flows` (others are left out; at most 30 are
/// written, the format's maximum), exported at `unix_secs` by an exporter up for
/// `uptime_ms`. Times are written relative to the exporter's boot (`unix_secs` × 1000
/// − `uptime_ms`), modulo 2³² ms; packet and byte counts are cut to 32 bits.
pub fn v5(uptime_ms: u32, unix_secs: u32, sequence: u32, sampling: u16, flows: &[Flow]) -> Vec<u8> {
    let flows: Vec<&Flow> = flows
        .iter()
        .filter(|f| f.src.is_ipv4() && f.dst.is_ipv4())
        .take(30)
        .collect();
    let boot_ms = i64::from(unix_secs) * 1000 - i64::from(uptime_ms);
    let mut out = Vec::with_capacity(24 + 48 * flows.len());
    put16(&mut out, 5);
    put16(&mut out, flows.len() as u16);
    put32(&mut out, uptime_ms);
    put32(&mut out, unix_secs);
    put32(&mut out, 0);
    put32(&mut out, sequence);
    put16(&mut out, 0);
    put16(&mut out, sampling);
    for f in flows {
        put_ip(&mut out, f.src);
        put_ip(&mut out, f.dst);
        put32(&mut out, 0); // next hop
        put32(&mut out, 0); // input, output interfaces
        put32(&mut out, f.packets as u32);
        put32(&mut out, f.bytes as u32);
        put32(&mut out, (f.start.div_euclid(1000) - boot_ms) as u32);
        put32(&mut out, (f.end.div_euclid(1000) - boot_ms) as u32);
        put16(&mut out, f.src_port);
        put16(&mut out, f.dst_port);
        out.extend_from_slice(&[0, f.tcp_flags, f.proto, 0]);
        out.extend_from_slice(&[0; 8]); // AS numbers, masks, padding
    }
    out
}

/// Writes the template records of both templates (without a set header).
fn template_records(out: &mut Vec<u8>, ipfix: bool) {
    for (id, v6) in [(TEMPLATE_V4, false), (TEMPLATE_V6, true)] {
        let f = fields(v6, ipfix);
        put16(out, id);
        put16(out, f.len() as u16);
        for (ty, len) in f {
            put16(out, ty);
            put16(out, len);
        }
    }
}

/// Writes one data record of `f`; `base_ms` is the time origin (v9: boot; IPFIX: 0).
fn data_record(out: &mut Vec<u8>, f: &Flow, ipfix: bool, base_ms: i64) {
    put_ip(out, f.src);
    put_ip(out, f.dst);
    put16(out, f.src_port);
    put16(out, f.dst_port);
    out.extend_from_slice(&[f.proto, f.tcp_flags]);
    out.extend_from_slice(&f.packets.to_be_bytes());
    out.extend_from_slice(&f.bytes.to_be_bytes());
    let (s, e) = (f.start.div_euclid(1000), f.end.div_euclid(1000));
    if ipfix {
        out.extend_from_slice(&(s as u64).to_be_bytes());
        out.extend_from_slice(&(e as u64).to_be_bytes());
    } else {
        put32(out, (s - base_ms) as u32);
        put32(out, (e - base_ms) as u32);
    }
}

/// Writes the data sets of `flows` (IPv4, then IPv6), each under its template id.
fn data_sets(out: &mut Vec<u8>, flows: &[Flow], ipfix: bool, base_ms: i64) {
    for (id, v6) in [(TEMPLATE_V4, false), (TEMPLATE_V6, true)] {
        let mine = flows
            .iter()
            .filter(|f| f.src.is_ipv6() == v6 && f.dst.is_ipv6() == v6);
        let start = out.len();
        put16(out, id);
        put16(out, 0);
        let mut any = false;
        for f in mine {
            data_record(out, f, ipfix, base_ms);
            any = true;
        }
        if any {
            let len = (out.len() - start) as u16;
            out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
        } else {
            out.truncate(start);
        }
    }
}

/// A NetFlow v9 datagram: the two templates (when `with_templates`) and the data
/// flowsets of `flows` whose addresses are of one family (mixed ones are left out).
/// Keep it under 65,535 bytes: about 800 IPv4 flows.
pub fn v9(
    source_id: u32,
    sequence: u32,
    unix_secs: u32,
    uptime_ms: u32,
    flows: &[Flow],
    with_templates: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + 50 * flows.len());
    put16(&mut out, 9);
    put16(&mut out, 0); // count, set below
    put32(&mut out, uptime_ms);
    put32(&mut out, unix_secs);
    put32(&mut out, sequence);
    put32(&mut out, source_id);
    if with_templates {
        let start = out.len();
        put16(&mut out, 0);
        put16(&mut out, 0);
        template_records(&mut out, false);
        let len = (out.len() - start) as u16;
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    let boot_ms = i64::from(unix_secs) * 1000 - i64::from(uptime_ms);
    data_sets(&mut out, flows, false, boot_ms);
    let records = flows.len() as u16 + if with_templates { 2 } else { 0 };
    out[2..4].copy_from_slice(&records.to_be_bytes());
    out
}

/// An IPFIX message: the two templates (when `with_templates`) and the data sets of
/// `flows`. `sequence` is the number of data records sent before it in the domain.
pub fn ipfix(
    domain: u32,
    sequence: u32,
    export_secs: u32,
    flows: &[Flow],
    with_templates: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + 60 * flows.len());
    put16(&mut out, 10);
    put16(&mut out, 0); // length, set below
    put32(&mut out, export_secs);
    put32(&mut out, sequence);
    put32(&mut out, domain);
    if with_templates {
        let start = out.len();
        put16(&mut out, 2);
        put16(&mut out, 0);
        template_records(&mut out, true);
        let len = (out.len() - start) as u16;
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    data_sets(&mut out, flows, true, 0);
    let len = out.len() as u16;
    out[2..4].copy_from_slice(&len.to_be_bytes());
    out
}

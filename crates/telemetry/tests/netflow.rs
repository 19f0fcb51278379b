//! NetFlow v5/v9 and IPFIX decoding: hand-built datagrams, limits, hostile input, and
//! generated packets round-tripped through the encoder.

use std::net::{IpAddr, SocketAddr};

use accord_telemetry::netflow::{
    encode, Decoder, DropReason, Flow, MAX_EXPORTERS, MAX_FIELDS_PER_TEMPLATE,
    MAX_TEMPLATES_PER_EXPORTER, MAX_TIME,
};
use proptest::prelude::*;

const EXPORTER: &str = "192.0.2.1:2055";
const T0: i64 = 1_700_000_000; // export time, seconds

fn exporter() -> SocketAddr {
    EXPORTER.parse().unwrap()
}

fn flow(src: &str, dst: &str, start_ms: i64, end_ms: i64) -> Flow {
    Flow {
        start: start_ms * 1000,
        end: end_ms * 1000,
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        src_port: 40_000,
        dst_port: 443,
        proto: 6,
        tcp_flags: 0x1b,
        packets: 10,
        bytes: 1_500,
        sampling: 1,
    }
}

fn be16(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

/// An IPFIX message of `sets` (id, body).
fn ipfix(seq: u32, domain: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend(be16(10));
    m.extend(be16(0));
    m.extend((T0 as u32).to_be_bytes());
    m.extend(seq.to_be_bytes());
    m.extend(domain.to_be_bytes());
    for (id, body) in sets {
        m.extend(be16(*id));
        m.extend(be16(body.len() as u16 + 4));
        m.extend(body);
    }
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

/// A v9 packet of `sets`.
fn v9(seq: u32, uptime_ms: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend(be16(9));
    m.extend(be16(sets.len() as u16));
    m.extend(uptime_ms.to_be_bytes());
    m.extend((T0 as u32).to_be_bytes());
    m.extend(seq.to_be_bytes());
    m.extend(0u32.to_be_bytes());
    for (id, body) in sets {
        m.extend(be16(*id));
        m.extend(be16(body.len() as u16 + 4));
        m.extend(body);
    }
    m
}

/// A template record: id, then (element, length) pairs.
fn template(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(be16(id));
    t.extend(be16(fields.len() as u16));
    for (e, l) in fields {
        t.extend(be16(*e));
        t.extend(be16(*l));
    }
    t
}

const V4_FIELDS: &[(u16, u16)] = &[(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 4), (1, 4)];

fn v4_record(src: [u8; 4], dst: [u8; 4], packets: u32, bytes: u32) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend(src);
    r.extend(dst);
    r.extend(be16(1234));
    r.extend(be16(53));
    r.push(17);
    r.extend(packets.to_be_bytes());
    r.extend(bytes.to_be_bytes());
    r
}

#[test]
fn v5_times_counts_sampling_and_flow_sequence() {
    let f = flow(
        "10.0.0.1",
        "198.51.100.7",
        T0 * 1000 - 5_000,
        T0 * 1000 - 1_000,
    );
    let mut d = Decoder::new();
    // Sampling mode 1, interval 10: counts times ten.
    let first = encode::v5(3_600_000, T0 as u32, 100, 0x4000 | 10, &[f, f]);
    let got = d.decode(exporter(), &first).unwrap().to_vec();
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].start, got[0].end), (f.start, f.end));
    assert_eq!(
        (got[0].packets, got[0].bytes, got[0].sampling),
        (100, 15_000, 10)
    );
    assert_eq!(
        (got[0].src, got[0].dst_port, got[0].tcp_flags),
        (f.src, 443, 0x1b)
    );
    // v5 counts flows: after 100 + 2 comes 102; 107 means 5 flows were lost.
    d.decode(exporter(), &encode::v5(3_600_000, T0 as u32, 102, 0, &[f]))
        .unwrap();
    assert_eq!(d.stats().lost_v5_flows, 0);
    d.decode(exporter(), &encode::v5(3_600_000, T0 as u32, 108, 0, &[f]))
        .unwrap();
    assert_eq!(d.stats().lost_v5_flows, 5);
    // Shorter than its count says.
    assert_eq!(
        d.decode(exporter(), &first[..first.len() - 1]),
        Err(DropReason::Length)
    );
}

#[test]
fn v9_templates_options_sampling_and_packet_sequence() {
    let mut d = Decoder::new();
    let data = (300u16, v4_record([10, 0, 0, 2], [192, 0, 2, 53], 3, 200));
    // Data before its template: skipped and counted, not an error.
    assert_eq!(
        d.decode(exporter(), &v9(1, 10_000, std::slice::from_ref(&data)))
            .unwrap()
            .len(),
        0
    );
    assert_eq!(d.stats().unknown_template_sets, 1);
    // Options template (scope: interface 4 bytes; option: SAMPLING_INTERVAL 4 bytes)
    // and its record: 1 in 100.
    let mut opt = Vec::new();
    opt.extend(be16(301));
    opt.extend(be16(4));
    opt.extend(be16(4));
    opt.extend([0, 2, 0, 4, 0, 34, 0, 4]);
    let mut opt_rec = vec![0, 0, 0, 1];
    opt_rec.extend(100u32.to_be_bytes());
    let p = v9(
        2,
        10_000,
        &[
            (0, template(300, V4_FIELDS)),
            (1, opt),
            (301, opt_rec),
            data.clone(),
        ],
    );
    let flows = d.decode(exporter(), &p).unwrap().to_vec();
    assert_eq!(flows.len(), 1);
    assert_eq!(
        (flows[0].packets, flows[0].bytes, flows[0].sampling),
        (300, 20_000, 100)
    );
    assert_eq!(flows[0].src, IpAddr::from([10, 0, 0, 2]));
    assert_eq!(d.stats().options_records, 1);
    // v9 counts packets: 2 then 5 is two lost packets.
    d.decode(exporter(), &v9(5, 10_000, std::slice::from_ref(&data)))
        .unwrap();
    assert_eq!(d.stats().lost_v9_packets, 2);
    // A late packet is counted as reordered, not as loss, and does not move the count.
    d.decode(exporter(), &v9(4, 10_000, std::slice::from_ref(&data)))
        .unwrap();
    d.decode(exporter(), &v9(6, 10_000, &[data])).unwrap();
    assert_eq!((d.stats().reordered, d.stats().lost_v9_packets), (1, 2));
}

#[test]
fn v9_first_last_switched_are_relative_to_the_header_uptime() {
    let mut d = Decoder::new();
    let fields = [(8, 4), (12, 4), (22, 4), (21, 4)];
    let mut rec = vec![10, 0, 0, 1, 192, 0, 2, 1];
    rec.extend(4_000u32.to_be_bytes());
    rec.extend(9_500u32.to_be_bytes());
    let p = v9(0, 10_000, &[(0, template(256, &fields)), (256, rec)]);
    let f = d.decode(exporter(), &p).unwrap()[0];
    // Boot = T0 s - 10 s; first = boot + 4 s.
    assert_eq!(f.start, (T0 * 1000 - 6_000) * 1000);
    assert_eq!(f.end, (T0 * 1000 - 500) * 1000);
}

#[test]
fn ipfix_sequence_counts_data_records() {
    let mut d = Decoder::new();
    let recs = |n: usize| {
        let mut b = Vec::new();
        for _ in 0..n {
            b.extend(v4_record([10, 0, 0, 9], [192, 0, 2, 9], 1, 60));
        }
        (256u16, b)
    };
    // Message 1: a template (not counted) and 3 records; sequence 0.
    assert_eq!(
        d.decode(
            exporter(),
            &ipfix(0, 7, &[(2, template(256, V4_FIELDS)), recs(3)])
        )
        .unwrap()
        .len(),
        3
    );
    // Next expected: 3. It comes, with 2 records: next 5.
    d.decode(exporter(), &ipfix(3, 7, &[recs(2)])).unwrap();
    assert_eq!(d.stats().lost_ipfix_records, 0);
    // 9 instead of 5: 4 records lost (not 1 message).
    d.decode(exporter(), &ipfix(9, 7, &[recs(1)])).unwrap();
    assert_eq!(d.stats().lost_ipfix_records, 4);
    // Another observation domain of the same exporter has its own templates and count.
    d.decode(exporter(), &ipfix(1000, 8, &[recs(1)])).unwrap();
    assert_eq!(
        (
            d.stats().unknown_template_sets,
            d.stats().lost_ipfix_records
        ),
        (1, 4)
    );
}

#[test]
fn ipfix_withdrawal_one_and_all() {
    let mut d = Decoder::new();
    let data = (256u16, v4_record([10, 0, 0, 9], [192, 0, 2, 9], 1, 60));
    let data2 = (257u16, data.1.clone());
    let defs = ipfix(
        0,
        1,
        &[(
            2,
            [template(256, V4_FIELDS), template(257, V4_FIELDS)].concat(),
        )],
    );
    d.decode(exporter(), &defs).unwrap();
    assert_eq!(d.templates(), 2);
    // Withdraw 256 only.
    d.decode(exporter(), &ipfix(0, 1, &[(2, vec![1, 0, 0, 0])]))
        .unwrap();
    assert_eq!(
        d.decode(exporter(), &ipfix(0, 1, &[data.clone(), data2.clone()]))
            .unwrap()
            .len(),
        1
    );
    // Withdraw all data templates: template id 2 with count 0.
    d.decode(exporter(), &ipfix(0, 1, &[(2, vec![0, 2, 0, 0])]))
        .unwrap();
    assert_eq!(d.templates(), 0);
    assert_eq!(d.stats().templates_withdrawn, 2);
    assert_eq!(
        d.decode(exporter(), &ipfix(0, 1, &[data2])).unwrap().len(),
        0
    );
    // Refresh: redefining replaces (here with the fields in another order).
    let swapped = [(12, 4), (8, 4), (7, 2), (11, 2), (4, 1), (2, 4), (1, 4)];
    d.decode(exporter(), &defs).unwrap();
    d.decode(exporter(), &ipfix(0, 1, &[(2, template(256, &swapped))]))
        .unwrap();
    let f = d.decode(exporter(), &ipfix(0, 1, &[data])).unwrap()[0];
    assert_eq!(
        (f.src, f.dst),
        (IpAddr::from([192, 0, 2, 9]), IpAddr::from([10, 0, 0, 9]))
    );
}

#[test]
fn ipfix_variable_length_and_enterprise_elements_are_skipped() {
    let mut d = Decoder::new();
    // 8, enterprise element (PEN 9) of 4 bytes, variable-length 82 (interfaceName),
    // 12, variable-length enterprise element, packetDeltaCount.
    let mut t = Vec::new();
    t.extend(be16(400));
    t.extend(be16(6));
    t.extend([0, 8, 0, 4]);
    t.extend([0x80, 5, 0, 4, 0, 0, 0, 9]);
    t.extend([0, 82, 0xff, 0xff]);
    t.extend([0, 12, 0, 4]);
    t.extend([0x80, 6, 0xff, 0xff, 0, 0, 0, 9]);
    t.extend([0, 2, 0, 8]);
    let record = |pk: u64| {
        let mut r = vec![10, 1, 1, 1, 0xde, 0xad, 0xbe, 0xef];
        r.push(4);
        r.extend(b"eth0");
        r.extend([192, 0, 2, 44]);
        r.push(255); // 3-byte length form
        r.extend(be16(300));
        r.extend([b'x'; 300]);
        r.extend(pk.to_be_bytes());
        r
    };
    let body = [record(7), record(8), vec![0, 0, 0]].concat(); // 3 bytes of padding
    let flows = d
        .decode(exporter(), &ipfix(0, 1, &[(2, t), (400, body)]))
        .unwrap()
        .to_vec();
    assert_eq!(flows.len(), 2);
    assert_eq!(
        (flows[0].dst, flows[0].packets, flows[1].packets),
        (IpAddr::from([192, 0, 2, 44]), 7, 8)
    );
    // A variable-length field that claims more than the set holds drops the message.
    let mut bad = record(1);
    bad.truncate(24); // past the shortest record (22), inside the 300-byte field
    assert_eq!(
        d.decode(exporter(), &ipfix(0, 1, &[(400, bad)])),
        Err(DropReason::Record)
    );
    assert_eq!(d.stats().dropped(DropReason::Record), 1);
}

#[test]
fn ipfix_sampling_per_selector_and_system_init_time() {
    let mut d = Decoder::new();
    // Options template 500: scope selectorId (302, 2 bytes), then samplingPacketInterval
    // (305) and samplingPacketSpace (306): 1 packet of every 1 + 49.
    let mut ot = Vec::new();
    ot.extend(be16(500));
    ot.extend(be16(3));
    ot.extend(be16(1));
    ot.extend([1, 46, 0, 2, 1, 49, 0, 4, 1, 50, 0, 4]);
    let mut orec = be16(3).to_vec();
    orec.extend(1u32.to_be_bytes());
    orec.extend(49u32.to_be_bytes());
    // Options template 501: systemInitTimeMilliseconds (160).
    let mut it = Vec::new();
    it.extend(be16(501));
    it.extend(be16(1));
    it.extend(be16(1));
    it.extend([0, 160, 0, 8]);
    let boot_ms = T0 * 1000 - 60_000;
    let irec = (boot_ms as u64).to_be_bytes().to_vec();
    // Data template 256: addresses, selectorId, packets, bytes, start/end uptime.
    let dt = template(
        256,
        &[(8, 4), (12, 4), (302, 2), (2, 4), (1, 4), (22, 4), (21, 4)],
    );
    let mut rec = vec![10, 0, 0, 5, 203, 0, 113, 5];
    rec.extend(be16(3));
    rec.extend(2u32.to_be_bytes());
    rec.extend(100u32.to_be_bytes());
    rec.extend(1_000u32.to_be_bytes());
    rec.extend(2_000u32.to_be_bytes());
    let m = ipfix(
        0,
        1,
        &[
            (3, [ot, it].concat()),
            (2, dt),
            (500, orec),
            (501, irec),
            (256, rec),
        ],
    );
    let f = d.decode(exporter(), &m).unwrap()[0];
    assert_eq!((f.packets, f.bytes, f.sampling), (100, 5_000, 50));
    assert_eq!(
        (f.start, f.end),
        ((boot_ms + 1_000) * 1000, (boot_ms + 2_000) * 1000)
    );
    assert_eq!(d.stats().untimed_flows, 0);
}

#[test]
fn malformed_datagrams_are_counted_by_reason_and_dropped() {
    let mut d = Decoder::new();
    let e = exporter();
    assert_eq!(d.decode(e, &[0]), Err(DropReason::Truncated));
    assert_eq!(d.decode(e, &[0, 7, 0, 0]), Err(DropReason::Version));
    assert_eq!(
        d.decode(e, &ipfix(0, 1, &[])[..10]),
        Err(DropReason::Truncated)
    );
    // A set whose length runs past the message.
    let mut m = ipfix(0, 1, &[(256, vec![0; 8])]);
    m[18..20].copy_from_slice(&be16(200));
    assert_eq!(d.decode(e, &m), Err(DropReason::SetLength));
    // A set length below its header.
    let mut m = v9(0, 0, &[(0, vec![])]);
    m[22..24].copy_from_slice(&be16(2));
    assert_eq!(d.decode(e, &m), Err(DropReason::SetLength));
    // Template ids below 256, too many fields, records of length zero.
    assert_eq!(
        d.decode(e, &ipfix(0, 1, &[(2, template(255, V4_FIELDS))])),
        Err(DropReason::Template)
    );
    let many: Vec<(u16, u16)> = (0..=MAX_FIELDS_PER_TEMPLATE as u16)
        .map(|i| (1000 + i, 1))
        .collect();
    assert_eq!(
        d.decode(e, &ipfix(0, 1, &[(2, template(256, &many))])),
        Err(DropReason::Template)
    );
    assert_eq!(
        d.decode(e, &v9(0, 0, &[(0, template(256, &[(8, 0)]))])),
        Err(DropReason::Template)
    );
    // Options template whose scope count exceeds its field count.
    assert_eq!(
        d.decode(e, &ipfix(0, 1, &[(3, vec![1, 0, 0, 1, 0, 2, 0, 8, 0, 4])])),
        Err(DropReason::Template)
    );
    assert_eq!(d.stats().dropped_total(), 9);
    assert_eq!(d.stats().dropped(DropReason::Template), 4);
    // The decoder goes on.
    let ok = encode::ipfix(
        1,
        0,
        T0 as u32,
        &[flow("10.0.0.1", "192.0.2.1", 1, 2)],
        true,
    );
    assert_eq!(d.decode(e, &ok).unwrap().len(), 1);
}

#[test]
fn hostile_times_are_clamped() {
    let mut d = Decoder::new();
    // flowStartSeconds = 2^64 - 1, flowEndMilliseconds = 2^63: far past the year 9999.
    let t = template(256, &[(8, 4), (12, 4), (150, 8), (153, 8)]);
    let mut rec = vec![10, 0, 0, 1, 192, 0, 2, 1];
    rec.extend(u64::MAX.to_be_bytes());
    rec.extend((1u64 << 63).to_be_bytes());
    let f = d
        .decode(exporter(), &ipfix(0, 1, &[(2, t), (256, rec)]))
        .unwrap()[0];
    assert_eq!((f.start, f.end), (MAX_TIME, MAX_TIME));
    // v5 times before the epoch (an exporter whose clock says 1970 and has been up long).
    let early = encode::v5(u32::MAX, 0, 0, 0, &[flow("10.0.0.1", "192.0.2.1", 0, 0)]);
    let f = d.decode(exporter(), &early).unwrap()[0];
    assert!(f.start >= 0 && f.end >= 0, "{f:?}");
}

#[test]
fn template_and_exporter_limits() {
    let mut d = Decoder::new();
    let e = exporter();
    let n = MAX_TEMPLATES_PER_EXPORTER as u16;
    let all: Vec<u8> = (0..n).flat_map(|i| template(256 + i, V4_FIELDS)).collect();
    d.decode(e, &ipfix(0, 1, &[(2, all)])).unwrap();
    assert_eq!(d.templates(), MAX_TEMPLATES_PER_EXPORTER);
    assert_eq!(
        d.decode(e, &ipfix(0, 1, &[(2, template(256 + n, V4_FIELDS))])),
        Err(DropReason::TemplateLimit)
    );
    // Redefining a known id is always allowed.
    d.decode(e, &ipfix(0, 1, &[(2, template(256, V4_FIELDS))]))
        .unwrap();
    // Sessions past MAX_EXPORTERS evict the idlest.
    let f = [flow("10.0.0.1", "192.0.2.1", 1, 2)];
    for i in 0..MAX_EXPORTERS {
        let from = SocketAddr::from(([198, 18, (i >> 8) as u8, i as u8], 9));
        d.decode(from, &encode::v5(0, T0 as u32, 0, 0, &f)).unwrap();
    }
    assert_eq!(d.exporters(), MAX_EXPORTERS);
    assert_eq!(d.stats().exporters_evicted, 1);
    assert_eq!(
        d.templates(),
        0,
        "the idlest session was the one with the templates"
    );
}

fn arb_flow(v6: bool) -> impl Strategy<Value = Flow> {
    let addr = move || -> BoxedStrategy<IpAddr> {
        if v6 {
            any::<[u8; 16]>().prop_map(IpAddr::from).boxed()
        } else {
            any::<[u8; 4]>().prop_map(IpAddr::from).boxed()
        }
    };
    (
        (0i64..3_000_000, 0i64..3_000_000),
        addr(),
        addr(),
        any::<(u16, u16, u8, u8)>(),
        (any::<u32>(), any::<u32>()),
    )
        .prop_map(
            |((s, dur), src, dst, (sp, dp, proto, flags), (pk, by))| Flow {
                // Milliseconds within an hour before the export time.
                start: (T0 * 1000 - 3_600_000 + s) * 1000,
                end: (T0 * 1000 - 3_600_000 + s + dur / 10) * 1000,
                src,
                dst,
                src_port: sp,
                // ICMP with port 0 would read the (absent) type/code: keep it plain.
                dst_port: dp,
                proto,
                tcp_flags: flags,
                packets: u64::from(pk),
                bytes: u64::from(by),
                sampling: 1,
            },
        )
}

fn flows() -> impl Strategy<Value = Vec<Flow>> {
    (
        prop::collection::vec(arb_flow(false), 0..40),
        prop::collection::vec(arb_flow(true), 0..20),
    )
        .prop_map(|(a, b)| a.into_iter().chain(b).collect())
}

proptest! {
    #[test]
    fn v5_roundtrip(flows in prop::collection::vec(arb_flow(false), 0..30), seq in any::<u32>()) {
        let mut d = Decoder::new();
        let got = d.decode(exporter(), &encode::v5(7_200_000, T0 as u32, seq, 0, &flows)).unwrap();
        prop_assert_eq!(got, &flows[..]);
    }

    #[test]
    fn v9_roundtrip(flows in flows(), seq in any::<u32>()) {
        let mut d = Decoder::new();
        let got = d.decode(exporter(), &encode::v9(3, seq, T0 as u32, 7_200_000, &flows, true)).unwrap();
        let want: Vec<Flow> = flows.iter().filter(|f| f.src.is_ipv4()).chain(flows.iter().filter(|f| f.src.is_ipv6())).copied().collect();
        prop_assert_eq!(got, &want[..]);
    }

    #[test]
    fn ipfix_roundtrip_with_templates_sent_once(a in flows(), b in flows(), seq in any::<u32>()) {
        let mut d = Decoder::new();
        let order = |f: &[Flow]| -> Vec<Flow> { f.iter().filter(|f| f.src.is_ipv4()).chain(f.iter().filter(|f| f.src.is_ipv6())).copied().collect() };
        let got = d.decode(exporter(), &encode::ipfix(1, seq, T0 as u32, &a, true)).unwrap().to_vec();
        prop_assert_eq!(got, order(&a));
        let next = seq.wrapping_add(a.len() as u32);
        let got = d.decode(exporter(), &encode::ipfix(1, next, T0 as u32, &b, false)).unwrap().to_vec();
        prop_assert_eq!(got, order(&b));
        prop_assert_eq!(d.stats().lost_ipfix_records + d.stats().reordered + d.stats().sequence_resets, 0);
    }

    /// Arbitrary datagrams, some after a valid header and templates, in one decoder
    /// (template state carried across): never a panic; every datagram either decodes
    /// or is counted as dropped.
    #[test]
    fn arbitrary_datagrams_never_panic(
        datagrams in prop::collection::vec((0u8..4, prop::collection::vec(any::<u8>(), 0..300)), 1..12)
    ) {
        let mut d = Decoder::new();
        let seed = encode::ipfix(1, 0, T0 as u32, &[], true);
        let seed9 = encode::v9(1, 0, T0 as u32, 0, &[], true);
        let mut ok = 0u64;
        for (kind, bytes) in &datagrams {
            let dg = match kind {
                0 => bytes.clone(),
                1 => [&seed[..16], bytes].concat(),
                2 => [&seed9[..20], bytes].concat(),
                _ => [&seed[..], bytes].concat(),
            };
            if d.decode(exporter(), &dg).is_ok() {
                ok += 1;
            }
        }
        prop_assert_eq!(ok + d.stats().dropped_total(), datagrams.len() as u64);
    }

    /// Valid datagrams with bytes flipped: never a panic.
    #[test]
    fn mutated_datagrams_never_panic(flows in flows(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut d = Decoder::new();
        for mut dg in [encode::ipfix(1, 0, T0 as u32, &flows, true), encode::v9(1, 0, T0 as u32, 0, &flows, true), encode::v5(0, T0 as u32, 0, 0, &flows)] {
            for (i, b) in &flips {
                let at = i.index(dg.len());
                dg[at] ^= *b;
            }
            let _ = d.decode(exporter(), &dg);
        }
    }
}

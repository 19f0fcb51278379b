//! The DDoS detector over generated floods and benign heavy traffic.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use accord_detect::ddos::{DdosConfig, DdosDetector, DdosLinks, MAX_TARGETS};
use accord_detect::{Finding, InternalNets, Observer, Producer, Window};
use accord_telemetry::{Conn, Proto, Record};
use proptest::prelude::*;
use serde_json::Value;

const S: i64 = 1_000_000;
const T0: i64 = 1_700_000_000 * S;

/// A small deterministic generator (SplitMix64), so the tests need no RNG crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A public-looking external IPv4 address (never in the private ranges).
    fn external(&mut self) -> IpAddr {
        loop {
            let a = Ipv4Addr::from(self.next() as u32);
            let o = a.octets();
            if o[0] == 0 || o[0] >= 224 || o[0] == 127 || IN.contains(IpAddr::V4(a)) {
                continue;
            }
            return IpAddr::V4(a);
        }
    }
}

static IN: std::sync::LazyLock<InternalNets> = std::sync::LazyLock::new(InternalNets::private);

#[allow(clippy::too_many_arguments)]
fn conn(
    ts: i64,
    o: IpAddr,
    op: u16,
    r: IpAddr,
    rp: u16,
    proto: Proto,
    dur: f64,
    (opk, ob): (u64, u64),
    resp: Option<(u64, u64)>,
) -> Record<'static> {
    Record::Conn(Conn {
        ts,
        uid: None,
        orig_h: o,
        orig_p: Some(op),
        resp_h: r,
        resp_p: Some(rp),
        proto,
        service: None,
        duration: Some(dur),
        orig_bytes: Some(ob),
        resp_bytes: resp.map(|r| r.1),
        orig_pkts: Some(opk),
        resp_pkts: resp.map(|r| r.0),
        local_orig: None,
        local_resp: None,
    })
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn run(records: &[Record<'static>]) -> (Vec<Box<dyn Finding>>, DdosLinks) {
    let mut d = DdosDetector::new(DdosConfig::default());
    let links = d.links();
    for r in records {
        d.observe(r);
    }
    let w = Window {
        start: T0,
        end: T0 + 3600 * S,
    };
    (d.finish(&w), links)
}

fn producer() -> Producer {
    Producer {
        identity: "identity--5b1f1b0e-8f3c-4c55-9a2e-1d2c3b4a5f60".into(),
        now: T0,
    }
}

/// Every token of `text` that parses as an IP address.
fn addresses_in(text: &str) -> Vec<IpAddr> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .filter_map(|t| t.trim_matches(|c| c == '.' || c == ':').parse().ok())
        .collect()
}

fn no_internal_address(f: &dyn Finding) {
    let mut text = f.to_json().to_string();
    for o in f.to_stix(&producer()) {
        text.push_str(&o.to_string());
    }
    text.push_str(&f.subject());
    text.push_str(&f.summary());
    for a in addresses_in(&text) {
        assert!(!IN.contains(a), "internal address {a} published in {text}");
    }
}

/// A SYN flood: `sources` spoofed sources, 4 SYN-only flows of 3 packets each,
/// spread evenly over `secs` seconds.
fn syn_flood(rng: &mut Rng, victim: IpAddr, sources: usize, secs: i64) -> Vec<Record<'static>> {
    let srcs: Vec<IpAddr> = (0..sources).map(|_| rng.external()).collect();
    let n = sources * 4;
    (0..n)
        .map(|i| {
            let ts = T0 + (i as i64 * secs * S) / n as i64;
            let port = 1024 + rng.below(60_000) as u16;
            conn(
                ts,
                srcs[i % sources],
                port,
                victim,
                80,
                Proto::Tcp,
                3.0,
                (3, 0),
                Some((0, 0)),
            )
        })
        .collect()
}

#[test]
fn a_syn_flood_from_5000_spoofed_sources_is_found_with_its_rate_and_no_victim_address() {
    let mut rng = Rng(1);
    let victim = ip("10.20.30.40");
    // 20,000 flows x 3 packets over 20 s: 3,000 packets per second in every bucket.
    let recs = syn_flood(&mut rng, victim, 5_000, 20);
    let (findings, links) = run(&recs);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let j = findings[0].to_json();
    assert_eq!(j["kind"], "ddos");
    assert_eq!(j["vector"], "syn-flood");
    assert_eq!(j["direction"], "inbound");
    assert_eq!(j["target"], Value::Null, "a customer is never named");
    let p = j["participants"].as_u64().unwrap();
    assert!((4_750..=5_250).contains(&p), "participants {p}");
    let pps = j["peak_pps"].as_f64().unwrap();
    assert!((pps - 3_000.0).abs() <= 150.0, "peak_pps {pps}");
    assert_eq!(j["evidence"]["unanswered_share"], 1.0);
    assert!(j["score"].as_f64().unwrap() > 0.5);
    assert!(j["start"].as_str().unwrap().ends_with('Z'));
    // The node resolves the victim locally.
    assert_eq!(links.victim(j["id"].as_str().unwrap()), Some(victim));
    no_internal_address(findings[0].as_ref());
    // Spoofed sources (a few flows each) are not published as indicators.
    let stix = findings[0].to_stix(&producer());
    assert!(stix.iter().all(|o| o["type"] != "indicator"), "{stix:?}");
    let types: Vec<&str> = stix.iter().filter_map(|o| o["type"].as_str()).collect();
    assert!(
        types.contains(&"attack-pattern") && types.contains(&"sighting") && types.contains(&"note")
    );
}

fn reflection(
    rng: &mut Rng,
    victim: IpAddr,
    port: u16,
    reflectors: usize,
    bytes_per_packet: u64,
) -> Vec<Record<'static>> {
    let refl: Vec<IpAddr> = (0..reflectors).map(|_| rng.external()).collect();
    let n = reflectors * 50;
    (0..n)
        .map(|i| {
            let ts = T0 + (i as i64 * 20 * S) / n as i64;
            // The reflector is the originator: the victim never asked.
            conn(
                ts,
                refl[i % reflectors],
                port,
                victim,
                1024 + rng.below(60_000) as u16,
                Proto::Udp,
                1.0,
                (20, 20 * bytes_per_packet),
                Some((0, 0)),
            )
        })
        .collect()
}

#[test]
fn ntp_dns_and_memcached_reflection_is_found_with_the_reflector_port_and_reflectors_published() {
    for (port, bpp) in [(123u16, 468u64), (53, 1_400), (11211, 1_400)] {
        let mut rng = Rng(u64::from(port));
        let victim = ip("100.64.7.9");
        let recs = reflection(&mut rng, victim, port, 40, bpp);
        let (findings, links) = run(&recs);
        assert_eq!(findings.len(), 1, "port {port}: {findings:?}");
        let j = findings[0].to_json();
        assert_eq!(j["vector"], "udp-reflection", "port {port}");
        assert_eq!(j["reflector_port"], port);
        assert_eq!(j["direction"], "inbound");
        assert_eq!(j["participants"], 40);
        assert_eq!(j["evidence"]["top_source_ports"][0]["port"], port);
        assert_eq!(links.victim(j["id"].as_str().unwrap()), Some(victim));
        let stix = findings[0].to_stix(&producer());
        let indicators: Vec<&Value> = stix.iter().filter(|o| o["type"] == "indicator").collect();
        assert_eq!(indicators.len(), 16, "the heaviest reflectors, capped");
        assert!(stix.iter().any(|o| o["type"] == "attack-pattern"
            && o["external_references"][0]["external_id"] == "T1498.002"));
        no_internal_address(findings[0].as_ref());
    }
}

#[test]
fn a_resolver_receiving_answers_it_asked_for_is_not_reflection() {
    let mut rng = Rng(9);
    let resolver = ip("10.0.0.53");
    let servers: Vec<IpAddr> = (0..500).map(|_| rng.external()).collect();
    // 60,000 answered queries in 20 s (3,000/s), large answers.
    let recs: Vec<Record<'static>> = (0..60_000)
        .map(|i| {
            let ts = T0 + (i as i64 * 20 * S) / 60_000;
            conn(
                ts,
                resolver,
                1024 + rng.below(60_000) as u16,
                servers[i % 500],
                53,
                Proto::Udp,
                0.05,
                (1, 40),
                Some((1, 1_200)),
            )
        })
        .collect();
    let (findings, _) = run(&recs);
    assert!(findings.is_empty(), "{findings:?}");
    // The same answers with the queries missing from the flow (a flipped or
    // one-sided record) but the resolver's queries seen elsewhere: still solicited.
    let mut recs2 = Vec::new();
    for i in 0..20_000usize {
        let ts = T0 + (i as i64 * 20 * S) / 20_000;
        let s = servers[i % 500];
        recs2.push(conn(
            ts,
            resolver,
            5353 + (i % 7) as u16,
            s,
            53,
            Proto::Udp,
            0.0,
            (1, 40),
            None,
        ));
        recs2.push(conn(
            ts,
            s,
            53,
            resolver,
            40000,
            Proto::Udp,
            0.0,
            (1, 1_200),
            None,
        ));
    }
    let (findings, _) = run(&recs2);
    assert!(findings.is_empty(), "{findings:?}");
}

#[test]
fn fifty_internal_bots_flooding_an_external_target_are_an_outbound_finding_counted_not_named() {
    let mut rng = Rng(50);
    let target = ip("203.0.113.9");
    let bots: Vec<IpAddr> = (0..50u8)
        .map(|i| IpAddr::from([192, 168, 1, 10 + i]))
        .collect();
    let n = 50 * 40;
    let recs: Vec<Record<'static>> = (0..n)
        .map(|i| {
            let ts = T0 + (i as i64 * 20 * S) / n as i64;
            conn(
                ts,
                bots[i % 50],
                1024 + rng.below(60_000) as u16,
                target,
                80,
                Proto::Udp,
                1.0,
                (30, 30 * 512),
                Some((0, 0)),
            )
        })
        .collect();
    let (findings, links) = run(&recs);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let j = findings[0].to_json();
    assert_eq!(j["direction"], "outbound");
    assert_eq!(j["target"], "203.0.113.9");
    assert_eq!(j["vector"], "udp-flood");
    assert_eq!(j["participants"], 50);
    let pps = j["peak_pps"].as_f64().unwrap();
    assert!((pps - 3_000.0).abs() < 1.0, "{pps}");
    no_internal_address(findings[0].as_ref());
    // The members are available to the node, for the C2 correlation only.
    let id = j["id"].as_str().unwrap();
    let members: HashSet<IpAddr> = links.participants(id).unwrap().into_iter().collect();
    assert_eq!(members, bots.iter().copied().collect());
    assert_eq!(links.all_participants(), members);
    let stix = findings[0].to_stix(&producer());
    assert!(stix
        .iter()
        .any(|o| o["type"] == "ipv4-addr" && o["value"] == "203.0.113.9"));
    let sighting = stix.iter().find(|o| o["type"] == "sighting").unwrap();
    assert_eq!(sighting["x_accord_participants"], 50);
    assert_eq!(sighting["x_accord_direction"], "outbound");
}

#[test]
fn the_same_telemetry_gives_the_same_ids_and_objects() {
    let mut rng = Rng(3);
    let recs = reflection(&mut rng, ip("10.1.1.1"), 123, 20, 468);
    let (a, _) = run(&recs);
    let (b, _) = run(&recs);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].to_json(), b[0].to_json());
    assert_eq!(a[0].to_stix(&producer()), b[0].to_stix(&producer()));
    // Every STIX id is distinct within the bundle.
    let stix = a[0].to_stix(&producer());
    let ids: HashSet<&str> = stix.iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(ids.len(), stix.len());
}

#[test]
fn benign_heavy_traffic_is_not_flagged() {
    let mut rng = Rng(77);
    let mut recs = Vec::new();
    // A CDN download: 300 internal clients fetch large objects from one CDN address,
    // completing handshakes (and the CDN answers with gigabytes).
    let cdn = ip("198.51.100.20");
    for i in 0..3_000usize {
        let ts = T0 + (i as i64 * 60 * S) / 3_000;
        let client = IpAddr::from([10, 1, (i % 300 / 250) as u8, (i % 250) as u8 + 1]);
        recs.push(conn(
            ts,
            client,
            40_000 + (i % 20_000) as u16,
            cdn,
            443,
            Proto::Tcp,
            30.0,
            (4_000, 400_000),
            Some((8_000, 12_000_000)),
        ));
    }
    // A busy web server: 3,000 external clients completing handshakes, 2% of the
    // connections half-open (scanners, retransmits).
    let web = ip("10.0.0.80");
    let clients: Vec<IpAddr> = (0..3_000).map(|_| rng.external()).collect();
    for i in 0..60_000usize {
        let ts = T0 + (i as i64 * 60 * S) / 60_000;
        let r = if i % 50 == 0 {
            conn(
                ts,
                clients[i % 3_000],
                30_000,
                web,
                443,
                Proto::Tcp,
                3.0,
                (2, 0),
                Some((0, 0)),
            )
        } else {
            conn(
                ts,
                clients[i % 3_000],
                30_000 + (i % 30_000) as u16,
                web,
                443,
                Proto::Tcp,
                0.8,
                (8, 900),
                Some((12, 15_000)),
            )
        };
        recs.push(r);
    }
    // An authoritative DNS server inside answering 500 external resolvers.
    let ns = ip("10.0.0.2");
    let resolvers: Vec<IpAddr> = (0..500).map(|_| rng.external()).collect();
    for i in 0..60_000usize {
        let ts = T0 + (i as i64 * 60 * S) / 60_000;
        recs.push(conn(
            ts,
            resolvers[i % 500],
            1024 + (i % 60_000) as u16,
            ns,
            53,
            Proto::Udp,
            0.01,
            (1, 45),
            Some((1, 300)),
        ));
    }
    // A port scan: one source, every port, all rejected.
    let scanner = rng.external();
    for p in 1..=60_000u16 {
        let ts = T0 + i64::from(p) * 1_000;
        recs.push(conn(
            ts,
            scanner,
            55_555,
            web,
            p,
            Proto::Tcp,
            0.0,
            (1, 0),
            Some((1, 0)),
        ));
    }
    let (findings, _) = run(&recs);
    assert!(
        findings.is_empty(),
        "{:#?}",
        findings.iter().map(|f| f.to_json()).collect::<Vec<_>>()
    );
}

#[test]
fn a_busy_web_server_with_many_half_open_connections_among_completed_ones_is_not_flagged() {
    let mut rng = Rng(8);
    let web = ip("10.0.0.81");
    let clients: Vec<IpAddr> = (0..4_000).map(|_| rng.external()).collect();
    // 6,000 connections per second for 10 s; a fifth half-open (scanners, clients
    // giving up): 2,400 SYN packets per second, but 6% of the server's packets.
    let recs: Vec<Record<'static>> = (0..60_000usize)
        .map(|i| {
            let ts = T0 + (i as i64 * 10 * S) / 60_000;
            let c = clients[i % 4_000];
            if i % 5 == 0 {
                conn(
                    ts,
                    c,
                    30_000,
                    web,
                    443,
                    Proto::Tcp,
                    3.0,
                    (2, 0),
                    Some((0, 0)),
                )
            } else {
                conn(
                    ts,
                    c,
                    30_001,
                    web,
                    443,
                    Proto::Tcp,
                    0.5,
                    (8, 900),
                    Some((12, 15_000)),
                )
            }
        })
        .collect();
    let (findings, _) = run(&recs);
    assert!(
        findings.is_empty(),
        "{:?}",
        findings.iter().map(|f| f.to_json()).collect::<Vec<_>>()
    );
}

#[test]
fn a_flood_after_hours_of_scan_noise_is_found_with_its_own_start_and_end() {
    let mut rng = Rng(11);
    let victim = ip("10.3.3.3");
    // Three hours of internet scanning: a SYN-only probe every 5 s (over 2,000
    // buckets, more than a target keeps), then the flood, then more scanning.
    let mut recs: Vec<Record<'static>> = (0..2_160i64)
        .map(|k| {
            conn(
                T0 + k * 5 * S,
                rng.external(),
                40_000,
                victim,
                22,
                Proto::Tcp,
                0.0,
                (2, 0),
                Some((0, 0)),
            )
        })
        .collect();
    let flood_at = T0 + 7_200 * S;
    for mut r in syn_flood(&mut rng, victim, 2_000, 20) {
        let Record::Conn(c) = &mut r else {
            unreachable!()
        };
        c.ts += flood_at - T0;
        recs.push(r);
    }
    recs.extend((0..100i64).map(|k| {
        conn(
            flood_at + 600 * S + k * 5 * S,
            rng.external(),
            40_000,
            victim,
            22,
            Proto::Tcp,
            0.0,
            (2, 0),
            Some((0, 0)),
        )
    }));
    let (findings, _) = run(&recs);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let j = findings[0].to_json();
    assert_eq!(j["vector"], "syn-flood");
    // 8,000 flows x 3 packets over 20 s.
    let pps = j["peak_pps"].as_f64().unwrap();
    assert!((pps - 1_200.0).abs() < 30.0, "{pps}");
    let start = accord_telemetry::parse_datetime(j["start"].as_str().unwrap()).unwrap();
    let end = accord_telemetry::parse_datetime(j["end"].as_str().unwrap()).unwrap();
    assert!(
        start >= flood_at - 10 * S && start <= flood_at,
        "start {start} flood {flood_at}"
    );
    assert!(
        end >= flood_at + 19 * S && end < flood_at + 30 * S,
        "end {}",
        end - flood_at
    );
}

#[test]
fn a_syn_flood_on_a_busy_web_server_is_found_among_its_completed_connections() {
    let mut rng = Rng(12);
    let web = ip("10.0.0.82");
    let clients: Vec<IpAddr> = (0..4_000).map(|_| rng.external()).collect();
    let mut recs: Vec<Record<'static>> = (0..20_000usize)
        .map(|i| {
            let ts = T0 + (i as i64 * 10 * S) / 20_000;
            conn(
                ts,
                clients[i % 4_000],
                30_001,
                web,
                443,
                Proto::Tcp,
                0.5,
                (9, 900),
                Some((12, 15_000)),
            )
        })
        .collect();
    // 5,000 SYN-only flows per second (about 10,000 packets/s) against 2,000
    // completed connections per second (18,000 client packets/s): fewer packets than
    // the clients', most of the flows.
    recs.extend(
        syn_flood(&mut rng, web, 3_000, 10)
            .into_iter()
            .cycle()
            .take(50_000),
    );
    let (findings, _) = run(&recs);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        findings[0].to_json()["vector"],
        "syn-flood",
        "{}",
        findings[0].to_json()
    );
}

#[test]
fn a_multi_vector_flood_is_one_finding_with_its_vectors_in_the_evidence() {
    let mut rng = Rng(13);
    let victim = ip("10.4.4.4");
    // ICMP (2,500 pps), NTP reflection (2,000 pps) and a UDP flood (2,000 pps) at
    // once: no vector is most of the victim's traffic, the attack is.
    let mut recs = reflection(&mut rng, victim, 123, 40, 468);
    let udp_sources: Vec<IpAddr> = (0..100).map(|_| rng.external()).collect();
    for i in 0..5_000usize {
        let ts = T0 + (i as i64 * 20 * S) / 5_000;
        recs.push(conn(
            ts,
            rng.external(),
            8,
            victim,
            0,
            Proto::Icmp,
            1.0,
            (10, 10_000),
            None,
        ));
        if i < 4_000 {
            recs.push(conn(
                ts,
                udp_sources[i % 100],
                5_000,
                victim,
                9_999,
                Proto::Udp,
                1.0,
                (10, 5_120),
                Some((0, 0)),
            ));
        }
    }
    let (findings, _) = run(&recs);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let j = findings[0].to_json();
    assert_eq!(j["vector"], "icmp-flood");
    let vectors = j["evidence"]["vectors"].as_object().unwrap();
    assert_eq!(vectors.len(), 3, "{vectors:?}");
}

#[test]
fn every_stix_object_passes_the_stix_validator() {
    let mut rng = Rng(21);
    let mut recs = reflection(&mut rng, ip("10.6.6.6"), 1900, 30, 300);
    let target = ip("203.0.113.77");
    for i in 0..4_000usize {
        let bot = IpAddr::from([10, 7, 0, (i % 40) as u8 + 1]);
        recs.push(conn(
            T0 + (i as i64 * 10 * S) / 4_000,
            bot,
            4444,
            target,
            80,
            Proto::Tcp,
            0.0,
            (3, 0),
            Some((0, 0)),
        ));
    }
    let (findings, _) = run(&recs);
    assert_eq!(findings.len(), 2, "{findings:?}");
    for f in &findings {
        for o in f.to_stix(&producer()) {
            if let Err(e) = accord_stix::parse_object(&o.to_string()) {
                panic!("{e:?}\n{o:#}");
            }
        }
    }
}

/// One nfdump flow: (time, source, port, destination, port, protocol, packets, bytes).
type NfFlow<'a> = (f64, IpAddr, u16, IpAddr, u16, &'a str, u64, u64);

/// nfdump `-o csv` lines (unidirectional flows: `opkt`/`obyt` are 0).
fn nfdump(rows: &[NfFlow]) -> String {
    let mut s = String::from("ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt,opkt,obyt\n");
    for (t, sa, sp, da, dp, pr, pk, by) in rows {
        s.push_str(&format!(
            "{t:.3},{t:.3},0.000,{sa},{da},{sp},{dp},{pr},......,{pk},{by},0,0\n"
        ));
    }
    s
}

fn run_text(text: &str) -> Vec<Box<dyn Finding>> {
    let mut d = DdosDetector::new(DdosConfig::default());
    let mut reader = accord_telemetry::TelemetryReader::new(text.as_bytes(), None).unwrap();
    while let Some(r) = reader.next_record().unwrap() {
        d.observe(&r);
    }
    d.finish(&Window { start: T0, end: T0 })
}

#[test]
fn unidirectional_flows_an_answering_server_is_not_flooded_and_a_syn_flood_is_found() {
    let mut rng = Rng(31);
    let t0 = (T0 / S) as f64;
    // An authoritative server inside answering 3,000 queries/s from 2,000 resolvers:
    // each query and each answer is a flow record of its own, with no reverse counts.
    let ns = ip("10.0.0.2");
    let resolvers: Vec<IpAddr> = (0..2_000).map(|_| rng.external()).collect();
    let mut rows = Vec::new();
    for i in 0..60_000usize {
        let t = t0 + i as f64 * 20.0 / 60_000.0;
        let r = resolvers[i % 2_000];
        rows.push((t, r, 30_000 + (i % 1_000) as u16, ns, 53, "UDP", 1, 70));
        rows.push((
            t + 0.001,
            ns,
            53,
            r,
            30_000 + (i % 1_000) as u16,
            "UDP",
            1,
            400,
        ));
    }
    let found = run_text(&nfdump(&rows));
    assert!(
        found.is_empty(),
        "{:?}",
        found.iter().map(|f| f.to_json()).collect::<Vec<_>>()
    );
    // A SYN flood in the same format: 40,000 one-packet SYN flows in 20 s.
    let victim = ip("10.0.0.9");
    let rows: Vec<_> = (0..40_000usize)
        .map(|i| {
            (
                t0 + i as f64 * 20.0 / 40_000.0,
                rng.external(),
                1024 + (i % 60_000) as u16,
                victim,
                443,
                "TCP",
                1,
                60,
            )
        })
        .collect();
    let found = run_text(&nfdump(&rows));
    assert_eq!(found.len(), 1);
    let j = found[0].to_json();
    assert_eq!(j["vector"], "syn-flood");
    assert!(
        (j["peak_pps"].as_f64().unwrap() - 2_000.0).abs() < 20.0,
        "{j}"
    );
}

#[test]
fn the_configured_sampling_rate_scales_counts() {
    let mut rng = Rng(41);
    // 1-in-10 sampled: 12,000 SYN flows of 3 packets seen over 60 s, 600 pps seen.
    let recs = syn_flood(&mut rng, ip("10.8.8.8"), 3_000, 60);
    assert!(run(&recs).0.is_empty(), "under the threshold unscaled");
    let mut d = DdosDetector::new(DdosConfig {
        sampling_rate: 10,
        ..DdosConfig::default()
    });
    for r in &recs {
        d.observe(r);
    }
    let f = d.finish(&Window { start: T0, end: T0 });
    assert_eq!(f.len(), 1);
    let j = f[0].to_json();
    assert!(
        (j["peak_pps"].as_f64().unwrap() - 6_000.0).abs() < 100.0,
        "{j}"
    );
    // Less the flows seen before the target got counters (ADMIT_FLOWS - 1, scaled).
    let flows = j["evidence"]["flows"].as_u64().unwrap();
    assert!((119_930..=120_000).contains(&flows), "{flows}");
}

#[test]
fn a_flood_below_the_rate_threshold_is_not_reported() {
    let mut rng = Rng(5);
    // 5,000 sources but spread over an hour: ~17 packets per second.
    let srcs: Vec<IpAddr> = (0..5_000).map(|_| rng.external()).collect();
    let recs: Vec<Record<'static>> = (0..20_000usize)
        .map(|i| {
            conn(
                T0 + (i as i64 * 3600 * S) / 20_000,
                srcs[i % 5_000],
                1024,
                ip("10.9.9.9"),
                80,
                Proto::Tcp,
                3.0,
                (3, 0),
                Some((0, 0)),
            )
        })
        .collect();
    assert!(run(&recs).0.is_empty());
}

#[test]
fn memory_stays_bounded_under_a_million_distinct_sources_and_targets() {
    let mut d = DdosDetector::new(DdosConfig::default());
    let victim = ip("10.0.0.1");
    let mut rng = Rng(1_000_000);
    for i in 0..1_000_000u32 {
        let src = rng.external();
        // Half the flows to one victim, half to 62,500 distinct victims (8 flows each,
        // enough to be admitted): churn for the target table.
        let dst = if i % 2 == 0 {
            victim
        } else {
            IpAddr::from([10, 100, (i >> 12) as u8, (i >> 4) as u8])
        };
        d.observe(&conn(
            T0 + i64::from(i) * 60,
            src,
            1024,
            dst,
            80,
            Proto::Tcp,
            1.0,
            (2, 0),
            Some((0, 0)),
        ));
    }
    assert!(d.tracked_targets() <= MAX_TARGETS);
    let bytes = d.state_bytes();
    assert!(bytes < 64 << 20, "state {bytes} bytes");
    let f = d.finish(&Window {
        start: T0,
        end: T0 + 60 * S,
    });
    let j = f
        .iter()
        .map(|f| f.to_json())
        .find(|j| j["participants"].as_u64().unwrap() > 100_000)
        .expect("the victim");
    let p = j["participants"].as_u64().unwrap() as f64;
    assert!((p - 500_000.0).abs() / 500_000.0 < 0.05, "{p}");
}

/// Generated traffic of every kind between internal and external hosts, with a flood
/// of each kind mixed in.
/// One generated flow: (direction, internal host, protocol, ports, packets, bytes, answered).
type Flow = (u8, u8, u8, u16, u16, u64, u64, bool);

fn arb_traffic() -> impl Strategy<Value = (u64, Vec<Flow>)> {
    (
        any::<u64>(),
        prop::collection::vec(
            (
                0u8..4,
                any::<u8>(),
                0u8..3,
                any::<u16>(),
                any::<u16>(),
                0u64..50,
                0u64..60_000,
                any::<bool>(),
            ),
            0..200,
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn no_internal_address_is_ever_published((seed, mix) in arb_traffic()) {
        let mut rng = Rng(seed);
        let internal: Vec<IpAddr> = (0..20u8).map(|i| IpAddr::from([10, i, seed as u8, 7])).chain((0..5u8).map(|i| IpAddr::from([192, 168, i, 1]))).collect();
        let mut recs = Vec::new();
        for (kind, a, proto, p1, p2, pk, by, answered) in mix {
            let inside = internal[a as usize % internal.len()];
            let outside = rng.external();
            let (o, r) = if kind % 2 == 0 { (inside, outside) } else { (outside, inside) };
            let proto = [Proto::Tcp, Proto::Udp, Proto::Icmp][proto as usize];
            recs.push(conn(T0 + rng.below(60 * S as u64) as i64, o, p1, r, p2, proto, 1.0, (pk, by), answered.then_some((pk, by))));
        }
        // Floods of each kind, in both directions, against/from the internal hosts.
        let victim = |k: usize| internal[(seed as usize + k) % internal.len()];
        recs.extend(syn_flood(&mut rng, victim(0), 1_500, 10));
        recs.extend(reflection(&mut rng, victim(1), 123, 20, 468));
        let target = rng.external();
        for i in 0..2_000usize {
            let bot = internal[i % internal.len()];
            recs.push(conn(T0 + (i as i64 * 10 * S) / 2_000, bot, 4444, target, 53, Proto::Udp, 1.0, (20, 20 * 100), None));
            recs.push(conn(T0 + (i as i64 * 10 * S) / 2_000, rng.external(), 0, victim(2), 0, Proto::Icmp, 1.0, (10, 10 * 1000), None));
        }
        let (findings, _) = run(&recs);
        prop_assert!(findings.len() >= 4, "{:?}", findings.iter().map(|f| f.to_json()).collect::<Vec<_>>());
        for f in &findings {
            no_internal_address(f.as_ref());
        }
    }
}

//! The C2 detector on synthetic traffic: the classes RITA misses (sleep-with-jitter,
//! DGA bots reaching many addresses once, bots walking a C2 list) are found, the
//! periodic benign services it flags (NTP, resolvers, update checks, push) are not, and
//! internal addresses never leave the detector.

use std::borrow::Cow;
use std::net::IpAddr;

use accord_detect::c2::{C2Config, C2Detector, C2Finding};
use accord_detect::{Finding, Observer, Producer, Warninglists, Window};
use accord_telemetry::{Answers, Conn, Dns, Http, Proto, Record};
use proptest::prelude::*;
use serde_json::Value;

const S: i64 = 1_000_000;
const T0: i64 = 1_700_000_000 * S;

/// SplitMix64: deterministic noise for the tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn conn(ts: i64, host: &str, dst: &str, port: u16, sent: u64, answered: bool) -> Conn<'static> {
    Conn {
        ts,
        uid: None,
        orig_h: ip(host),
        orig_p: Some(50000),
        resp_h: ip(dst),
        resp_p: Some(port),
        proto: if port == 123 { Proto::Udp } else { Proto::Tcp },
        service: None,
        duration: Some(0.5),
        orig_bytes: Some(sent),
        resp_bytes: Some(if answered { 900 } else { 0 }),
        orig_pkts: Some(3),
        resp_pkts: Some(if answered { 3 } else { 0 }),
        local_orig: None,
        local_resp: None,
    }
}

fn dns<'a>(ts: i64, host: &str, query: &'a str, rcode: &'a str, answers: &'a str) -> Record<'a> {
    Record::Dns(Dns {
        conn: conn(ts, host, "192.0.2.53", 53, 0, true),
        query: Some(Cow::Borrowed(query)),
        qtype_name: Some("A"),
        rcode_name: Some(rcode),
        answers: if answers.is_empty() {
            Answers::None
        } else {
            Answers::Tsv {
                raw: answers,
                separator: b',',
            }
        },
    })
}

fn detector() -> C2Detector {
    C2Detector::new(C2Config::default())
}

fn run(det: &mut C2Detector) -> Vec<C2Finding> {
    det.findings(&Window {
        start: T0,
        end: T0 + 86_400 * S,
    })
}

fn flagged(findings: &[C2Finding]) -> Vec<String> {
    findings.iter().map(|f| f.destination.to_string()).collect()
}

fn signals(f: &C2Finding) -> Vec<String> {
    f.evidence["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

/// Background a healthy host makes: independent (Poisson) requests to many sites.
fn browse(det: &mut C2Detector, host: &str, rng: &mut Rng, sites: u32, per_site: u32) {
    for s in 0..sites {
        let dst = format!("198.51.100.{}", s + 1);
        let mut t = T0;
        for _ in 0..per_site {
            // Exponential gaps with a mean of ten minutes.
            t += (-(1.0 - rng.unit()).ln() * 600.0 * 1e6) as i64;
            let size = 200 + (rng.next() % 5000);
            det.observe(&Record::Conn(conn(t, host, &dst, 443, size, true)));
        }
    }
}

/// A beacon: `n` connections every `period` seconds, each gap uniform in
/// `period·(1 ± jitter)`, sizes `size ± 5%`.
#[allow(clippy::too_many_arguments)]
fn beacon(
    det: &mut C2Detector,
    host: &str,
    dst: &str,
    port: u16,
    period: f64,
    jitter: f64,
    n: u32,
    size: u64,
    rng: &mut Rng,
) {
    let mut t = T0 + (rng.unit() * period * 1e6) as i64;
    for _ in 0..n {
        let sent = size + (rng.next() % (size / 20 + 1));
        det.observe(&Record::Conn(conn(t, host, dst, port, sent, true)));
        let gap = period * (1.0 + jitter * (2.0 * rng.unit() - 1.0));
        t += (gap * 1e6) as i64;
    }
}

#[test]
fn a_jittered_beacon_is_found_among_human_browsing() {
    let mut det = detector();
    let mut rng = Rng(1);
    browse(&mut det, "10.0.0.9", &mut rng, 40, 60);
    beacon(
        &mut det,
        "10.0.0.9",
        "203.0.113.7",
        443,
        60.0,
        0.1,
        200,
        300,
        &mut rng,
    );
    let f = run(&mut det);
    assert_eq!(flagged(&f), ["203.0.113.7"], "{f:#?}");
    assert!(signals(&f[0]).contains(&"beacon".to_string()));
    let iv = &f[0].evidence["interval"];
    assert!((iv["mean_s"].as_f64().unwrap() - 60.0).abs() < 3.0, "{iv}");
    assert!(iv["jitter"].as_f64().unwrap() < 0.1, "{iv}");
    assert!(!iv["histogram"].as_array().unwrap().is_empty());
}

#[test]
fn a_sleep_with_jitter_implant_at_30_percent_is_found() {
    let mut det = detector();
    let mut rng = Rng(2);
    browse(&mut det, "10.0.0.9", &mut rng, 20, 40);
    // Five-minute sleep, 30% jitter, a day: 288 check-ins.
    beacon(
        &mut det,
        "10.0.0.9",
        "203.0.113.77",
        8080,
        300.0,
        0.3,
        288,
        180,
        &mut rng,
    );
    let f = run(&mut det);
    assert_eq!(flagged(&f), ["203.0.113.77"], "{f:#?}");
    assert_eq!(f[0].port, Some(8080));
}

#[test]
fn dead_c2_retried_on_a_timer_is_found() {
    let mut det = detector();
    for i in 0..100 {
        let t = T0 + i * 30 * S + (i % 3) * S;
        det.observe(&Record::Conn(conn(
            t,
            "10.1.1.1",
            "203.0.113.5",
            1177,
            0,
            false,
        )));
    }
    let f = run(&mut det);
    assert_eq!(flagged(&f), ["203.0.113.5"]);
    assert!(signals(&f[0]).contains(&"dead".to_string()), "{f:#?}");
    assert_eq!(f[0].evidence["failed_connections"], 100);
}

#[test]
fn many_hosts_beaconing_to_one_destination_is_a_botnet() {
    let mut det = detector();
    let mut rng = Rng(3);
    for h in 1..=6 {
        let host = format!("10.0.3.{h}");
        beacon(
            &mut det,
            &host,
            "203.0.113.99",
            443,
            120.0,
            0.2,
            50,
            400,
            &mut rng,
        );
    }
    let f = run(&mut det);
    assert_eq!(flagged(&f), ["203.0.113.99"]);
    assert_eq!(f[0].internal_hosts, 6);
    assert!(f[0].botnet);
    let stix = f[0].to_stix(&producer());
    assert_eq!(stix[0]["infrastructure_types"][0], "botnet");
}

#[test]
fn a_dga_bot_reaching_16_c2_addresses_once_or_twice_each_is_found() {
    let mut det = detector();
    let mut rng = Rng(4);
    let letters = b"bcdfghjklmnpqrstvwxz";
    let name = |rng: &mut Rng| -> String {
        let s: String = (0..12)
            .map(|_| letters[(rng.next() % 20) as usize] as char)
            .collect();
        format!("{s}.com")
    };
    let mut t = T0;
    for _ in 0..60 {
        let n = name(&mut rng);
        det.observe(&dns(t, "10.0.0.66", &n, "NXDOMAIN", ""));
        t += 5 * S;
    }
    for i in 1..=16u32 {
        let n = name(&mut rng);
        let addr = format!("203.0.113.{}", 100 + i);
        det.observe(&dns(t, "10.0.0.66", &n, "NOERROR", &addr));
        for k in 0..(1 + i % 2) {
            det.observe(&Record::Conn(conn(
                t + i64::from(k) * 7 * S,
                "10.0.0.66",
                &addr,
                443,
                600,
                true,
            )));
        }
        t += 1800 * S;
    }
    // A healthy host resolving chosen names and visiting each once is not a bot.
    for (i, n) in ["wikipedia.org", "stackoverflow.com", "example.com"]
        .iter()
        .enumerate()
    {
        let addr = format!("198.51.100.{}", 200 + i);
        det.observe(&dns(t, "10.0.0.7", n, "NOERROR", &addr));
        det.observe(&Record::Conn(conn(t, "10.0.0.7", &addr, 443, 600, true)));
    }
    let f = run(&mut det);
    let mut got = flagged(&f);
    got.sort();
    let mut want: Vec<String> = (1..=16).map(|i| format!("203.0.113.{}", 100 + i)).collect();
    want.sort();
    assert_eq!(got, want);
    assert!(f.iter().all(|f| signals(f).contains(&"dga".to_string())));
    assert_eq!(f[0].names.len(), 1, "the DGA name is evidence");
}

#[test]
fn a_bot_walking_its_c2_list_is_found_and_a_clean_host_doing_the_same_is_not() {
    let mut det = detector();
    let mut rng = Rng(5);
    beacon(
        &mut det,
        "10.0.0.13",
        "203.0.113.50",
        80,
        90.0,
        0.2,
        100,
        480,
        &mut rng,
    );
    for i in 0..30 {
        let dst = format!("198.18.{}.{}", i / 200, 1 + i % 200);
        det.observe(&Record::Conn(conn(
            T0 + i * 61 * S,
            "10.0.0.13",
            &dst,
            80,
            0,
            false,
        )));
        // A clean host with a failed connection to an unnamed address: not linked.
        let other = format!("198.19.0.{}", 1 + i);
        det.observe(&Record::Conn(conn(
            T0 + i * 61 * S,
            "10.0.0.14",
            &other,
            80,
            0,
            false,
        )));
    }
    let f = run(&mut det);
    let got = flagged(&f);
    assert_eq!(got.len(), 31, "{got:?}");
    assert!(got.iter().all(|d| !d.starts_with("198.19.")));
    assert!(f
        .iter()
        .filter(|f| f.destination.to_string().starts_with("198.18."))
        .all(|f| signals(f) == ["sibling"]));
}

#[test]
fn http_check_ins_with_one_fingerprint_link_an_address_literal_c2_list() {
    let mut det = detector();
    let agent = "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1)";
    let http = |ts: i64, dst: &'static str| {
        Record::Http(Http {
            conn: conn(ts, "10.0.0.21", dst, 80, 480, true),
            method: Some("POST"),
            host: Some(Cow::Borrowed(dst)),
            uri: Some(Cow::Borrowed("/")),
            referrer: None,
            user_agent: Some(Cow::Borrowed(agent)),
            status_code: Some(200),
        })
    };
    for i in 0..40 {
        det.observe(&http(T0 + i * 300 * S + (i % 7) * 20 * S, "203.0.113.60"));
    }
    det.observe(&http(T0 + 5 * S, "203.0.113.61"));
    let f = run(&mut det);
    assert_eq!(flagged(&f), ["203.0.113.60", "203.0.113.61"], "{f:#?}");
    assert!(signals(&f[0]).contains(&"checkin".to_string()));
    assert!(signals(&f[1]).contains(&"shared_checkin".to_string()));
}

#[test]
fn ntp_resolvers_update_checks_and_push_channels_are_not_reported() {
    let mut det = detector();
    let mut rng = Rng(6);
    // NTP every 64 s to a pool address (no name needed: the port is a timer's).
    beacon(
        &mut det,
        "10.0.0.30",
        "203.0.113.123",
        123,
        64.0,
        0.0,
        500,
        48,
        &mut rng,
    );
    // DNS to a public resolver every 30 s.
    beacon(
        &mut det,
        "10.0.0.30",
        "8.8.8.8",
        53,
        30.0,
        0.05,
        500,
        40,
        &mut rng,
    );
    // Windows update check every hour, the address named by DNS on the same sensor.
    det.observe(&dns(
        T0,
        "10.0.0.30",
        "ctldl.windowsupdate.com",
        "NOERROR",
        "203.0.113.200",
    ));
    beacon(
        &mut det,
        "10.0.0.30",
        "203.0.113.200",
        80,
        3600.0,
        0.05,
        24,
        300,
        &mut rng,
    );
    // A push channel, named by TLS SNI via the HTTP Host on the same sensor.
    det.observe(&dns(
        T0,
        "10.0.0.30",
        "mtalk.google.com",
        "NOERROR",
        "203.0.113.201",
    ));
    beacon(
        &mut det,
        "10.0.0.30",
        "203.0.113.201",
        5228,
        900.0,
        0.0,
        96,
        100,
        &mut rng,
    );
    let window = Window {
        start: T0,
        end: T0 + 86_400 * S,
    };
    assert!(run(&mut det).is_empty(), "{:#?}", run(&mut det));
    // Without the warninglists, the resolver and the update check would be reported:
    // the suppression, not a weak score, keeps them out.
    let why = det.suppressed(&window);
    let mut addrs: Vec<String> = why.iter().map(|(a, _)| a.to_string()).collect();
    addrs.sort();
    assert_eq!(addrs, ["203.0.113.200", "8.8.8.8"], "{why:?}");
    assert!(why.iter().any(|(_, r)| r.contains("windowsupdate.com")));
    let mut bare = C2Detector::new(C2Config {
        benign: Warninglists::empty(),
        ..C2Config::default()
    });
    beacon(
        &mut bare,
        "10.0.0.30",
        "203.0.113.200",
        80,
        3600.0,
        0.05,
        24,
        300,
        &mut rng,
    );
    assert_eq!(flagged(&run(&mut bare)), ["203.0.113.200"]);
}

#[test]
fn a_cloud_address_is_not_benign_for_being_on_a_cloud() {
    // 52.0.0.0/8 is Amazon's; nothing in the bundled lists names it.
    let mut det = detector();
    let mut rng = Rng(7);
    beacon(
        &mut det,
        "10.0.0.40",
        "52.1.2.3",
        443,
        60.0,
        0.2,
        100,
        250,
        &mut rng,
    );
    assert_eq!(flagged(&run(&mut det)), ["52.1.2.3"]);
}

#[test]
fn state_is_bounded_and_the_overflow_is_counted() {
    let mut det = C2Detector::new(C2Config {
        max_pairs: 100,
        ..C2Config::default()
    });
    for i in 0..1000u32 {
        let dst = format!("198.51.{}.{}", i / 250, 1 + i % 250);
        det.observe(&Record::Conn(conn(T0, "10.0.0.1", &dst, 443, 10, true)));
    }
    assert_eq!(det.pairs(), 100);
    assert_eq!(det.dropped(), 900);
    // Finishing a window starts the next one empty.
    let _ = det.finish(&Window { start: T0, end: T0 });
    assert_eq!((det.pairs(), det.dropped()), (0, 0));
}

fn producer() -> Producer {
    Producer {
        identity: "identity--11111111-2222-4333-8444-555555555555".into(),
        now: T0 + 2 * 86_400 * S,
    }
}

#[test]
fn stix_output_is_complete_and_ids_are_stable_across_runs() {
    let make = || {
        let mut det = detector();
        let mut rng = Rng(8);
        det.observe(&dns(
            T0,
            "10.0.0.50",
            "c2.example.net",
            "NOERROR",
            "203.0.113.9",
        ));
        beacon(
            &mut det,
            "10.0.0.50",
            "203.0.113.9",
            443,
            60.0,
            0.2,
            100,
            250,
            &mut rng,
        );
        run(&mut det)
    };
    let (a, b) = (make(), make());
    assert_eq!(a.len(), 1);
    let (sa, sb) = (a[0].to_stix(&producer()), b[0].to_stix(&producer()));
    let ids = |v: &[Value]| v.iter().map(|o| o["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&sa), ids(&sb));
    let types: Vec<&str> = sa.iter().map(|o| o["type"].as_str().unwrap()).collect();
    for t in [
        "infrastructure",
        "indicator",
        "ipv4-addr",
        "domain-name",
        "relationship",
        "sighting",
        "note",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    let ind = sa.iter().find(|o| o["type"] == "indicator").unwrap();
    assert_eq!(ind["pattern"], "[ipv4-addr:value = '203.0.113.9']");
    assert!(ind["valid_from"].is_string());
    let conf = ind["confidence"].as_u64().unwrap();
    assert!((60..=100).contains(&conf));
    let s = sa.iter().find(|o| o["type"] == "sighting").unwrap();
    assert_eq!(s["count"], 100);
    assert_eq!(s["x_accord_distinct_hosts"], 1);
    // The JSON contract.
    let j = a[0].to_json();
    for k in [
        "kind",
        "destination",
        "port",
        "score",
        "internal_hosts",
        "first_seen",
        "last_seen",
        "evidence",
    ] {
        assert!(j.get(k).is_some(), "{k}");
    }
    assert_eq!(j["kind"], "c2");
    assert!(j["first_seen"].as_str().unwrap().ends_with('Z'));
}

fn texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        Value::Object(m) => m.values().for_each(|x| texts(x, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Hostile values (any time, NaN or infinite durations, huge byte counts) never
    /// panic the detector, and whatever it reports is a valid score.
    #[test]
    fn hostile_records_never_panic(
        recs in prop::collection::vec(
            (any::<i64>(), any::<u64>(), any::<u64>(), any::<f64>(), 0u8..4, 80u16..82),
            1..200,
        ),
    ) {
        let mut det = detector();
        for (ts, sent, resp, dur, h, port) in recs {
            let mut c = conn(ts, "10.0.0.1", "203.0.113.1", port, sent, resp % 2 == 0);
            c.duration = Some(dur);
            c.resp_bytes = Some(resp);
            c.orig_h = IpAddr::from([10, 0, 0, h]);
            det.observe(&Record::Conn(c));
        }
        for f in run(&mut det) {
            prop_assert!((0.0..=1.0).contains(&f.score));
            let _ = f.to_stix(&producer());
            let _ = f.summary();
        }
    }

    /// Any beacon with up to 30% uniform jitter, a period from 10 s to two hours and
    /// at least 20 check-ins is found.
    #[test]
    fn jittered_beacons_are_found(
        period in 10.0f64..7200.0,
        jitter in 0.0f64..0.3,
        n in 20u32..200,
        seed in any::<u64>(),
    ) {
        let mut det = detector();
        let mut rng = Rng(seed);
        beacon(&mut det, "10.9.9.9", "203.0.113.44", 443, period, jitter, n, 300, &mut rng);
        prop_assert_eq!(flagged(&run(&mut det)), ["203.0.113.44"]);
    }

    /// Internal addresses appear nowhere in the JSON or STIX of findings, whatever
    /// the internal hosts are.
    #[test]
    fn internal_addresses_never_leave_the_detector(
        hosts in prop::collection::vec((any::<u8>(), any::<u8>(), 1u8..255), 1..6),
        seed in any::<u64>(),
    ) {
        let mut det = detector();
        let mut rng = Rng(seed);
        let hosts: Vec<String> = hosts.iter().map(|(a, b, c)| format!("10.{a}.{b}.{c}")).collect();
        for h in &hosts {
            det.observe(&dns(T0, h, "c2.example.net", "NOERROR", "203.0.113.9"));
            beacon(&mut det, h, "203.0.113.9", 443, 60.0, 0.2, 60, 250, &mut rng);
        }
        let f = run(&mut det);
        prop_assert_eq!(f.len(), 1);
        let mut all = Vec::new();
        texts(&f[0].to_json(), &mut all);
        for o in f[0].to_stix(&producer()) {
            texts(&o, &mut all);
        }
        all.push(f[0].summary());
        for h in &hosts {
            prop_assert!(all.iter().all(|s| !s.contains(h.as_str())), "{} leaked", h);
        }
    }
}

#[test]
fn links_name_the_internal_hosts_of_each_finding_for_the_node_only() {
    let mut det = detector();
    let links = det.links();
    let mut rng = Rng(9);
    for h in ["10.0.5.2", "10.0.5.1"] {
        beacon(
            &mut det,
            h,
            "203.0.113.31",
            443,
            60.0,
            0.1,
            50,
            200,
            &mut rng,
        );
    }
    det.observe(&Record::Conn(conn(
        T0,
        "10.0.5.3",
        "198.51.100.1",
        443,
        10,
        true,
    )));
    let f = det.finish(&Window {
        start: T0,
        end: T0 + 86_400 * S,
    });
    assert_eq!(f.len(), 1);
    assert_eq!(
        links.hosts(ip("203.0.113.31"), Some(443)),
        Some(vec![ip("10.0.5.1"), ip("10.0.5.2")])
    );
    assert_eq!(
        links.destinations_of(ip("10.0.5.1")),
        [(ip("203.0.113.31"), Some(443))]
    );
    assert!(links.destinations_of(ip("10.0.5.3")).is_empty());
    assert_eq!(links.all_hosts().len(), 2);
    assert!(
        !format!("{links:?}").contains("10.0.5"),
        "Debug prints counts only"
    );
}

#[test]
fn an_ipv6_c2_gets_an_ipv6_indicator() {
    let mut det = detector();
    let mut rng = Rng(10);
    beacon(
        &mut det,
        "fd00::5",
        "2001:db8:c2::1",
        443,
        60.0,
        0.2,
        80,
        250,
        &mut rng,
    );
    let f = run(&mut det);
    assert_eq!(flagged(&f), ["2001:db8:c2::1"]);
    let stix = f[0].to_stix(&producer());
    let ind = stix.iter().find(|o| o["type"] == "indicator").unwrap();
    assert_eq!(ind["pattern"], "[ipv6-addr:value = '2001:db8:c2::1']");
    assert!(stix.iter().any(|o| o["type"] == "ipv6-addr"));
    assert!(!serde_json::to_string(&stix).unwrap().contains("fd00::5"));
}

/// Records of a beacon every `period` seconds (±10%) from one host for `hours`, among
/// the host's browsing, in time order (as a collector sees them).
fn slow_beacon_records(period: f64, hours: u32) -> Vec<Record<'static>> {
    let mut rng = Rng(21);
    let mut recs = Vec::new();
    let end = T0 + i64::from(hours) * 3600 * S;
    let mut t = T0;
    while t < end {
        recs.push(Record::Conn(conn(
            t,
            "10.0.0.9",
            "203.0.113.77",
            443,
            310 + rng.next() % 10,
            true,
        )));
        t += (period * (0.9 + 0.2 * rng.unit()) * 1e6) as i64;
    }
    for s in 0..30u32 {
        let dst: &'static str = Box::leak(format!("198.51.100.{}", s + 1).into_boxed_str());
        let mut t = T0;
        while t < end {
            t += (-(1.0 - rng.unit()).ln() * 900.0 * 1e6) as i64;
            recs.push(Record::Conn(conn(
                t,
                "10.0.0.9",
                dst,
                443,
                200 + rng.next() % 5000,
                true,
            )));
        }
    }
    recs.sort_by_key(Record::ts);
    recs
}

/// Runs `config` over `records` in tumbling windows of five minutes, as the collector
/// does; returns every window's findings.
fn tumbling(config: C2Config, records: &[Record<'_>]) -> Vec<C2Finding> {
    let mut det = C2Detector::new(config);
    let length = 300 * S;
    let mut start = records[0].ts() - records[0].ts().rem_euclid(length);
    let mut out = Vec::new();
    for r in records {
        while r.ts() >= start + length {
            out.extend(det.finish_window(&Window {
                start,
                end: start + length - 1,
            }));
            start += length;
        }
        det.observe(r);
    }
    out.extend(det.finish_window(&Window {
        start,
        end: start + length - 1,
    }));
    out
}

#[test]
fn a_beacon_slower_than_the_window_is_found_across_windows_and_keeps_one_sighting() {
    // Every ten minutes: at most one connection in any five-minute window.
    let recs = slow_beacon_records(600.0, 6);
    let found = tumbling(C2Config::default(), &recs);
    let beacon: Vec<&C2Finding> = found
        .iter()
        .filter(|f| f.destination == ip("203.0.113.77"))
        .collect();
    assert!(!beacon.is_empty(), "carried state finds the slow beacon");
    assert!(
        found.iter().all(|f| f.destination == ip("203.0.113.77")),
        "browsing is not reported: {found:#?}"
    );
    // Reported again only in windows where it talked, and always as one episode: the
    // sighting (whose id is made of the episode's start) is updated, not multiplied.
    let episodes: std::collections::HashSet<i64> = beacon.iter().map(|f| f.window_start).collect();
    assert_eq!(episodes.len(), 1, "{episodes:?}");
    let sightings: std::collections::HashSet<String> = beacon
        .iter()
        .flat_map(|f| f.to_stix(&producer()))
        .filter(|o| o["type"] == "sighting")
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sightings.len(), 1);
    for w in beacon.windows(2) {
        assert!(w[1].connections > w[0].connections, "the evidence grows");
    }
    // Without the carried state, no window holds a rhythm.
    let forgetful = C2Config {
        horizon: 0,
        ..C2Config::default()
    };
    assert!(tumbling(forgetful, &recs).is_empty());
}

#[test]
fn carried_state_is_forgotten_after_the_horizon_and_bounded() {
    let recs = slow_beacon_records(600.0, 6);
    let mut det = C2Detector::new(C2Config {
        max_pairs: 8,
        ..C2Config::default()
    });
    for r in &recs {
        det.observe(r);
    }
    let end = recs.last().unwrap().ts();
    det.finish_window(&Window { start: T0, end });
    assert!(
        det.pairs() <= 4,
        "at most half the bound is carried: {}",
        det.pairs()
    );
    assert!(det.pairs() > 0);
    // A day later with nothing seen: everything is gone.
    det.finish_window(&Window {
        start: end,
        end: end + 2 * 86_400 * S,
    });
    assert_eq!(det.pairs(), 0);
}

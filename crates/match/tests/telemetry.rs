//! End to end on real and hand-made telemetry.

use std::io::BufReader;

use accord_match::{Detector, DetectorConfig, InternalNets, Ruleset, Sighting};
use accord_telemetry::TelemetryReader;

use crate::{fixture, ind, OBSERVER};

fn detect(
    rules: &Ruleset,
    cfg: DetectorConfig,
    rel: &str,
) -> (Vec<Sighting>, accord_match::DetectStats) {
    let f = std::fs::File::open(fixture(rel)).unwrap();
    let mut r = TelemetryReader::new(BufReader::new(f), None).unwrap();
    let mut det = Detector::new(rules, cfg);
    loop {
        match r.next_record() {
            Ok(Some(rec)) => det.observe(&rec),
            Ok(None) => break,
            Err(e) if !e.is_fatal() => {}
            Err(e) => panic!("{e}"),
        }
    }
    det.finish()
}

#[test]
fn njrat_c2_by_address_and_by_port() {
    let rules = Ruleset::compile(vec![
        ind(1, "[ipv4-addr:value = '41.108.179.197']"),
        ind(
            2,
            "[network-traffic:dst_port = 1177 AND network-traffic:protocols[*] = 'tcp']",
        ),
        ind(
            3,
            "[network-traffic:dst_port = 1177 AND network-traffic:protocols[*] = 'udp']",
        ),
    ]);
    let cfg = DetectorConfig::new(OBSERVER)
        .unwrap()
        .with_internal(InternalNets::parse(["192.168.1.0/24"]).unwrap());
    let (s, stats) = detect(&rules, cfg, "stratosphere-001-njrat/conn.log.labeled");
    assert_eq!(stats.records, 992);
    assert_eq!(stats.matched_records, 237);
    assert_eq!(s.len(), 2);
    for x in &s {
        let j = x.to_json();
        assert_eq!(j["count"], 237);
        assert_eq!(j["first_seen"], "1970-01-01T00:04:53.774Z");
        assert_eq!(j["last_seen"], "1970-01-01T00:50:23.362Z");
        assert_eq!(j["x_accord_distinct_hosts"], 1);
        assert!(!j.to_string().contains("192.168."));
    }
}

#[test]
fn mixed_capture_network_indicator_uses_zeek_local_fields() {
    let rules = Ruleset::compile(vec![ind(1, "[ipv4-addr:value ISSUBSET '45.0.0.0/8']")]);
    let (s, stats) = detect(
        &rules,
        DetectorConfig::new(OBSERVER).unwrap(),
        "stratosphere-008-mixed/conn.log.labeled",
    );
    assert_eq!(stats.records, 5663);
    assert_eq!(stats.matched_records, 454);
    assert_eq!(s.len(), 24, "one sighting per hour with matches");
    assert_eq!(s.iter().map(|x| x.count).sum::<u64>(), 454);
    assert_eq!(
        (s[0].window_start, s[0].count),
        (459_742 * 3_600_000_000, 13)
    );
    // local_resp marks the one monitored device as internal in every match.
    assert!(s.iter().all(|x| x.distinct_hosts == 1));
}

#[test]
fn dns_and_http_logs() {
    let rules = Ruleset::compile(vec![
        ind(1, "[domain-name:value LIKE '%.evil.example']"),
        ind(2, "[ipv4-addr:value = '198.51.100.67']"),
        ind(3, "[domain-name:value = 'cdn.good.example']"),
        ind(4, "[url:value = 'http://phish.example/login.php?x=1']"),
        ind(5, "[domain-name:value = 'gate.evil.example']"),
        ind(6, "[url:value LIKE '%/gate.php']"),
        ind(7, "[url:value = 'http://proxy.example/abs']"),
    ]);
    let cfg = DetectorConfig::new(OBSERVER)
        .unwrap()
        .with_internal(InternalNets::parse(["10.0.0.0/8"]).unwrap());
    let (s, stats) = detect(&rules, cfg.clone(), "handmade/dns.log");
    assert_eq!(stats.records, 4);
    let got: Vec<(String, u64)> = s
        .iter()
        .map(|x| {
            (
                x.indicator_id.rsplit('-').next().unwrap().to_string(),
                x.count,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("000000000001".into(), 2),
            ("000000000002".into(), 1),
            ("000000000003".into(), 1)
        ],
        "query subdomains (c2., nx.), an answer address, a CNAME answer"
    );
    let (s, _) = detect(&rules, cfg, "handmade/http.log");
    let got: Vec<String> = s
        .iter()
        .map(|x| x.indicator_id.rsplit('-').next().unwrap().to_string())
        .collect();
    assert_eq!(
        got,
        [
            "000000000001",
            "000000000004",
            "000000000005",
            "000000000006",
            "000000000007"
        ]
    );
}

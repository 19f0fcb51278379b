//! Indicators evaluated by the pattern engine.

use std::io::BufReader;

use accord_match::{observed_data, Detector, DetectorConfig, InternalNets, Ruleset};
use accord_patterns::{CompiledPattern, ObservedData};
use accord_telemetry::{Record, TelemetryReader};

use crate::{fixture, ind, OBSERVER};

fn run(rules: &Ruleset, rel: &str) -> (Vec<accord_match::Sighting>, accord_match::DetectStats) {
    let f = std::fs::File::open(fixture(rel)).unwrap();
    let mut r = TelemetryReader::new(BufReader::new(f), None).unwrap();
    let cfg = DetectorConfig::new(OBSERVER)
        .unwrap()
        .with_internal(InternalNets::parse(["10.0.0.0/8", "192.168.0.0/16"]).unwrap());
    let mut det = Detector::new(rules, cfg);
    while let Some(rec) = r.next_record().unwrap() {
        det.observe(&rec);
    }
    det.finish()
}

#[test]
fn range_and_regex_patterns_match_through_the_engine() {
    let rules = Ruleset::compile(vec![
        ind(
            1,
            "[network-traffic:dst_port > 1024 AND network-traffic:dst_port < 1200]",
        ),
        ind(
            2,
            "[ipv4-addr:value = '41.108.179.197'] AND [ipv4-addr:value = '192.168.1.115']",
        ),
        ind(3, "[file:name = 'x.exe']"),
    ]);
    let r = rules.report();
    assert_eq!((r.compiled, r.fallback, r.unreachable), (0, 3, 1));
    assert_eq!(
        r.fallback_reasons,
        vec![
            ("observation-operator", 1),
            ("operator", 1),
            ("property", 1)
        ]
    );
    let (s, stats) = run(&rules, "stratosphere-001-njrat/conn.log.labeled");
    // Each reachable rule is evaluated on every conn record; none fails.
    assert_eq!(stats.fallback_evaluations, 2 * 992);
    assert_eq!(stats.fallback_errors, 0);
    assert_eq!(s.len(), 2, "{s:?}");
    let count = |n: &str| {
        s.iter()
            .filter(|x| x.indicator_id.ends_with(n))
            .map(|x| x.count)
            .sum::<u64>()
    };
    assert_eq!(count("000000000001"), 237);
    // Observation-level AND takes two records, one for each side; each match consumes
    // its records. Every match needs a record with the C2 address (the other side, the
    // infected host, is in nearly every record), and each completes at most one.
    let c2 = std::fs::read_to_string(fixture("stratosphere-001-njrat/conn.log.labeled"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("41.108.179.197"))
        .count() as u64;
    let and = count("000000000002");
    assert!(c2 / 2 <= and && and <= c2, "{and} of {c2}");
}

#[test]
fn dns_and_http_objects_reach_the_engine() {
    let rules = Ruleset::compile(vec![
        ind(1, "[domain-name:value MATCHES '^c2\\\\.']"),
        ind(
            2,
            "[domain-name:resolves_to_refs[*].value = '198.51.100.67']",
        ),
        ind(
            3,
            "[network-traffic:extensions.'http-request-ext'.request_method = 'post']",
        ),
        ind(4, "[url:value MATCHES '^http://phish\\\\.example/']"),
    ]);
    assert_eq!(rules.report().fallback, 4);
    let (s, _) = run(&rules, "handmade/dns.log");
    let ids: Vec<_> = s
        .iter()
        .map(|x| x.indicator_id.rsplit('-').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["000000000001", "000000000002"]);
    let (s, _) = run(&rules, "handmade/http.log");
    let ids: Vec<_> = s
        .iter()
        .map(|x| x.indicator_id.rsplit('-').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["000000000003", "000000000004"]);
}

#[test]
fn patterns_the_engine_refuses_are_rejected_with_a_reason() {
    let rules = Ruleset::compile(vec![
        ind(1, "[domain-name:value MATCHES '(']"),
        ind(2, "[ipv4-addr:value = '1.2.3.4'] WITHIN 0 SECONDS"),
    ]);
    let r = rules.report();
    assert_eq!(r.rejected.len(), 2, "{r:?}");
    assert_eq!(r.fallback, 0);
    assert!(rules.is_empty());
}

#[test]
fn observed_data_of_a_record_is_valid_for_the_engine() {
    let text = std::fs::read_to_string(fixture("handmade/dns.log")).unwrap();
    let mut r = TelemetryReader::new(text.as_bytes(), None).unwrap();
    let rec = r.next_record().unwrap().unwrap();
    assert!(matches!(rec, Record::Dns(_)));
    let od = observed_data(&rec);
    assert_eq!(od["objects"]["2"]["type"], "network-traffic");
    assert_eq!(
        od["objects"]["2"]["protocols"],
        serde_json::json!(["ipv4", "udp"])
    );
    assert_eq!(od["first_observed"], "2024-05-01T10:00:00.100Z");
    let data = ObservedData::from_json(&od).unwrap();
    let p = CompiledPattern::compile("[domain-name:value = 'c2.evil.example' AND domain-name:resolves_to_refs[*].value = '198.51.100.66']").unwrap();
    assert!(p.matches(&data).unwrap());
    let p = CompiledPattern::compile(
        "[network-traffic:src_ref.value = '10.1.0.5' AND network-traffic:dst_port = 53]",
    )
    .unwrap();
    assert!(p.matches(&data).unwrap());
}

/// Sightings of one indicator over generic CSV flow records (ts, src_ip, dst_ip).
fn sightings_of(pattern: &str, csv: &str) -> u64 {
    let rules = Ruleset::compile(vec![ind(1, pattern)]);
    assert_eq!(rules.report().fallback, 1, "{pattern}");
    let cfg = DetectorConfig::new(OBSERVER).unwrap();
    let mut det = Detector::new(&rules, cfg);
    let mut r = TelemetryReader::new(csv.as_bytes(), None).unwrap();
    while let Some(rec) = r.next_record().unwrap() {
        det.observe(&rec);
    }
    det.finish().0.iter().map(|s| s.count).sum()
}

#[test]
fn followedby_matches_across_records_in_time_order() {
    let p = "[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.9']";
    let in_order = "ts,src_ip,dst_ip\n100,10.0.0.1,198.51.100.1\n110,10.0.0.1,192.0.2.7\n130,10.0.0.1,203.0.113.9\n";
    assert_eq!(sightings_of(p, in_order), 1);
    let reversed = "ts,src_ip,dst_ip\n100,10.0.0.1,203.0.113.9\n130,10.0.0.1,198.51.100.1\n";
    assert_eq!(sightings_of(p, reversed), 0);
    // A match consumes its records: the second 203.0.113.9 needs a new 198.51.100.1.
    let twice = "ts,src_ip,dst_ip\n100,10.0.0.1,198.51.100.1\n130,10.0.0.1,203.0.113.9\n140,10.0.0.1,203.0.113.9\n150,10.0.0.1,198.51.100.1\n160,10.0.0.1,203.0.113.9\n";
    assert_eq!(sightings_of(p, twice), 2);
}

#[test]
fn within_bounds_the_records_that_combine() {
    let p = "([ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.9']) WITHIN 60 SECONDS";
    let close = "ts,src_ip,dst_ip\n100,10.0.0.1,198.51.100.1\n150,10.0.0.1,203.0.113.9\n";
    assert_eq!(sightings_of(p, close), 1);
    let far = "ts,src_ip,dst_ip\n100,10.0.0.1,198.51.100.1\n200,10.0.0.1,203.0.113.9\n";
    assert_eq!(sightings_of(p, far), 0);
}

#[test]
fn repeats_counts_distinct_records() {
    let p = "[ipv4-addr:value = '198.51.100.1'] REPEATS 3 TIMES";
    let mut csv = String::from("ts,src_ip,dst_ip\n");
    for i in 0..7 {
        csv.push_str(&format!("{},10.0.0.{i},198.51.100.1\n", 100 + i));
    }
    // Seven records: two complete sets of three.
    assert_eq!(sightings_of(p, &csv), 2);
}

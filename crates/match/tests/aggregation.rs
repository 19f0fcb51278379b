//! Windows, counts, first/last seen, the host sketch, validity and id determinism.

use accord_match::{Detector, DetectorConfig, InternalNets, Ruleset, Sighting};
use accord_telemetry::TelemetryReader;

use crate::{ind, OBSERVER};

fn run(
    rules: &Ruleset,
    cfg: DetectorConfig,
    csv: &str,
) -> (Vec<Sighting>, accord_match::DetectStats) {
    let mut det = Detector::new(rules, cfg);
    let mut r = TelemetryReader::new(csv.as_bytes(), None).unwrap();
    while let Some(rec) = r.next_record().unwrap() {
        det.observe(&rec);
    }
    det.finish()
}

fn cfg() -> DetectorConfig {
    DetectorConfig::new(OBSERVER)
        .unwrap()
        .with_internal(InternalNets::parse(["10.0.0.0/8", "2001:db8:c::/48"]).unwrap())
}

#[test]
fn windows_counts_and_times() {
    let rules = Ruleset::compile(vec![ind(1, "[ipv4-addr:value = '198.51.100.66']")]);
    let csv = "ts,src_ip,dst_ip\n\
               3600.25,10.0.0.1,198.51.100.66\n\
               3700,10.0.0.2,198.51.100.66\n\
               3650.5,10.0.0.1,198.51.100.66\n\
               7199.999,198.51.100.66,10.0.0.3\n\
               7200,10.0.0.1,198.51.100.66\n\
               7300,10.0.0.1,192.0.2.1\n";
    let (s, stats) = run(&rules, cfg(), csv);
    assert_eq!(stats.records, 6);
    assert_eq!(stats.matched_records, 5);
    assert_eq!(s.len(), 2);
    let a = s[0].to_json();
    assert_eq!(a["count"], 4);
    assert_eq!(a["first_seen"], "1970-01-01T01:00:00.250Z");
    assert_eq!(a["last_seen"], "1970-01-01T01:59:59.999Z");
    assert_eq!(a["created"], "1970-01-01T01:00:00.000Z");
    assert_eq!(a["modified"], "1970-01-01T01:59:59.999Z");
    assert_eq!(a["x_accord_distinct_hosts"], 3);
    assert_eq!(a["where_sighted_refs"], serde_json::json!([OBSERVER]));
    assert_eq!(
        a["sighting_of_ref"],
        "indicator--00000000-0000-4000-8000-000000000001"
    );
    let b = s[1].to_json();
    assert_eq!(
        (b["count"].as_u64(), b["x_accord_distinct_hosts"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(b["first_seen"], "1970-01-01T02:00:00.000Z");
    // Custom window: one day puts everything in one sighting.
    let day = cfg()
        .with_window(std::time::Duration::from_secs(86_400))
        .unwrap();
    let (s, _) = run(&rules, day, csv);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].count, 5);
}

#[test]
fn no_address_ever_reaches_a_sighting() {
    let rules = Ruleset::compile(vec![
        ind(1, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
        ind(2, "[ipv4-addr:value = '10.9.9.9']"),
    ]);
    let mut csv = String::from("ts,src_ip,dst_ip,src_port,dst_port\n");
    for i in 0..300u32 {
        csv.push_str(&format!(
            "{},10.{}.{}.{},198.51.100.{},4000,443\n",
            1000 + i,
            i % 7,
            i % 13,
            i % 250,
            i % 200
        ));
    }
    csv.push_str("5000,10.9.9.9,192.0.2.1,1,2\n");
    let (s, _) = run(&rules, cfg(), &csv);
    let out = serde_json::to_string(&s.iter().map(Sighting::to_json).collect::<Vec<_>>()).unwrap();
    for i in 0..300u32 {
        let internal = format!("10.{}.{}.{}", i % 7, i % 13, i % 250);
        assert!(
            !out.contains(&format!("\"{internal}\"")),
            "{internal} leaked"
        );
        assert!(!out.contains(&format!("198.51.100.{}\"", i % 200)));
    }
    assert!(
        !out.contains("10.9.9.9"),
        "an indicator's own value is not copied either"
    );
    assert!(
        !out.contains("10."),
        "no internal address, whole or in part: {out}"
    );
}

#[test]
fn sketch_estimate_is_within_error_bound() {
    let rules = Ruleset::compile(vec![ind(1, "[ipv4-addr:value = '198.51.100.66']")]);
    let cfg = cfg()
        .with_window(std::time::Duration::from_secs(86_400 * 365))
        .unwrap();
    let mut det = Detector::new(&rules, cfg);
    let n = 20_000u32;
    let mut csv = String::from("ts,src_ip,dst_ip\n");
    for i in 0..n {
        // Every host twice: duplicates must not count.
        for rep in 0..2 {
            csv.push_str(&format!(
                "{},10.{}.{}.{},198.51.100.66\n",
                i * 2 + rep,
                i >> 16,
                (i >> 8) & 255,
                i & 255
            ));
        }
    }
    let mut r = TelemetryReader::new(csv.as_bytes(), None).unwrap();
    while let Some(rec) = r.next_record().unwrap() {
        det.observe(&rec);
    }
    let (s, _) = det.finish();
    assert_eq!(s[0].count, u64::from(n) * 2);
    let est = s[0].distinct_hosts as f64;
    // HLL++ with 2^12 registers: standard error 1.04/64 = 1.6%; allow 5 sigma.
    assert!(
        (est - f64::from(n)).abs() / f64::from(n) < 0.08,
        "estimate {est}"
    );
}

#[test]
fn small_host_counts_are_exact() {
    let rules = Ruleset::compile(vec![ind(1, "[ipv4-addr:value = '198.51.100.66']")]);
    let mut csv = String::from("ts,src_ip,dst_ip\n");
    for i in 0..50 {
        csv.push_str(&format!("{},10.0.0.{},198.51.100.66\n", 10 + i, i % 17));
    }
    let (s, _) = run(&rules, cfg(), &csv);
    assert_eq!(s[0].distinct_hosts, 17);
}

#[test]
fn validity_window_and_revocation() {
    let mut early = ind(1, "[ipv4-addr:value = '198.51.100.1']");
    early.valid_from = 100_000_000;
    early.valid_until = Some(200_000_000);
    let mut revoked = ind(2, "[ipv4-addr:value = '198.51.100.1']");
    revoked.revoked = true;
    let rules = Ruleset::compile(vec![early, revoked]);
    let csv = "ts,src_ip,dst_ip\n99.999999,10.0.0.1,198.51.100.1\n100,10.0.0.1,198.51.100.1\n199.999999,10.0.0.1,198.51.100.1\n200,10.0.0.1,198.51.100.1\n";
    let (s, stats) = run(&rules, cfg(), csv);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].count, 2);
    assert_eq!(s[0].first_seen, 100_000_000);
    assert_eq!(s[0].last_seen, 199_999_999);
    assert_eq!(stats.outside_validity, 2);
    assert_eq!(stats.matched_records, 2);
}

#[test]
fn ids_are_deterministic_and_distinct() {
    let rules = Ruleset::compile(vec![
        ind(1, "[ipv4-addr:value = '198.51.100.1']"),
        ind(2, "[ipv4-addr:value = '198.51.100.1']"),
    ]);
    let csv = "ts,src_ip,dst_ip\n1,10.0.0.1,198.51.100.1\n4000,10.0.0.1,198.51.100.1\n";
    let (a, _) = run(&rules, cfg(), csv);
    let (b, _) = run(&rules, cfg(), csv);
    assert_eq!(a, b);
    assert_eq!(a.len(), 4);
    let ids: std::collections::HashSet<_> = a.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids.len(), 4);
    let other = DetectorConfig::new("identity--00000000-0000-4000-8000-0000000000bb").unwrap();
    let (c, _) = run(&rules, other, csv);
    assert!(
        c.iter().all(|s| !ids.contains(&s.id)),
        "another observer, other ids"
    );
    assert_eq!(
        a[0].id,
        format!(
            "sighting--{}",
            uuid::Uuid::new_v5(
                &accord_match::SIGHTING_NAMESPACE,
                format!("indicator--00000000-0000-4000-8000-000000000001|0|{OBSERVER}").as_bytes()
            )
        )
    );
}

#[test]
fn host_policy_without_internal_networks() {
    let rules = Ruleset::compile(vec![ind(1, "[ipv4-addr:value = '198.51.100.1']")]);
    // Zeek's local_orig/local_resp decide when present.
    let json = r#"{"ts":1,"id.orig_h":"198.51.100.1","id.resp_h":"192.0.2.10","local_orig":false,"local_resp":true}
{"ts":2,"id.orig_h":"192.0.2.11","id.resp_h":"198.51.100.1","local_orig":true,"local_resp":false}
{"ts":3,"id.orig_h":"192.0.2.11","id.resp_h":"198.51.100.1"}
{"ts":4,"id.orig_h":"198.51.100.1","id.resp_h":"192.0.2.12"}
"#;
    let mut det = Detector::new(&rules, DetectorConfig::new(OBSERVER).unwrap());
    let mut r = TelemetryReader::new(json.as_bytes(), None).unwrap();
    while let Some(rec) = r.next_record().unwrap() {
        det.observe(&rec);
    }
    let (s, _) = det.finish();
    // Hosts: .10 (local_resp), .11 (local_orig), .11 (counterpart), .12 (counterpart).
    assert_eq!(s[0].distinct_hosts, 3);
}

#[test]
fn sightings_are_valid_stix() {
    let rules = Ruleset::compile(vec![ind(1, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']")]);
    let mut csv = String::from("ts,src_ip,dst_ip\n");
    for i in 0..5000u64 {
        csv.push_str(&format!(
            "{}.123456,10.0.{}.{},198.51.100.{}\n",
            1_714_521_600 + i * 7,
            i % 200,
            i % 250,
            i % 256
        ));
    }
    let (s, _) = run(&rules, cfg(), &csv);
    assert!(s.len() > 5);
    for x in &s {
        let text = x.to_json().to_string();
        let obj = accord_stix::parse_object(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(obj.object_type, "sighting");
    }
}

//! `accord detect c2` and `accord detect ddos`: the JSON contract over a real capture
//! and a generated flood, STIX stored once (re-runs store nothing new), options
//! reaching the detectors, bad input refused or reported by exit code.

use serde_json::Value;

use crate::{code, exported, stderr, stdout, Scratch};

/// A real NjRAT infection (Stratosphere 001): 192.168.1.115 calls its dead C2
/// 41.108.179.197:1177 every ~11 s.
const NJRAT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/telemetry/stratosphere-001-njrat/conn.log.labeled"
);

fn findings(out: &std::process::Output) -> Vec<Value> {
    assert_eq!(code(out), 0, "{}", stderr(out));
    serde_json::from_str(&stdout(out)).expect("a JSON array of findings")
}

#[test]
fn detect_c2_finds_the_njrat_beacon_with_the_json_contract() {
    let s = Scratch::new();
    let out = s.run(&["--json", "detect", "c2", NJRAT]);
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f["kind"], "c2");
    assert_eq!(f["destination"], "41.108.179.197");
    assert_eq!(f["port"], 1177);
    assert_eq!(f["internal_hosts"], 1);
    let score = f["score"].as_f64().unwrap_or(-1.0);
    assert!((0.6..=1.0).contains(&score), "{score}");
    assert!(f["first_seen"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(f["last_seen"].as_str().is_some_and(|t| t.ends_with('Z')));
    let signals: Vec<&str> = f["evidence"]["signals"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        signals.contains(&"beacon") && signals.contains(&"dead"),
        "{signals:?}"
    );
    assert_eq!(f["evidence"]["connections"], 237);
    assert!(
        !stdout(&out).contains("192.168.1.115"),
        "the internal host never leaves the detector"
    );

    // The human table: subject and evidence on one line, then the totals.
    let out = s.run(&["detect", "c2", NJRAT]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("41.108.179.197:1177"))
        .unwrap_or_default();
    assert!(
        line.starts_with("0.") && line.contains("beacon+dead"),
        "{text}"
    );
    assert!(
        text.contains("1 C2 findings over 1 window(s); 992 records read from 1 inputs"),
        "{text}"
    );
}

#[test]
fn detect_c2_options_reach_the_detector() {
    let s = Scratch::new();
    // A warninglist naming the C2 suppresses it; a threshold above its score too.
    let list = s.write(
        "mine.json",
        r#"{"name":"mine","type":"cidr","list":["41.108.179.0/24"]}"#,
    );
    let out = s.run(&[
        "--json",
        "detect",
        "c2",
        "--warninglist",
        list.to_str().unwrap_or_default(),
        NJRAT,
    ]);
    assert_eq!(findings(&out), Vec::<Value>::new());
    let out = s.run(&["--json", "detect", "c2", "--min-score", "0.95", NJRAT]);
    assert_eq!(findings(&out), Vec::<Value>::new());
    // Naming other internal networks: 192.168.1.115 is no longer a customer, so
    // nothing it does is looked at.
    let out = s.run(&["--json", "detect", "c2", "--internal", "10.0.0.0/8", NJRAT]);
    assert_eq!(findings(&out), Vec::<Value>::new());
    // A file that is not a warninglist is refused, naming it.
    let bad = s.write("bad.json", "[1, 2]");
    let out = s.run(&[
        "detect",
        "c2",
        "--warninglist",
        bad.to_str().unwrap_or_default(),
        NJRAT,
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("bad.json") && stderr(&out).contains("list"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn detect_c2_store_writes_stix_and_a_rerun_stores_nothing_new() {
    let s = Scratch::node();
    let args = ["detect", "c2", "--store", "-c", "shared", NJRAT];
    let out = s.run(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stored 7 new and 0 updated objects (0 unchanged)"),
        "{}",
        stderr(&out)
    );
    let first = exported(&s, &["-c", "shared", "--versions", "all"]);
    let mut types: Vec<&str> = first.iter().filter_map(|o| o["type"].as_str()).collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "indicator",
            "infrastructure",
            "ipv4-addr",
            "note",
            "relationship",
            "relationship",
            "sighting"
        ]
    );
    let indicator = first.iter().find(|o| o["type"] == "indicator");
    assert_eq!(
        indicator.map(|i| i["pattern"].clone()),
        Some(Value::from("[ipv4-addr:value = '41.108.179.197']"))
    );
    let all = serde_json::to_string(&first).unwrap_or_default();
    assert!(!all.contains("192.168.1.115"), "no customer address stored");

    let out = s.run(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stored 0 new and 0 updated objects (7 unchanged)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        exported(&s, &["-c", "shared", "--versions", "all"]).len(),
        first.len()
    );

    // In 10-minute windows: the destination's state is carried from window to window,
    // so the beacon is one episode — one sighting and one note (their ids made of the
    // episode's start), updated as windows close, not one per window; the
    // destination's objects are unchanged; a re-run stores nothing.
    let windowed = [
        "detect", "c2", "--window", "10m", "--store", "-c", "shared", NJRAT,
    ];
    let out = s.run(&windowed);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stored 2 new and 0 updated objects (5 unchanged)"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&windowed);
    assert!(
        stderr(&out).contains("stored 0 new and 0 updated objects (7 unchanged)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_formats_are_refused_and_a_broken_input_exits_1() {
    let s = Scratch::new();
    for detector in ["c2", "ddos"] {
        let out = s.run(&["detect", detector, "--format", "pcap", NJRAT]);
        assert_eq!(code(&out), 2, "{detector}");
        let err = stderr(&out);
        assert!(
            err.contains("invalid value 'pcap'") && err.contains("zeek-tsv, zeek-json, csv"),
            "{err}"
        );
    }
    // A missing file is reported; the other input is still read.
    let out = s.run(&["--json", "detect", "c2", "missing.log", NJRAT]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.log"), "{}", stderr(&out));
    let found: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap_or_default();
    assert_eq!(found.len(), 1);
    let out = s.run(&["detect", "ddos", "--window", "0s", NJRAT]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--window 0s"), "{}", stderr(&out));
}

/// A CSV of an NTP reflection attack on the customer 10.20.30.40: 10 reflectors,
/// 600 flows of 50 packets of 468 bytes over 20 s (1,500 packets/s).
fn ntp_reflection() -> String {
    let mut csv = String::from("ts,te,src_ip,src_port,dst_ip,dst_port,proto,src_pkts,src_bytes\n");
    for i in 0..600u32 {
        let ts = 1_700_000_000.0 + f64::from(i) * 20.0 / 600.0;
        csv.push_str(&format!(
            "{ts:.3},{:.3},203.0.113.{},123,10.20.30.40,{},udp,50,23400\n",
            ts + 1.0,
            i % 10 + 1,
            1024 + i
        ));
    }
    csv
}

#[test]
fn detect_ddos_finds_a_reflection_flood_with_the_json_contract() {
    let s = Scratch::new();
    let flood = s.write("flood.csv", &ntp_reflection());
    let path = flood.to_str().unwrap_or_default();
    let out = s.run(&["--json", "detect", "ddos", path]);
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f["kind"], "ddos");
    assert_eq!(f["direction"], "inbound");
    assert_eq!(f["vector"], "udp-reflection");
    assert_eq!(f["reflector_port"], 123);
    assert_eq!(f["participants"], 10);
    assert_eq!(f["target"], Value::Null, "the customer is never named");
    assert_eq!(f["peak_pps"], 1500.0);
    assert!(f["id"].is_string() && f["evidence"].is_object() && f["score"].is_number());
    assert!(!stdout(&out).contains("10.20.30.40"));

    // Counts of a sampled export are scaled.
    let out = s.run(&["--json", "detect", "ddos", "--sampling-rate", "4", path]);
    assert_eq!(findings(&out)[0]["peak_pps"], 6000.0);
    // The customer's network given explicitly; outside it there is no customer.
    let out = s.run(&[
        "--json",
        "detect",
        "ddos",
        "--internal",
        "198.51.100.0/24",
        path,
    ]);
    assert_eq!(findings(&out), Vec::<Value>::new());

    let out = s.run(&["detect", "ddos", path]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("inbound udp-reflection from port 123: 10 participants"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn detect_ddos_store_writes_stix_and_a_rerun_stores_nothing_new() {
    let s = Scratch::node();
    let flood = s.write("flood.csv", &ntp_reflection());
    let args = [
        "detect",
        "ddos",
        "--window",
        "1m",
        "--store",
        "-c",
        "shared",
        flood.to_str().unwrap_or_default(),
    ];
    let out = s.run(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let first = exported(&s, &["-c", "shared", "--versions", "all"]);
    let sighting = first.iter().find(|o| o["type"] == "sighting");
    assert_eq!(
        sighting.map(|s| s["x_accord_vector"].clone()),
        Some(Value::from("udp-reflection"))
    );
    assert!(first.iter().any(|o| o["type"] == "attack-pattern"));
    // The reflectors are published as indicators; the victim nowhere.
    assert_eq!(
        first.iter().filter(|o| o["type"] == "indicator").count(),
        10
    );
    let all = serde_json::to_string(&first).unwrap_or_default();
    assert!(!all.contains("10.20.30.40"));

    let out = s.run(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stored 0 new and 0 updated objects"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        exported(&s, &["-c", "shared", "--versions", "all"]).len(),
        first.len()
    );
}

/// A CSV of 30 internal bots (10.9.1.x) that check in with 203.0.113.50:443 every
/// minute for an hour and, half-way, flood 192.0.2.9 with UDP for 20 s.
fn botnet_csv() -> String {
    let mut csv = String::from(
        "ts,te,src_ip,src_port,dst_ip,dst_port,proto,src_pkts,src_bytes,dst_pkts,dst_bytes\n",
    );
    for b in 0..30u32 {
        for k in 0..60u32 {
            let ts = 1_700_000_000 + k * 60 + b % 7;
            csv.push_str(&format!(
                "{ts},{},10.9.1.{},40000,203.0.113.50,443,tcp,4,320,4,900\n",
                ts + 1,
                10 + b
            ));
        }
    }
    for i in 0..1200u32 {
        let ts = 1_700_001_800.0 + f64::from(i) * 20.0 / 1200.0;
        csv.push_str(&format!(
            "{ts:.3},{:.3},10.9.1.{},40000,192.0.2.9,80,udp,30,15360,0,0\n",
            ts + 1.0,
            10 + i % 30
        ));
    }
    csv
}

#[test]
fn detect_ddos_link_c2_names_the_controller_of_an_outbound_flood_and_stores_the_link() {
    let s = Scratch::node();
    let file = s.write("botnet.csv", &botnet_csv());
    let path = file.to_str().unwrap_or_default();
    // Without the link: the flood alone, no controller.
    let out = s.run(&["--json", "detect", "ddos", path]);
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]["evidence"].get("controlled_by").is_none());
    let out = s.run(&[
        "--json",
        "detect",
        "ddos",
        "--link-c2",
        "--store",
        "-c",
        "shared",
        path,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let found = findings(&out);
    let kinds: Vec<&str> = found.iter().filter_map(|f| f["kind"].as_str()).collect();
    assert_eq!(kinds, ["c2", "ddos"], "{found:?}");
    assert_eq!(found[0]["destination"], "203.0.113.50");
    let by = &found[1]["evidence"]["controlled_by"];
    assert_eq!(by[0]["destination"], "203.0.113.50");
    assert_eq!(by[0]["shared_participants"], 30);
    assert!(!stdout(&out).contains("10.9.1."), "a customer leaked");
    let stored = exported(&s, &["-c", "shared"]);
    let infra = stored
        .iter()
        .find(|o| o["type"] == "infrastructure")
        .map(|o| o["id"].clone())
        .expect("the C2 infrastructure");
    assert!(stored.iter().any(|o| o["type"] == "relationship"
        && o["relationship_type"] == "related-to"
        && o["source_ref"] == infra));
    assert!(!serde_json::to_string(&stored)
        .unwrap_or_default()
        .contains("10.9.1."));
}

#[test]
fn detect_help_shows_examples_of_every_detector() {
    let s = Scratch::new();
    let out = s.run(&["detect", "--help"]);
    assert_eq!(code(&out), 0);
    let help = stdout(&out);
    for example in [
        "accord detect phishing",
        "accord detect c2",
        "accord detect ddos",
    ] {
        assert!(help.contains(example), "{help}");
    }
}

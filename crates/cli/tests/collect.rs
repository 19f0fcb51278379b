//! `accord collect`: NetFlow over UDP matched against stored indicators, sightings
//! stored without customer addresses; malformed datagrams counted, never fatal.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::Stdio;

use accord_telemetry::netflow::{encode, Flow};
use serde_json::Value;

use super::{bundle, code, exported, indicator, stderr, Scratch};

/// 2024-03-01T12:00:00Z, inside the indicators' validity.
const T0: u32 = 1_709_294_400;

/// A loopback UDP address no socket holds (one was bound there and let go) for
/// `accord collect --listen`.
fn free_udp_address() -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().to_string()
}

fn flow(src: [u8; 4], dst: [u8; 4], at_s: i64) -> Flow {
    Flow {
        start: (i64::from(T0) + at_s) * 1_000_000,
        end: (i64::from(T0) + at_s + 1) * 1_000_000,
        src: src.into(),
        dst: dst.into(),
        src_port: 40_000,
        dst_port: 443,
        proto: 6,
        tcp_flags: 0x1b,
        packets: 5,
        bytes: 900,
        sampling: 1,
    }
}

#[test]
fn collected_flows_become_sightings_without_customer_addresses() {
    let s = Scratch::node();
    let out = s.run_with_stdin(
        &["ingest", "-"],
        &bundle(&[indicator(7, "2024-01-01T00:00:00.000Z")]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listen = free_udp_address();
    let mut child = s
        .accord()
        .args([
            "--json",
            "collect",
            "--listen",
            &listen,
            "--internal",
            "10.0.0.0/8",
        ])
        .args(["--window", "1m", "--idle-exit", "1.5"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("run accord collect");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("collecting"), "{first}");

    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    // Two customers reach the indicator's address, one flow elsewhere; a datagram of
    // an unknown version; then flows three minutes later (a later window).
    let a = [
        flow([10, 0, 0, 1], [198, 51, 100, 7], 0),
        flow([10, 0, 0, 2], [198, 51, 100, 7], 5),
        flow([10, 0, 0, 3], [192, 0, 2, 1], 6),
    ];
    tx.send_to(&encode::v5(60_000, T0 + 10, 0, 0, &a), &listen)
        .unwrap();
    tx.send_to(&[0, 7, 1, 2, 3], &listen).unwrap();
    let b = [flow([10, 0, 0, 1], [198, 51, 100, 7], 180)];
    tx.send_to(&encode::v5(240_000, T0 + 190, 3, 0, &b), &listen)
        .unwrap();
    let status = child.wait().expect("accord collect ends after idling");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(status.success(), "{rest}");
    let summary: Value = serde_json::from_str(rest.lines().last().unwrap_or("")).expect(&rest);
    assert_eq!(summary["datagrams"], 3, "{summary}");
    assert_eq!(summary["flows"], 4, "{summary}");
    assert_eq!(summary["dropped"]["version"], 1, "{summary}");
    assert_eq!(summary["lost_v5_flows"], 0, "{summary}");
    assert_eq!(summary["stored"], 2, "{summary}");

    let sightings = exported(&s, &["--type", "sighting"]);
    assert_eq!(sightings.len(), 2, "{sightings:?}");
    let mut counts: Vec<(i64, i64)> = sightings
        .iter()
        .map(|x| {
            (
                x["count"].as_i64().unwrap(),
                x["x_accord_distinct_hosts"].as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(counts, [(1, 1), (2, 2)]);
    let text = serde_json::to_string(&sightings).unwrap();
    assert!(
        !text.contains("10.0.0."),
        "a customer address leaked: {text}"
    );
}

#[test]
fn telemetry_section_is_checked() {
    let s = Scratch::node();
    let config = s.path("node/accord.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[telemetry]\nlisten = \"127.0.0.1:2055\"\nwindow = \"0s\"\ninternal = [\"10.0.0.0/33\"]\ncollection = \"sharde\"\n");
    std::fs::write(&config, &text).unwrap();
    let out = s.run(&["stats"]);
    assert_ne!(code(&out), 0);
    let err = stderr(&out);
    for key in [
        "telemetry.window",
        "telemetry.internal",
        "telemetry.collection",
    ] {
        assert!(err.contains(key), "{key} not named: {err}");
    }
    std::fs::write(
        &config,
        text.replace("windwo", "x")
            .replace("window = \"0s\"", "windwo = \"5m\""),
    )
    .unwrap();
    let err = stderr(&s.run(&["stats"]));
    assert!(err.contains("windwo"), "unknown key not refused: {err}");
}

/// `accord collect` runs the C2 and DDoS detectors beside matching: an NTP reflection
/// flood against a customer arrives as NetFlow v5 and is stored as STIX (attack
/// pattern, reflectors as indicators, a sighting) without the customer's address.
#[test]
fn the_collector_stores_a_flood_it_detects_in_netflow() {
    let s = Scratch::node();
    let listen = free_udp_address();
    let mut child = s
        .accord()
        .args(["--json", "collect", "--listen", &listen, "-c", "shared"])
        .args(["--window", "1m", "--idle-exit", "1.5"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("run accord collect");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("collecting"), "{first}");

    // 600 flows of 50 packets of 468 bytes from 10 reflectors' port 123 to the customer
    // 10.20.30.40 over 20 s (1,500 packets/s), in the first minute.
    let flows: Vec<Flow> = (0..600u32)
        .map(|i| {
            let at_ms = i64::from(i) * 20_000 / 600;
            let start = i64::from(T0) * 1_000_000 + at_ms * 1_000;
            Flow {
                start,
                end: start + 1_000_000,
                src: [203, 0, 113, (i % 10) as u8 + 1].into(),
                dst: [10, 20, 30, 40].into(),
                src_port: 123,
                dst_port: 1024 + i as u16,
                proto: 17,
                tcp_flags: 0,
                packets: 50,
                bytes: 50 * 468,
                sampling: 1,
            }
        })
        .collect();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (n, chunk) in flows.chunks(30).enumerate() {
        let datagram = encode::v5(60_000, T0 + 30, (n * 30) as u32, 0, chunk);
        tx.send_to(&datagram, &listen).unwrap();
    }
    let status = child.wait().expect("accord collect ends after idling");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(status.success(), "{rest}");
    let summary: Value = serde_json::from_str(rest.lines().last().unwrap_or("")).expect(&rest);
    assert_eq!(summary["flows"], 600, "{summary}");
    assert_eq!(summary["findings"], 1, "{summary}");

    let stored = exported(&s, &["-c", "shared"]);
    let sighting = stored
        .iter()
        .find(|o| o["type"] == "sighting")
        .unwrap_or_else(|| panic!("no sighting stored: {stored:?}"));
    assert_eq!(sighting["x_accord_vector"], "udp-reflection");
    assert_eq!(sighting["x_accord_direction"], "inbound");
    assert!(stored.iter().any(|o| o["type"] == "attack-pattern"));
    assert_eq!(
        stored.iter().filter(|o| o["type"] == "indicator").count(),
        10,
        "the reflectors"
    );
    let text = serde_json::to_string(&stored).unwrap();
    assert!(!text.contains("10.20.30.40"), "the customer leaked: {text}");
}

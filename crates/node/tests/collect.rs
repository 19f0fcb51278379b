//! The collector loop: datagrams in, flows to the hook and through the observers in
//! windows of telemetry time, findings out as windows close; bad datagrams counted.

use std::net::UdpSocket;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use accord_detect::{Finding, Observer, Producer, Window};
use accord_node::collect::{run, CollectOptions};
use accord_telemetry::netflow::{encode, Flow};
use accord_telemetry::Record;
use serde_json::{json, Value};

const T0: i64 = 1_709_294_400; // 2024-03-01T12:00:00Z, a multiple of 60

#[derive(Debug)]
struct Count {
    window: Window,
    records: u64,
}

impl Finding for Count {
    fn kind(&self) -> &'static str {
        "count"
    }
    fn score(&self) -> f64 {
        1.0
    }
    fn subject(&self) -> String {
        String::new()
    }
    fn summary(&self) -> String {
        format!("{} records", self.records)
    }
    fn to_json(&self) -> Value {
        json!({"start": self.window.start, "records": self.records})
    }
    fn to_stix(&self, _: &Producer) -> Vec<Value> {
        Vec::new()
    }
}

/// Counts the records of each window, and what ports it saw.
struct Counter {
    records: u64,
    ports: Arc<Mutex<Vec<Option<u16>>>>,
}

impl Observer for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn observe(&mut self, record: &Record<'_>) {
        self.records += 1;
        self.ports.lock().unwrap().push(record.conn().resp_p);
    }
    fn finish(&mut self, window: &Window) -> Vec<Box<dyn Finding>> {
        let records = std::mem::take(&mut self.records);
        vec![Box::new(Count {
            window: *window,
            records,
        })]
    }
}

fn flow(at_s: i64, dport: u16) -> Flow {
    Flow {
        start: (T0 + at_s) * 1_000_000,
        end: (T0 + at_s) * 1_000_000 + 500_000,
        src: [10, 0, 0, 1].into(),
        dst: [192, 0, 2, 1].into(),
        src_port: 5_000,
        dst_port: dport,
        proto: 17,
        tcp_flags: 0,
        packets: 1,
        bytes: 80,
        sampling: 1,
    }
}

#[test]
fn flows_are_windowed_by_telemetry_time_and_bad_datagrams_counted() {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    // IPFIX: templates and two flows in the first minute; garbage; a flow two minutes
    // later (closes the first window); v5 from the same exporter (another session).
    let secs = (T0 + 200) as u32;
    tx.send_to(
        &encode::ipfix(1, 0, secs, &[flow(0, 53), flow(10, 123)], true),
        to,
    )
    .unwrap();
    tx.send_to(b"\x00\x0afoo", to).unwrap();
    tx.send_to(&encode::ipfix(1, 2, secs, &[flow(130, 443)], false), to)
        .unwrap();
    tx.send_to(&encode::v5(1_000_000, secs, 0, 0, &[flow(135, 80)]), to)
        .unwrap();

    let ports = Arc::new(Mutex::new(Vec::new()));
    let observers: Vec<Box<dyn Observer>> = vec![Box::new(Counter {
        records: 0,
        ports: ports.clone(),
    })];
    let options = CollectOptions {
        window: 60_000_000,
        idle_exit: None,
        max_datagrams: Some(4),
    };
    let mut hooked = 0;
    let mut found: Vec<Value> = Vec::new();
    let stop = AtomicBool::new(false);
    let summary = run(
        &rx,
        observers,
        &options,
        None,
        &stop,
        |f| hooked += f.len(),
        |fs| found.extend(fs.iter().map(|f| f.to_json())),
    )
    .unwrap();
    assert_eq!(hooked, 4);
    assert_eq!(
        found,
        [
            json!({"start": T0 * 1_000_000, "records": 2}),
            json!({"start": (T0 + 120) * 1_000_000, "records": 2}),
        ]
    );
    assert_eq!(
        *ports.lock().unwrap(),
        [Some(53), Some(123), Some(443), Some(80)]
    );
    assert_eq!(
        (
            summary.datagrams,
            summary.flows,
            summary.windows,
            summary.findings
        ),
        (4, 4, 2, 2)
    );
    assert_eq!(summary.dropped.get("truncated"), Some(&1), "{summary:?}");
    assert_eq!(summary.exporters, 2);
    assert_eq!(summary.lost_ipfix_records, 0);
}

#[test]
fn a_stop_flag_ends_the_loop_without_traffic() {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let stop = AtomicBool::new(true);
    let summary = run(
        &rx,
        Vec::new(),
        &CollectOptions::default(),
        None,
        &stop,
        |_| {},
        |_| {},
    )
    .unwrap();
    assert_eq!((summary.datagrams, summary.windows), (0, 0));
}

/// A flow of `packets` packets of `size` bytes from `src` to `dst`.
#[allow(clippy::too_many_arguments)]
fn flow_between(
    at_ms: i64,
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    proto: u8,
    packets: u64,
    size: u64,
) -> Flow {
    let start = T0 * 1_000_000 + at_ms * 1_000;
    Flow {
        start,
        end: start + 1_000_000,
        src: src.into(),
        dst: dst.into(),
        src_port: sport,
        dst_port: dport,
        proto,
        tcp_flags: if proto == 6 { 0x1b } else { 0 },
        packets,
        bytes: packets * size,
        sampling: 1,
    }
}

/// The collector's detectors find, through NetFlow v5, a customer's implant calling
/// its C2 every 10 s and an NTP reflection flood against another customer.
#[test]
fn the_flow_detectors_find_a_beacon_and_a_flood_through_netflow() {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut flows: Vec<Flow> = (0..30)
        .map(|i| {
            flow_between(
                i * 10_000,
                [10, 0, 0, 1],
                40_000,
                [198, 51, 100, 50],
                8443,
                6,
                4,
                120,
            )
        })
        .collect();
    // 600 flows of 50 packets from 10 reflectors over 20 s: 1,500 packets/s.
    flows.extend((0..600).map(|i| {
        let reflector = [203, 0, 113, (i % 10) as u8 + 1];
        flow_between(
            100_000 + i * 20_000 / 600,
            reflector,
            123,
            [10, 0, 0, 9],
            1024 + i as u16,
            17,
            50,
            468,
        )
    }));
    flows.sort_by_key(|f| f.start);
    let mut datagrams = 0u64;
    for (seq, chunk) in flows.chunks(30).enumerate() {
        let secs = (T0 + 400) as u32;
        tx.send_to(
            &encode::v5(1_000_000, secs, (seq * 30) as u32, 0, chunk),
            to,
        )
        .unwrap();
        datagrams += 1;
    }
    let internal = accord_detect::InternalNets::private();
    let options = CollectOptions {
        window: 3_600_000_000,
        idle_exit: None,
        max_datagrams: Some(datagrams),
    };
    let mut found: Vec<Value> = Vec::new();
    let summary = run(
        &rx,
        accord_node::detect::flow_detectors(&internal),
        &options,
        None,
        &AtomicBool::new(false),
        |_| {},
        |fs| found.extend(fs.iter().map(|f| f.to_json())),
    )
    .unwrap();
    assert_eq!(summary.flows, 630, "{summary:?}");
    let kinds: Vec<&str> = found.iter().filter_map(|f| f["kind"].as_str()).collect();
    assert_eq!(kinds, ["c2", "ddos"], "{found:?}");
    assert_eq!(found[0]["destination"], "198.51.100.50");
    assert_eq!(found[0]["port"], 8443);
    assert_eq!(found[1]["vector"], "udp-reflection");
    assert_eq!(found[1]["target"], Value::Null);
    let text = serde_json::to_string(&found).unwrap();
    assert!(
        !text.contains("10.0.0."),
        "a customer address leaked: {text}"
    );
}

/// A resolver's dnstap over a Unix socket, bidirectional handshake as Unbound speaks
/// it: the answers reach the look-alike detector in the collector's pass; a broken
/// stream from another resolver is counted and does not stop the intake.
#[test]
fn dnstap_answers_reach_the_phishing_detector_and_customers_stay_inside() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;

    use accord_telemetry::dnstap::{self, encode, ControlType, Frame};

    let dir = tempfile::tempdir().unwrap();
    let brands = dir.path().join("brands.txt");
    std::fs::write(&brands, "paypal.com\n").unwrap();
    let index = accord_node::phishing::load_index(&[brands], &[], None, None).unwrap();
    let socket_path = dir.path().join("dnstap.sock");
    let stop = Arc::new(AtomicBool::new(false));
    let addr = accord_node::dnstap::DnstapAddr::Unix(socket_path.clone());
    let (feed, accepting) = accord_node::dnstap::listen(&addr, Vec::new(), stop.clone()).unwrap();

    // The resolver: READY, waits for ACCEPT, START, answers, STOP, waits for FINISH.
    let mut s = UnixStream::connect(&socket_path).unwrap();
    let mut out = Vec::new();
    dnstap::control_frame(ControlType::Ready, &mut out);
    s.write_all(&out).unwrap();
    let mut reply = [0u8; 256];
    let n = s.read(&mut reply).unwrap();
    let (accept, _) = dnstap::frame(&reply[..n]).unwrap().unwrap();
    assert_eq!(
        accept,
        Frame::Control {
            kind: ControlType::Accept,
            dnstap: true
        }
    );
    out.clear();
    dnstap::control_frame(ControlType::Start, &mut out);
    let customer: std::net::IpAddr = [10, 1, 2, 3].into();
    let resolver: std::net::IpAddr = [192, 0, 2, 53].into();
    for (i, name) in ["paypal-login-secure.com", "example.org", "www.paypal.com"]
        .iter()
        .enumerate()
    {
        let wire = encode::response(name, 0, &[[198, 51, 100, 9].into()]);
        let frame =
            encode::client_response(customer, resolver, (1_700_000_000 + i as u64, 0), &wire);
        encode::data_frame(&frame, &mut out);
    }
    encode::data_frame(
        &encode::client_query(&encode::response("q.example", 0, &[])),
        &mut out,
    );
    dnstap::control_frame(ControlType::Stop, &mut out);
    s.write_all(&out).unwrap();
    let n = s.read(&mut reply).unwrap();
    assert!(matches!(
        dnstap::frame(&reply[..n]).unwrap().unwrap().0,
        Frame::Control {
            kind: ControlType::Finish,
            ..
        }
    ));
    // A second resolver sends a frame longer than any dnstap frame may be.
    let mut bad = UnixStream::connect(&socket_path).unwrap();
    bad.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while feed
        .counters
        .broken_streams
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
        || feed
            .counters
            .frames
            .load(std::sync::atomic::Ordering::Relaxed)
            < 4
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the frames never arrived"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let observers: Vec<Box<dyn accord_detect::Observer + '_>> =
        vec![Box::new(accord_lookalike::PhishingObserver::new(&index))];
    let options = CollectOptions {
        window: 3_600_000_000,
        idle_exit: Some(std::time::Duration::from_millis(300)),
        max_datagrams: None,
    };
    let mut found: Vec<Value> = Vec::new();
    let summary = run(
        &rx,
        observers,
        &options,
        Some(&feed),
        &stop,
        |_| {},
        |fs| found.extend(fs.iter().map(|f| f.to_json())),
    )
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    accepting.join().unwrap();
    let dns = summary.dns.expect("the dnstap counters");
    assert_eq!(
        (dns.records, dns.skipped, dns.refused),
        (3, 1, 0),
        "{dns:?}"
    );
    assert_eq!(dns.connections, 2);
    assert_eq!(dns.broken_streams, 1);
    let domains: Vec<&str> = found.iter().filter_map(|f| f["domain"].as_str()).collect();
    assert_eq!(domains, ["paypal-login-secure.com"], "{found:?}");
    assert_eq!(found[0]["imitates"], "paypal.com");
    assert!(!serde_json::to_string(&found).unwrap().contains("10.1.2.3"));
}

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
        &stop,
        |_| {},
        |_| {},
    )
    .unwrap();
    assert_eq!((summary.datagrams, summary.windows), (0, 0));
}

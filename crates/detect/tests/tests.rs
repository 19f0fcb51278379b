//! Integration tests of accord-detect: the pass drives observers in windows.

mod botnet;
mod c2;
mod ddos;

use std::sync::{Arc, Mutex};

use accord_detect::{Finding, Observer, Pass, Producer, Window};
use accord_telemetry::{Record, TelemetryReader};
use serde_json::{json, Value};

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
        "records".into()
    }
    fn summary(&self) -> String {
        format!("{} records", self.records)
    }
    fn to_json(&self) -> Value {
        json!({"records": self.records, "start": self.window.start, "end": self.window.end})
    }
    fn to_stix(&self, _: &Producer) -> Vec<Value> {
        Vec::new()
    }
}

/// Counts records per window; `finished` logs each window it was finished with.
struct Counter {
    seen: u64,
    finished: Arc<Mutex<Vec<Window>>>,
}

impl Observer for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn observe(&mut self, _: &Record<'_>) {
        self.seen += 1;
    }
    fn finish(&mut self, window: &Window) -> Vec<Box<dyn Finding>> {
        if let Ok(mut f) = self.finished.lock() {
            f.push(*window);
        }
        let records = std::mem::take(&mut self.seen);
        vec![Box::new(Count {
            window: *window,
            records,
        })]
    }
}

fn conn_log(times: &[f64]) -> String {
    let mut s = String::from(
        "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n",
    );
    for t in times {
        s.push_str(&format!("{t}\tC\t10.0.0.1\t40000\t192.0.2.1\t443\ttcp\n"));
    }
    s
}

fn feed(pass: &mut Pass, log: &str) {
    let mut reader = TelemetryReader::new(log.as_bytes(), None).unwrap();
    while let Some(rec) = reader.next_record().unwrap() {
        pass.observe(&rec);
    }
}

fn counter() -> (Box<dyn Observer>, Arc<Mutex<Vec<Window>>>) {
    let finished = Arc::new(Mutex::new(Vec::new()));
    let c = Counter {
        seen: 0,
        finished: finished.clone(),
    };
    (Box::new(c), finished)
}

#[test]
fn a_whole_pass_finishes_every_observer_once_over_the_span_of_the_records() {
    let (a, fa) = counter();
    let (b, fb) = counter();
    let mut pass = Pass::whole(vec![a, b]);
    // Out of order on purpose: the span is min..max, not first..last.
    feed(&mut pass, &conn_log(&[20.0, 10.0, 30.5]));
    assert_eq!(pass.records(), 3);
    assert!(pass.tick(i64::MAX).is_empty(), "a whole pass has no ticks");
    let findings = pass.finish();
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].to_json()["records"], 3);
    let w = Window {
        start: 10_000_000,
        end: 30_500_000,
    };
    assert_eq!(*fa.lock().unwrap(), vec![w]);
    assert_eq!(*fb.lock().unwrap(), vec![w]);
}

#[test]
fn an_empty_pass_has_no_window_and_no_findings() {
    let (a, fa) = counter();
    assert!(Pass::whole(vec![a]).finish().is_empty());
    assert!(fa.lock().unwrap().is_empty());
}

#[test]
fn tumbling_windows_follow_the_callers_clock_and_skip_idle_stretches() {
    let (a, fa) = counter();
    let s = 1_000_000;
    let mut pass = Pass::tumbling(vec![a], 60 * s, 0);
    feed(&mut pass, &conn_log(&[1.0, 2.0]));
    assert!(
        pass.tick(59 * s).is_empty(),
        "still inside the first window"
    );
    let first = pass.tick(60 * s);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].to_json()["records"], 2);
    feed(&mut pass, &conn_log(&[3.0]));
    // An hour later: one finish for the window in progress, then the clock jumps.
    let later = pass.tick(3600 * s + 5 * s);
    assert_eq!(later[0].to_json()["records"], 1);
    let windows = fa.lock().unwrap().clone();
    assert_eq!(
        windows,
        vec![
            Window {
                start: 0,
                end: 60 * s - 1
            },
            Window {
                start: 60 * s,
                end: 120 * s - 1
            },
        ]
    );
    let last = pass.finish();
    assert_eq!(last[0].to_json()["start"], 3600 * s);
}

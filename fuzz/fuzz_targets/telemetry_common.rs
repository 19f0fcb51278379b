//! Shared by the telemetry fuzz targets: read everything, touch every field, and
//! match each record (the detector must not panic on any record a reader yields).
#![allow(dead_code)]

use std::sync::OnceLock;

use accord_match::{
    observed_data, Detector, DetectorConfig, IndicatorInput, InternalNets, Ruleset,
};
use accord_telemetry::{Format, Record, TelemetryReader};

fn rules() -> &'static Ruleset {
    static RULES: OnceLock<Ruleset> = OnceLock::new();
    RULES.get_or_init(|| {
        let patterns = [
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
            "[ipv6-addr:value = '::1']",
            "[domain-name:value LIKE '%.example']",
            "[url:value LIKE '%a%']",
            "[network-traffic:dst_port = 53 AND network-traffic:protocols[*] = 'udp']",
            "[domain-name:value MATCHES '^[a-z]+$']",
        ];
        Ruleset::compile(patterns.iter().enumerate().map(|(i, p)| IndicatorInput {
            id: format!("indicator--00000000-0000-4000-8000-{i:012}"),
            pattern: (*p).to_string(),
            valid_from: i64::MIN,
            valid_until: None,
            revoked: false,
            modified: 0,
        }))
    })
}

pub fn drain(input: &[u8], format: Option<Format>) {
    let Ok(mut reader) = TelemetryReader::new(input, format) else {
        return;
    };
    let Ok(config) = DetectorConfig::new("identity--00000000-0000-4000-8000-0000000000aa") else {
        return;
    };
    let config = config.with_internal(InternalNets::parse(["10.0.0.0/8"]).unwrap_or_default());
    let mut detector = Detector::new(rules(), config);
    for _ in 0..100_000 {
        match reader.next_record() {
            Ok(Some(record)) => {
                touch(&record);
                let _ = observed_data(&record);
                detector.observe(&record);
            }
            Ok(None) => break,
            Err(e) if e.is_fatal() => {
                let _ = e.to_string();
                break;
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    for s in detector.finish().0 {
        let _ = s.to_json();
    }
}

fn touch(record: &Record<'_>) {
    let _ = format!("{record:?}");
    if let Record::Dns(d) = record {
        d.answers.for_each(|a| {
            let _ = a.len();
        });
    }
}

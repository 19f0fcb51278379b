//! Runs the DDoS detector over telemetry files and prints its findings as the JSON
//! array of `accord --json detect ddos`, without a node: what `scripts/eval-ddos`
//! measures (`ACCORD=target/release/accord scripts/eval-ddos` runs the CLI instead,
//! with the same figures).
//!
//! ```text
//! cargo run --release -p accord-detect --example ddos -- [--internal CIDR]... FILE...
//! ```

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use accord_detect::ddos::{DdosConfig, DdosDetector};
use accord_detect::{InternalNets, Observer, Pass};
use accord_telemetry::TelemetryReader;

fn main() -> ExitCode {
    let mut internal = Vec::new();
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--internal" {
            match args.next() {
                Some(c) => internal.push(c),
                None => {
                    eprintln!("--internal needs a CIDR");
                    return ExitCode::from(2);
                }
            }
        } else {
            files.push(a);
        }
    }
    let nets = if internal.is_empty() {
        InternalNets::private()
    } else {
        match InternalNets::parse(&internal) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    };
    let detector: Box<dyn Observer> = Box::new(DdosDetector::new(DdosConfig::with_internal(nets)));
    let mut pass = Pass::whole(vec![detector]);
    for f in &files {
        let file = match File::open(f) {
            Ok(file) => file,
            Err(e) => {
                eprintln!("{f}: {e}");
                return ExitCode::from(1);
            }
        };
        let mut reader = match TelemetryReader::new(BufReader::with_capacity(1 << 20, file), None) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{f}: {e}");
                return ExitCode::from(1);
            }
        };
        loop {
            match reader.next_record() {
                Ok(Some(r)) => pass.observe(&r),
                Ok(None) => break,
                Err(e) if !e.is_fatal() => {}
                Err(e) => {
                    eprintln!("{f}: {e}");
                    break;
                }
            }
        }
    }
    let out: Vec<serde_json::Value> = pass.finish().iter().map(|f| f.to_json()).collect();
    println!("{}", serde_json::Value::Array(out));
    ExitCode::SUCCESS
}

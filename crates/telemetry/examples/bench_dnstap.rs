//! Decodes dnstap frames in a loop and prints frames/s on one core: the collector's
//! cost per DNS answer before the observers (`scripts/bench-collect` measures flows).
//!
//! ```text
//! cargo run --release -p accord-telemetry --example bench_dnstap -- [FRAMES]
//! ```

use std::net::IpAddr;
use std::time::Instant;

use accord_telemetry::dnstap::{encode, DnstapDecoder};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    // 1,000 distinct answers: names of 2-4 labels, one to three addresses, some NXDOMAIN.
    let frames: Vec<Vec<u8>> = (0..1000u32)
        .map(|i| {
            let name = format!("host{i}.cdn{}.example{}.com", i % 17, i % 5);
            let answers: Vec<IpAddr> = (0..(i % 3 + 1) as u8)
                .map(|k| IpAddr::from([198, 51, (i % 250) as u8, k]))
                .collect();
            let rcode = if i % 10 == 0 { 3 } else { 0 };
            let wire = encode::response(&name, rcode, if rcode == 0 { &answers } else { &[] });
            encode::client_response(
                IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]),
                IpAddr::from([192, 0, 2, 53]),
                (1_700_000_000 + u64::from(i), 0),
                &wire,
            )
        })
        .collect();
    let mut d = DnstapDecoder::new();
    let (mut records, mut name_bytes) = (0u64, 0usize);
    let start = Instant::now();
    for i in 0..n {
        if let Ok(Ok(rec)) = d.decode(&frames[i % frames.len()]) {
            records += 1;
            name_bytes += rec.query.as_deref().map_or(0, str::len);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{records} dnstap frames decoded in {secs:.2} s: {:.0} frames/s on one core ({name_bytes} name bytes)",
        records as f64 / secs
    );
}

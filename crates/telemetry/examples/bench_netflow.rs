//! Decoding speed of the NetFlow v5 / v9 / IPFIX decoder on one core.
//!
//! Usage: bench_netflow OUT_DIR [RECORDS]
//!
//! For each version, generates datagrams of realistic size (fixed seed; v5: 30 flows,
//! v9 and IPFIX: 24 flows of which one in six IPv6, templates in the first datagram
//! only), writes them to `OUT_DIR/netflow-<version>.bin` (each datagram preceded by
//! its length, 2 bytes big-endian: the Python baseline decodes the same bytes), then
//! decodes them in a loop with one `Decoder` until `RECORDS` flows (default
//! 10,000,000) have come out, and prints `version records seconds records/s` lines.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Instant;

use accord_telemetry::netflow::{encode, Decoder, Flow};

const T0: u32 = 1_700_000_000;
const DATAGRAMS: usize = 2_000;

/// xorshift64*: a fixed-seed generator, enough for varied addresses.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn flow(rng: &mut Rng, v6: bool) -> Flow {
    let r = rng.next();
    let (src, dst) = if v6 {
        let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        a[8..].copy_from_slice(&r.to_be_bytes());
        let mut b = a;
        b[4] = 0xff;
        (a.into(), b.into())
    } else {
        let x = r as u32;
        (
            [10, (x >> 16) as u8, (x >> 8) as u8, x as u8].into(),
            [198, 51, (x >> 24) as u8, (x >> 3) as u8].into(),
        )
    };
    let start = (i64::from(T0) * 1000 - (r % 3_000_000) as i64) * 1000;
    Flow {
        start,
        end: start + ((r >> 20) % 60_000) as i64 * 1000,
        src,
        dst,
        src_port: (r >> 32) as u16 | 1024,
        dst_port: [443, 80, 53, 123][(r >> 48) as usize % 4],
        proto: [6, 17][(r >> 50) as usize % 2],
        tcp_flags: (r >> 52) as u8,
        packets: (r >> 40) % 1000 + 1,
        bytes: (r >> 30) % 1_000_000 + 40,
        sampling: 1,
    }
}

fn datagrams(version: &str) -> (Vec<Vec<u8>>, usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(DATAGRAMS);
    let mut seq = 0u32;
    let mut flows_per_pass = 0;
    for i in 0..DATAGRAMS {
        let n = if version == "v5" { 30 } else { 24 };
        let flows: Vec<Flow> = (0..n)
            .map(|k| flow(&mut rng, version != "v5" && k % 6 == 5))
            .collect();
        flows_per_pass += flows.len();
        out.push(match version {
            "v5" => encode::v5(3_600_000, T0, seq, 0, &flows),
            "v9" => encode::v9(1, i as u32, T0, 3_600_000, &flows, i == 0),
            _ => encode::ipfix(1, seq, T0, &flows, i == 0),
        });
        seq = seq.wrapping_add(n as u32);
    }
    (out, flows_per_pass)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "bench-out".into());
    let records: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    std::fs::create_dir_all(&dir)?;
    let from: SocketAddr = "192.0.2.1:2055".parse().expect("address");
    for version in ["v5", "v9", "ipfix"] {
        let (dgs, _) = datagrams(version);
        let mut file = std::io::BufWriter::new(std::fs::File::create(format!(
            "{dir}/netflow-{version}.bin"
        ))?);
        for d in &dgs {
            file.write_all(&(d.len() as u16).to_be_bytes())?;
            file.write_all(d)?;
        }
        file.flush()?;
        let mut decoder = Decoder::new();
        let mut decoded = 0u64;
        let mut checksum = 0u64;
        let started = Instant::now();
        'outer: loop {
            for d in &dgs {
                let flows = decoder.decode(from, d).unwrap_or(&[]);
                decoded += flows.len() as u64;
                checksum = checksum.wrapping_add(flows.iter().map(|f| f.bytes).sum::<u64>());
                if decoded >= records {
                    break 'outer;
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{version} {decoded} {secs:.3} {:.0} (checksum {checksum}, dropped {})",
            decoded as f64 / secs,
            decoder.stats().dropped_total()
        );
    }
    Ok(())
}

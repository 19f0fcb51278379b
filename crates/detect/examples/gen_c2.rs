//! Synthetic Zeek conn.log for `scripts/bench-detect`.
//!
//! ```text
//! cargo run --release -p accord-detect --example gen_c2 -- OUT.log RECORDS PAIRS
//! ```
//!
//! Fixed-seed and reproducible. `PAIRS` distinct (internal host, destination) pairs
//! (hosts in 10.0.0.0/8, 50 pairs per host; destinations public-looking addresses on
//! ports 443/80/8080); records are in time order over one day. One record in 100
//! belongs to one of 1,000 beaconing pairs (regular gaps, 10% jitter, regular sizes),
//! the rest to pairs drawn uniformly with random sizes and outcomes, so that the
//! detector works on a realistic mix and has beacons to find.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;

/// SplitMix64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

const PAIRS_PER_HOST: u64 = 50;
const BEACONS: u64 = 1000;

fn host(pair: u64) -> Ipv4Addr {
    Ipv4Addr::from(0x0A00_0000 | ((pair / PAIRS_PER_HOST) as u32 & 0x00FF_FFFF))
}

/// A public-looking destination, deterministic per pair.
fn dest(pair: u64) -> (Ipv4Addr, u16) {
    let mut r = Rng(pair.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
    let x = r.next();
    let first = 11 + (x % 212) as u32;
    let first = if first == 127 { 128 } else { first };
    let a = (first << 24) | ((x >> 8) as u32 & 0x00FF_FFFF);
    let port = [443u16, 443, 443, 80, 8080][(x >> 40) as usize % 5];
    (Ipv4Addr::from(a), port)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(records), Some(pairs)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: gen_c2 OUT.log RECORDS PAIRS");
        std::process::exit(2);
    };
    let records: u64 = records.parse().unwrap_or(10_000_000);
    let pairs: u64 = pairs.parse().unwrap_or(1_000_000).max(BEACONS + 1);
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    writeln!(w, "#separator \\x09")?;
    writeln!(w, "#set_separator\t,")?;
    writeln!(w, "#empty_field\t(empty)")?;
    writeln!(w, "#unset_field\t-")?;
    writeln!(w, "#path\tconn")?;
    writeln!(w, "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents")?;
    writeln!(w, "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]")?;
    let mut r = Rng(42);
    let t0: u64 = 1_700_000_000_000_000;
    let step = 86_400_000_000 / records.max(1);
    // Every pair appears at least once: the first `pairs` records visit them in order
    // of a fixed permutation-like stride, the rest draw at random.
    for i in 0..records {
        let x = r.next();
        let ts = t0 + i * step + (x % step.max(1));
        let (pair, sent, resp, state) = if i % 100 == 0 {
            let b = (i / 100) % BEACONS;
            (b, 300 + x % 16, 120 + (x >> 8) % 8, "SF")
        } else if i < pairs {
            let p = BEACONS + (i.wrapping_mul(7_919) % (pairs - BEACONS));
            (p, x % 4000, (x >> 12) % 60_000, "SF")
        } else {
            let p = BEACONS + x % (pairs - BEACONS);
            let ok = (x >> 20) % 10 != 0;
            (
                p,
                (x >> 24) % 4000,
                if ok { (x >> 36) % 60_000 } else { 0 },
                if ok { "SF" } else { "S0" },
            )
        };
        let (d, port) = dest(pair);
        let rp = u64::from(resp > 0) * (3 + resp / 1400);
        writeln!(
            w,
            "{}.{:06}\tC{:x}\t{}\t{}\t{}\t{}\ttcp\t-\t{}.{:03}\t{}\t{}\t{}\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t(empty)",
            ts / 1_000_000,
            ts % 1_000_000,
            x & 0xFFFF_FFFF_FFFF,
            host(pair),
            1024 + (x >> 48) % 60_000,
            d,
            port,
            (x >> 4) % 5,
            (x >> 8) % 1000,
            sent,
            resp,
            state,
            3 + sent / 1400,
            sent + 120,
            rp,
            resp + rp * 40
        )?;
    }
    w.flush()
}

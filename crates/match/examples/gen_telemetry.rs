//! Synthetic inputs for `scripts/bench-match`: a Zeek conn.log (TSV) and indicator sets.
//!
//! ```text
//! cargo run --release -p accord-match --example gen_telemetry -- conn OUT.log RECORDS
//! cargo run --release -p accord-match --example gen_telemetry -- indicators OUT.jsonl COUNT
//! ```
//!
//! Everything is drawn from a fixed-seed generator, so files are reproducible. The
//! indicator sets are prefixes of one sequence (the 1k set is in the 100k set, which is
//! in the 1M set); the first `BAD_POOL` address indicators are also used as responders
//! in about 1% of the flows, so every set has matches. Mix: 40% IPv4 addresses, 20%
//! IPv4 networks (/16 to /28, mostly /24), 25% domain names (a fifth of them as
//! `LIKE '%.domain'`), 15% URLs.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;

/// Address indicators reused as flow responders.
const BAD_POOL: u64 = 500;

/// SplitMix64: small, fast, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A public-looking IPv4 address (first octet 11..223, not 127).
fn public_v4(r: &mut Rng) -> Ipv4Addr {
    let mut a = (r.next() as u32) & 0x00FF_FFFF;
    let first = 11 + r.below(212) as u32;
    let first = if first == 127 { 128 } else { first };
    a |= first << 24;
    Ipv4Addr::from(a)
}

/// The n-th indicator's address when it is an address indicator (deterministic per n).
fn indicator_ip(n: u64) -> Ipv4Addr {
    public_v4(&mut Rng(n.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xA5A5))
}

fn word(r: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| (b'a' + r.below(26) as u8) as char)
        .collect()
}

fn pattern(n: u64) -> String {
    let mut r = Rng(n ^ 0x5151_5151);
    match n % 20 {
        0..=7 => format!("[ipv4-addr:value = '{}']", indicator_ip(n)),
        8..=11 => {
            let len = match r.below(100) {
                0 => 16,
                1..=4 => 20,
                5..=14 => 22,
                15..=84 => 24,
                _ => 28,
            };
            let net = ipnet::Ipv4Net::new(public_v4(&mut r), len).map(|n| n.trunc());
            match net {
                Ok(net) => format!("[ipv4-addr:value ISSUBSET '{net}']"),
                Err(_) => format!("[ipv4-addr:value = '{}']", indicator_ip(n)),
            }
        }
        12..=16 => {
            let d = format!(
                "{}.{}",
                word(&mut r, 8),
                ["com", "net", "org", "example"][r.below(4) as usize]
            );
            if n % 5 == 0 {
                format!("[domain-name:value LIKE '%.{d}']")
            } else {
                format!("[domain-name:value = '{d}']")
            }
        }
        _ => format!(
            "[url:value = 'http://{}.example/{}/{}.php']",
            word(&mut r, 10),
            word(&mut r, 6),
            word(&mut r, 5)
        ),
    }
}

fn indicators(path: &str, count: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for n in 0..count {
        let line = serde_json::json!({
            "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", n >> 16, n),
            "pattern": pattern(n),
        });
        writeln!(out, "{line}")?;
    }
    out.flush()
}

fn conn(path: &str, records: u64) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    out.write_all(b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2024-05-01-00-00-00\n")?;
    out.write_all(b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n")?;
    out.write_all(b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n")?;
    let mut r = Rng(42);
    let start = 1_714_521_600u64; // 2024-05-01T00:00:00Z
    let services = ["-", "dns", "http", "ssl", "-", "ssl"];
    let states = ["SF", "S0", "REJ", "SF", "RSTO", "SF"];
    let mut line = String::with_capacity(256);
    use std::fmt::Write as _;
    for i in 0..records {
        line.clear();
        let ts_us = start * 1_000_000 + i * 8_640; // one day over 10M records
        let orig = Ipv4Addr::new(10, r.below(8) as u8, r.below(256) as u8, r.below(256) as u8);
        let resp = if r.below(100) == 0 {
            indicator_ip(r.below(BAD_POOL) / 8 * 20 + r.below(8)) // an address indicator
        } else {
            public_v4(&mut r)
        };
        let tcp = r.below(4) != 0;
        let (rp, svc) = if tcp {
            (
                [443u16, 80, 22, 8080][r.below(4) as usize],
                services[r.below(6) as usize],
            )
        } else {
            (53, "dns")
        };
        let ob = r.below(5000);
        let rb = r.below(50_000);
        let _ = writeln!(
            line,
            "{}.{:06}\tC{:016x}\t{}\t{}\t{}\t{}\t{}\t{}\t{}.{:06}\t{}\t{}\t{}\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t(empty)",
            ts_us / 1_000_000,
            ts_us % 1_000_000,
            r.next(),
            orig,
            1024 + r.below(60_000),
            resp,
            rp,
            if tcp { "tcp" } else { "udp" },
            svc,
            r.below(30),
            r.below(1_000_000),
            ob,
            rb,
            states[r.below(6) as usize],
            ob / 500 + 1,
            ob + 40,
            rb / 1000 + 1,
            rb + 40,
        );
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: gen_telemetry (conn|indicators) OUT COUNT";
    let (Some(kind), Some(path), Some(count)) = (
        args.get(1),
        args.get(2),
        args.get(3).and_then(|c| c.parse::<u64>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let result = match kind.as_str() {
        "conn" => conn(path, count),
        "indicators" => indicators(path, count),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("gen_telemetry: {path}: {e}");
        std::process::exit(1);
    }
}

//! Enrichment lookups per second on one core (scripts/bench-hub).
//!
//! `bench_lookup COUNTRY.mmdb ASN.mmdb [LOOKUPS]`: random IPv4 addresses (a fixed
//! xorshift sequence), each looked up in both databases (country, ASN and AS name),
//! one thread. Prints lookups/s (one lookup = one address enriched): through the
//! `maxminddb` reader (plain, and with decoded records cached), and through the
//! flattened range table (`Enricher::flatten`, its build time printed apart).
use std::net::IpAddr;
use std::time::Instant;

use accord_enrich::{Database, Enricher};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: bench_lookup COUNTRY.mmdb ASN.mmdb [LOOKUPS]".into());
    }
    let country = Database::from_bytes(std::fs::read(&args[1])?)?;
    let asn = Database::from_bytes(std::fs::read(&args[2])?)?;
    let lookups: u64 = args.get(3).map_or(Ok(5_000_000), |s| s.parse())?;
    let e = Enricher::new(Some(country), Some(asn));
    for cached in [false, true] {
        let mut cache = accord_enrich::EnrichCache::default();
        let mut x: u32 = 0x9e37_79b9;
        let mut located = 0u64;
        let (start, c) = (Instant::now(), cpu());
        for _ in 0..lookups {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let ip = IpAddr::from(x.to_be_bytes());
            let p = if cached {
                e.lookup_cached(ip, &mut cache)
            } else {
                e.lookup(ip)
            };
            located += u64::from(p.country.is_some() || p.asn.is_some());
        }
        let s = start.elapsed().as_secs_f64();
        let on_cpu = cpu() - c;
        println!(
            "{} {lookups} lookups in {s:.3} s wall, {on_cpu:.3} s CPU: {:.0} lookups/s on one core ({located} located)",
            if cached {
                "cached records:"
            } else {
                "plain:         "
            },
            lookups as f64 / s
        );
    }
    let (start, c) = (Instant::now(), cpu());
    let flat = e.flatten()?;
    let (v4, v6) = flat.ranges();
    println!(
        "flattening:     {:.3} s wall, {:.3} s CPU ({v4} IPv4 ranges, {v6} IPv6 ranges)",
        start.elapsed().as_secs_f64(),
        cpu() - c
    );
    let mut x: u32 = 0x9e37_79b9;
    let mut located = 0u64;
    let (start, c) = (Instant::now(), cpu());
    for _ in 0..lookups {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let p = flat.lookup(IpAddr::from(x.to_be_bytes()));
        located += u64::from(p.country.is_some() || p.asn.is_some());
    }
    let s = start.elapsed().as_secs_f64();
    let on_cpu = cpu() - c;
    println!(
        "flat table:     {lookups} lookups in {s:.3} s wall, {on_cpu:.3} s CPU: {:.0} lookups/s on one core, {:.0} per CPU second ({located} located)",
        lookups as f64 / s,
        lookups as f64 / on_cpu.max(1e-9)
    );
    Ok(())
}

/// CPU time of this process so far (seconds; Linux `/proc/self/schedstat`, 0 elsewhere):
/// the machine is shared, so wall time alone says little.
fn cpu() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

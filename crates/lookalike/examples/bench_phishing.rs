//! Measure `Detector::check` on one core: `bench_phishing BRANDS NAMES [ROUNDS]`.
//! Loads the names into memory first, then times the checks only (best of ROUNDS);
//! prints one JSON line.
use accord_lookalike::{Detector, IndexBuilder, SuffixList};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(brands), Some(names)) = (args.next(), args.next()) else {
        eprintln!("usage: bench_phishing BRANDS NAMES [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let t = Instant::now();
    let mut b = IndexBuilder::new(SuffixList::Bundled);
    let n_brands = b
        .add_brands(&read(&brands))
        .unwrap_or_else(|e| panic!("{e}"));
    b.add_popular(accord_lookalike::index::BUNDLED_POPULAR);
    let index = b.build();
    let build_secs = t.elapsed().as_secs_f64();
    let text = read(&names);
    let names: Vec<&str> = text.lines().collect();
    let mut d = Detector::new(&index);
    let (mut best, mut best_cpu, mut found, mut refused) = (f64::MAX, f64::MAX, 0usize, 0usize);
    for _ in 0..rounds {
        let (mut f, mut r) = (0usize, 0usize);
        let t = Instant::now();
        let c = cpu_secs();
        for n in &names {
            match d.check(n) {
                Ok(Some(_)) => f += 1,
                Ok(None) => {}
                Err(_) => r += 1,
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_secs() - c);
        (found, refused) = (f, r);
    }
    println!(
        "{{\"brands\":{n_brands},\"names\":{},\"index_build_secs\":{build_secs:.3},\"check_secs\":{best:.3},\"names_per_sec\":{:.0},\"check_cpu_secs\":{best_cpu:.2},\"names_per_cpu_sec\":{:.0},\"found\":{found},\"refused\":{refused}}}",
        names.len(),
        names.len() as f64 / best,
        names.len() as f64 / best_cpu.max(0.01)
    );
}

/// CPU time of this process (user + system) from /proc (10 ms ticks): on a shared
/// machine the wall time includes waiting for a core.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

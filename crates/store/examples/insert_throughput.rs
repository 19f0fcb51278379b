//! Durable insert throughput as the store grows: what a TAXII POST pays.
//!
//! Inserts N indicator-sized objects (~560 bytes, random ids) into one collection in
//! commits of 1,000 (one POST envelope), every commit durable, and prints the rate of
//! each tenth of the run, so the cost of a large store shows.
//!
//! ```text
//! cargo run --release -p accord-store --example insert_throughput -- 1000000 /tmp/store.sqlite
//! ```

use std::time::Instant;

use accord_store::{NewObject, Provenance, SqliteStore, Store, VersionStamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const COMMIT: usize = 1_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let path = args
        .next()
        .unwrap_or_else(|| "insert-throughput.sqlite".to_string());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let store = SqliteStore::open(&path)?;
    let provenance = Provenance::new("partner", "bench");
    // Seeded, so runs compare.
    let mut ids = StdRng::seed_from_u64(0x5eed);
    let tenth = (total / 10).max(COMMIT);
    let (mut done, mut mark, mut since) = (0, Instant::now(), 0);
    let start = Instant::now();
    while done < total {
        let batch: Vec<NewObject> = (0..COMMIT.min(total - done))
            .map(|_| indicator(&mut ids))
            .collect();
        store.insert(&batch, &provenance, Some("collection"))?;
        done += batch.len();
        since += batch.len();
        if since >= tenth || done == total {
            let rate = since as f64 / mark.elapsed().as_secs_f64();
            println!("{done:>10} objects: {rate:>9.0} objects/s");
            (mark, since) = (Instant::now(), 0);
        }
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    println!("overall: {rate:.0} objects/s");
    Ok(())
}

fn indicator(ids: &mut StdRng) -> NewObject {
    let (a, b): (u64, u64) = (ids.gen(), ids.gen());
    let id = format!(
        "indicator--{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    );
    let json = format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"C2 server","description":"Command-and-control server seen in DDoS campaigns against the operator's customers, shared under agreement.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.{}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","labels":["c2","ddos"],"confidence":80,"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}}"#,
        a % 256
    );
    NewObject {
        id,
        object_type: "indicator".to_string(),
        spec_version: "2.1".to_string(),
        version: Some(VersionStamp {
            micros: 1_767_225_600_000_000,
            text: "2026-01-01T00:00:00.000Z".to_string(),
        }),
        facts: br#"{"F":1,"t":"indicator","m":"green","c":80,"l":["c2","ddos"]}"#.to_vec(),
        analytics: Default::default(),
        json,
    }
}

//! Time paging through a collection with the door, in-process: local access, and a
//! partner under an agreement given as a TOML file (its decisions and ledger writes
//! included). For profiling the gate without HTTP.
//!
//! `cargo run --release -p accord-node --example egress_throughput -- N [AGREEMENT.toml]`

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::{Agreement, Gate};
use accord_node::egress::{Egress, Readers, Recipient};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_store::{Durability, ObjectQuery, Provenance, Scope, SqliteStore};

/// The objects of scripts/bench-gate: TLP:GREEN C2 indicators, one in twenty about
/// an address in the provider's customer range 198.51.100.0/24.
fn indicator(i: usize) -> String {
    let ip = if i % 20 == 0 {
        format!("198.51.100.{}", i % 250)
    } else {
        format!("{}.{}.{}.7", (i >> 16) % 223 + 1, (i >> 8) & 255, i & 255)
    };
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","name":"C2 server {ip}","description":"Botnet C2 seen at {ip}","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2026-01-10T10:00:00Z","labels":["c2","ddos"],"confidence":80,"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],"x_telco_ticket":"INC-{i}"}}"#,
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &i.to_be_bytes()),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let agreement = args.next();
    let dir = std::env::temp_dir().join(format!("egress-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(SqliteStore::open_with(
        dir.join("store.sqlite"),
        Durability::AtSync,
    )?);
    let texts: Vec<String> = (0..count).map(indicator).collect();
    for chunk in texts.chunks(5_000) {
        ingest_batch(
            &*store,
            chunk,
            &Provenance::new("telco", "bench"),
            Some("c"),
            &IngestOptions::default(),
        )?;
    }
    drop(store);
    let store = Arc::new(SqliteStore::open(dir.join("store.sqlite"))?);
    let mut door = Egress::new(store, "telco").with_readers(Readers::everyone());
    if let Some(path) = &agreement {
        let mut agreement = Agreement::from_toml(&std::fs::read_to_string(path)?)?;
        if let Ok(hex) = std::env::var("BENCH_KEY") {
            agreement = agreement.with_key(accord_agreements::PseudonymKey::from_hex(&hex)?);
        }
        door = door.with_gate(Gate::new([agreement])?);
    }
    for (who, label) in [("telco", "local"), ("centre", "partner")] {
        let started = Instant::now();
        let query = ObjectQuery::new(Scope::Collection("c".into()), 1000);
        let mut n = 0;
        let mut token: Option<String> = None;
        loop {
            let page = door.objects(&Recipient::new(who), &query, token.as_deref())?;
            n += page.objects.len();
            match (page.more, page.next) {
                (true, Some(next)) => token = Some(next),
                _ => break,
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{label:<8} {n:>8} objects {secs:6.2} s {:>10.0} objects/s",
            n as f64 / secs
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

//! Routing a store of N objects (scripts/bench-hub).
//!
//! `bench_route COUNTRY.mmdb ASN.mmdb DIR [N]`: a store in DIR with N objects (40%
//! address SCOs, 30% indicators about one address, 10% infrastructure, 20%
//! consists-of relationships from infrastructure to addresses), random public IPv4
//! addresses; then the enrichment (`accord_node::enrich::run`), and `route` (dry run:
//! selection and the gate's decision for every selected object, nothing recorded) for
//! three recipients responsible for 20 countries each, under agreements releasing
//! everything up to TLP:GREEN. Prints the time of each phase.
use std::collections::BTreeSet;

/// The allocator `accord` itself runs with (crates/cli/src/main.rs): routing allocates
/// a row per object, and the system allocator's consolidation was a third of the
/// selection's profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::sync::Arc;
use std::time::Instant;

use accord_agreements::{Agreement, Gate, ObjectFacts};
use accord_node::egress::Egress;
use accord_node::enrich::{self, Databases, Index};
use accord_node::route::{self, Responsible};
use accord_store::{Durability, NewObject, Provenance, SqliteStore, Store, VersionStamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: bench_route COUNTRY.mmdb ASN.mmdb DIR [N]".into());
    }
    let n: usize = args.get(4).map_or(Ok(1_000_000), |s| s.parse())?;
    let dir = std::path::Path::new(&args[3]);
    std::fs::create_dir_all(dir)?;
    let path = dir.join("bench-route.sqlite");
    let _ = std::fs::remove_file(&path);
    let store = Arc::new(SqliteStore::open_with(&path, Durability::AtSync)?);
    let mut x: u32 = 0x1234_5678;
    let mut ip = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let a = 1 + (x % 222);
        format!(
            "{a}.{}.{}.{}",
            (x >> 8) & 255,
            (x >> 16) & 255,
            1 + (x >> 24) % 250
        )
    };
    let start = Instant::now();
    let mut batch = Vec::new();
    let mut scos: Vec<String> = Vec::new();
    let mut infra: Vec<String> = Vec::new();
    let stamp = "2026-02-01T00:00:00.000Z";
    for i in 0..n {
        let uuid = format!("00000000-0000-4000-8000-{i:012}");
        let (kind, json) = match i % 10 {
            0..=3 => {
                let id = format!("ipv4-addr--{uuid}");
                scos.push(id.clone());
                (
                    "ipv4-addr",
                    format!(
                        r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"{id}","value":"{}"}}"#,
                        ip()
                    ),
                )
            }
            4..=6 => (
                "indicator",
                format!(
                    r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{uuid}","created":"{stamp}","modified":"{stamp}","pattern":"[ipv4-addr:value = '{}']","pattern_type":"stix","valid_from":"2026-02-01T00:00:00Z","labels":["c2"]}}"#,
                    ip()
                ),
            ),
            7 => {
                let id = format!("infrastructure--{uuid}");
                infra.push(id.clone());
                (
                    "infrastructure",
                    format!(
                        r#"{{"type":"infrastructure","spec_version":"2.1","id":"{id}","created":"{stamp}","modified":"{stamp}","name":"C2 {i}"}}"#
                    ),
                )
            }
            _ => {
                let s = infra.last().cloned().unwrap_or_default();
                let t = scos.get(i % scos.len().max(1)).cloned().unwrap_or_default();
                (
                    "relationship",
                    format!(
                        r#"{{"type":"relationship","spec_version":"2.1","id":"relationship--{uuid}","created":"{stamp}","modified":"{stamp}","relationship_type":"consists-of","source_ref":"{s}","target_ref":"{t}"}}"#
                    ),
                )
            }
        };
        let value: serde_json::Value = serde_json::from_str(&json)?;
        batch.push(NewObject {
            id: value["id"].as_str().unwrap_or_default().to_owned(),
            object_type: kind.to_owned(),
            spec_version: "2.1".into(),
            version: (kind != "ipv4-addr").then(|| VersionStamp {
                micros: 1_769_904_000_000_000,
                text: stamp.into(),
            }),
            facts: ObjectFacts::extract(&value).to_column(),
            json,
            analytics: Default::default(),
        });
        if batch.len() == 10_000 {
            store.insert(&batch, &Provenance::new("telco", "bench"), None)?;
            batch.clear();
        }
    }
    store.insert(&batch, &Provenance::new("telco", "bench"), None)?;
    store.sync()?;
    println!(
        "store of {n} objects built in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let dbs = Databases::open(Some(args[1].as_ref()), Some(args[2].as_ref()))?;
    let (t, c) = (Instant::now(), cpu());
    let summary = enrich::run(&*store, &dbs, true)?;
    println!(
        "enrich: {} object versions, {} addresses ({} located) in {:.2} s ({:.2} s CPU)",
        summary.objects_read,
        summary.addresses,
        summary.located,
        t.elapsed().as_secs_f64(),
        cpu() - c
    );
    let t = Instant::now();
    let index = Index::load(&*store)?;
    println!(
        "index: {} addresses loaded in {:.2} s",
        index.len(),
        t.elapsed().as_secs_f64()
    );

    let codes: Vec<String> = ["A", "B", "C"]
        .iter()
        .flat_map(|a| {
            ["A", "B", "C", "D", "E", "F", "G"]
                .iter()
                .map(move |b| format!("{a}{b}"))
        })
        .collect();
    let mut recipients = Vec::new();
    let mut agreements = Vec::new();
    for (k, chunk) in codes.chunks(7).enumerate() {
        let name = format!("cert-{k}");
        recipients.push(Responsible {
            organisation: name.clone(),
            countries: chunk.iter().cloned().collect::<BTreeSet<_>>(),
            asns: BTreeSet::new(),
        });
        agreements.push(Agreement::from_toml(&format!(
            "id = \"a{k}\"\nversion = 1\nprovider = {{ id = \"telco\" }}\nrecipient = {{ id = \"{name}\" }}\npurpose = \"p\"\nlegal_basis = \"l\"\nvalidity = {{ from = 2026-01-01T00:00:00Z }}\nobligations = {{ onward_sharing = true }}\n[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\n"
        ))?);
    }
    let egress = Egress::new(store.clone(), "hub").with_gate(Gate::new(agreements)?);
    let (t, c) = (Instant::now(), cpu());
    let selection = route::select(&*store, &index, &recipients, None)?;
    let selected: usize = selection.values().map(|m| m.len()).sum();
    println!(
        "select: {selected} selections over {n} objects in {:.2} s ({:.2} s CPU)",
        t.elapsed().as_secs_f64(),
        cpu() - c
    );
    let (t, c) = (Instant::now(), cpu());
    let packages = route::route(&*store, &egress, &index, &recipients, None, false)?;
    let released: usize = packages.iter().map(|p| p.released.len()).sum();
    let withheld: usize = packages.iter().map(|p| p.withheld.len()).sum();
    println!(
        "route (dry run: select + gate): {n} objects, {released} released, {withheld} withheld in {:.2} s ({:.2} s CPU)",
        t.elapsed().as_secs_f64(),
        cpu() - c
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

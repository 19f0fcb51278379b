//! Ledger appends as a server makes them: pages of releases recorded through the
//! ledger writer into a durable store (every commit on disk), each page chained,
//! added to the Merkle tree, and covered by a tree head signed with the node's
//! Ed25519 key, with a receipt per page. Reports releases per second, then the time
//! of a lookup by (recipient, object id) in the full ledger (`accord ledger explain`).
//!
//! `cargo run --release -p accord-node --example ledger_throughput -- [RELEASES] [PAGE] [READERS]`
//! (defaults 1,000,000 releases, pages of 1,000, 2 concurrent readers)

use std::sync::Arc;
use std::time::Instant;

use accord_agreements::transparency::LedgerSigner;
use accord_agreements::{LedgerDraft, UtcMicros};
use accord_node::egress::LedgerWriter;
use accord_store::{SqliteStore, Store};

fn draft(i: usize) -> LedgerDraft {
    let id = format!(
        "indicator--{}",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &i.to_be_bytes())
    );
    LedgerDraft {
        time: UtcMicros(1_780_000_000_000_000 + i as i64),
        recipient: "centre".into(),
        released_id: id.clone(),
        object_id: id,
        object_salt: [0; 16],
        object_version: "2026-01-10T10:00:00.000Z".into(),
        agreement_id: "bench".into(),
        agreement_version: 1,
        purpose: "Joint operation against DDoS C2 infrastructure".into(),
        legal_basis: "Art. 6(1)(f) GDPR and the MoU of 12 January 2026, clause 4.".into(),
        released_sha256: [i as u8; 32],
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let page: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000);
    let readers: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2);
    let dir = std::env::temp_dir().join(format!("ledger-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(if std::env::var_os("LEDGER_NO_FSYNC").is_some() {
        SqliteStore::open_with(dir.join("store.sqlite"), accord_store::Durability::AtSync)?
    } else {
        SqliteStore::open(dir.join("store.sqlite"))?
    });
    let signer = Arc::new(LedgerSigner::from_seed(&[7; 32]));
    let writer = LedgerWriter::start(store.clone(), Some(signer))?;
    let pages: Vec<Vec<LedgerDraft>> = (0..count)
        .collect::<Vec<_>>()
        .chunks(page)
        .map(|c| c.iter().map(|&i| draft(i)).collect())
        .collect();
    let per_reader = pages.len().div_ceil(readers.max(1));
    let started = Instant::now();
    let receipts = std::thread::scope(|scope| {
        let handles: Vec<_> = pages
            .chunks(per_reader.max(1))
            .map(|mine| {
                let writer = writer.clone();
                scope.spawn(move || {
                    mine.iter()
                        .map(|p| writer.record(p.clone()).map(|r| r.is_some()))
                        .filter(|r| matches!(r, Ok(true)))
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(0))
            .sum::<usize>()
    });
    let secs = started.elapsed().as_secs_f64();
    let tree = store.ledger_tree()?;
    let head = store.ledger_latest_head()?;
    println!(
        "{count} releases in pages of {page} from {readers} readers: {secs:.2} s, {:.0} releases/s; {receipts} receipts; tree of {} entries, latest signed head over {}",
        count as f64 / secs,
        tree.size,
        head.map_or(0, |h| h.head.tree_size)
    );
    // Lookups of releases spread over the whole ledger, each found once.
    let lookups = 1_000.min(count);
    let started = Instant::now();
    for k in 0..lookups {
        let draft = draft(k * (count / lookups));
        let found = store.ledger_find(&draft.recipient, &draft.object_id)?;
        if found.len() != 1 {
            return Err(format!("{} found {} times", draft.object_id, found.len()).into());
        }
    }
    println!(
        "ledger_find in a ledger of {count}: {:.0} µs per lookup ({lookups} lookups)",
        started.elapsed().as_secs_f64() * 1e6 / lookups.max(1) as f64
    );
    drop(writer);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

//! SQLite-specific behaviour: files, durability across reopen, query plans.

use std::ops::Deref;

use accord_store::{NewObject, ObjectQuery, Provenance, Scope, SqliteStore, Store};

/// A file-backed store in a temporary directory removed on drop.
pub struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl TempStore {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("accord.sqlite")).expect("open store");
        Self { store, _dir: dir }
    }
}

impl Deref for TempStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

fn object(n: u32) -> NewObject {
    let id = format!("ipv4-addr--00000000-0000-5000-8000-{n:012}");
    NewObject {
        json: format!(
            r#"{{"type":"ipv4-addr","id":"{id}","value":"203.0.113.{}"}}"#,
            n % 250
        ),
        id,
        object_type: "ipv4-addr".into(),
        spec_version: "2.1".into(),
        version: None,
        facts: Vec::new(),
        analytics: Default::default(),
    }
}

#[test]
fn acknowledged_writes_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .insert(
                &[object(1), object(2)],
                &Provenance::new("telco", "t"),
                Some("c"),
            )
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let page = store
        .query(&ObjectQuery::new(Scope::Collection("c".into()), 10))
        .unwrap();
    assert_eq!(page.rows.len(), 2);
    // Stamps keep increasing after a reopen.
    let later = store
        .insert(&[object(3)], &Provenance::new("telco", "t"), Some("c"))
        .unwrap();
    assert!(later[0].date_added() > page.rows[1].date_added);
}

#[test]
fn a_read_only_store_reads_and_refuses_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let missing = SqliteStore::open_read_only(&path);
    assert!(missing.is_err(), "a missing store is not created");
    assert!(!path.exists(), "nothing was created");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .insert(&[object(1)], &Provenance::new("telco", "t"), Some("c"))
            .unwrap();
        store.sync().unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let store = SqliteStore::open_read_only(&path).unwrap();
    let page = store
        .query(&ObjectQuery::new(Scope::Collection("c".into()), 10))
        .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(store.stats().unwrap().objects, 1);
    let write = store.insert(&[object(2)], &Provenance::new("telco", "t"), Some("c"));
    assert!(write.is_err(), "SQLite refuses the write");
    drop(store);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is unchanged"
    );
    std::fs::write(dir.path().join("empty.sqlite"), b"").unwrap();
    let err = SqliteStore::open_read_only(dir.path().join("empty.sqlite"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("older"), "{err}");
}

#[test]
fn two_handles_on_one_file_never_reuse_a_stamp() {
    // A CLI ingest beside a running server: two writers on one file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.sqlite");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let p = Provenance::new("telco", "t");
    let mut stamps = Vec::new();
    for n in 0..20 {
        let store = if n % 2 == 0 { &a } else { &b };
        stamps.push(store.insert(&[object(n)], &p, Some("c")).unwrap()[0].date_added());
    }
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
}

// The plans of the page and id queries are tested beside the SQL they check
// (`sqlite::query` and `sqlite::write` unit tests), on the statements the store runs.

/// The ledger's lookup indexes of a new store; their plans are tested beside the
/// lookups (`sqlite::ledger` unit tests).
fn ledger_indexes(path: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger' \
             ORDER BY name",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Appends insert at the right edge of the lookup indexes: they lead with the entry's
/// epoch (`seq >> 14`), not with the random release key.
#[test]
fn ledger_lookup_indexes_lead_with_the_epoch() {
    let store = TempStore::new();
    let indexes = ledger_indexes(store.path().unwrap());
    let names: Vec<&str> = indexes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ledger_by_held", "ledger_by_release"]);
    assert!(
        indexes[0].1.contains("(seq >> 14, held_key)"),
        "{indexes:?}"
    );
    assert!(
        indexes[1].1.contains("(seq >> 14, release_key)"),
        "{indexes:?}"
    );
}

/// A version 3 store (objects indexed by id key and version) opens with the version 4
/// index (the id key alone), and its objects are found by id as before.
#[test]
fn a_version_3_store_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.sqlite");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .insert(
                &[object(1), object(2)],
                &Provenance::new("telco", "t"),
                None,
            )
            .unwrap();
    }
    let index_columns = |conn: &rusqlite::Connection| -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_index_info('objects_by_key')")
            .unwrap();
        let names = stmt.query_map([], |r| r.get(0)).unwrap();
        names.collect::<Result<_, _>>().unwrap()
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX objects_by_key;
             CREATE INDEX objects_by_key ON objects (id_key, version_us);
             DROP INDEX ledger_by_held;
             DROP TABLE ledger_heads;
             ALTER TABLE ledger DROP COLUMN released_id;
             ALTER TABLE ledger DROP COLUMN held_key;
             ALTER TABLE ledger DROP COLUMN salt;
             ALTER TABLE ledger DROP COLUMN nodes;
             DROP TABLE removals;
             DROP TABLE secrets;
             DROP TABLE meta;
             PRAGMA user_version = 3;",
        )
        .unwrap();
        assert_eq!(index_columns(&conn), ["id_key", "version_us"]);
    }
    let store = SqliteStore::open(&path).unwrap();
    let id = object(2).id;
    assert_eq!(store.latest(&id).unwrap().map(|row| row.id), Some(id));
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(index_columns(&conn), ["id_key"]);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 15);
}

/// A version 4 store (no removal log, no secrets, a ledger indexed by release key
/// alone) opens with both and the epoch-led ledger indexes, and removals are logged
/// from then on.
#[test]
fn a_version_4_store_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("schema_v4.sql")).unwrap();
        conn.execute_batch("PRAGMA user_version = 4;").unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    store
        .insert(&[object(1)], &Provenance::new("telco", "t"), Some("c"))
        .unwrap();
    let id = object(1).id;
    let removed = store
        .remove_from_collection("c", &id, &accord_store::VersionFilter::all(), None)
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(store.removals_after(0, 10).unwrap().len(), 1);
    assert_eq!(store.node_secret("k", &[7]).unwrap(), vec![7]);
    drop(store);
    // The ledger's lookup indexes are those of a new store (led by the epoch).
    let fresh = TempStore::new();
    assert_eq!(ledger_indexes(&path), ledger_indexes(fresh.path().unwrap()));
}

/// A version 4 store (a hash chain, no tree) with format 1 entries reopens with the
/// ledger's Merkle tree built over them: its root is the RFC 9162 root of the stored
/// entries, inclusion and consistency proofs from the stored nodes verify, the old
/// entries still verify as a chain, and new entries continue the tree.
#[test]
fn a_version_4_store_gets_its_ledger_tree_on_open() {
    use accord_agreements::ledger::{verify, ChainHead, EntryFormat, LedgerDraft, LedgerEntry};
    use accord_agreements::merkle;
    use accord_agreements::UtcMicros;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.sqlite");
    let draft = |i: u64| LedgerDraft {
        time: UtcMicros(1_780_000_000_000_000 + i as i64),
        recipient: "centre".into(),
        object_id: format!("indicator--{i}"),
        released_id: format!("indicator--{i}"),
        object_salt: [0; 16],
        object_version: "2026-01-01T00:00:00.000Z".into(),
        agreement_id: "a".into(),
        agreement_version: 1,
        purpose: "p".into(),
        legal_basis: "b".into(),
        released_sha256: [i as u8; 32],
    };
    // What a version 4 build wrote: format 1 entries.
    let mut head = ChainHead::genesis();
    let old: Vec<LedgerEntry> = (1..=11)
        .map(|i| {
            let mut e = accord_agreements::ledger::chain(head, draft(i));
            e.format = EntryFormat::V1;
            e.released_id.clear();
            e.object_commitment = [0; 32];
            e.hash = e.compute_hash();
            head = ChainHead::after(&e);
            e
        })
        .collect();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("schema_v4.sql")).unwrap();
        conn.execute_batch("PRAGMA user_version = 4;").unwrap();
        for e in &old {
            conn.execute(
                "INSERT INTO ledger (seq, release_key, recipient, object_id, encoded, hash) VALUES (?1, 0, ?2, ?3, ?4, ?5)",
                rusqlite::params![e.seq as i64, e.recipient, e.object_id, e.encoded(), e.hash.to_vec()],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    let leaves: Vec<merkle::Hash> = old.iter().map(LedgerEntry::leaf_hash).collect();
    let tree = store.ledger_tree().unwrap();
    assert_eq!(tree.size, 11);
    let mut frontier = merkle::Frontier::new();
    leaves.iter().for_each(|l| {
        frontier.push(*l);
    });
    assert_eq!(tree.root, frontier.root());
    for index in 0..11 {
        let plan = merkle::inclusion_plan(index, 11).unwrap();
        let proof = plan
            .assemble(&store.ledger_nodes(&plan.nodes()).unwrap())
            .unwrap();
        merkle::verify_inclusion(index, 11, &leaves[index as usize], &proof, &tree.root).unwrap();
    }
    // The old records read back with no released id and no salt, and still chain.
    let records = store.ledger_scan(0, 100).unwrap();
    assert!(records
        .iter()
        .all(|r| r.released_id.is_empty() && r.salt.is_empty()));
    let decoded: Vec<LedgerEntry> = records
        .iter()
        .map(|r| {
            accord_agreements::ledger::decode_chain(&r.encoded)
                .unwrap()
                .remove(0)
        })
        .collect();
    assert_eq!(decoded, old);
    assert_eq!(verify(&decoded).unwrap(), head);
    // New (format 2) entries continue the chain and the tree.
    let new = head.append(draft(12));
    let record = accord_store::LedgerRecord {
        seq: 12,
        recipient: new.recipient.clone(),
        object_id: new.object_id.clone(),
        released_id: new.released_id.clone(),
        encoded: new.encoded(),
        hash: new.hash.to_vec(),
        salt: new.object_salt.to_vec(),
    };
    let grown = store.ledger_append(&[record]).unwrap();
    frontier.push(new.leaf_hash());
    assert_eq!((grown.size, grown.root), (12, frontier.root()));
    let plan = merkle::consistency_plan(11, 12).unwrap();
    let proof = plan
        .assemble(&store.ledger_nodes(&plan.nodes()).unwrap())
        .unwrap();
    merkle::verify_consistency(11, 12, &tree.root, &grown.root, &proof).unwrap();
    drop(store);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 15);
}

/// A store written by the first schema (no version marks, a text-indexed ledger) opens
/// migrated: versions, paging and ledger lookups answer as in a new store.
#[test]
fn a_version_1_store_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("schema_v1.sql")).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO objects VALUES (10, 'indicator--a', 'indicator', '2.1', 100, 't100', 'telco', 'cli', x'', '{}');
             INSERT INTO objects VALUES (20, 'indicator--a', 'indicator', '2.1', 300, 't300', 'telco', 'cli', x'', '{}');
             INSERT INTO objects VALUES (30, 'indicator--a', 'indicator', '2.1', 200, 't200', 'telco', 'cli', x'', '{}');
             INSERT INTO entries VALUES (10, 'c', 10, 'indicator--a', 'indicator', 100, 'telco');
             INSERT INTO entries VALUES (20, 'c', 20, 'indicator--a', 'indicator', 300, 'telco');
             INSERT INTO ledger VALUES (1, 'centre', 'indicator--a', x'00', x'00');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let versions = |scope: Scope, filter: accord_store::VersionFilter| -> Vec<String> {
        let mut q = ObjectQuery::new(scope, 10);
        q.versions = filter;
        store
            .query(&q)
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.version)
            .collect()
    };
    let first = accord_store::VersionFilter {
        first: true,
        ..Default::default()
    };
    assert_eq!(
        versions(Scope::Store, accord_store::VersionFilter::last()),
        ["t300"]
    );
    assert_eq!(versions(Scope::Store, first.clone()), ["t100"]);
    assert_eq!(
        versions(
            Scope::Collection("c".into()),
            accord_store::VersionFilter::last()
        ),
        ["t300"]
    );
    assert_eq!(versions(Scope::Collection("c".into()), first), ["t100"]);
    assert_eq!(
        store.ledger_find("centre", "indicator--a").unwrap().len(),
        1
    );
    // Reopening a migrated store changes nothing.
    drop(store);
    assert!(SqliteStore::open(&path).is_ok());
}

/// A version 5 store (no `meta` table) opens with one; its facts record no extraction
/// (0) until a refresh, which rewrites only the columns that change, across batches,
/// and records the extraction.
#[test]
fn a_version_5_store_gets_its_facts_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let objects: Vec<NewObject> = (0..2_500).map(object).collect();
    store
        .insert(&objects, &Provenance::new("telco", "t"), Some("c"))
        .unwrap();
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE meta; PRAGMA user_version = 5;")
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.facts_extraction().unwrap(), 0);
    // The new extraction changes the facts of every third object.
    let changed = store
        .refresh_facts(7, &mut |json| {
            let (_, tail) = json.split_once("8000-")?;
            let n: u32 = tail.get(..12)?.parse().ok()?;
            Some(if n % 3 == 0 {
                vec![1, n as u8]
            } else {
                Vec::new()
            })
        })
        .unwrap();
    assert_eq!(changed, 834);
    assert_eq!(store.facts_extraction().unwrap(), 7);
    let page = store
        .query(&ObjectQuery::new(Scope::Collection("c".into()), 3_000))
        .unwrap();
    for row in &page.rows {
        let n: u32 = row.id.rsplit('-').next().unwrap().parse().unwrap();
        let want = if n % 3 == 0 {
            vec![1, n as u8]
        } else {
            Vec::new()
        };
        assert_eq!(row.facts, want, "{}", row.id);
    }
    // Nothing changes the second time.
    assert_eq!(store.refresh_facts(7, &mut |_| None).unwrap(), 0);
    drop(store);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 15);
}

/// Version 6 stores gain the enrichment tables, empty; the enrichment is stored,
/// replaced whole when asked, added to otherwise, and read back by value.
#[test]
fn enrichment_tables_from_v6_and_their_use() {
    use accord_store::{AddressEnrichment, DomainEnrichment, EnrichmentSource};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE enrich_addresses; DROP TABLE enrich_domains; DROP TABLE enrich_sources;
             PRAGMA user_version = 6;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.enrichment_state().unwrap(), None);
    let addr = |a: &str, c: Option<&str>, asn: Option<u32>| AddressEnrichment {
        address: a.into(),
        country: c.map(Into::into),
        asn,
        as_name: asn.map(|n| format!("AS{n}")),
    };
    let source = |role: &str, epoch: u64| EnrichmentSource {
        role: role.into(),
        path: format!("{role}.mmdb"),
        database_type: "Test".into(),
        build_epoch: epoch,
        node_count: 9,
    };
    store
        .put_enrichment(
            true,
            &[source("country", 1), source("asn", 1)],
            42,
            &[
                addr("203.0.113.5", Some("MY"), Some(4788)),
                addr("10.0.0.1", None, None),
            ],
            &[DomainEnrichment {
                domain: "www.example.co.uk".into(),
                registrable: Some("example.co.uk".into()),
            }],
        )
        .unwrap();
    let state = store.enrichment_state().unwrap().unwrap();
    assert_eq!(
        (state.covers_until, state.addresses, state.domains),
        (42, 2, 1)
    );
    assert_eq!(state.sources.len(), 2);
    assert_eq!(state.sources[1], source("country", 1));
    let found = store
        .enriched_addresses(&["10.0.0.1".into(), "192.0.2.1".into(), "203.0.113.5".into()])
        .unwrap();
    assert_eq!(
        found,
        [
            addr("10.0.0.1", None, None),
            addr("203.0.113.5", Some("MY"), Some(4788))
        ]
    );
    // Added to: the old rows stay.
    store
        .put_enrichment(
            false,
            &[source("country", 1)],
            50,
            &[addr("198.51.100.1", Some("NL"), None)],
            &[],
        )
        .unwrap();
    let state = store.enrichment_state().unwrap().unwrap();
    assert_eq!((state.covers_until, state.addresses), (50, 3));
    let scan = store.scan_enriched_addresses("", 2).unwrap();
    assert_eq!(scan.len(), 2);
    let rest = store.scan_enriched_addresses(&scan[1].address, 10).unwrap();
    assert_eq!(rest, [addr("203.0.113.5", Some("MY"), Some(4788))]);
    // Replaced: only the new rows.
    store
        .put_enrichment(true, &[source("country", 2)], 60, &[], &[])
        .unwrap();
    let state = store.enrichment_state().unwrap().unwrap();
    assert_eq!((state.addresses, state.domains), (0, 0));
    assert_eq!(state.sources, [source("country", 2)]);
    assert!(store
        .enriched_domains(&["www.example.co.uk".into()])
        .unwrap()
        .is_empty());
}

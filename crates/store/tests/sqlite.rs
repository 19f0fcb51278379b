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

/// The page queries TAXII issues must walk an index in `date_added` order: no full scan,
/// no sort of the whole collection.
#[test]
fn page_queries_walk_an_index_in_order() {
    let store = TempStore::new();
    let conn = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join(" | ")
    };
    let base =
        "SELECT e.date_added FROM entries e JOIN objects o ON o.date_added = e.object_added \
                WHERE e.collection = 'c' AND e.date_added > 5";
    let checks = [
        format!("{base} ORDER BY e.date_added LIMIT 101"),
        format!("{base} AND e.type IN ('indicator') ORDER BY e.date_added LIMIT 101"),
        format!(
            "{base} AND (NOT EXISTS (SELECT 1 FROM entries x WHERE x.collection = e.collection \
             AND x.id = e.id AND x.version_us > e.version_us)) ORDER BY e.date_added LIMIT 101"
        ),
    ];
    for sql in checks {
        let plan = plan(&sql);
        assert!(
            plan.contains("USING INDEX entries_in_order")
                || plan.contains("USING INDEX entries_by_type"),
            "{plan}"
        );
        assert!(
            !plan.contains("TEMP B-TREE"),
            "sorts the collection: {plan}"
        );
        assert!(!plan.contains("SCAN e"), "scans the collection: {plan}");
    }
}

/// `accord ledger explain` finds a recipient's releases of an object through the
/// integer release key, not by scanning the ledger.
#[test]
fn ledger_lookups_use_the_release_key_index() {
    let store = TempStore::new();
    let conn = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT seq FROM ledger WHERE release_key = 1 AND recipient = 'a' \
             AND object_id = 'b' ORDER BY seq",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("USING INDEX ledger_by_release"), "{plan}");
}

//! Storing findings: deterministic ids make re-runs update, not duplicate.

use accord_detect::{Finding, Producer};
use accord_node::findings::{store_findings, StoreSummary};
use accord_store::{Provenance, SqliteStore, Store};
use serde_json::{json, Value};

const ID: &str = "indicator--6f0c8c53-2d3e-5a9b-8f1e-0c2b9a7d4e11";

/// A finding whose STIX is one indicator of a fixed id.
#[derive(Debug)]
struct Fixed {
    name: &'static str,
    created: &'static str,
    modified: &'static str,
}

impl Finding for Fixed {
    fn kind(&self) -> &'static str {
        "fixed"
    }
    fn score(&self) -> f64 {
        1.0
    }
    fn subject(&self) -> String {
        self.name.into()
    }
    fn summary(&self) -> String {
        String::new()
    }
    fn to_json(&self) -> Value {
        json!({})
    }
    fn to_stix(&self, p: &Producer) -> Vec<Value> {
        vec![json!({
            "type": "indicator", "spec_version": "2.1", "id": ID,
            "created": self.created, "modified": self.modified,
            "created_by_ref": p.identity, "name": self.name,
            "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
            "valid_from": self.created,
        })]
    }
}

fn put(store: &SqliteStore, findings: &[Fixed]) -> StoreSummary {
    let producer = Producer {
        identity: "identity--5b1f1b0e-8f3c-4c55-9a2e-1d2c3b4a5f60".into(),
        now: 0,
    };
    store_findings(
        store,
        findings.iter().map(|f| f as &dyn Finding),
        &producer,
        &Provenance::new("telco", "test"),
        None,
    )
    .expect("stored")
}

fn latest(store: &SqliteStore) -> Value {
    let row = store.latest(ID).expect("read").expect("stored");
    serde_json::from_str(&row.json).expect("json")
}

fn summary(created: usize, updated: usize, unchanged: usize) -> StoreSummary {
    StoreSummary {
        created,
        updated,
        unchanged,
    }
}

#[test]
fn unchanged_content_is_skipped_and_changed_content_is_the_next_version() {
    let store = SqliteStore::open_in_memory().expect("store");
    let first = Fixed {
        name: "c2 at 198.51.100.1",
        created: "2024-01-01T00:00:00.000Z",
        modified: "2024-01-02T00:00:00.000Z",
    };
    assert_eq!(put(&store, &[first]), summary(1, 0, 0));
    // Only the volatile fields differ: nothing stored.
    let again = Fixed {
        name: "c2 at 198.51.100.1",
        created: "2024-01-05T00:00:00.000Z",
        modified: "2024-01-06T00:00:00.000Z",
    };
    assert_eq!(put(&store, &[again]), summary(0, 0, 1));
    assert_eq!(latest(&store)["modified"], "2024-01-02T00:00:00.000Z");
    // New content dated before the stored version (an older capture read later): a
    // new version all the same, with the first `created` and a later `modified`.
    let older = Fixed {
        name: "botnet at 198.51.100.1",
        created: "2023-12-01T00:00:00.000Z",
        modified: "2023-12-01T00:00:00.000Z",
    };
    assert_eq!(put(&store, &[older]), summary(0, 1, 0));
    let now = latest(&store);
    assert_eq!(now["name"], "botnet at 198.51.100.1");
    assert_eq!(now["created"], "2024-01-01T00:00:00.000Z");
    assert_eq!(now["valid_from"], "2024-01-01T00:00:00.000Z");
    assert_eq!(now["modified"], "2024-01-02T00:00:00.001Z");
}

#[test]
fn one_object_given_twice_in_a_call_is_stored_once_as_the_last_content() {
    let store = SqliteStore::open_in_memory().expect("store");
    let windows = || {
        [
            Fixed {
                name: "window 1",
                created: "2024-01-01T00:00:00.000Z",
                modified: "2024-01-01T01:00:00.000Z",
            },
            Fixed {
                name: "window 2",
                created: "2024-01-01T01:00:00.000Z",
                modified: "2024-01-01T02:00:00.000Z",
            },
        ]
    };
    assert_eq!(put(&store, &windows()), summary(1, 0, 0));
    let now = latest(&store);
    assert_eq!(now["name"], "window 2");
    assert_eq!(now["created"], "2024-01-01T00:00:00.000Z");
    assert_eq!(now["modified"], "2024-01-01T02:00:00.000Z");
    // The same windows again: the last content is the stored one, nothing is written.
    assert_eq!(put(&store, &windows()), summary(0, 0, 1));
}

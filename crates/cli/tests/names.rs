//! The class rule, across every subcommand that takes a name: a collection,
//! organisation, user or token the node does not know is refused (exit 2) with the
//! names it does know, and nothing is changed — neither the configuration nor the
//! store, and no file appears. And a command that only reads never writes or creates a
//! store.

use std::collections::BTreeMap;
use std::path::Path;

use super::{bundle, code, indicator, stderr, stdout, Scratch};

/// Every file under `dir` with its bytes, except SQLite's shared-memory index
/// (`-shm`), which readers update to coordinate with each other by design, and an
/// empty write-ahead log (`-wal`), which a read-only connection creates when none is
/// there and which holds nothing (SQLite reads a missing and an empty log alike).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            let name = path.to_string_lossy();
            let empty = std::fs::metadata(&path).is_ok_and(|m| m.len() == 0);
            let ignored = name.ends_with("-shm") || (name.ends_with("-wal") && empty);
            if path.is_dir() {
                pending.push(path);
            } else if !ignored {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

/// Asserts that `after` holds the same files with the same bytes as `before`.
fn assert_unchanged(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(before),
        names(after),
        "{what}: files appeared or vanished"
    );
    for (name, bytes) in before {
        assert!(after[name] == *bytes, "{what}: {name} changed");
    }
}

/// A node with data: the collection `shared` holds an indicator, the partner `centre`
/// has a user `ana` and a token `puller`, and a telemetry file and a bundle lie beside
/// the node.
fn node_with_data() -> (Scratch, String) {
    let s = Scratch::node();
    let file = s.write(
        "in.json",
        &bundle(&[indicator(1, "2024-01-01T00:00:00.000Z")]),
    );
    let out = s.run(&["ingest", "--collection", "shared", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = s
        .accord()
        .env("ACCORD_PASSWORD", "a long secret phrase")
        .args(["user", "add", "ana", "--org", "centre"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = s.run(&["token", "create", "puller", "--org", "centre"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    s.write("conn.log", &zeek_conn(&["1709370000.000000"]));
    let list: serde_json::Value =
        serde_json::from_str(&stdout(&s.run(&["--json", "collection", "list"]))).unwrap();
    let id = list[0]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    (s, id)
}

/// A Zeek conn log (TSV) with one flow per timestamp.
pub fn zeek_conn(timestamps: &[&str]) -> String {
    let mut text = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\n",
    );
    for (n, ts) in timestamps.iter().enumerate() {
        text.push_str(&format!(
            "{ts}\tC{n}\t192.168.1.10\t50000\t198.51.100.1\t443\ttcp\n"
        ));
    }
    text
}

/// One row of the table: the arguments, the unknown name, and texts the refusal must
/// contain (the known names).
struct Case {
    args: &'static [&'static str],
    unknown: &'static str,
    known: &'static [&'static str],
}

const COLLECTION: &[&str] = &["shared = "];
const ORGANISATIONS: &[&str] = &["centre", "telco"];

/// Every subcommand that takes a collection, organisation, user or token name.
const CASES: &[Case] = &[
    // Collections, by a name that is neither an id nor an alias.
    Case {
        args: &["ingest", "--collection", "sharde", "in.json"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["match", "--collection", "sharde", "conn.log"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["match", "--dry-run", "--collection", "sharde", "conn.log"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["export", "--collection", "sharde", "-o", "out.json"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["export", "--collection", "sharde", "--recipient", "centre"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &[
            "agreement",
            "preview",
            "--recipient",
            "centre",
            "--collection",
            "sharde",
        ],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["collection", "grant", "sharde", "--org", "centre", "--read"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["collection", "revoke", "sharde", "--org", "centre"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["collection", "remove", "sharde"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &["collection", "id", "sharde"],
        unknown: "sharde",
        known: COLLECTION,
    },
    Case {
        args: &[
            "collection",
            "grant",
            "shared",
            "--api-root",
            "other",
            "--org",
            "centre",
        ],
        unknown: "other",
        known: &["intel"],
    },
    // Organisations.
    Case {
        args: &["ingest", "--org", "centr", "in.json"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["export", "--recipient", "centr"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["agreement", "preview", "--recipient", "centr"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &[
            "ledger",
            "explain",
            "--recipient",
            "centr",
            "--object",
            "indicator--00000000-0000-4000-8000-000000000001",
        ],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["collection", "grant", "shared", "--org", "centr", "--read"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["collection", "revoke", "shared", "--org", "centr"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &[
            "collection",
            "add",
            "c3",
            "--title",
            "C3",
            "--read",
            "centr",
        ],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &[
            "collection",
            "add",
            "c3",
            "--title",
            "C3",
            "--write",
            "telco,centr",
        ],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["org", "remove", "centr"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["user", "add", "bob", "--org", "centr"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["token", "create", "robot", "--org", "centr"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    Case {
        args: &["token", "revoke", "puller", "--org", "centr"],
        unknown: "centr",
        known: ORGANISATIONS,
    },
    // Users.
    Case {
        args: &["user", "passwd", "anna"],
        unknown: "anna",
        known: &["ana (centre)", "admin (telco)"],
    },
    Case {
        args: &["user", "remove", "anna"],
        unknown: "anna",
        known: &["ana (centre)", "admin (telco)"],
    },
    // Tokens.
    Case {
        args: &["token", "revoke", "pullr", "--org", "centre"],
        unknown: "pullr",
        known: &["puller"],
    },
];

#[test]
fn an_unknown_name_is_refused_with_the_known_ones_and_changes_nothing() {
    let (s, _) = node_with_data();
    for case in CASES {
        let before = snapshot(s.dir.path());
        let out = s
            .accord()
            .env("ACCORD_PASSWORD", "another long phrase")
            .args(case.args)
            .output()
            .expect("run accord");
        let what = format!("accord {}", case.args.join(" "));
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{what}: {err}");
        assert!(
            err.contains(&format!("'{}'", case.unknown)),
            "{what} does not name '{}': {err}",
            case.unknown
        );
        for known in case.known {
            assert!(err.contains(known), "{what} does not list {known}: {err}");
        }
        assert_unchanged(&before, &snapshot(s.dir.path()), &what);
    }
}

/// The collection's alias and its id name the same collection everywhere.
#[test]
fn a_collection_is_named_by_alias_or_id() {
    let (s, id) = node_with_data();
    for name in ["shared", id.as_str(), "intel/shared"] {
        let out = s.run(&["export", "--collection", name]);
        assert_eq!(code(&out), 0, "{name}: {}", stderr(&out));
        let bundle: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(
            bundle["objects"].as_array().map(Vec::len),
            Some(1),
            "{name}"
        );
        assert_eq!(stdout(&s.run(&["collection", "id", name])).trim(), id);
    }
    let out = s.run(&["collection", "list", "--ids"]);
    assert_eq!(stdout(&out), format!("{id}\n"));
    let stats: serde_json::Value =
        serde_json::from_str(&stdout(&s.run(&["--json", "stats"]))).unwrap();
    assert_eq!(
        stats["by_collection"],
        serde_json::json!([[id, 1]]),
        "ingest --collection shared filed under the id"
    );
}

/// Commands that only read leave every byte of the node as it was, with agreements
/// in force (whose obligations marking a preview used to store) and after a release.
#[test]
fn read_only_commands_write_nothing() {
    let (s, id) = node_with_data();
    let agreement = AGREEMENT.replace("COLLECTION_ID", &id);
    s.write("node/agreements/telco-centre.toml", &agreement);
    let out = s.run(&["collection", "grant", "shared", "--org", "centre", "--read"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let reads: &[&[&str]] = &[
        &["stats"],
        &["get", "indicator--00000000-0000-4000-8000-000000000001"],
        &["export"],
        &["export", "--collection", "shared"],
        &["match", "--dry-run", "conn.log"],
        &["agreement", "preview", "--recipient", "centre"],
        &[
            "agreement",
            "preview",
            "--recipient",
            "centre",
            "--collection",
            "shared",
        ],
        &["agreement", "list"],
        &["agreement", "check", "node/agreements/telco-centre.toml"],
        &["ledger", "verify"],
        &["ledger", "export"],
        &[
            "ledger",
            "explain",
            "--recipient",
            "centre",
            "--object",
            "indicator--00000000-0000-4000-8000-000000000001",
        ],
        &["org", "list"],
        &["user", "list"],
        &["token", "list"],
        &["collection", "list"],
        &["collection", "id", "shared"],
    ];
    for round in ["before any release", "after a release"] {
        for args in reads {
            let before = snapshot(s.dir.path());
            let out = s.run(args);
            let what = format!("accord {} ({round})", args.join(" "));
            assert!(matches!(code(&out), 0 | 1), "{what}: {}", stderr(&out));
            assert_unchanged(&before, &snapshot(s.dir.path()), &what);
        }
        let out = s.run(&["export", "--recipient", "centre", "-o", "released.json"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

/// Without a configuration (none given, none in ./accord-data) every command that
/// needs a node says so, exits 2 and creates nothing; a read-only command given a
/// store file that does not exist does not create it either.
#[test]
fn without_a_node_nothing_is_created() {
    let s = Scratch::new();
    s.write(
        "in.json",
        &bundle(&[indicator(1, "2024-01-01T00:00:00.000Z")]),
    );
    s.write("conn.log", &zeek_conn(&["1709370000.000000"]));
    let needs_a_node: &[&[&str]] = &[
        &["stats"],
        &["get", "indicator--00000000-0000-4000-8000-000000000001"],
        &["export"],
        &["ingest", "in.json"],
        &["match", "conn.log"],
        &["agreement", "list"],
        &["agreement", "preview", "--recipient", "centre"],
        &["ledger", "verify"],
        &["ledger", "export"],
        &[
            "ledger",
            "explain",
            "--recipient",
            "centre",
            "--object",
            "indicator--x",
        ],
        &["org", "list"],
        &["org", "add", "centre"],
        &["user", "list"],
        &["user", "add", "ana", "--org", "local"],
        &["token", "list"],
        &["token", "create", "t", "--org", "local"],
        &["collection", "list"],
        &["collection", "id", "shared"],
        &["collection", "add", "c2", "--title", "C2"],
    ];
    for args in needs_a_node {
        let before = snapshot(s.dir.path());
        let out = s
            .accord()
            .env_remove("ACCORD_DB")
            .args(*args)
            .output()
            .unwrap();
        let what = format!("accord {}", args.join(" "));
        assert_eq!(code(&out), 2, "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("no configuration at accord-data/accord.toml"),
            "{what}: {}",
            stderr(&out)
        );
        assert_unchanged(&before, &snapshot(s.dir.path()), &what);
    }
    // A bare store named by --db: read-only commands do not create it.
    for args in [
        &["stats"][..],
        &["export"],
        &["ledger", "verify"],
        &["get", "x"],
    ] {
        let out = s.run(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no store at"), "{}", stderr(&out));
        assert!(
            !s.path("store.sqlite").exists(),
            "{args:?} created the store"
        );
    }
}

/// The scenario's agreement (its `scope.collections` holds the placeholder).
pub const AGREEMENT: &str = r#"
id = "telco-centre"
version = 1
title = "Test agreement"
provider = { id = "telco", name = "Telco" }
recipient = { id = "centre", name = "Centre" }
purpose = "Tests."
legal_basis = "Tests."

[validity]
from = 2020-01-01T00:00:00Z

[scope]
types = ["indicator"]
max_tlp = "AMBER"
unmarked_tlp = "GREEN"
collections = ["COLLECTION_ID"]

[obligations]
retention = "180d"
onward_sharing = false
"#;

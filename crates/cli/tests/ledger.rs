//! `accord ledger` against an adversary, end to end: a node made by `accord init`
//! releases to a partner (`accord export --recipient`), saves a signed head and a
//! proof, and then the store and an export are cut short, rewritten with every later
//! hash recomputed, or checked against forged heads. Each tampering is shown to pass
//! the hash chain alone (all that `verify` checked before signed heads) and to fail
//! against the head.

use std::path::Path;

use accord_agreements::ledger::{ChainHead, LedgerDraft, LedgerEntry};
use accord_agreements::merkle::Frontier;
use accord_agreements::transparency::{
    entry_from_json, entry_json, LedgerSigner, SignedTreeHead, TreeHead,
};
use serde_json::Value;

use super::{code, stderr, stdout, Scratch};

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const CUSTOMER: &str = "198.51.100.23";

fn indicator(n: u32) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '192.0.2.{n}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}}"#
    )
}

/// A node that released five indicators and a pseudonymised customer address to
/// `centre`; returns the released id of the address.
fn node_with_releases(s: &Scratch) -> String {
    let out = s.run(&["init", "node", "--organisation", "telco"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Ledger signing key"),
        "{}",
        stdout(&out)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.path("node/ledger.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is readable by its owner only");
    }
    let mut objects: Vec<String> = (1..=5).map(indicator).collect();
    objects.push(format!(
        r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"{}","value":"{CUSTOMER}"}}"#,
        accord_agreements::sco_id("ipv4-addr", CUSTOMER)
    ));
    let file = s.write("in.json", &format!("[{}]", objects.join(",")));
    for args in [
        &["org", "add", "centre"][..],
        &["collection", "grant", "shared", "--org", "centre", "--read"],
        &["ingest", "-c", "shared", file.to_str().unwrap()],
    ] {
        let out = s.on_node(args).output().unwrap();
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    std::fs::write(
        s.path("node/agreements/telco-centre.toml"),
        "id = \"telco-centre\"\nversion = 1\nprovider = { id = \"telco\" }\nrecipient = { id = \"centre\" }\n\
         purpose = \"Ledger tests\"\nlegal_basis = \"Test\"\n[validity]\nfrom = 2020-01-01T00:00:00Z\n\
         [scope]\ntypes = [\"*\"]\nmax_tlp = \"CLEAR\"\nunmarked_tlp = \"CLEAR\"\n\
         [protections]\ncustomer_ranges = [\"198.51.100.0/24\"]\npseudonym_key_env = \"ACCORD_TEST_LEDGER_KEY\"\n\
         [obligations]\nonward_sharing = true\n",
    )
    .unwrap();
    let out = s
        .on_node(&["export", "--recipient", "centre", "-o", "released.json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bundle: Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("released.json")).unwrap()).unwrap();
    bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "ipv4-addr")
        .map(|o| o["id"].as_str().unwrap().to_string())
        .expect("the address was released (pseudonymised)")
}

impl Scratch {
    /// `accord` on the node `accord init` made in `node/`.
    fn on_node(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.accord();
        c.env_remove("ACCORD_DB")
            .env("ACCORD_CONFIG", self.path("node/accord.toml"))
            .env("ACCORD_TEST_LEDGER_KEY", KEY_HEX)
            .args(args);
        c
    }

    fn node_run(&self, args: &[&str]) -> std::process::Output {
        self.on_node(args).output().unwrap()
    }
}

fn store_path(s: &Scratch) -> std::path::PathBuf {
    s.path("node/accord.sqlite")
}

/// Copies a store file whole (its write-ahead log checkpointed first), replacing `to`.
fn copy_store(from: &Path, to: &Path) {
    rusqlite::Connection::open(from)
        .unwrap()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    for suffix in ["-wal", "-shm"] {
        let mut side = to.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
    std::fs::copy(from, to).unwrap();
}

/// Rewrites the stored ledger as a forger with the database (but not the key) can:
/// `change` applied to the drafts, every entry rechained, every tree node recomputed.
fn rewrite_store(path: &Path, change: impl Fn(u64, &mut LedgerDraft)) {
    let db = rusqlite::Connection::open(path).unwrap();
    let rows: Vec<(i64, Vec<u8>, String, Vec<u8>)> = {
        let mut stmt = db
            .prepare("SELECT seq, encoded, object_id, salt FROM ledger ORDER BY seq")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let mut head = ChainHead::genesis();
    let mut tree = Frontier::new();
    for (seq, encoded, object_id, salt) in rows {
        let old = accord_agreements::ledger::decode_chain(&encoded)
            .unwrap()
            .remove(0);
        let mut draft = LedgerDraft {
            time: old.time,
            recipient: old.recipient,
            object_id,
            released_id: old.released_id,
            object_salt: salt.try_into().unwrap(),
            object_version: old.object_version,
            agreement_id: old.agreement_id,
            agreement_version: old.agreement_version,
            purpose: old.purpose,
            legal_basis: old.legal_basis,
            released_sha256: old.released_sha256,
        };
        change(seq as u64, &mut draft);
        let entry = head.append(draft);
        let nodes: Vec<u8> = tree.push(entry.leaf_hash()).concat();
        db.execute(
            "UPDATE ledger SET encoded = ?1, hash = ?2, nodes = ?3 WHERE seq = ?4",
            rusqlite::params![entry.encoded(), entry.hash.to_vec(), nodes, seq],
        )
        .unwrap();
    }
}

fn rewrite_export(from: &Path, to: &Path, change: impl Fn(u64, &mut LedgerDraft)) {
    let mut head = ChainHead::genesis();
    let mut out = String::new();
    for line in std::fs::read_to_string(from).unwrap().lines() {
        let old: LedgerEntry = entry_from_json(&serde_json::from_str(line).unwrap()).unwrap();
        let mut draft = LedgerDraft {
            time: old.time,
            recipient: old.recipient,
            object_id: old.object_id,
            released_id: old.released_id,
            object_salt: old.object_salt,
            object_version: old.object_version,
            agreement_id: old.agreement_id,
            agreement_version: old.agreement_version,
            purpose: old.purpose,
            legal_basis: old.legal_basis,
            released_sha256: old.released_sha256,
        };
        change(old.seq, &mut draft);
        out.push_str(&entry_json(&head.append(draft)).to_string());
        out.push('\n');
    }
    std::fs::write(to, out).unwrap();
}

#[test]
fn signed_heads_catch_what_the_chain_cannot_in_the_store_and_in_exports() {
    let s = Scratch::new();
    let pseudonym = node_with_releases(&s);
    assert!(!pseudonym.contains(&accord_agreements::sco_id("ipv4-addr", CUSTOMER)));
    assert_eq!(code(&s.node_run(&["ledger", "head", "-o", "head.json"])), 0);
    assert_eq!(code(&s.node_run(&["ledger", "key", "-o", "key.pub"])), 0);
    assert!(std::fs::read_to_string(s.path("key.pub"))
        .unwrap()
        .contains("accord-ledger-key ed25519 "));
    let out = s.node_run(&["ledger", "verify", "--head", "head.json"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("extends the head"),
        "{}",
        stdout(&out)
    );

    // Explain and prove by the id the partner holds.
    let out = s.node_run(&[
        "ledger",
        "explain",
        "--recipient",
        "centre",
        "--object",
        &pseudonym,
    ]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!("released as      {pseudonym}")),
        "{}",
        stdout(&out)
    );
    let out = s.node_run(&[
        "ledger",
        "prove",
        "--recipient",
        "centre",
        "--object",
        &pseudonym,
        "-o",
        "proof.json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // The auditor checks it with the public key alone: no store, no configuration.
    let auditor = Scratch::new();
    std::fs::copy(s.path("proof.json"), auditor.path("proof.json")).unwrap();
    std::fs::copy(s.path("key.pub"), auditor.path("key.pub")).unwrap();
    let out = auditor.run(&["ledger", "check-proof", "--key", "key.pub", "proof.json"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("proof valid: 1 entry"),
        "{}",
        stdout(&out)
    );
    assert!(
        !auditor.path("store.sqlite").exists(),
        "check-proof opened a store"
    );
    // A proof with a changed entry fails.
    let mut proof: Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("proof.json")).unwrap()).unwrap();
    proof["signed_head"]["root_hash"] = Value::String("00".repeat(32));
    auditor.write("forged.json", &proof.to_string());
    let out = auditor.run(&["ledger", "check-proof", "--key", "key.pub", "forged.json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));

    // Exports: cut short, and rewritten with every hash recomputed.
    assert_eq!(
        code(&s.node_run(&["ledger", "export", "-o", "ledger.jsonl"])),
        0
    );
    let lines: Vec<String> = std::fs::read_to_string(s.path("ledger.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 6);
    s.write("cut.jsonl", &(lines[..5].join("\n") + "\n"));
    assert_eq!(
        code(&s.node_run(&["ledger", "verify", "--file", "cut.jsonl"])),
        0,
        "the chain alone"
    );
    let out = s.node_run(&[
        "ledger",
        "verify",
        "--file",
        "cut.jsonl",
        "--head",
        "head.json",
        "--key",
        "key.pub",
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("entries from 6 on were deleted"),
        "{}",
        stdout(&out)
    );
    rewrite_export(
        &s.path("ledger.jsonl"),
        &s.path("rewritten.jsonl"),
        |seq, d| {
            if seq == 2 {
                d.recipient = "someone-else".into();
            }
        },
    );
    assert_eq!(
        code(&s.node_run(&["ledger", "verify", "--file", "rewritten.jsonl"])),
        0,
        "the chain alone"
    );
    let out = s.node_run(&[
        "ledger",
        "verify",
        "--file",
        "rewritten.jsonl",
        "--head",
        "head.json",
    ]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("rewritten"), "{}", stdout(&out));
    let swapped = [
        &lines[0], &lines[2], &lines[1], &lines[3], &lines[4], &lines[5],
    ]
    .map(String::as_str)
    .join("\n");
    s.write("swapped.jsonl", &swapped);
    rewrite_export(
        &s.path("swapped.jsonl"),
        &s.path("reordered.jsonl"),
        |_, _| {},
    );
    assert_eq!(
        code(&s.node_run(&["ledger", "verify", "--file", "reordered.jsonl"])),
        0,
        "the chain alone"
    );
    assert_eq!(
        code(&s.node_run(&[
            "ledger",
            "verify",
            "--file",
            "reordered.jsonl",
            "--head",
            "head.json"
        ])),
        1
    );

    // Forged heads: another node's key, and our head with another root.
    let other = LedgerSigner::from_seed(&[0x77; 32]);
    let head: SignedTreeHead =
        serde_json::from_str(&std::fs::read_to_string(s.path("head.json")).unwrap()).unwrap();
    let foreign = other.sign(head.head);
    s.write("foreign.json", &serde_json::to_string(&foreign).unwrap());
    let out = s.node_run(&["ledger", "verify", "--head", "foreign.json"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("signed by key"), "{}", stdout(&out));
    let mut forged = head;
    forged.head = TreeHead {
        tree_size: 5,
        ..forged.head
    };
    s.write("forged-head.json", &serde_json::to_string(&forged).unwrap());
    let out = s.node_run(&["ledger", "verify", "--head", "forged-head.json"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("not valid"), "{}", stdout(&out));

    // The store: rewritten with every hash and tree node recomputed. The chain holds;
    // the saved head (and the store's own latest head) do not.
    let pristine = s.path("pristine.sqlite");
    copy_store(&store_path(&s), &pristine);
    rewrite_store(&store_path(&s), |seq, d| {
        if seq == 3 {
            d.released_sha256 = [0xee; 32];
        }
    });
    let db = rusqlite::Connection::open(store_path(&s)).unwrap();
    db.execute("DELETE FROM ledger_heads", []).unwrap();
    drop(db);
    assert_eq!(
        code(&s.node_run(&["ledger", "verify"])),
        0,
        "the chain alone (no head kept)"
    );
    let out = s.node_run(&["ledger", "verify", "--head", "head.json"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("rewritten"), "{}", stdout(&out));

    // The store cut short: the last entry deleted (and the heads that would show it).
    copy_store(&pristine, &store_path(&s));
    let db = rusqlite::Connection::open(store_path(&s)).unwrap();
    db.execute("DELETE FROM ledger WHERE seq = 6", []).unwrap();
    let out = s.node_run(&["ledger", "verify"]);
    assert_eq!(
        code(&out),
        1,
        "the store's own latest head catches it: {}",
        stdout(&out)
    );
    db.execute("DELETE FROM ledger_heads", []).unwrap();
    drop(db);
    assert_eq!(
        code(&s.node_run(&["ledger", "verify"])),
        0,
        "the chain alone"
    );
    let out = s.node_run(&["ledger", "verify", "--head", "head.json"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("entries from 6 on were deleted"),
        "{}",
        stdout(&out)
    );

    // A stored entry cut mid-way is named by its seq and a byte within it (issue 12:
    // it used to say "entry 0").
    copy_store(&pristine, &store_path(&s));
    let db = rusqlite::Connection::open(store_path(&s)).unwrap();
    db.execute(
        "UPDATE ledger SET encoded = substr(encoded, 1, 24) WHERE seq = 2",
        [],
    )
    .unwrap();
    drop(db);
    let out = s.node_run(&["ledger", "verify"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.contains("entry seq 2") && text.contains("of the entry"),
        "{text}"
    );
    assert!(!text.contains("entry 0"), "{text}");
}

#[test]
fn a_node_made_before_the_key_gets_one_on_first_use() {
    let s = Scratch::new();
    assert_eq!(
        code(&s.run(&["init", "node", "--organisation", "telco"])),
        0
    );
    std::fs::remove_file(s.path("node/ledger.key")).unwrap();
    let out = s.node_run(&["ledger", "key"]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains("created the ledger signing key"),
        "{}",
        stderr(&out)
    );
    let again = s.node_run(&["ledger", "key"]);
    assert_eq!(stdout(&again), stdout(&out));
    assert!(stderr(&again).is_empty(), "{}", stderr(&again));
    let key = std::fs::read_to_string(s.path("node/ledger.key")).unwrap();
    let secret = key.lines().last().unwrap();
    assert!(
        !stdout(&out).contains(&secret[secret.len() - 64..]),
        "the key was printed"
    );
}

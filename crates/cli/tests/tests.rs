//! The `accord` binary end to end: what a user types, what they get back.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod collect;
mod detect;
mod formats;
mod hub;
mod ledger;
mod misp;
mod names;
mod node;
mod phishing;
mod signed;

/// A scratch directory with a store, and `accord` pointed at it through ACCORD_DB (a
/// bare store), or at a node made by `accord init` through ACCORD_CONFIG.
struct Scratch {
    dir: tempfile::TempDir,
    /// The node's configuration, once [`Scratch::node`] made one.
    config: Option<PathBuf>,
}

impl Scratch {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            config: None,
        }
    }

    /// A scratch directory holding a node of organisation `telco` (folder `node/`),
    /// with a partner `centre`.
    fn node() -> Self {
        let mut s = Self::new();
        let out = s
            .accord()
            .env("ACCORD_ADMIN_PASSWORD", "telco admin passphrase")
            .env_remove("ACCORD_DB")
            .args(["init", "node", "--organisation", "telco"])
            .output()
            .expect("run accord init");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        s.config = Some(s.path("node/accord.toml"));
        let out = s.run(&["org", "add", "centre"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn accord(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_accord"));
        c.current_dir(self.dir.path())
            .env_remove("ACCORD_PASSWORD")
            .env_remove("ACCORD_ADMIN_PASSWORD");
        match &self.config {
            Some(config) => c.env("ACCORD_CONFIG", config).env_remove("ACCORD_DB"),
            None => c
                .env("ACCORD_DB", self.path("store.sqlite"))
                .env_remove("ACCORD_CONFIG"),
        };
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.accord().args(args).output().expect("run accord")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .accord()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("feed");
        child.wait_with_output().expect("wait")
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn indicator(n: u32, modified: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2024-01-01T00:00:00.000Z","modified":"{modified}","pattern":"[ipv4-addr:value = '198.51.100.{n}']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","x_acme_score":{n}}}"#
    )
}

fn bundle(objects: &[String]) -> String {
    format!(
        r#"{{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{}]}}"#,
        objects.join(",")
    )
}

fn exported(s: &Scratch, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    let out = s.run(&all);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bundle: Value = serde_json::from_str(&stdout(&out)).expect("export is JSON");
    assert_eq!(bundle["type"], "bundle");
    bundle["objects"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_bad_object_is_reported_and_its_neighbours_are_stored() {
    let s = Scratch::new();
    let broken = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000009","created":"2024-01-02T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.9']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}"#;
    let file = s.write(
        "in.json",
        &bundle(&[
            indicator(1, "2024-01-01T00:00:00.000Z"),
            broken.into(),
            indicator(2, "2024-01-01T00:00:00.000Z"),
        ]),
    );
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "some rejected: exit 1");
    let err = stderr(&out);
    assert!(err.contains("object #1"), "{err}");
    assert!(
        err.contains("indicator--00000000-0000-4000-8000-000000000009"),
        "{err}"
    );
    assert!(
        err.contains("modified") && err.contains("modified-before-created"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("stored 2 objects"),
        "{}",
        stdout(&out)
    );
    assert_eq!(exported(&s, &[]).len(), 2);
}

#[test]
fn export_gives_back_what_went_in_with_custom_properties() {
    let s = Scratch::new();
    let objects = [
        indicator(1, "2024-01-01T00:00:00.000Z"),
        indicator(2, "2024-01-01T00:00:00.000Z"),
    ];
    let file = s.write("in.json", &format!("[{}]", objects.join(",")));
    assert_eq!(code(&s.run(&["ingest", file.to_str().unwrap()])), 0);
    let got = exported(&s, &[]);
    let want: Vec<Value> = objects
        .iter()
        .map(|o| serde_json::from_str(o).unwrap())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn stdin_ingest_and_export_filters() {
    let s = Scratch::node();
    let out = s.run(&["collection", "add", "c2", "--title", "C2"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let first = bundle(&[
        indicator(1, "2024-01-01T00:00:00.000Z"),
        indicator(2, "2024-01-01T00:00:00.000Z"),
    ]);
    let out = s.run_with_stdin(&["ingest", "--collection", "c2", "-"], &first);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let middle = chrono_now();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = bundle(&[
        indicator(1, "2024-02-01T00:00:00.000Z"),
        r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}"#.into(),
    ]);
    assert_eq!(code(&s.run_with_stdin(&["ingest", "-"], &second)), 0);

    assert_eq!(exported(&s, &[]).len(), 4, "every version");
    assert_eq!(exported(&s, &["--versions", "last"]).len(), 3);
    assert_eq!(exported(&s, &["--type", "ipv4-addr"]).len(), 1);
    let one = exported(
        &s,
        &["--id", "indicator--00000000-0000-4000-8000-000000000001"],
    );
    assert_eq!(one.len(), 2);
    assert_eq!(
        exported(&s, &["--collection", "c2"]).len(),
        2,
        "only the first ingest went to c2"
    );
    assert_eq!(exported(&s, &["--added-after", &middle]).len(), 2);
    let out = s.run(&["export", "--added-after", "yesterday"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--added-after"), "{}", stderr(&out));
}

/// Now as a STIX timestamp, from the system clock.
fn chrono_now() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    accord_stix::Timestamp::from_micros(micros)
        .as_str()
        .to_string()
}

#[test]
fn get_prints_the_latest_or_every_version() {
    let s = Scratch::new();
    let file = s.write(
        "in.json",
        &bundle(&[
            indicator(1, "2024-01-01T00:00:00.000Z"),
            indicator(1, "2024-03-01T00:00:00.000Z"),
        ]),
    );
    assert_eq!(code(&s.run(&["ingest", file.to_str().unwrap()])), 0);
    let id = "indicator--00000000-0000-4000-8000-000000000001";
    let out = s.run(&["get", id]);
    assert_eq!(code(&out), 0);
    let latest: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(latest["modified"], "2024-03-01T00:00:00.000Z");
    assert!(
        stdout(&out).find("\"type\"") < stdout(&out).find("\"id\""),
        "property order kept"
    );
    let all: Value = serde_json::from_str(&stdout(&s.run(&["get", "--versions", id]))).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let missing = s.run(&["get", "indicator--00000000-0000-4000-8000-000000000099"]);
    assert_eq!(code(&missing), 1);
}

/// A store whose gate facts an older build extracted: read-only commands refuse it
/// (they cannot refresh it and would decide with old facts), the next command that
/// writes re-extracts them, and reading works again.
#[test]
fn stale_gate_facts_are_refused_read_only_and_refreshed_by_a_writer() {
    let s = Scratch::new();
    let file = s.write(
        "in.json",
        &bundle(&[indicator(1, "2024-01-01T00:00:00.000Z")]),
    );
    assert_eq!(code(&s.run(&["ingest", file.to_str().unwrap()])), 0);
    let id = "indicator--00000000-0000-4000-8000-000000000001";
    let db = rusqlite::Connection::open(s.path("store.sqlite")).unwrap();
    let recorded = |db: &rusqlite::Connection| -> i64 {
        db.query_row(
            "SELECT value FROM meta WHERE name = 'facts_extraction'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let current = recorded(&db);
    assert!(current >= 1, "a writer records its extraction");
    db.execute(
        "UPDATE meta SET value = 0 WHERE name = 'facts_extraction'",
        [],
    )
    .unwrap();
    db.execute("UPDATE objects SET facts = x''", []).unwrap();
    let refused = s.run(&["get", id]);
    assert_eq!(code(&refused), 2, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("gate facts were extracted by another build"),
        "{}",
        stderr(&refused)
    );
    let empty = s.write("empty.json", &bundle(&[]));
    let out = s.run(&["ingest", empty.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(recorded(&db), current);
    let facts: Vec<u8> = db
        .query_row("SELECT facts FROM objects", [], |r| r.get(0))
        .unwrap();
    assert!(!facts.is_empty(), "the facts column is re-extracted");
    let out = s.run(&["get", id]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn stats_count_what_is_stored() {
    let s = Scratch::node();
    let file = s.write(
        "in.json",
        &bundle(&[
            indicator(1, "2024-01-01T00:00:00.000Z"),
            indicator(1, "2024-03-01T00:00:00.000Z"),
        ]),
    );
    assert_eq!(
        code(&s.run(&["ingest", "--org", "centre", file.to_str().unwrap()])),
        0
    );
    let stats: Value = serde_json::from_str(&stdout(&s.run(&["--json", "stats"]))).unwrap();
    assert_eq!(stats["object_versions"], 2);
    assert_eq!(stats["objects"], 1);
    assert_eq!(stats["by_provider"][0][0], "centre");
}

#[test]
fn missing_sco_ids_are_filled_as_stix2_computes_them() {
    let s = Scratch::new();
    let file = s.write(
        "in.json",
        r#"[{"type":"ipv4-addr","spec_version":"2.1","value":"198.51.100.3"}]"#,
    );
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "without --fill-ids the id is required");
    assert!(
        stderr(&out).contains("required-property"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        code(&s.run(&["ingest", "--fill-ids", file.to_str().unwrap()])),
        0
    );
    let got = exported(&s, &[]);
    // The id the OASIS stix2 library computes for this address.
    assert_eq!(
        got[0]["id"],
        "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"
    );
}

#[test]
fn a_broken_stream_keeps_what_came_before_and_exits_2() {
    let s = Scratch::new();
    let text = format!(
        r#"{{"type":"bundle","objects":[{},{}"#,
        indicator(1, "2024-01-01T00:00:00.000Z"),
        "{\"a\":"
    );
    let file = s.write("in.json", &text);
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("byte"),
        "names the offset: {}",
        stderr(&out)
    );
    assert_eq!(
        exported(&s, &[]).len(),
        1,
        "the object before the break is kept"
    );
}

#[test]
fn deep_nesting_is_a_clear_rejection_not_a_crash() {
    let s = Scratch::new();
    let deep = format!(
        r#"[{{"type":"x-deep","id":"x-deep--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","x_n":{}1{}}}]"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let file = s.write("deep.json", &deep);
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert!(matches!(code(&out), 1 | 2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nest"), "{}", stderr(&out));
}

#[test]
fn the_ledger_and_agreement_commands_answer() {
    let s = Scratch::node();
    let out = s.run(&["ledger", "verify"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("intact: 0 entries"));
    let bad = s.write("bad.toml", "id = \"x\"\nversion = 0\n");
    let out = s.run(&["agreement", "check", bad.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("invalid"), "{}", stderr(&out));
    let out = s.run(&[
        "ledger",
        "explain",
        "--recipient",
        "centre",
        "--object",
        "indicator--x",
    ]);
    assert_eq!(code(&out), 1, "never received");
}

/// The subcommands a `--help` text lists (its `Commands:` section), without `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A wrapped description continues deeper in: only two spaces start a name.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every command and subcommand, found by walking `--help` from the top, shows
/// examples (the README promises it).
#[test]
fn every_command_has_help_with_an_example() {
    let s = Scratch::new();
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = s.run(&args);
        assert_eq!(code(&out), 0, "{args:?}");
        let help = stdout(&out);
        assert!(
            help.contains("Example"),
            "`accord {}` --help has no example",
            path.join(" ")
        );
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
        seen += 1;
    }
    assert!(
        seen >= 40,
        "only {seen} commands found: the walk misread --help"
    );
}

#[test]
fn an_indicator_with_a_broken_stix_pattern_is_rejected_with_the_position() {
    let s = Scratch::new();
    let broken =
        indicator(1, "2024-01-01T00:00:00.000Z").replace("198.51.100.1']", "198.51.100.1'");
    let file = s.write("in.json", &format!("[{broken}]"));
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("pattern") && err.contains("pattern-syntax") && err.contains("column"),
        "{err}"
    );
}

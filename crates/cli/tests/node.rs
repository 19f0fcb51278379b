//! A node's agreements, previews, broken inputs and implausible telemetry, as a user
//! meets them.

use super::names::{zeek_conn, AGREEMENT};
use super::{bundle, code, indicator, stderr, stdout, Scratch};

fn collection_id(s: &Scratch) -> String {
    stdout(&s.run(&["collection", "id", "shared"]))
        .trim()
        .to_string()
}

/// `agreement check` with a node names what the agreement refers to that the node does
/// not have; `preview` (like `serve`) refuses to load such an agreement.
#[test]
fn an_agreement_naming_what_the_node_lacks_is_reported() {
    let s = Scratch::node();
    let id = collection_id(&s);
    let cases = [
        (
            AGREEMENT.to_string(),
            vec!["scope.collections", "'COLLECTION_ID'", &id],
        ),
        (
            AGREEMENT.replace("COLLECTION_ID", "shared"),
            vec!["'shared' is the alias of collection", &id],
        ),
        (
            AGREEMENT
                .replace("COLLECTION_ID", &id)
                .replace("id = \"centre\"", "id = \"center\""),
            vec!["recipient.id", "'center'", "centre, telco"],
        ),
    ];
    for (text, wanted) in cases {
        let file = s.write("node/agreements/a.toml", &text);
        let out = s.run(&["agreement", "check", file.to_str().unwrap()]);
        assert_eq!(code(&out), 1, "{}", stdout(&out));
        for w in &wanted {
            assert!(stderr(&out).contains(w), "{w}: {}", stderr(&out));
        }
        let out = s.run(&["agreement", "preview", "--recipient", "centre"]);
        assert_eq!(code(&out), 2, "preview refuses: {}", stdout(&out));
        assert!(stderr(&out).contains(wanted[0]), "{}", stderr(&out));
        let out = s.run(&["agreement", "list"]);
        assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
    }
    // `serve` refuses to start with such an agreement (the placeholder, here).
    s.write("node/agreements/a.toml", AGREEMENT);
    let mut serve = s
        .accord()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn accord serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = serve.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = serve.kill();
            panic!("accord serve started with an agreement naming an unknown collection");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().expect("stderr"), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("'COLLECTION_ID'"), "{err}");
    let file = s.write(
        "node/agreements/a.toml",
        &AGREEMENT.replace("COLLECTION_ID", &id),
    );
    let out = s.run(&["agreement", "check", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Without a node, only the file itself is checked.
    let out = s
        .accord()
        .env_remove("ACCORD_CONFIG")
        .args(["agreement", "check", "node/agreements/a.toml"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// The preview counts the agreement's obligations marking, which it does not store;
/// a partner's export stores it, and the preview then counts it once, as stored.
#[test]
fn the_preview_counts_the_marking_it_does_not_store() {
    let s = Scratch::node();
    let out = s.run(&["collection", "grant", "shared", "--org", "centre", "--read"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = collection_id(&s);
    s.write(
        "node/agreements/a.toml",
        &AGREEMENT.replace("COLLECTION_ID", &id),
    );
    let file = s.write(
        "in.json",
        &bundle(&[indicator(1, "2024-01-01T00:00:00.000Z")]),
    );
    assert_eq!(
        code(&s.run(&["ingest", "-c", "shared", file.to_str().unwrap()])),
        0
    );
    let preview = |s: &Scratch| -> serde_json::Value {
        let out = s.run(&[
            "--json",
            "agreement",
            "preview",
            "--recipient",
            "centre",
            "-c",
            "shared",
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let objects = |s: &Scratch| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&stdout(&s.run(&["--json", "stats"]))).unwrap()
            ["objects"]
            .clone()
    };
    let first = preview(&s);
    assert_eq!(first["total"]["released"], 2, "{first}");
    assert_eq!(
        first["by_type"]["marking-definition"]["released"], 1,
        "{first}"
    );
    assert_eq!(
        first["obligations_markings_not_yet_stored"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(objects(&s), 1, "the preview stored nothing");
    let out = s.run(&[
        "agreement",
        "preview",
        "--recipient",
        "centre",
        "-c",
        "shared",
    ]);
    assert!(
        stdout(&out).contains("1 obligations marking(s)"),
        "{}",
        stdout(&out)
    );
    let out = s.run(&["export", "--recipient", "centre", "-o", "out.json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(objects(&s), 2, "the partner's export stored the marking");
    let second = preview(&s);
    assert_eq!(second["total"]["released"], 2, "counted once: {second}");
    assert_eq!(
        second["obligations_markings_not_yet_stored"],
        serde_json::json!([])
    );
}

/// A bundle cut off after valid objects: what was stored before the break is said,
/// with the last stored id, and the inputs after it are named as not read.
#[test]
fn a_cut_off_bundle_says_what_was_stored() {
    let s = Scratch::node();
    let text = format!(
        r#"{{"type":"bundle","objects":[{},{},{{"type":"#,
        indicator(1, "2024-01-01T00:00:00.000Z"),
        indicator(2, "2024-01-01T00:00:00.000Z"),
    );
    let cut = s.write("cut.json", &text);
    let next = s.write(
        "next.json",
        &bundle(&[indicator(3, "2024-01-01T00:00:00.000Z")]),
    );
    let out = s.run(&["ingest", cut.to_str().unwrap(), next.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    for wanted in [
        "before the error, stored 2 objects",
        "the last one stored: indicator--00000000-0000-4000-8000-000000000002",
        "nothing after the error was stored",
        "not read: ",
        "next.json",
        "byte",
    ] {
        assert!(err.contains(wanted), "{wanted}: {err}");
    }
    let out = s.run(&["--json", "ingest", cut.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["already_present"], 2, "{summary}");
    assert_eq!(
        summary["last_stored"],
        "indicator--00000000-0000-4000-8000-000000000002"
    );
    assert!(summary["error"]
        .as_str()
        .unwrap_or_default()
        .contains("byte"));
}

/// An SCO without an id is rejected with the hint `--fill-ids`; an SDO, whose id
/// cannot be computed, without it.
#[test]
fn an_sco_without_an_id_gets_the_fill_ids_hint() {
    let s = Scratch::node();
    let file = s.write(
        "in.json",
        r#"[{"type":"ipv4-addr","spec_version":"2.1","value":"198.51.100.3"},
            {"type":"malware","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"x","is_family":false}]"#,
    );
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    let sco = err
        .lines()
        .find(|l| l.contains("object #0"))
        .unwrap_or_default();
    let sdo = err
        .lines()
        .find(|l| l.contains("object #1"))
        .unwrap_or_default();
    assert!(sco.contains("--fill-ids"), "{err}");
    assert!(
        sdo.contains("required-property") && !sdo.contains("--fill-ids"),
        "{err}"
    );
}

/// Telemetry dated before 2000 (a capture with relative timestamps) or in the future
/// is warned about, saying what was assumed; plausible times are not.
#[test]
fn implausible_telemetry_times_are_warned_about() {
    let s = Scratch::node();
    for (times, warned) in [
        (
            vec!["19.981745", "20.119134"],
            Some("2 records dated before 2000"),
        ),
        (
            vec!["1709370000.0", "4102444800.0"],
            Some("1 records dated in the future"),
        ),
        (vec!["1709370000.0", "1709370060.5"], None),
    ] {
        s.write("conn.log", &zeek_conn(&times));
        let out = s.run(&["match", "--dry-run", "conn.log"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let err = stderr(&out);
        match warned {
            Some(text) => {
                assert!(err.contains(text), "{times:?}: {err}");
                assert!(err.contains("Assumed:"), "{err}");
            }
            None => assert!(!err.contains("warning"), "{times:?}: {err}"),
        }
        let out = s.run(&["--json", "match", "conn.log"]);
        let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(
            summary["implausible_times"].is_array(),
            warned.is_some(),
            "{summary}"
        );
    }
}

/// `agreement list`: each value stands under its column's header.
#[test]
fn the_agreement_list_columns_line_up() {
    let s = Scratch::node();
    let id = collection_id(&s);
    s.write(
        "node/agreements/a.toml",
        &AGREEMENT.replace("COLLECTION_ID", &id),
    );
    let out = s.run(&["agreement", "list"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let row = lines.next().unwrap_or_default();
    let column = |line: &str, needle: &str| {
        line.chars().count() - line[line.find(needle).unwrap()..].chars().count()
    };
    // "V" is right-aligned: it ends where the version number ends.
    assert_eq!(column(header, " V ") + 1, column(row, " 1 ") + 1, "{text}");
    for (head, value) in [
        ("PROVIDER", "telco →"),
        ("STATUS", "active"),
        ("VALIDITY", "2020-"),
    ] {
        assert_eq!(column(header, head), column(row, value), "{head}: {text}");
    }
}

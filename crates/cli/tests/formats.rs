//! `accord export --format`: blocklists, Zeek intel and CSV from a small mixed bundle,
//! with exact expected output and the reasons for what was left out; the agreement
//! gate applies to every format.

use super::{code, stderr, stdout, Scratch};

const A: &str = "indicator--00000000-0000-4000-8000-00000000000a";
const B: &str = "indicator--00000000-0000-4000-8000-00000000000b";
const C: &str = "indicator--00000000-0000-4000-8000-00000000000c";
const HASH: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn ind(id: &str, name: &str, pattern: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"{name}","pattern":"{pattern}","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"{extra}}}"#
    )
}

fn mixed(s: &Scratch) -> String {
    let v6 = accord_agreements::sco_id("ipv6-addr", "2001:db8::1");
    let revoked_id = "indicator--00000000-0000-4000-8000-00000000000d";
    let objects = [
        ind(A, r#"C2, \"alpha\""#, "[ipv4-addr:value = '203.0.113.5'] OR [domain-name:value = 'Bad.Example.com']", ""),
        ind(B, "payload", "[url:value = 'http://evil.example.net/x'] OR [ipv4-addr:value = '192.0.2.0/24']", ""),
        ind(C, "dropper", &format!("[file:hashes.'SHA-256' = '{HASH}']"), ""),
        ind(revoked_id, "old", "[ipv4-addr:value = '203.0.113.66']", ""),
        ind(revoked_id, "old", "[ipv4-addr:value = '203.0.113.66']", r#","revoked":true"#)
            .replace(r#""modified":"2024-01-01T00:00:00.000Z""#, r#""modified":"2024-02-01T00:00:00.000Z""#),
        ind("indicator--00000000-0000-4000-8000-00000000000e", "expired", "[ipv4-addr:value = '203.0.113.67']", r#","valid_until":"2024-06-01T00:00:00Z""#),
        ind("indicator--00000000-0000-4000-8000-00000000000f", "and", "[ipv4-addr:value = '203.0.113.7'] AND [domain-name:value = 'x.example']", ""),
        format!(r#"{{"type":"ipv6-addr","spec_version":"2.1","id":"{v6}","value":"2001:db8::1"}}"#),
        r#"{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"m","is_family":false}"#.to_string(),
    ];
    let file = s.write("mixed.json", &format!("[{}]", objects.join(",")));
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    v6
}

/// An export without decay: the fixtures are dated 2024, and the conversion is what
/// these tests check (decay has its own test below).
fn export(s: &Scratch, format: &str) -> (String, String) {
    let out = s.run(&["export", "--format", format, "--min-score", "0"]);
    assert_eq!(code(&out), 0, "{format}: {}", stderr(&out));
    (stdout(&out), stderr(&out))
}

#[test]
fn each_format_of_a_mixed_bundle() {
    let s = Scratch::new();
    let v6 = mixed(&s);
    let hash = HASH.to_ascii_lowercase();
    let (ip, err) = export(&s, "blocklist-ip");
    assert_eq!(ip, "2001:db8::1\n203.0.113.5\n");
    assert!(
        err.contains("exported 2 objects as blocklist-ip; left out 6: 1 revoked, 1 expired, 1 not-convertible-type, 1 pattern-not-simple, 2 no-entry-for-this-format; values of exported objects this format has no line for: 1 domain"),
        "{err}"
    );
    assert_eq!(
        export(&s, "blocklist-cidr").0,
        "192.0.2.0/24\n2001:db8::1/128\n203.0.113.5/32\n"
    );
    assert_eq!(export(&s, "blocklist-domain").0, "bad.example.com\n");
    assert_eq!(export(&s, "blocklist-url").0, "http://evil.example.net/x\n");
    let (zeek, err) = export(&s, "zeek-intel");
    assert_eq!(
        zeek,
        format!(
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n\
             192.0.2.0/24\tIntel::SUBNET\t{B}\tpayload\n\
             2001:db8::1\tIntel::ADDR\t{v6}\t-\n\
             203.0.113.5\tIntel::ADDR\t{A}\tC2, \"alpha\"\n\
             {hash}\tIntel::FILE_HASH\t{C}\tdropper\n\
             bad.example.com\tIntel::DOMAIN\t{A}\tC2, \"alpha\"\n\
             evil.example.net/x\tIntel::URL\t{B}\tpayload\n"
        )
    );
    assert!(
        err.contains(
            "left out 4: 1 revoked, 1 expired, 1 not-convertible-type, 1 pattern-not-simple"
        ),
        "{err}"
    );
    assert_eq!(
        export(&s, "csv").0,
        format!(
            "indicator,type,source,description\r\n\
             192.0.2.0/24,cidr,{B},payload\r\n\
             2001:db8::1,ip,{v6},\r\n\
             203.0.113.5,ip,{A},\"C2, \"\"alpha\"\"\"\r\n\
             {hash},file-hash,{C},dropper\r\n\
             bad.example.com,domain,{A},\"C2, \"\"alpha\"\"\"\r\n\
             http://evil.example.net/x,url,{B},payload\r\n"
        )
    );
    let (rules, err) = export(&s, "suricata");
    assert_eq!(
        rules,
        format!(
            "alert dns any any -> any any (msg:\"Accord domain C2, \\\"alpha\\\"\"; dns.query; bsize:15; content:\"bad.example.com\"; nocase; metadata:stix_id {A}; sid:1449721881; rev:1;)\n\
             alert ip any any -> [203.0.113.5] any (msg:\"Accord address C2, \\\"alpha\\\"\"; metadata:stix_id {A}; sid:1911305095; rev:1;)\n\
             alert http any any -> any any (msg:\"Accord url payload\"; http.host; bsize:16; content:\"evil.example.net\"; http.uri.raw; bsize:2; content:\"/x\"; metadata:stix_id {B}; sid:1368831086; rev:1;)\n\
             alert ip any any -> [192.0.2.0/24] any (msg:\"Accord address payload\"; metadata:stix_id {B}; sid:1063229857; rev:1;)\n\
             alert ip any any -> [2001:db8::1] any (msg:\"Accord address {v6}\"; metadata:stix_id {v6}; sid:1411041828; rev:1;)\n"
        )
    );
    assert!(
        err.contains("exported 3 objects as suricata; left out 5: 1 revoked, 1 expired, 1 not-convertible-type, 1 pattern-not-simple, 1 no-entry-for-this-format"),
        "{err}"
    );
    let out = s.run(&["export", "--format", "blocklist-ip", "--verbose"]);
    let err = stderr(&out);
    assert!(
        err.contains("left out indicator--00000000-0000-4000-8000-00000000000d: revoked")
            && err.contains("left out indicator--00000000-0000-4000-8000-00000000000e: expired")
            && err.contains("indicator--00000000-0000-4000-8000-00000000000f: pattern-not-simple: AND of observations"),
        "{err}"
    );
}

#[test]
fn an_unknown_format_is_refused() {
    let s = Scratch::new();
    mixed(&s);
    let out = s.run(&["export", "--format", "snort"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("unknown export format 'snort'")
            && stderr(&out).contains("zeek-intel"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// What the agreement withholds from the recipient (a TLP:RED indicator under an
/// agreement up to CLEAR) is in no format; what it releases is, and is in the ledger.
#[test]
fn every_format_goes_through_the_gate() {
    let s = Scratch::node();
    let red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
    let objects = [
        ind(
            A,
            "clear",
            "[ipv4-addr:value = '203.0.113.5'] OR [domain-name:value = 'clear.example']",
            "",
        ),
        ind(
            B,
            "red",
            "[ipv4-addr:value = '203.0.113.9'] OR [domain-name:value = 'red.example']",
            &format!(r#","object_marking_refs":["{red}"]"#),
        ),
    ];
    let file = s.write("in.json", &format!("[{}]", objects.join(",")));
    std::fs::write(
        s.path("node/agreements/telco-centre.toml"),
        "id = \"telco-centre\"\nversion = 1\nprovider = { id = \"telco\" }\nrecipient = { id = \"centre\" }\n\
         purpose = \"Format tests\"\nlegal_basis = \"Test\"\n[validity]\nfrom = 2020-01-01T00:00:00Z\n\
         [scope]\ntypes = [\"*\"]\nmax_tlp = \"CLEAR\"\nunmarked_tlp = \"CLEAR\"\n\
         [obligations]\nonward_sharing = false\n",
    )
    .unwrap();
    for args in [
        &["collection", "grant", "shared", "--org", "centre", "--read"][..],
        &["ingest", "-c", "shared", file.to_str().unwrap()],
    ] {
        let out = s.run(args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    for format in [
        "blocklist-ip",
        "blocklist-cidr",
        "blocklist-domain",
        "zeek-intel",
        "csv",
    ] {
        let out = s.run(&[
            "export",
            "--recipient",
            "centre",
            "--format",
            format,
            "--min-score",
            "0",
        ]);
        assert_eq!(code(&out), 0, "{format}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("203.0.113.5") || text.contains("clear.example"),
            "{format}: {text}"
        );
        assert!(
            !text.contains("203.0.113.9") && !text.contains("red.example"),
            "{format}: {text}"
        );
    }
    let explained = s.run(&["ledger", "explain", "--recipient", "centre", "--object", A]);
    assert_eq!(code(&explained), 0, "{}", stderr(&explained));
    let never = s.run(&["ledger", "explain", "--recipient", "centre", "--object", B]);
    assert_eq!(code(&never), 1, "{}", stdout(&never));
}

#[test]
fn known_benign_and_decayed_values_are_left_out_of_blocklists_and_said() {
    let s = Scratch::new();
    let now = accord_stix::Timestamp::now().as_micros();
    let day = 86_400_000_000i64;
    let stamp = |ago: i64| {
        accord_stix::Timestamp::from_micros(now - ago * day)
            .as_str()
            .to_string()
    };
    let fresh = stamp(1);
    let old = stamp(25);
    let with = |id: &str, ip: &str, when: &str| {
        ind(id, "c2", &format!("[ipv4-addr:value = '{ip}']"), "")
            .replace("2024-01-01T00:00:00.000Z", when)
    };
    let objects = [
        with(A, "8.8.8.8", &fresh),
        with(B, "203.0.113.9", &fresh),
        with(C, "203.0.113.10", &old),
    ];
    let file = s.write("b.json", &format!("[{}]", objects.join(",")));
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Without decay: the public resolver is left out and said, with its list.
    let (ip, err) = export(&s, "blocklist-ip");
    assert_eq!(ip, "203.0.113.10\n203.0.113.9\n");
    assert!(err.contains("1 warninglisted"), "{err}");
    assert!(err.contains("left out known-benign values"), "{err}");
    // Kept on request.
    let out = s.run(&[
        "export",
        "--format",
        "blocklist-ip",
        "--include-warninglisted",
        "--min-score",
        "0",
    ]);
    assert_eq!(stdout(&out), "203.0.113.10\n203.0.113.9\n8.8.8.8\n");
    // The operator's own MISP warninglist, beside the bundled ones; one that does not
    // read is refused with its path, nothing written.
    let ours = s.write(
        "ours.json",
        r#"{"name":"Our sinkholes","version":1,"type":"cidr","list":["203.0.113.9/32"]}"#,
    );
    let out = s.run(&[
        "export",
        "--format",
        "blocklist-ip",
        "--min-score",
        "0",
        "--warninglist",
        ours.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "203.0.113.10\n");
    assert!(
        stderr(&out).contains("1 on Our sinkholes"),
        "{}",
        stderr(&out)
    );
    let broken = s.write("broken.json", r#"{"name":"x"}"#);
    let out = s.run(&[
        "export",
        "--format",
        "blocklist-ip",
        "--warninglist",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let out = s.run(&[
        "correlate",
        "203.0.113.9",
        "--warninglist",
        ours.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("[known-benign: Our sinkholes]"),
        "{}",
        stdout(&out)
    );
    // 25 days old, IP model (80, 30 days, speed 2): 80 * (1 - sqrt(25/30)) = 6.97 < 30;
    // a day old: 80 * (1 - sqrt(1/30)) = 65.4. A blocking format decays by default,
    // at MISP's threshold, and says so; csv does not.
    for format in [
        "blocklist-ip",
        "zeek-intel",
        "suricata",
        "suricata-dataset-ip",
    ] {
        let out = s.run(&["export", "--format", format]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(stdout(&out).contains("203.0.113.9"), "{format}");
        assert!(!stdout(&out).contains("203.0.113.10"), "{format}");
        assert!(
            stderr(&out).contains("below 30 (the default of blocking formats"),
            "{format}: {}",
            stderr(&out)
        );
    }
    let out = s.run(&["export", "--format", "csv"]);
    assert!(stdout(&out).contains("203.0.113.10"), "{}", stdout(&out));
    let out = s.run(&["export", "--format", "blocklist-ip", "--min-score", "30"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "203.0.113.9\n");
    assert!(stderr(&out).contains("1 score-decayed"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("whose decayed score is below 30"),
        "{}",
        stderr(&out)
    );
}

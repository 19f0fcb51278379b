//! The hub end to end (issue 15): `accord org add --countries/--asns`, `accord enrich`
//! (and lookup), `accord route --dry-run` and the real run's files and ledger.

use super::*;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/hub")
        .join(name)
        .display()
        .to_string()
}

fn ip(value: &str, n: u32) -> String {
    format!(
        r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--00000000-0000-4000-8000-{n:012}","value":"{value}"}}"#
    )
}

#[test]
fn enrich_then_route_each_country_its_part() {
    let s = Scratch::node();
    let out = s.run(&[
        "org",
        "add",
        "cert-my",
        "--countries",
        "my",
        "--asns",
        "4773",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = s.run(&["org", "add", "bad", "--countries", "MYS"]);
    assert_eq!(code(&out), 2, "a three-letter code is refused");
    let agreement = r#"id = "telco-my"
version = 1
provider = { id = "telco" }
recipient = { id = "cert-my" }
purpose = "Notification"
legal_basis = "MoU"
validity = { from = 2026-01-01T00:00:00Z }
obligations = { onward_sharing = true }
[scope]
types = ["*"]
max_tlp = "GREEN"
unmarked_tlp = "GREEN"
"#;
    s.write("node/agreements/telco-my.toml", agreement);
    let red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
    let objects = vec![
        ip("203.0.113.5", 1),
        ip("203.0.113.200", 2),
        ip("198.51.100.9", 3),
        format!(
            r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--00000000-0000-4000-8000-000000000004","value":"203.0.113.9","object_marking_refs":["{red}"]}}"#
        ),
    ];
    let file = s.write("in.json", &bundle(&objects));
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Routing before enrichment is refused with the command to run.
    let out = s.run(&["route", "--dry-run"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("accord enrich"), "{}", stderr(&out));
    let out = s.run(&[
        "enrich",
        "--mmdb-country",
        &fixture("country.mmdb"),
        "--mmdb-asn",
        &fixture("asn.mmdb"),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = s.run(&["--json", "enrich", "lookup", "203.0.113.200"]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v[0]["enrichment"]["country"], "SG");
    assert_eq!(v[0]["enrichment"]["asn"], 4773);
    // The dry run: cert-my gets the MY address and the SG one (its ASN 4773); the
    // RED one is withheld; the NL one is not considered. Nothing is written.
    let out = s.run(&["--json", "route", "--dry-run", "-o", "routes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let p = &v["recipients"][0];
    assert_eq!(p["recipient"], "cert-my");
    let released: Vec<&str> = p["released"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        released,
        [
            "ipv4-addr--00000000-0000-4000-8000-000000000001",
            "ipv4-addr--00000000-0000-4000-8000-000000000002"
        ]
    );
    assert_eq!(p["withheld"][0]["reason"], "tlp-above-maximum");
    assert!(!s.path("routes").exists(), "a dry run writes no file");
    let out = s.run(&["--json", "stats"]);
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats["ledger_entries"], 0);
    // The real run: files with released objects only, releases in the ledger.
    let out = s.run(&["route", "-o", "routes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bundle = std::fs::read_to_string(s.path("routes/cert-my.bundle.json")).unwrap();
    let csv = std::fs::read_to_string(s.path("routes/cert-my.events.csv")).unwrap();
    for text in [&bundle, &csv] {
        assert!(text.contains("203.0.113.5") && text.contains("203.0.113.200"));
        assert!(!text.contains("203.0.113.9") && !text.contains("000000000004"));
        assert!(!text.contains("198.51.100.9"));
    }
    assert!(csv.starts_with("time.source,time.observation,classification.taxonomy"));
    assert!(csv.contains(",203.0.113.200,4773,MobileOne,SG,"), "{csv}");
    let out = s.run(&["--json", "stats"]);
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats["ledger_entries"], 2);

    // Delivery as a TAXII collection: a dry run creates nothing; the real run declares
    // cert-my's routed collection (read by cert-my only) and fills it; filling
    // releases nothing (the reads will, through the gate).
    let out = s.run(&["route", "--deliver", "taxii", "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("would get a routed collection"),
        "{}",
        stdout(&out)
    );
    assert!(!std::fs::read_to_string(s.path("node/accord.toml"))
        .unwrap()
        .contains("routed_to"));
    let out = s.run(&["--json", "route", "--deliver", "taxii"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let d = &v["collections"][0];
    assert_eq!(d["recipient"], "cert-my");
    // Selected: the MY and SG (ASN 4773) addresses, and the RED one (withheld at read).
    assert_eq!(
        (d["added"].as_u64(), d["held"].as_u64()),
        (Some(3), Some(3))
    );
    let config = std::fs::read_to_string(s.path("node/accord.toml")).unwrap();
    assert!(
        config.contains("[api_roots.intel.collections.routed-cert-my]"),
        "{config}"
    );
    assert!(config.contains("read = [\"cert-my\"]") && config.contains("routed_to = \"cert-my\""));
    let out = s.run(&["--json", "route", "--deliver", "taxii"]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        v["collections"][0]["added"], 0,
        "delivering again adds nothing"
    );
    let out = s.run(&["--json", "stats"]);
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats["ledger_entries"], 2);
    // The standing collection follows the enrichment: a new MY address, enriched, is
    // in it at once.
    let file = s.write("more.json", &super::bundle(&[ip("203.0.113.70", 5)]));
    let out = s.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = s.run(&["enrich"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("routed to cert-my (collection ")
            && stdout(&out).contains("): 1 added, 0 removed, 4 held"),
        "{}",
        stdout(&out)
    );
    // The collection is cert-my's only: granting another reader is refused.
    let out = s.run(&[
        "collection",
        "grant",
        "routed-cert-my",
        "--org",
        "telco",
        "--read",
    ]);
    assert_ne!(code(&out), 0);
    assert!(
        stderr(&out).contains("read by 'cert-my' only"),
        "{}",
        stderr(&out)
    );
}

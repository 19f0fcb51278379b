//! `accord detect phishing`: the JSON contract, inputs told apart by content, storing
//! STIX that re-runs update instead of duplicating.

use serde_json::Value;

use crate::{code, exported, stderr, stdout, Scratch};

const BRANDS: &str = "# payment and government\npaypal.com\nhmrc.gov.uk\n";

#[test]
fn json_contract_over_lists_urls_and_zeek_logs() {
    let s = Scratch::new();
    let brands = s.write("brands.txt", BRANDS);
    let list = s.write(
        "names.txt",
        "# suspicious\npaypal-login-secure.com\nwww.paypal.com\n",
    );
    let urls = s.write(
        "urls.txt",
        "https://hmrc.gov.uk.tax-refund.com/claim?id=1\n",
    );
    let ssl = s.write(
        "ssl.log",
        "{\"_path\":\"ssl\",\"ts\":1700000000.5,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"192.0.2.7\",\"server_name\":\"xn--pypal-4ve.com\"}\n",
    );
    let out = s.run(&[
        "--json",
        "detect",
        "phishing",
        "--brands",
        brands.to_str().unwrap_or_default(),
        list.to_str().unwrap_or_default(),
        urls.to_str().unwrap_or_default(),
        ssl.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let findings: Vec<Value> = serde_json::from_str(&stdout(&out)).expect("a JSON array");
    let mut by_domain: Vec<(String, String, String)> = findings
        .iter()
        .map(|f| {
            assert_eq!(f["kind"], "phishing");
            let score = f["score"].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&score));
            assert!(f["evidence"].is_object());
            (
                f["domain"].as_str().unwrap_or_default().to_string(),
                f["imitates"].as_str().unwrap_or_default().to_string(),
                f["technique"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    by_domain.sort();
    assert_eq!(
        by_domain,
        vec![
            (
                "hmrc.gov.uk.tax-refund.com".into(),
                "hmrc.gov.uk".into(),
                "subdomain".into()
            ),
            (
                "paypal-login-secure.com".into(),
                "paypal.com".into(),
                "combosquat".into()
            ),
            (
                "xn--pypal-4ve.com".into(),
                "paypal.com".into(),
                "homoglyph".into()
            ),
        ]
    );
}

#[test]
fn store_writes_stix_and_a_rerun_updates_instead_of_duplicating() {
    let s = Scratch::node();
    let brands = s.write("brands.txt", BRANDS);
    let list = s.write("names.txt", "paypal-login-secure.com\n");
    let args = [
        "detect",
        "phishing",
        "--brands",
        brands.to_str().unwrap_or_default(),
        "--store",
        "-c",
        "shared",
        list.to_str().unwrap_or_default(),
    ];
    let out = s.run(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let first = exported(&s, &["-c", "shared", "--versions", "all"]);
    let types = |objs: &[Value]| {
        let mut t: Vec<String> = objs
            .iter()
            .filter_map(|o| o["type"].as_str().map(String::from))
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        types(&first),
        [
            "domain-name",
            "identity",
            "indicator",
            "note",
            "relationship"
        ]
    );
    let indicator = first
        .iter()
        .find(|o| o["type"] == "indicator")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        indicator["pattern"],
        "[domain-name:value = 'paypal-login-secure.com']"
    );
    // The same run again: nothing new.
    let out = s.run(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 new and 0 updated objects (5 unchanged)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        exported(&s, &["-c", "shared", "--versions", "all"]).len(),
        first.len()
    );
}

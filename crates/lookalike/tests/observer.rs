//! The detector as an observer over DNS, HTTP and TLS records, and its STIX.

use accord_detect::{Finding as _, Observer, Producer, Window};
use accord_lookalike::PhishingObserver;
use accord_telemetry::TelemetryReader;

use crate::techniques::shared;

#[test]
fn observes_dns_http_and_ssl_names_once_per_window() {
    let index = shared();
    let mut obs = PhishingObserver::new(index);
    let log = r#"{"ts":1700000000.0,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.53","query":"paypal-login-secure.com"}
{"ts":1700000060.0,"id.orig_h":"10.0.0.2","id.resp_h":"192.0.2.53","query":"PayPal-Login-Secure.com."}
{"ts":1700000001.0,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.9","method":"GET","host":"paypal.com.verify.tk:8080","uri":"/"}
{"ts":1700000002.0,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.9","server_name":"dhl-tracking.com"}
{"ts":1700000003.0,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.53","query":"www.paypal.com"}
"#;
    let mut r = TelemetryReader::new(log.as_bytes(), None).expect("reader");
    while let Some(rec) = r.next_record().expect("record") {
        obs.observe(&rec);
    }
    let w = Window { start: 0, end: 0 };
    let findings = obs.finish(&w);
    let subjects: Vec<String> = findings.iter().map(|f| f.subject()).collect();
    assert_eq!(
        subjects,
        vec![
            "paypal.com.verify.tk",
            "dhl-tracking.com",
            "paypal-login-secure.com"
        ]
    );
    let combo = &findings[2];
    let j = combo.to_json();
    assert_eq!(j["kind"], "phishing");
    assert_eq!(j["imitates"], "paypal.com");
    assert_eq!(j["technique"], "combosquat");
    assert_eq!(j["count"], 2);
    assert_eq!(j["first_seen"], "2023-11-14T22:13:20.000000Z");
    assert_eq!(j["last_seen"], "2023-11-14T22:14:20.000000Z");
    // The next window starts empty.
    assert!(obs.finish(&w).is_empty());
}

#[test]
fn stix_ids_are_deterministic_and_the_pattern_names_the_domain() {
    let index = shared();
    let mut obs = PhishingObserver::new(index);
    obs.see("paypal-login-secure.com", None);
    let f = obs.take().remove(0);
    let p1 = Producer {
        identity: "identity--5b12ae42-8455-4546-9bd3-f6535fffe6d1".into(),
        now: 1_700_000_000_000_000,
    };
    let p2 = Producer {
        now: 1_800_000_000_000_000,
        ..p1.clone()
    };
    let a = f.to_stix(&p1);
    let b = f.to_stix(&p2);
    let types: Vec<&str> = a.iter().filter_map(|o| o["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "domain-name",
            "identity",
            "indicator",
            "relationship",
            "note"
        ]
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["id"], y["id"], "ids do not depend on the time of the run");
    }
    assert_eq!(
        a[2]["pattern"],
        "[domain-name:value = 'paypal-login-secure.com']"
    );
    assert_eq!(a[3]["source_ref"], a[2]["id"]);
    assert_eq!(a[3]["target_ref"], a[1]["id"]);
    assert_eq!(a[1]["name"], "paypal.com");
    assert_eq!(a[4]["object_refs"][0], a[2]["id"]);
    assert!(a[4]["content"]
        .as_str()
        .unwrap_or("")
        .contains("lure words"));
    assert_eq!(a[0]["id"], "domain-name--".to_string() + &uuid_of(&a[0]));
}

fn uuid_of(v: &serde_json::Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or("")
        .trim_start_matches("domain-name--")
        .to_string()
}

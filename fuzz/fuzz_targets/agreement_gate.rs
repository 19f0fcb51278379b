//! The gate on arbitrary JSON objects under a protective agreement: it never
//! panics, released text is JSON, and it holds no customer address.
#![no_main]

use std::sync::OnceLock;

use accord_agreements::ipscan::scan;
use accord_agreements::{Agreement, Decision, Gate, NoObjects, ObjectFacts, ObjectVersion, PseudonymKey, UtcMicros};
use libfuzzer_sys::fuzz_target;

const AGREEMENT: &str = r#"
id = "fuzz"
version = 1
provider = { id = "p" }
recipient = { id = "r" }
purpose = "fuzzing"
legal_basis = "none"
validity = { from = 2026-01-01T00:00:00Z }
obligations = { retention = "30d" }
[scope]
types = ["*"]
max_tlp = "RED"
unknown_markings = "ignore"
[protections]
customer_ranges = ["10.0.0.0/8", "2001:db8::/32"]
pseudonym_key_env = "K"
remove_properties = ["x_secret"]
"#;

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| {
        let a = Agreement::from_toml(AGREEMENT).unwrap().with_key(PseudonymKey::from_bytes(&[3; 32]).unwrap());
        Gate::new([a]).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) else { return };
    let facts = ObjectFacts::extract(&value);
    let now = UtcMicros(1_780_000_000_000_000);
    let view = gate().view("r", now);
    let object = ObjectVersion { facts: &facts, provider: "p", collection: None, date_added: UtcMicros(0), raw };
    if let Decision::Release(r) = view.decide(&object, &NoObjects) {
        let out: serde_json::Value = serde_json::from_str(&r.bytes).expect("released text is JSON");
        let after = ObjectFacts::extract(&out);
        for ip in &after.ips {
            if !accord_agreements::ipscan::is_network(&ip.net, ip.has_prefix) {
                let customer = gate().agreements()[0].protections().customer_ranges.contains_addr(ip.net.addr());
                assert!(!customer, "customer address {} released", ip.net);
            }
        }
        let _ = scan(&r.bytes).len();
    }
});

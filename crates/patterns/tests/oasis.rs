//! The OASIS test suites (`stix2-patterns` and `stix2-matcher`), extracted
//! to `fixtures/patterns/` with the outcome the OASIS tools gave for each
//! case. Every case must give the same outcome here, except the deliberate
//! differences listed below with their reason.

use accord_patterns::{check, CompiledPattern, ObservedData};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/patterns/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Validator cases where we deliberately differ, with the reason.
const VALIDATOR_DIFFERENCES: &[(&str, &str)] = &[];

/// Matcher cases where we deliberately differ: (STIX version, pattern, reason).
const MATCHER_DIFFERENCES: &[(&str, &str, &str)] = &[];

#[test]
fn oasis_validator_cases() {
    let cases = fixture("validator-cases.json");
    let cases = cases["cases"].as_array().expect("cases");
    let (mut same, mut differ) = (0, Vec::new());
    for case in cases {
        if case["stix_version"] != "2.1" {
            continue;
        }
        let pattern = case["pattern"].as_str().expect("pattern");
        let expected = case["valid"].as_bool().expect("valid");
        let got = check(pattern);
        if got.is_valid() == expected {
            same += 1;
        } else if VALIDATOR_DIFFERENCES.iter().any(|(p, _)| *p == pattern) {
            same += 0;
        } else {
            differ.push(format!(
                "{pattern:?}: OASIS valid={expected}, ours {:?}",
                got.diagnostics
            ));
        }
    }
    println!("validator cases agreeing: {same}");
    assert!(
        differ.is_empty(),
        "{} disagreements:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

fn outcome(pattern: &str, observations: &Value) -> String {
    let compiled = match CompiledPattern::compile(pattern) {
        Ok(c) => c,
        Err(e) => return format!("error ({e})"),
    };
    let data = match ObservedData::from_json(observations) {
        Ok(d) => d,
        Err(e) => return format!("error ({e})"),
    };
    match compiled.matches(&data) {
        Ok(true) => "match".into(),
        Ok(false) => "no-match".into(),
        Err(e) => format!("error ({e})"),
    }
}

#[test]
fn oasis_matcher_cases() {
    let fixture = fixture("matcher-cases.json");
    let sets = &fixture["observation_sets"];
    let cases = fixture["cases"].as_array().expect("cases");
    let (mut same, mut known, mut differ) = (0, 0, Vec::new());
    for case in cases {
        let version = case["stix_version"].as_str().expect("version");
        let pattern = case["pattern"].as_str().expect("pattern");
        let expected = case["outcome"].as_str().expect("outcome");
        let observations = &sets[case["observations"].as_str().expect("key")];
        let got = outcome(pattern, observations);
        let got_kind = got.split(' ').next().unwrap_or_default();
        if got_kind == expected {
            same += 1;
        } else if MATCHER_DIFFERENCES
            .iter()
            .any(|(v, p, _)| *v == version && *p == pattern)
        {
            known += 1;
        } else {
            differ.push(format!(
                "[{version}] {pattern:?}: OASIS {expected} ({}), ours {got}  <{}>",
                case["error"], case["test"]
            ));
        }
    }
    println!("matcher cases agreeing: {same}, deliberate differences: {known}");
    assert!(
        differ.is_empty(),
        "{} disagreements:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

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

/// OASIS test-suite cases where we deliberately differ: (pattern, reason).
/// None: every case of both suites gives the OASIS outcome. (The deliberate
/// differences found elsewhere are in `interop-corpus.json`.)
const DIFFERENCES: &[(&str, &str)] = &[];

#[test]
fn oasis_validator_cases() {
    let cases = fixture("validator-cases.json");
    let cases = cases["cases"].as_array().expect("cases");
    let (mut same, mut known, mut differ) = (0, 0, Vec::new());
    for case in cases {
        if case["stix_version"] != "2.1" {
            continue;
        }
        let pattern = case["pattern"].as_str().expect("pattern");
        let expected = case["valid"].as_bool().expect("valid");
        let got = check(pattern);
        if got.is_valid() == expected {
            same += 1;
        } else if DIFFERENCES.iter().any(|(p, _)| *p == pattern) {
            known += 1;
        } else {
            differ.push(format!(
                "{pattern:?}: OASIS valid={expected}, ours {:?}",
                got.diagnostics
            ));
        }
    }
    println!("validator cases agreeing: {same}, deliberate differences: {known}");
    assert!(same >= 100);
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
        } else if DIFFERENCES.iter().any(|(p, _)| *p == pattern) {
            known += 1;
        } else {
            differ.push(format!(
                "[{version}] {pattern:?}: OASIS {expected} ({}), ours {got}  <{}>",
                case["error"], case["test"]
            ));
        }
    }
    println!("matcher cases agreeing: {same}, deliberate differences: {known}");
    assert!(same >= 800);
    assert!(
        differ.is_empty(),
        "{} disagreements:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

/// `fixtures/patterns/interop-corpus.json`: edge cases written for Accord,
/// with the outcomes the OASIS tools gave (frozen from
/// `scripts/interop-patterns`), so they are checked without Python too.
#[test]
fn interop_corpus_outcomes() {
    let corpus = fixture("interop-corpus.json");
    let known = |key: &str, pattern: &str| {
        corpus[key]
            .as_array()
            .expect("known differences")
            .iter()
            .any(|k| k["pattern"] == pattern)
    };
    let mut differ = Vec::new();
    let checks = corpus["check_expected"]
        .as_object()
        .expect("check_expected");
    for (pattern, expected) in checks {
        let got = if check(pattern).is_valid() {
            "valid"
        } else {
            "invalid"
        };
        if got != expected && !known("check_known_differences", pattern) {
            differ.push(format!("check {pattern:?}: OASIS {expected}, ours {got}"));
        }
    }
    let observations = &corpus["match_observations"];
    let matches = corpus["match_expected"]
        .as_object()
        .expect("match_expected");
    for (pattern, expected) in matches {
        let got = outcome(pattern, observations);
        let got_kind = got.split(' ').next().unwrap_or_default();
        if got_kind != expected && !known("match_known_differences", pattern) {
            differ.push(format!("match {pattern:?}: OASIS {expected}, ours {got}"));
        }
    }
    println!(
        "interop corpus: {} check and {} match cases",
        checks.len(),
        matches.len()
    );
    assert!(checks.len() > 100 && matches.len() > 50);
    assert!(
        differ.is_empty(),
        "{} disagreements:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

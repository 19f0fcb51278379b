//! Property tests: arbitrary and mutated inputs never panic, and the
//! canonical text of a parsed pattern parses back to the same pattern.

use accord_patterns::{check, parse, CompiledPattern, ObservedData};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Valid patterns to mutate, covering every construct of the grammar.
const SEEDS: &[&str] = &[
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "([file:name = 'a.exe'] FOLLOWEDBY [process:pid > 4]) WITHIN 300 SECONDS OR [url:value LIKE 'http://%']",
    "[ipv4-addr:value ISSUBSET '10.0.0.0/8' OR ipv4-addr:value NOT ISSUPERSET '10.1.2.3']",
    "[x:a IN (1, 2.5, -3) AND x:b MATCHES '^a.+b$' AND NOT EXISTS x:c.d[0]]",
    "[x:a = t'2016-01-01T00:00:00.5Z' OR x:b = b'AQIDBA==' OR x:c != h'ff00' OR x:d = true]",
    "[x:a = 'it\\'s'] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
    "[(x:a = 1 OR x:b = 2) AND x:c <= -.5] AND [y:z >= +7]",
];

/// Fragments that mutations insert: tokens of the grammar and near misses.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "'",
    ".",
    ":",
    ",",
    "*",
    " AND ",
    " OR ",
    " NOT ",
    " FOLLOWEDBY ",
    " LIKE ",
    " MATCHES ",
    " IN ",
    " EXISTS ",
    " WITHIN ",
    " SECONDS",
    " REPEATS ",
    " TIMES",
    " START ",
    " STOP ",
    "=",
    "!=",
    "<",
    ">=",
    "t'",
    "b'",
    "h'",
    "-",
    "+",
    "0",
    "1.5",
    "\\",
    "/*",
    "*/",
    "//",
    "\n",
    "é",
    "\u{3000}",
    "true",
    "x-y",
    "_",
];

fn observations() -> Value {
    json!([{
        "type": "bundle", "id": "bundle--1", "objects": [
            {"type": "observed-data", "id": "observed-data--1", "number_observed": 2,
             "first_observed": "2016-06-01T00:00:00Z", "last_observed": "2016-06-01T00:01:00Z",
             "object_refs": ["file--1", "x--1", "network-traffic--1", "ipv4-addr--1"]},
            {"type": "file", "id": "file--1", "name": "a.exe", "hashes": {"SHA-256": "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}},
            {"type": "x", "id": "x--1", "a": 1, "b": "ab", "c": {"d": [1]}, "e_hex": "ff00", "f_bin": "AQIDBA=="},
            {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "10.1.2.3"},
            {"type": "network-traffic", "id": "network-traffic--1", "dst_port": 443, "protocols": ["tcp"], "dst_ref": "ipv4-addr--1"}
        ]
    }])
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    Replace(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, f)| Edit::Insert(at, f)),
        (any::<usize>(), 1usize..6).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, f)| Edit::Replace(at, f)),
    ]
}

fn apply(seed: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match *e {
            Edit::Insert(at, f) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, FRAGMENTS[f].chars());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            Edit::Replace(at, f) => {
                let at = at % len;
                if at < chars.len() {
                    chars.splice(at..at + 1, FRAGMENTS[f].chars());
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// Everything the library does with a pattern, none of which may panic.
fn exercise(src: &str, data: &ObservedData<'_>) {
    let checked = check(src);
    if let Some(pattern) = &checked.pattern {
        // Canonical text is a fixed point of parse + display.
        let text = pattern.to_string();
        let reparsed = parse(&text).unwrap_or_else(|e| panic!("{src:?} -> {text:?}: {e}"));
        assert_eq!(reparsed.to_string(), text, "from {src:?}");
        let _ = accord_patterns::atoms::atoms(pattern);
        if let Ok(compiled) = CompiledPattern::new(pattern, src) {
            let _ = compiled.matches(data);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        let obs = observations();
        let data = ObservedData::from_json(&obs).expect("fixed data");
        exercise(&src, &data);
    }

    #[test]
    fn mutated_patterns_never_panic(seed in 0..SEEDS.len(), edits in prop::collection::vec(edit(), 1..6)) {
        let obs = observations();
        let data = ObservedData::from_json(&obs).expect("fixed data");
        exercise(&apply(SEEDS[seed], &edits), &data);
    }

    #[test]
    fn arbitrary_json_never_panics(pattern in 0..SEEDS.len(), value in json_value()) {
        let compiled = CompiledPattern::compile(SEEDS[pattern]).expect("seed compiles");
        let wrapped = json!([{"type": "observed-data", "id": "observed-data--1", "number_observed": 1,
            "first_observed": "2016-06-01T00:00:00Z", "last_observed": "2016-06-01T00:00:00Z",
            "objects": {"0": value}}]);
        if let Ok(data) = ObservedData::from_json(&wrapped) {
            let _ = compiled.matches(&data);
        }
    }
}

#[test]
fn seeds_are_valid_and_round_trip() {
    let obs = observations();
    let data = ObservedData::from_json(&obs).expect("fixed data");
    for seed in SEEDS {
        assert!(
            check(seed).is_valid(),
            "{seed}: {:?}",
            check(seed).diagnostics
        );
        exercise(seed, &data);
    }
}

/// JSON objects shaped like observed objects, with the property names the
/// seeds use, so that paths, references and decoders are reached.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        "[a-f0-9=/+ .:%*-]{0,12}".prop_map(Value::from),
        Just(Value::from("10.0.0.1")),
        Just(Value::from("2016-06-01T00:00:00Z")),
        Just(Value::from("0")),
        Just(Value::from("x")),
        Just(Value::from("file")),
    ];
    let keys = prop::sample::select(vec![
        "type",
        "a",
        "b",
        "c",
        "d",
        "e_hex",
        "f_bin",
        "name",
        "value",
        "dst_ref",
        "protocols",
        "hashes",
        "x_refs",
        "dst_port",
    ]);
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..5).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

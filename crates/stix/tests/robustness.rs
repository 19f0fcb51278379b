//! Property tests: random and mutated JSON never makes the parser, validator
//! or bundle reader panic, and what they accept agrees with serde_json.

use std::fs::File;
use std::io::{BufReader, Read};
use std::sync::OnceLock;

use accord_stix::{
    canonical_json, minify_json, parse_object, parse_object_with, BundleReader, ParseOptions,
    Timestamp,
};
use proptest::prelude::*;
use serde_json::Value;

/// Real objects (ATT&CK for ICS and the OASIS APT1 report) as JSON texts.
fn real_objects() -> &'static [String] {
    static OBJECTS: OnceLock<Vec<String>> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let mut out = Vec::new();
        for rel in ["ics-attack-18.1.json", "oasis-examples/apt1.json"] {
            let file = File::open(crate::fixture(rel)).unwrap();
            out.extend(
                BundleReader::new(BufReader::new(file))
                    .take(120)
                    .map(|r| r.unwrap().text),
            );
        }
        out
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // (accord-stix turns on serde_json's float_roundtrip: doubles read back exactly.)
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        "[\\x00-\\x7f]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_\\-]{1,6}|\\PC{1,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Re-serialises with random whitespace between tokens.
fn with_whitespace(text: &str, seed: u64) -> String {
    let mut out = String::new();
    let (mut in_str, mut esc) = (false, false);
    let mut x = seed | 1;
    for c in text.chars() {
        if !in_str && matches!(c, '{' | '}' | '[' | ']' | ',' | ':') {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push_str([" ", "", "\n  ", "\t", "\r\n"][(x % 5) as usize]);
        }
        out.push(c);
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any JSON object, pretty or not, is either accepted with its value kept
    /// or rejected with errors; minification equals serde_json's compact form
    /// up to key order (serde_json::Value keeps keys sorted).
    #[test]
    fn random_json_keeps_its_value(v in json_value(), seed in any::<u64>()) {
        let text = with_whitespace(&v.to_string(), seed);
        let reparsed: Value = serde_json::from_str(&minify_json(&text)).unwrap();
        prop_assert_eq!(&reparsed, &v);
        let v: Value = serde_json::from_str(&text).unwrap();
        match parse_object(&text) {
            Ok(obj) => {
                let kept: Value = serde_json::from_str(&obj.json).unwrap();
                prop_assert_eq!(kept, v);
            }
            Err(r) => prop_assert!(!r.errors.is_empty()),
        }
    }

    /// Real objects with random byte edits: no panic; anything accepted is JSON
    /// equal to the edited text.
    #[test]
    fn mutated_real_objects(pick in any::<prop::sample::Index>(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)) {
        let objects = real_objects();
        let mut bytes = objects[pick.index(objects.len())].clone().into_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let opts = ParseOptions { fill_sco_ids: true, ..Default::default() };
        let _ = parse_object_with(&text, &opts);
        let serde: Result<Value, _> = serde_json::from_str(&text);
        match parse_object(&text) {
            Ok(obj) => {
                let kept: Value = serde_json::from_str(&obj.json).unwrap();
                prop_assert_eq!(Some(kept), serde.ok());
            }
            Err(r) => {
                // A text serde_json rejects is always a JSON syntax rejection.
                if serde.is_err() {
                    prop_assert!(r.errors.iter().any(|e| matches!(e.rule.code(), "json-syntax" | "nesting-too-deep")), "{}", r);
                }
            }
        }
    }

    /// Arbitrary text: the object parser and the bundle reader never panic, and
    /// the reader stops after a fatal error.
    #[test]
    fn arbitrary_text(text in "\\PC{0,200}|[\\[\\]{}\",:a-z0-9 \\\\]{0,200}") {
        let _ = parse_object(&text);
        let mut fatal = false;
        for item in BundleReader::new(text.as_bytes()) {
            prop_assert!(!fatal);
            if let Err(e) = item { fatal = e.is_fatal(); }
        }
    }

    /// The acceptance of strings (escapes, controls, surrogates) matches serde_json.
    #[test]
    fn string_syntax_matches_serde(body in "([\\x00-\\x7f]|\\\\u[0-9a-fA-FdD]{4}|\\\\[\"\\\\/bfnrtux]|é|😀){0,40}") {
        let text = format!("{{\"x_s\":\"{body}\"}}");
        let ours = parse_object(&text).err().map(|r| r.errors.iter().any(|e| e.rule.code() == "json-syntax"));
        let serde_ok = serde_json::from_str::<Value>(&text).is_ok();
        prop_assert_eq!(ours == Some(true), !serde_ok, "{}", text);
    }

    /// Every string the reader accepts decodes to what serde_json decodes.
    #[test]
    fn string_decoding_matches_serde(body in "([\\x20-\\x7f]|\\\\u[0-9a-fA-FdD]{4}|\\\\[\"\\\\/bfnrt]|é|😀){0,40}") {
        let text = format!("{{\"x_s\":\"{body}\"}}");
        let Ok(serde) = serde_json::from_str::<Value>(&text) else { return Ok(()) };
        let ours = accord_stix::JsonView::parse_then(&text, |v| {
            let member = v.get("x_s");
            member.and_then(|s| s.as_str().map(|s| s.into_owned()))
        });
        let ours = ours.ok().flatten();
        prop_assert_eq!(ours.as_deref(), serde["x_s"].as_str(), "{}", text);
    }

    /// A bundle read through any chunking yields exactly its objects.
    #[test]
    fn bundle_reader_any_chunking(objs in prop::collection::vec(json_value(), 0..8), chunk in 1usize..40, seed in any::<u64>()) {
        let bundle = serde_json::json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs});
        let text = with_whitespace(&bundle.to_string(), seed);
        let reader = BundleReader::new(Chunked { data: text.as_bytes(), chunk });
        let got: Vec<Value> = reader.map(|r| serde_json::from_str(&r.unwrap().text).unwrap()).collect();
        prop_assert_eq!(got, bundle["objects"].as_array().cloned().unwrap());
    }

    #[test]
    fn timestamps_round_trip(micros in -62_135_596_800_000_000i64..253_402_300_799_999_999) {
        let t = Timestamp::from_micros(micros);
        let back = Timestamp::parse(t.as_str()).unwrap();
        prop_assert_eq!(back.as_micros(), micros);
        prop_assert_eq!(back, t);
    }

    /// Canonical JSON parses back to the same value (integers within 2^53).
    #[test]
    fn canonical_json_round_trips(v in json_value()) {
        let c = canonical_json(&v);
        let back: Value = serde_json::from_str(&c).unwrap();
        prop_assert_eq!(canonical_json(&back), c);
    }
}

/// A reader that hands out at most `chunk` bytes per call.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn deep_nesting_is_a_clear_error_not_a_crash() {
    for depth in [65usize, 1000, 100_000] {
        let text = format!(
            "{{\"type\":\"x-a\",\"x_d\":{}{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let r = parse_object(&text).unwrap_err();
        assert_eq!(r.errors[0].rule.code(), "nesting-too-deep", "{depth}");
    }
    // The object is depth 1, so 63 nested arrays reach the limit of 64.
    let ok = format!(
        "{{\"type\":\"x-a\",\"id\":\"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"x_d\":{}[1]{}}}",
        "[1,".repeat(62),
        "]".repeat(62)
    );
    assert!(parse_object(&ok).is_ok());
}

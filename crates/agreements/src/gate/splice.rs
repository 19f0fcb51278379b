//! Text-level edits of the stored JSON for the common transformation that only
//! adds the obligations marking and caps an indicator's `valid_until`: a single
//! pass over the top-level members and two insertions, instead of parsing the
//! whole object into a tree and serialising it again (about ten times faster on
//! a typical indicator). Anything unusual (escaped or duplicate keys, a
//! non-array `object_marking_refs`, malformed text) returns `None` and the caller
//! takes the tree path, so this is an optimisation with the same result.

/// Positions of the members this module edits.
#[derive(Default)]
struct Members {
    /// Byte range of the `object_marking_refs` value.
    markings: Option<(usize, usize)>,
    /// Byte range of the `valid_until` value.
    valid_until: Option<(usize, usize)>,
    /// Byte offset of the object's closing brace.
    close: usize,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// End (exclusive) of the string starting at `i` (which is a quote).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        match b[i] {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
    }
}

/// End (exclusive) of the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

fn scan(raw: &str) -> Option<Members> {
    let b = raw.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut members = Members::default();
    loop {
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => {
                members.close = i;
                return (skip_ws(b, i + 1) == b.len()).then_some(members);
            }
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = skip_string(b, i)?;
        let key = &b[i + 1..key_end - 1];
        if key.contains(&b'\\') {
            return None;
        }
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = skip_value(b, start)?;
        let slot = match key {
            b"object_marking_refs" => Some(&mut members.markings),
            b"valid_until" => Some(&mut members.valid_until),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.replace((start, end)).is_some() {
                return None;
            }
        }
        i = end;
    }
}

/// Applies the edits to the stored text, or `None` to ask for the tree path.
///
/// Writes the result in one pass into one buffer: this runs for every object an
/// agreement with obligations releases.
pub(crate) fn splice<'a>(
    raw: &'a str,
    marking: Option<&'a str>,
    valid_until: Option<&'a str>,
) -> Option<String> {
    let m = scan(raw)?;
    let b = raw.as_bytes();
    // At most three edits: (start, end) of the replaced range and what goes there.
    let mut edits: [(usize, usize, Insert<'a>); 3] = [(0, 0, Insert::Nothing); 3];
    let mut count = 0;
    let mut push = |edit: (usize, usize, Insert<'a>)| {
        edits[count] = edit;
        count += 1;
    };
    let mut tail_cap = None;
    let mut tail_marking = None;
    if let Some(cap) = valid_until {
        match m.valid_until {
            Some((start, end)) => push((start, end, Insert::Quoted(cap))),
            None => tail_cap = Some(cap),
        }
    }
    if let Some(id) = marking {
        match m.markings {
            Some((start, end)) => {
                if b[start] != b'[' {
                    return None;
                }
                let inner = &b[start + 1..end - 1];
                if !contains_quoted(inner, id.as_bytes()) {
                    let empty = inner.iter().all(u8::is_ascii_whitespace);
                    push((end - 1, end - 1, Insert::ListItem { id, first: empty }));
                }
            }
            None => tail_marking = Some(id),
        }
    }
    if tail_cap.is_some() || tail_marking.is_some() {
        // An object with no member before the closing brace takes no leading comma.
        let empty = raw[..m.close].trim_end().ends_with('{');
        push((
            m.close,
            m.close,
            Insert::Members {
                valid_until: tail_cap,
                marking: tail_marking,
                first: empty,
            },
        ));
    }
    let edits = &mut edits[..count];
    edits.sort_unstable_by_key(|e| e.0);
    let mut out = String::with_capacity(raw.len() + 128);
    let mut copied = 0;
    for (start, end, insert) in edits.iter() {
        out.push_str(&raw[copied..*start]);
        insert.write(&mut out);
        copied = *end;
    }
    out.push_str(&raw[copied..]);
    Some(out)
}

/// Text one edit puts in.
#[derive(Clone, Copy)]
enum Insert<'a> {
    Nothing,
    /// A string value.
    Quoted(&'a str),
    /// An item appended to a list (with a comma unless the list was empty).
    ListItem {
        id: &'a str,
        first: bool,
    },
    /// Members appended to the object (with a leading comma unless it was empty).
    Members {
        valid_until: Option<&'a str>,
        marking: Option<&'a str>,
        first: bool,
    },
}

impl Insert<'_> {
    fn write(&self, out: &mut String) {
        match *self {
            Insert::Nothing => {}
            Insert::Quoted(text) => {
                out.push('"');
                out.push_str(text);
                out.push('"');
            }
            Insert::ListItem { id, first } => {
                if !first {
                    out.push(',');
                }
                out.push('"');
                out.push_str(id);
                out.push('"');
            }
            Insert::Members {
                valid_until,
                marking,
                mut first,
            } => {
                if let Some(cap) = valid_until {
                    out.push_str(if first { "" } else { "," });
                    out.push_str("\"valid_until\":\"");
                    out.push_str(cap);
                    out.push('"');
                    first = false;
                }
                if let Some(id) = marking {
                    out.push_str(if first { "" } else { "," });
                    out.push_str("\"object_marking_refs\":[\"");
                    out.push_str(id);
                    out.push_str("\"]");
                }
            }
        }
    }
}

/// Whether `list` (the inside of a JSON array) holds the string `"id"`.
fn contains_quoted(list: &[u8], id: &[u8]) -> bool {
    // Walk the strings (a few marking ids); a memmem search would build a finder
    // per call, which costs more than the walk.
    let mut at = 0;
    while let Some(quote) = list.get(at..).and_then(|rest| memchr::memchr(b'"', rest)) {
        let start = at + quote;
        let Some(end) = skip_string(list, start) else {
            return false;
        };
        if &list[start + 1..end - 1] == id {
            return true;
        }
        at = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;
    use serde_json::{json, Value};

    fn check(raw: &str, expected: Value) {
        let out = splice(
            raw,
            Some("marking-definition--m"),
            Some("2026-07-01T00:00:00.000Z"),
        )
        .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            expected,
            "{out}"
        );
    }

    #[test]
    fn adds_and_replaces_members_in_any_layout() {
        check(
            r#"{"type":"indicator","valid_until":"2027-01-01T00:00:00Z","object_marking_refs":["a"]}"#,
            json!({"type":"indicator","valid_until":"2026-07-01T00:00:00.000Z","object_marking_refs":["a","marking-definition--m"]}),
        );
        check(
            "{ \"type\" : \"indicator\" ,\n \"x\": {\"object_marking_refs\": 1, \"s\": \"}]\\\"\"}, \"object_marking_refs\" : [ ] }\n",
            json!({"type":"indicator","x":{"object_marking_refs":1,"s":"}]\""},"object_marking_refs":["marking-definition--m"],"valid_until":"2026-07-01T00:00:00.000Z"}),
        );
        check(
            "{}",
            json!({"valid_until":"2026-07-01T00:00:00.000Z","object_marking_refs":["marking-definition--m"]}),
        );
    }

    #[test]
    fn unusual_text_falls_back() {
        for raw in [
            r#"{"a":1,"a":2,"valid_until":1,"valid_until":2}"#,
            r#"{"obj\u0065ct":1}"#,
            "[1]",
            "{\"a\":",
            "{\"a\":1}x",
            r#"{"object_marking_refs":"x"}"#,
        ] {
            assert!(splice(raw, Some("m"), Some("t")).is_none(), "{raw}");
        }
    }

    /// The same object the tree path makes: `valid_until` set, the marking in
    /// `object_marking_refs` once.
    fn tree_edit(mut object: Value, marking: &str, cap: &str) -> Value {
        let map = object.as_object_mut().unwrap();
        map.insert("valid_until".into(), Value::String(cap.into()));
        let refs = map
            .entry("object_marking_refs")
            .or_insert_with(|| Value::Array(Vec::new()));
        let list = refs.as_array_mut().unwrap();
        if !list.iter().any(|v| v == marking) {
            list.push(Value::String(marking.into()));
        }
        object
    }

    fn leaf() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\\\\\"{}\\[\\],: ]{0,12}".prop_map(Value::String),
        ]
    }

    proptest::proptest! {
        /// On any object (nested values holding braces, quotes and look-alike keys,
        /// any spacing), the splice gives what the tree path gives, or declines.
        #[test]
        fn splice_agrees_with_the_tree_path(
            members in proptest::collection::vec(
                (proptest::prop_oneof![
                    proptest::strategy::Just("valid_until".to_string()),
                    proptest::strategy::Just("object_marking_refs".to_string()),
                    "[a-z_]{1,8}",
                ], leaf().prop_recursive(3, 16, 4, |inner| proptest::prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    proptest::collection::btree_map("[a-z_\"{}]{1,6}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ])),
                0..6,
            ),
            existing_marking in proptest::option::of(proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("marking-definition--m".to_string()),
                    "[a-z-]{1,10}",
                ], 0..3)),
            pretty in proptest::bool::ANY,
        ) {
            let mut map = serde_json::Map::new();
            for (k, v) in members {
                map.insert(k, v);
            }
            if let Some(list) = existing_marking {
                map.insert("object_marking_refs".into(), Value::from(list));
            }
            let object = Value::Object(map);
            let raw = if pretty {
                serde_json::to_string_pretty(&object).unwrap()
            } else {
                serde_json::to_string(&object).unwrap()
            };
            let cap = "2026-07-01T00:00:00.000Z";
            let marking = "marking-definition--m";
            if let Some(out) = splice(&raw, Some(marking), Some(cap)) {
                let spliced: Value = serde_json::from_str(&out)
                    .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}: {out}")))?;
                proptest::prop_assert_eq!(spliced, tree_edit(object.clone(), marking, cap), "{}", out);
            } else {
                // Declining is only for what the splice cannot edit in place.
                let refs = object.get("object_marking_refs");
                proptest::prop_assert!(refs.is_some_and(|r| !r.is_array()), "{}", raw);
            }
        }
    }
}

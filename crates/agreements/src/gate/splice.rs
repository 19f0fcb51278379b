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
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
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
pub(crate) fn splice(
    raw: &str,
    marking: Option<&str>,
    valid_until: Option<&str>,
) -> Option<String> {
    let m = scan(raw)?;
    // (position, text) insertions and at most one replacement, applied in order.
    let mut edits: Vec<(usize, usize, String)> = Vec::with_capacity(3);
    let mut tail = String::new();
    if let Some(cap) = valid_until {
        match m.valid_until {
            Some((start, end)) => edits.push((start, end, format!("\"{cap}\""))),
            None => tail.push_str(&format!(",\"valid_until\":\"{cap}\"")),
        }
    }
    if let Some(id) = marking {
        match m.markings {
            Some((start, end)) => {
                if raw.as_bytes()[start] != b'[' {
                    return None;
                }
                let inner = &raw[start + 1..end - 1];
                if !inner.contains(&format!("\"{id}\"")) {
                    let sep = if inner.trim().is_empty() { "" } else { "," };
                    edits.push((end - 1, end - 1, format!("{sep}\"{id}\"")));
                }
            }
            None => tail.push_str(&format!(",\"object_marking_refs\":[\"{id}\"]")),
        }
    }
    if !tail.is_empty() {
        // An object with no member before the closing brace takes no leading comma.
        let before = raw[..m.close].trim_end();
        if before.ends_with('{') {
            tail.remove(0);
        }
        edits.push((m.close, m.close, tail));
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(raw.len() + 128);
    let mut copied = 0;
    for (start, end, text) in edits {
        out.push_str(&raw[copied..start]);
        out.push_str(&text);
        copied = end;
    }
    out.push_str(&raw[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
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
}

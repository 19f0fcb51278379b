//! The streaming bundle reader on large generated input and broken input.

use std::io::Read;

use accord_stix::{parse_object, BundleReader, ReadError};

/// Generates `{"type":"bundle","objects":[obj, obj, ...]}` on the fly: the
/// whole input never exists in memory.
struct Generated {
    count: usize,
    next: usize,
    pending: Vec<u8>,
    pos: usize,
    closed: bool,
}

impl Generated {
    fn new(count: usize) -> Self {
        Generated {
            count,
            next: 0,
            pending: b"{\"type\": \"bundle\", \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\", \"objects\": [\n".to_vec(),
            pos: 0,
            closed: false,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            self.pending.clear();
            self.pos = 0;
            if self.next < self.count {
                let sep = if self.next > 0 { ",\n" } else { "" };
                let i = self.next;
                self.pending.extend_from_slice(
                    format!(
                        "{sep}  {{\"type\": \"ipv4-addr\", \"spec_version\": \"2.1\", \"id\": \"ipv4-addr--{:08x}-0000-4000-8000-000000000000\", \"value\": \"10.{}.{}.{}\"}}",
                        i,
                        (i >> 16) & 255,
                        (i >> 8) & 255,
                        i & 255
                    )
                    .as_bytes(),
                );
                self.next += 1;
            } else if !self.closed {
                self.pending.extend_from_slice(b"\n]}\n");
                self.closed = true;
            } else {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn streams_many_objects() {
    let count = 200_000;
    let mut seen = 0;
    for (i, raw) in BundleReader::new(Generated::new(count)).enumerate() {
        let raw = raw.unwrap();
        assert_eq!(raw.index, i);
        if i % 997 == 0 {
            let obj = parse_object(&raw.text).unwrap();
            assert_eq!(obj.object_type, "ipv4-addr");
        }
        seen += 1;
    }
    assert_eq!(seen, count);
}

#[test]
fn a_broken_object_is_reported_with_its_index_and_the_rest_goes_on() {
    let input = br#"[{"type":"x-a","id":"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"},
                     {"type":"x-a","id":"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","x_v":tru},
                     {"type":"x-a","id":"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}]"#;
    let results: Vec<_> = BundleReader::new(&input[..])
        .map(|r| {
            let raw = r.unwrap();
            (raw.index, parse_object(&raw.text).map(|_| ()))
        })
        .collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].1.is_ok() && results[2].1.is_ok());
    assert_eq!(results[1].0, 1);
    let err = results[1].1.as_ref().unwrap_err();
    assert_eq!(err.errors[0].rule.code(), "json-syntax");
}

#[test]
fn a_broken_structure_ends_the_stream_with_the_offset() {
    let input = br#"{"type":"bundle","objects":[{"a":1}}"#;
    let results: Vec<_> = BundleReader::new(&input[..]).collect();
    assert_eq!(results.len(), 2);
    match &results[1] {
        Err(ReadError::Syntax { offset, .. }) => assert_eq!(*offset, 35),
        other => panic!("{other:?}"),
    }
    let truncated = &br#"{"type":"bundle","objects":[{"a":1},{"b":"#[..];
    let last = BundleReader::new(truncated).last().unwrap();
    assert!(matches!(last, Err(ReadError::Syntax { .. })));
}

#[test]
fn a_single_top_level_object_is_read_whole() {
    // `objects` of a report-like custom object is a member, not a stream of objects.
    let input = br#" {"id":"x-report--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "type" : "x-report","objects":[{"a":1}],"n":{"m":[1,2]}} "#;
    let all: Vec<_> = BundleReader::new(&input[..])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].index, 0);
    let parsed: serde_json::Value = serde_json::from_str(&all[0].text).unwrap();
    let expected: serde_json::Value = serde_json::from_slice(input).unwrap();
    assert_eq!(parsed, expected);
    // Without a type it is still one object (validation then names the missing type).
    let untyped: Vec<_> = BundleReader::new(&br#"{"id":"x"}"#[..])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(untyped[0].text, r#"{"id":"x"}"#);
    // A bundle whose type comes after its objects still streams them.
    let late = br#"{"objects":[{"a":1},{"b":2}],"type":"bundle"}"#;
    assert_eq!(BundleReader::new(&late[..]).count(), 2);
}

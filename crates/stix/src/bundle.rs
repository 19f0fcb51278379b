//! Streaming reader of STIX bundles: yields each object's JSON text without
//! holding the input in memory.
//!
//! The reader only follows the structure (brackets, strings) to find where each
//! element of `objects` begins and ends; the element's own syntax and meaning
//! are checked by [`crate::parse_object`], so one broken object is reported with
//! its index and does not stop the stream. A break in the structure itself (a
//! bracket that does not match, text after the end, a truncated input) ends the
//! stream with an error naming the byte offset. Memory stays flat: one read
//! buffer plus the current object (at most [`MAX_OBJECT_BYTES`]; larger objects
//! are skipped and reported).

use std::io::{ErrorKind, Read};

use crate::MAX_OBJECT_BYTES;

/// Size of the read buffer.
const CHUNK: usize = 64 * 1024;
/// Bracket nesting tracked per element; deeper input is rejected by the object
/// parser anyway, so the reader stops there with a structure error.
const MAX_SCAN_DEPTH: usize = 4096;
/// Longest bundle member name or `type` value the reader looks at.
const MAX_SMALL_VALUE: usize = 1024;

/// One object's raw JSON text and its position in the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObject {
    /// 0-based index in `objects` (or in the top-level array).
    pub index: usize,
    /// The element's JSON text as it appears in the input.
    pub text: String,
}

/// What went wrong while reading a bundle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The underlying reader failed; the stream ends.
    #[error("reading the input failed: {0}")]
    Io(#[from] std::io::Error),
    /// The input's structure is broken at `offset`; the stream ends.
    #[error("invalid bundle at byte {offset}: {message}")]
    Syntax {
        /// Byte offset in the input.
        offset: u64,
        /// What was expected or found.
        message: String,
    },
    /// Object `index` is larger than [`MAX_OBJECT_BYTES`]; it is skipped and the stream goes on.
    #[error(
        "object {index} at byte {offset} is larger than {MAX_OBJECT_BYTES} bytes and was skipped"
    )]
    ObjectTooLarge {
        /// Index of the object.
        index: usize,
        /// Byte offset where it starts.
        offset: u64,
    },
    /// Object `index` is not valid UTF-8; it is skipped and the stream goes on.
    #[error("object {index} at byte {offset} is not valid UTF-8")]
    Utf8 {
        /// Index of the object.
        index: usize,
        /// Byte offset where it starts.
        offset: u64,
    },
}

impl ReadError {
    /// True when the stream ends after this error.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            ReadError::ObjectTooLarge { .. } | ReadError::Utf8 { .. }
        )
    }

    /// The index of the object the error is about, when it is about one.
    pub fn object_index(&self) -> Option<usize> {
        match self {
            ReadError::ObjectTooLarge { index, .. } | ReadError::Utf8 { index, .. } => Some(*index),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// Inside the bundle object, before a member name (or `}`).
    BundleMember {
        first: bool,
    },
    /// Inside an array of objects (`objects`, or the top level).
    Elements {
        first: bool,
        top_level: bool,
    },
    /// Closed the outer value: only whitespace may follow.
    End,
    Done,
}

/// Streaming reader over a bundle (`{"type":"bundle","objects":[...]}`), a
/// top-level JSON array of objects, or a single top-level object (any `type` other
/// than `bundle`; it is read whole, up to [`MAX_OBJECT_BYTES`]).
///
/// ```
/// use accord_stix::BundleReader;
/// let input = br#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
///   "objects":[{"type":"x-a","id":"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, {"type":"x-b"}]}"#;
/// let objects: Vec<_> = BundleReader::new(&input[..]).collect::<Result<_, _>>()?;
/// assert_eq!(objects.len(), 2);
/// assert_eq!(objects[1].index, 1);
/// assert_eq!(objects[1].text, r#"{"type":"x-b"}"#);
/// # Ok::<(), accord_stix::ReadError>(())
/// ```
pub struct BundleReader<R: Read> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Input offset of `buf[0]`.
    base: u64,
    eof: bool,
    state: State,
    index: usize,
    stack: Vec<u8>,
    /// While the top-level object is not yet known to be a bundle: its members so far
    /// (`"name":value,...`), so that a single top-level object can be returned whole.
    /// `None` once it is known to be a bundle.
    single: Option<Vec<u8>>,
    /// The top-level object has a `type` other than `bundle`: it is one object.
    single_object: bool,
}

impl<R: Read> BundleReader<R> {
    /// Reads from `src` (buffering internally; no need for a `BufReader`).
    pub fn new(src: R) -> Self {
        BundleReader {
            src,
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            base: 0,
            eof: false,
            state: State::Start,
            index: 0,
            stack: Vec::new(),
            single: Some(Vec::new()),
            single_object: false,
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn fill(&mut self) -> Result<bool, ReadError> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.base += self.len as u64;
        self.pos = 0;
        self.len = 0;
        loop {
            match self.src.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, ReadError> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                // A UTF-8 byte order mark before the value.
                Some(0xEF) if self.offset() == 0 => {
                    for expected in [0xEF, 0xBB, 0xBF] {
                        if self.peek()? != Some(expected) {
                            return Err(self.syntax("unexpected byte at the start of the input"));
                        }
                        self.pos += 1;
                    }
                }
                other => return Ok(other),
            }
        }
    }

    fn syntax(&self, message: &str) -> ReadError {
        ReadError::Syntax {
            offset: self.offset(),
            message: message.to_owned(),
        }
    }

    fn expect(&mut self, byte: u8, message: &str) -> Result<(), ReadError> {
        if self.skip_ws()? == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(message))
        }
    }

    /// Scans one JSON value structurally, appending its bytes to `capture` up
    /// to `limit` bytes. Returns false when the value was longer than `limit`
    /// (the capture then holds a prefix only).
    fn scan_value(
        &mut self,
        mut capture: Option<&mut Vec<u8>>,
        limit: usize,
    ) -> Result<bool, ReadError> {
        let Some(first) = self.skip_ws()? else {
            return Err(self.syntax("unexpected end of input, expected a value"));
        };
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        if scalar && matches!(first, b',' | b']' | b'}' | b':') {
            return Err(self.syntax("expected a value"));
        }
        self.stack.clear();
        let (mut in_str, mut esc, mut fits, mut started) = (false, false, true, false);
        loop {
            if !self.fill()? {
                if scalar && started && !in_str {
                    return Ok(fits);
                }
                return Err(self.syntax("unexpected end of input inside a value"));
            }
            let chunk_start = self.pos;
            let mut done = false;
            while self.pos < self.len {
                if in_str && !esc {
                    // Jump over plain string content (SIMD search).
                    let rest = &self.buf[self.pos..self.len];
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(skip) => self.pos += skip,
                        None => {
                            self.pos = self.len;
                            break;
                        }
                    }
                }
                let b = self.buf[self.pos];
                if in_str {
                    if esc {
                        esc = false;
                    } else if b == b'\\' {
                        esc = true;
                    } else if b == b'"' {
                        in_str = false;
                        if self.stack.is_empty() && !scalar {
                            self.pos += 1;
                            done = true;
                            break;
                        }
                    }
                } else if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                        done = true;
                        break;
                    }
                    if matches!(b, b'{' | b'[' | b'"' | b':') {
                        return Err(self.syntax("unexpected character in a value"));
                    }
                } else {
                    match b {
                        b'"' => in_str = true,
                        b'{' | b'[' => {
                            if self.stack.len() >= MAX_SCAN_DEPTH {
                                return Err(self.syntax("arrays and objects nest too deeply"));
                            }
                            self.stack.push(if b == b'{' { b'}' } else { b']' });
                        }
                        b'}' | b']' => {
                            if self.stack.pop() != Some(b) {
                                return Err(
                                    self.syntax("closing bracket does not match the opening one")
                                );
                            }
                            if self.stack.is_empty() {
                                self.pos += 1;
                                done = true;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                started = true;
                self.pos += 1;
            }
            if let Some(c) = capture.as_deref_mut() {
                let piece = &self.buf[chunk_start..self.pos];
                if fits && c.len() + piece.len() <= limit {
                    c.extend_from_slice(piece);
                } else {
                    fits = false;
                }
            }
            if done {
                return Ok(fits);
            }
        }
    }

    /// Reads a member name (a string) and the colon after it.
    fn member_name(&mut self) -> Result<Vec<u8>, ReadError> {
        if self.skip_ws()? != Some(b'"') {
            return Err(self.syntax("expected a member name"));
        }
        let mut name = Vec::new();
        if !self.scan_value(Some(&mut name), MAX_SMALL_VALUE)? {
            name.clear();
        }
        self.expect(b':', "expected ':' after a member name")?;
        Ok(name)
    }

    /// The single top-level object made of its captured members.
    fn single_object(&mut self, members: Vec<u8>) -> Result<RawObject, ReadError> {
        let mut text = Vec::with_capacity(members.len() + 2);
        text.push(b'{');
        text.extend_from_slice(&members);
        text.push(b'}');
        self.index = 1;
        String::from_utf8(text)
            .map(|text| RawObject { index: 0, text })
            .map_err(|_| ReadError::Utf8 {
                index: 0,
                offset: 0,
            })
    }

    fn step(&mut self) -> Result<Option<RawObject>, ReadError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => match self.skip_ws()? {
                    Some(b'[') => {
                        self.pos += 1;
                        self.state = State::Elements {
                            first: true,
                            top_level: true,
                        };
                    }
                    Some(b'{') => {
                        self.pos += 1;
                        self.state = State::BundleMember { first: true };
                    }
                    None => return Err(self.syntax("empty input")),
                    Some(_) => {
                        return Err(self.syntax("expected a bundle object or an array of objects"))
                    }
                },
                State::BundleMember { first } => {
                    match self.skip_ws()? {
                        Some(b'}') => {
                            self.pos += 1;
                            self.state = State::End;
                            if let Some(members) = self.single.take() {
                                // Not a bundle: the top-level object is the one object.
                                return self.single_object(members).map(Some);
                            }
                            continue;
                        }
                        Some(b',') if !first => self.pos += 1,
                        _ if first => {}
                        _ => return Err(self.syntax("expected ',' or '}' in the bundle")),
                    }
                    let name = self.member_name()?;
                    if name.as_slice() == b"\"objects\"" && !self.single_object {
                        self.single = None;
                        self.expect(b'[', "'objects' must be an array")?;
                        self.state = State::Elements {
                            first: true,
                            top_level: false,
                        };
                        continue;
                    }
                    let mut value = Vec::new();
                    let limit = if self.single.is_some() {
                        MAX_OBJECT_BYTES
                    } else {
                        MAX_SMALL_VALUE
                    };
                    let fits = self.scan_value(Some(&mut value), limit)?;
                    if name.as_slice() == b"\"type\"" && self.single.is_some() {
                        if value == b"\"bundle\"" {
                            self.single = None;
                        } else {
                            self.single_object = true;
                        }
                    }
                    if let Some(members) = self.single.as_mut() {
                        if !fits || members.len() + name.len() + value.len() + 2 > MAX_OBJECT_BYTES
                        {
                            return Err(self.syntax("the top-level object is not a bundle and is larger than the object size limit"));
                        }
                        if !members.is_empty() {
                            members.push(b',');
                        }
                        members.extend_from_slice(&name);
                        members.push(b':');
                        members.extend_from_slice(&value);
                    }
                    self.state = State::BundleMember { first: false };
                }
                State::Elements { first, top_level } => {
                    match self.skip_ws()? {
                        Some(b']') => {
                            self.pos += 1;
                            self.state = if top_level {
                                State::End
                            } else {
                                State::BundleMember { first: false }
                            };
                            continue;
                        }
                        Some(b',') if !first => {
                            self.pos += 1;
                        }
                        _ if first => {}
                        _ => return Err(self.syntax("expected ',' or ']' between objects")),
                    }
                    self.state = State::Elements {
                        first: false,
                        top_level,
                    };
                    self.skip_ws()?;
                    let offset = self.offset();
                    let index = self.index;
                    self.index += 1;
                    let mut text = Vec::new();
                    if !self.scan_value(Some(&mut text), MAX_OBJECT_BYTES)? {
                        return Err(ReadError::ObjectTooLarge { index, offset });
                    }
                    return match String::from_utf8(text) {
                        Ok(text) => Ok(Some(RawObject { index, text })),
                        Err(_) => Err(ReadError::Utf8 { index, offset }),
                    };
                }
                State::End => {
                    if self.skip_ws()?.is_some() {
                        return Err(self.syntax("unexpected text after the end of the bundle"));
                    }
                    self.state = State::Done;
                    return Ok(None);
                }
            }
        }
    }
}

impl<R: Read> Iterator for BundleReader<R> {
    type Item = Result<RawObject, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(Some(o)) => Some(Ok(o)),
            Ok(None) => None,
            Err(e) => {
                if e.is_fatal() {
                    self.state = State::Done;
                }
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<Result<RawObject, String>> {
        BundleReader::new(input)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    /// A reader that hands out one byte at a time (chunk boundaries everywhere).
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn reads_bundle_and_array() {
        let b = br#" {"type":"bundle","id":"bundle--x","objects":[ {"a":"]}\"["} , [1], "s", 12 ],"x":{"y":[]}} "#;
        let got = read_all(b);
        let texts: Vec<_> = got
            .iter()
            .map(|r| r.as_ref().unwrap().text.clone())
            .collect();
        assert_eq!(texts, [r#"{"a":"]}\"["}"#, "[1]", "\"s\"", "12"]);
        let trickled: Vec<_> = BundleReader::new(Trickle(b))
            .map(|r| r.unwrap().text)
            .collect();
        assert_eq!(trickled, texts);
        let arr = read_all(b"[{\"a\":1},\n{\"b\":2}]\n");
        assert_eq!(arr.len(), 2);
        assert!(read_all(b"[]").is_empty());
        assert!(read_all(br#"{"type":"bundle","id":"bundle--x"}"#).is_empty());
    }

    #[test]
    fn structure_errors_end_the_stream() {
        let got = read_all(br#"{"type":"bundle","objects":[{"a":1},{"b":[}]}"#);
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert!(
            got[1].as_ref().unwrap_err().contains("byte 42"),
            "{:?}",
            got[1]
        );
        for bad in [
            &b""[..],
            b"3",
            b"[{\"a\":1}",
            b"[{\"a\":1}] x",
            b"[{},,{}]",
            b"{\"type\":\"report\",\"objects\":[]} x",
            b"[{\"a\":\"x",
        ] {
            let got = read_all(bad);
            assert!(
                got.last().is_some_and(|r| r.is_err()),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn oversized_and_non_utf8_objects_are_skipped() {
        let mut big = b"[{\"a\":\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_OBJECT_BYTES));
        big.extend_from_slice(b"\"},{\"b\":\"\xff\"},{\"c\":1}]");
        let got: Vec<_> = BundleReader::new(&big[..]).collect();
        assert!(matches!(
            got[0],
            Err(ReadError::ObjectTooLarge { index: 0, .. })
        ));
        assert!(matches!(got[1], Err(ReadError::Utf8 { index: 1, .. })));
        assert_eq!(got[2].as_ref().unwrap().text, "{\"c\":1}");
        assert_eq!(got.len(), 3);
    }
}

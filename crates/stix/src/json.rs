//! A one-pass JSON reader that checks RFC 8259 syntax, removes insignificant
//! whitespace and records every value in a flat "tape" of nodes.
//!
//! Why not `serde_json::Value`: validation reads a handful of properties of
//! each object, and building a tree of maps and strings per object costs more
//! than the validation itself. The tape is one `Vec` per object; values are
//! spans of the minified text, decoded only when a rule needs them. The reader
//! is iterative (an explicit stack), so depth is bounded by a limit, never by
//! the thread's stack, and every walk over the tape is bounded by that limit.
//!
//! Acceptance matches `serde_json`: strict grammar, no lone surrogate escapes,
//! numbers must fit a double.

use std::borrow::Cow;

/// Kind of a tape node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    True,
    False,
    Num,
    /// A string without backslash escapes: its text is its value.
    Str,
    /// A string with at least one escape: decode before use.
    StrEsc,
    Obj,
    Arr,
}

/// One value: its span in the minified text and the index of the node after
/// its subtree (so siblings are reached without walking children).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    pub next: u32,
}

/// The minified text and its nodes; node 0 is the root value.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    pub text: String,
    pub nodes: Vec<Node>,
}

/// Why the text is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// True when the problem is the nesting limit, not the grammar.
    pub too_deep: bool,
    pub message: &'static str,
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Start of the input run not yet copied to `out` (runs end at whitespace).
    run: usize,
    out: String,
    nodes: Vec<Node>,
    stack: Vec<u32>,
    max_depth: usize,
}

/// Reads `input` (one JSON value) into a tape. `max_depth` bounds the nesting of
/// arrays and objects (the root container is depth 1).
pub(crate) fn parse(input: &str, max_depth: usize) -> Result<Tape, SyntaxError> {
    let mut r = Reader {
        s: input,
        b: input.as_bytes(),
        i: 0,
        run: 0,
        out: String::with_capacity(input.len()),
        nodes: Vec::with_capacity(input.len() / 12 + 4),
        stack: Vec::new(),
        max_depth,
    };
    r.run()?;
    r.flush();
    Ok(Tape {
        text: r.out,
        nodes: r.nodes,
    })
}

impl Reader<'_> {
    fn err(&self, message: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.i,
            too_deep: false,
            message,
        }
    }

    /// Offset in the minified output of input position `self.i`.
    #[inline]
    fn out_pos(&self) -> usize {
        self.out.len() + (self.i - self.run)
    }

    /// Copies the pending run of input to the output.
    fn flush(&mut self) {
        self.out.push_str(&self.s[self.run..self.i]);
        self.run = self.i;
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        if matches!(self.b.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.skip_ws_run();
        }
    }

    /// Skips a run of whitespace (at least one byte), copying the input before it.
    #[inline(never)]
    fn skip_ws_run(&mut self) {
        self.flush();
        let b = self.b;
        let mut i = self.i;
        loop {
            // Indentation comes in runs of spaces: eight at a time.
            while b.get(i..i + 8) == Some(b"        ") {
                i += 8;
            }
            match b.get(i) {
                Some(b' ' | b'\n' | b'\r' | b'\t') => i += 1,
                _ => break,
            }
        }
        self.i = i;
        self.run = i;
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn push_node(&mut self, kind: Kind, start: usize) -> u32 {
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            start: start as u32,
            end: self.out_pos() as u32,
            next: idx + 1,
        });
        idx
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        if self.s.len() >= u32::MAX as usize {
            return Err(self.err("input too large"));
        }
        let mut need_value = true;
        loop {
            if need_value {
                self.value()?;
            }
            // After a value (or an opening bracket that was immediately closed).
            self.skip_ws();
            let Some(&top) = self.stack.last() else {
                if self.i < self.b.len() {
                    return Err(self.err("unexpected text after the JSON value"));
                }
                return Ok(());
            };
            let is_obj = self.nodes[top as usize].kind == Kind::Obj;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    if is_obj {
                        self.skip_ws();
                        self.key()?;
                    }
                    need_value = true;
                }
                Some(b'}') if is_obj => {
                    self.close(top);
                    need_value = false;
                }
                Some(b']') if !is_obj => {
                    self.close(top);
                    need_value = false;
                }
                None => return Err(self.err("unexpected end of input inside an array or object")),
                Some(_) if is_obj => {
                    return Err(self.err("expected ',' or '}' after an object member"))
                }
                Some(_) => return Err(self.err("expected ',' or ']' after an array element")),
            }
        }
    }

    fn close(&mut self, top: u32) {
        self.i += 1;
        self.stack.pop();
        let next = self.nodes.len() as u32;
        let end = self.out.len() + (self.i - self.run);
        let n = &mut self.nodes[top as usize];
        n.end = end as u32;
        n.next = next;
    }

    /// Reads an object key and the following colon.
    fn key(&mut self) -> Result<(), SyntaxError> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a string as object member name"));
        }
        self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.err("expected ':' after an object member name"));
        }
        self.i += 1;
        Ok(())
    }

    /// Reads one value; for an opening bracket it only opens the container
    /// (and reads the first key), leaving the rest to the main loop.
    fn value(&mut self) -> Result<(), SyntaxError> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end of input, expected a value"));
        };
        match c {
            b'{' | b'[' => {
                if self.stack.len() >= self.max_depth {
                    return Err(SyntaxError {
                        offset: self.i,
                        too_deep: true,
                        message: "arrays and objects nest too deeply",
                    });
                }
                let start = self.out_pos();
                self.i += 1;
                let kind = if c == b'{' { Kind::Obj } else { Kind::Arr };
                let idx = self.push_node(kind, start);
                self.stack.push(idx);
                self.skip_ws();
                let close = if c == b'{' { b'}' } else { b']' };
                if self.peek() == Some(close) {
                    // Empty container: the main loop closes it.
                    return Ok(());
                }
                if c == b'{' {
                    self.key()?;
                }
                self.value()
            }
            b'"' => self.string(),
            b't' => self.literal(b"true", Kind::True),
            b'f' => self.literal(b"false", Kind::False),
            b'n' => self.literal(b"null", Kind::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.err("expected a value")),
        }
    }

    fn literal(&mut self, word: &'static [u8], kind: Kind) -> Result<(), SyntaxError> {
        if !self.b[self.i..].starts_with(word) {
            return Err(self.err("invalid literal (expected true, false or null)"));
        }
        let start = self.out_pos();
        self.i += word.len();
        self.push_node(kind, start);
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - from
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let from = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number: expected a digit")),
        }
        let int_len = self.i - from;
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            float = true;
            if self.digits() == 0 {
                return Err(self.err("invalid number: expected a digit after '.'"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number: expected a digit in the exponent"));
            }
        }
        let text = &self.s[from..self.i];
        if (float || int_len > 19) && !text.parse::<f64>().is_ok_and(f64::is_finite) {
            self.i = from;
            return Err(self.err("number out of range of a double"));
        }
        self.push_node(Kind::Num, from - self.run + self.out.len());
        Ok(())
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.b.get(at..at + 4)?;
        let mut v = 0u32;
        for &c in h {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        Some(v)
    }

    fn string(&mut self) -> Result<(), SyntaxError> {
        let from = self.i;
        self.i += 1;
        let mut escaped = false;
        loop {
            self.i = scan_string(self.b, self.i);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                Some(_) => return Err(self.err("control character in string (must be escaped)")),
            }
        }
        let start = from - self.run + self.out.len();
        self.push_node(if escaped { Kind::StrEsc } else { Kind::Str }, start);
        Ok(())
    }

    /// Checks one escape sequence at `self.i` (a backslash) and moves past it.
    fn escape(&mut self) -> Result<(), SyntaxError> {
        match self.b.get(self.i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.i += 2;
                Ok(())
            }
            Some(b'u') => {
                let Some(cp) = self.hex4(self.i + 2) else {
                    return Err(self.err("invalid \\u escape: expected four hex digits"));
                };
                match cp {
                    0xD800..=0xDBFF => {
                        let low = if self.b.get(self.i + 6..self.i + 8) == Some(b"\\u") {
                            self.hex4(self.i + 8)
                        } else {
                            None
                        };
                        if !matches!(low, Some(0xDC00..=0xDFFF)) {
                            return Err(self.err("lone leading surrogate in \\u escape"));
                        }
                        self.i += 12;
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.err("lone trailing surrogate in \\u escape"))
                    }
                    _ => self.i += 6,
                }
                Ok(())
            }
            _ => Err(self.err("invalid escape sequence")),
        }
    }
}

/// Bytes that end a run of plain string content: quote, backslash, controls.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The position of the first quote, backslash or control byte at or after
/// `i` (or `b.len()`). Eight bytes at a time: a word has such a byte when
/// one of its bytes is below 0x20 or equals `"` or `\\` (SWAR tests; the lowest
/// flagged byte is exact).
#[inline]
fn scan_string(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let slash = w ^ (ONES * u64::from(b'\\'));
        let mask = (quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let mask = mask & HIGH;
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if STRING_STOP[c as usize] {
            break;
        }
        i += 1;
    }
    i
}

/// Decodes the inside of a JSON string literal (without quotes) that the reader
/// accepted. Runs between escapes are copied whole (found with `memchr`): prose
/// such as ATT&CK descriptions has an escape every line, and decoding it a
/// character at a time cost as much as validating the object.
#[inline(never)]
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let hex = |at: usize| u32::from_str_radix(raw.get(at..at + 4).unwrap_or("zzzz"), 16).ok();
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'\\', &bytes[i..]) {
        let slash = i + offset;
        out.push_str(&raw[i..slash]);
        let Some(&e) = bytes.get(slash + 1) else {
            return out;
        };
        i = slash + 2;
        let decoded = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex(slash + 2).unwrap_or(0xFFFD);
                i = slash + 6;
                let cp = if (0xD800..=0xDBFF).contains(&hi) {
                    let lo = hex(slash + 8).unwrap_or(0);
                    i = slash + 12;
                    0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    hi
                };
                char::from_u32(cp).unwrap_or('\u{FFFD}')
            }
            other => char::from(other),
        };
        out.push(decoded);
        // A truncated escape (never from the reader) ends the text.
        if i > raw.len() || !raw.is_char_boundary(i) {
            return out;
        }
    }
    out.push_str(&raw[i..]);
    out
}

/// A value on a tape.
#[derive(Clone, Copy)]
pub(crate) struct Val<'t> {
    tape: &'t Tape,
    idx: u32,
}

impl<'t> Val<'t> {
    pub fn root(tape: &'t Tape) -> Option<Val<'t>> {
        (!tape.nodes.is_empty()).then_some(Val { tape, idx: 0 })
    }

    fn node(&self) -> Node {
        self.tape.nodes[self.idx as usize]
    }

    pub fn kind(&self) -> Kind {
        self.node().kind
    }

    /// The JSON text of the value (minified).
    pub fn raw(&self) -> &'t str {
        let n = self.node();
        &self.tape.text[n.start as usize..n.end as usize]
    }

    /// Start and end byte offsets of the value in the minified text.
    pub fn span(&self) -> (usize, usize) {
        let n = self.node();
        (n.start as usize, n.end as usize)
    }

    /// The decoded string, if the value is a string.
    pub fn str(&self) -> Option<Cow<'t, str>> {
        let n = self.node();
        // The quotes are ASCII: the inside's ends are character boundaries.
        let inside = || &self.tape.text[n.start as usize + 1..n.end as usize - 1];
        match n.kind {
            Kind::Str => Some(Cow::Borrowed(inside())),
            Kind::StrEsc => Some(Cow::Owned(unescape(inside()))),
            _ => None,
        }
    }

    pub fn is_str(&self) -> bool {
        matches!(self.kind(), Kind::Str | Kind::StrEsc)
    }

    /// Compares a string value with `s` without allocating in the common case.
    pub fn str_eq(&self, s: &str) -> bool {
        match self.kind() {
            Kind::Str => {
                let n = self.node();
                let raw = &self.tape.text.as_bytes()[n.start as usize..n.end as usize];
                raw.len() == s.len() + 2 && &raw[1..raw.len() - 1] == s.as_bytes()
            }
            Kind::StrEsc => self.str().is_some_and(|v| v == s),
            _ => false,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind() {
            Kind::True => Some(true),
            Kind::False => Some(false),
            _ => None,
        }
    }

    /// The value as an integer: a number written without fraction or exponent
    /// that fits an `i64`, or one with a zero fraction (`1.0`, `1e3`) within
    /// ±2^53 (JSON Schema counts those as integers too).
    pub fn as_i64(&self) -> Option<i64> {
        if self.kind() != Kind::Num {
            return None;
        }
        let raw = self.raw();
        if let Ok(n) = raw.parse::<i64>() {
            return Some(n);
        }
        let f: f64 = raw.parse().ok()?;
        const EXACT: f64 = 9_007_199_254_740_992.0;
        (f.fract() == 0.0 && f.abs() <= EXACT).then_some(f as i64)
    }

    /// True for a number whose value is a whole number (see [`Val::as_i64`];
    /// integers too large for an `i64` count as whole numbers out of range).
    pub fn is_integer(&self) -> bool {
        if self.kind() != Kind::Num {
            return false;
        }
        let raw = self.raw();
        !raw.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) || self.as_i64().is_some()
    }

    pub fn as_f64(&self) -> Option<f64> {
        if self.kind() != Kind::Num {
            return None;
        }
        self.raw().parse().ok()
    }

    /// Members of an object (empty for other kinds).
    pub fn members(&self) -> Members<'t> {
        let n = self.node();
        let (cur, end) = if n.kind == Kind::Obj {
            (self.idx + 1, n.next)
        } else {
            (0, 0)
        };
        Members {
            tape: self.tape,
            cur,
            end,
        }
    }

    /// Elements of an array (empty for other kinds).
    pub fn items(&self) -> Items<'t> {
        let n = self.node();
        let (cur, end) = if n.kind == Kind::Arr {
            (self.idx + 1, n.next)
        } else {
            (0, 0)
        };
        Items {
            tape: self.tape,
            cur,
            end,
        }
    }

    /// The member named `key` (the first, if duplicated).
    pub fn get(&self, key: &str) -> Option<Val<'t>> {
        self.members().find(|(k, _)| k.str_eq(key)).map(|(_, v)| v)
    }

    /// Converts to a `serde_json::Value` (for the few places that need one).
    pub fn to_value(self) -> serde_json::Value {
        serde_json::from_str(self.raw()).unwrap_or(serde_json::Value::Null)
    }
}

/// Most members an [`Index`] holds; objects with more fall back to scanning.
const INDEX_CAPACITY: usize = 48;

/// An object's members indexed once for the many lookups by name that
/// validation makes (on the stack; no allocation).
pub(crate) struct Index<'t> {
    obj: Val<'t>,
    keys: [&'t [u8]; INDEX_CAPACITY],
    vals: [u32; INDEX_CAPACITY],
    len: usize,
    /// False when the object has escaped or too many member names: then
    /// lookups scan the object.
    usable: bool,
}

impl<'t> Index<'t> {
    pub fn new(obj: Val<'t>) -> Index<'t> {
        let mut ix = Index {
            obj,
            keys: [&[]; INDEX_CAPACITY],
            vals: [0; INDEX_CAPACITY],
            len: 0,
            usable: true,
        };
        for (k, v) in obj.members() {
            if ix.len == INDEX_CAPACITY || k.kind() != Kind::Str {
                ix.usable = false;
                break;
            }
            let n = k.node();
            ix.keys[ix.len] = &obj.tape.text.as_bytes()[n.start as usize + 1..n.end as usize - 1];
            ix.vals[ix.len] = v.idx;
            ix.len += 1;
        }
        ix
    }

    /// The indexed object.
    pub fn val(&self) -> Val<'t> {
        self.obj
    }

    /// The member named `name` (the first, if duplicated).
    pub fn get(&self, name: &str) -> Option<Val<'t>> {
        if !self.usable {
            return self.obj.get(name);
        }
        let name = name.as_bytes();
        let same = |k: &[u8]| k.len() == name.len() && k.first() == name.first() && k == name;
        (0..self.len).find(|&i| same(self.keys[i])).map(|i| Val {
            tape: self.obj.tape,
            idx: self.vals[i],
        })
    }

    pub fn members(&self) -> Members<'t> {
        self.obj.members()
    }
}

/// Iterator over an object's members as (key, value).
pub(crate) struct Members<'t> {
    tape: &'t Tape,
    cur: u32,
    end: u32,
}

impl<'t> Iterator for Members<'t> {
    type Item = (Val<'t>, Val<'t>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.cur >= self.end {
            return None;
        }
        let k = Val {
            tape: self.tape,
            idx: self.cur,
        };
        let v = Val {
            tape: self.tape,
            idx: self.cur + 1,
        };
        self.cur = self.tape.nodes[(self.cur + 1) as usize].next;
        Some((k, v))
    }
}

/// Iterator over an array's elements.
pub(crate) struct Items<'t> {
    tape: &'t Tape,
    cur: u32,
    end: u32,
}

impl<'t> Iterator for Items<'t> {
    type Item = Val<'t>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.cur >= self.end {
            return None;
        }
        let v = Val {
            tape: self.tape,
            idx: self.cur,
        };
        self.cur = self.tape.nodes[self.cur as usize].next;
        Some(v)
    }
}

/// Finds duplicate member names in every object of the tape. Returns the JSON
/// path of each duplicate (`parent.name`), in tape order. Linear in the number
/// of members, except objects with many members which are sorted.
pub(crate) fn duplicate_keys(tape: &Tape) -> Vec<String> {
    let mut found = Vec::new();
    let mut scratch: Vec<(Cow<'_, str>, u32)> = Vec::new();
    for (i, n) in tape.nodes.iter().enumerate() {
        if n.kind != Kind::Obj {
            continue;
        }
        let obj = Val {
            tape,
            idx: i as u32,
        };
        let mut keys = smallkeys::Keys::default();
        let mut simple = true;
        for (k, _) in obj.members() {
            if k.kind() == Kind::StrEsc || !keys.push(k.raw()) {
                simple = false;
                break;
            }
        }
        if keys.len() < 2 && simple {
            continue;
        }
        if simple {
            // Raw keys (with quotes): compare length and the first character
            // before the bytes, which settles nearly every pair cheaply.
            let same = |x: &str, y: &str| {
                x.len() == y.len() && x.as_bytes()[1] == y.as_bytes()[1] && x == y
            };
            for (a, ka) in keys.iter().enumerate() {
                if keys[..a].iter().any(|kb| same(ka, kb)) {
                    found.push(path_of(tape, i as u32, &ka[1..ka.len() - 1]));
                }
            }
        } else {
            scratch.clear();
            scratch.extend(
                obj.members()
                    .map(|(k, _)| (k.str().unwrap_or_default(), k.idx)),
            );
            scratch.sort();
            for w in scratch.windows(2) {
                if w[0].0 == w[1].0 {
                    found.push(path_of(tape, i as u32, &w[1].0));
                }
            }
        }
    }
    found
}

mod smallkeys {
    /// Keys of one object, collected without a heap allocation up to 24.
    #[derive(Default)]
    pub(crate) struct Keys<'a> {
        buf: [&'a str; 24],
        len: usize,
    }
    impl<'a> Keys<'a> {
        /// Adds a key; false when full.
        pub(crate) fn push(&mut self, k: &'a str) -> bool {
            if self.len == self.buf.len() {
                return false;
            }
            self.buf[self.len] = k;
            self.len += 1;
            true
        }
    }
    impl<'a> std::ops::Deref for Keys<'a> {
        type Target = [&'a str];
        fn deref(&self) -> &Self::Target {
            &self.buf[..self.len]
        }
    }
}

/// The JSON path of member `key` of the object at node `obj`.
fn path_of(tape: &Tape, obj: u32, key: &str) -> String {
    let mut path = String::new();
    if let Some(root) = Val::root(tape) {
        find_path(root, obj, &mut path);
    }
    crate::validate::path::push_key(&mut path, key);
    path
}

/// Writes the path from `v` down to node `target` into `path`; bounded by the
/// nesting limit.
fn find_path(v: Val<'_>, target: u32, path: &mut String) -> bool {
    if v.idx == target {
        return true;
    }
    if target < v.idx || target >= v.node().next {
        return false;
    }
    let len = path.len();
    for (k, child) in v.members() {
        crate::validate::path::push_key(path, &k.str().unwrap_or_default());
        if find_path(child, target, path) {
            return true;
        }
        path.truncate(len);
    }
    for (i, child) in v.items().enumerate() {
        crate::validate::path::push_index(path, i);
        if find_path(child, target, path) {
            return true;
        }
        path.truncate(len);
    }
    false
}

/// Removes the whitespace outside strings (RFC 8259 insignificant whitespace).
///
/// Works on any text: for invalid JSON it still strips spaces, tabs, carriage
/// returns and newlines outside double-quoted strings, and never fails.
///
/// ```
/// assert_eq!(accord_stix::minify_json("{ \"a\" : [1, \"b c\" ] }\n"), r#"{"a":[1,"b c"]}"#);
/// ```
pub fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    minify_json_into(text, &mut out);
    out
}

/// [`minify_json`] appending to a caller's buffer (reuse it across objects).
///
/// ```
/// let mut buf = String::new();
/// accord_stix::minify_json_into("[1, 2]", &mut buf);
/// accord_stix::minify_json_into(" {} ", &mut buf);
/// assert_eq!(buf, "[1,2]{}");
/// ```
pub fn minify_json_into(text: &str, out: &mut String) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut run = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.push_str(&text[run..i]);
                i += 1;
                run = i;
            }
            b'"' => {
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            _ => i += 1,
        }
    }
    let end = i.min(b.len());
    // `end` is at a char boundary: it is either the text's end or just past an ASCII byte.
    if let Some(rest) = text.get(run..end) {
        out.push_str(rest);
    } else {
        out.push_str(&text[run..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Tape {
        parse(s, 64).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn minifies_and_indexes() {
        let t =
            ok(" { \"a\" : [ 1 , -2.5e3 , \"x \\\" y\" ] , \"b\" : { } , \"c\":null,\"d\":true } ");
        assert_eq!(
            t.text,
            r#"{"a":[1,-2.5e3,"x \" y"],"b":{},"c":null,"d":true}"#
        );
        let root = Val::root(&t).unwrap();
        let a = root.get("a").unwrap();
        let items: Vec<_> = a.items().map(|v| v.raw()).collect();
        assert_eq!(items, ["1", "-2.5e3", r#""x \" y""#]);
        assert_eq!(a.items().nth(2).unwrap().str().unwrap(), "x \" y");
        assert_eq!(root.get("b").unwrap().members().count(), 0);
        assert_eq!(root.get("d").unwrap().as_bool(), Some(true));
        assert!(root.get("zz").is_none());
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for s in [
            "",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "tru",
            "nul",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"a\nb\"",
            "[1 2]",
            "{\"a\" 1}",
            "1e400",
            "{\"a\":1}x",
            "\"\\u12g4\"",
            "[",
            "[1",
            "{\"a\":",
            "-",
            "--1",
            "[-]",
        ] {
            assert!(parse(s, 64).is_err(), "{s:?} accepted");
            assert!(
                serde_json::from_str::<serde_json::Value>(s).is_err(),
                "{s:?} serde accepts"
            );
        }
        for s in [
            "0",
            "-0",
            "1E+2",
            "\"\\ud83d\\ude00\"",
            "[[],{}]",
            "\"\u{7f}\u{1F600}\"",
            "123456789012345678901234567890",
        ] {
            ok(s);
            assert!(
                serde_json::from_str::<serde_json::Value>(s).is_ok(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn bounds_depth() {
        let deep = "[".repeat(65) + &"]".repeat(65);
        let e = parse(&deep, 64).unwrap_err();
        assert!(e.too_deep);
        ok(&("[".repeat(64) + &"]".repeat(64)));
        // A very deep input fails fast without recursion.
        let huge = "[".repeat(1_000_000);
        assert!(parse(&huge, 64).unwrap_err().too_deep);
    }

    #[test]
    fn integers_as_json_schema_reads_them() {
        let t = ok("[1, 1.0, 1e3, -0, 1.5, 12345678901234567890, 1e300]");
        let v: Vec<_> = Val::root(&t)
            .unwrap()
            .items()
            .map(|v| (v.is_integer(), v.as_i64()))
            .collect();
        assert_eq!(
            v,
            [
                (true, Some(1)),
                (true, Some(1)),
                (true, Some(1000)),
                (true, Some(0)),
                (false, None),
                (true, None),
                (false, None),
            ]
        );
    }

    #[test]
    fn unescapes() {
        assert_eq!(unescape(r"a\nb\u00e9\ud83d\ude00\/\\"), "a\nbé😀/\\");
    }

    #[test]
    fn finds_duplicates() {
        let t = ok(r#"{"a":1,"b":{"x":1,"x":2},"a":3,"c":[{"q":1,"\u0071":2}]}"#);
        assert_eq!(duplicate_keys(&t), ["a", "b.x", "c[0].q"]);
    }

    #[test]
    fn minify_tolerates_anything() {
        assert_eq!(minify_json("[ \"a\\\" b\" , 1 ]"), r#"["a\" b",1]"#);
        assert_eq!(minify_json("\"unterminated \\"), "\"unterminated \\");
        assert_eq!(minify_json(" é \"é \""), "é\"é \"");
    }
}

/// A read-only view of a value of an object the parser has just validated, handed to
/// [`crate::object::parse_object_then`] so that a caller can read the object without
/// parsing its text a second time (the ingest path extracts the gate's facts this way).
///
/// ```
/// use accord_stix::{parse_object_then, ParseOptions};
/// let text = r#"{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}"#;
/// let (object, value) = parse_object_then(text, &ParseOptions::default(), |root| {
///     root.get("value").and_then(|v| v.as_str()).map(|s| s.into_owned())
/// })?;
/// assert_eq!(object.object_type, "ipv4-addr");
/// assert_eq!(value.as_deref(), Some("198.51.100.3"));
/// # Ok::<(), accord_stix::Rejection>(())
/// ```
#[derive(Clone, Copy)]
pub struct JsonView<'t>(Val<'t>);

impl<'t> JsonView<'t> {
    pub(crate) fn new(val: Val<'t>) -> Self {
        JsonView(val)
    }

    /// Parses `text` as JSON only (no STIX rules; nesting limited as for objects) and
    /// calls `f` with its root, or says where the syntax breaks.
    ///
    /// ```
    /// let n = accord_stix::JsonView::parse_then(r#"{"a":[1,2,3]}"#, |root| {
    ///     root.get("a").map_or(0, |a| a.items().count())
    /// });
    /// assert_eq!(n, Ok(3));
    /// assert!(accord_stix::JsonView::parse_then("{", |_| ()).is_err());
    /// ```
    pub fn parse_then<T>(text: &str, f: impl FnOnce(JsonView<'_>) -> T) -> Result<T, String> {
        let tape = parse(text, crate::MAX_NESTING_DEPTH)
            .map_err(|e| format!("{} at byte {}", e.message, e.offset))?;
        let root = Val::root(&tape).ok_or_else(|| "empty input".to_owned())?;
        Ok(f(JsonView(root)))
    }

    /// The decoded string, if the value is a string (borrowed unless it has escapes).
    pub fn as_str(&self) -> Option<Cow<'t, str>> {
        self.0.str()
    }

    /// The value as an unsigned integer, if it is one written without fraction or
    /// exponent (as `serde_json` reads it).
    pub fn as_u64(&self) -> Option<u64> {
        match self.0.kind() {
            Kind::Num => self.0.raw().parse().ok(),
            _ => None,
        }
    }

    /// The value as a float, if it is a number (as `serde_json` reads it).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.as_f64()
    }

    /// Whether the value is an object.
    pub fn is_object(&self) -> bool {
        self.0.kind() == Kind::Obj
    }

    /// Whether the value is an array.
    pub fn is_array(&self) -> bool {
        self.0.kind() == Kind::Arr
    }

    /// The member named `key` of an object (`None` for other values).
    pub fn get(&self, key: &str) -> Option<JsonView<'t>> {
        self.0.get(key).map(JsonView)
    }

    /// The members named `names` of an object, found in one pass over it (each as
    /// [`JsonView::get`] finds it: the first of that name; `None` when absent, and for
    /// other values). For code that reads several members of every object on a hot
    /// path: each `get` walks the members from the start.
    ///
    /// ```
    /// use accord_stix::JsonView;
    /// let (kind, count, absent) = JsonView::parse_then(r#"{"type": "sighting", "count": 3}"#, |o| {
    ///     let [kind, count, seen] = o.pick(["type", "count", "first_seen"]);
    ///     let kind = kind.and_then(|k| k.as_str().map(|k| k.into_owned()));
    ///     (kind, count.and_then(|c| c.as_u64()), seen.is_none())
    /// })?;
    /// assert_eq!(kind.as_deref(), Some("sighting"));
    /// assert_eq!(count, Some(3));
    /// assert!(absent);
    /// # Ok::<(), String>(())
    /// ```
    pub fn pick<const N: usize>(&self, names: [&str; N]) -> [Option<JsonView<'t>>; N] {
        let mut found = [None; N];
        let mut left = N;
        for (key, value) in self.0.members() {
            // The key's text once (borrowed unless escaped), then names by length.
            let key = match key.kind() {
                Kind::Str => {
                    let n = key.node();
                    let raw = &key.tape.text.as_bytes()[n.start as usize..n.end as usize];
                    Cow::Borrowed(&raw[1..raw.len() - 1])
                }
                Kind::StrEsc => match key.str() {
                    Some(text) => Cow::Owned(text.into_owned().into_bytes()),
                    None => continue,
                },
                _ => continue,
            };
            let at = names
                .iter()
                .position(|name| name.len() == key.len() && name.as_bytes() == &*key);
            if let Some(slot) = at.and_then(|at| found.get_mut(at)) {
                if slot.is_none() {
                    *slot = Some(JsonView(value));
                    left -= 1;
                    if left == 0 {
                        break;
                    }
                }
            }
        }
        found
    }

    /// The members of an object, in order, names decoded (nothing for other values).
    pub fn members(&self) -> impl Iterator<Item = (Cow<'t, str>, JsonView<'t>)> + 't {
        self.0
            .members()
            .map(|(k, v)| (k.str().unwrap_or_default(), JsonView(v)))
    }

    /// The elements of an array, in order (nothing for other values).
    pub fn items(&self) -> impl Iterator<Item = JsonView<'t>> + 't {
        self.0.items().map(JsonView)
    }
}

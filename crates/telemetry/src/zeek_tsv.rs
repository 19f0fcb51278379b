//! Zeek's ASCII (TSV) log format.
//!
//! A log starts with `#` header lines: `#separator \x09` (space-separated, escaped),
//! then `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#fields`, `#types`
//! (separated by the separator). Columns are found by their `#fields` name, so extra or
//! reordered columns are fine. A new `#separator` line starts a new header block (logs
//! concatenated with `cat`); `#close` and other `#` lines are skipped.

use std::io::BufRead;

use crate::build::{self, Dialect, LogKind, Slots};
use crate::columns::{self, Col, NCOLS};
use crate::error::{Error, FieldName};
use crate::field;
use crate::line::{LineRead, LineSource};
use crate::record::Record;

/// The most columns a `#fields` line may name (protects the column map).
pub const MAX_COLUMNS: usize = 1024;

#[derive(Debug, Clone)]
struct Header {
    separator: u8,
    set_separator: u8,
    empty: String,
    unset: String,
    path: Option<String>,
    /// Role of each column, by position, once `#fields` was read.
    map: Option<Vec<Option<Col>>>,
    kind: LogKind,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            separator: b'\t',
            set_separator: b',',
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            map: None,
            kind: LogKind::Conn,
        }
    }
}

/// Reads Zeek TSV logs (`conn`, `dns`, `http`) from any `BufRead`.
///
/// ```
/// use accord_telemetry::{ZeekTsvReader, Record};
/// let log = "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
///            1.5\t10.0.0.1\t5555\t192.0.2.7\t443\ttcp\n";
/// let mut r = ZeekTsvReader::new(log.as_bytes());
/// let Some(Record::Conn(c)) = r.next_record()? else { panic!() };
/// assert_eq!(c.resp_h.to_string(), "192.0.2.7");
/// assert_eq!(c.ts, 1_500_000);
/// assert!(r.next_record()?.is_none());
/// # Ok::<(), accord_telemetry::Error>(())
/// ```
#[derive(Debug)]
pub struct ZeekTsvReader<R> {
    src: LineSource<R>,
    header: Header,
}

fn dialect(set_separator: u8) -> Dialect {
    Dialect {
        name: columns::zeek_name,
        time: field::parse_any_time,
        text: field::unescape_zeek,
        set_separator,
    }
}

impl<R: BufRead> ZeekTsvReader<R> {
    /// A reader over `input`, which must start with a Zeek header.
    pub fn new(input: R) -> Self {
        ZeekTsvReader {
            src: LineSource::new(input),
            header: Header::default(),
        }
    }

    /// Bytes consumed from the input so far (for progress reporting).
    pub fn bytes_read(&self) -> u64 {
        self.src.bytes
    }

    /// The 1-based number of the line last read.
    pub fn line(&self) -> u64 {
        self.src.line_no
    }

    /// The kind of log, as the current header block says (`#path`, else the fields).
    pub fn kind(&self) -> LogKind {
        self.header.kind
    }

    /// Reads the next record; `Ok(None)` at the end of the input.
    ///
    /// A [`Error::Record`] concerns one line only: call again to go on.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, Error> {
        loop {
            let got = self.src.read().map_err(|source| Error::Io {
                line: self.src.line_no + 1,
                source,
            })?;
            match got {
                LineRead::Eof => return Ok(None),
                LineRead::TooLong => {
                    return Err(Error::record(
                        self.src.line_no,
                        FieldName::Line,
                        "line-length",
                        format!("longer than {} bytes", crate::MAX_LINE_LEN),
                    ))
                }
                LineRead::Line => {}
            }
            let line = self.src.line();
            let (header, empty) = (line.first() == Some(&b'#'), line.is_empty());
            if header {
                self.header_line()?;
                continue;
            }
            if empty {
                continue;
            }
            break;
        }
        let line_no = self.src.line_no;
        let Some(map) = self.header.map.as_deref() else {
            return Err(Error::header(
                line_no,
                "fields-missing",
                "a data line comes before any `#fields` line",
            ));
        };
        let line = std::str::from_utf8(self.src.line())
            .map_err(|e| Error::record(line_no, FieldName::Line, "utf8", e.to_string()))?;
        let h = &self.header;
        let mut slots: Slots<'_> = [None; NCOLS];
        let mut n = 0usize;
        let mut start = 0usize;
        let ends =
            memchr::memchr_iter(h.separator, line.as_bytes()).chain(std::iter::once(line.len()));
        for (i, end) in ends.enumerate() {
            n = i + 1;
            if let Some(Some(col)) = map.get(i) {
                // The separator is ASCII, so both ends are character boundaries.
                let value = line.get(start..end).unwrap_or_default();
                if !same(value, &h.unset) && !same(value, &h.empty) {
                    slots[*col as usize] = Some(value);
                }
            }
            start = end + 1;
        }
        if n != map.len() {
            return Err(Error::record(
                line_no,
                FieldName::Line,
                "column-count",
                format!("{n} columns where `#fields` names {}", map.len()),
            ));
        }
        build::record(h.kind, &slots, line_no, &dialect(h.set_separator)).map(Some)
    }

    fn header_line(&mut self) -> Result<(), Error> {
        let line_no = self.src.line_no;
        let text = String::from_utf8_lossy(self.src.line()).into_owned();
        if let Some(rest) = text.strip_prefix("#separator ") {
            self.header = Header {
                separator: single_byte(rest, line_no, "#separator")?,
                ..Header::default()
            };
            return Ok(());
        }
        let sep = self.header.separator as char;
        let mut parts = text.split(sep);
        let key = parts.next().unwrap_or_default();
        let value = parts.clone().next().unwrap_or_default();
        match key {
            "#set_separator" => {
                self.header.set_separator = single_byte(value, line_no, "#set_separator")?
            }
            "#empty_field" => self.header.empty = field::unescape_zeek(value).into_owned(),
            "#unset_field" => self.header.unset = field::unescape_zeek(value).into_owned(),
            "#path" => {
                self.header.path = Some(value.to_string());
                if let Some(map) = &self.header.map {
                    self.header.kind = infer_kind(self.header.path.as_deref(), map);
                }
            }
            "#fields" => {
                let names: Vec<&str> = parts.collect();
                if names.len() > MAX_COLUMNS {
                    return Err(Error::header(
                        line_no,
                        "too-many-columns",
                        format!("more than {MAX_COLUMNS} columns"),
                    ));
                }
                let map: Vec<Option<Col>> = names.iter().map(|n| columns::zeek_col(n)).collect();
                for (need, name) in [
                    (Col::Ts, "ts"),
                    (Col::OrigH, "id.orig_h"),
                    (Col::RespH, "id.resp_h"),
                ] {
                    if !map.contains(&Some(need)) {
                        return Err(Error::MissingColumn {
                            line: line_no,
                            column: name,
                        });
                    }
                }
                self.header.kind = infer_kind(self.header.path.as_deref(), &map);
                self.header.map = Some(map);
            }
            _ => {}
        }
        Ok(())
    }
}

/// String equality without a `memcmp` call: the markers are one to seven bytes and
/// this runs for every field of every line.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// The log's kind: `#path` when it names one we read, otherwise the telling fields.
fn infer_kind(path: Option<&str>, map: &[Option<Col>]) -> LogKind {
    match path {
        Some("conn") => return LogKind::Conn,
        Some("dns") => return LogKind::Dns,
        Some("http") => return LogKind::Http,
        Some("ssl") => return LogKind::Ssl,
        _ => {}
    }
    if map.contains(&Some(Col::Query)) {
        LogKind::Dns
    } else if map.contains(&Some(Col::ServerName)) {
        LogKind::Ssl
    } else if map.contains(&Some(Col::Uri)) || map.contains(&Some(Col::Method)) {
        LogKind::Http
    } else {
        LogKind::Conn
    }
}

fn single_byte(raw: &str, line: u64, what: &str) -> Result<u8, Error> {
    let v = field::unescape_zeek(raw);
    match v.as_bytes() {
        [b] if *b != b'\n' => Ok(*b),
        _ => Err(Error::header(
            line,
            "separator-syntax",
            format!(
                "{what} must be one byte, found `{}`",
                raw.chars().take(16).collect::<String>()
            ),
        )),
    }
}

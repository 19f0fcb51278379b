//! CSV flow records: nfdump's `-o csv` output and a documented generic layout.
//!
//! The first non-empty line is a header naming the columns; columns are found by name
//! (case-insensitive, any order, unknown columns ignored). Fields are separated by `,`
//! and are not quoted (a pair of surrounding `"` is stripped; a field cannot contain a
//! comma); surrounding spaces are trimmed.
//!
//! | role | generic name | also accepted (nfdump 1.6 / 1.7 and common spellings) |
//! |---|---|---|
//! | start time (required) | `ts` | `start`, `firstseen`, `first_seen`, `stime`, `timestamp` |
//! | end time | `te` | `end`, `lastseen`, `last_seen`, `ltime` |
//! | duration (s) | `duration` | `td`, `dur` |
//! | source address (required) | `src_ip` | `sa`, `srcaddr`, `src_addr`, `saddr` |
//! | source port | `src_port` | `sp`, `srcport`, `sport` |
//! | destination address (required) | `dst_ip` | `da`, `dstaddr`, `dst_addr`, `daddr` |
//! | destination port | `dst_port` | `dp`, `dstport`, `dport` |
//! | protocol (name or number) | `proto` | `pr`, `protocol` |
//! | bytes source→destination | `src_bytes` | `ibyt`, `bytes`, `sbytes`, `in_bytes` |
//! | bytes destination→source | `dst_bytes` | `obyt`, `dbytes`, `out_bytes` |
//! | packets source→destination | `src_pkts` | `ipkt`, `packets`, `spkts`, `in_pkts` |
//! | packets destination→source | `dst_pkts` | `opkt`, `dpkts`, `out_pkts` |
//! | flow id | `uid` | `flow_id` |
//!
//! Times are epoch seconds (`1655071198.444`) or calendar times
//! (`2022-06-12 21:59:58.444`, `2022-06-12T21:59:58Z`); a calendar time without a zone
//! is UTC (run nfdump with `TZ=UTC`). nfdump's trailing `Summary` block ends the
//! records, and its `No matched flows` line is skipped.

use std::borrow::Cow;
use std::io::BufRead;

use crate::build::{self, Dialect, LogKind, Slots};
use crate::columns::{Col, NCOLS};
use crate::error::{Error, FieldName};
use crate::field;
use crate::line::{LineRead, LineSource};
use crate::record::Record;

/// Which CSV layout a header describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvLayout {
    /// nfdump's `-o csv` (`ts,te,td,sa,da,sp,dp,pr,...` or 1.7's `firstSeen,...,srcAddr,...`).
    Nfdump,
    /// The generic layout documented on this module.
    Generic,
}

const ALIASES: &[(&str, Col)] = &[
    ("ts", Col::Ts),
    ("start", Col::Ts),
    ("firstseen", Col::Ts),
    ("first_seen", Col::Ts),
    ("stime", Col::Ts),
    ("timestamp", Col::Ts),
    ("te", Col::End),
    ("end", Col::End),
    ("lastseen", Col::End),
    ("last_seen", Col::End),
    ("ltime", Col::End),
    ("duration", Col::Duration),
    ("td", Col::Duration),
    ("dur", Col::Duration),
    ("src_ip", Col::OrigH),
    ("sa", Col::OrigH),
    ("srcaddr", Col::OrigH),
    ("src_addr", Col::OrigH),
    ("saddr", Col::OrigH),
    ("src_port", Col::OrigP),
    ("sp", Col::OrigP),
    ("srcport", Col::OrigP),
    ("sport", Col::OrigP),
    ("dst_ip", Col::RespH),
    ("da", Col::RespH),
    ("dstaddr", Col::RespH),
    ("dst_addr", Col::RespH),
    ("daddr", Col::RespH),
    ("dst_port", Col::RespP),
    ("dp", Col::RespP),
    ("dstport", Col::RespP),
    ("dport", Col::RespP),
    ("proto", Col::Proto),
    ("pr", Col::Proto),
    ("protocol", Col::Proto),
    ("src_bytes", Col::OrigBytes),
    ("ibyt", Col::OrigBytes),
    ("bytes", Col::OrigBytes),
    ("sbytes", Col::OrigBytes),
    ("in_bytes", Col::OrigBytes),
    ("dst_bytes", Col::RespBytes),
    ("obyt", Col::RespBytes),
    ("dbytes", Col::RespBytes),
    ("out_bytes", Col::RespBytes),
    ("src_pkts", Col::OrigPkts),
    ("ipkt", Col::OrigPkts),
    ("packets", Col::OrigPkts),
    ("spkts", Col::OrigPkts),
    ("in_pkts", Col::OrigPkts),
    ("dst_pkts", Col::RespPkts),
    ("opkt", Col::RespPkts),
    ("dpkts", Col::RespPkts),
    ("out_pkts", Col::RespPkts),
    ("uid", Col::Uid),
    ("flow_id", Col::Uid),
];

/// The generic name of a role (for error messages).
fn csv_name(col: Col) -> &'static str {
    match col {
        Col::Ts => "ts",
        Col::End => "te",
        Col::Duration => "duration",
        Col::OrigH => "src_ip",
        Col::OrigP => "src_port",
        Col::RespH => "dst_ip",
        Col::RespP => "dst_port",
        Col::Proto => "proto",
        Col::OrigBytes => "src_bytes",
        Col::RespBytes => "dst_bytes",
        Col::OrigPkts => "src_pkts",
        Col::RespPkts => "dst_pkts",
        Col::Uid => "uid",
        _ => "column",
    }
}

fn borrowed(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

const DIALECT: Dialect = Dialect {
    name: csv_name,
    time: field::parse_any_time,
    text: borrowed,
    set_separator: b',',
};

#[derive(Debug)]
struct Header {
    map: Vec<Option<Col>>,
    layout: CsvLayout,
}

/// Reads CSV flow records (see the module documentation for the layout).
///
/// ```
/// use accord_telemetry::{CsvFlowReader, CsvLayout, Record};
/// let csv = "ts,te,td,sa,da,sp,dp,pr\n2022-06-12 21:59:58.444,2022-06-12 21:59:59.444,1.000,10.0.0.1,192.0.2.9,5555,80,TCP\n";
/// let mut r = CsvFlowReader::new(csv.as_bytes());
/// let Some(Record::Conn(c)) = r.next_record()? else { panic!() };
/// assert_eq!(c.resp_p, Some(80));
/// assert_eq!(r.layout(), Some(CsvLayout::Nfdump));
/// # Ok::<(), accord_telemetry::Error>(())
/// ```
#[derive(Debug)]
pub struct CsvFlowReader<R> {
    src: LineSource<R>,
    header: Option<Header>,
    done: bool,
}

impl<R: BufRead> CsvFlowReader<R> {
    /// A reader over `input`, whose first non-empty line is the header.
    pub fn new(input: R) -> Self {
        CsvFlowReader {
            src: LineSource::new(input),
            header: None,
            done: false,
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

    /// The layout the header named, once it was read.
    pub fn layout(&self) -> Option<CsvLayout> {
        self.header.as_ref().map(|h| h.layout)
    }

    /// Reads the next record; `Ok(None)` at the end of the input (or of nfdump's records).
    ///
    /// A [`Error::Record`] concerns one line only: call again to go on.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, Error> {
        loop {
            if self.done {
                return Ok(None);
            }
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
            let line_no = self.src.line_no;
            let trimmed = self.src.line().trim_ascii();
            if trimmed.is_empty() || trimmed == b"No matched flows" {
                continue;
            }
            if trimmed.starts_with(b"Summary") {
                self.done = true;
                return Ok(None);
            }
            if self.header.is_none() {
                self.header = Some(read_header(self.src.line(), line_no)?);
                continue;
            }
            break;
        }
        let n = self.src.line_no;
        let Some(h) = self.header.as_ref() else {
            return Ok(None);
        };
        let line = std::str::from_utf8(self.src.line())
            .map_err(|e| Error::record(n, FieldName::Line, "utf8", e.to_string()))?;
        let mut slots: Slots<'_> = [None; NCOLS];
        let mut count = 0usize;
        for (i, value) in line.split(',').enumerate() {
            count = i + 1;
            if let Some(Some(col)) = h.map.get(i) {
                let v = value.trim_ascii();
                let v = v
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .unwrap_or(v);
                if !v.is_empty() && v != "-" {
                    slots[*col as usize] = Some(v);
                }
            }
        }
        if count != h.map.len() {
            return Err(Error::record(
                n,
                FieldName::Line,
                "column-count",
                format!("{count} columns where the header names {}", h.map.len()),
            ));
        }
        build::record(LogKind::Conn, &slots, n, &DIALECT).map(Some)
    }
}

fn read_header(buf: &[u8], line: u64) -> Result<Header, Error> {
    let text = std::str::from_utf8(buf).map_err(|e| Error::header(line, "utf8", e.to_string()))?;
    let names: Vec<String> = text
        .split(',')
        .map(|s| {
            let s = s.trim_ascii();
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(s)
                .to_ascii_lowercase()
        })
        .collect();
    if names.len() > crate::zeek_tsv::MAX_COLUMNS {
        return Err(Error::header(line, "too-many-columns", "too many columns"));
    }
    let mut map: Vec<Option<Col>> = Vec::with_capacity(names.len());
    for name in &names {
        let col = ALIASES.iter().find(|(a, _)| a == name).map(|(_, c)| *c);
        // The first column of a role wins (nfdump 1.7 has both `bytes` forms, say).
        map.push(col.filter(|c| !map.contains(&Some(*c))));
    }
    for (need, name) in [
        (Col::Ts, "ts"),
        (Col::OrigH, "src_ip"),
        (Col::RespH, "dst_ip"),
    ] {
        if !map.contains(&Some(need)) {
            return Err(Error::MissingColumn { line, column: name });
        }
    }
    let has = |n: &str| names.iter().any(|x| x == n);
    let layout = if (has("sa") && has("da")) || (has("srcaddr") && has("dstaddr")) {
        CsvLayout::Nfdump
    } else {
        CsvLayout::Generic
    };
    Ok(Header { map, layout })
}

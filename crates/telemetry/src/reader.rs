//! One reader over any supported format, chosen explicitly or sniffed from the input.

use std::io::BufRead;

use crate::csv::CsvFlowReader;
use crate::error::Error;
use crate::record::Record;
use crate::zeek_json::ZeekJsonReader;
use crate::zeek_tsv::ZeekTsvReader;

/// A telemetry input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Zeek ASCII logs (tab-separated with `#` headers).
    ZeekTsv,
    /// Zeek JSON lines.
    ZeekJson,
    /// CSV flow records (nfdump `-o csv` or the generic layout).
    Csv,
}

impl Format {
    /// Guesses the format from the first bytes of an input: a `#` header line means Zeek
    /// TSV, a `{` means Zeek JSON, anything else is taken as CSV (whose header is then
    /// checked).
    ///
    /// ```
    /// use accord_telemetry::Format;
    /// assert_eq!(Format::sniff(b"#separator \\x09\n"), Format::ZeekTsv);
    /// assert_eq!(Format::sniff(b"  {\"ts\":1}"), Format::ZeekJson);
    /// assert_eq!(Format::sniff(b"ts,te,td,sa,da"), Format::Csv);
    /// ```
    pub fn sniff(start: &[u8]) -> Format {
        let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
        match start.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'#') => Format::ZeekTsv,
            Some(b'{') => Format::ZeekJson,
            _ => Format::Csv,
        }
    }

    /// The format's name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::ZeekTsv => "zeek-tsv",
            Format::ZeekJson => "zeek-json",
            Format::Csv => "csv",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zeek-tsv" | "zeek" | "tsv" => Ok(Format::ZeekTsv),
            "zeek-json" | "json" => Ok(Format::ZeekJson),
            "csv" | "nfdump" => Ok(Format::Csv),
            other => Err(format!(
                "unknown telemetry format `{other}` (expected zeek-tsv, zeek-json or csv)"
            )),
        }
    }
}

/// A reader for any [`Format`].
///
/// ```
/// use accord_telemetry::{TelemetryReader, Format};
/// let input = "ts,src_ip,dst_ip,dst_port,proto\n1700000000,10.1.2.3,198.51.100.4,443,tcp\n";
/// let mut r = TelemetryReader::new(input.as_bytes(), None)?;
/// assert_eq!(r.format(), Format::Csv);
/// let rec = r.next_record()?.expect("one record");
/// assert_eq!(rec.conn().resp_p, Some(443));
/// # Ok::<(), accord_telemetry::Error>(())
/// ```
#[derive(Debug)]
pub enum TelemetryReader<R> {
    /// Zeek TSV.
    ZeekTsv(ZeekTsvReader<R>),
    /// Zeek JSON lines.
    ZeekJson(ZeekJsonReader<R>),
    /// CSV flows.
    Csv(CsvFlowReader<R>),
}

impl<R: BufRead> TelemetryReader<R> {
    /// A reader of `format`, or of the sniffed format when `None`.
    pub fn new(mut input: R, format: Option<Format>) -> Result<Self, Error> {
        let format = match format {
            Some(f) => f,
            None => {
                let start = input
                    .fill_buf()
                    .map_err(|source| Error::Io { line: 1, source })?;
                Format::sniff(start)
            }
        };
        Ok(match format {
            Format::ZeekTsv => TelemetryReader::ZeekTsv(ZeekTsvReader::new(input)),
            Format::ZeekJson => TelemetryReader::ZeekJson(ZeekJsonReader::new(input)),
            Format::Csv => TelemetryReader::Csv(CsvFlowReader::new(input)),
        })
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        match self {
            TelemetryReader::ZeekTsv(_) => Format::ZeekTsv,
            TelemetryReader::ZeekJson(_) => Format::ZeekJson,
            TelemetryReader::Csv(_) => Format::Csv,
        }
    }

    /// Reads the next record; `Ok(None)` at the end. After a non-fatal error
    /// ([`Error::is_fatal`] is false) call again to go on with the next line.
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, Error> {
        match self {
            TelemetryReader::ZeekTsv(r) => r.next_record(),
            TelemetryReader::ZeekJson(r) => r.next_record(),
            TelemetryReader::Csv(r) => r.next_record(),
        }
    }

    /// Bytes consumed from the input so far (for progress reporting).
    pub fn bytes_read(&self) -> u64 {
        match self {
            TelemetryReader::ZeekTsv(r) => r.bytes_read(),
            TelemetryReader::ZeekJson(r) => r.bytes_read(),
            TelemetryReader::Csv(r) => r.bytes_read(),
        }
    }

    /// The 1-based number of the line last read.
    pub fn line(&self) -> u64 {
        match self {
            TelemetryReader::ZeekTsv(r) => r.line(),
            TelemetryReader::ZeekJson(r) => r.line(),
            TelemetryReader::Csv(r) => r.line(),
        }
    }
}

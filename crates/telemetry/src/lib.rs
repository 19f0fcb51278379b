//! accord-telemetry: readers for network telemetry.
//!
//! Zeek `conn.log`, `dns.log` and `http.log` in TSV and JSON, and CSV flow records
//! (nfdump's `-o csv` and a documented generic layout), read from any
//! [`std::io::BufRead`]. Each reader reuses one line buffer and hands out
//! [`Record`]s that borrow from it: reading allocates nothing per record (text is
//! copied only when the input escaped it).
//!
//! Columns are found by name, so extra columns are tolerated — and ignored: the
//! `label` / `detailedlabel` ground-truth columns of labelled datasets are never read.
//!
//! # Layout
//! - [`record`]: the borrowed record types ([`Conn`], [`Dns`], [`Http`]).
//! - `zeek_tsv`, `zeek_json`, `csv`: one reader per format; [`reader`]: the sniffing
//!   [`TelemetryReader`] over all of them.
//! - `field`: decoding of single values (times, addresses, escapes); `line`: bounded
//!   line reading; `columns`/`build`: column roles and record assembly.
//! - [`netflow`]: NetFlow v5/v9 and IPFIX datagrams decoded into [`netflow::Flow`]s
//!   (templates, sampling and sequence numbers kept per exporter).
//! - [`dnstap`]: a resolver's dnstap frames (Frame Streams, protobuf) decoded into
//!   [`Dns`] records.
//! - [`error`]: the [`Error`] type; fatal errors end a stream, record errors skip a line.
//!
//! ```
//! use accord_telemetry::{TelemetryReader, Record};
//! let log = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tlabel\n\
//!            1.0\tC1\t10.0.0.1\t40000\t192.0.2.1\t80\ttcp\tMalicious\n";
//! let mut reader = TelemetryReader::new(log.as_bytes(), None)?;
//! let mut n = 0;
//! while let Some(rec) = reader.next_record()? {
//!     assert_eq!(rec.conn().uid, Some("C1"));
//!     n += 1;
//! }
//! assert_eq!(n, 1);
//! # Ok::<(), accord_telemetry::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod columns;
mod csv;
pub mod dnstap;
pub mod error;
mod field;
mod line;
pub mod netflow;
pub mod reader;
pub mod record;
mod zeek_json;
mod zeek_tsv;

pub use build::LogKind;
pub use csv::{CsvFlowReader, CsvLayout};
pub use error::{Error, FieldName};
pub use field::{parse_any_time, parse_datetime, parse_epoch, unescape_zeek};
pub use line::MAX_LINE_LEN;
pub use reader::{Format, TelemetryReader};
pub use record::{Answers, Conn, Dns, Http, Micros, Proto, Record, Ssl};
pub use zeek_json::ZeekJsonReader;
pub use zeek_tsv::{ZeekTsvReader, MAX_COLUMNS};

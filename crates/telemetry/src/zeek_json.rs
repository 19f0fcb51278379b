//! Zeek's JSON log format: one flat JSON object per line (`LogAscii::use_json = T`).
//!
//! Keys are the Zeek field names (`id.orig_h`, ...); a nested `"id": {"orig_h": ...}`
//! object is accepted too. `ts` is a number of epoch seconds or an ISO 8601 string
//! (`LogAscii::json_timestamps`). Unset fields are absent or `null`. The kind of record
//! comes from `_path` when present, else from the fields the line has (`query` → dns;
//! `method`/`uri`/`host` → http; otherwise conn). Unknown keys are ignored.

use std::borrow::Cow;
use std::io::BufRead;

use serde::de::{self, Deserializer as _, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::build::LogKind;
use crate::error::{Error, FieldName};
use crate::field;
use crate::line::{LineRead, LineSource};
use crate::record::{Answers, Conn, Dns, Http, Proto, Record, Ssl};

#[derive(Deserialize, Default)]
struct Id<'a> {
    #[serde(borrow)]
    orig_h: Option<Cow<'a, str>>,
    orig_p: Option<u16>,
    #[serde(borrow)]
    resp_h: Option<Cow<'a, str>>,
    resp_p: Option<u16>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "_path", borrow)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ts: Option<&'a RawValue>,
    #[serde(borrow)]
    uid: Option<&'a str>,
    #[serde(borrow)]
    id: Option<Id<'a>>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Option<Cow<'a, str>>,
    #[serde(rename = "id.orig_p")]
    orig_p: Option<u16>,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Option<Cow<'a, str>>,
    #[serde(rename = "id.resp_p")]
    resp_p: Option<u16>,
    #[serde(borrow)]
    proto: Option<Cow<'a, str>>,
    #[serde(borrow)]
    service: Option<&'a str>,
    duration: Option<f64>,
    orig_bytes: Option<u64>,
    resp_bytes: Option<u64>,
    orig_pkts: Option<u64>,
    resp_pkts: Option<u64>,
    local_orig: Option<bool>,
    local_resp: Option<bool>,
    #[serde(borrow)]
    query: Option<Cow<'a, str>>,
    #[serde(borrow)]
    qtype_name: Option<&'a str>,
    #[serde(borrow)]
    rcode_name: Option<&'a str>,
    #[serde(borrow)]
    answers: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<&'a str>,
    #[serde(borrow)]
    host: Option<Cow<'a, str>>,
    #[serde(borrow)]
    uri: Option<Cow<'a, str>>,
    #[serde(borrow)]
    referrer: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
    status_code: Option<u16>,
    #[serde(borrow)]
    server_name: Option<Cow<'a, str>>,
}

/// Reads Zeek JSON-lines logs (`conn`, `dns`, `http`, mixed in one stream if need be).
///
/// ```
/// use accord_telemetry::{ZeekJsonReader, Record};
/// let log = r#"{"ts":1655071198.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5353,"id.resp_h":"192.0.2.53","id.resp_p":53,"proto":"udp","query":"evil.example","answers":["192.0.2.66"]}"#;
/// let mut r = ZeekJsonReader::new(log.as_bytes());
/// let Some(Record::Dns(d)) = r.next_record()? else { panic!() };
/// assert_eq!(d.query.as_deref(), Some("evil.example"));
/// # Ok::<(), accord_telemetry::Error>(())
/// ```
#[derive(Debug)]
pub struct ZeekJsonReader<R> {
    src: LineSource<R>,
}

impl<R: BufRead> ZeekJsonReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        ZeekJsonReader {
            src: LineSource::new(input),
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
            if !self.src.line().iter().all(u8::is_ascii_whitespace) {
                break;
            }
        }
        let n = self.src.line_no;
        let text = std::str::from_utf8(self.src.line())
            .map_err(|e| Error::record(n, FieldName::Line, "utf8", e.to_string()))?;
        let line: Line<'_> = serde_json::from_str(text)
            .map_err(|e| Error::record(n, FieldName::Line, "json", e.to_string()))?;
        to_record(line, n).map(Some)
    }
}

fn missing(line: u64, name: &'static str) -> Error {
    Error::record(
        line,
        FieldName::Column(name),
        "required",
        "the field is absent",
    )
}

fn bad(line: u64, name: &'static str, rule: &'static str, what: &str, v: &str) -> Error {
    let shown: String = v.chars().take(64).collect();
    Error::record(
        line,
        FieldName::Column(name),
        rule,
        format!("`{shown}` is not {what}"),
    )
}

fn ip(v: Option<Cow<'_, str>>, line: u64, name: &'static str) -> Result<std::net::IpAddr, Error> {
    let v = v.ok_or_else(|| missing(line, name))?;
    field::parse_ip(&v).ok_or_else(|| bad(line, name, "ip-address", "an IP address", &v))
}

fn to_record(l: Line<'_>, n: u64) -> Result<Record<'_>, Error> {
    let ts_raw = l.ts.ok_or_else(|| missing(n, "ts"))?.get();
    let ts = match ts_raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(s) => field::parse_datetime(s),
        None => field::parse_epoch(ts_raw),
    }
    .ok_or_else(|| bad(n, "ts", "time", "a time", ts_raw))?;
    let id = l.id.unwrap_or_default();
    let proto = match l.proto.as_deref() {
        Some(p) => {
            field::parse_proto(p).ok_or_else(|| bad(n, "proto", "protocol", "a protocol", p))?
        }
        None => Proto::Unknown,
    };
    let conn = Conn {
        ts,
        uid: l.uid,
        orig_h: ip(l.orig_h.or(id.orig_h), n, "id.orig_h")?,
        orig_p: l.orig_p.or(id.orig_p),
        resp_h: ip(l.resp_h.or(id.resp_h), n, "id.resp_h")?,
        resp_p: l.resp_p.or(id.resp_p),
        proto,
        service: l.service,
        duration: l.duration,
        orig_bytes: l.orig_bytes,
        resp_bytes: l.resp_bytes,
        orig_pkts: l.orig_pkts,
        resp_pkts: l.resp_pkts,
        local_orig: l.local_orig,
        local_resp: l.local_resp,
    };
    let kind = match l.path.as_deref() {
        Some("conn") => LogKind::Conn,
        Some("dns") => LogKind::Dns,
        Some("http") => LogKind::Http,
        Some("ssl") => LogKind::Ssl,
        _ if l.query.is_some() || l.answers.is_some() => LogKind::Dns,
        _ if l.method.is_some() || l.uri.is_some() || l.host.is_some() => LogKind::Http,
        _ if l.server_name.is_some() => LogKind::Ssl,
        _ => LogKind::Conn,
    };
    Ok(match kind {
        LogKind::Conn => Record::Conn(conn),
        LogKind::Dns => Record::Dns(Dns {
            conn,
            query: l.query,
            qtype_name: l.qtype_name,
            rcode_name: l.rcode_name,
            answers: match l.answers {
                Some(raw) if raw.get().starts_with('[') => Answers::Json(raw.get()),
                Some(raw) if raw.get() == "null" => Answers::None,
                Some(raw) => {
                    return Err(bad(n, "answers", "array", "an array of strings", raw.get()))
                }
                None => Answers::None,
            },
        }),
        LogKind::Http => Record::Http(Http {
            conn,
            method: l.method,
            host: l.host,
            uri: l.uri,
            referrer: l.referrer,
            user_agent: l.user_agent,
            status_code: l.status_code,
        }),
        LogKind::Ssl => Record::Ssl(Ssl {
            conn,
            server_name: l.server_name,
        }),
    })
}

/// A string borrowed from the JSON text when it has no escapes.
#[derive(Deserialize)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

struct EachString<F>(F);

impl<'de, F: FnMut(&str)> Visitor<'de> for EachString<F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        // Elements that are not strings (numbers, say) are skipped, not fatal.
        while let Some(v) = seq.next_element::<Option<StrOrOther<'de>>>()? {
            if let Some(StrOrOther::Str(s)) = v {
                (self.0)(&s.0);
            }
        }
        Ok(())
    }
}

enum StrOrOther<'a> {
    Str(Str<'a>),
    Other,
}

impl<'de> Deserialize<'de> for StrOrOther<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &'de RawValue = Deserialize::deserialize(d)?;
        if raw.get().starts_with('"') {
            serde_json::from_str::<Str<'de>>(raw.get())
                .map(StrOrOther::Str)
                .map_err(de::Error::custom)
        } else {
            Ok(StrOrOther::Other)
        }
    }
}

/// Calls `f` on every string of the JSON array `raw` (malformed input yields nothing more).
pub(crate) fn for_each_string(raw: &str, f: impl FnMut(&str)) {
    let mut de = serde_json::Deserializer::from_str(raw);
    let _ = de.deserialize_seq(EachString(f));
}

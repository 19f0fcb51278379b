//! Turning the text slots of one line into a typed record (shared by TSV and CSV).

use std::borrow::Cow;

use crate::columns::{Col, NCOLS};
use crate::error::{Error, FieldName};
use crate::field;
use crate::record::{Answers, Conn, Dns, Http, Micros, Proto, Record, Ssl};

/// Which kind of record a log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogKind {
    /// Connections / flows.
    Conn,
    /// DNS transactions.
    Dns,
    /// HTTP transactions.
    Http,
    /// TLS handshakes (Zeek `ssl.log`).
    Ssl,
}

impl LogKind {
    /// Zeek's `#path` name of the log.
    pub fn name(self) -> &'static str {
        match self {
            LogKind::Conn => "conn",
            LogKind::Dns => "dns",
            LogKind::Http => "http",
            LogKind::Ssl => "ssl",
        }
    }
}

/// The raw text of each column role on one line; `None` is absent or unset.
pub(crate) type Slots<'a> = [Option<&'a str>; NCOLS];

/// How the text of a format is decoded into values.
pub(crate) struct Dialect {
    /// Name of a role's column in this format, for errors.
    pub name: fn(Col) -> &'static str,
    /// Parses the time columns.
    pub time: fn(&str) -> Option<Micros>,
    /// Decodes free text (Zeek `\xHH` escapes, or nothing).
    pub text: for<'a> fn(&'a str) -> Cow<'a, str>,
    /// The set separator of `answers`.
    pub set_separator: u8,
}

struct Ctx<'s, 'a> {
    slots: &'s Slots<'a>,
    line: u64,
    d: &'s Dialect,
}

impl<'a> Ctx<'_, 'a> {
    #[inline]
    fn get(&self, c: Col) -> Option<&'a str> {
        self.slots[c as usize]
    }

    #[cold]
    fn err(&self, c: Col, rule: &'static str, what: &str, v: &str) -> Error {
        let shown: String = v.chars().take(64).collect();
        Error::record(
            self.line,
            FieldName::Column((self.d.name)(c)),
            rule,
            format!("`{shown}` is not {what}"),
        )
    }

    #[inline]
    fn required<T>(
        &self,
        c: Col,
        rule: &'static str,
        what: &str,
        p: impl Fn(&str) -> Option<T>,
    ) -> Result<T, Error> {
        match self.get(c) {
            Some(v) => p(v).ok_or_else(|| self.err(c, rule, what, v)),
            None => Err(Error::record(
                self.line,
                FieldName::Column((self.d.name)(c)),
                "required",
                "the field is unset",
            )),
        }
    }

    #[inline]
    fn optional<T>(
        &self,
        c: Col,
        rule: &'static str,
        what: &str,
        p: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, Error> {
        match self.get(c) {
            Some(v) => p(v).map(Some).ok_or_else(|| self.err(c, rule, what, v)),
            None => Ok(None),
        }
    }

    fn text(&self, c: Col) -> Option<Cow<'a, str>> {
        self.get(c).map(self.d.text)
    }
}

/// Builds the connection part of a record.
#[inline]
pub(crate) fn conn<'a>(slots: &Slots<'a>, line: u64, d: &Dialect) -> Result<Conn<'a>, Error> {
    let c = Ctx { slots, line, d };
    let ts = c.required(Col::Ts, "time", "a time", d.time)?;
    let mut duration = c.optional(Col::Duration, "number", "a duration", field::parse_f64)?;
    if duration.is_none() {
        if let Some(end) = c.optional(Col::End, "time", "a time", d.time)? {
            duration = Some(end.saturating_sub(ts).max(0) as f64 / 1e6);
        }
    }
    Ok(Conn {
        ts,
        uid: c.get(Col::Uid),
        orig_h: c.required(Col::OrigH, "ip-address", "an IP address", field::parse_ip)?,
        orig_p: c.optional(Col::OrigP, "port", "a port", field::parse_port)?,
        resp_h: c.required(Col::RespH, "ip-address", "an IP address", field::parse_ip)?,
        resp_p: c.optional(Col::RespP, "port", "a port", field::parse_port)?,
        proto: c
            .optional(Col::Proto, "protocol", "a protocol", field::parse_proto)?
            .unwrap_or(Proto::Unknown),
        service: c.get(Col::Service),
        duration,
        orig_bytes: c.optional(Col::OrigBytes, "count", "a count", field::parse_u64)?,
        resp_bytes: c.optional(Col::RespBytes, "count", "a count", field::parse_u64)?,
        orig_pkts: c.optional(Col::OrigPkts, "count", "a count", field::parse_u64)?,
        resp_pkts: c.optional(Col::RespPkts, "count", "a count", field::parse_u64)?,
        local_orig: c.optional(Col::LocalOrig, "bool", "T or F", field::parse_bool)?,
        local_resp: c.optional(Col::LocalResp, "bool", "T or F", field::parse_bool)?,
    })
}

/// Builds a record of `kind`.
pub(crate) fn record<'a>(
    kind: LogKind,
    slots: &Slots<'a>,
    line: u64,
    d: &Dialect,
) -> Result<Record<'a>, Error> {
    let base = conn(slots, line, d)?;
    let c = Ctx { slots, line, d };
    Ok(match kind {
        LogKind::Conn => Record::Conn(base),
        LogKind::Dns => Record::Dns(Dns {
            conn: base,
            query: c.text(Col::Query),
            qtype_name: c.get(Col::QtypeName),
            rcode_name: c.get(Col::RcodeName),
            answers: match c.get(Col::Answers) {
                Some(raw) => Answers::Tsv {
                    raw,
                    separator: d.set_separator,
                },
                None => Answers::None,
            },
        }),
        LogKind::Http => Record::Http(Http {
            conn: base,
            method: c.get(Col::Method),
            host: c.text(Col::Host),
            uri: c.text(Col::Uri),
            referrer: c.text(Col::Referrer),
            user_agent: c.text(Col::UserAgent),
            status_code: c.optional(Col::StatusCode, "count", "a status code", |s| {
                s.parse().ok()
            })?,
        }),
        LogKind::Ssl => Record::Ssl(Ssl {
            conn: base,
            server_name: c.text(Col::ServerName),
        }),
    })
}

//! Borrowed telemetry records.
//!
//! A record borrows from the reader's reused line buffer, so it lives only until the
//! next call to `next_record`. Addresses, ports, numbers and times are decoded into
//! plain values (no allocation); text is `Cow<str>` and is owned only when the input
//! escaped something (Zeek's `\xHH`, JSON's `\uXXXX`), which is rare.

use std::borrow::Cow;
use std::net::IpAddr;

/// Microseconds since the Unix epoch (UTC).
pub type Micros = i64;

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Proto {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
    /// ICMP (IP protocol 1) or ICMPv6 (58).
    Icmp,
    /// Another IP protocol, by number.
    Other(u8),
    /// Zeek's `unknown_transport`, or the field was unset.
    Unknown,
}

impl Proto {
    /// The lower-case name STIX uses in `network-traffic:protocols`, if there is one.
    ///
    /// ```
    /// use accord_telemetry::Proto;
    /// assert_eq!(Proto::Tcp.stix_name(), Some("tcp"));
    /// assert_eq!(Proto::Other(47).stix_name(), Some("gre"));
    /// ```
    pub fn stix_name(self) -> Option<&'static str> {
        match self {
            Proto::Tcp => Some("tcp"),
            Proto::Udp => Some("udp"),
            Proto::Icmp => Some("icmp"),
            Proto::Other(n) => crate::field::proto_name(n),
            Proto::Unknown => None,
        }
    }
}

/// The endpoints and volume of one connection (flow): what every format carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Conn<'a> {
    /// Start of the connection.
    pub ts: Micros,
    /// Zeek's connection uid, when the format has one.
    pub uid: Option<&'a str>,
    /// Originator (source) address.
    pub orig_h: IpAddr,
    /// Originator port (absent for portless protocols or unset fields).
    pub orig_p: Option<u16>,
    /// Responder (destination) address.
    pub resp_h: IpAddr,
    /// Responder port.
    pub resp_p: Option<u16>,
    /// Transport protocol.
    pub proto: Proto,
    /// Zeek's detected application protocol (`service`), e.g. `dns`, `ssl`.
    pub service: Option<&'a str>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// Payload bytes sent by the originator.
    pub orig_bytes: Option<u64>,
    /// Payload bytes sent by the responder.
    pub resp_bytes: Option<u64>,
    /// Packets sent by the originator.
    pub orig_pkts: Option<u64>,
    /// Packets sent by the responder.
    pub resp_pkts: Option<u64>,
    /// Zeek's `local_orig`: the originator is in Zeek's `Site::local_nets`.
    pub local_orig: Option<bool>,
    /// Zeek's `local_resp`: the responder is in Zeek's `Site::local_nets`.
    pub local_resp: Option<bool>,
}

impl Conn<'_> {
    /// The record without its borrowed text (`uid`, `service`), to keep past the line
    /// it was read from.
    ///
    /// ```
    /// # use accord_telemetry::{Conn, Proto};
    /// let line = String::from("dns");
    /// let c = Conn { ts: 0, uid: Some("C1"), orig_h: [10, 0, 0, 1].into(), orig_p: None,
    ///     resp_h: [192, 0, 2, 1].into(), resp_p: Some(53), proto: Proto::Udp,
    ///     service: Some(&line), duration: None, orig_bytes: None, resp_bytes: None,
    ///     orig_pkts: None, resp_pkts: None, local_orig: None, local_resp: None };
    /// let kept: Conn<'static> = c.detached();
    /// assert_eq!((kept.uid, kept.service, kept.resp_p), (None, None, Some(53)));
    /// ```
    pub fn detached(&self) -> Conn<'static> {
        Conn {
            ts: self.ts,
            uid: None,
            orig_h: self.orig_h,
            orig_p: self.orig_p,
            resp_h: self.resp_h,
            resp_p: self.resp_p,
            proto: self.proto,
            service: None,
            duration: self.duration,
            orig_bytes: self.orig_bytes,
            resp_bytes: self.resp_bytes,
            orig_pkts: self.orig_pkts,
            resp_pkts: self.resp_pkts,
            local_orig: self.local_orig,
            local_resp: self.local_resp,
        }
    }
}

/// A DNS transaction (Zeek `dns.log`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dns<'a> {
    /// The connection carrying the query (`proto` from the log, volumes absent).
    pub conn: Conn<'a>,
    /// The queried name.
    pub query: Option<Cow<'a, str>>,
    /// The query type's name, e.g. `A`, `AAAA`.
    pub qtype_name: Option<&'a str>,
    /// The response code's name, e.g. `NOERROR`, `NXDOMAIN`.
    pub rcode_name: Option<&'a str>,
    /// The answers (addresses and names), decoded lazily.
    pub answers: Answers<'a>,
}

/// An HTTP request/response (Zeek `http.log`).
#[derive(Debug, Clone, PartialEq)]
pub struct Http<'a> {
    /// The connection carrying the request.
    pub conn: Conn<'a>,
    /// Request method, e.g. `GET`.
    pub method: Option<&'a str>,
    /// The `Host` header.
    pub host: Option<Cow<'a, str>>,
    /// The request URI as sent (usually a path, an absolute URL through proxies).
    pub uri: Option<Cow<'a, str>>,
    /// The `Referer` header.
    pub referrer: Option<Cow<'a, str>>,
    /// The `User-Agent` header.
    pub user_agent: Option<Cow<'a, str>>,
    /// Response status code.
    pub status_code: Option<u16>,
}

/// A TLS handshake: the connection and the server name the client asked for (SNI),
/// which names the site even when the DNS lookup went elsewhere (DoH, a cache).
#[derive(Debug, Clone, PartialEq)]
pub struct Ssl<'a> {
    /// The connection.
    pub conn: Conn<'a>,
    /// `server_name` (SNI), when the client sent one.
    pub server_name: Option<Cow<'a, str>>,
}

/// One telemetry record of any kind.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Record<'a> {
    /// A connection / flow (Zeek `conn.log`, CSV flow records).
    Conn(Conn<'a>),
    /// A DNS transaction.
    Dns(Dns<'a>),
    /// An HTTP transaction.
    Http(Http<'a>),
    /// A TLS handshake (Zeek `ssl.log`).
    Ssl(Ssl<'a>),
}

impl<'a> Record<'a> {
    /// The connection part common to every kind of record.
    pub fn conn(&self) -> &Conn<'a> {
        match self {
            Record::Conn(c) => c,
            Record::Dns(d) => &d.conn,
            Record::Http(h) => &h.conn,
            Record::Ssl(s) => &s.conn,
        }
    }

    /// The record's time.
    pub fn ts(&self) -> Micros {
        self.conn().ts
    }
}

/// The answers of a DNS record, kept in their encoded form until asked for.
///
/// Decoding lazily keeps the reader free of per-record allocation: a matcher that
/// never looks at answers pays nothing for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answers<'a> {
    /// No answers (unset, `(empty)`, or absent).
    None,
    /// A Zeek TSV set/vector field: values separated by `separator`, `\xHH` escaped.
    Tsv {
        /// The raw field text.
        raw: &'a str,
        /// The set separator (`#set_separator`).
        separator: u8,
    },
    /// A JSON array of strings, as raw JSON text.
    Json(&'a str),
}

impl<'a> Answers<'a> {
    /// Calls `f` with every answer, in order.
    ///
    /// ```
    /// use accord_telemetry::Answers;
    /// let a = Answers::Tsv { raw: "1.2.3.4,example.com", separator: b',' };
    /// let mut seen = Vec::new();
    /// a.for_each(|s| seen.push(s.to_string()));
    /// assert_eq!(seen, ["1.2.3.4", "example.com"]);
    /// ```
    pub fn for_each(&self, mut f: impl FnMut(&str)) {
        match *self {
            Answers::None => {}
            Answers::Tsv { raw, separator } => {
                for part in raw.split(separator as char) {
                    if !part.is_empty() {
                        f(&crate::field::unescape_zeek(part));
                    }
                }
            }
            Answers::Json(raw) => crate::zeek_json::for_each_string(raw, f),
        }
    }
}

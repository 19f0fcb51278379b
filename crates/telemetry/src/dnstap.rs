//! dnstap: what a resolver answered its clients, as [`Dns`] records.
//!
//! An operator's resolvers (Unbound, BIND, Knot, PowerDNS) log every query and answer
//! as dnstap (<https://dnstap.info>): Protocol Buffers messages (`dnstap.proto`) carried
//! in Frame Streams (a 32-bit big-endian length before each frame; a zero length
//! escapes a control frame: READY, ACCEPT, START, STOP, FINISH with a content type).
//! This module is the pure part: [`frame`] cuts frames out of bytes, [`DnstapDecoder`]
//! turns one data frame into a [`Dns`] record (client, resolver, time, query name and
//! type, response code, the A/AAAA addresses answered). Sockets and handshakes are the
//! node's.
//!
//! Hand-written rather than `prost` + a DNS crate, measured to matter: a resolver logs
//! every query of every customer, and the collector's rule is no allocation per record.
//! The decoder reads the few protobuf fields it needs in place and the DNS message's
//! header, question and answer records without decompressing names it does not use;
//! the name and the answers are written into two buffers it reuses. Every length is
//! checked against what is left; a hostile frame is refused with a reason
//! ([`DnstapError`]), never a panic (fuzz target `dnstap`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::record::{Answers, Conn, Dns, Micros, Proto};

/// The content type of dnstap's Frame Streams (`protobuf:dnstap.Dnstap`).
pub const CONTENT_TYPE: &[u8] = b"protobuf:dnstap.Dnstap";

/// Largest frame accepted (bytes). A dnstap message holds one query and one answer
/// (each at most 65,535 bytes over TCP) and a few addresses; Unbound and BIND cap
/// their frames far below this.
pub const MAX_FRAME: usize = 256 * 1024;

/// Longest query name written (RFC 1035: 255 octets on the wire, 253 as text).
pub const MAX_NAME_TEXT: usize = 253;

/// Answer records read from one response (more are counted as read, not kept).
pub const MAX_ANSWERS: usize = 64;

/// Why a frame or message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnstapError {
    /// A frame longer than [`MAX_FRAME`].
    #[error("frame of {0} bytes, more than the {MAX_FRAME} a dnstap frame may have")]
    FrameTooLong(usize),
    /// A control frame that is malformed.
    #[error("control frame: {0}")]
    Control(&'static str),
    /// The protobuf encoding is broken.
    #[error("dnstap protobuf: {0}")]
    Protobuf(&'static str),
    /// The DNS message inside is broken.
    #[error("DNS message: {0}")]
    Dns(&'static str),
}

/// Frame Streams control frame types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlType {
    /// `ACCEPT` (0x01): the receiver takes one of the offered content types.
    Accept,
    /// `START` (0x02): data frames follow.
    Start,
    /// `STOP` (0x03): no more data frames.
    Stop,
    /// `READY` (0x04): a sender offers content types (bidirectional mode).
    Ready,
    /// `FINISH` (0x05): the receiver acknowledges `STOP`.
    Finish,
}

impl ControlType {
    /// The wire value.
    pub fn code(self) -> u32 {
        match self {
            ControlType::Accept => 1,
            ControlType::Start => 2,
            ControlType::Stop => 3,
            ControlType::Ready => 4,
            ControlType::Finish => 5,
        }
    }

    fn from_code(c: u32) -> Option<Self> {
        Some(match c {
            1 => ControlType::Accept,
            2 => ControlType::Start,
            3 => ControlType::Stop,
            4 => ControlType::Ready,
            5 => ControlType::Finish,
            _ => return None,
        })
    }
}

/// One frame of a Frame Streams byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A data frame: one dnstap protobuf message.
    Data(&'a [u8]),
    /// A control frame, with whether it names [`CONTENT_TYPE`] among its content types.
    Control {
        /// Its type.
        kind: ControlType,
        /// It lists `protobuf:dnstap.Dnstap` (or lists no content type at all).
        dnstap: bool,
    },
}

/// Largest control frame accepted (bytes): a few content-type strings.
pub const MAX_CONTROL: usize = 512;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// The first frame of `buf` and the bytes it took, or `None` if `buf` does not hold a
/// whole frame yet.
pub fn frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, DnstapError> {
    let Some(len) = be32(buf, 0) else {
        return Ok(None);
    };
    if len != 0 {
        let len = len as usize;
        if len > MAX_FRAME {
            return Err(DnstapError::FrameTooLong(len));
        }
        return Ok(buf.get(4..4 + len).map(|d| (Frame::Data(d), 4 + len)));
    }
    let Some(clen) = be32(buf, 4) else {
        return Ok(None);
    };
    let clen = clen as usize;
    if clen > MAX_CONTROL {
        return Err(DnstapError::Control("longer than 512 bytes"));
    }
    if clen < 4 {
        return Err(DnstapError::Control("shorter than its type"));
    }
    let Some(body) = buf.get(8..8 + clen) else {
        return Ok(None);
    };
    let kind = be32(body, 0)
        .and_then(ControlType::from_code)
        .ok_or(DnstapError::Control("unknown control type"))?;
    let mut at = 4;
    let (mut any, mut dnstap) = (false, false);
    while at < body.len() {
        let (Some(field), Some(flen)) = (be32(body, at), be32(body, at + 4)) else {
            return Err(DnstapError::Control("truncated field"));
        };
        let value = body
            .get(at + 8..at + 8 + flen as usize)
            .ok_or(DnstapError::Control("field longer than the frame"))?;
        if field == 1 {
            any = true;
            dnstap |= value == CONTENT_TYPE;
        }
        at += 8 + flen as usize;
    }
    Ok(Some((
        Frame::Control {
            kind,
            dnstap: dnstap || !any,
        },
        8 + clen,
    )))
}

/// Writes a control frame of `kind` naming [`CONTENT_TYPE`] (for ACCEPT) into `out`.
pub fn control_frame(kind: ControlType, out: &mut Vec<u8>) {
    let with_type = matches!(
        kind,
        ControlType::Accept | ControlType::Ready | ControlType::Start
    );
    let body = 4 + if with_type { 8 + CONTENT_TYPE.len() } else { 0 };
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&(body as u32).to_be_bytes());
    out.extend_from_slice(&kind.code().to_be_bytes());
    if with_type {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&(CONTENT_TYPE.len() as u32).to_be_bytes());
        out.extend_from_slice(CONTENT_TYPE);
    }
}

/// A protobuf field: number and value.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Fixed32(u32),
    Fixed64,
    Bytes(&'a [u8]),
}

/// Iterates the fields of one protobuf message in place.
struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

fn varint(buf: &[u8], at: &mut usize) -> Result<u64, DnstapError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf
            .get(*at)
            .ok_or(DnstapError::Protobuf("truncated varint"))?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DnstapError::Protobuf("varint longer than 10 bytes"))
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), DnstapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let r = (|| {
            let key = varint(self.buf, &mut self.at)?;
            let take = |at: &mut usize, n: usize| -> Result<&'a [u8], DnstapError> {
                let s = self
                    .buf
                    .get(*at..at.saturating_add(n))
                    .ok_or(DnstapError::Protobuf("field longer than the message"))?;
                *at += n;
                Ok(s)
            };
            let value = match key & 7 {
                0 => Value::Varint(varint(self.buf, &mut self.at)?),
                1 => {
                    take(&mut self.at, 8)?;
                    Value::Fixed64
                }
                2 => {
                    let n = varint(self.buf, &mut self.at)?;
                    let n = usize::try_from(n)
                        .map_err(|_| DnstapError::Protobuf("length out of range"))?;
                    Value::Bytes(take(&mut self.at, n)?)
                }
                5 => {
                    let s = take(&mut self.at, 4)?;
                    Value::Fixed32(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
                }
                _ => return Err(DnstapError::Protobuf("unsupported wire type")),
            };
            Ok((key >> 3, value))
        })();
        if r.is_err() {
            self.at = self.buf.len();
        }
        Some(r)
    }
}

fn fields(buf: &[u8]) -> Fields<'_> {
    Fields { buf, at: 0 }
}

/// The `Message` of a dnstap frame, as read.
#[derive(Debug, Default, Clone, Copy)]
struct Message<'a> {
    protocol: u64,
    query_address: Option<&'a [u8]>,
    response_address: Option<&'a [u8]>,
    query_port: Option<u32>,
    response_port: Option<u32>,
    query_time: Option<(u64, u32)>,
    response_time: Option<(u64, u32)>,
    query_message: Option<&'a [u8]>,
    response_message: Option<&'a [u8]>,
}

fn message(buf: &[u8]) -> Result<Message<'_>, DnstapError> {
    let mut m = Message::default();
    let (mut qs, mut qn, mut rs, mut rn) = (None, 0u32, None, 0u32);
    for f in fields(buf) {
        match f? {
            (3, Value::Varint(v)) => m.protocol = v,
            (4, Value::Bytes(b)) => m.query_address = Some(b),
            (5, Value::Bytes(b)) => m.response_address = Some(b),
            (6, Value::Varint(v)) => m.query_port = u32::try_from(v).ok(),
            (7, Value::Varint(v)) => m.response_port = u32::try_from(v).ok(),
            (8, Value::Varint(v)) => qs = Some(v),
            (9, Value::Fixed32(v)) => qn = v,
            (10, Value::Bytes(b)) => m.query_message = Some(b),
            (12, Value::Varint(v)) => rs = Some(v),
            (13, Value::Fixed32(v)) => rn = v,
            (14, Value::Bytes(b)) => m.response_message = Some(b),
            _ => {}
        }
    }
    m.query_time = qs.map(|s| (s, qn));
    m.response_time = rs.map(|s| (s, rn));
    Ok(m)
}

/// What a frame was, when it is not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A dnstap message of another type than `MESSAGE`.
    NotAMessage,
    /// A query with no response in it (a `*_QUERY` message).
    Query,
}

/// Turns dnstap data frames into [`Dns`] records, reusing its buffers.
#[derive(Debug, Default)]
pub struct DnstapDecoder {
    name: String,
    answers: String,
}

fn addr(b: Option<&[u8]>) -> Option<IpAddr> {
    match b? {
        [a, b, c, d] => Some(IpAddr::V4(Ipv4Addr::new(*a, *b, *c, *d))),
        b if b.len() == 16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            Some(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => None,
    }
}

fn micros((secs, nanos): (u64, u32)) -> Micros {
    i64::try_from(secs)
        .unwrap_or(i64::MAX / 1_000_000)
        .min(i64::MAX / 1_000_000 - 1)
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(nanos.min(999_999_999) / 1000))
}

/// The name of a query type (the common ones; others are `None`).
pub fn qtype_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        _ => return None,
    })
}

/// The name of a response code (RFC 1035/2136 header codes).
pub fn rcode_name(r: u8) -> &'static str {
    match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "RESERVED",
    }
}

/// Skips a (possibly compressed) name starting at `at`; returns the offset after it.
fn skip_name(msg: &[u8], mut at: usize) -> Result<usize, DnstapError> {
    loop {
        let len = *msg.get(at).ok_or(DnstapError::Dns("truncated name"))?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(at + 1),
            0x00 => at += 1 + len as usize,
            0xc0 => return Ok(at + 2),
            _ => return Err(DnstapError::Dns("reserved label type")),
        }
    }
}

impl DnstapDecoder {
    /// A decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The record of one data frame: the client (`orig_h`), the resolver (`resp_h`),
    /// the time of the response (else of the query), the query name (lower case, no
    /// trailing dot; bytes outside printable ASCII as `\DDD` as in zone files), its
    /// type, the response code and the A/AAAA addresses answered.
    /// Messages without a response are skipped, not refused: a query alone says
    /// nothing a detector uses that its response does not say too.
    pub fn decode<'s>(&'s mut self, frame: &[u8]) -> Result<Result<Dns<'s>, Skipped>, DnstapError> {
        let mut msg = None;
        let mut kind = None;
        for f in fields(frame) {
            match f? {
                (14, Value::Bytes(b)) => msg = Some(b),
                (15, Value::Varint(v)) => kind = Some(v),
                _ => {}
            }
        }
        // Dnstap.Type MESSAGE = 1.
        let (Some(1), Some(m)) = (kind, msg) else {
            return Ok(Err(Skipped::NotAMessage));
        };
        let m = message(m)?;
        let Some(wire) = m.response_message else {
            return Ok(Err(Skipped::Query));
        };
        let (qtype, rcode) = self.parse_response(wire)?;
        let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let ts = m.response_time.or(m.query_time).map_or(0, micros);
        let proto = match m.protocol {
            1 | 5 => Proto::Udp, // UDP, DNSCrypt over UDP
            2..=4 | 6 | 7 => Proto::Tcp,
            _ => Proto::Unknown,
        };
        Ok(Ok(Dns {
            conn: Conn {
                ts,
                uid: None,
                orig_h: addr(m.query_address).unwrap_or(unspecified),
                orig_p: m.query_port.and_then(|p| u16::try_from(p).ok()),
                resp_h: addr(m.response_address).unwrap_or(unspecified),
                resp_p: m.response_port.and_then(|p| u16::try_from(p).ok()),
                proto,
                service: Some("dns"),
                duration: None,
                orig_bytes: None,
                resp_bytes: None,
                orig_pkts: None,
                resp_pkts: None,
                local_orig: None,
                local_resp: None,
            },
            query: (!self.name.is_empty()).then_some(Cow::Borrowed(self.name.as_str())),
            qtype_name: qtype.and_then(qtype_name),
            rcode_name: Some(rcode_name(rcode)),
            answers: if self.answers.is_empty() {
                Answers::None
            } else {
                Answers::Tsv {
                    raw: self.answers.as_str(),
                    separator: b',',
                }
            },
        }))
    }

    /// Reads the response's code, question name and type into the decoder, and the
    /// A/AAAA answers into its answer buffer.
    fn parse_response(&mut self, msg: &[u8]) -> Result<(Option<u16>, u8), DnstapError> {
        self.name.clear();
        self.answers.clear();
        let header = msg
            .get(..12)
            .ok_or(DnstapError::Dns("shorter than a header"))?;
        let rcode = header[3] & 0x0f;
        let qd = u16::from_be_bytes([header[4], header[5]]);
        let an = u16::from_be_bytes([header[6], header[7]]);
        let mut at = 12;
        let mut qtype = None;
        if qd > 0 {
            at = self.read_qname(msg, at)?;
            let t = msg
                .get(at..at + 4)
                .ok_or(DnstapError::Dns("truncated question"))?;
            qtype = Some(u16::from_be_bytes([t[0], t[1]]));
            at += 4;
            for _ in 1..qd {
                at = skip_name(msg, at)? + 4;
            }
        }
        for i in 0..an {
            at = skip_name(msg, at)?;
            let rr = msg
                .get(at..at + 10)
                .ok_or(DnstapError::Dns("truncated answer record"))?;
            let ty = u16::from_be_bytes([rr[0], rr[1]]);
            let len = usize::from(u16::from_be_bytes([rr[8], rr[9]]));
            let data = msg
                .get(at + 10..at + 10 + len)
                .ok_or(DnstapError::Dns("answer data longer than the message"))?;
            at += 10 + len;
            if usize::from(i) >= MAX_ANSWERS {
                continue;
            }
            let ip = match (ty, data.len()) {
                (1, 4) => addr(Some(data)),
                (28, 16) => addr(Some(data)),
                _ => None,
            };
            if let Some(ip) = ip {
                if !self.answers.is_empty() {
                    self.answers.push(',');
                }
                let _ = write!(self.answers, "{ip}");
            }
        }
        Ok((qtype, rcode))
    }

    /// Writes the uncompressed question name at `at` as text; returns the offset
    /// after it. A compression pointer in the question (legal, never seen) ends the
    /// name there.
    fn read_qname(&mut self, msg: &[u8], mut at: usize) -> Result<usize, DnstapError> {
        loop {
            let len = *msg.get(at).ok_or(DnstapError::Dns("truncated name"))?;
            match len & 0xc0 {
                0x00 if len == 0 => return Ok(at + 1),
                0x00 => {
                    let label = msg
                        .get(at + 1..at + 1 + len as usize)
                        .ok_or(DnstapError::Dns("label longer than the message"))?;
                    if !self.name.is_empty() {
                        self.name.push('.');
                    }
                    for &b in label {
                        match b {
                            b'A'..=b'Z' => self.name.push(char::from(b.to_ascii_lowercase())),
                            b'!'..=b'~' if b != b'.' && b != b'\\' => self.name.push(char::from(b)),
                            _ => {
                                let _ = write!(self.name, "\\{b:03}");
                            }
                        }
                    }
                    if self.name.len() > MAX_NAME_TEXT * 4 {
                        return Err(DnstapError::Dns("name longer than 255 octets"));
                    }
                    at += 1 + len as usize;
                }
                0xc0 => return Ok(at + 2),
                _ => return Err(DnstapError::Dns("reserved label type")),
            }
        }
    }
}

/// Writing dnstap: the other direction, for replaying captured answers into a
/// collector and for tests. Only what [`DnstapDecoder`] reads is written.
pub mod encode {
    use std::net::IpAddr;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    fn uint(field: u64, v: u64, out: &mut Vec<u8>) {
        varint(field << 3, out);
        varint(v, out);
    }

    fn ip(a: IpAddr) -> Vec<u8> {
        match a {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        }
    }

    /// A DNS response (wire format) to an A query for `name` with response code
    /// `rcode` and the `answers` as A/AAAA records (owner names compressed).
    pub fn response(name: &str, rcode: u8, answers: &[IpAddr]) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80 | (rcode & 0x0f), 0, 1];
        let count = u16::try_from(answers.len()).unwrap_or(u16::MAX);
        m.extend_from_slice(&count.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        for l in name.trim_end_matches('.').split('.') {
            let l = l.as_bytes().get(..l.len().min(63)).unwrap_or_default();
            m.push(l.len() as u8);
            m.extend_from_slice(l);
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        for a in answers.iter().take(usize::from(count)) {
            let (ty, data) = match a {
                IpAddr::V4(v) => (1u8, v.octets().to_vec()),
                IpAddr::V6(v) => (28u8, v.octets().to_vec()),
            };
            m.extend_from_slice(&[0xc0, 12, 0, ty, 0, 1, 0, 0, 0, 60, 0, data.len() as u8]);
            m.extend_from_slice(&data);
        }
        m
    }

    /// A dnstap frame (the protobuf message, without the Frame Streams length) of a
    /// `CLIENT_RESPONSE` from the resolver `resolver` to `client` at `secs`.`nanos`
    /// over UDP, carrying the DNS message `wire`.
    pub fn client_response(
        client: IpAddr,
        resolver: IpAddr,
        (secs, nanos): (u64, u32),
        wire: &[u8],
    ) -> Vec<u8> {
        let mut msg = Vec::new();
        uint(1, 6, &mut msg);
        uint(2, if client.is_ipv4() { 1 } else { 2 }, &mut msg);
        uint(3, 1, &mut msg);
        bytes(4, &ip(client), &mut msg);
        bytes(5, &ip(resolver), &mut msg);
        uint(6, 5353, &mut msg);
        uint(7, 53, &mut msg);
        uint(12, secs, &mut msg);
        msg.push(13 << 3 | 5);
        msg.extend_from_slice(&nanos.to_le_bytes());
        bytes(14, wire, &mut msg);
        let mut top = Vec::new();
        bytes(1, b"accord", &mut top);
        bytes(14, &msg, &mut top);
        uint(15, 1, &mut top);
        top
    }

    /// A `CLIENT_QUERY` frame (no response in it) for the DNS message `wire`.
    pub fn client_query(wire: &[u8]) -> Vec<u8> {
        let mut msg = Vec::new();
        uint(1, 5, &mut msg);
        bytes(10, wire, &mut msg);
        let mut top = Vec::new();
        bytes(14, &msg, &mut top);
        uint(15, 1, &mut top);
        top
    }

    /// `frame` with its Frame Streams length before it.
    pub fn data_frame(frame: &[u8], out: &mut Vec<u8>) {
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::encode::{client_query, client_response, response};
    use super::*;

    fn at() -> (u64, u32) {
        (1_700_000_000, 250_000_000)
    }

    fn client() -> IpAddr {
        IpAddr::from([10, 0, 0, 7])
    }

    fn resolver() -> IpAddr {
        IpAddr::from([192, 0, 2, 53])
    }

    #[test]
    fn a_client_response_becomes_a_dns_record() {
        let answers = [
            IpAddr::from([198, 51, 100, 7]),
            "2001:db8::8".parse().unwrap(),
        ];
        let wire = response("Paypal-Login.Example", 0, &answers);
        let frame = client_response(client(), resolver(), at(), &wire);
        let mut d = DnstapDecoder::new();
        let rec = d.decode(&frame).unwrap().unwrap();
        assert_eq!(rec.query.as_deref(), Some("paypal-login.example"));
        assert_eq!(rec.qtype_name, Some("A"));
        assert_eq!(rec.rcode_name, Some("NOERROR"));
        assert_eq!(rec.conn.orig_h, client());
        assert_eq!(rec.conn.resp_h, resolver());
        assert_eq!(rec.conn.resp_p, Some(53));
        assert_eq!(rec.conn.proto, Proto::Udp);
        assert_eq!(rec.conn.ts, 1_700_000_000_250_000);
        let mut seen = Vec::new();
        rec.answers.for_each(|a| seen.push(a.to_string()));
        assert_eq!(seen, ["198.51.100.7", "2001:db8::8"]);
    }

    #[test]
    fn nxdomain_and_odd_bytes_in_names() {
        let mut wire = response("x.example", 3, &[]);
        wire[13] = b'\\';
        let mut d = DnstapDecoder::new();
        let rec = d
            .decode(&client_response(client(), resolver(), at(), &wire))
            .unwrap()
            .unwrap();
        assert_eq!(rec.rcode_name, Some("NXDOMAIN"));
        assert_eq!(rec.query.as_deref(), Some("\\092.example"));
        assert_eq!(rec.answers, Answers::None);
    }

    #[test]
    fn a_query_without_response_is_skipped_and_broken_frames_refused() {
        let mut d = DnstapDecoder::new();
        let q = client_query(&response("a.example", 0, &[]));
        assert_eq!(d.decode(&q).unwrap().unwrap_err(), Skipped::Query);
        let wire = response("a.example", 0, &[IpAddr::from([1, 2, 3, 4])]);
        let good = client_response(client(), resolver(), at(), &wire);
        for cut in 0..good.len() {
            // Every truncation is refused or skipped, never a panic.
            let _ = d.decode(&good[..cut]);
        }
        assert!(d.decode(&[0x72, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    #[test]
    fn frames_and_control_frames_are_cut_from_a_stream() {
        let mut s = Vec::new();
        control_frame(ControlType::Start, &mut s);
        s.extend_from_slice(&3u32.to_be_bytes());
        s.extend_from_slice(b"abc");
        control_frame(ControlType::Stop, &mut s);
        let (f, n) = frame(&s).unwrap().unwrap();
        assert_eq!(
            f,
            Frame::Control {
                kind: ControlType::Start,
                dnstap: true
            }
        );
        let (f, m) = frame(&s[n..]).unwrap().unwrap();
        assert_eq!(f, Frame::Data(b"abc"));
        let (f, _) = frame(&s[n + m..]).unwrap().unwrap();
        assert!(matches!(
            f,
            Frame::Control {
                kind: ControlType::Stop,
                ..
            }
        ));
        assert_eq!(frame(&s[..n - 1]).unwrap(), None, "a partial frame waits");
        let mut huge = (MAX_FRAME as u32 + 1).to_be_bytes().to_vec();
        huge.extend_from_slice(&[0; 8]);
        assert!(frame(&huge).is_err());
    }
}

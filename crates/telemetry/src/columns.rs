//! The columns the readers understand, by role, and their names in Zeek logs.
//!
//! Readers find columns by name and ignore every column not listed here — including the
//! ground-truth `label` / `detailedlabel` columns of labelled datasets, which a sensor
//! never produces and a detector must never read.

/// A column role. The discriminant indexes the per-line slot array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Col {
    Ts,
    Uid,
    OrigH,
    OrigP,
    RespH,
    RespP,
    Proto,
    Service,
    Duration,
    OrigBytes,
    RespBytes,
    OrigPkts,
    RespPkts,
    LocalOrig,
    LocalResp,
    Query,
    QtypeName,
    RcodeName,
    Answers,
    Method,
    Host,
    Uri,
    Referrer,
    UserAgent,
    StatusCode,
    /// TLS server name indication (Zeek `ssl.log` `server_name`).
    ServerName,
    /// Flow end time (CSV `te`); turned into a duration.
    End,
}

/// Number of column roles (size of the slot array).
pub(crate) const NCOLS: usize = Col::End as usize + 1;

/// Zeek field names of each role.
pub(crate) const ZEEK_NAMES: &[(&str, Col)] = &[
    ("ts", Col::Ts),
    ("uid", Col::Uid),
    ("id.orig_h", Col::OrigH),
    ("id.orig_p", Col::OrigP),
    ("id.resp_h", Col::RespH),
    ("id.resp_p", Col::RespP),
    ("proto", Col::Proto),
    ("service", Col::Service),
    ("duration", Col::Duration),
    ("orig_bytes", Col::OrigBytes),
    ("resp_bytes", Col::RespBytes),
    ("orig_pkts", Col::OrigPkts),
    ("resp_pkts", Col::RespPkts),
    ("local_orig", Col::LocalOrig),
    ("local_resp", Col::LocalResp),
    ("query", Col::Query),
    ("qtype_name", Col::QtypeName),
    ("rcode_name", Col::RcodeName),
    ("answers", Col::Answers),
    ("method", Col::Method),
    ("host", Col::Host),
    ("uri", Col::Uri),
    ("referrer", Col::Referrer),
    ("user_agent", Col::UserAgent),
    ("status_code", Col::StatusCode),
    ("server_name", Col::ServerName),
];

/// The Zeek name of a role (for error messages).
pub(crate) fn zeek_name(col: Col) -> &'static str {
    ZEEK_NAMES
        .iter()
        .find(|(_, c)| *c == col)
        .map_or("te", |(n, _)| n)
}

/// The role of a Zeek field name, if the readers use it.
pub(crate) fn zeek_col(name: &str) -> Option<Col> {
    ZEEK_NAMES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

//! The detector: telemetry records in, sightings out.

use std::net::IpAddr;

use accord_telemetry::{Micros, Record};

use crate::aggregate::{Aggregator, Sighting};
use crate::atom::{self, Side};
use crate::fallback::FallbackScratch;
use crate::internal::InternalNets;
use crate::matcher::FlowView;
use crate::ruleset::Ruleset;
use crate::Error;

/// Connection records are matched in batches of this many: the address pre-checks of
/// a batch run first, so that their memory reads overlap instead of each record
/// waiting for its own (measured: the largest single gain at a million indicators).
const BATCH: usize = 64;

/// A connection record kept for batch matching (the record itself borrows a line
/// buffer that the reader reuses): its fields, and its `service` as a range of the
/// batch's text arena.
#[derive(Debug, Clone)]
struct PendingConn {
    conn: accord_telemetry::Conn<'static>,
    service: Option<(u32, u32)>,
}

/// The default sighting window: one hour.
pub const DEFAULT_WINDOW: Micros = 3_600_000_000;

/// How a [`Detector`] aggregates.
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// The operator's identity (`identity--<uuid>`): `where_sighted_refs` and
    /// `created_by_ref` of every sighting.
    pub observer_identity: String,
    /// The operator's customer networks (see [`InternalNets`]).
    pub internal: InternalNets,
    /// Length of a sighting window, in microseconds.
    pub window: Micros,
}

impl DetectorConfig {
    /// A configuration with the default window and no internal networks; checks that
    /// `observer_identity` is an identity id.
    ///
    /// ```
    /// let c = accord_match::DetectorConfig::new("identity--b3a1c8a2-2d5d-4d0e-9d7b-6b0a8e6d1f00")?;
    /// assert_eq!(c.window, accord_match::DEFAULT_WINDOW);
    /// assert!(accord_match::DetectorConfig::new("acme").is_err());
    /// # Ok::<(), accord_match::Error>(())
    /// ```
    pub fn new(observer_identity: &str) -> Result<Self, Error> {
        let ok = observer_identity
            .strip_prefix("identity--")
            .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
        if !ok {
            return Err(Error::Config {
                setting: "observer_identity",
                message: format!("`{observer_identity}` is not an identity id (identity--<uuid>)"),
            });
        }
        Ok(DetectorConfig {
            observer_identity: observer_identity.to_string(),
            internal: InternalNets::default(),
            window: DEFAULT_WINDOW,
        })
    }

    /// Sets the window; it must be at least one second.
    pub fn with_window(mut self, window: std::time::Duration) -> Result<Self, Error> {
        let us = i64::try_from(window.as_micros()).unwrap_or(i64::MAX);
        if us < 1_000_000 {
            return Err(Error::Config {
                setting: "window",
                message: "a sighting window must be at least one second".into(),
            });
        }
        self.window = us;
        Ok(self)
    }

    /// Sets the internal networks.
    pub fn with_internal(mut self, internal: InternalNets) -> Self {
        self.internal = internal;
        self
    }
}

/// Counters of one detection run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectStats {
    /// Records observed.
    pub records: u64,
    /// Records that matched at least one indicator in force.
    pub matched_records: u64,
    /// (record, indicator) matches counted into sightings.
    pub matches: u64,
    /// Matches dropped because the indicator was not valid at the record's time.
    pub outside_validity: u64,
    /// Pattern-engine evaluations (fallback indicators × records reaching them).
    pub fallback_evaluations: u64,
    /// Pattern-engine evaluations that failed (counted as no match).
    pub fallback_errors: u64,
}

/// Matches records against a [`Ruleset`] and aggregates sightings.
///
/// ```
/// use accord_match::{Detector, DetectorConfig, IndicatorInput, Ruleset};
/// use accord_telemetry::TelemetryReader;
/// let rules = Ruleset::compile([IndicatorInput {
///     id: "indicator--00000000-0000-4000-8000-000000000001".into(),
///     pattern: "[ipv4-addr:value = '198.51.100.66']".into(),
///     valid_from: 0, valid_until: None, revoked: false, modified: 0,
/// }]);
/// let cfg = DetectorConfig::new("identity--00000000-0000-4000-8000-0000000000aa")?;
/// let mut det = Detector::new(&rules, cfg);
/// let log = "ts,src_ip,dst_ip\n100,10.0.0.1,198.51.100.66\n101,10.0.0.2,198.51.100.66\n";
/// let mut r = TelemetryReader::new(log.as_bytes(), None).unwrap();
/// while let Some(rec) = r.next_record().unwrap() {
///     det.observe(&rec);
/// }
/// let (sightings, stats) = det.finish();
/// assert_eq!(stats.matched_records, 2);
/// let s = sightings[0].to_json();
/// assert_eq!(s["count"], 2);
/// assert_eq!(s["x_accord_distinct_hosts"], 2);
/// assert!(!s.to_string().contains("10.0.0.1"));
/// # Ok::<(), accord_match::Error>(())
/// ```
#[derive(Debug)]
pub struct Detector<'r> {
    rules: &'r Ruleset,
    config: DetectorConfig,
    agg: Aggregator,
    stats: DetectStats,
    hits: Vec<(u32, Side)>,
    hosts: Vec<IpAddr>,
    text: String,
    url: String,
    fallback: FallbackScratch,
    batch: Vec<PendingConn>,
    arena: String,
    may: Vec<(bool, bool)>,
}

impl<'r> Detector<'r> {
    /// A detector over `rules`.
    pub fn new(rules: &'r Ruleset, config: DetectorConfig) -> Self {
        Detector {
            rules,
            agg: Aggregator::new(config.window),
            config,
            stats: DetectStats::default(),
            hits: Vec::new(),
            hosts: Vec::with_capacity(2),
            text: String::new(),
            url: String::new(),
            fallback: FallbackScratch::default(),
            batch: Vec::with_capacity(BATCH),
            arena: String::new(),
            may: Vec::with_capacity(BATCH),
        }
    }

    /// Matches one record and counts its matches. Connection records are queued and
    /// matched a batch at a time; [`finish`](Self::finish) matches the rest.
    pub fn observe(&mut self, rec: &Record<'_>) {
        let Record::Conn(c) = rec else {
            self.process(rec, (true, true));
            return;
        };
        let service = c.service.map(|s| {
            let start = self.arena.len() as u32;
            self.arena.push_str(s);
            (start, s.len() as u32)
        });
        self.batch.push(PendingConn {
            conn: c.detached(),
            service,
        });
        if self.batch.len() == BATCH {
            self.flush();
        }
    }

    /// Matches the queued connection records.
    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        let arena = std::mem::take(&mut self.arena);
        let m = &self.rules.matcher;
        self.may.clear();
        // First the pre-checks of the whole batch: independent reads, in flight together.
        self.may.extend(
            batch
                .iter()
                .map(|p| (m.ip_may_match(p.conn.orig_h), m.ip_may_match(p.conn.resp_h))),
        );
        let may = std::mem::take(&mut self.may);
        for (p, &flags) in batch.iter().zip(&may) {
            let service = p
                .service
                .and_then(|(s, n)| arena.get(s as usize..(s + n) as usize));
            let conn = accord_telemetry::Conn {
                service,
                ..p.conn.clone()
            };
            self.process(&Record::Conn(conn), flags);
        }
        self.may = may;
        self.batch = batch;
        self.batch.clear();
        self.arena = arena;
        self.arena.clear();
    }

    /// Matches one record; `may` are the address pre-checks of its two endpoints.
    fn process(&mut self, rec: &Record<'_>, may: (bool, bool)) {
        self.stats.records += 1;
        self.hits.clear();
        self.collect_hits(rec, may);
        if !self.rules.fallback.is_empty() {
            let hits = &mut self.hits;
            let (evals, errors) = self.fallback.evaluate(&self.rules.fallback, rec, &mut |i| {
                hits.push((i, Side::Any))
            });
            self.stats.fallback_evaluations += evals;
            self.stats.fallback_errors += errors;
        }
        if self.hits.is_empty() {
            return;
        }
        if self.hits.len() > 1 {
            self.hits.sort_unstable_by_key(|h| h.0);
            self.hits.dedup_by_key(|h| h.0);
        }
        let ts = rec.ts();
        let c = rec.conn();
        let mut any = false;
        for &(ind, side) in &self.hits {
            let Some(meta) = self.rules.meta.get(ind as usize) else {
                continue;
            };
            if !meta.valid_at(ts) {
                self.stats.outside_validity += 1;
                continue;
            }
            crate::internal::internal_hosts(&self.config.internal, c, side, &mut self.hosts);
            self.agg.add(ind, ts, &self.hosts);
            self.stats.matches += 1;
            any = true;
        }
        self.stats.matched_records += u64::from(any);
    }

    fn collect_hits(&mut self, rec: &Record<'_>, may: (bool, bool)) {
        let m = &self.rules.matcher;
        let hits = &mut self.hits;
        let c = rec.conn();
        if may.0 {
            m.match_ip(c.orig_h, Side::Src, &mut |i| hits.push((i, Side::Src)));
        }
        if may.1 {
            m.match_ip(c.resp_h, Side::Dst, &mut |i| hits.push((i, Side::Dst)));
        }
        let flow = FlowView {
            proto: c.proto,
            service: c.service,
            src: c.orig_h,
            src_port: c.orig_p,
            dst: c.resp_h,
            dst_port: c.resp_p,
        };
        m.match_flow(&flow, &mut |i| hits.push((i, Side::Any)));
        match rec {
            Record::Dns(d) => {
                let text = &mut self.text;
                if let Some(q) = &d.query {
                    if m.wants_domains() {
                        atom::normalize_domain_into(q, text);
                        m.match_domain(text, &mut |i| hits.push((i, Side::Any)));
                    }
                }
                d.answers.for_each(|a| {
                    if let Ok(ip) = a.parse::<IpAddr>() {
                        m.match_ip(ip, Side::Any, &mut |i| hits.push((i, Side::Any)));
                    } else if m.wants_domains() {
                        atom::normalize_domain_into(a, text);
                        m.match_domain(text, &mut |i| hits.push((i, Side::Any)));
                    }
                });
            }
            Record::Http(h) => {
                let host = h.host.as_deref().map(strip_port);
                if let Some(host) = host.filter(|_| m.wants_domains()) {
                    if host.parse::<IpAddr>().is_err() {
                        atom::normalize_domain_into(host, &mut self.text);
                        m.match_domain(&self.text, &mut |i| hits.push((i, Side::Any)));
                    }
                }
                if m.wants_urls() {
                    if let Some(uri) = h.uri.as_deref() {
                        http_url(h.host.as_deref(), c.resp_h, c.resp_p, uri, &mut self.text);
                        atom::normalize_url_into(&self.text, &mut self.url);
                        m.match_url(&self.url, &mut |i| hits.push((i, Side::Any)));
                    }
                }
            }
            _ => {}
        }
    }

    /// Counters so far (matching the queued connection records first).
    pub fn stats(&mut self) -> DetectStats {
        self.flush();
        self.stats
    }

    /// Number of sightings so far (matching the queued connection records first).
    pub fn sightings_len(&mut self) -> usize {
        self.flush();
        self.agg.len()
    }

    /// Ends the run: the sightings (ordered by indicator id, then window) and counters.
    pub fn finish(mut self) -> (Vec<Sighting>, DetectStats) {
        let sightings = self.take_sightings();
        (sightings, self.stats)
    }

    /// The sightings so far; the detector goes on with none (the collector's windows).
    /// The counters keep counting.
    pub fn take_sightings(&mut self) -> Vec<Sighting> {
        self.flush();
        let rules = self.rules;
        let agg = std::mem::replace(&mut self.agg, Aggregator::new(self.config.window));
        agg.into_sightings(|i| rules.indicator_id(i), &self.config.observer_identity)
    }
}

/// Indicator matching as one observer of a telemetry pass. Its sighting windows are
/// its own (`DetectorConfig::window`), whatever the pass's window.
impl accord_detect::Observer for Detector<'_> {
    fn name(&self) -> &'static str {
        "match"
    }

    fn observe(&mut self, record: &Record<'_>) {
        Detector::observe(self, record);
    }

    fn finish(&mut self, _: &accord_detect::Window) -> Vec<Box<dyn accord_detect::Finding>> {
        self.take_sightings()
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn accord_detect::Finding>)
            .collect()
    }
}

/// The host of a `Host` header without its port (`[v6]:port` keeps the brackets off).
pub(crate) fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The URL an HTTP request asked for: the URI when absolute (proxy requests), else
/// `http://` + the `Host` header (or the server's address and port) + the URI.
pub(crate) fn http_url(
    host: Option<&str>,
    addr: IpAddr,
    port: Option<u16>,
    uri: &str,
    out: &mut String,
) {
    use std::fmt::Write;
    out.clear();
    if uri.contains("://") && !uri.starts_with('/') {
        out.push_str(uri);
        return;
    }
    out.push_str("http://");
    match host {
        Some(h) if !h.is_empty() => out.push_str(h),
        _ => {
            let _ = match addr {
                IpAddr::V4(a) => write!(out, "{a}"),
                IpAddr::V6(a) => write!(out, "[{a}]"),
            };
            if let Some(p) = port.filter(|p| *p != 80) {
                let _ = write!(out, ":{p}");
            }
        }
    }
    if !uri.starts_with('/') {
        out.push('/');
    }
    out.push_str(uri);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_from_http_records() {
        let mut s = String::new();
        http_url(
            Some("a.example"),
            "192.0.2.1".parse().unwrap(),
            Some(80),
            "/x?y",
            &mut s,
        );
        assert_eq!(s, "http://a.example/x?y");
        http_url(
            None,
            "2001:db8::1".parse().unwrap(),
            Some(8080),
            "/",
            &mut s,
        );
        assert_eq!(s, "http://[2001:db8::1]:8080/");
        http_url(
            Some("p.example"),
            "192.0.2.1".parse().unwrap(),
            None,
            "http://q.example/z",
            &mut s,
        );
        assert_eq!(s, "http://q.example/z");
        assert_eq!(strip_port("a.example:8080"), "a.example");
        assert_eq!(strip_port("[2001:db8::1]:80"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
    }
}

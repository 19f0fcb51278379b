//! Indicators the flat structures cannot hold, evaluated by the pattern engine.
//!
//! Each record that reaches a fallback pattern — that is, produces an object of a type
//! the pattern names — is turned once into a STIX observed-data object (2.0 embedded
//! `objects` layout, which the engine reads) and every reached pattern is evaluated
//! against it with the semantics of the OASIS matcher.
//!
//! One record is one observation. Patterns that need several observations
//! (observation-level `AND`, `FOLLOWEDBY`, `REPEATS`) are matched across records: each
//! record that satisfies one of the pattern's `[...]` observation expressions is kept
//! in the rule's window (the pattern's largest `WITHIN`, else [`DEFAULT_HORIZON_US`];
//! at most [`MAX_WINDOW`] observations, the oldest dropped first), and the whole
//! pattern is evaluated over the window whenever a record joins it. A match is one
//! sighting at the record that completed it, and consumes the window's observations,
//! so one set of records is counted once.
//!
//! Objects a record yields: `ipv4-addr`/`ipv6-addr` for both endpoints, a
//! `network-traffic` joining them (ports, `protocols` = IP version, transport, Zeek
//! services; byte and packet counts); for DNS a `domain-name` with `resolves_to_refs`
//! to the answers; for HTTP a `domain-name` (the `Host`), a `url`, and the
//! `http-request-ext` of the traffic. Domain names and URLs carry the normalised values
//! compiled matching compares (see [`atom`](crate::atom)), so that an indicator matches
//! the same records whichever path evaluates it.

use std::collections::HashMap;
use std::net::IpAddr;

use accord_patterns::ast::{ObservationExpr, Pattern, Qualifier};
use accord_patterns::{CompiledPattern, EvalError, ObservedData};
use accord_telemetry::{Conn, Record};
use serde_json::{json, Map, Value};

use crate::atom;
use crate::detector::{http_url, strip_port};
use crate::time::format_timestamp;

const REACH_CONN: u8 = 1;
const REACH_DNS: u8 = 2;
const REACH_HTTP: u8 = 4;

/// How far back a multi-observation pattern without `WITHIN` looks: one hour.
pub(crate) const DEFAULT_HORIZON_US: i64 = 3_600_000_000;

/// Most observations one multi-observation pattern keeps (bounds the engine's work
/// per record, which grows with the window).
pub(crate) const MAX_WINDOW: usize = 64;

/// A pattern for the engine, and the record kinds that can reach it.
#[derive(Debug)]
pub(crate) struct FallbackRule {
    pub indicator: u32,
    pattern: CompiledPattern,
    reach: u8,
    /// For patterns that need several observations: one compiled pattern per `[...]`
    /// observation expression (a record joins the window if it satisfies one), and
    /// how far back the window reaches. `None` for single-observation patterns.
    several: Option<Several>,
}

#[derive(Debug)]
struct Several {
    parts: Vec<CompiledPattern>,
    horizon_us: i64,
}

impl FallbackRule {
    /// Compiles the pattern for the engine; fails where the OASIS matcher would refuse
    /// it (`WITHIN 0 SECONDS`, a bad regular expression, ...).
    pub(crate) fn new(indicator: u32, pattern: &Pattern, src: &str) -> Result<Self, EvalError> {
        let mut reach = 0u8;
        pattern.expr.for_each_comparison(&mut |c| {
            reach |= match c.path.object_type.as_str() {
                "ipv4-addr" | "ipv6-addr" | "network-traffic" => {
                    REACH_CONN | REACH_DNS | REACH_HTTP
                }
                "domain-name" => REACH_DNS | REACH_HTTP,
                "url" => REACH_HTTP,
                _ => 0,
            }
        });
        let several = if needs_several(&pattern.expr) {
            let mut parts = Vec::new();
            let mut within: Option<f64> = None;
            collect_parts(&pattern.expr, &mut parts, &mut within);
            let parts = parts
                .into_iter()
                .map(|expr| CompiledPattern::new(&Pattern { expr }, src))
                .collect::<Result<_, _>>()?;
            let horizon_us = within.map_or(DEFAULT_HORIZON_US, |s| (s * 1e6).ceil() as i64);
            Some(Several { parts, horizon_us })
        } else {
            None
        };
        let pattern = CompiledPattern::new(pattern, src)?;
        Ok(FallbackRule {
            indicator,
            pattern,
            reach,
            several,
        })
    }

    /// `true` if no record kind produces an object this pattern looks at.
    pub(crate) fn unreachable(&self) -> bool {
        self.reach == 0
    }
}

fn kind_bit(rec: &Record<'_>) -> u8 {
    match rec {
        Record::Dns(_) => REACH_DNS,
        Record::Http(_) => REACH_HTTP,
        _ => REACH_CONN,
    }
}

/// Whether matching `expr` takes more than one observation.
fn needs_several(expr: &ObservationExpr) -> bool {
    match expr {
        ObservationExpr::Observation { .. } => false,
        ObservationExpr::And(_) | ObservationExpr::FollowedBy(_) => true,
        ObservationExpr::Or(items) => items.iter().any(needs_several),
        ObservationExpr::Group { expr, .. } => needs_several(expr),
        ObservationExpr::Qualified { expr, qualifiers } => {
            needs_several(expr)
                || qualifiers
                    .iter()
                    .any(|q| matches!(q, Qualifier::Repeats { .. }))
        }
    }
}

/// Every `[...]` observation expression of `expr`, and the largest `WITHIN`.
fn collect_parts(
    expr: &ObservationExpr,
    parts: &mut Vec<ObservationExpr>,
    within: &mut Option<f64>,
) {
    match expr {
        ObservationExpr::Observation { .. } => parts.push(expr.clone()),
        ObservationExpr::And(items)
        | ObservationExpr::Or(items)
        | ObservationExpr::FollowedBy(items) => {
            items.iter().for_each(|e| collect_parts(e, parts, within));
        }
        ObservationExpr::Group { expr, .. } => collect_parts(expr, parts, within),
        ObservationExpr::Qualified { expr, qualifiers } => {
            for q in qualifiers {
                if let Qualifier::Within { seconds, .. } = q {
                    *within = Some(within.map_or(*seconds, |w| w.max(*seconds)));
                }
            }
            collect_parts(expr, parts, within);
        }
    }
}

/// State of the fallback path kept across records: the windows of the patterns that
/// need several observations, by rule position.
#[derive(Debug, Default)]
pub(crate) struct FallbackScratch {
    windows: HashMap<usize, Window>,
    /// Distinct ids for the observations in windows (the engine keys objects by id).
    next_id: u64,
}

/// The observations a multi-observation pattern may still combine, with their times
/// (kept apart so that the engine reads the observations in place).
#[derive(Debug, Default)]
struct Window {
    times: Vec<i64>,
    observations: Vec<Value>,
}

impl Window {
    /// Adds an observation made at `now`, after dropping those more than `horizon_us`
    /// older and, at [`MAX_WINDOW`], the oldest.
    fn push(&mut self, now: i64, observation: Value, horizon_us: i64) {
        let mut kept = 0;
        for i in 0..self.times.len() {
            if now.saturating_sub(self.times[i]) <= horizon_us {
                self.times.swap(kept, i);
                self.observations.swap(kept, i);
                kept += 1;
            }
        }
        self.times.truncate(kept);
        self.observations.truncate(kept);
        if self.times.len() == MAX_WINDOW {
            self.times.remove(0);
            self.observations.remove(0);
        }
        self.times.push(now);
        self.observations.push(observation);
    }

    fn clear(&mut self) {
        self.times.clear();
        self.observations.clear();
    }
}

impl FallbackScratch {
    /// Evaluates every rule the record reaches; calls `f` with each matching indicator.
    /// Returns (evaluations, errors).
    pub(crate) fn evaluate(
        &mut self,
        rules: &[FallbackRule],
        rec: &Record<'_>,
        f: &mut impl FnMut(u32),
    ) -> (u64, u64) {
        let bit = kind_bit(rec);
        if !rules.iter().any(|r| r.reach & bit != 0) {
            return (0, 0);
        }
        let od = observed_data(rec);
        let Ok(data) = ObservedData::from_json(&od) else {
            // Our own object is well-formed; should the engine refuse it, every
            // evaluation is counted as failed rather than guessed.
            let n = rules.iter().filter(|r| r.reach & bit != 0).count() as u64;
            return (n, n);
        };
        let (mut evals, mut errors) = (0, 0);
        for (position, r) in rules.iter().enumerate().filter(|(_, r)| r.reach & bit != 0) {
            evals += 1;
            let outcome = match &r.several {
                None => r.pattern.matches(&data),
                Some(several) => self.across_records(position, r, several, &data, &od, rec),
            };
            match outcome {
                Ok(true) => f(r.indicator),
                Ok(false) => {}
                Err(_) => errors += 1,
            }
        }
        (evals, errors)
    }

    /// Adds the record to the rule's window if it satisfies one of the pattern's
    /// observation expressions, then evaluates the pattern over the window.
    fn across_records(
        &mut self,
        position: usize,
        rule: &FallbackRule,
        several: &Several,
        data: &ObservedData<'_>,
        od: &Value,
        rec: &Record<'_>,
    ) -> Result<bool, EvalError> {
        let mut joins = false;
        for part in &several.parts {
            if part.matches(data)? {
                joins = true;
                break;
            }
        }
        if !joins {
            return Ok(false);
        }
        let now = rec.conn().ts;
        let mut observation = od.clone();
        self.next_id += 1;
        observation["id"] = format!(
            "observed-data--00000000-0000-4000-8000-{:012x}",
            self.next_id & 0xffff_ffff_ffff
        )
        .into();
        let window = self.windows.entry(position).or_default();
        window.push(now, observation, several.horizon_us);
        let matched = rule
            .pattern
            .matches(&ObservedData::from_objects(&window.observations)?)?;
        if matched {
            window.clear();
        }
        Ok(matched)
    }
}

fn ip_object(a: IpAddr) -> Value {
    let ty = if a.is_ipv4() {
        "ipv4-addr"
    } else {
        "ipv6-addr"
    };
    json!({"type": ty, "value": a.to_string()})
}

fn traffic_object(c: &Conn<'_>) -> Map<String, Value> {
    let mut t = Map::new();
    t.insert("type".into(), "network-traffic".into());
    t.insert("src_ref".into(), "0".into());
    t.insert("dst_ref".into(), "1".into());
    let mut protocols = vec![Value::from(if c.orig_h.is_ipv4() {
        "ipv4"
    } else {
        "ipv6"
    })];
    if let Some(p) = c.proto.stix_name() {
        protocols.push(p.into());
    }
    for s in c
        .service
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
    {
        protocols.push(s.to_ascii_lowercase().into());
    }
    t.insert("protocols".into(), protocols.into());
    let opt = [
        ("src_port", c.orig_p.map(u64::from)),
        ("dst_port", c.resp_p.map(u64::from)),
        ("src_byte_count", c.orig_bytes),
        ("dst_byte_count", c.resp_bytes),
        ("src_packets", c.orig_pkts),
        ("dst_packets", c.resp_pkts),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            t.insert(k.into(), v.into());
        }
    }
    t
}

/// The observed-data object of one record (see the module documentation).
///
/// It holds the record's addresses: it lives only for the evaluation and is never
/// stored or emitted.
pub fn observed_data(rec: &Record<'_>) -> Value {
    let c = rec.conn();
    let ts = format_timestamp(c.ts);
    let mut objects = Map::new();
    objects.insert("0".into(), ip_object(c.orig_h));
    objects.insert("1".into(), ip_object(c.resp_h));
    let mut traffic = traffic_object(c);
    match rec {
        Record::Dns(d) => {
            let mut refs = Vec::new();
            d.answers.for_each(|a| {
                let key = (objects.len() + 1).to_string();
                let obj = match a.parse::<IpAddr>() {
                    Ok(ip) => ip_object(ip),
                    Err(_) => json!({"type": "domain-name", "value": atom::normalize_domain(a)}),
                };
                objects.insert(key.clone(), obj);
                refs.push(Value::from(key));
            });
            if let Some(q) = &d.query {
                let mut dn = json!({"type": "domain-name", "value": atom::normalize_domain(q)});
                if !refs.is_empty() {
                    dn["resolves_to_refs"] = refs.into();
                }
                objects.insert((objects.len() + 1).to_string(), dn);
            }
        }
        Record::Http(h) => {
            let mut header = Map::new();
            if let Some(host) = &h.host {
                header.insert("Host".into(), host.as_ref().into());
                let bare = strip_port(host);
                if bare.parse::<IpAddr>().is_err() {
                    let value = atom::normalize_domain(bare);
                    objects.insert(
                        (objects.len() + 1).to_string(),
                        json!({"type": "domain-name", "value": value}),
                    );
                }
            }
            if let Some(ua) = &h.user_agent {
                header.insert("User-Agent".into(), ua.as_ref().into());
            }
            if let Some(r) = &h.referrer {
                header.insert("Referer".into(), r.as_ref().into());
            }
            let mut ext = Map::new();
            if let Some(m) = h.method {
                ext.insert("request_method".into(), m.to_ascii_lowercase().into());
            }
            if let Some(uri) = &h.uri {
                ext.insert("request_value".into(), uri.as_ref().into());
                let mut url = String::new();
                http_url(h.host.as_deref(), c.resp_h, c.resp_p, uri, &mut url);
                let value = atom::normalize_url(&url);
                objects.insert(
                    (objects.len() + 1).to_string(),
                    json!({"type": "url", "value": value}),
                );
            }
            if !header.is_empty() {
                ext.insert("request_header".into(), header.into());
            }
            traffic.insert("extensions".into(), json!({"http-request-ext": ext}));
        }
        _ => {}
    }
    objects.insert("2".into(), traffic.into());
    json!({
        "type": "observed-data",
        "id": "observed-data--00000000-0000-4000-8000-000000000000",
        "first_observed": ts,
        "last_observed": ts,
        "number_observed": 1,
        "objects": objects,
    })
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn window_drops_what_is_too_old_and_caps_its_size() {
        let mut w = Window::default();
        for t in [0, 10, 20] {
            w.push(t, Value::from(t), 15);
        }
        // At 20, the observation of 0 is more than 15 older: gone; order kept.
        assert_eq!(w.times, [10, 20]);
        assert_eq!(w.observations, [Value::from(10), Value::from(20)]);
        let mut w = Window::default();
        for t in 0..(MAX_WINDOW as i64 + 3) {
            w.push(t, Value::from(t), i64::MAX);
        }
        assert_eq!(w.times.len(), MAX_WINDOW);
        assert_eq!(w.times[0], 3);
        assert_eq!(w.observations.len(), MAX_WINDOW);
    }
}

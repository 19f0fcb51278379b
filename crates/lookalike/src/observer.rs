//! The look-alike detector as an [`accord_detect::Observer`] over DNS queries, HTTP
//! hosts and TLS server names, and its findings as STIX 2.1.

use std::collections::HashMap;

use accord_detect::{Observer, Producer, Window};
use accord_telemetry::{Micros, Record};
use serde_json::{json, Value};

use crate::{Detector, Finding, Index};

/// Most distinct look-alike names one observer tracks per window; further names are
/// counted in [`PhishingObserver::dropped`] (a flood of generated names must not grow
/// memory without bound).
pub const MAX_TRACKED_NAMES: usize = 1_000_000;

/// The namespace of the UUIDv5 ids of the SDOs made from findings (so that the same
/// finding gives the same ids on every run and the store updates instead of duplicating).
pub const STIX_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6b1f_3c0e_4a2d_5e8f_9a41_7c2b_d3e5_f601);

/// A look-alike name seen in telemetry (or read from a list), with when and how often.
#[derive(Debug, Clone)]
pub struct PhishingFinding {
    /// What the engine found.
    pub finding: Finding,
    /// First record time (microseconds), when seen in telemetry.
    pub first_seen: Option<Micros>,
    /// Last record time (microseconds), when seen in telemetry.
    pub last_seen: Option<Micros>,
    /// How many records named it.
    pub count: u64,
}

impl PhishingFinding {
    /// A finding read from a plain list (no times).
    pub fn from_list(finding: Finding) -> Self {
        PhishingFinding {
            finding,
            first_seen: None,
            last_seen: None,
            count: 1,
        }
    }

    fn id(&self, kind: &str) -> String {
        let key = format!("{kind}|{}|{}", self.finding.domain, self.finding.imitates);
        format!(
            "{kind}--{}",
            uuid::Uuid::new_v5(&STIX_NAMESPACE, key.as_bytes())
        )
    }

    /// The id of the brand's identity (UUIDv5 over the brand's domain).
    pub fn identity_id(&self) -> String {
        let key = format!("identity|{}", self.finding.imitates);
        format!(
            "identity--{}",
            uuid::Uuid::new_v5(&STIX_NAMESPACE, key.as_bytes())
        )
    }

    /// The id of the indicator.
    pub fn indicator_id(&self) -> String {
        self.id("indicator")
    }
}

fn ts(us: Micros) -> String {
    accord_stix::Timestamp::from_micros(us).as_str().to_string()
}

impl accord_detect::Finding for PhishingFinding {
    fn kind(&self) -> &'static str {
        "phishing"
    }

    fn score(&self) -> f64 {
        self.finding.score
    }

    fn subject(&self) -> String {
        self.finding.domain.clone()
    }

    fn summary(&self) -> String {
        let e = &self.finding.evidence;
        let mut s = format!(
            "{} of {} ({}): {:?} in {}",
            self.finding.technique.as_str(),
            self.finding.imitates,
            e.variant,
            e.brand_token,
            e.found_in
        );
        if let Some(edit) = &e.edit {
            s.push_str(&format!(", {edit}"));
        }
        if !e.lure_words.is_empty() {
            s.push_str(&format!(", lure words {}", e.lure_words.join(" ")));
        }
        s
    }

    fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.finding).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            if let (Some(f), Some(l)) = (self.first_seen, self.last_seen) {
                m.insert("first_seen".into(), json!(ts(f)));
                m.insert("last_seen".into(), json!(ts(l)));
            }
            m.insert("count".into(), json!(self.count));
        }
        v
    }

    fn to_stix(&self, producer: &Producer) -> Vec<Value> {
        let f = &self.finding;
        let now = ts(producer.now);
        let domain_obj = json!({"type": "domain-name", "value": f.domain});
        let domain_id = domain_obj
            .as_object()
            .and_then(|m| accord_stix::sco_id(m).ok().flatten())
            .unwrap_or_default();
        let identity_id = self.identity_id();
        let indicator_id = self.indicator_id();
        let valid_from = self.first_seen.map(ts).unwrap_or_else(|| now.clone());
        let confidence = (f.score * 100.0).round() as i64;
        let evidence = serde_json::to_string_pretty(&f.evidence).unwrap_or_default();
        vec![
            json!({
                "type": "domain-name", "spec_version": "2.1", "id": domain_id, "value": f.domain,
            }),
            json!({
                "type": "identity", "spec_version": "2.1", "id": identity_id,
                "created_by_ref": producer.identity, "created": now, "modified": now,
                "name": f.imitates, "identity_class": "organization",
                "description": format!("Protected brand or portal whose registrable domain is {}", f.imitates),
            }),
            json!({
                "type": "indicator", "spec_version": "2.1", "id": indicator_id,
                "created_by_ref": producer.identity, "created": now, "modified": now,
                "name": format!("Look-alike of {}: {}", f.imitates, f.domain),
                "description": self.summary_text(),
                "indicator_types": ["malicious-activity"],
                "pattern": format!("[domain-name:value = '{}']", f.domain.replace('\\', "\\\\").replace('\'', "\\'")),
                "pattern_type": "stix", "valid_from": valid_from,
                "confidence": confidence,
                "labels": ["phishing", f.technique.as_str()],
            }),
            json!({
                "type": "relationship", "spec_version": "2.1", "id": self.id("relationship"),
                "created_by_ref": producer.identity, "created": now, "modified": now,
                "relationship_type": "related-to",
                "description": format!("{} imitates {} ({})", f.domain, f.imitates, f.technique.as_str()),
                "source_ref": indicator_id, "target_ref": identity_id,
            }),
            json!({
                "type": "note", "spec_version": "2.1", "id": self.id("note"),
                "created_by_ref": producer.identity, "created": now, "modified": now,
                "abstract": format!("Why {} imitates {} (score {:.2})", f.domain, f.imitates, f.score),
                "content": format!("{}\n\nEvidence:\n{evidence}", f.evidence.reasons.join("\n")),
                "object_refs": [indicator_id, domain_id],
            }),
        ]
    }
}

impl PhishingFinding {
    fn summary_text(&self) -> String {
        accord_detect::Finding::summary(self)
    }
}

/// The look-alike detector over telemetry: DNS queries, HTTP `Host` headers and TLS
/// server names are checked; each look-alike name becomes one finding per window.
pub struct PhishingObserver<'i> {
    detector: Detector<'i>,
    seen: HashMap<String, PhishingFinding>,
    /// Look-alike names not tracked because [`MAX_TRACKED_NAMES`] was reached.
    pub dropped: u64,
    /// Names refused by the normaliser (too long, invalid punycode...).
    pub refused: u64,
}

impl std::fmt::Debug for PhishingObserver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhishingObserver")
            .field("tracked", &self.seen.len())
            .finish_non_exhaustive()
    }
}

impl<'i> PhishingObserver<'i> {
    /// An observer over `index`.
    pub fn new(index: &'i Index) -> Self {
        PhishingObserver {
            detector: Detector::new(index),
            seen: HashMap::new(),
            dropped: 0,
            refused: 0,
        }
    }

    /// Check one name seen at `ts` (also used for names read from plain lists).
    pub fn see(&mut self, name: &str, ts: Option<Micros>) {
        if let Some(f) = self.seen.get_mut(name) {
            f.count += 1;
            if let Some(t) = ts {
                f.first_seen = Some(f.first_seen.map_or(t, |x| x.min(t)));
                f.last_seen = Some(f.last_seen.map_or(t, |x| x.max(t)));
            }
            return;
        }
        match self.detector.check(name) {
            Ok(Some(finding)) => {
                if self.seen.len() >= MAX_TRACKED_NAMES {
                    self.dropped += 1;
                    return;
                }
                self.seen.insert(
                    name.to_string(),
                    PhishingFinding {
                        finding,
                        first_seen: ts,
                        last_seen: ts,
                        count: 1,
                    },
                );
            }
            Ok(None) => {}
            Err(_) => self.refused += 1,
        }
    }

    /// The findings so far (best score first, then by name), and a fresh window.
    pub fn take(&mut self) -> Vec<PhishingFinding> {
        let mut out: Vec<PhishingFinding> = self.seen.drain().map(|(_, f)| f).collect();
        // Names differing only in case or a trailing dot normalise alike: keep one.
        out.sort_by(|a, b| a.finding.domain.cmp(&b.finding.domain));
        out.dedup_by(|a, b| {
            if a.finding.domain == b.finding.domain {
                b.count += a.count;
                b.first_seen = min_opt(a.first_seen, b.first_seen);
                b.last_seen = match (a.last_seen, b.last_seen) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
                true
            } else {
                false
            }
        });
        out.sort_by(|a, b| {
            b.finding
                .score
                .total_cmp(&a.finding.score)
                .then_with(|| a.finding.domain.cmp(&b.finding.domain))
        });
        out
    }
}

fn min_opt(a: Option<Micros>, b: Option<Micros>) -> Option<Micros> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The host name a record names: DNS query, HTTP host (without port), TLS server name.
pub fn record_name<'r>(record: &'r Record<'_>) -> Option<&'r str> {
    match record {
        Record::Dns(d) => d.query.as_deref(),
        Record::Http(h) => h.host.as_deref().map(strip_port),
        Record::Ssl(s) => s.server_name.as_deref(),
        _ => None,
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

impl Observer for PhishingObserver<'_> {
    fn name(&self) -> &'static str {
        "phishing"
    }

    fn observe(&mut self, record: &Record<'_>) {
        if let Some(name) = record_name(record) {
            self.see(name, Some(record.ts()));
        }
    }

    fn finish(&mut self, _window: &Window) -> Vec<Box<dyn accord_detect::Finding>> {
        self.take()
            .into_iter()
            .map(|f| Box::new(f) as Box<dyn accord_detect::Finding>)
            .collect()
    }
}

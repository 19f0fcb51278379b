//! Exports that enforcement tools load: plain blocklists, the Zeek Intelligence
//! Framework's file, CSV — converted from what the door released (see
//! `docs/exports.md` for each format's mapping and limits).
//!
//! Only what a tool can enforce as it is becomes an entry: an address, a network, a
//! domain, a URL, a file hash — from an SCO, or from an indicator whose STIX pattern
//! is a simple comparison (`[ipv4-addr:value = '…']`, `IN (…)`, `file:hashes.'SHA-256'
//! = '…'`) or an `OR` of such comparisons. Anything else is left out with its reason
//! ([`LeftOut`]): a pattern with `AND`, `FOLLOWEDBY`, qualifiers, `NOT`, `LIKE`, another
//! property; a revoked indicator; an expired one (`valid_until` passed); an object
//! type that names no entry. Each object is converted from its latest released version
//! only, so that a revocation or an expiry in a later version is honoured.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;

use sha2::{Digest as _, Sha256};

use accord_patterns::ast::{CompOp, ComparisonExpr, Literal, ObservationExpr, Operand, PathStep};

/// The formats of `accord export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A STIX 2.1 bundle (no conversion).
    Stix,
    /// One IP address per line.
    BlocklistIp,
    /// One network per line in CIDR notation (an address as /32 or /128).
    BlocklistCidr,
    /// One domain name per line.
    BlocklistDomain,
    /// One URL per line.
    BlocklistUrl,
    /// A Zeek Intelligence Framework file.
    ZeekIntel,
    /// CSV with a header: `indicator,type,source,description`.
    Csv,
    /// Suricata rules: addresses and networks (`alert ip`), domains (`dns.query`),
    /// `http://` URLs (`http.host` + `http.uri`).
    Suricata,
    /// A Suricata dataset of domains (`type string`: one base64 line each), matched
    /// against `dns.query` by the rule [`Format::dataset_rule`] gives.
    SuricataDatasetDomain,
    /// A Suricata dataset of addresses (`type ip`: one address a line), matched
    /// against `ip.dst` (Suricata 7+); networks have no place in a dataset.
    SuricataDatasetIp,
    /// MISP events (JSON, as PyMISP reads them), the inverse of misp-stix's mapping
    /// (`accord_misp::from_stix`).
    Misp,
}

impl Format {
    /// Every format with its name on the command line.
    pub const ALL: [(&'static str, Format); 11] = [
        ("stix", Format::Stix),
        ("blocklist-ip", Format::BlocklistIp),
        ("blocklist-cidr", Format::BlocklistCidr),
        ("blocklist-domain", Format::BlocklistDomain),
        ("blocklist-url", Format::BlocklistUrl),
        ("zeek-intel", Format::ZeekIntel),
        ("csv", Format::Csv),
        ("suricata", Format::Suricata),
        ("suricata-dataset-domain", Format::SuricataDatasetDomain),
        ("suricata-dataset-ip", Format::SuricataDatasetIp),
        ("misp", Format::Misp),
    ];

    /// The format named `name`, or the error listing the known names.
    pub fn parse(name: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown export format '{name}'; known formats: {}",
                    names.join(", ")
                )
            })
    }

    /// For a dataset format, the Suricata rule that loads the dataset file `file`
    /// (named by the file's stem) and alerts on a match: what the user adds to a rules
    /// file beside it (a relative `load` is relative to the rules file).
    pub fn dataset_rule(self, file: &str) -> Option<String> {
        let name: String = std::path::Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let load = rule_text(
            &std::path::Path::new(file)
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let (proto, buffer, ty, what) = match self {
            Format::SuricataDatasetDomain => ("dns", "dns.query", "string", "domain"),
            Format::SuricataDatasetIp => ("ip", "ip.dst", "ip", "address"),
            _ => return None,
        };
        let digest = Sha256::digest(format!("dataset|{name}|{what}").as_bytes());
        let sid =
            SID_BASE + u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % SID_SPAN;
        Some(format!(
            "alert {proto} any any -> any any (msg:\"Accord {what} in dataset {name}\"; {buffer}; dataset:isset,{name},type {ty},load {load}; sid:{sid}; rev:1;)"
        ))
    }

    /// Whether the format feeds a blocking or alerting device (blocklists, Zeek intel,
    /// Suricata rules and datasets): those apply the decay model by default
    /// ([`DEFAULT_MIN_SCORE`]) so that stale addresses stop being pushed; CSV, MISP
    /// and STIX carry everything for analysts and tools that keep their own scores.
    pub fn blocks(self) -> bool {
        !matches!(self, Format::Stix | Format::Csv | Format::Misp)
    }

    /// Whether `entry` has a line in this format.
    fn takes(self, entry: &Entry) -> bool {
        let kind = entry.kind;
        match self {
            // What travels over TLS is not seen: only plain http URLs.
            Format::Suricata => match kind {
                Kind::Url => entry.value.starts_with("http://"),
                Kind::FileHash | Kind::Email => false,
                _ => true,
            },
            Format::Stix | Format::Misp => false,
            Format::BlocklistIp | Format::SuricataDatasetIp => kind == Kind::Address,
            Format::SuricataDatasetDomain => kind == Kind::Domain,
            Format::BlocklistCidr => matches!(kind, Kind::Address | Kind::Network),
            Format::BlocklistDomain => kind == Kind::Domain,
            Format::BlocklistUrl => kind == Kind::Url,
            Format::ZeekIntel | Format::Csv => true,
        }
    }
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// One IPv4 or IPv6 address.
    Address,
    /// A network (CIDR).
    Network,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// A file hash.
    FileHash,
    /// An email address (correlation only: no export format takes one).
    Email,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 6] = [
        Kind::Address,
        Kind::Network,
        Kind::Domain,
        Kind::Url,
        Kind::FileHash,
        Kind::Email,
    ];

    /// The kind's name in CSV and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Address => "ip",
            Kind::Network => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::FileHash => "file-hash",
            Kind::Email => "email",
        }
    }

    fn zeek(self) -> &'static str {
        match self {
            Kind::Address => "Intel::ADDR",
            Kind::Network => "Intel::SUBNET",
            Kind::Domain => "Intel::DOMAIN",
            Kind::Url => "Intel::URL",
            Kind::FileHash => "Intel::FILE_HASH",
            Kind::Email => "Intel::EMAIL",
        }
    }
}

/// One enforceable value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The value, normalised (addresses canonical, domains lower case).
    pub value: String,
    /// What it is.
    pub kind: Kind,
    /// The id of the object it came from.
    pub source: String,
    /// The object's `name` (or empty).
    pub description: String,
}

/// Why an object, or a part of it, gave no entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeftOut {
    /// `revoked: true`.
    Revoked,
    /// `valid_until` is in the past.
    Expired,
    /// Not an indicator nor an SCO with a value a tool blocks.
    NotConvertible,
    /// `pattern_type` is not `stix`.
    NotStixPattern,
    /// The pattern does not parse.
    PatternInvalid,
    /// The pattern is more than an OR of simple equality comparisons.
    PatternNotSimple,
    /// A compared value is not a valid address, network, domain or URL.
    InvalidValue,
    /// The object converted, but to no entry this format has lines for.
    OtherFormat,
    /// Every value is on a warninglist (known-benign).
    Warninglisted,
    /// Every value's decayed score is below the threshold.
    Decayed,
}

impl LeftOut {
    /// A stable kebab-case code.
    pub fn code(self) -> &'static str {
        match self {
            LeftOut::Revoked => "revoked",
            LeftOut::Expired => "expired",
            LeftOut::NotConvertible => "not-convertible-type",
            LeftOut::NotStixPattern => "pattern-type-not-stix",
            LeftOut::PatternInvalid => "pattern-invalid",
            LeftOut::PatternNotSimple => "pattern-not-simple",
            LeftOut::InvalidValue => "invalid-value",
            LeftOut::OtherFormat => "no-entry-for-this-format",
            LeftOut::Warninglisted => "warninglisted",
            LeftOut::Decayed => "score-decayed",
        }
    }
}

/// Converts released objects to entries of one format, counting what is left out.
#[derive(Debug)]
pub struct Converter {
    format: Format,
    now_micros: i64,
    entries: BTreeSet<Entry>,
    left_out: BTreeMap<LeftOut, u64>,
    /// Each object left out, with its reason and detail (for `--verbose`).
    pub details: Vec<(String, LeftOut, String)>,
    converted: u64,
    /// Values of converted objects this format has no line for, by kind.
    skipped: BTreeMap<&'static str, u64>,
    /// With [`Format::Misp`]: the released objects, converted at [`Converter::finish`].
    misp: accord_misp::from_stix::Exporter,
    /// With [`Format::Misp`]: the events' text, once finished.
    misp_text: String,
    /// Known-benign values are left out (unless `None`).
    warninglists: Option<accord_detect::Warninglists>,
    /// Values of indicators whose decayed score is below the threshold are left out.
    decay: Option<(DecayModels, f64)>,
    /// Values left out because listed, by list name.
    warninglisted: BTreeMap<String, u64>,
    /// Values left out because their score decayed below the threshold.
    decayed: u64,
    /// With decay: the latest time each sighted object was seen (microseconds), over
    /// the sightings this export itself released.
    sighted: HashMap<String, i64>,
    /// With decay: indicators whose values wait for [`Converter::finish`], when every
    /// sighting of them has been read.
    pending: Vec<Pending>,
}

/// An indicator whose decay is decided once every released sighting is known.
#[derive(Debug)]
struct Pending {
    id: String,
    /// Its latest statement (`modified`, else `created`), microseconds.
    stated: i64,
    /// Its `confidence`, if stated.
    confidence: Option<f64>,
    entries: Vec<Entry>,
}

/// When a sighting says its object was last seen: `last_seen`, else `first_seen`,
/// else `created` (microseconds).
fn sighting_time(o: &serde_json::Value) -> Option<i64> {
    ["last_seen", "first_seen", "created"]
        .iter()
        .find_map(|k| o[*k].as_str())
        .and_then(|t| accord_stix::Timestamp::parse(t).ok())
        .map(|t| t.as_micros())
}

/// MISP's polynomial decay model for one kind of value (the reference:
/// <https://github.com/MISP/misp-decaying-models>, arXiv:1902.03914):
/// `score(t) = base * (1 - (t / lifetime)^(1 / decay_speed))` for `t` below the
/// lifetime, 0 after it, `t` the time since the indicator was last stated (`modified`,
/// else `created`) or last sighted (the latest `last_seen`, else `first_seen`, else
/// `created`, of the sightings of it the same export releases: as MISP restarts decay
/// at each sighting) and `base` its `confidence` when it states one, else
/// [`DecayModel::base_score`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecayModel {
    /// Score of a fresh indicator that states no `confidence` (0-100).
    pub base_score: f64,
    /// Days after which the score is 0.
    pub lifetime_days: f64,
    /// The polynomial's speed (1: linear; above 1: fast at first, then slow).
    pub decay_speed: f64,
}

impl DecayModel {
    /// The decayed score of an indicator of base score `base` at age `age_days`.
    pub fn score(&self, base: f64, age_days: f64) -> f64 {
        let t = age_days.max(0.0);
        if t >= self.lifetime_days || self.lifetime_days <= 0.0 {
            return 0.0;
        }
        base * (1.0 - (t / self.lifetime_days).powf(1.0 / self.decay_speed))
    }
}

/// The default threshold of `--min-score` in MISP's models (their `threshold`: 30,
/// e.g. `models/nids-simple-model.json` of MISP/misp-decaying-models), applied by
/// default to the formats that block ([`Format::blocks`]).
pub const DEFAULT_MIN_SCORE: f64 = 30.0;

/// One [`DecayModel`] per kind of value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecayModels {
    /// Addresses and networks: base 80, 30 days, speed 2 (C2 addresses on rented
    /// hosts move within weeks).
    pub ip: DecayModel,
    /// Domains and URLs: MISP's NIDS simple model (base 80, 120 days, speed 2).
    pub name: DecayModel,
    /// File hashes: base 80, 365 days, speed 1 (a hash never changes meaning; it only
    /// stops being seen).
    pub file_hash: DecayModel,
}

impl Default for DecayModels {
    fn default() -> Self {
        DecayModels {
            ip: DecayModel {
                base_score: 80.0,
                lifetime_days: 30.0,
                decay_speed: 2.0,
            },
            name: DecayModel {
                base_score: 80.0,
                lifetime_days: 120.0,
                decay_speed: 2.0,
            },
            file_hash: DecayModel {
                base_score: 80.0,
                lifetime_days: 365.0,
                decay_speed: 1.0,
            },
        }
    }
}

impl DecayModels {
    /// The model of `kind`.
    pub fn of(&self, kind: Kind) -> &DecayModel {
        match kind {
            Kind::Address | Kind::Network => &self.ip,
            Kind::Domain | Kind::Url | Kind::Email => &self.name,
            Kind::FileHash => &self.file_hash,
        }
    }
}

impl Converter {
    /// A converter to `format`, deciding expiry at `now_micros`.
    pub fn new(format: Format, now_micros: i64) -> Converter {
        Converter {
            format,
            now_micros,
            entries: BTreeSet::new(),
            left_out: BTreeMap::new(),
            details: Vec::new(),
            converted: 0,
            skipped: BTreeMap::new(),
            misp: accord_misp::from_stix::Exporter::new(),
            misp_text: String::new(),
            warninglists: None,
            decay: None,
            warninglisted: BTreeMap::new(),
            decayed: 0,
            sighted: HashMap::new(),
            pending: Vec::new(),
        }
    }

    /// Ends the conversion: decides the decay of indicators (their sightings may come
    /// after them) and builds MISP events (from all the objects at once: an event is a
    /// report with the objects it refers to). Call before [`Converter::render`].
    pub fn finish(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            self.decide(p);
        }
        if self.format != Format::Misp {
            return;
        }
        let exported = self.misp.render();
        self.converted = exported.attributes as u64;
        for (id, reason) in exported.left_out {
            self.leave(&id, LeftOut::NotConvertible, reason);
        }
        let events = serde_json::Value::Array(exported.events);
        self.misp_text = serde_json::to_string_pretty(&events).unwrap_or_default();
        self.misp_text.push('\n');
    }

    /// Leaves out values on `lists` (known-benign: resolvers, CDNs, cloud ranges, top
    /// domains), counted by list name ([`Converter::warninglisted`]).
    pub fn with_warninglists(mut self, lists: accord_detect::Warninglists) -> Converter {
        self.warninglists = Some(lists);
        self
    }

    /// Leaves out indicators' values whose decayed score ([`DecayModel`]) is below
    /// `min_score` at the converter's instant ([`Converter::decayed`]), decided at
    /// [`Converter::finish`] once the sightings this export releases are known.
    pub fn with_min_score(mut self, models: DecayModels, min_score: f64) -> Converter {
        self.decay = Some((models, min_score));
        self
    }

    /// Values left out as known-benign, by list name.
    pub fn warninglisted(&self) -> &BTreeMap<String, u64> {
        &self.warninglisted
    }

    /// Values left out because their decayed score is below the threshold.
    pub fn decayed(&self) -> u64 {
        self.decayed
    }

    /// Drops entries that are known-benign; `Some(reason)` when nothing is left of a
    /// non-empty list. (Decay is decided at [`Converter::finish`].)
    fn filter(&mut self, entries: &mut Vec<Entry>) -> Option<LeftOut> {
        let before = entries.len();
        let mut last = None;
        if let Some(lists) = &self.warninglists {
            let mut kept = Vec::with_capacity(entries.len());
            for e in entries.drain(..) {
                let listed =
                    crate::correlate::listed(lists, e.kind.name(), &e.value).or_else(|| {
                        match e.kind {
                            Kind::Network => e
                                .value
                                .split('/')
                                .next()
                                .and_then(|a| a.parse().ok())
                                .and_then(|a| lists.addr_listed(a))
                                .map(str::to_string),
                            _ => None,
                        }
                    });
                match listed {
                    Some(list) => {
                        *self.warninglisted.entry(list).or_default() += 1;
                        last = Some(LeftOut::Warninglisted);
                    }
                    None => kept.push(e),
                }
            }
            *entries = kept;
        }
        (before > 0 && entries.is_empty()).then_some(last).flatten()
    }

    /// Adds one released object (its latest version).
    pub fn add(&mut self, json: &str) {
        let value: serde_json::Value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => return self.leave("?", LeftOut::NotConvertible, e.to_string()),
        };
        let id = value["id"].as_str().unwrap_or("?").to_string();
        if self.decay.is_some() && value["type"].as_str() == Some("sighting") {
            if let (Some(target), Some(seen)) =
                (value["sighting_of_ref"].as_str(), sighting_time(&value))
            {
                let t = self.sighted.entry(target.to_string()).or_insert(seen);
                *t = (*t).max(seen);
            }
        }
        if self.format == Format::Misp {
            if value["revoked"] == serde_json::Value::Bool(true) {
                return self.leave(&id, LeftOut::Revoked, String::new());
            }
            if let Err(e) = self.misp.add(json) {
                self.leave(&id, LeftOut::NotConvertible, e);
            }
            return;
        }
        match self.convert(&value) {
            Ok(mut entries) => {
                if let Some(reason) = self.filter(&mut entries) {
                    return self.leave(&id, reason, String::new());
                }
                if self.decay.is_some() && value["type"].as_str() == Some("indicator") {
                    let stamp = value["modified"]
                        .as_str()
                        .or(value["created"].as_str())
                        .unwrap_or("");
                    self.pending.push(Pending {
                        id,
                        stated: accord_stix::Timestamp::parse(stamp)
                            .map(|t| t.as_micros())
                            .unwrap_or(i64::MIN),
                        confidence: value["confidence"].as_f64(),
                        entries,
                    });
                    return;
                }
                self.accept(&id, entries);
            }
            Err((reason, detail)) => self.leave(&id, reason, detail),
        }
    }

    /// Keeps an object's entries that this format has a line for.
    fn accept(&mut self, id: &str, entries: Vec<Entry>) {
        let (taken, skipped): (Vec<Entry>, Vec<Entry>) =
            entries.into_iter().partition(|e| self.format.takes(e));
        if !taken.is_empty() {
            self.converted += 1;
            for entry in &skipped {
                *self.skipped.entry(entry.kind.name()).or_default() += 1;
            }
            self.entries.extend(taken);
        } else {
            self.leave(id, LeftOut::OtherFormat, String::new());
        }
    }

    /// Applies the decay model to a pending indicator: its age runs from its latest
    /// statement or its latest released sighting, whichever is later.
    fn decide(&mut self, mut p: Pending) {
        let Some((models, min)) = self.decay else {
            return self.accept(&p.id, p.entries);
        };
        let since = self
            .sighted
            .get(&p.id)
            .map_or(p.stated, |&seen| seen.max(p.stated));
        let age_days = self.now_micros.saturating_sub(since) as f64 / 86_400_000_000.0;
        let before = p.entries.len();
        p.entries.retain(|e| {
            let model = models.of(e.kind);
            model.score(p.confidence.unwrap_or(model.base_score), age_days) >= min
        });
        self.decayed += (before - p.entries.len()) as u64;
        if p.entries.is_empty() {
            return self.leave(&p.id, LeftOut::Decayed, String::new());
        }
        self.accept(&p.id, p.entries);
    }

    fn leave(&mut self, id: &str, reason: LeftOut, detail: String) {
        *self.left_out.entry(reason).or_default() += 1;
        self.details.push((id.to_string(), reason, detail));
    }

    fn convert(&self, o: &serde_json::Value) -> Result<Vec<Entry>, (LeftOut, String)> {
        let kind = o["type"].as_str().unwrap_or_default();
        let id = o["id"].as_str().unwrap_or_default().to_string();
        let description = o["name"].as_str().unwrap_or_default().to_string();
        let entry = |kind, value| Entry {
            value,
            kind,
            source: id.clone(),
            description: description.clone(),
        };
        if o["revoked"] == serde_json::Value::Bool(true) {
            return Err((LeftOut::Revoked, String::new()));
        }
        match kind {
            "indicator" => {
                if let Some(until) = o["valid_until"].as_str() {
                    let until = accord_stix::Timestamp::parse(until)
                        .map_err(|e| (LeftOut::InvalidValue, e.to_string()))?;
                    if until.as_micros() <= self.now_micros {
                        return Err((LeftOut::Expired, until.as_str().to_string()));
                    }
                }
                if o["pattern_type"].as_str() != Some("stix") {
                    return Err((LeftOut::NotStixPattern, o["pattern_type"].to_string()));
                }
                let pattern = o["pattern"].as_str().unwrap_or_default();
                let parsed = accord_patterns::parse(pattern)
                    .map_err(|e| (LeftOut::PatternInvalid, e.to_string()))?;
                let mut values = Vec::new();
                simple(&parsed.expr, &mut values).map_err(|d| (LeftOut::PatternNotSimple, d))?;
                values
                    .into_iter()
                    .map(|(object_type, property, value)| {
                        let kind = classify(&object_type, &property, &value)
                            .ok_or_else(|| (LeftOut::InvalidValue, value.clone()))?;
                        Ok(entry(kind.0, kind.1))
                    })
                    .collect()
            }
            "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" => {
                let value = o["value"].as_str().unwrap_or_default();
                let (kind, value) = classify(kind, "value", value)
                    .ok_or_else(|| (LeftOut::InvalidValue, value.to_string()))?;
                Ok(vec![entry(kind, value)])
            }
            "file" => {
                let hashes = o["hashes"].as_object().cloned().unwrap_or_default();
                let entries: Vec<Entry> = hashes
                    .iter()
                    .filter_map(|(_, v)| v.as_str())
                    .filter_map(|v| classify("file", "hashes", v))
                    .map(|(k, v)| entry(k, v))
                    .collect();
                if entries.is_empty() {
                    return Err((LeftOut::NotConvertible, "a file without hashes".into()));
                }
                Ok(entries)
            }
            other => Err((LeftOut::NotConvertible, other.to_string())),
        }
    }

    /// What was left out, by reason.
    pub fn left_out(&self) -> &BTreeMap<LeftOut, u64> {
        &self.left_out
    }

    /// Values of converted objects that this format has no line for (the hash of an
    /// indicator that also names an address, in `blocklist-ip`), by kind name.
    pub fn skipped_values(&self) -> &BTreeMap<&'static str, u64> {
        &self.skipped
    }

    /// Objects that gave at least one entry.
    pub fn converted(&self) -> u64 {
        self.converted
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        match self.format {
            Format::Stix => {}
            Format::Misp => out.push_str(&self.misp_text),
            Format::BlocklistIp
            | Format::BlocklistCidr
            | Format::BlocklistDomain
            | Format::BlocklistUrl => {
                let values: BTreeSet<String> = self
                    .entries
                    .iter()
                    .map(|e| match (self.format, e.kind) {
                        (Format::BlocklistCidr, Kind::Address) => with_prefix(&e.value),
                        _ => e.value.clone(),
                    })
                    .collect();
                for v in values {
                    out.push_str(&v);
                    out.push('\n');
                }
            }
            Format::ZeekIntel => {
                out.push_str("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n");
                for e in &self.entries {
                    let value = match e.kind {
                        Kind::Url => strip_scheme(&e.value),
                        _ => e.value.as_str(),
                    };
                    let desc = if e.description.is_empty() {
                        "-".to_string()
                    } else {
                        zeek_field(&e.description)
                    };
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{desc}",
                        zeek_field(value),
                        e.kind.zeek(),
                        e.source
                    );
                }
            }
            Format::Suricata => suricata(&self.entries, &mut out),
            Format::SuricataDatasetDomain | Format::SuricataDatasetIp => {
                use base64::Engine as _;
                let values: BTreeSet<String> = self
                    .entries
                    .iter()
                    .map(|e| match self.format {
                        Format::SuricataDatasetDomain => {
                            base64::engine::general_purpose::STANDARD.encode(&e.value)
                        }
                        _ => e.value.clone(),
                    })
                    .collect();
                for v in values {
                    out.push_str(&v);
                    out.push('\n');
                }
            }
            Format::Csv => {
                out.push_str("indicator,type,source,description\r\n");
                for e in &self.entries {
                    let _ = write!(
                        out,
                        "{},{},{},{}\r\n",
                        csv_field(&e.value),
                        e.kind.name(),
                        csv_field(&e.source),
                        csv_field(&e.description)
                    );
                }
            }
        }
        out
    }
}

/// First sid of Accord's rules; sids are `SID_BASE + (SHA-256(key) mod SID_SPAN)`.
pub const SID_BASE: u32 = 1_000_000_000;

/// How many sids Accord's rules spread over (a collision moves to the next free one).
pub const SID_SPAN: u32 = 1_000_000_000;

/// Suricata rules for `entries`: one `alert ip` rule per source object for its
/// addresses and networks, one `dns.query` rule per domain and one `http` rule per URL
/// (exact matches: `bsize` and `content`; the URL's path and query against
/// `http.uri.raw`, the URI as sent, since the normalised `http.uri` may differ from the
/// text of the URL). The sid is derived from the source id and
/// the matched value, so the same indicator keeps its sid across exports.
fn suricata(entries: &BTreeSet<Entry>, out: &mut String) {
    // (sid key, rule body without sid) in a deterministic order.
    let mut rules: BTreeMap<String, String> = BTreeMap::new();
    let mut addresses: BTreeMap<&str, (Vec<String>, &str)> = BTreeMap::new();
    for e in entries {
        let msg = |what: &str| {
            let about = if e.description.is_empty() {
                e.source.as_str()
            } else {
                e.description.as_str()
            };
            rule_text(&format!("Accord {what} {}", about))
        };
        match e.kind {
            Kind::Address | Kind::Network => {
                let slot = addresses
                    .entry(e.source.as_str())
                    .or_insert_with(|| (Vec::new(), e.description.as_str()));
                slot.0.push(e.value.clone());
            }
            Kind::Domain => {
                rules.insert(
                    format!("{}|dns|{}", e.source, e.value),
                    format!(
                        "alert dns any any -> any any (msg:\"{}\"; dns.query; bsize:{}; content:\"{}\"; nocase; metadata:stix_id {};",
                        msg("domain"),
                        e.value.len(),
                        content(&e.value),
                        e.source
                    ),
                );
            }
            Kind::Url => {
                let Some((host, uri)) = http_parts(&e.value) else {
                    continue;
                };
                rules.insert(
                    format!("{}|http|{}", e.source, e.value),
                    format!(
                        "alert http any any -> any any (msg:\"{}\"; http.host; bsize:{}; content:\"{}\"; http.uri.raw; bsize:{}; content:\"{}\"; metadata:stix_id {};",
                        msg("url"),
                        host.len(),
                        content(&host),
                        uri.len(),
                        content(&uri),
                        e.source
                    ),
                );
            }
            Kind::FileHash | Kind::Email => {}
        }
    }
    for (source, (list, description)) in addresses {
        let about = if description.is_empty() {
            source
        } else {
            description
        };
        rules.insert(
            format!("{source}|ip"),
            format!(
                "alert ip any any -> [{}] any (msg:\"{}\"; metadata:stix_id {source};",
                list.join(","),
                rule_text(&format!("Accord address {about}"))
            ),
        );
    }
    let mut used = BTreeSet::new();
    for (key, body) in rules {
        let digest = Sha256::digest(key.as_bytes());
        let mut n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % SID_SPAN;
        while !used.insert(n) {
            n = (n + 1) % SID_SPAN;
        }
        let _ = writeln!(out, "{body} sid:{}; rev:1;)", SID_BASE + n);
    }
}

/// Host (lower case, without port or credentials) and URI (path and query, at least
/// `/`, without fragment) of an `http://` URL.
fn http_parts(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let (authority, uri) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    if host.is_empty() {
        return None;
    }
    let uri = if uri.starts_with('?') {
        format!("/{uri}")
    } else {
        uri.to_string()
    };
    Some((host.to_ascii_lowercase(), uri))
}

/// Text for `msg`: no control characters; `"`, `;` and `\` escaped.
fn rule_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | ';' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A `content` string: bytes Suricata treats specially (`"`, `;`, `\\`, `|`), and any
/// outside printable ASCII, as hex (`|22 7C|`, a run in one block).
fn content(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_hex = false;
    for b in s.bytes() {
        let plain = (b.is_ascii_graphic() || b == b' ') && !matches!(b, b'"' | b';' | b'\\' | b'|');
        match (plain, in_hex) {
            (true, true) => {
                out.push('|');
                out.push(char::from(b));
                in_hex = false;
            }
            (true, false) => out.push(char::from(b)),
            (false, true) => {
                let _ = write!(out, " {b:02X}");
            }
            (false, false) => {
                let _ = write!(out, "|{b:02X}");
                in_hex = true;
            }
        }
    }
    if in_hex {
        out.push('|');
    }
    out
}

/// Collects `(object type, first property, value)` of an OR of simple comparisons.
fn simple(expr: &ObservationExpr, out: &mut Vec<(String, String, String)>) -> Result<(), String> {
    match expr {
        ObservationExpr::Observation { comparison, .. } => comparisons(comparison, out),
        ObservationExpr::Or(items) => items.iter().try_for_each(|e| simple(e, out)),
        ObservationExpr::Group { expr, .. } => simple(expr, out),
        ObservationExpr::And(_) => Err("AND of observations".into()),
        ObservationExpr::FollowedBy(_) => Err("FOLLOWEDBY".into()),
        ObservationExpr::Qualified { .. } => Err("a qualifier (WITHIN, REPEATS, START)".into()),
    }
}

fn comparisons(
    expr: &ComparisonExpr,
    out: &mut Vec<(String, String, String)>,
) -> Result<(), String> {
    let c = match expr {
        ComparisonExpr::Or(items) => return items.iter().try_for_each(|e| comparisons(e, out)),
        ComparisonExpr::And(_) => return Err("AND of comparisons".into()),
        ComparisonExpr::Comparison(c) => c,
    };
    if c.negated {
        return Err("NOT".into());
    }
    let path = &c.path;
    let property = match (path.object_type.as_str(), path.steps.as_slice()) {
        ("ipv4-addr" | "ipv6-addr" | "domain-name" | "url", [PathStep::Key(p)]) if p == "value" => {
            "value"
        }
        ("file", [PathStep::Key(h), PathStep::Key(_)]) if h == "hashes" => "hashes",
        _ => {
            let steps: Vec<String> = path
                .steps
                .iter()
                .map(|s| match s {
                    PathStep::Key(k) => k.clone(),
                    PathStep::Index(i) => format!("[{i}]"),
                    PathStep::AnyIndex => "[*]".into(),
                })
                .collect();
            return Err(format!("{}:{}", path.object_type, steps.join(".")));
        }
    };
    let literals: Vec<&Literal> = match (&c.op, &c.operand) {
        (CompOp::Eq, Operand::Literal(l)) => vec![l],
        (CompOp::In, Operand::Set(set)) => set.iter().collect(),
        (op, _) => return Err(format!("operator {op:?}")),
    };
    for literal in literals {
        let Literal::String(value) = literal else {
            return Err("a value that is not a string".into());
        };
        out.push((
            path.object_type.clone(),
            property.to_string(),
            value.clone(),
        ));
    }
    Ok(())
}

/// The entry kind and normalised value of `value` compared with `object_type:property`.
pub(crate) fn classify(object_type: &str, property: &str, value: &str) -> Option<(Kind, String)> {
    match (object_type, property) {
        ("ipv4-addr" | "ipv6-addr", "value") => {
            let v4 = object_type == "ipv4-addr";
            match value.split_once('/') {
                None => {
                    let ip: IpAddr = value.parse().ok()?;
                    (ip.is_ipv4() == v4).then(|| (Kind::Address, ip.to_string()))
                }
                Some((addr, prefix)) => {
                    let ip: IpAddr = addr.parse().ok()?;
                    let prefix: u8 = prefix.parse().ok()?;
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    if ip.is_ipv4() != v4 || prefix > max {
                        return None;
                    }
                    if prefix == max {
                        return Some((Kind::Address, ip.to_string()));
                    }
                    Some((Kind::Network, format!("{}/{prefix}", network(ip, prefix))))
                }
            }
        }
        ("domain-name", "value") => {
            let d = value.trim_end_matches('.').to_ascii_lowercase();
            let ok = !d.is_empty()
                && d.len() <= 253
                && d.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                });
            ok.then_some((Kind::Domain, d))
        }
        ("url", "value") => {
            let ok = value.contains("://")
                && !value
                    .bytes()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
            ok.then(|| (Kind::Url, value.to_string()))
        }
        ("file", "hashes") => {
            let ok = matches!(value.len(), 32 | 40 | 64 | 128)
                && value.bytes().all(|b| b.is_ascii_hexdigit());
            ok.then(|| (Kind::FileHash, value.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// The network address of `ip/prefix` (host bits cleared).
fn network(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::from((u32::from(a) & mask).to_be_bytes())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::from((u128::from(a) & mask).to_be_bytes())
        }
    }
}

fn with_prefix(address: &str) -> String {
    if address.contains(':') {
        format!("{address}/128")
    } else {
        format!("{address}/32")
    }
}

/// Zeek's Intel::URL is matched without the scheme.
fn strip_scheme(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// A Zeek TSV field: no tab or line break inside.
fn zeek_field(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// An RFC 4180 field: quoted when it holds a comma, a quote or a line break; a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so that a spreadsheet does not run it.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Every value a STIX pattern compares for equality (`=`, `IN`) on an address, domain,
/// URL, file hash or email address, whatever the rest of the pattern (correlation
/// links an indicator to the values it names even when no blocklist could hold it).
pub(crate) fn pattern_values(expr: &ObservationExpr, out: &mut Vec<(Kind, String)>) {
    match expr {
        ObservationExpr::Observation { comparison, .. } => comparison_values(comparison, out),
        ObservationExpr::Or(items)
        | ObservationExpr::And(items)
        | ObservationExpr::FollowedBy(items) => items.iter().for_each(|e| pattern_values(e, out)),
        ObservationExpr::Group { expr, .. } => pattern_values(expr, out),
        ObservationExpr::Qualified { expr, .. } => pattern_values(expr, out),
    }
}

fn comparison_values(expr: &ComparisonExpr, out: &mut Vec<(Kind, String)>) {
    let c = match expr {
        ComparisonExpr::Or(items) | ComparisonExpr::And(items) => {
            return items.iter().for_each(|e| comparison_values(e, out))
        }
        ComparisonExpr::Comparison(c) => c,
    };
    if c.negated {
        return;
    }
    let path = &c.path;
    let property = match (path.object_type.as_str(), path.steps.as_slice()) {
        ("ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr", [PathStep::Key(p)])
            if p == "value" =>
        {
            "value"
        }
        ("file", [PathStep::Key(h), PathStep::Key(_)]) if h == "hashes" => "hashes",
        _ => return,
    };
    let literals: Vec<&Literal> = match (&c.op, &c.operand) {
        (CompOp::Eq, Operand::Literal(l)) => vec![l],
        (CompOp::In, Operand::Set(set)) => set.iter().collect(),
        _ => return,
    };
    for literal in literals {
        if let Literal::String(value) = literal {
            if path.object_type == "email-addr" {
                if value.contains('@') {
                    out.push((Kind::Email, value.to_ascii_lowercase()));
                }
            } else if let Some(kv) = classify(&path.object_type, property, value) {
                out.push(kv);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_contents_and_http_parts() {
        assert_eq!(content("/a;b\"|c d"), "/a|3B|b|22 7C|c d");
        assert_eq!(content("é"), "|C3 A9|");
        assert_eq!(
            http_parts("http://u:p@Evil.Example:8080/x?y#frag"),
            Some(("evil.example".to_string(), "/x?y".to_string()))
        );
        assert_eq!(
            http_parts("http://h?q"),
            Some(("h".to_string(), "/?q".to_string()))
        );
        assert_eq!(http_parts("https://h/"), None);
    }

    #[test]
    fn only_simple_patterns_become_entries() {
        let mut c = Converter::new(Format::Csv, 0);
        let ind = |p: &str| {
            format!(
                r#"{{"type":"indicator","id":"indicator--1","pattern":"{p}","pattern_type":"stix"}}"#
            )
        };
        c.add(&ind(
            "[ipv4-addr:value = '10.1.2.3/8'] OR [domain-name:value IN ('A.example', 'b.example')]",
        ));
        c.add(&ind(
            "[ipv4-addr:value = '10.0.0.1' AND domain-name:value = 'x.example']",
        ));
        c.add(&ind("[url:value LIKE 'http://%']"));
        c.add(&ind("[network-traffic:dst_port = 443]"));
        assert_eq!(
            c.render(),
            "indicator,type,source,description\r\n10.0.0.0/8,cidr,indicator--1,\r\na.example,domain,indicator--1,\r\nb.example,domain,indicator--1,\r\n"
        );
        assert_eq!(c.left_out().get(&LeftOut::PatternNotSimple), Some(&3));
    }

    #[test]
    fn suricata_datasets_hold_exact_values_and_come_with_their_rule() {
        let ind = r#"{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '203.0.113.5'] OR [ipv6-addr:value = '2001:db8::/32'] OR [domain-name:value = 'Bad.Example']","pattern_type":"stix"}"#;
        let mut d = Converter::new(Format::SuricataDatasetDomain, 0);
        d.add(ind);
        assert_eq!(d.render(), "YmFkLmV4YW1wbGU=\n", "base64 of bad.example");
        let mut i = Converter::new(Format::SuricataDatasetIp, 0);
        i.add(ind);
        assert_eq!(i.render(), "203.0.113.5\n", "a network is no dataset value");
        assert_eq!(i.skipped_values().get("cidr"), Some(&1));
        let rule = Format::SuricataDatasetDomain
            .dataset_rule("/tmp/out/bad domains.lst")
            .unwrap_or_default();
        assert!(
            rule.starts_with("alert dns any any -> any any (msg:\"Accord domain in dataset bad-domains\"; dns.query; dataset:isset,bad-domains,type string,load bad domains.lst; sid:"),
            "{rule}"
        );
        assert_eq!(Format::Csv.dataset_rule("x.lst"), None);
    }

    /// MISP restarts decay at each sighting: a C2 address stated 40 days ago (IP
    /// model: 0 after 30 days) but sighted yesterday is still pushed; unsighted, or
    /// sighted only long ago, it is left out. The sighting may come after it.
    #[test]
    fn a_recent_sighting_keeps_a_stale_indicator_in_the_blocklist() {
        let day = 86_400_000_000i64;
        let now = accord_stix::Timestamp::parse("2026-03-31T00:00:00Z")
            .map(|t| t.as_micros())
            .unwrap_or_default();
        let at = |ago: i64| {
            accord_stix::Timestamp::from_micros(now - ago * day)
                .as_str()
                .to_string()
        };
        let ind = |n: u32, ip: &str| {
            format!(
                r#"{{"type":"indicator","id":"indicator--{n}","created":"{c}","modified":"{c}","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix"}}"#,
                c = at(40)
            )
        };
        let sighting = |target: u32, seen: i64| {
            format!(
                r#"{{"type":"sighting","id":"sighting--{target}","created":"{c}","last_seen":"{s}","sighting_of_ref":"indicator--{target}"}}"#,
                c = at(40),
                s = at(seen)
            )
        };
        let mut c = Converter::new(Format::BlocklistIp, now)
            .with_min_score(DecayModels::default(), DEFAULT_MIN_SCORE);
        c.add(&ind(1, "203.0.113.1"));
        c.add(&ind(2, "203.0.113.2"));
        c.add(&ind(3, "203.0.113.3"));
        c.add(&sighting(1, 1));
        c.add(&sighting(3, 35));
        c.finish();
        assert_eq!(c.render(), "203.0.113.1\n");
        assert_eq!(c.decayed(), 2);
        assert_eq!(c.left_out().get(&LeftOut::Decayed), Some(&2));
        // Without the model every value stays.
        let mut all = Converter::new(Format::BlocklistIp, now);
        all.add(&ind(2, "203.0.113.2"));
        all.finish();
        assert_eq!(all.render(), "203.0.113.2\n");
        assert!(Format::BlocklistIp.blocks() && Format::Suricata.blocks());
        assert!(!Format::Csv.blocks() && !Format::Misp.blocks());
    }
}

//! Agreements: the TOML document, its validation, and the validated form the
//! gate applies. The file format is documented field by field in
//! `docs/agreements.md`; `examples/agreements/` holds commented examples.

mod document;
mod error;
mod redact;

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use ipnet::IpNet;
use memchr::memmem;
use sha2::Digest;

pub use error::{AgreementError, Problem};
pub(crate) use redact::Redactor;
pub use redact::{MAX_REDACT_COMPILED_SIZE, MAX_REDACT_PATTERNS, MAX_REDACT_PATTERN_LEN, REDACTED};

use crate::pseudonym::{pseudonym_ranges, PseudonymKey};
use crate::ranges::AddressRanges;
use crate::time::{Span, UtcMicros};
use crate::tlp::Tlp;
use document::Document;

/// Longest agreement id accepted.
pub const MAX_ID_LEN: usize = 64;

/// Properties no agreement may remove, because some STIX 2.1 object type
/// requires them (removing one would make released objects invalid).
pub const REQUIRED_PROPERTIES: &[&str] = &[
    "type",
    "id",
    "spec_version",
    "created",
    "modified",
    "name",
    "pattern",
    "pattern_type",
    "valid_from",
    "relationship_type",
    "source_ref",
    "target_ref",
    "sighting_of_ref",
    "object_refs",
    "first_observed",
    "last_observed",
    "number_observed",
    "content",
    "opinion",
    "published",
    "context",
    "definition_type",
    "definition",
    "value",
    "is_family",
    "product",
    "result",
    "analysis_sco_refs",
    "extension_type",
    "extension_types",
    "schema",
    "version",
    "contents",
    "object_ref",
    "object_modified",
    "key",
    "is_multipart",
    "protocols",
    "number",
    "hashes",
    "url",
    "payload_bin",
    "path",
    "body",
    "body_multipart",
    "user_id",
    "values",
    "src_ref",
    "dst_ref",
];

/// Properties that objects nested in STIX 2.1 objects require (kill chain phases,
/// external references, granular markings): a bare name in `remove_properties`
/// removes the name at any depth, so these are refused too.
pub const REQUIRED_NESTED_PROPERTIES: &[&str] = &[
    "kill_chain_name",
    "phase_name",
    "source_name",
    "marking_ref",
    "selectors",
];

/// The form in which labels are compared (`scope.labels`, `scope.exclude_labels` and
/// an object's `labels`): surrounding white space removed and lowercased with
/// Unicode's default lowercase mapping (`str::to_lowercase`: `INTERNAL-ONLY`,
/// ` Internal-Only ` and `internal-only` are one label; `ÄRGER` is `ärger`). This is
/// lowercasing, not full case folding: `STRASSE` and `straße` stay different.
/// Borrowed when the text is already in that form (the common case: no allocation).
pub fn label_key(label: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = label.trim();
    if trimmed
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        std::borrow::Cow::Borrowed(trimmed)
    } else {
        std::borrow::Cow::Owned(trimmed.to_lowercase())
    }
}

/// An organisation named in an agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    /// The organisation id as configured in Accord (matches object provenance).
    pub id: String,
    /// A human-readable name, for documents and the ledger explanation.
    pub name: Option<String>,
}

/// Which objects an agreement covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// STIX types released; `None` means every type (`types = ["*"]`).
    pub types: Option<BTreeSet<String>>,
    /// Domain objects and relationships must carry at least one of these labels
    /// (empty: no requirement).
    pub labels: Vec<String>,
    /// Objects carrying any of these labels are withheld.
    pub exclude_labels: Vec<String>,
    /// Objects stating a lower `confidence` are withheld.
    pub min_confidence: Option<u8>,
    /// Domain objects and relationships without `confidence` are withheld when set.
    pub require_confidence: bool,
    /// The most restrictive TLP level released.
    pub max_tlp: Tlp,
    /// The level assumed for objects without a TLP marking.
    pub unmarked_tlp: Tlp,
    /// What to do with a marking definition that is neither TLP nor a statement.
    pub unknown_markings: UnknownMarkings,
    /// Objects carrying any of these marking definitions are withheld.
    pub withhold_markings: BTreeSet<String>,
    /// Collections released from; `None` means all.
    pub collections: Option<BTreeSet<String>>,
    /// Countries (ISO 3166-1 alpha-2, uppercase) an object must be located in, by the
    /// hub's enrichment; `None`: no requirement. Fail-closed: an object whose location
    /// is unknown is not in a country scope.
    pub countries: Option<BTreeSet<String>>,
    /// Autonomous systems an object must be located in; `None`: no requirement. With
    /// `countries` too, either matching suffices.
    pub asns: Option<BTreeSet<u32>>,
}

impl Scope {
    /// Whether the scope restricts objects by location (`countries` or `asns`).
    pub fn by_location(&self) -> bool {
        self.countries.is_some() || self.asns.is_some()
    }
}

/// Policy for marking definitions the gate cannot read as TLP or statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownMarkings {
    /// Withhold the object (default: an unknown marking may restrict sharing).
    Withhold,
    /// Ignore the marking.
    Ignore,
}

/// What to do with the provider's customer addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomerAddressPolicy {
    /// Replace them with keyed pseudonyms (default).
    Pseudonymise,
    /// Withhold every object that contains one.
    Drop,
}

/// Where the pseudonym key is kept (never in the agreement file itself, which
/// both parties hold). The edge (CLI, server) reads it; this crate never does I/O.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable holding the key as hex.
    Env(String),
    /// A file holding the key as hex (relative paths are relative to the agreement file).
    File(PathBuf),
}

/// How objects are changed before release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protections {
    /// Property paths removed (`x_telco_subscriber`, `extensions.x-acme-ext.account`).
    pub remove_properties: Vec<String>,
    /// The provider's customer address space.
    pub customer_ranges: AddressRanges,
    /// What happens to customer addresses.
    pub customer_addresses: CustomerAddressPolicy,
    /// Where the pseudonym key is.
    pub pseudonym_key: Option<KeySource>,
    /// Delay after `date_added` before an object version is released.
    pub embargo: Span,
    /// Regular expressions whose matches are replaced by [`REDACTED`] in every
    /// string of a released object (see `docs/agreements.md`).
    pub redact_patterns: Vec<String>,
    /// `k` of the k-anonymous aggregates (trends, correlation counts) the recipient
    /// is given: a cell made from fewer distinct providers is suppressed, and a cell
    /// of sightings seen at fewer distinct victims, so that no aggregate singles out
    /// one provider or one victim (or the customers behind either).
    /// `protections.aggregate_min_providers`, default
    /// [`DEFAULT_AGGREGATE_MIN_PROVIDERS`].
    pub aggregate_min_providers: u32,
}

/// The default `k` of k-anonymous aggregates: a cell shows only when at least three
/// providers contributed to it (with two, each provider could subtract its own part
/// and read the other's).
pub const DEFAULT_AGGREGATE_MIN_PROVIDERS: u32 = 3;

/// The largest `k` an agreement may give (`protections.aggregate_min_providers`).
pub const MAX_AGGREGATE_MIN_PROVIDERS: u32 = 1_000;

/// What the recipient must do with released data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obligations {
    /// Longest the recipient may keep released data, counted from receipt.
    pub retention: Option<Span>,
    /// Whether the recipient may share released data onward.
    pub onward_sharing: bool,
}

/// A validated agreement.
///
/// ```
/// use accord_agreements::{Agreement, Tlp};
/// let text = r#"
/// id = "demo"
/// version = 1
/// provider = { id = "telco" }
/// recipient = { id = "cert" }
/// purpose = "Blocking of botnet C2 servers"
/// legal_basis = "Contract 2026-17"
/// [validity]
/// from = 2026-01-01T00:00:00Z
/// [scope]
/// types = ["indicator"]
/// max_tlp = "GREEN"
/// "#;
/// let agreement = Agreement::from_toml(text).unwrap();
/// assert_eq!(agreement.scope().max_tlp, Tlp::Green);
/// assert!(Agreement::from_toml("id = 1").is_err());
/// ```
#[derive(Clone)]
pub struct Agreement {
    id: String,
    version: u32,
    title: Option<String>,
    provider: Party,
    recipient: Party,
    purpose: String,
    legal_basis: String,
    valid_from: UtcMicros,
    valid_until: Option<UtcMicros>,
    scope: Scope,
    protections: Protections,
    obligations: Obligations,
    key: Option<PseudonymKey>,
    removal_finders: Vec<memmem::Finder<'static>>,
    obligations_marking_id: Option<String>,
    /// `scope.labels` in the form compared ([`label_key`]).
    label_keys: Vec<String>,
    /// `scope.exclude_labels` in the form compared ([`label_key`]).
    exclude_label_keys: Vec<String>,
    /// The compiled `redact_patterns`, if any.
    redactor: Option<Redactor>,
}

impl fmt::Debug for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agreement")
            .field("id", &self.id)
            .field("version", &self.version)
            .field("provider", &self.provider.id)
            .field("recipient", &self.recipient.id)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The identity of an agreement version, as recorded in the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgreementRef {
    /// Agreement id.
    pub id: String,
    /// Agreement version.
    pub version: u32,
}

impl fmt::Display for AgreementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.id, self.version)
    }
}

impl Agreement {
    /// Parses and validates an agreement file. All problems are reported at once,
    /// each naming its field and rule. The pseudonym key is not loaded here
    /// (see [`Agreement::key_source`] and [`Agreement::with_key`]).
    pub fn from_toml(text: &str) -> Result<Agreement, AgreementError> {
        let doc: Document =
            toml::from_str(text).map_err(|e| AgreementError::Syntax(e.to_string()))?;
        let mut problems = Vec::new();
        let agreement = validate(doc, &mut problems);
        match agreement {
            Some(a) if problems.is_empty() => Ok(a),
            _ => Err(AgreementError::Invalid(problems)),
        }
    }

    /// Attaches the pseudonym key (read by the caller from [`Agreement::key_source`]).
    pub fn with_key(mut self, key: PseudonymKey) -> Agreement {
        self.key = Some(key);
        self
    }

    /// Where the pseudonym key is to be read from, if the agreement needs one.
    pub fn key_source(&self) -> Option<&KeySource> {
        self.protections.pseudonym_key.as_ref()
    }

    /// Whether the gate needs a key for this agreement and none is attached yet.
    pub fn needs_key(&self) -> bool {
        self.pseudonymises() && self.key.is_none()
    }

    /// Whether customer addresses are pseudonymised (ranges given, policy pseudonymise).
    pub fn pseudonymises(&self) -> bool {
        !self.protections.customer_ranges.is_empty()
            && self.protections.customer_addresses == CustomerAddressPolicy::Pseudonymise
    }

    pub(crate) fn key(&self) -> Option<&PseudonymKey> {
        self.key.as_ref()
    }

    pub(crate) fn removal_finders(&self) -> &[memmem::Finder<'static>] {
        &self.removal_finders
    }

    pub(crate) fn redactor(&self) -> Option<&Redactor> {
        self.redactor.as_ref()
    }

    /// `scope.labels` as compared ([`label_key`]).
    pub(crate) fn label_keys(&self) -> &[String] {
        &self.label_keys
    }

    /// `scope.exclude_labels` as compared ([`label_key`]).
    pub(crate) fn exclude_label_keys(&self) -> &[String] {
        &self.exclude_label_keys
    }

    /// Agreement id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Agreement version (a new version supersedes older ones once valid).
    pub fn version(&self) -> u32 {
        self.version
    }
    /// Id and version.
    pub fn reference(&self) -> AgreementRef {
        AgreementRef {
            id: self.id.clone(),
            version: self.version,
        }
    }
    /// Optional title.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    /// The organisation whose objects are shared.
    pub fn provider(&self) -> &Party {
        &self.provider
    }
    /// The organisation receiving them.
    pub fn recipient(&self) -> &Party {
        &self.recipient
    }
    /// Purpose (free text, carried into the ledger).
    pub fn purpose(&self) -> &str {
        &self.purpose
    }
    /// Legal basis (free text, carried into the ledger).
    pub fn legal_basis(&self) -> &str {
        &self.legal_basis
    }
    /// Start of validity.
    pub fn valid_from(&self) -> UtcMicros {
        self.valid_from
    }
    /// End of validity (exclusive), if any.
    pub fn valid_until(&self) -> Option<UtcMicros> {
        self.valid_until
    }
    /// Whether `now` lies in the validity period.
    pub fn is_active(&self, now: UtcMicros) -> bool {
        self.valid_from <= now && self.valid_until.is_none_or(|u| now < u)
    }
    /// Scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// Protections.
    pub fn protections(&self) -> &Protections {
        &self.protections
    }
    /// Obligations.
    pub fn obligations(&self) -> &Obligations {
        &self.obligations
    }

    /// Whether released objects carry the obligations marking (retention set or
    /// onward sharing forbidden).
    pub fn has_obligations(&self) -> bool {
        self.obligations_marking_id.is_some()
    }

    /// Id of the statement marking definition that states this agreement
    /// version's obligations: `marking-definition--` + a UUID in version-4 layout
    /// (as STIX recommends for meta objects) whose bits are the first 16 bytes of
    /// SHA-256 over `"accord-obligations/<id>/<version>"`. Stable across restarts,
    /// different for every version.
    pub fn obligations_marking_id(&self) -> Option<&str> {
        self.obligations_marking_id.as_deref()
    }

    /// The statement marking definition (STIX 2.1 JSON) that every object released
    /// under this agreement references, or `None` without obligations. The lead's
    /// egress paths serve it to this agreement's recipient only (the gate releases
    /// it to nobody else).
    pub fn obligations_marking(&self) -> Option<serde_json::Value> {
        let id = self.obligations_marking_id.as_deref()?;
        let mut statement = format!(
            "Released by {} to {} under data exchange agreement {} version {}. Purpose: {} Legal basis: {}",
            party_text(&self.provider),
            party_text(&self.recipient),
            self.id,
            self.version,
            self.purpose.trim(),
            self.legal_basis.trim()
        );
        if let Some(retention) = self.obligations.retention {
            statement.push_str(&format!(
                " Retention: delete within {} of receipt ({} seconds).",
                retention,
                retention.as_secs()
            ));
        }
        statement.push_str(if self.obligations.onward_sharing {
            " Onward sharing: permitted within the agreement's purpose."
        } else {
            " Onward sharing: not permitted."
        });
        Some(serde_json::json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": id,
            "created": self.valid_from.to_stix(),
            "name": format!("Accord agreement {} v{} obligations", self.id, self.version),
            "definition_type": "statement",
            "definition": { "statement": statement },
        }))
    }
}

fn party_text(p: &Party) -> String {
    match &p.name {
        Some(name) => format!("{name} ({})", p.id),
        None => p.id.clone(),
    }
}

fn problem(problems: &mut Vec<Problem>, field: &str, rule: &'static str, message: String) {
    problems.push(Problem {
        field: field.to_owned(),
        rule,
        message,
    });
}

fn valid_name(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && text.as_bytes()[0].is_ascii_alphanumeric()
}

fn valid_stix_type(text: &str) -> bool {
    (3..=250).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn when(value: &toml::Value, field: &str, problems: &mut Vec<Problem>) -> Option<UtcMicros> {
    let text = match value {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let parsed = time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000).ok())
        .map(UtcMicros);
    if parsed.is_none() {
        problem(
            problems,
            field,
            "datetime",
            format!(
                "{value} is not a date-time with a UTC offset (write e.g. 2026-01-01T00:00:00Z)"
            ),
        );
    }
    parsed
}

fn tlp(text: &str, field: &str, problems: &mut Vec<Problem>) -> Option<Tlp> {
    text.parse()
        .map_err(|e: crate::tlp::UnknownTlp| problem(problems, field, "tlp-level", e.to_string()))
        .ok()
}

fn span(text: &str, field: &str, problems: &mut Vec<Problem>) -> Option<Span> {
    let parsed = Span::parse(text);
    if parsed.is_none() {
        problem(
            problems,
            field,
            "duration",
            format!("{text:?} is not a duration (write a whole number and a unit s, m, h, d or w, e.g. \"72h\")"),
        );
    }
    parsed
}

fn validate(doc: Document, problems: &mut Vec<Problem>) -> Option<Agreement> {
    if !valid_name(&doc.id, MAX_ID_LEN) {
        problem(problems, "id", "agreement-id", format!("{:?} must be 1–{MAX_ID_LEN} letters, digits, '.', '_' or '-', starting with a letter or digit", doc.id));
    }
    let version = u32::try_from(doc.version).ok().filter(|v| *v >= 1);
    if version.is_none() {
        problem(
            problems,
            "version",
            "agreement-version",
            format!(
                "{} must be a whole number from 1 to {}",
                doc.version,
                u32::MAX
            ),
        );
    }
    for (field, party) in [
        ("provider.id", &doc.provider),
        ("recipient.id", &doc.recipient),
    ] {
        if !valid_name(&party.id, 128) {
            problem(
                problems,
                field,
                "organisation-id",
                format!(
                    "{:?} is not an organisation id (letters, digits, '.', '_' or '-')",
                    party.id
                ),
            );
        }
    }
    if doc.provider.id == doc.recipient.id {
        problem(
            problems,
            "recipient.id",
            "distinct-parties",
            "provider and recipient must be different organisations".to_owned(),
        );
    }
    for (field, text) in [("purpose", &doc.purpose), ("legal_basis", &doc.legal_basis)] {
        if text.trim().is_empty() {
            problem(
                problems,
                field,
                "required-text",
                format!("{field} must not be empty: it is carried into the ledger"),
            );
        }
    }
    let valid_from = when(&doc.validity.from, "validity.from", problems);
    let valid_until = doc
        .validity
        .until
        .as_ref()
        .and_then(|u| when(u, "validity.until", problems));
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        if until <= from {
            problem(
                problems,
                "validity.until",
                "validity-order",
                "validity.until must be later than validity.from".to_owned(),
            );
        }
    }
    let scope = validate_scope(doc.scope, problems);
    let protections = validate_protections(&doc.id, doc.protections, problems);
    let retention = doc
        .obligations
        .retention
        .as_deref()
        .and_then(|r| span(r, "obligations.retention", problems));
    if retention == Some(Span(0)) {
        problem(problems, "obligations.retention", "retention-positive", "a retention of zero would release data that must be deleted at once; omit the field or give a positive duration".to_owned());
    }
    let obligations = Obligations {
        retention,
        onward_sharing: doc.obligations.onward_sharing,
    };
    let (version, valid_from, scope, protections) = (version?, valid_from?, scope?, protections?);
    let (protections, redactor) = protections;
    let keys = |labels: &[String]| -> Vec<String> {
        labels.iter().map(|l| label_key(l).into_owned()).collect()
    };
    let label_keys = keys(&scope.labels);
    let exclude_label_keys = keys(&scope.exclude_labels);
    let removal_finders = protections
        .remove_properties
        .iter()
        .map(|p| {
            let first = p.split('.').next().unwrap_or(p);
            memmem::Finder::new(format!("\"{first}\"").as_bytes()).into_owned()
        })
        .collect();
    let obligations_marking_id = (obligations.retention.is_some() || !obligations.onward_sharing)
        .then(|| {
            let digest = sha2::Sha256::digest(format!("accord-obligations/{}/{}", doc.id, version));
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            format!(
                "marking-definition--{}",
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            )
        });
    Some(Agreement {
        id: doc.id,
        version,
        title: doc.title,
        provider: Party {
            id: doc.provider.id,
            name: doc.provider.name,
        },
        recipient: Party {
            id: doc.recipient.id,
            name: doc.recipient.name,
        },
        purpose: doc.purpose,
        legal_basis: doc.legal_basis,
        valid_from,
        valid_until,
        scope,
        protections,
        obligations,
        key: None,
        removal_finders,
        obligations_marking_id,
        label_keys,
        exclude_label_keys,
        redactor,
    })
}

fn validate_scope(doc: document::ScopeDoc, problems: &mut Vec<Problem>) -> Option<Scope> {
    let types = if doc.types == ["*"] {
        None
    } else {
        if doc.types.is_empty() {
            problem(
                problems,
                "scope.types",
                "types-required",
                "list the STIX types released, or [\"*\"] for all".to_owned(),
            );
        }
        for t in &doc.types {
            if !valid_stix_type(t) {
                problem(problems, "scope.types", "stix-type", format!("{t:?} is not a STIX type name (3–250 lowercase letters, digits and '-'; \"*\" must stand alone)"));
            }
        }
        Some(doc.types.into_iter().collect())
    };
    for (field, labels) in [
        ("scope.labels", &doc.labels),
        ("scope.exclude_labels", &doc.exclude_labels),
    ] {
        if labels.iter().any(|l| l.trim().is_empty()) {
            problem(
                problems,
                field,
                "label",
                "labels must not be empty".to_owned(),
            );
        }
    }
    let min_confidence = match doc.min_confidence {
        None => None,
        Some(c @ 0..=100) => u8::try_from(c).ok(),
        Some(c) => {
            problem(
                problems,
                "scope.min_confidence",
                "confidence-range",
                format!("{c} is outside 0–100"),
            );
            None
        }
    };
    let max_tlp = tlp(&doc.max_tlp, "scope.max_tlp", problems);
    let unmarked_tlp = match &doc.unmarked_tlp {
        Some(t) => tlp(t, "scope.unmarked_tlp", problems),
        None => Some(Tlp::Amber),
    };
    let unknown_markings = match doc.unknown_markings.as_deref() {
        None | Some("withhold") => UnknownMarkings::Withhold,
        Some("ignore") => UnknownMarkings::Ignore,
        Some(other) => {
            problem(
                problems,
                "scope.unknown_markings",
                "policy",
                format!("{other:?} is not \"withhold\" or \"ignore\""),
            );
            UnknownMarkings::Withhold
        }
    };
    for m in &doc.withhold_markings {
        if !m.starts_with("marking-definition--") {
            problem(
                problems,
                "scope.withhold_markings",
                "marking-id",
                format!("{m:?} is not a marking-definition id"),
            );
        } else if let Some(level) = crate::tlp::Tlp::from_marking_id(m) {
            // TLP markings are compared by level, not by id: a TLP id here would
            // never match, and the agreement would release what it meant to withhold.
            problem(
                problems,
                "scope.withhold_markings",
                "tlp-marking",
                format!("{m:?} is the TLP {level:?} marking: limit TLP with scope.max_tlp"),
            );
        }
    }
    let collections = match doc.collections {
        Some(c) if c.is_empty() || c.iter().any(|x| x.trim().is_empty()) => {
            problem(
                problems,
                "scope.collections",
                "collections",
                "list collection ids (non-empty), or omit the field for all collections".to_owned(),
            );
            None
        }
        other => other.map(|c| c.into_iter().collect()),
    };
    let countries = match doc.countries {
        None => None,
        Some(list) => {
            let mut set = BTreeSet::new();
            if list.is_empty() {
                problem(
                    problems,
                    "scope.countries",
                    "countries",
                    "list ISO 3166-1 alpha-2 codes (non-empty), or omit the field".to_owned(),
                );
            }
            for c in &list {
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
                    set.insert(c.to_ascii_uppercase());
                } else {
                    problem(
                        problems,
                        "scope.countries",
                        "country-code",
                        format!("{c:?} is not an ISO 3166-1 alpha-2 code (two letters)"),
                    );
                }
            }
            Some(set)
        }
    };
    let asns = match doc.asns {
        None => None,
        Some(list) => {
            let mut set = BTreeSet::new();
            if list.is_empty() {
                problem(
                    problems,
                    "scope.asns",
                    "asns",
                    "list autonomous system numbers (non-empty), or omit the field".to_owned(),
                );
            }
            for &n in &list {
                match u32::try_from(n) {
                    Ok(n) if n > 0 => {
                        set.insert(n);
                    }
                    _ => problem(
                        problems,
                        "scope.asns",
                        "asn",
                        format!("{n} is not an autonomous system number (1–4294967295)"),
                    ),
                }
            }
            Some(set)
        }
    };
    Some(Scope {
        types,
        labels: doc.labels,
        exclude_labels: doc.exclude_labels,
        min_confidence,
        require_confidence: doc.require_confidence,
        max_tlp: max_tlp?,
        unmarked_tlp: unmarked_tlp?,
        unknown_markings,
        withhold_markings: doc.withhold_markings.into_iter().collect(),
        collections,
        countries,
        asns,
    })
}

fn validate_protections(
    agreement_id: &str,
    doc: document::ProtectionsDoc,
    problems: &mut Vec<Problem>,
) -> Option<(Protections, Option<Redactor>)> {
    for path in &doc.remove_properties {
        let first = path.split('.').next().unwrap_or_default();
        if path.split('.').any(str::is_empty) || path.contains(['"', '\\']) {
            problem(
                problems,
                "protections.remove_properties",
                "property-path",
                format!("{path:?} is not a property path (names separated by '.')"),
            );
        } else if !path.contains('.') && REQUIRED_PROPERTIES.contains(&first) {
            problem(problems, "protections.remove_properties", "remove-required-property", format!("{path:?} is required by some STIX 2.1 object type; removing it would make released objects invalid"));
        } else if !path.contains('.') && REQUIRED_NESTED_PROPERTIES.contains(&first) {
            problem(problems, "protections.remove_properties", "remove-required-property", format!("{path:?} is required inside STIX 2.1 objects (a bare name is removed at any depth); removing it would make released objects invalid"));
        }
    }
    let mut nets = Vec::new();
    for text in &doc.customer_ranges {
        let parsed: Option<IpNet> = text
            .parse()
            .ok()
            .or_else(|| text.parse::<std::net::IpAddr>().ok().map(IpNet::from));
        match parsed {
            None => problem(problems, "protections.customer_ranges", "address-range", format!("{text:?} is not an address or CIDR range")),
            Some(net) if net.trunc() != net => problem(problems, "protections.customer_ranges", "host-bits", format!("{text} has host bits set; write {}", net.trunc())),
            Some(net) if pseudonym_ranges().iter().any(|p| p.contains(&net) || net.contains(p)) => problem(problems, "protections.customer_ranges", "pseudonym-range", format!("{text} overlaps the range pseudonyms are drawn from (240.0.0.0/4, 100::/64)")),
            Some(net) => nets.push(net),
        }
    }
    let customer_addresses = match doc.customer_addresses.as_deref() {
        None | Some("pseudonymise" | "pseudonymize") => CustomerAddressPolicy::Pseudonymise,
        Some("drop") => CustomerAddressPolicy::Drop,
        Some(other) => {
            problem(
                problems,
                "protections.customer_addresses",
                "policy",
                format!("{other:?} is not \"pseudonymise\" or \"drop\""),
            );
            CustomerAddressPolicy::Pseudonymise
        }
    };
    let pseudonym_key = match (doc.pseudonym_key_env, doc.pseudonym_key_file) {
        (Some(_), Some(_)) => {
            problem(
                problems,
                "protections.pseudonym_key_env",
                "one-key-source",
                "give pseudonym_key_env or pseudonym_key_file, not both".to_owned(),
            );
            None
        }
        (Some(env), None) if env.is_empty() || env.contains('=') => {
            problem(
                problems,
                "protections.pseudonym_key_env",
                "env-name",
                format!("{env:?} is not an environment variable name"),
            );
            None
        }
        (Some(env), None) => Some(KeySource::Env(env)),
        (None, Some(file)) if file.is_empty() => {
            problem(
                problems,
                "protections.pseudonym_key_file",
                "key-file",
                "the key file path is empty".to_owned(),
            );
            None
        }
        (None, Some(file)) => Some(KeySource::File(PathBuf::from(file))),
        (None, None) => None,
    };
    if !nets.is_empty()
        && customer_addresses == CustomerAddressPolicy::Pseudonymise
        && pseudonym_key.is_none()
    {
        problem(problems, "protections.pseudonym_key_env", "key-required", "pseudonymising customer addresses needs a key: set pseudonym_key_env or pseudonym_key_file (the key never goes in this file)".to_owned());
    }
    let aggregate_min_providers = match doc.aggregate_min_providers {
        None => DEFAULT_AGGREGATE_MIN_PROVIDERS,
        Some(k) if (1..=i64::from(MAX_AGGREGATE_MIN_PROVIDERS)).contains(&k) => k as u32,
        Some(k) => {
            problem(
                problems,
                "protections.aggregate_min_providers",
                "aggregate-k-range",
                format!(
                    "agreement {agreement_id:?} gives {k}; k must be between 1 and \
                     {MAX_AGGREGATE_MIN_PROVIDERS}"
                ),
            );
            DEFAULT_AGGREGATE_MIN_PROVIDERS
        }
    };
    let embargo = match &doc.embargo {
        Some(e) => span(e, "protections.embargo", problems)?,
        None => Span(0),
    };
    let redactor = if doc.redact_patterns.is_empty() {
        None
    } else if doc.redact_patterns.len() > MAX_REDACT_PATTERNS {
        problem(
            problems,
            "protections.redact_patterns",
            "redact-pattern",
            format!(
                "agreement {agreement_id:?} gives {} patterns; at most {MAX_REDACT_PATTERNS} are accepted",
                doc.redact_patterns.len()
            ),
        );
        None
    } else {
        match Redactor::new(&doc.redact_patterns) {
            Ok(r) => Some(r),
            Err((pattern, message)) => {
                problem(
                    problems,
                    "protections.redact_patterns",
                    "redact-pattern",
                    format!(
                        "agreement {agreement_id:?}: pattern {pattern:?} is refused: {message}"
                    ),
                );
                None
            }
        }
    };
    Some((
        Protections {
            remove_properties: doc.remove_properties,
            customer_ranges: AddressRanges::new(nets),
            customer_addresses,
            pseudonym_key,
            embargo,
            redact_patterns: doc.redact_patterns,
            aggregate_min_providers,
        },
        redactor,
    ))
}

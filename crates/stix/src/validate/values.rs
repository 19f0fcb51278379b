//! Checks of one property value against its [`ValueKind`].

use super::formats;
use super::path::Path;
use super::Ctx;
use crate::json::{Kind, Val};
use crate::timestamp::Timestamp;
use crate::types::{self, Precision, Refs, Shape, ValueKind};
use crate::Rule;

impl Ctx<'_> {
    /// Checks `v` (at `path`) against `kind`. `owner` is the type of the object
    /// the value belongs to (for extensions).
    pub(crate) fn check_value(
        &mut self,
        path: &Path<'_>,
        v: Val<'_>,
        kind: ValueKind,
        owner: &str,
    ) {
        match kind {
            ValueKind::String => {
                if !v.is_str() {
                    self.err(path, Rule::ValueType, "must be a string");
                }
            }
            ValueKind::Boolean => {
                if v.as_bool().is_none() {
                    self.err(path, Rule::ValueType, "must be true or false");
                }
            }
            ValueKind::Integer { min, max } => self.integer(path, v, min, max, Rule::ValueRange),
            ValueKind::Confidence => self.integer(path, v, 0, 100, Rule::ConfidenceRange),
            ValueKind::Number { min, max } => match v.as_f64() {
                None => self.err(path, Rule::ValueType, "must be a number"),
                Some(n) if n < min || n > max => self.err(
                    path,
                    Rule::ValueRange,
                    format!("{n} is outside {min} to {max}"),
                ),
                Some(_) => {}
            },
            ValueKind::Timestamp(p) => {
                self.timestamp_check(path, v, p);
            }
            ValueKind::Identifier(refs) => self.identifier(path, v, refs, Rule::ReferenceType),
            ValueKind::IdentifierList(refs) => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.identifier(&path.index(i), item, refs, Rule::ReferenceType);
                }
            }
            ValueKind::MarkingRefs => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.identifier(
                        &path.index(i),
                        item,
                        Refs::Only(&["marking-definition"]),
                        Rule::MarkingReference,
                    );
                }
            }
            ValueKind::StringList => {
                for (i, item) in self.list(path, v).enumerate() {
                    if !item.is_str() {
                        self.err(&path.index(i), Rule::ValueType, "must be a string");
                    }
                }
            }
            ValueKind::Enum(allowed) => self.enumerated(path, v, allowed),
            ValueKind::EnumList(allowed) => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.enumerated(&path.index(i), item, allowed);
                }
            }
            ValueKind::LanguageTag => {
                self.format(path, v, formats::language_tag, Rule::LanguageTag)
            }
            ValueKind::LanguageTagList => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.format(
                        &path.index(i),
                        item,
                        formats::language_tag,
                        Rule::LanguageTag,
                    );
                }
            }
            ValueKind::Hashes => self.hashes(path, v),
            ValueKind::Dictionary => self.dictionary(path, v),
            ValueKind::Object => {
                if v.kind() != Kind::Obj {
                    self.err(path, Rule::ValueType, "must be an object");
                }
            }
            ValueKind::List => {
                self.list(path, v);
            }
            ValueKind::ExternalReferences => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.external_reference(&path.index(i), item);
                }
            }
            ValueKind::KillChainPhases => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.shape(&path.index(i), item, &KILL_CHAIN_PHASE, owner);
                }
            }
            ValueKind::GranularMarkings => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.granular_marking(&path.index(i), item);
                }
            }
            ValueKind::Extensions => self.extensions(path, v, owner),
            ValueKind::Ipv4OrCidr => self.format(path, v, formats::ipv4_or_cidr, Rule::Ipv4Address),
            ValueKind::Ipv6OrCidr => self.format(path, v, formats::ipv6_or_cidr, Rule::Ipv6Address),
            ValueKind::MacAddr => self.format(path, v, formats::mac_addr, Rule::MacAddress),
            ValueKind::EmailAddr => self.format(path, v, formats::email_addr, Rule::EmailAddress),
            ValueKind::DomainName => self.format(path, v, formats::domain_name, Rule::DomainName),
            ValueKind::Url => self.format(path, v, formats::url, Rule::UrlFormat),
            ValueKind::Binary => self.format(path, v, formats::base64, Rule::BinaryFormat),
            ValueKind::Hex => self.format(path, v, formats::hex, Rule::HexFormat),
            ValueKind::Cpe => self.format(path, v, formats::cpe23, Rule::CpeFormat),
            ValueKind::MimeType => self.format(path, v, formats::mime_type, Rule::MimeType),
            ValueKind::CharacterSet => {
                self.format(path, v, formats::character_set, Rule::CharacterSet)
            }
            ValueKind::RegistryKey => {
                self.format(path, v, formats::registry_key, Rule::RegistryKeyHive)
            }
            ValueKind::RelationshipType => {
                self.format(path, v, formats::relationship_type, Rule::RelationshipType)
            }
            ValueKind::ObjectOf(shape) => self.shape(path, v, shape, owner),
            ValueKind::ListOf(shape) => {
                for (i, item) in self.list(path, v).enumerate() {
                    self.shape(&path.index(i), item, shape, owner);
                }
            }
            ValueKind::ObservedObjects => self.observed_objects(path, v),
        }
    }

    /// Checks a value of a property that is not in the catalogue (custom
    /// properties): only the generic rules of every property value.
    pub(crate) fn check_custom_value(&mut self, path: &Path<'_>, name: &str, v: Val<'_>) {
        if name.ends_with("_bin") {
            self.format(path, v, formats::base64, Rule::BinaryFormat);
        } else if name.ends_with("_hex") {
            self.format(path, v, formats::hex, Rule::HexFormat);
        }
    }

    pub(crate) fn string<'t>(
        &mut self,
        path: &Path<'_>,
        v: Val<'t>,
    ) -> Option<std::borrow::Cow<'t, str>> {
        let s = v.str();
        if s.is_none() {
            self.err(path, Rule::ValueType, "must be a string");
        }
        s
    }

    fn integer(&mut self, path: &Path<'_>, v: Val<'_>, min: i64, max: i64, range_rule: Rule) {
        if !v.is_integer() {
            self.err(path, Rule::ValueType, "must be an integer");
            return;
        }
        match v.as_i64() {
            Some(n) if n >= min && n <= max => {}
            _ => {
                let (lo, hi) = (bound(min), bound(max));
                self.err(
                    path,
                    range_rule,
                    format!("{} is outside {lo} to {hi}", v.raw()),
                );
            }
        }
    }

    /// Parses a timestamp value, reporting format and precision errors.
    pub(crate) fn timestamp(
        &mut self,
        path: &Path<'_>,
        v: Val<'_>,
        p: Precision,
    ) -> Option<Timestamp> {
        let micros = self.timestamp_check(path, v, p)?;
        Some(Timestamp::from_checked(micros, &v.str()?))
    }

    /// Checks a timestamp value (format and precision); returns its instant.
    pub(crate) fn timestamp_check(
        &mut self,
        path: &Path<'_>,
        v: Val<'_>,
        p: Precision,
    ) -> Option<i64> {
        let s = self.string(path, v)?;
        match crate::timestamp::check(&s) {
            Err(e) => {
                self.err(path, Rule::TimestampFormat, e.to_string());
                None
            }
            Ok((micros, digits)) => {
                match p {
                    Precision::Millis if digits < 3 => self.err(
                        path,
                        Rule::TimestampPrecision,
                        format!("'{s}' must be precise to the millisecond (three or more fraction digits)"),
                    ),
                    Precision::Seconds if digits > 0 => self.err(
                        path,
                        Rule::TimestampPrecision,
                        format!("'{s}' must be precise to the second (no fraction)"),
                    ),
                    _ => {}
                }
                Some(micros)
            }
        }
    }

    fn identifier(&mut self, path: &Path<'_>, v: Val<'_>, refs: Refs, type_rule: Rule) {
        let Some(s) = self.string(path, v) else {
            return;
        };
        match crate::identifier::check(&s) {
            Err(e) => self.err(path, Rule::IdentifierFormat, e.to_string()),
            Ok(ty) if !refs.allows(ty) => {
                let what = match refs {
                    Refs::Only(t) => format!("must reference an object of type {}", t.join(" or ")),
                    Refs::Not(t) => {
                        format!("must not reference an object of type {}", t.join(", "))
                    }
                    Refs::Any => String::new(),
                };
                self.err(path, type_rule, format!("'{s}' {what}"));
            }
            Ok(_) => {}
        }
    }

    /// Checks that `v` is a non-empty list and returns its items.
    pub(crate) fn list<'t>(&mut self, path: &Path<'_>, v: Val<'t>) -> crate::json::Items<'t> {
        match v.kind() {
            Kind::Arr => {
                if v.items().next().is_none() {
                    self.err(path, Rule::EmptyList, "must not be an empty list");
                }
            }
            _ => self.err(path, Rule::ValueType, "must be a list"),
        }
        v.items()
    }

    fn enumerated(&mut self, path: &Path<'_>, v: Val<'_>, allowed: &[&str]) {
        let Some(s) = self.string(path, v) else {
            return;
        };
        if !allowed.contains(&s.as_ref()) {
            self.err(
                path,
                Rule::EnumValue,
                format!("'{s}' is not one of {}", allowed.join(", ")),
            );
        }
    }

    fn format(
        &mut self,
        path: &Path<'_>,
        v: Val<'_>,
        check: fn(&str) -> Result<(), &'static str>,
        rule: Rule,
    ) {
        let Some(s) = self.string(path, v) else {
            return;
        };
        if let Err(why) = check(&s) {
            self.err(path, rule, format!("'{}' {why}", clip(&s)));
        }
    }

    /// Checks an object and returns true when it is one (reporting otherwise).
    pub(crate) fn object(&mut self, path: &Path<'_>, v: Val<'_>) -> bool {
        if v.kind() == Kind::Obj {
            return true;
        }
        self.err(path, Rule::ValueType, "must be an object");
        false
    }

    fn dictionary(&mut self, path: &Path<'_>, v: Val<'_>) {
        if !self.object(path, v) {
            return;
        }
        let mut any = false;
        for (k, _) in v.members() {
            any = true;
            let key = k.str().unwrap_or_default();
            if !formats::dictionary_key(&key) {
                self.err(
                    &path.key(&key),
                    Rule::DictionaryKey,
                    "dictionary keys must be 1 to 250 characters of a-z, A-Z, 0-9, '_' and '-'",
                );
            }
        }
        if !any {
            self.err(path, Rule::EmptyList, "must not be an empty dictionary");
        }
    }

    fn hashes(&mut self, path: &Path<'_>, v: Val<'_>) {
        if !self.object(path, v) {
            return;
        }
        let mut any = false;
        for (k, value) in v.members() {
            any = true;
            let key = k.str().unwrap_or_default();
            let p = path.key(&key);
            if key.len() < 3 || !formats::dictionary_key(&key) {
                self.err(&p, Rule::DictionaryKey, "hash algorithm names must be 3 to 250 characters of a-z, A-Z, 0-9, '_' and '-'");
            }
            let Some(h) = self.string(&p, value) else {
                continue;
            };
            if let Some((name, min, max, alphabet)) =
                types::HASH_ALGORITHMS.iter().find(|a| a.0 == key)
            {
                let ok = h.len() >= *min && h.len() <= *max && h.bytes().all(alphabet);
                if !ok {
                    let len = if min == max {
                        format!("{min}")
                    } else {
                        format!("{min} to {max}")
                    };
                    self.err(
                        &p,
                        Rule::HashLength,
                        format!(
                            "'{}' is not a valid {name} hash ({len} characters expected)",
                            clip(&h)
                        ),
                    );
                }
            }
        }
        if !any {
            self.err(path, Rule::EmptyList, "must not be an empty dictionary");
        }
    }

    fn external_reference(&mut self, path: &Path<'_>, v: Val<'_>) {
        if !self.object(path, v) {
            return;
        }
        self.shape(path, v, &EXTERNAL_REFERENCE, "");
        let source = v.get("source_name");
        let external_id = v.get("external_id").and_then(|e| e.str());
        let special = if source.is_some_and(|s| s.str_eq("cve")) {
            Some(("CVE-YYYY-NNNN", formats::cve_id as fn(&str) -> bool))
        } else if source.is_some_and(|s| s.str_eq("capec")) {
            Some(("CAPEC-N", formats::capec_id as fn(&str) -> bool))
        } else {
            None
        };
        match (special, external_id) {
            (Some((form, _)), None) => self.err(
                &path.key("external_id"),
                Rule::RequiredProperty,
                format!("is required when source_name is cve or capec (form {form})"),
            ),
            (Some((form, check)), Some(id)) if !check(&id) => self.err(
                &path.key("external_id"),
                Rule::ExternalId,
                format!("'{}' is not of the form {form}", clip(&id)),
            ),
            (None, _)
                if v.get("description").is_none()
                    && v.get("url").is_none()
                    && v.get("external_id").is_none() =>
            {
                self.err(
                    path,
                    Rule::AtLeastOneOf,
                    "needs at least one of description, url, external_id",
                );
            }
            _ => {}
        }
    }

    fn granular_marking(&mut self, path: &Path<'_>, v: Val<'_>) {
        if !self.object(path, v) {
            return;
        }
        self.shape(path, v, &GRANULAR_MARKING, "");
        if let Some(m) = v.get("marking_ref") {
            let refs = Refs::Only(&["marking-definition"]);
            self.identifier(&path.key("marking_ref"), m, refs, Rule::MarkingReference);
        }
        match (v.get("marking_ref").is_some(), v.get("lang").is_some()) {
            (true, true) => self.err(
                path,
                Rule::GranularMarking,
                "must have marking_ref or lang, not both",
            ),
            (false, false) => {
                self.err(path, Rule::GranularMarking, "must have marking_ref or lang")
            }
            _ => {}
        }
    }

    fn extensions(&mut self, path: &Path<'_>, v: Val<'_>, owner: &str) {
        if !self.object(path, v) {
            return;
        }
        let def = types::lookup(owner);
        let mut any = false;
        for (k, ext) in v.members() {
            any = true;
            let key = k.str().unwrap_or_default();
            let p = path.key(&key);
            if let Some(rest) = key.strip_prefix("extension-definition--") {
                if !crate::identifier::is_rfc4122_uuid(rest) {
                    self.err(
                        &p,
                        Rule::ExtensionKey,
                        "extension-definition id has no valid UUID",
                    );
                }
                if self.object(&p, ext) {
                    match ext.get("extension_type") {
                        None => self.err(
                            &p.key("extension_type"),
                            Rule::RequiredProperty,
                            "is required in an extension",
                        ),
                        Some(t) => self.enumerated(&p.key("extension_type"), t, EXTENSION_TYPES),
                    }
                }
                continue;
            }
            if owner == "marking-definition" {
                self.err(
                    &p,
                    Rule::ExtensionKey,
                    "marking-definition extensions must be keyed by an extension-definition id",
                );
                continue;
            }
            let predefined = def.and_then(|d| d.extensions.iter().find(|(n, _)| *n == key));
            match predefined {
                Some((_, shape)) => self.shape(&p, ext, shape, owner),
                None if is_ext_name(&key) => {
                    if self.object(&p, ext) && ext.members().next().is_none() {
                        self.err(&p, Rule::EmptyList, "an extension must not be empty");
                    }
                }
                None => self.err(
                    &p,
                    Rule::ExtensionKey,
                    "extension keys must be an extension-definition id or a name ending in '-ext'",
                ),
            }
        }
        if !any {
            self.err(path, Rule::EmptyList, "must not be an empty dictionary");
        }
    }

    /// Checks an embedded object against a shape: value kinds, required and
    /// at-least-one properties.
    pub(crate) fn shape(&mut self, path: &Path<'_>, v: Val<'_>, shape: &Shape, owner: &str) {
        if !self.object(path, v) {
            return;
        }
        for (k, value) in v.members() {
            let key = k.str().unwrap_or_default();
            if let Some((_, kind)) = shape.properties.iter().find(|(n, _)| *n == key) {
                self.check_value(&path.key(&key), value, *kind, owner);
            }
        }
        for r in shape.required {
            if v.get(r).is_none() {
                self.err(&path.key(r), Rule::RequiredProperty, "is required");
            }
        }
        if !shape.at_least_one.is_empty() && !shape.at_least_one.iter().any(|p| v.get(p).is_some())
        {
            self.err(
                path,
                Rule::AtLeastOneOf,
                format!("needs at least one of {}", shape.at_least_one.join(", ")),
            );
        }
    }
}

/// True for `^([a-z][a-z0-9]*)+(-[a-z0-9]+)*-ext$`.
fn is_ext_name(k: &str) -> bool {
    k.strip_suffix("-ext").is_some_and(|base| {
        base.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && base.split('-').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    })
}

fn bound(n: i64) -> String {
    match n {
        i64::MIN => "-∞".to_owned(),
        i64::MAX => "∞".to_owned(),
        n => n.to_string(),
    }
}

/// Shortens long values quoted in messages.
pub(crate) fn clip(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Values of `extension_type`.
pub(crate) const EXTENSION_TYPES: &[&str] = &[
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
];

static KILL_CHAIN_PHASE: Shape = Shape {
    properties: &[
        ("kill_chain_name", ValueKind::String),
        ("phase_name", ValueKind::String),
    ],
    required: &["kill_chain_name", "phase_name"],
    at_least_one: &[],
};

static EXTERNAL_REFERENCE: Shape = Shape {
    properties: &[
        ("source_name", ValueKind::String),
        ("description", ValueKind::String),
        ("url", ValueKind::Url),
        ("hashes", ValueKind::Hashes),
        ("external_id", ValueKind::String),
    ],
    required: &["source_name"],
    at_least_one: &[],
};

static GRANULAR_MARKING: Shape = Shape {
    properties: &[
        ("selectors", ValueKind::StringList),
        ("lang", ValueKind::LanguageTag),
    ],
    required: &["selectors"],
    at_least_one: &[],
};

impl Ctx<'_> {
    fn observed_objects(&mut self, path: &Path<'_>, v: Val<'_>) {
        if !self.object(path, v) {
            return;
        }
        if v.members().next().is_none() {
            self.err(path, Rule::EmptyList, "must not be an empty dictionary");
            return;
        }
        super::rules::embedded_refs(self, path, v);
    }
}

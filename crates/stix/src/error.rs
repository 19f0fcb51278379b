//! Validation outcomes: the rules, one error per broken rule, and the rejection
//! of an object that lists them all.

use std::fmt;

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// A MUST rule of STIX 2.1 (or a limit of this implementation) that an
        /// object can break. Each has a stable kebab-case [`code`](Rule::code).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable kebab-case code of the rule, as shown to users and
            /// recorded in TAXII status messages.
            ///
            /// ```
            /// assert_eq!(accord_stix::Rule::ConfidenceRange.code(), "confidence-range");
            /// ```
            pub fn code(&self) -> &'static str {
                match self { $(Rule::$variant => $code,)* }
            }
        }
    };
}

rules! {
    /// The text is not JSON (RFC 8259), or a number does not fit a double.
    JsonSyntax => "json-syntax",
    /// Arrays and objects nest deeper than [`MAX_NESTING_DEPTH`](crate::MAX_NESTING_DEPTH).
    NestingTooDeep => "nesting-too-deep",
    /// The object's JSON text is longer than [`MAX_OBJECT_BYTES`](crate::MAX_OBJECT_BYTES).
    ObjectTooLarge => "object-too-large",
    /// A JSON object has the same member name twice.
    DuplicateProperty => "duplicate-property",
    /// The value is not a JSON object (an object, or a value where an object is required).
    NotAnObject => "not-an-object",
    /// A required property is missing.
    RequiredProperty => "required-property",
    /// A property has the wrong JSON type (string, integer, list ...).
    ValueType => "value-type",
    /// A top-level property is `null` (STIX has no null values).
    NullValue => "null-value",
    /// A list is empty (STIX lists must not be empty).
    EmptyList => "empty-list",
    /// A property name is not 3-250 characters of `a-z`, `0-9`, `_`.
    PropertyName => "property-name",
    /// A reserved property name (`severity`, `action`, `username`, `phone_numbers`) is used.
    ReservedProperty => "reserved-property",
    /// A dictionary key is empty, longer than 250 characters or not ASCII.
    DictionaryKey => "dictionary-key",
    /// `type` is not a valid type name (3-250 of `a-z 0-9 -`), or is reserved (`bundle`, `action`).
    TypeName => "type-name",
    /// An identifier is not `type--UUID` with an RFC 4122 UUID.
    IdentifierFormat => "identifier-format",
    /// The `id`'s type part differs from `type`.
    IdentifierTypeMismatch => "identifier-type-mismatch",
    /// A reference points to an object of a type the property does not allow.
    ReferenceType => "reference-type",
    /// The UUID version is not the one required (process ids, SCOs without ID contributing properties: v4).
    UuidVersion => "uuid-version",
    /// A timestamp is not RFC 3339 `YYYY-MM-DDTHH:MM:SS[.s+]Z` or not a real date.
    TimestampFormat => "timestamp-format",
    /// A timestamp lacks the required precision (`created`/`modified`: milliseconds;
    /// `time_date_stamp`: whole seconds).
    TimestampPrecision => "timestamp-precision",
    /// `modified` is earlier than `created`.
    ModifiedBeforeCreated => "modified-before-created",
    /// `valid_until` is not later than `valid_from`.
    ValidUntilNotAfterValidFrom => "valid-until-not-after-valid-from",
    /// `last_seen` is earlier than `first_seen`.
    LastSeenBeforeFirstSeen => "last-seen-before-first-seen",
    /// `last_observed` is earlier than `first_observed`.
    LastObservedBeforeFirstObserved => "last-observed-before-first-observed",
    /// `stop_time` is not later than `start_time`.
    StopTimeNotAfterStartTime => "stop-time-not-after-start-time",
    /// `end` is earlier than `start` (network-traffic).
    EndBeforeStart => "end-before-start",
    /// `spec_version` is not `2.1`.
    SpecVersion => "spec-version",
    /// A marking reference is not a marking-definition id, or a marking definition marks itself.
    MarkingReference => "marking-reference",
    /// A granular marking has neither or both of `marking_ref` and `lang`.
    GranularMarking => "granular-marking",
    /// A granular-marking selector does not resolve to a property or list item of the object.
    GranularMarkingSelector => "granular-marking-selector",
    /// A TLP 1.0 marking definition differs from the one the specification defines.
    TlpMarking => "tlp-marking",
    /// `confidence` is not an integer from 0 to 100.
    ConfidenceRange => "confidence-range",
    /// A number is outside the range the property allows.
    ValueRange => "value-range",
    /// A value is not one of a closed enumeration.
    EnumValue => "enum-value",
    /// None of a set of properties of which at least one is required is present.
    AtLeastOneOf => "at-least-one-of",
    /// Two properties that must not appear together both appear.
    PropertyConflict => "property-conflict",
    /// A property is present without another that it requires.
    PropertyDependency => "property-dependency",
    /// An ipv4-addr value is not an IPv4 address or CIDR block.
    Ipv4Address => "ipv4-address",
    /// An ipv6-addr value is not an IPv6 address or CIDR block.
    Ipv6Address => "ipv6-address",
    /// A mac-addr value is not a colon-separated lowercase MAC-48 address.
    MacAddress => "mac-address",
    /// An email-addr value is not an email address.
    EmailAddress => "email-address",
    /// A domain-name value is not a domain name.
    DomainName => "domain-name",
    /// A URL is not an absolute URI (RFC 3986).
    UrlFormat => "url-format",
    /// A hash value does not have the length or alphabet its algorithm requires.
    HashLength => "hash-length",
    /// A `*_bin` property is not base64.
    BinaryFormat => "binary-format",
    /// A `*_hex` property is not an even number of hex digits.
    HexFormat => "hex-format",
    /// A language tag is not an RFC 5646 tag.
    LanguageTag => "language-tag",
    /// A `cpe` is not a CPE 2.3 formatted string.
    CpeFormat => "cpe-format",
    /// A MIME type is not `type/subtype` of a registered top-level type.
    MimeType => "mime-type",
    /// A character-set name has characters outside the IANA name alphabet.
    CharacterSet => "character-set",
    /// An `extensions` key is neither a predefined `*-ext` name nor an extension-definition id.
    ExtensionKey => "extension-key",
    /// `relationship_type` has characters other than `a-z`, `0-9`, `-`.
    RelationshipType => "relationship-type",
    /// An external reference with source `cve` or `capec` has a malformed `external_id`.
    ExternalId => "external-id",
    /// A windows-registry-key `key` uses an abbreviated hive (`HKLM` ...).
    RegistryKeyHive => "registry-key-hive",
    /// An observed-data embedded object reference does not resolve within `objects`.
    ObservableReference => "observable-reference",
    /// An indicator's `pattern` is not valid for its `pattern_type` (checked by the
    /// caller-supplied pattern checker).
    PatternSyntax => "pattern-syntax",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One broken rule: where (a JSON path such as `hashes.SHA-256` or
/// `external_references[1].url`, empty for the object itself), which rule, and a
/// sentence for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path of the offending property; `""` for the object as a whole.
    pub property: String,
    /// The rule broken.
    pub rule: Rule,
    /// A human sentence explaining what is wrong.
    pub message: String,
}

impl ValidationError {
    /// Builds an error.
    pub fn new(property: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        ValidationError {
            property: property.into(),
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.property.is_empty() {
            write!(f, "[{}] {}", self.rule.code(), self.message)
        } else {
            write!(
                f,
                "{}: [{}] {}",
                self.property,
                self.rule.code(),
                self.message
            )
        }
    }
}

/// An object that failed validation, with every error found (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Rejection {
    /// The object's `id` when it could be read.
    pub object_id: Option<String>,
    /// All errors, in the order found.
    pub errors: Vec<ValidationError>,
}

impl Rejection {
    /// True when one of the errors breaks `rule` at `property`.
    ///
    /// ```
    /// use accord_stix::{parse_object, Rule};
    /// let r = parse_object(r#"{"type":"x-a","id":"x-a--1"}"#).unwrap_err();
    /// assert!(r.has(Rule::IdentifierFormat, "id"));
    /// assert_eq!(r.object_id.as_deref(), Some("x-a--1"));
    /// ```
    pub fn has(&self, rule: Rule, property: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.rule == rule && e.property == property)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.object_id {
            Some(id) => write!(f, "object {id} is invalid")?,
            None => write!(f, "object is invalid")?,
        }
        for (i, e) in self.errors.iter().enumerate() {
            write!(f, "{}{e}", if i == 0 { ": " } else { "; " })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in Rule::ALL {
            let c = r.code();
            assert!(seen.insert(c), "duplicate {c}");
            assert!(c
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()));
        }
    }
}

//! What can go wrong, naming the event, the attribute, the property and the rule.

/// The rules a MISP input can break. Each has a stable code (in messages and docs/misp.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The input is not JSON.
    Json,
    /// The input is too large or too deeply nested ([`crate::MAX_INPUT_BYTES`], [`crate::MAX_EVENTS`]).
    Limit,
    /// The input is neither an event, `{"Event": …}`, a list of those, nor `{"response": […]}`.
    Shape,
    /// A required property is missing.
    Required,
    /// A property has the wrong JSON type.
    Type,
    /// A `uuid` is not a UUID.
    Uuid,
    /// A timestamp is not seconds since 1970 (or a MISP date-time).
    Timestamp,
    /// A value is not valid for the attribute's type (an address, a hash of the right length, a port...).
    Value,
    /// A composite value (`domain|ip`, `filename|md5`...) lacks its `|`.
    Composite,
    /// An object reference names no object or attribute of the event.
    Reference,
}

impl Rule {
    /// The rule's code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Json => "misp-json",
            Rule::Limit => "misp-limit",
            Rule::Shape => "misp-shape",
            Rule::Required => "misp-required-property",
            Rule::Type => "misp-property-type",
            Rule::Uuid => "misp-uuid",
            Rule::Timestamp => "misp-timestamp",
            Rule::Value => "misp-value",
            Rule::Composite => "misp-composite-value",
            Rule::Reference => "misp-reference",
        }
    }
}

/// One problem, located: which event, which attribute or object (if any), which property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct MispError {
    /// The event's uuid (or its position, `#N`, when it has none).
    pub event: String,
    /// The attribute's or object's uuid (or position), when the problem is in one.
    pub item: Option<String>,
    /// The property.
    pub property: String,
    /// The rule broken.
    pub rule: Rule,
    /// What was wrong, in words.
    pub message: String,
}

impl MispError {
    fn render(&self) -> String {
        let mut s = format!("event {}", self.event);
        if let Some(item) = &self.item {
            s.push_str(&format!(", {item}"));
        }
        format!(
            "{s}: property '{}': {} (rule {})",
            self.property,
            self.message,
            self.rule.code()
        )
    }
}

/// An input that could not be read at all (not JSON, not events): nothing of it is converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (rule {})", rule.code())]
pub struct InputError {
    /// The rule broken.
    pub rule: Rule,
    /// What was wrong.
    pub message: String,
}

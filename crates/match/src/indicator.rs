//! Indicators as the detector takes them: plain values, no store types.

use accord_telemetry::Micros;
use serde_json::Value;

use crate::time::parse_timestamp;
use crate::Error;

/// One indicator (the latest version the caller knows of).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorInput {
    /// The STIX id, `indicator--<uuid>`.
    pub id: String,
    /// The STIX pattern text.
    pub pattern: String,
    /// Start of validity (inclusive), microseconds since the epoch.
    pub valid_from: Micros,
    /// End of validity (exclusive), if any.
    pub valid_until: Option<Micros>,
    /// A revoked indicator never matches.
    pub revoked: bool,
    /// The version's `modified` time: of several inputs with one id, the latest wins.
    pub modified: Micros,
}

impl IndicatorInput {
    /// Takes the fields from a STIX 2.1 `indicator` object. Only `pattern_type` `stix`
    /// is accepted (other pattern languages cannot be matched here).
    ///
    /// ```
    /// let obj = serde_json::json!({
    ///     "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    ///     "created": "2024-01-01T00:00:00.000Z", "modified": "2024-02-01T00:00:00.000Z",
    ///     "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
    ///     "valid_from": "2024-01-01T00:00:00Z"
    /// });
    /// let ind = accord_match::IndicatorInput::from_stix(&obj)?;
    /// assert_eq!(ind.valid_until, None);
    /// assert!(!ind.revoked);
    /// # Ok::<(), accord_match::Error>(())
    /// ```
    pub fn from_stix(obj: &Value) -> Result<Self, Error> {
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string();
        let bad = |property: &'static str, rule: &'static str, message: &str| Error::Indicator {
            object: id.clone(),
            property,
            rule,
            message: message.to_string(),
        };
        if obj.get("type").and_then(Value::as_str) != Some("indicator") {
            return Err(bad("type", "object-type", "the object is not an indicator"));
        }
        let text = |p: &'static str| -> Result<&str, Error> {
            obj.get(p)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(p, "required", "a string is required"))
        };
        let pattern_type = text("pattern_type")?;
        if pattern_type != "stix" {
            return Err(bad(
                "pattern_type",
                "pattern-type",
                "only `stix` patterns can be matched",
            ));
        }
        let pattern = text("pattern")?.to_string();
        let valid_from = parse_timestamp(text("valid_from")?, &id, "valid_from")?;
        let modified = parse_timestamp(text("modified")?, &id, "modified")?;
        let valid_until = match obj.get("valid_until") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(parse_timestamp(s, &id, "valid_until")?),
            Some(_) => {
                return Err(bad(
                    "valid_until",
                    "timestamp-format",
                    "a timestamp string is required",
                ))
            }
        };
        let revoked = match obj.get("revoked") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("revoked", "type", "a boolean is required")),
        };
        Ok(IndicatorInput {
            id,
            pattern,
            valid_from,
            valid_until,
            revoked,
            modified,
        })
    }

    /// Is the indicator in force at `t`?
    pub fn valid_at(&self, t: Micros) -> bool {
        !self.revoked && t >= self.valid_from && self.valid_until.is_none_or(|u| t < u)
    }
}

//! The TOML shape of an agreement file, exactly as written (before validation).

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub title: Option<String>,
    pub provider: PartyDoc,
    pub recipient: PartyDoc,
    pub purpose: String,
    pub legal_basis: String,
    pub validity: ValidityDoc,
    pub scope: ScopeDoc,
    #[serde(default)]
    pub protections: ProtectionsDoc,
    #[serde(default)]
    pub obligations: ObligationsDoc,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartyDoc {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidityDoc {
    pub from: toml::Value,
    #[serde(default)]
    pub until: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeDoc {
    pub types: Vec<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub exclude_labels: Vec<String>,
    #[serde(default)]
    pub min_confidence: Option<i64>,
    #[serde(default)]
    pub require_confidence: bool,
    pub max_tlp: String,
    #[serde(default)]
    pub unmarked_tlp: Option<String>,
    #[serde(default)]
    pub unknown_markings: Option<String>,
    #[serde(default)]
    pub withhold_markings: Vec<String>,
    #[serde(default)]
    pub collections: Option<Vec<String>>,
    #[serde(default)]
    pub countries: Option<Vec<String>>,
    #[serde(default)]
    pub asns: Option<Vec<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProtectionsDoc {
    #[serde(default)]
    pub remove_properties: Vec<String>,
    #[serde(default)]
    pub customer_ranges: Vec<String>,
    #[serde(default)]
    pub customer_addresses: Option<String>,
    #[serde(default)]
    pub pseudonym_key_env: Option<String>,
    #[serde(default)]
    pub pseudonym_key_file: Option<String>,
    #[serde(default)]
    pub embargo: Option<String>,
    #[serde(default)]
    pub redact_patterns: Vec<String>,
    #[serde(default)]
    pub aggregate_min_providers: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObligationsDoc {
    #[serde(default)]
    pub retention: Option<String>,
    #[serde(default)]
    pub onward_sharing: bool,
}

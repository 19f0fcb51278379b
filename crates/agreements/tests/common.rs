//! Helpers shared by the integration tests.

use std::collections::HashMap;

use accord_agreements::{
    Agreement, Decision, Gate, ObjectFacts, ObjectVersion, PseudonymKey, RecipientView,
    ReferenceResolver, ResolvedObject, UtcMicros,
};
use serde_json::Value;

pub const PROVIDER: &str = "example-telco";
pub const RECIPIENT: &str = "cybercrime-centre";

pub fn t(text: &str) -> UtcMicros {
    UtcMicros::parse(text).unwrap()
}

pub fn now() -> UtcMicros {
    t("2026-06-15T12:00:00Z")
}

pub fn key() -> PseudonymKey {
    PseudonymKey::from_bytes(&[0x42; 32]).unwrap()
}

/// An agreement between PROVIDER and RECIPIENT with the given extra TOML
/// (appended after the header; scope defaults to everything up to AMBER).
pub fn agreement(id: &str, version: u32, body: &str) -> Agreement {
    let mut text = format!(
        "id = \"{id}\"\nversion = {version}\nprovider = {{ id = \"{PROVIDER}\" }}\nrecipient = {{ id = \"{RECIPIENT}\" }}\n\
         purpose = \"Joint operation against DDoS C2 infrastructure\"\nlegal_basis = \"MoU clause 4\"\n"
    );
    text.push_str(body);
    if !body.contains("[validity]") {
        text.push_str("\n[validity]\nfrom = 2026-01-01T00:00:00Z\n");
    }
    if !body.contains("[scope]") {
        text.push_str("\n[scope]\ntypes = [\"*\"]\nmax_tlp = \"AMBER\"\n");
    }
    let a = Agreement::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    if a.needs_key() {
        a.with_key(key())
    } else {
        a
    }
}

pub fn gate(agreements: Vec<Agreement>) -> Gate {
    Gate::new(agreements).unwrap()
}

/// A stored object: raw text, facts, metadata.
#[derive(Clone, Debug)]
pub struct Stored {
    pub raw: String,
    pub facts: ObjectFacts,
    pub provider: String,
    pub collection: Option<String>,
    pub date_added: UtcMicros,
}

impl Stored {
    pub fn new(value: Value) -> Stored {
        Stored::from_provider(value, PROVIDER)
    }

    pub fn from_provider(value: Value, provider: &str) -> Stored {
        let raw = value.to_string();
        Stored {
            facts: ObjectFacts::extract(&value),
            raw,
            provider: provider.to_owned(),
            collection: None,
            date_added: t("2026-03-01T00:00:00Z"),
        }
    }

    pub fn version(&self) -> ObjectVersion<'_> {
        ObjectVersion {
            facts: &self.facts,
            provider: &self.provider,
            collection: self.collection.as_deref(),
            date_added: self.date_added,
            raw: &self.raw,
        }
    }

    pub fn resolved(&self) -> ResolvedObject {
        ResolvedObject {
            facts: self.facts.clone(),
            provider: self.provider.clone(),
            collection: self.collection.clone(),
            date_added: self.date_added,
            raw: Some(self.raw.as_str().into()),
        }
    }
}

/// A store of objects by id, as a resolver.
pub fn store(objects: &[&Stored]) -> HashMap<String, ResolvedObject> {
    objects
        .iter()
        .map(|o| (o.facts.id.clone(), o.resolved()))
        .collect()
}

/// A store with one collection: what an object read from the collection names
/// resolves there first, what an object read store-wide (or resolved outside the
/// collection) names resolves store-wide.
pub struct Collected {
    pub collection: HashMap<String, ResolvedObject>,
    pub store: HashMap<String, ResolvedObject>,
}

impl ReferenceResolver for Collected {
    fn resolve(&self, id: &str) -> Option<ResolvedObject> {
        self.resolve_from(id, Some("the collection"))
    }

    fn resolve_from(&self, id: &str, collection: Option<&str>) -> Option<ResolvedObject> {
        collection
            .and_then(|_| self.collection.get(id))
            .or_else(|| self.store.get(id))
            .cloned()
    }
}

/// Decides and returns the released text or the reason code.
pub fn decide(
    view: &RecipientView<'_>,
    object: &Stored,
    resolver: &HashMap<String, ResolvedObject>,
) -> Result<String, String> {
    match view.decide(&object.version(), resolver) {
        Decision::Release(r) => Ok(r.bytes.into_owned()),
        Decision::Withhold(reason) => Err(reason.code().to_owned()),
    }
}

pub fn indicator(id: u32, extra: Value) -> Value {
    let mut v = serde_json::json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{id:012}"),
        "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
        "pattern": "[domain-name:value = 'c2.example']", "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z"
    });
    merge(&mut v, extra);
    v
}

pub fn sdo(kind: &str, id: u32, extra: Value) -> Value {
    let mut v = serde_json::json!({
        "type": kind, "spec_version": "2.1",
        "id": format!("{kind}--00000000-0000-4000-8000-{id:012}"),
        "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
        "name": format!("{kind} {id}")
    });
    merge(&mut v, extra);
    v
}

pub fn relationship(id: u32, source: &str, target: &str) -> Value {
    serde_json::json!({
        "type": "relationship", "spec_version": "2.1",
        "id": format!("relationship--00000000-0000-4000-8000-{id:012}"),
        "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
        "relationship_type": "related-to", "source_ref": source, "target_ref": target
    })
}

pub fn ipv4(value: &str) -> Value {
    serde_json::json!({
        "type": "ipv4-addr", "spec_version": "2.1",
        "id": accord_agreements::sco_id("ipv4-addr", value), "value": value
    })
}

pub fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, extra) {
        for (k, v) in b {
            a.insert(k, v);
        }
    }
}

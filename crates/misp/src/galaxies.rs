//! STIX objects back to MISP galaxy clusters (`accord export --format misp`), as
//! misp-stix's stix2misp reads them:
//!
//! - an object labelled `misp:galaxy-type="…"` (what misp-stix, and [`crate::to_stix`],
//!   write for a cluster: `threat-actor`, `malware`, `tool`, `attack-pattern`,
//!   `course-of-action`, `intrusion-set`, `vulnerability`, sector `identity`, `location`)
//!   and an `x-misp-galaxy-cluster` are clusters of that galaxy type again, with their
//!   uuid (the internal parser);
//! - the same types without any `misp:` label (plain STIX: ATT&CK, a vendor's feed) are
//!   clusters of the galaxy `stix-2.1-<type>` (a class `identity` of `sector`), with the
//!   uuid misp-stix derives from the object's and MISP's organisation's (the external
//!   parser), so that two exports of one object give one cluster.
//!
//! Where a cluster goes (an attribute or an object it is related to, else the event) is
//! [`crate::from_stix`]'s business.

use serde_json::{json, Map, Value};
use uuid::Uuid;

type Obj = Map<String, Value>;

/// misp-stix's namespace for its UUIDv5 (`abstract.py`, `_UUIDv4`).
const NAMESPACE: Uuid = uuid::uuid!("76beed5f-7251-457e-8c2a-b45f7b589d3d");

/// The organisation misp-stix names when none is given (`importparser.py`,
/// `MISP_org_uuid`): part of the uuid of every cluster read from plain STIX.
const MISP_ORGANISATION: &str = "55f6ea65-aa10-4c5a-bf01-4f84950d210f";

/// Galaxy meta keys whose `-` misp-stix restores from the custom property's name
/// (`x_misp_cfr_type_of_incident` is `cfr-type-of-incident`): its frozen
/// `dash_meta_fields`.
const DASH_META_FIELDS: [&str; 22] = [
    "x_misp_attribution_confidence",
    "x_misp_budapest_convention",
    "x_misp_cfr_suspected_state_sponsor",
    "x_misp_cfr_suspected_victims",
    "x_misp_cfr_target_category",
    "x_misp_cfr_type_of_incident",
    "x_misp_colt_average",
    "x_misp_colt_median",
    "x_misp_microsoft_origin_threat",
    "x_misp_mode_of_operation",
    "x_misp_payment_method",
    "x_misp_ransomenotes_files",
    "x_misp_ransomenotes_refs",
    "x_misp_ransomnotes_filenames",
    "x_misp_ransomnotes_files",
    "x_misp_ransomnotes_filesnames",
    "x_misp_ransomnotes_refs",
    "x_misp_spoken_language",
    "x_misp_suspected_victims",
    "x_misp_target_category",
    "x_misp_targeted_sector",
    "x_misp_threat_actor_classification",
];

/// The property misp-stix writes the MISP spelling of folded meta keys into.
const ORIGINAL_NAMES: &str = "x_misp_original_names";

/// A galaxy cluster read from a STIX object.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    /// The galaxy (`type`, `name`, … without its clusters).
    pub galaxy: Obj,
    /// The cluster (`uuid`, `type`, `value`, `description`, `meta`, `tag_name`).
    pub cluster: Value,
    /// The `misp-galaxy:` tag misp-stix puts on what the cluster is attached to.
    pub tag: Option<String>,
}

impl Cluster {
    /// The galaxy type the cluster is grouped under.
    pub fn galaxy_type(&self) -> &str {
        self.galaxy
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The cluster a STIX object is, if it is one (`creator`: the name of an identity, for
/// a plain object's `source`).
pub(crate) fn cluster(o: &Obj, creator: &dyn Fn(&str) -> Option<String>) -> Option<Cluster> {
    let kind = o.get("type").and_then(Value::as_str)?;
    if kind == "x-misp-galaxy-cluster" {
        return custom(o);
    }
    let labels = strs(o, "labels");
    if let Some(galaxy_type) = label(&labels, "misp:galaxy-type") {
        return internal(o, kind, &galaxy_type, label(&labels, "misp:galaxy-name"));
    }
    if labels.iter().any(|l| l.starts_with("misp:")) {
        return None;
    }
    external(o, kind, creator)
}

/// An `x-misp-galaxy-cluster` (a cluster of a galaxy no STIX type stands for).
fn custom(o: &Obj) -> Option<Cluster> {
    let uuid = uuid_of(o)?;
    let galaxy_type = o.get("x_misp_type").and_then(Value::as_str)?;
    let value = o.get("x_misp_value").and_then(Value::as_str)?;
    // misp-stix writes "<galaxy's description> | <cluster's>" (or either alone; alone,
    // it is taken as the cluster's); it needs the galaxy's description to convert a
    // galaxy no STIX type stands for, and would write it twice if the cluster kept it.
    let written = o
        .get("x_misp_description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (galaxy_description, description) = match written.split_once(" | ") {
        Some((g, c)) if !c.contains(" | ") => (g, c),
        _ => ("", written),
    };
    let mut cluster = json!({
        "uuid": uuid, "type": galaxy_type, "value": value, "description": description,
    });
    if let Some(Value::Object(meta)) = o.get("x_misp_meta") {
        let names = o.get(ORIGINAL_NAMES).and_then(Value::as_object);
        let meta: Obj = meta
            .iter()
            .map(|(k, v)| {
                let key = names
                    .and_then(|n| n.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or(k);
                (key.to_string(), v.clone())
            })
            .collect();
        cluster["meta"] = Value::Object(meta);
    }
    let name = o
        .get("x_misp_name")
        .and_then(Value::as_str)
        .unwrap_or(galaxy_type);
    let mut g = galaxy(galaxy_type, name);
    g.insert("description".into(), json!(galaxy_description));
    Some(finish(g, cluster))
}

/// misp-stix's internal parser: an object it wrote for a cluster of `galaxy_type`.
fn internal(o: &Obj, kind: &str, galaxy_type: &str, name: Option<String>) -> Option<Cluster> {
    let uuid = uuid_of(o)?;
    let name_value = o
        .get("name")
        .and_then(Value::as_str)
        .or_else(|| o.get("id").and_then(Value::as_str))?;
    // A cluster whose galaxy has a description of its own was written "galaxy | cluster"
    // (a country "galaxy | value", its description being the STIX name).
    let (galaxy_description, mut description) = match o.get("description").and_then(Value::as_str) {
        Some(d) if d.matches(" | ").count() == 1 => {
            let (g, c) = d.split_once(" | ").unwrap_or_default();
            (g.to_string(), c.to_string())
        }
        Some(d) => (String::new(), d.to_string()),
        None => (String::new(), capitalize(name_value)),
    };
    if kind == "location" && galaxy_type == "country" {
        description = name_value.to_string();
    }
    // The cluster's own tag names it by its MISP value ("Mimikatz - S0002", where the
    // STIX name is "Mimikatz"): MISP finds a cluster by its tag, so the value comes from
    // the tag when there is one (misp-stix takes the STIX name).
    let tag_prefix = format!("misp-galaxy:{galaxy_type}=\"");
    let mut value = strs(o, "labels")
        .into_iter()
        .find_map(|l| l.strip_prefix(tag_prefix.as_str())?.strip_suffix('"'))
        .unwrap_or(name_value)
        .to_string();
    let mut meta = Obj::new();
    for (stix, misp) in meta_mapping(kind, false) {
        if let Some(v) = o.get(*stix) {
            meta.insert(misp.to_string(), v.clone());
        }
    }
    let names = o.get(ORIGINAL_NAMES).and_then(Value::as_object);
    for (key, v) in o.iter().filter(|(k, _)| k.starts_with("x_misp_")) {
        if key == ORIGINAL_NAMES {
            continue;
        }
        let relation = &key["x_misp_".len()..];
        let restored = match names {
            Some(n) => n
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(relation)
                .to_string(),
            None if DASH_META_FIELDS.contains(&key.as_str()) => relation.replace('_', "-"),
            None => relation.to_string(),
        };
        meta.insert(restored, v.clone());
    }
    let referenced = matches!(
        kind,
        "threat-actor"
            | "malware"
            | "tool"
            | "attack-pattern"
            | "intrusion-set"
            | "course-of-action"
            | "vulnerability"
    );
    if referenced {
        external_references(o, &mut meta, true);
    }
    // ATT&CK clusters are named "<name> - <id>"; the STIX name lost the id. misp-stix
    // adds it back, and keeps the STIX name of a malware, tool or intrusion set as a
    // synonym (MITRE's synonyms have the name: misp-stix's STIX left it out of the
    // aliases); so does Accord when the value came from the tag.
    if let Some(id) = meta.get("external_id").and_then(Value::as_str) {
        let id = id.to_string();
        if matches!(
            kind,
            "attack-pattern" | "course-of-action" | "malware" | "tool" | "intrusion-set"
        ) && !value.contains(&id)
        {
            value = format!("{value} - {id}");
        }
        if matches!(kind, "malware" | "tool" | "intrusion-set") && value != name_value {
            match meta.get_mut("synonyms") {
                Some(Value::Array(list)) => {
                    if !list.iter().any(|s| s.as_str() == Some(name_value)) {
                        list.push(json!(name_value));
                    }
                }
                _ => {
                    meta.insert("synonyms".into(), json!([name_value]));
                }
            }
        }
    }
    if matches!(kind, "attack-pattern" | "malware" | "tool") {
        kill_chain(o, &mut meta);
    }
    if matches!(kind, "threat-actor" | "malware" | "tool") {
        labels_meta(o, &mut meta);
    }
    let mut cluster = json!({
        "uuid": uuid, "type": galaxy_type, "value": value, "description": description,
    });
    if !meta.is_empty() {
        cluster["meta"] = Value::Object(meta);
    }
    let name = name.filter(|n| !n.is_empty());
    let mut g = galaxy(galaxy_type, name.as_deref().unwrap_or(galaxy_type));
    g.insert("description".into(), json!(galaxy_description));
    Some(finish(g, cluster))
}

/// misp-stix's external parser: a plain STIX object of a type that is a galaxy.
fn external(o: &Obj, kind: &str, creator: &dyn Fn(&str) -> Option<String>) -> Option<Cluster> {
    let galaxy_type = match kind {
        "threat-actor" | "tool" | "attack-pattern" | "course-of-action" | "intrusion-set"
        | "vulnerability" | "campaign" => kind,
        // A malware instance (`is_family: false`) is a MISP `malware` object
        // ([`malware_instance`]); one with samples, an object and a cluster: neither
        // here.
        "malware"
            if o.get("is_family").and_then(Value::as_bool) != Some(false)
                && !o.contains_key("sample_refs") =>
        {
            kind
        }
        "identity" if o.get("identity_class").and_then(Value::as_str) == Some("class") => "sector",
        // A location with a place (city, coordinates, address) is a geolocation object.
        "location"
            if ![
                "city",
                "latitude",
                "longitude",
                "postal_code",
                "street_address",
            ]
            .iter()
            .any(|f| o.contains_key(*f)) =>
        {
            kind
        }
        _ => return None,
    };
    let (name, description, icon) = galaxy_name(galaxy_type)?;
    let id = o.get("id").and_then(Value::as_str)?;
    let uuid = uuid_of(o)?;
    let value = o.get("name").and_then(Value::as_str).unwrap_or(id);
    let version = o
        .get("spec_version")
        .and_then(Value::as_str)
        .unwrap_or("2.0");
    let compact = version.replace('.', "");
    let source = o
        .get("created_by_ref")
        .and_then(Value::as_str)
        .map(|r| creator(r).unwrap_or_else(|| "misp-stix".into()))
        .unwrap_or_else(|| "misp-stix".into());
    let cluster_uuid = Uuid::new_v5(
        &NAMESPACE,
        format!("{uuid} - {MISP_ORGANISATION}").as_bytes(),
    );
    let mut g = Obj::new();
    g.insert("description".into(), json!(description));
    g.insert("namespace".into(), json!("stix"));
    let cluster_type;
    let mut cluster = json!({
        "value": value, "uuid": cluster_uuid.to_string(), "source": source,
    });
    if galaxy_type == "sector" {
        cluster_type = "sector".to_string();
        g.insert("name".into(), json!(name));
    } else {
        let full = format!("STIX {version} {name}");
        cluster_type = format!("stix-{version}-{galaxy_type}");
        cluster["version"] = json!(compact);
        cluster["collection_uuid"] = json!(Uuid::new_v5(&NAMESPACE, full.as_bytes()).to_string());
        g.insert(
            "uuid".into(),
            json!(Uuid::new_v5(&NAMESPACE, full.as_bytes()).to_string()),
        );
        g.insert("version".into(), json!(compact));
        if let Some(icon) = icon {
            g.insert("icon".into(), json!(icon));
        }
        g.insert("name".into(), json!(full));
    }
    g.insert("type".into(), json!(cluster_type));
    cluster["type"] = json!(cluster_type);
    cluster["description"] = match o.get("description").and_then(Value::as_str) {
        Some(d) => json!(d),
        None => json!(capitalize(value)),
    };
    let mut meta = Obj::new();
    for field in ["created", "modified", "first_seen", "last_seen"] {
        if let Some(t) = o.get(field).and_then(Value::as_str).and_then(meta_time) {
            meta.insert(field.into(), json!(t));
        }
    }
    for (stix, misp) in meta_mapping(kind, true) {
        if let Some(v) = o.get(*stix) {
            meta.insert(misp.to_string(), v.clone());
        }
    }
    if kind != "identity" {
        external_references(o, &mut meta, false);
    }
    if matches!(kind, "attack-pattern" | "malware" | "tool") {
        kill_chain(o, &mut meta);
    }
    if matches!(kind, "threat-actor" | "malware" | "tool" | "location") {
        labels_meta(o, &mut meta);
    }
    if !meta.is_empty() {
        cluster["meta"] = Value::Object(meta);
    }
    // The external parser tags nothing with its clusters.
    let mut made = finish(g, cluster);
    made.tag = None;
    if let Value::Object(c) = &mut made.cluster {
        c.remove("tag_name");
    }
    Some(made)
}

/// What misp-stix's external parser makes of a plain STIX malware instance
/// (`is_family: false`, no `sample_refs`, no `misp:` label): not a cluster but a MISP
/// `malware` object (uuid the malware's), an attribute per property (`aliases` →
/// `alias`, `architecture_execution_envs`, `capabilities`, `description`,
/// `first_seen`, `implementation_languages`, `is_family`, `labels` and `malware_types`
/// → `malware_type`, `last_seen`, `name`).
pub(crate) fn malware_instance(o: &Obj) -> Option<Value> {
    if o.get("type").and_then(Value::as_str) != Some("malware")
        || o.get("is_family").and_then(Value::as_bool) != Some(false)
        || o.contains_key("sample_refs")
        || strs(o, "labels").iter().any(|l| l.starts_with("misp:"))
    {
        return None;
    }
    plain_object(
        o,
        "malware",
        &[
            ("aliases", "alias", "text", false),
            (
                "architecture_execution_envs",
                "architecture_execution_env",
                "text",
                true,
            ),
            ("capabilities", "capability", "text", true),
            ("description", "description", "text", false),
            ("first_seen", "first_seen", "datetime", false),
            (
                "implementation_languages",
                "implementation_language",
                "text",
                true,
            ),
            ("is_family", "is_family", "boolean", true),
            ("labels", "malware_type", "text", true),
            ("last_seen", "last_seen", "datetime", false),
            ("malware_types", "malware_type", "text", true),
            ("name", "name", "text", false),
        ],
    )
}

/// What misp-stix's external parser makes of a plain STIX location with a place (a
/// city, coordinates, a postal code or a street address, no `misp:` label): a MISP
/// `geolocation` object (uuid the location's, `comment` its description): `city`,
/// `countrycode`, `text`, `latitude`, `longitude`, `zipcode`, `region`, `address`, and
/// the `precision` (metres) as `accuracy-radius` (kilometres).
pub(crate) fn place(o: &Obj) -> Option<Value> {
    if o.get("type").and_then(Value::as_str) != Some("location")
        || !PLACE_FIELDS.iter().any(|f| o.contains_key(*f))
        || strs(o, "labels").iter().any(|l| l.starts_with("misp:"))
    {
        return None;
    }
    let mut object = plain_object(
        o,
        "geolocation",
        &[
            ("city", "city", "text", false),
            ("country", "countrycode", "text", false),
            ("description", "text", "text", true),
            ("latitude", "latitude", "float", true),
            ("longitude", "longitude", "float", true),
            ("postal_code", "zipcode", "text", false),
            ("region", "region", "text", false),
            ("street_address", "address", "text", false),
        ],
    )?;
    if let Some(d) = o.get("description") {
        object["comment"] = d.clone();
    }
    if let Some(metres) = o.get("precision").and_then(Value::as_f64) {
        let id = o.get("id").and_then(Value::as_str)?;
        if let (Some(attribute), Value::Array(list)) = (
            plain_attribute(
                id,
                "accuracy-radius",
                "float",
                true,
                &json!(metres / 1000.0),
            ),
            &mut object["Attribute"],
        ) {
            list.push(attribute);
        }
    }
    Some(object)
}

/// The fields that make a location a place (a geolocation object), not a region.
const PLACE_FIELDS: [&str; 5] = [
    "city",
    "latitude",
    "longitude",
    "postal_code",
    "street_address",
];

/// A MISP object of template `name` from a plain STIX object: uuid the object's,
/// `meta-category` `misc`, `timestamp` its `modified`, an attribute per value of the
/// `(property, relation, type, disable_correlation)` it has.
fn plain_object(o: &Obj, name: &str, mapping: &[(&str, &str, &str, bool)]) -> Option<Value> {
    let id = o.get("id").and_then(Value::as_str)?;
    let uuid = uuid_of(o)?;
    let mut attributes = Vec::new();
    for (property, relation, kind, no_correlation) in mapping {
        let values = match o.get(*property) {
            Some(Value::Array(items)) => items.clone(),
            Some(v) => vec![v.clone()],
            None => continue,
        };
        for v in values {
            attributes.extend(plain_attribute(id, relation, kind, *no_correlation, &v));
        }
    }
    let timestamp = o
        .get("modified")
        .and_then(Value::as_str)
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or(0, time::OffsetDateTime::unix_timestamp);
    Some(json!({
        "name": name, "meta-category": "misc", "uuid": uuid,
        "timestamp": timestamp.to_string(), "Attribute": attributes,
    }))
}

/// One attribute of a [`plain_object`]: its uuid UUIDv5 of `"<id> - <relation> -
/// <value>"`, the value as Python writes it (`False`, `49.0`, a time `2023-12-01
/// 00:00:00+00:00`) as misp-stix seeds it; a time's value its ISO form (`+00:00`).
fn plain_attribute(
    id: &str,
    relation: &str,
    kind: &str,
    no_correlation: bool,
    v: &Value,
) -> Option<Value> {
    let (seed, value) = match (v, kind) {
        (Value::Bool(b), _) => (if *b { "True" } else { "False" }.to_string(), v.clone()),
        (Value::Number(n), "float") => {
            let f = serde_json::Number::from_f64(n.as_f64()?)?;
            (f.to_string(), Value::Number(f))
        }
        (Value::String(t), "datetime") => {
            let (base, micros) = crate::to_stix::utc_parts(t)?;
            let fraction = if micros == 0 {
                String::new()
            } else {
                format!(".{micros:06}")
            };
            (
                format!("{}{fraction}+00:00", base.replacen('T', " ", 1)),
                json!(format!("{base}{fraction}+00:00")),
            )
        }
        (Value::String(t), _) => (t.clone(), v.clone()),
        _ => (v.to_string(), v.clone()),
    };
    let a_uuid = Uuid::new_v5(&NAMESPACE, format!("{id} - {relation} - {seed}").as_bytes());
    Some(json!({
        "uuid": a_uuid.to_string(), "object_relation": relation, "value": value,
        "type": kind, "disable_correlation": no_correlation, "to_ids": false,
        "category": "Other",
    }))
}

/// The cluster with its `misp-galaxy:` tag (`tag_name`), as misp-stix names it: by
/// value, or by uuid for the `stix-*` galaxies and a value a tag cannot carry.
fn finish(galaxy: Obj, mut cluster: Value) -> Cluster {
    let kind = cluster["type"].as_str().unwrap_or_default().to_string();
    let uuid = cluster["uuid"].as_str().unwrap_or_default().to_string();
    let value = cluster["value"].as_str().unwrap_or_default().to_string();
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '"' && !c.is_ascii_control())
            .collect::<String>()
            .trim()
            .to_string()
    };
    let named = if kind.starts_with("stix-") || clean(&value) != value {
        uuid
    } else {
        value
    };
    let tag = (!clean(&kind).is_empty() && !clean(&named).is_empty())
        .then(|| format!("misp-galaxy:{}=\"{}\"", clean(&kind), clean(&named)));
    if let Some(t) = &tag {
        cluster["tag_name"] = json!(t);
    }
    Cluster {
        galaxy,
        cluster,
        tag,
    }
}

/// A galaxy of a cluster misp-stix wrote: its type and name (from the labels); STIX
/// does not carry the galaxy's description (misp-stix needs one, empty here).
fn galaxy(galaxy_type: &str, name: &str) -> Obj {
    let mut g = Obj::new();
    g.insert("type".into(), json!(galaxy_type));
    g.insert("name".into(), json!(name));
    g.insert("description".into(), json!(""));
    g
}

/// misp-stix's `<type>_meta_mapping`s: the STIX properties of a cluster's object that
/// are meta fields (the external parser's `location` has its own).
fn meta_mapping(kind: &str, external: bool) -> &'static [(&'static str, &'static str)] {
    match kind {
        "threat-actor" => &[
            ("aliases", "synonyms"),
            ("goals", "goals"),
            ("personal_motivations", "personal_motivations"),
            ("primary_motivation", "primary_motivation"),
            ("resource_level", "resource_level"),
            ("roles", "roles"),
            ("secondary_motivations", "secondary_motivations"),
            ("sophistication", "sophistication"),
            ("threat_actor_types", "threat_actor_types"),
        ],
        "malware" => &[
            ("aliases", "synonyms"),
            ("architecture_execution_envs", "architecture_execution_envs"),
            ("capabilities", "capabilities"),
            ("implementation_languages", "implementation_languages"),
            ("is_family", "is_family"),
            ("malware_types", "malware_types"),
        ],
        "tool" => &[
            ("aliases", "synonyms"),
            ("tool_types", "tool_types"),
            ("tool_version", "tool_version"),
        ],
        "attack-pattern" => &[("aliases", "synonyms")],
        "intrusion-set" => &[
            ("aliases", "synonyms"),
            ("goals", "goals"),
            ("primary_motivation", "primary_motivation"),
            ("resource_level", "resource_level"),
            ("secondary_motivations", "secondary_motivations"),
        ],
        "campaign" => &[("aliases", "synonyms"), ("objective", "objective")],
        "location" if external => &[
            ("administrative_area", "administrative_area"),
            ("country", "country"),
            ("region", "region"),
        ],
        _ => &[],
    }
}

/// External references as meta: their urls `refs`, their ids `external_id` (one id
/// alone, not a list); the internal parser reads a `cve` id as an alias.
fn external_references(o: &Obj, meta: &mut Obj, internal: bool) {
    let Some(references) = o.get("external_references").and_then(Value::as_array) else {
        return;
    };
    // Keys in the order they first appear, as misp-stix's dictionary has them (the
    // order misp-stix writes the references back in).
    let mut found = Obj::new();
    let mut add = |key: &str, v: &Value| {
        if let Value::Array(list) = found.entry(key).or_insert_with(|| json!([])) {
            list.push(v.clone());
        }
    };
    for r in references {
        if let Some(url) = r.get("url").filter(|u| truthy(u)) {
            add("refs", url);
        }
        if let Some(id) = r.get("external_id").filter(|i| truthy(i)) {
            if internal && r.get("source_name").and_then(Value::as_str) == Some("cve") {
                add("aliases", id);
            } else {
                add("external_id", id);
            }
        }
    }
    for (key, mut v) in found {
        if key == "external_id" {
            if let Value::Array(list) = &mut v {
                if list.len() == 1 {
                    v = list.remove(0);
                }
            }
        }
        meta.insert(key, v);
    }
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null) && v.as_str() != Some("")
}

/// `kill_chain`: each phase as `<kill chain>:<phase>`.
fn kill_chain(o: &Obj, meta: &mut Obj) {
    if let Some(phases) = o.get("kill_chain_phases").and_then(Value::as_array) {
        let chains: Vec<Value> = phases
            .iter()
            .map(|p| {
                let name = p
                    .get("kill_chain_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let phase = p
                    .get("phase_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                json!(format!("{name}:{phase}"))
            })
            .collect();
        meta.insert("kill_chain".into(), Value::Array(chains));
    }
}

/// `labels`: the object's labels but the `misp:galaxy-*` ones and the cluster's own
/// `misp-galaxy:` tag (misp-stix keeps the tag, which misp-stix then writes back as the
/// object's `threat_actor_types`, `malware_types`, `tool_types`: the cluster has its
/// `tag_name` instead).
fn labels_meta(o: &Obj, meta: &mut Obj) {
    let labels: Vec<Value> = strs(o, "labels")
        .into_iter()
        .filter(|l| !l.starts_with("misp:galaxy-") && !l.starts_with("misp-galaxy:"))
        .map(|l| json!(l))
        .collect();
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Array(labels));
    }
}

/// misp-stix's `galaxy_name_mapping` (external parser): name, description, icon.
fn galaxy_name(kind: &str) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    Some(match kind {
        "attack-pattern" => ("Attack Pattern", "Attack Patterns are a type of TTP that describe ways that adversaries attempt to compromise targets. Attack Patterns are used to help categorize attacks, generalize specific attacks to the patterns that they follow, and provide detailed information about how attacks are performed.", Some("map")),
        "campaign" => ("Campaign", "A Campaign is a grouping of adversarial behaviors that describes a set of malicious activities or attacks (sometimes called waves) that occur over a period of time against a specific set of targets. Campaigns usually have well defined objectives and may be part of an Intrusion Set.", Some("user-secret")),
        "course-of-action" => ("Course of Action", "A Course of Action is an action taken either to prevent an attack or to respond to an attack that is in progress. It may describe technical, automatable responses (applying patches, reconfiguring firewalls) but can also describe higher level actions like employee training or policy changes.", Some("link")),
        "intrusion-set" => ("Intrusion Set", "An Intrusion Set is a grouped set of adversarial behaviors and resources with common properties that is believed to be orchestrated by a single organization. An Intrusion Set may capture multiple Campaigns or other activities that are all tied together by shared attributes indicating a commonly known or unknown Threat Actor.", Some("user-secret")),
        "location" => ("Location", "A Location represents a geographic location. The location may be described as any, some or all of the following: region (e.g., North America), civic address (e.g. New York, US), latitude and longitude.", Some("globe")),
        "malware" => ("Malware", "Malware is a type of TTP that represents malicious code. It generally refers to a program that is inserted into a system, usually covertly. The intent is to compromise the confidentiality, integrity, or availability of the victim's data, applications, or operating system (OS) or otherwise annoy or disrupt the victim.", Some("optin-monster")),
        "sector" => ("Sector", "Activity sectors", None),
        "threat-actor" => ("Threat Actor", "Threat Actors are actual individuals, groups, or organizations believed to be operating with malicious intent. A Threat Actor is not an Intrusion Set but may support or be affiliated with various Intrusion Sets, groups, or organizations over time.", Some("user-secret")),
        "tool" => ("Tool", "Tools are legitimate software that can be used by threat actors to perform attacks. Knowing how and when threat actors use such tools can be important for understanding how campaigns are executed. Unlike malware, these tools or software packages are often found on a system and have legitimate purposes for power users, system administrators, network administrators, or even normal users.", Some("gavel")),
        "vulnerability" => ("Vulnerability", "A Vulnerability is a weakness or defect in the requirements, designs, or implementations of the computational logic (e.g., code) found in software and some hardware components (e.g., firmware) that can be directly exploited to negatively impact the confidentiality, integrity, or availability of that system.", Some("bug")),
        _ => return None,
    })
}

/// A STIX time as misp-stix writes it into meta: `YYYY-MM-DDTHH:MM:SSZ`, with six
/// digits of fraction when there is one.
fn meta_time(t: &str) -> Option<String> {
    let (base, micros) = crate::to_stix::utc_parts(t)?;
    Some(match micros {
        0 => format!("{base}Z"),
        us => format!("{base}.{us:06}Z"),
    })
}

/// Python's `str.capitalize`: the first character upper case, the rest lower case.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn uuid_of(o: &Obj) -> Option<String> {
    o.get("id")
        .and_then(Value::as_str)
        .and_then(|id| id.split("--").nth(1))
        .map(str::to_string)
}

fn label(labels: &[&str], key: &str) -> Option<String> {
    labels.iter().find_map(|l| {
        let (field, value) = l.split_once('=')?;
        (field == key).then(|| value.trim_matches('"').to_string())
    })
}

fn strs<'a>(o: &'a Obj, key: &str) -> Vec<&'a str> {
    o.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

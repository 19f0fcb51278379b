//! STIX 2.1 objects back to MISP events (`accord export --format misp`): the inverse of
//! [`crate::to_stix`] for what it writes, and a reading of plain STIX for the rest.
//!
//! - Each `report`/`grouping` becomes an event (uuid from its id, `info` from its name,
//!   `published` for a report); objects no report refers to go into one event of their
//!   own ("Accord export").
//! - An `indicator` becomes an attribute with `to_ids: true`; an `observed-data` whose
//!   uuid no indicator shares, an attribute with `to_ids: false`. The MISP type comes from
//!   the `misp:type="…"` label misp-stix writes, else from the SCO or the pattern
//!   (`ipv4-addr`/`ipv6-addr` → `ip-dst`, `domain-name` → `domain`, `url`, `email-addr`
//!   → `email`, file hashes → `md5`/`sha1`/`sha256`/…). `x-misp-attribute` and
//!   `x-misp-object` come back whole; `vulnerability` and `campaign` as attributes.
//! - TLP marking refs become `tlp:*` tags, other labels (not `misp:*`) tags.
//! - Galaxy SDOs (misp-stix's, and plain STIX ones) become galaxy clusters
//!   (`galaxies.rs`) of the attribute or object a relationship relates them to,
//!   else of the event.
//! - Anything else is left out, with its id and the reason.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::galaxies::{self, Cluster};
use crate::to_stix::Tlp;

/// The types of what a MISP object becomes, in the order the export looks for it
/// (an observed-data before the indicator of the same uuid; an indicator alone is a
/// rule object's).
const OBJECT_TYPES: [&str; 9] = [
    "observed-data",
    "vulnerability",
    "attack-pattern",
    "course-of-action",
    "identity",
    "location",
    "malware",
    "tool",
    "indicator",
];

/// Namespace of the uuid of the event holding objects no report refers to.
const EXPORT_NAMESPACE: Uuid = uuid::uuid!("1b4e28ba-2fa1-11d2-883f-0016d3cca427");

/// Collects STIX objects, then writes MISP events.
#[derive(Debug, Default)]
pub struct Exporter {
    objects: Vec<Value>,
    index: HashMap<String, usize>,
}

/// The MISP events and what was left out.
#[derive(Debug)]
pub struct Exported {
    /// `[{"Event": {...}}, ...]`.
    pub events: Vec<Value>,
    /// Attributes written.
    pub attributes: usize,
    /// (object id, reason) of each object left out.
    pub left_out: Vec<(String, String)>,
}

type Obj = Map<String, Value>;

impl Exporter {
    /// An empty exporter.
    pub fn new() -> Exporter {
        Exporter::default()
    }

    /// Add one STIX object (JSON text); `Err` if it is not a JSON object with an id.
    pub fn add(&mut self, json: &str) -> Result<(), String> {
        let value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .ok_or("an object without an id")?
            .to_string();
        self.index.insert(id, self.objects.len());
        self.objects.push(value);
        Ok(())
    }

    fn get(&self, id: &str) -> Option<&Obj> {
        self.index
            .get(id)
            .and_then(|&i| self.objects[i].as_object())
    }

    /// The events.
    pub fn render(&self) -> Exported {
        let mut out = Exported {
            events: Vec::new(),
            attributes: 0,
            left_out: Vec::new(),
        };
        let mut contained: HashSet<String> = HashSet::new();
        let mut containers = Vec::new();
        for o in self.objects.iter().filter_map(Value::as_object) {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
            if kind == "report" || kind == "grouping" {
                containers.push(o);
                for r in strs(o, "object_refs") {
                    contained.insert(r.to_string());
                }
            }
        }
        let mut used: HashSet<String> = HashSet::new();
        for c in &containers {
            let refs: Vec<&str> = strs(c, "object_refs");
            let event = self.event(c, &refs, &mut used, &mut out);
            out.events.push(event);
        }
        let loose: Vec<&str> = self
            .objects
            .iter()
            .filter_map(|o| o.get("id").and_then(Value::as_str))
            .filter(|id| !contained.contains(*id))
            .filter(|id| {
                let t = id.split("--").next().unwrap_or_default();
                let cluster = || {
                    self.get(id).is_some_and(|o| {
                        galaxies::cluster(o, &|_| None).is_some()
                            || galaxies::malware_instance(o).is_some()
                            || galaxies::place(o).is_some()
                    })
                };
                // A relationship goes with them: it places a cluster on an attribute.
                cluster()
                    || matches!(
                        t,
                        "indicator"
                            | "relationship"
                            | "observed-data"
                            | "x-misp-attribute"
                            | "x-misp-object"
                            | "vulnerability"
                            | "campaign"
                            | "ipv4-addr"
                            | "ipv6-addr"
                            | "domain-name"
                            | "url"
                            | "email-addr"
                            | "file"
                    )
            })
            .collect();
        if !loose.is_empty() {
            let mut head = Obj::new();
            head.insert(
                "id".into(),
                json!(format!(
                    "grouping--{}",
                    Uuid::new_v5(&EXPORT_NAMESPACE, b"accord-export")
                )),
            );
            head.insert("name".into(), json!("Accord export"));
            let event = self.event(&head, &loose, &mut used, &mut out);
            let empty = |k: &str| event["Event"][k].as_array().is_none_or(Vec::is_empty);
            if !(empty("Attribute") && empty("Object") && empty("Galaxy")) {
                out.events.push(event);
            }
        }
        // Whatever no event used: left out, with the reason.
        for o in self.objects.iter().filter_map(Value::as_object) {
            let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
            let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
            if used.contains(id) || matches!(kind, "report" | "grouping") {
                continue;
            }
            let reason = match kind {
                "relationship" | "identity" | "marking-definition" | "note" => "no MISP attribute (relationships, identities and markings are carried by the event)",
                _ => "no MISP attribute type for this object",
            };
            out.left_out.push((id.to_string(), reason.to_string()));
        }
        out
    }

    fn event(
        &self,
        c: &Obj,
        refs: &[&str],
        used: &mut HashSet<String>,
        out: &mut Exported,
    ) -> Value {
        let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
        let uuid = id.split("--").nth(1).unwrap_or_default().to_string();
        let modified = c
            .get("modified")
            .and_then(Value::as_str)
            .and_then(epoch)
            .unwrap_or(0);
        let created = c
            .get("created")
            .and_then(Value::as_str)
            .unwrap_or("1970-01-01");
        let mut e = Obj::new();
        e.insert("uuid".into(), json!(uuid));
        e.insert(
            "info".into(),
            json!(c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("Accord export")),
        );
        e.insert(
            "date".into(),
            json!(created.get(..10).unwrap_or("1970-01-01")),
        );
        e.insert("timestamp".into(), json!(modified.to_string()));
        let published = c.get("type").and_then(Value::as_str) == Some("report");
        e.insert("published".into(), json!(published));
        if published {
            if let Some(p) = c.get("published").and_then(Value::as_str).and_then(epoch) {
                e.insert("publish_timestamp".into(), json!(p.to_string()));
            }
        }
        e.insert("analysis".into(), json!("0"));
        e.insert("threat_level_id".into(), json!("4"));
        if let Some(org) = c
            .get("created_by_ref")
            .and_then(Value::as_str)
            .and_then(|r| self.get(r))
        {
            e.insert("Orgc".into(), organisation(org));
        }
        let mut attributes = Vec::new();
        let mut objects = Vec::new();
        let indicators: HashSet<&str> = refs
            .iter()
            .filter(|r| r.starts_with("indicator--"))
            .filter_map(|r| r.split("--").nth(1))
            .collect();
        let creator = |r: &str| {
            self.get(r)
                .and_then(|i| i.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut clusters: Vec<(&str, Cluster)> = Vec::new();
        for r in refs {
            let Some(o) = self.get(r) else { continue };
            let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
            let o_uuid = r.split("--").nth(1).unwrap_or_default();
            if let Some(cluster) = galaxies::cluster(o, &creator) {
                used.insert(r.to_string());
                if !clusters.iter().any(|(id, _)| id == r) {
                    clusters.push((r, cluster));
                }
                continue;
            }
            if let Some(object) = galaxies::malware_instance(o).or_else(|| galaxies::place(o)) {
                used.insert(r.to_string());
                objects.push(object);
                continue;
            }
            if OBJECT_TYPES.contains(&kind) {
                if let Some(made) = self.misp_object(o_uuid) {
                    for id in OBJECT_TYPES.iter().map(|t| format!("{t}--{o_uuid}")) {
                        if let Some(od) = self.get(&id) {
                            for s in strs(od, "object_refs") {
                                used.insert(s.to_string());
                            }
                        }
                        used.insert(id);
                    }
                    for object in made {
                        if !objects.iter().any(|x: &Value| x["uuid"] == object["uuid"]) {
                            objects.push(object);
                        }
                    }
                    continue;
                }
            }
            let attribute = match kind {
                "indicator" => self.indicator(o, o_uuid),
                "observed-data" if !indicators.contains(o_uuid) => self.observed(o, o_uuid, false),
                "observed-data" => {
                    used.insert(r.to_string());
                    for s in strs(o, "object_refs") {
                        used.insert(s.to_string());
                    }
                    continue;
                }
                "x-misp-attribute" => Some(x_attribute(o, o_uuid)),
                "vulnerability" | "campaign" => {
                    let t = if kind == "vulnerability" {
                        "vulnerability"
                    } else {
                        "campaign-name"
                    };
                    o.get("name")
                        .and_then(Value::as_str)
                        .map(|n| base(o, o_uuid, t, n, false))
                }
                "x-misp-object" => {
                    objects.push(x_object(o, o_uuid));
                    used.insert(r.to_string());
                    continue;
                }
                "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "file" => {
                    if used.contains(*r) {
                        continue;
                    }
                    sco_attribute(o, o_uuid)
                }
                _ => None,
            };
            if let Some(a) = attribute {
                used.insert(r.to_string());
                if kind == "observed-data" || kind == "indicator" {
                    let od = format!("observed-data--{o_uuid}");
                    if let Some(odo) = self.get(&od) {
                        used.insert(od.clone());
                        for s in strs(odo, "object_refs") {
                            used.insert(s.to_string());
                        }
                    }
                }
                attributes.push(a);
            }
        }
        let mut reports = Vec::new();
        let mut on_reports: Vec<(&str, String, &str, Value)> = Vec::new();
        for r in refs {
            if let Some(o) = self.get(r) {
                if let Some((target, key, mut data)) = analyst_data(o) {
                    let target_uuid = target.split("--").nth(1).unwrap_or_default();
                    let layer = if target == id {
                        data["object_type"] = json!("Event");
                        Some(&mut e)
                    } else if let Some(Value::Object(a)) =
                        attributes.iter_mut().find(|a| a["uuid"] == target_uuid)
                    {
                        data["object_type"] = json!("Attribute");
                        Some(a)
                    } else if let Some(Value::Object(x)) =
                        objects.iter_mut().find(|x| x["uuid"] == target_uuid)
                    {
                        data["object_type"] = json!("Object");
                        Some(x)
                    } else {
                        // Of an event report's note: placed once the reports are read.
                        if target.starts_with("note--") {
                            on_reports.push((r, target_uuid.to_string(), key, data));
                        }
                        continue;
                    };
                    if let Some(layer) = layer {
                        data["object_uuid"] = json!(if target == id { &uuid } else { target_uuid });
                        if let Value::Array(list) = layer.entry(key).or_insert_with(|| json!([])) {
                            list.push(data);
                        }
                        used.insert(r.to_string());
                    }
                    continue;
                }
                if self.sighting(o, &mut attributes, &mut objects) {
                    used.insert(r.to_string());
                }
                if let Some(report) = event_report(o) {
                    reports.push(report);
                    used.insert(r.to_string());
                }
                if object_reference(o, &attributes, &mut objects) {
                    used.insert(r.to_string());
                }
            }
        }
        // misp-stix: a cluster related to an attribute (or a MISP object: each of its
        // attributes) is that attribute's galaxy; the others are the event's.
        let mut attached: HashSet<&str> = HashSet::new();
        for r in refs {
            let Some(o) = self.get(r) else { continue };
            if o.get("type").and_then(Value::as_str) != Some("relationship") {
                continue;
            }
            let end = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            let Some((target, cluster)) = clusters.iter().find(|(id, _)| *id == end("target_ref"))
            else {
                continue;
            };
            let source = end("source_ref").split("--").nth(1).unwrap_or_default();
            let mut found = false;
            if let Some(Value::Object(a)) = attributes.iter_mut().find(|a| a["uuid"] == source) {
                attach(a, cluster);
                found = true;
            } else if let Some(x) = objects.iter_mut().find(|x| x["uuid"] == source) {
                for a in x
                    .get_mut("Attribute")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Value::Object(a) = a {
                        attach(a, cluster);
                        found = true;
                    }
                }
            }
            if found {
                attached.insert(target);
                used.insert(r.to_string());
            }
        }
        for (id, cluster) in &clusters {
            if !attached.contains(id) {
                attach(&mut e, cluster);
            }
        }
        // misp-stix: a relationship between two clusters of the event that keep their
        // STIX uuid is a relation of the first (its type the relationship's).
        for r in refs {
            if let Some(relation) = cluster_relation(self.get(r), &clusters, &attached) {
                if add_relation(&mut e, relation) {
                    used.insert(r.to_string());
                }
            }
        }
        for (r, target, key, mut data) in on_reports {
            let report = reports
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .find(|x| x.get("uuid").and_then(Value::as_str) == Some(target.as_str()));
            if let Some(report) = report {
                data["object_type"] = json!("EventReport");
                data["object_uuid"] = json!(target);
                if let Value::Array(list) = report.entry(key).or_insert_with(|| json!([])) {
                    list.push(data);
                }
                used.insert(r.to_string());
            }
        }
        if !reports.is_empty() {
            e.insert("EventReport".into(), Value::Array(reports));
        }
        out.attributes += attributes.len();
        e.insert("Attribute".into(), Value::Array(attributes));
        e.insert("Object".into(), Value::Array(objects));
        let mut event_tags = tags(c);
        if let Some(Value::Array(galaxy_tags)) = e.remove("Tag") {
            event_tags.extend(galaxy_tags);
        }
        e.insert("Tag".into(), Value::Array(event_tags));
        json!({ "Event": e })
    }

    /// A `sighting` (MISP sighting type 0) or an `opinion` `strongly-disagree` (type 1,
    /// a false positive), as [`crate::to_stix`] writes them, back on the attribute they
    /// are of (of a MISP object: on its first attribute, misp-stix gathering the
    /// sightings of all its attributes): uuid, date, source, organisation. Whether it
    /// found its attribute.
    fn sighting(&self, o: &Obj, attributes: &mut [Value], objects: &mut [Value]) -> bool {
        let (kind, target) = match o.get("type").and_then(Value::as_str) {
            Some("sighting") => ("0", o.get("sighting_of_ref").and_then(Value::as_str)),
            Some("opinion")
                if o.get("opinion").and_then(Value::as_str) == Some("strongly-disagree")
                    && !strs(o, "labels").contains(&"misp:context-layer=\"Analyst Opinion\"") =>
            {
                ("1", strs(o, "object_refs").into_iter().next())
            }
            _ => return false,
        };
        let Some(target) = target.and_then(|t| t.split("--").nth(1)) else {
            return false;
        };
        let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
        let mut s = Obj::new();
        s.insert(
            "uuid".into(),
            json!(id.split("--").nth(1).unwrap_or_default()),
        );
        s.insert("type".into(), json!(kind));
        if let Some(t) = o.get("created").and_then(Value::as_str).and_then(epoch) {
            s.insert("date_sighting".into(), json!(t.to_string()));
        }
        if let Some(d) = o.get("description").and_then(Value::as_str) {
            s.insert("source".into(), json!(d));
        }
        let org_ref = strs(o, "where_sighted_refs")
            .into_iter()
            .next()
            .or_else(|| o.get("x_misp_author_ref").and_then(Value::as_str));
        if let Some(org) = org_ref.and_then(|r| self.get(r)) {
            s.insert("Organisation".into(), organisation(org));
        }
        let attribute = match attributes.iter_mut().find(|a| a["uuid"] == target) {
            Some(a) => Some(a),
            None => objects
                .iter_mut()
                .find(|x| x["uuid"] == target)
                .and_then(|x| x.get_mut("Attribute"))
                .and_then(Value::as_array_mut)
                .and_then(|a| a.first_mut()),
        };
        let Some(Value::Object(a)) = attribute else {
            return false;
        };
        match a.get_mut("Sighting") {
            Some(Value::Array(list)) => list.push(Value::Object(s)),
            _ => {
                a.insert("Sighting".into(), json!([s]));
            }
        }
        true
    }

    /// The MISP object an observed-data (with the indicator of the same uuid) or a
    /// vulnerability that misp-stix wrote for one of the templates
    /// [`crate::to_stix`] maps comes from: the template from the `misp:name` label,
    /// the attributes from the SCOs' properties (the inverse of the template's
    /// mapping; a custom `x_misp_<relation>` property gives a `text` attribute of that
    /// relation), `to_ids` on the attributes whose value the indicator's pattern
    /// compares. `None` for any other object.
    fn misp_object(&self, uuid: &str) -> Option<Vec<Value>> {
        let od = OBJECT_TYPES
            .iter()
            .find_map(|t| self.get(&format!("{t}--{uuid}")))?;
        let name = misp_label(od, "name")?;
        let meta = misp_label(od, "meta-category").unwrap_or_default();
        let scos: Vec<&Obj> = strs(od, "object_refs")
            .into_iter()
            .filter_map(|r| self.get(r))
            .collect();
        let attributes = match od.get("type").and_then(Value::as_str) {
            Some("observed-data") => crate::objects::attributes_of(&name, uuid, &scos)?,
            Some(_) => crate::objects::sdo_attributes(&name, od)?,
            None => return None,
        };
        let indicator = self.get(&format!("indicator--{uuid}"));
        let pattern = indicator
            .and_then(|i| i.get("pattern").and_then(Value::as_str))
            .unwrap_or_default();
        let compared: HashSet<String> = literals(pattern).into_iter().collect();
        let timestamp = od
            .get("modified")
            .and_then(Value::as_str)
            .and_then(epoch)
            .unwrap_or(0)
            .to_string();
        let to_misp = |attributes: Vec<crate::objects::Back>, owner: &str| -> Vec<Value> {
            attributes
                .into_iter()
                .map(|a| {
                    let a_uuid = a.uuid.unwrap_or_else(|| {
                        Uuid::new_v5(
                            &EXPORT_NAMESPACE,
                            format!("{owner}|{}|{}", a.relation, a.value).as_bytes(),
                        )
                        .to_string()
                    });
                    // A socket state is compared as a boolean (`is_listening = true`).
                    let to_ids = indicator.is_some()
                        && (crate::objects::pattern_forms(&a.kind, &a.value)
                            .iter()
                            .any(|f| compared.contains(f))
                            || (a.relation == "state"
                                && pattern.contains(&format!(".is_{} = true", a.value))));
                    let mut attribute = json!({
                        "uuid": a_uuid, "type": a.kind, "object_relation": a.relation,
                        "value": a.value, "to_ids": to_ids, "timestamp": timestamp,
                        "category": crate::objects::category_of(&a.kind, &meta),
                        "comment": a.comment.unwrap_or_default(), "Tag": tags(od)
                    });
                    if let Some(data) = a.data {
                        attribute["data"] = json!(data);
                    }
                    attribute
                })
                .collect()
        };
        let mut object = json!({
            "uuid": uuid, "name": name, "meta-category": meta, "timestamp": timestamp,
            "comment": indicator
                .and_then(|i| i.get("description"))
                .cloned()
                .unwrap_or(json!("")),
            "Attribute": to_misp(attributes, uuid),
        });
        for (stix, misp) in [
            ("first_observed", "first_seen"),
            ("last_observed", "last_seen"),
        ] {
            if let Some(t) = od.get(stix).and_then(Value::as_str) {
                object[misp] = json!(t);
            }
        }
        let mut objects = vec![object];
        // A file's windows-pebinary-ext: the pe (the file's own, or a pe object of its
        // own that the file includes) and its sections, each a MISP object the one
        // before includes (uuids UUIDv5 of the file's: STIX does not carry theirs).
        let extension = self
            .get(&format!("file--{uuid}"))
            .and_then(|f| f.get("extensions"))
            .and_then(|e| e.get("windows-pebinary-ext"))
            .and_then(Value::as_object)
            .filter(|_| matches!(name.as_str(), "file" | "pe"));
        if let Some(ext) = extension {
            let (pe, sections) = crate::objects::pe_attributes(ext);
            let derived = |what: &str| {
                Uuid::new_v5(&EXPORT_NAMESPACE, format!("{uuid}|{what}").as_bytes()).to_string()
            };
            let mut pe_at = 0;
            if name == "file" {
                let pe_uuid = derived("pe");
                objects.push(json!({
                    "uuid": pe_uuid, "name": "pe", "meta-category": "file",
                    "timestamp": timestamp, "comment": "",
                    "Attribute": to_misp(pe, &pe_uuid),
                }));
                include(&mut objects, 0, (&pe_uuid, "pe"), &derived("pe reference"));
                pe_at = 1;
            }
            for (i, section) in sections.into_iter().enumerate() {
                let s_uuid = derived(&format!("pe-section {i}"));
                objects.push(json!({
                    "uuid": s_uuid, "name": "pe-section", "meta-category": "file",
                    "timestamp": timestamp, "comment": "",
                    "Attribute": to_misp(section, &s_uuid),
                }));
                let reference = derived(&format!("pe-section reference {i}"));
                include(&mut objects, pe_at, (&s_uuid, "pe-section"), &reference);
            }
        }
        // A registry key's values of their own: registry-key-value objects it contains.
        let values = self
            .get(&format!("windows-registry-key--{uuid}"))
            .filter(|_| name == "registry-key")
            .and_then(crate::objects::registry_values);
        for (i, value) in values.into_iter().flatten().enumerate() {
            let derived = |what: &str| {
                Uuid::new_v5(&EXPORT_NAMESPACE, format!("{uuid}|{what} {i}").as_bytes()).to_string()
            };
            let v_uuid = derived("registry-key-value");
            objects.push(json!({
                "uuid": v_uuid, "name": "registry-key-value", "meta-category": meta,
                "timestamp": timestamp, "comment": "",
                "Attribute": to_misp(value, &v_uuid),
            }));
            let reference = derived("registry-key-value reference");
            include(&mut objects, 0, (&v_uuid, "registry-key-value"), &reference);
        }
        Some(objects)
    }

    /// An attribute from an indicator: the type from the label, the value from the
    /// observed-data of the same uuid, else from the pattern.
    fn indicator(&self, o: &Obj, uuid: &str) -> Option<Value> {
        let pattern = o.get("pattern").and_then(Value::as_str)?;
        if o.get("pattern_type")
            .and_then(Value::as_str)
            .unwrap_or("stix")
            != "stix"
        {
            return None;
        }
        let label = misp_label(o, "type");
        if let Some(od) = self.get(&format!("observed-data--{uuid}")) {
            if let Some(mut a) = self.observed(od, uuid, true) {
                a["comment"] = json!(o.get("description").and_then(Value::as_str).unwrap_or(""));
                a["Tag"] = Value::Array(tags(o));
                return Some(a);
            }
        }
        let literals = literals(pattern);
        let kind = match label {
            Some(k) => k,
            None => infer_type(pattern)?,
        };
        let get = |i: usize| literals.get(i).cloned();
        let value = match kind.as_str() {
            "ip-src" | "ip-dst" => get(1)?,
            "ip-src|port" | "ip-dst|port" => format!("{}|{}", get(1)?, get(2)?),
            k if k.contains('|') => format!("{}|{}", get(0)?, get(1)?),
            _ => get(0)?,
        };
        let mut a = base(o, uuid, &kind, &value, true);
        if let Some(d) = o.get("description").and_then(Value::as_str) {
            a["comment"] = json!(d);
        }
        Some(a)
    }

    fn observed(&self, o: &Obj, uuid: &str, to_ids: bool) -> Option<Value> {
        let scos: Vec<&Obj> = strs(o, "object_refs")
            .into_iter()
            .filter_map(|r| self.get(r))
            .collect();
        let find = |t: &str| {
            scos.iter()
                .find(|s| s.get("type").and_then(Value::as_str) == Some(t))
                .copied()
        };
        let field = |t: &str, f: &str| find(t).and_then(|s| s.get(f)).and_then(text);
        let ip = || field("ipv4-addr", "value").or_else(|| field("ipv6-addr", "value"));
        let kind = match misp_label(o, "type") {
            Some(k) => k,
            None => {
                let first = scos.first()?;
                let a = sco_attribute(first, uuid)?;
                return Some(retime(a, o, to_ids));
            }
        };
        let hash = |algo: &str| -> Option<String> {
            let (name, _) = crate::to_stix::hash_name(algo)?;
            find("file")
                .or_else(|| find("x509-certificate"))
                .and_then(|f| f.get("hashes"))
                .and_then(|h| h.get(crate::to_stix::sco_hash_key(name)))
                .and_then(text)
        };
        let value = match kind.as_str() {
            "domain" | "hostname" => field("domain-name", "value")?,
            "url" | "uri" | "link" => field("url", "value")?,
            "email" | "email-src" | "email-dst" => field("email-addr", "value")?,
            "email-subject" => field("email-message", "subject")?,
            "ip-src" | "ip-dst" => ip()?,
            "ip-src|port" | "ip-dst|port" => {
                let side = if kind.starts_with("ip-src") {
                    "src_port"
                } else {
                    "dst_port"
                };
                format!("{}|{}", ip()?, field("network-traffic", side)?)
            }
            "domain|ip" => format!("{}|{}", field("domain-name", "value")?, ip()?),
            "hostname|port" => format!(
                "{}|{}",
                field("domain-name", "value")?,
                field("network-traffic", "dst_port")?
            ),
            "filename" => field("file", "name")?,
            "AS" => field("autonomous-system", "number")?,
            "mutex" => field("mutex", "name")?,
            "mac-address" => field("mac-addr", "value")?,
            "regkey" => field("windows-registry-key", "key")?,
            k if k.starts_with("x509-fingerprint-") => hash(&k["x509-fingerprint-".len()..])?,
            k if k.starts_with("filename|") => {
                format!("{}|{}", field("file", "name")?, hash(&k[9..])?)
            }
            k => hash(k)?,
        };
        Some(retime(base(o, uuid, &kind, &value, to_ids), o, to_ids))
    }
}

/// The `Note` or `Opinion` an analyst `note` or `opinion` (labelled
/// `misp:context-layer="Analyst Note"`/`"Analyst Opinion"`, as [`crate::to_stix`] and
/// misp-stix write them) comes from, as misp-stix reads it back: uuid, the text or the
/// 0–100 value, comment, authors, language, times; with the id of what it is of (its
/// first reference) and the key it goes under.
fn analyst_data(o: &Obj) -> Option<(&str, &'static str, Value)> {
    let labels = strs(o, "labels");
    let (key, kind) = match o.get("type").and_then(Value::as_str)? {
        "note" if labels.contains(&"misp:context-layer=\"Analyst Note\"") => ("Note", "0"),
        "opinion" if labels.contains(&"misp:context-layer=\"Analyst Opinion\"") => ("Opinion", "1"),
        _ => return None,
    };
    let target = strs(o, "object_refs").into_iter().next()?;
    let uuid = o.get("id").and_then(Value::as_str)?.split("--").nth(1)?;
    let mut d = Obj::new();
    d.insert("uuid".into(), json!(uuid));
    if key == "Note" {
        d.insert(
            "note".into(),
            o.get("content").cloned().unwrap_or(json!("")),
        );
        if let Some(a) = o.get("abstract") {
            d.insert("comment".into(), a.clone());
        }
        if let Some(l) = o.get("lang") {
            d.insert("language".into(), l.clone());
        }
    } else {
        let value = o.get("x_misp_opinion").and_then(text)?;
        d.insert("opinion".into(), json!(value));
        d.insert(
            "comment".into(),
            o.get("explanation").cloned().unwrap_or(json!("")),
        );
    }
    let authors = strs(o, "authors");
    if !authors.is_empty() {
        d.insert("authors".into(), json!(authors.join(", ")));
    }
    for field in ["created", "modified"] {
        if let Some(t) = o.get(field).and_then(Value::as_str).and_then(misp_time) {
            d.insert(field.into(), json!(t));
        }
    }
    d.insert("note_type".into(), json!(kind));
    d.insert(
        "note_type_name".into(),
        json!(if key == "Note" { "Note" } else { "Opinion" }),
    );
    Some((target, key, Value::Object(d)))
}

/// A STIX time as MISP writes an analyst note's: `2024-01-02 10:00:00`, UTC without a
/// zone (PyMISP adds `+00:00` to what it reads).
fn misp_time(t: &str) -> Option<String> {
    let (base, micros) = crate::to_stix::utc_parts(t)?;
    let base = base.replacen('T', " ", 1);
    Some(match micros {
        0 => base,
        us => format!("{base}.{us:06}"),
    })
}

/// The event report a `note` labelled `misp:data-layer="Event Report"` (as
/// [`crate::to_stix`] writes them) comes from: uuid, `name` from its abstract,
/// `content`, `timestamp`.
fn event_report(o: &Obj) -> Option<Value> {
    if o.get("type").and_then(Value::as_str) != Some("note")
        || !strs(o, "labels").contains(&"misp:data-layer=\"Event Report\"")
    {
        return None;
    }
    let id = o.get("id").and_then(Value::as_str)?;
    let mut r = Obj::new();
    r.insert("uuid".into(), json!(id.split("--").nth(1)?));
    if let Some(name) = o.get("abstract") {
        r.insert("name".into(), name.clone());
    }
    r.insert(
        "content".into(),
        o.get("content").cloned().unwrap_or(json!("")),
    );
    if let Some(t) = o.get("created").and_then(Value::as_str).and_then(epoch) {
        r.insert("timestamp".into(), json!(t.to_string()));
    }
    Some(Value::Object(r))
}

/// A `relationship` from what a MISP object became to what another object or an
/// attribute of the event became (as [`crate::to_stix`] writes object references):
/// an `ObjectReference` of that object (uuid from the relationship's id, the
/// referenced uuid, the type, the time). Whether it was one.
fn object_reference(o: &Obj, attributes: &[Value], objects: &mut [Value]) -> bool {
    if o.get("type").and_then(Value::as_str) != Some("relationship") {
        return false;
    }
    let uuid_of = |key: &str| {
        o.get(key)
            .and_then(Value::as_str)
            .and_then(|r| r.split("--").nth(1))
    };
    let (Some(id), Some(source), Some(target)) =
        (uuid_of("id"), uuid_of("source_ref"), uuid_of("target_ref"))
    else {
        return false;
    };
    let kind = o
        .get("relationship_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // An indicator based on its observed-data is one MISP object or attribute.
    if source == target && kind == "based-on" {
        return false;
    }
    let known = |u: &str| {
        attributes.iter().any(|a| a["uuid"] == u) || objects.iter().any(|x| x["uuid"] == u)
    };
    if !known(target) {
        return false;
    }
    let Some(Value::Object(object)) = objects.iter_mut().find(|x| x["uuid"] == source) else {
        return false;
    };
    let mut reference = Obj::new();
    reference.insert("uuid".into(), json!(id));
    reference.insert("referenced_uuid".into(), json!(target));
    reference.insert("relationship_type".into(), json!(kind));
    if let Some(t) = o.get("created").and_then(Value::as_str).and_then(epoch) {
        reference.insert("timestamp".into(), json!(t.to_string()));
    }
    match object.get_mut("ObjectReference") {
        Some(Value::Array(list)) => list.push(Value::Object(reference)),
        _ => {
            object.insert("ObjectReference".into(), json!([reference]));
        }
    }
    true
}

/// A reference of `objects[at]` to the object `target` of template `name`, the form
/// misp-stix reads a file's pe and a pe's sections (`includes`) and a registry key's
/// values (`contains`) from.
fn include(objects: &mut [Value], at: usize, (target, name): (&str, &str), id: &str) {
    let kind = if name == "registry-key-value" {
        "contains"
    } else {
        "includes"
    };
    let reference = json!({
        "uuid": id, "referenced_uuid": target, "relationship_type": kind,
        "Object": {"uuid": target, "name": name, "meta-category": "file"},
    });
    if let Some(Value::Object(o)) = objects.get_mut(at) {
        match o.get_mut("ObjectReference") {
            Some(Value::Array(list)) => list.push(reference),
            _ => {
                o.insert("ObjectReference".into(), json!([reference]));
            }
        }
    }
}

/// The `GalaxyClusterRelation` a `relationship` between two of the event's clusters is
/// (the source on the event, both with their STIX uuid: misp-stix's internal reading):
/// (source cluster uuid, the relation).
fn cluster_relation(
    o: Option<&Obj>,
    clusters: &[(&str, Cluster)],
    attached: &HashSet<&str>,
) -> Option<(String, Value)> {
    let o = o.filter(|o| o.get("type").and_then(Value::as_str) == Some("relationship"))?;
    let end = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
    let uuid_of = |id: &str| -> Option<String> {
        let (_, c) = clusters.iter().find(|(i, _)| *i == id)?;
        let uuid = c.cluster["uuid"].as_str()?;
        (id.split("--").nth(1) == Some(uuid)).then(|| uuid.to_string())
    };
    let (source, target) = (end("source_ref"), end("target_ref"));
    if attached.contains(source) {
        return None;
    }
    let (from, to) = (uuid_of(source)?, uuid_of(target)?);
    let relation = json!({
        "referenced_galaxy_cluster_uuid": to,
        "referenced_galaxy_cluster_type": end("relationship_type"),
        "galaxy_cluster_uuid": from,
    });
    Some((from, relation))
}

/// Add a relation to the event's cluster it is of; whether the cluster was there.
fn add_relation(event: &mut Obj, (uuid, relation): (String, Value)) -> bool {
    let clusters = event
        .get_mut("Galaxy")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get_mut("GalaxyCluster").and_then(Value::as_array_mut))
        .flatten();
    for c in clusters {
        if c["uuid"].as_str() == Some(uuid.as_str()) {
            if let Value::Object(c) = c {
                if let Value::Array(list) = c
                    .entry("GalaxyClusterRelation")
                    .or_insert_with(|| json!([]))
                {
                    list.push(relation);
                }
            }
            return true;
        }
    }
    false
}

/// Attach a cluster to an event or an attribute: into the galaxy of its type (made if
/// need be), once, with its `misp-galaxy:` tag among the layer's tags.
fn attach(layer: &mut Obj, cluster: &Cluster) {
    let galaxies = layer
        .entry("Galaxy")
        .or_insert_with(|| json!([]))
        .as_array_mut();
    let Some(galaxies) = galaxies else { return };
    let at = match galaxies
        .iter()
        .position(|g| g["type"].as_str() == Some(cluster.galaxy_type()))
    {
        Some(at) => at,
        None => {
            let mut g = cluster.galaxy.clone();
            g.insert("GalaxyCluster".into(), json!([]));
            galaxies.push(Value::Object(g));
            galaxies.len() - 1
        }
    };
    if let Some(Value::Array(list)) = galaxies[at].get_mut("GalaxyCluster") {
        if list.iter().any(|c| c["uuid"] == cluster.cluster["uuid"]) {
            return;
        }
        list.push(cluster.cluster.clone());
    }
    if let Some(tag) = &cluster.tag {
        let tags = layer.entry("Tag").or_insert_with(|| json!([]));
        if let Value::Array(tags) = tags {
            if !tags.iter().any(|t| t["name"].as_str() == Some(tag)) {
                tags.push(json!({ "name": tag }));
            }
        }
    }
}

/// A MISP organisation (`Orgc`, a sighting's `Organisation`) from its identity.
fn organisation(identity: &Obj) -> Value {
    let uuid = identity
        .get("id")
        .and_then(Value::as_str)
        .and_then(|i| i.split("--").nth(1))
        .unwrap_or_default();
    json!({"uuid": uuid, "name": identity.get("name").cloned().unwrap_or(json!(""))})
}

fn retime(mut a: Value, o: &Obj, to_ids: bool) -> Value {
    a["to_ids"] = json!(to_ids);
    for (stix, misp) in [
        ("first_observed", "first_seen"),
        ("last_observed", "last_seen"),
    ] {
        if let Some(t) = o.get(stix).and_then(Value::as_str) {
            a[misp] = json!(t);
        }
    }
    a
}

fn sco_attribute(o: &Obj, uuid: &str) -> Option<Value> {
    let kind = o.get("type").and_then(Value::as_str)?;
    let (t, v) = match kind {
        "ipv4-addr" | "ipv6-addr" => ("ip-dst".to_string(), o.get("value").and_then(text)?),
        "domain-name" => ("domain".to_string(), o.get("value").and_then(text)?),
        "url" => ("url".to_string(), o.get("value").and_then(text)?),
        "email-addr" => ("email".to_string(), o.get("value").and_then(text)?),
        "file" => {
            let hashes = o.get("hashes").and_then(Value::as_object)?;
            let (algo, v) = ["sha256", "sha1", "md5", "sha512"].iter().find_map(|a| {
                let (name, _) = crate::to_stix::hash_name(a)?;
                hashes.get(name).and_then(text).map(|v| (a.to_string(), v))
            })?;
            (algo, v)
        }
        _ => return None,
    };
    Some(base(o, uuid, &t, &v, false))
}

fn base(o: &Obj, uuid: &str, kind: &str, value: &str, to_ids: bool) -> Value {
    let category = misp_label(o, "category")
        .or_else(|| {
            o.get("kill_chain_phases")
                .and_then(Value::as_array)
                .and_then(|k| {
                    k.iter().find(|p| {
                        p.get("kill_chain_name").and_then(Value::as_str) == Some("misp-category")
                    })
                })
                .and_then(|p| p.get("phase_name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| default_category(kind).to_string());
    let timestamp = o
        .get("modified")
        .and_then(Value::as_str)
        .and_then(epoch)
        .unwrap_or(0);
    json!({
        "uuid": uuid, "type": kind, "category": category, "value": value,
        "to_ids": to_ids, "timestamp": timestamp.to_string(), "comment": "",
        "Tag": tags(o)
    })
}

fn x_attribute(o: &Obj, uuid: &str) -> Value {
    let kind = o
        .get("x_misp_type")
        .and_then(Value::as_str)
        .unwrap_or("text");
    let value = o.get("x_misp_value").and_then(text).unwrap_or_default();
    let mut a = base(o, uuid, kind, &value, false);
    if let Some(c) = o.get("x_misp_category") {
        a["category"] = c.clone();
    }
    if let Some(c) = o.get("x_misp_comment") {
        a["comment"] = c.clone();
    }
    a
}

/// An `x-misp-object` back: its attributes whole, each with the object's tags (its TLP
/// markings and labels), which the attributes carried when it was converted.
fn x_object(o: &Obj, uuid: &str) -> Value {
    let mut attributes = o.get("x_misp_attributes").cloned().unwrap_or(json!([]));
    let object_tags = tags(o);
    if let Some(items) = attributes.as_array_mut() {
        for a in items.iter_mut().filter(|a| a.get("Tag").is_none()) {
            if let Some(map) = a.as_object_mut() {
                map.insert("Tag".into(), json!(object_tags));
            }
        }
    }
    let timestamp = o
        .get("modified")
        .and_then(Value::as_str)
        .and_then(epoch)
        .unwrap_or(0);
    json!({
        "uuid": uuid,
        "name": o.get("x_misp_name").cloned().unwrap_or(json!("")),
        "meta-category": o.get("x_misp_meta_category").cloned().unwrap_or(json!("")),
        "comment": o.get("x_misp_comment").cloned().unwrap_or(json!("")),
        "timestamp": timestamp.to_string(),
        "Attribute": attributes,
    })
}

/// MISP tags of an object: its TLP markings, then its labels that are not `misp:*`
/// (nor the `Threat-Report` label misp-stix puts on every report).
fn tags(o: &Obj) -> Vec<Value> {
    let mut out = Vec::new();
    for r in strs(o, "object_marking_refs") {
        if let Some(t) = Tlp::from_id(r) {
            out.push(json!({"name": t.tag()}));
        }
    }
    for l in strs(o, "labels") {
        if !l.starts_with("misp:") && l != "Threat-Report" {
            out.push(json!({"name": l}));
        }
    }
    out
}

fn misp_label(o: &Obj, key: &str) -> Option<String> {
    let prefix = format!("misp:{key}=\"");
    strs(o, "labels").into_iter().find_map(|l| {
        l.strip_prefix(prefix.as_str())
            .and_then(|r| r.strip_suffix('"'))
            .map(str::to_string)
    })
}

fn strs<'a>(o: &'a Obj, key: &str) -> Vec<&'a str> {
    o.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn epoch(t: &str) -> Option<i64> {
    OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The quoted literals of a STIX pattern, in order, unescaped.
fn literals(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    // A quote after `=` opens a value; any other (`hashes.'SHA-256'`) a path step.
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if c != '\'' {
            if !c.is_whitespace() {
                previous = c;
            }
            continue;
        }
        let mut s = String::new();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                '\'' => {
                    closed = true;
                    break;
                }
                c => s.push(c),
            }
        }
        if closed && previous == '=' {
            out.push(s);
        }
        previous = '\'';
    }
    out
}

/// The MISP type of a one-comparison pattern without misp-stix labels.
fn infer_type(pattern: &str) -> Option<String> {
    let p = pattern.trim_start_matches('[');
    let path = p.split_whitespace().next()?;
    Some(
        match path {
            "ipv4-addr:value" | "ipv6-addr:value" => "ip-dst",
            "domain-name:value" => "domain",
            "url:value" => "url",
            "email-addr:value" => "email",
            "file:name" => "filename",
            "file:hashes.MD5" | "file:hashes.'MD5'" => "md5",
            "file:hashes.'SHA-1'" | "file:hashes.SHA1" => "sha1",
            "file:hashes.'SHA-256'" | "file:hashes.SHA256" => "sha256",
            "file:hashes.'SHA-512'" | "file:hashes.SHA512" => "sha512",
            "mutex:name" => "mutex",
            _ => return None,
        }
        .to_string(),
    )
}

fn default_category(kind: &str) -> &'static str {
    match kind {
        "md5" | "sha1" | "sha256" | "sha512" | "filename" => "Payload delivery",
        "vulnerability" => "External analysis",
        "campaign-name" => "Attribution",
        _ => "Network activity",
    }
}

//! One MISP event to STIX 2.1 objects, as misp-stix's `MISPtoSTIX21Parser` converts it.
//!
//! - The event becomes a `report` when published (`published` and `publish_timestamp`),
//!   else a `grouping` (`context: suspicious-activity`), id `report--<event uuid>` /
//!   `grouping--<event uuid>`, `object_refs` every object converted from it.
//! - `Orgc` becomes an `identity` (`identity--<org uuid>`), the `created_by_ref` of all.
//! - An attribute of an observable type becomes an `observed-data` with its SCOs
//!   (`observed-data--<attribute uuid>`, `<sco type>--<attribute uuid>`); with `to_ids`
//!   also an `indicator--<attribute uuid>` with the STIX pattern and a `based-on`
//!   relationship to the observed-data. Other types: `vulnerability`, `campaign`, or the
//!   custom `x-misp-attribute` that keeps it whole.
//! - Objects `domain-ip`, `file`, `url` likewise; any other object becomes `x-misp-object`.
//! - Tags: `tlp:*` become the TLP marking definitions (`object_marking_refs`); the others
//!   labels. Galaxies: clusters of threat-actor, malware, tool, attack-pattern and
//!   intrusion-set galaxies become those SDOs (`<type>--<cluster uuid>`), others
//!   `x-misp-galaxy-cluster`; a galaxy on an attribute is related to its object.
//! - Relationship ids are UUIDv5 of `"<source> - <type> - <target>"` in misp-stix's
//!   namespace, so both converters agree.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use accord_stix::types::SCO_TYPES;

use crate::error::{MispError, Rule};

/// misp-stix's namespace for the UUIDv5 of relationships (`abstract.py`, `_UUIDv4`).
const RELATIONSHIP_NAMESPACE: Uuid = uuid::uuid!("76beed5f-7251-457e-8c2a-b45f7b589d3d");

/// Attributes plus objects of one event at most: a MISP event of a million attributes is
/// already unusable in MISP itself.
pub const MAX_ITEMS_PER_EVENT: usize = 2_000_000;

/// An event converted: its STIX objects and what was skipped, and why.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The event's uuid.
    pub event_uuid: String,
    /// The STIX objects, the identity and the report/grouping first.
    pub objects: Vec<Value>,
    /// Attributes and objects left out, each with its uuid, property and rule.
    pub skipped: Vec<MispError>,
    /// Attributes and objects of a type or template Accord has no STIX mapping for,
    /// kept whole as `x-misp-attribute` / `x-misp-object` (nothing is lost, but a
    /// partner's tools see custom objects): (`attribute <uuid>` or `object <uuid>`,
    /// the MISP type or template).
    pub custom: Vec<(String, String)>,
}

type Obj = Map<String, Value>;

/// Convert one event (the inner object of `{"Event": …}`). `position` names it in
/// errors when it has no uuid. `Err` when the event itself is unusable (no valid uuid, no
/// timestamp): then nothing of it is converted. A bad attribute or object is skipped and
/// reported in [`Converted::skipped`]; the rest of the event is converted.
pub fn event_to_stix(event: &Value, position: usize) -> Result<Converted, MispError> {
    let fallback = format!("#{position}");
    let Some(map) = event.as_object() else {
        return Err(err(
            &fallback,
            None,
            "Event",
            Rule::Type,
            "an event is a JSON object",
        ));
    };
    let uuid = required_uuid(map, &fallback, None)?;
    let timestamp = match map.get("timestamp") {
        Some(v) => seconds(v).ok_or_else(|| {
            err(
                &uuid,
                None,
                "timestamp",
                Rule::Timestamp,
                "not seconds since 1970",
            )
        })?,
        None => match map
            .get("date")
            .and_then(Value::as_str)
            .and_then(date_seconds)
        {
            Some(t) => t,
            None => return Err(err(
                &uuid,
                None,
                "timestamp",
                Rule::Required,
                "an event needs a 'timestamp' (or a 'date'): the STIX objects' created/modified",
            )),
        },
    };
    let mut c = Conversion {
        event: uuid.clone(),
        identity: None,
        out: Vec::new(),
        refs: Vec::new(),
        relationships: Vec::new(),
        references: Vec::new(),
        identities: HashSet::new(),
        sighting_identities: Vec::new(),
        to_parse: HashSet::new(),
        markings: Vec::new(),
        skipped: Vec::new(),
        custom: Vec::new(),
        clusters: HashMap::new(),
        seen_refs: HashSet::new(),
    };
    let mut head = Vec::new();
    if let Some(orgc) = map.get("Orgc").and_then(Value::as_object) {
        if let (Some(name), Some(org_uuid)) = (
            orgc.get("name").and_then(Value::as_str),
            orgc.get("uuid").and_then(Value::as_str),
        ) {
            if let Ok(u) = Uuid::parse_str(org_uuid) {
                let id = format!("identity--{}", u.hyphenated());
                head.push(json!({
                    "type": "identity", "spec_version": "2.1", "id": id,
                    "created": ms(timestamp), "modified": ms(timestamp),
                    "name": name, "identity_class": "organization"
                }));
                c.identities.insert(id.clone());
                c.identity = Some(id);
            }
        }
    }
    let attributes = list(map, "Attribute");
    let objects = list(map, "Object");
    if attributes.len() + objects.len() > MAX_ITEMS_PER_EVENT {
        return Err(err(
            &uuid,
            None,
            "Attribute",
            Rule::Limit,
            &format!("more than {MAX_ITEMS_PER_EVENT} attributes and objects"),
        ));
    }
    for (n, attribute) in attributes.iter().enumerate() {
        c.attribute(attribute, n, timestamp);
    }
    convert_objects(&mut c, &objects, timestamp);
    let published = map.get("published").is_some_and(truthy)
        && map.get("publish_timestamp").is_some_and(truthy);
    let container = if published { "report" } else { "grouping" };
    for report in list(map, "EventReport") {
        c.event_report(report, &objects, timestamp, &format!("{container}--{uuid}"));
    }
    // misp-stix: the event's analyst data refer to its report or grouping.
    c.analyst_data(&[map], &[format!("{container}--{uuid}")], timestamp);
    // Event galaxies, then tags (those naming a converted cluster are not labels).
    let mut galaxy_tags = HashSet::new();
    for galaxy in list(map, "Galaxy") {
        for id in c.galaxy(galaxy, timestamp, &mut galaxy_tags) {
            c.add_ref(&id);
        }
    }
    let mut labels = vec![
        json!("Threat-Report"),
        json!("misp:tool=\"MISP-STIX-Converter\""),
    ];
    let tags: Vec<String> = tag_names(map)
        .into_iter()
        .filter(|t| !galaxy_tags.contains(t))
        .collect();
    let markings = c.tags(&tags, &mut labels);
    c.flush_relationships();
    let mut report = Obj::new();
    let name = map
        .get("info")
        .and_then(Value::as_str)
        .unwrap_or("MISP Event exported to STIX 2.1 with misp-stix.");
    if published {
        let publish = map
            .get("publish_timestamp")
            .and_then(seconds)
            .unwrap_or(timestamp);
        insert_head(
            &mut report,
            "report",
            &format!("report--{uuid}"),
            c.identity.as_deref(),
            timestamp,
        );
        report.insert("name".into(), json!(name));
        report.insert("published".into(), json!(s(publish)));
    } else {
        insert_head(
            &mut report,
            "grouping",
            &format!("grouping--{uuid}"),
            c.identity.as_deref(),
            timestamp,
        );
        report.insert("name".into(), json!(name));
        report.insert("context".into(), json!("suspicious-activity"));
    }
    if c.refs.is_empty() {
        // misp-stix: an empty event is a note the report refers to.
        let report_id = report["id"].as_str().unwrap_or_default().to_string();
        let mut note = Obj::new();
        insert_head(
            &mut note,
            "note",
            &format!("note--{uuid}"),
            c.identity.as_deref(),
            timestamp,
        );
        note.insert(
            "content".into(),
            json!("This MISP Event is empty and contains no attribute, object, galaxy or tag."),
        );
        note.insert("object_refs".into(), json!([report_id]));
        c.add_ref(&format!("note--{uuid}"));
        c.out.push(Value::Object(note));
    }
    inherit_markings(&mut c.out, &markings);
    report.insert("object_refs".into(), json!(c.refs));
    report.insert("labels".into(), Value::Array(labels));
    if !markings.is_empty() {
        report.insert("object_marking_refs".into(), json!(markings));
    }
    head.append(&mut c.sighting_identities);
    head.push(Value::Object(report));
    head.append(&mut c.out);
    for tlp in &c.markings {
        head.push(tlp.definition());
    }
    Ok(Converted {
        event_uuid: uuid,
        objects: head,
        skipped: c.skipped,
        custom: c.custom,
    })
}

/// Where misp-stix leaves an object unmarked, Accord marks it (a deliberate difference,
/// docs/misp.md): the agreement gate decides on each object's own markings, and in MISP
/// a TLP tag on the event covers every attribute, a tag on an attribute its values. So
/// an SCO takes the markings of the observed-data that refers to it, and any other
/// unmarked object (an attribute without a TLP tag, a relationship, a galaxy cluster)
/// the event's. Without this, the SCOs of a TLP:RED attribute and the attributes of a
/// TLP:RED event would be released as unmarked.
fn inherit_markings(objects: &mut [Value], event_markings: &[String]) {
    let mut of_sco: HashMap<String, Value> = HashMap::new();
    for o in objects.iter() {
        if o["type"] == "observed-data" {
            if let (Some(refs), Some(m)) =
                (o["object_refs"].as_array(), o.get("object_marking_refs"))
            {
                for r in refs.iter().filter_map(Value::as_str) {
                    of_sco.insert(r.to_string(), m.clone());
                }
            }
        }
    }
    for o in objects.iter_mut() {
        let Some(map) = o.as_object_mut() else {
            continue;
        };
        if map.contains_key("object_marking_refs") {
            continue;
        }
        let id = map
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(m) = of_sco.get(&id) {
            map.insert("object_marking_refs".into(), m.clone());
        } else if !event_markings.is_empty() {
            map.insert("object_marking_refs".into(), json!(event_markings));
        }
    }
}

struct Conversion {
    event: String,
    identity: Option<String>,
    out: Vec<Value>,
    refs: Vec<String>,
    seen_refs: HashSet<String>,
    relationships: Vec<(String, &'static str, String, i64)>,
    /// The identities converted (the event's creator, the organisations of sightings).
    identities: HashSet<String>,
    /// The identities of the sightings' organisations that are not the creator's.
    sighting_identities: Vec<Value>,
    /// The references of MISP objects, resolved once every object is converted.
    references: Vec<Reference>,
    /// The uuids of the objects misp-stix sets aside to convert after the others (a
    /// `pe`, its sections, a `file` including a `pe`, …) as far as the conversion has
    /// gone: a reference to one of them is no relationship (misp-stix).
    to_parse: HashSet<String>,
    markings: Vec<Tlp>,
    skipped: Vec<MispError>,
    custom: Vec<(String, String)>,
    /// Cluster uuid → the STIX id it was converted to (each cluster once per event).
    clusters: HashMap<String, String>,
}

/// A MISP object reference (`ObjectReference`) waiting for its target.
struct Reference {
    /// The object the reference is of, as converted.
    source: String,
    /// The uuid it refers to (misp-stix: the first object of the event whose id
    /// holds it).
    target: String,
    kind: String,
    /// `relationship--<the reference's uuid>`, when it has one.
    id: Option<String>,
    time: i64,
    /// The MISP object, for the message when the target is not in the event.
    object: String,
}

/// A converted observable: the SCOs and the pattern.
pub(crate) struct Observable {
    pub(crate) scos: Vec<Value>,
    pub(crate) pattern: String,
}

/// Why a value could not be converted: (property, rule, message).
pub(crate) type Refusal = (&'static str, Rule, String);

impl Conversion {
    fn add_ref(&mut self, id: &str) {
        if self.seen_refs.insert(id.to_string()) {
            self.refs.push(id.to_string());
        }
    }

    fn push(&mut self, object: Value) {
        if let Some(id) = object.get("id").and_then(Value::as_str) {
            let id = id.to_string();
            self.add_ref(&id);
        }
        self.out.push(object);
    }

    fn skip(&mut self, item: String, property: &str, rule: Rule, message: &str) {
        self.skipped
            .push(err(&self.event, Some(item), property, rule, message));
    }

    fn attribute(&mut self, value: &Value, n: usize, event_time: i64) {
        let label = format!("attribute #{n}");
        let Some(a) = value.as_object() else {
            self.skip(
                label,
                "Attribute",
                Rule::Type,
                "an attribute is a JSON object",
            );
            return;
        };
        let uuid = match required_uuid(a, &self.event, Some(&label)) {
            Ok(u) => u,
            Err(e) => return self.skipped.push(e),
        };
        let item = format!("attribute {uuid}");
        let Some(kind) = a.get("type").and_then(Value::as_str) else {
            return self.skip(item, "type", Rule::Required, "an attribute needs a 'type'");
        };
        let Some(text) = a.get("value").and_then(scalar_text) else {
            return self.skip(
                item,
                "value",
                Rule::Required,
                "an attribute needs a 'value'",
            );
        };
        let time = match a.get("timestamp") {
            Some(v) => match seconds(v) {
                Some(t) => t,
                None => {
                    return self.skip(item, "timestamp", Rule::Timestamp, "not seconds since 1970")
                }
            },
            None => event_time,
        };
        let category = a
            .get("category")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| default_category(kind).to_string());
        let to_ids = a.get("to_ids").map_or_else(|| default_to_ids(kind), truthy);
        let labels = vec![
            json!(format!("misp:type=\"{kind}\"")),
            json!(format!("misp:category=\"{category}\"")),
        ];
        let tags = tag_names(a);
        let comment = a
            .get("comment")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty());
        let attr = Attr {
            uuid: &uuid,
            kind,
            value: &text,
            category: &category,
            time,
            labels,
            tags,
            comment,
            galaxies: list(a, "Galaxy"),
            sightings: list(a, "Sighting"),
            analyst: vec![a],
            first_seen: a.get("first_seen").and_then(Value::as_str),
            last_seen: a.get("last_seen").and_then(Value::as_str),
            object: false,
        };
        if matches!(kind, "sigma" | "snort" | "suricata" | "yara") {
            // misp-stix: a rule is an indicator in its own pattern language, with
            // or without to_ids, its text between brackets as is.
            let pattern = format!("[{text}]");
            return self.indicator_only_attribute(&attr, pattern, kind);
        }
        if let Some(pattern) = indicator_only(kind, &text) {
            if to_ids {
                return self.indicator_only_attribute(&attr, pattern, "stix");
            }
            return self.sdo_attribute(
                &Attr {
                    kind: "x-misp-attribute",
                    ..attr
                },
                kind,
            );
        }
        let data = a
            .get("data")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty());
        match observable(kind, &text, &uuid, data) {
            Some(Ok(obs)) => self.observable_attribute(&attr, obs, to_ids),
            Some(Err((property, rule, message))) => {
                let message = format!("type '{kind}', value '{text}': {message}");
                self.skip(item, property, rule, &message)
            }
            None => self.sdo_attribute(&attr, kind),
        }
    }

    /// Types misp-stix writes as an indicator only (no observable: a port, a user agent
    /// alone is no object): the galaxies relate to the indicator.
    fn indicator_only_attribute(&mut self, a: &Attr, pattern: String, pattern_type: &str) {
        let ind_id = format!("indicator--{}", a.uuid);
        let mut ind = Obj::new();
        insert_head(
            &mut ind,
            "indicator",
            &ind_id,
            self.identity.as_deref(),
            a.time,
        );
        if let Some(c) = a.comment {
            ind.insert("description".into(), json!(c));
        }
        ind.insert("pattern".into(), json!(pattern));
        ind.insert("pattern_type".into(), json!(pattern_type));
        ind.insert("pattern_version".into(), json!("2.1"));
        ind.insert("valid_from".into(), json!(s(a.time)));
        ind.insert(
            "kill_chain_phases".into(),
            json!([{"kill_chain_name": "misp-category", "phase_name": a.category}]),
        );
        let (galaxy_ids, galaxy_tags) = self.attribute_galaxies(a);
        let mut labels = a.labels.clone();
        let tags: Vec<String> = a
            .tags
            .iter()
            .filter(|t| !galaxy_tags.contains(*t))
            .cloned()
            .collect();
        let markings = self.tags(&tags, &mut labels);
        ind.insert("labels".into(), Value::Array(labels));
        if !markings.is_empty() {
            ind.insert("object_marking_refs".into(), json!(markings));
        }
        for g in galaxy_ids {
            let kind = relationship_type(&ind_id, &g);
            self.relationships.push((ind_id.clone(), kind, g, a.time));
        }
        self.push(Value::Object(ind));
        self.sightings(a, &[ind_id]);
    }

    fn observable_attribute(&mut self, a: &Attr, obs: Observable, to_ids: bool) {
        let od_id = format!("observed-data--{}", a.uuid);
        let mut od = Obj::new();
        insert_head(
            &mut od,
            "observed-data",
            &od_id,
            self.identity.as_deref(),
            a.time,
        );
        let (first, last) = observed_times(a.time, a.first_seen, a.last_seen);
        od.insert("first_observed".into(), json!(first));
        od.insert("last_observed".into(), json!(last));
        od.insert("number_observed".into(), json!(1));
        let refs: Vec<Value> = obs.scos.iter().map(|o| o["id"].clone()).collect();
        od.insert("object_refs".into(), Value::Array(refs));
        let (galaxy_ids, galaxy_tags) = self.attribute_galaxies(a);
        let mut labels = a.labels.clone();
        let tags: Vec<String> = a
            .tags
            .iter()
            .filter(|t| !galaxy_tags.contains(*t))
            .cloned()
            .collect();
        let markings = self.tags(&tags, &mut labels);
        od.insert("labels".into(), Value::Array(labels));
        if !markings.is_empty() {
            od.insert("object_marking_refs".into(), json!(markings));
        }
        for g in galaxy_ids {
            self.relationships
                .push((od_id.clone(), "related-to", g, a.time));
        }
        self.push(Value::Object(od));
        for sco in obs.scos {
            self.push(sco);
        }
        if to_ids {
            let ind_id = format!("indicator--{}", a.uuid);
            let mut ind = Obj::new();
            insert_head(
                &mut ind,
                "indicator",
                &ind_id,
                self.identity.as_deref(),
                a.time,
            );
            if let Some(c) = a.comment {
                ind.insert("description".into(), json!(c));
            }
            ind.insert("pattern".into(), json!(obs.pattern));
            ind.insert("pattern_type".into(), json!("stix"));
            ind.insert("pattern_version".into(), json!("2.1"));
            ind.insert("valid_from".into(), json!(s(a.time)));
            ind.insert(
                "kill_chain_phases".into(),
                json!([{"kill_chain_name": "misp-category", "phase_name": a.category}]),
            );
            let mut labels = a.labels.clone();
            let markings = if a.object {
                let tlp: Vec<String> = a
                    .tags
                    .iter()
                    .filter(|t| Tlp::from_tag(t).is_some())
                    .cloned()
                    .collect();
                self.tags(&tlp, &mut labels)
            } else {
                self.tags(&a.tags, &mut labels)
            };
            ind.insert("labels".into(), Value::Array(labels));
            if !markings.is_empty() {
                ind.insert("object_marking_refs".into(), json!(markings));
            }
            self.push(Value::Object(ind));
            self.relationships
                .push((ind_id.clone(), "based-on", od_id.clone(), a.time));
            self.sightings(a, &[od_id, ind_id]);
        } else {
            self.sightings(a, &[od_id]);
        }
    }

    /// `kind` is the MISP type; `a.kind` says which SDO (`x-misp-attribute` forces the custom object).
    fn sdo_attribute(&mut self, a: &Attr, kind: &str) {
        let mut o = Obj::new();
        let (galaxy_ids, galaxy_tags) = self.attribute_galaxies(a);
        let mut labels = a.labels.clone();
        let tags: Vec<String> = a
            .tags
            .iter()
            .filter(|t| !galaxy_tags.contains(*t))
            .cloned()
            .collect();
        let id;
        match a.kind {
            "vulnerability" => {
                id = format!("vulnerability--{}", a.uuid);
                insert_head(
                    &mut o,
                    "vulnerability",
                    &id,
                    self.identity.as_deref(),
                    a.time,
                );
                o.insert("name".into(), json!(a.value));
                let markings = self.tags(&tags, &mut labels);
                o.insert("labels".into(), Value::Array(labels));
                o.insert(
                    "external_references".into(),
                    json!([{"source_name": "cve", "external_id": a.value}]),
                );
                if !markings.is_empty() {
                    o.insert("object_marking_refs".into(), json!(markings));
                }
            }
            "campaign-name" => {
                id = format!("campaign--{}", a.uuid);
                insert_head(&mut o, "campaign", &id, self.identity.as_deref(), a.time);
                o.insert("name".into(), json!(a.value));
                let markings = self.tags(&tags, &mut labels);
                o.insert("labels".into(), Value::Array(labels));
                if !markings.is_empty() {
                    o.insert("object_marking_refs".into(), json!(markings));
                }
            }
            _ => {
                self.custom
                    .push((format!("attribute {}", a.uuid), kind.to_string()));
                id = format!("x-misp-attribute--{}", a.uuid);
                insert_head(
                    &mut o,
                    "x-misp-attribute",
                    &id,
                    self.identity.as_deref(),
                    a.time,
                );
                let markings = self.tags(&tags, &mut labels);
                o.insert("labels".into(), Value::Array(labels));
                o.insert("x_misp_category".into(), json!(a.category));
                if let Some(c) = a.comment {
                    o.insert("x_misp_comment".into(), json!(c));
                }
                o.insert("x_misp_type".into(), json!(kind));
                o.insert("x_misp_value".into(), json!(a.value));
                if !markings.is_empty() {
                    o.insert("object_marking_refs".into(), json!(markings));
                }
            }
        }
        for g in galaxy_ids {
            let kind = relationship_type(&id, &g);
            self.relationships.push((id.clone(), kind, g, a.time));
        }
        self.push(Value::Object(o));
        self.sightings(a, &[id]);
    }

    /// The galaxies of an attribute: the ids of their clusters, and the tags naming them.
    fn attribute_galaxies(&mut self, a: &Attr) -> (Vec<String>, HashSet<String>) {
        self.galaxies_of(&a.galaxies, a.time)
    }

    /// Convert galaxies: the ids of their clusters (each once), and the tags naming them.
    fn galaxies_of(&mut self, galaxies: &[&Value], time: i64) -> (Vec<String>, HashSet<String>) {
        let mut tags = HashSet::new();
        let mut ids: Vec<String> = Vec::new();
        for galaxy in galaxies {
            for id in self.galaxy(galaxy, time, &mut tags) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        for id in &ids {
            self.add_ref(id);
        }
        (ids, tags)
    }

    /// Convert a galaxy's clusters (each once per event); their ids.
    fn galaxy(&mut self, galaxy: &Value, time: i64, tags: &mut HashSet<String>) -> Vec<String> {
        let mut ids = Vec::new();
        let Some(g) = galaxy.as_object() else {
            return ids;
        };
        let galaxy_type = g.get("type").and_then(Value::as_str).unwrap_or_default();
        let galaxy_name = g.get("name").and_then(Value::as_str).unwrap_or_default();
        let galaxy_description = g.get("description").and_then(Value::as_str);
        let stix_type = cluster_stix_type(galaxy_type);
        for cluster in list(g, "GalaxyCluster") {
            let Some(cl) = cluster.as_object() else {
                continue;
            };
            let Some(cl_uuid) = cl
                .get("uuid")
                .and_then(Value::as_str)
                .and_then(|u| Uuid::parse_str(u).ok())
            else {
                continue;
            };
            let cl_uuid = cl_uuid.hyphenated().to_string();
            if let Some(tag) = cl.get("tag_name").and_then(Value::as_str) {
                tags.insert(tag.to_string());
            }
            if let Some(id) = self.clusters.get(&cl_uuid) {
                ids.push(id.clone());
                continue;
            }
            let cl_type = cl
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or(galaxy_type);
            let value = cl.get("value").and_then(Value::as_str).unwrap_or_default();
            let mut labels = vec![
                json!(format!("misp:galaxy-name=\"{galaxy_name}\"")),
                json!(format!("misp:galaxy-type=\"{cl_type}\"")),
            ];
            if let Some(tag) = cl.get("tag_name").and_then(Value::as_str) {
                labels.push(json!(tag));
            }
            let mut o = Obj::new();
            let id = match stix_type {
                Some("location") if matches!(galaxy_type, "country" | "region") => {
                    let id = format!("location--{cl_uuid}");
                    insert_head(&mut o, "location", &id, None, time);
                    territory(&mut o, galaxy_type, g, cl, value);
                    o.insert("labels".into(), Value::Array(labels));
                    if let Some(meta) = cl.get("meta").and_then(Value::as_object) {
                        meta_fields(&mut o, "custom", meta, value);
                    }
                    id
                }
                Some(t) => {
                    let id = format!("{t}--{cl_uuid}");
                    insert_head(&mut o, t, &id, None, time);
                    let name = if cl_type.starts_with("mitre-") && value.contains(" - ") {
                        value.split(" - ").next().unwrap_or(value).trim()
                    } else {
                        value
                    };
                    o.insert("name".into(), json!(name));
                    if let Some(d) = cl.get("description").and_then(Value::as_str) {
                        o.insert("description".into(), json!(d));
                    }
                    if t == "malware" {
                        o.insert("is_family".into(), json!(false));
                    }
                    if t == "identity" {
                        if !o.contains_key("description") {
                            if let Some(d) = galaxy_description {
                                o.insert("description".into(), json!(d));
                            }
                        }
                        o.insert("identity_class".into(), json!("class"));
                    }
                    o.insert("labels".into(), Value::Array(labels));
                    // misp-stix: a sector's meta is not converted.
                    if let Some(meta) = cl
                        .get("meta")
                        .and_then(Value::as_object)
                        .filter(|_| t != "identity")
                    {
                        meta_fields(&mut o, t, meta, name);
                    }
                    id
                }
                None => {
                    let id = format!("x-misp-galaxy-cluster--{cl_uuid}");
                    insert_head(&mut o, "x-misp-galaxy-cluster", &id, None, time);
                    o.insert("labels".into(), Value::Array(labels));
                    let description = match (
                        galaxy_description,
                        cl.get("description").and_then(Value::as_str),
                    ) {
                        (Some(g), Some(c)) => format!("{g} | {c}"),
                        (Some(g), None) => g.to_string(),
                        (None, Some(c)) => c.to_string(),
                        (None, None) => String::new(),
                    };
                    o.insert("x_misp_description".into(), json!(description));
                    o.insert("x_misp_name".into(), json!(galaxy_name));
                    o.insert("x_misp_type".into(), json!(cl_type));
                    o.insert("x_misp_value".into(), json!(value));
                    if let Some(meta) = cl.get("meta").and_then(Value::as_object) {
                        custom_meta(&mut o, meta);
                    }
                    id
                }
            };
            self.clusters.insert(cl_uuid, id.clone());
            self.out.push(Value::Object(o));
            ids.push(id);
        }
        ids
    }

    /// Convert a MISP object. `pe` is the `pe` object a `file` includes, `sections`
    /// the `pe-section` objects that `pe` (or this object, a `pe`) includes
    /// (misp-stix's `windows-pebinary-ext`). Whether the extension was built (the
    /// sections are then converted with it).
    fn object(
        &mut self,
        value: &Value,
        n: usize,
        event_time: i64,
        pe: Option<&Obj>,
        sections: &[&Obj],
    ) -> bool {
        let label = format!("object #{n}");
        let Some(o) = value.as_object() else {
            self.skip(label, "Object", Rule::Type, "an object is a JSON object");
            return false;
        };
        let uuid = match required_uuid(o, &self.event, Some(&label)) {
            Ok(u) => u,
            Err(e) => {
                self.skipped.push(e);
                return false;
            }
        };
        let item = format!("object {uuid}");
        let Some(name) = o.get("name").and_then(Value::as_str) else {
            self.skip(
                item,
                "name",
                Rule::Required,
                "an object needs a 'name' (its template)",
            );
            return false;
        };
        let meta = o
            .get("meta-category")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let time = match o.get("timestamp") {
            Some(v) => match seconds(v) {
                Some(t) => t,
                None => {
                    self.skip(item, "timestamp", Rule::Timestamp, "not seconds since 1970");
                    return false;
                }
            },
            None => event_time,
        };
        let attributes = match object_attributes(o) {
            Ok(a) => a,
            Err((property, rule, message)) => {
                self.skip(item, &property, rule, message);
                return false;
            }
        };
        let labels = vec![
            json!(format!("misp:name=\"{}\"", name.replace('|', "-"))),
            json!(format!("misp:meta-category=\"{meta}\"")),
        ];
        let parts = parts_of(&attributes);
        // misp-stix: the tags of an object's attributes, each once, in order.
        let mut tags: Vec<String> = Vec::new();
        for a in &attributes {
            for t in tag_names(a.raw) {
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
        }
        // misp-stix: the galaxies of the object's attributes (merged by galaxy type)
        // are clusters the object relates to; their tags are no labels.
        let galaxies = object_galaxies(&attributes);
        let (galaxy_ids, galaxy_tags) =
            self.galaxies_of(&galaxies.iter().collect::<Vec<_>>(), time);
        tags.retain(|t| !galaxy_tags.contains(t));
        let sdo = match name {
            "annotation" => crate::objects::annotation(&parts, self.annotated(o)),
            _ => crate::objects::sdo(name, &parts),
        };
        if let Some((stix_type, props, kill_chain)) = sdo {
            let id = format!("{stix_type}--{uuid}");
            let mut v = Obj::new();
            insert_head(&mut v, stix_type, &id, self.identity.as_deref(), time);
            if kill_chain {
                v.insert(
                    "kill_chain_phases".into(),
                    json!([{"kill_chain_name": "misp-category", "phase_name": meta}]),
                );
            }
            let mut labels = labels;
            let markings = self.tags(&tags, &mut labels);
            v.insert("labels".into(), Value::Array(labels));
            if stix_type == "indicator" {
                v.insert("valid_from".into(), json!(s(time)));
            }
            // misp-stix: a location is described by the object's comment, unless
            // its `text` says otherwise.
            if let Some(c) = o
                .get("comment")
                .and_then(Value::as_str)
                .filter(|c| stix_type == "location" && !c.is_empty())
            {
                v.insert("description".into(), json!(c));
            }
            v.extend(props);
            if !markings.is_empty() {
                v.insert("object_marking_refs".into(), json!(markings));
            }
            self.push(Value::Object(v));
            self.object_sightings(&attributes, std::slice::from_ref(&id), time);
            self.analyst_data(
                &analyst_layers(o, &attributes),
                std::slice::from_ref(&id),
                time,
            );
            if matches!(stix_type, "note" | "location") {
                // misp-stix: an annotation's references are its object_refs; a
                // location's are not read.
                self.galaxy_links(&id, &galaxy_ids, time);
            } else {
                self.object_links(o, &uuid, &id, &galaxy_ids, time);
            }
            return false;
        }
        // The objects this one includes: their attributes (an unreadable one is left
        // out, as misp-stix cannot read it either).
        let pe_attributes = pe.and_then(|p| object_attributes(p).ok());
        let section_attributes: Vec<Vec<ObjAttr>> = sections
            .iter()
            .filter_map(|s| object_attributes(s).ok())
            .collect();
        let section_parts: Vec<Vec<crate::objects::Part>> =
            section_attributes.iter().map(|a| parts_of(a)).collect();
        let included_ids = pe_attributes
            .iter()
            .chain(section_attributes.iter())
            .flatten()
            .any(|a| a.to_ids);
        let mut built = false;
        let native = match (name, &pe_attributes) {
            ("pe", _) => crate::objects::pe_file(&uuid, &parts, &section_parts).map(|obs| {
                built = true;
                Ok(obs)
            }),
            ("registry-key", _) if !section_parts.is_empty() => {
                built = true;
                Some(Ok(crate::objects::registry_key_with_values(
                    &uuid,
                    &parts,
                    &section_parts,
                )))
            }
            ("registry-key-value", _) => {
                Some(Ok(crate::objects::registry_value_alone(&uuid, &parts)))
            }
            ("file", Some(pe_attributes)) => {
                let mut native = crate::objects::convert(name, &uuid, &parts);
                if let Some(Ok(obs)) = &mut native {
                    let extension =
                        crate::objects::pe_extension(&parts_of(pe_attributes), &section_parts);
                    if let Some((ext, pattern)) = extension {
                        extend_file(obs, ext, &pattern);
                        built = true;
                    }
                }
                native
            }
            _ => crate::objects::convert(name, &uuid, &parts),
        };
        match native {
            Some(Ok(obs)) => {
                let to_ids = attributes.iter().any(|a| a.to_ids) || (built && included_ids);
                let attr = Attr {
                    uuid: &uuid,
                    kind: name,
                    value: "",
                    category: meta,
                    time,
                    labels,
                    tags,
                    comment: o
                        .get("comment")
                        .and_then(Value::as_str)
                        .filter(|c| !c.is_empty()),
                    galaxies: Vec::new(),
                    sightings: object_sightings(&attributes),
                    analyst: analyst_layers(o, &attributes),
                    first_seen: o.get("first_seen").and_then(Value::as_str),
                    last_seen: o.get("last_seen").and_then(Value::as_str),
                    object: true,
                };
                self.observable_attribute(&attr, obs, to_ids);
                let source = format!("observed-data--{uuid}");
                self.object_links(o, &uuid, &source, &galaxy_ids, time);
            }
            Some(Err((property, rule, message))) => self.skip(item, property, rule, &message),
            None => {
                self.custom
                    .push((format!("object {uuid}"), name.to_string()));
                let id = format!("x-misp-object--{uuid}");
                let mut x = Obj::new();
                insert_head(&mut x, "x-misp-object", &id, self.identity.as_deref(), time);
                let mut labels = labels;
                let markings = self.tags(&tags, &mut labels);
                x.insert("labels".into(), Value::Array(labels));
                if !markings.is_empty() {
                    x.insert("object_marking_refs".into(), json!(markings));
                }
                let attrs: Vec<Value> = attributes
                    .iter()
                    .map(|a| {
                        let mut m = Obj::new();
                        for key in ["type", "object_relation", "value", "category"] {
                            if let Some(v) = a.raw.get(key) {
                                m.insert(key.into(), v.clone());
                            }
                        }
                        if m.get("type").and_then(Value::as_str) == Some("AS") {
                            m.insert("value".into(), json!(a.value));
                        }
                        // PyMISP gives an attribute without a category its type's default.
                        if !m.contains_key("category") {
                            if let Some(t) = a.raw.get("type").and_then(Value::as_str) {
                                m.insert("category".into(), json!(default_category(t)));
                            }
                        }
                        for key in ["comment", "to_ids"] {
                            if let Some(v) = a.raw.get(key).filter(|v| truthy(v)) {
                                m.insert(key.into(), v.clone());
                            }
                        }
                        if let Some(u) = &a.uuid {
                            m.insert("uuid".into(), json!(u));
                        }
                        // An attachment's or a sample's content (misp-stix keeps it).
                        if let Some(d) = a
                            .raw
                            .get("data")
                            .filter(|d| d.as_str().is_some_and(|s| !s.is_empty()))
                        {
                            m.insert("data".into(), d.clone());
                        }
                        // misp-stix: `(s)` is dropped from a relation.
                        if let Some(r) = a.raw.get("object_relation").and_then(Value::as_str) {
                            if r.contains("(s)") {
                                m.insert("object_relation".into(), json!(r.replace("(s)", "")));
                            }
                        }
                        Value::Object(m)
                    })
                    .collect();
                x.insert("x_misp_attributes".into(), Value::Array(attrs));
                if let Some(c) = o
                    .get("comment")
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty())
                {
                    x.insert("x_misp_comment".into(), json!(c));
                }
                x.insert("x_misp_meta_category".into(), json!(meta));
                x.insert("x_misp_name".into(), json!(name));
                self.push(Value::Object(x));
                self.object_sightings(&attributes, std::slice::from_ref(&id), time);
                self.analyst_data(
                    &analyst_layers(o, &attributes),
                    std::slice::from_ref(&id),
                    time,
                );
                self.object_links(o, &uuid, &id, &galaxy_ids, time);
            }
        }
        built
    }

    /// misp-stix's note of an event report: `abstract` its name, `content` its text,
    /// `object_refs` what the attributes and objects the text mentions
    /// (`@[attribute](uuid)`, `@[object](uuid)`) became, else the event's report or
    /// grouping (`container`).
    fn event_report(&mut self, report: &Value, objects: &[&Value], time: i64, container: &str) {
        let Some(r) = report.as_object() else {
            return;
        };
        let Some(uuid) = uuid_of(r) else {
            self.skip(
                "event report".into(),
                "uuid",
                Rule::Uuid,
                "an event report needs a valid 'uuid' (its STIX id)",
            );
            return;
        };
        let content = r.get("content").and_then(Value::as_str).unwrap_or_default();
        let time = r.get("timestamp").and_then(seconds).unwrap_or(time);
        let mut refs: Vec<String> = Vec::new();
        for feature in ["attribute", "object"] {
            for mentioned in report_mentions(content, feature) {
                // An object's attribute stands for its object.
                let owner = objects
                    .iter()
                    .filter_map(|o| o.as_object())
                    .find(|o| {
                        o.get("uuid").and_then(Value::as_str) == Some(mentioned)
                            || list(o, "Attribute")
                                .iter()
                                .any(|a| a.get("uuid").and_then(Value::as_str) == Some(mentioned))
                    })
                    .and_then(|o| o.get("uuid").and_then(Value::as_str));
                let ids = self.refs.iter().filter(|id| {
                    let (kind, id_uuid) = id.split_once("--").unwrap_or_default();
                    match owner {
                        Some(o) => id_uuid == o,
                        // An attribute's SCOs are not what a report mentioning it refers to.
                        None => id_uuid == mentioned && !SCO_TYPES.contains(&kind),
                    }
                });
                for id in ids {
                    if !refs.contains(id) {
                        refs.push(id.clone());
                    }
                }
            }
        }
        if refs.is_empty() {
            refs.push(container.to_string());
        }
        let mut o = Obj::new();
        insert_head(
            &mut o,
            "note",
            &format!("note--{}", uuid.hyphenated()),
            self.identity.as_deref(),
            time,
        );
        if let Some(name) = r.get("name").and_then(Value::as_str) {
            o.insert("abstract".into(), json!(name));
        }
        o.insert("content".into(), json!(content));
        o.insert("object_refs".into(), json!(refs));
        o.insert("labels".into(), json!(["misp:data-layer=\"Event Report\""]));
        let id = format!("note--{}", uuid.hyphenated());
        self.push(Value::Object(o));
        // misp-stix: the report's analyst notes and opinions are of its note.
        self.analyst_data(&[r], &[id], time);
    }

    /// The relationships of a converted object (its STIX id `source`): to the clusters
    /// of its attributes' galaxies, and its references.
    fn object_links(&mut self, o: &Obj, uuid: &str, source: &str, galaxies: &[String], time: i64) {
        self.galaxy_links(source, galaxies, time);
        self.object_references(o, uuid, source, time);
    }

    fn galaxy_links(&mut self, source: &str, galaxies: &[String], time: i64) {
        for g in galaxies {
            let kind = relationship_type(source, g);
            self.relationships
                .push((source.to_string(), kind, g.clone(), time));
        }
    }

    /// What an `annotation` object annotates (misp-stix): with a reference `annotates`,
    /// the objects converted so far, of the types a note refers to, whose uuid one of
    /// its references names.
    fn annotated(&self, o: &Obj) -> Vec<String> {
        let references: Vec<&Obj> = list(o, "ObjectReference")
            .into_iter()
            .filter_map(Value::as_object)
            .collect();
        let annotates = references
            .iter()
            .any(|r| r.get("relationship_type").and_then(Value::as_str) == Some("annotates"));
        if !annotates {
            return Vec::new();
        }
        let mut refs: Vec<String> = Vec::new();
        for r in references {
            let Some(target) = r.get("referenced_uuid").and_then(Value::as_str) else {
                continue;
            };
            for id in &self.refs {
                let (kind, id_uuid) = id.split_once("--").unwrap_or_default();
                if id_uuid == target && NOTE_REFERENCE_TYPES.contains(&kind) && !refs.contains(id) {
                    refs.push(id.clone());
                }
            }
        }
        refs
    }

    /// The references of a converted object (its STIX id `source`), but those to an
    /// object misp-stix sets aside (a `pe`, a `pe-section`, …), which it converts with
    /// the object that includes it.
    fn object_references(&mut self, o: &Obj, uuid: &str, source: &str, time: i64) {
        for reference in list(o, "ObjectReference") {
            let Some(r) = reference.as_object() else {
                continue;
            };
            let Some(target) = r.get("referenced_uuid").and_then(Value::as_str) else {
                continue;
            };
            if self.to_parse.contains(target) {
                continue;
            }
            let kind = r
                .get("relationship_type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            self.references.push(Reference {
                source: source.to_string(),
                target: target.to_string(),
                kind: kind.to_string(),
                id: r
                    .get("uuid")
                    .and_then(Value::as_str)
                    .map(|u| format!("relationship--{u}")),
                time: r.get("timestamp").and_then(seconds).unwrap_or(time),
                object: uuid.to_string(),
            });
        }
    }

    /// The sightings of an object's attributes, of what the object became (`refs`).
    fn object_sightings(&mut self, attributes: &[ObjAttr], refs: &[String], time: i64) {
        let sightings = object_sightings(attributes);
        self.sightings_of(&sightings, refs, time);
    }

    fn sightings(&mut self, a: &Attr, refs: &[String]) {
        self.sightings_of(&a.sightings, refs, a.time);
        self.analyst_data(&a.analyst, refs, a.time);
    }

    /// misp-stix's analyst data: each `Note` of the layers a `note` labelled
    /// `misp:context-layer="Analyst Note"` (`content`, `authors`, `lang`), each
    /// `Opinion` an `opinion` labelled `misp:context-layer="Analyst Opinion"` (the 0–100
    /// value as `x_misp_opinion` and as STIX's five levels, the comment as
    /// `explanation`), of what the layer became (`refs`); `created`/`modified` their
    /// own, else `time`.
    fn analyst_data(&mut self, layers: &[&Obj], refs: &[String], time: i64) {
        for layer in layers {
            for (key, kind) in [("Note", "note"), ("Opinion", "opinion")] {
                for data in list(layer, key) {
                    self.analyst(data, kind, refs, time);
                }
            }
        }
    }

    fn analyst(&mut self, data: &Value, kind: &str, refs: &[String], time: i64) {
        let Some(d) = data.as_object() else { return };
        let item = format!(
            "analyst {kind} of {}",
            refs.first().map_or("", String::as_str)
        );
        let Some(uuid) = uuid_of(d) else {
            self.skip(
                item,
                "uuid",
                Rule::Uuid,
                "analyst data needs a valid 'uuid' (its STIX id)",
            );
            return;
        };
        let mut o = Obj::new();
        o.insert("type".into(), json!(kind));
        o.insert("spec_version".into(), json!("2.1"));
        let id = format!("{kind}--{}", uuid.hyphenated());
        o.insert("id".into(), json!(id));
        for field in ["created", "modified"] {
            let when = d
                .get(field)
                .and_then(Value::as_str)
                .and_then(analyst_time)
                .unwrap_or_else(|| ms(time));
            o.insert(field.into(), json!(when));
        }
        let text = |k: &str| d.get(k).and_then(Value::as_str).filter(|t| !t.is_empty());
        if let Some(a) = text("authors") {
            o.insert("authors".into(), json!([a]));
        }
        let label = if kind == "note" {
            let Some(content) = text("note") else {
                self.skip(
                    item,
                    "note",
                    Rule::Required,
                    "an analyst note needs its 'note' text",
                );
                return;
            };
            o.insert("content".into(), json!(content));
            if let Some(l) = text("language") {
                o.insert("lang".into(), json!(l));
            }
            "misp:context-layer=\"Analyst Note\""
        } else {
            let value = match d.get("opinion") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(t)) => t.trim().parse::<i64>().ok(),
                _ => None,
            };
            let Some(value) = value else {
                self.skip(
                    item,
                    "opinion",
                    Rule::Type,
                    "an analyst opinion is a number, 0 to 100",
                );
                return;
            };
            if let Some(c) = text("comment") {
                o.insert("explanation".into(), json!(c));
            }
            o.insert("opinion".into(), json!(opinion_level(value)));
            o.insert("x_misp_opinion".into(), json!(value));
            "misp:context-layer=\"Analyst Opinion\""
        };
        o.insert("object_refs".into(), json!(refs));
        o.insert("labels".into(), json!([label]));
        self.push(Value::Object(o));
    }

    /// misp-stix's sightings: a `sighting` (type 0) of what the attribute or object
    /// became, `sighting_of_ref` the one object or the one that is no observed-data,
    /// `observed_data_refs` the observed-data; a false positive (type 1) an `opinion`
    /// (`strongly-disagree`) of them all; an expiration (type 2) nothing. The
    /// sighting's organisation is an identity (`where_sighted_refs`, the opinion's
    /// `x_misp_author_ref`). `time` when a sighting has no date.
    fn sightings_of(&mut self, sightings: &[&Value], refs: &[String], time: i64) {
        let Some(first) = refs.first() else {
            return;
        };
        let (observed, others): (Vec<&String>, Vec<&String>) = refs
            .iter()
            .partition(|r| refs.len() > 1 && r.starts_with("observed-data--"));
        let sighting_of = others.first().copied().unwrap_or(first);
        for sighting in sightings {
            let Some(s) = sighting.as_object() else {
                continue;
            };
            let kind = match s.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            if kind != "0" && kind != "1" {
                continue;
            }
            let Some(uuid) = s
                .get("uuid")
                .and_then(Value::as_str)
                .and_then(|u| Uuid::parse_str(u).ok())
            else {
                self.skip(
                    format!("sighting of {first}"),
                    "uuid",
                    Rule::Uuid,
                    "a sighting needs a valid 'uuid' (its STIX id)",
                );
                continue;
            };
            let when = s.get("date_sighting").and_then(seconds).unwrap_or(time);
            let organisation = s
                .get("Organisation")
                .and_then(Value::as_object)
                .and_then(|o| {
                    let org_uuid = o.get("uuid").and_then(Value::as_str)?;
                    let name = o.get("name").and_then(Value::as_str)?;
                    Some((format!("identity--{org_uuid}"), name.to_string()))
                });
            if let Some((id, name)) = &organisation {
                if self.identities.insert(id.clone()) {
                    self.sighting_identities.push(json!({
                        "type": "identity", "spec_version": "2.1", "id": id,
                        "created": ms(when), "modified": ms(when),
                        "name": name, "identity_class": "organization"
                    }));
                }
            }
            let mut o = Obj::new();
            let kind = if kind == "0" { "sighting" } else { "opinion" };
            o.insert("type".into(), json!(kind));
            o.insert("spec_version".into(), json!("2.1"));
            o.insert("id".into(), json!(format!("{kind}--{}", uuid.hyphenated())));
            o.insert("created".into(), json!(ms(when)));
            o.insert("modified".into(), json!(ms(when)));
            if kind == "sighting" {
                if let Some(source) = s
                    .get("source")
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                {
                    o.insert("description".into(), json!(source));
                }
                o.insert("sighting_of_ref".into(), json!(sighting_of));
                if refs.len() > 1 {
                    o.insert("observed_data_refs".into(), json!(observed));
                }
                if let Some((id, _)) = &organisation {
                    o.insert("where_sighted_refs".into(), json!([id]));
                }
            } else {
                o.insert("explanation".into(), json!("False positive Sighting"));
                o.insert("opinion".into(), json!("strongly-disagree"));
                o.insert("object_refs".into(), json!(refs));
                if let Some((id, name)) = &organisation {
                    o.insert("authors".into(), json!([name]));
                    o.insert("x_misp_author_ref".into(), json!(id));
                }
            }
            self.push(Value::Object(o));
        }
    }

    /// Split tags into TLP markings (their ids) and labels (appended).
    fn tags(&mut self, tags: &[String], labels: &mut Vec<Value>) -> Vec<String> {
        let mut ids = Vec::new();
        for tag in tags {
            match Tlp::from_tag(tag) {
                Some(tlp) => {
                    if !self.markings.contains(&tlp) {
                        self.markings.push(tlp);
                    }
                    ids.push(tlp.id().to_string());
                }
                None => labels.push(json!(tag)),
            }
        }
        ids
    }

    fn flush_relationships(&mut self) {
        // misp-stix's target is the first id that holds the uuid: for a uuid, the
        // first id of that uuid (one pass, not one per reference); for anything else
        // (a reference to no uuid), a search.
        let mut first_of: HashMap<&str, &String> = HashMap::new();
        for id in &self.refs {
            if let Some((_, u)) = id.split_once("--") {
                first_of.entry(u).or_insert(id);
            }
        }
        let targets: Vec<Option<String>> = self
            .references
            .iter()
            .map(|reference| match Uuid::parse_str(&reference.target) {
                Ok(u) if u.hyphenated().to_string() == reference.target => first_of
                    .get(reference.target.as_str())
                    .map(|id| (*id).clone()),
                _ => self
                    .refs
                    .iter()
                    .find(|r| r.contains(&reference.target))
                    .cloned(),
            })
            .collect();
        for (reference, target) in std::mem::take(&mut self.references)
            .into_iter()
            .zip(targets)
        {
            let Some(target) = target else {
                let message = format!(
                    "the reference '{}' to {}: no object converted from the event has that uuid (misp-stix leaves the reference out too)",
                    reference.kind, reference.target
                );
                self.skip(
                    format!("object {}", reference.object),
                    "ObjectReference",
                    Rule::Reference,
                    &message,
                );
                continue;
            };
            let id = reference
                .id
                .unwrap_or_else(|| relationship_id(&reference.source, &reference.kind, &target));
            self.push_relationship(
                id,
                &reference.source,
                &reference.kind,
                &target,
                reference.time,
            );
        }
        for (source, kind, target, time) in std::mem::take(&mut self.relationships) {
            let id = relationship_id(&source, kind, &target);
            self.push_relationship(id, &source, kind, &target, time);
        }
    }

    fn push_relationship(&mut self, id: String, source: &str, kind: &str, target: &str, time: i64) {
        let mut r = Obj::new();
        r.insert("type".into(), json!("relationship"));
        r.insert("spec_version".into(), json!("2.1"));
        r.insert("id".into(), json!(id));
        r.insert("created".into(), json!(ms(time)));
        r.insert("modified".into(), json!(ms(time)));
        r.insert("relationship_type".into(), json!(kind));
        r.insert("source_ref".into(), json!(source));
        r.insert("target_ref".into(), json!(target));
        self.push(Value::Object(r));
    }
}

/// misp-stix's id of a relationship without a uuid of its own: a UUIDv5 of
/// `"<source> - <type> - <target>"`.
fn relationship_id(source: &str, kind: &str, target: &str) -> String {
    format!(
        "relationship--{}",
        Uuid::new_v5(
            &RELATIONSHIP_NAMESPACE,
            format!("{source} - {kind} - {target}").as_bytes()
        )
    )
}

/// The attributes of a MISP object; the first that is not an object or has no value
/// makes the object unreadable: (property, rule, message).
fn object_attributes(o: &Obj) -> Result<Vec<ObjAttr<'_>>, (String, Rule, &'static str)> {
    let mut attributes = Vec::new();
    for (k, a) in list(o, "Attribute").iter().enumerate() {
        let Some(am) = a.as_object() else {
            return Err((
                format!("Attribute[{k}]"),
                Rule::Type,
                "an attribute is a JSON object",
            ));
        };
        let relation = am
            .get("object_relation")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(mut v) = am.get("value").and_then(scalar_text) else {
            return Err((
                format!("Attribute[{k}].value"),
                Rule::Required,
                "an attribute needs a 'value'",
            ));
        };
        if am.get("type").and_then(Value::as_str) == Some("AS") {
            // PyMISP gives misp-stix an AS without its `AS`, an asdot one as a number.
            v = crate::objects::pymisp_as(&v);
        }
        let a_uuid = am
            .get("uuid")
            .and_then(Value::as_str)
            .and_then(|u| Uuid::parse_str(u).ok())
            .map(|u| u.hyphenated().to_string());
        attributes.push(ObjAttr {
            relation: relation.to_string(),
            value: v,
            uuid: a_uuid,
            to_ids: am.get("to_ids").is_some_and(truthy),
            in_pattern: am.get("to_ids").map_or_else(
                || default_to_ids(am.get("type").and_then(Value::as_str).unwrap_or_default()),
                truthy,
            ),
            raw: am,
        });
    }
    Ok(attributes)
}

/// misp-stix's galaxies of an object's attributes: one per galaxy type, in the order
/// the types first appear, with the clusters of every galaxy of that type (each once).
fn object_galaxies(attributes: &[ObjAttr]) -> Vec<Value> {
    let mut merged: Vec<Value> = Vec::new();
    for galaxy in attributes.iter().flat_map(|a| list(a.raw, "Galaxy")) {
        let Some(existing) = merged
            .iter_mut()
            .find(|g| g.get("type") == galaxy.get("type"))
        else {
            merged.push(galaxy.clone());
            continue;
        };
        let clusters = list(galaxy.as_object().unwrap_or(&Obj::new()), "GalaxyCluster")
            .into_iter()
            .cloned()
            .collect::<Vec<_>>();
        if let Some(Value::Array(have)) = existing.get_mut("GalaxyCluster") {
            for cluster in clusters {
                if !have.iter().any(|c| c.get("uuid") == cluster.get("uuid")) {
                    have.push(cluster);
                }
            }
        }
    }
    merged
}

/// The types of what misp-stix lets an annotation's note refer to.
const NOTE_REFERENCE_TYPES: [&str; 15] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "identity",
    "indicator",
    "intrusion-set",
    "malware",
    "observed-data",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    "x-misp-attribute",
    "x-misp-galaxy-cluster",
    "x-misp-object",
];

/// The uuids an event report's text mentions as `@[feature](uuid)` or
/// `@![feature](uuid)` (misp-stix's pattern: a lower-case hexadecimal uuid), in order.
fn report_mentions<'a>(content: &'a str, feature: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = content;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        rest = after;
        let after = after.strip_prefix('!').unwrap_or(after);
        let Some(after) = after
            .strip_prefix('[')
            .and_then(|a| a.strip_prefix(feature))
            .and_then(|a| a.strip_prefix("]("))
        else {
            continue;
        };
        let Some(candidate) = after.get(..36) else {
            continue;
        };
        let shape = candidate.char_indices().all(|(i, ch)| match i {
            8 | 13 | 18 | 23 => ch == '-',
            _ => ch.is_ascii_digit() || ('a'..='f').contains(&ch),
        });
        if shape && after[36..].starts_with(')') {
            out.push(candidate);
        }
    }
    out
}

/// The sightings of an object's attributes, in order.
fn object_sightings<'a>(attributes: &[ObjAttr<'a>]) -> Vec<&'a Value> {
    attributes
        .iter()
        .flat_map(|a| list(a.raw, "Sighting"))
        .collect()
}

/// The attributes as the templates read them.
fn parts_of<'a>(attributes: &'a [ObjAttr]) -> Vec<crate::objects::Part<'a>> {
    attributes
        .iter()
        .map(|a| crate::objects::Part {
            relation: &a.relation,
            value: &a.value,
            uuid: a.uuid.as_deref(),
            kind: a
                .raw
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            data: a.raw.get("data").and_then(Value::as_str),
            in_pattern: a.in_pattern,
            comment: a
                .raw
                .get("comment")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty()),
        })
        .collect()
}

/// A file with the `windows-pebinary-ext` of the `pe` it includes: the extension on
/// its `file` SCO, the extension's comparisons after the file's in the pattern.
fn extend_file(obs: &mut Observable, ext: Obj, pattern: &[String]) {
    if let Some(file) = obs.scos.first_mut().and_then(Value::as_object_mut) {
        file.insert(
            "extensions".into(),
            json!({"windows-pebinary-ext": Value::Object(ext)}),
        );
    }
    let inner = obs
        .pattern
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .unwrap_or_default();
    let mut parts: Vec<&str> = Vec::new();
    if !inner.is_empty() {
        parts.push(inner);
    }
    parts.extend(pattern.iter().map(String::as_str));
    obs.pattern = format!("[{}]", parts.join(" AND "));
}

/// misp-stix's relationship types of an object reference that includes a `pe` in a
/// `file` or a `pe-section` in a `pe`.
const PE_REFERENCES: [&str; 2] = ["includes", "included-in"];

/// The uuids a MISP object's references include of template `name` (misp-stix's
/// `_is_reference_included`: the reference names the template of the object it
/// refers to).
fn included_uuids<'a>(o: &'a Obj, name: &str) -> Vec<&'a str> {
    referenced_uuids(o, name, &PE_REFERENCES)
}

/// The uuids a MISP object's references of one of `kinds` name, of template `name`.
fn referenced_uuids<'a>(o: &'a Obj, name: &str, kinds: &[&str]) -> Vec<&'a str> {
    list(o, "ObjectReference")
        .into_iter()
        .filter_map(Value::as_object)
        .filter(|r| {
            r.get("relationship_type")
                .and_then(Value::as_str)
                .is_some_and(|t| kinds.contains(&t))
                && r.get("Object")
                    .and_then(|o| o.get("name"))
                    .and_then(Value::as_str)
                    == Some(name)
        })
        .filter_map(|r| r.get("referenced_uuid").and_then(Value::as_str))
        .collect()
}

/// Convert the objects of an event in misp-stix's order: first every object but the
/// `pe`, `pe-section` and `file` objects that include a `pe`, the `registry-key`
/// objects that contain `registry-key-value` objects and those, and the annotations;
/// then each such file with its pe and the pe's sections (one `file` with
/// `windows-pebinary-ext`); then the pe no file included (a `file` of its own); then the
/// sections no pe took (`x-misp-object`, as misp-stix); then each such registry key
/// with its values, the values no key took (a key of one value); then the annotations.
fn convert_objects(c: &mut Conversion, objects: &[&Value], timestamp: i64) {
    let name_of = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
    let uuid_of = |v: &Value| v.get("uuid").and_then(Value::as_str).map(str::to_string);
    // uuid → index, per template (the last of a uuid, as misp-stix's dictionaries).
    let mut by_uuid: HashMap<(String, String), usize> = HashMap::new();
    for (n, o) in objects.iter().enumerate() {
        if let (Some(name), Some(uuid)) = (name_of(o), uuid_of(o)) {
            by_uuid.insert((name, uuid), n);
        }
    }
    let present = |name: &str, uuids: Vec<&str>| -> Vec<usize> {
        uuids
            .into_iter()
            .filter_map(|u| by_uuid.get(&(name.to_string(), u.to_string())).copied())
            .collect()
    };
    let deferred = |o: &Value| match name_of(o).as_deref() {
        Some("pe" | "pe-section" | "annotation" | "registry-key-value") => true,
        Some("registry-key") => o
            .as_object()
            .is_some_and(|m| !referenced_uuids(m, "registry-key-value", &["contains"]).is_empty()),
        Some("file") => o
            .as_object()
            .is_some_and(|m| !included_uuids(m, "pe").is_empty()),
        _ => false,
    };
    // misp-stix sets these aside as it meets them (a reference to one is no
    // relationship).
    for (n, object) in objects.iter().enumerate() {
        if deferred(object) {
            if let Some(u) = uuid_of(object) {
                c.to_parse.insert(u);
            }
        }
        if !deferred(object) {
            c.object(object, n, timestamp, None, &[]);
        }
    }
    let mut used = HashSet::new();
    let as_objects = |indices: &[usize]| -> Vec<&Obj> {
        indices
            .iter()
            .filter_map(|i| objects[*i].as_object())
            .collect()
    };
    for (n, object) in objects.iter().enumerate() {
        let Some(file) = object.as_object().filter(|_| deferred(object)) else {
            continue;
        };
        if name_of(object).as_deref() != Some("file") {
            continue;
        }
        let pes = present("pe", included_uuids(file, "pe"));
        let [pe] = pes[..] else {
            c.object(object, n, timestamp, None, &[]);
            continue;
        };
        let Some(pe_object) = objects[pe].as_object() else {
            continue;
        };
        let sections = present("pe-section", included_uuids(pe_object, "pe-section"));
        used.insert(pe);
        if c.object(
            object,
            n,
            timestamp,
            Some(pe_object),
            &as_objects(&sections),
        ) {
            used.extend(sections);
        }
    }
    // A container set aside (a pe no file included, a registry key) with the members
    // it includes (sections) or contains (values), then the members none took.
    let with_members = |c: &mut Conversion,
                        used: &mut HashSet<usize>,
                        (container, member, kinds): (&str, &str, &[&str])| {
        for (n, object) in objects.iter().enumerate() {
            if name_of(object).as_deref() != Some(container)
                || used.contains(&n)
                || !deferred(object)
            {
                continue;
            }
            let members = object
                .as_object()
                .map(|m| present(member, referenced_uuids(m, member, kinds)))
                .unwrap_or_default();
            if c.object(object, n, timestamp, None, &as_objects(&members)) {
                used.extend(members);
            }
        }
        for (n, object) in objects.iter().enumerate() {
            if name_of(object).as_deref() == Some(member) && !used.contains(&n) {
                c.object(object, n, timestamp, None, &[]);
            }
        }
    };
    with_members(c, &mut used, ("pe", "pe-section", &PE_REFERENCES));
    with_members(
        c,
        &mut used,
        ("registry-key", "registry-key-value", &["contains"]),
    );
    // Annotations last: they refer to what the others became.
    for (n, object) in objects.iter().enumerate() {
        if name_of(object).as_deref() == Some("annotation") {
            c.object(object, n, timestamp, None, &[]);
        }
    }
}

struct Attr<'a> {
    uuid: &'a str,
    kind: &'a str,
    value: &'a str,
    category: &'a str,
    time: i64,
    labels: Vec<Value>,
    tags: Vec<String>,
    comment: Option<&'a str>,
    galaxies: Vec<&'a Value>,
    /// The MISP sightings (`Sighting`) of the attribute, or of the object's attributes.
    sightings: Vec<&'a Value>,
    /// What carries the analyst notes and opinions (`Note`, `Opinion`): the attribute,
    /// or the object and its attributes.
    analyst: Vec<&'a Obj>,
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    /// A MISP object: its indicator carries the TLP of its attributes' tags but not
    /// their other tags as labels (misp-stix writes neither; Accord keeps the TLP so
    /// the gate does not release the pattern more widely than the observed-data).
    object: bool,
}

struct ObjAttr<'a> {
    relation: String,
    value: String,
    uuid: Option<String>,
    to_ids: bool,
    /// In the indicator's pattern: `to_ids`, or the type's default when absent (misp-stix).
    in_pattern: bool,
    raw: &'a Obj,
}

/// The TLP marking definitions misp-stix writes (TLP 1.0 from the STIX 2.1
/// specification; `tlp:clear` and `tlp:amber+strict` as TLP 2.0 extension markings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tlp {
    /// TLP:WHITE
    White,
    /// TLP:GREEN
    Green,
    /// TLP:AMBER
    Amber,
    /// TLP:RED
    Red,
    /// TLP:CLEAR (TLP 2.0)
    Clear,
    /// TLP:AMBER+STRICT (TLP 2.0)
    AmberStrict,
}

impl Tlp {
    /// The TLP of a MISP tag (`tlp:green`, case-insensitive).
    pub fn from_tag(tag: &str) -> Option<Tlp> {
        match tag.to_ascii_lowercase().as_str() {
            "tlp:white" => Some(Tlp::White),
            "tlp:green" => Some(Tlp::Green),
            "tlp:amber" => Some(Tlp::Amber),
            "tlp:red" => Some(Tlp::Red),
            "tlp:clear" => Some(Tlp::Clear),
            "tlp:amber+strict" => Some(Tlp::AmberStrict),
            _ => None,
        }
    }

    /// The TLP of a marking definition id.
    pub fn from_id(id: &str) -> Option<Tlp> {
        [
            Tlp::White,
            Tlp::Green,
            Tlp::Amber,
            Tlp::Red,
            Tlp::Clear,
            Tlp::AmberStrict,
        ]
        .into_iter()
        .find(|t| t.id() == id)
    }

    /// The MISP tag.
    pub fn tag(self) -> &'static str {
        match self {
            Tlp::White => "tlp:white",
            Tlp::Green => "tlp:green",
            Tlp::Amber => "tlp:amber",
            Tlp::Red => "tlp:red",
            Tlp::Clear => "tlp:clear",
            Tlp::AmberStrict => "tlp:amber+strict",
        }
    }

    /// The marking definition's id.
    pub fn id(self) -> &'static str {
        match self {
            Tlp::White => "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            Tlp::Green => "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            Tlp::Amber => "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            Tlp::Red => "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        }
    }

    fn definition(self) -> Value {
        let level = &self.tag()[4..];
        match self {
            Tlp::Clear | Tlp::AmberStrict => json!({
                "type": "marking-definition", "spec_version": "2.1", "id": self.id(),
                "created": "2022-10-01T00:00:00.000Z", "name": format!("TLP:{}", level.to_ascii_uppercase()),
                "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                    "extension_type": "property-extension", "tlp_2_0": level}}
            }),
            _ => json!({
                "type": "marking-definition", "spec_version": "2.1", "id": self.id(),
                "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
                "name": format!("TLP:{}", level.to_ascii_uppercase()), "definition": {"tlp": level}
            }),
        }
    }
}

/// The STIX hash name of a MISP hash type (as misp-stix names it).
pub fn hash_name(kind: &str) -> Option<(&'static str, usize)> {
    Some(match kind {
        "md5" => ("MD5", 32),
        "sha1" => ("SHA-1", 40),
        "sha224" => ("SHA-224", 56),
        "sha256" => ("SHA-256", 64),
        "sha384" => ("SHA-384", 96),
        "sha512" => ("SHA-512", 128),
        "sha3-224" => ("SHA3-224", 56),
        "sha3-256" => ("SHA3-256", 64),
        "sha3-384" => ("SHA3-384", 96),
        "sha3-512" => ("SHA3-512", 128),
        "imphash" => ("IMPHASH", 32),
        "authentihash" => ("AUTHENTIHASH", 64),
        "ssdeep" => ("SSDEEP", 0),
        "sha512/224" => ("SHA-224", 56),
        "sha512/256" => ("SHA-256", 64),
        "cdhash" => ("CDHASH", 0),
        "impfuzzy" => ("IMPFUZZY", 0),
        "pehash" => ("PEHASH", 0),
        "telfhash" => ("TELFHASH", 0),
        "vhash" => ("VHASH", 0),
        _ => return None,
    })
}

/// The key of a hash in an SCO's `hashes`, as the stix2 library writes it: the
/// algorithms of the STIX vocabulary by their vocabulary name (`SHA-256`), the others
/// as misp-stix names them (`SHA224`, `SHA3384`).
pub(crate) fn sco_hash_key(name: &str) -> &str {
    match name {
        "SHA-224" => "SHA224",
        "SHA-384" => "SHA384",
        "SHA3-224" => "SHA3224",
        "SHA3-384" => "SHA3384",
        other => other,
    }
}

pub(crate) fn hash_path(prefix: &str, name: &str) -> String {
    if name.contains('-') {
        format!("{prefix}:hashes.'{name}'")
    } else {
        format!("{prefix}:hashes.{name}")
    }
}

pub(crate) fn check_hash(kind: &str, value: &str) -> Result<(&'static str, String), Refusal> {
    let Some((name, len)) = hash_name(kind) else {
        return Err(("type", Rule::Value, format!("'{kind}' is not a hash type")));
    };
    if len > 0 && (value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err((
            "value",
            Rule::Value,
            format!("a {kind} hash is {len} hexadecimal digits"),
        ));
    }
    if value.is_empty() {
        return Err(("value", Rule::Value, "an empty hash".into()));
    }
    // pymisp lower-cases hexadecimal hashes; an ssdeep hash is case-sensitive.
    let value = if len > 0 {
        value.to_ascii_lowercase()
    } else {
        value.to_string()
    };
    Ok((name, value))
}

/// Escape a value for a STIX pattern literal (as misp-stix: `\` and `'`).
pub fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

pub(crate) fn sco(kind: &str, uuid: &str, props: Value) -> Value {
    let mut o = Obj::new();
    o.insert("type".into(), json!(kind));
    o.insert("spec_version".into(), json!("2.1"));
    o.insert("id".into(), json!(format!("{kind}--{uuid}")));
    if let Value::Object(p) = props {
        o.extend(p);
    }
    Value::Object(o)
}

pub(crate) fn ip_type(value: &str) -> Result<&'static str, Refusal> {
    let addr = value.split('/').next().unwrap_or(value);
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => Ok("ipv4-addr"),
        Ok(IpAddr::V6(_)) => Ok("ipv6-addr"),
        Err(_) => Err((
            "value",
            Rule::Value,
            format!("'{value}' is not an IP address"),
        )),
    }
}

fn port(value: &str) -> Result<u16, Refusal> {
    value.trim().parse::<u16>().map_err(|_| {
        (
            "value",
            Rule::Value,
            format!("'{value}' is not a port (0-65535)"),
        )
    })
}

fn split2(value: &str) -> Result<(&str, &str), Refusal> {
    value.split_once('|').ok_or((
        "value",
        Rule::Composite,
        "a composite value is 'a|b'".to_string(),
    ))
}

/// The pattern of a type misp-stix converts to an indicator only (with `to_ids`; a custom
/// `x-misp-attribute` without).
fn indicator_only(kind: &str, value: &str) -> Option<String> {
    let v = escape(value);
    Some(match kind {
        "port" => format!("[network-traffic:dst_port = '{v}']"),
        "user-agent" => {
            format!("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = '{v}']")
        }
        "http-method" => {
            format!("[network-traffic:extensions.'http-request-ext'.request_method = '{v}']")
        }
        "size-in-bytes" => format!("[file:size = '{v}']"),
        _ => return None,
    })
}

/// The observable of an attribute type misp-stix converts to observed-data (and an
/// indicator); `None` for the other types.
fn observable(
    kind: &str,
    value: &str,
    uuid: &str,
    data: Option<&str>,
) -> Option<Result<Observable, Refusal>> {
    let v = escape(value);
    let one = |t: &str, prop: &str, path: &str| Observable {
        scos: vec![sco(t, uuid, json!({ prop: value }))],
        pattern: format!("[{path} = '{v}']"),
    };
    Some(match kind {
        "domain" | "hostname" => Ok(one("domain-name", "value", "domain-name:value")),
        "url" | "uri" | "link" => Ok(one("url", "value", "url:value")),
        "email" => Ok(one("email-addr", "value", "email-addr:value")),
        "mutex" => Ok(one("mutex", "name", "mutex:name")),
        "mac-address" => Ok(one("mac-addr", "value", "mac-addr:value")),
        "regkey" => Ok(one(
            "windows-registry-key",
            "key",
            "windows-registry-key:key",
        )),
        "filename" => Ok(one("file", "name", "file:name")),
        "attachment" => Ok(match data {
            Some(d) => Observable {
                scos: vec![
                    sco(
                        "file",
                        uuid,
                        json!({"name": value, "content_ref": format!("artifact--{uuid}")}),
                    ),
                    sco("artifact", uuid, json!({"payload_bin": d})),
                ],
                pattern: format!(
                    "[file:name = '{v}' AND file:content_ref.payload_bin = '{}']",
                    escape(d)
                ),
            },
            None => one("file", "name", "file:name"),
        }),
        "malware-sample" => (|| {
            let (file, hash) = split2(value)?;
            Ok(match data {
                Some(d) => Observable {
                    scos: vec![
                        sco("file", uuid, json!({"name": file, "content_ref": format!("artifact--{uuid}")})),
                        sco(
                            "artifact",
                            uuid,
                            json!({"mime_type": "application/zip", "payload_bin": d,
                                "encryption_algorithm": "mime-type-indicated", "decryption_key": "infected"}),
                        ),
                    ],
                    pattern: format!(
                        "[file:content_ref.payload_bin = '{}' AND file:content_ref.mime_type = 'application/zip' AND file:content_ref.encryption_algorithm = 'mime-type-indicated' AND file:content_ref.decryption_key = 'infected']",
                        escape(d)
                    ),
                },
                None => {
                    let (name, hex) = check_hash("md5", hash)?;
                    Observable {
                        scos: vec![sco("file", uuid, json!({"hashes": {name: hex}, "name": file}))],
                        pattern: format!("[file:name = '{}' AND file:hashes.MD5 = '{}']", escape(file), escape(&hex)),
                    }
                }
            })
        })(),
        "github-username" => Ok(Observable {
            scos: vec![sco(
                "user-account",
                uuid,
                json!({"account_login": value, "account_type": "github"}),
            )],
            pattern: format!(
                "[user-account:account_type = 'github' AND user-account:account_login = '{v}']"
            ),
        }),
        "email-src" | "email-dst" => {
            let (prop, path) = if kind == "email-src" {
                ("from_ref", "email-message:from_ref.value")
            } else {
                ("to_refs", "email-message:to_refs[*].value")
            };
            let addr = format!("email-addr--{uuid}");
            let target = if kind == "email-src" {
                json!(addr)
            } else {
                json!([addr])
            };
            Ok(Observable {
                scos: vec![
                    sco(
                        "email-message",
                        uuid,
                        json!({"is_multipart": false, prop: target}),
                    ),
                    sco("email-addr", uuid, json!({"value": value})),
                ],
                pattern: format!("[{path} = '{v}']"),
            })
        }
        "email-body" => Ok(Observable {
            scos: vec![sco(
                "email-message",
                uuid,
                json!({"is_multipart": false, "body": value}),
            )],
            pattern: format!("[email-message:body = '{v}']"),
        }),
        "email-header" => Ok(Observable {
            scos: vec![sco(
                "email-message",
                uuid,
                json!({"is_multipart": false, "received_lines": [value]}),
            )],
            pattern: format!("[email-message:received_lines = '{v}']"),
        }),
        "email-message-id" => Ok(Observable {
            scos: vec![sco(
                "email-message",
                uuid,
                json!({"is_multipart": false, "message_id": value}),
            )],
            pattern: format!("[email-message:message_id = '{v}']"),
        }),
        "email-attachment" => Ok(Observable {
            scos: vec![
                sco(
                    "email-message",
                    uuid,
                    json!({"is_multipart": true, "body_multipart": [{
                        "body_raw_ref": format!("file--{uuid}"),
                        "content_disposition": format!("attachment; filename='{value}'")
                    }]}),
                ),
                sco("file", uuid, json!({"name": value})),
            ],
            pattern: format!("[email-message:body_multipart[*].body_raw_ref.name = '{v}']"),
        }),
        "regkey|value" => (|| {
            let (key, data) = split2(value)?;
            let (pkey, pdata) = split2(&v)?;
            Ok(Observable {
                scos: vec![sco(
                    "windows-registry-key",
                    uuid,
                    json!({"key": key.trim(), "values": [{"data": data.trim()}]}),
                )],
                pattern: format!(
                    "[windows-registry-key:key = '{}' AND windows-registry-key:values.data = '{}']",
                    crate::objects::sanitise_registry(pkey).trim(),
                    crate::objects::sanitise_registry(pdata).trim()
                ),
            })
        })(),
        "email-subject" => Ok(Observable {
            scos: vec![sco(
                "email-message",
                uuid,
                json!({"is_multipart": false, "subject": value}),
            )],
            pattern: format!("[email-message:subject = '{v}']"),
        }),
        "email-reply-to" | "email-x-mailer" => {
            let (header, path) = if kind == "email-reply-to" {
                ("Reply-To", "reply_to")
            } else {
                ("X-Mailer", "x_mailer")
            };
            Ok(Observable {
                scos: vec![sco(
                    "email-message",
                    uuid,
                    json!({"is_multipart": false, "additional_header_fields": {header: value}}),
                )],
                pattern: format!("[email-message:additional_header_fields.{path} = '{v}']"),
            })
        }
        "AS" => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            match digits.parse::<u64>() {
                Ok(n) if n <= u64::from(u32::MAX) => Ok(Observable {
                    scos: vec![sco("autonomous-system", uuid, json!({"number": n}))],
                    pattern: format!("[autonomous-system:number = '{n}']"),
                }),
                _ => Err((
                    "value",
                    Rule::Value,
                    format!("'{value}' is not an AS number"),
                )),
            }
        }
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" => (|| {
            let side = if kind.starts_with("ip-src") {
                "src"
            } else {
                "dst"
            };
            let (ip, p) = if kind.ends_with("|port") {
                let (ip, p) = split2(value)?;
                (ip, Some(port(p)?))
            } else {
                (value, None)
            };
            let t = ip_type(ip)?;
            let ip_id = format!("{t}--{uuid}");
            let mut nt = json!({ format!("{side}_ref"): ip_id });
            let mut pattern = format!(
                "[network-traffic:{side}_ref.type = '{t}' AND network-traffic:{side}_ref.value = '{}'",
                escape(ip)
            );
            if let Some(p) = p {
                nt[format!("{side}_port")] = json!(p);
                pattern.push_str(&format!(" AND network-traffic:{side}_port = '{p}'"));
            }
            pattern.push(']');
            nt["protocols"] = json!(["tcp"]);
            Ok(Observable {
                scos: vec![
                    sco("network-traffic", uuid, nt),
                    sco(t, uuid, json!({"value": ip})),
                ],
                pattern,
            })
        })(),
        "domain|ip" => (|| {
            let (domain, ip) = split2(value)?;
            let t = ip_type(ip)?;
            Ok(Observable {
                scos: vec![
                    sco(
                        "domain-name",
                        uuid,
                        json!({"value": domain, "resolves_to_refs": [format!("{t}--{uuid}")]}),
                    ),
                    sco(t, uuid, json!({"value": ip})),
                ],
                pattern: format!(
                    "[domain-name:value = '{}' AND domain-name:resolves_to_refs[*].value = '{}']",
                    escape(domain),
                    escape(ip)
                ),
            })
        })(),
        "hostname|port" => (|| {
            let (host, p) = split2(value)?;
            let p = port(p)?;
            Ok(Observable {
                scos: vec![
                    sco("domain-name", uuid, json!({"value": host})),
                    sco(
                        "network-traffic",
                        uuid,
                        json!({"dst_ref": format!("domain-name--{uuid}"), "dst_port": p, "protocols": ["tcp"]}),
                    ),
                ],
                pattern: format!(
                    "[domain-name:value = '{}' AND network-traffic:dst_port = '{p}']",
                    escape(host)
                ),
            })
        })(),
        "x509-fingerprint-md5" | "x509-fingerprint-sha1" | "x509-fingerprint-sha256" => (|| {
            let algo = &kind["x509-fingerprint-".len()..];
            let (name, hex) = check_hash(algo, value)?;
            Ok(Observable {
                scos: vec![sco(
                    "x509-certificate",
                    uuid,
                    json!({"hashes": {name: hex}}),
                )],
                pattern: format!(
                    "[{} = '{}']",
                    hash_path("x509-certificate", name),
                    escape(&hex)
                ),
            })
        })(
        ),
        k if hash_name(k).is_some() => (|| {
            let (name, hex) = check_hash(k, value)?;
            Ok(Observable {
                scos: vec![sco(
                    "file",
                    uuid,
                    json!({"hashes": {sco_hash_key(name): hex}}),
                )],
                pattern: format!("[{} = '{}']", hash_path("file", name), escape(&hex)),
            })
        })(),
        k if k.starts_with("filename|") && hash_name(&k[9..]).is_some() => (|| {
            let (file, hash) = split2(value)?;
            let (name, hex) = check_hash(&k[9..], hash)?;
            Ok(Observable {
                scos: vec![sco(
                    "file",
                    uuid,
                    json!({"hashes": {sco_hash_key(name): hex}, "name": file}),
                )],
                pattern: format!(
                    "[file:name = '{}' AND {} = '{}']",
                    escape(file),
                    hash_path("file", name),
                    escape(&hex)
                ),
            })
        })(),
        _ => return None,
    })
}

fn cluster_stix_type(galaxy_type: &str) -> Option<&'static str> {
    Some(match galaxy_type {
        "360net-threat-actor"
        | "microsoft-activity-group"
        | "mitre-ics-groups"
        | "threat-actor" => "threat-actor",
        "android"
        | "backdoor"
        | "banker"
        | "cryptominers"
        | "malpedia"
        | "mitre-enterprise-attack-malware"
        | "mitre-ics-software"
        | "mitre-malware"
        | "mitre-mobile-attack-malware"
        | "ransomware"
        | "stealer" => "malware",
        "botnet"
        | "rat"
        | "exploit-kit"
        | "tds"
        | "tool"
        | "mitre-tool"
        | "mitre-enterprise-attack-tool"
        | "mitre-mobile-attack-tool" => "tool",
        "cmtmf-attack-pattern"
        | "mitre-attack-pattern"
        | "mitre-enterprise-attack-attack-pattern"
        | "mitre-ics-techniques"
        | "mitre-mobile-attack-attack-pattern"
        | "mitre-pre-attack-attack-pattern" => "attack-pattern",
        "mitre-enterprise-attack-intrusion-set"
        | "mitre-intrusion-set"
        | "mitre-mobile-attack-intrusion-set"
        | "mitre-pre-attack-intrusion-set" => "intrusion-set",
        "mitre-course-of-action"
        | "mitre-enterprise-attack-course-of-action"
        | "mitre-mobile-attack-course-of-action" => "course-of-action",
        "branded-vulnerability" => "vulnerability",
        "sector" => "identity",
        "country" | "region" | "stix-2.1-location" => "location",
        // misp-stix's own galaxies of STIX objects (`stix-2.1-malware`, …).
        t => {
            let generic = t
                .strip_prefix("stix-2.0-")
                .or_else(|| t.strip_prefix("stix-2.1-"))?;
            return GENERIC_GALAXY_TYPES
                .iter()
                .find(|g| **g == generic)
                .copied();
        }
    })
}

/// The STIX types of misp-stix's `stix-2.0-<type>`/`stix-2.1-<type>` galaxies.
const GENERIC_GALAXY_TYPES: [&str; 8] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "intrusion-set",
    "malware",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// The names misp-stix gives UN M49 regions STIX has a vocabulary value for that is not
/// the name lower-cased with `-` for spaces.
const REGIONS: [(&str, &str); 2] = [
    ("Latin America and the Caribbean", "latin-america-caribbean"),
    ("Australia and New Zealand", "australia-new-zealand"),
];

/// A `country` or `region` cluster as misp-stix writes its location: a country named by
/// the cluster's description, `country` its ISO code (meta `ISO`, else the value); a
/// region named by the part of the value after ` - ` (`155 - Western Europe`), `region`
/// the STIX region; `description` `"<galaxy's description> | <value>"` (a country) or
/// `"… | <cluster's description>"` (a region).
fn territory(o: &mut Obj, galaxy_type: &str, galaxy: &Obj, cluster: &Obj, value: &str) {
    let text = |m: &Obj, k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .unwrap_or("None")
            .to_string()
    };
    let galaxy_description = text(galaxy, "description");
    if galaxy_type == "country" {
        // misp-stix looks the ISO code up (pycountry) and, given MISP's list, writes
        // the list's Python form (`"['FR']"`); Accord writes the code.
        let code = match cluster.get("meta").and_then(|m| m.get("ISO")) {
            Some(Value::Array(codes)) => codes.first().and_then(Value::as_str),
            Some(Value::String(code)) => Some(code.as_str()),
            _ => None,
        }
        .unwrap_or(value);
        o.insert("name".into(), json!(text(cluster, "description")));
        o.insert(
            "description".into(),
            json!(format!("{galaxy_description} | {value}")),
        );
        o.insert("country".into(), json!(code.to_uppercase()));
    } else {
        let name = value.split(" - ").nth(1).unwrap_or(value);
        let region = REGIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r.to_string())
            .unwrap_or_else(|| name.to_lowercase().replace(' ', "-"));
        o.insert("name".into(), json!(name));
        o.insert(
            "description".into(),
            json!(format!(
                "{galaxy_description} | {}",
                text(cluster, "description")
            )),
        );
        o.insert("region".into(), json!(region));
    }
}

/// Galaxy cluster `meta` as misp-stix writes it (`_parse_meta_fields`) for a type it
/// maps meta of (`custom`: one it does not, whose meta are custom properties but for the
/// references): `created`/`modified`/`first_seen`/`last_seen` times; the STIX
/// properties a meta key is (`goals`, `sophistication`, … one value or the list);
/// `synonyms` the `aliases` (but the cluster's name), `is_family`, `kill_chain` the
/// kill chain phases, the `labels`/`type`/`*_types` of a malware, threat actor or tool
/// its `*_types`, a branded vulnerability's `aliases` (CVE ids) and every `external_id`
/// and `refs` its external references; any other key a custom `x_misp_<key>` (folded to
/// the STIX charset, the MISP spelling of a folded key in `x_misp_original_names`).
fn meta_fields(o: &mut Obj, stix_type: &str, meta: &Obj, name: &str) {
    let mapped = matches!(
        stix_type,
        "attack-pattern"
            | "campaign"
            | "intrusion-set"
            | "malware"
            | "threat-actor"
            | "tool"
            | "vulnerability"
            | "location"
    );
    let mut references = Vec::new();
    let mut phases = Vec::new();
    let mut original_names = Obj::new();
    for (key, values) in meta {
        let items: Vec<Value> = match values {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        let first = items.first().cloned().unwrap_or(Value::Null);
        if mapped {
            if let Some(t) = meta_time(key, &first) {
                o.insert(key.clone(), json!(t));
                continue;
            }
            if let Some(single) = generic_meta(stix_type, key) {
                o.insert(key.clone(), if single { first } else { values.clone() });
                continue;
            }
        }
        match key.as_str() {
            "external_id" | "Technique ID" => {
                for v in items.iter().filter_map(Value::as_str) {
                    references.push(json!({"source_name": source_name(v), "external_id": v}));
                }
                continue;
            }
            "refs" => {
                references.extend(
                    items
                        .iter()
                        .map(|v| json!({"source_name": "url", "url": v})),
                );
                continue;
            }
            _ => {}
        }
        if mapped {
            let handled = match (stix_type, key.as_str()) {
                (
                    "threat-actor" | "intrusion-set" | "campaign" | "attack-pattern" | "malware"
                    | "tool",
                    "synonyms",
                ) => {
                    let aliases: Vec<Value> = items
                        .into_iter()
                        .filter(|v| v.as_str() != Some(name))
                        .collect();
                    if !aliases.is_empty() {
                        o.insert("aliases".into(), Value::Array(aliases));
                    }
                    true
                }
                ("malware", "is_family") => {
                    let family = match &first {
                        Value::Bool(b) => *b,
                        Value::String(s) => matches!(s.as_str(), "True" | "true" | "1"),
                        Value::Number(n) => n.as_i64() == Some(1),
                        _ => false,
                    };
                    o.insert("is_family".into(), json!(family));
                    true
                }
                ("malware" | "attack-pattern" | "tool", "kill_chain") => {
                    for chain in items.iter().filter_map(Value::as_str) {
                        let mut parts = chain.split(':');
                        let kill_chain = parts.next().unwrap_or_default();
                        let phase = parts.next_back().unwrap_or(kill_chain);
                        phases.push(json!({"kill_chain_name": kill_chain, "phase_name": phase}));
                    }
                    true
                }
                ("malware", "labels" | "malware_types" | "type") => {
                    o.insert("malware_types".into(), Value::Array(items));
                    true
                }
                ("threat-actor", "labels" | "threat_actor_types" | "type") => {
                    o.insert("threat_actor_types".into(), Value::Array(items));
                    true
                }
                ("tool", "labels" | "tool_types" | "type") => {
                    o.insert("tool_types".into(), Value::Array(items));
                    true
                }
                ("vulnerability", "aliases") => {
                    for v in items.iter().filter_map(Value::as_str) {
                        references.push(json!({"source_name": source_name(v), "external_id": v}));
                    }
                    true
                }
                ("location", "country") => {
                    o.insert("country".into(), first);
                    true
                }
                _ => false,
            };
            if handled {
                continue;
            }
        }
        let field = crate::objects::custom_name(key);
        if field == "x_misp_original_names" {
            continue;
        }
        if field != format!("x_misp_{key}") {
            original_names.insert(field.clone(), json!(key));
        }
        o.insert(field, values.clone());
    }
    if !references.is_empty() {
        o.insert("external_references".into(), Value::Array(references));
    }
    if !phases.is_empty() {
        o.insert("kill_chain_phases".into(), Value::Array(phases));
    }
    if !original_names.is_empty() {
        o.insert(
            "x_misp_original_names".into(),
            Value::Object(original_names),
        );
    }
}

/// An `x-misp-galaxy-cluster`'s meta: `x_misp_meta`, its keys in the STIX dictionary
/// charset (the MISP spelling of a changed key in `x_misp_original_names`).
fn custom_meta(o: &mut Obj, meta: &Obj) {
    let mut out = Obj::new();
    let mut original_names = Obj::new();
    for (key, value) in meta {
        let field: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if &field != key {
            original_names.insert(field.clone(), json!(key));
        }
        out.insert(field, value.clone());
    }
    o.insert("x_misp_meta".into(), Value::Object(out));
    if !original_names.is_empty() {
        o.insert(
            "x_misp_original_names".into(),
            Value::Object(original_names),
        );
    }
}

/// A meta `created`/`modified` (milliseconds) or `first_seen`/`last_seen` as STIX
/// writes them.
fn meta_time(key: &str, value: &Value) -> Option<String> {
    if !matches!(key, "created" | "modified" | "first_seen" | "last_seen") {
        return None;
    }
    let t = misp_datetime(value.as_str()?)?;
    Some(if matches!(key, "created" | "modified") {
        let t = t.to_offset(time::UtcOffset::UTC);
        format!("{}.{:03}Z", fmt_base(t), t.millisecond())
    } else {
        fmt_precise(t)
    })
}

/// misp-stix's `generic_meta_mapping`: the meta keys that are STIX properties of the
/// type as they are, and whether the property takes one value (the list's first).
fn generic_meta(stix_type: &str, key: &str) -> Option<bool> {
    Some(match (stix_type, key) {
        ("location", "administrative_area" | "region") => true,
        (
            "malware",
            "architecture_execution_envs" | "capabilities" | "implementation_languages",
        ) => false,
        ("threat-actor", "resource_level" | "primary_motivation" | "sophistication") => true,
        ("threat-actor", "goals" | "personal_motivations" | "roles" | "secondary_motivations") => {
            false
        }
        ("campaign", "objective") => true,
        ("intrusion-set", "primary_motivation" | "resource_level") => true,
        ("intrusion-set", "goals" | "secondary_motivations") => false,
        ("tool", "tool_version") => true,
        _ => return None,
    })
}

/// misp-stix's source of an external id: `capec`, `cve`, `cwe`, … by its prefix, the
/// NIST Mobile Threat Catalogue for another `-`, WASC for a number, else `mitre-attack`.
fn source_name(id: &str) -> &'static str {
    for (prefix, source) in [
        ("CAPEC-", "capec"),
        ("CVE-", "cve"),
        ("CWE-", "cwe"),
        ("MOB-", "mitre-mobile-attack"),
        ("PRE-", "mitre-pre-attack"),
        ("REF-", "reference_from_CAPEC"),
    ] {
        if id.starts_with(prefix) {
            return source;
        }
    }
    if id.contains('-') {
        "NIST Mobile Threat Catalogue"
    } else if !id.is_empty() && id.chars().all(|c| c.is_numeric()) {
        "WASC"
    } else {
        "mitre-attack"
    }
}

fn relationship_type(source: &str, target: &str) -> &'static str {
    let s = source.split("--").next().unwrap_or_default();
    let t = target.split("--").next().unwrap_or_default();
    match (s, t) {
        (
            "indicator",
            "attack-pattern" | "campaign" | "intrusion-set" | "malware" | "threat-actor" | "tool",
        ) => "indicates",
        ("campaign", "attack-pattern" | "malware" | "tool") => "uses",
        ("campaign", "intrusion-set" | "threat-actor") => "attributed-to",
        ("campaign", "identity" | "vulnerability") => "targets",
        ("attack-pattern", "identity" | "location" | "vulnerability") => "targets",
        ("attack-pattern", "tool") => "uses",
        ("course-of-action", "attack-pattern" | "tool") => "mitigates",
        ("vulnerability", _) => "related-to",
        _ => "related-to",
    }
}

fn insert_head(o: &mut Obj, kind: &str, id: &str, created_by: Option<&str>, time: i64) {
    o.insert("type".into(), json!(kind));
    o.insert("spec_version".into(), json!("2.1"));
    o.insert("id".into(), json!(id));
    if let Some(c) = created_by {
        o.insert("created_by_ref".into(), json!(c));
    }
    o.insert("created".into(), json!(ms(time)));
    o.insert("modified".into(), json!(ms(time)));
}

fn list<'a>(map: &'a Obj, key: &str) -> Vec<&'a Value> {
    match map.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn tag_names(map: &Obj) -> Vec<String> {
    list(map, "Tag")
        .into_iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// MISP writes booleans as `true`, `"1"`, `1` or `"true"`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        Value::String(s) => !matches!(s.as_str(), "" | "0" | "false" | "False"),
        _ => false,
    }
}

fn seconds(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    OffsetDateTime::from_unix_timestamp(n)
        .ok()
        .filter(|t| (1..=9999).contains(&t.year()))?;
    Some(n)
}

fn date_seconds(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(date, &format).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

fn datetime(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A STIX time (RFC 3339) in UTC: `YYYY-MM-DDTHH:MM:SS` and its microseconds, for the
/// spellings MISP and misp-stix give a time on the way back.
pub(crate) fn utc_parts(text: &str) -> Option<(String, u32)> {
    let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let t = t.to_offset(time::UtcOffset::UTC);
    Some((fmt_base(t), t.microsecond()))
}

fn fmt_base(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `created`/`modified`: milliseconds, as the stix2 library writes them.
fn ms(secs: i64) -> String {
    format!("{}.000Z", fmt_base(datetime(secs)))
}

/// `valid_from`, `published`, `first_observed`: seconds.
fn s(secs: i64) -> String {
    format!("{}Z", fmt_base(datetime(secs)))
}

fn fmt_precise(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let micros = t.microsecond();
    if micros == 0 {
        format!("{}Z", fmt_base(t))
    } else {
        let frac = format!("{micros:06}");
        format!("{}.{}Z", fmt_base(t), frac.trim_end_matches('0'))
    }
}

/// The valid `uuid` of a MISP record (event report, analyst data).
fn uuid_of(record: &Obj) -> Option<Uuid> {
    record
        .get("uuid")
        .and_then(Value::as_str)
        .and_then(|u| Uuid::parse_str(u).ok())
}

/// misp-stix's level of a MISP opinion (0 to 100).
fn opinion_level(value: i64) -> &'static str {
    match value {
        v if v > 80 => "strongly-agree",
        v if v > 60 => "agree",
        v if v > 40 => "neutral",
        v if v > 20 => "disagree",
        _ => "strongly-disagree",
    }
}

/// The layers of a MISP object whose analyst data misp-stix writes for what the object
/// became: the object's, then its attributes'.
fn analyst_layers<'a>(o: &'a Obj, attributes: &[ObjAttr<'a>]) -> Vec<&'a Obj> {
    std::iter::once(o)
        .chain(attributes.iter().map(|a| a.raw))
        .collect()
}

/// An analyst note's or opinion's `created`/`modified` (ISO 8601, with or without a
/// zone: none is UTC, as PyMISP reads it) as STIX writes it, milliseconds.
fn analyst_time(text: &str) -> Option<String> {
    let t = misp_datetime(text).or_else(|| {
        let format = time::macros::format_description!(
            "[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        time::PrimitiveDateTime::parse(text, &format)
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
    })?;
    let t = t.to_offset(time::UtcOffset::UTC);
    Some(format!("{}.{:03}Z", fmt_base(t), t.millisecond()))
}

/// A MISP `first_seen`/`last_seen` (`2020-10-25T16:22:00.000000+0000`, or RFC 3339).
fn misp_datetime(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
    );
    if let Ok(t) = OffsetDateTime::parse(text, &format) {
        return Some(t);
    }
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(text, &format).ok()
}

fn observed_times(time: i64, first: Option<&str>, last: Option<&str>) -> (String, String) {
    let base = datetime(time);
    let f = first.and_then(misp_datetime);
    let l = last.and_then(misp_datetime);
    let mut first_t = f.unwrap_or(base);
    let mut last_t = l.unwrap_or(base);
    if first_t > last_t {
        if l.is_some() {
            first_t = last_t;
        } else {
            last_t = first_t;
        }
    }
    (fmt_precise(first_t), fmt_precise(last_t))
}

fn required_uuid(map: &Obj, event: &str, item: Option<&str>) -> Result<String, MispError> {
    let Some(v) = map.get("uuid") else {
        return Err(err(
            event,
            item.map(str::to_string),
            "uuid",
            Rule::Required,
            "no 'uuid': the STIX ids are made from it",
        ));
    };
    let text = v.as_str().unwrap_or_default();
    Uuid::parse_str(text)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| {
            err(
                event,
                item.map(str::to_string),
                "uuid",
                Rule::Uuid,
                &format!("'{v}' is not a UUID"),
            )
        })
}

fn err(
    event: &str,
    item: impl Into<Option<String>>,
    property: &str,
    rule: Rule,
    message: &str,
) -> MispError {
    MispError {
        event: event.to_string(),
        item: item.into(),
        property: property.to_string(),
        rule,
        message: message.to_string(),
    }
}

/// MISP's default category per type (describeTypes), for attributes that omit it.
fn default_category(kind: &str) -> &'static str {
    match kind {
        "md5" | "sha1" | "sha256" | "sha512" | "sha224" | "sha384" | "filename" | "ssdeep"
        | "tlsh" | "imphash" | "authentihash" | "email-src" | "email-dst" | "email-subject"
        | "email-reply-to" | "email-x-mailer" => "Payload delivery",
        k if k.starts_with("filename|") || k.starts_with("sha3-") => "Payload delivery",
        "vulnerability" | "link" | "attachment" => "External analysis",
        "campaign-name" => "Attribution",
        "mutex" => "Artifacts dropped",
        "size-in-bytes" => "Other",
        "github-username" => "Social network",
        "regkey" => "Persistence mechanism",
        "email" => "Social network",
        "text" | "comment" | "other" | "float" | "counter" | "boolean" | "datetime" | "hex" => {
            "Other"
        }
        "first-name" | "middle-name" | "last-name" | "full-name" | "phone-number"
        | "nationality" | "passport-number" => "Person",
        "target-email" => "Targeting data",
        "cpe" => "External analysis",
        "iban" | "bic" | "btc" | "xmr" | "bank-account-nr" | "aba-rtn" | "bin" | "cc-number"
        | "prtn" | "dash" => "Financial fraud",
        _ => "Network activity",
    }
}

/// MISP's default `to_ids` per type (describeTypes' sane defaults), for attributes that omit it.
fn default_to_ids(kind: &str) -> bool {
    matches!(
        kind,
        "md5"
            | "sha1"
            | "sha224"
            | "sha256"
            | "sha384"
            | "sha512"
            | "sha3-224"
            | "sha3-256"
            | "sha3-384"
            | "sha3-512"
            | "imphash"
            | "authentihash"
            | "ssdeep"
            | "tlsh"
            | "filename"
            | "ip-src"
            | "ip-dst"
            | "ip-src|port"
            | "ip-dst|port"
            | "hostname"
            | "domain"
            | "domain|ip"
            | "hostname|port"
            | "email-src"
            | "email-dst"
            | "email"
            | "url"
            | "uri"
            | "mutex"
            | "regkey"
            | "regkey|value"
            | "email-attachment"
            | "email-message-id"
            | "malware-sample"
            | "x509-fingerprint-md5"
            | "x509-fingerprint-sha1"
            | "x509-fingerprint-sha256"
    ) || (kind.starts_with("filename|") && hash_name(&kind[9..]).is_some())
}

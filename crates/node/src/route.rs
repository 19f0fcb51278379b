//! Each country its part (issue 15): per organisation responsible for countries or
//! autonomous systems, the package of objects that concern it — located there by the
//! hub's enrichment, with the relationships and sightings that explain them — released
//! through the door under that organisation's agreements and recorded in the ledger.
//!
//! Selection (over the latest version of every object, or of those a collection holds
//! with `operation`):
//! 1. **located**: an object whose subjects ([`accord_enrich::Subjects`]: address SCOs,
//!    URLs, indicators' pattern values) have an address in one of the recipient's
//!    countries or ASNs;
//! 2. **located** too: an `infrastructure` object with a relationship (either
//!    direction) to an object located there by rule 1;
//! 3. **explains**: a relationship between a selected object and another selected
//!    object, or an object without location of its own (malware, threat actor, ...);
//!    that other object is selected as **context**. A relationship to an object located
//!    only elsewhere is not selected (it concerns another country);
//! 4. **sighting**: a sighting whose `sighting_of_ref` is selected.
//!
//! Then every selected object goes through the gate for the recipient
//! ([`Egress::decide_rows`]); what is withheld is reported to the node's operator
//! (preview), never in the package: the package's files hold released objects only,
//! with no count of what was withheld.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;

use accord_agreements::Location;
use accord_enrich::{Head, Subjects};
use accord_store::{for_each_row, ObjectQuery, ObjectRow, Scope, Store, VersionFilter};

use crate::egress::{Egress, EgressError, Recipient};
use crate::enrich::Index;

/// Maps over every object of a store: foldhash, not SipHash (measured: hashing was
/// 8% of the selection's profile; ids are not chosen against the node here, they are
/// already stored).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Rows read per store page.
const PAGE: usize = 1_000;

/// Up to this many selected objects are read by id (an index lookup each); more are
/// read in a pass over the store.
const BY_ID_LIMIT: usize = 200_000;

/// An organisation responsible for countries and/or ASNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responsible {
    /// The organisation (as the configuration names it).
    pub organisation: String,
    /// ISO 3166-1 alpha-2 codes, uppercase.
    pub countries: BTreeSet<String>,
    /// Autonomous system numbers.
    pub asns: BTreeSet<u32>,
}

impl Responsible {
    /// Whether `location` is in its countries or ASNs.
    pub fn covers(&self, location: &Location) -> bool {
        location
            .countries
            .iter()
            .any(|c| self.countries.contains(c))
            || location.asns.iter().any(|a| self.asns.contains(a))
    }

    /// The responsible organisations of a configuration, by name.
    pub fn from_config(config: &crate::config::Config) -> Vec<Responsible> {
        config
            .organisations
            .iter()
            .filter(|(_, o)| o.is_responsible())
            .map(|(name, o)| Responsible {
                organisation: name.clone(),
                countries: o.countries.iter().map(|c| c.to_ascii_uppercase()).collect(),
                asns: o.asns.iter().copied().collect(),
            })
            .collect()
    }
}

/// Why an object is in a recipient's package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Why {
    /// Located in the recipient's countries or ASNs.
    Located,
    /// A relationship explaining a located object.
    Explains,
    /// An object without location a relationship links to a located one.
    Context,
    /// A sighting of a selected object.
    Sighting,
}

/// What one object of the store says for routing (kept for every object in one pass):
/// small and without a JSON tree, measured (BENCHMARKS.md, "The hub").
#[derive(Debug, Default)]
struct Node {
    kind: NodeKind,
    /// Countries of its addresses (sorted, distinct).
    countries: Vec<[u8; 2]>,
    /// ASNs of its addresses (sorted, distinct).
    asns: Vec<u32>,
    source: Option<String>,
    target: Option<String>,
    sighting_of: Option<String>,
}

/// The types selection treats apart.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Relationship,
    Sighting,
    Infrastructure,
    #[default]
    Other,
}

impl Node {
    /// Whether its subjects are located anywhere (an object located only elsewhere is
    /// never context).
    fn located(&self) -> bool {
        !self.countries.is_empty() || !self.asns.is_empty()
    }
}

/// A recipient's countries and ASNs as selection compares them.
struct Covers {
    countries: BTreeSet<[u8; 2]>,
    asns: BTreeSet<u32>,
}

impl Covers {
    fn of(r: &Responsible) -> Covers {
        Covers {
            countries: r
                .countries
                .iter()
                .filter_map(|c| <[u8; 2]>::try_from(c.as_bytes()).ok())
                .collect(),
            asns: r.asns.clone(),
        }
    }

    fn node(&self, n: &Node) -> bool {
        n.countries.iter().any(|c| self.countries.contains(c))
            || n.asns.iter().any(|a| self.asns.contains(a))
    }
}

/// Which objects (stored ids) each recipient gets, and why: the selection before the
/// gate. Deterministic (sorted by recipient, then id).
pub fn select(
    store: &dyn Store,
    index: &Index,
    recipients: &[Responsible],
    operation: Option<&str>,
) -> Result<BTreeMap<String, BTreeMap<String, Why>>, accord_store::StoreError> {
    let scope = match operation {
        Some(collection) => Scope::Collection(collection.to_owned()),
        None => Scope::Store,
    };
    let mut query = ObjectQuery::new(scope, PAGE);
    query.versions = VersionFilter::last();
    let mut nodes: FastMap<String, Node> = FastMap::default();
    for_each_row(store, query, |row| {
        let node = node_of(&row, index);
        nodes.insert(row.id, node);
        true
    })?;
    Ok(select_from(&nodes, recipients))
}

fn node_of(row: &ObjectRow, index: &Index) -> Node {
    let kind = match row.object_type.as_str() {
        "relationship" => NodeKind::Relationship,
        "sighting" => NodeKind::Sighting,
        "infrastructure" => NodeKind::Infrastructure,
        _ => NodeKind::Other,
    };
    // Types that neither locate nor link (infrastructure, malware, ...): nothing to read.
    if !matches!(
        row.object_type.as_str(),
        "relationship"
            | "sighting"
            | "ipv4-addr"
            | "ipv6-addr"
            | "domain-name"
            | "url"
            | "indicator"
    ) {
        return Node {
            kind,
            ..Node::default()
        };
    }
    let (subjects, source, target, sighting_of) = match Head::parse(&row.json) {
        Some(head) => (
            Subjects::of_head(&head),
            head.source_ref.map(Cow::into_owned),
            head.target_ref.map(Cow::into_owned),
            head.sighting_of_ref.map(Cow::into_owned),
        ),
        None => {
            let value: serde_json::Value = serde_json::from_str(&row.json).unwrap_or_default();
            let text = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            (
                Subjects::of(&value),
                text("source_ref"),
                text("target_ref"),
                text("sighting_of_ref"),
            )
        }
    };
    let mut countries = Vec::new();
    let mut asns = Vec::new();
    for ip in &subjects.addresses {
        let place = index.place(ip);
        countries.extend(place.country);
        asns.extend(place.asn);
    }
    countries.sort_unstable();
    countries.dedup();
    asns.sort_unstable();
    asns.dedup();
    Node {
        kind,
        countries,
        asns,
        source,
        target,
        sighting_of,
    }
}

fn select_from(
    nodes: &FastMap<String, Node>,
    recipients: &[Responsible],
) -> BTreeMap<String, BTreeMap<String, Why>> {
    let mut out = BTreeMap::new();
    let relationships: Vec<(&String, &String, &String)> = nodes
        .iter()
        .filter(|(_, n)| n.kind == NodeKind::Relationship)
        .filter_map(|(id, n)| Some((id, n.source.as_ref()?, n.target.as_ref()?)))
        .collect();
    for r in recipients {
        let covers = Covers::of(r);
        let mut chosen: BTreeMap<String, Why> = BTreeMap::new();
        let direct = |id: &str| nodes.get(id).is_some_and(|n| covers.node(n));
        for (id, n) in nodes {
            if covers.node(n) {
                chosen.insert(id.clone(), Why::Located);
            }
        }
        // Infrastructure linked to a directly located object.
        for &(_, s, t) in &relationships {
            for (a, b) in [(s, t), (t, s)] {
                let infra = nodes
                    .get(a)
                    .is_some_and(|x| x.kind == NodeKind::Infrastructure);
                if infra && direct(b) {
                    chosen.insert(a.clone(), Why::Located);
                }
            }
        }
        // Relationships explaining located objects, and their unlocated endpoints.
        let located: BTreeSet<String> = chosen.keys().cloned().collect();
        for &(id, s, t) in &relationships {
            for (a, b) in [(s, t), (t, s)] {
                if !located.contains(a) {
                    continue;
                }
                if located.contains(b) {
                    chosen.insert(id.clone(), Why::Explains);
                } else if nodes
                    .get(b)
                    .is_some_and(|x| !x.located() && x.kind != NodeKind::Relationship)
                {
                    chosen.insert(id.clone(), Why::Explains);
                    chosen.entry(b.clone()).or_insert(Why::Context);
                }
            }
        }
        for (id, n) in nodes.iter().filter(|(_, n)| n.kind == NodeKind::Sighting) {
            if n.sighting_of
                .as_ref()
                .is_some_and(|s| chosen.contains_key(s))
            {
                chosen.insert(id.clone(), Why::Sighting);
            }
        }
        out.insert(r.organisation.clone(), chosen);
    }
    out
}

/// One object of a package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Routed {
    /// The id as released (pseudonymisation may change an SCO's id).
    pub id: String,
    /// The STIX type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Why it is in the package.
    pub why: Why,
    /// The released JSON text.
    #[serde(skip)]
    pub json: String,
    /// Its provider (IntelMQ `feed.provider`).
    #[serde(skip)]
    pub provider: String,
}

/// One selected object the gate withheld (for the node's operator only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Withheld {
    /// The stored id.
    pub id: String,
    /// The STIX type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Why it was selected.
    pub why: Why,
    /// The gate's reason code (`tlp-above-maximum`, `no-agreement`, ...).
    pub reason: String,
    /// The reason in words.
    pub detail: String,
}

/// What one recipient gets.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Package {
    /// The recipient organisation.
    pub recipient: String,
    /// Its countries.
    pub countries: Vec<String>,
    /// Its ASNs.
    pub asns: Vec<u32>,
    /// Released objects, by id.
    pub released: Vec<Routed>,
    /// Selected but withheld (never written into the package's files).
    pub withheld: Vec<Withheld>,
}

/// Builds every recipient's package: selection, then the door's decision for each
/// selected object. With `record`, every release is in the ledger when this returns;
/// a dry run (`record = false`) records nothing.
pub fn route(
    store: &dyn Store,
    egress: &Egress,
    index: &Index,
    recipients: &[Responsible],
    operation: Option<&str>,
    record: bool,
) -> Result<Vec<Package>, EgressError> {
    let selection = select(store, index, recipients, operation)?;
    let wanted: BTreeSet<&str> = selection
        .values()
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    // The selected objects' latest versions, read once for all recipients: by id when
    // few are selected (an index lookup each), else in one more pass over the store.
    let mut rows: HashMap<String, ObjectRow> = HashMap::new();
    if wanted.len() <= BY_ID_LIMIT {
        for id in &wanted {
            if let Some(row) = store.latest(id)? {
                rows.insert(row.id.clone(), row);
            }
        }
    } else {
        let mut query = ObjectQuery::new(Scope::Store, PAGE);
        query.versions = VersionFilter::last();
        for_each_row(store, query, |row| {
            if wanted.contains(row.id.as_str()) {
                rows.insert(row.id.clone(), row);
            }
            true
        })?;
    }
    let mut packages = Vec::new();
    for r in recipients {
        let chosen = selection.get(&r.organisation).cloned().unwrap_or_default();
        let batch: Vec<ObjectRow> = chosen
            .keys()
            .filter_map(|id| rows.get(id).cloned())
            .collect();
        let decided = egress.decide_rows(&Recipient::new(&r.organisation), &batch, record)?;
        let kind_of = |id: &str| {
            rows.get(id)
                .map(|row| row.object_type.clone())
                .unwrap_or_default()
        };
        let mut released: Vec<Routed> = Vec::with_capacity(decided.released.len());
        // Pair released objects with their stored ids: decide_rows keeps the order of
        // the batch, skipping withheld ones.
        let withheld_ids: BTreeSet<&str> =
            decided.withheld.iter().map(|(id, _)| id.as_str()).collect();
        let mut it = decided.released.into_iter();
        for row in batch
            .iter()
            .filter(|row| !withheld_ids.contains(row.id.as_str()))
        {
            let Some(obj) = it.next() else { break };
            released.push(Routed {
                id: obj.id,
                kind: row.object_type.clone(),
                why: chosen.get(&row.id).copied().unwrap_or(Why::Located),
                json: obj.json,
                provider: row.provenance.organisation.clone(),
            });
        }
        released.sort_by(|a, b| a.id.cmp(&b.id));
        let withheld = decided
            .withheld
            .into_iter()
            .map(|(id, reason)| Withheld {
                kind: kind_of(&id),
                why: chosen.get(&id).copied().unwrap_or(Why::Located),
                reason: reason.code().to_owned(),
                detail: reason.to_string(),
                id,
            })
            .collect();
        packages.push(Package {
            recipient: r.organisation.clone(),
            countries: r.countries.iter().cloned().collect(),
            asns: r.asns.iter().copied().collect(),
            released,
            withheld,
        });
    }
    Ok(packages)
}

/// The package as a STIX 2.1 bundle (released objects only).
pub fn bundle(package: &Package) -> String {
    let mut out = String::from("{\"type\":\"bundle\",\"id\":\"bundle--");
    out.push_str(&uuid::Uuid::new_v4().to_string());
    out.push_str("\",\"objects\":[");
    for (i, o) in package.released.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&o.json);
    }
    out.push_str("]}\n");
    out
}

/// The IntelMQ event fields Accord writes, in CSV column order.
pub const EVENT_FIELDS: [&str; 14] = [
    "time.source",
    "time.observation",
    "classification.taxonomy",
    "classification.type",
    "source.ip",
    "source.asn",
    "source.as_name",
    "source.geolocation.cc",
    "source.fqdn",
    "source.url",
    "feed.provider",
    "feed.name",
    "extra.stix_id",
    "extra.stix_type",
];

/// IntelMQ-style events (harmonised field names of IntelMQ's data format) for the
/// located objects of a package: one per address (only those in the recipient's
/// countries or ASNs) and per domain or URL of each released located object, computed
/// from the **released** text (a pseudonymised address is not located again).
/// `as_names` gives AS names by number; `observed` is `time.observation`.
pub fn events(
    package: &Package,
    recipient: &Responsible,
    index: &Index,
    as_names: &HashMap<u32, String>,
    observed: &str,
) -> Vec<BTreeMap<&'static str, String>> {
    let mut out = Vec::new();
    let parsed: HashMap<&str, serde_json::Value> = package
        .released
        .iter()
        .map(|o| {
            (
                o.id.as_str(),
                serde_json::from_str(&o.json).unwrap_or_default(),
            )
        })
        .collect();
    // An address SCO says nothing of what it is: it takes the classification of an
    // object a released relationship links it to (a C2 infrastructure, an indicator).
    let mut inherited: HashMap<&str, (&'static str, &'static str)> = HashMap::new();
    for o in package.released.iter().filter(|o| o.kind == "relationship") {
        let Some(v) = parsed.get(o.id.as_str()) else {
            continue;
        };
        let end = |k: &str| v.get(k).and_then(|x| x.as_str());
        if let (Some(s), Some(t)) = (end("source_ref"), end("target_ref")) {
            for (a, b) in [(s, t), (t, s)] {
                if let (Some((a_key, _)), Some(bv)) = (parsed.get_key_value(a), parsed.get(b)) {
                    let c = classification(bv);
                    if c.1 != "undetermined" {
                        inherited.entry(a_key).or_insert(c);
                    }
                }
            }
        }
    }
    for o in package.released.iter().filter(|o| o.why == Why::Located) {
        let Some(value) = parsed.get(o.id.as_str()) else {
            continue;
        };
        let subjects = Subjects::of(value);
        let own = classification(value);
        let (taxonomy, kind) = match (own.1, inherited.get(o.id.as_str())) {
            ("undetermined", Some(&c)) => c,
            _ => own,
        };
        let time = ["valid_from", "first_seen", "created"]
            .iter()
            .find_map(|k| value.get(*k).and_then(|v| v.as_str()))
            .unwrap_or(observed)
            .to_owned();
        let base = |out: &mut BTreeMap<&'static str, String>| {
            out.insert("time.source", time.clone());
            out.insert("time.observation", observed.to_owned());
            out.insert("classification.taxonomy", taxonomy.to_owned());
            out.insert("classification.type", kind.to_owned());
            out.insert("feed.provider", o.provider.clone());
            out.insert("feed.name", "accord".to_owned());
            out.insert("extra.stix_id", o.id.clone());
            out.insert("extra.stix_type", o.kind.clone());
        };
        for ip in &subjects.addresses {
            let place = index.place(ip);
            let loc = Location {
                countries: place
                    .country
                    .and_then(|c| String::from_utf8(c.to_vec()).ok())
                    .into_iter()
                    .collect(),
                asns: place.asn.into_iter().collect(),
            };
            if !recipient.covers(&loc) {
                continue;
            }
            let mut e = BTreeMap::new();
            base(&mut e);
            e.insert("source.ip", canonical(ip));
            if let Some(asn) = place.asn {
                e.insert("source.asn", asn.to_string());
                if let Some(name) = as_names.get(&asn) {
                    e.insert("source.as_name", name.clone());
                }
            }
            if let Some(cc) = loc.countries.first() {
                e.insert("source.geolocation.cc", cc.clone());
            }
            out.push(e);
        }
        for d in &subjects.domains {
            let mut e = BTreeMap::new();
            base(&mut e);
            e.insert("source.fqdn", d.clone());
            if o.kind == "url" {
                if let Some(url) = value.get("value").and_then(|v| v.as_str()) {
                    e.insert("source.url", url.to_owned());
                }
            }
            out.push(e);
        }
    }
    out
}

fn canonical(ip: &IpAddr) -> String {
    ip.to_string()
}

/// IntelMQ's taxonomy and type for an object, from its labels, `indicator_types`,
/// `infrastructure_types` and name (the first rule that matches).
fn classification(value: &serde_json::Value) -> (&'static str, &'static str) {
    let mut words = String::new();
    for key in ["labels", "indicator_types", "infrastructure_types"] {
        for v in value
            .get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(s) = v.as_str() {
                let _ = write!(words, " {}", s.to_lowercase());
            }
        }
    }
    if let Some(name) = value.get("name").and_then(|v| v.as_str()) {
        let _ = write!(words, " {}", name.to_lowercase());
    }
    if ["c2", "command-and-control", "botnet"]
        .iter()
        .any(|w| words.contains(w))
    {
        ("malicious-code", "c2-server")
    } else if words.contains("phish") {
        ("fraud", "phishing")
    } else if words.contains("ddos") || words.contains("reflect") {
        ("availability", "ddos")
    } else if words.contains("malware") || words.contains("distribution") {
        ("malicious-code", "malware-distribution")
    } else {
        ("other", "undetermined")
    }
}

/// Events as CSV (a header of [`EVENT_FIELDS`], then one line per event; fields with a
/// comma, quote or line break are quoted).
pub fn events_csv(events: &[BTreeMap<&'static str, String>]) -> String {
    let mut out = EVENT_FIELDS.join(",");
    out.push('\n');
    for e in events {
        let line: Vec<String> = EVENT_FIELDS
            .iter()
            .map(|f| csv_field(e.get(f).map(String::as_str).unwrap_or("")))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// Events as JSON lines (one object per event, only the fields it has), as IntelMQ's
/// file output writes them.
pub fn events_json(events: &[BTreeMap<&'static str, String>]) -> String {
    let mut out = String::new();
    for e in events {
        let mut map = serde_json::Map::new();
        for (k, v) in e {
            let value = if *k == "source.asn" {
                v.parse::<u64>()
                    .map(serde_json::Value::from)
                    .unwrap_or_else(|_| serde_json::Value::from(v.clone()))
            } else {
                serde_json::Value::from(v.clone())
            };
            map.insert((*k).to_owned(), value);
        }
        out.push_str(&serde_json::Value::Object(map).to_string());
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

//! A reported C2 destination: the JSON contract and its STIX form.

use std::net::IpAddr;

use accord_telemetry::Micros;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::observer::{Finding, Producer};

/// The UUIDv5 namespace of the STIX objects of C2 findings (a fixed random UUID of
/// Accord's). Ids are UUIDv5 over `kind | destination | port | producer identity`, so
/// the same destination seen again updates its objects instead of duplicating them;
/// the sighting's id adds the window's start.
pub const C2_NAMESPACE: Uuid = Uuid::from_u128(0x3f6c_2a91_7d4e_4b1c_8e05_c2c2_9a7b_1d30);

/// The custom sighting property with the estimated number of distinct internal hosts.
pub const DISTINCT_HOSTS_PROPERTY: &str = "x_accord_distinct_hosts";

/// One destination reported as C2.
#[derive(Debug, Clone, PartialEq)]
pub struct C2Finding {
    /// The external destination.
    pub destination: IpAddr,
    /// Its port (`None` for portless protocols).
    pub port: Option<u16>,
    /// Confidence in `0..=1`.
    pub score: f64,
    /// Internal hosts that talked to it (a count: addresses never leave the detector).
    pub internal_hosts: u64,
    /// First connection.
    pub first_seen: Micros,
    /// Last connection.
    pub last_seen: Micros,
    /// Start of the window the finding covers.
    pub window_start: Micros,
    /// Connections (or HTTP/TLS records) in the window.
    pub connections: u64,
    /// Several internal hosts beacon to it: a botnet's infrastructure.
    pub botnet: bool,
    /// The names the destination was seen as (DNS, HTTP `Host`, TLS server name).
    pub names: Vec<String>,
    /// The evidence object of the JSON contract.
    pub evidence: Value,
}

fn ts(us: Micros) -> String {
    accord_stix::timestamp::format_millis(us)
}

fn sco(ty: &str, value: &str) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    m.insert("spec_version".into(), json!("2.1"));
    m.insert("value".into(), json!(value));
    if let Ok(Some(id)) = accord_stix::sco_id(&m) {
        m.insert("id".into(), json!(id));
    }
    Value::Object(m)
}

/// The STIX id of an object of type `ty` of the C2 finding on `destination` and
/// `port` by `producer` (`extra` distinguishes several objects of one type).
fn stix_id(
    ty: &str,
    destination: IpAddr,
    port: Option<u16>,
    producer: &Producer,
    extra: &str,
) -> String {
    let port = port.map_or(String::from("-"), |p| p.to_string());
    let name = format!("c2|{ty}|{destination}|{port}|{}{extra}", producer.identity);
    format!("{ty}--{}", Uuid::new_v5(&C2_NAMESPACE, name.as_bytes()))
}

/// The id of the `infrastructure` object the C2 finding on `destination` and `port`
/// stores as: what other findings (a flood its bots took part in) refer to.
pub fn infrastructure_id(destination: IpAddr, port: Option<u16>, producer: &Producer) -> String {
    stix_id("infrastructure", destination, port, producer, "")
}

impl C2Finding {
    fn id(&self, ty: &str, producer: &Producer, extra: &str) -> String {
        stix_id(ty, self.destination, self.port, producer, extra)
    }

    fn addr_type(&self) -> &'static str {
        match self.destination {
            IpAddr::V4(_) => "ipv4-addr",
            IpAddr::V6(_) => "ipv6-addr",
        }
    }

    fn confidence(&self) -> u8 {
        (self.score.clamp(0.0, 1.0) * 100.0).round() as u8
    }

    fn label(&self) -> String {
        match (self.port, self.destination) {
            (Some(p), IpAddr::V6(a)) => format!("[{a}]:{p}"),
            (Some(p), a) => format!("{a}:{p}"),
            (None, a) => a.to_string(),
        }
    }
}

impl Finding for C2Finding {
    fn kind(&self) -> &'static str {
        "c2"
    }

    fn score(&self) -> f64 {
        self.score
    }

    fn subject(&self) -> String {
        self.label()
    }

    fn summary(&self) -> String {
        let signals: Vec<&str> = self
            .evidence
            .get("signals")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let mean = self
            .evidence
            .pointer("/interval/mean_s")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let jitter = self
            .evidence
            .pointer("/interval/jitter")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        format!(
            "{} ({}), {} connections from {} internal host(s), every ~{:.0}s ±{:.0}%{}",
            signals.join("+"),
            if self.botnet { "botnet" } else { "c2" },
            self.connections,
            self.internal_hosts,
            mean,
            jitter * 100.0,
            self.names
                .first()
                .map(|n| format!(", seen as {n}"))
                .unwrap_or_default()
        )
    }

    fn to_json(&self) -> Value {
        json!({
            "kind": "c2",
            "destination": self.destination.to_string(),
            "port": self.port,
            "score": (self.score * 1000.0).round() / 1000.0,
            "internal_hosts": self.internal_hosts,
            "first_seen": ts(self.first_seen),
            "last_seen": ts(self.last_seen),
            "evidence": self.evidence,
        })
    }

    fn to_stix(&self, producer: &Producer) -> Vec<Value> {
        let created = ts(self.first_seen);
        let modified = ts(producer.now.max(self.first_seen));
        let confidence = self.confidence();
        let addr_ty = self.addr_type();
        let value = self.destination.to_string();
        let addr = sco(addr_ty, &value);
        let addr_id = addr.get("id").cloned().unwrap_or(Value::Null);
        let infra_id = self.id("infrastructure", producer, "");
        let ind_id = self.id("indicator", producer, "");
        let kind = if self.botnet {
            "botnet"
        } else {
            "command-and-control"
        };
        let common = |ty: &str, id: &str| {
            json!({
                "type": ty,
                "spec_version": "2.1",
                "id": id,
                "created": created,
                "modified": modified,
                "created_by_ref": producer.identity,
            })
        };
        let mut out = Vec::new();
        let mut infra = common("infrastructure", &infra_id);
        infra["name"] = json!(format!("{kind} at {}", self.label()));
        infra["infrastructure_types"] = json!([kind]);
        infra["first_seen"] = json!(ts(self.first_seen));
        infra["last_seen"] = json!(ts(self.last_seen));
        infra["confidence"] = json!(confidence);
        out.push(infra);
        let mut ind = common("indicator", &ind_id);
        ind["name"] = json!(format!("{kind} at {}", self.label()));
        ind["indicator_types"] = json!(["malicious-activity"]);
        ind["pattern"] = json!(format!("[{addr_ty}:value = '{value}']"));
        ind["pattern_type"] = json!("stix");
        ind["valid_from"] = json!(ts(self.first_seen));
        ind["confidence"] = json!(confidence);
        out.push(ind);
        let mut domain_ids = Vec::new();
        for n in &self.names {
            let mut d = sco("domain-name", n);
            d["resolves_to_refs"] = json!([addr_id]);
            domain_ids.push(d.get("id").cloned().unwrap_or(Value::Null));
            out.push(d);
        }
        out.push(addr);
        let rel = |kind: &str, src: &str, dst: &Value| {
            let mut r = common(
                "relationship",
                &self.id(
                    "relationship",
                    producer,
                    &format!("|{kind}|{src}|{}", dst.as_str().unwrap_or("")),
                ),
            );
            r["relationship_type"] = json!(kind);
            r["source_ref"] = json!(src);
            r["target_ref"] = dst.clone();
            r
        };
        out.push(rel("indicates", &ind_id, &json!(infra_id)));
        out.push(rel("consists-of", &infra_id, &addr_id));
        for d in &domain_ids {
            out.push(rel("consists-of", &infra_id, d));
        }
        let mut s = common(
            "sighting",
            &self.id("sighting", producer, &format!("|{}", self.window_start)),
        );
        s["first_seen"] = json!(ts(self.first_seen));
        s["last_seen"] = json!(ts(self.last_seen));
        s["count"] = json!(self.connections.clamp(1, 999_999_999));
        s["sighting_of_ref"] = json!(ind_id);
        s["where_sighted_refs"] = json!([producer.identity]);
        s["confidence"] = json!(confidence);
        s[DISTINCT_HOSTS_PROPERTY] = json!(self.internal_hosts);
        out.push(s);
        let mut note = common(
            "note",
            &self.id("note", producer, &format!("|{}", self.window_start)),
        );
        note["abstract"] = json!(format!("Why {} was reported as {kind}", self.label()));
        note["content"] = json!(format!(
            "{}\n\nEvidence (accord detect c2):\n{}",
            self.summary(),
            serde_json::to_string_pretty(&self.evidence).unwrap_or_default()
        ));
        note["object_refs"] = json!([infra_id, ind_id]);
        out.push(note);
        out
    }
}

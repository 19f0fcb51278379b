//! MISP objects as misp-stix converts them: to one observable (an SCO, sometimes with
//! the SCOs it refers to) and, when an attribute of the object has `to_ids`, an
//! indicator (`asn`, `credential`, `domain-ip`, `email`, `file` with the
//! `windows-pebinary-ext` of its `pe`, `http-request`, `image`, `ip-port`, `lnk`,
//! `mutex`, `netflow`, `network-connection`, `network-socket`, `process`,
//! `registry-key`, `url`, `user-account`, `x509`, the accounts, the software), or to an
//! SDO ([`sdo`]: `attack-pattern`, `course-of-action`, the identities, `geolocation`,
//! `script`, the rules, `vulnerability`; [`annotation`]).
//!
//! misp-stix's rule for every one of them, followed here:
//! - the attributes are grouped by `object_relation`, in the order they first appear;
//! - a relation a native STIX property holds one value of ("single") gives that
//!   property its first value; its further values become the custom property
//!   `x_misp_<relation>` (after the native ones);
//! - every relation without a native property becomes `x_misp_<relation>` (the
//!   relation lower-cased, anything but `a-z0-9_` folded to `_`), one value as is,
//!   several as a list;
//! - the indicator's pattern has the same properties, from the attributes with
//!   `to_ids` (the type's MISP default when the attribute omits it), each value of a
//!   custom relation a comparison `<type>:x_misp_<relation> = '…'`.
//!
//! A value the native property cannot hold unchanged (an AS or port that is no
//! decimal integer) stays a custom property, as misp-stix keeps it verbatim.

use serde_json::{json, Map, Value};

use crate::error::Rule;
use crate::to_stix::{
    check_hash, escape, hash_path, ip_type, sco, sco_hash_key, Observable, Refusal,
};

type Obj = Map<String, Value>;

/// What a template makes of an object: its observable, a refusal (a value the STIX
/// property cannot hold), or `None` when misp-stix cannot build it either (the
/// object is then an `x-misp-object`).
type Built = Option<Result<Observable, Refusal>>;

/// One attribute of an object, as the templates read it.
pub(crate) struct Part<'a> {
    pub relation: &'a str,
    pub value: &'a str,
    pub uuid: Option<&'a str>,
    /// The MISP type (`datetime` values are read as date-times, as PyMISP does).
    pub kind: &'a str,
    /// The attachment's content (base64), for `attachment`-like relations.
    pub data: Option<&'a str>,
    /// The attribute goes into the indicator's pattern (its `to_ids`, or the type's default).
    pub in_pattern: bool,
    /// The attribute's comment (a rule's reference keeps it).
    pub comment: Option<&'a str>,
}

/// Values by relation, in the order the relations first appear.
#[derive(Default, Clone)]
struct Groups(Vec<(String, Vec<String>)>);

impl Groups {
    fn of<'a>(parts: impl Iterator<Item = (&'a str, &'a str)>) -> Groups {
        let mut g = Groups::default();
        for (relation, value) in parts {
            match g.0.iter_mut().find(|(r, _)| r == relation) {
                Some((_, values)) => values.push(value.to_string()),
                None => g.0.push((relation.to_string(), vec![value.to_string()])),
            }
        }
        g
    }

    /// Keep the first value of each single relation (`None`: every relation); the
    /// further values, by relation.
    fn split(&mut self, single: Option<&[&str]>) -> Groups {
        let mut repeated = Groups::default();
        for (relation, values) in &mut self.0 {
            if single.is_some_and(|s| !s.contains(&relation.as_str())) {
                continue;
            }
            if values.len() > 1 {
                repeated.0.push((relation.clone(), values.split_off(1)));
            }
        }
        repeated
    }

    fn has(&self, relation: &str) -> bool {
        self.0.iter().any(|(r, _)| r == relation)
    }

    /// The first value of `relation`, which stays.
    fn first(&self, relation: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(r, _)| r == relation)
            .map(|(_, v)| v[0].clone())
    }

    fn pop(&mut self, relation: &str) -> Option<Vec<String>> {
        let i = self.0.iter().position(|(r, _)| r == relation)?;
        Some(self.0.remove(i).1)
    }

    /// misp-stix's `_select_single_feature`: the first value; the others stay.
    fn select_first(&mut self, relation: &str) -> Option<String> {
        let i = self.0.iter().position(|(r, _)| r == relation)?;
        if self.0[i].1.len() == 1 {
            return self.0.remove(i).1.pop();
        }
        Some(self.0[i].1.remove(0))
    }

    /// Give the further values back to their relations (after the natives are taken).
    fn restore(&mut self, repeated: Groups) {
        for (relation, values) in repeated.0 {
            match self.0.iter_mut().find(|(r, _)| *r == relation) {
                Some((_, existing)) => existing.extend(values),
                None => self.0.push((relation, values)),
            }
        }
    }

    /// The first value of each native relation (relation, property) as its property,
    /// a string.
    fn natives(&mut self, pairs: &[(&str, &str)], props: &mut Obj) {
        for (relation, property) in pairs {
            if let Some(mut v) = self.pop(relation) {
                props.insert((*property).into(), json!(v.remove(0)));
            }
        }
    }

    /// The first value of each timestamp relation (relation, property) as its property
    /// in STIX form; a value that is no date-time goes to `kept` (it stays custom).
    fn timestamps(&mut self, pairs: &[(&str, &str)], props: &mut Obj, kept: &mut Groups) {
        for (relation, property) in pairs {
            self.timestamp(relation, property, props, kept);
        }
    }

    /// The first value of `relation` as the timestamp `property`, in STIX form; a value
    /// that is no date-time goes to `kept`.
    fn timestamp(&mut self, relation: &str, property: &str, props: &mut Obj, kept: &mut Groups) {
        self.convert_first(relation, property, props, kept, |v| {
            stix_time(v).map(Value::from)
        });
    }

    /// The first value of `relation` as the port number `property`; a value that is no
    /// port goes to `kept`.
    fn port(&mut self, relation: &str, property: &str, props: &mut Obj, kept: &mut Groups) {
        self.convert_first(relation, property, props, kept, |v| {
            port(v).map(Value::from)
        });
    }

    /// The first value of `relation`, converted, as `property`; a value that does not
    /// convert goes to `kept` (it stays a custom property).
    fn convert_first(
        &mut self,
        relation: &str,
        property: &str,
        props: &mut Obj,
        kept: &mut Groups,
        convert: impl FnOnce(&str) -> Option<Value>,
    ) {
        if let Some(mut v) = self.pop(relation) {
            let value = v.remove(0);
            match convert(&value) {
                Some(converted) => {
                    props.insert(property.into(), converted);
                }
                None => kept.0.push((relation.into(), vec![value])),
            }
        }
    }

    /// The pattern comparison `prefix:property = 'value'` of the first value of each
    /// native relation (relation, property).
    fn native_pattern(&mut self, prefix: &str, pairs: &[(&str, &str)], parts: &mut Vec<String>) {
        for (relation, property) in pairs {
            if let Some(mut v) = self.pop(relation) {
                parts.push(format!("{prefix}:{property} = '{}'", v.remove(0)));
            }
        }
    }

    /// The end of a template's pattern (these are the values that go into it): the
    /// further values back to their relations, compared as custom properties after
    /// the natives; the observable of `props` and the SCOs it refers to.
    fn finish(
        mut self,
        repeated: Groups,
        prefix: &str,
        uuid: &str,
        props: Obj,
        scos: Vec<Value>,
        mut parts: Vec<String>,
    ) -> Built {
        self.restore(repeated);
        self.custom_pattern(prefix, &mut parts);
        Some(Ok(observable_with(prefix, uuid, props, scos, &parts)))
    }

    /// The custom properties `x_misp_<relation>`: one value as is, several a list.
    fn custom(self, props: &mut Obj) {
        self.custom_keeping(props, &[]);
    }

    /// The same, but the relations not in `single` stay lists even with one value
    /// (misp-stix's `_handle_observable_properties`, for x509 and network-connection).
    fn custom_keeping(self, props: &mut Obj, lists: &[&str]) {
        for (relation, mut values) in self.0 {
            let value = if values.len() == 1 && !lists.contains(&relation.as_str()) {
                json!(values.pop())
            } else {
                json!(values)
            };
            props.insert(custom_name(&relation), value);
        }
    }

    /// The pattern comparisons of the custom properties.
    fn custom_pattern(self, prefix: &str, parts: &mut Vec<String>) {
        self.custom_pattern_after(&format!("{prefix}:"), parts);
    }

    /// The same under a path that already ends with its separator (`file:` for an
    /// object's own properties, `file:extensions.'windows-pebinary-ext'.` for an
    /// extension's).
    fn custom_pattern_after(self, path: &str, parts: &mut Vec<String>) {
        for (relation, values) in self.0 {
            let segment = quote_segment(&custom_name(&relation));
            for v in values {
                parts.push(format!("{path}{segment} = '{v}'"));
            }
        }
    }
}

/// misp-stix's custom property name of a relation: `x_misp_` and the relation
/// lower-cased, any character but `a-z0-9_` folded to `_`.
pub(crate) fn custom_name(relation: &str) -> String {
    let folded: String = relation
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("x_misp_{folded}")
}

/// A pattern path segment: as is when it is an identifier, else quoted.
fn quote_segment(segment: &str) -> String {
    let mut chars = segment.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        segment.to_string()
    } else {
        format!("'{}'", escape(segment))
    }
}

/// A decimal integer as a STIX integer property holds it unchanged (`007`, `+5` are not).
fn canonical_int(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    value.parse().ok()
}

/// misp-stix's AS number: the digits (and dots) of `AS174`.
fn as_number(value: &str) -> Option<u64> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The values of an object's attributes by relation (`datetime` values in STIX form),
/// and the escaped values of those that go into the pattern (`datetime` values as
/// Python writes them, as misp-stix's patterns have them).
fn groups(parts: &[Part]) -> (Groups, Groups) {
    let observed: Vec<String> = parts
        .iter()
        .map(|p| match p.kind {
            "datetime" => stix_time(p.value).unwrap_or_else(|| p.value.to_string()),
            _ => p.value.to_string(),
        })
        .collect();
    let all = Groups::of(
        parts
            .iter()
            .zip(&observed)
            .map(|(p, v)| (p.relation, v.as_str())),
    );
    let escaped: Vec<String> = parts
        .iter()
        .map(|p| match p.kind {
            "datetime" => escape(&python_datetime(p.value).unwrap_or_else(|| p.value.to_string())),
            _ => escape(p.value),
        })
        .collect();
    let ids = Groups::of(
        parts
            .iter()
            .zip(&escaped)
            .filter(|(p, _)| p.in_pattern)
            .map(|(p, e)| (p.relation, e.as_str())),
    );
    (all, ids)
}

/// The observable and pattern of an object of one of these templates; `None` for any
/// other template (or an object the template cannot be built from: misp-stix writes
/// those as `x-misp-object`).
pub(crate) fn convert(name: &str, uuid: &str, parts: &[Part]) -> Built {
    let (all, ids) = groups(parts);
    match name {
        "mutex" => Some(Ok(simple("mutex", uuid, all, ids, &[("name", "name")]))),
        "url" => Some(Ok(simple("url", uuid, all, ids, &[("url", "value")]))),
        "asn" => asn(uuid, all, ids),
        "credential" => Some(Ok(credential(uuid, all, ids))),
        "registry-key" => Some(Ok(registry_key(uuid, all, ids))),
        "x509" => Some(Ok(x509(uuid, all, ids))),
        "user-account" => Some(Ok(user_account(uuid, all, ids))),
        "ip-port" => ip_port(uuid, parts, all, ids),
        "network-connection" => network_connection(uuid, parts, all, ids),
        "netflow" => netflow(uuid, parts, all, ids),
        "lnk" => lnk(uuid, parts, all, ids),
        "image" => image(uuid, parts, all, ids),
        "domain-ip" => domain_ip(uuid, parts, all, ids),
        "email" => email(uuid, parts, all, ids),
        "file" => file(uuid, parts, all, ids),
        "http-request" => http_request(uuid, parts, all, ids),
        "network-socket" => network_socket(uuid, parts, all, ids),
        "process" => process(uuid, parts, all, ids),
        "android-app" => Some(Ok(software(
            uuid,
            all,
            ids,
            &["name"],
            &[("name", "name")],
            Some(&["name"]),
        ))),
        "cpe-asset" => Some(Ok(software(
            uuid,
            all,
            ids,
            &["cpe", "product", "vendor", "version"],
            &[
                ("cpe", "cpe"),
                ("language", "languages"),
                ("product", "name"),
                ("vendor", "vendor"),
                ("version", "version"),
            ],
            None,
        ))),
        "facebook-account" | "github-user" | "gitlab-user" | "parler-account"
        | "reddit-account" | "telegram-account" | "twitter-account" => {
            account(name, uuid, parts, all, ids)
        }
        _ => None,
    }
}

fn observable(kind: &str, uuid: &str, props: Obj, parts: Vec<String>) -> Observable {
    observable_with(kind, uuid, props, Vec::new(), &parts)
}

/// The observable of an object: its main SCO (`kind--uuid`) first, then the SCOs it
/// refers to, and the pattern of the comparisons `parts` (joined by `AND`).
fn observable_with(
    kind: &str,
    uuid: &str,
    props: Obj,
    refs: Vec<Value>,
    parts: &[String],
) -> Observable {
    let mut scos = vec![sco(kind, uuid, Value::Object(props))];
    scos.extend(refs);
    Observable {
        scos,
        pattern: format!("[{}]", parts.join(" AND ")),
    }
}

/// The uuid of the attribute with this relation and value (the first such one); `None`
/// when it has none.
fn part_uuid<'a>(parts: &[Part<'a>], relation: &str, value: &str) -> Option<&'a str> {
    parts
        .iter()
        .find(|p| p.relation == relation && p.value == value)
        .and_then(|p| p.uuid)
}

/// The `ipv4-addr`/`ipv6-addr` SCO of an address attribute, pushed to `scos`; its id.
fn address_sco(value: &str, a_uuid: &str, scos: &mut Vec<Value>) -> Result<String, Refusal> {
    let t = ip_type(value)?;
    scos.push(sco(t, a_uuid, json!({"value": value})));
    Ok(format!("{t}--{a_uuid}"))
}

/// The pattern comparison of an address reference `feature` (e.g.
/// `network-traffic:src_ref`): its type, by the value's form, and its value.
fn address_pattern(feature: &str, value: &str) -> String {
    let t = if value.contains(':') {
        "ipv6-addr"
    } else {
        "ipv4-addr"
    };
    format!("({feature}.type = '{t}' AND {feature}.value = '{value}')")
}

/// The pattern comparison of a `domain-name` reference `feature`.
fn domain_pattern(feature: &str, value: &str) -> String {
    format!("({feature}.type = 'domain-name' AND {feature}.value = '{value}')")
}

/// A port number (0 to 65535) written as MISP writes integers; `None` when it is not one.
fn port(value: &str) -> Option<i64> {
    canonical_int(value).filter(|n| (0..=65535).contains(n))
}

/// Every relation single, natives as strings (mutex, url).
fn simple(
    kind: &str,
    uuid: &str,
    mut all: Groups,
    mut ids: Groups,
    natives: &[(&str, &str)],
) -> Observable {
    let mut props = Obj::new();
    let repeated = all.split(None);
    all.natives(natives, &mut props);
    all.restore(repeated);
    all.custom(&mut props);
    let mut parts = Vec::new();
    let repeated = ids.split(None);
    ids.native_pattern(kind, natives, &mut parts);
    ids.restore(repeated);
    ids.custom_pattern(kind, &mut parts);
    observable(kind, uuid, props, parts)
}

fn asn(uuid: &str, mut all: Groups, mut ids: Groups) -> Built {
    let single = ["asn", "description"];
    let repeated = all.split(Some(&single));
    let asn = all.pop("asn")?;
    // A number misp-stix would rewrite (or cannot read) leaves the object custom.
    let number = canonical_int(asn[0].trim_start_matches("AS").trim_start_matches("as"))
        .and_then(|n| u64::try_from(n).ok())?;
    let mut props = Obj::new();
    props.insert("number".into(), json!(number));
    if let Some(mut d) = all.pop("description") {
        props.insert("name".into(), json!(d.remove(0)));
    }
    all.restore(repeated);
    all.custom(&mut props);
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&single));
    if let Some(v) = ids.pop("asn") {
        match as_number(&v[0]) {
            Some(n) => parts.push(format!("autonomous-system:number = '{n}'")),
            None => {
                return Some(Err((
                    "asn",
                    Rule::Value,
                    format!("'{}' is not an AS number", v[0]),
                )))
            }
        }
    }
    if let Some(mut d) = ids.pop("description") {
        parts.push(format!("autonomous-system:name = '{}'", d.remove(0)));
    }
    ids.restore(repeated);
    ids.custom_pattern("autonomous-system", &mut parts);
    Some(Ok(observable("autonomous-system", uuid, props, parts)))
}

fn credential(uuid: &str, mut all: Groups, mut ids: Groups) -> Observable {
    let single = ["username"];
    let repeated = all.split(Some(&single));
    let mut props = Obj::new();
    if let Some(v) = all.select_first("password") {
        props.insert("credential".into(), json!(v));
    }
    if let Some(v) = all.select_first("username") {
        props.insert("user_id".into(), json!(v));
    }
    all.restore(repeated);
    all.custom(&mut props);
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&single));
    if let Some(mut v) = ids.pop("username") {
        parts.push(format!("user-account:user_id = '{}'", v.remove(0)));
    }
    if let Some(values) = ids.pop("password") {
        for v in values {
            parts.push(format!("user-account:credential = '{v}'"));
        }
    }
    ids.restore(repeated);
    ids.custom_pattern("user-account", &mut parts);
    observable("user-account", uuid, props, parts)
}

/// misp-stix's `_sanitise_registry_key_value`: a `%` in a pattern is escaped.
pub(crate) fn sanitise_registry(value: &str) -> String {
    let s = value.trim();
    if s.contains('%') && !s.contains("\\\\%") {
        if s.contains("\\%") {
            return s.replace("\\%", "\\\\%");
        }
        return s.replace('%', "\\\\%");
    }
    s.to_string()
}

fn registry_key(uuid: &str, mut all: Groups, mut ids: Groups) -> Observable {
    let repeated = all.split(None);
    let mut props = Obj::new();
    registry_head(&mut all, &mut props);
    let value = registry_value(&mut all);
    if !value.is_empty() {
        props.insert("values".into(), json!([value]));
    }
    all.restore(repeated);
    all.custom(&mut props);
    let mut parts = Vec::new();
    let repeated = ids.split(None);
    registry_head_pattern(&mut ids, &mut parts);
    registry_value_pattern(ids, repeated, 0, &mut parts);
    observable(REGISTRY, uuid, props, parts)
}

/// The pattern path of a registry key.
const REGISTRY: &str = "windows-registry-key";

/// A registry key's `key` and `modified_time` (with its zone, as misp-stix adds it).
fn registry_head(all: &mut Groups, props: &mut Obj) {
    if let Some(mut v) = all.pop("key") {
        props.insert("key".into(), json!(v.remove(0)));
    }
    if let Some(mut v) = all.pop("last-modified") {
        let mut m = v.remove(0);
        if !m.ends_with('Z') {
            m.push('Z');
        }
        props.insert("modified_time".into(), json!(m));
    }
}

/// A value of a registry key: `data_type`, `name`, `data`.
fn registry_value(all: &mut Groups) -> Obj {
    let mut value = Obj::new();
    all.natives(&[("data-type", "data_type"), ("name", "name")], &mut value);
    if let Some(mut v) = all.pop("data") {
        value.insert("data".into(), json!(v.remove(0)));
    }
    value
}

/// The comparisons of a registry key's `key` and `modified_time`. The pattern values
/// are escaped already; the key (and a value's fields) are sanitised on top, as
/// misp-stix does.
fn registry_head_pattern(ids: &mut Groups, parts: &mut Vec<String>) {
    if let Some(mut v) = ids.pop("key") {
        parts.push(format!(
            "{REGISTRY}:key = '{}'",
            sanitise_registry(&v.remove(0))
        ));
    }
    if let Some(mut v) = ids.pop("last-modified") {
        parts.push(format!("{REGISTRY}:modified_time = '{}'", v.remove(0)));
    }
}

/// The comparisons of the value at `index` (`values[index].data`, `data_type`,
/// `name`) and then of the rest, sanitised, as custom properties of the key.
fn registry_value_pattern(
    mut ids: Groups,
    repeated: Groups,
    index: usize,
    parts: &mut Vec<String>,
) {
    if let Some(mut v) = ids.pop("data") {
        let d = v.remove(0);
        let d = d.trim_matches('\'').trim_matches('"');
        parts.push(format!(
            "{REGISTRY}:values[{index}].data = '{}'",
            sanitise_registry(d)
        ));
    }
    for (relation, property) in [("data-type", "data_type"), ("name", "name")] {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(format!(
                "{REGISTRY}:values[{index}].{property} = '{}'",
                sanitise_registry(&v.remove(0))
            ));
        }
    }
    registry_rest_pattern(ids, repeated, parts);
}

/// The rest of a registry object's values, sanitised, as custom comparisons.
fn registry_rest_pattern(ids: Groups, repeated: Groups, parts: &mut Vec<String>) {
    let sanitised = |g: Groups| {
        Groups(
            g.0.into_iter()
                .map(|(r, values)| (r, values.iter().map(|v| sanitise_registry(v)).collect()))
                .collect(),
        )
    };
    let mut rest = sanitised(ids);
    rest.restore(sanitised(repeated));
    rest.custom_pattern(REGISTRY, parts);
}

/// misp-stix's `registry-key` that contains `registry-key-value` objects: the key's
/// `key` and `modified_time`, a value per object (its custom relations inside it), the
/// key's other relations (its own data or name too) custom.
pub(crate) fn registry_key_with_values(
    uuid: &str,
    key: &[Part],
    values: &[Vec<Part>],
) -> Observable {
    let (mut all, mut ids) = groups(key);
    let repeated = all.split(None);
    let mut props = Obj::new();
    registry_head(&mut all, &mut props);
    let mut list = Vec::new();
    let mut parts = Vec::new();
    let key_repeated = ids.split(None);
    registry_head_pattern(&mut ids, &mut parts);
    for (index, value) in values.iter().enumerate() {
        let (mut v_all, mut v_ids) = groups(value);
        let v_repeated = v_all.split(None);
        let mut v = registry_value(&mut v_all);
        v_all.restore(v_repeated);
        v_all.custom(&mut v);
        list.push(Value::Object(v));
        let v_repeated = v_ids.split(None);
        registry_value_pattern(v_ids, v_repeated, index, &mut parts);
    }
    if !list.is_empty() {
        props.insert("values".into(), Value::Array(list));
    }
    all.restore(repeated);
    all.custom(&mut props);
    registry_rest_pattern(ids, key_repeated, &mut parts);
    observable(REGISTRY, uuid, props, parts)
}

/// misp-stix's `registry-key-value` no registry key contains: a key of that one value.
pub(crate) fn registry_value_alone(uuid: &str, value: &[Part]) -> Observable {
    let (mut all, mut ids) = groups(value);
    let repeated = all.split(None);
    let mut v = registry_value(&mut all);
    all.restore(repeated);
    all.custom(&mut v);
    let mut parts = Vec::new();
    let repeated = ids.split(None);
    registry_value_pattern(ids, repeated, 0, &mut parts);
    let mut props = Obj::new();
    props.insert("values".into(), json!([v]));
    observable(REGISTRY, uuid, props, parts)
}

const X509_SINGLE: [&str; 16] = [
    "is_ca",
    "issuer",
    "pem",
    "pubkey-info-algorithm",
    "pubkey-info-exponent",
    "pubkey-info-modulus",
    "pubkey-info-size",
    "raw-base64",
    "self_signed",
    "serial-number",
    "signature_algorithm",
    "subject",
    "text",
    "validity-not-after",
    "validity-not-before",
    "version",
];
const X509_FEATURES: [(&str, &str); 8] = [
    ("issuer", "issuer"),
    ("pubkey-info-algorithm", "subject_public_key_algorithm"),
    ("pubkey-info-exponent", "subject_public_key_exponent"),
    ("pubkey-info-modulus", "subject_public_key_modulus"),
    ("serial-number", "serial_number"),
    ("signature_algorithm", "signature_algorithm"),
    ("subject", "subject"),
    ("version", "version"),
];
const X509_TIMELINE: [(&str, &str); 2] = [
    ("validity-not-after", "validity_not_after"),
    ("validity-not-before", "validity_not_before"),
];
const X509_EXTENSION: [(&str, &str); 5] = [
    ("dns_names", "DNS name"),
    ("email", "email"),
    ("ip", "IP"),
    ("rid", "RID"),
    ("uri", "URI"),
];
const X509_HASHES: [(&str, &str, &str, usize); 3] = [
    ("x509-fingerprint-md5", "MD5", "MD5", 32),
    ("x509-fingerprint-sha1", "SHA-1", "SHA-1", 40),
    ("x509-fingerprint-sha256", "SHA-256", "SHA-256", 64),
];

/// The relations of `groups` that are not single: misp-stix keeps their values a list.
fn not_single(groups: &Groups, single: &[&str]) -> Vec<String> {
    groups
        .0
        .iter()
        .map(|(r, _)| r.clone())
        .filter(|r| !single.contains(&r.as_str()))
        .collect()
}

/// A MISP date-time as Python prints the `datetime` PyMISP reads it into, which is
/// how misp-stix writes it into a pattern: `2020-10-25 16:22:00+00:00` (with a zone),
/// `2021-01-01 00:00:00` (without).
fn python_datetime(value: &str) -> Option<String> {
    let (date, rest) = value.split_once(['T', ' '])?;
    if date.len() != 10 || rest.len() < 8 {
        return None;
    }
    let (time, zone) = if let Some(t) = rest.strip_suffix('Z') {
        (t, "+00:00")
    } else if let Some(i) = rest[8..].find(['+', '-']) {
        let (t, z) = rest.split_at(8 + i);
        (t, z)
    } else {
        (rest, "")
    };
    let zone = if zone.len() == 5 && !zone.contains(':') {
        format!("{}:{}", &zone[..3], &zone[3..])
    } else {
        zone.to_string()
    };
    let (base, frac) = time.split_once('.').unwrap_or((time, ""));
    let frac = if frac.is_empty() || frac.bytes().all(|b| b == b'0') {
        String::new()
    } else {
        format!(".{:0<6}", &frac[..frac.len().min(6)])
    };
    Some(format!("{date} {base}{frac}{zone}"))
}

fn is_hex(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A MISP date-time as STIX writes it (`2020-10-25T16:22:00Z`), or `None`.
fn stix_time(value: &str) -> Option<String> {
    let v = value.trim_end_matches('Z');
    let (date, time) = v.split_once(['T', ' '])?;
    if date.len() != 10 || time.len() < 8 {
        return None;
    }
    let (base, frac) = time.split_once('.').unwrap_or((time, ""));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        Some(format!("{date}T{base}Z"))
    } else {
        Some(format!("{date}T{base}.{frac}Z"))
    }
}

/// The value of an x509 hash relation when it has one value of `len` hex digits (taken
/// out of `groups`); otherwise `None` and the relation stays (a custom property).
fn single_hash(groups: &mut Groups, relation: &str, len: usize) -> Option<String> {
    match groups.0.iter().find(|(r, _)| r == relation) {
        Some((_, v)) if v.len() == 1 && is_hex(&v[0], len) => groups.pop(relation)?.pop(),
        _ => None,
    }
}

/// The `subject_alternative_name` entries (`<feature>:<value>`) of the x509 extension
/// relations, taken out of `groups`.
fn subject_alternative_names(groups: &mut Groups) -> Vec<String> {
    let mut extension = Vec::new();
    for (relation, feature) in X509_EXTENSION {
        if let Some(values) = groups.pop(relation) {
            for v in values {
                extension.push(format!("{feature}:{v}"));
            }
        }
    }
    extension
}

fn x509(uuid: &str, mut all: Groups, mut ids: Groups) -> Observable {
    let repeated = all.split(Some(&X509_SINGLE));
    let mut props = Obj::new();
    let lists = not_single(&all, &X509_SINGLE);
    let mut kept = Groups::default();
    if let Some(v) = all.pop("pubkey-info-exponent") {
        match canonical_int(&v[0]) {
            Some(n) => {
                props.insert("subject_public_key_exponent".into(), json!(n));
            }
            None => kept.0.push(("pubkey-info-exponent".into(), v)),
        }
    }
    if let Some(mut v) = all.pop("self_signed") {
        props.insert("is_self_signed".into(), json!(v.remove(0)));
    }
    let mut hashes = Obj::new();
    for (relation, name, _, len) in X509_HASHES {
        if let Some(v) = single_hash(&mut all, relation, len) {
            hashes.insert(name.into(), json!(v.to_ascii_lowercase()));
        }
    }
    if !hashes.is_empty() {
        props.insert("hashes".into(), Value::Object(hashes));
    }
    all.natives(&X509_FEATURES, &mut props);
    all.timestamps(&X509_TIMELINE, &mut props, &mut kept);
    let extension = subject_alternative_names(&mut all);
    if !extension.is_empty() {
        props.insert(
            "x509_v3_extensions".into(),
            json!({"subject_alternative_name": extension.join(",")}),
        );
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom_keeping(
        &mut props,
        &lists.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let prefix = "x509-certificate";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&X509_SINGLE));
    if let Some(mut v) = ids.pop("self_signed") {
        parts.push(format!("{prefix}:is_self_signed = '{}'", v.remove(0)));
    }
    for (relation, _, pattern_name, len) in X509_HASHES {
        if let Some(v) = single_hash(&mut ids, relation, len) {
            parts.push(format!(
                "{prefix}:hashes.{} = '{v}'",
                quote_segment(pattern_name)
            ));
        }
    }
    ids.native_pattern(prefix, &X509_FEATURES, &mut parts);
    ids.native_pattern(prefix, &X509_TIMELINE, &mut parts);
    let extension = subject_alternative_names(&mut ids);
    if !extension.is_empty() {
        parts.push(format!(
            "{prefix}:x509_v3_extensions.subject_alternative_name = '{}'",
            extension.join(",")
        ));
    }
    ids.restore(repeated);
    ids.custom_pattern(prefix, &mut parts);
    observable(prefix, uuid, props, parts)
}

const USER_SINGLE: [&str; 17] = [
    "account-type",
    "can_escalate_privs",
    "created",
    "disabled",
    "display-name",
    "expires",
    "first_login",
    "group-id",
    "home_dir",
    "is_service_account",
    "last_login",
    "password",
    "password_last_changed",
    "privileged",
    "shell",
    "user-id",
    "username",
];
const USER_FEATURES: [(&str, &str); 9] = [
    ("account-type", "account_type"),
    ("can_escalate_privs", "can_escalate_privs"),
    ("disabled", "is_disabled"),
    ("display-name", "display_name"),
    ("is_service_account", "is_service_account"),
    ("password", "credential"),
    ("privileged", "is_privileged"),
    ("user-id", "user_id"),
    ("username", "account_login"),
];
const USER_TIMELINE: [(&str, &str); 5] = [
    ("created", "account_created"),
    ("expires", "account_expires"),
    ("first_login", "account_first_login"),
    ("last_login", "account_last_login"),
    ("password_last_changed", "credential_last_changed"),
];
const USER_EXTENSION: [(&str, &str); 4] = [
    ("group", "groups"),
    ("group-id", "gid"),
    ("home_dir", "home_dir"),
    ("shell", "shell"),
];

fn user_account(uuid: &str, mut all: Groups, mut ids: Groups) -> Observable {
    let repeated = all.split(Some(&USER_SINGLE));
    let mut kept = Groups::default();
    let mut gid = None;
    if let Some(v) = all.pop("group-id") {
        match canonical_int(&v[0]) {
            Some(n) => gid = Some(n),
            None => kept.0.push(("group-id".into(), v)),
        }
    }
    let mut props = Obj::new();
    all.natives(&USER_FEATURES, &mut props);
    all.timestamps(&USER_TIMELINE, &mut props, &mut kept);
    let mut extension = Obj::new();
    for (relation, property) in USER_EXTENSION {
        if relation == "group-id" {
            if let Some(n) = gid {
                extension.insert(property.into(), json!(n));
            }
            continue;
        }
        if let Some(mut v) = all.pop(relation) {
            let value = if USER_SINGLE.contains(&relation) {
                json!(v.remove(0))
            } else {
                json!(v)
            };
            extension.insert(property.into(), value);
        }
    }
    if !extension.is_empty() {
        props.insert(
            "extensions".into(),
            json!({ "unix-account-ext": extension }),
        );
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut props);
    let prefix = "user-account";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&USER_SINGLE));
    for (relation, property) in USER_FEATURES.iter().chain(USER_TIMELINE.iter()) {
        if let Some(v) = ids.pop(relation) {
            parts.push(format!("{prefix}:{property} = '{}'", pattern_value(&v)));
        }
    }
    for (relation, property) in USER_EXTENSION {
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(format!(
                    "{prefix}:extensions.'unix-account-ext'.{property} = '{v}'"
                ));
            }
        }
    }
    ids.restore(repeated);
    ids.custom_pattern(prefix, &mut parts);
    observable(prefix, uuid, props, parts)
}

/// A single relation's value in a pattern (a non-single one, as Python prints a list).
fn pattern_value(values: &[String]) -> String {
    if values.len() == 1 {
        values[0].clone()
    } else {
        let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        format!("[{}]", quoted.join(", "))
    }
}

fn ip_port(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let single = ["first-seen", "last-seen", "protocol"];
    let repeated = all.split(Some(&single));
    let mut nt = Obj::new();
    let mut scos = Vec::new();
    let mut protocols: Vec<String> = Vec::new();
    for feature in ["ip-src", "ip-dst", "ip"] {
        let Some(values) = all.pop(feature) else {
            continue;
        };
        let side = if feature == "ip-src" {
            "src_ref"
        } else {
            "dst_ref"
        };
        if nt.contains_key(side) {
            all.0.push((feature.into(), values));
            continue;
        }
        let first = &values[0];
        let a_uuid = part_uuid(parts_in, feature, first)?;
        let id = match address_sco(first, a_uuid, &mut scos) {
            Ok(id) => id,
            Err(e) => return Some(Err(e)),
        };
        let proto = id.split('-').next().unwrap_or_default().to_string();
        nt.insert(side.into(), json!(id));
        if !protocols.contains(&proto) {
            protocols.push(proto);
        }
        if values.len() > 1 {
            all.0.push((feature.into(), values[1..].to_vec()));
        }
    }
    let mut kept = Groups::default();
    for (relation, property) in [("dst-port", "dst_port"), ("src-port", "src_port")] {
        if all.has(relation) {
            let first = all.select_first(relation).unwrap_or_default();
            match port(&first) {
                Some(n) => {
                    nt.insert(property.into(), json!(n));
                }
                None => kept.0.push((relation.into(), vec![first])),
            }
        }
    }
    if let Some(mut p) = all.pop("protocol") {
        let p = p.remove(0);
        if !protocols.contains(&p) {
            protocols.push(p);
        }
    }
    if protocols.is_empty() {
        protocols.push("tcp".into());
    }
    nt.insert("protocols".into(), json!(protocols));
    all.timestamps(
        &[("first-seen", "start"), ("last-seen", "end")],
        &mut nt,
        &mut kept,
    );
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut nt);
    let prefix = "network-traffic";
    let mut parts = Vec::new();
    for (relation, side) in [
        ("ip", "dst_ref"),
        ("ip-src", "src_ref"),
        ("ip-dst", "dst_ref"),
    ] {
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(address_pattern(&format!("{prefix}:{side}"), &v));
            }
        }
    }
    for relation in ["domain", "hostname"] {
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(domain_pattern(&format!("{prefix}:dst_ref"), &v));
            }
        }
    }
    for (relation, property) in [
        ("dst-port", "dst_port"),
        ("src-port", "src_port"),
        ("first-seen", "start"),
        ("last-seen", "end"),
    ] {
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(format!("{prefix}:{property} = '{v}'"));
            }
        }
    }
    ids.custom_pattern(prefix, &mut parts);
    Some(Ok(observable_with(prefix, uuid, nt, scos, &parts)))
}

fn network_connection(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let repeated = all.split(None);
    let mut nt = Obj::new();
    let mut scos = Vec::new();
    if let Err(e) = network_refs(parts_in, &mut all, &mut nt, &mut scos)? {
        return Some(Err(e));
    }
    let mut kept = Groups::default();
    for (relation, property) in [
        ("dst-port", "dst_port"),
        ("first-packet-seen", "start"),
        ("src-port", "src_port"),
    ] {
        if property == "start" {
            all.timestamp(relation, property, &mut nt, &mut kept);
        } else {
            all.port(relation, property, &mut nt, &mut kept);
        }
    }
    let mut protocols = Vec::new();
    for relation in ["layer3-protocol", "layer4-protocol", "layer7-protocol"] {
        if let Some(mut v) = all.pop(relation) {
            protocols.push(v.remove(0).to_lowercase());
        }
    }
    if protocols.is_empty() {
        protocols.push("tcp".into());
    }
    nt.insert("protocols".into(), json!(protocols));
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut nt);
    let prefix = "network-traffic";
    let mut parts = Vec::new();
    let repeated = ids.split(None);
    network_refs_pattern(&mut ids, &mut parts);
    ids.native_pattern(
        prefix,
        &[
            ("dst-port", "dst_port"),
            ("first-packet-seen", "start"),
            ("src-port", "src_port"),
        ],
        &mut parts,
    );
    let mut index = 0;
    for relation in ["layer3-protocol", "layer4-protocol", "layer7-protocol"] {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(format!(
                "{prefix}:protocols[{index}] = '{}'",
                v.remove(0).to_lowercase()
            ));
            index += 1;
        }
    }
    ids.finish(repeated, prefix, uuid, nt, scos, parts)
}

const DOMAIN_IP_SINGLE: [&str; 6] = [
    "first-seen",
    "hostname",
    "last-seen",
    "port",
    "registration-date",
    "text",
];

/// `domain-ip`: with relations `domain`, `hostname`, `ip` only ("standard"), a
/// `domain-name` per domain (and one for the hostname), each with the id of its
/// attribute, resolving to every address; with any other relation ("custom"), one
/// `domain-name--<object uuid>` (the first domain, else the hostname) carrying the
/// other relations as custom properties. Without a domain or hostname: `None`.
fn domain_ip(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    if !all.has("domain") && !all.has("hostname") {
        return None;
    }
    let standard = parts_in
        .iter()
        .all(|p| matches!(p.relation, "domain" | "hostname" | "ip"));
    let mut scos = Vec::new();
    let mut resolves = Vec::new();
    for p in parts_in.iter().filter(|p| p.relation == "ip") {
        match address_sco(p.value, p.uuid?, &mut scos) {
            Ok(id) => resolves.push(id),
            Err(e) => return Some(Err(e)),
        }
    }
    all.pop("ip");
    let with_refs = |mut props: Obj| {
        if !resolves.is_empty() {
            props.insert("resolves_to_refs".into(), json!(resolves));
        }
        props
    };
    let repeated = all.split(Some(&DOMAIN_IP_SINGLE));
    if standard {
        if let Some(host) = parts_in.iter().find(|p| p.relation == "hostname") {
            let mut props = Obj::new();
            props.insert("value".into(), json!(host.value));
            let mut props = with_refs(props);
            repeated.clone().custom(&mut props);
            scos.push(sco("domain-name", host.uuid?, Value::Object(props)));
        }
        for d in parts_in.iter().filter(|p| p.relation == "domain") {
            let mut props = Obj::new();
            props.insert("value".into(), json!(d.value));
            scos.push(sco("domain-name", d.uuid?, Value::Object(with_refs(props))));
        }
    } else {
        let mut props = Obj::new();
        let value = all
            .select_first("domain")
            .or_else(|| all.select_first("hostname"));
        if let Some(v) = value {
            props.insert("value".into(), json!(v));
        }
        let mut props = with_refs(props);
        let lists = not_single(&all, &DOMAIN_IP_SINGLE);
        all.restore(repeated);
        all.custom_keeping(
            &mut props,
            &lists.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        scos.insert(0, sco("domain-name", uuid, Value::Object(props)));
    }
    let prefix = "domain-name";
    let special = ids.has("domain") && ids.has("hostname");
    let mut parts = Vec::new();
    for (relation, field) in [
        ("domain", "value"),
        ("hostname", "value"),
        ("ip", "resolves_to_refs[*].value"),
    ] {
        let field = if relation == "hostname" && special {
            "x_misp_hostname"
        } else {
            field
        };
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(format!("{prefix}:{field} = '{v}'"));
            }
        }
    }
    ids.custom_pattern(prefix, &mut parts);
    Some(Ok(Observable {
        scos,
        pattern: format!("[{}]", parts.join(" AND ")),
    }))
}

/// The value of a part as stix2 writes a custom property: a `datetime` attribute as a
/// STIX timestamp (PyMISP reads it into a date-time), anything else as is.
fn observed_value(p: &Part) -> String {
    match p.kind {
        "datetime" => stix_time(p.value).unwrap_or_else(|| p.value.to_string()),
        _ => p.value.to_string(),
    }
}

/// The properties of the `vulnerability` SDO misp-stix writes for a `vulnerability`
/// object: the first `id` its name, every id an external reference (`cve` for a CVE),
/// `description` (else `summary`) its description, `references` URL references, the
/// other relations custom properties. `None` without an `id`.
/// The values of an SDO's parts by relation, as stix2 writes them ([`observed_value`]).
fn observed_groups(parts: &[Part]) -> Groups {
    let values: Vec<String> = parts.iter().map(observed_value).collect();
    Groups::of(
        parts
            .iter()
            .zip(&values)
            .map(|(p, v)| (p.relation, v.as_str())),
    )
}

pub(crate) fn vulnerability(parts: &[Part]) -> Option<Obj> {
    let mut all = observed_groups(parts);
    let ids = all.pop("id")?;
    let mut props = Obj::new();
    props.insert("name".into(), json!(ids[0]));
    let mut references: Vec<Value> = ids
        .iter()
        .map(|v| {
            let source = if v.starts_with("CVE") {
                "cve"
            } else {
                "vulnerability"
            };
            json!({"source_name": source, "external_id": v})
        })
        .collect();
    for feature in ["description", "summary"] {
        if let Some(v) = all.select_first(feature) {
            props.insert("description".into(), json!(v));
            break;
        }
    }
    if let Some(urls) = all.pop("references") {
        references.extend(urls.iter().map(|u| json!({"source_name": "url", "url": u})));
    }
    props.insert("external_references".into(), json!(references));
    all.custom(&mut props);
    Some(props)
}

/// One attribute of a MISP object read back from STIX (`accord export --format misp`).
pub(crate) struct Back {
    pub kind: String,
    pub relation: String,
    pub value: String,
    /// The attribute's own uuid, when a STIX object carries it (an address, a domain).
    pub uuid: Option<String>,
    /// An attachment's or a malware sample's content (base64).
    pub data: Option<String>,
    /// The attribute's comment (a rule's reference keeps it in STIX).
    pub comment: Option<String>,
}

fn back(kind: &str, relation: &str, value: &Value) -> Vec<Back> {
    let one = |v: &Value| match v {
        Value::String(s) => Some((s.clone(), None)),
        Value::Number(n) => Some((n.to_string(), None)),
        Value::Bool(b) => Some((if *b { "1" } else { "0" }.to_string(), None)),
        // A custom attachment `{"value", "data"}`.
        Value::Object(o) => o.get("value").and_then(Value::as_str).map(|v| {
            let data = o.get("data").and_then(Value::as_str).map(str::to_string);
            (v.to_string(), data)
        }),
        _ => None,
    };
    let values: Vec<(String, Option<String>)> = match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        v => one(v).into_iter().collect(),
    };
    values
        .into_iter()
        .map(|(value, data)| Back {
            kind: kind.to_string(),
            relation: relation.to_string(),
            value,
            uuid: None,
            data,
            comment: None,
        })
        .collect()
}

/// The attributes of a `pe` object from a `windows-pebinary-ext` (the inverse of
/// [`pe_extension`]), and those of the `pe-section` object of each of its sections.
pub(crate) fn pe_attributes(ext: &Obj) -> (Vec<Back>, Vec<Vec<Back>>) {
    let field = |o: &Obj, key: &str, kind: &str, relation: &str, out: &mut Vec<Back>| {
        if let Some(v) = o.get(key) {
            out.extend(back(kind, relation, v));
        }
    };
    let mut pe = Vec::new();
    field(ext, "pe_type", "text", "type", &mut pe);
    field(ext, "imphash", "imphash", "imphash", &mut pe);
    field(
        ext,
        "number_of_sections",
        "counter",
        "number-sections",
        &mut pe,
    );
    if let Some(header) = ext.get("optional_header").and_then(Value::as_object) {
        field(
            header,
            "address_of_entry_point",
            "text",
            "entrypoint-address",
            &mut pe,
        );
    }
    customs(ext, &mut pe, |r| match r {
        "compilation-timestamp" => "datetime",
        "original-filename" | "internal-filename" => "filename",
        "impfuzzy" => "impfuzzy",
        _ => "text",
    });
    let sections = ext
        .get("sections")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .map(|s| {
                    let mut out = Vec::new();
                    field(s, "name", "text", "name", &mut out);
                    field(s, "size", "size-in-bytes", "size-in-bytes", &mut out);
                    field(s, "entropy", "float", "entropy", &mut out);
                    hashes_back(s, &PE_SECTION_HASHES, &mut out);
                    customs(s, &mut out, |_| "text");
                    out
                })
                .collect()
        })
        .unwrap_or_default();
    (pe, sections)
}

/// A registry key's values that are `registry-key-value` objects of their own: several,
/// or one with custom relations (as [`registry_key_with_values`] writes them); each
/// one's attributes. `None` for one plain value (the key's own relations).
pub(crate) fn registry_values(key: &Obj) -> Option<Vec<Vec<Back>>> {
    let values: Vec<&Obj> = key
        .get("values")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(Value::as_object)
        .collect();
    let custom = values
        .iter()
        .any(|v| v.keys().any(|k| k.starts_with("x_misp_")));
    if values.len() < 2 && !custom {
        return None;
    }
    Some(
        values
            .into_iter()
            .map(|v| {
                let mut out = Vec::new();
                registry_value_back(v, &mut out);
                customs(v, &mut out, |_| "text");
                out
            })
            .collect(),
    )
}

/// A registry value's `data`, `data_type` and `name` back to their relations.
fn registry_value_back(v: &Obj, out: &mut Vec<Back>) {
    for (property, relation) in [
        ("data", "data"),
        ("data_type", "data-type"),
        ("name", "name"),
    ] {
        if let Some(x) = v.get(property) {
            out.extend(back("text", relation, x));
        }
    }
}

/// A file's `hashes` back to the hash relations (sha512/224 and sha512/256 are written
/// under the names of SHA-224 / SHA-256 and read back as those).
fn hashes_back(f: &Obj, relations: &[&str], out: &mut Vec<Back>) {
    let Some(h) = f.get("hashes").and_then(Value::as_object) else {
        return;
    };
    for relation in relations {
        let name = match *relation {
            "sha512/224" | "sha512/256" => None,
            "tlsh" => Some("TLSH"),
            r => crate::to_stix::hash_name(r).map(|(name, _)| name),
        };
        if let Some(v) = name.and_then(|n| h.get(sco_hash_key(n))) {
            out.extend(back(relation, relation, v));
        }
    }
}

/// The malware sample (the artifact the file's `content_ref` names, as
/// [`malware_sample`] writes it) and the attachments (the other artifacts) of a file,
/// back as attributes with their content and uuid.
fn file_contents(f: &Obj, scos: &[&Obj], out: &mut Vec<Back>) {
    let content = f.get("content_ref").and_then(Value::as_str);
    for s in scos {
        if s.get("type").and_then(Value::as_str) != Some("artifact") {
            continue;
        }
        let id = s.get("id").and_then(Value::as_str);
        let name = s
            .get("x_misp_filename")
            .or_else(|| s.get(&custom_name("malware-sample")))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (kind, value) = if id.is_some() && id == content {
            let md5 = s
                .get("hashes")
                .and_then(|h| h.get("MD5"))
                .and_then(Value::as_str);
            let value = md5.map_or(name.to_string(), |m| format!("{name}|{m}"));
            ("malware-sample", value)
        } else {
            ("attachment", name.to_string())
        };
        out.push(Back {
            kind: kind.into(),
            relation: kind.into(),
            value,
            uuid: id.and_then(|i| i.split("--").nth(1)).map(str::to_string),
            data: s
                .get("payload_bin")
                .and_then(Value::as_str)
                .map(str::to_string),
            comment: None,
        });
    }
}

/// The relations whose name has an underscore: the others fold `-` to `_`.
const UNDERSCORED: [&str; 9] = [
    "home_dir",
    "self_signed",
    "is_ca",
    "can_escalate_privs",
    "is_service_account",
    "first_login",
    "last_login",
    "password_last_changed",
    "dns_names",
];

/// The relation a custom property `x_misp_<folded>` carries.
fn unfold(property: &str) -> Option<String> {
    let folded = property.strip_prefix("x_misp_")?;
    if UNDERSCORED.contains(&folded) {
        return Some(folded.to_string());
    }
    Some(folded.replace('_', "-"))
}

/// The custom properties of an SCO as `text` attributes (or the type a template gives).
fn customs(sco: &Obj, out: &mut Vec<Back>, kind_of: impl Fn(&str) -> &'static str) {
    for (key, value) in sco {
        if let Some(relation) = unfold(key) {
            out.extend(back(kind_of(&relation), &relation, value));
        }
    }
}

fn with_uuid(mut b: Vec<Back>, id: Option<&Value>) -> Vec<Back> {
    let uuid = id
        .and_then(Value::as_str)
        .and_then(|i| i.split_once("--"))
        .map(|(_, u)| u.to_string());
    for x in &mut b {
        x.uuid.clone_from(&uuid);
    }
    b
}

/// The attributes of a MISP object of template `name` from the SCOs misp-stix writes
/// for it; `None` for a template [`convert`] does not map.
pub(crate) fn attributes_of(name: &str, uuid: &str, scos: &[&Obj]) -> Option<Vec<Back>> {
    let find = |t: &str| {
        scos.iter()
            .find(|s| s.get("type").and_then(Value::as_str) == Some(t))
            .copied()
    };
    let by_id = |id: &Value| scos.iter().find(|s| s.get("id") == Some(id)).copied();
    // The `src_ref`/`dst_ref` of a network-traffic back to `ip-<side>` (or
    // `hostname-<side>` for a domain name) with the uuid of the SCO; `dst` is the
    // relation of `dst_ref` where the template has its own (ip-port's `ip`).
    let network_refs_back = |nt: &Obj, dst: Option<&str>, out: &mut Vec<Back>| {
        for (side, ip_relation, host_relation) in [
            ("src_ref", "ip-src", "hostname-src"),
            ("dst_ref", "ip-dst", "hostname-dst"),
        ] {
            let Some(target) = nt.get(side).and_then(&by_id) else {
                continue;
            };
            let (kind, relation) = match target.get("type").and_then(Value::as_str) {
                Some("domain-name") => ("hostname", host_relation),
                _ => (ip_relation, ip_relation),
            };
            let relation = match dst {
                Some(dst) if side == "dst_ref" => dst,
                _ => relation,
            };
            out.extend(with_uuid(
                back(kind, relation, target.get("value").unwrap_or(&Value::Null)),
                target.get("id"),
            ));
        }
    };
    let mut out = Vec::new();
    let field = |o: &Obj, key: &str, kind: &str, relation: &str, out: &mut Vec<Back>| {
        if let Some(v) = o.get(key) {
            out.extend(back(kind, relation, v));
        }
    };
    match name {
        "asn" => {
            let a = find("autonomous-system")?;
            if let Some(n) = a.get("number").and_then(Value::as_u64) {
                out.extend(back("AS", "asn", &json!(format!("AS{n}"))));
            }
            field(a, "name", "text", "description", &mut out);
            customs(a, &mut out, |_| "text");
        }
        "credential" => {
            let a = find("user-account")?;
            field(a, "user_id", "text", "username", &mut out);
            field(a, "credential", "text", "password", &mut out);
            customs(a, &mut out, |_| "text");
        }
        "mutex" => {
            let a = find("mutex")?;
            field(a, "name", "text", "name", &mut out);
            customs(a, &mut out, |_| "text");
        }
        "url" => {
            let a = find("url")?;
            field(a, "value", "url", "url", &mut out);
            customs(a, &mut out, |r| match r {
                "domain" => "domain",
                "host" => "hostname",
                "ip" => "ip-dst",
                "port" => "port",
                _ => "text",
            });
        }
        "registry-key" => {
            let a = find("windows-registry-key")?;
            field(a, "key", "regkey", "key", &mut out);
            field(a, "modified_time", "datetime", "last-modified", &mut out);
            // Several values (or one with custom relations) are registry-key-value
            // objects of their own ([`registry_values`]); one value is the key's.
            if registry_values(a).is_none() {
                if let Some(v) = a
                    .get("values")
                    .and_then(Value::as_array)
                    .and_then(|v| v.first())
                    .and_then(Value::as_object)
                {
                    registry_value_back(v, &mut out);
                }
            }
            customs(a, &mut out, |_| "text");
        }
        "registry-key-value" => {
            let a = find("windows-registry-key")?;
            let v = a
                .get("values")
                .and_then(Value::as_array)
                .and_then(|v| v.first())
                .and_then(Value::as_object)?;
            registry_value_back(v, &mut out);
            customs(v, &mut out, |_| "text");
        }
        "x509" => {
            let a = find("x509-certificate")?;
            if let Some(h) = a.get("hashes").and_then(Value::as_object) {
                for (stix, relation) in [
                    ("MD5", "x509-fingerprint-md5"),
                    ("SHA-1", "x509-fingerprint-sha1"),
                    ("SHA-256", "x509-fingerprint-sha256"),
                ] {
                    field(h, stix, relation, relation, &mut out);
                }
            }
            field(a, "is_self_signed", "boolean", "self_signed", &mut out);
            for (relation, property) in X509_FEATURES {
                field(a, property, "text", relation, &mut out);
            }
            for (relation, property) in X509_TIMELINE {
                field(a, property, "datetime", relation, &mut out);
            }
            customs(a, &mut out, |_| "text");
        }
        "user-account" => {
            let a = find("user-account")?;
            for (relation, property) in USER_FEATURES {
                field(a, property, "text", relation, &mut out);
            }
            for (relation, property) in USER_TIMELINE {
                field(a, property, "datetime", relation, &mut out);
            }
            if let Some(ext) = a
                .get("extensions")
                .and_then(|e| e.get("unix-account-ext"))
                .and_then(Value::as_object)
            {
                for (relation, property) in USER_EXTENSION {
                    field(ext, property, "text", relation, &mut out);
                }
            }
            customs(a, &mut out, |_| "text");
        }
        "image" => {
            let f = find("file")?;
            field(f, "name", "filename", "filename", &mut out);
            if let Some(a) = f.get("content_ref").and_then(&by_id) {
                out.push(Back {
                    kind: "attachment".into(),
                    relation: "attachment".into(),
                    value: a
                        .get("x_misp_filename")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    uuid: a
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|i| i.split_once("--"))
                        .map(|(_, u)| u.to_string()),
                    data: a
                        .get("payload_bin")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    comment: None,
                });
                field(a, "x_misp_url", "url", "url", &mut out);
            }
            customs(f, &mut out, |r| {
                if r == "attachment" {
                    "attachment"
                } else {
                    "text"
                }
            });
        }
        "lnk" => {
            let f = find("file")?;
            field(f, "name", "filename", "filename", &mut out);
            hashes_back(f, &LNK_HASHES, &mut out);
            field(f, "size", "size-in-bytes", "size-in-bytes", &mut out);
            for (relation, property) in LNK_TIMES {
                field(f, property, "datetime", relation, &mut out);
            }
            if let Some(d) = f.get("parent_directory_ref").and_then(&by_id) {
                // A path or, without one, a full path: as a path it converts the same.
                out.extend(with_uuid(
                    back("text", "path", d.get("path").unwrap_or(&Value::Null)),
                    d.get("id"),
                ));
            }
            for relation in ["path", "fullpath"] {
                // misp-stix writes a path it leaves custom as `[path, uuid]`.
                let pairs = match f.get(&custom_name(relation)) {
                    Some(Value::Array(items)) if items.first().is_some_and(Value::is_string) => {
                        vec![items.clone()]
                    }
                    Some(Value::Array(items)) => {
                        items.iter().filter_map(|i| i.as_array().cloned()).collect()
                    }
                    _ => Vec::new(),
                };
                for pair in pairs {
                    if let [path, Value::String(a_uuid)] = &pair[..] {
                        out.extend(with_uuid(
                            back("text", relation, path),
                            Some(&json!(format!("directory--{a_uuid}"))),
                        ));
                    }
                }
            }
            file_contents(f, scos, &mut out);
            let mut rest = f.clone();
            rest.remove(&custom_name("path"));
            rest.remove(&custom_name("fullpath"));
            customs(&rest, &mut out, |r| match r {
                "malware-sample" => "malware-sample",
                _ => "text",
            });
        }
        "pe" => {
            let ext = find("file")?
                .get("extensions")
                .and_then(|e| e.get("windows-pebinary-ext"))
                .and_then(Value::as_object)?;
            out.extend(pe_attributes(ext).0);
        }
        "netflow" => {
            let nt = find("network-traffic")?;
            for (side, end) in [("src_ref", "src"), ("dst_ref", "dst")] {
                let Some(address) = nt.get(side).and_then(&by_id) else {
                    continue;
                };
                out.extend(with_uuid(
                    back(
                        &format!("ip-{end}"),
                        &format!("ip-{end}"),
                        address.get("value").unwrap_or(&Value::Null),
                    ),
                    address.get("id"),
                ));
                let system = address
                    .get("belongs_to_refs")
                    .and_then(Value::as_array)
                    .and_then(|r| r.first())
                    .and_then(&by_id);
                if let Some(a) = system {
                    out.extend(with_uuid(
                        back(
                            "AS",
                            &format!("{end}-as"),
                            a.get("number").unwrap_or(&Value::Null),
                        ),
                        a.get("id"),
                    ));
                }
            }
            let flags = nt
                .get("extensions")
                .and_then(|e| e.get("tcp-ext"))
                .and_then(|t| t.get("src_flags_hex"))
                .and_then(Value::as_str);
            // The TCP of the flags' extension, then the object's protocol.
            let mut protocols: Vec<String> = nt
                .get("protocols")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(f) = flags {
                out.extend(back("text", "tcp-flags", &json!(f)));
                if let Some(i) = protocols.iter().position(|p| p == "tcp") {
                    protocols.remove(i);
                }
            }
            if let Some(p) = protocols.first() {
                out.extend(back("text", "protocol", &json!(p.to_uppercase())));
            }
            for (relation, property) in NETFLOW_INTEGERS {
                let kind = if relation.ends_with("port") {
                    "port"
                } else {
                    "counter"
                };
                field(nt, property, kind, relation, &mut out);
            }
            for (relation, property) in NETFLOW_TIMES {
                field(nt, property, "datetime", relation, &mut out);
            }
            customs(nt, &mut out, |r| match r {
                "src-as" | "dst-as" => "AS",
                _ => "text",
            });
        }
        "ip-port" | "network-connection" => {
            let nt = find("network-traffic")?;
            network_refs_back(nt, (name == "ip-port").then_some("ip"), &mut out);
            field(nt, "src_port", "port", "src-port", &mut out);
            field(nt, "dst_port", "port", "dst-port", &mut out);
            if name == "ip-port" {
                field(nt, "start", "datetime", "first-seen", &mut out);
                field(nt, "end", "datetime", "last-seen", &mut out);
            } else {
                field(nt, "start", "datetime", "first-packet-seen", &mut out);
                let protocols: Vec<String> = nt
                    .get("protocols")
                    .and_then(Value::as_array)
                    .map(|p| {
                        p.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_uppercase)
                            .collect()
                    })
                    .unwrap_or_default();
                if protocols != ["TCP"] {
                    for (p, relation) in protocols.iter().zip([
                        "layer3-protocol",
                        "layer4-protocol",
                        "layer7-protocol",
                    ]) {
                        out.extend(back("text", relation, &json!(p)));
                    }
                }
            }
            customs(nt, &mut out, |r| match r {
                "domain" => "domain",
                "hostname" => "hostname",
                _ => "text",
            });
        }
        n if ACCOUNTS.iter().any(|(t, _, _)| *t == n) => {
            let (_, natives, _) = ACCOUNTS.iter().find(|(t, _, _)| *t == n)?;
            let a = find("user-account")?;
            for (relation, property) in *natives {
                field(a, property, "text", relation, &mut out);
            }
            customs(a, &mut out, |r| if r == "link" { "link" } else { "text" });
        }
        "email" => {
            let m = find("email-message")?;
            let address = |id: &Value, relation: &str, out: &mut Vec<Back>| {
                if let Some(a) = by_id(id) {
                    out.extend(with_uuid(
                        back(
                            if relation == "from" {
                                "email-src"
                            } else {
                                "email-dst"
                            },
                            relation,
                            a.get("value").unwrap_or(&Value::Null),
                        ),
                        a.get("id"),
                    ));
                    if let Some(n) = a.get("display_name") {
                        let kind = if relation == "from" {
                            "email-src-display-name"
                        } else {
                            "email-dst-display-name"
                        };
                        out.extend(back(kind, &format!("{relation}-display-name"), n));
                    }
                }
            };
            if let Some(id) = m.get("from_ref") {
                address(id, "from", &mut out);
            }
            for feature in ["to", "cc", "bcc"] {
                for id in m
                    .get(format!("{feature}_refs").as_str())
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    address(id, feature, &mut out);
                }
            }
            field(m, "subject", "email-subject", "subject", &mut out);
            field(m, "message_id", "email-message-id", "message-id", &mut out);
            field(m, "date", "datetime", "send-date", &mut out);
            if let Some(h) = m.get("additional_header_fields").and_then(Value::as_object) {
                field(h, "Reply-To", "email-reply-to", "reply-to", &mut out);
                field(h, "X-Mailer", "email-x-mailer", "x-mailer", &mut out);
            }
            for part in m
                .get("body_multipart")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(target) = part.get("body_raw_ref").and_then(&by_id) else {
                    continue;
                };
                let relation = part
                    .get("content_disposition")
                    .and_then(Value::as_str)
                    .and_then(|d| d.split(';').next())
                    .unwrap_or("attachment");
                let value = target
                    .get("name")
                    .or_else(|| target.get("x_misp_filename"))
                    .unwrap_or(&Value::Null);
                out.extend(with_uuid(
                    back("email-attachment", relation, value),
                    target.get("id"),
                ));
            }
            customs(m, &mut out, |r| match r {
                "email-body" => "email-body",
                "mime-boundary" => "email-mime-boundary",
                _ => "text",
            });
        }
        "android-app" | "cpe-asset" => {
            let a = find("software")?;
            let natives: &[(&str, &str)] = if name == "android-app" {
                &[("name", "name")]
            } else {
                &[
                    ("cpe", "cpe"),
                    ("language", "languages"),
                    ("product", "name"),
                    ("vendor", "vendor"),
                    ("version", "version"),
                ]
            };
            for (relation, property) in natives {
                let kind = if *relation == "cpe" { "cpe" } else { "text" };
                field(a, property, kind, relation, &mut out);
            }
            customs(a, &mut out, |r| match r {
                "domain" => "domain",
                "certificate" => "sha1",
                _ => "text",
            });
        }
        "process" => {
            let own = format!("process--{uuid}");
            let p = scos
                .iter()
                .find(|s| s.get("id").and_then(Value::as_str) == Some(own.as_str()))
                .copied()?;
            let parent = p.get("parent_ref").and_then(&by_id);
            if let Some(parent) = parent {
                let parent_id = parent.get("id");
                let has_pid = parent.get("pid").is_some();
                if let Some(v) = parent.get("pid") {
                    out.extend(with_uuid(back("text", "parent-pid", v), parent_id));
                }
                if let Some(v) = parent.get("command_line") {
                    let b = back("text", "parent-command-line", v);
                    out.extend(if has_pid { b } else { with_uuid(b, parent_id) });
                }
                if let Some(f) = parent.get("image_ref").and_then(&by_id) {
                    out.extend(with_uuid(
                        back(
                            "filename",
                            "parent-image",
                            f.get("name").unwrap_or(&Value::Null),
                        ),
                        f.get("id"),
                    ));
                }
                let mut rest = Vec::new();
                customs(parent, &mut rest, |_| "text");
                for mut b in rest {
                    b.relation = format!("parent-{}", b.relation);
                    out.push(b);
                }
            }
            for child in p
                .get("child_refs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(&by_id)
            {
                if let Some(v) = child.get("pid") {
                    out.extend(with_uuid(back("text", "child-pid", v), child.get("id")));
                }
            }
            if let Some(f) = p.get("image_ref").and_then(&by_id) {
                out.extend(with_uuid(
                    back("filename", "image", f.get("name").unwrap_or(&Value::Null)),
                    f.get("id"),
                ));
            }
            for (relation, property) in PROCESS_FEATURES {
                let kind = match relation {
                    "creation-time" => "datetime",
                    "hidden" => "boolean",
                    _ => "text",
                };
                if relation == "hidden" {
                    if let Some(b) = p.get(property).and_then(Value::as_bool) {
                        out.extend(back(
                            kind,
                            relation,
                            &json!(if b { "True" } else { "False" }),
                        ));
                    }
                    continue;
                }
                field(p, property, kind, relation, &mut out);
            }
            customs(p, &mut out, |_| "text");
        }
        "network-socket" => {
            let nt = find("network-traffic")?;
            network_refs_back(nt, None, &mut out);
            field(nt, "src_port", "port", "src-port", &mut out);
            field(nt, "dst_port", "port", "dst-port", &mut out);
            if let Some(p) = nt
                .get("protocols")
                .and_then(Value::as_array)
                .and_then(|p| p.first())
            {
                out.extend(back("text", "protocol", p));
            }
            if let Some(ext) = nt
                .get("extensions")
                .and_then(|e| e.get("socket-ext"))
                .and_then(Value::as_object)
            {
                field(ext, "address_family", "text", "address-family", &mut out);
                field(ext, "socket_type", "text", "socket-type", &mut out);
                for state in ["blocking", "listening"] {
                    if ext.get(format!("is_{state}").as_str()) == Some(&json!(true)) {
                        out.extend(back("text", "state", &json!(state)));
                    }
                }
            }
            customs(nt, &mut out, |r| match r {
                "hostname-src" | "hostname-dst" => "hostname",
                _ => "text",
            });
        }
        "http-request" => {
            let nt = find("network-traffic")?;
            for (side, relation) in [("src_ref", "ip-src"), ("dst_ref", "ip-dst")] {
                if let Some(t) = nt.get(side).and_then(&by_id) {
                    if t.get("type").and_then(Value::as_str) == Some("domain-name") {
                        continue;
                    }
                    out.extend(with_uuid(
                        back(relation, relation, t.get("value").unwrap_or(&Value::Null)),
                        t.get("id"),
                    ));
                }
            }
            if let Some(d) = find("domain-name") {
                out.extend(with_uuid(
                    back("hostname", "host", d.get("value").unwrap_or(&Value::Null)),
                    d.get("id"),
                ));
            }
            if let Some(ext) = nt
                .get("extensions")
                .and_then(|e| e.get("http-request-ext"))
                .and_then(Value::as_object)
            {
                field(ext, "request_method", "http-method", "method", &mut out);
                if let Some(v) = ext.get("request_value").and_then(Value::as_str) {
                    let relation = if v.starts_with('/') { "uri" } else { "url" };
                    out.extend(back(relation, relation, &json!(v)));
                }
                if let Some(h) = ext.get("request_header").and_then(Value::as_object) {
                    for (relation, header) in HTTP_HEADERS {
                        let kind = if relation == "user-agent" {
                            "user-agent"
                        } else {
                            "text"
                        };
                        field(h, header, kind, relation, &mut out);
                    }
                }
            }
            customs(nt, &mut out, |r| match r {
                "url" => "url",
                "uri" => "uri",
                _ => "text",
            });
        }
        "file" => {
            let f = find("file")?;
            hashes_back(f, &FILE_MAIN_HASHES, &mut out);
            for (relation, property) in FILE_NATIVES {
                let kind = match relation {
                    "filename" => "filename",
                    "size-in-bytes" => "size-in-bytes",
                    "mime-type" => "mime-type",
                    _ => "text",
                };
                field(f, property, kind, relation, &mut out);
            }
            for (relation, property) in FILE_TIMES {
                field(f, property, "datetime", relation, &mut out);
            }
            if let Some(d) = f.get("parent_directory_ref").and_then(&by_id) {
                out.extend(with_uuid(
                    back("text", "path", d.get("path").unwrap_or(&Value::Null)),
                    d.get("id"),
                ));
            }
            file_contents(f, scos, &mut out);
            customs(f, &mut out, |r| match r {
                "attachment" => "attachment",
                "malware-sample" => "malware-sample",
                _ => "text",
            });
        }
        "domain-ip" => {
            let own = format!("domain-name--{uuid}");
            for s in scos {
                let id = s.get("id").and_then(Value::as_str).unwrap_or_default();
                match s.get("type").and_then(Value::as_str) {
                    Some("ipv4-addr" | "ipv6-addr") => out.extend(with_uuid(
                        back("ip-dst", "ip", s.get("value").unwrap_or(&Value::Null)),
                        s.get("id"),
                    )),
                    Some("domain-name") if id == own => {
                        field(s, "value", "domain", "domain", &mut out);
                        customs(s, &mut out, |r| match r {
                            "hostname" => "hostname",
                            "port" => "port",
                            "domain" => "domain",
                            _ => "text",
                        });
                    }
                    Some("domain-name") => out.extend(with_uuid(
                        back("domain", "domain", s.get("value").unwrap_or(&Value::Null)),
                        s.get("id"),
                    )),
                    _ => {}
                }
            }
        }
        _ => return None,
    }
    Some(out)
}

/// The MISP type of a relation of an identity template.
fn identity_kind(relation: &str) -> &'static str {
    match relation {
        "website" | "link" => "link",
        "e-mail" => "email-src",
        "email-address" => "target-email",
        "fax-number" | "phone-number" => "phone-number",
        "first-name" => "first-name",
        "middle-name" => "middle-name",
        "last-name" => "last-name",
        "full-name" => "full-name",
        _ => "text",
    }
}

/// The attributes of an object of an identity template from its `identity` (the
/// inverse of [`identity`]): the natives (the name as `full-name`, or `name`), each
/// value of `contact_information`, the custom properties.
fn identity_attributes(o: &Obj, t: &IdentityTemplate, out: &mut Vec<Back>) {
    // The name goes back as `full-name`: converted again it is the name whether it
    // was one or joined from the parts (the parts then went into it, none is custom).
    for (relation, property) in t.natives {
        if let Some(v) = o.get(*property) {
            out.extend(back(identity_kind(relation), relation, v));
        }
    }
    if let Some(c) = o.get("contact_information").and_then(Value::as_str) {
        for entry in c.split(" / ") {
            let Some((relation, values)) = entry.split_once(": ") else {
                continue;
            };
            if t.contact.contains(&relation) {
                for v in values.split("; ") {
                    out.extend(back(identity_kind(relation), relation, &json!(v)));
                }
            }
        }
    }
    customs(o, out, |r| {
        if Some(r) == t.data {
            "attachment"
        } else {
            identity_kind(r)
        }
    });
}

/// The attributes of an object misp-stix writes as an SDO ([`sdo`]), from that SDO.
pub(crate) fn sdo_attributes(name: &str, o: &Obj) -> Option<Vec<Back>> {
    let mut out = Vec::new();
    let field = |key: &str, kind: &str, relation: &str, out: &mut Vec<Back>| {
        if let Some(v) = o.get(key) {
            out.extend(back(kind, relation, v));
        }
    };
    match name {
        "vulnerability" => return Some(vulnerability_attributes(o)),
        "attack-pattern" => {
            field("name", "text", "name", &mut out);
            field("description", "text", "summary", &mut out);
            references_back(o, "text", &mut out);
            customs(o, &mut out, |r| {
                if r == "related-weakness" {
                    "weakness"
                } else {
                    "text"
                }
            });
        }
        "employee" => identity_attributes(o, &EMPLOYEE, &mut out),
        "organization" => identity_attributes(o, &ORGANIZATION, &mut out),
        "person" => identity_attributes(o, &PERSON, &mut out),
        "legal-entity" => identity_attributes(o, &LEGAL_ENTITY, &mut out),
        "news-agency" => identity_attributes(o, &NEWS_AGENCY, &mut out),
        "course-of-action" => {
            field("name", "text", "name", &mut out);
            field("description", "text", "description", &mut out);
            customs(o, &mut out, |_| "text");
        }
        "geolocation" => {
            for (relation, property) in GEOLOCATION {
                let kind = if matches!(relation, "latitude" | "longitude") {
                    "float"
                } else {
                    "text"
                };
                field(property, kind, relation, &mut out);
            }
            if let Some(p) = o.get("precision").and_then(Value::as_f64) {
                out.extend(back("float", "accuracy-radius", &json!(p / 1000.0)));
            }
            customs(o, &mut out, |_| "text");
        }
        "script" => {
            field("name", "filename", "filename", &mut out);
            field("description", "text", "comment", &mut out);
            field("implementation_languages", "text", "language", &mut out);
            customs(o, &mut out, |r| {
                if r == "script-as-attachment" {
                    "attachment"
                } else {
                    "text"
                }
            });
        }
        "sigma" | "suricata" | "yara" => {
            let kind = o
                .get("pattern_type")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_string();
            out.extend(back(&kind, name, o.get("pattern").unwrap_or(&Value::Null)));
            field("description", "text", "comment", &mut out);
            let rule_name = format!("{name}-rule-name");
            field("name", "text", &rule_name, &mut out);
            if name != "sigma" {
                field("pattern_version", "text", "version", &mut out);
            }
            let reference = if name == "suricata" {
                "ref"
            } else {
                "reference"
            };
            if let Some(refs) = o.get("external_references").and_then(Value::as_array) {
                for r in refs {
                    let description = r.get("description").and_then(Value::as_str);
                    let url = r.get("url").unwrap_or(&Value::Null);
                    out.extend(back("link", reference, url).into_iter().map(|b| Back {
                        comment: description.map(str::to_string),
                        ..b
                    }));
                }
            }
            customs(o, &mut out, |_| "text");
        }
        _ => return None,
    }
    Some(out)
}

/// The attributes of a `vulnerability` object from the vulnerability SDO.
/// The `external_references` of an SDO back to attributes: an `external_id` as `id`
/// (of type `id_kind`), else a `url` as a `references` link.
fn references_back(o: &Obj, id_kind: &str, out: &mut Vec<Back>) {
    for r in o
        .get("external_references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = r.get("external_id") {
            out.extend(back(id_kind, "id", id));
        } else if let Some(url) = r.get("url") {
            out.extend(back("link", "references", url));
        }
    }
}

pub(crate) fn vulnerability_attributes(v: &Obj) -> Vec<Back> {
    let mut out = Vec::new();
    references_back(v, "vulnerability", &mut out);
    if let Some(d) = v.get("description") {
        out.extend(back("text", "description", d));
    }
    customs(v, &mut out, |r| match r {
        "created" | "published" | "modified" => "datetime",
        "cvss-score" => "float",
        _ => "text",
    });
    out
}

/// A MISP category for an object attribute of type `kind`.
pub(crate) fn category_of(kind: &str, meta: &str) -> &'static str {
    match kind {
        "ip-src" | "ip-dst" | "domain" | "hostname" | "port" | "url" | "AS" => "Network activity",
        "vulnerability" | "link" => "External analysis",
        _ if meta == "network" => "Network activity",
        _ if meta == "file" => "Payload delivery",
        _ => "Other",
    }
}

/// The forms a value of an object attribute takes in the indicator's pattern (as
/// [`crate::from_stix`]'s literals read them back): as is, lower-cased (protocols),
/// an AS number's digits, a date-time as Python prints it, a registry value sanitised.
pub(crate) fn pattern_forms(kind: &str, value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string(), value.to_lowercase()];
    if kind == "AS" {
        if let Some(n) = as_number(value) {
            forms.push(n.to_string());
        }
    }
    if let Some(t) = python_datetime(value) {
        forms.push(t);
    }
    let sanitised = sanitise_registry(&escape(value));
    let mut unescaped = String::new();
    let mut chars = sanitised.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                unescaped.push(n);
            }
        } else {
            unescaped.push(c);
        }
    }
    forms.push(unescaped);
    forms
}

/// misp-stix's `_get_matching_email_display_name`: the display name of an address,
/// matched on the words of the name, else on a word of the address or the initials.
fn matching_display_name(names: &[String], address: &str) -> Option<usize> {
    for (i, name) in names.iter().enumerate() {
        let lower = name.to_lowercase();
        if lower.split(' ').all(|w| address.contains(w)) {
            return Some(i);
        }
    }
    let folded: String = address
        .to_lowercase()
        .chars()
        .map(|c| {
            if matches!(c, '_' | '.' | '@' | '-') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = folded.split(' ').collect();
    for (i, name) in names.iter().enumerate() {
        let lower = name.to_lowercase();
        if words.iter().any(|w| lower.contains(w)) {
            return Some(i);
        }
        let initials: String = lower.split(' ').filter_map(|w| w.chars().next()).collect();
        if initials.chars().count() > 1 && address.contains(&initials) {
            return Some(i);
        }
    }
    None
}

/// The display names of the addresses of `feature` (taken out of `feature-display-name`).
fn display_names(groups: &mut Groups, feature: &str) -> Vec<(String, String)> {
    let display = format!("{feature}-display-name");
    let mut out = Vec::new();
    let addresses: Vec<String> = groups
        .0
        .iter()
        .find(|(r, _)| r == feature)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let Some(i) = groups.0.iter().position(|(r, _)| *r == display) else {
        return out;
    };
    for address in addresses {
        let names = &mut groups.0[i].1;
        if let Some(n) = matching_display_name(names, &address) {
            out.push((address, names.remove(n)));
        }
        if groups.0[i].1.is_empty() {
            groups.0.remove(i);
            break;
        }
    }
    out
}

const EMAIL_PATTERN: [(&str, &str); 14] = [
    ("bcc", "bcc_refs.value"),
    ("bcc-display-name", "bcc_refs.display_name"),
    ("cc", "cc_refs.value"),
    ("cc-display-name", "cc_refs.display_name"),
    ("email-body", "body"),
    ("from", "from_ref.value"),
    ("from-display-name", "from_ref.display_name"),
    ("message-id", "message_id"),
    ("reply-to", "additional_header_fields.reply_to"),
    ("send-date", "date"),
    ("subject", "subject"),
    ("to", "to_refs.value"),
    ("to-display-name", "to_refs.display_name"),
    ("x-mailer", "additional_header_fields.x_mailer"),
];

/// `email`: an `email-message--<object uuid>` with its addresses
/// (`email-addr--<attribute uuid>`, with the display names matched to them),
/// attachments (`file`, or `artifact` with the content), subject, message id, headers.
fn email(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let uuid_of = |relation: &str, value: &str, used: &mut Vec<usize>| {
        let i = parts_in
            .iter()
            .enumerate()
            .position(|(i, p)| p.relation == relation && p.value == value && !used.contains(&i))?;
        used.push(i);
        parts_in[i].uuid.map(str::to_string)
    };
    let mut used = Vec::new();
    let mut msg = Obj::new();
    msg.insert("is_multipart".into(), json!(false));
    let mut scos = Vec::new();
    if all.has("from") {
        let names = display_names(&mut all, "from");
        let value = all.select_first("from")?;
        let a_uuid = uuid_of("from", &value, &mut used)?;
        let mut addr = json!({"value": value});
        if let Some((_, n)) = names.iter().find(|(a, _)| *a == value) {
            addr["display_name"] = json!(n);
        }
        scos.push(sco("email-addr", &a_uuid, addr));
        msg.insert("from_ref".into(), json!(format!("email-addr--{a_uuid}")));
    }
    for feature in ["to", "cc", "bcc"] {
        if !all.has(feature) {
            continue;
        }
        let names = display_names(&mut all, feature);
        let mut refs = Vec::new();
        for value in all.pop(feature).unwrap_or_default() {
            let a_uuid = uuid_of(feature, &value, &mut used)?;
            let mut addr = json!({"value": value});
            if let Some((_, n)) = names.iter().find(|(a, _)| *a == value) {
                addr["display_name"] = json!(n);
            }
            scos.push(sco("email-addr", &a_uuid, addr));
            refs.push(format!("email-addr--{a_uuid}"));
        }
        msg.insert(format!("{feature}_refs"), json!(refs));
    }
    let mut body = Vec::new();
    for feature in ["attachment", "screenshot"] {
        if all.pop(feature).is_none() {
            continue;
        }
        for p in parts_in.iter().filter(|p| p.relation == feature) {
            let a_uuid = p.uuid?;
            let id = match p.data.filter(|d| !d.is_empty()) {
                Some(d) => {
                    scos.push(sco(
                        "artifact",
                        a_uuid,
                        json!({"payload_bin": d, "x_misp_filename": p.value}),
                    ));
                    format!("artifact--{a_uuid}")
                }
                None => {
                    scos.push(sco("file", a_uuid, json!({"name": p.value})));
                    format!("file--{a_uuid}")
                }
            };
            body.push(json!({
                "content_disposition": format!("{feature}; filename='{}'", p.value),
                "body_raw_ref": id
            }));
        }
    }
    if !body.is_empty() {
        msg.insert("body_multipart".into(), json!(body));
        msg.insert("is_multipart".into(), json!(true));
    }
    for (relation, property) in [("message-id", "message_id"), ("subject", "subject")] {
        if let Some(v) = all.select_first(relation) {
            msg.insert(property.into(), json!(v));
        }
    }
    let mut headers = Obj::new();
    for (relation, header) in [("reply-to", "Reply-To"), ("x-mailer", "X-Mailer")] {
        if let Some(v) = all.select_first(relation) {
            headers.insert(header.into(), json!(v));
        }
    }
    if !headers.is_empty() {
        msg.insert("additional_header_fields".into(), Value::Object(headers));
    }
    if let Some(v) = all.select_first("send-date") {
        match stix_time(&v) {
            Some(t) => {
                msg.insert("date".into(), json!(t));
            }
            None => all.0.push(("send-date".into(), vec![v])),
        }
    }
    all.custom(&mut msg);
    let prefix = "email-message";
    let mut parts = Vec::new();
    for feature in ["to", "cc", "bcc"] {
        if !ids.has(feature) {
            continue;
        }
        let names = display_names(&mut ids, feature);
        let mut n = 0;
        for value in ids.pop(feature).unwrap_or_default() {
            parts.push(format!("{prefix}:{feature}_refs[{n}].value = '{value}'"));
            if let Some((_, name)) = names.iter().find(|(a, _)| *a == value) {
                parts.push(format!(
                    "{prefix}:{feature}_refs[{n}].display_name = '{name}'"
                ));
            }
            n += 1;
        }
        if let Some(rest) = ids.pop(&format!("{feature}-display-name")) {
            for name in rest {
                parts.push(format!(
                    "{prefix}:{feature}_refs[{n}].display_name = '{name}'"
                ));
                n += 1;
            }
        }
    }
    for (relation, property) in EMAIL_PATTERN {
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(format!("{prefix}:{property} = '{v}'"));
            }
        }
    }
    let mut n = 0;
    for feature in ["attachment", "screenshot"] {
        if ids.pop(feature).is_none() {
            continue;
        }
        for p in parts_in
            .iter()
            .filter(|p| p.relation == feature && p.in_pattern)
        {
            let f = format!("body_multipart[{n}]");
            if let Some(d) = p.data.filter(|d| !d.is_empty()) {
                parts.push(format!(
                    "{prefix}:{f}.body_raw_ref.payload_bin = '{}'",
                    escape(d)
                ));
            }
            parts.push(format!(
                "{prefix}:{f}.body_raw_ref.name = '{}'",
                escape(p.value)
            ));
            parts.push(format!("{prefix}:{f}.content_disposition = '{feature}'"));
            n += 1;
        }
    }
    ids.custom_pattern(prefix, &mut parts);
    Some(Ok(observable_with(prefix, uuid, msg, scos, &parts)))
}

/// The social-network account templates: (template, native relations → properties;
/// the relations with an attachment).
type AccountTemplate = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);
const ACCOUNTS: [AccountTemplate; 7] = [
    (
        "facebook-account",
        &[("account-id", "user_id"), ("account-name", "account_login")],
        &["attachment", "user-avatar"],
    ),
    (
        "github-user",
        &[
            ("id", "user_id"),
            ("user-fullname", "display_name"),
            ("username", "account_login"),
        ],
        &["profile-image"],
    ),
    (
        "gitlab-user",
        &[
            ("id", "user_id"),
            ("name", "display_name"),
            ("username", "account_login"),
        ],
        &[],
    ),
    (
        "parler-account",
        &[("account-id", "user_id"), ("account-name", "account_login")],
        &["attachment", "cover-photo", "profile-photo"],
    ),
    (
        "reddit-account",
        &[("account-id", "user_id"), ("account-name", "account_login")],
        &["account-avatar", "attachment"],
    ),
    (
        "telegram-account",
        &[("id", "user_id"), ("username", "account_login")],
        &[],
    ),
    (
        "twitter-account",
        &[
            ("displayed-name", "display_name"),
            ("id", "user_id"),
            ("name", "account_login"),
        ],
        &["attachment", "profile-banner", "profile-image"],
    ),
];

/// A social-network account: a `user-account` with `account_type` the network
/// (`facebook`, `github`, …), the template's natives, the rest custom properties. An
/// attachment with content (an avatar) is not mapped: the object stays `x-misp-object`.
fn account(name: &str, uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let (_, natives, data_fields) = ACCOUNTS.iter().find(|(n, _, _)| *n == name)?;
    if parts_in
        .iter()
        .any(|p| data_fields.contains(&p.relation) && p.data.is_some_and(|d| !d.is_empty()))
    {
        return None;
    }
    let single: Vec<&str> = natives.iter().map(|(r, _)| *r).collect();
    let network = name.split('-').next().unwrap_or(name);
    let mut props = Obj::new();
    props.insert("account_type".into(), json!(network));
    let repeated = all.split(Some(&single));
    all.natives(natives, &mut props);
    all.restore(repeated);
    all.custom(&mut props);
    let prefix = "user-account";
    let mut parts = vec![format!("{prefix}:account_type = '{network}'")];
    let repeated = ids.split(Some(&single));
    ids.native_pattern(prefix, natives, &mut parts);
    ids.restore(repeated);
    ids.custom_pattern(prefix, &mut parts);
    Some(Ok(observable(prefix, uuid, props, parts)))
}

const FILE_MAIN_HASHES: [&str; 14] = [
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha3-224",
    "sha3-256",
    "sha3-384",
    "sha3-512",
    "ssdeep",
    "tlsh",
    "sha512/224",
    "sha512/256",
];
const FILE_PATTERN_HASHES: [&str; 17] = [
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512/224",
    "sha512/256",
    "ssdeep",
    "authentihash",
    "imphash",
    "sha3-224",
    "sha3-256",
    "sha3-384",
    "sha3-512",
    "tlsh",
    "vhash",
];
const FILE_NATIVES: [(&str, &str); 4] = [
    ("filename", "name"),
    ("file-encoding", "name_enc"),
    ("mime-type", "mime_type"),
    ("size-in-bytes", "size"),
];
const FILE_TIMES: [(&str, &str); 3] = [
    ("access-time", "atime"),
    ("creation-time", "ctime"),
    ("modification-time", "mtime"),
];

/// A hash of a file object: its STIX name and the value (hexadecimal lower-cased),
/// or `None` when the value is not one of that algorithm (it stays custom).
fn file_hash(relation: &str, value: &str) -> Option<(&'static str, String)> {
    // A tlsh attribute alone is no file hash for misp-stix; in a file object it is.
    if relation == "tlsh" {
        return Some(("TLSH", value.to_string()));
    }
    check_hash(relation, value).ok()
}

/// The first value of a hash relation as misp-stix's `_create_hash_pattern` compares
/// it: without the quotes and backslashes around it.
fn pattern_hash(ids: &Groups, relation: &str) -> Option<String> {
    let value = ids.first(relation)?;
    Some(
        value
            .trim_matches('"')
            .trim_matches('\'')
            .trim_matches('\\')
            .to_string(),
    )
}

/// The `hashes` of a file from the first value of each hash relation that is one of
/// its algorithm (the others stay custom).
fn file_hashes(all: &mut Groups, relations: &[&str], props: &mut Obj) {
    let mut hashes = Obj::new();
    for relation in relations {
        let Some(value) = all.first(relation) else {
            continue;
        };
        if let Some((name, hex)) = file_hash(relation, &value) {
            all.pop(relation);
            hashes.insert(sco_hash_key(name).into(), json!(hex));
        }
    }
    if !hashes.is_empty() {
        props.insert("hashes".into(), Value::Object(hashes));
    }
}

/// The pattern comparisons `prefix:hashes.… = '…'` of the first value of each hash
/// relation that is one of its algorithm (misp-stix's `_create_hash_pattern`).
fn hash_patterns(ids: &mut Groups, relations: &[&str], prefix: &str, parts: &mut Vec<String>) {
    for relation in relations {
        let Some(value) = pattern_hash(ids, relation) else {
            continue;
        };
        let name = match *relation {
            "authentihash" => Some(("AUTHENTIHASH", value.clone())),
            "imphash" => Some(("IMPHASH", value.clone())),
            r => file_hash(r, &value),
        };
        if let Some((name, _)) = name {
            ids.pop(relation);
            parts.push(format!("{} = '{value}'", hash_path(prefix, name)));
        }
    }
}

/// The `directory` of a file's path attribute (id its attribute's uuid) and the
/// file's `parent_directory_ref` to it; `None` when the attribute has no uuid.
fn directory(
    parts: &[Part],
    relation: &str,
    path: &str,
    props: &mut Obj,
    scos: &mut Vec<Value>,
) -> Option<()> {
    let a_uuid = part_uuid(parts, relation, path)?;
    scos.push(sco("directory", a_uuid, json!({"path": path})));
    props.insert(
        "parent_directory_ref".into(),
        json!(format!("directory--{a_uuid}")),
    );
    Some(())
}

/// `file`: a `file--<object uuid>` with its hashes, name, encoding, MIME type, size and
/// times, a `directory--<attribute uuid>` for the path, its first malware sample (or,
/// without one, its first attachment) an `artifact`, the other samples and attachments
/// custom `{"value", "data"}` (as misp-stix), the other relations custom properties.
fn file(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let of = |relation: &str| -> Vec<&Part> {
        parts_in.iter().filter(|p| p.relation == relation).collect()
    };
    let (samples, attachments) = (of("malware-sample"), of("attachment"));
    let sample = samples.first().copied();
    let attachment = attachments.first().copied();
    let with_data = |p: &&Part| p.data.is_some_and(|d| !d.is_empty());
    let mut scos = Vec::new();
    let mut props = Obj::new();
    // The samples and attachments written as custom `{"value", "data"}` (misp-stix's
    // leftovers of `_select_single_feature`), for the properties and the pattern.
    let mut extra_samples: Vec<&Part> = samples.iter().skip(1).copied().collect();
    let mut extra_attachments: Vec<&Part> = Vec::new();
    if let Some(s) = sample {
        all.pop("malware-sample");
        sample_content(s, &mut props, &mut scos, &mut extra_samples)?;
        if !attachments.is_empty() {
            all.pop("attachment");
            extra_attachments = attachments.clone();
        }
    } else if let Some(a) = attachment.filter(with_data) {
        all.pop("attachment");
        scos.push(sco(
            "artifact",
            a.uuid?,
            json!({"payload_bin": a.data, "x_misp_filename": a.value}),
        ));
        extra_attachments = attachments.iter().skip(1).copied().collect();
    }
    leftover_props("malware-sample", &extra_samples, &mut props);
    leftover_props("attachment", &extra_attachments, &mut props);
    let mut single: Vec<&str> = vec!["access-time", "creation-time", "modification-time", "path"];
    single.extend(FILE_PATTERN_HASHES);
    let repeated = all.split(Some(&single));
    if let Some(path) = all.select_first("path") {
        directory(parts_in, "path", &path, &mut props, &mut scos)?;
    }
    file_hashes(&mut all, &FILE_MAIN_HASHES, &mut props);
    let mut kept = Groups::default();
    for (relation, property) in FILE_NATIVES {
        if all.has(relation) {
            let v = all.select_first(relation).unwrap_or_default();
            if relation == "size-in-bytes" {
                match canonical_int(&v).filter(|n| *n >= 0) {
                    Some(n) => {
                        props.insert(property.into(), json!(n));
                    }
                    None => kept.0.push((relation.into(), vec![v])),
                }
            } else {
                props.insert(property.into(), json!(v));
            }
        }
    }
    for (relation, property) in FILE_TIMES {
        if all.has(relation) {
            let v = all.select_first(relation).unwrap_or_default();
            match stix_time(&v) {
                Some(t) => {
                    props.insert(property.into(), json!(t));
                }
                None => kept.0.push((relation.into(), vec![v])),
            }
        }
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut props);
    let prefix = "file";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&single));
    hash_patterns(&mut ids, &FILE_PATTERN_HASHES, prefix, &mut parts);
    for (relation, property) in FILE_NATIVES.iter().chain(FILE_TIMES.iter()) {
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(format!("{prefix}:{property} = '{v}'"));
            }
        }
    }
    if let Some(mut v) = ids.pop("path") {
        parts.push(format!(
            "{prefix}:parent_directory_ref.path = '{}'",
            v.remove(0)
        ));
    }
    let sample_in_pattern = ids.pop("malware-sample").is_some();
    if let Some(s) = sample.filter(|s| sample_in_pattern && s.in_pattern) {
        match malware_sample_pattern(s) {
            Some(p) => parts.push(p),
            // misp-stix then compares the sample's content as a custom property.
            None => ids.0.push((
                "malware-sample".into(),
                vec![escape(s.data.unwrap_or_default())],
            )),
        }
    }
    let attachment_in_pattern = ids.pop("attachment").is_some();
    if attachment_in_pattern {
        if let Some(a) = attachment.filter(|a| a.in_pattern) {
            let name = format!(
                "{prefix}:content_ref.x_misp_filename = '{}'",
                escape(a.value)
            );
            parts.push(match a.data.filter(|d| !d.is_empty()) {
                Some(data) => format!(
                    "({prefix}:content_ref.payload_bin = '{}' AND {name})",
                    escape(data)
                ),
                None => name,
            });
        }
    }
    if sample_in_pattern {
        leftover_patterns(prefix, "malware-sample", &extra_samples, &mut parts);
    }
    if attachment_in_pattern {
        let rest = attachments.get(1..).unwrap_or_default();
        leftover_patterns(prefix, "attachment", rest, &mut parts);
    }
    // STIX needs a file's name or hashes (misp-stix fails without: an `x-misp-object`).
    if !props.contains_key("name") && !props.contains_key("hashes") {
        return None;
    }
    ids.finish(repeated, prefix, uuid, props, scos, parts)
}

/// A file's (or lnk's) first malware sample: with content, an `artifact--<attribute
/// uuid>` the file's `content_ref`; without, left custom (first of `extras`).
fn sample_content<'a>(
    s: &'a Part<'a>,
    props: &mut Obj,
    scos: &mut Vec<Value>,
    extras: &mut Vec<&'a Part<'a>>,
) -> Option<()> {
    let artifact = malware_sample(s)?;
    match s.data.filter(|d| !d.is_empty()) {
        Some(_) => {
            let a_uuid = s.uuid?;
            scos.push(sco("artifact", a_uuid, Value::Object(artifact)));
            props.insert("content_ref".into(), json!(format!("artifact--{a_uuid}")));
        }
        None => extras.insert(0, s),
    }
    Some(())
}

/// The samples or attachments misp-stix leaves custom (`x_misp_<relation>`): with
/// content `{"value", "data"}` (a sample's value its file name, as PyMISP keeps it), an
/// attachment without content paired with its uuid, a sample without content its value;
/// one as is, several a list.
fn leftover_props(relation: &str, extras: &[&Part], props: &mut Obj) {
    let mut values: Vec<Value> = extras
        .iter()
        .map(|p| match p.data.filter(|d| !d.is_empty()) {
            Some(d) => json!({"value": sample_value(p), "data": d}),
            None if relation == "attachment" => json!({"value": p.value, "data": p.uuid}),
            None => json!(p.value),
        })
        .collect();
    match values.len() {
        0 => {}
        1 => {
            props.insert(custom_name(relation), values.remove(0));
        }
        _ => {
            props.insert(custom_name(relation), Value::Array(values));
        }
    }
}

/// The pattern comparisons of the samples or attachments left custom that go into the
/// pattern: their content and name.
fn leftover_patterns(prefix: &str, relation: &str, extras: &[&Part], parts: &mut Vec<String>) {
    let name = custom_name(relation);
    for p in extras.iter().filter(|p| p.in_pattern) {
        if let Some(d) = p.data.filter(|d| !d.is_empty()) {
            parts.push(format!("{prefix}:{name}.data = '{}'", escape(d)));
            parts.push(format!(
                "{prefix}:{name}.value = '{}'",
                escape(sample_value(p))
            ));
        }
    }
}

/// MISP's `filename|md5` of a malware sample, as misp-stix splits it (at its one `|`,
/// else its one `_`); `None` without a separator; `Err` when a separator is there more
/// than once (misp-stix fails on the object: an `x-misp-object`).
fn sample_parts(value: &str) -> Result<Option<(&str, &str)>, ()> {
    for separator in ['|', '_'] {
        if value.contains(separator) {
            let mut split = value.split(separator);
            return match (split.next(), split.next(), split.next()) {
                (Some(name), Some(md5), None) => Ok(Some((name, md5))),
                _ => Err(()),
            };
        }
    }
    Ok(None)
}

/// A malware sample's value as PyMISP gives it to misp-stix: with its content, the
/// file name alone (`name|md5` → `name`).
fn sample_value<'a>(s: &Part<'a>) -> &'a str {
    match s.data.filter(|d| !d.is_empty()) {
        Some(_) => s.value.split_once('|').map_or(s.value, |(name, _)| name),
        None => s.value,
    }
}

/// The `artifact` of a malware sample (MISP zips samples with the password
/// `infected`): the MD5 and file name of its value (split as misp-stix splits it,
/// after PyMISP kept the name), its content; with an MD5 that is no MD5, the value
/// custom. `None` when misp-stix cannot split the value.
fn malware_sample(s: &Part) -> Option<Obj> {
    let mut artifact = Obj::new();
    let value = sample_value(s);
    match sample_parts(value).ok()? {
        Some((name, md5)) if is_hex(md5, 32) => {
            artifact.insert("hashes".into(), json!({"MD5": md5}));
            artifact.insert("x_misp_filename".into(), json!(name));
        }
        Some(_) => {
            artifact.insert(custom_name("malware-sample"), json!(value));
        }
        None => {
            artifact.insert("x_misp_filename".into(), json!(value));
        }
    }
    artifact.insert("payload_bin".into(), json!(s.data));
    artifact.insert("mime_type".into(), json!("application/zip"));
    artifact.insert("encryption_algorithm".into(), json!("mime-type-indicated"));
    artifact.insert("decryption_key".into(), json!("infected"));
    Some(artifact)
}

/// The pattern comparisons of a malware sample, one parenthesised expression:
/// content, file name, MD5 and MISP's zip. `None` when the value does not split into
/// a name and an MD5.
fn malware_sample_pattern(s: &Part) -> Option<String> {
    let prefix = "file:content_ref";
    let mut parts = Vec::new();
    if let Some(data) = s.data.filter(|d| !d.is_empty()) {
        parts.push(format!("{prefix}.payload_bin = '{}'", escape(data)));
    }
    let value = escape(sample_value(s));
    match sample_parts(&value).ok()? {
        Some((name, md5)) => {
            if !is_hex(md5, 32) {
                return None;
            }
            parts.push(format!("{prefix}.x_misp_filename = '{name}'"));
            parts.push(format!("{prefix}.hashes.MD5 = '{md5}'"));
            parts.push(format!(
                "{prefix}.mime_type = 'application/zip' AND {prefix}.encryption_algorithm = 'mime-type-indicated' AND {prefix}.decryption_key = 'infected'"
            ));
        }
        None => parts.push(format!("{prefix}.x_misp_filename = '{value}'")),
    }
    Some(format!("({})", parts.join(" AND ")))
}

const HTTP_SINGLE: [&str; 11] = [
    "basicauth-password",
    "basicauth-user",
    "host",
    "ip-dst",
    "ip-src",
    "method",
    "proxy-password",
    "proxy-user",
    "text",
    "uri",
    "url",
];
const HTTP_REQUEST: [(&str, &str); 3] = [
    ("method", "request_method"),
    ("uri", "request_value"),
    ("url", "request_value"),
];
const HTTP_HEADERS: [(&str, &str); 4] = [
    ("content-type", "Content-Type"),
    ("cookie", "Cookie"),
    ("referer", "Referer"),
    ("user-agent", "User-Agent"),
];

/// `http-request`: a `network-traffic` (`protocols: [tcp, http]`) to the addresses and
/// the host (a `domain-name`, resolving to the destination address when there is
/// one), with the `http-request-ext` (method, URI or URL, headers); the rest custom.
/// Without a method and a URI or URL (the extension's required properties) `None`.
fn http_request(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    if !all.has("method") || !(all.has("uri") || all.has("url")) {
        return None;
    }
    let repeated = all.split(Some(&HTTP_SINGLE));
    let mut nt = Obj::new();
    let mut scos = Vec::new();
    for (relation, side) in [("ip-src", "src_ref"), ("ip-dst", "dst_ref")] {
        if let Some(mut v) = all.pop(relation) {
            let value = v.remove(0);
            let a_uuid = part_uuid(parts_in, relation, &value)?;
            match address_sco(&value, a_uuid, &mut scos) {
                Ok(id) => nt.insert(side.into(), json!(id)),
                Err(e) => return Some(Err(e)),
            };
        }
    }
    if let Some(mut v) = all.pop("host") {
        let value = v.remove(0);
        let a_uuid = part_uuid(parts_in, "host", &value)?;
        let id = format!("domain-name--{a_uuid}");
        let mut props = json!({"value": value});
        match nt.get("dst_ref") {
            Some(dst) => props["resolves_to_refs"] = json!([dst]),
            None => {
                nt.insert("dst_ref".into(), json!(id));
            }
        }
        scos.push(sco("domain-name", a_uuid, props));
    }
    nt.insert("protocols".into(), json!(["tcp", "http"]));
    let mut ext = Obj::new();
    for (relation, property) in HTTP_REQUEST {
        if !ext.contains_key(property) {
            if let Some(mut v) = all.pop(relation) {
                ext.insert(property.into(), json!(v.remove(0)));
            }
        }
    }
    let mut headers = Obj::new();
    for (relation, header) in HTTP_HEADERS {
        if let Some(v) = all.select_first(relation) {
            headers.insert(header.into(), json!(v));
        }
    }
    if !headers.is_empty() {
        ext.insert("request_header".into(), Value::Object(headers));
    }
    nt.insert("extensions".into(), json!({ "http-request-ext": ext }));
    all.restore(repeated);
    all.custom(&mut nt);
    let prefix = "network-traffic";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&HTTP_SINGLE));
    for (relation, side) in [("ip-src", "src_ref"), ("ip-dst", "dst_ref")] {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(address_pattern(&format!("{prefix}:{side}"), &v.remove(0)));
        }
    }
    if let Some(mut v) = ids.pop("host") {
        parts.push(domain_pattern(&format!("{prefix}:dst_ref"), &v.remove(0)));
    }
    let ext = "extensions.'http-request-ext'";
    for (relation, property) in HTTP_REQUEST {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(format!("{prefix}:{ext}.{property} = '{}'", v.remove(0)));
        }
    }
    for (relation, header) in HTTP_HEADERS {
        if let Some(values) = ids.pop(relation) {
            for v in values {
                parts.push(format!(
                    "{prefix}:{ext}.request_header.{} = '{v}'",
                    quote_segment(header)
                ));
            }
        }
    }
    ids.finish(repeated, prefix, uuid, nt, scos, parts)
}

const SOCKET_SINGLE: [&str; 9] = [
    "address-family",
    "dst-port",
    "hostname-dst",
    "hostname-src",
    "ip-dst",
    "ip-src",
    "protocol",
    "socket-type",
    "src-port",
];
use accord_stix::types::{SOCKET_ADDRESS_FAMILIES as ADDRESS_FAMILIES, SOCKET_TYPES};

/// The `src_ref`/`dst_ref` of a network-traffic: the address of `ip-<side>`, else the
/// `domain-name` of `hostname-<side>`, each with its attribute's uuid. `None` when one
/// has no uuid.
fn network_refs(
    parts_in: &[Part],
    all: &mut Groups,
    nt: &mut Obj,
    scos: &mut Vec<Value>,
) -> Option<Result<(), Refusal>> {
    for side in ["src", "dst"] {
        let ip = format!("ip-{side}");
        let host = format!("hostname-{side}");
        if let Some(mut v) = all.pop(&ip) {
            let value = v.remove(0);
            let a_uuid = part_uuid(parts_in, &ip, &value)?;
            match address_sco(&value, a_uuid, scos) {
                Ok(id) => nt.insert(format!("{side}_ref"), json!(id)),
                Err(e) => return Some(Err(e)),
            };
            continue;
        }
        if let Some(mut v) = all.pop(&host) {
            let value = v.remove(0);
            let a_uuid = part_uuid(parts_in, &host, &value)?;
            scos.push(sco("domain-name", a_uuid, json!({"value": value})));
            nt.insert(
                format!("{side}_ref"),
                json!(format!("domain-name--{a_uuid}")),
            );
        }
    }
    Some(Ok(()))
}

/// The pattern comparisons of [`network_refs`]: the type and value of `src_ref` and
/// `dst_ref`, from `ip-<side>` and `hostname-<side>`.
fn network_refs_pattern(ids: &mut Groups, parts: &mut Vec<String>) {
    for side in ["src", "dst"] {
        let feature = format!("network-traffic:{side}_ref");
        if let Some(mut v) = ids.pop(&format!("ip-{side}")) {
            parts.push(address_pattern(&feature, &v.remove(0)));
        }
        if let Some(mut v) = ids.pop(&format!("hostname-{side}")) {
            parts.push(domain_pattern(&feature, &v.remove(0)));
        }
    }
}

/// `network-socket`: a `network-traffic` with the addresses (or host names), ports,
/// protocol and, when the address family is one STIX knows, the `socket-ext` (address
/// family, socket type, `is_blocking`/`is_listening` from `state`).
fn network_socket(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let repeated = all.split(Some(&SOCKET_SINGLE));
    let mut nt = Obj::new();
    let mut scos = Vec::new();
    if let Err(e) = network_refs(parts_in, &mut all, &mut nt, &mut scos)? {
        return Some(Err(e));
    }
    let mut kept = Groups::default();
    for (relation, property) in [("dst-port", "dst_port"), ("src-port", "src_port")] {
        all.port(relation, property, &mut nt, &mut kept);
    }
    let protocol = all
        .pop("protocol")
        .map_or_else(|| "tcp".to_string(), |mut v| v.remove(0).to_lowercase());
    nt.insert("protocols".into(), json!([protocol]));
    let family_known = all
        .0
        .iter()
        .find(|(r, _)| r == "address-family")
        .is_some_and(|(_, v)| ADDRESS_FAMILIES.contains(&v[0].as_str()));
    if family_known {
        let mut ext = Obj::new();
        for (relation, property, allowed) in [
            ("address-family", "address_family", ADDRESS_FAMILIES),
            ("socket-type", "socket_type", SOCKET_TYPES),
        ] {
            if let Some(mut v) = all.pop(relation) {
                let value = v.remove(0);
                if allowed.contains(&value.as_str()) {
                    ext.insert(property.into(), json!(value));
                } else {
                    nt.insert(custom_name(relation), json!(value));
                }
            }
        }
        if let Some(states) = all.pop("state") {
            let mut other = Vec::new();
            for state in states {
                if matches!(state.as_str(), "blocking" | "listening") {
                    ext.insert(format!("is_{state}"), json!(true));
                } else {
                    other.push(state);
                }
            }
            if !other.is_empty() {
                all.0.push(("state".into(), other));
            }
        }
        nt.insert("extensions".into(), json!({ "socket-ext": ext }));
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut nt);
    let prefix = "network-traffic";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&SOCKET_SINGLE));
    network_refs_pattern(&mut ids, &mut parts);
    ids.native_pattern(
        prefix,
        &[("dst-port", "dst_port"), ("src-port", "src_port")],
        &mut parts,
    );
    if let Some(mut v) = ids.pop("protocol") {
        parts.push(format!(
            "{prefix}:protocols[0] = '{}'",
            v.remove(0).to_lowercase()
        ));
    }
    let ext = format!("{prefix}:extensions.'socket-ext'");
    for (relation, property) in [
        ("address-family", "address_family"),
        ("socket-type", "socket_type"),
    ] {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(format!("{ext}.{property} = '{}'", v.remove(0)));
        }
    }
    if let Some(states) = ids.pop("state") {
        let mut other = Vec::new();
        for state in states {
            if matches!(state.as_str(), "blocking" | "listening") {
                parts.push(format!("{ext}.is_{state} = true"));
            } else {
                other.push(state);
            }
        }
        if !other.is_empty() {
            ids.0.push(("state".into(), other));
        }
    }
    ids.finish(repeated, prefix, uuid, nt, scos, parts)
}

const PROCESS_SINGLE: [&str; 9] = [
    "command-line",
    "creation-time",
    "current-directory",
    "hidden",
    "image",
    "parent-command-line",
    "parent-image",
    "parent-pid",
    "pid",
];
const PROCESS_FEATURES: [(&str, &str); 5] = [
    ("command-line", "command_line"),
    ("creation-time", "created"),
    ("current-directory", "cwd"),
    ("hidden", "is_hidden"),
    ("pid", "pid"),
];
const PROCESS_PARENT: [(&str, &str); 3] = [
    ("parent-command-line", "command_line"),
    ("parent-image", "image_ref.name"),
    ("parent-pid", "pid"),
];

/// A MISP boolean as the stix2 library reads it.
fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" => Some(true),
        "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

/// `process`: a `process--<object uuid>` (`pid`, `command_line`, `cwd`, `created`,
/// `is_hidden`, `image_ref` to a `file`), its parent (`process--<uuid of the parent
/// pid or command line>`, with its own image) and children (`process--<attribute
/// uuid>` per `child-pid`). `None` (the object stays `x-misp-object`) when a pid is
/// no decimal number, a parent has no uuid to name it, or a value cannot be read.
fn process(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let repeated = all.split(Some(&PROCESS_SINGLE));
    let uuid_of = |relation: &str, value: &str| part_uuid(parts_in, relation, value);
    for relation in ["pid", "parent-pid", "child-pid"] {
        if let Some((_, values)) = all.0.iter().find(|(r, _)| r == relation) {
            if values.iter().any(|v| canonical_int(v).is_none()) {
                return None;
            }
        }
    }
    let parent_uuid = ["parent-pid", "parent-command-line"]
        .iter()
        .find_map(|r| all.first(r).map(|v| uuid_of(r, &v)));
    let mut proc = Obj::new();
    let mut scos = Vec::new();
    let parent_relations: Vec<String> = all
        .0
        .iter()
        .map(|(r, _)| r.clone())
        .filter(|r| r.starts_with("parent-"))
        .collect();
    if !parent_relations.is_empty() {
        let parent_uuid = parent_uuid??;
        let mut parent = Obj::new();
        if let Some(mut v) = all.pop("parent-image") {
            let value = v.remove(0);
            let a_uuid = uuid_of("parent-image", &value)?;
            scos.push(sco("file", a_uuid, json!({"name": value})));
            parent.insert("image_ref".into(), json!(format!("file--{a_uuid}")));
        }
        if let Some(mut v) = all.pop("parent-command-line") {
            parent.insert("command_line".into(), json!(v.remove(0)));
        }
        if let Some(mut v) = all.pop("parent-pid") {
            parent.insert("pid".into(), json!(canonical_int(&v.remove(0))?));
        }
        let mut rest = Groups::default();
        for relation in &parent_relations {
            if let Some(v) = all.pop(relation) {
                rest.0
                    .push((relation["parent-".len()..].replace('-', "_"), v));
            }
        }
        rest.custom(&mut parent);
        scos.push(sco("process", parent_uuid, Value::Object(parent)));
        proc.insert(
            "parent_ref".into(),
            json!(format!("process--{parent_uuid}")),
        );
    }
    if let Some(values) = all.pop("child-pid") {
        let mut refs = Vec::new();
        for v in values {
            let a_uuid = uuid_of("child-pid", &v)?;
            scos.push(sco("process", a_uuid, json!({"pid": canonical_int(&v)?})));
            refs.push(format!("process--{a_uuid}"));
        }
        proc.insert("child_refs".into(), json!(refs));
    }
    if let Some(mut v) = all.pop("image") {
        let value = v.remove(0);
        let a_uuid = uuid_of("image", &value)?;
        scos.push(sco("file", a_uuid, json!({"name": value})));
        proc.insert("image_ref".into(), json!(format!("file--{a_uuid}")));
    }
    for (relation, property) in PROCESS_FEATURES {
        if let Some(mut v) = all.pop(relation) {
            let value = v.remove(0);
            let value = match relation {
                "pid" => json!(canonical_int(&value)?),
                "hidden" => json!(boolean(&value)?),
                "creation-time" => json!(stix_time(&value)?),
                _ => json!(value),
            };
            proc.insert(property.into(), value);
        }
    }
    all.restore(repeated);
    all.custom(&mut proc);
    let prefix = "process";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&PROCESS_SINGLE));
    ids.native_pattern(prefix, &PROCESS_FEATURES, &mut parts);
    if let Some(mut v) = ids.pop("image") {
        parts.push(format!("{prefix}:image_ref.name = '{}'", v.remove(0)));
    }
    let parent_relations: Vec<String> = ids
        .0
        .iter()
        .map(|(r, _)| r.clone())
        .filter(|r| r.starts_with("parent-"))
        .collect();
    let mut parent = Groups::default();
    for r in &parent_relations {
        if let Some(v) = ids.pop(r) {
            parent.0.push((r.clone(), v));
        }
    }
    for (relation, property) in PROCESS_PARENT {
        if let Some(v) = parent.pop(relation) {
            parts.push(format!(
                "{prefix}:parent_ref.{property} = '{}'",
                pattern_value(&v)
            ));
        }
    }
    for (relation, values) in parent.0 {
        let segment = quote_segment(&custom_name(&relation["parent-".len()..].replace('-', "_")));
        for v in values {
            parts.push(format!("{prefix}:parent_ref.{segment} = '{v}'"));
        }
    }
    if let Some(values) = ids.pop("child-pid") {
        for (i, v) in values.iter().enumerate() {
            parts.push(format!("{prefix}:child_refs[{i}].pid = '{v}'"));
        }
    }
    ids.finish(repeated, prefix, uuid, proc, scos, parts)
}

/// `android-app`, `cpe-asset`: a `software` with the template's natives (a relation
/// that is not single, `language`, a list), the rest custom. `pattern_single`: the
/// relations the pattern takes one value of (`None`: every relation, as misp-stix's
/// cpe-asset pattern does).
fn software(
    uuid: &str,
    mut all: Groups,
    mut ids: Groups,
    single: &[&str],
    natives: &[(&str, &str)],
    pattern_single: Option<&[&str]>,
) -> Observable {
    let repeated = all.split(Some(single));
    let mut props = Obj::new();
    for (relation, property) in natives {
        if let Some(mut v) = all.pop(relation) {
            let value = if single.contains(relation) {
                json!(v.remove(0))
            } else {
                json!(v)
            };
            props.insert((*property).into(), value);
        }
    }
    all.restore(repeated);
    all.custom(&mut props);
    let prefix = "software";
    let mut parts = Vec::new();
    let repeated = ids.split(pattern_single);
    for (relation, property) in natives {
        if let Some(v) = ids.pop(relation) {
            parts.push(format!("{prefix}:{property} = '{}'", pattern_value(&v)));
        }
    }
    ids.restore(repeated);
    ids.custom_pattern(prefix, &mut parts);
    observable(prefix, uuid, props, parts)
}

/// misp-stix's `script`: a `malware` (`is_family: false`) when a `state` is
/// `Malicious`, else a `tool` (which needs a name: without one, `x-misp-object`);
/// `name` from `filename`, `description` from `comment`, a malware's
/// `implementation_languages` from `language`, the rest custom (an attachment with
/// its content `{"value", "data"}`).
fn script(parts: &[Part], mut all: Groups) -> Option<(&'static str, Obj, bool)> {
    all.pop("script-as-attachment");
    let malicious = all
        .0
        .iter()
        .any(|(r, v)| r == "state" && v.iter().any(|s| s == "Malicious"));
    let repeated = all.split(Some(&["comment", "filename"]));
    let mut props = Obj::new();
    all.natives(
        &[("comment", "description"), ("filename", "name")],
        &mut props,
    );
    if malicious {
        if let Some(languages) = all.pop("language") {
            props.insert("implementation_languages".into(), json!(languages));
        }
    }
    all.restore(repeated);
    all.custom(&mut props);
    attachment_custom(parts, "script-as-attachment", &mut props);
    if malicious {
        props.insert("is_family".into(), json!(false));
        Some(("malware", props, true))
    } else {
        props.get("name")?;
        Some(("tool", props, true))
    }
}

/// The custom property of an attachment relation: each value with its content
/// (`{"value", "data"}`) when it has one, one as is, several a list (misp-stix's
/// `_handle_custom_data_field`).
fn attachment_custom(parts: &[Part], relation: &str, props: &mut Obj) {
    let mut attachments: Vec<Value> = parts
        .iter()
        .filter(|p| p.relation == relation)
        .map(|p| match p.data.filter(|d| !d.is_empty()) {
            Some(data) => json!({"value": p.value, "data": data}),
            None => json!(p.value),
        })
        .collect();
    if !attachments.is_empty() {
        let value = if attachments.len() == 1 {
            attachments.remove(0)
        } else {
            Value::Array(attachments)
        };
        props.insert(custom_name(relation), value);
    }
}

/// misp-stix's `annotation` that annotates converted objects: a `note` (`content`
/// the first `text`, `object_refs` the objects `refs` holds of the uuids it refers to,
/// the rest custom). `None` when it annotates nothing converted or has no text
/// (misp-stix writes an `x-misp-object`).
pub(crate) fn annotation(parts: &[Part], refs: Vec<String>) -> Option<(&'static str, Obj, bool)> {
    if refs.is_empty() {
        return None;
    }
    let mut all = observed_groups(parts);
    all.pop("attachment");
    let repeated = all.split(Some(&["text"]));
    let mut props = Obj::new();
    props.insert("object_refs".into(), json!(refs));
    all.natives(&[("text", "content")], &mut props);
    props.get("content")?;
    all.restore(repeated);
    all.custom(&mut props);
    attachment_custom(parts, "attachment", &mut props);
    Some(("note", props, false))
}

/// `netflow` relation → `network-traffic` property (misp-stix's
/// `netflow_object_mapping`): integers, times, then the extensions.
const NETFLOW_INTEGERS: [(&str, &str); 4] = [
    ("src-port", "src_port"),
    ("dst-port", "dst_port"),
    ("byte-count", "src_byte_count"),
    ("packet-count", "src_packets"),
];
const NETFLOW_TIMES: [(&str, &str); 2] =
    [("first-packet-seen", "start"), ("last-packet-seen", "end")];
const NETFLOW_EXTENSIONS: [(&str, &str); 2] = [
    ("icmp-type", "extensions.'icmp-ext'.icmp_type_hex"),
    ("tcp-flags", "extensions.'tcp-ext'.src_flags_hex"),
];

/// An AS number as PyMISP gives it to misp-stix: without its `AS`, an asdot value
/// (`1.2`) as the number it denotes.
pub(crate) fn pymisp_as(value: &str) -> String {
    let value = if value.to_ascii_uppercase().starts_with("AS") {
        &value[2..]
    } else {
        value
    };
    if let Some((high, low)) = value.split_once('.') {
        if let (Ok(h), Ok(l)) = (high.parse::<u64>(), low.parse::<u64>()) {
            if !high.starts_with(['+', '-']) && !low.starts_with(['+', '-']) {
                return (h * 65536 + l).to_string();
            }
        }
    }
    value.to_string()
}

/// misp-stix's `netflow`: a `network-traffic--<object uuid>` from and to the
/// addresses (each `belongs_to_refs` its `autonomous-system`, ids the attributes'
/// uuids), ports, byte and packet counts, `start`/`end`, `protocols` (`tcp` with the
/// TCP flags' `tcp-ext`, the `protocol` lower-cased, else `ip`), the rest custom.
/// `None` without an address or with a `last-packet-seen` (stix2 refuses them:
/// `x-misp-object`).
fn netflow(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let repeated = all.split(None);
    let mut nt = Obj::new();
    let mut scos = Vec::new();
    let mut kept = Groups::default();
    for end in ["src", "dst"] {
        let ip_relation = format!("ip-{end}");
        let as_relation = format!("{end}-as");
        let Some(ip) = all.pop(&ip_relation).map(|mut v| v.remove(0)) else {
            continue;
        };
        let ip_uuid = part_uuid(parts_in, &ip_relation, &ip)?;
        let t = match ip_type(&ip) {
            Ok(t) => t,
            Err(e) => return Some(Err(e)),
        };
        let mut address = json!({"value": ip});
        if let Some(value) = all.pop(&as_relation).map(|mut v| v.remove(0)) {
            let as_uuid = part_uuid(parts_in, &as_relation, &value)?;
            let number = pymisp_as(&value);
            match canonical_int(&number).filter(|n| *n >= 0) {
                Some(n) => {
                    let as_id = format!("autonomous-system--{as_uuid}");
                    address["belongs_to_refs"] = json!([as_id]);
                    scos.push(sco(t, ip_uuid, address.take()));
                    scos.push(sco("autonomous-system", as_uuid, json!({"number": n})));
                }
                None => {
                    kept.0.push((as_relation.clone(), vec![number]));
                    scos.push(sco(t, ip_uuid, address.take()));
                }
            }
        } else {
            scos.push(sco(t, ip_uuid, address.take()));
        }
        nt.insert(format!("{end}_ref"), json!(format!("{t}--{ip_uuid}")));
    }
    if nt.is_empty() {
        return None;
    }
    let mut protocols: Vec<String> = Vec::new();
    if let Some(mut flags) = all.pop("tcp-flags") {
        nt.insert(
            "extensions".into(),
            json!({"tcp-ext": {"src_flags_hex": flags.remove(0)}}),
        );
        protocols.push("tcp".into());
    }
    if let Some(mut p) = all.pop("protocol") {
        let p = p.remove(0).to_lowercase();
        if !protocols.contains(&p) {
            protocols.push(p);
        }
    }
    if protocols.is_empty() {
        protocols.push("ip".into());
    }
    nt.insert("protocols".into(), json!(protocols));
    for (relation, property) in NETFLOW_INTEGERS {
        let port = relation.ends_with("port");
        all.convert_first(relation, property, &mut nt, &mut kept, |v| {
            canonical_int(v)
                .filter(|n| {
                    if port {
                        (0..=65535).contains(n)
                    } else {
                        *n >= 0
                    }
                })
                .map(Value::from)
        });
    }
    all.timestamps(&NETFLOW_TIMES, &mut nt, &mut kept);
    // stix2 refuses an `end` without `is_active: false`, which misp-stix does not
    // write: a netflow with its last packet's time is an `x-misp-object`.
    if nt.contains_key("end") {
        return None;
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut nt);
    let prefix = "network-traffic";
    let mut parts = Vec::new();
    let repeated = ids.split(None);
    for end in ["src", "dst"] {
        let feature = format!("{prefix}:{end}_ref");
        let mut reference = Vec::new();
        if let Some(mut ip) = ids.pop(&format!("ip-{end}")) {
            let ip = ip.remove(0);
            let t = if ip.contains(':') {
                "ipv6-addr"
            } else {
                "ipv4-addr"
            };
            reference.push(format!("{feature}.type = '{t}'"));
            reference.push(format!("{feature}.value = '{ip}'"));
        }
        if let Some(mut number) = ids.pop(&format!("{end}-as")) {
            reference.push(format!(
                "{feature}.belongs_to_refs[0].number = '{}'",
                pymisp_as(&number.remove(0))
            ));
        }
        if !reference.is_empty() {
            parts.push(format!("({})", reference.join(" AND ")));
        }
    }
    if let Some(mut p) = ids.pop("protocol") {
        parts.push(format!(
            "{prefix}:protocols[0] = '{}'",
            p.remove(0).to_lowercase()
        ));
    }
    ids.native_pattern(prefix, &NETFLOW_INTEGERS, &mut parts);
    ids.native_pattern(prefix, &NETFLOW_TIMES, &mut parts);
    ids.native_pattern(prefix, &NETFLOW_EXTENSIONS, &mut parts);
    ids.finish(repeated, prefix, uuid, nt, scos, parts)
}

/// misp-stix's `image`: a `file--<object uuid>` named after the first `filename`, its
/// `content_ref` an `artifact` of the attachment with its content
/// (`artifact--<attribute uuid>`, `payload_bin`, `mime_type` `image/<extension>`,
/// `x_misp_filename`, `x_misp_url`); the rest custom. `None` with a `url` and no
/// attachment content (stix2 refuses an artifact of a url without hashes).
fn image(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let repeated = all.split(Some(&["attachment", "filename", "url"]));
    let mut props = Obj::new();
    let mut scos = Vec::new();
    let attachment = all.first("attachment").and_then(|name| {
        parts_in
            .iter()
            .find(|p| p.relation == "attachment" && p.value == name)
            .filter(|p| p.data.is_some_and(|d| !d.is_empty()))
    });
    let mut artifact = Obj::new();
    let mut artifact_uuid = None;
    if let Some(a) = attachment {
        all.pop("attachment");
        artifact_uuid = Some(a.uuid?);
        artifact.insert("payload_bin".into(), json!(a.data));
        if let Some((_, extension)) = a.value.rsplit_once('.') {
            artifact.insert("mime_type".into(), json!(format!("image/{extension}")));
        }
        artifact.insert("x_misp_filename".into(), json!(a.value));
        if let Some(url) = all.pop("url") {
            artifact.insert("x_misp_url".into(), json!(url[0]));
        }
    } else if all.has("url") {
        // An artifact of a url needs its hashes (stix2): misp-stix writes an
        // `x-misp-object`.
        return None;
    }
    if let Some(name) = all.select_first("filename") {
        props.insert("name".into(), json!(name));
    }
    all.restore(repeated);
    all.custom(&mut props);
    if let Some(a_uuid) = artifact_uuid {
        props.insert("content_ref".into(), json!(format!("artifact--{a_uuid}")));
        scos.push(sco("artifact", a_uuid, Value::Object(artifact)));
    }
    let prefix = "file";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&["attachment", "filename", "url"]));
    if let Some(mut name) = ids.pop("filename") {
        parts.push(format!("{prefix}:name = '{}'", name.remove(0)));
    }
    if let Some(mut name) = ids.pop("attachment") {
        let name = name.remove(0);
        let data = parts_in
            .iter()
            .find(|p| p.relation == "attachment" && escape(p.value) == name && p.in_pattern)
            .and_then(|p| p.data)
            .filter(|d| !d.is_empty());
        if let Some(data) = data {
            parts.push(format!(
                "{prefix}:content_ref.payload_bin = '{}'",
                escape(data)
            ));
        }
        if let Some((_, extension)) = name.rsplit_once('.') {
            parts.push(format!(
                "{prefix}:content_ref.mime_type = 'image/{extension}'"
            ));
        }
        parts.push(format!("{prefix}:content_ref.x_misp_filename = '{name}'"));
    }
    if let Some(mut url) = ids.pop("url") {
        parts.push(format!("{prefix}:content_ref.url = '{}'", url.remove(0)));
    }
    ids.finish(repeated, prefix, uuid, props, scos, parts)
}

/// The hashes of an `lnk` object (misp-stix's `lnk_hash_types`).
const LNK_HASHES: [&str; 10] = [
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512/224",
    "sha512/256",
    "ssdeep",
    "tlsh",
];
const LNK_TIMES: [(&str, &str); 3] = [
    ("lnk-access-time", "atime"),
    ("lnk-creation-time", "ctime"),
    ("lnk-modification-time", "mtime"),
];

/// misp-stix's `lnk`: a `file--<object uuid>` (`name` the first `filename`, `hashes`,
/// `size`, `atime`/`ctime`/`mtime` from the lnk times, `parent_directory_ref` a
/// `directory` of the first `path`, else `fullpath`), the rest custom. `None` with a
/// malware sample (an `x-misp-object`, as Accord's `file`).
fn lnk(uuid: &str, parts_in: &[Part], mut all: Groups, mut ids: Groups) -> Built {
    let samples: Vec<&Part> = parts_in
        .iter()
        .filter(|p| p.relation == "malware-sample")
        .collect();
    let mut extra_samples: Vec<&Part> = samples.iter().skip(1).copied().collect();
    all.pop("malware-sample");
    let mut single: Vec<&str> = LNK_TIMES.iter().map(|(r, _)| *r).collect();
    single.push("size-in-bytes");
    single.extend(LNK_HASHES);
    let repeated = all.split(Some(&single));
    let mut props = Obj::new();
    let mut scos = Vec::new();
    for relation in ["path", "fullpath"] {
        if let Some(path) = all.select_first(relation) {
            directory(parts_in, relation, &path, &mut props, &mut scos)?;
            break;
        }
    }
    // misp-stix: the first sample with content the file's content, as for a `file`.
    if let Some(s) = samples.first() {
        sample_content(s, &mut props, &mut scos, &mut extra_samples)?;
    }
    leftover_props("malware-sample", &extra_samples, &mut props);
    let mut kept = Groups::default();
    all.convert_first("size-in-bytes", "size", &mut props, &mut kept, |v| {
        canonical_int(v).filter(|n| *n >= 0).map(Value::from)
    });
    if let Some(name) = all.select_first("filename") {
        props.insert("name".into(), json!(name));
    }
    file_hashes(&mut all, &LNK_HASHES, &mut props);
    all.timestamps(&LNK_TIMES, &mut props, &mut kept);
    all.restore(kept);
    all.restore(repeated);
    // misp-stix writes a path it leaves custom with its attribute's uuid:
    // `[path, uuid]`, several a list of those.
    for relation in ["path", "fullpath"] {
        if let Some(paths) = all.pop(relation) {
            let mut pairs: Vec<Value> = paths
                .iter()
                .map(|p| json!([p, part_uuid(parts_in, relation, p)]))
                .collect();
            let value = if pairs.len() == 1 {
                pairs.remove(0)
            } else {
                Value::Array(pairs)
            };
            props.insert(custom_name(relation), value);
        }
    }
    all.custom(&mut props);
    let prefix = "file";
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&single));
    ids.native_pattern(prefix, &LNK_TIMES, &mut parts);
    if let Some(names) = ids.pop("filename") {
        parts.extend(names.iter().map(|n| format!("{prefix}:name = '{n}'")));
    }
    for relation in ["path", "fullpath"] {
        if let Some(paths) = ids.pop(relation) {
            parts.extend(
                paths
                    .iter()
                    .map(|p| format!("{prefix}:parent_directory_ref.path = '{p}'")),
            );
        }
    }
    hash_patterns(&mut ids, &LNK_HASHES, prefix, &mut parts);
    if ids.pop("malware-sample").is_some() {
        if let Some(s) = samples.first().filter(|s| s.in_pattern) {
            match malware_sample_pattern(s) {
                Some(p) => parts.push(p),
                None => ids.0.push((
                    "malware-sample".into(),
                    vec![escape(s.data.unwrap_or_default())],
                )),
            }
        }
        leftover_patterns(prefix, "malware-sample", &extra_samples, &mut parts);
    }
    ids.native_pattern(prefix, &[("size-in-bytes", "size")], &mut parts);
    ids.finish(repeated, prefix, uuid, props, scos, parts)
}

/// misp-stix's rule objects (`sigma`, `suricata`, `yara`): an `indicator--<object
/// uuid>` of the rule (`pattern` as is, `pattern_type` the rule attribute's type),
/// `name`, `description`, `pattern_version` from their relations (the first value of
/// each), the references `external_references` (`url`, their comment), the rest
/// custom. `None` without a rule (an `x-misp-object`).
fn rule(name: &str, parts: &[Part]) -> Option<(&'static str, Obj, bool)> {
    let (natives, reference): (&[(&str, &str)], Option<&str>) = match name {
        "sigma" => (
            &[
                ("comment", "description"),
                ("sigma", "pattern"),
                ("sigma-rule-name", "name"),
            ],
            Some("reference"),
        ),
        "suricata" => (
            &[
                ("comment", "description"),
                ("suricata", "pattern"),
                ("version", "pattern_version"),
            ],
            Some("ref"),
        ),
        _ => (
            &[
                ("comment", "description"),
                ("version", "pattern_version"),
                ("yara", "pattern"),
                ("yara-rule-name", "name"),
            ],
            None,
        ),
    };
    let mut props = Obj::new();
    let mut references = Vec::new();
    let mut custom = Groups::default();
    for p in parts {
        if Some(p.relation) == reference {
            let mut r = json!({"source_name": "url", "url": p.value});
            if let Some(c) = p.comment {
                r["description"] = json!(c);
            }
            references.push(r);
            continue;
        }
        match natives.iter().find(|(r, _)| *r == p.relation) {
            Some((relation, property)) if !props.contains_key(*property) => {
                if *relation == name {
                    props.insert("pattern_type".into(), json!(p.kind));
                }
                props.insert((*property).into(), json!(p.value));
            }
            _ => custom
                .0
                .push((p.relation.to_string(), vec![p.value.to_string()])),
        }
    }
    props.get("pattern")?;
    // stix2's default, whatever the pattern language.
    if !props.contains_key("pattern_version") {
        props.insert("pattern_version".into(), json!("2.1"));
    }
    if !references.is_empty() {
        props.insert("external_references".into(), Value::Array(references));
    }
    let mut merged = Groups::default();
    merged.restore(custom);
    merged.custom(&mut props);
    Some(("indicator", props, true))
}

/// `geolocation` relation → `location` property, in misp-stix's order.
const GEOLOCATION: [(&str, &str); 8] = [
    ("address", "street_address"),
    ("city", "city"),
    ("countrycode", "country"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
    ("region", "region"),
    ("text", "description"),
    ("zipcode", "postal_code"),
];

/// misp-stix's `geolocation`: a `location` (`precision` the `accuracy-radius` in
/// metres when there are coordinates); a coordinate that is no decimal number stays
/// custom with its other half. `None` when no place is left (no coordinates, country
/// or region) or a coordinate is out of range: stix2 refuses it, misp-stix writes an
/// `x-misp-object`.
fn geolocation(mut all: Groups) -> Option<(&'static str, Obj, bool)> {
    let repeated = all.split(None);
    let mut kept = Groups::default();
    let mut number = |all: &mut Groups, relation: &str| -> Option<f64> {
        let value = all.first(relation)?;
        match canonical_float(&value) {
            Some(f) => Some(f),
            None => {
                all.pop(relation);
                kept.0.push((relation.to_string(), vec![value]));
                None
            }
        }
    };
    let halves = [all.has("latitude"), all.has("longitude")];
    let latitude = number(&mut all, "latitude");
    let longitude = number(&mut all, "longitude");
    let radius = number(&mut all, "accuracy-radius");
    if halves[0] != halves[1] && latitude.or(longitude).is_some() {
        // stix2 refuses a decimal coordinate without its other half.
        return None;
    }
    let mut props = Obj::new();
    let coordinates = match (latitude, longitude) {
        (Some(lat), Some(lon)) if all.has("latitude") && all.has("longitude") => {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return None;
            }
            Some((lat, lon))
        }
        _ => {
            // A coordinate without its other half goes custom too.
            for half in ["latitude", "longitude"] {
                if let Some(v) = all.pop(half) {
                    kept.0.push((half.to_string(), v));
                }
            }
            None
        }
    };
    if let (Some(r), Some(_)) = (radius, coordinates) {
        let precision = r * 1000.0;
        if precision.is_finite() {
            all.pop("accuracy-radius");
            props.insert("precision".into(), json!(precision));
        }
    }
    for (relation, property) in GEOLOCATION {
        if let Some(mut v) = all.pop(relation) {
            let value = v.remove(0);
            let value = match (relation, coordinates) {
                ("latitude", Some((lat, _))) => json!(lat),
                ("longitude", Some((_, lon))) => json!(lon),
                _ => json!(value),
            };
            props.insert(property.into(), value);
        }
    }
    if coordinates.is_none() && !props.contains_key("country") && !props.contains_key("region") {
        return None;
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut props);
    Some(("location", props, false))
}

/// How misp-stix makes an `identity` of a MISP object of a template
/// (`_parse_employee_object`, `_parse_organization_object`, `_parse_person_object`).
struct IdentityTemplate {
    class: &'static str,
    /// The relations a native property holds one value of.
    single: &'static [&'static str],
    /// The relations joined into the name when there is no `full-name`.
    name_parts: &'static [&'static str],
    /// relation → property: one value (a single relation) or the list.
    natives: &'static [(&'static str, &'static str)],
    /// The relations of `contact_information` (`relation: v1; v2`, joined by ` / `).
    contact: &'static [&'static str],
    /// The attachment relation, custom with its content (`{"value", "data"}`).
    data: Option<&'static str>,
}

const EMPLOYEE: IdentityTemplate = IdentityTemplate {
    class: "individual",
    single: &["first-name", "full-name", "last-name", "text"],
    name_parts: &["first-name", "last-name"],
    natives: &[
        ("employee-type", "roles"),
        ("full-name", "name"),
        ("text", "description"),
    ],
    contact: &["email-address"],
    data: None,
};

const ORGANIZATION: IdentityTemplate = IdentityTemplate {
    class: "organization",
    single: &["description", "name"],
    name_parts: &[],
    natives: &[
        ("description", "description"),
        ("name", "name"),
        ("role", "roles"),
    ],
    contact: &["address", "e-mail", "fax-number", "phone-number"],
    data: None,
};

const PERSON: IdentityTemplate = IdentityTemplate {
    class: "individual",
    single: &[
        "first-name",
        "full-name",
        "last-name",
        "middle-name",
        "text",
    ],
    name_parts: &["first-name", "middle-name", "last-name"],
    natives: &[
        ("full-name", "name"),
        ("text", "description"),
        ("role", "roles"),
    ],
    contact: &["address", "e-mail", "fax-number", "phone-number"],
    data: None,
};

const LEGAL_ENTITY: IdentityTemplate = IdentityTemplate {
    class: "organization",
    single: &["name", "text"],
    name_parts: &[],
    natives: &[
        ("business", "sectors"),
        ("name", "name"),
        ("text", "description"),
    ],
    contact: &["phone-number", "website"],
    data: Some("logo"),
};

const NEWS_AGENCY: IdentityTemplate = IdentityTemplate {
    class: "organization",
    single: &["name"],
    name_parts: &[],
    natives: &[("name", "name")],
    contact: &["address", "e-mail", "fax-number", "phone-number", "link"],
    data: Some("attachment"),
};

/// The `identity` of an object of an identity template; `None` without a name (stix2
/// refuses it: misp-stix writes an `x-misp-object`).
fn identity(
    parts: &[Part],
    mut all: Groups,
    t: &IdentityTemplate,
) -> Option<(&'static str, Obj, bool)> {
    if let Some(relation) = t.data {
        all.pop(relation);
    }
    let repeated = all.split(Some(t.single));
    let mut props = Obj::new();
    props.insert("identity_class".into(), json!(t.class));
    if !t.name_parts.is_empty() && !all.has("full-name") {
        let name: Vec<String> = t
            .name_parts
            .iter()
            .filter_map(|r| all.pop(r).map(|mut v| v.remove(0)))
            .collect();
        if !name.is_empty() {
            props.insert("name".into(), json!(name.join(" ")));
        }
    }
    for (relation, property) in t.natives {
        if let Some(mut v) = all.pop(relation) {
            let value = if t.single.contains(relation) {
                json!(v.remove(0))
            } else {
                json!(v)
            };
            props.insert((*property).into(), value);
        }
    }
    let contact: Vec<String> = t
        .contact
        .iter()
        .filter_map(|r| all.pop(r).map(|v| format!("{r}: {}", v.join("; "))))
        .collect();
    if !contact.is_empty() {
        props.insert("contact_information".into(), json!(contact.join(" / ")));
    }
    all.restore(repeated);
    all.custom(&mut props);
    if let Some(relation) = t.data {
        attachment_custom(parts, relation, &mut props);
    }
    props.get("name")?;
    Some(("identity", props, false))
}

/// The SDO misp-stix writes for an object of a template that is no observable:
/// (STIX type, properties, with the `misp-category` kill chain phase); `None` for any
/// other template. `vulnerability`, `attack-pattern`, `course-of-action`.
pub(crate) fn sdo(name: &str, parts: &[Part]) -> Option<(&'static str, Obj, bool)> {
    let mut all = observed_groups(parts);
    match name {
        "vulnerability" => Some(("vulnerability", vulnerability(parts)?, false)),
        "attack-pattern" => {
            let repeated = all.split(Some(&["name", "summary"]));
            let mut props = Obj::new();
            all.natives(&[("name", "name"), ("summary", "description")], &mut props);
            let mut references = Vec::new();
            if let Some(ids) = all.pop("id") {
                for v in ids {
                    let v = if v.contains("CAPEC") {
                        v
                    } else {
                        format!("CAPEC-{v}")
                    };
                    references.push(json!({"source_name": "capec", "external_id": v}));
                }
            }
            if let Some(urls) = all.pop("references") {
                for v in urls {
                    let source = if v.contains("mitre") {
                        "mitre-attack"
                    } else {
                        "external_url"
                    };
                    references.push(json!({"source_name": source, "url": v}));
                }
            }
            if !references.is_empty() {
                props.insert("external_references".into(), json!(references));
            }
            all.restore(repeated);
            all.custom(&mut props);
            if !props.contains_key("name") {
                return None;
            }
            Some(("attack-pattern", props, true))
        }
        "employee" => identity(parts, all, &EMPLOYEE),
        "organization" => identity(parts, all, &ORGANIZATION),
        "person" => identity(parts, all, &PERSON),
        "legal-entity" => identity(parts, all, &LEGAL_ENTITY),
        "news-agency" => identity(parts, all, &NEWS_AGENCY),
        "script" => script(parts, all),
        "sigma" | "suricata" | "yara" => rule(name, parts),
        "geolocation" => geolocation(all),
        "course-of-action" => {
            let repeated = all.split(None);
            let mut props = Obj::new();
            for relation in ["name", "description"] {
                if let Some(mut v) = all.pop(relation) {
                    props.insert(relation.into(), json!(v.remove(0)));
                }
            }
            all.restore(repeated);
            all.custom(&mut props);
            if !props.contains_key("name") {
                return None;
            }
            Some(("course-of-action", props, false))
        }
        _ => None,
    }
}

/// The relations of a `pe` object a native property of `windows-pebinary-ext` holds one
/// value of (misp-stix's `pe_object_single_fields`).
const PE_SINGLE: [&str; 4] = ["entrypoint-address", "imphash", "number-sections", "type"];
/// `pe` relation → `windows-pebinary-ext` property, in misp-stix's order.
const PE_FEATURES: [(&str, &str); 3] = [
    ("imphash", "imphash"),
    ("number-sections", "number_of_sections"),
    ("type", "pe_type"),
];
/// `pe` relation → property of the extension's `optional_header`.
const PE_HEADER: [(&str, &str); 1] = [("entrypoint-address", "address_of_entry_point")];
/// The `pe` relations of integer properties: a value that is no decimal integer stays
/// custom, as misp-stix keeps it verbatim.
const PE_INTEGERS: [&str; 2] = ["number-sections", "entrypoint-address"];
/// `pe-section` relation → property of a `windows-pe-section`, in misp-stix's order.
const PE_SECTION: [(&str, &str); 3] = [
    ("entropy", "entropy"),
    ("name", "name"),
    ("size-in-bytes", "size"),
];
/// The hashes of a section's `hashes` (misp-stix's `file_hash_main_types`).
const PE_SECTION_HASHES: [&str; 12] = [
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3-224", "sha3-256", "sha3-384",
    "sha3-512", "ssdeep", "tlsh",
];
/// The hashes a section's pattern compares as hashes (misp-stix's
/// `pe_section_hash_types`: the first nine a file's pattern compares); the others are
/// compared as custom properties.
const PE_SECTION_PATTERN_HASHES: usize = 9;
/// The pattern path of the extension.
const PE_PATH: &str = "file:extensions.'windows-pebinary-ext'";

/// A decimal number as a STIX float property holds it (misp-stix's
/// `_is_canonical_float`: digits, an optional fraction and exponent, finite).
fn canonical_float(value: &str) -> Option<f64> {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !digits(whole) || !fraction.is_none_or(digits) || !exponent_ok {
        return None;
    }
    value.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The `windows-pebinary-ext` misp-stix builds from a `pe` object and the `pe-section`
/// objects it includes (in its references' order), and the pattern comparisons of
/// their attributes that go into the pattern. `None` when misp-stix cannot build it
/// (a section without a name, a section hash that is not one of its algorithm): then
/// misp-stix leaves the sections as custom objects.
pub(crate) fn pe_extension(pe: &[Part], sections: &[Vec<Part>]) -> Option<(Obj, Vec<String>)> {
    let (mut all, mut ids) = groups(pe);
    let mut ext = Obj::new();
    let repeated = all.split(Some(&PE_SINGLE));
    let mut kept = Groups::default();
    for (relation, property) in PE_FEATURES {
        if PE_INTEGERS.contains(&relation) {
            all.convert_first(relation, property, &mut ext, &mut kept, |v| {
                canonical_int(v).map(Value::from)
            });
        } else if let Some(mut v) = all.pop(relation) {
            ext.insert(property.into(), json!(v.remove(0)));
        }
    }
    let mut header = Obj::new();
    for (relation, property) in PE_HEADER {
        all.convert_first(relation, property, &mut header, &mut kept, |v| {
            canonical_int(v).map(Value::from)
        });
    }
    if !header.is_empty() {
        ext.insert("optional_header".into(), Value::Object(header));
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut ext);
    let mut parts = Vec::new();
    let repeated = ids.split(Some(&PE_SINGLE));
    for (relation, property) in PE_FEATURES {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(format!("{PE_PATH}.{property} = '{}'", v.remove(0)));
        }
    }
    for (relation, property) in PE_HEADER {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(format!(
                "{PE_PATH}.optional_header.{property} = '{}'",
                v.remove(0)
            ));
        }
    }
    ids.restore(repeated);
    ids.custom_pattern_after(&format!("{PE_PATH}."), &mut parts);
    let mut stix_sections = Vec::new();
    for (index, section) in sections.iter().enumerate() {
        stix_sections.push(Value::Object(pe_section(section)?));
        parts.extend(pe_section_pattern(section, index));
    }
    if !stix_sections.is_empty() {
        ext.insert("sections".into(), Value::Array(stix_sections));
    }
    Some((ext, parts))
}

/// A `windows-pe-section` of a `pe-section` object: every relation single, the
/// further values and the relations without a property custom.
fn pe_section(section: &[Part]) -> Option<Obj> {
    let (mut all, _) = groups(section);
    let repeated = all.split(None);
    let mut props = Obj::new();
    let mut kept = Groups::default();
    for (relation, property) in PE_SECTION {
        all.convert_first(
            relation,
            property,
            &mut props,
            &mut kept,
            |v| match relation {
                "entropy" => canonical_float(v).map(Value::from),
                "size-in-bytes" => canonical_int(v).map(Value::from),
                _ => Some(json!(v)),
            },
        );
    }
    // stix2 requires a section's name.
    props.get("name")?;
    let mut hashes = Obj::new();
    for relation in PE_SECTION_HASHES {
        if let Some(mut v) = all.pop(relation) {
            // misp-stix fails on a hash that is not one of its algorithm.
            let (name, value) = file_hash(relation, &v.remove(0))?;
            hashes.insert(sco_hash_key(name).into(), json!(value));
        }
    }
    if !hashes.is_empty() {
        props.insert("hashes".into(), Value::Object(hashes));
    }
    all.restore(kept);
    all.restore(repeated);
    all.custom(&mut props);
    Some(props)
}

/// The pattern comparisons of the section at `index` of the extension.
fn pe_section_pattern(section: &[Part], index: usize) -> Vec<String> {
    let (_, mut ids) = groups(section);
    let path = format!("{PE_PATH}.sections[{index}]");
    let repeated = ids.split(None);
    let mut parts = Vec::new();
    for (relation, property) in PE_SECTION {
        if let Some(mut v) = ids.pop(relation) {
            parts.push(format!("{path}.{property} = '{}'", v.remove(0)));
        }
    }
    for relation in &FILE_PATTERN_HASHES[..PE_SECTION_PATTERN_HASHES] {
        let Some(value) = pattern_hash(&ids, relation) else {
            continue;
        };
        let Some((name, _)) = crate::to_stix::hash_name(relation) else {
            continue;
        };
        // misp-stix checks the algorithms the stix2 library names without a dash
        // (MD5, SSDEEP); a value that fails stays a custom comparison.
        if !name.contains('-') && check_hash(relation, &value).is_err() {
            continue;
        }
        ids.pop(relation);
        parts.push(format!("{path}.hashes.{} = '{value}'", quote_segment(name)));
    }
    ids.restore(repeated);
    ids.custom_pattern_after(&format!("{path}."), &mut parts);
    parts
}

/// A `pe` object no `file` includes: misp-stix's `file--<pe uuid>` named after the
/// original (else the internal) file name, with the extension.
pub(crate) fn pe_file(uuid: &str, pe: &[Part], sections: &[Vec<Part>]) -> Option<Observable> {
    let (ext, parts) = pe_extension(pe, sections)?;
    let name = ["x_misp_original_filename", "x_misp_internal_filename"]
        .iter()
        .find_map(|k| ext.get(*k).cloned())
        .unwrap_or_else(|| json!(""));
    let mut props = Obj::new();
    props.insert("name".into(), name);
    props.insert(
        "extensions".into(),
        json!({"windows-pebinary-ext": Value::Object(ext)}),
    );
    Some(observable("file", uuid, props, parts))
}

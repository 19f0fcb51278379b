//! Observed data as the evaluator sees it: observations (one per
//! observed-data object) and the objects each one observed.
//!
//! Both layouts of STIX are read, per observed-data object:
//! - STIX 2.1: `object_refs` lists the ids of SCOs given alongside (in the
//!   same array or bundle); references inside objects (`*_ref`, `*_refs`)
//!   resolve against the observed-data object and the SCOs it lists, as in
//!   the OASIS matcher. Objects of STIX domain types (`indicator`, ...) never
//!   match an object path, also as in the OASIS matcher.
//! - STIX 2.0: an embedded `objects` dictionary; references are its keys.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use serde_json::{Map, Value};

use super::values::{get, get_in};
use crate::error::EvalError;
use crate::timestamp::Timestamp;

/// STIX 2.1 object types that are not cyber-observable objects. In the 2.1
/// layout, object paths naming them select nothing (OASIS matcher
/// `enums.TYPES_V21`).
pub(crate) const NON_SCO_TYPES_V21: &[&str] = &[
    "attack-pattern",
    "bundle",
    "campaign",
    "course-of-action",
    "extension-definition",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "language-content",
    "location",
    "malware",
    "malware-analysis",
    "marking-definition",
    "note",
    "observed-data",
    "opinion",
    "relationship",
    "report",
    "threat-actor",
    "tool",
    "sighting",
    "vulnerability",
];

/// Objects by id. Ids come from untrusted input: the hasher is seeded per
/// process (foldhash), and fast for short keys.
type IdTable<'a> = HashMap<&'a str, &'a Value, RandomState>;

/// How an observation lists its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// STIX 2.0: `objects` dictionary, references by key.
    Embedded,
    /// STIX 2.1: `object_refs`, references by id.
    Referenced,
}

/// One object of an observation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Object<'a> {
    /// The object's `type`, if it has a string one.
    pub ty: Option<&'a str>,
    /// The object itself.
    pub value: &'a Value,
}

/// One observed-data object, ready for evaluation.
#[derive(Debug)]
pub(crate) struct Observation<'a> {
    /// The observed-data `id`, for messages.
    pub id: Option<&'a str>,
    /// `first_observed`, microseconds since the epoch.
    pub first: i64,
    /// `last_observed`, microseconds since the epoch.
    pub last: i64,
    /// `number_observed` (at least 1).
    pub count: u64,
    /// Which layout the objects came in.
    pub layout: Layout,
    /// The objects, in order, unique by key.
    pub objects: Vec<Object<'a>>,
    /// Key (2.0) or id (2.1) and index in `objects`, sorted by key (an
    /// observation holds a handful of objects: a sorted vector is cheaper
    /// to build than a hash map).
    index: Vec<(&'a str, usize)>,
}

impl<'a> Observation<'a> {
    /// Resolves a reference within this observation.
    pub fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let i = self
            .index
            .binary_search_by(|(k, _)| (*k).cmp(reference))
            .ok()?;
        Some(self.objects[self.index[i].1].value)
    }
}

/// Observed data to evaluate patterns against: observed-data objects and the
/// objects they observed, borrowed from JSON values.
///
/// Load once, evaluate many patterns against it.
///
/// ```
/// use accord_patterns::ObservedData;
/// let bundle = serde_json::json!({"type": "bundle", "id": "bundle--1", "objects": [
///     {"type": "observed-data", "id": "observed-data--1", "number_observed": 1,
///      "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
///      "object_refs": ["ipv4-addr--1"]},
///     {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "10.0.0.1"}]});
/// let data = ObservedData::from_json(&bundle)?;
/// assert_eq!(data.len(), 1);
/// # Ok::<(), accord_patterns::EvalError>(())
/// ```
#[derive(Debug)]
pub struct ObservedData<'a> {
    pub(crate) observations: Vec<Observation<'a>>,
}

impl<'a> ObservedData<'a> {
    /// Reads a bundle, an array of objects (observed-data objects, the SCOs
    /// they reference, and/or bundles), or a single observed-data object.
    pub fn from_json(value: &'a Value) -> Result<ObservedData<'a>, EvalError> {
        match value {
            Value::Array(items) => ObservedData::from_objects(items),
            Value::Object(_) => ObservedData::from_objects(std::slice::from_ref(value)),
            _ => Err(EvalError::data(
                "not-an-object",
                None,
                "expected a JSON array of STIX objects or a bundle".into(),
            )),
        }
    }

    /// Reads a sequence of STIX objects; bundles among them are opened.
    ///
    /// ```
    /// use serde_json::json;
    /// // STIX 2.0 layout: objects embedded in the observed-data.
    /// let objects = [json!({"type": "observed-data", "id": "observed-data--1", "number_observed": 1,
    ///     "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
    ///     "objects": {"0": {"type": "url", "value": "http://a.example/"}}})];
    /// let data = accord_patterns::ObservedData::from_objects(&objects)?;
    /// let p = accord_patterns::CompiledPattern::compile("[url:value LIKE 'http://%']")?;
    /// assert!(p.matches(&data)?);
    /// # Ok::<(), accord_patterns::EvalError>(())
    /// ```
    pub fn from_objects(items: &'a [Value]) -> Result<ObservedData<'a>, EvalError> {
        let mut observed = Vec::new();
        let mut by_id: IdTable<'a> =
            HashMap::with_capacity_and_hasher(items.len(), RandomState::default());
        for item in items {
            let Some(obj) = item.as_object() else {
                return Err(EvalError::data(
                    "not-an-object",
                    None,
                    format!("expected a STIX object, found {}", kind_of(item)),
                ));
            };
            if str_prop(obj, "type") == Some("bundle") {
                let objects = obj
                    .get("objects")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        EvalError::data(
                            "missing-property",
                            str_prop(obj, "id"),
                            "a bundle must have an 'objects' array".into(),
                        )
                    })?;
                for inner in objects {
                    collect(inner, &mut observed, &mut by_id)?;
                }
            } else {
                collect(item, &mut observed, &mut by_id)?;
            }
        }
        let observations = observed
            .into_iter()
            .map(|od| observation(od, &by_id))
            .collect::<Result<_, _>>()?;
        Ok(ObservedData { observations })
    }

    /// The number of observations (observed-data objects).
    pub fn len(&self) -> usize {
        self.observations.len()
    }

    /// Whether there are no observations.
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn str_prop<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    get(obj, key).and_then(Value::as_str)
}

/// Sorts one object into observed-data or the id table.
fn collect<'a>(
    item: &'a Value,
    observed: &mut Vec<&'a Value>,
    by_id: &mut IdTable<'a>,
) -> Result<(), EvalError> {
    let Some(obj) = item.as_object() else {
        return Err(EvalError::data(
            "not-an-object",
            None,
            format!("expected a STIX object, found {}", kind_of(item)),
        ));
    };
    // A STIX 2.0-style container (embedded `objects` dictionary and
    // `first_observed`) is an observation whatever its type, as in the OASIS
    // 2.0 matcher (its tests use a `cybox-container` type).
    let container =
        obj.get("objects").is_some_and(Value::is_object) && obj.contains_key("first_observed");
    match str_prop(obj, "type") {
        Some("observed-data") => observed.push(item),
        _ if container => observed.push(item),
        Some(_) => {
            let id = str_prop(obj, "id").ok_or_else(|| {
                EvalError::data(
                    "missing-property",
                    None,
                    format!(
                        "an object of type '{}' has no 'id'",
                        str_prop(obj, "type").unwrap_or_default()
                    ),
                )
            })?;
            by_id.insert(id, item);
        }
        None => {
            return Err(EvalError::data(
                "missing-property",
                str_prop(obj, "id"),
                "an object has no 'type'".into(),
            ))
        }
    }
    Ok(())
}

fn observation<'a>(od_value: &'a Value, by_id: &IdTable<'a>) -> Result<Observation<'a>, EvalError> {
    let Some(od) = od_value.as_object() else {
        return Err(EvalError::data(
            "not-an-object",
            None,
            "expected an observed-data object".into(),
        ));
    };
    let id = str_prop(od, "id");
    let missing = |prop: &str| {
        EvalError::data(
            "missing-property",
            id,
            format!("observed-data must have '{prop}'"),
        )
    };
    let count = match od.get("number_observed") {
        None => return Err(missing("number_observed")),
        Some(v) => v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
            EvalError::data(
                "number-observed",
                id,
                format!("'number_observed' must be an integer of at least 1, found {v}"),
            )
        })?,
    };
    let time = |prop: &str| -> Result<i64, EvalError> {
        let v = od.get(prop).ok_or_else(|| missing(prop))?;
        v.as_str()
            .and_then(Timestamp::parse_lenient)
            .and_then(|t| t.micros())
            .ok_or_else(|| {
                EvalError::data(
                    "timestamp-format",
                    id,
                    format!("'{prop}' is not a valid timestamp: {v}"),
                )
            })
    };
    let (first, last) = (time("first_observed")?, time("last_observed")?);
    let mut objects = Vec::new();
    let mut index: Vec<(&'a str, usize)> = Vec::new();
    let layout;
    if let Some(refs) = od.get("object_refs") {
        layout = Layout::Referenced;
        let refs = refs.as_array().ok_or_else(|| {
            EvalError::data(
                "object-refs",
                id,
                "'object_refs' must be an array of identifiers".into(),
            )
        })?;
        // The observed-data object itself is part of its observation (its
        // type never matches; its id can be referenced).
        if let Some(own) = id {
            index.push((own, 0));
            objects.push(Object {
                ty: Some("observed-data"),
                value: od_value,
            });
        }
        for r in refs.iter().filter_map(Value::as_str) {
            if let Some(v) = by_id.get(r) {
                index.push((r, objects.len()));
                objects.push(Object {
                    ty: get_in(v, "type").and_then(Value::as_str),
                    value: v,
                });
            }
        }
    } else if let Some(embedded) = od.get("objects").and_then(Value::as_object) {
        layout = Layout::Embedded;
        for (key, v) in embedded {
            index.push((key.as_str(), objects.len()));
            objects.push(Object {
                ty: get_in(v, "type").and_then(Value::as_str),
                value: v,
            });
        }
    } else {
        return Err(EvalError::data(
            "object-refs",
            id,
            "observed-data must have 'object_refs' (STIX 2.1) or an 'objects' dictionary (STIX 2.0)".into(),
        ));
    }
    dedup_objects(&mut objects, &mut index);
    Ok(Observation {
        id,
        first,
        last,
        count,
        layout,
        objects,
        index,
    })
}

/// Sorts `index` by key and drops objects listed twice (an id repeated in
/// `object_refs`), keeping the first occurrence and the order of objects, as
/// the reference matcher's id-keyed dictionary does.
fn dedup_objects<'a>(objects: &mut Vec<Object<'a>>, index: &mut Vec<(&'a str, usize)>) {
    index.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
    index.dedup_by(|later, first| later.0 == first.0);
    if index.len() == objects.len() {
        return;
    }
    let mut keep: Vec<usize> = index.iter().map(|(_, i)| *i).collect();
    keep.sort_unstable();
    let mut renumber = vec![usize::MAX; objects.len()];
    for (new, old) in keep.iter().enumerate() {
        renumber[*old] = new;
    }
    *objects = keep.iter().map(|&i| objects[i]).collect();
    for entry in index.iter_mut() {
        entry.1 = renumber[entry.1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_resolve_within_the_observation() {
        let mut objects = vec![
            json!({"type": "observed-data", "id": "observed-data--1", "number_observed": 1,
            "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
            "object_refs": (0..20).rev().map(|i| format!("x--{i}")).chain(["x--3".to_owned(), "x--missing".to_owned()]).collect::<Vec<_>>()}),
        ];
        objects.extend((0..21).map(|i| json!({"type": "x", "id": format!("x--{i}"), "n": i})));
        let data = ObservedData::from_objects(&objects).unwrap();
        let obs = &data.observations[0];
        // The observed-data itself, then x--19 .. x--0 once each (x--20 is
        // not listed, x--3 is listed twice).
        assert_eq!(obs.objects.len(), 21);
        assert_eq!(obs.objects[1].value["n"], 19);
        for i in 0..20 {
            assert_eq!(obs.resolve(&format!("x--{i}")).unwrap()["n"], i);
        }
        assert!(obs.resolve("x--20").is_none());
        assert!(obs.resolve("observed-data--1").is_some());
    }

    #[test]
    fn malformed_observed_data_is_an_error() {
        let base = json!({"type": "observed-data", "id": "observed-data--1", "number_observed": 1,
            "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "object_refs": []});
        for (key, value) in [
            ("number_observed", json!(0)),
            ("first_observed", json!("2020-02-30T00:00:00Z")),
            ("object_refs", json!("x")),
        ] {
            let mut od = base.clone();
            od[key] = value;
            let err = ObservedData::from_json(&od).unwrap_err();
            assert!(err.to_string().contains("observed-data--1"), "{err}");
        }
        let mut od = base.clone();
        od.as_object_mut().unwrap().remove("last_observed");
        assert!(ObservedData::from_json(&od)
            .unwrap_err()
            .to_string()
            .contains("'last_observed'"));
        assert!(ObservedData::from_json(&json!([{"id": "x--1"}])).is_err());
        assert!(ObservedData::from_json(&json!("text")).is_err());
    }
}

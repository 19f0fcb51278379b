//! Object path traversal, as the OASIS matcher does it.
//!
//! Starting from one root object, each step maps the current list of values
//! to a new one; values a step cannot apply to are dropped:
//! - `.key` selects the property of objects that have it. A property named
//!   `*_hex` or `*_bin` is decoded to bytes (an undecodable value is an
//!   error). A property named `*_ref` is replaced by the object it refers to
//!   and `*_refs` by the list of objects (unresolved references are dropped;
//!   a reference that is not a string, or a `*_refs` that is not a list, is
//!   an error).
//! - `[n]` selects element `n` of lists (negative indexes select nothing).
//! - `[*]` selects every element of lists.

use serde_json::Value;

use super::data::Observation;
use super::values::Val;
use crate::ast::PathStep;
use crate::codec::{b64decode, hexdecode};
use crate::error::EvalError;

/// The values `steps` select from `root` within `obs`.
pub(crate) fn select<'a>(
    root: &'a Value,
    steps: &[PathStep],
    obs: &Observation<'a>,
) -> Result<Vec<Val<'a>>, EvalError> {
    let mut vals = vec![Val::Json(root)];
    for step in steps {
        if vals.is_empty() {
            break;
        }
        vals = match step {
            PathStep::Key(key) => step_key(vals, key, obs)?,
            PathStep::Index(i) => step_index(vals, *i),
            PathStep::AnyIndex => step_any(vals),
        };
    }
    Ok(vals)
}

fn step_key<'a>(
    vals: Vec<Val<'a>>,
    key: &str,
    obs: &Observation<'a>,
) -> Result<Vec<Val<'a>>, EvalError> {
    let mut out = Vec::with_capacity(vals.len());
    for v in vals {
        let Val::Json(Value::Object(map)) = v else {
            continue;
        };
        let Some(prop) = super::values::get(map, key) else {
            continue;
        };
        out.push(decode_suffixed(key, prop, obs)?);
    }
    if key.ends_with("_ref") {
        dereference_one(out, key, obs)
    } else if key.ends_with("_refs") {
        dereference_list(out, key, obs)
    } else {
        Ok(out)
    }
}

/// `*_hex` and `*_bin` properties become bytes.
fn decode_suffixed<'a>(
    key: &str,
    prop: &'a Value,
    obs: &Observation<'a>,
) -> Result<Val<'a>, EvalError> {
    let decoder: fn(&str) -> Result<Vec<u8>, &'static str> = if key.ends_with("_hex") {
        hexdecode
    } else if key.ends_with("_bin") {
        b64decode
    } else {
        return Ok(Val::Json(prop));
    };
    let bad = |why: &str| {
        EvalError::data(
            "binary-encoding",
            obs.id,
            format!("property '{key}' cannot be decoded: {why}"),
        )
    };
    let text = prop.as_str().ok_or_else(|| bad("not a string"))?;
    decoder(text).map(Val::Bytes).map_err(bad)
}

fn dereference_one<'a>(
    vals: Vec<Val<'a>>,
    key: &str,
    obs: &Observation<'a>,
) -> Result<Vec<Val<'a>>, EvalError> {
    let mut out = Vec::with_capacity(vals.len());
    for v in vals {
        let reference = match &v {
            Val::Json(Value::String(s)) => s.as_str(),
            _ => {
                return Err(EvalError::data(
                    "reference-type",
                    obs.id,
                    format!("the value of reference property '{key}' is not a string"),
                ))
            }
        };
        if let Some(target) = obs.resolve(reference) {
            out.push(Val::Json(target));
        }
    }
    Ok(out)
}

fn dereference_list<'a>(
    vals: Vec<Val<'a>>,
    key: &str,
    obs: &Observation<'a>,
) -> Result<Vec<Val<'a>>, EvalError> {
    let mut out = Vec::with_capacity(vals.len());
    for v in vals {
        let Val::Json(Value::Array(items)) = v else {
            return Err(EvalError::data(
                "reference-type",
                obs.id,
                format!("the value of reference list property '{key}' is not a list"),
            ));
        };
        let mut targets = Vec::with_capacity(items.len());
        for item in items {
            let reference = item.as_str().ok_or_else(|| {
                EvalError::data(
                    "reference-type",
                    obs.id,
                    format!("a value of reference list property '{key}' is not a string"),
                )
            })?;
            targets.extend(obs.resolve(reference));
        }
        if !targets.is_empty() {
            out.push(Val::Objects(targets));
        }
    }
    Ok(out)
}

fn step_index(vals: Vec<Val<'_>>, index: i64) -> Vec<Val<'_>> {
    let Ok(i) = usize::try_from(index) else {
        return Vec::new();
    };
    vals.into_iter()
        .filter_map(|v| match v {
            Val::Json(Value::Array(items)) => items.get(i).map(Val::Json),
            Val::Objects(objs) => objs.get(i).copied().map(Val::Json),
            _ => None,
        })
        .collect()
}

fn step_any(vals: Vec<Val<'_>>) -> Vec<Val<'_>> {
    let mut out = Vec::new();
    for v in vals {
        match v {
            Val::Json(Value::Array(items)) => out.extend(items.iter().map(Val::Json)),
            Val::Objects(objs) => out.extend(objs.into_iter().map(Val::Json)),
            _ => {}
        }
    }
    out
}

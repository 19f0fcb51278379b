//! Parsing one object: JSON syntax, limits, duplicate members, validation, and
//! the [`StixObject`] handed to storage.

use crate::json::{self, JsonView, Val};
use crate::timestamp::Timestamp;
use crate::types::ObjectKind;
use crate::validate::{self, Ctx};
use crate::{Rejection, Rule, ValidationError, MAX_NESTING_DEPTH, MAX_OBJECT_BYTES};

/// A validated STIX object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StixObject {
    /// `type--uuid`.
    pub id: String,
    /// The `type` property.
    pub object_type: String,
    /// `spec_version`; `None` only for SCOs (and custom objects) that omit it.
    pub spec_version: Option<String>,
    /// `created`, when the object has one.
    pub created: Option<Timestamp>,
    /// `modified`, when the object has one.
    pub modified: Option<Timestamp>,
    /// `revoked` (false when absent).
    pub revoked: bool,
    /// The object's JSON text, minified (whitespace outside strings removed);
    /// property order, escapes, numbers and all values (custom `x_` properties,
    /// extensions, unknown types) exactly as received.
    pub json: String,
}

impl StixObject {
    /// The version of the object: `modified`, else `created` (SCOs: none).
    ///
    /// ```
    /// let o = accord_stix::parse_object(r#"{"type":"marking-definition","spec_version":"2.1",
    ///   "id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z",
    ///   "definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}"#)?;
    /// assert_eq!(o.version().map(|t| t.as_str()), Some("2017-01-20T00:00:00.000Z"));
    /// # Ok::<(), accord_stix::Rejection>(())
    /// ```
    pub fn version(&self) -> Option<&Timestamp> {
        self.modified.as_ref().or(self.created.as_ref())
    }

    /// What kind of object this is.
    pub fn kind(&self) -> ObjectKind {
        crate::types::kind_of(&self.object_type)
    }
}

/// Checks the syntax of an indicator pattern: `(pattern_type, pattern,
/// pattern_version)` to `Err(reason)` when invalid. The STIX patterning
/// language lives in another crate; the caller plugs it in here.
pub type PatternChecker = fn(&str, &str, Option<&str>) -> Result<(), String>;

/// Options of [`parse_object_with`].
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// When an SCO has no `id`, add one (deterministic UUIDv5 from its ID
    /// contributing properties, or a random UUIDv4 when it has none), inserted
    /// right after `type`.
    pub fill_sco_ids: bool,
    /// Checks indicator patterns (rule `pattern-syntax`); `None` skips the check.
    pub pattern_checker: Option<PatternChecker>,
}

/// Parses and validates one object from its JSON text.
///
/// ```
/// let obj = accord_stix::parse_object(r#"{
///     "type": "ipv4-addr", "spec_version": "2.1",
///     "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3"
/// }"#)?;
/// assert_eq!(obj.object_type, "ipv4-addr");
/// assert_eq!(obj.json, r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}"#);
///
/// let bad = accord_stix::parse_object(r#"{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"300.1.2.3"}"#).unwrap_err();
/// assert_eq!(bad.errors[0].rule.code(), "ipv4-address");
/// assert_eq!(bad.errors[0].property, "value");
/// # Ok::<(), accord_stix::Rejection>(())
/// ```
pub fn parse_object(text: &str) -> Result<StixObject, Rejection> {
    parse_object_with(text, &ParseOptions::default())
}

/// [`parse_object`] with options.
///
/// ```
/// use accord_stix::{parse_object_with, ParseOptions};
/// let opts = ParseOptions { fill_sco_ids: true, ..Default::default() };
/// let obj = parse_object_with(r#"{"type":"ipv4-addr","value":"198.51.100.3"}"#, &opts)?;
/// assert_eq!(obj.id, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
/// assert!(obj.json.starts_with(r#"{"type":"ipv4-addr","id":"ipv4-addr--28bb3599"#));
/// # Ok::<(), accord_stix::Rejection>(())
/// ```
pub fn parse_object_with(text: &str, opts: &ParseOptions) -> Result<StixObject, Rejection> {
    parse_object_then(text, opts, |_| ()).map(|(object, ())| object)
}

/// [`parse_object_with`], then `inspect` reads the valid object from the parse that
/// validated it (never called for a rejected object): one parse where a caller needs
/// more of the object than [`StixObject`] holds. See [`JsonView`] for an example.
pub fn parse_object_then<T>(
    text: &str,
    opts: &ParseOptions,
    inspect: impl FnOnce(JsonView<'_>) -> T,
) -> Result<(StixObject, T), Rejection> {
    if text.len() > MAX_OBJECT_BYTES {
        return Err(single(
            Rule::ObjectTooLarge,
            format!(
                "the object's JSON text is {} bytes; the limit is {MAX_OBJECT_BYTES}",
                text.len()
            ),
        ));
    }
    let tape = json::parse(text, MAX_NESTING_DEPTH).map_err(|e| {
        let (rule, what) = if e.too_deep {
            (
                Rule::NestingTooDeep,
                format!("{} (limit {MAX_NESTING_DEPTH})", e.message),
            )
        } else {
            (Rule::JsonSyntax, e.message.to_owned())
        };
        single(rule, format!("{what} at byte {}", e.offset))
    })?;
    let Some(root) = Val::root(&tape) else {
        return Err(single(Rule::JsonSyntax, "empty input".to_owned()));
    };
    if opts.fill_sco_ids {
        if let Some(filled) = fill_sco_id(root) {
            let opts = ParseOptions {
                fill_sco_ids: false,
                ..opts.clone()
            };
            return parse_object_then(&filled, &opts, inspect);
        }
    }
    let mut ctx = Ctx {
        errors: Vec::new(),
        opts,
    };
    for path in json::duplicate_keys(&tape) {
        ctx.errors.push(ValidationError::new(
            path,
            Rule::DuplicateProperty,
            "this member name appears more than once in its object",
        ));
    }
    let h = validate::validate(&mut ctx, root);
    let id = h.id.map(|s| s.into_owned());
    if !ctx.errors.is_empty() {
        return Err(Rejection {
            object_id: id,
            errors: ctx.errors,
        });
    }
    let (Some(id), Some(object_type)) = (id, h.object_type.map(|s| s.into_owned())) else {
        return Err(single(
            Rule::RequiredProperty,
            "type and id are required".to_owned(),
        ));
    };
    let spec_version = h.spec_version.map(|s| s.into_owned());
    let (created, modified, revoked) = (h.created, h.modified, h.revoked);
    let inspected = inspect(JsonView::new(root));
    let object = StixObject {
        id,
        object_type,
        spec_version,
        created,
        modified,
        revoked,
        json: tape.text,
    };
    Ok((object, inspected))
}

fn single(rule: Rule, message: String) -> Rejection {
    Rejection {
        object_id: None,
        errors: vec![ValidationError::new("", rule, message)],
    }
}

/// For an SCO without `id`, its text with an id inserted after `type`.
fn fill_sco_id(root: Val<'_>) -> Option<String> {
    if root.get("id").is_some() {
        return None;
    }
    let ty = root.get("type")?;
    let name = ty.str()?;
    let def = crate::types::lookup(&name).filter(|d| d.kind == ObjectKind::Sco)?;
    let id = match crate::sco_id::sco_id_of(def, root) {
        Ok(Some(id)) => id,
        Ok(None) => format!("{}--{}", def.name, uuid::Uuid::new_v4()),
        // Contributing properties that are themselves invalid: let validation report them.
        Err(_) => return None,
    };
    let (_, end) = ty.span();
    let text = root.raw();
    let mut out = String::with_capacity(text.len() + id.len() + 8);
    out.push_str(&text[..end]);
    out.push_str(",\"id\":\"");
    out.push_str(&id);
    out.push('"');
    out.push_str(&text[end..]);
    Some(out)
}

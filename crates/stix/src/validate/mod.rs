//! Validation of one object against the MUST rules of STIX 2.1.
//!
//! The walk reads the object's tape once: common properties first (`type`,
//! `id`, `spec_version`, `created`, `modified`), then every member against the
//! catalogue ([`crate::types`]), then the rules that relate several properties
//! ([`rules`]). All errors are collected; nothing stops at the first.

pub(crate) mod formats;
pub(crate) mod path;
mod rules;
mod values;

use std::borrow::Cow;

use crate::identifier::is_type_name;
use crate::json::{Index, Kind, Val};
use crate::timestamp::Timestamp;
use crate::types::{self, ObjectKind, Precision, TypeDef};
use crate::{ParseOptions, Rule, ValidationError};
use path::Path;

/// Collects errors for one object.
pub(crate) struct Ctx<'o> {
    pub errors: Vec<ValidationError>,
    pub opts: &'o ParseOptions,
}

impl Ctx<'_> {
    pub(crate) fn err(&mut self, path: &Path<'_>, rule: Rule, message: impl Into<String>) {
        self.errors
            .push(ValidationError::new(path.render(), rule, message));
    }
}

/// What validation learned about the object's common properties.
#[derive(Default)]
pub(crate) struct Header<'t> {
    pub object_type: Option<Cow<'t, str>>,
    pub id: Option<Cow<'t, str>>,
    pub spec_version: Option<Cow<'t, str>>,
    pub created: Option<Timestamp>,
    pub modified: Option<Timestamp>,
    pub revoked: bool,
    pub kind: Option<ObjectKind>,
}

/// Properties checked by the header step, skipped by the member walk.
const HEADER: &[&str] = &["type", "id", "spec_version", "created", "modified"];

/// Validates the object at `root`, appending errors to `ctx`.
pub(crate) fn validate<'t>(ctx: &mut Ctx<'_>, root: Val<'t>) -> Header<'t> {
    let mut h = Header::default();
    let p = Path::Root;
    if root.kind() != Kind::Obj {
        ctx.err(&p, Rule::NotAnObject, "a STIX object must be a JSON object");
        return h;
    }
    let index = Index::new(root);
    let root = &index;
    // type
    let def = match root.get("type") {
        None => {
            ctx.err(&p.key("type"), Rule::RequiredProperty, "is required");
            None
        }
        Some(t) => match ctx.string(&p.key("type"), t) {
            None => None,
            Some(name) => {
                if !is_type_name(&name) {
                    ctx.err(&p.key("type"), Rule::TypeName, format!("'{}' is not a valid type name (3 to 250 characters of a-z, 0-9 and '-', starting with a letter)", values::clip(&name)));
                } else if types::RESERVED_TYPES.contains(&name.as_ref()) {
                    ctx.err(
                        &p.key("type"),
                        Rule::TypeName,
                        format!("'{name}' is not an object type"),
                    );
                }
                let def = types::lookup(&name);
                h.kind = Some(def.map_or(ObjectKind::Custom, |d| d.kind));
                h.object_type = Some(name);
                def
            }
        },
    };
    let kind = h.kind.unwrap_or(ObjectKind::Custom);
    let type_name = h.object_type.clone().unwrap_or_default();
    check_id(ctx, root, &mut h, &type_name);
    check_spec_version(ctx, root, &mut h, kind);
    check_created_modified(ctx, root, &mut h, kind, &type_name);
    check_members(ctx, root, def, &type_name, kind, &mut h);
    if let Some(def) = def {
        check_required(ctx, root, def);
    }
    rules::check(ctx, root, &type_name, &h);
    h
}

fn check_id<'t>(ctx: &mut Ctx<'_>, root: &Index<'t>, h: &mut Header<'t>, type_name: &str) {
    let p = Path::Root;
    let Some(v) = root.get("id") else {
        ctx.err(&p.key("id"), Rule::RequiredProperty, "is required");
        return;
    };
    let Some(id) = ctx.string(&p.key("id"), v) else {
        return;
    };
    match crate::identifier::check(&id) {
        Err(e) => ctx.err(&p.key("id"), Rule::IdentifierFormat, e.to_string()),
        Ok(ty) if !type_name.is_empty() && ty != type_name => ctx.err(
            &p.key("id"),
            Rule::IdentifierTypeMismatch,
            format!("'{id}' does not start with the object's type '{type_name}--'"),
        ),
        Ok(_) => {}
    }
    h.id = Some(id);
}

fn check_spec_version<'t>(
    ctx: &mut Ctx<'_>,
    root: &Index<'t>,
    h: &mut Header<'t>,
    kind: ObjectKind,
) {
    let p = Path::Root.key("spec_version");
    let Some(v) = root.get("spec_version") else {
        if matches!(kind, ObjectKind::Sdo | ObjectKind::Sro | ObjectKind::Meta) {
            ctx.err(&p, Rule::RequiredProperty, "is required");
        }
        return;
    };
    let Some(s) = ctx.string(&p, v) else { return };
    if s != "2.1" {
        ctx.err(
            &p,
            Rule::SpecVersion,
            format!("'{}' is not '2.1'", values::clip(&s)),
        );
    }
    h.spec_version = Some(s);
}

fn check_created_modified(
    ctx: &mut Ctx<'_>,
    root: &Index<'_>,
    h: &mut Header<'_>,
    kind: ObjectKind,
    type_name: &str,
) {
    let marking = type_name == "marking-definition";
    // SCOs have no created/modified: there they are custom properties.
    if kind == ObjectKind::Sco {
        return;
    }
    let required = matches!(kind, ObjectKind::Sdo | ObjectKind::Sro | ObjectKind::Meta);
    let created_precision = if marking {
        Precision::Any
    } else {
        Precision::Millis
    };
    let p = Path::Root;
    match root.get("created") {
        Some(v) => h.created = ctx.timestamp(&p.key("created"), v, created_precision),
        None if required => ctx.err(&p.key("created"), Rule::RequiredProperty, "is required"),
        None => {}
    }
    if marking {
        return;
    }
    match root.get("modified") {
        Some(v) => h.modified = ctx.timestamp(&p.key("modified"), v, Precision::Millis),
        None if required => ctx.err(&p.key("modified"), Rule::RequiredProperty, "is required"),
        None => {}
    }
    if let (Some(c), Some(m)) = (&h.created, &h.modified) {
        if m < c {
            ctx.err(
                &p.key("modified"),
                Rule::ModifiedBeforeCreated,
                format!("modified ({m}) must be later than or equal to created ({c})"),
            );
        }
    }
}

/// Walks every top-level member: name rules, generic value rules, then the
/// catalogue's value kind (or custom property rules).
fn check_members(
    ctx: &mut Ctx<'_>,
    root: &Index<'_>,
    def: Option<&TypeDef>,
    type_name: &str,
    kind: ObjectKind,
    h: &mut Header<'_>,
) {
    let p = Path::Root;
    for (k, v) in root.members() {
        let name = k.str().unwrap_or_default();
        let path = p.key(&name);
        let header = HEADER.contains(&name.as_ref())
            && !(kind == ObjectKind::Sco && (name == "created" || name == "modified"));
        let value_kind = match def {
            _ if header => None,
            Some(d) => types::property_kind(d, &name),
            None => custom_common_kind(&name),
        };
        // Names from the catalogue are valid by construction; check the others.
        if !header && value_kind.is_none() {
            if !formats::property_name(&name) {
                ctx.err(
                    &path,
                    Rule::PropertyName,
                    "property names must be 3 to 250 characters of a-z, 0-9 and '_'",
                );
            }
            if types::RESERVED_PROPERTIES.contains(&name.as_ref()) {
                ctx.err(
                    &path,
                    Rule::ReservedProperty,
                    format!("'{name}' is a reserved property name"),
                );
            }
        }
        match v.kind() {
            Kind::Null => {
                ctx.err(
                    &path,
                    Rule::NullValue,
                    "must not be null (omit the property instead)",
                );
                continue;
            }
            Kind::Arr if v.items().next().is_none() => {
                ctx.err(
                    &path,
                    Rule::EmptyList,
                    "must not be an empty list (omit the property instead)",
                );
                continue;
            }
            _ => {}
        }
        if header {
            continue;
        }
        if name == "revoked" {
            h.revoked = v.as_bool() == Some(true);
        }
        match value_kind {
            Some(vk) => ctx.check_value(&path, v, vk, type_name),
            None => ctx.check_custom_value(&path, &name, v),
        }
    }
}

/// Custom object types use the common properties with their usual meaning.
fn custom_common_kind(name: &str) -> Option<types::ValueKind> {
    types::SDO_COMMON
        .iter()
        .chain(types::SCO_COMMON)
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

fn check_required(ctx: &mut Ctx<'_>, root: &Index<'_>, def: &TypeDef) {
    let p = Path::Root;
    for r in def.required {
        if root.get(r).is_none() {
            ctx.err(&p.key(r), Rule::RequiredProperty, "is required");
        }
    }
    if !def.at_least_one.is_empty() && !def.at_least_one.iter().any(|n| root.get(n).is_some()) {
        ctx.err(
            &p,
            Rule::AtLeastOneOf,
            format!(
                "a {} needs at least one of {}",
                def.name,
                def.at_least_one.join(", ")
            ),
        );
    }
}

//! Rules that relate several properties of one object: timestamp order,
//! mutually exclusive and dependent properties, marking definitions, granular
//! marking selectors, UUID versions, observed-data embedded objects.

use super::path::Path;
use super::values::clip;
use super::{formats, Ctx, Header};
use crate::json::{Index, Kind, Val};
use crate::types::{self, tlp, ObjectKind, Refs, ValueKind};
use crate::Rule;

/// (type, later, earlier, strictly later, rule).
const ORDER: &[(&str, &str, &str, bool, Rule)] = &[
    (
        "campaign",
        "last_seen",
        "first_seen",
        false,
        Rule::LastSeenBeforeFirstSeen,
    ),
    (
        "indicator",
        "valid_until",
        "valid_from",
        true,
        Rule::ValidUntilNotAfterValidFrom,
    ),
    (
        "infrastructure",
        "last_seen",
        "first_seen",
        false,
        Rule::LastSeenBeforeFirstSeen,
    ),
    (
        "intrusion-set",
        "last_seen",
        "first_seen",
        false,
        Rule::LastSeenBeforeFirstSeen,
    ),
    (
        "malware",
        "last_seen",
        "first_seen",
        false,
        Rule::LastSeenBeforeFirstSeen,
    ),
    (
        "network-traffic",
        "end",
        "start",
        false,
        Rule::EndBeforeStart,
    ),
    (
        "observed-data",
        "last_observed",
        "first_observed",
        false,
        Rule::LastObservedBeforeFirstObserved,
    ),
    (
        "relationship",
        "stop_time",
        "start_time",
        true,
        Rule::StopTimeNotAfterStartTime,
    ),
    (
        "sighting",
        "last_seen",
        "first_seen",
        false,
        Rule::LastSeenBeforeFirstSeen,
    ),
    (
        "threat-actor",
        "last_seen",
        "first_seen",
        false,
        Rule::LastSeenBeforeFirstSeen,
    ),
];

/// Runs the multi-property rules of `type_name`.
pub(crate) fn check(ctx: &mut Ctx<'_>, root: &Index<'_>, type_name: &str, h: &Header<'_>) {
    for &(t, later, earlier, strict, rule) in ORDER {
        if t == type_name {
            order(ctx, root, later, earlier, strict, rule);
        }
    }
    if root.get("granular_markings").is_some() {
        selectors(ctx, root);
    }
    match type_name {
        "malware"
            if root.get("is_family").and_then(|v| v.as_bool()) == Some(true)
                && root.get("name").is_none() =>
        {
            ctx.err(
                &Path::Root.key("name"),
                Rule::RequiredProperty,
                "is required when is_family is true",
            );
        }
        "location" => location(ctx, root),
        "observed-data" => observed_data(ctx, root),
        "artifact" => artifact(ctx, root),
        "email-message" => email_message(ctx, root),
        "network-traffic"
            if root.get("is_active").and_then(|v| v.as_bool()) == Some(true)
                && root.get("end").is_some() =>
        {
            conflict(ctx, "end", "must not be present when is_active is true");
        }
        "extension-definition" => {
            let top = root
                .get("extension_types")
                .is_some_and(|l| l.items().any(|t| t.str_eq("toplevel-property-extension")));
            if root.get("extension_properties").is_some() && !top {
                ctx.err(
                    &Path::Root.key("extension_properties"),
                    Rule::PropertyDependency,
                    "is only allowed when extension_types contains toplevel-property-extension",
                );
            }
        }
        "marking-definition" => marking_definition(ctx, root, h),
        "language-content" => language_content(ctx, root),
        "indicator" => pattern(ctx, root),
        _ => {}
    }
    if h.kind == Some(ObjectKind::Sco) {
        uuid_version(ctx, root, type_name, h);
    }
}

fn conflict(ctx: &mut Ctx<'_>, prop: &str, why: &str) {
    ctx.err(
        &Path::Root.key(prop),
        Rule::PropertyConflict,
        why.to_owned(),
    );
}

/// The instant and text of a timestamp property, when valid.
fn ts<'t>(root: &Index<'t>, name: &str) -> Option<(i64, std::borrow::Cow<'t, str>)> {
    let s = root.get(name)?.str()?;
    let (micros, _) = crate::timestamp::check(&s).ok()?;
    Some((micros, s))
}

fn order(
    ctx: &mut Ctx<'_>,
    root: &Index<'_>,
    later: &str,
    earlier: &str,
    strict: bool,
    rule: Rule,
) {
    let (Some((l, lt)), Some((e, et))) = (ts(root, later), ts(root, earlier)) else {
        return;
    };
    let bad = if strict { l <= e } else { l < e };
    if bad {
        let how = if strict {
            "later than"
        } else {
            "later than or equal to"
        };
        ctx.err(
            &Path::Root.key(later),
            rule,
            format!("{later} ({lt}) must be {how} {earlier} ({et})"),
        );
    }
}

fn location(ctx: &mut Ctx<'_>, root: &Index<'_>) {
    let lat = root.get("latitude").is_some();
    let lon = root.get("longitude").is_some();
    if lat != lon {
        let (has, missing) = if lat {
            ("latitude", "longitude")
        } else {
            ("longitude", "latitude")
        };
        ctx.err(
            &Path::Root.key(has),
            Rule::PropertyDependency,
            format!("requires {missing}"),
        );
    }
    if root.get("precision").is_some() && !(lat && lon) {
        ctx.err(
            &Path::Root.key("precision"),
            Rule::PropertyDependency,
            "requires latitude and longitude",
        );
    }
    // at_least_one of the catalogue lists latitude; longitude alone also fails the pair rule.
    if !lat && lon && root.get("region").is_none() && root.get("country").is_none() {
        ctx.err(
            &Path::Root,
            Rule::AtLeastOneOf,
            "a location needs region, country, or latitude and longitude",
        );
    }
}

fn observed_data(ctx: &mut Ctx<'_>, root: &Index<'_>) {
    match (
        root.get("objects").is_some(),
        root.get("object_refs").is_some(),
    ) {
        (true, true) => conflict(
            ctx,
            "objects",
            "must not be present together with object_refs",
        ),
        (false, false) => ctx.err(
            &Path::Root,
            Rule::AtLeastOneOf,
            "observed-data needs object_refs (or the deprecated objects)",
        ),
        _ => {}
    }
}

fn artifact(ctx: &mut Ctx<'_>, root: &Index<'_>) {
    let p = Path::Root;
    match (root.get("payload_bin").is_some(), root.get("url").is_some()) {
        (true, true) => conflict(ctx, "url", "must not be present together with payload_bin"),
        (false, false) => ctx.err(
            &p,
            Rule::AtLeastOneOf,
            "an artifact needs payload_bin or url",
        ),
        _ => {}
    }
    if root.get("url").is_some() && root.get("hashes").is_none() {
        ctx.err(
            &p.key("hashes"),
            Rule::PropertyDependency,
            "is required when url is present",
        );
    }
    if root.get("decryption_key").is_some() && root.get("encryption_algorithm").is_none() {
        ctx.err(
            &p.key("decryption_key"),
            Rule::PropertyDependency,
            "requires encryption_algorithm",
        );
    }
}

fn email_message(ctx: &mut Ctx<'_>, root: &Index<'_>) {
    match root.get("is_multipart").and_then(|v| v.as_bool()) {
        Some(true) if root.get("body").is_some() => conflict(
            ctx,
            "body",
            "must not be present when is_multipart is true (use body_multipart)",
        ),
        Some(false) if root.get("body_multipart").is_some() => conflict(
            ctx,
            "body_multipart",
            "must not be present when is_multipart is false",
        ),
        _ => {}
    }
}

fn marking_definition(ctx: &mut Ctx<'_>, root: &Index<'_>, h: &Header<'_>) {
    let p = Path::Root;
    let id = h.id.as_deref().unwrap_or("");
    if let Some(refs) = root.get("object_marking_refs") {
        for (i, r) in refs.items().enumerate() {
            if r.str_eq(id) {
                ctx.err(
                    &p.key("object_marking_refs").index(i),
                    Rule::MarkingReference,
                    "a marking definition must not mark itself",
                );
            }
        }
    }
    if let Some(gms) = root.get("granular_markings") {
        for (i, gm) in gms.items().enumerate() {
            if gm.get("marking_ref").is_some_and(|r| r.str_eq(id)) {
                let path = p.key("granular_markings");
                let path = path.index(i);
                ctx.err(
                    &path.key("marking_ref"),
                    Rule::MarkingReference,
                    "a marking definition must not mark itself",
                );
            }
        }
    }
    let def_type = root.get("definition_type");
    let definition = root.get("definition");
    if root.get("extensions").is_none() {
        if def_type.is_none() {
            ctx.err(
                &p.key("definition_type"),
                Rule::RequiredProperty,
                "is required unless extensions are used",
            );
        }
        if definition.is_none() {
            ctx.err(
                &p.key("definition"),
                Rule::RequiredProperty,
                "is required unless extensions are used",
            );
        }
    }
    let Some(def_type) = def_type.and_then(|d| d.str()) else {
        return;
    };
    match def_type.as_ref() {
        "statement" => {
            if let Some(d) = definition.filter(|d| d.kind() == Kind::Obj) {
                match d.get("statement") {
                    Some(s) if s.is_str() => {}
                    Some(_) => ctx.err(
                        &p.key("definition").key("statement"),
                        Rule::ValueType,
                        "must be a string",
                    ),
                    None => ctx.err(
                        &p.key("definition").key("statement"),
                        Rule::RequiredProperty,
                        "is required for a statement marking",
                    ),
                }
            }
        }
        "tlp" => tlp_marking(ctx, root, id, definition),
        _ => {}
    }
}

/// A `tlp` marking definition must be exactly one of the four of section 7.2.1.4.
fn tlp_marking(ctx: &mut Ctx<'_>, root: &Index<'_>, id: &str, definition: Option<Val<'_>>) {
    let p = Path::Root;
    let Some(&(_, name, colour)) = tlp::ALL.iter().find(|(tid, _, _)| *tid == id) else {
        ctx.err(
            &p.key("id"),
            Rule::TlpMarking,
            format!("'{id}' is not one of the TLP 1.0 marking definition ids"),
        );
        return;
    };
    if !root.get("name").is_some_and(|n| n.str_eq(name)) {
        ctx.err(
            &p.key("name"),
            Rule::TlpMarking,
            format!("must be '{name}' for this TLP marking"),
        );
    }
    if !definition
        .and_then(|d| d.get("tlp"))
        .is_some_and(|t| t.str_eq(colour))
    {
        ctx.err(
            &p.key("definition").key("tlp"),
            Rule::TlpMarking,
            format!("must be '{colour}' for this TLP marking"),
        );
    }
    if !root.get("created").is_some_and(|c| c.str_eq(tlp::CREATED)) {
        ctx.err(
            &p.key("created"),
            Rule::TlpMarking,
            format!("must be '{}' for a TLP marking", tlp::CREATED),
        );
    }
    for (k, _) in root.members() {
        let k = k.str().unwrap_or_default();
        if ![
            "type",
            "spec_version",
            "id",
            "created",
            "definition_type",
            "name",
            "definition",
        ]
        .contains(&k.as_ref())
        {
            ctx.err(
                &p.key(&k),
                Rule::TlpMarking,
                "a TLP 1.0 marking definition has no other properties",
            );
        }
    }
}

fn language_content(ctx: &mut Ctx<'_>, root: &Index<'_>) {
    let Some(contents) = root.get("contents") else {
        return;
    };
    let p = Path::Root.key("contents");
    let mut any = false;
    for (lang, value) in contents.members() {
        any = true;
        let lang = lang.str().unwrap_or_default();
        let lp = p.key(&lang);
        if let Err(why) = formats::language_tag(&lang) {
            ctx.err(&lp, Rule::LanguageTag, format!("'{}' {why}", clip(&lang)));
        }
        if ctx.object(&lp, value) {
            for (k, _) in value.members() {
                let k = k.str().unwrap_or_default();
                if !formats::property_name(&k) {
                    ctx.err(
                        &lp.key(&k),
                        Rule::PropertyName,
                        "must be a property name (3 to 250 characters of a-z, 0-9 and '_')",
                    );
                }
            }
        }
    }
    if contents.kind() == Kind::Obj && !any {
        ctx.err(&p, Rule::EmptyList, "must not be an empty dictionary");
    }
}

fn pattern(ctx: &mut Ctx<'_>, root: &Index<'_>) {
    let Some(check) = ctx.opts.pattern_checker else {
        return;
    };
    let (Some(pattern), Some(pattern_type)) = (
        root.get("pattern").and_then(|v| v.str()),
        root.get("pattern_type").and_then(|v| v.str()),
    ) else {
        return;
    };
    let version = root.get("pattern_version").and_then(|v| v.str());
    if let Err(why) = check(&pattern_type, &pattern, version.as_deref()) {
        ctx.err(&Path::Root.key("pattern"), Rule::PatternSyntax, why);
    }
}

/// Process ids, and ids of SCOs that have none of their ID contributing
/// properties, must be UUIDv4 (OASIS validator `process`, `uuid_version_check`).
fn uuid_version(ctx: &mut Ctx<'_>, root: &Index<'_>, type_name: &str, h: &Header<'_>) {
    let Some(def) = types::lookup(type_name) else {
        return;
    };
    let Some(id) = h.id.as_deref() else { return };
    let Some(uuid) = id
        .split_once("--")
        .and_then(|(_, u)| uuid::Uuid::parse_str(u).ok())
    else {
        return;
    };
    let needs_v4 = type_name == "process"
        || (matches!(
            type_name,
            "artifact"
                | "email-message"
                | "user-account"
                | "windows-registry-key"
                | "x509-certificate"
        ) && !def.id_contributing.iter().any(|p| root.get(p).is_some()));
    if needs_v4 && uuid.get_version_num() != 4 {
        ctx.err(
            &Path::Root.key("id"),
            Rule::UuidVersion,
            format!("'{id}' must use a version 4 UUID (no ID contributing property is present)"),
        );
    }
}

/// Every selector of every granular marking must resolve in the object.
fn selectors(ctx: &mut Ctx<'_>, root: &Index<'_>) {
    let Some(gms) = root.get("granular_markings") else {
        return;
    };
    let base = Path::Root.key("granular_markings");
    for (i, gm) in gms.items().enumerate() {
        let Some(sels) = gm.get("selectors") else {
            continue;
        };
        let gp = base.index(i);
        let sp = gp.key("selectors");
        for (j, sel) in sels.items().enumerate() {
            let Some(s) = sel.str() else { continue };
            if let Err(why) = resolve(root.val(), &s) {
                ctx.err(
                    &sp.index(j),
                    Rule::GranularMarkingSelector,
                    format!(
                        "'{}' does not select anything in the object: {why}",
                        clip(&s)
                    ),
                );
            }
        }
    }
}

fn resolve(root: Val<'_>, selector: &str) -> Result<(), String> {
    let mut cur = root;
    for seg in selector.split('.') {
        if let Some(idx) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let n: usize = idx
                .parse()
                .map_err(|_| format!("'{seg}' is not a list index"))?;
            if cur.kind() != Kind::Arr {
                return Err(format!("'{seg}' indexes something that is not a list"));
            }
            cur = cur
                .items()
                .nth(n)
                .ok_or_else(|| format!("index {n} is past the end of the list"))?;
        } else {
            if cur.kind() != Kind::Obj {
                return Err(format!(
                    "'{seg}' names a property of something that is not an object"
                ));
            }
            cur = cur
                .get(seg)
                .ok_or_else(|| format!("there is no property '{seg}'"))?;
        }
    }
    Ok(())
}

/// observed-data `objects` (deprecated): a dictionary of embedded SCOs (no
/// `id`; references name keys of the same dictionary). Each embedded object of
/// a known SCO type is checked like a top-level one (value kinds, required
/// properties); its references must resolve within `objects` to objects of
/// the types the property allows.
pub(crate) fn embedded_refs(ctx: &mut Ctx<'_>, path: &Path<'_>, objects: Val<'_>) {
    for (key, obj) in objects.members() {
        let key = key.str().unwrap_or_default();
        let op = path.key(&key);
        if !ctx.object(&op, obj) {
            continue;
        }
        let ty = match obj.get("type") {
            None => {
                ctx.err(&op.key("type"), Rule::RequiredProperty, "is required");
                None
            }
            Some(t) if !t.is_str() => {
                ctx.err(&op.key("type"), Rule::ValueType, "must be a string");
                None
            }
            Some(t) => t.str(),
        };
        let def = ty
            .as_deref()
            .and_then(types::lookup)
            .filter(|d| d.kind == ObjectKind::Sco);
        for (prop, value) in obj.members() {
            let prop = prop.str().unwrap_or_default();
            let pp = op.key(&prop);
            let kind = def.and_then(|d| types::property_kind(d, &prop));
            let refs = match kind {
                Some(ValueKind::Identifier(r) | ValueKind::IdentifierList(r)) => Some(r),
                _ => None,
            };
            if prop.ends_with("_ref") {
                if let Some(r) = value.str() {
                    embedded_ref(ctx, &pp, objects, &r, refs);
                }
            } else if prop.ends_with("_refs") {
                for (i, r) in value.items().enumerate() {
                    if let Some(r) = r.str() {
                        embedded_ref(ctx, &pp.index(i), objects, &r, refs);
                    }
                }
            } else if let (Some(kind), Some(def)) = (kind, def) {
                if prop != "type" && prop != "id" {
                    ctx.check_value(&pp, value, kind, def.name);
                }
            }
        }
        if let Some(def) = def {
            for r in def.required {
                if obj.get(r).is_none() {
                    ctx.err(&op.key(r), Rule::RequiredProperty, "is required");
                }
            }
        }
    }
}

/// One reference inside observed-data `objects`.
fn embedded_ref(ctx: &mut Ctx<'_>, path: &Path<'_>, objects: Val<'_>, r: &str, refs: Option<Refs>) {
    match objects.get(r) {
        None => ctx.err(
            path,
            Rule::ObservableReference,
            format!("'{}' is not a key of objects", clip(r)),
        ),
        Some(target) => {
            let target_type = target.get("type").and_then(|t| t.str()).unwrap_or_default();
            if let Some(refs) = refs {
                if !target_type.is_empty() && !refs.allows(&target_type) {
                    ctx.err(
                        path,
                        Rule::ReferenceType,
                        format!(
                            "'{}' names a {target_type}, which this property cannot reference",
                            clip(r)
                        ),
                    );
                }
            }
        }
    }
}

//! Client JSON -> canonical document, for POST (`validate_create`), PUT (`validate_replace`) and
//! after PATCH (`validate_document`), plus the per-value building block PATCH uses
//! (`coerce_value`) and the bound on values per attribute in a request (`check_value_counts`).
//! Must not know where documents are stored or how they are returned.
//!
//! A canonical document is a JSON object whose keys are spelled as the schema spells them, with
//! extension attributes nested under their schema URN, every value type-checked and coerced
//! (`"True"` -> `true`), unassigned attributes absent (never `null` or `[]`), and no `schemas`
//! key (the response shaper computes it). Read-only attributes (`id`, `meta`, `groups`,
//! `manager.displayName`) never come from the client: they are dropped from input and, on
//! replace, carried over from the existing document. Unknown attributes are dropped silently,
//! because identity providers send custom ones.

use super::{
    AttrDef, AttrType, COMMON_ATTRIBUTES, Mutability, ResourceTypeDef, SchemaDef, find_attr,
};
use crate::scim::ScimError;
use base64::Engine as _;
use serde_json::{Map, Value};

/// Refuses a request value (a POST or PUT body, a PATCH operation's `value`) with more than `max`
/// values in any array, at any depth (quadratic work in PATCH and unbounded documents
/// otherwise). With `members_exempt` (a request on a group), a `members` key at the top level
/// of `v` is not counted: membership is rows, bounded by the body size.
pub fn check_value_counts(v: &Value, max: usize, members_exempt: bool) -> Result<(), ScimError> {
    match v {
        Value::Array(items) => {
            if items.len() > max {
                return Err(ScimError::InvalidValue(format!(
                    "an attribute has {} values; at most {max} are accepted",
                    items.len()
                )));
            }
            items
                .iter()
                .try_for_each(|i| check_value_counts(i, max, false))
        }
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| !(members_exempt && k.eq_ignore_ascii_case("members")))
            .try_for_each(|(_, i)| check_value_counts(i, max, false)),
        _ => Ok(()),
    }
}

/// Validates a POST body into a canonical document (see the module docs). Checks that required
/// attributes (`userName`, Group `displayName`) are present and not blank.
pub fn validate_create(input: Value, rt: &ResourceTypeDef) -> Result<Value, ScimError> {
    let doc = canonicalize(input, rt)?;
    check_required(&doc, rt)?;
    Ok(Value::Object(doc))
}

/// Validates a PUT body that replaces `existing` (a canonical document). As `validate_create`,
/// and also: an immutable attribute that already has a value must keep it (a different value is
/// `Mutability`; an omitted one keeps the existing value), and read-only attributes are carried
/// over from `existing` unchanged.
pub fn validate_replace(
    input: Value,
    existing: &Value,
    rt: &ResourceTypeDef,
) -> Result<Value, ScimError> {
    let mut doc = canonicalize(input, rt)?;
    check_required(&doc, rt)?;
    check_immutable(&mut doc, existing, rt)?;
    carry_read_only(&mut doc, existing, rt);
    Ok(Value::Object(doc))
}

/// Re-validates a document PATCH has changed, against the document before the PATCH: the same
/// rules as `validate_replace` (types, required, at most one primary, immutables, read-only
/// attributes restored from `original`).
pub fn validate_document(
    doc: &Value,
    original: &Value,
    rt: &ResourceTypeDef,
) -> Result<Value, ScimError> {
    validate_replace(doc.clone(), original, rt)
}

/// Coerces and type-checks one value of the attribute `def`, recursing into complex
/// sub-attributes (unknown and read-only sub-attributes are dropped, sub-attribute names are
/// rewritten to the schema's spelling).
///
/// - A multi-valued `def` accepts an array or a single element, which is wrapped into a
///   one-element array; the result is always an array, with at most one `primary: true`.
/// - A complex `def` that has a `value` sub-attribute accepts a bare scalar `x` as
///   `{"value": x}` (Entra sends `"manager": "id"`); an empty string is then unassigned.
/// - Booleans also accept the strings `"true"`/`"false"` in any case (Entra sends `"True"`).
/// - A string with canonical values that matches one case-insensitively (and the attribute is
///   not case-exact) is rewritten to the canonical spelling (`"USER"` -> `"User"`).
///
/// Returns `Value::Null` when the value is unassigned: `null`, an empty array, or a complex value
/// with nothing left; the caller removes the attribute. Does not check `def`'s own mutability.
pub fn coerce_value(def: &AttrDef, value: Value) -> Result<Value, ScimError> {
    coerce_at(def, value, def.name)
}

fn canonicalize(input: Value, rt: &ResourceTypeDef) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(input) = input else {
        return Err(ScimError::InvalidSyntax(
            "a resource must be a JSON object".into(),
        ));
    };
    let mut doc = Map::new();
    for (key, value) in input {
        if key.eq_ignore_ascii_case("schemas") {
            check_schemas(&value)?;
        } else if let Some(def) = find_attr(COMMON_ATTRIBUTES, &key) {
            put(&mut doc, def, value, def.name)?;
        } else if let Some(def) = find_attr(rt.schema.attributes, &key) {
            put(&mut doc, def, value, def.name)?;
        } else if has_urn_prefix(&key) {
            put_urn_key(&mut doc, rt, &key, value)?;
        }
        // Anything else is an attribute we do not know: dropped.
    }
    // An extension object left empty (all its attributes unknown, read-only or null) is
    // unassigned.
    doc.retain(|_, v| !v.as_object().is_some_and(Map::is_empty));
    Ok(doc)
}

fn has_urn_prefix(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

/// `schemas` is not stored, but when present it must be an array of strings. Which URNs it lists
/// is not checked: clients disagree about listing extensions they do not send.
fn check_schemas(value: &Value) -> Result<(), ScimError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
        Value::Array(_) => Err(ScimError::InvalidValue(
            "attribute `schemas` must contain only strings".into(),
        )),
        _ => Err(ScimError::InvalidSyntax(
            "attribute `schemas` must be an array of strings".into(),
        )),
    }
}

/// A key starting with `urn:`: either a whole schema (`"urn:...:enterprise:2.0:User": {..}`) or
/// one attribute qualified by its schema (`"urn:...:enterprise:2.0:User:department": "x"`).
fn put_urn_key(
    doc: &mut Map<String, Value>,
    rt: &ResourceTypeDef,
    key: &str,
    value: Value,
) -> Result<(), ScimError> {
    if let Some(schema) = rt.schema_by_urn(key) {
        return match value {
            Value::Null => {
                doc.remove(schema.id);
                Ok(())
            }
            Value::Object(attrs) => {
                for (name, value) in attrs {
                    put_in_schema(doc, rt, schema, &name, value)?;
                }
                Ok(())
            }
            _ => Err(ScimError::InvalidValue(format!(
                "`{}` must be an object of attributes",
                schema.id
            ))),
        };
    }
    if let Some((urn, name)) = key.rsplit_once(':')
        && let Some(schema) = rt.schema_by_urn(urn)
    {
        put_in_schema(doc, rt, schema, name, value)?;
    }
    Ok(())
}

fn put_in_schema(
    doc: &mut Map<String, Value>,
    rt: &ResourceTypeDef,
    schema: &'static SchemaDef,
    name: &str,
    value: Value,
) -> Result<(), ScimError> {
    let is_core = schema.id == rt.schema.id;
    let def = match find_attr(schema.attributes, name) {
        Some(def) => def,
        None if is_core => match find_attr(COMMON_ATTRIBUTES, name) {
            Some(def) => def,
            None => return Ok(()),
        },
        None => return Ok(()),
    };
    if is_core {
        return put(doc, def, value, def.name);
    }
    let ext = doc
        .entry(schema.id)
        .or_insert_with(|| Value::Object(Map::new()));
    match ext.as_object_mut() {
        Some(ext) => put(ext, def, value, def.name),
        // INVARIANT: only this module inserts extension keys, always as objects.
        None => Ok(()),
    }
}

/// Coerces `value` and stores it under the schema's spelling, or removes the attribute when the
/// value is unassigned. Read-only attributes are ignored (RFC 7644 section 3.3).
fn put(
    target: &mut Map<String, Value>,
    def: &AttrDef,
    value: Value,
    path: &str,
) -> Result<(), ScimError> {
    if def.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    let value = coerce_at(def, value, path)?;
    if value.is_null() {
        target.remove(def.name);
    } else {
        target.insert(def.name.to_owned(), value);
    }
    Ok(())
}

fn coerce_at(def: &AttrDef, value: Value, path: &str) -> Result<Value, ScimError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    if !def.multi_valued {
        if value.is_array() {
            return Err(ScimError::InvalidValue(format!(
                "attribute `{path}` is single-valued and cannot be an array"
            )));
        }
        return coerce_one(def, value, path);
    }
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let item = coerce_one(def, item, path)?;
        if !item.is_null() {
            out.push(item);
        }
    }
    let primaries = out
        .iter()
        .filter(|item| item.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::InvalidValue(format!(
            "attribute `{path}` has more than one primary value"
        )));
    }
    Ok(if out.is_empty() {
        Value::Null
    } else {
        Value::Array(out)
    })
}

/// One value of `def`, ignoring `multi_valued`.
fn coerce_one(def: &AttrDef, value: Value, path: &str) -> Result<Value, ScimError> {
    let wrong_type =
        |expected: &str| ScimError::InvalidValue(format!("attribute `{path}` must be {expected}"));
    match (def.ty, value) {
        (_, Value::Null) => Ok(Value::Null),
        (AttrType::String, Value::String(s)) => Ok(Value::String(canonical_spelling(def, s))),
        (AttrType::Reference, Value::String(s)) => Ok(Value::String(s)),
        (AttrType::String | AttrType::Reference, _) => Err(wrong_type("a string")),
        (AttrType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Value::Bool(true))
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Value::Bool(false))
        }
        (AttrType::Boolean, _) => Err(wrong_type("a boolean")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Value::Number(n)),
        (AttrType::Integer, _) => Err(wrong_type("an integer")),
        (AttrType::Decimal, Value::Number(n)) => Ok(Value::Number(n)),
        (AttrType::Decimal, _) => Err(wrong_type("a number")),
        (AttrType::DateTime, Value::String(s)) if is_date_time(&s) => Ok(Value::String(s)),
        (AttrType::DateTime, _) => Err(wrong_type("an RFC 3339 date-time string")),
        (AttrType::Binary, Value::String(s)) if is_base64(&s) => Ok(Value::String(s)),
        (AttrType::Binary, _) => Err(wrong_type("a base64 string")),
        (AttrType::Complex, value) => coerce_complex(def, value, path),
    }
}

fn canonical_spelling(def: &AttrDef, s: String) -> String {
    if def.case_exact {
        return s;
    }
    match def
        .canonical_values
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&s))
    {
        Some(c) => (*c).to_owned(),
        None => s,
    }
}

fn is_date_time(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Standard base64 (RFC 4648 section 4), ignoring the line breaks PEM-style values carry.
fn is_base64(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .is_ok()
}

fn coerce_complex(def: &AttrDef, value: Value, path: &str) -> Result<Value, ScimError> {
    let input = match value {
        Value::Object(input) => input,
        Value::String(s) if s.is_empty() && has_value_sub(def) => return Ok(Value::Null),
        scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) if has_value_sub(def) => {
            Map::from_iter([("value".to_owned(), scalar)])
        }
        _ => {
            return Err(ScimError::InvalidValue(format!(
                "attribute `{path}` must be an object"
            )));
        }
    };
    let mut out = Map::new();
    for (key, value) in input {
        let Some(sub) = find_attr(def.sub_attributes, &key) else {
            continue;
        };
        put(&mut out, sub, value, &format!("{path}.{}", sub.name))?;
    }
    for sub in def.sub_attributes {
        if sub.required && sub.mutability != Mutability::ReadOnly && is_blank(out.get(sub.name)) {
            return Err(ScimError::InvalidValue(format!(
                "attribute `{path}.{}` is required",
                sub.name
            )));
        }
    }
    check_reference_type(def, &out, path)?;
    Ok(if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    })
}

fn has_value_sub(def: &AttrDef) -> bool {
    def.sub_attributes.iter().any(|s| s.name == "value")
}

/// Where a complex value carries a `$ref`, its `type` names the referenced resource type
/// (`members.type`: `User` or `Group`), so only the canonical values make sense.
fn check_reference_type(
    def: &AttrDef,
    value: &Map<String, Value>,
    path: &str,
) -> Result<(), ScimError> {
    let has_ref = def
        .sub_attributes
        .iter()
        .any(|s| s.name == "$ref" && !s.reference_types.is_empty());
    let Some(type_def) = find_attr(def.sub_attributes, "type") else {
        return Ok(());
    };
    if !has_ref || type_def.canonical_values.is_empty() {
        return Ok(());
    }
    match value.get("type").and_then(Value::as_str) {
        Some(t) if !type_def.canonical_values.contains(&t) => {
            Err(ScimError::InvalidValue(format!(
                "attribute `{path}.type` must be one of {}",
                type_def
                    .canonical_values
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
        _ => Ok(()),
    }
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

fn check_required(doc: &Map<String, Value>, rt: &ResourceTypeDef) -> Result<(), ScimError> {
    for def in rt.schema.attributes {
        if def.required && def.mutability != Mutability::ReadOnly && is_blank(doc.get(def.name)) {
            return Err(ScimError::InvalidValue(format!(
                "attribute `{}` is required",
                def.name
            )));
        }
    }
    for (schema, required) in rt.extensions {
        if *required && !doc.contains_key(schema.id) {
            return Err(ScimError::InvalidValue(format!(
                "extension `{}` is required",
                schema.id
            )));
        }
        let ext = doc.get(schema.id).and_then(Value::as_object);
        for def in schema.attributes {
            let required = def.required && def.mutability != Mutability::ReadOnly;
            if required && ext.is_some_and(|ext| is_blank(ext.get(def.name))) {
                return Err(ScimError::InvalidValue(format!(
                    "attribute `{}:{}` is required",
                    schema.id, def.name
                )));
            }
        }
    }
    Ok(())
}

/// The attributes of `rt` with where they live: `None` at the top level, `Some(urn)` under an
/// extension key.
fn top_level_attrs(
    rt: &ResourceTypeDef,
) -> impl Iterator<Item = (Option<&'static str>, &'static AttrDef)> + '_ {
    let common = COMMON_ATTRIBUTES.iter().map(|d| (None, d));
    let core = rt.schema.attributes.iter().map(|d| (None, d));
    let ext = rt
        .extensions
        .iter()
        .flat_map(|(s, _)| s.attributes.iter().map(|d| (Some(s.id), d)));
    common.chain(core).chain(ext)
}

fn slot<'a>(doc: &'a Map<String, Value>, urn: Option<&str>, name: &str) -> Option<&'a Value> {
    match urn {
        None => doc.get(name),
        Some(urn) => doc.get(urn)?.get(name),
    }
}

fn slot_mut<'a>(
    doc: &'a mut Map<String, Value>,
    urn: Option<&str>,
) -> Option<&'a mut Map<String, Value>> {
    match urn {
        None => Some(doc),
        Some(urn) => doc
            .entry(urn)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut(),
    }
}

/// RFC 7644 section 3.5.1: an immutable attribute that has a value keeps it. Checked for
/// top-level attributes and the sub-attributes of single-valued complex attributes; elements of
/// multi-valued attributes have no identity to compare (`members.value` is immutable per
/// element: changing it means removing one member and adding another).
fn check_immutable(
    doc: &mut Map<String, Value>,
    existing: &Value,
    rt: &ResourceTypeDef,
) -> Result<(), ScimError> {
    let Some(existing) = existing.as_object() else {
        return Ok(());
    };
    for (urn, def) in top_level_attrs(rt) {
        let Some(old) = slot(existing, urn, def.name) else {
            continue;
        };
        if def.mutability == Mutability::Immutable {
            keep_immutable(doc, urn, def, old, def.name)?;
        } else if def.ty == AttrType::Complex && !def.multi_valued {
            for sub in def.sub_attributes {
                if sub.mutability != Mutability::Immutable {
                    continue;
                }
                let Some(old_sub) = old.get(sub.name) else {
                    continue;
                };
                let new = slot(doc, urn, def.name).and_then(|v| v.get(sub.name));
                match new {
                    Some(new) if !same_value(sub, new, old_sub) => {
                        return Err(immutable_error(&format!("{}.{}", def.name, sub.name)));
                    }
                    Some(_) => {}
                    None => {
                        if let Some(target) = slot_mut(doc, urn) {
                            let parent = target
                                .entry(def.name)
                                .or_insert_with(|| Value::Object(Map::new()));
                            if let Some(parent) = parent.as_object_mut() {
                                parent.insert(sub.name.to_owned(), old_sub.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn keep_immutable(
    doc: &mut Map<String, Value>,
    urn: Option<&str>,
    def: &AttrDef,
    old: &Value,
    path: &str,
) -> Result<(), ScimError> {
    match slot(doc, urn, def.name) {
        Some(new) if !same_value(def, new, old) => Err(immutable_error(path)),
        Some(_) => Ok(()),
        None => {
            if let Some(target) = slot_mut(doc, urn) {
                target.insert(def.name.to_owned(), old.clone());
            }
            Ok(())
        }
    }
}

fn immutable_error(path: &str) -> ScimError {
    ScimError::Mutability(format!(
        "attribute `{path}` is immutable and already has a value"
    ))
}

/// Equality as the attribute's `caseExact` defines it for strings; exact otherwise.
fn same_value(def: &AttrDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) if !def.case_exact => a.eq_ignore_ascii_case(b),
        _ => a == b,
    }
}

/// Read-only attributes come from the server, never the client: keep the existing ones.
fn carry_read_only(doc: &mut Map<String, Value>, existing: &Value, rt: &ResourceTypeDef) {
    let Some(existing) = existing.as_object() else {
        return;
    };
    for (urn, def) in top_level_attrs(rt) {
        if def.mutability != Mutability::ReadOnly {
            continue;
        }
        if let Some(old) = slot(existing, urn, def.name)
            && let Some(target) = slot_mut(doc, urn)
        {
            target.insert(def.name.to_owned(), old.clone());
        }
    }
}

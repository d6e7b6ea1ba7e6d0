//! Add, remove and replace (RFC 7644 sections 3.5.2.1 to 3.5.2.3) on a canonical document.
//!
//! Every value written goes through `schema::coerce_value`, so keys take the schema's spelling
//! and `"True"` becomes `true`; an unassigned result (`null`, `[]`, `{}`) removes the attribute.
//! Operations on a group's `members` are handed to `members` and never reach the document.
//! The whole document is re-validated by the caller, so this module checks only what an
//! operation itself decides: mutability, targets that match nothing, the shape of a value.

use super::members;
use super::target::{self, Target};
use super::{MemberOp, PatchOp, PatchOpKind};
use crate::scim::ScimError;
use crate::scim::filter::{self, AttrPath, CompareOp, Filter, Literal};
use crate::scim::schema::{
    AttrDef, AttrType, Mutability, Resolved, ResourceTypeDef, SchemaDef, coerce_value, find_attr,
};
use serde_json::{Map, Value};

type Object = Map<String, Value>;

pub(super) fn apply_op(
    doc: &mut Object,
    op: &PatchOp,
    rt: &ResourceTypeDef,
    out: &mut Vec<MemberOp>,
) -> Result<(), ScimError> {
    let target = match &op.path {
        Some(path) => target::resolve(path, rt)?,
        None => Target::Resource,
    };
    if target.is_read_only() {
        return Err(ScimError::Mutability(format!(
            "`{}` is read-only",
            path_text(op)
        )));
    }
    let value = op.value.as_ref();
    match (op.op, &target) {
        (PatchOpKind::Remove, Target::Resource) => remove_without_path(value, rt, out)?,
        (kind, Target::Resource) => set_all(doc, kind, value, None, rt, out)?,
        (kind, target) => edit(doc, kind, target, value, rt, out)?,
    }
    prune_extensions(doc, rt);
    Ok(())
}

fn path_text(op: &PatchOp) -> String {
    op.path
        .as_ref()
        .map_or_else(String::new, |p| match (&p.filter, &p.sub) {
            (None, _) => p.attr.to_string(),
            (Some(_), None) => format!("{}[...]", p.attr),
            (Some(_), Some(sub)) => format!("{}[...].{sub}", p.attr),
        })
}

/// One operation on an explicit target (not the resource itself).
fn edit(
    doc: &mut Object,
    kind: PatchOpKind,
    target: &Target,
    value: Option<&Value>,
    rt: &ResourceTypeDef,
    out: &mut Vec<MemberOp>,
) -> Result<(), ScimError> {
    if members::is_members(target, rt) {
        return members::edit(kind, target, value, out);
    }
    match (kind, target) {
        (_, Target::Resource) => Ok(()),
        (PatchOpKind::Remove, Target::Extension(schema)) => remove_extension(doc, schema),
        (kind, Target::Extension(schema)) => match value {
            Some(Value::Null) => remove_extension(doc, schema),
            value => set_all(doc, kind, value, Some(schema), rt, out),
        },
        (kind, Target::Attr(r)) => {
            let slot = container(doc, r.extension_urn(rt))?;
            match kind {
                PatchOpKind::Remove => remove_attr(slot, r, value),
                kind => set_attr(slot, kind, r, value.unwrap_or(&Value::Null)),
            }
        }
        (
            kind,
            Target::Elements {
                path,
                outer,
                filter,
                sub,
            },
        ) => {
            let selection = Selection {
                path,
                outer,
                filter,
                sub: *sub,
                rt,
            };
            let slot = container(doc, outer.extension_urn(rt))?;
            match kind {
                PatchOpKind::Remove => remove_elements(slot, &selection),
                kind => set_elements(slot, kind, &selection, value.unwrap_or(&Value::Null)),
            }
        }
    }
}

/// Path-less `add`/`replace` (or a path naming a whole schema): each key of `value` is added or
/// replaced as if it were the path of its own operation (RFC 7644 sections 3.5.2.1 and 3.5.2.3,
/// "If omitted, the target location is assumed to be the resource itself"). Unknown and
/// read-only keys (`id`, `meta`, `groups`, `schemas`) are dropped silently: identity providers
/// send them (Okta's group rename carries `id`).
///
/// DEVIATION: the RFC expects attribute names as keys; a key may also be any path relative to
/// `within` or to the resource: dotted (`name.givenName`), URN-qualified
/// (`urn:...:enterprise:2.0:User:department`), a whole extension (`urn:...:enterprise:2.0:User`)
/// or a value path (`emails[type eq "work"].value`), as Entra sends them.
fn set_all(
    doc: &mut Object,
    kind: PatchOpKind,
    value: Option<&Value>,
    within: Option<&'static SchemaDef>,
    rt: &ResourceTypeDef,
    out: &mut Vec<MemberOp>,
) -> Result<(), ScimError> {
    let Some(Value::Object(attrs)) = value else {
        return Err(ScimError::InvalidValue(
            "without a `path`, `value` must be an object of attributes".into(),
        ));
    };
    for (key, value) in attrs {
        let Some(target) = target::resolve_key(key, within, rt) else {
            continue;
        };
        if target.is_read_only() {
            continue;
        }
        match target {
            Target::Resource => set_all(doc, kind, Some(value), None, rt, out)?,
            target => edit(doc, kind, &target, Some(value), rt, out)?,
        }
    }
    Ok(())
}

/// RFC 7644 section 3.5.2.2: a `remove` without `path` is `noTarget`.
///
/// DEVIATION: a group's `{"members": [...]}` as the value removes those members.
fn remove_without_path(
    value: Option<&Value>,
    rt: &ResourceTypeDef,
    out: &mut Vec<MemberOp>,
) -> Result<(), ScimError> {
    let no_target = || ScimError::NoTarget("a `remove` operation needs a `path`".into());
    let Some(Value::Object(attrs)) = value else {
        return Err(no_target());
    };
    let mut targets = Vec::new();
    for (key, value) in attrs {
        match target::resolve_key(key, None, rt) {
            Some(target) if members::is_members(&target, rt) => targets.push((target, value)),
            _ => return Err(no_target()),
        }
    }
    if targets.is_empty() {
        return Err(no_target());
    }
    for (target, value) in targets {
        members::edit(PatchOpKind::Remove, &target, Some(value), out)?;
    }
    Ok(())
}

// ---- Attributes (no value filter) ----

fn set_attr(
    slot: &mut Object,
    kind: PatchOpKind,
    r: &Resolved,
    value: &Value,
) -> Result<(), ScimError> {
    let def = r.attr;
    match r.sub {
        Some(sub) if def.multi_valued => {
            let all = element_indices(slot, def);
            if all.is_empty() {
                return Err(ScimError::NoTarget(format!(
                    "`{}` has no values to set `{}` on",
                    def.name, sub.name
                )));
            }
            set_sub_on_elements(slot, def, sub, &all, value)
        }
        Some(sub) => set_sub(slot, def, sub, value),
        None if def.multi_valued && kind == PatchOpKind::Add => append(slot, def, value),
        None if def.multi_valued => write(slot, def, coerce_value(def, value.clone())?),
        None if def.ty == AttrType::Complex => merge_complex(slot, def, value),
        None => write(slot, def, coerce_value(def, value.clone())?),
    }
}

/// RFC 7644 section 3.5.2.2: a single-valued attribute, or a multi-valued one without a filter,
/// is removed with all its values. Removing an attribute that has no value changes nothing and
/// succeeds (the RFC's `noTarget` is for filters that match nothing). With a value (as Entra
/// sends for `members`), only the listed values of a multi-valued attribute go: a client
/// naming values never means "all".
fn remove_attr(slot: &mut Object, r: &Resolved, value: Option<&Value>) -> Result<(), ScimError> {
    let def = r.attr;
    match (r.sub, value) {
        (Some(sub), _) if def.multi_valued => {
            let all = element_indices(slot, def);
            set_sub_on_elements(slot, def, sub, &all, &Value::Null)
        }
        (Some(sub), _) => {
            if slot.contains_key(def.name) {
                set_sub(slot, def, sub, &Value::Null)
            } else {
                Ok(())
            }
        }
        (None, Some(value)) if def.multi_valued => remove_listed(slot, def, value),
        (None, _) => unassign(slot, def),
    }
}

/// Removes the elements of `def` that carry every sub-attribute of one of the listed values.
fn remove_listed(slot: &mut Object, def: &AttrDef, value: &Value) -> Result<(), ScimError> {
    let Value::Array(listed) = coerce_value(def, value.clone())? else {
        return Ok(());
    };
    let mut items = elements(slot, def);
    items.retain(|item| !listed.iter().any(|l| contains(item, l)));
    store(slot, def, items)
}

/// Whether `item` has every member of `part` with the same value (equal values otherwise).
fn contains(item: &Value, part: &Value) -> bool {
    match (item, part) {
        (Value::Object(item), Value::Object(part)) => {
            part.iter().all(|(k, v)| item.get(k) == Some(v))
        }
        _ => item == part,
    }
}

/// RFC 7644 section 3.5.2.1, multi-valued target: "a new value is added to the attribute". A
/// value already present is not added twice (and "no changes SHOULD be made"); one that differs
/// only in `primary` takes the new `primary`.
fn append(slot: &mut Object, def: &AttrDef, value: &Value) -> Result<(), ScimError> {
    let Value::Array(new) = coerce_value(def, value.clone())? else {
        return Ok(());
    };
    let mut items = elements(slot, def);
    let mut touched = Vec::new();
    for item in new {
        let existing = items
            .iter()
            .position(|e| without_primary(e) == without_primary(&item));
        match existing.and_then(|i| Some((i, items.get_mut(i)?))) {
            Some((i, e)) => {
                if let (Some(e), Some(primary)) = (e.as_object_mut(), item.get("primary")) {
                    e.insert("primary".into(), primary.clone());
                }
                touched.push(i);
            }
            None => {
                touched.push(items.len());
                items.push(item);
            }
        }
    }
    demote_primaries(&mut items, &touched);
    store(slot, def, items)
}

fn without_primary(value: &Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| k.as_str() != "primary")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A single-valued complex attribute, with or without a path: RFC 7644 section 3.5.2.1 ("a set
/// of sub-attributes SHALL be specified") and section 3.5.2.3 ("Sub-attributes that are not
/// specified in the "value" parameter are left unchanged") both merge. A sub-attribute given as
/// `null` is removed. A bare scalar is not a set of sub-attributes: it replaces the whole value
/// as its `value` sub-attribute (Entra's `"manager": "id"`), so no stale `$ref` survives.
fn merge_complex(slot: &mut Object, def: &AttrDef, value: &Value) -> Result<(), ScimError> {
    let incoming = match value {
        Value::Object(o) => o.clone(),
        other => return write(slot, def, coerce_value(def, other.clone())?),
    };
    let mut merged = slot
        .get(def.name)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, v) in incoming {
        let Some(sub) = find_attr(def.sub_attributes, &key) else {
            continue;
        };
        if v.is_null() {
            merged.remove(sub.name);
        } else {
            merged.insert(sub.name.to_owned(), v);
        }
    }
    write(slot, def, coerce_value(def, Value::Object(merged))?)
}

/// `name.givenName`: sets (or with `null` removes) one sub-attribute of a single-valued complex
/// attribute, creating the attribute when absent (RFC 7644 section 3.5.2.3: "treat the operation
/// as an add").
fn set_sub(
    slot: &mut Object,
    def: &AttrDef,
    sub: &AttrDef,
    value: &Value,
) -> Result<(), ScimError> {
    let mut parent = slot
        .get(def.name)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    write(&mut parent, sub, coerce_value(sub, value.clone())?)?;
    write(slot, def, coerce_value(def, Value::Object(parent))?)
}

// ---- Elements selected by a value filter ----

struct Selection<'a> {
    path: &'a AttrPath,
    outer: &'a Resolved,
    filter: &'a Filter,
    sub: Option<&'static AttrDef>,
    rt: &'a ResourceTypeDef,
}

impl Selection<'_> {
    fn matching(&self, items: &[Value]) -> Vec<usize> {
        (0..items.len())
            .filter(|&i| {
                items.get(i).is_some_and(|item| {
                    filter::matches_element(self.path, self.filter, item, self.rt)
                })
            })
            .collect()
    }

    fn no_target(&self) -> ScimError {
        ScimError::NoTarget(format!(
            "no value of `{}` matches `{}`",
            self.path, self.filter
        ))
    }
}

/// `emails[type eq "work"]` and `emails[type eq "work"].value` with `add` or `replace`.
///
/// RFC 7644 section 3.5.2.3: a replace sets "the matching sub-attribute of all matching
/// records", or replaces every matching record; with no match it is `noTarget`. An `add` merges
/// the value into each matching record.
///
/// DEVIATION: when nothing matches and the filter is `sub eq literal` (or an `and` of those),
/// both `add` and `replace` create the record the filter describes, with the value set:
/// `replace emails[type eq "work"].value` on a user without a work email adds
/// `{"type": "work", "value": ...}`. Entra sends exactly that and expects the email to appear.
fn set_elements(
    slot: &mut Object,
    kind: PatchOpKind,
    sel: &Selection<'_>,
    value: &Value,
) -> Result<(), ScimError> {
    let def = sel.outer.attr;
    let mut items = elements(slot, def);
    let matched = sel.matching(&items);
    if matched.is_empty() {
        let Some(mut element) = element_from_filter(def, sel.filter) else {
            return Err(sel.no_target());
        };
        match sel.sub {
            Some(sub) => {
                element.insert(sub.name.to_owned(), value.clone());
            }
            None => merge_into(&mut element, def, value)?,
        }
        let Some(element) = coerce_element(def, Value::Object(element))? else {
            return Ok(());
        };
        let touched = [items.len()];
        items.push(element);
        demote_primaries(&mut items, &touched);
        return store(slot, def, items);
    }
    for &i in &matched {
        let Some(item) = items.get_mut(i) else {
            continue;
        };
        match (sel.sub, kind) {
            (Some(sub), _) => {
                let mut element = item.as_object().cloned().unwrap_or_default();
                write(&mut element, sub, coerce_value(sub, value.clone())?)?;
                *item = Value::Object(element);
            }
            (None, PatchOpKind::Replace) => *item = value.clone(),
            (None, _) => {
                let mut element = item.as_object().cloned().unwrap_or_default();
                merge_into(&mut element, def, value)?;
                *item = Value::Object(element);
            }
        }
    }
    demote_primaries(&mut items, &matched);
    store(slot, def, items)
}

/// RFC 7644 section 3.5.2.2: the matching records are removed, or with a sub-attribute that
/// sub-attribute of each; a record left empty goes, and an attribute left without records is
/// unassigned. A filter that matches nothing is `noTarget` (RFC 7644 section 3.12: "the
/// specified "path" value contains a filter that yields no match").
fn remove_elements(slot: &mut Object, sel: &Selection<'_>) -> Result<(), ScimError> {
    let def = sel.outer.attr;
    let mut items = elements(slot, def);
    let matched = sel.matching(&items);
    if matched.is_empty() {
        return Err(sel.no_target());
    }
    match sel.sub {
        Some(sub) => set_sub_on_elements(slot, def, sub, &matched, &Value::Null),
        None => {
            let mut index = 0;
            items.retain(|_| {
                index += 1;
                !matched.contains(&(index - 1))
            });
            store(slot, def, items)
        }
    }
}

/// Sets (or with `null` removes) `sub` on the elements at `indices`; elements left empty go.
fn set_sub_on_elements(
    slot: &mut Object,
    def: &AttrDef,
    sub: &AttrDef,
    indices: &[usize],
    value: &Value,
) -> Result<(), ScimError> {
    let value = coerce_value(sub, value.clone())?;
    let mut items = elements(slot, def);
    for &i in indices {
        if let Some(Value::Object(element)) = items.get_mut(i) {
            write(element, sub, value.clone())?;
        }
    }
    demote_primaries(&mut items, indices);
    items.retain(|item| !item.as_object().is_some_and(Map::is_empty));
    store(slot, def, items)
}

/// The record a filter of `sub eq literal` terms describes: `type eq "work"` is
/// `{"type": "work"}`. `None` when the filter says anything else (`or`, `not`, `co`, ...).
fn element_from_filter(def: &AttrDef, filter: &Filter) -> Option<Object> {
    if matches!(filter, Filter::Or(..)) {
        return None;
    }
    let mut element = Object::new();
    for term in filter.chain() {
        let Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } = term
        else {
            return None;
        };
        if path.schema.is_some() || path.sub.is_some() {
            return None;
        }
        let sub = find_attr(def.sub_attributes, &path.name)?;
        let value = match value {
            Literal::String(s) => Value::String(s.clone()),
            Literal::Number(n) => Value::Number(n.clone()),
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Null => return None,
        };
        element.insert(sub.name.to_owned(), value);
    }
    Some(element)
}

/// Merges the sub-attributes of `value` (an object) into one record; `null` removes one.
fn merge_into(element: &mut Object, def: &AttrDef, value: &Value) -> Result<(), ScimError> {
    let Value::Object(incoming) = value else {
        return Err(ScimError::InvalidValue(format!(
            "a value of `{}` must be an object",
            def.name
        )));
    };
    for (key, v) in incoming {
        if let Some(sub) = find_attr(def.sub_attributes, key) {
            if v.is_null() {
                element.remove(sub.name);
            } else {
                element.insert(sub.name.to_owned(), v.clone());
            }
        }
    }
    Ok(())
}

/// One record of the multi-valued `def`, coerced; `None` when nothing is left of it.
fn coerce_element(def: &AttrDef, element: Value) -> Result<Option<Value>, ScimError> {
    match coerce_value(def, element)? {
        Value::Array(mut items) => Ok(items.pop()),
        _ => Ok(None),
    }
}

/// RFC 7644 section 3.5.2: setting `primary` to true on one value "SHALL cause the server to
/// automatically set "primary" to "false" for any other values in the array". `touched` are
/// the values the operation wrote; the others lose their `primary: true`.
fn demote_primaries(items: &mut [Value], touched: &[usize]) {
    fn is_primary(v: &Value) -> bool {
        v.get("primary") == Some(&Value::Bool(true))
    }
    let promoted = touched
        .iter()
        .any(|&i| items.get(i).is_some_and(is_primary));
    if !promoted {
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        if !touched.contains(&i)
            && is_primary(item)
            && let Some(item) = item.as_object_mut()
        {
            item.insert("primary".into(), Value::Bool(false));
        }
    }
}

// ---- The document's slots ----

/// The object an attribute lives in: the document, or its extension object (created empty).
fn container<'d>(doc: &'d mut Object, urn: Option<&str>) -> Result<&'d mut Object, ScimError> {
    let Some(urn) = urn else {
        return Ok(doc);
    };
    doc.entry(urn)
        .or_insert_with(|| Value::Object(Object::new()))
        .as_object_mut()
        .ok_or_else(|| ScimError::InvalidValue(format!("`{urn}` must be an object")))
}

/// An extension object left empty is unassigned.
fn prune_extensions(doc: &mut Object, rt: &ResourceTypeDef) {
    for (schema, _) in rt.extensions {
        if doc
            .get(schema.id)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            doc.remove(schema.id);
        }
    }
}

fn remove_extension(doc: &mut Object, schema: &SchemaDef) -> Result<(), ScimError> {
    let Some(Value::Object(ext)) = doc.get_mut(schema.id) else {
        return Ok(());
    };
    for def in schema.attributes {
        unassign(ext, def)?;
    }
    Ok(())
}

/// The values of the multi-valued `def`, in order (empty when unassigned).
fn elements(slot: &Object, def: &AttrDef) -> Vec<Value> {
    match slot.get(def.name) {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(one) => vec![one.clone()],
    }
}

fn element_indices(slot: &Object, def: &AttrDef) -> Vec<usize> {
    (0..elements(slot, def).len()).collect()
}

/// Stores the values of a multi-valued attribute, coerced as a whole (which also rejects two
/// primaries); no values left is unassigned.
fn store(slot: &mut Object, def: &AttrDef, items: Vec<Value>) -> Result<(), ScimError> {
    write(slot, def, coerce_value(def, Value::Array(items))?)
}

/// Stores a coerced value; `null` unassigns. RFC 7644 section 3.5.2: a client "MAY "add" a value
/// to an "immutable" attribute if the attribute had no previous value", and must not change one
/// that has a value.
fn write(slot: &mut Object, def: &AttrDef, value: Value) -> Result<(), ScimError> {
    if value.is_null() {
        return unassign(slot, def);
    }
    if def.mutability == Mutability::Immutable
        && let Some(old) = slot.get(def.name)
        && !same_value(def, old, &value)
    {
        return Err(immutable(def));
    }
    slot.insert(def.name.to_owned(), value);
    Ok(())
}

/// RFC 7644 section 3.5.2.2: an attribute that is required (or immutable with a value) cannot
/// become unassigned: `mutability`. An attribute without a value stays so.
fn unassign(slot: &mut Object, def: &AttrDef) -> Result<(), ScimError> {
    if !slot.contains_key(def.name) {
        return Ok(());
    }
    if def.required {
        return Err(ScimError::Mutability(format!(
            "attribute `{}` is required and cannot be removed",
            def.name
        )));
    }
    if def.mutability == Mutability::Immutable {
        return Err(immutable(def));
    }
    slot.remove(def.name);
    Ok(())
}

fn immutable(def: &AttrDef) -> ScimError {
    ScimError::Mutability(format!(
        "attribute `{}` is immutable and already has a value",
        def.name
    ))
}

/// Equality as `caseExact` defines it for strings; exact otherwise.
fn same_value(def: &AttrDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) if !def.case_exact => a.eq_ignore_ascii_case(b),
        _ => a == b,
    }
}

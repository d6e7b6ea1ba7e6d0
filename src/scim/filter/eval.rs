//! Type checks and evaluation of a `Filter` against a resource type and a canonical document
//! (RFC 7644 section 3.4.2.2). Both walk the same resolution (`resolve`, `comparison`,
//! `operand`), so a filter that `check` accepts is evaluated by exactly the rules it was
//! checked with. Evaluation is total: whatever `check` would reject evaluates to false.
//! Must not parse text or know where documents come from.

use super::{AttrPath, CompareOp, Filter, Literal};
use crate::scim::schema::{
    AttrDef, AttrType, Mutability, Resolved, ResourceTypeDef, Returned, Uniqueness, find_attr,
};
use serde_json::{Number, Value};
use std::cmp::Ordering;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where the paths of a filter are resolved and read.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope {
    /// The resource: paths are `[urn:]name[.sub]`, read from the resource document.
    Resource,
    /// Inside `attr[...]`: paths name sub-attributes of `attr`, read from one element.
    Element(Resolved),
}

/// `schemas` (RFC 7643 section 3) is in no schema but RFC 7644 section 3.4.2.2 filters on it
/// (`schemas eq "urn:...:enterprise:2.0:User"`); used when the resource type does not define it.
static SCHEMAS: AttrDef = AttrDef {
    name: "schemas",
    ty: AttrType::Reference,
    multi_valued: true,
    required: true,
    case_exact: false,
    mutability: Mutability::ReadOnly,
    returned: Returned::Always,
    uniqueness: Uniqueness::None,
    canonical_values: &[],
    reference_types: &["uri"],
    sub_attributes: &[],
    description: "The schema URIs the resource conforms to.",
};

/// The scope of a value filter on `attr`: `None` when `attr` is not a known complex attribute.
pub(super) fn element_scope(attr: &AttrPath, rt: &ResourceTypeDef) -> Option<Scope> {
    let outer = rt.resolve(attr)?;
    (outer.sub.is_none() && outer.attr.ty == AttrType::Complex).then_some(Scope::Element(outer))
}

fn resolve(path: &AttrPath, rt: &ResourceTypeDef, scope: Scope) -> Option<Resolved> {
    match scope {
        Scope::Resource => rt.resolve(path).or_else(|| {
            let bare = path.schema.is_none() && path.sub.is_none();
            (bare && path.name.eq_ignore_ascii_case(SCHEMAS.name)).then_some(Resolved {
                schema: None,
                attr: &SCHEMAS,
                sub: None,
            })
        }),
        Scope::Element(outer) => {
            if path.schema.is_some() || path.sub.is_some() {
                return None;
            }
            let sub = find_attr(outer.attr.sub_attributes, &path.name)?;
            Some(Resolved {
                sub: Some(sub),
                ..outer
            })
        }
    }
}

/// Attributes that are never returned (`password`) cannot be filtered on either: a filter
/// would be an oracle for their value.
fn filterable(path: &AttrPath, rt: &ResourceTypeDef, scope: Scope) -> Result<(), String> {
    match resolve(path, rt, scope) {
        Some(r) if r.attr.returned == Returned::Never || r.leaf().returned == Returned::Never => {
            Err(format!(
                "`{path}` is never returned and cannot be filtered on"
            ))
        }
        _ => Ok(()),
    }
}

pub(super) fn check(filter: &Filter, rt: &ResourceTypeDef, scope: Scope) -> Result<(), String> {
    match filter {
        Filter::Present(path) => filterable(path, rt, scope),
        Filter::Compare { path, op, value } => {
            filterable(path, rt, scope)?;
            // An attribute the schema does not define is not an error: it evaluates to false.
            // RFC 7644 section 3.4.2.2 only requires `invalidFilter` for unrecognized
            // operators and says nothing of unknown attributes.
            let Some(resolved) = resolve(path, rt, scope) else {
                return Ok(());
            };
            let (def, _) = comparison(path, &resolved, *op)?;
            operand(path, def, *op, value).map(drop)
        }
        Filter::ValuePath { path, filter } => match scope {
            Scope::Element(_) => Err(format!("value filters cannot nest, as in `{path}[...]`")),
            Scope::Resource => match element_scope(path, rt) {
                Some(inner) => check(filter, rt, inner),
                None if rt.resolve(path).is_none() => Ok(()),
                None => Err(format!(
                    "`{path}` is not a complex attribute: it takes no value filter"
                )),
            },
        },
        Filter::Not(inner) => check(inner, rt, scope),
        Filter::And(l, r) | Filter::Or(l, r) => {
            check(l, rt, scope)?;
            check(r, rt, scope)
        }
    }
}

pub(super) fn matches(filter: &Filter, rt: &ResourceTypeDef, scope: Scope, doc: &Value) -> bool {
    match filter {
        Filter::Present(path) => {
            let Some(resolved) = resolve(path, rt, scope) else {
                return false;
            };
            values(rt, scope, &resolved, doc, None)
                .into_iter()
                .any(is_present)
        }
        Filter::Compare { path, op, value } => compare(path, *op, value, rt, scope, doc),
        Filter::ValuePath { path, filter } => {
            let (Scope::Resource, Some(inner @ Scope::Element(outer))) =
                (scope, element_scope(path, rt))
            else {
                return false;
            };
            let mut elements = Vec::new();
            push_flat(&mut elements, outer.get(rt, doc));
            elements.into_iter().any(|e| matches(filter, rt, inner, e))
        }
        Filter::Not(f) => !matches(f, rt, scope, doc),
        Filter::And(l, r) => matches(l, rt, scope, doc) && matches(r, rt, scope, doc),
        Filter::Or(l, r) => matches(l, rt, scope, doc) || matches(r, rt, scope, doc),
    }
}

/// `ne` is `not eq`: an absent attribute satisfies `ne` (RFC 7643 section 2.5 makes unassigned
/// equivalent to null, which is not identical to any value), and on a multi-valued attribute
/// `ne` holds when no value is equal (`emails.type ne "work"`: no work email).
fn compare(
    path: &AttrPath,
    op: CompareOp,
    literal: &Literal,
    rt: &ResourceTypeDef,
    scope: Scope,
    doc: &Value,
) -> bool {
    // An unknown attribute matches nothing, whatever the operator (see `check`).
    let Some(resolved) = resolve(path, rt, scope) else {
        return false;
    };
    let (op, negate) = match op {
        CompareOp::Ne => (CompareOp::Eq, true),
        op => (op, false),
    };
    let Ok((def, through)) = comparison(path, &resolved, op) else {
        return false;
    };
    let Ok(operand) = operand(path, def, op, literal) else {
        return false;
    };
    let values = values(rt, scope, &resolved, doc, through);
    let hit = match &operand {
        Operand::Null => !values.into_iter().any(is_present),
        operand => values.into_iter().any(|v| test(op, operand, v)),
    };
    hit != negate
}

/// The definition a comparison is typed by, and the sub-attribute values are read through when
/// a complex attribute is compared as a whole (`emails co "x"` compares each `emails.value`).
fn comparison(
    path: &AttrPath,
    resolved: &Resolved,
    op: CompareOp,
) -> Result<(&'static AttrDef, Option<&'static AttrDef>), String> {
    let leaf = resolved.leaf();
    if leaf.ty != AttrType::Complex {
        return Ok((leaf, None));
    }
    if is_ordering(op) {
        return Err(format!(
            "`{op}` cannot compare the complex attribute `{path}`"
        ));
    }
    match find_attr(leaf.sub_attributes, "value") {
        Some(value) => Ok((value, Some(value))),
        None => Err(format!(
            "`{path}` is complex: compare one of its sub-attributes"
        )),
    }
}

fn is_ordering(op: CompareOp) -> bool {
    matches!(
        op,
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
    )
}

/// A literal converted to the attribute's type, once per comparison.
#[derive(Debug)]
enum Operand {
    /// `eq null`/`ne null`: whether the attribute is unassigned.
    Null,
    /// Lowercased unless `case_exact`.
    Text {
        text: String,
        case_exact: bool,
    },
    Number(Number),
    Bool(bool),
    Time(OffsetDateTime),
}

/// Checks that `op` suits the attribute type and converts the literal. A quoted scalar that
/// parses as the attribute's type is accepted (`active eq "true"`, as Entra sends); bare and
/// JSON scalars compare with string attributes as their text (`externalId eq 42`).
fn operand(
    path: &AttrPath,
    def: &AttrDef,
    op: CompareOp,
    literal: &Literal,
) -> Result<Operand, String> {
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    if let Literal::Null = literal {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(Operand::Null),
            _ => Err(format!("`{op}` cannot compare `{path}` with null")),
        };
    }
    match def.ty {
        AttrType::Boolean | AttrType::Binary if is_ordering(op) => Err(format!(
            "`{op}` cannot compare `{path}`: booleans and binaries are not ordered"
        )),
        AttrType::Boolean | AttrType::Integer | AttrType::Decimal | AttrType::DateTime
            if substring =>
        {
            Err(format!(
                "`{op}` applies to strings, and `{path}` is not one"
            ))
        }
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            let case_exact = def.case_exact || def.ty == AttrType::Binary;
            let text = match literal {
                Literal::String(s) => s.clone(),
                other => other.to_string(),
            };
            let text = if case_exact {
                text
            } else {
                text.to_lowercase()
            };
            Ok(Operand::Text { text, case_exact })
        }
        AttrType::Boolean => match literal {
            Literal::Bool(b) => Ok(Operand::Bool(*b)),
            Literal::String(s) if s.eq_ignore_ascii_case("true") => Ok(Operand::Bool(true)),
            Literal::String(s) if s.eq_ignore_ascii_case("false") => Ok(Operand::Bool(false)),
            _ => Err(format!("`{path}` is a boolean and `{literal}` is not")),
        },
        AttrType::Integer | AttrType::Decimal => match literal {
            Literal::Number(n) => Ok(Operand::Number(n.clone())),
            Literal::String(s) => serde_json::from_str::<Number>(s.trim())
                .map(Operand::Number)
                .map_err(|_| format!("`{path}` is a number and `{literal}` is not")),
            _ => Err(format!("`{path}` is a number and `{literal}` is not")),
        },
        AttrType::DateTime => match literal {
            Literal::String(s) => parse_time(s).map(Operand::Time).ok_or_else(|| {
                format!("`{path}` is a dateTime and `{literal}` is not an RFC 3339 date-time")
            }),
            _ => Err(format!(
                "`{path}` is a dateTime and `{literal}` is not an RFC 3339 date-time"
            )),
        },
        AttrType::Complex => Err(format!(
            "`{path}` is complex: compare one of its sub-attributes"
        )),
    }
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Whether one attribute value satisfies `op` (never `ne`: see `compare`). A value of the
/// wrong JSON type never matches.
fn test(op: CompareOp, operand: &Operand, value: &Value) -> bool {
    let ordering = match (operand, value) {
        (Operand::Text { text, case_exact }, Value::String(s)) => {
            let folded;
            let s = if *case_exact {
                s.as_str()
            } else {
                folded = s.to_lowercase();
                folded.as_str()
            };
            match op {
                CompareOp::Co => return s.contains(text.as_str()),
                CompareOp::Sw => return s.starts_with(text.as_str()),
                CompareOp::Ew => return s.ends_with(text.as_str()),
                _ => Some(s.cmp(text.as_str())),
            }
        }
        (Operand::Number(n), Value::Number(v)) => compare_numbers(v, n),
        (Operand::Bool(b), Value::Bool(v)) => Some(v.cmp(b)),
        (Operand::Time(t), Value::String(s)) => parse_time(s).map(|v| v.cmp(t)),
        _ => None,
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Exact for two integers, by `f64` otherwise.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return Some(a.cmp(&b));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// The values a path designates in `doc`, multi-valued attributes flattened one level.
/// `through` reads that sub-attribute of each value instead (see `comparison`).
fn values<'d>(
    rt: &ResourceTypeDef,
    scope: Scope,
    resolved: &Resolved,
    doc: &'d Value,
    through: Option<&AttrDef>,
) -> Vec<&'d Value> {
    let mut out = Vec::new();
    match (scope, resolved.sub) {
        (Scope::Element(_), Some(sub)) => push_flat(&mut out, doc.get(sub.name)),
        (Scope::Element(_), None) => {}
        (Scope::Resource, None) => push_flat(&mut out, resolved.get(rt, doc)),
        (Scope::Resource, Some(sub)) => {
            let mut parents = Vec::new();
            push_flat(&mut parents, resolved.get(rt, doc));
            for parent in parents {
                push_flat(&mut out, parent.get(sub.name));
            }
        }
    }
    if let Some(sub) = through {
        for element in std::mem::take(&mut out) {
            push_flat(&mut out, element.get(sub.name));
        }
    }
    out
}

fn push_flat<'d>(out: &mut Vec<&'d Value>, value: Option<&'d Value>) {
    match value {
        Some(Value::Array(items)) => out.extend(items),
        Some(value) => out.push(value),
        None => {}
    }
}

/// RFC 7644 `pr`: a non-null, non-empty value, or a complex value with such a member.
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

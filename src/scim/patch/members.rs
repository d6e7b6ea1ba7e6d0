//! Operations on a group's `members` -> `MemberOp`s, in request order. Membership is a row, so
//! nothing here reads or writes the document, and nothing checks that a member exists or is
//! already in the group: adding a present member or removing an absent one is the directory's
//! no-op.

use super::target::Target;
use super::{MemberOp, MemberRef, PatchOpKind};
use crate::scim::ScimError;
use crate::scim::filter::{CompareOp, Filter, Literal};
use crate::scim::schema::{ResourceKind, ResourceTypeDef};
use serde_json::Value;

/// Whether `target` is (part of) a group's `members`.
pub(super) fn is_members(target: &Target, rt: &ResourceTypeDef) -> bool {
    let outer = match target {
        Target::Attr(r) => r,
        Target::Elements { outer, .. } => outer,
        Target::Resource | Target::Extension(_) => return false,
    };
    rt.kind == ResourceKind::Group && outer.schema.is_some() && outer.attr.name == "members"
}

/// One operation on `members` (already known to be `is_members`).
pub(super) fn edit(
    kind: PatchOpKind,
    target: &Target,
    value: Option<&Value>,
    out: &mut Vec<MemberOp>,
) -> Result<(), ScimError> {
    match (kind, target) {
        (PatchOpKind::Add, Target::Attr(r)) if r.sub.is_none() => {
            let refs = refs(value)?;
            if !refs.is_empty() {
                out.push(MemberOp::Add(refs));
            }
        }
        (PatchOpKind::Replace, Target::Attr(r)) if r.sub.is_none() => {
            let refs = refs(value)?;
            out.push(MemberOp::RemoveAll);
            if !refs.is_empty() {
                out.push(MemberOp::Add(refs));
            }
        }
        // Entra removes members with `"path": "members"` and the members in `value`: only those
        // go. Without a value, RFC 7644 section 3.5.2.2 removes "the attribute and all values".
        (PatchOpKind::Remove, Target::Attr(r)) if r.sub.is_none() => match value {
            None => out.push(MemberOp::RemoveAll),
            Some(value) => {
                let ids: Vec<String> = refs(Some(value))?.into_iter().map(|r| r.value).collect();
                if !ids.is_empty() {
                    out.push(MemberOp::Remove(ids));
                }
            }
        },
        (
            PatchOpKind::Remove,
            Target::Elements {
                filter, sub: None, ..
            },
        ) => {
            out.push(match value_eq_ids(filter) {
                Some(ids) => MemberOp::Remove(ids),
                None => MemberOp::RemoveWhere(filter.clone()),
            });
        }
        _ => {
            return Err(ScimError::Mutability(
                "the sub-attributes of `members` are immutable: add or remove whole members \
                 with the path `members`"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// The members of a value: an array of member objects or one object; `null` is none.
pub(super) fn refs(value: Option<&Value>) -> Result<Vec<MemberRef>, ScimError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(member_ref).collect(),
        Some(one) => Ok(vec![member_ref(one)?]),
    }
}

/// `{"value": "id", "type": "User"}`: a non-empty string `value`, an optional `type` of `User`
/// or `Group` in any case. Other sub-attributes (`display`, `$ref`) are ignored: they are
/// computed from the member.
fn member_ref(item: &Value) -> Result<MemberRef, ScimError> {
    let Value::Object(item) = item else {
        return Err(ScimError::InvalidValue(
            "a member must be an object with a `value`".into(),
        ));
    };
    let get = |name: &str| {
        item.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let value = match get("value") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(ScimError::InvalidValue(
                "a member's `value` must be a non-empty string".into(),
            ));
        }
    };
    let kind = match get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(
            ["User", "Group"]
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(t))
                .ok_or_else(|| {
                    ScimError::InvalidValue(format!(
                        "member `{value}` has type `{t}`: use `User` or `Group`"
                    ))
                })?
                .to_owned(),
        ),
        Some(_) => {
            return Err(ScimError::InvalidValue(format!(
                "member `{value}` has a `type` that is not a string"
            )));
        }
    };
    let display = match get("display").or_else(|| get("displayName")) {
        Some(Value::String(d)) if !d.is_empty() => Some(d.clone()),
        _ => None,
    };
    Ok(MemberRef {
        value,
        kind,
        display,
    })
}

/// The ids of `value eq "a"` or `value eq "a" or value eq "b" ...`, the forms clients use to
/// remove members; `None` for any other filter.
fn value_eq_ids(filter: &Filter) -> Option<Vec<String>> {
    if matches!(filter, Filter::And(..)) {
        return None;
    }
    filter
        .chain()
        .into_iter()
        .map(|f| match f {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: Literal::String(id),
            } if path.schema.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
            {
                Some(id.clone())
            }
            _ => None,
        })
        .collect()
}

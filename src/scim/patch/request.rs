//! The PatchOp request body (RFC 7644 section 3.5.2) -> `Vec<PatchOp>`. Checks the envelope and
//! each operation's shape; knows nothing of the resource type (`document` resolves paths).
//!
//! Member names are matched case-insensitively (`Operations`, `op`, `path`, `value`): RFC 7643
//! section 2.1 makes attribute names case-insensitive and Entra capitalizes `op` values.

use super::{PatchOp, PatchOpKind};
use crate::scim::ScimError;
use crate::scim::filter::{self, FilterLimits};
use crate::scim::schema::PATCH_OP_SCHEMA;
use serde_json::{Map, Value};

pub(super) fn parse(
    body: &Value,
    operations_max: usize,
    limits: &FilterLimits,
) -> Result<Vec<PatchOp>, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::InvalidSyntax(
            "a PatchOp request must be a JSON object".into(),
        ));
    };
    check_schemas(member(body, "schemas"))?;
    let ops = match member(body, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        Some(Value::Array(_)) => {
            return Err(ScimError::InvalidSyntax(
                "`Operations` must hold at least one operation".into(),
            ));
        }
        Some(_) => {
            return Err(ScimError::InvalidSyntax(
                "`Operations` must be an array".into(),
            ));
        }
        None => {
            return Err(ScimError::InvalidSyntax(
                "a PatchOp request needs `Operations`".into(),
            ));
        }
    };
    // `tooMany` (RFC 7644 section 3.12: more than the server is willing to process) rather than
    // `invalidValue`: the request is well formed, only too large for this server's limit.
    if ops.len() > operations_max {
        return Err(ScimError::TooMany(format!(
            "the request has {} operations, more than the {operations_max} allowed",
            ops.len()
        )));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_op(op, limits).map_err(|e| super::in_operation(i, e)))
        .collect()
}

/// A member by name: the exact spelling first, else the first that matches case-insensitively.
fn member<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// RFC 7644 section 3.5.2: the body "MUST" carry the PatchOp URN. Entra, Okta and OneLogin all
/// send it, so a missing or different one is rejected rather than guessed at.
fn check_schemas(schemas: Option<&Value>) -> Result<(), ScimError> {
    let listed = match schemas {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA)),
        _ => false,
    };
    if listed {
        Ok(())
    } else {
        Err(ScimError::InvalidSyntax(format!(
            "`schemas` must list `{PATCH_OP_SCHEMA}`"
        )))
    }
}

fn parse_op(op: &Value, limits: &FilterLimits) -> Result<PatchOp, ScimError> {
    let Value::Object(op) = op else {
        return Err(ScimError::InvalidSyntax(
            "an operation must be a JSON object".into(),
        ));
    };
    let kind = match member(op, "op") {
        Some(Value::String(s)) => op_kind(s)?,
        Some(_) => return Err(ScimError::InvalidSyntax("`op` must be a string".into())),
        None => return Err(ScimError::InvalidSyntax("an operation needs `op`".into())),
    };
    let path = match member(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(filter::parse_path(text, limits)?),
        Some(_) => return Err(ScimError::InvalidPath("`path` must be a string".into())),
    };
    let value = member(op, "value").cloned();
    match kind {
        // RFC 7644 section 3.5.2.2: "If "path" is unspecified, the operation fails with ...
        // noTarget". A path-less remove with a value is left to `document`, which accepts
        // `{"members": [...]}` on groups.
        PatchOpKind::Remove if path.is_none() && value.as_ref().is_none_or(Value::is_null) => Err(
            ScimError::NoTarget("a `remove` operation needs a `path`".into()),
        ),
        // RFC 7644 sections 3.5.2.1 and 3.5.2.3: the operation "MUST contain a "value"". An
        // explicit `null` is a value: it makes the target unassigned (RFC 7643 section 2.5).
        PatchOpKind::Add | PatchOpKind::Replace if value.is_none() => Err(
            ScimError::InvalidSyntax(format!("an `{}` operation needs a `value`", op_name(kind))),
        ),
        _ => Ok(PatchOp {
            op: kind,
            path,
            value: value.filter(|v| kind != PatchOpKind::Remove || !v.is_null()),
        }),
    }
}

fn op_kind(text: &str) -> Result<PatchOpKind, ScimError> {
    [PatchOpKind::Add, PatchOpKind::Remove, PatchOpKind::Replace]
        .into_iter()
        .find(|k| op_name(*k).eq_ignore_ascii_case(text))
        .ok_or_else(|| {
            ScimError::InvalidSyntax(format!(
                "`{text}` is not a PATCH operation: use `add`, `remove` or `replace`"
            ))
        })
}

fn op_name(kind: PatchOpKind) -> &'static str {
    match kind {
        PatchOpKind::Add => "add",
        PatchOpKind::Remove => "remove",
        PatchOpKind::Replace => "replace",
    }
}

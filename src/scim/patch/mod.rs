//! PATCH (RFC 7644 section 3.5.2) applied to a resource document, plus what real clients send
//! (Entra, Okta). Group membership is never part of the document: operations on `members`
//! become `MemberOp`s that the directory layer applies to membership rows.
//!
//! Owns the request model (`PatchOp`), its parsing and its application to one canonical document.
//! Must not touch the store, know whether a member exists, or validate the whole document: the
//! directory runs `schema::validate_document` after `apply`. The split:
//! - `request`: the PatchOp body -> `Vec<PatchOp>` (schemas, `Operations`, `op`, `path`);
//! - `target`: a `PatchPath` resolved against the resource type;
//! - `document`: add, remove and replace on the document (sections 3.5.2.1 to 3.5.2.3);
//! - `members`: operations on a group's `members` -> `MemberOp`s.
//!
//! Where cloudsso departs from the RFC for a client's sake, the code says so in a comment that
//! starts with `DEVIATION:`; `conformance/patch/README.md` lists them.

mod document;
mod members;
mod request;
mod target;
#[cfg(test)]
mod tests;

use crate::scim::ScimError;
use crate::scim::filter::{Filter, FilterLimits, PatchPath};
use crate::scim::schema::ResourceTypeDef;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A reference to a group member as sent by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub value: String,
    /// "User" or "Group" when the client said so.
    pub kind: Option<String>,
    /// The display name the client gave (`display`, or Microsoft's `displayName`), echoed back.
    pub display: Option<String>,
}

/// Membership changes, in request order.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    Add(Vec<MemberRef>),
    Remove(Vec<String>),
    /// Remove the members an element filter selects (`members[display eq "x"]`).
    RemoveWhere(Filter),
    RemoveAll,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchEffect {
    pub members: Vec<MemberOp>,
}

/// Parses a PatchOp request body (schemas, `Operations`, `op` in any case, paths).
///
/// A body without the PatchOp URN in `schemas` is `invalidSyntax`; more than `operations_max`
/// operations is `tooMany`; a `remove` without `path` or `value` is `noTarget`; an `add` or
/// `replace` without `value` is `invalidSyntax`; a malformed `path` is `invalidPath`.
pub fn parse_request(
    body: &Value,
    operations_max: usize,
    filter_limits: &FilterLimits,
) -> Result<Vec<PatchOp>, ScimError> {
    request::parse(body, operations_max, filter_limits)
}

/// Applies all operations to `doc` (a stored document without `members`/`groups`), atomically:
/// on error `doc` may be partly changed and the caller must discard it.
pub fn apply(
    doc: &mut Value,
    ops: &[PatchOp],
    rt: &ResourceTypeDef,
) -> Result<PatchEffect, ScimError> {
    let Some(doc) = doc.as_object_mut() else {
        return Err(ScimError::InvalidValue(
            "the resource to patch is not a JSON object".into(),
        ));
    };
    let mut effect = PatchEffect::default();
    for (i, op) in ops.iter().enumerate() {
        document::apply_op(doc, op, rt, &mut effect.members).map_err(|e| in_operation(i, e))?;
    }
    Ok(effect)
}

/// Prefixes an error with the index of the operation that caused it, keeping its `scimType`.
fn in_operation(index: usize, error: ScimError) -> ScimError {
    let at = |message: String| format!("`Operations[{index}]`: {message}");
    match error {
        ScimError::InvalidFilter(m) => ScimError::InvalidFilter(at(m)),
        ScimError::InvalidSyntax(m) => ScimError::InvalidSyntax(at(m)),
        ScimError::InvalidPath(m) => ScimError::InvalidPath(at(m)),
        ScimError::NoTarget(m) => ScimError::NoTarget(at(m)),
        ScimError::InvalidValue(m) => ScimError::InvalidValue(at(m)),
        ScimError::Mutability(m) => ScimError::Mutability(at(m)),
        ScimError::TooMany(m) => ScimError::TooMany(at(m)),
    }
}

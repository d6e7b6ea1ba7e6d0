//! PATCH (RFC 7644 section 3.5.2) applied to a resource document, plus what real clients send
//! (Entra, Okta). Group membership is never part of the document: operations on `members`
//! become `MemberOp`s that the directory layer applies to membership rows.

use crate::scim::ScimError;
use crate::scim::filter::{Filter, PatchPath};
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
pub fn parse_request(
    _body: &Value,
    _operations_max: usize,
    _filter_limits: &crate::scim::filter::FilterLimits,
) -> Result<Vec<PatchOp>, ScimError> {
    Err(ScimError::InvalidSyntax(
        "patch is not implemented yet".into(),
    ))
}

/// Applies all operations to `doc` (a stored document without `members`/`groups`), atomically:
/// on error `doc` may be partly changed and the caller must discard it.
pub fn apply(
    _doc: &mut Value,
    _ops: &[PatchOp],
    _rt: &ResourceTypeDef,
) -> Result<PatchEffect, ScimError> {
    Err(ScimError::InvalidSyntax(
        "patch is not implemented yet".into(),
    ))
}

//! Planning membership changes: PATCH and PUT member operations are folded into a plan with
//! reads only, then applied to the membership rows in one go (validate, then write).

use super::query::value_eq_literal;
use crate::error::DomainError;
use crate::scim::ScimError;
use crate::scim::filter::{self, Filter};
use crate::scim::patch::{MemberOp, MemberRef};
use crate::scim::schema::{self, ResourceKind};
use crate::store::{MemberWrite, WriteTxn};

/// A member to be present: its kind and the display the client gave.
type Present = (ResourceKind, Option<String>);
use serde_json::json;
use std::collections::BTreeMap;

/// Pending membership changes of one group, over what the store holds.
#[derive(Debug, Default)]
pub(super) struct MemberPlan {
    /// Every stored row is to go (a replace), except those re-added in `changes`.
    cleared: bool,
    /// member id -> Some(kind, display) to add, None to remove.
    changes: BTreeMap<String, Option<Present>>,
    /// The stored members, read once for filtered removes.
    stored: Option<BTreeMap<String, ResourceKind>>,
}

/// What applying a plan changed.
#[derive(Debug, Default)]
pub(super) struct MemberDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Some member that stayed had its display changed.
    pub display_changed: bool,
}

impl MemberPlan {
    /// A replace of the whole member list (PUT, `replace members`).
    pub fn replace_all(
        &mut self,
        txn: &WriteTxn,
        dir: &str,
        group: &str,
        refs: &[MemberRef],
    ) -> Result<(), DomainError> {
        self.cleared = true;
        self.changes.clear();
        self.add(txn, dir, group, refs)
    }

    pub fn add(
        &mut self,
        txn: &WriteTxn,
        dir: &str,
        group: &str,
        refs: &[MemberRef],
    ) -> Result<(), DomainError> {
        let ids: Vec<&str> = refs.iter().map(|r| r.value.as_str()).collect();
        let kinds = txn.kinds_of(dir, &ids)?;
        for (r, (is_user, is_group)) in refs.iter().zip(kinds) {
            let kind = resolve_member(group, r, is_user, is_group)?;
            self.changes
                .insert(r.value.clone(), Some((kind, r.display.clone())));
        }
        Ok(())
    }

    pub fn remove(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            self.changes.insert(id, None);
        }
    }

    /// Current members after the plan so far (reads every row: for filtered removes only).
    fn current(
        &mut self,
        txn: &WriteTxn,
        dir: &str,
        group: &str,
    ) -> Result<Vec<(String, ResourceKind)>, DomainError> {
        if !self.cleared && self.stored.is_none() {
            let rows = txn.members(dir, group, usize::MAX)?;
            self.stored = Some(rows.into_iter().map(|m| (m.id, m.kind)).collect());
        }
        let mut out: BTreeMap<&str, ResourceKind> = BTreeMap::new();
        if !self.cleared {
            for (id, k) in self.stored.iter().flatten() {
                out.insert(id, *k);
            }
        }
        for (id, c) in &self.changes {
            match c {
                Some((k, _)) => {
                    out.insert(id, *k);
                }
                None => {
                    out.remove(id.as_str());
                }
            }
        }
        Ok(out.into_iter().map(|(id, k)| (id.to_owned(), k)).collect())
    }

    /// Folds one PATCH member operation into the plan.
    pub fn apply_op(
        &mut self,
        txn: &WriteTxn,
        dir: &str,
        group: &str,
        op: &MemberOp,
    ) -> Result<(), DomainError> {
        match op {
            MemberOp::Add(refs) => self.add(txn, dir, group, refs),
            MemberOp::Remove(ids) => {
                self.remove(ids.iter().cloned());
                Ok(())
            }
            MemberOp::RemoveAll => {
                self.cleared = true;
                self.changes.clear();
                Ok(())
            }
            MemberOp::RemoveWhere(f) => {
                if let Some(ids) = value_eq_ids(f) {
                    self.remove(ids);
                    return Ok(());
                }
                let rt = schema::resource_type(ResourceKind::Group);
                let members_path = filter::AttrPath {
                    schema: None,
                    name: "members".into(),
                    sub: None,
                };
                let wrapped = Filter::ValuePath {
                    path: members_path,
                    filter: Box::new(f.clone()),
                };
                let mut gone = Vec::new();
                for (id, kind) in self.current(txn, dir, group)? {
                    let doc = json!({"members": [{"value": id, "type": kind.as_str()}]});
                    if filter::matches(&wrapped, &doc, rt) {
                        gone.push(id);
                    }
                }
                self.remove(gone);
                Ok(())
            }
        }
    }

    /// Writes the plan to the membership rows.
    pub fn apply(self, txn: &WriteTxn, dir: &str, group: &str) -> Result<MemberDiff, DomainError> {
        let mut diff = MemberDiff::default();
        let mut gone: Vec<String> = Vec::new();
        if self.cleared {
            // Every stored row goes, except those re-added.
            gone.extend(
                txn.members(dir, group, usize::MAX)?
                    .into_iter()
                    .map(|m| m.id)
                    .filter(|id| !matches!(self.changes.get(id), Some(Some(_)))),
            );
        }
        let mut adds: Vec<(&str, ResourceKind, Option<&str>)> = Vec::new();
        for (m, c) in &self.changes {
            match c {
                Some((kind, display)) => adds.push((m, *kind, display.as_deref())),
                None if !self.cleared => gone.push(m.clone()),
                None => {}
            }
        }
        let gone_refs: Vec<&str> = gone.iter().map(String::as_str).collect();
        for (m, was) in gone.iter().zip(txn.remove_members(dir, group, &gone_refs)?) {
            if was {
                diff.removed.push(m.clone());
            }
        }
        for ((m, _, _), outcome) in adds.iter().zip(txn.add_members(dir, group, &adds)?) {
            match outcome {
                MemberWrite::Added => diff.added.push((*m).to_owned()),
                MemberWrite::Changed => diff.display_changed = true,
                MemberWrite::Unchanged => {}
            }
        }
        Ok(diff)
    }
}

/// The member must exist in the same directory (as the `type` it names, if any); a group
/// cannot contain itself.
fn resolve_member(
    group: &str,
    r: &MemberRef,
    is_user: bool,
    is_group: bool,
) -> Result<ResourceKind, DomainError> {
    if r.value == group {
        return Err(ScimError::InvalidValue(format!(
            "group `{group}` cannot be a member of itself"
        ))
        .into());
    }
    let named = |k: &str| r.kind.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(k));
    match (named("user"), named("group")) {
        (_, false) if is_user => Ok(ResourceKind::User),
        (false, _) if is_group => Ok(ResourceKind::Group),
        _ => Err(ScimError::InvalidValue(format!("member `{}` does not exist", r.value)).into()),
    }
}

/// The ids of `value eq "a" or value eq "b" ...`, the form clients use to remove members.
fn value_eq_ids(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Or(a, b) => {
            let mut x = value_eq_ids(a)?;
            x.extend(value_eq_ids(b)?);
            Some(x)
        }
        f => value_eq_literal(f).map(|v| vec![v.to_owned()]),
    }
}

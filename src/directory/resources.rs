//! Writes of users and groups: create (POST), replace (PUT), patch (PATCH), delete (DELETE).
//! Each is one job of the batched writer: reads and validation first, then writes, then the
//! change events, all in the batch's transaction.

use super::manage::{ApiGuard, ResourceInfo, store_info};
use super::members::MemberPlan;
use super::*;
use crate::model::{UserId, new_group_id, new_user_id};
use crate::scim::patch::{MemberOp, MemberRef};

/// The attribute that must be unique per directory, case-insensitively.
fn unique_attr(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    }
}

fn check_unique(
    txn: &WriteTxn,
    kind: ResourceKind,
    dir: &str,
    doc: &Value,
    own_id: Option<&str>,
) -> Result<(), DomainError> {
    let attr = unique_attr(kind);
    let Some(name) = doc.get(attr).and_then(Value::as_str) else {
        return Ok(());
    };
    match txn.id_by_name(kind, dir, name)? {
        Some(other) if Some(other.as_str()) != own_id => Err(DomainError::Uniqueness(format!(
            "{attr} `{name}` is already in use in this directory"
        ))),
        _ => Ok(()),
    }
}

/// Moves `members` out of a validated group document: membership is a row, not a field.
fn take_members(doc: &mut Value) -> Vec<MemberRef> {
    let Some(Value::Array(items)) = doc.as_object_mut().and_then(|o| o.remove("members")) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|m| {
            Some(MemberRef {
                value: m.get("value")?.as_str()?.to_owned(),
                kind: m.get("type").and_then(Value::as_str).map(str::to_owned),
                display: m.get("display").and_then(Value::as_str).map(str::to_owned),
            })
        })
        .collect()
}

/// Appends the change events of one write; returns the sequence number of the first, which
/// becomes the resource's version.
fn emit(
    txn: &WriteTxn,
    dir: &str,
    kind: ResourceKind,
    id: &str,
    changes: &[(ChangeKind, Vec<String>)],
) -> Result<u64, DomainError> {
    Ok(txn.append_changes(dir, resource_type(kind), id, changes)?)
}

fn member_events(diff: &members::MemberDiff) -> Vec<(ChangeKind, Vec<String>)> {
    let mut out = Vec::new();
    if !diff.added.is_empty() {
        out.push((ChangeKind::MembersAdded, diff.added.clone()));
    }
    if !diff.removed.is_empty() {
        out.push((ChangeKind::MembersRemoved, diff.removed.clone()));
    }
    out
}

/// Sets `id` and `meta` (resourceType, created kept from `created`, lastModified now, version
/// from seq). `meta.location` depends on the public URL and is added on the way out.
fn stamp(doc: &mut Value, kind: ResourceKind, id: &str, created: Option<&Value>, seq: u64) {
    let now = now_rfc3339();
    let created = created.cloned().unwrap_or_else(|| json!(now));
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("id".into(), json!(id));
        obj.insert(
            "meta".into(),
            json!({
                "resourceType": schema::resource_type(kind).name,
                "created": created,
                "lastModified": now,
                "version": version_tag(seq),
            }),
        );
    }
}

fn created_of(doc: &Value) -> Option<&Value> {
    doc.get("meta").and_then(|m| m.get("created"))
}

pub(super) fn load(
    txn: &WriteTxn,
    kind: ResourceKind,
    dir: &str,
    id: &str,
) -> Result<Value, DomainError> {
    txn.resource(kind, dir, id)?
        .ok_or_else(|| DomainError::NotFound {
            entity: kind.into(),
            id: id.to_owned(),
        })
}

impl Directory {
    /// Hashes a password off the executor, at most `password_hash_concurrency_max` at once.
    async fn hash(&self, password: Option<String>) -> Result<Option<String>, DomainError> {
        let Some(p) = password else {
            return Ok(None);
        };
        self.run_argon2(move || hash_password(&p)).await?.map(Some)
    }

    /// Hashes a password with argon2id (the parameters every stored password uses).
    pub async fn hash_password(&self, password: String) -> Result<String, DomainError> {
        self.run_argon2(move || hash_password(&password)).await?
    }

    /// Runs argon2 work (a hash or a verification, each 7 MiB and tens of
    /// milliseconds) off the executor, at most `password_hash_concurrency_max` at once.
    pub async fn run_argon2<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let _permit = self
            .inner
            .hash_permits
            .acquire()
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))
    }

    /// The stored document, for work that must happen before the write job.
    async fn snapshot(
        &self,
        kind: ResourceKind,
        dir: &str,
        id: &str,
    ) -> Result<Value, DomainError> {
        let (dir, id) = (dir.to_owned(), id.to_owned());
        self.read(move |_, txn| {
            txn.resource(kind, &dir, &id)?.ok_or(DomainError::NotFound {
                entity: kind.into(),
                id,
            })
        })
        .await
    }

    /// Validates a POST body and hashes its password: everything a creation does before
    /// its write job.
    async fn prepare_create(
        &self,
        kind: ResourceKind,
        input: Value,
    ) -> Result<NewResource, DomainError> {
        let rt = schema::resource_type(kind);
        let group = kind == ResourceKind::Group;
        check_value_counts(&input, self.limits().attribute_values_max, group)?;
        let mut doc = schema::validate_create(input, rt)?;
        schema::check_strings(&doc, rt, &self.limits().strings)?;
        // INVARIANT: a password never reaches a stored document, whatever its spelling
        // (`password`, URN-qualified, inside the core schema object): validation
        // canonicalizes every spelling to the top-level `password` taken here.
        let password = take_password(&mut doc)?;
        let members = take_members(&mut doc);
        let hash = self.hash(password).await?;
        Ok(NewResource {
            kind,
            doc,
            members,
            hash,
        })
    }

    /// The answer to a creation: the committed document itself for a user (a new user is in
    /// no group yet, and a second read could meet a concurrent DELETE), a fresh read for a
    /// group (its members).
    async fn created(
        &self,
        kind: ResourceKind,
        dir: &DirectoryId,
        (id, mut doc): (String, Value),
        sel: &AttributeSelection,
    ) -> Result<Value, DomainError> {
        if kind == ResourceKind::User {
            self.add_meta(kind, &mut doc);
            return Ok(doc);
        }
        self.get(dir, &PrincipalId::new(kind, id), sel).await
    }

    /// POST: creates a resource from a request document; returns it complete.
    pub async fn create(
        &self,
        kind: ResourceKind,
        dir: &DirectoryId,
        input: Value,
        sel: &AttributeSelection,
    ) -> Result<Value, DomainError> {
        let new = self.prepare_create(kind, input).await?;
        let d = dir.to_owned();
        let created = self.write(move |txn| new.insert(txn, &d)).await?;
        self.created(kind, dir, created, sel).await
    }

    /// `create`, storing `info` (the management API's own fields) in the same transaction.
    pub(super) async fn create_with_info(
        &self,
        kind: ResourceKind,
        dir: &DirectoryId,
        input: Value,
        info: ResourceInfo,
    ) -> Result<Value, DomainError> {
        let new = self.prepare_create(kind, input).await?;
        let d = dir.to_owned();
        let created = self
            .write(move |txn| {
                let (id, doc) = new.insert(txn, &d)?;
                store_info(txn, &d, &id, &info)?;
                Ok((id, doc))
            })
            .await?;
        self.created(kind, dir, created, &AttributeSelection::default())
            .await
    }

    /// PUT: replaces a resource's attributes (immutable ones must not change).
    pub async fn replace(
        &self,
        dir: &DirectoryId,
        id: &PrincipalId,
        input: Value,
        if_match: Option<String>,
        sel: &AttributeSelection,
    ) -> Result<Value, DomainError> {
        let principal = id;
        let (kind, id) = (id.kind(), id.as_str());
        let rt = schema::resource_type(kind);
        check_value_counts(
            &input,
            self.limits().attribute_values_max,
            kind == ResourceKind::Group,
        )?;
        // The password is found by the same canonicalization as the job's, and hashed before.
        let mut pre = schema::validate_create(input.clone(), rt)?;
        let strings = self.limits().strings;
        schema::check_strings(&pre, rt, &strings)?;
        let hash = self.hash(take_password(&mut pre)?).await?;
        let (d, i) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            let existing = load(txn, kind, &d, &i)?;
            check_if_match(if_match.as_deref(), &existing)?;
            let mut doc = schema::validate_replace(input, &existing, rt)?;
            schema::check_strings(&doc, rt, &strings)?;
            take_password(&mut doc)?;
            let members = take_members(&mut doc);
            check_unique(txn, kind, &d, &doc, Some(&i))?;
            let mut plan = MemberPlan::default();
            if kind == ResourceKind::Group {
                plan.replace_all(txn, &d, &i, &members)?;
            }
            let diff = plan.apply(txn, &d, &i)?;
            let mut changes = vec![(ChangeKind::Updated, Vec::new())];
            changes.extend(member_events(&diff));
            let seq = emit(txn, &d, kind, &i, &changes)?;
            stamp(&mut doc, kind, &i, created_of(&existing), seq);
            txn.put_resource(kind, &d, &i, Some(&existing), &doc)?;
            if let Some(h) = hash {
                txn.set_password_hash(&d, &UserId::new(i.as_str()), &h)?;
            }
            Ok(())
        })
        .await?;
        self.get(dir, principal, sel).await
    }

    /// Checks PATCH values and hashes a password the operations set: everything a PATCH
    /// does before its write job. A password set by PATCH is found by applying the operations
    /// to a snapshot; the job checks that it computes the same password.
    async fn prepare_patch(
        &self,
        kind: ResourceKind,
        dir: &str,
        id: &str,
        ops: Vec<PatchOp>,
    ) -> Result<PatchJob, DomainError> {
        for op in &ops {
            let on_members = op
                .path
                .as_ref()
                .is_some_and(|p| p.attr.name.eq_ignore_ascii_case("members"));
            if let Some(v) = &op.value
                && !on_members
            {
                let group = kind == ResourceKind::Group;
                check_value_counts(v, self.limits().attribute_values_max, group)?;
            }
            if let Some(v) = &op.value
                && on_members
            {
                schema::check_string_lengths(v, "members", &self.limits().strings)?;
            }
        }
        let mut password = None;
        if kind == ResourceKind::User && ops_mention_password(&ops) {
            let rt = schema::resource_type(kind);
            let snapshot = self.snapshot(kind, dir, id).await?;
            let mut doc = snapshot.clone();
            patch::apply(&mut doc, &ops, rt)?;
            let mut doc = schema::validate_document(&doc, &snapshot, rt)?;
            password = take_password(&mut doc)?;
        }
        let hash = self.hash(password.clone()).await?;
        Ok(PatchJob {
            kind,
            ops,
            password,
            hash,
            strings: self.limits().strings,
        })
    }

    /// PATCH: applies operations atomically. Returns the resource complete when `sel` is
    /// given.
    pub async fn patch(
        &self,
        dir: &DirectoryId,
        id: &PrincipalId,
        ops: Vec<PatchOp>,
        if_match: Option<String>,
        sel: Option<&AttributeSelection>,
    ) -> Result<Option<Value>, DomainError> {
        let principal = id;
        let (kind, id) = (id.kind(), id.as_str());
        let job = self.prepare_patch(kind, dir, id, ops).await?;
        let (d, i) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            let existing = load(txn, kind, &d, &i)?;
            check_if_match(if_match.as_deref(), &existing)?;
            job.run(txn, &d, &i, existing)
        })
        .await?;
        match sel {
            Some(sel) => self.get(dir, principal, sel).await.map(Some),
            None => Ok(None),
        }
    }

    /// `patch` for the management API: checks `guard` in the same transaction (that the
    /// resource may be changed) and stores its description.
    pub(super) async fn patch_guarded(
        &self,
        kind: ResourceKind,
        dir: &str,
        id: &str,
        ops: Vec<PatchOp>,
        guard: ApiGuard,
    ) -> Result<(), DomainError> {
        let job = self.prepare_patch(kind, dir, id, ops).await?;
        let (d, i) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            let existing = load(txn, kind, &d, &i)?;
            guard.check(txn, kind, &d, &i)?;
            job.run(txn, &d, &i, existing)?;
            guard.store_description(txn, &d, &i)
        })
        .await
    }

    /// DELETE: removes a resource and every membership row it is part of, in one transaction.
    pub async fn delete(
        &self,
        dir: &DirectoryId,
        id: &PrincipalId,
        if_match: Option<String>,
    ) -> Result<(), DomainError> {
        let (kind, id) = (id.kind(), id.as_str());
        let (d, i) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            let existing = load(txn, kind, &d, &i)?;
            check_if_match(if_match.as_deref(), &existing)?;
            delete_in(txn, kind, &d, &i, &existing)
        })
        .await
    }

    /// `delete` for the management API, checking `guard` in the same transaction.
    pub(super) async fn delete_guarded(
        &self,
        kind: ResourceKind,
        dir: &str,
        id: &str,
        guard: ApiGuard,
    ) -> Result<(), DomainError> {
        let (d, i) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            let existing = load(txn, kind, &d, &i)?;
            guard.check(txn, kind, &d, &i)?;
            delete_in(txn, kind, &d, &i, &existing)
        })
        .await
    }
}

/// A validated POST body, its members and its password's hash: the creation's write job.
struct NewResource {
    kind: ResourceKind,
    doc: Value,
    members: Vec<MemberRef>,
    hash: Option<String>,
}

impl NewResource {
    /// Inserts the resource under a new id; returns the id and the stored document.
    fn insert(self, txn: &WriteTxn, dir: &str) -> Result<(String, Value), DomainError> {
        let NewResource {
            kind,
            mut doc,
            members,
            hash,
        } = self;
        check_unique(txn, kind, dir, &doc, None)?;
        let id = match kind {
            ResourceKind::User => new_user_id(),
            ResourceKind::Group => new_group_id(),
        };
        let mut plan = MemberPlan::default();
        if kind == ResourceKind::Group {
            plan.add(txn, dir, &id, &members)?;
        }
        // Validated: writes from here on.
        let diff = plan.apply(txn, dir, &id)?;
        let mut changes = vec![(ChangeKind::Created, Vec::new())];
        changes.extend(member_events(&diff));
        let seq = emit(txn, dir, kind, &id, &changes)?;
        stamp(&mut doc, kind, &id, None, seq);
        txn.put_resource(kind, dir, &id, None, &doc)?;
        if let Some(h) = hash {
            txn.set_password_hash(dir, &UserId::new(id.as_str()), &h)?;
        }
        Ok((id, doc))
    }
}

/// PATCH operations with the password they set (if any) already hashed: the write job.
struct PatchJob {
    kind: ResourceKind,
    ops: Vec<PatchOp>,
    password: Option<String>,
    hash: Option<String>,
    strings: schema::StringLimits,
}

impl PatchJob {
    /// Applies the operations to `existing` (already loaded and checked by the caller).
    fn run(self, txn: &WriteTxn, d: &str, i: &str, existing: Value) -> Result<(), DomainError> {
        let (kind, rt) = (self.kind, schema::resource_type(self.kind));
        let mut doc = existing.clone();
        let effect = patch::apply(&mut doc, &self.ops, rt)?;
        let mut doc = schema::validate_document(&doc, &existing, rt)?;
        schema::check_strings(&doc, rt, &self.strings)?;
        if take_password(&mut doc)? != self.password {
            return Err(DomainError::Internal(
                "the password changed while it was hashed".into(),
            ));
        }
        check_unique(txn, kind, d, &doc, Some(i))?;
        commit_patch(txn, kind, d, i, &existing, doc, &effect.members, self.hash)
    }
}

/// The writing half of a PATCH (also of the management API's membership changes): applies
/// the member operations, and stores the new version with its events when anything changed.
#[allow(clippy::too_many_arguments)]
pub(super) fn commit_patch(
    txn: &WriteTxn,
    kind: ResourceKind,
    d: &str,
    i: &str,
    existing: &Value,
    mut doc: Value,
    member_ops: &[MemberOp],
    hash: Option<String>,
) -> Result<(), DomainError> {
    let mut plan = MemberPlan::default();
    for op in member_ops {
        plan.apply_op(txn, d, i, op)?;
    }
    // Validated: writes from here on.
    let diff = plan.apply(txn, d, i)?;
    stamp(&mut doc, kind, i, created_of(existing), 0);
    let doc_changed = strip_meta(&doc) != strip_meta(existing);
    let mut changes = Vec::new();
    if doc_changed || hash.is_some() || diff.display_changed {
        changes.push((ChangeKind::Updated, Vec::new()));
    }
    changes.extend(member_events(&diff));
    if !changes.is_empty() {
        let seq = emit(txn, d, kind, i, &changes)?;
        stamp(&mut doc, kind, i, created_of(existing), seq);
        txn.put_resource(kind, d, i, Some(existing), &doc)?;
    }
    if let Some(h) = hash {
        txn.set_password_hash(d, &UserId::new(i), &h)?;
    }
    Ok(())
}

/// Deletes a loaded resource with its membership rows; each group it left gets a new version
/// and a membership event.
fn delete_in(
    txn: &WriteTxn,
    kind: ResourceKind,
    d: &str,
    i: &str,
    existing: &Value,
) -> Result<(), DomainError> {
    let groups = txn.delete_resource(kind, d, i, existing)?;
    emit(txn, d, kind, i, &[(ChangeKind::Deleted, Vec::new())])?;
    for g in groups {
        if let Some(old) = txn.resource(ResourceKind::Group, d, &g)? {
            let seq = emit(
                txn,
                d,
                ResourceKind::Group,
                &g,
                &[(ChangeKind::MembersRemoved, vec![i.to_owned()])],
            )?;
            let mut doc = old.clone();
            stamp(&mut doc, ResourceKind::Group, &g, created_of(&old), seq);
            txn.put_resource(ResourceKind::Group, d, &g, Some(&old), &doc)?;
        }
    }
    Ok(())
}

fn strip_meta(doc: &Value) -> Value {
    let mut d = doc.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("meta");
    }
    d
}

//! Users and groups as the management API sees them: the same SCIM documents, plus what the
//! API keeps of its own (`ResourceInfo`: provision type and description), and the rule that
//! while SCIM synchronization is enabled, objects synchronized from the identity provider may
//! only have their status changed through the API.
//!
//! Writes reuse the SCIM write jobs (same validation, batches, events), with an `ApiGuard`
//! checked inside the job's transaction.

use super::*;
use crate::model::{GroupId, UserId};
use crate::scim::patch::{MemberOp, MemberRef};
use crate::store::keys::{KeyedRead, ResourceInfoKey};
use serde::{Deserialize, Serialize};

/// What the management API keeps about a user or group beyond its SCIM document. A resource
/// without one was created over SCIM (`Synchronized`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceInfo {
    /// Created through the management API (`ProvisionType` Manual).
    pub manual: bool,
    pub description: String,
}

/// A user or group with its API fields.
#[derive(Debug, Clone)]
pub struct Managed {
    /// The stored SCIM document (no `members` / `groups`).
    pub doc: Value,
    pub info: ResourceInfo,
}

impl Managed {
    pub fn id(&self) -> &str {
        self.doc
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// A page of a list: the total that matched and the page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub total: usize,
    pub items: Vec<T>,
}

/// What an API write must respect and store, checked in the write's transaction.
#[derive(Debug, Clone, Default)]
pub struct ApiGuard {
    /// Only status changes: allowed on synchronized objects too.
    pub status_only: bool,
    /// A new description to store.
    pub description: Option<String>,
    /// Deletion: refuse a user or group that `Dependents` says is still referred to (access
    /// assignments), a user that is in a group and a group that has members (CloudSSO's rules
    /// for the API; SCIM deletes cascade, and the reconciliation engine drops what a deleted
    /// principal granted).
    pub unlinked: Option<Arc<dyn Dependents>>,
}

pub(super) fn info_of(
    txn: &impl KeyedRead,
    dir: &str,
    id: &str,
) -> Result<ResourceInfo, DomainError> {
    Ok(txn
        .read_at(ResourceInfoKey { dir, id })?
        .unwrap_or_default())
}

/// Stores what the management API keeps about a new user or group.
pub(super) fn store_info(
    txn: &WriteTxn,
    dir: &str,
    id: &str,
    info: &ResourceInfo,
) -> Result<(), DomainError> {
    txn.put(ResourceInfoKey { dir, id }, info)?;
    Ok(())
}

impl ApiGuard {
    /// Refuses a change to a synchronized object while its directory synchronizes.
    pub(super) fn check(
        &self,
        txn: &WriteTxn,
        kind: ResourceKind,
        dir: &str,
        id: &str,
    ) -> Result<(), DomainError> {
        if self.status_only {
            return Ok(());
        }
        if let Some(dependents) = &self.unlinked {
            dependents.check_principal(txn, dir, &PrincipalId::new(kind, id))?;
            let linked = match kind {
                ResourceKind::User => !txn.groups_of(dir, id)?.is_empty(),
                ResourceKind::Group => !txn.members(dir, id, 1)?.is_empty(),
            };
            if linked {
                let (rule, message) = match kind {
                    ResourceKind::User => (
                        Conflict::UserInGroups,
                        format!("user `{id}` is still in groups"),
                    ),
                    ResourceKind::Group => (
                        Conflict::GroupHasMembers,
                        format!("group `{id}` still has members"),
                    ),
                };
                return Err(DomainError::Conflict { rule, message });
            }
        }
        let info = info_of(txn, dir, id)?;
        let syncing = txn.directory(dir)?.is_some_and(|d| d.scim_sync_enabled);
        if !info.manual && syncing {
            return Err(DomainError::Synchronized {
                entity: kind.into(),
                id: id.to_owned(),
            });
        }
        Ok(())
    }

    pub(super) fn store_description(
        &self,
        txn: &WriteTxn,
        dir: &str,
        id: &str,
    ) -> Result<(), DomainError> {
        let Some(d) = &self.description else {
            return Ok(());
        };
        let mut info = info_of(txn, dir, id)?;
        info.description = d.clone();
        store_info(txn, dir, id, &info)
    }
}

/// A SCIM PATCH request body of the given operations.
fn patch_ops(dir: &Directory, ops: Vec<Value>) -> Result<Vec<PatchOp>, DomainError> {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops,
    });
    let limits = dir.limits();
    Ok(patch::parse_request(
        &body,
        limits.patch_operations_max,
        &limits.filter,
    )?)
}

fn page_of<T>(all: Vec<T>, offset: usize, count: usize) -> Page<T> {
    Page {
        total: all.len(),
        items: all.into_iter().skip(offset).take(count).collect(),
    }
}

impl Directory {
    /// Creates a user or group through the management API (`ProvisionType` Manual).
    pub async fn api_create(
        &self,
        kind: ResourceKind,
        dir: &DirectoryId,
        doc: Value,
        description: String,
    ) -> Result<Managed, DomainError> {
        self.directory(dir).await?;
        let info = ResourceInfo {
            manual: true,
            description,
        };
        let doc = self.create_with_info(kind, dir, doc, info.clone()).await?;
        Ok(Managed {
            doc: strip_computed(doc),
            info,
        })
    }

    pub async fn api_get(
        &self,
        dir: &DirectoryId,
        id: &PrincipalId,
    ) -> Result<Managed, DomainError> {
        let (kind, dir, id) = (id.kind(), dir.to_string(), id.to_string());
        self.read(move |_, txn| {
            txn.directory(&dir)?.ok_or_else(|| DomainError::NotFound {
                entity: Entity::Directory,
                id: dir.clone(),
            })?;
            let doc = txn
                .resource(kind, &dir, &id)?
                .ok_or_else(|| DomainError::NotFound {
                    entity: kind.into(),
                    id: id.clone(),
                })?;
            Ok(Managed {
                doc,
                info: info_of(txn, &dir, &id)?,
            })
        })
        .await
    }

    /// A page of users or groups matching `filter` (and, when given, a provision type).
    pub async fn api_list(
        &self,
        kind: ResourceKind,
        dir: &DirectoryId,
        filter: Option<Filter>,
        manual: Option<bool>,
        offset: usize,
        count: usize,
    ) -> Result<Page<Managed>, DomainError> {
        self.directory(dir).await?;
        let dir = dir.to_string();
        self.read(move |this, txn| {
            let with_info = |doc: Value| -> Result<Managed, DomainError> {
                let id = doc.get("id").and_then(Value::as_str).unwrap_or_default();
                let info = info_of(txn, &dir, id)?;
                Ok(Managed { doc, info })
            };
            match manual {
                None => {
                    let q = ListQuery {
                        filter,
                        start_index: offset.saturating_add(1),
                        count,
                        ..ListQuery::default()
                    };
                    let page = this.list_in(txn, kind, &dir, &q)?;
                    let items = page
                        .resources
                        .into_iter()
                        .map(|d| with_info(strip_computed(d)))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(Page {
                        total: page.total,
                        items,
                    })
                }
                Some(manual) => {
                    // Provision type is not indexed: every match is read (rare, bounded by
                    // the directory's size).
                    let q = ListQuery {
                        filter,
                        start_index: 1,
                        count: usize::MAX,
                        ..ListQuery::default()
                    };
                    let all = this
                        .list_in(txn, kind, &dir, &q)?
                        .resources
                        .into_iter()
                        .map(|d| with_info(strip_computed(d)))
                        .filter(|m| m.as_ref().map_or(true, |m| m.info.manual == manual))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(page_of(all, offset, count))
                }
            }
        })
        .await
    }

    /// Applies SCIM PATCH operations (given as JSON) through the management API.
    pub async fn api_patch(
        &self,
        dir: &DirectoryId,
        id: &PrincipalId,
        ops: Vec<Value>,
        guard: ApiGuard,
    ) -> Result<Managed, DomainError> {
        self.directory(dir).await?;
        let kind = id.kind();
        if ops.is_empty() {
            // Only API fields change (a description): no SCIM document change.
            let (d, i) = (dir.to_string(), id.to_string());
            self.write(move |txn| {
                if txn.resource(kind, &d, &i)?.is_none() {
                    return Err(DomainError::NotFound {
                        entity: kind.into(),
                        id: i,
                    });
                }
                guard.check(txn, kind, &d, &i)?;
                guard.store_description(txn, &d, &i)?;
                super::append_event(txn, &d, resource_type(kind), &i, ChangeKind::Updated)?;
                Ok(())
            })
            .await?;
            return self.api_get(dir, id).await;
        }
        let ops = patch_ops(self, ops)?;
        self.patch_guarded(kind, dir, id.as_str(), ops, guard)
            .await?;
        self.api_get(dir, id).await
    }

    /// Deletes a user or group that nothing refers to: neither a group membership nor what
    /// `dependents` knows of.
    pub async fn api_delete(
        &self,
        dir: &DirectoryId,
        id: &PrincipalId,
        dependents: Arc<dyn Dependents>,
    ) -> Result<(), DomainError> {
        self.directory(dir).await?;
        let guard = ApiGuard {
            unlinked: Some(dependents),
            ..ApiGuard::default()
        };
        self.delete_guarded(id.kind(), dir, id.as_str(), guard)
            .await
    }

    /// Adds a user to a group (the group must be manageable; the user may be synchronized).
    pub async fn api_add_member(
        &self,
        dir: &DirectoryId,
        group: &GroupId,
        user: &UserId,
    ) -> Result<(), DomainError> {
        let add = MemberOp::Add(vec![MemberRef {
            value: user.to_string(),
            kind: None,
            display: None,
        }]);
        self.change_member(dir, group, user, add).await
    }

    /// Removes a user from a group (the group must be manageable).
    pub async fn api_remove_member(
        &self,
        dir: &DirectoryId,
        group: &GroupId,
        user: &UserId,
    ) -> Result<(), DomainError> {
        let remove = MemberOp::Remove(vec![user.to_string()]);
        self.change_member(dir, group, user, remove).await
    }

    /// One membership change, checked and written in one job: the directory, the user and the
    /// group exist, the user is not yet (to add) or still (to remove) a direct member, and the
    /// group may be changed through the API.
    async fn change_member(
        &self,
        dir: &DirectoryId,
        group: &GroupId,
        user: &UserId,
        op: MemberOp,
    ) -> Result<(), DomainError> {
        let (d, g, u) = (dir.to_string(), group.to_string(), user.to_string());
        self.write(move |txn| {
            if txn.directory(&d)?.is_none() {
                return Err(DomainError::NotFound {
                    entity: Entity::Directory,
                    id: d,
                });
            }
            if !txn.exists(ResourceKind::User, &d, &u)? {
                return Err(DomainError::NotFound {
                    entity: Entity::User,
                    id: u,
                });
            }
            let existing = super::resources::load(txn, ResourceKind::Group, &d, &g)?;
            let member = txn.groups_of(&d, &u)?.contains(&g);
            match (&op, member) {
                (MemberOp::Add(_), true) => {
                    return Err(DomainError::AlreadyExists {
                        entity: Entity::GroupMember,
                        id: u,
                    });
                }
                (MemberOp::Remove(_), false) => {
                    return Err(DomainError::NotFound {
                        entity: Entity::GroupMember,
                        id: u,
                    });
                }
                _ => {}
            }
            ApiGuard::default().check(txn, ResourceKind::Group, &d, &g)?;
            let doc = existing.clone();
            let kind = ResourceKind::Group;
            super::resources::commit_patch(txn, kind, &d, &g, &existing, doc, &[op], None)
        })
        .await
    }

    /// A page of a group's user members.
    pub async fn api_group_members(
        &self,
        dir: &DirectoryId,
        group: &GroupId,
        offset: usize,
        count: usize,
    ) -> Result<Page<Managed>, DomainError> {
        self.api_get(dir, &PrincipalId::Group(group.clone()))
            .await?;
        let (dir, group) = (dir.to_string(), group.to_string());
        self.read(move |_, txn| {
            let users: Vec<String> = txn
                .members(&dir, &group, usize::MAX)?
                .into_iter()
                .filter(|m| m.kind == ResourceKind::User)
                .map(|m| m.id)
                .collect();
            managed_page(txn, ResourceKind::User, &dir, page_of(users, offset, count))
        })
        .await
    }

    /// A page of the groups a user is a direct member of.
    pub async fn api_groups_of(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        offset: usize,
        count: usize,
    ) -> Result<Page<Managed>, DomainError> {
        self.api_get(dir, &PrincipalId::User(user.clone())).await?;
        let (dir, user) = (dir.to_string(), user.to_string());
        self.read(move |_, txn| {
            let ids = page_of(txn.groups_of(&dir, &user)?, offset, count);
            managed_page(txn, ResourceKind::Group, &dir, ids)
        })
        .await
    }

    /// Users and groups in a directory.
    pub async fn statistics(&self, dir: &DirectoryId) -> Result<(u64, u64), DomainError> {
        self.directory(dir).await?;
        let dir = dir.to_string();
        self.read(move |_, txn| {
            Ok((
                txn.count(ResourceKind::User, &dir)?,
                txn.count(ResourceKind::Group, &dir)?,
            ))
        })
        .await
    }
}

/// Reads the resources of a page of ids (a resource deleted meanwhile is left out).
fn managed_page(
    txn: &ReadTxn,
    kind: ResourceKind,
    dir: &str,
    ids: Page<String>,
) -> Result<Page<Managed>, DomainError> {
    let mut items = Vec::with_capacity(ids.items.len());
    for id in ids.items {
        if let Some(doc) = txn.resource(kind, dir, &id)? {
            let info = info_of(txn, dir, &id)?;
            items.push(Managed { doc, info });
        }
    }
    Ok(Page {
        total: ids.total,
        items,
    })
}

fn strip_computed(mut doc: Value) -> Value {
    if let Some(o) = doc.as_object_mut() {
        o.remove("members");
        o.remove("groups");
    }
    doc
}

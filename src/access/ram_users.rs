//! The reconciliation engine's RAM user half (issue 14): for a directory, reads the facts
//! (its RAM user provisionings, the users and group members they reach), asks the planner
//! (`plan::desired_ram_users`) which RAM users must exist, and makes the RAM users the
//! directory owns at the provider equal to that: missing ones are ensured (name clashes by the
//! provisioning's DuplicationStrategy), unwanted ones removed or kept (by the DeletionStrategy
//! they were last ensured with). Every step is idempotent; a provider failure is logged and
//! left to the next round touching the directory or the next full pass.
//!
//! Owns the IO; the decisions are the planner's and the provider's (`place_ram_user`).

use super::Access;
use super::plan::{self, DesiredRamUser, RamUserFacts};
use super::provider::{RamUser, RamUserOwner, RamUserSpec};
use super::records::{Account, DeletionStrategy, UserProvisioning};
use crate::error::DomainError;
use crate::model::{ChangeEvent, ChangeKind, ResourceKind, ResourceType};
use crate::store::ReadTxn;
use crate::store::keys::Prefix;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What one pass over a directory's RAM users did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RamUserPass {
    pub ensured: usize,
    pub removed: usize,
    pub failed: usize,
}

/// Whether an event may change which RAM users a directory must have.
pub(crate) fn concerns_ram_users(e: &ChangeEvent) -> bool {
    match e.resource {
        ResourceType::UserProvisioning => true,
        ResourceType::User => true,
        ResourceType::Group => matches!(
            e.kind,
            ChangeKind::MembersAdded | ChangeKind::MembersRemoved | ChangeKind::Deleted
        ),
        _ => false,
    }
}

/// The planner's facts about directory `dir`, and every account of the resource directory.
fn facts(txn: &ReadTxn, dir: &str) -> Result<(RamUserFacts, Vec<String>), DomainError> {
    let mut f = RamUserFacts {
        provisionings: txn.scan::<UserProvisioning>(Prefix::UserProvisioningsIn { dir })?,
        ..RamUserFacts::default()
    };
    f.provisionings
        .sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    let mut users = BTreeSet::new();
    let mut groups: VecDeque<(String, usize)> = VecDeque::new();
    for p in &f.provisionings {
        match p.principal_type {
            ResourceKind::User => {
                users.insert(p.principal_id.clone());
            }
            ResourceKind::Group => groups.push_back((p.principal_id.clone(), 1)),
        }
    }
    // The members of every group the provisionings reach, as deep as the planner follows.
    while let Some((g, depth)) = groups.pop_front() {
        if depth > plan::GROUP_NESTING_DEPTH_MAX || f.members.contains_key(&g) {
            continue;
        }
        let members: Vec<(ResourceKind, String)> = txn
            .members(dir, &g, usize::MAX)?
            .into_iter()
            .map(|m| (m.kind, m.id))
            .collect();
        for (k, m) in &members {
            match k {
                ResourceKind::User => {
                    users.insert(m.clone());
                }
                ResourceKind::Group => groups.push_back((m.clone(), depth + 1)),
            }
        }
        f.members.insert(g, members);
    }
    for u in users {
        if let Some(doc) = txn.resource(ResourceKind::User, dir, &u)? {
            let name = doc
                .get("userName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let enabled = doc.get("active") != Some(&Value::Bool(false));
            f.users.insert(u, (name, enabled));
        }
    }
    let accounts = txn
        .scan::<Account>(Prefix::AllAccounts)?
        .into_iter()
        .map(|a| a.id)
        .collect();
    Ok((f, accounts))
}

fn spec(dir: &str, d: &DesiredRamUser) -> RamUserSpec {
    RamUserSpec {
        account_id: d.account_id.clone(),
        name: d.name.clone(),
        owner: RamUserOwner {
            directory_id: dir.to_owned(),
            user_id: d.user_id.clone(),
        },
        duplication: d.duplication,
        deletion: d.deletion,
    }
}

impl Access {
    /// Makes the RAM users directory `dir` owns equal to what its provisionings ask.
    pub async fn reconcile_ram_users(&self, dir: &str) -> Result<RamUserPass, DomainError> {
        let d = dir.to_owned();
        let (facts, accounts) = self.read(move |txn| facts(txn, &d)).await?;
        let desired = plan::desired_ram_users(&facts);
        let mut pass = RamUserPass::default();
        for account in accounts {
            let owned: BTreeMap<String, RamUser> = match self.provider.ram_users(&account).await {
                Ok(all) => all
                    .into_iter()
                    .filter_map(|u| {
                        let o = u.owner.clone()?;
                        (o.directory_id == dir).then_some((o.user_id, u))
                    })
                    .collect(),
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "listing RAM users failed");
                    pass.failed += 1;
                    continue;
                }
            };
            for (user, u) in &owned {
                if desired.contains_key(&(account.clone(), user.clone())) {
                    continue;
                }
                let owner = RamUserOwner {
                    directory_id: dir.to_owned(),
                    user_id: user.clone(),
                };
                match self
                    .provider
                    .remove_ram_user(&account, &owner, u.keep_on_removal)
                    .await
                {
                    Ok(()) => pass.removed += 1,
                    Err(e) => {
                        tracing::warn!(account = %account, user = %user, error = %e, "removing a RAM user failed");
                        pass.failed += 1;
                    }
                }
            }
            let wanted = desired
                .range((account.clone(), String::new())..)
                .take_while(|((a, _), _)| *a == account);
            for ((_, user), want) in wanted {
                let keep = want.deletion == DeletionStrategy::Keep;
                if owned.get(user).is_some_and(|u| u.keep_on_removal == keep) {
                    continue;
                }
                match self.provider.ensure_ram_user(&spec(dir, want)).await {
                    Ok(_) => pass.ensured += 1,
                    Err(e) => {
                        tracing::warn!(account = %account, user = %user, error = %e, "making a RAM user failed");
                        pass.failed += 1;
                    }
                }
            }
        }
        Ok(pass)
    }

    /// Whether directory `dir` has RAM user provisionings.
    pub(crate) async fn has_user_provisionings(&self, dir: &str) -> Result<bool, DomainError> {
        let d = dir.to_owned();
        self.read(move |txn| Ok(txn.any_under(Prefix::UserProvisioningsIn { dir: &d })?))
            .await
    }
}

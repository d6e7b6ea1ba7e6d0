//! The reconciliation engine's RAM user half (issue 14): for a directory, reads the facts
//! (its RAM user provisionings, the users and group members they reach), asks the planner
//! (`plan::desired_ram_users`) which RAM users must exist, and makes the RAM users the
//! directory owns at the provider equal to that: missing ones are ensured (name clashes by the
//! provisioning's DuplicationStrategy), unwanted ones removed or kept (by the DeletionStrategy
//! they were last ensured with). Every step is idempotent; a provider failure becomes (or
//! counts on) the provisioning's event (`UserProvisioningEvent`, one per provisioning and
//! source) and is tried again by the next round touching the directory (a retry of the event
//! is one) or the next full pass; a pass in which it no longer fails clears the event.
//!
//! Owns the IO; the decisions are the planner's and the provider's (`place_ram_user`).

use super::Access;
use super::plan::{self, DesiredRamUser, RamUserFacts};
use super::provider::{RamUser, RamUserOwner, RamUserSpec};
use super::records::{
    Account, DeletionStrategy, EventSource, UserProvisioning, UserProvisioningEvent,
    UserProvisioningRemoval,
};
use crate::directory::append_event;
use crate::error::DomainError;
use crate::model::{
    ChangeEvent, ChangeKind, ResourceKind, ResourceType, new_prefixed_id, now_rfc3339,
};
use crate::store::keys::{Prefix, UserProvisioningEventKey, UserProvisioningRemovalKey};
use crate::store::{ReadTxn, WriteTxn};
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

/// The failures of one pass: (provisioning, source) -> (what failed: the user's id, the
/// error).
type Failures = BTreeMap<(String, EventSource), (String, String)>;

/// What a pass reads: the planner's facts, every account of the resource directory, and the
/// directory's open events.
struct Read {
    facts: RamUserFacts,
    accounts: Vec<String>,
    events: Vec<UserProvisioningEvent>,
    /// Deleted provisionings to finish: id -> the strategy their deletion chose.
    removals: BTreeMap<String, DeletionStrategy>,
}

/// The planner's facts about directory `dir`, every account, and the open events.
fn facts(txn: &ReadTxn, dir: &str) -> Result<Read, DomainError> {
    let events = txn.scan::<UserProvisioningEvent>(Prefix::UserProvisioningEventsIn { dir })?;
    let mut f = RamUserFacts {
        provisionings: txn.scan::<UserProvisioning>(Prefix::UserProvisioningsIn { dir })?,
        duplication_retries: events
            .iter()
            .filter_map(|e| Some((e.user_provisioning_id.clone(), e.retry_duplication?)))
            .collect(),
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
    let removals = txn
        .scan::<UserProvisioningRemoval>(Prefix::UserProvisioningRemovalsIn { dir })?
        .into_iter()
        .map(|r| (r.id, r.deletion))
        .collect();
    Ok(Read {
        facts: f,
        accounts,
        events,
        removals,
    })
}

/// Records a pass's failures as events (a new one, or one more on the open one), and, when
/// the pass was `complete`, clears the open events that no longer fail; with a change event
/// when anything changed.
fn record_events(
    txn: &WriteTxn,
    dir: &str,
    failures: &Failures,
    complete: bool,
    provisionings: &BTreeMap<String, UserProvisioning>,
    accounts_of: &BTreeMap<String, String>,
    removals: &BTreeMap<String, DeletionStrategy>,
) -> Result<(), DomainError> {
    let now = now_rfc3339();
    let open = txn.scan::<UserProvisioningEvent>(Prefix::UserProvisioningEventsIn { dir })?;
    let mut changed = Vec::new();
    for ((pid, source), (user, info)) in failures {
        let found = open
            .iter()
            .find(|e| &e.user_provisioning_id == pid && e.source == *source);
        let event = match found {
            Some(e) => UserProvisioningEvent {
                error_count: e.error_count.saturating_add(1),
                error_info: info.clone(),
                updated: now.clone(),
                latest_async: now.clone(),
                ..e.clone()
            },
            None => {
                let p = provisionings.get(pid);
                UserProvisioningEvent {
                    id: new_prefixed_id("upe-", 20),
                    directory_id: dir.to_owned(),
                    user_provisioning_id: pid.clone(),
                    source: *source,
                    // A deleted provisioning's event names the user whose RAM user stays.
                    principal_type: p.map_or(ResourceKind::User, |p| p.principal_type),
                    principal_id: p.map_or_else(|| user.clone(), |p| p.principal_id.clone()),
                    account_id: p.map_or_else(
                        || accounts_of.get(pid).cloned().unwrap_or_default(),
                        |p| p.account_id.clone(),
                    ),
                    duplication: p.map_or(super::records::DuplicationStrategy::KeepBoth, |p| {
                        p.duplication
                    }),
                    deletion: p.map_or(DeletionStrategy::Delete, |p| p.deletion),
                    error_count: 1,
                    error_info: info.clone(),
                    retry_duplication: None,
                    created: now.clone(),
                    updated: now.clone(),
                    latest_async: now.clone(),
                }
            }
        };
        txn.put(UserProvisioningEventKey { dir, id: &event.id }, &event)?;
        changed.push(event.id);
    }
    if complete {
        // Deleted provisionings whose RAM users this pass finished with (those it read: one
        // deleted since is the next pass's).
        for id in removals.keys() {
            let failed = failures.keys().any(|(p, _)| p == id);
            if !failed {
                txn.delete(UserProvisioningRemovalKey { dir, id })?;
            }
        }
        for e in &open {
            if !failures.contains_key(&(e.user_provisioning_id.clone(), e.source)) {
                txn.delete(UserProvisioningEventKey { dir, id: &e.id })?;
                changed.push(e.id.clone());
            }
        }
    }
    for id in changed {
        append_event(
            txn,
            dir,
            ResourceType::UserProvisioningEvent,
            &id,
            ChangeKind::Updated,
        )?;
    }
    Ok(())
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
        provisioning_id: d.provisioning_id.clone(),
    }
}

/// One pass over a directory, as it goes.
struct Run {
    dir: String,
    desired: BTreeMap<(String, String), DesiredRamUser>,
    provisionings: BTreeMap<String, UserProvisioning>,
    pass: RamUserPass,
    failures: Failures,
    /// The account of a deleted provisioning's RAM users (for its events).
    accounts_of: BTreeMap<String, String>,
    /// Whether every account was read (only then are open events that no longer fail
    /// cleared).
    complete: bool,
    /// Deleted provisionings: id -> the strategy their deletion chose.
    removals: BTreeMap<String, DeletionStrategy>,
}

impl Run {
    fn fail(&mut self, provisioning: &str, source: EventSource, user: &str, error: String) {
        tracing::warn!(provisioning, user, error = %error, "RAM user provisioning failed");
        self.pass.failed += 1;
        self.failures
            .insert((provisioning.to_owned(), source), (user.to_owned(), error));
    }
}

impl Access {
    /// Makes the RAM users directory `dir` owns equal to what its provisionings ask, and
    /// records the failures as events.
    pub async fn reconcile_ram_users(&self, dir: &str) -> Result<RamUserPass, DomainError> {
        let d = dir.to_owned();
        let read = self.read(move |txn| facts(txn, &d)).await?;
        // Nothing asks for RAM users and nothing is left to finish: the directory owns none
        // (its last removal record goes only with a pass that read every account).
        if read.facts.provisionings.is_empty() && read.removals.is_empty() && read.events.is_empty()
        {
            return Ok(RamUserPass::default());
        }
        let mut run = Run {
            dir: dir.to_owned(),
            desired: plan::desired_ram_users(&read.facts),
            provisionings: read
                .facts
                .provisionings
                .iter()
                .map(|p| (p.id.clone(), p.clone()))
                .collect(),
            pass: RamUserPass::default(),
            failures: Failures::new(),
            accounts_of: BTreeMap::new(),
            complete: true,
            removals: read.removals.clone(),
        };
        for account in &read.accounts {
            self.reconcile_account(&mut run, account).await;
        }
        let Run {
            pass,
            failures,
            complete,
            provisionings,
            accounts_of,
            removals,
            ..
        } = run;
        let finish = !read.events.is_empty() || !read.removals.is_empty();
        if !failures.is_empty() || (complete && finish) {
            let d = dir.to_owned();
            self.write(move |txn| {
                record_events(
                    txn,
                    &d,
                    &failures,
                    complete,
                    &provisionings,
                    &accounts_of,
                    &removals,
                )
            })
            .await?;
        }
        Ok(pass)
    }

    /// One account's part of a pass: removes the directory's unwanted RAM users there, then
    /// ensures the wanted ones; failures are noted in `run`.
    async fn reconcile_account(&self, run: &mut Run, account: &str) {
        let dir = run.dir.clone();
        let owned: BTreeMap<String, RamUser> = match self.provider.ram_users(account).await {
            Ok(all) => all
                .into_iter()
                .filter_map(|u| {
                    let o = u.owner.clone()?;
                    (o.directory_id == dir).then_some((o.user_id, u))
                })
                .collect(),
            Err(e) => {
                tracing::warn!(account = %account, error = %e, "listing RAM users failed");
                run.pass.failed += 1;
                run.complete = false;
                return;
            }
        };
        self.remove_unwanted(run, account, &owned).await;
        let wanted: Vec<DesiredRamUser> = run
            .desired
            .range((account.to_owned(), String::new())..)
            .take_while(|((a, _), _)| a == account)
            .map(|(_, w)| w.clone())
            .collect();
        let mut placed: Option<DesiredRamUser> = None;
        for want in wanted {
            let keep = want.deletion == DeletionStrategy::Keep;
            let current = owned.get(&want.user_id).is_some_and(|u| {
                u.keep_on_removal == keep
                    && u.provisioning_id == want.provisioning_id
                    && super::provider::ram_user_name_fits(&u.name, &want.name)
            });
            if current {
                placed.get_or_insert(want);
                continue;
            }
            match self.provider.ensure_ram_user(&spec(&dir, &want)).await {
                Ok(_) => {
                    run.pass.ensured += 1;
                    placed.get_or_insert(want);
                }
                Err(e) => {
                    let source = match run.provisionings.get(&want.provisioning_id) {
                        Some(p) if p.principal_type == ResourceKind::Group => {
                            EventSource::AddUserToGroup
                        }
                        _ => EventSource::StartProvisioning,
                    };
                    run.fail(&want.provisioning_id, source, &want.user_id, e.0);
                }
            }
        }
        // The account has a RAM user of the directory: it must trust the directory's IdP.
        if let Some(first) = placed {
            self.ensure_user_sso(run, account, &first).await;
        }
    }

    /// Removes (or keeps, by the strategy) the directory's RAM users in `account` that no
    /// provisioning wants any more; failures are noted in `run`.
    async fn remove_unwanted(
        &self,
        run: &mut Run,
        account: &str,
        owned: &BTreeMap<String, RamUser>,
    ) {
        let dir = run.dir.clone();
        for (user, u) in owned {
            if run
                .desired
                .contains_key(&(account.to_owned(), user.clone()))
            {
                continue;
            }
            let owner = RamUserOwner {
                directory_id: dir.clone(),
                user_id: user.clone(),
            };
            // A deleted provisioning's RAM users go by the strategy its deletion chose.
            let keep = match run.removals.get(&u.provisioning_id) {
                Some(s) => *s == DeletionStrategy::Keep,
                None => u.keep_on_removal,
            };
            let r = self.provider.remove_ram_user(account, &owner, keep).await;
            match r {
                Ok(()) => run.pass.removed += 1,
                Err(e) => {
                    let source = if run.provisionings.contains_key(&u.provisioning_id) {
                        EventSource::RemoveUserFromGroup
                    } else {
                        EventSource::DeleteProvisioning
                    };
                    run.accounts_of
                        .insert(u.provisioning_id.clone(), account.to_owned());
                    run.fail(&u.provisioning_id, source, user, e.0);
                }
            }
        }
    }

    /// Makes the account's user-based SSO trust the directory's current IdP metadata (what
    /// its RAM users sign in to the console with; a key rotation changes it), writing only
    /// when it differs. A failure counts as `first`'s (a RAM user it placed there).
    async fn ensure_user_sso(&self, run: &mut Run, account: &str, first: &DesiredRamUser) {
        if self.console.metadata.is_none() {
            // No console is configured: nothing to sign RAM users in with.
            return;
        }
        let dir = run.dir.clone();
        let r = async {
            let metadata = self.saml_metadata(&dir).await.map_err(|e| e.to_string())?;
            let current = self.provider.user_sso(account).await.map_err(|e| e.0)?;
            if current.iter().any(|(d, m)| *d == dir && *m == metadata) {
                return Ok(());
            }
            let set = self.provider.ensure_user_sso(account, &dir, &metadata);
            set.await.map_err(|e| e.0)
        };
        if let Err(e) = r.await {
            let source = match run.provisionings.get(&first.provisioning_id) {
                Some(p) if p.principal_type == ResourceKind::Group => EventSource::AddUserToGroup,
                _ => EventSource::StartProvisioning,
            };
            run.fail(&first.provisioning_id, source, &first.user_id, e);
        }
    }

    /// The RAM users `user` of directory `dir` has now, in every account: what RAM user-based
    /// logon offers (none while the user is disabled or gone).
    pub async fn ram_user_access(
        &self,
        dir: &crate::model::DirectoryId,
        user: &crate::model::UserId,
    ) -> Result<Vec<RamUser>, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        let active = self
            .read(move |txn| Ok(txn.resource(ResourceKind::User, &d, &u)?))
            .await?
            .is_some_and(|doc| doc.get("active") != Some(&Value::Bool(false)));
        if !active {
            return Ok(Vec::new());
        }
        let owner = RamUserOwner {
            directory_id: dir.to_string(),
            user_id: user.to_string(),
        };
        self.provider
            .ram_users_of(&owner)
            .await
            .map_err(|e| DomainError::Internal(e.0))
    }

    /// Whether directory `dir` has RAM user provisionings.
    pub(crate) async fn has_user_provisionings(&self, dir: &str) -> Result<bool, DomainError> {
        let d = dir.to_owned();
        self.read(move |txn| Ok(txn.any_under(Prefix::UserProvisioningsIn { dir: &d })?))
            .await
    }
}

//! Access assignments, provisioning records and tasks.
//!
//! An assignment is a row (and its mirror by principal) written with its change event. The
//! first assignment of a configuration to an account provisions it: provisioning is a task,
//! persisted `InProgress`, run in the background against the `Provider`, finished `Success`
//! or `Failed` with its reason. A second task on the same (configuration, account) while one
//! runs is refused (`OperationConflict.Task`).

use super::Access;
use super::provider::RoleSpec;
use super::records::{
    AccessConfiguration, Assignment, Provisioning, ProvisioningStatus, Task, TaskStatus, TaskType,
};
use crate::directory::append_event;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::{
    ChangeKind, DirectoryId, PrincipalId, ResourceType, new_prefixed_id, now_rfc3339,
};
use crate::scim::schema::ResourceKind;
use crate::store::keys::{
    AccountKey, AssignmentKey, ConfigKey, Key, Prefix, ProvisioningKey, TaskKey,
};
use crate::store::{ReadTxn, WriteTxn};

/// How long finished tasks stay listable.
pub const TASK_RETENTION_SECONDS: i64 = 7 * 24 * 3600;

/// What to assign: a configuration, to a principal, on an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub directory_id: DirectoryId,
    pub config_id: String,
    pub account_id: String,
}

/// Filters of `ListAccessAssignments` and friends; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub config_id: Option<String>,
    pub account_id: Option<String>,
    pub principal: Option<PrincipalId>,
}

impl Target {
    /// The key of the target's provisioning record.
    fn provisioning(&self) -> ProvisioningKey<'_> {
        ProvisioningKey {
            dir: &self.directory_id,
            config: &self.config_id,
            account: &self.account_id,
        }
    }

    /// The assignments of the target's configuration on its account.
    fn assignments(&self) -> Prefix<'_> {
        Prefix::AssignmentsOnAccount {
            dir: &self.directory_id,
            config: &self.config_id,
            account: &self.account_id,
        }
    }
}

impl Filter {
    fn matches(
        &self,
        config: &str,
        account: &str,
        principal: Option<(ResourceKind, &str)>,
    ) -> bool {
        self.config_id.as_deref().is_none_or(|c| c == config)
            && self.account_id.as_deref().is_none_or(|a| a == account)
            && match (&self.principal, principal) {
                (None, _) => true,
                (Some(p), Some((pt, pid))) => p.kind() == pt && p.as_str() == pid,
                (Some(_), None) => false,
            }
    }
}

fn assignment_key(a: &Assignment) -> AssignmentKey<'_> {
    AssignmentKey {
        dir: &a.directory_id,
        config: &a.config_id,
        account: &a.account_id,
        principal_type: a.principal_type.as_str(),
        principal_id: &a.principal_id,
    }
}

pub fn role_name(config_name: &str) -> String {
    format!("AliyunReservedSSO-{config_name}")
}

pub fn saml_provider_name(dir: &str) -> String {
    format!("AliyunReservedSSO-{dir}")
}

/// The role a configuration makes in an account, with its SAML trust policy: the directory's
/// SAML provider in that account, posting to `recipient` (the ACS of the account's console).
pub fn role_spec(c: &AccessConfiguration, account: &str, recipient: &str) -> RoleSpec {
    let trust = serde_json::json!({
        "Version": "1",
        "Statement": [{
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Federated": [format!(
                "acs:ram::{account}:saml-provider/{}",
                saml_provider_name(&c.directory_id)
            )]},
            "Condition": {"StringEquals": {"saml:recipient": recipient}},
        }],
    });
    RoleSpec {
        account_id: account.to_owned(),
        role_name: role_name(&c.name),
        config_id: c.id.clone(),
        trust_policy: trust.to_string(),
        max_session_duration: c.session_duration,
        system_policies: c.system_policies.clone(),
        inline_policy: c
            .inline_policy
            .clone()
            .map(|d| (format!("{}-InlinePolicy", role_name(&c.name)), d)),
    }
}

macro_rules! config_in {
    ($txn:expr, $dir:expr, $id:expr) => {
        $txn.get::<AccessConfiguration>(ConfigKey { dir: $dir, id: $id })?
            .ok_or_else(|| DomainError::NotFound {
                entity: Entity::AccessConfiguration,
                id: $id.to_owned(),
            })
    };
}

fn check_targets(txn: &WriteTxn, t: &Target) -> Result<AccessConfiguration, DomainError> {
    if txn.directory(&t.directory_id)?.is_none() {
        return Err(DomainError::NotFound {
            entity: Entity::Directory,
            id: t.directory_id.to_string(),
        });
    }
    let c = config_in!(txn, &t.directory_id, &t.config_id)?;
    if txn
        .get::<super::records::Account>(AccountKey { id: &t.account_id })?
        .is_none()
    {
        return Err(DomainError::NotFound {
            entity: Entity::Account,
            id: t.account_id.clone(),
        });
    }
    Ok(c)
}

/// Whether a task runs on the target's (configuration, account).
fn running_task(txn: &WriteTxn, t: &Target) -> Result<bool, DomainError> {
    let tasks = txn.scan::<Task>(Prefix::TasksIn {
        dir: &t.directory_id,
    })?;
    Ok(tasks.iter().any(|task| {
        task.status == TaskStatus::InProgress
            && task.config_id == t.config_id
            && task.account_id == t.account_id
    }))
}

/// `OperationConflict.Task` while a task runs on the target's (configuration, account).
fn refuse_if_running(txn: &WriteTxn, t: &Target) -> Result<(), DomainError> {
    if running_task(txn, t)? {
        return Err(DomainError::Conflict {
            rule: Conflict::TaskRunning,
            message: "a task on this access configuration and account is still running".into(),
        });
    }
    Ok(())
}

fn new_task(
    t: &Target,
    kind: TaskType,
    principal: Option<(ResourceKind, String)>,
    status: TaskStatus,
) -> Task {
    let now = now_rfc3339();
    Task {
        id: new_prefixed_id("t-", 20),
        directory_id: t.directory_id.to_string(),
        kind,
        config_id: t.config_id.clone(),
        account_id: t.account_id.clone(),
        principal,
        status,
        failure_reason: None,
        finished: (status != TaskStatus::InProgress).then(|| now.clone()),
        created: now,
    }
}

/// Records an assignment's creation or deletion: its task (in progress when the account work
/// is still to do, else already successful) and its change event.
fn assignment_task(
    txn: &WriteTxn,
    t: &Target,
    principal: (ResourceKind, String),
    account_work: bool,
    change: ChangeKind,
) -> Result<Task, DomainError> {
    let kind = match change {
        ChangeKind::Deleted => TaskType::DeleteAccessAssignment,
        _ => TaskType::CreateAccessAssignment,
    };
    let status = if account_work {
        TaskStatus::InProgress
    } else {
        TaskStatus::Success
    };
    let pid = principal.1.clone();
    let task = new_task(t, kind, Some(principal), status);
    put_task(txn, &task)?;
    append_event(
        txn,
        &t.directory_id,
        ResourceType::AccessAssignment,
        &pid,
        change,
    )?;
    Ok(task)
}

fn put_task(txn: &WriteTxn, task: &Task) -> Result<(), DomainError> {
    let key = TaskKey {
        dir: &task.directory_id,
        id: &task.id,
    };
    txn.put(key, task)?;
    Ok(())
}

/// Whether a user or group exists (assignments name only existing principals).
fn principal_exists(
    txn: &WriteTxn,
    dir: &str,
    kind: ResourceKind,
    id: &str,
) -> Result<bool, DomainError> {
    Ok(txn.exists(kind, dir, id)?)
}

/// Assignments of a directory matching `f`, from the principal index when it names one.
pub(crate) fn assignments_in(
    txn: &ReadTxn,
    dir: &str,
    f: &Filter,
) -> Result<Vec<Assignment>, DomainError> {
    let prefix = match (&f.principal, &f.config_id) {
        (Some(p), _) => Prefix::AssignmentsOfPrincipal {
            dir,
            principal_type: p.kind().as_str(),
            principal_id: p.as_str(),
        },
        (None, Some(config)) => Prefix::AssignmentsOfConfig { dir, config },
        (None, None) => Prefix::AssignmentsIn { dir },
    };
    let all = txn.scan::<Assignment>(prefix)?;
    Ok(all
        .into_iter()
        .filter(|a| {
            f.matches(
                &a.config_id,
                &a.account_id,
                Some((a.principal_type, a.principal_id.as_str())),
            )
        })
        .collect())
}

impl Access {
    /// Assigns a configuration to a principal on an account. Provisions the configuration on
    /// the account first when it is not yet (the returned task finishes in the background).
    pub async fn create_assignment(
        &self,
        t: Target,
        principal: PrincipalId,
    ) -> Result<Task, DomainError> {
        let principal = principal.into_parts();
        let (task, provision) = self
            .write(move |txn| Self::create_assignment_in(txn, &t, principal))
            .await?;
        if provision {
            self.spawn_task(task.clone());
        }
        Ok(task)
    }

    fn create_assignment_in(
        txn: &WriteTxn,
        t: &Target,
        (ptype, pid): (ResourceKind, String),
    ) -> Result<(Task, bool), DomainError> {
        check_targets(txn, t)?;
        if !principal_exists(txn, &t.directory_id, ptype, &pid)? {
            return Err(DomainError::NotFound {
                entity: ptype.into(),
                id: pid,
            });
        }
        let a = Assignment {
            directory_id: t.directory_id.to_string(),
            config_id: t.config_id.clone(),
            account_id: t.account_id.clone(),
            principal_type: ptype,
            principal_id: pid.clone(),
            created: now_rfc3339(),
        };
        if txn.get::<Assignment>(assignment_key(&a))?.is_some() {
            return Err(DomainError::AlreadyExists {
                entity: Entity::AccessAssignment,
                id: format!("{}/{}/{}", a.config_id, a.account_id, a.principal_id),
            });
        }
        let provisioned = txn
            .get::<Provisioning>(t.provisioning())?
            .is_some_and(|p| p.status != ProvisioningStatus::DeprovisionFailed);
        // Whatever runs on the pair (a provisioning, or a deprovisioning that would take the
        // role away under the new assignment) must finish first.
        refuse_if_running(txn, t)?;
        txn.put(assignment_key(&a), &a)?;
        txn.put(assignment_key(&a).by_principal(), &a)?;
        let task = assignment_task(txn, t, (ptype, pid), !provisioned, ChangeKind::Created)?;
        Ok((task, !provisioned))
    }

    /// Removes an assignment; with `deprovision_last`, deprovisions the configuration from the
    /// account when it was the last assignment there.
    pub async fn delete_assignment(
        &self,
        t: Target,
        principal: PrincipalId,
        deprovision_last: bool,
    ) -> Result<Task, DomainError> {
        let principal = principal.into_parts();
        let (task, deprovision) = self
            .write(move |txn| Self::delete_assignment_in(txn, &t, principal, deprovision_last))
            .await?;
        if deprovision {
            self.spawn_task(task.clone());
        }
        Ok(task)
    }

    fn delete_assignment_in(
        txn: &WriteTxn,
        t: &Target,
        (ptype, pid): (ResourceKind, String),
        deprovision_last: bool,
    ) -> Result<(Task, bool), DomainError> {
        config_in!(txn, &t.directory_id, &t.config_id)?;
        let probe = Assignment {
            directory_id: t.directory_id.to_string(),
            config_id: t.config_id.clone(),
            account_id: t.account_id.clone(),
            principal_type: ptype,
            principal_id: pid.clone(),
            created: String::new(),
        };
        if !txn.delete(assignment_key(&probe))? {
            return Err(DomainError::NotFound {
                entity: Entity::AccessAssignment,
                id: format!("{}/{}/{}", t.config_id, t.account_id, pid),
            });
        }
        txn.delete(assignment_key(&probe).by_principal())?;
        let others = txn.scan::<Assignment>(t.assignments())?.len();
        let deprovision = deprovision_last
            && others == 0
            && txn.get::<Provisioning>(t.provisioning())?.is_some()
            && !running_task(txn, t)?;
        let task = assignment_task(txn, t, (ptype, pid), deprovision, ChangeKind::Deleted)?;
        Ok((task, deprovision))
    }

    /// Starts provisioning a configuration on an account (also re-provisioning).
    pub async fn provision(&self, t: Target) -> Result<Task, DomainError> {
        let task = self
            .write(move |txn| {
                check_targets(txn, &t)?;
                refuse_if_running(txn, &t)?;
                let task = new_task(
                    &t,
                    TaskType::ProvisionAccessConfiguration,
                    None,
                    TaskStatus::InProgress,
                );
                put_task(txn, &task)?;
                Ok(task)
            })
            .await?;
        self.spawn_task(task.clone());
        Ok(task)
    }

    /// Starts removing a configuration's role from an account; refused while assignments of
    /// the configuration on the account remain.
    pub async fn deprovision(&self, t: Target) -> Result<Task, DomainError> {
        let task = self.write(move |txn| {

                    check_targets(txn, &t)?;
                    let assigned = !txn.scan::<Assignment>(t.assignments())?.is_empty();
                    if assigned {
                        return Err(DomainError::Conflict {
                            rule: Conflict::ProvisioningAssigned,
                            message: "remove the access assignments of this configuration on the account first".into(),
                        });
                    }
                    if txn.get::<Provisioning>(t.provisioning())?.is_none() {
                        return Err(DomainError::NotFound {
                            entity: Entity::AccessConfigurationProvisioning,
                            id: format!("{}/{}", t.config_id, t.account_id),
                        });
                    }
                    refuse_if_running(txn, &t)?;
                    let task = new_task(&t, TaskType::DeprovisionAccessConfiguration, None, TaskStatus::InProgress);
                    put_task(txn, &task)?;
                    Ok(task)

            })
            .await?;
        self.spawn_task(task.clone());
        Ok(task)
    }

    /// Runs an `InProgress` task in the background.
    pub(crate) fn spawn_task(&self, task: Task) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.run_task(task).await {
                tracing::warn!(error = %e, "finishing a task failed; the next start resumes it");
            }
        });
    }

    /// Does a task's work against the provider, then records how it ended (and, for a
    /// provisioning, the provisioning record) in one transaction with a change event.
    pub(crate) async fn run_task(&self, task: Task) -> Result<(), DomainError> {
        let config = {
            let (dir, id) = (task.directory_id.clone(), task.config_id.clone());
            self.read(move |txn| {
                Ok(txn.get::<AccessConfiguration>(ConfigKey { dir: &dir, id: &id })?)
            })
            .await?
        };
        // The policies the role is made with: if they change while the task runs, the
        // provisioning is recorded stale, not Provisioned.
        let applied = config.as_ref().map(policies);
        let account = &task.account_id;
        let outcome: Result<(), String> = match &config {
            None => Err(format!(
                "access configuration `{}` no longer exists",
                task.config_id
            )),
            Some(c) if provisions(task.kind) => self.provision_in_account(c, account).await,
            Some(c) => self.deprovision_in_account(c, account).await,
        };
        self.write(move |txn| finish_task(txn, task, applied, outcome))
            .await
    }

    /// The configuration's role on `account`, as the provider holds it, and whether it is
    /// another configuration's: role names are per account, so a configuration of the same
    /// name in another directory must not take over (or delete) a role it did not make.
    async fn role_owner(
        &self,
        c: &AccessConfiguration,
        account: &str,
    ) -> Result<Option<String>, String> {
        let existing = self
            .provider
            .role(account, &role_name(&c.name))
            .await
            .map_err(|e| e.0)?;
        Ok(existing.map(|r| r.config_id).filter(|owner| owner != &c.id))
    }

    /// Makes the directory's SAML provider and the configuration's role on an account,
    /// unless a role of that name there is another configuration's.
    async fn provision_in_account(
        &self,
        c: &AccessConfiguration,
        account: &str,
    ) -> Result<(), String> {
        if let Some(owner) = self.role_owner(c, account).await? {
            return Err(format!(
                "account `{account}` already has a role `{}` provisioned for access configuration \
                 `{owner}`: role names are per account, so configurations with the same name \
                 cannot both be provisioned there",
                role_name(&c.name)
            ));
        }
        let metadata = self
            .saml_metadata(&c.directory_id)
            .await
            .map_err(|e| e.to_string())?;
        self.provider
            .ensure_saml_provider(account, &saml_provider_name(&c.directory_id), &metadata)
            .await
            .map_err(|e| e.0)?;
        self.provider
            .ensure_role(&role_spec(c, account, self.saml_recipient()))
            .await
            .map_err(|e| e.0)
    }

    /// Registers directory `dir`'s current IdP metadata with its SAML provider in every
    /// account where one of its configurations is provisioned, where the provider holds other
    /// metadata (after a key rotation; the engine's full pass heals the rest). Returns how
    /// many providers it wrote.
    pub async fn refresh_saml_providers(&self, dir: &str) -> Result<usize, DomainError> {
        let d = dir.to_owned();
        let accounts: std::collections::BTreeSet<String> = self
            .read(move |txn| {
                Ok(txn
                    .scan::<Provisioning>(Prefix::ProvisioningsIn { dir: &d })?
                    .into_iter()
                    .filter(|p| p.status == ProvisioningStatus::Provisioned)
                    .map(|p| p.account_id)
                    .collect())
            })
            .await?;
        if accounts.is_empty() {
            return Ok(0);
        }
        let (metadata, name) = (self.saml_metadata(dir).await?, saml_provider_name(dir));
        let internal = |e: super::provider::ProviderError| DomainError::Internal(e.0);
        let mut wrote = 0;
        for account in accounts {
            let have = self
                .provider
                .saml_provider_metadata(&account, &name)
                .await
                .map_err(internal)?;
            if have.as_deref() != Some(metadata.as_str()) {
                self.provider
                    .ensure_saml_provider(&account, &name, &metadata)
                    .await
                    .map_err(internal)?;
                wrote += 1;
            }
        }
        Ok(wrote)
    }

    /// Removes a configuration's role from an account (not another configuration's role of
    /// the same name), and the directory's SAML provider when no other configuration of the
    /// directory is provisioned there.
    async fn deprovision_in_account(
        &self,
        c: &AccessConfiguration,
        account: &str,
    ) -> Result<(), String> {
        if self.role_owner(c, account).await?.is_none() {
            self.provider
                .delete_role(account, &role_name(&c.name))
                .await
                .map_err(|e| e.0)?;
        }
        let (dir, config, acct) = (c.directory_id.clone(), c.id.clone(), account.to_owned());
        let others = self
            .read(move |txn| {
                Ok(txn
                    .scan::<Provisioning>(Prefix::ProvisioningsIn { dir: &dir })?
                    .iter()
                    .any(|p| p.account_id == acct && p.config_id != config))
            })
            .await
            .map_err(|e| e.to_string())?;
        if !others {
            self.provider
                .delete_saml_provider(account, &saml_provider_name(&c.directory_id))
                .await
                .map_err(|e| e.0)?;
        }
        Ok(())
    }

    pub async fn assignments(
        &self,
        dir: &DirectoryId,
        f: Filter,
    ) -> Result<Vec<Assignment>, DomainError> {
        let dir = dir.to_owned();
        self.read(move |txn| Ok(assignments_in(txn, &dir, &f)))
            .await?
    }

    pub async fn provisionings(
        &self,
        dir: &DirectoryId,
        f: Filter,
        status: Option<ProvisioningStatus>,
    ) -> Result<Vec<Provisioning>, DomainError> {
        let dir = dir.to_owned();
        self.read(move |txn| {
            Ok(txn
                .scan::<Provisioning>(Prefix::ProvisioningsIn { dir: &dir })?
                .into_iter()
                .filter(|p| f.matches(&p.config_id, &p.account_id, None))
                .filter(|p| status.is_none_or(|s| s == p.status))
                .collect())
        })
        .await
    }

    pub async fn task(&self, dir: &DirectoryId, id: &str) -> Result<Task, DomainError> {
        let (dir, id) = (dir.to_owned(), id.to_owned());
        let wanted = id.clone();
        self.read(move |txn| {
            Ok(txn.get::<Task>(TaskKey {
                dir: &dir,
                id: &wanted,
            })?)
        })
        .await?
        .ok_or(DomainError::NotFound {
            entity: Entity::Task,
            id,
        })
    }

    /// Tasks of a directory, newest first, within the retention window.
    pub async fn tasks(&self, dir: &DirectoryId, f: Filter) -> Result<Vec<Task>, DomainError> {
        let dir = dir.to_owned();
        let since = crate::directory::now_unix() - TASK_RETENTION_SECONDS;
        let mut all = self
            .read(move |txn| {
                Ok(txn
                    .scan::<Task>(Prefix::TasksIn { dir: &dir })?
                    .into_iter()
                    .filter(|t| {
                        f.matches(
                            &t.config_id,
                            &t.account_id,
                            t.principal.as_ref().map(|(pt, id)| (*pt, id.as_str())),
                        )
                    })
                    .filter(|t| unix(&t.created) >= since)
                    .collect::<Vec<Task>>())
            })
            .await?;
        all.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        Ok(all)
    }
}

/// What a configuration's role is made with: its system policies and inline policy.
type Policies = (Vec<String>, Option<String>);

fn policies(c: &AccessConfiguration) -> Policies {
    (c.system_policies.clone(), c.inline_policy.clone())
}

/// Whether a task of this kind makes the role (else it removes it).
fn provisions(kind: TaskType) -> bool {
    matches!(
        kind,
        TaskType::ProvisionAccessConfiguration | TaskType::CreateAccessAssignment
    )
}

/// Records how a task ended, with its provisioning record and a change event. `applied` is
/// what the role was made with (`None` when the configuration was gone).
fn finish_task(
    txn: &WriteTxn,
    mut task: Task,
    applied: Option<Policies>,
    outcome: Result<(), String>,
) -> Result<(), DomainError> {
    task.finished = Some(now_rfc3339());
    let pkey = Key::from(ProvisioningKey {
        dir: &task.directory_id,
        config: &task.config_id,
        account: &task.account_id,
    });
    let provisioning = provisions(task.kind);
    match outcome {
        Ok(()) => {
            task.status = TaskStatus::Success;
            if provisioning {
                record_provisioned(txn, &task, &pkey, applied)?;
            } else {
                txn.delete(&pkey)?;
            }
            clear_notifications(txn, &task.directory_id, &task.config_id)?;
        }
        Err(reason) => {
            task.status = TaskStatus::Failed;
            task.failure_reason = Some(reason);
            if !provisioning && let Some(mut p) = txn.get::<Provisioning>(&pkey)? {
                p.status = ProvisioningStatus::DeprovisionFailed;
                p.updated = now_rfc3339();
                txn.put(&pkey, &p)?;
            }
        }
    }
    put_task(txn, &task)?;
    append_event(
        txn,
        &task.directory_id,
        ResourceType::AccessConfiguration,
        &task.config_id,
        ChangeKind::Updated,
    )?;
    Ok(())
}

/// Records a finished provisioning: `Provisioned`, or `ReprovisionRequired` when the
/// configuration's policies are no longer the `applied` ones the role was made with.
fn record_provisioned(
    txn: &WriteTxn,
    task: &Task,
    pkey: &Key,
    applied: Option<Policies>,
) -> Result<(), DomainError> {
    let config = ConfigKey {
        dir: &task.directory_id,
        id: &task.config_id,
    };
    let now = txn
        .get::<AccessConfiguration>(config)?
        .as_ref()
        .map(policies);
    let status = if now == applied {
        ProvisioningStatus::Provisioned
    } else {
        ProvisioningStatus::ReprovisionRequired
    };
    let record = Provisioning {
        directory_id: task.directory_id.clone(),
        config_id: task.config_id.clone(),
        account_id: task.account_id.clone(),
        status,
        updated: now_rfc3339(),
    };
    txn.put(pkey, &record)?;
    Ok(())
}

/// Clears a configuration's `ReprovisionRequired` notice when none of its provisionings is
/// stale any more.
fn clear_notifications(txn: &WriteTxn, dir: &str, config: &str) -> Result<(), DomainError> {
    let Some(mut c) = txn.get::<AccessConfiguration>(ConfigKey { dir, id: config })? else {
        return Ok(());
    };
    let stale = txn
        .scan::<Provisioning>(Prefix::ProvisioningsOfConfig { dir, config })?
        .iter()
        .any(|p| p.status == ProvisioningStatus::ReprovisionRequired);
    if !stale && !c.status_notifications.is_empty() {
        c.status_notifications.clear();
        txn.put(ConfigKey { dir, id: config }, &c)?;
    }
    Ok(())
}

pub(crate) fn unix(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .unwrap_or(0)
}

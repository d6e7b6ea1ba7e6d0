//! The reconciliation engine: consumes the outbox from a durable cursor (at least once; every
//! step idempotent), finds the users an event may concern, computes what each must be granted
//! (`plan::desired_grants`) and makes the provider's grants equal to it. A full pass at start
//! and every `full_pass_every` heals drift made behind its back (grants, missing roles) and
//! resumes tasks a stop interrupted.
//!
//! Owns time, IO, retries and shutdown; the decisions are the planner's.

use super::Access;
use super::assignments::{Filter, role_name, role_spec};
use super::plan::{self, Facts};
use super::provider::Grant;
use super::records::{
    AccessConfiguration, Assignment, Provisioning, ProvisioningStatus, Task, TaskStatus,
};
use crate::error::{DomainError, Entity};
use crate::metrics::{Lag, TaskCounts};
use crate::model::{ChangeEvent, ChangeKind, DirectoryId, ResourceType, UserId};
use crate::scim::schema::ResourceKind;
use crate::store::ReadTxn;
use crate::store::keys::{ConfigKey, MetaKey, Prefix, ProvisioningKey, TaskKey};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Most events read per round.
pub const EVENTS_PER_ROUND_MAX: usize = 1024;
/// Attempts to apply a round's grants before leaving them to the next full pass.
pub const APPLY_ATTEMPTS_MAX: u32 = 4;
/// First retry delay; doubles per attempt.
pub const RETRY_BASE: Duration = Duration::from_millis(50);
/// Most users planned in one read transaction and applied in one provider call.
pub const RECONCILE_CHUNK_MAX: usize = 512;
/// The cursor is written at least this often while events flow (and whenever grants change).
pub const CURSOR_PERSIST_EVERY: Duration = Duration::from_secs(1);
/// Key of the cursor (last event handled) in the meta table.
const CURSOR_KEY: MetaKey<'static> = MetaKey {
    name: "reconcile_cursor",
};

/// Most task records `task_counts` reads for one scrape.
pub const TASKS_COUNTED_MAX: usize = 100_000;

/// How long ago an event (RFC 3339 `at`) was committed; zero when unreadable or ahead.
fn event_age(at: &str) -> Duration {
    let now = time::OffsetDateTime::now_utc();
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map(|at| (now - at).try_into().unwrap_or(Duration::ZERO))
        .unwrap_or(Duration::ZERO)
}

/// (directory, user)
type UserRef = (String, String);

/// What a round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Handled events (there may be more).
    Handled,
    /// Nothing after the cursor.
    Idle,
    /// Events wait for the reconcile delay; the first is due in this long.
    NotYet(Duration),
}

/// After a failed round, the next try.
pub const RETRY_ROUND_AFTER: Duration = Duration::from_secs(1);

/// Where the engine is in the outbox.
#[derive(Debug, Default)]
pub struct Cursor {
    /// The last event handled (`None` until read from the store).
    handled: Option<u64>,
    /// When it was last written to the store.
    persisted: Option<Instant>,
    /// How many `run_engine` calls are running (each takes itself off however it ends, a
    /// panic included).
    running: u32,
}

/// Counts an engine as running while it lives; uncounts it when dropped (on return or unwind).
struct RunningMark<'a>(&'a Access);

impl<'a> RunningMark<'a> {
    fn set(access: &'a Access) -> RunningMark<'a> {
        let mut c = access.lock_cursor();
        c.running = c.running.saturating_add(1);
        drop(c);
        RunningMark(access)
    }
}

impl Drop for RunningMark<'_> {
    fn drop(&mut self) {
        let mut c = self.0.lock_cursor();
        c.running = c.running.saturating_sub(1);
    }
}

impl Access {
    /// Runs until `shutdown` resolves. An event is handled no sooner than `delay` after its
    /// commit (zero: at once; more batches bursts of writes into fewer rounds).
    pub async fn run_engine(
        &self,
        full_pass_every: Duration,
        delay: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let _running = RunningMark::set(self);
        let mut last_full = None::<Instant>;
        loop {
            let due = last_full.is_none_or(|t: Instant| t.elapsed() >= full_pass_every);
            if due {
                if let Err(e) = self.full_pass(last_full.is_none()).await {
                    tracing::warn!(error = %e, "reconciliation full pass failed; retrying later");
                }
                last_full = Some(Instant::now());
            }
            let wait =
                full_pass_every.saturating_sub(last_full.map_or(Duration::ZERO, |t| t.elapsed()));
            let next = match self.round_after(delay).await {
                Ok(Progress::Handled) => continue,
                Ok(Progress::Idle) => wait,
                Ok(Progress::NotYet(left)) => left.min(wait),
                Err(e) => {
                    tracing::warn!(error = %e, "reconciliation round failed; retrying");
                    RETRY_ROUND_AFTER.min(wait)
                }
            };
            tokio::select! {
                () = self.db.changed() => {}
                () = tokio::time::sleep(next.max(Duration::from_millis(1))) => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// Whether `run_engine` is running now (readiness fails while it is not).
    pub fn engine_running(&self) -> bool {
        self.lock_cursor().running > 0
    }

    /// The last event handled: in memory once read; in the store as of the last persist.
    async fn cursor(&self) -> Result<u64, DomainError> {
        if let Some(c) = self.lock_cursor().handled {
            return Ok(c);
        }
        let stored = self
            .read(|txn| Ok(txn.get::<u64>(CURSOR_KEY)?.unwrap_or(0)))
            .await?;
        let mut c = self.lock_cursor();
        Ok(*c.handled.get_or_insert(stored))
    }

    /// How far the engine is behind the outbox: its cursor (in memory once read, else as
    /// stored), the newest event, and the age of the oldest event after the cursor. One read
    /// transaction, two point reads and one row.
    pub async fn lag(&self) -> Result<Lag, DomainError> {
        let known = self.lock_cursor().handled;
        self.read(move |txn| {
            let cursor = match known {
                Some(c) => c,
                None => txn.get::<u64>(CURSOR_KEY)?.unwrap_or(0),
            };
            let oldest = txn.events_after(cursor, 1)?;
            Ok(Lag {
                head: txn.last_seq()?,
                cursor,
                oldest: oldest.first().map_or(Duration::ZERO, |e| event_age(&e.at)),
            })
        })
        .await
    }

    /// Access tasks by state, reading at most `TASKS_COUNTED_MAX` task records (finished
    /// tasks are kept `TASK_RETENTION_SECONDS`); `truncated` says the bound was reached.
    pub async fn task_counts(&self) -> Result<TaskCounts, DomainError> {
        self.task_counts_at_most(TASKS_COUNTED_MAX).await
    }

    /// `task_counts` reading at most `max` task records.
    pub(crate) async fn task_counts_at_most(&self, max: usize) -> Result<TaskCounts, DomainError> {
        self.read(move |txn| {
            let mut counts = TaskCounts::default();
            let mut left = max;
            for d in txn.directories()? {
                // One more than is left says whether the bound cut the count short.
                let tasks = txn.scan_at_most::<Task>(Prefix::TasksIn { dir: &d.id }, left + 1)?;
                counts.truncated = tasks.len() > left;
                for t in tasks.iter().take(left) {
                    match t.status {
                        TaskStatus::InProgress => counts.in_progress += 1,
                        TaskStatus::Success => counts.success += 1,
                        TaskStatus::Failed => counts.failed += 1,
                    }
                }
                left -= tasks.len().min(left);
                if counts.truncated {
                    break;
                }
            }
            Ok(counts)
        })
        .await
    }

    fn lock_cursor(&self) -> std::sync::MutexGuard<'_, Cursor> {
        self.cursor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Handles the events after the cursor, then moves the cursor past them. `true` when
    /// there were events (there may be more).
    pub async fn round(&self) -> Result<bool, DomainError> {
        Ok(self.round_after(Duration::ZERO).await? == Progress::Handled)
    }

    /// `round`, for the events committed at least `delay` ago.
    pub async fn round_after(&self, delay: Duration) -> Result<Progress, DomainError> {
        let cursor = self.cursor().await?;
        let mut events = self
            .read(move |txn| Ok(txn.events_after(cursor, EVENTS_PER_ROUND_MAX)?))
            .await?;
        if events.is_empty() {
            return Ok(Progress::Idle);
        }
        if !delay.is_zero() {
            let now = time::OffsetDateTime::now_utc();
            let age = |e: &ChangeEvent| {
                time::OffsetDateTime::parse(&e.at, &time::format_description::well_known::Rfc3339)
                    .map(|at| (now - at).try_into().unwrap_or(Duration::ZERO))
                    .unwrap_or(delay)
            };
            let ripe = events.iter().take_while(|e| age(e) >= delay).count();
            if ripe == 0 {
                let left = events
                    .first()
                    .map_or(delay, |e| delay.saturating_sub(age(e)));
                return Ok(Progress::NotYet(left));
            }
            events.truncate(ripe);
        }
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(Progress::Idle);
        };
        // RAM users: the directories whose provisionings or reached users an event touches.
        let ram_dirs: BTreeSet<(String, bool)> = events
            .iter()
            .filter(|e| super::ram_users::concerns_ram_users(e))
            .map(|e| {
                let provisioning = e.resource == ResourceType::UserProvisioning;
                (e.directory.clone(), provisioning)
            })
            .collect();
        // Events of directories where nobody has or may get access change nothing (after a
        // bulk load, the catch-up is then one cheap check per directory and round).
        let relevant = self
            .relevant_dirs(events.iter().map(|e| e.directory.clone()).collect())
            .await?;
        events.retain(|e| relevant.contains(&e.directory));
        let deleted_groups: BTreeSet<String> = events
            .iter()
            .filter(|e| e.resource == ResourceType::Group && e.kind == ChangeKind::Deleted)
            .map(|e| e.directory.clone())
            .collect();
        let users = self
            .read(move |txn| {
                let mut users = BTreeSet::new();
                for e in &events {
                    affected_users(txn, e, &mut users)?;
                }
                Ok(users)
            })
            .await?;
        let deleted_groups = self.deleted_group_users(deleted_groups).await?;
        let users: BTreeSet<UserRef> = users.into_iter().chain(deleted_groups).collect();
        let changed = self.reconcile(users).await?;
        self.reconcile_ram_users_of(ram_dirs).await?;
        let persist = {
            let mut c = self.lock_cursor();
            c.handled = Some(c.handled.map_or(last, |h| h.max(last)));
            changed > 0
                || c.persisted
                    .is_none_or(|t| t.elapsed() >= CURSOR_PERSIST_EVERY)
        };
        if persist {
            // Replaying events is harmless (every step is idempotent), so the cursor is
            // written only when grants changed or a second has passed: no extra commit per
            // SCIM write that concerns no grant.
            self.write(move |txn| {
                let stored = txn.get::<u64>(CURSOR_KEY)?.unwrap_or(0);
                txn.put(CURSOR_KEY, &stored.max(last))?;
                Ok(())
            })
            .await?;
            self.lock_cursor().persisted = Some(Instant::now());
        }
        Ok(Progress::Handled)
    }

    /// `reconcile_ram_users` for each directory of `dirs` (directory, whether a provisioning
    /// changed) that has provisionings or whose provisioning changed (the last one's removal
    /// removes RAM users).
    async fn reconcile_ram_users_of(
        &self,
        dirs: BTreeSet<(String, bool)>,
    ) -> Result<(), DomainError> {
        let mut done = BTreeSet::new();
        for (d, provisioning) in dirs {
            if done.contains(&d) || !(provisioning || self.has_user_provisionings(&d).await?) {
                continue;
            }
            self.reconcile_ram_users(&d).await?;
            done.insert(d);
        }
        Ok(())
    }

    /// The directories among `dirs` that have an assignment or a user with grants.
    async fn relevant_dirs(&self, dirs: BTreeSet<String>) -> Result<BTreeSet<String>, DomainError> {
        let mut out = BTreeSet::new();
        for d in dirs {
            if self.has_assignments(&d).await? || !self.granted_users(&d).await?.is_empty() {
                out.insert(d);
            }
        }
        Ok(out)
    }

    /// Whether any assignment exists in the directory.
    async fn has_assignments(&self, dir: &str) -> Result<bool, DomainError> {
        let dir = dir.to_owned();
        self.read(move |txn| Ok(txn.any_under(Prefix::PrincipalIndexIn { dir: &dir })?))
            .await
    }

    /// The users of a directory that hold grants, from the provider.
    async fn granted_users(&self, dir: &str) -> Result<Vec<String>, DomainError> {
        self.provider
            .granted_users(dir)
            .await
            .map_err(|e| DomainError::Internal(e.0))
    }

    /// A deleted group's members are gone with it: every user granted through any group of
    /// those directories is looked at again (rare).
    async fn deleted_group_users(
        &self,
        dirs: BTreeSet<String>,
    ) -> Result<Vec<UserRef>, DomainError> {
        let mut out = Vec::new();
        for d in dirs {
            for u in self.granted_users(&d).await? {
                out.push((d.clone(), u));
            }
        }
        Ok(out)
    }

    /// Makes each user's grants what the planner says: plans in chunks of
    /// `RECONCILE_CHUNK_MAX` users read in one transaction, applies every change of a chunk
    /// in one provider call, with bounded retries and backoff.
    /// Returns how many users' grants changed.
    pub async fn reconcile(&self, users: BTreeSet<UserRef>) -> Result<usize, DomainError> {
        let mut total = 0;
        let mut by_dir: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (d, u) in users {
            by_dir.entry(d).or_default().push(u);
        }
        for (dir, users) in by_dir {
            if !self.has_assignments(&dir).await? {
                // Nobody in the directory may have access: only users that still hold grants
                // need a change (after a bulk load, the catch-up costs one scan, not a plan
                // per user).
                let granted: BTreeSet<String> =
                    self.granted_users(&dir).await?.into_iter().collect();
                let changed: Vec<(String, Vec<Grant>)> = users
                    .into_iter()
                    .filter(|u| granted.contains(u))
                    .map(|u| (u, Vec::new()))
                    .collect();
                total += changed.len();
                for chunk in changed.chunks(RECONCILE_CHUNK_MAX) {
                    self.apply(&dir, chunk).await?;
                }
                continue;
            }
            for chunk in users.chunks(RECONCILE_CHUNK_MAX) {
                let (d, chunk) = (dir.clone(), chunk.to_vec());
                let provider = self.provider.clone();
                let changes = self
                    .read(move |txn| {
                        let mut planned = Vec::with_capacity(chunk.len());
                        for u in chunk {
                            let facts = facts(txn, &d, &u)?;
                            planned.push((plan::desired_grants(&u, &facts), u));
                        }
                        Ok(planned)
                    })
                    .await?;
                let mut changed = Vec::new();
                for (desired, user) in changes {
                    let actual = provider
                        .grants(&dir, &user)
                        .await
                        .map_err(|e| DomainError::Internal(e.0))?;
                    if actual != desired {
                        changed.push((user, desired));
                    }
                }
                if changed.is_empty() {
                    continue;
                }
                total += changed.len();
                self.apply(&dir, &changed).await?;
            }
        }
        Ok(total)
    }

    /// One provider call for a chunk of users, with bounded retries and backoff.
    async fn apply(&self, dir: &str, changed: &[(String, Vec<Grant>)]) -> Result<(), DomainError> {
        let mut attempt = 0;
        loop {
            match self.provider.set_grants_many(dir, changed).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt + 1 < APPLY_ATTEMPTS_MAX => {
                    tracing::debug!(error = %e, "applying grants failed; retrying");
                    tokio::time::sleep(RETRY_BASE * 2u32.pow(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    // The cursor stays where it is: the next round tries again.
                    return Err(DomainError::Internal(format!(
                        "applying grants failed {APPLY_ATTEMPTS_MAX} times: {e}"
                    )));
                }
            }
        }
    }

    /// Every user that has or may need grants, in every directory; missing roles of
    /// provisioned configurations; with `resume_tasks` (the first pass after a start), the
    /// tasks a stop interrupted.
    pub async fn full_pass(&self, resume_tasks: bool) -> Result<(), DomainError> {
        let dirs: Vec<String> = self
            .dir
            .directories()
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let mut users: BTreeSet<UserRef> = BTreeSet::new();
        for d in &dirs {
            for u in self.granted_users(d).await? {
                users.insert((d.clone(), u));
            }
            let dd = d.clone();
            let assigned = self
                .read(move |txn| {
                    let mut out = BTreeSet::new();
                    let all = super::assignments::assignments_in(txn, &dd, &Filter::default())
                        .map_err(|e| DomainError::Internal(e.to_string()))?;
                    for a in all {
                        principal_users(txn, &dd, a.principal_type, &a.principal_id, &mut out)?;
                    }
                    Ok(out)
                })
                .await?;
            users.extend(assigned);
        }
        self.reconcile(users).await?;
        for d in &dirs {
            self.reconcile_ram_users(d).await?;
        }
        self.heal_roles_and_tasks(&dirs, resume_tasks).await
    }

    async fn heal_roles_and_tasks(
        &self,
        dirs: &[String],
        resume_tasks: bool,
    ) -> Result<(), DomainError> {
        for d in dirs {
            let dd = d.clone();
            let (provisioned, interrupted) = self
                .read(move |txn| {
                    let mut out = Vec::new();
                    for p in txn.scan::<Provisioning>(Prefix::ProvisioningsIn { dir: &dd })? {
                        let config = ConfigKey {
                            dir: &dd,
                            id: &p.config_id,
                        };
                        if p.status == ProvisioningStatus::Provisioned
                            && let Some(c) = txn.get::<AccessConfiguration>(config)?
                        {
                            out.push((c, p.account_id));
                        }
                    }
                    let interrupted: Vec<Task> = txn
                        .scan::<Task>(Prefix::TasksIn { dir: &dd })?
                        .into_iter()
                        .filter(|t| t.status == TaskStatus::InProgress)
                        .collect();
                    Ok((out, interrupted))
                })
                .await?;
            for (c, account) in provisioned {
                let missing = self
                    .provider
                    .role(&account, &role_name(&c.name))
                    .await
                    .map_err(|e| DomainError::Internal(e.0))?
                    .is_none();
                if missing {
                    tracing::info!(account = %account, role = %role_name(&c.name), "role missing: made again");
                    let spec = role_spec(&c, &account, self.saml_recipient());
                    if let Err(e) = self.provider.ensure_role(&spec).await {
                        tracing::warn!(error = %e, "making a missing role failed");
                    }
                }
            }
            match self.refresh_saml_providers(d).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(dir = %d, providers = n, "SAML providers re-registered"),
                Err(e) => tracing::warn!(error = %e, "re-registering SAML providers failed"),
            }
            if resume_tasks {
                // At start every InProgress task was interrupted; re-running is idempotent.
                for t in interrupted {
                    self.spawn_task(t);
                }
            }
            // Finished tasks are kept `TASK_RETENTION_SECONDS`.
            let dd = d.clone();
            let cutoff = crate::directory::now_unix() - super::assignments::TASK_RETENTION_SECONDS;
            self.write(move |txn| {
                for t in txn.scan::<Task>(Prefix::TasksIn { dir: &dd })? {
                    let old = t
                        .finished
                        .as_deref()
                        .is_some_and(|f| super::assignments::unix(f) < cutoff);
                    if old {
                        txn.delete(TaskKey {
                            dir: &t.directory_id,
                            id: &t.id,
                        })?;
                    }
                }
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// What the provider grants a user (what reconciliation has applied).
    pub async fn granted(&self, dir: &str, user: &str) -> Result<Vec<Grant>, DomainError> {
        self.provider
            .grants(dir, user)
            .await
            .map_err(|e| DomainError::Internal(e.0))
    }

    /// What a user may use now, the answer of `GetUserEffectiveAccess`: the provider's
    /// grants, and nothing at all for a disabled user even before reconciliation caught up.
    pub async fn effective_access(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<Vec<Grant>, DomainError> {
        let (d, u) = (dir.to_owned(), user.to_owned());
        let doc = self
            .read(move |txn| Ok(txn.resource(ResourceKind::User, &d, &u)?))
            .await?
            .ok_or_else(|| DomainError::NotFound {
                entity: Entity::User,
                id: user.to_string(),
            })?;
        if doc.get("active") == Some(&Value::Bool(false)) {
            return Ok(Vec::new());
        }
        self.granted(dir, user).await
    }
}

/// Users whose grants an event may change.
fn affected_users(
    txn: &ReadTxn,
    e: &ChangeEvent,
    out: &mut BTreeSet<UserRef>,
) -> Result<(), DomainError> {
    let dir = e.directory.as_str();
    match (e.resource, e.kind) {
        (ResourceType::User, _) => {
            out.insert((dir.to_owned(), e.id.clone()));
        }
        (ResourceType::Group, ChangeKind::MembersAdded | ChangeKind::MembersRemoved) => {
            for m in &e.members {
                let t = if m.starts_with("g-") {
                    ResourceKind::Group
                } else {
                    ResourceKind::User
                };
                principal_users(txn, dir, t, m, out)?;
            }
        }
        (ResourceType::AccessAssignment, _) => {
            let t = if e.id.starts_with("g-") {
                ResourceKind::Group
            } else {
                ResourceKind::User
            };
            principal_users(txn, dir, t, &e.id, out)?;
        }
        (ResourceType::AccessConfiguration, _) => {
            let prefix = Prefix::AssignmentsOfConfig { dir, config: &e.id };
            for a in txn.scan::<Assignment>(prefix)? {
                principal_users(txn, dir, a.principal_type, &a.principal_id, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The users a principal stands for: itself, or a group's members, nested groups included.
fn principal_users(
    txn: &ReadTxn,
    dir: &str,
    t: ResourceKind,
    id: &str,
    out: &mut BTreeSet<UserRef>,
) -> Result<(), DomainError> {
    match t {
        ResourceKind::User => {
            out.insert((dir.to_owned(), id.to_owned()));
        }
        ResourceKind::Group => {
            let mut seen = BTreeSet::new();
            let mut stack = vec![(id.to_owned(), 1usize)];
            while let Some((g, depth)) = stack.pop() {
                if !seen.insert(g.clone()) || depth > plan::GROUP_NESTING_DEPTH_MAX {
                    continue;
                }
                for m in txn.members(dir, &g, usize::MAX)? {
                    match m.kind {
                        ResourceKind::User => {
                            out.insert((dir.to_owned(), m.id));
                        }
                        ResourceKind::Group => stack.push((m.id, depth + 1)),
                    }
                }
            }
        }
    }
    Ok(())
}

/// Everything the planner needs about one user, read in one transaction.
fn facts(txn: &ReadTxn, dir: &str, user: &str) -> Result<Facts, DomainError> {
    let doc = txn.resource(ResourceKind::User, dir, user)?;
    let user_exists = doc.is_some();
    let user_enabled = doc
        .as_ref()
        .is_some_and(|d| d.get("active") != Some(&Value::Bool(false)));
    if !user_exists || !user_enabled {
        return Ok(Facts {
            user_exists,
            user_enabled,
            ..Facts::default()
        });
    }
    let direct = txn.groups_of(dir, user)?;
    let groups = plan::transitive_groups(direct, |g| txn.groups_of(dir, g))?;
    let mut assignments = Vec::new();
    let principals = std::iter::once((ResourceKind::User, user.to_owned()))
        .chain(groups.iter().map(|g| (ResourceKind::Group, g.clone())));
    for (t, id) in principals {
        let prefix = Prefix::AssignmentsOfPrincipal {
            dir,
            principal_type: t.as_str(),
            principal_id: &id,
        };
        assignments.extend(txn.scan::<Assignment>(prefix)?);
    }
    let mut configs = BTreeMap::new();
    let mut provisioned = BTreeSet::new();
    for a in &assignments {
        if !configs.contains_key(&a.config_id)
            && let Some(c) = txn.get::<AccessConfiguration>(ConfigKey {
                dir,
                id: &a.config_id,
            })?
        {
            configs.insert(c.id.clone(), c.name.clone());
        }
        let key = ProvisioningKey {
            dir,
            config: &a.config_id,
            account: &a.account_id,
        };
        if txn
            .get::<Provisioning>(key)?
            .is_some_and(|p| p.status != ProvisioningStatus::DeprovisionFailed)
        {
            provisioned.insert((a.config_id.clone(), a.account_id.clone()));
        }
    }
    Ok(Facts {
        user_exists,
        user_enabled,
        groups,
        assignments,
        configs,
        provisioned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::records::TaskType;
    use crate::config::Limits;
    use crate::directory::Directory;
    use crate::store::keys::TaskKey;
    use crate::store::{Db, DirectoryRecord, Store, Writer};

    fn task(dir: &str, id: &str, status: TaskStatus) -> Task {
        Task {
            id: id.into(),
            directory_id: dir.into(),
            kind: TaskType::CreateAccessAssignment,
            config_id: "ac-1".into(),
            account_id: "1".into(),
            principal: None,
            status,
            failure_reason: None,
            created: crate::model::now_rfc3339(),
            finished: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn task_counts_stop_at_their_bound() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("t.redb")).unwrap();
        let (writer, _thread) = Writer::start(store.clone(), 64, 1024).unwrap();
        let db = Db::new(store, writer);
        let access = Access::new(Directory::new(
            db.clone(),
            Limits::default(),
            "http://x".into(),
        ));
        db.write(|txn| -> Result<(), DomainError> {
            for d in ["d-a", "d-b"] {
                txn.put_directory(&DirectoryRecord {
                    id: d.into(),
                    name: d.into(),
                    created: crate::model::now_rfc3339(),
                    scim_sync_enabled: true,
                    updated: None,
                })?;
            }
            let tasks = [
                ("d-a", "t-1", TaskStatus::InProgress),
                ("d-a", "t-2", TaskStatus::Success),
                ("d-b", "t-3", TaskStatus::Failed),
            ];
            for (d, id, status) in tasks {
                txn.put(TaskKey { dir: d, id }, &task(d, id, status))?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let counts = |in_progress, success, failed, truncated| TaskCounts {
            in_progress,
            success,
            failed,
            truncated,
        };
        // (bound, counts): at the number of tasks every one is counted; one less is cut short.
        let cases = [
            (4, counts(1, 1, 1, false)),
            (3, counts(1, 1, 1, false)),
            (2, counts(1, 1, 0, true)),
            (1, counts(1, 0, 0, true)),
        ];
        for (max, want) in cases {
            assert_eq!(
                access.task_counts_at_most(max).await.unwrap(),
                want,
                "bound {max}"
            );
        }
    }
}

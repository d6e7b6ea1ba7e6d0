//! RAM user provisioning (issue 14): a user or group of a directory whose users are kept as
//! RAM users in a resource directory account, one provisioning per (principal, account), and
//! the directory's RAM user provisioning configuration (session duration, landing page).
//!
//! Every write stores the record (and its row in the by-principal index, which keeps a
//! principal to one provisioning per account) with its change event in one transaction. The
//! RAM users themselves are the reconciliation engine's work (`access::ram_users`).

use super::Access;
use super::records::{
    Account, DeletionStrategy, DuplicationStrategy, UserProvisioning, UserProvisioningConfig,
    UserProvisioningEvent, UserProvisioningRemoval,
};
use crate::directory::append_event;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::{
    ChangeKind, DirectoryId, PrincipalId, ResourceKind, ResourceType, new_prefixed_id, now_rfc3339,
};
use crate::store::keys::{
    AccountKey, Prefix, UserProvisioningConfigKey, UserProvisioningEventKey, UserProvisioningKey,
    UserProvisioningRemovalKey, UserProvisioningTargetKey,
};
use crate::store::{ReadTxn, WriteTxn};
use serde_json::Value;
use std::ops::RangeInclusive;

/// Longest description of a provisioning.
pub const DESCRIPTION_CHARS_MAX: usize = 1024;
/// A RAM user's console session, in hours.
pub const SESSION_DURATION_HOURS: RangeInclusive<u32> = 1..=24;
pub const SESSION_DURATION_HOURS_DEFAULT: u32 = 6;
pub const DEFAULT_LANDING_PAGE: &str = "https://homenew.console.aliyun.com";
/// Longest default landing page.
pub const LANDING_PAGE_CHARS_MAX: usize = 1024;

/// What `CreateUserProvisioning` gives.
#[derive(Debug, Clone)]
pub struct NewUserProvisioning {
    pub principal: PrincipalId,
    pub account_id: String,
    pub duplication: DuplicationStrategy,
    pub deletion: DeletionStrategy,
    pub description: String,
}

/// What `UpdateUserProvisioning` changes; `None` keeps.
#[derive(Debug, Clone, Default)]
pub struct UserProvisioningChange {
    pub description: Option<String>,
    pub duplication: Option<DuplicationStrategy>,
    pub deletion: Option<DeletionStrategy>,
}

/// Filters of `ListUserProvisionings`; `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct UserProvisioningFilter {
    pub principal: Option<PrincipalId>,
    pub account_id: Option<String>,
}

/// The directory's configuration changes; `None` keeps.
#[derive(Debug, Clone, Default)]
pub struct ConfigChange {
    pub session_duration_hours: Option<u32>,
    pub default_landing_page: Option<String>,
}

fn invalid(param: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        param,
        message: message.into(),
    }
}

pub fn check_description(param: &'static str, v: &str) -> Result<(), DomainError> {
    if v.chars().count() > DESCRIPTION_CHARS_MAX {
        return Err(invalid(
            param,
            format!("must be at most {DESCRIPTION_CHARS_MAX} characters"),
        ));
    }
    Ok(())
}

pub fn check_session_hours(param: &'static str, hours: u32) -> Result<(), DomainError> {
    if SESSION_DURATION_HOURS.contains(&hours) {
        return Ok(());
    }
    Err(invalid(
        param,
        format!(
            "must be between {} and {} hours",
            SESSION_DURATION_HOURS.start(),
            SESSION_DURATION_HOURS.end()
        ),
    ))
}

/// An `https://` URL with a host, at most `LANDING_PAGE_CHARS_MAX` characters, no spaces or
/// control characters.
pub fn check_landing_page(param: &'static str, v: &str) -> Result<(), DomainError> {
    let host = v.strip_prefix("https://").unwrap_or_default();
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    let ok = v.chars().count() <= LANDING_PAGE_CHARS_MAX
        && !host.is_empty()
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            param,
            format!("must be an https:// URL of at most {LANDING_PAGE_CHARS_MAX} characters"),
        ))
    }
}

fn target_key(p: &UserProvisioning) -> UserProvisioningTargetKey<'_> {
    UserProvisioningTargetKey {
        dir: &p.directory_id,
        principal_type: p.principal_type.as_str(),
        principal_id: &p.principal_id,
        account: &p.account_id,
    }
}

fn not_found(id: &str) -> DomainError {
    DomainError::NotFound {
        entity: Entity::UserProvisioning,
        id: id.to_owned(),
    }
}

fn need_directory(txn: &impl DirectoryRead, dir: &str) -> Result<(), DomainError> {
    if txn.has_directory(dir)? {
        Ok(())
    } else {
        Err(DomainError::NotFound {
            entity: Entity::Directory,
            id: dir.to_owned(),
        })
    }
}

/// `directory` in either kind of transaction.
trait DirectoryRead {
    fn has_directory(&self, dir: &str) -> Result<bool, DomainError>;
}

impl DirectoryRead for ReadTxn {
    fn has_directory(&self, dir: &str) -> Result<bool, DomainError> {
        Ok(self.directory(dir)?.is_some())
    }
}

impl DirectoryRead for WriteTxn {
    fn has_directory(&self, dir: &str) -> Result<bool, DomainError> {
        Ok(self.directory(dir)?.is_some())
    }
}

/// Stores a provisioning with its change event.
fn save(txn: &WriteTxn, p: &UserProvisioning, change: ChangeKind) -> Result<(), DomainError> {
    let key = UserProvisioningKey {
        dir: &p.directory_id,
        id: &p.id,
    };
    txn.put(key, p)?;
    txn.put(target_key(p), &p.id)?;
    append_event(
        txn,
        &p.directory_id,
        ResourceType::UserProvisioning,
        &p.id,
        change,
    )?;
    Ok(())
}

fn load(txn: &WriteTxn, dir: &str, id: &str) -> Result<UserProvisioning, DomainError> {
    txn.get::<UserProvisioning>(UserProvisioningKey { dir, id })?
        .ok_or_else(|| not_found(id))
}

fn create_in(
    txn: &WriteTxn,
    dir: &DirectoryId,
    new: NewUserProvisioning,
) -> Result<UserProvisioning, DomainError> {
    need_directory(txn, dir)?;
    let (ptype, pid) = new.principal.into_parts();
    if !txn.exists(ptype, dir, &pid)? {
        return Err(DomainError::NotFound {
            entity: ptype.into(),
            id: pid,
        });
    }
    if txn
        .get::<Account>(AccountKey {
            id: &new.account_id,
        })?
        .is_none()
    {
        return Err(DomainError::NotFound {
            entity: Entity::Account,
            id: new.account_id,
        });
    }
    let now = now_rfc3339();
    let p = UserProvisioning {
        id: new_prefixed_id("up-", 20),
        directory_id: dir.to_string(),
        principal_type: ptype,
        principal_id: pid,
        account_id: new.account_id,
        duplication: new.duplication,
        deletion: new.deletion,
        description: new.description,
        enabled: true,
        created: now.clone(),
        updated: now,
    };
    if txn.get::<String>(target_key(&p))?.is_some() {
        return Err(DomainError::AlreadyExists {
            entity: Entity::UserProvisioning,
            id: format!(
                "{} {} on account {}",
                p.principal_type.as_str(),
                p.principal_id,
                p.account_id
            ),
        });
    }
    save(txn, &p, ChangeKind::Created)?;
    Ok(p)
}

fn filtered(
    txn: &ReadTxn,
    dir: &str,
    f: &UserProvisioningFilter,
) -> Result<Vec<UserProvisioning>, DomainError> {
    let mut all = match &f.principal {
        // The index names the principal's provisionings; each is read by id.
        Some(p) => {
            let prefix = Prefix::UserProvisioningsOfPrincipal {
                dir,
                principal_type: p.kind().as_str(),
                principal_id: p.as_str(),
            };
            let mut out = Vec::new();
            for id in txn.scan::<String>(prefix)? {
                if let Some(up) =
                    txn.get::<UserProvisioning>(UserProvisioningKey { dir, id: &id })?
                {
                    out.push(up);
                }
            }
            out
        }
        None => txn.scan::<UserProvisioning>(Prefix::UserProvisioningsIn { dir })?,
    };
    all.retain(|p| f.account_id.as_deref().is_none_or(|a| a == p.account_id));
    all.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    Ok(all)
}

fn default_config(dir: &str) -> UserProvisioningConfig {
    let now = now_rfc3339();
    UserProvisioningConfig {
        directory_id: dir.to_owned(),
        session_duration_hours: SESSION_DURATION_HOURS_DEFAULT,
        default_landing_page: DEFAULT_LANDING_PAGE.to_owned(),
        created: now.clone(),
        updated: now,
    }
}

/// Whether any RAM user provisioning names this principal (`directory`'s deletion check).
pub(crate) fn check_principal(
    txn: &WriteTxn,
    dir: &str,
    id: &PrincipalId,
) -> Result<(), DomainError> {
    let prefix = Prefix::UserProvisioningsOfPrincipal {
        dir,
        principal_type: id.kind().as_str(),
        principal_id: id.as_str(),
    };
    if !txn.any_under(prefix)? {
        return Ok(());
    }
    let (rule, what) = match id.kind() {
        ResourceKind::User => (Conflict::UserProvisioned, "user"),
        ResourceKind::Group => (Conflict::GroupProvisioned, "group"),
    };
    Err(DomainError::Conflict {
        rule,
        message: format!("{what} `{id}` still has RAM user provisionings"),
    })
}

/// Whether any RAM user provisioning targets this account (deleting the account is refused).
pub(crate) fn check_account(txn: &WriteTxn, account: &str) -> Result<(), DomainError> {
    let n = txn
        .scan::<UserProvisioning>(Prefix::AllUserProvisionings)?
        .iter()
        .filter(|p| p.account_id == account)
        .count();
    if n == 0 {
        return Ok(());
    }
    Err(DomainError::Conflict {
        rule: Conflict::AccountHasUserProvisionings,
        message: format!(
            "account `{account}` is the target of {n} RAM user provisionings: delete them first"
        ),
    })
}

impl Access {
    pub async fn create_user_provisioning(
        &self,
        dir: &DirectoryId,
        new: NewUserProvisioning,
    ) -> Result<UserProvisioning, DomainError> {
        check_description("Description", &new.description)?;
        let dir = dir.to_owned();
        self.write(move |txn| create_in(txn, &dir, new)).await
    }

    pub async fn user_provisioning(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<UserProvisioning, DomainError> {
        let (d, wanted) = (dir.to_owned(), id.to_owned());
        self.read(move |txn| {
            need_directory(txn, &d)?;
            Ok(txn.get::<UserProvisioning>(UserProvisioningKey {
                dir: &d,
                id: &wanted,
            })?)
        })
        .await?
        .ok_or_else(|| not_found(id))
    }

    /// A directory's provisionings matching `f`, oldest first.
    pub async fn user_provisionings(
        &self,
        dir: &DirectoryId,
        f: UserProvisioningFilter,
    ) -> Result<Vec<UserProvisioning>, DomainError> {
        let d = dir.to_owned();
        self.read(move |txn| {
            need_directory(txn, &d)?;
            filtered(txn, &d, &f)
        })
        .await
    }

    pub async fn update_user_provisioning(
        &self,
        dir: &DirectoryId,
        id: &str,
        change: UserProvisioningChange,
    ) -> Result<UserProvisioning, DomainError> {
        if let Some(d) = &change.description {
            check_description("NewDescription", d)?;
        }
        let (dir, id) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            need_directory(txn, &dir)?;
            let mut p = load(txn, &dir, &id)?;
            if let Some(d) = change.description {
                p.description = d;
            }
            if let Some(s) = change.duplication {
                p.duplication = s;
            }
            if let Some(s) = change.deletion {
                p.deletion = s;
            }
            p.updated = now_rfc3339();
            save(txn, &p, ChangeKind::Updated)?;
            Ok(p)
        })
        .await
    }

    /// Deletes a provisioning; `deletion` (default: the provisioning's own strategy) is what
    /// becomes of the RAM users it made. Returns the record as it was deleted, with the
    /// strategy applied.
    pub async fn delete_user_provisioning(
        &self,
        dir: &DirectoryId,
        id: &str,
        deletion: Option<DeletionStrategy>,
    ) -> Result<UserProvisioning, DomainError> {
        let (dir, id) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            need_directory(txn, &dir)?;
            let mut p = load(txn, &dir, &id)?;
            if let Some(s) = deletion {
                p.deletion = s;
            }
            txn.delete(UserProvisioningKey { dir: &dir, id: &id })?;
            txn.delete(target_key(&p))?;
            // What becomes of its RAM users is the engine's work, with this strategy.
            let removal = UserProvisioningRemoval {
                id: p.id.clone(),
                directory_id: p.directory_id.clone(),
                account_id: p.account_id.clone(),
                deletion: p.deletion,
                deleted: now_rfc3339(),
            };
            txn.put(UserProvisioningRemovalKey { dir: &dir, id: &id }, &removal)?;
            append_event(
                txn,
                &dir,
                ResourceType::UserProvisioning,
                &id,
                ChangeKind::Deleted,
            )?;
            Ok(p)
        })
        .await
    }

    /// The directory's configuration (the defaults until first updated).
    pub async fn user_provisioning_config(
        &self,
        dir: &DirectoryId,
    ) -> Result<UserProvisioningConfig, DomainError> {
        let d = dir.to_owned();
        self.read(move |txn| {
            need_directory(txn, &d)?;
            Ok(txn
                .get::<UserProvisioningConfig>(UserProvisioningConfigKey { dir: &d })?
                .unwrap_or_else(|| default_config(&d)))
        })
        .await
    }

    pub async fn update_user_provisioning_config(
        &self,
        dir: &DirectoryId,
        change: ConfigChange,
    ) -> Result<UserProvisioningConfig, DomainError> {
        if let Some(h) = change.session_duration_hours {
            check_session_hours("NewSessionDuration", h)?;
        }
        if let Some(l) = &change.default_landing_page {
            check_landing_page("NewDefaultLandingPage", l)?;
        }
        let d = dir.to_owned();
        self.write(move |txn| {
            need_directory(txn, &d)?;
            let key = UserProvisioningConfigKey { dir: &d };
            let mut c = txn
                .get::<UserProvisioningConfig>(key)?
                .unwrap_or_else(|| default_config(&d));
            if let Some(h) = change.session_duration_hours {
                c.session_duration_hours = h;
            }
            if let Some(l) = change.default_landing_page {
                c.default_landing_page = l;
            }
            c.updated = now_rfc3339();
            txn.put(key, &c)?;
            append_event(
                txn,
                &d,
                ResourceType::UserProvisioningConfiguration,
                &d,
                ChangeKind::Updated,
            )?;
            Ok(c)
        })
        .await
    }

    /// A principal's name as the provisioning lists show it (a user's `userName`, a group's
    /// `displayName`); empty when it is gone.
    pub async fn principal_name(
        &self,
        dir: &DirectoryId,
        kind: ResourceKind,
        id: &str,
    ) -> Result<String, DomainError> {
        let (d, id) = (dir.to_owned(), id.to_owned());
        let doc = self
            .read(move |txn| Ok(txn.resource(kind, &d, &id)?))
            .await?;
        let field = match kind {
            ResourceKind::User => "userName",
            ResourceKind::Group => "displayName",
        };
        Ok(doc
            .as_ref()
            .and_then(|d| d.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }
}

/// Failed events and the latest try, of a provisioning or an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statistics {
    pub failed_events: usize,
    /// When the engine last tried (empty when it never failed and nothing else says).
    pub latest_async: String,
}

fn event_not_found(id: &str) -> DomainError {
    DomainError::NotFound {
        entity: Entity::UserProvisioningEvent,
        id: id.to_owned(),
    }
}

fn statistics(events: &[UserProvisioningEvent], fallback: &str) -> Statistics {
    Statistics {
        failed_events: events.len(),
        latest_async: events
            .iter()
            .map(|e| e.latest_async.as_str())
            .max()
            .unwrap_or(fallback)
            .to_owned(),
    }
}

impl Access {
    /// A directory's open events (of one provisioning when `provisioning` names it), oldest
    /// first.
    pub async fn user_provisioning_events(
        &self,
        dir: &DirectoryId,
        provisioning: Option<String>,
    ) -> Result<Vec<UserProvisioningEvent>, DomainError> {
        let d = dir.to_owned();
        let mut all = self
            .read(move |txn| {
                need_directory(txn, &d)?;
                Ok(txn
                    .scan::<UserProvisioningEvent>(Prefix::UserProvisioningEventsIn { dir: &d })?)
            })
            .await?;
        all.retain(|e| {
            provisioning
                .as_deref()
                .is_none_or(|p| p == e.user_provisioning_id)
        });
        all.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        Ok(all)
    }

    pub async fn user_provisioning_event(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<UserProvisioningEvent, DomainError> {
        let (d, wanted) = (dir.to_owned(), id.to_owned());
        self.read(move |txn| {
            need_directory(txn, &d)?;
            Ok(txn.get::<UserProvisioningEvent>(UserProvisioningEventKey {
                dir: &d,
                id: &wanted,
            })?)
        })
        .await?
        .ok_or_else(|| event_not_found(id))
    }

    /// Asks the engine to try an event's work again now (with `duplication` instead of the
    /// provisioning's DuplicationStrategy while the event is open).
    pub async fn retry_user_provisioning_event(
        &self,
        dir: &DirectoryId,
        id: &str,
        duplication: Option<DuplicationStrategy>,
    ) -> Result<(), DomainError> {
        let (d, id) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            need_directory(txn, &d)?;
            let key = UserProvisioningEventKey { dir: &d, id: &id };
            let mut e = txn
                .get::<UserProvisioningEvent>(key)?
                .ok_or_else(|| event_not_found(&id))?;
            if duplication.is_some() {
                e.retry_duplication = duplication;
                e.updated = now_rfc3339();
                txn.put(key, &e)?;
            }
            // The provisioning's change event makes the engine reconcile the directory.
            append_event(
                txn,
                &d,
                ResourceType::UserProvisioning,
                &e.user_provisioning_id,
                ChangeKind::Updated,
            )?;
            Ok(())
        })
        .await
    }

    /// Deletes an event of provisioning `provisioning` (the failure is forgotten until the
    /// engine meets it again).
    pub async fn delete_user_provisioning_event(
        &self,
        dir: &DirectoryId,
        provisioning: &str,
        id: &str,
    ) -> Result<(), DomainError> {
        let (d, p, id) = (dir.to_owned(), provisioning.to_owned(), id.to_owned());
        self.write(move |txn| {
            need_directory(txn, &d)?;
            let key = UserProvisioningEventKey { dir: &d, id: &id };
            let found = txn
                .get::<UserProvisioningEvent>(key)?
                .filter(|e| e.user_provisioning_id == p);
            if found.is_none() {
                return Err(event_not_found(&id));
            }
            txn.delete(key)?;
            append_event(
                txn,
                &d,
                ResourceType::UserProvisioningEvent,
                &id,
                ChangeKind::Deleted,
            )?;
            Ok(())
        })
        .await
    }

    /// A provisioning's failed events and latest try (its update time when none failed).
    pub async fn user_provisioning_statistics(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<Statistics, DomainError> {
        let p = self.user_provisioning(dir, id).await?;
        let events = self
            .user_provisioning_events(dir, Some(id.to_owned()))
            .await?;
        Ok(statistics(&events, &p.updated))
    }

    /// An account's failed events and latest try.
    pub async fn account_provisioning_statistics(
        &self,
        dir: &DirectoryId,
        account: &str,
    ) -> Result<Statistics, DomainError> {
        self.account(account).await?;
        let mut events = self.user_provisioning_events(dir, None).await?;
        events.retain(|e| e.account_id == account);
        Ok(statistics(&events, ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_on_both_sides() {
        assert!(check_session_hours("p", 0).is_err());
        assert!(check_session_hours("p", 1).is_ok());
        assert!(check_session_hours("p", 24).is_ok());
        assert!(check_session_hours("p", 25).is_err());
        let long = "x".repeat(DESCRIPTION_CHARS_MAX);
        assert!(check_description("p", &long).is_ok());
        assert!(check_description("p", &format!("{long}x")).is_err());
        assert!(check_landing_page("p", DEFAULT_LANDING_PAGE).is_ok());
        assert!(check_landing_page("p", "https://ecs.console.aliyun.com/#/home").is_ok());
        for bad in [
            "",
            "http://x.example",
            "https://",
            "https:///path",
            "https://a b",
            "javascript:alert(1)",
        ] {
            assert!(check_landing_page("p", bad).is_err(), "{bad}");
        }
        let base = "https://a.example/";
        let fits = format!("{base}{}", "p".repeat(LANDING_PAGE_CHARS_MAX - base.len()));
        assert!(check_landing_page("p", &fits).is_ok());
        assert!(check_landing_page("p", &format!("{fits}p")).is_err());
    }
}

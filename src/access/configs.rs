//! Access configurations: a name, a session duration, a relay state, up to
//! `SYSTEM_POLICIES_PER_CONFIG_MAX` system policies from the catalogue and one inline policy
//! (validated by the policy engine).
//!
//! A policy change makes every existing provisioning of the configuration stale
//! (`ReprovisionRequired`, and the configuration's `StatusNotifications` say so) in the same
//! transaction; description, session duration and relay state changes do not. Deletion is
//! refused while the configuration is assigned, provisioned or has a running task.

use super::records::{
    AccessConfiguration, Assignment, Provisioning, ProvisioningStatus, Task, TaskStatus,
};
use super::{Access, system_policies};
use crate::directory::append_event;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::{ChangeKind, DirectoryId, ResourceType, new_prefixed_id, now_rfc3339};
use crate::policy::PolicyDocument;
use crate::store::WriteTxn;
use crate::store::keys::{ConfigKey, Prefix, ProvisioningKey};
use std::ops::RangeInclusive;

pub const NAME_CHARS_MAX: usize = 32;
pub const DESCRIPTION_CHARS_MAX: usize = 1024;
pub const RELAY_STATE_CHARS_MAX: usize = 1024;
pub const SESSION_DURATION_SECONDS: RangeInclusive<u32> = 900..=43_200;
pub const SESSION_DURATION_DEFAULT: u32 = 3600;
pub const SYSTEM_POLICIES_PER_CONFIG_MAX: usize = 20;
pub const INLINE_POLICY_CHARS_MAX: usize = 4096;
pub const INLINE_POLICY_NAME_CHARS_MAX: usize = 32;
pub const CONFIGS_PER_DIRECTORY_MAX: usize = 1000;

/// The two kinds of permission policy a configuration holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    System,
    Inline,
}

impl PolicyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::System => "System",
            PolicyKind::Inline => "Inline",
        }
    }
}

/// A permission policy of a configuration, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionPolicy {
    pub kind: PolicyKind,
    pub name: String,
    /// Inline policies only.
    pub document: Option<String>,
    pub added: String,
}

/// What `CreateAccessConfiguration` gives.
#[derive(Debug, Clone, Default)]
pub struct NewConfig {
    pub name: String,
    pub description: String,
    pub session_duration: Option<u32>,
    pub relay_state: String,
}

fn invalid(param: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        param,
        message: message.into(),
    }
}

pub fn check_name(name: &str) -> Result<(), DomainError> {
    let ok = !name.is_empty()
        && name.len() <= NAME_CHARS_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "AccessConfigurationName",
            format!("must be 1 to {NAME_CHARS_MAX} characters of letters, digits and `-`"),
        ))
    }
}

pub fn check_session_duration(param: &'static str, seconds: u32) -> Result<(), DomainError> {
    if SESSION_DURATION_SECONDS.contains(&seconds) {
        Ok(())
    } else {
        Err(invalid(
            param,
            format!(
                "must be between {} and {} seconds",
                SESSION_DURATION_SECONDS.start(),
                SESSION_DURATION_SECONDS.end()
            ),
        ))
    }
}

fn check_text(param: &'static str, v: &str, max: usize) -> Result<(), DomainError> {
    if v.chars().count() > max {
        return Err(invalid(param, format!("must be at most {max} characters")));
    }
    Ok(())
}

fn check_inline(name: &str, document: &str) -> Result<(), DomainError> {
    let ok = !name.is_empty()
        && name.len() <= INLINE_POLICY_NAME_CHARS_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(invalid(
            "PermissionPolicyName",
            format!(
                "an inline policy name is 1 to {INLINE_POLICY_NAME_CHARS_MAX} characters of letters, digits, `-` and `_`"
            ),
        ));
    }
    if document.chars().count() > INLINE_POLICY_CHARS_MAX {
        return Err(invalid(
            "InlinePolicyDocument",
            format!("must be at most {INLINE_POLICY_CHARS_MAX} characters"),
        ));
    }
    PolicyDocument::parse(document).map_err(|e| invalid("InlinePolicyDocument", e.to_string()))?;
    Ok(())
}

fn load(txn: &WriteTxn, dir: &str, id: &str) -> Result<AccessConfiguration, DomainError> {
    txn.get::<AccessConfiguration>(ConfigKey { dir, id })?
        .ok_or_else(|| DomainError::NotFound {
            entity: Entity::AccessConfiguration,
            id: id.to_owned(),
        })
}

fn save(txn: &WriteTxn, c: &AccessConfiguration, change: ChangeKind) -> Result<(), DomainError> {
    let key = ConfigKey {
        dir: &c.directory_id,
        id: &c.id,
    };
    txn.put(key, c)?;
    append_event(
        txn,
        &c.directory_id,
        ResourceType::AccessConfiguration,
        &c.id,
        change,
    )?;
    Ok(())
}

/// Marks every provisioning of `c` stale after a policy change, in the same transaction.
fn policies_changed(txn: &WriteTxn, c: &mut AccessConfiguration) -> Result<(), DomainError> {
    let prefix = Prefix::ProvisioningsOfConfig {
        dir: &c.directory_id,
        config: &c.id,
    };
    let mut stale = false;
    for mut p in txn.scan::<Provisioning>(prefix)? {
        if p.status == ProvisioningStatus::Provisioned {
            p.status = ProvisioningStatus::ReprovisionRequired;
            p.updated = now_rfc3339();
            let key = ProvisioningKey {
                dir: &p.directory_id,
                config: &p.config_id,
                account: &p.account_id,
            };
            txn.put(key, &p)?;
        }
        stale |= p.status == ProvisioningStatus::ReprovisionRequired;
    }
    if stale {
        c.status_notifications = vec![ProvisioningStatus::ReprovisionRequired.as_str().to_owned()];
    }
    c.updated = now_rfc3339();
    Ok(())
}

impl Access {
    pub async fn create_config(
        &self,
        dir: &DirectoryId,
        new: NewConfig,
    ) -> Result<AccessConfiguration, DomainError> {
        check_name(&new.name)?;
        check_text("Description", &new.description, DESCRIPTION_CHARS_MAX)?;
        check_text("RelayState", &new.relay_state, RELAY_STATE_CHARS_MAX)?;
        let session_duration = new.session_duration.unwrap_or(SESSION_DURATION_DEFAULT);
        check_session_duration("SessionDuration", session_duration)?;
        let dir = dir.to_owned();
        self.write(move |txn| {
            if txn.directory(&dir)?.is_none() {
                return Err(DomainError::NotFound {
                    entity: Entity::Directory,
                    id: dir.to_string(),
                });
            }
            let all = txn.scan::<AccessConfiguration>(Prefix::ConfigsIn { dir: &dir })?;
            if all.iter().any(|c| c.name.eq_ignore_ascii_case(&new.name)) {
                return Err(DomainError::AlreadyExists {
                    entity: Entity::AccessConfiguration,
                    id: new.name,
                });
            }
            if all.len() >= CONFIGS_PER_DIRECTORY_MAX {
                return Err(DomainError::Quota {
                    entity: Entity::AccessConfiguration,
                    max: CONFIGS_PER_DIRECTORY_MAX,
                });
            }
            let now = now_rfc3339();
            let c = AccessConfiguration {
                id: new_prefixed_id("ac-", 20),
                directory_id: dir.to_string(),
                name: new.name,
                description: new.description,
                session_duration,
                relay_state: new.relay_state,
                created: now.clone(),
                updated: now,
                ..AccessConfiguration::default()
            };
            save(txn, &c, ChangeKind::Created)?;
            Ok(c)
        })
        .await
    }

    pub async fn config(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<AccessConfiguration, DomainError> {
        // A point read: on the calling task (`Db::read_now`).
        let found = self.db.read_now(|txn| {
            Ok::<_, DomainError>(txn.get::<AccessConfiguration>(ConfigKey {
                dir: dir.as_str(),
                id,
            })?)
        })?;
        found.ok_or_else(|| DomainError::NotFound {
            entity: Entity::AccessConfiguration,
            id: id.to_owned(),
        })
    }

    /// A directory's configurations, oldest first.
    pub async fn configs(
        &self,
        dir: &DirectoryId,
    ) -> Result<Vec<AccessConfiguration>, DomainError> {
        let d = dir.to_owned();
        let mut all = self
            .read(move |txn| {
                if txn.directory(&d)?.is_none() {
                    return Ok(None);
                }
                Ok(Some(txn.scan::<AccessConfiguration>(
                    Prefix::ConfigsIn { dir: &d },
                )?))
            })
            .await?
            .ok_or_else(|| DomainError::NotFound {
                entity: Entity::Directory,
                id: dir.to_string(),
            })?;
        all.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    /// Description, session duration and relay state; the provisionings stay as they are.
    pub async fn update_config(
        &self,
        dir: &DirectoryId,
        id: &str,
        description: Option<String>,
        session_duration: Option<u32>,
        relay_state: Option<String>,
    ) -> Result<AccessConfiguration, DomainError> {
        if let Some(d) = &description {
            check_text("NewDescription", d, DESCRIPTION_CHARS_MAX)?;
        }
        if let Some(r) = &relay_state {
            check_text("NewRelayState", r, RELAY_STATE_CHARS_MAX)?;
        }
        if let Some(s) = session_duration {
            check_session_duration("NewSessionDuration", s)?;
        }
        let (dir, id) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {
            let mut c = load(txn, &dir, &id)?;
            if let Some(d) = description {
                c.description = d;
            }
            if let Some(s) = session_duration {
                c.session_duration = s;
            }
            if let Some(r) = relay_state {
                c.relay_state = r;
            }
            c.updated = now_rfc3339();
            save(txn, &c, ChangeKind::Updated)?;
            Ok(c)
        })
        .await
    }

    /// Deletes a configuration that is neither assigned nor provisioned nor busy; its
    /// policies must be removed first unless `force_remove_policies`.
    pub async fn delete_config(
        &self,
        dir: &DirectoryId,
        id: &str,
        force_remove_policies: bool,
    ) -> Result<(), DomainError> {
        let (dir, id) = (dir.to_owned(), id.to_owned());
        self.write(move |txn| {

                    let c = load(txn, &dir, &id)?;
                    let conflict = |rule: Conflict, message: &str| DomainError::Conflict {
                        rule,
                        message: format!("access configuration `{id}` {message}"),
                    };
                    if !txn
                        .scan::<Assignment>(Prefix::AssignmentsOfConfig {
                            dir: &dir,
                            config: &id,
                        })?
                        .is_empty()
                    {
                        return Err(conflict(
                            Conflict::ConfigurationAssigned,
                            "is still assigned",
                        ));
                    }
                    if !txn
                        .scan::<Provisioning>(Prefix::ProvisioningsOfConfig {
                            dir: &dir,
                            config: &id,
                        })?
                        .is_empty()
                    {
                        return Err(conflict(
                            Conflict::ConfigurationProvisioned,
                            "is still provisioned",
                        ));
                    }
                    let busy = txn
                        .scan::<Task>(Prefix::TasksIn { dir: &dir })?
                        .iter()
                        .any(|t| t.config_id == id && t.status == TaskStatus::InProgress);
                    if busy {
                        return Err(conflict(
                            Conflict::ConfigurationBusy,
                            "has a running task",
                        ));
                    }
                    if !force_remove_policies
                        && (!c.system_policies.is_empty() || c.inline_policy.is_some())
                    {
                        return Err(conflict(
                            Conflict::ConfigurationHasPolicies,
                            "still has permission policies (remove them or set ForceRemovePermissionPolicies)",
                        ));
                    }
                    txn.delete(ConfigKey { dir: &dir, id: &id })?;
                    append_event(
                        txn,
                        &dir,
                        ResourceType::AccessConfiguration,
                        &id,
                        ChangeKind::Deleted,
                    )?;
                    Ok(())

            })
            .await
    }

    /// Adds a system policy from the catalogue or the inline policy.
    pub async fn add_policy(
        &self,
        dir: &DirectoryId,
        id: &str,
        kind: PolicyKind,
        name: &str,
        document: Option<&str>,
    ) -> Result<(), DomainError> {
        let document = match kind {
            PolicyKind::System => {
                if system_policies::find(name).is_none() {
                    return Err(DomainError::NotFound {
                        entity: Entity::PermissionPolicy,
                        id: name.to_owned(),
                    });
                }
                None
            }
            PolicyKind::Inline => {
                let doc = document.ok_or_else(|| {
                    invalid("InlinePolicyDocument", "is required for an Inline policy")
                })?;
                check_inline(name, doc)?;
                Some(doc.to_owned())
            }
        };
        let (dir, id, name) = (dir.to_owned(), id.to_owned(), name.to_owned());
        self.write(move |txn| {
            let mut c = load(txn, &dir, &id)?;
            match (kind, document) {
                (PolicyKind::System, _) => {
                    if c.system_policies.contains(&name) {
                        return Err(DomainError::AlreadyExists {
                            entity: Entity::PermissionPolicy,
                            id: name,
                        });
                    }
                    if c.system_policies.len() >= SYSTEM_POLICIES_PER_CONFIG_MAX {
                        return Err(DomainError::Quota {
                            entity: Entity::SystemPolicy,
                            max: SYSTEM_POLICIES_PER_CONFIG_MAX,
                        });
                    }
                    c.system_policies.push(name.clone());
                }
                (PolicyKind::Inline, doc) => {
                    if c.inline_policy.is_some() {
                        return Err(DomainError::Quota {
                            entity: Entity::InlinePolicy,
                            max: 1,
                        });
                    }
                    c.inline_policy = doc;
                    c.inline_policy_name = name.clone();
                }
            }
            c.policy_added
                .insert(format!("{}/{name}", kind.as_str()), now_rfc3339());
            policies_changed(txn, &mut c)?;
            save(txn, &c, ChangeKind::Updated)?;
            Ok(())
        })
        .await
    }

    pub async fn remove_policy(
        &self,
        dir: &DirectoryId,
        id: &str,
        kind: PolicyKind,
        name: &str,
    ) -> Result<(), DomainError> {
        let (dir, id, name) = (dir.to_owned(), id.to_owned(), name.to_owned());
        self.write(move |txn| {
            let mut c = load(txn, &dir, &id)?;
            let found = match kind {
                PolicyKind::System => {
                    let before = c.system_policies.len();
                    c.system_policies.retain(|p| *p != name);
                    c.system_policies.len() != before
                }
                PolicyKind::Inline => {
                    let found = c.inline_policy.is_some() && c.inline_policy_name == name;
                    if found {
                        c.inline_policy = None;
                        c.inline_policy_name.clear();
                    }
                    found
                }
            };
            if !found {
                return Err(DomainError::NotFound {
                    entity: Entity::PermissionPolicy,
                    id: name,
                });
            }
            c.policy_added.remove(&format!("{}/{name}", kind.as_str()));
            policies_changed(txn, &mut c)?;
            save(txn, &c, ChangeKind::Updated)?;
            Ok(())
        })
        .await
    }

    pub async fn update_inline_policy(
        &self,
        dir: &DirectoryId,
        id: &str,
        name: &str,
        document: &str,
    ) -> Result<(), DomainError> {
        check_inline(name, document)?;
        let (dir, id, name, document) = (
            dir.to_owned(),
            id.to_owned(),
            name.to_owned(),
            document.to_owned(),
        );
        self.write(move |txn| {
            let mut c = load(txn, &dir, &id)?;
            if c.inline_policy.is_none() || c.inline_policy_name != name {
                return Err(DomainError::NotFound {
                    entity: Entity::PermissionPolicy,
                    id: name,
                });
            }
            c.inline_policy = Some(document);
            policies_changed(txn, &mut c)?;
            save(txn, &c, ChangeKind::Updated)?;
            Ok(())
        })
        .await
    }

    /// A configuration's policies: system ones in the order added, then the inline one.
    pub async fn policies(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<Vec<PermissionPolicy>, DomainError> {
        let c = self.config(dir, id).await?;
        let added = |kind: PolicyKind, name: &str| {
            c.policy_added
                .get(&format!("{}/{name}", kind.as_str()))
                .cloned()
                .unwrap_or_default()
        };
        let mut out: Vec<PermissionPolicy> = c
            .system_policies
            .iter()
            .map(|n| PermissionPolicy {
                kind: PolicyKind::System,
                name: n.clone(),
                document: None,
                added: added(PolicyKind::System, n),
            })
            .collect();
        if let Some(doc) = &c.inline_policy {
            out.push(PermissionPolicy {
                kind: PolicyKind::Inline,
                name: c.inline_policy_name.clone(),
                document: Some(doc.clone()),
                added: added(PolicyKind::Inline, &c.inline_policy_name),
            });
        }
        Ok(out)
    }

    /// The name of configuration `id` of `dir`; `None` when there is no such configuration.
    pub async fn configuration_name(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<Option<String>, DomainError> {
        let (dir, id) = (dir.to_owned(), id.to_owned());
        let found = self
            .read(move |txn| Ok(txn.get::<AccessConfiguration>(ConfigKey { dir: &dir, id: &id })?))
            .await?;
        Ok(found.map(|c| c.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_durations_and_inline_documents_on_both_sides() {
        let at_max = "a".repeat(NAME_CHARS_MAX);
        let over = "a".repeat(NAME_CHARS_MAX + 1);
        for (name, ok) in [
            ("Admin-1", true),
            (at_max.as_str(), true),
            (over.as_str(), false),
            ("", false),
            ("a b", false),
            ("a_b", false),
        ] {
            assert_eq!(check_name(name).is_ok(), ok, "{name}");
        }
        for (s, ok) in [(899, false), (900, true), (43_200, true), (43_201, false)] {
            assert_eq!(
                check_session_duration("SessionDuration", s).is_ok(),
                ok,
                "{s}"
            );
        }
        let doc =
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}"#;
        assert!(check_inline("ecs", doc).is_ok());
        assert!(check_inline("", doc).is_err());
        let err = check_inline(
            "ecs",
            r#"{"Version":"1","Statement":[{"Effect":"Maybe","Action":"ecs:*","Resource":"*"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("Maybe"), "the engine's message: {err}");
        let padded = |n: usize| {
            format!(
                r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"ecs:*","Resource":"acs:ecs:*:*:instance/{}"}}]}}"#,
                "x".repeat(n)
            )
        };
        let base = padded(0).chars().count();
        assert!(check_inline("ecs", &padded(INLINE_POLICY_CHARS_MAX - base)).is_ok());
        assert!(check_inline("ecs", &padded(INLINE_POLICY_CHARS_MAX - base + 1)).is_err());
    }
}

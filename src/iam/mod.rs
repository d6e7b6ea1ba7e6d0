//! Administrator identities of the management API, RAM's way: users with attached policies
//! (system or custom) and AccessKey pairs, and the installation's account id. AccessKey
//! secrets are sealed (`crate::seal`) with the key kept outside the database; everything else
//! is plain records.
//!
//! Owns the limits (keys per user, policies per user, custom policies), the name rules and the
//! rule that a policy still attached cannot be deleted. Refuses with `error::DomainError`
//! (RAM's spelling is `api::error`'s). Must not know about signatures or HTTP, nor about the
//! directories of end users (administrators are not directory users).

use crate::error::{Conflict, DomainError, Entity};
use crate::model::{fill_random, new_numeric_id, now_rfc3339, random_string};
use crate::policy::{self, PolicyDocument};
use crate::seal::Sealer;
use crate::store::Db;
use crate::store::keys::{AccessKeyKey, AdminPolicyKey, AdminUserKey, KeyedRead, MetaKey, Prefix};
use crate::store::{ReadTxn, WriteTxn};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Most AccessKey pairs one administrator may have (RAM's limit).
pub const ACCESS_KEYS_PER_USER_MAX: usize = 2;
/// Most policies attached to one administrator.
pub const POLICIES_PER_USER_MAX: usize = 10;
/// Most custom policies.
pub const CUSTOM_POLICIES_MAX: usize = 1500;
/// Most administrators.
pub const ADMIN_USERS_MAX: usize = 1000;
/// The first administrator's name.
pub const FIRST_ADMIN: &str = "admin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyType {
    System,
    Custom,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::System => "System",
            PolicyType::Custom => "Custom",
        }
    }
    pub fn parse(s: &str) -> Option<PolicyType> {
        match s {
            "System" => Some(PolicyType::System),
            "Custom" => Some(PolicyType::Custom),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub policy_name: String,
    pub policy_type: PolicyType,
    pub attached: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub name: String,
    /// `<16 digits>`: RAM's UserId.
    pub id: String,
    pub display_name: String,
    pub comments: String,
    pub created: String,
    pub updated: String,
    pub policies: Vec<Attachment>,
    /// The administrator's home account: `None` for the installation's (management) account,
    /// else a member account of the resource directory, whose administrators are authorized
    /// like the management account's for CloudSSO only while it is the delegated
    /// administrator (`api::service`). Records older than the field read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPolicy {
    pub name: String,
    pub description: String,
    /// The document as given (validated by the policy engine).
    pub document: String,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub user: String,
    /// The secret, sealed for this id (`Sealer::seal(id, secret)`).
    pub sealed_secret: String,
    pub status: KeyStatus,
    pub created: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A new AccessKey pair; the secret is shown once.
pub struct NewAccessKey {
    pub key: AccessKey,
    pub secret: String,
}

/// What a signed request may do: the caller, its secret, and its policies, parsed.
pub struct Caller {
    pub user: String,
    /// The administrator's home account (`AdminUser::account_id`): `None` for the management
    /// account's.
    pub account_id: Option<String>,
    pub access_key_id: String,
    pub secret: String,
    pub policies: Vec<(String, PolicyDocument)>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("user", &self.user)
            .field("account_id", &self.account_id)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

fn invalid(name: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        param: name,
        message: message.into(),
    }
}

/// RAM user names: 1 to 64 of `A-Za-z0-9.@-_`.
pub fn check_user_name(name: &str) -> Result<(), DomainError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "UserName",
            "must be 1 to 64 characters of letters, digits, `.`, `_`, `@` and `-`",
        ))
    }
}

/// Policy names: 1 to 128 of `A-Za-z0-9-`.
pub fn check_policy_name(name: &str) -> Result<(), DomainError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "PolicyName",
            "must be 1 to 128 characters of letters, digits and `-`",
        ))
    }
}

/// A new AccessKeyId: `LTAI` and 20 alphanumerics, as Alibaba Cloud's look.
fn new_access_key_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    format!("LTAI{}", random_string(ALPHABET, 20))
}

/// A new AccessKey secret: 30 characters of base64url (180 random bits), the length Alibaba
/// Cloud's secrets have.
fn new_access_key_secret() -> String {
    let mut bytes = [0u8; 30];
    fill_random(&mut bytes);
    let s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    s.chars().take(30).collect()
}

/// Refuses a new named record whose name is `taken`, or when `max` of its kind exist already.
fn check_new(
    taken: bool,
    count: usize,
    entity: Entity,
    name: &str,
    max: usize,
) -> Result<(), DomainError> {
    if taken {
        return Err(DomainError::AlreadyExists {
            entity,
            id: name.to_owned(),
        });
    }
    if count >= max {
        return Err(DomainError::Quota { entity, max });
    }
    Ok(())
}

fn user_in(txn: &impl KeyedRead, name: &str) -> Result<AdminUser, DomainError> {
    txn.read_at(AdminUserKey { name })?
        .ok_or_else(|| DomainError::NotFound {
            entity: Entity::AdminUser,
            id: name.to_owned(),
        })
}

fn keys_of(txn: &WriteTxn, user: &str) -> Result<Vec<AccessKey>, DomainError> {
    Ok(txn
        .scan::<AccessKey>(Prefix::AllAccessKeys)?
        .into_iter()
        .filter(|k| k.user == user)
        .collect())
}

/// A new AccessKey pair (id, secret), not yet stored.
pub fn new_access_key_pair() -> (String, String) {
    (new_access_key_id(), new_access_key_secret())
}

fn insert_key(
    txn: &WriteTxn,
    sealer: &crate::seal::Sealer,
    user: &str,
) -> Result<NewAccessKey, DomainError> {
    if keys_of(txn, user)?.len() >= ACCESS_KEYS_PER_USER_MAX {
        return Err(DomainError::Quota {
            entity: Entity::AccessKey,
            max: ACCESS_KEYS_PER_USER_MAX,
        });
    }
    let (id, secret) = new_access_key_pair();
    let key = AccessKey {
        sealed_secret: sealer.seal(&id, &secret),
        id: id.clone(),
        user: user.to_owned(),
        status: KeyStatus::Active,
        created: now_rfc3339(),
    };
    txn.put(AccessKeyKey { id: &id }, &key)?;
    Ok(NewAccessKey { key, secret })
}

/// The parsed document of a policy by name and type.
fn policy_document(
    txn: &ReadTxn,
    name: &str,
    kind: PolicyType,
) -> Result<Option<PolicyDocument>, DomainError> {
    match kind {
        PolicyType::System => Ok(policy::system_policy(name)),
        PolicyType::Custom => {
            let Some(p) = txn.get::<CustomPolicy>(AdminPolicyKey { name })? else {
                return Ok(None);
            };
            PolicyDocument::parse(&p.document)
                .map(Some)
                .map_err(|e| DomainError::Internal(format!("stored policy `{name}`: {e}")))
        }
    }
}

/// The administrators of the installation. Cheap to clone.
#[derive(Clone)]
pub struct Iam {
    db: Db,
    sealer: Sealer,
}

/// Whether any administrator exists (read before the sealing key is known: a database with
/// administrators needs the key it was made with).
pub async fn has_admins(db: &Db) -> Result<bool, DomainError> {
    db.read(|txn| Ok(txn.any_under(Prefix::AllAdminUsers)?))
        .await
}

impl Iam {
    pub fn new(db: Db, sealer: Sealer) -> Iam {
        Iam { db, sealer }
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ReadTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        self.db.read(f).await
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&WriteTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        self.db.write(f).await
    }

    /// The installation's account id (16 digits), made on first use.
    pub async fn account_id(&self) -> Result<String, DomainError> {
        if let Some(id) = self
            .read(|txn| Ok(txn.get::<String>(MetaKey { name: "account_id" })?))
            .await?
        {
            return Ok(id);
        }
        self.write(|txn| {
            if let Some(id) = txn.get::<String>(MetaKey { name: "account_id" })? {
                return Ok(id);
            }
            let id = new_numeric_id();
            txn.put(MetaKey { name: "account_id" }, &id)?;
            Ok(id)
        })
        .await
    }

    /// Whether any administrator exists.
    pub async fn has_admins(&self) -> Result<bool, DomainError> {
        has_admins(&self.db).await
    }

    /// First start: the administrator `admin` with `AdministratorAccess` and the AccessKey
    /// pair given (from `new_access_key_pair`, so the caller can save it before the commit).
    /// `false` when any administrator exists already.
    pub async fn bootstrap_admin(
        &self,
        key_id: String,
        secret: String,
    ) -> Result<bool, DomainError> {
        let sealer = self.sealer.clone();
        self.write(move |txn| {
            if txn.any_under(Prefix::AllAdminUsers)? {
                return Ok(false);
            }
            let now = now_rfc3339();
            let user = AdminUser {
                name: FIRST_ADMIN.into(),
                id: new_numeric_id(),
                display_name: FIRST_ADMIN.into(),
                comments: "made on first start".into(),
                created: now.clone(),
                updated: now.clone(),
                policies: vec![Attachment {
                    policy_name: policy::ADMINISTRATOR_ACCESS.into(),
                    policy_type: PolicyType::System,
                    attached: now,
                }],
                account_id: None,
            };
            txn.put(AdminUserKey { name: &user.name }, &user)?;
            let key = AccessKey {
                sealed_secret: sealer.seal(&key_id, &secret),
                id: key_id.clone(),
                user: user.name.clone(),
                status: KeyStatus::Active,
                created: now_rfc3339(),
            };
            txn.put(AccessKeyKey { id: &key_id }, &key)?;
            Ok(true)
        })
        .await
    }

    /// The caller behind an AccessKeyId: active key, its secret opened, its user's policies
    /// parsed. `None` for an unknown or inactive key.
    pub async fn caller(&self, access_key_id: &str) -> Result<Option<Caller>, DomainError> {
        let sealer = &self.sealer;
        let id = access_key_id;
        // Point reads (the key, its user, at most `POLICIES_PER_USER_MAX` policies) on the
        // calling task (`Db::read_now`): every signed call makes them.
        self.db.read_now(|txn| {
            let Some(key) = txn.get::<AccessKey>(AccessKeyKey { id })? else {
                return Ok(None);
            };
            if key.status != KeyStatus::Active {
                return Ok(None);
            }
            let secret = sealer
                .open(&key.id, &key.sealed_secret)
                .map_err(|e| DomainError::Internal(format!("AccessKey `{}`: {e}", key.id)))?;
            let Some(user) = txn.get::<AdminUser>(AdminUserKey { name: &key.user })? else {
                return Ok(None);
            };
            let mut policies = Vec::new();
            for a in &user.policies {
                if let Some(doc) = policy_document(txn, &a.policy_name, a.policy_type)? {
                    policies.push((a.policy_name.clone(), doc));
                }
            }
            Ok(Some(Caller {
                user: user.name,
                account_id: user.account_id,
                access_key_id: key.id,
                secret,
                policies,
            }))
        })
    }

    /// Whether an AccessKey exists (active or not).
    pub async fn access_key_exists(&self, id: &str) -> Result<bool, DomainError> {
        let id = id.to_owned();
        self.read(move |txn| Ok(txn.get::<AccessKey>(AccessKeyKey { id: &id })?.is_some()))
            .await
    }

    /// A new administrator of the management account (`account_id` `None`) or of member
    /// account `account_id`, which the caller has checked is in the resource directory (`iam`
    /// does not read `access`).
    pub async fn create_admin_user(
        &self,
        name: &str,
        display_name: &str,
        comments: &str,
        account_id: Option<&str>,
    ) -> Result<AdminUser, DomainError> {
        check_user_name(name)?;
        let now = now_rfc3339();
        let user = AdminUser {
            name: name.to_owned(),
            id: new_numeric_id(),
            display_name: if display_name.is_empty() {
                name.to_owned()
            } else {
                display_name.to_owned()
            },
            comments: comments.to_owned(),
            created: now.clone(),
            updated: now,
            policies: Vec::new(),
            account_id: account_id.map(str::to_owned),
        };
        self.write(move |txn| {
            let key = AdminUserKey { name: &user.name };
            let taken = txn.get::<AdminUser>(key)?.is_some();
            let count = txn.scan::<AdminUser>(Prefix::AllAdminUsers)?.len();
            check_new(taken, count, Entity::AdminUser, &user.name, ADMIN_USERS_MAX)?;
            txn.put(key, &user)?;
            Ok(user)
        })
        .await
    }

    pub async fn admin_user(&self, name: &str) -> Result<AdminUser, DomainError> {
        let name = name.to_owned();
        self.read(move |txn| user_in(txn, &name)).await
    }

    pub async fn admin_users(&self) -> Result<Vec<AdminUser>, DomainError> {
        self.read(|txn| Ok(txn.scan::<AdminUser>(Prefix::AllAdminUsers)?))
            .await
    }

    /// Deletes an administrator that has no AccessKey and no attached policy (RAM's rule).
    pub async fn delete_admin_user(&self, name: &str) -> Result<(), DomainError> {
        let name = name.to_owned();
        self.write(move |txn| {
            let user = user_in(txn, &name)?;
            if !keys_of(txn, &name)?.is_empty() {
                return Err(DomainError::Conflict {
                    rule: Conflict::AdminUserHasKeys,
                    message: format!("admin user `{name}` still has AccessKeys"),
                });
            }
            if !user.policies.is_empty() {
                return Err(DomainError::Conflict {
                    rule: Conflict::AdminUserHasPolicies,
                    message: format!("admin user `{name}` still has attached policies"),
                });
            }
            txn.delete(AdminUserKey { name: &name })?;
            Ok(())
        })
        .await
    }

    pub async fn create_access_key(&self, user: &str) -> Result<NewAccessKey, DomainError> {
        let sealer = self.sealer.clone();
        let user = user.to_owned();
        self.write(move |txn| {
            user_in(txn, &user)?;
            insert_key(txn, &sealer, &user)
        })
        .await
    }

    pub async fn access_keys(&self, user: &str) -> Result<Vec<AccessKey>, DomainError> {
        let user = user.to_owned();
        self.read(move |txn| {
            user_in(txn, &user)?;
            Ok(txn
                .scan::<AccessKey>(Prefix::AllAccessKeys)?
                .into_iter()
                .filter(|k| k.user == user)
                .collect())
        })
        .await
    }

    fn key_of_user(txn: &WriteTxn, user: &str, id: &str) -> Result<AccessKey, DomainError> {
        txn.get::<AccessKey>(AccessKeyKey { id })?
            .filter(|k| k.user == user)
            .ok_or_else(|| DomainError::NotFound {
                entity: Entity::AccessKey,
                id: id.to_owned(),
            })
    }

    pub async fn set_access_key_status(
        &self,
        user: &str,
        id: &str,
        status: KeyStatus,
    ) -> Result<(), DomainError> {
        let (user, id) = (user.to_owned(), id.to_owned());
        self.write(move |txn| {
            user_in(txn, &user)?;
            let mut key = Self::key_of_user(txn, &user, &id)?;
            key.status = status;
            txn.put(AccessKeyKey { id: &id }, &key)?;
            Ok(())
        })
        .await
    }

    pub async fn delete_access_key(&self, user: &str, id: &str) -> Result<(), DomainError> {
        let (user, id) = (user.to_owned(), id.to_owned());
        self.write(move |txn| {
            user_in(txn, &user)?;
            Self::key_of_user(txn, &user, &id)?;
            txn.delete(AccessKeyKey { id: &id })?;
            Ok(())
        })
        .await
    }

    pub async fn create_admin_policy(
        &self,
        name: &str,
        document: &str,
        description: &str,
    ) -> Result<CustomPolicy, DomainError> {
        check_policy_name(name)?;
        if policy::system_policy(name).is_some() {
            return Err(DomainError::AlreadyExists {
                entity: Entity::Policy,
                id: name.to_owned(),
            });
        }
        PolicyDocument::parse(document).map_err(|e| invalid("PolicyDocument", e.to_string()))?;
        let now = now_rfc3339();
        let p = CustomPolicy {
            name: name.to_owned(),
            description: description.to_owned(),
            document: document.to_owned(),
            created: now.clone(),
            updated: now,
        };
        self.write(move |txn| {
            let key = AdminPolicyKey { name: &p.name };
            let taken = txn.get::<CustomPolicy>(key)?.is_some();
            let count = txn.scan::<CustomPolicy>(Prefix::AllAdminPolicies)?.len();
            check_new(taken, count, Entity::Policy, &p.name, CUSTOM_POLICIES_MAX)?;
            txn.put(key, &p)?;
            Ok(p)
        })
        .await
    }

    /// A policy's document text, description and dates (system policies have no dates).
    pub async fn admin_policy(
        &self,
        name: &str,
        kind: PolicyType,
    ) -> Result<CustomPolicy, DomainError> {
        let name = name.to_owned();
        self.read(move |txn| match kind {
            PolicyType::System => policy::system_policy_text(&name)
                .map(|text| CustomPolicy {
                    name: name.clone(),
                    description: String::new(),
                    document: text.to_owned(),
                    created: String::new(),
                    updated: String::new(),
                })
                .ok_or(DomainError::NotFound {
                    entity: Entity::Policy,
                    id: name,
                }),
            PolicyType::Custom => txn
                .get::<CustomPolicy>(AdminPolicyKey { name: &name })?
                .ok_or(DomainError::NotFound {
                    entity: Entity::Policy,
                    id: name,
                }),
        })
        .await
    }

    pub async fn admin_policies(&self) -> Result<Vec<CustomPolicy>, DomainError> {
        self.read(|txn| Ok(txn.scan::<CustomPolicy>(Prefix::AllAdminPolicies)?))
            .await
    }

    /// Deletes a custom policy that no administrator has attached.
    pub async fn delete_admin_policy(&self, name: &str) -> Result<(), DomainError> {
        let name = name.to_owned();
        self.write(move |txn| {
            if txn
                .get::<CustomPolicy>(AdminPolicyKey { name: &name })?
                .is_none()
            {
                return Err(DomainError::NotFound {
                    entity: Entity::Policy,
                    id: name,
                });
            }
            let users = txn.scan::<AdminUser>(Prefix::AllAdminUsers)?;
            if users.iter().any(|u| {
                u.policies
                    .iter()
                    .any(|a| a.policy_type == PolicyType::Custom && a.policy_name == name)
            }) {
                return Err(DomainError::Conflict {
                    rule: Conflict::PolicyAttached,
                    message: format!("policy `{name}` is still attached"),
                });
            }
            txn.delete(AdminPolicyKey { name: &name })?;
            Ok(())
        })
        .await
    }

    pub async fn attach_admin_policy(
        &self,
        user: &str,
        name: &str,
        kind: PolicyType,
    ) -> Result<(), DomainError> {
        let (user, name) = (user.to_owned(), name.to_owned());
        self.write(move |txn| {
            let mut u = user_in(txn, &user)?;
            let exists = match kind {
                PolicyType::System => policy::system_policy(&name).is_some(),
                PolicyType::Custom => txn
                    .get::<CustomPolicy>(AdminPolicyKey { name: &name })?
                    .is_some(),
            };
            if !exists {
                return Err(DomainError::NotFound {
                    entity: Entity::Policy,
                    id: name,
                });
            }
            if u.policies
                .iter()
                .any(|a| a.policy_name == name && a.policy_type == kind)
            {
                return Err(DomainError::AlreadyExists {
                    entity: Entity::PolicyAttachment,
                    id: name,
                });
            }
            if u.policies.len() >= POLICIES_PER_USER_MAX {
                return Err(DomainError::Quota {
                    entity: Entity::PolicyAttachment,
                    max: POLICIES_PER_USER_MAX,
                });
            }
            u.policies.push(Attachment {
                policy_name: name,
                policy_type: kind,
                attached: now_rfc3339(),
            });
            u.updated = now_rfc3339();
            txn.put(AdminUserKey { name: &user }, &u)?;
            Ok(())
        })
        .await
    }

    pub async fn detach_admin_policy(
        &self,
        user: &str,
        name: &str,
        kind: PolicyType,
    ) -> Result<(), DomainError> {
        let (user, name) = (user.to_owned(), name.to_owned());
        self.write(move |txn| {
            let mut u = user_in(txn, &user)?;
            let before = u.policies.len();
            u.policies
                .retain(|a| !(a.policy_name == name && a.policy_type == kind));
            if u.policies.len() == before {
                return Err(DomainError::NotFound {
                    entity: Entity::PolicyAttachment,
                    id: name,
                });
            }
            u.updated = now_rfc3339();
            txn.put(AdminUserKey { name: &user }, &u)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record written before administrators had a home account reads as the management
    /// account's, and such a record is written as before.
    #[test]
    fn records_without_a_home_account_are_the_management_accounts() {
        let old = r#"{"name":"a","id":"1","display_name":"a","comments":"","created":"t","updated":"t","policies":[]}"#;
        let u: AdminUser = serde_json::from_str(old).unwrap();
        assert_eq!(u.account_id, None);
        assert_eq!(serde_json::to_string(&u).unwrap(), old);
        let member = AdminUser {
            account_id: Some("1000000000000001".into()),
            ..u
        };
        let text = serde_json::to_string(&member).unwrap();
        assert!(
            text.contains(r#""account_id":"1000000000000001""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<AdminUser>(&text).unwrap(), member);
    }
}

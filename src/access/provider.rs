//! The boundary to member accounts: what provisioning does in an account (roles with their
//! trust policy and policies, the SAML provider) and who may use which role (grants). Every
//! call is idempotent: it states what must be, not what to change.
//!
//! `EmbeddedProvider` keeps each account's state in redb and is the source of truth for what
//! a user may do in an account. `FaultyProvider` wraps another and injects failures and delays
//! (tests, benchmarks).

use super::records::{DeletionStrategy, DuplicationStrategy};
use crate::error::DomainError;
use crate::model::ResourceKind;
use crate::store::Db;
use crate::store::keys::{
    Key, Prefix, ProviderGrantKey, ProviderRamUserKey, ProviderRamUserOwnerKey, ProviderRoleKey,
    ProviderSamlKey, ProviderUserSsoKey,
};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(pub String);

impl From<DomainError> for ProviderError {
    fn from(e: DomainError) -> Self {
        ProviderError(e.to_string())
    }
}

/// A role as provisioning makes it in a member account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSpec {
    pub account_id: String,
    /// `AliyunReservedSSO-<ConfigurationName>`.
    pub role_name: String,
    pub config_id: String,
    pub trust_policy: String,
    pub max_session_duration: u32,
    pub system_policies: Vec<String>,
    /// `(AliyunReservedSSO-<ConfigurationName>-InlinePolicy, document)`.
    pub inline_policy: Option<(String, String)>,
}

/// What the account provider keeps per account, by `account\0kind\0name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum AccountObject {
    Role(RoleSpec),
    SamlProvider {
        name: String,
        /// The IdP metadata the provider trusts (absent in records older than console
        /// sign-in: such a provider trusts no certificate).
        #[serde(default)]
        metadata: String,
    },
    RamUser(RamUser),
    /// User-based SSO: RAM users of the account sign in with SAML from the IdP this metadata
    /// describes (one per directory that keeps RAM users there).
    UserSso {
        dir: String,
        metadata: String,
    },
}

/// The ErrorInfo of a RAM user name clash that cannot be resolved (CloudSSO's code).
pub const IMS_USER_EXISTS: &str = "OperationConflict.UserProvisioning.Process.fail.ImsUserExists";

/// The ErrorInfo of a RAM user name RAM would refuse: longer than `RAM_USER_NAME_CHARS_MAX`
/// (with KeepBoth's suffix, when it needs one).
pub const RAM_USER_NAME_TOO_LONG: &str = "InvalidParameter.UserProvisioning.RamUserName.Length";

/// Longest RAM user name (RAM's limit).
pub const RAM_USER_NAME_CHARS_MAX: usize = 64;

/// The suffix KeepBoth gives a RAM user whose name is taken.
pub const KEEP_BOTH_SUFFIX: &str = "_sso";

/// The directory user a RAM user stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RamUserOwner {
    pub directory_id: String,
    pub user_id: String,
}

/// A RAM user of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RamUser {
    pub account_id: String,
    pub name: String,
    /// The directory user cloudsso keeps it for; `None`: a RAM user cloudsso does not own
    /// (made in the account, or kept there by a `Keep` deletion).
    pub owner: Option<RamUserOwner>,
    /// Whether it stays in the account (no longer owned) when cloudsso no longer wants it:
    /// the `Keep` deletion strategy of the provisioning it was last ensured for.
    #[serde(default)]
    pub keep_on_removal: bool,
    /// The provisioning it was last ensured for (empty when not owned).
    #[serde(default)]
    pub provisioning_id: String,
}

/// The RAM user a directory user must have in an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RamUserSpec {
    pub account_id: String,
    /// The name it gets (the user's `userName`) unless that is taken.
    pub name: String,
    pub owner: RamUserOwner,
    pub duplication: DuplicationStrategy,
    /// What becomes of it when it is no longer wanted.
    pub deletion: DeletionStrategy,
    /// The provisioning it is made for (its failures are that provisioning's events).
    pub provisioning_id: String,
}

/// Whether a RAM user named `name` is the one placed for a user named `user_name` (its name,
/// or the KeepBoth name beside a clash).
pub fn ram_user_name_fits(name: &str, user_name: &str) -> bool {
    name == user_name
        || name
            .strip_suffix(KEEP_BOTH_SUFFIX)
            .is_some_and(|n| n == user_name)
}

/// Where `spec`'s RAM user goes among the account's `existing` RAM users: the RAM user to
/// write (an existing one it already owns whose name still fits the user's, a new one,
/// `<name>_sso` under KeepBoth, or the same-named one taken over under TakeOver), or
/// `IMS_USER_EXISTS`. One it owns under a name that no longer fits (the user was renamed) is
/// renamed: placed anew, as if it were gone. Pure.
pub fn place_ram_user(spec: &RamUserSpec, existing: &[RamUser]) -> Result<RamUser, ProviderError> {
    let keep_on_removal = spec.deletion == DeletionStrategy::Keep;
    let mine = existing
        .iter()
        .find(|u| u.owner.as_ref() == Some(&spec.owner));
    if let Some(mine) = mine
        && ram_user_name_fits(&mine.name, &spec.name)
    {
        return Ok(RamUser {
            keep_on_removal,
            provisioning_id: spec.provisioning_id.clone(),
            ..mine.clone()
        });
    }
    let existing: Vec<&RamUser> = existing
        .iter()
        .filter(|u| u.owner.as_ref() != Some(&spec.owner))
        .collect();
    let owned = |name: &str| {
        if name.chars().count() > RAM_USER_NAME_CHARS_MAX {
            return Err(ProviderError(format!(
                "{RAM_USER_NAME_TOO_LONG}: the RAM user name `{name}` is longer than {RAM_USER_NAME_CHARS_MAX} characters"
            )));
        }
        Ok(RamUser {
            account_id: spec.account_id.clone(),
            name: name.to_owned(),
            owner: Some(spec.owner.clone()),
            keep_on_removal,
            provisioning_id: spec.provisioning_id.clone(),
        })
    };
    let taken = |name: &str| existing.iter().find(|u| u.name == name);
    let clash = || {
        ProviderError(format!(
            "{IMS_USER_EXISTS}: account `{}` already has a RAM user `{}`",
            spec.account_id, spec.name
        ))
    };
    match (taken(&spec.name), spec.duplication) {
        (None, _) => owned(&spec.name),
        // Another directory user's RAM user is never taken over.
        (Some(u), DuplicationStrategy::TakeOver) if u.owner.is_none() => owned(&spec.name),
        (Some(_), DuplicationStrategy::TakeOver) => Err(clash()),
        (Some(_), DuplicationStrategy::KeepBoth) => {
            let other = format!("{}{KEEP_BOTH_SUFFIX}", spec.name);
            match taken(&other) {
                None => owned(&other),
                Some(_) => Err(clash()),
            }
        }
    }
}

/// A user may use a configuration's role in an account, through these principals.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub account_id: String,
    pub config_id: String,
    pub config_name: String,
    pub sources: Vec<(ResourceKind, String)>,
}

pub trait Provider: Send + Sync {
    /// Makes or updates a SAML provider that trusts the IdP `metadata` describes.
    fn ensure_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
    fn delete_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
    /// Whether a SAML provider exists in an account.
    fn saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<bool, ProviderError>>;
    /// The metadata a SAML provider was registered with (`None`: no such provider).
    fn saml_provider_metadata<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, ProviderError>>;
    fn ensure_role<'a>(&'a self, role: &'a RoleSpec) -> BoxFuture<'a, Result<(), ProviderError>>;
    fn delete_role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
    fn role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<Option<RoleSpec>, ProviderError>>;
    /// Replaces what `user` may use (empty: nothing).
    fn set_grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
        grants: &'a [Grant],
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
    fn grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Grant>, ProviderError>>;
    /// `set_grants` for many users at once (one commit for the embedded provider).
    fn set_grants_many<'a>(
        &'a self,
        dir: &'a str,
        users: &'a [(String, Vec<Grant>)],
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            for (user, grants) in users {
                self.set_grants(dir, user, grants).await?;
            }
            Ok(())
        })
    }
    /// Every user of a directory that has grants.
    fn granted_users<'a>(
        &'a self,
        dir: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, ProviderError>>;
    /// Makes sure the RAM user `spec` describes exists (see `place_ram_user`); its name.
    fn ensure_ram_user<'a>(
        &'a self,
        spec: &'a RamUserSpec,
    ) -> BoxFuture<'a, Result<String, ProviderError>>;
    /// Removes the RAM user `owner` has in `account` (nothing when it has none); with `keep`,
    /// leaves it in the account, no longer owned.
    fn remove_ram_user<'a>(
        &'a self,
        account: &'a str,
        owner: &'a RamUserOwner,
        keep: bool,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
    /// The RAM users of an account, by name.
    fn ram_users<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>>;
    /// The RAM users `owner` has, one per account at most, by account.
    fn ram_users_of<'a>(
        &'a self,
        owner: &'a RamUserOwner,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>>;
    /// Makes the account's user-based SSO trust the IdP of directory `dir` as `metadata`
    /// describes (what its RAM users sign in to the console with).
    fn ensure_user_sso<'a>(
        &'a self,
        account: &'a str,
        dir: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
    /// The IdP metadata the account's user-based SSO trusts: (directory, metadata) pairs.
    fn user_sso<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, ProviderError>>;
}

/// Account state in redb, written through the application's one writer.
pub struct EmbeddedProvider {
    db: Db,
}

impl EmbeddedProvider {
    pub fn new(db: Db) -> EmbeddedProvider {
        EmbeddedProvider { db }
    }
}

impl EmbeddedProvider {
    /// Runs a write job for the provider's tables.
    fn write<'a>(
        &'a self,
        job: impl FnOnce(&crate::store::WriteTxn) -> Result<(), crate::store::StoreError>
        + Send
        + 'static,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.db
                .write(move |txn| Ok::<_, DomainError>(job(txn)?))
                .await
                .map_err(ProviderError::from)
        })
    }

    /// Runs a read of the provider's tables.
    fn read<'a, T: Send + 'static>(
        &'a self,
        job: impl FnOnce(&crate::store::ReadTxn) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> BoxFuture<'a, Result<T, ProviderError>> {
        Box::pin(async move {
            self.db
                .read(move |txn| Ok::<_, DomainError>(job(txn)?))
                .await
                .map_err(ProviderError::from)
        })
    }
}

impl Provider for EmbeddedProvider {
    fn ensure_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let k = Key::from(ProviderSamlKey { account, name });
        let (name, metadata) = (name.to_owned(), metadata.to_owned());
        self.write(move |txn| txn.put(k, &AccountObject::SamlProvider { name, metadata }))
    }

    fn delete_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let k = Key::from(ProviderSamlKey { account, name });
        self.write(move |txn| {
            txn.delete(k)?;
            Ok(())
        })
    }

    fn saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<bool, ProviderError>> {
        let k = Key::from(ProviderSamlKey { account, name });
        self.read(move |txn| Ok(txn.get::<AccountObject>(k)?.is_some()))
    }

    fn saml_provider_metadata<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, ProviderError>> {
        let k = Key::from(ProviderSamlKey { account, name });
        self.read(move |txn| {
            Ok(match txn.get::<AccountObject>(k)? {
                Some(AccountObject::SamlProvider { metadata, .. }) => Some(metadata),
                _ => None,
            })
        })
    }

    fn ensure_role<'a>(&'a self, role: &'a RoleSpec) -> BoxFuture<'a, Result<(), ProviderError>> {
        let k = Key::from(ProviderRoleKey {
            account: &role.account_id,
            role: &role.role_name,
        });
        let role = role.clone();
        self.write(move |txn| txn.put(k, &AccountObject::Role(role)))
    }

    fn delete_role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let k = Key::from(ProviderRoleKey {
            account,
            role: role_name,
        });
        self.write(move |txn| {
            txn.delete(k)?;
            Ok(())
        })
    }

    fn role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<Option<RoleSpec>, ProviderError>> {
        let k = Key::from(ProviderRoleKey {
            account,
            role: role_name,
        });
        self.read(move |txn| {
            Ok(match txn.get::<AccountObject>(k)? {
                Some(AccountObject::Role(r)) => Some(r),
                _ => None,
            })
        })
    }

    fn set_grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
        grants: &'a [Grant],
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let (k, grants) = (Key::from(ProviderGrantKey { dir, user }), grants.to_vec());
        self.write(move |txn| {
            if grants.is_empty() {
                txn.delete(k)?;
            } else {
                txn.put(k, &grants)?;
            }
            Ok(())
        })
    }

    fn set_grants_many<'a>(
        &'a self,
        dir: &'a str,
        users: &'a [(String, Vec<Grant>)],
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let (dir, users) = (dir.to_owned(), users.to_vec());
        self.write(move |txn| {
            for (user, grants) in &users {
                let k = ProviderGrantKey { dir: &dir, user };
                if grants.is_empty() {
                    txn.delete(k)?;
                } else {
                    txn.put(k, grants)?;
                }
            }
            Ok(())
        })
    }

    fn grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Grant>, ProviderError>> {
        let k = Key::from(ProviderGrantKey { dir, user });
        self.read(move |txn| Ok(txn.get::<Vec<Grant>>(k)?.unwrap_or_default()))
    }

    fn granted_users<'a>(
        &'a self,
        dir: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, ProviderError>> {
        let dir = dir.to_owned();
        self.read(move |txn| {
            Ok(txn
                .scan_tails::<Vec<Grant>>(Prefix::GrantsIn { dir: &dir })?
                .into_iter()
                .map(|(user, _)| user)
                .collect())
        })
    }

    fn ensure_ram_user<'a>(
        &'a self,
        spec: &'a RamUserSpec,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        let spec = spec.clone();
        Box::pin(async move {
            self.db
                .write(move |txn| {
                    let existing = ram_users_in(txn, &spec.account_id)?;
                    let placed = match place_ram_user(&spec, &existing) {
                        Ok(u) => u,
                        Err(e) => return Ok(Err(e)),
                    };
                    // A rename: the RAM user it owned under the old name goes.
                    let old = existing
                        .iter()
                        .find(|u| u.owner.as_ref() == Some(&spec.owner) && u.name != placed.name);
                    if let Some(old) = old {
                        txn.delete(ProviderRamUserKey {
                            account: &old.account_id,
                            name: &old.name,
                        })?;
                    }
                    put_ram_user(txn, &placed)?;
                    Ok::<_, DomainError>(Ok(placed.name))
                })
                .await
                .map_err(ProviderError::from)?
        })
    }

    fn remove_ram_user<'a>(
        &'a self,
        account: &'a str,
        owner: &'a RamUserOwner,
        keep: bool,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let (account, owner) = (account.to_owned(), owner.clone());
        self.write(move |txn| {
            let existing = ram_users_in(txn, &account)?;
            let Some(mut u) = existing
                .into_iter()
                .find(|u| u.owner.as_ref() == Some(&owner))
            else {
                return Ok(());
            };
            if keep {
                u.owner = None;
                u.keep_on_removal = false;
                u.provisioning_id.clear();
                put_ram_user(txn, &u)
            } else {
                unindex_ram_user(txn, &u)?;
                txn.delete(ProviderRamUserKey {
                    account: &account,
                    name: &u.name,
                })
                .map(|_| ())
            }
        })
    }

    fn ram_users<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>> {
        let account = account.to_owned();
        self.read(move |txn| {
            let all =
                txn.scan::<AccountObject>(Prefix::ProviderRamUsersIn { account: &account })?;
            Ok(only_ram_users(all))
        })
    }

    fn ram_users_of<'a>(
        &'a self,
        owner: &'a RamUserOwner,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>> {
        let owner = owner.clone();
        self.read(move |txn| {
            let of = Prefix::ProviderRamUsersOf {
                dir: &owner.directory_id,
                user: &owner.user_id,
            };
            let mut out = Vec::new();
            for (account, name) in txn.scan_tails::<String>(of)? {
                let k = ProviderRamUserKey {
                    account: &account,
                    name: &name,
                };
                if let Some(AccountObject::RamUser(u)) = txn.get::<AccountObject>(k)?
                    && u.owner.as_ref() == Some(&owner)
                {
                    out.push(u);
                }
            }
            Ok(out)
        })
    }

    fn ensure_user_sso<'a>(
        &'a self,
        account: &'a str,
        dir: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let k = Key::from(ProviderUserSsoKey { account, dir });
        let (dir, metadata) = (dir.to_owned(), metadata.to_owned());
        self.write(move |txn| txn.put(k, &AccountObject::UserSso { dir, metadata }))
    }

    fn user_sso<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, ProviderError>> {
        let account = account.to_owned();
        self.read(move |txn| {
            Ok(txn
                .scan::<AccountObject>(Prefix::ProviderUserSsoIn { account: &account })?
                .into_iter()
                .filter_map(|o| match o {
                    AccountObject::UserSso { dir, metadata } => Some((dir, metadata)),
                    _ => None,
                })
                .collect())
        })
    }
}

/// The RAM users of an account, in a write transaction.
fn ram_users_in(
    txn: &crate::store::WriteTxn,
    account: &str,
) -> Result<Vec<RamUser>, crate::store::StoreError> {
    let all = txn.scan::<AccountObject>(Prefix::ProviderRamUsersIn { account })?;
    Ok(only_ram_users(all))
}

/// The RAM users among an account's objects.
fn only_ram_users(all: Vec<AccountObject>) -> Vec<RamUser> {
    all.into_iter()
        .filter_map(|o| match o {
            AccountObject::RamUser(u) => Some(u),
            _ => None,
        })
        .collect()
}

/// Writes a RAM user and its by-owner index row (the owner's previous one, if the user was
/// owned by someone else, goes).
fn put_ram_user(txn: &crate::store::WriteTxn, u: &RamUser) -> Result<(), crate::store::StoreError> {
    let k = ProviderRamUserKey {
        account: &u.account_id,
        name: &u.name,
    };
    if let Some(AccountObject::RamUser(before)) = txn.get::<AccountObject>(k)?
        && before.owner != u.owner
    {
        unindex_ram_user(txn, &before)?;
    }
    if let Some(o) = &u.owner {
        let by_owner = ProviderRamUserOwnerKey {
            dir: &o.directory_id,
            user: &o.user_id,
            account: &u.account_id,
        };
        txn.put(by_owner, &u.name)?;
    }
    txn.put(k, &AccountObject::RamUser(u.clone()))
}

/// Deletes a RAM user's by-owner index row (if it is owned).
fn unindex_ram_user(
    txn: &crate::store::WriteTxn,
    u: &RamUser,
) -> Result<(), crate::store::StoreError> {
    if let Some(o) = &u.owner {
        txn.delete(ProviderRamUserOwnerKey {
            dir: &o.directory_id,
            user: &o.user_id,
            account: &u.account_id,
        })?;
    }
    Ok(())
}

impl EmbeddedProvider {
    /// Puts a RAM user cloudsso does not own into an account, as the account's own
    /// administrators would (name clashes in tests and demonstrations).
    pub async fn put_unowned_ram_user(
        &self,
        account: &str,
        name: &str,
    ) -> Result<(), ProviderError> {
        let u = RamUser {
            account_id: account.to_owned(),
            name: name.to_owned(),
            owner: None,
            keep_on_removal: false,
            provisioning_id: String::new(),
        };
        self.write(move |txn| put_ram_user(txn, &u)).await
    }
}

/// Wraps a provider: the next `fail` role, SAML provider and RAM user changes fail, every call
/// waits `delay_ms`.
pub struct FaultyProvider {
    inner: Arc<dyn Provider>,
    fail: AtomicU32,
    delay_ms: AtomicU64,
}

impl FaultyProvider {
    pub fn new(inner: Arc<dyn Provider>) -> FaultyProvider {
        FaultyProvider {
            inner,
            fail: AtomicU32::new(0),
            delay_ms: AtomicU64::new(0),
        }
    }

    /// The next `n` calls that change roles, SAML providers or RAM users fail.
    pub fn fail_next(&self, n: u32) {
        self.fail.store(n, Ordering::SeqCst);
    }

    pub fn set_delay_ms(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    async fn fault(&self, what: &str) -> Result<(), ProviderError> {
        let ms = self.delay_ms.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let failed = self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failed {
            return Err(ProviderError(format!("injected failure: {what}")));
        }
        Ok(())
    }
}

impl Provider for FaultyProvider {
    fn ensure_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.fault("creating the SAML provider").await?;
            self.inner
                .ensure_saml_provider(account, name, metadata)
                .await
        })
    }
    fn delete_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.fault("deleting the SAML provider").await?;
            self.inner.delete_saml_provider(account, name).await
        })
    }
    fn saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<bool, ProviderError>> {
        self.inner.saml_provider(account, name)
    }
    fn saml_provider_metadata<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, ProviderError>> {
        self.inner.saml_provider_metadata(account, name)
    }
    fn ensure_role<'a>(&'a self, role: &'a RoleSpec) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.fault("creating the role").await?;
            self.inner.ensure_role(role).await
        })
    }
    fn delete_role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.fault("deleting the role").await?;
            self.inner.delete_role(account, role_name).await
        })
    }
    fn role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<Option<RoleSpec>, ProviderError>> {
        self.inner.role(account, role_name)
    }
    fn set_grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
        grants: &'a [Grant],
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        self.inner.set_grants(dir, user, grants)
    }
    fn set_grants_many<'a>(
        &'a self,
        dir: &'a str,
        users: &'a [(String, Vec<Grant>)],
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        self.inner.set_grants_many(dir, users)
    }
    fn grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Grant>, ProviderError>> {
        self.inner.grants(dir, user)
    }
    fn granted_users<'a>(
        &'a self,
        dir: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, ProviderError>> {
        self.inner.granted_users(dir)
    }
    fn ensure_ram_user<'a>(
        &'a self,
        spec: &'a RamUserSpec,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            self.fault("creating the RAM user").await?;
            self.inner.ensure_ram_user(spec).await
        })
    }
    fn remove_ram_user<'a>(
        &'a self,
        account: &'a str,
        owner: &'a RamUserOwner,
        keep: bool,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.fault("deleting the RAM user").await?;
            self.inner.remove_ram_user(account, owner, keep).await
        })
    }
    fn ram_users<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>> {
        self.inner.ram_users(account)
    }
    fn ram_users_of<'a>(
        &'a self,
        owner: &'a RamUserOwner,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>> {
        self.inner.ram_users_of(owner)
    }
    fn ensure_user_sso<'a>(
        &'a self,
        account: &'a str,
        dir: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.fault("setting the account's user-based SSO").await?;
            self.inner.ensure_user_sso(account, dir, metadata).await
        })
    }
    fn user_sso<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, ProviderError>> {
        self.inner.user_sso(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, Writer};

    fn owner(user: &str) -> RamUserOwner {
        RamUserOwner {
            directory_id: "d-1".into(),
            user_id: user.into(),
        }
    }

    fn spec(user: &str, name: &str, duplication: DuplicationStrategy) -> RamUserSpec {
        RamUserSpec {
            account_id: "1000000000000001".into(),
            name: name.into(),
            owner: owner(user),
            duplication,
            deletion: DeletionStrategy::Delete,
            provisioning_id: "up-1".into(),
        }
    }

    fn existing(name: &str, by: Option<&str>) -> RamUser {
        RamUser {
            account_id: "1000000000000001".into(),
            name: name.into(),
            provisioning_id: if by.is_some() {
                "up-1".into()
            } else {
                String::new()
            },
            owner: by.map(owner),
            keep_on_removal: false,
        }
    }

    fn clash(r: Result<RamUser, ProviderError>) -> bool {
        matches!(r, Err(ProviderError(m)) if m.starts_with(IMS_USER_EXISTS))
    }

    #[test]
    fn name_clashes_follow_the_duplication_strategy() {
        use DuplicationStrategy::{KeepBoth, TakeOver};
        // No clash: the user's name, owned.
        let free = place_ram_user(&spec("u-1", "alice", KeepBoth), &[]).unwrap();
        assert_eq!(free, existing("alice", Some("u-1")));
        // A RAM user cloudsso does not own: KeepBoth makes `alice_sso`, TakeOver owns it.
        let theirs = [existing("alice", None)];
        let both = place_ram_user(&spec("u-1", "alice", KeepBoth), &theirs).unwrap();
        assert_eq!(both, existing("alice_sso", Some("u-1")));
        let taken = place_ram_user(&spec("u-1", "alice", TakeOver), &theirs).unwrap();
        assert_eq!(taken, existing("alice", Some("u-1")));
        // Another directory user's RAM user is never taken over; KeepBoth steps aside.
        let other = [existing("alice", Some("u-2"))];
        assert!(clash(place_ram_user(
            &spec("u-1", "alice", TakeOver),
            &other
        )));
        let beside = place_ram_user(&spec("u-1", "alice", KeepBoth), &other).unwrap();
        assert_eq!(beside.name, "alice_sso");
        // Both names taken: the clash is reported with CloudSSO's code.
        let full = [existing("alice", None), existing("alice_sso", None)];
        assert!(clash(place_ram_user(
            &spec("u-1", "alice", KeepBoth),
            &full
        )));
        // What the user already owns is kept, whatever the strategy and names around it.
        let mine = [existing("alice", None), existing("alice_sso", Some("u-1"))];
        for s in [KeepBoth, TakeOver] {
            let again = place_ram_user(&spec("u-1", "alice", s), &mine).unwrap();
            assert_eq!(again, existing("alice_sso", Some("u-1")));
        }
        // Renamed (alice -> alicia): the RAM user it owns moves to the new name, or beside a
        // clash; its old name never blocks it.
        let renamed = [existing("alice", Some("u-1"))];
        let moved = place_ram_user(&spec("u-1", "alicia", KeepBoth), &renamed).unwrap();
        assert_eq!(moved, existing("alicia", Some("u-1")));
        let crowded = [existing("alice", Some("u-1")), existing("alicia", None)];
        let moved = place_ram_user(&spec("u-1", "alicia", KeepBoth), &crowded).unwrap();
        assert_eq!(moved, existing("alicia_sso", Some("u-1")));
        assert!(clash(place_ram_user(
            &spec("u-1", "alicia", TakeOver),
            &[
                existing("alice", Some("u-1")),
                existing("alicia", Some("u-2"))
            ]
        )));
        // Names RAM would refuse: at the limit it fits, one more is refused, and so is a
        // KeepBoth name the suffix takes past it.
        let at_limit = "a".repeat(RAM_USER_NAME_CHARS_MAX);
        let placed = place_ram_user(&spec("u-1", &at_limit, KeepBoth), &[]).unwrap();
        assert_eq!(placed.name, at_limit);
        let long = "a".repeat(RAM_USER_NAME_CHARS_MAX + 1);
        let e = place_ram_user(&spec("u-1", &long, KeepBoth), &[]).unwrap_err();
        assert!(e.0.starts_with(RAM_USER_NAME_TOO_LONG), "{e}");
        let beside = [existing(&at_limit, None)];
        let e = place_ram_user(&spec("u-1", &at_limit, KeepBoth), &beside).unwrap_err();
        assert!(e.0.starts_with(RAM_USER_NAME_TOO_LONG), "{e}");
        let cases = [
            ("alice", "alice", true),
            ("alice_sso", "alice", true),
            ("alice_sso_sso", "alice", false),
            ("alicia", "alice", false),
            ("alice", "alice_sso", false),
        ];
        for (name, user, fits) in cases {
            assert_eq!(ram_user_name_fits(name, user), fits, "{name} {user}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_embedded_provider_keeps_ram_users_per_account_idempotently() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("t.redb")).unwrap();
        let (writer, _thread) = Writer::start(store.clone(), 64, 1024).unwrap();
        let p = EmbeddedProvider::new(Db::new(store, writer));
        let acct = "1000000000000001";
        p.put_unowned_ram_user(acct, "alice").await.unwrap();
        let keep_both = spec("u-1", "alice", DuplicationStrategy::KeepBoth);
        assert_eq!(p.ensure_ram_user(&keep_both).await.unwrap(), "alice_sso");
        assert_eq!(p.ensure_ram_user(&keep_both).await.unwrap(), "alice_sso");
        let bob = spec("u-2", "bob", DuplicationStrategy::TakeOver);
        assert_eq!(p.ensure_ram_user(&bob).await.unwrap(), "bob");
        // Another account is another namespace.
        let elsewhere = RamUserSpec {
            account_id: "1000000000000002".into(),
            ..keep_both.clone()
        };
        assert_eq!(p.ensure_ram_user(&elsewhere).await.unwrap(), "alice");
        let mut names: Vec<(String, Option<RamUserOwner>)> = p
            .ram_users(acct)
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.name, u.owner))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("alice".into(), None),
                ("alice_sso".into(), Some(owner("u-1"))),
                ("bob".into(), Some(owner("u-2"))),
            ]
        );
        // Delete removes only what cloudsso owns; Keep leaves it, no longer owned; both
        // are idempotent.
        for _ in 0..2 {
            p.remove_ram_user(acct, &owner("u-1"), false).await.unwrap();
            p.remove_ram_user(acct, &owner("u-2"), true).await.unwrap();
        }
        let left: Vec<RamUser> = p.ram_users(acct).await.unwrap();
        assert_eq!(left, [existing("alice", None), existing("bob", None)]);
        // A kept RAM user is then a clash like any other.
        assert_eq!(p.ensure_ram_user(&bob).await.unwrap(), "bob");
        let bob_keep_both = spec("u-3", "bob", DuplicationStrategy::KeepBoth);
        assert_eq!(p.ensure_ram_user(&bob_keep_both).await.unwrap(), "bob_sso");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_faulty_provider_fails_ram_user_changes_on_demand() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("t.redb")).unwrap();
        let (writer, _thread) = Writer::start(store.clone(), 64, 1024).unwrap();
        let inner = Arc::new(EmbeddedProvider::new(Db::new(store, writer)));
        let p = FaultyProvider::new(inner.clone());
        let alice = spec("u-1", "alice", DuplicationStrategy::KeepBoth);
        p.fail_next(2);
        assert!(p.ensure_ram_user(&alice).await.is_err());
        assert!(
            p.remove_ram_user("1000000000000001", &owner("u-1"), false)
                .await
                .is_err()
        );
        assert!(
            inner
                .ram_users("1000000000000001")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(p.ensure_ram_user(&alice).await.unwrap(), "alice");
        assert_eq!(inner.ram_users("1000000000000001").await.unwrap().len(), 1);
    }
}

//! The boundary to member accounts: what provisioning does in an account (roles with their
//! trust policy and policies, the SAML provider) and who may use which role (grants). Every
//! call is idempotent: it states what must be, not what to change.
//!
//! `EmbeddedProvider` keeps each account's state in redb and is the source of truth for what
//! a user may do in an account. `FaultyProvider` wraps another and injects failures and delays
//! (tests, benchmarks).

use crate::error::DomainError;
use crate::model::ResourceKind;
use crate::store::Db;
use crate::store::keys::{Key, Prefix, ProviderGrantKey, ProviderRoleKey, ProviderSamlKey};
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
}

/// Wraps a provider: the next `fail` role and SAML calls fail, every call waits `delay_ms`.
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

    /// The next `n` calls that change roles or SAML providers fail.
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
}

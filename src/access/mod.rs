//! Access management across accounts (issue 4): the resource directory's accounts and
//! folders, access configurations (policies + session duration), assignments of a
//! configuration to a user or group on an account, provisioning records and tasks, the
//! provider boundary to member accounts, and the reconciliation engine that keeps what is
//! provisioned and granted equal to what is assigned.
//!
//! - `records`: the stored records (configurations, assignments, provisionings, tasks,
//!   accounts, folders) and their enums.
//! - `accounts`: resource directory accounts and folders.
//! - `configs`: access configurations and their policies.
//! - `dependents`: what the directory must ask before deleting a directory, user or group.
//! - `system_policies`: the catalogue of system policies configurations may name.
//! - `assignments`: assignments, provisioning records and tasks (run against the provider).
//! - `provider`: the boundary to member accounts; the embedded and fault-injecting providers.
//! - `plan`: the pure planner (a user's facts -> the grants it must have).
//! - `engine`: the reconciliation loop over the outbox, and effective access.
//! - `metered`: a provider wrapper counting failed calls into the metrics.
//! - `ram_users`: the engine's RAM user half (provisionings -> RAM users in accounts).
//! - `user_provisioning`: RAM user provisionings of users and groups into accounts, and the
//!   directory's RAM user provisioning configuration (issue 14).
//! - `delegate`: CloudSSO's delegated administrator account (one member account at a time).
//!
//! Reads and writes go through the application's `store::Db` (one writer, one outbox); every
//! change appends its change event in the same transaction. Refusals are `error::DomainError`s
//! (the same error as the directory's), mapped to the API's codes in `api::error`.

pub mod accounts;
pub mod assignments;
pub mod configs;
pub mod delegate;
mod dependents;
pub mod engine;
pub mod metered;
pub mod plan;
pub mod provider;
pub mod ram_users;
pub mod records;
pub mod system_policies;
pub mod user_provisioning;

use crate::directory::Directory;
use crate::error::DomainError;
use crate::store::{Db, ReadTxn, WriteTxn};
use provider::{BoxFuture, EmbeddedProvider, Provider};
use std::sync::Arc;

/// Where the IdP metadata a directory's SAML providers are registered with comes from (the
/// sign-in wing's IdP keys), handed in by the composition root so `access` never imports
/// `signin`.
pub trait IdpMetadataSource: Send + Sync {
    /// The current metadata document of directory `dir` (keys made on first need).
    fn idp_metadata<'a>(&'a self, dir: &'a str) -> BoxFuture<'a, Result<String, DomainError>>;
}

/// What provisioned roles trust: the console's ACS (their trust policy's `saml:recipient`)
/// and the IdP metadata their account's SAML provider is registered with.
#[derive(Clone)]
pub struct ConsoleTrust {
    /// The ACS of the accounts' console site.
    pub recipient: String,
    /// `None`: providers are registered with empty metadata (they trust no certificate).
    pub metadata: Option<Arc<dyn IdpMetadataSource>>,
}

/// The recipient roles trust when no console is configured (Alibaba Cloud China's ACS).
pub const DEFAULT_SAML_RECIPIENT: &str = "https://signin.aliyun.com/saml-role/sso";

impl Default for ConsoleTrust {
    fn default() -> Self {
        ConsoleTrust {
            recipient: DEFAULT_SAML_RECIPIENT.to_owned(),
            metadata: None,
        }
    }
}

/// The access management service. Cheap to clone.
#[derive(Clone)]
pub struct Access {
    pub(crate) db: Db,
    pub(crate) dir: Directory,
    pub(crate) provider: Arc<dyn Provider>,
    /// The engine's place in the outbox (see `engine`).
    pub(crate) cursor: Arc<std::sync::Mutex<engine::Cursor>>,
    /// What provisioned roles and SAML providers trust.
    pub(crate) console: ConsoleTrust,
}

impl Access {
    /// Access management over the embedded account provider.
    pub fn new(dir: Directory) -> Access {
        let provider = Arc::new(EmbeddedProvider::new(dir.db().clone()));
        Self::with_provider(dir, provider)
    }

    /// Access management over another provider (a fault-injecting one in tests).
    pub fn with_provider(dir: Directory, provider: Arc<dyn Provider>) -> Access {
        Access {
            db: dir.db().clone(),
            dir,
            provider,
            cursor: Arc::default(),
            console: ConsoleTrust::default(),
        }
    }

    /// The same service with roles trusting `console` (the composition root sets it before
    /// handing clones out).
    pub fn with_console(mut self, console: ConsoleTrust) -> Access {
        self.console = console;
        self
    }

    /// The account provider (console sign-in reads roles and SAML providers from it).
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    /// The ACS provisioned roles trust (`saml:recipient`).
    pub fn saml_recipient(&self) -> &str {
        &self.console.recipient
    }

    /// The metadata directory `dir`'s SAML providers are registered with.
    pub async fn saml_metadata(&self, dir: &str) -> Result<String, DomainError> {
        match &self.console.metadata {
            Some(source) => source.idp_metadata(dir).await,
            None => Ok(String::new()),
        }
    }

    pub fn directory(&self) -> &Directory {
        &self.dir
    }

    /// A read on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ReadTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        self.db.read(f).await
    }

    /// A job in the next write batch (one writer, one outbox).
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&WriteTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        self.db.write(f).await
    }
}

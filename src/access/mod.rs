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
//!
//! Reads and writes go through the application's `store::Db` (one writer, one outbox); every
//! change appends its change event in the same transaction. Refusals are `error::DomainError`s
//! (the same error as the directory's), mapped to the API's codes in `api::error`.

pub mod accounts;
pub mod assignments;
pub mod configs;
mod dependents;
pub mod engine;
pub mod plan;
pub mod provider;
pub mod records;
pub mod system_policies;

use crate::directory::Directory;
use crate::error::DomainError;
use crate::store::{Db, ReadTxn, WriteTxn};
use provider::{EmbeddedProvider, Provider};
use std::sync::Arc;

/// The access management service. Cheap to clone.
#[derive(Clone)]
pub struct Access {
    pub(crate) db: Db,
    pub(crate) dir: Directory,
    pub(crate) provider: Arc<dyn Provider>,
    /// The engine's place in the outbox (see `engine`).
    pub(crate) cursor: Arc<std::sync::Mutex<engine::Cursor>>,
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

//! What access management keeps about a directory and its users and groups, answered for the
//! directory's deletions inside their own write transactions (`directory::Dependents`): a
//! user or group with access assignments or RAM user provisionings, a directory with access configurations.
//!
//! Must not decide anything about the directory's own rules (memberships, synchronization).

use super::Access;
use crate::directory::Dependents;
use crate::error::{Conflict, DomainError};
use crate::model::{PrincipalId, ResourceKind};
use crate::store::WriteTxn;
use crate::store::keys::Prefix;
use std::sync::Arc;

/// Access management's answer to the directory's deletion checks.
#[derive(Debug)]
struct AccessDependents;

impl Dependents for AccessDependents {
    fn check_principal(
        &self,
        txn: &WriteTxn,
        dir: &str,
        id: &PrincipalId,
    ) -> Result<(), DomainError> {
        let kind = id.kind();
        let (principal, what) = match kind {
            ResourceKind::User => ("User", "user"),
            ResourceKind::Group => ("Group", "group"),
        };
        let assigned = Prefix::AssignmentsOfPrincipal {
            dir,
            principal_type: principal,
            principal_id: id.as_str(),
        };
        if txn.any_under(assigned)? {
            return Err(DomainError::Conflict {
                rule: match kind {
                    ResourceKind::User => Conflict::UserAssigned,
                    ResourceKind::Group => Conflict::GroupAssigned,
                },
                message: format!("{what} `{id}` still has access assignments"),
            });
        }
        super::user_provisioning::check_principal(txn, dir, id)
    }

    fn check_directory(&self, txn: &WriteTxn, dir: &str) -> Result<(), DomainError> {
        if txn.any_under(Prefix::ConfigsIn { dir })? {
            return Err(DomainError::Conflict {
                rule: Conflict::DirectoryHasConfigurations,
                message: format!("directory `{dir}` still has access configurations"),
            });
        }
        Ok(())
    }
}

impl Access {
    /// What the directory must ask before it deletes a directory, a user or a group.
    pub fn dependents(&self) -> Arc<dyn Dependents> {
        Arc::new(AccessDependents)
    }
}

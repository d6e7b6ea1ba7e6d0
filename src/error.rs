//! The domain error shared by `directory`, `access` and `iam` (`DomainError`), the entities it
//! names (`Entity`) and the conflict rules it reports (`Conflict`). Each enum carries its
//! spellings in one table: the word human messages use, CloudSSO's code name and RAM's.
//!
//! Must not decide a wire status or build a wire code: `api::error` (CloudSSO and RAM) and
//! `http::error` (SCIM) map this error, each in one place.

use crate::model::ResourceKind;
use crate::scim::ScimError;
use crate::store::{JobError, StoreError, WriteError};

/// What a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A SCIM user of a directory.
    User,
    /// A SCIM group of a directory.
    Group,
    Directory,
    /// A directory's SCIM credential.
    ScimCredential,
    /// A user's membership of a group (management API).
    GroupMember,
    AccessConfiguration,
    AccessAssignment,
    /// A configuration provisioned on an account.
    AccessConfigurationProvisioning,
    Account,
    Folder,
    /// How deep folders nest.
    FolderDepth,
    Task,
    /// A policy of an access configuration (system or inline).
    PermissionPolicy,
    /// The system policies of an access configuration.
    SystemPolicy,
    /// The inline policy of an access configuration.
    InlinePolicy,
    /// A RAM administrator.
    AdminUser,
    /// An administrator's AccessKey pair.
    AccessKey,
    /// A RAM policy (system or custom).
    Policy,
    /// A policy attached to an administrator.
    PolicyAttachment,
    /// A user's TOTP device (sign-in).
    MfaDevice,
    /// A signing certificate of a directory's external SAML IdP.
    IdpCertificate,
    /// A RAM user provisioning (a user or group synchronized as RAM users into an account).
    UserProvisioning,
    /// A failure record of the engine's RAM user work.
    UserProvisioningEvent,
    /// CloudSSO's delegated administrator account.
    DelegateAccount,
}

/// Which of RAM's codes an entity is spelled in: RAM names some entities differently per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RamCode {
    /// `EntityNotExist.*`
    NotExist,
    /// `EntityAlreadyExists.*`
    AlreadyExists,
    /// `LimitExceeded.*`
    LimitExceeded,
}

impl From<ResourceKind> for Entity {
    fn from(kind: ResourceKind) -> Entity {
        match kind {
            ResourceKind::User => Entity::User,
            ResourceKind::Group => Entity::Group,
        }
    }
}

impl Entity {
    /// The word "not found" and "synchronized" messages use.
    pub fn word(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Directory => "directory",
            Entity::ScimCredential => "credential",
            Entity::AdminUser => "admin user",
            Entity::IdpCertificate => "IdP certificate",
            other => other.name(),
        }
    }

    /// CloudSSO's code name (`EntityNotExists.SCIMCredential`), also the spelling of "already
    /// exists" and "at most" messages.
    pub fn name(self) -> &'static str {
        match self {
            Entity::User | Entity::AdminUser => "User",
            Entity::Group => "Group",
            Entity::Directory => "Directory",
            Entity::ScimCredential => "SCIMCredential",
            Entity::GroupMember => "GroupMember",
            Entity::AccessConfiguration => "AccessConfiguration",
            Entity::AccessAssignment => "AccessAssignment",
            Entity::AccessConfigurationProvisioning => "AccessConfigurationProvisioning",
            Entity::Account => "Account",
            Entity::Folder => "Folder",
            Entity::FolderDepth => "Folder.Depth",
            Entity::Task => "Task",
            Entity::PermissionPolicy => "PermissionPolicy",
            Entity::SystemPolicy => "SystemPolicy",
            Entity::InlinePolicy => "InlinePolicy",
            Entity::AccessKey => "AccessKey",
            Entity::Policy => "Policy",
            Entity::PolicyAttachment => "Policy.Attachment",
            Entity::MfaDevice => "MFADevice",
            Entity::IdpCertificate => "ExternalSAMLIdPCertificate",
            Entity::UserProvisioning => "UserProvisioning",
            Entity::UserProvisioningEvent => "UserProvisioningEvent",
            Entity::DelegateAccount => "DelegateAccount",
        }
    }

    /// RAM's code name in `code`: an administrator is a `User`, its keys are the user's, and a
    /// missing or repeated attachment is the user's policy (a full list stays
    /// `LimitExceeded.Policy.Attachment`).
    pub fn ram(self, code: RamCode) -> &'static str {
        match (self, code) {
            (Entity::AdminUser, _) => "User",
            (Entity::AccessKey, RamCode::NotExist | RamCode::LimitExceeded) => "User.AccessKey",
            (Entity::PolicyAttachment, RamCode::NotExist | RamCode::AlreadyExists) => "User.Policy",
            (other, _) => other.name(),
        }
    }
}

/// A change refused because something still depends on its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A user still in groups.
    UserInGroups,
    /// A group that still has members.
    GroupHasMembers,
    /// A user with access assignments.
    UserAssigned,
    /// A group with access assignments.
    GroupAssigned,
    DirectoryHasUsers,
    DirectoryHasGroups,
    DirectoryHasConfigurations,
    /// An administrator that still has AccessKeys.
    AdminUserHasKeys,
    /// An administrator that still has attached policies.
    AdminUserHasPolicies,
    /// A custom policy still attached to an administrator.
    PolicyAttached,
    /// A task on the configuration and account still running.
    TaskRunning,
    /// A provisioning whose configuration is still assigned on the account.
    ProvisioningAssigned,
    /// An account that is the target of access assignments.
    AccountAssigned,
    /// An account with configurations provisioned on it.
    AccountProvisioned,
    ConfigurationAssigned,
    ConfigurationProvisioned,
    /// A configuration with a running task.
    ConfigurationBusy,
    /// A configuration that still has permission policies.
    ConfigurationHasPolicies,
    /// A password reset while the directory signs in through its IdP (SSO logon enabled),
    /// or a change to that IdP that SSO logon forbids (clearing it, removing its last
    /// certificate).
    SsoEnabled,
    /// A directory that still has an external SAML IdP configuration.
    DirectoryHasExternalIdp,
    /// A user with RAM user provisionings.
    UserProvisioned,
    /// A group with RAM user provisionings.
    GroupProvisioned,
    /// An account that is the target of RAM user provisionings.
    AccountHasUserProvisionings,
    /// An account that is CloudSSO's delegated administrator.
    AccountIsDelegate,
    /// Another account is already CloudSSO's delegated administrator (one at a time).
    DelegateAccountExists,
}

impl Conflict {
    /// CloudSSO's code.
    pub fn code(self) -> &'static str {
        match self {
            Conflict::UserInGroups => "DeletionConflict.User.Group",
            Conflict::GroupHasMembers => "DeletionConflict.Group.User",
            Conflict::UserAssigned => "DeletionConflict.User.AccessAssignment",
            Conflict::GroupAssigned => "DeletionConflict.Group.AccessAssignment",
            Conflict::DirectoryHasUsers => "DeletionConflict.Directory.User",
            Conflict::DirectoryHasGroups => "DeletionConflict.Directory.Group",
            Conflict::DirectoryHasConfigurations => {
                "DeletionConflict.Directory.AccessConfiguration"
            }
            Conflict::AdminUserHasKeys => "DeletionConflict.User.AccessKey",
            Conflict::AdminUserHasPolicies => "DeletionConflict.User.Policy",
            Conflict::PolicyAttached => "DeletionConflict.Policy.User",
            Conflict::TaskRunning => "OperationConflict.Task",
            Conflict::ProvisioningAssigned => {
                "DeletionConflict.AccessConfigurationProvisioning.AccessAssignment"
            }
            Conflict::AccountAssigned => "DeleteConflict.Account.AccessAssignment",
            Conflict::AccountProvisioned => {
                "DeleteConflict.Account.AccessConfigurationProvisioning"
            }
            Conflict::ConfigurationAssigned => {
                "DeletionConflict.AccessConfiguration.AccessAssignment"
            }
            Conflict::ConfigurationProvisioned => {
                "DeletionConflict.AccessConfiguration.Provisioning"
            }
            Conflict::ConfigurationBusy => "DeletionConflict.AccessConfiguration.Task",
            Conflict::ConfigurationHasPolicies => {
                "DeletionConflict.AccessConfiguration.PermissionPolicy"
            }
            Conflict::SsoEnabled => "OperationConflict.SSOLogonEnabled",
            Conflict::DirectoryHasExternalIdp => {
                "DeletionConflict.Directory.ExternalSAMLIdentityProvider"
            }
            Conflict::UserProvisioned => "DeletionConflict.User.UserProvisioning",
            Conflict::GroupProvisioned => "DeletionConflict.Group.UserProvisioning",
            Conflict::AccountHasUserProvisionings => "DeleteConflict.Account.UserProvisioning",
            Conflict::AccountIsDelegate => "DeleteConflict.Account.DelegateAccount",
            Conflict::DelegateAccountExists => "OperationConflict.DelegateAccount.Exists",
        }
    }

    /// RAM's code: RAM spells deletion conflicts `DeleteConflict.*`; the rest are CloudSSO's.
    pub fn ram_code(self) -> &'static str {
        match self {
            Conflict::UserInGroups => "DeleteConflict.User.Group",
            Conflict::GroupHasMembers => "DeleteConflict.Group.User",
            Conflict::UserAssigned => "DeleteConflict.User.AccessAssignment",
            Conflict::GroupAssigned => "DeleteConflict.Group.AccessAssignment",
            Conflict::DirectoryHasUsers => "DeleteConflict.Directory.User",
            Conflict::DirectoryHasGroups => "DeleteConflict.Directory.Group",
            Conflict::DirectoryHasConfigurations => "DeleteConflict.Directory.AccessConfiguration",
            Conflict::DirectoryHasExternalIdp => {
                "DeleteConflict.Directory.ExternalSAMLIdentityProvider"
            }
            Conflict::AdminUserHasKeys => "DeleteConflict.User.AccessKey",
            Conflict::AdminUserHasPolicies => "DeleteConflict.User.Policy",
            Conflict::PolicyAttached => "DeleteConflict.Policy.User",
            other => other.code(),
        }
    }
}

/// Failures of the domain modules, mapped to the wire by `api::error` and `http::error`.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error("{} `{id}` not found", .entity.word())]
    NotFound { entity: Entity, id: String },
    /// A SCIM `userName` or group `displayName` already taken (the message names it).
    #[error("{0}")]
    Uniqueness(String),
    #[error("`If-Match` does not match the current version {current}")]
    PreconditionFailed { current: String },
    #[error("missing, unknown, disabled or expired bearer token")]
    Unauthorized,
    #[error("SCIM synchronization is disabled for directory `{0}`")]
    SyncDisabled(String),
    /// A management API parameter is invalid.
    #[error("{param}: {message}")]
    Invalid {
        param: &'static str,
        message: String,
    },
    #[error("{} `{id}` already exists", .entity.name())]
    AlreadyExists { entity: Entity, id: String },
    #[error("at most {max} of {} are allowed", .entity.name())]
    Quota { entity: Entity, max: usize },
    /// A deletion or change refused because something still depends on the target.
    #[error("{message}")]
    Conflict { rule: Conflict, message: String },
    /// The object is synchronized from an identity provider: while SCIM synchronization is
    /// enabled, the management API may change its status only.
    #[error(
        "{} `{id}` is synchronized over SCIM and read-only while synchronization is enabled",
        .entity.word()
    )]
    Synchronized { entity: Entity, id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("internal: {0}")]
    Internal(String),
}

impl JobError for DomainError {
    fn poisons_batch(&self) -> bool {
        matches!(self, DomainError::Store(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each entity's spellings, as the wire has always read them.
    #[test]
    fn entity_spellings() {
        use RamCode::*;
        let cases = [
            (Entity::User, "user", "User", ["User", "User", "User"]),
            (
                Entity::Directory,
                "directory",
                "Directory",
                ["Directory"; 3],
            ),
            (
                Entity::ScimCredential,
                "credential",
                "SCIMCredential",
                ["SCIMCredential"; 3],
            ),
            (
                Entity::FolderDepth,
                "Folder.Depth",
                "Folder.Depth",
                ["Folder.Depth"; 3],
            ),
            (Entity::AdminUser, "admin user", "User", ["User"; 3]),
            (
                Entity::AccessKey,
                "AccessKey",
                "AccessKey",
                ["User.AccessKey", "AccessKey", "User.AccessKey"],
            ),
            (
                Entity::PolicyAttachment,
                "Policy.Attachment",
                "Policy.Attachment",
                ["User.Policy", "User.Policy", "Policy.Attachment"],
            ),
            (Entity::Policy, "Policy", "Policy", ["Policy"; 3]),
        ];
        for (entity, word, name, ram) in cases {
            let got = [
                entity.ram(NotExist),
                entity.ram(AlreadyExists),
                entity.ram(LimitExceeded),
            ];
            assert_eq!((entity.word(), entity.name(), got), (word, name, ram));
        }
    }

    #[test]
    fn messages_keep_their_words() {
        let cases = [
            (
                DomainError::NotFound {
                    entity: Entity::User,
                    id: "u-1".into(),
                },
                "user `u-1` not found",
            ),
            (
                DomainError::AlreadyExists {
                    entity: Entity::Directory,
                    id: "d".into(),
                },
                "Directory `d` already exists",
            ),
            (
                DomainError::Quota {
                    entity: Entity::ScimCredential,
                    max: 2,
                },
                "at most 2 of SCIMCredential are allowed",
            ),
            (
                DomainError::Synchronized {
                    entity: Entity::Group,
                    id: "g-1".into(),
                },
                "group `g-1` is synchronized over SCIM and read-only while synchronization is enabled",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn conflict_codes() {
        let cases = [
            (
                Conflict::UserInGroups,
                "DeletionConflict.User.Group",
                "DeleteConflict.User.Group",
            ),
            (
                Conflict::PolicyAttached,
                "DeletionConflict.Policy.User",
                "DeleteConflict.Policy.User",
            ),
            (
                Conflict::TaskRunning,
                "OperationConflict.Task",
                "OperationConflict.Task",
            ),
            (
                Conflict::AccountAssigned,
                "DeleteConflict.Account.AccessAssignment",
                "DeleteConflict.Account.AccessAssignment",
            ),
            (
                Conflict::AccountIsDelegate,
                "DeleteConflict.Account.DelegateAccount",
                "DeleteConflict.Account.DelegateAccount",
            ),
            (
                Conflict::DelegateAccountExists,
                "OperationConflict.DelegateAccount.Exists",
                "OperationConflict.DelegateAccount.Exists",
            ),
        ];
        for (rule, code, ram) in cases {
            assert_eq!((rule.code(), rule.ram_code()), (code, ram));
        }
    }
}

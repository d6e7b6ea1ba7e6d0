//! What access management stores, one record type per table (keyed by `store::keys`).

use crate::model::ResourceKind;
use serde::{Deserialize, Serialize};

/// A member account of the resource directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// 16 digits.
    pub id: String,
    pub display_name: String,
    /// `<prefix>@<resource directory id>.aliyunid.com`, unique in the resource directory
    /// (empty in records written before it was kept).
    #[serde(default)]
    pub account_name: String,
    /// The folder it is in (`fd-...`; the root folder when created without one).
    pub folder_id: String,
    pub created: String,
    pub modified: String,
}

/// The resource directory: made on first use, with its root folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDirectory {
    /// `rd-` and 6 alphanumerics.
    pub id: String,
    /// `r-` and 6 alphanumerics.
    pub root_folder_id: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// `fd-` and 10 alphanumerics (the root folder: `r-` and 6). The root folder is made on
    /// first use.
    pub id: String,
    pub name: String,
    /// `None` for the root folder.
    pub parent_id: Option<String>,
    pub created: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessConfiguration {
    /// `ac-` and 20 alphanumerics.
    pub id: String,
    pub directory_id: String,
    /// Up to 32 of `[A-Za-z0-9-]`, unique per directory.
    pub name: String,
    pub description: String,
    /// Seconds, 900 to 43,200.
    pub session_duration: u32,
    pub relay_state: String,
    /// Names of system policies (at most 20).
    pub system_policies: Vec<String>,
    /// The inline policy document, if any (validated by the policy engine).
    pub inline_policy: Option<String>,
    /// The inline policy's name (as the administrator gave it).
    #[serde(default)]
    pub inline_policy_name: String,
    /// When each policy was added: `System/<name>` or `Inline/<name>` -> time.
    #[serde(default)]
    pub policy_added: std::collections::BTreeMap<String, String>,
    /// Set when a policy change made existing provisionings stale
    /// (`ReprovisionRequired`); cleared when none is stale.
    pub status_notifications: Vec<String>,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub directory_id: String,
    pub config_id: String,
    pub account_id: String,
    pub principal_type: ResourceKind,
    pub principal_id: String,
    pub created: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProvisioningStatus {
    Provisioned,
    ReprovisionRequired,
    DeprovisionFailed,
}

impl ProvisioningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisioningStatus::Provisioned => "Provisioned",
            ProvisioningStatus::ReprovisionRequired => "ReprovisionRequired",
            ProvisioningStatus::DeprovisionFailed => "DeprovisionFailed",
        }
    }
}

/// One per (configuration, account) that has been provisioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provisioning {
    pub directory_id: String,
    pub config_id: String,
    pub account_id: String,
    pub status: ProvisioningStatus,
    pub updated: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskType {
    ProvisionAccessConfiguration,
    DeprovisionAccessConfiguration,
    CreateAccessAssignment,
    DeleteAccessAssignment,
}

impl TaskType {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskType::ProvisionAccessConfiguration => "ProvisionAccessConfiguration",
            TaskType::DeprovisionAccessConfiguration => "DeprovisionAccessConfiguration",
            TaskType::CreateAccessAssignment => "CreateAccessAssignment",
            TaskType::DeleteAccessAssignment => "DeleteAccessAssignment",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    InProgress,
    Success,
    Failed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::InProgress => "InProgress",
            TaskStatus::Success => "Success",
            TaskStatus::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// `t-` and 20 alphanumerics.
    pub id: String,
    pub directory_id: String,
    pub kind: TaskType,
    pub config_id: String,
    pub account_id: String,
    /// For assignment tasks: the principal.
    pub principal: Option<(ResourceKind, String)>,
    pub status: TaskStatus,
    pub failure_reason: Option<String>,
    pub created: String,
    pub finished: Option<String>,
}

/// What RAM user provisioning does when the account already has a RAM user of the name it
/// makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DuplicationStrategy {
    /// Both stay: the new RAM user is named `<name>_sso`.
    KeepBoth,
    /// The existing RAM user is taken over.
    TakeOver,
}

impl DuplicationStrategy {
    pub const ALL: [&'static str; 2] = ["KeepBoth", "TakeOver"];

    pub fn as_str(self) -> &'static str {
        match self {
            DuplicationStrategy::KeepBoth => "KeepBoth",
            DuplicationStrategy::TakeOver => "TakeOver",
        }
    }

    pub fn parse(s: &str) -> Option<DuplicationStrategy> {
        match s {
            "KeepBoth" => Some(DuplicationStrategy::KeepBoth),
            "TakeOver" => Some(DuplicationStrategy::TakeOver),
            _ => None,
        }
    }
}

/// What happens to the RAM users a provisioning made when it (or its user) goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeletionStrategy {
    /// They are deleted.
    Delete,
    /// They stay in the account (no longer kept in step).
    Keep,
}

impl DeletionStrategy {
    pub const ALL: [&'static str; 2] = ["Delete", "Keep"];

    pub fn as_str(self) -> &'static str {
        match self {
            DeletionStrategy::Delete => "Delete",
            DeletionStrategy::Keep => "Keep",
        }
    }

    pub fn parse(s: &str) -> Option<DeletionStrategy> {
        match s {
            "Delete" => Some(DeletionStrategy::Delete),
            "Keep" => Some(DeletionStrategy::Keep),
            _ => None,
        }
    }
}

/// A user or group whose users are synchronized as RAM users into an account. One per
/// (principal, account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProvisioning {
    /// `up-` and 20 alphanumerics.
    pub id: String,
    pub directory_id: String,
    pub principal_type: ResourceKind,
    pub principal_id: String,
    /// The target account (TargetType is always `RD-Account`).
    pub account_id: String,
    pub duplication: DuplicationStrategy,
    pub deletion: DeletionStrategy,
    pub description: String,
    /// `Enabled` (a provisioning is kept in step while it exists).
    pub enabled: bool,
    pub created: String,
    pub updated: String,
}

/// A directory's RAM user provisioning settings (the defaults until first updated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProvisioningConfig {
    pub directory_id: String,
    /// Hours, 1 to 24: how long a RAM user's console sign-in lasts.
    pub session_duration_hours: u32,
    /// Where a RAM user's console sign-in lands.
    pub default_landing_page: String,
    pub created: String,
    pub updated: String,
}

/// What a RAM user provisioning event was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventSource {
    /// Making the RAM user of a provisioned user.
    StartProvisioning,
    /// Removing (or keeping) the RAM users of a deleted provisioning.
    DeleteProvisioning,
    /// Making the RAM user of a member of a provisioned group.
    AddUserToGroup,
    /// Removing the RAM user of a user no longer reached (left the group, disabled).
    RemoveUserFromGroup,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::StartProvisioning => "StartProvisioning",
            EventSource::DeleteProvisioning => "DeleteProvisioning",
            EventSource::AddUserToGroup => "AddUserToGroup",
            EventSource::RemoveUserFromGroup => "RemoveUserFromGroup",
        }
    }
}

/// A failure of the engine's RAM user work: one per (provisioning, source) while it fails,
/// counted per failed pass, cleared by the first pass in which it no longer fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProvisioningEvent {
    /// `upe-` and 20 alphanumerics.
    pub id: String,
    pub directory_id: String,
    pub user_provisioning_id: String,
    pub source: EventSource,
    pub principal_type: ResourceKind,
    pub principal_id: String,
    pub account_id: String,
    pub duplication: DuplicationStrategy,
    pub deletion: DeletionStrategy,
    pub error_count: u32,
    /// The last failure (starting with CloudSSO's code when it has one).
    pub error_info: String,
    /// The DuplicationStrategy a retry asked for (used while the event is open).
    #[serde(default)]
    pub retry_duplication: Option<DuplicationStrategy>,
    pub created: String,
    pub updated: String,
    /// When the engine last tried.
    pub latest_async: String,
}

/// A deleted provisioning whose RAM users the engine has still to remove or keep: the
/// DeletionStrategy its deletion chose (the provisioning's own, or the one
/// `DeleteUserProvisioning` named). Gone once a pass has finished with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProvisioningRemoval {
    pub id: String,
    pub directory_id: String,
    pub account_id: String,
    pub deletion: DeletionStrategy,
    pub deleted: String,
}

/// CloudSSO's delegated administrator account: a member account of the resource directory
/// that may manage CloudSSO as the management account does. At most one at a time
/// (`access::delegate::DELEGATE_ACCOUNTS_MAX`); the record exists while it is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegateAccount {
    /// The member account's 16-digit id.
    pub account_id: String,
    /// When `EnableDelegateAccount` made it the delegate.
    pub enabled: String,
}

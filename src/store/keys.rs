//! The key layout of the record tables, typed: one key struct per table (what names one
//! record) and `Prefix` (every scan by a key's leading parts), with the transaction methods
//! that take them.
//!
//! Owns how a key is spelled on disk (`a\0b`, see `super::key`); callers name the parts and
//! never build a key string. Must not know the record value types (those belong to the modules
//! that store them) and must not change the bytes of a key: existing databases read the same.

use super::{ReadTxn, Records, StoreError, WriteTxn, key};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where one record lives: its table and its key. Made from a typed key below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    table: Records,
    key: String,
}

impl From<&Key> for Key {
    fn from(k: &Key) -> Key {
        k.clone()
    }
}

impl Key {
    /// The table and the key string, for the store's own record functions.
    pub(super) fn parts(self) -> (Records, String) {
        (self.table, self.key)
    }
}

fn at(table: Records, parts: &[&str]) -> Key {
    Key {
        table,
        key: key(parts),
    }
}

/// A resource directory member account: its 16-digit id.
#[derive(Debug, Clone, Copy)]
pub struct AccountKey<'a> {
    pub id: &'a str,
}

impl From<AccountKey<'_>> for Key {
    fn from(k: AccountKey<'_>) -> Key {
        at(Records::Accounts, &[k.id])
    }
}

/// A resource directory folder: its id.
#[derive(Debug, Clone, Copy)]
pub struct FolderKey<'a> {
    pub id: &'a str,
}

impl From<FolderKey<'_>> for Key {
    fn from(k: FolderKey<'_>) -> Key {
        at(Records::Folders, &[k.id])
    }
}

/// An installation fact, by its name (such as `account_id`).
#[derive(Debug, Clone, Copy)]
pub struct MetaKey<'a> {
    pub name: &'a str,
}

impl From<MetaKey<'_>> for Key {
    fn from(k: MetaKey<'_>) -> Key {
        at(Records::Meta, &[k.name])
    }
}

/// An access configuration: `dir\0id`.
#[derive(Debug, Clone, Copy)]
pub struct ConfigKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<ConfigKey<'_>> for Key {
    fn from(k: ConfigKey<'_>) -> Key {
        at(Records::AccessConfigs, &[k.dir, k.id])
    }
}

/// An access assignment: `dir\0config\0account\0principal type\0principal id`.
/// `principal_type` is the stored spelling, `User` or `Group`.
#[derive(Debug, Clone, Copy)]
pub struct AssignmentKey<'a> {
    pub dir: &'a str,
    pub config: &'a str,
    pub account: &'a str,
    pub principal_type: &'a str,
    pub principal_id: &'a str,
}

impl AssignmentKey<'_> {
    /// The same assignment's row in the by-principal index:
    /// `dir\0principal type\0principal id\0config\0account`.
    pub fn by_principal(self) -> Key {
        at(
            Records::AssignmentsByPrincipal,
            &[
                self.dir,
                self.principal_type,
                self.principal_id,
                self.config,
                self.account,
            ],
        )
    }
}

impl From<AssignmentKey<'_>> for Key {
    fn from(k: AssignmentKey<'_>) -> Key {
        at(
            Records::Assignments,
            &[k.dir, k.config, k.account, k.principal_type, k.principal_id],
        )
    }
}

/// A configuration's provisioning on an account: `dir\0config\0account`.
#[derive(Debug, Clone, Copy)]
pub struct ProvisioningKey<'a> {
    pub dir: &'a str,
    pub config: &'a str,
    pub account: &'a str,
}

impl From<ProvisioningKey<'_>> for Key {
    fn from(k: ProvisioningKey<'_>) -> Key {
        at(Records::Provisionings, &[k.dir, k.config, k.account])
    }
}

/// A provisioning task: `dir\0task id`.
#[derive(Debug, Clone, Copy)]
pub struct TaskKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<TaskKey<'_>> for Key {
    fn from(k: TaskKey<'_>) -> Key {
        at(Records::Tasks, &[k.dir, k.id])
    }
}

/// A role the embedded account provider keeps: `account\0role\0role name`.
#[derive(Debug, Clone, Copy)]
pub struct ProviderRoleKey<'a> {
    pub account: &'a str,
    pub role: &'a str,
}

impl From<ProviderRoleKey<'_>> for Key {
    fn from(k: ProviderRoleKey<'_>) -> Key {
        at(Records::ProviderRoles, &[k.account, "role", k.role])
    }
}

/// A SAML provider the embedded account provider keeps, in the roles' table:
/// `account\0saml\0provider name`.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSamlKey<'a> {
    pub account: &'a str,
    pub name: &'a str,
}

impl From<ProviderSamlKey<'_>> for Key {
    fn from(k: ProviderSamlKey<'_>) -> Key {
        at(Records::ProviderRoles, &[k.account, "saml", k.name])
    }
}

/// A RAM user the embedded account provider keeps, in the roles' table:
/// `account\0ramuser\0user name`.
#[derive(Debug, Clone, Copy)]
pub struct ProviderRamUserKey<'a> {
    pub account: &'a str,
    pub name: &'a str,
}

impl From<ProviderRamUserKey<'_>> for Key {
    fn from(k: ProviderRamUserKey<'_>) -> Key {
        at(Records::ProviderRoles, &[k.account, "ramuser", k.name])
    }
}

/// The account-level user-based SSO setting of the embedded account provider for the IdP of
/// one directory, in the roles' table: `account\0usersso\0dir`.
#[derive(Debug, Clone, Copy)]
pub struct ProviderUserSsoKey<'a> {
    pub account: &'a str,
    pub dir: &'a str,
}

impl From<ProviderUserSsoKey<'_>> for Key {
    fn from(k: ProviderUserSsoKey<'_>) -> Key {
        at(Records::ProviderRoles, &[k.account, "usersso", k.dir])
    }
}

/// The RAM user a directory user owns in an account, at the embedded account provider (the
/// by-owner index of `ProviderRamUserKey`): `dir\0user\0account` -> the RAM user's name.
#[derive(Debug, Clone, Copy)]
pub struct ProviderRamUserOwnerKey<'a> {
    pub dir: &'a str,
    pub user: &'a str,
    pub account: &'a str,
}

impl From<ProviderRamUserOwnerKey<'_>> for Key {
    fn from(k: ProviderRamUserOwnerKey<'_>) -> Key {
        at(
            Records::ProviderRamUsersByOwner,
            &[k.dir, k.user, k.account],
        )
    }
}

/// A user's grants at the embedded account provider: `dir\0user`.
#[derive(Debug, Clone, Copy)]
pub struct ProviderGrantKey<'a> {
    pub dir: &'a str,
    pub user: &'a str,
}

impl From<ProviderGrantKey<'_>> for Key {
    fn from(k: ProviderGrantKey<'_>) -> Key {
        at(Records::ProviderGrants, &[k.dir, k.user])
    }
}

/// A RAM user provisioning: `dir\0id`.
#[derive(Debug, Clone, Copy)]
pub struct UserProvisioningKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<UserProvisioningKey<'_>> for Key {
    fn from(k: UserProvisioningKey<'_>) -> Key {
        at(Records::UserProvisionings, &[k.dir, k.id])
    }
}

/// A RAM user provisioning's row by principal and target (the uniqueness of a principal on
/// an account): `dir\0principal type\0principal id\0account`. `principal_type` is the
/// stored spelling, `User` or `Group`.
#[derive(Debug, Clone, Copy)]
pub struct UserProvisioningTargetKey<'a> {
    pub dir: &'a str,
    pub principal_type: &'a str,
    pub principal_id: &'a str,
    pub account: &'a str,
}

impl From<UserProvisioningTargetKey<'_>> for Key {
    fn from(k: UserProvisioningTargetKey<'_>) -> Key {
        at(
            Records::UserProvisioningsByPrincipal,
            &[k.dir, k.principal_type, k.principal_id, k.account],
        )
    }
}

/// A RAM user provisioning event: `dir\0event id`.
#[derive(Debug, Clone, Copy)]
pub struct UserProvisioningEventKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<UserProvisioningEventKey<'_>> for Key {
    fn from(k: UserProvisioningEventKey<'_>) -> Key {
        at(Records::UserProvisioningEvents, &[k.dir, k.id])
    }
}

/// A deleted RAM user provisioning the engine has still to finish: `dir\0provisioning id`.
#[derive(Debug, Clone, Copy)]
pub struct UserProvisioningRemovalKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<UserProvisioningRemovalKey<'_>> for Key {
    fn from(k: UserProvisioningRemovalKey<'_>) -> Key {
        at(Records::UserProvisioningRemovals, &[k.dir, k.id])
    }
}

/// A directory's RAM user provisioning configuration: `dir`.
#[derive(Debug, Clone, Copy)]
pub struct UserProvisioningConfigKey<'a> {
    pub dir: &'a str,
}

impl From<UserProvisioningConfigKey<'_>> for Key {
    fn from(k: UserProvisioningConfigKey<'_>) -> Key {
        at(Records::UserProvisioningConfigs, &[k.dir])
    }
}

/// CloudSSO's delegated administrator account: its 16-digit id.
#[derive(Debug, Clone, Copy)]
pub struct DelegateAccountKey<'a> {
    pub account: &'a str,
}

impl From<DelegateAccountKey<'_>> for Key {
    fn from(k: DelegateAccountKey<'_>) -> Key {
        at(Records::DelegateAccounts, &[k.account])
    }
}

/// What the management API keeps about a user or group: `dir\0id`.
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfoKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<ResourceInfoKey<'_>> for Key {
    fn from(k: ResourceInfoKey<'_>) -> Key {
        at(Records::ResourceInfo, &[k.dir, k.id])
    }
}

/// An administrator, by name.
#[derive(Debug, Clone, Copy)]
pub struct AdminUserKey<'a> {
    pub name: &'a str,
}

impl From<AdminUserKey<'_>> for Key {
    fn from(k: AdminUserKey<'_>) -> Key {
        at(Records::AdminUsers, &[k.name])
    }
}

/// A custom administrator policy, by name.
#[derive(Debug, Clone, Copy)]
pub struct AdminPolicyKey<'a> {
    pub name: &'a str,
}

impl From<AdminPolicyKey<'_>> for Key {
    fn from(k: AdminPolicyKey<'_>) -> Key {
        at(Records::AdminPolicies, &[k.name])
    }
}

/// An AccessKey pair, by AccessKeyId.
#[derive(Debug, Clone, Copy)]
pub struct AccessKeyKey<'a> {
    pub id: &'a str,
}

impl From<AccessKeyKey<'_>> for Key {
    fn from(k: AccessKeyKey<'_>) -> Key {
        at(Records::AccessKeys, &[k.id])
    }
}

/// An OAuth access token for SCIM, by the SHA-256 hex of the token.
#[derive(Debug, Clone, Copy)]
pub struct OauthTokenKey<'a> {
    pub digest: &'a str,
}

impl From<OauthTokenKey<'_>> for Key {
    fn from(k: OauthTokenKey<'_>) -> Key {
        at(Records::OauthTokens, &[k.digest])
    }
}

/// A directory's sign-in settings: `dir`.
#[derive(Debug, Clone, Copy)]
pub struct SigninSettingsKey<'a> {
    pub dir: &'a str,
}

impl From<SigninSettingsKey<'_>> for Key {
    fn from(k: SigninSettingsKey<'_>) -> Key {
        at(Records::SigninSettings, &[k.dir])
    }
}

/// A user's sign-in state: `dir\0user`.
#[derive(Debug, Clone, Copy)]
pub struct SigninUserKey<'a> {
    pub dir: &'a str,
    pub user: &'a str,
}

impl From<SigninUserKey<'_>> for Key {
    fn from(k: SigninUserKey<'_>) -> Key {
        at(Records::SigninUsers, &[k.dir, k.user])
    }
}

/// A user's TOTP device: `dir\0user\0device`.
#[derive(Debug, Clone, Copy)]
pub struct MfaDeviceKey<'a> {
    pub dir: &'a str,
    pub user: &'a str,
    pub device: &'a str,
}

impl From<MfaDeviceKey<'_>> for Key {
    fn from(k: MfaDeviceKey<'_>) -> Key {
        at(Records::MfaDevices, &[k.dir, k.user, k.device])
    }
}

/// A portal session, by SHA-256 hex of its id.
#[derive(Debug, Clone, Copy)]
pub struct SessionKey<'a> {
    pub digest: &'a str,
}

impl From<SessionKey<'_>> for Key {
    fn from(k: SessionKey<'_>) -> Key {
        at(Records::Sessions, &[k.digest])
    }
}

/// A session's row in the by-user index: `dir\0user\0digest`.
#[derive(Debug, Clone, Copy)]
pub struct SessionByUserKey<'a> {
    pub dir: &'a str,
    pub user: &'a str,
    pub digest: &'a str,
}

impl From<SessionByUserKey<'_>> for Key {
    fn from(k: SessionByUserKey<'_>) -> Key {
        at(Records::SessionsByUser, &[k.dir, k.user, k.digest])
    }
}

/// A user's portal preferences: `dir\0user`.
#[derive(Debug, Clone, Copy)]
pub struct PortalPrefsKey<'a> {
    pub dir: &'a str,
    pub user: &'a str,
}

impl From<PortalPrefsKey<'_>> for Key {
    fn from(k: PortalPrefsKey<'_>) -> Key {
        at(Records::PortalPrefs, &[k.dir, k.user])
    }
}

/// A directory's SAML IdP keys: `dir`.
#[derive(Debug, Clone, Copy)]
pub struct IdpKeysKey<'a> {
    pub dir: &'a str,
}

impl From<IdpKeysKey<'_>> for Key {
    fn from(k: IdpKeysKey<'_>) -> Key {
        at(Records::IdpKeys, &[k.dir])
    }
}

/// A directory's external SAML IdP: `dir`.
#[derive(Debug, Clone, Copy)]
pub struct SamlIdpKey<'a> {
    pub dir: &'a str,
}

impl From<SamlIdpKey<'_>> for Key {
    fn from(k: SamlIdpKey<'_>) -> Key {
        at(Records::SamlIdps, &[k.dir])
    }
}

/// An AuthnRequest waiting for its answer: `dir\0request id`.
#[derive(Debug, Clone, Copy)]
pub struct SamlRequestKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<SamlRequestKey<'_>> for Key {
    fn from(k: SamlRequestKey<'_>) -> Key {
        at(Records::SamlRequests, &[k.dir, k.id])
    }
}

/// An accepted assertion id (replay guard): `dir\0assertion id`.
#[derive(Debug, Clone, Copy)]
pub struct SamlSeenKey<'a> {
    pub dir: &'a str,
    pub id: &'a str,
}

impl From<SamlSeenKey<'_>> for Key {
    fn from(k: SamlSeenKey<'_>) -> Key {
        at(Records::SamlSeen, &[k.dir, k.id])
    }
}

/// A device authorization: the SHA-256 hex of its device code.
#[derive(Debug, Clone, Copy)]
pub struct DeviceCodeKey<'a> {
    pub digest: &'a str,
}

impl From<DeviceCodeKey<'_>> for Key {
    fn from(k: DeviceCodeKey<'_>) -> Key {
        at(Records::DeviceCodes, &[k.digest])
    }
}

/// A device authorization by its user code: `dir\0user code`.
#[derive(Debug, Clone, Copy)]
pub struct DeviceUserCodeKey<'a> {
    pub dir: &'a str,
    pub code: &'a str,
}

impl From<DeviceUserCodeKey<'_>> for Key {
    fn from(k: DeviceUserCodeKey<'_>) -> Key {
        at(Records::DeviceUserCodes, &[k.dir, k.code])
    }
}

/// A CLI access token: the SHA-256 hex of the token.
#[derive(Debug, Clone, Copy)]
pub struct DeviceTokenKey<'a> {
    pub digest: &'a str,
}

impl From<DeviceTokenKey<'_>> for Key {
    fn from(k: DeviceTokenKey<'_>) -> Key {
        at(Records::DeviceTokens, &[k.digest])
    }
}

/// A CLI access token's row in the by-user index: `dir\0user\0digest`.
#[derive(Debug, Clone, Copy)]
pub struct DeviceTokenByUserKey<'a> {
    pub dir: &'a str,
    pub user: &'a str,
    pub digest: &'a str,
}

impl From<DeviceTokenByUserKey<'_>> for Key {
    fn from(k: DeviceTokenByUserKey<'_>) -> Key {
        at(Records::DeviceTokensByUser, &[k.dir, k.user, k.digest])
    }
}

/// Every scan by leading key parts: each variant names its table and the parts it fixes.
#[derive(Debug, Clone, Copy)]
pub enum Prefix<'a> {
    /// Every member account.
    AllAccounts,
    /// Every folder.
    AllFolders,
    /// Every assignment, of every directory.
    AllAssignments,
    /// Every provisioning, of every directory.
    AllProvisionings,
    /// Every task, of every directory.
    AllTasks,
    /// Every administrator.
    AllAdminUsers,
    /// Every custom administrator policy.
    AllAdminPolicies,
    /// Every AccessKey pair.
    AllAccessKeys,
    /// Every OAuth access token (the tail of each is its digest).
    AllOauthTokens,
    /// A directory's access configurations.
    ConfigsIn { dir: &'a str },
    /// A directory's assignments.
    AssignmentsIn { dir: &'a str },
    /// A directory's assignments, from the by-principal index (the same rows).
    PrincipalIndexIn { dir: &'a str },
    /// A configuration's assignments.
    AssignmentsOfConfig { dir: &'a str, config: &'a str },
    /// A configuration's assignments on one account.
    AssignmentsOnAccount {
        dir: &'a str,
        config: &'a str,
        account: &'a str,
    },
    /// A user's or group's assignments, from the by-principal index.
    AssignmentsOfPrincipal {
        dir: &'a str,
        principal_type: &'a str,
        principal_id: &'a str,
    },
    /// A directory's provisionings.
    ProvisioningsIn { dir: &'a str },
    /// A configuration's provisionings.
    ProvisioningsOfConfig { dir: &'a str, config: &'a str },
    /// A directory's tasks.
    TasksIn { dir: &'a str },
    /// The grants of a directory's users at the embedded account provider.
    GrantsIn { dir: &'a str },
    /// A user's TOTP devices.
    MfaDevicesOf { dir: &'a str, user: &'a str },
    /// A user's sessions, from the by-user index (the tail of each is the digest).
    SessionsOf { dir: &'a str, user: &'a str },
    /// A directory's sessions, from the by-user index.
    SessionsIn { dir: &'a str },
    /// A directory's users' sign-in state.
    SigninUsersIn { dir: &'a str },
    /// A directory's users' TOTP devices.
    MfaDevicesIn { dir: &'a str },
    /// A directory's users' portal preferences.
    PortalPrefsIn { dir: &'a str },
    /// Every session (for expiry sweeps).
    AllSessions,
    /// Every directory's sign-in settings (the tail is the directory id).
    AllSigninSettings,
    /// Every directory's IdP keys (the tail is the directory id).
    AllIdpKeys,
    /// Every directory's external SAML IdP (the tail is the directory id).
    AllSamlIdps,
    /// Every pending AuthnRequest (for expiry sweeps).
    AllSamlRequests,
    /// Every remembered assertion id (for expiry sweeps).
    AllSamlSeen,
    /// Every device authorization (the tail is the device code's digest).
    AllDeviceCodes,
    /// A directory's device authorizations by user code (the tail is the user code).
    DeviceUserCodesIn { dir: &'a str },
    /// Every CLI access token (the tail is its digest).
    AllDeviceTokens,
    /// A user's CLI access tokens, from the by-user index (the tail is the digest).
    DeviceTokensOf { dir: &'a str, user: &'a str },
    /// A directory's CLI access tokens, from the by-user index (tails `user\0digest`).
    DeviceTokensIn { dir: &'a str },
    /// Every RAM user provisioning, of every directory.
    AllUserProvisionings,
    /// A directory's RAM user provisioning events.
    UserProvisioningEventsIn { dir: &'a str },
    /// A directory's deleted RAM user provisionings the engine has still to finish.
    UserProvisioningRemovalsIn { dir: &'a str },
    /// The RAM users of an account at the embedded account provider.
    ProviderRamUsersIn { account: &'a str },
    /// The user-based SSO settings of an account at the embedded account provider (the tail
    /// is the directory).
    ProviderUserSsoIn { account: &'a str },
    /// The RAM users a directory user owns, from the by-owner index (the tail is the
    /// account, the value the name).
    ProviderRamUsersOf { dir: &'a str, user: &'a str },
    /// A directory's RAM user provisionings.
    UserProvisioningsIn { dir: &'a str },
    /// A user's or group's RAM user provisioning ids, from the by-principal index (the tail
    /// of each is the account).
    UserProvisioningsOfPrincipal {
        dir: &'a str,
        principal_type: &'a str,
        principal_id: &'a str,
    },
    /// Every delegated administrator account of CloudSSO.
    AllDelegateAccounts,
}

impl Prefix<'_> {
    /// The table and the key start (`parts\0`, or "" for a whole table) a scan reads.
    fn range(self) -> (Records, String) {
        let (table, parts): (Records, &[&str]) = match &self {
            Prefix::AllAccounts => (Records::Accounts, &[]),
            Prefix::AllFolders => (Records::Folders, &[]),
            Prefix::AllAssignments => (Records::Assignments, &[]),
            Prefix::AllProvisionings => (Records::Provisionings, &[]),
            Prefix::AllTasks => (Records::Tasks, &[]),
            Prefix::AllAdminUsers => (Records::AdminUsers, &[]),
            Prefix::AllAdminPolicies => (Records::AdminPolicies, &[]),
            Prefix::AllAccessKeys => (Records::AccessKeys, &[]),
            Prefix::AllOauthTokens => (Records::OauthTokens, &[]),
            Prefix::ConfigsIn { dir } => (Records::AccessConfigs, &[dir]),
            Prefix::AssignmentsIn { dir } => (Records::Assignments, &[dir]),
            Prefix::PrincipalIndexIn { dir } => (Records::AssignmentsByPrincipal, &[dir]),
            Prefix::AssignmentsOfConfig { dir, config } => (Records::Assignments, &[dir, config]),
            Prefix::AssignmentsOnAccount {
                dir,
                config,
                account,
            } => (Records::Assignments, &[dir, config, account]),
            Prefix::AssignmentsOfPrincipal {
                dir,
                principal_type,
                principal_id,
            } => (
                Records::AssignmentsByPrincipal,
                &[dir, principal_type, principal_id],
            ),
            Prefix::ProvisioningsIn { dir } => (Records::Provisionings, &[dir]),
            Prefix::ProvisioningsOfConfig { dir, config } => {
                (Records::Provisionings, &[dir, config])
            }
            Prefix::TasksIn { dir } => (Records::Tasks, &[dir]),
            Prefix::GrantsIn { dir } => (Records::ProviderGrants, &[dir]),
            Prefix::MfaDevicesOf { dir, user } => (Records::MfaDevices, &[dir, user]),
            Prefix::SessionsOf { dir, user } => (Records::SessionsByUser, &[dir, user]),
            Prefix::SessionsIn { dir } => (Records::SessionsByUser, &[dir]),
            Prefix::SigninUsersIn { dir } => (Records::SigninUsers, &[dir]),
            Prefix::MfaDevicesIn { dir } => (Records::MfaDevices, &[dir]),
            Prefix::PortalPrefsIn { dir } => (Records::PortalPrefs, &[dir]),
            Prefix::AllSessions => (Records::Sessions, &[]),
            Prefix::AllSigninSettings => (Records::SigninSettings, &[]),
            Prefix::AllIdpKeys => (Records::IdpKeys, &[]),
            Prefix::AllSamlIdps => (Records::SamlIdps, &[]),
            Prefix::AllSamlRequests => (Records::SamlRequests, &[]),
            Prefix::AllSamlSeen => (Records::SamlSeen, &[]),
            Prefix::AllDeviceCodes => (Records::DeviceCodes, &[]),
            Prefix::DeviceUserCodesIn { dir } => (Records::DeviceUserCodes, &[dir]),
            Prefix::AllDeviceTokens => (Records::DeviceTokens, &[]),
            Prefix::DeviceTokensOf { dir, user } => (Records::DeviceTokensByUser, &[dir, user]),
            Prefix::DeviceTokensIn { dir } => (Records::DeviceTokensByUser, &[dir]),
            Prefix::AllUserProvisionings => (Records::UserProvisionings, &[]),
            Prefix::UserProvisioningEventsIn { dir } => (Records::UserProvisioningEvents, &[dir]),
            Prefix::UserProvisioningRemovalsIn { dir } => {
                (Records::UserProvisioningRemovals, &[dir])
            }
            Prefix::ProviderRamUsersIn { account } => {
                (Records::ProviderRoles, &[account, "ramuser"])
            }
            Prefix::ProviderUserSsoIn { account } => {
                (Records::ProviderRoles, &[account, "usersso"])
            }
            Prefix::ProviderRamUsersOf { dir, user } => {
                (Records::ProviderRamUsersByOwner, &[dir, user])
            }
            Prefix::UserProvisioningsIn { dir } => (Records::UserProvisionings, &[dir]),
            Prefix::UserProvisioningsOfPrincipal {
                dir,
                principal_type,
                principal_id,
            } => (
                Records::UserProvisioningsByPrincipal,
                &[dir, principal_type, principal_id],
            ),
            Prefix::AllDelegateAccounts => (Records::DelegateAccounts, &[]),
        };
        if parts.is_empty() {
            return (table, String::new());
        }
        (table, format!("{}\0", key(parts)))
    }
}

/// Reading by typed key, for code that works in either kind of transaction.
pub trait KeyedRead {
    /// The record at `k`, if any.
    fn read_at<T: DeserializeOwned>(&self, k: impl Into<Key>) -> Result<Option<T>, StoreError>;
}

/// Typed-key reads shared by read and write transactions.
macro_rules! keyed_reads {
    ($txn:ty) => {
        impl $txn {
            /// The record at `k`, if any.
            pub fn get<T: DeserializeOwned>(
                &self,
                k: impl Into<Key>,
            ) -> Result<Option<T>, StoreError> {
                let k = k.into();
                self.record(k.table, &k.key)
            }

            /// The records under `p`, in key order.
            pub fn scan<T: DeserializeOwned>(&self, p: Prefix<'_>) -> Result<Vec<T>, StoreError> {
                let (table, start) = p.range();
                self.record_values(table, &start)
            }

            /// At most `limit` records under `p`, in key order.
            pub fn scan_at_most<T: DeserializeOwned>(
                &self,
                p: Prefix<'_>,
                limit: usize,
            ) -> Result<Vec<T>, StoreError> {
                let (table, start) = p.range();
                self.record_values_at_most(table, &start, limit)
            }

            /// The records under `p` with what follows the prefix in their keys (for
            /// `GrantsIn`, the user id), in key order.
            pub fn scan_tails<T: DeserializeOwned>(
                &self,
                p: Prefix<'_>,
            ) -> Result<Vec<(String, T)>, StoreError> {
                let (table, start) = p.range();
                Ok(self
                    .records(table, &start)?
                    .into_iter()
                    .map(|(k, v)| (k.get(start.len()..).unwrap_or_default().to_owned(), v))
                    .collect())
            }

            /// How many records are under `p`, counting at most `limit` (none is decoded).
            pub fn count_under(&self, p: Prefix<'_>, limit: usize) -> Result<usize, StoreError> {
                let (table, start) = p.range();
                self.count_records(table, &start, limit)
            }

            /// Whether any record is under `p` (none is decoded).
            pub fn any_under(&self, p: Prefix<'_>) -> Result<bool, StoreError> {
                let (table, start) = p.range();
                self.has_records(table, &start)
            }
        }
    };
}
keyed_reads!(ReadTxn);
keyed_reads!(WriteTxn);

impl WriteTxn {
    /// Stores `value` at `k`, replacing what was there.
    pub fn put<T: Serialize>(&self, k: impl Into<Key>, value: &T) -> Result<(), StoreError> {
        let k = k.into();
        self.put_record(k.table, &k.key, value)
    }

    /// Removes the record at `k`; whether it was there.
    pub fn delete(&self, k: impl Into<Key>) -> Result<bool, StoreError> {
        let k = k.into();
        self.delete_record(k.table, &k.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled(k: impl Into<Key>) -> (Records, String) {
        let k = k.into();
        (k.table, k.key)
    }

    #[test]
    fn keys_keep_their_on_disk_spelling() {
        let a = AssignmentKey {
            dir: "d",
            config: "c",
            account: "a",
            principal_type: "User",
            principal_id: "u",
        };
        assert_eq!(
            spelled(a),
            (Records::Assignments, "d\0c\0a\0User\0u".into())
        );
        assert_eq!(
            spelled(a.by_principal()),
            (Records::AssignmentsByPrincipal, "d\0User\0u\0c\0a".into())
        );
        let p = ProvisioningKey {
            dir: "d",
            config: "c",
            account: "a",
        };
        assert_eq!(spelled(p), (Records::Provisionings, "d\0c\0a".into()));
        assert_eq!(
            spelled(ConfigKey { dir: "d", id: "c" }),
            (Records::AccessConfigs, "d\0c".into())
        );
        assert_eq!(
            spelled(TaskKey { dir: "d", id: "t" }),
            (Records::Tasks, "d\0t".into())
        );
        let role = ProviderRoleKey {
            account: "a",
            role: "r",
        };
        assert_eq!(spelled(role), (Records::ProviderRoles, "a\0role\0r".into()));
        let saml = ProviderSamlKey {
            account: "a",
            name: "s",
        };
        assert_eq!(spelled(saml), (Records::ProviderRoles, "a\0saml\0s".into()));
        let grant = ProviderGrantKey {
            dir: "d",
            user: "u",
        };
        assert_eq!(spelled(grant), (Records::ProviderGrants, "d\0u".into()));
        let info = ResourceInfoKey { dir: "d", id: "u" };
        assert_eq!(spelled(info), (Records::ResourceInfo, "d\0u".into()));
        let account = AccountKey {
            id: "1000000000000001",
        };
        assert_eq!(
            spelled(account),
            (Records::Accounts, "1000000000000001".into())
        );
        assert_eq!(
            spelled(FolderKey { id: "fd-1" }),
            (Records::Folders, "fd-1".into())
        );
        let meta = MetaKey { name: "account_id" };
        assert_eq!(spelled(meta), (Records::Meta, "account_id".into()));
        let admin = AdminUserKey { name: "admin" };
        assert_eq!(spelled(admin), (Records::AdminUsers, "admin".into()));
        let policy = AdminPolicyKey { name: "p" };
        assert_eq!(spelled(policy), (Records::AdminPolicies, "p".into()));
        let key = AccessKeyKey { id: "LTAI1" };
        assert_eq!(spelled(key), (Records::AccessKeys, "LTAI1".into()));
        let token = OauthTokenKey { digest: "ab" };
        assert_eq!(spelled(token), (Records::OauthTokens, "ab".into()));
        let up = UserProvisioningKey { dir: "d", id: "up" };
        assert_eq!(spelled(up), (Records::UserProvisionings, "d\0up".into()));
        let by_target = UserProvisioningTargetKey {
            dir: "d",
            principal_type: "Group",
            principal_id: "g",
            account: "a",
        };
        assert_eq!(
            spelled(by_target),
            (
                Records::UserProvisioningsByPrincipal,
                "d\0Group\0g\0a".into()
            )
        );
        let ram_user = ProviderRamUserKey {
            account: "a",
            name: "n",
        };
        assert_eq!(
            spelled(ram_user),
            (Records::ProviderRoles, "a\0ramuser\0n".into())
        );
        let sso = ProviderUserSsoKey {
            account: "a",
            dir: "d",
        };
        assert_eq!(
            spelled(sso),
            (Records::ProviderRoles, "a\0usersso\0d".into())
        );
        let by_owner = ProviderRamUserOwnerKey {
            dir: "d",
            user: "u",
            account: "a",
        };
        assert_eq!(
            spelled(by_owner),
            (Records::ProviderRamUsersByOwner, "d\0u\0a".into())
        );
        let upe = UserProvisioningEventKey { dir: "d", id: "e" };
        assert_eq!(
            spelled(upe),
            (Records::UserProvisioningEvents, "d\0e".into())
        );
        let upr = UserProvisioningRemovalKey { dir: "d", id: "up" };
        assert_eq!(
            spelled(upr),
            (Records::UserProvisioningRemovals, "d\0up".into())
        );
        let upc = UserProvisioningConfigKey { dir: "d" };
        assert_eq!(spelled(upc), (Records::UserProvisioningConfigs, "d".into()));
        let delegate = DelegateAccountKey {
            account: "1000000000000001",
        };
        assert_eq!(
            spelled(delegate),
            (Records::DelegateAccounts, "1000000000000001".into())
        );
    }

    #[test]
    fn a_scan_reads_only_the_rows_under_its_prefix() {
        let tmp = tempfile::tempdir().unwrap();
        let store = super::super::Store::open(&tmp.path().join("keys.redb")).unwrap();
        let w = store.write().unwrap();
        for (dir, user) in [("d", "u1"), ("d", "u2"), ("d2", "u3")] {
            w.put(ProviderGrantKey { dir, user }, &user.to_owned())
                .unwrap();
        }
        assert!(
            w.delete(ProviderGrantKey {
                dir: "d",
                user: "u2"
            })
            .unwrap()
        );
        assert!(
            !w.delete(ProviderGrantKey {
                dir: "d",
                user: "u2"
            })
            .unwrap()
        );
        w.commit().unwrap();
        let r = store.read().unwrap();
        let tails = r
            .scan_tails::<String>(Prefix::GrantsIn { dir: "d" })
            .unwrap();
        assert_eq!(tails, vec![("u1".to_owned(), "u1".to_owned())]);
        assert_eq!(
            r.scan::<String>(Prefix::GrantsIn { dir: "d2" }).unwrap(),
            vec!["u3".to_owned()]
        );
        assert!(!r.any_under(Prefix::GrantsIn { dir: "d3" }).unwrap());
        let k = ProviderGrantKey {
            dir: "d2",
            user: "u3",
        };
        assert_eq!(r.get::<String>(k).unwrap(), Some("u3".to_owned()));
    }

    #[test]
    fn prefixes_end_at_a_part_boundary() {
        let cases = [
            (Prefix::AllAccounts, Records::Accounts, ""),
            (Prefix::AllFolders, Records::Folders, ""),
            (Prefix::AllAssignments, Records::Assignments, ""),
            (Prefix::AllProvisionings, Records::Provisionings, ""),
            (Prefix::AllTasks, Records::Tasks, ""),
            (Prefix::AllDelegateAccounts, Records::DelegateAccounts, ""),
            (
                Prefix::ConfigsIn { dir: "d" },
                Records::AccessConfigs,
                "d\0",
            ),
            (
                Prefix::AssignmentsIn { dir: "d" },
                Records::Assignments,
                "d\0",
            ),
            (
                Prefix::PrincipalIndexIn { dir: "d" },
                Records::AssignmentsByPrincipal,
                "d\0",
            ),
            (
                Prefix::AssignmentsOfConfig {
                    dir: "d",
                    config: "c",
                },
                Records::Assignments,
                "d\0c\0",
            ),
            (
                Prefix::AssignmentsOnAccount {
                    dir: "d",
                    config: "c",
                    account: "a",
                },
                Records::Assignments,
                "d\0c\0a\0",
            ),
            (
                Prefix::AssignmentsOfPrincipal {
                    dir: "d",
                    principal_type: "Group",
                    principal_id: "g",
                },
                Records::AssignmentsByPrincipal,
                "d\0Group\0g\0",
            ),
            (
                Prefix::ProvisioningsIn { dir: "d" },
                Records::Provisionings,
                "d\0",
            ),
            (
                Prefix::ProvisioningsOfConfig {
                    dir: "d",
                    config: "c",
                },
                Records::Provisionings,
                "d\0c\0",
            ),
            (Prefix::TasksIn { dir: "d" }, Records::Tasks, "d\0"),
            (
                Prefix::GrantsIn { dir: "d" },
                Records::ProviderGrants,
                "d\0",
            ),
        ];
        for (p, table, start) in cases {
            assert_eq!(p.range(), (table, start.to_owned()), "{p:?}");
        }
    }
}

//! redb storage: every table (declared once, in `tables`), transactions, indexes, the outbox.
//!
//! Owns the on-disk format. Callers see domain values (`serde_json::Value` documents, records,
//! `ChangeEvent`s) and never a redb type. Every value carries a format version byte.
//! Blocking: every call here does file IO and must run off the async executor.

pub mod audit;
pub mod backup;
mod db;
pub mod keys;
mod tables;
mod writer;

pub use db::{Db, JobError};
pub use writer::{Batch, WriteError, Writer};

use crate::model::ChangeEvent;
use crate::model::{ResourceKind, UserId};
use redb::{ReadableDatabase, ReadableMultimapTable, ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tables::*;

/// Storage failures. None of these is the client's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] redb::Error),
    #[error("corrupt record in `{table}`: {reason}")]
    Corrupt { table: &'static str, reason: String },
    /// A job's batch was rolled back (a storage error or a panic in one of its jobs).
    #[error("the write batch was rolled back")]
    RolledBack,
    /// A read did not finish (its thread panicked or was cancelled).
    #[error("a read was interrupted: {0}")]
    Interrupted(String),
}

macro_rules! into_db_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
into_db_error!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Version byte in front of every JSON value we store.
const FORMAT_V1: u8 = 1;

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_V1];
    // Serializing our own in-memory values to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, v);
    out
}

fn decode<T: for<'de> Deserialize<'de>>(
    table: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_V1, rest)) => serde_json::from_slice(rest).map_err(|e| StoreError::Corrupt {
            table,
            reason: e.to_string(),
        }),
        _ => Err(StoreError::Corrupt {
            table,
            reason: "unknown format version".into(),
        }),
    }
}

/// `a\0b`: composite keys sort by `a` then `b`; ids and names never contain NUL.
fn key(parts: &[&str]) -> String {
    parts.join("\0")
}

/// The half-open key range of every key that starts with `parts` followed by `\0`.
fn prefix_range(parts: &[&str]) -> (String, String) {
    let p = key(parts);
    (format!("{p}\0"), format!("{p}\u{1}"))
}

/// The index value of a name: unique case-insensitively.
pub fn fold_case(s: &str) -> String {
    s.to_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRecord {
    pub id: String,
    pub name: String,
    pub created: String,
    pub scim_sync_enabled: bool,
    /// Last change (name or synchronization status); absent until the first change.
    #[serde(default)]
    pub updated: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialStatus {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub id: String,
    /// `BearerToken` (the secret is the bearer token) or `OAuthClientSecret` (the secret
    /// authenticates client `id` at the token endpoint).
    #[serde(default)]
    pub kind: CredentialKind,
    pub directory_id: String,
    /// SHA-256 of the secret, hex. The secret itself is never stored.
    pub digest_hex: String,
    pub status: CredentialStatus,
    pub created: String,
    /// Unix seconds after which the credential is refused.
    pub expires_unix: i64,
    /// When it last opened a request (minute precision: recorded at most once a minute).
    #[serde(default)]
    pub last_used: Option<String>,
    /// For OAuth client secrets: lifetime of the access tokens issued, in minutes.
    #[serde(default)]
    pub token_ttl_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialKind {
    #[default]
    BearerToken,
    OAuthClientSecret,
}

/// Kinds of typed records kept by key, each in its own table. Their keys are spelled only by
/// `keys` (a typed key per table); a composite key is `a\0b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Records {
    /// Installation facts: "account_id".
    Meta,
    /// Administrator identities, by name.
    AdminUsers,
    /// Custom administrator policies, by name.
    AdminPolicies,
    /// AccessKey pairs (secrets sealed), by AccessKeyId.
    AccessKeys,
    /// What the management API keeps about a user or group beyond its SCIM document
    /// (provision type, description), by `dir\0id`. Removed with the resource.
    ResourceInfo,
    /// OAuth access tokens for SCIM, by SHA-256 hex of the token.
    OauthTokens,
    /// Resource directory member accounts, by 16-digit AccountId.
    Accounts,
    /// Resource directory folders, by FolderId.
    Folders,
    /// Access configurations, by `dir\0id`.
    AccessConfigs,
    /// Access assignments, by `dir\0configuration\0account\0principal type\0principal id`.
    Assignments,
    /// The same assignments by principal: `dir\0principal type\0principal id\0configuration\0account`.
    AssignmentsByPrincipal,
    /// Provisioning records, by `dir\0configuration\0account`.
    Provisionings,
    /// Provisioning tasks, by `dir\0task id`.
    Tasks,
    /// The embedded account provider's roles, by `account\0role name`.
    ProviderRoles,
    /// The embedded account provider's grants (who may use which role), by `dir\0user`.
    ProviderGrants,
    /// A directory's sign-in settings (password policy, MFA, login preference...), by `dir`.
    SigninSettings,
    /// A user's sign-in state (password age and history, failures, lockout, last TOTP step),
    /// by `dir\0user`.
    SigninUsers,
    /// A user's TOTP devices (secrets sealed), by `dir\0user\0device`.
    MfaDevices,
    /// Portal sessions, by SHA-256 hex of the session id.
    Sessions,
    /// The same sessions by user: `dir\0user\0digest`.
    SessionsByUser,
    /// A user's portal preferences (favourites, last used), by `dir\0user`.
    PortalPrefs,
    /// A directory's SAML IdP signing keys (sealed) and certificates, by `dir`.
    IdpKeys,
    /// A directory's external SAML IdP (SSO from the customer's IdP), by `dir`.
    SamlIdps,
    /// AuthnRequests sent and not yet answered (each used once), by `dir\0request id`.
    SamlRequests,
    /// Assertion ids accepted (the replay guard), each until it expires, by `dir\0assertion id`.
    SamlSeen,
    /// Device authorizations (the CLI sign-in), by SHA-256 hex of the device code.
    DeviceCodes,
    /// The same by user code: `dir\0user code` -> the device code's digest and end.
    DeviceUserCodes,
    /// Access tokens issued from device authorizations, by SHA-256 hex of the token.
    DeviceTokens,
    /// The same tokens by user: `dir\0user\0digest`.
    DeviceTokensByUser,
    /// RAM user provisionings, by `dir\0id`.
    UserProvisionings,
    /// The same provisionings' ids by principal and target:
    /// `dir\0principal type\0principal id\0account` -> id (one per principal and target).
    UserProvisioningsByPrincipal,
    /// A directory's RAM user provisioning configuration, by `dir`.
    UserProvisioningConfigs,
    /// Failures of the engine's RAM user work, by `dir\0event id`.
    UserProvisioningEvents,
    /// Deleted RAM user provisionings whose RAM users the engine has still to remove or keep
    /// (with the DeletionStrategy the deletion chose), by `dir\0provisioning id`.
    UserProvisioningRemovals,
    /// The embedded account provider's RAM users by owner: `dir\0user\0account` -> name.
    ProviderRamUsersByOwner,
    /// CloudSSO's delegated administrator accounts (at most one), by account id.
    DelegateAccounts,
}

impl Records {
    fn table(self) -> DocTable {
        match self {
            Records::Meta => META,
            Records::AdminUsers => ADMIN_USERS,
            Records::AdminPolicies => ADMIN_POLICIES,
            Records::AccessKeys => ACCESS_KEYS,
            Records::ResourceInfo => RESOURCE_INFO,
            Records::OauthTokens => OAUTH_TOKENS,
            Records::Accounts => RD_ACCOUNTS,
            Records::Folders => RD_FOLDERS,
            Records::AccessConfigs => ACCESS_CONFIGS,
            Records::Assignments => ASSIGNMENTS,
            Records::AssignmentsByPrincipal => ASSIGNMENTS_BY_PRINCIPAL,
            Records::Provisionings => PROVISIONINGS,
            Records::Tasks => TASKS,
            Records::ProviderRoles => PROVIDER_ROLES,
            Records::ProviderGrants => PROVIDER_GRANTS,
            Records::SigninSettings => SIGNIN_SETTINGS,
            Records::SigninUsers => SIGNIN_USERS,
            Records::MfaDevices => MFA_DEVICES,
            Records::Sessions => SESSIONS,
            Records::SessionsByUser => SESSIONS_BY_USER,
            Records::PortalPrefs => PORTAL_PREFS,
            Records::IdpKeys => IDP_KEYS,
            Records::SamlIdps => SAML_IDPS,
            Records::SamlRequests => SAML_REQUESTS,
            Records::SamlSeen => SAML_SEEN,
            Records::DeviceCodes => DEVICE_CODES,
            Records::DeviceUserCodes => DEVICE_USER_CODES,
            Records::DeviceTokens => DEVICE_TOKENS,
            Records::DeviceTokensByUser => DEVICE_TOKENS_BY_USER,
            Records::UserProvisionings => USER_PROVISIONINGS,
            Records::UserProvisioningsByPrincipal => USER_PROVISIONINGS_BY_PRINCIPAL,
            Records::UserProvisioningConfigs => USER_PROVISIONING_CONFIGS,
            Records::UserProvisioningEvents => USER_PROVISIONING_EVENTS,
            Records::UserProvisioningRemovals => USER_PROVISIONING_REMOVALS,
            Records::ProviderRamUsersByOwner => PROVIDER_RAM_USERS_BY_OWNER,
            Records::DelegateAccounts => DELEGATE_ACCOUNTS,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Records::Meta => "meta",
            Records::AdminUsers => "admin_users",
            Records::AdminPolicies => "admin_policies",
            Records::AccessKeys => "access_keys",
            Records::ResourceInfo => "resource_info",
            Records::OauthTokens => "oauth_tokens",
            Records::Accounts => "rd_accounts",
            Records::Folders => "rd_folders",
            Records::AccessConfigs => "access_configurations",
            Records::Assignments => "access_assignments",
            Records::AssignmentsByPrincipal => "access_assignments_by_principal",
            Records::Provisionings => "provisionings",
            Records::Tasks => "tasks",
            Records::ProviderRoles => "provider_roles",
            Records::ProviderGrants => "provider_grants",
            Records::SigninSettings => "signin_settings",
            Records::SigninUsers => "signin_users",
            Records::MfaDevices => "mfa_devices",
            Records::Sessions => "sessions",
            Records::SessionsByUser => "sessions_by_user",
            Records::PortalPrefs => "portal_prefs",
            Records::IdpKeys => "idp_keys",
            Records::SamlIdps => "saml_idps",
            Records::SamlRequests => "saml_requests",
            Records::SamlSeen => "saml_seen",
            Records::DeviceCodes => "device_codes",
            Records::DeviceUserCodes => "device_user_codes",
            Records::DeviceTokens => "device_tokens",
            Records::DeviceTokensByUser => "device_tokens_by_user",
            Records::UserProvisionings => "user_provisionings",
            Records::UserProvisioningsByPrincipal => "user_provisionings_by_principal",
            Records::UserProvisioningConfigs => "user_provisioning_configs",
            Records::UserProvisioningEvents => "user_provisioning_events",
            Records::UserProvisioningRemovals => "user_provisioning_removals",
            Records::ProviderRamUsersByOwner => "provider_ram_users_by_owner",
            Records::DelegateAccounts => "delegate_accounts",
        }
    }
}

/// What `add_member` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberWrite {
    Added,
    /// It was a member; its kind or display changed.
    Changed,
    Unchanged,
}

/// One membership row, seen from the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub kind: ResourceKind,
    /// The display name the client sent with the member, if any.
    pub display: Option<String>,
}

fn member_row(kind: ResourceKind, display: Option<&str>) -> Vec<u8> {
    let mut v = vec![kind_byte(kind)];
    v.extend_from_slice(display.unwrap_or_default().as_bytes());
    v
}

fn member_from_row(id: String, row: &[u8]) -> Member {
    let (kind, display) = match row.split_first() {
        Some((k, rest)) => (kind_of_byte(*k), String::from_utf8_lossy(rest).into_owned()),
        None => (ResourceKind::User, String::new()),
    };
    Member {
        id,
        kind,
        display: (!display.is_empty()).then_some(display),
    }
}

/// A membership row's kind byte: 0 user, 1 group.
fn kind_byte(kind: ResourceKind) -> u8 {
    match kind {
        ResourceKind::User => 0,
        ResourceKind::Group => 1,
    }
}

fn kind_of_byte(b: u8) -> ResourceKind {
    if b == 1 {
        ResourceKind::Group
    } else {
        ResourceKind::User
    }
}

/// The open database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<redb::Database>,
}

impl Store {
    /// Opens (creating if needed) the database file and every table, with the default page
    /// cache (`config::Limits::default().db_cache_bytes`).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_with_cache(path, crate::config::Limits::default().db_cache_bytes)
    }

    /// Opens the database with a page cache of at most `cache_bytes` (redb's own default is
    /// 1 GiB, which is most of a large directory's memory use).
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Store, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(cache_bytes)
            .create(path)?;
        let store = Store { db: Arc::new(db) };
        let w = store.write()?;
        tables::create_all(&w.0)?;
        w.commit()?;
        Ok(store)
    }

    pub fn read(&self) -> Result<ReadTxn, StoreError> {
        Ok(ReadTxn(self.db.begin_read()?))
    }

    /// A durable write transaction: `commit` returns after the data is on disk.
    pub fn write(&self) -> Result<WriteTxn, StoreError> {
        let mut txn = self.db.begin_write()?;
        // redb's default, said here: the commit returns only once the data is on disk.
        txn.set_durability(redb::Durability::Immediate)
            .map_err(|e| StoreError::Db(e.into()))?;
        Ok(WriteTxn(txn, audit::TxnNotes::default()))
    }
}

pub struct ReadTxn(redb::ReadTransaction);
/// A write transaction, with what the audit trail notes about it as it goes (see
/// `audit::TxnNotes`).
pub struct WriteTxn(redb::WriteTransaction, audit::TxnNotes);

fn docs_table(kind: ResourceKind) -> DocTable {
    match kind {
        ResourceKind::User => USERS,
        ResourceKind::Group => GROUPS,
    }
}
fn names_table(kind: ResourceKind) -> NameTable {
    match kind {
        ResourceKind::User => USER_NAMES,
        ResourceKind::Group => GROUP_NAMES,
    }
}
fn external_ids_table(kind: ResourceKind) -> MultiIndex {
    match kind {
        ResourceKind::User => USER_EXTERNAL_IDS,
        ResourceKind::Group => GROUP_EXTERNAL_IDS,
    }
}
fn count_key(kind: ResourceKind, dir: &str) -> String {
    match kind {
        ResourceKind::User => key(&[dir, "users"]),
        ResourceKind::Group => key(&[dir, "groups"]),
    }
}

/// Reads shared by read and write transactions (redb gives them different table types).
macro_rules! impl_reads {
    ($txn:ty) => {
        impl $txn {
            pub fn directory(&self, id: &str) -> Result<Option<DirectoryRecord>, StoreError> {
                let t = self.0.open_table(DIRECTORIES)?;
                t.get(id)?
                    .map(|v| decode("directories", v.value()))
                    .transpose()
            }

            pub fn directories(&self) -> Result<Vec<DirectoryRecord>, StoreError> {
                let t = self.0.open_table(DIRECTORIES)?;
                let mut out = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    out.push(decode("directories", v.value())?);
                }
                Ok(out)
            }

            pub fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
                let t = self.0.open_table(CREDENTIALS)?;
                t.get(id)?
                    .map(|v| decode("scim_credentials", v.value()))
                    .transpose()
            }

            pub fn credential_by_digest(
                &self,
                digest_hex: &str,
            ) -> Result<Option<CredentialRecord>, StoreError> {
                let id = {
                    let t = self.0.open_table(CREDENTIAL_DIGESTS)?;
                    match t.get(digest_hex)? {
                        Some(v) => v.value().to_owned(),
                        None => return Ok(None),
                    }
                };
                self.credential(&id)
            }

            pub fn credentials(&self, dir: &str) -> Result<Vec<CredentialRecord>, StoreError> {
                let t = self.0.open_table(CREDENTIALS)?;
                let mut out = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    let rec: CredentialRecord = decode("scim_credentials", v.value())?;
                    if rec.directory_id == dir {
                        out.push(rec);
                    }
                }
                Ok(out)
            }

            /// A stored document (without `members`/`groups`, which are rows).
            pub fn resource(
                &self,
                kind: ResourceKind,
                dir: &str,
                id: &str,
            ) -> Result<Option<Value>, StoreError> {
                let t = self.0.open_table(docs_table(kind))?;
                let k = key(&[dir, id]);
                t.get(k.as_str())?
                    .map(|v| decode("resources", v.value()))
                    .transpose()
            }

            /// A group's `displayName` alone, for a user's `groups[].display`: only that field is
            /// decoded, not the whole document.
            pub fn group_display(&self, dir: &str, id: &str) -> Result<Option<String>, StoreError> {
                #[derive(Deserialize)]
                struct Named {
                    #[serde(rename = "displayName")]
                    display_name: Option<String>,
                }
                let t = self.0.open_table(GROUPS)?;
                let k = key(&[dir, id]);
                Ok(t.get(k.as_str())?
                    .map(|v| decode::<Named>("resources", v.value()))
                    .transpose()?
                    .and_then(|n| n.display_name))
            }

            /// For each id: whether it is a user, and whether it is a group (two table opens
            /// for the whole list; documents are not decoded).
            pub fn kinds_of(
                &self,
                dir: &str,
                ids: &[&str],
            ) -> Result<Vec<(bool, bool)>, StoreError> {
                let users = self.0.open_table(USERS)?;
                let groups = self.0.open_table(GROUPS)?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let k = key(&[dir, id]);
                    out.push((
                        users.get(k.as_str())?.is_some(),
                        groups.get(k.as_str())?.is_some(),
                    ));
                }
                Ok(out)
            }

            /// Whether a resource exists (its document is not decoded).
            pub fn exists(
                &self,
                kind: ResourceKind,
                dir: &str,
                id: &str,
            ) -> Result<bool, StoreError> {
                let t = self.0.open_table(docs_table(kind))?;
                let k = key(&[dir, id]);
                Ok(t.get(k.as_str())?.is_some())
            }

            /// The id holding a unique name (userName or group displayName), case-folded.
            pub fn id_by_name(
                &self,
                kind: ResourceKind,
                dir: &str,
                name: &str,
            ) -> Result<Option<String>, StoreError> {
                let t = self.0.open_table(names_table(kind))?;
                let k = key(&[dir, &fold_case(name)]);
                Ok(t.get(k.as_str())?.map(|v| v.value().to_owned()))
            }

            pub fn ids_by_external_id(
                &self,
                kind: ResourceKind,
                dir: &str,
                external_id: &str,
            ) -> Result<Vec<String>, StoreError> {
                let t = self.0.open_multimap_table(external_ids_table(kind))?;
                let k = key(&[dir, external_id]);
                let mut out = Vec::new();
                for v in t.get(k.as_str())? {
                    out.push(v?.value().to_owned());
                }
                Ok(out)
            }

            pub fn user_ids_by_email(
                &self,
                dir: &str,
                email: &str,
            ) -> Result<Vec<String>, StoreError> {
                let t = self.0.open_multimap_table(USER_EMAILS)?;
                let k = key(&[dir, &fold_case(email)]);
                let mut out = Vec::new();
                for v in t.get(k.as_str())? {
                    out.push(v?.value().to_owned());
                }
                Ok(out)
            }

            /// Members of a group, in id order, at most `limit`.
            pub fn members(
                &self,
                dir: &str,
                group: &str,
                limit: usize,
            ) -> Result<Vec<Member>, StoreError> {
                let t = self.0.open_table(MEMBERS)?;
                let (lo, hi) = prefix_range(&[dir, group]);
                let mut out = Vec::new();
                for row in t.range(lo.as_str()..hi.as_str())?.take(limit) {
                    let (k, v) = row?;
                    let member = k.value().rsplit('\0').next().unwrap_or_default().to_owned();
                    out.push(member_from_row(member, v.value()));
                }
                Ok(out)
            }

            /// Groups a user or group is a direct member of, in id order.
            pub fn groups_of(&self, dir: &str, member: &str) -> Result<Vec<String>, StoreError> {
                let t = self.0.open_table(MEMBER_OF)?;
                let (lo, hi) = prefix_range(&[dir, member]);
                let mut out = Vec::new();
                for row in t.range(lo.as_str()..hi.as_str())? {
                    let (k, _) = row?;
                    out.push(k.value().rsplit('\0').next().unwrap_or_default().to_owned());
                }
                Ok(out)
            }

            /// Calls `f` with each document of a kind in a directory, in id order, until it
            /// returns false.
            pub fn for_each_resource(
                &self,
                kind: ResourceKind,
                dir: &str,
                mut f: impl FnMut(Value) -> bool,
            ) -> Result<(), StoreError> {
                let t = self.0.open_table(docs_table(kind))?;
                let (lo, hi) = prefix_range(&[dir]);
                for row in t.range(lo.as_str()..hi.as_str())? {
                    let (_, v) = row?;
                    if !f(decode("resources", v.value())?) {
                        break;
                    }
                }
                Ok(())
            }

            /// Up to `take` documents of a kind in a directory, in id order, after skipping
            /// `skip` (skipped rows are not decoded).
            pub fn resources_page(
                &self,
                kind: ResourceKind,
                dir: &str,
                skip: usize,
                take: usize,
            ) -> Result<Vec<Value>, StoreError> {
                let t = self.0.open_table(docs_table(kind))?;
                let (lo, hi) = prefix_range(&[dir]);
                let mut out = Vec::new();
                for row in t.range(lo.as_str()..hi.as_str())?.skip(skip).take(take) {
                    let (_, v) = row?;
                    out.push(decode("resources", v.value())?);
                }
                Ok(out)
            }

            /// Number of resources of a kind in a directory.
            pub fn count(&self, kind: ResourceKind, dir: &str) -> Result<u64, StoreError> {
                let t = self.0.open_table(COUNTERS)?;
                let k = count_key(kind, dir);
                Ok(t.get(k.as_str())?.map(|v| v.value()).unwrap_or(0))
            }

            pub fn password_hash(
                &self,
                dir: &str,
                user: &str,
            ) -> Result<Option<String>, StoreError> {
                let t = self.0.open_table(PASSWORDS)?;
                let k = key(&[dir, user]);
                Ok(t.get(k.as_str())?.map(|v| v.value().to_owned()))
            }

            /// The sequence number of the newest outbox event (0 when there is none).
            pub fn last_seq(&self) -> Result<u64, StoreError> {
                let t = self.0.open_table(COUNTERS)?;
                Ok(t.get("seq")?.map(|v| v.value()).unwrap_or(0))
            }

            /// Outbox events with `seq > after`, oldest first, at most `limit`.
            pub fn events_after(
                &self,
                after: u64,
                limit: usize,
            ) -> Result<Vec<ChangeEvent>, StoreError> {
                let t = self.0.open_table(OUTBOX)?;
                let mut out = Vec::new();
                for row in t.range(after.saturating_add(1)..)?.take(limit) {
                    let (_, v) = row?;
                    out.push(decode("outbox", v.value())?);
                }
                Ok(out)
            }

            /// A typed record by key.
            pub(crate) fn record<T: for<'de> Deserialize<'de>>(
                &self,
                kind: Records,
                k: &str,
            ) -> Result<Option<T>, StoreError> {
                let t = self.0.open_table(kind.table())?;
                t.get(k)?
                    .map(|v| decode(kind.name(), v.value()))
                    .transpose()
            }

            /// Every record whose key starts with `prefix` (all of them for ""), in key order.
            pub(crate) fn records<T: for<'de> Deserialize<'de>>(
                &self,
                kind: Records,
                prefix: &str,
            ) -> Result<Vec<(String, T)>, StoreError> {
                let t = self.0.open_table(kind.table())?;
                let mut out = Vec::new();
                for row in t.range(prefix..)? {
                    let (k, v) = row?;
                    if !k.value().starts_with(prefix) {
                        break;
                    }
                    out.push((k.value().to_owned(), decode(kind.name(), v.value())?));
                }
                Ok(out)
            }

            /// The values of at most `limit` records whose key starts with `prefix`, in key
            /// order.
            pub(crate) fn record_values_at_most<T: for<'de> Deserialize<'de>>(
                &self,
                kind: Records,
                prefix: &str,
                limit: usize,
            ) -> Result<Vec<T>, StoreError> {
                let t = self.0.open_table(kind.table())?;
                let mut out = Vec::new();
                for row in t.range(prefix..)?.take(limit) {
                    let (k, v) = row?;
                    if !k.value().starts_with(prefix) {
                        break;
                    }
                    out.push(decode(kind.name(), v.value())?);
                }
                Ok(out)
            }

            /// Whether any record of `kind` has a key starting with `prefix`.
            pub(crate) fn has_records(
                &self,
                kind: Records,
                prefix: &str,
            ) -> Result<bool, StoreError> {
                let t = self.0.open_table(kind.table())?;
                let first = t.range(prefix..)?.next().transpose()?;
                Ok(first.is_some_and(|(k, _)| k.value().starts_with(prefix)))
            }

            /// How many records of `kind` have a key starting with `prefix`, counting at most
            /// `limit` (none is decoded; a whole table is counted from its length).
            pub(crate) fn count_records(
                &self,
                kind: Records,
                prefix: &str,
                limit: usize,
            ) -> Result<usize, StoreError> {
                let t = self.0.open_table(kind.table())?;
                if prefix.is_empty() {
                    let n = usize::try_from(t.len()?).unwrap_or(usize::MAX);
                    return Ok(n.min(limit));
                }
                let mut n = 0;
                for row in t.range(prefix..)?.take(limit) {
                    let (k, _) = row?;
                    if !k.value().starts_with(prefix) {
                        break;
                    }
                    n += 1;
                }
                Ok(n)
            }

            /// The values of `records`, without their keys.
            pub(crate) fn record_values<T: for<'de> Deserialize<'de>>(
                &self,
                kind: Records,
                prefix: &str,
            ) -> Result<Vec<T>, StoreError> {
                Ok(self
                    .records(kind, prefix)?
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect())
            }

            pub fn events_len(&self) -> Result<u64, StoreError> {
                Ok(self.0.open_table(OUTBOX)?.len()?)
            }
        }

        impl keys::KeyedRead for $txn {
            fn read_at<T: for<'de> Deserialize<'de>>(
                &self,
                k: impl Into<keys::Key>,
            ) -> Result<Option<T>, StoreError> {
                let (table, key) = k.into().parts();
                self.record(table, &key)
            }
        }
    };
}
impl_reads!(ReadTxn);
impl_reads!(WriteTxn);

/// Index keys derived from a user document.
fn user_index_keys(doc: &Value) -> (Option<String>, Option<String>, Vec<String>) {
    let name = doc.get("userName").and_then(Value::as_str).map(fold_case);
    let ext = doc
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut emails: Vec<String> = doc
        .get("emails")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("value").and_then(Value::as_str))
                .map(fold_case)
                .collect()
        })
        .unwrap_or_default();
    emails.sort();
    emails.dedup();
    (name, ext, emails)
}

fn group_index_keys(doc: &Value) -> (Option<String>, Option<String>, Vec<String>) {
    let name = doc
        .get("displayName")
        .and_then(Value::as_str)
        .map(fold_case);
    let ext = doc
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (name, ext, Vec::new())
}

fn index_keys(kind: ResourceKind, doc: &Value) -> (Option<String>, Option<String>, Vec<String>) {
    match kind {
        ResourceKind::User => user_index_keys(doc),
        ResourceKind::Group => group_index_keys(doc),
    }
}

impl WriteTxn {
    /// Makes the transaction's writes durable.
    pub fn commit(self) -> Result<(), StoreError> {
        self.0.commit()?;
        Ok(())
    }

    pub fn put_directory(&self, rec: &DirectoryRecord) -> Result<(), StoreError> {
        let mut t = self.0.open_table(DIRECTORIES)?;
        t.insert(rec.id.as_str(), encode(rec).as_slice())?;
        Ok(())
    }

    pub fn put_credential(&self, rec: &CredentialRecord) -> Result<(), StoreError> {
        let mut t = self.0.open_table(CREDENTIALS)?;
        t.insert(rec.id.as_str(), encode(rec).as_slice())?;
        let mut d = self.0.open_table(CREDENTIAL_DIGESTS)?;
        d.insert(rec.digest_hex.as_str(), rec.id.as_str())?;
        Ok(())
    }

    pub(crate) fn put_record<T: Serialize>(
        &self,
        kind: Records,
        k: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.0
            .open_table(kind.table())?
            .insert(k, encode(value).as_slice())?;
        Ok(())
    }

    /// Removes a record; whether it was there.
    pub(crate) fn delete_record(&self, kind: Records, k: &str) -> Result<bool, StoreError> {
        Ok(self.0.open_table(kind.table())?.remove(k)?.is_some())
    }

    /// Removes a directory record (the caller has checked it holds no users or groups).
    pub fn delete_directory(&self, id: &str) -> Result<(), StoreError> {
        self.0.open_table(DIRECTORIES)?.remove(id)?;
        let mut t = self.0.open_table(COUNTERS)?;
        t.remove(key(&[id, "users"]).as_str())?;
        t.remove(key(&[id, "groups"]).as_str())?;
        Ok(())
    }

    pub fn delete_credential(&self, rec: &CredentialRecord) -> Result<(), StoreError> {
        self.0.open_table(CREDENTIALS)?.remove(rec.id.as_str())?;
        self.0
            .open_table(CREDENTIAL_DIGESTS)?
            .remove(rec.digest_hex.as_str())?;
        Ok(())
    }

    /// Stores a document and keeps its indexes (unique name, externalId, emails) and the
    /// per-directory count in step. `old` is the document being replaced, if any.
    // INVARIANT: the caller has checked uniqueness; this only writes.
    pub fn put_resource(
        &self,
        kind: ResourceKind,
        dir: &str,
        id: &str,
        old: Option<&Value>,
        doc: &Value,
    ) -> Result<(), StoreError> {
        let (old_name, old_ext, old_emails) = old.map(|o| index_keys(kind, o)).unwrap_or_default();
        let (name, ext, emails) = index_keys(kind, doc);
        {
            let mut names = self.0.open_table(names_table(kind))?;
            if old_name != name {
                if let Some(n) = &old_name {
                    names.remove(key(&[dir, n]).as_str())?;
                }
                if let Some(n) = &name {
                    names.insert(key(&[dir, n]).as_str(), id)?;
                }
            }
        }
        if old_ext != ext {
            let mut exts = self.0.open_multimap_table(external_ids_table(kind))?;
            if let Some(e) = &old_ext {
                exts.remove(key(&[dir, e]).as_str(), id)?;
            }
            if let Some(e) = &ext {
                exts.insert(key(&[dir, e]).as_str(), id)?;
            }
        }
        if old_emails != emails {
            let mut t = self.0.open_multimap_table(USER_EMAILS)?;
            for e in old_emails.iter().filter(|e| !emails.contains(e)) {
                t.remove(key(&[dir, e]).as_str(), id)?;
            }
            for e in emails.iter().filter(|e| !old_emails.contains(e)) {
                t.insert(key(&[dir, e]).as_str(), id)?;
            }
        }
        let mut docs = self.0.open_table(docs_table(kind))?;
        docs.insert(key(&[dir, id]).as_str(), encode(doc).as_slice())?;
        if old.is_none() {
            self.add_count(kind, dir, 1)?;
        }
        Ok(())
    }

    /// Removes a document, its indexes, its password and every membership row it is part of
    /// (as a group and as a member). Returns the groups it was removed from.
    pub fn delete_resource(
        &self,
        kind: ResourceKind,
        dir: &str,
        id: &str,
        old: &Value,
    ) -> Result<Vec<String>, StoreError> {
        let (name, ext, emails) = index_keys(kind, old);
        if let Some(n) = name {
            self.0
                .open_table(names_table(kind))?
                .remove(key(&[dir, &n]).as_str())?;
        }
        if let Some(e) = ext {
            self.0
                .open_multimap_table(external_ids_table(kind))?
                .remove(key(&[dir, &e]).as_str(), id)?;
        }
        if !emails.is_empty() {
            let mut t = self.0.open_multimap_table(USER_EMAILS)?;
            for e in &emails {
                t.remove(key(&[dir, e]).as_str(), id)?;
            }
        }
        self.0
            .open_table(docs_table(kind))?
            .remove(key(&[dir, id]).as_str())?;
        self.0
            .open_table(PASSWORDS)?
            .remove(key(&[dir, id]).as_str())?;
        self.0
            .open_table(RESOURCE_INFO)?
            .remove(key(&[dir, id]).as_str())?;
        self.add_count(kind, dir, -1)?;
        // Rows where it is the group.
        if kind == ResourceKind::Group {
            let members = self.members(dir, id, usize::MAX)?;
            let mut m = self.0.open_table(MEMBERS)?;
            let mut r = self.0.open_table(MEMBER_OF)?;
            for member in members {
                m.remove(key(&[dir, id, &member.id]).as_str())?;
                r.remove(key(&[dir, &member.id, id]).as_str())?;
            }
        }
        // Rows where it is the member.
        let groups = self.groups_of(dir, id)?;
        {
            let mut m = self.0.open_table(MEMBERS)?;
            let mut r = self.0.open_table(MEMBER_OF)?;
            for g in &groups {
                m.remove(key(&[dir, g, id]).as_str())?;
                r.remove(key(&[dir, id, g]).as_str())?;
            }
        }
        Ok(groups)
    }

    fn add_count(&self, kind: ResourceKind, dir: &str, delta: i64) -> Result<(), StoreError> {
        let mut t = self.0.open_table(COUNTERS)?;
        let k = count_key(kind, dir);
        let cur = t.get(k.as_str())?.map(|v| v.value()).unwrap_or(0);
        let next = cur.saturating_add_signed(delta);
        t.insert(k.as_str(), next)?;
        Ok(())
    }

    /// Adds membership rows (both directions), or updates their display; one outcome a row.
    pub fn add_members(
        &self,
        dir: &str,
        group: &str,
        rows: &[(&str, ResourceKind, Option<&str>)],
    ) -> Result<Vec<MemberWrite>, StoreError> {
        let mut m = self.0.open_table(MEMBERS)?;
        let mut r = self.0.open_table(MEMBER_OF)?;
        let mut out = Vec::with_capacity(rows.len());
        for (member, kind, display) in rows {
            let row = member_row(*kind, *display);
            let before = m
                .insert(key(&[dir, group, member]).as_str(), row.as_slice())?
                .map(|old| old.value() == row.as_slice());
            out.push(match before {
                None => MemberWrite::Added,
                Some(true) => MemberWrite::Unchanged,
                Some(false) => MemberWrite::Changed,
            });
            r.insert(key(&[dir, member, group]).as_str(), kind_byte(*kind))?;
        }
        Ok(out)
    }

    /// Removes membership rows (both directions); for each, whether it was there.
    pub fn remove_members(
        &self,
        dir: &str,
        group: &str,
        members: &[&str],
    ) -> Result<Vec<bool>, StoreError> {
        let mut m = self.0.open_table(MEMBERS)?;
        let mut r = self.0.open_table(MEMBER_OF)?;
        let mut out = Vec::with_capacity(members.len());
        for member in members {
            out.push(m.remove(key(&[dir, group, member]).as_str())?.is_some());
            r.remove(key(&[dir, member, group]).as_str())?;
        }
        Ok(out)
    }

    pub fn set_password_hash(&self, dir: &str, user: &UserId, phc: &str) -> Result<(), StoreError> {
        self.0
            .open_table(PASSWORDS)?
            .insert(key(&[dir, user.as_str()]).as_str(), phc)?;
        Ok(())
    }

    /// Allocates the next sequence number (shared by the outbox and resource versions).
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        let mut t = self.0.open_table(COUNTERS)?;
        let cur = t.get("seq")?.map(|v| v.value()).unwrap_or(0);
        let next = cur.saturating_add(1);
        t.insert("seq", next)?;
        Ok(next)
    }

    /// Appends an event to the outbox under its own `seq` (from `next_seq`).
    pub fn append_event(&self, event: &ChangeEvent) -> Result<(), StoreError> {
        let mut t = self.0.open_table(OUTBOX)?;
        t.insert(event.seq, encode(event).as_slice())?;
        self.1.note_event(event);
        Ok(())
    }
}

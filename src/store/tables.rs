//! Every redb table cloudsso uses, declared once. Composite keys are `part\0part[\0part]`.

use super::StoreError;
use redb::{MultimapTableDefinition, TableDefinition};

pub(super) type DocTable = TableDefinition<'static, &'static str, &'static [u8]>;
pub(super) type NameTable = TableDefinition<'static, &'static str, &'static str>;
pub(super) type MultiIndex = MultimapTableDefinition<'static, &'static str, &'static str>;

/// directory id -> DirectoryRecord
pub(super) const DIRECTORIES: DocTable = TableDefinition::new("directories");
/// credential id -> CredentialRecord
pub(super) const CREDENTIALS: DocTable = TableDefinition::new("scim_credentials");
/// SHA-256 hex of a secret -> credential id
pub(super) const CREDENTIAL_DIGESTS: NameTable = TableDefinition::new("scim_credential_digests");
/// dir\0id -> user document
pub(super) const USERS: DocTable = TableDefinition::new("users");
/// dir\0id -> group document (never its members)
pub(super) const GROUPS: DocTable = TableDefinition::new("groups");
/// dir\0lowercase userName -> id (unique)
pub(super) const USER_NAMES: NameTable = TableDefinition::new("idx_user_name");
/// dir\0lowercase displayName -> id (unique)
pub(super) const GROUP_NAMES: NameTable = TableDefinition::new("idx_group_name");
/// dir\0externalId -> ids
pub(super) const USER_EXTERNAL_IDS: MultiIndex =
    MultimapTableDefinition::new("idx_user_external_id");
pub(super) const GROUP_EXTERNAL_IDS: MultiIndex =
    MultimapTableDefinition::new("idx_group_external_id");
/// dir\0lowercase emails.value -> user ids
pub(super) const USER_EMAILS: MultiIndex = MultimapTableDefinition::new("idx_user_email");
/// dir\0group\0member -> member kind byte (0 user, 1 group) then the client's display, UTF-8
pub(super) const MEMBERS: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("members");
/// dir\0member\0group -> member kind: the reverse of MEMBERS
pub(super) const MEMBER_OF: TableDefinition<'static, &'static str, u8> =
    TableDefinition::new("member_of");
/// dir\0user -> argon2 PHC string
pub(super) const PASSWORDS: NameTable = TableDefinition::new("passwords");
/// seq -> ChangeEvent
pub(super) const OUTBOX: TableDefinition<'static, u64, &'static [u8]> =
    TableDefinition::new("outbox");
/// "seq" -> last sequence number; dir\0users, dir\0groups -> counts
pub(super) const COUNTERS: TableDefinition<'static, &'static str, u64> =
    TableDefinition::new("counters");

/// audit record number -> AuditRecord (JSON with a format byte), in append order
pub(super) const AUDIT: TableDefinition<'static, u64, &'static [u8]> =
    TableDefinition::new("audit");

/// Typed records by key, one table per kind (see `Records`): JSON with a format byte.
pub(super) const META: DocTable = TableDefinition::new("meta");
pub(super) const ADMIN_USERS: DocTable = TableDefinition::new("admin_users");
pub(super) const ADMIN_POLICIES: DocTable = TableDefinition::new("admin_policies");
pub(super) const ACCESS_KEYS: DocTable = TableDefinition::new("access_keys");
pub(super) const RESOURCE_INFO: DocTable = TableDefinition::new("resource_info");
pub(super) const OAUTH_TOKENS: DocTable = TableDefinition::new("oauth_tokens");
pub(super) const RD_ACCOUNTS: DocTable = TableDefinition::new("rd_accounts");
pub(super) const RD_FOLDERS: DocTable = TableDefinition::new("rd_folders");
pub(super) const ACCESS_CONFIGS: DocTable = TableDefinition::new("access_configurations");
pub(super) const ASSIGNMENTS: DocTable = TableDefinition::new("access_assignments");
pub(super) const ASSIGNMENTS_BY_PRINCIPAL: DocTable =
    TableDefinition::new("access_assignments_by_principal");
pub(super) const PROVISIONINGS: DocTable = TableDefinition::new("provisionings");
pub(super) const TASKS: DocTable = TableDefinition::new("tasks");
pub(super) const PROVIDER_ROLES: DocTable = TableDefinition::new("provider_roles");
pub(super) const PROVIDER_GRANTS: DocTable = TableDefinition::new("provider_grants");
pub(super) const SIGNIN_SETTINGS: DocTable = TableDefinition::new("signin_settings");
pub(super) const SIGNIN_USERS: DocTable = TableDefinition::new("signin_users");
pub(super) const MFA_DEVICES: DocTable = TableDefinition::new("mfa_devices");
pub(super) const SESSIONS: DocTable = TableDefinition::new("sessions");
pub(super) const SESSIONS_BY_USER: DocTable = TableDefinition::new("sessions_by_user");
pub(super) const PORTAL_PREFS: DocTable = TableDefinition::new("portal_prefs");
pub(super) const IDP_KEYS: DocTable = TableDefinition::new("idp_keys");
pub(super) const SAML_IDPS: DocTable = TableDefinition::new("saml_idps");
pub(super) const SAML_REQUESTS: DocTable = TableDefinition::new("saml_requests");
pub(super) const SAML_SEEN: DocTable = TableDefinition::new("saml_seen");
pub(super) const DEVICE_CODES: DocTable = TableDefinition::new("device_codes");
pub(super) const DEVICE_USER_CODES: DocTable = TableDefinition::new("device_user_codes");
pub(super) const DEVICE_TOKENS: DocTable = TableDefinition::new("device_tokens");
pub(super) const DEVICE_TOKENS_BY_USER: DocTable = TableDefinition::new("device_tokens_by_user");
pub(super) const USER_PROVISIONINGS: DocTable = TableDefinition::new("user_provisionings");
pub(super) const USER_PROVISIONINGS_BY_PRINCIPAL: DocTable =
    TableDefinition::new("user_provisionings_by_principal");
pub(super) const USER_PROVISIONING_CONFIGS: DocTable =
    TableDefinition::new("user_provisioning_configs");
pub(super) const USER_PROVISIONING_EVENTS: DocTable =
    TableDefinition::new("user_provisioning_events");
pub(super) const USER_PROVISIONING_REMOVALS: DocTable =
    TableDefinition::new("user_provisioning_removals");
pub(super) const PROVIDER_RAM_USERS_BY_OWNER: DocTable =
    TableDefinition::new("provider_ram_users_by_owner");
pub(super) const DELEGATE_ACCOUNTS: DocTable = TableDefinition::new("delegate_accounts");

/// Something done to each table in turn (`every_table`).
pub(super) trait EveryTable {
    type Error;
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), Self::Error>;
    fn multimap<K: redb::Key + 'static, V: redb::Key + 'static>(
        &mut self,
        def: MultimapTableDefinition<'static, K, V>,
    ) -> Result<(), Self::Error>;
}

/// INVARIANT: names every table declared here (backup's `snapshot` refuses a database holding
/// another, and a unit test there compares this list with a populated database's).
pub(super) fn every_table<V: EveryTable>(v: &mut V) -> Result<(), V::Error> {
    for t in [
        DIRECTORIES,
        CREDENTIALS,
        USERS,
        GROUPS,
        META,
        ADMIN_USERS,
        ADMIN_POLICIES,
        ACCESS_KEYS,
        RESOURCE_INFO,
        OAUTH_TOKENS,
        RD_ACCOUNTS,
        RD_FOLDERS,
        ACCESS_CONFIGS,
        ASSIGNMENTS,
        ASSIGNMENTS_BY_PRINCIPAL,
        PROVISIONINGS,
        TASKS,
        PROVIDER_ROLES,
        PROVIDER_GRANTS,
        SIGNIN_SETTINGS,
        SIGNIN_USERS,
        MFA_DEVICES,
        SESSIONS,
        SESSIONS_BY_USER,
        PORTAL_PREFS,
        IDP_KEYS,
        SAML_IDPS,
        SAML_REQUESTS,
        SAML_SEEN,
        DEVICE_CODES,
        DEVICE_USER_CODES,
        DEVICE_TOKENS,
        DEVICE_TOKENS_BY_USER,
        USER_PROVISIONINGS,
        USER_PROVISIONINGS_BY_PRINCIPAL,
        USER_PROVISIONING_CONFIGS,
        USER_PROVISIONING_EVENTS,
        USER_PROVISIONING_REMOVALS,
        PROVIDER_RAM_USERS_BY_OWNER,
        DELEGATE_ACCOUNTS,
        MEMBERS,
    ] {
        v.table(t)?;
    }
    for t in [CREDENTIAL_DIGESTS, USER_NAMES, GROUP_NAMES, PASSWORDS] {
        v.table(t)?;
    }
    for t in [USER_EXTERNAL_IDS, GROUP_EXTERNAL_IDS, USER_EMAILS] {
        v.multimap(t)?;
    }
    v.table(MEMBER_OF)?;
    v.table(OUTBOX)?;
    v.table(AUDIT)?;
    v.table(COUNTERS)
}

struct Creator<'a>(&'a redb::WriteTransaction);

impl EveryTable for Creator<'_> {
    type Error = StoreError;
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), StoreError> {
        self.0.open_table(def)?;
        Ok(())
    }
    fn multimap<K: redb::Key + 'static, V: redb::Key + 'static>(
        &mut self,
        def: MultimapTableDefinition<'static, K, V>,
    ) -> Result<(), StoreError> {
        self.0.open_multimap_table(def)?;
        Ok(())
    }
}

/// Opens every table once so that read transactions never meet a missing table.
pub(super) fn create_all(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    every_table(&mut Creator(txn))
}

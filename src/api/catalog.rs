//! Every operation the management API answers, as data: product, name, what it does, and its
//! parameters. The dispatcher checks required parameters from here; the CLI builds its
//! subcommands from here. Adding an operation is a row here and its handler in `api::ops` (a
//! test fails while either lacks the other). Pure data: must not import directory, store or
//! http.

use super::protocol::{
    ACTIONTRAIL_VERSION, CLOUDSSO_VERSION, RAM_VERSION, RESOURCE_MANAGER_VERSION, STS_VERSION,
};

/// The API an operation belongs to; its version names it on the wire, its namespace names
/// its actions (`cloudsso:GetUser`, `ram:CreateUser`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    CloudSso,
    Ram,
    ResourceManager,
    /// The audit trail, in ActionTrail's shape.
    ActionTrail,
    /// Alibaba's Security Token Service: who signed a request.
    Sts,
}

impl Product {
    pub fn of_version(version: &str) -> Option<Product> {
        match version {
            CLOUDSSO_VERSION => Some(Product::CloudSso),
            RAM_VERSION => Some(Product::Ram),
            RESOURCE_MANAGER_VERSION => Some(Product::ResourceManager),
            ACTIONTRAIL_VERSION => Some(Product::ActionTrail),
            STS_VERSION => Some(Product::Sts),
            _ => None,
        }
    }
    pub fn version(self) -> &'static str {
        match self {
            Product::CloudSso => CLOUDSSO_VERSION,
            Product::Ram => RAM_VERSION,
            Product::ResourceManager => RESOURCE_MANAGER_VERSION,
            Product::ActionTrail => ACTIONTRAIL_VERSION,
            Product::Sts => STS_VERSION,
        }
    }
    pub fn namespace(self) -> &'static str {
        match self {
            Product::CloudSso => "cloudsso",
            Product::Ram => "ram",
            Product::ResourceManager => "resourcemanager",
            Product::ActionTrail => "actiontrail",
            Product::Sts => "sts",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub help: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub product: Product,
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
}

const fn req(name: &'static str, help: &'static str) -> Param {
    Param {
        name,
        required: true,
        help,
    }
}

const fn opt(name: &'static str, help: &'static str) -> Param {
    Param {
        name,
        required: false,
        help,
    }
}

pub(crate) const DIR: Param = req("DirectoryId", "directory id (d-...)");
const USER: Param = req("UserId", "user id (u-...)");
const GROUP: Param = req("GroupId", "group id (g-...)");
pub(crate) const MAX_RESULTS: Param = opt("MaxResults", "page size, 1 to 100 (default 10)");
pub(crate) const NEXT_TOKEN: Param = opt(
    "NextToken",
    "token of the next page, from the previous answer",
);
const RAM_USER: Param = req("UserName", "administrator name");
const POLICY_TYPE: Param = req("PolicyType", "System or Custom");
const POLICY_NAME: Param = req("PolicyName", "policy name");

const fn sso(name: &'static str, summary: &'static str, params: &'static [Param]) -> Operation {
    Operation {
        product: Product::CloudSso,
        name,
        summary,
        params,
    }
}

const fn ram(name: &'static str, summary: &'static str, params: &'static [Param]) -> Operation {
    Operation {
        product: Product::Ram,
        name,
        summary,
        params,
    }
}

const fn rm(name: &'static str, summary: &'static str, params: &'static [Param]) -> Operation {
    Operation {
        product: Product::ResourceManager,
        name,
        summary,
        params,
    }
}

const ACCOUNT: Param = req("AccountId", "member account id (16 digits)");
const PARENT_FOLDER: Param = opt(
    "ParentFolderId",
    "parent folder id (r-... or fd-...; default: the root folder)",
);
const PAGE_NUMBER: Param = opt("PageNumber", "page number, from 1 (default 1)");
const PAGE_SIZE: Param = opt("PageSize", "page size, 1 to 100 (default 10)");

pub static OPERATIONS: &[Operation] = &[
    // Directories.
    sso(
        "CreateDirectory",
        "Create a directory",
        &[opt(
            "DirectoryName",
            "unique name, 2 to 64 characters of a-z, 0-9 and -",
        )],
    ),
    sso("GetDirectory", "Show a directory", &[DIR]),
    sso("ListDirectories", "List directories", &[]),
    sso(
        "UpdateDirectory",
        "Rename a directory",
        &[DIR, req("NewDirectoryName", "new unique name")],
    ),
    sso(
        "DeleteDirectory",
        "Delete a directory with no users or groups",
        &[DIR],
    ),
    sso(
        "GetDirectoryStatistics",
        "Count a directory's users, groups and credentials",
        &[DIR],
    ),
    // Users.
    sso(
        "CreateUser",
        "Create a user (ProvisionType Manual)",
        &[
            DIR,
            req(
                "UserName",
                "unique name, up to 64 characters of letters, digits, _-.@",
            ),
            opt("DisplayName", "display name, up to 256 characters"),
            opt("FirstName", "first name, up to 64 characters"),
            opt("LastName", "last name, up to 64 characters"),
            opt("Email", "email address"),
            opt("Status", "Enabled (default) or Disabled"),
            opt("Description", "up to 1,024 characters"),
        ],
    ),
    sso("GetUser", "Show a user", &[DIR, USER]),
    sso(
        "ListUsers",
        "List users",
        &[
            DIR,
            opt("Filter", "UserName eq \"x\" or UserName sw \"x\""),
            opt("Status", "Enabled or Disabled"),
            opt("ProvisionType", "Manual or Synchronized"),
            MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "UpdateUser",
        "Change a user's names, email or description",
        &[
            DIR,
            USER,
            opt("NewDisplayName", "new display name"),
            opt("NewFirstName", "new first name"),
            opt("NewLastName", "new last name"),
            opt("NewEmail", "new email address"),
            opt("NewDescription", "new description"),
        ],
    ),
    sso(
        "UpdateUserStatus",
        "Enable or disable a user",
        &[DIR, USER, req("NewStatus", "Enabled or Disabled")],
    ),
    sso("DeleteUser", "Delete a user", &[DIR, USER]),
    sso(
        "GetUserId",
        "Find a user by its SCIM externalId",
        &[
            DIR,
            req("ExternalId", "JSON: {\"Id\": \"...\", \"Issuer\": \"...\"}"),
        ],
    ),
    // Portal sessions (cloudsso's own operations).
    sso(
        "ListUserSessions",
        "List a user's portal sessions (cloudsso)",
        &[DIR, USER],
    ),
    sso(
        "RevokeUserSessions",
        "End a user's portal sessions, all or one (cloudsso)",
        &[
            DIR,
            USER,
            opt(
                "SessionId",
                "one session, as ListUserSessions names it (default: all)",
            ),
        ],
    ),
    // Groups.
    sso(
        "CreateGroup",
        "Create a group (ProvisionType Manual)",
        &[
            DIR,
            req("GroupName", "unique name, up to 128 characters"),
            opt("Description", "up to 1,024 characters"),
        ],
    ),
    sso("GetGroup", "Show a group", &[DIR, GROUP]),
    sso(
        "ListGroups",
        "List groups",
        &[
            DIR,
            opt("Filter", "GroupName eq \"x\" or GroupName sw \"x\""),
            opt("ProvisionType", "Manual or Synchronized"),
            MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "UpdateGroup",
        "Rename a group or change its description",
        &[
            DIR,
            GROUP,
            opt("NewGroupName", "new unique name"),
            opt("NewDescription", "new description"),
        ],
    ),
    sso("DeleteGroup", "Delete a group", &[DIR, GROUP]),
    sso(
        "AddUserToGroup",
        "Add a user to a group",
        &[DIR, GROUP, USER],
    ),
    sso(
        "RemoveUserFromGroup",
        "Remove a user from a group",
        &[DIR, GROUP, USER],
    ),
    sso(
        "ListGroupMembers",
        "List a group's users",
        &[DIR, GROUP, MAX_RESULTS, NEXT_TOKEN],
    ),
    sso(
        "ListJoinedGroupsForUser",
        "List the groups a user is in",
        &[DIR, USER, MAX_RESULTS, NEXT_TOKEN],
    ),
    // SCIM.
    sso(
        "CreateSCIMServerCredential",
        "Create a SCIM credential (at most 2 per directory); its secret is shown once",
        &[
            DIR,
            opt(
                "CredentialType",
                "BearerToken (default) or OAuthClientSecret (cloudsso extension)",
            ),
            opt(
                "ExpireTime",
                "expiry, 1 day to 3 years ahead, e.g. 2027-01-01T00:00:00Z (default: one year)",
            ),
            opt(
                "TokenValidityMinutes",
                "OAuthClientSecret only: access token lifetime, 60 to 360 (default 60)",
            ),
        ],
    ),
    sso(
        "ListSCIMServerCredentials",
        "List a directory's SCIM credentials",
        &[DIR],
    ),
    sso(
        "UpdateSCIMServerCredentialStatus",
        "Enable or disable a SCIM credential",
        &[
            DIR,
            req("CredentialId", "credential id (scimcred-...)"),
            req("NewStatus", "Enabled or Disabled"),
        ],
    ),
    sso(
        "DeleteSCIMServerCredential",
        "Delete a SCIM credential",
        &[DIR, req("CredentialId", "credential id (scimcred-...)")],
    ),
    sso(
        "SetSCIMSynchronizationStatus",
        "Enable or disable SCIM synchronization",
        &[DIR, req("SCIMSynchronizationStatus", "Enabled or Disabled")],
    ),
    sso(
        "GetSCIMSynchronizationStatus",
        "Show whether SCIM synchronization is enabled",
        &[DIR],
    ),
    // Administrators (RAM).
    ram(
        "CreateUser",
        "Create an administrator",
        &[
            RAM_USER,
            opt("DisplayName", "display name"),
            opt("Comments", "comments"),
            opt(
                "AccountId",
                "cloudsso's extension: the administrator's home account, a member account of the resource directory (default: the management account); it administers CloudSSO only while that account is the delegated administrator",
            ),
        ],
    ),
    ram("GetUser", "Show an administrator", &[RAM_USER]),
    ram("ListUsers", "List administrators", &[]),
    ram(
        "DeleteUser",
        "Delete an administrator without AccessKeys or policies",
        &[RAM_USER],
    ),
    ram(
        "CreateAccessKey",
        "Create an AccessKey pair (at most 2); the secret is shown once",
        &[RAM_USER],
    ),
    ram(
        "ListAccessKeys",
        "List an administrator's AccessKeys",
        &[RAM_USER],
    ),
    ram(
        "UpdateAccessKey",
        "Activate or deactivate an AccessKey",
        &[
            RAM_USER,
            req("UserAccessKeyId", "AccessKeyId"),
            req("Status", "Active or Inactive"),
        ],
    ),
    ram(
        "DeleteAccessKey",
        "Delete an AccessKey",
        &[RAM_USER, req("UserAccessKeyId", "AccessKeyId")],
    ),
    ram(
        "CreatePolicy",
        "Create a custom policy",
        &[
            POLICY_NAME,
            req("PolicyDocument", "the policy document (JSON)"),
            opt("Description", "description"),
        ],
    ),
    ram("GetPolicy", "Show a policy", &[POLICY_NAME, POLICY_TYPE]),
    ram(
        "ListPolicies",
        "List policies",
        &[opt("PolicyType", "System or Custom")],
    ),
    ram(
        "DeletePolicy",
        "Delete a custom policy attached to nobody",
        &[POLICY_NAME],
    ),
    ram(
        "AttachPolicyToUser",
        "Attach a policy to an administrator",
        &[POLICY_TYPE, POLICY_NAME, RAM_USER],
    ),
    ram(
        "DetachPolicyFromUser",
        "Detach a policy from an administrator",
        &[POLICY_TYPE, POLICY_NAME, RAM_USER],
    ),
    ram(
        "ListPoliciesForUser",
        "List an administrator's policies",
        &[RAM_USER],
    ),
];

/// CloudSSO access configurations and their permission policies.
pub static ACCESS_CONFIGURATION_OPERATIONS: &[Operation] = &[
    sso(
        "CreateAccessConfiguration",
        "Create an access configuration",
        &[
            DIR,
            req(
                "AccessConfigurationName",
                "unique name, up to 32 of A-Z a-z 0-9 -",
            ),
            opt("Description", "up to 1,024 characters"),
            opt("SessionDuration", "seconds, 900 to 43,200 (default 3,600)"),
            opt("RelayState", "the console page to land on"),
        ],
    ),
    sso(
        "GetAccessConfiguration",
        "Show an access configuration",
        &[DIR, AC],
    ),
    sso(
        "ListAccessConfigurations",
        "List access configurations",
        &[
            DIR,
            opt("Filter", "AccessConfigurationName eq|sw \"x\""),
            opt(
                "StatusNotifications",
                "ReprovisionRequired: only stale ones",
            ),
            MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "UpdateAccessConfiguration",
        "Change an access configuration's description, session duration or relay state",
        &[
            DIR,
            AC,
            opt("NewDescription", "new description"),
            opt("NewSessionDuration", "seconds, 900 to 43,200"),
            opt("NewRelayState", "new relay state"),
        ],
    ),
    sso(
        "DeleteAccessConfiguration",
        "Delete an access configuration that is neither assigned nor provisioned",
        &[
            DIR,
            AC,
            opt(
                "ForceRemovePermissionPolicies",
                "true to delete it with its policies",
            ),
        ],
    ),
    sso(
        "AddPermissionPolicyToAccessConfiguration",
        "Add a system policy (at most 20) or the inline policy",
        &[
            DIR,
            AC,
            req("PermissionPolicyType", "System or Inline"),
            req(
                "PermissionPolicyName",
                "system policy name, or the inline policy's name",
            ),
            opt(
                "InlinePolicyDocument",
                "Inline only: the policy document (JSON)",
            ),
        ],
    ),
    sso(
        "RemovePermissionPolicyFromAccessConfiguration",
        "Remove a policy from an access configuration",
        &[
            DIR,
            AC,
            req("PermissionPolicyType", "System or Inline"),
            req("PermissionPolicyName", "policy name"),
        ],
    ),
    sso(
        "ListPermissionPoliciesInAccessConfiguration",
        "List an access configuration's policies",
        &[DIR, AC, opt("PermissionPolicyType", "System or Inline")],
    ),
    sso(
        "UpdateInlinePolicyForAccessConfiguration",
        "Replace the inline policy's document",
        &[
            DIR,
            AC,
            req("InlinePolicyName", "the inline policy's name"),
            req("NewInlinePolicyDocument", "the new document (JSON)"),
        ],
    ),
];

/// CloudSSO access assignments, provisioning, tasks and effective access.
pub static ASSIGNMENT_OPERATIONS: &[Operation] = &[
    // (assignments)
    sso(
        "CreateAccessAssignment",
        "Assign an access configuration to a user or group on an account (provisions it there first if needed)",
        &[
            DIR,
            AC,
            TARGET_TYPE,
            TARGET_ID,
            PRINCIPAL_TYPE,
            PRINCIPAL_ID,
        ],
    ),
    sso(
        "DeleteAccessAssignment",
        "Remove an access assignment",
        &[
            DIR,
            AC,
            TARGET_TYPE,
            TARGET_ID,
            PRINCIPAL_TYPE,
            PRINCIPAL_ID,
            opt(
                "DeprovisionStrategy",
                "None (default) or DeprovisionForLastAccessAssignmentOnAccount",
            ),
        ],
    ),
    sso(
        "ListAccessAssignments",
        "List access assignments",
        &[
            DIR,
            opt("AccessConfigurationId", "access configuration id (ac-...)"),
            opt("TargetType", "RD-Account (with TargetId)"),
            opt("TargetId", "account id (with TargetType)"),
            opt("PrincipalType", "User or Group (with PrincipalId)"),
            opt("PrincipalId", "user or group id (with PrincipalType)"),
            LIST_MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "ProvisionAccessConfiguration",
        "Provision (or re-provision) an access configuration on an account",
        &[DIR, AC, TARGET_TYPE, TARGET_ID],
    ),
    sso(
        "DeprovisionAccessConfiguration",
        "Remove an access configuration's role from an account",
        &[DIR, AC, TARGET_TYPE, TARGET_ID],
    ),
    sso(
        "ListAccessConfigurationProvisionings",
        "List where access configurations are provisioned",
        &[
            DIR,
            opt("AccessConfigurationId", "access configuration id (ac-...)"),
            opt("TargetType", "RD-Account (with TargetId)"),
            opt("TargetId", "account id (with TargetType)"),
            opt(
                "ProvisioningStatus",
                "Provisioned, ReprovisionRequired or DeprovisionFailed",
            ),
            LIST_MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "GetTask",
        "Show a task",
        &[DIR, req("TaskId", "task id (t-...)")],
    ),
    sso(
        "GetTaskStatus",
        "Show a task's status",
        &[DIR, req("TaskId", "task id (t-...)")],
    ),
    sso(
        "ListTasks",
        "List the tasks of the last 7 days",
        &[
            DIR,
            opt("AccessConfigurationId", "access configuration id (ac-...)"),
            opt("TargetType", "RD-Account (with TargetId)"),
            opt("TargetId", "account id (with TargetType)"),
            opt("PrincipalType", "User or Group (with PrincipalId)"),
            opt("PrincipalId", "user or group id (with PrincipalType)"),
            opt("Status", "InProgress, Success or Failed"),
            LIST_MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "GetUserEffectiveAccess",
        "Show which accounts and access configurations a user may use now, and through whom, and the RAM users it has",
        &[DIR, USER],
    ),
];

const AC: Param = req("AccessConfigurationId", "access configuration id (ac-...)");
const TARGET_TYPE: Param = req("TargetType", "RD-Account");
const TARGET_ID: Param = req("TargetId", "account id (16 digits)");
const PRINCIPAL_TYPE: Param = req("PrincipalType", "User or Group");
const PRINCIPAL_ID: Param = req("PrincipalId", "user or group id");
const LIST_MAX_RESULTS: Param = opt("MaxResults", "page size, 1 to 20 (default 10)");

/// Resource Manager (2020-03-31): the resource directory's accounts and folders.
/// CloudSSO RAM user provisioning (issue 14).
pub static USER_PROVISIONING_OPERATIONS: &[Operation] = &[
    sso(
        "CreateUserProvisioning",
        "Synchronize a user, or a group's users, as RAM users into an account",
        &[
            DIR,
            PRINCIPAL_TYPE,
            PRINCIPAL_ID,
            TARGET_TYPE,
            TARGET_ID,
            req(
                "DuplicationStrategy",
                "KeepBoth (a RAM user of the same name stays; the new one is <name>_sso) or TakeOver",
            ),
            req(
                "DeletionStrategy",
                "Delete or Keep: what becomes of the RAM users when the provisioning goes",
            ),
            opt("Description", "up to 1,024 characters"),
        ],
    ),
    sso(
        "GetUserProvisioning",
        "Show a RAM user provisioning",
        &[DIR, UP],
    ),
    sso(
        "ListUserProvisionings",
        "List RAM user provisionings",
        &[
            DIR,
            opt("PrincipalType", "User or Group (with PrincipalId)"),
            opt("PrincipalId", "user or group id (with PrincipalType)"),
            opt("TargetType", "RD-Account (with TargetId)"),
            opt("TargetId", "account id (with TargetType)"),
            MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "UpdateUserProvisioning",
        "Change a RAM user provisioning's description or strategies",
        &[
            DIR,
            UP,
            opt("NewDescription", "up to 1,024 characters"),
            opt("NewDuplicationStrategy", "KeepBoth or TakeOver"),
            opt("NewDeletionStrategy", "Delete or Keep"),
        ],
    ),
    sso(
        "DeleteUserProvisioning",
        "Delete a RAM user provisioning",
        &[
            DIR,
            UP,
            opt(
                "DeletionStrategy",
                "Delete or Keep the RAM users (default: the provisioning's own)",
            ),
        ],
    ),
    sso(
        "GetUserProvisioningConfiguration",
        "Show the directory's RAM user provisioning configuration",
        &[DIR],
    ),
    sso(
        "UpdateUserProvisioningConfiguration",
        "Change the RAM users' console session duration or default landing page",
        &[
            DIR,
            opt("NewSessionDuration", "hours, 1 to 24 (default 6)"),
            opt(
                "NewDefaultLandingPage",
                "https:// URL (default https://homenew.console.aliyun.com)",
            ),
        ],
    ),
    sso(
        "ListUserProvisioningEvents",
        "List the failures of RAM user provisioning (open events)",
        &[
            DIR,
            opt("UserProvisioningId", "only this provisioning's events"),
            MAX_RESULTS,
            NEXT_TOKEN,
        ],
    ),
    sso(
        "GetUserProvisioningEvent",
        "Show a RAM user provisioning event",
        &[DIR, EVENT],
    ),
    sso(
        "RetryUserProvisioningEvent",
        "Try a failed RAM user provisioning event again now",
        &[
            DIR,
            EVENT,
            opt(
                "DuplicationStrategy",
                "KeepBoth or TakeOver for this retry (default: the provisioning's)",
            ),
        ],
    ),
    sso(
        "DeleteUserProvisioningEvent",
        "Delete a RAM user provisioning event",
        &[DIR, UP, EVENT],
    ),
    sso(
        "GetUserProvisioningStatistics",
        "Show a RAM user provisioning's failed events and latest try",
        &[DIR, UP],
    ),
    sso(
        "GetUserProvisioningRdAccountStatistics",
        "Show an account's failed RAM user provisioning events and latest try",
        &[DIR, req("RdMemberId", "account id (16 digits)")],
    ),
];

const UP: Param = req("UserProvisioningId", "RAM user provisioning id (up-...)");
const EVENT: Param = req("EventId", "RAM user provisioning event id (upe-...)");

/// CloudSSO's delegated administrator account (one member account at a time).
pub static DELEGATE_OPERATIONS: &[Operation] = &[
    sso(
        "EnableDelegateAccount",
        "Make a member account CloudSSO's delegated administrator (one at a time; not the management account)",
        &[ACCOUNT],
    ),
    sso(
        "DisableDelegateAccount",
        "End a member account's delegation (the account may then be deleted)",
        &[ACCOUNT],
    ),
    sso(
        "GetDelegateAccount",
        "Show whether a member account is CloudSSO's delegated administrator (DelegateStatus)",
        &[ACCOUNT],
    ),
];

pub static RESOURCE_MANAGER_OPERATIONS: &[Operation] = &[
    rm(
        "CreateResourceAccount",
        "Create a member account",
        &[
            req(
                "DisplayName",
                "unique display name, 2 to 50 characters of letters, digits, _.- and spaces",
            ),
            PARENT_FOLDER,
            opt(
                "AccountNamePrefix",
                "account name prefix (before @), 2 to 37 characters (default: random)",
            ),
        ],
    ),
    rm(
        "GetAccount",
        "Show a member account",
        &[
            ACCOUNT,
            opt("IncludeTags", "true to include tags (always empty)"),
        ],
    ),
    rm(
        "ListAccounts",
        "List member accounts",
        &[
            PAGE_NUMBER,
            PAGE_SIZE,
            opt("IncludeTags", "true to include tags (always empty)"),
        ],
    ),
    rm(
        "DeleteAccount",
        "Delete a member account no access assignment targets",
        &[
            ACCOUNT,
            opt("AbandonableCheckId", "JSON list of check ids (ignored)"),
        ],
    ),
    rm(
        "CreateFolder",
        "Create a folder",
        &[
            req(
                "FolderName",
                "name unique under the parent, 1 to 24 characters of letters, digits, _.-",
            ),
            PARENT_FOLDER,
        ],
    ),
    rm(
        "ListFoldersForParent",
        "List the folders under a folder",
        &[
            PARENT_FOLDER,
            opt("QueryKeyword", "part of the folder name (ignoring case)"),
            PAGE_NUMBER,
            PAGE_SIZE,
        ],
    ),
];

// Sign-in settings.
const ENABLED_DISABLED: &str = "Enabled or Disabled";

/// The sign-in settings: the service switch, passwords, MFA, login preference, attribute
/// passing.
static SIGNIN_OPERATIONS: &[Operation] = &[
    sso(
        "EnableService",
        "Turn sign-in on for the whole installation (the default)",
        &[],
    ),
    sso(
        "DisableService",
        "Turn all sign-in off (SCIM and the management API keep working)",
        &[],
    ),
    sso("GetServiceStatus", "Show whether sign-in is enabled", &[]),
    sso(
        "ResetUserPassword",
        "Set a user's password, given or generated (refused while SSO logon is enabled)",
        &[
            DIR,
            USER,
            opt(
                "Password",
                "new password: 8 to 32 characters with upper and lower case, a digit and a symbol, under the directory's policy",
            ),
            opt(
                "GenerateRandomPassword",
                "true: generate a password (answered once as NewPassword) instead of Password",
            ),
            opt(
                "RequirePasswordResetForNextLogin",
                "true: the user must choose a new password at the next sign-in",
            ),
        ],
    ),
    sso(
        "SetPasswordPolicy",
        "Change the directory's password policy (absent fields keep their value)",
        &[
            DIR,
            opt("MinPasswordLength", "minimum length, 8 to 32 (default 8)"),
            opt(
                "MinPasswordDifferentChars",
                "minimum distinct characters, 0 to MinPasswordLength (default 0)",
            ),
            opt(
                "PasswordNotContainUsername",
                "true: a password must not contain the user name",
            ),
            opt(
                "MaxPasswordAge",
                "days before a password must change, 1 to 120 (default 90)",
            ),
            opt(
                "PasswordReusePrevention",
                "how many previous passwords cannot be reused, 0 (no check) to 24 (default 1)",
            ),
            opt(
                "MaxLoginAttempts",
                "failures before a one-hour lockout, 0 (never) to 32 (default 5)",
            ),
        ],
    ),
    sso(
        "GetPasswordPolicy",
        "Show the directory's password policy",
        &[DIR],
    ),
    sso(
        "SetMFAAuthenticationStatus",
        "Turn MFA on or off for the whole directory",
        &[DIR, req("MFAAuthenticationStatus", ENABLED_DISABLED)],
    ),
    sso(
        "GetMFAAuthenticationStatus",
        "Show whether MFA is on for the directory",
        &[DIR],
    ),
    sso(
        "UpdateMFAAuthenticationSettings",
        "Choose who is asked for MFA",
        &[
            DIR,
            req(
                "MFAAuthenticationSettings",
                "Enabled (everyone), Byuser (each user's setting), Disabled or OnlyRiskyLogin",
            ),
            opt(
                "OperationForRiskLogin",
                "Byuser and OnlyRiskyLogin only: Autonomous (default) or EnforceVerify (everyone must bind a device)",
            ),
            opt(
                "AllowedVerificationTypes",
                "JSON array of verification types; only [\"TOTP\"]",
            ),
        ],
    ),
    sso(
        "GetMFAAuthenticationSettings",
        "Show who is asked for MFA (older form of GetMFAAuthenticationSettingInfo)",
        &[DIR],
    ),
    sso(
        "GetMFAAuthenticationSettingInfo",
        "Show who is asked for MFA and what happens at a risky sign-in",
        &[DIR],
    ),
    sso(
        "UpdateUserMFAAuthenticationSettings",
        "Turn MFA on or off for one user (effective when the directory's setting is Byuser)",
        &[
            DIR,
            USER,
            req("UserMFAAuthenticationSettings", ENABLED_DISABLED),
        ],
    ),
    sso(
        "GetUserMFAAuthenticationSettings",
        "Show a user's own MFA setting",
        &[DIR, USER],
    ),
    sso(
        "ListMFADevicesForUser",
        "List a user's MFA devices (at most 2 TOTP devices)",
        &[DIR, USER],
    ),
    sso(
        "DeleteMFADeviceForUser",
        "Remove a user's MFA device",
        &[
            DIR,
            USER,
            req("MFADeviceId", "device id, from ListMFADevicesForUser"),
            opt("MfaType", "TOTP (the only type)"),
        ],
    ),
    sso(
        "UpdateAttributePassingSetting",
        "Choose the SourceIdentity console sign-in passes to accounts",
        &[
            DIR,
            opt(
                "SourceIdentityPassing",
                "IdP (from the SAML assertion), UserName (acs:sso:<user name>) or Disabled (default); absent keeps it",
            ),
        ],
    ),
    sso(
        "GetAttributePassingSetting",
        "Show the SourceIdentity console sign-in passes",
        &[DIR],
    ),
    sso(
        "SetLoginPreference",
        "Limit where users may sign in from and whether they may get credentials",
        &[
            DIR,
            opt(
                "LoginNetworkMasks",
                "at most 100 IPv4 addresses or CIDRs separated by ; (a lone ; clears; absent keeps)",
            ),
            opt(
                "AllowUserToGetCredentials",
                "true: users may get temporary credentials in the portal (absent keeps; default false)",
            ),
            opt(
                "CliRefreshTokenDuration",
                "cloudsso extension: seconds after approval a CLI sign-in may refresh itself without the browser, 0 to 7776000 (0: never; absent keeps; default the server's --cli-refresh-seconds); applies to sign-ins approved after",
            ),
        ],
    ),
    sso(
        "GetLoginPreference",
        "Show where users may sign in from and whether they may get credentials",
        &[DIR],
    ),
];

/// A directory's external SAML IdP (SSO logon from the customer's identity provider) and
/// cloudsso's service provider side of it.
static SAML_OPERATIONS: &[Operation] = &[
    sso(
        "SetExternalSAMLIdentityProvider",
        "Configure the directory's SAML IdP from its metadata, or field by field, and turn SSO logon on or off",
        &[
            DIR,
            opt(
                "EncodedMetadataDocument",
                "base64 of the IdP's SAML 2.0 metadata (at most 256 KiB); replaces the whole configuration",
            ),
            opt(
                "EntityId",
                "the IdP's entity id (without EncodedMetadataDocument; absent keeps it)",
            ),
            opt(
                "LoginUrl",
                "the IdP's http(s) sign-in URL (without EncodedMetadataDocument; absent keeps it)",
            ),
            opt(
                "X509Certificate",
                "the IdP's signing certificate, PEM, RSA 2048 to 4096 bits; replaces all certificates (without EncodedMetadataDocument)",
            ),
            opt(
                "WantRequestSigned",
                "true: sign AuthnRequests with the directory's key (absent keeps; default false)",
            ),
            opt(
                "BindingType",
                "Post or Redirect: how AuthnRequests are sent (with metadata: which SingleSignOnService; default Redirect, else Post)",
            ),
            opt(
                "SSOStatus",
                "Enabled (needs EntityId, LoginUrl and a certificate; password sign-in stops) or Disabled; absent keeps it",
            ),
        ],
    ),
    sso(
        "GetExternalSAMLIdentityProvider",
        "Show the directory's SAML IdP configuration and whether SSO logon is on",
        &[DIR],
    ),
    sso(
        "ClearExternalSAMLIdentityProvider",
        "Remove the directory's SAML IdP configuration (only while SSO logon is disabled)",
        &[DIR],
    ),
    sso(
        "AddExternalSAMLIdPCertificate",
        "Add a signing certificate of the IdP (at most 2, for rotation)",
        &[
            DIR,
            req(
                "X509Certificate",
                "the certificate, PEM, RSA 2048 to 4096 bits",
            ),
        ],
    ),
    sso(
        "RemoveExternalSAMLIdPCertificate",
        "Remove a signing certificate of the IdP (not the last one while SSO logon is enabled)",
        &[
            DIR,
            req(
                "CertificateId",
                "certificate id (idp-c-...), from ListExternalSAMLIdPCertificates",
            ),
        ],
    ),
    sso(
        "ListExternalSAMLIdPCertificates",
        "List the IdP's signing certificates",
        &[DIR],
    ),
    sso(
        "GetDirectorySAMLServiceProviderInfo",
        "Show cloudsso's service provider side for the IdP: entity id, ACS URL and metadata",
        &[DIR],
    ),
];

/// Every operation, in a stable order.
/// Console sign-in (cloudsso): the IdP signing certificates of a directory, where cloudsso
/// is the SAML identity provider of every account (not in Alibaba's API).
pub static CONSOLE_OPERATIONS: &[Operation] = &[
    sso(
        "GetIdPSigningCertificates",
        "Show a directory's IdP signing certificates (current and previous) and its metadata URL",
        &[DIR],
    ),
    sso(
        "RotateIdPSigningCertificate",
        "Make a new IdP signing key; the previous certificate stays published until the rotation is finished",
        &[DIR],
    ),
    sso(
        "FinishIdPSigningCertificateRotation",
        "Stop publishing the previous IdP signing certificate",
        &[DIR],
    ),
];

/// Policy decisions for services that trust cloudsso (not in Alibaba's API): Allow or Deny
/// for a request signed with a user's temporary credentials. The parameter names avoid the
/// RPC protocol's own (`AccessKeyId`, `SecurityToken`, `Action`, `Signature`).
pub static DECISION_OPERATIONS: &[Operation] = &[sso(
    "CheckCredentialAccess",
    "Decide Allow or Deny for a request signed with a user's temporary credentials, and say which statement decided",
    &[
        req(
            "CredentialAccessKeyId",
            "the request's AccessKeyId (STS. or ASIA), at most 64 bytes",
        ),
        req(
            "CredentialSecurityToken",
            "the request's SecurityToken (CSSO1.), at most 8 KiB",
        ),
        req(
            "ActionName",
            "the action asked, <service>:<Action> (e.g. ecs:DescribeInstances), at most 128 bytes",
        ),
        req(
            "ResourceArn",
            "the resource asked, acs:<service>:<region>:<account id>:<resource>, at most 1,024 bytes",
        ),
        opt(
            "Context",
            "JSON object of condition keys (acs:SourceIp, acs:CurrentTime, acs:SecureTransport, acs:MFAPresent, acs:ResourceTag/<tag>): at most 32 keys, 16 values each; acs:CurrentTime defaults to now, acs:AccessId to the AccessKeyId",
        ),
        opt(
            "StringToSign",
            "the request's RPC string to sign, at most 16 KiB (with RequestSignature): cloudsso verifies the signature with the credential's secret",
        ),
        opt(
            "RequestSignature",
            "the request's signature, base64 (with StringToSign)",
        ),
        opt(
            "RequestSignatureMethod",
            "HMAC-SHA1 (the default, as RPC signs)",
        ),
    ],
)];

/// The audit trail (ActionTrail 2020-07-06).
pub static ACTIONTRAIL_OPERATIONS: &[Operation] = &[Operation {
    product: Product::ActionTrail,
    name: "LookupEvents",
    summary: "Look up audit records, newest first: time range, filters, pages",
    params: &[
        opt(
            "StartTime",
            "oldest event time, ISO 8601 (e.g. 2026-01-01T00:00:00Z)",
        ),
        opt("EndTime", "newest event time, ISO 8601"),
        opt("MaxResults", "page size, 1 to 50 (default 20)"),
        NEXT_TOKEN,
        opt(
            "LookupAttribute.1.Key",
            "AccessKeyId, Principal, EventName, ResourceName or ErrorCode",
        ),
        opt("LookupAttribute.1.Value", "the value the key must equal"),
        opt("LookupAttribute.2.Key", "a second filter (all must match)"),
        opt("LookupAttribute.2.Value", "the second filter's value"),
        opt("LookupAttribute.3.Key", "a third filter"),
        opt("LookupAttribute.3.Value", "the third filter's value"),
        opt("LookupAttribute.4.Key", "a fourth filter"),
        opt("LookupAttribute.4.Value", "the fourth filter's value"),
    ],
}];

/// Alibaba's STS (2015-04-01): the one operation temporary credentials may call.
pub static STS_OPERATIONS: &[Operation] = &[Operation {
    product: Product::Sts,
    name: "GetCallerIdentity",
    summary: "Show who signs the request: an administrator, or a user's temporary credentials",
    params: &[],
}];

pub fn operations() -> impl Iterator<Item = &'static Operation> {
    OPERATIONS
        .iter()
        .chain(ACCESS_CONFIGURATION_OPERATIONS)
        .chain(ASSIGNMENT_OPERATIONS)
        .chain(USER_PROVISIONING_OPERATIONS)
        .chain(DELEGATE_OPERATIONS)
        .chain(RESOURCE_MANAGER_OPERATIONS)
        .chain(SIGNIN_OPERATIONS)
        .chain(SAML_OPERATIONS)
        .chain(CONSOLE_OPERATIONS)
        .chain(DECISION_OPERATIONS)
        .chain(ACTIONTRAIL_OPERATIONS)
        .chain(STS_OPERATIONS)
}

/// The operation `name` of `product` (exact spelling).
pub fn find(product: Product, name: &str) -> Option<&'static Operation> {
    operations().find(|o| o.product == product && o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_product_and_params_unique_per_operation() {
        let all: Vec<&Operation> = operations().collect();
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                assert!(
                    !(a.product == b.product && a.name == b.name),
                    "{} twice",
                    a.name
                );
            }
            for (j, p) in a.params.iter().enumerate() {
                assert!(
                    a.params.iter().skip(j + 1).all(|q| q.name != p.name),
                    "{}: {} twice",
                    a.name,
                    p.name
                );
            }
        }
        assert!(find(Product::CloudSso, "GetUser").is_some());
        assert!(find(Product::Ram, "GetUser").is_some());
        assert!(find(Product::CloudSso, "getuser").is_none());
    }
}

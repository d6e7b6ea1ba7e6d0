//! A directory's sign-in settings and the installation's service status, as the management API
//! sets them and sign-in reads them: the password policy, MFA, the login preference (who may
//! sign in from where, whether users may get credentials), attribute passing and the SSO
//! switch. Parsing and range checks live here; storage is one `SigninSettingsKey` record per
//! directory (absent: the defaults) and the `service_status` meta record.

use serde::{Deserialize, Serialize};

/// Everything a directory says about signing in. Absent fields read as their defaults, so
/// records written by older versions stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DirectorySettings {
    pub password_policy: PasswordPolicy,
    /// `MFAAuthenticationStatus`: the directory-wide MFA switch (the older API).
    pub mfa_status_enabled: bool,
    /// `MFAAuthenticationSettings` (the newer API).
    pub mfa: MfaMode,
    /// `OperationForRiskLogin`, kept for `Byuser` and `OnlyRiskyLogin`.
    pub risk_operation: Option<RiskOperation>,
    pub login: LoginPreference,
    pub attribute_passing: SourceIdentityPassing,
    /// SSO logon from the external IdP (the SAML issue sets it): password sign-in and
    /// `ResetUserPassword` are refused while it is on.
    pub sso_enabled: bool,
}

impl Default for DirectorySettings {
    fn default() -> Self {
        DirectorySettings {
            password_policy: PasswordPolicy::default(),
            mfa_status_enabled: true,
            mfa: MfaMode::Enabled,
            risk_operation: None,
            login: LoginPreference::default(),
            attribute_passing: SourceIdentityPassing::Disabled,
            sso_enabled: false,
        }
    }
}

/// `SetPasswordPolicy`'s fields (ranges in `cloudsso_api.md` §2.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    /// 8 to 32.
    pub min_length: u32,
    /// 0 to `min_length`.
    pub min_different_chars: u32,
    pub not_contain_username: bool,
    /// 1 to 120 days.
    pub max_age_days: u32,
    /// 0 (no check) to 24 previous passwords.
    pub reuse_prevention: u32,
    /// 0 (unlimited) to 32 failures before a one-hour lockout.
    pub max_login_attempts: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            min_different_chars: 0,
            not_contain_username: false,
            max_age_days: 90,
            reuse_prevention: 1,
            max_login_attempts: 5,
        }
    }
}

/// Longest password any policy allows (`MaxPasswordLength`).
pub const PASSWORD_LENGTH_MAX: usize = 32;
/// How long a user stays locked out after `max_login_attempts` failures.
pub const LOCKOUT_SECONDS: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MfaMode {
    Enabled,
    Byuser,
    Disabled,
    OnlyRiskyLogin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RiskOperation {
    Autonomous,
    EnforceVerify,
}

/// `SetLoginPreference`'s fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginPreference {
    /// IPv4 addresses or CIDRs that may sign in to the portal (empty: anywhere), at most
    /// `LOGIN_NETWORK_MASKS_MAX`, as given (`a.b.c.d` or `a.b.c.d/n`).
    pub network_masks: Vec<String>,
    pub allow_user_to_get_credentials: bool,
}

/// Most entries in `LoginNetworkMasks`.
pub const LOGIN_NETWORK_MASKS_MAX: usize = 100;

/// `SourceIdentityPassing` of `AttributePassingSetting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceIdentityPassing {
    IdP,
    UserName,
    Disabled,
}

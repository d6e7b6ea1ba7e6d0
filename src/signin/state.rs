//! A user's sign-in record, beside (not in) the SCIM document: when the password was set and
//! which it replaced, failed attempts and lockout, the last TOTP time step used, and the
//! per-user MFA switch. Stored under `SigninUserKey`; absent means a user who never signed in
//! and whose password (if any) came from SCIM or the API.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSignIn {
    /// Fingerprint (SHA-256 hex of the PHC string) of the password hash this record knows. A
    /// hash with another fingerprint was set elsewhere (SCIM): its age counts from when sign-in
    /// first saw it.
    pub password_fingerprint: Option<String>,
    /// Unix seconds when the current password was set (or first seen).
    pub password_set_at: Option<i64>,
    /// The user must choose a new password at the next sign-in.
    pub must_change: bool,
    /// PHC strings of previous passwords, newest first (at most
    /// `settings::PasswordPolicy::reuse_prevention`, up to 24).
    pub history: Vec<String>,
    /// Consecutive failed password checks since the last success or lockout.
    pub failures: u32,
    /// Unix seconds until which sign-in is refused.
    pub locked_until: Option<i64>,
    /// The last TOTP time step accepted (a code is accepted once).
    pub last_totp_step: Option<u64>,
    /// `UserMFAAuthenticationSettings` (effective when the directory's MFA mode is `Byuser`).
    pub mfa_enabled: bool,
}

impl Default for UserSignIn {
    fn default() -> Self {
        UserSignIn {
            password_fingerprint: None,
            password_set_at: None,
            must_change: false,
            history: Vec::new(),
            failures: 0,
            locked_until: None,
            last_totp_step: None,
            mfa_enabled: true,
        }
    }
}

/// Most previous passwords any policy remembers.
pub const PASSWORD_HISTORY_MAX: usize = 24;

/// A TOTP device of a user (`ListMFADevicesForUser`). Its secret is sealed for
/// `<dir>/<user>/<device>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaDevice {
    pub id: String,
    pub name: String,
    /// Base32 secret, sealed.
    pub secret_sealed: String,
    /// RFC 3339, when enrollment was confirmed.
    pub effective_time: String,
}

/// Most TOTP devices per user.
pub const MFA_DEVICES_MAX: usize = 2;

/// SHA-256 hex of a PHC string: what sessions and the sign-in record remember of a password.
pub fn fingerprint(phc: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::model::hex_lower(&Sha256::digest(phc.as_bytes()))
}

/// Now, in Unix seconds.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

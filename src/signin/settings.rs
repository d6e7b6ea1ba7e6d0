//! A directory's sign-in settings and the installation's service status, as the management API
//! sets them and sign-in reads them: the password policy, MFA, the login preference (who may
//! sign in from where, whether users may get credentials), attribute passing and the SSO
//! switch. Parsing and range checks live here; storage is one `SigninSettingsKey` record per
//! directory (absent: the defaults) and the `service_status` meta record. The management API's
//! other sign-in writes live here too, each one job: a user's MFA switch (`SigninUserKey`),
//! deleting a user's MFA device (`MfaDeviceKey`), and `ResetUserPassword`'s SSO refusal and
//! random draws (setting the password is `password::set_password`).
//!
//! Must not verify passwords or TOTP codes, enroll devices, or touch sessions (the sign-in flow
//! does); `mfa_required` and `LoginPreference::allows` are pure answers for it.

use super::SignIn;
use super::state::{MfaDevice, UserSignIn};
use crate::error::{DomainError, Entity};
use crate::model::{DirectoryId, ResourceKind, UserId};
use crate::store::keys::{MetaKey, MfaDeviceKey, Prefix, SigninSettingsKey, SigninUserKey};
use crate::store::{ReadTxn, WriteTxn};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::ops::RangeInclusive;

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
    /// Seconds from a CLI sign-in's approval during which its refresh tokens work (`None`:
    /// the server's `--cli-refresh-seconds`; 0: none), at most `CLI_REFRESH_SECONDS_MAX`.
    /// A cloudsso extension (`CliRefreshTokenDuration`); applies to sign-ins approved after.
    pub cli_refresh_seconds: Option<u64>,
}

/// Longest refresh lifetime a directory may set: 90 days (a client registration's life).
pub const CLI_REFRESH_SECONDS_MAX: u64 = 90 * 24 * 3600;

/// Most entries in `LoginNetworkMasks`.
pub const LOGIN_NETWORK_MASKS_MAX: usize = 100;

/// `SourceIdentityPassing` of `AttributePassingSetting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceIdentityPassing {
    IdP,
    UserName,
    Disabled,
}

/// The wire spelling of each value of a settings enum, in one table.
macro_rules! spelled {
    ($t:ty { $($v:ident),+ $(,)? }) => {
        impl $t {
            /// Every value with its wire spelling.
            pub const ALL: &'static [($t, &'static str)] = &[$((<$t>::$v, stringify!($v))),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                Self::ALL
                    .iter()
                    .find(|(v, _)| *v == self)
                    .map_or("", |(_, s)| s)
            }

            /// The value spelled `s` (exact spelling).
            pub fn parse(s: &str) -> Option<$t> {
                Self::ALL.iter().find(|(_, w)| *w == s).map(|(v, _)| *v)
            }
        }
    };
}
spelled!(MfaMode {
    Enabled,
    Byuser,
    Disabled,
    OnlyRiskyLogin
});
spelled!(RiskOperation {
    Autonomous,
    EnforceVerify
});
spelled!(SourceIdentityPassing {
    IdP,
    UserName,
    Disabled
});

// `SetPasswordPolicy`'s ranges, by parameter (cloudsso_api.md §2.5).
/// `MinPasswordLength`.
pub const MIN_LENGTH_RANGE: RangeInclusive<i64> = 8..=32;
/// `MinPasswordDifferentChars` (also at most the resulting `MinPasswordLength`).
pub const MIN_DIFFERENT_CHARS_RANGE: RangeInclusive<i64> = 0..=32;
/// `MaxPasswordAge`, in days.
pub const MAX_AGE_DAYS_RANGE: RangeInclusive<i64> = 1..=120;
/// `PasswordReusePrevention` (0: no check).
pub const REUSE_PREVENTION_RANGE: RangeInclusive<i64> = 0..=24;
/// `MaxLoginAttempts` (0: unlimited).
pub const MAX_LOGIN_ATTEMPTS_RANGE: RangeInclusive<i64> = 0..=32;

/// A `SetPasswordPolicy` call: each field given replaces the current value; absent keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordPolicyChange {
    pub min_length: Option<i64>,
    pub min_different_chars: Option<i64>,
    pub not_contain_username: Option<bool>,
    pub max_age_days: Option<i64>,
    pub reuse_prevention: Option<i64>,
    pub max_login_attempts: Option<i64>,
}

/// `value` within `range`, as a `u32`, or why not (named after `param`).
fn in_range(
    param: &'static str,
    value: i64,
    range: &RangeInclusive<i64>,
) -> Result<u32, DomainError> {
    match u32::try_from(value) {
        Ok(v) if range.contains(&value) => Ok(v),
        _ => Err(DomainError::Invalid {
            param,
            message: format!("must be between {} and {}", range.start(), range.end()),
        }),
    }
}

impl PasswordPolicyChange {
    /// `current` with this change applied, every range checked.
    pub fn apply(&self, current: &PasswordPolicy) -> Result<PasswordPolicy, DomainError> {
        let pick = |param, given: Option<i64>, now: u32, range| match given {
            Some(v) => in_range(param, v, range),
            None => Ok(now),
        };
        let c = current;
        let next = PasswordPolicy {
            min_length: pick(
                "MinPasswordLength",
                self.min_length,
                c.min_length,
                &MIN_LENGTH_RANGE,
            )?,
            min_different_chars: pick(
                "MinPasswordDifferentChars",
                self.min_different_chars,
                c.min_different_chars,
                &MIN_DIFFERENT_CHARS_RANGE,
            )?,
            not_contain_username: self.not_contain_username.unwrap_or(c.not_contain_username),
            max_age_days: pick(
                "MaxPasswordAge",
                self.max_age_days,
                c.max_age_days,
                &MAX_AGE_DAYS_RANGE,
            )?,
            reuse_prevention: pick(
                "PasswordReusePrevention",
                self.reuse_prevention,
                c.reuse_prevention,
                &REUSE_PREVENTION_RANGE,
            )?,
            max_login_attempts: pick(
                "MaxLoginAttempts",
                self.max_login_attempts,
                c.max_login_attempts,
                &MAX_LOGIN_ATTEMPTS_RANGE,
            )?,
        };
        distinct_within_length(&next)?;
        Ok(next)
    }
}

/// `MinPasswordDifferentChars` is at most `MinPasswordLength`.
fn distinct_within_length(p: &PasswordPolicy) -> Result<(), DomainError> {
    if p.min_different_chars > p.min_length {
        return Err(DomainError::Invalid {
            param: "MinPasswordDifferentChars",
            message: format!("must be at most MinPasswordLength ({})", p.min_length),
        });
    }
    Ok(())
}

/// One `LoginNetworkMasks` entry: an IPv4 network (an address is a `/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mask {
    network: u32,
    bits: u8,
}

impl Mask {
    /// `a.b.c.d` or `a.b.c.d/n` (n from 0 to 32).
    fn parse(s: &str) -> Option<Mask> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (a, n.parse::<u8>().ok().filter(|n| *n <= 32)?)
            }
            Some(_) => return None,
            None => (s, 32),
        };
        let addr: Ipv4Addr = addr.parse().ok()?;
        Some(Mask {
            network: u32::from(addr),
            bits,
        })
    }

    fn contains(self, ip: Ipv4Addr) -> bool {
        let shift = 32 - u32::from(self.bits);
        let mask = u32::MAX.checked_shl(shift).unwrap_or(0);
        (u32::from(ip) & mask) == (self.network & mask)
    }
}

/// `SetLoginPreference`'s `LoginNetworkMasks`: `;`-separated IPv4 addresses or CIDRs, at most
/// `LOGIN_NETWORK_MASKS_MAX`; a lone `;` clears the list (empty entries are skipped).
pub fn parse_network_masks(raw: &str) -> Result<Vec<String>, DomainError> {
    let invalid = |message: String| DomainError::Invalid {
        param: "LoginNetworkMasks",
        message,
    };
    let entries: Vec<&str> = raw
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.len() > LOGIN_NETWORK_MASKS_MAX {
        return Err(invalid(format!(
            "at most {LOGIN_NETWORK_MASKS_MAX} addresses or CIDRs are allowed"
        )));
    }
    if entries.is_empty() && raw.trim() != ";" {
        return Err(invalid(
            "expected IPv4 addresses or CIDRs separated by `;`".into(),
        ));
    }
    for e in &entries {
        if Mask::parse(e).is_none() {
            return Err(invalid(format!("`{e}` is not an IPv4 address or CIDR")));
        }
    }
    Ok(entries.into_iter().map(str::to_owned).collect())
}

impl LoginPreference {
    /// Whether a sign-in from `ip` is allowed: anywhere when no mask is set; else an IPv4
    /// source (or an IPv4-mapped IPv6 one) inside a mask. Other IPv6 sources are refused.
    pub fn allows(&self, ip: IpAddr) -> bool {
        if self.network_masks.is_empty() {
            return true;
        }
        let v4 = match ip {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(a) => a,
                None => return false,
            },
        };
        self.network_masks
            .iter()
            .filter_map(|m| Mask::parse(m))
            .any(|m| m.contains(v4))
    }
}

/// `UpdateMFAAuthenticationSettings`' `AllowedVerificationTypes` (a JSON array): cloudsso has
/// TOTP devices only, so every entry must be `TOTP`.
pub fn parse_verification_types(raw: &str) -> Result<(), DomainError> {
    let invalid = || DomainError::Invalid {
        param: "AllowedVerificationTypes",
        message: "must be a JSON array of `TOTP` (the only verification type)".into(),
    };
    let list: Vec<String> = serde_json::from_str(raw).map_err(|_| invalid())?;
    if list.iter().all(|t| t == "TOTP") {
        Ok(())
    } else {
        Err(invalid())
    }
}

impl DirectorySettings {
    /// Sets the newer MFA mode; `risk` only goes with `Byuser` and `OnlyRiskyLogin` (absent:
    /// the current one, else `Autonomous`).
    pub fn set_mfa_mode(
        &mut self,
        mode: MfaMode,
        risk: Option<RiskOperation>,
    ) -> Result<(), DomainError> {
        let risky = matches!(mode, MfaMode::Byuser | MfaMode::OnlyRiskyLogin);
        if !risky && risk.is_some() {
            return Err(DomainError::Invalid {
                param: "OperationForRiskLogin",
                message: "only applies to Byuser and OnlyRiskyLogin".into(),
            });
        }
        self.mfa = mode;
        self.risk_operation = risky.then(|| {
            risk.or(self.risk_operation)
                .unwrap_or(RiskOperation::Autonomous)
        });
        Ok(())
    }

    /// Whether `user` must pass (or enroll) MFA at sign-in. The older switch or the mode
    /// `Disabled` turns it off; `Enabled` asks everyone; `Byuser` follows the user's switch;
    /// `OnlyRiskyLogin` (no risk engine: every sign-in counts as risky) asks users with a
    /// device, and everyone under `EnforceVerify`.
    pub fn mfa_required(&self, user: &UserSignIn, has_device: bool) -> bool {
        if !self.mfa_status_enabled {
            return false;
        }
        match self.mfa {
            MfaMode::Disabled => false,
            MfaMode::Enabled => true,
            MfaMode::Byuser => user.mfa_enabled,
            MfaMode::OnlyRiskyLogin => {
                has_device || self.risk_operation == Some(RiskOperation::EnforceVerify)
            }
        }
    }
}

/// The `MetaKey` of the installation's service status (absent: enabled).
const SERVICE_STATUS: MetaKey<'static> = MetaKey {
    name: "service_status",
};

/// `Ok` when `found`, else `NotFound` of `entity` `id`.
pub(super) fn need(found: bool, entity: Entity, id: &str) -> Result<(), DomainError> {
    if found {
        Ok(())
    } else {
        Err(DomainError::NotFound {
            entity,
            id: id.to_owned(),
        })
    }
}

/// The directory `d` and its user `u` exist.
fn need_user(found_dir: bool, found_user: bool, d: &str, u: &str) -> Result<(), DomainError> {
    need(found_dir, Entity::Directory, d)?;
    need(found_user, Entity::User, u)
}

fn read_user(txn: &ReadTxn, d: &str, u: &str) -> Result<UserSignIn, DomainError> {
    need_user(
        txn.directory(d)?.is_some(),
        txn.resource(ResourceKind::User, d, u)?.is_some(),
        d,
        u,
    )?;
    Ok(txn
        .get(SigninUserKey { dir: d, user: u })?
        .unwrap_or_default())
}

fn write_user_check(txn: &WriteTxn, d: &str, u: &str) -> Result<(), DomainError> {
    need_user(
        txn.directory(d)?.is_some(),
        txn.resource(ResourceKind::User, d, u)?.is_some(),
        d,
        u,
    )
}

/// Most random passwords drawn for one `ResetUserPassword` before giving up (each draw is
/// refused only when it contains a very short user name).
pub const RANDOM_PASSWORD_DRAWS_MAX: usize = 64;

/// What `ResetUserPassword` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewPassword {
    /// A random password that meets every policy, returned once.
    Generated,
    Given(String),
}

impl SignIn {
    /// Directory `dir`'s settings (the defaults until first changed).
    pub async fn settings(&self, dir: &DirectoryId) -> Result<DirectorySettings, DomainError> {
        let d = dir.to_string();
        self.read(move |txn| {
            need(txn.directory(&d)?.is_some(), Entity::Directory, &d)?;
            Ok(txn.get(SigninSettingsKey { dir: &d })?.unwrap_or_default())
        })
        .await
    }

    /// Changes directory `dir`'s settings with `change` (read, changed and written in one
    /// write job); the settings as stored. A change that fails writes nothing.
    pub async fn update_settings(
        &self,
        dir: &DirectoryId,
        change: impl FnOnce(&mut DirectorySettings) -> Result<(), DomainError> + Send + 'static,
    ) -> Result<DirectorySettings, DomainError> {
        let d = dir.to_string();
        self.write(move |txn| {
            need(txn.directory(&d)?.is_some(), Entity::Directory, &d)?;
            let key = SigninSettingsKey { dir: &d };
            let mut settings: DirectorySettings = txn.get(key)?.unwrap_or_default();
            change(&mut settings)?;
            txn.put(key, &settings)?;
            Ok(settings)
        })
        .await
    }

    /// Whether sign-in is enabled installation-wide (`EnableService`/`DisableService`;
    /// enabled until first disabled).
    /// A point read, on the caller's task (`Db::read_now`): every session, CLI token and
    /// temporary credential asks it.
    pub async fn service_enabled(&self) -> Result<bool, DomainError> {
        self.inner
            .db
            .read_now(|txn| Ok(txn.get(SERVICE_STATUS)?.unwrap_or(true)))
    }

    /// Turns all sign-in on or off (SCIM and the management API keep working).
    pub async fn set_service_enabled(&self, enabled: bool) -> Result<(), DomainError> {
        self.write(move |txn| Ok(txn.put(SERVICE_STATUS, &enabled)?))
            .await
    }

    /// A user's sign-in record (the defaults for a user who never signed in).
    pub async fn user_sign_in(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<UserSignIn, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.read(move |txn| read_user(txn, &d, &u)).await
    }

    /// `UpdateUserMFAAuthenticationSettings`: the user's own MFA switch.
    pub async fn set_user_mfa(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        enabled: bool,
    ) -> Result<(), DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.write(move |txn| {
            write_user_check(txn, &d, &u)?;
            let key = SigninUserKey { dir: &d, user: &u };
            let mut rec: UserSignIn = txn.get(key)?.unwrap_or_default();
            rec.mfa_enabled = enabled;
            Ok(txn.put(key, &rec)?)
        })
        .await
    }

    /// A user's MFA devices, in id order.
    pub async fn mfa_devices(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<Vec<MfaDevice>, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.read(move |txn| {
            read_user(txn, &d, &u)?;
            Ok(txn.scan(Prefix::MfaDevicesOf { dir: &d, user: &u })?)
        })
        .await
    }

    /// Removes a user's MFA device (`NotFound` of `Entity::MfaDevice` when it has none by
    /// that id).
    pub async fn delete_mfa_device(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        device: &str,
    ) -> Result<(), DomainError> {
        let (d, u, id) = (dir.to_string(), user.to_string(), device.to_owned());
        self.write(move |txn| {
            write_user_check(txn, &d, &u)?;
            let key = MfaDeviceKey {
                dir: &d,
                user: &u,
                device: &id,
            };
            let found = txn.delete(key)?;
            need(found, Entity::MfaDevice, &id)
        })
        .await
    }

    /// `ResetUserPassword`: refused while the directory signs in through its IdP
    /// (`sso_enabled`); the generated password, if one was asked for (never stored in clear).
    pub async fn reset_password(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        password: NewPassword,
        require_change: bool,
    ) -> Result<Option<String>, DomainError> {
        if self.settings(dir).await?.sso_enabled {
            return Err(DomainError::Conflict {
                rule: crate::error::Conflict::SsoEnabled,
                message: "passwords cannot be reset while SSO logon is enabled".into(),
            });
        }
        let by = super::password::SetBy::Admin { require_change };
        match password {
            NewPassword::Given(pw) => self.set_password(dir, user, pw, by).await.map(|()| None),
            NewPassword::Generated => self.set_random_password(dir, user, by).await.map(Some),
        }
    }

    /// Sets a random password, drawing again while the policy refuses it (a short user name
    /// under `PasswordNotContainUsername` can appear in a draw), at most
    /// `RANDOM_PASSWORD_DRAWS_MAX` times.
    async fn set_random_password(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        by: super::password::SetBy,
    ) -> Result<String, DomainError> {
        let mut last = None;
        for _ in 0..RANDOM_PASSWORD_DRAWS_MAX {
            let pw = super::password::random_password();
            match self.set_password(dir, user, pw.clone(), by).await {
                Ok(()) => return Ok(pw),
                Err(e @ DomainError::Invalid { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| DomainError::Internal("no password drawn".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_ranges_on_both_sides() {
        let base = PasswordPolicy::default();
        let one = |f: fn(&mut PasswordPolicyChange, i64), v: i64| {
            let mut c = PasswordPolicyChange::default();
            f(&mut c, v);
            c.apply(&base).map_err(|e| e.to_string())
        };
        type Set = fn(&mut PasswordPolicyChange, i64);
        let cases: [(&str, Set, RangeInclusive<i64>); 5] = [
            (
                "MinPasswordLength",
                |c, v| c.min_length = Some(v),
                MIN_LENGTH_RANGE,
            ),
            (
                "MaxPasswordAge",
                |c, v| c.max_age_days = Some(v),
                MAX_AGE_DAYS_RANGE,
            ),
            (
                "PasswordReusePrevention",
                |c, v| c.reuse_prevention = Some(v),
                REUSE_PREVENTION_RANGE,
            ),
            (
                "MaxLoginAttempts",
                |c, v| c.max_login_attempts = Some(v),
                MAX_LOGIN_ATTEMPTS_RANGE,
            ),
            // At most MinPasswordLength: with a length of 32, the range is the table's.
            (
                "MinPasswordDifferentChars",
                |c, v| {
                    c.min_length = Some(32);
                    c.min_different_chars = Some(v);
                },
                MIN_DIFFERENT_CHARS_RANGE,
            ),
        ];
        for (param, set, range) in cases {
            for ok in [*range.start(), *range.end()] {
                assert!(one(set, ok).is_ok(), "{param} {ok}");
            }
            for bad in [*range.start() - 1, *range.end() + 1, i64::MIN, i64::MAX] {
                let e = one(set, bad).unwrap_err();
                assert!(e.starts_with(param), "{param} {bad}: {e}");
            }
        }
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_checks_distinct_chars_against_length() {
        let base = PasswordPolicy {
            min_length: 12,
            min_different_chars: 10,
            ..PasswordPolicy::default()
        };
        let c = PasswordPolicyChange {
            max_age_days: Some(30),
            ..Default::default()
        };
        let next = c.apply(&base).unwrap();
        assert_eq!(next.max_age_days, 30);
        assert_eq!((next.min_length, next.min_different_chars), (12, 10));
        let cases = [
            (Some(10), None, true),
            (Some(9), None, false),
            (None, Some(12), true),
            (None, Some(13), false),
            (Some(8), Some(8), true),
        ];
        for (len, distinct, ok) in cases {
            let c = PasswordPolicyChange {
                min_length: len,
                min_different_chars: distinct,
                ..Default::default()
            };
            let got = c.apply(&base);
            assert_eq!(got.is_ok(), ok, "{len:?} {distinct:?}: {got:?}");
            if let Err(e) = got {
                assert!(
                    e.to_string().starts_with("MinPasswordDifferentChars"),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn network_masks() {
        let hundred = (0..100)
            .map(|i| format!("10.0.{i}.0/24"))
            .collect::<Vec<_>>();
        let cases: Vec<(String, Result<usize, &str>)> = vec![
            (";".into(), Ok(0)),
            (" ; ".into(), Ok(0)),
            ("10.0.0.1".into(), Ok(1)),
            ("10.0.0.0/8;192.168.1.7".into(), Ok(2)),
            ("10.0.0.0/8;".into(), Ok(1)),
            ("0.0.0.0/0".into(), Ok(1)),
            ("1.2.3.4/32".into(), Ok(1)),
            (hundred.join(";"), Ok(100)),
            (
                format!("{};10.1.0.0/16", hundred.join(";")),
                Err("at most 100"),
            ),
            ("1.2.3.4/33".into(), Err("`1.2.3.4/33`")),
            ("1.2.3.4/".into(), Err("`1.2.3.4/`")),
            ("1.2.3.4/+8".into(), Err("`1.2.3.4/+8`")),
            ("1.2.3".into(), Err("`1.2.3`")),
            ("256.1.1.1".into(), Err("`256.1.1.1`")),
            ("::1".into(), Err("`::1`")),
            (
                "10.0.0.0/8,10.1.0.0/16".into(),
                Err("`10.0.0.0/8,10.1.0.0/16`"),
            ),
            ("a.b.c.d".into(), Err("`a.b.c.d`")),
            (";;".into(), Err("separated by")),
        ];
        for (raw, want) in cases {
            let got = parse_network_masks(&raw).map(|v| v.len());
            match want {
                Ok(n) => assert_eq!(got.ok(), Some(n), "{raw}"),
                Err(word) => {
                    let e = parse_network_masks(&raw).unwrap_err().to_string();
                    assert!(
                        e.starts_with("LoginNetworkMasks") && e.contains(word),
                        "{raw}: {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn login_preference_allows() {
        let with = |masks: &[&str]| LoginPreference {
            network_masks: masks.iter().map(|m| (*m).to_owned()).collect(),
            allow_user_to_get_credentials: false,
            cli_refresh_seconds: None,
        };
        let cases: [(&[&str], &str, bool); 12] = [
            (&[], "203.0.113.9", true),
            (&[], "2001:db8::1", true),
            (&["10.0.0.0/8"], "10.255.1.2", true),
            (&["10.0.0.0/8"], "11.0.0.1", false),
            (&["10.0.0.0/8", "192.168.1.7"], "192.168.1.7", true),
            (&["192.168.1.7"], "192.168.1.8", false),
            (&["192.168.1.0/31"], "192.168.1.1", true),
            (&["192.168.1.0/31"], "192.168.1.2", false),
            (&["0.0.0.0/0"], "8.8.8.8", true),
            (&["0.0.0.0/0"], "2001:db8::1", false),
            (&["10.0.0.0/8"], "::ffff:10.1.2.3", true),
            (&["10.0.0.0/8"], "::ffff:11.1.2.3", false),
        ];
        for (masks, ip, want) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(with(masks).allows(ip), want, "{masks:?} {ip}");
        }
    }

    #[test]
    fn who_is_asked_for_mfa() {
        use MfaMode::*;
        use RiskOperation::*;
        let user = |on| UserSignIn {
            mfa_enabled: on,
            ..UserSignIn::default()
        };
        // (older switch, mode, risk, user's switch, has a device) -> asked
        let cases = [
            (false, Enabled, None, true, true, false),
            (true, Disabled, None, true, true, false),
            (true, Enabled, None, false, false, true),
            (true, Byuser, Some(Autonomous), true, false, true),
            (true, Byuser, Some(Autonomous), false, true, false),
            (true, OnlyRiskyLogin, Some(Autonomous), false, false, false),
            (true, OnlyRiskyLogin, Some(Autonomous), false, true, true),
            (
                true,
                OnlyRiskyLogin,
                Some(EnforceVerify),
                false,
                false,
                true,
            ),
        ];
        for (status, mode, risk, on, device, want) in cases {
            let s = DirectorySettings {
                mfa_status_enabled: status,
                mfa: mode,
                risk_operation: risk,
                ..DirectorySettings::default()
            };
            assert_eq!(
                s.mfa_required(&user(on), device),
                want,
                "{status} {mode:?} {risk:?} {on} {device}"
            );
        }
    }

    #[test]
    fn mfa_mode_and_risk_operation() {
        use MfaMode::*;
        use RiskOperation::*;
        let mut s = DirectorySettings::default();
        // (mode, risk given) -> stored risk, or refused
        let steps = [
            (Byuser, None, Ok(Some(Autonomous))),
            (OnlyRiskyLogin, Some(EnforceVerify), Ok(Some(EnforceVerify))),
            (Byuser, None, Ok(Some(EnforceVerify))),
            (Enabled, Some(Autonomous), Err(())),
            (Enabled, None, Ok(None)),
            (Disabled, None, Ok(None)),
        ];
        for (mode, risk, want) in steps {
            let before = s.clone();
            match (s.set_mfa_mode(mode, risk), want) {
                (Ok(()), Ok(stored)) => {
                    assert_eq!((s.mfa, s.risk_operation), (mode, stored), "{mode:?}")
                }
                (Err(_), Err(())) => assert_eq!(s, before),
                (got, want) => panic!("{mode:?} {risk:?}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn spellings_and_verification_types() {
        for (v, s) in MfaMode::ALL {
            assert_eq!((MfaMode::parse(s), v.as_str()), (Some(*v), *s));
        }
        assert_eq!(
            SourceIdentityPassing::parse("IdP"),
            Some(SourceIdentityPassing::IdP)
        );
        assert_eq!(SourceIdentityPassing::parse("idp"), None);
        assert_eq!(RiskOperation::EnforceVerify.as_str(), "EnforceVerify");
        for (raw, ok) in [
            (r#"["TOTP"]"#, true),
            ("[]", true),
            (r#"["TOTP","WebAuthn"]"#, false),
            ("TOTP", false),
            (r#"[1]"#, false),
        ] {
            assert_eq!(parse_verification_types(raw).is_ok(), ok, "{raw}");
        }
    }
}

//! Passwords under a directory's policy: what a new password must be, setting one (the
//! `passwords` table holds the argon2id hash, the sign-in record its age and history), and
//! verifying one. A password is never returned or logged.

use super::SignIn;
use super::settings::{PASSWORD_LENGTH_MAX, PasswordPolicy};
use super::state::{PASSWORD_HISTORY_MAX, UserSignIn, fingerprint, now_unix};
use crate::error::DomainError;
use crate::model::{DirectoryId, ResourceKind, UserId};
use crate::store::keys::{SigninSettingsKey, SigninUserKey};

/// Why a new password is refused (the message is shown to the user or returned by the API).
pub fn check_new_password(
    policy: &PasswordPolicy,
    password: &str,
    user_name: &str,
) -> Result<(), String> {
    let n = password.chars().count();
    let min = (policy.min_length as usize).max(8);
    if n < min || n > PASSWORD_LENGTH_MAX {
        return Err(format!(
            "a password must be {min} to {PASSWORD_LENGTH_MAX} characters long"
        ));
    }
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    if !(has(char::is_ascii_uppercase)
        && has(char::is_ascii_lowercase)
        && has(char::is_ascii_digit)
        && has(|c| c.is_ascii_punctuation()))
    {
        return Err(
            "a password must contain an upper-case letter, a lower-case letter, a digit and a symbol"
                .into(),
        );
    }
    if password
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err("a password must not contain spaces or control characters".into());
    }
    let distinct = password
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if distinct < policy.min_different_chars as usize {
        return Err(format!(
            "a password must contain at least {} different characters",
            policy.min_different_chars
        ));
    }
    if policy.not_contain_username
        && !user_name.is_empty()
        && password.to_lowercase().contains(&user_name.to_lowercase())
    {
        return Err("a password must not contain the user name".into());
    }
    Ok(())
}

/// Whether `password` matches an argon2 PHC string (false for a malformed one).
pub fn matches(phc: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        crate::directory::argon2id()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A random password that meets every policy (32 characters, all four classes).
pub fn random_password() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"!#%+-.:=?@^_~";
    let classes: [&[u8]; 4] = [UPPER, LOWER, DIGIT, SYMBOL];
    let mut bytes = [0u8; PASSWORD_LENGTH_MAX * 2];
    crate::model::fill_random(&mut bytes);
    let mut out = String::with_capacity(PASSWORD_LENGTH_MAX);
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        // The first four characters cover every class; the rest draw from all of them.
        let class = match classes.get(i) {
            Some(c) => *c,
            None => classes
                .get(usize::from(pair.first().copied().unwrap_or(0)) % 4)
                .copied()
                .unwrap_or(UPPER),
        };
        let b = class
            .get(usize::from(pair.get(1).copied().unwrap_or(0)) % class.len())
            .copied()
            .unwrap_or(b'A');
        out.push(char::from(b));
    }
    out
}

/// How a password is being set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetBy {
    /// An administrator (`ResetUserPassword`): the history is not checked.
    Admin { require_change: bool },
    /// The user, at sign-in (expired or must-change password): the history is checked.
    User,
}

impl SignIn {
    /// Sets a user's password after checking it against the directory's policy (and, when the
    /// user sets it, the history). Every session of the user dies with the old password (its
    /// fingerprint no longer matches).
    pub async fn set_password(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        password: String,
        by: SetBy,
    ) -> Result<(), DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        let (policy, user_name, old) = self
            .read(move |txn| {
                let doc = super::existing(txn.resource(ResourceKind::User, &d, &u)?, &u)?;
                let settings: super::settings::DirectorySettings =
                    txn.get(SigninSettingsKey { dir: &d })?.unwrap_or_default();
                let rec: UserSignIn = txn
                    .get(SigninUserKey { dir: &d, user: &u })?
                    .unwrap_or_default();
                let current = txn.password_hash(&d, &u)?;
                let name = doc
                    .get("userName")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned();
                Ok((settings.password_policy, name, (rec, current)))
            })
            .await?;
        check_new_password(&policy, &password, &user_name).map_err(|message| {
            DomainError::Invalid {
                param: "Password",
                message,
            }
        })?;
        if by == SetBy::User {
            self.refuse_reuse(&policy, &old.0, old.1.as_deref(), &password)
                .await?;
        }
        let phc = self.directory().hash_password(password).await?;
        self.store_password(dir, user, phc, by).await
    }

    /// Refuses a password the user set before (the current one and the policy's
    /// `PasswordReusePrevention` before it).
    async fn refuse_reuse(
        &self,
        policy: &PasswordPolicy,
        rec: &UserSignIn,
        current: Option<&str>,
        password: &str,
    ) -> Result<(), DomainError> {
        let remembered = policy.reuse_prevention as usize;
        let previous: Vec<String> = current
            .map(str::to_owned)
            .into_iter()
            .chain(rec.history.iter().cloned())
            .take(remembered)
            .collect();
        let candidate = password.to_owned();
        let reused = self
            .directory()
            .run_argon2(move || previous.iter().any(|p| matches(p, &candidate)))
            .await?;
        if reused {
            return Err(DomainError::Invalid {
                param: "Password",
                message: format!("a password must differ from the last {remembered} passwords"),
            });
        }
        Ok(())
    }

    /// Writes a new hash and dates it; an administrator's reset is refused here, in the same
    /// transaction, while SSO logon is on.
    async fn store_password(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        phc: String,
        by: SetBy,
    ) -> Result<(), DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.write(move |txn| {
            super::existing(txn.resource(ResourceKind::User, &d, &u)?, &u)?;
            let settings: super::settings::DirectorySettings =
                txn.get(SigninSettingsKey { dir: &d })?.unwrap_or_default();
            if settings.sso_enabled && matches!(by, SetBy::Admin { .. }) {
                return Err(DomainError::Conflict {
                    rule: crate::error::Conflict::SsoEnabled,
                    message: "passwords cannot be reset while SSO logon is enabled".into(),
                });
            }
            let key = SigninUserKey { dir: &d, user: &u };
            let mut rec: UserSignIn = txn.get(key)?.unwrap_or_default();
            if let Some(prev) = txn.password_hash(&d, &u)? {
                rec.history.insert(0, prev);
                rec.history.truncate(PASSWORD_HISTORY_MAX);
            }
            rec.password_fingerprint = Some(fingerprint(&phc));
            rec.password_set_at = Some(now_unix());
            rec.must_change = matches!(
                by,
                SetBy::Admin {
                    require_change: true
                }
            );
            rec.failures = 0;
            rec.locked_until = None;
            txn.set_password_hash(&d, &UserId::new(u.as_str()), &phc)?;
            txn.put(key, &rec)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_password_rules() {
        let p = PasswordPolicy {
            min_length: 10,
            min_different_chars: 6,
            not_contain_username: true,
            ..PasswordPolicy::default()
        };
        let cases = [
            ("Aa1!aaaaaa", Err("different")),
            ("Aa1!bcdefg", Ok(())),
            ("Aa1!bcdef", Err("10 to 32")),
            ("aa1!bcdefgh", Err("upper-case")),
            ("AA1!BCDEFGH", Err("upper-case")),
            ("Aa!!bcdefgh", Err("upper-case")),
            ("Aa11bcdefgh", Err("upper-case")),
            ("Aa1!bcd efgh", Err("spaces")),
            ("Aa1!xaliceyz", Err("user name")),
            ("Aa1!xALICEyz", Err("user name")),
            ("Aa1!bcdefghijklmnopqrstuvwxyz0123", Err("10 to 32")),
        ];
        for (pw, want) in cases {
            let got = check_new_password(&p, pw, "alice");
            match want {
                Ok(()) => assert_eq!(got, Ok(()), "{pw}"),
                Err(word) => assert!(
                    got.as_ref().is_err_and(|m| m.contains(word)),
                    "{pw}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn random_passwords_meet_the_strictest_policy() {
        let p = PasswordPolicy {
            min_length: 32,
            min_different_chars: 10,
            ..PasswordPolicy::default()
        };
        for _ in 0..200 {
            let pw = random_password();
            assert_eq!(check_new_password(&p, &pw, "alice"), Ok(()), "{pw}");
        }
    }
}

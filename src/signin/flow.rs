//! The sign-in flow: from a user name and password (or a session at a partial stage) to the
//! next stage: a forced password change, MFA enrollment, an MFA code, or an active session.
//!
//! A failed password sign-in answers the same way, and costs the same argon2 verification and
//! one commit, whether the user is unknown, disabled, locked out, without a password, or gave a
//! wrong password. Failures are counted per user and lock the user out for an hour after the
//! policy's `MaxLoginAttempts`, durably.

use super::SignIn;
use super::password::{SetBy, matches};
use super::session::{DeepLink, Origin, Session, Stage};
use super::settings::{DirectorySettings, LOCKOUT_SECONDS};
use super::state::{UserSignIn, fingerprint, now_unix};
use crate::error::DomainError;
use crate::metrics::SigninOutcome;
use crate::model::{DirectoryId, ResourceKind, UserId};
use crate::store::keys::SigninUserKey;
use std::net::IpAddr;
use std::sync::OnceLock;

/// A directory as the portal addresses it: `/<name>/...`, or `/<id>/...` when it has no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalDirectory {
    pub id: DirectoryId,
    pub name: String,
}

impl PortalDirectory {
    /// The first path segment of the directory's portal URLs.
    pub fn segment(&self) -> &str {
        if self.name.is_empty() {
            self.id.as_str()
        } else {
            &self.name
        }
    }
}

/// Why a sign-in step was refused, as the page says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The one answer for every wrong user name, password, lockout or disabled user.
    WrongCredentials,
    /// The source address is outside the directory's LoginNetworkMasks.
    NetworkNotAllowed,
    /// Sign-in is disabled for the whole service.
    ServiceDisabled,
    /// The directory signs in through its identity provider (SSO).
    SsoOnly,
    /// Too many attempts from this address or for this user name; seconds to wait.
    TooManyAttempts(i64),
    /// The MFA code is wrong, malformed or already used.
    WrongCode,
    /// A new password was refused (the policy's words).
    BadPassword(String),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::WrongCredentials => "The user name or password is incorrect, or the user cannot sign in now (disabled, or locked out for an hour after too many failed attempts).".into(),
            Refusal::NetworkNotAllowed => "Sign-in is not allowed from your network address.".into(),
            Refusal::ServiceDisabled => "Sign-in is disabled for this service.".into(),
            Refusal::SsoOnly => "This directory signs in through its identity provider.".into(),
            Refusal::TooManyAttempts(s) => format!("Too many sign-in attempts. Try again in {s} seconds."),
            Refusal::WrongCode => "The code is incorrect or was already used. Enter the current code from your authenticator app.".into(),
            Refusal::BadPassword(m) => format!("That password cannot be used: {m}."),
        }
    }
}

/// A password sign-in's answer: a session at its first stage, or a refusal.
pub type Step<T> = Result<Result<T, Refusal>, DomainError>;

/// A hash with the same parameters as stored passwords, verified for users without one so
/// that every failure costs the same.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let mut salt = [0u8; 16];
        crate::model::fill_random(&mut salt);
        SaltString::encode_b64(&salt)
            .ok()
            .and_then(|s| {
                crate::directory::argon2id()
                    .hash_password(super::session::new_token().as_bytes(), &s)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
}

/// What a password check reads in one transaction.
struct Candidate {
    user: Option<UserId>,
    user_name: String,
    active: bool,
    phc: Option<String>,
    rec: UserSignIn,
    settings: DirectorySettings,
}

impl SignIn {
    /// The directory a portal path segment names (its name, or its id), if any.
    pub async fn portal_directory(
        &self,
        segment: &str,
    ) -> Result<Option<PortalDirectory>, DomainError> {
        let seg = segment.to_owned();
        self.read(move |txn| {
            let found = if seg.starts_with("d-") {
                txn.directory(&seg)?
            } else {
                txn.directories()?.into_iter().find(|d| d.name == seg)
            };
            Ok(found.map(|d| PortalDirectory {
                id: DirectoryId::new(d.id.as_str()),
                name: d.name,
            }))
        })
        .await
    }

    /// Checks the gates every sign-in step passes: the service, the source address, the rate
    /// limits (when `user_name` is given).
    pub(super) async fn gates(
        &self,
        settings: &DirectorySettings,
        ip: IpAddr,
        user_name: Option<&str>,
    ) -> Result<Option<Refusal>, DomainError> {
        if !self.service_enabled().await? {
            return Ok(Some(Refusal::ServiceDisabled));
        }
        if !settings.login.allows(ip) {
            return Ok(Some(Refusal::NetworkNotAllowed));
        }
        let now = now_unix();
        if let Err(s) = self.inner.per_source.attempt(&ip.to_string(), now) {
            return Ok(Some(Refusal::TooManyAttempts(s)));
        }
        if let Some(name) = user_name
            && let Err(s) = self.inner.per_user.attempt(&name.to_lowercase(), now)
        {
            return Ok(Some(Refusal::TooManyAttempts(s)));
        }
        Ok(None)
    }

    /// Signs in with a user name and password: a session at its first stage, or a refusal.
    pub async fn sign_in(
        &self,
        dir: &DirectoryId,
        user_name: &str,
        password: &str,
        origin: &Origin,
        ip: IpAddr,
        deep_link: Option<DeepLink>,
    ) -> Step<(String, Stage)> {
        let c = self.candidate(dir, user_name).await?;
        if let Some(r) = self.gates(&c.settings, ip, Some(user_name)).await? {
            self.count(SigninOutcome::Refused);
            return Ok(Err(r));
        }
        if c.settings.sso_enabled {
            self.count(SigninOutcome::Refused);
            return Ok(Err(Refusal::SsoOnly));
        }
        let now = now_unix();
        let locked = c.rec.locked_until.is_some_and(|t| t > now);
        let phc = c.phc.clone().unwrap_or_else(|| decoy_hash().to_owned());
        let pw = password.to_owned();
        let right = self
            .directory()
            .run_argon2(move || matches(&phc, &pw))
            .await?;
        let ok = right && c.phc.is_some() && c.active && !locked;
        let Some(user) = c.user.clone().filter(|_| ok) else {
            self.count_failure(dir, c.user.as_ref(), locked, &c.settings)
                .await?;
            self.count(if locked {
                SigninOutcome::Locked
            } else {
                SigninOutcome::BadPassword
            });
            return Ok(Err(Refusal::WrongCredentials));
        };
        let rec = self.note_success(dir, &user, c.phc.as_deref()).await?;
        let stage = self.first_stage(dir, &user, &rec, &c.settings).await?;
        self.count(match stage {
            Stage::Active => SigninOutcome::Success,
            Stage::ChangePassword => SigninOutcome::PasswordChangeRequired,
            Stage::EnrollMfa | Stage::VerifyMfa => SigninOutcome::MfaRequired,
        });
        let token = self
            .start_session(dir, &user, &c.user_name, origin, stage, deep_link)
            .await?;
        Ok(Ok((token, stage)))
    }

    /// Counts a sign-in step's outcome in the metrics.
    pub(super) fn count(&self, outcome: SigninOutcome) {
        self.inner.db.metrics().signin(outcome);
    }

    async fn candidate(
        &self,
        dir: &DirectoryId,
        user_name: &str,
    ) -> Result<Candidate, DomainError> {
        let (d, name) = (dir.to_string(), user_name.to_owned());
        let settings = self.settings(dir).await?;
        self.read(move |txn| {
            let id = txn.id_by_name(ResourceKind::User, &d, &name)?;
            let doc = match &id {
                Some(id) => txn.resource(ResourceKind::User, &d, id)?,
                None => None,
            };
            let active = doc
                .as_ref()
                .is_some_and(|v| v.get("active") != Some(&serde_json::Value::Bool(false)));
            let user_name = doc
                .as_ref()
                .and_then(|v| v.get("userName")?.as_str().map(str::to_owned))
                .unwrap_or(name);
            let (phc, rec) = match &id {
                Some(u) => (
                    txn.password_hash(&d, u)?,
                    txn.get(SigninUserKey { dir: &d, user: u })?
                        .unwrap_or_default(),
                ),
                None => (None, UserSignIn::default()),
            };
            Ok(Candidate {
                user: id
                    .filter(|_| doc.is_some())
                    .map(|i| UserId::new(i.as_str())),
                user_name,
                active,
                phc,
                rec,
                settings,
            })
        })
        .await
    }

    /// Counts a failed password for a known user (locking it out at the policy's limit); for
    /// an unknown user, commits nothing but still waits for a commit, so both cost the same.
    async fn count_failure(
        &self,
        dir: &DirectoryId,
        user: Option<&UserId>,
        locked: bool,
        settings: &DirectorySettings,
    ) -> Result<(), DomainError> {
        let max = settings.password_policy.max_login_attempts;
        let (d, u) = (dir.to_string(), user.map(|u| u.to_string()));
        self.write(move |txn| {
            let Some(u) = u.filter(|_| !locked) else {
                return Ok(());
            };
            let key = SigninUserKey { dir: &d, user: &u };
            let mut rec: UserSignIn = txn.get(key)?.unwrap_or_default();
            rec.failures = rec.failures.saturating_add(1);
            if max > 0 && rec.failures >= max {
                rec.locked_until = Some(now_unix() + LOCKOUT_SECONDS);
                rec.failures = 0;
            }
            txn.put(key, &rec)?;
            Ok(())
        })
        .await
    }

    /// After a right password: clears failures, and dates a password set elsewhere (SCIM)
    /// from now. Returns the record as it now is.
    async fn note_success(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        phc: Option<&str>,
    ) -> Result<UserSignIn, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        let fp = phc.map(fingerprint);
        self.write(move |txn| {
            let key = SigninUserKey { dir: &d, user: &u };
            let mut rec: UserSignIn = txn.get(key)?.unwrap_or_default();
            let before = rec.clone();
            if rec.password_fingerprint != fp {
                rec.password_fingerprint = fp;
                rec.password_set_at = Some(now_unix());
            }
            rec.failures = 0;
            rec.locked_until = None;
            if rec != before {
                txn.put(key, &rec)?;
            }
            Ok(rec)
        })
        .await
    }

    /// The stage after a right password.
    async fn first_stage(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        rec: &UserSignIn,
        settings: &DirectorySettings,
    ) -> Result<Stage, DomainError> {
        let max_age = i64::from(settings.password_policy.max_age_days) * 86_400;
        let expired = rec
            .password_set_at
            .is_some_and(|t| now_unix().saturating_sub(t) > max_age);
        if rec.must_change || expired {
            return Ok(Stage::ChangePassword);
        }
        self.mfa_stage(dir, user, rec, settings).await
    }

    async fn mfa_stage(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        rec: &UserSignIn,
        settings: &DirectorySettings,
    ) -> Result<Stage, DomainError> {
        let has_device = self.has_mfa_device(dir, user).await?;
        Ok(if !settings.mfa_required(rec, has_device) {
            Stage::Active
        } else if has_device {
            Stage::VerifyMfa
        } else {
            Stage::EnrollMfa
        })
    }

    /// The forced password change of a session at `ChangePassword`.
    pub async fn change_password(&self, s: &Session, new: &str, confirm: &str) -> Step<Session> {
        if s.record.stage != Stage::ChangePassword {
            return Err(DomainError::Unauthorized);
        }
        if new != confirm {
            return Ok(Err(Refusal::BadPassword("the two passwords differ".into())));
        }
        let (dir, user) = (s.directory(), s.user());
        match self
            .set_password(&dir, &user, new.to_owned(), SetBy::User)
            .await
        {
            Ok(()) => {}
            Err(DomainError::Invalid { message, .. }) => {
                return Ok(Err(Refusal::BadPassword(message)));
            }
            Err(e) => return Err(e),
        }
        let settings = self.settings(&dir).await?;
        let rec = self.user_record(&dir, &user).await?;
        let stage = self.mfa_stage(&dir, &user, &rec, &settings).await?;
        Ok(Ok(self.advance(s, stage, None).await?))
    }

    async fn user_record(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<UserSignIn, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.read(move |txn| {
            Ok(txn
                .get(SigninUserKey { dir: &d, user: &u })?
                .unwrap_or_default())
        })
        .await
    }

    /// The secret offered to a session at `EnrollMfa` (made once, kept sealed in the session
    /// until confirmed).
    pub async fn enrollment(
        &self,
        s: &Session,
        directory_name: &str,
    ) -> Result<(Session, super::totp::Enrollment), DomainError> {
        if s.record.stage != Stage::EnrollMfa {
            return Err(DomainError::Unauthorized);
        }
        let owner = format!("enroll/{}", s.digest);
        let issuer = format!("cloudsso ({directory_name})");
        if let Some(sealed) = &s.record.pending_totp
            && let Ok(secret) = self.sealer().open(&owner, sealed)
        {
            let e = super::totp::existing_enrollment(&issuer, &s.record.user_name, &secret)?;
            return Ok((s.clone(), e));
        }
        let e = super::totp::new_enrollment(&issuer, &s.record.user_name)?;
        let sealed = self.sealer().seal(&owner, &e.secret);
        let s = self.advance(s, Stage::EnrollMfa, Some(sealed)).await?;
        Ok((s, e))
    }

    /// What a code submission passes first: the session's stage, then the gates of every
    /// attempt; the directory's settings.
    async fn code_gates(&self, s: &Session, stage: Stage, ip: IpAddr) -> Step<DirectorySettings> {
        if s.record.stage != stage {
            return Err(DomainError::Unauthorized);
        }
        let settings = self.settings(&s.directory()).await?;
        match self.gates(&settings, ip, Some(&s.record.user_name)).await? {
            Some(r) => Ok(Err(r)),
            None => Ok(Ok(settings)),
        }
    }

    /// Confirms enrollment with one valid code: the device is stored and the session active.
    pub async fn confirm_enrollment(&self, s: &Session, code: &str, ip: IpAddr) -> Step<Session> {
        if let Err(r) = self.code_gates(s, Stage::EnrollMfa, ip).await? {
            self.count(SigninOutcome::Refused);
            return Ok(Err(r));
        }
        let owner = format!("enroll/{}", s.digest);
        let Some(secret) = s
            .record
            .pending_totp
            .as_ref()
            .and_then(|sealed| self.sealer().open(&owner, sealed).ok())
        else {
            self.count(SigninOutcome::MfaFailed);
            return Ok(Err(Refusal::WrongCode));
        };
        match self
            .add_device(&s.directory(), &s.user(), "", &secret, code)
            .await
        {
            Ok(_) => {
                self.count(SigninOutcome::MfaSuccess);
                Ok(Ok(self.advance(s, Stage::Active, None).await?))
            }
            Err(DomainError::Invalid { .. }) => {
                self.count(SigninOutcome::MfaFailed);
                Ok(Err(Refusal::WrongCode))
            }
            Err(e) => Err(e),
        }
    }

    /// The MFA code of a session at `VerifyMfa`.
    pub async fn verify_mfa(&self, s: &Session, code: &str, ip: IpAddr) -> Step<Session> {
        let settings = match self.code_gates(s, Stage::VerifyMfa, ip).await? {
            Ok(settings) => settings,
            Err(r) => {
                self.count(SigninOutcome::Refused);
                return Ok(Err(r));
            }
        };
        let (dir, user) = (s.directory(), s.user());
        let rec = self.user_record(&dir, &user).await?;
        if rec.locked_until.is_some_and(|t| t > now_unix()) {
            self.end_session_by_digest(&s.digest).await?;
            self.count(SigninOutcome::Locked);
            return Ok(Err(Refusal::WrongCredentials));
        }
        if self.check_code(&dir, &user, code).await? {
            self.count(SigninOutcome::MfaSuccess);
            return Ok(Ok(self.advance(s, Stage::Active, None).await?));
        }
        // Wrong codes count toward the same lockout as wrong passwords.
        self.count_failure(&dir, Some(&user), false, &settings)
            .await?;
        self.count(SigninOutcome::MfaFailed);
        Ok(Err(Refusal::WrongCode))
    }
}

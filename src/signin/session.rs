//! Portal sessions: a random 256-bit id in a cookie, stored only as its SHA-256 digest with the
//! user, directory, times, source and user agent. A session is checked whole on every request:
//! it is over when its absolute or idle time has passed, or at once when its user is disabled
//! or deleted, its password changed (the password fingerprint it was made with no longer
//! matches), or the service is disabled. Before MFA and a forced password change a session is
//! *partial*: it only opens the page of its next step.

use super::SignIn;
use super::state::{fingerprint, now_unix};
use crate::error::DomainError;
use crate::model::{DirectoryId, ResourceKind, UserId, fill_random, hex_lower};
use crate::store::keys::{Prefix, SessionByUserKey, SessionKey};
use crate::store::{ReadTxn, WriteTxn};
use serde::{Deserialize, Serialize};

/// How long a partial session (password checked, MFA or password change pending) lives.
pub const PARTIAL_SESSION_SECONDS: i64 = 600;
/// `last_seen` is written at most this often (a write per page view would be wasteful).
pub const LAST_SEEN_RESOLUTION_SECONDS: i64 = 60;
/// Longest user agent kept with a session.
pub const USER_AGENT_MAX: usize = 256;

/// What a session still needs before it opens the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// The password expired or an administrator asked for a new one.
    ChangePassword,
    /// MFA is required and the user has no device yet.
    EnrollMfa,
    /// MFA is required: a code from the user's device.
    VerifyMfa,
    /// Signed in.
    Active,
}

/// Where a deep link asked to go once signed in. Untagged: a session stored before the
/// device page existed holds a bare console link, which still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DeepLink {
    /// A console sign-in: `/<dir>/console/<account>/<configuration>`.
    Console(ConsoleLink),
    /// A CLI sign-in's approval page: `/<dir>/device?user_code=...`.
    Device(DeviceLink),
}

/// A console deep link's account and access configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleLink {
    pub account_id: String,
    pub config_id: String,
}

/// The user code a CLI sign-in's approval page was opened with (`XXXX-XXXX`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceLink {
    pub user_code: String,
}

/// A stored session (its key is the digest of the id, which is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub dir: String,
    pub user: String,
    pub user_name: String,
    pub created_at: i64,
    pub last_seen: i64,
    /// Unix seconds: absolute end (or the end of a partial session).
    pub expires_at: i64,
    pub source_ip: String,
    pub user_agent: String,
    /// Fingerprint of the password hash at sign-in (None: no password, e.g. SAML).
    pub password_fingerprint: Option<String>,
    pub stage: Stage,
    /// The synchronizer token every state-changing form carries.
    pub csrf: String,
    /// A TOTP secret offered for enrollment, sealed, until confirmed.
    #[serde(default)]
    pub pending_totp: Option<String>,
    #[serde(default)]
    pub deep_link: Option<DeepLink>,
}

/// A live session as the portal sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 hex of the id: names the session in storage and to administrators.
    pub digest: String,
    pub record: SessionRecord,
    /// Set when this step gave the session a new id (a partial session becoming active):
    /// the cookie must carry it from now on; the old id is dead.
    pub new_token: Option<String>,
}

impl Session {
    pub fn directory(&self) -> DirectoryId {
        DirectoryId::new(self.record.dir.as_str())
    }
    pub fn user(&self) -> UserId {
        UserId::new(self.record.user.as_str())
    }
}

/// A new random token: 32 bytes, hex.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    fill_random(&mut b);
    hex_lower(&b)
}

/// The storage name of a session id.
pub fn digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex_lower(&Sha256::digest(token.as_bytes()))
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Who is starting a session and from where.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source_ip: String,
    pub user_agent: String,
}

impl SignIn {
    /// Starts a session at `stage` for a user whose password (or IdP) was just checked;
    /// returns the session id for the cookie (never stored).
    pub(super) async fn start_session(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        user_name: &str,
        origin: &Origin,
        stage: Stage,
        deep_link: Option<DeepLink>,
    ) -> Result<String, DomainError> {
        let token = new_token();
        let now = now_unix();
        let record = SessionRecord {
            dir: dir.to_string(),
            user: user.to_string(),
            user_name: user_name.to_owned(),
            created_at: now,
            last_seen: now,
            expires_at: now.saturating_add(self.stage_lifetime(stage)),
            source_ip: origin.source_ip.clone(),
            user_agent: origin.user_agent.chars().take(USER_AGENT_MAX).collect(),
            password_fingerprint: None,
            stage,
            csrf: new_token(),
            pending_totp: None,
            deep_link,
        };
        let d = digest(&token);
        self.write(move |txn| {
            let mut record = record;
            record.password_fingerprint = txn
                .password_hash(&record.dir, &record.user)?
                .map(|p| fingerprint(&p));
            put_session(txn, &d, &record)
        })
        .await?;
        Ok(token)
    }

    fn stage_lifetime(&self, stage: Stage) -> i64 {
        match stage {
            Stage::Active => {
                i64::try_from(self.limits().session_absolute_seconds).unwrap_or(i64::MAX)
            }
            _ => PARTIAL_SESSION_SECONDS,
        }
    }

    /// The live session `token` names in directory `dir`, if any. Touches `last_seen` (at most
    /// once a `LAST_SEEN_RESOLUTION_SECONDS`).
    pub async fn session(
        &self,
        dir: &DirectoryId,
        token: &str,
    ) -> Result<Option<Session>, DomainError> {
        let d = digest(token);
        let (dir_s, idle) = (dir.to_string(), self.idle_seconds());
        let service_on = self.service_enabled().await?;
        let found = self
            .read(move |txn| live_session(txn, &d, &dir_s, idle, now_unix()))
            .await?;
        let Some(mut s) = found.filter(|_| service_on) else {
            return Ok(None);
        };
        let now = now_unix();
        // Touched often enough that a session in use never reaches its idle time.
        let resolution = LAST_SEEN_RESOLUTION_SECONDS.min(self.idle_seconds() / 4);
        if now - s.record.last_seen >= resolution {
            s.record.last_seen = now;
            let (d, rec) = (s.digest.clone(), s.record.clone());
            self.write(move |txn| {
                if txn
                    .get::<SessionRecord>(SessionKey { digest: &d })?
                    .is_some()
                {
                    txn.put(SessionKey { digest: &d }, &rec)?;
                }
                Ok(())
            })
            .await?;
        }
        Ok(Some(s))
    }

    fn idle_seconds(&self) -> i64 {
        i64::try_from(self.limits().session_idle_seconds).unwrap_or(i64::MAX)
    }

    /// Moves a session to its next stage (and resets its end when it becomes active).
    pub(super) async fn advance(
        &self,
        s: &Session,
        stage: Stage,
        pending_totp: Option<String>,
    ) -> Result<Session, DomainError> {
        let mut rec = s.record.clone();
        rec.stage = stage;
        rec.pending_totp = pending_totp;
        if stage == Stage::Active {
            let now = now_unix();
            rec.expires_at = now.saturating_add(self.stage_lifetime(stage));
            rec.last_seen = now;
        }
        // A session that becomes active gets a new id: an id seen before MFA (a fixated
        // one included) never opens the portal.
        let new_token = (stage == Stage::Active && s.record.stage != Stage::Active).then(new_token);
        let old = s.digest.clone();
        let d = new_token.as_deref().map_or_else(|| old.clone(), digest);
        let out = Session {
            digest: d.clone(),
            record: rec.clone(),
            new_token,
        };
        self.write(move |txn| {
            // The password may have been set on the way (forced change): the session follows.
            let mut rec = rec;
            rec.password_fingerprint = txn
                .password_hash(&rec.dir, &rec.user)?
                .map(|p| fingerprint(&p));
            if !delete_session(txn, &old)? {
                return Err(DomainError::Unauthorized);
            }
            put_session(txn, &d, &rec)
        })
        .await?;
        Ok(out)
    }

    /// Ends one session (sign-out), and the CLI tokens it approved.
    pub async fn end_session(&self, token: &str) -> Result<(), DomainError> {
        let d = digest(token);
        self.write(move |txn| end_session_for_good(txn, &d).map(|_| ()))
            .await
    }

    /// Forgets the deep link a session signed in with, once it has been followed.
    pub async fn forget_deep_link(&self, s: &Session) -> Result<(), DomainError> {
        if s.record.deep_link.is_none() {
            return Ok(());
        }
        let d = s.digest.clone();
        self.write(move |txn| {
            if let Some(mut rec) = txn.get::<SessionRecord>(SessionKey { digest: &d })? {
                rec.deep_link = None;
                txn.put(SessionKey { digest: &d }, &rec)?;
            }
            Ok(())
        })
        .await
    }

    /// Ends the session stored under `digest`.
    pub(super) async fn end_session_by_digest(&self, digest: &str) -> Result<(), DomainError> {
        let d = digest.to_owned();
        self.write(move |txn| end_session_for_good(txn, &d).map(|_| ()))
            .await
    }

    /// A user's sessions, newest first (administrators' `ListUserSessions`).
    pub async fn user_sessions(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<Vec<Session>, DomainError> {
        let (d, u, idle) = (dir.to_string(), user.to_string(), self.idle_seconds());
        let mut out = self
            .read(move |txn| {
                super::existing(txn.resource(ResourceKind::User, &d, &u)?, &u)?;
                let now = now_unix();
                let mut out = Vec::new();
                for (digest, ()) in
                    txn.scan_tails::<()>(Prefix::SessionsOf { dir: &d, user: &u })?
                {
                    out.extend(live_session(txn, &digest, &d, idle, now)?);
                }
                Ok(out)
            })
            .await?;
        out.sort_by_key(|s| std::cmp::Reverse(s.record.created_at));
        Ok(out)
    }

    /// Ends a user's sessions: all, or the one whose digest starts with `only` (the id
    /// administrators see). Returns how many ended.
    pub async fn revoke_sessions(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        only: Option<String>,
    ) -> Result<usize, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.write(move |txn| {
            super::existing(txn.resource(ResourceKind::User, &d, &u)?, &u)?;
            let mut n = 0;
            for (digest, ()) in txn.scan_tails::<()>(Prefix::SessionsOf { dir: &d, user: &u })? {
                if only.as_deref().is_none_or(|o| digest.starts_with(o))
                    && end_session_for_good(txn, &digest)?
                {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }
}

fn put_session(txn: &WriteTxn, digest: &str, rec: &SessionRecord) -> Result<(), DomainError> {
    txn.put(SessionKey { digest }, rec)?;
    txn.put(
        SessionByUserKey {
            dir: &rec.dir,
            user: &rec.user,
            digest,
        },
        &(),
    )?;
    Ok(())
}

/// Ends a session (sign-out, revocation, its user disabled): removes it and ends the CLI
/// tokens it approved; whether it was there. (A session that only moves to a new id, or times
/// out, goes through `delete_session`: its tokens keep their own life.)
pub(super) fn end_session_for_good(txn: &WriteTxn, digest: &str) -> Result<bool, DomainError> {
    let Some(rec) = txn.get::<SessionRecord>(SessionKey { digest })? else {
        return Ok(false);
    };
    use super::device::tokens::{Ending, end_tokens};
    end_tokens(txn, &rec.dir, &rec.user, Ending::Session(digest))?;
    delete_session(txn, digest)
}

/// Removes a session and its index row; whether it was there.
pub(super) fn delete_session(txn: &WriteTxn, digest: &str) -> Result<bool, DomainError> {
    let Some(rec) = txn.get::<SessionRecord>(SessionKey { digest })? else {
        return Ok(false);
    };
    txn.delete(SessionKey { digest })?;
    txn.delete(SessionByUserKey {
        dir: &rec.dir,
        user: &rec.user,
        digest,
    })?;
    Ok(true)
}

/// The session at `digest` if it belongs to `dir` and is alive at `now`: within its absolute
/// and idle times, its user present and active, its password unchanged.
fn live_session(
    txn: &ReadTxn,
    digest: &str,
    dir: &str,
    idle: i64,
    now: i64,
) -> Result<Option<Session>, DomainError> {
    let Some(rec) = txn.get::<SessionRecord>(SessionKey { digest })? else {
        return Ok(None);
    };
    if rec.dir != dir || now >= rec.expires_at || now.saturating_sub(rec.last_seen) >= idle {
        return Ok(None);
    }
    let Some(doc) = txn.resource(ResourceKind::User, &rec.dir, &rec.user)? else {
        return Ok(None);
    };
    if doc.get("active") == Some(&serde_json::Value::Bool(false)) {
        return Ok(None);
    }
    let current = txn
        .password_hash(&rec.dir, &rec.user)?
        .map(|p| fingerprint(&p));
    if current != rec.password_fingerprint {
        return Ok(None);
    }
    Ok(Some(Session {
        digest: digest.to_owned(),
        record: rec,
        new_token: None,
    }))
}

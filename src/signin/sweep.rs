//! Removes what sign-in keeps that nothing can use any more: expired sessions, device
//! authorizations and CLI access tokens, and the
//! sessions, sign-in records, MFA devices and preferences of deleted users, and the settings,
//! IdP keys and external IdP configuration of deleted directories. A dead session is already refused on every request (it is
//! checked whole); the sweep only frees the space and forgets sealed secrets. Runs at start and
//! every `SWEEP_SECONDS`.

use super::SignIn;
use super::device::service::forget_expired_authorizations;
use super::device::tokens::{Ending, end_directory_tokens, end_tokens, forget_expired_tokens};
use super::session::{SessionRecord, delete_session};
use super::state::now_unix;
use crate::error::DomainError;
use crate::model::ResourceKind;
use crate::store::WriteTxn;
use crate::store::keys::{
    IdpKeysKey, MfaDeviceKey, PortalPrefsKey, Prefix, SamlIdpKey, SigninSettingsKey, SigninUserKey,
};
use serde::de::IgnoredAny;
use std::collections::BTreeSet;
use std::time::Duration;

/// Seconds between sweeps.
pub const SWEEP_SECONDS: u64 = 300;
/// Most records removed by one write job (a sweep runs several jobs when there is more).
pub const SWEEP_BATCH_MAX: usize = 1000;

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: usize,
    pub user_records: usize,
    pub directories: usize,
    /// Remembered SAML assertion and request ids past their time.
    pub saml_ids: usize,
    /// Device authorizations and CLI access tokens past their time.
    pub device: usize,
}

impl SignIn {
    /// One sweep.
    pub async fn sweep(&self) -> Result<Swept, DomainError> {
        let mut total = Swept::default();
        loop {
            let idle = i64::try_from(self.limits().session_idle_seconds).unwrap_or(i64::MAX);
            let s = self.write(move |txn| sweep_batch(txn, idle)).await?;
            total.sessions += s.sessions;
            total.user_records += s.user_records;
            total.directories += s.directories;
            total.saml_ids += s.saml_ids;
            total.device += s.device;
            if s.sessions + s.user_records + s.directories + s.saml_ids + s.device < SWEEP_BATCH_MAX
            {
                return Ok(total);
            }
        }
    }

    /// Sweeps now and every `SWEEP_SECONDS` until `stop` resolves.
    pub async fn run_sweeper(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.sweep().await {
                Ok(s) if s != Swept::default() => tracing::info!(?s, "sign-in sweep"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sign-in sweep failed"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(Duration::from_secs(SWEEP_SECONDS)) => {}
            }
        }
    }
}

fn sweep_batch(txn: &WriteTxn, idle: i64) -> Result<Swept, DomainError> {
    let now = now_unix();
    let mut out = Swept::default();
    let user_gone = |dir: &str, user: &str| -> Result<bool, DomainError> {
        Ok(txn.resource(ResourceKind::User, dir, user)?.is_none())
    };
    for (digest, rec) in txn.scan_tails::<SessionRecord>(Prefix::AllSessions)? {
        if out.sessions >= SWEEP_BATCH_MAX {
            return Ok(out);
        }
        let dead = now >= rec.expires_at
            || now.saturating_sub(rec.last_seen) >= idle
            || user_gone(&rec.dir, &rec.user)?;
        if dead && delete_session(txn, &digest)? {
            out.sessions += 1;
        }
    }
    for d in txn.directories()? {
        let dir = d.id.as_str();
        for user in users_with_records(txn, dir)? {
            if out.user_records >= SWEEP_BATCH_MAX {
                return Ok(out);
            }
            if user_gone(dir, &user)? {
                forget_user(txn, dir, &user)?;
                out.user_records += 1;
            }
        }
    }
    out.directories += forget_deleted_directories(txn)?;
    out.saml_ids = super::saml::sso::forget_expired(txn, SWEEP_BATCH_MAX)?;
    out.device = forget_expired_authorizations(txn, now, SWEEP_BATCH_MAX)?;
    out.device += forget_expired_tokens(txn, now, SWEEP_BATCH_MAX - out.device)?;
    Ok(out)
}

/// Removes a deleted user's sign-in record, devices and preferences.
pub(super) fn forget_user(txn: &WriteTxn, dir: &str, user: &str) -> Result<(), DomainError> {
    txn.delete(SigninUserKey { dir, user })?;
    end_tokens(txn, dir, user, Ending::All)?;
    txn.delete(PortalPrefsKey { dir, user })?;
    for (device, _) in txn.scan_tails::<IgnoredAny>(Prefix::MfaDevicesOf { dir, user })? {
        txn.delete(MfaDeviceKey {
            dir,
            user,
            device: &device,
        })?;
    }
    Ok(())
}

/// Removes everything sign-in keeps about a deleted directory.
pub(super) fn forget_directory(txn: &WriteTxn, dir: &str) -> Result<(), DomainError> {
    for user in users_with_records(txn, dir)? {
        forget_user(txn, dir, &user)?;
    }
    for (tail, ()) in txn.scan_tails::<()>(Prefix::SessionsIn { dir })? {
        if let Some((_, digest)) = tail.split_once('\0') {
            delete_session(txn, digest)?;
        }
    }
    end_directory_tokens(txn, dir)?;
    txn.delete(SigninSettingsKey { dir })?;
    txn.delete(IdpKeysKey { dir })?;
    txn.delete(SamlIdpKey { dir })?;
    Ok(())
}

/// Users of `dir` with a sign-in record, an MFA device or portal preferences.
fn users_with_records(txn: &WriteTxn, dir: &str) -> Result<BTreeSet<String>, DomainError> {
    let mut users = BTreeSet::new();
    for p in [
        Prefix::SigninUsersIn { dir },
        Prefix::PortalPrefsIn { dir },
        Prefix::MfaDevicesIn { dir },
    ] {
        for (tail, _) in txn.scan_tails::<IgnoredAny>(p)? {
            // Device rows end `user\0device`: the user is the first part.
            users.insert(tail.split('\0').next().unwrap_or_default().to_owned());
        }
    }
    Ok(users)
}

/// Removes the settings, IdP keys and external IdP configuration of directories that no
/// longer exist.
fn forget_deleted_directories(txn: &WriteTxn) -> Result<usize, DomainError> {
    let mut n = 0;
    for (dir, _) in txn.scan_tails::<IgnoredAny>(Prefix::AllSigninSettings)? {
        if txn.directory(&dir)?.is_none() {
            txn.delete(SigninSettingsKey { dir: &dir })?;
            n += 1;
        }
    }
    for (dir, _) in txn.scan_tails::<IgnoredAny>(Prefix::AllIdpKeys)? {
        if txn.directory(&dir)?.is_none() {
            txn.delete(IdpKeysKey { dir: &dir })?;
            n += 1;
        }
    }
    for (dir, _) in txn.scan_tails::<IgnoredAny>(Prefix::AllSamlIdps)? {
        if txn.directory(&dir)?.is_none() {
            txn.delete(SamlIdpKey { dir: &dir })?;
            n += 1;
        }
    }
    Ok(n)
}

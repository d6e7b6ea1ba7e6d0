//! SCIM server credentials: bearer secrets (256 random bits) stored only as SHA-256 digests,
//! looked up by digest; and the first-start bootstrap of a directory and its credential.

use super::{Directory, DirectoryError};
use crate::model::{
    ChangeEvent, ChangeKind, ResourceType, fill_random, new_prefixed_id, now_rfc3339,
};
use crate::store::{CredentialRecord, CredentialStatus, DirectoryRecord, WriteTxn};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Successful logins, so a request does not read the store to authenticate. Bounded; cleared
/// whole by every credential or directory change (all of which go through `Directory`).
#[derive(Debug, Default)]
pub(super) struct AuthCache {
    /// digest -> (directory, credential expiry in Unix seconds), and the number of clears so
    /// far: a login read from the store before a clear is not cached after it.
    map: std::sync::RwLock<(Logins, u64)>,
}

/// digest -> (directory, credential expiry in Unix seconds)
type Logins = std::collections::HashMap<String, (String, i64)>;

/// Most cached logins; the cache is emptied when it is full.
const AUTH_CACHE_MAX: usize = 4096;

impl AuthCache {
    /// The cached directory of a login, or the generation to pass to `put` after a lookup.
    fn get(&self, digest: &str, now: i64) -> Result<String, u64> {
        let guard = self
            .map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, generation) = &*guard;
        map.get(digest)
            .filter(|(_, expires)| *expires > now)
            .map(|(dir, _)| dir.clone())
            .ok_or(*generation)
    }

    fn put(&self, generation: u64, digest: String, dir: String, expires: i64) {
        let mut guard = self
            .map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, current) = &mut *guard;
        if *current != generation {
            return;
        }
        if map.len() >= AUTH_CACHE_MAX {
            map.clear();
        }
        map.insert(digest, (dir, expires));
    }

    pub(super) fn clear(&self) {
        let mut guard = self
            .map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.clear();
        guard.1 = guard.1.wrapping_add(1);
    }
}

/// Default lifetime of a new credential, in seconds (one year).
pub const CREDENTIAL_TTL_SECONDS: i64 = 365 * 24 * 3600;

/// A newly made secret: shown once, never stored.
pub struct CredentialSecret {
    pub credential_id: String,
    pub secret: String,
}

impl std::fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSecret")
            .field("credential_id", &self.credential_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What first start made.
#[derive(Debug)]
pub struct Bootstrap {
    pub directory_id: String,
    pub credential: CredentialSecret,
}

pub fn digest_hex(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new bearer secret: 256 random bits, base64url.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn append(
    txn: &WriteTxn,
    dir: &str,
    resource: ResourceType,
    id: &str,
    kind: ChangeKind,
) -> Result<(), DirectoryError> {
    let seq = txn.next_seq()?;
    txn.append_event(&ChangeEvent {
        seq,
        directory: dir.to_owned(),
        resource,
        id: id.to_owned(),
        kind,
        members: Vec::new(),
        at: now_rfc3339(),
    })?;
    Ok(())
}

fn insert_credential(
    txn: &WriteTxn,
    dir: &str,
    secret: String,
) -> Result<CredentialSecret, DirectoryError> {
    let rec = CredentialRecord {
        id: new_prefixed_id("scimcred-", 20),
        directory_id: dir.to_owned(),
        digest_hex: digest_hex(&secret),
        status: CredentialStatus::Enabled,
        created: now_rfc3339(),
        expires_unix: now_unix().saturating_add(CREDENTIAL_TTL_SECONDS),
    };
    txn.put_credential(&rec)?;
    append(
        txn,
        dir,
        ResourceType::ScimCredential,
        &rec.id,
        ChangeKind::Created,
    )?;
    Ok(CredentialSecret {
        credential_id: rec.id,
        secret,
    })
}

impl Directory {
    /// Whether no directory exists yet (first start).
    pub async fn is_empty(&self) -> Result<bool, DirectoryError> {
        self.read(|_, txn| Ok(txn.directories()?.is_empty())).await
    }

    /// On an empty store: makes the first directory `id` (SCIM synchronization enabled) and one
    /// SCIM credential with `secret`. `None` when any directory exists already.
    pub async fn bootstrap(
        &self,
        id: String,
        secret: String,
    ) -> Result<Option<Bootstrap>, DirectoryError> {
        self.write(move |txn| {
            if !txn.directories()?.is_empty() {
                return Ok(None);
            }
            txn.put_directory(&DirectoryRecord {
                id: id.clone(),
                name: "default".into(),
                created: now_rfc3339(),
                scim_sync_enabled: true,
            })?;
            append(txn, &id, ResourceType::Directory, &id, ChangeKind::Created)?;
            let credential = insert_credential(txn, &id, secret)?;
            Ok(Some(Bootstrap {
                directory_id: id,
                credential,
            }))
        })
        .await
    }

    /// A new directory with SCIM synchronization enabled; returns its id.
    pub async fn create_directory(&self, name: &str) -> Result<String, DirectoryError> {
        let name = name.to_owned();
        self.write(move |txn| {
            let id = new_prefixed_id("d-", 14);
            txn.put_directory(&DirectoryRecord {
                id: id.clone(),
                name,
                created: now_rfc3339(),
                scim_sync_enabled: true,
            })?;
            append(txn, &id, ResourceType::Directory, &id, ChangeKind::Created)?;
            Ok(id)
        })
        .await
    }

    /// A new enabled SCIM credential for a directory.
    pub async fn create_credential(&self, dir: &str) -> Result<CredentialSecret, DirectoryError> {
        let d = dir.to_owned();
        self.write(move |txn| {
            if txn.directory(&d)?.is_none() {
                return Err(DirectoryError::NotFound {
                    what: "directory",
                    id: d,
                });
            }
            insert_credential(txn, &d, new_secret())
        })
        .await
    }

    /// Sets a credential's status; a disabled credential is refused on its next request.
    pub async fn set_credential_status(
        &self,
        id: &str,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        self.update_credential(id, move |rec| {
            rec.status = if enabled {
                CredentialStatus::Enabled
            } else {
                CredentialStatus::Disabled
            };
        })
        .await
    }

    /// Sets when a credential stops working (Unix seconds); from then on it is refused.
    pub async fn set_credential_expiry(
        &self,
        id: &str,
        expires_unix: i64,
    ) -> Result<(), DirectoryError> {
        self.update_credential(id, move |rec| rec.expires_unix = expires_unix)
            .await
    }

    /// Changes a credential record and records the change in the outbox.
    async fn update_credential(
        &self,
        id: &str,
        change: impl FnOnce(&mut CredentialRecord) + Send + 'static,
    ) -> Result<(), DirectoryError> {
        let id = id.to_owned();
        self.write(move |txn| {
            let mut rec = txn
                .credential(&id)?
                .ok_or_else(|| DirectoryError::NotFound {
                    what: "credential",
                    id: id.clone(),
                })?;
            change(&mut rec);
            txn.put_credential(&rec)?;
            append(
                txn,
                &rec.directory_id,
                ResourceType::ScimCredential,
                &rec.id,
                ChangeKind::Updated,
            )?;
            Ok(())
        })
        .await?;
        // INVARIANT: every change to a credential or a directory forgets cached logins, after
        // its commit (a login read before the commit is then refused by the cache).
        self.inner.auth_cache.clear();
        Ok(())
    }

    /// The directory a bearer secret opens: the credential must exist, be enabled and
    /// unexpired, and its directory must have SCIM synchronization enabled.
    pub async fn authenticate(&self, secret: &str) -> Result<String, DirectoryError> {
        let digest = digest_hex(secret);
        let generation = match self.inner.auth_cache.get(&digest, now_unix()) {
            Ok(dir) => return Ok(dir),
            Err(generation) => generation,
        };
        let cache_key = digest.clone();
        let (dir, expires) = self
            .read(move |_, txn| {
                let rec = txn
                    .credential_by_digest(&digest)?
                    .ok_or(DirectoryError::Unauthorized)?;
                if rec.status != CredentialStatus::Enabled || rec.expires_unix <= now_unix() {
                    return Err(DirectoryError::Unauthorized);
                }
                let dir = txn
                    .directory(&rec.directory_id)?
                    .ok_or(DirectoryError::Unauthorized)?;
                if !dir.scim_sync_enabled {
                    return Err(DirectoryError::SyncDisabled(dir.id));
                }
                Ok((dir.id, rec.expires_unix))
            })
            .await?;
        self.inner
            .auth_cache
            .put(generation, cache_key, dir.clone(), expires);
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_cache_refuses_a_login_read_before_a_clear() {
        let c = AuthCache::default();
        let g = c.get("d1", 0).unwrap_err();
        c.put(g, "d1".into(), "dir".into(), 100);
        assert_eq!(c.get("d1", 50), Ok("dir".into()));
        assert!(c.get("d1", 100).is_err(), "expired");
        // A lookup starts, a credential changes, the lookup's result arrives: not cached.
        let g = c.get("d2", 0).unwrap_err();
        c.clear();
        c.put(g, "d2".into(), "dir".into(), 100);
        assert!(c.get("d2", 0).is_err());
        assert!(c.get("d1", 0).is_err(), "a clear forgets every login");
    }
}

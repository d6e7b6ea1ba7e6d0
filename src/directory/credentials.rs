//! SCIM server credentials: bearer secrets (256 random bits) stored only as SHA-256 digests,
//! looked up by digest; and the first-start bootstrap of a directory and its credential.

use super::Directory;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::{
    ChangeKind, DirectoryId, ResourceType, fill_random, new_prefixed_id, now_rfc3339,
};
use crate::store::keys::{OauthTokenKey, Prefix};
use crate::store::{CredentialKind, CredentialRecord, CredentialStatus, DirectoryRecord, WriteTxn};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Successful logins, so a request does not read the store to authenticate. Bounded; cleared
/// whole by every credential or directory change (all of which go through `Directory`).
#[derive(Debug, Default)]
pub(super) struct AuthCache {
    /// digest -> login, and the number of clears so far: a login read from the store before a
    /// clear is not cached after it.
    map: std::sync::RwLock<(Logins, u64)>,
}

/// A checked login: the directory it opens, the credential behind it, and when it expires
/// (Unix seconds; the earlier of the credential's and, for OAuth, the access token's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Login {
    dir: String,
    credential: String,
    expires: i64,
}

type Logins = std::collections::HashMap<String, Login>;

/// Most cached logins; the cache is emptied when it is full.
const AUTH_CACHE_MAX: usize = 4096;

impl AuthCache {
    /// The cached login, or the generation to pass to `put` after a lookup.
    fn get(&self, digest: &str, now: i64) -> Result<Login, u64> {
        let guard = self
            .map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, generation) = &*guard;
        map.get(digest)
            .filter(|l| l.expires > now)
            .cloned()
            .ok_or(*generation)
    }

    fn put(&self, generation: u64, digest: String, login: Login) {
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
        map.insert(digest, login);
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
/// Shortest and longest lifetime a credential may be given (one day, three years).
pub const CREDENTIAL_TTL_MIN_SECONDS: i64 = 24 * 3600;
pub const CREDENTIAL_TTL_MAX_SECONDS: i64 = 3 * 365 * 24 * 3600;
/// Most SCIM credentials per directory (CloudSSO's quota).
pub const CREDENTIALS_PER_DIRECTORY_MAX: usize = 2;
/// Bounds of a credential's OAuth access token lifetime, in minutes (the default is the
/// `oauth_token_ttl_seconds` limit).
pub const TOKEN_TTL_MINUTES_MIN: u32 = 60;
pub const TOKEN_TTL_MINUTES_MAX: u32 = 360;
/// A credential's last-used time is written at most this often.
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// A newly made secret: shown once, never stored.
pub struct CredentialSecret {
    pub credential_id: String,
    pub secret: String,
    pub record: CredentialRecord,
}

impl std::fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSecret")
            .field("credential_id", &self.credential_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What a new credential is: its type, its lifetime, its access tokens' lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialOptions {
    pub kind: CredentialKind,
    /// Unix seconds; default: one year from now.
    pub expires_unix: Option<i64>,
    /// OAuth client secrets only; default: the `oauth_token_ttl_seconds` limit.
    pub token_ttl_minutes: Option<u32>,
}

impl Default for CredentialOptions {
    fn default() -> Self {
        CredentialOptions {
            kind: CredentialKind::BearerToken,
            expires_unix: None,
            token_ttl_minutes: None,
        }
    }
}

/// An issued OAuth access token (RFC 6749 section 5.1).
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// An OAuth access token as stored (by SHA-256 of the token).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct TokenRecord {
    credential_id: String,
    expires_unix: i64,
}

/// What first start made.
#[derive(Debug)]
pub struct Bootstrap {
    pub directory_id: DirectoryId,
    pub credential: CredentialSecret,
}

pub fn digest_hex(secret: &str) -> String {
    crate::model::hex_lower(&Sha256::digest(secret.as_bytes()))
}

/// A new bearer secret: 256 random bits, base64url.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Appends one change event (no member list) under the next sequence number.
pub(crate) fn append(
    txn: &WriteTxn,
    dir: &str,
    resource: ResourceType,
    id: &str,
    kind: ChangeKind,
) -> Result<(), DomainError> {
    txn.append_change(dir, resource, id, kind)?;
    Ok(())
}

fn check_options(opts: &CredentialOptions, now: i64) -> Result<(), DomainError> {
    if let Some(at) = opts.expires_unix {
        let ttl = at - now;
        if !(CREDENTIAL_TTL_MIN_SECONDS..=CREDENTIAL_TTL_MAX_SECONDS).contains(&ttl) {
            return Err(DomainError::Invalid {
                param: "ExpireTime",
                message: "must be between one day and three years from now".into(),
            });
        }
    }
    if let Some(m) = opts.token_ttl_minutes {
        if opts.kind != CredentialKind::OAuthClientSecret {
            return Err(DomainError::Invalid {
                param: "TokenValidityMinutes",
                message: "applies to OAuthClientSecret credentials only".into(),
            });
        }
        if !(TOKEN_TTL_MINUTES_MIN..=TOKEN_TTL_MINUTES_MAX).contains(&m) {
            return Err(DomainError::Invalid {
                param: "TokenValidityMinutes",
                message: format!(
                    "must be between {TOKEN_TTL_MINUTES_MIN} and {TOKEN_TTL_MINUTES_MAX}"
                ),
            });
        }
    }
    Ok(())
}

fn insert_credential(
    txn: &WriteTxn,
    dir: &str,
    secret: String,
    opts: CredentialOptions,
) -> Result<CredentialSecret, DomainError> {
    let now = now_unix();
    let rec = CredentialRecord {
        id: new_prefixed_id("scimcred-", 20),
        kind: opts.kind,
        directory_id: dir.to_owned(),
        digest_hex: digest_hex(&secret),
        status: CredentialStatus::Enabled,
        created: now_rfc3339(),
        expires_unix: opts
            .expires_unix
            .unwrap_or(now.saturating_add(CREDENTIAL_TTL_SECONDS)),
        last_used: None,
        token_ttl_minutes: opts.token_ttl_minutes,
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
        credential_id: rec.id.clone(),
        secret,
        record: rec,
    })
}

fn directory_in(txn: &WriteTxn, id: &str) -> Result<DirectoryRecord, DomainError> {
    txn.directory(id)?.ok_or_else(|| DomainError::NotFound {
        entity: Entity::Directory,
        id: id.to_owned(),
    })
}

impl Directory {
    /// Whether no directory exists yet (first start).
    pub async fn is_empty(&self) -> Result<bool, DomainError> {
        self.read(|_, txn| Ok(txn.directories()?.is_empty())).await
    }

    /// On an empty store: makes the first directory `id` (SCIM synchronization enabled) and one
    /// SCIM credential with `secret`. `None` when any directory exists already.
    pub async fn bootstrap(
        &self,
        id: DirectoryId,
        secret: String,
    ) -> Result<Option<Bootstrap>, DomainError> {
        self.write(move |txn| {
            if !txn.directories()?.is_empty() {
                return Ok(None);
            }
            txn.put_directory(&DirectoryRecord {
                id: id.to_string(),
                name: "default".into(),
                created: now_rfc3339(),
                scim_sync_enabled: true,
                updated: None,
            })?;
            append(txn, &id, ResourceType::Directory, &id, ChangeKind::Created)?;
            let credential = insert_credential(txn, &id, secret, CredentialOptions::default())?;
            Ok(Some(Bootstrap {
                directory_id: id,
                credential,
            }))
        })
        .await
    }

    /// A new directory with SCIM synchronization enabled.
    pub async fn create_directory(&self, name: &str) -> Result<DirectoryRecord, DomainError> {
        let name = name.to_owned();
        let r = self
            .write(move |txn| {
                if txn.directories()?.iter().any(|d| d.name == name) {
                    return Err(DomainError::AlreadyExists {
                        entity: Entity::Directory,
                        id: name,
                    });
                }
                let id = new_prefixed_id("d-", 14);
                let rec = DirectoryRecord {
                    id: id.clone(),
                    name,
                    created: now_rfc3339(),
                    scim_sync_enabled: true,
                    updated: None,
                };
                txn.put_directory(&rec)?;
                append(txn, &id, ResourceType::Directory, &id, ChangeKind::Created)?;
                Ok(rec)
            })
            .await;
        self.inner.auth_cache.clear();
        r
    }

    pub async fn directory(&self, id: &DirectoryId) -> Result<DirectoryRecord, DomainError> {
        let id = id.to_string();
        self.read(move |_, txn| {
            txn.directory(&id)?.ok_or(DomainError::NotFound {
                entity: Entity::Directory,
                id,
            })
        })
        .await
    }

    pub async fn directories(&self) -> Result<Vec<DirectoryRecord>, DomainError> {
        self.read(|_, txn| Ok(txn.directories()?)).await
    }

    /// Changes a directory record (name, synchronization) and records it in the outbox.
    pub async fn update_directory(
        &self,
        id: &DirectoryId,
        change: impl FnOnce(&mut DirectoryRecord) -> Result<(), DomainError> + Send + 'static,
    ) -> Result<DirectoryRecord, DomainError> {
        let id = id.to_string();
        let r = self
            .write(move |txn| {
                let mut rec = directory_in(txn, &id)?;
                change(&mut rec)?;
                rec.updated = Some(now_rfc3339());
                if txn
                    .directories()?
                    .iter()
                    .any(|d| d.id != rec.id && d.name == rec.name)
                {
                    return Err(DomainError::AlreadyExists {
                        entity: Entity::Directory,
                        id: rec.name,
                    });
                }
                txn.put_directory(&rec)?;
                append(txn, &id, ResourceType::Directory, &id, ChangeKind::Updated)?;
                Ok(rec)
            })
            .await;
        // INVARIANT (see `update_credential`): synchronization status decides logins.
        self.inner.auth_cache.clear();
        r
    }

    /// Deletes a directory that holds no users and no groups, and nothing `dependents` knows
    /// of, with its SCIM credentials.
    pub async fn delete_directory(
        &self,
        id: &DirectoryId,
        dependents: std::sync::Arc<dyn super::Dependents>,
    ) -> Result<(), DomainError> {
        let id = id.to_string();
        let r = self
            .write(move |txn| {
                directory_in(txn, &id)?;
                if txn.count(crate::scim::schema::ResourceKind::User, &id)? > 0 {
                    return Err(DomainError::Conflict {
                        rule: Conflict::DirectoryHasUsers,
                        message: format!("directory `{id}` still has users"),
                    });
                }
                if txn.count(crate::scim::schema::ResourceKind::Group, &id)? > 0 {
                    return Err(DomainError::Conflict {
                        rule: Conflict::DirectoryHasGroups,
                        message: format!("directory `{id}` still has groups"),
                    });
                }
                dependents.check_directory(txn, &id)?;
                let creds = txn.credentials(&id)?;
                for c in &creds {
                    txn.delete_credential(c)?;
                }
                for (k, t) in txn.scan_tails::<TokenRecord>(Prefix::AllOauthTokens)? {
                    if creds.iter().any(|c| c.id == t.credential_id) {
                        txn.delete(OauthTokenKey { digest: &k })?;
                    }
                }
                txn.delete_directory(&id)?;
                append(txn, &id, ResourceType::Directory, &id, ChangeKind::Deleted)?;
                Ok(())
            })
            .await;
        self.inner.auth_cache.clear();
        r
    }

    /// A new enabled SCIM credential for a directory, at most
    /// `CREDENTIALS_PER_DIRECTORY_MAX` per directory.
    pub async fn create_credential(
        &self,
        dir: &DirectoryId,
        opts: CredentialOptions,
    ) -> Result<CredentialSecret, DomainError> {
        check_options(&opts, now_unix())?;
        let d = dir.to_string();
        self.write(move |txn| {
            directory_in(txn, &d)?;
            if txn.credentials(&d)?.len() >= CREDENTIALS_PER_DIRECTORY_MAX {
                return Err(DomainError::Quota {
                    entity: Entity::ScimCredential,
                    max: CREDENTIALS_PER_DIRECTORY_MAX,
                });
            }
            insert_credential(txn, &d, new_secret(), opts)
        })
        .await
    }

    /// A directory's SCIM credentials, oldest first.
    pub async fn credentials(
        &self,
        dir: &DirectoryId,
    ) -> Result<Vec<CredentialRecord>, DomainError> {
        let d = dir.to_string();
        self.read(move |_, txn| {
            txn.directory(&d)?.ok_or_else(|| DomainError::NotFound {
                entity: Entity::Directory,
                id: d.clone(),
            })?;
            let mut all = txn.credentials(&d)?;
            all.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
            Ok(all)
        })
        .await
    }

    /// A credential of a directory.
    pub async fn credential(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<CredentialRecord, DomainError> {
        let (d, id) = (dir.to_string(), id.to_owned());
        self.read(move |_, txn| {
            txn.credential(&id)?
                .filter(|c| c.directory_id == d)
                .ok_or(DomainError::NotFound {
                    entity: Entity::ScimCredential,
                    id,
                })
        })
        .await
    }

    /// Deletes a credential; its next request (and its access tokens') is refused.
    pub async fn delete_credential(&self, dir: &DirectoryId, id: &str) -> Result<(), DomainError> {
        let (d, id) = (dir.to_string(), id.to_owned());
        let r = self
            .write(move |txn| {
                let rec = txn
                    .credential(&id)?
                    .filter(|c| c.directory_id == d)
                    .ok_or_else(|| DomainError::NotFound {
                        entity: Entity::ScimCredential,
                        id: id.clone(),
                    })?;
                txn.delete_credential(&rec)?;
                for (k, t) in txn.scan_tails::<TokenRecord>(Prefix::AllOauthTokens)? {
                    if t.credential_id == rec.id {
                        txn.delete(OauthTokenKey { digest: &k })?;
                    }
                }
                append(
                    txn,
                    &d,
                    ResourceType::ScimCredential,
                    &id,
                    ChangeKind::Deleted,
                )?;
                Ok(())
            })
            .await;
        // INVARIANT (see `update_credential`).
        self.inner.auth_cache.clear();
        r
    }

    /// Sets a credential's status; a disabled credential is refused on its next request.
    pub async fn set_credential_status(&self, id: &str, enabled: bool) -> Result<(), DomainError> {
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
    ) -> Result<(), DomainError> {
        self.update_credential(id, move |rec| rec.expires_unix = expires_unix)
            .await
    }

    /// Changes a credential record and records the change in the outbox.
    async fn update_credential(
        &self,
        id: &str,
        change: impl FnOnce(&mut CredentialRecord) + Send + 'static,
    ) -> Result<(), DomainError> {
        let id = id.to_owned();
        let r = self
            .write(move |txn| {
                let mut rec = txn.credential(&id)?.ok_or_else(|| DomainError::NotFound {
                    entity: Entity::ScimCredential,
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
            .await;
        // INVARIANT: every change to a credential or a directory forgets cached logins, after
        // its commit (a login read before the commit is then refused by the cache). Cleared
        // on failure too: a failed batch may still have committed nothing, which is harmless.
        self.inner.auth_cache.clear();
        r
    }

    /// Records that a credential was used, at most once a minute per credential (no event:
    /// it changes nothing anyone acts on). Best effort: a failure is logged. Every use is
    /// counted in the metrics (`cloudsso_scim_requests_total`).
    fn note_use(&self, credential: &str, now: i64) {
        self.db().metrics().scim_request(credential);
        {
            let mut seen = self
                .inner
                .last_used
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match seen.get(credential) {
                Some(at) if now - *at < LAST_USED_RESOLUTION_SECONDS => return,
                _ => {}
            }
            if seen.len() >= AUTH_CACHE_MAX {
                seen.clear();
            }
            seen.insert(credential.to_owned(), now);
        }
        let this = self.clone();
        let id = credential.to_owned();
        tokio::spawn(async move {
            let r = this
                .write(move |txn| {
                    if let Some(mut rec) = txn.credential(&id)? {
                        rec.last_used = Some(now_rfc3339());
                        txn.put_credential(&rec)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "recording a credential's last use failed");
            }
        });
    }

    /// The directory a bearer secret opens: a `BearerToken` credential's secret, or an OAuth
    /// access token issued to an `OAuthClientSecret` credential. The credential must exist,
    /// be enabled and unexpired, and its directory must have SCIM synchronization enabled.
    pub async fn authenticate(&self, secret: &str) -> Result<String, DomainError> {
        Ok(self.authenticate_credential(secret).await?.0)
    }

    /// `authenticate`, answering the directory and the credential's id (an OAuth token's
    /// client id), for the audit trail.
    pub async fn authenticate_credential(
        &self,
        secret: &str,
    ) -> Result<(String, String), DomainError> {
        let digest = digest_hex(secret);
        let now = now_unix();
        let generation = match self.inner.auth_cache.get(&digest, now) {
            Ok(login) => {
                self.note_use(&login.credential, now);
                return Ok((login.dir, login.credential));
            }
            Err(generation) => generation,
        };
        let cache_key = digest.clone();
        let login = self
            .read(move |_, txn| {
                let (rec, token_expiry) = match txn.credential_by_digest(&digest)? {
                    Some(rec) if rec.kind == CredentialKind::BearerToken => (rec, None),
                    Some(_) => return Err(DomainError::Unauthorized),
                    None => {
                        let token = txn
                            .get::<TokenRecord>(OauthTokenKey { digest: &digest })?
                            .ok_or(DomainError::Unauthorized)?;
                        let rec = txn
                            .credential(&token.credential_id)?
                            .filter(|c| c.kind == CredentialKind::OAuthClientSecret)
                            .ok_or(DomainError::Unauthorized)?;
                        (rec, Some(token.expires_unix))
                    }
                };
                let expires = token_expiry.map_or(rec.expires_unix, |t| t.min(rec.expires_unix));
                if rec.status != CredentialStatus::Enabled || expires <= now {
                    return Err(DomainError::Unauthorized);
                }
                let dir = txn
                    .directory(&rec.directory_id)?
                    .ok_or(DomainError::Unauthorized)?;
                if !dir.scim_sync_enabled {
                    return Err(DomainError::SyncDisabled(dir.id));
                }
                Ok(Login {
                    dir: dir.id,
                    credential: rec.id,
                    expires,
                })
            })
            .await?;
        self.note_use(&login.credential, now);
        let found = (login.dir.clone(), login.credential.clone());
        self.inner.auth_cache.put(generation, cache_key, login);
        Ok(found)
    }

    /// Whether `client_id` names an `OAuthClientSecret` credential (the token endpoint asks
    /// before it reads a request's body). A failed read answers no.
    pub async fn oauth_client_known(&self, client_id: &str) -> bool {
        let id = client_id.to_owned();
        self.read(move |_, txn| {
            Ok(txn
                .credential(&id)?
                .is_some_and(|c| c.kind == CredentialKind::OAuthClientSecret))
        })
        .await
        .unwrap_or(false)
    }

    /// OAuth 2.0 client credentials grant (RFC 6749 section 4.4): an `OAuthClientSecret`
    /// credential (client id = credential id) gets an access token for SCIM.
    pub async fn issue_token(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<AccessToken, DomainError> {
        let (id, digest) = (client_id.to_owned(), digest_hex(client_secret));
        // Checked on a read first: a wrong client never takes a place in the writer's queue.
        {
            let (id, digest) = (id.clone(), digest.clone());
            self.read(move |_, txn| {
                let ok = txn.credential(&id)?.is_some_and(|c| {
                    c.kind == CredentialKind::OAuthClientSecret
                        && c.digest_hex == digest
                        && c.status == CredentialStatus::Enabled
                        && c.expires_unix > now_unix()
                });
                if ok {
                    Ok(())
                } else {
                    Err(DomainError::Unauthorized)
                }
            })
            .await?;
        }
        let token = new_secret();
        let token_digest = digest_hex(&token);
        let default_ttl = i64::try_from(self.limits().oauth_token_ttl_seconds).unwrap_or(3600);
        self.write(move |txn| {
            let now = now_unix();
            let rec = txn
                .credential(&id)?
                // Comparing digests: timing reveals nothing about the secret.
                .filter(|c| c.kind == CredentialKind::OAuthClientSecret && c.digest_hex == digest)
                .ok_or(DomainError::Unauthorized)?;
            if rec.status != CredentialStatus::Enabled || rec.expires_unix <= now {
                return Err(DomainError::Unauthorized);
            }
            let dir = txn
                .directory(&rec.directory_id)?
                .ok_or(DomainError::Unauthorized)?;
            if !dir.scim_sync_enabled {
                return Err(DomainError::SyncDisabled(dir.id));
            }
            // Expired tokens, of every credential, go as new ones are issued (a scan of the
            // whole token table: fine while tokens are few).
            for (k, t) in txn.scan_tails::<TokenRecord>(Prefix::AllOauthTokens)? {
                if t.expires_unix <= now {
                    txn.delete(OauthTokenKey { digest: &k })?;
                }
            }
            let ttl = rec
                .token_ttl_minutes
                .map_or(default_ttl, |m| i64::from(m) * 60);
            let expires_in = ttl.min(rec.expires_unix - now);
            txn.put(
                OauthTokenKey {
                    digest: &token_digest,
                },
                &TokenRecord {
                    credential_id: rec.id,
                    expires_unix: now + expires_in,
                },
            )?;
            Ok(AccessToken { token, expires_in })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_cache_refuses_a_login_read_before_a_clear() {
        let c = AuthCache::default();
        let login = |dir: &str| Login {
            dir: dir.into(),
            credential: "c".into(),
            expires: 100,
        };
        let g = c.get("d1", 0).unwrap_err();
        c.put(g, "d1".into(), login("dir"));
        assert_eq!(c.get("d1", 50), Ok(login("dir")));
        assert!(c.get("d1", 100).is_err(), "expired");
        // A lookup starts, a credential changes, the lookup's result arrives: not cached.
        let g = c.get("d2", 0).unwrap_err();
        c.clear();
        c.put(g, "d2".into(), login("dir"));
        assert!(c.get("d2", 0).is_err());
        assert!(c.get("d1", 0).is_err(), "a clear forgets every login");
    }
}

//! Temporary credentials for a user's (account, access configuration): an AccessKeyId, its
//! secret and a SecurityToken, issued with no write and verified exactly.
//!
//! The format (pure, below `SignIn`'s two methods):
//! - the **SecurityToken** is `CSSO1.` and the base64url of a record sealed under the server's
//!   sealing key (`seal::Sealer`, XChaCha20-Poly1305, bound to `TOKEN_OWNER`): the `Claims`
//!   (directory, user id and name, account, configuration, role name, issue and expiry times,
//!   a random 128-bit credential id and the protocol kind). Nobody without the key can read,
//!   forge or alter one.
//! - the **AccessKeyId** is `STS.` (CloudSSO's protocol) or `ASIA` (AWS's) and the base32 of
//!   a keyed hash of the kind and credential id (`KEY_ID_LABEL`): the token names exactly one
//!   AccessKeyId, so a token presented with another is refused.
//! - the **AccessKeySecret** is a keyed hash of the AccessKeyId (`SECRET_LABEL`): the server
//!   derives it again to verify a signature; without the key it cannot be derived.
//!
//! Revocation does not depend on the expiry: every verification asks effective access again
//! (the user present and active, the configuration still granted on the account), so a user
//! disabled, deleted or removed from the group that granted the access is refused at once;
//! so is every credential while sign-in is off installation-wide (`DisableService`).
//!
//! Must not import hyper, nor decide who has access (that is `access`'s effective access).

use super::SignIn;
use super::saml::session_name;
use crate::access::assignments::role_name;
use crate::error::DomainError;
use crate::model::{DirectoryId, UserId};
use crate::seal::Sealer;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The SecurityToken's prefix: its format, version 1.
pub const TOKEN_PREFIX: &str = "CSSO1.";
/// What a token is sealed for (the AEAD's associated data).
const TOKEN_OWNER: &str = "cloudsso temporary credential v1";
/// Longest SecurityToken read (checked before decoding it).
pub const TOKEN_BYTES_MAX: usize = 8 * 1024;
/// The MAC key labels (`Sealer::mac_key`).
const KEY_ID_LABEL: &str = "temporary credential access key id v1";
const SECRET_LABEL: &str = "temporary credential access key secret v1";
/// Random bytes of a credential id.
const CREDENTIAL_ID_BYTES: usize = 16;
/// Bytes of the keyed hash an AccessKeyId shows: 15 (24 base32 characters) after `STS.`,
/// 10 (16) after `ASIA` (AWS's AccessKeyIds are 20 characters).
const ALIBABA_KEY_ID_BYTES: usize = 15;
const AWS_KEY_ID_BYTES: usize = 10;
/// Bytes of a secret (40 base64url characters).
const SECRET_BYTES: usize = 30;

/// Which protocol the credential speaks; it decides the AccessKeyId's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialKind {
    /// CloudSSO's portal protocol and Alibaba's APIs: `STS.`.
    Alibaba,
    /// AWS IAM Identity Center's protocol and AWS's APIs: `ASIA`.
    Aws,
}

impl CredentialKind {
    pub fn key_prefix(self) -> &'static str {
        match self {
            CredentialKind::Alibaba => "STS.",
            CredentialKind::Aws => "ASIA",
        }
    }

    fn tag(self) -> &'static [u8] {
        match self {
            CredentialKind::Alibaba => b"alibaba",
            CredentialKind::Aws => b"aws",
        }
    }

    fn key_id_bytes(self) -> usize {
        match self {
            CredentialKind::Alibaba => ALIBABA_KEY_ID_BYTES,
            CredentialKind::Aws => AWS_KEY_ID_BYTES,
        }
    }

    /// The kind whose AccessKeyIds look like `access_key_id`.
    pub fn of_key(access_key_id: &str) -> Option<CredentialKind> {
        [CredentialKind::Alibaba, CredentialKind::Aws]
            .into_iter()
            .find(|k| access_key_id.starts_with(k.key_prefix()))
    }
}

/// What a SecurityToken says, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "k")]
    pub kind: CredentialKind,
    #[serde(rename = "d")]
    pub directory_id: String,
    #[serde(rename = "u")]
    pub user_id: String,
    #[serde(rename = "n")]
    pub user_name: String,
    #[serde(rename = "a")]
    pub account_id: String,
    #[serde(rename = "c")]
    pub config_id: String,
    /// `AliyunReservedSSO-<ConfigurationName>`, as provisioning names the role.
    #[serde(rename = "r")]
    pub role_name: String,
    /// Unix seconds.
    #[serde(rename = "i")]
    pub issued: i64,
    /// Unix seconds; the credential is refused from this second on.
    #[serde(rename = "e")]
    pub expires: i64,
    /// Random, base64url: names this credential (and only it).
    #[serde(rename = "id")]
    pub credential_id: String,
}

impl Claims {
    /// Claims for a new credential with a fresh random id.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: CredentialKind,
        dir: &str,
        user_id: &str,
        user_name: &str,
        account_id: &str,
        config_id: &str,
        role_name: &str,
        issued: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> Claims {
        let mut id = [0u8; CREDENTIAL_ID_BYTES];
        crate::model::fill_random(&mut id);
        Claims {
            kind,
            directory_id: dir.to_owned(),
            user_id: user_id.to_owned(),
            user_name: user_name.to_owned(),
            account_id: account_id.to_owned(),
            config_id: config_id.to_owned(),
            role_name: role_name.to_owned(),
            issued: issued.unix_timestamp(),
            expires: expires.unix_timestamp(),
            credential_id: B64URL.encode(id),
        }
    }

    /// The RoleSessionName the credential's ARN ends with: the user name, as console sign-in
    /// makes it.
    pub fn session_name(&self) -> String {
        session_name(&self.user_name, &self.user_id)
    }

    /// `acs:ram::<account>:assumed-role/<role>/<session>`.
    pub fn assumed_role_arn(&self) -> String {
        format!(
            "acs:ram::{}:assumed-role/{}/{}",
            self.account_id,
            self.role_name,
            self.session_name()
        )
    }

    pub fn expiration(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.expires).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// A credential as issued. Its `Debug` shows neither the secret nor the token.
#[derive(Clone, PartialEq, Eq)]
pub struct TempCredential {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: String,
    pub expiration: OffsetDateTime,
}

impl TempCredential {
    /// `Expiration` as CloudSSO's portal answers it and the SDKs parse it:
    /// `2026-11-23T19:37:09Z` (UTC, whole seconds).
    pub fn expiration_text(&self) -> String {
        let fmt =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        self.expiration
            .to_offset(time::UtcOffset::UTC)
            .format(&fmt)
            .unwrap_or_default()
    }

    /// `expiration` as AWS's portal answers it: Unix milliseconds.
    pub fn expiration_millis(&self) -> i64 {
        self.expiration.unix_timestamp() * 1000
    }
}

impl std::fmt::Debug for TempCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempCredential")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// Why a credential is not issued or not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialRefusal {
    #[error("the SecurityToken is malformed")]
    Malformed,
    #[error("the SecurityToken does not belong to the AccessKeyId")]
    MismatchWithAccessKey,
    #[error("the SecurityToken has expired")]
    Expired,
    /// The user is gone or disabled, or effective access no longer grants the configuration
    /// on the account (or never did, when issuing).
    #[error("the user does not have this access")]
    NoAccess,
}

/// A genuine credential: its token opened and belongs to its AccessKeyId. Not yet checked
/// for expiry or access (`SignIn::credential_access_now`). Its `Debug` hides the secret.
#[derive(Clone)]
pub struct Opened {
    access_key_id: String,
    claims: Claims,
    secret: String,
}

impl Opened {
    /// The AccessKeySecret, to verify the request's signature.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("access_key_id", &self.access_key_id)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// The caller behind a credential that is genuine, unexpired and still has its access (made
/// only by `SignIn::credential_access_now`).
#[derive(Debug, Clone)]
pub struct VerifiedCaller(Opened);

impl VerifiedCaller {
    pub fn claims(&self) -> &Claims {
        &self.0.claims
    }

    pub fn access_key_id(&self) -> &str {
        &self.0.access_key_id
    }

    /// The AccessKeySecret, to verify the request's signature.
    pub fn secret(&self) -> &str {
        self.0.secret()
    }
}

/// When a credential issued at `now` for a configuration of `session_duration` seconds
/// expires: at most `cap` (whole seconds, so the token and `Expiration` say the same), or
/// `None` when that is not after `now`.
pub fn expiry(
    now: OffsetDateTime,
    session_duration: u32,
    cap: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let wanted = now + time::Duration::seconds(i64::from(session_duration));
    let at = OffsetDateTime::from_unix_timestamp(wanted.min(cap).unix_timestamp()).ok()?;
    (at > now).then_some(at)
}

/// The credential of `claims`: its AccessKeyId, secret and sealed token.
pub fn mint(sealer: &Sealer, claims: &Claims) -> TempCredential {
    let access_key_id = derive_key_id(sealer, claims.kind, &claims.credential_id);
    let access_key_secret = secret_of(sealer, &access_key_id);
    // Serializing plain strings and numbers cannot fail.
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let sealed = sealer.seal_bytes(TOKEN_OWNER, &json);
    TempCredential {
        access_key_secret,
        security_token: format!("{TOKEN_PREFIX}{}", B64URL.encode(sealed)),
        expiration: claims.expiration(),
        access_key_id,
    }
}

/// Opens `token` and checks it belongs to `access_key_id` (constant time). Does not check the
/// expiry (`check_unexpired`) or access.
pub fn open(
    sealer: &Sealer,
    access_key_id: &str,
    token: &str,
) -> Result<Opened, CredentialRefusal> {
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .filter(|b| b.len() <= TOKEN_BYTES_MAX)
        .ok_or(CredentialRefusal::Malformed)?;
    let sealed = B64URL
        .decode(body)
        .map_err(|_| CredentialRefusal::Malformed)?;
    let json = sealer
        .open_bytes(TOKEN_OWNER, &sealed)
        .map_err(|_| CredentialRefusal::Malformed)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| CredentialRefusal::Malformed)?;
    let expected = derive_key_id(sealer, claims.kind, &claims.credential_id);
    if !constant_time_eq(expected.as_bytes(), access_key_id.as_bytes()) {
        return Err(CredentialRefusal::MismatchWithAccessKey);
    }
    Ok(Opened {
        secret: secret_of(sealer, access_key_id),
        access_key_id: access_key_id.to_owned(),
        claims,
    })
}

/// `Expired` from the second the claims expire.
pub fn check_unexpired(claims: &Claims, now: OffsetDateTime) -> Result<(), CredentialRefusal> {
    if now.unix_timestamp() >= claims.expires {
        return Err(CredentialRefusal::Expired);
    }
    Ok(())
}

/// The kind's prefix and the base32 of the keyed hash of (kind, credential id).
fn derive_key_id(sealer: &Sealer, kind: CredentialKind, credential_id: &str) -> String {
    let mac = sealer
        .mac_key(KEY_ID_LABEL)
        .mac(&[kind.tag(), credential_id.as_bytes()]);
    let shown = mac.get(..kind.key_id_bytes()).unwrap_or_default();
    format!("{}{}", kind.key_prefix(), base32(shown))
}

/// The secret of an AccessKeyId: base64url of its keyed hash.
fn secret_of(sealer: &Sealer, access_key_id: &str) -> String {
    let mac = sealer
        .mac_key(SECRET_LABEL)
        .mac(&[access_key_id.as_bytes()]);
    B64URL.encode(mac.get(..SECRET_BYTES).unwrap_or_default())
}

/// RFC 4648 base32 without padding (A-Z, 2-7).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let symbol = |v: u32| char::from(ALPHABET.get((v & 31) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        // INVARIANT: fewer than 5 bits are pending before a byte joins them.
        acc = ((acc << 8) | u32::from(*b)) & 0x1fff;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(acc >> bits));
        }
    }
    if bits > 0 {
        out.push(symbol(acc << (5 - bits)));
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A stable RAM role id for a role of an account (RAM's are 17 to 19 digits): derived from
/// the account and role name, so nothing is stored for it.
pub fn role_id(account_id: &str, role_name: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"cloudsso role id v1\0");
    h.update(account_id.as_bytes());
    h.update(b"\0");
    h.update(role_name.as_bytes());
    let digest = h.finalize();
    let mut n = [0u8; 8];
    n.copy_from_slice(digest.get(..8).unwrap_or(&[0u8; 8]));
    format!("3{:017}", u64::from_be_bytes(n) % 100_000_000_000_000_000)
}

impl SignIn {
    /// Credentials for `user` on (account, configuration), only while effective access grants
    /// it now; they last the configuration's SessionDuration, at most until `cap`.
    pub async fn issue_credentials(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account_id: &str,
        config_id: &str,
        cap: OffsetDateTime,
        kind: CredentialKind,
    ) -> Result<Result<TempCredential, CredentialRefusal>, DomainError> {
        if !self.may_use(dir, user, account_id, config_id).await? {
            return Ok(Err(CredentialRefusal::NoAccess));
        }
        let config = match self.access().config(dir, config_id).await {
            Ok(c) => c,
            Err(DomainError::NotFound { .. }) => return Ok(Err(CredentialRefusal::NoAccess)),
            Err(e) => return Err(e),
        };
        let user_name = match self.user_name(dir, user).await {
            Ok(n) => n,
            Err(DomainError::NotFound { .. }) => return Ok(Err(CredentialRefusal::NoAccess)),
            Err(e) => return Err(e),
        };
        let now = OffsetDateTime::now_utc();
        let Some(expires) = expiry(now, config.session_duration, cap) else {
            return Ok(Err(CredentialRefusal::Expired));
        };
        let claims = Claims::new(
            kind,
            dir.as_str(),
            user.as_str(),
            &user_name,
            account_id,
            config_id,
            &role_name(&config.name),
            now,
            expires,
        );
        Ok(Ok(mint(self.sealer(), &claims)))
    }

    /// The caller behind (AccessKeyId, SecurityToken) if they are genuine, unexpired and the
    /// user still has that access now (present and active, effective access still granting
    /// the configuration on the account); with the derived secret to verify the request's
    /// signature.
    pub async fn verify_credentials(
        &self,
        access_key_id: &str,
        security_token: &str,
    ) -> Result<Result<VerifiedCaller, CredentialRefusal>, DomainError> {
        match open(self.sealer(), access_key_id, security_token) {
            Ok(opened) => self.credential_access_now(opened).await,
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    /// The second half of `verify_credentials`, for a caller that checks the signature in
    /// between (so an unsigned request learns nothing of the user's access): the expiry, then
    /// effective access now.
    pub async fn credential_access_now(
        &self,
        opened: Opened,
    ) -> Result<Result<VerifiedCaller, CredentialRefusal>, DomainError> {
        let c = &opened.claims;
        if let Err(refusal) = check_unexpired(c, OffsetDateTime::now_utc()) {
            return Ok(Err(refusal));
        }
        let dir = DirectoryId::from(c.directory_id.clone());
        let user = UserId::from(c.user_id.clone());
        if !self
            .may_use(&dir, &user, &c.account_id, &c.config_id)
            .await?
        {
            return Ok(Err(CredentialRefusal::NoAccess));
        }
        Ok(Ok(VerifiedCaller(opened)))
    }

    /// Whether the user may use the configuration on the account now: sign-in is on
    /// installation-wide (as for sessions and CLI tokens) and effective access grants it;
    /// `false` when the user (or its directory) is gone.
    async fn may_use(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account_id: &str,
        config_id: &str,
    ) -> Result<bool, DomainError> {
        if !self.service_enabled().await? {
            return Ok(false);
        }
        match self.granted_now(dir, user, account_id, config_id).await {
            Err(DomainError::NotFound { .. }) => Ok(false),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&[byte; crate::seal::KEY_BYTES]).unwrap()
    }

    fn t(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    fn claims(kind: CredentialKind, dir: &str, user: &str, expires: i64) -> Claims {
        Claims::new(
            kind,
            dir,
            user,
            "alice@example.com",
            "1234567890123456",
            "ac-0001",
            "AliyunReservedSSO-ReadOnly",
            t(1_000),
            t(expires),
        )
    }

    /// Flips one character of the token's base64 body at `at` (from the end).
    fn flip(token: &str, from_end: usize) -> String {
        let mut b = token.as_bytes().to_vec();
        let i = b.len() - from_end;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn the_format_of_each_kind() {
        let s = sealer(1);
        let ali = mint(&s, &claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000));
        assert!(
            ali.access_key_id.starts_with("STS."),
            "{}",
            ali.access_key_id
        );
        assert_eq!(ali.access_key_id.len(), 4 + 24);
        assert!(ali.security_token.starts_with(TOKEN_PREFIX));
        assert_eq!(ali.access_key_secret.len(), 40);
        assert_eq!(ali.expiration, t(5_000));
        assert_eq!(ali.expiration_text(), "1970-01-01T01:23:20Z");
        assert_eq!(ali.expiration_millis(), 5_000_000);
        let aws = mint(&s, &claims(CredentialKind::Aws, "d-1", "u-1", 5_000));
        assert!(aws.access_key_id.starts_with("ASIA"));
        assert_eq!(aws.access_key_id.len(), 20);
        assert!(
            aws.access_key_id[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
        assert_eq!(
            CredentialKind::of_key(&ali.access_key_id),
            Some(CredentialKind::Alibaba)
        );
        assert_eq!(
            CredentialKind::of_key(&aws.access_key_id),
            Some(CredentialKind::Aws)
        );
        assert_eq!(CredentialKind::of_key("LTAIabc"), None);
        let dbg = format!("{ali:?}");
        assert!(!dbg.contains(&ali.access_key_secret) && !dbg.contains(&ali.security_token));
        // Two credentials of the same claims but fresh ids share nothing.
        let again = mint(&s, &claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000));
        assert_ne!(again.access_key_id, ali.access_key_id);
        assert_ne!(again.access_key_secret, ali.access_key_secret);
    }

    #[test]
    fn a_genuine_credential_opens_to_its_claims_and_secret() {
        let s = sealer(1);
        let c = claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000);
        let cred = mint(&s, &c);
        let opened = open(&s, &cred.access_key_id, &cred.security_token).unwrap();
        assert_eq!(opened.claims, c);
        assert_eq!(opened.secret(), cred.access_key_secret);
        assert!(!format!("{opened:?}").contains(&cred.access_key_secret));
        assert_eq!(
            c.assumed_role_arn(),
            "acs:ram::1234567890123456:assumed-role/AliyunReservedSSO-ReadOnly/alice@example.com"
        );
    }

    #[test]
    fn refusals() {
        use CredentialRefusal::*;
        let s = sealer(1);
        let ali = mint(&s, &claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000));
        let other = mint(&s, &claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000));
        let other_dir = mint(&s, &claims(CredentialKind::Alibaba, "d-2", "u-9", 5_000));
        let aws = mint(&s, &claims(CredentialKind::Aws, "d-1", "u-1", 5_000));
        let foreign = mint(
            &sealer(2),
            &claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000),
        );
        let body = ali.security_token.strip_prefix(TOKEN_PREFIX).unwrap();
        let id = ali.access_key_id.as_str();
        let cases: Vec<(&str, String, String, CredentialRefusal)> = vec![
            (
                "tampered end",
                id.into(),
                flip(&ali.security_token, 1),
                Malformed,
            ),
            (
                "tampered middle",
                id.into(),
                flip(&ali.security_token, 40),
                Malformed,
            ),
            (
                "wrong prefix",
                id.into(),
                format!("CSSO2.{body}"),
                Malformed,
            ),
            ("no prefix", id.into(), body.to_owned(), Malformed),
            (
                "truncated",
                id.into(),
                ali.security_token[..ali.security_token.len() - 10].to_owned(),
                Malformed,
            ),
            (
                "only the prefix",
                id.into(),
                TOKEN_PREFIX.to_owned(),
                Malformed,
            ),
            ("empty", id.into(), String::new(), Malformed),
            (
                "not base64",
                id.into(),
                format!("{TOKEN_PREFIX}!!!!"),
                Malformed,
            ),
            (
                "too long",
                id.into(),
                format!("{TOKEN_PREFIX}{}", "A".repeat(TOKEN_BYTES_MAX + 1)),
                Malformed,
            ),
            (
                "sealed under another key",
                foreign.access_key_id.clone(),
                foreign.security_token.clone(),
                Malformed,
            ),
            (
                "another credential's token",
                id.into(),
                other.security_token.clone(),
                MismatchWithAccessKey,
            ),
            (
                "swapped key id",
                other.access_key_id.clone(),
                ali.security_token.clone(),
                MismatchWithAccessKey,
            ),
            (
                "another directory's token",
                id.into(),
                other_dir.security_token.clone(),
                MismatchWithAccessKey,
            ),
            (
                "the AWS twin's token",
                id.into(),
                aws.security_token.clone(),
                MismatchWithAccessKey,
            ),
            (
                "the key id respelled as AWS's",
                format!("ASIA{}", &id[4..]),
                ali.security_token.clone(),
                MismatchWithAccessKey,
            ),
            (
                "lowercase key id",
                id.to_ascii_lowercase(),
                ali.security_token.clone(),
                MismatchWithAccessKey,
            ),
        ];
        let mut failures = Vec::new();
        for (name, key, token, want) in cases {
            match open(&s, &key, &token) {
                Err(got) if got == want => {}
                other => failures.push(format!("{name}: {other:?}, want {want:?}")),
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn expiry_is_the_session_duration_capped_and_whole_seconds() {
        let now = OffsetDateTime::from_unix_timestamp_nanos(1_000_500_000_000).unwrap();
        let cases = [
            (3600, t(100_000), Some(t(1_000 + 3600))),
            (3600, t(2_000), Some(t(2_000))),
            (
                3600,
                OffsetDateTime::from_unix_timestamp_nanos(2_000_900_000_000).unwrap(),
                Some(t(2_000)),
            ),
            (3600, t(1_000), None),
            (3600, t(500), None),
            (0, t(100_000), None),
        ];
        for (duration, cap, want) in cases {
            assert_eq!(expiry(now, duration, cap), want, "{duration} {cap}");
        }
        let c = claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000);
        assert_eq!(check_unexpired(&c, t(4_999)), Ok(()));
        assert_eq!(
            check_unexpired(&c, t(5_000)),
            Err(CredentialRefusal::Expired)
        );
        assert_eq!(
            check_unexpired(&c, t(9_000)),
            Err(CredentialRefusal::Expired)
        );
    }

    #[test]
    fn the_secret_needs_the_key() {
        // What a holder of the credential sees (the token, the ids, the secret) does not give
        // another credential's secret: it is a keyed hash, and the token is sealed.
        let s = sealer(1);
        let c = mint(&s, &claims(CredentialKind::Alibaba, "d-1", "u-1", 5_000));
        assert_eq!(secret_of(&s, &c.access_key_id), c.access_key_secret);
        assert_ne!(secret_of(&sealer(2), &c.access_key_id), c.access_key_secret);
        let opened = open(&s, &c.access_key_id, &c.security_token).unwrap();
        let plain = format!("{:?}", opened.claims);
        assert!(!c.security_token.contains(&opened.claims.credential_id));
        assert!(
            !c.security_token.contains("alice"),
            "the token is sealed, not encoded"
        );
        assert!(!plain.contains(&c.access_key_secret));
    }

    #[test]
    fn base32_and_role_ids() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        let id = role_id("1234567890123456", "AliyunReservedSSO-ReadOnly");
        assert_eq!(id.len(), 18);
        assert!(id.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(
            id,
            role_id("1234567890123456", "AliyunReservedSSO-ReadOnly")
        );
        assert_ne!(
            id,
            role_id("1234567890123457", "AliyunReservedSSO-ReadOnly")
        );
    }
}

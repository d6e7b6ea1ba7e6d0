//! What AWS's sso-oidc protocol adds to the device flow: registered clients, the start URL
//! naming a directory, refresh tokens that rotate, logout, and role credentials named by the
//! access configuration's name.
//!
//! A **registration** writes nothing: the client id is the registration itself (a random id,
//! name, scopes, redirect URIs, grant types, issuer URL, issue and expiry times) sealed under
//! the server's key (`CLIENT_OWNER`), and the secret a keyed hash of the id
//! (`CLIENT_SECRET_LABEL`). So `/authorize`, which gets only the client id, can read the
//! redirect URIs; a registration survives restarts until it expires, as clients cache it for
//! its whole life; and an unauthenticated caller cannot fill the store by registering. The
//! wire spellings are `http::aws_sso`'s.

use super::tokens::{
    AccessTokenRecord, Bearer, Ending, TokenKind, delete_token, end_tokens, put_token,
    user_may_sign_in,
};
use super::{ACCESS_TOKEN_SECONDS, ClientKind, portal_segment};
use crate::error::DomainError;
use crate::seal::Sealer;
use crate::signin::SignIn;
use crate::signin::credentials::{CredentialKind, CredentialRefusal, TempCredential};
use crate::signin::session::{digest, new_token};
use crate::signin::state::now_unix;
use crate::store::keys::DeviceTokenKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};

/// A client id's prefix: its format, version 1.
pub const CLIENT_ID_PREFIX: &str = "CSSOC1.";
/// What a registration is sealed for (the AEAD's associated data).
const CLIENT_OWNER: &str = "cloudsso sso-oidc client registration v1";
/// The MAC key label of client secrets (`Sealer::mac_key`).
const CLIENT_SECRET_LABEL: &str = "sso-oidc client secret v1";
/// Bytes of a client secret (64 base64url characters).
const CLIENT_SECRET_BYTES: usize = 32;
/// How long a registration lives (AWS's are 90 days; clients cache them that long).
pub const CLIENT_REGISTRATION_SECONDS: i64 = 90 * 24 * 3600;
/// Longest client name.
pub const CLIENT_NAME_LEN_MAX: usize = 128;
/// Most scopes, redirect URIs or grant types in a registration.
pub const CLIENT_LIST_MAX: usize = 16;
/// Longest scope, redirect URI, grant type or issuer URL.
pub const CLIENT_ITEM_LEN_MAX: usize = 512;
/// Largest registration, serialized (so its client id, about 4/3 of this, fits with the rest
/// of a request in the protocol's 4 KiB bodies).
pub const REGISTRATION_BYTES_MAX: usize = 1536;
/// Longest client id read (checked before decoding it).
pub const CLIENT_ID_LEN_MAX: usize = 4096;
/// The grant types a client may register.
pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
const GRANTS: [&str; 3] = [
    GRANT_DEVICE_CODE,
    GRANT_AUTHORIZATION_CODE,
    GRANT_REFRESH_TOKEN,
];

/// A registered client, as sealed in its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Random: two registrations alike are still two clients.
    #[serde(rename = "id")]
    pub nonce: String,
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "s", default)]
    pub scopes: Vec<String>,
    #[serde(rename = "r", default)]
    pub redirect_uris: Vec<String>,
    #[serde(rename = "g", default)]
    pub grant_types: Vec<String>,
    #[serde(rename = "u", default)]
    pub issuer_url: String,
    #[serde(rename = "i")]
    pub issued: i64,
    #[serde(rename = "e")]
    pub expires: i64,
}

impl Registration {
    /// Whether the client registered for `grant` (one that named no grant types may use the
    /// device code and refresh grants, as botocore's device-flow registration names none).
    pub fn allows(&self, grant: &str) -> bool {
        if self.grant_types.is_empty() {
            return grant != GRANT_AUTHORIZATION_CODE;
        }
        self.grant_types.iter().any(|g| g == grant)
    }
}

/// What `RegisterClient` asks for.
#[derive(Debug, Clone, Default)]
pub struct RegisterRequest {
    pub client_name: String,
    pub client_type: String,
    pub scopes: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub issuer_url: String,
}

/// Why a registration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterRefusal {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("redirect URIs must be http loopback URIs (127.0.0.1, [::1] or localhost)")]
    InvalidRedirectUri,
    #[error(
        "grant types must be among the device code, authorization code and refresh token grants"
    )]
    UnsupportedGrantType,
}

/// A new registration, as the client is told.
#[derive(Clone, PartialEq, Eq)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a client's id and secret are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRefusal {
    /// Not a client id of ours, altered, or the secret is not its own.
    Invalid,
    Expired,
}

/// Checks a registration request and seals it into a new client's secret.
pub fn register(
    sealer: &Sealer,
    r: RegisterRequest,
    now: i64,
) -> Result<Registered, RegisterRefusal> {
    let bad = |m: &str| Err(RegisterRefusal::InvalidRequest(m.to_owned()));
    if r.client_name.trim().is_empty() || r.client_name.chars().count() > CLIENT_NAME_LEN_MAX {
        return bad("clientName must be 1 to 128 characters");
    }
    if r.client_type != "public" {
        return bad("clientType must be public");
    }
    let lists = [&r.scopes, &r.redirect_uris, &r.grant_types];
    if lists.iter().any(|l| l.len() > CLIENT_LIST_MAX)
        || lists
            .iter()
            .flat_map(|l| l.iter())
            .chain([&r.issuer_url])
            .any(|i| i.len() > CLIENT_ITEM_LEN_MAX || i.chars().any(char::is_control))
    {
        return bad("too many scopes, redirect URIs or grant types, or one too long");
    }
    if !r.redirect_uris.iter().all(|u| is_loopback_redirect(u)) {
        return Err(RegisterRefusal::InvalidRedirectUri);
    }
    if !r.grant_types.iter().all(|g| GRANTS.contains(&g.as_str())) {
        return Err(RegisterRefusal::UnsupportedGrantType);
    }
    let mut nonce = [0u8; 16];
    crate::model::fill_random(&mut nonce);
    let reg = Registration {
        nonce: B64URL.encode(nonce),
        name: r.client_name,
        scopes: r.scopes,
        redirect_uris: r.redirect_uris,
        grant_types: r.grant_types,
        issuer_url: r.issuer_url,
        issued: now,
        expires: now.saturating_add(CLIENT_REGISTRATION_SECONDS),
    };
    // Serializing plain strings and numbers cannot fail.
    let json = serde_json::to_vec(&reg).unwrap_or_default();
    if json.len() > REGISTRATION_BYTES_MAX {
        return bad("the registration is too large (its names, scopes and URIs together)");
    }
    let sealed = sealer.seal_bytes(CLIENT_OWNER, &json);
    let client_id = format!("{CLIENT_ID_PREFIX}{}", B64URL.encode(sealed));
    Ok(Registered {
        client_secret: secret_of(sealer, &client_id),
        client_id,
        issued_at: reg.issued,
        expires_at: reg.expires,
    })
}

/// The registration a client id stands for, if it is ours, unaltered and unexpired (what
/// `/authorize` knows: no secret).
pub fn open_client_id(
    sealer: &Sealer,
    client_id: &str,
    now: i64,
) -> Result<Registration, ClientRefusal> {
    let body = client_id
        .strip_prefix(CLIENT_ID_PREFIX)
        .filter(|b| b.len() <= CLIENT_ID_LEN_MAX)
        .ok_or(ClientRefusal::Invalid)?;
    let sealed = B64URL.decode(body).map_err(|_| ClientRefusal::Invalid)?;
    let json = sealer
        .open_bytes(CLIENT_OWNER, &sealed)
        .map_err(|_| ClientRefusal::Invalid)?;
    let reg: Registration = serde_json::from_slice(&json).map_err(|_| ClientRefusal::Invalid)?;
    if now >= reg.expires {
        return Err(ClientRefusal::Expired);
    }
    Ok(reg)
}

/// The registration behind a client id and its secret (compared in constant time).
pub fn open_client(
    sealer: &Sealer,
    client_id: &str,
    secret: &str,
    now: i64,
) -> Result<Registration, ClientRefusal> {
    let reg = open_client_id(sealer, client_id, now)?;
    if !crate::signin::session::same_token(&secret_of(sealer, client_id), secret) {
        return Err(ClientRefusal::Invalid);
    }
    Ok(reg)
}

/// A client id's secret: base64url of its keyed hash.
fn secret_of(sealer: &Sealer, client_id: &str) -> String {
    let mac = sealer
        .mac_key(CLIENT_SECRET_LABEL)
        .mac(&[client_id.as_bytes()]);
    B64URL.encode(mac.get(..CLIENT_SECRET_BYTES).unwrap_or_default())
}

/// Whether `uri` is an http loopback redirect URI (RFC 8252 section 7.3: any port, so the
/// registered `http://127.0.0.1/oauth/callback` covers `http://127.0.0.1:37327/oauth/callback`).
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    matches!(host, "127.0.0.1" | "::1" | "localhost")
}

/// Whether a redirect URI given at `/authorize` or `/token` is one the client registered,
/// the port aside (loopback clients listen on any free port).
pub fn redirect_registered(reg: &Registration, uri: &str) -> bool {
    is_loopback_redirect(uri)
        && reg
            .redirect_uris
            .iter()
            .any(|r| without_port(r) == without_port(uri))
}

/// `http://127.0.0.1:37327/oauth/callback` -> `http://127.0.0.1/oauth/callback`.
fn without_port(uri: &str) -> String {
    let rest = uri.strip_prefix("http://").unwrap_or(uri);
    let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let host = match authority.rfind(':') {
        Some(i) if !authority.ends_with(']') => authority.get(..i).unwrap_or(authority),
        _ => authority,
    };
    format!("http://{host}{path}")
}

/// The directory a start URL names: the first label of its host when that is a directory id
/// (`https://d-9067000000.awsapps.com/start`, the form AWS CLI v2 insists on), else the first
/// segment of its path as for CloudSSO's portal URL (`https://sso.example.com/<dir>/start`).
/// Candidates, most specific first.
pub fn start_url_segments<'a>(start_url: &'a str, public_url: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let rest = start_url.split_once("://").map_or(start_url, |(_, r)| r);
    let host = rest.split(['/', ':', '?', '#']).next().unwrap_or_default();
    if let Some(label) = host.split('.').next()
        && label.starts_with("d-")
        && label.len() <= 64
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        out.push(label);
    }
    if let Some(seg) = portal_segment(start_url, public_url) {
        out.push(seg);
    }
    out
}

/// The tokens a device grant or a refresh gives.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    /// Who they speak for (for the audit trail).
    pub dir: String,
    pub user: String,
    pub user_name: String,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Why a refresh is refused (the wire says `invalid_grant` for all but the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// The client id and secret do not stand, or the client did not register the grant.
    Client,
    /// Unknown, used, expired, of another client, or its user may no longer sign in.
    Grant,
}

/// Why role credentials are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleRefusal {
    /// The user has no access configuration of that name on the account.
    NoSuchRole,
    Credentials(CredentialRefusal),
}

/// A new token record of `kind` in a sign-in's family.
pub(in crate::signin) fn token_record(
    base: &AccessTokenRecord,
    kind: TokenKind,
    now: i64,
    expires_at: i64,
) -> AccessTokenRecord {
    AccessTokenRecord {
        kind,
        created_at: now,
        expires_at,
        used: false,
        ..base.clone()
    }
}

/// A new family id.
pub(in crate::signin) fn new_family() -> String {
    let mut id = [0u8; 16];
    crate::model::fill_random(&mut id);
    B64URL.encode(id)
}

impl SignIn {
    /// Registers a client (no write).
    pub fn register_client(&self, r: RegisterRequest) -> Result<Registered, RegisterRefusal> {
        register(self.sealer(), r, now_unix())
    }

    /// The registration behind a client id and secret.
    pub fn client(&self, client_id: &str, secret: &str) -> Result<Registration, ClientRefusal> {
        open_client(self.sealer(), client_id, secret, now_unix())
    }

    /// How long access tokens live.
    pub(in crate::signin) fn access_token_seconds(&self) -> i64 {
        let session_max = i64::try_from(self.limits().session_absolute_seconds).unwrap_or(i64::MAX);
        ACCESS_TOKEN_SECONDS.min(session_max)
    }

    /// Exchanges a refresh token once for a new access token and a new refresh token of the
    /// same family (whose end does not move), in one write.
    pub async fn refresh_cli_token(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Result<Result<IssuedTokens, RefreshRefusal>, DomainError> {
        match self.client(client_id, client_secret) {
            Ok(reg) if reg.allows(GRANT_REFRESH_TOKEN) => {}
            _ => return Ok(Err(RefreshRefusal::Client)),
        }
        if refresh_token.is_empty()
            || refresh_token.len() > super::tokens::BEARER_LEN_MAX
            || !self.service_enabled().await?
        {
            return Ok(Err(RefreshRefusal::Grant));
        }
        let (old, access, refresh) = (digest(refresh_token), new_token(), new_token());
        let ttl = self.access_token_seconds();
        let client_id = client_id.to_owned();
        self.write(move |txn| {
            let now = now_unix();
            let Some(rec) = txn.get::<AccessTokenRecord>(DeviceTokenKey { digest: &old })? else {
                return Ok(Err(RefreshRefusal::Grant));
            };
            if rec.kind != TokenKind::Refresh || rec.client_id != client_id {
                return Ok(Err(RefreshRefusal::Grant));
            }
            if rec.used {
                // Replayed: someone else holds a copy. End the sign-in for both.
                end_tokens(txn, &rec.dir, &rec.user, Ending::Family(&rec.family))?;
                return Ok(Err(RefreshRefusal::Grant));
            }
            if now >= rec.expires_at
                || !user_may_sign_in(txn, &rec.dir, &rec.user, &rec.password_fingerprint)?
            {
                delete_token(txn, &old, &rec)?;
                return Ok(Err(RefreshRefusal::Grant));
            }
            let used = AccessTokenRecord {
                used: true,
                ..rec.clone()
            };
            txn.put(DeviceTokenKey { digest: &old }, &used)?;
            let access_ends = now.saturating_add(ttl).min(rec.expires_at);
            put_token(
                txn,
                &digest(&access),
                &token_record(&rec, TokenKind::Access, now, access_ends),
            )?;
            put_token(
                txn,
                &digest(&refresh),
                &token_record(&rec, TokenKind::Refresh, now, rec.expires_at),
            )?;
            Ok(Ok(IssuedTokens {
                access_token: access,
                expires_in: access_ends - now,
                refresh_token: Some(refresh),
                dir: rec.dir,
                user: rec.user,
                user_name: rec.user_name,
            }))
        })
        .await
    }

    /// Ends the bearer's sign-in: its access token and every token of its family; how many.
    pub async fn logout_cli(&self, b: &Bearer) -> Result<usize, DomainError> {
        let (dir, user) = (b.dir.to_string(), b.user.to_string());
        let (d, family) = (b.digest.clone(), b.family.clone());
        self.write(move |txn| {
            let mut n = 0;
            if let Some(rec) = txn.get::<AccessTokenRecord>(DeviceTokenKey { digest: &d })? {
                delete_token(txn, &d, &rec)?;
                n += 1;
            }
            Ok(n + end_tokens(txn, &dir, &user, Ending::Family(&family))?)
        })
        .await
    }

    /// AWS's role credentials: the access configuration named `role_name` that the bearer's
    /// user may use on the account, as `ASIA` credentials capped by the token's life.
    pub async fn role_credentials(
        &self,
        b: &Bearer,
        account_id: &str,
        role_name: &str,
    ) -> Result<Result<TempCredential, RoleRefusal>, DomainError> {
        let mut by_account = self.grants_by_account(b).await?;
        let configs = by_account.remove(account_id).unwrap_or_default();
        let Some(config_id) = configs
            .into_iter()
            .find(|(_, name)| name == role_name)
            .map(|(id, _)| id)
        else {
            return Ok(Err(RoleRefusal::NoSuchRole));
        };
        let cap = time::OffsetDateTime::from_unix_timestamp(b.expires_at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let issued = self
            .issue_credentials(
                &b.dir,
                &b.user,
                account_id,
                &config_id,
                cap,
                CredentialKind::Aws,
            )
            .await?;
        Ok(issued.map_err(RoleRefusal::Credentials))
    }

    /// How long a directory's CLI sign-ins may refresh themselves: its own setting, else the
    /// server's.
    pub fn cli_refresh_seconds(&self, s: &crate::signin::settings::DirectorySettings) -> u64 {
        s.login
            .cli_refresh_seconds
            .unwrap_or(self.limits().cli_refresh_seconds)
    }

    /// Whether `kind` clients of `dir` get refresh tokens, and until when (from `now`).
    pub(in crate::signin) async fn refresh_until(
        &self,
        kind: ClientKind,
        dir: &str,
        now: i64,
    ) -> Result<Option<i64>, DomainError> {
        if kind != ClientKind::Aws {
            return Ok(None);
        }
        let settings = self.settings(&crate::model::DirectoryId::new(dir)).await?;
        let secs = i64::try_from(self.cli_refresh_seconds(&settings)).unwrap_or(i64::MAX);
        Ok((secs > 0).then(|| now.saturating_add(secs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&[7u8; 32]).unwrap()
    }

    fn request() -> RegisterRequest {
        RegisterRequest {
            client_name: "botocore-client-corp".into(),
            client_type: "public".into(),
            scopes: vec!["sso:account:access".into()],
            ..RegisterRequest::default()
        }
    }

    #[test]
    fn a_registration_opens_with_its_own_id_until_it_expires() {
        let s = sealer();
        let r = register(&s, request(), 1000).unwrap();
        assert_eq!(r.expires_at, 1000 + CLIENT_REGISTRATION_SECONDS);
        let reg = open_client(&s, &r.client_id, &r.client_secret, 1001).unwrap();
        assert_eq!(reg.name, "botocore-client-corp");
        assert_eq!(reg.scopes, ["sso:account:access"]);
        let other = register(&s, request(), 1000).unwrap();
        assert_ne!(other.client_id, r.client_id);
        let cases: Vec<(&str, String, i64, ClientRefusal)> = vec![
            (
                &other.client_id,
                r.client_secret.clone(),
                1001,
                ClientRefusal::Invalid,
            ),
            (
                &r.client_id,
                other.client_secret.clone(),
                1001,
                ClientRefusal::Invalid,
            ),
            (
                &r.client_id,
                format!("{}A", r.client_secret),
                1001,
                ClientRefusal::Invalid,
            ),
            (&r.client_id, String::new(), 1001, ClientRefusal::Invalid),
            (
                &r.client_id,
                r.client_secret.clone(),
                r.expires_at,
                ClientRefusal::Expired,
            ),
        ];
        for (id, secret, now, want) in cases {
            assert_eq!(open_client(&s, id, &secret, now), Err(want), "{secret}");
        }
        let stranger = Sealer::new(&[8u8; 32]).unwrap();
        assert_eq!(
            open_client(&stranger, &r.client_id, &r.client_secret, 1001),
            Err(ClientRefusal::Invalid),
            "another server's key"
        );
        let mut flipped = r.client_id.clone().into_bytes();
        let i = flipped.len() / 2;
        flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let too_long = format!("{CLIENT_ID_PREFIX}{}", "A".repeat(CLIENT_ID_LEN_MAX + 1));
        for id in [
            flipped,
            too_long,
            r.client_id.replacen("CSSOC1.", "CSSOC2.", 1),
        ] {
            assert_eq!(
                open_client_id(&s, &id, 1001),
                Err(ClientRefusal::Invalid),
                "{id}"
            );
        }
        assert_eq!(open_client_id(&s, &r.client_id, 1001), Ok(reg));
    }

    #[test]
    fn registrations_are_checked() {
        let s = sealer();
        let long = "x".repeat(CLIENT_ITEM_LEN_MAX + 1);
        type Edit = fn(&mut RegisterRequest, &str);
        let cases: Vec<(Edit, bool)> = vec![
            (|_, _| {}, true),
            (|r, _| r.client_name = String::new(), false),
            (|r, _| r.client_name = "n".repeat(CLIENT_NAME_LEN_MAX), true),
            (
                |r, _| r.client_name = "n".repeat(CLIENT_NAME_LEN_MAX + 1),
                false,
            ),
            (|r, _| r.client_type = "confidential".into(), false),
            (|r, l| r.scopes = vec![l.into()], false),
            (|r, l| r.issuer_url = l.into(), false),
            (|r, _| r.scopes = vec!["s".into(); CLIENT_LIST_MAX], true),
            // Every item within its own limit, together too large for a client id.
            (
                |r, _| r.scopes = vec!["s".repeat(100); CLIENT_LIST_MAX],
                false,
            ),
            (
                |r, _| r.scopes = vec!["s".into(); CLIENT_LIST_MAX + 1],
                false,
            ),
            (|r, _| r.scopes = vec!["a\nb".into()], false),
            (
                |r, _| r.redirect_uris = vec!["http://127.0.0.1/oauth/callback".into()],
                true,
            ),
            (
                |r, _| r.redirect_uris = vec!["https://evil.example/cb".into()],
                false,
            ),
            (
                |r, _| r.redirect_uris = vec!["http://127.0.0.1.evil.example/cb".into()],
                false,
            ),
            (
                |r, _| r.grant_types = vec!["authorization_code".into(), "refresh_token".into()],
                true,
            ),
            (|r, _| r.grant_types = vec!["password".into()], false),
        ];
        for (i, (edit, ok)) in cases.into_iter().enumerate() {
            let mut r = request();
            edit(&mut r, &long);
            let got = register(&s, r, 0);
            assert_eq!(got.is_ok(), ok, "case {i}");
            if let Ok(g) = got {
                assert!(g.client_id.len() <= CLIENT_ID_LEN_MAX, "case {i}");
            }
        }
        // The largest registration's client id still opens.
        let mut r = request();
        r.client_name = "n".repeat(CLIENT_NAME_LEN_MAX);
        r.scopes = vec!["s".repeat(CLIENT_ITEM_LEN_MAX)];
        r.redirect_uris = vec![format!("http://127.0.0.1/{}", "p".repeat(300))];
        let big = register(&s, r, 0).unwrap();
        assert!(open_client(&s, &big.client_id, &big.client_secret, 1).is_ok());
    }

    #[test]
    fn loopback_redirects_match_whatever_the_port() {
        let reg = Registration {
            nonce: "c".into(),
            name: "n".into(),
            scopes: vec![],
            redirect_uris: vec!["http://127.0.0.1/oauth/callback".into()],
            grant_types: vec![GRANT_AUTHORIZATION_CODE.into()],
            issuer_url: String::new(),
            issued: 0,
            expires: 1,
        };
        for (uri, ok) in [
            ("http://127.0.0.1:37327/oauth/callback", true),
            ("http://127.0.0.1/oauth/callback", true),
            ("http://127.0.0.1:37327/oauth/other", false),
            ("http://localhost:37327/oauth/callback", false),
            ("https://127.0.0.1:37327/oauth/callback", false),
            ("http://127.0.0.1@evil.example/oauth/callback", false),
        ] {
            assert_eq!(redirect_registered(&reg, uri), ok, "{uri}");
        }
        assert!(!reg.allows(GRANT_DEVICE_CODE));
        assert!(reg.allows(GRANT_AUTHORIZATION_CODE));
        let device = Registration {
            grant_types: vec![],
            ..reg
        };
        assert!(device.allows(GRANT_DEVICE_CODE) && device.allows(GRANT_REFRESH_TOKEN));
        assert!(!device.allows(GRANT_AUTHORIZATION_CODE));
    }

    #[test]
    fn a_start_url_names_a_directory_by_host_label_or_path() {
        let public = "http://127.0.0.1:8080";
        let cases: Vec<(&str, Vec<&str>)> = vec![
            (
                "https://d-9067000000.awsapps.com/start",
                vec!["d-9067000000", "start"],
            ),
            (
                "https://d-9067000000.awsapps.com/start#/",
                vec!["d-9067000000", "start"],
            ),
            ("http://127.0.0.1:8080/default/start", vec!["default"]),
            ("http://127.0.0.1:8080/d-abc/login", vec!["d-abc"]),
            ("https://sso.example.com/", vec![]),
            ("https://d-a_b.example.com", vec![]),
        ];
        for (url, want) in cases {
            assert_eq!(start_url_segments(url, public), want, "{url}");
        }
    }
}

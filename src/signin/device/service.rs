//! The device flow's `SignIn` methods: making an authorization (one small write: the record
//! and its user-code row), polling it (a read; polls within the interval never reach the
//! store), approving or denying it from a portal session, and exchanging it once for an
//! access token (one write that deletes the authorization and stores the token).

use super::aws::{
    GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE, IssuedTokens, new_family, open_client_id,
    redirect_registered, start_url_segments, token_record,
};
use super::tokens::{AccessTokenRecord, TokenKind, put_token, user_may_sign_in};
use super::{
    Approval, AuthorizeRefusal, CLOUDSSO_CLIENT_ID, ClientKind, DeviceAuthorization, Invalid,
    PENDING_MAX, POLL_INTERVAL_SECONDS, Poll, Poller, Redirect, Status, USER_CODE_TRIES_MAX,
    UserCodeRow, decide, is_challenge, may_create, new_user_code, parse_user_code, portal_segment,
    show_user_code,
};
use crate::error::DomainError;
use crate::model::percent_encode;
use crate::signin::SignIn;
use crate::signin::flow::Refusal;
use crate::signin::session::{Session, Stage, digest, new_token};
use crate::signin::state::{fingerprint, now_unix};
use crate::store::WriteTxn;
use crate::store::keys::{DeviceCodeKey, DeviceUserCodeKey, KeyedRead, Prefix, SessionKey};
use std::net::IpAddr;

/// What a client asks for to start a sign-in: CloudSSO's public client with PKCE, or an AWS
/// registered client (id and secret) without.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: ClientKind,
    pub client_id: String,
    /// AWS's registered clients only.
    pub client_secret: String,
    /// CloudSSO's `PortalUrl`, AWS's `startUrl`: names the directory.
    pub portal_url: String,
    pub challenge: String,
    pub challenge_method: String,
}

/// A new device authorization, as the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceGrant {
    /// Random 256 bits, hex; stored only as its digest.
    pub device_code: String,
    /// `XXXX-XXXX`.
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: u32,
}

/// What a client sends to poll.
#[derive(Debug, Clone)]
pub struct PollRequest {
    pub client: ClientKind,
    pub client_id: String,
    /// AWS's registered clients only.
    pub client_secret: String,
    /// The device code, or (AWS's authorization-code grant) the authorization code.
    pub device_code: String,
    pub verifier: String,
    /// The authorization-code grant's redirect URI (`None`: the device-code grant).
    pub redirect_uri: Option<String>,
}

/// What AWS's `/authorize` asks for (the authorization-code grant with PKCE).
#[derive(Debug, Clone)]
pub struct CodeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub challenge: String,
    pub challenge_method: String,
}

/// Why `/authorize` is refused. Until the redirect URI is known good nothing is sent there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    UnknownClient,
    /// Not a loopback URI the client registered.
    RedirectUri,
    /// The client registered no issuer URL naming a directory here.
    UnknownDirectory,
    UnsupportedChallengeMethod,
    BadChallenge,
    /// `state` longer than `STATE_LEN_MAX`.
    BadState,
    TooManyPending,
}

/// Longest `state` carried back to the client.
pub const STATE_LEN_MAX: usize = 512;

/// What a poll answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollAnswer {
    Pending,
    SlowDown,
    Invalid(Invalid),
    /// The client id and secret do not stand (AWS).
    Client,
    /// The client did not register this grant type (AWS).
    GrantNotRegistered,
    Token(IssuedTokens),
}

/// A pending authorization as the approval page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    /// `XXXX-XXXX`.
    pub user_code: String,
    pub client: ClientKind,
    pub expires_at: i64,
    /// Once decided, where an authorization-code request sends the browser back (with the
    /// code, or `error=access_denied`, and the client's `state`).
    pub redirect: Option<String>,
}

/// Why the approval page cannot act on a user code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCodeRefusal {
    /// Wrong, expired, or already approved or denied (one answer for all).
    Unknown,
    /// Too many user codes tried from this source.
    Gate(Refusal),
}

impl SignIn {
    /// Makes a device authorization for the directory `r.portal_url` names.
    pub async fn authorize_device(
        &self,
        r: AuthorizeRequest,
    ) -> Result<Result<DeviceGrant, AuthorizeRefusal>, DomainError> {
        let segments = match r.client {
            ClientKind::CloudSso => {
                if r.client_id != CLOUDSSO_CLIENT_ID {
                    return Ok(Err(AuthorizeRefusal::UnknownClient));
                }
                if r.challenge_method != "S256" {
                    return Ok(Err(AuthorizeRefusal::UnsupportedChallengeMethod));
                }
                if !is_challenge(&r.challenge) {
                    return Ok(Err(AuthorizeRefusal::BadChallenge));
                }
                portal_segment(&r.portal_url, self.public_url())
                    .into_iter()
                    .collect()
            }
            ClientKind::Aws => {
                match self.client(&r.client_id, &r.client_secret) {
                    Ok(reg) if reg.allows(GRANT_DEVICE_CODE) => {}
                    _ => return Ok(Err(AuthorizeRefusal::UnknownClient)),
                }
                start_url_segments(&r.portal_url, self.public_url())
            }
        };
        let mut found = None;
        for seg in segments {
            found = self.portal_directory(seg).await?;
            if found.is_some() {
                break;
            }
        }
        let Some(dir) = found else {
            return Ok(Err(AuthorizeRefusal::UnknownDirectory));
        };
        let (client_id, challenge) = match r.client {
            ClientKind::CloudSso => (String::new(), r.challenge),
            ClientKind::Aws => (r.client_id, String::new()),
        };
        let device_code = new_token();
        let now = now_unix();
        let ttl = i64::try_from(self.limits().device_code_seconds).unwrap_or(i64::MAX);
        let auth = DeviceAuthorization {
            dir: dir.id.to_string(),
            client: r.client,
            user_code: String::new(),
            challenge,
            client_id,
            redirect: None,
            created_at: now,
            expires_at: now.saturating_add(ttl),
            interval: POLL_INTERVAL_SECONDS,
            status: Status::Pending,
        };
        let per_dir = self.limits().device_pending_per_directory_max;
        let d = digest(&device_code);
        let stored = self
            .write(move |txn| store_authorization(txn, &d, auth, per_dir, now))
            .await?;
        let Some(code) = stored else {
            return Ok(Err(AuthorizeRefusal::TooManyPending));
        };
        let page = format!("{}/{}/device", self.public_url(), dir.segment());
        let shown = show_user_code(&code);
        Ok(Ok(DeviceGrant {
            device_code,
            verification_uri_complete: format!("{page}?user_code={shown}"),
            verification_uri: page,
            user_code: shown,
            expires_in: ttl,
            interval: POLL_INTERVAL_SECONDS,
        }))
    }

    /// Makes an authorization-code request (AWS's `/authorize`): checked against the client's
    /// sealed registration, stored like a device authorization with its redirect, approved on
    /// the same portal page; the page's URL for the browser.
    pub async fn authorize_code(
        &self,
        r: CodeRequest,
    ) -> Result<Result<String, CodeRefusal>, DomainError> {
        let reg = match open_client_id(self.sealer(), &r.client_id, now_unix()) {
            Ok(reg) if reg.allows(GRANT_AUTHORIZATION_CODE) => reg,
            _ => return Ok(Err(CodeRefusal::UnknownClient)),
        };
        if !redirect_registered(&reg, &r.redirect_uri) {
            return Ok(Err(CodeRefusal::RedirectUri));
        }
        if r.challenge_method != "S256" {
            return Ok(Err(CodeRefusal::UnsupportedChallengeMethod));
        }
        if !is_challenge(&r.challenge) {
            return Ok(Err(CodeRefusal::BadChallenge));
        }
        if r.state.len() > STATE_LEN_MAX {
            return Ok(Err(CodeRefusal::BadState));
        }
        let mut found = None;
        for seg in start_url_segments(&reg.issuer_url, self.public_url()) {
            found = self.portal_directory(seg).await?;
            if found.is_some() {
                break;
            }
        }
        let Some(dir) = found else {
            return Ok(Err(CodeRefusal::UnknownDirectory));
        };
        let now = now_unix();
        let ttl = i64::try_from(self.limits().device_code_seconds).unwrap_or(i64::MAX);
        let auth = DeviceAuthorization {
            dir: dir.id.to_string(),
            client: ClientKind::Aws,
            user_code: String::new(),
            challenge: r.challenge,
            client_id: r.client_id,
            redirect: Some(Redirect {
                uri: r.redirect_uri,
                state: r.state,
            }),
            created_at: now,
            expires_at: now.saturating_add(ttl),
            interval: POLL_INTERVAL_SECONDS,
            status: Status::Pending,
        };
        let per_dir = self.limits().device_pending_per_directory_max;
        // Keyed by a digest of a secret nobody is told: the code exists once approved.
        let d = digest(&new_token());
        let stored = self
            .write(move |txn| store_authorization(txn, &d, auth, per_dir, now))
            .await?;
        let Some(code) = stored else {
            return Ok(Err(CodeRefusal::TooManyPending));
        };
        Ok(Ok(format!(
            "{}/{}/device?user_code={}",
            self.public_url(),
            dir.segment(),
            show_user_code(&code)
        )))
    }

    /// Answers a poll; on approval, issues the token and forgets the device code.
    pub async fn poll_device(&self, r: PollRequest) -> Result<PollAnswer, DomainError> {
        if r.device_code.is_empty() || r.device_code.len() > super::tokens::BEARER_LEN_MAX {
            return Ok(PollAnswer::Invalid(Invalid::Unknown));
        }
        let d = digest(&r.device_code);
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let now_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        if self
            .inner
            .device_polls
            .too_soon(&d, POLL_INTERVAL_SECONDS, now_ms)
        {
            return Ok(PollAnswer::SlowDown);
        }
        let client_id = match r.client {
            ClientKind::CloudSso if r.client_id == CLOUDSSO_CLIENT_ID => "",
            ClientKind::CloudSso => return Ok(PollAnswer::Invalid(Invalid::WrongClient)),
            ClientKind::Aws => {
                let grant = match r.redirect_uri {
                    Some(_) => GRANT_AUTHORIZATION_CODE,
                    None => GRANT_DEVICE_CODE,
                };
                match self.client(&r.client_id, &r.client_secret) {
                    Ok(reg) if reg.allows(grant) => r.client_id.as_str(),
                    Ok(_) => return Ok(PollAnswer::GrantNotRegistered),
                    Err(_) => return Ok(PollAnswer::Client),
                }
            }
        };
        let key = d.clone();
        let found = self
            .read(move |txn| Ok(txn.get::<DeviceAuthorization>(DeviceCodeKey { digest: &key })?))
            .await?;
        let by = Poller {
            client: r.client,
            client_id,
            verifier: &r.verifier,
            redirect_uri: r.redirect_uri.as_deref(),
        };
        let approval = match decide(found.as_ref(), by, now_unix()) {
            Poll::Pending => return Ok(PollAnswer::Pending),
            Poll::SlowDown => return Ok(PollAnswer::SlowDown),
            Poll::Invalid(i) => return Ok(PollAnswer::Invalid(i)),
            Poll::Approved(a) => a,
        };
        if !self.service_enabled().await? {
            return Ok(PollAnswer::Invalid(Invalid::Revoked));
        }
        let answer = self.issue(&d, approval, client_id).await?;
        self.inner.device_polls.forget(&d);
        Ok(answer)
    }

    /// Exchanges an approved authorization for a token (and, for AWS's clients, a refresh
    /// token), in one write job that finds it still there (single use) and its approval still
    /// standing.
    async fn issue(
        &self,
        d: &str,
        a: Approval,
        client_id: &str,
    ) -> Result<PollAnswer, DomainError> {
        let (token, refresh) = (new_token(), new_token());
        let now = now_unix();
        let ttl = self.access_token_seconds();
        let refresh_until = self.refresh_until(a.client, &a.dir, now).await?;
        let rec = AccessTokenRecord {
            dir: a.dir.clone(),
            user: a.user.clone(),
            user_name: a.user_name.clone(),
            client: a.client,
            created_at: now,
            expires_at: now.saturating_add(ttl),
            session: a.session.clone(),
            password_fingerprint: a.password_fingerprint.clone(),
            kind: TokenKind::Access,
            client_id: client_id.to_owned(),
            family: new_family(),
            used: false,
        };
        let (d, td) = (d.to_owned(), digest(&token));
        self.write(move |txn| {
            let Some(auth) = txn.get::<DeviceAuthorization>(DeviceCodeKey { digest: &d })? else {
                return Ok(PollAnswer::Invalid(Invalid::Unknown));
            };
            delete_authorization(txn, &d, &auth)?;
            let standing = matches!(&auth.status, Status::Approved { user, .. } if *user == rec.user)
                && txn.get::<serde::de::IgnoredAny>(SessionKey { digest: &rec.session })?.is_some()
                && user_may_sign_in(txn, &rec.dir, &rec.user, &rec.password_fingerprint)?;
            if !standing {
                return Ok(PollAnswer::Invalid(Invalid::Revoked));
            }
            put_token(txn, &td, &rec)?;
            let refresh_token = match refresh_until {
                Some(until) => {
                    let r = token_record(&rec, TokenKind::Refresh, now, until);
                    put_token(txn, &digest(&refresh), &r)?;
                    Some(refresh)
                }
                None => None,
            };
            Ok(PollAnswer::Token(IssuedTokens {
                access_token: token,
                expires_in: ttl,
                refresh_token,
                dir: rec.dir.clone(),
                user: rec.user.clone(),
                user_name: rec.user_name.clone(),
            }))
        })
        .await
    }

    /// The pending authorization `typed` names in the session's directory, for the approval
    /// page. Every code tried counts against the source's sign-in attempts.
    pub async fn device_request(
        &self,
        s: &Session,
        typed: &str,
        ip: IpAddr,
    ) -> Result<Result<DeviceView, UserCodeRefusal>, DomainError> {
        let code = match self.user_code_gate(s, typed, ip).await? {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        let dir = s.record.dir.clone();
        self.read(move |txn| {
            let found = pending_by_user_code(txn, &dir, &code, now_unix())?;
            Ok(found
                .map(|(_, a)| view(&a, None))
                .ok_or(UserCodeRefusal::Unknown))
        })
        .await
    }

    /// Approves (binding it to the session's user and the session) or denies the pending
    /// authorization `typed` names.
    pub async fn decide_device(
        &self,
        s: &Session,
        typed: &str,
        approve: bool,
        ip: IpAddr,
    ) -> Result<Result<DeviceView, UserCodeRefusal>, DomainError> {
        let code = match self.user_code_gate(s, typed, ip).await? {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        let s = s.clone();
        self.write(move |txn| {
            let rec = &s.record;
            let Some((d, mut a)) = pending_by_user_code(txn, &rec.dir, &code, now_unix())? else {
                return Ok(Err(UserCodeRefusal::Unknown));
            };
            a.status = if approve {
                Status::Approved {
                    user: rec.user.clone(),
                    user_name: rec.user_name.clone(),
                    session: s.digest.clone(),
                    password_fingerprint: txn
                        .password_hash(&rec.dir, &rec.user)?
                        .map(|p| fingerprint(&p)),
                }
            } else {
                Status::Denied
            };
            let Some(redirect) = a.redirect.clone() else {
                txn.put(DeviceCodeKey { digest: &d }, &a)?;
                return Ok(Ok(view(&a, None)));
            };
            // An authorization code: the browser carries a new secret back to the client,
            // under whose digest the approval now waits (once; the user code is spent).
            delete_authorization(txn, &d, &a)?;
            let back = if approve {
                let code = new_token();
                txn.put(
                    DeviceCodeKey {
                        digest: &digest(&code),
                    },
                    &a,
                )?;
                format!("code={code}")
            } else {
                "error=access_denied".to_owned()
            };
            let state = percent_encode(&redirect.state);
            let sep = if redirect.uri.contains('?') { '&' } else { '?' };
            let url = format!("{}{sep}{back}&state={state}", redirect.uri);
            Ok(Ok(view(&a, Some(url))))
        })
        .await
    }

    /// An active session, a well-formed user code and a source under its attempt limit.
    async fn user_code_gate(
        &self,
        s: &Session,
        typed: &str,
        ip: IpAddr,
    ) -> Result<Result<String, UserCodeRefusal>, DomainError> {
        if s.record.stage != Stage::Active {
            return Err(DomainError::Unauthorized);
        }
        if let Err(secs) = self.inner.per_source.attempt(&ip.to_string(), now_unix()) {
            return Ok(Err(UserCodeRefusal::Gate(Refusal::TooManyAttempts(secs))));
        }
        Ok(parse_user_code(typed).ok_or(UserCodeRefusal::Unknown))
    }
}

fn view(a: &DeviceAuthorization, redirect: Option<String>) -> DeviceView {
    DeviceView {
        user_code: show_user_code(&a.user_code),
        client: a.client,
        expires_at: a.expires_at,
        redirect,
    }
}

/// The pending, unexpired authorization with user code `code` in `dir`, and its digest.
fn pending_by_user_code(
    txn: &impl KeyedRead,
    dir: &str,
    code: &str,
    now: i64,
) -> Result<Option<(String, DeviceAuthorization)>, DomainError> {
    let Some(row) = txn.read_at::<UserCodeRow>(DeviceUserCodeKey { dir, code })? else {
        return Ok(None);
    };
    let found = txn.read_at::<DeviceAuthorization>(DeviceCodeKey {
        digest: &row.digest,
    })?;
    Ok(found
        .filter(|a| a.status == Status::Pending && now < a.expires_at && a.dir == dir)
        .map(|a| (row.digest, a)))
}

/// Stores a new authorization under a user code free in its directory, within the bounds;
/// its user code, or `None` past a bound.
fn store_authorization(
    txn: &WriteTxn,
    d: &str,
    mut auth: DeviceAuthorization,
    per_dir_max: usize,
    now: i64,
) -> Result<Option<String>, DomainError> {
    let dir = auth.dir.clone();
    let mut in_dir = 0;
    for row in txn.scan_at_most::<UserCodeRow>(
        Prefix::DeviceUserCodesIn { dir: &dir },
        per_dir_max.saturating_mul(4),
    )? {
        if row.expires_at > now {
            in_dir += 1;
        }
    }
    let all = txn.count_under(Prefix::AllDeviceCodes, PENDING_MAX)?;
    if !may_create(in_dir, per_dir_max, all, PENDING_MAX) {
        return Ok(None);
    }
    for _ in 0..USER_CODE_TRIES_MAX {
        let code = new_user_code();
        let key = DeviceUserCodeKey {
            dir: &dir,
            code: &code,
        };
        if txn
            .get::<UserCodeRow>(key)?
            .is_some_and(|r| r.expires_at > now)
        {
            continue;
        }
        let row = UserCodeRow {
            digest: d.to_owned(),
            expires_at: auth.expires_at,
        };
        txn.put(key, &row)?;
        auth.user_code = code.clone();
        txn.put(DeviceCodeKey { digest: d }, &auth)?;
        return Ok(Some(code));
    }
    // 20^8 codes: eight draws all taken means the directory is full in practice.
    Ok(None)
}

/// Removes an authorization and its user-code row (if the row is still its own).
pub(in crate::signin) fn delete_authorization(
    txn: &WriteTxn,
    d: &str,
    a: &DeviceAuthorization,
) -> Result<(), DomainError> {
    txn.delete(DeviceCodeKey { digest: d })?;
    let key = DeviceUserCodeKey {
        dir: &a.dir,
        code: &a.user_code,
    };
    if txn.get::<UserCodeRow>(key)?.is_some_and(|r| r.digest == d) {
        txn.delete(key)?;
    }
    Ok(())
}

/// Forgets authorizations past their end, at most `max`; how many.
pub(in crate::signin) fn forget_expired_authorizations(
    txn: &WriteTxn,
    now: i64,
    max: usize,
) -> Result<usize, DomainError> {
    let mut n = 0;
    for (d, a) in txn.scan_tails::<DeviceAuthorization>(Prefix::AllDeviceCodes)? {
        if n >= max {
            break;
        }
        if now >= a.expires_at {
            delete_authorization(txn, &d, &a)?;
            n += 1;
        }
    }
    Ok(n)
}

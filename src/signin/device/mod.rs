//! CLI sign-in by the device flow (RFC 8628 with PKCE): a device authorization made without
//! credentials, approved in the portal by a signed-in user, exchanged once for an access token
//! that lists the user's accounts and access configurations.
//!
//! This file is the pure core: the records, user codes, PKCE, what a poll answers, the clock
//! that slows fast pollers and the bounds on pending authorizations; no IO and no time of its
//! own (every function takes `now`). `service` holds the `SignIn` methods over the store and
//! `tokens` the access tokens. A client kind rides on every authorization, so the same core
//! serves CloudSSO's protocol now and AWS's later; the wire spellings are `http::device`'s.

pub mod aws;
pub mod service;
pub mod tokens;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// The public client id both CloudSSO CLIs (aliyun, acs-sso) hard-code.
pub const CLOUDSSO_CLIENT_ID: &str = "app-vaz16tltdxs96audqf35";
/// Seconds a client is told to wait between polls (the aliyun CLI spins on 0).
pub const POLL_INTERVAL_SECONDS: u32 = 1;
/// Most device authorizations pending at once across all directories.
pub const PENDING_MAX: usize = 20_000;
/// Longest life of an access token, in seconds (also at most the portal session's).
pub const ACCESS_TOKEN_SECONDS: i64 = 8 * 3600;
/// RFC 8628 section 6.1's alphabet: consonants only (no vowels, so no words; no 0/O, 1/I).
pub const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters of a user code (shown as two groups of four).
pub const USER_CODE_LEN: usize = 8;
/// Tries to find a user code not in use in the directory before giving up.
pub const USER_CODE_TRIES_MAX: usize = 8;
/// Longest PKCE verifier or challenge accepted (RFC 7636: 43 to 128 characters).
pub const PKCE_LEN_MAX: usize = 128;

/// Which protocol a device authorization was made through (how its answers are spelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientKind {
    /// Alibaba CloudSSO's portal protocol (`aliyun configure --mode CloudSSO`, acs-sso).
    CloudSso,
    /// AWS IAM Identity Center's sso-oidc (`aws`, boto3, aws-sso-util, cloudsso's own CLI):
    /// registered clients, no PKCE on the device flow, refresh tokens.
    Aws,
}

impl ClientKind {
    /// The client as the approval page names it.
    pub fn display(self) -> &'static str {
        match self {
            ClientKind::CloudSso => "CloudSSO CLI",
            ClientKind::Aws => "AWS CLI",
        }
    }
}

/// Where an authorization stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    /// Approved in the portal by `user`, from the session whose digest is `session`.
    Approved {
        user: String,
        user_name: String,
        session: String,
        /// The user's password fingerprint when approving (None: no password).
        password_fingerprint: Option<String>,
    },
    Denied,
}

/// A device authorization, stored under the SHA-256 digest of its device code (the code itself
/// is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    pub dir: String,
    pub client: ClientKind,
    /// `USER_CODE_LEN` characters of `USER_CODE_ALPHABET`, without the dash.
    pub user_code: String,
    /// base64url(SHA-256(verifier)) without padding (S256, the only method); empty for AWS's
    /// device flow, which has no PKCE (its binding is the registered client's id).
    pub challenge: String,
    /// The registered client (AWS's protocol; empty for CloudSSO's one public client).
    #[serde(default)]
    pub client_id: String,
    /// Where the browser goes back to once the user decides: an authorization-code request
    /// (AWS's `/authorize`, with PKCE) rather than a device authorization.
    #[serde(default)]
    pub redirect: Option<Redirect>,
    pub created_at: i64,
    pub expires_at: i64,
    pub interval: u32,
    pub status: Status,
}

/// The client's loopback redirect URI and the `state` to give back on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    pub uri: String,
    pub state: String,
}

/// The user-code index row: which authorization a code names, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCodeRow {
    pub digest: String,
    pub expires_at: i64,
}

/// Why a device authorization is not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    UnknownDirectory,
    UnknownClient,
    /// Only S256.
    UnsupportedChallengeMethod,
    /// Not a base64url SHA-256 digest.
    BadChallenge,
    /// Too many pending in the directory, or overall.
    TooManyPending,
}

/// What a poll of `/token` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Not approved yet.
    Pending,
    /// Polled before its interval passed (CloudSSO's clients only understand `Pending`).
    SlowDown,
    /// The device code is unknown, expired, used, denied, of another client, or its verifier
    /// does not match.
    Invalid(Invalid),
    /// Approved: the token to issue.
    Approved(Approval),
}

/// Why a device code is refused (the wire says one thing; logs and tests tell them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Unknown,
    Expired,
    Denied,
    WrongClient,
    Verifier,
    /// The user or the approving session is no longer there, or the password changed.
    Revoked,
}

/// Who approved an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub dir: String,
    pub client: ClientKind,
    pub user: String,
    pub user_name: String,
    pub session: String,
    pub password_fingerprint: Option<String>,
}

/// Who polls: the protocol, the client id (AWS's registered one), the PKCE verifier and,
/// exchanging an authorization code, the redirect URI it was asked for.
#[derive(Debug, Clone, Copy)]
pub struct Poller<'a> {
    pub client: ClientKind,
    pub client_id: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: Option<&'a str>,
}

/// What a poll decides from the stored authorization (`None`: no such device code), once the
/// clock has let it through. The poller must be the client that asked (same protocol and, for
/// AWS, the same registered client) and hold the PKCE verifier when the authorization has a
/// challenge (always for CloudSSO's).
pub fn decide(found: Option<&DeviceAuthorization>, by: Poller<'_>, now: i64) -> Poll {
    let Some(a) = found else {
        return Poll::Invalid(Invalid::Unknown);
    };
    if now >= a.expires_at {
        return Poll::Invalid(Invalid::Expired);
    }
    if a.client != by.client || a.client_id != by.client_id {
        return Poll::Invalid(Invalid::WrongClient);
    }
    let same_grant = match (&a.redirect, by.redirect_uri) {
        (None, None) => true,
        (Some(r), Some(uri)) => r.uri == uri,
        _ => false,
    };
    if !same_grant {
        return Poll::Invalid(Invalid::WrongClient);
    }
    let pkce = by.client == ClientKind::CloudSso || !a.challenge.is_empty();
    if pkce && !verifier_matches(by.verifier, &a.challenge) {
        return Poll::Invalid(Invalid::Verifier);
    }
    match &a.status {
        Status::Pending => Poll::Pending,
        Status::Denied => Poll::Invalid(Invalid::Denied),
        Status::Approved {
            user,
            user_name,
            session,
            password_fingerprint,
        } => Poll::Approved(Approval {
            dir: a.dir.clone(),
            client: a.client,
            user: user.clone(),
            user_name: user_name.clone(),
            session: session.clone(),
            password_fingerprint: password_fingerprint.clone(),
        }),
    }
}

/// base64url(SHA-256(`verifier`)) without padding.
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` is the one `challenge` was made from (compared in constant time).
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    !verifier.is_empty()
        && verifier.len() <= PKCE_LEN_MAX
        && super::session::same_token(&s256(verifier), challenge)
}

/// Whether `c` can be an S256 challenge: 43 base64url characters (a SHA-256 digest).
pub fn is_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new user code from `random` bytes (one character per byte, rejection-free: 256 is not a
/// multiple of 20, so the first 240 values are used and the rest retried by the caller).
pub fn user_code_from(random: &[u8]) -> Option<String> {
    let n = USER_CODE_ALPHABET.len();
    let usable = 256 - 256 % n;
    let code: String = random
        .iter()
        .filter(|b| usize::from(**b) < usable)
        .take(USER_CODE_LEN)
        .filter_map(|b| USER_CODE_ALPHABET.get(usize::from(*b) % n))
        .map(|b| char::from(*b))
        .collect();
    (code.len() == USER_CODE_LEN).then_some(code)
}

/// A new random user code.
pub fn new_user_code() -> String {
    loop {
        let mut b = [0u8; 2 * USER_CODE_LEN];
        crate::model::fill_random(&mut b);
        if let Some(c) = user_code_from(&b) {
            return c;
        }
    }
}

/// A user code as shown: `XXXX-XXXX`.
pub fn show_user_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(USER_CODE_LEN / 2));
    format!("{a}-{b}")
}

/// A user code as typed (any case, with or without the dash or spaces) in its stored form, if
/// it can be one.
pub fn parse_user_code(typed: &str) -> Option<String> {
    if typed.len() > 4 * USER_CODE_LEN {
        return None;
    }
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    ok.then_some(code)
}

/// The directory segment a portal URL names: `<public-url>/<segment>/login` (or any page
/// under the segment); the scheme and host are not compared (clients may reach the server by
/// another name), the public URL's own path is skipped.
pub fn portal_segment<'a>(portal_url: &'a str, public_url: &str) -> Option<&'a str> {
    let path = url_path(portal_url)
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let base = url_path(public_url).trim_end_matches('/');
    let path = path.strip_prefix(base).unwrap_or(path);
    let seg = path.trim_start_matches('/').split('/').next()?;
    let ok = !seg.is_empty()
        && seg.len() <= 128
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    ok.then_some(seg)
}

/// The path of an absolute URL ("" when it has none).
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .and_then(|i| rest.get(i..))
        .unwrap_or_default()
}

/// Whether another authorization may be made: `pending_in_dir` live ones in the directory and
/// `pending_all` stored overall, against their bounds.
pub fn may_create(
    pending_in_dir: usize,
    per_dir_max: usize,
    pending_all: usize,
    all_max: usize,
) -> bool {
    pending_in_dir < per_dir_max && pending_all < all_max
}

/// Remembers when each device code was last polled, so a poll before its interval is answered
/// at once without reading the store. In memory (a restart forgets it: at worst one poll is
/// not slowed), bounded by `PENDING_MAX` entries.
#[derive(Default)]
pub struct PollClock {
    last: Mutex<HashMap<String, i64>>,
}

impl PollClock {
    /// Whether a poll of `digest` at `now_ms` comes too soon after the last one let through;
    /// if not, it becomes the last one.
    pub fn too_soon(&self, digest: &str, interval: u32, now_ms: i64) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = last.get(digest)
            && now_ms.saturating_sub(*t) < i64::from(interval) * 1000
        {
            return true;
        }
        if last.len() >= PENDING_MAX && !last.contains_key(digest) {
            // Entries older than any code's life are dead; if none is, start over.
            let horizon = now_ms.saturating_sub(crate::config::DEVICE_CODE_SECONDS as i64 * 1000);
            last.retain(|_, t| *t > horizon);
            if last.len() >= PENDING_MAX {
                last.clear();
            }
        }
        last.insert(digest.to_owned(), now_ms);
        false
    }

    /// Forgets a device code (used or gone).
    pub fn forget(&self, digest: &str) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.remove(digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "137b7a38d49e10f77362b4eeb2a78fd01d13ebced75ebcd320547e0d0cedf079";

    fn auth(status: Status, expires_at: i64) -> DeviceAuthorization {
        DeviceAuthorization {
            dir: "d-1".into(),
            client: ClientKind::CloudSso,
            user_code: "BCDFGHJK".into(),
            challenge: s256(VERIFIER),
            client_id: String::new(),
            redirect: None,
            created_at: 0,
            expires_at,
            interval: POLL_INTERVAL_SECONDS,
            status,
        }
    }

    fn approved() -> Status {
        Status::Approved {
            user: "u-1".into(),
            user_name: "alice".into(),
            session: "s".into(),
            password_fingerprint: None,
        }
    }

    #[test]
    fn a_poll_answers_from_the_authorization() {
        use Invalid::*;
        let cases: Vec<(Option<DeviceAuthorization>, ClientKind, &str, i64, Poll)> = vec![
            (
                None,
                ClientKind::CloudSso,
                VERIFIER,
                0,
                Poll::Invalid(Unknown),
            ),
            (
                Some(auth(Status::Pending, 600)),
                ClientKind::CloudSso,
                VERIFIER,
                599,
                Poll::Pending,
            ),
            (
                Some(auth(Status::Pending, 600)),
                ClientKind::CloudSso,
                VERIFIER,
                600,
                Poll::Invalid(Expired),
            ),
            (
                Some(auth(approved(), 600)),
                ClientKind::CloudSso,
                VERIFIER,
                600,
                Poll::Invalid(Expired),
            ),
            (
                Some(auth(Status::Pending, 600)),
                ClientKind::Aws,
                VERIFIER,
                1,
                Poll::Invalid(WrongClient),
            ),
            (
                Some(auth(Status::Pending, 600)),
                ClientKind::CloudSso,
                "other",
                1,
                Poll::Invalid(Verifier),
            ),
            (
                Some(auth(Status::Pending, 600)),
                ClientKind::CloudSso,
                "",
                1,
                Poll::Invalid(Verifier),
            ),
            (
                Some(auth(approved(), 600)),
                ClientKind::CloudSso,
                "other",
                1,
                Poll::Invalid(Verifier),
            ),
            (
                Some(auth(Status::Denied, 600)),
                ClientKind::CloudSso,
                VERIFIER,
                1,
                Poll::Invalid(Denied),
            ),
        ];
        for (found, client, verifier, now, want) in cases {
            let by = Poller {
                client,
                client_id: "",
                verifier,
                redirect_uri: None,
            };
            assert_eq!(
                decide(found.as_ref(), by, now),
                want,
                "{found:?} {verifier} {now}"
            );
        }
        let by = Poller {
            client: ClientKind::CloudSso,
            client_id: "",
            verifier: VERIFIER,
            redirect_uri: None,
        };
        let got = decide(Some(&auth(approved(), 600)), by, 599);
        assert!(matches!(got, Poll::Approved(a) if a.user == "u-1" && a.session == "s"));
    }

    #[test]
    fn an_aws_poll_is_bound_to_its_registered_client_and_its_challenge_if_any() {
        use Invalid::*;
        let aws = |status: Status, challenge: &str| DeviceAuthorization {
            client: ClientKind::Aws,
            client_id: "c-1".into(),
            challenge: challenge.into(),
            ..auth(status, 600)
        };
        let with_pkce = s256(VERIFIER);
        // (authorization, client id, verifier, answer)
        let cases: Vec<(DeviceAuthorization, &str, &str, Poll)> = vec![
            (aws(Status::Pending, ""), "c-1", "", Poll::Pending),
            (
                aws(Status::Pending, ""),
                "c-2",
                "",
                Poll::Invalid(WrongClient),
            ),
            (aws(Status::Pending, ""), "", "", Poll::Invalid(WrongClient)),
            (
                aws(Status::Pending, &with_pkce),
                "c-1",
                VERIFIER,
                Poll::Pending,
            ),
            (
                aws(Status::Pending, &with_pkce),
                "c-1",
                "",
                Poll::Invalid(Verifier),
            ),
            (
                aws(Status::Pending, &with_pkce),
                "c-1",
                "x",
                Poll::Invalid(Verifier),
            ),
            (aws(Status::Denied, ""), "c-1", "", Poll::Invalid(Denied)),
        ];
        for (a, client_id, verifier, want) in cases {
            let by = Poller {
                client: ClientKind::Aws,
                client_id,
                verifier,
                redirect_uri: None,
            };
            assert_eq!(
                decide(Some(&a), by, 1),
                want,
                "{a:?} {client_id} {verifier}"
            );
        }
        // An authorization code goes with the redirect URI it was asked for, and only with it.
        let code = DeviceAuthorization {
            redirect: Some(Redirect {
                uri: "http://127.0.0.1:4000/cb".into(),
                state: "s".into(),
            }),
            ..aws(approved(), &with_pkce)
        };
        for (uri, verifier, ok) in [
            (Some("http://127.0.0.1:4000/cb"), VERIFIER, true),
            (Some("http://127.0.0.1:4001/cb"), VERIFIER, false),
            (None, VERIFIER, false),
            (Some("http://127.0.0.1:4000/cb"), "other", false),
        ] {
            let by = Poller {
                client: ClientKind::Aws,
                client_id: "c-1",
                verifier,
                redirect_uri: uri,
            };
            let got = decide(Some(&code), by, 1);
            assert_eq!(matches!(got, Poll::Approved(_)), ok, "{uri:?} {got:?}");
        }
        let by = Poller {
            client: ClientKind::Aws,
            client_id: "c-1",
            verifier: VERIFIER,
            redirect_uri: Some("http://127.0.0.1:4000/cb"),
        };
        let device = aws(approved(), &with_pkce);
        assert_eq!(
            decide(Some(&device), by, 1),
            Poll::Invalid(WrongClient),
            "a device code is no authorization code"
        );
        let by = Poller {
            client: ClientKind::CloudSso,
            client_id: "",
            verifier: VERIFIER,
            redirect_uri: None,
        };
        let a = aws(Status::Pending, &with_pkce);
        assert_eq!(
            decide(Some(&a), by, 1),
            Poll::Invalid(WrongClient),
            "other protocol"
        );
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(s256(v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(verifier_matches(
            v,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!verifier_matches(
            &"a".repeat(PKCE_LEN_MAX + 1),
            &s256(&"a".repeat(PKCE_LEN_MAX + 1))
        ));
        for (c, ok) in [
            ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", true),
            ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", false),
            ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", false),
            ("", false),
        ] {
            assert_eq!(is_challenge(c), ok, "{c}");
        }
    }

    #[test]
    fn user_codes_are_typed_loosely_and_stored_strictly() {
        for (typed, want) in [
            ("BCDF-GHJK", Some("BCDFGHJK")),
            ("bcdf ghjk", Some("BCDFGHJK")),
            ("BCDFGHJK", Some("BCDFGHJK")),
            ("BCDF-GHJA", None),
            ("BCDF-GHJ", None),
            ("BCDF-GHJKL", None),
            ("", None),
        ] {
            assert_eq!(parse_user_code(typed).as_deref(), want, "{typed}");
        }
        assert_eq!(show_user_code("BCDFGHJK"), "BCDF-GHJK");
        for _ in 0..100 {
            let c = new_user_code();
            assert_eq!(parse_user_code(&show_user_code(&c)), Some(c));
        }
        // Bytes past the last whole multiple of the alphabet are skipped, not folded.
        assert_eq!(user_code_from(&[255; 16]), None);
        assert_eq!(
            user_code_from(&[0, 1, 2, 3, 4, 5, 6, 250, 7]).as_deref(),
            Some("BCDFGHJK")
        );
    }

    #[test]
    fn the_directory_comes_from_the_portal_url() {
        let cases = [
            (
                "http://127.0.0.1:8080/default/login",
                "http://127.0.0.1:8080",
                Some("default"),
            ),
            (
                "http://localhost:8080/d-abc/device/login",
                "http://127.0.0.1:8080",
                Some("d-abc"),
            ),
            (
                "https://sso.example/sso/acme/login?x=1",
                "https://sso.example/sso/",
                Some("acme"),
            ),
            (
                "https://sso.example/acme",
                "https://sso.example",
                Some("acme"),
            ),
            ("https://sso.example/", "https://sso.example", None),
            ("https://sso.example", "https://sso.example", None),
            (
                "https://sso.example/a%2Fb/login",
                "https://sso.example",
                None,
            ),
            ("not a url", "https://sso.example", None),
        ];
        for (url, public, want) in cases {
            assert_eq!(portal_segment(url, public), want, "{url}");
        }
    }

    #[test]
    fn pending_authorizations_are_bounded_on_both_sides() {
        for (in_dir, all, ok) in [
            (9, 99, true),
            (10, 0, false),
            (0, 100, false),
            (9, 100, false),
        ] {
            assert_eq!(may_create(in_dir, 10, all, 100), ok, "{in_dir} {all}");
        }
    }

    #[test]
    fn polls_within_the_interval_are_too_soon() {
        let clock = PollClock::default();
        for (at, soon) in [
            (0, false),
            (999, true),
            (1000, false),
            (1500, true),
            (2000, false),
        ] {
            assert_eq!(clock.too_soon("d", 1, at), soon, "{at}");
        }
        assert!(!clock.too_soon("other", 1, 2000), "per device code");
        clock.forget("d");
        assert!(!clock.too_soon("d", 1, 2001));
    }
}

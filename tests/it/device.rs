//! Issue 13, CloudSSO's CLI sign-in over HTTP, as the aliyun CLI and acs-sso send it
//! (research/portal.md section 2): device authorization with PKCE, polling, the user's
//! approval in the portal (signed in by password and MFA, coming back to the approval page),
//! the token, the account and access-configuration lists; refusals (PKCE, expiry, reuse,
//! denial, unknown directory, other clients, the AWS shape), too-fast polling, and the token's
//! death on disable, password change and sign-out.

use crate::browser::{Browser, Page};
use crate::harness::*;
use crate::portal::{at, sign_in_and_enroll};
use crate::signin_totp::{code_at, settled_now};
use base64::Engine;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const DIR: &str = "default";
const CLIENT_ID: &str = "app-vaz16tltdxs96audqf35";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The verifier acs-sso sent in the captured run (64 hex characters).
const VERIFIER: &str = "137b7a38d49e10f77362b4eeb2a78fd01d13ebced75ebcd320547e0d0cedf079";

/// The server's root URL (`srv.base` is SCIM's).
fn root(srv: &Server) -> String {
    format!("http://{}", srv.addr)
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn json_post(srv: &Server, path: &str, body: Value) -> Reply {
    let headers = [
        ("accept", "application/json"),
        ("content-type", "application/json"),
    ];
    let body = serde_json::to_vec(&body).unwrap();
    let url = format!("{}{path}", root(srv));
    srv.send(Method::POST, &url, &headers, Some(body)).await
}

async fn authorize(srv: &Server, portal_url: &str) -> Reply {
    let body = json!({"PortalUrl": portal_url, "CodeChallenge": challenge(VERIFIER),
                      "ClientId": CLIENT_ID, "CodeChallengeMethod": "S256"});
    json_post(srv, "/device-authorization", body).await
}

/// A new device authorization for the default directory: (DeviceCode, UserCode, body).
async fn start(srv: &Server) -> (String, String, Value) {
    let r = authorize(srv, &format!("{}/{DIR}/login", root(srv))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let dc = r.body["DeviceCode"].as_str().unwrap().to_owned();
    let uc = r.body["UserCode"].as_str().unwrap().to_owned();
    (dc, uc, r.body)
}

async fn poll_with(srv: &Server, device_code: &str, verifier: &str) -> Reply {
    let body = json!({"CodeVerifier": verifier, "ClientId": CLIENT_ID,
                      "DeviceCode": device_code, "GrantType": GRANT});
    json_post(srv, "/token", body).await
}

/// Polls after the interval.
async fn poll(srv: &Server, device_code: &str) -> Reply {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    poll_with(srv, device_code, VERIFIER).await
}

/// Asserts a 4xx with the protocol's error body and code `code`.
fn refused(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["ErrorCode"], code, "{}", r.body);
    assert!(
        r.body["ErrorMessage"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        r.body
    );
    assert!(
        r.body["RequestId"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.body
    );
}

async fn bearer_post(srv: &Server, token: &str, path: &str, body: Value) -> Reply {
    let auth = format!("Bearer {token}");
    srv.send(
        Method::POST,
        &format!("{}{path}", root(srv)),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        Some(serde_json::to_vec(&body).unwrap()),
    )
    .await
}

async fn bearer_get(srv: &Server, token: &str, path: &str) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [
        ("authorization", auth.as_str()),
        ("accept", "application/json"),
    ];
    let url = format!("{}{path}", root(srv));
    srv.send(Method::GET, &url, &headers, None).await
}

/// Approves `user_code` from a signed-in browser; the page answered.
async fn decide(b: &mut Browser<'_>, user_code: &str, decision: &str) -> Page {
    let page = b.get(&format!("/{DIR}/device?user_code={user_code}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.text_of("user-code").as_deref(), Some(user_code));
    assert_eq!(page.text_of("client").as_deref(), Some("CloudSSO CLI"));
    let csrf = page.hidden("csrf").unwrap();
    b.post(
        &format!("/{DIR}/device"),
        &[
            ("csrf", &csrf),
            ("user_code", user_code),
            ("decision", decision),
        ],
    )
    .await
}

/// A signed-in user's approved token: (token, browser).
async fn token_for<'a>(srv: &'a Server, user: &str) -> (String, Browser<'a>) {
    let mut b = Browser::new(srv);
    sign_in_and_enroll(&mut b, user).await;
    let (dc, uc, _) = start(srv).await;
    let p = decide(&mut b, &uc, "approve").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    let r = poll(srv, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (r.body["AccessToken"].as_str().unwrap().to_owned(), b)
}

/// Signs in from the sign-in page the approval link sent the browser to, with MFA enrollment;
/// the page the sign-in comes back to.
async fn sign_in_from(b: &mut Browser<'_>, login: &str, user: &str) -> Page {
    let page = b.get(login).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.hidden("csrf").unwrap();
    let p = b
        .post(
            login,
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", "Sup3r-secret!"),
            ],
        )
        .await;
    at(&p, &format!("/{DIR}/mfa/enroll"));
    let enroll = b.get(&format!("/{DIR}/mfa/enroll")).await;
    let secret = enroll.text_of("secret").unwrap();
    let csrf = enroll.hidden("csrf").unwrap();
    let code = code_at(&secret, settled_now().await);
    b.post(
        &format!("/{DIR}/mfa/enroll"),
        &[("csrf", &csrf), ("code", &code)],
    )
    .await
}

#[tokio::test]
async fn the_cloudsso_cli_signs_in_by_the_device_flow_and_lists_its_access() {
    let srv = Server::start();
    let alice = srv.portal_user("alice").await;
    let s = srv.setup_access("DeviceAdmin").await;
    srv.assign(&s, "User", &alice).await;
    let (dc, uc, body) = start(&srv).await;
    assert_eq!(dc.len(), 64, "256 random bits");
    assert!(uc.len() == 9 && uc.as_bytes()[4] == b'-', "{uc}");
    assert_eq!(
        body["VerificationUri"],
        format!("{}/{DIR}/device", root(&srv))
    );
    assert_eq!(
        body["VerificationUriComplete"],
        format!("{}/{DIR}/device?user_code={uc}", root(&srv))
    );
    assert_eq!(body["Interval"], 1);
    assert_eq!(body["ExpiresIn"], 600);
    // The client polls once before showing the code.
    refused(
        &poll_with(&srv, &dc, VERIFIER).await,
        400,
        "AuthorizationPending",
    );
    // The user opens the link: sign in first, then back to the approval page.
    let mut b = Browser::new(&srv);
    let link = format!("/{DIR}/device?user_code={uc}");
    let login = format!("/{DIR}/login?user_code={uc}");
    at(&b.get(&link).await, &login);
    at(&sign_in_from(&mut b, &login, "alice").await, &link);
    let p = decide(&mut b, &uc, "approve").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("approved"), "{}", p.html);
    let r = poll(&srv, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = r.body["AccessToken"].as_str().unwrap().to_owned();
    assert_eq!(r.body["ExpiresIn"], 8 * 3600);
    // Single use.
    refused(&poll(&srv, &dc).await, 400, "InvalidDeviceCodeError");
    // The lists (the engine grants asynchronously).
    let started = Instant::now();
    let accounts = loop {
        let r = bearer_get(&srv, &token, "/access-assignments/accounts").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["Accounts"].as_array().is_some_and(|a| !a.is_empty()) {
            break r;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        accounts.body["Accounts"],
        json!([{"AccountId": s.account, "DisplayName": "prod"}])
    );
    assert_eq!(accounts.body["IsTruncated"], false);
    let path = format!(
        "/access-assignments/access-configurations?AccountId={}",
        s.account
    );
    let r = bearer_get(&srv, &token, &path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let configs = &r.body["AccessConfigurationsForAccount"];
    assert_eq!(
        configs[0]["AccessConfigurationId"],
        s.config.as_str(),
        "{}",
        r.body
    );
    assert_eq!(configs[0]["AccessConfigurationName"], "DeviceAdmin");
    assert!(configs[0]["AccessConfigurationDescription"].is_string());
    assert_eq!(r.body["IsTruncated"], false);
    // An account the user may not use lists nothing.
    let other = "/access-assignments/access-configurations?AccountId=1999999999999999";
    let r = bearer_get(&srv, &token, other).await;
    assert_eq!(
        r.body["AccessConfigurationsForAccount"],
        json!([]),
        "{}",
        r.body
    );
    // Paging: a garbage NextToken and an out-of-range MaxResults are refused.
    let garbage = "/access-assignments/accounts?NextToken=garbage";
    refused(
        &bearer_get(&srv, &token, garbage).await,
        400,
        "InvalidParameter.NextToken",
    );
    let big = "/access-assignments/accounts?MaxResults=101";
    refused(
        &bearer_get(&srv, &token, big).await,
        400,
        "InvalidParameter.MaxResults",
    );
    refused(
        &bearer_get(&srv, &token, "/access-assignments/access-configurations").await,
        400,
        "MissingParameter.AccountId",
    );
    // Temporary credentials for the configuration, which Alibaba's STS takes.
    let ask = |account: &str, config: &str| json!({"AccountId": account, "AccessConfigurationId": config});
    let r = bearer_post(
        &srv,
        &token,
        "/cloud-credentials",
        ask(&s.account, &s.config),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = &r.body["CloudCredential"];
    let expiration = c["Expiration"].as_str().unwrap();
    assert!(
        expiration.len() == 20 && expiration.ends_with('Z') && !expiration.contains('.'),
        "YYYY-MM-DDTHH:MM:SSZ: {expiration}"
    );
    let cred = cloudsso::signin::credentials::TempCredential {
        access_key_id: c["AccessKeyId"].as_str().unwrap().to_owned(),
        access_key_secret: c["AccessKeySecret"].as_str().unwrap().to_owned(),
        security_token: c["SecurityToken"].as_str().unwrap().to_owned(),
        expiration: time::OffsetDateTime::now_utc(),
    };
    assert!(cred.access_key_id.starts_with("STS."), "{}", r.body);
    let me = srv.caller_identity(crate::sts::Sig::Rpc, &cred).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["IdentityType"], "AssumedRoleUser", "{}", me.body);
    assert_eq!(me.body["AccountId"], s.account.as_str());
    // Not for another configuration, a missing field, or without a token.
    let r = bearer_post(
        &srv,
        &token,
        "/cloud-credentials",
        ask(&s.account, "ac-nope"),
    )
    .await;
    refused(&r, 403, "NoPermission");
    let r = bearer_post(
        &srv,
        &token,
        "/cloud-credentials",
        json!({"AccountId": s.account}),
    )
    .await;
    refused(&r, 400, "MissingParameter");
    let r = bearer_post(
        &srv,
        "nope",
        "/cloud-credentials",
        ask(&s.account, &s.config),
    )
    .await;
    refused(&r, 401, "InvalidAccessToken");
    // Signing out of the portal session that approved ends the token.
    let portal = b.get(&format!("/{DIR}/portal")).await;
    let csrf = portal.hidden("csrf").unwrap();
    b.post(&format!("/{DIR}/logout"), &[("csrf", &csrf)]).await;
    let r = bearer_get(&srv, &token, "/access-assignments/accounts").await;
    refused(&r, 401, "InvalidAccessToken");
}

#[tokio::test]
async fn device_codes_are_refused_for_pkce_denial_reuse_and_unknown_directories() {
    let srv = Server::start();
    srv.portal_user("bob").await;
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "bob").await;
    // PKCE: the wrong verifier gets nothing, even once approved; the right one gets the token.
    let (dc, uc, _) = start(&srv).await;
    decide(&mut b, &uc, "approve").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    refused(
        &poll_with(&srv, &dc, "not-the-verifier").await,
        400,
        "InvalidDeviceCodeError",
    );
    let r = poll(&srv, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    refused(&poll(&srv, &dc).await, 400, "InvalidDeviceCodeError");
    // Denied.
    let (dc, uc, _) = start(&srv).await;
    let p = decide(&mut b, &uc, "deny").await;
    assert!(p.html.contains("denied"), "{}", p.html);
    refused(&poll(&srv, &dc).await, 400, "InvalidDeviceCodeError");
    // A decided code cannot be decided again.
    let again = b.get(&format!("/{DIR}/device?user_code={uc}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.html);
    // Unknown device code.
    refused(
        &poll(&srv, &"0".repeat(64)).await,
        400,
        "InvalidDeviceCodeError",
    );
    // Too-fast polling is slowed: right after a poll, an approved code still says pending.
    let (dc, uc, _) = start(&srv).await;
    refused(
        &poll_with(&srv, &dc, VERIFIER).await,
        400,
        "AuthorizationPending",
    );
    decide(&mut b, &uc, "approve").await;
    refused(
        &poll_with(&srv, &dc, VERIFIER).await,
        400,
        "AuthorizationPending",
    );
    let r = poll(&srv, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Device authorization refusals, all 4xx with the protocol's body.
    let url = format!("{}/{DIR}/login", root(&srv));
    let cases = [
        (
            json!({"PortalUrl": format!("{}/nope/login", root(&srv))}),
            404,
            "EntityNotExists.Directory",
        ),
        (
            json!({"CodeChallengeMethod": "plain"}),
            400,
            "InvalidParameter.CodeChallengeMethod",
        ),
        (json!({"ClientId": "app-other"}), 400, "InvalidClientId"),
        (
            json!({"CodeChallenge": "short"}),
            400,
            "InvalidParameter.CodeChallenge",
        ),
    ];
    for (over, status, code) in cases {
        let mut body = json!({"PortalUrl": url, "CodeChallenge": challenge(VERIFIER),
                              "ClientId": CLIENT_ID, "CodeChallengeMethod": "S256"});
        for (k, v) in over.as_object().unwrap() {
            body[k] = v.clone();
        }
        refused(
            &json_post(&srv, "/device-authorization", body).await,
            status,
            code,
        );
    }
    // By the directory's id, and with the `/device/login` spelling.
    let r = authorize(
        &srv,
        &format!("{}/{}/device/login", root(&srv), srv.directory_id),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let raw = srv
        .send(
            Method::POST,
            &format!("{}/device-authorization", root(&srv)),
            &[],
            Some(b"{not json".to_vec()),
        )
        .await;
    refused(&raw, 400, "InvalidParameter");
    // The AWS shape of /token is told apart and answered in AWS's protocol.
    let aws = json!({"grantType": GRANT, "deviceCode": "x", "clientId": "c", "clientSecret": "s"});
    let r = json_post(&srv, "/token", aws).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.header("x-amzn-errortype"), Some("InvalidClientException"));
    assert_eq!(r.body["error"], "invalid_client", "{}", r.body);
    let wrong_grant = json!({"GrantType": "password", "DeviceCode": "x"});
    refused(
        &json_post(&srv, "/token", wrong_grant).await,
        400,
        "UnsupportedGrantType",
    );
    refused(
        &bearer_get(&srv, "nope", "/access-assignments/accounts").await,
        401,
        "InvalidAccessToken",
    );
    let url = format!("{}/token", root(&srv));
    let r = srv.send(Method::GET, &url, &[], None).await;
    refused(&r, 405, "MethodNotAllowed");
}

#[tokio::test]
async fn device_codes_expire_and_pending_ones_are_bounded() {
    let srv = Server::start_with(&[
        "--device-code-seconds",
        "1",
        "--device-pending-per-directory-max",
        "2",
    ]);
    srv.portal_user("carol").await;
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "carol").await;
    let (dc, uc, body) = start(&srv).await;
    assert_eq!(body["ExpiresIn"], 1);
    refused(&poll(&srv, &dc).await, 400, "InvalidDeviceCodeError");
    let page = b.get(&format!("/{DIR}/device?user_code={uc}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.html);
    assert!(page.html.contains("wrong or has expired"), "{}", page.html);
    // Two pending at once in the directory; the third is refused, and expired ones free room.
    start(&srv).await;
    start(&srv).await;
    let r = authorize(&srv, &format!("{}/{DIR}/login", root(&srv))).await;
    refused(&r, 429, "Throttling.DeviceAuthorization");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    start(&srv).await;
}

#[tokio::test]
async fn tokens_die_with_the_user_disabled_or_its_password_changed() {
    let srv = Server::start();
    let dave = srv.portal_user("dave").await;
    let (token, _b) = token_for(&srv, "dave").await;
    let ok = bearer_get(&srv, &token, "/access-assignments/accounts").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let r = srv
        .patch_ops(
            &format!("/Users/{dave}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    refused(
        &bearer_get(&srv, &token, "/access-assignments/accounts").await,
        401,
        "InvalidAccessToken",
    );
    // Re-enabling does not bring the token back (the follower ended it for good).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = srv
        .patch_ops(
            &format!("/Users/{dave}"),
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    refused(
        &bearer_get(&srv, &token, "/access-assignments/accounts").await,
        401,
        "InvalidAccessToken",
    );
    // A password change ends a token.
    let erin = srv.portal_user("erin").await;
    let (token, _b) = token_for(&srv, "erin").await;
    let r = srv
        .patch_ops(
            &format!("/Users/{erin}"),
            json!([{"op": "replace", "path": "password", "value": "An0ther-secret!"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    refused(
        &bearer_get(&srv, &token, "/access-assignments/accounts").await,
        401,
        "InvalidAccessToken",
    );
}

/// The `device` count of the first "sign-in sweep" line the server logs, waiting for it.
async fn swept_device_records(srv: &Server) -> usize {
    let started = Instant::now();
    loop {
        let found = srv
            .logs
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains("sign-in sweep"))
            .cloned();
        if let Some(line) = found {
            let n = line
                .split("device: ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|d| d.parse().ok());
            return n.unwrap_or_else(|| panic!("no device count in {line}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no sweep logged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_sweep_forgets_expired_device_codes_and_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // Codes live 3 s; tokens live as long as a session may: 5 s.
    let args = [
        "--device-code-seconds",
        "3",
        "--session-absolute-seconds",
        "5",
    ];
    let srv = Server::start_on(&data, &args);
    srv.portal_user("gina").await;
    start(&srv).await;
    start(&srv).await;
    let (token, _b) = token_for(&srv, "gina").await;
    let r = bearer_get(&srv, &token, "/access-assignments/accounts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(srv.stop());
    // A restart sweeps at once; once the token's 5 s are over, nothing of the three is left.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let srv = Server::start_on(&data, &args);
    assert_eq!(swept_device_records(&srv).await, 3, "two codes, one token");
    assert!(srv.stop());
    let srv = Server::start_on(&data, &args);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let swept_again = srv
        .logs
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("sign-in sweep") && !l.contains("device: 0"));
    assert!(!swept_again, "the first sweep removed them for good");
}

//! Issue 13, AWS IAM Identity Center's protocols over HTTP, as botocore sends them
//! (research/portal.md section 1): client registration (kept across a restart), the device
//! flow approved in the portal, the portal lists, role credentials, refresh with rotation,
//! logout; and the refusals: bad registrations, another client's secret, unknown start URLs,
//! slow_down, expiry, denial, another client's device code, the CloudSSO protocol's codes,
//! a duplicated bearer header, a used refresh token, a disabled user.

use crate::browser::{Browser, Page};
use crate::harness::*;
use crate::portal::sign_in_and_enroll;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const DIR: &str = "default";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn root(srv: &Server) -> String {
    format!("http://{}", srv.addr)
}

async fn json_post(srv: &Server, path: &str, body: Value) -> Reply {
    let headers = [("content-type", "application/json")];
    let body = serde_json::to_vec(&body).unwrap();
    let url = format!("{}{path}", root(srv));
    srv.send(Method::POST, &url, &headers, Some(body)).await
}

/// Asserts an sso-oidc refusal: status, `x-amzn-ErrorType` and the OAuth `error`.
fn oidc_refused(r: &Reply, status: u16, kind: &str, error: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.header("x-amzn-errortype"), Some(kind), "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
    assert!(r.body["error_description"].is_string(), "{}", r.body);
}

/// Asserts a portal refusal: status, `x-amzn-ErrorType` and a `message`.
fn portal_refused(r: &Reply, status: u16, kind: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.header("x-amzn-errortype"), Some(kind), "{}", r.body);
    assert!(r.body["message"].is_string(), "{}", r.body);
}

/// A registration as botocore's device flow makes it: (clientId, clientSecret).
async fn register(srv: &Server) -> (String, String) {
    let r = json_post(
        srv,
        "/client/register",
        json!({"clientName": "botocore-client-corp", "clientType": "public",
               "scopes": ["sso:account:access"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let expires = r.body["clientSecretExpiresAt"].as_i64().unwrap();
    let issued = r.body["clientIdIssuedAt"].as_i64().unwrap();
    assert_eq!(expires - issued, 90 * 24 * 3600, "{}", r.body);
    let id = r.body["clientId"].as_str().unwrap().to_owned();
    let secret = r.body["clientSecret"].as_str().unwrap().to_owned();
    note_secret(&secret);
    (id, secret)
}

fn start_url(srv: &Server) -> String {
    format!("https://{}.awsapps.com/start", srv.directory_id)
}

async fn authorize(srv: &Server, client: &(String, String), start_url: &str) -> Reply {
    let body = json!({"clientId": client.0, "clientSecret": client.1, "startUrl": start_url});
    json_post(srv, "/device_authorization", body).await
}

/// A new device authorization: (deviceCode, userCode).
async fn start(srv: &Server, client: &(String, String)) -> (String, String) {
    let r = authorize(srv, client, &start_url(srv)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let uc = r.body["userCode"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body["verificationUriComplete"],
        format!("{}/{DIR}/device?user_code={uc}", root(srv))
    );
    assert_eq!(r.body["interval"], 1);
    (r.body["deviceCode"].as_str().unwrap().to_owned(), uc)
}

async fn poll_now(srv: &Server, client: &(String, String), device_code: &str) -> Reply {
    let body = json!({"clientId": client.0, "clientSecret": client.1, "grantType": GRANT,
                      "deviceCode": device_code});
    json_post(srv, "/token", body).await
}

async fn poll(srv: &Server, client: &(String, String), device_code: &str) -> Reply {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    poll_now(srv, client, device_code).await
}

async fn refresh(srv: &Server, client: &(String, String), token: &str) -> Reply {
    let body = json!({"clientId": client.0, "clientSecret": client.1,
                      "grantType": "refresh_token", "refreshToken": token});
    json_post(srv, "/token", body).await
}

async fn portal_get(srv: &Server, token: &str, path: &str) -> Reply {
    let url = format!("{}{path}", root(srv));
    srv.send(
        Method::GET,
        &url,
        &[("x-amz-sso_bearer_token", token)],
        None,
    )
    .await
}

/// Approves or denies `user_code` from a signed-in browser.
async fn decide(b: &mut Browser<'_>, user_code: &str, decision: &str) -> Page {
    let page = b.get(&format!("/{DIR}/device?user_code={user_code}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.text_of("client").as_deref(), Some("AWS CLI"));
    let csrf = page.hidden("csrf").unwrap();
    let p = b
        .post(
            &format!("/{DIR}/device"),
            &[
                ("csrf", &csrf),
                ("user_code", user_code),
                ("decision", decision),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    p
}

/// A signed-in user's tokens through the whole device flow: (accessToken, refreshToken, body).
async fn tokens_for(
    srv: &Server,
    b: &mut Browser<'_>,
    client: &(String, String),
) -> (String, String, Value) {
    let (dc, uc) = start(srv, client).await;
    decide(b, &uc, "approve").await;
    let r = poll(srv, client, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let access = r.body["accessToken"].as_str().unwrap().to_owned();
    let refresh = r.body["refreshToken"].as_str().unwrap().to_owned();
    (access, refresh, r.body)
}

#[tokio::test]
async fn botocore_signs_in_lists_gets_role_credentials_refreshes_and_logs_out() {
    let srv = Server::start();
    let alice = srv.portal_user("alice").await;
    let s = srv.setup_access("ReadOnly").await;
    srv.assign(&s, "User", &alice).await;
    let client = register(&srv).await;
    let r = authorize(&srv, &client, &start_url(&srv)).await;
    assert_eq!(r.body["expiresIn"], 600, "{}", r.body);
    let (dc, uc) = start(&srv, &client).await;
    // botocore polls once before showing the code.
    oidc_refused(
        &poll_now(&srv, &client, &dc).await,
        400,
        "AuthorizationPendingException",
        "authorization_pending",
    );
    // Too soon after that: slow down.
    oidc_refused(
        &poll_now(&srv, &client, &dc).await,
        400,
        "SlowDownException",
        "slow_down",
    );
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "alice").await;
    let p = decide(&mut b, &uc, "approve").await;
    assert!(p.html.contains("approved"), "{}", p.html);
    let r = poll(&srv, &client, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tokenType"], "Bearer");
    assert_eq!(r.body["expiresIn"], 8 * 3600);
    let token = r.body["accessToken"].as_str().unwrap().to_owned();
    let refresh_token = r.body["refreshToken"].as_str().unwrap().to_owned();
    note_secret(&token);
    note_secret(&refresh_token);
    // Single use.
    oidc_refused(
        &poll(&srv, &client, &dc).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    // The lists (the engine grants asynchronously).
    let started = Instant::now();
    let accounts = loop {
        let r = portal_get(&srv, &token, "/assignment/accounts").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["accountList"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            break r;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        accounts.body,
        json!({"accountList": [{"accountId": s.account, "accountName": "prod"}]})
    );
    let path = format!("/assignment/roles?account_id={}", s.account);
    let roles = portal_get(&srv, &token, &path).await;
    assert_eq!(
        roles.body,
        json!({"roleList": [{"roleName": "ReadOnly", "accountId": s.account}]}),
    );
    let path = format!(
        "/federation/credentials?role_name=ReadOnly&account_id={}",
        s.account
    );
    let r = portal_get(&srv, &token, &path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = &r.body["roleCredentials"];
    let key_id = c["accessKeyId"].as_str().unwrap();
    assert!(key_id.starts_with("ASIA") && key_id.len() == 20, "{key_id}");
    assert!(c["secretAccessKey"].as_str().is_some_and(|s| s.len() >= 40));
    assert!(
        c["sessionToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("CSSO1."))
    );
    // They sign AWS STS GetCallerIdentity on the same host (tests/it/aws_sts.rs).
    let arn = crate::aws_sts::aws_caller_arn(
        &srv,
        key_id,
        c["secretAccessKey"].as_str().unwrap(),
        c["sessionToken"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let role = format!(
        "arn:aws:sts::{}:assumed-role/AliyunReservedSSO-ReadOnly/",
        s.account
    );
    assert!(arn.starts_with(&role), "{arn}");
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let expiration = c["expiration"].as_i64().unwrap();
    assert!(
        expiration > now_ms && expiration <= now_ms + 3600 * 1000 + 2000,
        "the configuration's session duration: {expiration}"
    );
    // A role the user does not have, and the required parameters.
    let other = format!(
        "/federation/credentials?role_name=Admin&account_id={}",
        s.account
    );
    portal_refused(
        &portal_get(&srv, &token, &other).await,
        403,
        "ForbiddenException",
    );
    let missing = "/federation/credentials?role_name=ReadOnly";
    portal_refused(
        &portal_get(&srv, &token, missing).await,
        400,
        "InvalidRequestException",
    );
    portal_refused(
        &portal_get(&srv, &token, "/assignment/roles").await,
        400,
        "InvalidRequestException",
    );
    portal_refused(
        &portal_get(&srv, &token, "/assignment/accounts?next_token=garbage").await,
        400,
        "InvalidRequestException",
    );
    portal_refused(
        &portal_get(&srv, &token, "/assignment/accounts?max_result=101").await,
        400,
        "InvalidRequestException",
    );
    // The token also opens CloudSSO's protocol (cloudsso's own CLI uses both).
    let url = format!("{}/access-assignments/accounts", root(&srv));
    let auth = format!("Bearer {token}");
    let r = srv
        .send(Method::GET, &url, &[("authorization", &auth)], None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Refresh: a new access token and a rotated refresh token.
    let r = refresh(&srv, &client, &refresh_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token2 = r.body["accessToken"].as_str().unwrap().to_owned();
    let refresh2 = r.body["refreshToken"].as_str().unwrap().to_owned();
    assert!(token2 != token && refresh2 != refresh_token);
    // An access token is no refresh token, and the other way round.
    oidc_refused(
        &refresh(&srv, &client, &token2).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    portal_refused(
        &portal_get(&srv, &refresh2, "/assignment/accounts").await,
        401,
        "UnauthorizedException",
    );
    // Another registered client may not use this client's refresh token.
    let thief = register(&srv).await;
    oidc_refused(
        &refresh(&srv, &thief, &refresh2).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    let r = portal_get(&srv, &token2, "/assignment/accounts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A duplicated bearer header is refused, whatever the two say.
    let url = format!("{}/assignment/accounts", root(&srv));
    let r = srv
        .send(
            Method::GET,
            &url,
            &[
                ("x-amz-sso_bearer_token", &token2),
                ("x-amz-sso_bearer_token", &token2),
            ],
            None,
        )
        .await;
    portal_refused(&r, 401, "UnauthorizedException");
    // Logout ends the sign-in: both access tokens and the refresh token.
    let url = format!("{}/logout", root(&srv));
    let r = srv
        .send(
            Method::POST,
            &url,
            &[("x-amz-sso_bearer_token", &token2)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for t in [&token, &token2] {
        portal_refused(
            &portal_get(&srv, t, "/assignment/accounts").await,
            401,
            "UnauthorizedException",
        );
    }
    oidc_refused(
        &refresh(&srv, &client, &refresh2).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    // The trail has each step, attributed, and none of the secrets.
    let events = crate::audit::all_events(&srv, &srv.admin_key()).await;
    for action in [
        "signin:RegisterClient",
        "signin:DeviceAuthorize",
        "signin:DeviceApprove",
        "signin:CreateToken",
        "signin:GetRoleCredentials",
        "signin:Logout",
    ] {
        assert!(
            events.iter().any(|e| e["eventName"] == action),
            "{action} not in the trail"
        );
    }
    let trail = serde_json::to_string(&events).unwrap();
    for secret in [&token, &token2, &refresh_token, &refresh2, &client.1] {
        assert!(!trail.contains(secret.as_str()), "a secret in the trail");
    }
    // A used refresh token presented again (a stolen copy) ends the whole sign-in.
    let (token, refresh_token, _) = tokens_for(&srv, &mut b, &client).await;
    let r = refresh(&srv, &client, &refresh_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token2 = r.body["accessToken"].as_str().unwrap().to_owned();
    let refresh2 = r.body["refreshToken"].as_str().unwrap().to_owned();
    oidc_refused(
        &refresh(&srv, &client, &refresh_token).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    for t in [&token, &token2] {
        portal_refused(
            &portal_get(&srv, t, "/assignment/accounts").await,
            401,
            "UnauthorizedException",
        );
    }
    oidc_refused(
        &refresh(&srv, &client, &refresh2).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
}

#[tokio::test]
async fn registrations_and_device_codes_are_refused_when_they_do_not_stand() {
    let srv = Server::start();
    srv.portal_user("bob").await;
    let bad_registrations = [
        (
            json!({"clientName": "x", "clientType": "confidential"}),
            "InvalidClientMetadataException",
        ),
        (
            json!({"clientType": "public"}),
            "InvalidClientMetadataException",
        ),
        (
            json!({"clientName": "x", "clientType": "public", "redirectUris": ["https://evil.example/cb"]}),
            "InvalidRedirectUriException",
        ),
        (
            json!({"clientName": "x", "clientType": "public", "grantTypes": ["password"]}),
            "UnsupportedGrantTypeException",
        ),
        (
            json!({"clientName": 7, "clientType": "public"}),
            "InvalidRequestException",
        ),
    ];
    for (body, kind) in bad_registrations {
        let r = json_post(&srv, "/client/register", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} {}", r.body);
        assert_eq!(
            r.header("x-amzn-errortype"),
            Some(kind),
            "{body} {}",
            r.body
        );
    }
    let r = srv
        .send(
            Method::POST,
            &format!("{}/client/register", root(&srv)),
            &[],
            Some(b"{not json".to_vec()),
        )
        .await;
    oidc_refused(&r, 400, "InvalidRequestException", "invalid_request");
    let client = register(&srv).await;
    let other = register(&srv).await;
    // Another client's secret, a forged one, none.
    for secret in [other.1.as_str(), "CSSOC1.AAAA", ""] {
        let forged = (client.0.clone(), secret.to_owned());
        oidc_refused(
            &authorize(&srv, &forged, &start_url(&srv)).await,
            401,
            "InvalidClientException",
            "invalid_client",
        );
    }
    // Start URLs that name no directory.
    for url in [
        "https://d-000000000000.awsapps.com/start",
        "https://sso.example.com/",
        "",
    ] {
        oidc_refused(
            &authorize(&srv, &client, url).await,
            400,
            "InvalidRequestException",
            "invalid_request",
        );
    }
    // The directory by name in the path works too.
    let by_path = format!("{}/{DIR}/start", root(&srv));
    let r = authorize(&srv, &client, &by_path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Another registered client may not poll this client's device code.
    let (dc, uc) = start(&srv, &client).await;
    oidc_refused(
        &poll(&srv, &other, &dc).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    // Nor may CloudSSO's protocol (after the interval: polls of one code share its clock).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cloudsso = json!({"GrantType": GRANT, "DeviceCode": dc, "ClientId": "app-vaz16tltdxs96audqf35",
                          "CodeVerifier": "x".repeat(43)});
    let r = json_post(&srv, "/token", cloudsso).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["ErrorCode"], "InvalidDeviceCodeError", "{}", r.body);
    // Unknown grant types and device codes.
    let body = json!({"clientId": client.0, "clientSecret": client.1, "grantType": "password"});
    oidc_refused(
        &json_post(&srv, "/token", body).await,
        400,
        "UnsupportedGrantTypeException",
        "unsupported_grant_type",
    );
    oidc_refused(
        &poll(&srv, &client, "0".repeat(64).as_str()).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    let forged = (client.0.clone(), other.1.clone());
    oidc_refused(
        &poll(&srv, &forged, &dc).await,
        401,
        "InvalidClientException",
        "invalid_client",
    );
    // Denied in the portal.
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "bob").await;
    decide(&mut b, &uc, "deny").await;
    oidc_refused(
        &poll(&srv, &client, &dc).await,
        400,
        "AccessDeniedException",
        "access_denied",
    );
    // Portal calls without a token, with a wrong one.
    for headers in [vec![], vec![("x-amz-sso_bearer_token", "nope")]] {
        let url = format!("{}/assignment/accounts", root(&srv));
        let r = srv.send(Method::GET, &url, &headers, None).await;
        portal_refused(&r, 401, "UnauthorizedException");
    }
    let r = srv
        .send(
            Method::GET,
            &format!("{}/client/register", root(&srv)),
            &[],
            None,
        )
        .await;
    oidc_refused(&r, 405, "InvalidRequestException", "invalid_request");
}

#[tokio::test]
async fn device_codes_expire_registrations_survive_restarts_and_tokens_die_with_the_user() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let srv = Server::start_on(&data, &["--device-code-seconds", "1"]);
    let carol = srv.portal_user("carol").await;
    let client = register(&srv).await;
    let (dc, _) = start(&srv, &client).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    oidc_refused(
        &poll_now(&srv, &client, &dc).await,
        400,
        "ExpiredTokenException",
        "expired_token",
    );
    assert!(srv.stop());
    // The registration is still good after a restart (clients cache it for its whole life).
    let srv = Server::start_on(&data, &[]);
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "carol").await;
    let (token, refresh_token, _) = tokens_for(&srv, &mut b, &client).await;
    let r = portal_get(&srv, &token, "/assignment/accounts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Disabling the user ends both its tokens at once.
    let r = srv
        .patch_ops(
            &format!("/Users/{carol}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    portal_refused(
        &portal_get(&srv, &token, "/assignment/accounts").await,
        401,
        "UnauthorizedException",
    );
    oidc_refused(
        &refresh(&srv, &client, &refresh_token).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
}

#[tokio::test]
async fn refresh_tokens_can_be_turned_off_and_end_with_their_approving_session() {
    let srv = Server::start_with(&["--cli-refresh-seconds", "0"]);
    srv.portal_user("dave").await;
    let client = register(&srv).await;
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "dave").await;
    let (dc, uc) = start(&srv, &client).await;
    decide(&mut b, &uc, "approve").await;
    let r = poll(&srv, &client, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("refreshToken").is_none(), "{}", r.body);

    let srv = Server::start();
    srv.portal_user("erin").await;
    let client = register(&srv).await;
    // The directory sets its own refresh lifetime (a cloudsso extension of SetLoginPreference).
    let key = srv.admin_key();
    let set = |v: &'static str| {
        let (srv, key) = (&srv, &key);
        async move {
            let params = [
                ("DirectoryId", srv.directory_id.as_str()),
                ("CliRefreshTokenDuration", v),
            ];
            srv.api(key, SSO, "SetLoginPreference", &params).await
        }
    };
    assert_eq!(set("7776000").await.status, StatusCode::OK);
    let r = set("7776001").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(set("0").await.status, StatusCode::OK);
    let got = srv
        .api_ok(
            &key,
            SSO,
            "GetLoginPreference",
            &[("DirectoryId", &srv.directory_id)],
        )
        .await;
    assert_eq!(
        got["LoginPreference"]["CliRefreshTokenDuration"], 0,
        "{got}"
    );
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "erin").await;
    let (dc, uc) = start(&srv, &client).await;
    decide(&mut b, &uc, "approve").await;
    let r = poll(&srv, &client, &dc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("refreshToken").is_none(), "{}", r.body);
    assert_eq!(set("3600").await.status, StatusCode::OK);
    let (token, refresh_token, _) = tokens_for(&srv, &mut b, &client).await;
    // Signing out of the portal session that approved the sign-in ends its tokens.
    let page = b.get(&format!("/{DIR}/portal")).await;
    let csrf = page.hidden("csrf").unwrap();
    b.post(&format!("/{DIR}/logout"), &[("csrf", &csrf)]).await;
    portal_refused(
        &portal_get(&srv, &token, "/assignment/accounts").await,
        401,
        "UnauthorizedException",
    );
    oidc_refused(
        &refresh(&srv, &client, &refresh_token).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
}

/// `GET /authorize` as AWS CLI v2's default sign-in sends it.
async fn authorize_code(
    srv: &Server,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Reply {
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={state}&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge={challenge}",
        root(srv),
        cloudsso::model::percent_encode(client_id),
        cloudsso::model::percent_encode(redirect_uri),
    );
    srv.send(Method::GET, &url, &[], None).await
}

async fn exchange(
    srv: &Server,
    client: &(String, String),
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Reply {
    let body = json!({"grantType": "authorization_code", "clientId": client.0,
                      "clientSecret": client.1, "redirectUri": redirect_uri,
                      "codeVerifier": verifier, "code": code});
    json_post(srv, "/token", body).await
}

/// The query parameter `name` of a URL.
fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[tokio::test]
async fn aws_cli_v2_signs_in_by_the_authorization_code_grant_with_pkce() {
    let srv = Server::start();
    srv.portal_user("frank").await;
    let r = json_post(
        &srv,
        "/client/register",
        json!({"clientName": "botocore-client-corp", "clientType": "public",
               "grantTypes": ["authorization_code", "refresh_token"],
               "redirectUris": ["http://127.0.0.1/oauth/callback"],
               "issuerUrl": start_url(&srv), "scopes": ["sso:account:access"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let client = (
        r.body["clientId"].as_str().unwrap().to_owned(),
        r.body["clientSecret"].as_str().unwrap().to_owned(),
    );
    // The CLI's verifier: 64 characters of [A-Za-z0-9-._~].
    let verifier = "WIyxO2F3Xprx2-~DLpdqIHLTa8BxJDwOXoit.2Vf8kKk80MSe-KETJRqBsTt2QQ5";
    let challenge = cloudsso::signin::device::s256(verifier);
    let redirect = "http://127.0.0.1:37327/oauth/callback";
    let state = "4f0b11b0-a6f2-4539-820e-efd69b8a321f";
    let r = authorize_code(&srv, &client.0, redirect, state, &challenge).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let page = r.header("location").unwrap().to_owned();
    let path = page.strip_prefix(&root(&srv)).unwrap().to_owned();
    assert!(
        path.starts_with(&format!("/{DIR}/device?user_code=")),
        "{path}"
    );
    let user_code = query_param(&path, "user_code").unwrap();
    // The user signs in and approves; the browser goes back to the CLI's listener.
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "frank").await;
    let p = b.get(&path).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    let csrf = p.hidden("csrf").unwrap();
    let back = b
        .post(
            &format!("/{DIR}/device"),
            &[
                ("csrf", &csrf),
                ("user_code", &user_code),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.html);
    let location = back.location.unwrap();
    assert!(
        location.starts_with(&format!("{redirect}?code=")),
        "{location}"
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some(state));
    let code = query_param(&location, "code").unwrap();
    // The code goes with its redirect URI and its verifier only; a failed try does not spend it.
    for (uri, v) in [
        ("http://127.0.0.1:40000/oauth/callback", verifier),
        (redirect, "x".repeat(64).as_str()),
    ] {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        oidc_refused(
            &exchange(&srv, &client, &code, uri, v).await,
            400,
            "InvalidGrantException",
            "invalid_grant",
        );
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = exchange(&srv, &client, &code, redirect, verifier).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["accessToken"].is_string() && r.body["refreshToken"].is_string());
    let token = r.body["accessToken"].as_str().unwrap();
    let ok = portal_get(&srv, token, "/assignment/accounts").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    // Once.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    oidc_refused(
        &exchange(&srv, &client, &code, redirect, verifier).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
    // Denied: back with error=access_denied and the state.
    let r = authorize_code(&srv, &client.0, redirect, "s2", &challenge).await;
    let path = r
        .header("location")
        .unwrap()
        .strip_prefix(&root(&srv))
        .unwrap()
        .to_owned();
    let user_code = query_param(&path, "user_code").unwrap();
    let p = b.get(&path).await;
    let csrf = p.hidden("csrf").unwrap();
    let back = b
        .post(
            &format!("/{DIR}/device"),
            &[
                ("csrf", &csrf),
                ("user_code", &user_code),
                ("decision", "deny"),
            ],
        )
        .await;
    assert_eq!(
        back.location.as_deref(),
        Some(format!("{redirect}?error=access_denied&state=s2").as_str())
    );
    // Refused before anything is sent to the redirect URI: another URI, a client that did not
    // register the grant, a bad challenge, another response type.
    let device_client = register(&srv).await;
    let cases = [
        (
            client.0.as_str(),
            "https://evil.example/cb",
            challenge.as_str(),
            "InvalidRedirectUriException",
        ),
        (
            client.0.as_str(),
            "http://127.0.0.1:1/other",
            challenge.as_str(),
            "InvalidRedirectUriException",
        ),
        (
            device_client.0.as_str(),
            redirect,
            challenge.as_str(),
            "InvalidClientException",
        ),
        (
            "CSSOC1.forged",
            redirect,
            challenge.as_str(),
            "InvalidClientException",
        ),
        (
            client.0.as_str(),
            redirect,
            "short",
            "InvalidRequestException",
        ),
    ];
    for (id, uri, ch, kind) in cases {
        let r = authorize_code(&srv, id, uri, "s", ch).await;
        assert_ne!(r.status, StatusCode::FOUND, "{uri}");
        assert!(r.header("location").is_none(), "{uri}");
        assert_eq!(r.header("x-amzn-errortype"), Some(kind), "{uri} {}", r.body);
    }
    let url = format!(
        "{}/authorize?response_type=token&client_id={}",
        root(&srv),
        client.0
    );
    let r = srv.send(Method::GET, &url, &[], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // A client exchanges only the grants it registered, and a device code is no
    // authorization code.
    let (dc, _) = start(&srv, &device_client).await;
    oidc_refused(
        &exchange(&srv, &device_client, &dc, redirect, verifier).await,
        400,
        "UnauthorizedClientException",
        "unauthorized_client",
    );
    let both = json_post(
        &srv,
        "/client/register",
        json!({"clientName": "both", "clientType": "public",
               "grantTypes": ["authorization_code", GRANT],
               "redirectUris": ["http://127.0.0.1/oauth/callback"]}),
    )
    .await;
    let both = (
        both.body["clientId"].as_str().unwrap().to_owned(),
        both.body["clientSecret"].as_str().unwrap().to_owned(),
    );
    let (dc, _) = start(&srv, &both).await;
    oidc_refused(
        &exchange(&srv, &both, &dc, redirect, verifier).await,
        400,
        "InvalidGrantException",
        "invalid_grant",
    );
}

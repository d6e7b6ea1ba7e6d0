//! AWS IAM Identity Center's protocols for CLIs, on the same host as CloudSSO's: sso-oidc
//! (`POST /client/register`, `POST /device_authorization`, `GET /authorize` for the
//! authorization-code grant with PKCE, `POST /token` with a camelCase body, which
//! `http::device` hands over) and the sso portal (`GET /assignment/accounts`,
//! `GET /assignment/roles`, `GET /federation/credentials`, `POST /logout`, the bearer in
//! `x-amz-sso_bearer_token`). Roles are access configuration names. Decodes, calls one
//! `signin` function, encodes (research/portal.md section 1.3 has every shape).
//!
//! Errors: the status, the code in `x-amzn-ErrorType` (what botocore reads first), and the
//! body botocore's models name: `{error, error_description}` for sso-oidc, `{message}` for the
//! portal. A bad or expired portal token is 401 `UnauthorizedException` (botocore then tells
//! the user to log in again); a role the user does not have is 403 `ForbiddenException`.

use super::audit::{Trail, within};
use super::device::{DEVICE_BODY_BYTES_MAX, note};
use super::query::parse_query;
use super::{Body, read_body};
use crate::app::App;
use crate::audit::{Actor, ActorKind};
use crate::error::DomainError;
use crate::signin::device::aws::{
    GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN, IssuedTokens, RefreshRefusal,
    RegisterRefusal, RegisterRequest, RoleRefusal,
};
use crate::signin::device::service::{
    AuthorizeRequest, CodeRefusal, CodeRequest, PollAnswer, PollRequest,
};
use crate::signin::device::tokens::{Bearer, ListRefusal};
use crate::signin::device::{AuthorizeRefusal, ClientKind, Invalid};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

pub const REGISTER_PATH: &str = "/client/register";
pub const AUTHORIZE_PATH: &str = "/device_authorization";
/// Where AWS CLI v2's default sign-in sends the browser (at the root: the CLI builds this URL
/// from scheme and host only).
pub const CODE_PATH: &str = "/authorize";
pub const ACCOUNTS_PATH: &str = "/assignment/accounts";
pub const ROLES_PATH: &str = "/assignment/roles";
pub const CREDENTIALS_PATH: &str = "/federation/credentials";
pub const LOGOUT_PATH: &str = "/logout";
/// The portal's bearer token header.
pub const BEARER_HEADER: &str = "x-amz-sso_bearer_token";
/// Where botocore reads the error code.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";

/// Whether a path is this protocol's own (`/token` is shared and routed by `http::device`).
pub fn handles(path: &str) -> bool {
    matches!(
        path,
        REGISTER_PATH
            | AUTHORIZE_PATH
            | CODE_PATH
            | ACCOUNTS_PATH
            | ROLES_PATH
            | CREDENTIALS_PATH
            | LOGOUT_PATH
    )
}

/// Whether a `/token` body is AWS's (camelCase) rather than CloudSSO's (PascalCase).
pub fn is_aws_token_body(v: &Value) -> bool {
    v.get("GrantType").is_none()
        && ["grantType", "deviceCode", "clientSecret", "refreshToken"]
            .iter()
            .any(|k| v.get(k).is_some())
}

/// Which of the two error bodies a refusal has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Oidc,
    Portal,
}

/// A refusal: status, the error type, the OAuth `error` (sso-oidc), the message.
#[derive(Debug)]
struct Fault {
    status: StatusCode,
    kind: &'static str,
    error: &'static str,
    message: String,
}

fn fault(status: StatusCode, kind: &'static str, error: &'static str, message: &str) -> Fault {
    Fault {
        status,
        kind,
        error,
        message: message.to_owned(),
    }
}

fn bad_request(message: &str) -> Fault {
    fault(
        StatusCode::BAD_REQUEST,
        "InvalidRequestException",
        "invalid_request",
        message,
    )
}

/// A failure of ours: logged, answered with the modelled retryable error.
fn internal(e: &DomainError) -> Fault {
    tracing::error!(error = %e, "AWS sign-in request failed");
    fault(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequestsException",
        "server_error",
        "the service could not answer; try again in a moment",
    )
}

fn respond(status: StatusCode, body: Option<&Value>, kind: Option<&str>) -> Response<Body> {
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Some(v) = kind.and_then(|k| header::HeaderValue::from_str(k).ok()) {
        h.insert(ERROR_TYPE_HEADER, v);
    }
    resp
}

fn respond_fault(api: Api, f: &Fault) -> Response<Body> {
    let body = match api {
        Api::Oidc => json!({"error": f.error, "error_description": f.message}),
        Api::Portal => json!({"message": f.message}),
    };
    respond(f.status, Some(&body), Some(f.kind))
}

/// Serves one request of the protocol (all but `/token`); a registration, a device
/// authorization, role credentials and a logout leave an audit record.
pub async fn handle(
    app: &App,
    trail: Trail<'_>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let api = match req.uri().path() {
        CODE_PATH if req.method() == Method::GET => return authorize_code(app, &req).await,
        REGISTER_PATH | AUTHORIZE_PATH | CODE_PATH => Api::Oidc,
        _ => Api::Portal,
    };
    let scope = trail.open(&req, peer, "");
    let answer = within(scope.as_ref(), serve(app, req)).await;
    let result = scope
        .as_ref()
        .map(|s| s.snapshot())
        .filter(|r| !r.action.is_empty())
        .map(|r| r.result);
    if let Some(result) = result {
        trail.close(scope, &result).await;
    }
    match answer {
        Ok(Some(body)) => respond(StatusCode::OK, Some(&body), None),
        Ok(None) => respond(StatusCode::OK, None, None),
        Err(f) => respond_fault(api, &f),
    }
}

async fn serve(app: &App, req: Request<Incoming>) -> Result<Option<Value>, Fault> {
    let path = req.uri().path().to_owned();
    let q = parse_query(req.uri().query().unwrap_or_default());
    match (req.method().clone(), path.as_str()) {
        (Method::POST, REGISTER_PATH) => register(app, body(app, req).await?).map(Some),
        (Method::POST, AUTHORIZE_PATH) => authorize(app, body(app, req).await?).await.map(Some),
        (Method::GET, ACCOUNTS_PATH) => {
            let b = bearer(app, req.headers()).await?;
            accounts(app, &b, &q).await.map(Some)
        }
        (Method::GET, ROLES_PATH) => {
            let b = bearer(app, req.headers()).await?;
            roles(app, &b, &q).await.map(Some)
        }
        (Method::GET, CREDENTIALS_PATH) => {
            let b = bearer(app, req.headers()).await?;
            role_credentials(app, &b, &q).await.map(Some)
        }
        (Method::POST, LOGOUT_PATH) => {
            let b = bearer(app, req.headers()).await?;
            app.signin.logout_cli(&b).await.map_err(|e| internal(&e))?;
            note("signin:Logout", actor(&b), Ok(()));
            Ok(None)
        }
        _ => Err(fault(
            StatusCode::METHOD_NOT_ALLOWED,
            "InvalidRequestException",
            "invalid_request",
            "this method is not served on this path",
        )),
    }
}

/// The JSON object body, within `DEVICE_BODY_BYTES_MAX`.
async fn body(app: &App, req: Request<Incoming>) -> Result<Value, Fault> {
    let timeout = Duration::from_millis(app.limits.request_read_timeout_ms);
    let bytes = read_body(req, DEVICE_BODY_BYTES_MAX, timeout)
        .await
        .map_err(|e| bad_request(&e.message(DEVICE_BODY_BYTES_MAX, timeout)))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(bad_request("the body is not a JSON object")),
    }
}

/// A string field of the body ("" when absent); another type is refused.
fn field(v: &Value, name: &str) -> Result<String, Fault> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad_request(&format!("{name} must be a string"))),
    }
}

/// A list of strings of the body (empty when absent); another type is refused.
fn strings(v: &Value, name: &str) -> Result<Vec<String>, Fault> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad_request(&format!("{name} must be a list of strings")))
            })
            .collect(),
        Some(_) => Err(bad_request(&format!("{name} must be a list of strings"))),
    }
}

fn register(app: &App, v: Value) -> Result<Value, Fault> {
    let r = RegisterRequest {
        client_name: field(&v, "clientName")?,
        client_type: field(&v, "clientType")?,
        scopes: strings(&v, "scopes")?,
        redirect_uris: strings(&v, "redirectUris")?,
        grant_types: strings(&v, "grantTypes")?,
        issuer_url: field(&v, "issuerUrl")?,
    };
    match app.signin.register_client(r) {
        Ok(c) => {
            note("signin:RegisterClient", Actor::default(), Ok(()));
            Ok(json!({
                "clientId": c.client_id,
                "clientSecret": c.client_secret,
                "clientIdIssuedAt": c.issued_at,
                "clientSecretExpiresAt": c.expires_at,
            }))
        }
        Err(r) => {
            let f = match &r {
                RegisterRefusal::InvalidRequest(m) => fault(
                    StatusCode::BAD_REQUEST,
                    "InvalidClientMetadataException",
                    "invalid_client_metadata",
                    m,
                ),
                RegisterRefusal::InvalidRedirectUri => fault(
                    StatusCode::BAD_REQUEST,
                    "InvalidRedirectUriException",
                    "invalid_redirect_uri",
                    &r.to_string(),
                ),
                RegisterRefusal::UnsupportedGrantType => fault(
                    StatusCode::BAD_REQUEST,
                    "UnsupportedGrantTypeException",
                    "unsupported_grant_type",
                    &r.to_string(),
                ),
            };
            note("signin:RegisterClient", Actor::default(), Err(f.kind));
            Err(f)
        }
    }
}

fn invalid_client() -> Fault {
    fault(
        StatusCode::UNAUTHORIZED,
        "InvalidClientException",
        "invalid_client",
        "the client id and secret are not a registration of this server, or it has expired",
    )
}

async fn authorize(app: &App, v: Value) -> Result<Value, Fault> {
    let r = AuthorizeRequest {
        client: ClientKind::Aws,
        client_id: field(&v, "clientId")?,
        client_secret: field(&v, "clientSecret")?,
        portal_url: field(&v, "startUrl")?,
        challenge: String::new(),
        challenge_method: String::new(),
    };
    let outcome = app
        .signin
        .authorize_device(r)
        .await
        .map_err(|e| internal(&e))?;
    match outcome {
        Ok(g) => {
            note("signin:DeviceAuthorize", Actor::default(), Ok(()));
            Ok(json!({
                "deviceCode": g.device_code,
                "userCode": g.user_code,
                "verificationUri": g.verification_uri,
                "verificationUriComplete": g.verification_uri_complete,
                "expiresIn": g.expires_in,
                "interval": g.interval,
            }))
        }
        Err(r) => {
            let f = match r {
                AuthorizeRefusal::UnknownClient => invalid_client(),
                AuthorizeRefusal::UnknownDirectory => bad_request(
                    "startUrl names no directory of this server (https://<directory id>.awsapps.com/start or <server>/<directory>/start)",
                ),
                AuthorizeRefusal::TooManyPending => fault(
                    StatusCode::BAD_REQUEST,
                    "SlowDownException",
                    "slow_down",
                    "too many sign-ins are waiting for approval; try again later",
                ),
                AuthorizeRefusal::UnsupportedChallengeMethod | AuthorizeRefusal::BadChallenge => {
                    bad_request("this grant takes no code challenge")
                }
            };
            note("signin:DeviceAuthorize", Actor::default(), Err(f.kind));
            Err(f)
        }
    }
}

/// `POST /token` with AWS's body: the device code and refresh token grants.
pub async fn token(app: &App, v: Value) -> Response<Body> {
    match token_answer(app, &v).await {
        Ok(t) => {
            let who = Actor {
                kind: ActorKind::User,
                id: t.user.clone(),
                name: t.user_name.clone(),
                directory: Some(t.dir.clone()),
            };
            note("signin:CreateToken", who, Ok(()));
            let mut body = json!({
                "accessToken": t.access_token,
                "tokenType": "Bearer",
                "expiresIn": t.expires_in,
            });
            if let (Some(r), Some(o)) = (t.refresh_token, body.as_object_mut()) {
                o.insert("refreshToken".into(), json!(r));
            }
            respond(StatusCode::OK, Some(&body), None)
        }
        Err(f) => respond_fault(Api::Oidc, &f),
    }
}

/// `GET /authorize`: the browser goes to the portal's approval page (signing in first if it
/// must), which sends it back to the client's loopback redirect URI with the code. A request
/// that cannot be honoured is answered here, never sent to an unchecked redirect URI.
async fn authorize_code(app: &App, req: &Request<Incoming>) -> Response<Body> {
    let q = parse_query(req.uri().query().unwrap_or_default());
    if param(&q, "response_type") != "code" {
        return respond_fault(
            Api::Oidc,
            &fault(
                StatusCode::BAD_REQUEST,
                "UnsupportedGrantTypeException",
                "unsupported_response_type",
                "response_type must be code",
            ),
        );
    }
    let r = CodeRequest {
        client_id: param(&q, "client_id").to_owned(),
        redirect_uri: param(&q, "redirect_uri").to_owned(),
        state: param(&q, "state").to_owned(),
        challenge: param(&q, "code_challenge").to_owned(),
        challenge_method: param(&q, "code_challenge_method").to_owned(),
    };
    let outcome = match app.signin.authorize_code(r).await {
        Ok(o) => o,
        Err(e) => return respond_fault(Api::Oidc, &internal(&e)),
    };
    let f = match outcome {
        Ok(page) => {
            note("signin:Authorize", Actor::default(), Ok(()));
            let mut resp = respond(StatusCode::FOUND, None, None);
            if let Ok(v) = header::HeaderValue::from_str(&page) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            return resp;
        }
        Err(CodeRefusal::UnknownClient) => invalid_client(),
        Err(CodeRefusal::RedirectUri) => fault(
            StatusCode::BAD_REQUEST,
            "InvalidRedirectUriException",
            "invalid_redirect_uri",
            "redirect_uri is not a loopback URI this client registered",
        ),
        Err(CodeRefusal::UnknownDirectory) => {
            bad_request("the client registered no issuerUrl naming a directory of this server")
        }
        Err(CodeRefusal::UnsupportedChallengeMethod | CodeRefusal::BadChallenge) => {
            bad_request("code_challenge must be an S256 challenge (code_challenge_method=S256)")
        }
        Err(CodeRefusal::BadState) => bad_request("state is too long"),
        Err(CodeRefusal::TooManyPending) => fault(
            StatusCode::BAD_REQUEST,
            "SlowDownException",
            "slow_down",
            "too many sign-ins are waiting for approval; try again later",
        ),
    };
    note("signin:Authorize", Actor::default(), Err(f.kind));
    respond_fault(Api::Oidc, &f)
}

async fn token_answer(app: &App, v: &Value) -> Result<IssuedTokens, Fault> {
    let grant = field(v, "grantType")?;
    let (client_id, client_secret) = (field(v, "clientId")?, field(v, "clientSecret")?);
    if grant == GRANT_REFRESH_TOKEN {
        let refresh = field(v, "refreshToken")?;
        let refused = app
            .signin
            .refresh_cli_token(&client_id, &client_secret, &refresh)
            .await
            .map_err(|e| internal(&e))?;
        return refused.map_err(|r| match r {
            RefreshRefusal::Client => invalid_client(),
            RefreshRefusal::Grant => fault(
                StatusCode::BAD_REQUEST,
                "InvalidGrantException",
                "invalid_grant",
                "the refresh token is invalid, expired or already used; please log in again",
            ),
        });
    }
    let (code, redirect_uri) = match grant.as_str() {
        GRANT_DEVICE_CODE => (field(v, "deviceCode")?, None),
        GRANT_AUTHORIZATION_CODE => (field(v, "code")?, Some(field(v, "redirectUri")?)),
        _ => {
            return Err(fault(
                StatusCode::BAD_REQUEST,
                "UnsupportedGrantTypeException",
                "unsupported_grant_type",
                "grantType must be urn:ietf:params:oauth:grant-type:device_code, authorization_code or refresh_token",
            ));
        }
    };
    let r = PollRequest {
        client: ClientKind::Aws,
        client_id,
        client_secret,
        device_code: code,
        verifier: field(v, "codeVerifier")?,
        redirect_uri,
    };
    let answer = app.signin.poll_device(r).await.map_err(|e| internal(&e))?;
    poll_answer(answer)
}

/// A poll's answer in sso-oidc's words.
fn poll_answer(answer: PollAnswer) -> Result<IssuedTokens, Fault> {
    let grant_fault =
        |kind, error, message: &str| fault(StatusCode::BAD_REQUEST, kind, error, message);
    match answer {
        PollAnswer::Token(t) => Ok(t),
        PollAnswer::Pending => Err(grant_fault(
            "AuthorizationPendingException",
            "authorization_pending",
            "Authorization is still pending",
        )),
        PollAnswer::SlowDown => Err(grant_fault(
            "SlowDownException",
            "slow_down",
            "polling faster than the interval; slow down",
        )),
        PollAnswer::Client => Err(invalid_client()),
        PollAnswer::GrantNotRegistered => Err(grant_fault(
            "UnauthorizedClientException",
            "unauthorized_client",
            "this client did not register this grant type",
        )),
        PollAnswer::Invalid(Invalid::Expired) => Err(grant_fault(
            "ExpiredTokenException",
            "expired_token",
            "the device code has expired; start the sign-in again",
        )),
        PollAnswer::Invalid(Invalid::Denied) => Err(fault(
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            "access_denied",
            "the user denied the sign-in",
        )),
        PollAnswer::Invalid(i) => {
            tracing::debug!(reason = ?i, "device code refused");
            Err(grant_fault(
                "InvalidGrantException",
                "invalid_grant",
                "the device code is invalid, expired or already used; start the sign-in again",
            ))
        }
    }
}

fn unauthorized() -> Fault {
    fault(
        StatusCode::UNAUTHORIZED,
        "UnauthorizedException",
        "unauthorized",
        "Session token not found or invalid",
    )
}

/// The live bearer token of `x-amz-sso_bearer_token` (exactly one such header).
async fn bearer(app: &App, headers: &HeaderMap) -> Result<Bearer, Fault> {
    let mut all = headers.get_all(BEARER_HEADER).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return Err(unauthorized());
    };
    let token = value.to_str().map_err(|_| unauthorized())?.trim();
    app.signin
        .bearer(token)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(unauthorized)
}

fn actor(b: &Bearer) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: b.user.to_string(),
        name: b.user_name.clone(),
        directory: Some(b.dir.to_string()),
    }
}

/// A query parameter ("" when absent).
fn param<'a>(q: &'a [(String, String)], name: &str) -> &'a str {
    q.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `next_token` and `max_result` of a list's query.
fn paging(q: &[(String, String)]) -> Result<(Option<String>, Option<usize>), Fault> {
    let max = match param(q, "max_result") {
        "" => None,
        m => Some(
            m.parse::<usize>()
                .map_err(|_| list_fault(ListRefusal::MaxResults))?,
        ),
    };
    let next = Some(param(q, "next_token").to_owned()).filter(|n| !n.is_empty());
    Ok((next, max))
}

fn list_fault(r: ListRefusal) -> Fault {
    match r {
        ListRefusal::MaxResults => bad_request("max_result must be a number from 1 to 100"),
        ListRefusal::NextToken => bad_request("next_token is not one this list gave"),
    }
}

fn with_next(mut body: Value, next: Option<String>) -> Value {
    if let (Some(n), Some(o)) = (next, body.as_object_mut()) {
        o.insert("nextToken".into(), json!(n));
    }
    body
}

fn account_id(q: &[(String, String)]) -> Result<&str, Fault> {
    match param(q, "account_id") {
        "" => Err(bad_request("account_id is required")),
        a => Ok(a),
    }
}

async fn accounts(app: &App, b: &Bearer, q: &[(String, String)]) -> Result<Value, Fault> {
    let (next, max) = paging(q)?;
    let page = app
        .signin
        .cli_accounts(b, next.as_deref(), max)
        .await
        .map_err(|e| internal(&e))?
        .map_err(list_fault)?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|a| json!({"accountId": a.id, "accountName": a.name}))
        .collect();
    Ok(with_next(json!({ "accountList": items }), page.next))
}

async fn roles(app: &App, b: &Bearer, q: &[(String, String)]) -> Result<Value, Fault> {
    let account = account_id(q)?;
    let (next, max) = paging(q)?;
    let page = app
        .signin
        .cli_configurations(b, account, next.as_deref(), max)
        .await
        .map_err(|e| internal(&e))?
        .map_err(list_fault)?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|c| json!({"roleName": c.name, "accountId": account}))
        .collect();
    Ok(with_next(json!({ "roleList": items }), page.next))
}

async fn role_credentials(app: &App, b: &Bearer, q: &[(String, String)]) -> Result<Value, Fault> {
    let account = account_id(q)?;
    let role = match param(q, "role_name") {
        "" => return Err(bad_request("role_name is required")),
        r => r,
    };
    let issued = app
        .signin
        .role_credentials(b, account, role)
        .await
        .map_err(|e| internal(&e))?;
    match issued {
        Ok(c) => {
            note("signin:GetRoleCredentials", actor(b), Ok(()));
            Ok(json!({"roleCredentials": {
                "accessKeyId": c.access_key_id,
                "secretAccessKey": c.access_key_secret,
                "sessionToken": c.security_token,
                "expiration": c.expiration_millis(),
            }}))
        }
        Err(r) => {
            note(
                "signin:GetRoleCredentials",
                actor(b),
                Err("ForbiddenException"),
            );
            let detail = match r {
                RoleRefusal::NoSuchRole => "No access".to_owned(),
                RoleRefusal::Credentials(c) => format!("No access: {c}"),
            };
            Err(fault(
                StatusCode::FORBIDDEN,
                "ForbiddenException",
                "forbidden",
                &detail,
            ))
        }
    }
}

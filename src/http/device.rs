//! CloudSSO's user-portal protocol for CLIs, at the root of the host (the clients keep only
//! scheme, host and port of the sign-in URL): `POST /device-authorization`, `POST /token`,
//! `GET /access-assignments/accounts`, `GET /access-assignments/access-configurations`.
//! Decodes the JSON body or query and the bearer token, calls one `signin` function, encodes.
//!
//! Every failure is a 4xx with `{"ErrorCode","ErrorMessage","RequestId"}`: the aliyun CLI
//! reads a 5xx as success (and crashes on the missing fields), so even a failure of ours is
//! a 4xx here. `/token` is shared with AWS's sso-oidc (`http::aws_sso`): the body's field
//! casing tells the protocols apart (`GrantType`/`DeviceCode` here, `grantType`/`deviceCode`
//! there).

use super::audit::{Trail, within};
use super::query::parse_query;
use super::request_id::RequestId;
use super::{Body, read_body};
use crate::app::App;
use crate::audit::{Actor, ActorKind};
use crate::error::DomainError;
use crate::signin::credentials::CredentialKind;
use crate::signin::device::service::{AuthorizeRequest, PollAnswer, PollRequest};
use crate::signin::device::tokens::{Bearer, ListRefusal};
use crate::signin::device::{AuthorizeRefusal, ClientKind};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

pub const AUTHORIZE_PATH: &str = "/device-authorization";
pub const TOKEN_PATH: &str = "/token";
pub const ACCOUNTS_PATH: &str = "/access-assignments/accounts";
pub const CONFIGURATIONS_PATH: &str = "/access-assignments/access-configurations";
pub const CREDENTIALS_PATH: &str = "/cloud-credentials";
/// Largest body of a device-authorization or token request.
pub(super) const DEVICE_BODY_BYTES_MAX: usize = 4 * 1024;
/// The device-code grant type (RFC 8628 section 3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Whether a path is this protocol's.
pub fn handles(path: &str) -> bool {
    matches!(
        path,
        AUTHORIZE_PATH | TOKEN_PATH | ACCOUNTS_PATH | CONFIGURATIONS_PATH | CREDENTIALS_PATH
    )
}

/// A refusal: status, `ErrorCode`, `ErrorMessage`.
struct Fault(StatusCode, &'static str, String);

impl Fault {
    fn new(status: StatusCode, code: &'static str, message: &str) -> Fault {
        Fault(status, code, message.to_owned())
    }
}

/// A failure of ours: logged, and answered as a 4xx the clients retry.
fn internal(e: &DomainError) -> Fault {
    tracing::error!(error = %e, "CLI sign-in request failed");
    Fault::new(
        StatusCode::TOO_MANY_REQUESTS,
        "ServiceUnavailable",
        "the service could not answer; try again in a moment",
    )
}

/// The error body every failure of this protocol has.
pub fn error_body(request_id: &str, code: &str, message: &str) -> Value {
    json!({"ErrorCode": code, "ErrorMessage": message, "RequestId": request_id})
}

fn respond(status: StatusCode, body: &Value) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(
        serde_json::to_vec(body).unwrap_or_default(),
    )));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json;charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// Serves one request of the protocol; a device authorization and an issued token leave an
/// audit record (a poll that is still pending does not).
pub async fn handle(
    app: &App,
    trail: Trail<'_>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let rid = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.as_str().to_owned())
        .unwrap_or_default();
    let scope = trail.open(&req, peer, "");
    let answer = within(scope.as_ref(), serve(app, req)).await;
    let answer = match answer {
        Ok(Reply::Aws(v)) => Err(within(scope.as_ref(), super::aws_sso::token(app, v)).await),
        Ok(Reply::Json(body)) => Ok(Ok(body)),
        Err(f) => Ok(Err(f)),
    };
    let result = scope
        .as_ref()
        .map(|s| s.snapshot())
        .filter(|r| !r.action.is_empty())
        .map(|r| r.result);
    if let Some(result) = result {
        trail.close(scope, &result).await;
    }
    match answer {
        Err(aws) => aws,
        Ok(Ok(mut body)) => {
            if let Some(o) = body.as_object_mut() {
                o.insert("RequestId".into(), json!(rid));
            }
            respond(StatusCode::OK, &body)
        }
        Ok(Err(Fault(status, code, message))) => respond(status, &error_body(&rid, code, &message)),
    }
}

/// What `serve` decided: this protocol's answer, or a `/token` body that is AWS's.
enum Reply {
    Json(Value),
    Aws(Value),
}

async fn serve(app: &App, req: Request<Incoming>) -> Result<Reply, Fault> {
    let path = req.uri().path().to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::POST, TOKEN_PATH) => {
            let v = body(app, req).await?;
            if super::aws_sso::is_aws_token_body(&v) {
                return Ok(Reply::Aws(v));
            }
            token(app, v).await.map(Reply::Json)
        }
        _ => serve_own(app, req).await.map(Reply::Json),
    }
}

async fn serve_own(app: &App, req: Request<Incoming>) -> Result<Value, Fault> {
    let path = req.uri().path().to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::POST, AUTHORIZE_PATH) => authorize(app, body(app, req).await?).await,
        (Method::GET, ACCOUNTS_PATH) => {
            let (b, q) = bearer(app, &req).await?;
            accounts(app, &b, &q).await
        }
        (Method::GET, CONFIGURATIONS_PATH) => {
            let (b, q) = bearer(app, &req).await?;
            configurations(app, &b, &q).await
        }
        (Method::POST, CREDENTIALS_PATH) => {
            let (b, _) = bearer(app, &req).await?;
            credentials(app, &b, body(app, req).await?).await
        }
        _ => Err(Fault::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "this method is not served on this path",
        )),
    }
}

/// The JSON object body, within `DEVICE_BODY_BYTES_MAX`.
async fn body(app: &App, req: Request<Incoming>) -> Result<Value, Fault> {
    let timeout = Duration::from_millis(app.limits.request_read_timeout_ms);
    let bytes = read_body(req, DEVICE_BODY_BYTES_MAX, timeout)
        .await
        .map_err(|e| {
            let m = e.message(DEVICE_BODY_BYTES_MAX, timeout);
            Fault(StatusCode::BAD_REQUEST, "InvalidParameter", m)
        })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "the body is not a JSON object",
        )),
    }
}

/// A string field of the body ("" when absent or not a string).
fn field(v: &Value, name: &str) -> String {
    v.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn authorize(app: &App, v: Value) -> Result<Value, Fault> {
    let r = AuthorizeRequest {
        client: ClientKind::CloudSso,
        client_id: field(&v, "ClientId"),
        client_secret: String::new(),
        portal_url: field(&v, "PortalUrl"),
        challenge: field(&v, "CodeChallenge"),
        challenge_method: field(&v, "CodeChallengeMethod"),
    };
    let outcome = app
        .signin
        .authorize_device(r)
        .await
        .map_err(|e| internal(&e))?;
    let refused = |code: &'static str| {
        note("signin:DeviceAuthorize", Actor::default(), Err(code));
    };
    match outcome {
        Ok(g) => {
            note("signin:DeviceAuthorize", Actor::default(), Ok(()));
            Ok(json!({
                "DeviceCode": g.device_code,
                "UserCode": g.user_code,
                "VerificationUri": g.verification_uri,
                "VerificationUriComplete": g.verification_uri_complete,
                "ExpiresIn": g.expires_in,
                "Interval": g.interval,
            }))
        }
        Err(r) => {
            let f = authorize_fault(&r);
            refused(f.1);
            Err(f)
        }
    }
}

fn authorize_fault(r: &AuthorizeRefusal) -> Fault {
    let bad = StatusCode::BAD_REQUEST;
    match r {
        AuthorizeRefusal::UnknownDirectory => Fault::new(
            StatusCode::NOT_FOUND,
            "EntityNotExists.Directory",
            "PortalUrl names no directory of this server",
        ),
        AuthorizeRefusal::UnknownClient => Fault::new(
            bad,
            "InvalidClientId",
            "ClientId is not a client of this server",
        ),
        AuthorizeRefusal::UnsupportedChallengeMethod => Fault::new(
            bad,
            "InvalidParameter.CodeChallengeMethod",
            "CodeChallengeMethod must be S256",
        ),
        AuthorizeRefusal::BadChallenge => Fault::new(
            bad,
            "InvalidParameter.CodeChallenge",
            "CodeChallenge must be the base64url SHA-256 of the verifier, without padding",
        ),
        AuthorizeRefusal::TooManyPending => Fault::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Throttling.DeviceAuthorization",
            "too many sign-ins are waiting for approval; try again later",
        ),
    }
}

async fn token(app: &App, v: Value) -> Result<Value, Fault> {
    if field(&v, "GrantType") != DEVICE_GRANT {
        return Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "UnsupportedGrantType",
            "GrantType must be urn:ietf:params:oauth:grant-type:device_code",
        ));
    }
    let r = PollRequest {
        client: ClientKind::CloudSso,
        client_id: field(&v, "ClientId"),
        client_secret: String::new(),
        device_code: field(&v, "DeviceCode"),
        verifier: field(&v, "CodeVerifier"),
        redirect_uri: None,
    };
    // A failure of ours keeps the client polling at its interval (any other code makes the
    // aliyun CLI poll again at once, up to 100 times).
    let answer = app.signin.poll_device(r).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "device token poll failed");
        PollAnswer::Pending
    });
    match answer {
        // CloudSSO's clients know no slow_down: a poll too soon is told to wait like any.
        PollAnswer::Pending | PollAnswer::SlowDown => Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "AuthorizationPending",
            "The authorization request is still pending.",
        )),
        refused
        @ (PollAnswer::Invalid(_) | PollAnswer::Client | PollAnswer::GrantNotRegistered) => {
            tracing::debug!(reason = ?refused, "device code refused");
            Err(Fault::new(
                StatusCode::BAD_REQUEST,
                "InvalidDeviceCodeError",
                "the device code is invalid, expired or already used; please log in again",
            ))
        }
        PollAnswer::Token(t) => {
            let who = Actor {
                kind: ActorKind::User,
                id: t.user,
                name: t.user_name,
                directory: Some(t.dir),
            };
            note("signin:CreateToken", who, Ok(()));
            Ok(
                json!({"AccessToken": t.access_token, "ExpiresIn": t.expires_in, "TokenType": "Bearer"}),
            )
        }
    }
}

/// The live bearer token of the request, and its query.
async fn bearer(
    app: &App,
    req: &Request<Incoming>,
) -> Result<(Bearer, Vec<(String, String)>), Fault> {
    let unauthorized = || {
        Fault::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAccessToken",
            "the access token is missing, invalid or expired; please log in again",
        )
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned())
        .ok_or_else(unauthorized)?;
    let b = app
        .signin
        .bearer(&token)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(unauthorized)?;
    Ok((b, parse_query(req.uri().query().unwrap_or_default())))
}

/// `NextToken` and `MaxResults` of a list's query.
fn paging(q: &[(String, String)]) -> Result<(Option<String>, Option<usize>), Fault> {
    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let max = match get("MaxResults").filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => Some(
            m.parse::<usize>()
                .map_err(|_| list_fault(ListRefusal::MaxResults))?,
        ),
    };
    Ok((get("NextToken"), max))
}

fn list_fault(r: ListRefusal) -> Fault {
    match r {
        ListRefusal::MaxResults => Fault::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter.MaxResults",
            "MaxResults must be a number from 1 to 100",
        ),
        ListRefusal::NextToken => Fault::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter.NextToken",
            "NextToken is not one this list gave",
        ),
    }
}

fn page_fields(body: &mut Value, next: Option<String>) {
    if let Some(o) = body.as_object_mut() {
        o.insert("IsTruncated".into(), json!(next.is_some()));
        if let Some(n) = next {
            o.insert("NextToken".into(), json!(n));
        }
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
        .map(|a| json!({"AccountId": a.id, "DisplayName": a.name}))
        .collect();
    let mut body = json!({ "Accounts": items });
    page_fields(&mut body, page.next);
    Ok(body)
}

async fn configurations(app: &App, b: &Bearer, q: &[(String, String)]) -> Result<Value, Fault> {
    let (next, max) = paging(q)?;
    let account = q
        .iter()
        .find(|(k, _)| k == "AccountId")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Fault::new(
                StatusCode::BAD_REQUEST,
                "MissingParameter.AccountId",
                "AccountId is required",
            )
        })?;
    let page = app
        .signin
        .cli_configurations(b, account, next.as_deref(), max)
        .await
        .map_err(|e| internal(&e))?
        .map_err(list_fault)?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|c| {
            json!({
                "AccessConfigurationId": c.id,
                "AccessConfigurationName": c.name,
                "AccessConfigurationDescription": c.description,
            })
        })
        .collect();
    let mut body = json!({ "AccessConfigurationsForAccount": items });
    page_fields(&mut body, page.next);
    Ok(body)
}

/// `POST /cloud-credentials`: temporary credentials for `{AccountId, AccessConfigurationId}`,
/// while the user's effective access grants it, lasting the configuration's SessionDuration
/// and no longer than the access token.
async fn credentials(app: &App, b: &Bearer, v: Value) -> Result<Value, Fault> {
    let (account, config) = (field(&v, "AccountId"), field(&v, "AccessConfigurationId"));
    for (name, value) in [("AccountId", &account), ("AccessConfigurationId", &config)] {
        if value.is_empty() {
            return Err(Fault(
                StatusCode::BAD_REQUEST,
                "MissingParameter",
                format!("{name} is required"),
            ));
        }
    }
    let cap = time::OffsetDateTime::from_unix_timestamp(b.expires_at)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let who = Actor {
        kind: ActorKind::User,
        id: b.user.to_string(),
        name: b.user_name.clone(),
        directory: Some(b.dir.to_string()),
    };
    let issued = app
        .signin
        .issue_credentials(
            &b.dir,
            &b.user,
            &account,
            &config,
            cap,
            CredentialKind::Alibaba,
        )
        .await
        .map_err(|e| internal(&e))?;
    match issued {
        Ok(c) => {
            note("signin:CreateCloudCredential", who, Ok(()));
            Ok(json!({"CloudCredential": {
                "AccessKeyId": c.access_key_id,
                "AccessKeySecret": c.access_key_secret,
                "SecurityToken": c.security_token,
                "Expiration": c.expiration_text(),
            }}))
        }
        Err(r) => {
            note("signin:CreateCloudCredential", who, Err("NoPermission"));
            Err(Fault(
                StatusCode::FORBIDDEN,
                "NoPermission",
                format!("no credentials for this account and access configuration: {r}"),
            ))
        }
    }
}

/// Notes the request's audit action and result.
pub(super) fn note(action: &str, actor: Actor, r: Result<(), &str>) {
    super::audit::note(|rec| {
        rec.action = action.to_owned();
        if actor.kind != ActorKind::Anonymous {
            rec.actor = actor;
        }
        rec.result = r.err().unwrap_or(crate::audit::RESULT_SUCCESS).to_owned();
    });
}

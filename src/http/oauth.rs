//! The OAuth 2.0 token endpoint for SCIM clients (RFC 6749 section 4.4, client credentials):
//! `POST /oauth2/token` with `grant_type=client_credentials`, the client authenticated by
//! HTTP Basic or by `client_id`/`client_secret` in the form. The client is an
//! `OAuthClientSecret` SCIM credential (client id = its CredentialId).
//!
//! Owns the token endpoint's decoding and its RFC 6749 section 5.2 error bodies (which are not
//! SCIM errors, so `http::error` does not build them). Must not check secrets or store tokens:
//! `Directory::issue_token` does.

use super::audit::{Trail, within};
use super::query::{decode, parse_query};
use super::{Body, read_body};
use crate::audit::{Actor, ActorKind};
use crate::directory::Directory;
use crate::error::DomainError;
use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

pub const TOKEN_PATH: &str = "/oauth2/token";

/// An RFC 6749 section 5.2 error.
fn error(status: StatusCode, code: &str, description: &str) -> Response<Body> {
    let mut resp = json(
        status,
        &json!({"error": code, "error_description": description}),
    );
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"cloudsso\""),
        );
    }
    resp
}

fn json(status: StatusCode, body: &Value) -> Response<Body> {
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
    h.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    resp
}

/// `Authorization: Basic base64(urlencoded id ":" urlencoded secret)` (section 2.3.1).
fn basic_credentials(req: &Request<Incoming>) -> Option<Result<(String, String), ()>> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = h.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    Some(
        decoded
            .and_then(|s| {
                s.split_once(':')
                    .map(|(id, secret)| (decode(id), decode(secret)))
            })
            .ok_or(()),
    )
}

/// `POST /oauth2/token`: decodes the request, then issues a token to the client it names.
/// Every request leaves an audit record `oauth:IssueToken` naming the client (never its
/// secret or the token): in the token's own transaction when one is issued.
pub async fn handle(
    dir: &Directory,
    trail: Trail<'_>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let scope = trail.open(&req, peer, "oauth:IssueToken");
    let work = async {
        match client(dir, req).await {
            Ok((id, secret)) => {
                arm_audit(&id);
                issue(dir, &id, &secret).await
            }
            Err(e) => (error(e.status, e.code, &e.description), e.code),
        }
    };
    let (resp, code) = within(scope.as_ref(), work).await;
    trail.close(scope, code).await;
    resp
}

/// Longest client id kept in an audit record, in characters (an unknown client's id is
/// whatever the request said).
const CLIENT_ID_CHARS_MAX: usize = 128;

/// Names the client in the request's audit scope and arms it for the token's write.
fn arm_audit(client_id: &str) {
    if let Some(scope) = crate::audit::AuditScope::current() {
        scope.update(|r| {
            r.actor = Actor {
                kind: ActorKind::OAuthClient,
                id: client_id.chars().take(CLIENT_ID_CHARS_MAX).collect(),
                name: String::new(),
                directory: None,
            };
        });
        scope.arm(None);
    }
}

/// A token request refused before the directory is asked (RFC 6749 section 5.2).
struct TokenError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

impl TokenError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        TokenError {
            status,
            code,
            description: description.into(),
        }
    }
}

/// Decodes a token request into the client's id and secret: POST, a bounded form body,
/// `grant_type=client_credentials`, and exactly one client authentication method.
async fn client(dir: &Directory, req: Request<Incoming>) -> Result<(String, String), TokenError> {
    if req.method() != Method::POST {
        return Err(TokenError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "use POST",
        ));
    }
    if req
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(TokenError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "more than one Authorization header",
        ));
    }
    let basic = basic_credentials(&req);
    if let Some(Ok((id, _))) = &basic {
        // Known before the body is read: an unknown client costs no body.
        if !dir.oauth_client_known(id).await {
            return Err(unknown_client());
        }
    }
    let limits = dir.limits();
    let timeout = Duration::from_millis(limits.request_read_timeout_ms);
    let body = read_body(req, limits.body_bytes_max, timeout)
        .await
        .map_err(|e| {
            TokenError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                e.message(limits.body_bytes_max, timeout),
            )
        })?;
    let form = parse_query(&String::from_utf8_lossy(&body));
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    check_grant(field("grant_type").as_deref())?;
    client_credentials(basic, field("client_id"), field("client_secret"))
}

/// The one refusal of a client that is not known, or whose secret is wrong: they read alike.
fn unknown_client() -> TokenError {
    TokenError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "unknown, disabled or expired client",
    )
}

/// Only `client_credentials` is supported (section 4.4.2).
fn check_grant(grant_type: Option<&str>) -> Result<(), TokenError> {
    match grant_type {
        Some("client_credentials") => Ok(()),
        Some(_) => Err(TokenError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        )),
        None => Err(TokenError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is missing",
        )),
    }
}

/// The client's id and secret from HTTP Basic or from the form, never both (section 2.3).
fn client_credentials(
    basic: Option<Result<(String, String), ()>>,
    id: Option<String>,
    secret: Option<String>,
) -> Result<(String, String), TokenError> {
    match (basic, id, secret) {
        (Some(Ok(c)), None, None) => Ok(c),
        (None, Some(id), Some(secret)) => Ok((id, secret)),
        (Some(Err(())), _, _) => Err(TokenError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "malformed Basic credentials",
        )),
        (Some(_), _, _) => Err(TokenError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "use one client authentication method, not both",
        )),
        _ => Err(TokenError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is missing",
        )),
    }
}

/// Asks the directory for a token and encodes the answer (section 5.1) or its refusal, with
/// the audit result (`Success` or the error code).
async fn issue(dir: &Directory, id: &str, secret: &str) -> (Response<Body>, &'static str) {
    match dir.issue_token(id, secret).await {
        Ok(t) => (
            json(
                StatusCode::OK,
                &json!({
                    "access_token": t.token,
                    "token_type": "Bearer",
                    "expires_in": t.expires_in,
                }),
            ),
            crate::audit::RESULT_SUCCESS,
        ),
        Err(DomainError::Unauthorized) => {
            let e = unknown_client();
            (error(e.status, e.code, &e.description), e.code)
        }
        Err(DomainError::SyncDisabled(_)) => (
            error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "SCIM synchronization is disabled for this directory",
            ),
            "unauthorized_client",
        ),
        Err(e) => {
            tracing::error!(error = %e, "issuing a token failed");
            (
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal error",
                ),
                "server_error",
            )
        }
    }
}

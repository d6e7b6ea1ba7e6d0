//! The management API endpoint (`/`, GET or POST): decodes the HTTP request into an
//! `api::ApiRequest`, writes the answer as JSON and logs one access-log line per call
//! (operation, caller, status, latency; never a secret). Everything else is in `api`.

use super::audit::{Trail, within};
use super::query::parse_query;
use super::request_id::RequestId;
use super::{Body, BodyError, read_body};
use crate::api::error::ApiFault;
use crate::api::{Api, ApiAnswer, ApiRequest, protocol};
use crate::audit::{Actor, ActorKind, RESULT_SUCCESS};
use crate::metrics::Metrics;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, header};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Entry point for management API requests: one log line with operation, caller, status and
/// latency.
pub async fn handle(
    api: &Api,
    metrics: &Metrics,
    trail: Trail<'_>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let started = Instant::now();
    let scope = trail.open(&req, peer, "");
    let answer = within(scope.as_ref(), answer(api, req, peer)).await;
    let latency_us = started.elapsed().as_micros() as u64;
    let operation = answer.operation.map_or_else(
        || "unknown".to_owned(),
        |op| format!("{}:{}", op.product.namespace(), op.name),
    );
    let (user, access_key_id) = answer
        .caller
        .as_ref()
        .map_or(("", ""), |c| (c.user.as_str(), c.access_key_id.as_str()));
    tracing::info!(
        %operation,
        caller = user,
        access_key_id,
        status = answer.status,
        latency_us,
        "api request"
    );
    metrics.api_call(&operation, answer.status);
    if let Some(s) = &scope {
        s.update(|r| {
            r.action = operation;
            r.actor = actor(&answer);
        });
    }
    trail.close(scope, result(&answer)).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(status, &answer.body)
}

/// Who the audit record names: the verified caller, else nobody.
fn actor(answer: &ApiAnswer) -> Actor {
    answer
        .caller
        .as_ref()
        .map_or_else(Actor::default, |c| Actor {
            kind: ActorKind::AccessKey,
            id: c.access_key_id.clone(),
            name: c.user.clone(),
            directory: c.directory.clone(),
        })
}

/// `Success`, or the answer's `Code`.
fn result(answer: &ApiAnswer) -> &str {
    if answer.status == 200 {
        return RESULT_SUCCESS;
    }
    answer
        .body
        .get("Code")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("Unknown")
}

async fn answer(api: &Api, req: Request<Incoming>, peer: SocketAddr) -> ApiAnswer {
    let limits = api.limits().clone();
    let request_id = request_id_of(&req);
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query().unwrap_or(""));
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let timeout = Duration::from_millis(limits.request_read_timeout_ms);
    let body = match read_body(req, limits.body_bytes_max, timeout).await {
        Ok(b) => b,
        Err(e) => return body_refused(&request_id, e, limits.body_bytes_max, timeout),
    };
    let form = if is_form {
        parse_query(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    api.handle(ApiRequest {
        method,
        path,
        query,
        form,
        headers,
        body: body.to_vec(),
        source_ip: peer.ip().to_string(),
        request_id,
    })
    .await
}

/// The answer to a body that could not be read (too large, too slow, unreadable).
/// The id `route` gave the request (a new one if it gave none).
fn request_id_of(req: &Request<Incoming>) -> String {
    req.extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_default()
        .as_str()
        .to_owned()
}

fn body_refused(request_id: &str, e: BodyError, max: usize, timeout: Duration) -> ApiAnswer {
    let message = e.message(max, timeout);
    let fault = match e {
        BodyError::TooLarge => ApiFault::body_too_large(message),
        BodyError::Timeout => ApiFault::body_timeout(message),
        BodyError::Unreadable => ApiFault::body_unreadable(message),
    };
    ApiAnswer {
        status: fault.status,
        body: protocol::failure(request_id, &fault.code, &fault.message),
        operation: None,
        caller: None,
    }
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json;charset=utf-8"),
    );
    resp
}

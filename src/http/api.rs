//! The management API endpoint (`/`, GET or POST): decodes the HTTP request into an
//! `api::ApiRequest`, writes the answer as JSON and logs one access-log line per call
//! (operation, caller, status, latency; never a secret). A request signed with AWS SigV4 or
//! naming AWS STS's version goes to `api::aws_sts` instead (`AwsRequest`, answered in XML),
//! logged and audited alike. Everything else is in `api`.

use super::audit::{Trail, within};
use super::query::parse_query;
use super::request_id::RequestId;
use super::{Body, BodyError, read_body};
use crate::api::aws_sts::{AwsAnswer, AwsRequest, is_aws_sts};
use crate::api::error::ApiFault;
use crate::api::{Api, ApiAnswer, ApiRequest, CallerName, protocol};
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
    let outcome = match within(scope.as_ref(), answer(api, req, peer)).await {
        Answer::Alibaba(a) => Outcome::alibaba(a),
        Answer::Aws(a) => Outcome::aws(a),
    };
    let latency_us = started.elapsed().as_micros() as u64;
    let (user, access_key_id) = outcome
        .caller
        .as_ref()
        .map_or(("", ""), |c| (c.user.as_str(), c.access_key_id.as_str()));
    tracing::info!(
        operation = %outcome.operation,
        caller = user,
        access_key_id,
        status = outcome.status,
        latency_us,
        "api request"
    );
    metrics.api_call(&outcome.operation, outcome.status);
    if let Some(s) = &scope {
        s.update(|r| {
            r.action = outcome.operation.clone();
            r.actor = actor(outcome.caller.as_ref());
        });
    }
    trail.close(scope, &outcome.result).await;
    outcome.response
}

/// An answer of either protocol.
enum Answer {
    Alibaba(ApiAnswer),
    Aws(AwsAnswer),
}

/// What the log, the metrics and the audit trail take from an answer, and the response.
struct Outcome {
    status: u16,
    operation: String,
    caller: Option<CallerName>,
    /// `Success`, or the error's code.
    result: String,
    response: Response<Body>,
}

impl Outcome {
    fn alibaba(answer: ApiAnswer) -> Outcome {
        let status =
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Outcome {
            status: answer.status,
            operation: answer.operation.map_or_else(
                || "unknown".to_owned(),
                |op| format!("{}:{}", op.product.namespace(), op.name),
            ),
            result: result(&answer).to_owned(),
            response: json(status, &answer.body),
            caller: answer.caller,
        }
    }

    fn aws(answer: AwsAnswer) -> Outcome {
        let status =
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = Response::new(Full::new(Bytes::from(answer.body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/xml"),
        );
        Outcome {
            status: answer.status,
            operation: answer
                .action
                .map_or_else(|| "unknown".to_owned(), |a| format!("aws-sts:{a}")),
            result: answer.code.unwrap_or(RESULT_SUCCESS).to_owned(),
            caller: answer.caller,
            response,
        }
    }
}

/// Who the audit record names: the verified caller, else nobody.
fn actor(caller: Option<&CallerName>) -> Actor {
    caller.map_or_else(Actor::default, |c| Actor {
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

async fn answer(api: &Api, req: Request<Incoming>, peer: SocketAddr) -> Answer {
    let limits = api.limits().clone();
    let request_id = request_id_of(&req);
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let raw_query = req.uri().query().unwrap_or("").to_owned();
    let query = parse_query(&raw_query);
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
    // HTTP/2 names the host in `:authority`, which hyper keeps in the URI (SigV4 signs it).
    let authority = (!req.headers().contains_key(header::HOST))
        .then(|| req.uri().authority().map(|a| a.as_str().to_owned()))
        .flatten();
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
        Err(e) => {
            return Answer::Alibaba(body_refused(&request_id, e, limits.body_bytes_max, timeout));
        }
    };
    let form = if is_form {
        parse_query(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    if is_aws_sts(&headers, &query, &form) {
        let mut headers = headers;
        headers.extend(authority.map(|a| ("host".to_owned(), a)));
        let req = AwsRequest {
            method,
            path,
            raw_query,
            query,
            form,
            headers,
            body: body.to_vec(),
            request_id,
        };
        return Answer::Aws(api.handle_aws_sts(&req).await);
    }
    let answer = api
        .handle(ApiRequest {
            method,
            path,
            query,
            form,
            headers,
            body: body.to_vec(),
            source_ip: peer.ip().to_string(),
            request_id,
        })
        .await;
    Answer::Alibaba(answer)
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

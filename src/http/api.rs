//! The management API endpoint (`/`, GET or POST): decodes the HTTP request into an
//! `api::ApiRequest` and writes the answer as JSON. Everything else is in `api`.

use super::query::parse_query;
use super::{Body, BodyError, read_body};
use crate::api::{Api, ApiRequest};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, header};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

pub async fn handle(api: &Api, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let limits = api.limits().clone();
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
        Err(e) => {
            let (status, code) = match e {
                BodyError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "RequestBodyTooLarge"),
                BodyError::Timeout => (StatusCode::REQUEST_TIMEOUT, "RequestTimeout"),
                BodyError::Unreadable => (StatusCode::BAD_REQUEST, "InvalidRequestBody"),
            };
            let body = json!({
                "RequestId": uuid::Uuid::new_v4().to_string().to_uppercase(),
                "Code": code,
                "Message": e.message(limits.body_bytes_max, timeout),
            });
            return json(status, &body);
        }
    };
    let form = if is_form {
        parse_query(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    let answer = api
        .handle(ApiRequest {
            method,
            path,
            query,
            form,
            headers,
            body: body.to_vec(),
            source_ip: peer.ip().to_string(),
        })
        .await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(status, &answer.body)
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

//! Refusals made at the front door, before a request reaches its handler (408, 414, 431,
//! 503, and the 400 for a head hyper cannot parse), in the error shape of the route the
//! request names: a SCIM error under `/scim/`, an RFC 6749 error at `/oauth2/token`, the
//! management API's `Code`/`Message` elsewhere. Both as a hyper `Response` (`Shape::respond`)
//! and as raw HTTP/1.1 bytes for the IO wrapper (`response`, `reshape`). Must not decide
//! whether to refuse, only how the refusal reads.

use super::{Body, aws_sso, device, oauth, scim};
use crate::scim::schema::ERROR_SCHEMA;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode, header};
use serde_json::{Value, json};

/// Seconds a client is asked to wait after a 503.
pub(crate) const RETRY_AFTER_SECONDS: u64 = 1;

/// The preface every HTTP/2 connection starts with (RFC 9113 section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether a connection's first bytes are HTTP/2's preface: `None` while they could still be.
pub(crate) fn protocol_of(head: &[u8]) -> Option<bool> {
    let n = head.len().min(H2_PREFACE.len());
    if head.get(..n) != H2_PREFACE.get(..n) {
        Some(false)
    } else if n == H2_PREFACE.len() {
        Some(true)
    } else {
        None
    }
}

/// The error shapes of the server's protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Scim,
    OAuth,
    Api,
    /// CloudSSO's CLI protocol: `ErrorCode`/`ErrorMessage`, and never a 5xx (its clients read
    /// one as success).
    Device,
    /// AWS's sso-oidc and portal: the code in `__type` (where botocore looks when there is no
    /// `x-amzn-ErrorType`), with both APIs' message members.
    Aws,
}

impl Shape {
    pub(crate) fn of(path: &str) -> Shape {
        if path == scim::SCIM_PREFIX || path.starts_with("/scim/") {
            Shape::Scim
        } else if path == oauth::TOKEN_PATH {
            Shape::OAuth
        } else if device::handles(path) {
            Shape::Device
        } else if aws_sso::handles(path) {
            Shape::Aws
        } else {
            Shape::Api
        }
    }

    /// The body and its media type.
    fn body(self, status: StatusCode, detail: &str) -> (&'static str, Value) {
        match self {
            Shape::Scim => {
                let mut v =
                    json!({"schemas": [ERROR_SCHEMA], "status": status.as_str(), "detail": detail});
                if let (true, Some(o)) = (status == StatusCode::BAD_REQUEST, v.as_object_mut()) {
                    o.insert("scimType".into(), json!("invalidSyntax"));
                }
                ("application/scim+json", v)
            }
            Shape::OAuth => {
                let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                    "temporarily_unavailable"
                } else {
                    "invalid_request"
                };
                let v = json!({"error": code, "error_description": detail});
                ("application/json;charset=utf-8", v)
            }
            Shape::Api => {
                let id = uuid::Uuid::new_v4().to_string().to_uppercase();
                let v = crate::api::protocol::failure(&id, api_code(status), detail);
                ("application/json;charset=utf-8", v)
            }
            Shape::Device => {
                let id = uuid::Uuid::new_v4().to_string().to_uppercase();
                let v = device::error_body(&id, api_code(status), detail);
                ("application/json;charset=utf-8", v)
            }
            Shape::Aws => {
                let kind = if status.is_server_error() || status.as_u16() == 429 {
                    "TooManyRequestsException"
                } else {
                    "InvalidRequestException"
                };
                let v = json!({"__type": kind, "error": "invalid_request",
                               "error_description": detail, "message": detail});
                ("application/json", v)
            }
        }
    }

    /// The refusal as a response (503s say when to retry).
    pub(crate) fn respond(self, status: StatusCode, detail: &str) -> Response<Body> {
        let status = self.status(status);
        let (media_type, body) = self.body(status, detail);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = Response::new(Full::new(Bytes::from(bytes)));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(media_type),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(RETRY_AFTER_SECONDS),
            );
        }
        resp
    }
}

impl Shape {
    /// The status a refusal is sent with: CloudSSO's CLIs get a 429 for a 503.
    fn status(self, status: StatusCode) -> StatusCode {
        if self == Shape::Device && status.is_server_error() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            status
        }
    }
}

/// The management API's code for a front-door refusal.
fn api_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        408 => "RequestTimeout",
        414 => "RequestURITooLong",
        431 => "RequestHeaderFieldsTooLarge",
        429 | 503 => "ServiceUnavailable",
        _ => "InvalidRequest",
    }
}

fn detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        408 => "the request head did not arrive within the read timeout",
        414 => "the request target is too long",
        431 => "the request's header fields are too large or too many",
        _ => "the request could not be parsed",
    }
}

/// The path of a request line (`GET /path?q HTTP/1.1`), or `/` if it cannot be read.
fn path_of(head: &[u8]) -> String {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let target = line.split(|b| *b == b' ').nth(1).unwrap_or(b"/");
    let path = target.split(|b| *b == b'?').next().unwrap_or(b"/");
    String::from_utf8_lossy(path).into_owned()
}

/// A whole HTTP/1.1 refusal that closes the connection, shaped by the route `head` names.
pub(crate) fn response(status: u16, head: &[u8]) -> Vec<u8> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let shape = Shape::of(&path_of(head));
    let status = shape.status(status);
    let (media_type, body) = shape.body(status, detail(status));
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {media_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// A shaped replacement for `written` when it is one of hyper's own bodiless refusals to an
/// unparsable head (400, 414 or 431 with `content-length: 0`).
pub(crate) fn reshape(written: &[u8], head: &[u8]) -> Option<Vec<u8>> {
    let status = written.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let status: u16 = std::str::from_utf8(status).ok()?.parse().ok()?;
    let bodiless = written
        .windows(19)
        .any(|w| w.eq_ignore_ascii_case(b"content-length: 0\r\n"));
    (matches!(status, 400 | 414 | 431) && bodiless).then(|| response(status, head))
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing))]
mod tests {
    use super::*;

    #[test]
    fn the_route_picks_the_shape() {
        let cases = [
            ("/", Shape::Api),
            ("/scim/v2/Users", Shape::Scim),
            ("/oauth2/token", Shape::OAuth),
            ("/d-1/login", Shape::Api),
            ("/token", Shape::Device),
            ("/access-assignments/accounts", Shape::Device),
        ];
        for (path, want) in cases {
            assert_eq!(Shape::of(path), want, "{path}");
        }
    }

    #[test]
    fn preface_detection() {
        let cases: [(&[u8], Option<bool>); 4] = [
            (b"PRI * HT", None),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Some(true)),
            (b"GET / HTTP/1.1\r\n", Some(false)),
            (b"P", None),
        ];
        for (head, want) in cases {
            assert_eq!(protocol_of(head), want, "{head:?}");
        }
    }

    #[test]
    fn hyper_refusals_get_a_body_in_the_route_shape() {
        let hyper_431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let cases: [(&[u8], &[u8], Option<&str>); 4] = [
            (
                hyper_431,
                b"GET /scim/v2/Users?x HTTP/1.1\r\n",
                Some("urn:ietf:params:scim:api:messages:2.0:Error"),
            ),
            (
                hyper_431,
                b"GET / HTTP/1.1\r\n",
                Some("\"Code\":\"RequestHeaderFieldsTooLarge\""),
            ),
            (
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
                b"\x01\x02",
                Some("\"Code\":\"InvalidRequest\""),
            ),
            (
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\nnope!",
                b"GET / HTTP/1.1\r\n",
                None,
            ),
        ];
        for (written, head, want) in cases {
            let got = reshape(written, head).map(|b| String::from_utf8(b).unwrap());
            match (got, want) {
                (Some(g), Some(w)) => assert!(g.contains(w), "{g}"),
                (None, None) => {}
                (g, w) => panic!("{g:?} vs {w:?}"),
            }
        }
    }
}

//! One signed management API call over HTTP: `POST /` with the parameters in the query string,
//! signed with ACS3-HMAC-SHA256 the way the official SDKs sign, answered with JSON.

use super::config::Credentials;
use crate::api::signature::{Acs3Request, percent_encode, sign_acs3};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;

/// Longest wait for a TCP connection.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Longest wait for a whole answer, from sending the request to its last byte.
pub const RESPONSE_TIMEOUT_MS: u64 = 30_000;
/// Largest answer read, in bytes.
pub const RESPONSE_BYTES_MAX: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("endpoint `{0}` is not a URL such as http://127.0.0.1:8080")]
    Endpoint(String),
    #[error("endpoint `{0}`: only http:// is supported; put a TLS proxy in front for https")]
    Scheme(String),
    #[error("signing the request: {0}")]
    Sign(String),
    #[error("encoding the request: {0}")]
    Encode(String),
    #[error("cannot reach {0}: {1}")]
    Connect(String, String),
    #[error("no answer from {0} within {1} ms")]
    Timeout(String, u64),
    #[error("reading the answer from {0}: {1}")]
    Read(String, String),
    #[error("HTTP {0} from the server, not an API answer: {1}")]
    NotJson(u16, String),
}

/// What the server answered: its HTTP status and JSON body. An API error is a body with
/// `Code` and `Message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// `(Code, Message)` when the server refused the call.
    pub fn fault(&self) -> Option<(String, String)> {
        let text = |k| self.body.get(k).and_then(Value::as_str);
        match text("Code") {
            Some(code) => Some((code.to_owned(), text("Message").unwrap_or("").to_owned())),
            None if !(200..300).contains(&self.status) => Some((
                "HttpError".to_owned(),
                format!("HTTP status {}", self.status),
            )),
            None => None,
        }
    }
}

/// Longest encoded query the CLI sends in the URL (the server's default `--uri-bytes-max` is
/// 8 KiB); longer parameters go in a signed form body.
pub const QUERY_BYTES_MAX: usize = 4096;
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// `k=v&...`, every key and value percent-encoded as the signature expects.
pub fn encode_query(query: &[(String, String)]) -> String {
    query
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the `x-acs-date` format.
pub fn acs_date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The `host[:port]` of an `http://` endpoint: what the request goes to and signs as `host`.
pub fn host_of(endpoint: &str) -> Result<String, ClientError> {
    let bad = || ClientError::Endpoint(endpoint.to_owned());
    let uri: Uri = endpoint.trim_end_matches('/').parse().map_err(|_| bad())?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return Err(ClientError::Scheme(endpoint.to_owned())),
        None => return Err(bad()),
    }
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(bad());
    }
    Ok(uri.authority().ok_or_else(bad)?.as_str().to_owned())
}

/// Calls `action` of the API `version` with `params` and returns the answer, whatever it is.
pub async fn call(
    creds: &Credentials,
    action: &str,
    version: &str,
    params: &[(String, String)],
) -> Result<Answer, ClientError> {
    let endpoint = creds.endpoint.trim_end_matches('/');
    let host = host_of(&creds.endpoint)?;
    let date = acs_date(time::OffsetDateTime::now_utc());
    let nonce = uuid::Uuid::new_v4().to_string();
    let encoded = encode_query(params);
    // Long parameters (an IdP's metadata document) go in a form body, whose content type is
    // signed; the rest in the query, as the SDK sends them.
    let in_body = encoded.len() > QUERY_BYTES_MAX;
    let mut headers = vec![("host".to_owned(), host.clone())];
    if in_body {
        headers.push(("content-type".to_owned(), FORM_CONTENT_TYPE.to_owned()));
    }
    let (query, body): (&[(String, String)], Vec<u8>) = if in_body {
        (&[], encoded.clone().into_bytes())
    } else {
        (params, Vec::new())
    };
    let signed = sign_acs3(&Acs3Request {
        access_key_id: &creds.access_key_id,
        secret: &creds.access_key_secret,
        method: "POST",
        action,
        version,
        query,
        headers: &headers,
        body: &body,
        date: &date,
        nonce: &nonce,
    })
    .map_err(|e| ClientError::Sign(e.to_string()))?;
    let target = if encoded.is_empty() || in_body {
        format!("http://{host}/")
    } else {
        format!("http://{host}/?{encoded}")
    };
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(target)
        .header("accept", "application/json");
    for (k, v) in headers.iter().chain(&signed) {
        req = req.header(k.as_str(), v.as_str());
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| ClientError::Endpoint(format!("{}: {e}", creds.endpoint)))?;

    let (status, _, raw) = exchange(endpoint, req).await?;
    let body = serde_json::from_slice(&raw).map_err(|_| {
        let text = String::from_utf8_lossy(&raw);
        ClientError::NotJson(status, text.chars().take(200).collect())
    })?;
    Ok(Answer { status, body })
}

/// Sends `req` over a new connection and reads the whole answer: status, headers and body,
/// within `CONNECT_TIMEOUT_MS`, `RESPONSE_TIMEOUT_MS` and `RESPONSE_BYTES_MAX`. `origin`
/// names the server in errors.
pub async fn exchange(
    origin: &str,
    req: Request<Full<Bytes>>,
) -> Result<(u16, hyper::HeaderMap, Bytes), ClientError> {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)));
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let exchange = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| ClientError::Connect(origin.to_owned(), error_chain(&e)))?;
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        let raw = Limited::new(body, RESPONSE_BYTES_MAX)
            .collect()
            .await
            .map_err(|e| ClientError::Read(origin.to_owned(), e.to_string()))?
            .to_bytes();
        Ok::<_, ClientError>((status, parts.headers, raw))
    };
    tokio::time::timeout(Duration::from_millis(RESPONSE_TIMEOUT_MS), exchange)
        .await
        .map_err(|_| ClientError::Timeout(origin.to_owned(), RESPONSE_TIMEOUT_MS))?
}

/// A JSON request to `origin` (`http://host[:port]`) + `path_and_query`, with `headers`
/// and, when given, `body` sent as `application/json`: the answer's status, headers and body.
pub async fn send_json(
    method: Method,
    origin: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Result<(u16, hyper::HeaderMap, Bytes), ClientError> {
    let host = host_of(origin)?;
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{host}{path_and_query}"))
        .header("host", host.as_str())
        .header("accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let bytes = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            serde_json::to_vec(b).map_err(|e| ClientError::Encode(e.to_string()))?
        }
        None => Vec::new(),
    };
    let req = req
        .body(Full::new(Bytes::from(bytes)))
        .map_err(|e| ClientError::Endpoint(format!("{origin}{path_and_query}: {e}")))?;
    exchange(origin, req).await
}

/// An error and its sources, `outer: inner: root` (hyper's own message alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_and_date_are_in_the_wire_formats() {
        let q = [
            ("Filter".to_owned(), "UserName eq \"a b\"".to_owned()),
            ("MaxResults".to_owned(), "5".to_owned()),
        ];
        assert_eq!(
            encode_query(&q),
            "Filter=UserName%20eq%20%22a%20b%22&MaxResults=5"
        );
        let t = time::macros::datetime!(2026-01-02 03:04:05 +08:00);
        assert_eq!(acs_date(t), "2026-01-01T19:04:05Z");
    }

    #[test]
    fn endpoints_are_plain_http_origins() {
        assert_eq!(host_of("http://127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(host_of("http://sso.example/").unwrap(), "sso.example");
        assert!(matches!(host_of("https://x"), Err(ClientError::Scheme(_))));
        assert!(host_of("127.0.0.1:8080").is_err());
        assert!(host_of("http://x/api").is_err());
        assert!(host_of("not a url").is_err());
    }

    #[test]
    fn a_fault_is_a_code_or_a_failed_status() {
        let ok = Answer {
            status: 200,
            body: json!({"RequestId": "r"}),
        };
        assert_eq!(ok.fault(), None);
        let refused = Answer {
            status: 404,
            body: json!({"Code": "EntityNotExists.User", "Message": "no"}),
        };
        assert_eq!(
            refused.fault(),
            Some(("EntityNotExists.User".into(), "no".into()))
        );
        let odd = Answer {
            status: 502,
            body: json!({}),
        };
        assert_eq!(
            odd.fault(),
            Some(("HttpError".into(), "HTTP status 502".into()))
        );
    }
}

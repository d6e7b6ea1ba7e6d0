//! The front door's regression tests (issue 15, findings 2, 3, 4, 7, 9): silent and idle
//! connections are closed, one source address gets only its share of the connection slots,
//! request bodies share one memory budget, credentials are checked before bodies are read,
//! one `Authorization` header only, and protocol-level refusals carry a body in their route's
//! shape. Raw sockets where hyper's client would hide the wire. The raw helpers are shared
//! with `exhaustion`.

use crate::harness::{Server, assert_error};
use hyper::{Method, StatusCode};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The HTTP/2 client preface and an empty SETTINGS frame.
pub const H2_HELLO: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A connection to `addr` from the loopback address `ip` (127.0.0.2 is another client).
pub async fn connect_from(ip: &str, addr: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    socket.connect(addr.parse().unwrap()).await.unwrap()
}

/// Everything the server sends until it closes, or `None` if still open after `wait`.
pub async fn until_closed(c: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, c.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends `bytes` from `ip` on a new connection and returns what came back until it closed.
pub async fn exchange_from(ip: &str, addr: &str, bytes: &[u8]) -> String {
    let mut c = connect_from(ip, addr).await;
    c.write_all(bytes).await.unwrap();
    let out = until_closed(&mut c, Duration::from_secs(20)).await;
    String::from_utf8_lossy(&out.expect("server did not answer and close")).into_owned()
}

/// A legitimate client at `ip`: a discovery GET, answered 200.
pub async fn served_from(ip: &str, addr: &str) -> bool {
    let get =
        b"GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    exchange_from(ip, addr, get)
        .await
        .starts_with("HTTP/1.1 200")
}

/// The body of a raw HTTP/1.1 answer.
fn body_of(answer: &str) -> serde_json::Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|_| panic!("no JSON body in {answer:?}"))
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_read_timeout() {
    let s = Server::start_with(&["--request-read-timeout-ms", "500"]);
    let mut silent = connect_from("127.0.0.1", &s.addr).await;
    let sent = until_closed(&mut silent, Duration::from_secs(10)).await;
    assert_eq!(sent, Some(Vec::new()), "closed, without an answer");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    // The read timeout is long: the idle timeout closes it.
    let s = Server::start_with(&["--keep-alive-idle-ms", "500"]);
    let mut c = connect_from("127.0.0.1", &s.addr).await;
    c.write_all(H2_HELLO).await.unwrap();
    assert!(
        until_closed(&mut c, Duration::from_secs(10))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let s = Server::start_with(&["--keep-alive-idle-ms", "1500"]);
    let mut c = connect_from("127.0.0.1", &s.addr).await;
    let get = b"GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\n\r\n";
    c.write_all(get).await.unwrap();
    // Well within the idle time: the next request on the same connection is served...
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.write_all(get).await.unwrap();
    // ...and then, idle, it is closed.
    let answer = until_closed(&mut c, Duration::from_secs(10)).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
}

/// The value of SETTINGS_MAX_CONCURRENT_STREAMS (0x3) in the server's first SETTINGS frame.
async fn h2_max_streams(c: &mut TcpStream) -> Option<u32> {
    let mut head = [0u8; 9];
    c.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0u8; len];
    c.read_exact(&mut payload).await.ok()?;
    assert_eq!(head[3], 4, "a SETTINGS frame first");
    payload.chunks(6).find_map(|p| {
        (u16::from_be_bytes([p[0], p[1]]) == 3)
            .then(|| u32::from_be_bytes([p[2], p[3], p[4], p[5]]))
    })
}

#[tokio::test]
async fn http2_streams_per_connection_are_bounded() {
    for (flag, want) in [("2", 2), ("7", 7)] {
        let s = Server::start_with(&["--http2-streams-max", flag]);
        let mut c = connect_from("127.0.0.1", &s.addr).await;
        c.write_all(H2_HELLO).await.unwrap();
        assert_eq!(h2_max_streams(&mut c).await, Some(want));
    }
}

#[tokio::test]
async fn a_source_address_gets_its_share_of_connections() {
    let s = Server::start_with(&[
        "--connections-per-source-max",
        "2",
        "--connections-max",
        "8",
    ]);
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(connect_from("127.0.0.1", &s.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect_from("127.0.0.1", &s.addr).await;
    let closed = until_closed(&mut third, Duration::from_secs(5)).await;
    assert_eq!(
        closed,
        Some(Vec::new()),
        "the third from one address is closed at once"
    );
    assert!(
        served_from("127.0.0.2", &s.addr).await,
        "another address is served"
    );
    drop(held);
    let mut again = false;
    for _ in 0..50 {
        if served_from("127.0.0.1", &s.addr).await {
            again = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again, "the share comes back when its connections close");
}

/// A request whose declared body is only started, holding its reservation.
pub async fn held_body(addr: &str, path: &str, auth: &str, length: usize) -> TcpStream {
    let mut c = connect_from("127.0.0.1", addr).await;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/scim+json\r\nContent-Length: {length}\r\n\r\n{{"
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c
}

#[tokio::test]
async fn bodies_past_the_budget_are_refused_503_in_the_route_shape() {
    let s = Server::start_with(&[
        "--body-bytes-max",
        "1000",
        "--request-bodies-bytes-max",
        "1500",
    ]);
    let auth = format!("Authorization: Bearer {}\r\n", s.token);
    let _held = held_body(&s.addr, "/scim/v2/Users", &auth, 1000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let post = |path: &str, len: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/scim+json\r\nConnection: close\r\nContent-Length: {len}\r\n\r\n{}",
            "x".repeat(len)
        )
    };
    let cases = [
        (
            "/scim/v2/Users",
            "schemas",
            "urn:ietf:params:scim:api:messages:2.0:Error",
        ),
        ("/", "Code", "ServiceUnavailable"),
        ("/oauth2/token", "error", "temporarily_unavailable"),
    ];
    for (path, field, want) in cases {
        let answer = exchange_from("127.0.0.2", &s.addr, post(path, 900).as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{path}: {answer}");
        assert!(
            answer.to_ascii_lowercase().contains("retry-after: 1"),
            "{answer}"
        );
        assert!(
            body_of(&answer).to_string().contains(want),
            "{field} {answer}"
        );
        // Within the budget: read and answered by its route (here: not JSON, or not a form).
        let answer = exchange_from("127.0.0.2", &s.addr, post(path, 400).as_bytes()).await;
        assert!(!answer.starts_with("HTTP/1.1 503"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn scim_and_oauth_check_credentials_before_reading_a_body() {
    // A long read timeout: an answer within seconds means the body was never waited for.
    let s = Server::start();
    let basic = "Authorization: Basic dW5rbm93bjpzZWNyZXQ=\r\n"; // unknown:secret
    let cases = [
        (
            "/scim/v2/Users",
            "Authorization: Bearer wrong\r\n",
            "HTTP/1.1 401",
        ),
        ("/oauth2/token", basic, "HTTP/1.1 401"),
    ];
    for (path, auth, want) in cases {
        let mut c = held_body(&s.addr, path, auth, 900).await;
        let answer = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = vec![0u8; 4096];
            let n = c.read(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        })
        .await
        .unwrap_or_else(|_| panic!("{path}: no answer before the body"));
        assert!(answer.starts_with(want), "{path}: {answer}");
    }
}

#[tokio::test]
async fn more_than_one_authorization_header_is_refused() {
    let s = Server::start();
    let good = format!("Bearer {}", s.token);
    let scim_cases = [
        (vec![good.as_str()], 200),
        (vec![good.as_str(), "Bearer wrong"], 400),
        (vec!["Bearer wrong", good.as_str()], 400),
        (vec![good.as_str(), good.as_str()], 400),
    ];
    for (values, want) in scim_cases {
        let headers: Vec<(&str, &str)> = values.iter().map(|v| ("authorization", *v)).collect();
        let r = s.send(Method::GET, "/Users", &headers, None).await;
        if want == 200 {
            assert_eq!(r.status, StatusCode::OK);
        } else {
            assert_error(&r, want, Some("invalidSyntax"));
        }
    }
    let basic = "Basic dW5rbm93bjpzZWNyZXQ=";
    let r = s
        .oauth_token(
            "grant_type=client_credentials",
            &[("authorization", basic), ("authorization", basic)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_request");
}

#[tokio::test]
async fn a_head_that_does_not_arrive_in_time_is_answered_408() {
    let s = Server::start_with(&["--request-read-timeout-ms", "500"]);
    let cases = [
        (
            "GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n",
            "urn:ietf:params:scim:api:messages:2.0:Error",
        ),
        (
            "GET /?Action=ListDirectories HTTP/1.1\r\nHo",
            "RequestTimeout",
        ),
        ("GET /oauth2/token HTTP/1.1\r\n", "invalid_request"),
    ];
    for (partial, want) in cases {
        let answer = exchange_from("127.0.0.1", &s.addr, partial.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(body_of(&answer).to_string().contains(want), "{answer}");
    }
}

#[tokio::test]
async fn protocol_refusals_have_a_body_in_the_route_shape() {
    let s = Server::start_with(&[
        "--uri-bytes-max",
        "100",
        "--headers-count-max",
        "10",
        "--header-bytes-max",
        "9000",
        "--keep-alive-idle-ms",
        "300",
    ]);
    let long_target = format!("/scim/v2/Users?filter={}", "a".repeat(200));
    let many = (0..12).map(|i| format!("X-{i}: y\r\n")).collect::<String>();
    let big = format!("X-Big: {}\r\n", "b".repeat(10_000));
    let scim_error = "urn:ietf:params:scim:api:messages:2.0:Error";
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("GET {long_target} HTTP/1.1\r\nHost: x\r\n\r\n"),
            "414",
            scim_error,
        ),
        (
            format!("GET /?{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(200)),
            "414",
            "RequestURITooLong",
        ),
        (
            format!("GET /scim/v2/Users HTTP/1.1\r\n{many}\r\n"),
            "431",
            scim_error,
        ),
        (
            format!("GET / HTTP/1.1\r\n{many}\r\n"),
            "431",
            "RequestHeaderFieldsTooLarge",
        ),
        (
            format!("GET /scim/v2/Users HTTP/1.1\r\n{big}\r\n"),
            "431",
            scim_error,
        ),
        (
            format!("GET / HTTP/1.1\r\n{big}\r\n"),
            "431",
            "RequestHeaderFieldsTooLarge",
        ),
        (
            "GET /scim/v2/Users HTTP/1.1\r\nBad Header\r\n\r\n".into(),
            "400",
            "invalidSyntax",
        ),
        ("\x01\x02 garbage\r\n\r\n".into(), "400", "InvalidRequest"),
    ];
    for (request, status, want) in cases {
        let answer = exchange_from("127.0.0.1", &s.addr, request.as_bytes()).await;
        let head: String = request.chars().take(40).collect();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{head:?}: {answer}"
        );
        assert!(
            body_of(&answer).to_string().contains(want),
            "{head:?}: {answer}"
        );
    }
    // Within the limits: served.
    let auth = format!("Bearer {}", s.token);
    let r = s
        .send(
            Method::GET,
            "/Users?count=1",
            &[("authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

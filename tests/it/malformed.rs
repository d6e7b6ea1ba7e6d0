//! Runs the malformed-input corpus (`conformance/malformed/*.jsonl`, described in its README)
//! against one real server started with small limits: every case gets its expected status and
//! error shape, none gets a 5xx, none hangs past `CASE_TIMEOUT`, and afterwards the server still
//! answers and the fixtures it was given are unchanged. Cases tagged `pending` (a finding being
//! fixed elsewhere) are reported, not failed, unless they answer 5xx or hang.
//!
//! Every request goes over its own `tokio::net::TcpStream` (HTTP/1.1 with `Connection: close`,
//! or the case's raw bytes), so a refused or reset connection is an answer to check, never a
//! panic of the client. Must not change the fixtures itself, nor depend on the order of cases.

use crate::harness::*;
use cloudsso::api::signature::{Acs3Request, rpc_signature, sign_acs3};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any case may take before it counts as a hang.
const CASE_TIMEOUT: Duration = Duration::from_secs(10);
/// Cases in flight at once.
const CONCURRENCY: usize = 8;
/// The corpus must hold at least this many cases.
const CASES_MIN: usize = 1000;

/// The limits the corpus was written for (`LIMITS` in `generate.py`).
const FLAGS: &[&str] = &[
    "--body-bytes-max",
    "4096",
    "--filter-len-max",
    "256",
    "--filter-depth-max",
    "4",
    "--page-size-max",
    "10",
    "--patch-operations-max",
    "4",
    "--attribute-values-max",
    "3",
    "--attribute-paths-max",
    "3",
    "--request-read-timeout-ms",
    "1500",
];

/// What the placeholders of the corpus stand for.
struct Fixture {
    addr: String,
    key: Key,
    vars: Vec<(&'static str, String)>,
}

impl Fixture {
    fn fill(&self, s: &str) -> String {
        self.vars.iter().fold(s.to_owned(), |acc, (k, v)| {
            acc.replace(&format!("{{{k}}}"), v)
        })
    }

    fn fill_pairs(&self, v: &Value) -> Vec<(String, String)> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            self.fill(p[0].as_str().unwrap()),
                            self.fill(p[1].as_str().unwrap()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What came back on a connection.
#[derive(Debug, Default)]
struct Answer {
    /// The HTTP/1.x status, when the answer was HTTP/1.x.
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Every byte received.
    bytes: Vec<u8>,
    /// The server closed (or reset) the connection.
    closed: bool,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A case's verdict.
#[derive(Debug)]
enum Verdict {
    Pass,
    /// Tagged pending and not yet matching: (finding, what differs).
    Pending(String, String),
    /// Tagged pending, and already matching: the tag can go.
    PendingPasses(String),
    Fail(String),
}

#[tokio::test]
async fn malformed_corpus() {
    let s = Server::start_with(FLAGS);
    let fx = Arc::new(fixture(&s).await);
    let before = snapshot(&s, &fx).await;
    let cases = load_cases();
    assert!(cases.len() >= CASES_MIN, "only {} cases", cases.len());
    let results = run_all(&fx, cases).await;
    let failures = report(&results);
    assert_eq!(
        s.get("/ServiceProviderConfig").await.status.as_u16(),
        200,
        "the server stopped answering"
    );
    let log = s.log_text();
    let alarming: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("panicked") || l.contains("internal error"))
        .collect();
    assert!(
        alarming.is_empty(),
        "the server logged:\n{}",
        alarming.join("\n")
    );
    let after = snapshot(&s, &fx).await;
    assert!(
        before == after,
        "the cases changed the fixtures:\nbefore {before:#?}\nafter {after:#?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Users, a group with a member, an OAuth client, and the placeholder values.
async fn fixture(s: &Server) -> Fixture {
    let user = s
        .post(
            "/Users",
            serde_json::json!({"schemas": [USER], "userName": "malformed-fixture", "title": "fixed",
                "emails": [{"value": "fixture@example.com", "primary": true}]}),
        )
        .await;
    assert_eq!(user.status.as_u16(), 201, "{}", user.body);
    let member = s.user("malformed-member").await;
    let group = s.group("malformed-group", &[&member]).await;
    let key = s.admin_key();
    let admins = s.api_ok(&key, RAM, "ListUsers", &[]).await;
    let admin_name = admins["Users"]["User"][0]["UserName"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = s.directory_id.as_str();
    let oauth = s
        .api_ok(
            &key,
            SSO,
            "CreateSCIMServerCredential",
            &[
                ("DirectoryId", dir),
                ("CredentialType", "OAuthClientSecret"),
            ],
        )
        .await;
    let client = &oauth["SCIMServerCredential"];
    let basic = |id: &Value, secret: &str| {
        use base64::Engine;
        let raw = format!("{}:{secret}", id.as_str().unwrap());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    };
    Fixture {
        addr: s.addr.clone(),
        vars: vec![
            ("bearer", s.token.clone()),
            ("user_id", user.id()),
            ("user_name", "malformed-fixture".into()),
            ("member_id", member),
            ("group_id", group),
            ("group_name", "malformed-group".into()),
            ("dir_id", s.directory_id.clone()),
            ("admin_name", admin_name),
            ("ak_id", key.id.clone()),
            (
                "oauth_basic",
                basic(
                    &client["CredentialId"],
                    client["CredentialSecret"].as_str().unwrap(),
                ),
            ),
            (
                "oauth_basic_wrong",
                basic(&client["CredentialId"], "wrong-secret"),
            ),
            (
                "oauth_id",
                client["CredentialId"].as_str().unwrap().to_owned(),
            ),
            ("addr", s.addr.clone()),
        ],
        key,
    }
}

/// A read-only API call: version, action, parameters.
type ApiRead<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

/// Everything the cases could have changed, as the server reports it (request ids removed).
async fn snapshot(s: &Server, fx: &Fixture) -> Vec<Value> {
    let mut out = Vec::new();
    for path in ["/Users?count=10", "/Groups?count=10"] {
        out.push(s.get(path).await.body);
    }
    for id in ["user_id", "member_id"] {
        out.push(
            s.get(&format!("/Users/{}", fx.fill(&format!("{{{id}}}"))))
                .await
                .body,
        );
    }
    out.push(s.get(&fx.fill("/Groups/{group_id}")).await.body);
    let dir = s.directory_id.as_str();
    let admin = fx.fill("{admin_name}");
    let calls: [ApiRead; 6] = [
        (SSO, "ListDirectories", vec![]),
        (SSO, "ListSCIMServerCredentials", vec![("DirectoryId", dir)]),
        (SSO, "ListUsers", vec![("DirectoryId", dir)]),
        (SSO, "ListGroups", vec![("DirectoryId", dir)]),
        (RAM, "ListUsers", vec![]),
        (RAM, "ListAccessKeys", vec![("UserName", &admin)]),
    ];
    for (version, action, params) in calls {
        let mut body = s.api_ok(&fx.key, version, action, &params).await;
        if let Some(o) = body.as_object_mut() {
            o.remove("RequestId");
        }
        out.push(body);
    }
    out
}

/// Every case of every `*.jsonl` file, with its family (the file's stem).
fn load_cases() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut ids = std::collections::HashSet::new();
    let mut cases = Vec::new();
    for file in files {
        let family = file.file_stem().unwrap().to_string_lossy().into_owned();
        for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let case: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), n + 1));
            assert!(
                ids.insert(case["id"].to_string()),
                "duplicate id {}",
                case["id"]
            );
            cases.push((family.clone(), case));
        }
    }
    cases
}

/// Runs every case, `CONCURRENCY` at a time; (family, id, verdict) in corpus order.
async fn run_all(fx: &Arc<Fixture>, cases: Vec<(String, Value)>) -> Vec<(String, String, Verdict)> {
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for (family, case) in cases {
        let (fx, permits) = (fx.clone(), permits.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let id = case["id"].as_str().unwrap_or("?").to_owned();
            let verdict = match tokio::time::timeout(CASE_TIMEOUT, run_case(&fx, &case)).await {
                Ok(v) => v,
                Err(_) => Verdict::Fail(format!("hang: no answer within {CASE_TIMEOUT:?}")),
            };
            (family, id, verdict)
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Counts per family and a total; returns the failures.
fn report(results: &[(String, String, Verdict)]) -> Vec<String> {
    let mut counts: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    let mut failures = Vec::new();
    for (family, id, verdict) in results {
        let c = counts.entry(family.as_str()).or_default();
        match verdict {
            Verdict::Pass => c[0] += 1,
            Verdict::Pending(finding, why) => {
                c[1] += 1;
                println!("pending ({finding}) {id}: {why}");
            }
            Verdict::PendingPasses(finding) => {
                c[2] += 1;
                println!("pending ({finding}) {id}: passes now, the tag can go");
            }
            Verdict::Fail(why) => {
                c[3] += 1;
                println!("FAIL {id}: {why}");
                failures.push(format!("{id}: {why}"));
            }
        }
    }
    print_counts(&counts);
    failures
}

/// The table: per family, cases, passed, pending, pending that pass, failed; then the total.
fn print_counts(counts: &BTreeMap<&str, [usize; 4]>) {
    println!(
        "{:10} {:>6} {:>6} {:>8} {:>12} {:>6}",
        "family", "cases", "pass", "pending", "pending-pass", "fail"
    );
    let mut total = [0usize; 4];
    for (family, c) in counts {
        let n: usize = c.iter().sum();
        println!(
            "{family:10} {n:>6} {:>6} {:>8} {:>12} {:>6}",
            c[0], c[1], c[2], c[3]
        );
        for (t, x) in total.iter_mut().zip(c) {
            *t += x;
        }
    }
    let n: usize = total.iter().sum();
    println!(
        "{:10} {n:>6} {:>6} {:>8} {:>12} {:>6}",
        "total", total[0], total[1], total[2], total[3]
    );
}

/// Sends one case and judges what came back.
async fn run_case(fx: &Fixture, case: &Value) -> Verdict {
    let shape = case["expect"]["shape"].as_str();
    let until_closed = matches!(shape, Some("close" | "goaway"));
    let half_close = case["half_close"] == true;
    let answer = match case["send"].as_str() {
        Some("http") => exchange(&fx.addr, &http_bytes(fx, case), false, until_closed).await,
        Some("raw") => exchange(&fx.addr, &raw_bytes(fx, case), half_close, until_closed).await,
        Some("api") => match api_exchange(fx, case).await {
            Ok(a) => a,
            Err(e) => return Verdict::Fail(e),
        },
        other => return Verdict::Fail(format!("unknown send {other:?}")),
    };
    if std::env::var_os("CLOUDSSO_MALFORMED_VERBOSE").is_some() {
        println!("{} -> {}", case["id"], summary(&answer));
    }
    judge(case, &answer)
}

/// A 5xx fails whatever the case says; a mismatch fails unless the case is pending.
fn judge(case: &Value, answer: &Answer) -> Verdict {
    let hard = server_fault(answer);
    let soft = mismatch(&case["expect"], answer);
    match (hard, soft, case["pending"].as_str()) {
        (Some(h), _, _) => Verdict::Fail(h),
        (None, None, None) => Verdict::Pass,
        (None, None, Some(p)) => Verdict::PendingPasses(p.to_owned()),
        (None, Some(m), Some(p)) => Verdict::Pending(p.to_owned(), m),
        (None, Some(m), None) => Verdict::Fail(m),
    }
}

/// One line for the verbose listing: status and error code, or the HTTP/2 frames.
fn summary(a: &Answer) -> String {
    let body = a.json();
    match a.status {
        Some(st) => format!(
            "{st} {} {}",
            body["scimType"]
                .as_str()
                .or(body["Code"].as_str())
                .unwrap_or(""),
            body["error"].as_str().unwrap_or("")
        ),
        None => {
            let frames: Vec<String> = h2_frames(&a.bytes)
                .iter()
                .map(|f| match goaway_code(f).filter(|_| f.kind == 7) {
                    Some(code) => format!("GOAWAY({code})"),
                    None => format!("type{}", f.kind),
                })
                .collect();
            format!("closed={} frames={}", a.closed, frames.join(","))
        }
    }
}

/// A 5xx (HTTP/1.x status, HTTP/2 `:status` or GOAWAY INTERNAL_ERROR), which no case may get.
fn server_fault(a: &Answer) -> Option<String> {
    if let Some(st) = a.status.filter(|s| *s >= 500) {
        return Some(format!(
            "server error {st}: {}",
            String::from_utf8_lossy(&a.body)
        ));
    }
    if a.status.is_none() {
        let frames = h2_frames(&a.bytes);
        if frames
            .iter()
            .any(|f| f.kind == 7 && goaway_code(f) == Some(2))
        {
            return Some("HTTP/2 GOAWAY INTERNAL_ERROR".into());
        }
        if frames
            .iter()
            .any(|f| f.kind == 1 && h2_status_5xx(&f.payload))
        {
            return Some("HTTP/2 :status 5xx".into());
        }
    }
    None
}

/// What differs from `expect`, if anything.
fn mismatch(expect: &Value, a: &Answer) -> Option<String> {
    let mut wrong = Vec::new();
    if let Some(want) = expect["status"].as_u64()
        && a.status.map(u64::from) != Some(want)
    {
        wrong.push(format!("status {:?} (want {want})", a.status));
    }
    let body = a.json();
    let shape = expect["shape"].as_str().unwrap_or("none");
    match shape {
        "scim" => scim_shape(expect, a, &body, &mut wrong),
        "api" => api_shape(expect, &body, &mut wrong),
        "oauth" => {
            let got = body["error"].as_str();
            if got.is_none() || expect["error"].as_str().is_some_and(|e| Some(e) != got) {
                wrong.push(format!("oauth error {:?} (want {})", got, expect["error"]));
            }
        }
        "list" if body["schemas"][0] != LIST => wrong.push("not a ListResponse".into()),
        "html"
            if !a
                .header("content-type")
                .is_some_and(|c| c.starts_with("text/html")) =>
        {
            wrong.push(format!(
                "content-type {:?} (want text/html)",
                a.header("content-type")
            ));
        }
        "close" if !a.closed => wrong.push("connection left open".into()),
        "close" if a.status.is_some_and(|s| !(400..500).contains(&s)) => {
            wrong.push(format!("answered {:?} before closing", a.status));
        }
        "goaway" => goaway_shape(expect, a, &mut wrong),
        _ => {}
    }
    if wrong.is_empty() {
        return None;
    }
    Some(format!("{}: {:.300}", wrong.join(", "), shown_body(a)))
}

/// The body as a failure shows it, with any access token or AccessKey secret blanked out.
fn shown_body(a: &Answer) -> String {
    let mut body = a.json();
    let Some(o) = body.as_object_mut() else {
        return String::from_utf8_lossy(&a.body).into_owned();
    };
    for secret in ["access_token", "AccessKeySecret", "CredentialSecret"] {
        if let Some(v) = o.get_mut(secret) {
            *v = "(hidden)".into();
        }
    }
    body.to_string()
}

fn scim_shape(expect: &Value, a: &Answer, body: &Value, wrong: &mut Vec<String>) {
    if body["schemas"][0] != ERROR {
        wrong.push("not a SCIM error body".into());
        return;
    }
    if let Some(st) = a.status
        && body["status"].as_str().and_then(|s| s.parse::<u16>().ok()) != Some(st)
    {
        wrong.push(format!("body status {}", body["status"]));
    }
    if let Some(t) = expect["scimType"].as_str()
        && body["scimType"] != t
    {
        wrong.push(format!("scimType {} (want {t})", body["scimType"]));
    }
    if a.header("content-type") != Some(SCIM) {
        wrong.push(format!("content-type {:?}", a.header("content-type")));
    }
}

/// A GOAWAY, with the expected error code when the case names one (`h2_error`).
fn goaway_shape(expect: &Value, a: &Answer, wrong: &mut Vec<String>) {
    let codes: Vec<u32> = h2_frames(&a.bytes)
        .iter()
        .filter(|f| f.kind == 7)
        .filter_map(goaway_code)
        .collect();
    match (codes.first(), expect["h2_error"].as_u64()) {
        (None, _) => wrong.push(format!("no GOAWAY (closed: {})", a.closed)),
        (Some(got), Some(want)) if u64::from(*got) != want => {
            wrong.push(format!("GOAWAY error {got} (want {want})"));
        }
        _ => {}
    }
}

fn api_shape(expect: &Value, body: &Value, wrong: &mut Vec<String>) {
    for field in ["RequestId", "Code", "Message"] {
        if body[field].as_str().is_none_or(str::is_empty) {
            wrong.push(format!("no {field}"));
        }
    }
    if let Some(code) = expect["code"].as_str()
        && body["Code"] != code
    {
        wrong.push(format!("Code {} (want {code})", body["Code"]));
    }
    if let Some(code) = expect["code_not"].as_str()
        && body["Code"] == code
    {
        wrong.push(format!("Code {code}"));
    }
}

// ---- Building requests. ----

/// An HTTP/1.1 request with `Connection: close`; `Host` and `Content-Length` unless given.
fn request_bytes(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    let has = |n: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has("host") {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has("content-length") && !has("transfer-encoding") && (!body.is_empty() || method != "GET")
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

fn http_bytes(fx: &Fixture, case: &Value) -> Vec<u8> {
    let headers = fx.fill_pairs(&case["headers"]);
    let body = match (case["body"].as_str(), case["body_b64"].as_str()) {
        (Some(b), _) => fx.fill(b).into_bytes(),
        (None, Some(b)) => b64(b),
        (None, None) => Vec::new(),
    };
    let method = case["method"].as_str().unwrap();
    request_bytes(
        &fx.addr,
        method,
        &fx.fill(case["path"].as_str().unwrap()),
        &headers,
        &body,
    )
}

fn raw_bytes(fx: &Fixture, case: &Value) -> Vec<u8> {
    match (case["raw"].as_str(), case["raw_b64"].as_str()) {
        (Some(r), _) => fx.fill(r).into_bytes(),
        (None, Some(b)) => b64(b),
        (None, None) => Vec::new(),
    }
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// A signed API call with the case's `fault`; a `repeat` sends it twice and judges the second.
async fn api_exchange(fx: &Fixture, case: &Value) -> Result<Answer, String> {
    let fault = &case["fault"];
    let bytes = if case["style"] == "rpc" {
        rpc_request(fx, case, fault)?
    } else {
        acs3_request(fx, case, fault)?
    };
    if fault["repeat"] == true {
        let first = exchange(&fx.addr, &bytes, false, false).await;
        if first.status != Some(200) {
            return Err(format!(
                "the first of a repeated call answered {:?}",
                first.status
            ));
        }
    }
    Ok(exchange(&fx.addr, &bytes, false, false).await)
}

/// The key id and secret a case signs with.
fn signing_key(fx: &Fixture, fault: &Value) -> (String, String) {
    let id = fault["key_id"]
        .as_str()
        .map_or_else(|| fx.key.id.clone(), str::to_owned);
    let mut secret = fx.key.secret.clone();
    if fault["wrong_secret"] == true || fault["key_id"].is_string() {
        secret.push('x');
    }
    (id, secret)
}

fn date_and_nonce(fault: &Value) -> (String, String) {
    let date = fault["date"].as_str().map_or_else(
        || api_time(fault["date_offset"].as_i64().unwrap_or(0)),
        str::to_owned,
    );
    let nonce = fault["nonce"]
        .as_str()
        .map_or_else(new_nonce, str::to_owned);
    (date, nonce)
}

fn acs3_request(fx: &Fixture, case: &Value, fault: &Value) -> Result<Vec<u8>, String> {
    let params = fx.fill_pairs(&case["params"]);
    let (id, secret) = signing_key(fx, fault);
    let (date, nonce) = date_and_nonce(fault);
    let host = vec![("host".to_owned(), fx.addr.clone())];
    let mut headers = sign_acs3(&Acs3Request {
        access_key_id: &id,
        secret: &secret,
        method: "POST",
        action: &fx.fill(case["action"].as_str().unwrap_or("")),
        version: case["version"].as_str().unwrap_or(""),
        query: &params,
        headers: &host,
        body: b"",
        date: &date,
        nonce: &nonce,
    })
    .map_err(|e| format!("could not sign: {e}"))?;
    headers.extend(host);
    spoil_acs3_headers(fx, fault, &mut headers);
    if let Some(ct) = fault["content_type"].as_str() {
        headers.push(("content-type".to_owned(), ct.to_owned()));
    }
    // A `body` is sent as it is, after signing for none.
    let body = fault["body"].as_str().unwrap_or("").as_bytes();
    let target = format!("/?{}", query_string(&params));
    Ok(request_bytes(&fx.addr, "POST", &target, &headers, body))
}

/// The faults applied to signed ACS3 headers: the signature dropped, tampered or replaced,
/// headers changed or added after signing.
fn spoil_acs3_headers(fx: &Fixture, fault: &Value, headers: &mut Vec<(String, String)>) {
    if fault["drop_signature"] == true {
        headers.retain(|(k, _)| k != "authorization");
    }
    for (k, v) in headers.iter_mut() {
        if k == "authorization" && fault["tamper_signature"] == true {
            *v = flip_last(v);
        }
        if let (true, Some(a)) = (
            k == "authorization",
            fault["replace_authorization"].as_str(),
        ) {
            *v = fx.fill(a);
        }
    }
    for (k, v) in fx.fill_pairs(&fault["set_headers"]) {
        headers.retain(|(hk, _)| *hk != k);
        headers.push((k, v));
    }
    headers.extend(fx.fill_pairs(&fault["unsigned_headers"]));
}

fn rpc_request(fx: &Fixture, case: &Value, fault: &Value) -> Result<Vec<u8>, String> {
    let (id, secret) = signing_key(fx, fault);
    let (date, nonce) = date_and_nonce(fault);
    let mut all = pairs(&[
        ("Action", &fx.fill(case["action"].as_str().unwrap_or(""))),
        ("Version", case["version"].as_str().unwrap_or("")),
        ("Format", "JSON"),
        ("AccessKeyId", &id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", &nonce),
        ("Timestamp", &date),
    ]);
    all.extend(fx.fill_pairs(&case["params"]));
    for (k, v) in fx.fill_pairs(&fault["rpc_set"]) {
        all.retain(|(ak, _)| *ak != k);
        all.push((k, v));
    }
    drop_params(&mut all, &fault["rpc_drop"]);
    let signature =
        rpc_signature(&secret, "GET", &all).map_err(|e| format!("could not sign: {e}"))?;
    let signature = match fault["rpc_signature"].as_str() {
        Some(s) => s.to_owned(),
        None if fault["tamper_signature"] == true => flip_last(&signature),
        None => signature,
    };
    if fault["drop_signature"] != true {
        all.push(("Signature".to_owned(), signature));
    }
    let method = fault["method"].as_str().unwrap_or("GET");
    let target = format!("/?{}", query_string(&all));
    Ok(request_bytes(
        &fx.addr,
        method,
        &target,
        &fx.fill_pairs(&fault["unsigned_headers"]),
        b"",
    ))
}

fn drop_params(all: &mut Vec<(String, String)>, names: &Value) {
    for name in names.as_array().into_iter().flatten() {
        all.retain(|(k, _)| Some(k.as_str()) != name.as_str());
    }
}

/// The value with its last character replaced by a different one of the same kind.
fn flip_last(v: &str) -> String {
    let mut s = v.to_owned();
    let last = s.pop().unwrap_or('0');
    s.push(if last == '0' || last == 'A' { '1' } else { '0' });
    s
}

// ---- The wire. ----

/// Writes `bytes` while reading (a server that refuses early, e.g. a 431 before a 1 MB header
/// is all sent, has its answer read before the reset that follows), optionally closes the
/// write side, and reads until the server closes or (unless `until_closed`) one whole HTTP/1.x
/// answer has come. A connection the server already closed is not an error.
async fn exchange(addr: &str, bytes: &[u8], half_close: bool, until_closed: bool) -> Answer {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return Answer {
            closed: true,
            ..Answer::default()
        };
    };
    let (mut rd, mut wr) = stream.into_split();
    let bytes = bytes.to_vec();
    // The task hands the write half back, so it stays open (dropping it would close the
    // write side) until this exchange ends.
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&bytes).await;
        if half_close {
            let _ = wr.shutdown().await;
        }
        wr
    });
    let mut answer = Answer::default();
    let mut buf = vec![0u8; 16384];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => {
                answer.closed = true;
                break;
            }
            Ok(n) => answer.bytes.extend_from_slice(&buf[..n]),
        }
        if parse_http1(&mut answer) && !until_closed {
            break;
        }
    }
    parse_http1(&mut answer);
    writer.abort();
    answer
}

/// Fills status, headers and body from the bytes when they hold an HTTP/1.x answer; true once
/// the whole body (by `Content-Length`) is there.
fn parse_http1(a: &mut Answer) -> bool {
    if !a.bytes.starts_with(b"HTTP/1.") {
        return false;
    }
    let Some(end) = a.bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&a.bytes[..end]).into_owned();
    let mut lines = head.split("\r\n");
    a.status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok());
    a.headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    a.body = a.bytes[end + 4..].to_vec();
    match a
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(n) => {
            a.body.truncate(n);
            a.bytes.len() >= end + 4 + n
        }
        None => false,
    }
}

/// One HTTP/2 frame as the server sent it.
struct Frame {
    kind: u8,
    payload: Vec<u8>,
}

/// The frames in `bytes` (an HTTP/2 server sends no preface of its own, only frames).
fn h2_frames(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 9 {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        let kind = rest[3];
        let end = (9 + len).min(rest.len());
        out.push(Frame {
            kind,
            payload: rest[9..end].to_vec(),
        });
        rest = &rest[end..];
    }
    out
}

fn goaway_code(f: &Frame) -> Option<u32> {
    let b = f.payload.get(4..8)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether a HEADERS block starts with `:status 500` (static index 14) or a literal 5xx
/// status (indexed name 8 with a three-digit value starting with `5`).
fn h2_status_5xx(block: &[u8]) -> bool {
    match block {
        [0x8e, ..] => true,
        [first, 3, b'5', ..] if *first & 0x0f == 8 || *first == 0x48 => true,
        _ => false,
    }
}

type JudgeCase = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    bool,
    &'static str,
);

/// The judge on answers made up here: it fails what it must (a 5xx even when pending, a wrong
/// shape, a missing GOAWAY), so the corpus passing means something.
#[test]
fn the_judge_fails_what_it_must() {
    let scim = |status: u16, scim_type: &str| {
        let body =
            format!(r#"{{"schemas":["{ERROR}"],"status":"{status}","scimType":"{scim_type}"}}"#);
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {SCIM}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let empty =
        |status: u16| format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n").into_bytes();
    let goaway = |code: u8| {
        let mut b = vec![0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        b.push(code);
        b
    };
    let want_filter = r#"{"status": 400, "shape": "scim", "scimType": "invalidFilter"}"#;
    // (expectation, pending, bytes received, closed by the server, verdict)
    let cases: Vec<JudgeCase> = vec![
        (want_filter, None, scim(400, "invalidFilter"), false, "pass"),
        (want_filter, None, scim(400, "invalidValue"), false, "fail"),
        (
            want_filter,
            Some("finding 9"),
            scim(400, "invalidValue"),
            false,
            "pending",
        ),
        (
            want_filter,
            Some("finding 9"),
            scim(400, "invalidFilter"),
            false,
            "pending-passes",
        ),
        (want_filter, None, empty(400), false, "fail"),
        (want_filter, None, scim(500, "invalidFilter"), false, "fail"),
        (want_filter, Some("finding 9"), empty(503), false, "fail"),
        (
            r#"{"status": 500, "shape": "none"}"#,
            None,
            empty(500),
            false,
            "fail",
        ),
        (
            r#"{"status": 400, "shape": "api"}"#,
            None,
            empty(400),
            false,
            "fail",
        ),
        (r#"{"shape": "close"}"#, None, empty(400), false, "fail"),
        (r#"{"shape": "close"}"#, None, empty(400), true, "pass"),
        (r#"{"shape": "close"}"#, None, empty(502), true, "fail"),
        (
            r#"{"shape": "goaway", "h2_error": 1}"#,
            None,
            goaway(1),
            true,
            "pass",
        ),
        (
            r#"{"shape": "goaway", "h2_error": 6}"#,
            None,
            goaway(1),
            true,
            "fail",
        ),
        (r#"{"shape": "goaway"}"#, None, goaway(2), true, "fail"),
        (r#"{"shape": "goaway"}"#, None, Vec::new(), true, "fail"),
    ];
    for (i, (expect, pending, bytes, closed, want)) in cases.into_iter().enumerate() {
        let mut case =
            serde_json::json!({"expect": serde_json::from_str::<Value>(expect).unwrap()});
        if let Some(p) = pending {
            case["pending"] = p.into();
        }
        let mut answer = Answer {
            bytes,
            closed,
            ..Answer::default()
        };
        parse_http1(&mut answer);
        let got = match judge(&case, &answer) {
            Verdict::Pass => "pass",
            Verdict::Pending(..) => "pending",
            Verdict::PendingPasses(_) => "pending-passes",
            Verdict::Fail(_) => "fail",
        };
        assert_eq!(got, want, "case {i}: {expect} {pending:?}");
    }
}

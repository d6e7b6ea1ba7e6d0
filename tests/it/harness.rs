//! Starting and stopping a real server, and a small HTTP client over hyper.

use bytes::Bytes;
use cloudsso::api::signature::{Acs3Request, sign_acs3};
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const SCIM: &str = "application/scim+json";

pub struct Server {
    child: Child,
    pub addr: String,
    pub base: String,
    pub token: String,
    pub directory_id: String,
    pub data: PathBuf,
    /// Every line the server logged so far.
    pub logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _tmp: Option<tempfile::TempDir>,
    client: Client<HttpConnector, Full<Bytes>>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The `scimType` of an error body.
    pub fn scim_type(&self) -> Option<&str> {
        self.body.get("scimType").and_then(Value::as_str)
    }
    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("id in response").to_owned()
    }
}

impl Server {
    /// A server on a fresh data folder.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let mut s = Self::start_on(&data, args);
        s._tmp = Some(tmp);
        s
    }

    /// A server on an existing (or new) data folder; the caller keeps the folder.
    pub fn start_on(data: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cloudsso"))
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(data)
            .args(args)
            .env("CLOUDSSO_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cloudsso");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = logs.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent
                    && line.contains("cloudsso serving")
                    && let Some(addr) = line
                        .split("listen=")
                        .nth(1)
                        .and_then(|s| s.split_whitespace().next())
                {
                    let _ = tx.send(addr.to_owned());
                    sent = true;
                }
                if std::env::var_os("CLOUDSSO_TEST_LOG").is_some() {
                    eprintln!("[server] {line}");
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server did not start");
        let boot: Value =
            serde_json::from_slice(&std::fs::read(data.join("bootstrap.json")).unwrap()).unwrap();
        Server {
            child,
            base: format!("http://{addr}/scim/v2"),
            addr,
            token: boot["scim_token"].as_str().unwrap().to_owned(),
            directory_id: boot["directory_id"].as_str().unwrap().to_owned(),
            data: data.to_owned(),
            logs,
            _tmp: None,
            // Pooled connections are dropped well before the server's 5 s keep-alive idle
            // timeout closes them, so a slow test never reuses one the server is closing.
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build_http(),
        }
    }

    /// Sends SIGTERM and waits; returns whether the process exited with status 0.
    pub fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A POST that reports a refused or dropped connection as `None` instead of panicking.
    pub async fn try_post(&self, path: &str, body: Value) -> Option<StatusCode> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{}", self.base, path))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", SCIM)
            .body(Full::new(Bytes::from(serde_json::to_vec(&body).unwrap())))
            .unwrap();
        let resp = self.client.request(req).await.ok()?;
        let status = resp.status();
        resp.into_body().collect().await.ok()?;
        Some(status)
    }

    /// All log lines so far, joined.
    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// The log once it holds `needle` (lines are written by the server's log thread, a moment
    /// after the answer), or as it is after 10 s.
    pub async fn log_text_with(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let text = self.log_text();
            if text.contains(needle) || std::time::Instant::now() > deadline {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops and keeps the temporary folder alive for a restart.
    pub fn stop_keep(mut self) -> (bool, Option<tempfile::TempDir>) {
        let tmp = self._tmp.take();
        (self.stop(), tmp)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        self.try_send(method, path, headers, body)
            .await
            .expect("request")
    }

    /// `send` that reports a refused or dropped connection, or an answer cut short, as `None`
    /// (a server killed mid-request).
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Option<Reply> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.unwrap_or_default();
        note_secrets_of_body(&body);
        let req = req.body(Full::new(Bytes::from(body))).unwrap();
        let resp = self.client.request(req).await.ok()?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let raw = resp.into_body().collect().await.ok()?.to_bytes();
        note_secrets_of_body(&raw);
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw).unwrap_or(Value::Null)
        };
        Some(Reply {
            status,
            headers,
            body,
            raw,
        })
    }

    /// An authenticated SCIM request that reports a dropped connection as `None`.
    pub async fn try_call(&self, method: Method, path: &str, body: Option<Value>) -> Option<Reply> {
        let auth = format!("Bearer {}", self.token);
        let body = body.map(|b| serde_json::to_vec(&b).unwrap());
        let headers = [("authorization", auth.as_str()), ("content-type", SCIM)];
        self.try_send(method, path, &headers, body).await
    }

    /// An authenticated SCIM request with a JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.try_call(method, path, body).await.expect("request")
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a user and returns its id.
    pub async fn user(&self, user_name: &str) -> String {
        let r = self
            .post(
                "/Users",
                serde_json::json!({"schemas": [crate::harness::USER], "userName": user_name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.id()
    }

    /// Creates a group with members and returns its id.
    pub async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members
            .iter()
            .map(|m| serde_json::json!({"value": m}))
            .collect();
        let r = self
            .post(
                "/Groups",
                serde_json::json!({"schemas": [GROUP], "displayName": name, "members": members}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.id()
    }

    /// A PATCH with the PatchOp schema around `ops`.
    pub async fn patch_ops(&self, path: &str, ops: Value) -> Reply {
        self.patch(
            path,
            serde_json::json!({"schemas": [PATCH_OP], "Operations": ops}),
        )
        .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            self.check_trail();
        }
    }
}

/// Secrets the tests sent or were answered (SCIM and OAuth secrets and tokens, AccessKey
/// secrets, passwords): after every test's server stops, no audit record may hold one.
static SECRETS_SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
/// Shorter values under a secret's name (test passwords like "x") would match by chance.
const SECRET_CHARS_MIN: usize = 8;

pub fn note_secret(s: &str) {
    if s.len() >= SECRET_CHARS_MIN {
        SECRETS_SEEN.lock().unwrap().insert(s.to_owned());
    }
}

/// Notes every string held under a name that says secret, password or token.
fn note_secrets_in(v: &Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let k = k.to_ascii_lowercase();
                let secret = ["secret", "password", "token"]
                    .iter()
                    .any(|w| k.contains(w));
                if let (true, Some(s)) = (secret, x.as_str()) {
                    note_secret(s);
                }
                note_secrets_in(x);
            }
        }
        Value::Array(a) => a.iter().for_each(note_secrets_in),
        _ => {}
    }
}

/// Notes the secrets of a request or answer body: JSON, or a form's secret-named fields.
fn note_secrets_of_body(body: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return note_secrets_in(&v);
    }
    let text = String::from_utf8_lossy(body);
    for (k, v) in text.split('&').filter_map(|p| p.split_once('=')) {
        if ["secret", "password", "token"]
            .iter()
            .any(|w| k.contains(w))
        {
            note_secret(&form_decode(v));
        }
    }
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space).
pub fn form_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Server {
    /// The suite-wide audit check, on a stopped server's file: the chain is intact and no
    /// record holds a secret any test has seen. Skipped while another server holds the file.
    fn check_trail(&self) {
        let file = self.data.join(cloudsso::app::DB_FILE);
        if !file.is_file() {
            return;
        }
        let Ok(store) = cloudsso::store::Store::open(&file) else {
            return;
        };
        let txn = store.read().unwrap();
        let report = txn.verify_audit().unwrap();
        assert!(report.broken.is_none(), "audit chain broken: {report:?}");
        let mut secrets = SECRETS_SEEN.lock().unwrap().clone();
        secrets.insert(self.token.clone());
        if let Ok(boot) = std::fs::read(self.data.join("bootstrap.json")) {
            note_secrets_of_body(&boot);
            secrets.extend(SECRETS_SEEN.lock().unwrap().iter().cloned());
        }
        txn.audit_newest_first(None, |r| {
            let text = serde_json::to_string(&r.record).unwrap();
            let leaked = secrets.iter().find(|s| text.contains(s.as_str()));
            assert!(
                leaked.is_none(),
                "audit record {} holds a secret: {text}",
                r.seq
            );
            true
        })
        .unwrap();
    }
}

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Asserts a SCIM error body with status and scimType.
pub fn assert_error(r: &Reply, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_eq!(r.body["schemas"][0], ERROR, "body: {}", r.body);
    assert_eq!(r.body["status"], status.to_string(), "body: {}", r.body);
    assert_eq!(r.scim_type(), scim_type, "body: {}", r.body);
    assert_eq!(r.header("content-type"), Some(SCIM));
}

/// Percent-encodes a query value (RFC 3986, as the API signature code does).
pub fn enc(s: &str) -> String {
    cloudsso::api::signature::percent_encode(s)
}

// ---- The management API: signed requests (ACS3 and RPC), OAuth tokens. ----

/// The CloudSSO OpenAPI version and the RAM version of the administrator operations.
pub const SSO: &str = "2021-05-15";
pub const RAM: &str = "2015-05-01";

/// An AccessKey pair.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

/// Owned pairs from borrowed ones.
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `k=v&...`, both percent-encoded.
pub fn query_string(p: &[(String, String)]) -> String {
    p.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The time `offset_seconds` from now as the SDKs send it (`2026-11-23T12:00:00Z`).
pub fn api_time(offset_seconds: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_seconds);
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The query string of an RPC (HMAC-SHA1) `GET` signed `offset_s` seconds from now with this
/// `SignatureNonce`.
pub fn rpc_query(
    key: &Key,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    offset_s: i64,
    nonce: &str,
) -> String {
    let mut all = pairs(&[
        ("Action", action),
        ("Version", version),
        ("Format", "JSON"),
        ("AccessKeyId", &key.id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", &api_time(offset_s)),
    ]);
    all.extend(pairs(params));
    let signature = cloudsso::api::signature::rpc_signature(&key.secret, "GET", &all).unwrap();
    all.push(("Signature".to_owned(), signature));
    query_string(&all)
}

pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// One ACS3 call before signing, every part a test may want to vary.
#[derive(Debug, Clone)]
pub struct ApiCall {
    pub key: Key,
    pub version: String,
    pub action: String,
    pub params: Vec<(String, String)>,
    pub date: String,
    pub nonce: String,
}

impl ApiCall {
    /// A call signed now with a fresh nonce.
    pub fn new(key: &Key, version: &str, action: &str, params: &[(&str, &str)]) -> ApiCall {
        ApiCall {
            key: key.clone(),
            version: version.to_owned(),
            action: action.to_owned(),
            params: pairs(params),
            date: api_time(0),
            nonce: new_nonce(),
        }
    }
}

impl Server {
    /// `bootstrap.json`.
    pub fn bootstrap_doc(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.data.join("bootstrap.json")).unwrap()).unwrap()
    }

    /// The first administrator's AccessKey, from `bootstrap.json`.
    pub fn admin_key(&self) -> Key {
        let b = self.bootstrap_doc();
        Key {
            id: b["admin_access_key_id"].as_str().unwrap().to_owned(),
            secret: b["admin_access_key_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// A RAM administrator made by `root`, with these attached policies (type, name) and a
    /// new AccessKey.
    pub async fn admin_with(&self, root: &Key, name: &str, policies: &[(&str, &str)]) -> Key {
        self.api_ok(root, RAM, "CreateUser", &[("UserName", name)])
            .await;
        self.admin_key_for(root, name, policies).await
    }

    /// `admin_with` one system policy.
    pub async fn admin_system(&self, root: &Key, name: &str, policy: &str) -> Key {
        self.admin_with(root, name, &[("System", policy)]).await
    }

    /// Attaches these policies (type, name) to the existing administrator `name` and makes it
    /// an AccessKey.
    pub async fn admin_key_for(&self, root: &Key, name: &str, policies: &[(&str, &str)]) -> Key {
        for (kind, policy) in policies {
            let p = [
                ("UserName", name),
                ("PolicyName", *policy),
                ("PolicyType", *kind),
            ];
            self.api_ok(root, RAM, "AttachPolicyToUser", &p).await;
        }
        let k = self
            .api_ok(root, RAM, "CreateAccessKey", &[("UserName", name)])
            .await;
        let field = |f: &str| k["AccessKey"][f].as_str().unwrap_or_default().to_owned();
        Key {
            id: field("AccessKeyId"),
            secret: field("AccessKeySecret"),
        }
    }

    /// The headers of a signed ACS3 request (`host`, `x-acs-*`, `authorization`).
    pub fn sign(&self, call: &ApiCall) -> Vec<(String, String)> {
        let host = vec![("host".to_owned(), self.addr.clone())];
        let mut headers = sign_acs3(&Acs3Request {
            access_key_id: &call.key.id,
            secret: &call.key.secret,
            method: "POST",
            action: &call.action,
            version: &call.version,
            query: &call.params,
            headers: &host,
            body: b"",
            date: &call.date,
            nonce: &call.nonce,
        })
        .unwrap();
        headers.extend(host);
        headers
    }

    /// `method /?query` to the API endpoint with exactly these headers and no body.
    pub async fn api_raw(
        &self,
        method: Method,
        query: &str,
        headers: &[(String, String)],
    ) -> Reply {
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.send(method, &format!("http://{}/?{query}", self.addr), &h, None)
            .await
    }

    /// Sends a call signed as it is.
    pub async fn api_call(&self, call: &ApiCall) -> Reply {
        let headers = self.sign(call);
        self.api_raw(Method::POST, &query_string(&call.params), &headers)
            .await
    }

    /// A signed call, now, with a fresh nonce, that reports a dropped connection as `None`.
    pub async fn try_api(
        &self,
        key: &Key,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Option<Reply> {
        let call = ApiCall::new(key, version, action, params);
        let headers = self.sign(&call);
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = format!("http://{}/?{}", self.addr, query_string(&call.params));
        self.try_send(Method::POST, &url, &h, None).await
    }

    /// A signed call, now, with a fresh nonce.
    pub async fn api(
        &self,
        key: &Key,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Reply {
        self.api_call(&ApiCall::new(key, version, action, params))
            .await
    }

    /// A call that must succeed; its body.
    pub async fn api_ok(
        &self,
        key: &Key,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Value {
        let r = self.api(key, version, action, params).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
        assert!(r.body["RequestId"].is_string(), "{action}: {}", r.body);
        r.body
    }

    /// An RPC-style (HMAC-SHA1, `Signature` parameter) request: `GET /?...`.
    pub async fn api_rpc(
        &self,
        key: &Key,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Reply {
        self.api_rpc_at(key, version, action, params, 0, &new_nonce())
            .await
    }

    /// `api_rpc` signed `offset_s` seconds from now, with this `SignatureNonce`.
    pub async fn api_rpc_at(
        &self,
        key: &Key,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        offset_s: i64,
        nonce: &str,
    ) -> Reply {
        let query = rpc_query(key, version, action, params, offset_s, nonce);
        self.api_raw(Method::GET, &query, &[]).await
    }

    /// `POST /oauth2/token` with a form body and optional extra headers.
    pub async fn oauth_token(&self, form: &str, headers: &[(&str, &str)]) -> Reply {
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.send(
            Method::POST,
            &format!("http://{}/oauth2/token", self.addr),
            &h,
            Some(form.as_bytes().to_vec()),
        )
        .await
    }

    /// `GET /Users` with this bearer token; the status.
    pub async fn scim_status(&self, token: &str) -> StatusCode {
        self.scim_get(token).await.status
    }

    pub async fn scim_get(&self, token: &str) -> Reply {
        let auth = format!("Bearer {token}");
        self.send(Method::GET, "/Users", &[("authorization", &auth)], None)
            .await
    }
}

/// What is wrong with an API error answer, if anything: the status, the `Code`, and the
/// three fields every error body has.
pub fn fault_mismatch(r: &Reply, status: u16, code: &str) -> Option<String> {
    let mut wrong = Vec::new();
    if r.status.as_u16() != status {
        wrong.push(format!("status {} (want {status})", r.status));
    }
    if r.body["Code"] != code {
        wrong.push(format!("Code {} (want {code})", r.body["Code"]));
    }
    for field in ["RequestId", "Code", "Message"] {
        if r.body[field].as_str().is_none_or(str::is_empty) {
            wrong.push(format!("no {field}"));
        }
    }
    (!wrong.is_empty()).then(|| format!("{}: {}", wrong.join(", "), r.body))
}

pub fn assert_fault(r: &Reply, status: u16, code: &str) {
    if let Some(m) = fault_mismatch(r, status, code) {
        panic!("{m}");
    }
}

/// The management API through the library (`Api::handle`, no HTTP) over a real redb file, with
/// a directory and the first administrator's AccessKey, built by the composition root.
pub struct LibApi {
    pub app: cloudsso::app::App,
    pub dir: cloudsso::directory::Directory,
    pub directory_id: String,
    pub key: (String, String),
    _tmp: tempfile::TempDir,
}

impl LibApi {
    pub async fn start() -> LibApi {
        let tmp = tempfile::tempdir().unwrap();
        let options = cloudsso::app::Options {
            public_url: "http://x".into(),
            ..Default::default()
        };
        let (app, _thread) = cloudsso::app::App::open(
            &tmp.path().join("data"),
            cloudsso::config::Limits::default(),
            options,
        )
        .await
        .unwrap();
        let dir = app.directory.clone();
        let directory_id = dir
            .bootstrap("d-libapi00000000".into(), "scim-secret".into())
            .await
            .unwrap()
            .unwrap()
            .directory_id
            .to_string();
        let key = cloudsso::iam::new_access_key_pair();
        assert!(
            app.iam
                .bootstrap_admin(key.0.clone(), key.1.clone())
                .await
                .unwrap()
        );
        LibApi {
            app,
            dir,
            directory_id,
            key,
            _tmp: tmp,
        }
    }

    /// A signed call with the first administrator's key: (status, body).
    pub async fn call(&self, version: &str, action: &str, params: &[(&str, &str)]) -> (u16, Value) {
        self.call_as(&self.key, version, action, params).await
    }

    /// A signed call with `key`.
    pub async fn call_as(
        &self,
        key: &(String, String),
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> (u16, Value) {
        self.call_with_headers(key, version, action, params, &[])
            .await
    }

    /// A signed call with `key` and `extra` headers, signed too (a SecurityToken's).
    pub async fn call_with_headers(
        &self,
        key: &(String, String),
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let query = pairs(params);
        let mut host = vec![("host".to_owned(), "127.0.0.1:1".to_owned())];
        host.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let signed = sign_acs3(&Acs3Request {
            access_key_id: &key.0,
            secret: &key.1,
            method: "POST",
            action,
            version,
            query: &query,
            headers: &host,
            body: b"",
            date: &api_time(0),
            nonce: &new_nonce(),
        })
        .unwrap();
        let mut headers = host;
        headers.extend(signed);
        let answer = self
            .app
            .api
            .handle(cloudsso::api::ApiRequest {
                method: "POST".into(),
                path: "/".into(),
                query,
                form: Vec::new(),
                headers,
                body: Vec::new(),
                source_ip: "127.0.0.1".into(),
                request_id: "in-process".into(),
            })
            .await;
        (answer.status, answer.body)
    }
}

/// The SDK venv's Python (`conformance/api/run-sdk.sh`) when it can import `module`; `None`
/// (with a notice) otherwise, unless `CLOUDSSO_REQUIRE_SDK=1`.
pub fn sdk_python_with(module: &str) -> Option<std::path::PathBuf> {
    let python =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/.venv-sdk/bin/python");
    let has = python.exists()
        && std::process::Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .status()
            .is_ok_and(|s| s.success());
    if has {
        return Some(python);
    }
    assert!(
        std::env::var("CLOUDSSO_REQUIRE_SDK").as_deref() != Ok("1"),
        "CLOUDSSO_REQUIRE_SDK=1 but conformance/.venv-sdk has no {module} (run conformance/api/run-sdk.sh)"
    );
    eprintln!(
        "NOTICE: {module} is not installed (conformance/api/run-sdk.sh): its check is skipped"
    );
    None
}

/// The venv's Python when it has boto3.
pub fn boto3_python() -> Option<std::path::PathBuf> {
    sdk_python_with("boto3")
}

/// Runs a check script (`conformance/api/*_check.py`) with `python`, printing what it printed;
/// panics with its output unless it exits 0.
pub async fn run_python_check(
    python: std::path::PathBuf,
    script: std::path::PathBuf,
    args: Vec<String>,
) {
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

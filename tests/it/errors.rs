//! Points 3, 11, 12: routing errors, authentication, every error body.

use crate::harness::*;
use cloudsso::config::Limits;
use cloudsso::directory::CredentialOptions;
use cloudsso::model::DirectoryId;
use hyper::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn unknown_paths_and_wrong_methods() {
    let s = Server::start();
    let cases: Vec<(Method, &str, u16)> = vec![
        (Method::GET, "/Devices", 404),
        (Method::GET, "/Users/a/b", 404),
        (Method::GET, "/Users/does-not-exist", 404),
        (Method::DELETE, "/Groups/does-not-exist", 404),
        (Method::GET, "/Schemas/urn:nope", 404),
        (Method::GET, "/ResourceTypes/Device", 404),
        (Method::DELETE, "/Users", 405),
        (Method::PUT, "/Groups", 405),
        (Method::POST, "/Users/some-id", 405),
        (Method::GET, "/Users/.search", 405),
        (Method::GET, "/.search", 405),
        (Method::POST, "/ServiceProviderConfig", 405),
        (Method::DELETE, "/Schemas", 405),
        (Method::PATCH, "/ResourceTypes", 405),
    ];
    for (m, path, status) in cases {
        let r = s.call(m.clone(), path, Some(json!({}))).await;
        assert_error(&r, status, None);
    }
    let r = s
        .send(
            Method::GET,
            &format!("http://{}/nothing-here", s.addr),
            &[],
            None,
        )
        .await;
    assert_error(&r, 404, None);
}

#[tokio::test]
async fn authentication() {
    let s = Server::start();
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("authorization", "Bearer")],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", "Basic dXNlcjpwYXNz")],
        vec![("authorization", "")],
    ];
    for headers in cases {
        for path in ["/Users", "/Groups", "/Users/x"] {
            let r = s.send(Method::GET, path, &headers, None).await;
            assert_error(&r, 401, None);
            assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        }
    }
    // Discovery is open, as Alibaba CloudSSO serves it.
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"] {
        assert_eq!(
            s.send(Method::GET, path, &[], None).await.status,
            StatusCode::OK
        );
    }
    // The scheme is case-insensitive.
    let lower = format!("bearer {}", s.token);
    assert_eq!(
        s.send(Method::GET, "/Users", &[("authorization", &lower)], None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn credentials_decide_the_directory_and_disabled_ones_are_refused() {
    let s = Server::start();
    let mine = s.user("alice").await;
    let data = s.data.clone();
    let (_, tmp) = s.stop_keep();
    // A second directory with its own credential, made through the library while stopped.
    let (other_token, disabled_token, expired_token) = {
        let options = cloudsso::app::Options::default();
        let (app, thread) = cloudsso::app::App::open(&data, Limits::default(), options)
            .await
            .unwrap();
        let d = app.directory.clone();
        let other = DirectoryId::new(d.create_directory("other").await.unwrap().id);
        let opts = CredentialOptions::default;
        let cred = d.create_credential(&other, opts()).await.unwrap();
        let off = d.create_credential(&other, opts()).await.unwrap();
        d.set_credential_status(&off.credential_id, false)
            .await
            .unwrap();
        // At most two per directory: the expired one lives in a third directory.
        let third = DirectoryId::new(d.create_directory("third").await.unwrap().id);
        let old = d.create_credential(&third, opts()).await.unwrap();
        d.set_credential_expiry(&old.credential_id, 1_000_000)
            .await
            .unwrap();
        drop((d, app));
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .unwrap();
        (cred.secret, off.secret, old.secret)
    };
    let s = Server::start_on(&data, &[]);
    let other = |p: &str| {
        let auth = format!("Bearer {other_token}");
        let p = p.to_owned();
        let s = &s;
        async move {
            s.send(Method::GET, &p, &[("authorization", &auth)], None)
                .await
        }
    };
    let list = other("/Users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["totalResults"], 0,
        "never sees another directory's users"
    );
    assert_error(&other(&format!("/Users/{mine}")).await, 404, None);
    // The same userName is free in the other directory.
    let auth = format!("Bearer {other_token}");
    let body = serde_json::to_vec(&json!({"userName": "alice"})).unwrap();
    let r = s
        .send(
            Method::POST,
            "/Users",
            &[("authorization", &auth), ("content-type", SCIM)],
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for token in [disabled_token, expired_token] {
        let auth = format!("Bearer {token}");
        let r = s
            .send(Method::GET, "/Users", &[("authorization", &auth)], None)
            .await;
        assert_error(&r, 401, None);
    }
    drop(s);
    drop(tmp);
}

#[tokio::test]
async fn body_errors() {
    let s = Server::start_with(&["--body-bytes-max", "2048", "--string-chars-max", "2048"]);
    let auth = format!("Bearer {}", s.token);
    let send = |ct: &'static str, body: Vec<u8>| {
        let auth = auth.clone();
        let s = &s;
        async move {
            s.send(
                Method::POST,
                "/Users",
                &[("authorization", &auth), ("content-type", ct)],
                Some(body),
            )
            .await
        }
    };
    assert_error(
        &send(SCIM, b"{not json".to_vec()).await,
        400,
        Some("invalidSyntax"),
    );
    assert_error(&send(SCIM, b"".to_vec()).await, 400, Some("invalidSyntax"));
    assert_error(
        &send(SCIM, b"[1,2]".to_vec()).await,
        400,
        Some("invalidSyntax"),
    );
    assert_error(&send("text/plain", b"{}".to_vec()).await, 415, None);
    assert_error(&send("application/xml", b"<a/>".to_vec()).await, 415, None);
    // application/json with a charset is fine.
    let ok = send(
        "application/json; charset=utf-8",
        serde_json::to_vec(&json!({"userName": "j"})).unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    // The body limit, on both sides of it.
    let pad = |n: usize| {
        let base = serde_json::to_vec(&json!({"userName": "big", "title": ""})).unwrap();
        let title = "x".repeat(n - base.len());
        serde_json::to_vec(&json!({"userName": "big", "title": title})).unwrap()
    };
    let at = pad(2048);
    assert_eq!(at.len(), 2048);
    assert_eq!(send(SCIM, at).await.status, StatusCode::CREATED);
    let over = pad(2049);
    assert_eq!(over.len(), 2049);
    assert_error(&send(SCIM, over).await, 413, None);
    // Nothing a client sends produces a 500.
    for garbage in [
        "null",
        "\"x\"",
        "1e999999",
        "{\"userName\": 5}",
        "{\"userName\": null}",
        "{\"emails\": 5, \"userName\": \"q\"}",
    ] {
        let r = send(SCIM, garbage.as_bytes().to_vec()).await;
        assert!(r.status.is_client_error(), "{garbage}: {}", r.status);
        assert_eq!(r.body["schemas"][0], ERROR);
    }
}

#[tokio::test]
async fn conflict_and_preconditions() {
    let s = Server::start();
    let id = s.user("Dup").await;
    assert_error(
        &s.post("/Users", json!({"userName": "dup"})).await,
        409,
        Some("uniqueness"),
    );
    assert_error(
        &s.post("/Users", json!({"userName": "DUP"})).await,
        409,
        Some("uniqueness"),
    );
    assert_error(
        &s.post("/Users", json!({})).await,
        400,
        Some("invalidValue"),
    );
    let auth = format!("Bearer {}", s.token);
    let put = serde_json::to_vec(&json!({"userName": "Dup", "title": "t"})).unwrap();
    let r = s
        .send(
            Method::PUT,
            &format!("/Users/{id}"),
            &[
                ("authorization", &auth),
                ("content-type", SCIM),
                ("if-match", "W/\"999999\""),
            ],
            Some(put.clone()),
        )
        .await;
    assert_error(&r, 412, None);
    let r = s
        .send(
            Method::DELETE,
            &format!("/Users/{id}"),
            &[("authorization", &auth), ("if-match", "W/\"999999\"")],
            None,
        )
        .await;
    assert_error(&r, 412, None);
    let patch = serde_json::to_vec(&json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "x"}]})).unwrap();
    let r = s
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            &[
                ("authorization", &auth),
                ("content-type", SCIM),
                ("if-match", "W/\"999999\""),
            ],
            Some(patch),
        )
        .await;
    assert_error(&r, 412, None);
    let etag = s
        .get(&format!("/Users/{id}"))
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let r = s
        .send(
            Method::PUT,
            &format!("/Users/{id}"),
            &[
                ("authorization", &auth),
                ("content-type", SCIM),
                ("if-match", &etag),
            ],
            Some(put),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(
        r.header("etag").unwrap(),
        etag,
        "version changes on every write"
    );
}

/// Garbage of every shape at every endpoint: always a SCIM error body or a success, never a
/// 5xx, and the server keeps serving.
#[tokio::test]
async fn garbage_never_produces_a_server_error() {
    let s = Server::start();
    let u = s.user("victim").await;
    let g = s.group("victims", &[&u]).await;
    let deep_json = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let deep_obj = format!(
        "{}{}",
        "{\"a\":".repeat(3000),
        "1".to_owned() + &"}".repeat(3000)
    );
    let bodies: Vec<String> = vec![
        "".into(), "null".into(), "true".into(), "[]".into(), "{}".into(), "\"s\"".into(), "1".into(),
        deep_json, deep_obj, "{\"schemas\": 5}".into(), "{\"Operations\": 5}".into(),
        "{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"], \"Operations\": [1, \"x\", null, {}]}".into(),
        "{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"], \"Operations\": [{\"op\": \"add\", \"path\": \"members\", \"value\": {\"value\": []}}]}".into(),
        "{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"], \"Operations\": [{\"op\": \"replace\", \"path\": \"emails[type eq \\\"work\\\"].value\", \"value\": {\"x\": 1}}]}".into(),
        "{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"], \"Operations\": [{\"op\": \"remove\", \"path\": \"members[display co \\\"x\\\"]\"}]}".into(),
        "{\"userName\": \"\\u0000\"}".into(), "{\"userName\": \"x\", \"emails\": [[]]}".into(),
        "{\"userName\": \"y\", \"name\": {\"givenName\": {\"deep\": 1}}}".into(),
        "{\"displayName\": \"z\", \"members\": [{\"value\": \"\"}]}".into(),
        "{\"displayName\": \"z\", \"members\": \"everyone\"}".into(),
        "{\"filter\": \"((((\", \"count\": -1, \"startIndex\": \"x\"}".into(),
        "{\"filter\": 5}".into(), "{\"attributes\": [1, 2]}".into(),
        String::from_utf8_lossy(&[0xff, 0xfe, 0xfd]).into_owned(),
    ];
    let paths = [
        "/Users".to_owned(),
        format!("/Users/{u}"),
        "/Groups".to_owned(),
        format!("/Groups/{g}"),
        "/Users/.search".to_owned(),
        "/.search".to_owned(),
        "/Groups/.search".to_owned(),
    ];
    let auth = format!("Bearer {}", s.token);
    let mut bad = Vec::new();
    for path in &paths {
        for method in [Method::POST, Method::PUT, Method::PATCH] {
            for body in &bodies {
                let r = s
                    .send(
                        method.clone(),
                        path,
                        &[("authorization", &auth), ("content-type", SCIM)],
                        Some(body.clone().into_bytes()),
                    )
                    .await;
                if r.status.is_server_error() {
                    bad.push(format!(
                        "{method} {path} {:.80}: {} {}",
                        body, r.status, r.body
                    ));
                }
            }
        }
    }
    let queries = [
        "filter=%ff%fe",
        "filter=userName%20eq%20%22%ff%22",
        "count=99999999999999999999",
        "startIndex=-99999999999999",
        "sortBy=%5B%5D",
        "sortBy=emails.value&sortOrder=sideways",
        "attributes=,,,,",
        "excludedAttributes=urn:",
        "filter=emails%5Bvalue%20eq%20%22a%22%5D%5Bx%5D",
        "filter=not%20not%20not",
    ];
    for q in queries {
        for path in ["/Users", "/Groups"] {
            let r = s.get(&format!("{path}?{q}")).await;
            if r.status.is_server_error() {
                bad.push(format!("GET {path}?{q}: {} {}", r.status, r.body));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(
        s.get(&format!("/Users/{u}")).await.status,
        StatusCode::OK,
        "still serving"
    );
}

#[tokio::test]
async fn limits_have_environment_twins() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cloudsso"));
    cmd.arg("serve")
        .env("CLOUDSSO_LISTEN", "127.0.0.1:0")
        .env("CLOUDSSO_DATA", tmp.path())
        .env("CLOUDSSO_PAGE_SIZE_MAX", "7")
        .env("CLOUDSSO_PUBLIC_URL", "https://sso.example.com/")
        .stderr(std::process::Stdio::piped());
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = KillOnDrop(cmd.spawn().unwrap());
    // Read only up to the address, then close the pipe: a closed stderr must not break serving.
    let stderr = child.0.stderr.take().unwrap();
    let mut addr = None;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
        let line = line.unwrap();
        if let Some(rest) = line.split("listen=").nth(1) {
            addr = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    let addr = addr.unwrap();
    let boot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("bootstrap.json")).unwrap()).unwrap();
    assert_eq!(boot["scim_base_url"], "https://sso.example.com/scim/v2");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let resp = client
        .get(
            format!("http://{addr}/scim/v2/ServiceProviderConfig")
                .parse()
                .unwrap(),
        )
        .await
        .unwrap();
    use http_body_util::BodyExt;
    let body: serde_json::Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["filter"]["maxResults"], 7);
    assert_eq!(
        body["meta"]["location"],
        "https://sso.example.com/scim/v2/ServiceProviderConfig"
    );
    drop(child);
}

/// Every answer carries `x-request-id`: the client's when it sent one sane id, else a new one;
/// the management API answers the same id as `RequestId`.
#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let s = Server::start();
    let auth = format!("Bearer {}", s.token);
    let over = "r".repeat(129);
    type Sent<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Sent, Option<&str>)] = &[
        (&[("x-request-id", "trace-1.a_b:c")], Some("trace-1.a_b:c")),
        (&[("x-request-id", "two words")], None),
        (&[("x-request-id", over.as_str())], None),
        (&[("x-request-id", "a"), ("x-request-id", "b")], None),
        (&[], None),
    ];
    for (sent, kept) in cases {
        let mut headers = sent.to_vec();
        headers.push(("authorization", auth.as_str()));
        let r = s.send(Method::GET, "/Users", &headers, None).await;
        assert_eq!(r.status, StatusCode::OK);
        let id = r.header("x-request-id").expect("x-request-id");
        match kept {
            Some(k) => assert_eq!(id, *k),
            None => assert_eq!((id.len(), id.to_uppercase() == id), (36, true), "{id}"),
        }
    }
    let call = ApiCall::new(&s.admin_key(), SSO, "ListDirectories", &[]);
    let mut headers = s.sign(&call);
    headers.push(("x-request-id".into(), "api-trace-7".into()));
    let r = s
        .api_raw(Method::POST, &query_string(&call.params), &headers)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("x-request-id"), Some("api-trace-7"));
    assert_eq!(r.body["RequestId"], "api-trace-7");
}

//! Point 1 (binary, HTTP/1.1 + HTTP/2, graceful shutdown), point 2 (first start), point 10
//! (durability across restarts, outbox), point 13 (logs).

use crate::harness::*;
use cloudsso::store::Store;
use hyper::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn first_start_writes_bootstrap_once_with_mode_0600() {
    let s = Server::start();
    let path = s.data.join("bootstrap.json");
    let before = std::fs::read(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert!(doc["directory_id"].as_str().unwrap().starts_with("d-"));
    assert_eq!(doc["directory_id"], s.directory_id.as_str());
    assert_eq!(doc["scim_base_url"], s.base.as_str());
    assert!(
        doc["scim_token"].as_str().unwrap().len() >= 43,
        "256-bit token"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let logs = s.log_text();
    assert!(logs.contains("bootstrap.json"), "logs where the file is");
    assert!(!logs.contains(&s.token), "never logs the secret");
    let data = s.data.clone();
    let (ok, tmp) = s.stop_keep();
    assert!(ok, "exit 0 after SIGTERM");
    let s2 = Server::start_on(&data, &[]);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a later start never rewrites it"
    );
    assert_eq!(
        s2.get("/Users").await.status,
        StatusCode::OK,
        "the same token still works"
    );
    drop(tmp);
}

#[tokio::test]
async fn restart_keeps_every_acknowledged_write_and_its_event() {
    let s = Server::start();
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(s.user(&format!("user{i}")).await);
    }
    let g = s.group("team", &[&ids[0], &ids[1]]).await;
    let r = s
        .patch_ops(
            &format!("/Users/{}", ids[2]),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        s.delete(&format!("/Users/{}", ids[3])).await.status,
        StatusCode::NO_CONTENT
    );
    let data = s.data.clone();
    let (ok, tmp) = s.stop_keep();
    assert!(ok);

    // The outbox, read straight from the redb file.
    {
        let store = Store::open(&data.join("cloudsso.redb")).unwrap();
        let events = store.read().unwrap().events_after(0, 10_000).unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "monotonic");
        for id in &ids {
            assert!(
                events
                    .iter()
                    .any(|e| &e.id == id && e.kind == cloudsso::model::ChangeKind::Created)
            );
        }
        let added = events
            .iter()
            .find(|e| e.id == g && e.kind == cloudsso::model::ChangeKind::MembersAdded)
            .expect("membership event");
        assert_eq!(added.members.len(), 2);
        assert!(
            events
                .iter()
                .any(|e| e.id == ids[2] && e.kind == cloudsso::model::ChangeKind::Updated)
        );
        assert!(
            events
                .iter()
                .any(|e| e.id == ids[3] && e.kind == cloudsso::model::ChangeKind::Deleted)
        );
    }

    let s = Server::start_on(&data, &[]);
    let list = s.get("/Users?count=1000").await;
    assert_eq!(list.body["totalResults"], 19);
    let u2 = s.get(&format!("/Users/{}", ids[2])).await;
    assert_eq!(u2.body["active"], false);
    assert_eq!(
        s.get(&format!("/Users/{}", ids[3])).await.status,
        StatusCode::NOT_FOUND
    );
    let grp = s.get(&format!("/Groups/{g}")).await;
    assert_eq!(grp.body["members"].as_array().unwrap().len(), 2);
    drop(s);
    drop(tmp);
}

#[tokio::test]
async fn serves_http2_with_prior_knowledge() {
    let s = Server::start();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let req = hyper::Request::builder()
        .method(Method::GET)
        .uri(format!("{}/ServiceProviderConfig", s.base))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let s = Server::start();
    let data = s.data.clone();
    let pid = s.pid();
    let s = std::sync::Arc::new(s);
    let mut tasks = Vec::new();
    for i in 0..48 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("inflight{i}");
            let r = s.try_post("/Users", json!({"userName": name})).await;
            (name, r)
        }));
    }
    // SIGTERM while the writes are in flight.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let mut acknowledged = Vec::new();
    for t in tasks {
        let (name, r) = t.await.unwrap();
        if let Some(status) = r {
            // A request the server took is finished, never cut off with a 5xx.
            assert!(status == StatusCode::CREATED, "{name}: {status}");
            acknowledged.push(name);
        }
    }
    let s = std::sync::Arc::into_inner(s).unwrap();
    let (ok, tmp) = s.stop_keep();
    assert!(ok, "exit 0");
    let s = Server::start_on(&data, &[]);
    for name in &acknowledged {
        let r = s
            .get(&format!(
                "/Users?filter={}",
                enc(&format!("userName eq \"{name}\""))
            ))
            .await;
        assert_eq!(r.body["totalResults"], 1, "acknowledged `{name}` was lost");
    }
    drop(s);
    drop(tmp);
}

#[tokio::test]
async fn passwords_and_tokens_never_logged() {
    let s = Server::start();
    let r = s
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "pw", "password": "Sup3r-Secret-Pass!"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.body.get("password").is_none(), "never returned");
    let bad = s
        .send(
            Method::GET,
            "/Users",
            &[("authorization", "Bearer not-a-real-token-zzz")],
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    // The 401 was answered last: once its line is there, every earlier line is too.
    let logs = s.log_text_with("status=401").await;
    assert!(logs.contains("status=201"), "a line per request");
    assert!(logs.contains("status=401"), "a line per request");
    for secret in [
        "Sup3r-Secret-Pass!",
        s.token.as_str(),
        "not-a-real-token-zzz",
    ] {
        assert!(!logs.contains(secret), "`{secret}` leaked into logs");
    }
}

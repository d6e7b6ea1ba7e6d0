//! Every limit on both sides of it (those not covered next to their feature), and the secrets
//! that must never reach a document.

use crate::harness::*;
use hyper::StatusCode;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[tokio::test]
async fn passwords_in_any_spelling_never_reach_the_database() {
    let s = Server::start();
    let secrets = [
        "Urn-Spelled-1!",
        "Nested-Spelled-2!",
        "Patched-Spelled-3!",
        "Put-Spelled-4!",
    ];
    let r = s
        .post(
            "/Users",
            json!({"userName": "a", format!("{USER}:password"): secrets[0]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.id();
    let r = s
        .post(
            "/Users",
            json!({"userName": "b", USER: {"password": secrets[1]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = s
        .patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {format!("{USER}:password"): secrets[2]}}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("password").is_none());
    let r = s
        .put(
            &format!("/Users/{id}"),
            json!({"userName": "a", "password": secrets[3]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_error(
        &s.get(&format!(
            "/Users?filter={}",
            enc(&format!("password eq \"{}\"", secrets[0]))
        ))
        .await,
        400,
        Some("invalidFilter"),
    );
    assert_error(
        &s.get(&format!("/Users?filter={}", enc("password pr")))
            .await,
        400,
        Some("invalidFilter"),
    );
    assert_error(
        &s.patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "password", "value": ""}]),
        )
        .await,
        400,
        Some("invalidValue"),
    );
    let data = s.data.clone();
    let (ok, tmp) = s.stop_keep();
    assert!(ok);
    let bytes = std::fs::read(data.join("cloudsso.redb")).unwrap();
    for secret in secrets {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "`{secret}` is in the database file"
        );
    }
    let hashes = bytes.windows(9).filter(|w| w == b"$argon2id").count();
    assert!(hashes >= 2, "argon2 hashes are stored ({hashes})");
    drop(tmp);
}

#[tokio::test]
async fn attribute_values_limit_on_both_sides() {
    let s = Server::start_with(&["--attribute-values-max", "3"]);
    let emails = |n: usize| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| json!({"value": format!("e{i}@x.com")}))
            .collect()
    };
    assert_eq!(
        s.post("/Users", json!({"userName": "at", "emails": emails(3)}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_error(
        &s.post("/Users", json!({"userName": "over", "emails": emails(4)}))
            .await,
        400,
        Some("invalidValue"),
    );
    let id = s.user("p").await;
    let r = s
        .patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "add", "path": "emails", "value": emails(3)}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = s
        .patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "add", "path": "emails", "value": emails(4)}]),
        )
        .await;
    assert_error(&r, 400, Some("invalidValue"));
    // Group members are rows, bounded by the body size, not by this limit.
    let mut members = Vec::new();
    for i in 0..5 {
        members.push(s.user(&format!("m{i}")).await);
    }
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let g = s.group("many", &refs).await;
    let r = s.patch_ops(&format!("/Groups/{g}"), json!([{"op": "remove", "path": "members", "value": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()}])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn attribute_paths_limit_on_both_sides() {
    let s = Server::start_with(&["--attribute-paths-max", "2"]);
    s.user("x").await;
    assert_eq!(
        s.get("/Users?attributes=userName,title").await.status,
        StatusCode::OK
    );
    assert_error(
        &s.get("/Users?attributes=userName,title,name").await,
        400,
        Some("invalidValue"),
    );
    assert_error(
        &s.get("/Users?excludedAttributes=a,b,c").await,
        400,
        Some("invalidValue"),
    );
    let r = s
        .post("/Users/.search", json!({"attributes": ["a", "b", "c"]}))
        .await;
    assert_error(&r, 400, Some("invalidValue"));
    assert_eq!(
        s.post("/Users/.search", json!({"attributes": ["a", "b"]}))
            .await
            .status,
        StatusCode::OK
    );
}

/// Sends raw bytes on a new connection and returns what came back before `wait` ran out.
fn raw_exchange(addr: &str, bytes: &[u8], wait: Duration) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(wait)).unwrap();
    c.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_slow_body_is_408_and_a_prompt_one_is_served() {
    let s = Server::start_with(&["--request-read-timeout-ms", "300"]);
    let addr = s.addr.clone();
    let token = s.token.clone();
    let slow = tokio::task::spawn_blocking(move || {
        let head = format!(
            "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{\"userName\""
        );
        raw_exchange(&addr, head.as_bytes(), Duration::from_secs(5))
    })
    .await
    .unwrap();
    assert!(slow.starts_with("HTTP/1.1 408"), "{slow}");
    assert!(slow.contains("urn:ietf:params:scim:api:messages:2.0:Error"));
    assert_eq!(
        s.post("/Users", json!({"userName": "prompt"})).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn connections_limit_on_both_sides() {
    let s = Server::start_with(&["--connections-max", "1"]);
    let addr = s.addr.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let get = b"GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\n\r\n";
        // One connection, at the limit: served, and kept open.
        let mut first = TcpStream::connect(&addr).unwrap();
        first
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        first.write_all(get).unwrap();
        let mut buf = [0u8; 64];
        let n = first.read(&mut buf).unwrap();
        let first_status = String::from_utf8_lossy(&buf[..n]).into_owned();
        // A second one, past the limit, waits while the first is open...
        let mut second = TcpStream::connect(&addr).unwrap();
        second
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        second.write_all(get).unwrap();
        let waited = second.read(&mut buf).is_err();
        // ...and is served once the first goes.
        drop(first);
        second
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = second.read(&mut buf).unwrap();
        (
            first_status,
            waited,
            String::from_utf8_lossy(&buf[..n]).into_owned(),
        )
    })
    .await
    .unwrap();
    assert!(outcome.0.starts_with("HTTP/1.1 200"), "{}", outcome.0);
    assert!(
        outcome.1,
        "the second connection was served while the first was open"
    );
    assert!(outcome.2.starts_with("HTTP/1.1 200"), "{}", outcome.2);
}

#[tokio::test]
async fn password_hashing_at_its_concurrency_limit_still_serves_everyone() {
    let s = std::sync::Arc::new(Server::start_with(&[
        "--password-hash-concurrency-max",
        "1",
    ]));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.post(
                "/Users",
                json!({"userName": format!("h{i}"), "password": format!("pw-{i}-long")}),
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn root_search_pages_across_users_and_groups() {
    let s = Server::start();
    s.user("u1").await;
    s.user("u2").await;
    s.group("g1", &[]).await;
    s.group("g2", &[]).await;
    let page = |start: u64, count: u64| json!({"filter": "meta.created pr", "startIndex": start, "count": count});
    let r = s.post("/.search", page(2, 2)).await.body;
    assert_eq!(r["totalResults"], 4);
    let types: Vec<&str> = r["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["User", "Group"]);
    let r = s.post("/.search", page(4, 10)).await.body;
    assert_eq!(r["itemsPerPage"], 1);
    assert_eq!(r["Resources"][0]["meta"]["resourceType"], "Group");
    let r = s.post("/.search", page(1_000_000_000, 1)).await.body;
    assert_eq!(
        (r["totalResults"].clone(), r["itemsPerPage"].clone()),
        (json!(4), json!(0))
    );
    assert_error(
        &s.post("/.search", json!({"filter": "active gt true"}))
            .await,
        400,
        Some("invalidFilter"),
    );
}

#[tokio::test]
async fn member_ids_compare_exactly_by_index_and_by_scan() {
    let s = Server::start();
    let u = s.user("cased").await;
    s.group("g", &[&u]).await;
    let upper = u.to_uppercase();
    for f in [
        format!("members[value eq \"{upper}\"]"),
        format!("members[value eq \"{upper}\" or value eq \"zz\"]"),
    ] {
        assert_eq!(
            s.get(&format!("/Groups?filter={}", enc(&f))).await.body["totalResults"],
            0,
            "{f}"
        );
    }
    for f in [
        format!("members[value eq \"{u}\"]"),
        format!("members[value eq \"{u}\" or value eq \"zz\"]"),
    ] {
        assert_eq!(
            s.get(&format!("/Groups?filter={}", enc(&f))).await.body["totalResults"],
            1,
            "{f}"
        );
    }
}

#[tokio::test]
async fn a_tiny_database_cache_still_serves_and_keeps_everything() {
    // The page cache is memory only: at 64 KiB every read goes to the file, and nothing changes.
    let s = Server::start_with(&["--db-cache-bytes", "65536"]);
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(s.user(&format!("c{i}")).await);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let g = s.group("cached", &refs).await;
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], 40);
    let members = s.get(&format!("/Groups/{g}")).await.body["members"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(members, 40);
}

//! Point 8 (membership rows), group uniqueness, group PATCH answers.

use crate::harness::*;
use hyper::StatusCode;
use serde_json::json;

#[tokio::test]
async fn group_display_name_unique_and_members_must_exist() {
    let s = Server::start();
    let u = s.user("m1").await;
    let g = s.group("Engineering", &[&u]).await;
    assert_error(
        &s.post("/Groups", json!({"displayName": "engineering"}))
            .await,
        409,
        Some("uniqueness"),
    );
    assert_error(
        &s.post(
            "/Groups",
            json!({"displayName": "X", "members": [{"value": "nobody"}]}),
        )
        .await,
        400,
        Some("invalidValue"),
    );
    assert_error(
        &s.post("/Groups", json!({})).await,
        400,
        Some("invalidValue"),
    );
    let got = s.get(&format!("/Groups/{g}")).await.body;
    assert_eq!(got["displayName"], "Engineering");
    assert_eq!(got["members"][0]["value"], u.as_str());
    assert_eq!(got["members"][0]["type"], "User");
    assert_eq!(got["meta"]["resourceType"], "Group");
    // A user lists its groups (read-only, computed).
    let user = s.get(&format!("/Users/{u}")).await.body;
    assert_eq!(user["groups"][0]["value"], g.as_str());
    assert_eq!(user["groups"][0]["display"], "Engineering");
    // Nested group.
    let outer = s.group("Outer", &[&g]).await;
    assert_eq!(
        s.get(&format!("/Groups/{outer}")).await.body["members"][0]["type"],
        "Group"
    );
}

#[tokio::test]
async fn excluded_members_and_member_filters() {
    let s = Server::start();
    let a = s.user("a").await;
    let b = s.user("b").await;
    let g1 = s.group("g1", &[&a, &b]).await;
    let g2 = s.group("g2", &[&a]).await;
    let r = s
        .get(&format!("/Groups/{g1}?excludedAttributes=members"))
        .await
        .body;
    assert!(r.get("members").is_none());
    assert_eq!(r["displayName"], "g1");
    let l = s.get("/Groups?excludedAttributes=members").await.body;
    assert_eq!(l["totalResults"], 2);
    assert!(
        l["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g.get("members").is_none())
    );
    for filter in [
        format!("members.value eq \"{b}\""),
        format!("members eq \"{b}\""),
        format!("members[value eq \"{b}\"]"),
    ] {
        let f = s
            .get(&format!("/Groups?filter={}", enc(&filter)))
            .await
            .body;
        assert_eq!(f["totalResults"], 1, "{filter}");
        assert_eq!(f["Resources"][0]["id"], g1.as_str());
    }
    let both = s
        .get(&format!(
            "/Groups?filter={}",
            enc(&format!("members.value eq \"{a}\""))
        ))
        .await
        .body;
    assert_eq!(both["totalResults"], 2);
    let _ = g2;
}

#[tokio::test]
async fn group_patch_answers_204_unless_attributes_asked() {
    let s = Server::start();
    let u = s.user("p").await;
    let g = s.group("grp", &[]).await;
    let r = s
        .patch_ops(
            &format!("/Groups/{g}"),
            json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(r.raw.is_empty());
    let r = s
        .patch(&format!("/Groups/{g}?attributes=members"), json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "grp2"}]}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["members"][0]["value"], u.as_str());
    assert!(r.body.get("displayName").is_none());
}

#[tokio::test]
async fn put_replaces_members() {
    let s = Server::start();
    let a = s.user("a").await;
    let b = s.user("b").await;
    let g = s.group("g", &[&a]).await;
    let r = s
        .put(
            &format!("/Groups/{g}"),
            json!({"displayName": "g", "members": [{"value": b}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let members: Vec<&str> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [b.as_str()]);
    assert!(
        s.get(&format!("/Users/{a}"))
            .await
            .body
            .get("groups")
            .is_none()
    );
}

#[tokio::test]
async fn concurrent_writes_commit_together_and_a_bad_one_fails_alone() {
    let s = std::sync::Arc::new(Server::start());
    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            // Every 8th request reuses a name: exactly one of each clash wins.
            let name = if i % 8 == 0 {
                "clash".to_owned()
            } else {
                format!("u{i}")
            };
            s.post("/Users", json!({"userName": name})).await.status
        }));
    }
    let mut created = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, conflicts), (57, 7));
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], 57);
}

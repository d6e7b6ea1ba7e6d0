//! Point 7: PATCH per RFC 7644 section 3.5.2 and what Entra and Okta send, one test each.

use crate::harness::*;
use hyper::StatusCode;
use serde_json::{Value, json};

async fn user_with(s: &Server, body: Value) -> String {
    let r = s.post("/Users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.id()
}

async fn patch_user(s: &Server, id: &str, ops: Value) -> Value {
    let r = s.patch_ops(&format!("/Users/{id}"), ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    s.get(&format!("/Users/{id}")).await.body
}

async fn member_ids(s: &Server, g: &str) -> Vec<String> {
    let mut v: Vec<String> = s.get(&format!("/Groups/{g}")).await.body["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn op_names_in_any_case() {
    let s = Server::start();
    let id = user_with(&s, json!({"userName": "ops", "nickName": "n"})).await;
    let u = patch_user(
        &s,
        &id,
        json!([
            {"op": "Add", "path": "title", "value": "T"},
            {"op": "REPLACE", "path": "displayName", "value": "D"},
            {"op": "Remove", "path": "nickName"}
        ]),
    )
    .await;
    assert_eq!(
        (u["title"].as_str(), u["displayName"].as_str()),
        (Some("T"), Some("D"))
    );
    assert!(u.get("nickName").is_none());
    assert_error(
        &s.patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "frobnicate", "path": "title", "value": "x"}]),
        )
        .await,
        400,
        Some("invalidSyntax"),
    );
}

#[tokio::test]
async fn booleans_as_strings() {
    let s = Server::start();
    let id = user_with(&s, json!({"userName": "b"})).await;
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    assert_eq!(u["active"], false);
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    )
    .await;
    assert_eq!(u["active"], true);
}

#[tokio::test]
async fn pathless_values_with_dotted_and_urn_keys() {
    let s = Server::start();
    let id = user_with(
        &s,
        json!({"userName": "dotted", "name": {"familyName": "F"}}),
    )
    .await;
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "add", "value": {
            "name.givenName": "Given",
            format!("{ENTERPRISE}:department"): "Dept",
            format!("{ENTERPRISE}:manager"): "mgr-id",
            "title": "Boss"
        }}]),
    )
    .await;
    assert_eq!(u["name"], json!({"familyName": "F", "givenName": "Given"}));
    assert_eq!(u[ENTERPRISE]["department"], "Dept");
    assert_eq!(u[ENTERPRISE]["manager"]["value"], "mgr-id");
    assert_eq!(u["title"], "Boss");
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "replace", "value": {ENTERPRISE: {"department": "Other"}}}]),
    )
    .await;
    assert_eq!(u[ENTERPRISE]["department"], "Other");
}

#[tokio::test]
async fn value_path_targets_and_add_creates_when_none_match() {
    let s = Server::start();
    let id = user_with(
        &s,
        json!({"userName": "vp", "emails": [{"value": "home@x.org", "type": "home"}]}),
    )
    .await;
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "work@x.com"}]),
    )
    .await;
    let emails = u["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2);
    assert!(
        emails
            .iter()
            .any(|e| e["type"] == "work" && e["value"] == "work@x.com")
    );
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@x.com"}]),
    )
    .await;
    assert!(
        u["emails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "work" && e["value"] == "new@x.com")
    );
    assert_eq!(u["emails"].as_array().unwrap().len(), 2);
    // Found by the email index afterwards.
    let f = s
        .get(&format!(
            "/Users?filter={}",
            enc("emails[type eq \"work\"].value eq \"new@x.com\"")
        ))
        .await
        .body;
    assert_eq!(f["totalResults"], 1);
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
    )
    .await;
    assert_eq!(u["emails"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.get(&format!(
            "/Users?filter={}",
            enc("emails.value eq \"home@x.org\"")
        ))
        .await
        .body["totalResults"],
        0
    );
}

#[tokio::test]
async fn remove_member_by_value_filter() {
    let s = Server::start();
    let (a, b) = (s.user("a").await, s.user("b").await);
    let g = s.group("g", &[&a, &b]).await;
    let r = s
        .patch_ops(
            &format!("/Groups/{g}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(member_ids(&s, &g).await, vec![b.clone()]);
}

#[tokio::test]
async fn entra_remove_members_with_value_array_removes_only_those() {
    let s = Server::start();
    let (a, b, c) = (s.user("a").await, s.user("b").await, s.user("c").await);
    let g = s.group("g", &[&a, &b, &c]).await;
    let r = s
        .patch_ops(
            &format!("/Groups/{g}"),
            json!([{"op": "Remove", "path": "members", "value": [{"value": a}, {"value": c}]}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(member_ids(&s, &g).await, vec![b.clone()]);
}

#[tokio::test]
async fn manager_as_plain_string() {
    let s = Server::start();
    let boss = s.user("boss").await;
    let id = user_with(&s, json!({"userName": "emp"})).await;
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": boss}]),
    )
    .await;
    assert_eq!(u[ENTERPRISE]["manager"]["value"], boss.as_str());
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager.value"), "value": "other"}]),
    )
    .await;
    assert_eq!(u[ENTERPRISE]["manager"]["value"], "other");
}

#[tokio::test]
async fn okta_pathless_deactivate() {
    let s = Server::start();
    let id = user_with(&s, json!({"userName": "okta"})).await;
    let u = patch_user(
        &s,
        &id,
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await;
    assert_eq!(u["active"], false);
}

#[tokio::test]
async fn okta_group_rename_with_id_in_value() {
    let s = Server::start();
    let g = s.group("old name", &[]).await;
    let r = s
        .patch_ops(
            &format!("/Groups/{g}"),
            json!([{"op": "replace", "value": {"id": g, "displayName": "new name"}}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let got = s.get(&format!("/Groups/{g}")).await.body;
    assert_eq!(got["displayName"], "new name");
    assert_eq!(got["id"], g.as_str());
    let f = s
        .get(&format!(
            "/Groups?filter={}",
            enc("displayName eq \"new name\"")
        ))
        .await
        .body;
    assert_eq!(f["totalResults"], 1, "the name index follows the rename");
}

#[tokio::test]
async fn many_member_adds_and_removes_with_noops() {
    let s = Server::start();
    let mut users = Vec::new();
    for i in 0..30 {
        users.push(s.user(&format!("m{i}")).await);
    }
    let g = s.group("big", &[&users[0]]).await;
    let add: Vec<Value> = users.iter().map(|u| json!({"value": u})).collect();
    let r = s
        .patch_ops(
            &format!("/Groups/{g}"),
            json!([
                {"op": "add", "path": "members", "value": add},
                {"op": "remove", "path": format!("members[value eq \"{}\"]", users[1])},
                {"op": "remove", "path": "members[value eq \"never-a-member\"]"},
                {"op": "add", "path": "members", "value": [{"value": users[0]}]}
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let mut want: Vec<String> = users.iter().filter(|u| **u != users[1]).cloned().collect();
    want.sort();
    assert_eq!(member_ids(&s, &g).await, want);
    // Removing an absent member alone is also a no-op.
    let r = s
        .patch_ops(
            &format!("/Groups/{g}"),
            json!([{"op": "remove", "path": "members", "value": [{"value": users[1]}]}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn patch_is_atomic() {
    let s = Server::start();
    let id = user_with(&s, json!({"userName": "atomic", "title": "before"})).await;
    let r = s
        .patch_ops(
            &format!("/Users/{id}"),
            json!([
                {"op": "replace", "path": "title", "value": "after"},
                {"op": "replace", "path": "active", "value": "not-a-bool"}
            ]),
        )
        .await;
    assert_error(&r, 400, Some("invalidValue"));
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["title"], "before");
    let g = s.group("g", &[]).await;
    let u = s.user("member").await;
    let r = s
        .patch_ops(
            &format!("/Groups/{g}"),
            json!([
                {"op": "add", "path": "members", "value": [{"value": u}]},
                {"op": "add", "path": "members", "value": [{"value": "does-not-exist"}]}
            ]),
        )
        .await;
    assert_error(&r, 400, Some("invalidValue"));
    assert!(member_ids(&s, &g).await.is_empty());
}

#[tokio::test]
async fn patch_errors() {
    let s = Server::start();
    let id = user_with(&s, json!({"userName": "errs"})).await;
    let p = format!("/Users/{id}");
    assert_error(
        &s.patch(
            &p,
            json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        )
        .await,
        400,
        Some("invalidSyntax"),
    );
    assert_error(
        &s.patch(&p, json!({"schemas": [PATCH_OP]})).await,
        400,
        Some("invalidSyntax"),
    );
    assert_error(
        &s.patch_ops(
            &p,
            json!([{"op": "add", "path": "emails[type eq", "value": "x"}]),
        )
        .await,
        400,
        Some("invalidPath"),
    );
    assert_error(
        &s.patch_ops(&p, json!([{"op": "remove"}])).await,
        400,
        Some("noTarget"),
    );
    assert_error(
        &s.patch_ops(&p, json!([{"op": "replace", "path": "id", "value": "x"}]))
            .await,
        400,
        Some("mutability"),
    );
    assert_error(
        &s.patch_ops(
            &p,
            json!([{"op": "replace", "path": "userName", "value": 5}]),
        )
        .await,
        400,
        Some("invalidValue"),
    );
    let other = s.user("taken").await;
    let _ = other;
    assert_error(
        &s.patch_ops(
            &p,
            json!([{"op": "replace", "path": "userName", "value": "TAKEN"}]),
        )
        .await,
        409,
        Some("uniqueness"),
    );
    assert_error(
        &s.patch_ops(
            "/Users/nope",
            json!([{"op": "add", "path": "title", "value": "x"}]),
        )
        .await,
        404,
        None,
    );
}

#[tokio::test]
async fn patch_operation_limit_on_both_sides() {
    let s = Server::start_with(&["--patch-operations-max", "5"]);
    let id = user_with(&s, json!({"userName": "lim"})).await;
    let ops = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({"op": "replace", "path": "title", "value": format!("t{i}")}))
                .collect(),
        )
    };
    assert_eq!(
        s.patch_ops(&format!("/Users/{id}"), ops(5)).await.status,
        StatusCode::OK
    );
    let r = s.patch_ops(&format!("/Users/{id}"), ops(6)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["title"], "t4");
}

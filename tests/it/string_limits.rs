//! Issue 15 finding 6: string values have the same bounds on SCIM (POST, PUT, PATCH) and the
//! management API (one definition, `config::Limits.strings`, with flags), and names refuse
//! control characters. Each bound is tried exactly at it (accepted) and one past (refused, and
//! nothing changed), with small configured bounds; the defaults are checked on the finding's
//! own case (a 1,000,000-character `userName`).

use crate::harness::*;
use hyper::StatusCode;
use serde_json::{Value, json};

const FLAGS: &[&str] = &[
    "--user-name-chars-max=8",
    "--display-name-chars-max=9",
    "--group-name-chars-max=10",
    "--name-part-chars-max=6",
    "--email-chars-max=12",
    "--external-id-chars-max=7",
    "--string-chars-max=20",
];

/// One bounded attribute: the resource it is on, its bound under `FLAGS`, the document fields
/// that set it, and the PATCH `path` and `value` that set it.
struct Bound {
    attr: &'static str,
    group: bool,
    max: usize,
    fields: fn(&str) -> Value,
    patch_path: &'static str,
    patch_value: fn(&str) -> Value,
}

fn bounds() -> Vec<Bound> {
    let plain = |v: &str| json!(v);
    vec![
        Bound {
            attr: "userName",
            group: false,
            max: 8,
            fields: |v| json!({"userName": v}),
            patch_path: "userName",
            patch_value: plain,
        },
        Bound {
            attr: "displayName",
            group: false,
            max: 9,
            fields: |v| json!({"displayName": v}),
            patch_path: "displayName",
            patch_value: plain,
        },
        Bound {
            attr: "name.givenName",
            group: false,
            max: 6,
            fields: |v| json!({"name": {"givenName": v}}),
            patch_path: "name.givenName",
            patch_value: plain,
        },
        Bound {
            attr: "name.familyName",
            group: false,
            max: 6,
            fields: |v| json!({"name": {"familyName": v}}),
            patch_path: "name.familyName",
            patch_value: plain,
        },
        Bound {
            attr: "emails.value",
            group: false,
            max: 12,
            fields: |v| json!({"emails": [{"value": v}]}),
            patch_path: "emails",
            patch_value: |v| json!([{"value": v}]),
        },
        Bound {
            attr: "externalId",
            group: false,
            max: 7,
            fields: |v| json!({"externalId": v}),
            patch_path: "externalId",
            patch_value: plain,
        },
        Bound {
            attr: "title",
            group: false,
            max: 20,
            fields: |v| json!({"title": v}),
            patch_path: "title",
            patch_value: plain,
        },
        Bound {
            attr: "department",
            group: false,
            max: 20,
            fields: |v| json!({ENTERPRISE: {"department": v}}),
            patch_path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            patch_value: plain,
        },
        Bound {
            attr: "displayName",
            group: true,
            max: 10,
            fields: |v| json!({"displayName": v}),
            patch_path: "displayName",
            patch_value: plain,
        },
        Bound {
            attr: "externalId",
            group: true,
            max: 7,
            fields: |v| json!({"externalId": v}),
            patch_path: "externalId",
            patch_value: plain,
        },
    ]
}

/// A value of exactly `len` characters starting with `tag` (unique per case, since names must
/// be), in two-byte characters: bounds count characters, not bytes.
fn value(tag: &str, len: usize) -> String {
    format!("{tag}{}", "é".repeat(len - tag.chars().count()))
}

fn endpoint(group: bool) -> &'static str {
    if group { "/Groups" } else { "/Users" }
}

/// A document: a unique name (when the bound is not on the name itself) and `fields`.
fn doc(b: &Bound, tag: &str, v: &str) -> Value {
    let mut d = if b.group {
        json!({"schemas": [GROUP], "displayName": format!("g-{tag}")})
    } else {
        json!({"schemas": [USER], "userName": format!("u-{tag}")})
    };
    let fields = (b.fields)(v);
    d.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    d
}

/// What is wrong with a refusal: 400 invalidValue naming the attribute and the bound.
fn refusal_mismatch(r: &Reply, attr: &str, max: usize) -> Option<String> {
    let detail = r.body["detail"].as_str().unwrap_or("");
    let leaf = attr.rsplit('.').next().unwrap_or(attr);
    let ok = r.status == StatusCode::BAD_REQUEST
        && r.scim_type() == Some("invalidValue")
        && detail.contains(leaf)
        && detail.contains(&max.to_string());
    (!ok).then(|| format!("{} {}", r.status, r.body))
}

#[tokio::test]
async fn scim_bounds_on_both_sides_for_post_put_and_patch() {
    let s = Server::start_with(FLAGS);
    let mut failures = Vec::new();
    let mut cases = 0;
    for (i, b) in bounds().iter().enumerate() {
        for (method, over) in [
            ("POST", 0),
            ("POST", 1),
            ("PUT", 0),
            ("PUT", 1),
            ("PATCH", 0),
            ("PATCH", 1),
        ] {
            cases += 1;
            let tag = format!("{i}{}{over}", &method[..2]);
            let v = value(&tag, b.max + over);
            if let Some(m) = one_case(&s, b, method, &tag, &v, over == 1).await {
                failures.push(format!("{method} {} {} chars: {m}", b.attr, b.max + over));
            }
        }
    }
    println!(
        "string bounds: {cases} SCIM cases, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs one write; for PUT and PATCH on a resource created first, which a refusal leaves as
/// it was.
async fn one_case(
    s: &Server,
    b: &Bound,
    method: &str,
    tag: &str,
    v: &str,
    refused: bool,
) -> Option<String> {
    let ep = endpoint(b.group);
    let r = if method == "POST" {
        s.post(ep, doc(b, tag, v)).await
    } else {
        let base = if b.group {
            json!({"schemas": [GROUP], "displayName": format!("b{tag}")})
        } else {
            json!({"schemas": [USER], "userName": format!("b{tag}")})
        };
        let created = s.post(ep, base).await;
        let path = format!("{ep}/{}", created.id());
        let before = s.get(&path).await.body;
        let r = if method == "PUT" {
            s.put(&path, doc(b, tag, v)).await
        } else {
            s.patch_ops(
                &path,
                json!([{"op": "replace", "path": b.patch_path, "value": (b.patch_value)(v)}]),
            )
            .await
        };
        if refused && s.get(&path).await.body != before {
            return Some("a refused write changed the resource".into());
        }
        r
    };
    match refused {
        true => refusal_mismatch(&r, b.attr, b.max),
        false if r.status.is_success() => None,
        false => Some(format!("{} {}", r.status, r.body)),
    }
}

#[tokio::test]
async fn names_refuse_control_characters() {
    let s = Server::start();
    let id = s.user("plain").await;
    let gid = s.group("plain-group", &[]).await;
    let mut failures = Vec::new();
    let cases = [
        ("/Users", json!({"userName": "nul\u{0}name"})),
        ("/Users", json!({"userName": "tab\tname"})),
        ("/Users", json!({"userName": "del\u{7f}"})),
        (
            "/Users",
            json!({"userName": "ok1", "displayName": "line\nbreak"}),
        ),
        (
            "/Users",
            json!({"userName": "ok2", "externalId": "c1\u{85}"}),
        ),
        (
            "/Users",
            json!({"userName": "ok3", "name": {"givenName": "esc\u{1b}"}}),
        ),
        ("/Groups", json!({"displayName": "nul\u{0}group"})),
    ];
    for (ep, body) in &cases {
        let r = s.post(ep, body.clone()).await;
        if r.status != StatusCode::BAD_REQUEST || r.scim_type() != Some("invalidValue") {
            failures.push(format!("POST {ep} {body}: {} {}", r.status, r.body));
        }
    }
    for (path, attr) in [
        (format!("/Users/{id}"), "userName"),
        (format!("/Groups/{gid}"), "displayName"),
    ] {
        let r = s
            .patch_ops(
                &path,
                json!([{"op": "replace", "path": attr, "value": "a\u{0}b"}]),
            )
            .await;
        if r.status != StatusCode::BAD_REQUEST || r.scim_type() != Some("invalidValue") {
            failures.push(format!("PATCH {path}: {} {}", r.status, r.body));
        }
    }
    // Nothing was stored: only the two resources made above exist.
    let users = s.get("/Users").await.body;
    let groups = s.get("/Groups").await.body;
    assert_eq!(users["totalResults"], 1, "{users}");
    assert_eq!(groups["totalResults"], 1, "{groups}");
    assert_eq!(users["Resources"][0]["userName"], "plain");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The finding's own case, at the default bounds: 64 characters of `userName` are accepted, 65
/// and 1,000,000 are refused, by POST and by a PATCH replace.
#[tokio::test]
async fn default_user_name_bound_is_the_apis_64() {
    let s = Server::start();
    let at = "a".repeat(64);
    let r = s.post("/Users", json!({"userName": at})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.id();
    for len in [65, 1_000_000] {
        let r = s.post("/Users", json!({"userName": "b".repeat(len)})).await;
        assert!(
            refusal_mismatch(&r, "userName", 64).is_none(),
            "{len}: {} {}",
            r.status,
            r.body
        );
        let r = s
            .patch_ops(
                &format!("/Users/{id}"),
                json!([{"op": "replace", "path": "userName", "value": "c".repeat(len)}]),
            )
            .await;
        assert!(
            refusal_mismatch(&r, "userName", 64).is_none(),
            "{len}: {} {}",
            r.status,
            r.body
        );
    }
    let list = s.get("/Users").await.body;
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["userName"], at);
}

/// (action, the parameter bounded, its bound, the other parameters)
type ApiCase<'a> = (&'a str, &'a str, usize, Vec<(&'a str, &'a str)>);

/// The API takes its bounds from the same flags: each parameter at its bound and one past.
#[tokio::test]
async fn api_bounds_follow_the_same_flags() {
    let s = Server::start_with(FLAGS);
    let (admin, d) = (s.admin_key(), s.directory_id.clone());
    let body = s
        .api_ok(
            &admin,
            SSO,
            "CreateUser",
            &[("DirectoryId", &d), ("UserName", "target")],
        )
        .await;
    let uid = body["User"]["UserId"].as_str().unwrap().to_owned();
    let body = s
        .api_ok(
            &admin,
            SSO,
            "CreateGroup",
            &[("DirectoryId", &d), ("GroupName", "target")],
        )
        .await;
    let gid = body["Group"]["GroupId"].as_str().unwrap().to_owned();
    let cases: Vec<ApiCase> = vec![
        ("CreateUser", "UserName", 8, vec![]),
        ("CreateUser", "DisplayName", 9, vec![("UserName", "name")]),
        ("CreateUser", "FirstName", 6, vec![("UserName", "name")]),
        ("CreateUser", "LastName", 6, vec![("UserName", "name")]),
        ("CreateUser", "Email", 12, vec![("UserName", "name")]),
        ("UpdateUser", "NewDisplayName", 9, vec![("UserId", &uid)]),
        ("UpdateUser", "NewFirstName", 6, vec![("UserId", &uid)]),
        ("UpdateUser", "NewEmail", 12, vec![("UserId", &uid)]),
        ("CreateGroup", "GroupName", 10, vec![]),
        ("UpdateGroup", "NewGroupName", 10, vec![("GroupId", &gid)]),
    ];
    let mut failures = Vec::new();
    for (i, (action, param, max, others)) in cases.iter().enumerate() {
        for over in [0, 1] {
            let v = if param.contains("Email") {
                format!("{i}{over}@{}", "x".repeat(max + over - 3))
            } else {
                format!("{i}{over}{}", "x".repeat(max + over - 2))
            };
            // A unique name where the case bounds another parameter.
            let uname = format!("n{i}{over}");
            let mut params = vec![("DirectoryId", d.as_str()), (*param, v.as_str())];
            params.extend(others.iter().map(|(k, v)| {
                if *v == "name" {
                    (*k, uname.as_str())
                } else {
                    (*k, *v)
                }
            }));
            let r = s.api(&admin, SSO, action, &params).await;
            let want_ok = over == 0;
            let ok = if want_ok {
                r.status == StatusCode::OK
            } else {
                r.status == StatusCode::BAD_REQUEST
                    && r.body["Message"].as_str().unwrap_or("").contains(param)
            };
            if !ok {
                failures.push(format!(
                    "{action} {param} {} chars: {} {}",
                    max + over,
                    r.status,
                    r.body
                ));
            }
        }
    }
    // Control characters are refused through the API as through SCIM (the same check).
    for (param, v) in [
        ("DisplayName", "nul\u{0}"),
        ("FirstName", "tab\t"),
        ("LastName", "del\u{7f}"),
    ] {
        let r = s
            .api(
                &admin,
                SSO,
                "CreateUser",
                &[("DirectoryId", &d), ("UserName", "ctl"), (param, v)],
            )
            .await;
        if r.status != StatusCode::BAD_REQUEST
            || !r.body["Message"].as_str().unwrap_or("").contains("control")
        {
            failures.push(format!("CreateUser {param} {v:?}: {} {}", r.status, r.body));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A member's `display` never becomes part of a document (membership is a row), so PATCH
/// values on `members` are bounded by the general bound on their own: at it and one past.
#[tokio::test]
async fn member_display_is_bounded_in_patch() {
    // Above an id's length: `members.value` is bounded too.
    let s = Server::start_with(&["--string-chars-max=40"]);
    let uid = s.user("member").await;
    let gid = s.group("team", &[]).await;
    let path = format!("/Groups/{gid}");
    for (len, refused) in [(40, false), (41, true)] {
        let before = s.get(&path).await.body;
        let display = value("d", len);
        let ops = json!([{"op": "add", "path": "members", "value": [{"value": uid, "display": display}]}]);
        let r = s.patch_ops(&path, ops).await;
        if refused {
            assert!(
                refusal_mismatch(&r, "members", 40).is_none(),
                "{} {}",
                r.status,
                r.body
            );
            assert_eq!(
                s.get(&path).await.body,
                before,
                "a refused PATCH changed the group"
            );
        } else {
            assert!(r.status.is_success(), "{} {}", r.status, r.body);
            s.patch_ops(&path, json!([{"op": "remove", "path": "members"}]))
                .await;
        }
    }
}

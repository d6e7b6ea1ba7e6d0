//! Issue 16, point 1: the audit trail over HTTP. Every kind of audited request leaves one
//! record with its actor and result (denied and failed ones included, a failed write with no
//! record of success), no record holds a secret the test used, `LookupEvents` pages and
//! filters and is authorized like any operation, retention prunes old records and keeps new
//! ones, and `cloudsso audit verify` passes on a clean trail and names an edited record.

use crate::browser::Browser;
use crate::harness::*;
use crate::signin_totp::{code_at, settled_now};
use hyper::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const TRAIL: &str = "2020-07-06";
const PASSWORD: &str = "Aud1t-secret!";

/// Every event in the trail, newest first, through `LookupEvents` pages of 50.
pub(crate) async fn all_events(s: &Server, key: &Key) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut p = vec![("MaxResults", "50")];
        if let Some(t) = &token {
            p.push(("NextToken", t));
        }
        let r = s.api_ok(key, TRAIL, "LookupEvents", &p).await;
        out.extend(r["Events"].as_array().unwrap().iter().cloned());
        match r["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// The events of one request.
fn of_request<'a>(events: &'a [Value], request_id: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["requestId"] == request_id)
        .collect()
}

fn user_doc(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
           "userName": name, "password": PASSWORD, "active": true})
}

/// What a test expects of one request's record.
struct Expect {
    what: &'static str,
    request_id: String,
    action: &'static str,
    actor_type: &'static str,
    principal: String,
    result: String,
    /// The tail of a resource ARN the record must carry ("" for none expected).
    resource: String,
}

/// Runs the requests of every audited kind; the expectations and the secrets used.
async fn every_kind(s: &Server) -> (Vec<Expect>, Vec<String>) {
    let admin = s.admin_key();
    let dir = s.directory_id.clone();
    let arn = |rel: String| rel;
    let mut out = Vec::new();
    let mut secrets = vec![s.token.clone(), admin.secret.clone(), PASSWORD.to_owned()];
    let mut e = |what,
                 request_id: String,
                 action,
                 actor_type,
                 principal: String,
                 result: &str,
                 resource: String| {
        out.push(Expect {
            what,
            request_id,
            action,
            actor_type,
            principal,
            result: result.to_owned(),
            resource,
        });
    };
    // The management API: a write, a read, a failed write, a denied call, a bad signature.
    let r = s
        .api(
            &admin,
            SSO,
            "CreateUser",
            &[("DirectoryId", &dir), ("UserName", "api-user")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    e(
        "api write",
        rid(&r),
        "cloudsso:CreateUser",
        "ram-user",
        admin.id.clone(),
        "Success",
        arn(format!("directory/{dir}/user/*")),
    );
    let r = s
        .api(&admin, SSO, "GetDirectory", &[("DirectoryId", &dir)])
        .await;
    e(
        "api read",
        rid(&r),
        "cloudsso:GetDirectory",
        "ram-user",
        admin.id.clone(),
        "Success",
        arn(format!("directory/{dir}")),
    );
    let r = s
        .api(
            &admin,
            SSO,
            "CreateUser",
            &[("DirectoryId", &dir), ("UserName", "api-user")],
        )
        .await;
    let code = r.body["Code"].as_str().unwrap().to_owned();
    e(
        "api failed write",
        rid(&r),
        "cloudsso:CreateUser",
        "ram-user",
        admin.id.clone(),
        &code,
        String::new(),
    );
    let weak = s.admin_with(&admin, "weak", &[]).await;
    secrets.push(weak.secret.clone());
    let r = s
        .api(&weak, SSO, "ListUsers", &[("DirectoryId", &dir)])
        .await;
    assert_fault(&r, 403, "NoPermission");
    e(
        "api denied",
        rid(&r),
        "cloudsso:ListUsers",
        "ram-user",
        weak.id.clone(),
        "NoPermission",
        arn(format!("directory/{dir}/user/*")),
    );
    let forged = Key {
        id: admin.id.clone(),
        secret: "not-the-secret".into(),
    };
    let r = s
        .api(&forged, SSO, "ListUsers", &[("DirectoryId", &dir)])
        .await;
    let code = r.body["Code"].as_str().unwrap().to_owned();
    assert_ne!(code, "", "{}", r.body);
    e(
        "api bad signature",
        rid(&r),
        "cloudsso:ListUsers",
        "anonymous",
        String::new(),
        &code,
        String::new(),
    );
    // SCIM writes: create, a failed create, patch, delete, an unauthenticated write.
    let r = s.post("/Users", user_doc("scim-user")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let user = r.id();
    e(
        "scim create",
        rid(&r),
        "scim:CreateUser",
        "scim-credential",
        String::new(),
        "Success",
        arn(format!("directory/{dir}/user/{user}")),
    );
    let r = s.post("/Users", user_doc("scim-user")).await;
    e(
        "scim failed create",
        rid(&r),
        "scim:CreateUser",
        "scim-credential",
        String::new(),
        "409 uniqueness",
        String::new(),
    );
    let group = s.group("auditors", &[]).await;
    let r = s
        .patch_ops(
            &format!("/Groups/{group}"),
            json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
        )
        .await;
    assert_eq!(r.status.as_u16() / 100, 2, "{}", r.body);
    e(
        "scim patch",
        rid(&r),
        "scim:PatchGroup",
        "scim-credential",
        String::new(),
        "Success",
        arn(format!("directory/{dir}/group/{group}")),
    );
    let gone = s.user("to-delete").await;
    let r = s.delete(&format!("/Users/{gone}")).await;
    e(
        "scim delete",
        rid(&r),
        "scim:DeleteUser",
        "scim-credential",
        String::new(),
        "Success",
        arn(format!("directory/{dir}/user/{gone}")),
    );
    let r = s
        .send(
            hyper::Method::POST,
            &format!("{}/Users", s.base),
            &[
                ("authorization", "Bearer wrong-token"),
                ("content-type", SCIM),
            ],
            Some(user_doc("x").to_string().into_bytes()),
        )
        .await;
    e(
        "scim unauthenticated",
        rid(&r),
        "scim:CreateUser",
        "anonymous",
        String::new(),
        "401",
        String::new(),
    );
    // OAuth: a token issued, a wrong secret.
    let c = s
        .api_ok(
            &admin,
            SSO,
            "CreateSCIMServerCredential",
            &[
                ("DirectoryId", &dir),
                ("CredentialType", "OAuthClientSecret"),
            ],
        )
        .await;
    let id = c["SCIMServerCredential"]["CredentialId"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = c["SCIMServerCredential"]["CredentialSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(secret.clone());
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        enc(&id),
        enc(&secret)
    );
    let r = s.oauth_token(&form, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    secrets.push(r.body["access_token"].as_str().unwrap().to_owned());
    e(
        "oauth issue",
        rid(&r),
        "oauth:IssueToken",
        "oauth-client",
        id.clone(),
        "Success",
        String::new(),
    );
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret=wrong",
        enc(&id)
    );
    let r = s.oauth_token(&form, &[]).await;
    e(
        "oauth refused",
        rid(&r),
        "oauth:IssueToken",
        "oauth-client",
        id.clone(),
        "invalid_client",
        String::new(),
    );
    // The portal: a wrong password, a sign-in, MFA enrollment, a wrong and a right MFA code, sign-out.
    let mut b = Browser::new(s);
    let p = b.sign_in("default", "scim-user", "Wrong-pass1!").await;
    e(
        "login refused",
        p.request_id.clone(),
        "signin:Login",
        "directory-user",
        "scim-user".into(),
        "WrongCredentials",
        String::new(),
    );
    let p = b.sign_in("default", "scim-user", PASSWORD).await;
    e(
        "login",
        p.request_id.clone(),
        "signin:Login",
        "directory-user",
        user.clone(),
        "Success",
        String::new(),
    );
    let enroll = b.get("/default/mfa/enroll").await;
    let totp = enroll.text_of("secret").unwrap();
    secrets.push(totp.clone());
    let csrf = enroll.hidden("csrf").unwrap();
    let p = b
        .post(
            "/default/mfa/enroll",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    e(
        "mfa enroll refused",
        p.request_id.clone(),
        "signin:MfaEnroll",
        "directory-user",
        user.clone(),
        "WrongCode",
        String::new(),
    );
    let now = settled_now().await;
    let p = b
        .post(
            "/default/mfa/enroll",
            &[("csrf", &csrf), ("code", &code_at(&totp, now))],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    e(
        "mfa enroll",
        p.request_id.clone(),
        "signin:MfaEnroll",
        "directory-user",
        user.clone(),
        "Success",
        String::new(),
    );
    let portal = b.get("/default/portal").await;
    let csrf = portal.hidden("csrf").unwrap();
    let p = b.post("/default/logout", &[("csrf", &csrf)]).await;
    e(
        "logout",
        p.request_id.clone(),
        "signin:Logout",
        "directory-user",
        user.clone(),
        "Success",
        String::new(),
    );
    let p = b.sign_in("default", "scim-user", PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let mfa = b.get("/default/mfa").await;
    let csrf = mfa.hidden("csrf").unwrap();
    let p = b
        .post("/default/mfa", &[("csrf", &csrf), ("code", "000000")])
        .await;
    e(
        "mfa verify refused",
        p.request_id.clone(),
        "signin:MfaVerify",
        "directory-user",
        user.clone(),
        "WrongCode",
        String::new(),
    );
    (out, secrets)
}

/// The request id a reply carries.
fn rid(r: &Reply) -> String {
    r.header("x-request-id").unwrap().to_owned()
}

/// Whether `arn` is a CloudSSO ARN ending in `relative`.
fn is_arn_of(arn: &str, relative: &str) -> bool {
    arn.starts_with("acs:cloudsso:") && arn.ends_with(&format!(":{relative}"))
}

/// What is wrong with the one record of `e`'s request, if anything.
fn mismatch(events: &[Value], e: &Expect) -> Option<String> {
    let found = of_request(events, &e.request_id);
    let [ev] = found.as_slice() else {
        return Some(format!("{}: {} records: {found:?}", e.what, found.len()));
    };
    let who = &ev["userIdentity"];
    let principal_ok = e.principal.is_empty()
        || who["principalId"] == e.principal.as_str()
        || who["userName"] == e.principal.as_str();
    let resources = ev["resourceName"].as_str().unwrap_or_default();
    let ok = ev["eventName"] == e.action
        && who["type"] == e.actor_type
        && principal_ok
        && ev["result"] == e.result.as_str()
        && (e.resource.is_empty() || resources.split(';').any(|r| is_arn_of(r, &e.resource)))
        && ev["sourceIpAddress"] == "127.0.0.1";
    (!ok).then(|| format!("{}: {ev}", e.what))
}

#[tokio::test]
async fn every_kind_of_event_is_recorded_with_its_actor_and_result_and_no_secret() {
    let s = Server::start();
    let (expected, secrets) = every_kind(&s).await;
    let events = all_events(&s, &s.admin_key()).await;
    let failures: Vec<String> = expected
        .iter()
        .filter_map(|e| mismatch(&events, e))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let text = serde_json::to_string(&events).unwrap();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is in the trail: {secret}"
        );
    }
    // The failed write left its failure only: no record of its request says Success.
    let failed = expected
        .iter()
        .find(|e| e.what == "scim failed create")
        .unwrap();
    assert!(
        of_request(&events, &failed.request_id)
            .iter()
            .all(|e| e["result"] != "Success")
    );
}

/// `LookupEvents` with these parameters, as `key`.
async fn lookup(s: &Server, key: &Key, params: &[(&str, &str)]) -> Reply {
    s.api(key, TRAIL, "LookupEvents", params).await
}

fn events_of(r: &Reply) -> Vec<Value> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["Events"].as_array().unwrap().clone()
}

fn event_id(e: &Value) -> u64 {
    e["eventId"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn lookup_events_pages_filters_and_is_authorized_by_policy() {
    let s = Server::start();
    let admin = s.admin_key();
    let dir = s.directory_id.clone();
    for _ in 0..3 {
        s.api_ok(&admin, SSO, "GetDirectory", &[("DirectoryId", &dir)])
            .await;
    }
    let weak = s.admin_with(&admin, "weak2", &[]).await;
    assert_fault(
        &s.api(&weak, SSO, "ListUsers", &[("DirectoryId", &dir)])
            .await,
        403,
        "NoPermission",
    );
    let user = s.user("looked-up").await;
    let user_arn = format!("directory/{dir}/user/{user}");
    let everything = all_events(&s, &admin).await;
    let newest = everything.iter().map(event_id).max().unwrap();

    // Pages of one, NextToken round trip: the second page is the record before the first.
    let p1 = lookup(&s, &admin, &[("MaxResults", "1")]).await;
    let e1 = events_of(&p1);
    let token = p1.body["NextToken"].as_str().unwrap().to_owned();
    let p2 = lookup(&s, &admin, &[("MaxResults", "1"), ("NextToken", &token)]).await;
    let e2 = events_of(&p2);
    assert_eq!((e1.len(), e2.len()), (1, 1));
    assert_eq!(event_id(&e2[0]), event_id(&e1[0]) - 1);
    assert!(p2.body["NextToken"].is_string(), "{}", p2.body);
    assert!(p1.body["RequestId"].is_string());

    // Each filter keeps exactly the records it names (some, and not all of them).
    type Check = fn(&Value, &str) -> bool;
    let cases: Vec<(&str, String, Check)> = vec![
        ("AccessKeyId", weak.id.clone(), |e, v| {
            e["userIdentity"]["accessKeyId"] == v
        }),
        ("Principal", "weak2".into(), |e, v| {
            e["userIdentity"]["userName"] == v
        }),
        ("EventName", "GetDirectory".into(), |e, _| {
            e["eventName"] == "cloudsso:GetDirectory"
        }),
        ("EventName", "scim:CreateUser".into(), |e, v| {
            e["eventName"] == v
        }),
        ("ResourceName", String::new(), |e, _| {
            e["eventName"] == "scim:CreateUser"
        }),
        ("ErrorCode", "NoPermission".into(), |e, v| e["result"] == v),
        ("ErrorCode", "Success".into(), |e, v| e["result"] == v),
    ];
    let mut failures = Vec::new();
    for (key, value, check) in cases {
        let value = if key == "ResourceName" {
            everything
                .iter()
                .filter_map(|e| e["resourceName"].as_str())
                .find(|r| r.ends_with(&user_arn))
                .unwrap()
                .to_owned()
        } else {
            value
        };
        let params = [
            ("LookupAttribute.1.Key", key),
            ("LookupAttribute.1.Value", value.as_str()),
            ("MaxResults", "50"),
        ];
        // Only what `everything` saw: the lookups since then are records too.
        let found: Vec<Value> = events_of(&lookup(&s, &admin, &params).await)
            .into_iter()
            .filter(|e| event_id(e) <= newest)
            .collect();
        let all_match = found.iter().all(|e| check(e, &value));
        let expected = everything.iter().filter(|e| check(e, &value)).count();
        if found.is_empty() || !all_match || found.len() != expected || expected == everything.len()
        {
            failures.push(format!(
                "{key}={value}: {} found, {expected} expected",
                found.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Time ranges.
    let future = api_time(3600);
    let ranges: &[(&[(&str, &str)], bool)] = &[
        (&[("StartTime", &future)], false),
        (&[("EndTime", "2000-01-01T00:00:00Z")], false),
        (
            &[("StartTime", "2000-01-01T00:00:00Z"), ("EndTime", &future)],
            true,
        ),
    ];
    for (params, some) in ranges {
        let found = events_of(&lookup(&s, &admin, params).await);
        assert_eq!(!found.is_empty(), *some, "{params:?}");
    }

    // Refusals, in the API's format, before anything is read.
    let refusals: &[(&[(&str, &str)], &str)] = &[
        (
            &[("NextToken", "not-a-token")],
            "InvalidParameter.NextToken",
        ),
        (&[("MaxResults", "0")], "InvalidParameter.MaxResults"),
        (&[("MaxResults", "51")], "InvalidParameter.MaxResults"),
        (&[("StartTime", "yesterday")], "InvalidParameter.StartTime"),
        (
            &[("StartTime", &future), ("EndTime", "2000-01-01T00:00:00Z")],
            "InvalidParameter.StartTime",
        ),
        (
            &[
                ("LookupAttribute.1.Key", "Password"),
                ("LookupAttribute.1.Value", "x"),
            ],
            "InvalidParameter.LookupAttribute.Key",
        ),
        (
            &[("LookupAttribute.1.Key", "EventName")],
            "MissingParameter.LookupAttribute.1.Value",
        ),
        (
            &[
                ("LookupAttribute.4.Key", "EventName"),
                ("LookupAttribute.5.Key", "EventName"),
                ("LookupAttribute.5.Value", "GetDirectory"),
            ],
            "InvalidParameter.LookupAttribute",
        ),
    ];
    for (params, code) in refusals {
        assert_fault(&lookup(&s, &admin, params).await, 400, code);
    }
    // Four filters, the most there may be, all apply.
    let mut four = Vec::new();
    for n in 1..=4 {
        four.push((format!("LookupAttribute.{n}.Key"), "EventName"));
        four.push((format!("LookupAttribute.{n}.Value"), "GetDirectory"));
    }
    let four: Vec<(&str, &str)> = four.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let found = events_of(&lookup(&s, &admin, &four).await);
    assert_eq!(found.len(), 3, "the three GetDirectory calls");
    // The bounds themselves are accepted: 1 answers one record, 50 the whole trail as it
    // was (under 50 records here), plus the lookups made since.
    assert!(everything.len() < 50);
    for (max, expected) in [("1", 1), ("50", everything.len())] {
        let found = events_of(&lookup(&s, &admin, &[("MaxResults", max)]).await);
        let old = found.iter().filter(|e| event_id(e) <= newest).count();
        let wanted = if max == "1" { found.len() } else { old };
        assert_eq!(wanted, expected, "MaxResults {max}");
    }

    // Authorization: RAM policy action `actiontrail:LookupEvents`.
    let doc = json!({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "actiontrail:LookupEvents", "Resource": "*"}]});
    let p = [
        ("PolicyName", "audit-reader"),
        ("PolicyDocument", &doc.to_string()),
    ];
    s.api_ok(&admin, RAM, "CreatePolicy", &p).await;
    let reader = s
        .admin_with(&admin, "auditor", &[("Custom", "audit-reader")])
        .await;
    let sso_reader = s
        .admin_with(
            &admin,
            "sso-reader",
            &[("System", "AliyunCloudSSOReadOnlyAccess")],
        )
        .await;
    let callers: &[(&Key, bool)] = &[
        (&weak, false),
        (&sso_reader, false),
        (&reader, true),
        (&admin, true),
    ];
    for (key, allowed) in callers {
        let r = lookup(&s, key, &[]).await;
        if *allowed {
            assert_eq!(r.status, StatusCode::OK, "{}: {}", key.id, r.body);
        } else {
            assert_fault(&r, 403, "NoPermission");
        }
    }
}

/// Runs `cloudsso audit verify --data DIR`; its success and output.
fn verify(data: &std::path::Path) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cloudsso"))
        .args(["audit", "verify", "--data", data.to_str().unwrap()])
        .env_remove("CLOUDSSO_DATA")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

/// Whether the trail holds a record of request `id`, looked up by the admin.
async fn recorded(s: &Server, id: &str) -> bool {
    let events = all_events(s, &s.admin_key()).await;
    !of_request(&events, id).is_empty()
}

#[tokio::test]
async fn retention_prunes_old_records_keeps_new_ones_and_the_rest_still_verifies() {
    const RETENTION_S: u64 = 6;
    let retention = RETENTION_S.to_string();
    let s = Server::start_with(&[
        "--audit-retention-seconds",
        &retention,
        "--audit-prune-interval-ms",
        "200",
    ]);
    let admin = s.admin_key();
    let dir = s.directory_id.clone();
    let get = [("DirectoryId", dir.as_str())];
    let old = rid(&s.api(&admin, SSO, "GetDirectory", &get).await);
    assert!(recorded(&s, &old).await, "a new record is kept");
    let started = Instant::now();
    while recorded(&s, &old).await {
        assert!(started.elapsed() < Duration::from_secs(60), "never pruned");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_secs(RETENTION_S - 1),
        "pruned early"
    );
    let new = rid(&s.api(&admin, SSO, "GetDirectory", &get).await);
    assert!(
        recorded(&s, &new).await,
        "a record younger than the retention is kept"
    );
    let data = s.data.clone();
    let (stopped, _keep) = s.stop_keep();
    assert!(stopped);
    let (ok, text) = verify(&data);
    assert!(ok && text.contains("intact"), "{text}");
}

#[tokio::test]
async fn audit_verify_passes_on_a_clean_trail_and_names_an_edited_record() {
    let s = Server::start();
    let admin = s.admin_key();
    let dir = s.directory_id.clone();
    for _ in 0..3 {
        s.api_ok(&admin, SSO, "GetDirectory", &[("DirectoryId", &dir)])
            .await;
    }
    // The CLI names the operation `audit lookup-events`, its filters `--lookup-attribute-N-*`.
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.json");
    let boot = s.data.join("bootstrap.json");
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cloudsso"))
            .args(args)
            .env("CLOUDSSO_CONFIG", &config)
            .env_remove("CLOUDSSO_PROFILE")
            .output()
            .unwrap()
    };
    assert!(
        cli(&["configure", "--from-bootstrap", boot.to_str().unwrap()])
            .status
            .success()
    );
    let o = cli(&[
        "audit",
        "lookup-events",
        "--lookup-attribute-1-key",
        "EventName",
        "--lookup-attribute-1-value",
        "GetDirectory",
        "-o",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let answer: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(answer["Events"].as_array().unwrap().len(), 3, "{answer}");
    // A running server holds the file; a folder without a database has nothing to check.
    let (ok, text) = verify(&s.data);
    assert!(!ok && text.contains("is the server stopped"), "{text}");
    let (ok, text) = verify(&tmp.path().join("nowhere"));
    assert!(!ok && text.contains("no database"), "{text}");
    assert!(!tmp.path().join("nowhere").exists());
    let data = s.data.clone();
    let (stopped, _keep) = s.stop_keep();
    assert!(stopped);
    let (ok, text) = verify(&data);
    assert!(ok && text.contains("intact"), "{text}");
    // Edit the oldest record by hand (its result), as someone with the file could.
    let file = data.join(cloudsso::app::DB_FILE);
    let edited = {
        let store = cloudsso::store::Store::open(&file).unwrap();
        let txn = store.write().unwrap();
        let mut oldest = None;
        txn.audit_newest_first(None, |r| {
            oldest = Some(r);
            true
        })
        .unwrap();
        let mut oldest = oldest.unwrap();
        assert_eq!(oldest.record.result, "Success");
        oldest.record.result = "Edited".into();
        txn.overwrite_audit(oldest.seq, &oldest.record).unwrap();
        txn.commit().unwrap();
        oldest.seq
    };
    let (ok, text) = verify(&data);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("BROKEN at record {}", edited + 1))
            && text.contains(&format!("record {edited} was changed")),
        "{text}"
    );
}

/// The JSON lines of the audit log file, once it holds a line for each of `ids`.
async fn log_lines(file: &std::path::Path, ids: &[String]) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let has = |id: &String| lines.iter().any(|l| l["request_id"] == id.as_str());
        if ids.iter().all(has) {
            return lines;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn audit_log_streams_each_record_once_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, file) = (tmp.path().join("data"), tmp.path().join("audit.jsonl"));
    let args = ["--audit-log", file.to_str().unwrap()];
    let mut ids = Vec::new();
    for round in 0..2 {
        let s = Server::start_on(&data, &args);
        let admin = s.admin_key();
        let get = [("DirectoryId", s.directory_id.as_str())];
        for _ in 0..3 {
            ids.push(rid(&s.api(&admin, SSO, "GetDirectory", &get).await));
        }
        ids.push(rid(&s
            .post("/Users", user_doc(&format!("streamed-{round}")))
            .await));
        let lines = log_lines(&file, &ids).await;
        let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "every record once, in order");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&s.token) && !text.contains(&admin.secret));
        assert!(
            lines
                .iter()
                .all(|l| l["digest"].as_str().is_some_and(|d| d.len() == 64))
        );
        assert!(s.stop());
    }
}

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
async fn all_events(s: &Server, key: &Key) -> Vec<Value> {
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

/// A RAM administrator with these attached policies (type, name) and a new AccessKey.
async fn admin_with(s: &Server, admin: &Key, name: &str, policies: &[(&str, &str)]) -> Key {
    s.api_ok(admin, RAM, "CreateUser", &[("UserName", name)])
        .await;
    for (kind, policy) in policies {
        let p = [
            ("UserName", name),
            ("PolicyName", *policy),
            ("PolicyType", *kind),
        ];
        s.api_ok(admin, RAM, "AttachPolicyToUser", &p).await;
    }
    let k = s
        .api_ok(admin, RAM, "CreateAccessKey", &[("UserName", name)])
        .await;
    Key {
        id: k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
        secret: k["AccessKey"]["AccessKeySecret"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
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
    let weak = admin_with(s, &admin, "weak", &[]).await;
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

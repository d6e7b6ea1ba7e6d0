//! The management API over real HTTP: every error code with its status and body, scoped
//! administrators and Deny over Allow, signatures (ACS3 and RPC), timestamps and nonces,
//! SCIM credential rotation under traffic, OAuth client credentials, synchronization status,
//! and AccessKeys across a restart.

use crate::harness::*;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A field of an answer as a string.
fn text(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?} in {v}"))
        .to_owned()
}

/// Everything the API can show, `RequestId`s removed: a refused write must leave it equal.
async fn snapshot(s: &Server, k: &Key) -> Value {
    fn strip(mut v: Value) -> Value {
        if let Some(o) = v.as_object_mut() {
            o.remove("RequestId");
        }
        v
    }
    let dirs = s.api_ok(k, SSO, "ListDirectories", &[]).await;
    let mut per_dir = Vec::new();
    for d in dirs["Directories"].as_array().unwrap() {
        let id = d["DirectoryId"].as_str().unwrap();
        let page = [("DirectoryId", id), ("MaxResults", "100")];
        let users = s.api_ok(k, SSO, "ListUsers", &page).await;
        let groups = s.api_ok(k, SSO, "ListGroups", &page).await;
        let mut members = Vec::new();
        for g in groups["Groups"].as_array().unwrap() {
            let gid = g["GroupId"].as_str().unwrap();
            let m = s
                .api_ok(
                    k,
                    SSO,
                    "ListGroupMembers",
                    &[("DirectoryId", id), ("GroupId", gid), ("MaxResults", "100")],
                )
                .await;
            members.push(strip(m));
        }
        let creds = s
            .api_ok(k, SSO, "ListSCIMServerCredentials", &[("DirectoryId", id)])
            .await;
        per_dir.push(json!({
            "users": strip(users),
            "groups": strip(groups),
            "members": members,
            "credentials": strip(creds),
        }));
    }
    let admins = s.api_ok(k, RAM, "ListUsers", &[]).await;
    let policies = s
        .api_ok(k, RAM, "ListPolicies", &[("PolicyType", "Custom")])
        .await;
    json!({
        "directories": strip(dirs),
        "per_directory": per_dir,
        "admins": strip(admins),
        "policies": strip(policies),
    })
}

/// One refused call: what it sends and the answer it must get.
struct Refusal<'a> {
    key: &'a Key,
    version: &'a str,
    action: &'a str,
    params: Vec<(&'a str, &'a str)>,
    status: u16,
    code: &'a str,
}

/// Sends each refusal, checks status, `Code` and body fields, and that the whole visible
/// state is unchanged; reports every failure, not the first.
async fn check_refusals(s: &Server, admin: &Key, cases: &[Refusal<'_>]) {
    let mut failures = Vec::new();
    for c in cases {
        let before = snapshot(s, admin).await;
        let r = s.api(c.key, c.version, c.action, &c.params).await;
        if let Some(m) = fault_mismatch(&r, c.status, c.code) {
            failures.push(format!("{} {:?}: {m}", c.action, c.params));
        }
        if snapshot(s, admin).await != before {
            failures.push(format!(
                "{} {:?} ({}): the refused call changed something",
                c.action, c.params, c.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn create_policy(s: &Server, admin: &Key, name: &str, doc: &Value) {
    s.api_ok(
        admin,
        RAM,
        "CreatePolicy",
        &[("PolicyName", name), ("PolicyDocument", &doc.to_string())],
    )
    .await;
}

async fn create_user(s: &Server, k: &Key, dir: &str, name: &str) -> String {
    let r = s
        .api_ok(
            k,
            SSO,
            "CreateUser",
            &[("DirectoryId", dir), ("UserName", name)],
        )
        .await;
    text(&r, &["User", "UserId"])
}

async fn create_credential(s: &Server, k: &Key, dir: &str, kind: &str) -> (String, String) {
    let r = s
        .api_ok(
            k,
            SSO,
            "CreateSCIMServerCredential",
            &[("DirectoryId", dir), ("CredentialType", kind)],
        )
        .await;
    (
        text(&r, &["SCIMServerCredential", "CredentialId"]),
        text(&r, &["SCIMServerCredential", "CredentialSecret"]),
    )
}

async fn set_credential_status(s: &Server, k: &Key, dir: &str, id: &str, status: &str) {
    s.api_ok(
        k,
        SSO,
        "UpdateSCIMServerCredentialStatus",
        &[
            ("DirectoryId", dir),
            ("CredentialId", id),
            ("NewStatus", status),
        ],
    )
    .await;
}

#[tokio::test]
async fn every_error_code_has_its_status_and_a_refused_write_changes_nothing() {
    let s = Server::start();
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let alice = create_user(&s, &k, &d, "alice").await;
    let team = s
        .api_ok(
            &k,
            SSO,
            "CreateGroup",
            &[("DirectoryId", &d), ("GroupName", "team")],
        )
        .await;
    let team = text(&team, &["Group", "GroupId"]);
    s.api_ok(
        &k,
        SSO,
        "AddUserToGroup",
        &[("DirectoryId", &d), ("GroupId", &team), ("UserId", &alice)],
    )
    .await;
    let synced = s.user("carol-from-idp").await;
    let other = s
        .api_ok(&k, SSO, "CreateDirectory", &[("DirectoryName", "second")])
        .await;
    let other = text(&other, &["Directory", "DirectoryId"]);
    create_user(&s, &k, &other, "dave").await;
    // The bootstrap credential plus this one fill the directory's quota.
    create_credential(&s, &k, &d, "BearerToken").await;
    let stranger = Key {
        id: "LTAI-no-such-key".into(),
        secret: "whatever".into(),
    };
    let r = |action, params, status, code| Refusal {
        key: &k,
        version: SSO,
        action,
        params,
        status,
        code,
    };
    let cases = [
        r("GetDirectory", vec![], 400, "MissingParameter.DirectoryId"),
        r(
            "CreateUser",
            vec![("DirectoryId", &d)],
            400,
            "MissingParameter.UserName",
        ),
        r(
            "CreateUser",
            vec![("DirectoryId", &d), ("UserName", "no spaces allowed")],
            400,
            "InvalidParameter.UserName",
        ),
        r(
            "GetDirectory",
            vec![("DirectoryId", "d/../x")],
            400,
            "InvalidParameter.DirectoryId",
        ),
        r(
            "ListUsers",
            vec![("DirectoryId", &d), ("MaxResults", "0")],
            400,
            "InvalidParameter.MaxResults",
        ),
        r(
            "UpdateUserStatus",
            vec![
                ("DirectoryId", &d),
                ("UserId", &alice),
                ("NewStatus", "Off"),
            ],
            400,
            "InvalidParameter.NewStatus",
        ),
        r(
            "GetUser",
            vec![("DirectoryId", &d), ("UserId", "u-nosuchuser")],
            404,
            "EntityNotExists.User",
        ),
        r(
            "DeleteUser",
            vec![("DirectoryId", &d), ("UserId", "u-nosuchuser")],
            404,
            "EntityNotExists.User",
        ),
        r(
            "GetGroup",
            vec![("DirectoryId", &d), ("GroupId", "g-nosuchgroup")],
            404,
            "EntityNotExists.Group",
        ),
        r(
            "GetDirectory",
            vec![("DirectoryId", "d-nosuchdirectory")],
            404,
            "EntityNotExists.Directory",
        ),
        r(
            "CreateUser",
            vec![("DirectoryId", "d-nosuchdirectory"), ("UserName", "x")],
            404,
            "EntityNotExists.Directory",
        ),
        r(
            "DeleteSCIMServerCredential",
            vec![("DirectoryId", &d), ("CredentialId", "scimcred-nosuch")],
            404,
            "EntityNotExists.SCIMCredential",
        ),
        r(
            "UpdateSCIMServerCredentialStatus",
            vec![
                ("DirectoryId", &d),
                ("CredentialId", "scimcred-nosuch"),
                ("NewStatus", "Disabled"),
            ],
            404,
            "EntityNotExists.SCIMCredential",
        ),
        r(
            "CreateUser",
            vec![("DirectoryId", &d), ("UserName", "ALICE")],
            409,
            "EntityAlreadyExists.User",
        ),
        r(
            "CreateGroup",
            vec![("DirectoryId", &d), ("GroupName", "team")],
            409,
            "EntityAlreadyExists.Group",
        ),
        r(
            "AddUserToGroup",
            vec![("DirectoryId", &d), ("GroupId", &team), ("UserId", &alice)],
            409,
            "EntityAlreadyExists.GroupMember",
        ),
        r(
            "CreateSCIMServerCredential",
            vec![("DirectoryId", &d)],
            409,
            "QuotaExceeded.SCIMCredential",
        ),
        r(
            "DeleteUser",
            vec![("DirectoryId", &d), ("UserId", &alice)],
            409,
            "DeletionConflict.User.Group",
        ),
        r(
            "DeleteGroup",
            vec![("DirectoryId", &d), ("GroupId", &team)],
            409,
            "DeletionConflict.Group.User",
        ),
        r(
            "DeleteDirectory",
            vec![("DirectoryId", &other)],
            409,
            "DeletionConflict.Directory.User",
        ),
        r(
            "UpdateUser",
            vec![
                ("DirectoryId", &d),
                ("UserId", &synced),
                ("NewDisplayName", "Changed"),
            ],
            403,
            "OperationForbidden.SynchronizedUser",
        ),
        r(
            "DeleteUser",
            vec![("DirectoryId", &d), ("UserId", &synced)],
            403,
            "OperationForbidden.SynchronizedUser",
        ),
        r(
            "FrobnicateUser",
            vec![("DirectoryId", &d)],
            404,
            "InvalidAction.NotFound",
        ),
        Refusal {
            key: &stranger,
            ..r(
                "CreateUser",
                vec![("DirectoryId", &d), ("UserName", "x")],
                404,
                "InvalidAccessKeyId.NotFound",
            )
        },
        Refusal {
            version: RAM,
            ..r(
                "CreateUser",
                vec![("UserName", "no spaces")],
                400,
                "InvalidParameter.UserName",
            )
        },
        Refusal {
            version: RAM,
            ..r(
                "AttachPolicyToUser",
                vec![
                    ("UserName", "nobody"),
                    ("PolicyName", "AdministratorAccess"),
                ],
                400,
                "MissingParameter.PolicyType",
            )
        },
    ];
    check_refusals(&s, &k, &cases).await;

    // A synchronized user's status may still be changed through the API.
    s.api_ok(
        &k,
        SSO,
        "UpdateUserStatus",
        &[
            ("DirectoryId", &d),
            ("UserId", &synced),
            ("NewStatus", "Disabled"),
        ],
    )
    .await;
    let u = s
        .api_ok(
            &k,
            SSO,
            "GetUser",
            &[("DirectoryId", &d), ("UserId", &synced)],
        )
        .await;
    assert_eq!(u["User"]["Status"], "Disabled", "{u}");
    assert_eq!(u["User"]["ProvisionType"], "Synchronized", "{u}");
    assert_eq!(
        s.get(&format!("/Users/{synced}")).await.body["active"],
        false
    );
}

#[tokio::test]
async fn a_scoped_administrator_reads_its_directory_and_nothing_else() {
    let s = Server::start();
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let other = s
        .api_ok(
            &k,
            SSO,
            "CreateDirectory",
            &[("DirectoryName", "elsewhere")],
        )
        .await;
    let other = text(&other, &["Directory", "DirectoryId"]);
    let victim = create_user(&s, &k, &d, "victim").await;
    create_policy(
        &s,
        &k,
        "directory-reader",
        &json!({
            "Version": "1",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["cloudsso:Get*", "cloudsso:List*"],
                "Resource": [
                    format!("acs:cloudsso:*:*:directory/{d}"),
                    format!("acs:cloudsso:*:*:directory/{d}/*"),
                ],
            }],
        }),
    )
    .await;
    let reader = s
        .admin_with(&k, "reader", &[("Custom", "directory-reader")])
        .await;

    let users = s
        .api_ok(&reader, SSO, "ListUsers", &[("DirectoryId", &d)])
        .await;
    assert_eq!(users["Users"][0]["UserId"], victim.as_str(), "{users}");
    let dir = s
        .api_ok(&reader, SSO, "GetDirectory", &[("DirectoryId", &d)])
        .await;
    assert_eq!(dir["Directory"]["DirectoryId"], d.as_str());
    s.api_ok(
        &reader,
        SSO,
        "GetUser",
        &[("DirectoryId", &d), ("UserId", &victim)],
    )
    .await;

    let refused = |version, action, params| Refusal {
        key: &reader,
        version,
        action,
        params,
        status: 403,
        code: "NoPermission",
    };
    let cases = [
        refused(
            SSO,
            "CreateUser",
            vec![("DirectoryId", &d), ("UserName", "intruder")],
        ),
        refused(
            SSO,
            "DeleteUser",
            vec![("DirectoryId", &d), ("UserId", &victim)],
        ),
        refused(SSO, "CreateDirectory", vec![("DirectoryName", "mine")]),
        refused(SSO, "GetDirectory", vec![("DirectoryId", &other)]),
        refused(SSO, "ListUsers", vec![("DirectoryId", &other)]),
        refused(RAM, "CreateUser", vec![("UserName", "sneaky")]),
        refused(RAM, "CreateAccessKey", vec![("UserName", "reader")]),
    ];
    check_refusals(&s, &k, &cases).await;
}

#[tokio::test]
async fn an_explicit_deny_overrides_a_system_allow() {
    let s = Server::start();
    let k = s.admin_key();
    let d = s.directory_id.clone();
    create_policy(
        &s,
        &k,
        "no-user-deletion",
        &json!({
            "Version": "1",
            "Statement": [{"Effect": "Deny", "Action": "cloudsso:DeleteUser", "Resource": "*"}],
        }),
    )
    .await;
    let operator = s
        .admin_with(
            &k,
            "operator",
            &[
                ("System", "AliyunCloudSSOFullAccess"),
                ("Custom", "no-user-deletion"),
            ],
        )
        .await;
    let u = create_user(&s, &operator, &d, "made-by-operator").await;
    check_refusals(
        &s,
        &k,
        &[Refusal {
            key: &operator,
            version: SSO,
            action: "DeleteUser",
            params: vec![("DirectoryId", &d), ("UserId", &u)],
            status: 403,
            code: "NoPermission",
        }],
    )
    .await;
    s.api_ok(&k, SSO, "GetUser", &[("DirectoryId", &d), ("UserId", &u)])
        .await;
    // The administrator without the Deny may.
    s.api_ok(
        &k,
        SSO,
        "DeleteUser",
        &[("DirectoryId", &d), ("UserId", &u)],
    )
    .await;
}

#[tokio::test]
async fn signatures_timestamps_and_nonces_are_checked() {
    let s = Server::start();
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let create = |name: &str| {
        ApiCall::new(
            &k,
            SSO,
            "CreateUser",
            &[("DirectoryId", &d), ("UserName", name)],
        )
    };

    // A query value changed after signing.
    let before = snapshot(&s, &k).await;
    let signed = create("eve");
    let headers = s.sign(&signed);
    let mut tampered = signed.params.clone();
    tampered[1].1 = "mallory".into();
    let r = s
        .api_raw(hyper::Method::POST, &query_string(&tampered), &headers)
        .await;
    assert_fault(&r, 400, "SignatureDoesNotMatch");
    // Signed with the wrong secret.
    let mut wrong = create("eve");
    wrong.key.secret = "not-the-secret".into();
    assert_fault(&s.api_call(&wrong).await, 400, "SignatureDoesNotMatch");
    // Signed 20 minutes ago.
    let mut stale = create("eve");
    stale.date = api_time(-20 * 60);
    assert_fault(&s.api_call(&stale).await, 400, "InvalidTimeStamp.Expired");
    // And 20 minutes ahead.
    stale.date = api_time(20 * 60);
    assert_fault(&s.api_call(&stale).await, 400, "InvalidTimeStamp.Expired");
    assert_eq!(
        snapshot(&s, &k).await,
        before,
        "refused calls changed something"
    );

    // The identical signed request twice: the second is a replay.
    let once = create("frank");
    let first = s.api_call(&once).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let after_first = snapshot(&s, &k).await;
    assert_fault(&s.api_call(&once).await, 400, "SignatureNonceUsed");
    assert_eq!(
        snapshot(&s, &k).await,
        after_first,
        "the replay changed something"
    );

    // The older RPC style: HMAC-SHA1 over the parameters, `Signature` in the query.
    let r = s
        .api_rpc(&k, SSO, "GetDirectory", &[("DirectoryId", &d)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["Directory"]["DirectoryId"], d.as_str(), "{}", r.body);
    let r = s
        .api_rpc(
            &k,
            SSO,
            "CreateUser",
            &[("DirectoryId", &d), ("UserName", "grace")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let liar = Key {
        id: k.id.clone(),
        secret: "not-the-secret".into(),
    };
    let r = s
        .api_rpc(&liar, SSO, "GetDirectory", &[("DirectoryId", &d)])
        .await;
    assert_fault(&r, 400, "SignatureDoesNotMatch");
    // RPC requests get the same time window and nonce memory as ACS3 ones.
    let before = snapshot(&s, &k).await;
    let create_heidi = [("DirectoryId", d.as_str()), ("UserName", "heidi")];
    for offset in [-20 * 60, 20 * 60] {
        let r = s
            .api_rpc_at(&k, SSO, "CreateUser", &create_heidi, offset, &new_nonce())
            .await;
        assert_fault(&r, 400, "InvalidTimeStamp.Expired");
    }
    assert_eq!(
        snapshot(&s, &k).await,
        before,
        "stale RPC calls changed something"
    );
    let nonce = new_nonce();
    let r = s
        .api_rpc_at(&k, SSO, "CreateUser", &create_heidi, 0, &nonce)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after_first = snapshot(&s, &k).await;
    let ivan = [("DirectoryId", d.as_str()), ("UserName", "ivan")];
    let r = s.api_rpc_at(&k, SSO, "CreateUser", &ivan, 0, &nonce).await;
    assert_fault(&r, 400, "SignatureNonceUsed");
    assert_eq!(
        snapshot(&s, &k).await,
        after_first,
        "a reused RPC nonce changed something"
    );
}

/// What one client sent and got: (token, status) per request.
type TrafficLog = Arc<Mutex<Vec<(String, StatusCode)>>>;

/// Hammers `GET /Users` with whatever token `current` holds; logs (token, status).
fn hammer(
    s: Arc<Server>,
    current: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    log: TrafficLog,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            let token = current.lock().unwrap().clone();
            let status = s.scim_status(&token).await;
            log.lock().unwrap().push((token, status));
        }
    })
}

/// Waits until every log has at least `n` entries with `token`.
async fn wait_for(logs: &[TrafficLog], token: &str, n: usize) {
    for _ in 0..1000 {
        let done = logs
            .iter()
            .all(|l| l.lock().unwrap().iter().filter(|(t, _)| t == token).count() >= n);
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the traffic did not reach {n} requests with the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scim_credentials_rotate_under_traffic_without_a_failure() {
    let s = Arc::new(Server::start());
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let a = s.token.clone();
    let creds = s
        .api_ok(&k, SSO, "ListSCIMServerCredentials", &[("DirectoryId", &d)])
        .await;
    let a_id = creds["SCIMServerCredentials"][0]["CredentialId"]
        .as_str()
        .unwrap()
        .to_owned();

    let current = Arc::new(Mutex::new(a.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let logs: Vec<_> = (0..4).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
    let tasks: Vec<_> = logs
        .iter()
        .map(|l| hammer(s.clone(), current.clone(), stop.clone(), l.clone()))
        .collect();
    wait_for(&logs, &a, 10).await;

    let (b_id, b) = create_credential(&s, &k, &d, "BearerToken").await;
    wait_for(&logs, &a, 20).await;
    *current.lock().unwrap() = b.clone();
    // Every client has moved to B before A goes.
    wait_for(&logs, &b, 10).await;
    s.api_ok(
        &k,
        SSO,
        "DeleteSCIMServerCredential",
        &[("DirectoryId", &d), ("CredentialId", &a_id)],
    )
    .await;
    assert_eq!(s.scim_status(&a).await, StatusCode::UNAUTHORIZED);
    wait_for(&logs, &b, 30).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let all: Vec<(String, StatusCode)> = logs
        .iter()
        .flat_map(|l| l.lock().unwrap().clone())
        .collect();
    let failures: Vec<_> = all
        .iter()
        .filter(|(_, st)| *st != StatusCode::OK)
        .map(|(t, st)| format!("{} with token {}", st, if *t == a { "A" } else { "B" }))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed: {failures:?}",
        failures.len(),
        all.len()
    );

    // Disabling refuses the very next request; enabling lets it in again.
    set_credential_status(&s, &k, &d, &b_id, "Disabled").await;
    assert_eq!(s.scim_status(&b).await, StatusCode::UNAUTHORIZED);
    set_credential_status(&s, &k, &d, &b_id, "Enabled").await;
    assert_eq!(s.scim_status(&b).await, StatusCode::OK);
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    let raw = format!("{}:{}", enc(id), enc(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

const GRANT: &str = "grant_type=client_credentials";

/// A token for the client by HTTP Basic; asserts the success shape.
async fn token_by_basic(s: &Server, id: &str, secret: &str) -> Value {
    let r = s
        .oauth_token(GRANT, &[("authorization", &basic(id, secret))])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["access_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 32)
    );
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(
        r.body["expires_in"].as_i64().is_some_and(|n| n > 0),
        "{}",
        r.body
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.body
}

fn oauth_error(r: &Reply, status: StatusCode, error: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
}

#[tokio::test]
async fn oauth_client_credentials_issue_tokens_that_open_scim_until_revoked() {
    let s = Server::start();
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let (id, secret) = create_credential(&s, &k, &d, "OAuthClientSecret").await;

    let by_basic = token_by_basic(&s, &id, &secret).await;
    let t1 = text(&by_basic, &["access_token"]);
    assert_eq!(s.scim_status(&t1).await, StatusCode::OK);

    let form = format!(
        "{GRANT}&client_id={}&client_secret={}",
        enc(&id),
        enc(&secret)
    );
    let r = s.oauth_token(&form, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    let t2 = text(&r.body, &["access_token"]);
    assert_ne!(t1, t2);
    assert_eq!(s.scim_status(&t2).await, StatusCode::OK);

    let r = s
        .oauth_token(GRANT, &[("authorization", &basic(&id, "wrong-secret"))])
        .await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
    let r = s
        .oauth_token(
            "grant_type=password&username=a&password=b",
            &[("authorization", &basic(&id, &secret))],
        )
        .await;
    oauth_error(&r, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    assert_eq!(
        s.scim_status(&secret).await,
        StatusCode::UNAUTHORIZED,
        "the client secret is not a bearer token"
    );

    set_credential_status(&s, &k, &d, &id, "Disabled").await;
    assert_eq!(s.scim_status(&t1).await, StatusCode::UNAUTHORIZED);
    assert_eq!(s.scim_status(&t2).await, StatusCode::UNAUTHORIZED);
    let r = s
        .oauth_token(GRANT, &[("authorization", &basic(&id, &secret))])
        .await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");

    set_credential_status(&s, &k, &d, &id, "Enabled").await;
    let t3 = text(&token_by_basic(&s, &id, &secret).await, &["access_token"]);
    assert_eq!(s.scim_status(&t3).await, StatusCode::OK);
    s.api_ok(
        &k,
        SSO,
        "DeleteSCIMServerCredential",
        &[("DirectoryId", &d), ("CredentialId", &id)],
    )
    .await;
    assert_eq!(s.scim_status(&t3).await, StatusCode::UNAUTHORIZED);
    let r = s
        .oauth_token(GRANT, &[("authorization", &basic(&id, &secret))])
        .await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn oauth_tokens_expire_after_their_lifetime() {
    let s = Server::start_with(&["--oauth-token-ttl-seconds", "2"]);
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let (id, secret) = create_credential(&s, &k, &d, "OAuthClientSecret").await;
    let body = token_by_basic(&s, &id, &secret).await;
    assert_eq!(body["expires_in"], 2, "{body}");
    let t = text(&body, &["access_token"]);
    assert_eq!(s.scim_status(&t).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(s.scim_status(&t).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn disabling_scim_synchronization_refuses_scim_with_a_scim_error() {
    let s = Server::start();
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let set = |status: &'static str| {
        let (s, k, d) = (&s, &k, &d);
        async move {
            s.api_ok(
                k,
                SSO,
                "SetSCIMSynchronizationStatus",
                &[("DirectoryId", d), ("SCIMSynchronizationStatus", status)],
            )
            .await;
            let got = s
                .api_ok(
                    k,
                    SSO,
                    "GetSCIMSynchronizationStatus",
                    &[("DirectoryId", d)],
                )
                .await;
            assert_eq!(got["SCIMSynchronizationStatus"], status, "{got}");
        }
    };
    assert_eq!(s.scim_status(&s.token).await, StatusCode::OK);
    set("Disabled").await;
    let r = s.scim_get(&s.token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let schemas = r.body["schemas"].as_array().unwrap();
    assert!(schemas.iter().any(|x| x == ERROR), "{}", r.body);
    assert_eq!(r.body["status"], "403", "{}", r.body);
    set("Enabled").await;
    assert_eq!(s.scim_status(&s.token).await, StatusCode::OK);
}

#[tokio::test]
async fn access_keys_survive_a_restart_and_their_secrets_are_sealed_on_disk() {
    let s = Server::start();
    let k = s.admin_key();
    let ops = s
        .admin_with(&k, "ops", &[("System", "AliyunCloudSSOFullAccess")])
        .await;
    s.api_ok(&ops, SSO, "ListDirectories", &[]).await;
    let data = s.data.clone();
    let (stopped, _tmp) = s.stop_keep();
    assert!(stopped, "exit 0 after SIGTERM");

    let db = std::fs::read(data.join("cloudsso.redb")).unwrap();
    for (who, secret) in [("ops", &ops.secret), ("first administrator", &k.secret)] {
        assert!(
            !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the {who}'s AccessKey secret is in the database in plain text"
        );
    }

    let s = Server::start_on(&data, &[]);
    let dirs = s.api_ok(&ops, SSO, "ListDirectories", &[]).await;
    assert_eq!(dirs["TotalCounts"], 1, "{dirs}");
    s.api_ok(&k, RAM, "GetUser", &[("UserName", "ops")]).await;
}

//! The isolation matrix (issue 15): two directories A and B on one server, each with users and
//! groups. Every SCIM route and method with B's bearer and with B's OAuth token against A's ids,
//! and every management operation of the catalog (`api::catalog::operations()`, required
//! parameters filled with A's ids) with a read-only administrator and with an administrator
//! whose policy names only directory B. Counts the cases, and asserts 0 leaks (no A data in
//! any answer that did not carry it in the request) and 0 changes (A's full state, read before
//! and after, identical).

use crate::harness::*;
use cloudsso::api::catalog::{self, Operation};
use hyper::Method;
use serde_json::{Value, json};

/// A's fixtures: names and attributes never sent by B or by a scoped administrator, so any
/// answer holding one leaked it.
const A_SECRETS: &[&str] = &[
    "alpha-ann",
    "alpha-bob",
    "Alpha Ann Display",
    "ann@alpha.example",
    "alpha-ext-1",
    "alpha-team",
];

struct World {
    s: Server,
    root: Key,
    a: String,
    b: String,
    a_users: Vec<String>,
    a_group: String,
    a_credential: String,
    b_user: String,
    b_group: String,
    /// B's SCIM bearer secret and an OAuth access token of B's client.
    b_tokens: Vec<(&'static str, String)>,
}

fn text(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?} in {v}"))
        .to_owned()
}

async fn scim_as(
    s: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let auth = format!("Bearer {token}");
    let body = body.map(|b| serde_json::to_vec(&b).unwrap());
    s.send(
        method,
        path,
        &[("authorization", &auth), ("content-type", SCIM)],
        body,
    )
    .await
}

async fn world() -> World {
    let s = Server::start();
    let root = s.admin_key();
    let a = s.directory_id.clone();
    let ann = s
        .post("/Users", json!({"userName": "alpha-ann", "displayName": "Alpha Ann Display", "externalId": "alpha-ext-1", "emails": [{"value": "ann@alpha.example"}]}))
        .await
        .id();
    let bob = s.user("alpha-bob").await;
    let a_group = s.group("alpha-team", &[&ann, &bob]).await;
    let creds = s
        .api_ok(
            &root,
            SSO,
            "ListSCIMServerCredentials",
            &[("DirectoryId", &a)],
        )
        .await;
    let a_credential = text(&creds["SCIMServerCredentials"][0], &["CredentialId"]);
    let b = s
        .api_ok(&root, SSO, "CreateDirectory", &[("DirectoryName", "beta")])
        .await;
    let b = text(&b, &["Directory", "DirectoryId"]);
    let bearer = s
        .api_ok(
            &root,
            SSO,
            "CreateSCIMServerCredential",
            &[("DirectoryId", &b), ("CredentialType", "BearerToken")],
        )
        .await;
    let bearer = text(&bearer, &["SCIMServerCredential", "CredentialSecret"]);
    let client = s
        .api_ok(
            &root,
            SSO,
            "CreateSCIMServerCredential",
            &[("DirectoryId", &b), ("CredentialType", "OAuthClientSecret")],
        )
        .await;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        enc(&text(&client, &["SCIMServerCredential", "CredentialId"])),
        enc(&text(
            &client,
            &["SCIMServerCredential", "CredentialSecret"]
        ))
    );
    let token = s.oauth_token(&form, &[]).await;
    let token = text(&token.body, &["access_token"]);
    let r = scim_as(
        &s,
        &bearer,
        Method::POST,
        "/Users",
        Some(json!({"userName": "beta-cy"})),
    )
    .await;
    let b_user = r.id();
    let r = scim_as(
        &s,
        &bearer,
        Method::POST,
        "/Groups",
        Some(json!({"displayName": "beta-team", "members": [{"value": b_user}]})),
    )
    .await;
    let b_group = r.id();
    World {
        root,
        a,
        b,
        a_users: vec![ann, bob],
        a_group,
        a_credential,
        b_user,
        b_group,
        b_tokens: vec![("bearer", bearer), ("oauth", token)],
        s,
    }
}

/// (version, action, parameters) of one read.
type Read<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

/// A's whole state, read with A's own bearer and the root administrator (request ids removed).
async fn a_state(w: &World) -> Value {
    let s = &w.s;
    let mut out = vec![
        s.get("/Users?count=1000").await.body,
        s.get("/Groups?count=1000").await.body,
    ];
    let reads: &[Read] = &[
        (SSO, "GetDirectory", vec![("DirectoryId", &w.a)]),
        (
            SSO,
            "ListSCIMServerCredentials",
            vec![("DirectoryId", &w.a)],
        ),
        (
            SSO,
            "ListUsers",
            vec![("DirectoryId", &w.a), ("MaxResults", "100")],
        ),
        (
            SSO,
            "ListGroups",
            vec![("DirectoryId", &w.a), ("MaxResults", "100")],
        ),
        (
            SSO,
            "ListGroupMembers",
            vec![("DirectoryId", &w.a), ("GroupId", &w.a_group)],
        ),
        (SSO, "ListDirectories", vec![]),
        (SSO, "ListAccessConfigurations", vec![("DirectoryId", &w.a)]),
        (RAM, "ListUsers", vec![]),
        (RAM, "ListPolicies", vec![]),
    ];
    for (version, action, params) in reads {
        let mut r = s.api(&w.root, version, action, params).await.body;
        if let Some(o) = r.as_object_mut() {
            o.remove("RequestId");
        }
        out.push(json!({*action: r}));
    }
    Value::Array(out)
}

/// The A secrets (and, when `ids` is set, A's ids) an answer holds that its request did not.
fn leaks(w: &World, request: &str, answer: &str, ids: bool) -> Vec<String> {
    let mut markers: Vec<&str> = A_SECRETS.to_vec();
    if ids {
        markers.extend(w.a_users.iter().map(String::as_str));
        markers.push(&w.a_group);
        markers.push(&w.a_credential);
    }
    markers
        .into_iter()
        .filter(|m| !request.contains(m) && answer.contains(m))
        .map(str::to_owned)
        .collect()
}

/// Every SCIM route and method, naming A's ids: (method, path, body, may succeed on B's own data).
fn scim_cases(w: &World) -> Vec<(Method, String, Option<Value>, bool)> {
    let (u, g) = (&w.a_users[0], &w.a_group);
    let f = |s: &str| enc(s);
    let put_user = json!({"userName": "taken-over"});
    let add_a = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": u}]}]});
    let rename = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
    let search = |filter: String| {
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter}),
        )
    };
    vec![
        (Method::GET, "/Users".into(), None, true),
        (Method::GET, "/Groups".into(), None, true),
        (
            Method::GET,
            format!("/Users?filter={}", f("userName eq \"alpha-ann\"")),
            None,
            true,
        ),
        (
            Method::GET,
            format!("/Users?filter={}", f(&format!("id eq \"{u}\""))),
            None,
            true,
        ),
        (
            Method::GET,
            format!("/Users?filter={}", f("externalId eq \"alpha-ext-1\"")),
            None,
            true,
        ),
        (
            Method::GET,
            format!("/Users?filter={}", f("emails.value co \"alpha\"")),
            None,
            true,
        ),
        (
            Method::GET,
            format!("/Groups?filter={}", f("displayName sw \"alpha\"")),
            None,
            true,
        ),
        (
            Method::GET,
            format!("/Groups?filter={}", f(&format!("members.value eq \"{u}\""))),
            None,
            true,
        ),
        (
            Method::POST,
            "/Users/.search".into(),
            search("userName sw \"alpha\"".into()),
            true,
        ),
        (
            Method::POST,
            "/Groups/.search".into(),
            search(format!("id eq \"{g}\"")),
            true,
        ),
        (
            Method::POST,
            "/.search".into(),
            search("userName pr or displayName pr".into()),
            true,
        ),
        (Method::GET, format!("/Users/{u}"), None, false),
        (
            Method::GET,
            format!("/Users/{u}?attributes=userName"),
            None,
            false,
        ),
        (Method::GET, format!("/Groups/{g}"), None, false),
        (
            Method::GET,
            format!("/Groups/{g}?excludedAttributes=members"),
            None,
            false,
        ),
        (Method::PUT, format!("/Users/{u}"), Some(put_user), false),
        (
            Method::PUT,
            format!("/Groups/{g}"),
            Some(json!({"displayName": "taken-over"})),
            false,
        ),
        (
            Method::PATCH,
            format!("/Users/{u}"),
            Some(rename.clone()),
            false,
        ),
        (Method::PATCH, format!("/Groups/{g}"), Some(rename), false),
        (
            Method::PATCH,
            format!("/Groups/{}", w.b_group),
            Some(add_a),
            false,
        ),
        (
            Method::POST,
            "/Groups".into(),
            Some(json!({"displayName": "beta-steal", "members": [{"value": u}]})),
            false,
        ),
        (Method::DELETE, format!("/Users/{u}"), None, false),
        (Method::DELETE, format!("/Groups/{g}"), None, false),
        (
            Method::POST,
            "/Bulk".into(),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [{"method": "DELETE", "path": format!("/Users/{u}")}]}),
            ),
            false,
        ),
    ]
}

/// A list answer on B's behalf holds only B's own resources.
fn only_b(w: &World, body: &Value) -> bool {
    body["Resources"].as_array().is_none_or(|rs| {
        rs.iter()
            .all(|r| r["id"] == w.b_user || r["id"] == w.b_group)
    })
}

#[tokio::test]
async fn another_directorys_credentials_see_and_change_nothing() {
    let w = world().await;
    for (_, token) in &w.b_tokens {
        let r = scim_as(&w.s, token, Method::GET, "/Users", None).await;
        assert_eq!(r.body["Resources"][0]["userName"], "beta-cy", "{}", r.body);
    }
    let before = a_state(&w).await;
    assert!(
        A_SECRETS.iter().all(|m| before.to_string().contains(m)),
        "{before}"
    );
    let (mut cases, mut failures) = (0, Vec::new());
    for (name, token) in &w.b_tokens {
        for (method, path, body, may_succeed) in scim_cases(&w) {
            cases += 1;
            let request = format!(
                "{path} {}",
                body.as_ref().map(Value::to_string).unwrap_or_default()
            );
            let r = scim_as(&w.s, token, method.clone(), &path, body).await;
            let answer = String::from_utf8_lossy(&r.raw);
            let leaked = leaks(&w, &request, &answer, true);
            let wrong = if may_succeed {
                !only_b(&w, &r.body)
            } else {
                r.status.is_success()
            };
            if !leaked.is_empty() || wrong || r.status.is_server_error() {
                failures.push(format!(
                    "{name} {method} {path}: {} leaked {leaked:?}: {answer}",
                    r.status
                ));
            }
        }
    }
    let after = a_state(&w).await;
    println!(
        "isolation: {cases} SCIM cases with B's credentials, {} failures",
        failures.len()
    );
    assert_eq!(before, after, "A's state changed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A parameter's value in a call naming directory A.
fn fill(w: &World, param: &str) -> String {
    match param {
        "DirectoryId" => w.a.clone(),
        "UserId" | "PrincipalId" => w.a_users[0].clone(),
        "GroupId" => w.a_group.clone(),
        "CredentialId" => w.a_credential.clone(),
        "PrincipalType" => "User".into(),
        "TargetType" => "RD-Account".into(),
        "AccountId" | "TargetId" => "1000000000000001".into(),
        "AccessConfigurationId" => "ac-00000000000000000001".into(),
        "PolicyType" | "PermissionPolicyType" => "System".into(),
        "PolicyName" | "PermissionPolicyName" => "AdministratorAccess".into(),
        "UserName" => "isolation-admin".into(),
        "GroupName" | "NewGroupName" => "isolation-group".into(),
        "Status" | "NewStatus" | "MFAAuthenticationStatus" | "SCIMSynchronizationStatus" => {
            "Disabled".into()
        }
        "PolicyDocument" | "NewInlinePolicyDocument" => {
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into()
        }
        "ExternalId" => r#"{"Id":"alpha-ext-1","Issuer":"x"}"#.into(),
        _ => "isolation-value".into(),
    }
}

fn is_read(op: &Operation) -> bool {
    op.name.starts_with("Get") || op.name.starts_with("List")
}

/// Every operation of the catalog with its required parameters (and `DirectoryId` where it
/// takes one) filled from A.
fn api_calls(w: &World) -> Vec<(&'static Operation, Vec<(String, String)>)> {
    catalog::operations()
        .map(|op| {
            let params = op
                .params
                .iter()
                .filter(|p| p.required || p.name == "DirectoryId")
                .map(|p| (p.name.to_owned(), fill(w, p.name)))
                .collect();
            (op, params)
        })
        .collect()
}

async fn admin(w: &World, name: &str, policy: (&str, &str)) -> Key {
    let (s, root) = (&w.s, &w.root);
    s.api_ok(root, RAM, "CreateUser", &[("UserName", name)])
        .await;
    s.api_ok(
        root,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", name),
            ("PolicyName", policy.1),
            ("PolicyType", policy.0),
        ],
    )
    .await;
    let k = s
        .api_ok(root, RAM, "CreateAccessKey", &[("UserName", name)])
        .await;
    Key {
        id: text(&k, &["AccessKey", "AccessKeyId"]),
        secret: text(&k, &["AccessKey", "AccessKeySecret"]),
    }
}

/// Runs every catalog call as `key`; `refused(op, params)` says which must be refused, and
/// `check_leaks` whether answers must hold no A data.
async fn run_catalog(
    w: &World,
    key: &Key,
    who: &str,
    refused: impl Fn(&Operation, &[(String, String)]) -> bool,
    check_leaks: bool,
) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let calls = api_calls(w);
    for (op, params) in &calls {
        let p: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = w.s.api(key, op.product.version(), op.name, &p).await;
        let answer = String::from_utf8_lossy(&r.raw);
        let request = format!("{params:?}");
        let leaked = if check_leaks {
            leaks(w, &request, &answer, false)
        } else {
            Vec::new()
        };
        let must_refuse = refused(op, params);
        if r.status.is_server_error()
            || (must_refuse && r.status.is_success())
            || !leaked.is_empty()
        {
            failures.push(format!(
                "{who} {} {params:?}: {} leaked {leaked:?}: {answer}",
                op.name, r.status
            ));
        }
    }
    (calls.len(), failures)
}

#[tokio::test]
async fn read_only_and_other_directory_administrators_change_nothing_in_a() {
    let w = world().await;
    let read_only = admin(
        &w,
        "readonly-admin",
        ("System", "AliyunCloudSSOReadOnlyAccess"),
    )
    .await;
    let doc = json!({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cloudsso:*", "Resource": [
        format!("acs:cloudsso:*:*:directory/{}", w.b),
        format!("acs:cloudsso:*:*:directory/{}/*", w.b),
    ]}]});
    w.s.api_ok(
        &w.root,
        RAM,
        "CreatePolicy",
        &[
            ("PolicyName", "only-b"),
            ("PolicyDocument", &doc.to_string()),
        ],
    )
    .await;
    let scoped = admin(&w, "b-admin", ("Custom", "only-b")).await;
    // Controls: each administrator can do what its policy grants, and the state read holds
    // A's data, so a refusal below is the policy's and a difference would show.
    let b = [("DirectoryId", w.b.as_str())];
    w.s.api_ok(&scoped, SSO, "GetDirectory", &b).await;
    w.s.api_ok(
        &scoped,
        SSO,
        "CreateGroup",
        &[b[0], ("GroupName", "beta-more")],
    )
    .await;
    w.s.api_ok(
        &read_only,
        SSO,
        "GetUser",
        &[("DirectoryId", &w.a), ("UserId", &w.a_users[0])],
    )
    .await;
    let before = a_state(&w).await;
    assert!(
        A_SECRETS.iter().all(|m| before.to_string().contains(m)),
        "{before}"
    );
    let (n1, mut failures) =
        run_catalog(&w, &read_only, "read-only", |op, _| !is_read(op), false).await;
    let names_a = |_: &Operation, p: &[(String, String)]| {
        p.iter().any(|(k, v)| k == "DirectoryId" && *v == w.a)
    };
    let (n2, f2) = run_catalog(&w, &scoped, "scoped-to-B", names_a, true).await;
    failures.extend(f2);
    let after = a_state(&w).await;
    println!(
        "isolation: {} API cases ({n1} read-only, {n2} scoped to B), {} failures",
        n1 + n2,
        failures.len()
    );
    assert_eq!(before, after, "A's state changed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! The management API's front door, attacked over real HTTP (issue 15): what names the
//! operation must be what the signature covers (RPC and ACS3), authenticating headers are sent
//! once, nonces are kept per AccessKey and cannot be replayed across a restart, and empty
//! nonces, garbage `NextToken`s and unterminated `Filter` quotes are refused.

use crate::harness::*;
use cloudsso::api::signature::{RequestParts, acs3_signature};
use hyper::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `k=v&...` of a signed RPC (HMAC-SHA1) `GET` request, signed now with a fresh nonce.
fn rpc_now(key: &Key, version: &str, action: &str, params: &[(&str, &str)]) -> String {
    rpc_query(key, version, action, params, 0, &new_nonce())
}

/// Sends `GET /?query` with these headers.
async fn get(s: &Server, query: &str, headers: &[(&str, &str)]) -> Reply {
    let url = format!("http://{}/?{query}", s.addr);
    s.send(Method::GET, &url, headers, None).await
}

/// An ACS3 `POST` with exactly `headers` (plus `host` and `x-acs-content-sha256`), signed
/// over exactly the `signed` header names, with `body`: what a client that leaves headers
/// out of its signature sends.
async fn acs3_custom(
    s: &Server,
    key: &Key,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    signed: &[&str],
    body: &[u8],
) -> Reply {
    let query = pairs(query);
    let body_hash = cloudsso::model::hex_lower(&Sha256::digest(body));
    let mut all = pairs(headers);
    all.push(("host".into(), s.addr.clone()));
    all.push(("x-acs-content-sha256".into(), body_hash.clone()));
    let mut names: Vec<String> = signed.iter().map(|n| (*n).to_owned()).collect();
    names.extend(["host".to_owned(), "x-acs-content-sha256".to_owned()]);
    names.sort();
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: &query,
        headers: &all,
    };
    let signature = acs3_signature(&key.secret, &parts, &names, &body_hash).unwrap();
    all.push((
        "authorization".into(),
        format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={signature}",
            key.id,
            names.join(";")
        ),
    ));
    let h: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let url = format!("http://{}/?{}", s.addr, query_string(&query));
    s.send(Method::POST, &url, &h, Some(body.to_vec())).await
}

/// The AccessKey ids of RAM user `name`.
async fn keys_of(s: &Server, admin: &Key, name: &str) -> Vec<Value> {
    let r = s
        .api_ok(admin, RAM, "ListAccessKeys", &[("UserName", name)])
        .await;
    r["AccessKeys"]["AccessKey"].as_array().unwrap().clone()
}

/// Whether RAM user `name` exists.
async fn user_exists(s: &Server, admin: &Key, name: &str) -> bool {
    let r = s.api(admin, RAM, "GetUser", &[("UserName", name)]).await;
    r.status == StatusCode::OK
}

/// A new RAM user with one AccessKey and no policy: it can sign, and may do nothing.
async fn powerless(s: &Server, admin: &Key, name: &str) -> Key {
    s.api_ok(admin, RAM, "CreateUser", &[("UserName", name)])
        .await;
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

#[tokio::test]
async fn an_rpc_signature_names_the_operation_and_headers_cannot_change_it() {
    let s = Server::start();
    let k = s.admin_key();
    s.api_ok(&k, RAM, "CreateUser", &[("UserName", "victim")])
        .await;
    let get_victim = [("UserName", "victim")];
    // (signed version, signed action, header, header value, status, code)
    let cases = [
        (
            RAM,
            "GetUser",
            "x-acs-action",
            "CreateAccessKey",
            400,
            "InvalidParameter.Action",
        ),
        (
            RAM,
            "GetUser",
            "x-acs-action",
            "DeleteUser",
            400,
            "InvalidParameter.Action",
        ),
        (
            RAM,
            "GetUser",
            "X-Acs-Action",
            "DeleteUser",
            400,
            "InvalidParameter.Action",
        ),
        (
            RAM,
            "GetUser",
            "x-acs-version",
            SSO,
            400,
            "InvalidParameter.Version",
        ),
        (
            SSO,
            "GetUser",
            "x-acs-version",
            RAM,
            400,
            "InvalidParameter.Version",
        ),
        // A header that repeats what is signed changes nothing.
        (RAM, "GetUser", "x-acs-action", "GetUser", 200, ""),
        (RAM, "GetUser", "x-acs-version", RAM, 200, ""),
    ];
    let mut failures = Vec::new();
    for (version, action, header, value, status, code) in cases {
        let q = rpc_now(&k, version, action, &get_victim);
        let r = get(&s, &q, &[(header, value)]).await;
        let wrong = if status == 200 {
            (r.status != StatusCode::OK).then(|| format!("{}: {}", r.status, r.body))
        } else {
            fault_mismatch(&r, status, code)
        };
        if let Some(w) = wrong {
            failures.push(format!("{version} {action} + {header}: {value}: {w}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        keys_of(&s, &k, "victim").await.is_empty(),
        "an AccessKey was created"
    );
    assert!(user_exists(&s, &k, "victim").await, "the user was deleted");
}

#[tokio::test]
async fn an_acs3_signature_covers_the_operation_and_how_the_body_is_read() {
    let s = Server::start();
    let k = s.admin_key();
    s.api_ok(&k, RAM, "CreateUser", &[("UserName", "victim")])
        .await;
    let date = api_time(0);
    let form = "application/x-www-form-urlencoded";
    let acs = |action: &'static str, version: &'static str| {
        vec![
            ("x-acs-action", action),
            ("x-acs-version", version),
            ("x-acs-signature-nonce", ""),
            ("x-acs-date", ""),
        ]
    };
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a str,
        u16,
        &'a str,
    );
    let all = [
        "x-acs-action",
        "x-acs-version",
        "x-acs-signature-nonce",
        "x-acs-date",
    ];
    let no_action = ["x-acs-version", "x-acs-signature-nonce", "x-acs-date"];
    let no_version = ["x-acs-action", "x-acs-signature-nonce", "x-acs-date"];
    let with_ct = [
        "content-type",
        "x-acs-action",
        "x-acs-version",
        "x-acs-signature-nonce",
        "x-acs-date",
    ];
    let victim: &[(&str, &str)] = &[("UserName", "victim")];
    // (what, headers, query, signed headers, body, status, code)
    let cases: Vec<Case> = vec![
        (
            "x-acs-action sent, not signed",
            acs("DeleteUser", RAM),
            victim,
            &no_action,
            "",
            400,
            "InvalidAuthorization",
        ),
        (
            "x-acs-version sent, not signed",
            acs("DeleteUser", RAM),
            victim,
            &no_version,
            "",
            400,
            "InvalidAuthorization",
        ),
        (
            "no x-acs-action: the action in the query",
            vec![
                ("x-acs-version", RAM),
                ("x-acs-signature-nonce", ""),
                ("x-acs-date", ""),
            ],
            &[("Action", "DeleteUser"), ("UserName", "victim")],
            &no_action,
            "",
            400,
            "MissingParameter.Action",
        ),
        (
            "form body, content-type not signed",
            [acs("DeleteUser", RAM), vec![("content-type", form)]].concat(),
            &[],
            &all,
            "UserName=victim",
            400,
            "InvalidAuthorization",
        ),
        (
            "form body, content-type signed",
            [acs("GetUser", RAM), vec![("content-type", form)]].concat(),
            &[],
            &with_ct,
            "UserName=victim",
            200,
            "",
        ),
        (
            "everything signed",
            acs("GetUser", RAM),
            victim,
            &all,
            "",
            200,
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (what, headers, query, signed, body, status, code) in cases {
        let nonce = new_nonce();
        let headers: Vec<(&str, &str)> = headers
            .into_iter()
            .map(|(h, v)| match h {
                "x-acs-signature-nonce" => (h, nonce.as_str()),
                "x-acs-date" => (h, date.as_str()),
                _ => (h, v),
            })
            .collect();
        let r = acs3_custom(&s, &k, query, &headers, signed, body.as_bytes()).await;
        let wrong = if status == 200 {
            (r.status != StatusCode::OK).then(|| format!("{}: {}", r.status, r.body))
        } else {
            fault_mismatch(&r, status, code)
        };
        if let Some(w) = wrong {
            failures.push(format!("{what}: {w}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(user_exists(&s, &k, "victim").await, "the user was deleted");
}

#[tokio::test]
async fn authenticating_headers_are_sent_once() {
    let s = Server::start();
    let k = s.admin_key();
    let cases = [
        ("authorization", "ACS3-HMAC-SHA256 garbage"),
        (
            "Authorization",
            "ACS3-HMAC-SHA256 Credential=x,SignedHeaders=host,Signature=00",
        ),
        ("x-acs-signature-nonce", "another"),
        ("x-acs-date", "2020-01-01T00:00:00Z"),
        ("x-acs-action", "DeleteUser"),
        ("x-acs-version", RAM),
        ("x-acs-content-sha256", "00"),
        ("content-type", "application/json"),
    ];
    let mut failures = Vec::new();
    for (name, value) in cases {
        let call = ApiCall::new(&k, RAM, "GetUser", &[("UserName", "admin")]);
        let mut headers = s.sign(&call);
        if name == "content-type" {
            headers.push((name.into(), "application/x-www-form-urlencoded".into()));
        }
        headers.push((name.into(), value.into()));
        let r = s
            .api_raw(Method::POST, &query_string(&call.params), &headers)
            .await;
        if let Some(w) = fault_mismatch(&r, 400, "InvalidHeader.Repeated") {
            failures.push(format!("second {name}: {w}"));
        } else if !r.body["Message"]
            .as_str()
            .unwrap()
            .contains("more than once")
        {
            failures.push(format!("second {name}: {}", r.body));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The same request with each header once is answered.
    let call = ApiCall::new(&k, SSO, "ListDirectories", &[]);
    assert_eq!(s.api_call(&call).await.status, StatusCode::OK);
}

#[tokio::test]
async fn empty_nonces_garbage_next_tokens_and_open_quotes_are_refused() {
    let s = Server::start();
    let k = s.admin_key();
    let d = s.directory_id.clone();
    let mut failures = Vec::new();
    let mut check = |what: String, r: &Reply, status: u16, code: &str| {
        if let Some(w) = fault_mismatch(r, status, code) {
            failures.push(format!("{what}: {w}"));
        }
    };

    // Empty nonces, ACS3 and RPC, twice each (the first must not be accepted either).
    for _ in 0..2 {
        let mut call = ApiCall::new(&k, SSO, "ListDirectories", &[]);
        call.nonce = String::new();
        let r = s.api_call(&call).await;
        check(
            "empty x-acs-signature-nonce".into(),
            &r,
            400,
            "MissingParameter.SignatureNonce",
        );
        let q = rpc_query(&k, SSO, "ListDirectories", &[], 0, "");
        let r = get(&s, &q, &[]).await;
        check(
            "empty SignatureNonce".into(),
            &r,
            400,
            "MissingParameter.SignatureNonce",
        );
    }

    // Every list refuses a NextToken it did not issue.
    type List<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let lists: [List; 9] = [
        (SSO, "ListDirectories", &[]),
        (SSO, "ListUsers", &[("DirectoryId", d.as_str())]),
        (SSO, "ListGroups", &[("DirectoryId", d.as_str())]),
        (
            SSO,
            "ListSCIMServerCredentials",
            &[("DirectoryId", d.as_str())],
        ),
        (
            SSO,
            "ListAccessConfigurations",
            &[("DirectoryId", d.as_str())],
        ),
        (RAM, "ListUsers", &[]),
        (RAM, "ListPolicies", &[]),
        (RAM, "ListAccessKeys", &[("UserName", "admin")]),
        (RAM, "ListPoliciesForUser", &[("UserName", "admin")]),
    ];
    for (version, action, params) in lists {
        for token in ["garbage", "b2s", "%%%"] {
            let mut p = params.to_vec();
            p.push(("NextToken", token));
            let r = s.api(&k, version, action, &p).await;
            check(
                format!("{action} ({version}) NextToken={token}"),
                &r,
                400,
                "InvalidParameter.NextToken",
            );
        }
    }

    // Filters whose quote does not close.
    let filters = [
        ("ListUsers", "UserName eq \"alice"),
        ("ListUsers", "UserName sw \""),
        ("ListUsers", "UserName eq alice\""),
        ("ListGroups", "GroupName sw \"ops"),
        ("ListAccessConfigurations", "AccessConfigurationName eq \"x"),
    ];
    for (action, filter) in filters {
        let r = s
            .api(&k, SSO, action, &[("DirectoryId", &d), ("Filter", filter)])
            .await;
        check(
            format!("{action} Filter={filter}"),
            &r,
            400,
            "InvalidParameter.Filter",
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The same lists answer a well-formed filter.
    let r = s
        .api(
            &k,
            SSO,
            "ListUsers",
            &[("DirectoryId", &d), ("Filter", "UserName eq \"alice\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn one_key_filling_its_nonce_window_throttles_only_itself() {
    const PER_KEY: usize = 4;
    let s = Server::start_with(&["--api-nonces-per-key-max", &PER_KEY.to_string()]);
    let k = s.admin_key();
    // Two of the administrator's four.
    let flooder = powerless(&s, &k, "flooder").await;
    // The flooder may do nothing, but every validly signed call spends one of its nonces.
    for _ in 0..PER_KEY {
        let r = s.api(&flooder, SSO, "ListDirectories", &[]).await;
        assert_fault(&r, 403, "NoPermission");
    }
    let r = s.api(&flooder, SSO, "ListDirectories", &[]).await;
    assert_fault(&r, 503, "Throttling");
    // The administrator's own window is untouched: its third and fourth calls pass.
    for _ in 0..2 {
        s.api_ok(&k, SSO, "ListDirectories", &[]).await;
    }
    // And its own bound is the same: the fifth is throttled.
    assert_fault(
        &s.api(&k, SSO, "ListDirectories", &[]).await,
        503,
        "Throttling",
    );
    // A wrong signature never spends a nonce: refused for the signature, not throttled.
    let liar = Key {
        id: k.id.clone(),
        secret: "wrong".into(),
    };
    assert_fault(
        &s.api(&liar, SSO, "ListDirectories", &[]).await,
        400,
        "SignatureDoesNotMatch",
    );
}

#[tokio::test]
async fn a_request_served_before_a_restart_cannot_be_replayed_after_it() {
    let s = Server::start();
    let k = s.admin_key();
    s.api_ok(&k, RAM, "CreateUser", &[("UserName", "bob")])
        .await;
    let captured = ApiCall::new(&k, RAM, "CreateAccessKey", &[("UserName", "bob")]);
    let headers = s.sign(&captured);
    let query = query_string(&captured.params);
    let r = s.api_raw(Method::POST, &query, &headers).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rpc = rpc_now(&k, RAM, "GetUser", &[("UserName", "bob")]);
    assert_eq!(get(&s, &rpc, &[]).await.status, StatusCode::OK);

    let data = s.data.clone();
    let (stopped, _tmp) = s.stop_keep();
    assert!(stopped, "exit 0 after SIGTERM");
    let s = Server::start_on(&data, &[]);
    // The same bytes again, ACS3 and RPC: refused, and nothing happens.
    let r = s.api_raw(Method::POST, &query, &headers).await;
    assert_fault(&r, 400, "InvalidTimeStamp.Expired");
    let message = r.body["Message"].as_str().unwrap();
    assert!(message.contains("before the server started"), "{message}");
    assert_fault(&get(&s, &rpc, &[]).await, 400, "InvalidTimeStamp.Expired");
    // Signed now, the same call is served at once.
    assert_eq!(
        keys_of(&s, &k, "bob").await.len(),
        1,
        "the replay made a key"
    );
    let r = s
        .api(&k, RAM, "CreateAccessKey", &[("UserName", "bob")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn a_request_signed_ahead_of_the_clock_cannot_be_replayed_after_a_restart() {
    let s = Server::start();
    let k = s.admin_key();
    let fast = powerless(&s, &k, "fast").await;
    s.api_ok(
        &k,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", "fast"),
            ("PolicyName", "AdministratorAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await;
    s.api_ok(&k, RAM, "CreateUser", &[("UserName", "bob")])
        .await;
    // Signed two minutes ahead (a client whose clock runs fast): within the allowed skew.
    let mut captured = ApiCall::new(&fast, RAM, "CreateAccessKey", &[("UserName", "bob")]);
    captured.date = api_time(120);
    let headers = s.sign(&captured);
    let query = query_string(&captured.params);
    let r = s.api_raw(Method::POST, &query, &headers).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let data = s.data.clone();
    let (_, _tmp) = s.stop_keep();
    let s = Server::start_on(&data, &[]);
    let r = s.api_raw(Method::POST, &query, &headers).await;
    assert_fault(&r, 400, "InvalidTimeStamp.Expired");
    assert_eq!(
        keys_of(&s, &k, "bob").await.len(),
        1,
        "the replay made a key"
    );
    // That key is refused up to what it signed ahead; other keys are not.
    let r = s.api(&fast, SSO, "ListDirectories", &[]).await;
    assert_fault(&r, 400, "InvalidTimeStamp.Expired");
    let mut later = ApiCall::new(&fast, SSO, "ListDirectories", &[]);
    later.date = api_time(125);
    assert_eq!(s.api_call(&later).await.status, StatusCode::OK);
}

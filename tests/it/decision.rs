//! Issue 13, point 6 over HTTP: `CheckCredentialAccess`, the policy decision for a request
//! signed with temporary credentials (minted here through `signin::credentials::mint` under
//! the server's own `seal.key`, as `tests/it/sts.rs` does): allow, explicit deny (an inline
//! Deny beats a system Allow), implicit deny, account mismatch, conditions from the context,
//! revocation within a second of SCIM `active=false`, the signature a service saw verified
//! and mismatched, tampered and swapped tokens, bad parameters, and the RAM permission the
//! administrator needs.

use crate::access_http::Setup;
use crate::harness::*;
use crate::sts::in_an_hour;
use cloudsso::signin::credentials::{Claims, CredentialKind, TempCredential, mint};
use hyper::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CONFIG_NAME: &str = "EcsReader";
const CHECK: &str = "CheckCredentialAccess";
const DESCRIBE: &str = "ecs:DescribeInstances";
/// Denies everything on instance i-2, and ECS from 192.0.2.0/24.
const GUARD: &str = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"ecs:*","Resource":"acs:ecs:*:*:instance/i-2"},{"Effect":"Deny","Action":"ecs:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"192.0.2.0/24"}}}]}"#;

/// Credentials for `user` on the setup's account and configuration, expiring at `expires`.
fn credentials(
    srv: &Server,
    s: &Setup,
    user: &str,
    user_name: &str,
    expires: i64,
) -> TempCredential {
    let who = (user, user_name);
    crate::sts::minted(srv, s, CredentialKind::Alibaba, CONFIG_NAME, who, expires)
}

fn instance(account: &str, id: &str) -> String {
    format!("acs:ecs:cn-hangzhou:{account}:instance/{id}")
}

/// A configuration holding `AliyunECSReadOnlyAccess` and the inline policy `guard` (`GUARD`),
/// directly assigned to a new SCIM user: the setup, the user's id and credentials.
async fn with_access(srv: &Server, name: &str) -> (Setup, String, TempCredential) {
    let user = srv.user(name).await;
    let s = srv.setup_access(CONFIG_NAME).await;
    let policy = |kind: &str, name: &str| {
        vec![
            ("DirectoryId".to_owned(), s.d.clone()),
            ("AccessConfigurationId".to_owned(), s.config.clone()),
            ("PermissionPolicyType".to_owned(), kind.to_owned()),
            ("PermissionPolicyName".to_owned(), name.to_owned()),
        ]
    };
    let mut inline = policy("Inline", "guard");
    inline.push(("InlinePolicyDocument".to_owned(), GUARD.to_owned()));
    for (action, params) in [
        (
            "RemovePermissionPolicyFromAccessConfiguration",
            policy("System", "AdministratorAccess"),
        ),
        (
            "AddPermissionPolicyToAccessConfiguration",
            policy("System", "AliyunECSReadOnlyAccess"),
        ),
        ("AddPermissionPolicyToAccessConfiguration", inline),
    ] {
        let p: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        srv.api_ok(&s.key, SSO, action, &p).await;
    }
    srv.assign(&s, "User", &user).await;
    let c = credentials(srv, &s, &user, name, in_an_hour());
    (s, user, c)
}

impl Server {
    /// `CheckCredentialAccess` for `c` by `key`, with these extra parameters.
    async fn check(
        &self,
        key: &Key,
        c: &TempCredential,
        action: &str,
        resource: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut p = vec![
            ("CredentialAccessKeyId", c.access_key_id.as_str()),
            ("CredentialSecurityToken", c.security_token.as_str()),
            ("ActionName", action),
            ("ResourceArn", resource),
        ];
        p.extend_from_slice(extra);
        self.api(key, SSO, CHECK, &p).await
    }

    /// Waits (at most `within`) until the answer's `Reason` is `reason`; the time it took and
    /// the last answer.
    async fn until_reason(
        &self,
        key: &Key,
        c: &TempCredential,
        resource: &str,
        reason: &str,
        within: Duration,
    ) -> (Duration, Reply) {
        let started = Instant::now();
        loop {
            let r = self.check(key, c, DESCRIBE, resource, &[]).await;
            if r.body["Reason"] == reason || started.elapsed() > within {
                return (started.elapsed(), r);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// What is wrong with a decision answer: its status, `Decision`, `Reason` and the deciding
/// statement (type, name, index), if anything.
fn wrong(
    r: &Reply,
    decision: &str,
    reason: &str,
    matched: Option<(&str, &str, u64)>,
) -> Option<String> {
    let b = &r.body;
    let got = b.get("MatchedStatement").map(|m| {
        (
            m["PolicyType"].as_str().unwrap_or("?").to_owned(),
            m["PolicyName"].as_str().unwrap_or("?").to_owned(),
            m["StatementIndex"].as_u64().unwrap_or(u64::MAX),
        )
    });
    let want = matched.map(|(t, n, i)| (t.to_owned(), n.to_owned(), i));
    let ok = r.status == StatusCode::OK
        && b["Decision"] == decision
        && b["Reason"] == reason
        && got == want
        && b["Explanation"].as_str().is_some_and(|e| !e.is_empty());
    (!ok).then(|| format!("want {decision} {reason} {want:?}: {} {b}", r.status))
}

#[tokio::test]
async fn decisions_allow_explicit_deny_implicit_deny_and_account_mismatch() {
    let srv = Server::start();
    let (s, alice, c) = with_access(&srv, "alice@example.com").await;
    let i1 = instance(&s.account, "i-1");
    let (_, first) = srv
        .until_reason(&s.key, &c, &i1, "Allowed", Duration::from_secs(10))
        .await;
    assert_eq!(first.body["Reason"], "Allowed", "{}", first.body);
    let p = &first.body["Principal"];
    assert_eq!(
        p["Arn"],
        format!(
            "acs:ram::{}:assumed-role/AliyunReservedSSO-{CONFIG_NAME}/alice@example.com",
            s.account
        ),
        "{p}"
    );
    assert_eq!(p["AccountId"], s.account.as_str());
    assert_eq!(p["UserId"], alice.as_str());
    assert_eq!(p["UserName"], "alice@example.com");
    assert_eq!(p["DirectoryId"], s.d.as_str());
    assert_eq!(p["AccessConfigurationId"], s.config.as_str());
    let other_account = "6543210987654321";
    let from = |ip: &str| json!({"acs:SourceIp": ip}).to_string();
    let (inside, outside) = (from("10.0.0.1"), from("192.0.2.7"));
    // (case, action, resource, context, decision, reason, deciding statement)
    type Case<'a> = (
        &'a str,
        &'a str,
        String,
        Option<&'a str>,
        &'a str,
        &'a str,
        Option<(&'a str, &'a str, u64)>,
    );
    let read = Some(("System", "AliyunECSReadOnlyAccess", 0));
    let cases: Vec<Case> = vec![
        (
            "allowed by the system policy",
            DESCRIBE,
            i1.clone(),
            None,
            "Allow",
            "Allowed",
            read,
        ),
        (
            "allowed, List* is the second statement",
            "ecs:ListTagResources",
            i1.clone(),
            None,
            "Allow",
            "Allowed",
            Some(("System", "AliyunECSReadOnlyAccess", 1)),
        ),
        (
            "the inline Deny beats the system Allow",
            DESCRIBE,
            instance(&s.account, "i-2"),
            None,
            "Deny",
            "ExplicitDeny",
            Some(("Inline", "guard", 0)),
        ),
        (
            "no statement allows",
            "ecs:DeleteInstance",
            i1.clone(),
            None,
            "Deny",
            "ImplicitDeny",
            None,
        ),
        (
            "another service",
            "oss:GetObject",
            format!("acs:oss:*:{}:bucket/key", s.account),
            None,
            "Deny",
            "ImplicitDeny",
            None,
        ),
        (
            "another account",
            DESCRIBE,
            instance(other_account, "i-1"),
            None,
            "Deny",
            "AccountMismatch",
            None,
        ),
        (
            "a source inside",
            DESCRIBE,
            i1.clone(),
            Some(&inside),
            "Allow",
            "Allowed",
            read,
        ),
        (
            "a source the inline policy denies",
            DESCRIBE,
            i1.clone(),
            Some(&outside),
            "Deny",
            "ExplicitDeny",
            Some(("Inline", "guard", 1)),
        ),
    ];
    let mut failures = Vec::new();
    for (name, action, resource, context, decision, reason, matched) in &cases {
        let extra: Vec<(&str, &str)> = context.iter().map(|c| ("Context", *c)).collect();
        let r = srv.check(&s.key, &c, action, resource, &extra).await;
        if let Some(m) = wrong(&r, decision, reason, *matched) {
            failures.push(format!("{name}: {m}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // RPC-signed (the administrator's own AccessKeyId, Signature and Action are parameters
    // too, which is why the operation's are named otherwise).
    let rpc = srv
        .api_rpc(
            &s.key,
            SSO,
            CHECK,
            &[
                ("CredentialAccessKeyId", &c.access_key_id),
                ("CredentialSecurityToken", &c.security_token),
                ("ActionName", "ecs:DeleteInstance"),
                ("ResourceArn", &i1),
            ],
        )
        .await;
    assert!(
        wrong(&rpc, "Deny", "ImplicitDeny", None).is_none(),
        "{}",
        rpc.body
    );
    // An expired credential is a Deny, not an error.
    let expired = credentials(
        &srv,
        &s,
        &alice,
        "alice@example.com",
        time::OffsetDateTime::now_utc().unix_timestamp() - 1,
    );
    let r = srv.check(&s.key, &expired, DESCRIBE, &i1, &[]).await;
    assert!(
        wrong(&r, "Deny", "CredentialExpired", None).is_none(),
        "{}",
        r.body
    );
    // The token and the secret never reach the log.
    let log = srv.log_text_with(CHECK).await;
    assert!(!log.contains(&c.security_token) && !log.contains(&c.access_key_secret));
}

#[tokio::test]
async fn scim_active_false_revokes_within_a_second() {
    let srv = Server::start();
    let (s, alice, c) = with_access(&srv, "alice").await;
    let i1 = instance(&s.account, "i-1");
    let (_, ok) = srv
        .until_reason(&s.key, &c, &i1, "Allowed", Duration::from_secs(10))
        .await;
    assert_eq!(ok.body["Reason"], "Allowed", "{}", ok.body);
    let r = srv
        .patch_ops(
            &format!("/Users/{alice}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (took, r) = srv
        .until_reason(&s.key, &c, &i1, "AccessRevoked", Duration::from_secs(1))
        .await;
    assert!(
        wrong(&r, "Deny", "AccessRevoked", None).is_none(),
        "{}",
        r.body
    );
    println!("decision: revoked {took:?} after SCIM active=false");
    // Active again, the same credential is allowed again: nothing was written for it.
    srv.patch_ops(
        &format!("/Users/{alice}"),
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    let (_, back) = srv
        .until_reason(&s.key, &c, &i1, "Allowed", Duration::from_secs(10))
        .await;
    assert_eq!(back.body["Reason"], "Allowed", "{}", back.body);
}

/// Extra parameters of a call.
type Params<'a> = Vec<(&'a str, &'a str)>;

/// The RPC string to sign of a `GET` request with these parameters, and its signature with
/// `secret` (as `api::signature::rpc_signature` signs).
fn rpc_signed(secret: &str, params: &[(&str, &str)]) -> (String, String) {
    let all = pairs(params);
    let mut encoded: Vec<(String, String)> = all
        .iter()
        .map(|(k, v)| {
            (
                cloudsso::model::percent_encode(k),
                cloudsso::model::percent_encode(v),
            )
        })
        .collect();
    encoded.sort();
    let canonical: Vec<String> = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!(
        "GET&%2F&{}",
        cloudsso::model::percent_encode(&canonical.join("&"))
    );
    let signature = cloudsso::api::signature::rpc_signature(secret, "GET", &all).unwrap();
    (to_sign, signature)
}

#[tokio::test]
async fn the_signature_a_service_saw_is_verified() {
    let srv = Server::start();
    let (s, alice, c) = with_access(&srv, "alice").await;
    let i1 = instance(&s.account, "i-1");
    let (_, ok) = srv
        .until_reason(&s.key, &c, &i1, "Allowed", Duration::from_secs(10))
        .await;
    assert_eq!(ok.body["Reason"], "Allowed", "{}", ok.body);
    let other = credentials(&srv, &s, &alice, "alice", in_an_hour());
    let request = [
        ("Action", "DescribeInstances"),
        ("Version", "2014-05-26"),
        ("AccessKeyId", c.access_key_id.as_str()),
        ("SecurityToken", c.security_token.as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "n-1"),
        ("Timestamp", "2026-01-01T00:00:00Z"),
        ("RegionId", "cn-hangzhou"),
    ];
    let (to_sign, good) = rpc_signed(&c.access_key_secret, &request);
    let (_, by_other) = rpc_signed(&other.access_key_secret, &request);
    let altered = to_sign.replace("DescribeInstances", "DeleteInstance");
    // (case, extra parameters, decision, reason)
    let cases: Vec<(&str, Params, &str, &str)> = vec![
        (
            "verified",
            vec![("StringToSign", &to_sign), ("RequestSignature", &good)],
            "Allow",
            "Allowed",
        ),
        (
            "verified, method named",
            vec![
                ("StringToSign", &to_sign),
                ("RequestSignature", &good),
                ("RequestSignatureMethod", "HMAC-SHA1"),
            ],
            "Allow",
            "Allowed",
        ),
        (
            "signed with another credential's secret",
            vec![("StringToSign", &to_sign), ("RequestSignature", &by_other)],
            "Deny",
            "SignatureMismatch",
        ),
        (
            "another string to sign",
            vec![("StringToSign", &altered), ("RequestSignature", &good)],
            "Deny",
            "SignatureMismatch",
        ),
        (
            "not base64",
            vec![("StringToSign", &to_sign), ("RequestSignature", "%%%")],
            "Deny",
            "SignatureMismatch",
        ),
    ];
    let mut failures = Vec::new();
    for (name, extra, decision, reason) in &cases {
        let matched = (*reason == "Allowed").then_some(("System", "AliyunECSReadOnlyAccess", 0));
        let r = srv.check(&s.key, &c, DESCRIBE, &i1, extra).await;
        if let Some(m) = wrong(&r, decision, reason, matched) {
            failures.push(format!("{name}: {m}"));
        }
    }
    // A signature without its string to sign, or the reverse, or another method: API errors.
    let errors: Vec<(&str, Params, &str)> = vec![
        (
            "signature alone",
            vec![("RequestSignature", &good)],
            "MissingParameter.StringToSign",
        ),
        (
            "string to sign alone",
            vec![("StringToSign", &to_sign)],
            "MissingParameter.RequestSignature",
        ),
        (
            "another method",
            vec![
                ("StringToSign", &to_sign),
                ("RequestSignature", &good),
                ("RequestSignatureMethod", "HMAC-SHA256"),
            ],
            "InvalidParameter.RequestSignatureMethod",
        ),
    ];
    for (name, extra, code) in &errors {
        let r = srv.check(&s.key, &c, DESCRIBE, &i1, extra).await;
        if let Some(m) = fault_mismatch(&r, 400, code) {
            failures.push(format!("{name}: {m}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn tampered_tokens_and_bad_parameters_are_api_errors() {
    let srv = Server::start();
    let (s, alice, c) = with_access(&srv, "alice").await;
    let other = credentials(&srv, &s, &alice, "alice", in_an_hour());
    let i1 = instance(&s.account, "i-1");
    let mut tampered = c.security_token.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let key = c.access_key_id.as_str();
    let long_key = "STS.".to_owned() + &"A".repeat(61);
    let long_action = format!("ecs:{}", "A".repeat(125));
    let long_resource = format!("{i1}{}", "x".repeat(1024));
    let many_keys =
        Value::Object((0..33).map(|i| (format!("k{i}"), json!("v"))).collect()).to_string();
    // (case, key id, token, action, resource, context, code)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "tampered token",
            key,
            &tampered,
            DESCRIBE,
            &i1,
            None,
            "InvalidSecurityToken.Malformed",
        ),
        (
            "not a token",
            key,
            "CAISabc",
            DESCRIBE,
            &i1,
            None,
            "InvalidSecurityToken.Malformed",
        ),
        (
            "another credential's token",
            key,
            &other.security_token,
            DESCRIBE,
            &i1,
            None,
            "InvalidSecurityToken.MismatchWithAccessKey",
        ),
        (
            "swapped",
            &other.access_key_id,
            &c.security_token,
            DESCRIBE,
            &i1,
            None,
            "InvalidSecurityToken.MismatchWithAccessKey",
        ),
        (
            "a key id too long",
            &long_key,
            &c.security_token,
            DESCRIBE,
            &i1,
            None,
            "InvalidParameter.CredentialAccessKeyId",
        ),
        (
            "a wildcard action",
            key,
            &c.security_token,
            "ecs:Describe*",
            &i1,
            None,
            "InvalidParameter.ActionName",
        ),
        (
            "an action too long",
            key,
            &c.security_token,
            &long_action,
            &i1,
            None,
            "InvalidParameter.ActionName",
        ),
        (
            "a resource of no account",
            key,
            &c.security_token,
            DESCRIBE,
            "acs:ecs:cn-hangzhou:*:instance/i-1",
            None,
            "InvalidParameter.ResourceArn",
        ),
        (
            "not an ARN",
            key,
            &c.security_token,
            DESCRIBE,
            "instance/i-1",
            None,
            "InvalidParameter.ResourceArn",
        ),
        (
            "a resource too long",
            key,
            &c.security_token,
            DESCRIBE,
            &long_resource,
            None,
            "InvalidParameter.ResourceArn",
        ),
        (
            "a context not an object",
            key,
            &c.security_token,
            DESCRIBE,
            &i1,
            Some("[1]"),
            "InvalidParameter.Context",
        ),
        (
            "a context of too many keys",
            key,
            &c.security_token,
            DESCRIBE,
            &i1,
            Some(&many_keys),
            "InvalidParameter.Context",
        ),
    ];
    let mut failures = Vec::new();
    for (name, key_id, token, action, resource, context, code) in &cases {
        let mut p = vec![
            ("CredentialAccessKeyId", *key_id),
            ("CredentialSecurityToken", *token),
            ("ActionName", *action),
            ("ResourceArn", *resource),
        ];
        p.extend(context.iter().map(|c| ("Context", *c)));
        let r = srv.api(&s.key, SSO, CHECK, &p).await;
        if let Some(m) = fault_mismatch(&r, 400, code) {
            failures.push(format!("{name}: {m}"));
        }
    }
    for missing in [
        "CredentialAccessKeyId",
        "CredentialSecurityToken",
        "ActionName",
        "ResourceArn",
    ] {
        let p: Vec<(&str, &str)> = [
            ("CredentialAccessKeyId", key),
            ("CredentialSecurityToken", c.security_token.as_str()),
            ("ActionName", DESCRIBE),
            ("ResourceArn", i1.as_str()),
        ]
        .into_iter()
        .filter(|(k, _)| *k != missing)
        .collect();
        let r = srv.api(&s.key, SSO, CHECK, &p).await;
        if let Some(m) = fault_mismatch(&r, 400, &format!("MissingParameter.{missing}")) {
            failures.push(format!("without {missing}: {m}"));
        }
    }
    // At the limits, the parameters are read.
    let at_action = format!("ecs:{}", "A".repeat(124));
    let at_resource = format!("{i1}{}", "x".repeat(1024 - i1.len()));
    for (action, resource) in [
        (at_action.as_str(), i1.as_str()),
        (DESCRIBE, at_resource.as_str()),
    ] {
        let r = srv.check(&s.key, &c, action, resource, &[]).await;
        if r.status != StatusCode::OK {
            failures.push(format!("at the limit: {}", r.body));
        }
    }
    // Temporary credentials themselves may not ask.
    let own = Key {
        id: c.access_key_id.clone(),
        secret: c.access_key_secret.clone(),
    };
    let q = rpc_query(
        &own,
        SSO,
        CHECK,
        &[
            ("SecurityToken", &c.security_token),
            ("CredentialAccessKeyId", key),
            ("CredentialSecurityToken", &c.security_token),
            ("ActionName", DESCRIBE),
            ("ResourceArn", &i1),
        ],
        0,
        &new_nonce(),
    );
    let r = srv.api_raw(hyper::Method::GET, &q, &[]).await;
    if let Some(m) = fault_mismatch(&r, 403, "Forbidden.RAM") {
        failures.push(format!("asked with temporary credentials: {m}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn administrators_need_cloudsso_check_credential_access() {
    let srv = Server::start();
    let (s, _, c) = with_access(&srv, "alice").await;
    let i1 = instance(&s.account, "i-1");
    let (_, ok) = srv
        .until_reason(&s.key, &c, &i1, "Allowed", Duration::from_secs(10))
        .await;
    assert_eq!(ok.body["Reason"], "Allowed", "{}", ok.body);
    // A policy granting the operation for the resources of one account only.
    let doc = json!({"Version": "1", "Statement": [{
        "Effect": "Allow",
        "Action": "cloudsso:CheckCredentialAccess",
        "Resource": format!("acs:cloudsso:*:*:account/{}", s.account),
    }]});
    srv.api_ok(
        &s.key,
        RAM,
        "CreatePolicy",
        &[
            ("PolicyName", "DecideProd"),
            ("PolicyDocument", &doc.to_string()),
        ],
    )
    .await;
    let nobody = srv.admin_with(&s.key, "nobody", &[]).await;
    let reader = srv
        .admin_with(
            &s.key,
            "reader",
            &[("System", "AliyunCloudSSOReadOnlyAccess")],
        )
        .await;
    let decider = srv
        .admin_with(&s.key, "decider", &[("Custom", "DecideProd")])
        .await;
    let elsewhere = instance("6543210987654321", "i-1");
    let mut failures = Vec::new();
    for (name, key, resource) in [
        ("no policy", &nobody, &i1),
        ("read-only administrator", &reader, &i1),
        ("granted for another account", &decider, &elsewhere),
    ] {
        let r = srv.check(key, &c, DESCRIBE, resource, &[]).await;
        if let Some(m) = fault_mismatch(&r, 403, "NoPermission") {
            failures.push(format!("{name}: {m}"));
        }
    }
    let r = srv.check(&decider, &c, DESCRIBE, &i1, &[]).await;
    if let Some(m) = wrong(
        &r,
        "Allow",
        "Allowed",
        Some(("System", "AliyunECSReadOnlyAccess", 0)),
    ) {
        failures.push(format!("granted: {m}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The bounds too long for a request line, through the library (`Api::handle`, no HTTP):
/// the token, the string to sign and the signature, at their limits and one past.
#[tokio::test]
async fn long_parameters_on_both_sides_of_their_limits() {
    use cloudsso::signin::credentials::{TOKEN_BYTES_MAX, TOKEN_PREFIX};
    use cloudsso::signin::decision::{SIGNATURE_BYTES_MAX, STRING_TO_SIGN_BYTES_MAX};
    let lib = LibApi::start().await;
    let now = time::OffsetDateTime::now_utc();
    let claims = Claims::new(
        CredentialKind::Alibaba,
        &lib.directory_id,
        "u-nobody",
        "nobody",
        "1234567890123456",
        "ac-none",
        "AliyunReservedSSO-None",
        now,
        now + time::Duration::hours(1),
    );
    let c = mint(lib.app.signin.sealer(), &claims);
    let i1 = instance("1234567890123456", "i-1");
    let token_at = format!("{TOKEN_PREFIX}{}", "A".repeat(TOKEN_BYTES_MAX));
    let token_over = format!("{token_at}A");
    let to_sign_at = "s".repeat(STRING_TO_SIGN_BYTES_MAX);
    let to_sign_over = format!("{to_sign_at}s");
    let sig_at = "A".repeat(SIGNATURE_BYTES_MAX);
    let sig_over = format!("{sig_at}A");
    // (case, token, string to sign, signature, status, Code or Reason)
    let cases: Vec<(&str, &str, &str, &str, u16, &str)> = vec![
        (
            "token at the limit",
            &token_at,
            "x",
            "AAAA",
            400,
            "InvalidSecurityToken.Malformed",
        ),
        (
            "token past it",
            &token_over,
            "x",
            "AAAA",
            400,
            "InvalidParameter.CredentialSecurityToken",
        ),
        (
            "string to sign at the limit",
            &c.security_token,
            &to_sign_at,
            "AAAA",
            200,
            "SignatureMismatch",
        ),
        (
            "string to sign past it",
            &c.security_token,
            &to_sign_over,
            "AAAA",
            400,
            "InvalidParameter.StringToSign",
        ),
        (
            "signature at the limit",
            &c.security_token,
            "x",
            &sig_at,
            200,
            "SignatureMismatch",
        ),
        (
            "signature past it",
            &c.security_token,
            "x",
            &sig_over,
            400,
            "InvalidParameter.RequestSignature",
        ),
    ];
    let mut failures = Vec::new();
    for (name, token, to_sign, sig, status, code) in &cases {
        let (got, body) = lib
            .call(
                SSO,
                CHECK,
                &[
                    ("CredentialAccessKeyId", &c.access_key_id),
                    ("CredentialSecurityToken", token),
                    ("ActionName", DESCRIBE),
                    ("ResourceArn", &i1),
                    ("StringToSign", to_sign),
                    ("RequestSignature", sig),
                ],
            )
            .await;
        let said = if got == 200 {
            &body["Reason"]
        } else {
            &body["Code"]
        };
        if got != *status || said != code {
            failures.push(format!("{name}: {got} {body}"));
        }
    }
    // Without a signature, a credential whose user has no such access is revoked.
    let (got, body) = lib
        .call(
            SSO,
            CHECK,
            &[
                ("CredentialAccessKeyId", &c.access_key_id),
                ("CredentialSecurityToken", &c.security_token),
                ("ActionName", DESCRIBE),
                ("ResourceArn", &i1),
            ],
        )
        .await;
    if got != 200 || body["Reason"] != "AccessRevoked" || body["Decision"] != "Deny" {
        failures.push(format!("no access: {got} {body}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_cli_asks_with_check_credential_access() {
    let srv = Server::start();
    let (s, _, c) = with_access(&srv, "alice").await;
    let i1 = instance(&s.account, "i-1");
    let (_, ok) = srv
        .until_reason(&s.key, &c, &i1, "Allowed", Duration::from_secs(10))
        .await;
    assert_eq!(ok.body["Reason"], "Allowed", "{}", ok.body);
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.json");
    let cli = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cloudsso"))
            .args(args)
            .env("CLOUDSSO_CONFIG", &config)
            .env_remove("CLOUDSSO_PROFILE")
            .env_remove("CLOUDSSO_ACCESS_KEY_ID")
            .env_remove("CLOUDSSO_ACCESS_KEY_SECRET")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{out} {}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    let boot = srv.data.join("bootstrap.json");
    cli(&["configure", "--from-bootstrap", boot.to_str().unwrap()]);
    let ask = |context: &str| {
        let out = cli(&[
            "sso",
            "check-credential-access",
            "--credential-access-key-id",
            &c.access_key_id,
            "--credential-security-token",
            &c.security_token,
            "--action-name",
            DESCRIBE,
            "--resource-arn",
            &i1,
            "--context",
            context,
            "--output",
            "json",
        ]);
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let allowed = ask(r#"{"acs:SourceIp":"10.0.0.1"}"#);
    assert_eq!(allowed["Decision"], "Allow", "{allowed}");
    assert_eq!(
        allowed["MatchedStatement"]["PolicyName"],
        "AliyunECSReadOnlyAccess"
    );
    let denied = ask(r#"{"acs:SourceIp":"192.0.2.9"}"#);
    assert_eq!(denied["Decision"], "Deny", "{denied}");
    assert_eq!(denied["Reason"], "ExplicitDeny", "{denied}");
    assert_eq!(
        denied["MatchedStatement"]["PolicyType"], "Inline",
        "{denied}"
    );
}

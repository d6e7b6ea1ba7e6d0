//! Issue 13, points 4 and 5 over HTTP: temporary credentials (minted here through the pure
//! core, `signin::credentials::mint`, under the server's own `seal.key`, exactly as
//! `SignIn::issue_credentials` mints them) calling Alibaba STS `GetCallerIdentity` with RPC
//! and ACS3 signatures; every refusal (tampered, swapped, expired, unsigned token header,
//! replayed nonce, another operation); and revocation that reaches issued credentials within
//! one second: SCIM `active=false`, removal from the group that granted the access, and
//! deletion of the assignment.

use crate::access_http::Setup;
use crate::harness::*;
use cloudsso::api::signature::{Acs3Request, sign_acs3};
use cloudsso::seal::Sealer;
use cloudsso::signin::credentials::{Claims, CredentialKind, TempCredential, mint};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const STS: &str = "2015-04-01";
const CONFIG_NAME: &str = "StsAdmin";

/// Temporary credentials for `user` on the setup's account and configuration, expiring at
/// `expires` (Unix seconds), sealed under the server's key.
fn credentials(
    srv: &Server,
    s: &Setup,
    user: &str,
    user_name: &str,
    expires: i64,
) -> TempCredential {
    let who = (user, user_name);
    minted(srv, s, CredentialKind::Alibaba, CONFIG_NAME, who, expires)
}

/// Temporary credentials of `kind` for `(user id, user name)` on the setup's account and its
/// configuration `config_name`, expiring at `expires` (Unix seconds), minted through the pure
/// core under the server's own `seal.key`, as `SignIn::issue_credentials` mints them.
pub(crate) fn minted(
    srv: &Server,
    s: &Setup,
    kind: CredentialKind,
    config_name: &str,
    (user, user_name): (&str, &str),
    expires: i64,
) -> TempCredential {
    let key = std::fs::read(srv.data.join("seal.key")).unwrap();
    let sealer = Sealer::new(&key).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let claims = Claims::new(
        kind,
        &s.d,
        user,
        user_name,
        &s.account,
        &s.config,
        &format!("AliyunReservedSSO-{config_name}"),
        now,
        time::OffsetDateTime::from_unix_timestamp(expires).unwrap(),
    );
    let c = mint(&sealer, &claims);
    note_secret(&c.access_key_secret);
    note_secret(&c.security_token);
    c
}

pub(crate) fn in_an_hour() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() + 3600
}

fn key_of(c: &TempCredential) -> Key {
    Key {
        id: c.access_key_id.clone(),
        secret: c.access_key_secret.clone(),
    }
}

/// How a test signs a call with temporary credentials.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Sig {
    /// RPC, HMAC-SHA1, `SecurityToken` among the signed parameters.
    Rpc,
    /// ACS3 with `x-acs-security-token` signed.
    Acs3,
    /// ACS3 with the token header sent but left out of the signed headers.
    Acs3Unsigned,
}

impl Server {
    /// `action` of `version`, signed with `key` and carrying `token`.
    async fn sts_call(
        &self,
        sig: Sig,
        key: &Key,
        token: &str,
        version: &str,
        action: &str,
    ) -> Reply {
        match sig {
            Sig::Rpc => {
                let q = rpc_query(
                    key,
                    version,
                    action,
                    &[("SecurityToken", token)],
                    0,
                    &new_nonce(),
                );
                self.api_raw(Method::GET, &q, &[]).await
            }
            Sig::Acs3 | Sig::Acs3Unsigned => {
                let mut signed = vec![("host".to_owned(), self.addr.clone())];
                if sig == Sig::Acs3 {
                    signed.push(("x-acs-security-token".to_owned(), token.to_owned()));
                }
                let mut headers = sign_acs3(&Acs3Request {
                    access_key_id: &key.id,
                    secret: &key.secret,
                    method: "POST",
                    action,
                    version,
                    query: &[],
                    headers: &signed,
                    body: b"",
                    date: &api_time(0),
                    nonce: &new_nonce(),
                })
                .unwrap();
                headers.extend(signed);
                if sig == Sig::Acs3Unsigned {
                    headers.push(("x-acs-security-token".to_owned(), token.to_owned()));
                }
                self.api_raw(Method::POST, "", &headers).await
            }
        }
    }

    pub(crate) async fn caller_identity(&self, sig: Sig, c: &TempCredential) -> Reply {
        self.sts_call(sig, &key_of(c), &c.security_token, STS, "GetCallerIdentity")
            .await
    }

    /// Waits (at most `within`) until `c`'s GetCallerIdentity answers `status`; the time it
    /// took and the last answer.
    async fn until_identity(
        &self,
        c: &TempCredential,
        status: u16,
        within: Duration,
    ) -> (Duration, Reply) {
        let started = Instant::now();
        loop {
            let r = self.caller_identity(Sig::Rpc, c).await;
            if r.status.as_u16() == status || started.elapsed() > within {
                return (started.elapsed(), r);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A server with a SCIM user `name` directly assigned `CONFIG_NAME` on an account: the setup
/// and the user's id.
async fn with_access(srv: &Server, name: &str) -> (Setup, String) {
    let user = srv.user(name).await;
    let s = srv.setup_access(CONFIG_NAME).await;
    srv.assign(&s, "User", &user).await;
    (s, user)
}

#[tokio::test]
async fn get_caller_identity_answers_the_assumed_role_with_rpc_and_acs3_signatures() {
    let srv = Server::start();
    let (s, alice) = with_access(&srv, "alice@example.com").await;
    let c = credentials(&srv, &s, &alice, "alice@example.com", in_an_hour());
    let (_, first) = srv.until_identity(&c, 200, Duration::from_secs(10)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let arn = format!(
        "acs:ram::{}:assumed-role/AliyunReservedSSO-{CONFIG_NAME}/alice@example.com",
        s.account
    );
    for sig in [Sig::Rpc, Sig::Acs3] {
        let r = srv.caller_identity(sig, &c).await;
        assert_eq!(r.status, StatusCode::OK, "{sig:?}: {}", r.body);
        let b = &r.body;
        assert_eq!(b["IdentityType"], "AssumedRoleUser", "{b}");
        assert_eq!(b["AccountId"], s.account.as_str());
        assert_eq!(b["Arn"], arn.as_str());
        let role_id = b["RoleId"].as_str().unwrap();
        assert!(
            role_id.len() >= 17 && role_id.chars().all(|c| c.is_ascii_digit()),
            "{b}"
        );
        assert_eq!(b["PrincipalId"], format!("{role_id}:alice@example.com"));
        assert!(b["RequestId"].is_string());
        assert!(
            b.get("UserId").is_none(),
            "only accounts and RAM users have one"
        );
    }
    // An administrator's AccessKey answers its RAM user.
    let admin = srv.admin_key();
    let me = srv.api_ok(&admin, STS, "GetCallerIdentity", &[]).await;
    assert_eq!(me["IdentityType"], "RAMUser", "{me}");
    let account = me["AccountId"].as_str().unwrap();
    assert!(
        me["Arn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("acs:ram::{account}:user/")),
        "{me}"
    );
    assert!(
        me["UserId"].is_string() && me["PrincipalId"] == me["UserId"],
        "{me}"
    );
    let rpc = srv.api_rpc(&admin, STS, "GetCallerIdentity", &[]).await;
    assert_eq!(rpc.body["IdentityType"], "RAMUser", "{}", rpc.body);
    // The audit trail names the assumed role, its AccessKeyId and the user's directory.
    let events = srv
        .api_ok(
            &admin,
            "2020-07-06",
            "LookupEvents",
            &[
                ("LookupAttribute.1.Key", "AccessKeyId"),
                ("LookupAttribute.1.Value", &c.access_key_id),
            ],
        )
        .await;
    let e = &events["Events"][0];
    assert_eq!(e["eventName"], "sts:GetCallerIdentity", "{events}");
    let who = &e["userIdentity"];
    assert_eq!(who["type"], "assumed-role", "{e}");
    assert_eq!(who["accessKeyId"], c.access_key_id.as_str(), "{e}");
    assert_eq!(who["directoryId"], s.d.as_str(), "{e}");
    assert_eq!(
        who["userName"],
        format!("assumed-role/AliyunReservedSSO-{CONFIG_NAME}/alice@example.com"),
        "{e}"
    );
}

/// A refusal case: its name, how it is signed, with which key and token, what it calls, and
/// the status and `Code` it must get.
type Case<'a> = (&'a str, Sig, Key, String, &'a str, &'a str, u16, &'a str);

#[tokio::test]
async fn refused_credentials_answer_alibaba_codes() {
    let srv = Server::start();
    let (s, alice) = with_access(&srv, "alice").await;
    let c = credentials(&srv, &s, &alice, "alice", in_an_hour());
    let other = credentials(&srv, &s, &alice, "alice", in_an_hour());
    let expired = credentials(
        &srv,
        &s,
        &alice,
        "alice",
        time::OffsetDateTime::now_utc().unix_timestamp() - 1,
    );
    let (_, ok) = srv.until_identity(&c, 200, Duration::from_secs(10)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    let mut tampered = c.security_token.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let wrong_secret = Key {
        id: c.access_key_id.clone(),
        secret: other.access_key_secret.clone(),
    };
    let ck = key_of(&c);
    let get = "GetCallerIdentity";
    // (case, signing, key, token, version, action, status, code)
    let cases: Vec<Case> = vec![
        (
            "tampered token",
            Sig::Rpc,
            ck.clone(),
            tampered.clone(),
            STS,
            get,
            400,
            "InvalidSecurityToken.Malformed",
        ),
        (
            "tampered token, ACS3",
            Sig::Acs3,
            ck.clone(),
            tampered,
            STS,
            get,
            400,
            "InvalidSecurityToken.Malformed",
        ),
        (
            "not a token",
            Sig::Rpc,
            ck.clone(),
            "CAISabc".into(),
            STS,
            get,
            400,
            "InvalidSecurityToken.Malformed",
        ),
        (
            "another credential's token",
            Sig::Rpc,
            ck.clone(),
            other.security_token.clone(),
            STS,
            get,
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
        ),
        (
            "swapped, signed with the other secret",
            Sig::Acs3,
            key_of(&other),
            c.security_token.clone(),
            STS,
            get,
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
        ),
        (
            "expired",
            Sig::Rpc,
            key_of(&expired),
            expired.security_token.clone(),
            STS,
            get,
            400,
            "InvalidSecurityToken.Expired",
        ),
        (
            "expired, ACS3",
            Sig::Acs3,
            key_of(&expired),
            expired.security_token.clone(),
            STS,
            get,
            400,
            "InvalidSecurityToken.Expired",
        ),
        (
            "token header unsigned",
            Sig::Acs3Unsigned,
            ck.clone(),
            c.security_token.clone(),
            STS,
            get,
            400,
            "InvalidAuthorization",
        ),
        (
            "no token",
            Sig::Acs3Unsigned,
            ck.clone(),
            String::new(),
            STS,
            get,
            400,
            "MissingSecurityToken",
        ),
        (
            "signed with another secret",
            Sig::Rpc,
            wrong_secret.clone(),
            c.security_token.clone(),
            STS,
            get,
            400,
            "SignatureDoesNotMatch",
        ),
        (
            "signed with another secret, ACS3",
            Sig::Acs3,
            wrong_secret,
            c.security_token.clone(),
            STS,
            get,
            400,
            "SignatureDoesNotMatch",
        ),
        (
            "a CloudSSO operation",
            Sig::Rpc,
            ck.clone(),
            c.security_token.clone(),
            SSO,
            "ListDirectories",
            403,
            "Forbidden.RAM",
        ),
        (
            "a CloudSSO operation, ACS3",
            Sig::Acs3,
            ck.clone(),
            c.security_token.clone(),
            SSO,
            "ListUsers",
            403,
            "Forbidden.RAM",
        ),
        (
            "a RAM operation",
            Sig::Acs3,
            ck.clone(),
            c.security_token.clone(),
            RAM,
            "ListUsers",
            403,
            "Forbidden.RAM",
        ),
    ];
    let mut failures = Vec::new();
    for (name, sig, key, token, version, action, status, code) in &cases {
        let r = srv.sts_call(*sig, key, token, version, action).await;
        if let Some(m) = fault_mismatch(&r, *status, code) {
            failures.push(format!("{name}: {m}"));
        }
    }
    // The same nonce twice: replay rules as for AccessKeys.
    let q = rpc_query(
        &ck,
        STS,
        get,
        &[("SecurityToken", &c.security_token)],
        0,
        "sts-nonce-1",
    );
    let first = srv.api_raw(Method::GET, &q, &[]).await;
    let again = srv.api_raw(Method::GET, &q, &[]).await;
    if first.status != StatusCode::OK {
        failures.push(format!("first use of a nonce: {}", first.body));
    }
    if let Some(m) = fault_mismatch(&again, 400, "SignatureNonceUsed") {
        failures.push(format!("replayed nonce: {m}"));
    }
    // A user's credentials share one nonce window: the nonce is spent for the other too.
    let q = rpc_query(
        &key_of(&other),
        STS,
        get,
        &[("SecurityToken", &other.security_token)],
        0,
        "sts-nonce-1",
    );
    let sibling = srv.api_raw(Method::GET, &q, &[]).await;
    if let Some(m) = fault_mismatch(&sibling, 400, "SignatureNonceUsed") {
        failures.push(format!(
            "the nonce through another credential of the user: {m}"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len() + 1,
        failures.join("\n")
    );
    // The caller is named by its AccessKeyId and role in the access log, never its secret.
    let log = srv.log_text_with(&c.access_key_id).await;
    assert!(!log.contains(&c.access_key_secret) && !log.contains(&c.security_token));
}

#[tokio::test]
async fn disabling_the_user_over_scim_refuses_its_credentials_within_a_second() {
    let srv = Server::start();
    let (s, alice) = with_access(&srv, "alice").await;
    let c = credentials(&srv, &s, &alice, "alice", in_an_hour());
    let (_, ok) = srv.until_identity(&c, 200, Duration::from_secs(10)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let r = srv
        .patch_ops(
            &format!("/Users/{alice}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (took, r) = srv.until_identity(&c, 400, Duration::from_secs(1)).await;
    assert_fault(&r, 400, "InvalidSecurityToken.Expired");
    println!("sts: refused {took:?} after SCIM active=false");
    // Enabled again, the same credential works again: nothing was written for it.
    srv.patch_ops(
        &format!("/Users/{alice}"),
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    let (_, back) = srv.until_identity(&c, 200, Duration::from_secs(10)).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    // Deleted: refused for good.
    assert_eq!(
        srv.delete(&format!("/Users/{alice}")).await.status,
        StatusCode::NO_CONTENT
    );
    let (_, gone) = srv.until_identity(&c, 400, Duration::from_secs(1)).await;
    assert_fault(&gone, 400, "InvalidSecurityToken.Expired");
}

#[tokio::test]
async fn leaving_the_group_or_losing_the_assignment_refuses_credentials() {
    let srv = Server::start();
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let ops = srv.group("ops", &[&alice]).await;
    let s = srv.setup_access(CONFIG_NAME).await;
    srv.assign(&s, "Group", &ops).await;
    srv.assign(&s, "User", &bob).await;
    let ca = credentials(&srv, &s, &alice, "alice", in_an_hour());
    let cb = credentials(&srv, &s, &bob, "bob", in_an_hour());
    for c in [&ca, &cb] {
        let (_, ok) = srv.until_identity(c, 200, Duration::from_secs(10)).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    // Alice leaves the group that granted the access.
    let r = srv
        .patch_ops(
            &format!("/Groups/{ops}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let (took, r) = srv.until_identity(&ca, 400, Duration::from_secs(1)).await;
    assert_fault(&r, 400, "InvalidSecurityToken.Expired");
    println!("sts: refused {took:?} after leaving the group");
    // Bob's assignment is deleted.
    let started = Instant::now();
    let task = srv
        .api_ok(
            &s.key,
            SSO,
            "DeleteAccessAssignment",
            &[
                ("DirectoryId", &s.d),
                ("AccessConfigurationId", &s.config),
                ("TargetType", "RD-Account"),
                ("TargetId", &s.account),
                ("PrincipalType", "User"),
                ("PrincipalId", &bob),
                ("DeprovisionStrategy", "None"),
            ],
        )
        .await;
    let (took, r) = srv.until_identity(&cb, 400, Duration::from_secs(1)).await;
    assert_fault(&r, 400, "InvalidSecurityToken.Expired");
    println!(
        "sts: refused {:?} after DeleteAccessAssignment answered ({took:?} of polling)",
        started.elapsed()
    );
    let id = task["Task"]["TaskId"].as_str().unwrap();
    let done: Value = srv.wait_task(&s, id).await;
    assert_eq!(done["Status"], "Success", "{done}");
}

/// `GetCallerIdentity` through `Api::handle` (no HTTP), ACS3-signed with temporary credentials.
async fn in_process_identity(api: &LibApi, c: &TempCredential) -> (u16, Value) {
    let key = (c.access_key_id.clone(), c.access_key_secret.clone());
    let token = [("x-acs-security-token", c.security_token.as_str())];
    api.call_with_headers(&key, STS, "GetCallerIdentity", &[], &token)
        .await
}

/// Runs the engine until no event and no task is left.
async fn settle(api: &LibApi) {
    let d = cloudsso::model::DirectoryId::new(api.directory_id.clone());
    for _ in 0..200 {
        while api.app.access.round().await.unwrap() {}
        let tasks = api.app.access.tasks(&d, Default::default()).await.unwrap();
        if tasks
            .iter()
            .all(|t| t.status != cloudsso::access::records::TaskStatus::InProgress)
        {
            while api.app.access.round().await.unwrap() {}
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("tasks did not finish");
}

#[tokio::test]
async fn issue_credentials_only_while_access_grants_them_for_the_session_duration() {
    use cloudsso::model::{DirectoryId, UserId};
    use cloudsso::signin::credentials::CredentialRefusal;
    let api = LibApi::start().await;
    let d = DirectoryId::new(api.directory_id.clone());
    let ok = |(status, body): (u16, Value)| {
        assert_eq!(status, 200, "{body}");
        body
    };
    let user = ok(api
        .call(
            SSO,
            "CreateUser",
            &[("DirectoryId", d.as_str()), ("UserName", "carol")],
        )
        .await)["User"]["UserId"]
        .as_str()
        .unwrap()
        .to_owned();
    let account = ok(api
        .call(
            "2020-03-31",
            "CreateResourceAccount",
            &[("DisplayName", "prod")],
        )
        .await)["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let config = ok(api
        .call(
            SSO,
            "CreateAccessConfiguration",
            &[
                ("DirectoryId", d.as_str()),
                ("AccessConfigurationName", CONFIG_NAME),
                ("SessionDuration", "7200"),
            ],
        )
        .await)["AccessConfiguration"]["AccessConfigurationId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(api
        .call(
            SSO,
            "CreateAccessAssignment",
            &[
                ("DirectoryId", d.as_str()),
                ("AccessConfigurationId", &config),
                ("TargetType", "RD-Account"),
                ("TargetId", &account),
                ("PrincipalType", "User"),
                ("PrincipalId", &user),
            ],
        )
        .await);
    settle(&api).await;
    let signin = &api.app.signin;
    let u = UserId::new(user.clone());
    let now = time::OffsetDateTime::now_utc();
    let far = now + time::Duration::days(1);
    let issue = |account: String, config: String, cap, kind| {
        let (d, u) = (d.clone(), u.clone());
        async move {
            signin
                .issue_credentials(&d, &u, &account, &config, cap, kind)
                .await
                .unwrap()
        }
    };
    // Granted: lasts the configuration's SessionDuration, capped by `cap`.
    let c = issue(
        account.clone(),
        config.clone(),
        far,
        CredentialKind::Alibaba,
    )
    .await
    .unwrap();
    note_secret(&c.access_key_secret);
    note_secret(&c.security_token);
    let lasts = (c.expiration - now).whole_seconds();
    assert!((7199..=7200).contains(&lasts), "{lasts}");
    let capped = issue(
        account.clone(),
        config.clone(),
        now + time::Duration::minutes(10),
        CredentialKind::Alibaba,
    )
    .await
    .unwrap();
    let lasts = (capped.expiration - now).whole_seconds();
    assert!((599..=600).contains(&lasts), "{lasts}");
    let verified = signin
        .verify_credentials(&c.access_key_id, &c.security_token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(verified.claims().user_name, "carol");
    assert_eq!(verified.secret(), c.access_key_secret);
    let (status, body) = in_process_identity(&api, &c).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Arn"],
        format!("acs:ram::{account}:assumed-role/AliyunReservedSSO-{CONFIG_NAME}/carol")
    );
    // The AWS kind: `ASIA`, verified alike, but not an Alibaba API credential.
    let aws = issue(account.clone(), config.clone(), far, CredentialKind::Aws)
        .await
        .unwrap();
    note_secret(&aws.access_key_secret);
    note_secret(&aws.security_token);
    assert!(aws.access_key_id.starts_with("ASIA") && aws.access_key_id.len() == 20);
    assert!(
        signin
            .verify_credentials(&aws.access_key_id, &aws.security_token)
            .await
            .unwrap()
            .is_ok()
    );
    let (status, body) = in_process_identity(&api, &aws).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidAccessKeyId.NotFound")),
        "{body}"
    );
    // Refused: another account, another configuration, an unknown user, a cap already past.
    let refused = [
        (
            issue(
                "1999999999999999".into(),
                config.clone(),
                far,
                CredentialKind::Alibaba,
            )
            .await,
            CredentialRefusal::NoAccess,
        ),
        (
            issue(
                account.clone(),
                "ac-nothere".into(),
                far,
                CredentialKind::Alibaba,
            )
            .await,
            CredentialRefusal::NoAccess,
        ),
        (
            issue(
                account.clone(),
                config.clone(),
                now - time::Duration::seconds(1),
                CredentialKind::Alibaba,
            )
            .await,
            CredentialRefusal::Expired,
        ),
    ];
    for (got, want) in refused {
        assert_eq!(got.err(), Some(want));
    }
    let ghost = signin
        .issue_credentials(
            &d,
            &UserId::new("u-ghost"),
            &account,
            &config,
            far,
            CredentialKind::Alibaba,
        )
        .await
        .unwrap();
    assert_eq!(ghost.err(), Some(CredentialRefusal::NoAccess));
    // Sign-in off installation-wide: refused while it is off, like sessions and CLI tokens.
    ok(api.call(SSO, "DisableService", &[]).await);
    assert_eq!(
        signin
            .verify_credentials(&c.access_key_id, &c.security_token)
            .await
            .unwrap()
            .err(),
        Some(CredentialRefusal::NoAccess)
    );
    assert_eq!(
        issue(
            account.clone(),
            config.clone(),
            far,
            CredentialKind::Alibaba
        )
        .await
        .err(),
        Some(CredentialRefusal::NoAccess)
    );
    ok(api.call(SSO, "EnableService", &[]).await);
    assert!(
        signin
            .verify_credentials(&c.access_key_id, &c.security_token)
            .await
            .unwrap()
            .is_ok()
    );
    // Disabled: refused at once, issuing and verifying, before the engine runs.
    ok(api
        .call(
            SSO,
            "UpdateUserStatus",
            &[
                ("DirectoryId", d.as_str()),
                ("UserId", &user),
                ("NewStatus", "Disabled"),
            ],
        )
        .await);
    assert_eq!(
        signin
            .verify_credentials(&c.access_key_id, &c.security_token)
            .await
            .unwrap()
            .err(),
        Some(CredentialRefusal::NoAccess)
    );
    assert_eq!(
        issue(
            account.clone(),
            config.clone(),
            far,
            CredentialKind::Alibaba
        )
        .await
        .err(),
        Some(CredentialRefusal::NoAccess)
    );
    let (status, body) = in_process_identity(&api, &c).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidSecurityToken.Expired")),
        "{body}"
    );
}

/// The official STS SDK's Python, from `conformance/api/run-sdk.sh`'s venv.
fn sdk_python() -> Option<std::path::PathBuf> {
    sdk_python_with("alibabacloud_sts20150401")
}

#[tokio::test]
async fn sdk_get_caller_identity_with_minted_credentials() {
    let Some(python) = sdk_python() else {
        return;
    };
    let srv = Server::start();
    let (s, alice) = with_access(&srv, "alice").await;
    let c = credentials(&srv, &s, &alice, "alice", in_an_hour());
    let (_, ok) = srv.until_identity(&c, 200, Duration::from_secs(10)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let arn = format!(
        "acs:ram::{}:assumed-role/AliyunReservedSSO-{CONFIG_NAME}/alice",
        s.account
    );
    let admin = srv.admin_key();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/api/sdk_sts_check.py");
    let args = [
        srv.addr.clone(),
        c.access_key_id.clone(),
        c.access_key_secret.clone(),
        c.security_token.clone(),
        arn,
        admin.id,
        admin.secret,
    ];
    run_python_check(python, script, args.to_vec()).await;
}

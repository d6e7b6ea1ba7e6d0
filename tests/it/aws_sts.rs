//! Issue 13, point 5, AWS's half over HTTP: temporary credentials of the AWS kind (`ASIA`,
//! minted here through the pure core under the server's own `seal.key`, as `tests/it/sts.rs`
//! mints `STS.` ones) calling AWS STS `GetCallerIdentity` (2011-06-15, query protocol, XML)
//! signed with SigV4 on the management endpoint; every refusal in AWS's codes (tampered,
//! swapped, stale, future, unsigned or missing token, duplicated Authorization, another
//! action, an `STS.` key, unsigned); revocation within one second of SCIM `active=false` and of
//! leaving the group that granted the access; the audit trail; and the unmodified boto3 and
//! AWS CLI v1 (`conformance/api/aws_sts_check.py`).

use crate::access_http::Setup;
use crate::harness::*;
use crate::sts::in_an_hour;
use cloudsso::api::sigv4::{self, BODY_BYTES_MAX, SignInput};
use cloudsso::signin::credentials::{CredentialKind, TempCredential};
use hyper::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};

const CONFIG_NAME: &str = "AwsStsAdmin";
const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// Temporary credentials of `kind` for `user` on the setup's account and configuration.
fn credentials(
    srv: &Server,
    s: &Setup,
    kind: CredentialKind,
    who: (&str, &str),
    expires: i64,
) -> TempCredential {
    crate::sts::minted(srv, s, kind, CONFIG_NAME, who, expires)
}

/// How a test call is signed and sent.
#[derive(Clone)]
struct Call {
    key_id: String,
    secret: String,
    /// The `X-Amz-Security-Token` sent (none: the header is absent).
    token: Option<String>,
    /// Whether the token header is among the signed headers.
    token_signed: bool,
    /// Whether the form body's content type is among the signed headers.
    content_type_signed: bool,
    /// Seconds added to the clock for `X-Amz-Date`.
    skew: i64,
    body: String,
    /// Sent in the query of a GET instead of a form body.
    as_query: bool,
    /// Edits the Authorization header after signing.
    edit: Option<fn(&str) -> String>,
    /// Sends the Authorization header twice.
    twice: bool,
    /// Sends no Authorization header at all.
    unsigned: bool,
}

impl Call {
    fn new(c: &TempCredential) -> Call {
        Call::with(&c.access_key_id, &c.access_key_secret, &c.security_token)
    }

    /// A genuine call with this key, secret and token.
    fn with(key_id: &str, secret: &str, token: &str) -> Call {
        Call {
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
            token: Some(token.to_owned()),
            token_signed: true,
            content_type_signed: true,
            skew: 0,
            body: GET_CALLER_IDENTITY.to_owned(),
            as_query: false,
            edit: None,
            twice: false,
            unsigned: false,
        }
    }
}

impl Server {
    async fn aws_sts(&self, call: &Call) -> Reply {
        let date =
            sigv4::amz_date(time::OffsetDateTime::now_utc() + time::Duration::seconds(call.skew));
        let mut headers = vec![
            ("host".to_owned(), self.addr.clone()),
            ("x-amz-date".to_owned(), date),
        ];
        let form_type = (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        );
        let (method, query, body) = if call.as_query {
            ("GET", call.body.clone(), Vec::new())
        } else {
            if call.content_type_signed {
                headers.push(form_type.clone());
            }
            ("POST", String::new(), call.body.clone().into_bytes())
        };
        if let (Some(t), true) = (&call.token, call.token_signed) {
            headers.push(("x-amz-security-token".to_owned(), t.clone()));
        }
        let auth = sigv4::sign(&SignInput {
            access_key_id: &call.key_id,
            secret: &call.secret,
            region: "us-east-1",
            service: "sts",
            request: sigv4::Request {
                method,
                path: "/",
                query: &query,
                headers: &headers,
                body: &body,
            },
        })
        .unwrap();
        let auth = call.edit.map_or(auth.clone(), |f| f(&auth));
        if let (Some(t), false) = (&call.token, call.token_signed) {
            headers.push(("x-amz-security-token".to_owned(), t.clone()));
        }
        if !call.as_query && !call.content_type_signed {
            headers.push(form_type);
        }
        if !call.unsigned {
            headers.push(("authorization".to_owned(), auth.clone()));
        }
        if call.twice {
            headers.push(("authorization".to_owned(), auth));
        }
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let method = if method == "GET" {
            Method::GET
        } else {
            Method::POST
        };
        let url = format!("http://{}/?{query}", self.addr);
        self.send(method, &url, &h, Some(body)).await
    }

    /// Waits (at most `within`) until `c`'s GetCallerIdentity answers `status`.
    async fn until_aws_identity(
        &self,
        c: &TempCredential,
        status: u16,
        within: Duration,
    ) -> (Duration, Reply) {
        let started = Instant::now();
        loop {
            let r = self.aws_sts(&Call::new(c)).await;
            if r.status.as_u16() == status || started.elapsed() > within {
                return (started.elapsed(), r);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The `Arn` AWS STS `GetCallerIdentity` answers for credentials a client received (for
/// `tests/it/aws_sso.rs`), or the whole answer when it is not a success.
pub(crate) async fn aws_caller_arn(
    srv: &Server,
    key_id: &str,
    secret: &str,
    token: &str,
) -> Result<String, String> {
    let call = Call::with(key_id, secret, token);
    let r = srv.aws_sts(&call).await;
    match (r.status, xml(&r, "Arn")) {
        (StatusCode::OK, Some(arn)) => Ok(arn),
        _ => Err(format!("{} {}", r.status, String::from_utf8_lossy(&r.raw))),
    }
}

/// The text of the first `<tag>` of an XML answer.
fn xml(r: &Reply, tag: &str) -> Option<String> {
    let text = std::str::from_utf8(&r.raw).ok()?;
    let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + text.get(start..)?.find(&format!("</{tag}>"))?;
    text.get(start..end).map(str::to_owned)
}

/// What is wrong with an AWS error answer, if anything.
fn aws_fault(r: &Reply, status: u16, code: &str) -> Option<String> {
    let mut wrong = Vec::new();
    if r.status.as_u16() != status {
        wrong.push(format!("status {} (want {status})", r.status));
    }
    if xml(r, "Code").as_deref() != Some(code) {
        wrong.push(format!("Code {:?} (want {code})", xml(r, "Code")));
    }
    for field in ["Type", "Message", "RequestId"] {
        if xml(r, field).is_none_or(|v| v.is_empty()) {
            wrong.push(format!("no {field}"));
        }
    }
    if r.header("content-type") != Some("text/xml") {
        wrong.push(format!("content-type {:?}", r.header("content-type")));
    }
    (!wrong.is_empty())
        .then(|| format!("{}: {}", wrong.join(", "), String::from_utf8_lossy(&r.raw)))
}

fn assert_aws_fault(r: &Reply, status: u16, code: &str) {
    if let Some(m) = aws_fault(r, status, code) {
        panic!("{m}");
    }
}

/// A server with a SCIM user `name` directly assigned `CONFIG_NAME` on an account.
async fn with_access(srv: &Server, name: &str) -> (Setup, String) {
    let user = srv.user(name).await;
    let s = srv.setup_access(CONFIG_NAME).await;
    srv.assign(&s, "User", &user).await;
    (s, user)
}

fn arn(s: &Setup, session: &str) -> String {
    format!(
        "arn:aws:sts::{}:assumed-role/AliyunReservedSSO-{CONFIG_NAME}/{session}",
        s.account
    )
}

#[tokio::test]
async fn get_caller_identity_answers_the_assumed_role_in_xml() {
    let srv = Server::start();
    let (s, alice) = with_access(&srv, "alice@example.com").await;
    let c = credentials(
        &srv,
        &s,
        CredentialKind::Aws,
        (&alice, "alice@example.com"),
        in_an_hour(),
    );
    let (_, first) = srv
        .until_aws_identity(&c, 200, Duration::from_secs(10))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.raw);
    let get = Call {
        as_query: true,
        ..Call::new(&c)
    };
    for r in [first, srv.aws_sts(&get).await] {
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.raw);
        let text = String::from_utf8_lossy(&r.raw);
        assert!(
            text.starts_with(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
            ),
            "{text}"
        );
        assert_eq!(
            xml(&r, "Arn").as_deref(),
            Some(arn(&s, "alice@example.com").as_str())
        );
        assert_eq!(xml(&r, "Account").as_deref(), Some(s.account.as_str()));
        let user_id = xml(&r, "UserId").unwrap();
        let (role_id, session) = user_id.split_once(':').unwrap();
        assert!(
            role_id.starts_with("AROA") && role_id.len() == 21,
            "{user_id}"
        );
        assert_eq!(session, "alice@example.com");
        assert_eq!(r.header("content-type"), Some("text/xml"));
        assert_eq!(
            xml(&r, "RequestId").as_deref(),
            r.header("x-request-id"),
            "{text}"
        );
    }
    // The audit trail names the call, the assumed role, the AccessKeyId and the directory.
    let admin = srv.admin_key();
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
    assert_eq!(e["eventName"], "aws-sts:GetCallerIdentity", "{events}");
    let who = &e["userIdentity"];
    assert_eq!(who["accessKeyId"], c.access_key_id.as_str(), "{e}");
    assert_eq!(who["directoryId"], s.d.as_str(), "{e}");
    assert_eq!(
        who["userName"],
        format!("assumed-role/AliyunReservedSSO-{CONFIG_NAME}/alice@example.com"),
        "{e}"
    );
    // The Alibaba endpoint on the same path still answers JSON.
    let me = srv
        .api_ok(&admin, "2015-04-01", "GetCallerIdentity", &[])
        .await;
    assert_eq!(me["IdentityType"], "RAMUser", "{me}");
}

#[tokio::test]
async fn refused_requests_answer_aws_codes() {
    let srv = Server::start();
    let (s, alice) = with_access(&srv, "alice").await;
    let c = credentials(
        &srv,
        &s,
        CredentialKind::Aws,
        (&alice, "alice"),
        in_an_hour(),
    );
    let other = credentials(
        &srv,
        &s,
        CredentialKind::Aws,
        (&alice, "alice"),
        in_an_hour(),
    );
    let alibaba = credentials(
        &srv,
        &s,
        CredentialKind::Alibaba,
        (&alice, "alice"),
        in_an_hour(),
    );
    let expired = credentials(
        &srv,
        &s,
        CredentialKind::Aws,
        (&alice, "alice"),
        time::OffsetDateTime::now_utc().unix_timestamp() - 1,
    );
    let (_, ok) = srv
        .until_aws_identity(&c, 200, Duration::from_secs(10))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.raw);

    let mut tampered = c.security_token.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let base = Call::new(&c);
    let flip_signature: fn(&str) -> String = |a| {
        let last = a.chars().last().unwrap();
        format!(
            "{}{}",
            &a[..a.len() - 1],
            if last == '0' { '1' } else { '0' }
        )
    };
    let pad = format!(
        "{GET_CALLER_IDENTITY}&Pad={}",
        "p".repeat(BODY_BYTES_MAX - GET_CALLER_IDENTITY.len() - 5)
    );
    // (case, call, status, code)
    let cases: Vec<(&str, Call, u16, &str)> = vec![
        (
            "a body at the size limit",
            Call {
                body: pad.clone(),
                ..base.clone()
            },
            200,
            "",
        ),
        (
            "a body one byte over the size limit",
            Call {
                body: format!("{pad}p"),
                ..base.clone()
            },
            413,
            "RequestEntityTooLarge",
        ),
        (
            "tampered signature",
            Call {
                edit: Some(flip_signature),
                ..base.clone()
            },
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "signed with another credential's secret",
            Call {
                secret: other.access_key_secret.clone(),
                ..base.clone()
            },
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "another credential's token (swapped)",
            Call {
                token: Some(other.security_token.clone()),
                ..base.clone()
            },
            403,
            "InvalidClientTokenId",
        ),
        (
            "the token's own key, signed with this secret",
            Call {
                key_id: other.access_key_id.clone(),
                token: Some(c.security_token.clone()),
                ..base.clone()
            },
            403,
            "InvalidClientTokenId",
        ),
        (
            "tampered token",
            Call {
                token: Some(tampered),
                ..base.clone()
            },
            403,
            "InvalidClientTokenId",
        ),
        (
            "not a token",
            Call {
                token: Some("FwoGZXIvYXdzEJr".into()),
                ..base.clone()
            },
            403,
            "InvalidClientTokenId",
        ),
        (
            "stale X-Amz-Date (20 minutes ago)",
            Call {
                skew: -1200,
                ..base.clone()
            },
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "future X-Amz-Date (in 20 minutes)",
            Call {
                skew: 1200,
                ..base.clone()
            },
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "token header sent but not signed",
            Call {
                token_signed: false,
                ..base.clone()
            },
            400,
            "IncompleteSignature",
        ),
        (
            "form body's content type not signed",
            Call {
                content_type_signed: false,
                ..base.clone()
            },
            400,
            "IncompleteSignature",
        ),
        (
            "no token",
            Call {
                token: None,
                ..base.clone()
            },
            403,
            "InvalidClientTokenId",
        ),
        (
            "duplicated Authorization header",
            Call {
                twice: true,
                ..base.clone()
            },
            400,
            "IncompleteSignature",
        ),
        (
            "another STS action",
            Call {
                body: "Action=GetSessionToken&Version=2011-06-15".into(),
                ..base.clone()
            },
            403,
            "AccessDenied",
        ),
        (
            "an action STS does not have",
            Call {
                body: "Action=ListUsers&Version=2011-06-15".into(),
                ..base.clone()
            },
            400,
            "InvalidAction",
        ),
        (
            "another version",
            Call {
                body: "Action=GetCallerIdentity&Version=2015-04-01".into(),
                ..base.clone()
            },
            400,
            "InvalidAction",
        ),
        (
            "no action",
            Call {
                body: "Version=2011-06-15".into(),
                ..base.clone()
            },
            400,
            "MissingAction",
        ),
        (
            "an STS. key and its token",
            Call::new(&alibaba),
            403,
            "InvalidClientTokenId",
        ),
        (
            "an administrator's AccessKey",
            Call {
                key_id: srv.admin_key().id,
                secret: srv.admin_key().secret,
                token: None,
                ..base.clone()
            },
            403,
            "InvalidClientTokenId",
        ),
        ("expired", Call::new(&expired), 400, "ExpiredToken"),
        (
            "no Authorization at all",
            Call {
                unsigned: true,
                ..base.clone()
            },
            403,
            "MissingAuthenticationToken",
        ),
    ];
    let mut failures = Vec::new();
    for (name, call, status, code) in &cases {
        let r = srv.aws_sts(call).await;
        if *status == 200 {
            if r.status != StatusCode::OK {
                failures.push(format!("{name}: {} {:?}", r.status, r.raw));
            }
        } else if let Some(m) = aws_fault(&r, *status, code) {
            failures.push(format!("{name}: {m}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // The caller is named in the access log by its AccessKeyId, never its secret or token.
    let log = srv.log_text_with(&c.access_key_id).await;
    assert!(!log.contains(&c.access_key_secret) && !log.contains(&c.security_token));
}

#[tokio::test]
async fn disabling_deleting_or_leaving_the_group_refuses_within_a_second() {
    let srv = Server::start();
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let ops = srv.group("ops", &[&alice]).await;
    let s = srv.setup_access(CONFIG_NAME).await;
    srv.assign(&s, "Group", &ops).await;
    srv.assign(&s, "User", &bob).await;
    let ca = credentials(
        &srv,
        &s,
        CredentialKind::Aws,
        (&alice, "alice"),
        in_an_hour(),
    );
    let cb = credentials(&srv, &s, CredentialKind::Aws, (&bob, "bob"), in_an_hour());
    for c in [&ca, &cb] {
        let (_, ok) = srv
            .until_aws_identity(c, 200, Duration::from_secs(10))
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.raw);
    }
    // Bob is disabled over SCIM.
    let r = srv
        .patch_ops(
            &format!("/Users/{bob}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (took, r) = srv
        .until_aws_identity(&cb, 400, Duration::from_secs(1))
        .await;
    assert_aws_fault(&r, 400, "ExpiredToken");
    println!("aws sts: refused {took:?} after SCIM active=false");
    // Deleted: still refused, in the same words.
    assert_eq!(
        srv.delete(&format!("/Users/{bob}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_aws_fault(&srv.aws_sts(&Call::new(&cb)).await, 400, "ExpiredToken");
    // Alice leaves the group that granted the access.
    let r = srv
        .patch_ops(
            &format!("/Groups/{ops}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let (took, r) = srv
        .until_aws_identity(&ca, 400, Duration::from_secs(1))
        .await;
    assert_aws_fault(&r, 400, "ExpiredToken");
    println!("aws sts: refused {took:?} after leaving the group");
}

#[tokio::test]
async fn boto3_and_aws_cli_get_caller_identity_with_minted_credentials() {
    let Some(python) = boto3_python() else {
        return;
    };
    let srv = Server::start();
    let (s, alice) = with_access(&srv, "alice").await;
    let bob = srv.user("bob").await;
    srv.assign(&s, "User", &bob).await;
    let c = credentials(
        &srv,
        &s,
        CredentialKind::Aws,
        (&alice, "alice"),
        in_an_hour(),
    );
    let revoked = credentials(&srv, &s, CredentialKind::Aws, (&bob, "bob"), in_an_hour());
    for c in [&c, &revoked] {
        let (_, ok) = srv
            .until_aws_identity(c, 200, Duration::from_secs(10))
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.raw);
    }
    let r = srv
        .patch_ops(
            &format!("/Users/{bob}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, gone) = srv
        .until_aws_identity(&revoked, 400, Duration::from_secs(1))
        .await;
    assert_aws_fault(&gone, 400, "ExpiredToken");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/api/aws_sts_check.py");
    let args = [
        format!("http://{}", srv.addr),
        c.access_key_id.clone(),
        c.access_key_secret.clone(),
        c.security_token.clone(),
        arn(&s, "alice"),
        revoked.access_key_id.clone(),
        revoked.access_key_secret.clone(),
        revoked.security_token.clone(),
    ];
    run_python_check(python, script, args.to_vec()).await;
}

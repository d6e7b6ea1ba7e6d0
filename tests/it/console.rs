//! Console sign-in end to end over a real redb file: a user with an assignment gets a signed
//! Response (`SignIn::console_sign_in`), `xmlsec1` verifies both signatures with the published
//! certificate (skipped with a notice when it is not installed), the embedded console accepts
//! it once and checks the role, rotation keeps the previous certificate published and
//! re-registers it, and the HTTP routes serve the metadata and the console page.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use cloudsso::access::assignments::Target;
use cloudsso::access::provider::RoleSpec;
use cloudsso::access::records::{AccessConfiguration, Account, TaskStatus};
use cloudsso::app::{App, Options};
use cloudsso::config::Limits;
use cloudsso::error::DomainError;
use cloudsso::model::{DirectoryId, PrincipalId, ResourceKind, UserId};
use cloudsso::scim::schema::AttributeSelection;
use cloudsso::signin::saml::ConsolePost;
use cloudsso::signin::saml::keys::parse_metadata;
use cloudsso::signin::saml::verify::ConsoleIdentity;
use cloudsso::signin::settings::{DirectorySettings, SourceIdentityPassing};
use cloudsso::store::keys::{AccountKey, ConfigKey, SigninSettingsKey};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const ACCOUNT: &str = "1000000000000001";
const PUBLIC: &str = "http://sso.test";

struct Fixture {
    app: Arc<App>,
    d: DirectoryId,
    alice: UserId,
    _tmp: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        public_url: PUBLIC.into(),
        ..Options::default()
    };
    let (app, _writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
        .await
        .unwrap();
    let boot = app
        .directory
        .bootstrap("d-console0000000".into(), "secret".into())
        .await
        .unwrap()
        .unwrap();
    let d = boot.directory_id.clone();
    let dd = d.to_string();
    app.db
        .write(move |w| {
            w.put(AccountKey { id: ACCOUNT }, &account())?;
            w.put(
                ConfigKey {
                    dir: &dd,
                    id: "ac-admin",
                },
                &config(&dd),
            )?;
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
    let doc = app
        .directory
        .create(
            ResourceKind::User,
            &d,
            json!({"userName": "alice@example.com"}),
            &AttributeSelection::default(),
        )
        .await
        .unwrap();
    let alice = UserId::new(doc["id"].as_str().unwrap());
    Fixture {
        app: Arc::new(app),
        d,
        alice,
        _tmp: tmp,
    }
}

fn account() -> Account {
    Account {
        id: ACCOUNT.into(),
        display_name: "A".into(),
        account_name: String::new(),
        folder_id: "r-root".into(),
        created: "2026-11-23T00:00:00Z".into(),
        modified: "2026-11-23T00:00:00Z".into(),
    }
}

fn config(dir: &str) -> AccessConfiguration {
    AccessConfiguration {
        id: "ac-admin".into(),
        directory_id: dir.to_owned(),
        name: "Admin".into(),
        session_duration: 7200,
        relay_state: "http://sso.test/home".into(),
        system_policies: vec!["AdministratorAccess".into()],
        created: "2026-11-23T00:00:00Z".into(),
        updated: "2026-11-23T00:00:00Z".into(),
        ..Default::default()
    }
}

impl Fixture {
    fn target(&self) -> Target {
        Target {
            directory_id: self.d.clone(),
            config_id: "ac-admin".into(),
            account_id: ACCOUNT.into(),
        }
    }

    async fn assign_alice(&self) {
        let who = PrincipalId::User(self.alice.clone());
        self.app
            .access
            .create_assignment(self.target(), who)
            .await
            .unwrap();
        self.settle().await;
    }

    async fn settle(&self) {
        let access = &self.app.access;
        for _ in 0..100 {
            while access.round().await.unwrap() {}
            let tasks = access.tasks(&self.d, Default::default()).await.unwrap();
            if !tasks.iter().any(|t| t.status == TaskStatus::InProgress) {
                while access.round().await.unwrap() {}
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("tasks did not finish");
    }

    async fn sign_in(&self) -> Result<ConsolePost, DomainError> {
        self.app
            .signin
            .console_sign_in(&self.d, &self.alice, ACCOUNT, "ac-admin")
            .await
    }

    fn provider(&self) -> String {
        format!("AliyunReservedSSO-{}", self.d)
    }
}

fn xml_of(post: &ConsolePost) -> String {
    String::from_utf8(B64.decode(&post.saml_response).unwrap()).unwrap()
}

/// Runs `xmlsec1 --verify` on one signature (by XPath); `None` when xmlsec1 is absent.
fn xmlsec1_verify(xml: &str, cert_b64: &str, xpath: &str) -> Option<bool> {
    let dir = tempfile::tempdir().unwrap();
    let (doc, pem) = (dir.path().join("r.xml"), dir.path().join("c.pem"));
    std::fs::write(&doc, xml).unwrap();
    let lines: Vec<String> = cert_b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pem_text = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    std::fs::write(&pem, pem_text).unwrap();
    let out = Command::new("xmlsec1")
        .args([
            "--verify",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--trusted-pem",
        ])
        .arg(&pem)
        .args(["--pubkey-cert-pem"])
        .arg(&pem)
        .args(["--node-xpath", xpath])
        .arg(&doc)
        .output();
    match out {
        Err(_) => None,
        Ok(o) => {
            if !o.status.success() {
                eprintln!("xmlsec1: {}", String::from_utf8_lossy(&o.stderr));
            }
            Some(o.status.success())
        }
    }
}

const ASSERTION_SIG: &str =
    "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']";
const RESPONSE_SIG: &str = "/*[local-name()='Response']/*[local-name()='Signature']";

#[tokio::test]
async fn xmlsec1_verifies_both_signatures_with_the_published_certificate() {
    let f = fixture().await;
    f.assign_alice().await;
    let post = f.sign_in().await.unwrap();
    assert_eq!(post.acs_url, "http://sso.test/saml-role/sso");
    assert_eq!(post.relay_state.as_deref(), Some("http://sso.test/home"));
    let xml = xml_of(&post);
    let metadata = f.app.signin.idp().metadata(f.d.as_str()).await.unwrap();
    let published = parse_metadata(&metadata).unwrap();
    assert_eq!(published.entity_id, format!("{PUBLIC}/{}/saml", f.d));
    let [cert] = published.certificates.as_slice() else {
        panic!("one certificate before any rotation");
    };
    // The attributes, read independently.
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let attr = |name: &str| -> Vec<String> {
        let full = format!("https://www.aliyun.com/SAML-Role/Attributes/{name}");
        doc.descendants()
            .filter(|n| n.tag_name().name() == "Attribute" && n.attribute("Name") == Some(&full))
            .flat_map(|n| n.children().filter(|c| c.is_element()))
            .map(|v| v.text().unwrap_or("").to_owned())
            .collect()
    };
    let provider = f.provider();
    assert_eq!(
        attr("Role"),
        [format!(
            "acs:ram::{ACCOUNT}:role/AliyunReservedSSO-Admin,acs:ram::{ACCOUNT}:saml-provider/{provider}"
        )]
    );
    assert_eq!(attr("RoleSessionName"), ["alice@example.com"]);
    assert_eq!(attr("SessionDuration"), ["7200"]);
    assert!(
        attr("SourceIdentity").is_empty(),
        "attribute passing is off by default"
    );
    let name_id = doc
        .descendants()
        .find(|n| n.tag_name().name() == "NameID")
        .unwrap();
    assert_eq!(name_id.text(), Some(f.alice.as_str()));

    let tampered = xml.replace(">alice@example.com<", ">mallory@example.com<");
    let checks = [
        (&xml, ASSERTION_SIG, true),
        (&xml, RESPONSE_SIG, true),
        (&tampered, ASSERTION_SIG, false),
        (&tampered, RESPONSE_SIG, false),
    ];
    for (doc, xpath, want) in checks {
        match xmlsec1_verify(doc, cert, xpath) {
            None => {
                eprintln!(
                    "NOTICE: xmlsec1 is not installed: the independent verification is skipped"
                );
                return;
            }
            Some(ok) => assert_eq!(ok, want, "{xpath} tampered={}", doc != &xml),
        }
    }
}

#[tokio::test]
async fn attribute_passing_by_user_name_adds_the_source_identity() {
    let f = fixture().await;
    f.assign_alice().await;
    let dd = f.d.to_string();
    f.app
        .db
        .write(move |w| {
            let settings = DirectorySettings {
                attribute_passing: SourceIdentityPassing::UserName,
                ..Default::default()
            };
            w.put(SigninSettingsKey { dir: &dd }, &settings)?;
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
    let xml = xml_of(&f.sign_in().await.unwrap());
    let want = "Name=\"https://www.aliyun.com/SAML-Role/Attributes/SourceIdentity\" \
        NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified\">\
        <saml:AttributeValue>acs:sso:alice@example.com</saml:AttributeValue>";
    assert!(xml.contains(want), "{xml}");
    f.app
        .signin
        .console_accept(&B64.encode(&xml), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn console_sign_in_needs_access_now() {
    let f = fixture().await;
    let err = f.sign_in().await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound { .. }), "{err:?}");
    f.assign_alice().await;
    f.sign_in().await.unwrap();
    let other = f
        .app
        .signin
        .console_sign_in(&f.d, &f.alice, ACCOUNT, "ac-other")
        .await;
    assert!(
        matches!(other, Err(DomainError::NotFound { .. })),
        "{other:?}"
    );
    f.app
        .access
        .delete_assignment(f.target(), PrincipalId::User(f.alice.clone()), true)
        .await
        .unwrap();
    f.settle().await;
    let err = f.sign_in().await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn the_embedded_console_accepts_a_response_once_and_checks_the_role() {
    let f = fixture().await;
    f.assign_alice().await;
    let signin = &f.app.signin;
    let post = f.sign_in().await.unwrap();
    let s = signin
        .console_accept(&post.saml_response, post.relay_state.as_deref())
        .await
        .unwrap();
    assert_eq!(s.session_name, "alice@example.com");
    assert_eq!(
        s.identity,
        ConsoleIdentity::Role {
            name: "AliyunReservedSSO-Admin".into(),
            policies: vec!["AdministratorAccess".into()],
        }
    );
    assert_eq!(s.account_id, ACCOUNT);
    let left = (s.expires - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((7000..=7200).contains(&left), "{left}");
    let again = signin
        .console_accept(&post.saml_response, None)
        .await
        .unwrap_err();
    assert!(
        again.forbidden && again.message.contains("already used"),
        "{again}"
    );

    // A role that trusts another provider, then a role that is gone.
    let provider = f.app.access.provider().clone();
    let mut role = provider
        .role(ACCOUNT, "AliyunReservedSSO-Admin")
        .await
        .unwrap()
        .unwrap();
    let good_trust = role.trust_policy.clone();
    role.trust_policy = good_trust.replace(&f.provider(), "AliyunReservedSSO-d-other");
    provider.ensure_role(&role).await.unwrap();
    let post = f.sign_in().await.unwrap();
    let err = signin
        .console_accept(&post.saml_response, None)
        .await
        .unwrap_err();
    assert!(err.message.contains("Not authorized"), "{err}");
    role.trust_policy = good_trust.replace(PUBLIC, "https://elsewhere");
    provider.ensure_role(&role).await.unwrap();
    let post = f.sign_in().await.unwrap();
    let err = signin
        .console_accept(&post.saml_response, None)
        .await
        .unwrap_err();
    assert!(err.message.contains("Not authorized"), "{err}");
    let restored = RoleSpec {
        trust_policy: good_trust,
        ..role.clone()
    };
    provider.ensure_role(&restored).await.unwrap();
    let registered = provider
        .saml_provider_metadata(ACCOUNT, &f.provider())
        .await
        .unwrap()
        .unwrap();
    provider
        .delete_saml_provider(ACCOUNT, &f.provider())
        .await
        .unwrap();
    let post = f.sign_in().await.unwrap();
    let err = signin
        .console_accept(&post.saml_response, None)
        .await
        .unwrap_err();
    assert!(
        err.forbidden && err.message.contains("provider doesn't exist"),
        "{err}"
    );
    provider
        .ensure_saml_provider(ACCOUNT, &f.provider(), &registered)
        .await
        .unwrap();
    signin
        .console_accept(&post.saml_response, None)
        .await
        .unwrap();
    provider
        .delete_role(ACCOUNT, "AliyunReservedSSO-Admin")
        .await
        .unwrap();
    let post = f.sign_in().await.unwrap();
    let err = signin
        .console_accept(&post.saml_response, None)
        .await
        .unwrap_err();
    assert!(
        err.forbidden && err.message.contains("Not authorized"),
        "{err}"
    );
}

#[tokio::test]
async fn rotation_keeps_the_previous_certificate_until_finished() {
    let f = fixture().await;
    f.assign_alice().await;
    let signin = &f.app.signin;
    let before = f.sign_in().await.unwrap();
    let old = signin.idp().key_set(f.d.as_str()).await.unwrap().current;
    let set = signin.idp().rotate(f.d.as_str()).await.unwrap();
    assert_eq!(set.previous.as_ref().map(|k| &k.id), Some(&old.id));
    assert_ne!(set.current.id, old.id);
    assert_eq!(
        f.app
            .access
            .refresh_saml_providers(f.d.as_str())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        f.app
            .access
            .refresh_saml_providers(f.d.as_str())
            .await
            .unwrap(),
        0
    );
    let registered = f
        .app
        .access
        .provider()
        .saml_provider_metadata(ACCOUNT, &f.provider())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parse_metadata(&registered).unwrap().certificates.len(), 2);
    let after = f.sign_in().await.unwrap();
    assert!(xml_of(&after).contains(&set.current.certificate));
    signin
        .console_accept(&before.saml_response, None)
        .await
        .unwrap();
    signin
        .console_accept(&after.saml_response, None)
        .await
        .unwrap();

    let stale = f.sign_in_with_old_key_after_finish().await;
    assert!(stale.message.contains("does not verify"), "{stale}");
}

impl Fixture {
    /// Signs a response, finishes the rotation it was signed in (by rotating again and
    /// finishing), and posts it: the key it was signed with is no longer published.
    async fn sign_in_with_old_key_after_finish(&self) -> cloudsso::signin::saml::verify::Refusal {
        let post = self.sign_in().await.unwrap();
        let idp = self.app.signin.idp();
        idp.rotate(self.d.as_str()).await.unwrap();
        idp.finish_rotation(self.d.as_str()).await.unwrap();
        // The engine's full pass re-registers the metadata with the provider.
        self.app.access.full_pass(false).await.unwrap();
        self.app
            .signin
            .console_accept(&post.saml_response, None)
            .await
            .unwrap_err()
    }
}

async fn send(
    base: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> (StatusCode, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut req = Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    if body.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let req = req
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status();
    let raw = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&raw).into_owned())
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::harness::enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn http_serves_the_metadata_and_the_console_page() {
    let f = fixture().await;
    f.assign_alice().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cloudsso::http::serve(
        listener,
        f.app.clone(),
        None,
        async {
            let _ = stopped.await;
        },
    ));
    let dir = f.app.directory.directory(&f.d).await.unwrap();
    for name in [dir.name.as_str(), f.d.as_str()] {
        let (status, body) = send(
            &base,
            Method::GET,
            &format!("/{name}/saml/metadata.xml"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(
            parse_metadata(&body).unwrap().entity_id,
            format!("{PUBLIC}/{}/saml", f.d)
        );
    }
    let (status, _) = send(&base, Method::GET, "/nope/saml/metadata.xml", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&base, Method::GET, "/saml-role/sso", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    let post = f.sign_in().await.unwrap();
    let body = form(&[
        ("SAMLResponse", &post.saml_response),
        ("RelayState", "http://sso.test/x"),
    ]);
    let (status, page) = send(&base, Method::POST, "/saml-role/sso", Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for want in [
        "id=\"role-name\">AliyunReservedSSO-Admin<",
        &format!("id=\"account-id\">{ACCOUNT}<"),
        "id=\"session-name\">alice@example.com<",
        "<li>AdministratorAccess</li>",
        "id=\"expires\">",
    ] {
        assert!(page.contains(want), "{want}: {page}");
    }
    let cases = [
        (body, StatusCode::FORBIDDEN, "already used"),
        (
            form(&[("SAMLResponse", "%%%")]),
            StatusCode::BAD_REQUEST,
            "base64",
        ),
        (
            form(&[("RelayState", "x")]),
            StatusCode::BAD_REQUEST,
            "no SAMLResponse",
        ),
        (
            form(&[("SAMLResponse", &B64.encode("<!DOCTYPE x><x/>"))]),
            StatusCode::BAD_REQUEST,
            "DOCTYPE",
        ),
        (
            form(&[("SAMLResponse", &"A".repeat(100_004))]),
            StatusCode::BAD_REQUEST,
            "longer than",
        ),
    ];
    for (body, status_want, words) in cases {
        let (status, page) = send(&base, Method::POST, "/saml-role/sso", Some(body)).await;
        assert_eq!(status, status_want, "{words}: {page}");
        assert!(page.contains(words), "{words}: {page}");
    }
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn the_management_api_lists_rotates_and_finishes_signing_certificates() {
    let api = crate::harness::LibApi::start().await;
    let d = api.directory_id.clone();
    let dir = [("DirectoryId", d.as_str())];
    let (status, got) = api
        .call("2021-05-15", "GetIdPSigningCertificates", &dir)
        .await;
    assert_eq!(status, 200, "{got}");
    let ids = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["Certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["CertificateId"].as_str().unwrap().to_owned(),
                    c["Status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let first = ids(&got);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1, "Current");
    assert_eq!(
        got["MetadataUrl"],
        format!("http://x/{d}/saml/metadata.xml")
    );
    assert_eq!(got["EntityId"], format!("http://x/{d}/saml"));
    assert!(
        got["Certificates"][0]["NotAfter"].as_str().unwrap()
            > got["Certificates"][0]["NotBefore"].as_str().unwrap()
    );
    let (status, rotated) = api
        .call("2021-05-15", "RotateIdPSigningCertificate", &dir)
        .await;
    assert_eq!(status, 200, "{rotated}");
    let after = ids(&rotated);
    assert_eq!(after.len(), 2);
    assert_eq!(after[1], (first[0].0.clone(), "Previous".to_owned()));
    assert_ne!(after[0].0, first[0].0);
    let metadata = api.app.signin.idp().metadata(&d).await.unwrap();
    assert_eq!(parse_metadata(&metadata).unwrap().certificates.len(), 2);
    let (status, done) = api
        .call("2021-05-15", "FinishIdPSigningCertificateRotation", &dir)
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(ids(&done), vec![(after[0].0.clone(), "Current".to_owned())]);
    let metadata = api.app.signin.idp().metadata(&d).await.unwrap();
    assert_eq!(parse_metadata(&metadata).unwrap().certificates.len(), 1);
    // An unknown directory gets no keys.
    for op in ["GetIdPSigningCertificates", "RotateIdPSigningCertificate"] {
        let (status, body) = api
            .call("2021-05-15", op, &[("DirectoryId", "d-nosuchdir0000000")])
            .await;
        assert_eq!(status, 404, "{op}: {body}");
    }
}

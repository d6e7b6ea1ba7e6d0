//! The management API's limits, each on both sides, through the library's `Api` over a real
//! redb file (no HTTP: `Api::handle` takes a decoded request, as `http::api` gives it).

use cloudsso::api::protocol::{CLOUDSSO_VERSION, RAM_VERSION};
use cloudsso::api::signature::sign_acs3;
use cloudsso::api::{Api, ApiRequest};
use cloudsso::config::Limits;
use cloudsso::directory::admins::{self, new_access_key_pair};
use cloudsso::directory::{
    CredentialOptions, Directory, TOKEN_TTL_MINUTES_MAX, TOKEN_TTL_MINUTES_MIN,
};
use cloudsso::seal::Sealer;
use cloudsso::store::{CredentialKind, Store, Writer};
use serde_json::Value;

struct Fixture {
    api: Api,
    dir: Directory,
    directory_id: String,
    key: (String, String),
    _tmp: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("cloudsso.redb")).unwrap();
    let (writer, _thread) = Writer::start(store.clone(), 64, 1024).unwrap();
    let dir = Directory::new(store, writer, Limits::default(), "http://x/scim/v2".into());
    dir.set_sealer(Sealer::new(&Sealer::new_key()).unwrap());
    let boot = dir
        .bootstrap("d-limits0000000".into(), "scim-secret".into())
        .await
        .unwrap()
        .unwrap();
    let key = new_access_key_pair();
    assert!(
        dir.bootstrap_admin(key.0.clone(), key.1.clone())
            .await
            .unwrap()
    );
    let account = dir.account_id().await.unwrap();
    Fixture {
        api: Api::new(dir.clone(), "cn-shanghai".into(), account),
        dir,
        directory_id: boot.directory_id,
        key,
        _tmp: tmp,
    }
}

fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Fixture {
    async fn call(&self, version: &str, action: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let query: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let host = vec![("host".to_owned(), "127.0.0.1:1".to_owned())];
        let nonce = uuid::Uuid::new_v4().to_string();
        let signed = sign_acs3(
            &self.key.0,
            &self.key.1,
            "POST",
            action,
            version,
            &query,
            &host,
            b"",
            &now(),
            &nonce,
        )
        .unwrap();
        let mut headers = host;
        headers.extend(signed);
        let answer = self
            .api
            .handle(ApiRequest {
                method: "POST".into(),
                path: "/".into(),
                query,
                form: Vec::new(),
                headers,
                body: Vec::new(),
                source_ip: "127.0.0.1".into(),
            })
            .await;
        (answer.status, answer.body)
    }
}

fn code(v: &Value) -> &str {
    v["Code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn max_results_and_parameter_size_on_both_sides() {
    let f = fixture().await;
    let d = f.directory_id.as_str();
    for (max, status) in [("1", 200), ("100", 200), ("0", 400), ("101", 400)] {
        let (s, b) = f
            .call(
                CLOUDSSO_VERSION,
                "ListUsers",
                &[("DirectoryId", d), ("MaxResults", max)],
            )
            .await;
        assert_eq!(s, status, "MaxResults={max}: {b}");
        if status == 400 {
            assert_eq!(code(&b), "InvalidParameter.MaxResults");
        }
    }
    let max = cloudsso::api::params::PARAM_BYTES_MAX;
    let at = "a".repeat(max);
    let over = "a".repeat(max + 1);
    let (s, b) = f
        .call(
            CLOUDSSO_VERSION,
            "ListUsers",
            &[("DirectoryId", d), ("NextToken", &at)],
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (400, "InvalidParameter.NextToken"),
        "at the limit the value is read"
    );
    let (s, b) = f
        .call(
            CLOUDSSO_VERSION,
            "ListUsers",
            &[("DirectoryId", d), ("NextToken", &over)],
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (400, "InvalidParameter"),
        "over the limit: {b}"
    );
}

#[tokio::test]
async fn access_keys_and_policies_per_administrator() {
    let f = fixture().await;
    let (s, b) = f
        .call(RAM_VERSION, "CreateUser", &[("UserName", "ops")])
        .await;
    assert_eq!(s, 200, "{b}");
    for i in 0..admins::ACCESS_KEYS_PER_USER_MAX {
        let (s, b) = f
            .call(RAM_VERSION, "CreateAccessKey", &[("UserName", "ops")])
            .await;
        assert_eq!(s, 200, "key {i}: {b}");
    }
    let (s, b) = f
        .call(RAM_VERSION, "CreateAccessKey", &[("UserName", "ops")])
        .await;
    assert_eq!((s, code(&b)), (409, "LimitExceeded.User.AccessKey"));

    let doc = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"cloudsso:Get*","Resource":"*"}]}"#;
    for i in 0..admins::POLICIES_PER_USER_MAX {
        let name = format!("p{i}");
        let (s, b) = f
            .call(
                RAM_VERSION,
                "CreatePolicy",
                &[("PolicyName", &name), ("PolicyDocument", doc)],
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = f
            .call(
                RAM_VERSION,
                "AttachPolicyToUser",
                &[
                    ("PolicyType", "Custom"),
                    ("PolicyName", &name),
                    ("UserName", "ops"),
                ],
            )
            .await;
        assert_eq!(s, 200, "attachment {i}: {b}");
    }
    let (s, b) = f
        .call(
            RAM_VERSION,
            "AttachPolicyToUser",
            &[
                ("PolicyType", "System"),
                ("PolicyName", "AliyunCloudSSOFullAccess"),
                ("UserName", "ops"),
            ],
        )
        .await;
    assert_eq!((s, code(&b)), (409, "LimitExceeded.Policy.Attachment"));
    // A policy document over 6,144 characters is refused.
    let long = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"cloudsso:Get*","Resource":"acs:cloudsso:*:*:directory/{}"}}]}}"#,
        "x".repeat(6200)
    );
    let (s, b) = f
        .call(
            RAM_VERSION,
            "CreatePolicy",
            &[("PolicyName", "long"), ("PolicyDocument", &long)],
        )
        .await;
    assert_eq!(
        (s, code(&b)),
        (400, "InvalidParameter.PolicyDocument"),
        "{b}"
    );
}

#[tokio::test]
async fn credential_lifetimes_on_both_sides() {
    let f = fixture().await;
    let other = f.dir.create_directory("other").await.unwrap().id;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let day = 24 * 3600;
    let cases: [(Option<i64>, Option<u32>, CredentialKind, bool); 8] = [
        (
            Some(now + day + 60),
            None,
            CredentialKind::BearerToken,
            true,
        ),
        (
            Some(now + day - 60),
            None,
            CredentialKind::BearerToken,
            false,
        ),
        (
            Some(now + 3 * 365 * day - 60),
            None,
            CredentialKind::BearerToken,
            true,
        ),
        (
            Some(now + 3 * 365 * day + 60),
            None,
            CredentialKind::BearerToken,
            false,
        ),
        (
            None,
            Some(TOKEN_TTL_MINUTES_MIN),
            CredentialKind::OAuthClientSecret,
            true,
        ),
        (
            None,
            Some(TOKEN_TTL_MINUTES_MIN - 1),
            CredentialKind::OAuthClientSecret,
            false,
        ),
        (
            None,
            Some(TOKEN_TTL_MINUTES_MAX),
            CredentialKind::OAuthClientSecret,
            true,
        ),
        (
            None,
            Some(TOKEN_TTL_MINUTES_MAX + 1),
            CredentialKind::OAuthClientSecret,
            false,
        ),
    ];
    for (i, (expires_unix, token_ttl_minutes, kind, ok)) in cases.into_iter().enumerate() {
        let made = f
            .dir
            .create_credential(
                &other,
                CredentialOptions {
                    kind,
                    expires_unix,
                    token_ttl_minutes,
                },
            )
            .await;
        assert_eq!(made.is_ok(), ok, "case {i}: {made:?}");
        if let Ok(c) = made {
            // Make room: at most two per directory.
            f.dir
                .delete_credential(&other, &c.credential_id)
                .await
                .unwrap();
        }
    }
}

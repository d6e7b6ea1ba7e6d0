//! The management API's limits, each on both sides, through the library's `Api` over a real
//! redb file (no HTTP: `Api::handle` takes a decoded request, as `http::api` gives it).

use cloudsso::api::protocol::{CLOUDSSO_VERSION, RAM_VERSION};
use cloudsso::directory::{CredentialOptions, TOKEN_TTL_MINUTES_MAX, TOKEN_TTL_MINUTES_MIN};
use cloudsso::iam as admins;
use cloudsso::model::DirectoryId;
use cloudsso::store::CredentialKind;
use serde_json::Value;

type Fixture = crate::harness::LibApi;

async fn fixture() -> Fixture {
    Fixture::start().await
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
    let other = DirectoryId::new(f.dir.create_directory("other").await.unwrap().id);
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

//! Temporary credentials (issue 13): credentials issued per second (target at least 10,000/s)
//! and STS `GetCallerIdentity` answers per second with p99 (target at least 20,000/s, p99 under
//! 2 ms), over a real redb file with users granted a configuration by the engine; and the pure
//! format on one thread (minting, opening).
//!
//! The library without HTTP (`SignIn::issue_credentials`, `Api::handle` with ACS3-signed
//! requests, signed before the clock starts). `--quick` uses fewer users and calls. Measures;
//! asserts nothing.
// A benchmark stops at the first failure, like a test.
#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use cloudsso::access::assignments::Target;
use cloudsso::access::records::{AccessConfiguration, Account, TaskStatus};
use cloudsso::api::ApiRequest;
use cloudsso::api::signature::{Acs3Request, sign_acs3};
use cloudsso::app::{App, Options};
use cloudsso::config::Limits;
use cloudsso::error::DomainError;
use cloudsso::model::{DirectoryId, PrincipalId, ResourceKind, UserId};
use cloudsso::scim::schema::AttributeSelection;
use cloudsso::signin::credentials::{self, Claims, CredentialKind, TempCredential};
use cloudsso::store::keys::{AccountKey, ConfigKey};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "1000000000000001";
const CONFIG: &str = "ac-bench";
/// Users per group the configuration is assigned to.
const GROUP_MEMBERS: usize = 100;
/// Concurrent callers.
const WORKERS: usize = 32;
/// Concurrent callers of the second `GetCallerIdentity` run (one per core and a spare).
const FEW_CALLERS: usize = 4;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (users, calls) = if quick { (100, 4_000) } else { (1_000, 40_000) };
    pure(calls);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(users, calls));
}

/// Minting and opening on one thread: the format's own cost.
fn pure(n: usize) {
    let sealer = cloudsso::seal::Sealer::new(&cloudsso::seal::Sealer::new_key()).expect("key");
    let now = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    let minted: Vec<TempCredential> = (0..n)
        .map(|i| {
            let claims = Claims::new(
                CredentialKind::Alibaba,
                "d-bench",
                &format!("u-{i}"),
                &format!("user{i}@example.com"),
                ACCOUNT,
                CONFIG,
                "AliyunReservedSSO-Bench",
                now,
                now + time::Duration::hours(1),
            );
            credentials::mint(&sealer, &claims)
        })
        .collect();
    let mint = started.elapsed();
    let started = Instant::now();
    for c in &minted {
        credentials::open(&sealer, &c.access_key_id, &c.security_token).expect("opens");
    }
    let open = started.elapsed();
    println!(
        "format, one thread: mint {:.0}/s, open {:.0}/s (token {} bytes)",
        n as f64 / mint.as_secs_f64(),
        n as f64 / open.as_secs_f64(),
        minted.first().map_or(0, |c| c.security_token.len())
    );
}

fn report(
    name: &str,
    callers: usize,
    n: usize,
    wall: Duration,
    mut us: Vec<f64>,
    target_per_s: f64,
) {
    us.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let at = |q: f64| {
        let i = ((us.len() as f64 - 1.0) * q).round() as usize;
        us.get(i).copied().unwrap_or(f64::NAN) / 1000.0
    };
    let rate = n as f64 / wall.as_secs_f64();
    println!(
        "{name:<22} {rate:>8.0}/s  p50={:.2} ms  p99={:.2} ms  max={:.2} ms  ({callers} callers; target {target_per_s:.0}/s: {})",
        at(0.5),
        at(0.99),
        at(1.0),
        if rate >= target_per_s {
            "met"
        } else {
            "NOT met"
        }
    );
}

async fn run(n_users: usize, calls: usize) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let options = Options {
        public_url: "http://x".into(),
        ..Options::default()
    };
    let (app, _writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
        .await
        .expect("app");
    let app = Arc::new(app);
    let d = app
        .directory
        .bootstrap("d-credentials000".into(), "secret".into())
        .await
        .expect("bootstrap")
        .expect("fresh")
        .directory_id;
    let dd = d.to_string();
    app.db
        .write(move |w| {
            let account = Account {
                id: ACCOUNT.into(),
                display_name: "bench".into(),
                account_name: String::new(),
                folder_id: "r-root".into(),
                created: String::new(),
                modified: String::new(),
            };
            w.put(AccountKey { id: ACCOUNT }, &account)?;
            let config = AccessConfiguration {
                id: CONFIG.into(),
                directory_id: dd.clone(),
                name: "Bench".into(),
                session_duration: 3600,
                system_policies: vec!["ReadOnlyAccess".into()],
                ..Default::default()
            };
            w.put(
                ConfigKey {
                    dir: &dd,
                    id: CONFIG,
                },
                &config,
            )?;
            Ok::<_, DomainError>(())
        })
        .await
        .expect("account and configuration");
    let target = Target {
        directory_id: d.clone(),
        config_id: CONFIG.into(),
        account_id: ACCOUNT.into(),
    };
    let mut users = Vec::with_capacity(n_users);
    for i in 0..n_users {
        let doc = app
            .directory
            .create(
                ResourceKind::User,
                &d,
                json!({"userName": format!("user{i}")}),
                &AttributeSelection::default(),
            )
            .await
            .expect("user");
        users.push(UserId::new(doc["id"].as_str().unwrap_or_default()));
    }
    // Granted through groups of `GROUP_MEMBERS`, one assignment (and its task) at a time.
    for (g, members) in users.chunks(GROUP_MEMBERS).enumerate() {
        let members: Vec<_> = members
            .iter()
            .map(|u| json!({"value": u.as_str()}))
            .collect();
        let doc = app
            .directory
            .create(
                ResourceKind::Group,
                &d,
                json!({"displayName": format!("group{g}"), "members": members}),
                &AttributeSelection::default(),
            )
            .await
            .expect("group");
        let group = cloudsso::model::GroupId::new(doc["id"].as_str().unwrap_or_default());
        app.access
            .create_assignment(target.clone(), PrincipalId::Group(group))
            .await
            .expect("assignment");
        settle(&app, &d).await;
    }
    let users = Arc::new(users);

    // Issuing.
    let cap = time::OffsetDateTime::now_utc() + time::Duration::hours(8);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let (app, users, d) = (app.clone(), users.clone(), d.clone());
        set.spawn(async move {
            let mut lat = Vec::new();
            let mut minted = Vec::new();
            for i in (w..calls).step_by(WORKERS) {
                let u = &users[i % users.len()];
                let t = Instant::now();
                let c = app
                    .signin
                    .issue_credentials(&d, u, ACCOUNT, CONFIG, cap, CredentialKind::Alibaba)
                    .await
                    .expect("issue")
                    .expect("granted");
                lat.push(t.elapsed().as_secs_f64() * 1e6);
                minted.push(c);
            }
            (lat, minted)
        });
    }
    let (mut lat, mut minted) = (Vec::new(), Vec::new());
    while let Some(r) = set.join_next().await {
        let (l, m) = r.expect("join");
        lat.extend(l);
        minted.extend(m);
    }
    report(
        "issue_credentials",
        WORKERS,
        calls,
        started.elapsed(),
        lat,
        10_000.0,
    );

    // GetCallerIdentity: every request signed before the clock starts; many callers, then few.
    for callers in [WORKERS, FEW_CALLERS] {
        identity_calls(&app, &minted, callers).await;
    }
    aws_identity_calls(&app, &users, &d, calls).await;
}

/// AWS STS `GetCallerIdentity` (`Api::handle_aws_sts`, SigV4) with `ASIA` credentials of the
/// granted users, `FEW_CALLERS` at once, every request signed before the clock starts.
async fn aws_identity_calls(app: &Arc<App>, users: &[UserId], d: &DirectoryId, calls: usize) {
    use cloudsso::api::aws_sts::AwsRequest;
    use cloudsso::api::sigv4::{self, SignInput};
    let cap = time::OffsetDateTime::now_utc() + time::Duration::hours(8);
    let body = b"Action=GetCallerIdentity&Version=2011-06-15".to_vec();
    let mut requests = Vec::with_capacity(calls);
    for i in 0..calls {
        let c = app
            .signin
            .issue_credentials(
                d,
                &users[i % users.len()],
                ACCOUNT,
                CONFIG,
                cap,
                CredentialKind::Aws,
            )
            .await
            .expect("issue")
            .expect("granted");
        let mut headers = vec![
            ("host".to_owned(), "127.0.0.1:1".to_owned()),
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            ),
            (
                "x-amz-date".to_owned(),
                sigv4::amz_date(time::OffsetDateTime::now_utc()),
            ),
            ("x-amz-security-token".to_owned(), c.security_token.clone()),
        ];
        let auth = sigv4::sign(&SignInput {
            access_key_id: &c.access_key_id,
            secret: &c.access_key_secret,
            region: "us-east-1",
            service: "sts",
            request: sigv4::Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body: &body,
            },
        })
        .expect("sign");
        headers.push(("authorization".to_owned(), auth));
        requests.push(AwsRequest {
            method: "POST".into(),
            path: "/".into(),
            form: vec![
                ("Action".into(), "GetCallerIdentity".into()),
                ("Version".into(), "2011-06-15".into()),
            ],
            headers,
            body: body.clone(),
            request_id: "bench".into(),
            ..Default::default()
        });
    }
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for batch in chunks(requests, FEW_CALLERS) {
        let app = app.clone();
        set.spawn(async move {
            let mut lat = Vec::with_capacity(batch.len());
            for req in batch {
                let t = Instant::now();
                let a = app.api.handle_aws_sts(&req).await;
                lat.push(t.elapsed().as_secs_f64() * 1e6);
                assert_eq!(a.status, 200, "{}", a.body);
            }
            lat
        });
    }
    let mut lat = Vec::new();
    while let Some(r) = set.join_next().await {
        lat.extend(r.expect("join"));
    }
    report(
        "AWS GetCallerIdentity",
        FEW_CALLERS,
        calls,
        started.elapsed(),
        lat,
        20_000.0,
    );
}

async fn identity_calls(app: &Arc<App>, minted: &[TempCredential], callers: usize) {
    let requests: Vec<ApiRequest> = minted.iter().map(signed_identity_call).collect();
    let calls = requests.len();
    let per_worker = chunks(requests, callers);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for batch in per_worker {
        let app = app.clone();
        set.spawn(async move {
            let mut lat = Vec::with_capacity(batch.len());
            for req in batch {
                let t = Instant::now();
                let a = app.api.handle(req).await;
                lat.push(t.elapsed().as_secs_f64() * 1e6);
                assert_eq!(a.status, 200, "{}", a.body);
            }
            lat
        });
    }
    let mut lat = Vec::new();
    while let Some(r) = set.join_next().await {
        lat.extend(r.expect("join"));
    }
    report(
        "GetCallerIdentity",
        callers,
        calls,
        started.elapsed(),
        lat,
        20_000.0,
    );
}

fn chunks<T>(items: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = (0..n).map(|_| Vec::new()).collect();
    for (i, x) in items.into_iter().enumerate() {
        out[i % n].push(x);
    }
    out
}

fn signed_identity_call(c: &TempCredential) -> ApiRequest {
    let mut headers = vec![
        ("host".to_owned(), "127.0.0.1:1".to_owned()),
        ("x-acs-security-token".to_owned(), c.security_token.clone()),
    ];
    let date = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole second")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("date");
    let signed = sign_acs3(&Acs3Request {
        access_key_id: &c.access_key_id,
        secret: &c.access_key_secret,
        method: "POST",
        action: "GetCallerIdentity",
        version: "2015-04-01",
        query: &[],
        headers: &headers,
        body: b"",
        date: &date,
        nonce: &uuid::Uuid::new_v4().to_string(),
    })
    .expect("sign");
    headers.extend(signed);
    ApiRequest {
        method: "POST".into(),
        path: "/".into(),
        headers,
        source_ip: "127.0.0.1".into(),
        request_id: "bench".into(),
        ..Default::default()
    }
}

/// Runs the engine until no event and no task is left.
async fn settle(app: &App, d: &DirectoryId) {
    for _ in 0..1_000 {
        while app.access.round().await.expect("round") {}
        let tasks = app
            .access
            .tasks(d, Default::default())
            .await
            .expect("tasks");
        if tasks.iter().all(|t| t.status != TaskStatus::InProgress) {
            while app.access.round().await.expect("round") {}
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("tasks did not finish");
}

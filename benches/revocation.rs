//! Revocation latency (issue 4): with 10,000 users, 1,000 groups and 5,000 assignments loaded
//! and the reconciliation engine running, the time from the answer to a SCIM-style write
//! (`active=false`, and a member removal) to the moment effective access no longer lists the
//! grant. Prints p50/p99/max per scenario in milliseconds. Target: p99 under 100 ms.
//!
//! Runs the library over a real redb file in a temporary folder (the same writer, outbox and
//! engine as the server; no HTTP, which is measured by `scim_load`). `--quick` loads a tenth.
//! Measures; asserts nothing.
// A benchmark stops at the first failure, like a test.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

use cloudsso::access::Access;
use cloudsso::access::assignments::Target;
use cloudsso::access::records::{AccessConfiguration, Account, TaskStatus};
use cloudsso::app::{App, Options};
use cloudsso::config::Limits;
use cloudsso::directory::Directory;
use cloudsso::error::DomainError;
use cloudsso::model::{DirectoryId, PrincipalId, ResourceKind};
use cloudsso::scim::patch;
use cloudsso::scim::schema::AttributeSelection;
use cloudsso::store::WriteTxn;
use cloudsso::store::keys::{AccountKey, ConfigKey};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 10;
const CONFIGS: usize = 5;
const SAMPLES: usize = 200;

struct Sizes {
    users: usize,
    groups: usize,
    members_per_group: usize,
    assignments: usize,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = if quick {
        Sizes {
            users: 1_000,
            groups: 100,
            members_per_group: 10,
            assignments: 500,
        }
    } else {
        Sizes {
            users: 10_000,
            groups: 1_000,
            members_per_group: 10,
            assignments: 5_000,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(sizes));
}

async fn patch_doc(dir: &Directory, d: &DirectoryId, kind: ResourceKind, id: &str, ops: Value) {
    let limits = Limits::default();
    let ops = patch::parse_request(
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
        100,
        &limits.filter,
    )
    .expect("patch");
    dir.patch(d, &PrincipalId::new(kind, id), ops, None, None)
        .await
        .expect("patch");
}

async fn wait_until_gone(
    access: &Access,
    d: &str,
    user: &str,
    account: &str,
    config: &str,
) -> Duration {
    let started = Instant::now();
    loop {
        let grants = access.granted(d, user).await.expect("read");
        if !grants
            .iter()
            .any(|g| g.account_id == account && g.config_id == config)
        {
            return started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(30) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let at = |q: f64| {
        let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
        ms.get(i).copied().unwrap_or(f64::NAN)
    };
    println!(
        "{name:<28} n={:<4} p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  (target p99 < 100 ms: {})",
        ms.len(),
        at(0.5),
        at(0.99),
        at(1.0),
        if at(0.99) < 100.0 { "met" } else { "NOT met" }
    );
}

/// The benchmark's accounts and access configurations, written directly.
fn put_accounts_and_configs(w: &WriteTxn, d: &str) -> Result<(), DomainError> {
    for a in 0..ACCOUNTS {
        let id = format!("{:016}", 1_000_000_000_000_000u64 + a as u64);
        let account = Account {
            id: id.clone(),
            display_name: format!("acct{a}"),
            account_name: String::new(),
            folder_id: "r-root".into(),
            created: String::new(),
            modified: String::new(),
        };
        w.put(AccountKey { id: &id }, &account)?;
    }
    for c in 0..CONFIGS {
        let id = format!("ac-bench{c}");
        let config = AccessConfiguration {
            id: id.clone(),
            directory_id: d.to_owned(),
            name: format!("Config{c}"),
            description: String::new(),
            session_duration: 3600,
            relay_state: String::new(),
            system_policies: vec!["ReadOnlyAccess".into()],
            inline_policy: None,
            status_notifications: Vec::new(),
            created: String::new(),
            updated: String::new(),
            ..Default::default()
        };
        w.put(ConfigKey { dir: d, id: &id }, &config)?;
    }
    Ok(())
}

async fn run(s: Sizes) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let options = Options {
        public_url: "http://x".into(),
        ..Options::default()
    };
    let (app, _writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
        .await
        .expect("app");
    let dir = app.directory.clone();
    let d = dir
        .bootstrap("d-revocation0000".into(), "secret".into())
        .await
        .expect("bootstrap")
        .expect("fresh")
        .directory_id;
    let access = app.access.clone();
    let load = Instant::now();
    // Accounts and configurations straight into the store; everything else through the
    // directory's and access management's own writes.
    let dd = d.clone();
    app.db
        .write(move |w| put_accounts_and_configs(w, &dd))
        .await
        .expect("accounts and configurations");
    let mut users = Vec::with_capacity(s.users);
    for chunk in (0..s.users).collect::<Vec<_>>().chunks(256) {
        let mut set = tokio::task::JoinSet::new();
        for i in chunk {
            let (dir, d) = (dir.clone(), d.clone());
            let name = format!("user{i}");
            set.spawn(async move {
                dir.create(
                    ResourceKind::User,
                    &d,
                    json!({"userName": name}),
                    &AttributeSelection::default(),
                )
                .await
                .expect("user")["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            });
        }
        while let Some(id) = set.join_next().await {
            users.push(id.expect("join"));
        }
    }
    users.sort();
    let mut groups = Vec::with_capacity(s.groups);
    for g in 0..s.groups {
        let members: Vec<Value> = (0..s.members_per_group)
            .filter_map(|k| users.get((g * s.members_per_group + k) % users.len()))
            .map(|u| json!({"value": u}))
            .collect();
        let doc = dir
            .create(
                ResourceKind::Group,
                &d,
                json!({"displayName": format!("group{g}"), "members": members}),
                &AttributeSelection::default(),
            )
            .await
            .expect("group");
        groups.push(doc["id"].as_str().unwrap_or_default().to_owned());
    }
    // Every (configuration, account) provisioned, then the assignments: half on users, half
    // on groups.
    for c in 0..CONFIGS {
        for a in 0..ACCOUNTS {
            access
                .provision(Target {
                    directory_id: d.clone(),
                    config_id: format!("ac-bench{c}"),
                    account_id: format!("{:016}", 1_000_000_000_000_000u64 + a as u64),
                })
                .await
                .expect("provision");
        }
    }
    loop {
        let running = access
            .tasks(&d, Default::default())
            .await
            .expect("tasks")
            .iter()
            .any(|t| t.status == TaskStatus::InProgress);
        if !running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for i in 0..s.assignments {
        let principal = if i % 2 == 0 {
            PrincipalId::new(ResourceKind::User, &users[(i / 2) % users.len()])
        } else {
            PrincipalId::new(ResourceKind::Group, &groups[(i / 2) % groups.len()])
        };
        let target = Target {
            directory_id: d.clone(),
            config_id: format!("ac-bench{}", i % CONFIGS),
            account_id: format!(
                "{:016}",
                1_000_000_000_000_000u64 + ((i / CONFIGS) % ACCOUNTS) as u64
            ),
        };
        // Duplicates of (configuration, account, principal) are skipped.
        let _ = access.create_assignment(target, principal).await;
    }
    println!(
        "loaded {} users, {} groups, {} assignments in {:.1} s",
        s.users,
        s.groups,
        s.assignments,
        load.elapsed().as_secs_f64()
    );
    // The engine catches up (its first full pass and the outbox).
    let engine = access.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        engine
            .run_engine(Duration::from_secs(3600), Duration::ZERO, async {
                let _ = stopped.await;
            })
            .await;
    });
    let settle = Instant::now();
    while access.round().await.expect("round") {}
    loop {
        // Caught up when a round finds nothing twice in a row.
        tokio::time::sleep(Duration::from_millis(200)).await;
        if !access.round().await.expect("round") {
            break;
        }
    }
    println!(
        "engine caught up in {:.1} s",
        settle.elapsed().as_secs_f64()
    );

    // Users with a direct grant: deactivate, measure, reactivate.
    let mut deactivate = Vec::new();
    for i in 0..SAMPLES {
        let u = users[(i * 7) % users.len()].clone();
        let grants = access.granted(&d, &u).await.expect("read");
        let Some(g) = grants.first().cloned() else {
            continue;
        };
        patch_doc(
            &dir,
            &d,
            ResourceKind::User,
            &u,
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
        deactivate.push(
            wait_until_gone(&access, &d, &u, &g.account_id, &g.config_id)
                .await
                .as_secs_f64()
                * 1e3,
        );
        patch_doc(
            &dir,
            &d,
            ResourceKind::User,
            &u,
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await;
    }
    report("active=false", deactivate);

    // Users granted through exactly one group: remove from it, measure, add back.
    let mut removal = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        if removal.len() >= SAMPLES {
            break;
        }
        for k in 0..s.members_per_group {
            let Some(u) = users.get((gi * s.members_per_group + k) % users.len()) else {
                continue;
            };
            let grants = access.granted(&d, u).await.expect("read");
            let Some(target) = grants
                .iter()
                .find(|x| {
                    x.sources.len() == 1
                        && x.sources
                            .first()
                            .is_some_and(|(t, id)| *t == ResourceKind::Group && id == g)
                })
                .cloned()
            else {
                continue;
            };
            // Only when no other source grants the same pair.
            patch_doc(
                &dir,
                &d,
                ResourceKind::Group,
                g,
                json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}]),
            )
            .await;
            removal.push(
                wait_until_gone(&access, &d, u, &target.account_id, &target.config_id)
                    .await
                    .as_secs_f64()
                    * 1e3,
            );
            patch_doc(
                &dir,
                &d,
                ResourceKind::Group,
                g,
                json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
            )
            .await;
            break;
        }
    }
    report("member removal", removal);
    let _ = stop.send(());
    let _ = handle.await;
}

//! Sign-in benchmark (issue 11).
//!
//! Part 1: password sign-ins per second per core. Users get passwords through
//! `SignIn::set_password` (the real argon2id hashing, over a real redb file from `App::open`);
//! then `signin::password::matches` verifies the stored PHC strings on 1 thread and on N
//! threads (N = available cores). Prints the argon2 parameters read from the stored PHC string
//! beside OWASP's argon2id minimum (m=19456 KiB, t=2, p=1) and the rates beside the target
//! (at least 30 per second per core, twice Keycloak's published 15 password logins/s per vCPU).
//!
//! Part 2: the account-list page p99 for a user with 1,000 accounts (target under 20 ms): not
//! measured yet, see `account_list_p99` (a TODO for the portal's owner).
//!
//! Owns nothing the library uses; plain `fn main` (`harness = false`); measures, asserts
//! nothing. `--quick` runs fewer users for shorter.
// A benchmark stops at the first failure, like a test.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

use cloudsso::app::{App, Options};
use cloudsso::config::Limits;
use cloudsso::model::{DirectoryId, ResourceKind, UserId};
use cloudsso::scim::schema::AttributeSelection;
use cloudsso::signin::password::{SetBy, matches, random_password};
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// OWASP Password Storage Cheat Sheet, argon2id minimum: m=19456 KiB, t=2, p=1.
const OWASP_MIN: Argon2Params = Argon2Params {
    m_kib: 19_456,
    t: 2,
    p: 1,
};
/// Target: password sign-ins per second per core.
const TARGET_PER_CORE: f64 = 30.0;
/// Keycloak's published password logins per second per vCPU.
const KEYCLOAK_PER_VCPU: f64 = 15.0;

struct Sizes {
    users: usize,
    /// How long each throughput measurement runs.
    run: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Argon2Params {
    m_kib: u64,
    t: u64,
    p: u64,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = if quick {
        Sizes {
            users: 4,
            run: Duration::from_secs(1),
        }
    } else {
        Sizes {
            users: 32,
            run: Duration::from_secs(5),
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let credentials = rt.block_on(users_with_passwords(sizes.users));
    password_sign_ins(&credentials, sizes.run);
    account_list_p99();
}

/// `n` users with random passwords set through sign-in, as (PHC string, password) pairs read
/// back from the store.
async fn users_with_passwords(n: usize) -> Vec<(String, String)> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let options = Options {
        public_url: "http://x".into(),
        ..Options::default()
    };
    let (app, _writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
        .await
        .expect("app");
    let d: DirectoryId = app
        .directory
        .bootstrap("d-signinbench000".into(), "secret".into())
        .await
        .expect("bootstrap")
        .expect("fresh")
        .directory_id;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
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
        let user = UserId::new(doc["id"].as_str().expect("id"));
        let password = random_password();
        let by = SetBy::Admin {
            require_change: false,
        };
        app.signin
            .set_password(&d, &user, password.clone(), by)
            .await
            .expect("password");
        let (dd, uu) = (d.to_string(), user.to_string());
        let phc = app
            .db
            .read(move |txn| Ok::<_, cloudsso::error::DomainError>(txn.password_hash(&dd, &uu)?))
            .await
            .expect("read")
            .expect("stored hash");
        out.push((phc, password));
    }
    out
}

/// m, t and p of an argon2 PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
fn argon2_params(phc: &str) -> Option<(String, Argon2Params)> {
    let mut parts = phc.split('$').skip(1);
    let algorithm = parts.next()?.to_owned();
    let params = parts.find(|p| p.starts_with("m="))?;
    let value = |name: &str| {
        params
            .split(',')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
    };
    Some((
        algorithm,
        Argon2Params {
            m_kib: value("m")?,
            t: value("t")?,
            p: value("p")?,
        },
    ))
}

/// Verifications per second on `threads` threads, each cycling through `credentials` for `run`.
fn verifications_per_second(
    credentials: &[(String, String)],
    threads: usize,
    run: Duration,
) -> f64 {
    let started = Instant::now();
    let total: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut done = 0usize;
                    for (phc, password) in credentials.iter().cycle().skip(t) {
                        assert!(
                            black_box(matches(phc, password)),
                            "a stored password verifies"
                        );
                        done += 1;
                        if started.elapsed() >= run {
                            break;
                        }
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

fn password_sign_ins(credentials: &[(String, String)], run: Duration) {
    let (algorithm, params) = argon2_params(&credentials[0].0).expect("a PHC string");
    let meets =
        params.m_kib >= OWASP_MIN.m_kib && params.t >= OWASP_MIN.t && params.p >= OWASP_MIN.p;
    println!(
        "password sign-ins ({} users, {:?} per run)",
        credentials.len(),
        run
    );
    println!(
        "  hash: {algorithm} m={} KiB t={} p={}; OWASP argon2id minimum m={} KiB t={} p={}: \
         memory x{:.2}, passes x{:.2} ({})",
        params.m_kib,
        params.t,
        params.p,
        OWASP_MIN.m_kib,
        OWASP_MIN.t,
        OWASP_MIN.p,
        params.m_kib as f64 / OWASP_MIN.m_kib as f64,
        params.t as f64 / OWASP_MIN.t as f64,
        if meets && algorithm == "argon2id" {
            "meets"
        } else {
            "does NOT meet"
        }
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let rate = verifications_per_second(credentials, threads, run);
        let per_core = rate / threads as f64;
        println!(
            "  {threads} thread(s): {rate:>7.1}/s total, {per_core:>6.1}/s per core; \
             target {TARGET_PER_CORE}/s per core x{:.2} ({}); Keycloak {KEYCLOAK_PER_VCPU}/s per vCPU x{:.2}",
            per_core / TARGET_PER_CORE,
            if per_core >= TARGET_PER_CORE {
                "met"
            } else {
                "NOT met"
            },
            per_core / KEYCLOAK_PER_VCPU,
        );
        if threads == cores {
            break;
        }
    }
}

/// Part 2: the account-list page p99 for a user with 1,000 accounts (target under 20 ms).
fn account_list_p99() {
    // TODO(lead): build 1,000 accounts, a configuration and assignments for one user, then time
    // the portal's account-list page function (search, favourites, paging) over many requests
    // and print p50/p99/max against the 20 ms target. The portal's function is not on this
    // branch yet, so nothing is measured here.
    println!("account-list page p99 (1,000 accounts): not measured yet (TODO: portal's owner)");
}

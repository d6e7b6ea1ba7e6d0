//! Issue 16, points 2, 3 and 5 over HTTP: `/metrics` counters move by exactly what a
//! scripted workload implies; `/readyz` turns 503 while the engine lags past
//! `--ready-lag-events-max` / `--ready-lag-seconds-max` and back to 200 when it catches up
//! (both sides of each limit) and 503 while the engine is stopped; `/healthz`; `--metrics-listen` serves the metrics there and
//! not on the main port; `--log-format json` writes parseable lines carrying the client's
//! `x-request-id`.

use crate::browser::Browser;
use crate::harness::*;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Sup3r-secret!";

/// Every sample of a text exposition: series (name and labels, as written) -> value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_owned(), value.parse().unwrap())
        })
        .collect()
}

/// The sum of every series of `name` (all label values).
fn sum_of(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.as_str() == name || k.starts_with(&format!("{name}{{")))
        .map(|(_, v)| v)
        .sum()
}

impl Server {
    async fn scrape_at(&self, addr: &str) -> BTreeMap<String, f64> {
        let r = self
            .send(Method::GET, &format!("http://{addr}/metrics"), &[], None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.raw);
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/openmetrics-text"),
            "{:?}",
            r.headers
        );
        let text = String::from_utf8(r.raw.to_vec()).unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        parse(&text)
    }

    async fn scrape(&self) -> BTreeMap<String, f64> {
        self.scrape_at(&self.addr).await
    }

    async fn probe(&self, path: &str) -> Reply {
        let url = format!("http://{}{path}", self.addr);
        self.send(Method::GET, &url, &[], None).await
    }

    /// Polls `/readyz` until it answers `status`; the last answer.
    async fn ready_until(&self, status: StatusCode, within: Duration) -> Reply {
        let started = Instant::now();
        loop {
            let r = self.probe("/readyz").await;
            if r.status == status {
                return r;
            }
            assert!(
                started.elapsed() < within,
                "/readyz never answered {status}: {} {}",
                r.status,
                r.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn user_with_password(&self, name: &str) {
        let r = self
            .post(
                "/Users",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                       "userName": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

#[tokio::test]
async fn counters_move_by_what_a_scripted_workload_implies() {
    const USERS: usize = 5;
    const API_CALLS: usize = 3;
    const HEALTH_CALLS: usize = 2;
    let srv = Server::start();
    let key = srv.admin_key();
    let before = srv.scrape().await;
    for i in 0..USERS {
        srv.user_with_password(&format!("metrics-user-{i}")).await;
    }
    for _ in 0..API_CALLS {
        srv.api_ok(&key, SSO, "ListDirectories", &[]).await;
    }
    let unknown = srv.api(&key, SSO, "NoSuchOperation", &[]).await;
    assert_eq!(unknown.status.as_u16() / 100, 4, "{}", unknown.body);
    let mut b = Browser::new(&srv);
    let wrong = b.sign_in("default", "metrics-user-0", "Wrong-pass1!").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = b.sign_in("default", "metrics-user-1", PASSWORD).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.html);
    for _ in 0..HEALTH_CALLS {
        assert_eq!(srv.probe("/healthz").await.status, StatusCode::OK);
    }
    let after = srv.scrape().await;
    let delta =
        |series: &str| after.get(series).unwrap_or(&0.0) - before.get(series).unwrap_or(&0.0);
    let n = |k: usize| k as f64;
    let exact: &[(&str, f64)] = &[
        (
            "cloudsso_http_requests_total{route=\"scim\",status=\"201\"}",
            n(USERS),
        ),
        (
            "cloudsso_http_request_duration_seconds_count{route=\"scim\"}",
            n(USERS),
        ),
        (
            "cloudsso_http_requests_total{route=\"api\",status=\"200\"}",
            n(API_CALLS),
        ),
        (
            "cloudsso_api_calls_total{operation=\"cloudsso:ListDirectories\",result=\"2xx\"}",
            n(API_CALLS),
        ),
        (
            "cloudsso_api_calls_total{operation=\"unknown\",result=\"4xx\"}",
            1.0,
        ),
        (
            "cloudsso_http_requests_total{route=\"health\",status=\"200\"}",
            n(HEALTH_CALLS),
        ),
        // The first scrape is counted once answered.
        (
            "cloudsso_http_requests_total{route=\"metrics\",status=\"200\"}",
            1.0,
        ),
        ("cloudsso_signins_total{outcome=\"bad_password\"}", 1.0),
        // MFA is required by default: a right password leads to enrollment.
        ("cloudsso_signins_total{outcome=\"mfa_required\"}", 1.0),
        ("cloudsso_signins_total{outcome=\"success\"}", 0.0),
        // One change event per created user.
        ("cloudsso_outbox_head_sequence", n(USERS)),
    ];
    let mut wrong_moves = Vec::new();
    for (series, want) in exact {
        if delta(series) != *want {
            wrong_moves.push(format!("{series}: moved {} (want {want})", delta(series)));
        }
    }
    let scim_by_credential = sum_of(&after, "cloudsso_scim_requests_total")
        - sum_of(&before, "cloudsso_scim_requests_total");
    if scim_by_credential != n(USERS) {
        wrong_moves.push(format!(
            "scim requests by credential moved {scim_by_credential}"
        ));
    }
    assert!(wrong_moves.is_empty(), "{wrong_moves:#?}");
    // Batches depend on timing: at least every user's write, in at least one commit.
    assert!(delta("cloudsso_writer_batch_jobs_sum") >= n(USERS));
    assert!(delta("cloudsso_writer_commit_duration_seconds_count") >= 1.0);
    assert!(after["cloudsso_database_size_bytes"] > 0.0);
    assert!(
        after["cloudsso_connections_open"] >= 1.0,
        "the scrape's own"
    );
    // Background jobs may be queued at any moment: only its presence is certain.
    assert!(after.contains_key("cloudsso_writer_queue_jobs"));
    // Nothing secret and no raw path is a label.
    let names: String = after.keys().cloned().collect::<Vec<_>>().join("\n");
    for secret in [
        srv.token.as_str(),
        key.secret.as_str(),
        "metrics-user",
        PASSWORD,
        "/Users",
    ] {
        assert!(!names.contains(secret), "{secret} in\n{names}");
    }
    assert!(srv.stop());
}

#[tokio::test]
async fn provider_failures_and_tasks_by_state_are_counted() {
    let srv = Server::start_with(&["--provider-faults", "1"]);
    let alice = srv.user("alice").await;
    let s = srv.setup_access("Dev").await;
    let task = srv.assign(&s, "User", &alice).await;
    assert_eq!(task["Status"], "Failed", "{task}");
    let m = srv.scrape().await;
    assert_eq!(
        sum_of(&m, "cloudsso_provider_failures_total"),
        1.0,
        "{m:#?}"
    );
    let cases: &[(&str, f64)] = &[
        ("cloudsso_access_tasks{state=\"failed\"}", 1.0),
        ("cloudsso_access_tasks{state=\"in_progress\"}", 0.0),
        ("cloudsso_access_tasks_count_truncated", 0.0),
    ];
    for (series, want) in cases {
        assert_eq!(m.get(*series), Some(want), "{series}: {m:#?}");
    }
    assert!(srv.stop());
}

/// One readiness case: the server's flags, writes that keep it ready, the write after which
/// it must turn unready, and the check it must name.
struct LagCase {
    args: &'static [&'static str],
    writes_still_ready: usize,
    failed: &'static str,
}

#[tokio::test]
async fn readyz_turns_unready_while_the_engine_lags_and_back_when_it_catches_up() {
    // Every event waits 6 s for the engine: the lag is visible that long.
    let cases = [
        LagCase {
            args: &[
                "--reconcile-delay-ms",
                "6000",
                "--ready-lag-events-max",
                "0",
            ],
            writes_still_ready: 0,
            failed: "engine_lag_events",
        },
        // At the limit (1 event behind) still ready; one past it not.
        LagCase {
            args: &[
                "--reconcile-delay-ms",
                "6000",
                "--ready-lag-events-max",
                "1",
            ],
            writes_still_ready: 1,
            failed: "engine_lag_events",
        },
        LagCase {
            args: &[
                "--reconcile-delay-ms",
                "6000",
                "--ready-lag-seconds-max",
                "1",
                "--ready-lag-events-max",
                "100",
            ],
            writes_still_ready: 0,
            failed: "engine_lag_seconds",
        },
    ];
    let mut runs = tokio::task::JoinSet::new();
    for c in cases {
        runs.spawn(lag_case(c));
    }
    while let Some(r) = runs.join_next().await {
        r.unwrap();
    }
}

async fn lag_case(c: LagCase) {
    {
        let srv = Server::start_with(c.args);
        let healthz = srv.probe("/healthz").await;
        assert_eq!(
            (healthz.status, &healthz.raw[..]),
            (StatusCode::OK, &b"ok\n"[..])
        );
        // The first start's own events wait out the delay too.
        srv.ready_until(StatusCode::OK, Duration::from_secs(60))
            .await;
        for i in 0..c.writes_still_ready {
            srv.user(&format!("ready-{i}")).await;
            let r = srv.probe("/readyz").await;
            assert_eq!(r.status, StatusCode::OK, "{:?}: {}", c.args, r.body);
        }
        srv.user("lagging").await;
        let r = srv
            .ready_until(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(5))
            .await;
        assert_eq!(r.body["status"], "not ready", "{}", r.body);
        assert!(
            r.body["failed"]
                .as_array()
                .unwrap()
                .contains(&json!(c.failed)),
            "{:?}: {}",
            c.args,
            r.body
        );
        let r = srv
            .ready_until(StatusCode::OK, Duration::from_secs(60))
            .await;
        assert_eq!(r.body["status"], "ready", "{}", r.body);
        assert!(srv.stop());
    }
}

#[tokio::test]
async fn readyz_is_unready_while_the_engine_is_stopped() {
    let cases: &[(&[&str], Option<&str>)] =
        &[(&[], None), (&["--engine-off"], Some("engine_stopped"))];
    for (args, failed) in cases {
        let srv = Server::start_with(args);
        srv.user("written-anyway").await;
        assert_eq!(srv.probe("/healthz").await.status, StatusCode::OK);
        let r = match failed {
            None => {
                srv.ready_until(StatusCode::OK, Duration::from_secs(30))
                    .await
            }
            Some(_) => srv.probe("/readyz").await,
        };
        let names: Vec<Value> = r.body["failed"].as_array().cloned().unwrap_or_default();
        match failed {
            None => assert!(names.is_empty(), "{args:?}: {}", r.body),
            Some(name) => {
                assert_eq!(
                    r.status,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "{args:?}: {}",
                    r.body
                );
                assert_eq!(names, vec![json!(name)], "{args:?}: {}", r.body);
            }
        }
        assert!(srv.stop());
    }
}

#[tokio::test]
async fn metrics_listen_serves_the_metrics_there_and_not_on_the_main_port() {
    let srv = Server::start_with(&["--metrics-listen", "127.0.0.1:0"]);
    let log = srv.log_text_with("metrics_listen=").await;
    let addr = log
        .split("metrics_listen=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_owned();
    let m = srv.scrape_at(&addr).await;
    assert!(m.contains_key("cloudsso_connections_open"), "{m:#?}");
    let cases: &[(&str, &str, StatusCode)] = &[
        (srv.addr.as_str(), "/metrics", StatusCode::NOT_FOUND),
        (addr.as_str(), "/metrics", StatusCode::OK),
        (addr.as_str(), "/healthz", StatusCode::NOT_FOUND),
        (addr.as_str(), "/scim/v2/Users", StatusCode::NOT_FOUND),
        (srv.addr.as_str(), "/healthz", StatusCode::OK),
    ];
    for (at, path, want) in cases {
        let r = srv
            .send(Method::GET, &format!("http://{at}{path}"), &[], None)
            .await;
        assert_eq!(r.status, *want, "{at}{path}");
    }
    assert!(srv.stop());
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_request_id() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudsso"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data",
        ])
        .arg(tmp.path().join("data"))
        .env("CLOUDSSO_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    // Every line is one JSON object.
    let next_line = |within: Duration| -> Value {
        let line = rx.recv_timeout(within).expect("a log line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    let addr = loop {
        let v = next_line(Duration::from_secs(30));
        if v["fields"]["message"] == "cloudsso serving" {
            break v["fields"]["listen"].as_str().unwrap().to_owned();
        }
    };
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let sent_id = "obs-json-log-42";
    let req = hyper::Request::get(format!("http://{addr}/scim/v2/Users"))
        .header("x-request-id", sent_id)
        .body(http_body_util::Full::default())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], sent_id);
    let carries_id = |v: &Value| {
        v["spans"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["request_id"] == sent_id))
    };
    let found = loop {
        let v = next_line(Duration::from_secs(10));
        if carries_id(&v) {
            break v;
        }
    };
    assert_eq!(found["fields"]["status"], 401, "{found}");
    let _ = child.kill();
    let _ = child.wait();
}

/// An idle server commits nothing: the sign-in follower once wrote its cursor on every round,
/// and its own commit woke it again (about 350 empty commits a second on an idle server).
#[tokio::test]
async fn an_idle_server_commits_nothing() {
    let s = Server::start();
    s.user_with_password("idle-probe").await;
    // Let the engine and the follower handle that write, then watch one idle second.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = s.scrape().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = s.scrape().await;
    let commits = |m: &BTreeMap<String, f64>| m["cloudsso_writer_batch_jobs_count"];
    let idle_commits = commits(&after) - commits(&before);
    assert!(idle_commits <= 3.0, "{idle_commits} commits while idle");
}

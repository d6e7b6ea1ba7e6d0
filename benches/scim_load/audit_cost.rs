//! `--audit-cost`: what the audit trail costs durable POST throughput. Runs `POST /Users`
//! (durable) with 16 clients against fresh servers with the trail off (`--audit-off`, a
//! hidden benchmark-only flag) and on, in `PAIRS` back-to-back pairs (the order flipping from
//! one pair to the next, so a drift in the machine's load falls on both sides), and prints
//! each pair's throughput ratio, their median (the bar: the trail costs under 10%),
//! and the server's CPU time and bytes written per POST, which other work on a shared machine
//! disturbs less than throughput.

use crate::load::{self, Plan, Req};
use crate::scenarios::user_doc;
use crate::systems;
use hyper::Method;
use std::sync::Arc;
use std::time::Duration;

const CLIENTS: usize = 16;

/// One server's run.
#[derive(Debug, Clone, Copy)]
struct Run {
    per_s: f64,
    cpu_us_per_post: f64,
    bytes_per_post: f64,
    /// Write jobs per commit and the mean commit time, from the server's `/metrics`.
    jobs_per_commit: f64,
    commit_ms: f64,
}

/// The writer's batches from `/metrics`: (jobs per commit, mean commit milliseconds).
async fn writer_stats(target: &load::Target) -> (f64, f64) {
    let mut at_root = target.clone();
    at_root.base = String::new();
    let Ok(reply) = load::Conn::new(&at_root).send(&Req::get("/metrics")).await else {
        return (f64::NAN, f64::NAN);
    };
    let text = String::from_utf8_lossy(&reply.body);
    let sample = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let commits = sample("cloudsso_writer_batch_jobs_count");
    (
        sample("cloudsso_writer_batch_jobs_sum") / commits,
        1e3 * sample("cloudsso_writer_commit_duration_seconds_sum")
            / sample("cloudsso_writer_commit_duration_seconds_count"),
    )
}

/// Bytes a process has asked the kernel to write so far (`wchar` of `/proc/<pid>/io`).
fn written_bytes(pid: u32) -> Option<f64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let line = io.lines().find(|l| l.starts_with("wchar:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// POST /Users on a fresh server with `extra` flags for `seconds`.
async fn post_run(extra: &[String], seconds: u64, tag: &str) -> Result<Run, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = systems::cloudsso(&tmp.path().join("data"), extra)?;
    let pid = server.proc.pid();
    let tag = tag.to_owned();
    let plan = Plan {
        conns: CLIENTS,
        ops: u64::MAX,
        duration: Duration::from_secs(seconds),
        grace: Duration::from_secs(10),
        make: Arc::new(move |i| {
            let name = format!("audit-cost-{tag}-{i}");
            vec![Req::with_body(Method::POST, "/Users", &user_doc(&name, i))]
        }),
    };
    let (cpu0, bytes0) = (load::cpu_seconds(pid), written_bytes(pid));
    let out = load::run(&server.target, plan).await;
    let (cpu1, bytes1) = (load::cpu_seconds(pid), written_bytes(pid));
    let (jobs_per_commit, commit_ms) = writer_stats(&server.target).await;
    server.proc.stop();
    if out.errors > 0 {
        return Err(format!("{} errors: {:?}", out.errors, out.first_error));
    }
    let posts = out.ops.max(1) as f64;
    let delta = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (b - a) / posts,
        _ => f64::NAN,
    };
    Ok(Run {
        per_s: out.ops_per_s(),
        cpu_us_per_post: delta(cpu0, cpu1) * 1e6,
        bytes_per_post: delta(bytes0, bytes1),
        jobs_per_commit,
        commit_ms,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Runs the pairs and prints each, then the medians and the cost.
pub async fn run(quick: bool) {
    let (pairs, seconds) = if quick { (8, 4) } else { (16, 10) };
    let off = ["--audit-off".to_owned()];
    let mut done: Vec<(Run, Run)> = Vec::new();
    for pair in 0..pairs {
        let on_first = pair % 2 == 1;
        let mut runs = [None, None];
        for on in [on_first, !on_first] {
            let (label, extra) = if on {
                ("on", &[][..])
            } else {
                ("off", &off[..])
            };
            match post_run(extra, seconds, &format!("{label}{pair}")).await {
                Ok(r) => {
                    eprintln!(
                        "   pair {pair}, audit {label}: {:.0} POST/s, {:.0} us CPU and {:.0} bytes written per POST, {:.1} jobs per commit, {:.2} ms per commit",
                        r.per_s,
                        r.cpu_us_per_post,
                        r.bytes_per_post,
                        r.jobs_per_commit,
                        r.commit_ms
                    );
                    runs[usize::from(on)] = Some(r);
                }
                Err(e) => eprintln!("   pair {pair}, audit {label}: failed: {e}"),
            }
        }
        if let [Some(off), Some(on)] = runs {
            done.push((off, on));
        }
    }
    let ratios: Vec<f64> = done.iter().map(|(off, on)| on.per_s / off.per_s).collect();
    let ratio = median(ratios.clone());
    let (lo, hi) = ratios
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(*r), hi.max(*r))
        });
    let med = |f: fn(&Run) -> f64, on: bool| {
        median(
            done.iter()
                .map(|(a, b)| f(if on { b } else { a }))
                .collect(),
        )
    };
    println!(
        "durable POST /Users, {CLIENTS} clients, {} pairs x {seconds} s, medians: audit off {:.0}/s, \
         on {:.0}/s; on/off throughput ratio {ratio:.3} (median of the pairs' ratios, which span \
         {lo:.3} to {hi:.3}), cost {:.1}%; \
         server CPU per POST {:.0} us off, {:.0} us on; bytes written per POST {:.0} off, {:.0} on",
        done.len(),
        med(|r| r.per_s, false),
        med(|r| r.per_s, true),
        100.0 * (1.0 - ratio),
        med(|r| r.cpu_us_per_post, false),
        med(|r| r.cpu_us_per_post, true),
        med(|r| r.bytes_per_post, false),
        med(|r| r.bytes_per_post, true),
    );
}

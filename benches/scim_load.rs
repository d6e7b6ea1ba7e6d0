//! SCIM load benchmark: cloudsso against the limit (bare hyper answering the same routes with
//! the same bytes, from memory) and peer SCIM servers (python-scim's scim2-server under
//! waitress, SCIMMY + scimmy-routers on express), each started fresh on 127.0.0.1 in the same
//! run, under the same scenarios: GET by id, `userName eq` filter hit and miss, a page of 100
//! groups without members, durable POST with 1/16/64 clients, PATCH of 100 members on a big
//! group, and an Entra-style initial sync (filter miss then POST per user).
//!
//! Run: `cargo bench --bench scim_load -- --quick` (about three minutes: 10,100 users, 1,000
//! groups, a group of 10,000, 5,000 users synced) or without `--quick` for the full sizes
//! (1,000,000 users and 100,000 groups loaded through the library, a group of 250,000,
//! 100,000 users synced; it takes long). `--systems cloudsso,limit,scim2-server,SCIMMY`
//! picks systems; `--only get_user,filter_hit` runs only the scenarios with those keys (to
//! iterate on one figure; the limit's routes still come from a cloudsso run). The peers are installed on first use into the ignored `benches/.peers/`
//! (pip and npm); one that cannot be installed or run is reported as n/a and the run goes on.
//! `--audit-cost` (with or without `--quick`) runs only durable POST with 16 clients against
//! fresh servers with the audit trail off and on, and prints both figures and their ratio.
//!
//! Output: a Markdown table on stdout (throughput and p99 per system, the ratios
//! cloudsso/limit and cloudsso/fastest peer), then load times, cold start and file size, and
//! the same as JSON in `<target>/bench/scim_load.json`. The load generator shares the
//! machine's cores with the server under test; compare ratios, not absolute numbers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "scim_load/audit_cost.rs"]
mod audit_cost;
#[path = "scim_load/limit.rs"]
mod limit;
#[path = "scim_load/load.rs"]
mod load;
#[path = "scim_load/report.rs"]
mod report;
#[path = "scim_load/scenarios.rs"]
mod scenarios;
#[path = "scim_load/systems.rs"]
mod systems;

use load::{Conn, Req, Target};
use report::{CLOUDSSO, Cell, Fact, LIMIT, Measure, Report, Row};
use scenarios::{Dataset, Scenario, Shape, Sizes};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Scenario keys given with `--only` (empty: every scenario).
static ONLY: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

struct Options {
    quick: bool,
    systems: Vec<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--limit-server") {
        limit::serve(Path::new(args.get(i + 1).expect("--limit-server FILE")));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "--audit-cost") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(audit_cost::run(quick));
        return;
    }
    let mut systems: Vec<String> = vec![
        CLOUDSSO.into(),
        LIMIT.into(),
        report::PEERS[0].into(),
        report::PEERS[1].into(),
    ];
    if let Some(i) = args.iter().position(|a| a == "--systems") {
        let wanted: Vec<String> = args
            .get(i + 1)
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        systems.retain(|s| wanted.iter().any(|w| w.eq_ignore_ascii_case(s)));
    }
    if let Some(i) = args.iter().position(|a| a == "--only") {
        let keys = args
            .get(i + 1)
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        ONLY.set(keys).expect("set once");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(Options { quick, systems }));
}

fn target_dir() -> PathBuf {
    // <target>/release/deps/scim_load-<hash>
    std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.parent()?.to_owned()))
        .unwrap_or_else(|| systems::root().join("target"))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!(
        "{cores} cores, {model}, {:.0} GiB",
        mem_kb as f64 / 1048576.0
    )
}

async fn run(opts: Options) {
    let wall = Instant::now();
    let sizes = if opts.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let out_dir = target_dir().join("bench");
    std::fs::create_dir_all(&out_dir).expect("create target/bench");
    let mut report = Report {
        mode: if opts.quick { "quick" } else { "full" },
        command: format!(
            "cargo bench --bench scim_load{}",
            if opts.quick { " -- --quick" } else { "" }
        ),
        machine: machine(),
        systems: opts.systems.clone(),
        rows: Vec::new(),
        facts: Vec::new(),
        wall_s: 0.0,
    };
    eprintln!("scim_load: {} mode on {}", report.mode, report.machine);
    let mut routes_file: Option<PathBuf> = None;
    for system in &opts.systems {
        let t = Instant::now();
        eprintln!("== {system}");
        let result = match system.as_str() {
            CLOUDSSO => run_cloudsso(&sizes, &out_dir, &mut report).await.map(|f| {
                routes_file = Some(f);
            }),
            LIMIT => match &routes_file {
                Some(f) => run_limit(&sizes, f, &mut report).await,
                None => Err("needs cloudsso's responses: run cloudsso too".into()),
            },
            "scim2-server" => run_peer(system, &sizes, &mut report).await,
            "SCIMMY" => run_peer(system, &sizes, &mut report).await,
            other => Err(format!("unknown system `{other}`")),
        };
        if let Err(why) = result {
            eprintln!("   {system}: n/a: {why}");
            mark_na(&mut report, system, &why);
        }
        eprintln!("   {system} took {:.1} s", t.elapsed().as_secs_f64());
    }
    report.wall_s = wall.elapsed().as_secs_f64();
    println!("{}", report.markdown());
    println!(
        "mode {}, machine: {}, wall time {:.0} s",
        report.mode, report.machine, report.wall_s
    );
    let json = serde_json::to_vec_pretty(&report).expect("report JSON");
    let path = out_dir.join("scim_load.json");
    match std::fs::write(&path, json) {
        Ok(()) => println!("JSON: {}", path.display()),
        Err(e) => eprintln!("writing {}: {e}", path.display()),
    }
}

/// Marks every row (or, with none yet, a placeholder row) n/a for a system that failed.
fn mark_na(report: &mut Report, system: &str, why: &str) {
    let short: String = why.chars().take(120).collect();
    if report.rows.is_empty() {
        report.rows.push(Row {
            key: "system".into(),
            title: "(system)".into(),
            cells: Vec::new(),
        });
    }
    for row in &mut report.rows {
        if !row.cells.iter().any(|(s, _)| s == system) {
            row.cells
                .push((system.to_owned(), Cell::NotApplicable(short.clone())));
        }
    }
}

fn fact(report: &mut Report, system: &str, name: &str, value: String) {
    eprintln!("   {system}: {name}: {value}");
    report.facts.push(Fact {
        system: system.into(),
        name: name.into(),
        value,
    });
}

/// Runs every scenario against a running system and files the rows.
async fn run_scenarios(
    system: &str,
    pid: u32,
    target: &Target,
    sizes: &Sizes,
    ds: &Dataset,
    report: &mut Report,
) {
    let tag = system
        .to_lowercase()
        .replace(|c: char| !c.is_alphanumeric(), "");
    let mut all = scenarios::all(sizes, ds, &tag);
    if let Some(only) = ONLY.get() {
        all.retain(|sc| only.iter().any(|k| k == sc.key));
    }
    let last = all.len().saturating_sub(1);
    for (n, sc) in all.into_iter().enumerate() {
        let Scenario {
            key,
            titles,
            shape,
            plan,
        } = sc;
        let wanted_ops = plan.ops;
        let cap = plan.duration;
        // A warm-up on the read scenarios: connections open, caches filled (a fifth of the
        // scenario's length: at a million users a fresh process has cold pages to read).
        if shape == Shape::Rate && key.starts_with("get") | key.starts_with("filter") {
            let warm = load::Plan {
                conns: plan.conns,
                ops: u64::MAX,
                duration: plan.duration / 5,
                grace: sizes.grace,
                make: plan.make.clone(),
            };
            load::run(target, warm).await;
        }
        let cpu_before = (
            load::cpu_seconds(pid),
            load::cpu_seconds(std::process::id()),
        );
        let out = load::run(target, plan).await;
        let cpu_after = (
            load::cpu_seconds(pid),
            load::cpu_seconds(std::process::id()),
        );
        let per_request = |before: Option<f64>, after: Option<f64>| {
            let used = after? - before?;
            (out.requests > 0).then(|| used * 1e6 / out.requests as f64)
        };
        let server_cpu_us = per_request(cpu_before.0, cpu_after.0);
        let client_cpu_us = per_request(cpu_before.1, cpu_after.1);
        let rss = load::peak_rss(pid);
        if n < last {
            settle(target, ds).await;
        }
        eprintln!(
            "   {key}: {} requests, {:.0}/s, p99 {:.2} ms, {} errors{}",
            out.requests,
            out.req_per_s(),
            out.ms(0.99),
            out.errors,
            out.first_error
                .as_deref()
                .map(|e| format!(" (first: {})", e.chars().take(200).collect::<String>()))
                .unwrap_or_default()
        );
        let cell = |m: Measure| {
            if m.requests > 0 && m.errors == m.requests {
                Cell::NotApplicable(format!(
                    "every request failed: {}",
                    m.first_error
                        .as_deref()
                        .and_then(|e| e.split_once(": ").map(|(_, why)| why))
                        .unwrap_or("")
                        .chars()
                        .take(100)
                        .collect::<String>()
                ))
            } else {
                Cell::Measured(m)
            }
        };
        let base = |rate: f64, unit, h: &hdrhistogram::Histogram<u64>, errors: u64| Measure {
            rate,
            unit,
            p50_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
            p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
            p999_ms: h.value_at_quantile(0.999) as f64 / 1000.0,
            requests: h.len(),
            errors,
            first_error: out.first_error.clone(),
            peak_rss_bytes: rss,
            server_cpu_us,
            client_cpu_us,
            total_s: None,
            note: None,
        };
        let mut rows: Vec<(String, String, Cell)> = Vec::new();
        match shape {
            Shape::Rate => {
                let m = base(out.req_per_s(), "req/s", &out.hist, out.errors);
                rows.push((key.into(), titles.concat(), cell(m)));
            }
            Shape::Steps => {
                for (k, title) in titles.iter().enumerate() {
                    let Some(step) = out.steps.get(k) else {
                        continue;
                    };
                    let m = base(step.rate(), "req/s", &step.hist, step.errors);
                    rows.push((format!("{key}_{k}"), title.clone(), cell(m)));
                }
            }
            Shape::Total { noun, unit } => {
                let mut m = base(out.ops_per_s(), unit, &out.hist, out.errors);
                m.total_s = Some(out.elapsed.as_secs_f64());
                if out.ops < wanted_ops {
                    m.note = Some(format!(
                        "cut at {:.0} s after {} {noun}; projected total {:.0} s",
                        cap.as_secs_f64(),
                        out.ops,
                        wanted_ops as f64 / out.ops_per_s().max(1e-9)
                    ));
                }
                rows.push((key.into(), titles.concat(), cell(m)));
            }
        }
        for (key, title, cell) in rows {
            match report.rows.iter_mut().find(|r| r.key == key) {
                Some(r) => r.cells.push((system.to_owned(), cell)),
                None => report.rows.push(Row {
                    key,
                    title,
                    cells: vec![(system.to_owned(), cell)],
                }),
            }
        }
    }
}

/// Waits (two minutes at most) until the server answers a GET by id again: a request that
/// timed out may still keep a peer busy, and the next scenario must not pay for it.
async fn settle(target: &Target, ds: &Dataset) {
    let first = ds.users.first().cloned().unwrap_or_default();
    let mut conn = Conn::new(target);
    let _ = tokio::time::timeout(
        Duration::from_secs(120),
        conn.send(&Req::get(format!("/Users/{first}"))),
    )
    .await;
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

async fn run_cloudsso(
    sizes: &Sizes,
    out_dir: &Path,
    report: &mut Report,
) -> Result<PathBuf, String> {
    let tmp = tempfile::Builder::new()
        .prefix("scim_load-")
        .tempdir_in(out_dir)
        .map_err(|e| e.to_string())?;
    let data = tmp.path().join("data");
    // First start writes bootstrap.json (directory id, token); then the data is loaded
    // through the library while the server is stopped (redb allows one process).
    systems::cloudsso(&data, &[])?.proc.stop();
    let (ds, users_took, groups_took) = scenarios::load_library(&data, sizes).await?;
    fact(
        report,
        CLOUDSSO,
        &format!("load {} users through the library", sizes.users),
        format!(
            "{:.1} s ({}/s)",
            users_took.as_secs_f64(),
            report::thousands(sizes.users as f64 / users_took.as_secs_f64().max(1e-9))
        ),
    );
    fact(
        report,
        CLOUDSSO,
        &format!(
            "load {} groups of {} and one of {} through the library",
            sizes.groups, sizes.group_members, sizes.big_group
        ),
        format!("{:.1} s", groups_took.as_secs_f64()),
    );
    let db = data.join("cloudsso.redb");
    let size = std::fs::metadata(&db).map_or(0, |m| m.len());
    fact(
        report,
        CLOUDSSO,
        &format!("database file with {} users", sizes.users),
        mib(size),
    );
    let server = systems::cloudsso(&data, &[])?;
    fact(
        report,
        CLOUDSSO,
        &format!("cold start with {} users (spawn to listening)", sizes.users),
        format!("{:.0} ms", server.startup.as_secs_f64() * 1000.0),
    );
    let first = Instant::now();
    let mut conn = Conn::new(&server.target);
    let r = conn
        .send(&Req::get(scenarios::filter_eq(&scenarios::user_name(0))))
        .await?;
    fact(
        report,
        CLOUDSSO,
        "first request after start (filter eq)",
        format!(
            "{:.1} ms, status {}",
            first.elapsed().as_secs_f64() * 1000.0,
            r.status
        ),
    );
    let routes = capture(&server.target, &ds).await?;
    let routes_file = out_dir.join("limit-routes.json");
    std::fs::write(
        &routes_file,
        serde_json::to_vec(&routes).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    run_scenarios(
        CLOUDSSO,
        server.proc.pid(),
        &server.target,
        sizes,
        &ds,
        report,
    )
    .await;
    if let Some(rss) = load::peak_rss(server.proc.pid()) {
        fact(report, CLOUDSSO, "peak RSS over the run", mib(rss));
    }
    let size = std::fs::metadata(&db).map_or(0, |m| m.len());
    fact(report, CLOUDSSO, "database file after the run", mib(size));
    server.proc.stop();
    Ok(routes_file)
}

/// Takes one response of each route from cloudsso, for the limit to answer with.
async fn capture(t: &Target, ds: &Dataset) -> Result<Vec<limit::Route>, String> {
    use hyper::Method;
    let mut conn = Conn::new(t);
    let mut routes = Vec::new();
    let hit = scenarios::filter_eq(&scenarios::user_name(0));
    let hit_prefix = scenarios::filter_eq("user-");
    let hit_prefix = hit_prefix.trim_end_matches("%22");
    let probe = scenarios::user_doc("probe-for-the-limit", 0);
    let extra = ds.extra().to_vec();
    let group = format!("/Groups/{}", ds.big_group);
    let probes: Vec<(Req, &str)> = vec![
        (
            Req::get(format!(
                "/Users/{}",
                ds.users.first().cloned().unwrap_or_default()
            )),
            "/Users/",
        ),
        (Req::get(hit.clone()), hit_prefix),
        (Req::get(scenarios::filter_eq("nobody")), "/Users?filter="),
        (Req::get(scenarios::GROUPS_PAGE), "/Groups?"),
        (Req::with_body(Method::POST, "/Users", &probe), "/Users"),
        (
            Req::with_body(
                Method::POST,
                "/Groups",
                &serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "probe-group-for-the-limit"}),
            ),
            "/Groups",
        ),
        (
            Req::with_body(
                Method::PATCH,
                group.clone(),
                &scenarios::patch_members("add", &extra),
            ),
            "/Groups/",
        ),
    ];
    for (req, prefix) in probes {
        let r = conn.send(&req).await?;
        if !(200..300).contains(&r.status) {
            return Err(format!(
                "capture {} {}: {} {}",
                req.method,
                req.path,
                r.status,
                String::from_utf8_lossy(&r.body)
            ));
        }
        let headers = ["content-type", "etag", "location"]
            .iter()
            .filter_map(|h| {
                let v = r.headers.get(*h)?.to_str().ok()?;
                Some(((*h).to_owned(), v.to_owned()))
            })
            .collect();
        routes.push(limit::Route {
            method: req.method.to_string(),
            prefix: format!("{}{prefix}", t.base),
            status: r.status,
            headers,
            body: String::from_utf8_lossy(&r.body).into_owned(),
        });
    }
    conn.send(&Req::with_body(
        Method::PATCH,
        group,
        &scenarios::patch_members("remove", &extra),
    ))
    .await?;
    Ok(routes)
}

async fn run_limit(sizes: &Sizes, routes: &Path, report: &mut Report) -> Result<(), String> {
    let server = systems::limit(routes)?;
    // The limit answers from memory whatever the ids; the data set only names requests.
    let ds = Dataset {
        users: (0..sizes.users).map(|i| format!("u{i}")).collect(),
        groups: sizes.groups + 1,
        big_group: "big".into(),
        big_members: sizes.big_group.min(sizes.users),
    };
    run_scenarios(LIMIT, server.proc.pid(), &server.target, sizes, &ds, report).await;
    server.proc.stop();
    Ok(())
}

/// Peers keep everything in memory and are loaded over HTTP; in full mode they get the quick
/// sizes (loading a million users into them over HTTP would take most of an hour).
/// Longest a peer's sync runs in the full mode.
const PEER_SYNC_CAP: Duration = Duration::from_secs(60);

async fn run_peer(system: &str, sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    let mut sizes = sizes.clone();
    let quick = Sizes::quick();
    let reduced = sizes.users > quick.users;
    if reduced {
        // Loading a million users over HTTP, and a 100,000-user sync at a peer's few hundred
        // a second, would take the better part of an hour: the peers get the quick data set,
        // the full sync cut at `PEER_SYNC_CAP` (the table gives its rate and projected total).
        sizes.users = quick.users;
        sizes.groups = quick.groups;
        sizes.big_group = quick.big_group;
        sizes.cap = sizes.cap.min(PEER_SYNC_CAP);
    }
    let server = if system == "scim2-server" {
        systems::python_peer(&systems::install_python_peer()?)?
    } else {
        systems::node_peer(&systems::install_node_peer()?)?
    };
    let t = Instant::now();
    let ds = scenarios::load_http(&server.target, &sizes).await?;
    fact(
        report,
        system,
        &format!(
            "load {} users, {} groups and one of {} over HTTP (16 clients){}",
            sizes.users,
            sizes.groups,
            sizes.big_group,
            if reduced { " (quick sizes)" } else { "" }
        ),
        format!("{:.1} s", t.elapsed().as_secs_f64()),
    );
    run_scenarios(
        system,
        server.proc.pid(),
        &server.target,
        &sizes,
        &ds,
        report,
    )
    .await;
    server.proc.stop();
    Ok(())
}

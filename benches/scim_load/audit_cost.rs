//! `--audit-cost`: what the audit trail costs durable POST throughput. Runs `POST /Users`
//! (durable) with 16 clients against fresh servers with the trail off (`--audit-off`, a
//! hidden benchmark-only flag) and on, alternately, `ROUNDS` times each, and prints the best
//! figure of each and their ratio (the bar: the trail costs under 10%).

use crate::load::{self, Plan, Req};
use crate::scenarios::user_doc;
use crate::systems;
use hyper::Method;
use std::sync::Arc;
use std::time::Duration;

/// Runs per setting; the best one counts (noise on a shared machine only ever slows).
const ROUNDS: usize = 2;
const CLIENTS: usize = 16;

/// POST /Users per second on a fresh server with `extra` flags.
async fn post_rate(extra: &[String], seconds: u64, tag: &str) -> Result<f64, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = systems::cloudsso(&tmp.path().join("data"), extra)?;
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
    let out = load::run(&server.target, plan).await;
    server.proc.stop();
    if out.errors > 0 {
        return Err(format!("{} errors: {:?}", out.errors, out.first_error));
    }
    Ok(out.ops_per_s())
}

/// Prints both figures and the ratio.
pub async fn run(quick: bool) {
    let seconds = if quick { 8 } else { 30 };
    let mut best = [0.0f64; 2];
    for round in 0..ROUNDS {
        for (n, extra) in [vec!["--audit-off".to_owned()], vec![]].iter().enumerate() {
            let label = if n == 0 { "off" } else { "on" };
            match post_rate(extra, seconds, &format!("{label}{round}")).await {
                Ok(rate) => {
                    eprintln!("   audit {label}, round {round}: {rate:.0} POST/s");
                    best[n] = best[n].max(rate);
                }
                Err(e) => eprintln!("   audit {label}, round {round}: failed: {e}"),
            }
        }
    }
    let [off, on] = best;
    let cost = if off > 0.0 {
        100.0 * (1.0 - on / off)
    } else {
        f64::NAN
    };
    println!(
        "durable POST /Users, {CLIENTS} clients, best of {ROUNDS} x {seconds} s: audit off {off:.0}/s, \
         audit on {on:.0}/s, ratio {:.3}, cost {cost:.1}%",
        if off > 0.0 { on / off } else { f64::NAN }
    );
}

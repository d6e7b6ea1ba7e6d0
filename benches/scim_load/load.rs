//! The load generator: N keep-alive HTTP/1.1 connections (one task each) run numbered
//! operations, each a short sequence of requests, until a count or a deadline; every request's
//! latency goes into one histogram.

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where a system listens and how to talk to it.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    /// Path of the SCIM base, e.g. `/scim/v2`.
    pub base: String,
    pub token: String,
}

/// One request; `path` is relative to the SCIM base and includes the query.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Option<Bytes>,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Req {
        Req {
            method: Method::GET,
            path: path.into(),
            body: None,
        }
    }
    pub fn with_body(method: Method, path: impl Into<String>, body: &serde_json::Value) -> Req {
        Req {
            method,
            path: path.into(),
            body: Some(Bytes::from(body.to_string())),
        }
    }
}

pub type MakeOp = Arc<dyn Fn(u64) -> Vec<Req> + Send + Sync>;

/// How much load: `conns` connections run operations `0..ops` (each once) until `duration`.
pub struct Plan {
    pub conns: usize,
    pub ops: u64,
    pub duration: Duration,
    /// How long a request may outlive the deadline before it counts as failed.
    pub grace: Duration,
    pub make: MakeOp,
}

#[derive(Debug)]
pub struct Outcome {
    pub ops: u64,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Request latencies in microseconds.
    pub hist: Histogram<u64>,
    /// The same per position of a request in its operation.
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub struct Step {
    pub hist: Histogram<u64>,
    /// Time spent in this step's requests, in microseconds.
    pub busy_us: u64,
    pub errors: u64,
}

impl Step {
    /// Requests per second of busy time (meaningful with one connection).
    pub fn rate(&self) -> f64 {
        self.hist.len() as f64 * 1e6 / (self.busy_us.max(1) as f64)
    }
}

fn add_step(steps: &mut Vec<Step>, k: usize, us: u64, failed: bool) {
    while steps.len() <= k {
        steps.push(Step {
            hist: histogram(),
            busy_us: 0,
            errors: 0,
        });
    }
    if let Some(s) = steps.get_mut(k) {
        let _ = s.hist.record(us);
        s.busy_us += us;
        s.errors += u64::from(failed);
    }
}

impl Outcome {
    pub fn req_per_s(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    pub fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    pub fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds")
}

/// A client connection; reconnects after a transport error.
pub struct Conn {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
}

/// A response: status and body.
pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl Conn {
    pub fn new(target: &Target) -> Conn {
        Conn {
            target: target.clone(),
            sender: None,
        }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = tokio::net::TcpStream::connect(self.target.addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }

    /// Sends one request and reads the whole response.
    pub async fn send(&mut self, req: &Req) -> Result<Reply, String> {
        let uri = format!("{}{}", self.target.base, req.path);
        let host = self.target.addr.to_string();
        let auth = format!("Bearer {}", self.target.token);
        let mut b = Request::builder()
            .method(req.method.clone())
            .uri(uri)
            .header("host", host)
            .header("authorization", auth)
            .header("accept", "application/scim+json");
        if req.body.is_some() {
            b = b.header("content-type", "application/scim+json");
        }
        let request = b
            .body(Full::new(req.body.clone().unwrap_or_default()))
            .map_err(|e| e.to_string())?;
        let sender = self.connect().await?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let result = async {
            let resp = sender.send_request(request).await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Reply {
                status,
                headers,
                body,
            })
        }
        .await;
        result.map_err(|e| {
            self.sender = None;
            e.to_string()
        })
    }
}

/// Runs a plan against a target.
pub async fn run(target: &Target, plan: Plan) -> Outcome {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..plan.conns.max(1) {
        let next = next.clone();
        let make = plan.make.clone();
        let mut conn = Conn::new(target);
        let ops_max = plan.ops;
        let grace = plan.grace;
        tasks.spawn(async move {
            let mut hist = histogram();
            let mut steps = Vec::new();
            let (mut ops, mut requests, mut errors) = (0u64, 0u64, 0u64);
            let mut first_error = None;
            'ops: loop {
                if Instant::now() >= deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ops_max {
                    break;
                }
                let reqs = make(i);
                // `{id}` in a path stands for the `id` of the previous answer in the operation
                // (the group a POST made, for the PATCH after it).
                let mut last_id: Option<String> = None;
                for (k, req) in reqs.iter().enumerate() {
                    let substituted;
                    let req = match (&last_id, req.path.contains("{id}")) {
                        (Some(id), true) => {
                            substituted = Req {
                                method: req.method.clone(),
                                path: req.path.replace("{id}", id),
                                body: req.body.clone(),
                            };
                            &substituted
                        }
                        _ => req,
                    };
                    let wants_id = reqs.iter().skip(k + 1).any(|r| r.path.contains("{id}"));
                    let t = Instant::now();
                    // A request may run past the deadline by REQUEST_GRACE at most.
                    let left = deadline.saturating_duration_since(t) + grace;
                    let result = match tokio::time::timeout(left, conn.send(req)).await {
                        Ok(r) => r,
                        Err(_) => {
                            conn = Conn::new(&conn.target);
                            Err(format!("no answer within {:.1} s", left.as_secs_f64()))
                        }
                    };
                    let us = t.elapsed().as_micros().max(1) as u64;
                    let us = us.min(120_000_000);
                    let _ = hist.record(us);
                    requests += 1;
                    if wants_id && let Ok(r) = &result {
                        last_id = serde_json::from_slice::<serde_json::Value>(&r.body)
                            .ok()
                            .and_then(|v| v.get("id")?.as_str().map(str::to_owned));
                    }
                    let err = match result {
                        Ok(r) if (200..300).contains(&r.status) => None,
                        Ok(r) => Some(format!(
                            "{} {} -> {}: {}",
                            req.method,
                            req.path,
                            r.status,
                            String::from_utf8_lossy(&r.body)
                                .chars()
                                .take(200)
                                .collect::<String>()
                        )),
                        Err(e) => Some(format!("{} {}: {e}", req.method, req.path)),
                    };
                    add_step(&mut steps, k, us, err.is_some());
                    if let Some(e) = err {
                        errors += 1;
                        first_error.get_or_insert(e);
                        if errors > 1000 && errors > requests / 2 {
                            break 'ops;
                        }
                    }
                }
                ops += 1;
            }
            (hist, steps, ops, requests, errors, first_error)
        });
    }
    let mut out = Outcome {
        ops: 0,
        requests: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        hist: histogram(),
        steps: Vec::new(),
    };
    while let Some(joined) = tasks.join_next().await {
        let Ok((hist, steps, ops, requests, errors, first_error)) = joined else {
            out.errors += 1;
            continue;
        };
        let _ = out.hist.add(&hist);
        for (k, s) in steps.into_iter().enumerate() {
            match out.steps.get_mut(k) {
                Some(o) => {
                    let _ = o.hist.add(&s.hist);
                    o.busy_us += s.busy_us;
                    o.errors += s.errors;
                }
                None => out.steps.push(s),
            }
        }
        out.ops += ops;
        out.requests += requests;
        out.errors += errors;
        if out.first_error.is_none() {
            out.first_error = first_error;
        }
    }
    out.elapsed = started.elapsed();
    out
}

/// CPU time (user + system) a process has used so far, in seconds, from `/proc/<pid>/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s, Linux's `USER_HZ` on every common build).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Peak resident set size of a process so far (VmHWM), in bytes.
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

//! The hyper edge: accepting connections (HTTP/1.1 and HTTP/2, plain or over TLS), graceful
//! shutdown, routing, authentication, request decoding and response encoding. Nothing else
//! imports this module except `main`.

mod api;
mod audit;
mod aws_sso;
mod budget;
mod conn;
pub mod console;
mod device;
mod error;
mod health;
mod metrics;
mod oauth;
mod portal;
mod query;
mod refusal;
mod request_id;
mod scim;
pub mod tls;

pub use error::ApiError;
pub use metrics::serve_metrics;

use crate::app::App;
use crate::metrics::RouteClass;
use budget::BodyBudget;
use bytes::Bytes;
use conn::{Activity, Admission, Timeouts, Watched};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use refusal::Shape;
use request_id::{REQUEST_ID_HEADER, RequestId};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Longest wait for in-flight requests after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub type Body = Full<Bytes>;

/// Serves until `shutdown` resolves, then stops accepting and waits for in-flight requests
/// (at most `SHUTDOWN_GRACE`, after which the remaining connections are dropped).
/// At most `connections_max` connections are open at once; more wait in the listen backlog.
/// One source address holds at most `connections_per_source_max` of them; more from it are
/// closed at once. With `tls`, every connection is a TLS one (`tls::acceptor`); its
/// handshake must finish within the request read timeout. Every connection is served
/// through `conn::Watched`, which closes it when silent or idle too long.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, app, tls, true, shutdown).await;
}

/// `serve`; `/metrics` is served here only with `metrics_here` (else it is on its own
/// listener, `serve_metrics`, and this one answers it SCIM's 404).
pub async fn serve_with(
    listener: TcpListener,
    app: Arc<App>,
    tls: Option<TlsAcceptor>,
    metrics_here: bool,
    shutdown: impl Future<Output = ()>,
) {
    let edge = Edge::new(app, metrics_here);
    let permits = Arc::new(Semaphore::new(edge.app.limits.connections_max));
    let admission = Admission::new(edge.app.limits.connections_per_source_max);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Reap finished connection tasks so the set stays small.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Some(slot) = admission.admit(peer.ip()) else {
                    tracing::debug!(%peer, "source address over its share of connections");
                    continue;
                };
                let open = edge.app.metrics.connection_opened();
                let _ = stream.set_nodelay(true);
                let conn = Connection {
                    edge: edge.clone(),
                    watcher: graceful.watcher(),
                    peer,
                };
                let tls = tls.clone();
                connections.spawn(async move {
                    conn.run(stream, tls).await;
                    drop((permit, slot, open));
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish in time; dropping their connections");
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// What every connection shares: the application, hyper's configured builder, the
/// connection timeouts and the request bodies' memory budget.
#[derive(Clone)]
struct Edge {
    app: Arc<App>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    timeouts: Timeouts,
    budget: Arc<BodyBudget>,
    /// Whether `/metrics` is served on this listener.
    metrics_here: bool,
}

impl Edge {
    fn new(app: Arc<App>, metrics_here: bool) -> Self {
        let l = &app.limits;
        let timeouts = Timeouts {
            read: Duration::from_millis(l.request_read_timeout_ms),
            idle: Duration::from_millis(l.keep_alive_idle_ms),
        };
        let budget = Arc::new(BodyBudget::new(
            l.request_bodies_bytes_max,
            l.body_bytes_max,
        ));
        Edge {
            builder: Arc::new(builder(l, timeouts)),
            app,
            timeouts,
            budget,
            metrics_here,
        }
    }

    /// Where `path` goes. `/metrics`, `/healthz` and `/readyz` are single segments, which no
    /// portal path (`/<directory>/<step>`), console path or SCIM path (`/scim/v2/...`) is.
    fn class(&self, path: &str) -> RouteClass {
        match path {
            "/" => RouteClass::Api,
            oauth::TOKEN_PATH => RouteClass::Oauth,
            metrics::METRICS_PATH if self.metrics_here => RouteClass::Metrics,
            p if health::handles(p) => RouteClass::Health,
            p if device::handles(p) || aws_sso::handles(p) => RouteClass::Device,
            p if p.starts_with(scim::SCIM_PREFIX) => RouteClass::Scim,
            // Before the portal: `/<directory>/saml/metadata.xml` is the console's.
            p if console::handles(p) => RouteClass::Console,
            p if portal::is_portal_path(p) => RouteClass::Portal,
            _ => RouteClass::Other,
        }
    }
}

/// hyper's connection settings. Head and idle timeouts are `conn::Watched`'s (hyper's own
/// header timeout would close without an answer); hyper's head limits are ours, and its
/// refusals get their bodies in `Watched`.
fn builder(l: &crate::config::Limits, t: Timeouts) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        // A client may shut its write side once its request is sent (RFC 9112 section 9.6
        // lets it): answer it rather than close on the end of input.
        .half_close(true)
        .max_headers(l.headers_count_max)
        // Room for a head at both limits, so `route` (or hyper's own 414 past 64 KiB) names
        // which one a request broke instead of hyper's 431 for any full buffer.
        .max_buf_size((l.header_bytes_max + l.uri_bytes_max).max(HYPER_BUF_BYTES_MIN));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(l.http2_streams_max)
        .max_header_list_size(u32::try_from(l.header_bytes_max).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(t.read))
        .keep_alive_timeout(t.read);
    builder
}

/// hyper's smallest read buffer (it refuses less).
const HYPER_BUF_BYTES_MIN: usize = 8192;

/// One accepted connection and what serving it needs. Its watcher was taken at accept time,
/// so a shutdown waits for it even while its TLS handshake is still running.
struct Connection {
    edge: Edge,
    watcher: Watcher,
    peer: SocketAddr,
}

impl Connection {
    /// Serves HTTP on `stream`, after a TLS handshake bounded by the read timeout with `tls`.
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let Some(acceptor) = tls else {
            return self.serve(stream).await;
        };
        let read_timeout = self.edge.timeouts.read;
        match tokio::time::timeout(read_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => self.serve(stream).await,
            Ok(Err(e)) => tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    async fn serve<S>(self, stream: S)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            edge,
            watcher,
            peer,
        } = self;
        let activity = Activity::new();
        let stream = Watched::new(stream, activity.clone(), edge.timeouts);
        let builder = edge.builder.clone();
        let svc = service_fn(move |req: Request<Incoming>| {
            let edge = edge.clone();
            let in_flight = activity.request();
            async move {
                let resp = answer(&edge, req, peer).await;
                drop(in_flight);
                Ok::<_, Infallible>(resp)
            }
        });
        let conn = builder.serve_connection(TokioIo::new(stream), svc);
        if let Err(e) = watcher.watch(conn).await {
            tracing::debug!(%peer, error = %e, "connection closed with error");
        }
    }
}

/// Routes one request inside its log span, under its request id, which the answer echoes in
/// `x-request-id`.
/// Counts it in the metrics by route class and status.
async fn answer(edge: &Edge, mut req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let started = Instant::now();
    let class = edge.class(req.uri().path());
    let id = RequestId::of(req.headers());
    let span = tracing::info_span!("request", request_id = id.as_str());
    let value = id.header_value();
    req.extensions_mut().insert(id);
    let mut resp = tracing::Instrument::instrument(route(edge, class, req, peer), span).await;
    if let Some(v) = value {
        resp.headers_mut().insert(REQUEST_ID_HEADER.clone(), v);
    }
    let status = resp.status().as_u16();
    edge.app.metrics.request(class, status, started.elapsed());
    resp
}

/// `/` is the management API, `/oauth2/token` the OAuth token endpoint, `/metrics` the
/// metrics (unless on their own listener), `/healthz` and `/readyz` the health checks,
/// `/device-authorization`, `/token` and `/access-assignments/...` the CLI sign-in,
/// `/scim/...` SCIM, `/<directory>/<step>` the user portal, `/saml-role/sso` and
/// `/<directory>/saml/metadata.xml` console sign-in (`Edge::class`); anything else gets
/// SCIM's 404. A request over the head limits, or whose body does not fit in the bodies'
/// budget now, is refused first, in its route's shape.
async fn route(
    edge: &Edge,
    class: RouteClass,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let shape = Shape::of(req.uri().path());
    if let Some((status, detail)) =
        over_head_limits(&edge.app.limits, &req).or_else(|| unsupported_framing(req.headers()))
    {
        return shape.respond(status, &detail);
    }
    let Some(_reservation) = edge.budget.reserve(req.body()) else {
        let detail = "too many request bodies are being read; retry later";
        return shape.respond(StatusCode::SERVICE_UNAVAILABLE, detail);
    };
    let app = &edge.app;
    let trail = audit::Trail {
        db: &app.db,
        settings: &app.audit,
    };
    match class {
        RouteClass::Api => api::handle(&app.api, &app.metrics, trail, req, peer).await,
        RouteClass::Oauth => oauth::handle(&app.directory, trail, req, peer).await,
        RouteClass::Metrics => metrics::handle(app, &req).await,
        RouteClass::Health => health::handle(app, req.uri().path()).await,
        RouteClass::Portal => portal::handle(app, trail, req, peer).await,
        RouteClass::Device if aws_sso::handles(req.uri().path()) => {
            aws_sso::handle(app, trail, req, peer).await
        }
        RouteClass::Device => device::handle(app, trail, req, peer).await,
        RouteClass::Console => console::handle(app, req).await,
        RouteClass::Scim | RouteClass::Other => {
            scim::handle(app.directory.clone(), trail, req, peer).await
        }
    }
}

/// The head limits, checked here where the answer can be shaped: hyper's own are backstops
/// (its target limit is 64 KiB; its buffer limit is not exact; HTTP/2 has no count limit).
fn over_head_limits(
    l: &crate::config::Limits,
    req: &Request<Incoming>,
) -> Option<(StatusCode, String)> {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > l.uri_bytes_max {
        let detail = format!(
            "the request target is longer than {} bytes",
            l.uri_bytes_max
        );
        return Some((StatusCode::URI_TOO_LONG, detail));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if target + header_bytes > l.header_bytes_max {
        let detail = format!(
            "the request head is larger than {} bytes",
            l.header_bytes_max
        );
        return Some((StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, detail));
    }
    if req.headers().len() > l.headers_count_max {
        let detail = format!(
            "the request has more than {} header fields",
            l.headers_count_max
        );
        return Some((StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, detail));
    }
    None
}

/// A body framing hyper lets through that this server does not read, answered 400 (not
/// RFC 9112's 501: no client input gets a 5xx): a transfer coding other than `chunked`
/// before it (hyper refuses one after it), or `chunked` more than once, which section 6.1
/// forbids a sender. (With both `Transfer-Encoding` and `Content-Length`, hyper reads by the
/// former and closes the connection after the answer, as section 6.1 allows.)
fn unsupported_framing(headers: &hyper::HeaderMap) -> Option<(StatusCode, String)> {
    let mut chunked = 0;
    for value in headers.get_all(hyper::header::TRANSFER_ENCODING) {
        let value = String::from_utf8_lossy(value.as_bytes());
        for coding in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if !coding.eq_ignore_ascii_case("chunked") {
                let detail = format!("the transfer coding {coding:?} is not supported");
                return Some((StatusCode::BAD_REQUEST, detail));
            }
            chunked += 1;
        }
    }
    (chunked > 1).then(|| {
        let detail = "the chunked transfer coding is applied more than once".to_owned();
        (StatusCode::BAD_REQUEST, detail)
    })
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    TooLarge,
    Timeout,
    Unreadable,
}

impl BodyError {
    pub(crate) fn message(self, max: usize, timeout: Duration) -> String {
        match self {
            BodyError::TooLarge => format!("request body is larger than {max} bytes"),
            BodyError::Timeout => format!(
                "the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
            BodyError::Unreadable => "could not read the request body".into(),
        }
    }
}

/// Reads a whole body of at most `max` bytes within `timeout`.
pub(crate) async fn read_body(
    req: Request<Incoming>,
    max: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    use http_body_util::{BodyExt, Limited};
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let collected = tokio::time::timeout(timeout, Limited::new(req.into_body(), max).collect())
        .await
        .map_err(|_| BodyError::Timeout)?;
    collected.map(|c| c.to_bytes()).map_err(|e| {
        if e.downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            BodyError::TooLarge
        } else {
            BodyError::Unreadable
        }
    })
}

/// A JSON response with the SCIM media type.
pub(crate) fn json_response(status: hyper::StatusCode, body: &serde_json::Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/scim+json"),
    );
    resp
}

pub(crate) fn error_response(e: &ApiError) -> Response<Body> {
    let mut resp = json_response(e.status, &e.body());
    if e.status == hyper::StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Bearer realm=\"cloudsso\""),
        );
    }
    resp
}

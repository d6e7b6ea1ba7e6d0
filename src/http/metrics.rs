//! `GET /metrics`: the Prometheus text exposition of `App::metrics`, with the gauges read
//! at scrape time (`App::scrape`). Unauthenticated, as Prometheus scrapes; it holds nothing
//! secret (`metrics` bounds and chooses every label). Served on the main listener, or only
//! on `--metrics-listen` (`serve_metrics`, plain HTTP/1.1) when that is set.

use super::Body;
use crate::app::App;
use crate::metrics::{CONTENT_TYPE, RouteClass};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE as CONTENT_TYPE_HEADER, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub const METRICS_PATH: &str = "/metrics";
/// Most connections the metrics listener serves at once (scrapers are few).
pub const METRICS_CONNECTIONS_MAX: usize = 16;

/// The exposition (GET or HEAD), 405 for another method, 500 when a gauge could not be read.
pub async fn handle(app: &App, req: &Request<Incoming>) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET\n".into(),
            "text/plain",
        );
    }
    match app.scrape().await {
        Ok(s) => text(StatusCode::OK, app.metrics.render(&s), CONTENT_TYPE),
        Err(e) => {
            tracing::warn!(error = %e, "reading the scrape-time metrics failed");
            let body = "the metrics could not be read\n".to_owned();
            text(StatusCode::INTERNAL_SERVER_ERROR, body, "text/plain")
        }
    }
}

pub(crate) fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE_HEADER, HeaderValue::from_static(content_type));
    resp
}

/// Serves `/metrics` alone on `listener` (plain HTTP/1.1; anything else is 404) until
/// `shutdown`, at most `METRICS_CONNECTIONS_MAX` connections at once, each head read within
/// the request read timeout. Open connections are closed at shutdown (they hold the `App`,
/// whose writer stops only once every handle is gone).
pub async fn serve_metrics(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(METRICS_CONNECTIONS_MAX));
    let read_timeout = Duration::from_millis(app.limits.request_read_timeout_ms);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            a = listener.accept() => match a { Ok((s, _)) => s, Err(_) => continue },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        connections.spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(answer(&app, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics connection closed with error");
            }
            drop(permit);
        });
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// One request on the metrics listener, counted like the main listener's.
async fn answer(app: &App, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let (class, resp) = if req.uri().path() == METRICS_PATH {
        (RouteClass::Metrics, handle(app, &req).await)
    } else {
        let resp = text(StatusCode::NOT_FOUND, "not found\n".into(), "text/plain");
        (RouteClass::Other, resp)
    };
    app.metrics
        .request(class, resp.status().as_u16(), started.elapsed());
    resp
}

//! The limit: hyper serving, from memory, response bytes captured from cloudsso. It matches
//! a request by method and a path prefix and answers the captured status, headers and body; no
//! parsing, no store, no auth. It runs as its own process (`scim_load --limit-server FILE`) on
//! a tokio runtime like cloudsso's, so it has its own cores' share and its own peak RSS.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

/// One captured route: requests with this method whose path and query start with `prefix`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Route {
    pub method: String,
    pub prefix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

struct Compiled {
    method: hyper::Method,
    prefix: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

fn compile(r: Route) -> Option<Compiled> {
    let mut headers = HeaderMap::new();
    for (k, v) in &r.headers {
        headers.insert(
            HeaderName::from_bytes(k.as_bytes()).ok()?,
            HeaderValue::from_str(v).ok()?,
        );
    }
    Some(Compiled {
        method: r.method.parse().ok()?,
        prefix: r.prefix,
        status: StatusCode::from_u16(r.status).ok()?,
        headers,
        body: Bytes::from(r.body),
    })
}

fn answer(routes: &[Compiled], method: &hyper::Method, pq: &str) -> Response<Full<Bytes>> {
    // Routes are sorted longest prefix first.
    let found = routes
        .iter()
        .find(|r| r.method == method && pq.starts_with(&r.prefix));
    let mut resp = Response::new(Full::new(found.map(|r| r.body.clone()).unwrap_or_default()));
    match found {
        Some(r) => {
            *resp.status_mut() = r.status;
            *resp.headers_mut() = r.headers.clone();
        }
        None => *resp.status_mut() = StatusCode::NOT_FOUND,
    }
    resp
}

/// Serves the routes in `file` until killed; prints `listening PORT` on stdout.
pub fn serve(file: &Path) {
    let text = std::fs::read_to_string(file).expect("limit routes file");
    let routes: Vec<Route> = serde_json::from_str(&text).expect("limit routes JSON");
    let mut routes: Vec<Compiled> = routes.into_iter().filter_map(compile).collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
    let routes = Arc::new(routes);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        println!("listening {port}");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let routes = routes.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let routes = routes.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        // The body is read (not parsed) so the connection stays reusable.
                        let _ = body.collect().await;
                        let pq = parts.uri.path_and_query().map_or("", |p| p.as_str());
                        Ok::<_, Infallible>(answer(&routes, &parts.method, pq))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}

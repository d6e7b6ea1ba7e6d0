//! `GET /healthz` (the process answers: 200 `ok`) and `GET /readyz` (200 `{"status":"ready"}`
//! when the store opens a read transaction, the writer commits a no-op job in time and the
//! reconciliation engine's lag is within `--ready-lag-events-max` and
//! `--ready-lag-seconds-max`; else 503 naming the failed checks). Unauthenticated; answers
//! nothing but check names and the lag numbers. The verdict is `metrics::Readiness`'s.

use super::Body;
use super::metrics::text;
use crate::app::App;
use crate::metrics::Readiness;
use hyper::StatusCode;
use serde_json::json;

pub const HEALTHZ_PATH: &str = "/healthz";
pub const READYZ_PATH: &str = "/readyz";

/// Whether `path` is one of the health endpoints.
pub fn handles(path: &str) -> bool {
    path == HEALTHZ_PATH || path == READYZ_PATH
}

pub async fn handle(app: &App, path: &str) -> Response {
    if path == HEALTHZ_PATH {
        return text(StatusCode::OK, "ok\n".into(), "text/plain");
    }
    let probe = app.probe().await;
    let failed = Readiness::judge(&probe, app.ready_limits());
    let lag = probe
        .lag
        .map(|l| json!({"events": l.events(), "seconds": l.oldest.as_secs_f64()}));
    let (status, body) = if failed.is_empty() {
        (StatusCode::OK, json!({"status": "ready", "lag": lag}))
    } else {
        let names: Vec<&str> = failed.iter().map(|f| f.as_str()).collect();
        tracing::debug!(failed = ?names, "not ready");
        let body = json!({"status": "not ready", "failed": names, "lag": lag});
        (StatusCode::SERVICE_UNAVAILABLE, body)
    };
    text(status, format!("{body}\n"), "application/json")
}

type Response = hyper::Response<Body>;

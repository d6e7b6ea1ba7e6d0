//! The audit trail at the hyper edge: opens a request's audit scope (its id, source address
//! and user agent, the action it names), lets handlers name the actor and arm the scope, and
//! once the answer is decided appends what is left of the record (through its own write job,
//! before the answer is sent). Must not decide what a record says beyond what the request
//! showed; never puts a header value other than the user agent into a record.

use super::request_id::RequestId;
use crate::audit::{self, AuditRecord, AuditScope, Settings};
use crate::store::Db;
use hyper::Request;
use hyper::header;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// The trail as an edge sees it.
#[derive(Clone, Copy)]
pub(crate) struct Trail<'a> {
    pub db: &'a Db,
    pub settings: &'a Settings,
}

impl Trail<'_> {
    /// A new scope for `req` from `peer` doing `action` (none when the trail is off).
    pub fn open<B>(
        &self,
        req: &Request<B>,
        peer: SocketAddr,
        action: &str,
    ) -> Option<Arc<AuditScope>> {
        if !self.settings.enabled {
            return None;
        }
        let id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default();
        let ua = req
            .headers()
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let mut record = audit::record_for(&id, &peer.ip().to_string(), &ua);
        record.action = action.to_owned();
        Some(AuditScope::new(record))
    }

    /// Appends the record the request still owes for ending with `result` (see
    /// `AuditScope::finish`). A record that cannot be written is logged: the answer stands.
    pub async fn close(&self, scope: Option<Arc<AuditScope>>, result: &str) {
        let Some(record) = scope.and_then(|s| s.finish(result)) else {
            return;
        };
        if let Err(e) = self.db.append_audit(record).await {
            tracing::error!(error = %e, "appending an audit record failed");
        }
    }
}

/// Runs `f` under `scope` when there is one.
pub(crate) async fn within<F: Future>(scope: Option<&Arc<AuditScope>>, f: F) -> F::Output {
    match scope {
        Some(s) => s.run(f).await,
        None => f.await,
    }
}

/// Changes the current request's record, if it has a scope.
pub(crate) fn note(f: impl FnOnce(&mut AuditRecord)) {
    if let Some(s) = AuditScope::current() {
        s.update(f);
    }
}

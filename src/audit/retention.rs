//! Retention: a background loop that removes records older than the retention, the oldest
//! first, at most `PRUNE_CHUNK_MAX` a transaction, so it never holds the writer long.
//! Must not remove anything newer than the retention.

use crate::store::Db;
use std::time::Duration;

/// Most records removed in one write transaction.
pub const PRUNE_CHUNK_MAX: usize = 1_000;

/// Removes, in chunks, every record older than `retention` before now; how many.
pub async fn prune_once(db: &Db, retention: Duration) -> Result<usize, super::AuditError> {
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let keep_ms = i128::try_from(retention.as_millis()).unwrap_or(i128::MAX);
    let cutoff = i64::try_from(now_ms.saturating_sub(keep_ms)).unwrap_or(i64::MIN);
    // Nothing due (the usual case): no write, so an idle server stays without commits.
    let oldest = db.read_now(|txn| txn.audit_oldest_ms())?;
    if oldest.is_none_or(|ms| ms >= cutoff) {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let n = db
            .maintain(move |txn| txn.prune_audit(cutoff, PRUNE_CHUNK_MAX))
            .await?;
        total += n;
        if n < PRUNE_CHUNK_MAX {
            return Ok(total);
        }
    }
}

/// Prunes every `interval` until `stop` resolves.
pub async fn run_pruner(
    db: Db,
    retention: Duration,
    interval: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        match prune_once(&db, retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "audit records past their retention pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning the audit trail failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = &mut stop => return,
        }
    }
}

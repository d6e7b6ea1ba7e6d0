//! The transactional spine every domain module shares: the open store, the single writer,
//! reads (on the blocking pool, or inline for point reads), writes as jobs of the writer's next
//! batch, change events appended to the outbox, and the signal the reconciliation engine waits
//! on after every commit.
//!
//! Owns no rule of any domain: `directory`, `access`, `iam` and the embedded provider each hold
//! a `Db` and decide for themselves what a job reads and writes.

use super::audit::{self, AuditRecord, AuditScope};
use super::{ReadTxn, Store, StoreError, WriteError, WriteTxn, Writer};
use crate::metrics::Metrics;
use crate::model::{ChangeEvent, ChangeKind, ResourceType, now_rfc3339};
use std::sync::Arc;

/// What a domain error must be for a job to run on the `Db`: it takes storage and writer
/// failures, and says which of its values is a storage failure that must roll the batch back.
pub trait JobError: From<StoreError> + From<WriteError> + Send + 'static {
    /// INVARIANT: true for every error raised after the job may have written (a storage
    /// failure); the job's batch is then rolled back. Validation errors return false: the job
    /// wrote nothing and fails alone.
    fn poisons_batch(&self) -> bool;
}

/// The database handle of the whole application. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    writer: Writer,
    /// Signalled after every committed write (the reconciliation engine waits on it).
    changed: tokio::sync::Notify,
    /// Counts committed writes, for any number of followers (`commits`).
    commits: tokio::sync::watch::Sender<u64>,
    /// The process's metrics, which the services sharing this handle count into.
    metrics: Arc<Metrics>,
}

impl Db {
    pub fn new(store: Store, writer: Writer) -> Db {
        Self::with_metrics(store, writer, Arc::default())
    }

    /// `new`, with the process's metrics for the services to count into.
    pub fn with_metrics(store: Store, writer: Writer, metrics: Arc<Metrics>) -> Db {
        Db {
            inner: Arc::new(Inner {
                store,
                writer,
                changed: tokio::sync::Notify::new(),
                commits: tokio::sync::watch::Sender::new(0),
                metrics,
            }),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Write jobs waiting for the writer.
    pub fn write_queue_depth(&self) -> usize {
        self.inner.writer.queue_depth()
    }

    /// Whether a read transaction opens.
    pub fn can_read(&self) -> bool {
        self.inner.store.read().is_ok()
    }

    /// Runs a job that writes nothing through the writer: it answers once that batch
    /// committed, so the writer is alive and the disk takes commits.
    pub async fn ping_writer(&self) -> Result<(), WriteError> {
        self.inner.writer.submit(|_: &mut super::Batch| ()).await
    }

    /// Runs a read off the async executor.
    pub async fn read<T, E>(
        &self,
        f: impl FnOnce(&ReadTxn) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: JobError,
    {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || {
            let txn = store.read()?;
            f(&txn)
        })
        .await
        .map_err(|e| E::from(StoreError::Interrupted(e.to_string())))?
    }

    /// Runs a bounded read on the calling task, without the hop to the blocking pool: for
    /// point reads (one resource, an index probe) whose cost is a few B-tree lookups, where the
    /// hop (two thread wake-ups) would cost more than the read. Anything that may scan or render
    /// an unbounded amount goes through `read`.
    pub fn read_now<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&ReadTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = self.inner.store.read()?;
        f(&txn)
    }

    /// Runs a job in the next write batch and answers once that batch is durable. A storage
    /// error poisons the batch (see `JobError::poisons_batch`).
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&WriteTxn) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: JobError,
    {
        let scope = audit::armed_scope();
        let in_job = scope.clone();
        let submitted = self
            .inner
            .writer
            .submit(move |batch: &mut super::Batch| {
                let (r, carried) = run_audited(batch, in_job.as_deref(), f);
                if r.as_ref().is_err_and(E::poisons_batch) {
                    batch.poison();
                }
                (r, carried)
            })
            .await;
        let (r, carried) = match submitted {
            Ok(done) => done,
            Err(e) => {
                if let Some(s) = &scope {
                    audit::settle(s, false, false);
                }
                return Err(e.into());
            }
        };
        if let Some(s) = &scope {
            audit::settle(s, carried, true);
        }
        self.inner.changed.notify_one();
        self.inner.commits.send_modify(|n| *n = n.wrapping_add(1));
        r
    }

    /// Appends one audit record in a job of its own (a request with no write that carried
    /// its record); answers once it is durable.
    pub async fn append_audit(&self, mut record: AuditRecord) -> Result<u64, WriteError> {
        let r = self
            .inner
            .writer
            .submit(move |batch: &mut super::Batch| {
                let r = batch.txn().append_audit(&mut record);
                if r.is_err() {
                    batch.poison();
                }
                r
            })
            .await?;
        r.map_err(|e| WriteError::Commit(Arc::new(e)))
    }

    /// Runs a blocking job in the next write batch (pruning, maintenance) without an audit
    /// record of its own.
    pub async fn maintain<T: Send + 'static>(
        &self,
        f: impl FnOnce(&WriteTxn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, WriteError> {
        let r = self
            .inner
            .writer
            .submit(move |batch: &mut super::Batch| {
                let r = f(batch.txn());
                if r.is_err() {
                    batch.poison();
                }
                r
            })
            .await?;
        r.map_err(|e| WriteError::Commit(Arc::new(e)))
    }

    /// A receiver that sees every committed write (`changed()` on it resolves after the next
    /// commit); each follower of the outbox holds its own.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.commits.subscribe()
    }

    /// Resolves after the next committed write (or at once if one happened since the last
    /// call).
    pub async fn changed(&self) {
        self.inner.changed.notified().await;
    }
}

/// Runs a write job; when it succeeds under an armed audit scope, appends the request's
/// record in the same transaction (a storage error there fails the job). Returns the job's
/// result and whether it carried the record.
fn run_audited<T, E: JobError>(
    batch: &mut super::Batch,
    scope: Option<&AuditScope>,
    f: impl FnOnce(&WriteTxn) -> Result<T, E>,
) -> (Result<T, E>, bool) {
    let txn = batch.txn();
    let Some(scope) = scope else {
        return (f(txn), false);
    };
    audit::before_job(txn);
    let r = f(txn);
    if r.is_err() {
        audit::after_failed_job(txn);
        return (r, false);
    }
    match audit::append_claimed(scope, txn) {
        Ok(carried) => (r, carried),
        Err(e) => {
            batch.poison();
            (Err(E::from(e)), false)
        }
    }
}

/// The outbox half of a write: change events appended in the job's own transaction.
impl WriteTxn {
    /// Appends one change event (no member list) under the next sequence number, which it
    /// returns.
    pub fn append_change(
        &self,
        dir: &str,
        resource: ResourceType,
        id: &str,
        kind: ChangeKind,
    ) -> Result<u64, StoreError> {
        self.append_changes(dir, resource, id, &[(kind, Vec::new())])
    }

    /// Appends the change events of one write, each with its member list; returns the
    /// sequence number of the first (0 when there are none), which becomes the resource's
    /// version.
    pub fn append_changes(
        &self,
        dir: &str,
        resource: ResourceType,
        id: &str,
        changes: &[(ChangeKind, Vec<String>)],
    ) -> Result<u64, StoreError> {
        let at = now_rfc3339();
        let mut first = None;
        for (kind, members) in changes {
            let seq = self.next_seq()?;
            first.get_or_insert(seq);
            self.append_event(&ChangeEvent {
                seq,
                directory: dir.to_owned(),
                resource,
                id: id.to_owned(),
                kind: *kind,
                members: members.clone(),
                at: at.clone(),
            })?;
        }
        Ok(first.unwrap_or(0))
    }
}

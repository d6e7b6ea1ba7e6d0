//! The single writer: concurrent write requests are committed together, one redb write
//! transaction per batch (group commit), and each is answered only after its batch's commit
//! is durable.
//!
//! A job runs inside the batch's transaction. INVARIANT: a job that fails validation has
//! written nothing, so it fails alone; a job that hits a storage error after writing calls
//! `Batch::poison`, and then the whole batch is rolled back and every job in it is told so.

use super::{Store, StoreError, WriteTxn};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The view a job gets of the batch it runs in.
pub struct Batch {
    txn: WriteTxn,
    poisoned: bool,
}

impl Batch {
    pub fn txn(&self) -> &WriteTxn {
        &self.txn
    }

    /// Marks the batch as unusable: it will be rolled back instead of committed.
    pub fn poison(&mut self) {
        self.poisoned = true;
    }
}

/// Why a job's result could not be delivered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("the write queue is full")]
    QueueFull,
    #[error("the writer has stopped")]
    Stopped,
    #[error("commit failed: {0}")]
    Commit(Arc<StoreError>),
}

type Completion = Box<dyn FnOnce(Result<(), WriteError>) + Send>;
type Job = Box<dyn FnOnce(&mut Batch) -> Completion + Send>;

/// Handle to the writer thread. Cheap to clone; the thread stops when every handle is gone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread. `batch_max` bounds jobs per transaction, `queue_max` the
    /// jobs waiting.
    pub fn start(
        store: Store,
        batch_max: usize,
        queue_max: usize,
    ) -> std::io::Result<(Writer, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>(queue_max.max(1));
        let handle = std::thread::Builder::new()
            .name("cloudsso-writer".into())
            .spawn(move || run(store, rx, batch_max.max(1)))?;
        Ok((Writer { tx }, handle))
    }

    /// Runs `f` in the next batch and returns its result once that batch is durable.
    pub async fn submit<T, F>(&self, f: F) -> Result<T, WriteError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Batch) -> T + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel::<Result<T, WriteError>>();
        let job: Job = Box::new(move |batch: &mut Batch| {
            let value = f(batch);
            Box::new(move |committed: Result<(), WriteError>| {
                let _ = done_tx.send(committed.map(|()| value));
            })
        });
        self.tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => WriteError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
        })?;
        done_rx.await.map_err(|_| WriteError::Stopped)?
    }
}

fn run(store: Store, mut rx: mpsc::Receiver<Job>, batch_max: usize) {
    let mut jobs: Vec<Job> = Vec::with_capacity(batch_max);
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        while jobs.len() < batch_max {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let txn = match store.write() {
            Ok(txn) => txn,
            Err(e) => {
                tracing::error!(error = %e, "cannot begin write transaction");
                // Dropping a job drops its reply channel: its caller gets `Stopped`.
                jobs.clear();
                continue;
            }
        };
        let mut batch = Batch {
            txn,
            poisoned: false,
        };
        let n = jobs.len();
        let completions: Vec<Completion> = jobs.drain(..).map(|job| job(&mut batch)).collect();
        let result = if batch.poisoned {
            tracing::error!(jobs = n, "batch rolled back after a storage error");
            drop(batch);
            Err(WriteError::Commit(Arc::new(StoreError::Corrupt {
                table: "batch",
                reason: "rolled back after a storage error".into(),
            })))
        } else {
            batch
                .txn
                .commit()
                .map_err(|e| WriteError::Commit(Arc::new(e)))
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, jobs = n, "batch not committed");
        } else {
            tracing::trace!(jobs = n, "batch committed");
        }
        for c in completions {
            c(result.clone());
        }
    }
}

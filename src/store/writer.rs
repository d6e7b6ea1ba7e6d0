//! The single writer: concurrent write requests are committed together, one redb write
//! transaction per batch (group commit), and each is answered only after its batch's commit
//! is durable.
//!
//! A job runs inside the batch's transaction. INVARIANT: a job that fails validation has
//! written nothing, so it fails alone; a job that hits a storage error after writing calls
//! `Batch::poison`, and then the whole batch is rolled back and every job in it is told so.

use super::{Store, StoreError, WriteTxn};
use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// The view a job gets of the batch it runs in.
pub struct Batch {
    txn: WriteTxn,
    poisoned: bool,
    number: u64,
}

impl Batch {
    /// The batch's number since the writer started (1, 2, ...), for logs and tests.
    pub fn number(&self) -> u64 {
        self.number
    }

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
        Self::start_metered(store, batch_max, queue_max, Arc::default())
    }

    /// `start`, counting each batch's size and commit time into `metrics`.
    pub fn start_metered(
        store: Store,
        batch_max: usize,
        queue_max: usize,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Writer, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>(queue_max.max(1));
        let handle = std::thread::Builder::new()
            .name("cloudsso-writer".into())
            .spawn(move || run(store, rx, batch_max.max(1), &metrics))?;
        Ok((Writer { tx }, handle))
    }

    /// Jobs waiting in the queue (not those of the batch being written).
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity().saturating_sub(self.tx.capacity())
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

fn run(store: Store, mut rx: mpsc::Receiver<Job>, batch_max: usize, metrics: &Metrics) {
    let mut jobs: Vec<Job> = Vec::with_capacity(batch_max);
    let mut number = 0u64;
    while let Some(first) = rx.blocking_recv() {
        number += 1;
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
            number,
        };
        let n = jobs.len();
        let mut completions: Vec<Completion> = Vec::with_capacity(n);
        for job in jobs.drain(..) {
            // A job that panics loses its reply (its caller gets `Stopped`) and poisons the
            // batch, but the writer lives on for the next batch.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut batch))) {
                Ok(c) => completions.push(c),
                Err(_) => {
                    tracing::error!("a write job panicked; rolling its batch back");
                    batch.poisoned = true;
                }
            }
        }
        let commit_started = Instant::now();
        let result = if batch.poisoned {
            tracing::error!(jobs = n, "batch rolled back after a storage error");
            drop(batch);
            Err(WriteError::Commit(Arc::new(StoreError::RolledBack)))
        } else {
            batch
                .txn
                .commit()
                .map_err(|e| WriteError::Commit(Arc::new(e)))
        };
        metrics.writer_batch(n, commit_started.elapsed());
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc as std_mpsc;

    fn writer(
        batch_max: usize,
        queue_max: usize,
    ) -> (Writer, std::thread::JoinHandle<()>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.redb")).unwrap();
        let (w, h) = Writer::start(store, batch_max, queue_max).unwrap();
        (w, h, dir)
    }

    /// Holds the writer inside a job until the returned sender fires.
    async fn block(w: &Writer) -> (std_mpsc::Sender<()>, tokio::task::JoinHandle<u64>) {
        let (release_tx, release_rx) = std_mpsc::channel::<()>();
        let (entered_tx, entered_rx) = std_mpsc::channel::<()>();
        let w2 = w.clone();
        let first = tokio::spawn(async move {
            w2.submit(move |b: &mut Batch| {
                let _ = entered_tx.send(());
                let _ = release_rx.recv();
                b.number()
            })
            .await
            .unwrap()
        });
        tokio::task::spawn_blocking(move || entered_rx.recv().unwrap())
            .await
            .unwrap();
        (release_tx, first)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_hold_at_most_batch_max_jobs() {
        let (w, _h, _d) = writer(2, 100);
        let (release, first) = block(&w).await;
        let mut rest = Vec::new();
        for _ in 0..5 {
            let w = w.clone();
            rest.push(tokio::spawn(async move {
                w.submit(|b: &mut Batch| b.number()).await.unwrap()
            }));
            // Keep submission order deterministic.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 1);
        let mut numbers = Vec::new();
        for t in rest {
            numbers.push(t.await.unwrap());
        }
        // Five queued jobs at two per batch: batches 2, 2, 3, 3, 4.
        assert_eq!(numbers, [2, 2, 3, 3, 4]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queue_refuses_past_queue_max() {
        let (w, _h, _d) = writer(8, 2);
        let (release, first) = block(&w).await;
        let mut queued = Vec::new();
        for _ in 0..2 {
            let w = w.clone();
            queued.push(tokio::spawn(
                async move { w.submit(|_: &mut Batch| ()).await },
            ));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let over = w.submit(|_: &mut Batch| ()).await;
        assert!(matches!(over, Err(WriteError::QueueFull)), "{over:?}");
        release.send(()).unwrap();
        first.await.unwrap();
        for q in queued {
            q.await.unwrap().unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_poisoned_batch_commits_nothing() {
        let (w, _h, _d) = writer(8, 8);
        let (release, first) = block(&w).await;
        let w1 = w.clone();
        let good =
            tokio::spawn(
                async move { w1.submit(|b: &mut Batch| b.txn().next_seq().unwrap()).await },
            );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let w2 = w.clone();
        let bad = tokio::spawn(async move {
            w2.submit(|b: &mut Batch| {
                b.txn().next_seq().unwrap();
                b.poison();
            })
            .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        release.send(()).unwrap();
        first.await.unwrap();
        assert!(matches!(good.await.unwrap(), Err(WriteError::Commit(_))));
        assert!(matches!(bad.await.unwrap(), Err(WriteError::Commit(_))));
        // Nothing from the rolled-back batch is visible: the next sequence number is 1.
        let next = w
            .submit(|b: &mut Batch| b.txn().next_seq().unwrap())
            .await
            .unwrap();
        assert_eq!(next, 1);
    }
}

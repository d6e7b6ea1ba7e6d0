//! The one memory budget of the request bodies being read at once
//! (`Limits::request_bodies_bytes_max`): a request reserves, before its handler runs, the
//! bytes its body may take (its `Content-Length`, nothing for an empty body, `body_bytes_max`
//! when the length is not declared) and gives them back when its handler is done. Must not
//! read bodies: `read_body` does, within `body_bytes_max`.

use hyper::body::Body as _;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes reserved for the request bodies in flight.
pub(crate) struct BodyBudget {
    bytes: Arc<Semaphore>,
    /// Largest reservation (the semaphore counts in `u32`).
    total: u32,
    body_bytes_max: usize,
}

/// A request's reservation, given back when dropped.
pub(crate) struct Reservation(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl BodyBudget {
    pub(crate) fn new(total_bytes: usize, body_bytes_max: usize) -> Self {
        let total = u32::try_from(total_bytes.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
        BodyBudget {
            bytes: Arc::new(Semaphore::new(total as usize)),
            total,
            body_bytes_max,
        }
    }

    /// What a body may take: its exact length (0 if empty), or `body_bytes_max` if unknown.
    /// A body declared larger than `body_bytes_max` reserves nothing: it is refused unread.
    fn need(&self, body: &hyper::body::Incoming) -> usize {
        if body.is_end_stream() {
            return 0;
        }
        match body.size_hint().exact() {
            Some(n) if n > self.body_bytes_max as u64 => 0,
            Some(n) => usize::try_from(n).unwrap_or(self.body_bytes_max),
            None => self.body_bytes_max,
        }
    }

    /// Reserves what `body` may take, or `None` when the budget has no room for it now.
    pub(crate) fn reserve(&self, body: &hyper::body::Incoming) -> Option<Reservation> {
        let need = self.need(body);
        if need == 0 {
            return Some(Reservation(None));
        }
        let n = u32::try_from(need).unwrap_or(u32::MAX).min(self.total);
        self.bytes
            .clone()
            .try_acquire_many_owned(n)
            .ok()
            .map(|p| Reservation(Some(p)))
    }
}

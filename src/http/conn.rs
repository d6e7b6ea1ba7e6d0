//! Connection admission and timeouts below hyper: the per-source share of the connection
//! slots (`Admission`), and `Watched`, the IO wrapper every connection is served through,
//! which closes a connection that sends nothing within the read timeout, one idle between
//! requests (HTTP/1.1) or with no open stream (HTTP/2) past the keep-alive idle time, and
//! answers 408 to a request whose head did not arrive within the read timeout. It also puts a
//! body in the refusals hyper writes itself (400, 414, 431: `refusal`). Must not route or
//! read requests: it sees bytes and the request count `Activity` is told by the service.

use super::refusal;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Most bytes of a request's head kept to shape hyper's refusals (the request line is enough).
const HEAD_KEPT_BYTES_MAX: usize = 512;

/// Open connections per source address, each at most `per_source_max`.
pub(crate) struct Admission {
    per_source_max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// A connection's place in its source's share; given back when dropped.
pub(crate) struct Slot {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    pub(crate) fn new(per_source_max: usize) -> Arc<Self> {
        Arc::new(Admission {
            per_source_max,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn open(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for one more connection from `ip`, or `None` when its share is taken.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open();
        let n = open.entry(ip).or_insert(0);
        if *n >= self.per_source_max {
            return None;
        }
        *n += 1;
        Some(Slot {
            admission: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.admission.open();
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// The two timeouts a connection lives by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// For a new connection's first byte and for a request's whole head.
    pub read: Duration,
    /// Between requests (HTTP/1.1) or with no open stream (HTTP/2).
    pub idle: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Unknown,
    Http1,
    Http2,
}

/// What the connection is doing, as the wrapper (bytes) and the service (requests) see it.
#[derive(Debug)]
struct State {
    proto: Proto,
    in_flight: usize,
    requests: u64,
    /// When the last request ended, or the connection opened.
    idle_since: Instant,
    last_write: Instant,
    /// When the first byte of a request head not yet dispatched was read.
    partial_since: Option<Instant>,
    /// The first bytes of that head (its request line names the route).
    head: Vec<u8>,
    /// The read waiting with no deadline, woken when the last request ends.
    reader: Option<std::task::Waker>,
}

/// What happens when a connection's deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Close,
    RequestTimeout,
}

impl State {
    /// The next deadline, if any, and what it does.
    fn deadline(&self, t: Timeouts) -> Option<(Instant, Expiry)> {
        if self.in_flight > 0 {
            return None;
        }
        if self.proto == Proto::Http2 {
            return Some((self.idle_since + t.idle, Expiry::Close));
        }
        if let Some(p) = self.partial_since {
            return Some((p + t.read, Expiry::RequestTimeout));
        }
        if self.requests == 0 {
            return Some((self.idle_since + t.read, Expiry::Close));
        }
        Some((self.idle_since.max(self.last_write) + t.idle, Expiry::Close))
    }

    fn on_read(&mut self, bytes: &[u8]) {
        if self.proto == Proto::Unknown {
            self.head.extend_from_slice(bytes);
            self.proto = refusal::protocol_of(&self.head).map_or(Proto::Unknown, |h2| {
                if h2 { Proto::Http2 } else { Proto::Http1 }
            });
            self.head.truncate(HEAD_KEPT_BYTES_MAX);
            self.partial_since.get_or_insert_with(Instant::now);
            return;
        }
        if self.in_flight > 0 || self.proto == Proto::Http2 {
            return;
        }
        if self.partial_since.is_none() {
            self.partial_since = Some(Instant::now());
            self.head.clear();
        }
        let room = HEAD_KEPT_BYTES_MAX.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
    }
}

/// Shared between a connection's IO wrapper and its service.
#[derive(Debug)]
pub(crate) struct Activity(Mutex<State>);

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Activity(Mutex::new(State {
            proto: Proto::Unknown,
            in_flight: 0,
            requests: 0,
            idle_since: now,
            last_write: now,
            partial_since: None,
            head: Vec::new(),
            reader: None,
        })))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks a request as started until the returned guard is dropped.
    pub(crate) fn request(self: &Arc<Self>) -> InFlight {
        let mut s = self.state();
        s.in_flight += 1;
        s.requests += 1;
        s.partial_since = None;
        InFlight(self.clone())
    }
}

/// A request in progress; the connection is idle again when every one is dropped.
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let reader = {
            let mut s = self.0.state();
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight > 0 {
                return;
            }
            s.idle_since = Instant::now();
            s.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

/// Bytes this wrapper writes instead of hyper's, and how many are written.
struct Pending {
    bytes: Vec<u8>,
    written: usize,
    /// What to answer hyper's write with once done (the length of hyper's buffer).
    replaces: Option<usize>,
}

/// A connection's stream, with its deadlines (see the module doc).
pub(crate) struct Watched<S> {
    io: S,
    activity: Arc<Activity>,
    timeouts: Timeouts,
    sleep: Pin<Box<Sleep>>,
    pending: Option<Pending>,
    closed: bool,
}

impl<S> Watched<S> {
    pub(crate) fn new(io: S, activity: Arc<Activity>, timeouts: Timeouts) -> Self {
        Watched {
            io,
            activity,
            timeouts,
            sleep: Box::pin(tokio::time::sleep(timeouts.read)),
            pending: None,
            closed: false,
        }
    }
}

impl<S: AsyncWrite + Unpin> Watched<S> {
    /// Writes what is pending; `Ready(Ok(Some(n)))` when it replaced a write of `n` bytes.
    fn flush_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        while let Some(p) = self.pending.as_mut() {
            let rest = p.bytes.get(p.written..).unwrap_or_default();
            if rest.is_empty() {
                let replaced = p.replaces;
                self.pending = None;
                return Poll::Ready(Ok(replaced));
            }
            match Pin::new(&mut self.io).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => p.written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(None))
    }

    /// The deadline passed: a 408 for a partial HTTP/1.1 head, then end of stream.
    fn expire(&mut self, expiry: Expiry, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if expiry == Expiry::RequestTimeout && !self.closed {
            let head = self.activity.state().head.clone();
            self.pending = Some(Pending {
                bytes: refusal::response(408, &head),
                written: 0,
                replaces: None,
            });
        }
        self.closed = true;
        match self.flush_pending(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(Ok(())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.closed {
            return this.expire(Expiry::Close, cx);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().get(before..).unwrap_or_default();
                if !read.is_empty() {
                    this.activity.state().on_read(read);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let deadline = {
                    let mut s = this.activity.state();
                    let d = s.deadline(this.timeouts);
                    // No deadline while a request runs: its end wakes this read to set one.
                    s.reader = d.is_none().then(|| cx.waker().clone());
                    d
                };
                let Some((at, expiry)) = deadline else {
                    return Poll::Pending;
                };
                if this.sleep.deadline() != at {
                    this.sleep.as_mut().reset(at);
                }
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => this.expire(expiry, cx),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            let mut s = this.activity.state();
            s.last_write = Instant::now();
            let hyper_refusal = s.in_flight == 0 && s.partial_since.is_some();
            if let Some(bytes) = hyper_refusal
                .then(|| refusal::reshape(buf, &s.head))
                .flatten()
            {
                this.pending = Some(Pending {
                    bytes,
                    written: 0,
                    replaces: Some(buf.len()),
                });
            }
        }
        match this.flush_pending(cx) {
            Poll::Ready(Ok(Some(n))) => Poll::Ready(Ok(n)),
            Poll::Ready(Ok(None)) => Pin::new(&mut this.io).poll_write(cx, buf),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing))]
mod tests {
    use super::*;

    #[test]
    fn a_source_gets_its_share_and_gives_it_back() {
        let a = Admission::new(2);
        let (x, y): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let s1 = a.admit(x).unwrap();
        let _s2 = a.admit(x).unwrap();
        assert!(a.admit(x).is_none(), "a third from the same address");
        assert!(a.admit(y).is_some(), "another address is still admitted");
        drop(s1);
        assert!(
            a.admit(x).is_some(),
            "a closed connection gives its place back"
        );
    }

    #[test]
    fn deadlines_follow_the_connection_state() {
        let t = Timeouts {
            read: Duration::from_secs(30),
            idle: Duration::from_secs(5),
        };
        let act = Activity::new();
        let start = act.state().idle_since;
        type Case = (
            &'static str,
            Box<dyn Fn(&mut State)>,
            Option<(Duration, Expiry)>,
        );
        let cases: Vec<Case> = vec![
            (
                "silent new connection",
                Box::new(|_| {}),
                Some((t.read, Expiry::Close)),
            ),
            (
                "partial head",
                Box::new(|s| s.on_read(b"GET / HT")),
                Some((t.read, Expiry::RequestTimeout)),
            ),
            ("request in flight", Box::new(|s| s.in_flight = 1), None),
            (
                "idle after a request",
                Box::new(|s| s.requests = 1),
                Some((t.idle, Expiry::Close)),
            ),
            (
                "http/2 with no stream",
                Box::new(|s| s.on_read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")),
                Some((t.idle, Expiry::Close)),
            ),
        ];
        for (name, set, want) in cases {
            let mut s = State {
                proto: Proto::Unknown,
                in_flight: 0,
                requests: 0,
                idle_since: start,
                last_write: start,
                partial_since: None,
                head: Vec::new(),
                reader: None,
            };
            set(&mut s);
            let got = s.deadline(t).map(|(at, e)| {
                let base = match e {
                    Expiry::RequestTimeout => s.partial_since.unwrap(),
                    Expiry::Close => start,
                };
                (at.duration_since(base), e)
            });
            assert_eq!(got, want, "{name}");
        }
    }
}

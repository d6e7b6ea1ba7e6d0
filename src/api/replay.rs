//! Replay protection for signed API requests: a request's timestamp must be within the
//! allowed skew of now, and its nonce must not have been seen within that window.
//!
//! A pure, bounded structure: the caller passes the clock and owns the lock. Must not do IO.

use std::collections::{BTreeSet, HashMap};

/// How far a request's timestamp may be from the server's clock (Alibaba Cloud: 15 minutes).
pub const SKEW_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("timestamp `{0}` is not an ISO 8601 UTC time such as 2026-11-23T12:00:00Z")]
    BadTimestamp(String),
    #[error("timestamp `{0}` is more than 15 minutes away from the server's time")]
    Expired(String),
    #[error("nonce `{0}` was already used")]
    NonceUsed(String),
    #[error("too many requests in the replay window; retry shortly")]
    Full,
}

/// Nonces that could still be replayed (their timestamp is still acceptable), at most
/// `capacity` of them.
#[derive(Debug)]
pub struct NonceWindow {
    capacity: usize,
    /// nonce -> the server time after which its request is stale anyway
    seen: HashMap<String, i64>,
    by_expiry: BTreeSet<(i64, String)>,
}

/// Parses `2026-11-23T12:00:00Z` (the form Alibaba's SDKs send) into Unix seconds.
pub fn parse_timestamp(text: &str) -> Result<i64, ReplayError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| ReplayError::BadTimestamp(text.to_owned()))
}

impl NonceWindow {
    pub fn new(capacity: usize) -> Self {
        NonceWindow {
            capacity: capacity.max(1),
            seen: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    /// Accepts a request made at `timestamp` with `nonce` when the server's time is `now`
    /// (Unix seconds), remembering the nonce; refuses stale times and reused nonces.
    pub fn check(&mut self, now: i64, timestamp: &str, nonce: &str) -> Result<(), ReplayError> {
        let at = parse_timestamp(timestamp)?;
        if (at - now).abs() > SKEW_SECONDS {
            return Err(ReplayError::Expired(timestamp.to_owned()));
        }
        // A nonce can only be replayed while its timestamp is acceptable: forget older ones.
        while let Some((expiry, _)) = self.by_expiry.first() {
            if *expiry >= now {
                break;
            }
            if let Some((_, n)) = self.by_expiry.pop_first() {
                self.seen.remove(&n);
            }
        }
        if self.seen.contains_key(nonce) {
            return Err(ReplayError::NonceUsed(nonce.to_owned()));
        }
        if self.seen.len() >= self.capacity {
            return Err(ReplayError::Full);
        }
        let expiry = at + SKEW_SECONDS;
        self.seen.insert(nonce.to_owned(), expiry);
        self.by_expiry.insert((expiry, nonce.to_owned()));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2026-11-23T12:00:00Z";

    #[test]
    fn window() {
        let now = parse_timestamp(T0).unwrap();
        let mut w = NonceWindow::new(3);
        // (now offset, timestamp, nonce, expected)
        let cases: Vec<(i64, &str, &str, Result<(), ReplayError>)> = vec![
            (0, T0, "a", Ok(())),
            (0, T0, "a", Err(ReplayError::NonceUsed("a".into()))),
            (SKEW_SECONDS, T0, "b", Ok(())),
            (
                SKEW_SECONDS + 1,
                T0,
                "c",
                Err(ReplayError::Expired(T0.into())),
            ),
            (-SKEW_SECONDS, T0, "d", Ok(())),
            (
                0,
                "yesterday",
                "e",
                Err(ReplayError::BadTimestamp("yesterday".into())),
            ),
            (0, T0, "f", Err(ReplayError::Full)),
            // Long after: old nonces are forgotten, so there is room again, and `a` is new.
            (3 * SKEW_SECONDS, "2026-11-23T12:45:00Z", "a", Ok(())),
        ];
        for (i, (offset, ts, nonce, want)) in cases.into_iter().enumerate() {
            assert_eq!(w.check(now + offset, ts, nonce), want, "case {i}");
        }
        assert_eq!(w.len(), 1);
    }
}

//! Replay protection for signed API requests: a request's timestamp must be within the
//! allowed skew of now, its nonce must not be empty nor seen within that window for the same
//! AccessKey, and after a restart over an existing store nothing signed before the start is
//! accepted (the earlier process may have served it, and its nonces are gone), nor, per key,
//! anything signed up to the latest future timestamp the earlier process accepted from it.
//!
//! A pure, bounded structure: the caller passes the clock and owns the lock. Must not do IO,
//! and must only be told about requests whose signature verified (so a caller can only spend
//! its own key's nonces).

use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// How far a request's timestamp may be from the server's clock (Alibaba Cloud: 15 minutes).
pub const SKEW_SECONDS: i64 = 15 * 60;
/// Most AccessKeys with remembered nonces at once. The store holds at most 2,000 active keys
/// (1,000 administrators with 2 each); the rest is room for keys deleted within the window.
pub const NONCE_KEYS_MAX: usize = 4_096;
/// Most users whose temporary credentials have remembered nonces at once (their nonces are
/// kept per user, not per credential, so minting credentials adds no window).
pub const TEMPORARY_NONCE_USERS_MAX: usize = 65_536;
/// How often, in seconds, windows of keys that stopped calling are emptied and dropped.
const SWEEP_SECONDS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("timestamp `{0}` is not an ISO 8601 UTC time such as 2026-11-23T12:00:00Z")]
    BadTimestamp(String),
    #[error("timestamp `{0}` is more than 15 minutes away from the server's time")]
    Expired(String),
    #[error("timestamp `{0}` was signed before the server started; sign the request again")]
    BeforeStart(String),
    #[error("the signature nonce is empty; send a new unique nonce with every request")]
    EmptyNonce,
    #[error("nonce `{0}` was already used")]
    NonceUsed(String),
    #[error("this AccessKey signed more than {0} requests in 15 minutes; retry shortly")]
    Full(usize),
    #[error("too many AccessKeys are calling at once; retry shortly")]
    TooManyKeys,
}

/// When the API started, and whether the store was new then. Over an existing store, a
/// request signed at or before `unix` may have been served by the previous process, and so
/// may one of key `k` signed at or before `ahead[k]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Start {
    /// The server's start, in Unix seconds.
    pub unix: i64,
    /// The data folder had no database before this start (no earlier process served it).
    pub store_was_new: bool,
    /// Per AccessKey, the latest timestamp ahead of the server's clock that an earlier
    /// process accepted (it persisted them, so they survive a crash).
    pub ahead: HashMap<String, i64>,
}

impl Start {
    /// The latest timestamp of `access_key_id` an earlier process may have served.
    fn served_until(&self, access_key_id: &str) -> Option<i64> {
        if self.store_was_new {
            return None;
        }
        let ahead = self.ahead.get(access_key_id).copied().unwrap_or(i64::MIN);
        Some(self.unix.max(ahead))
    }
}

/// Parses `2026-11-23T12:00:00Z` (the form Alibaba's SDKs send) into Unix seconds.
pub fn parse_timestamp(text: &str) -> Result<i64, ReplayError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| ReplayError::BadTimestamp(text.to_owned()))
}

/// A nonce as remembered: 128 bits of its SHA-256, so a long nonce costs no more memory.
fn digest(nonce: &str) -> u128 {
    let d = Sha256::digest(nonce.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(d.get(..16).unwrap_or(&[0; 16]));
    u128::from_be_bytes(first)
}

/// The nonces of every AccessKey, at most `per_key_max` per key and `keys_max` keys, so one
/// key filling its window throttles only itself.
///
/// Memory: a nonce costs about 80 bytes whatever its length (a 128-bit digest and its expiry,
/// twice indexed), so a key at its bound holds about 8 MB at the default 100,000; only keys
/// that signed validly within the last 15 minutes have a window (emptied ones are dropped at
/// the next sweep), and there are at most `keys_max` of them.
#[derive(Debug)]
pub struct NonceMemory {
    per_key_max: usize,
    keys_max: usize,
    start: Start,
    windows: HashMap<String, NonceWindow>,
    swept_at: i64,
}

impl NonceMemory {
    pub fn new(per_key_max: usize, keys_max: usize, start: Start) -> NonceMemory {
        NonceMemory {
            per_key_max: per_key_max.max(1),
            keys_max: keys_max.max(1),
            swept_at: start.unix,
            start,
            windows: HashMap::new(),
        }
    }

    /// Accepts a request of `access_key_id` made at `timestamp` with `nonce` when the server's
    /// time is `now` (Unix seconds), remembering the nonce; refuses empty nonces, stale times,
    /// times before a restart, and reused nonces.
    pub fn check(
        &mut self,
        now: i64,
        access_key_id: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<(), ReplayError> {
        if nonce.trim().is_empty() {
            return Err(ReplayError::EmptyNonce);
        }
        let at = parse_timestamp(timestamp)?;
        if (at - now).abs() > SKEW_SECONDS {
            return Err(ReplayError::Expired(timestamp.to_owned()));
        }
        if self
            .start
            .served_until(access_key_id)
            .is_some_and(|s| at <= s)
        {
            return Err(ReplayError::BeforeStart(timestamp.to_owned()));
        }
        self.sweep(now);
        if !self.windows.contains_key(access_key_id) && self.windows.len() >= self.keys_max {
            return Err(ReplayError::TooManyKeys);
        }
        let per_key_max = self.per_key_max;
        self.windows
            .entry(access_key_id.to_owned())
            .or_insert_with(|| NonceWindow::new(per_key_max))
            .check(now, at, nonce)
    }

    /// At most once a `SWEEP_SECONDS`: forgets expired nonces of every key and drops empty
    /// windows.
    fn sweep(&mut self, now: i64) {
        if now - self.swept_at < SWEEP_SECONDS {
            return;
        }
        self.swept_at = now;
        self.windows.retain(|_, w| {
            w.forget_expired(now);
            !w.is_empty()
        });
    }

    /// AccessKeys with remembered nonces.
    pub fn keys(&self) -> usize {
        self.windows.len()
    }
}

/// One key's nonces that could still be replayed (their timestamp is still acceptable), at
/// most `capacity` of them.
#[derive(Debug)]
pub struct NonceWindow {
    capacity: usize,
    /// nonce digest -> the server time after which its request is stale anyway
    seen: HashMap<u128, i64>,
    by_expiry: BTreeSet<(i64, u128)>,
}

impl NonceWindow {
    pub fn new(capacity: usize) -> Self {
        NonceWindow {
            capacity: capacity.max(1),
            seen: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    /// Remembers `nonce` of a request made at `at` (its timestamp already checked) when the
    /// server's time is `now`; refuses a nonce seen before and a full window.
    fn check(&mut self, now: i64, at: i64, nonce: &str) -> Result<(), ReplayError> {
        self.forget_expired(now);
        let key = digest(nonce);
        if self.seen.contains_key(&key) {
            return Err(ReplayError::NonceUsed(nonce.to_owned()));
        }
        if self.seen.len() >= self.capacity {
            return Err(ReplayError::Full(self.capacity));
        }
        let expiry = at + SKEW_SECONDS;
        self.seen.insert(key, expiry);
        self.by_expiry.insert((expiry, key));
        Ok(())
    }

    /// A nonce can only be replayed while its timestamp is acceptable: forgets older ones.
    fn forget_expired(&mut self, now: i64) {
        while let Some((expiry, _)) = self.by_expiry.first() {
            if *expiry >= now {
                break;
            }
            if let Some((_, n)) = self.by_expiry.pop_first() {
                self.seen.remove(&n);
            }
        }
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

    fn fresh(now: i64) -> Start {
        Start {
            unix: now - 10 * SKEW_SECONDS,
            store_was_new: true,
            ahead: HashMap::new(),
        }
    }

    #[test]
    fn window() {
        let now = parse_timestamp(T0).unwrap();
        let mut m = NonceMemory::new(3, 10, fresh(now));
        // (now offset, key, timestamp, nonce, expected)
        type Case<'a> = (i64, &'a str, &'a str, &'a str, Result<(), ReplayError>);
        let cases: Vec<Case> = vec![
            (0, "k1", T0, "a", Ok(())),
            (0, "k1", T0, "a", Err(ReplayError::NonceUsed("a".into()))),
            // Another key's nonces are its own.
            (0, "k2", T0, "a", Ok(())),
            (SKEW_SECONDS, "k1", T0, "b", Ok(())),
            (
                SKEW_SECONDS + 1,
                "k1",
                T0,
                "c",
                Err(ReplayError::Expired(T0.into())),
            ),
            (-SKEW_SECONDS, "k1", T0, "d", Ok(())),
            (
                0,
                "k1",
                "yesterday",
                "e",
                Err(ReplayError::BadTimestamp("yesterday".into())),
            ),
            (0, "k1", T0, "", Err(ReplayError::EmptyNonce)),
            (0, "k1", T0, "  ", Err(ReplayError::EmptyNonce)),
            // k1 holds 3: it is throttled, k2 is not.
            (0, "k1", T0, "f", Err(ReplayError::Full(3))),
            (0, "k2", T0, "f", Ok(())),
            // Long after: old nonces are forgotten, so there is room again, and `a` is new.
            (3 * SKEW_SECONDS, "k1", "2026-11-23T12:45:00Z", "a", Ok(())),
        ];
        for (i, (offset, key, ts, nonce, want)) in cases.into_iter().enumerate() {
            assert_eq!(m.check(now + offset, key, ts, nonce), want, "case {i}");
        }
        // The sweep at the last call dropped k2's expired window.
        assert_eq!(m.keys(), 1);
    }

    #[test]
    fn keys_are_bounded() {
        let now = parse_timestamp(T0).unwrap();
        let mut m = NonceMemory::new(10, 2, fresh(now));
        assert_eq!(m.check(now, "k1", T0, "a"), Ok(()));
        assert_eq!(m.check(now, "k2", T0, "a"), Ok(()));
        assert_eq!(m.check(now, "k3", T0, "a"), Err(ReplayError::TooManyKeys));
        assert_eq!(m.check(now, "k1", T0, "b"), Ok(()));
    }

    #[test]
    fn restart_over_an_existing_store_refuses_what_was_signed_before_it() {
        let now = parse_timestamp(T0).unwrap();
        let at = |s: i64| {
            (time::OffsetDateTime::from_unix_timestamp(now + s).unwrap())
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        // (store was new, key, timestamp offset from the start, expected); key `fast` had a
        // request signed 60 s ahead served before the start.
        let cases = [
            (false, "k", -60, Err(ReplayError::BeforeStart(at(-60)))),
            (false, "k", 0, Err(ReplayError::BeforeStart(at(0)))),
            (false, "k", 1, Ok(())),
            (false, "fast", 1, Err(ReplayError::BeforeStart(at(1)))),
            (false, "fast", 60, Err(ReplayError::BeforeStart(at(60)))),
            (false, "fast", 61, Ok(())),
            (true, "k", -60, Ok(())),
            (true, "k", 0, Ok(())),
        ];
        for (i, (store_was_new, key, offset, want)) in cases.into_iter().enumerate() {
            let start = Start {
                unix: now,
                store_was_new,
                ahead: HashMap::from([("fast".to_owned(), now + 60)]),
            };
            let mut m = NonceMemory::new(10, 10, start);
            assert_eq!(m.check(now + 2, key, &at(offset), "n"), want, "case {i}");
        }
    }
}

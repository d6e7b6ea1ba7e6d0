//! Fixed-window attempt counters by key (a source address, a user name): at most `max`
//! attempts a minute per key. Memory is bounded: past `RATE_LIMIT_KEYS_MAX` keys the counters
//! of past windows are dropped, and if every key is current, new keys are refused (a flood of
//! distinct keys cannot grow memory or open the door).

use std::collections::HashMap;
use std::sync::Mutex;

/// Most keys one limiter tracks.
pub const RATE_LIMIT_KEYS_MAX: usize = 100_000;
/// The window, in seconds.
pub const RATE_WINDOW_SECONDS: i64 = 60;

pub struct Limiter {
    max: u32,
    keys_max: usize,
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

impl Limiter {
    pub fn new(max: u32, keys_max: usize) -> Limiter {
        Limiter {
            max,
            keys_max,
            counts: Mutex::default(),
        }
    }

    /// Counts an attempt for `key` at `now` (Unix seconds): `Ok` if allowed, or the seconds
    /// until the next window. A limit of 0 allows everything.
    pub fn attempt(&self, key: &str, now: i64) -> Result<(), i64> {
        if self.max == 0 {
            return Ok(());
        }
        let window = now.div_euclid(RATE_WINDOW_SECONDS);
        let retry = RATE_WINDOW_SECONDS - now.rem_euclid(RATE_WINDOW_SECONDS);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if !counts.contains_key(key) && counts.len() >= self.keys_max {
            counts.retain(|_, (w, _)| *w == window);
            if counts.len() >= self.keys_max {
                return Err(retry);
            }
        }
        let entry = counts.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.max {
            return Err(retry);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_a_window_then_refuses_until_the_next() {
        let l = Limiter::new(3, 10);
        let t = 6_000; // the start of a window
        for _ in 0..3 {
            assert_eq!(l.attempt("a", t), Ok(()));
        }
        assert_eq!(l.attempt("a", t + 10), Err(50));
        assert_eq!(
            l.attempt("b", t + 10),
            Ok(()),
            "other keys are counted apart"
        );
        assert_eq!(l.attempt("a", t + 60), Ok(()), "a new window");
    }

    #[test]
    fn zero_means_unlimited() {
        let l = Limiter::new(0, 1);
        for i in 0..100 {
            assert_eq!(l.attempt(&i.to_string(), 0), Ok(()));
        }
    }

    #[test]
    fn memory_is_bounded_by_keys_max() {
        let l = Limiter::new(5, 2);
        assert_eq!(l.attempt("a", 0), Ok(()));
        assert_eq!(l.attempt("b", 0), Ok(()));
        assert!(l.attempt("c", 0).is_err(), "every key is current: refused");
        assert_eq!(
            l.attempt("c", 60),
            Ok(()),
            "old windows are dropped for new keys"
        );
        assert!(l.counts.lock().unwrap().len() <= 2);
    }
}

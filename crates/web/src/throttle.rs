//! A per-client throttle for failed logins (ログイン試行の制限): after `max` failures
//! from one address within `window`, that address gets 429 until the window has passed,
//! whichever account it tries. It sits beside the per-account lock, which alone would let
//! one client try one password against every account. Kept in memory: each instance
//! counts its own clients, and a restart forgets them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins per client address.
#[derive(Debug)]
pub struct LoginThrottle {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// More addresses than this are pruned of expired entries (so the map stays small).
const PRUNE_ABOVE: usize = 10_000;

impl LoginThrottle {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `ip` has used up its failures for now.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> bool {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).is_some_and(|(count, since)| {
            *count >= self.max && now.duration_since(*since) < self.window
        })
    }

    /// Counts a failure from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_ABOVE {
            let window = self.window;
            map.retain(|_, (_, since)| now.duration_since(*since) < window);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

impl Default for LoginThrottle {
    /// 20 failures per address in 10 minutes.
    fn default() -> Self {
        Self::new(20, Duration::from_secs(600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_max_failures_until_the_window_passes() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..2 {
            t.failed(a, start);
        }
        assert!(!t.blocked(a, start), "two of three");
        t.failed(a, start);
        assert!(t.blocked(a, start), "the third blocks");
        assert!(!t.blocked(b, start), "another address is not");
        let later = start + Duration::from_secs(61);
        assert!(!t.blocked(a, later), "the window passed");
        t.failed(a, later);
        assert!(!t.blocked(a, later), "counting starts again");
    }
}

//! Per-account request rate (`--rate-limit-per-account`): a token bucket per
//! account, refilled at `rate` tokens per second and holding at most one
//! second's worth (`rate` tokens, at least 1). A call finding the bucket
//! empty is answered `Throttling.User` (400) at once, so an account that
//! sends more than its rate gets fast refusals instead of making every
//! caller wait.
//!
//! The buckets live in this process: N replicas behind a balancer admit up
//! to N × rate per account together (docs/api-decisions.md, "Overload and
//! concurrency").

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Buckets kept before idle (full) ones are forgotten.
const PRUNE_ABOVE: usize = 10_000;

pub struct RateLimiter {
    /// Tokens added per second.
    rate: f64,
    /// Most tokens a bucket holds.
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32) -> Option<RateLimiter> {
        (per_second > 0).then(|| RateLimiter {
            rate: f64::from(per_second),
            burst: f64::from(per_second).max(1.0),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one token from `account`'s bucket; `false` when it is empty.
    pub fn admit(&self, account: &str, now: Instant) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock must not turn into an outage: admit.
            return true;
        };
        if buckets.len() > PRUNE_ABOVE {
            let full_after = Duration::from_secs_f64(self.burst / self.rate);
            buckets.retain(|_, b| now.saturating_duration_since(b.at) < full_after);
        }
        let bucket = match buckets.get_mut(account) {
            Some(b) => b,
            None => buckets.entry(account.to_owned()).or_insert(Bucket {
                tokens: self.burst,
                at: now,
            }),
        };
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_no_limit() {
        assert!(RateLimiter::new(0).is_none());
    }

    #[test]
    fn a_burst_of_one_second_then_the_rate() {
        let l = RateLimiter::new(10).unwrap();
        let t0 = Instant::now();
        let admitted = (0..25).filter(|_| l.admit("a", t0)).count();
        assert_eq!(admitted, 10, "one second's worth at once");
        // Another account has its own bucket.
        assert!(l.admit("b", t0));
        // 0.35 s later: 3 more tokens.
        let t1 = t0 + Duration::from_millis(350);
        let admitted = (0..10).filter(|_| l.admit("a", t1)).count();
        assert_eq!(admitted, 3);
        // Long idle: the bucket is full again, never more.
        let t2 = t1 + Duration::from_secs(60);
        let admitted = (0..100).filter(|_| l.admit("a", t2)).count();
        assert_eq!(admitted, 10);
    }

    #[test]
    fn the_rate_holds_over_time() {
        let l = RateLimiter::new(100).unwrap();
        let t0 = Instant::now();
        let mut admitted = 0;
        // 1000 calls per second for 5 s: 100 burst + 100/s.
        for i in 0..5000u64 {
            if l.admit("a", t0 + Duration::from_millis(i)) {
                admitted += 1;
            }
        }
        assert!((595..=601).contains(&admitted), "{admitted}");
    }

    #[test]
    fn idle_buckets_are_forgotten() {
        let l = RateLimiter::new(1000).unwrap();
        let t0 = Instant::now();
        for i in 0..=PRUNE_ABOVE {
            l.admit(&format!("acct{i}"), t0);
        }
        l.admit("late", t0 + Duration::from_secs(5));
        assert!(l.buckets.lock().unwrap().len() < 10);
    }
}

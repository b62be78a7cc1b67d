//! Per-key token buckets (quickstart: "Each API key has a tier with a token-bucket
//! limit"), on the simulator's clock so that tests refill them with `advance`.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// A token-bucket limit per API key: `per_second` tokens are added each second, up to
/// `burst`; every request takes one, and a request that finds none answers 429
/// `errors/too_many_requests` with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    per_second: f64,
    burst: u32,
}

impl RateLimit {
    /// `per_second` tokens a second (at least 0.001), up to `burst` (at least 1).
    pub fn new(per_second: f64, burst: u32) -> RateLimit {
        RateLimit { per_second, burst }
    }

    /// Tokens added per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// The bucket's size.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.per_second.is_finite() || !(0.001..=1e9).contains(&self.per_second) {
            return Err("the rate limit must be between 0.001 and 1e9 requests a second".to_owned());
        }
        if self.burst == 0 {
            return Err("the rate limit's burst must be at least 1".to_owned());
        }
        Ok(())
    }
}

/// One token, in the buckets' units (fractions of a token refill exactly).
const UNIT: u64 = 1_000_000;

/// Past this many buckets, full ones (the same as new ones) are dropped.
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    units: u64,
    at_ms: u64,
}

/// The buckets of every key seen, keyed by a hash of the key (never the key itself).
pub(crate) struct Buckets {
    units_per_ms: u64,
    capacity: u64,
    hasher: RandomState,
    buckets: HashMap<u64, Bucket>,
}

impl Buckets {
    pub(crate) fn new(limit: RateLimit) -> Buckets {
        // per_second × UNIT / 1000 units per ms; at least 1 (0.001 requests a second).
        let per_ms = (limit.per_second * (UNIT as f64) / 1000.0).round();
        let units_per_ms = if per_ms >= 1.0 { per_ms as u64 } else { 1 };
        Buckets {
            units_per_ms,
            capacity: u64::from(limit.burst).saturating_mul(UNIT),
            hasher: RandomState::new(),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for `key` at `now_ms`; `Err(seconds)` to wait for the next one.
    pub(crate) fn take(&mut self, key: &[u8], now_ms: u64) -> Result<(), u32> {
        let id = self.hasher.hash_one(key);
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(&id) {
            let (capacity, per_ms) = (self.capacity, self.units_per_ms);
            self.buckets.retain(|_, b| {
                let refilled = now_ms.saturating_sub(b.at_ms).saturating_mul(per_ms);
                b.units.saturating_add(refilled) < capacity
            });
        }
        let bucket = self.buckets.entry(id).or_insert(Bucket {
            units: self.capacity,
            at_ms: now_ms,
        });
        let elapsed = now_ms.saturating_sub(bucket.at_ms);
        bucket.units = bucket
            .units
            .saturating_add(elapsed.saturating_mul(self.units_per_ms))
            .min(self.capacity);
        bucket.at_ms = bucket.at_ms.max(now_ms);
        if bucket.units >= UNIT {
            bucket.units -= UNIT;
            return Ok(());
        }
        let wait_ms = (UNIT - bucket.units).div_ceil(self.units_per_ms);
        Err(u32::try_from(wait_ms.div_ceil(1000)).unwrap_or(u32::MAX).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_then_one_token_per_period() {
        let mut buckets = Buckets::new(RateLimit::new(2.0, 3));
        for _ in 0..3 {
            assert_eq!(buckets.take(b"k", 0), Ok(()));
        }
        assert_eq!(buckets.take(b"k", 0), Err(1));
        // Another key has its own bucket.
        assert_eq!(buckets.take(b"other", 0), Ok(()));
        assert_eq!(buckets.take(b"k", 499), Err(1));
        assert_eq!(buckets.take(b"k", 500), Ok(()));
        assert_eq!(buckets.take(b"k", 500), Err(1));
        // Never more than the burst, however long the wait.
        for _ in 0..3 {
            assert_eq!(buckets.take(b"k", 1_000_000), Ok(()));
        }
        assert_eq!(buckets.take(b"k", 1_000_000), Err(1));
    }

    #[test]
    fn retry_after_counts_whole_seconds_up() {
        let mut slow = Buckets::new(RateLimit::new(0.1, 1));
        assert_eq!(slow.take(b"k", 0), Ok(()));
        assert_eq!(slow.take(b"k", 0), Err(10));
        assert_eq!(slow.take(b"k", 2_500), Err(8));
        assert_eq!(slow.take(b"k", 10_000), Ok(()));
    }

    #[test]
    fn limits_out_of_range_are_refused() {
        assert!(RateLimit::new(0.0, 1).check().is_err());
        assert!(RateLimit::new(f64::NAN, 1).check().is_err());
        assert!(RateLimit::new(1.0, 0).check().is_err());
        assert!(RateLimit::new(0.001, 1).check().is_ok());
    }

    #[test]
    fn the_number_of_buckets_is_bounded() {
        let mut buckets = Buckets::new(RateLimit::new(1000.0, 1));
        for i in 0..(MAX_BUCKETS as u64 * 2) {
            let _ = buckets.take(&i.to_le_bytes(), i);
        }
        assert!(buckets.buckets.len() <= MAX_BUCKETS);
    }
}

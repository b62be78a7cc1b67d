//! Per-key token buckets (quickstart: "Each API key has a tier with a token-bucket
//! limit"), on the simulator's clock so that tests refill them with `advance`.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{HashMap, VecDeque};
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

/// At most this many buckets are kept; a new key past it makes room (see
/// [`Buckets::make_room`]).
const MAX_BUCKETS: usize = 10_000;

/// Making room brings the buckets down to this many at most, so that the scan it costs is
/// paid once per a quarter of [`MAX_BUCKETS`] new keys, not once per key.
const AFTER_MAKING_ROOM: usize = MAX_BUCKETS - MAX_BUCKETS / 4;

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
    /// The keys of `buckets`, oldest first.
    order: VecDeque<u64>,
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
            order: VecDeque::new(),
        }
    }

    /// Takes a token for `key` at `now_ms`; `Err(seconds)` to wait for the next one.
    pub(crate) fn take(&mut self, key: &[u8], now_ms: u64) -> Result<(), u32> {
        let id = self.hasher.hash_one(key);
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(&id) {
            self.make_room(now_ms);
        }
        let bucket = match self.buckets.entry(id) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(new) => {
                self.order.push_back(id);
                new.insert(Bucket {
                    units: self.capacity,
                    at_ms: now_ms,
                })
            }
        };
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

    /// Drops the full buckets (a full bucket is the same as a new one); if that leaves more
    /// than [`AFTER_MAKING_ROOM`], drops the oldest ones too. A key whose bucket was
    /// dropped that way gets a full bucket when it comes back: a stranger's limit is reset
    /// early, which a simulator can afford (with a manual clock no bucket refills, so
    /// without this the map would only grow).
    fn make_room(&mut self, now_ms: u64) {
        let (capacity, per_ms) = (self.capacity, self.units_per_ms);
        self.buckets.retain(|_, b| {
            let refilled = now_ms.saturating_sub(b.at_ms).saturating_mul(per_ms);
            b.units.saturating_add(refilled) < capacity
        });
        let kept = &self.buckets;
        self.order.retain(|id| kept.contains_key(id));
        while self.buckets.len() > AFTER_MAKING_ROOM {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            self.buckets.remove(&oldest);
        }
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
    fn the_number_of_buckets_is_bounded_even_when_none_refills() {
        // A frozen (manual) clock: no bucket is full again after its first request.
        let mut buckets = Buckets::new(RateLimit::new(1.0, 5));
        for i in 0..(MAX_BUCKETS as u64 * 5) {
            let _ = buckets.take(&i.to_le_bytes(), 0);
        }
        assert!(buckets.buckets.len() <= MAX_BUCKETS, "{}", buckets.buckets.len());
        assert_eq!(buckets.order.len(), buckets.buckets.len());
    }

    #[test]
    fn making_room_drops_full_buckets_before_the_oldest() {
        let mut buckets = Buckets::new(RateLimit::new(1.0, 5));
        // The oldest key empties its bucket; the others take one token each.
        for _ in 0..5 {
            assert_eq!(buckets.take(b"busy", 0), Ok(()));
        }
        for i in 1..MAX_BUCKETS as u64 {
            assert_eq!(buckets.take(&i.to_le_bytes(), 0), Ok(()));
        }
        // A second later the others are full again and "busy" holds one token.
        assert_eq!(buckets.take(b"new", 1_000), Ok(()));
        assert_eq!(buckets.buckets.len(), 2);
        assert_eq!(buckets.take(b"busy", 1_000), Ok(()));
        assert_eq!(buckets.take(b"busy", 1_000), Err(1));
    }

    #[test]
    fn without_full_buckets_making_room_drops_the_oldest() {
        let mut buckets = Buckets::new(RateLimit::new(1.0, 5));
        for i in 0..MAX_BUCKETS as u64 {
            assert_eq!(buckets.take(&i.to_le_bytes(), 0), Ok(()));
        }
        let newest = (MAX_BUCKETS as u64 - 1).to_le_bytes();
        assert_eq!(buckets.take(b"new", 0), Ok(()));
        assert_eq!(buckets.buckets.len(), AFTER_MAKING_ROOM + 1);
        // The newest keys kept their buckets (four tokens left); the oldest start full.
        for _ in 0..4 {
            assert_eq!(buckets.take(&newest, 0), Ok(()));
        }
        assert_eq!(buckets.take(&newest, 0), Err(1));
        for _ in 0..5 {
            assert_eq!(buckets.take(&0u64.to_le_bytes(), 0), Ok(()));
        }
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

//! Request ids: unique per request, shaped like a UUID v4 (as the quickstart's
//! `"request_id": "0e1f3a8a-…"`), in the error body (`instance` or `request_id`) and in
//! the `x-request-id` header of every answer.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// One request's id: 122 random-looking bits in the UUID v4 layout (two halves, so that it
/// packs in 16 bytes without the 16-byte alignment of a `u128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RequestId {
    hi: u64,
    lo: u64,
}

/// The text of a [`RequestId`], `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, without allocating.
#[derive(Clone, Copy)]
pub(crate) struct RequestIdText([u8; 36]);

impl RequestIdText {
    pub(crate) fn as_str(&self) -> &str {
        // Every byte is an ASCII hex digit or a hyphen.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl RequestId {
    pub(crate) fn text(self) -> RequestIdText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'-'; 36];
        let mut nibble = 32;
        for (i, slot) in out.iter_mut().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                continue;
            }
            nibble -= 1;
            let value = (u128::from(self.hi) << 64) | u128::from(self.lo);
            let digit = (value >> (4 * nibble)) & 0xf;
            *slot = HEX
                .get(usize::try_from(digit).unwrap_or(0))
                .copied()
                .unwrap_or(b'0');
        }
        RequestIdText(out)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

/// Hands out request ids: a counter through a bijective mixer keyed per simulator, so ids
/// never repeat within one simulator and differ between simulators.
pub(crate) struct RequestIds {
    counter: AtomicU64,
    key_hi: u64,
    key_lo: u64,
}

impl RequestIds {
    pub(crate) fn new() -> RequestIds {
        let seed = RandomState::new();
        let mut a = seed.build_hasher();
        a.write_u64(0x5eed);
        let mut b = RandomState::new().build_hasher();
        b.write_u64(a.finish());
        RequestIds {
            counter: AtomicU64::new(0),
            key_hi: a.finish(),
            key_lo: b.finish(),
        }
    }

    pub(crate) fn next_id(&self) -> RequestId {
        let n = self.counter.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        // `mix` is a bijection, so distinct counters give distinct `unique` values; all 64
        // of its bits are kept, around the 6 fixed bits of the UUID v4 layout (version 4 in
        // bits 76..80, variant 0b10 in bits 62..64). `filler` fills the rest.
        let unique = u128::from(mix(n ^ self.key_hi));
        let filler = u128::from(mix(n.rotate_left(29) ^ self.key_lo));
        let value = (unique & ((1 << 62) - 1))
            | (0b10 << 62)
            | ((unique >> 62) << 64)
            | ((filler & 0x3ff) << 66)
            | (0x4 << 76)
            | (((filler >> 10) & ((1 << 48) - 1)) << 80);
        RequestId {
            hi: u64::try_from(value >> 64).unwrap_or(0),
            lo: u64::try_from(value & u128::from(u64::MAX)).unwrap_or(0),
        }
    }
}

/// The splitmix64 finalizer: a bijection on u64 with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_shaped_like_uuid_v4() {
        let ids = RequestIds::new();
        let mut seen = HashSet::new();
        for _ in 0..50_000 {
            let id = ids.next_id();
            let text = id.to_string();
            assert_eq!(text.len(), 36);
            assert_eq!(&text[14..15], "4", "{text}");
            assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
            assert_eq!(
                text.split('-').map(str::len).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12]
            );
            assert!(seen.insert(text));
        }
        assert_ne!(RequestIds::new().next_id(), RequestIds::new().next_id());
    }
}

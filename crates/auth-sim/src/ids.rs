//! Account ids: unique, opaque, URL-safe strings of 22 characters.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 64] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/// The length of every account id the simulator hands out.
pub(crate) const ID_LEN: usize = 22;

/// An account id, stored inline (22 bytes) so that a pending intent costs no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AccountId([u8; ID_LEN]);

impl AccountId {
    /// Reads an id the simulator could have handed out; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<AccountId> {
        let bytes: [u8; ID_LEN] = text.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| ALPHABET.contains(b))
            .then_some(AccountId(bytes))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Every byte comes from ALPHABET, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.as_str())
    }
}

/// Hands out ids: a counter run through a bijective mixer (so ids never repeat within one
/// simulator) keyed by per-simulator random seeds (so ids differ between simulators and
/// do not look sequential).
pub(crate) struct IdGenerator {
    counter: u64,
    key_hi: u64,
    key_lo: u64,
}

impl IdGenerator {
    pub(crate) fn new() -> IdGenerator {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut a = RandomState::new().build_hasher();
        a.write_u128(nanos);
        let mut b = RandomState::new().build_hasher();
        b.write_u64(a.finish());
        IdGenerator {
            counter: 0,
            key_hi: a.finish(),
            key_lo: b.finish(),
        }
    }

    pub(crate) fn next_id(&mut self) -> AccountId {
        self.counter = self.counter.wrapping_add(1);
        // `mix` is a bijection of u64, so distinct counters give distinct `hi` halves.
        let hi = mix(self.counter ^ self.key_hi);
        let lo = mix(self.counter.rotate_left(32) ^ self.key_lo);
        let value = (u128::from(hi) << 64) | u128::from(lo);
        let mut out = [0u8; ID_LEN];
        for (i, slot) in out.iter_mut().enumerate() {
            // 22 six-bit digits cover 132 bits; the top 4 are zero.
            let shift = 6 * (ID_LEN - 1 - i);
            let digit = if shift < 128 { (value >> shift) & 63 } else { 0 };
            *slot = ALPHABET
                .get(usize::try_from(digit).unwrap_or(0))
                .copied()
                .unwrap_or(b'0');
        }
        AccountId(out)
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_opaque_and_parse_back() {
        let mut ids = IdGenerator::new();
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let id = ids.next_id();
            assert_eq!(id.as_str().len(), ID_LEN);
            assert_eq!(AccountId::parse(id.as_str()), Some(id));
            assert!(seen.insert(id), "duplicate id {id}");
        }
        assert_eq!(AccountId::parse("short"), None);
        assert_eq!(
            AccountId::parse("0123456789012345678901"),
            AccountId::parse("0123456789012345678901")
        );
        assert_eq!(AccountId::parse("012345678901234567890!"), None);
    }

    #[test]
    fn two_generators_give_different_ids() {
        let a = IdGenerator::new().next_id();
        let b = IdGenerator::new().next_id();
        assert_ne!(a, b);
    }
}

//! The `Idempotency-Key` of a logical request: the same on every retry of it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `Idempotency-Key` header of a POST: one key per logical request, the same key (and
/// the same body) on every retry of it, so that "replays with the same key return the
/// original response" and a retry is safe.
///
/// The core has no randomness of its own: the driver brings the entropy, 16 random bytes
/// per command ([`IdempotencyKey::from_random_bytes`], written as a UUID v4), or a key of
/// its own ([`IdempotencyKey::parse`]). It is not a secret, and it is kept in snapshots so a
/// request whose answer was lost can be sent again with it from another process.
///
/// Stored inline (no allocation) and `Copy`.
///
/// ```
/// use auth_core::IdempotencyKey;
/// let key = IdempotencyKey::from_random_bytes([7; 16]);
/// assert_eq!(key.as_str(), "07070707-0707-4707-8707-070707070707");
/// assert_eq!(IdempotencyKey::parse(key.as_str()), Ok(key));
/// assert!(IdempotencyKey::parse("has space").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    bytes: [u8; IdempotencyKey::MAX_LEN],
    len: u8,
}

#[allow(
    clippy::indexing_slicing,
    reason = "the indexes of a 36-character UUID in a 64-byte array are in bounds by construction"
)]
impl IdempotencyKey {
    /// The longest key accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// A key from 16 random bytes, written as a UUID version 4 (the version and variant bits
    /// are set, so 122 bits of the entropy are kept).
    pub fn from_random_bytes(mut random: [u8; 16]) -> Self {
        /// Where each byte's two hex digits go in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
        const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
        const HEX: &[u8; 16] = b"0123456789abcdef";
        random[6] = (random[6] & 0x0f) | 0x40;
        random[8] = (random[8] & 0x3f) | 0x80;
        let mut bytes = [0u8; Self::MAX_LEN];
        for (byte, at) in random.into_iter().zip(AT) {
            bytes[at] = HEX[usize::from(byte >> 4)];
            bytes[at + 1] = HEX[usize::from(byte & 0x0f)];
        }
        for hyphen in [8, 13, 18, 23] {
            bytes[hyphen] = b'-';
        }
        Self { bytes, len: 36 }
    }

    /// A key of the caller's own: 1 to 64 visible ASCII characters.
    pub fn parse(key: &str) -> Result<Self, InvalidIdempotencyKey> {
        let len = key.len();
        if len == 0 || len > Self::MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidIdempotencyKey);
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        if let Some(prefix) = bytes.get_mut(..len) {
            prefix.copy_from_slice(key.as_bytes());
        }
        Ok(Self {
            bytes,
            len: u8::try_from(len).map_err(|_| InvalidIdempotencyKey)?,
        })
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        // Only visible ASCII is ever stored.
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.as_str())
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IdempotencyKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A key that is empty, longer than [`IdempotencyKey::MAX_LEN`], or not visible ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1 to 64 visible ASCII characters")]
pub struct InvalidIdempotencyKey;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_uuid_v4() {
        let key = IdempotencyKey::from_random_bytes([0xff; 16]);
        assert_eq!(key.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let key = IdempotencyKey::from_random_bytes([0; 16]);
        assert_eq!(key.as_str(), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn parse_bounds_the_length_and_the_characters() {
        assert!(IdempotencyKey::parse(&"k".repeat(64)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(65)).is_err());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("é").is_err());
        assert!(IdempotencyKey::parse("a\nb").is_err());
        let json = serde_json::to_string(&IdempotencyKey::parse("abc").unwrap_or_else(|_| unreachable!()));
        assert_eq!(json.ok().as_deref(), Some(r#""abc""#));
        assert!(serde_json::from_str::<IdempotencyKey>(r#""a b""#).is_err());
    }
}

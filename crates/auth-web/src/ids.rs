//! Unguessable identifiers: the session id bound to a browser by its cookie, the CSRF token,
//! the id of a running instance. (The idempotency keys of the requests the form sends are
//! `auth_reqwest::new_idempotency_key`'s.)

use std::fmt;

use serde::{Deserialize, Serialize};

/// Random bytes from the operating system. `getrandom` fails only where the operating system
/// has no source of randomness at all; the form then refuses to serve rather than hand out
/// guessable ids.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| RandomError)?;
    Ok(bytes)
}

/// The operating system gave no random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system gave no random bytes")]
pub struct RandomError;

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            if let Some(&digit) = HEX.get(usize::from(nibble)) {
                text.push(char::from(digit));
            }
        }
    }
    text
}

/// The id of one connection attempt's record in the [`IntentStore`](crate::IntentStore):
/// 128 random bits from the operating system, written as 32 lowercase hex digits. It is
/// the value of the browser's cookie and the only thing the browser holds.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// The length of an id in hex digits.
    pub const LEN: usize = 32;

    /// A new random id.
    pub fn random() -> Result<Self, RandomError> {
        Ok(Self(hex(&random_bytes::<16>()?)))
    }

    /// An id as a cookie carries it: exactly 32 lowercase hex digits, else `None` (a forged
    /// cookie of any other shape never reaches a store).
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = text.len() == Self::LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SessionId {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| "a session id is 32 lowercase hex digits".to_owned())
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> Self {
        id.0
    }
}

/// Only the first eight digits: enough to follow one session through a log, useless to
/// take it over.
impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}…)", self.0.get(..8).unwrap_or_default())
    }
}

/// A CSRF token: 128 random bits as 32 hex digits, in a cookie and in every form.
pub(crate) fn csrf_token() -> Result<String, RandomError> {
    Ok(hex(&random_bytes::<16>()?))
}

/// The name an instance goes by in the leases it holds: 64 random bits.
pub(crate) fn instance_id() -> Result<String, RandomError> {
    Ok(format!("web-{}", hex(&random_bytes::<8>()?)))
}

/// Compares two tokens in time that depends only on their lengths.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_32_hex_digits_and_differ() {
        let a = SessionId::random().unwrap_or_else(|e| panic!("{e}"));
        let b = SessionId::random().unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert_eq!(SessionId::parse(a.as_str()), Some(a.clone()));
        assert!(!format!("{a:?}").contains(a.as_str()));
    }

    #[test]
    fn forged_ids_of_another_shape_are_refused() {
        for forged in [
            "",
            "abc",
            &"A".repeat(32),
            &"g".repeat(32),
            &"0".repeat(33),
            "../../etc/passwd",
        ] {
            assert_eq!(SessionId::parse(forged), None, "{forged}");
        }
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abcd", "abcd"));
        assert!(!same_token("abcd", "abce"));
        assert!(!same_token("abcd", "abc"));
        assert!(!same_token("", "a"));
    }
}

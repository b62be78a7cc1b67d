//! Secrets: the API key, a password, a checkpoint code.
//!
//! Each is a newtype whose `Debug` prints `<redacted>`, which has neither `Display` nor
//! `Serialize` (so `key.to_string()` or a `{}` in a format string does not compile, and can
//! never quietly send or log the text `<redacted>`, as oauth2-rs's secrets do), and whose
//! bytes are overwritten with zeros when it is dropped. The one way to the value is
//! `expose_secret()`, for the one place that must send it.

use std::fmt;

/// What every secret prints instead of itself.
pub(crate) const REDACTED: &str = "<redacted>";

/// A string that wipes its heap buffer when dropped.
///
/// The wipe is best effort, in safe code: it zeroes the whole allocation (capacity, not
/// only length) and passes it through [`std::hint::black_box`] so the stores are not
/// optimised away. Copies the caller made before handing the string over are not ours to wipe.
#[derive(Clone, Default)]
pub(crate) struct SecretString(String);

impl SecretString {
    pub(crate) fn new(value: String) -> Self {
        Self(value)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        wipe_string(&mut self.0);
    }
}

/// Overwrites a string's whole allocation with zeros, leaving it empty.
pub(crate) fn wipe_string(value: &mut String) {
    wipe_bytes(std::mem::take(value).into_bytes());
}

/// Overwrites a byte buffer's whole allocation with zeros, then frees it.
pub(crate) fn wipe_bytes(mut bytes: Vec<u8>) {
    zero_allocation(&mut bytes);
}

/// Overwrites every byte of the buffer's allocation, its spare capacity included, with
/// zeros; the buffer is left holding `capacity` zeros.
fn zero_allocation(bytes: &mut Vec<u8>) {
    bytes.clear();
    bytes.resize(bytes.capacity(), 0);
    std::hint::black_box(&*bytes);
}

/// Replaces every occurrence of each non-empty secret in `text` with `<redacted>`.
///
/// Used on every text a server sends back (`title`, `detail`, body excerpts), so a server
/// that echoes a password or a code cannot make it reach an error message.
/// A secret is also looked for as it appears inside a JSON string (`"` written `\"`…).
pub(crate) fn scrub(text: &mut String, secrets: &[&str]) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(secret) {
            *text = text.replace(secret, REDACTED);
        }
        let quoted = serde_json::to_string(secret).unwrap_or_default();
        let escaped = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default();
        if !escaped.is_empty() && escaped != *secret && text.contains(escaped) {
            *text = text.replace(escaped, REDACTED);
        }
    }
}

/// The most bytes a secret can take once escaped inside a JSON string (`\u0000` is 6).
pub(crate) const MAX_ESCAPE_GROWTH: usize = 6;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::new(value.into()))
            }

            /// The secret itself, for the one place that must send it.
            pub fn expose_secret(&self) -> &str {
                self.0.expose()
            }

            /// Whether the secret is the empty string.
            pub fn is_empty(&self) -> bool {
                self.0.expose().is_empty()
            }

            /// The wiping string inside, moved out without a copy.
            #[allow(dead_code, reason = "not every secret is moved")]
            pub(crate) fn into_inner(self) -> SecretString {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), REDACTED)
            }
        }

        impl PartialEq for $name {
            /// Compares the secrets themselves (to tell a retry of the same request from a new one).
            fn eq(&self, other: &Self) -> bool {
                self.0.expose() == other.0.expose()
            }
        }

        impl Eq for $name {}

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

secret_type!(
    /// The API key sent as `X-API-KEY` (or `Authorization: Bearer`) with every request.
    ///
    /// ```
    /// use auth_core::ApiKey;
    /// let key = ApiKey::new("pp_live_123");
    /// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
    /// assert_eq!(key.expose_secret(), "pp_live_123");
    /// ```
    ///
    /// It has no `Display`, so it cannot be formatted into a text by mistake:
    ///
    /// ```compile_fail
    /// let key = auth_core::ApiKey::new("pp_live_123");
    /// let header = format!("Bearer {key}");
    /// ```
    ApiKey
);

secret_type!(
    /// The password of the account being connected.
    Password
);

secret_type!(
    /// A code that solves a checkpoint: a 2FA or OTP code, a phone number, a contract id.
    CheckpointCode
);

secret_type!(
    /// The password of the proxy a connect asks the provider to use.
    ProxyPassword
);

impl ApiKey {
    /// Whether this is a postpress sandbox key (`pp_test_…`): its traffic is sandboxed and
    /// connects no real account. Worth showing wherever a person sees the result.
    ///
    /// ```
    /// assert!(auth_core::ApiKey::new("pp_test_abc").is_sandbox());
    /// assert!(!auth_core::ApiKey::new("pp_live_abc").is_sandbox());
    /// ```
    pub fn is_sandbox(&self) -> bool {
        self.expose_secret().starts_with("pp_test_")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_redacted() {
        let password = Password::new("hunter2");
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        let code = CheckpointCode::new("123456");
        assert!(!format!("{code:?}").contains("123456"));
        assert_eq!(code, CheckpointCode::new("123456"));
        assert_ne!(code, CheckpointCode::new("123457"));
    }

    #[test]
    fn scrub_replaces_every_occurrence() {
        let mut text = String::from("bad password hunter2, really hunter2");
        scrub(&mut text, &["hunter2", ""]);
        assert_eq!(text, "bad password <redacted>, really <redacted>");
        let mut json = String::from(r#"{"detail":"a\"b"}"#);
        scrub(&mut json, &["a\"b"]);
        assert_eq!(json, r#"{"detail":"<redacted>"}"#);
    }

    #[test]
    fn zeroing_covers_the_whole_allocation() {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(b"hunter2-and-more");
        let capacity = bytes.capacity();
        zero_allocation(&mut bytes);
        assert_eq!(bytes.len(), capacity, "spare capacity is overwritten too");
        assert!(bytes.iter().all(|&b| b == 0));
        assert_eq!(bytes.capacity(), capacity, "in place, no reallocation");
    }

    #[test]
    fn wipe_leaves_the_string_empty() {
        let mut value = String::from("secret");
        wipe_string(&mut value);
        assert!(value.is_empty());
    }
}

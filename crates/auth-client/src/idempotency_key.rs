//! The entropy of idempotency keys: the core draws no random number, the driver brings it.

use auth_core::{Error, IdempotencyKey, TransportError, TransportErrorKind};

/// A fresh `Idempotency-Key`: 16 bytes from the operating system's random source
/// ([`getrandom`]), written as a UUID v4 by [`IdempotencyKey::from_random_bytes`].
///
/// A client draws one per command; a driver of its own ([`auth_core::drive`] or
/// [`auth_core::drive_async`] over a client's transport) calls this for each command it
/// runs. If the operating system has no randomness to give, the error is a
/// [`TransportErrorKind::Refused`] transport error: nothing was sent.
///
/// ```
/// let first = auth_client::new_idempotency_key()?;
/// let second = auth_client::new_idempotency_key()?;
/// assert_ne!(first, second);
/// assert_eq!(first.as_str().len(), 36);
/// # Ok::<(), auth_core::Error>(())
/// ```
pub fn new_idempotency_key() -> Result<IdempotencyKey, Error> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|error| {
        TransportError::new(
            TransportErrorKind::Refused,
            format!(
                "no idempotency key: the operating system's random source failed ({error}); nothing was sent"
            ),
        )
        .with_source(error)
    })?;
    Ok(IdempotencyKey::from_random_bytes(random))
}

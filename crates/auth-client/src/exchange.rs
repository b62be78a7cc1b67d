//! What the observer of a client sees: one request and what came of it.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{Answer, Request, TransportError};

/// The observer a client's `on_exchange` setter takes, shared by the client's clones and
/// called by its transport after every attempt of every request.
pub type Observer = Arc<dyn Fn(&Exchange<'_>) + Send + Sync>;

/// One attempt of a request and what came of it, as a client's `on_exchange` observer sees
/// it: a retry of a request is an exchange of its own, with the same `Idempotency-Key` and a
/// higher [`Request::attempt`].
///
/// `Debug` of the request redacts the API key and shows only the body's length; use
/// [`Body::redacted`](auth_core::Body::redacted) to show the body without its secrets.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// The request that was sent.
    pub request: &'a Request,
    /// Its answer (any status), or why there was none.
    pub outcome: Result<&'a Answer, &'a TransportError>,
    /// How long the exchange took.
    pub elapsed: Duration,
}

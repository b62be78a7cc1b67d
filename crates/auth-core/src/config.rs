//! What stays the same across every intent of a flow: the API key and the time budgets.

use std::sync::Arc;
use std::time::Duration;

use crate::secret::ApiKey;

/// The configuration of a [`Flow`](crate::Flow): the API key and the time budgets.
///
/// It is not part of a [`Snapshot`](crate::Snapshot): the process that resumes a saved
/// intent brings its own, so the API key is never written anywhere.
///
/// ```
/// use std::time::Duration;
/// use auth_core::Config;
/// let config = Config::new("my-api-key").with_request_timeout(Duration::from_secs(10));
/// assert_eq!(config.intent_ttl(), Duration::from_secs(300));
/// assert!(!format!("{config:?}").contains("my-api-key"));
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Shared, so that cloning a configuration for each flow copies no secret.
    api_key: Arc<ApiKey>,
    intent_ttl: Duration,
    request_timeout: Duration,
}

impl Config {
    /// How long an authentication intent lives on the server: five minutes.
    pub const DEFAULT_INTENT_TTL: Duration = Duration::from_secs(5 * 60);

    /// How long an ordinary request may take: thirty seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// A configuration with the default intent lifetime and request timeout.
    pub fn new(api_key: impl Into<ApiKey>) -> Self {
        Self {
            api_key: Arc::new(api_key.into()),
            intent_ttl: Self::DEFAULT_INTENT_TTL,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// Sets the intent lifetime the machine assumes (the server's is five minutes).
    #[must_use]
    pub fn with_intent_ttl(mut self, ttl: Duration) -> Self {
        self.intent_ttl = ttl;
        self
    }

    /// Sets the time budget of every request but an in-app validation, which may take the
    /// intent's whole remaining time.
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The API key, shared without a copy (for the `X-API-KEY` header).
    pub(crate) fn shared_api_key(&self) -> Arc<ApiKey> {
        Arc::clone(&self.api_key)
    }

    /// The intent lifetime the machine assumes.
    pub fn intent_ttl(&self) -> Duration {
        self.intent_ttl
    }

    /// The time budget of an ordinary request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
}

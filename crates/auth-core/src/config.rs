//! What stays the same across every intent of a flow: the API key, how it is sent, the time
//! budgets and the retry policy.

use std::sync::Arc;
use std::time::Duration;

use crate::retry::RetryPolicy;
use crate::secret::{ApiKey, SecretString};

/// How the API key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `X-API-KEY: <key>` (the default; postpress and Unipile both take it).
    #[default]
    ApiKeyHeader,
    /// `Authorization: Bearer <key>` (postpress only).
    Bearer,
}

/// The configuration of a [`Flow`](crate::Flow): the API key and how it is sent, the time
/// budgets, and the [`RetryPolicy`].
///
/// It is not part of a [`Snapshot`](crate::Snapshot): the process that resumes a saved
/// intent brings its own, so the API key is never written anywhere.
///
/// ```
/// use std::time::Duration;
/// use auth_core::{AuthScheme, Config};
/// let config = Config::new("pp_test_123")
///     .with_request_timeout(Duration::from_secs(10))
///     .with_auth_scheme(AuthScheme::Bearer);
/// assert_eq!(config.intent_ttl(), Duration::from_secs(300));
/// assert!(config.is_sandbox());
/// assert!(!format!("{config:?}").contains("pp_test_123"));
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Shared, so that cloning a configuration for each flow copies no secret.
    api_key: Arc<ApiKey>,
    auth_scheme: AuthScheme,
    /// The value of the authentication header, built once and shared by every request.
    auth_value: Arc<SecretString>,
    intent_ttl: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
}

impl Config {
    /// How long an authentication intent lives on the server: five minutes.
    pub const DEFAULT_INTENT_TTL: Duration = Duration::from_secs(5 * 60);

    /// How long an ordinary request may take: thirty seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// A configuration with the default scheme (`X-API-KEY`), intent lifetime, request
    /// timeout and retry policy.
    pub fn new(api_key: impl Into<ApiKey>) -> Self {
        let api_key = Arc::new(api_key.into());
        Self {
            auth_value: auth_value(&api_key, AuthScheme::ApiKeyHeader),
            api_key,
            auth_scheme: AuthScheme::ApiKeyHeader,
            intent_ttl: Self::DEFAULT_INTENT_TTL,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    /// Sets how the API key is sent.
    #[must_use]
    pub fn with_auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.auth_scheme = scheme;
        self.auth_value = auth_value(&self.api_key, scheme);
        self
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

    /// Sets the retry policy (see [`RetryPolicy`]; [`RetryPolicy::never`] turns retries off).
    #[must_use]
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// How the API key is sent.
    pub fn auth_scheme(&self) -> AuthScheme {
        self.auth_scheme
    }

    /// Whether the API key is a postpress sandbox key (`pp_test_…`): see [`ApiKey::is_sandbox`].
    pub fn is_sandbox(&self) -> bool {
        self.api_key.is_sandbox()
    }

    /// The name and the value of the authentication header, the value shared without a copy.
    pub(crate) fn auth_header(&self) -> (&'static str, Arc<SecretString>) {
        let name = match self.auth_scheme {
            AuthScheme::ApiKeyHeader => "X-API-KEY",
            AuthScheme::Bearer => "Authorization",
        };
        (name, Arc::clone(&self.auth_value))
    }

    /// The intent lifetime the machine assumes.
    pub fn intent_ttl(&self) -> Duration {
        self.intent_ttl
    }

    /// The time budget of an ordinary request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }
}

fn auth_value(key: &ApiKey, scheme: AuthScheme) -> Arc<SecretString> {
    let value = match scheme {
        AuthScheme::ApiKeyHeader => key.expose_secret().to_owned(),
        AuthScheme::Bearer => {
            let mut value = String::with_capacity(7 + key.expose_secret().len());
            value.push_str("Bearer ");
            value.push_str(key.expose_secret());
            value
        }
    };
    Arc::new(SecretString::new(value))
}

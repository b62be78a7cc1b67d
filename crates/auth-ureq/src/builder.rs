//! The client's settings, and the checks made once, before anything is sent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{ApiKey, AuthScheme, BaseUrl, BaseUrlError, Clock, Config, RetryPolicy};

use crate::client::{Client, SharedClock};
use crate::exchange::ObserverFn;
use crate::{Exchange, MAX_REQUEST_TIMEOUT, SystemClock, USER_AGENT};

/// Why a [`Client`] could not be built. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No API key, or an empty one.
    #[error("no API key: set one with ClientBuilder::api_key")]
    MissingApiKey,
    /// The base URL cannot be used ([`BaseUrl::parse_with`] says why): not https (plain
    /// http only to loopback hosts, unless [`ClientBuilder::allow_insecure_http`]), user
    /// information, a fragment, a dot segment… Any user information is not shown.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// A setting is out of range (a zero timeout, a timeout or intent lifetime over
    /// [`MAX_REQUEST_TIMEOUT`], a zero body limit…).
    #[error("invalid setting {setting}: {reason}")]
    InvalidSetting {
        /// The setting's name, as the builder's method.
        setting: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Where requests go, as the builder was told.
#[derive(Clone)]
enum Target {
    Postpress,
    Unipile(String),
    Url(String),
}

impl Target {
    fn parse(&self, allow_insecure_http: bool) -> Result<BaseUrl, BaseUrlError> {
        match self {
            Self::Postpress => Ok(BaseUrl::postpress()),
            Self::Unipile(dsn) => BaseUrl::unipile_with(dsn, allow_insecure_http),
            Self::Url(url) => BaseUrl::parse_with(url, allow_insecure_http),
        }
    }

    /// The target for `Debug`: the URL as it would be used, or as the core shows an invalid
    /// one (without user information).
    fn shown(&self, allow_insecure_http: bool) -> String {
        match self.parse(allow_insecure_http) {
            Ok(url) => url.to_string(),
            Err(BaseUrlError::Invalid { url, .. } | BaseUrlError::InsecureHttp { url }) => url,
            Err(_) => "<invalid>".to_owned(),
        }
    }
}

/// Settings for a [`Client`]; [`ClientBuilder::build`] checks them.
///
/// Defaults: the postpress base URL, the API key in `X-API-KEY`, the core's
/// [`RetryPolicy::default`], connect timeout 10 s, request timeout 30 s, intent lifetime
/// 300 s, answers up to 1 MiB, https only (plain http to loopback hosts), the
/// [`SystemClock`], no observer.
///
/// ```
/// use std::time::Duration;
/// use auth_core::BaseUrlError;
/// use auth_ureq::{AuthScheme, BuildError, Client, RetryPolicy};
///
/// let client = Client::builder()
///     .unipile("api1.unipile.com:13111")
///     .api_key("my-api-key")
///     .request_timeout(Duration::from_secs(20))
///     .retry_policy(RetryPolicy::default().with_max_attempts(2))
///     .build()?;
/// assert_eq!(client.base_url().to_string(), "https://api1.unipile.com:13111/api/v1");
///
/// // postpress takes the key as a bearer token too, and the port as a query.
/// let client = Client::builder()
///     .base_url("https://api.postpress.ai/v1?port=12345")
///     .auth_scheme(AuthScheme::Bearer)
///     .api_key("pp_test_123")
///     .build()?;
/// assert_eq!(client.base_url().url_for("/accounts"), "https://api.postpress.ai/v1/accounts?port=12345");
/// assert!(client.is_sandbox());
///
/// // Plain http is for loopback hosts only (the simulator), unless the caller opts out.
/// let refused = Client::builder().base_url("http://api.example.com/v1").api_key("k").build();
/// assert!(matches!(refused, Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))));
/// # Ok::<(), BuildError>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    target: Target,
    api_key: Option<ApiKey>,
    auth_scheme: AuthScheme,
    retry_policy: RetryPolicy,
    connect_timeout: Duration,
    request_timeout: Duration,
    intent_ttl: Duration,
    max_answer_bytes: u64,
    allow_insecure_http: bool,
    clock: Option<SharedClock>,
    observer: Option<ObserverFn>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.target.shown(self.allow_insecure_http))
            .field("api_key", &self.api_key)
            .field("auth_scheme", &self.auth_scheme)
            .field("retry_policy", &self.retry_policy)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("intent_ttl", &self.intent_ttl)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("clock", &self.clock.as_ref().map_or("system", |_| "custom"))
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            target: Target::Postpress,
            api_key: None,
            auth_scheme: AuthScheme::default(),
            retry_policy: RetryPolicy::default(),
            connect_timeout: ClientBuilder::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Config::DEFAULT_REQUEST_TIMEOUT,
            intent_ttl: Config::DEFAULT_INTENT_TTL,
            max_answer_bytes: ClientBuilder::DEFAULT_MAX_ANSWER_BYTES,
            allow_insecure_http: false,
            clock: None,
            observer: None,
        }
    }
}

impl ClientBuilder {
    /// How long making a connection (DNS, TCP, TLS) may take by default: ten seconds.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// The largest answer body read by default: 1 MiB.
    pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 1 << 20;

    /// The postpress API, `https://api.postpress.ai/v1` (the default).
    pub fn postpress(mut self) -> Self {
        self.target = Target::Postpress;
        self
    }

    /// The Unipile API of a DSN, `https://{dsn}/api/v1`; `dsn` is `host:port` as Unipile's
    /// dashboard shows it (a leading `https://` is accepted too). See [`BaseUrl::unipile`]:
    /// plain http only to a loopback host, unless [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn unipile(mut self, dsn: &str) -> Self {
        self.target = Target::Unipile(dsn.to_owned());
        self
    }

    /// Any base URL, checked by [`build`](Self::build) with [`BaseUrl::parse_with`]: request
    /// paths (`/accounts`…) are appended to it. A trailing slash is tolerated; a query
    /// (postpress's `?port=12345`, where custom ports are blocked) is kept and sent with every
    /// request; user information and a fragment are refused.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.target = Target::Url(url.into());
        self
    }

    /// The API key, sent with every request (see [`auth_scheme`](Self::auth_scheme)), and
    /// only to the base URL's host.
    pub fn api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// How the API key is sent: `X-API-KEY` (the default; postpress and Unipile) or
    /// `Authorization: Bearer` (postpress only).
    pub fn auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.auth_scheme = scheme;
        self
    }

    /// What is sent again, how often and after what wait, never past an intent's deadline:
    /// the core's [`RetryPolicy`] (default: 4 attempts; [`RetryPolicy::never`] turns retries
    /// off). Every attempt of a request carries the same `Idempotency-Key`.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// How long making a connection (DNS, TCP, TLS) may take: more than zero, at most
    /// [`MAX_REQUEST_TIMEOUT`] (checked by [`build`](Self::build)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a request may take, answer body included. An in-app validation is the
    /// exception: it may take the intent's whole remaining time. More than zero, at most
    /// [`MAX_REQUEST_TIMEOUT`] (checked by [`build`](Self::build)).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long an authentication intent lives (the server's is five minutes). More than
    /// zero, at most [`MAX_REQUEST_TIMEOUT`] (checked by [`build`](Self::build)).
    pub fn intent_ttl(mut self, ttl: Duration) -> Self {
        self.intent_ttl = ttl;
        self
    }

    /// The largest answer body read; a larger one is an error and is not read further.
    pub fn max_answer_bytes(mut self, max: u64) -> Self {
        self.max_answer_bytes = max;
        self
    }

    /// Allows plain `http://` to any host. Off by default: without it, plain http is
    /// accepted only to `localhost`, `127.0.0.0/8` and `::1`.
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.allow_insecure_http = yes;
        self
    }

    /// The clock the client reads before every input to the core, and sleeps on for a
    /// retry's wait (default: [`SystemClock`]). A test's clock moves its time in
    /// [`Clock::sleep_until`] instead of sleeping, so retries cost no real time.
    pub fn clock(mut self, clock: impl Clock + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Called after every attempt of every request, with the request, its answer or failure,
    /// and how long it took. Headers and bodies are shown redacted by their `Debug` and
    /// [`Body::redacted`](auth_core::Body::redacted); never log `Header::value` of a
    /// sensitive header.
    pub fn on_exchange(mut self, observer: impl Fn(&Exchange<'_>) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Checks the settings and builds the client. Nothing is sent.
    pub fn build(self) -> Result<Client, BuildError> {
        let api_key = match self.api_key {
            Some(key) if !key.expose_secret().trim().is_empty() => key,
            _ => return Err(BuildError::MissingApiKey),
        };
        if ureq::http::HeaderValue::from_str(api_key.expose_secret()).is_err() {
            return Err(BuildError::InvalidSetting {
                setting: "api_key",
                reason: "must be visible ASCII characters, as an HTTP header value",
            });
        }
        let base_url = self.target.parse(self.allow_insecure_http)?;
        for (setting, duration) in [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("intent_ttl", self.intent_ttl),
        ] {
            if duration.is_zero() {
                return Err(BuildError::InvalidSetting {
                    setting,
                    reason: "must be more than zero",
                });
            }
            // ureq adds a timeout to `Instant::now()`: a huge one would overflow.
            if duration > MAX_REQUEST_TIMEOUT {
                return Err(BuildError::InvalidSetting {
                    setting,
                    reason: "must be at most 7 days",
                });
            }
        }
        if self.max_answer_bytes == 0 {
            return Err(BuildError::InvalidSetting {
                setting: "max_answer_bytes",
                reason: "must be more than zero",
            });
        }
        // Proxies from the environment, as ureq reads them; never for loopback hosts, where
        // a proxy could only get in the way of a local simulator.
        let proxy = if base_url.is_loopback() {
            None
        } else {
            ureq::Proxy::try_from_env()
        };
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(self.connect_timeout))
            .user_agent(USER_AGENT)
            .proxy(proxy)
            .build();
        let agent = ureq::Agent::new_with_config(agent_config);
        let config = Config::new(api_key)
            .with_auth_scheme(self.auth_scheme)
            .with_intent_ttl(self.intent_ttl)
            .with_request_timeout(self.request_timeout)
            .with_retry_policy(self.retry_policy);
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        Ok(Client::from_parts(
            agent,
            base_url,
            config,
            self.max_answer_bytes,
            clock,
            self.observer,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_is_checked_by_the_core() {
        let build = |url: &str| ClientBuilder::default().base_url(url).api_key("k").build();
        let client = build("https://api.postpress.ai/v1/?port=12345").unwrap();
        assert_eq!(
            client.base_url().to_string(),
            "https://api.postpress.ai/v1?port=12345"
        );
        assert!(matches!(
            build("http://api.postpress.ai/v1"),
            Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))
        ));
        assert!(matches!(
            build("https://api.postpress.ai/v1#top"),
            Err(BuildError::BaseUrl(BaseUrlError::Invalid { .. }))
        ));
        let allowed = ClientBuilder::default()
            .base_url("http://api.postpress.ai/v1")
            .allow_insecure_http(true)
            .api_key("k")
            .build()
            .unwrap();
        assert!(!allowed.base_url().is_https());
    }

    #[test]
    fn user_information_is_never_shown() {
        let builder = ClientBuilder::default()
            .base_url("https://user:hunter2@api.postpress.ai/v1")
            .api_key("k");
        assert!(!format!("{builder:?}").contains("hunter2"));
        let error = builder.build().unwrap_err();
        assert!(!format!("{error} {error:?}").contains("hunter2"));
    }

    #[test]
    fn timeouts_and_intent_lifetimes_over_seven_days_are_refused() {
        let builder = || ClientBuilder::default().api_key("k");
        let too_long = MAX_REQUEST_TIMEOUT + Duration::from_millis(1);
        let refused = |result: Result<Client, BuildError>| match result {
            Err(BuildError::InvalidSetting { setting, reason }) => Some((setting, reason)),
            _ => None,
        };
        assert_eq!(
            refused(builder().connect_timeout(too_long).build()),
            Some(("connect_timeout", "must be at most 7 days"))
        );
        assert_eq!(
            refused(builder().request_timeout(Duration::MAX).build()),
            Some(("request_timeout", "must be at most 7 days"))
        );
        assert_eq!(
            refused(builder().intent_ttl(too_long).build()),
            Some(("intent_ttl", "must be at most 7 days"))
        );
        assert_eq!(
            refused(builder().request_timeout(Duration::ZERO).build()),
            Some(("request_timeout", "must be more than zero"))
        );
        let longest = builder()
            .connect_timeout(MAX_REQUEST_TIMEOUT)
            .request_timeout(MAX_REQUEST_TIMEOUT)
            .intent_ttl(MAX_REQUEST_TIMEOUT)
            .build();
        assert!(longest.is_ok());
    }

    #[test]
    fn unipile_takes_a_dsn_with_or_without_its_scheme() {
        let url = |dsn: &str| {
            ClientBuilder::default()
                .unipile(dsn)
                .api_key("k")
                .build()
                .map(|client| client.base_url().to_string())
        };
        assert_eq!(
            url("api1.unipile.com:13111").as_deref(),
            Ok("https://api1.unipile.com:13111/api/v1")
        );
        assert_eq!(
            url("https://api1.unipile.com:13111/").as_deref(),
            Ok("https://api1.unipile.com:13111/api/v1")
        );
    }
}

//! The client's settings, and the checks made once, before anything is sent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{ApiKey, AsyncClock, AuthScheme, BaseUrl, BaseUrlError, Config, RetryPolicy};
use reqwest::header::{HeaderName, HeaderValue};

use crate::client::Client;
use crate::clock::ClientClock;
use crate::exchange::ObserverFn;
use crate::transport::ReqwestTransport;
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
            Self::Unipile(dsn) => BaseUrl::unipile(dsn),
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

/// Settings for a [`Client`]; [`ClientBuilder::build`] checks them. The same settings, with
/// the same names and defaults, as the blocking client's (`auth-ureq`).
///
/// Defaults: the postpress base URL, the API key in `X-API-KEY`, the core's
/// [`RetryPolicy::default`], connect timeout 10 s, request timeout 30 s, intent lifetime
/// 300 s, answers up to 1 MiB, https only (plain http to loopback hosts), the
/// [`SystemClock`], no observer.
///
/// ```
/// use std::time::Duration;
/// use auth_core::BaseUrlError;
/// use auth_reqwest::{AuthScheme, BuildError, Client, RetryPolicy};
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
    clock: Option<ClientClock>,
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
    /// plain http only to a loopback host, whatever [`allow_insecure_http`](Self::allow_insecure_http)
    /// says (use [`base_url`](Self::base_url) for anything else).
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

    /// The largest answer body read (default 1 MiB); a larger one is an error and is not
    /// read further.
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
    /// retry's wait (default: [`SystemClock`], on tokio's timer). A test's clock moves its
    /// time in [`AsyncClock::sleep_until`] instead of sleeping, so retries cost no real time.
    pub fn clock(mut self, clock: impl AsyncClock + Send + 'static) -> Self {
        self.clock = Some(ClientClock::new(clock));
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

    /// Checks the settings and builds the client, with its pool of connections. Nothing is
    /// sent. The client runs on tokio (its futures need a tokio runtime with IO and time).
    pub fn build(self) -> Result<Client, BuildError> {
        let api_key = match self.api_key {
            Some(key) if !key.expose_secret().trim().is_empty() => key,
            _ => return Err(BuildError::MissingApiKey),
        };
        if HeaderValue::from_str(api_key.expose_secret()).is_err() {
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
            // The same bound as the blocking client's: timers add it to `Instant::now()`.
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
        let config = Config::new(api_key)
            .with_auth_scheme(self.auth_scheme)
            .with_intent_ttl(self.intent_ttl)
            .with_request_timeout(self.request_timeout)
            .with_retry_policy(self.retry_policy);
        let http = http_client(&base_url, self.connect_timeout).map_err(|_| BuildError::InvalidSetting {
            setting: "tls",
            reason: "the HTTP client (its TLS configuration) could not be built",
        })?;
        let auth = auth_header(&config);
        let clock = self.clock.unwrap_or_else(|| ClientClock::new(SystemClock));
        let transport = ReqwestTransport::new(http, base_url, self.max_answer_bytes, auth, self.observer);
        Ok(Client::from_parts(transport, config, clock))
    }
}

/// The reqwest client: one pool, no redirect followed, rustls, the client's user agent, the
/// connect timeout; proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
/// `NO_PROXY`), never for a loopback host, where a proxy could only get in the way of a
/// local simulator. Each request's budget is its own (`Request::timeout`).
pub(crate) fn http_client(base_url: &BaseUrl, connect_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(USER_AGENT)
        .tcp_nodelay(true);
    let builder = if base_url.is_loopback() {
        builder.no_proxy()
    } else {
        builder
    };
    builder.build()
}

/// The API key's header, built once for every request of the client.
fn auth_header(config: &Config) -> Option<(HeaderName, HeaderValue)> {
    let (name, value) = match config.auth_scheme() {
        AuthScheme::Bearer => (
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", config.api_key().expose_secret()),
        ),
        _ => (
            HeaderName::from_static("x-api-key"),
            config.api_key().expose_secret().to_owned(),
        ),
    };
    let mut value = HeaderValue::from_str(&value).ok()?;
    value.set_sensitive(true);
    Some((name, value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

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
        assert!(matches!(
            build("https://user:pw@api.postpress.ai/v1"),
            Err(BuildError::BaseUrl(BaseUrlError::Invalid { .. }))
        ));
        let allowed = ClientBuilder::default()
            .base_url("http://api.postpress.ai/v1")
            .allow_insecure_http(true)
            .api_key("k")
            .build()
            .unwrap();
        assert!(!allowed.base_url().is_https());
        assert_eq!(
            ClientBuilder::default()
                .api_key("k")
                .build()
                .unwrap()
                .base_url()
                .to_string(),
            "https://api.postpress.ai/v1"
        );
    }

    #[test]
    fn user_information_and_the_api_key_are_never_shown() {
        let builder = ClientBuilder::default()
            .base_url("https://user:hunter2@api.postpress.ai/v1")
            .api_key("sk-very-secret");
        let shown = format!("{builder:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("sk-very-secret"),
            "{shown}"
        );
        let error = builder.build().unwrap_err();
        assert!(!format!("{error} {error:?}").contains("hunter2"));
        let client = ClientBuilder::default()
            .api_key("sk-very-secret")
            .build()
            .unwrap();
        assert!(!format!("{client:?}").contains("sk-very-secret"));
    }

    #[test]
    fn a_missing_or_unusable_api_key_is_refused() {
        assert_eq!(
            ClientBuilder::default().build().err(),
            Some(BuildError::MissingApiKey)
        );
        assert_eq!(
            ClientBuilder::default().api_key("  ").build().err(),
            Some(BuildError::MissingApiKey)
        );
        assert!(matches!(
            ClientBuilder::default().api_key("a\nb").build(),
            Err(BuildError::InvalidSetting {
                setting: "api_key",
                ..
            })
        ));
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
        assert_eq!(
            refused(builder().max_answer_bytes(0).build()),
            Some(("max_answer_bytes", "must be more than zero"))
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

    #[test]
    fn the_settings_reach_the_core_s_configuration() {
        let client = ClientBuilder::default()
            .api_key("pp_test_1")
            .auth_scheme(AuthScheme::Bearer)
            .intent_ttl(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(5))
            .retry_policy(RetryPolicy::never())
            .build()
            .unwrap();
        let config = client.config();
        assert_eq!(config.auth_scheme(), AuthScheme::Bearer);
        assert_eq!(config.intent_ttl(), Duration::from_secs(60));
        assert_eq!(config.request_timeout(), Duration::from_secs(5));
        assert_eq!(config.retry_policy(), &RetryPolicy::never());
        assert!(client.is_sandbox());
    }
}

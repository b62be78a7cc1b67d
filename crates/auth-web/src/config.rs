//! The form's settings: where the API is, what the embedding app wants back, and the limits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{AccountId, ApiKey, AsyncClock, Config, UnixMillis};

/// A clock given to [`FormConfig::clock`]: wall-clock unix milliseconds.
type ClockFn = Arc<dyn Fn() -> UnixMillis + Send + Sync>;

/// A [`FormConfig::clock`] as the client's clock: the form and its client read one time.
struct FormClock(ClockFn);

impl AsyncClock for FormClock {
    fn now(&self) -> UnixMillis {
        (self.0)()
    }

    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(at.saturating_duration_since(self.now()))
    }
}

/// One connected account, as the embedding app's callback receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectedAccount {
    /// The account the API connected.
    pub account_id: AccountId,
    /// The context the app gave when it sent the browser to the form (`?context=…`), as it
    /// gave it.
    pub context: Option<String>,
}

type Callback = Arc<dyn Fn(ConnectedAccount) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Whether cookies carry `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookieSecurity {
    /// `Secure` whenever the request came over https (its URI says so, or a proxy the form
    /// trusts, [`FormConfig::trust_forwarded_headers`], said `X-Forwarded-Proto: https`),
    /// and whenever it was sent to a host that is not loopback: a server that does its own
    /// TLS sees no `https` in its URIs, so any other host is taken to be https. Only
    /// `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]` go without (browsers keep
    /// `Secure` cookies from `http://localhost` anyway).
    ///
    /// Behind a proxy on the same machine every request looks like loopback (nginx's
    /// `proxy_pass http://127.0.0.1:…` sends that as the `Host`): trust the proxy's
    /// `X-Forwarded-Proto` ([`FormConfig::trust_forwarded_headers`]) or use
    /// [`CookieSecurity::Always`], or the cookies of an https site go without `Secure`.
    #[default]
    Auto,
    /// Always `Secure` (the form is only ever served over https).
    Always,
    /// Never `Secure` (plain http on a host that is not loopback: a development network).
    Never,
}

/// Why a [`FormConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The API client cannot be built with these settings (a base URL that is not https to
    /// a remote host, a timeout out of range…).
    #[error(transparent)]
    Client(#[from] auth_reqwest::BuildError),
    /// No API key, or an empty one.
    #[error("no API key")]
    MissingApiKey,
    /// A setting is out of range.
    #[error("invalid setting {0}")]
    Invalid(&'static str),
}

/// The form's settings. Build one with [`FormConfig::new`] and hand it to
/// [`router`](crate::router).
///
/// ```
/// use std::time::Duration;
/// use auth_web::FormConfig;
///
/// let config = FormConfig::new("pp_live_…")
///     .base_url("https://api.postpress.ai/v1")
///     .success_url("/settings/accounts")
///     .request_timeout(Duration::from_secs(20))
///     .on_connected(|account| async move {
///         println!("connected {} for {:?}", account.account_id, account.context);
///     });
/// # drop(config);
/// ```
#[must_use]
pub struct FormConfig {
    pub(crate) api_key: ApiKey,
    pub(crate) base_url: String,
    pub(crate) request_timeout: Duration,
    pub(crate) intent_ttl: Duration,
    pub(crate) success_url: Option<String>,
    pub(crate) on_connected: Option<Callback>,
    pub(crate) cookies: CookieSecurity,
    pub(crate) trust_forwarded: bool,
    pub(crate) lease: Option<Duration>,
    pub(crate) connects_per_ip: (u32, Duration),
    pub(crate) connects_per_session: u32,
    pub(crate) provider_name: String,
    /// `None`: the client's own, [`auth_reqwest::SystemClock`].
    pub(crate) clock: Option<ClockFn>,
    pub(crate) wait_for: Duration,
}

impl fmt::Debug for FormConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("request_timeout", &self.request_timeout)
            .field("intent_ttl", &self.intent_ttl)
            .field("success_url", &self.success_url)
            .field("on_connected", &self.on_connected.is_some())
            .field("cookies", &self.cookies)
            .field("lease", &self.lease_length())
            .finish_non_exhaustive()
    }
}

impl FormConfig {
    /// The longest field a form accepts (username, password), in bytes.
    pub const MAX_FIELD_BYTES: usize = 256;
    /// The longest code accepted, in bytes.
    pub const MAX_CODE_BYTES: usize = 64;
    /// The longest context the embedding app may pass, in bytes.
    pub const MAX_CONTEXT_BYTES: usize = 512;
    /// The largest form body accepted, in bytes.
    pub const MAX_BODY_BYTES: usize = 4096;

    /// Settings with an API key and the defaults: the postpress API, requests of 30 s,
    /// intents of 5 min, leases as long as a request's timeout, 10 connect attempts per minute per IP address and 5
    /// per browser session, no callback, no success URL, `Secure` cookies but on loopback.
    pub fn new(api_key: impl Into<ApiKey>) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: auth_core::POSTPRESS_BASE_URL.to_owned(),
            request_timeout: Config::DEFAULT_REQUEST_TIMEOUT,
            intent_ttl: Config::DEFAULT_INTENT_TTL,
            success_url: None,
            on_connected: None,
            cookies: CookieSecurity::Auto,
            trust_forwarded: false,
            lease: None,
            connects_per_ip: (10, Duration::from_secs(60)),
            connects_per_session: 5,
            provider_name: "Messenger".to_owned(),
            clock: None,
            wait_for: Duration::from_secs(20),
        }
    }

    /// The API's base URL (`https://api.postpress.ai/v1` by default; plain http only to
    /// loopback, such as the simulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// How long one API request may take (an in-app approval may take the intent's whole
    /// remaining time).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long an authentication intent lives (the server's is five minutes).
    pub fn intent_ttl(mut self, ttl: Duration) -> Self {
        self.intent_ttl = ttl;
        self
    }

    /// Where the browser goes once the account is connected (after the "Connected" page).
    pub fn success_url(mut self, url: impl Into<String>) -> Self {
        self.success_url = Some(url.into());
        self
    }

    /// Called once per connected account, with its id and the app's context.
    ///
    /// The record's compare-and-swap decides which instance calls it, so two tabs or two
    /// instances finishing the same intent call it once. It may take as long as it needs:
    /// its instance renews the record's lease while it runs, and nothing cuts it short (the
    /// browser's page waits for it). Only if its instance dies during the call, or before
    /// it could record it (or cannot write to the store for a whole lease), is it called
    /// again, by another instance, once the lease runs out: make it idempotent on the
    /// account id. A callback that panics is called again the same way.
    pub fn on_connected<F, Fut>(mut self, callback: F) -> Self
    where
        F: Fn(ConnectedAccount) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_connected = Some(Arc::new(move |account| Box::pin(callback(account))));
        self
    }

    /// Whether cookies carry `Secure` (default: [`CookieSecurity::Auto`]).
    pub fn cookie_security(mut self, security: CookieSecurity) -> Self {
        self.cookies = security;
        self
    }

    /// Trusts `X-Forwarded-For` and `X-Forwarded-Proto` (the form runs behind one proxy that
    /// sets them): the client's address for the rate limit is the last entry of the last
    /// `X-Forwarded-For` line, the one that proxy appended (the entries and lines before it
    /// are the client's to write), and `https` as the last `X-Forwarded-Proto` entry means
    /// https for cookies. Needed (or [`CookieSecurity::Always`]) behind an https proxy on
    /// the same machine, whose requests look like loopback: see [`CookieSecurity::Auto`].
    pub fn trust_forwarded_headers(mut self, trust: bool) -> Self {
        self.trust_forwarded = trust;
        self
    }

    /// How long a request in flight holds its record before another instance may take it
    /// over: how long the form waits for a dead instance. The holder renews it every third
    /// of its length while its request (or the app's callback) runs, so a live instance
    /// keeps it however long that takes. Default: the request timeout. At least the request
    /// timeout, so that even while renewals cannot be written (the store briefly down), one
    /// request ends before another instance may send it again; [`FormConfig::check`] and
    /// [`router`](crate::router) refuse a shorter one.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// At most `attempts` connects per `per` from one IP address (in this instance). An IPv6
    /// client is counted by its /64, and an IPv4 address written as IPv6 as itself.
    pub fn connects_per_ip(mut self, attempts: u32, per: Duration) -> Self {
        self.connects_per_ip = (attempts, per);
        self
    }

    /// At most `attempts` connects with one browser session: counted in its record, kept
    /// across "Start again", for as long as the record lives (30 minutes after its last
    /// connect). A browser that drops its cookie starts a new count: the per-IP limit
    /// ([`FormConfig::connects_per_ip`]) is what bounds that.
    pub fn connects_per_session(mut self, attempts: u32) -> Self {
        self.connects_per_session = attempts;
        self
    }

    /// The provider's name in the start page's heading ("Messenger").
    pub fn provider_name(mut self, name: impl Into<String>) -> Self {
        self.provider_name = name.into();
        self
    }

    /// The clock the form reads (default: the system clock). Tests move it with the
    /// simulator's manual clock.
    pub fn clock(mut self, clock: impl Fn() -> UnixMillis + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// How long a waiting page's poll is held before it answers "not yet" (default 20 s).
    pub fn long_poll(mut self, wait: Duration) -> Self {
        self.wait_for = wait;
        self
    }

    /// The lease's length: as set, or the request timeout.
    pub(crate) fn lease_length(&self) -> Duration {
        self.lease.unwrap_or(self.request_timeout)
    }

    /// Checks the settings and builds the API client: `auth-reqwest`'s, on the form's clock.
    pub(crate) fn api(&self) -> Result<auth_reqwest::Client, ConfigError> {
        if self.api_key.is_empty() {
            return Err(ConfigError::MissingApiKey);
        }
        if self.lease_length().is_zero() {
            return Err(ConfigError::Invalid("the lease must be more than zero"));
        }
        if self.lease_length() < self.request_timeout {
            return Err(ConfigError::Invalid(
                "the lease must be at least the request timeout (leave it unset to use the timeout)",
            ));
        }
        if self.connects_per_ip.0 == 0 || self.connects_per_ip.1.is_zero() || self.connects_per_session == 0 {
            return Err(ConfigError::Invalid("connect limits must be more than zero"));
        }
        let mut client = auth_reqwest::Client::builder()
            .base_url(self.base_url.clone())
            .api_key(self.api_key.clone())
            .request_timeout(self.request_timeout)
            .intent_ttl(self.intent_ttl);
        if let Some(clock) = &self.clock {
            client = client.clock(FormClock(Arc::clone(clock)));
        }
        Ok(client.build()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_shorter_than_a_request_is_refused() {
        let config = || FormConfig::new("pp_test_key");
        assert_eq!(
            config().lease_length(),
            Config::DEFAULT_REQUEST_TIMEOUT,
            "by default, the timeout"
        );
        assert!(config().check().is_ok());
        assert!(matches!(
            config().lease(Duration::from_secs(10)).check(),
            Err(ConfigError::Invalid(_))
        ));
        let short = config()
            .request_timeout(Duration::from_secs(1))
            .lease(Duration::from_secs(1));
        assert!(short.check().is_ok());
        assert_eq!(
            config().request_timeout(Duration::from_secs(7)).lease_length(),
            Duration::from_secs(7)
        );
    }
}

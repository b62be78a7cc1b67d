//! The client's settings, and the checks made once, before anything is sent.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_core::{ApiKey, Config, UnixMillis};

use crate::client::{Client, ClockFn, ObserverFn};
use crate::{Exchange, MAX_REQUEST_TIMEOUT, USER_AGENT};

/// The postpress API's base URL.
pub const POSTPRESS_BASE_URL: &str = "https://api.postpress.ai/v1";

/// Why a [`Client`] could not be built. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No API key, or an empty one.
    #[error("no API key: set one with ClientBuilder::api_key")]
    MissingApiKey,
    /// The base URL cannot be used.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given (any user information in it removed).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain `http://` URL to a host that is not loopback, without
    /// [`ClientBuilder::allow_insecure_http`]: the API key would cross the network in clear.
    #[error(
        "refusing plain http to {url:?}: plain http is only allowed to loopback hosts (localhost, \
         127.0.0.0/8, ::1) unless explicitly allowed, since the API key would cross the network \
         unencrypted; use https"
    )]
    InsecureHttp {
        /// The URL as given.
        url: String,
    },
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

/// Settings for a [`Client`]; [`ClientBuilder::build`] checks them.
///
/// Defaults: the postpress base URL, connect timeout 10 s, request timeout 30 s, intent
/// lifetime 300 s, answers up to 1 MiB, https only (plain http to loopback hosts), the
/// system clock, no observer.
///
/// ```
/// use std::time::Duration;
/// use auth_ureq::{BuildError, Client};
///
/// let client = Client::builder()
///     .unipile("api1.unipile.com:13111")
///     .api_key("my-api-key")
///     .request_timeout(Duration::from_secs(20))
///     .build()?;
/// assert_eq!(client.base_url(), "https://api1.unipile.com:13111/api/v1");
///
/// // Plain http is for loopback hosts only (the simulator), unless the caller opts out.
/// let refused = Client::builder().base_url("http://api.example.com/v1").api_key("k").build();
/// assert!(matches!(refused, Err(BuildError::InsecureHttp { .. })));
/// # Ok::<(), BuildError>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<ApiKey>,
    connect_timeout: Duration,
    request_timeout: Duration,
    intent_ttl: Duration,
    max_answer_bytes: u64,
    allow_insecure_http: bool,
    clock: Option<ClockFn>,
    observer: Option<ObserverFn>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &strip_user_info(&self.base_url))
            .field("api_key", &self.api_key)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("intent_ttl", &self.intent_ttl)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: POSTPRESS_BASE_URL.to_owned(),
            api_key: None,
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
        POSTPRESS_BASE_URL.clone_into(&mut self.base_url);
        self
    }

    /// The Unipile API of a DSN, `https://{dsn}/api/v1`; `dsn` is `host:port` as Unipile's
    /// dashboard shows it (a leading `https://` is accepted too).
    pub fn unipile(mut self, dsn: &str) -> Self {
        let dsn = dsn.trim().trim_end_matches('/');
        self.base_url = if dsn.contains("://") {
            format!("{dsn}/api/v1")
        } else {
            format!("https://{dsn}/api/v1")
        };
        self
    }

    /// Any base URL: request paths (`/accounts`…) are appended to it. A trailing slash is
    /// tolerated; a query or fragment is refused.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The API key, sent as `X-API-KEY` with every request, and only to the base URL's host.
    pub fn api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
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

    /// The clock the client reads for every step (default: the system clock). Tests use it
    /// to move time without waiting.
    pub fn clock(mut self, clock: impl Fn() -> UnixMillis + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Called after every request, with the request, its answer or failure, and how long it
    /// took. Headers and bodies are shown redacted by their `Debug` and
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
        let base = check_base_url(&self.base_url, self.allow_insecure_http)?;
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
        let proxy = if base.loopback {
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
            .with_intent_ttl(self.intent_ttl)
            .with_request_timeout(self.request_timeout);
        let clock = self.clock.unwrap_or_else(|| Arc::new(system_clock));
        Ok(Client::from_parts(
            agent,
            base.url,
            config,
            self.max_answer_bytes,
            clock,
            self.observer,
        ))
    }
}

fn system_clock() -> UnixMillis {
    UnixMillis::from_system_time(SystemTime::now())
}

/// A checked base URL.
struct BaseUrl {
    /// `scheme://authority/path`, without a trailing slash.
    url: String,
    /// Whether its host is a loopback host.
    loopback: bool,
}

/// Checks a base URL: `http` or `https`, a host, no user information, no query, no fragment;
/// plain http only to loopback hosts unless `allow_insecure_http`.
fn check_base_url(raw: &str, allow_insecure_http: bool) -> Result<BaseUrl, BuildError> {
    let shown = strip_user_info(raw.trim());
    let invalid = |reason: &str| BuildError::InvalidBaseUrl {
        url: shown.clone(),
        reason: reason.to_owned(),
    };
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid("it is empty"));
    }
    if text.contains('#') {
        return Err(invalid("it has a fragment (#…); give the base URL only"));
    }
    if text.contains('?') {
        return Err(invalid("it has a query (?…); give the base URL only"));
    }
    let uri: ureq::http::Uri = text.parse().map_err(|e| invalid(&format!("{e}")))?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| invalid("it has no scheme: start it with https://"))?
        .to_ascii_lowercase();
    let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?.as_str();
    if authority.contains('@') {
        return Err(invalid(
            "it has user information (user:password@); give the API key with api_key instead",
        ));
    }
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(invalid("it has no host"));
    }
    let loopback = is_loopback_host(host);
    match scheme.as_str() {
        "https" => {}
        "http" if loopback || allow_insecure_http => {}
        "http" => return Err(BuildError::InsecureHttp { url: shown }),
        _ => return Err(invalid("its scheme must be https (or http to a loopback host)")),
    }
    let path = uri.path().trim_end_matches('/');
    Ok(BaseUrl {
        url: format!("{scheme}://{authority}{path}"),
        loopback,
    })
}

/// `localhost`, `127.0.0.0/8`, `::1` (with or without brackets).
fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || bare.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The URL without any `user:password@`, for messages.
fn strip_user_info(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("<redacted>@{host}"),
        None => authority.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(url: &str) -> Result<String, BuildError> {
        check_base_url(url, false).map(|base| base.url)
    }

    #[test]
    fn https_urls_are_accepted_and_a_trailing_slash_is_dropped() {
        assert_eq!(
            checked("https://api.postpress.ai/v1").unwrap(),
            "https://api.postpress.ai/v1"
        );
        assert_eq!(
            checked("https://api.postpress.ai/v1/").unwrap(),
            "https://api.postpress.ai/v1"
        );
        assert_eq!(
            checked(" HTTPS://api1.unipile.com:13111/api/v1 ").unwrap(),
            "https://api1.unipile.com:13111/api/v1"
        );
        assert_eq!(checked("https://example.com").unwrap(), "https://example.com");
    }

    #[test]
    fn plain_http_is_accepted_to_loopback_hosts_only() {
        for url in [
            "http://127.0.0.1:8080/v1",
            "http://127.1.2.3/v1",
            "http://localhost:1/v1",
            "http://LOCALHOST/v1",
            "http://[::1]:9000/api/v1",
        ] {
            assert!(checked(url).is_ok(), "{url}");
        }
        for url in [
            "http://api.postpress.ai/v1",
            "http://10.0.0.1/v1",
            "http://localhost.example.com/v1",
            "http://[::2]/v1",
            "http://0.0.0.0/v1",
        ] {
            assert!(
                matches!(checked(url), Err(BuildError::InsecureHttp { .. })),
                "{url}"
            );
            assert!(check_base_url(url, true).is_ok(), "{url} with the opt-out");
        }
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        for url in [
            "",
            "api.postpress.ai/v1",
            "ftp://api.postpress.ai/v1",
            "https://api.postpress.ai/v1?x=1",
            "https://api.postpress.ai/v1#top",
            "https:///v1",
            "not a url",
        ] {
            assert!(
                matches!(checked(url), Err(BuildError::InvalidBaseUrl { .. })),
                "{url:?}"
            );
        }
    }

    #[test]
    fn user_information_is_refused_and_never_shown() {
        let error = checked("https://user:hunter2@api.postpress.ai/v1").unwrap_err();
        assert!(matches!(error, BuildError::InvalidBaseUrl { .. }));
        let text = format!("{error} {error:?}");
        assert!(!text.contains("hunter2"), "{text}");
        let insecure = checked("http://user:hunter2@example.com/v1").unwrap_err();
        assert!(!format!("{insecure} {insecure:?}").contains("hunter2"));
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
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("::1"));
        assert!(!is_loopback_host("128.0.0.1"));
        assert!(!is_loopback_host("example.com"));
    }

    #[test]
    fn unipile_takes_a_dsn_with_or_without_its_scheme() {
        let url = |dsn: &str| ClientBuilder::default().unipile(dsn).base_url;
        assert_eq!(
            url("api1.unipile.com:13111"),
            "https://api1.unipile.com:13111/api/v1"
        );
        assert_eq!(
            url("https://api1.unipile.com:13111/"),
            "https://api1.unipile.com:13111/api/v1"
        );
    }
}

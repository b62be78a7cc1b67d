//! The settings every client takes, and the checks made once, before anything is sent.

use std::fmt;
use std::time::Duration;

use auth_core::{ApiKey, AuthScheme, BaseUrl, BaseUrlError, Config, RetryPolicy};

use crate::{MAX_REQUEST_TIMEOUT, Observer};

/// Why a client could not be built. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No API key, or an empty one.
    #[error("no API key: set one with ClientBuilder::api_key")]
    MissingApiKey,
    /// The base URL cannot be used ([`BaseUrl::parse_with`] says why): not https (plain
    /// http only to loopback hosts, unless `allow_insecure_http`), user information, a
    /// fragment, a dot segment… Any user information is not shown.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// A setting is out of range (a zero timeout, a timeout or intent lifetime over
    /// [`MAX_REQUEST_TIMEOUT`], a zero body limit…), or the client's HTTP stack could not be
    /// built with it.
    #[error("invalid setting {setting}: {reason}")]
    InvalidSetting {
        /// The setting's name, as the builder's method.
        setting: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Where a client's requests go, as it was told; [`ClientSettings::check`] makes it a
/// [`BaseUrl`].
///
/// `Debug` shows the URL as the core would use it, or as the core shows an invalid one:
/// never its user information.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// The postpress API, [`BaseUrl::postpress`] (the default).
    #[default]
    Postpress,
    /// The Unipile API of a DSN (`host:port`), [`BaseUrl::unipile_with`].
    Unipile(String),
    /// Any base URL, [`BaseUrl::parse_with`].
    Url(String),
}

impl Target {
    /// The base URL, checked by the core: plain http to a host that is not loopback only
    /// when `allow_insecure_http`, whichever way the URL was given.
    pub fn parse(&self, allow_insecure_http: bool) -> Result<BaseUrl, BaseUrlError> {
        match self {
            Self::Postpress => Ok(BaseUrl::postpress()),
            Self::Unipile(dsn) => BaseUrl::unipile_with(dsn, allow_insecure_http),
            Self::Url(url) => BaseUrl::parse_with(url, allow_insecure_http),
        }
    }

    /// The URL as it would be used, or as the core shows an invalid one (without user
    /// information).
    fn shown(&self, allow_insecure_http: bool) -> String {
        match self.parse(allow_insecure_http) {
            Ok(url) => url.to_string(),
            Err(BaseUrlError::Invalid { url, .. } | BaseUrlError::InsecureHttp { url }) => url,
            Err(_) => "<invalid>".to_owned(),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Target").field(&self.shown(true)).finish()
    }
}

/// Every setting of a client but its clock, as its `ClientBuilder` was told them (the
/// setters of [`client_builder_setters!`](crate::client_builder_setters) write these
/// fields), and [`check`](Self::check), the one place they are checked, before anything is
/// sent.
///
/// `Debug` shows the API key redacted and the base URL without user information.
///
/// ```
/// use std::time::Duration;
/// use auth_client::{ClientSettings, Target};
///
/// let mut settings = ClientSettings::default();
/// settings.target = Target::Unipile("api1.unipile.com:13111".to_owned());
/// settings.api_key = Some("my-api-key".into());
/// settings.request_timeout = Duration::from_secs(20);
/// let checked = settings.check()?;
/// assert_eq!(checked.base_url.to_string(), "https://api1.unipile.com:13111/api/v1");
/// assert_eq!(checked.config.request_timeout(), Duration::from_secs(20));
/// assert_eq!(checked.connect_timeout, ClientSettings::DEFAULT_CONNECT_TIMEOUT);
/// # Ok::<(), auth_client::BuildError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientSettings {
    /// Where requests go (default: postpress).
    pub target: Target,
    /// The API key (none by default: [`check`](Self::check) requires one).
    pub api_key: Option<ApiKey>,
    /// How the API key is sent (default: `X-API-KEY`).
    pub auth_scheme: AuthScheme,
    /// What is sent again, how often and after what wait (default:
    /// [`RetryPolicy::default`]).
    pub retry_policy: RetryPolicy,
    /// How long making a connection may take (default:
    /// [`DEFAULT_CONNECT_TIMEOUT`](Self::DEFAULT_CONNECT_TIMEOUT)).
    pub connect_timeout: Duration,
    /// How long a request may take (default: [`Config::DEFAULT_REQUEST_TIMEOUT`]).
    pub request_timeout: Duration,
    /// How long an authentication intent lives (default: [`Config::DEFAULT_INTENT_TTL`]).
    pub intent_ttl: Duration,
    /// The largest answer body read (default:
    /// [`DEFAULT_MAX_ANSWER_BYTES`](Self::DEFAULT_MAX_ANSWER_BYTES)).
    pub max_answer_bytes: u64,
    /// Whether plain `http://` is allowed to a host that is not loopback (default: no).
    pub allow_insecure_http: bool,
    /// Told of every exchange, if any (default: none).
    pub observer: Option<Observer>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            target: Target::Postpress,
            api_key: None,
            auth_scheme: AuthScheme::default(),
            retry_policy: RetryPolicy::default(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Config::DEFAULT_REQUEST_TIMEOUT,
            intent_ttl: Config::DEFAULT_INTENT_TTL,
            max_answer_bytes: Self::DEFAULT_MAX_ANSWER_BYTES,
            allow_insecure_http: false,
            observer: None,
        }
    }
}

impl fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSettings")
            .field("base_url", &self.target.shown(self.allow_insecure_http))
            .field("api_key", &self.api_key)
            .field("auth_scheme", &self.auth_scheme)
            .field("retry_policy", &self.retry_policy)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("intent_ttl", &self.intent_ttl)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl ClientSettings {
    /// How long making a connection (DNS, TCP, TLS) may take by default: ten seconds.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// The largest answer body read by default: 1 MiB.
    pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 1 << 20;

    /// Checks every setting, in this order, and gives what a client is built from.
    ///
    /// - The API key is set, not blank, and a valid HTTP header value (as the `http` crate
    ///   both clients' stacks use says): [`BuildError::MissingApiKey`], or
    ///   [`BuildError::InvalidSetting`] `api_key` (the key is never shown).
    /// - The base URL passes [`Target::parse`]: [`BuildError::BaseUrl`].
    /// - `connect_timeout`, `request_timeout` and `intent_ttl` are more than zero and at most
    ///   [`MAX_REQUEST_TIMEOUT`], and `max_answer_bytes` more than zero:
    ///   [`BuildError::InvalidSetting`] with the setting's name.
    pub fn check(self) -> Result<CheckedSettings, BuildError> {
        let api_key = match self.api_key {
            Some(key) if !key.expose_secret().trim().is_empty() => key,
            _ => return Err(BuildError::MissingApiKey),
        };
        if http::HeaderValue::from_str(api_key.expose_secret()).is_err() {
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
            // Timers add a timeout to `Instant::now()`: a huge one would overflow.
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
        Ok(CheckedSettings {
            config,
            base_url,
            connect_timeout: self.connect_timeout,
            max_answer_bytes: self.max_answer_bytes,
            observer: self.observer,
        })
    }
}

/// Settings that passed [`ClientSettings::check`]: the core's [`Config`], and the numbers and
/// observer a client builds its transport with.
#[non_exhaustive]
pub struct CheckedSettings {
    /// The core's configuration: the API key and how it is sent, the request timeout, the
    /// intent lifetime, the retry policy.
    pub config: Config,
    /// Where requests go, checked.
    pub base_url: BaseUrl,
    /// How long making a connection (DNS, TCP, TLS) may take.
    pub connect_timeout: Duration,
    /// The largest answer body read.
    pub max_answer_bytes: u64,
    /// Told of every exchange, if any.
    pub observer: Option<Observer>,
}

impl fmt::Debug for CheckedSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedSettings")
            .field("config", &self.config)
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::sync::Arc;

    use super::*;

    fn with_key() -> ClientSettings {
        ClientSettings {
            api_key: Some("k".into()),
            ..ClientSettings::default()
        }
    }

    #[test]
    fn a_unipile_dsn_over_plain_http_needs_allow_insecure_http_as_any_url_does() {
        let unipile = |allow_insecure_http| ClientSettings {
            target: Target::Unipile("http://api1.unipile.com:13111".to_owned()),
            allow_insecure_http,
            ..with_key()
        };
        assert!(matches!(
            unipile(false).check(),
            Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))
        ));
        assert_eq!(
            unipile(true).check().unwrap().base_url.to_string(),
            "http://api1.unipile.com:13111/api/v1"
        );
    }

    #[test]
    fn the_api_key_is_a_header_value_by_the_http_crate_s_rule() {
        let check = |key: &str| {
            ClientSettings {
                api_key: Some(key.into()),
                ..ClientSettings::default()
            }
            .check()
            .map(drop)
        };
        assert_eq!(check("sk-0123\tabc"), Ok(()));
        for refused in ["a\nb", "a\rb", "a\u{7f}b", "a\0b"] {
            assert!(
                matches!(
                    check(refused),
                    Err(BuildError::InvalidSetting {
                        setting: "api_key",
                        ..
                    })
                ),
                "{refused:?}"
            );
        }
        assert_eq!(check(" \t "), Err(BuildError::MissingApiKey));
    }

    #[test]
    fn debug_shows_neither_the_api_key_nor_user_information() {
        let settings = ClientSettings {
            target: Target::Url("https://user:hunter2@api.postpress.ai/v1".to_owned()),
            api_key: Some("sk-very-secret".into()),
            ..ClientSettings::default()
        };
        let shown = format!("{settings:?} {:?}", settings.target);
        assert!(
            !shown.contains("hunter2") && !shown.contains("sk-very-secret"),
            "{shown}"
        );
        let checked = with_key().check().unwrap();
        assert!(!format!("{checked:?}").contains("sk-very-secret"));
    }

    #[test]
    fn the_checked_settings_carry_every_setting() {
        let checked = ClientSettings {
            target: Target::Url("https://api.postpress.ai/v1?port=12345".to_owned()),
            auth_scheme: AuthScheme::Bearer,
            retry_policy: RetryPolicy::never(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
            intent_ttl: Duration::from_secs(60),
            max_answer_bytes: 4096,
            observer: Some(Arc::new(|_| {})),
            ..with_key()
        }
        .check()
        .unwrap();
        assert_eq!(
            checked.base_url.url_for("/accounts"),
            "https://api.postpress.ai/v1/accounts?port=12345"
        );
        assert_eq!(checked.config.api_key().expose_secret(), "k");
        assert_eq!(checked.config.auth_scheme(), AuthScheme::Bearer);
        assert_eq!(checked.config.retry_policy(), &RetryPolicy::never());
        assert_eq!(checked.config.request_timeout(), Duration::from_secs(5));
        assert_eq!(checked.config.intent_ttl(), Duration::from_secs(60));
        assert_eq!(checked.connect_timeout, Duration::from_secs(3));
        assert_eq!(checked.max_answer_bytes, 4096);
        assert!(checked.observer.is_some());
    }
}

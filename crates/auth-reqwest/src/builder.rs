//! The client's settings, and the checks made once, before anything is sent.

use std::fmt;
use std::time::Duration;

use auth_client::ClientSettings;
use auth_core::{AsyncClock, AuthScheme, BaseUrl, Config};
use reqwest::header::{HeaderName, HeaderValue};

use crate::client::Client;
use crate::clock::ClientClock;
use crate::transport::ReqwestTransport;
use crate::{BuildError, HttpVersion, SystemClock, USER_AGENT};

/// Settings for a [`Client`]; [`ClientBuilder::build`] checks them. The setters are those of
/// every client of this workspace ([`auth_client::client_builder_setters!`]), with the same
/// names and defaults as the blocking client's (`auth-ureq`).
///
/// Defaults: the postpress base URL, the API key in `X-API-KEY`, the core's
/// [`RetryPolicy::default`](crate::RetryPolicy::default), connect timeout 10 s, request
/// timeout 30 s, intent lifetime 300 s, answers up to 1 MiB, https only (plain http to
/// loopback hosts), the [`SystemClock`], no observer.
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
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    settings: ClientSettings,
    clock: Option<ClientClock>,
    http_version: HttpVersion,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("settings", &self.settings)
            .field("clock", &self.clock.as_ref().map_or("system", |_| "custom"))
            .field("http_version", &self.http_version)
            .finish()
    }
}

impl ClientBuilder {
    auth_client::client_builder_setters!();

    /// The clock the client reads before every input to the core, and sleeps on for a
    /// retry's wait (default: [`SystemClock`], on tokio's timer). A test's clock moves its
    /// time in [`AsyncClock::sleep_until`] instead of sleeping, so retries cost no real time.
    pub fn clock(mut self, clock: impl AsyncClock + Send + 'static) -> Self {
        self.clock = Some(ClientClock::new(clock));
        self
    }

    /// Which HTTP version the client speaks (default [`HttpVersion::Http1Only`]). With
    /// [`HttpVersion::Http2Only`] or a server that offers HTTP/2, every request in flight
    /// shares one connection: many in-app validations held at once cost a stream each
    /// instead of a connection each.
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.http_version = version;
        self
    }

    /// Checks the settings ([`ClientSettings::check`]) and builds the client, with its pool
    /// of connections. Nothing is sent. The client runs on tokio (its futures need a tokio
    /// runtime with IO and time).
    pub fn build(self) -> Result<Client, BuildError> {
        let checked = self.settings.check()?;
        let http =
            http_client(&checked.base_url, checked.connect_timeout, self.http_version).map_err(|_| {
                BuildError::InvalidSetting {
                    setting: "tls",
                    reason: "the HTTP client (its TLS configuration) could not be built",
                }
            })?;
        let auth = auth_header(&checked.config);
        let clock = self.clock.unwrap_or_else(|| ClientClock::new(SystemClock));
        let transport = ReqwestTransport::new(
            http,
            checked.base_url,
            checked.max_answer_bytes,
            auth,
            checked.observer,
        );
        Ok(Client::from_parts(transport, checked.config, clock))
    }
}

/// The reqwest client: one pool, no redirect followed, rustls, the client's user agent, the
/// connect timeout; proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
/// `NO_PROXY`), never for a loopback host, where a proxy could only get in the way of a
/// local simulator; the HTTP version asked for. Each request's budget is its own
/// (`Request::timeout`).
pub(crate) fn http_client(
    base_url: &BaseUrl,
    connect_timeout: Duration,
    version: HttpVersion,
) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(USER_AGENT)
        .tcp_nodelay(true);
    let builder = version.apply(builder);
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

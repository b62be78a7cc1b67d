//! The client's settings, and the checks made once, before anything is sent.

use std::fmt;
use std::sync::Arc;

use auth_client::ClientSettings;
use auth_core::Clock;

use crate::client::{Client, SharedClock};
use crate::{BuildError, SystemClock, USER_AGENT};

/// Settings for a [`Client`]; [`ClientBuilder::build`] checks them. The setters are those of
/// every client of this workspace ([`auth_client::client_builder_setters!`]), with the same
/// names and defaults as the async client's (`auth-reqwest`).
///
/// Defaults: the postpress base URL, the API key in `X-API-KEY`, the core's
/// [`RetryPolicy::default`](crate::RetryPolicy::default), connect timeout 10 s, request
/// timeout 30 s, intent lifetime 300 s, answers up to 1 MiB, https only (plain http to
/// loopback hosts), the [`SystemClock`], no observer.
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
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    settings: ClientSettings,
    clock: Option<SharedClock>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("settings", &self.settings)
            .field("clock", &self.clock.as_ref().map_or("system", |_| "custom"))
            .finish()
    }
}

impl ClientBuilder {
    auth_client::client_builder_setters!();

    /// The clock the client reads before every input to the core, and sleeps on for a
    /// retry's wait (default: [`SystemClock`]). A test's clock moves its time in
    /// [`Clock::sleep_until`] instead of sleeping, so retries cost no real time.
    pub fn clock(mut self, clock: impl Clock + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the settings ([`ClientSettings::check`]) and builds the client, with its
    /// agent. Nothing is sent.
    pub fn build(self) -> Result<Client, BuildError> {
        let checked = self.settings.check()?;
        // Proxies from the environment, as ureq reads them; never for loopback hosts, where
        // a proxy could only get in the way of a local simulator.
        let proxy = if checked.base_url.is_loopback() {
            None
        } else {
            ureq::Proxy::try_from_env()
        };
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(checked.connect_timeout))
            .user_agent(USER_AGENT)
            .proxy(proxy)
            .build();
        let agent = ureq::Agent::new_with_config(agent_config);
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        Ok(Client::from_parts(
            agent,
            checked.base_url,
            checked.config,
            checked.max_answer_bytes,
            clock,
            checked.observer,
        ))
    }
}

//! The setters every client's `ClientBuilder` has, written once.

/// The setters of a client's `ClientBuilder`, the same in every client of this workspace:
/// one per field of [`ClientSettings`](crate::ClientSettings), each documented for the
/// client's users, and the two `DEFAULT_*` constants.
///
/// Expanded inside `impl ClientBuilder { … }` of a builder that keeps its settings in a field
/// named `settings` (a [`ClientSettings`](crate::ClientSettings)); the builder adds what is
/// its own: the clock (a blocking [`Clock`](auth_core::Clock) or an
/// [`AsyncClock`](auth_core::AsyncClock)) and `build`, which calls
/// [`ClientSettings::check`](crate::ClientSettings::check) and makes the client's HTTP
/// stack. A client that moves from one crate to the other keeps every setter, by
/// construction.
///
/// ```
/// use auth_client::{BuildError, CheckedSettings, ClientSettings};
///
/// /// A client's builder.
/// #[derive(Default)]
/// #[must_use]
/// pub struct ClientBuilder {
///     settings: ClientSettings,
/// }
///
/// impl ClientBuilder {
///     auth_client::client_builder_setters!();
///
///     /// Checks the settings.
///     pub fn build(self) -> Result<CheckedSettings, BuildError> {
///         self.settings.check()
///     }
/// }
///
/// let checked = ClientBuilder::default().unipile("api1.unipile.com:13111").api_key("k").build()?;
/// assert_eq!(checked.base_url.to_string(), "https://api1.unipile.com:13111/api/v1");
/// # Ok::<(), BuildError>(())
/// ```
#[macro_export]
macro_rules! client_builder_setters {
    () => {
        /// How long making a connection (DNS, TCP, TLS) may take by default: ten seconds.
        pub const DEFAULT_CONNECT_TIMEOUT: ::std::time::Duration =
            $crate::ClientSettings::DEFAULT_CONNECT_TIMEOUT;

        /// The largest answer body read by default: 1 MiB.
        pub const DEFAULT_MAX_ANSWER_BYTES: u64 = $crate::ClientSettings::DEFAULT_MAX_ANSWER_BYTES;

        /// The postpress API, `https://api.postpress.ai/v1` (the default).
        pub fn postpress(mut self) -> Self {
            self.settings.target = $crate::Target::Postpress;
            self
        }

        /// The Unipile API of a DSN, `https://{dsn}/api/v1`; `dsn` is `host:port` as Unipile's
        /// dashboard shows it (a leading `https://` is accepted too). See
        /// [`BaseUrl::unipile`](auth_core::BaseUrl::unipile): plain http only to a loopback
        /// host, unless [`allow_insecure_http`](Self::allow_insecure_http).
        pub fn unipile(mut self, dsn: &str) -> Self {
            self.settings.target = $crate::Target::Unipile(dsn.to_owned());
            self
        }

        /// Any base URL, checked by [`build`](Self::build) with
        /// [`BaseUrl::parse_with`](auth_core::BaseUrl::parse_with): request paths
        /// (`/accounts`…) are appended to it. A trailing slash is tolerated; a query
        /// (postpress's `?port=12345`, where custom ports are blocked) is kept and sent with
        /// every request; user information and a fragment are refused.
        pub fn base_url(mut self, url: impl Into<String>) -> Self {
            self.settings.target = $crate::Target::Url(url.into());
            self
        }

        /// The API key, sent with every request (see [`auth_scheme`](Self::auth_scheme)), and
        /// only to the base URL's host.
        pub fn api_key(mut self, key: impl Into<$crate::__private::ApiKey>) -> Self {
            self.settings.api_key = Some(key.into());
            self
        }

        /// How the API key is sent: `X-API-KEY` (the default; postpress and Unipile) or
        /// `Authorization: Bearer` (postpress only).
        pub fn auth_scheme(mut self, scheme: $crate::__private::AuthScheme) -> Self {
            self.settings.auth_scheme = scheme;
            self
        }

        /// What is sent again, how often and after what wait, never past an intent's
        /// deadline: the core's [`RetryPolicy`](auth_core::RetryPolicy) (default: 4
        /// attempts; [`RetryPolicy::never`](auth_core::RetryPolicy::never) turns retries
        /// off). Every attempt of a request carries the same `Idempotency-Key`.
        pub fn retry_policy(mut self, policy: $crate::__private::RetryPolicy) -> Self {
            self.settings.retry_policy = policy;
            self
        }

        /// How long making a connection (DNS, TCP, TLS) may take: more than zero, at most
        /// [`MAX_REQUEST_TIMEOUT`](crate::MAX_REQUEST_TIMEOUT) (checked by
        /// [`build`](Self::build)).
        pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.settings.connect_timeout = timeout;
            self
        }

        /// How long a request may take, answer body included. An in-app validation is the
        /// exception: it may take the intent's whole remaining time. More than zero, at most
        /// [`MAX_REQUEST_TIMEOUT`](crate::MAX_REQUEST_TIMEOUT) (checked by
        /// [`build`](Self::build)).
        pub fn request_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.settings.request_timeout = timeout;
            self
        }

        /// How long an authentication intent lives (the server's is five minutes). More
        /// than zero, at most [`MAX_REQUEST_TIMEOUT`](crate::MAX_REQUEST_TIMEOUT) (checked by
        /// [`build`](Self::build)).
        pub fn intent_ttl(mut self, ttl: ::std::time::Duration) -> Self {
            self.settings.intent_ttl = ttl;
            self
        }

        /// The largest answer body read (default 1 MiB); a larger one is an error and is
        /// not read further. More than zero (checked by [`build`](Self::build)).
        pub fn max_answer_bytes(mut self, max: u64) -> Self {
            self.settings.max_answer_bytes = max;
            self
        }

        /// Allows plain `http://` to any host, for [`base_url`](Self::base_url) and
        /// [`unipile`](Self::unipile) alike. Off by default: without it, plain http is
        /// accepted only to `localhost`, `127.0.0.0/8` and `::1`.
        pub fn allow_insecure_http(mut self, yes: bool) -> Self {
            self.settings.allow_insecure_http = yes;
            self
        }

        /// Called after every attempt of every request, with the request, its answer or
        /// failure, and how long it took. Headers and bodies are shown redacted by their
        /// `Debug` and [`Body::redacted`](auth_core::Body::redacted); never log
        /// `Header::value` of a sensitive header.
        pub fn on_exchange(
            mut self,
            observer: impl Fn(&$crate::Exchange<'_>) + Send + Sync + 'static,
        ) -> Self {
            self.settings.observer = Some(::std::sync::Arc::new(observer));
            self
        }
    };
}

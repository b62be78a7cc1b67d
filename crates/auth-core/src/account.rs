//! Who is being connected: the provider, the account id, the credentials.

use std::fmt;

use serde::{Deserialize, Serialize};

use std::net::Ipv4Addr;

use crate::secret::{Password, ProxyPassword, SecretString};

/// The messaging network an account belongs to.
///
/// Messenger is this project's first job; the others share the same connect and solve
/// flow on the same endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Provider {
    /// Facebook Messenger (`MESSENGER`).
    Messenger,
    /// LinkedIn (`LINKEDIN`).
    Linkedin,
    /// Instagram (`INSTAGRAM`).
    Instagram,
    /// Twitter / X (`TWITTER`).
    Twitter,
}

impl Provider {
    /// Every provider, in the contract's order.
    pub const ALL: [Self; 4] = [Self::Messenger, Self::Linkedin, Self::Instagram, Self::Twitter];

    /// Whether the provider's checkpoints can be sent again (`POST /accounts/checkpoint/resend`
    /// takes `LINKEDIN`, `INSTAGRAM` or `MESSENGER`, not `TWITTER`).
    pub const fn supports_resend(self) -> bool {
        !matches!(self, Self::Twitter)
    }

    /// The name on the wire: `MESSENGER`, `LINKEDIN`, `INSTAGRAM` or `TWITTER`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Messenger => "MESSENGER",
            Self::Linkedin => "LINKEDIN",
            Self::Instagram => "INSTAGRAM",
            Self::Twitter => "TWITTER",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Provider {
    type Err = UnknownProvider;

    /// Parses a provider name, ignoring case: `messenger`, `MESSENGER`, `LinkedIn`…
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownProvider(name.to_owned()))
    }
}

/// A provider name that is not one of [`Provider::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{0}`: expected one of MESSENGER, LINKEDIN, INSTAGRAM, TWITTER")]
pub struct UnknownProvider(pub String);

/// The server's id of an account, as returned with a checkpoint or a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    /// Wraps an account id. Empty ids are refused when a request is built.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as the server wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Why this id cannot name an account in a request path, if it cannot: it is empty, or
    /// it is a dot segment (`.` or `..`), which any URL library would resolve away.
    pub(crate) fn path_problem(&self) -> Option<&'static str> {
        match self.0.as_str() {
            "" => Some("the account id must not be empty"),
            "." | ".." => Some("the account id must not be `.` or `..`"),
            _ => None,
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AccountId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for AccountId {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

/// What the user types to connect an account: provider, username and password, and the
/// optional fields of a connect ([`ConnectOptions`]).
///
/// ```
/// use auth_core::{ConnectOptions, Credentials, Provider, Proxy};
/// let credentials = Credentials::messenger("alice", "pw-a").with_options(
///     ConnectOptions::new()
///         .country("FR")
///         .proxy(Proxy::new("proxy.example.com", 8080).auth("user", "proxy-secret")),
/// );
/// assert_eq!(credentials.provider(), Provider::Messenger);
/// let shown = format!("{credentials:?}");
/// assert!(!shown.contains("pw-a") && !shown.contains("proxy-secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    provider: Provider,
    username: String,
    password: Password,
    /// Boxed: most connects have none, and the credentials move through the machine by value.
    options: Option<Box<ConnectOptions>>,
}

impl Credentials {
    /// Credentials of an account of any provider.
    pub fn new(provider: Provider, username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self {
            provider,
            username: username.into(),
            password: password.into(),
            options: None,
        }
    }

    /// Credentials of a Messenger account.
    pub fn messenger(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self::new(Provider::Messenger, username, password)
    }

    /// The same credentials with the optional fields of a connect.
    #[must_use]
    pub fn with_options(mut self, options: ConnectOptions) -> Self {
        self.options = (options != ConnectOptions::default()).then(|| Box::new(options));
        self
    }

    /// The provider these credentials are for.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The username (not a secret, though it is never stored in a snapshot).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &Password {
        &self.password
    }

    /// The password and the proxy's password, moved out without a copy (to be remembered
    /// for scrubbing after the request is done).
    pub(crate) fn into_secrets(self) -> (SecretString, Option<SecretString>) {
        let proxy = self
            .options
            .and_then(|options| options.proxy)
            .and_then(|proxy| proxy.password)
            .map(ProxyPassword::into_inner);
        (self.password.into_inner(), proxy)
    }

    /// The optional fields of the connect.
    pub fn options(&self) -> &ConnectOptions {
        const NONE: &ConnectOptions = &ConnectOptions {
            proxy: None,
            country: None,
            ip: None,
            user_agent: None,
            sync_limit: None,
        };
        self.options.as_deref().unwrap_or(NONE)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("provider", &self.provider)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("options", &self.options)
            .finish()
    }
}

/// The optional fields of a connect or reconnect, shared by every provider
/// (`accounts-connect`, `accounts-reconnect`). Only the fields set are sent.
///
/// ```
/// use auth_core::{ConnectOptions, SyncFrom, SyncLimit};
/// let options = ConnectOptions::new()
///     .country("fr")
///     .ip("203.0.113.7".parse().unwrap())
///     .user_agent("Mozilla/5.0 (X11; Linux x86_64)")
///     .sync_limit(SyncLimit::new().chats(SyncFrom::Count(0)).messages(SyncFrom::Count(100)));
/// assert_eq!(options.country_code(), Some("FR"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// The proxy the provider should be reached through.
    pub proxy: Option<Proxy>,
    /// Where the provider's proxy should be: an ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// An IPv4 address from which to infer that location.
    pub ip: Option<Ipv4Addr>,
    /// The exact user agent of the browser the account usually logs in from (the
    /// documented remedy for disconnections).
    pub user_agent: Option<String>,
    /// How much history to synchronise.
    pub sync_limit: Option<SyncLimit>,
}

impl ConnectOptions {
    /// No optional field.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the proxy.
    #[must_use]
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Sets the country: an ISO 3166-1 alpha-2 code, in any case (sent in upper case;
    /// checked when the request is built).
    #[must_use]
    pub fn country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into().trim().to_ascii_uppercase());
        self
    }

    /// Sets the IPv4 address that locates the provider's proxy.
    #[must_use]
    pub fn ip(mut self, ip: Ipv4Addr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Sets the browser's user agent.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets the synchronisation limits.
    #[must_use]
    pub fn sync_limit(mut self, sync_limit: SyncLimit) -> Self {
        self.sync_limit = Some(sync_limit);
        self
    }

    /// The country as sent: upper case.
    pub fn country_code(&self) -> Option<&str> {
        self.country.as_deref()
    }

    /// Checks the fields a server would refuse, before anything is sent.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if let Some(country) = &self.country {
            let country = country.trim();
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err("the country must be an ISO 3166-1 alpha-2 code, such as FR");
            }
        }
        if let Some(proxy) = &self.proxy {
            if proxy.host.trim().is_empty() {
                return Err("the proxy host must not be empty");
            }
            if proxy.port == 0 {
                return Err("the proxy port must not be 0");
            }
        }
        if self.user_agent.as_deref().is_some_and(|ua| ua.trim().is_empty()) {
            return Err("the user agent must not be empty");
        }
        Ok(())
    }
}

/// The proxy of a connect: `{"protocol","host","port","username","password"}`.
///
/// Its password is a secret like the account's: redacted in `Debug`, never saved, and
/// scrubbed from anything the server sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proxy {
    /// `https`, `http` or `socks5`; the server's default when absent.
    pub protocol: Option<ProxyProtocol>,
    /// The proxy's host.
    pub host: String,
    /// The proxy's port.
    pub port: u16,
    /// The proxy's user name, if it needs one.
    pub username: Option<String>,
    /// The proxy's password, if it needs one.
    pub password: Option<ProxyPassword>,
}

impl Proxy {
    /// A proxy at `host:port`, without authentication.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            protocol: None,
            host: host.into(),
            port,
            username: None,
            password: None,
        }
    }

    /// Sets the protocol.
    #[must_use]
    pub fn protocol(mut self, protocol: ProxyProtocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Sets the user name and password.
    #[must_use]
    pub fn auth(mut self, username: impl Into<String>, password: impl Into<ProxyPassword>) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }
}

/// The protocol of a [`Proxy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProxyProtocol {
    /// `https`.
    Https,
    /// `http`.
    Http,
    /// `socks5`.
    Socks5,
}

/// How much history a connected account synchronises: `{"chats":…,"messages":…}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncLimit {
    /// From when, or how many, chats.
    pub chats: Option<SyncFrom>,
    /// From when, or how many, messages.
    pub messages: Option<SyncFrom>,
}

impl SyncLimit {
    /// No limit set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the chats' limit.
    #[must_use]
    pub fn chats(mut self, from: SyncFrom) -> Self {
        self.chats = Some(from);
        self
    }

    /// Sets the messages' limit.
    #[must_use]
    pub fn messages(mut self, from: SyncFrom) -> Self {
        self.messages = Some(from);
        self
    }
}

/// One limit of a [`SyncLimit`]: a count (0 = no history), or a UTC datetime to sync from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum SyncFrom {
    /// At most this many (0: no history).
    Count(u64),
    /// From this UTC datetime, as the API writes it (`2025-01-01T00:00:00.000Z`).
    Since(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_round_trip_ignoring_case() {
        for provider in Provider::ALL {
            assert_eq!(provider.as_str().parse::<Provider>(), Ok(provider));
            assert_eq!(provider.as_str().to_lowercase().parse::<Provider>(), Ok(provider));
        }
        assert!("MYSPACE".parse::<Provider>().is_err());
    }
}

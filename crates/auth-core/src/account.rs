//! Who is being connected: the provider, the account id, the credentials.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::Password;

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

/// What the user types to connect an account: provider, username and password.
///
/// ```
/// use auth_core::{Credentials, Provider};
/// let credentials = Credentials::messenger("alice", "pw-a");
/// assert_eq!(credentials.provider(), Provider::Messenger);
/// assert!(!format!("{credentials:?}").contains("pw-a"));
/// ```
#[derive(Clone)]
pub struct Credentials {
    provider: Provider,
    username: String,
    password: Password,
}

impl Credentials {
    /// Credentials of an account of any provider.
    pub fn new(provider: Provider, username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self {
            provider,
            username: username.into(),
            password: password.into(),
        }
    }

    /// Credentials of a Messenger account.
    pub fn messenger(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self::new(Provider::Messenger, username, password)
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

    /// The password, moved out without a copy.
    pub(crate) fn into_password(self) -> Password {
        self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("provider", &self.provider)
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
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

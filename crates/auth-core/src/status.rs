//! An account's status, as `GET /accounts/{account_id}` gives it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::AccountId;

/// An account as `GET /accounts/{account_id}` describes it (`"object":"Account"`): after
/// `AccountCreated`, the account may still be `CONNECTING`; its sources say how it is.
///
/// ```
/// use auth_core::{AccountStatus, SourceStatus};
/// let account: AccountStatus = serde_json::from_str(
///     r#"{"object":"Account","id":"a1","type":"MESSENGER","name":"Bob","sources":[{"id":"a1_MESSAGING","status":"CONNECTING"}]}"#,
/// ).unwrap();
/// assert_eq!(account.status(), SourceStatus::Connecting);
/// assert!(!account.is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountStatus {
    /// The account's id.
    #[serde(rename = "id")]
    pub account_id: AccountId,
    /// The provider, as the API writes it (`MESSENGER`…).
    #[serde(rename = "type", default)]
    pub provider: Option<String>,
    /// The account's display name.
    #[serde(default)]
    pub name: Option<String>,
    /// When the account was created, as the API writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The account's sources and the status of each.
    #[serde(default)]
    pub sources: Vec<Source>,
}

impl AccountStatus {
    /// The least healthy status among the sources (in the order `ERROR`, `CREDENTIALS`,
    /// `PERMISSIONS`, `STOPPED`, an unknown one, `CONNECTING`, `OK`); `CONNECTING` when the
    /// account lists no source yet.
    pub fn status(&self) -> SourceStatus {
        self.sources
            .iter()
            .map(|source| source.status.clone())
            .max_by_key(SourceStatus::severity)
            .unwrap_or(SourceStatus::Connecting)
    }

    /// Whether every source is `OK`.
    pub fn is_ok(&self) -> bool {
        !self.sources.is_empty() && self.sources.iter().all(|s| s.status == SourceStatus::Ok)
    }
}

/// One source of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Source {
    /// The source's id.
    pub id: String,
    /// Its status.
    pub status: SourceStatus,
}

/// The status of an account's source (`accounts-get`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum SourceStatus {
    /// `OK`: working.
    Ok,
    /// `CONNECTING`: connected a moment ago, still starting.
    Connecting,
    /// `CREDENTIALS`: the credentials stopped working: reconnect the account.
    Credentials,
    /// `PERMISSIONS`: a permission is missing.
    Permissions,
    /// `STOPPED`: stopped.
    Stopped,
    /// `ERROR`: failing.
    Error,
    /// Any other status, as the server wrote it.
    Other(String),
}

impl SourceStatus {
    /// The status as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ok => "OK",
            Self::Connecting => "CONNECTING",
            Self::Credentials => "CREDENTIALS",
            Self::Permissions => "PERMISSIONS",
            Self::Stopped => "STOPPED",
            Self::Error => "ERROR",
            Self::Other(name) => name,
        }
    }

    fn severity(&self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Connecting => 1,
            Self::Other(_) => 2,
            Self::Stopped => 3,
            Self::Permissions => 4,
            Self::Credentials => 5,
            Self::Error => 6,
        }
    }
}

impl From<String> for SourceStatus {
    fn from(name: String) -> Self {
        match name.as_str() {
            "OK" => Self::Ok,
            "CONNECTING" => Self::Connecting,
            "CREDENTIALS" => Self::Credentials,
            "PERMISSIONS" => Self::Permissions,
            "STOPPED" => Self::Stopped,
            "ERROR" => Self::Error,
            _ => Self::Other(name),
        }
    }
}

impl From<SourceStatus> for String {
    fn from(status: SourceStatus) -> Self {
        match status {
            SourceStatus::Other(name) => name,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for SourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

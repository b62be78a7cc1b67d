//! Everything that can go wrong, split by who is at fault.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::time::UnixMillis;

/// Who caused an [`Error`]: what a caller needs to decide whether to retry, fix its code,
/// or tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The caller misused the machine (solve while idle, a second request in flight…).
    Caller,
    /// The server answered with an error of the contract.
    Server,
    /// The server broke the contract: an answer the machine cannot read.
    Protocol,
    /// The network or the transport failed before an answer arrived.
    Network,
    /// The authentication intent ended (expired or destroyed): start over with connect.
    IntentEnded,
}

/// Any error the machine returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller misused the machine; nothing was sent and the state did not change.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The server answered with an error (wrong credentials, wrong code, bad API key, 5xx…).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The authentication intent ran out of time.
    #[error(transparent)]
    IntentExpired(#[from] IntentExpired),
    /// The authentication intent destroyed itself on the server.
    #[error(transparent)]
    IntentDestroyed(Box<IntentDestroyed>),
    /// The server's answer is outside the contract.
    #[error(transparent)]
    Malformed(#[from] MalformedAnswer),
    /// The transport failed to get an answer.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Self::Api(Box::new(error))
    }
}

impl From<IntentDestroyed> for Error {
    fn from(destroyed: IntentDestroyed) -> Self {
        Self::IntentDestroyed(Box::new(destroyed))
    }
}

impl Error {
    /// Who is at fault.
    pub fn fault(&self) -> Fault {
        match self {
            Self::Usage(_) => Fault::Caller,
            Self::Api(_) => Fault::Server,
            Self::IntentExpired(_) | Self::IntentDestroyed(_) => Fault::IntentEnded,
            Self::Malformed(_) => Fault::Protocol,
            Self::Transport(_) => Fault::Network,
        }
    }

    /// The server's error, when the server answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api(error) => Some(error),
            Self::IntentDestroyed(destroyed) => Some(&destroyed.cause),
            _ => None,
        }
    }
}

/// A misuse of the machine by its caller. Nothing was sent and the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// A request is already in flight; feed its answer (or its transport error) first.
    #[error("a request is already in flight: handle its answer before starting another")]
    RequestInFlight,
    /// An answer or a transport error was fed while no request was in flight.
    #[error("no request is in flight: there is no answer to handle")]
    NoRequestInFlight,
    /// Solve or resend while no authentication intent is pending.
    #[error("no authentication intent is pending: connect first")]
    NoPendingIntent,
    /// A required field is empty.
    #[error("the {0} must not be empty")]
    Empty(&'static str),
}

/// An error answer of the API, in the contract's shape.
///
/// `title`, `detail` and `instance` are the server's words, with any secret of the request
/// redacted. A body that is not JSON keeps the status and a short excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The error's `type`, when the body had one.
    pub kind: Option<ErrorType>,
    /// The error's `title`.
    pub title: Option<String>,
    /// The error's `detail`.
    pub detail: Option<String>,
    /// The error's `instance`.
    pub instance: Option<String>,
    /// The start of the body, when it was not the contract's JSON error shape.
    pub excerpt: Option<String>,
}

impl ApiError {
    /// Whether this is a wrong checkpoint code (`errors/invalid_checkpoint_solution`):
    /// the intent is still alive and the checkpoint may be solved again.
    pub fn is_wrong_code(&self) -> bool {
        self.kind == Some(ErrorType::InvalidCheckpointSolution)
    }

    /// Whether the request itself was refused as malformed (400 with `invalid_parameters`,
    /// `missing_parameters` or `malformed_request`).
    pub fn is_malformed_request(&self) -> bool {
        matches!(
            self.kind,
            Some(ErrorType::InvalidParameters | ErrorType::MissingParameters | ErrorType::MalformedRequest)
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the API answered {}", self.status)?;
        if let Some(kind) = &self.kind {
            write!(f, " {kind}")?;
        }
        for text in [&self.title, &self.detail, &self.excerpt].into_iter().flatten() {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The `type` of an error answer. Types this crate does not know are kept by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ErrorType {
    /// `errors/invalid_credentials`: wrong username or password.
    InvalidCredentials,
    /// `errors/missing_credentials`: missing or unknown API key.
    MissingCredentials,
    /// `errors/invalid_checkpoint_solution`: wrong code; the intent is still alive.
    InvalidCheckpointSolution,
    /// `errors/authentication_intent_error`: the intent was killed after a failure.
    AuthenticationIntentError,
    /// `errors/invalid_parameters`.
    InvalidParameters,
    /// `errors/missing_parameters`.
    MissingParameters,
    /// `errors/malformed_request`.
    MalformedRequest,
    /// `errors/checkpoint_error`.
    CheckpointError,
    /// `errors/expired_credentials`.
    ExpiredCredentials,
    /// `errors/multiple_sessions`.
    MultipleSessions,
    /// `errors/disconnected_account`.
    DisconnectedAccount,
    /// `errors/insufficient_privileges`.
    InsufficientPrivileges,
    /// `errors/wrong_account`.
    WrongAccount,
    /// Any other type, as the server wrote it.
    Other(String),
}

impl ErrorType {
    const KNOWN: [(Self, &'static str); 13] = [
        (Self::InvalidCredentials, "errors/invalid_credentials"),
        (Self::MissingCredentials, "errors/missing_credentials"),
        (
            Self::InvalidCheckpointSolution,
            "errors/invalid_checkpoint_solution",
        ),
        (
            Self::AuthenticationIntentError,
            "errors/authentication_intent_error",
        ),
        (Self::InvalidParameters, "errors/invalid_parameters"),
        (Self::MissingParameters, "errors/missing_parameters"),
        (Self::MalformedRequest, "errors/malformed_request"),
        (Self::CheckpointError, "errors/checkpoint_error"),
        (Self::ExpiredCredentials, "errors/expired_credentials"),
        (Self::MultipleSessions, "errors/multiple_sessions"),
        (Self::DisconnectedAccount, "errors/disconnected_account"),
        (Self::InsufficientPrivileges, "errors/insufficient_privileges"),
        (Self::WrongAccount, "errors/wrong_account"),
    ];

    /// The type as written on the wire: `errors/invalid_credentials`…
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(name) => name,
            known => Self::KNOWN
                .iter()
                .find(|(kind, _)| kind == known)
                .map_or("", |(_, name)| name),
        }
    }
}

impl From<String> for ErrorType {
    fn from(name: String) -> Self {
        Self::KNOWN
            .iter()
            .find(|(_, known)| *known == name)
            .map_or(Self::Other(name), |(kind, _)| kind.clone())
    }
}

impl From<ErrorType> for String {
    fn from(kind: ErrorType) -> Self {
        match kind {
            ErrorType::Other(name) => name,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who found out that an intent expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Detection {
    /// The machine: its deadline passed, and nothing was sent.
    Deadline,
    /// The server: it answered 408 Request Timeout.
    Server,
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Deadline => "its deadline passed; nothing was sent",
            Self::Server => "the server answered 408 Request Timeout",
        })
    }
}

/// The authentication intent ran out of its time: the account is not connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error(
    "the authentication intent of account {account_id} expired at {deadline} ({detected_by:?}): start over with connect"
)]
#[non_exhaustive]
pub struct IntentExpired {
    /// The account the intent was for.
    pub account_id: AccountId,
    /// The intent's deadline, as the machine counted it.
    pub deadline: UnixMillis,
    /// Who found out.
    pub detected_by: Detection,
}

/// The authentication intent destroyed itself on the server (a 400 after its expiry, or
/// a 500 `errors/authentication_intent_error`): start over with connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("the authentication intent of account {account_id} was destroyed: {cause}; start over with connect")]
#[non_exhaustive]
pub struct IntentDestroyed {
    /// The account the intent was for.
    pub account_id: AccountId,
    /// The answer that said so.
    pub cause: ApiError,
}

/// An answer outside the contract: a success without the expected object, a body that is
/// not JSON where JSON was required, an unexpected status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed answer (status {status}): {reason}; body starts with {excerpt:?}")]
#[non_exhaustive]
pub struct MalformedAnswer {
    /// The HTTP status.
    pub status: u16,
    /// What is wrong with it.
    pub reason: String,
    /// The start of the body (at most [`MalformedAnswer::EXCERPT_LIMIT`] bytes), secrets redacted.
    pub excerpt: String,
}

impl MalformedAnswer {
    /// The most bytes of a body an excerpt keeps.
    pub const EXCERPT_LIMIT: usize = 256;
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, unreachable).
    Connect,
    /// The request's time budget ran out.
    Timeout,
    /// TLS failed (certificate, handshake).
    Tls,
    /// The answer's body was larger than the transport accepts.
    BodyTooLarge,
    /// The server answered with a redirect, which is never followed.
    Redirect,
    /// The connection broke mid-way, or the answer was not valid HTTP.
    Io,
    /// The request was refused before sending (for example by the transport's policy).
    Refused,
    /// Anything else.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connection failed",
            Self::Timeout => "timed out",
            Self::Tls => "TLS failed",
            Self::BodyTooLarge => "answer too large",
            Self::Redirect => "redirect refused",
            Self::Io => "connection broken",
            Self::Refused => "request refused",
            Self::Other => "transport failed",
        })
    }
}

/// A transport's failure to get an answer, with the transport's own error as its source.
///
/// Transports build it; the core only routes it. Its text must not carry a secret.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TransportError {
    /// A transport error of a kind, with a message for people.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the transport's own error as the source.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_round_trip_through_their_wire_names() {
        for (kind, name) in ErrorType::KNOWN {
            assert_eq!(kind.as_str(), name);
            assert_eq!(ErrorType::from(name.to_owned()), kind);
        }
        assert_eq!(
            ErrorType::from("errors/brand_new".to_owned()),
            ErrorType::Other("errors/brand_new".to_owned())
        );
    }
}

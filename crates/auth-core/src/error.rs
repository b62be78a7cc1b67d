//! Everything that can go wrong, split by who must act.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::time::UnixMillis;

/// Who must act on an [`Error`]: what a caller needs to decide whether to retry, fix its
/// code or its configuration, or tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The caller misused the machine (solve while idle, a second request in flight…), or
    /// reused an idempotency key for another request.
    Caller,
    /// The person connecting the account: a wrong password or code, a phone number in the
    /// wrong format. Ask them again.
    User,
    /// The configuration: the API key is missing, unknown, expired or lacks the scope.
    /// Never the account's password.
    Configuration,
    /// The account itself: the provider restricted it, or the credentials belong to another
    /// account. No code will help.
    Account,
    /// The server failed, or refused for its own reasons (5xx, 429 after the retries, an
    /// error outside the contract).
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
    /// The server answered with an error: see [`ApiError::problem`].
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
    /// The transport failed to get an answer (after the retries the policy allows).
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Self::Api(Box::new(error))
    }
}

impl From<Box<ApiError>> for Error {
    fn from(error: Box<ApiError>) -> Self {
        Self::Api(error)
    }
}

impl From<IntentDestroyed> for Error {
    fn from(destroyed: IntentDestroyed) -> Self {
        Self::IntentDestroyed(Box::new(destroyed))
    }
}

impl Error {
    /// Who must act.
    pub fn fault(&self) -> Fault {
        match self {
            Self::Usage(_) => Fault::Caller,
            Self::Api(error) => error.problem.fault(),
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

    /// The request id the server gave with its error (`request_id`, `instance`, or the
    /// `x-request-id` header): what a user gives support.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error().and_then(|error| error.request_id.as_deref())
    }

    /// The request id when it reads as one ([`plain_request_id`]): what a log line or a
    /// stored page may keep. A server may write anything where the id goes (a sentence that
    /// echoes what it was sent), and a flow resumed in another process cannot take the
    /// connect's password out of it.
    pub fn plain_request_id(&self) -> Option<&str> {
        self.request_id().and_then(plain_request_id)
    }

    /// Whether the checkpoint may be solved again in the same intent: a wrong code, or a
    /// solve refused as malformed (a phone number in the wrong format…).
    pub fn is_retryable_by_user(&self) -> bool {
        matches!(self, Self::Api(e) if matches!(e.problem, Problem::WrongCode | Problem::InvalidRequest))
    }
}

/// `id` if it reads as a request id: 1 to 128 ASCII letters, digits and `-_.:/` (UUIDs, the
/// API's `req_…` ids, an `instance` path), else `None`: a sentence, spaces or anything else
/// a server wrote there is left out of what is kept.
///
/// ```
/// use auth_core::plain_request_id;
/// assert_eq!(plain_request_id("0e1f3a8a-4d2c-11ee"), Some("0e1f3a8a-4d2c-11ee"));
/// assert_eq!(plain_request_id("login bob/hunter2 refused"), None);
/// ```
pub fn plain_request_id(id: &str) -> Option<&str> {
    let plain = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'));
    plain.then_some(id)
}

/// A misuse of the machine by its caller. Nothing was sent and the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// A request is already in flight (or waiting for its retry); feed its answer (or its
    /// transport error, or abandon it) first.
    #[error("a request is already in flight: handle its answer before starting another")]
    RequestInFlight,
    /// An answer or a transport error was fed while no request was in flight.
    #[error("no request is in flight: there is no answer to handle")]
    NoRequestInFlight,
    /// Solve or resend while no authentication intent is pending.
    #[error("no authentication intent is pending: connect first")]
    NoPendingIntent,
    /// A command that needs no live intent (an account's status) while one is pending.
    #[error("an authentication intent is pending: finish it, or use another flow")]
    IntentPending,
    /// A required field is empty.
    #[error("the {0} must not be empty")]
    Empty(&'static str),
    /// A field has a value the API would refuse.
    #[error("{0}")]
    Invalid(&'static str),
    /// The provider does not offer this call.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// What an error answer means for the request it answered: decided by the contract's
/// answer table (`auth_core::ANSWER_RULES`), by status and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// `401 errors/invalid_checkpoint_solution`: a wrong code; the intent is still alive.
    WrongCode,
    /// `401 errors/invalid_credentials` to a connect: the username or password was refused.
    /// The docs use the same type for an invalid API key, so both are said.
    WrongCredentials,
    /// `400` with a validation type (`invalid_parameters`, `missing_parameters`…): the
    /// request was refused as malformed; a live intent is still alive.
    InvalidRequest,
    /// A `401` about the API key (missing, unknown, expired, without the scope).
    ApiKey,
    /// A `403`: the provider restricted the account, or the credentials belong to another
    /// account (`account_restricted`, `account_mismatch`…). The attempt is over.
    AccountRefused,
    /// `409`: the idempotency key was used before with another request (a client bug).
    IdempotencyConflict,
    /// `404` to an account's status: no such account.
    NotFound,
    /// `429`: the API key's token bucket is empty (after the retries the policy allows).
    RateLimited,
    /// A `5xx`: the server failed (after the retries the policy allows); the request may or
    /// may not have taken effect.
    ServerFailure,
    /// `408`, a `400` against an ended intent, `500 errors/authentication_intent_error`: the
    /// intent is over.
    IntentEnded,
    /// Any other error.
    #[default]
    Other,
}

impl Problem {
    /// Who must act on it.
    pub fn fault(self) -> Fault {
        match self {
            Self::WrongCode | Self::WrongCredentials | Self::InvalidRequest => Fault::User,
            Self::ApiKey => Fault::Configuration,
            Self::AccountRefused => Fault::Account,
            Self::IdempotencyConflict | Self::NotFound => Fault::Caller,
            Self::RateLimited | Self::ServerFailure | Self::Other => Fault::Server,
            Self::IntentEnded => Fault::IntentEnded,
        }
    }
}

/// An error answer of the API, read from either envelope the docs describe.
///
/// `title`, `detail` and `request_id` are the server's words, with any secret of the
/// request redacted. A body that is not JSON keeps the status and a short excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The error's `type` (or the quickstart envelope's `code`, prefixed `errors/`).
    pub kind: Option<ErrorType>,
    /// The error's `title` (or the quickstart envelope's `message`).
    pub title: Option<String>,
    /// The error's `detail`.
    pub detail: Option<String>,
    /// The request id for support: `request_id`, else `instance`, else the `x-request-id`
    /// header.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The start of the body, when it was not one of the contract's error envelopes.
    pub excerpt: Option<String>,
    /// The wait the server asked for (`Retry-After`), if any.
    #[serde(default, with = "optional_millis")]
    pub retry_after: Option<Duration>,
    /// What the error means for the request it answered.
    #[serde(default)]
    pub problem: Problem,
}

impl ApiError {
    /// An error of a status, with nothing else known yet.
    pub(crate) fn bare(status: u16) -> Self {
        Self {
            status,
            kind: None,
            title: None,
            detail: None,
            request_id: None,
            excerpt: None,
            retry_after: None,
            problem: Problem::Other,
        }
    }

    /// Whether this is a wrong checkpoint code (`errors/invalid_checkpoint_solution`):
    /// the intent is still alive and the checkpoint may be solved again.
    pub fn is_wrong_code(&self) -> bool {
        self.problem == Problem::WrongCode
    }

    /// Whether the request was refused as malformed (a `400` with one of the documented
    /// validation types): a live intent is still alive.
    pub fn is_invalid_request(&self) -> bool {
        self.problem == Problem::InvalidRequest
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
        match self.problem {
            Problem::WrongCredentials => f.write_str(
                " (the username or password was refused; if they are right, check the API key: \
                 the docs use this type for an invalid API key too)",
            )?,
            Problem::ApiKey => {
                f.write_str(" (a problem with the API key, not with the account's password)")?
            }
            Problem::AccountRefused => {
                f.write_str(" (the provider refused this account: no code will help)")?
            }
            Problem::IdempotencyConflict => {
                f.write_str(" (the idempotency key was used before with another request)")?
            }
            _ => {}
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " [request id: {request_id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// `Option<Duration>` as whole milliseconds in JSON.
mod optional_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => {
                serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
            }
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(deserializer)?.map(Duration::from_millis))
    }
}

/// The `type` of an error answer. Types this crate does not know are kept by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ErrorType {
    /// `errors/invalid_credentials`: wrong username or password (or, elsewhere, API key).
    InvalidCredentials,
    /// `errors/missing_credentials`: no API key.
    MissingCredentials,
    /// `errors/expired_credentials`: the API key has expired.
    ExpiredCredentials,
    /// `errors/insufficient_privileges`: the API key lacks the scope.
    InsufficientPrivileges,
    /// `errors/key_missing`: no API key.
    KeyMissing,
    /// `errors/invalid_checkpoint_solution`: wrong code; the intent is still alive.
    InvalidCheckpointSolution,
    /// `errors/authentication_intent_error`: the intent was killed after a failure.
    AuthenticationIntentError,
    /// `errors/invalid_parameters`.
    InvalidParameters,
    /// `errors/missing_parameters`.
    MissingParameters,
    /// `errors/invalid_request`.
    InvalidRequest,
    /// `errors/malformed_request`.
    MalformedRequest,
    /// `errors/content_too_large`.
    ContentTooLarge,
    /// `errors/too_many_characters`.
    TooManyCharacters,
    /// `errors/unescaped_characters`.
    UnescapedCharacters,
    /// `errors/limit_too_high`.
    LimitTooHigh,
    /// `errors/invalid_url`.
    InvalidUrl,
    /// `errors/account_restricted`: the provider restricted the account.
    AccountRestricted,
    /// `errors/account_mismatch`: the credentials belong to another account.
    AccountMismatch,
    /// `errors/request_timeout`: the intent is older than its lifetime.
    RequestTimeout,
    /// `errors/too_many_requests`: rate limited.
    TooManyRequests,
    /// `errors/resource_not_found`.
    ResourceNotFound,
    /// `errors/idempotency_conflict` (inferred): a key reused with another body.
    IdempotencyConflict,
    /// Any other type, as the server wrote it.
    Other(String),
}

impl ErrorType {
    const KNOWN: [(Self, &'static str); 22] = [
        (Self::InvalidCredentials, "errors/invalid_credentials"),
        (Self::MissingCredentials, "errors/missing_credentials"),
        (Self::ExpiredCredentials, "errors/expired_credentials"),
        (Self::InsufficientPrivileges, "errors/insufficient_privileges"),
        (Self::KeyMissing, "errors/key_missing"),
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
        (Self::InvalidRequest, "errors/invalid_request"),
        (Self::MalformedRequest, "errors/malformed_request"),
        (Self::ContentTooLarge, "errors/content_too_large"),
        (Self::TooManyCharacters, "errors/too_many_characters"),
        (Self::UnescapedCharacters, "errors/unescaped_characters"),
        (Self::LimitTooHigh, "errors/limit_too_high"),
        (Self::InvalidUrl, "errors/invalid_url"),
        (Self::AccountRestricted, "errors/account_restricted"),
        (Self::AccountMismatch, "errors/account_mismatch"),
        (Self::RequestTimeout, "errors/request_timeout"),
        (Self::TooManyRequests, "errors/too_many_requests"),
        (Self::ResourceNotFound, "errors/resource_not_found"),
        (Self::IdempotencyConflict, "errors/idempotency_conflict"),
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

    /// The type of a name as either envelope writes it: `errors/invalid_parameters` (the
    /// endpoint pages' `type`) or `invalid_parameters` (the quickstart's `code`), matched
    /// without allocating for the known types.
    pub(crate) fn from_wire(name: &str) -> Self {
        let bare = name.strip_prefix("errors/").unwrap_or(name);
        Self::KNOWN
            .iter()
            .find(|(_, known)| known.get(7..) == Some(bare))
            .map_or_else(
                || {
                    Self::Other(if name.starts_with("errors/") || name.is_empty() {
                        name.to_owned()
                    } else {
                        format!("errors/{name}")
                    })
                },
                |(kind, _)| kind.clone(),
            )
    }
}

impl From<String> for ErrorType {
    fn from(name: String) -> Self {
        match Self::from_wire(&name) {
            Self::Other(_) if name.starts_with("errors/") || name.is_empty() => Self::Other(name),
            kind => kind,
        }
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
    /// The machine: the last request got no answer before the deadline, so the server may
    /// have acted on it (read the account's status to know).
    Unanswered,
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Deadline => "its deadline passed; nothing was sent",
            Self::Server => "the server answered 408 Request Timeout",
            Self::Unanswered => {
                "the last request got no answer before the deadline; the server may have acted on it"
            }
        })
    }
}

/// The authentication intent ran out of its time: the account is not connected (unless
/// [`Detection::Unanswered`] says the last request's answer was lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error(
    "the authentication intent of account {account_id} expired at {deadline} ({detected_by}): start over with connect"
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
#[error(
    "the authentication intent of account {account_id} was destroyed on the server ({cause}): start over with connect"
)]
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
    /// The connection could not be made (refused, DNS, unreachable): the request never
    /// reached the server.
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

impl TransportErrorKind {
    /// Whether the failure means no answer came at all, so the same request may be sent
    /// again with its idempotency key: [`Connect`](Self::Connect), [`Timeout`](Self::Timeout)
    /// and [`Io`](Self::Io). A TLS failure, a redirect, a body too large or a refusal would
    /// fail the same way again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Connect | Self::Timeout | Self::Io)
    }
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
/// Cloning shares the source.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    #[source]
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>>,
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
        self.source = Some(std::sync::Arc::new(source));
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
            assert_eq!(ErrorType::from_wire(name.trim_start_matches("errors/")), kind);
        }
        assert_eq!(
            ErrorType::from("errors/brand_new".to_owned()),
            ErrorType::Other("errors/brand_new".to_owned())
        );
        assert_eq!(
            ErrorType::from_wire("brand_new"),
            ErrorType::Other("errors/brand_new".to_owned())
        );
    }

    #[test]
    fn the_request_id_is_shown() {
        let mut error = ApiError::bare(500);
        error.request_id = Some("req-42".to_owned());
        assert!(error.to_string().ends_with("[request id: req-42]"));
    }
}

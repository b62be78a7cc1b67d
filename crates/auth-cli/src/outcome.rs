//! How a run ends: one [`Outcome`], its exit code, its JSON object and its text for people.
//!
//! [`Outcome::from_error`] is the one mapping from the client's errors to outcomes; every
//! command goes through it, so an error means the same exit code wherever it happens. The
//! outcomes hold the core's own types ([`IntentExpired`], [`IntentDestroyed`], the
//! [`ApiError`]'s problem and request id) rather than copies of them.

use std::path::PathBuf;
use std::time::Duration;

use auth_core::{
    ApiError, Checkpoint, Detection, IntentDestroyed, IntentExpired, Problem, TransportErrorKind, UnixMillis,
};
use auth_ureq::Error;
use serde::Serialize;

use crate::output;
use crate::time_text;

/// The exit codes of `postpress-auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: connected (or the demo ran).
    Connected = 0,
    /// 2: usage or configuration error (an API key the API refused included).
    Usage = 2,
    /// 3: the authentication intent expired or destroyed itself.
    IntentEnded = 3,
    /// 4: rejected by the API (wrong credentials, a wrong code and no more codes to try, an
    /// account the provider refused).
    Rejected = 4,
    /// 5: failure (network, timeout, 5xx, malformed or oversized answer, redirect).
    Failure = 5,
    /// 6: the state file is in use by another process, or changed since it was read:
    /// nothing was sent.
    StateConflict = 6,
    /// 10: a checkpoint is pending and saved in the state file.
    Pending = 10,
}

impl Exit {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// How a run ends.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The account is connected (or reconnected).
    Connected {
        /// The account.
        account_id: String,
        /// Whether an existing account was reconnected.
        reconnected: bool,
        /// Whether the account was found connected already: the API refused this run's
        /// request as one against an intent it no longer runs, and `GET /accounts/{id}`
        /// found the account (another process, or another way, finished the intent).
        already: bool,
    },
    /// A checkpoint is pending, saved in a state file for `solve`.
    Pending(Box<Pending>),
    /// The authentication intent ran out of time: by the client's clock (nothing was sent),
    /// by the server's 408, or with the last request unanswered.
    Expired(IntentExpired),
    /// The authentication intent destroyed itself on the server.
    Destroyed(Box<IntentDestroyed>),
    /// Another process holds the state file, or changed it since this one read it: nothing
    /// was sent.
    Conflict(Box<Conflict>),
    /// Any other way to fail.
    Failed(Failure),
    /// The demo ran to its end.
    DemoDone,
}

/// A pending checkpoint, saved for later.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pending {
    /// The account.
    pub(crate) account_id: String,
    /// The checkpoint to solve.
    pub(crate) checkpoint: Checkpoint,
    /// When the intent ends.
    pub(crate) deadline: UnixMillis,
    /// The time left when the state was saved.
    pub(crate) remaining: Duration,
    /// Where it was saved.
    pub(crate) state_file: PathBuf,
    /// Whether the checkpoint was just sent again (`resend`): `true` when the provider sent
    /// it, `false` when it did not (`success: false`), and for `connect` and `solve`.
    pub(crate) resent: bool,
}

/// Why a process sent nothing for a state file (exit 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// What happened.
    pub(crate) reason: ConflictReason,
    /// The state file.
    pub(crate) state_file: PathBuf,
    /// The account of the intent this process read (none for `connect`).
    pub(crate) account_id: Option<String>,
    /// What happened, for people.
    pub(crate) message: String,
}

/// What another process did to a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConflictReason {
    /// It holds the file's lock: it is sending a request for the intent right now.
    Busy,
    /// It wrote the file since this process read it: a later state of the intent, or
    /// another intent.
    Changed,
    /// It removed the file since this process read it: the intent ended there.
    Removed,
}

impl From<Conflict> for Outcome {
    fn from(conflict: Conflict) -> Self {
        Self::Conflict(Box::new(conflict))
    }
}

/// A failure: exit code 2, 4 or 5 and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The exit code.
    pub(crate) exit: Exit,
    /// The HTTP status of the answer, when there was one.
    pub(crate) status: Option<u16>,
    /// A machine-readable type: the API's own (`errors/…`), or `cli/…`, `transport/…`,
    /// `protocol/…`.
    pub(crate) kind: Option<String>,
    /// The request id the server gave with its error: what a user gives support.
    pub(crate) request_id: Option<String>,
    /// The account of an intent the server started and this run could not save: the
    /// intent is pending on the server, and nowhere else.
    pub(crate) account_id: Option<String>,
    /// What happened, for people.
    pub(crate) message: String,
}

impl Failure {
    /// A usage error (exit 2): a bad argument or input.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::cli(Exit::Usage, "cli/usage", message)
    }

    /// A configuration error (exit 2): no API key, an insecure base URL…
    pub(crate) fn configuration(message: impl Into<String>) -> Self {
        Self::cli(Exit::Usage, "cli/configuration", message)
    }

    /// A state file that cannot be read or written (exit 2).
    pub(crate) fn state_file(message: impl Into<String>) -> Self {
        Self::cli(Exit::Usage, "cli/state_file", message)
    }

    /// A failure of the command itself, with its own type.
    pub(crate) fn cli(exit: Exit, kind: &str, message: impl Into<String>) -> Self {
        Self {
            exit,
            status: None,
            kind: Some(kind.to_owned()),
            request_id: None,
            account_id: None,
            message: message.into(),
        }
    }

    /// The same failure, about the intent of `account_id` (which it left unsaved).
    pub(crate) fn about(mut self, account_id: &str) -> Self {
        self.account_id = Some(account_id.to_owned());
        self
    }
}

impl From<Failure> for Outcome {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

impl Outcome {
    /// The one mapping from the client's errors to outcomes (and so to exit codes).
    pub(crate) fn from_error(error: &Error) -> Self {
        match error {
            Error::Usage(usage) => Failure::usage(usage.to_string()).into(),
            Error::Api(api) => Self::Failed(api_failure(api)),
            Error::IntentExpired(expired) => Self::Expired(expired.clone()),
            Error::IntentDestroyed(destroyed) => Self::Destroyed(destroyed.clone()),
            Error::Malformed(malformed) => Self::Failed(Failure {
                exit: Exit::Failure,
                status: Some(malformed.status),
                kind: Some("protocol/malformed_answer".to_owned()),
                request_id: None,
                account_id: None,
                message: malformed.to_string(),
            }),
            Error::Transport(transport) => {
                let kind = match transport.kind() {
                    TransportErrorKind::Connect => "connect",
                    TransportErrorKind::Timeout => "timeout",
                    TransportErrorKind::Tls => "tls",
                    TransportErrorKind::BodyTooLarge => "answer_too_large",
                    TransportErrorKind::Redirect => "redirect",
                    TransportErrorKind::Io => "io",
                    TransportErrorKind::Refused => "refused",
                    _ => "other",
                };
                Failure::cli(Exit::Failure, &format!("transport/{kind}"), transport.to_string()).into()
            }
            other => Failure::cli(Exit::Failure, "cli/unexpected", other.to_string()).into(),
        }
    }

    /// The process exit code.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Self::Connected { .. } | Self::DemoDone => Exit::Connected,
            Self::Pending(_) => Exit::Pending,
            Self::Expired(_) | Self::Destroyed(_) => Exit::IntentEnded,
            Self::Conflict(_) => Exit::StateConflict,
            Self::Failed(failure) => failure.exit,
        }
    }

    /// The outcome as the one JSON object `--json` prints, `outcome` first; `sandbox` adds
    /// `"sandbox": true` (a `pp_test_` API key: nothing real was connected).
    pub(crate) fn to_json(&self, sandbox: bool) -> String {
        let outcome = match self {
            Self::Connected {
                account_id,
                reconnected,
                already,
            } => Json::Connected {
                account_id,
                reconnected: *reconnected,
                already_connected: *already,
            },
            Self::Pending(pending) => Json::CheckpointPending {
                account_id: &pending.account_id,
                checkpoint: &pending.checkpoint,
                expires_at: time_text::rfc3339(pending.deadline),
                expires_at_ms: pending.deadline.as_millis(),
                remaining_ms: u64::try_from(pending.remaining.as_millis()).unwrap_or(u64::MAX),
                state_file: pending.state_file.display().to_string(),
                resent: pending.resent,
            },
            Self::Expired(expired) => Json::Expired {
                account_id: expired.account_id.as_str(),
                expired_at: time_text::rfc3339(expired.deadline),
                detected_by: expired.detected_by,
                message: self.message(),
            },
            Self::Destroyed(destroyed) => Json::Destroyed {
                account_id: destroyed.account_id.as_str(),
                status: destroyed.cause.status,
                kind: destroyed.cause.kind.as_ref().map(|kind| kind.as_str()),
                request_id: destroyed.cause.request_id.as_deref(),
                message: self.message(),
            },
            Self::Conflict(conflict) => Json::StateConflict {
                reason: conflict.reason,
                state_file: conflict.state_file.display().to_string(),
                account_id: conflict.account_id.as_deref(),
                message: self.message(),
            },
            Self::Failed(failure) => Json::Error {
                status: failure.status,
                kind: failure.kind.as_deref(),
                request_id: failure.request_id.as_deref(),
                account_id: failure.account_id.as_deref(),
                message: self.message(),
            },
            Self::DemoDone => Json::DemoDone,
        };
        serde_json::to_string(&Tagged { outcome, sandbox }).unwrap_or_else(|_| {
            r#"{"outcome":"error","status":null,"type":"cli/json","message":"cannot write the outcome"}"#
                .to_owned()
        })
    }

    /// The outcome in a sentence for people.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Connected {
                account_id,
                already: true,
                ..
            } => format!(
                "Connected: account {account_id} was connected already (another process, or another way, \
                 finished its intent; this run's request was not what connected it)."
            ),
            Self::Connected {
                account_id,
                reconnected: false,
                ..
            } => format!("Connected: account {account_id}."),
            Self::Connected {
                account_id,
                reconnected: true,
                ..
            } => format!("Reconnected: account {account_id}."),
            Self::Pending(pending) => format!(
                "Checkpoint {} pending for account {} ({}{} left, until {}). Saved to {}: \
                 run `postpress-auth solve --state-file {}` before then.",
                pending.checkpoint,
                pending.account_id,
                if pending.resent { "sent again; " } else { "" },
                time_text::time_left(pending.remaining),
                time_text::rfc3339(pending.deadline),
                pending.state_file.display(),
                pending.state_file.display(),
            ),
            Self::Expired(expired) => {
                let then = match expired.detected_by {
                    // The server may have acted on the request whose answer was lost.
                    Detection::Unanswered => "; the account may have been connected anyway",
                    _ => "",
                };
                format!(
                    "The authentication intent of account {} expired at {} ({}){then}: \
                     start over with `postpress-auth connect`.",
                    expired.account_id,
                    time_text::rfc3339(expired.deadline),
                    expired.detected_by
                )
            }
            Self::Destroyed(destroyed) => destroyed_message(destroyed),
            Self::Conflict(conflict) => conflict.message.clone(),
            Self::Failed(failure) => failure.message.clone(),
            Self::DemoDone => "The demo ran to its end.".to_owned(),
        }
    }

    /// Writes the outcome: with `json`, its object as the last line of standard output;
    /// otherwise its sentence, on standard output for a success or a pending checkpoint
    /// and on standard error for the rest. `sandbox`: the API key was a `pp_test_` one.
    pub(crate) fn emit(&self, json: bool, sandbox: bool) {
        if json {
            output::stdout_json_line(&self.to_json(sandbox));
            if let Self::Failed(_) | Self::Expired(_) | Self::Destroyed(_) | Self::Conflict(_) = self {
                output::stderr_line(&format!("postpress-auth: {}", self.message()));
            }
            return;
        }
        match self {
            Self::Connected { .. } if sandbox => output::stdout_line(&format!(
                "{} (Sandbox: the API key is a pp_test_ key; no real account was connected.)",
                self.message()
            )),
            Self::Connected { .. } | Self::Pending(_) => output::stdout_line(&self.message()),
            Self::DemoDone => {}
            _ => output::stderr_line(&format!("postpress-auth: {}", self.message())),
        }
    }
}

/// The JSON object of `--json`: the outcome, then `"sandbox": true` for a `pp_test_` key.
#[derive(Serialize)]
struct Tagged<'a> {
    #[serde(flatten)]
    outcome: Json<'a>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    sandbox: bool,
}

/// The JSON objects of `--json`: the outcome's name first, then its fields in this order.
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum Json<'a> {
    Connected {
        account_id: &'a str,
        reconnected: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        already_connected: bool,
    },
    CheckpointPending {
        account_id: &'a str,
        checkpoint: &'a Checkpoint,
        expires_at: String,
        expires_at_ms: u64,
        remaining_ms: u64,
        state_file: String,
        resent: bool,
    },
    Expired {
        account_id: &'a str,
        expired_at: String,
        /// `deadline`, `server` or `unanswered`.
        detected_by: Detection,
        message: String,
    },
    Destroyed {
        account_id: &'a str,
        status: u16,
        #[serde(rename = "type")]
        kind: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<&'a str>,
        message: String,
    },
    StateConflict {
        /// `busy`, `changed` or `removed`.
        reason: ConflictReason,
        state_file: String,
        account_id: Option<&'a str>,
        message: String,
    },
    Error {
        status: Option<u16>,
        #[serde(rename = "type")]
        kind: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        account_id: Option<&'a str>,
        message: String,
    },
    DemoDone,
}

/// An error answer of the API, by what the core says it means ([`ApiError::problem`]):
/// an API-key problem is a configuration error (exit 2), never a wrong password; a wrong
/// code, refused credentials, a refused solve and a refused account are rejections (exit 4);
/// a 5xx or a 429 after the core's retries, a reused idempotency key, are failures (exit 5).
/// Any other 4xx is a rejection (but 408 and 429, which say "later" rather than "no").
pub(crate) fn api_failure(api: &ApiError) -> Failure {
    let rejected = (400..500).contains(&api.status) && !matches!(api.status, 408 | 429);
    let (exit, hint) = match api.problem {
        Problem::ApiKey => (Exit::Usage, "configuration error: the API key was refused: "),
        Problem::WrongCode => (Exit::Rejected, "wrong code: "),
        Problem::WrongCredentials => (Exit::Rejected, ""),
        Problem::InvalidRequest => (Exit::Rejected, "refused as malformed: "),
        Problem::AccountRefused => (Exit::Rejected, ""),
        Problem::NotFound => (Exit::Rejected, ""),
        Problem::IntentEnded => (Exit::IntentEnded, ""),
        Problem::RateLimited | Problem::ServerFailure | Problem::IdempotencyConflict => (Exit::Failure, ""),
        _ if rejected => (Exit::Rejected, ""),
        _ => (Exit::Failure, ""),
    };
    Failure {
        exit,
        status: Some(api.status),
        kind: api.kind.as_ref().map(|kind| kind.as_str().to_owned()),
        request_id: api.request_id.clone(),
        account_id: None,
        message: format!("{hint}{api}"),
    }
}

/// The intent destroyed itself: what the server said (its own "start over" left out, so that
/// the advice is given once), then what to do.
fn destroyed_message(destroyed: &IntentDestroyed) -> String {
    let cause = &destroyed.cause;
    let mut said = format!("the API answered {}", cause.status);
    if let Some(kind) = &cause.kind {
        said.push_str(&format!(" {kind}"));
    }
    let own_advice = |text: &&String| !text.to_lowercase().contains("start over");
    for text in [&cause.title, &cause.detail]
        .into_iter()
        .flatten()
        .filter(own_advice)
    {
        said.push_str(&format!(": {text}"));
    }
    if let Some(request_id) = &cause.request_id {
        said.push_str(&format!(" [request id: {request_id}]"));
    }
    format!(
        "The authentication intent of account {} was destroyed on the server ({said}): start over \
         with `postpress-auth connect`.",
        destroyed.account_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::{
        Answer, Command, Config, Credentials, Flow, IdempotencyKey, Input, Output, TransportError,
    };
    use serde_json::Value;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// The core's error for an answer of `status` with `body` to a connect.
    fn api(status: u16, body: &str) -> Error {
        // Secrets that no error type contains: the core redacts them from what the server says.
        let mut flow =
            Flow::new(Config::new("unit-test-key").with_retry_policy(auth_core::RetryPolicy::never()));
        let now = UnixMillis::from_millis(1_000);
        let credentials = Credentials::messenger("user", "unit-test-password");
        let key = IdempotencyKey::from_random_bytes([1; 16]);
        let Output::Send(_) = flow.handle(now, Input::command(Command::Connect(credentials), key)) else {
            panic!("a connect sends");
        };
        match flow.handle(now, Input::Answer(Answer::new(status, body))) {
            Output::Error(error) => error,
            other => panic!("{status}: {other:?}"),
        }
    }

    fn typed(status: u16, kind: &str) -> Error {
        api(
            status,
            &format!(r#"{{"status":{status},"type":"{kind}","title":"t","instance":"req-{status}"}}"#),
        )
    }

    #[test]
    fn api_errors_map_to_their_exit_code_by_what_they_mean() {
        let cases = [
            (401, "errors/invalid_credentials", Exit::Rejected),
            (401, "errors/missing_credentials", Exit::Usage),
            (401, "errors/expired_credentials", Exit::Usage),
            (401, "errors/insufficient_privileges", Exit::Usage),
            (403, "errors/account_restricted", Exit::Rejected),
            (403, "errors/account_mismatch", Exit::Rejected),
            (400, "errors/invalid_parameters", Exit::Rejected),
            (409, "errors/idempotency_conflict", Exit::Failure),
            (429, "errors/too_many_requests", Exit::Failure),
            (500, "errors/unexpected_error", Exit::Failure),
            (503, "errors/service_unavailable", Exit::Failure),
        ];
        for (status, kind, exit) in cases {
            let outcome = Outcome::from_error(&typed(status, kind));
            assert_eq!(outcome.exit(), exit, "{status} {kind}");
            let json = parse(&outcome.to_json(false));
            assert_eq!(json["outcome"], "error");
            assert_eq!(json["status"], status);
            assert_eq!(json["type"], kind);
            assert_eq!(json["request_id"], format!("req-{status}"));
        }
    }

    #[test]
    fn an_api_key_problem_is_a_configuration_error_and_a_refused_password_says_both() {
        let outcome = Outcome::from_error(&typed(401, "errors/expired_credentials"));
        assert!(
            outcome.message().starts_with("configuration error"),
            "{}",
            outcome.message()
        );
        assert!(!outcome.message().contains("wrong username or password"));
        let outcome = Outcome::from_error(&typed(401, "errors/invalid_credentials"));
        assert!(
            outcome.message().contains("check the API key"),
            "{}",
            outcome.message()
        );
    }

    #[test]
    fn the_quickstart_envelope_gives_its_request_id() {
        let error = api(
            400,
            r#"{"error":{"code":"invalid_parameters","message":"bad","request_id":"0e1f3a8a"}}"#,
        );
        let json = parse(&Outcome::from_error(&error).to_json(false));
        assert_eq!(json["type"], "errors/invalid_parameters");
        assert_eq!(json["request_id"], "0e1f3a8a");
    }

    #[test]
    fn transport_errors_are_failures_with_their_kind_and_no_request_id() {
        let error = Error::Transport(TransportError::new(TransportErrorKind::Timeout, "after 1 s"));
        let outcome = Outcome::from_error(&error);
        assert_eq!(outcome.exit(), Exit::Failure);
        let json = parse(&outcome.to_json(false));
        assert_eq!(json["type"], "transport/timeout");
        assert_eq!(json["status"], Value::Null);
        assert!(json.get("request_id").is_none());
    }

    #[test]
    fn a_sandbox_key_is_flagged_last_and_only_then() {
        let connected = Outcome::Connected {
            account_id: "a1".to_owned(),
            reconnected: false,
            already: false,
        };
        assert_eq!(
            connected.to_json(true),
            r#"{"outcome":"connected","account_id":"a1","reconnected":false,"sandbox":true}"#
        );
        assert_eq!(
            connected.to_json(false),
            r#"{"outcome":"connected","account_id":"a1","reconnected":false}"#
        );
    }

    #[test]
    fn every_outcome_has_its_exit_code() {
        let pending = Outcome::Pending(Box::new(Pending {
            account_id: "a1".to_owned(),
            checkpoint: Checkpoint::Otp,
            deadline: UnixMillis::from_millis(1_700_000_000_000),
            remaining: Duration::from_secs(252),
            state_file: PathBuf::from("state.json"),
            resent: false,
        }));
        assert_eq!(pending.exit().code(), 10);
        let text = pending.to_json(false);
        assert!(
            text.starts_with(r#"{"outcome":"checkpoint_pending","account_id":"a1","#),
            "{text}"
        );
        let json = parse(&text);
        assert_eq!(json["checkpoint"]["type"], "OTP");
        assert_eq!(json["expires_at"], "2023-11-14T22:13:20.000Z");
        assert!(pending.message().contains("4:12 left"), "{}", pending.message());
        let connected = Outcome::Connected {
            account_id: "a1".to_owned(),
            reconnected: false,
            already: false,
        };
        assert_eq!(connected.exit().code(), 0);
        assert_eq!(Outcome::from(Failure::usage("bad")).exit().code(), 2);
    }

    #[test]
    fn an_expiry_is_the_cores_and_says_who_found_it() {
        let mut flow = Flow::new(Config::new("unit-test-key"));
        let key = IdempotencyKey::from_random_bytes([2; 16]);
        let connect = Command::Connect(Credentials::messenger("user", "unit-test-password"));
        flow.handle(UnixMillis::EPOCH, Input::command(connect, key));
        let answer = Answer::new(
            202,
            r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"OTP"}}"#,
        );
        flow.handle(UnixMillis::EPOCH, Input::Answer(answer));
        let Output::Error(error) = flow.handle(UnixMillis::from_millis(300_000), Input::Tick) else {
            panic!("the deadline expires the intent");
        };
        let expired = Outcome::from_error(&error);
        assert_eq!(expired.exit().code(), 3);
        assert!(
            expired.message().contains("nothing was sent"),
            "{}",
            expired.message()
        );
        let json = parse(&expired.to_json(false));
        assert_eq!(json["outcome"], "expired");
        assert_eq!(json["detected_by"], "deadline");
        assert_eq!(json["expired_at"], "1970-01-01T00:05:00.000Z");
    }
}

//! How a run ends: one [`Outcome`], its exit code, its JSON object and its text for people.
//!
//! [`Outcome::from_error`] is the one mapping from the client's errors to outcomes; every
//! command goes through it, so an error means the same exit code wherever it happens.

use std::path::PathBuf;
use std::time::Duration;

use auth_core::{ApiError, Checkpoint, Detection, ErrorType, TransportErrorKind, UnixMillis};
use auth_ureq::Error;
use serde::Serialize;

use crate::output;
use crate::time_text;

/// The exit codes of `postpress-auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: connected (or the demo ran).
    Connected = 0,
    /// 2: usage or configuration error.
    Usage = 2,
    /// 3: the authentication intent expired or destroyed itself.
    IntentEnded = 3,
    /// 4: rejected by the API (wrong credentials, wrong API key, wrong code and no more
    /// codes to try).
    Rejected = 4,
    /// 5: failure (network, timeout, 5xx, malformed or oversized answer, redirect).
    Failure = 5,
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
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The account is connected (or reconnected).
    Connected {
        /// The account.
        account_id: String,
        /// Whether an existing account was reconnected.
        reconnected: bool,
    },
    /// A checkpoint is pending, saved in a state file for `solve`.
    Pending(Box<Pending>),
    /// The authentication intent ran out of time.
    Expired {
        /// The account.
        account_id: String,
        /// Its deadline, as the client counted it.
        deadline: UnixMillis,
        /// The client's clock (nothing was sent) or the server (a 408).
        detected_by: Detection,
    },
    /// The authentication intent destroyed itself on the server.
    Destroyed {
        /// The account.
        account_id: String,
        /// The status that said so.
        status: u16,
        /// The error's type, if any.
        kind: Option<String>,
        /// What happened.
        message: String,
    },
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
    /// Whether the checkpoint was just sent again (`resend`).
    pub(crate) resent: bool,
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
            message: message.into(),
        }
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
            Error::IntentExpired(expired) => Self::Expired {
                account_id: expired.account_id.as_str().to_owned(),
                deadline: expired.deadline,
                detected_by: expired.detected_by,
            },
            Error::IntentDestroyed(destroyed) => Self::Destroyed {
                account_id: destroyed.account_id.as_str().to_owned(),
                status: destroyed.cause.status,
                kind: destroyed.cause.kind.as_ref().map(|kind| kind.as_str().to_owned()),
                message: destroyed.to_string(),
            },
            Error::Malformed(malformed) => Self::Failed(Failure {
                exit: Exit::Failure,
                status: Some(malformed.status),
                kind: Some("protocol/malformed_answer".to_owned()),
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
            Self::Expired { .. } | Self::Destroyed { .. } => Exit::IntentEnded,
            Self::Failed(failure) => failure.exit,
        }
    }

    /// The outcome as the one JSON object `--json` prints, `outcome` first.
    pub(crate) fn to_json(&self) -> String {
        let json = match self {
            Self::Connected {
                account_id,
                reconnected,
            } => Json::Connected {
                account_id,
                reconnected: *reconnected,
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
            Self::Expired {
                account_id,
                deadline,
                detected_by,
            } => Json::Expired {
                account_id,
                expired_at: time_text::rfc3339(*deadline),
                detected_by: *detected_by,
                message: self.message(),
            },
            Self::Destroyed {
                account_id,
                status,
                kind,
                ..
            } => Json::Destroyed {
                account_id,
                status: *status,
                kind: kind.as_deref(),
                message: self.message(),
            },
            Self::Failed(failure) => Json::Error {
                status: failure.status,
                kind: failure.kind.as_deref(),
                message: self.message(),
            },
            Self::DemoDone => Json::DemoDone,
        };
        serde_json::to_string(&json).unwrap_or_else(|_| {
            r#"{"outcome":"error","status":null,"type":"cli/json","message":"cannot write the outcome"}"#
                .to_owned()
        })
    }

    /// The outcome in a sentence for people; free text from elsewhere has its secrets
    /// redacted.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Connected {
                account_id,
                reconnected: false,
            } => format!("Connected: account {account_id}."),
            Self::Connected {
                account_id,
                reconnected: true,
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
            Self::Expired {
                account_id,
                deadline,
                detected_by,
            } => format!(
                "The authentication intent of account {account_id} expired at {} ({detected_by}): \
                 start over with `postpress-auth connect`.",
                time_text::rfc3339(*deadline)
            ),
            // Free text from elsewhere (the API's words, a transport's message).
            Self::Destroyed { message, .. } => output::redact(message),
            Self::Failed(failure) => output::redact(&failure.message),
            Self::DemoDone => "The demo ran to its end.".to_owned(),
        }
    }

    /// Writes the outcome: with `json`, its object as the last line of standard output;
    /// otherwise its sentence, on standard output for a success or a pending checkpoint
    /// and on standard error for the rest.
    pub(crate) fn emit(&self, json: bool) {
        if json {
            output::stdout_line(&self.to_json());
            if let Self::Failed(_) | Self::Expired { .. } | Self::Destroyed { .. } = self {
                output::stderr_line(&format!("postpress-auth: {}", self.message()));
            }
            return;
        }
        match self {
            Self::Connected { .. } | Self::Pending(_) => output::stdout_line(&self.message()),
            Self::DemoDone => {}
            _ => output::stderr_line(&format!("postpress-auth: {}", self.message())),
        }
    }
}

/// The JSON objects of `--json`: the outcome's name first, then its fields in this order.
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum Json<'a> {
    Connected {
        account_id: &'a str,
        reconnected: bool,
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
        /// `deadline` or `server`.
        detected_by: Detection,
        message: String,
    },
    Destroyed {
        account_id: &'a str,
        status: u16,
        #[serde(rename = "type")]
        kind: Option<&'a str>,
        message: String,
    },
    Error {
        status: Option<u16>,
        #[serde(rename = "type")]
        kind: Option<&'a str>,
        message: String,
    },
    DemoDone,
}

/// An error answer of the API: rejected (exit 4) or a failure (exit 5).
///
/// A 4xx is a rejection (the request will not succeed as it is), except 408 and 429,
/// which say "later" rather than "no"; a 5xx, or any other status, is a failure.
pub(crate) fn api_failure(api: &ApiError) -> Failure {
    let rejected = (400..500).contains(&api.status) && !matches!(api.status, 408 | 429);
    let hint = match &api.kind {
        Some(ErrorType::InvalidCredentials) => "wrong username or password: ",
        Some(ErrorType::MissingCredentials) => "the API key is missing or wrong: ",
        Some(ErrorType::InvalidCheckpointSolution) => "wrong code: ",
        _ => "",
    };
    Failure {
        exit: if rejected { Exit::Rejected } else { Exit::Failure },
        status: Some(api.status),
        kind: api.kind.as_ref().map(|kind| kind.as_str().to_owned()),
        message: format!("{hint}{api}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::TransportError;
    use serde_json::Value;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn api(status: u16, kind: &str) -> Error {
        let body = format!(r#"{{"status":{status},"type":"{kind}","title":"t"}}"#);
        // Secrets that no error type contains: the core redacts them from what the server says.
        let mut flow = auth_core::Flow::new(auth_core::Config::new("unit-test-key"));
        let now = UnixMillis::from_millis(1_000);
        let credentials = auth_core::Credentials::messenger("user", "unit-test-password");
        flow.begin(now, auth_core::Command::Connect(credentials)).unwrap();
        flow.handle_answer(now, &auth_core::Answer::new(status, body))
            .unwrap_err()
    }

    #[test]
    fn api_errors_map_to_rejected_or_failure() {
        let cases = [
            (401, "errors/invalid_credentials", Exit::Rejected),
            (401, "errors/missing_credentials", Exit::Rejected),
            (401, "errors/invalid_checkpoint_solution", Exit::Rejected),
            (403, "errors/insufficient_privileges", Exit::Rejected),
            (429, "errors/too_many_requests", Exit::Failure),
            (500, "errors/unexpected_error", Exit::Failure),
            (503, "errors/service_unavailable", Exit::Failure),
        ];
        for (status, kind, exit) in cases {
            let outcome = Outcome::from_error(&api(status, kind));
            assert_eq!(outcome.exit(), exit, "{status} {kind}");
            let json = parse(&outcome.to_json());
            assert_eq!(json["outcome"], "error");
            assert_eq!(json["status"], status);
            assert_eq!(json["type"], kind);
        }
    }

    #[test]
    fn transport_errors_are_failures_with_their_kind() {
        let error = Error::Transport(TransportError::new(TransportErrorKind::Timeout, "after 1 s"));
        let outcome = Outcome::from_error(&error);
        assert_eq!(outcome.exit(), Exit::Failure);
        let json = parse(&outcome.to_json());
        assert_eq!(json["type"], "transport/timeout");
        assert_eq!(json["status"], Value::Null);
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
        let text = pending.to_json();
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
        };
        assert_eq!(connected.exit().code(), 0);
        let expired = Outcome::Expired {
            account_id: "a1".to_owned(),
            deadline: UnixMillis::EPOCH,
            detected_by: Detection::Deadline,
        };
        assert_eq!(expired.exit().code(), 3);
        assert!(expired.message().contains("nothing was sent"));
        assert_eq!(parse(&expired.to_json())["detected_by"], "deadline");
        let by_server = Outcome::Expired {
            account_id: "a1".to_owned(),
            deadline: UnixMillis::EPOCH,
            detected_by: Detection::Server,
        };
        assert!(by_server.message().contains("408"), "{}", by_server.message());
        assert_eq!(parse(&by_server.to_json())["detected_by"], "server");
        assert_eq!(Outcome::from(Failure::usage("bad")).exit().code(), 2);
    }
}

//! What the driver loops tell a `tracing` subscriber (feature `tracing`): a span per command,
//! an event per request, answer, retry, event and error. Only what is not secret: the kind
//! of call, the provider, the account id, the checkpoint's type, the status, the request id,
//! the attempt. Never a password, a code, an API key, a body, a header's value or the
//! server's free text.
//!
//! Without the feature every call here is empty and compiles away.

use crate::answer::Answer;
use crate::error::TransportError;
use crate::flow::Flow;
use crate::input::Command;
use crate::output::Output;
use crate::request::Request;

/// The span of one command run by a driver loop.
pub(crate) struct Observer {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

#[cfg(feature = "tracing")]
impl Observer {
    pub(crate) fn start(flow: &Flow, command: &Command) -> Self {
        let (kind, provider, account_id) = match command {
            Command::Connect(credentials) => ("connect", Some(credentials.provider()), None),
            Command::Reconnect {
                account_id,
                credentials,
            } => (
                "reconnect",
                Some(credentials.provider()),
                Some(account_id.as_str()),
            ),
            Command::Solve(solution) => {
                let kind = match solution.kind() {
                    crate::SolutionKind::InAppValidation => "solve_in_app",
                    crate::SolutionKind::TryAnotherWay => "try_another_way",
                    _ => "solve",
                };
                (kind, None, None)
            }
            Command::Resend => ("resend", None, None),
            Command::AccountStatus(account_id) => ("account_status", None, Some(account_id.as_str())),
        };
        let intent = flow.intent();
        let provider = provider.or(intent.map(|i| i.provider)).map(|p| p.as_str());
        let account_id = account_id.or(intent.map(|i| i.account_id.as_str()));
        let checkpoint = intent.map(|i| i.checkpoint.kind());
        let span = tracing::info_span!(
            "postpress_auth",
            command = kind,
            provider = provider,
            account_id = account_id,
            checkpoint = checkpoint,
            sandbox = flow.is_sandbox(),
        );
        Self { span }
    }

    pub(crate) fn sending(&self, request: &Request) {
        tracing::debug!(
            parent: &self.span,
            request = request.kind.as_str(),
            method = request.method.as_str(),
            path = %request.path,
            attempt = request.attempt,
            idempotency_key = request.idempotency_key.as_ref().map(|k| k.as_str()),
            timeout_ms = u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX),
            "sending"
        );
    }

    /// The answer to the request `flow` has out (before the flow reads it): its request id
    /// as the flow would keep it, bounded and without any secret the flow holds.
    pub(crate) fn answered(&self, flow: &Flow, result: &Result<Answer, TransportError>) {
        match result {
            Ok(answer) => tracing::debug!(
                parent: &self.span,
                status = answer.status,
                request_id = answer
                    .header("x-request-id")
                    .and_then(crate::plain_request_id)
                    .map(|id| flow.scrubbed(id)),
                "answered"
            ),
            Err(failure) => tracing::debug!(
                parent: &self.span,
                transport_error = %failure.kind(),
                "no answer"
            ),
        }
    }

    pub(crate) fn output(&self, output: &Output) {
        match output {
            Output::Retry(retry) => tracing::warn!(
                parent: &self.span,
                attempt = retry.attempt,
                at_ms = retry.at.as_millis(),
                fault = ?retry.cause.fault(),
                request_id = retry.cause.plain_request_id(),
                cause = %Summary(&retry.cause),
                "retrying"
            ),
            Output::Event(event) => match event {
                crate::Event::Connected {
                    account_id,
                    after_deadline,
                }
                | crate::Event::Reconnected {
                    account_id,
                    after_deadline,
                } => tracing::info!(
                    parent: &self.span,
                    account_id = account_id.as_str(),
                    after_deadline = *after_deadline,
                    "connected"
                ),
                crate::Event::Checkpoint(intent) => tracing::info!(
                    parent: &self.span,
                    account_id = intent.account_id.as_str(),
                    checkpoint = intent.checkpoint.kind(),
                    deadline_ms = intent.deadline.as_millis(),
                    "checkpoint"
                ),
                crate::Event::CheckpointResent(_) => tracing::info!(parent: &self.span, "checkpoint resent"),
                crate::Event::ResendRefused(_) => {
                    tracing::info!(parent: &self.span, "resend refused by the provider")
                }
                crate::Event::AccountStatus(status) => tracing::info!(
                    parent: &self.span,
                    account_id = status.account_id.as_str(),
                    status = status.status().as_str(),
                    "account status"
                ),
            },
            Output::Error(error) => tracing::warn!(
                parent: &self.span,
                fault = ?error.fault(),
                request_id = error.plain_request_id(),
                error = %Summary(error),
                "failed"
            ),
            Output::Send(_) | Output::Wait(_) => {}
        }
    }
}

/// What an event says of an error: its kind, and an API answer's status and type, never the
/// server's free text (a `title`, a `detail`, an excerpt, a type of its own making; the
/// events show a request id only when it reads as one, [`crate::plain_request_id`]). The
/// flow scrubs that text of the secrets it holds, but a flow resumed in another process
/// never held the connect's password: a server echoing it to a later request would reach
/// the logs. The error itself, returned to the caller, keeps the text.
#[cfg(feature = "tracing")]
struct Summary<'a>(&'a crate::Error);

#[cfg(feature = "tracing")]
impl std::fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn answered(api: &crate::ApiError, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "the API answered {}", api.status)?;
            match &api.kind {
                Some(crate::ErrorType::Other(_)) => f.write_str(" (a type of its own)"),
                Some(kind) => write!(f, " {kind}"),
                None => Ok(()),
            }
        }
        match self.0 {
            crate::Error::Api(api) => answered(api, f),
            crate::Error::IntentDestroyed(destroyed) => {
                write!(
                    f,
                    "the authentication intent of account {} was destroyed on the server: ",
                    destroyed.account_id
                )?;
                answered(&destroyed.cause, f)
            }
            crate::Error::Malformed(malformed) => {
                write!(f, "malformed answer (status {})", malformed.status)
            }
            // The machine's and the transport's own words.
            other => write!(f, "{other}"),
        }
    }
}

#[cfg(not(feature = "tracing"))]
impl Observer {
    pub(crate) fn start(_flow: &Flow, _command: &Command) -> Self {
        Self {}
    }

    pub(crate) fn sending(&self, _request: &Request) {}

    pub(crate) fn answered(&self, _flow: &Flow, _result: &Result<Answer, TransportError>) {}

    pub(crate) fn output(&self, _output: &Output) {}
}

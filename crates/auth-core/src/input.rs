//! What goes in through the one door, [`Flow::handle`](crate::Flow::handle).

use crate::account::{AccountId, Credentials};
use crate::answer::Answer;
use crate::checkpoint::Solution;
use crate::error::TransportError;
use crate::idempotency::IdempotencyKey;

/// What the caller asks the machine to do. Each command builds one logical request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Command {
    /// Connect an account with its credentials (`POST /accounts`): starts over from any
    /// phase where no request is out, abandoning a pending intent.
    Connect(Credentials),
    /// Reconnect an existing account (`POST /accounts/{account_id}`).
    Reconnect {
        /// The account to reconnect.
        account_id: AccountId,
        /// Its credentials.
        credentials: Credentials,
    },
    /// Solve the pending checkpoint (`POST /accounts/checkpoint`).
    Solve(Solution),
    /// Ask the server to send the pending checkpoint again (`POST /accounts/checkpoint/resend`).
    Resend,
    /// Read an account's status (`GET /accounts/{account_id}`): from a flow with no live
    /// intent; the flow's phase is the same after the answer. A GET carries no idempotency
    /// key: the key given with this command is not sent (it only spreads the jitter of the
    /// GET's retries), so any key will do.
    AccountStatus(AccountId),
}

/// Everything that goes in through [`Flow::handle`](crate::Flow::handle), with the time.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Input {
    /// A command of the caller, with a fresh idempotency key for the request it starts (the
    /// driver brings the entropy; the key is not used when the command retries a request
    /// whose answer was lost, which keeps its own).
    Command {
        /// What to do.
        command: Command,
        /// The key of the new logical request.
        key: IdempotencyKey,
    },
    /// The answer to the request sent (any status).
    Answer(Answer),
    /// The request sent got no answer.
    Failed(TransportError),
    /// The driver gave up the request out (a dropped future, a crash, a user who left): it
    /// may or may not have reached the server, so its key is kept for a retry. With no
    /// request out, forgets such a kept request.
    Abandoned,
    /// The time has come that an [`Output::Wait`](crate::Output::Wait) or
    /// [`Output::Retry`](crate::Output::Retry) named (extra ticks are harmless).
    Tick,
}

impl Input {
    /// A command with the key of its request.
    pub fn command(command: Command, key: IdempotencyKey) -> Self {
        Self::Command { command, key }
    }

    /// What kind of input this is: the column of the rules table.
    pub fn kind(&self) -> InputKind {
        match self {
            Self::Command { command, .. } => match command {
                Command::Connect(_) => InputKind::Connect,
                Command::Reconnect { .. } => InputKind::Reconnect,
                Command::Solve(_) => InputKind::Solve,
                Command::Resend => InputKind::Resend,
                Command::AccountStatus(_) => InputKind::AccountStatus,
            },
            Self::Answer(_) => InputKind::Answer,
            Self::Failed(_) => InputKind::Failed,
            Self::Abandoned => InputKind::Abandoned,
            Self::Tick => InputKind::Tick,
        }
    }
}

impl From<Result<Answer, TransportError>> for Input {
    /// What a transport brought back: its answer, or why there was none.
    fn from(result: Result<Answer, TransportError>) -> Self {
        match result {
            Ok(answer) => Self::Answer(answer),
            Err(error) => Self::Failed(error),
        }
    }
}

/// The kind of an [`Input`], without its data: the column of the rules table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum InputKind {
    /// [`Command::Connect`].
    Connect,
    /// [`Command::Reconnect`].
    Reconnect,
    /// [`Command::Solve`].
    Solve,
    /// [`Command::Resend`].
    Resend,
    /// [`Command::AccountStatus`].
    AccountStatus,
    /// [`Input::Answer`].
    Answer,
    /// [`Input::Failed`].
    Failed,
    /// [`Input::Abandoned`].
    Abandoned,
    /// [`Input::Tick`].
    Tick,
}

impl InputKind {
    /// Every kind, in the table's order.
    pub const ALL: [Self; 9] = [
        Self::Connect,
        Self::Reconnect,
        Self::Solve,
        Self::Resend,
        Self::AccountStatus,
        Self::Answer,
        Self::Failed,
        Self::Abandoned,
        Self::Tick,
    ];

    /// Whether this is a command of the caller.
    pub fn is_command(self) -> bool {
        matches!(
            self,
            Self::Connect | Self::Reconnect | Self::Solve | Self::Resend | Self::AccountStatus
        )
    }

    /// The kind's name in the diagram and the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Reconnect => "reconnect",
            Self::Solve => "solve",
            Self::Resend => "resend",
            Self::AccountStatus => "account status",
            Self::Answer => "answer",
            Self::Failed => "no answer",
            Self::Abandoned => "abandoned",
            Self::Tick => "tick",
        }
    }
}

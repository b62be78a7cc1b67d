//! What comes out of the one door, [`Flow::handle`](crate::Flow::handle).

use crate::account::AccountId;
use crate::error::Error;
use crate::intent::Intent;
use crate::request::Request;
use crate::status::AccountStatus;
use crate::time::UnixMillis;

/// What [`Flow::handle`](crate::Flow::handle) gives back: one thing to do.
///
/// Exhaustive on purpose: a driver handles every output, and a new one would be a new
/// major version.
#[derive(Debug)]
pub enum Output {
    /// Send this request, then feed its answer ([`Input::Answer`](crate::Input::Answer)) or
    /// why there was none ([`Input::Failed`](crate::Input::Failed)).
    Send(Request),
    /// The request out failed and will be sent again, with the same idempotency key and
    /// body, at [`Retry::at`]: feed [`Input::Tick`](crate::Input::Tick) then.
    Retry(Retry),
    /// Nothing to do until then (a pending intent's deadline), or at all (`None`).
    Wait(Option<UnixMillis>),
    /// What a command led to.
    Event(Event),
    /// What went wrong; nothing more is sent for this command.
    Error(Error),
}

impl Output {
    /// The event or the error, when the output ends a command; `None` for a request to send
    /// or a wait.
    pub fn into_result(self) -> Option<Result<Event, Error>> {
        match self {
            Self::Event(event) => Some(Ok(event)),
            Self::Error(error) => Some(Err(error)),
            Self::Send(_) | Self::Retry(_) | Self::Wait(_) => None,
        }
    }
}

/// A request that will be sent again.
#[derive(Debug)]
#[non_exhaustive]
pub struct Retry {
    /// When to send it again: feed [`Input::Tick`](crate::Input::Tick) at or after this.
    pub at: UnixMillis,
    /// The number of the attempt that will be sent then (2 for the first retry).
    pub attempt: u32,
    /// Why the attempt before failed.
    pub cause: Error,
}

/// What a successful answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The account is connected (`AccountCreated`).
    Connected {
        /// The connected account.
        account_id: AccountId,
        /// Whether the answer came at or after the intent's local deadline: the server's
        /// word wins, the account is connected.
        after_deadline: bool,
    },
    /// The account is reconnected (`AccountReconnected`).
    Reconnected {
        /// The reconnected account.
        account_id: AccountId,
        /// Whether the answer came at or after the intent's local deadline.
        after_deadline: bool,
    },
    /// A checkpoint must be solved: the first of a new intent, the next of a chain, or
    /// another way of solving the same one.
    Checkpoint(Intent),
    /// The provider sent the checkpoint again (`success: true`).
    CheckpointResent(Intent),
    /// The provider did not send the checkpoint again (`success: false`): nothing reached
    /// the user; the intent is still pending.
    ResendRefused(Intent),
    /// An account's status, as `GET /accounts/{account_id}` gave it.
    AccountStatus(AccountStatus),
}

impl Event {
    /// The connected or reconnected account, for the events that end a connection.
    pub fn connected_account(&self) -> Option<&AccountId> {
        match self {
            Self::Connected { account_id, .. } | Self::Reconnected { account_id, .. } => Some(account_id),
            _ => None,
        }
    }
}

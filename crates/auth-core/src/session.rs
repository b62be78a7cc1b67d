//! What a client returns, mapped from the machine's events once for every client, blocking
//! or async: [`Connection`], [`Solved`], [`Resend`], and the state of a [`PendingFlow`].

use std::time::Duration;

use crate::account::AccountId;
use crate::checkpoint::Checkpoint;
use crate::config::Config;
use crate::error::{Error, UsageError};
use crate::flow::Flow;
use crate::input::Input;
use crate::intent::Intent;
use crate::output::Event;
use crate::rules::Phase;
use crate::snapshot::Snapshot;
use crate::time::UnixMillis;

/// What a connect or reconnect led to; `P` is the client's pending intent.
#[derive(Debug)]
#[non_exhaustive]
pub enum Connection<P> {
    /// The account is connected.
    Connected {
        /// The connected account.
        account_id: AccountId,
    },
    /// The existing account is reconnected.
    Reconnected {
        /// The reconnected account.
        account_id: AccountId,
    },
    /// A checkpoint must be solved before the intent's deadline.
    Pending(P),
}

impl<P> Connection<P> {
    /// Maps what a connect's flow led to: a connection, or the pending intent `pending` makes
    /// of the flow.
    pub fn from_outcome(
        flow: Flow,
        outcome: Result<Event, Error>,
        pending: impl FnOnce(PendingFlow) -> P,
    ) -> Result<Self, Error> {
        match outcome? {
            Event::Connected { account_id, .. } => Ok(Self::Connected { account_id }),
            Event::Reconnected { account_id, .. } => Ok(Self::Reconnected { account_id }),
            _ => PendingFlow::new(flow)
                .map(|state| Self::Pending(pending(state)))
                .ok_or(Error::Usage(UsageError::NoPendingIntent)),
        }
    }
}

/// What solving a checkpoint led to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Solved {
    /// The account is connected.
    Connected {
        /// The connected account.
        account_id: AccountId,
    },
    /// The existing account is reconnected.
    Reconnected {
        /// The reconnected account.
        account_id: AccountId,
    },
    /// Another checkpoint must be solved (the next of a chain, or another way to solve
    /// this one), in the same intent.
    NextCheckpoint,
}

/// What asking for the checkpoint again led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resend {
    /// The provider sent it again (`success: true`).
    Sent,
    /// The provider did not (`success: false`): nothing reached the user. The intent is
    /// still pending.
    Refused,
}

/// A pending intent as a client holds it: its flow, and the latest live intent (kept once
/// the flow ends, so the accessors always answer).
#[derive(Debug)]
pub struct PendingFlow {
    flow: Flow,
    intent: Intent,
}

impl PendingFlow {
    /// The flow's pending intent, if it has one.
    pub fn new(flow: Flow) -> Option<Self> {
        let intent = flow.intent()?.clone();
        flow.is_pending().then_some(Self { flow, intent })
    }

    /// Continues a saved intent at `now`, nothing sent. Fails with
    /// [`Error::IntentExpired`] if its deadline has passed, with the error that ended it if
    /// it was saved ended, and with [`UsageError::NoPendingIntent`] if none was pending.
    pub fn resume(config: Config, snapshot: Snapshot, now: UnixMillis) -> Result<Self, Error> {
        let mut flow = Flow::resume(config, snapshot);
        if let Some(error) = flow.handle(now, Input::Tick).into_result().and_then(Result::err) {
            return Err(error);
        }
        if let Some(error) = flow.ended_error() {
            return Err(error);
        }
        Self::new(flow).ok_or(Error::Usage(UsageError::NoPendingIntent))
    }

    /// Feeds the flow a tick at `now`: an intent whose deadline has come expires, nothing
    /// sent, and the error that says so comes back (the first time: extra ticks are harmless;
    /// [`PendingFlow::phase`] says how the flow ended).
    pub fn tick(&mut self, now: UnixMillis) -> Result<(), Error> {
        match self.flow.handle(now, Input::Tick).into_result() {
            Some(Err(error)) => Err(error),
            _ => Ok(()),
        }
    }

    /// The flow, to drive a command through.
    pub fn flow_mut(&mut self) -> &mut Flow {
        &mut self.flow
    }

    /// The flow.
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// Maps what a solve led to, keeping the latest intent.
    pub fn solved(&mut self, outcome: Result<Event, Error>) -> Result<Solved, Error> {
        self.refresh();
        match outcome? {
            Event::Connected { account_id, .. } => Ok(Solved::Connected { account_id }),
            Event::Reconnected { account_id, .. } => Ok(Solved::Reconnected { account_id }),
            _ => Ok(Solved::NextCheckpoint),
        }
    }

    /// Maps what a resend led to, keeping the latest intent.
    pub fn resent(&mut self, outcome: Result<Event, Error>) -> Result<Resend, Error> {
        self.refresh();
        match outcome? {
            Event::ResendRefused(_) => Ok(Resend::Refused),
            _ => Ok(Resend::Sent),
        }
    }

    fn refresh(&mut self) {
        if let Some(intent) = self.flow.intent() {
            self.intent.clone_from(intent);
        }
    }

    /// The account being connected.
    pub fn account_id(&self) -> &AccountId {
        &self.intent.account_id
    }

    /// The checkpoint to solve now.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.intent.checkpoint
    }

    /// The whole intent: checkpoint, deadline, attempts.
    pub fn intent(&self) -> &Intent {
        &self.intent
    }

    /// When the intent ends: at and after this moment nothing is sent.
    pub fn deadline(&self) -> UnixMillis {
        self.intent.deadline
    }

    /// The time left at `now`; zero once the deadline has passed, and once the intent is
    /// over (connected, expired, destroyed, refused).
    pub fn remaining(&self, now: UnixMillis) -> Duration {
        self.flow.remaining(now).unwrap_or(Duration::ZERO)
    }

    /// Whether a checkpoint may still be solved at `now`.
    pub fn is_pending(&self, now: UnixMillis) -> bool {
        self.flow.is_pending() && !self.remaining(now).is_zero()
    }

    /// Where the flow is: [`Phase::AwaitingCheckpoint`] while pending, or how it ended.
    pub fn phase(&self) -> Phase {
        self.flow.phase()
    }

    /// The intent as data, to resume anywhere: see [`Snapshot`].
    pub fn save(&self) -> Snapshot {
        self.flow.snapshot()
    }
}

//! The client people call: connect, solve, resend, reconnect, resume.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::{
    AccountId, Answer, Checkpoint, Command, Config, Credentials, Error, Event, Flow, Intent, Password, Phase,
    Request, Snapshot, Solution, TransportError, TransportErrorKind, UnixMillis, UsageError,
};

use crate::builder::ClientBuilder;
use crate::transport::UreqTransport;

pub(crate) type ClockFn = Arc<dyn Fn() -> UnixMillis + Send + Sync>;
pub(crate) type ObserverFn = Arc<dyn Fn(&Exchange<'_>) + Send + Sync>;

/// One request and what came of it, as the [`ClientBuilder::on_exchange`] observer sees it.
///
/// `Debug` of the request redacts the API key and shows only the body's length; use
/// [`Body::redacted`](auth_core::Body::redacted) to show the body without its secrets.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// The request that was sent.
    pub request: &'a Request,
    /// Its answer (any status), or why there was none.
    pub outcome: Result<&'a Answer, &'a TransportError>,
    /// How long the exchange took.
    pub elapsed: Duration,
}

/// The client of the account-connection API: blocking, on one kept-alive
/// [`ureq::Agent`]. Cloning is cheap and shares the agent.
///
/// Build it with [`Client::builder`]; see the [crate documentation](crate) for a whole flow.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: UreqTransport,
    config: Config,
    clock: ClockFn,
    observer: Option<ObserverFn>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("config", &self.inner.config)
            .field("max_answer_bytes", &self.inner.transport.max_answer_bytes())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Settings for a client, starting from the defaults (see [`ClientBuilder`]).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_parts(
        agent: ureq::Agent,
        base_url: String,
        config: Config,
        max_answer_bytes: u64,
        clock: ClockFn,
        observer: Option<ObserverFn>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                // Only an observer sees an answer's headers.
                transport: UreqTransport::new(agent, base_url.into(), max_answer_bytes)
                    .keeping_headers(observer.is_some()),
                config,
                clock,
                observer,
            }),
        }
    }

    /// Connects a Messenger account with its username and password (`POST /accounts`).
    ///
    /// Returns [`Connection::Connected`], or [`Connection::Pending`] with the checkpoint to
    /// solve. A wrong password is [`Error::Api`] with `errors/invalid_credentials`.
    pub fn connect_messenger(
        &self,
        username: impl Into<String>,
        password: impl Into<Password>,
    ) -> Result<Connection, Error> {
        self.connect(Credentials::messenger(username, password))
    }

    /// Connects an account of any provider (`POST /accounts`).
    pub fn connect(&self, credentials: Credentials) -> Result<Connection, Error> {
        self.start(Command::Connect(credentials))
    }

    /// Reconnects an existing account (`POST /accounts/{account_id}`): it may ask for a
    /// checkpoint too.
    pub fn reconnect_account(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
    ) -> Result<Connection, Error> {
        self.start(Command::Reconnect {
            account_id: account_id.into(),
            credentials,
        })
    }

    /// Continues an intent saved with [`PendingIntent::save`], maybe by another client in
    /// another process. Nothing is sent.
    ///
    /// Fails with [`Error::IntentExpired`] if its deadline has passed (by this client's
    /// clock), [`Error::IntentDestroyed`] if it was saved destroyed, and
    /// [`UsageError::NoPendingIntent`] if no intent was pending when it was saved. A snapshot
    /// taken by hand while a solve or resend was in flight resumes as pending: that request's
    /// answer is lost, and the checkpoint may be solved again.
    pub fn resume(&self, saved: Snapshot) -> Result<PendingIntent, Error> {
        let mut flow = Flow::resume(self.inner.config.clone(), saved);
        let now = self.now();
        if matches!(flow.phase(), Phase::Solving | Phase::Resending) {
            let lost = TransportError::new(
                TransportErrorKind::Io,
                "the answer to the request in flight when the intent was saved was lost",
            );
            // The intent goes back to pending, or expires if its deadline has passed.
            let _ = flow.handle_transport_error(now, lost);
        }
        // Expires the intent if its deadline has passed; `expired()` below reports it.
        let _ = flow.handle_timeout(now);
        if let Some(expired) = flow.expired() {
            return Err(expired.clone().into());
        }
        if let Some(destroyed) = flow.destroyed() {
            return Err(destroyed.clone().into());
        }
        PendingIntent::new(self.clone(), flow).ok_or(Error::Usage(UsageError::NoPendingIntent))
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.inner.transport.base_url()
    }

    /// The core's configuration: the API key (redacted in `Debug`) and the time budgets.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The time by the client's clock.
    pub fn now(&self) -> UnixMillis {
        (self.inner.clock)()
    }

    /// The raw transport, sharing this client's agent, to drive an [`auth_core::Flow`] by
    /// hand. It does not call the [`ClientBuilder::on_exchange`] observer.
    pub fn transport(&self) -> UreqTransport {
        self.inner.transport.clone().keeping_headers(true)
    }

    /// Connect or reconnect with a new flow.
    fn start(&self, command: Command) -> Result<Connection, Error> {
        let mut flow = Flow::new(self.inner.config.clone());
        match self.round_trip(&mut flow, command)? {
            Event::Connected { account_id } => Ok(Connection::Connected { account_id }),
            Event::Reconnected { account_id } => Ok(Connection::Reconnected { account_id }),
            _ => PendingIntent::new(self.clone(), flow)
                .map(Connection::Pending)
                .ok_or(Error::Usage(UsageError::NoPendingIntent)),
        }
    }

    /// Every step of every flow goes through here: one request and its answer, by
    /// [`auth_core::drive`], with the observer told of the exchange.
    fn round_trip(&self, flow: &mut Flow, command: Command) -> Result<Event, Error> {
        let inner = &*self.inner;
        let mut send = |request: &Request| -> Result<Answer, TransportError> {
            // The clock is read only for an observer.
            let started = inner.observer.as_ref().map(|_| Instant::now());
            let outcome = inner.transport.execute(request);
            if let (Some(observer), Some(started)) = (&inner.observer, started) {
                observer(&Exchange {
                    request,
                    outcome: outcome.as_ref(),
                    elapsed: started.elapsed(),
                });
            }
            outcome
        };
        let mut clock = || self.now();
        auth_core::drive(flow, &mut send, &mut clock, command)
    }
}

/// What a connect or reconnect led to.
#[derive(Debug)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per connect and matched at once: a box would only cost callers a deref"
)]
pub enum Connection {
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
    Pending(PendingIntent),
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
    /// this one), in the same intent: see [`PendingIntent::checkpoint`].
    NextCheckpoint,
}

/// A pending authentication intent: a checkpoint to solve before its deadline.
///
/// After an [`Error::Api`] answer that leaves the intent alive (a wrong code:
/// [`ApiError::is_wrong_code`](auth_core::ApiError::is_wrong_code)) or a transport error
/// before the deadline, it is still pending: solve again. After
/// [`Error::IntentExpired`] or [`Error::IntentDestroyed`] it is over: connect again.
///
/// [`PendingIntent::save`] keeps it (serde, no secrets) for [`Client::resume`].
pub struct PendingIntent {
    client: Client,
    flow: Flow,
    /// The latest live intent: kept when the flow ends, so the accessors always answer.
    intent: Intent,
}

impl fmt::Debug for PendingIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingIntent")
            .field("phase", &self.flow.phase())
            .field("intent", &self.intent)
            .finish_non_exhaustive()
    }
}

impl PendingIntent {
    fn new(client: Client, flow: Flow) -> Option<Self> {
        if !flow.is_pending() {
            return None;
        }
        let intent = flow.intent()?.clone();
        Some(Self { client, flow, intent })
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

    /// The time left, by the client's clock; zero once the deadline has passed, and once
    /// the intent is over (connected, expired, destroyed).
    pub fn remaining(&self) -> Duration {
        // As the core sees time: a clock that went back never gives the intent more time.
        self.flow.remaining(self.client.now()).unwrap_or(Duration::ZERO)
    }

    /// Whether a checkpoint may still be solved: no request failed the intent, and its
    /// deadline has not passed by the client's clock.
    pub fn is_pending(&self) -> bool {
        self.flow.is_pending() && !self.remaining().is_zero()
    }

    /// Where the flow is: [`Phase::AwaitingCheckpoint`] while pending, or how it ended.
    pub fn phase(&self) -> Phase {
        self.flow.phase()
    }

    /// The client that sends this intent's requests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Solves the checkpoint with the code the user typed (`POST /accounts/checkpoint`),
    /// as the official SDK's `solveCodeCheckpoint`.
    ///
    /// The literal codes `in_app_validation` and `TRY_ANOTHER_WAY` mean what they mean in
    /// the contract (see [`Solution::code`]).
    pub fn solve_code_checkpoint(&mut self, code: impl Into<String>) -> Result<Solved, Error> {
        self.solve(Solution::code(code.into()))
    }

    /// Solves the checkpoint with any [`Solution`].
    ///
    /// At or after the deadline it returns [`Error::IntentExpired`] at once and sends
    /// nothing. A 408 answer is [`Error::IntentExpired`]; a 400 after it is
    /// [`Error::IntentDestroyed`].
    pub fn solve(&mut self, solution: Solution) -> Result<Solved, Error> {
        match self.step(Command::Solve(solution))? {
            Event::Connected { account_id } => Ok(Solved::Connected { account_id }),
            Event::Reconnected { account_id } => Ok(Solved::Reconnected { account_id }),
            _ => Ok(Solved::NextCheckpoint),
        }
    }

    /// Solves the checkpoint by approval in the provider's app (`in_app_validation`): the
    /// request waits for the user's approval, up to the intent's whole remaining time.
    pub fn solve_in_app(&mut self) -> Result<Solved, Error> {
        self.solve(Solution::InAppValidation)
    }

    /// Asks for another way to solve the checkpoint (`TRY_ANOTHER_WAY`): on success the
    /// result is [`Solved::NextCheckpoint`], with the new checkpoint in
    /// [`PendingIntent::checkpoint`].
    pub fn try_another_way(&mut self) -> Result<Solved, Error> {
        self.solve(Solution::TryAnotherWay)
    }

    /// Asks the server to send the checkpoint again (`POST /accounts/checkpoint/resend`).
    pub fn resend_checkpoint(&mut self) -> Result<(), Error> {
        self.step(Command::Resend).map(drop)
    }

    /// The intent as data to keep between two requests of a user, and to resume with
    /// [`Client::resume`] in any process: serde, versioned, without any secret.
    pub fn save(&self) -> Snapshot {
        self.flow.snapshot()
    }

    fn step(&mut self, command: Command) -> Result<Event, Error> {
        let result = self.client.round_trip(&mut self.flow, command);
        if let Some(intent) = self.flow.intent() {
            self.intent = intent.clone();
        }
        result
    }
}

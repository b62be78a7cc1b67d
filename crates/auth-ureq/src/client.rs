//! The client people call: connect, solve, resend, reconnect, resume, read an account.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{
    AccountId, AccountStatus, BaseUrl, Checkpoint, Clock, Command, Config, Credentials, Error, Event, Flow,
    IdempotencyKey, Intent, Password, PendingFlow, Phase, Resend, Snapshot, Solution, Solved, UnixMillis,
    UsageError,
};

use auth_client::Observer;

use crate::builder::ClientBuilder;
use crate::new_idempotency_key;
use crate::transport::UreqTransport;

/// The client's clock, shared by its clones.
pub(crate) type SharedClock = Arc<dyn Clock + Send + Sync>;

/// What a connect or reconnect led to: [`Connection::Connected`],
/// [`Connection::Reconnected`], or [`Connection::Pending`] with the [`PendingIntent`] to
/// solve. The core's [`auth_core::Connection`], the one mapping from events to what a
/// client returns, blocking or async.
pub type Connection = auth_core::Connection<PendingIntent>;

/// The client of the account-connection API: blocking, on one kept-alive
/// [`ureq::Agent`]. Cloning is cheap and shares the agent.
///
/// Every call runs through [`auth_core::drive`], the one driver loop: the core builds each
/// request (with a fresh `Idempotency-Key`, 16 random bytes per command), this client's
/// transport sends it, and the core's [`RetryPolicy`](auth_core::RetryPolicy) decides what is
/// sent again (no answer at all, 5xx, 429 with its `Retry-After`), with the same key, never
/// past the intent's deadline; the client only sleeps on its clock and sends.
///
/// Build it with [`Client::builder`]; see the [crate documentation](crate) for a whole flow.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: UreqTransport,
    config: Config,
    clock: SharedClock,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", self.base_url())
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
        base_url: BaseUrl,
        config: Config,
        max_answer_bytes: u64,
        clock: SharedClock,
        observer: Option<Observer>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport: UreqTransport::new(agent, base_url, max_answer_bytes, observer),
                config,
                clock,
            }),
        }
    }

    /// Connects a Messenger account with its username and password (`POST /accounts`).
    ///
    /// Returns [`Connection::Connected`], or [`Connection::Pending`] with the checkpoint to
    /// solve. A refused password is [`Error::Api`] with
    /// [`Problem::WrongCredentials`](auth_core::Problem::WrongCredentials) (the API uses the
    /// same type for a refused API key: the error's text says both).
    pub fn connect_messenger(
        &self,
        username: impl Into<String>,
        password: impl Into<Password>,
    ) -> Result<Connection, Error> {
        self.connect(Credentials::messenger(username, password))
    }

    /// Connects an account of any provider, with the optional fields of a connect
    /// ([`auth_core::ConnectOptions`]) if any (`POST /accounts`).
    pub fn connect(&self, credentials: Credentials) -> Result<Connection, Error> {
        self.start(Command::Connect(credentials))
    }

    /// [`connect`](Self::connect) with an `Idempotency-Key` the caller chose and kept, for a
    /// caller that may send the same connect again from another process (one that died
    /// mid-request): the same key and the same credentials get the server's first answer
    /// again, never a second intent.
    pub fn connect_with_key(
        &self,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection, Error> {
        self.start_with_key(Command::Connect(credentials), key)
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

    /// [`reconnect_account`](Self::reconnect_account) with an `Idempotency-Key` the caller
    /// chose and kept, as [`connect_with_key`](Self::connect_with_key).
    pub fn reconnect_account_with_key(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection, Error> {
        self.start_with_key(
            Command::Reconnect {
                account_id: account_id.into(),
                credentials,
            },
            key,
        )
    }

    /// Sends again a connect (or reconnect) whose answer was lost, as `saved` holds it
    /// ([`Snapshot::lost_connect`] from its key and first send, kept by a process that died
    /// mid-request), with the same `credentials`: under its `Idempotency-Key`, so the
    /// server answers what it answered then (never a second intent), and with the intent's
    /// deadline counted from the first send, as the server's is. A `409` (the key went with
    /// other credentials, which the server acted on) is returned as [`Error::Api`] with
    /// [`Problem::IdempotencyConflict`](auth_core::Problem::IdempotencyConflict), nothing
    /// more sent: the caller, who keeps its keys, chooses the next one. A usage error, with
    /// nothing sent, if `saved` holds no such connect.
    pub fn connect_again(&self, saved: Snapshot, credentials: Credentials) -> Result<Connection, Error> {
        let flow = Flow::resume(self.inner.config.clone(), saved);
        let (command, key) = auth_client::connect_again_command(&flow, credentials)?;
        self.start_on(flow, command, key)
    }

    /// Reads an account's status (`GET /accounts/{account_id}`): after
    /// [`Connection::Connected`] the account may still be `CONNECTING`; its sources say how
    /// it is ([`AccountStatus::status`]). A `404` is [`Error::Api`] with
    /// [`Problem::NotFound`](auth_core::Problem::NotFound).
    pub fn account_status(&self, account_id: impl Into<AccountId>) -> Result<AccountStatus, Error> {
        let mut flow = Flow::new(self.inner.config.clone());
        // A GET carries no idempotency key: the one the command takes is never sent, so it
        // needs no randomness.
        let key = IdempotencyKey::from_random_bytes([0; 16]);
        match self.drive(&mut flow, Command::AccountStatus(account_id.into()), key)? {
            Event::AccountStatus(status) => Ok(status),
            _ => Err(Error::Usage(UsageError::Unsupported(
                "the account status request led to another event",
            ))),
        }
    }

    /// Continues an intent saved with [`PendingIntent::save`], maybe by another client in
    /// another process, by this client's clock ([`PendingFlow::resume`]). Nothing is sent.
    ///
    /// Fails with [`Error::IntentExpired`] if its deadline has passed, with the error that
    /// ended it if it was saved ended (expired, destroyed, refused), and with
    /// [`UsageError::NoPendingIntent`] if no intent was pending when it was saved (connected).
    /// A snapshot taken while a request was out (or after its answer was lost) resumes with
    /// that request unsettled: the same call again (a solve with the same kind of solution, a
    /// resend) sends it again with its `Idempotency-Key`, so a server that acted on it answers
    /// what it answered then.
    pub fn resume(&self, saved: Snapshot) -> Result<PendingIntent, Error> {
        let state = PendingFlow::resume(self.inner.config.clone(), saved, self.now())?;
        Ok(PendingIntent {
            client: self.clone(),
            state,
        })
    }

    /// The base URL requests go to, as checked: [`BaseUrl::url_for`] joins each path to it.
    pub fn base_url(&self) -> &BaseUrl {
        self.inner.transport.base_url()
    }

    /// The core's configuration: the API key (redacted in `Debug`), how it is sent, the time
    /// budgets and the retry policy.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether the API key is a postpress sandbox key (`pp_test_…`): its traffic is
    /// sandboxed and connects no real account. Worth showing wherever a person sees results.
    pub fn is_sandbox(&self) -> bool {
        self.inner.config.is_sandbox()
    }

    /// The time by the client's clock.
    pub fn now(&self) -> UnixMillis {
        self.inner.clock.now()
    }

    /// The client's clock, to drive an [`auth_core::Flow`] through [`auth_core::drive`] by
    /// hand with [`Client::transport`].
    pub fn clock(&self) -> &(dyn Clock + Send + Sync) {
        &*self.inner.clock
    }

    /// The transport, sharing this client's agent and observer, to drive an
    /// [`auth_core::Flow`] through [`auth_core::drive`] by hand. Its answers keep every
    /// header.
    pub fn transport(&self) -> UreqTransport {
        self.inner.transport.clone().keeping_headers(true)
    }

    /// [`start_with_key`](Self::start_with_key) with a fresh idempotency key.
    fn start(&self, command: Command) -> Result<Connection, Error> {
        self.start_with_key(command, new_idempotency_key()?)
    }

    /// Connect or reconnect with a new flow.
    fn start_with_key(&self, command: Command, key: IdempotencyKey) -> Result<Connection, Error> {
        self.start_on(Flow::new(self.inner.config.clone()), command, key)
    }

    /// Connect or reconnect on `flow`.
    fn start_on(&self, mut flow: Flow, command: Command, key: IdempotencyKey) -> Result<Connection, Error> {
        let outcome = self.drive(&mut flow, command, key);
        Connection::from_outcome(flow, outcome, |state| PendingIntent {
            client: self.clone(),
            state,
        })
    }

    /// Every call of every flow goes through here: [`auth_core::drive`] over this client's
    /// transport and clock.
    fn drive(&self, flow: &mut Flow, command: Command, key: IdempotencyKey) -> Result<Event, Error> {
        auth_core::drive(flow, &mut &self.inner.transport, self.clock(), command, key)
    }
}

/// A pending authentication intent: a checkpoint to solve before its deadline.
///
/// After an [`Error::Api`] answer that leaves the intent alive (a wrong code, a solve
/// refused as malformed: [`Error::is_retryable_by_user`]) or a transport error before the
/// deadline (the core has already retried it), it is still pending: solve again. After
/// [`Error::IntentExpired`], [`Error::IntentDestroyed`] or a refusal of the account (a 403,
/// [`Problem::AccountRefused`](auth_core::Problem::AccountRefused)) it is over: connect again.
///
/// [`PendingIntent::save`] keeps it (a versioned JSON format, no secrets) for
/// [`Client::resume`]. The mapping from events to [`Solved`] and [`Resend`] is the core's
/// [`PendingFlow`], which an async client shares.
pub struct PendingIntent {
    client: Client,
    state: PendingFlow,
}

impl fmt::Debug for PendingIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingIntent")
            .field("phase", &self.state.phase())
            .field("intent", self.state.intent())
            .finish_non_exhaustive()
    }
}

impl PendingIntent {
    /// The account being connected.
    pub fn account_id(&self) -> &AccountId {
        self.state.account_id()
    }

    /// The checkpoint to solve now.
    pub fn checkpoint(&self) -> &Checkpoint {
        self.state.checkpoint()
    }

    /// The whole intent: checkpoint, deadline, attempts.
    pub fn intent(&self) -> &Intent {
        self.state.intent()
    }

    /// When the intent ends: at and after this moment nothing is sent.
    pub fn deadline(&self) -> UnixMillis {
        self.state.deadline()
    }

    /// The time left, by the client's clock; zero once the deadline has passed, and once
    /// the intent is over (connected, expired, destroyed, refused).
    pub fn remaining(&self) -> Duration {
        self.state.remaining(self.client.now())
    }

    /// Whether a checkpoint may still be solved: the intent has not ended, and its deadline
    /// has not passed by the client's clock.
    pub fn is_pending(&self) -> bool {
        self.state.is_pending(self.client.now())
    }

    /// Where the flow is: [`Phase::AwaitingCheckpoint`] while pending, or how it ended.
    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    /// The client that sends this intent's requests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Tells the intent the time by the client's clock, sending nothing: at or after its
    /// deadline it expires, and the expiry ([`Error::IntentExpired`]) is returned; before, or
    /// once over, `Ok(())`. For a caller that waits (for a person to type a code) and wants the
    /// core to decide that the time is up.
    pub fn tick(&mut self) -> Result<(), Error> {
        self.state.tick(self.client.now())
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
    /// nothing. A success that comes after the deadline still connects (the server's word
    /// wins). A 408 answer is [`Error::IntentExpired`]; a 400 after it is
    /// [`Error::IntentDestroyed`]; a 403 ends the attempt
    /// ([`Problem::AccountRefused`](auth_core::Problem::AccountRefused)).
    pub fn solve(&mut self, solution: Solution) -> Result<Solved, Error> {
        self.solve_with_key(solution, new_idempotency_key()?)
    }

    /// [`solve`](Self::solve) with an `Idempotency-Key` the caller chose and kept, for a
    /// caller that saves the key before sending (so that another process, if this one dies
    /// while the API holds an in-app approval, can send the same solution with the same key
    /// from the resumed intent, and a server that acted on the first gets its answer again).
    /// If the intent was saved with a request whose answer was lost, that request's own key
    /// wins (see [`Client::resume`]).
    pub fn solve_with_key(&mut self, solution: Solution, key: IdempotencyKey) -> Result<Solved, Error> {
        let outcome = self
            .client
            .drive(self.state.flow_mut(), Command::Solve(solution), key);
        self.state.solved(outcome)
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

    /// Asks the server to send the checkpoint again (`POST /accounts/checkpoint/resend`):
    /// [`Resend::Sent`], or [`Resend::Refused`] when the provider did not (`success: false`:
    /// nothing reached the user). Either way the intent is still pending, with the same
    /// deadline.
    pub fn resend_checkpoint(&mut self) -> Result<Resend, Error> {
        self.resend_checkpoint_with_key(new_idempotency_key()?)
    }

    /// [`resend_checkpoint`](Self::resend_checkpoint) with an `Idempotency-Key` the caller
    /// chose and kept (see [`solve_with_key`](Self::solve_with_key)).
    pub fn resend_checkpoint_with_key(&mut self, key: IdempotencyKey) -> Result<Resend, Error> {
        let outcome = self.client.drive(self.state.flow_mut(), Command::Resend, key);
        self.state.resent(outcome)
    }

    /// The intent as data to keep between two requests of a user, and to resume with
    /// [`Client::resume`] in any process: versioned JSON (serde), without any secret.
    pub fn save(&self) -> Snapshot {
        self.state.save()
    }
}

//! The account-connection flow: the one state enum and every transition, in this file.
//!
//! Every rule of the contract that moves the machine is a match arm below: a reader finds
//! them all here, and [`TRANSITIONS`] lists the moves between phases they make (a test
//! checks the code against that list, and `docs/state-machine.md` is drawn from it).

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::account::{AccountId, Credentials, Provider};
use crate::checkpoint::{Checkpoint, Solution, SolutionKind};
use crate::config::Config;
use crate::error::{
    ApiError, Detection, Error, ErrorType, IntentDestroyed, IntentExpired, MalformedAnswer, TransportError,
    UsageError,
};
use crate::http::{Answer, Body, Header, Method, Request, RequestKind};
use crate::secret::SecretString;
use crate::time::UnixMillis;
use crate::wire::{self, ConnectBody, Reply, ResendBody, SolveBody};

/// What the caller asks the machine to do. Each command builds one request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Command {
    /// Connect an account with its credentials (`POST /accounts`): starts over from any
    /// phase where no request is in flight, abandoning a pending intent.
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
}

/// What a successful answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The account is connected (`AccountCreated`).
    Connected {
        /// The connected account.
        account_id: AccountId,
    },
    /// The account is reconnected (`AccountReconnected`).
    Reconnected {
        /// The reconnected account.
        account_id: AccountId,
    },
    /// A checkpoint must be solved: the first of a new intent, the next of a chain, or
    /// another way of solving the same one.
    Checkpoint(Intent),
    /// The server sent the checkpoint again.
    CheckpointResent(Intent),
}

/// A pending authentication intent: the checkpoint to solve and the time left to do it.
///
/// It lasts [`Config::intent_ttl`] in total, counted from the moment the request that
/// was answered by its first checkpoint was sent (the server's intent started no earlier,
/// so this deadline is safe). Solving a checkpoint of a chain does not extend it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Intent {
    /// The account being connected.
    pub account_id: AccountId,
    /// Its provider.
    pub provider: Provider,
    /// The checkpoint to solve now.
    pub checkpoint: Checkpoint,
    /// When the request that started the intent was sent.
    pub started_at: UnixMillis,
    /// When the intent ends: at and after this moment nothing more is sent.
    pub deadline: UnixMillis,
    /// Wrong codes given for the current checkpoint.
    pub failed_attempts: u32,
    /// Checkpoints of the chain already solved.
    pub checkpoints_solved: u32,
    /// Whether the intent reconnects an existing account.
    pub reconnect: bool,
}

impl Intent {
    /// The time left at `now`, zero once the deadline has passed.
    pub fn remaining(&self, now: UnixMillis) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// Whether the intent has ended at `now` (at or after its deadline).
    pub fn is_expired_at(&self, now: UnixMillis) -> bool {
        now >= self.deadline
    }

    fn expired(&self, detected_by: Detection) -> IntentExpired {
        IntentExpired {
            account_id: self.account_id.clone(),
            deadline: self.deadline,
            detected_by,
        }
    }
}

/// Where the machine is, without the data: what [`Flow::phase`] answers and what the
/// state diagram draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// Nothing started, or the last attempt failed: connect.
    Idle,
    /// A connect or reconnect request is in flight.
    Connecting,
    /// An intent is pending: solve or resend its checkpoint before the deadline.
    AwaitingCheckpoint,
    /// A solve request is in flight.
    Solving,
    /// A resend request is in flight.
    Resending,
    /// The account is connected.
    Connected,
    /// The intent ran out of time.
    Expired,
    /// The intent destroyed itself on the server.
    Destroyed,
}

impl Phase {
    /// Every phase, in the order of the diagram.
    pub const ALL: [Self; 8] = [
        Self::Idle,
        Self::Connecting,
        Self::AwaitingCheckpoint,
        Self::Solving,
        Self::Resending,
        Self::Connected,
        Self::Expired,
        Self::Destroyed,
    ];

    /// Whether a request is in flight: the next input must be its answer or its failure.
    pub fn is_in_flight(self) -> bool {
        matches!(self, Self::Connecting | Self::Solving | Self::Resending)
    }

    /// Whether an intent is alive (pending, or with a request in flight).
    pub fn has_intent(self) -> bool {
        matches!(self, Self::AwaitingCheckpoint | Self::Solving | Self::Resending)
    }

    /// Whether the flow has ended: only a new connect leaves these phases.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Connected | Self::Expired | Self::Destroyed)
    }
}

/// One move between two phases, and what makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The phase before.
    pub from: Phase,
    /// The phase after.
    pub to: Phase,
    /// What makes the move, in the contract's words.
    pub on: &'static str,
}

const fn transition(from: Phase, to: Phase, on: &'static str) -> Transition {
    Transition { from, to, on }
}

/// Every move between two different phases the machine can make. An input that leaves
/// the phase as it is (a misuse, a wrong code's answer…) is not listed.
pub const TRANSITIONS: &[Transition] = &[
    transition(Phase::Idle, Phase::Connecting, "connect / reconnect"),
    transition(
        Phase::Connecting,
        Phase::Connected,
        "201 AccountCreated / AccountReconnected",
    ),
    transition(
        Phase::Connecting,
        Phase::AwaitingCheckpoint,
        "202 Checkpoint (the intent starts)",
    ),
    transition(
        Phase::Connecting,
        Phase::Expired,
        "202 answered after the deadline",
    ),
    transition(
        Phase::Connecting,
        Phase::Idle,
        "error answer, malformed answer, transport error",
    ),
    transition(
        Phase::AwaitingCheckpoint,
        Phase::Solving,
        "solve before the deadline",
    ),
    transition(
        Phase::AwaitingCheckpoint,
        Phase::Resending,
        "resend before the deadline",
    ),
    transition(Phase::AwaitingCheckpoint, Phase::Expired, "deadline passed"),
    transition(
        Phase::AwaitingCheckpoint,
        Phase::Connecting,
        "connect (abandons the intent)",
    ),
    transition(
        Phase::Solving,
        Phase::Connected,
        "201 AccountCreated / AccountReconnected",
    ),
    transition(
        Phase::Solving,
        Phase::AwaitingCheckpoint,
        "202 next checkpoint, 401 wrong code, other error, transport error",
    ),
    transition(Phase::Solving, Phase::Expired, "408, or deadline passed"),
    transition(
        Phase::Solving,
        Phase::Destroyed,
        "400, or 500 authentication_intent_error",
    ),
    transition(
        Phase::Resending,
        Phase::AwaitingCheckpoint,
        "201 CheckpointResend, 202, error, transport error",
    ),
    transition(Phase::Resending, Phase::Expired, "408, or deadline passed"),
    transition(
        Phase::Resending,
        Phase::Destroyed,
        "400, or 500 authentication_intent_error",
    ),
    transition(Phase::Connected, Phase::Connecting, "connect / reconnect"),
    transition(Phase::Expired, Phase::Connecting, "connect (start over)"),
    transition(Phase::Destroyed, Phase::Connecting, "connect (start over)"),
];

/// The state diagram of [`TRANSITIONS`] in Mermaid, as `docs/state-machine.md` shows it.
pub fn state_diagram() -> String {
    let mut diagram = String::from("stateDiagram-v2\n    [*] --> Idle\n");
    for t in TRANSITIONS {
        diagram.push_str(&format!("    {:?} --> {:?}: {}\n", t.from, t.to, t.on));
    }
    diagram
}

/// The state, with its data. Private: callers see [`Phase`] and the accessors of [`Flow`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum State {
    #[default]
    Idle,
    Connecting {
        provider: Provider,
        sent_at: UnixMillis,
        reconnect: bool,
    },
    AwaitingCheckpoint(Intent),
    Solving {
        intent: Intent,
        solution: SolutionKind,
    },
    Resending(Intent),
    Connected {
        account_id: AccountId,
        reconnected: bool,
    },
    Expired(IntentExpired),
    Destroyed(IntentDestroyed),
}

impl State {
    fn phase(&self) -> Phase {
        match self {
            Self::Idle => Phase::Idle,
            Self::Connecting { .. } => Phase::Connecting,
            Self::AwaitingCheckpoint(_) => Phase::AwaitingCheckpoint,
            Self::Solving { .. } => Phase::Solving,
            Self::Resending(_) => Phase::Resending,
            Self::Connected { .. } => Phase::Connected,
            Self::Expired(_) => Phase::Expired,
            Self::Destroyed(_) => Phase::Destroyed,
        }
    }

    fn intent(&self) -> Option<&Intent> {
        match self {
            Self::AwaitingCheckpoint(intent) | Self::Solving { intent, .. } | Self::Resending(intent) => {
                Some(intent)
            }
            _ => None,
        }
    }
}

/// The sans-IO state machine of one account connection.
///
/// Feed it [`Command`]s and [`Answer`]s, each with the time; it returns [`Request`]s to
/// send and [`Event`]s or typed [`Error`]s. It reads no clock, does no IO and starts no
/// thread. At most one request is in flight at a time.
///
/// ```
/// use auth_core::{Answer, Command, Config, Credentials, Event, Flow, Solution, UnixMillis};
///
/// let mut flow = Flow::new(Config::new("my-api-key"));
/// let t0 = UnixMillis::from_millis(1_700_000_000_000);
///
/// // Connect: the machine builds the request, we send it however we like.
/// let request = flow.begin(t0, Command::Connect(Credentials::messenger("bob", "pw-b")))?;
/// assert_eq!(request.path, "/accounts");
/// let answer = Answer::new(202, r#"{"object":"Checkpoint","account_id":"acc-1","checkpoint":{"type":"2FA"}}"#);
/// let Event::Checkpoint(intent) = flow.handle_answer(UnixMillis::from_millis(1_700_000_000_300), &answer)? else {
///     unreachable!()
/// };
/// // The five minutes count from when the connect request was sent.
/// assert_eq!(intent.deadline, UnixMillis::from_millis(1_700_000_300_000));
/// assert_eq!(flow.next_deadline(), Some(intent.deadline));
///
/// // Solve the checkpoint with the code the user typed.
/// let request = flow.begin(UnixMillis::from_millis(1_700_000_030_000), Command::Solve(Solution::code("123456")))?;
/// assert_eq!(request.path, "/accounts/checkpoint");
/// let answer = Answer::new(201, r#"{"object":"AccountCreated","account_id":"acc-1"}"#);
/// let event = flow.handle_answer(UnixMillis::from_millis(1_700_000_030_200), &answer)?;
/// assert_eq!(event, Event::Connected { account_id: "acc-1".into() });
/// assert!(flow.is_connected());
/// # Ok::<(), auth_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Flow {
    config: Config,
    state: State,
    /// The latest `now` seen: a clock that goes backwards never gives an intent more time.
    latest_now: UnixMillis,
    /// The password or code of the request in flight, to redact from what the server
    /// sends back. Never serialized.
    in_flight_secret: Option<SecretString>,
}

impl Flow {
    /// A new machine, idle.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            state: State::Idle,
            latest_now: UnixMillis::EPOCH,
            in_flight_secret: None,
        }
    }

    /// A machine that continues a saved [`Snapshot`], with the configuration (and so the
    /// API key) of the process that resumes it.
    pub fn resume(config: Config, snapshot: Snapshot) -> Self {
        Self {
            config,
            state: snapshot.state,
            latest_now: snapshot.latest_now,
            in_flight_secret: None,
        }
    }

    /// The state as data to save, without any secret: see [`Snapshot`].
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: Snapshot::VERSION,
            state: self.state.clone(),
            latest_now: self.latest_now,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the machine is.
    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    /// The live intent: pending, or with a request in flight.
    pub fn intent(&self) -> Option<&Intent> {
        self.state.intent()
    }

    /// Whether an intent is waiting for a solve or a resend.
    pub fn is_pending(&self) -> bool {
        self.phase() == Phase::AwaitingCheckpoint
    }

    /// Whether the account is connected (or reconnected).
    pub fn is_connected(&self) -> bool {
        self.phase() == Phase::Connected
    }

    /// The connected account, once connected.
    pub fn connected_account(&self) -> Option<&AccountId> {
        match &self.state {
            State::Connected { account_id, .. } => Some(account_id),
            _ => None,
        }
    }

    /// How the intent expired, once it has.
    pub fn expired(&self) -> Option<&IntentExpired> {
        match &self.state {
            State::Expired(expired) => Some(expired),
            _ => None,
        }
    }

    /// How the intent was destroyed, once it has been.
    pub fn destroyed(&self) -> Option<&IntentDestroyed> {
        match &self.state {
            State::Destroyed(destroyed) => Some(destroyed),
            _ => None,
        }
    }

    /// When the driver should call [`Flow::handle_timeout`]: the live intent's deadline.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        self.intent().map(|intent| intent.deadline)
    }

    /// The live intent's time left at `now` (as the machine sees time: never more than at
    /// the latest `now` it was given).
    pub fn remaining(&self, now: UnixMillis) -> Option<Duration> {
        let now = now.max(self.latest_now);
        self.intent().map(|intent| intent.remaining(now))
    }

    /// Starts a command: returns the request to send, or an error and sends nothing.
    ///
    /// A solve or resend at or after the intent's deadline sends nothing: the machine moves
    /// to [`Phase::Expired`] and returns [`Error::IntentExpired`].
    pub fn begin(&mut self, now: UnixMillis, command: Command) -> Result<Request, Error> {
        let now = self.observe(now);
        let state = std::mem::take(&mut self.state);
        let (state, result) = self.on_command(state, now, command);
        self.state = state;
        result
    }

    /// Reads the answer to the request in flight.
    pub fn handle_answer(&mut self, now: UnixMillis, answer: &Answer) -> Result<Event, Error> {
        let now = self.observe(now);
        let secret = self.in_flight_secret.take();
        // An empty entry stands for "no secret in flight": scrubbing skips it.
        let secrets = [
            self.config.api_key().expose_secret(),
            secret.as_ref().map_or("", SecretString::expose),
        ];
        let state = std::mem::take(&mut self.state);
        let (state, result) = on_answer(state, now, answer, &secrets, &self.config);
        self.state = state;
        result
    }

    /// Records that the request in flight got no answer. A pending intent stays pending
    /// (unless its deadline has passed), so the caller may try again.
    pub fn handle_transport_error(&mut self, now: UnixMillis, error: TransportError) -> Error {
        let now = self.observe(now);
        self.in_flight_secret = None;
        let (state, error) = match std::mem::take(&mut self.state) {
            State::Connecting { .. } => (State::Idle, Error::Transport(error)),
            State::Solving { intent, .. } | State::Resending(intent) => match live(intent, now) {
                Ok(intent) => (State::AwaitingCheckpoint(intent), Error::Transport(error)),
                Err(expired) => (State::Expired(expired.clone()), Error::IntentExpired(expired)),
            },
            other => (other, UsageError::NoRequestInFlight.into()),
        };
        self.state = state;
        error
    }

    /// Expires the live intent if `now` is at or after its deadline; returns how, the first
    /// time only. Extra calls are harmless.
    pub fn handle_timeout(&mut self, now: UnixMillis) -> Option<IntentExpired> {
        let now = self.observe(now);
        let intent = self.intent()?;
        if !intent.is_expired_at(now) {
            return None;
        }
        let expired = intent.expired(Detection::Deadline);
        self.state = State::Expired(expired.clone());
        self.in_flight_secret = None;
        Some(expired)
    }

    fn observe(&mut self, now: UnixMillis) -> UnixMillis {
        self.latest_now = self.latest_now.max(now);
        self.latest_now
    }

    fn on_command(
        &mut self,
        state: State,
        now: UnixMillis,
        command: Command,
    ) -> (State, Result<Request, Error>) {
        if state.phase().is_in_flight() {
            return (state, Err(UsageError::RequestInFlight.into()));
        }
        let solution = match command {
            Command::Connect(credentials) => return self.send_connect(state, now, credentials, None),
            Command::Reconnect {
                account_id,
                credentials,
            } => return self.send_connect(state, now, credentials, Some(&account_id)),
            Command::Solve(solution) => Some(solution),
            Command::Resend => None,
        };
        match state {
            State::AwaitingCheckpoint(intent) => match (live(intent, now), solution) {
                (Ok(intent), Some(solution)) => self.send_solve(intent, now, solution),
                (Ok(intent), None) => self.send_resend(intent, now),
                (Err(expired), _) => expire(expired),
            },
            State::Expired(expired) => (State::Expired(expired.clone()), Err(expired.into())),
            State::Destroyed(destroyed) => (State::Destroyed(destroyed.clone()), Err(destroyed.into())),
            other => (other, Err(UsageError::NoPendingIntent.into())),
        }
    }

    fn send_connect(
        &mut self,
        state: State,
        now: UnixMillis,
        credentials: Credentials,
        account_id: Option<&AccountId>,
    ) -> (State, Result<Request, Error>) {
        if account_id.is_some_and(|id| id.as_str().is_empty()) {
            return (state, Err(UsageError::Empty("account id").into()));
        }
        if credentials.username().is_empty() {
            return (state, Err(UsageError::Empty("username").into()));
        }
        if credentials.password().is_empty() {
            return (state, Err(UsageError::Empty("password").into()));
        }
        let body = wire::json_body(&ConnectBody {
            provider: credentials.provider(),
            username: credentials.username(),
            password: credentials.password().expose_secret(),
        });
        let (kind, path) = match account_id {
            None => (RequestKind::Connect, Cow::Borrowed("/accounts")),
            Some(id) => (RequestKind::Reconnect, Cow::Owned(wire::reconnect_path(id))),
        };
        let request = self.request(kind, path, body, self.config.request_timeout());
        let provider = credentials.provider();
        self.in_flight_secret = Some(credentials.into_password().into_inner());
        let state = State::Connecting {
            provider,
            sent_at: now,
            reconnect: account_id.is_some(),
        };
        (state, Ok(request))
    }

    fn send_solve(
        &mut self,
        intent: Intent,
        now: UnixMillis,
        solution: Solution,
    ) -> (State, Result<Request, Error>) {
        if solution.wire_code().is_empty() {
            return (
                State::AwaitingCheckpoint(intent),
                Err(UsageError::Empty("code").into()),
            );
        }
        let kind = solution.kind();
        // The server answers an in-app validation only once the user approved: the request
        // may take the intent's whole remaining time, and no more.
        let timeout = match kind {
            SolutionKind::InAppValidation => intent.remaining(now),
            _ => self.config.request_timeout().min(intent.remaining(now)),
        };
        let body = wire::json_body(&SolveBody {
            provider: intent.provider,
            account_id: &intent.account_id,
            code: solution.wire_code(),
        });
        let request = self.request(
            RequestKind::Solve,
            Cow::Borrowed("/accounts/checkpoint"),
            body,
            timeout,
        );
        self.in_flight_secret = solution.into_secret();
        (
            State::Solving {
                intent,
                solution: kind,
            },
            Ok(request),
        )
    }

    fn send_resend(&mut self, intent: Intent, now: UnixMillis) -> (State, Result<Request, Error>) {
        let body = wire::json_body(&ResendBody {
            provider: intent.provider,
            account_id: &intent.account_id,
        });
        let timeout = self.config.request_timeout().min(intent.remaining(now));
        let request = self.request(
            RequestKind::Resend,
            Cow::Borrowed("/accounts/checkpoint/resend"),
            body,
            timeout,
        );
        self.in_flight_secret = None;
        (State::Resending(intent), Ok(request))
    }

    fn request(&self, kind: RequestKind, path: Cow<'static, str>, body: Body, timeout: Duration) -> Request {
        Request {
            kind,
            method: Method::Post,
            path,
            headers: vec![
                Header::plain("accept", "application/json"),
                Header::plain("content-type", "application/json"),
                Header::api_key(self.config.shared_api_key()),
            ],
            body,
            timeout,
        }
    }
}

/// The intent, if it is still alive at `now`; how it expired otherwise.
fn live(intent: Intent, now: UnixMillis) -> Result<Intent, IntentExpired> {
    if intent.is_expired_at(now) {
        Err(intent.expired(Detection::Deadline))
    } else {
        Ok(intent)
    }
}

/// The intent has expired: the state that records it, and the error that says so.
fn expire<T>(expired: IntentExpired) -> (State, Result<T, Error>) {
    (
        State::Expired(expired.clone()),
        Err(Error::IntentExpired(expired)),
    )
}

/// Every answer to every request, in every state.
fn on_answer(
    state: State,
    now: UnixMillis,
    answer: &Answer,
    secrets: &[&str],
    config: &Config,
) -> (State, Result<Event, Error>) {
    match state {
        State::Connecting {
            provider,
            sent_at,
            reconnect,
        } => match wire::read_answer(answer, secrets) {
            Ok(Reply::AccountCreated(account_id)) => connected(account_id, false),
            Ok(Reply::AccountReconnected(account_id)) => connected(account_id, true),
            Ok(Reply::Checkpoint {
                account_id,
                checkpoint,
            }) => {
                let intent = Intent {
                    account_id,
                    provider,
                    checkpoint,
                    started_at: sent_at,
                    deadline: sent_at.saturating_add(config.intent_ttl()),
                    failed_attempts: 0,
                    checkpoints_solved: 0,
                    reconnect,
                };
                // A 202 that took the intent's whole lifetime to arrive ends it at once.
                match live(intent, now) {
                    Ok(intent) => pending(intent, Event::Checkpoint),
                    Err(expired) => expire(expired),
                }
            }
            Ok(reply @ Reply::CheckpointResend) => {
                (State::Idle, Err(unexpected(answer, &reply, secrets).into()))
            }
            Ok(Reply::Error(error)) => (State::Idle, Err(error.into())),
            Err(malformed) => (State::Idle, Err(malformed.into())),
        },
        State::Solving { intent, solution } => on_intent_answer(intent, Some(solution), now, answer, secrets),
        State::Resending(intent) => on_intent_answer(intent, None, now, answer, secrets),
        other => (other, Err(UsageError::NoRequestInFlight.into())),
    }
}

/// The answer to a solve (`solution` is its kind) or a resend (`None`) of a live intent.
fn on_intent_answer(
    intent: Intent,
    solution: Option<SolutionKind>,
    now: UnixMillis,
    answer: &Answer,
    secrets: &[&str],
) -> (State, Result<Event, Error>) {
    // An answer that comes at or after the deadline came past the request's time budget:
    // the intent is over, whatever the answer says.
    let intent = match live(intent, now) {
        Ok(intent) => intent,
        Err(expired) => return expire(expired),
    };
    let reply = match wire::read_answer(answer, secrets) {
        Ok(reply) => reply,
        Err(malformed) => return (State::AwaitingCheckpoint(intent), Err(malformed.into())),
    };
    match (reply, solution) {
        (Reply::AccountCreated(account_id), Some(_)) => connected(account_id, false),
        (Reply::AccountReconnected(account_id), Some(_)) => connected(account_id, true),
        (
            Reply::Checkpoint {
                account_id,
                checkpoint,
            },
            solution,
        ) => {
            let solved = matches!(solution, Some(SolutionKind::Code | SolutionKind::InAppValidation));
            let next = Intent {
                account_id,
                checkpoint,
                failed_attempts: 0,
                checkpoints_solved: intent.checkpoints_solved.saturating_add(u32::from(solved)),
                ..intent
            };
            pending(next, Event::Checkpoint)
        }
        (Reply::CheckpointResend, None) => pending(intent, Event::CheckpointResent),
        (Reply::Error(error), solution) => on_intent_error(intent, solution, error),
        (reply, _) => {
            let error = unexpected(answer, &reply, secrets);
            (State::AwaitingCheckpoint(intent), Err(error.into()))
        }
    }
}

/// An error answer against a live intent: the contract's rules of expiry and destruction.
fn on_intent_error(
    mut intent: Intent,
    solution: Option<SolutionKind>,
    error: ApiError,
) -> (State, Result<Event, Error>) {
    let destroyed = |intent: Intent, cause: ApiError| {
        let destroyed = IntentDestroyed {
            account_id: intent.account_id,
            cause,
        };
        (State::Destroyed(destroyed.clone()), Err(destroyed.into()))
    };
    match error.status {
        // The first request against an intent older than its lifetime.
        408 => expire(intent.expired(Detection::Server)),
        // A malformed request leaves the intent alive; any other 400 means it destroyed itself.
        400 if !error.is_malformed_request() => destroyed(intent, error),
        500 if error.kind == Some(ErrorType::AuthenticationIntentError) => destroyed(intent, error),
        _ => {
            if solution.is_some() && error.is_wrong_code() {
                intent.failed_attempts = intent.failed_attempts.saturating_add(1);
            }
            (State::AwaitingCheckpoint(intent), Err(error.into()))
        }
    }
}

fn connected(account_id: AccountId, reconnected: bool) -> (State, Result<Event, Error>) {
    let event = if reconnected {
        Event::Reconnected {
            account_id: account_id.clone(),
        }
    } else {
        Event::Connected {
            account_id: account_id.clone(),
        }
    };
    (
        State::Connected {
            account_id,
            reconnected,
        },
        Ok(event),
    )
}

/// A live intent now waits for its checkpoint; the event that says so.
fn pending(intent: Intent, event: fn(Intent) -> Event) -> (State, Result<Event, Error>) {
    (State::AwaitingCheckpoint(intent.clone()), Ok(event(intent)))
}

/// A success object of the contract that does not answer the request that was sent.
fn unexpected(answer: &Answer, reply: &Reply, secrets: &[&str]) -> MalformedAnswer {
    let object = match reply {
        Reply::AccountCreated(_) => "AccountCreated",
        Reply::AccountReconnected(_) => "AccountReconnected",
        Reply::Checkpoint { .. } => "Checkpoint",
        Reply::CheckpointResend => "CheckpointResend",
        Reply::Error(_) => "an error",
    };
    MalformedAnswer {
        status: answer.status,
        reason: format!("{object} does not answer the request that was sent"),
        excerpt: wire::excerpt(&answer.body, secrets),
    }
}

/// A flow's state as data, to keep a pending intent between two requests of a user and
/// resume it in another process with [`Flow::resume`].
///
/// It is versioned (`"version": 1`) and tagged by phase, and holds no secret: no password,
/// no code, no API key. A snapshot taken while a request is in flight resumes in flight;
/// take snapshots between requests.
///
/// ```
/// use auth_core::{Answer, Command, Config, Credentials, Flow, Phase, Snapshot, UnixMillis};
///
/// let mut flow = Flow::new(Config::new("secret-key"));
/// flow.begin(UnixMillis::from_millis(0), Command::Connect(Credentials::messenger("bob", "pw-b")))?;
/// let answer = Answer::new(202, r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"OTP"}}"#);
/// flow.handle_answer(UnixMillis::from_millis(100), &answer)?;
///
/// let saved = serde_json::to_string(&flow.snapshot()).unwrap();
/// assert!(!saved.contains("secret-key") && !saved.contains("pw-b"));
///
/// // Later, in another process:
/// let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
/// let flow = Flow::resume(Config::new("secret-key"), snapshot);
/// assert_eq!(flow.phase(), Phase::AwaitingCheckpoint);
/// # Ok::<(), auth_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSnapshot")]
pub struct Snapshot {
    version: u32,
    state: State,
    latest_now: UnixMillis,
}

impl Snapshot {
    /// The format version this build writes and reads.
    pub const VERSION: u32 = 1;

    /// The phase the saved flow is in.
    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    /// The saved live intent, if any.
    pub fn intent(&self) -> Option<&Intent> {
        self.state.intent()
    }
}

/// A snapshot as read, before its version is checked.
#[derive(Deserialize)]
struct RawSnapshot {
    version: u32,
    state: State,
    latest_now: UnixMillis,
}

/// A snapshot in a format this build does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported snapshot version {0}: this build reads version {VERSION}", VERSION = Snapshot::VERSION)]
pub struct UnsupportedSnapshotVersion(pub u32);

impl TryFrom<RawSnapshot> for Snapshot {
    type Error = UnsupportedSnapshotVersion;

    fn try_from(raw: RawSnapshot) -> Result<Self, Self::Error> {
        if raw.version != Self::VERSION {
            return Err(UnsupportedSnapshotVersion(raw.version));
        }
        Ok(Self {
            version: raw.version,
            state: raw.state,
            latest_now: raw.latest_now,
        })
    }
}

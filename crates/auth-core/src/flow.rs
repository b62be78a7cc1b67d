//! The account-connection flow: the state and the handlers that [`RULES`](crate::RULES)
//! runs, behind one door, [`Flow::handle`].

use std::borrow::Cow;
use std::time::Duration;

use crate::account::{AccountId, Credentials};
use crate::checkpoint::{Solution, SolutionKind};
use crate::config::Config;
use crate::error::{
    ApiError, Detection, Error, IntentDestroyed, IntentExpired, MalformedAnswer, Problem, UsageError,
};
use crate::idempotency::IdempotencyKey;
use crate::input::{Command, Input};
use crate::intent::Intent;
use crate::output::{Event, Output, Retry};
use crate::request::{Auth, Body, Method, Request, RequestKind};
use crate::retry::RetryCause;
use crate::rules::{self, Outcome, Phase};
use crate::secret::{ProxyPassword, SecretString};
use crate::time::UnixMillis;
use crate::wire::{self, Reply};

/// A handler of [`RULES`](crate::RULES): one input in one phase.
pub(crate) type Handler = fn(&mut Flow, UnixMillis, Input) -> Output;

/// Where the intent's life is, whatever request is out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Stage {
    #[default]
    Idle,
    Pending(Intent),
    Connected {
        account_id: AccountId,
        reconnected: bool,
    },
    Expired(IntentExpired),
    /// Boxed, as `Refused`'s cause: large, rare and terminal.
    Destroyed(Box<IntentDestroyed>),
    Refused {
        account_id: Option<AccountId>,
        cause: Box<ApiError>,
    },
}

impl Stage {
    pub(crate) fn phase(&self) -> Phase {
        match self {
            Self::Idle => Phase::Idle,
            Self::Pending(_) => Phase::AwaitingCheckpoint,
            Self::Connected { .. } => Phase::Connected,
            Self::Expired(_) => Phase::Expired,
            Self::Destroyed(_) => Phase::Destroyed,
            Self::Refused { .. } => Phase::Refused,
        }
    }
}

/// A logical request, with everything needed to build it again for a retry (its secret
/// included, in memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outgoing {
    Connect {
        credentials: Credentials,
        reconnect: Option<AccountId>,
    },
    Solve(Solution),
    Resend,
    AccountStatus(AccountId),
}

impl Outgoing {
    fn kind(&self) -> RequestKind {
        match self {
            Self::Connect { reconnect: None, .. } => RequestKind::Connect,
            Self::Connect {
                reconnect: Some(_), ..
            } => RequestKind::Reconnect,
            Self::Solve(_) => RequestKind::Solve,
            Self::Resend => RequestKind::Resend,
            Self::AccountStatus(_) => RequestKind::AccountStatus,
        }
    }

    fn solution_kind(&self) -> Option<SolutionKind> {
        match self {
            Self::Solve(solution) => Some(solution.kind()),
            _ => None,
        }
    }
}

/// The request out: sent and waiting for its answer, or waiting for its retry.
#[derive(Debug)]
struct Exchange {
    request: Outgoing,
    key: IdempotencyKey,
    /// The key the command came with, when `key` is a lost request's it sends again: if the
    /// server answers 409 (that key went with another request), the request goes again
    /// under this one.
    fresh_key: Option<IdempotencyKey>,
    first_sent_at: UnixMillis,
    attempt: u32,
    /// `Some(T)`: the last attempt failed and the next is sent at `T`.
    retry_at: Option<UnixMillis>,
}

/// A request that may or may not have reached the server: its answer was lost (no answer
/// after the retries, abandoned, or saved while out). The same call again sends it again with
/// its key. No secret of it is kept: it is the same in this process and in one that resumed
/// it from a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsettled {
    pub(crate) kind: RequestKind,
    pub(crate) solution: Option<SolutionKind>,
    pub(crate) reconnect: Option<AccountId>,
    pub(crate) key: IdempotencyKey,
    pub(crate) first_sent_at: UnixMillis,
}

impl Unsettled {
    /// Whether `request` is the same call (the same kind of solution, the same account) as
    /// this one: it then goes with this one's key. The caller may give another secret (a
    /// corrected code): a server that acted on the first answers 409, and the request goes
    /// again under its own key (see `NotDone::Rekey`); one that did not acts on it.
    fn is_retried_by(&self, request: &Outgoing) -> bool {
        let reconnect = match request {
            Outgoing::Connect { reconnect, .. } => reconnect.as_ref(),
            _ => None,
        };
        self.kind == request.kind()
            && self.solution == request.solution_kind()
            && self.reconnect.as_ref() == reconnect
    }
}

/// A request whose answer may have been lost, as [`Flow::unsettled`] shows it: sending the
/// same command again sends it again with its key, so a server that acted on it answers
/// what it answered then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnsettledRequest<'a> {
    /// Which call it was.
    pub kind: RequestKind,
    /// The kind of solution, for a solve.
    pub solution: Option<SolutionKind>,
    /// The account of a reconnect.
    pub reconnect: Option<&'a AccountId>,
    /// Its idempotency key.
    pub key: IdempotencyKey,
    /// When it was first sent.
    pub first_sent_at: UnixMillis,
}

/// The sans-IO state machine of one account connection, behind one door.
///
/// Every input, with the time, goes in through [`Flow::handle`]: a [`Command`] with the
/// idempotency key of its request, the [`Answer`](crate::Answer) to the request sent, a
/// transport failure, the driver abandoning the request out, or a tick. One [`Output`]
/// comes out: a request to send, a retry to wait for, an event, an error, or "nothing to
/// do until T". It reads no clock, does no IO, starts no thread and draws no random number.
/// At most one request is out at a time. What each phase accepts, and where each input may
/// take it, is the data of [`RULES`](crate::RULES).
///
/// ```
/// use auth_core::{Answer, Command, Config, Credentials, Event, Flow, IdempotencyKey, Input, Output, Solution, UnixMillis};
///
/// let mut flow = Flow::new(Config::new("my-api-key"));
/// let t0 = UnixMillis::from_millis(1_700_000_000_000);
/// let key = |n| IdempotencyKey::from_random_bytes([n; 16]); // your driver's randomness
///
/// // Connect: the machine builds the request, we send it however we like.
/// let connect = Command::Connect(Credentials::messenger("bob", "pw-b"));
/// let Output::Send(request) = flow.handle(t0, Input::command(connect, key(1))) else { unreachable!() };
/// assert_eq!(request.path, "/accounts");
/// let answer = Answer::new(202, r#"{"object":"Checkpoint","account_id":"acc-1","checkpoint":{"type":"2FA"}}"#);
/// let Output::Event(Event::Checkpoint(intent)) = flow.handle(UnixMillis::from_millis(1_700_000_000_300), Input::Answer(answer)) else {
///     unreachable!()
/// };
/// // The five minutes count from when the connect request was sent.
/// assert_eq!(intent.deadline, UnixMillis::from_millis(1_700_000_300_000));
///
/// // Solve the checkpoint with the code the user typed.
/// let t1 = UnixMillis::from_millis(1_700_000_030_000);
/// let Output::Send(request) = flow.handle(t1, Input::command(Command::Solve(Solution::code("123456")), key(2))) else {
///     unreachable!()
/// };
/// assert_eq!(request.path, "/accounts/checkpoint");
/// let answer = Answer::new(201, r#"{"object":"AccountCreated","account_id":"acc-1"}"#);
/// let Output::Event(event) = flow.handle(t1, Input::Answer(answer)) else { unreachable!() };
/// assert_eq!(event, Event::Connected { account_id: "acc-1".into(), after_deadline: false });
/// assert!(flow.is_connected());
/// ```
#[derive(Debug)]
pub struct Flow {
    config: Config,
    stage: Stage,
    exchange: Option<Exchange>,
    unsettled: Option<Unsettled>,
    /// The latest `now` seen: a clock that goes backwards never gives an intent more time.
    latest_now: UnixMillis,
    /// The secrets of the requests already done, to scrub from later answers. Never saved.
    earlier: Earlier,
}

/// The secrets of the requests already done: a server may echo the password of the connect
/// in the answer to a later solve. Moved out of the requests, never copied; wiped on drop.
#[derive(Debug, Default)]
struct Earlier {
    password: Option<SecretString>,
    proxy_password: Option<SecretString>,
    code: Option<SecretString>,
}

impl Flow {
    /// A new machine, idle.
    pub fn new(config: Config) -> Self {
        Self::from_parts(config, Stage::Idle, None, UnixMillis::EPOCH)
    }

    pub(crate) fn from_parts(
        config: Config,
        stage: Stage,
        unsettled: Option<Unsettled>,
        latest_now: UnixMillis,
    ) -> Self {
        Self {
            config,
            stage,
            exchange: None,
            unsettled,
            latest_now,
            earlier: Earlier::default(),
        }
    }

    /// The one door in: feeds one input at `now`, and returns the one thing to do next.
    ///
    /// The phase and the input are looked up in [`RULES`](crate::RULES); without a row the
    /// input is a misuse ([`Error::Usage`]): nothing is sent and nothing changes.
    pub fn handle(&mut self, now: UnixMillis, input: Input) -> Output {
        let now = self.observe(now);
        let phase = self.phase();
        let kind = input.kind();
        let Some(rule) = rules::rule_for(phase, kind) else {
            return Output::Error(rules::misuse(phase, kind).into());
        };
        let output = (rule.run)(self, now, input);
        debug_assert!(
            rule.to.contains(&self.phase()),
            "{phase:?} --{kind:?}--> {:?} is not in the rules table",
            self.phase()
        );
        output
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the machine is.
    pub fn phase(&self) -> Phase {
        match &self.exchange {
            Some(exchange) => match exchange.request.kind() {
                RequestKind::Connect | RequestKind::Reconnect => Phase::Connecting,
                RequestKind::Solve => Phase::Solving,
                RequestKind::Resend => Phase::Resending,
                RequestKind::AccountStatus => Phase::CheckingStatus,
            },
            None => self.stage.phase(),
        }
    }

    /// The live intent: pending, or with a request out.
    pub fn intent(&self) -> Option<&Intent> {
        match &self.stage {
            Stage::Pending(intent) => Some(intent),
            _ => None,
        }
    }

    /// Whether an intent is waiting for a solve or a resend.
    pub fn is_pending(&self) -> bool {
        self.phase() == Phase::AwaitingCheckpoint
    }

    /// Whether the account is connected (or reconnected).
    pub fn is_connected(&self) -> bool {
        matches!(self.stage, Stage::Connected { .. })
    }

    /// The connected account, once connected.
    pub fn connected_account(&self) -> Option<&AccountId> {
        match &self.stage {
            Stage::Connected { account_id, .. } => Some(account_id),
            _ => None,
        }
    }

    /// How the intent expired, once it has.
    pub fn expired(&self) -> Option<&IntentExpired> {
        match &self.stage {
            Stage::Expired(expired) => Some(expired),
            _ => None,
        }
    }

    /// How the intent was destroyed, once it has been.
    pub fn destroyed(&self) -> Option<&IntentDestroyed> {
        match &self.stage {
            Stage::Destroyed(destroyed) => Some(destroyed),
            _ => None,
        }
    }

    /// The answer by which the provider refused the account, once it has.
    pub fn refused(&self) -> Option<&ApiError> {
        match &self.stage {
            Stage::Refused { cause, .. } => Some(cause),
            _ => None,
        }
    }

    /// The error a flow that has ended (expired, destroyed, refused) gives to any solve or
    /// resend: the one that ended it.
    pub fn ended_error(&self) -> Option<Error> {
        match &self.stage {
            Stage::Expired(expired) => Some(expired.clone().into()),
            Stage::Destroyed(destroyed) => Some(Error::IntentDestroyed(destroyed.clone())),
            Stage::Refused { cause, .. } => Some(Error::Api(cause.clone())),
            _ => None,
        }
    }

    /// `text` from the answer to the request out, as a `tracing` event may show it: bounded,
    /// and without any secret the flow holds (the API key, the request's, the earlier ones').
    #[cfg(feature = "tracing")]
    pub(crate) fn scrubbed(&self, text: &str) -> String {
        let request = self.exchange.as_ref().map(|exchange| &exchange.request);
        let secrets = secrets_of(&self.config, request, &self.earlier);
        wire::excerpt(text.as_bytes(), secrets.as_slice())
    }

    /// The request whose answer may have been lost, if any: see [`UnsettledRequest`].
    pub fn unsettled(&self) -> Option<UnsettledRequest<'_>> {
        self.unsettled.as_ref().map(|u| UnsettledRequest {
            kind: u.kind,
            solution: u.solution,
            reconnect: u.reconnect.as_ref(),
            key: u.key,
            first_sent_at: u.first_sent_at,
        })
    }

    /// When the driver should feed [`Input::Tick`]: the time of a retry, or the live
    /// intent's deadline.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        match &self.exchange {
            Some(Exchange {
                retry_at: Some(at), ..
            }) => Some(*at),
            _ => self.intent().map(|intent| intent.deadline),
        }
    }

    /// The latest time the machine was given: it never counts time from an earlier one.
    pub fn latest_now(&self) -> UnixMillis {
        self.latest_now
    }

    /// The live intent's time left at `now` (as the machine sees time: never more than at
    /// the latest `now` it was given).
    pub fn remaining(&self, now: UnixMillis) -> Option<Duration> {
        let now = now.max(self.latest_now);
        self.intent().map(|intent| intent.remaining(now))
    }

    /// Whether the API key is a sandbox key (`pp_test_…`): nothing real is connected.
    pub fn is_sandbox(&self) -> bool {
        self.config.is_sandbox()
    }

    /// The state as data to save, without any secret: see [`Snapshot`](crate::Snapshot).
    /// A request out is saved as unsettled: resumed, the same command sends it again with its
    /// key (give its secret again), or [`Input::Abandoned`] forgets it.
    pub fn snapshot(&self) -> crate::Snapshot {
        let unsettled = self
            .exchange
            .as_ref()
            .and_then(unsettle)
            .or_else(|| self.unsettled.clone());
        crate::snapshot::Snapshot::new(self.stage.clone(), unsettled, self.latest_now)
    }

    fn observe(&mut self, now: UnixMillis) -> UnixMillis {
        self.latest_now = self.latest_now.max(now);
        self.latest_now
    }

    // The handlers of the rules table. Each is called only for the phases and inputs of
    // its rows, so a shape it does not expect is a misuse, never a panic.

    pub(crate) fn on_connect(&mut self, now: UnixMillis, input: Input) -> Output {
        let (credentials, reconnect, key) = match input {
            Input::Command {
                command: Command::Connect(credentials),
                key,
            } => (credentials, None, key),
            Input::Command {
                command:
                    Command::Reconnect {
                        account_id,
                        credentials,
                    },
                key,
            } => (credentials, Some(account_id), key),
            other => return self.misused(other),
        };
        if let Some(problem) = reconnect.as_ref().and_then(AccountId::path_problem) {
            return Output::Error(UsageError::Invalid(problem).into());
        }
        if credentials.username().is_empty() {
            return Output::Error(UsageError::Empty("username").into());
        }
        if credentials.password().is_empty() {
            return Output::Error(UsageError::Empty("password").into());
        }
        if let Err(problem) = credentials.options().check() {
            return Output::Error(UsageError::Invalid(problem).into());
        }
        // Connecting starts over: a pending intent is abandoned.
        self.stage = Stage::Idle;
        self.start(
            Outgoing::Connect {
                credentials,
                reconnect,
            },
            key,
            now,
        )
    }

    pub(crate) fn on_solve(&mut self, now: UnixMillis, input: Input) -> Output {
        let Input::Command {
            command: Command::Solve(solution),
            key,
        } = input
        else {
            return self.misused(input);
        };
        if let Some(expired) = self.expire_if_due(now) {
            return Output::Error(expired.into());
        }
        if solution.wire_code().is_empty() {
            return Output::Error(UsageError::Empty("code").into());
        }
        self.start(Outgoing::Solve(solution), key, now)
    }

    pub(crate) fn on_resend(&mut self, now: UnixMillis, input: Input) -> Output {
        let Input::Command {
            command: Command::Resend,
            key,
        } = input
        else {
            return self.misused(input);
        };
        if let Some(expired) = self.expire_if_due(now) {
            return Output::Error(expired.into());
        }
        if self
            .intent()
            .is_some_and(|intent| !intent.provider.supports_resend())
        {
            return Output::Error(
                UsageError::Unsupported("the provider's checkpoints cannot be sent again (resend takes LINKEDIN, INSTAGRAM or MESSENGER)")
                    .into(),
            );
        }
        self.start(Outgoing::Resend, key, now)
    }

    pub(crate) fn on_account_status(&mut self, now: UnixMillis, input: Input) -> Output {
        let Input::Command {
            command: Command::AccountStatus(account_id),
            key,
        } = input
        else {
            return self.misused(input);
        };
        if let Some(problem) = account_id.path_problem() {
            return Output::Error(UsageError::Invalid(problem).into());
        }
        // A GET is idempotent by itself: it carries no key, and never settles a lost POST.
        self.exchange = Some(Exchange {
            request: Outgoing::AccountStatus(account_id),
            key,
            fresh_key: None,
            first_sent_at: now,
            attempt: 0,
            retry_at: None,
        });
        self.send(now)
    }

    pub(crate) fn on_answer(&mut self, now: UnixMillis, input: Input) -> Output {
        let Input::Answer(answer) = input else {
            return self.misused(input);
        };
        let Some(exchange) = self.take_sent() else {
            return Output::Error(UsageError::NoRequestInFlight.into());
        };
        match self.read_answer(&exchange, &answer, now) {
            Ok(output) => {
                self.remember(exchange);
                output
            }
            Err(NotDone::Retry(cause, error)) => self.retry_or_give_up(exchange, cause, error, now),
            Err(NotDone::Rekey(fresh)) => {
                // The lost request's key went with another request (another code given
                // after a resume): this one was not acted on. Nothing is sent at or after
                // the deadline: the intent expires there, the lost request unanswered.
                if self.intent().is_some_and(|intent| intent.is_expired_at(now)) {
                    return self.expire_instead_of_sending(exchange, now);
                }
                // Before it, the request goes under its own key.
                self.exchange = Some(Exchange {
                    key: fresh,
                    fresh_key: None,
                    first_sent_at: now,
                    attempt: 0,
                    retry_at: None,
                    ..exchange
                });
                self.send(now)
            }
        }
    }

    /// What the answer to the request out means, applied to the flow.
    fn read_answer(
        &mut self,
        exchange: &Exchange,
        answer: &crate::Answer,
        now: UnixMillis,
    ) -> Result<Output, NotDone> {
        let secrets = secrets_of(&self.config, Some(&exchange.request), &self.earlier);
        let reply = match wire::read_answer(answer, secrets.as_slice(), now) {
            Ok(reply) => reply,
            Err(malformed) => return Ok(self.malformed(exchange, malformed)),
        };
        let outcome = rules::classify(exchange.request.kind(), answer.status, reply.word());
        Ok(match (outcome, reply) {
            (
                Outcome::Connected | Outcome::Reconnected,
                Reply::AccountCreated(account_id) | Reply::AccountReconnected(account_id),
            ) => self.connected(exchange, account_id, outcome == Outcome::Reconnected, now),
            (
                Outcome::Checkpoint,
                Reply::Checkpoint {
                    account_id,
                    checkpoint,
                },
            ) => {
                let intent = match (&exchange.request, &self.stage) {
                    (
                        Outgoing::Connect {
                            credentials,
                            reconnect,
                        },
                        _,
                    ) => Intent {
                        account_id,
                        provider: credentials.provider(),
                        checkpoint,
                        started_at: exchange.first_sent_at,
                        deadline: exchange.first_sent_at.saturating_add(self.config.intent_ttl()),
                        failed_attempts: 0,
                        checkpoints_solved: 0,
                        reconnect: reconnect.is_some(),
                    },
                    (request, Stage::Pending(before)) => {
                        let solved = matches!(
                            request.solution_kind(),
                            Some(SolutionKind::Code | SolutionKind::InAppValidation)
                        );
                        Intent {
                            account_id,
                            checkpoint,
                            failed_attempts: 0,
                            checkpoints_solved: before.checkpoints_solved.saturating_add(u32::from(solved)),
                            ..before.clone()
                        }
                    }
                    _ => {
                        let malformed = unexpected(answer, "a Checkpoint", secrets.as_slice());
                        return Ok(self.malformed(exchange, malformed));
                    }
                };
                self.unsettled = None;
                // A checkpoint whose deadline has passed can never be solved: nothing more
                // may be sent for it.
                if intent.is_expired_at(now) {
                    let expired = intent.expired(Detection::Deadline);
                    self.stage = Stage::Expired(expired.clone());
                    return Ok(Output::Error(expired.into()));
                }
                self.stage = Stage::Pending(intent.clone());
                Output::Event(Event::Checkpoint(intent))
            }
            (Outcome::Resent | Outcome::ResendRefused, _) => {
                self.unsettled = None;
                match self.intent() {
                    Some(intent) if outcome == Outcome::Resent => {
                        Output::Event(Event::CheckpointResent(intent.clone()))
                    }
                    Some(intent) => Output::Event(Event::ResendRefused(intent.clone())),
                    None => Output::Error(UsageError::NoPendingIntent.into()),
                }
            }
            (Outcome::AccountStatus, Reply::Account(account)) => {
                Output::Event(Event::AccountStatus(*account))
            }
            (Outcome::Expired, Reply::Error(mut cause)) => {
                cause.problem = Problem::IntentEnded;
                self.unsettled = None;
                match self.intent() {
                    Some(intent) => {
                        let expired = intent.expired(Detection::Server);
                        self.stage = Stage::Expired(expired.clone());
                        Output::Error(expired.into())
                    }
                    None => Output::Error(cause.into()),
                }
            }
            (Outcome::Destroyed, Reply::Error(mut cause)) => {
                cause.problem = Problem::IntentEnded;
                self.unsettled = None;
                match self.intent() {
                    Some(intent) => {
                        let destroyed = IntentDestroyed {
                            account_id: intent.account_id.clone(),
                            cause: *cause,
                        };
                        self.stage = Stage::Destroyed(Box::new(destroyed.clone()));
                        Output::Error(destroyed.into())
                    }
                    None => Output::Error(cause.into()),
                }
            }
            (Outcome::Refused, Reply::Error(mut cause)) => {
                cause.problem = Problem::AccountRefused;
                self.settle(exchange);
                if exchange.request.kind() != RequestKind::AccountStatus {
                    self.stage = Stage::Refused {
                        account_id: self.intent().map(|intent| intent.account_id.clone()),
                        cause: cause.clone(),
                    };
                }
                Output::Error(cause.into())
            }
            (Outcome::Failed(problem), Reply::Error(mut cause)) => {
                cause.problem = problem;
                if let (Problem::IdempotencyConflict, Some(fresh)) = (problem, exchange.fresh_key) {
                    return Err(NotDone::Rekey(fresh));
                }
                if matches!(problem, Problem::RateLimited | Problem::ServerFailure) {
                    let retry = RetryCause::Status {
                        status: cause.status,
                        retry_after: cause.retry_after,
                    };
                    return Err(NotDone::Retry(retry, Error::from(cause)));
                }
                if let (Problem::WrongCode, Stage::Pending(intent)) = (problem, &mut self.stage) {
                    intent.failed_attempts = intent.failed_attempts.saturating_add(1);
                }
                // The server refused the request without acting on it.
                self.settle(exchange);
                Output::Error(cause.into())
            }
            (_, reply) => {
                let object = match reply {
                    Reply::AccountCreated(_) => "AccountCreated",
                    Reply::AccountReconnected(_) => "AccountReconnected",
                    Reply::Checkpoint { .. } => "a Checkpoint",
                    Reply::CheckpointResend { .. } => "CheckpointResend",
                    Reply::Account(_) => "an Account",
                    Reply::Error(_) => "an error",
                };
                let malformed = unexpected(answer, object, secrets.as_slice());
                self.malformed(exchange, malformed)
            }
        })
    }

    pub(crate) fn on_failed(&mut self, now: UnixMillis, input: Input) -> Output {
        let Input::Failed(failure) = input else {
            return self.misused(input);
        };
        let Some(exchange) = self.take_sent() else {
            return Output::Error(UsageError::NoRequestInFlight.into());
        };
        let cause = RetryCause::NoAnswer(failure.kind());
        self.retry_or_give_up(exchange, cause, Error::Transport(failure), now)
    }

    pub(crate) fn on_abandoned(&mut self, _now: UnixMillis, _input: Input) -> Output {
        match self.exchange.take() {
            Some(exchange) => {
                self.unsettled = unsettle(&exchange).or(self.unsettled.take());
                self.remember(exchange);
            }
            None => self.unsettled = None,
        }
        Output::Wait(self.next_deadline())
    }

    pub(crate) fn on_tick(&mut self, now: UnixMillis, _input: Input) -> Output {
        match &self.exchange {
            Some(Exchange {
                retry_at: Some(at), ..
            }) => {
                if now < *at {
                    return Output::Wait(Some(*at));
                }
                // Nothing is sent at or after the deadline.
                if self.intent().is_some_and(|intent| intent.is_expired_at(now))
                    && let Some(exchange) = self.exchange.take()
                {
                    return self.expire_instead_of_sending(exchange, now);
                }
                self.send(now)
            }
            // A request is out: its answer (or its failure) comes next.
            Some(_) => Output::Wait(None),
            None => match self.expire_if_due(now) {
                Some(expired) => Output::Error(expired.into()),
                None => Output::Wait(self.next_deadline()),
            },
        }
    }

    pub(crate) fn on_ended(&mut self, _now: UnixMillis, input: Input) -> Output {
        match self.ended_error() {
            Some(error) => Output::Error(error),
            None => self.misused(input),
        }
    }

    /// A misuse by an input that reached a handler it does not belong to.
    fn misused(&self, input: Input) -> Output {
        Output::Error(rules::misuse(self.phase(), input.kind()).into())
    }

    /// Expires the pending intent if `now` is at or after its deadline, nothing sent; says
    /// how. A request whose answer was lost makes it [`Detection::Unanswered`].
    fn expire_if_due(&mut self, now: UnixMillis) -> Option<IntentExpired> {
        let intent = self.intent().filter(|intent| intent.is_expired_at(now))?;
        let detected_by = if self.unsettled.is_some() {
            Detection::Unanswered
        } else {
            Detection::Deadline
        };
        let expired = intent.expired(detected_by);
        self.stage = Stage::Expired(expired.clone());
        self.exchange = None;
        self.unsettled = None;
        Some(expired)
    }

    /// Nothing is sent at or after the deadline: `exchange`, not sent again, is kept as
    /// unsettled (the server may have acted on it), and the intent expires.
    fn expire_instead_of_sending(&mut self, exchange: Exchange, now: UnixMillis) -> Output {
        self.unsettled = unsettle(&exchange);
        self.remember(exchange);
        let expired = self.expire_if_due(now);
        expired.map_or(Output::Wait(None), |expired| Output::Error(expired.into()))
    }

    /// Starts a logical request: with the key of the lost one it sends again, else `key`.
    /// A 409 to the lost one's key is answered under `key`, unless `key` is that same key: a
    /// caller that gives it chooses its keys itself, and gets the 409.
    fn start(&mut self, request: Outgoing, key: IdempotencyKey, now: UnixMillis) -> Output {
        let (key, fresh_key, first_sent_at) = match self.unsettled.take() {
            Some(lost) if lost.is_retried_by(&request) => {
                (lost.key, (key != lost.key).then_some(key), lost.first_sent_at)
            }
            _ => (key, None, now),
        };
        self.exchange = Some(Exchange {
            request,
            key,
            fresh_key,
            first_sent_at,
            attempt: 0,
            retry_at: None,
        });
        self.send(now)
    }

    /// Sends the next attempt of the request out.
    fn send(&mut self, now: UnixMillis) -> Output {
        let config = &self.config;
        let intent = match &self.stage {
            Stage::Pending(intent) => Some(intent),
            _ => None,
        };
        let Some(exchange) = self.exchange.as_mut() else {
            return Output::Error(UsageError::NoRequestInFlight.into());
        };
        exchange.attempt = exchange.attempt.saturating_add(1);
        exchange.retry_at = None;
        let remaining = intent.map_or(config.request_timeout(), |intent| intent.remaining(now));
        let ordinary = config.request_timeout().min(remaining);
        let (path, body, timeout) = match &exchange.request {
            Outgoing::Connect {
                credentials,
                reconnect,
            } => (
                reconnect.as_ref().map_or(Cow::Borrowed("/accounts"), |id| {
                    Cow::Owned(wire::account_path(id))
                }),
                wire::connect_body(credentials),
                config.request_timeout(),
            ),
            Outgoing::Solve(solution) => {
                let Some(intent) = intent else {
                    return Output::Error(UsageError::NoPendingIntent.into());
                };
                // The server answers an in-app validation only once the user approved: the
                // request may take the intent's whole remaining time, and no more.
                let timeout = match solution.kind() {
                    SolutionKind::InAppValidation => remaining,
                    _ => ordinary,
                };
                (
                    Cow::Borrowed("/accounts/checkpoint"),
                    wire::solve_body(intent.provider, &intent.account_id, solution.wire_code()),
                    timeout,
                )
            }
            Outgoing::Resend => {
                let Some(intent) = intent else {
                    return Output::Error(UsageError::NoPendingIntent.into());
                };
                (
                    Cow::Borrowed("/accounts/checkpoint/resend"),
                    wire::resend_body(intent.provider, &intent.account_id),
                    ordinary,
                )
            }
            Outgoing::AccountStatus(account_id) => (
                Cow::Owned(wire::account_path(account_id)),
                Body::default(),
                config.request_timeout(),
            ),
        };
        let (name, value) = config.auth_header();
        let post = !matches!(exchange.request, Outgoing::AccountStatus(_));
        Output::Send(Request {
            kind: exchange.request.kind(),
            method: if post { Method::Post } else { Method::Get },
            path,
            body,
            timeout,
            idempotency_key: post.then_some(exchange.key),
            attempt: exchange.attempt,
            auth: Auth { name, value },
        })
    }

    /// Keeps the secrets of a request that is done, to scrub them from later answers.
    fn remember(&mut self, exchange: Exchange) {
        match exchange.request {
            Outgoing::Connect { credentials, .. } => {
                let (password, proxy_password) = credentials.into_secrets();
                self.earlier.password = Some(password);
                self.earlier.proxy_password = proxy_password;
            }
            Outgoing::Solve(solution) => {
                if let Some(code) = solution.into_secret() {
                    self.earlier.code = Some(code);
                }
            }
            Outgoing::Resend | Outgoing::AccountStatus(_) => {}
        }
    }

    /// The request out was answered: a request whose answer was lost before is settled too
    /// (an account's status settles nothing).
    fn settle(&mut self, exchange: &Exchange) {
        if exchange.request.kind() != RequestKind::AccountStatus {
            self.unsettled = None;
        }
    }

    /// The request out, if it was sent and waits for its answer (not for its retry).
    fn take_sent(&mut self) -> Option<Exchange> {
        match &self.exchange {
            Some(exchange) if exchange.retry_at.is_none() => self.exchange.take(),
            _ => None,
        }
    }

    /// After an attempt that failed with `cause`: schedules the next one if the policy says
    /// so, before the deadline; else gives up, keeping the request as unsettled (the server
    /// may have acted on it), and returns `error`.
    fn retry_or_give_up(
        &mut self,
        mut exchange: Exchange,
        cause: RetryCause,
        error: Error,
        now: UnixMillis,
    ) -> Output {
        let deadline = match (&exchange.request, self.intent()) {
            (Outgoing::Solve(_) | Outgoing::Resend, Some(intent)) => intent.deadline,
            _ => exchange.first_sent_at.saturating_add(self.config.intent_ttl()),
        };
        if let Some(at) =
            self.config
                .retry_policy()
                .next_attempt(cause, exchange.attempt, now, deadline, &exchange.key)
        {
            exchange.retry_at = Some(at);
            let attempt = exchange.attempt.saturating_add(1);
            self.exchange = Some(exchange);
            return Output::Retry(Retry {
                at,
                attempt,
                cause: error,
            });
        }
        self.unsettled = unsettle(&exchange).or(self.unsettled.take());
        self.remember(exchange);
        match self.expire_if_due(now) {
            Some(expired) => Output::Error(expired.into()),
            None => Output::Error(error),
        }
    }

    /// A success that connected the account: the server's word, whenever it came.
    fn connected(
        &mut self,
        exchange: &Exchange,
        account_id: AccountId,
        reconnected: bool,
        now: UnixMillis,
    ) -> Output {
        let (reconnected, after_deadline) = match (&exchange.request, self.intent()) {
            (Outgoing::Solve(_), Some(intent)) => {
                (reconnected || intent.reconnect, intent.is_expired_at(now))
            }
            _ => (reconnected, false),
        };
        self.stage = Stage::Connected {
            account_id: account_id.clone(),
            reconnected,
        };
        self.unsettled = None;
        Output::Event(if reconnected {
            Event::Reconnected {
                account_id,
                after_deadline,
            }
        } else {
            Event::Connected {
                account_id,
                after_deadline,
            }
        })
    }

    /// An answer outside the contract: the flow stays where it was (a connect goes back to
    /// idle); the request is kept as unsettled, since the server answered something.
    fn malformed(&mut self, exchange: &Exchange, malformed: MalformedAnswer) -> Output {
        self.unsettled = unsettle(exchange).or(self.unsettled.take());
        Output::Error(malformed.into())
    }
}

/// Why an answer does not end its exchange: a retry to decide, or a resend under another key.
enum NotDone {
    /// A retry of the request to decide.
    Retry(RetryCause, Error),
    /// A 409 to a lost request's key reused: send the request again under the command's key.
    Rekey(IdempotencyKey),
}

/// The request out as a request whose answer may be lost (`None` for a GET, which needs no
/// settling).
fn unsettle(exchange: &Exchange) -> Option<Unsettled> {
    let reconnect = match &exchange.request {
        Outgoing::AccountStatus(_) => return None,
        Outgoing::Connect { reconnect, .. } => reconnect.clone(),
        _ => None,
    };
    Some(Unsettled {
        kind: exchange.request.kind(),
        solution: exchange.request.solution_kind(),
        reconnect,
        key: exchange.key,
        first_sent_at: exchange.first_sent_at,
    })
}

/// The secrets to redact from what the server sends back: the API key, the password, the
/// proxy's password or the code of the request answered, and those of the requests before it.
struct Secrets<'a>([&'a str; 6]);

impl<'a> Secrets<'a> {
    fn as_slice(&self) -> &[&'a str] {
        &self.0
    }
}

fn secrets_of<'a>(config: &'a Config, request: Option<&'a Outgoing>, earlier: &'a Earlier) -> Secrets<'a> {
    // An empty entry stands for "no secret": scrubbing skips it.
    let (first, second) = match request {
        Some(Outgoing::Connect { credentials, .. }) => (
            credentials.password().expose_secret(),
            credentials
                .options()
                .proxy
                .as_ref()
                .and_then(|proxy| proxy.password.as_ref())
                .map_or("", ProxyPassword::expose_secret),
        ),
        Some(Outgoing::Solve(solution)) => (solution.secret().unwrap_or(""), ""),
        Some(Outgoing::Resend | Outgoing::AccountStatus(_)) | None => ("", ""),
    };
    let known = |secret: &'a Option<SecretString>| secret.as_ref().map_or("", SecretString::expose);
    Secrets([
        config.api_key().expose_secret(),
        first,
        second,
        known(&earlier.password),
        known(&earlier.proxy_password),
        known(&earlier.code),
    ])
}

/// A success object of the contract that does not answer the request that was sent.
fn unexpected(answer: &crate::Answer, object: &str, secrets: &[&str]) -> MalformedAnswer {
    MalformedAnswer {
        status: answer.status,
        reason: format!("{object} does not answer the request that was sent"),
        excerpt: wire::excerpt(&answer.body, secrets),
    }
}

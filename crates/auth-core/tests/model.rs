//! The machine against a reference model of the contract, with proptest-state-machine,
//! driven through the one door (`Flow::handle`) by the one input type.
//!
//! Random sequences of commands (each with a fresh idempotency key), server answers (by
//! their meaning in the contract, in both error envelopes), transport failures, abandoned
//! requests, ticks, save-and-resume, and clock moves biased around the deadline (forwards and
//! backwards). After every step:
//!
//! - the machine's phase, deadline, and the key of the request it sends are the model's;
//! - every move between two phases is allowed by the rules table (`auth_core::RULES`);
//! - terminal phases absorb everything but a new connect or a status check;
//! - nothing is sent at or after the deadline, and no request outlives it;
//! - a success answer always connects (the server's word over the local clock);
//! - every POST carries an idempotency key; a retry (after a failure, or the same command
//!   after a lost answer) carries the same key and the same body;
//! - a flow resumed from its serialized snapshot behaves exactly like the original;
//! - the snapshot never holds the password, a code or the API key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::time::Duration;

use auth_core::{
    AccountId, Answer, Command, Config, Credentials, Flow, Input, Method, Output, Phase, RULES, Request,
    RetryCause, RetryPolicy, Snapshot, Solution, TransportError, TransportErrorKind, UnixMillis, rule_for,
};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use support::{API_KEY, PASSWORD, at, key};

const TTL: u64 = 10_000;
const REQUEST_TIMEOUT: u64 = 3_000;
const START: u64 = 1_700_000_000_000;
const CODE: &str = "code-778899";

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(100), Duration::from_millis(400))
        .with_max_retry_after(Duration::from_secs(2))
}

fn config() -> Config {
    Config::new(API_KEY)
        .with_intent_ttl(Duration::from_millis(TTL))
        .with_request_timeout(Duration::from_millis(REQUEST_TIMEOUT))
        .with_retry_policy(policy())
}

/// A server answer, by its meaning in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Created,
    Reconnected,
    Checkpoint,
    Resent,
    ResendRefused,
    Account,
    WrongCode,
    InvalidCredentials,
    ExpiredKey,
    Restricted,
    Timeout408,
    Gone400,
    Validation400,
    Conflict409,
    RateLimited429,
    IntentError500,
    Unavailable503,
    Garbage200,
    Redirect302,
}

impl Reply {
    const ALL: [Self; 19] = [
        Self::Created,
        Self::Reconnected,
        Self::Checkpoint,
        Self::Resent,
        Self::ResendRefused,
        Self::Account,
        Self::WrongCode,
        Self::InvalidCredentials,
        Self::ExpiredKey,
        Self::Restricted,
        Self::Timeout408,
        Self::Gone400,
        Self::Validation400,
        Self::Conflict409,
        Self::RateLimited429,
        Self::IntentError500,
        Self::Unavailable503,
        Self::Garbage200,
        Self::Redirect302,
    ];

    fn answer(self) -> Answer {
        use support::*;
        match self {
            Self::Created => created("acc-1"),
            Self::Reconnected => reconnected(200, "acc-1"),
            Self::Checkpoint => checkpoint("acc-1", r#"{"type":"OTP"}"#),
            Self::Resent => resent(true),
            Self::ResendRefused => resent(false),
            Self::Account => account("OK"),
            Self::WrongCode => error(401, "errors/invalid_checkpoint_solution"),
            Self::InvalidCredentials => error(401, "errors/invalid_credentials"),
            Self::ExpiredKey => quickstart_error(401, "expired_credentials"),
            Self::Restricted => error(403, "errors/account_restricted"),
            Self::Timeout408 => bare(408),
            Self::Gone400 => error(400, "errors/intent_gone"),
            Self::Validation400 => quickstart_error(400, "invalid_parameters"),
            Self::Conflict409 => error(409, "errors/idempotency_conflict"),
            Self::RateLimited429 => error(429, "errors/too_many_requests").with_header("Retry-After", "1"),
            Self::IntentError500 => error(500, "errors/authentication_intent_error"),
            Self::Unavailable503 => Answer::new(503, "<html>unavailable</html>"),
            Self::Garbage200 => Answer::new(200, "not json"),
            Self::Redirect302 => bare(302),
        }
    }
}

/// The calls of the contract, as the model sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Connect,
    Reconnect,
    Solve(SolveWith),
    Resend,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SolveWith {
    Code,
    InApp,
    AnotherWay,
}

impl Call {
    fn command(self) -> Command {
        let credentials = || Credentials::messenger("bob", PASSWORD);
        match self {
            Self::Connect => Command::Connect(credentials()),
            Self::Reconnect => Command::Reconnect {
                account_id: AccountId::new("acc-1"),
                credentials: credentials(),
            },
            Self::Solve(SolveWith::Code) => Command::Solve(Solution::code(CODE)),
            Self::Solve(SolveWith::InApp) => Command::Solve(Solution::InAppValidation),
            Self::Solve(SolveWith::AnotherWay) => Command::Solve(Solution::TryAnotherWay),
            Self::Resend => Command::Resend,
            Self::Status => Command::AccountStatus(AccountId::new("acc-1")),
        }
    }

    fn on_intent(self) -> bool {
        matches!(self, Self::Solve(_) | Self::Resend)
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// The wall clock moves by this many milliseconds (negative: backwards).
    Shift(i64),
    Command(Call),
    Answer(Reply),
    Fails(TransportErrorKind),
    Abandon,
    Tick,
    SaveAndResume,
}

/// Where the intent's life is, in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Idle,
    Pending { deadline: u64 },
    Connected,
    Expired,
    Destroyed,
    Refused,
}

/// The request out, in the model.
#[derive(Debug, Clone, Copy)]
struct Out {
    call: Call,
    key: u8,
    /// The command's own key, when `key` is a lost request's sent again.
    fresh: Option<u8>,
    first_sent: u64,
    attempt: u32,
    retry_at: Option<u64>,
}

/// A request whose answer may have been lost.
#[derive(Debug, Clone, Copy)]
struct Lost {
    call: Call,
    key: u8,
    first_sent: u64,
}

/// The reference model: the contract's rules, restated as simply as possible.
#[derive(Debug, Clone)]
struct Model {
    /// What the wall clock reads now (it may go backwards).
    clock: u64,
    /// The latest time the machine was given.
    latest: u64,
    stage: Stage,
    out: Option<Out>,
    lost: Option<Lost>,
    /// The key the next command is given.
    next_key: u8,
}

impl Model {
    fn observe(&mut self) -> u64 {
        self.latest = self.latest.max(self.clock);
        self.latest
    }

    fn phase(&self) -> Phase {
        match (self.out, self.stage) {
            (Some(out), _) => match out.call {
                Call::Connect | Call::Reconnect => Phase::Connecting,
                Call::Solve(_) => Phase::Solving,
                Call::Resend => Phase::Resending,
                Call::Status => Phase::CheckingStatus,
            },
            (None, Stage::Idle) => Phase::Idle,
            (None, Stage::Pending { .. }) => Phase::AwaitingCheckpoint,
            (None, Stage::Connected) => Phase::Connected,
            (None, Stage::Expired) => Phase::Expired,
            (None, Stage::Destroyed) => Phase::Destroyed,
            (None, Stage::Refused) => Phase::Refused,
        }
    }

    fn deadline(&self) -> Option<u64> {
        match self.stage {
            Stage::Pending { deadline } => Some(deadline),
            _ => None,
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        self.out.and_then(|out| out.retry_at).or(self.deadline())
    }

    /// Expires a pending intent whose deadline has come; nothing is sent.
    fn expire_if_due(&mut self, now: u64) -> bool {
        if self.deadline().is_some_and(|deadline| now >= deadline) {
            self.stage = Stage::Expired;
            self.out = None;
            self.lost = None;
            true
        } else {
            false
        }
    }

    /// Starts a request: with the key of a lost one it sends again, else a fresh key.
    fn start(&mut self, call: Call, now: u64) {
        let fresh = self.next_key;
        self.next_key = self.next_key.wrapping_add(1);
        let (key, reused, first_sent) = match self.lost.take() {
            Some(lost) if lost.call == call && call != Call::Status => {
                (lost.key, Some(fresh), lost.first_sent)
            }
            other => {
                // A status check never settles a lost POST.
                if call == Call::Status {
                    self.lost = other;
                }
                (fresh, None, now)
            }
        };
        self.out = Some(Out {
            call,
            key,
            fresh: reused,
            first_sent,
            attempt: 1,
            retry_at: None,
        });
    }

    /// The request out ends without an answer to rely on: it is kept as lost (a GET never is).
    fn lose(&mut self, out: Out) {
        if out.call != Call::Status {
            self.lost = Some(Lost {
                call: out.call,
                key: out.key,
                first_sent: out.first_sent,
            });
        }
    }

    /// After a failed attempt: a retry before the deadline, or give up.
    fn retry_or_give_up(&mut self, mut out: Out, cause: RetryCause, now: u64) {
        let deadline = match (out.call.on_intent(), self.deadline()) {
            (true, Some(deadline)) => deadline,
            _ => out.first_sent + TTL,
        };
        if let Some(at) = policy().next_attempt(cause, out.attempt, at(now), at(deadline), &key(out.key)) {
            out.retry_at = Some(at.as_millis());
            self.out = Some(out);
        } else {
            self.lose(out);
            self.expire_if_due(now);
        }
    }

    fn answer(&mut self, out: Out, reply: Reply, now: u64) {
        use Call as C;
        use Reply as R;
        let on_intent = out.call.on_intent();
        if out.call == C::Status {
            // A status check changes nothing but its own retries.
            match reply {
                R::RateLimited429 => self.retry_or_give_up(
                    out,
                    RetryCause::Status {
                        status: 429,
                        retry_after: Some(Duration::from_secs(1)),
                    },
                    now,
                ),
                R::IntentError500 | R::Unavailable503 => {
                    let status = if reply == R::Unavailable503 { 503 } else { 500 };
                    self.retry_or_give_up(
                        out,
                        RetryCause::Status {
                            status,
                            retry_after: None,
                        },
                        now,
                    );
                }
                _ => {}
            }
            return;
        }
        match (out.call, reply) {
            (C::Connect | C::Solve(_), R::Created) | (C::Reconnect | C::Solve(_), R::Reconnected) => {
                self.stage = Stage::Connected;
                self.lost = None;
            }
            (C::Reconnect, R::Created) => {
                self.stage = Stage::Connected;
                self.lost = None;
            }
            (C::Connect | C::Reconnect | C::Solve(_) | C::Resend, R::Checkpoint) => {
                let deadline = self
                    .deadline()
                    .filter(|_| on_intent)
                    .unwrap_or(out.first_sent + TTL);
                self.lost = None;
                self.stage = if now >= deadline {
                    Stage::Expired
                } else {
                    Stage::Pending { deadline }
                };
            }
            (C::Resend, R::Resent | R::ResendRefused) => self.lost = None,
            (_, R::Restricted) => {
                self.lost = None;
                self.stage = Stage::Refused;
            }
            (_, R::Timeout408) if on_intent => {
                self.lost = None;
                self.stage = Stage::Expired;
            }
            (_, R::Gone400 | R::IntentError500) if on_intent => {
                self.lost = None;
                self.stage = Stage::Destroyed;
            }
            // A 409 to a lost request's key: the request goes again under its own key.
            (_, R::Conflict409) if out.fresh.is_some() => {
                self.out = Some(Out {
                    key: out.fresh.unwrap_or(out.key),
                    fresh: None,
                    first_sent: now,
                    attempt: 1,
                    retry_at: None,
                    ..out
                });
            }
            (_, R::RateLimited429) => self.retry_or_give_up(
                out,
                RetryCause::Status {
                    status: 429,
                    retry_after: Some(Duration::from_secs(1)),
                },
                now,
            ),
            (_, R::IntentError500 | R::Unavailable503) => {
                let status = if reply == R::Unavailable503 { 503 } else { 500 };
                self.retry_or_give_up(
                    out,
                    RetryCause::Status {
                        status,
                        retry_after: None,
                    },
                    now,
                );
            }
            // Errors the server refused the request with, without acting: the flow stays.
            (_, R::WrongCode | R::InvalidCredentials | R::ExpiredKey | R::Timeout408 | R::Gone400)
            | (_, R::Validation400 | R::Conflict409) => self.lost = None,
            // Anything else is an answer outside the contract: the flow stays, the request is
            // kept as lost (the server answered something).
            _ => self.lose(out),
        }
    }
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            clock: START,
            latest: 0,
            stage: Stage::Idle,
            out: None,
            lost: None,
            next_key: 1,
        })
        .boxed()
    }

    fn transitions(model: &Model) -> BoxedStrategy<Step> {
        // Time moves in small and large steps, and lands on, just before and just after the
        // deadline (of the intent, or of the connect out) and a retry's time.
        let target = model
            .next_deadline()
            .or(model.out.map(|out| out.first_sent + TTL))
            .unwrap_or(model.clock + TTL);
        let to_target = i64::try_from(target).unwrap() - i64::try_from(model.clock).unwrap();
        let time = prop_oneof![
            (0i64..2_000).prop_map(Step::Shift),
            (0i64..3 * TTL as i64).prop_map(Step::Shift),
            (-1i64..=1).prop_map(move |d| Step::Shift(to_target + d)),
            (-(TTL as i64)..0).prop_map(Step::Shift),
        ];
        let call = prop_oneof![
            3 => Just(Call::Connect),
            1 => Just(Call::Reconnect),
            4 => Just(Call::Solve(SolveWith::Code)),
            1 => Just(Call::Solve(SolveWith::InApp)),
            1 => Just(Call::Solve(SolveWith::AnotherWay)),
            2 => Just(Call::Resend),
            1 => Just(Call::Status),
        ];
        let failure = prop_oneof![
            3 => Just(TransportErrorKind::Io),
            1 => Just(TransportErrorKind::Timeout),
            1 => Just(TransportErrorKind::Tls),
        ];
        // Weights lean towards what moves the flow on from where it is; everything stays possible.
        let (act, answer) = if model.out.is_some() { (1, 8) } else { (8, 1) };
        let tick = if model.out.is_some_and(|out| out.retry_at.is_some()) {
            6
        } else {
            1
        };
        // A snapshot is taken between requests: one taken with a request out resumes it as
        // lost, which `a_snapshot_with_a_request_out_resumes_as_lost` checks on its own.
        let save = if model.out.is_none() { 1 } else { 0 };
        prop_oneof![
            3 => time,
            act => call.prop_map(Step::Command),
            answer => prop::sample::select(Reply::ALL.to_vec()).prop_map(Step::Answer),
            2 => failure.prop_map(Step::Fails),
            1 => Just(Step::Abandon),
            tick => Just(Step::Tick),
            save => Just(Step::SaveAndResume),
        ]
        .boxed()
    }

    fn preconditions(model: &Model, step: &Step) -> bool {
        !matches!(step, Step::SaveAndResume) || model.out.is_none()
    }

    fn apply(mut model: Model, step: &Step) -> Model {
        match *step {
            Step::Shift(delta) => model.clock = model.clock.saturating_add_signed(delta),
            Step::SaveAndResume => {}
            Step::Command(call) => {
                let now = model.observe();
                if model.out.is_none() {
                    match (call, model.stage) {
                        (Call::Connect | Call::Reconnect, _) => {
                            model.stage = Stage::Idle;
                            model.start(call, now);
                        }
                        (Call::Solve(_) | Call::Resend, Stage::Pending { .. }) => {
                            // At or after the deadline nothing is sent: the intent expires.
                            let expired = model.expire_if_due(now);
                            if !expired {
                                model.start(call, now);
                            }
                        }
                        (Call::Status, stage) if !matches!(stage, Stage::Pending { .. }) => {
                            model.start(call, now)
                        }
                        _ => {}
                    }
                }
            }
            Step::Answer(reply) => {
                let now = model.observe();
                if let Some(out) = model.out.filter(|out| out.retry_at.is_none()) {
                    model.out = None;
                    model.answer(out, reply, now);
                }
            }
            Step::Fails(kind) => {
                let now = model.observe();
                if let Some(out) = model.out.filter(|out| out.retry_at.is_none()) {
                    model.out = None;
                    model.retry_or_give_up(out, RetryCause::NoAnswer(kind), now);
                }
            }
            Step::Abandon => {
                model.observe();
                match model.out.take() {
                    Some(out) => model.lose(out),
                    None => model.lost = None,
                }
            }
            Step::Tick => {
                let now = model.observe();
                match model.out {
                    Some(out) if out.retry_at.is_some_and(|t| now >= t) => {
                        if model.deadline().is_some_and(|deadline| now >= deadline) {
                            model.out = None;
                            model.lose(out);
                            model.expire_if_due(now);
                        } else {
                            model.out = Some(Out {
                                attempt: out.attempt + 1,
                                retry_at: None,
                                ..out
                            });
                        }
                    }
                    Some(_) => {}
                    None => {
                        model.expire_if_due(now);
                    }
                }
            }
        }
        model
    }
}

/// The machine, and twins resumed from its serialized snapshots along the way: every
/// input goes to all of them, and they must all answer alike.
struct Machines {
    flows: Vec<Flow>,
    /// The body of the last request sent, to compare with its retries.
    last_body: Option<Vec<u8>>,
}

/// What an output was, as text to compare between twins.
fn describe(output: &Output) -> String {
    match output {
        Output::Send(request) => format!(
            "send {} {} {} {:?} {:?} #{}",
            request.method,
            request.path,
            String::from_utf8_lossy(request.body.as_bytes()),
            request.timeout,
            request.idempotency_key,
            request.attempt
        ),
        Output::Retry(retry) => format!("retry at {:?} #{} after {}", retry.at, retry.attempt, retry.cause),
        Output::Wait(until) => format!("wait {until:?}"),
        Output::Event(event) => format!("event {event:?}"),
        Output::Error(error) => format!("error {error}"),
    }
}

fn input(step: &Step, model_key: u8) -> Option<Input> {
    Some(match step {
        Step::Command(call) => Input::command(call.command(), key(model_key)),
        Step::Answer(reply) => Input::Answer(reply.answer()),
        Step::Fails(kind) => Input::Failed(TransportError::new(*kind, "generated failure")),
        Step::Abandon => Input::Abandoned,
        Step::Tick => Input::Tick,
        Step::Shift(_) | Step::SaveAndResume => return None,
    })
}

impl StateMachineTest for Machines {
    type SystemUnderTest = Self;
    type Reference = Reference;

    fn init_test(_: &Model) -> Self {
        Self {
            flows: vec![Flow::new(config())],
            last_body: None,
        }
    }

    fn apply(mut machines: Self, model: &Model, step: Step) -> Self {
        let before = machines.flows[0].phase();
        let now = at(model.clock);
        let seen = at(model.latest);

        if let Step::SaveAndResume = step {
            let saved = serde_json::to_string(&machines.flows[0].snapshot()).unwrap();
            for secret in [API_KEY, PASSWORD, CODE] {
                assert!(!saved.contains(secret), "{secret} saved in {saved}");
            }
            let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
            assert_eq!(snapshot, machines.flows[0].snapshot(), "the snapshot round-trips");
            machines.flows.push(Flow::resume(config(), snapshot));
            return machines;
        }
        // The key the model gave this command (it counted it when the command was applied).
        let given_key = model.next_key.wrapping_sub(1);
        let Some(first_input) = input(&step, given_key) else {
            return machines;
        };
        let outputs: Vec<Output> = machines
            .flows
            .iter_mut()
            .map(|flow| flow.handle(now, first_input.clone()))
            .collect();
        let descriptions: Vec<String> = outputs.iter().map(describe).collect();
        assert!(
            descriptions.iter().all(|d| d == &descriptions[0]),
            "a resumed twin diverged on {step:?}: {descriptions:#?}"
        );
        let snapshots: Vec<Snapshot> = machines.flows.iter().map(Flow::snapshot).collect();
        assert!(
            snapshots.windows(2).all(|w| w[0] == w[1]),
            "twins hold different states"
        );

        let after = machines.flows[0].phase();
        let rule = rule_for(before, first_input.kind());
        match &rule {
            Some(rule) => assert!(
                rule.to.contains(&after),
                "{before:?} -> {after:?} on {step:?} is not in the rules table"
            ),
            None => assert_eq!(after, before, "a misuse changed the phase"),
        }
        if before.is_terminal()
            && !matches!(
                step,
                Step::Command(Call::Connect | Call::Reconnect | Call::Status)
            )
        {
            assert_eq!(after, before, "{before:?} absorbs {step:?}");
        }
        // A success answer to the request sent always connects, whenever it comes.
        let misuse = matches!(outputs[0], Output::Error(auth_core::Error::Usage(_)));
        if let (Step::Answer(Reply::Created), Phase::Connecting | Phase::Solving, false) =
            (&step, before, misuse)
        {
            assert_eq!(after, Phase::Connected, "a 201 AccountCreated did not connect");
        }
        if let Output::Send(request) = &outputs[0] {
            check_request(request, model, seen, &mut machines.last_body);
        }
        machines
    }

    fn check_invariants(machines: &Self, model: &Model) {
        let flow = &machines.flows[0];
        assert_eq!(flow.phase(), model.phase());
        assert_eq!(
            flow.next_deadline(),
            model.next_deadline().map(UnixMillis::from_millis)
        );
        if let Some(intent) = flow.intent() {
            assert_eq!(
                intent.deadline,
                intent.started_at.saturating_add(Duration::from_millis(TTL))
            );
        }
        assert_eq!(
            flow.unsettled().map(|u| u.key),
            model.lost.map(|lost| key(lost.key))
        );
        if let Some(account) = flow.connected_account() {
            assert_eq!(account.as_str(), "acc-1");
        }
    }
}

/// A request sent: the model's key (the same on every attempt), the same body as the attempt
/// before, and nothing at or after the deadline.
fn check_request(request: &Request, model: &Model, seen: UnixMillis, last_body: &mut Option<Vec<u8>>) {
    let out = model.out.expect("the model sends too");
    match request.method {
        Method::Post => assert_eq!(
            request.idempotency_key,
            Some(key(out.key)),
            "the key of {:?}",
            out.call
        ),
        Method::Get => assert_eq!(request.idempotency_key, None),
        _ => panic!("an unknown method"),
    }
    assert_eq!(request.attempt, out.attempt);
    if out.attempt > 1 {
        assert_eq!(
            last_body.as_deref(),
            Some(request.body.as_bytes()),
            "a retry sends the same body"
        );
    }
    *last_body = Some(request.body.as_bytes().to_vec());
    if let (true, Some(deadline)) = (out.call.on_intent(), model.deadline()) {
        let deadline = at(deadline);
        assert!(
            seen < deadline,
            "a request emitted at {seen:?}, deadline {deadline:?}"
        );
        let remaining = deadline.saturating_duration_since(seen);
        assert!(request.timeout <= remaining, "a request outlives the intent");
        if out.call == Call::Solve(SolveWith::InApp) {
            assert_eq!(request.timeout, remaining, "in-app may take all the time left");
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn the_machine_follows_the_model(sequential 1..80 => Machines);
}

#[test]
fn every_move_the_rules_allow_is_made_by_some_input() {
    // The model test checks that every move is allowed by the table; this checks the table
    // allows no move the machine cannot make: a search over a small alphabet of inputs (every
    // call, every reply, failures, abandonment, ticks, and jumps of the clock) from a new flow
    // reaches every (phase, input, phase) of the table.
    use std::collections::{HashSet, VecDeque};

    #[derive(Clone, Copy, Debug)]
    enum Move {
        Call(Call),
        /// A command the machine refuses before sending anything.
        Bad(u8),
        ConnectTwitter,
        Reply(Reply),
        Fail(TransportErrorKind),
        Abandon,
        Tick,
        ToNextDeadline,
        Later,
        AnIntentLater,
    }
    let mut alphabet: Vec<Move> = [
        Call::Connect,
        Call::Reconnect,
        Call::Solve(SolveWith::Code),
        Call::Solve(SolveWith::InApp),
        Call::Resend,
        Call::Status,
    ]
    .into_iter()
    .map(Move::Call)
    .collect();
    alphabet.extend(Reply::ALL.map(Move::Reply));
    alphabet.extend([TransportErrorKind::Io, TransportErrorKind::Tls].map(Move::Fail));
    alphabet.extend([
        Move::Abandon,
        Move::Tick,
        Move::ToNextDeadline,
        Move::Later,
        Move::AnIntentLater,
        Move::ConnectTwitter,
    ]);
    alphabet.extend((0..4).map(Move::Bad));

    /// Replays a path of moves on a new flow: the flow, its clock, the next key; and the
    /// (phase, input, phase) each move made.
    fn replay(path: &[Move], made: &mut HashSet<(Phase, auth_core::InputKind, Phase)>) -> (Flow, u64) {
        let mut flow = Flow::new(config());
        let mut clock = START;
        for (n, step) in path.iter().enumerate() {
            let input = match *step {
                Move::Call(call) => Input::command(call.command(), key(u8::try_from(n).unwrap_or(0))),
                Move::ConnectTwitter => Input::command(
                    Command::Connect(Credentials::new(auth_core::Provider::Twitter, "bob", PASSWORD)),
                    key(u8::try_from(n).unwrap_or(0)),
                ),
                Move::Bad(which) => {
                    let command = match which {
                        0 => Command::Connect(Credentials::messenger("", PASSWORD)),
                        1 => Command::Reconnect {
                            account_id: "..".into(),
                            credentials: Credentials::messenger("bob", PASSWORD),
                        },
                        2 => Command::Solve(Solution::code("")),
                        _ => Command::AccountStatus("..".into()),
                    };
                    Input::command(command, key(0))
                }
                Move::Reply(reply) => Input::Answer(reply.answer()),
                Move::Fail(kind) => Input::Failed(TransportError::new(kind, "search")),
                Move::Abandon => Input::Abandoned,
                Move::Tick => Input::Tick,
                Move::ToNextDeadline => {
                    clock = flow.next_deadline().map_or(clock, UnixMillis::as_millis);
                    Input::Tick
                }
                Move::Later => {
                    clock += 1_000;
                    continue;
                }
                Move::AnIntentLater => {
                    clock += TTL;
                    continue;
                }
            };
            let before = flow.phase();
            let kind = input.kind();
            let _ = flow.handle(at(clock), input);
            made.insert((before, kind, flow.phase()));
        }
        (flow, clock)
    }

    let mut made: HashSet<(Phase, auth_core::InputKind, Phase)> = HashSet::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<Vec<Move>> = VecDeque::from([Vec::new()]);
    while let Some(path) = queue.pop_front() {
        if path.len() == 6 {
            continue;
        }
        for step in &alphabet {
            let mut longer = path.clone();
            longer.push(*step);
            let (flow, clock) = replay(&longer, &mut made);
            if seen.insert(format!("{flow:?} {clock}")) {
                queue.push_back(longer);
            }
        }
    }
    for rule in RULES {
        for to in rule.to {
            assert!(
                made.contains(&(rule.phase, rule.input, *to)),
                "no input makes {:?} --{:?}--> {to:?}",
                rule.phase,
                rule.input
            );
        }
    }
}

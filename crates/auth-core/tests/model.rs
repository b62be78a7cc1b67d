//! The machine against a reference model of the contract, with proptest-state-machine.
//!
//! Random sequences of user commands, server answers (every answer of the contract and
//! some outside it), transport failures, timeouts, save-and-resume, and clock shifts biased
//! around the intent's deadline (forwards and backwards). After every step:
//!
//! - the machine's phase and deadline are the model's;
//! - every move between two phases is one of [`TRANSITIONS`];
//! - terminal phases absorb everything but a new connect;
//! - Connected is only reached through a success answered before the deadline;
//! - no solve or resend request is emitted at or after the deadline, and none may outlive it;
//! - a flow resumed from its serialized snapshot behaves exactly like the original;
//! - the snapshot never holds the password, a code or the API key.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::time::Duration;

use auth_core::{
    AccountId, Answer, Command, Config, Credentials, Error, Event, Flow, Phase, Request, Snapshot, Solution,
    TRANSITIONS, TransportError, TransportErrorKind, UnixMillis,
};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use support::{API_KEY, PASSWORD, at};

const TTL: u64 = 10_000;
const REQUEST_TIMEOUT: u64 = 3_000;
const START: u64 = 1_700_000_000_000;
const CODE: &str = "code-778899";

fn config() -> Config {
    Config::new(API_KEY)
        .with_intent_ttl(Duration::from_millis(TTL))
        .with_request_timeout(Duration::from_millis(REQUEST_TIMEOUT))
}

/// A server answer, by its meaning in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Created,
    Reconnected,
    Checkpoint,
    Resent,
    WrongCode,
    InvalidCredentials,
    MissingCredentials,
    Timeout408,
    Gone400,
    BadParameters400,
    IntentError500,
    Unavailable503,
    Garbage200,
    Redirect302,
}

impl Reply {
    fn answer(self) -> Answer {
        use support::*;
        match self {
            Self::Created => created("acc-1"),
            Self::Reconnected => reconnected(200, "acc-1"),
            Self::Checkpoint => checkpoint("acc-1", r#"{"type":"OTP"}"#),
            Self::Resent => resent(),
            Self::WrongCode => error(401, "errors/invalid_checkpoint_solution"),
            Self::InvalidCredentials => error(401, "errors/invalid_credentials"),
            Self::MissingCredentials => error(401, "errors/missing_credentials"),
            Self::Timeout408 => bare(408),
            Self::Gone400 => error(400, "errors/intent_gone"),
            Self::BadParameters400 => error(400, "errors/invalid_parameters"),
            Self::IntentError500 => error(500, "errors/authentication_intent_error"),
            Self::Unavailable503 => Answer::new(503, "<html>unavailable</html>"),
            Self::Garbage200 => Answer::new(200, "not json"),
            Self::Redirect302 => bare(302),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SolveWith {
    Code,
    InApp,
    AnotherWay,
}

#[derive(Debug, Clone)]
enum Step {
    /// The wall clock moves by this many milliseconds (negative: backwards).
    Shift(i64),
    Connect,
    Reconnect,
    Solve(SolveWith),
    Resend,
    Answer(Reply),
    TransportFails,
    Timeout,
    SaveAndResume,
}

impl Step {
    fn is_connect(&self) -> bool {
        matches!(self, Self::Connect | Self::Reconnect)
    }
}

/// The reference model: the contract's rules, restated as simply as possible.
#[derive(Debug, Clone)]
struct Model {
    /// What the wall clock reads now (it may go backwards).
    clock: u64,
    /// The latest time the machine was given.
    latest: u64,
    phase: Phase,
    sent_at: u64,
    deadline: Option<u64>,
}

impl Model {
    fn observe(&mut self) -> u64 {
        self.latest = self.latest.max(self.clock);
        self.latest
    }

    fn expired(&mut self) {
        self.phase = Phase::Expired;
        self.deadline = None;
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
            phase: Phase::Idle,
            sent_at: 0,
            deadline: None,
        })
        .boxed()
    }

    fn transitions(model: &Model) -> BoxedStrategy<Step> {
        // Time moves in small and large steps, and lands on, just before and just after
        // the deadline (of the intent, or of the connect in flight).
        let deadline = model.deadline.unwrap_or(model.sent_at.saturating_add(TTL));
        let to_deadline = i64::try_from(deadline).unwrap() - i64::try_from(model.clock).unwrap();
        let time = prop_oneof![
            (0i64..2_000).prop_map(Step::Shift),
            (0i64..3 * TTL as i64).prop_map(Step::Shift),
            (-1i64..=1).prop_map(move |d| Step::Shift(to_deadline + d)),
            (-(TTL as i64)..0).prop_map(Step::Shift),
        ];
        let reply = prop_oneof![
            Just(Reply::Created),
            Just(Reply::Reconnected),
            Just(Reply::Checkpoint),
            Just(Reply::Resent),
            Just(Reply::WrongCode),
            Just(Reply::InvalidCredentials),
            Just(Reply::MissingCredentials),
            Just(Reply::Timeout408),
            Just(Reply::Gone400),
            Just(Reply::BadParameters400),
            Just(Reply::IntentError500),
            Just(Reply::Unavailable503),
            Just(Reply::Garbage200),
            Just(Reply::Redirect302),
        ];
        let solve = prop_oneof![
            Just(SolveWith::Code),
            Just(SolveWith::InApp),
            Just(SolveWith::AnotherWay)
        ];
        // Weights lean towards what moves the flow on from where it is; everything stays possible.
        let (connect, answer, act) = match model.phase {
            Phase::Idle | Phase::Connected | Phase::Expired | Phase::Destroyed => (6, 1, 1),
            Phase::Connecting | Phase::Solving | Phase::Resending => (1, 8, 1),
            _ => (1, 1, 8),
        };
        prop_oneof![
            3 => time,
            connect => prop_oneof![Just(Step::Connect), Just(Step::Reconnect)],
            answer => reply.prop_map(Step::Answer),
            act => prop_oneof![solve.prop_map(Step::Solve), Just(Step::Resend)],
            1 => Just(Step::TransportFails),
            1 => Just(Step::Timeout),
            1 => Just(Step::SaveAndResume),
        ]
        .boxed()
    }

    fn apply(mut model: Model, step: &Step) -> Model {
        match step {
            Step::Shift(delta) => model.clock = model.clock.saturating_add_signed(*delta),
            Step::SaveAndResume => {}
            Step::Connect | Step::Reconnect => {
                let now = model.observe();
                if !model.phase.is_in_flight() {
                    model.phase = Phase::Connecting;
                    model.sent_at = now;
                    model.deadline = None;
                }
            }
            Step::Solve(_) | Step::Resend => {
                let now = model.observe();
                if model.phase == Phase::AwaitingCheckpoint {
                    if model.deadline.is_some_and(|d| now >= d) {
                        model.expired();
                    } else if matches!(step, Step::Resend) {
                        model.phase = Phase::Resending;
                    } else {
                        model.phase = Phase::Solving;
                    }
                }
            }
            Step::Answer(reply) => {
                let now = model.observe();
                match model.phase {
                    Phase::Connecting => match reply {
                        Reply::Created | Reply::Reconnected => model.phase = Phase::Connected,
                        Reply::Checkpoint if now >= model.sent_at + TTL => model.expired(),
                        Reply::Checkpoint => {
                            model.phase = Phase::AwaitingCheckpoint;
                            model.deadline = Some(model.sent_at + TTL);
                        }
                        _ => model.phase = Phase::Idle,
                    },
                    Phase::Solving | Phase::Resending if model.deadline.is_some_and(|d| now >= d) => {
                        model.expired();
                    }
                    Phase::Solving | Phase::Resending => {
                        let solving = model.phase == Phase::Solving;
                        match reply {
                            Reply::Created | Reply::Reconnected if solving => {
                                model.phase = Phase::Connected;
                                model.deadline = None;
                            }
                            Reply::Timeout408 => model.expired(),
                            Reply::Gone400 | Reply::IntentError500 => {
                                model.phase = Phase::Destroyed;
                                model.deadline = None;
                            }
                            _ => model.phase = Phase::AwaitingCheckpoint,
                        }
                    }
                    _ => {}
                }
            }
            Step::TransportFails => {
                let now = model.observe();
                match model.phase {
                    Phase::Connecting => model.phase = Phase::Idle,
                    Phase::Solving | Phase::Resending if model.deadline.is_some_and(|d| now >= d) => {
                        model.expired();
                    }
                    Phase::Solving | Phase::Resending => model.phase = Phase::AwaitingCheckpoint,
                    _ => {}
                }
            }
            Step::Timeout => {
                let now = model.observe();
                if model.phase.has_intent() && model.deadline.is_some_and(|d| now >= d) {
                    model.expired();
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
}

/// What an input gave back, as text to compare between twins.
fn outcome<T: std::fmt::Debug>(result: &Result<T, Error>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(error) => format!("err {error}"),
    }
}

fn describe(request: &Request) -> String {
    format!(
        "{} {} {} {:?}",
        request.method,
        request.path,
        String::from_utf8_lossy(request.body.as_bytes()),
        request.timeout
    )
}

fn command(step: &Step) -> Option<Command> {
    let credentials = || Credentials::messenger("bob", PASSWORD);
    Some(match step {
        Step::Connect => Command::Connect(credentials()),
        Step::Reconnect => Command::Reconnect {
            account_id: AccountId::new("acc-1"),
            credentials: credentials(),
        },
        Step::Solve(SolveWith::Code) => Command::Solve(Solution::code(CODE)),
        Step::Solve(SolveWith::InApp) => Command::Solve(Solution::InAppValidation),
        Step::Solve(SolveWith::AnotherWay) => Command::Solve(Solution::TryAnotherWay),
        Step::Resend => Command::Resend,
        _ => return None,
    })
}

impl StateMachineTest for Machines {
    type SystemUnderTest = Self;
    type Reference = Reference;

    fn init_test(_: &Model) -> Self {
        Self {
            flows: vec![Flow::new(config())],
        }
    }

    fn apply(mut machines: Self, model: &Model, step: Step) -> Self {
        let before = machines.flows[0].phase();
        let deadline_before = machines.flows[0].next_deadline();
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

        let outcomes: Vec<String> = machines
            .flows
            .iter_mut()
            .filter_map(|flow| {
                let result = if let Some(command) = command(&step) {
                    let result = flow.begin(now, command);
                    if let (Ok(request), Step::Solve(_) | Step::Resend) = (&result, &step) {
                        // No request at or after the deadline, and none outlives it.
                        let deadline = deadline_before.unwrap();
                        assert!(
                            seen < deadline,
                            "a request emitted at {seen:?}, deadline {deadline:?}"
                        );
                        let remaining = deadline.saturating_duration_since(seen);
                        assert!(request.timeout <= remaining);
                        if let Step::Solve(SolveWith::InApp) = step {
                            assert_eq!(request.timeout, remaining, "in-app may take all the time left");
                        }
                    }
                    outcome(&result.map(|request| describe(&request)))
                } else {
                    match &step {
                        Step::Answer(reply) => outcome(&flow.handle_answer(now, &reply.answer())),
                        Step::TransportFails => {
                            let error = TransportError::new(TransportErrorKind::Io, "connection reset");
                            format!("err {}", flow.handle_transport_error(now, error))
                        }
                        Step::Timeout => format!("{:?}", flow.handle_timeout(now)),
                        Step::Shift(_) => return None,
                        _ => unreachable!("commands are handled above"),
                    }
                };
                Some(result)
            })
            .collect();
        if let Some(first) = outcomes.first() {
            assert!(
                outcomes.iter().all(|o| o == first),
                "a resumed twin diverged: {outcomes:#?}"
            );
        }
        let snapshots: Vec<Snapshot> = machines.flows.iter().map(Flow::snapshot).collect();
        assert!(
            snapshots.windows(2).all(|w| w[0] == w[1]),
            "twins hold different states"
        );

        let after = machines.flows[0].phase();
        if before != after {
            assert!(
                TRANSITIONS.iter().any(|t| t.from == before && t.to == after),
                "{before:?} -> {after:?} on {step:?} is not in TRANSITIONS"
            );
        }
        if before.is_terminal() && !step.is_connect() {
            assert_eq!(after, before, "{before:?} absorbs {step:?}");
        }
        if after == Phase::Connected && before.has_intent() {
            assert!(seen < deadline_before.unwrap(), "connected after the deadline");
        }
        machines
    }

    fn check_invariants(machines: &Self, model: &Model) {
        let flow = &machines.flows[0];
        assert_eq!(flow.phase(), model.phase);
        assert_eq!(flow.next_deadline(), model.deadline.map(UnixMillis::from_millis));
        if let Some(intent) = flow.intent() {
            assert_eq!(
                intent.deadline,
                intent.started_at.saturating_add(Duration::from_millis(TTL))
            );
        }
        if let Some(event) = flow.connected_account() {
            assert_eq!(event.as_str(), "acc-1");
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn the_machine_follows_the_model(sequential 1..80 => Machines);
}

#[test]
fn every_transition_of_the_table_is_reachable_by_the_model() {
    // The model test checks that every move is in the table; this checks the table holds
    // no move the machine cannot make, by walking one scenario per row.
    use support::*;
    let mut seen = std::collections::HashSet::new();
    let mut record = |flow: &Flow, before: Phase| {
        if flow.phase() != before {
            seen.insert((before, flow.phase()));
        }
    };
    let scenarios: Vec<Vec<Step>> = vec![
        vec![Step::Connect, Step::Answer(Reply::Created), Step::Connect],
        vec![Step::Connect, Step::Answer(Reply::Checkpoint), Step::Connect],
        vec![
            Step::Connect,
            Step::Shift(TTL as i64),
            Step::Answer(Reply::Checkpoint),
            Step::Connect,
        ],
        vec![Step::Connect, Step::Answer(Reply::InvalidCredentials)],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Solve(SolveWith::Code),
            Step::Answer(Reply::Created),
        ],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Solve(SolveWith::Code),
            Step::Answer(Reply::WrongCode),
        ],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Solve(SolveWith::Code),
            Step::Answer(Reply::Timeout408),
        ],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Solve(SolveWith::Code),
            Step::Answer(Reply::Gone400),
            Step::Connect,
        ],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Shift(TTL as i64),
            Step::Timeout,
        ],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Resend,
            Step::Answer(Reply::Resent),
        ],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Resend,
            Step::Answer(Reply::Timeout408),
        ],
        vec![
            Step::Connect,
            Step::Answer(Reply::Checkpoint),
            Step::Resend,
            Step::Answer(Reply::IntentError500),
        ],
    ];
    for scenario in scenarios {
        let mut flow = Flow::new(config());
        let mut clock = START;
        for step in scenario {
            let before = flow.phase();
            let now = at(clock);
            match (&step, command(&step)) {
                (_, Some(command)) => drop(flow.begin(now, command)),
                (Step::Answer(reply), None) => drop(flow.handle_answer(now, &reply.answer())),
                (Step::Shift(delta), None) => clock = clock.saturating_add_signed(*delta),
                (Step::Timeout, None) => drop(flow.handle_timeout(now)),
                _ => {}
            }
            record(&flow, before);
        }
    }
    for t in TRANSITIONS {
        assert!(
            seen.contains(&(t.from, t.to)),
            "no scenario makes {:?} -> {:?}",
            t.from,
            t.to
        );
    }
    let _: Option<Event> = None;
}

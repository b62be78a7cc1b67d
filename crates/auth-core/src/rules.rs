//! Every rule of the flow, as data the code runs from: what each phase accepts and where
//! each input may take it ([`RULES`]), and what each answer means for the request it
//! answers ([`ANSWER_RULES`]).
//!
//! [`Flow::handle`](crate::Flow::handle) looks the phase and the input up in [`RULES`] and
//! runs the row's handler; a pair without a row is the caller's misuse, decided in one
//! place ([`misuse`]). An answer is classified by the first row of [`ANSWER_RULES`] that
//! matches its request, status and word (`object` or `type`). `docs/state-machine.md` and
//! `docs/contract.md` are drawn from these two tables, and tests check both drawings.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::{Problem, UsageError};
use crate::flow::{Flow, Handler};
use crate::input::InputKind;
use crate::request::RequestKind;

/// Where the machine is, without the data: what [`Flow::phase`] answers and what the
/// state diagram draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// Nothing started, or the last attempt failed: connect.
    Idle,
    /// A connect or reconnect request is out (sent, or waiting for its retry).
    Connecting,
    /// An intent is pending: solve or resend its checkpoint before the deadline.
    AwaitingCheckpoint,
    /// A solve request is out.
    Solving,
    /// A resend request is out.
    Resending,
    /// An account status request is out; the flow goes back to where it was.
    CheckingStatus,
    /// The account is connected.
    Connected,
    /// The intent ran out of time.
    Expired,
    /// The intent destroyed itself on the server.
    Destroyed,
    /// The provider refused the account (a 403: restricted, mismatch…): no code will help.
    Refused,
}

impl Phase {
    /// Every phase, in the order of the diagram.
    pub const ALL: [Self; 10] = [
        Self::Idle,
        Self::Connecting,
        Self::AwaitingCheckpoint,
        Self::Solving,
        Self::Resending,
        Self::CheckingStatus,
        Self::Connected,
        Self::Expired,
        Self::Destroyed,
        Self::Refused,
    ];

    /// Whether a request is out: the next input must be its answer, its failure, a tick for
    /// its retry, or its abandonment.
    pub fn is_in_flight(self) -> bool {
        matches!(
            self,
            Self::Connecting | Self::Solving | Self::Resending | Self::CheckingStatus
        )
    }

    /// Whether an intent is alive (pending, or with a request out).
    pub fn has_intent(self) -> bool {
        matches!(self, Self::AwaitingCheckpoint | Self::Solving | Self::Resending)
    }

    /// Whether the flow has ended: only a new connect (or a status check) leaves these phases.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Connected | Self::Expired | Self::Destroyed | Self::Refused
        )
    }

    /// The phase's name in the diagram.
    pub fn name(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Connecting => "Connecting",
            Self::AwaitingCheckpoint => "AwaitingCheckpoint",
            Self::Solving => "Solving",
            Self::Resending => "Resending",
            Self::CheckingStatus => "CheckingStatus",
            Self::Connected => "Connected",
            Self::Expired => "Expired",
            Self::Destroyed => "Destroyed",
            Self::Refused => "Refused",
        }
    }
}

/// One row of [`RULES`]: in `phase`, `input` runs its handler, which leaves the machine in
/// one of `to`.
#[derive(Clone, Copy)]
pub struct Rule {
    /// The phase the row applies in.
    pub phase: Phase,
    /// The input it accepts.
    pub input: InputKind,
    /// Every phase the input may leave the machine in (the same phase included when it can
    /// stay).
    pub to: &'static [Phase],
    /// What happens, in the contract's words.
    pub on: &'static str,
    pub(crate) run: Handler,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("phase", &self.phase)
            .field("input", &self.input)
            .field("to", &self.to)
            .field("on", &self.on)
            .finish_non_exhaustive()
    }
}

use InputKind as In;
use Phase as P;

const fn rule(phase: Phase, input: InputKind, to: &'static [Phase], on: &'static str, run: Handler) -> Rule {
    Rule {
        phase,
        input,
        to,
        on,
        run,
    }
}

/// Where a request that ends (answered, failed for good, abandoned) may leave a status check:
/// back where it was asked from.
const BACK_FROM_STATUS: &[Phase] = &[P::Idle, P::Connected, P::Expired, P::Destroyed, P::Refused];

/// Every rule of the flow: what each phase accepts, and where each input may take it.
///
/// A phase and input without a row is the caller's misuse ([`UsageError`]): nothing is sent
/// and nothing changes.
pub static RULES: &[Rule] = &RULE_ROWS;

/// The rows of [`RULES`], as a constant the lookup index is built from at compile time.
const RULE_ROWS: [Rule; 53] = [
    // Idle: nothing started, or the last attempt failed.
    rule(
        P::Idle,
        In::Connect,
        &[P::Connecting, P::Idle],
        "connect",
        Flow::on_connect,
    ),
    rule(
        P::Idle,
        In::Reconnect,
        &[P::Connecting, P::Idle],
        "reconnect",
        Flow::on_connect,
    ),
    rule(
        P::Idle,
        In::AccountStatus,
        &[P::CheckingStatus, P::Idle],
        "account status",
        Flow::on_account_status,
    ),
    rule(
        P::Idle,
        In::Abandoned,
        &[P::Idle],
        "forget a request whose answer was lost",
        Flow::on_abandoned,
    ),
    rule(P::Idle, In::Tick, &[P::Idle], "nothing to do", Flow::on_tick),
    // Connecting: a connect or reconnect is out.
    rule(
        P::Connecting,
        In::Answer,
        &[
            P::Connected,
            P::AwaitingCheckpoint,
            P::Expired,
            P::Refused,
            P::Idle,
            P::Connecting,
        ],
        "201 connected, 202 checkpoint (the intent starts; expired if it came after the deadline), 403 refused, error (retried if the policy says so)",
        Flow::on_answer,
    ),
    rule(
        P::Connecting,
        In::Failed,
        &[P::Connecting, P::Idle],
        "no answer: retried, or given up",
        Flow::on_failed,
    ),
    rule(
        P::Connecting,
        In::Abandoned,
        &[P::Idle],
        "abandoned: its key is kept for a retry",
        Flow::on_abandoned,
    ),
    rule(
        P::Connecting,
        In::Tick,
        &[P::Connecting],
        "the retry's time: sent again",
        Flow::on_tick,
    ),
    // AwaitingCheckpoint: an intent is pending.
    rule(
        P::AwaitingCheckpoint,
        In::Solve,
        &[P::Solving, P::Expired, P::AwaitingCheckpoint],
        "solve before the deadline (at or after it: expired, nothing sent)",
        Flow::on_solve,
    ),
    rule(
        P::AwaitingCheckpoint,
        In::Resend,
        &[P::Resending, P::Expired, P::AwaitingCheckpoint],
        "resend before the deadline (at or after it: expired, nothing sent)",
        Flow::on_resend,
    ),
    rule(
        P::AwaitingCheckpoint,
        In::Connect,
        &[P::Connecting, P::AwaitingCheckpoint],
        "connect (abandons the intent)",
        Flow::on_connect,
    ),
    rule(
        P::AwaitingCheckpoint,
        In::Reconnect,
        &[P::Connecting, P::AwaitingCheckpoint],
        "reconnect (abandons the intent)",
        Flow::on_connect,
    ),
    rule(
        P::AwaitingCheckpoint,
        In::Abandoned,
        &[P::AwaitingCheckpoint],
        "forget a request whose answer was lost",
        Flow::on_abandoned,
    ),
    rule(
        P::AwaitingCheckpoint,
        In::Tick,
        &[P::AwaitingCheckpoint, P::Expired],
        "deadline passed",
        Flow::on_tick,
    ),
    // Solving: a solve is out.
    rule(
        P::Solving,
        In::Answer,
        &[
            P::Connected,
            P::AwaitingCheckpoint,
            P::Expired,
            P::Destroyed,
            P::Refused,
            P::Solving,
        ],
        "201 connected (even after the deadline), 202 next checkpoint, 401 wrong code, 400 invalid, 408 expired, 400 after the end or 500 intent error destroyed, 403 refused, 429/5xx retried",
        Flow::on_answer,
    ),
    rule(
        P::Solving,
        In::Failed,
        &[P::Solving, P::AwaitingCheckpoint, P::Expired],
        "no answer: retried before the deadline, or given up",
        Flow::on_failed,
    ),
    rule(
        P::Solving,
        In::Abandoned,
        &[P::AwaitingCheckpoint],
        "abandoned: its key is kept for a retry",
        Flow::on_abandoned,
    ),
    rule(
        P::Solving,
        In::Tick,
        &[P::Solving, P::Expired],
        "the retry's time: sent again before the deadline (at or after it: expired)",
        Flow::on_tick,
    ),
    // Resending: a resend is out.
    rule(
        P::Resending,
        In::Answer,
        &[
            P::AwaitingCheckpoint,
            P::Expired,
            P::Destroyed,
            P::Refused,
            P::Resending,
        ],
        "200 resent or refused (success:false), 408 expired, 400 after the end destroyed, 403 refused, error",
        Flow::on_answer,
    ),
    rule(
        P::Resending,
        In::Failed,
        &[P::Resending, P::AwaitingCheckpoint, P::Expired],
        "no answer: retried before the deadline, or given up",
        Flow::on_failed,
    ),
    rule(
        P::Resending,
        In::Abandoned,
        &[P::AwaitingCheckpoint],
        "abandoned: its key is kept for a retry",
        Flow::on_abandoned,
    ),
    rule(
        P::Resending,
        In::Tick,
        &[P::Resending, P::Expired],
        "the retry's time: sent again before the deadline (at or after it: expired)",
        Flow::on_tick,
    ),
    // CheckingStatus: a GET of an account is out; the flow goes back where it was.
    rule(
        P::CheckingStatus,
        In::Answer,
        &[
            P::CheckingStatus,
            P::Idle,
            P::Connected,
            P::Expired,
            P::Destroyed,
            P::Refused,
        ],
        "the account's status, or an error: back",
        Flow::on_answer,
    ),
    rule(
        P::CheckingStatus,
        In::Failed,
        &[
            P::CheckingStatus,
            P::Idle,
            P::Connected,
            P::Expired,
            P::Destroyed,
            P::Refused,
        ],
        "no answer: retried, or back",
        Flow::on_failed,
    ),
    rule(
        P::CheckingStatus,
        In::Abandoned,
        BACK_FROM_STATUS,
        "abandoned: back",
        Flow::on_abandoned,
    ),
    rule(
        P::CheckingStatus,
        In::Tick,
        &[P::CheckingStatus],
        "the retry's time: sent again",
        Flow::on_tick,
    ),
    // The ends: only a new connect, or a status check, leaves them.
    rule(
        P::Connected,
        In::Connect,
        &[P::Connecting, P::Connected],
        "connect another",
        Flow::on_connect,
    ),
    rule(
        P::Connected,
        In::Reconnect,
        &[P::Connecting, P::Connected],
        "reconnect",
        Flow::on_connect,
    ),
    rule(
        P::Connected,
        In::AccountStatus,
        &[P::CheckingStatus, P::Connected],
        "account status",
        Flow::on_account_status,
    ),
    rule(
        P::Connected,
        In::Abandoned,
        &[P::Connected],
        "nothing to abandon",
        Flow::on_abandoned,
    ),
    rule(
        P::Connected,
        In::Tick,
        &[P::Connected],
        "nothing to do",
        Flow::on_tick,
    ),
    rule(
        P::Expired,
        In::Connect,
        &[P::Connecting, P::Expired],
        "connect (start over)",
        Flow::on_connect,
    ),
    rule(
        P::Expired,
        In::Reconnect,
        &[P::Connecting, P::Expired],
        "reconnect (start over)",
        Flow::on_connect,
    ),
    rule(
        P::Expired,
        In::Solve,
        &[P::Expired],
        "the expiry again, nothing sent",
        Flow::on_ended,
    ),
    rule(
        P::Expired,
        In::Resend,
        &[P::Expired],
        "the expiry again, nothing sent",
        Flow::on_ended,
    ),
    rule(
        P::Expired,
        In::AccountStatus,
        &[P::CheckingStatus, P::Expired],
        "account status",
        Flow::on_account_status,
    ),
    rule(
        P::Expired,
        In::Abandoned,
        &[P::Expired],
        "nothing to abandon",
        Flow::on_abandoned,
    ),
    rule(
        P::Expired,
        In::Tick,
        &[P::Expired],
        "nothing to do",
        Flow::on_tick,
    ),
    rule(
        P::Destroyed,
        In::Connect,
        &[P::Connecting, P::Destroyed],
        "connect (start over)",
        Flow::on_connect,
    ),
    rule(
        P::Destroyed,
        In::Reconnect,
        &[P::Connecting, P::Destroyed],
        "reconnect (start over)",
        Flow::on_connect,
    ),
    rule(
        P::Destroyed,
        In::Solve,
        &[P::Destroyed],
        "the destruction again, nothing sent",
        Flow::on_ended,
    ),
    rule(
        P::Destroyed,
        In::Resend,
        &[P::Destroyed],
        "the destruction again, nothing sent",
        Flow::on_ended,
    ),
    rule(
        P::Destroyed,
        In::AccountStatus,
        &[P::CheckingStatus, P::Destroyed],
        "account status",
        Flow::on_account_status,
    ),
    rule(
        P::Destroyed,
        In::Abandoned,
        &[P::Destroyed],
        "nothing to abandon",
        Flow::on_abandoned,
    ),
    rule(
        P::Destroyed,
        In::Tick,
        &[P::Destroyed],
        "nothing to do",
        Flow::on_tick,
    ),
    rule(
        P::Refused,
        In::Connect,
        &[P::Connecting, P::Refused],
        "connect (start over)",
        Flow::on_connect,
    ),
    rule(
        P::Refused,
        In::Reconnect,
        &[P::Connecting, P::Refused],
        "reconnect (start over)",
        Flow::on_connect,
    ),
    rule(
        P::Refused,
        In::Solve,
        &[P::Refused],
        "the refusal again, nothing sent",
        Flow::on_ended,
    ),
    rule(
        P::Refused,
        In::Resend,
        &[P::Refused],
        "the refusal again, nothing sent",
        Flow::on_ended,
    ),
    rule(
        P::Refused,
        In::AccountStatus,
        &[P::CheckingStatus, P::Refused],
        "account status",
        Flow::on_account_status,
    ),
    rule(
        P::Refused,
        In::Abandoned,
        &[P::Refused],
        "nothing to abandon",
        Flow::on_abandoned,
    ),
    rule(
        P::Refused,
        In::Tick,
        &[P::Refused],
        "nothing to do",
        Flow::on_tick,
    ),
];

/// For each phase and input, the index of its row in [`RULES`] plus one (0: no row), built
/// from the rows at compile time so that finding a row is one lookup.
#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "evaluated at compile time: an index out of bounds fails the build"
)]
const RULE_INDEX: [[u8; InputKind::ALL.len()]; Phase::ALL.len()] = {
    let mut index = [[0u8; InputKind::ALL.len()]; Phase::ALL.len()];
    let mut row = 0;
    while row < RULE_ROWS.len() {
        let rule = &RULE_ROWS[row];
        // A phase and an input have at most one row: a second one fails the build.
        assert!(
            index[rule.phase as usize][rule.input as usize] == 0,
            "two rows for one phase and input"
        );
        index[rule.phase as usize][rule.input as usize] = (row + 1) as u8;
        row += 1;
    }
    index
};

/// The row of [`RULES`] for a phase and an input, if there is one.
pub fn rule_for(phase: Phase, input: InputKind) -> Option<&'static Rule> {
    let position = RULE_INDEX.get(phase as usize)?.get(input as usize).copied()?;
    RULES.get(usize::from(position).checked_sub(1)?)
}

/// The misuse that a phase and an input without a row of [`RULES`] are: decided here, once.
pub(crate) fn misuse(phase: Phase, input: InputKind) -> UsageError {
    match input {
        In::Answer | In::Failed => UsageError::NoRequestInFlight,
        _ if phase.is_in_flight() => UsageError::RequestInFlight,
        In::AccountStatus => UsageError::IntentPending,
        _ => UsageError::NoPendingIntent,
    }
}

/// The state diagram of [`RULES`] in Mermaid, as `docs/state-machine.md` shows it: one arrow
/// per move between two different phases, labelled with the inputs that make it.
pub fn state_diagram() -> String {
    let mut diagram = String::from("stateDiagram-v2\n    [*] --> Idle\n");
    for from in Phase::ALL {
        for to in Phase::ALL {
            if from == to {
                continue;
            }
            let inputs: Vec<&str> = RULES
                .iter()
                .filter(|rule| rule.phase == from && rule.to.contains(&to))
                .map(|rule| rule.input.as_str())
                .collect();
            if !inputs.is_empty() {
                let _ = writeln!(
                    diagram,
                    "    {} --> {}: {}",
                    from.name(),
                    to.name(),
                    inputs.join(", ")
                );
            }
        }
    }
    diagram
}

/// The rules table as Markdown, one row per rule, as `docs/state-machine.md` shows it.
pub fn rules_table() -> String {
    let mut table = String::from("| phase | input | may lead to | what happens |\n|---|---|---|---|\n");
    for rule in RULES {
        let to: Vec<&str> = rule.to.iter().map(|phase| phase.name()).collect();
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} |",
            rule.phase.name(),
            rule.input.as_str(),
            to.join(", "),
            rule.on
        );
    }
    table
}

/// What an answer means for the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// `AccountCreated`: the account is connected.
    Connected,
    /// `AccountReconnected`: the account is reconnected.
    Reconnected,
    /// `Checkpoint`: an intent starts, or its next checkpoint must be solved.
    Checkpoint,
    /// `CheckpointResend` with `success: true`.
    Resent,
    /// `CheckpointResend` with `success: false`: nothing reached the user.
    ResendRefused,
    /// `Account`: the account's status.
    AccountStatus,
    /// The intent expired (a 408): start over.
    Expired,
    /// The intent destroyed itself: start over.
    Destroyed,
    /// The provider refused the account: the attempt is over.
    Refused,
    /// An error that leaves the flow where it was (a pending intent stays pending, a
    /// connect goes back to idle); [`Problem::RateLimited`] and [`Problem::ServerFailure`]
    /// are retried when the [`RetryPolicy`](crate::RetryPolicy) says so.
    Failed(Problem),
    /// A success object that does not answer the request sent: a malformed answer.
    Unexpected,
}

/// What the word of an answer (the `object` of a success, the `type` of an error) must be
/// for a row of [`ANSWER_RULES`] to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Word {
    /// Any word, or none.
    Any,
    /// Exactly this one.
    Is(&'static str),
    /// One of these.
    OneOf(&'static [&'static str]),
}

impl Word {
    fn matches(self, word: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Is(expected) => word == expected,
            Self::OneOf(expected) => expected.contains(&word),
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Any => "any".to_owned(),
            Self::Is(word) => format!("`{word}`"),
            Self::OneOf(words) => words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// One row of [`ANSWER_RULES`].
#[derive(Debug, Clone, Copy)]
pub struct AnswerRule {
    /// The requests it answers.
    pub requests: &'static [RequestKind],
    /// The statuses it covers, inclusive.
    pub status: (u16, u16),
    /// The word it needs.
    pub word: Word,
    /// What it means.
    pub outcome: Outcome,
    /// Where the contract says so (a postpress page, a guide), or *inferred*.
    pub source: &'static str,
}

use RequestKind as Rk;

const ALL_REQUESTS: &[RequestKind] = &RequestKind::ALL;
const CONNECTS: &[RequestKind] = &[Rk::Connect, Rk::Reconnect];
const ON_INTENT: &[RequestKind] = &[Rk::Solve, Rk::Resend];

/// The documented `400` validation types: a request refused as malformed.
pub const VALIDATION_TYPES: &[&str] = &[
    "errors/invalid_parameters",
    "errors/missing_parameters",
    "errors/invalid_request",
    "errors/malformed_request",
    "errors/content_too_large",
    "errors/too_many_characters",
    "errors/unescaped_characters",
    "errors/limit_too_high",
    "errors/invalid_url",
];

/// The `401` types about the API key, never the account's password.
pub const API_KEY_TYPES: &[&str] = &[
    "errors/missing_credentials",
    "errors/expired_credentials",
    "errors/insufficient_privileges",
    "errors/key_missing",
];

const fn answer(
    requests: &'static [RequestKind],
    status: (u16, u16),
    word: Word,
    outcome: Outcome,
    source: &'static str,
) -> AnswerRule {
    AnswerRule {
        requests,
        status,
        word,
        outcome,
        source,
    }
}

const OK: (u16, u16) = (200, 299);

/// Every answer of the contract: (request, status, `object` or `type`) → what it means.
/// The first row that matches wins; statuses outside 2xx, 4xx and 5xx never get here (they
/// are malformed answers).
pub static ANSWER_RULES: &[AnswerRule] = &[
    answer(
        &[Rk::Connect, Rk::Solve],
        OK,
        Word::Is("AccountCreated"),
        Outcome::Connected,
        "accounts-connect 201, accounts-checkpoint 201",
    ),
    answer(
        &[Rk::Reconnect, Rk::Solve],
        OK,
        Word::Is("AccountReconnected"),
        Outcome::Reconnected,
        "accounts-reconnect 200/201",
    ),
    answer(
        &[Rk::Reconnect],
        OK,
        Word::Is("AccountCreated"),
        Outcome::Reconnected,
        "inferred: a reconnect answered like a connect",
    ),
    answer(
        &[Rk::Connect, Rk::Reconnect, Rk::Solve],
        OK,
        Word::Is("Checkpoint"),
        Outcome::Checkpoint,
        "accounts-connect 202; a chain of checkpoints (guides)",
    ),
    answer(
        &[Rk::Resend],
        OK,
        Word::Is("Checkpoint"),
        Outcome::Checkpoint,
        "inferred: a resend that switched the checkpoint",
    ),
    answer(
        &[Rk::Resend],
        OK,
        Word::Is("CheckpointResend"),
        Outcome::Resent,
        "accounts-checkpoint-resend 200, success: true",
    ),
    answer(
        &[Rk::Resend],
        OK,
        Word::Is("CheckpointResend(success:false)"),
        Outcome::ResendRefused,
        "accounts-checkpoint-resend 200, success: false",
    ),
    answer(
        &[Rk::AccountStatus],
        OK,
        Word::Is("Account"),
        Outcome::AccountStatus,
        "accounts-get 200",
    ),
    answer(
        ALL_REQUESTS,
        OK,
        Word::Any,
        Outcome::Unexpected,
        "a success that does not answer the request",
    ),
    answer(
        &[Rk::Solve],
        (401, 401),
        Word::Is("errors/invalid_checkpoint_solution"),
        Outcome::Failed(Problem::WrongCode),
        "accounts-checkpoint 401",
    ),
    answer(
        CONNECTS,
        (401, 401),
        Word::Is("errors/invalid_credentials"),
        Outcome::Failed(Problem::WrongCredentials),
        "accounts-connect 401 (the type is also used for an invalid API key: both are said)",
    ),
    answer(
        ALL_REQUESTS,
        (401, 401),
        Word::Is("errors/invalid_credentials"),
        Outcome::Failed(Problem::ApiKey),
        "401 invalid_credentials where no password was sent: the API key",
    ),
    answer(
        ALL_REQUESTS,
        (401, 401),
        Word::OneOf(API_KEY_TYPES),
        Outcome::Failed(Problem::ApiKey),
        "401 types of every page: the API key missing, expired, without the scope",
    ),
    answer(
        ALL_REQUESTS,
        (401, 401),
        Word::Any,
        Outcome::Failed(Problem::Other),
        "401: other documented types (disconnected account…)",
    ),
    answer(
        ALL_REQUESTS,
        (403, 403),
        Word::Any,
        Outcome::Refused,
        "accounts-checkpoint 403 (account_restricted, account_mismatch, …)",
    ),
    answer(
        ON_INTENT,
        (408, 408),
        Word::Any,
        Outcome::Expired,
        "guides: the first request against an intent older than 5 minutes",
    ),
    answer(
        ALL_REQUESTS,
        (400, 400),
        Word::OneOf(VALIDATION_TYPES),
        Outcome::Failed(Problem::InvalidRequest),
        "400 types of every page: refused as malformed",
    ),
    answer(
        ON_INTENT,
        (400, 400),
        Word::Any,
        Outcome::Destroyed,
        "guides: every request after the 408 answers 400",
    ),
    answer(
        ALL_REQUESTS,
        (409, 409),
        Word::Any,
        Outcome::Failed(Problem::IdempotencyConflict),
        "inferred: an idempotency key reused with another body",
    ),
    answer(
        &[Rk::AccountStatus],
        (404, 404),
        Word::Any,
        Outcome::Failed(Problem::NotFound),
        "accounts-get: no such account",
    ),
    answer(
        ALL_REQUESTS,
        (429, 429),
        Word::Any,
        Outcome::Failed(Problem::RateLimited),
        "quickstart: the key's token bucket is empty",
    ),
    answer(
        ON_INTENT,
        (500, 500),
        Word::Is("errors/authentication_intent_error"),
        Outcome::Destroyed,
        "inferred type: the intent was killed after a failure",
    ),
    answer(
        ALL_REQUESTS,
        (500, 599),
        Word::Any,
        Outcome::Failed(Problem::ServerFailure),
        "quickstart: retry with the same Idempotency-Key",
    ),
    answer(
        ALL_REQUESTS,
        (400, 599),
        Word::Any,
        Outcome::Failed(Problem::Other),
        "any other error",
    ),
];

impl AnswerRule {
    /// Whether this row covers an answer of `status` with `word` to a request of `kind`.
    pub fn matches(&self, kind: RequestKind, status: u16, word: &str) -> bool {
        self.requests.contains(&kind)
            && (self.status.0..=self.status.1).contains(&status)
            && self.word.matches(word)
    }
}

/// The row of [`ANSWER_RULES`] that decides an answer of `status` with `word` to a request of
/// `kind`: the first that matches.
pub fn answer_rule(kind: RequestKind, status: u16, word: &str) -> Option<&'static AnswerRule> {
    ANSWER_RULES.iter().find(|rule| rule.matches(kind, status, word))
}

/// What an answer of `status` with `word` means for a request of `kind`: the first row of
/// [`ANSWER_RULES`] that matches, or [`Outcome::Unexpected`] for a status outside the table.
pub fn classify(kind: RequestKind, status: u16, word: &str) -> Outcome {
    answer_rule(kind, status, word).map_or(Outcome::Unexpected, |rule| rule.outcome)
}

/// [`ANSWER_RULES`] as Markdown, as `docs/contract.md` shows it.
pub fn answer_table() -> String {
    let mut table =
        String::from("| requests | status | object or type | outcome | source |\n|---|---|---|---|---|\n");
    for rule in ANSWER_RULES {
        let requests: Vec<&str> = rule.requests.iter().map(|kind| kind.as_str()).collect();
        let requests = if rule.requests.len() == RequestKind::ALL.len() {
            "all".to_owned()
        } else {
            requests.join(", ")
        };
        let status = if rule.status.0 == rule.status.1 {
            rule.status.0.to_string()
        } else {
            format!("{}–{}", rule.status.0, rule.status.1)
        };
        let _ = writeln!(
            table,
            "| {requests} | {status} | {} | {:?} | {} |",
            rule.word.describe(),
            rule.outcome,
            rule.source
        );
    }
    table
}

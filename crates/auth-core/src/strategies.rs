//! proptest strategies for the machine's inputs (feature `proptest`): the ones this crate's
//! own model test uses, so you can property-test your own driver, transport or store the
//! same way.
//!
//! - [`answer`]: an answer of any row of [`ANSWER_RULES`](crate::ANSWER_RULES), in either
//!   error envelope, with or without `Retry-After` and `x-request-id`;
//! - [`hostile_answer`]: bytes a broken or hostile server could send;
//! - [`command`], [`solution`], [`key`]: the caller's side;
//! - [`transport_error`]: failures to get an answer;
//! - [`clock_move`]: moves of the wall clock biased around a deadline, forwards and backwards;
//! - [`input`]: any [`Input`], for driving a [`Flow`](crate::Flow) at random.
//!
//! A user's property test of their own driver: whatever the server answers, the driver
//! returns a typed result and never panics, and nothing is sent at or after the deadline.
//!
//! ```
//! use auth_core::strategies::{answer, clock_move};
//! use auth_core::{drive, Answer, Clock, Command, Config, Credentials, Flow, IdempotencyKey, Request, RetryPolicy, TransportError, UnixMillis};
//! use proptest::prelude::*;
//! use std::cell::Cell;
//!
//! /// Your driver's clock, moved by hand in the test.
//! struct TestClock(Cell<u64>);
//! impl Clock for TestClock {
//!     fn now(&self) -> UnixMillis { UnixMillis::from_millis(self.0.get()) }
//!     fn sleep_until(&self, at: UnixMillis) { self.0.set(self.0.get().max(at.as_millis())) }
//! }
//!
//! proptest!(ProptestConfig::with_cases(64), |(answers in proptest::collection::vec(answer(), 1..6), shift in clock_move(300_000))| {
//!     let clock = TestClock(Cell::new(1_000_000));
//!     let mut flow = Flow::new(Config::new("key").with_retry_policy(RetryPolicy::default()));
//!     let mut replies = answers.into_iter();
//!     let mut server = |request: &Request| -> Result<Answer, TransportError> {
//!         clock.0.set(clock.0.get().saturating_add_signed(shift));
//!         replies.next().ok_or_else(|| TransportError::new(auth_core::TransportErrorKind::Io, "no more answers"))
//!     };
//!     let connect = Command::Connect(Credentials::messenger("bob", "pw"));
//!     // Any answer gives a typed result: an event or an error, never a panic.
//!     let _ = drive(&mut flow, &mut server, &clock, connect, IdempotencyKey::from_random_bytes([1; 16]));
//! });
//! ```

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::account::{AccountId, ConnectOptions, Credentials, Provider, Proxy};
use crate::answer::Answer;
use crate::checkpoint::Solution;
use crate::error::{TransportError, TransportErrorKind};
use crate::idempotency::IdempotencyKey;
use crate::input::{Command, Input};
use crate::rules::{ANSWER_RULES, AnswerRule, Outcome, Word};

/// The account id every generated success answer names.
pub const ACCOUNT_ID: &str = "acc-1";

/// An idempotency key from 16 random bytes.
pub fn key() -> impl Strategy<Value = IdempotencyKey> {
    any::<[u8; 16]>().prop_map(IdempotencyKey::from_random_bytes)
}

/// A secret: printable, 1 to 24 characters, sometimes with JSON's special characters.
pub fn secret() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9]{6,24}", "[ -~]{1,24}", Just("p\"w\\n".to_owned()),]
}

/// A solution: a code, approval in the app, or another way.
pub fn solution() -> impl Strategy<Value = Solution> {
    prop_oneof![
        6 => secret().prop_map(Solution::code),
        2 => Just(Solution::InAppValidation),
        1 => Just(Solution::TryAnotherWay),
    ]
}

/// Credentials of any provider, sometimes with a proxy (whose password is a secret too).
pub fn credentials() -> impl Strategy<Value = Credentials> {
    (
        prop::sample::select(Provider::ALL.to_vec()),
        "[a-z]{1,12}",
        secret(),
        prop::option::of(secret()),
    )
        .prop_map(|(provider, username, password, proxy_password)| {
            let credentials = Credentials::new(provider, username, password);
            match proxy_password {
                Some(proxy) => credentials.with_options(
                    ConnectOptions::new().proxy(Proxy::new("proxy.example.com", 3128).auth("user", proxy)),
                ),
                None => credentials,
            }
        })
}

/// A command of the caller.
pub fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => credentials().prop_map(Command::Connect),
        1 => credentials().prop_map(|credentials| Command::Reconnect {
            account_id: AccountId::new(ACCOUNT_ID),
            credentials,
        }),
        6 => solution().prop_map(Command::Solve),
        2 => Just(Command::Resend),
        1 => Just(Command::AccountStatus(AccountId::new(ACCOUNT_ID))),
    ]
}

/// A failure to get an answer, of any kind.
pub fn transport_error() -> impl Strategy<Value = TransportError> {
    prop::sample::select(vec![
        TransportErrorKind::Connect,
        TransportErrorKind::Timeout,
        TransportErrorKind::Tls,
        TransportErrorKind::BodyTooLarge,
        TransportErrorKind::Redirect,
        TransportErrorKind::Io,
        TransportErrorKind::Refused,
        TransportErrorKind::Other,
    ])
    .prop_map(|kind| TransportError::new(kind, "generated failure"))
}

/// A move of the wall clock, in milliseconds, biased around `deadline_ms` from now: small
/// steps, jumps to just before, at and just after the deadline, and moves backwards.
pub fn clock_move(deadline_ms: u64) -> impl Strategy<Value = i64> {
    let deadline = i64::try_from(deadline_ms).unwrap_or(i64::MAX);
    prop_oneof![
        4 => 0i64..500,
        2 => (-3i64..=3).prop_map(move |d| deadline.saturating_add(d)),
        1 => (deadline / 2)..deadline.saturating_mul(2).max(1),
        1 => -5_000i64..0,
    ]
}

/// A checkpoint object of the contract, of a known type or a new one.
pub fn checkpoint_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"type": "2FA"})),
        Just(json!({"type": "2FA", "source": "SMS"})),
        Just(json!({"type": "OTP"})),
        Just(json!({"type": "IN_APP_VALIDATION"})),
        Just(json!({"type": "PHONE_REGISTER"})),
        Just(json!({"type": "CAPTCHA", "public_key": "pk", "data": "d"})),
        Just(json!({"type": "QRCODE", "qrcode": "qr"})),
        Just(json!({"type": "CONTRACT_CHOOSER", "contract_options": [{"id": "c1", "name": "One"}]})),
        "[A-Z_]{3,12}".prop_map(|kind| json!({"type": kind, "hint": "<b>new</b>"})),
    ]
}

/// An answer of one of the rows of [`ANSWER_RULES`], chosen at random: the row's status
/// and word, in either error envelope, sometimes with `Retry-After` and `x-request-id`.
pub fn answer() -> impl Strategy<Value = Answer> {
    prop::sample::select(ANSWER_RULES.iter().collect::<Vec<_>>()).prop_flat_map(answer_of)
}

/// An answer that a row matches: its status, and a word it takes.
pub fn answer_of(rule: &'static AnswerRule) -> BoxedStrategy<Answer> {
    let status = rule.status.0..=rule.status.1;
    let word = match rule.word {
        Word::Any => prop_oneof![
            Just(String::new()),
            Just("errors/invalid_parameters".to_owned()),
            Just("errors/authentication_intent_error".to_owned()),
            "errors/[a-z_]{3,16}",
        ]
        .boxed(),
        Word::Is(word) => Just(word.to_owned()).boxed(),
        Word::OneOf(words) => prop::sample::select(words.to_vec())
            .prop_map(str::to_owned)
            .boxed(),
    };
    let success = matches!(
        rule.outcome,
        Outcome::Connected
            | Outcome::Reconnected
            | Outcome::Checkpoint
            | Outcome::Resent
            | Outcome::ResendRefused
            | Outcome::AccountStatus
            | Outcome::Unexpected
    );
    (
        status,
        word,
        checkpoint_json(),
        any::<bool>(),
        prop::option::of(0u64..5),
        prop::option::of("[a-z0-9-]{4,12}"),
    )
        .prop_map(
            move |(status, word, checkpoint, quickstart, retry_after, request_id)| {
                let body = if success {
                    success_body(&word, checkpoint)
                } else {
                    error_body(status, &word, quickstart, request_id.as_deref())
                };
                let mut answer = Answer::new(status, body.to_string());
                if let Some(seconds) = retry_after {
                    answer = answer.with_header("Retry-After", seconds.to_string());
                }
                if let Some(id) = request_id {
                    answer = answer.with_header("x-request-id", id);
                }
                answer
            },
        )
        .boxed()
}

fn success_body(object: &str, checkpoint: Value) -> Value {
    match object {
        "AccountCreated" | "AccountReconnected" => json!({"object": object, "account_id": ACCOUNT_ID}),
        "Checkpoint" => json!({"object": "Checkpoint", "account_id": ACCOUNT_ID, "checkpoint": checkpoint}),
        "CheckpointResend" => {
            json!({"object": "CheckpointResend", "account_id": ACCOUNT_ID, "success": true})
        }
        "CheckpointResend(success:false)" => {
            json!({"object": "CheckpointResend", "account_id": ACCOUNT_ID, "success": false})
        }
        "Account" => json!({
            "object": "Account", "id": ACCOUNT_ID, "type": "MESSENGER", "name": "Bob",
            "created_at": "2026-01-01T00:00:00.000Z", "sources": [{"id": "s1", "status": "OK"}]
        }),
        other => {
            json!({"object": if other.is_empty() { "Surprise" } else { other }, "account_id": ACCOUNT_ID})
        }
    }
}

fn error_body(status: u16, kind: &str, quickstart: bool, request_id: Option<&str>) -> Value {
    if quickstart {
        json!({"error": {
            "code": kind.trim_start_matches("errors/"),
            "message": format!("generated {status}"),
            "request_id": request_id,
        }})
    } else if kind.is_empty() {
        json!({"status": status, "title": format!("generated {status}")})
    } else {
        json!({"status": status, "type": kind, "title": format!("generated {status}"), "instance": request_id})
    }
}

/// Bytes a broken or hostile server could send, under any status: not JSON, JSON of the
/// wrong shape, deep nesting, huge numbers, an echo of `echo` (say, a secret); sometimes
/// with a header to match: a `Retry-After` far off or malformed, an `x-request-id` echoing
/// `echo` after any padding (so that a cut may fall inside it).
pub fn hostile_answer(echo: String) -> impl Strategy<Value = Answer> {
    let padded = echo.clone();
    let header = prop_oneof![
        any::<u64>().prop_map(|seconds| ("Retry-After", seconds.to_string())),
        Just(("Retry-After", "184467440737095516150".to_owned())),
        (any::<u64>(), 0u8..40)
            .prop_map(|(year, day)| ("Retry-After", format!("Sun, {day:02} Nov {year} 08:49:37 GMT"))),
        Just(("x-request-id", echo.clone())),
        (0usize..300).prop_map(move |pad| ("x-request-id", format!("{}{padded}", "r".repeat(pad)))),
    ];
    let body = prop_oneof![
        Just(Vec::new()),
        Just(b"<html>502 Bad Gateway</html>".to_vec()),
        Just(b"[1,2,3]".to_vec()),
        Just(b"{\"object\":\"AccountCreated\"}".to_vec()),
        Just(b"{\"object\":\"Checkpoint\",\"account_id\":\"a\",\"checkpoint\":\"2FA\"}".to_vec()),
        Just("[".repeat(10_000).into_bytes()),
        Just(format!(r#"{{"type":"errors/x","title":"echo {echo}","detail":"{echo}"}}"#).into_bytes()),
        Just(
            format!(r#"{{"error":{{"code":"{echo}","message":"{echo}","request_id":"{echo}"}}}}"#)
                .into_bytes()
        ),
        proptest::collection::vec(any::<u8>(), 0..200),
    ];
    (
        prop_oneof![Just(200u16), Just(201), Just(202), 100u16..600],
        body,
        prop::option::of(header),
    )
        .prop_map(|(status, body, header)| {
            let answer = Answer::new(status, body);
            match header {
                Some((name, value)) => answer.with_header(name, value),
                None => answer,
            }
        })
}

/// Any input: a command with its key, an answer of the contract, a hostile answer, a
/// failure, an abandonment or a tick.
pub fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (command(), key()).prop_map(|(command, key)| Input::command(command, key)),
        6 => answer().prop_map(Input::Answer),
        1 => hostile_answer("echo".to_owned()).prop_map(Input::Answer),
        2 => transport_error().prop_map(Input::Failed),
        1 => Just(Input::Abandoned),
        2 => Just(Input::Tick),
    ]
}

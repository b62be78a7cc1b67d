//! # auth-core
//!
//! The account-connection flow of the postpress API (and the Unipile API it mirrors) as a
//! **sans-IO state machine**: connect a Messenger (or LinkedIn, Instagram, Twitter) account
//! with its credentials, solve the two-factor checkpoints, and track the five-minute
//! authentication intent to the millisecond.
//!
//! One door in, one door out: every [`Input`] (a [`Command`] with the idempotency key of
//! its request, an [`Answer`], a transport failure, an abandoned request, a tick) goes
//! through [`Flow::handle`] with the time as [`UnixMillis`], and one [`Output`] comes back
//! (a [`Request`] to send as plain data, a [`Retry`] to wait for, an [`Event`], a typed
//! [`Error`], or "nothing to do until T"). The machine reads no clock, does no IO, starts no
//! thread and draws no random number. What each phase accepts is the data of [`RULES`];
//! what each answer means is the data of [`ANSWER_RULES`]. [`drive`] and [`drive_async`]
//! are the driver loop, written once.
//!
//! ```
//! use auth_core::{Answer, Command, Config, Credentials, Event, Flow, IdempotencyKey, Input, Output, Solution, UnixMillis};
//!
//! let mut flow = Flow::new(Config::new("my-api-key"));
//! let now = UnixMillis::from_millis(1_700_000_000_000);
//! let key = |n| IdempotencyKey::from_random_bytes([n; 16]); // 16 random bytes from your driver
//!
//! // 1. Connect. Send `request` with your HTTP client, bring back the answer.
//! let connect = Command::Connect(Credentials::messenger("bob", "pw-b"));
//! let Output::Send(request) = flow.handle(now, Input::command(connect, key(1))) else { unreachable!() };
//! assert_eq!((request.method.as_str(), &*request.path), ("POST", "/accounts"));
//! let answer = Answer::new(202, r#"{"object":"Checkpoint","account_id":"acc-1","checkpoint":{"type":"2FA","source":"SMS"}}"#);
//!
//! // 2. A checkpoint: an intent of five minutes starts.
//! let Output::Event(Event::Checkpoint(intent)) = flow.handle(now, Input::Answer(answer)) else { unreachable!() };
//! println!("{}: {} ({:?} left)", intent.checkpoint, intent.checkpoint.instructions(), intent.remaining(now));
//!
//! // 3. Solve it with the user's code; at or after the deadline nothing would be sent.
//! let solve = Command::Solve(Solution::code("123456"));
//! let Output::Send(request) = flow.handle(now, Input::command(solve, key(2))) else { unreachable!() };
//! let answer = Answer::new(201, r#"{"object":"AccountCreated","account_id":"acc-1"}"#);
//! let Output::Event(event) = flow.handle(now, Input::Answer(answer)) else { unreachable!() };
//! assert_eq!(event.connected_account().map(|id| id.as_str()), Some("acc-1"));
//! # drop(request);
//! ```
//!
//! A pending intent is saved with [`Flow::snapshot`] (a versioned public JSON format, no
//! secrets) and resumed in another process with [`Flow::resume`].
//!
//! ## Features
//!
//! - `proptest`: the strategies this crate's own tests use ([`strategies`]), to
//!   property-test your own driver.
//! - `arbitrary`: `arbitrary::Arbitrary` for the inputs, for cargo-fuzz.
//! - `tracing`: a span per command run by [`drive`] or [`drive_async`], and an event per
//!   request, answer, retry, event and error: the kind of call, provider, account id,
//!   checkpoint type, status, request id, attempt. Never a password, code or API key.
#![forbid(unsafe_code)]

mod account;
mod answer;
mod base_url;
mod checkpoint;
mod config;
mod drive;
mod error;
mod flow;
mod idempotency;
mod input;
mod intent;
mod observe;
mod output;
mod request;
mod retry;
mod rules;
mod secret;
mod session;
mod snapshot;
mod status;
mod time;
mod wire;

#[cfg(feature = "arbitrary")]
mod fuzzing;
#[cfg(feature = "proptest")]
pub mod strategies;

pub use account::{
    AccountId, ConnectOptions, Credentials, Provider, Proxy, ProxyProtocol, SyncFrom, SyncLimit,
    UnknownProvider,
};
pub use answer::Answer;
pub use base_url::{BaseUrl, BaseUrlError, POSTPRESS_BASE_URL};
pub use checkpoint::{
    Checkpoint, ContractOption, IN_APP_VALIDATION_CODE, Solution, SolutionKind, TRY_ANOTHER_WAY_CODE,
    TwoFactorSource,
};
pub use config::{AuthScheme, Config};
pub use drive::{AsyncClock, AsyncTransport, Clock, Transport, drive, drive_async};
pub use error::{
    ApiError, Detection, Error, ErrorType, Fault, IntentDestroyed, IntentExpired, MalformedAnswer, Problem,
    TransportError, TransportErrorKind, UsageError, plain_request_id,
};
pub use flow::{Flow, UnsettledRequest};
pub use idempotency::{IdempotencyKey, InvalidIdempotencyKey};
pub use input::{Command, Input, InputKind};
pub use intent::Intent;
pub use output::{Event, Output, Retry};
pub use request::{Body, Header, Method, Request, RequestKind, redacted_json};
pub use retry::{RetryCause, RetryPolicy};
pub use rules::{
    ANSWER_RULES, API_KEY_TYPES, AnswerRule, Outcome, Phase, RULES, Rule, VALIDATION_TYPES, Word,
    answer_rule, answer_table, classify, rule_for, rules_table, state_diagram,
};
pub use secret::{ApiKey, CheckpointCode, Password, ProxyPassword};
pub use session::{Connection, PendingFlow, Resend, Solved};
pub use snapshot::{Snapshot, UnsupportedSnapshotVersion};
pub use status::{AccountStatus, Source, SourceStatus};
pub use time::UnixMillis;

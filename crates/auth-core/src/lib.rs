//! # auth-core
//!
//! The account-connection flow of the postpress API (and the Unipile API it mirrors) as a
//! **sans-IO state machine**: connect a Messenger (or LinkedIn, Instagram, Twitter) account
//! with its credentials, solve the two-factor checkpoints, and track the five-minute
//! authentication intent to the millisecond.
//!
//! The machine reads no clock, does no IO and starts no thread. You feed it
//! [`Command`]s and [`Answer`]s, each with the time as [`UnixMillis`]; it gives back
//! [`Request`]s as plain data and [`Event`]s or typed [`Error`]s. Any transport drives
//! it: blocking, async, wasm, a test double. [`drive`] is the loop of the common case.
//!
//! ```
//! use auth_core::{Answer, Command, Config, Credentials, Event, Flow, Solution, UnixMillis};
//!
//! let mut flow = Flow::new(Config::new("my-api-key"));
//! let now = UnixMillis::from_millis(1_700_000_000_000);
//!
//! // 1. Connect. Send `request` with your HTTP client, bring back the answer.
//! let request = flow.begin(now, Command::Connect(Credentials::messenger("bob", "pw-b")))?;
//! assert_eq!((request.method.as_str(), &*request.path), ("POST", "/accounts"));
//! let answer = Answer::new(202, r#"{"object":"Checkpoint","account_id":"acc-1","checkpoint":{"type":"2FA","source":"SMS"}}"#);
//!
//! // 2. A checkpoint: an intent of five minutes starts.
//! let Event::Checkpoint(intent) = flow.handle_answer(now, &answer)? else { unreachable!() };
//! println!("{}: {} ({:?} left)", intent.checkpoint, intent.checkpoint.instructions(), intent.remaining(now));
//!
//! // 3. Solve it with the user's code; at or after the deadline nothing would be sent.
//! let request = flow.begin(now, Command::Solve(Solution::code("123456")))?;
//! let answer = Answer::new(201, r#"{"object":"AccountCreated","account_id":"acc-1"}"#);
//! assert_eq!(flow.handle_answer(now, &answer)?, Event::Connected { account_id: "acc-1".into() });
//! # drop(request);
//! # Ok::<(), auth_core::Error>(())
//! ```
//!
//! A pending intent is saved with [`Flow::snapshot`] (serde, no secrets) and resumed in
//! another process with [`Flow::resume`].
#![forbid(unsafe_code)]

mod account;
mod checkpoint;
mod config;
mod error;
mod flow;
mod http;
mod secret;
mod time;
mod transport;
mod wire;

pub use account::{AccountId, Credentials, Provider, UnknownProvider};
pub use checkpoint::{
    Checkpoint, ContractOption, IN_APP_VALIDATION_CODE, Solution, SolutionKind, TRY_ANOTHER_WAY_CODE,
    TwoFactorSource,
};
pub use config::Config;
pub use error::{
    ApiError, Detection, Error, ErrorType, Fault, IntentDestroyed, IntentExpired, MalformedAnswer,
    TransportError, TransportErrorKind, UsageError,
};
pub use flow::{
    Command, Event, Flow, Intent, Phase, Snapshot, TRANSITIONS, Transition, UnsupportedSnapshotVersion,
    state_diagram,
};
pub use http::{Answer, Body, Header, Method, Request, RequestKind, redacted_json};
pub use secret::{ApiKey, CheckpointCode, Password};
pub use time::UnixMillis;
pub use transport::{Transport, drive};

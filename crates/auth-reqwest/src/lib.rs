//! # auth-reqwest
//!
//! Connect a Messenger (or LinkedIn, Instagram, Twitter) account to the postpress API, or
//! the Unipile API it mirrors, from async Rust (axum, actix, tonic on tokio): a [`Client`]
//! on one [`reqwest`] pool that drives the sans-IO state machine of [`auth_core`] through
//! its async loop, [`auth_core::drive_async`].
//!
//! The same API as the blocking client (`auth-ureq`), as `async fn`s: moving from one to
//! the other is changing the crate's name and adding `.await`.
//!
//! ```
//! use auth_reqwest::{Checkpoint, Client, Connection, Solved};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A local simulator of the API, for this example; in production use `.postpress()`
//! // (the default) or `.unipile("api1.unipile.com:13111")` instead of `.base_url(…)`.
//! let sim = auth_sim::Simulator::builder().api_key("my-api-key").start()?;
//! let client = Client::builder().base_url(sim.base_url()).api_key("my-api-key").build()?;
//!
//! // Stands for the user typing the code they received (dave: a 2FA code, then an OTP).
//! let ask_user = |checkpoint: &Checkpoint| if *checkpoint == Checkpoint::Otp { "222222" } else { "111111" };
//!
//! let account_id = match client.connect_messenger("dave", "pw-d").await? {
//!     Connection::Connected { account_id } => account_id,
//!     Connection::Pending(mut intent) => loop {
//!         let checkpoint = intent.checkpoint();
//!         println!("{checkpoint}: {} ({:?} left)", checkpoint.instructions(), intent.remaining());
//!         match intent.solve_code_checkpoint(ask_user(checkpoint)).await {
//!             Ok(Solved::Connected { account_id }) => break account_id,
//!             Ok(Solved::NextCheckpoint) => continue, // the next checkpoint of the chain
//!             // A wrong code (or one refused as malformed): still pending, ask again.
//!             Err(e) if e.is_retryable_by_user() => continue,
//!             // Expired, destroyed, refused, network…: the error says which, without any secret.
//!             Err(e) => return Err(e.into()),
//!             Ok(other) => return Err(format!("unexpected: {other:?}").into()),
//!         }
//!     },
//!     other => return Err(format!("unexpected: {other:?}").into()),
//! };
//! println!("connected account {account_id}");
//! # assert_eq!(sim.connected_accounts()[0].account_id, account_id.as_str());
//! # Ok(())
//! # }
//! ```
//!
//! - **One driver loop.** Every call goes through [`auth_core::drive_async`]: the core
//!   builds each request with an `Idempotency-Key` (16 random bytes per command, from the
//!   operating system), the client sends it, and the core's [`RetryPolicy`] decides what is
//!   sent again (no answer at all, 5xx, 429 with its `Retry-After`), with the same key and
//!   body, never past the intent's deadline; the client sleeps on tokio's timer meanwhile.
//! - **Cancel-safe.** Drop any future of a [`PendingIntent`] mid-request (a user who closed
//!   the page, `tokio::time::timeout`, `select!`): the intent stays pending and resumable,
//!   and the same call again resends the request with the same `Idempotency-Key`.
//! - **Futures are `Send`**, and the [`Client`]'s are `'static` when their arguments are:
//!   they run in `tokio::spawn` and in axum handlers. An in-app validation held by the
//!   server for minutes costs a parked task, not a thread.
//! - **One error type**, [`Error`] (that of [`auth_core`], re-exported, not wrapped), split
//!   by who must act ([`Error::fault`]); no error's text carries the API key, a password
//!   or a code.
//! - **Safe by default**: https (rustls, web PKI roots), or plain http to loopback hosts
//!   only; redirects are never followed, so the API key never reaches another host; answers
//!   are read chunk by chunk and refused past 1 MiB; every request's whole exchange is
//!   bounded by its budget from the core.
//! - **Observable**: with the `tracing` feature (on by default), a span per call and an
//!   event per request, answer, retry and outcome (provider, account id, checkpoint type,
//!   status, request id, attempt), from the core; the client adds the URL of a request
//!   that got no answer. Never a password, a code or the API key.
//!
//! ## Layers
//!
//! [`auth_core`] decides everything and does no IO; [`ReqwestTransport`] sends its
//! requests and decides nothing; [`Client`] puts the two together with a [`ClientClock`]
//! through [`auth_core::drive_async`].
#![forbid(unsafe_code)]

mod builder;
mod client;
mod clock;
mod http_version;
mod transport;

pub use auth_client::{BuildError, Exchange, MAX_REQUEST_TIMEOUT, new_idempotency_key};
pub use auth_core;
pub use auth_core::{
    AccountId, AccountStatus, Answer, ApiError, ApiKey, AsyncClock, AuthScheme, BaseUrl, BaseUrlError,
    Checkpoint, Config, ConnectOptions, Credentials, Detection, Error, ErrorType, Fault, IdempotencyKey,
    Intent, IntentDestroyed, IntentExpired, MalformedAnswer, POSTPRESS_BASE_URL, Password, Phase, Problem,
    Provider, Request, Resend, RetryPolicy, Snapshot, Solution, Solved, SourceStatus, TransportError,
    TransportErrorKind, UnixMillis, UsageError,
};
pub use reqwest;

pub use crate::builder::ClientBuilder;
pub use crate::client::{Client, Connection, PendingIntent};
pub use crate::clock::{ClientClock, SystemClock};
pub use crate::http_version::HttpVersion;
pub use crate::transport::ReqwestTransport;

/// The `user-agent` every request carries: `auth-reqwest/<version>`.
pub const USER_AGENT: &str = concat!("auth-reqwest/", env!("CARGO_PKG_VERSION"));

/// The README's examples, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

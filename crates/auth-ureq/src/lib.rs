//! # auth-ureq
//!
//! Connect a Messenger (or LinkedIn, Instagram, Twitter) account to the postpress API, or
//! the Unipile API it mirrors, from blocking Rust code: a [`Client`] on one kept-alive
//! [`ureq`] agent that drives the sans-IO state machine of [`auth_core`].
//!
//! Connect with username and password; if the server asks for a checkpoint (a 2FA code, an
//! OTP, an approval in the app…), you get a [`PendingIntent`] that says which, and until
//! when, and that you solve:
//!
//! ```
//! use auth_ureq::{Checkpoint, Client, Connection, Solved};
//!
//! // A local simulator of the API, for this example; in production use `.postpress()`
//! // (the default) or `.unipile("api1.unipile.com:13111")` instead of `.base_url(…)`.
//! let sim = auth_sim::Simulator::builder().api_key("my-api-key").start()?;
//! let client = Client::builder().base_url(sim.base_url()).api_key("my-api-key").build()?;
//!
//! // Stands for the user typing the code they received (dave: a 2FA code, then an OTP).
//! let ask_user = |checkpoint: &Checkpoint| if *checkpoint == Checkpoint::Otp { "222222" } else { "111111" };
//!
//! let account_id = match client.connect_messenger("dave", "pw-d")? {
//!     Connection::Connected { account_id } => account_id,
//!     Connection::Pending(mut intent) => loop {
//!         let checkpoint = intent.checkpoint();
//!         println!("{checkpoint}: {} ({:?} left)", checkpoint.instructions(), intent.remaining());
//!         match intent.solve_code_checkpoint(ask_user(checkpoint)) {
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
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **One driver loop.** Every call goes through [`auth_core::drive`]: the core builds
//!   each request with an `Idempotency-Key` (16 random bytes per command, from the operating
//!   system), the client sends it, and the core's [`RetryPolicy`] decides what is sent again
//!   (no answer at all, 5xx, 429 with its `Retry-After`), with the same key and body, never
//!   past the intent's deadline. A lost answer costs no second intent and no second SMS.
//! - **One error type**, [`Error`] (that of [`auth_core`]), split by who must act
//!   ([`Error::fault`]): the network ([`Error::Transport`], with a [`TransportErrorKind`]:
//!   connect, timeout, TLS, body too large, redirect refused…), the server's error answers
//!   ([`Error::Api`]: status, `type`, `title`, `detail`, request id, and what it means,
//!   [`ApiError::problem`]), the intent's end ([`Error::IntentExpired`],
//!   [`Error::IntentDestroyed`]), answers outside the contract ([`Error::Malformed`]),
//!   misuse ([`Error::Usage`]). A key problem is [`Fault::Configuration`], never the
//!   password. No error's text carries the API key, a password or a code.
//! - **A wrong code** (or a solve refused as malformed) leaves the intent pending
//!   ([`Error::is_retryable_by_user`]): solve again. A 403 ends the attempt.
//! - **The server's word over the local clock**: a solve at or after the deadline returns
//!   [`Error::IntentExpired`] at once, sending nothing; a success that arrives after it
//!   still connects.
//! - **Save and resume**: [`PendingIntent::save`] gives a [`Snapshot`] (versioned JSON, no
//!   secrets) that [`Client::resume`] continues, in another process if need be.
//! - **After connecting**, [`Client::account_status`] reads the account's status
//!   (`OK`, `CONNECTING`, `CREDENTIALS`…).
//! - **Safe by default**: https, or plain http to loopback hosts only (for the
//!   simulator); redirects are never followed, so the API key never reaches another host;
//!   answers over 1 MiB are refused unread.
//!
//! ## Features
//!
//! - `tracing`: the core's `tracing` spans and events (a span per call, an event per
//!   attempt, answer, retry and outcome; never a secret), from the driver loop every call of
//!   the client goes through. Subscribers are the application's.
//!
//! ## Layers
//!
//! [`auth_core`] decides everything and does no IO; [`UreqTransport`] sends its requests
//! and decides nothing; [`Client`] puts the two together with a [`Clock`] through
//! [`auth_core::drive`]. To use another HTTP client, or an async runtime, implement
//! [`auth_core::Transport`] or [`auth_core::AsyncTransport`] and call [`auth_core::drive`] or
//! [`auth_core::drive_async`]: see `examples/async_hyper.rs` and `docs/architecture.md`.
#![forbid(unsafe_code)]

mod builder;
mod client;
mod clock;
mod transport;

pub use auth_client::{BuildError, Exchange, MAX_REQUEST_TIMEOUT, new_idempotency_key};
pub use auth_core;
pub use auth_core::{
    AccountId, AccountStatus, Answer, ApiError, ApiKey, AuthScheme, BaseUrl, BaseUrlError, Checkpoint, Clock,
    Config, ConnectOptions, Credentials, Detection, Error, ErrorType, Fault, IdempotencyKey, Intent,
    IntentDestroyed, IntentExpired, MalformedAnswer, POSTPRESS_BASE_URL, Password, Phase, Problem, Provider,
    Request, Resend, RetryPolicy, Snapshot, Solution, Solved, SourceStatus, TransportError,
    TransportErrorKind, UnixMillis, UsageError,
};
pub use ureq;

pub use crate::builder::ClientBuilder;
pub use crate::client::{Client, Connection, PendingIntent};
pub use crate::clock::SystemClock;
pub use crate::transport::UreqTransport;

/// The `user-agent` every request carries: `auth-ureq/<version>`.
pub const USER_AGENT: &str = concat!("auth-ureq/", env!("CARGO_PKG_VERSION"));

/// The README's examples, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

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
//!             // A wrong code: the intent is still pending, ask again.
//!             Err(e) if e.api_error().is_some_and(|api| api.is_wrong_code()) => continue,
//!             // Expired, destroyed, network…: the error says which, without any secret.
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
//! - **One error type**, [`Error`] (that of [`auth_core`]), split by who is at fault
//!   ([`Error::fault`]): the network ([`Error::Transport`], with a [`TransportErrorKind`]:
//!   connect, timeout, TLS, body too large, redirect refused…), the server's error answers
//!   ([`Error::Api`]: status, `type`, `title`, `detail`), the intent's end
//!   ([`Error::IntentExpired`], [`Error::IntentDestroyed`]), answers outside the contract
//!   ([`Error::Malformed`]), misuse ([`Error::Usage`]). No error's text carries the API
//!   key, a password or a code.
//! - **A wrong code** is [`Error::Api`] with [`ApiError::is_wrong_code`]: the intent is
//!   still pending, solve again.
//! - **Expiry without a wasted round trip**: a solve at or after the deadline returns
//!   [`Error::IntentExpired`] at once, sending nothing.
//! - **Save and resume**: [`PendingIntent::save`] gives a [`Snapshot`] (serde, no
//!   secrets) that [`Client::resume`] continues, in another process if need be.
//! - **Safe by default**: https, or plain http to loopback hosts only (for the
//!   simulator); redirects are never followed, so the API key never reaches another host;
//!   answers over 1 MiB are refused unread.
//!
//! ## Layers
//!
//! [`auth_core`] decides everything and does no IO; [`UreqTransport`] sends its requests
//! and decides nothing; [`Client`] puts the two together with a clock. To use another HTTP
//! client, or an async runtime, drive an [`auth_core::Flow`] yourself: see
//! `examples/async_hyper.rs` and `docs/architecture.md`.
#![forbid(unsafe_code)]

mod builder;
mod client;
mod transport;

pub use auth_core;
pub use auth_core::{
    AccountId, Answer, ApiError, ApiKey, Checkpoint, Config, Credentials, Detection, Error, ErrorType, Fault,
    Intent, IntentDestroyed, IntentExpired, MalformedAnswer, Password, Phase, Provider, Request, Snapshot,
    Solution, TransportError, TransportErrorKind, UnixMillis, UsageError,
};
pub use ureq;

pub use crate::builder::{BuildError, ClientBuilder, POSTPRESS_BASE_URL};
pub use crate::client::{Client, Connection, Exchange, PendingIntent, Solved};
pub use crate::transport::{MAX_REQUEST_TIMEOUT, UreqTransport};

/// The `user-agent` every request carries: `auth-ureq/<version>`.
pub const USER_AGENT: &str = concat!("auth-ureq/", env!("CARGO_PKG_VERSION"));

/// The README's examples, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The top-level README's examples (the library in ten lines, a custom transport, auth-sim
/// in your own tests), compiled and run as doc-tests so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct TopLevelReadmeDoctests;

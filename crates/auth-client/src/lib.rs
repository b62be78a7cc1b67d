//! # auth-client
//!
//! What the two clients of this workspace share, and [`auth_core`] must not hold (the core
//! decides the flow and depends on serde, serde_json and thiserror only): the blocking
//! client (`auth-ureq`) and the async one (`auth-reqwest`) are each a transport and an HTTP
//! stack around the same settings, checks and helpers, kept here once.
//!
//! - [`ClientSettings`]: every setting of a client but its clock, with its defaults, and
//!   [`ClientSettings::check`], the one place they are checked before anything is sent, into
//!   the core's [`Config`](auth_core::Config) and the numbers a transport is built with
//!   ([`CheckedSettings`]). A refusal is a [`BuildError`].
//! - [`client_builder_setters!`]: the setters of each client's `ClientBuilder`, written
//!   once, so that both builders have the same names, arguments and defaults by
//!   construction.
//! - [`Exchange`] and [`Observer`]: what a client's `on_exchange` observer sees of every
//!   attempt.
//! - [`new_idempotency_key`]: 16 random bytes from the operating system per command.
//! - [`connect_again_command`]: the command of a lost connect a snapshot holds, for each
//!   client's `connect_again`.
//! - [`MAX_REQUEST_TIMEOUT`], [`MIN_REQUEST_TIMEOUT`], [`clamped_timeout`] and [`redirect_target`]:
//!   how a transport bounds a request's time budget and shows where a redirect pointed.
//!
//! Each client re-exports what its users name (`BuildError`, `Exchange`,
//! `new_idempotency_key`, `MAX_REQUEST_TIMEOUT`): applications depend on a client, not on
//! this crate.
#![forbid(unsafe_code)]

mod builder;
mod exchange;
mod idempotency_key;
mod lost_connect;
mod settings;
mod transport;

pub use crate::exchange::{Exchange, Observer};
pub use crate::idempotency_key::new_idempotency_key;
pub use crate::lost_connect::connect_again_command;
pub use crate::settings::{BuildError, CheckedSettings, ClientSettings, Target};
pub use crate::transport::{MAX_REQUEST_TIMEOUT, MIN_REQUEST_TIMEOUT, clamped_timeout, redirect_target};

/// What [`client_builder_setters!`] names in the crate that expands it: not an API.
#[doc(hidden)]
pub mod __private {
    pub use auth_core::{ApiKey, AuthScheme, RetryPolicy};
}

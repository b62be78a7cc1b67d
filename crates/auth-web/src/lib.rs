//! # auth-web
//!
//! The Messenger connection form of the postpress / Unipile API, self-hosted: an axum
//! [`router`] that an app mounts under any prefix, and the `postpress-web` server.
//!
//! A person types their Messenger username and password, then a checkpoint's code (or
//! approves in the app) before the five-minute intent runs out, across several HTTP
//! requests that may land on different instances. Between two requests the pending intent
//! lives only as the core's [`Snapshot`](auth_core::Snapshot) in an [`IntentStore`] record,
//! keyed by an unguessable id in an HttpOnly cookie; every request resumes it, acts under a
//! lease, and saves it by compare-and-swap. See `docs/architecture.md`, section "auth-web".
//!
//! ```no_run
//! use auth_web::{FormConfig, MemoryStore};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = FormConfig::new("pp_live_…")
//!     .success_url("/settings/accounts")
//!     .on_connected(|account| async move {
//!         println!("{} connected for {:?}", account.account_id, account.context);
//!     });
//! let app = axum::Router::new().nest("/connect/messenger", auth_web::router(config, MemoryStore::new()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod app;
mod config;
mod form;
mod http;
mod ids;
mod pages;
mod store;

pub use app::router;
pub use config::{ConfigError, ConnectedAccount, CookieSecurity, FormConfig};
pub use ids::{RandomError, SessionId};
pub use store::{
    Action, AnyStore, IntentStore, KeyedAction, Lease, MemoryStore, Notice, Record, RedisStore, SqliteStore,
    Stage, StoreError, StoreFuture, Versioned,
};

/// The names of the form's cookies and its Content-Security-Policy, for tests and proxies.
pub mod wire {
    pub use crate::http::{CONTENT_SECURITY_POLICY, CSRF_COOKIE, SESSION_COOKIE};
}

// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// The top-level README's examples (every crate: the blocking and async clients in ten lines,
// a custom transport, the form, auth-sim in your own tests) are compiled here too, where every
// crate they name is a dependency, so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct TopLevelReadmeDoctests;

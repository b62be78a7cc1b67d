//! A local simulator of the postpress / Unipile account-connection API: a real HTTP server
//! on loopback (HTTP/1.1, and cleartext HTTP/2 for a client that opens with its preface),
//! for tests, demos and users' own integration tests.
//!
//! It serves the contract of `api-contract.md` under both path styles — postpress
//! (`/v1/accounts…`) and Unipile (`/api/v1/accounts…`) — from a [`Fixture`] of accounts
//! and checkpoints. Its intent clock can be driven by hand ([`SimulatorBuilder::manual_clock`],
//! [`Simulator::advance`]) so expiry tests take no wall time; faults (delays, forced
//! statuses, non-JSON bodies, connections closed mid-answer, answers lost after acting…)
//! are fixture fields ([`Fault`]); every request it received is in [`Simulator::requests`].
//!
//! It plays the postpress API as its reference pages describe it: either error envelope
//! ([`ErrorEnvelope`]) with a request id in every error and in the `x-request-id` header;
//! API keys in `X-API-KEY` or `Authorization: Bearer`, with the documented 401 for a
//! missing, unknown, expired or out-of-scope key; `Idempotency-Key` replays; per-key rate
//! limits ([`RateLimit`]); `GET /accounts/{id}` with the account's status. The crate README
//! says which of these behaviours postpress documents and which the simulator infers.
//!
//! The simulator runs its own tokio runtime on its own thread, so it works from plain
//! `#[test]` functions and from inside other async runtimes. Dropping the [`Simulator`]
//! stops it and waits for its thread.
//!
//! ```
//! use auth_sim::{Fixture, Simulator};
//! use std::time::Duration;
//!
//! let sim = Simulator::builder()
//!     .api_key("test-key")
//!     .fixture(Fixture::demo())
//!     .manual_clock()
//!     .start()?;
//!
//! // Any HTTP client works; this one is ureq, reading 4xx bodies instead of failing.
//! let agent: ureq::Agent = ureq::Agent::config_builder()
//!     .http_status_as_error(false)
//!     .build()
//!     .into();
//! let mut answer = agent
//!     .post(&format!("{}/accounts", sim.base_url()))
//!     .header("X-API-KEY", "test-key")
//!     .header("content-type", "application/json")
//!     .send(r#"{"provider":"MESSENGER","username":"bob","password":"pw-b"}"#)?;
//! assert_eq!(answer.status(), 202); // bob has a 2FA checkpoint
//! let body: serde_json::Value = serde_json::from_str(&answer.body_mut().read_to_string()?)?;
//! assert_eq!(body["checkpoint"]["type"], "2FA");
//!
//! // Five minutes pass in no time: the intent has expired.
//! sim.advance(Duration::from_secs(300));
//! let solve = format!(
//!     r#"{{"provider":"MESSENGER","account_id":{},"code":"123456"}}"#,
//!     body["account_id"]
//! );
//! let post_solve = || -> Result<(u16, String), ureq::Error> {
//!     let mut answer = agent
//!         .post(&format!("{}/accounts/checkpoint", sim.base_url()))
//!         .header("X-API-KEY", "test-key")
//!         .header("content-type", "application/json")
//!         .send(&solve)?;
//!     Ok((answer.status().as_u16(), answer.body_mut().read_to_string()?))
//! };
//! let (status, body) = post_solve()?;
//! assert_eq!(status, 408); // the first request after expiry…
//! assert!(body.contains(r#""type":"errors/request_timeout""#));
//! let (status, body) = post_solve()?;
//! assert_eq!(status, 400); // …and every later one: the intent destroyed itself
//! assert!(body.contains(r#""type":"errors/authentication_intent_error""#));
//!
//! assert_eq!(sim.requests().len(), 3);
//! assert_eq!(sim.connections_accepted(), 1); // keep-alive
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod api_keys;
mod body;
mod clock;
mod error_types;
mod fixture;
mod idempotency;
mod ids;
mod log;
mod rate_limit;
mod reply;
mod request;
mod request_id;
mod server;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

pub use crate::fixture::{
    Account, ApiKey, ApiKeyStatus, Checkpoint, ContractOption, DEMO_JSON, Fault, FaultTarget, Fixture,
    FixtureError, IN_APP_VALIDATION, MAX_OVERSIZED_BODY_BYTES, Provider, SourceStatus, TRY_ANOTHER_WAY,
};
pub use crate::log::LoggedRequest;
pub use crate::rate_limit::RateLimit;
pub use crate::reply::ErrorEnvelope;
pub use crate::state::ConnectedAccount;

use crate::api_keys::ApiKeys;
use crate::clock::Clock;
use crate::idempotency::Records;
use crate::log::RequestLog;
use crate::rate_limit::Buckets;
use crate::request_id::RequestIds;
use crate::server::Shared;
use crate::state::{Limits, State};

/// The largest request body the simulator reads (64 KiB); larger ones answer 413.
pub const MAX_REQUEST_BODY_BYTES: usize = server::MAX_BODY_BYTES;

/// Locks a mutex, carrying on past a poisoned lock (the data is plain counters and maps).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Binding the port, or starting the simulator's thread or runtime, failed.
    #[error("cannot start the simulator: {0}")]
    Io(#[from] std::io::Error),
    /// The fixture breaks a rule (see [`Fixture::validate`]).
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// A setting is out of range.
    #[error("invalid simulator setting: {0}")]
    Config(String),
}

/// Settings for a [`Simulator`]; start it with [`SimulatorBuilder::start`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SimulatorBuilder {
    api_keys: Vec<ApiKey>,
    envelope: ErrorEnvelope,
    rate_limit: Option<RateLimit>,
    connecting_for: Duration,
    max_idempotency_records: usize,
    ttl: Duration,
    fixture: Fixture,
    manual_clock: bool,
    port: u16,
    forget_after: Duration,
    max_connections: usize,
    max_streams_per_connection: u32,
    header_read_timeout: Duration,
    max_pending_intents: usize,
    max_connected_accounts: usize,
    request_log_capacity: usize,
    request_log_max_bytes: usize,
    trace_requests: bool,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        SimulatorBuilder {
            api_keys: Vec::new(),
            envelope: ErrorEnvelope::Endpoint,
            rate_limit: None,
            connecting_for: Duration::from_millis(200),
            max_idempotency_records: 1_000_000,
            ttl: Duration::from_secs(300),
            fixture: Fixture::demo(),
            manual_clock: false,
            port: 0,
            forget_after: Duration::from_secs(600),
            max_connections: 10_000,
            max_streams_per_connection: 256,
            header_read_timeout: Duration::from_secs(30),
            max_pending_intents: 100_000,
            max_connected_accounts: 100_000,
            request_log_capacity: 10_000,
            request_log_max_bytes: 64 * 1024 * 1024,
            trace_requests: false,
        }
    }
}

impl SimulatorBuilder {
    /// Adds a valid API key; call it once per key. Requests carry a key in `X-API-KEY` or
    /// `Authorization: Bearer`; once a valid key is declared, any other key answers 401
    /// `errors/invalid_credentials` (default: no key declared, any non-empty key is
    /// accepted). Idempotency records and rate limits are per key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_keys.push(ApiKey::valid(key));
        self
    }

    /// Adds several valid API keys (see [`SimulatorBuilder::api_key`]).
    pub fn api_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.api_keys.extend(keys.into_iter().map(ApiKey::valid));
        self
    }

    /// Declares an expired key: 401 `errors/expired_credentials`.
    pub fn expired_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_keys.push(ApiKey::expired(key));
        self
    }

    /// Declares a key without the scope: 401 `errors/insufficient_privileges`.
    pub fn api_key_without_scope(mut self, key: impl Into<String>) -> Self {
        self.api_keys.push(ApiKey::out_of_scope(key));
        self
    }

    /// The shape of every error body (default [`ErrorEnvelope::Endpoint`]).
    pub fn error_envelope(mut self, envelope: ErrorEnvelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// A token bucket per API key: `per_second` tokens a second, up to `burst`; past it,
    /// requests answer 429 `errors/too_many_requests` with `Retry-After` (default: no
    /// limit). The buckets fill on the simulator's clock, so a manual clock refills them
    /// only with [`Simulator::advance`].
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.rate_limit = Some(RateLimit::new(per_second, burst));
        self
    }

    /// How long a newly connected (or reconnected) account reports `CONNECTING` in
    /// `GET /accounts/{id}` before its settled status (default 200 ms of the simulator's
    /// clock).
    pub fn account_connecting_for(mut self, moment: Duration) -> Self {
        self.connecting_for = moment;
        self
    }

    /// At most this many `Idempotency-Key` records are kept (default 1 000 000); past it
    /// the oldest are forgotten first. Each is otherwise kept for the intent TTL plus
    /// [`SimulatorBuilder::forget_expired_after`] from its answer.
    pub fn max_idempotency_records(mut self, max: usize) -> Self {
        self.max_idempotency_records = max;
        self
    }

    /// How long an intent lives from its 202, across all its checkpoints (default 300 s).
    pub fn intent_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The accounts (default: [`Fixture::demo`]).
    pub fn fixture(mut self, fixture: Fixture) -> Self {
        self.fixture = fixture;
        self
    }

    /// Freezes the intent clock: only [`Simulator::advance`] moves it.
    pub fn manual_clock(mut self) -> Self {
        self.manual_clock = true;
        self
    }

    /// The loopback port (default 0: any free port; read it with [`Simulator::port`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How long after its deadline an intent is forgotten (default 600 s). Until then the
    /// first request against it answers 408 and later ones 400
    /// `errors/authentication_intent_error` (it destroyed itself); after, it is unknown
    /// (400 `errors/invalid_parameters`).
    pub fn forget_expired_after(mut self, after: Duration) -> Self {
        self.forget_after = after;
        self
    }

    /// At most this many connections are served at once (default 10 000); more wait.
    /// `usize::MAX` (or anything above tokio's `Semaphore::MAX_PERMITS`) is no cap.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// At most this many requests are in flight at once on one HTTP/2 connection (default
    /// 256, as large API servers commonly allow; the `SETTINGS_MAX_CONCURRENT_STREAMS` the
    /// simulator announces). A client past it waits for a stream to end. HTTP/1.1
    /// connections carry one request at a time whatever this says.
    pub fn max_streams_per_connection(mut self, max: u32) -> Self {
        self.max_streams_per_connection = max;
        self
    }

    /// How long a client has to send a request's head (default 30 s): from connecting to
    /// its first request, whatever the protocol, and on an HTTP/1.1 keep-alive connection
    /// from the end of one answer to the end of the next request's head. Past it the
    /// connection is closed, so that silent or half-sent connections cannot hold the
    /// [`SimulatorBuilder::max_connections`] places forever. An HTTP/2 connection is
    /// pinged after that long without a frame, and closed if the ping is not answered
    /// within as long. A request held for an in-app approval is not cut by it.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// At most this many intents are kept (default 100 000); past it, connect answers 429.
    pub fn max_pending_intents(mut self, max: usize) -> Self {
        self.max_pending_intents = max;
        self
    }

    /// At most this many connected account ids are remembered for reconnect (default
    /// 100 000); past it the oldest are forgotten.
    pub fn max_connected_accounts(mut self, max: usize) -> Self {
        self.max_connected_accounts = max;
        self
    }

    /// At most this many requests are kept in the log (default 10 000; 0: no log); past
    /// it the oldest are dropped first.
    pub fn request_log_capacity(mut self, capacity: usize) -> Self {
        self.request_log_capacity = capacity;
        self
    }

    /// At most about this many bytes are kept in the log (default 64 MiB; 0: no log),
    /// counting each request's headers, body, method, path and query, and the strings
    /// holding them; past it the oldest requests are dropped first. Requests are logged
    /// before their API key is checked, so this bounds what any client can pin there
    /// (a request over HTTP/1.1 may carry some 400 KB of headers and a 64 KiB body). A
    /// request larger than the whole budget is not logged.
    pub fn request_log_max_bytes(mut self, max_bytes: usize) -> Self {
        self.request_log_max_bytes = max_bytes;
        self
    }

    /// Prints one line per answered request (`METHOD PATH -> STATUS [REQUEST ID]`) on
    /// stderr; never headers (API keys) or bodies (passwords).
    pub fn trace_requests(mut self, on: bool) -> Self {
        self.trace_requests = on;
        self
    }

    /// Binds `127.0.0.1:PORT` and starts serving on the simulator's own thread.
    pub fn start(self) -> Result<Simulator, StartError> {
        self.fixture.validate()?;
        if self.ttl.is_zero() {
            return Err(StartError::Config("the intent TTL must be positive".to_owned()));
        }
        if self.header_read_timeout.is_zero() {
            return Err(StartError::Config(
                "the header read timeout must be positive".to_owned(),
            ));
        }
        if let Some(limit) = &self.rate_limit {
            limit.check().map_err(StartError::Config)?;
        }
        let keys =
            ApiKeys::new(self.api_keys.iter().chain(self.fixture.api_keys())).map_err(StartError::Config)?;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let limits = Limits {
            ttl_ms: ms(self.ttl),
            forget_after_ms: ms(self.forget_after),
            max_intents: self.max_pending_intents,
            max_accounts: self.max_connected_accounts,
            connecting_ms: ms(self.connecting_for),
        };
        let record_lifetime_ms = limits.ttl_ms.saturating_add(limits.forget_after_ms);
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(self.fixture, limits)),
            clock: Clock::new(self.manual_clock),
            log: RequestLog::new(self.request_log_capacity, self.request_log_max_bytes),
            connections: AtomicU64::new(0),
            held: AtomicUsize::new(0),
            keys,
            envelope: self.envelope,
            request_ids: RequestIds::new(),
            records: Records::new(record_lifetime_ms, self.max_idempotency_records),
            buckets: self.rate_limit.map(|limit| Mutex::new(Buckets::new(limit))),
            trace: self.trace_requests,
        });
        let sweep_every = (!self.manual_clock).then(|| Duration::from_secs(1));
        let (stop, stopped) = oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let connection_limits = server::ConnectionLimits {
            max_connections: self.max_connections,
            max_streams: self.max_streams_per_connection,
            header_read_timeout: self.header_read_timeout,
        };
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("auth-sim:{}", addr.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    server::serve(listener, serving, connection_limits, sweep_every, stopped).await;
                });
                // Dropping the runtime here cancels every connection and held request.
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(StartError::Io(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(StartError::Io(std::io::Error::other(
                    "the simulator's thread ended before it was ready",
                )));
            }
        }
        Ok(Simulator {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// A running simulator on `127.0.0.1`. Dropping it stops the server and joins its thread.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Settings, starting from the defaults (demo fixture, any API key, real clock, TTL
    /// 300 s, endpoint error envelope, no rate limit).
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`: the origin, e.g. the "DSN" URL the Unipile SDK takes.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: the postpress-style base URL.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.origin())
    }

    /// `http://127.0.0.1:PORT/api/v1`: the Unipile-style base URL.
    pub fn unipile_base_url(&self) -> String {
        format!("{}/api/v1", self.origin())
    }

    /// Moves the intent clock forward (with a real clock too: time jumps ahead). Held
    /// in-app requests whose moment has come are answered, intents past their deadline
    /// expire, and intents past their grace period are forgotten.
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
        self.shared.sweep();
    }

    /// The simulator's clock: time since start (frozen for a manual clock) plus advances.
    pub fn now(&self) -> Duration {
        Duration::from_millis(self.shared.clock.now_ms())
    }

    /// Every request received so far (oldest first, within the log's capacity and byte
    /// budget: [`SimulatorBuilder::request_log_capacity`], [`SimulatorBuilder::request_log_max_bytes`]).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.snapshot()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// How many TCP connections were accepted since start.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Intents still running: not ended, not past their deadline.
    pub fn pending_intents(&self) -> usize {
        let now = self.shared.clock.now_ms();
        lock(&self.shared.state).pending_intents(now)
    }

    /// Solve requests held open right now, waiting for an in-app approval.
    pub fn held_requests(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// Intents held in memory, including ended or expired ones not yet forgotten.
    pub fn tracked_intents(&self) -> usize {
        lock(&self.shared.state).tracked_intents()
    }

    /// The accounts connected so far (oldest first), by id and username.
    pub fn connected_accounts(&self) -> Vec<ConnectedAccount> {
        lock(&self.shared.state).connected_accounts()
    }

    /// The status `GET /accounts/{account_id}` would report now (`None`: 404, not a
    /// connected account).
    pub fn account_status(&self, account_id: &str) -> Option<SourceStatus> {
        let now = self.shared.clock.now_ms();
        lock(&self.shared.state).account_status(account_id, now)
    }

    /// `Idempotency-Key` records kept right now (answers a retry would get again).
    pub fn idempotency_records(&self) -> usize {
        self.shared.records.len()
    }

    /// Stops the simulator now (the same as dropping it).
    pub fn shutdown(self) {
        drop(self);
    }
}

/// The README's examples, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Simulator>();
        shared::<LoggedRequest>();
        shared::<Fixture>();
    }

    #[test]
    fn a_zero_ttl_or_an_invalid_fixture_does_not_start() {
        let zero = Simulator::builder().intent_ttl(Duration::ZERO).start();
        assert!(matches!(zero, Err(StartError::Config(_))));
        let bad = Fixture::new().account(Account::new("", "pw"));
        let refused = Simulator::builder().fixture(bad).start();
        assert!(matches!(refused, Err(StartError::Fixture(_))));
    }

    #[test]
    fn a_zero_header_read_timeout_does_not_start() {
        let zero = Simulator::builder().header_read_timeout(Duration::ZERO).start();
        assert!(matches!(zero, Err(StartError::Config(_))));
    }

    #[test]
    fn conflicting_keys_or_a_bad_rate_limit_do_not_start() {
        let twice = Simulator::builder()
            .api_key("k")
            .fixture(Fixture::new().api_key(ApiKey::expired("k")))
            .start();
        assert!(matches!(twice, Err(StartError::Config(_))));
        let limit = Simulator::builder().rate_limit(0.0, 1).start();
        assert!(matches!(limit, Err(StartError::Config(_))));
    }

    #[test]
    fn builder_debug_hides_the_api_keys() {
        let builder = Simulator::builder()
            .api_key("sk-visible-1")
            .expired_api_key("sk-visible-2");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("sk-visible"), "{shown}");
    }

    #[test]
    fn a_taken_port_is_an_io_error() {
        let Ok(first) = Simulator::builder().start() else {
            return;
        };
        let second = Simulator::builder().port(first.port()).start();
        assert!(matches!(second, Err(StartError::Io(_))));
    }
}

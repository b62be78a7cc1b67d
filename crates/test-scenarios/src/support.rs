//! What every scenario shares, and every client's own tests may use: simulators, the API
//! key and the secrets, a clock moved by hand, and the checks that no secret leaks.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_core::{AsyncClock, Clock, Connection, Error, TransportErrorKind, UnixMillis};
use auth_sim::{Fixture, Simulator};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver};

/// The API key the simulators expect.
pub const API_KEY: &str = "sk-test-0123456789-secret";

/// Every secret a test may send: API key, passwords, codes.
pub const SECRETS: &[&str] = &[
    API_KEY,
    "pw-a",
    "pw-b",
    "pw-c",
    "pw-d",
    "123456",
    "111111",
    "222222",
    "pw-secret",
    "999999",
];

/// The two path styles of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `http://127.0.0.1:PORT/v1`
    Postpress,
    /// `http://127.0.0.1:PORT/api/v1`
    Unipile,
}

impl Style {
    /// Both styles.
    pub const ALL: [Style; 2] = [Style::Postpress, Style::Unipile];

    /// The simulator's base URL in this style.
    pub fn base_url(self, sim: &Simulator) -> String {
        match self {
            Style::Postpress => sim.base_url(),
            Style::Unipile => sim.unipile_base_url(),
        }
    }

    /// The path the simulator logs for a contract path.
    pub fn path(self, contract_path: &str) -> String {
        match self {
            Style::Postpress => format!("/v1{contract_path}"),
            Style::Unipile => format!("/api/v1{contract_path}"),
        }
    }
}

/// A simulator of `fixture` with a manual clock.
pub fn start_sim(fixture: Fixture) -> Simulator {
    Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .manual_clock()
        .start()
        .unwrap()
}

/// A simulator of the demo fixture with a manual clock.
pub fn demo_sim() -> Simulator {
    start_sim(Fixture::demo())
}

/// A builder for `sim` in `style`, with the right key.
pub fn builder<D: Driver>(sim: &Simulator, style: Style) -> D::Builder {
    D::builder().base_url(style.base_url(sim)).api_key(API_KEY)
}

/// A client for `sim` in `style`, with the right key and a clock of its own (retries cost
/// no real time).
pub fn client<D: Driver>(sim: &Simulator, style: Style) -> D::Client {
    builder::<D>(sim, style)
        .clock(ManualClock::new())
        .build()
        .unwrap()
}

/// Connects `username` with a Messenger password and gives the pending intent; any other
/// outcome fails the test.
pub fn pending<D: Driver>(client: &D::Client, username: &str, password: &str) -> D::Intent {
    match client.connect_messenger(username, password).unwrap() {
        Connection::Pending(intent) => intent,
        other => panic!("expected a checkpoint for {username}, got {other:?}"),
    }
}

/// A client of `sim` on a [`ManualClock`], and the pending intent of `username` it started:
/// the clock is the test's to move.
pub fn pending_on_a_manual_clock<D: Driver>(
    sim: &Simulator,
    style: Style,
    username: &str,
    password: &str,
) -> (ManualClock, D::Client, D::Intent) {
    let clock = ManualClock::new();
    let client = builder::<D>(sim, style).clock(clock.clone()).build().unwrap();
    let intent = pending::<D>(&client, username, password);
    (clock, client, intent)
}

/// A clock that moves only when told to, or when the client waits on it for a retry: its
/// `sleep_until` moves it to that moment at once, so no test sleeps for a retry. A blocking
/// [`Clock`] and an [`AsyncClock`] alike.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        ManualClock::now(self)
    }

    fn sleep_until(&self, at: UnixMillis) {
        self.0.fetch_max(at.as_millis(), Ordering::SeqCst);
    }
}

impl AsyncClock for ManualClock {
    fn now(&self) -> UnixMillis {
        ManualClock::now(self)
    }

    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send {
        Clock::sleep_until(self, at);
        std::future::ready(())
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// Where every manual clock starts.
    pub const START: u64 = 1_700_000_000_000;

    /// A clock at [`START`](Self::START).
    pub fn new() -> Self {
        Self(Arc::new(AtomicU64::new(Self::START)))
    }

    /// Its time.
    pub fn now(&self) -> UnixMillis {
        UnixMillis::from_millis(self.0.load(Ordering::SeqCst))
    }

    /// Moves it forward.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap();
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// How far the clock has moved since it started.
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::SeqCst) - Self::START)
    }
}

/// Asserts that no secret is in the error's text, its `Debug`, or any of its sources.
pub fn assert_no_secret(error: &Error) {
    let mut texts = vec![error.to_string(), format!("{error:?}"), format!("{error:#?}")];
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        texts.push(inner.to_string());
        texts.push(format!("{inner:?}"));
        source = inner.source();
    }
    for text in &texts {
        for secret in SECRETS {
            assert!(!text.contains(secret), "secret {secret:?} leaked into {text:?}");
        }
    }
}

/// Unwraps an error, checking it carries no secret.
pub fn expect_err<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    let error = result.expect_err("expected an error");
    assert_no_secret(&error);
    error
}

/// The kind of a transport error; any other error fails the test.
pub fn transport_kind(error: &Error) -> TransportErrorKind {
    match error {
        Error::Transport(transport) => transport.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// The `Idempotency-Key` of each request the simulator received on a path ending with
/// `suffix`, in order.
pub fn keys_sent_to(sim: &Simulator, suffix: &str) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .map(|r| {
            r.header("idempotency-key")
                .expect("an Idempotency-Key")
                .to_owned()
        })
        .collect()
}

/// How long [`wait_until`] waits at most.
pub const WAIT_PATIENCE: Duration = Duration::from_secs(10);

/// Waits (polling) until `condition` holds, at most [`WAIT_PATIENCE`]: for a request to
/// reach the simulator before the test acts. Not a timed assertion: it fails only if the
/// condition never comes.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < WAIT_PATIENCE, "{what} never happened");
        std::thread::sleep(Duration::from_millis(2));
    }
}

//! What every test file of this crate shares: simulators, clients, a clock moved by hand,
//! and the check that no secret leaks into an error.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::future::Future;

use auth_core::{AsyncClock, Error, UnixMillis};
use auth_reqwest::{Client, ClientBuilder};
use auth_sim::{Fixture, Simulator};

/// The API key the simulators expect.
pub(crate) const API_KEY: &str = "sk-test-0123456789-secret";

/// Every secret a test may send: API key, passwords, codes.
pub(crate) const SECRETS: &[&str] = &[
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
pub(crate) enum Style {
    /// `http://127.0.0.1:PORT/v1`
    Postpress,
    /// `http://127.0.0.1:PORT/api/v1`
    Unipile,
}

impl Style {
    pub(crate) const ALL: [Style; 2] = [Style::Postpress, Style::Unipile];

    pub(crate) fn base_url(self, sim: &Simulator) -> String {
        match self {
            Style::Postpress => sim.base_url(),
            Style::Unipile => sim.unipile_base_url(),
        }
    }

    /// The path the simulator logs for a contract path.
    pub(crate) fn path(self, contract_path: &str) -> String {
        match self {
            Style::Postpress => format!("/v1{contract_path}"),
            Style::Unipile => format!("/api/v1{contract_path}"),
        }
    }
}

/// A simulator of `fixture` with a manual clock.
pub(crate) fn start_sim(fixture: Fixture) -> Simulator {
    Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .manual_clock()
        .start()
        .unwrap()
}

/// A simulator of the demo fixture with a manual clock.
pub(crate) fn demo_sim() -> Simulator {
    start_sim(Fixture::demo())
}

/// A builder for `sim` in `style`, with the right key.
pub(crate) fn builder(sim: &Simulator, style: Style) -> ClientBuilder {
    Client::builder().base_url(style.base_url(sim)).api_key(API_KEY)
}

/// A client for `sim` in `style`, with the right key and a clock of its own (retries cost
/// no real time).
pub(crate) fn client(sim: &Simulator, style: Style) -> Client {
    builder(sim, style).clock(ManualClock::new()).build().unwrap()
}

/// A clock that moves only when told to, or when the client waits on it for a retry: its
/// `sleep_until` moves it to that moment at once, so no test sleeps for a retry.
#[derive(Debug, Clone)]
pub(crate) struct ManualClock(Arc<AtomicU64>);

impl AsyncClock for ManualClock {
    fn now(&self) -> UnixMillis {
        ManualClock::now(self)
    }

    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send {
        self.0.fetch_max(at.as_millis(), Ordering::SeqCst);
        std::future::ready(())
    }
}

impl ManualClock {
    pub(crate) const START: u64 = 1_700_000_000_000;

    pub(crate) fn new() -> Self {
        Self(Arc::new(AtomicU64::new(Self::START)))
    }

    pub(crate) fn now(&self) -> UnixMillis {
        UnixMillis::from_millis(self.0.load(Ordering::SeqCst))
    }

    pub(crate) fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap();
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// How far the clock has moved since it started.
    pub(crate) fn elapsed(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::SeqCst) - Self::START)
    }
}

/// Asserts that no secret is in the error's text, its `Debug`, or any of its sources.
pub(crate) fn assert_no_secret(error: &Error) {
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
pub(crate) fn expect_err<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    let error = result.expect_err("expected an error");
    assert_no_secret(&error);
    error
}

/// Waits (polling, on tokio's timer) until `condition` holds, at most ten seconds: for a
/// request to reach the simulator before the test acts. Not a timed assertion: it fails only
/// if the condition never comes.
pub(crate) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits for a scripted server to finish, off the runtime's threads: the client's
/// connections are closed by tasks of the runtime, which must go on running meanwhile.
pub(crate) async fn finished(server: auth_test_servers::ScriptedServer) -> Vec<auth_test_servers::Served> {
    tokio::task::spawn_blocking(move || server.finish())
        .await
        .unwrap()
}

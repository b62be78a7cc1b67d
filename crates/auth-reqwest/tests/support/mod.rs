//! What the async client's own tests (cancellation, `Send + 'static` futures, tracing) share:
//! the shared support of `auth-test-scenarios`, this client's builder and client on a
//! simulator, and a wait on tokio's timer.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    reason = "each test binary uses part of it"
)]

use std::time::Duration;

use auth_reqwest::{Client, ClientBuilder};
use auth_sim::Simulator;
pub(crate) use auth_test_scenarios::support::{ManualClock, Style, start_sim};

/// A builder for `sim` in `style`, with the right key.
pub(crate) fn builder(sim: &Simulator, style: Style) -> ClientBuilder {
    Client::builder()
        .base_url(style.base_url(sim))
        .api_key(auth_test_scenarios::support::API_KEY)
}

/// A client for `sim` in `style`, with the right key and a clock of its own (retries cost
/// no real time).
pub(crate) fn client(sim: &Simulator, style: Style) -> Client {
    builder(sim, style).clock(ManualClock::new()).build().unwrap()
}

/// Waits (polling, on tokio's timer) until `condition` holds, at most ten seconds: for a
/// request to reach the simulator before the test acts. Not a timed assertion: it fails only
/// if the condition never comes.
pub(crate) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < auth_test_scenarios::support::WAIT_PATIENCE,
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

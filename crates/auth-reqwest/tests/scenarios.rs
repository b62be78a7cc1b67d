//! The scenarios every client of this workspace runs (`auth-test-scenarios`: the contract,
//! faults, answers at the wire, flows, hostile servers, transport security, the builder,
//! the `_with_key` calls), against the async client: each call of the driver blocks on the
//! client's future, on the scenario's tokio runtime.
#![allow(clippy::expect_used, reason = "tests fail loudly")]

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use auth_core::{
    AccountId, AccountStatus, Answer, Command, Connection, Credentials, Error, Event, Flow, IdempotencyKey,
    Request, Resend, Snapshot, Solution, Solved, TransportError,
};
use auth_reqwest::{Client, ClientBuilder, PendingIntent};
use auth_test_scenarios::driver::{ClientUnderTest, Driver, IntentUnderTest};
use tokio::runtime::Runtime;

/// Scenarios run one at a time in this binary, each on its own runtime.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The runtime of the scenario that runs now.
static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);

/// Runs `future` to its end on the scenario's runtime, from whichever thread the scenario
/// calls (a solve held on one thread while the test approves it from another).
fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = RUNTIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .expect("a scenario's runtime");
    runtime.block_on(future)
}

/// Clears the scenario's runtime when the scenario ends, passed or failed.
struct ScenarioRuntime;

impl Drop for ScenarioRuntime {
    fn drop(&mut self) {
        RUNTIME.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
}

/// The async client, each call blocked on.
struct Reqwest;

impl Driver for Reqwest {
    const NAME: &'static str = "auth-reqwest";
    const USER_AGENT: &'static str = auth_reqwest::USER_AGENT;
    const TLS_HELLO_OFFERS_HTTP_1_1: bool = true;
    type Builder = ClientBuilder;
    type Client = Client;
    type Intent = PendingIntent;

    fn builder() -> ClientBuilder {
        Client::builder()
    }

    /// A fresh current-thread runtime per scenario, as `#[tokio::test]` gives each test: a
    /// flow's calls and the tasks of the client's pool run on one thread, in order (so a
    /// sequential flow finds its kept-alive connection back in the pool, as an async flow
    /// on one task does), and nothing is left over from another scenario. One scenario at a
    /// time, so that no other test's calls drive it.
    fn run_scenario(scenario: fn()) {
        let _one_at_a_time = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        *RUNTIME.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(runtime));
        let _cleared = ScenarioRuntime;
        scenario();
    }

    /// The wait on a thread of the runtime's blocking pool, while the runtime goes on (the
    /// client's connections are closed by its tasks).
    fn wait<T: Send + 'static>(blocking: impl FnOnce() -> T + Send + 'static) -> T {
        block_on(async move { tokio::task::spawn_blocking(blocking).await }).expect("the wait ran to its end")
    }
}

auth_test_scenarios::builder_under_test!(Reqwest, ClientBuilder);

impl ClientUnderTest<Reqwest> for Client {
    auth_test_scenarios::client_accessors_under_test!(Reqwest);

    fn connect_messenger(&self, username: &str, password: &str) -> Result<Connection<PendingIntent>, Error> {
        block_on(Client::connect_messenger(self, username, password))
    }

    fn connect(&self, credentials: Credentials) -> Result<Connection<PendingIntent>, Error> {
        block_on(Client::connect(self, credentials))
    }

    fn connect_with_key(
        &self,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection<PendingIntent>, Error> {
        block_on(Client::connect_with_key(self, credentials, key))
    }

    fn reconnect_account(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
    ) -> Result<Connection<PendingIntent>, Error> {
        block_on(Client::reconnect_account(self, account_id.into(), credentials))
    }

    fn reconnect_account_with_key(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection<PendingIntent>, Error> {
        block_on(Client::reconnect_account_with_key(
            self,
            account_id.into(),
            credentials,
            key,
        ))
    }

    fn connect_again(
        &self,
        saved: Snapshot,
        credentials: Credentials,
    ) -> Result<Connection<PendingIntent>, Error> {
        block_on(Client::connect_again(self, saved, credentials))
    }

    fn account_status(&self, account_id: impl Into<AccountId>) -> Result<AccountStatus, Error> {
        block_on(Client::account_status(self, account_id.into()))
    }

    fn execute(&self, request: &Request) -> Result<Answer, TransportError> {
        block_on(self.transport().execute(request))
    }

    fn drive(&self, flow: &mut Flow, command: Command, key: IdempotencyKey) -> Result<Event, Error> {
        block_on(auth_core::drive_async(
            flow,
            &mut self.transport(),
            self.clock(),
            command,
            key,
        ))
    }
}

impl IntentUnderTest<Reqwest> for PendingIntent {
    auth_test_scenarios::intent_accessors_under_test!();

    fn solve_code_checkpoint(&mut self, code: &str) -> Result<Solved, Error> {
        block_on(PendingIntent::solve_code_checkpoint(self, code))
    }

    fn solve(&mut self, solution: Solution) -> Result<Solved, Error> {
        block_on(PendingIntent::solve(self, solution))
    }

    fn solve_with_key(&mut self, solution: Solution, key: IdempotencyKey) -> Result<Solved, Error> {
        block_on(PendingIntent::solve_with_key(self, solution, key))
    }

    fn solve_in_app(&mut self) -> Result<Solved, Error> {
        block_on(PendingIntent::solve_in_app(self))
    }

    fn try_another_way(&mut self) -> Result<Solved, Error> {
        block_on(PendingIntent::try_another_way(self))
    }

    fn resend_checkpoint(&mut self) -> Result<Resend, Error> {
        block_on(PendingIntent::resend_checkpoint(self))
    }

    fn resend_checkpoint_with_key(&mut self, key: IdempotencyKey) -> Result<Resend, Error> {
        block_on(PendingIntent::resend_checkpoint_with_key(self, key))
    }
}

auth_test_scenarios::scenarios!(Reqwest);

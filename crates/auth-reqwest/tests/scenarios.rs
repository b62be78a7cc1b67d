//! The scenarios every client of this workspace runs (`auth-test-scenarios`: the contract,
//! faults, answers at the wire, flows, hostile servers, transport security, the builder,
//! the `_with_key` calls), against the async client: each call of the driver blocks on the
//! client's future, on one tokio runtime.
#![allow(clippy::expect_used, reason = "tests fail loudly")]

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use auth_core::{
    AccountId, AccountStatus, Answer, BaseUrl, Checkpoint, Command, Config, Connection, Credentials, Error,
    Event, Flow, IdempotencyKey, Intent, Phase, Request, Resend, Snapshot, Solution, Solved, TransportError,
    UnixMillis,
};
use auth_reqwest::{Client, ClientBuilder, PendingIntent};
use auth_test_scenarios::driver::{ClientUnderTest, Driver, IntentUnderTest};

/// The runtime every call runs on. Multi-threaded, so that the tasks of the client's pool
/// (its connections, and their closing) go on between two calls, and while a scenario waits
/// for a scripted server to finish; `block_on` may be called from several threads at once
/// (a scenario solving in the app on one thread while another approves).
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.block_on(future)
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
}

auth_test_scenarios::builder_under_test!(Reqwest, ClientBuilder);

impl ClientUnderTest<Reqwest> for Client {
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

    fn account_status(&self, account_id: impl Into<AccountId>) -> Result<AccountStatus, Error> {
        block_on(Client::account_status(self, account_id.into()))
    }

    fn resume(&self, saved: Snapshot) -> Result<PendingIntent, Error> {
        Client::resume(self, saved)
    }

    fn base_url(&self) -> &BaseUrl {
        Client::base_url(self)
    }

    fn config(&self) -> &Config {
        Client::config(self)
    }

    fn is_sandbox(&self) -> bool {
        Client::is_sandbox(self)
    }

    fn now(&self) -> UnixMillis {
        Client::now(self)
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
    fn account_id(&self) -> &AccountId {
        PendingIntent::account_id(self)
    }

    fn checkpoint(&self) -> &Checkpoint {
        PendingIntent::checkpoint(self)
    }

    fn intent(&self) -> &Intent {
        PendingIntent::intent(self)
    }

    fn deadline(&self) -> UnixMillis {
        PendingIntent::deadline(self)
    }

    fn remaining(&self) -> Duration {
        PendingIntent::remaining(self)
    }

    fn is_pending(&self) -> bool {
        PendingIntent::is_pending(self)
    }

    fn phase(&self) -> Phase {
        PendingIntent::phase(self)
    }

    fn tick(&mut self) -> Result<(), Error> {
        PendingIntent::tick(self)
    }

    fn save(&self) -> Snapshot {
        PendingIntent::save(self)
    }

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

//! The scenarios every client of this workspace runs (`auth-test-scenarios`: the contract,
//! faults, answers at the wire, flows, hostile servers, transport security, the builder,
//! the `_with_key` calls), against the blocking client: each call of the driver is the
//! client's own, as it is.

use auth_core::{
    AccountId, AccountStatus, Answer, Command, Connection, Credentials, Error, Event, Flow, IdempotencyKey,
    Request, Resend, Snapshot, Solution, Solved, TransportError,
};
use auth_test_scenarios::driver::{ClientUnderTest, Driver, IntentUnderTest};
use auth_ureq::{Client, ClientBuilder, PendingIntent};

/// The blocking client, driven directly.
struct Ureq;

impl Driver for Ureq {
    const NAME: &'static str = "auth-ureq";
    const USER_AGENT: &'static str = auth_ureq::USER_AGENT;
    const TLS_HELLO_OFFERS_HTTP_1_1: bool = false;
    type Builder = ClientBuilder;
    type Client = Client;
    type Intent = PendingIntent;

    fn builder() -> ClientBuilder {
        Client::builder()
    }
}

auth_test_scenarios::builder_under_test!(Ureq, ClientBuilder);

impl ClientUnderTest<Ureq> for Client {
    auth_test_scenarios::client_accessors_under_test!(Ureq);

    fn connect_messenger(&self, username: &str, password: &str) -> Result<Connection<PendingIntent>, Error> {
        Client::connect_messenger(self, username, password)
    }

    fn connect(&self, credentials: Credentials) -> Result<Connection<PendingIntent>, Error> {
        Client::connect(self, credentials)
    }

    fn connect_with_key(
        &self,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection<PendingIntent>, Error> {
        Client::connect_with_key(self, credentials, key)
    }

    fn reconnect_account(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
    ) -> Result<Connection<PendingIntent>, Error> {
        Client::reconnect_account(self, account_id, credentials)
    }

    fn reconnect_account_with_key(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection<PendingIntent>, Error> {
        Client::reconnect_account_with_key(self, account_id, credentials, key)
    }

    fn connect_again(
        &self,
        saved: Snapshot,
        credentials: Credentials,
    ) -> Result<Connection<PendingIntent>, Error> {
        Client::connect_again(self, saved, credentials)
    }

    fn account_status(&self, account_id: impl Into<AccountId>) -> Result<AccountStatus, Error> {
        Client::account_status(self, account_id)
    }

    fn execute(&self, request: &Request) -> Result<Answer, TransportError> {
        self.transport().execute(request)
    }

    fn drive(&self, flow: &mut Flow, command: Command, key: IdempotencyKey) -> Result<Event, Error> {
        auth_core::drive(flow, &mut self.transport(), self.clock(), command, key)
    }
}

impl IntentUnderTest<Ureq> for PendingIntent {
    auth_test_scenarios::intent_accessors_under_test!();

    fn solve_code_checkpoint(&mut self, code: &str) -> Result<Solved, Error> {
        PendingIntent::solve_code_checkpoint(self, code)
    }

    fn solve(&mut self, solution: Solution) -> Result<Solved, Error> {
        PendingIntent::solve(self, solution)
    }

    fn solve_with_key(&mut self, solution: Solution, key: IdempotencyKey) -> Result<Solved, Error> {
        PendingIntent::solve_with_key(self, solution, key)
    }

    fn solve_in_app(&mut self) -> Result<Solved, Error> {
        PendingIntent::solve_in_app(self)
    }

    fn try_another_way(&mut self) -> Result<Solved, Error> {
        PendingIntent::try_another_way(self)
    }

    fn resend_checkpoint(&mut self) -> Result<Resend, Error> {
        PendingIntent::resend_checkpoint(self)
    }

    fn resend_checkpoint_with_key(&mut self, key: IdempotencyKey) -> Result<Resend, Error> {
        PendingIntent::resend_checkpoint_with_key(self, key)
    }
}

auth_test_scenarios::scenarios!(Ureq);

//! The driver trait: what a scenario asks of a client, as blocking calls.
//!
//! Three traits, one per type of a client's API, each generic over the client's [`Driver`]
//! (a marker type of the client's test crate, which lets that crate implement them for the
//! client's own types). A blocking client implements each call as its own; an async one
//! blocks on its future. Every method is the client's public method of the same name,
//! with the same arguments and results.

use std::fmt::Debug;
use std::time::Duration;

use auth_client::{BuildError, Exchange};
use auth_core::{
    AccountId, AccountStatus, Answer, ApiKey, AuthScheme, BaseUrl, Checkpoint, Command, Config, Connection,
    Credentials, Error, Event, Flow, IdempotencyKey, Intent, Phase, Request, Resend, RetryPolicy, Snapshot,
    Solution, Solved, TransportError, UnixMillis,
};

use crate::support::ManualClock;

/// A client under test: its crate's types, and what tells one client from another.
pub trait Driver: Sized + 'static {
    /// The client crate's name: `auth-ureq`.
    const NAME: &'static str;
    /// The `user-agent` its requests carry (the crate's `USER_AGENT`).
    const USER_AGENT: &'static str;
    /// Whether its TLS hello offers `http/1.1` by ALPN (reqwest's does, ureq's does not):
    /// the only place the protocol's name may appear in clear.
    const TLS_HELLO_OFFERS_HTTP_1_1: bool;
    /// Its `ClientBuilder`.
    type Builder: BuilderUnderTest<Self>;
    /// Its `Client`.
    type Client: ClientUnderTest<Self>;
    /// Its `PendingIntent`.
    type Intent: IntentUnderTest<Self>;

    /// `Client::builder()`.
    fn builder() -> Self::Builder;

    /// Runs one scenario (each `#[test]` of [`scenarios!`](crate::scenarios) calls this): as
    /// it is by default. An async client's driver gives each scenario a runtime of its own
    /// here.
    fn run_scenario(scenario: fn()) {
        scenario();
    }

    /// Waits for `blocking` (a scripted server finishing, which may wait for the client to
    /// close a connection) while the client's background work goes on: as it is by default,
    /// for a blocking client, whose calls leave nothing running when they return; an async
    /// client's connections are closed by tasks of its runtime, which must run meanwhile.
    fn wait<T: Send + 'static>(blocking: impl FnOnce() -> T + Send + 'static) -> T {
        blocking()
    }
}

/// A client's `ClientBuilder`: the setters of `auth_client::client_builder_setters!`, the
/// clock (a [`ManualClock`], which is both a blocking and an async clock) and `build`.
pub trait BuilderUnderTest<D: Driver>: Sized + Debug {
    /// `.postpress()`
    fn postpress(self) -> Self;
    /// `.unipile(dsn)`
    fn unipile(self, dsn: &str) -> Self;
    /// `.base_url(url)`
    fn base_url(self, url: impl Into<String>) -> Self;
    /// `.api_key(key)`
    fn api_key(self, key: impl Into<ApiKey>) -> Self;
    /// `.auth_scheme(scheme)`
    fn auth_scheme(self, scheme: AuthScheme) -> Self;
    /// `.retry_policy(policy)`
    fn retry_policy(self, policy: RetryPolicy) -> Self;
    /// `.connect_timeout(timeout)`
    fn connect_timeout(self, timeout: Duration) -> Self;
    /// `.request_timeout(timeout)`
    fn request_timeout(self, timeout: Duration) -> Self;
    /// `.intent_ttl(ttl)`
    fn intent_ttl(self, ttl: Duration) -> Self;
    /// `.max_answer_bytes(max)`
    fn max_answer_bytes(self, max: u64) -> Self;
    /// `.allow_insecure_http(yes)`
    fn allow_insecure_http(self, yes: bool) -> Self;
    /// `.on_exchange(observer)`
    fn on_exchange(self, observer: impl Fn(&Exchange<'_>) + Send + Sync + 'static) -> Self;
    /// `.clock(clock)`
    fn clock(self, clock: ManualClock) -> Self;
    /// `.build()`
    fn build(self) -> Result<D::Client, BuildError>;
}

/// A client's `Client`, its calls blocking until they end.
pub trait ClientUnderTest<D: Driver>: Clone + Debug + Send + Sync {
    /// `client.connect_messenger(username, password)`
    fn connect_messenger(&self, username: &str, password: &str) -> Result<Connection<D::Intent>, Error>;
    /// `client.connect(credentials)`
    fn connect(&self, credentials: Credentials) -> Result<Connection<D::Intent>, Error>;
    /// `client.connect_with_key(credentials, key)`
    fn connect_with_key(
        &self,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection<D::Intent>, Error>;
    /// `client.reconnect_account(account_id, credentials)`
    fn reconnect_account(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
    ) -> Result<Connection<D::Intent>, Error>;
    /// `client.reconnect_account_with_key(account_id, credentials, key)`
    fn reconnect_account_with_key(
        &self,
        account_id: impl Into<AccountId>,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection<D::Intent>, Error>;
    /// `client.connect_again(saved, credentials)`
    fn connect_again(
        &self,
        saved: Snapshot,
        credentials: Credentials,
    ) -> Result<Connection<D::Intent>, Error>;
    /// `client.account_status(account_id)`
    fn account_status(&self, account_id: impl Into<AccountId>) -> Result<AccountStatus, Error>;
    /// `client.resume(saved)`
    fn resume(&self, saved: Snapshot) -> Result<D::Intent, Error>;
    /// `client.base_url()`
    fn base_url(&self) -> &BaseUrl;
    /// `client.config()`
    fn config(&self) -> &Config;
    /// `client.is_sandbox()`
    fn is_sandbox(&self) -> bool;
    /// `client.now()`
    fn now(&self) -> UnixMillis;
    /// `client.transport().execute(request)`: one request through the client's raw
    /// transport.
    fn execute(&self, request: &Request) -> Result<Answer, TransportError>;
    /// The core's driver loop (`auth_core::drive`, or `drive_async`) over
    /// `client.transport()` and `client.clock()`: a flow driven by hand.
    fn drive(&self, flow: &mut Flow, command: Command, key: IdempotencyKey) -> Result<Event, Error>;
}

/// A client's `PendingIntent`, its calls blocking until they end.
pub trait IntentUnderTest<D: Driver>: Debug + Send {
    /// `intent.account_id()`
    fn account_id(&self) -> &AccountId;
    /// `intent.checkpoint()`
    fn checkpoint(&self) -> &Checkpoint;
    /// `intent.intent()`
    fn intent(&self) -> &Intent;
    /// `intent.deadline()`
    fn deadline(&self) -> UnixMillis;
    /// `intent.remaining()`
    fn remaining(&self) -> Duration;
    /// `intent.is_pending()`
    fn is_pending(&self) -> bool;
    /// `intent.phase()`
    fn phase(&self) -> Phase;
    /// `intent.tick()`
    fn tick(&mut self) -> Result<(), Error>;
    /// `intent.save()`
    fn save(&self) -> Snapshot;
    /// `intent.solve_code_checkpoint(code)`
    fn solve_code_checkpoint(&mut self, code: &str) -> Result<Solved, Error>;
    /// `intent.solve(solution)`
    fn solve(&mut self, solution: Solution) -> Result<Solved, Error>;
    /// `intent.solve_with_key(solution, key)`
    fn solve_with_key(&mut self, solution: Solution, key: IdempotencyKey) -> Result<Solved, Error>;
    /// `intent.solve_in_app()`
    fn solve_in_app(&mut self) -> Result<Solved, Error>;
    /// `intent.try_another_way()`
    fn try_another_way(&mut self) -> Result<Solved, Error>;
    /// `intent.resend_checkpoint()`
    fn resend_checkpoint(&mut self) -> Result<Resend, Error>;
    /// `intent.resend_checkpoint_with_key(key)`
    fn resend_checkpoint_with_key(&mut self, key: IdempotencyKey) -> Result<Resend, Error>;
}

/// Implements [`BuilderUnderTest`] for a client's `ClientBuilder`: every setter is
/// `auth_client::client_builder_setters!`'s, so their adapter is written once too.
///
/// `builder_under_test!(Ureq, auth_ureq::ClientBuilder)` in the client's test crate, where
/// `Ureq` is its [`Driver`].
#[macro_export]
macro_rules! builder_under_test {
    ($driver:ty, $builder:ty) => {
        impl $crate::driver::BuilderUnderTest<$driver> for $builder {
            fn postpress(self) -> Self {
                <$builder>::postpress(self)
            }
            fn unipile(self, dsn: &str) -> Self {
                <$builder>::unipile(self, dsn)
            }
            fn base_url(self, url: impl Into<String>) -> Self {
                <$builder>::base_url(self, url)
            }
            fn api_key(self, key: impl Into<$crate::__private::ApiKey>) -> Self {
                <$builder>::api_key(self, key)
            }
            fn auth_scheme(self, scheme: $crate::__private::AuthScheme) -> Self {
                <$builder>::auth_scheme(self, scheme)
            }
            fn retry_policy(self, policy: $crate::__private::RetryPolicy) -> Self {
                <$builder>::retry_policy(self, policy)
            }
            fn connect_timeout(self, timeout: ::std::time::Duration) -> Self {
                <$builder>::connect_timeout(self, timeout)
            }
            fn request_timeout(self, timeout: ::std::time::Duration) -> Self {
                <$builder>::request_timeout(self, timeout)
            }
            fn intent_ttl(self, ttl: ::std::time::Duration) -> Self {
                <$builder>::intent_ttl(self, ttl)
            }
            fn max_answer_bytes(self, max: u64) -> Self {
                <$builder>::max_answer_bytes(self, max)
            }
            fn allow_insecure_http(self, yes: bool) -> Self {
                <$builder>::allow_insecure_http(self, yes)
            }
            fn on_exchange(
                self,
                observer: impl Fn(&$crate::__private::Exchange<'_>) + Send + Sync + 'static,
            ) -> Self {
                <$builder>::on_exchange(self, observer)
            }
            fn clock(self, clock: $crate::support::ManualClock) -> Self {
                <$builder>::clock(self, clock)
            }
            fn build(
                self,
            ) -> Result<<$driver as $crate::driver::Driver>::Client, $crate::__private::BuildError> {
                <$builder>::build(self)
            }
        }
    };
}

/// The methods of [`ClientUnderTest`] that send nothing (`resume`, `base_url`, `config`,
/// `is_sandbox`, `now`): the same synchronous calls in every client, so their adapter is
/// written once. Expanded inside the client's `impl ClientUnderTest<Driver> for Client`
/// (`client_accessors_under_test!(Driver);`), which adds the calls that send.
#[macro_export]
macro_rules! client_accessors_under_test {
    ($driver:ty) => {
        fn resume(
            &self,
            saved: $crate::__private::Snapshot,
        ) -> Result<<$driver as $crate::driver::Driver>::Intent, $crate::__private::Error> {
            Self::resume(self, saved)
        }
        fn base_url(&self) -> &$crate::__private::BaseUrl {
            Self::base_url(self)
        }
        fn config(&self) -> &$crate::__private::Config {
            Self::config(self)
        }
        fn is_sandbox(&self) -> bool {
            Self::is_sandbox(self)
        }
        fn now(&self) -> $crate::__private::UnixMillis {
            Self::now(self)
        }
    };
}

/// The methods of [`IntentUnderTest`] that send nothing (`account_id`, `checkpoint`,
/// `intent`, `deadline`, `remaining`, `is_pending`, `phase`, `tick`, `save`): the same
/// synchronous calls in every client, so their adapter is written once. Expanded inside
/// the client's `impl IntentUnderTest<Driver> for PendingIntent`
/// (`intent_accessors_under_test!();`), which adds the calls that send.
#[macro_export]
macro_rules! intent_accessors_under_test {
    () => {
        fn account_id(&self) -> &$crate::__private::AccountId {
            Self::account_id(self)
        }
        fn checkpoint(&self) -> &$crate::__private::Checkpoint {
            Self::checkpoint(self)
        }
        fn intent(&self) -> &$crate::__private::Intent {
            Self::intent(self)
        }
        fn deadline(&self) -> $crate::__private::UnixMillis {
            Self::deadline(self)
        }
        fn remaining(&self) -> ::std::time::Duration {
            Self::remaining(self)
        }
        fn is_pending(&self) -> bool {
            Self::is_pending(self)
        }
        fn phase(&self) -> $crate::__private::Phase {
            Self::phase(self)
        }
        fn tick(&mut self) -> Result<(), $crate::__private::Error> {
            Self::tick(self)
        }
        fn save(&self) -> $crate::__private::Snapshot {
            Self::save(self)
        }
    };
}

//! The driver loop, written once for blocking drivers and once for async ones: feed an
//! input, do what the output says (send, or sleep until a retry), until an event or an error.
//! With the `tracing` feature, both tell a subscriber each step (`observe.rs`).

use std::future::Future;

use crate::answer::Answer;
use crate::error::{Error, TransportError, UsageError};
use crate::flow::Flow;
use crate::idempotency::IdempotencyKey;
use crate::input::{Command, Input};
use crate::observe::Observer;
use crate::output::{Event, Output};
use crate::request::Request;
use crate::time::UnixMillis;

/// Sends one request and waits for its answer, no longer than [`Request::timeout`].
///
/// Every status is an answer, 4xx and 5xx included: only a failure to get an answer at
/// all (connection refused, timeout, broken connection…) is a [`TransportError`].
/// Implemented for closures, so a custom transport is a few lines:
///
/// ```
/// use auth_core::{Answer, Request, Transport, TransportError};
/// let mut transport = |request: &Request| -> Result<Answer, TransportError> {
///     // Send `request` with any HTTP client here.
///     Ok(Answer::new(201, r#"{"object":"AccountCreated","account_id":"a1"}"#))
/// };
/// # fn check(_: &mut impl Transport) {}
/// check(&mut transport);
/// ```
pub trait Transport {
    /// Sends `request` and returns its answer.
    fn send(&mut self, request: &Request) -> Result<Answer, TransportError>;
}

impl<F> Transport for F
where
    F: FnMut(&Request) -> Result<Answer, TransportError>,
{
    fn send(&mut self, request: &Request) -> Result<Answer, TransportError> {
        self(request)
    }
}

/// The driver's clock: the time, and a way to wait for a moment (a retry's).
///
/// The machine never reads a clock; the drive loop reads this one before each input. A test
/// clock can move time by hand in `sleep_until` instead of sleeping.
pub trait Clock {
    /// The wall-clock time now.
    fn now(&self) -> UnixMillis;
    /// Returns once `at` has come (at once if it has).
    fn sleep_until(&self, at: UnixMillis);
}

/// The async twin of [`Transport`]: its futures are `Send`, so a driver on tokio (or any
/// runtime) can spawn them.
pub trait AsyncTransport: Send {
    /// Sends `request` and returns its answer.
    fn send(&mut self, request: &Request) -> impl Future<Output = Result<Answer, TransportError>> + Send;
}

/// The async twin of [`Clock`].
pub trait AsyncClock: Sync {
    /// The wall-clock time now.
    fn now(&self) -> UnixMillis;
    /// Completes once `at` has come.
    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send;
}

/// Runs one command to its end through a blocking transport: sends its request, sends it
/// again when the retry policy says so (sleeping on `clock` in between), and returns the
/// event or the error it led to. This is the whole driver loop.
///
/// ```
/// use auth_core::{drive, Answer, Clock, Command, Config, Credentials, Event, Flow, IdempotencyKey, Request, TransportError, UnixMillis};
///
/// struct Frozen;
/// impl Clock for Frozen {
///     fn now(&self) -> UnixMillis { UnixMillis::from_millis(1_000) }
///     fn sleep_until(&self, _: UnixMillis) {}
/// }
///
/// let mut flow = Flow::new(Config::new("key"));
/// let mut server = |request: &Request| -> Result<Answer, TransportError> {
///     assert_eq!(request.path, "/accounts");
///     Ok(Answer::new(201, r#"{"object":"AccountCreated","account_id":"a1"}"#))
/// };
/// let connect = Command::Connect(Credentials::messenger("alice", "pw"));
/// let event = drive(&mut flow, &mut server, &Frozen, connect, IdempotencyKey::from_random_bytes([1; 16]))?;
/// assert_eq!(event, Event::Connected { account_id: "a1".into(), after_deadline: false });
/// # Ok::<(), auth_core::Error>(())
/// ```
pub fn drive<T, C>(
    flow: &mut Flow,
    transport: &mut T,
    clock: &C,
    command: Command,
    key: IdempotencyKey,
) -> Result<Event, Error>
where
    T: Transport + ?Sized,
    C: Clock + ?Sized,
{
    let observer = Observer::start(flow, &command);
    let guard = AbandonOnDrop(flow);
    let mut input = Input::command(command, key);
    loop {
        let output = guard.0.handle(clock.now(), input);
        observer.output(&output);
        input = match output {
            Output::Send(request) => {
                observer.sending(&request);
                let result = transport.send(&request);
                observer.answered(guard.0, &result);
                result.into()
            }
            Output::Retry(retry) => {
                clock.sleep_until(retry.at);
                Input::Tick
            }
            Output::Wait(Some(at)) => {
                clock.sleep_until(at);
                Input::Tick
            }
            Output::Wait(None) => return Err(UsageError::NoRequestInFlight.into()),
            Output::Event(event) => return Ok(event),
            Output::Error(error) => return Err(error),
        };
    }
}

/// Runs one command to its end through an async transport: [`drive`], awaiting.
///
/// Cancel-safe: if the future is dropped while a request is out (a timeout, a `select!`, a
/// user who closed the page), the flow is told the request was abandoned. A pending intent
/// stays pending, and the same command sends the request again with the same idempotency
/// key, so a server that acted on it answers what it answered then.
pub async fn drive_async<T, C>(
    flow: &mut Flow,
    transport: &mut T,
    clock: &C,
    command: Command,
    key: IdempotencyKey,
) -> Result<Event, Error>
where
    T: AsyncTransport + ?Sized,
    C: AsyncClock + ?Sized,
{
    let observer = Observer::start(flow, &command);
    let guard = AbandonOnDrop(flow);
    let mut input = Input::command(command, key);
    loop {
        let output = guard.0.handle(clock.now(), input);
        observer.output(&output);
        input = match output {
            Output::Send(request) => {
                observer.sending(&request);
                let result = transport.send(&request).await;
                observer.answered(guard.0, &result);
                result.into()
            }
            Output::Retry(retry) => {
                clock.sleep_until(retry.at).await;
                Input::Tick
            }
            Output::Wait(Some(at)) => {
                clock.sleep_until(at).await;
                Input::Tick
            }
            Output::Wait(None) => return Err(UsageError::NoRequestInFlight.into()),
            Output::Event(event) => return Ok(event),
            Output::Error(error) => return Err(error),
        };
    }
}

/// Tells the flow its request out was abandoned when the loop ends without an answer to it
/// (a dropped future, a panic in a transport).
struct AbandonOnDrop<'a>(&'a mut Flow);

impl Drop for AbandonOnDrop<'_> {
    fn drop(&mut self) {
        if self.0.phase().is_in_flight() {
            let now = self.0.latest_now();
            let _ = self.0.handle(now, Input::Abandoned);
        }
    }
}

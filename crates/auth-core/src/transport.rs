//! The seam to IO: a transport sends a [`Request`] and brings back its [`Answer`].

use crate::error::{Error, TransportError};
use crate::flow::{Command, Event, Flow};
use crate::http::{Answer, Request};
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
///
/// An async transport does not implement this trait: it calls [`Flow::begin`],
/// awaits its own client, then [`Flow::handle_answer`], as [`drive`] does here.
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

/// Runs one command through a transport: builds its request, sends it, reads the answer.
///
/// `clock` gives the wall-clock time each time it is called: once before the request is
/// sent, once after its answer (or failure) arrived. This is the whole driver loop of the
/// common case; drivers with other needs call the three steps themselves.
///
/// ```
/// use auth_core::{drive, Answer, Command, Config, Credentials, Event, Flow, Request, TransportError, UnixMillis};
///
/// let mut flow = Flow::new(Config::new("key"));
/// let mut server = |request: &Request| -> Result<Answer, TransportError> {
///     assert_eq!(request.path, "/accounts");
///     Ok(Answer::new(201, r#"{"object":"AccountCreated","account_id":"a1"}"#))
/// };
/// let mut clock = || UnixMillis::from_millis(1_000);
/// let event = drive(&mut flow, &mut server, &mut clock, Command::Connect(Credentials::messenger("alice", "pw")))?;
/// assert_eq!(event, Event::Connected { account_id: "a1".into() });
/// # Ok::<(), auth_core::Error>(())
/// ```
pub fn drive<T, C>(
    flow: &mut Flow,
    transport: &mut T,
    clock: &mut C,
    command: Command,
) -> Result<Event, Error>
where
    T: Transport + ?Sized,
    C: FnMut() -> UnixMillis + ?Sized,
{
    let request = flow.begin(clock(), command)?;
    match transport.send(&request) {
        Ok(answer) => flow.handle_answer(clock(), &answer),
        Err(error) => Err(flow.handle_transport_error(clock(), error)),
    }
}

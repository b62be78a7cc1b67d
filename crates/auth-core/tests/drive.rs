//! The driver loop, written once for blocking and once for async drivers: it sends, sleeps
//! until a retry, and ends at an event or an error; the async one is cancel-safe and `Send`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use auth_core::{
    Answer, AsyncClock, AsyncTransport, Clock, Command, Config, Error, Event, Flow, Phase, Request,
    RetryPolicy, Solution, TransportError, TransportErrorKind, UnixMillis, drive, drive_async,
};
use support::*;

/// A clock moved by hand: sleeping moves it.
struct HandClock(Cell<u64>);

impl Clock for HandClock {
    fn now(&self) -> UnixMillis {
        at(self.0.get())
    }
    fn sleep_until(&self, until: UnixMillis) {
        self.0.set(self.0.get().max(until.as_millis()));
    }
}

fn retrying() -> Config {
    Config::new(API_KEY).with_retry_policy(RetryPolicy::default().with_max_attempts(4))
}

#[test]
fn the_blocking_loop_retries_with_one_key_sleeping_on_the_clock() {
    let clock = HandClock(Cell::new(1_000));
    let answers = RefCell::new(vec![
        Err(TransportError::new(TransportErrorKind::Io, "reset")),
        Ok(Answer::new(503, "")),
        Ok(created("acc-1")),
    ]);
    let keys = RefCell::new(Vec::new());
    let mut transport = |request: &Request| -> Result<Answer, TransportError> {
        keys.borrow_mut()
            .push((request.idempotency_key, request.attempt, clock.0.get()));
        answers.borrow_mut().remove(0)
    };
    let mut flow = Flow::new(retrying());
    let event = drive(&mut flow, &mut transport, &clock, connect_messenger(), key(1)).unwrap();
    assert!(matches!(event, Event::Connected { .. }));
    let keys = keys.into_inner();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|(k, _, _)| *k == Some(key(1))),
        "one key: {keys:?}"
    );
    assert_eq!(
        keys.iter().map(|(_, attempt, _)| *attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        keys[1].2 > keys[0].2 && keys[2].2 > keys[1].2,
        "it slept between attempts: {keys:?}"
    );
}

#[test]
fn the_blocking_loop_ends_with_the_error_when_the_retries_are_spent() {
    let clock = HandClock(Cell::new(0));
    let mut transport = |_: &Request| -> Result<Answer, TransportError> {
        Err(TransportError::new(TransportErrorKind::Connect, "refused"))
    };
    let mut flow = Flow::new(retrying());
    let error = drive(&mut flow, &mut transport, &clock, connect_messenger(), key(1)).unwrap_err();
    assert!(matches!(error, Error::Transport(_)));
    assert_eq!(flow.phase(), Phase::Idle);
    assert!(flow.unsettled().is_some(), "kept for the same command");
}

/// An async clock moved by hand, shared with the test.
struct AsyncHandClock(AtomicU64);

impl AsyncClock for AsyncHandClock {
    fn now(&self) -> UnixMillis {
        at(self.0.load(Ordering::SeqCst))
    }
    fn sleep_until(&self, until: UnixMillis) -> impl Future<Output = ()> + Send {
        self.0.fetch_max(until.as_millis(), Ordering::SeqCst);
        std::future::ready(())
    }
}

/// A transport whose answers are scripted; `None` never answers (a held request).
struct Scripted(
    Mutex<Vec<Option<Result<Answer, TransportError>>>>,
    Mutex<Vec<Request>>,
);

impl AsyncTransport for Scripted {
    fn send(&mut self, request: &Request) -> impl Future<Output = Result<Answer, TransportError>> + Send {
        self.1.lock().unwrap().push(request.clone());
        let next = self.0.lock().unwrap().remove(0);
        async move {
            match next {
                Some(answer) => answer,
                None => std::future::pending().await,
            }
        }
    }
}

/// Polls a future once with a waker that does nothing.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs a future that never waits to its end.
fn ready<F: Future>(future: F) -> F::Output {
    match poll_once(pin!(future)) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

#[test]
fn the_async_loop_is_the_blocking_loop_awaited() {
    let clock = AsyncHandClock(AtomicU64::new(0));
    let mut transport = Scripted(
        Mutex::new(vec![
            Some(Ok(
                error(429, "errors/too_many_requests").with_header("Retry-After", "2")
            )),
            Some(Ok(created("acc-1"))),
        ]),
        Mutex::new(Vec::new()),
    );
    let mut flow = Flow::new(retrying());
    let event = ready(drive_async(
        &mut flow,
        &mut transport,
        &clock,
        connect_messenger(),
        key(1),
    ))
    .unwrap();
    assert!(matches!(event, Event::Connected { .. }));
    assert_eq!(clock.0.load(Ordering::SeqCst), 2_000, "it waited for Retry-After");
    let sent = transport.1.into_inner().unwrap();
    assert_eq!(sent[0].idempotency_key, sent[1].idempotency_key);
}

#[test]
fn dropping_the_async_loop_mid_request_leaves_the_intent_pending_and_retryable_with_its_key() {
    let (harness, _) = pending(0);
    let mut flow = Flow::resume(retrying(), harness.flow.snapshot());
    let clock = AsyncHandClock(AtomicU64::new(1_000));
    let mut transport = Scripted(
        Mutex::new(vec![None, Some(Ok(created("acc-1")))]),
        Mutex::new(Vec::new()),
    );
    {
        let future = pin!(drive_async(
            &mut flow,
            &mut transport,
            &clock,
            Command::Solve(Solution::InAppValidation),
            key(5)
        ));
        assert!(poll_once(future).is_pending(), "the server holds the request");
        // The future is dropped here: a user closed the page, a timeout fired.
    }
    assert_eq!(
        flow.phase(),
        Phase::AwaitingCheckpoint,
        "the intent is pending again"
    );
    assert_eq!(flow.unsettled().map(|u| u.key), Some(key(5)));
    // The same command, with a fresh key given, sends the request again with its own.
    let event = ready(drive_async(
        &mut flow,
        &mut transport,
        &clock,
        Command::Solve(Solution::InAppValidation),
        key(6),
    ));
    assert!(matches!(event.unwrap(), Event::Connected { .. }));
    let sent = transport.1.into_inner().unwrap();
    assert_eq!(
        (sent[0].idempotency_key, sent[1].idempotency_key),
        (Some(key(5)), Some(key(5)))
    );
}

/// The async loop's future is `Send` when its inputs are: it runs in `tokio::spawn`.
#[test]
fn the_async_loops_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let mut flow = Flow::new(retrying());
    let mut transport = Scripted(Mutex::new(Vec::new()), Mutex::new(Vec::new()));
    let clock = AsyncHandClock(AtomicU64::new(0));
    let future = drive_async(&mut flow, &mut transport, &clock, connect_messenger(), key(1));
    assert_send(&future);
    let _ = Duration::ZERO;
}

//! With the `tracing` feature, the driver loops tell a subscriber every step: the command,
//! provider, account id, checkpoint type, status, request id and retries. A subscriber that
//! captures everything it receives (spans, fields, messages, at every level) finds no
//! password, code, proxy password or API key, with random secrets echoed by the server.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::cell::Cell;
use std::io::Write;
use std::sync::{Arc, Mutex};

use auth_core::{
    Answer, Clock, Command, Config, ConnectOptions, Credentials, Flow, Proxy, Request, RetryPolicy, Solution,
    TransportError, TransportErrorKind, UnixMillis, drive,
};
use proptest::prelude::*;
use support::*;

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct HandClock(Cell<u64>);

impl Clock for HandClock {
    fn now(&self) -> UnixMillis {
        at(self.0.get())
    }
    fn sleep_until(&self, until: UnixMillis) {
        self.0.set(self.0.get().max(until.as_millis()));
    }
}

/// Runs `run` with a subscriber that captures everything (every level, every span event),
/// and returns its result and what the subscriber wrote.
fn captured_while<T>(run: impl FnOnce() -> T) -> (T, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, run);
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    (result, text)
}

/// A server that gives `answers` in turn, then no answer at all.
fn scripted(answers: Vec<Answer>) -> impl FnMut(&Request) -> Result<Answer, TransportError> {
    let mut answers = answers.into_iter();
    move |_: &Request| {
        answers
            .next()
            .ok_or_else(|| TransportError::new(TransportErrorKind::Io, "no more"))
    }
}

/// Runs a whole flow (a wrong password, a checkpoint, a 503 retried, a wrong code, the
/// right one) through `drive`, with a server that echoes every secret, and returns what a
/// subscriber received.
fn traced_flow(api_key: &str, password: &str, proxy_password: &str, code: &str) -> String {
    let ((), text) = captured_while(|| {
        // The server echoes every secret it has been sent so far.
        let echo = |status: u16, kind: &str, code: &str| {
            let body = serde_json::json!({"status": status, "type": kind, "title": format!("{password} {code} {api_key} {proxy_password}"), "instance": "req-echo"});
            // The header echoes them too: the `answered` event shows it before the flow reads it.
            Answer::new(status, body.to_string()).with_header(
                "x-request-id",
                format!("req-echo {password} {code} {api_key} {proxy_password}"),
            )
        };
        let mut server = scripted(vec![
            echo(401, "errors/invalid_credentials", ""),
            two_factor("acc-42").with_header("x-request-id", "req-202"),
            echo(503, "errors/unavailable", code),
            echo(401, "errors/invalid_checkpoint_solution", code),
            created("acc-42"),
        ]);
        let clock = HandClock(Cell::new(1_000));
        let config = Config::new(api_key).with_retry_policy(RetryPolicy::default().with_max_attempts(2));
        let credentials = Credentials::messenger("bob", password)
            .with_options(ConnectOptions::new().proxy(Proxy::new("proxy", 3128).auth("u", proxy_password)));
        let mut flow = Flow::new(config);
        let _ = drive(
            &mut flow,
            &mut server,
            &clock,
            Command::Connect(credentials.clone()),
            key(1),
        );
        let _ = drive(
            &mut flow,
            &mut server,
            &clock,
            Command::Connect(credentials),
            key(2),
        );
        let _ = drive(
            &mut flow,
            &mut server,
            &clock,
            Command::Solve(Solution::code(code)),
            key(3),
        );
        let _ = drive(
            &mut flow,
            &mut server,
            &clock,
            Command::Solve(Solution::code(code)),
            key(4),
        );
    });
    text
}

#[test]
fn every_step_is_told_with_what_support_needs() {
    let text = traced_flow(API_KEY, PASSWORD, "proxy-pw-1", "123456");
    for expected in [
        "command=\"connect\"",
        "provider=\"MESSENGER\"",
        "account_id=\"acc-42\"",
        "checkpoint=\"2FA\"",
        "status=202",
        "request_id=\"req-202\"",
        "request_id=\"req-echo\"",
        "retrying",
        "attempt=2",
        "connected",
        "fault=User",
    ] {
        assert!(text.contains(expected), "{expected} is missing from:\n{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_secret_reaches_a_subscriber(
        api_key in "[!-~]{10,24}",
        password in "[!-~]{10,24}",
        proxy_password in "[!-~]{10,24}",
        code in "[0-9a-z]{10,16}",
    ) {
        let text = traced_flow(&api_key, &password, &proxy_password, &code);
        prop_assert!(text.contains("connected"), "the flow ran: {text}");
        for secret in [&api_key, &password, &proxy_password, &code] {
            prop_assert!(!text.contains(secret.as_str()), "{secret:?} reached the subscriber:\n{text}");
        }
    }
}

/// A flow resumed in another process never held the connect's password, so it cannot take
/// it out of a later answer's text: the events then show no free text of the server's at
/// all (its status, type and request id only). The error returned keeps the text.
#[test]
fn a_resumed_flow_tells_no_free_text_of_the_server_to_a_subscriber() {
    let (harness, _) = pending(0);
    let snapshot = harness.flow.snapshot();
    let echo = format!("login bob/{PASSWORD} refused");
    let (returned, text) = captured_while(|| {
        let mut flow = Flow::resume(config(), snapshot);
        let mut server = scripted(vec![
            // A validation error (the intent lives on), then one that destroys the intent.
            Answer::new(
                400,
                serde_json::json!({"status": 400, "type": "errors/invalid_parameters", "title": echo, "detail": echo, "instance": "req-echo"})
                    .to_string(),
            ),
            // The echo in the request id too, in the body and the header.
            Answer::new(
                500,
                serde_json::json!({"status": 500, "type": "errors/authentication_intent_error", "detail": echo, "instance": echo})
                    .to_string(),
            )
            .with_header("x-request-id", &echo),
        ]);
        let clock = HandClock(Cell::new(1_000));
        let first = drive(
            &mut flow,
            &mut server,
            &clock,
            Command::Solve(Solution::code("1")),
            key(7),
        );
        let second = drive(
            &mut flow,
            &mut server,
            &clock,
            Command::Solve(Solution::code("2")),
            key(8),
        );
        format!("{} {}", first.unwrap_err(), second.unwrap_err())
    });
    assert!(
        returned.contains(PASSWORD),
        "the caller's error keeps the text: {returned}"
    );
    for expected in [
        "the API answered 400 errors/invalid_parameters",
        "request_id=\"req-echo\"",
        "destroyed on the server: the API answered 500",
    ] {
        assert!(text.contains(expected), "{expected} is missing from:\n{text}");
    }
    assert!(
        !text.contains(PASSWORD),
        "the password reached the subscriber:\n{text}"
    );
}

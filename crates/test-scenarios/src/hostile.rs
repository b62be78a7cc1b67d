//! A hostile server at the socket level (the shared servers of `auth-test-servers`, not the
//! simulator): a raw TCP listener that reads the request and then misbehaves. Against each
//! misbehaviour the client must end in a typed error within its request timeout, read a
//! bounded amount, send the API key nowhere else, and leave a pending intent pending and
//! resumable.
//!
//! Every elapsed-time assertion here is a liveness bound (`timeout + LIVENESS_MARGIN`,
//! several seconds of slack), not a performance measurement: it fails only if the client
//! waits for the server instead of its own budget, however slow the machine.

use std::time::{Duration, Instant};

use auth_core::{
    Connection, Error, MalformedAnswer, Phase, RetryPolicy, Snapshot, Solved, TransportErrorKind,
};
use auth_test_servers::{
    Behaviour as Misbehaviour, FLOOD, RedirectTrap, ScriptedServer as HostileServer, Served, answer,
};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver, IntentUnderTest};
use crate::support::{API_KEY, assert_no_secret, expect_err, pending, transport_kind};

/// The client's request timeout in every test.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Slack on top of [`TIMEOUT`] for a slow or busy machine: the bound proves the client gave
/// up on its own budget, it does not time anything.
const LIVENESS_MARGIN: Duration = Duration::from_secs(5);

const ACCOUNT: &str = "acc-hostile-1";
const USERNAME: &str = "erin";
const PASSWORD: &str = "pw-secret";
const CODE: &str = "123456";

/// The 202 of a connect: a valid checkpoint, so that the client holds a real pending intent.
fn checkpoint_202() -> Misbehaviour {
    let body = format!(r#"{{"object":"Checkpoint","account_id":"{ACCOUNT}","checkpoint":{{"type":"2FA"}}}}"#);
    Misbehaviour::Answer(answer(202, "application/json", body.as_bytes()))
}

/// The 201 of a well-behaved server: the account is connected.
fn account_created_201() -> Misbehaviour {
    let body = format!(r#"{{"object":"AccountCreated","account_id":"{ACCOUNT}"}}"#);
    Misbehaviour::Answer(answer(201, "application/json", body.as_bytes()))
}

/// A client that sends each request once: each misbehaviour is met alone (the server serves
/// one per connection; [`answers`](crate::answers) shows the retries).
fn client_for<D: Driver>(server: &HostileServer) -> D::Client {
    D::builder()
        .base_url(server.base_url())
        .api_key(API_KEY)
        .request_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
}

/// The liveness bound: the client answered on its own budget, not the server's.
fn assert_bounded(elapsed: Duration) {
    assert!(
        elapsed < TIMEOUT + LIVENESS_MARGIN,
        "the client took {elapsed:?}, past its {TIMEOUT:?} timeout and the {LIVENESS_MARGIN:?} margin"
    );
}

/// Connects through a server whose first connection misbehaves: the typed error, and what
/// the server saw.
fn connect_against<D: Driver>(misbehaviour: Misbehaviour) -> (Error, Vec<Served>) {
    let server = HostileServer::start(vec![misbehaviour]).unwrap();
    let client = client_for::<D>(&server);
    let started = Instant::now();
    let error = expect_err(client.connect_messenger(USERNAME, PASSWORD));
    assert_bounded(started.elapsed());
    (error, D::wait(move || server.finish()))
}

/// A real pending intent (the server's first answer is a valid 202), then a solve that
/// meets `misbehaviour`. Checks that the intent is still pending and resumes elsewhere;
/// returns the solve's error and what the server saw (`[connect, solve]`).
fn solve_against<D: Driver>(misbehaviour: Misbehaviour) -> (Error, Vec<Served>) {
    let server = HostileServer::start(vec![checkpoint_202(), misbehaviour]).unwrap();
    let client = client_for::<D>(&server);
    let mut intent = pending::<D>(&client, USERNAME, PASSWORD);
    let started = Instant::now();
    let error = expect_err(intent.solve_code_checkpoint(CODE));
    assert_bounded(started.elapsed());
    assert_still_pending_and_resumable::<D>(&intent);
    let served = D::wait(move || server.finish());
    assert_eq!(served.len(), 2, "{served:?}");
    (error, served)
}

/// The intent is pending, unchanged, and a new client on a well-behaved server resumes
/// its saved form and connects it.
fn assert_still_pending_and_resumable<D: Driver>(intent: &D::Intent) {
    assert!(intent.is_pending(), "{intent:?}");
    assert_eq!(intent.phase(), Phase::AwaitingCheckpoint);
    assert_eq!(intent.account_id().as_str(), ACCOUNT);
    assert_resumes::<D>(intent.save());
}

fn assert_resumes<D: Driver>(saved: Snapshot) {
    let good = HostileServer::start(vec![account_created_201()]).unwrap();
    let client = client_for::<D>(&good);
    let mut resumed = client.resume(saved).unwrap();
    assert!(resumed.is_pending());
    assert_eq!(
        resumed.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected {
            account_id: ACCOUNT.into()
        }
    );
    let served = D::wait(move || good.finish());
    let request = served[0].request_text();
    assert!(
        request.starts_with("POST /v1/accounts/checkpoint HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains(&format!(r#""account_id":"{ACCOUNT}""#)),
        "{request}"
    );
}

/// An answer trickled past the timeout is a `Timeout`, and the intent stays pending.
pub fn an_answer_trickled_past_the_timeout_is_a_timeout_and_the_intent_stays_pending<D: Driver>() {
    let body = format!(r#"{{"object":"AccountCreated","account_id":"{ACCOUNT}"}}"#);
    // At 100 ms a byte, each answer would take seconds past the 1 s timeout to arrive.
    let every = Duration::from_millis(100);
    // The status line and headers trickled: the client never sees a status.
    let (error, served) = solve_against::<D>(Misbehaviour::trickle(
        answer(201, "application/json", body.as_bytes()),
        every,
    ));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
    assert!(served[1].client_hung_up(), "{:?}", served[1]);
    // The head at once, then a declared body trickled: the budget covers the body too.
    let head = format!(
        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len() * 4
    );
    let (error, served) = solve_against::<D>(Misbehaviour::Trickle {
        bytes: [head.as_bytes(), &body.repeat(4).into_bytes()].concat(),
        every,
    });
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
    assert!(served[1].client_hung_up(), "{:?}", served[1]);
    assert!(served[1].written < (head.len() + body.len() * 4) as u64);
    // On a connect, the same: a timeout, and nothing is pending.
    let (error, _) = connect_against::<D>(Misbehaviour::trickle(
        answer(201, "application/json", body.as_bytes()),
        every,
    ));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
}

/// A declared length, then a close: an `Io` error, and the intent stays pending.
pub fn a_declared_length_then_a_close_is_an_io_error_and_the_intent_stays_pending<D: Driver>() {
    for sent in [0, 1, 30] {
        let created = br#"{"object":"AccountCreated","account_id":"acc"}"#;
        let (error, served) = solve_against::<D>(Misbehaviour::length_then_close(201, 500, &created[..sent]));
        assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{sent}: {error}");
        assert!(
            served[1]
                .request_text()
                .starts_with("POST /v1/accounts/checkpoint "),
            "the solve reached the server"
        );
    }
}

/// A 64 MiB body is refused at the limit and never read whole.
pub fn a_64_mib_body_is_refused_at_the_limit_and_never_read_whole<D: Driver>() {
    for (what, flood) in [
        ("declared", Misbehaviour::flood_declared(202)),
        ("chunked", Misbehaviour::flood_chunked(202)),
        ("read to the close", Misbehaviour::flood_to_the_close(202)),
    ] {
        let (error, served) = solve_against::<D>(flood.clone());
        assert_eq!(
            transport_kind(&error),
            TransportErrorKind::BodyTooLarge,
            "{what}: {error}"
        );
        // The client stopped at its limit (1 MiB) and closed the connection: the server could
        // not push the 64 MiB (what it did write sits in the two sockets' kernel buffers).
        let flood_served = &served[1];
        assert!(flood_served.client_hung_up(), "{what}: {flood_served:?}");
        assert!(flood_served.written < FLOOD, "{what}: {flood_served:?}");
        eprintln!(
            "{what}: the server wrote {} KiB of the 64 MiB before the client hung up",
            flood_served.written >> 10
        );
        // On a connect, the same.
        let (error, served) = connect_against::<D>(flood);
        assert_eq!(transport_kind(&error), TransportErrorKind::BodyTooLarge);
        assert!(served[0].client_hung_up() && served[0].written < FLOOD, "{what}");
    }
}

/// Invalid UTF-8 is a typed error, and the intent stays pending.
pub fn invalid_utf8_is_a_typed_error_and_the_intent_stays_pending<D: Driver>() {
    // A success answer with invalid UTF-8 inside a JSON string: outside the contract.
    let (error, _) = solve_against::<D>(Misbehaviour::invalid_utf8_body(201, "AccountCreated"));
    let Error::Malformed(malformed) = &error else {
        panic!("expected malformed, got {error:?}");
    };
    assert_eq!(malformed.status, 201);
    assert!(malformed.excerpt.contains('\u{fffd}'), "{malformed:?}");

    // An error answer that is invalid UTF-8: an API error keeping the status and an excerpt.
    let (error, _) = solve_against::<D>(Misbehaviour::Answer(answer(
        401,
        "application/json",
        b"\xff\xfe{\"type\":\"errors/invalid_checkpoint_solution\"}",
    )));
    let api = error.api_error().expect("an API error");
    assert_eq!((api.status, api.kind.as_ref()), (401, None));
    assert!(
        api.excerpt.as_deref().unwrap_or_default().contains('\u{fffd}'),
        "{api:?}"
    );

    // Invalid UTF-8 in a header value of a valid answer: read, and the answer is used.
    let created = format!(r#"{{"object":"AccountCreated","account_id":"{ACCOUNT}"}}"#);
    let mut bytes = format!(
        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nx-note: caf\u{e9}\r\ncontent-length: {}\r\nconnection: close\r\n",
        created.len()
    )
    .into_bytes();
    bytes.extend_from_slice(b"x-raw: \xff\xfe\r\n\r\n");
    bytes.extend_from_slice(created.as_bytes());
    let server = HostileServer::start(vec![Misbehaviour::Answer(bytes)]).unwrap();
    match client_for::<D>(&server)
        .connect_messenger(USERNAME, PASSWORD)
        .unwrap()
    {
        Connection::Connected { account_id } => assert_eq!(account_id.as_str(), ACCOUNT),
        other => panic!("unexpected {other:?}"),
    }
    D::wait(move || server.finish());
}

/// A body that is not JSON under a JSON content type is a typed error.
pub fn a_body_that_is_not_json_under_a_json_content_type_is_a_typed_error<D: Driver>() {
    let nested = format!("{{\"object\":{}", "[".repeat(100_000));
    for (status, body) in [
        (
            202,
            "<html><body>Service temporarily unavailable</body></html>".to_owned(),
        ),
        (201, r#"{"object":"AccountCreated","account_id":"#.to_owned()),
        (201, "null".to_owned()),
        (202, r#"[{"object":"Checkpoint"}]"#.to_owned()),
        (201, String::new()),
        // Deeper than any parser's recursion limit: refused, not a stack overflow.
        (201, nested.clone()),
    ] {
        let (error, _) = solve_against::<D>(Misbehaviour::Answer(answer(
            status,
            "application/json; charset=utf-8",
            body.as_bytes(),
        )));
        let Error::Malformed(malformed) = &error else {
            panic!("{status} {:.40}: expected malformed, got {error:?}", body);
        };
        assert_eq!(malformed.status, status);
        assert!(malformed.excerpt.len() <= MalformedAnswer::EXCERPT_LIMIT);
    }
    // An error status with such a body: an API error that keeps the status and an excerpt,
    // and a 500 without the contract's type does not destroy the intent.
    for (status, body) in [(500, "<html>oops</html>".to_owned()), (401, nested)] {
        let (error, _) = solve_against::<D>(Misbehaviour::Answer(answer(
            status,
            "application/problem+json",
            body.as_bytes(),
        )));
        let api = error.api_error().expect("an API error");
        assert!(matches!(error, Error::Api(_)), "{error:?}");
        assert_eq!((api.status, api.kind.as_ref()), (status, None));
        assert!(api.excerpt.is_some());
    }
}

/// Broken chunked encoding is an `Io` error, and the intent stays pending.
pub fn broken_chunked_encoding_is_an_io_error_and_the_intent_stays_pending<D: Driver>() {
    let created = r#"{"object":"AccountCreated","account_id":"acc"}"#;
    for (what, chunks) in [
        (
            "a chunk size that is not hex",
            format!("zz\r\n{created}\r\n0\r\n\r\n"),
        ),
        (
            "a chunk size that overflows 64 bits",
            format!("1ffffffffffffffff\r\n{created}\r\n0\r\n\r\n"),
        ),
        ("a chunk cut short by the close", format!("1000\r\n{created}")),
        (
            "no last chunk before the close",
            format!("{:x}\r\n{created}\r\n", created.len()),
        ),
        (
            "chunk data longer than its size",
            format!("4\r\n{created}\r\n0\r\n\r\n"),
        ),
    ] {
        let (error, _) = solve_against::<D>(Misbehaviour::broken_chunked(201, &chunks));
        assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{what}: {error}");
    }
}

/// An HTTP/1.0 answer without a length is read to the close, and bounded.
pub fn an_http_1_0_answer_without_a_length_is_read_to_the_close_and_bounded<D: Driver>() {
    let created = format!(r#"{{"object":"AccountCreated","account_id":"{ACCOUNT}"}}"#);
    // Closed after the body: the body ends at the close, as HTTP/1.0 says, and is read.
    let server = HostileServer::start(vec![
        checkpoint_202(),
        Misbehaviour::http_1_0(201, created.as_bytes()),
    ])
    .unwrap();
    let client = client_for::<D>(&server);
    let mut intent = pending::<D>(&client, USERNAME, PASSWORD);
    assert_eq!(
        intent.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected {
            account_id: ACCOUNT.into()
        }
    );
    assert!(!intent.is_pending());
    D::wait(move || server.finish());

    // Never closed: the body has no end the client could see, so its budget ends it.
    let (error, served) = solve_against::<D>(Misbehaviour::http_1_0_never_closed(201, created.as_bytes()));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
    assert!(served[1].client_closed, "the client hung up: {:?}", served[1]);

    // Longer than the limit before its close: refused at the limit.
    let (error, served) = solve_against::<D>(Misbehaviour::http_1_0_flood(201));
    assert_eq!(
        transport_kind(&error),
        TransportErrorKind::BodyTooLarge,
        "{error}"
    );
    assert!(served[1].client_hung_up() && served[1].written < FLOOD);
}

/// A redirect to another port is refused, and the API key never reaches it.
pub fn a_redirect_to_another_port_is_refused_and_the_api_key_never_reaches_it<D: Driver>() {
    let trap = RedirectTrap::start().unwrap();
    // A location that carries a key in its query: the error names the host, never the rest.
    let target = trap.url(&format!("/elsewhere?key={API_KEY}")).unwrap();
    let origin = trap.url("").unwrap();
    for status in [307, 308, 302, 301, 303] {
        let redirect = Misbehaviour::redirect(status, &target);
        let (error, served) = connect_against::<D>(redirect.clone());
        assert_eq!(transport_kind(&error), TransportErrorKind::Redirect, "{error}");
        assert!(error.to_string().contains(&origin), "{error}");
        assert_no_secret(&error);
        assert!(!error.to_string().contains("/elsewhere"), "{error}");
        // The configured host got the key, as it should.
        assert!(served[0].request_text().contains(API_KEY));

        let (error, _) = solve_against::<D>(redirect);
        assert_eq!(transport_kind(&error), TransportErrorKind::Redirect, "{error}");
    }
    // Nobody ever connected to the other port: no request, so no X-API-KEY, reached it.
    assert!(!trap.was_contacted());
}

/// A connection reset before any byte is an `Io` error, and the intent stays pending.
pub fn a_connection_reset_before_any_byte_is_an_io_error_and_the_intent_stays_pending<D: Driver>() {
    let (error, served) = connect_against::<D>(Misbehaviour::reset());
    assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{error}");
    assert_eq!(served[0].written, 0);
    let (error, served) = solve_against::<D>(Misbehaviour::Reset);
    assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{error}");
    assert_eq!(served[1].written, 0);
}

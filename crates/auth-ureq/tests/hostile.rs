//! A hostile server at the socket level: a raw TCP listener (not the simulator) that reads
//! the request and then misbehaves. Against each misbehaviour the [`Client`] must end in a
//! typed error within its request timeout, read a bounded amount, send the API key nowhere
//! else, and leave a pending intent pending and resumable.
//!
//! Every elapsed-time assertion here is a liveness bound (`timeout + LIVENESS_MARGIN`,
//! several seconds of slack), not a performance measurement: it fails only if the client
//! waits for the server instead of its own budget, however slow the machine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::io;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use auth_test_servers::{Behaviour as Misbehaviour, FLOOD, ScriptedServer as HostileServer, Served, answer};
use auth_ureq::{
    Client, Connection, Error, PendingIntent, Phase, RetryPolicy, Snapshot, Solved, TransportErrorKind,
};
use support::{API_KEY, expect_err};

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
/// one per connection; `answers.rs` shows the retries).
fn client_for(server: &HostileServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .api_key(API_KEY)
        .request_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
}

fn transport_kind(error: &Error) -> TransportErrorKind {
    match error {
        Error::Transport(transport) => transport.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
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
fn connect_against(misbehaviour: Misbehaviour) -> (Error, Vec<Served>) {
    let server = HostileServer::start(vec![misbehaviour]).unwrap();
    let client = client_for(&server);
    let started = Instant::now();
    let error = expect_err(client.connect_messenger(USERNAME, PASSWORD));
    assert_bounded(started.elapsed());
    (error, server.finish())
}

/// A real pending intent (the server's first answer is a valid 202), then a solve that
/// meets `misbehaviour`. Checks that the intent is still pending and resumes elsewhere;
/// returns the solve's error and what the server saw (`[connect, solve]`).
fn solve_against(misbehaviour: Misbehaviour) -> (Error, Vec<Served>) {
    let server = HostileServer::start(vec![checkpoint_202(), misbehaviour]).unwrap();
    let client = client_for(&server);
    let mut intent = match client.connect_messenger(USERNAME, PASSWORD).unwrap() {
        Connection::Pending(intent) => intent,
        other => panic!("expected a checkpoint, got {other:?}"),
    };
    let started = Instant::now();
    let error = expect_err(intent.solve_code_checkpoint(CODE));
    assert_bounded(started.elapsed());
    assert_still_pending_and_resumable(&intent);
    let served = server.finish();
    assert_eq!(served.len(), 2, "{served:?}");
    (error, served)
}

/// The intent is pending, unchanged, and a new client on a well-behaved server resumes
/// its saved form and connects it.
fn assert_still_pending_and_resumable(intent: &PendingIntent) {
    assert!(intent.is_pending(), "{intent:?}");
    assert_eq!(intent.phase(), Phase::AwaitingCheckpoint);
    assert_eq!(intent.account_id().as_str(), ACCOUNT);
    assert_resumes(intent.save());
}

fn assert_resumes(saved: Snapshot) {
    let good = HostileServer::start(vec![account_created_201()]).unwrap();
    let client = client_for(&good);
    let mut resumed = client.resume(saved).unwrap();
    assert!(resumed.is_pending());
    assert_eq!(
        resumed.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected {
            account_id: ACCOUNT.into()
        }
    );
    let served = good.finish();
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

#[test]
fn an_answer_trickled_past_the_timeout_is_a_timeout_and_the_intent_stays_pending() {
    let body = format!(r#"{{"object":"AccountCreated","account_id":"{ACCOUNT}"}}"#);
    // At 100 ms a byte, each answer would take seconds past the 1 s timeout to arrive.
    let every = Duration::from_millis(100);
    // The status line and headers trickled: the client never sees a status.
    let (error, served) = solve_against(Misbehaviour::Trickle {
        bytes: answer(201, "application/json", body.as_bytes()),
        every,
    });
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
    assert!(served[1].client_hung_up(), "{:?}", served[1]);
    // The head at once, then a declared body trickled: the budget covers the body too.
    let head = format!(
        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len() * 4
    );
    let (error, served) = solve_against(Misbehaviour::Trickle {
        bytes: [head.as_bytes(), &body.repeat(4).into_bytes()].concat(),
        every,
    });
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
    assert!(served[1].client_hung_up(), "{:?}", served[1]);
    assert!(served[1].written < (head.len() + body.len() * 4) as u64);
    // On a connect, the same: a timeout, and nothing is pending.
    let (error, _) = connect_against(Misbehaviour::Trickle {
        bytes: answer(201, "application/json", body.as_bytes()),
        every,
    });
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
}

#[test]
fn a_declared_length_then_a_close_is_an_io_error_and_the_intent_stays_pending() {
    for sent in [0, 1, 30] {
        let mut bytes =
            b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n".to_vec();
        bytes.extend_from_slice(&br#"{"object":"AccountCreated","account_id":"acc"}"#[..sent]);
        let (error, served) = solve_against(Misbehaviour::Answer(bytes));
        assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{sent}: {error}");
        assert!(
            served[1]
                .request_text()
                .starts_with("POST /v1/accounts/checkpoint "),
            "the solve reached the server"
        );
    }
}

#[test]
fn a_64_mib_body_is_refused_at_the_limit_and_never_read_whole() {
    let declared =
        format!("HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {FLOOD}\r\n\r\n");
    let chunked =
        "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let to_the_close = "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
    for (what, head, is_chunked) in [
        ("declared", declared.as_str(), false),
        ("chunked", chunked, true),
        ("read to the close", to_the_close, false),
    ] {
        let flood = Misbehaviour::Flood {
            head: head.as_bytes().to_vec(),
            chunked: is_chunked,
        };
        let (error, served) = solve_against(flood.clone());
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
        let (error, served) = connect_against(flood);
        assert_eq!(transport_kind(&error), TransportErrorKind::BodyTooLarge);
        assert!(served[0].client_hung_up() && served[0].written < FLOOD, "{what}");
    }
}

#[test]
fn invalid_utf8_is_a_typed_error_and_the_intent_stays_pending() {
    // A success answer with invalid UTF-8 inside a JSON string: outside the contract.
    let mut body = br#"{"object":"AccountCreated","account_id":""#.to_vec();
    body.extend_from_slice(b"\xff\xfe\xc3\x28");
    body.extend_from_slice(br#""}"#);
    let (error, _) = solve_against(Misbehaviour::Answer(answer(201, "application/json", &body)));
    let Error::Malformed(malformed) = &error else {
        panic!("expected malformed, got {error:?}");
    };
    assert_eq!(malformed.status, 201);
    assert!(malformed.excerpt.contains('\u{fffd}'), "{malformed:?}");

    // An error answer that is invalid UTF-8: an API error keeping the status and an excerpt.
    let (error, _) = solve_against(Misbehaviour::Answer(answer(
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
    match client_for(&server).connect_messenger(USERNAME, PASSWORD).unwrap() {
        Connection::Connected { account_id } => assert_eq!(account_id.as_str(), ACCOUNT),
        other => panic!("unexpected {other:?}"),
    }
    server.finish();
}

#[test]
fn a_body_that_is_not_json_under_a_json_content_type_is_a_typed_error() {
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
        let (error, _) = solve_against(Misbehaviour::Answer(answer(
            status,
            "application/json; charset=utf-8",
            body.as_bytes(),
        )));
        let Error::Malformed(malformed) = &error else {
            panic!("{status} {:.40}: expected malformed, got {error:?}", body);
        };
        assert_eq!(malformed.status, status);
        assert!(malformed.excerpt.len() <= auth_ureq::MalformedAnswer::EXCERPT_LIMIT);
    }
    // An error status with such a body: an API error that keeps the status and an excerpt,
    // and a 500 without the contract's type does not destroy the intent.
    for (status, body) in [(500, "<html>oops</html>".to_owned()), (401, nested)] {
        let (error, _) = solve_against(Misbehaviour::Answer(answer(
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

#[test]
fn broken_chunked_encoding_is_an_io_error_and_the_intent_stays_pending() {
    let head = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
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
        let (error, _) = solve_against(Misbehaviour::Answer([head, &chunks].concat().into_bytes()));
        assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{what}: {error}");
    }
}

#[test]
fn an_http_1_0_answer_without_a_length_is_read_to_the_close_and_bounded() {
    let created = format!(r#"{{"object":"AccountCreated","account_id":"{ACCOUNT}"}}"#);
    let head = "HTTP/1.0 201 Created\r\ncontent-type: application/json\r\n\r\n";
    // Closed after the body: the body ends at the close, as HTTP/1.0 says, and is read.
    let server = HostileServer::start(vec![
        checkpoint_202(),
        Misbehaviour::Answer([head, &created].concat().into_bytes()),
    ])
    .unwrap();
    let client = client_for(&server);
    let Connection::Pending(mut intent) = client.connect_messenger(USERNAME, PASSWORD).unwrap() else {
        panic!("expected a checkpoint");
    };
    assert_eq!(
        intent.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected {
            account_id: ACCOUNT.into()
        }
    );
    assert!(!intent.is_pending());
    server.finish();

    // Never closed: the body has no end the client could see, so its budget ends it.
    let (error, served) = solve_against(Misbehaviour::AnswerThenHold(
        [head, &created].concat().into_bytes(),
    ));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout, "{error}");
    assert!(served[1].client_closed, "the client hung up: {:?}", served[1]);

    // Longer than the limit before its close: refused at the limit.
    let flood = Misbehaviour::Flood {
        head: head.as_bytes().to_vec(),
        chunked: false,
    };
    let (error, served) = solve_against(flood);
    assert_eq!(
        transport_kind(&error),
        TransportErrorKind::BodyTooLarge,
        "{error}"
    );
    assert!(served[1].client_hung_up() && served[1].written < FLOOD);
}

#[test]
fn a_redirect_to_another_port_is_refused_and_the_api_key_never_reaches_it() {
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!("http://{}/v1/accounts", elsewhere.local_addr().unwrap());
    for status in [307, 308, 302] {
        let redirect = format!(
            "HTTP/1.1 {status} Moved\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let (error, served) = connect_against(Misbehaviour::Answer(redirect.clone().into_bytes()));
        assert_eq!(transport_kind(&error), TransportErrorKind::Redirect, "{error}");
        assert!(error.to_string().contains(&target), "{error}");
        // The configured host got the key, as it should.
        assert!(served[0].request_text().contains(API_KEY));

        let (error, _) = solve_against(Misbehaviour::Answer(redirect.into_bytes()));
        assert_eq!(transport_kind(&error), TransportErrorKind::Redirect, "{error}");
    }
    // Nobody ever connected to the other port: no request, so no X-API-KEY, reached it.
    let accepted = elsewhere.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
        "{accepted:?}"
    );
}

#[test]
fn a_connection_reset_before_any_byte_is_an_io_error_and_the_intent_stays_pending() {
    let (error, served) = connect_against(Misbehaviour::Reset);
    assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{error}");
    assert_eq!(served[0].written, 0);
    let (error, served) = solve_against(Misbehaviour::Reset);
    assert_eq!(transport_kind(&error), TransportErrorKind::Io, "{error}");
    assert_eq!(served[1].written, 0);
}

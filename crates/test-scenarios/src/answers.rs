//! The answers of the rewritten contract byte for byte, and the retries of lost answers,
//! from a scripted server on a real loopback socket (one answer per connection, every
//! request recorded as the server read it): what the client sends and reads at the wire,
//! where [`contract`](crate::contract) and [`faults`](crate::faults) go through the
//! simulator.
//!
//! Time is the client's [`ManualClock`]: a retry's wait moves it, nothing sleeps.

use std::time::Duration;

use auth_core::{
    AuthScheme, Connection, Error, ErrorType, Fault, Problem, Resend, Snapshot, Solved, SourceStatus,
    TransportErrorKind, UnixMillis,
};
use auth_test_servers::{Behaviour, ScriptedServer, Served, answer};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver, IntentUnderTest};
use crate::support::{API_KEY, ManualClock, SECRETS, expect_err, pending};

const ACCOUNT: &str = "acc-scripted-1";
const CODE: &str = "123456";

fn json(status: u16, body: &str) -> Behaviour {
    Behaviour::Answer(answer(status, "application/json", body.as_bytes()))
}

/// An answer with one more header.
fn json_with(status: u16, header: &str, body: &str) -> Behaviour {
    let mut bytes = format!(
        "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\n{header}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    Behaviour::Answer(bytes)
}

fn checkpoint_202() -> Behaviour {
    json(
        202,
        &format!(r#"{{"object":"Checkpoint","account_id":"{ACCOUNT}","checkpoint":{{"type":"2FA"}}}}"#),
    )
}

fn created_201() -> Behaviour {
    json(
        201,
        &format!(r#"{{"object":"AccountCreated","account_id":"{ACCOUNT}"}}"#),
    )
}

/// The request is read, then the connection is closed without a byte of answer: the
/// server may have acted on it.
fn lost() -> Behaviour {
    Behaviour::Answer(Vec::new())
}

fn client<D: Driver>(server: &ScriptedServer, clock: &ManualClock) -> D::Client {
    D::builder()
        .base_url(server.base_url())
        .api_key(API_KEY)
        .request_timeout(Duration::from_secs(5))
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// Every request was the same one: the same request line, key and body.
fn assert_same_request(served: &[Served]) {
    let first = &served[0];
    let key = first.header("idempotency-key").expect("an Idempotency-Key");
    for other in served {
        assert_eq!(other.request_line(), first.request_line());
        assert_eq!(other.header("idempotency-key").as_deref(), Some(key.as_str()));
        assert_eq!(other.body(), first.body());
    }
}

/// A connect whose answer was lost is sent again with the same key.
pub fn a_connect_whose_answer_was_lost_is_sent_again_with_the_same_key<D: Driver>() {
    let server = ScriptedServer::start(vec![lost(), lost(), checkpoint_202()]).unwrap();
    let clock = ManualClock::new();
    let intent = pending::<D>(&client::<D>(&server, &clock), "erin", "pw-secret");
    assert_eq!(intent.account_id().as_str(), ACCOUNT);
    let served = D::wait(move || server.finish());
    assert_eq!(served.len(), 3);
    assert_same_request(&served);
    // The deadline counts from the first attempt: the server's intent began no earlier.
    assert_eq!(
        intent.intent().started_at,
        UnixMillis::from_millis(ManualClock::START)
    );
    // Two waits of the retry policy, on the client's clock: 125–250 ms, then 250–500 ms.
    assert!(
        (375..=750).contains(&clock.elapsed().as_millis()),
        "{:?}",
        clock.elapsed()
    );
}

/// A solve whose 201 was lost is sent again with its key and connects.
pub fn a_solve_whose_201_was_lost_is_sent_again_with_its_key_and_connects<D: Driver>() {
    // The server connected the account and the answer was lost; a server that keeps its
    // idempotency keys answers the replay with the original 201.
    let server = ScriptedServer::start(vec![checkpoint_202(), lost(), created_201()]).unwrap();
    let clock = ManualClock::new();
    let mut intent = pending::<D>(&client::<D>(&server, &clock), "erin", "pw-secret");
    assert_eq!(
        intent.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected {
            account_id: ACCOUNT.into()
        }
    );
    let served = D::wait(move || server.finish());
    assert_same_request(&served[1..]);
    assert_ne!(
        served[0].header("idempotency-key"),
        served[1].header("idempotency-key"),
        "one key per logical request"
    );
}

/// A 429 is sent again after its `Retry-After`, on the client's clock.
pub fn a_429_is_sent_again_after_its_retry_after_on_the_clients_clock<D: Driver>() {
    let limited = json_with(
        429,
        "retry-after: 2",
        r#"{"status":429,"type":"errors/too_many_requests","title":"Too many requests"}"#,
    );
    let server = ScriptedServer::start(vec![checkpoint_202(), limited, created_201()]).unwrap();
    let clock = ManualClock::new();
    let mut intent = pending::<D>(&client::<D>(&server, &clock), "erin", "pw-secret");
    assert!(matches!(
        intent.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected { .. }
    ));
    // The server's wait, not the policy's shorter one.
    assert_eq!(clock.elapsed(), Duration::from_secs(2));
    assert_same_request(&D::wait(move || server.finish())[1..]);
}

/// A 429 whose wait ends past the deadline is not sent again.
pub fn a_429_whose_wait_ends_past_the_deadline_is_not_sent_again<D: Driver>() {
    let limited = json_with(
        429,
        "retry-after: 55",
        r#"{"status":429,"type":"errors/too_many_requests","title":"Too many requests"}"#,
    );
    let server = ScriptedServer::start(vec![checkpoint_202(), limited]).unwrap();
    let clock = ManualClock::new();
    let mut intent = pending::<D>(&client::<D>(&server, &clock), "erin", "pw-secret");
    // 50 s left: a wait of 55 s would end past the deadline.
    clock.advance(Duration::from_secs(250));
    let error = expect_err(intent.solve_code_checkpoint(CODE));
    let api = error.api_error().unwrap();
    assert_eq!((api.status, api.problem), (429, Problem::RateLimited));
    assert_eq!(api.retry_after, Some(Duration::from_secs(55)));
    assert_eq!(
        clock.elapsed(),
        Duration::from_secs(250),
        "nothing was waited for"
    );
    assert!(intent.is_pending());
    assert_eq!(D::wait(move || server.finish()).len(), 2, "sent once");
}

/// A request whose answers were all lost resumes unsettled and is sent again with its key.
pub fn a_request_whose_answers_were_all_lost_resumes_unsettled_and_is_sent_again_with_its_key<D: Driver>() {
    let server = ScriptedServer::start(vec![checkpoint_202(), lost(), lost(), lost(), lost()]).unwrap();
    let clock = ManualClock::new();
    let mut intent = pending::<D>(&client::<D>(&server, &clock), "erin", "pw-secret");
    let error = expect_err(intent.solve_code_checkpoint(CODE));
    assert!(
        matches!(&error, Error::Transport(e) if e.kind() == TransportErrorKind::Io),
        "{error:?}"
    );
    assert!(
        intent.is_pending(),
        "the intent is alive: the server may not have acted"
    );
    let served = D::wait(move || server.finish());
    assert_eq!(served.len(), 5, "four attempts");
    assert_same_request(&served[1..]);
    let key = served[1].header("idempotency-key").unwrap();

    // Saved, in another process: the key of the lost solve is kept, and no secret.
    let saved = serde_json::to_string(&intent.save()).unwrap();
    assert!(saved.contains(&key), "{saved}");
    for secret in SECRETS {
        assert!(!saved.contains(secret), "{secret} in {saved}");
    }
    let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
    assert_eq!(
        snapshot.unsettled_key().map(|k| k.as_str().to_owned()),
        Some(key.clone())
    );

    // Resumed by another client, the same solve (the code given again) is sent with its key.
    let server = ScriptedServer::start(vec![created_201()]).unwrap();
    let mut resumed = client::<D>(&server, &clock).resume(snapshot).unwrap();
    assert!(matches!(
        resumed.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected { .. }
    ));
    let served = D::wait(move || server.finish());
    assert_eq!(served[0].header("idempotency-key"), Some(key));
    assert_eq!(served[0].request_line(), "POST /v1/accounts/checkpoint HTTP/1.1");
}

/// Both error envelopes are read with their request id.
pub fn both_error_envelopes_are_read_with_their_request_id<D: Driver>() {
    let quickstart = json(
        400,
        r#"{"error":{"code":"invalid_parameters","message":"One or more parameters are invalid.","request_id":"0e1f3a8a-qs"}}"#,
    );
    let endpoint = json(
        401,
        r#"{"status":401,"type":"errors/invalid_checkpoint_solution","title":"Wrong code","instance":"req-endpoint-7"}"#,
    );
    let header_only = json_with(
        401,
        "x-request-id: req-header-9",
        r#"{"status":401,"type":"errors/invalid_checkpoint_solution","title":"Wrong code"}"#,
    );
    let server = ScriptedServer::start(vec![
        checkpoint_202(),
        quickstart,
        endpoint,
        header_only,
        created_201(),
    ])
    .unwrap();
    let clock = ManualClock::new();
    let mut intent = pending::<D>(&client::<D>(&server, &clock), "erin", "pw-secret");

    let error = expect_err(intent.solve_code_checkpoint(CODE));
    let api = error.api_error().unwrap();
    assert_eq!(
        (api.kind.clone(), api.problem),
        (Some(ErrorType::InvalidParameters), Problem::InvalidRequest)
    );
    assert_eq!(error.request_id(), Some("0e1f3a8a-qs"));
    assert!(error.to_string().contains("[request id: 0e1f3a8a-qs]"), "{error}");
    assert!(error.is_retryable_by_user() && intent.is_pending());

    let error = expect_err(intent.solve_code_checkpoint(CODE));
    assert_eq!(error.api_error().unwrap().problem, Problem::WrongCode);
    assert_eq!(error.request_id(), Some("req-endpoint-7"));

    // Without an observer the client keeps only the headers the core reads: this one.
    let error = expect_err(intent.solve_code_checkpoint(CODE));
    assert_eq!(error.request_id(), Some("req-header-9"));

    assert!(matches!(
        intent.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected { .. }
    ));
    D::wait(move || server.finish());
}

/// A resend answered `success: false` is refused, and the intent stays pending.
pub fn a_resend_answered_success_false_is_refused_and_the_intent_stays_pending<D: Driver>() {
    let refused = json(
        200,
        &format!(r#"{{"object":"CheckpointResend","account_id":"{ACCOUNT}","success":false}}"#),
    );
    let sent = json(
        200,
        &format!(r#"{{"object":"CheckpointResend","account_id":"{ACCOUNT}","success":true}}"#),
    );
    let server = ScriptedServer::start(vec![checkpoint_202(), refused, sent, created_201()]).unwrap();
    let clock = ManualClock::new();
    let mut intent = pending::<D>(&client::<D>(&server, &clock), "erin", "pw-secret");
    let deadline = intent.deadline();
    assert_eq!(intent.resend_checkpoint().unwrap(), Resend::Refused);
    assert!(intent.is_pending());
    assert_eq!(intent.resend_checkpoint().unwrap(), Resend::Sent);
    assert_eq!(intent.deadline(), deadline);
    assert!(matches!(
        intent.solve_code_checkpoint(CODE).unwrap(),
        Solved::Connected { .. }
    ));
    let served = D::wait(move || server.finish());
    assert_eq!(
        served[1].request_line(),
        "POST /v1/accounts/checkpoint/resend HTTP/1.1"
    );
    assert_ne!(
        served[1].header("idempotency-key"),
        served[2].header("idempotency-key")
    );
}

/// An account's status is a `GET` without a body or a key.
pub fn an_accounts_status_is_a_get_without_body_or_key<D: Driver>() {
    let account = json(
        200,
        &format!(
            r#"{{"object":"Account","id":"{ACCOUNT}","type":"MESSENGER","name":"Erin","created_at":"2025-06-01T12:00:00.000Z","sources":[{{"id":"{ACCOUNT}_MESSAGING","status":"CONNECTING"}}]}}"#
        ),
    );
    let missing = json(
        404,
        r#"{"status":404,"type":"errors/resource_not_found","title":"Not found"}"#,
    );
    let server = ScriptedServer::start(vec![account, missing]).unwrap();
    let clock = ManualClock::new();
    let client = client::<D>(&server, &clock);
    let status = client.account_status(ACCOUNT).unwrap();
    assert_eq!(status.account_id.as_str(), ACCOUNT);
    assert_eq!(status.status(), SourceStatus::Connecting);
    assert!(!status.is_ok());
    let error = expect_err(client.account_status("acc-unknown"));
    assert_eq!(error.api_error().unwrap().problem, Problem::NotFound);
    let served = D::wait(move || server.finish());
    assert_eq!(
        served[0].request_line(),
        format!("GET /v1/accounts/{ACCOUNT} HTTP/1.1")
    );
    assert_eq!(served[0].header("idempotency-key"), None);
    assert_eq!(served[0].header("content-type"), None);
    assert!(matches!(
        served[0].header("content-length").as_deref(),
        None | Some("0")
    ));
    assert_eq!(served[0].body(), "");
    assert_eq!(served[0].header("x-api-key").as_deref(), Some(API_KEY));
}

/// A bearer scheme sends the key in authorization only.
pub fn a_bearer_scheme_sends_the_key_in_authorization_only<D: Driver>() {
    let server = ScriptedServer::start(vec![created_201()]).unwrap();
    let client = D::builder()
        .base_url(format!("{}?port=443", server.base_url()))
        .api_key(API_KEY)
        .auth_scheme(AuthScheme::Bearer)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    assert!(matches!(
        client.connect_messenger("erin", "pw-secret").unwrap(),
        Connection::Connected { .. }
    ));
    let served = D::wait(move || server.finish());
    assert_eq!(served[0].request_line(), "POST /v1/accounts?port=443 HTTP/1.1");
    assert_eq!(
        served[0].header("authorization"),
        Some(format!("Bearer {API_KEY}"))
    );
    assert_eq!(served[0].header("x-api-key"), None);
}

/// An API key problem is the configuration's fault, never the password's.
pub fn an_api_key_problem_is_the_configurations_fault_never_the_password<D: Driver>() {
    // `invalid_credentials` to a request that carries no password: the API key.
    let key_refused = json(
        401,
        r#"{"status":401,"type":"errors/invalid_credentials","title":"Invalid credentials"}"#,
    );
    let expired = json(
        401,
        r#"{"error":{"code":"expired_credentials","message":"The API key has expired.","request_id":"r-1"}}"#,
    );
    let server = ScriptedServer::start(vec![checkpoint_202(), key_refused, expired]).unwrap();
    let clock = ManualClock::new();
    let client = client::<D>(&server, &clock);
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    let error = expect_err(intent.resend_checkpoint());
    assert_eq!(error.api_error().unwrap().problem, Problem::ApiKey);
    assert_eq!(error.fault(), Fault::Configuration);
    let error = expect_err(intent.solve_code_checkpoint(CODE));
    assert_eq!(error.fault(), Fault::Configuration);
    assert!(!error.is_retryable_by_user());
    assert!(
        error.to_string().contains("not with the account's password"),
        "{error}"
    );
    D::wait(move || server.finish());
}

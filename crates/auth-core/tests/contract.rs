//! One test per row of `shared/api-contract.md`, named after it: where requests go, what
//! they carry, and what every answer of the answer table means.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::time::Duration;

use auth_core::{
    ANSWER_RULES, AccountId, Answer, AuthScheme, Checkpoint, Command, Config, ConnectOptions, ContractOption,
    Credentials, Detection, Error, ErrorType, Event, Fault, Method, Output, Phase, Problem, Provider, Proxy,
    ProxyProtocol, RequestKind, Solution, SourceStatus, SyncFrom, SyncLimit, TwoFactorSource, UsageError,
    answer_rule,
};
use serde_json::{Value, json};
use support::*;

const FIVE_MINUTES: u64 = 5 * 60 * 1000;

fn body_json(request: &auth_core::Request) -> Value {
    serde_json::from_slice(request.body.as_bytes()).unwrap()
}

fn header<'r>(request: &'r auth_core::Request, name: &str) -> Option<&'r str> {
    request.headers().find(|h| h.name() == name).map(|h| h.value())
}

// ## Where requests go, and what they carry

#[test]
fn connect_posts_accounts_with_provider_username_password_and_an_idempotency_key() {
    let mut harness = Harness::new(config());
    let request = sent(harness.command(0, connect_messenger()));
    assert_eq!((request.method, &*request.path), (Method::Post, "/accounts"));
    assert_eq!(request.kind, RequestKind::Connect);
    assert_eq!(
        body_json(&request),
        json!({"provider": "MESSENGER", "username": "bob", "password": PASSWORD})
    );
    assert_eq!(header(&request, "X-API-KEY"), Some(API_KEY));
    assert_eq!(header(&request, "accept"), Some("application/json"));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(header(&request, "Idempotency-Key"), Some(key(1).as_str()));
    assert_eq!(request.idempotency_key, Some(key(1)));
    assert_eq!(request.attempt, 1);
    assert_eq!(request.timeout, Config::DEFAULT_REQUEST_TIMEOUT);
}

#[test]
fn the_optional_connect_fields_are_sent_when_set_and_the_proxy_password_is_a_secret() {
    let credentials = Credentials::messenger("bob", PASSWORD).with_options(
        ConnectOptions::new()
            .proxy(
                Proxy::new("proxy.example.com", 3128)
                    .protocol(ProxyProtocol::Socks5)
                    .auth("pu", "proxy-pw-9"),
            )
            .country("fr")
            .ip("203.0.113.7".parse().unwrap())
            .user_agent("Mozilla/5.0 (X11)")
            .sync_limit(
                SyncLimit::new()
                    .chats(SyncFrom::Count(0))
                    .messages(SyncFrom::Since("2026-01-01T00:00:00.000Z".into())),
            ),
    );
    let mut harness = Harness::new(config());
    let request = sent(harness.command(0, Command::Connect(credentials)));
    assert_eq!(
        body_json(&request),
        json!({
            "provider": "MESSENGER", "username": "bob", "password": PASSWORD,
            "proxy": {"protocol": "socks5", "host": "proxy.example.com", "port": 3128, "username": "pu", "password": "proxy-pw-9"},
            "country": "FR", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11)",
            "sync_limit": {"chats": 0, "messages": "2026-01-01T00:00:00.000Z"},
        })
    );
    let shown = format!("{request:?} {}", request.body.redacted());
    assert!(
        !shown.contains("proxy-pw-9") && !shown.contains(PASSWORD),
        "{shown}"
    );
    // The proxy's password is scrubbed from what the server sends back, like the account's.
    let echo = error(400, "errors/invalid_parameters");
    let echo = Answer::new(
        400,
        String::from_utf8(echo.body)
            .unwrap()
            .replace("Detail of", "proxy-pw-9 is wrong;"),
    );
    let error = failure(harness.answer(1, echo));
    assert!(!format!("{error} {error:?}").contains("proxy-pw-9"));
}

#[test]
fn optional_fields_a_server_would_refuse_are_refused_before_sending() {
    for options in [
        ConnectOptions::new().country("France"),
        ConnectOptions::new().proxy(Proxy::new("", 80)),
        ConnectOptions::new().proxy(Proxy::new("proxy", 0)),
        ConnectOptions::new().user_agent(" "),
    ] {
        let mut harness = Harness::new(config());
        let credentials = Credentials::messenger("bob", PASSWORD).with_options(options.clone());
        let error = failure(harness.command(0, Command::Connect(credentials)));
        assert!(
            matches!(error, Error::Usage(UsageError::Invalid(_))),
            "{options:?}: {error}"
        );
        assert_eq!(harness.flow.phase(), Phase::Idle);
    }
}

#[test]
fn solve_posts_accounts_checkpoint_with_account_id_and_code() {
    let (mut harness, _) = pending(0);
    let request = sent(harness.command(1_000, solve("123456")));
    assert_eq!(
        (request.method, &*request.path),
        (Method::Post, "/accounts/checkpoint")
    );
    assert_eq!(
        body_json(&request),
        json!({"provider": "MESSENGER", "account_id": "acc-1", "code": "123456"})
    );
    assert_eq!(
        request.idempotency_key,
        Some(key(2)),
        "a new logical request, a new key"
    );
}

#[test]
fn resend_posts_accounts_checkpoint_resend_and_twitter_has_none() {
    let (mut harness, _) = pending(0);
    let request = sent(harness.command(1_000, Command::Resend));
    assert_eq!(
        (request.method, &*request.path),
        (Method::Post, "/accounts/checkpoint/resend")
    );
    assert_eq!(
        body_json(&request),
        json!({"provider": "MESSENGER", "account_id": "acc-1"})
    );

    let mut harness = Harness::new(config());
    sent(harness.command(
        0,
        Command::Connect(Credentials::new(Provider::Twitter, "bob", PASSWORD)),
    ));
    event(harness.answer(1, two_factor("acc-1")));
    let error = failure(harness.command(2, Command::Resend));
    assert!(
        matches!(error, Error::Usage(UsageError::Unsupported(_))),
        "{error}"
    );
    assert!(harness.flow.is_pending(), "nothing sent, the intent pending");
}

#[test]
fn reconnect_posts_accounts_account_id_and_refuses_dot_segments() {
    let mut harness = Harness::new(config());
    let reconnect = |id: &str| Command::Reconnect {
        account_id: AccountId::new(id),
        credentials: Credentials::messenger("bob", PASSWORD),
    };
    let request = sent(harness.command(0, reconnect("acc/1 x")));
    assert_eq!(
        (request.kind, &*request.path),
        (RequestKind::Reconnect, "/accounts/acc%2F1%20x")
    );
    for id in ["", ".", ".."] {
        let mut harness = Harness::new(config());
        let error = failure(harness.command(0, reconnect(id)));
        assert!(matches!(error, Error::Usage(_)), "{id:?}: {error}");
    }
}

#[test]
fn account_status_gets_accounts_account_id_without_a_body_or_a_key() {
    let mut harness = Harness::new(config());
    let request = sent(harness.command(0, Command::AccountStatus(AccountId::new("acc-1"))));
    assert_eq!((request.method, &*request.path), (Method::Get, "/accounts/acc-1"));
    assert!(request.body.is_empty());
    assert_eq!(request.idempotency_key, None);
    assert_eq!(header(&request, "Idempotency-Key"), None);
    assert_eq!(header(&request, "content-type"), None);
    assert_eq!(harness.flow.phase(), Phase::CheckingStatus);
    let Event::AccountStatus(account) = event(harness.answer(1, account("CONNECTING"))) else {
        panic!("not a status");
    };
    assert_eq!(account.status(), SourceStatus::Connecting);
    assert_eq!(harness.flow.phase(), Phase::Idle, "back where it was asked from");
}

#[test]
fn the_api_key_goes_as_x_api_key_or_authorization_bearer() {
    let mut harness = Harness::new(config().with_auth_scheme(AuthScheme::Bearer));
    let request = sent(harness.command(0, connect_messenger()));
    assert_eq!(
        header(&request, "Authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(header(&request, "X-API-KEY"), None);
    let shown = format!("{request:?}");
    assert!(!shown.contains(API_KEY), "{shown}");
}

#[test]
fn a_pp_test_key_is_flagged_as_sandboxed() {
    assert!(Config::new("pp_test_abc").is_sandbox());
    assert!(!Config::new("pp_live_abc").is_sandbox());
    assert!(Harness::new(Config::new("pp_test_abc")).flow.is_sandbox());
}

#[test]
fn linkedin_instagram_and_twitter_share_the_flow() {
    for provider in Provider::ALL {
        let mut harness = Harness::new(config());
        let request = sent(harness.command(0, Command::Connect(Credentials::new(provider, "u", PASSWORD))));
        assert_eq!(body_json(&request)["provider"], provider.as_str());
        event(harness.answer(1, two_factor("acc-1")));
        let request = sent(harness.command(2, solve("1")));
        assert_eq!(body_json(&request)["provider"], provider.as_str());
    }
}

// ## The answer table: one example per row

/// One example answer per row of `ANSWER_RULES`, the request it answers, and what it must do.
struct Example {
    request: RequestKind,
    answer: Answer,
    phase: Phase,
    result: fn(&Output) -> bool,
}

fn example(request: RequestKind, answer: Answer, phase: Phase, result: fn(&Output) -> bool) -> Example {
    Example {
        request,
        answer,
        phase,
        result,
    }
}

fn problem(output: &Output, expected: Problem) -> bool {
    matches!(output, Output::Error(Error::Api(error)) if error.problem == expected)
}

fn examples() -> Vec<Example> {
    use Phase as P;
    use RequestKind as R;
    vec![
        example(R::Connect, created("acc-1"), P::Connected, |o| {
            matches!(o, Output::Event(Event::Connected { .. }))
        }),
        example(R::Reconnect, reconnected(200, "acc-1"), P::Connected, |o| {
            matches!(o, Output::Event(Event::Reconnected { .. }))
        }),
        example(R::Reconnect, created("acc-1"), P::Connected, |o| {
            matches!(o, Output::Event(Event::Reconnected { .. }))
        }),
        example(R::Connect, two_factor("acc-1"), P::AwaitingCheckpoint, |o| {
            matches!(o, Output::Event(Event::Checkpoint(_)))
        }),
        example(
            R::Resend,
            checkpoint("acc-1", r#"{"type":"OTP"}"#),
            P::AwaitingCheckpoint,
            |o| matches!(o, Output::Event(Event::Checkpoint(_))),
        ),
        example(R::Resend, resent(true), P::AwaitingCheckpoint, |o| {
            matches!(o, Output::Event(Event::CheckpointResent(_)))
        }),
        example(R::Resend, resent(false), P::AwaitingCheckpoint, |o| {
            matches!(o, Output::Event(Event::ResendRefused(_)))
        }),
        example(R::AccountStatus, account("OK"), P::Idle, |o| {
            matches!(o, Output::Event(Event::AccountStatus(_)))
        }),
        example(R::Solve, resent(true), P::AwaitingCheckpoint, |o| {
            matches!(o, Output::Error(Error::Malformed(_)))
        }),
        example(
            R::Solve,
            error(401, "errors/invalid_checkpoint_solution"),
            P::AwaitingCheckpoint,
            |o| problem(o, Problem::WrongCode),
        ),
        example(
            R::Connect,
            error(401, "errors/invalid_credentials"),
            P::Idle,
            |o| problem(o, Problem::WrongCredentials),
        ),
        example(
            R::Solve,
            error(401, "errors/invalid_credentials"),
            P::AwaitingCheckpoint,
            |o| problem(o, Problem::ApiKey),
        ),
        example(
            R::Connect,
            quickstart_error(401, "expired_credentials"),
            P::Idle,
            |o| problem(o, Problem::ApiKey),
        ),
        example(
            R::Solve,
            error(401, "errors/disconnected_account"),
            P::AwaitingCheckpoint,
            |o| problem(o, Problem::Other),
        ),
        example(
            R::Solve,
            error(403, "errors/account_restricted"),
            P::Refused,
            |o| problem(o, Problem::AccountRefused),
        ),
        example(
            R::Solve,
            bare(408),
            P::Expired,
            |o| matches!(o, Output::Error(Error::IntentExpired(e)) if e.detected_by == Detection::Server),
        ),
        example(
            R::Solve,
            quickstart_error(400, "too_many_characters"),
            P::AwaitingCheckpoint,
            |o| problem(o, Problem::InvalidRequest),
        ),
        example(R::Solve, error(400, "errors/intent_gone"), P::Destroyed, |o| {
            matches!(o, Output::Error(Error::IntentDestroyed(_)))
        }),
        example(
            R::Solve,
            error(409, "errors/idempotency_conflict"),
            P::AwaitingCheckpoint,
            |o| problem(o, Problem::IdempotencyConflict),
        ),
        example(
            R::AccountStatus,
            error(404, "errors/resource_not_found"),
            P::Idle,
            |o| problem(o, Problem::NotFound),
        ),
        example(
            R::Solve,
            error(429, "errors/too_many_requests"),
            P::AwaitingCheckpoint,
            |o| problem(o, Problem::RateLimited),
        ),
        example(
            R::Resend,
            error(500, "errors/authentication_intent_error"),
            P::Destroyed,
            |o| matches!(o, Output::Error(Error::IntentDestroyed(_))),
        ),
        example(
            R::Connect,
            Answer::new(502, "<html>Bad Gateway</html>"),
            P::Idle,
            |o| problem(o, Problem::ServerFailure),
        ),
        example(R::Connect, error(418, "errors/teapot"), P::Idle, |o| {
            problem(o, Problem::Other)
        }),
    ]
}

/// A harness with a request of `kind` out (the retry policy off, so an answer ends it).
fn waiting_for(kind: RequestKind) -> Harness {
    let (mut harness, _) = pending(0);
    let command = match kind {
        RequestKind::Connect => connect_messenger(),
        RequestKind::Reconnect => Command::Reconnect {
            account_id: AccountId::new("acc-1"),
            credentials: Credentials::messenger("bob", PASSWORD),
        },
        RequestKind::Solve => solve("123456"),
        RequestKind::Resend => Command::Resend,
        _ => {
            harness = Harness::new(config());
            Command::AccountStatus(AccountId::new("acc-1"))
        }
    };
    sent(harness.command(1_000, command));
    harness
}

#[test]
fn every_row_of_the_answer_table_has_an_example_that_does_what_it_says() {
    let examples = examples();
    for (index, rule) in ANSWER_RULES.iter().enumerate() {
        let matching: Vec<&Example> = examples
            .iter()
            .filter(|e| {
                answer_rule(e.request, e.answer.status, &word_of(&e.answer))
                    .is_some_and(|r| std::ptr::eq(r, rule))
            })
            .collect();
        assert!(
            !matching.is_empty(),
            "row {index} ({}) has no example",
            rule.source
        );
    }
    for example in examples {
        let mut harness = waiting_for(example.request);
        let output = harness.answer(2_000, example.answer.clone());
        assert!(
            (example.result)(&output),
            "{:?} to {:?}: {output:?}",
            example.answer,
            example.request
        );
        assert_eq!(
            harness.flow.phase(),
            example.phase,
            "{:?} to {:?}",
            example.answer,
            example.request
        );
    }
}

/// The word the answer table matches an answer by, as the machine reads it.
fn word_of(answer: &Answer) -> String {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if (200..300).contains(&answer.status) {
        let object = body["object"].as_str().unwrap_or_default();
        if object == "CheckpointResend" && body["success"] == json!(false) {
            return "CheckpointResend(success:false)".to_owned();
        }
        return object.to_owned();
    }
    let kind = body["type"]
        .as_str()
        .or(body["error"]["code"].as_str())
        .unwrap_or_default();
    if kind.is_empty() || kind.starts_with("errors/") {
        kind.to_owned()
    } else {
        format!("errors/{kind}")
    }
}

#[test]
fn answer_201_account_created_connects_from_connect_and_from_the_last_solve() {
    let mut harness = Harness::new(config());
    sent(harness.command(0, connect_messenger()));
    assert_eq!(
        event(harness.answer(1, created("acc-9"))),
        Event::Connected {
            account_id: "acc-9".into(),
            after_deadline: false
        }
    );
    let (mut harness, _) = pending(0);
    sent(harness.command(1_000, solve("123456")));
    assert!(matches!(
        event(harness.answer(1_100, created("acc-1"))),
        Event::Connected { .. }
    ));
    assert_eq!(
        harness.flow.connected_account().map(AccountId::as_str),
        Some("acc-1")
    );
}

#[test]
fn a_late_201_connects_and_says_it_came_after_the_deadline() {
    let (mut harness, intent) = pending(0);
    sent(harness.command(FIVE_MINUTES - 1_000, Command::Solve(Solution::InAppValidation)));
    // The answer arrives after the (deliberately early) local deadline: the server's word wins.
    let late = intent.deadline.as_millis() + 200;
    assert_eq!(
        event(harness.answer(late, created("acc-1"))),
        Event::Connected {
            account_id: "acc-1".into(),
            after_deadline: true
        }
    );
    assert!(harness.flow.is_connected());
}

#[test]
fn a_solve_of_a_reconnect_intent_reconnects() {
    let mut harness = Harness::new(config());
    sent(harness.command(
        0,
        Command::Reconnect {
            account_id: "acc-1".into(),
            credentials: Credentials::messenger("bob", PASSWORD),
        },
    ));
    let Event::Checkpoint(intent) = event(harness.answer(1, two_factor("acc-1"))) else {
        panic!()
    };
    assert!(intent.reconnect);
    sent(harness.command(2, solve("1")));
    assert!(matches!(
        event(harness.answer(3, created("acc-1"))),
        Event::Reconnected { .. }
    ));
}

#[test]
fn answer_202_checkpoint_starts_an_intent_counted_from_the_request_sent() {
    let mut harness = Harness::new(config());
    sent(harness.command(1_000, connect_messenger()));
    let Event::Checkpoint(intent) = event(harness.answer(4_000, two_factor("acc-1"))) else {
        panic!()
    };
    assert_eq!(intent.started_at, at(1_000));
    assert_eq!(intent.deadline, at(1_000 + FIVE_MINUTES));
    assert_eq!(harness.flow.next_deadline(), Some(intent.deadline));
}

#[test]
fn resend_success_false_is_its_own_outcome_and_the_intent_stays() {
    let (mut harness, intent) = pending(0);
    sent(harness.command(1_000, Command::Resend));
    assert_eq!(
        event(harness.answer(1_100, resent(false))),
        Event::ResendRefused(intent.clone())
    );
    sent(harness.command(1_200, Command::Resend));
    assert_eq!(
        event(harness.answer(1_300, resent(true))),
        Event::CheckpointResent(intent)
    );
    assert!(harness.flow.is_pending());
}

#[test]
fn answer_401_invalid_checkpoint_solution_keeps_the_intent_and_counts_attempts() {
    let (mut harness, _) = pending(0);
    for attempt in 1..=3 {
        sent(harness.command(1_000, solve("000000")));
        let error = failure(harness.answer(1_100, error(401, "errors/invalid_checkpoint_solution")));
        assert!(error.api_error().unwrap().is_wrong_code());
        assert!(error.is_retryable_by_user());
        assert_eq!(error.fault(), Fault::User);
        assert_eq!(harness.flow.intent().unwrap().failed_attempts, attempt);
    }
}

#[test]
fn invalid_credentials_on_connect_is_the_users_and_says_both_readings() {
    let mut harness = Harness::new(config());
    sent(harness.command(0, connect_messenger()));
    let error = failure(harness.answer(1, error(401, "errors/invalid_credentials")));
    assert_eq!(error.fault(), Fault::User);
    let text = error.to_string();
    assert!(
        text.contains("username or password") && text.contains("API key"),
        "{text}"
    );
    assert_eq!(harness.flow.phase(), Phase::Idle, "connect again");
}

#[test]
fn api_key_problems_are_the_configurations_never_the_password() {
    for (request, answer) in [
        (RequestKind::Connect, error(401, "errors/missing_credentials")),
        (RequestKind::Connect, quickstart_error(401, "expired_credentials")),
        (RequestKind::Connect, error(401, "errors/insufficient_privileges")),
        (RequestKind::Connect, quickstart_error(401, "key_missing")),
        (RequestKind::Solve, error(401, "errors/invalid_credentials")),
        (RequestKind::Resend, error(401, "errors/expired_credentials")),
        (
            RequestKind::AccountStatus,
            error(401, "errors/invalid_credentials"),
        ),
    ] {
        let mut harness = waiting_for(request);
        let error = failure(harness.answer(2_000, answer.clone()));
        assert_eq!(error.fault(), Fault::Configuration, "{answer:?} to {request:?}");
        assert!(!error.to_string().contains("password was refused"), "{error}");
        if matches!(request, RequestKind::Solve | RequestKind::Resend) {
            assert!(
                harness.flow.is_pending(),
                "the intent is still alive: fix the key and go on"
            );
        }
    }
}

#[test]
fn answer_403_ends_the_attempt_and_every_later_solve_says_so() {
    for kind in [
        "errors/account_restricted",
        "errors/account_mismatch",
        "errors/some_new_refusal",
    ] {
        let (mut harness, _) = pending(0);
        sent(harness.command(1_000, solve("123456")));
        let error = failure(harness.answer(1_100, error(403, kind)));
        assert_eq!(error.fault(), Fault::Account, "{kind}");
        assert_eq!(harness.flow.phase(), Phase::Refused);
        assert_eq!(
            harness.flow.refused().and_then(|e| e.kind.clone()),
            Some(ErrorType::from(kind.to_owned()))
        );
        let again = failure(harness.command(1_200, solve("123456")));
        assert_eq!(again.fault(), Fault::Account, "no code will help");
        assert!(
            sent(harness.command(1_300, connect_messenger())).path == "/accounts",
            "connect starts over"
        );
    }
}

#[test]
fn answer_408_is_the_first_request_against_an_old_intent_expired() {
    let (mut harness, intent) = pending(0);
    sent(harness.command(1_000, solve("123456")));
    let Error::IntentExpired(expired) = failure(harness.answer(1_100, bare(408))) else {
        panic!()
    };
    assert_eq!(
        (expired.detected_by, expired.deadline),
        (Detection::Server, intent.deadline)
    );
    assert_eq!(harness.flow.phase(), Phase::Expired);
}

#[test]
fn answer_400_after_expiry_means_the_intent_destroyed_itself() {
    let (mut harness, _) = pending(0);
    sent(harness.command(1_000, solve("123456")));
    let Error::IntentDestroyed(destroyed) =
        failure(harness.answer(1_100, Answer::new(400, "<html>gone</html>")))
    else {
        panic!()
    };
    assert_eq!(destroyed.account_id.as_str(), "acc-1");
    assert_eq!(destroyed.cause.problem, Problem::IntentEnded);
    assert_eq!(harness.flow.phase(), Phase::Destroyed);
}

#[test]
fn the_documented_400_validation_types_keep_a_live_intent() {
    for kind in auth_core::VALIDATION_TYPES {
        for answer in [
            error(400, kind),
            quickstart_error(400, kind.trim_start_matches("errors/")),
        ] {
            let (mut harness, _) = pending(0);
            sent(harness.command(1_000, solve("(+33)0612")));
            let error = failure(harness.answer(1_100, answer));
            assert!(error.api_error().unwrap().is_invalid_request(), "{kind}");
            assert!(error.is_retryable_by_user());
            assert!(harness.flow.is_pending(), "{kind}: the intent is alive");
        }
    }
}

#[test]
fn answer_500_authentication_intent_error_destroys_the_intent() {
    let (mut harness, _) = pending(0);
    sent(harness.command(1_000, solve("123456")));
    let output = harness.answer(1_100, error(500, "errors/authentication_intent_error"));
    assert!(matches!(failure(output), Error::IntentDestroyed(_)));
}

#[test]
fn both_error_envelopes_are_read_and_the_request_id_is_shown() {
    let (mut harness, _) = pending(0);
    sent(harness.command(1_000, solve("123456")));
    let first = failure(harness.answer(1_100, quickstart_error(401, "invalid_checkpoint_solution")));
    let api = first.api_error().unwrap();
    assert_eq!(api.kind, Some(ErrorType::InvalidCheckpointSolution));
    assert_eq!(
        api.title.as_deref(),
        Some("Message of invalid_checkpoint_solution")
    );
    assert_eq!(first.request_id(), Some("rq-invalid_checkpoint_solution"));
    assert!(
        first
            .to_string()
            .contains("[request id: rq-invalid_checkpoint_solution]"),
        "{first}"
    );

    sent(harness.command(1_200, solve("123456")));
    let second = failure(harness.answer(1_300, error(401, "errors/invalid_checkpoint_solution")));
    assert_eq!(second.request_id(), Some("req-401"), "from `instance`");

    sent(harness.command(1_400, solve("123456")));
    let answer = Answer::new(
        401,
        r#"{"type":"errors/invalid_checkpoint_solution","title":"Wrong"}"#,
    )
    .with_header("X-Request-Id", "hdr-7");
    assert_eq!(
        failure(harness.answer(1_500, answer)).request_id(),
        Some("hdr-7"),
        "from the header"
    );
}

#[test]
fn error_bodies_need_no_detail_no_instance_and_no_json() {
    for body in [
        "",
        "<html>oops</html>",
        r#"{"status":401,"type":"errors/invalid_checkpoint_solution","title":"t"}"#,
    ] {
        let (mut harness, _) = pending(0);
        sent(harness.command(1_000, solve("123456")));
        let output = harness.answer(1_100, Answer::new(401, body));
        assert!(
            matches!(output, Output::Error(Error::Api(_))),
            "{body:?}: {output:?}"
        );
        assert!(harness.flow.is_pending());
    }
}

#[test]
fn unknown_answers_are_malformed_and_lose_no_intent() {
    for answer in [
        Answer::new(200, "not json"),
        Answer::new(201, r#"{"object":"Surprise","account_id":"a"}"#),
        Answer::new(201, "[1,2,3]"),
        Answer::new(302, ""),
        Answer::new(101, ""),
    ] {
        let (mut harness, _) = pending(0);
        sent(harness.command(1_000, solve("123456")));
        let error = failure(harness.answer(1_100, answer.clone()));
        assert!(matches!(error, Error::Malformed(_)), "{answer:?}");
        assert_eq!(error.fault(), Fault::Protocol);
        assert!(harness.flow.is_pending(), "a malformed answer loses no intent");
    }
}

// ## Checkpoint types and special codes

#[test]
fn every_checkpoint_type_is_typed_with_its_extra_fields() {
    let cases = [
        (
            r#"{"type":"2FA","source":"SMS"}"#,
            Checkpoint::TwoFactor {
                source: Some(TwoFactorSource::Sms),
            },
        ),
        (
            r#"{"type":"2FA","source":"APP"}"#,
            Checkpoint::TwoFactor {
                source: Some(TwoFactorSource::App),
            },
        ),
        (r#"{"type":"OTP"}"#, Checkpoint::Otp),
        (r#"{"type":"IN_APP_VALIDATION"}"#, Checkpoint::InAppValidation),
        (r#"{"type":"PHONE_REGISTER"}"#, Checkpoint::PhoneRegister),
        (
            r#"{"type":"CAPTCHA","public_key":"pk","data":"d"}"#,
            Checkpoint::Captcha {
                public_key: Some("pk".into()),
                data: Some("d".into()),
            },
        ),
        (
            r#"{"type":"QRCODE","qrcode":"qr"}"#,
            Checkpoint::QrCode {
                qrcode: Some("qr".into()),
            },
        ),
        (
            r#"{"type":"CONTRACT_CHOOSER","contract_options":[{"id":"c1","name":"Pro"}]}"#,
            Checkpoint::ContractChooser {
                options: vec![ContractOption {
                    id: "c1".into(),
                    name: "Pro".into(),
                }],
            },
        ),
    ];
    for (json, expected) in cases {
        let mut harness = Harness::new(config());
        sent(harness.command(0, connect_messenger()));
        let Event::Checkpoint(intent) = event(harness.answer(1, checkpoint("acc-1", json))) else {
            panic!("{json}")
        };
        assert_eq!(intent.checkpoint, expected, "{json}");
    }
}

#[test]
fn an_unknown_checkpoint_type_is_kept_by_name_and_solvable_by_code() {
    let mut harness = Harness::new(config());
    sent(harness.command(0, connect_messenger()));
    let Event::Checkpoint(intent) =
        event(harness.answer(1, checkpoint("acc-1", r#"{"type":"FACE_SCAN","hint":"smile"}"#)))
    else {
        panic!()
    };
    assert_eq!(intent.checkpoint.kind(), "FACE_SCAN");
    let request = sent(harness.command(2, solve("smiled")));
    assert_eq!(body_json(&request)["code"], "smiled");
    assert!(matches!(
        event(harness.answer(3, created("acc-1"))),
        Event::Connected { .. }
    ));
}

#[test]
fn in_app_validation_may_take_the_intents_whole_remaining_time() {
    let (mut harness, intent) = pending(0);
    let request = sent(harness.command(60_000, Command::Solve(Solution::InAppValidation)));
    assert_eq!(body_json(&request)["code"], "in_app_validation");
    assert_eq!(request.timeout, intent.remaining(at(60_000)));
}

#[test]
fn ordinary_requests_never_outlive_the_intent() {
    let (mut harness, intent) = pending(0);
    let late = intent.deadline.as_millis() - 2_000;
    let request = sent(harness.command(late, solve("123456")));
    assert_eq!(request.timeout, Duration::from_millis(2_000));
}

#[test]
fn try_another_way_is_answered_by_a_new_checkpoint_with_the_same_deadline() {
    let (mut harness, intent) = pending(0);
    let request = sent(harness.command(1_000, Command::Solve(Solution::TryAnotherWay)));
    assert_eq!(body_json(&request)["code"], "TRY_ANOTHER_WAY");
    let Event::Checkpoint(next) = event(harness.answer(1_100, checkpoint("acc-1", r#"{"type":"OTP"}"#)))
    else {
        panic!()
    };
    assert_eq!((next.deadline, next.checkpoints_solved), (intent.deadline, 0));
}

#[test]
fn chained_checkpoints_keep_the_first_deadline() {
    let (mut harness, intent) = pending(0);
    sent(harness.command(1_000, solve("111111")));
    let Event::Checkpoint(next) = event(harness.answer(1_100, checkpoint("acc-1", r#"{"type":"OTP"}"#)))
    else {
        panic!()
    };
    assert_eq!(
        (next.checkpoint.clone(), next.deadline, next.checkpoints_solved),
        (Checkpoint::Otp, intent.deadline, 1)
    );
}

// ## The intent's time

#[test]
fn a_solve_at_the_deadline_sends_nothing_and_expires() {
    let (mut harness, intent) = pending(0);
    let Error::IntentExpired(expired) = failure(harness.command(intent.deadline.as_millis(), solve("1")))
    else {
        panic!()
    };
    assert_eq!(expired.detected_by, Detection::Deadline);
    assert_eq!(harness.flow.phase(), Phase::Expired);
    assert!(matches!(
        failure(harness.command(intent.deadline.as_millis() + 1, solve("1"))),
        Error::IntentExpired(_)
    ));
}

#[test]
fn a_tick_expires_exactly_at_the_deadline_and_extra_ticks_are_harmless() {
    let (mut harness, intent) = pending(0);
    let deadline = intent.deadline.as_millis();
    assert!(matches!(harness.tick(deadline - 1), Output::Wait(Some(d)) if d == intent.deadline));
    assert!(harness.flow.is_pending());
    assert!(matches!(failure(harness.tick(deadline)), Error::IntentExpired(_)));
    assert!(matches!(harness.tick(deadline + 5), Output::Wait(None)));
    assert_eq!(harness.flow.phase(), Phase::Expired);
}

#[test]
fn a_clock_that_goes_backwards_revives_nothing() {
    let (mut harness, intent) = pending(0);
    let deadline = intent.deadline.as_millis();
    failure(harness.tick(deadline));
    assert!(matches!(
        failure(harness.command(0, solve("1"))),
        Error::IntentExpired(_)
    ));
    let (mut harness, _) = pending(0);
    harness.tick(deadline - 10);
    // Time "goes back" a minute: the remaining time is counted from the latest time seen.
    assert_eq!(
        harness.flow.remaining(at(deadline - 60_000)),
        Some(Duration::from_millis(10))
    );
}

#[test]
fn a_202_answered_after_the_deadline_expires_at_once() {
    let mut harness = Harness::new(config());
    sent(harness.command(0, connect_messenger()));
    assert!(matches!(
        failure(harness.answer(FIVE_MINUTES, two_factor("acc-1"))),
        Error::IntentExpired(_)
    ));
    assert_eq!(harness.flow.phase(), Phase::Expired);
}

#[test]
fn a_new_intent_starts_after_an_end_with_the_same_configuration() {
    let (mut harness, intent) = pending(0);
    failure(harness.tick(intent.deadline.as_millis()));
    let request = sent(harness.command(FIVE_MINUTES + 10, connect_messenger()));
    assert_eq!(request.path, "/accounts");
    let Event::Checkpoint(next) = event(harness.answer(FIVE_MINUTES + 20, two_factor("acc-2"))) else {
        panic!()
    };
    assert_eq!(next.started_at, at(FIVE_MINUTES + 10));
}

// ## Misuse

#[test]
fn every_phase_and_input_without_a_rule_is_a_misuse_that_changes_nothing() {
    let (mut harness, _) = pending(0);
    // A solve out: commands are misuse.
    sent(harness.command(1_000, solve("1")));
    for command in [
        connect_messenger(),
        solve("2"),
        Command::Resend,
        Command::AccountStatus("a".into()),
    ] {
        let error = failure(harness.command(1_100, command));
        assert!(
            matches!(error, Error::Usage(UsageError::RequestInFlight)),
            "{error}"
        );
        assert_eq!(error.fault(), Fault::Caller);
        assert_eq!(harness.flow.phase(), Phase::Solving);
    }
    // Nothing out: answers and failures are misuse.
    let mut idle = Harness::new(config());
    assert!(matches!(
        failure(idle.answer(0, created("a"))),
        Error::Usage(UsageError::NoRequestInFlight)
    ));
    assert!(matches!(
        failure(idle.fail(0, io_failure())),
        Error::Usage(UsageError::NoRequestInFlight)
    ));
    assert!(matches!(
        failure(idle.command(0, solve("1"))),
        Error::Usage(UsageError::NoPendingIntent)
    ));
    assert!(matches!(
        failure(idle.command(0, Command::Resend)),
        Error::Usage(UsageError::NoPendingIntent)
    ));
    let (mut waiting, _) = pending(0);
    assert!(matches!(
        failure(waiting.command(1, Command::AccountStatus("a".into()))),
        Error::Usage(UsageError::IntentPending)
    ));
    let mut connected = Harness::new(config());
    sent(connected.command(0, connect_messenger()));
    event(connected.answer(1, created("acc-1")));
    assert!(matches!(
        failure(connected.command(2, solve("1"))),
        Error::Usage(UsageError::NoPendingIntent)
    ));
    assert!(connected.flow.is_connected());
    let (mut empty, _) = pending(0);
    assert!(matches!(
        failure(empty.command(1, solve(""))),
        Error::Usage(UsageError::Empty("code"))
    ));
    assert!(empty.flow.is_pending());
}

#[test]
fn secrets_never_reach_debug_output() {
    let (mut harness, _) = pending(0);
    let request = sent(harness.command(1_000, solve("998877")));
    let shown = format!("{:?} {:?} {request:?}", harness.flow, harness.flow.snapshot());
    for secret in [API_KEY, PASSWORD, "998877"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

//! Every fault the simulator can inject, and the transport's safety rules, through the
//! client on real loopback sockets: what the core's retry policy recovers (a lost answer,
//! a 5xx, a 429, sent again with the same `Idempotency-Key`), and what ends in a typed error
//! without a secret.

use std::net::TcpListener;
use std::time::Duration;

use auth_client::BuildError;
use auth_core::{
    BaseUrlError, Connection, Error, ErrorType, Fault, Problem, RetryPolicy, Solved, TransportErrorKind,
    UnixMillis,
};
use auth_sim::{Account, Checkpoint as SimCheckpoint, Fault as SimFault, Fixture};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver, IntentUnderTest};
use crate::support::client as client_of;
use crate::support::*;

/// A fixture where `victim` (password `pw-secret`) has `fault` on connect, and `erin` has
/// `fault` on the solve of her 2FA (code 123456).
fn faulty(fault: SimFault) -> Fixture {
    Fixture::new()
        .account(Account::new("victim", "pw-secret").fault(fault.clone()))
        .account(
            Account::new("erin", "pw-secret").checkpoint(SimCheckpoint::new("2FA", "123456").fault(fault)),
        )
}

/// The same request, sent `count` times with one key and one body.
fn assert_one_request_sent(sim: &auth_sim::Simulator, suffix: &str, count: usize) {
    let sent: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect();
    assert_eq!(sent.len(), count, "{sent:?}");
    let keys = keys_sent_to(sim, suffix);
    assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");
    assert!(
        sent.iter().all(|r| r.body == sent[0].body),
        "the same body on every attempt"
    );
}

/// With the `faulty` fixture's fault on the first attempt of each: victim's connect and
/// erin's solve both go through, each sent twice with one key and one body.
fn both_go_through_on_their_second_attempt<D: Driver>(client: &D::Client, sim: &auth_sim::Simulator) {
    assert!(matches!(
        client.connect_messenger("victim", "pw-secret").unwrap(),
        Connection::Connected { .. }
    ));
    assert_one_request_sent(sim, "/accounts", 2);

    let mut intent = pending::<D>(client, "erin", "pw-secret");
    assert!(matches!(
        intent.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
    assert_one_request_sent(sim, "/accounts/checkpoint", 2);
}

/// A delay past the request timeout is sent again with the same key and answered.
pub fn a_delay_past_the_request_timeout_is_sent_again_with_the_same_key_and_answered<D: Driver>() {
    let sim = start_sim(faulty(SimFault::new().delay(Duration::from_secs(5)).times(1)));
    let client = builder::<D>(&sim, Style::Postpress)
        .request_timeout(Duration::from_secs(1))
        .clock(ManualClock::new())
        .build()
        .unwrap();
    both_go_through_on_their_second_attempt::<D>(&client, &sim);
}

/// Without retries a timeout is an error and the intent stays resumable.
pub fn without_retries_a_timeout_is_an_error_and_the_intent_stays_resumable<D: Driver>() {
    let sim = start_sim(faulty(SimFault::new().delay(Duration::from_secs(5)).times(1)));
    let client = builder::<D>(&sim, Style::Postpress)
        .request_timeout(Duration::from_secs(1))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout);

    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout);
    assert!(intent.is_pending(), "a timeout leaves the intent pending");

    // Saved and resumed, the same intent is solved (the fault applied once), and the lost
    // solve is sent again with its key.
    let saved = intent.save();
    let lost_key = saved.unsettled_key().expect("the lost solve is kept");
    let mut resumed = client.resume(saved).unwrap();
    assert!(matches!(
        resumed.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
    assert_eq!(keys_sent_to(&sim, "/accounts/checkpoint"), [lost_key.as_str(); 2]);
}

/// Forced 5xx statuses are retried, then API errors with their status.
pub fn forced_5xx_statuses_are_retried_then_api_errors_with_their_status<D: Driver>() {
    for status in [500, 502, 503] {
        let sim = start_sim(faulty(SimFault::new().force_status(status)));
        let client = client_of::<D>(&sim, Style::Unipile);
        let error = expect_err(client.connect_messenger("victim", "pw-secret"));
        assert!(matches!(error, Error::Api(_)), "{error:?}");
        let api = error.api_error().unwrap();
        assert_eq!((api.status, api.problem), (status, Problem::ServerFailure));
        assert_eq!(error.fault(), Fault::Server);
        // The default policy: four attempts, one key.
        assert_one_request_sent(&sim, "/accounts", 4);
    }
    // A 503 against a pending intent, once: sent again with the same key, and solved.
    let sim = start_sim(faulty(SimFault::new().force_status(503).times(1)));
    let client = client_of::<D>(&sim, Style::Postpress);
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    assert!(matches!(
        intent.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
    assert_one_request_sent(&sim, "/accounts/checkpoint", 2);
    // Every time: after the retries the intent is still pending.
    let sim = start_sim(faulty(SimFault::new().force_status(503)));
    let client = client_of::<D>(&sim, Style::Postpress);
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    assert_eq!(error.api_error().unwrap().status, 503);
    assert!(intent.is_pending());
}

/// A body that is not JSON is a typed error.
pub fn a_body_that_is_not_json_is_a_typed_error<D: Driver>() {
    let sim = start_sim(faulty(SimFault::new().non_json_body()));
    let client = client_of::<D>(&sim, Style::Postpress);
    // A success status with HTML: outside the contract.
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    let Error::Malformed(malformed) = &error else {
        panic!("expected malformed, got {error:?}");
    };
    assert_eq!(malformed.status, 201);
    assert!(malformed.excerpt.contains("<html"), "{malformed:?}");
    // An error status with HTML: an API error that keeps the status and an excerpt.
    let error = expect_err(client.connect_messenger("victim", "pw-wrong-secret"));
    let api = error.api_error().expect("an API error");
    assert_eq!(api.status, 401);
    assert!(api.excerpt.as_deref().unwrap_or_default().contains("<html"));
    assert!(!format!("{error:?}").contains("pw-wrong-secret"));
}

/// A connection closed mid-answer is sent again, and the replay is read.
pub fn a_connection_closed_mid_answer_is_sent_again_and_the_replay_is_read<D: Driver>() {
    // The simulator acted on the request, then cut its answer; the retry with the same key
    // gets the answer it recorded, without acting again.
    let sim = start_sim(faulty(SimFault::new().close_mid_answer()));
    let client = client_of::<D>(&sim, Style::Postpress);
    assert!(matches!(
        client.connect_messenger("victim", "pw-secret").unwrap(),
        Connection::Connected { .. }
    ));
    assert_one_request_sent(&sim, "/accounts", 2);
    assert_eq!(sim.connected_accounts().len(), 1, "connected once");
    // Without retries: an io error.
    let client = builder::<D>(&sim, Style::Postpress)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Io);
}

/// A connect whose 202 was lost is sent again and finds the same intent.
pub fn a_connect_whose_202_was_lost_is_sent_again_and_finds_the_same_intent<D: Driver>() {
    let sim = start_sim(
        Fixture::new().account(
            Account::new("erin", "pw-secret")
                .fault(SimFault::new().lose_answer().times(1))
                .checkpoint(SimCheckpoint::new("2FA", "123456")),
        ),
    );
    let clock = ManualClock::new();
    let client = builder::<D>(&sim, Style::Unipile)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    assert_one_request_sent(&sim, "/accounts", 2);
    assert_eq!(sim.pending_intents(), 1, "one intent, not two");
    // The deadline counts from the first attempt, whose 202 was lost.
    assert_eq!(
        intent.deadline(),
        UnixMillis::from_millis(ManualClock::START).saturating_add(Duration::from_secs(300))
    );
    assert!(matches!(
        intent.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
}

/// A solve whose 201 was lost is sent again and connects.
pub fn a_solve_whose_201_was_lost_is_sent_again_and_connects<D: Driver>() {
    let sim = start_sim(faulty(SimFault::new().lose_answer().times(1)));
    let client = client_of::<D>(&sim, Style::Postpress);
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    assert!(matches!(
        intent.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
    assert_one_request_sent(&sim, "/accounts/checkpoint", 2);
    assert_eq!(sim.connected_accounts().len(), 1, "connected once");
}

/// A 429's `Retry-After` is waited for inside the deadline, and not past it.
pub fn a_429_with_retry_after_is_waited_for_inside_the_deadline_and_not_past_it<D: Driver>() {
    let limited = SimFault::new().force_status(429).retry_after_secs(2).times(1);
    let sim = start_sim(faulty(limited));
    let clock = ManualClock::new();
    let client = builder::<D>(&sim, Style::Postpress)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    assert!(matches!(
        intent.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
    // The server's two seconds, on the client's clock, then the same request.
    assert_eq!(clock.elapsed(), Duration::from_secs(2));
    assert_one_request_sent(&sim, "/accounts/checkpoint", 2);

    // A second left: a wait of two would end past the deadline, so nothing is sent again.
    let sim = start_sim(faulty(SimFault::new().force_status(429).retry_after_secs(2)));
    let clock = ManualClock::new();
    let client = builder::<D>(&sim, Style::Postpress)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    clock.advance(Duration::from_secs(299));
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    let api = error.api_error().unwrap();
    assert_eq!((api.status, api.problem), (429, Problem::RateLimited));
    assert_eq!(api.retry_after, Some(Duration::from_secs(2)));
    assert_eq!(
        clock.elapsed(),
        Duration::from_secs(299),
        "nothing was waited for"
    );
    assert_one_request_sent(&sim, "/accounts/checkpoint", 1);
    assert!(intent.is_pending());
}

/// A connection closed without an answer is sent again with the same key.
pub fn a_connection_closed_without_an_answer_is_sent_again_with_the_same_key<D: Driver>() {
    // The simulator closes the connection before it acts on the request, once.
    let sim = start_sim(faulty(SimFault::new().close_without_answer().times(1)));
    let client = client_of::<D>(&sim, Style::Unipile);
    both_go_through_on_their_second_attempt::<D>(&client, &sim);
    // Every time: an io error after the retries, and the intent is still pending.
    let sim = start_sim(faulty(SimFault::new().close_without_answer()));
    let client = client_of::<D>(&sim, Style::Unipile);
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Io);
    assert_eq!(error.fault(), Fault::Network);
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Io);
    assert!(intent.is_pending());
}

/// An answer over the limit is `BodyTooLarge`, and one at the limit is read.
pub fn an_answer_over_the_limit_is_body_too_large_and_one_at_the_limit_is_read<D: Driver>() {
    // The default limit, 1 MiB.
    let sim = start_sim(faulty(SimFault::new().oversized_body(2 << 20)));
    let client = client_of::<D>(&sim, Style::Postpress);
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::BodyTooLarge);

    // A limit of our own: exactly at it is fine, one byte more is not.
    for (body, accepted) in [(4096, true), (4097, false)] {
        let sim = start_sim(faulty(SimFault::new().oversized_body(body)));
        let client = builder::<D>(&sim, Style::Postpress)
            .max_answer_bytes(4096)
            .build()
            .unwrap();
        let result = client.connect_messenger("victim", "pw-secret");
        if accepted {
            assert!(matches!(result.unwrap(), Connection::Connected { .. }));
        } else {
            assert_eq!(
                transport_kind(&expect_err(result)),
                TransportErrorKind::BodyTooLarge
            );
        }
    }
}

/// A redirect is refused, and the API key never reaches the other host.
pub fn a_redirect_is_refused_and_the_api_key_never_reaches_the_other_host<D: Driver>() {
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let origin = format!("http://{}", elsewhere.local_addr().unwrap());
    let target = format!("{origin}/elsewhere?token=pw-secret");
    for status in [None, Some(301), Some(302), Some(308)] {
        let mut fault = SimFault::new().redirect_to(target.clone());
        if let Some(status) = status {
            fault = fault.force_status(status);
        }
        let sim = start_sim(faulty(fault));
        let client = client_of::<D>(&sim, Style::Postpress);
        let error = expect_err(client.connect_messenger("victim", "pw-secret"));
        assert_eq!(transport_kind(&error), TransportErrorKind::Redirect);
        // Where it pointed: the host, never the path or the query (a token may be there).
        assert!(error.to_string().contains(&origin), "{error}");
        assert!(!error.to_string().contains("/elsewhere"), "{error}");
        assert_no_secret(&error);
        assert_eq!(sim.requests().len(), 1, "nothing sent again");
    }
    // Nobody ever connected to the other host.
    let accepted = elsewhere.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{accepted:?}"
    );
}

/// A refused connection is a `Connect` error.
pub fn a_refused_connection_is_a_connect_error<D: Driver>() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let clock = ManualClock::new();
    let client = D::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .api_key(API_KEY)
        .clock(clock.clone())
        .build()
        .unwrap();
    let error = expect_err(client.connect_messenger("alice", "pw-a"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Connect);
    // Tried four times, the waits on the client's clock: 250 ms, 500 ms, 1 s, less jitter.
    assert!(
        clock.elapsed() > Duration::from_millis(800),
        "{:?}",
        clock.elapsed()
    );
    assert!(
        clock.elapsed() <= Duration::from_millis(1750),
        "{:?}",
        clock.elapsed()
    );
}

/// Plain http to a host that is not loopback is refused when the client is built.
pub fn plain_http_to_a_host_that_is_not_loopback_is_refused_when_the_client_is_built<D: Driver>() {
    let sim = demo_sim();
    for url in [
        format!("http://0.0.0.0:{}/v1", sim.port()),
        "http://api.postpress.ai/v1".to_owned(),
        "http://192.168.1.10:8080/api/v1".to_owned(),
    ] {
        let refused = D::builder().base_url(url.clone()).api_key(API_KEY).build();
        assert!(
            matches!(
                refused,
                Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))
            ),
            "{url}"
        );
        // The caller may opt out, explicitly.
        let allowed = D::builder()
            .base_url(url.clone())
            .api_key(API_KEY)
            .allow_insecure_http(true)
            .build()
            .unwrap();
        assert_eq!(allowed.base_url().to_string(), url);
    }
    assert_eq!(sim.connections_accepted(), 0, "nothing was sent");
    // https anywhere, and both presets, build without sending anything.
    let unipile = D::builder()
        .unipile("api1.unipile.com:13111")
        .api_key(API_KEY)
        .build()
        .unwrap();
    assert_eq!(
        unipile.base_url().to_string(),
        "https://api1.unipile.com:13111/api/v1"
    );
    let postpress = D::builder().postpress().api_key(API_KEY).build().unwrap();
    assert_eq!(postpress.base_url().to_string(), "https://api.postpress.ai/v1");
}

/// Build errors name the problem without a secret.
pub fn build_errors_name_the_problem_without_a_secret<D: Driver>() {
    assert!(matches!(D::builder().build(), Err(BuildError::MissingApiKey)));
    assert!(matches!(
        D::builder().api_key("").build(),
        Err(BuildError::MissingApiKey)
    ));
    let error = D::builder().api_key("sk-line\nbreak-secret").build().unwrap_err();
    assert!(matches!(
        error,
        BuildError::InvalidSetting {
            setting: "api_key",
            ..
        }
    ));
    assert!(!format!("{error} {error:?}").contains("break-secret"));
    let error = D::builder()
        .base_url("https://user:pw-secret@api.postpress.ai/v1")
        .api_key(API_KEY)
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::BaseUrl(BaseUrlError::Invalid { .. })));
    let error = D::builder()
        .base_url("https://api.postpress.ai/v1#key=1")
        .api_key(API_KEY)
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::BaseUrl(BaseUrlError::Invalid { .. })));
    let error = D::builder()
        .request_timeout(Duration::ZERO)
        .api_key(API_KEY)
        .build()
        .unwrap_err();
    assert!(matches!(
        error,
        BuildError::InvalidSetting {
            setting: "request_timeout",
            ..
        }
    ));
    for text in [
        format!("{error} {error:?}"),
        format!("{:?}", D::builder().api_key(API_KEY)),
    ] {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let client = D::builder().api_key(API_KEY).build().unwrap();
    assert!(!format!("{client:?}").contains(API_KEY));
}

/// An unknown error type is kept by name.
pub fn an_unknown_error_type_is_kept_by_name<D: Driver>() {
    let sim = start_sim(faulty(
        SimFault::new()
            .force_status(403)
            .force_type("errors/brand_new_type"),
    ));
    let client = client_of::<D>(&sim, Style::Postpress);
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    let api = error.api_error().unwrap();
    assert_eq!(api.status, 403);
    assert_eq!(
        api.kind,
        Some(ErrorType::Other("errors/brand_new_type".to_owned()))
    );
    // Every 403 refuses the account: no code will help.
    assert_eq!(api.problem, Problem::AccountRefused);
    assert!(error.to_string().contains("errors/brand_new_type"));
}

//! Every fault the simulator can inject, and the transport's safety rules, through the
//! [`Client`] on real loopback sockets: each ends in a typed error without a secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::net::TcpListener;
use std::time::Duration;

use auth_sim::{Account, Checkpoint as SimCheckpoint, Fault, Fixture};
use auth_ureq::{BuildError, Client, Connection, Error, ErrorType, Solved, TransportErrorKind};
use support::*;

/// A fixture where `victim` (password `pw-secret`) has `fault` on connect, and `erin` has
/// `fault` on the solve of her 2FA (code 123456).
fn faulty(fault: Fault) -> Fixture {
    Fixture::new()
        .account(Account::new("victim", "pw-secret").fault(fault.clone()))
        .account(
            Account::new("erin", "pw-secret").checkpoint(SimCheckpoint::new("2FA", "123456").fault(fault)),
        )
}

fn transport_kind(error: &Error) -> TransportErrorKind {
    match error {
        Error::Transport(transport) => transport.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn a_delay_past_the_request_timeout_is_a_timeout_and_the_intent_stays_resumable() {
    let sim = start_sim(faulty(Fault::new().delay(Duration::from_secs(5)).times(1)));
    let client = builder(&sim, Style::Postpress)
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout);

    let Connection::Pending(mut intent) = client.connect_messenger("erin", "pw-secret").unwrap() else {
        panic!("erin has a checkpoint");
    };
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Timeout);
    assert!(intent.is_pending(), "a timeout leaves the intent pending");

    // Saved and resumed, the same intent is solved (the fault applied once).
    let mut resumed = client.resume(intent.save()).unwrap();
    assert!(matches!(
        resumed.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
}

#[test]
fn forced_5xx_statuses_are_api_errors_with_their_status() {
    for status in [500, 502, 503] {
        let sim = start_sim(faulty(Fault::new().force_status(status)));
        let client = client(&sim, Style::Unipile);
        let error = expect_err(client.connect_messenger("victim", "pw-secret"));
        assert!(matches!(error, Error::Api(_)), "{error:?}");
        assert_eq!(error.api_error().unwrap().status, status);
    }
    // A 503 against a pending intent leaves it pending.
    let sim = start_sim(faulty(Fault::new().force_status(503).times(1)));
    let client = client(&sim, Style::Postpress);
    let Connection::Pending(mut intent) = client.connect_messenger("erin", "pw-secret").unwrap() else {
        panic!("erin has a checkpoint");
    };
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    assert_eq!(error.api_error().unwrap().status, 503);
    assert!(intent.is_pending());
}

#[test]
fn a_body_that_is_not_json_is_a_typed_error() {
    let sim = start_sim(faulty(Fault::new().non_json_body()));
    let client = client(&sim, Style::Postpress);
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

#[test]
fn a_connection_closed_mid_answer_is_an_io_error() {
    let sim = start_sim(faulty(Fault::new().close_mid_answer()));
    let client = client(&sim, Style::Postpress);
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Io);
}

#[test]
fn a_connection_closed_without_an_answer_is_an_io_error_and_the_intent_stays_pending() {
    let sim = start_sim(faulty(Fault::new().close_without_answer().times(1)));
    let client = client(&sim, Style::Unipile);
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Io);

    let Connection::Pending(mut intent) = client.connect_messenger("erin", "pw-secret").unwrap() else {
        panic!("erin has a checkpoint");
    };
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Io);
    assert!(intent.is_pending());
    assert!(matches!(
        intent.solve_code_checkpoint("123456").unwrap(),
        Solved::Connected { .. }
    ));
}

#[test]
fn an_answer_over_the_limit_is_body_too_large_and_one_at_the_limit_is_read() {
    // The default limit, 1 MiB.
    let sim = start_sim(faulty(Fault::new().oversized_body(2 << 20)));
    let client = client(&sim, Style::Postpress);
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    assert_eq!(transport_kind(&error), TransportErrorKind::BodyTooLarge);

    // A limit of our own: exactly at it is fine, one byte more is not.
    for (body, accepted) in [(4096, true), (4097, false)] {
        let sim = start_sim(faulty(Fault::new().oversized_body(body)));
        let client = builder(&sim, Style::Postpress)
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

#[test]
fn a_redirect_is_refused_and_the_api_key_never_reaches_the_other_host() {
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!("http://{}/v1/accounts", elsewhere.local_addr().unwrap());
    for status in [None, Some(301), Some(302), Some(308)] {
        let mut fault = Fault::new().redirect_to(target.clone());
        if let Some(status) = status {
            fault = fault.force_status(status);
        }
        let sim = start_sim(faulty(fault));
        let client = client(&sim, Style::Postpress);
        let error = expect_err(client.connect_messenger("victim", "pw-secret"));
        assert_eq!(transport_kind(&error), TransportErrorKind::Redirect);
        assert!(error.to_string().contains(&target), "{error}");
        assert_eq!(sim.requests().len(), 1, "nothing sent again");
    }
    // Nobody ever connected to the other host.
    let accepted = elsewhere.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{accepted:?}"
    );
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .api_key(API_KEY)
        .build()
        .unwrap();
    let error = expect_err(client.connect_messenger("alice", "pw-a"));
    assert_eq!(transport_kind(&error), TransportErrorKind::Connect);
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_when_the_client_is_built() {
    let sim = demo_sim();
    for url in [
        format!("http://0.0.0.0:{}/v1", sim.port()),
        "http://api.postpress.ai/v1".to_owned(),
        "http://192.168.1.10:8080/api/v1".to_owned(),
    ] {
        let refused = Client::builder().base_url(url.clone()).api_key(API_KEY).build();
        assert!(matches!(refused, Err(BuildError::InsecureHttp { .. })), "{url}");
        // The caller may opt out, explicitly.
        let allowed = Client::builder()
            .base_url(url.clone())
            .api_key(API_KEY)
            .allow_insecure_http(true)
            .build()
            .unwrap();
        assert_eq!(allowed.base_url(), url);
    }
    assert_eq!(sim.connections_accepted(), 0, "nothing was sent");
    // https anywhere, and both presets, build without sending anything.
    let unipile = Client::builder()
        .unipile("api1.unipile.com:13111")
        .api_key(API_KEY)
        .build()
        .unwrap();
    assert_eq!(unipile.base_url(), "https://api1.unipile.com:13111/api/v1");
    let postpress = Client::builder().postpress().api_key(API_KEY).build().unwrap();
    assert_eq!(postpress.base_url(), "https://api.postpress.ai/v1");
}

#[test]
fn build_errors_name_the_problem_without_a_secret() {
    assert!(matches!(
        Client::builder().build(),
        Err(BuildError::MissingApiKey)
    ));
    assert!(matches!(
        Client::builder().api_key("").build(),
        Err(BuildError::MissingApiKey)
    ));
    let error = Client::builder()
        .api_key("sk-line\nbreak-secret")
        .build()
        .unwrap_err();
    assert!(matches!(
        error,
        BuildError::InvalidSetting {
            setting: "api_key",
            ..
        }
    ));
    assert!(!format!("{error} {error:?}").contains("break-secret"));
    let error = Client::builder()
        .base_url("https://user:pw-secret@api.postpress.ai/v1")
        .api_key(API_KEY)
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::InvalidBaseUrl { .. }));
    let error = Client::builder()
        .base_url("https://api.postpress.ai/v1?key=1")
        .api_key(API_KEY)
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::InvalidBaseUrl { .. }));
    let error = Client::builder()
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
        format!("{:?}", Client::builder().api_key(API_KEY)),
    ] {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let client = Client::builder().api_key(API_KEY).build().unwrap();
    assert!(!format!("{client:?}").contains(API_KEY));
}

#[test]
fn an_unknown_error_type_is_kept_by_name() {
    let sim = start_sim(faulty(
        Fault::new().force_status(403).force_type("errors/brand_new_type"),
    ));
    let client = client(&sim, Style::Postpress);
    let error = expect_err(client.connect_messenger("victim", "pw-secret"));
    let api = error.api_error().unwrap();
    assert_eq!(api.status, 403);
    assert_eq!(
        api.kind,
        Some(ErrorType::Other("errors/brand_new_type".to_owned()))
    );
    assert!(error.to_string().contains("errors/brand_new_type"));
}

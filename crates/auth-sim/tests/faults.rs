//! Fault injection, observed on a raw socket: what a transport really receives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use auth_sim::{Account, Checkpoint, Fault, Fixture, Simulator};
use common::{Client, KEY, Style, raw_post, sim_with};
use serde_json::{Value, json};

const CONNECT: &str = r#"{"provider":"MESSENGER","username":"faulty","password":"pw"}"#;

fn faulty(fault: Fault) -> Simulator {
    sim_with(
        Fixture::new()
            .account(Account::new("faulty", "pw").fault(fault))
            .account(Account::new("fine", "pw")),
    )
}

fn both_paths() -> [&'static str; 2] {
    ["/v1/accounts", "/api/v1/accounts"]
}

#[test]
fn delay_ms_delays_the_answer() {
    let sim = faulty(Fault::new().delay(Duration::from_millis(800)));
    for path in both_paths() {
        let slow = raw_post(sim.addr(), path, CONNECT);
        assert_eq!(slow.status(), Some(201));
        assert!(slow.elapsed >= Duration::from_millis(800), "{:?}", slow.elapsed);
        let fast = raw_post(
            sim.addr(),
            path,
            r#"{"provider":"MESSENGER","username":"fine","password":"pw"}"#,
        );
        assert_eq!(fast.status(), Some(201));
        assert!(fast.elapsed < Duration::from_millis(400), "{:?}", fast.elapsed);
    }
}

#[test]
fn force_status_answers_that_status_with_the_contract_error_body() {
    let sim = faulty(Fault::new().force_status(503));
    for path in both_paths() {
        let answer = raw_post(sim.addr(), path, CONNECT);
        assert_eq!(answer.status(), Some(503));
        assert_eq!(answer.header("content-type").as_deref(), Some("application/json"));
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["status"], 503);
        assert_eq!(body["type"], "errors/service_unavailable");
        assert_eq!(body["title"], "Service Unavailable");
    }
    assert!(
        sim.connected_accounts().is_empty(),
        "a forced status changes nothing"
    );

    let sim = faulty(
        Fault::new()
            .force_status(401)
            .force_type("errors/expired_credentials"),
    );
    let body: Value = serde_json::from_slice(&raw_post(sim.addr(), "/v1/accounts", CONNECT).body).unwrap();
    assert_eq!(
        (body["status"].clone(), body["type"].clone()),
        (json!(401), json!("errors/expired_credentials"))
    );
}

#[test]
fn times_limits_the_fault_to_the_first_requests() {
    let sim = faulty(Fault::new().force_status(502).times(2));
    let statuses: Vec<Option<u16>> = (0..4)
        .map(|_| raw_post(sim.addr(), "/v1/accounts", CONNECT).status())
        .collect();
    assert_eq!(statuses, [Some(502), Some(502), Some(201), Some(201)]);
}

#[test]
fn non_json_body_answers_html_labelled_as_json() {
    let sim = faulty(Fault::new().non_json_body());
    for path in both_paths() {
        let answer = raw_post(sim.addr(), path, CONNECT);
        assert_eq!(answer.status(), Some(201));
        assert_eq!(answer.header("content-type").as_deref(), Some("application/json"));
        assert!(
            answer.body.starts_with(b"<html>"),
            "{:?}",
            String::from_utf8_lossy(&answer.body)
        );
        assert!(serde_json::from_slice::<Value>(&answer.body).is_err());
        assert_eq!(answer.content_length(), Some(answer.body.len()));
    }
    // The request was processed all the same.
    assert_eq!(sim.connected_accounts().len(), 2);
}

#[test]
fn non_json_body_with_a_forced_status_looks_like_a_proxy_error_page() {
    let sim = faulty(Fault::new().force_status(502).non_json_body());
    let answer = raw_post(sim.addr(), "/api/v1/accounts", CONNECT);
    assert_eq!(answer.status(), Some(502));
    assert!(answer.body.starts_with(b"<html>"));
}

#[test]
fn close_mid_answer_declares_more_than_it_sends_then_closes() {
    let sim = faulty(Fault::new().close_mid_answer());
    for path in both_paths() {
        let answer = raw_post(sim.addr(), path, CONNECT);
        assert_eq!(answer.status(), Some(201), "{}", answer.head);
        let declared = answer.content_length().expect("a content-length is declared");
        assert!(!answer.body.is_empty(), "part of the body is sent");
        assert!(
            answer.body.len() < declared,
            "{} of {declared}",
            answer.body.len()
        );
        assert!(answer.body.starts_with(br#"{"object":"AccountCreated""#));
    }
}

#[test]
fn close_mid_answer_on_a_keep_alive_client_is_an_error_not_a_hang() {
    let sim = faulty(Fault::new().close_mid_answer().times(1));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let url = format!("{}/accounts", sim.base_url());
    let send = || {
        agent
            .post(&url)
            .header("x-api-key", KEY)
            .header("content-type", "application/json")
            .send(CONNECT)
            .and_then(|mut r| r.body_mut().read_to_string())
    };
    assert!(send().is_err(), "a truncated body must not read as complete");
    assert!(send().unwrap().contains("AccountCreated"));
}

#[test]
fn close_without_answer_closes_with_no_bytes() {
    let sim = faulty(Fault::new().close_without_answer());
    for path in both_paths() {
        let answer = raw_post(sim.addr(), path, CONNECT);
        assert!(
            answer.bytes.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&answer.bytes)
        );
    }
    let client = Client::new(&sim, Style::Postpress);
    assert_eq!(client.connect("fine", "pw").status, 201);
}

#[test]
fn oversized_body_answers_exactly_that_many_bytes_of_valid_json() {
    let size = 3 * 1024 * 1024 + 7;
    let sim = faulty(Fault::new().oversized_body(size));
    for path in both_paths() {
        let answer = raw_post(sim.addr(), path, CONNECT);
        assert_eq!(answer.status(), Some(201));
        assert_eq!(answer.content_length(), Some(size as usize));
        assert_eq!(answer.body.len(), size as usize);
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["object"], "AccountCreated");
        assert!(body["account_id"].is_string());
    }
}

#[test]
fn redirect_to_answers_307_with_location() {
    let sim = faulty(Fault::new().redirect_to("http://127.0.0.1:1/elsewhere"));
    for path in both_paths() {
        let answer = raw_post(sim.addr(), path, CONNECT);
        assert_eq!(answer.status(), Some(307));
        assert_eq!(
            answer.header("location").as_deref(),
            Some("http://127.0.0.1:1/elsewhere")
        );
    }
    let sim = faulty(Fault::new().redirect_to("/v1/accounts").force_status(308));
    assert_eq!(raw_post(sim.addr(), "/v1/accounts", CONNECT).status(), Some(308));
}

#[test]
fn checkpoint_faults_apply_to_solve_and_resend_not_to_connect() {
    let fixture = Fixture::new().account(
        Account::new("erin", "pw")
            .checkpoint(Checkpoint::new("2FA", "1"))
            .checkpoint(Checkpoint::new("OTP", "2").fault(Fault::new().force_status(503).times(2))),
    );
    let sim = sim_with(fixture);
    let client = Client::new(&sim, Style::Unipile);
    let id = client.connect("erin", "pw").account_id();
    // The first checkpoint has no fault.
    assert_eq!(client.solve(&id, "1").status, 202);
    client.resend(&id).assert_error(503, "errors/service_unavailable");
    client
        .solve(&id, "2")
        .assert_error(503, "errors/service_unavailable");
    // A 503 does not end the intent.
    assert_eq!(client.solve(&id, "2").status, 201);
}

#[test]
fn account_faults_apply_to_connect_and_reconnect_not_to_solve() {
    let fixture = Fixture::new().account(
        Account::new("erin", "pw")
            .fault(Fault::new().force_status(504).times(1))
            .checkpoint(Checkpoint::new("2FA", "1")),
    );
    let sim = sim_with(fixture);
    let client = Client::new(&sim, Style::Postpress);
    client
        .connect("erin", "pw")
        .assert_error(504, "errors/gateway_timeout");
    let id = client.connect("erin", "pw").account_id();
    assert_eq!(client.solve(&id, "1").status, 201);

    let fixture =
        Fixture::new().account(Account::new("gus", "pw").fault(Fault::new().force_status(503).times(1)));
    let sim = sim_with(fixture.clone());
    let client = Client::new(&sim, Style::Postpress);
    client
        .connect("gus", "pw")
        .assert_error(503, "errors/service_unavailable");
    let id = client.connect("gus", "pw").account_id();
    assert_eq!(client.reconnect(&id, "gus", "pw").status, 201);
}

#[test]
fn a_forced_408_ends_the_intent_like_an_expiry() {
    let fixture = Fixture::new().account(
        Account::new("erin", "pw")
            .checkpoint(Checkpoint::new("2FA", "1").fault(Fault::new().force_status(408))),
    );
    let sim = sim_with(fixture);
    let client = Client::new(&sim, Style::Postpress);
    let id = client.connect("erin", "pw").account_id();
    client.solve(&id, "1").assert_error(408, "errors/request_timeout");
    client
        .solve(&id, "1")
        .assert_error(400, "errors/authentication_intent_error");
}

#[test]
fn fixture_json_fault_fields_are_read() {
    let fixture = Fixture::from_json(
        r#"{"accounts":[
            {"username":"faulty","password":"pw","force_status":500,"force_type":"errors/authentication_intent_error","times":1},
            {"username":"slowcp","password":"pw","checkpoints":[{"type":"2FA","code":"1","close_without_answer":true}]}
        ]}"#,
    )
    .unwrap();
    let sim = sim_with(fixture);
    let answer = raw_post(sim.addr(), "/v1/accounts", CONNECT);
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["type"], "errors/authentication_intent_error");
    assert_eq!(raw_post(sim.addr(), "/v1/accounts", CONNECT).status(), Some(201));
    let client = Client::new(&sim, Style::Postpress);
    let id = client.connect("slowcp", "pw").account_id();
    let solve = json!({"provider":"MESSENGER","account_id":id,"code":"1"}).to_string();
    assert!(
        raw_post(sim.addr(), "/v1/accounts/checkpoint", &solve)
            .bytes
            .is_empty()
    );
}

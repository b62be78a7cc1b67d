//! Answers of the rewritten contract: resend as documented (point 5), every documented
//! error type on demand with the intent going on or ending as the contract's table says
//! (point 6), per-key rate limits (point 7), and `GET /accounts/{id}` (point 8). Raw HTTP
//! (ureq), both path styles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use auth_sim::{
    Account, Checkpoint, ErrorEnvelope, Fault, FaultTarget, Fixture, Provider, Simulator, SourceStatus,
};
use common::{Client, KEY, demo_sim, in_both_styles, sim_with};
use serde_json::json;

// ----- point 5: resend -------------------------------------------------------------------

#[test]
fn resend_answers_success_or_the_providers_refusal_and_refuses_twitter() {
    let fixture = Fixture::new().account(
        Account::new("erin", "pw")
            .checkpoint(Checkpoint::new("2FA", "1"))
            .checkpoint(Checkpoint::new("OTP", "2").resend_refused()),
    );
    in_both_styles(
        || sim_with(fixture.clone()),
        |_, client| {
            let id = client.connect("erin", "pw").account_id();
            let ok = client.resend(&id);
            assert_eq!(ok.status, 200);
            assert_eq!(
                ok.json(),
                json!({"object":"CheckpointResend","account_id":id,"success":true})
            );
            assert_eq!(client.solve(&id, "1").status, 202);
            // The provider refuses for this checkpoint: nothing was sent to the user.
            let refused = client.resend(&id);
            assert_eq!(refused.status, 200);
            assert_eq!(
                refused.json(),
                json!({"object":"CheckpointResend","account_id":id,"success":false})
            );
            // The docs' enum for a resend has no TWITTER.
            client
                .post(
                    "/accounts/checkpoint/resend",
                    &json!({"provider":"TWITTER","account_id":id}),
                )
                .assert_error(400, "errors/invalid_parameters");
            // None of this touched the intent.
            assert_eq!(client.solve(&id, "2").status, 201);
        },
    );
}

// ----- point 6: every documented type on demand -------------------------------------------

/// (status, type, whether the intent is still alive after it, per the contract's table).
const TABLE: &[(u16, &str, bool)] = &[
    (400, "errors/invalid_parameters", true),
    (400, "errors/missing_parameters", true),
    (400, "errors/invalid_request", true),
    (400, "errors/malformed_request", true),
    (400, "errors/content_too_large", true),
    (400, "errors/too_many_characters", true),
    (400, "errors/unescaped_characters", true),
    (400, "errors/limit_too_high", true),
    (400, "errors/invalid_url", true),
    (400, "errors/authentication_intent_error", false),
    (400, "errors/brand_new_400", false),
    (401, "errors/invalid_checkpoint_solution", true),
    (401, "errors/invalid_credentials", true),
    (401, "errors/missing_credentials", true),
    (401, "errors/expired_credentials", true),
    (401, "errors/insufficient_privileges", true),
    (401, "key_missing", true),
    (403, "errors/account_restricted", true),
    (403, "errors/account_mismatch", true),
    (403, "errors/brand_new_403", true),
    (408, "errors/request_timeout", false),
    (418, "errors/anything_at_all", true),
    (429, "errors/too_many_requests", true),
    (500, "errors/authentication_intent_error", false),
    (500, "errors/unexpected_error", true),
    (502, "errors/bad_gateway", true),
    (503, "errors/service_unavailable", true),
    (504, "errors/gateway_timeout", true),
];

/// One account per row and request kind: `c{i}` forced on connect, `s{i}` on solve,
/// `r{i}` on resend; each once.
fn table_fixture() -> Fixture {
    let mut fixture = Fixture::new();
    for (i, (status, kind, _)) in TABLE.iter().enumerate() {
        let forced = || Fault::new().force_status(*status).force_type(*kind).times(1);
        fixture = fixture
            .account(
                Account::new(format!("c{i}"), "pw")
                    .fault(forced().on(FaultTarget::Connect))
                    .checkpoint(Checkpoint::new("2FA", "1")),
            )
            .account(
                Account::new(format!("s{i}"), "pw")
                    .checkpoint(Checkpoint::new("2FA", "1").fault(forced().on(FaultTarget::Solve))),
            )
            .account(
                Account::new(format!("r{i}"), "pw")
                    .checkpoint(Checkpoint::new("2FA", "1").fault(forced().on(FaultTarget::Resend))),
            );
    }
    fixture
}

#[test]
fn any_documented_type_is_answered_on_connect_solve_or_resend_and_the_intent_follows_the_table() {
    let fixture = table_fixture();
    in_both_styles(
        || sim_with(fixture.clone()),
        |sim, client| {
            for (i, (status, kind, alive)) in TABLE.iter().copied().enumerate() {
                eprintln!("-- {status} {kind}");
                // Connect: no intent yet; the next connect is not faulted.
                client.connect(&format!("c{i}"), "pw").assert_error(status, kind);
                assert_eq!(client.connect(&format!("c{i}"), "pw").status, 202);

                // Solve, then resend: the forced answer, then the intent as the table says.
                for (user, request) in [(format!("s{i}"), "solve"), (format!("r{i}"), "resend")] {
                    let id = client.connect(&user, "pw").account_id();
                    let forced = if request == "solve" {
                        client.solve(&id, "1")
                    } else {
                        client.resend(&id)
                    };
                    forced.assert_error(status, kind);
                    let next = client.solve(&id, "1");
                    if alive {
                        assert_eq!(next.status, 201, "{request} {status} {kind}: {}", next.text);
                    } else {
                        next.assert_error(400, "errors/authentication_intent_error");
                    }
                }
            }
            let connected = sim.connected_accounts().len();
            let alive_rows = TABLE.iter().filter(|(_, _, alive)| *alive).count();
            assert_eq!(connected, 2 * alive_rows);
        },
    );
}

#[test]
fn forced_types_come_in_the_quickstart_envelope_too_with_retry_after() {
    let fixture = Fixture::new()
        .account(
            Account::new("busy", "pw").fault(Fault::new().force_status(503).retry_after_secs(30).times(1)),
        )
        .account(
            Account::new("restricted", "pw").checkpoint(
                Checkpoint::new("2FA", "1").fault(
                    Fault::new()
                        .force_status(403)
                        .force_type("errors/account_restricted")
                        .on(FaultTarget::Solve),
                ),
            ),
        );
    let start = || {
        Simulator::builder()
            .api_key(KEY)
            .fixture(fixture.clone())
            .error_envelope(ErrorEnvelope::Quickstart)
            .manual_clock()
            .start()
            .unwrap()
    };
    in_both_styles(start, |_, client| {
        let busy = client.connect("busy", "pw");
        busy.assert_quickstart_error(503, "errors/service_unavailable");
        assert_eq!(busy.header("retry-after"), Some("30"));
        assert_eq!(client.connect("busy", "pw").status, 201);
        let id = client.connect("restricted", "pw").account_id();
        let restricted = client.solve(&id, "1");
        restricted.assert_quickstart_error(403, "errors/account_restricted");
        assert_eq!(restricted.header("retry-after"), None);
        // The default type of a forced 403 is the contract's.
        assert_eq!(client.resend(&id).status, 200);
    });
}

// ----- point 7: rate limits ----------------------------------------------------------------

fn limited(per_second: f64, burst: u32) -> Simulator {
    Simulator::builder()
        .api_key(KEY)
        .api_key("second-key")
        .rate_limit(per_second, burst)
        .manual_clock()
        .start()
        .unwrap()
}

#[test]
fn without_a_rate_limit_nothing_answers_429() {
    let sim = demo_sim();
    let client = Client::new(&sim, common::Style::Postpress);
    for _ in 0..300 {
        assert_eq!(client.connect("alice", "pw-a").status, 201);
    }
}

#[test]
fn each_key_has_a_token_bucket_that_answers_429_with_retry_after() {
    in_both_styles(
        || limited(2.0, 3),
        |sim, client| {
            // Every authenticated request takes a token, whatever it asks.
            assert_eq!(client.connect("alice", "pw-a").status, 201);
            client
                .get("/accounts/x")
                .assert_error(404, "errors/resource_not_found");
            client
                .post("/nowhere", &json!({}))
                .assert_error(404, "errors/resource_not_found");
            let throttled = client.connect("alice", "pw-a");
            throttled.assert_error(429, "errors/too_many_requests");
            assert_eq!(throttled.header("retry-after"), Some("1"));
            // Another key has its own bucket.
            let second = Client::new_like(client).with_bearer("second-key");
            assert_eq!(second.connect("alice", "pw-a").status, 201);
            // Half a second (2 a second) brings one token back, not two.
            sim.advance(Duration::from_millis(499));
            client
                .connect("alice", "pw-a")
                .assert_error(429, "errors/too_many_requests");
            sim.advance(Duration::from_millis(1));
            assert_eq!(client.connect("alice", "pw-a").status, 201);
            client
                .connect("alice", "pw-a")
                .assert_error(429, "errors/too_many_requests");
            // A long pause fills the bucket up to its burst only.
            sim.advance(Duration::from_secs(3600));
            for _ in 0..3 {
                assert_eq!(client.connect("alice", "pw-a").status, 201);
            }
            client
                .connect("alice", "pw-a")
                .assert_error(429, "errors/too_many_requests");
            assert_eq!(sim.connected_accounts().len(), 6);
        },
    );
}

#[test]
fn a_429_is_not_recorded_so_a_retry_with_the_same_key_acts() {
    let sim = limited(0.1, 1);
    let client = Client::new(&sim, common::Style::Postpress);
    let body = json!({"provider":"MESSENGER","username":"alice","password":"pw-a"});
    assert_eq!(client.connect("bob", "pw-b").status, 202);
    let throttled = client.post_idempotent("/accounts", "k", &body);
    throttled.assert_error(429, "errors/too_many_requests");
    assert_eq!(throttled.header("retry-after"), Some("10"));
    sim.advance(Duration::from_secs(10));
    let acted = client.post_idempotent("/accounts", "k", &body);
    assert_eq!(acted.status, 201);
    assert_eq!(acted.header("idempotent-replayed"), None);
}

// ----- point 8: GET /accounts/{id} ------------------------------------------------------------

#[test]
fn a_connected_account_reads_connecting_for_a_moment_then_ok() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("alice", "pw-a").account_id();
        let first = client.get(&format!("/accounts/{id}"));
        assert_eq!(first.status, 200);
        assert_eq!(first.header("content-type"), Some("application/json"));
        let body = first.json();
        assert_eq!(body["object"], "Account");
        assert_eq!(body["type"], "MESSENGER");
        assert_eq!(body["id"], json!(id));
        assert_eq!(body["name"], "alice");
        assert_eq!(body["sources"][0]["status"], "CONNECTING");
        assert!(body["sources"][0]["id"].as_str().is_some_and(|s| !s.is_empty()));
        let created = body["created_at"].as_str().unwrap();
        assert_eq!(created.len(), 24, "YYYY-MM-DDTHH:MM:SS.sssZ: {created}");
        assert!(
            created.ends_with('Z') && created.as_bytes()[10] == b'T',
            "{created}"
        );
        // CONNECTING for 200 ms of the simulator's clock (the default), then OK.
        sim.advance(Duration::from_millis(199));
        assert_eq!(
            client.get(&format!("/accounts/{id}")).json()["sources"][0]["status"],
            "CONNECTING"
        );
        sim.advance(Duration::from_millis(1));
        let settled = client.get(&format!("/accounts/{id}")).json();
        assert_eq!(settled["sources"][0]["status"], "OK");
        assert_eq!(settled["created_at"], json!(created));
        assert_eq!(sim.account_status(&id), Some(SourceStatus::Ok));
    });
}

#[test]
fn the_fixture_sets_the_settled_status_and_the_provider_is_the_connects() {
    let fixture = Fixture::new()
        .account(Account::new("stale", "pw").source_status(SourceStatus::Credentials))
        .account(
            Account::new("broken", "pw")
                .source_status(SourceStatus::Error)
                .checkpoint(Checkpoint::new("2FA", "1")),
        );
    let start = || {
        Simulator::builder()
            .api_key(KEY)
            .fixture(fixture.clone())
            .account_connecting_for(Duration::from_secs(5))
            .manual_clock()
            .start()
            .unwrap()
    };
    in_both_styles(start, |sim, client| {
        let stale = client.connect("stale", "pw").account_id();
        let answer = client.post(
            "/accounts",
            &json!({"provider":"LINKEDIN","username":"broken","password":"pw"}),
        );
        let broken = answer.account_id();
        // An intent is not an account yet.
        client
            .get(&format!("/accounts/{broken}"))
            .assert_error(404, "errors/resource_not_found");
        let done = client.post(
            "/accounts/checkpoint",
            &json!({"provider":"LINKEDIN","account_id":broken,"code":"1"}),
        );
        assert_eq!(done.status, 201);
        let read = |id: &str| client.get(&format!("/accounts/{id}")).json();
        assert_eq!(read(&broken)["type"], "LINKEDIN");
        assert_eq!(read(&stale)["sources"][0]["status"], "CONNECTING");
        sim.advance(Duration::from_secs(5));
        assert_eq!(read(&stale)["sources"][0]["status"], "CREDENTIALS");
        assert_eq!(read(&broken)["sources"][0]["status"], "ERROR");
        // A reconnect connects again: CONNECTING again for the moment.
        let again = client.reconnect(&stale, "stale", "pw");
        assert_eq!(again.status, 201);
        assert_eq!(read(&stale)["sources"][0]["status"], "CONNECTING");
    });
}

#[test]
fn unknown_accounts_answer_404_and_other_gets_405() {
    in_both_styles(demo_sim, |_, client| {
        client
            .get("/accounts/0000000000000000000000")
            .assert_error(404, "errors/resource_not_found");
        client
            .get("/accounts/not-an-id")
            .assert_error(404, "errors/resource_not_found");
        for path in ["/accounts", "/accounts/checkpoint", "/accounts/checkpoint/resend"] {
            let answer = client.get(path);
            answer.assert_error(405, "errors/method_not_allowed");
            assert_eq!(answer.header("allow"), Some("POST"), "{path}");
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut put = agent
            .delete(format!("{}/accounts/0000000000000000000000", client.base))
            .header("x-api-key", KEY)
            .call()
            .unwrap();
        assert_eq!(put.status(), 405);
        assert_eq!(
            put.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some("GET, POST")
        );
        let body: serde_json::Value =
            serde_json::from_str(&put.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(body["type"], "errors/method_not_allowed");
    });
}

#[test]
fn every_provider_reads_back_as_its_type() {
    in_both_styles(demo_sim, |_, client| {
        for provider in Provider::ALL {
            let id = client
                .post(
                    "/accounts",
                    &json!({"provider":provider.as_str(),"username":"alice","password":"pw-a"}),
                )
                .account_id();
            assert_eq!(
                client.get(&format!("/accounts/{id}")).json()["type"],
                provider.as_str()
            );
        }
    });
}

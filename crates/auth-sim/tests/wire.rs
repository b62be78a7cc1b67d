//! The wire as postpress documents it: both error envelopes with a request id (point 1),
//! API keys in either header with their documented 401s (point 2), and `?port=` accepted
//! on every path (point 9). Raw HTTP (ureq), both path styles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;

use auth_sim::{ApiKey, ErrorEnvelope, Fixture, Simulator};
use common::{Answer, Client, KEY, demo_sim, in_both_styles};
use serde_json::json;

fn sim_with_envelope(envelope: ErrorEnvelope) -> Simulator {
    Simulator::builder()
        .api_key(KEY)
        .error_envelope(envelope)
        .manual_clock()
        .start()
        .unwrap()
}

/// One error of each origin: the API key, the route, validation, the state, a method.
fn five_errors(client: &Client) -> Vec<(Answer, u16, &'static str)> {
    let stranger = Client::new_like(client).with_key(Some("not-a-key"));
    vec![
        (
            stranger.connect("alice", "pw-a"),
            401,
            "errors/invalid_credentials",
        ),
        (
            client.post("/nowhere", &json!({})),
            404,
            "errors/resource_not_found",
        ),
        (
            client.post_raw("/accounts", Some("application/json"), "{"),
            400,
            "errors/malformed_request",
        ),
        (
            client.solve("0000000000000000000000", "1"),
            400,
            "errors/invalid_parameters",
        ),
        (client.get("/accounts"), 405, "errors/method_not_allowed"),
    ]
}

#[test]
fn errors_use_the_endpoint_envelope_by_default_with_a_unique_request_id() {
    in_both_styles(demo_sim, |_, client| {
        let mut ids = HashSet::new();
        for (answer, status, kind) in five_errors(client) {
            // Status, type, title, detail, and `instance` = the `x-request-id` header.
            answer.assert_error(status, kind);
            let body = answer.json();
            assert_eq!(
                body.as_object().unwrap().keys().collect::<Vec<_>>(),
                ["detail", "instance", "status", "title", "type"],
                "{body}"
            );
            assert!(ids.insert(answer.request_id().to_owned()), "repeated id");
        }
        // Successes carry a request id too, unique as well.
        let ok = client.connect("alice", "pw-a");
        assert_eq!(ok.status, 201);
        assert!(ids.insert(ok.request_id().to_owned()));
        assert_eq!(ids.len(), 6);
    });
}

#[test]
fn the_quickstart_envelope_is_a_setting_and_successes_do_not_change() {
    in_both_styles(
        || sim_with_envelope(ErrorEnvelope::Quickstart),
        |_, client| {
            let mut ids = HashSet::new();
            for (answer, status, kind) in five_errors(client) {
                answer.assert_quickstart_error(status, kind);
                assert_eq!(answer.header("content-type"), Some("application/json"));
                assert!(ids.insert(answer.json()["error"]["request_id"].as_str().unwrap().to_owned()));
            }
            assert_eq!(ids.len(), 5);
            let checkpoint = client.connect("bob", "pw-b");
            let id = checkpoint.account_id();
            assert_eq!(
                checkpoint.json(),
                json!({"object":"Checkpoint","account_id":id,"checkpoint":{"type":"2FA"}})
            );
            // The intent's own errors too.
            client
                .solve(&id, "000000")
                .assert_quickstart_error(401, "errors/invalid_checkpoint_solution");
        },
    );
}

#[test]
fn api_keys_in_either_header_and_every_documented_401() {
    let start = || {
        Simulator::builder()
            .api_key(KEY)
            .api_key("second-key")
            .expired_api_key("old-key")
            .api_key_without_scope("narrow-key")
            .manual_clock()
            .start()
            .unwrap()
    };
    in_both_styles(start, |sim, client| {
        let with = |key: Option<&str>| Client::new_like(client).with_key(key);
        let bearer = |key: &str| Client::new_like(client).with_bearer(key);
        // Two valid keys, in either header.
        assert_eq!(with(Some(KEY)).connect("alice", "pw-a").status, 201);
        assert_eq!(with(Some("second-key")).connect("alice", "pw-a").status, 201);
        assert_eq!(bearer(KEY).connect("alice", "pw-a").status, 201);
        assert_eq!(bearer("second-key").connect("alice", "pw-a").status, 201);
        assert_eq!(sim.connected_accounts().len(), 4);
        // The documented 401s, checked before the route and before the body.
        for (answer, kind) in [
            (with(None).connect("alice", "pw-a"), "errors/missing_credentials"),
            (
                with(Some("unknown")).connect("alice", "pw-a"),
                "errors/invalid_credentials",
            ),
            (
                bearer("unknown").post("/nowhere", &json!({})),
                "errors/invalid_credentials",
            ),
            (
                with(Some("old-key")).connect("alice", "pw-a"),
                "errors/expired_credentials",
            ),
            (
                bearer("old-key").connect("alice", "pw-a"),
                "errors/expired_credentials",
            ),
            (
                with(Some("narrow-key")).connect("alice", "pw-a"),
                "errors/insufficient_privileges",
            ),
            (
                bearer("narrow-key").get("/accounts/x"),
                "errors/insufficient_privileges",
            ),
        ] {
            answer.assert_error(401, kind);
        }
        assert_eq!(sim.connected_accounts().len(), 4, "no refused request acted");
    });
}

#[test]
fn a_fixture_declares_keys_too() {
    let fixture = Fixture::from_json(
        r#"{"api_keys":[{"key":"pp_test_fixture"},{"key":"pp_test_old","status":"expired"},
                        {"key":"pp_test_narrow","status":"out_of_scope"}],
            "accounts":[{"username":"alice","password":"pw-a"}]}"#,
    )
    .unwrap();
    assert_eq!(
        fixture.api_keys(),
        [
            ApiKey::valid("pp_test_fixture"),
            ApiKey::expired("pp_test_old"),
            ApiKey::out_of_scope("pp_test_narrow")
        ]
    );
    in_both_styles(
        || {
            Simulator::builder()
                .fixture(fixture.clone())
                .manual_clock()
                .start()
                .unwrap()
        },
        |_, client| {
            let with = |key: &str| Client::new_like(client).with_key(Some(key));
            assert_eq!(with("pp_test_fixture").connect("alice", "pw-a").status, 201);
            // A valid key is declared, so any other is refused.
            with(KEY)
                .connect("alice", "pw-a")
                .assert_error(401, "errors/invalid_credentials");
            with("pp_test_old")
                .connect("alice", "pw-a")
                .assert_error(401, "errors/expired_credentials");
            with("pp_test_narrow")
                .connect("alice", "pw-a")
                .assert_error(401, "errors/insufficient_privileges");
        },
    );
}

#[test]
fn a_port_query_is_accepted_on_every_path() {
    in_both_styles(demo_sim, |sim, client| {
        let q = "?port=12345";
        let created = client.post(
            &format!("/accounts{q}"),
            &json!({"provider":"MESSENGER","username":"dave","password":"pw-d"}),
        );
        assert_eq!(created.status, 202);
        let id = created.account_id();
        let resent = client.post(
            &format!("/accounts/checkpoint/resend{q}"),
            &json!({"provider":"MESSENGER","account_id":id}),
        );
        assert_eq!(resent.status, 200);
        let solve = |code: &str| {
            client.post(
                &format!("/accounts/checkpoint{q}"),
                &json!({"provider":"MESSENGER","account_id":id,"code":code}),
            )
        };
        assert_eq!(solve("111111").status, 202);
        assert_eq!(solve("222222").status, 201);
        let account = client.get(&format!("/accounts/{id}{q}"));
        assert_eq!((account.status, account.json()["id"].clone()), (200, json!(id)));
        let again = client.post(
            &format!("/accounts/{id}{q}"),
            &json!({"provider":"MESSENGER","username":"dave","password":"pw-d"}),
        );
        assert_eq!(again.status, 202);
        // Errors are unchanged by it too.
        client
            .post(&format!("/nowhere{q}"), &json!({}))
            .assert_error(404, "errors/resource_not_found");
        let log = sim.requests();
        assert_eq!(log.len(), 7);
        assert!(log.iter().all(|r| r.query.as_deref() == Some("port=12345")));
        assert!(log.iter().all(|r| !r.path.contains('?')));
    });
}

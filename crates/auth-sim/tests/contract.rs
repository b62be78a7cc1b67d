//! One test per row of `api-contract.md`, over real loopback sockets, in both path styles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use auth_sim::{Account, Checkpoint, Fault, Fixture, Provider, Simulator};
use common::{Client, KEY, Style, demo_sim, in_both_styles, sim_with};
use serde_json::json;

// ----- 201 AccountCreated -------------------------------------------------------------

#[test]
fn connect_without_checkpoint_answers_201_account_created() {
    in_both_styles(demo_sim, |sim, client| {
        let first = client.connect("alice", "pw-a");
        assert_eq!(first.status, 201);
        assert_eq!(first.header("content-type"), Some("application/json"));
        let id = first.account_id();
        assert_eq!(first.json(), json!({"object":"AccountCreated","account_id":id}));
        // Ids are opaque, unique strings.
        let second = client.connect("alice", "pw-a").account_id();
        assert_ne!(id, second);
        assert_eq!(sim.connected_accounts().len(), 2);
        assert_eq!(sim.pending_intents(), 0);
    });
}

#[test]
fn last_solve_answers_201_account_created_with_the_intent_account_id() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("bob", "pw-b").account_id();
        let done = client.solve(&id, "123456");
        assert_eq!(done.status, 201);
        assert_eq!(done.json(), json!({"object":"AccountCreated","account_id":id}));
        assert_eq!(sim.pending_intents(), 0);
        assert_eq!(sim.connected_accounts()[0].account_id, id);
        assert_eq!(sim.connected_accounts()[0].username, "bob");
        // The intent is over: solving again is a request against an unknown intent.
        client
            .solve(&id, "123456")
            .assert_error(400, "errors/invalid_parameters");
    });
}

// ----- 202 Checkpoint -----------------------------------------------------------------

#[test]
fn connect_with_checkpoint_answers_202_checkpoint() {
    in_both_styles(demo_sim, |sim, client| {
        let answer = client.connect("bob", "pw-b");
        assert_eq!(answer.status, 202);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let id = answer.account_id();
        assert_eq!(
            answer.json(),
            json!({"object":"Checkpoint","account_id":id,"checkpoint":{"type":"2FA"}})
        );
        assert_eq!(
            answer.text,
            format!(r#"{{"object":"Checkpoint","account_id":"{id}","checkpoint":{{"type":"2FA"}}}}"#)
        );
        assert_eq!(sim.pending_intents(), 1);
    });
}

#[test]
fn chained_checkpoints_answer_202_in_turn_then_201() {
    in_both_styles(demo_sim, |_, client| {
        let id = client.connect("dave", "pw-d").account_id();
        let otp = client.solve(&id, "111111");
        assert_eq!(otp.status, 202);
        assert_eq!(
            otp.json(),
            json!({"object":"Checkpoint","account_id":id,"checkpoint":{"type":"OTP"}})
        );
        // The OTP's code, not the 2FA's, solves the second checkpoint.
        client
            .solve(&id, "111111")
            .assert_error(401, "errors/invalid_checkpoint_solution");
        let done = client.solve(&id, "222222");
        assert_eq!(done.status, 201);
        assert_eq!(done.json(), json!({"object":"AccountCreated","account_id":id}));
    });
}

// ----- 200 CheckpointResend -----------------------------------------------------------

#[test]
fn resend_answers_200_checkpoint_resend_with_success() {
    in_both_styles(demo_sim, |_, client| {
        let id = client.connect("bob", "pw-b").account_id();
        let resent = client.resend(&id);
        assert_eq!(resent.status, 200);
        assert_eq!(
            resent.text,
            format!(r#"{{"object":"CheckpointResend","account_id":"{id}","success":true}}"#)
        );
        // The intent goes on.
        assert_eq!(client.solve(&id, "123456").status, 201);
        // Against an unknown intent: 400.
        client
            .resend("nope")
            .assert_error(400, "errors/invalid_parameters");
    });
}

// ----- 200/201 AccountReconnected -----------------------------------------------------

#[test]
fn reconnect_answers_201_account_reconnected() {
    in_both_styles(demo_sim, |_, client| {
        let id = client.connect("alice", "pw-a").account_id();
        let again = client.reconnect(&id, "alice", "pw-a");
        assert_eq!(again.status, 201);
        assert_eq!(
            again.json(),
            json!({"object":"AccountReconnected","account_id":id})
        );
    });
}

#[test]
fn reconnect_goes_through_the_checkpoints_then_answers_account_reconnected() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("dave", "pw-d").account_id();
        client.solve(&id, "111111");
        assert_eq!(client.solve(&id, "222222").status, 201);
        let first = client.reconnect(&id, "dave", "pw-d");
        assert_eq!(first.status, 202);
        assert_eq!(
            first.json(),
            json!({"object":"Checkpoint","account_id":id,"checkpoint":{"type":"2FA"}})
        );
        assert_eq!(client.solve(&id, "111111").status, 202);
        let done = client.solve(&id, "222222");
        assert_eq!(done.status, 201);
        assert_eq!(
            done.json(),
            json!({"object":"AccountReconnected","account_id":id})
        );
        assert_eq!(sim.connected_accounts().len(), 1);
    });
}

#[test]
fn reconnect_with_wrong_password_answers_401_invalid_credentials() {
    in_both_styles(demo_sim, |_, client| {
        let id = client.connect("alice", "pw-a").account_id();
        client
            .reconnect(&id, "alice", "wrong")
            .assert_error(401, "errors/invalid_credentials");
        // Another account's credentials do not reconnect this one.
        client
            .reconnect(&id, "bob", "pw-b")
            .assert_error(401, "errors/invalid_credentials");
    });
}

#[test]
fn reconnect_of_an_unknown_account_answers_404_resource_not_found() {
    in_both_styles(demo_sim, |_, client| {
        client
            .reconnect("0000000000000000000000", "alice", "pw-a")
            .assert_error(404, "errors/resource_not_found");
        client
            .reconnect("not-an-id", "alice", "pw-a")
            .assert_error(404, "errors/resource_not_found");
    });
}

// ----- 401 ----------------------------------------------------------------------------

#[test]
fn wrong_password_answers_401_invalid_credentials() {
    in_both_styles(demo_sim, |sim, client| {
        client
            .connect("bob", "nope")
            .assert_error(401, "errors/invalid_credentials");
        client
            .connect("nobody", "pw-b")
            .assert_error(401, "errors/invalid_credentials");
        assert_eq!(sim.pending_intents(), 0);
    });
}

#[test]
fn missing_key_answers_401_missing_credentials_and_unknown_key_invalid_credentials() {
    in_both_styles(demo_sim, |sim, client| {
        let base = client.base.clone();
        let style = client.style;
        let missing = Client::new(sim, style).with_key(None);
        assert_eq!(missing.base, base);
        missing
            .connect("alice", "pw-a")
            .assert_error(401, "errors/missing_credentials");
        let wrong = Client::new(sim, style).with_key(Some("other-key"));
        wrong
            .connect("alice", "pw-a")
            .assert_error(401, "errors/invalid_credentials");
        // The key is checked before anything else, even the route.
        wrong
            .post("/nowhere", &json!({}))
            .assert_error(401, "errors/invalid_credentials");
        missing
            .post("/nowhere", &json!({}))
            .assert_error(401, "errors/missing_credentials");
        assert!(sim.connected_accounts().is_empty());
    });
}

#[test]
fn without_a_configured_key_any_non_empty_key_is_accepted() {
    let sim = Simulator::builder().manual_clock().start().unwrap();
    let client = Client::new(&sim, Style::Postpress).with_key(Some("whatever"));
    assert_eq!(client.connect("alice", "pw-a").status, 201);
    let anonymous = Client::new(&sim, Style::Postpress).with_key(None);
    anonymous
        .connect("alice", "pw-a")
        .assert_error(401, "errors/missing_credentials");
}

#[test]
fn wrong_code_answers_401_invalid_checkpoint_solution_and_keeps_the_intent() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("bob", "pw-b").account_id();
        let wrong = client.solve(&id, "000000");
        wrong.assert_error(401, "errors/invalid_checkpoint_solution");
        assert_eq!(sim.pending_intents(), 1);
        client
            .solve(&id, "654321")
            .assert_error(401, "errors/invalid_checkpoint_solution");
        assert_eq!(client.solve(&id, "123456").status, 201);
    });
}

// ----- 408 then 400: the intent clock --------------------------------------------------

#[test]
fn first_request_after_the_intent_expires_answers_408_then_400() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("bob", "pw-b").account_id();
        sim.advance(Duration::from_secs(300));
        client
            .solve(&id, "123456")
            .assert_error(408, "errors/request_timeout");
        // It destroyed itself: typed so that no client mistakes it for a malformed request.
        let destroyed = client.solve(&id, "123456");
        destroyed.assert_error(400, "errors/authentication_intent_error");
        assert_eq!(destroyed.json()["title"], "Authentication intent destroyed");
        assert!(
            destroyed.json()["detail"]
                .as_str()
                .unwrap()
                .contains("start over with connect")
        );
        client
            .resend(&id)
            .assert_error(400, "errors/authentication_intent_error");
        // With the wrong provider too: the intent is gone, whatever the request.
        client
            .post(
                "/accounts/checkpoint",
                &json!({"provider":"LINKEDIN","account_id":id,"code":"123456"}),
            )
            .assert_error(400, "errors/authentication_intent_error");
        assert!(sim.connected_accounts().is_empty());
    });
}

#[test]
fn an_intent_is_alive_until_its_last_millisecond() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("bob", "pw-b").account_id();
        sim.advance(Duration::from_millis(299_999));
        assert_eq!(sim.pending_intents(), 1);
        assert_eq!(client.solve(&id, "123456").status, 201);
    });
}

#[test]
fn the_five_minutes_cover_the_whole_chain_of_checkpoints() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("dave", "pw-d").account_id();
        sim.advance(Duration::from_secs(200));
        assert_eq!(client.solve(&id, "111111").status, 202);
        // Solving the 2FA did not extend the intent: 100 s more reach its deadline.
        sim.advance(Duration::from_secs(100));
        client
            .solve(&id, "222222")
            .assert_error(408, "errors/request_timeout");
        client
            .solve(&id, "222222")
            .assert_error(400, "errors/authentication_intent_error");
    });
}

#[test]
fn a_resend_after_expiry_is_the_first_request_and_answers_408() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("bob", "pw-b").account_id();
        sim.advance(Duration::from_secs(301));
        client.resend(&id).assert_error(408, "errors/request_timeout");
        client
            .solve(&id, "123456")
            .assert_error(400, "errors/authentication_intent_error");
    });
}

#[test]
fn the_ttl_is_configurable() {
    let start = || {
        Simulator::builder()
            .api_key(KEY)
            .manual_clock()
            .intent_ttl(Duration::from_secs(10))
            .start()
            .unwrap()
    };
    in_both_styles(start, |sim, client| {
        let id = client.connect("bob", "pw-b").account_id();
        sim.advance(Duration::from_secs(10));
        client
            .solve(&id, "123456")
            .assert_error(408, "errors/request_timeout");
    });
}

// ----- 500 authentication_intent_error -------------------------------------------------

#[test]
fn intent_killed_after_a_failure_answers_500_then_400() {
    let fixture = Fixture::new().account(
        Account::new("erin", "pw-e")
            .checkpoint(Checkpoint::new("2FA", "1").fault(Fault::new().force_status(500).times(1))),
    );
    in_both_styles(
        || sim_with(fixture.clone()),
        |sim, client| {
            let id = client.connect("erin", "pw-e").account_id();
            client
                .solve(&id, "1")
                .assert_error(500, "errors/authentication_intent_error");
            // The intent is dead: start over.
            client
                .solve(&id, "1")
                .assert_error(400, "errors/authentication_intent_error");
            assert_eq!(sim.pending_intents(), 0);
            let again = client.connect("erin", "pw-e").account_id();
            assert_eq!(client.solve(&again, "1").status, 201);
        },
    );
}

// ----- 400 malformed requests -----------------------------------------------------------

#[test]
fn malformed_request_answers_400_malformed_request() {
    in_both_styles(demo_sim, |_, client| {
        client
            .post_raw("/accounts", Some("application/json"), "{not json")
            .assert_error(400, "errors/malformed_request");
        client
            .post_raw("/accounts", Some("application/json"), "")
            .assert_error(400, "errors/malformed_request");
        client
            .post_raw(
                "/accounts",
                Some("text/plain"),
                r#"{"provider":"MESSENGER","username":"alice","password":"pw-a"}"#,
            )
            .assert_error(400, "errors/malformed_request");
        // A charset parameter is fine.
        let ok = client.post_raw(
            "/accounts",
            Some("application/json; charset=utf-8"),
            r#"{"provider":"MESSENGER","username":"alice","password":"pw-a"}"#,
        );
        assert_eq!(ok.status, 201);
    });
}

#[test]
fn incomplete_request_answers_400_missing_parameters() {
    in_both_styles(demo_sim, |_, client| {
        let missing = client.post("/accounts", &json!({"provider":"MESSENGER","username":"alice"}));
        missing.assert_error(400, "errors/missing_parameters");
        assert!(missing.json()["detail"].as_str().unwrap().contains("password"));
        client
            .post("/accounts", &json!({"username":"alice","password":"pw-a"}))
            .assert_error(400, "errors/missing_parameters");
        client
            .post(
                "/accounts/checkpoint",
                &json!({"provider":"MESSENGER","code":"1"}),
            )
            .assert_error(400, "errors/missing_parameters");
        client
            .post(
                "/accounts/checkpoint",
                &json!({"provider":"MESSENGER","account_id":"x"}),
            )
            .assert_error(400, "errors/missing_parameters");
        client
            .post("/accounts/checkpoint/resend", &json!({"provider":"MESSENGER"}))
            .assert_error(400, "errors/missing_parameters");
    });
}

#[test]
fn invalid_values_answer_400_invalid_parameters() {
    in_both_styles(demo_sim, |_, client| {
        client
            .post(
                "/accounts",
                &json!({"provider":"SKYPE","username":"alice","password":"pw-a"}),
            )
            .assert_error(400, "errors/invalid_parameters");
        client
            .post(
                "/accounts",
                &json!({"provider":"messenger","username":"alice","password":"pw-a"}),
            )
            .assert_error(400, "errors/invalid_parameters");
        client
            .post(
                "/accounts",
                &json!({"provider":"MESSENGER","username":42,"password":"pw-a"}),
            )
            .assert_error(400, "errors/invalid_parameters");
        client
            .post(
                "/accounts",
                &json!({"provider":"MESSENGER","username":"","password":"pw-a"}),
            )
            .assert_error(400, "errors/invalid_parameters");
        client
            .post("/accounts", &json!(["MESSENGER", "alice", "pw-a"]))
            .assert_error(400, "errors/invalid_parameters");
        // Unknown extra fields (sync_limit, …) are accepted, as the real API does.
        let extra = client.post(
            "/accounts",
            &json!({"provider":"MESSENGER","username":"alice","password":"pw-a","sync_limit":{"chats":0}}),
        );
        assert_eq!(extra.status, 201);
    });
}

/// A connect body with the documented optional fields (`proxy`, `country`, `ip`,
/// `user_agent`, `sync_limit`) as auth-core writes them, `changes` applied on top.
fn connect_with_options(changes: serde_json::Value) -> serde_json::Value {
    let mut body = json!({
        "provider": "MESSENGER", "username": "alice", "password": "pw-a",
        "proxy": {"protocol": "socks5", "host": "proxy.example.com", "port": 3128, "username": "pu", "password": "proxy-pw"},
        "country": "FR", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11)",
        "sync_limit": {"chats": 0, "messages": "2026-01-01T00:00:00.000Z"},
    });
    for (name, value) in changes.as_object().unwrap() {
        body[name] = value.clone();
    }
    body
}

#[test]
fn optional_connect_fields_are_checked_when_present_and_a_wrong_one_answers_400_invalid_parameters() {
    in_both_styles(demo_sim, |_, client| {
        // Well formed, or absent (null counts as absent): accepted.
        assert_eq!(
            client.post("/accounts", &connect_with_options(json!({}))).status,
            201
        );
        let minimal = json!({"proxy": {"host": "p", "port": 1}, "sync_limit": {}, "country": null});
        assert_eq!(
            client.post("/accounts", &connect_with_options(minimal)).status,
            201
        );
        let id = client.connect("alice", "pw-a").account_id();
        let reconnect = format!("/accounts/{id}");
        assert_eq!(
            client.post(&reconnect, &connect_with_options(json!({}))).status,
            201
        );

        for wrong in [
            json!({"proxy": {"port": "not-a-number"}}),
            json!({"proxy": {"host": "p", "port": "3128"}}),
            json!({"proxy": {"host": "p", "port": 0}}),
            json!({"proxy": {"host": "p", "port": 65536}}),
            json!({"proxy": {"host": "p", "port": 31.5}}),
            json!({"proxy": {"host": "p"}}),
            json!({"proxy": {"port": 3128}}),
            json!({"proxy": {"host": "", "port": 3128}}),
            json!({"proxy": {"host": 7, "port": 3128}}),
            json!({"proxy": {"host": "p", "port": 3128, "protocol": "ftp"}}),
            json!({"proxy": {"host": "p", "port": 3128, "protocol": "SOCKS5"}}),
            json!({"proxy": {"host": "p", "port": 3128, "username": 1}}),
            json!({"proxy": {"host": "p", "port": 3128, "password": ["x"]}}),
            json!({"proxy": "proxy.example.com:3128"}),
            json!({"country": "France"}),
            json!({"country": "F1"}),
            json!({"country": 33}),
            json!({"ip": "203.0.113"}),
            json!({"ip": "2001:db8::1"}),
            json!({"ip": 3405803783u32}),
            json!({"user_agent": ""}),
            json!({"user_agent": 5}),
            json!({"sync_limit": 0}),
            json!({"sync_limit": {"chats": -1}}),
            json!({"sync_limit": {"messages": true}}),
            json!({"sync_limit": {"chats": ""}}),
        ] {
            for path in ["/accounts", reconnect.as_str()] {
                let answer = client.post(path, &connect_with_options(wrong.clone()));
                assert_eq!(answer.status, 400, "{path} with {wrong}: {}", answer.text);
                answer.assert_error(400, "errors/invalid_parameters");
                assert!(!answer.text.contains("proxy-pw"), "{}", answer.text);
            }
        }
    });
}

#[test]
fn a_wrong_optional_connect_field_answers_in_the_configured_envelope() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .error_envelope(auth_sim::ErrorEnvelope::Quickstart)
        .manual_clock()
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    client
        .post(
            "/accounts",
            &connect_with_options(json!({"proxy": {"port": "not-a-number"}})),
        )
        .assert_quickstart_error(400, "errors/invalid_parameters");
}

#[test]
fn unknown_intent_answers_400() {
    in_both_styles(demo_sim, |_, client| {
        client
            .solve("0000000000000000000000", "123456")
            .assert_error(400, "errors/invalid_parameters");
        client
            .solve("definitely not an id", "123456")
            .assert_error(400, "errors/invalid_parameters");
    });
}

#[test]
fn solving_with_another_provider_than_the_intent_answers_400() {
    in_both_styles(demo_sim, |_, client| {
        let id = client.connect("bob", "pw-b").account_id();
        client
            .post(
                "/accounts/checkpoint",
                &json!({"provider":"LINKEDIN","account_id":id,"code":"123456"}),
            )
            .assert_error(400, "errors/invalid_parameters");
        assert_eq!(client.solve(&id, "123456").status, 201);
    });
}

// ----- HTTP-level errors, in the same shape ----------------------------------------------

#[test]
fn unknown_path_answers_404_in_the_error_shape() {
    in_both_styles(demo_sim, |_, client| {
        let answer = client.post("/acounts", &json!({}));
        answer.assert_error(404, "errors/resource_not_found");
        // `instance` is the request id ("Request identifier for support"), not the path.
        assert_eq!(answer.json()["instance"], json!(answer.request_id()));
        client
            .post("/accounts/checkpoint/extra", &json!({}))
            .assert_error(404, "errors/resource_not_found");
    });
}

#[test]
fn wrong_method_answers_405_with_allow() {
    in_both_styles(demo_sim, |_, client| {
        let answer = client.get("/accounts");
        answer.assert_error(405, "errors/method_not_allowed");
        assert_eq!(answer.header("allow"), Some("POST"));
    });
}

#[test]
fn body_over_64_kib_answers_413() {
    in_both_styles(demo_sim, |_, client| {
        let big = format!(
            r#"{{"provider":"MESSENGER","username":"alice","password":"{}"}}"#,
            "x".repeat(70 * 1024)
        );
        client
            .post_raw("/accounts", Some("application/json"), &big)
            .assert_error(413, "errors/content_too_large");
        // Just under the limit is read (and then judged on its merits).
        let fits = format!(
            r#"{{"provider":"MESSENGER","username":"alice","password":"{}"}}"#,
            "x".repeat(60 * 1024)
        );
        client
            .post_raw("/accounts", Some("application/json"), &fits)
            .assert_error(401, "errors/invalid_credentials");
    });
}

// ----- providers and checkpoint types ----------------------------------------------------

#[test]
fn every_provider_uses_the_same_flow() {
    in_both_styles(demo_sim, |_, client| {
        for provider in Provider::ALL {
            let name = provider.as_str();
            let answer = client.post(
                "/accounts",
                &json!({"provider":name,"username":"bob","password":"pw-b"}),
            );
            assert_eq!(answer.status, 202, "{name}");
            let id = answer.account_id();
            let done = client.post(
                "/accounts/checkpoint",
                &json!({"provider":name,"account_id":id,"code":"123456"}),
            );
            assert_eq!(done.status, 201, "{name}");
        }
    });
}

#[test]
fn an_account_restricted_to_a_provider_is_unknown_to_the_others() {
    let fixture = Fixture::new().account(Account::new("li", "pw").provider(Provider::Linkedin));
    in_both_styles(
        || sim_with(fixture.clone()),
        |_, client| {
            client
                .connect("li", "pw")
                .assert_error(401, "errors/invalid_credentials");
            let answer = client.post(
                "/accounts",
                &json!({"provider":"LINKEDIN","username":"li","password":"pw"}),
            );
            assert_eq!(answer.status, 201);
        },
    );
}

#[test]
fn checkpoint_types_echo_their_extra_fields() {
    let fixture = Fixture::new().account(
        Account::new("multi", "pw")
            .checkpoint(Checkpoint::new("2FA", "1").source("SMS"))
            .checkpoint(Checkpoint::new("CAPTCHA", "2").public_key("pk-1").data("blob"))
            .checkpoint(Checkpoint::new("QRCODE", "3").qrcode("qr-data"))
            .checkpoint(
                Checkpoint::new("CONTRACT_CHOOSER", "c2")
                    .contract_option("c1", "Basic")
                    .contract_option("c2", "Recruiter"),
            )
            .checkpoint(Checkpoint::new("PHONE_REGISTER", "(+33)612345678"))
            .checkpoint(Checkpoint::new("BRAND_NEW_TYPE", "5").extra("hint", json!({"digits": 5}))),
    );
    in_both_styles(
        || sim_with(fixture.clone()),
        |_, client| {
            let first = client.connect("multi", "pw");
            let id = first.account_id();
            assert_eq!(first.json()["checkpoint"], json!({"type":"2FA","source":"SMS"}));
            let captcha = client.solve(&id, "1");
            assert_eq!(
                captcha.json()["checkpoint"],
                json!({"type":"CAPTCHA","public_key":"pk-1","data":"blob"})
            );
            let qr = client.solve(&id, "2");
            assert_eq!(
                qr.json()["checkpoint"],
                json!({"type":"QRCODE","qrcode":"qr-data"})
            );
            let chooser = client.solve(&id, "3");
            assert_eq!(
                chooser.json()["checkpoint"],
                json!({"type":"CONTRACT_CHOOSER","contract_options":[{"id":"c1","name":"Basic"},{"id":"c2","name":"Recruiter"}]})
            );
            let phone = client.solve(&id, "c2");
            assert_eq!(phone.json()["checkpoint"], json!({"type":"PHONE_REGISTER"}));
            // An unknown type is kept by name and solvable by code.
            let unknown = client.solve(&id, "(+33)612345678");
            assert_eq!(
                unknown.json()["checkpoint"],
                json!({"type":"BRAND_NEW_TYPE","hint":{"digits":5}})
            );
            let done = client.solve(&id, "5");
            assert_eq!(done.json(), json!({"object":"AccountCreated","account_id":id}));
        },
    );
}

#[test]
fn try_another_way_answers_a_new_202() {
    let fixture = Fixture::new()
        .account(
            Account::new("erin", "pw").checkpoint(
                Checkpoint::in_app("IN_APP_VALIDATION", Duration::from_secs(1))
                    .another_way(Checkpoint::new("2FA", "4242").source("SMS")),
            ),
        )
        .account(Account::new("frank", "pw").checkpoint(Checkpoint::new("OTP", "7")));
    in_both_styles(
        || sim_with(fixture.clone()),
        |_, client| {
            let id = client.connect("erin", "pw").account_id();
            let switched = client.solve(&id, "TRY_ANOTHER_WAY");
            assert_eq!(switched.status, 202);
            assert_eq!(
                switched.json(),
                json!({"object":"Checkpoint","account_id":id,"checkpoint":{"type":"2FA","source":"SMS"}})
            );
            // The alternative's code now solves it; in-app no longer does.
            client
                .solve(&id, "in_app_validation")
                .assert_error(401, "errors/invalid_checkpoint_solution");
            assert_eq!(client.solve(&id, "4242").status, 201);

            // Without a declared alternative, the same checkpoint is answered again.
            let id = client.connect("frank", "pw").account_id();
            let same = client.solve(&id, "TRY_ANOTHER_WAY");
            assert_eq!(same.status, 202);
            assert_eq!(same.json()["checkpoint"], json!({"type":"OTP"}));
            assert_eq!(client.solve(&id, "7").status, 201);
        },
    );
}

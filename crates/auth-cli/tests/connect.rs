//! `postpress-auth connect` against the simulator: every way a connection ends, with the
//! password and the codes from every source.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use auth_sim::Fault;
use common::*;

#[test]
fn an_account_without_checkpoint_connects_with_the_password_from_the_environment() {
    let sim = simulator();
    let run = cli(&sim)
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    let json = run.exits(0).outcome("connected");
    assert_eq!(
        json["account_id"],
        sim.connected_accounts()[0].account_id.as_str()
    );
    assert_eq!(json["reconnected"], false);
    let connect = &requests_to(&sim, "/accounts")[0];
    assert_eq!(connect.header("x-api-key"), Some(API_KEY));
    assert_eq!(connect.body_json().unwrap()["password"], ALICE_PW);
}

#[test]
fn without_json_the_outcome_is_a_sentence_on_standard_output() {
    let sim = simulator();
    let run = cli(&sim)
        .password(ALICE_PW)
        .args(["connect", "--username", "alice"])
        .run();
    run.exits(0);
    let account = &sim.connected_accounts()[0].account_id;
    assert_eq!(run.stdout.trim(), format!("Connected: account {account}."));
}

#[test]
fn the_password_and_the_code_come_from_standard_input() {
    let sim = simulator();
    let run = cli(&sim)
        .stdin(&format!("{BOB_PW}\n{BOB_CODE}\n"))
        .args(["connect", "--username", "bob", "--json"])
        .run();
    run.exits(0).outcome("connected");
    assert_eq!(
        requests_to(&sim, "/accounts")[0].body_json().unwrap()["password"],
        BOB_PW
    );
    assert_eq!(solves(&sim)[0].body_json().unwrap()["code"], BOB_CODE);
    assert!(run.stderr.contains("Checkpoint 2FA (SMS)"), "{run:?}");
}

#[test]
fn the_code_comes_from_the_command_line() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .args(["connect", "--username", "bob", "--code", BOB_CODE, "--json"])
        .run();
    run.exits(0).outcome("connected");
    assert_eq!(solves(&sim).len(), 1);
}

#[test]
fn a_wrong_code_then_the_right_one_connect_within_the_same_intent() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .args([
            "connect",
            "--username",
            "bob",
            "--code",
            WRONG_CODE,
            "--code",
            BOB_CODE,
            "--json",
        ])
        .run();
    let json = run.exits(0).outcome("connected");
    let solves = solves(&sim);
    assert_eq!(solves.len(), 2);
    let first = solves[0].body_json().unwrap();
    let second = solves[1].body_json().unwrap();
    assert_eq!(
        (first["code"].as_str(), second["code"].as_str()),
        (Some(WRONG_CODE), Some(BOB_CODE))
    );
    assert_eq!(first["account_id"], second["account_id"]);
    assert_eq!(json["account_id"], first["account_id"]);
    assert_eq!(requests_to(&sim, "/accounts").len(), 1, "one connect, one intent");
    assert!(run.stderr.contains("Wrong code for 2FA"), "{run:?}");
}

#[test]
fn a_wrong_code_then_the_right_one_from_standard_input() {
    let sim = simulator();
    let run = cli(&sim)
        .stdin(&format!("{BOB_PW}\n{WRONG_CODE}\n\n{BOB_CODE}\n"))
        .args(["connect", "--username", "bob", "--json"])
        .run();
    run.exits(0).outcome("connected");
    assert_eq!(solves(&sim).len(), 2, "the blank line is skipped, not sent");
}

#[test]
fn a_wrong_code_and_no_more_codes_is_rejected() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .args(["connect", "--username", "bob", "--code", WRONG_CODE, "--json"])
        .run();
    let json = run.exits(4).outcome("error");
    assert_eq!(json["status"], 401);
    assert_eq!(json["type"], "errors/invalid_checkpoint_solution");
    assert!(
        json["message"].as_str().unwrap().contains("no more codes"),
        "{run:?}"
    );
    assert_eq!(solves(&sim).len(), 1);
}

#[test]
fn standard_input_ending_before_a_code_is_rejected_and_sends_nothing() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .stdin("")
        .args(["connect", "--username", "bob", "--json"])
        .run();
    let json = run.exits(4).outcome("error");
    assert_eq!(json["type"], "cli/no_more_codes");
    assert_eq!(json["status"], serde_json::Value::Null);
    assert!(solves(&sim).is_empty());
}

#[test]
fn in_app_validation_from_the_flag_waits_for_the_approval() {
    let sim = simulator();
    let run = cli(&sim)
        .password(CAROL_PW)
        .args(["connect", "--username", "carol", "--in-app", "--json"])
        .run();
    run.exits(0).outcome("connected");
    let solves = solves(&sim);
    assert_eq!(solves.len(), 1);
    assert_eq!(solves[0].body_json().unwrap()["code"], "in_app_validation");
}

#[test]
fn in_app_validation_typed_as_the_answer() {
    let sim = simulator();
    let run = cli(&sim)
        .stdin(&format!("{CAROL_PW}\nin_app_validation\n"))
        .args(["connect", "--username", "carol", "--json"])
        .run();
    run.exits(0).outcome("connected");
    assert_eq!(solves(&sim)[0].body_json().unwrap()["code"], "in_app_validation");
}

#[test]
fn chained_checkpoints_are_shown_and_solved_in_turn() {
    let sim = simulator();
    let run = cli(&sim)
        .password(DAVE_PW)
        .args([
            "connect",
            "--username",
            "dave",
            "--code",
            DAVE_2FA,
            "--code",
            DAVE_OTP,
            "--json",
        ])
        .run();
    run.exits(0).outcome("connected");
    let two_fa = run.stderr.find("Checkpoint 2FA").expect("2FA shown");
    let otp = run.stderr.find("Checkpoint OTP").expect("OTP shown");
    assert!(two_fa < otp, "{run:?}");
    let codes: Vec<_> = solves(&sim)
        .iter()
        .map(|r| r.body_json().unwrap()["code"].clone())
        .collect();
    assert_eq!(codes, [DAVE_2FA, DAVE_OTP]);
}

#[test]
fn a_checkpoint_of_an_unknown_type_is_shown_by_name_and_solved_by_code() {
    let sim = simulator();
    let run = cli(&sim)
        .stdin(&format!("{ERIN_PW}\n{ERIN_CODE}\n"))
        .args(["connect", "--username", "erin", "--json"])
        .run();
    run.exits(0).outcome("connected");
    assert!(run.stderr.contains("FACE_SCAN (unknown type)"), "{run:?}");
}

#[test]
fn try_another_way_asks_for_another_checkpoint_in_the_same_intent() {
    let sim = simulator();
    let run = cli(&sim)
        .password(FRANK_PW)
        .stdin(&format!("TRY_ANOTHER_WAY\n{FRANK_OTP}\n"))
        .args(["connect", "--username", "frank", "--json"])
        .run();
    run.exits(0).outcome("connected");
    let two_fa = run.stderr.find("Checkpoint 2FA").expect("2FA shown");
    let otp = run.stderr.find("Checkpoint OTP").expect("OTP shown");
    assert!(two_fa < otp, "{run:?}");
    let codes: Vec<_> = solves(&sim)
        .iter()
        .map(|r| r.body_json().unwrap()["code"].clone())
        .collect();
    assert_eq!(codes, ["TRY_ANOTHER_WAY", FRANK_OTP]);
}

#[test]
fn wrong_credentials_are_rejected() {
    let sim = simulator();
    let run = cli(&sim)
        .password("not-bobs-password")
        .secret("not-bobs-password")
        .args(["connect", "--username", "bob", "--json"])
        .run();
    let json = run.exits(4).outcome("error");
    assert_eq!(json["status"], 401);
    assert_eq!(json["type"], "errors/invalid_credentials");
}

#[test]
fn an_unknown_api_key_on_connect_is_rejected_and_the_message_says_both() {
    // The API uses `invalid_credentials` for a refused password and for an unknown API key.
    let sim = simulator();
    let run = cli(&sim)
        .env("POSTPRESS_API_KEY", "some-other-api-key")
        .secret("some-other-api-key")
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    let json = run.exits(4).outcome("error");
    assert_eq!(json["type"], "errors/invalid_credentials");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("check the API key"), "{run:?}");
    assert!(sim.connected_accounts().is_empty());
}

#[test]
fn an_expired_or_out_of_scope_api_key_is_a_configuration_error_never_a_wrong_password() {
    let sim = auth_sim::Simulator::builder()
        .api_key(API_KEY)
        .expired_api_key("expired-api-key-1234")
        .api_key_without_scope("narrow-api-key-5678")
        .fixture(fixture())
        .start()
        .unwrap();
    for (key, kind) in [
        ("expired-api-key-1234", "errors/expired_credentials"),
        ("narrow-api-key-5678", "errors/insufficient_privileges"),
    ] {
        let run = cli(&sim)
            .env("POSTPRESS_API_KEY", key)
            .secret(key)
            .password(ALICE_PW)
            .args(["connect", "--username", "alice", "--json"])
            .run();
        let json = run.exits(2).outcome("error");
        assert_eq!(json["type"], kind);
        assert_eq!(json["status"], 401);
        let message = json["message"].as_str().unwrap();
        assert!(message.starts_with("configuration error"), "{run:?}");
        assert!(!message.contains("password was refused"), "{run:?}");
    }
    assert!(sim.connected_accounts().is_empty());
}

#[test]
fn an_error_outcome_carries_the_servers_request_id() {
    let sim = simulator();
    let run = cli(&sim)
        .password("not-bobs-password")
        .secret("not-bobs-password")
        .args(["connect", "--username", "bob", "--json"])
        .run();
    let json = run.exits(4).outcome("error");
    let request_id = json["request_id"].as_str().expect("a request id");
    assert_eq!(request_id.len(), 36, "{run:?}");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains(&format!("[request id: {request_id}]")),
        "{run:?}"
    );
    // Said to people too.
    assert!(run.stderr.contains(request_id), "{run:?}");
}

#[test]
fn a_sandbox_api_key_is_flagged_in_json_and_for_people() {
    const SANDBOX_KEY: &str = "pp_test_sandbox-key-4242";
    let sim = auth_sim::Simulator::builder()
        .api_key(SANDBOX_KEY)
        .fixture(fixture())
        .start()
        .unwrap();
    let run = cli(&sim)
        .env("POSTPRESS_API_KEY", SANDBOX_KEY)
        .secret(SANDBOX_KEY)
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    let json = run.exits(0).outcome("connected");
    assert_eq!(json["sandbox"], true);
    assert!(run.stderr.contains("Sandbox"), "{run:?}");
    let run = cli(&sim)
        .env("POSTPRESS_API_KEY", SANDBOX_KEY)
        .password(ALICE_PW)
        .args(["connect", "--username", "alice"])
        .run();
    run.exits(0);
    assert!(run.stdout.contains("no real account was connected"), "{run:?}");
    // A live key is not flagged.
    let sim = simulator();
    let run = cli(&sim)
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    assert!(
        run.exits(0).outcome("connected").get("sandbox").is_none(),
        "{run:?}"
    );
}

#[test]
fn a_code_refused_as_malformed_asks_for_the_next_code_within_the_same_intent() {
    let sim = faulty_solve(
        Fault::new()
            .force_status(400)
            .force_type("errors/invalid_parameters")
            .times(1),
    );
    let run = cli(&sim)
        .password(FAULTY_PW)
        .stdin(&format!("{WRONG_CODE}\n{BOB_CODE}\n"))
        .args(["connect", "--username", "faulty", "--json"])
        .run();
    run.exits(0).outcome("connected");
    let solves = solves(&sim);
    assert_eq!(solves.len(), 2);
    assert_eq!(
        solves[0].body_json().unwrap()["account_id"],
        solves[1].body_json().unwrap()["account_id"],
        "the same intent"
    );
    assert!(
        run.stderr.contains("refused the code for 2FA as malformed"),
        "{run:?}"
    );
    assert_eq!(requests_to(&sim, "/accounts").len(), 1, "one connect");
}

#[test]
fn a_refused_account_ends_with_exit_4_without_asking_for_more_codes() {
    let sim = faulty_solve(
        Fault::new()
            .force_status(403)
            .force_type("errors/account_restricted"),
    );
    let run = cli(&sim)
        .password(FAULTY_PW)
        .args([
            "connect",
            "--username",
            "faulty",
            "--code",
            BOB_CODE,
            "--code",
            BOB_CODE,
            "--json",
        ])
        .run();
    let json = run.exits(4).outcome("error");
    assert_eq!(json["status"], 403);
    assert_eq!(json["type"], "errors/account_restricted");
    assert!(json["request_id"].is_string(), "{run:?}");
    assert!(
        json["message"].as_str().unwrap().contains("no code will help"),
        "{run:?}"
    );
    assert_eq!(solves(&sim).len(), 1, "no second code was sent");
}

#[test]
fn a_solve_whose_201_was_lost_is_sent_again_and_ends_connected() {
    let sim = faulty_solve(Fault::new().lose_answer().times(1));
    let run = cli(&sim)
        .password(FAULTY_PW)
        .args([
            "-v",
            "connect",
            "--username",
            "faulty",
            "--code",
            BOB_CODE,
            "--json",
        ])
        .run();
    run.exits(0).outcome("connected");
    let solves = solves(&sim);
    assert_eq!(solves.len(), 2, "the lost solve, then its retry");
    assert_eq!(
        solves[0].header("idempotency-key"),
        solves[1].header("idempotency-key"),
        "one key for both attempts"
    );
    assert!(solves[0].header("idempotency-key").is_some());
    assert_eq!(sim.connected_accounts().len(), 1);
    assert!(
        run.stderr.contains("(attempt 2, the same Idempotency-Key)"),
        "{run:?}"
    );
}

#[test]
fn a_connect_whose_202_was_lost_is_sent_again_and_finds_the_same_intent() {
    let fixture = auth_sim::Fixture::new().account(
        auth_sim::Account::new("faulty", FAULTY_PW)
            .fault(Fault::new().lose_answer().times(1))
            .checkpoint(auth_sim::Checkpoint::new("2FA", BOB_CODE)),
    );
    let sim = auth_sim::Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap();
    let run = cli(&sim)
        .password(FAULTY_PW)
        .args(["connect", "--username", "faulty", "--code", BOB_CODE, "--json"])
        .run();
    run.exits(0).outcome("connected");
    let connects = requests_to(&sim, "/accounts");
    assert_eq!(connects.len(), 2);
    assert_eq!(
        connects[0].header("idempotency-key"),
        connects[1].header("idempotency-key")
    );
    assert_eq!(sim.connected_accounts().len(), 1);
}

#[test]
fn the_api_key_may_come_from_the_flag() {
    let sim = simulator();
    let run = cli(&sim)
        .env_remove("POSTPRESS_API_KEY")
        .args(["--api-key", API_KEY])
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    run.exits(0).outcome("connected");
}

#[test]
fn reconnect_sends_the_credentials_to_the_account() {
    let sim = simulator();
    cli(&sim)
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run()
        .exits(0);
    let account = sim.connected_accounts()[0].account_id.clone();
    let run = cli(&sim)
        .password(ALICE_PW)
        .args([
            "connect",
            "--username",
            "alice",
            "--reconnect",
            &account,
            "--json",
        ])
        .run();
    let json = run.exits(0).outcome("connected");
    assert_eq!(json["account_id"], account.as_str());
    assert_eq!(json["reconnected"], true);
    assert_eq!(requests_to(&sim, &format!("/accounts/{account}")).len(), 1);
}

#[test]
fn verbose_shows_each_request_and_answer_without_secrets() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .args([
            "-v",
            "connect",
            "--username",
            "bob",
            "--code",
            WRONG_CODE,
            "--code",
            BOB_CODE,
        ])
        .run();
    run.exits(0);
    for expected in [
        "> POST /accounts {",
        "< 202 (",
        "> POST /accounts/checkpoint {",
        "< 401 (",
        "< 201 (",
        r#""password":"<redacted>""#,
        r#""code":"<redacted>""#,
    ] {
        assert!(run.stderr.contains(expected), "no {expected:?} in {run:?}");
    }
}

#[test]
fn the_password_may_not_be_missing() {
    let sim = simulator();
    let run = cli(&sim)
        .stdin("")
        .args(["connect", "--username", "alice", "--json"])
        .run();
    let json = run.exits(2).outcome("error");
    assert!(
        json["message"].as_str().unwrap().contains("POSTPRESS_PASSWORD"),
        "{run:?}"
    );
    assert!(sim.requests().is_empty());
}

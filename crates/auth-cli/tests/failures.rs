//! Hostile answers, a network that fails, and configuration errors: exit codes 2, 3 and 5.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::time::Duration;

use auth_sim::{Account, Checkpoint, Fault, Fixture, Simulator};
use common::*;

/// `connect --json` of the `faulty` account.
fn connect_faulty(sim: &Simulator, extra: &[&str]) -> Run {
    cli(sim)
        .password(FAULTY_PW)
        .args(extra)
        .args(["connect", "--username", "faulty", "--json"])
        .run()
}

#[test]
fn an_answer_that_is_not_json_is_a_failure() {
    let sim = faulty_connect(Fault::new().non_json_body());
    let json = connect_faulty(&sim, &[]).exits(5).outcome("error");
    assert_eq!(json["type"], "protocol/malformed_answer");
    assert!(json["status"].is_u64());
}

#[test]
fn an_error_status_with_a_body_that_is_not_json_keeps_its_status() {
    let sim = faulty_solve(Fault::new().non_json_body());
    let run = cli(&sim)
        .password(FAULTY_PW)
        .args(["connect", "--username", "faulty", "--code", WRONG_CODE, "--json"])
        .run();
    // A wrong code's 401, unreadable: rejected by the API all the same.
    let json = run.exits(4).outcome("error");
    assert_eq!(json["status"], 401);
    assert_eq!(json["type"], serde_json::Value::Null);
}

#[test]
fn a_503_is_sent_again_and_a_lasting_one_is_a_failure() {
    // Once: the core's retry policy sends the same request again, and it is answered.
    let sim = faulty_connect(Fault::new().force_status(503).times(1));
    connect_faulty(&sim, &[]).exits(0).outcome("connected");
    assert_eq!(requests_to(&sim, "/accounts").len(), 2);
    // Every time: four attempts, then a failure.
    let sim = faulty_connect(Fault::new().force_status(503));
    let json = connect_faulty(&sim, &[]).exits(5).outcome("error");
    assert_eq!(json["status"], 503);
    let connects = requests_to(&sim, "/accounts");
    assert_eq!(connects.len(), 4);
    assert!(
        connects
            .iter()
            .all(|r| r.header("idempotency-key") == connects[0].header("idempotency-key"))
    );
}

#[test]
fn a_connection_closed_mid_answer_is_sent_again_and_the_replay_connects() {
    // The simulator acted and cut its answer; the retry with the same key gets the answer.
    let sim = faulty_connect(Fault::new().close_mid_answer());
    connect_faulty(&sim, &[]).exits(0).outcome("connected");
    assert_eq!(requests_to(&sim, "/accounts").len(), 2);
    assert_eq!(sim.connected_accounts().len(), 1, "connected once");
}

#[test]
fn a_connection_closed_without_answer_every_time_is_a_failure() {
    let sim = faulty_connect(Fault::new().close_without_answer());
    let json = connect_faulty(&sim, &[]).exits(5).outcome("error");
    assert_eq!(json["type"], "transport/io", "{json}");
    assert_eq!(
        requests_to(&sim, "/accounts").len(),
        4,
        "the core's four attempts"
    );
}

#[test]
fn an_oversized_answer_is_refused() {
    let sim = faulty_connect(Fault::new().oversized_body(2 * 1024 * 1024));
    let json = connect_faulty(&sim, &[]).exits(5).outcome("error");
    assert_eq!(json["type"], "transport/answer_too_large");
}

#[test]
fn a_redirect_is_not_followed() {
    let elsewhere = Simulator::builder().api_key(API_KEY).start().unwrap();
    let sim = faulty_connect(Fault::new().redirect_to(format!("{}/accounts", elsewhere.base_url())));
    let json = connect_faulty(&sim, &[]).exits(5).outcome("error");
    assert_eq!(json["type"], "transport/redirect");
    assert!(
        elsewhere.requests().is_empty(),
        "the API key never reached the other host"
    );
}

#[test]
fn a_slow_answer_times_out() {
    let sim = faulty_connect(Fault::new().delay(Duration::from_secs(5)));
    let json = connect_faulty(&sim, &["--timeout", "0.5"])
        .exits(5)
        .outcome("error");
    assert_eq!(json["type"], "transport/timeout");
}

#[test]
fn no_server_at_all_is_a_failure() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let run = cli_at(&format!("http://127.0.0.1:{port}/v1"))
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    let json = run.exits(5).outcome("error");
    assert!(json["type"].as_str().unwrap().starts_with("transport/"), "{json}");
}

#[test]
fn a_hostile_answer_to_a_solve_keeps_the_saved_intent() {
    // Four 503s: every attempt the core makes.
    let sim = faulty_solve(Fault::new().force_status(503).times(4));
    let scratch = Scratch::new("hostile-solve");
    let state = scratch.path("faulty.json");
    detach_cli(&sim, &state, "faulty", FAULTY_PW).run().exits(10);
    // A 503 changes nothing on the server: the intent is still alive, and kept, with the key
    // of the solve whose answers were all 503s.
    let run = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    assert_eq!(run.exits(5).outcome("error")["status"], 503);
    let saved = state_file_text(&state);
    let key = solves(&sim)[0].header("idempotency-key").unwrap().to_owned();
    assert!(saved.contains(&key), "{saved}");
    // The fault is spent: the same intent, solved again (the same request, its key), connects.
    let run = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    run.exits(0).outcome("connected");
    let solves = solves(&sim);
    assert_eq!(solves.len(), 5);
    assert_eq!(solves[4].header("idempotency-key"), Some(key.as_str()));
}

#[test]
fn a_500_authentication_intent_error_destroys_the_intent() {
    let sim = faulty_solve(
        Fault::new()
            .force_status(500)
            .force_type("errors/authentication_intent_error"),
    );
    let run = cli(&sim)
        .password(FAULTY_PW)
        .args(["connect", "--username", "faulty", "--code", BOB_CODE, "--json"])
        .run();
    let json = run.exits(3).outcome("destroyed");
    assert_eq!(json["status"], 500);
    assert_eq!(json["type"], "errors/authentication_intent_error");
}

#[test]
fn a_400_against_the_intent_destroys_it() {
    let sim = faulty_solve(
        Fault::new()
            .force_status(400)
            .force_type("errors/checkpoint_error"),
    );
    let run = cli(&sim)
        .password(FAULTY_PW)
        .args(["connect", "--username", "faulty", "--code", BOB_CODE, "--json"])
        .run();
    let json = run.exits(3).outcome("destroyed");
    assert_eq!(json["status"], 400);
}

#[test]
fn a_servers_control_characters_never_reach_the_terminal() {
    // An unknown checkpoint type that would clear the screen and ring the bell.
    let hostile = "EVIL\u{1b}[2J\u{7}\u{9b}1m";
    let fixture = Fixture::new()
        .account(Account::new("faulty", FAULTY_PW).checkpoint(Checkpoint::new(hostile, BOB_CODE)));
    let sim = Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap();
    for json in [false, true] {
        let run = cli(&sim)
            .password(FAULTY_PW)
            .args(["connect", "--username", "faulty", "--code", WRONG_CODE])
            .args(json.then_some("--json"))
            .run();
        run.exits(4);
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.contains(['\u{1b}', '\u{7}', '\u{9b}']),
                "a control character reached the terminal: {run:?}"
            );
        }
        assert!(
            run.stderr.contains("EVIL\u{FFFD}[2J\u{FFFD}\u{FFFD}1m"),
            "{run:?}"
        );
        if json {
            // The JSON object keeps the server's text as it came, escaped by JSON.
            let message = run.outcome("error")["message"].as_str().unwrap().to_owned();
            assert!(message.contains("EVIL\u{1b}[2J"), "{run:?}");
        }
    }
}

/// `--json` keeps the server's strings as it sent them: DEL, C1 controls and bidi overrides
/// go as JSON escapes (`\u0085`), not replaced, so a script reads the checkpoint type the
/// server sent and the state file holds; none of them reaches the terminal as such.
#[test]
fn json_output_keeps_the_servers_strings_as_sent_escaped() {
    let kind = "FACE\u{7f}SCAN\u{85}\u{202E}\u{2066}";
    let fixture =
        Fixture::new().account(Account::new("erin", ERIN_PW).checkpoint(Checkpoint::new(kind, ERIN_CODE)));
    let sim = Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap();
    let scratch = Scratch::new("failures-json-strings");
    let state = scratch.path("erin.json");
    let run = detach_cli(&sim, &state, "erin", ERIN_PW).run();
    let json = run.exits(10).outcome("checkpoint_pending");
    assert_eq!(json["checkpoint"]["type"], kind, "{run:?}");
    assert_eq!(
        state_file_json(&state)["snapshot"]["intent"]["checkpoint"]["type"],
        kind
    );
    assert!(
        run.stdout.contains(r"FACE\u007fSCAN\u0085\u202e\u2066"),
        "{run:?}"
    );
    assert!(
        !run.stdout
            .contains(['\u{7f}', '\u{85}', '\u{202E}', '\u{2066}', '\u{FFFD}']),
        "{run:?}"
    );
}

#[test]
fn plain_http_to_another_host_is_refused_before_anything_is_sent() {
    let run = cli_at("http://api.example.com/v1")
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    let json = run.exits(2).outcome("error");
    assert_eq!(json["type"], "cli/configuration");
    // The client builder's own words.
    let message = json["message"].as_str().unwrap();
    assert!(
        message.contains("refusing plain http") && message.contains("only allowed to loopback hosts"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("loopback"),
        "said on standard error too: {run:?}"
    );
}

#[test]
fn a_huge_timeout_is_a_usage_error_not_a_panic() {
    // ureq computes `now + timeout`: 1e19 seconds would overflow it (exit 101).
    for (flag, value) in [
        ("--timeout", "1e19"),
        ("--timeout", "604801"),
        ("--intent-ttl", "1e19"),
    ] {
        let run = bare_cli()
            .args(["--api-key", API_KEY, "--base-url", "http://127.0.0.1:9/v1"])
            .args([flag, value])
            .args(["connect", "--username", "bob", "--json"])
            .stdin(BOB_PW)
            .run();
        let json = run.exits(2).outcome("error");
        assert_eq!(json["type"], "cli/usage", "{run:?}");
        assert!(run.stderr.contains("at most"), "{run:?}");
    }
}

#[test]
fn a_missing_api_key_is_a_configuration_error() {
    let sim = simulator();
    let run = cli(&sim)
        .env_remove("POSTPRESS_API_KEY")
        .password(ALICE_PW)
        .args(["connect", "--username", "alice", "--json"])
        .run();
    let json = run.exits(2).outcome("error");
    assert!(
        json["message"].as_str().unwrap().contains("POSTPRESS_API_KEY"),
        "{run:?}"
    );
    assert!(sim.requests().is_empty());
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    bare_cli().args(["connect"]).run().exits(2);
    bare_cli().args(["frobnicate"]).run().exits(2);
    bare_cli().args(["--timeout", "soon", "demo"]).run().exits(2);
    bare_cli().args(["--intent-ttl", "inf", "demo"]).run().exits(2);
    let run = bare_cli()
        .args([
            "connect",
            "--username",
            "bob",
            "--code",
            BOB_CODE,
            "--bogus",
            "--json",
        ])
        .run();
    assert_eq!(run.exits(2).outcome("error")["type"], "cli/usage");
    let help = bare_cli().args(["--help"]).run();
    help.exits(0);
    for command in ["connect", "solve", "resend", "demo"] {
        assert!(help.stdout.contains(command), "{help:?}");
    }
}

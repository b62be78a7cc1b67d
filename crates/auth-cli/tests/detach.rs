//! `connect --detach`, `solve` and `resend`: a pending intent saved by one process and
//! resumed by another, and the two ways an intent runs out of time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::time::Duration;

use common::*;

/// `connect --detach` of bob, checked to end with a pending checkpoint saved in `state`.
fn detach_bob(sim: &auth_sim::Simulator, state: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let run = cli(sim)
        .password(BOB_PW)
        .args(extra)
        .args(["connect", "--username", "bob", "--detach", "--state-file"])
        .args([state])
        .args(["--json"])
        .run();
    let pending = run.exits(10).outcome("checkpoint_pending");
    assert!(
        run.stderr.contains("Checkpoint 2FA (SMS)"),
        "the checkpoint is shown: {run:?}"
    );
    pending
}

#[test]
fn detach_saves_the_intent_without_secrets_and_solve_resumes_it_in_another_process() {
    let sim = simulator();
    let scratch = Scratch::new("detach");
    let state = scratch.path("bob.json");
    let pending = detach_bob(&sim, &state, &[]);
    assert_eq!(pending["checkpoint"]["type"], "2FA");
    assert_eq!(pending["checkpoint"]["source"], "SMS");
    assert!(pending["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(pending["remaining_ms"].as_u64().unwrap() <= 300_000);
    assert!(solves(&sim).is_empty(), "detached: nothing solved yet");

    let text = state_file_text(&state);
    assert!(text.contains(pending["account_id"].as_str().unwrap()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let run = cli(&sim)
        .args(["solve", "--state-file"])
        .args([&state])
        .args(["--code", BOB_CODE, "--json"])
        .run();
    let connected = run.exits(0).outcome("connected");
    assert_eq!(connected["account_id"], pending["account_id"]);
    assert!(!state.exists(), "the state file of an ended intent is removed");
    assert_eq!(
        std::fs::read_dir(scratch.dir()).unwrap().count(),
        0,
        "no temporary file left"
    );
}

#[test]
fn solve_reads_the_code_from_standard_input() {
    let sim = simulator();
    let scratch = Scratch::new("solve-stdin");
    let state = scratch.path("bob.json");
    detach_bob(&sim, &state, &[]);
    let run = cli(&sim)
        .stdin(&format!("{BOB_CODE}\n"))
        .args(["solve", "--state-file"])
        .args([&state])
        .args(["--json"])
        .run();
    run.exits(0).outcome("connected");
}

#[test]
fn detach_uses_the_codes_given_and_saves_the_next_checkpoint_of_a_chain() {
    let sim = simulator();
    let scratch = Scratch::new("chain");
    let state = scratch.path("dave.json");
    let run = cli(&sim)
        .password(DAVE_PW)
        .args([
            "connect",
            "--username",
            "dave",
            "--code",
            DAVE_2FA,
            "--detach",
            "--json",
            "--state-file",
        ])
        .args([&state])
        .run();
    let pending = run.exits(10).outcome("checkpoint_pending");
    assert_eq!(pending["checkpoint"]["type"], "OTP");
    state_file_text(&state);
    let run = solve_cli(&sim, &state, Some(DAVE_OTP)).run();
    run.exits(0).outcome("connected");
}

#[test]
fn a_wrong_code_in_solve_keeps_the_intent_for_another_try() {
    let sim = simulator();
    let scratch = Scratch::new("solve-wrong");
    let state = scratch.path("bob.json");
    detach_bob(&sim, &state, &[]);
    let run = solve_cli(&sim, &state, Some(WRONG_CODE)).stdin("").run();
    let json = run.exits(4).outcome("error");
    assert_eq!(json["type"], "errors/invalid_checkpoint_solution");
    assert!(state_file_text(&state).contains(r#""failed_attempts":1"#));
    let run = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    run.exits(0).outcome("connected");
}

#[test]
fn solve_without_any_answer_keeps_the_intent_pending() {
    let sim = simulator();
    let scratch = Scratch::new("solve-none");
    let state = scratch.path("bob.json");
    let saved = detach_bob(&sim, &state, &[]);
    let run = solve_cli(&sim, &state, None).stdin("").run();
    let pending = run.exits(10).outcome("checkpoint_pending");
    assert_eq!(pending["account_id"], saved["account_id"]);
    assert!(solves(&sim).is_empty());
    assert!(state.exists());
}

#[test]
fn resend_asks_for_the_checkpoint_again_and_keeps_the_intent() {
    let sim = simulator();
    let scratch = Scratch::new("resend");
    let state = scratch.path("bob.json");
    let saved = detach_bob(&sim, &state, &[]);
    let run = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&state])
        .run();
    let pending = run.exits(10).outcome("checkpoint_pending");
    assert_eq!(pending["resent"], true);
    assert_eq!(pending["account_id"], saved["account_id"]);
    let resends = requests_to(&sim, "/accounts/checkpoint/resend");
    assert_eq!(resends.len(), 1);
    assert_eq!(resends[0].body_json().unwrap()["account_id"], saved["account_id"]);
    state_file_text(&state);
}

#[test]
fn a_resend_the_provider_refused_exits_10_with_resent_false() {
    let fixture = auth_sim::Fixture::new().account(
        auth_sim::Account::new("bob", BOB_PW).checkpoint(
            auth_sim::Checkpoint::new("2FA", BOB_CODE)
                .source("SMS")
                .resend_refused(),
        ),
    );
    let sim = auth_sim::Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap();
    let scratch = Scratch::new("resend-refused");
    let state = scratch.path("bob.json");
    detach_bob(&sim, &state, &[]);
    let run = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&state])
        .run();
    let pending = run.exits(10).outcome("checkpoint_pending");
    assert_eq!(pending["resent"], false);
    assert!(run.stderr.contains("success: false"), "{run:?}");
    // Still pending, and solvable.
    solve_cli(&sim, &state, Some(BOB_CODE)).run().exits(0);
}

#[test]
fn a_state_file_saved_by_the_first_edition_still_resumes() {
    let sim = simulator();
    let scratch = Scratch::new("v1-state");
    let state = scratch.path("bob.json");
    detach_bob(&sim, &state, &[]);
    // The same intent, written as the first edition wrote it (snapshot version 1).
    let saved: serde_json::Value = serde_json::from_str(&state_file_text(&state)).unwrap();
    let intent = &saved["snapshot"]["intent"];
    let mut state_v1 = intent.clone();
    state_v1["phase"] = "awaiting_checkpoint".into();
    let v1 = serde_json::json!({
        "format": "postpress-auth/state",
        "version": 1,
        "base_url": saved["base_url"],
        "username": "bob",
        "snapshot": {"version": 1, "state": state_v1, "latest_now": saved["snapshot"]["latest_now"]},
    });
    std::fs::write(&state, serde_json::to_string_pretty(&v1).unwrap()).unwrap();
    let run = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    let connected = run.exits(0).outcome("connected");
    assert_eq!(connected["account_id"], intent["account_id"]);
}

#[test]
fn an_intent_past_its_local_deadline_expires_with_nothing_sent() {
    // The client assumes a 2 s intent; the simulator's lasts 300 s.
    let sim = simulator();
    let scratch = Scratch::new("local-expiry");
    let state = scratch.path("bob.json");
    detach_bob(&sim, &state, &["--intent-ttl", "2"]);
    std::thread::sleep(Duration::from_millis(2100));
    let run = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    let json = run.exits(3).outcome("expired");
    assert_eq!(json["detected_by"], "deadline");
    assert!(solves(&sim).is_empty(), "nothing was sent");
    assert!(!state.exists());
}

#[test]
fn waiting_for_a_code_on_standard_input_stops_at_the_deadline() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .stdin_open()
        .args(["--intent-ttl", "1", "connect", "--username", "bob", "--json"])
        .run();
    let json = run.exits(3).outcome("expired");
    assert_eq!(json["detected_by"], "deadline");
    assert!(solves(&sim).is_empty(), "nothing was sent");
}

#[test]
fn the_server_says_408_when_its_intent_has_expired_first() {
    // The simulator's clock jumps past its 300 s; the client still counts 300 s from the
    // connect, so it sends, and the server answers 408.
    let sim = manual_clock_simulator();
    let scratch = Scratch::new("server-expiry");
    let state = scratch.path("bob.json");
    detach_bob(&sim, &state, &[]);
    sim.advance(Duration::from_secs(301));
    let run = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    let json = run.exits(3).outcome("expired");
    assert_eq!(json["detected_by"], "server");
    assert_eq!(solves(&sim).len(), 1);
    assert!(!state.exists());
}

#[test]
fn after_the_408_a_copy_of_the_intent_finds_it_destroyed() {
    let sim = manual_clock_simulator();
    let scratch = Scratch::new("server-destroyed");
    let state = scratch.path("bob.json");
    let copy = scratch.path("copy.json");
    detach_bob(&sim, &state, &[]);
    std::fs::copy(&state, &copy).unwrap();
    sim.advance(Duration::from_secs(301));
    solve_cli(&sim, &state, Some(BOB_CODE)).run().exits(3);
    // Another process with a copy of the intent: the server has destroyed it.
    let run = solve_cli(&sim, &copy, Some(BOB_CODE)).run();
    let json = run.exits(3).outcome("destroyed");
    assert_eq!(json["status"], 400);
    assert_eq!(json["type"], "errors/authentication_intent_error");
    assert!(json["request_id"].is_string(), "{run:?}");
    assert!(!copy.exists());
    assert_eq!(solves(&sim).len(), 2);
}

#[test]
fn solve_refuses_to_send_an_intent_to_another_base_url() {
    let sim = simulator();
    let scratch = Scratch::new("other-url");
    let state = scratch.path("bob.json");
    detach_bob(&sim, &state, &[]);
    let other = auth_sim::Simulator::builder().api_key(API_KEY).start().unwrap();
    let run = solve_cli(&other, &state, Some(BOB_CODE)).run();
    let json = run.exits(2).outcome("error");
    assert_eq!(json["type"], "cli/configuration");
    assert!(
        json["message"].as_str().unwrap().contains(&sim.base_url()),
        "{run:?}"
    );
    assert!(other.requests().is_empty() && solves(&sim).is_empty());
    assert!(state.exists());
}

#[test]
fn the_state_file_holds_the_normalized_base_url_so_a_trailing_slash_does_not_matter() {
    let sim = simulator();
    let scratch = Scratch::new("slash-url");
    let state = scratch.path("bob.json");
    let run = cli_at(&format!("{}/", sim.base_url()))
        .password(BOB_PW)
        .args([
            "connect",
            "--username",
            "bob",
            "--detach",
            "--json",
            "--state-file",
        ])
        .args([&state])
        .run();
    run.exits(10).outcome("checkpoint_pending");
    let saved: serde_json::Value = serde_json::from_str(&state_file_text(&state)).unwrap();
    assert_eq!(saved["base_url"], sim.base_url());
    let run = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    run.exits(0).outcome("connected");
}

#[test]
fn a_missing_or_foreign_state_file_is_a_usage_error() {
    let sim = simulator();
    let scratch = Scratch::new("bad-state");
    let run = solve_cli(&sim, &scratch.path("missing.json"), None).run();
    assert_eq!(run.exits(2).outcome("error")["type"], "cli/state_file");
    let foreign = scratch.path("foreign.json");
    std::fs::write(&foreign, "{\"not\":\"a state\"}").unwrap();
    let run = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&foreign])
        .run();
    assert_eq!(run.exits(2).outcome("error")["type"], "cli/state_file");
    assert!(sim.requests().is_empty());
}

#[test]
fn detach_needs_a_state_file() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .args(["connect", "--username", "bob", "--detach", "--json"])
        .run();
    let json = run.exits(2).outcome("error");
    assert_eq!(json["type"], "cli/usage");
    assert!(
        json["message"].as_str().unwrap().contains("--state-file"),
        "{run:?}"
    );
    assert!(sim.requests().is_empty());
}

/// The simulator for the unanswered-connect tests: `faulty`, whose connect meets `fault`
/// once, and bob; both with a 2FA checkpoint.
fn lost_connect_sim(fault: auth_sim::Fault) -> auth_sim::Simulator {
    use auth_sim::{Account, Checkpoint, Fixture};
    let fixture = Fixture::new()
        .account(
            Account::new("faulty", FAULTY_PW)
                .checkpoint(Checkpoint::new("2FA", BOB_CODE))
                .fault(fault),
        )
        .account(Account::new("bob", BOB_PW).checkpoint(Checkpoint::new("2FA", BOB_CODE)));
    auth_sim::Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap()
}

/// The connect's key saved in `state`, checked to hold no intent and no secret.
fn saved_connect_key(state: &std::path::Path) -> String {
    let saved = state_file_text(state);
    let json: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert!(json.get("snapshot").is_none(), "{saved}");
    assert!(!saved.contains(FAULTY_PW), "no secret in the state file");
    json["connect"]["key"].as_str().unwrap().to_owned()
}

/// A `connect --detach` killed while its connect was at the server (which then created the
/// intent): the connect's key was saved before it left; `solve` says to run the connect
/// again; the same command sends it again with the same key and finds the same intent, not
/// a second login. A connect of another user on such a file does not reuse the key.
#[test]
fn a_detached_connect_killed_mid_request_is_sent_again_with_its_key_by_the_same_command() {
    let sim = lost_connect_sim(auth_sim::Fault::new().delay(Duration::from_secs(2)).times(1));
    let scratch = Scratch::new("detach-killed-connect");
    let state = scratch.path("faulty.json");

    let mut running = detach_cli(&sim, &state, "faulty", FAULTY_PW).spawn();
    running.wait_for("Connecting faulty");
    let started = std::time::Instant::now();
    while requests_to(&sim, "/accounts").is_empty() {
        assert!(
            started.elapsed() < RUN_LIMIT,
            "the connect never reached the simulator"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(running.kill().code, None, "killed mid-request");
    let key = saved_connect_key(&state);

    // `solve` has no intent to resume yet, and says what to do; the file is left as it is.
    let saved = std::fs::read_to_string(&state).unwrap();
    let refused = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    let json = refused.exits(2).outcome("error");
    assert!(
        json["message"].as_str().unwrap().contains("connect --detach"),
        "{json}"
    );
    assert_eq!(std::fs::read_to_string(&state).unwrap(), saved);

    let again = detach_cli(&sim, &state, "faulty", FAULTY_PW).run();
    again.exits(10).outcome("checkpoint_pending");
    assert!(again.stderr.contains("Sending the connect again"), "{again:?}");
    assert_eq!(sim.pending_intents(), 1, "the same intent, not a second login");
    let connects = requests_to(&sim, "/accounts");
    assert_eq!(connects.len(), 2);
    assert!(
        connects
            .iter()
            .all(|r| r.header("idempotency-key") == Some(key.as_str())),
        "both runs sent the saved key"
    );
    solve_cli(&sim, &state, Some(BOB_CODE))
        .run()
        .exits(0)
        .outcome("connected");
    assert_eq!(sim.connected_accounts().len(), 1);
    assert!(!state.exists(), "removed once connected");

    // Another user's connect on a file holding an unanswered connect gets a key of its own.
    let other = scratch.path("other.json");
    std::fs::write(&other, &saved).unwrap();
    detach_cli(&sim, &other, "bob", BOB_PW)
        .run()
        .exits(10)
        .outcome("checkpoint_pending");
    let bob = requests_to(&sim, "/accounts").pop().unwrap();
    assert_ne!(bob.header("idempotency-key"), Some(key.as_str()));
}

/// A `connect --detach` that got no answer at all (every attempt closed without one):
/// exit 5, the message says the key is kept and to run the same command again, which
/// sends it with that key.
#[test]
fn a_detached_connect_without_any_answer_keeps_its_key_for_the_same_command() {
    let sim = lost_connect_sim(auth_sim::Fault::new().close_without_answer().times(4));
    let scratch = Scratch::new("detach-unanswered-connect");
    let state = scratch.path("faulty.json");

    let first = detach_cli(&sim, &state, "faulty", FAULTY_PW).run();
    let json = first.exits(5).outcome("error");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("run the same command again"),
        "{json}"
    );
    let key = saved_connect_key(&state);

    detach_cli(&sim, &state, "faulty", FAULTY_PW)
        .run()
        .exits(10)
        .outcome("checkpoint_pending");
    let connects = requests_to(&sim, "/accounts");
    assert_eq!(connects.len(), 5, "four attempts, then the same command's one");
    assert!(
        connects
            .iter()
            .all(|r| r.header("idempotency-key") == Some(key.as_str()))
    );
    assert_eq!(sim.pending_intents(), 1);
}

/// A refused connect (a wrong password) spends its key: the file it saved is removed.
#[test]
fn a_detached_connect_refused_leaves_no_state_file() {
    let sim = lost_connect_sim(auth_sim::Fault::new());
    let scratch = Scratch::new("detach-refused-connect");
    let state = scratch.path("faulty.json");
    detach_cli(&sim, &state, "faulty", "not-the-password")
        .secret("not-the-password")
        .run()
        .exits(4);
    assert!(!state.exists());
}

/// A `solve` killed while its code was at the server: the code's key was saved with the
/// intent before it left (never the code); the same `solve` sends it again with that key,
/// so a server that acted on the first answers the same again (here the simulator dropped
/// the first with its connection, and acts on the second).
#[test]
fn a_solve_killed_mid_request_is_sent_again_with_its_key_by_the_same_solve() {
    let sim = faulty_solve(auth_sim::Fault::new().delay(Duration::from_secs(2)).times(1));
    let scratch = Scratch::new("detach-killed-solve");
    let state = scratch.path("faulty.json");
    detach_cli(&sim, &state, "faulty", FAULTY_PW)
        .run()
        .exits(10)
        .outcome("checkpoint_pending");

    let running = solve_cli(&sim, &state, Some(BOB_CODE)).secret(BOB_CODE).spawn();
    assert_eq!(
        kill_after_solves(&sim, running, 1).code,
        None,
        "killed mid-request"
    );
    let (key, action) = saved_sent(&state);
    assert_eq!(action, "code");
    assert!(
        !std::fs::read_to_string(&state).unwrap().contains(BOB_CODE),
        "never the code"
    );

    let again = solve_cli(&sim, &state, Some(BOB_CODE)).secret(BOB_CODE).run();
    again.exits(0).outcome("connected");
    assert!(
        again.stderr.contains("sent before and its result never saved"),
        "{again:?}"
    );
    assert_eq!(
        solve_keys(&sim),
        [key.clone(), key],
        "the same key twice: the answer replayed"
    );
    assert_eq!(sim.connected_accounts().len(), 1);
    assert!(!state.exists(), "removed once connected");
}

/// A connect answered 503 on every attempt may have been acted on (the contract: "retry
/// with the same Idempotency-Key"): its key stays for the same command, which sends it again.
#[test]
fn a_detached_connect_failing_with_5xx_keeps_its_key_for_the_same_command() {
    let sim = lost_connect_sim(auth_sim::Fault::new().force_status(503).times(4));
    let scratch = Scratch::new("detach-503-connect");
    let state = scratch.path("faulty.json");
    let first = detach_cli(&sim, &state, "faulty", FAULTY_PW).run();
    assert_eq!(first.exits(5).outcome("error")["status"], 503);
    let key = saved_connect_key(&state);
    detach_cli(&sim, &state, "faulty", FAULTY_PW)
        .run()
        .exits(10)
        .outcome("checkpoint_pending");
    let keys: Vec<_> = requests_to(&sim, "/accounts")
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys, vec![key; 5]);
}

/// The intent a connect sent again starts counts its deadline from the connect's first send,
/// saved with its key, not from the send again: the safe deadline (the contract counts it
/// "from the moment the request was sent"), which never shows time the server's intent may
/// not have. The first run answers 503 on every attempt (about 1.75 s of backoff after its
/// first send), so a deadline counted from the second run would be later than the end of
/// the first run plus the intent's life.
#[test]
fn a_connect_sent_again_counts_its_intent_from_its_first_send() {
    let sim = lost_connect_sim(auth_sim::Fault::new().force_status(503).times(4));
    let scratch = Scratch::new("detach-first-send");
    let state = scratch.path("faulty.json");
    detach_cli(&sim, &state, "faulty", FAULTY_PW).run().exits(5);
    let first_run_ended = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let saved: serde_json::Value = state_file_json(&state);
    let first_sent_at = saved["connect"]["first_sent_at"].as_u64().unwrap();
    let again = detach_cli(&sim, &state, "faulty", FAULTY_PW).run();
    let json = again.exits(10).outcome("checkpoint_pending");
    let expires_at = json["expires_at_ms"].as_u64().unwrap();
    assert_eq!(expires_at, first_sent_at + 300_000, "{json}");
    let counted_from_the_second_run = u64::try_from(first_run_ended.as_millis()).unwrap() + 300_000;
    assert!(expires_at < counted_from_the_second_run, "{json}");
}

/// `connect --detach` onto a file that holds another account's pending intent: the intent
/// stays resumable while the new connect is unanswered (beside its key), and is put back
/// when the connect is refused; it is replaced only by the new connect's own intent.
#[test]
fn a_detached_connect_over_a_pending_intent_keeps_it_until_it_has_an_intent_of_its_own() {
    let sim = lost_connect_sim(auth_sim::Fault::new().close_without_answer().times(4));
    let scratch = Scratch::new("detach-over-pending");
    let state = scratch.path("shared.json");
    detach_cli(&sim, &state, "bob", BOB_PW).run().exits(10);
    let bob = std::fs::read_to_string(&state).unwrap();

    // Refused (a wrong password): bob's intent is put back as it was.
    detach_cli(&sim, &state, "bob", "not-the-password")
        .secret("not-the-password")
        .run()
        .exits(4);
    let after: serde_json::Value = state_file_json(&state);
    let before: serde_json::Value = serde_json::from_str(&bob).unwrap();
    assert_eq!(after["snapshot"], before["snapshot"], "bob's intent is back");
    assert!(after.get("connect").is_none(), "{after}");

    // No answer at all: the file holds bob's intent and faulty's connect key.
    detach_cli(&sim, &state, "faulty", FAULTY_PW).run().exits(5);
    let both: serde_json::Value = state_file_json(&state);
    assert_eq!(both["snapshot"], before["snapshot"]);
    let key = both["connect"]["key"].as_str().unwrap().to_owned();

    // bob's intent is still solved from it, and the connect's key stays.
    solve_cli(&sim, &state, Some(BOB_CODE))
        .run()
        .exits(0)
        .outcome("connected");
    assert_eq!(saved_connect_key(&state), key);

    // The same connect again goes with that key, and its intent replaces the record.
    detach_cli(&sim, &state, "faulty", FAULTY_PW)
        .run()
        .exits(10)
        .outcome("checkpoint_pending");
    let last = requests_to(&sim, "/accounts").pop().unwrap();
    assert_eq!(last.header("idempotency-key"), Some(key.as_str()));
    let saved: serde_json::Value = state_file_json(&state);
    assert!(
        saved.get("connect").is_none() && saved["snapshot"].is_object(),
        "{saved}"
    );
}

/// The kept key of an unanswered connect meets another password (the server answered the
/// first one, to a run that never heard it): the API answers 409 without acting, and the
/// connect goes again under a fresh key, saved first.
#[test]
fn a_kept_connect_key_that_meets_another_password_goes_again_under_a_fresh_key() {
    let sim = lost_connect_sim(auth_sim::Fault::new().close_without_answer().times(4));
    let scratch = Scratch::new("detach-connect-409");
    let state = scratch.path("faulty.json");
    detach_cli(&sim, &state, "faulty", FAULTY_PW).run().exits(5);
    let key = saved_connect_key(&state);
    // What the server answered to that key meanwhile, with another password.
    let client = auth_ureq::Client::builder()
        .base_url(sim.base_url())
        .api_key(API_KEY)
        .build()
        .unwrap();
    let other = auth_ureq::Credentials::messenger("faulty", "typo-Pa55word!");
    let key_value = auth_ureq::IdempotencyKey::parse(&key).unwrap();
    assert!(
        client.connect_with_key(other, key_value).is_err(),
        "the wrong password is refused"
    );

    let again = detach_cli(&sim, &state, "faulty", FAULTY_PW).run();
    again.exits(10).outcome("checkpoint_pending");
    assert!(again.stderr.contains("under a new one"), "{again:?}");
    let keys: Vec<_> = requests_to(&sim, "/accounts")
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(
        keys.len(),
        7,
        "four unanswered, the other password, the kept key (409), a fresh one"
    );
    assert!(keys[..6].iter().all(|k| *k == key));
    assert_ne!(keys[6], key);
}

/// A simulator with `faulty`, whose 2FA the server accepts and then loses the answer to,
/// once (its intent then goes on to an OTP), and bob, whose connects meet `bob_fault`.
fn lost_solve_sim(bob_fault: auth_sim::Fault) -> auth_sim::Simulator {
    use auth_sim::{Account, Checkpoint, Fault, FaultTarget, Fixture};
    let lost = Fault::new().lose_answer().times(1).on(FaultTarget::Solve);
    let fixture = Fixture::new()
        .account(
            Account::new("faulty", FAULTY_PW)
                .checkpoint(Checkpoint::new("2FA", DAVE_2FA).fault(lost))
                .checkpoint(Checkpoint::new("OTP", DAVE_OTP)),
        )
        .account(
            Account::new("bob", BOB_PW)
                .checkpoint(Checkpoint::new("2FA", BOB_CODE))
                .fault(bob_fault),
        );
    auth_sim::Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap()
}

/// Saves `faulty`'s intent in `state`, then runs `solve` of its 2FA code: the server accepts
/// the code and loses its answer, and the run is killed before it sends it again. Returns
/// the code's key, which the file keeps.
fn unanswered_solve(sim: &auth_sim::Simulator, state: &std::path::Path) -> String {
    detach_cli(sim, state, "faulty", FAULTY_PW)
        .run()
        .exits(10)
        .outcome("checkpoint_pending");
    let running = solve_cli(sim, state, Some(DAVE_2FA)).spawn();
    let started = std::time::Instant::now();
    while solves(sim).is_empty() {
        assert!(started.elapsed() < RUN_LIMIT, "the code never reached the server");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Well before its retry (a backoff of 125 ms at least).
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(running.kill().code, None);
    assert_eq!(solves(sim).len(), 1, "killed before its retry");
    let (key, action) = saved_sent(state);
    assert_eq!(action, "code");
    key
}

/// `solve` of faulty's 2FA code again, checked to go with `kept` and to be answered with
/// what the server answered to it the first time: the OTP that follows.
#[track_caller]
fn same_solve_goes_with(sim: &auth_sim::Simulator, state: &std::path::Path, kept: &str) {
    let again = solve_cli(sim, state, Some(DAVE_2FA)).run();
    let pending = again.exits(10).outcome("checkpoint_pending");
    assert_eq!(
        solve_keys(sim).last().map(String::as_str),
        Some(kept),
        "the kept key: {again:?}"
    );
    assert_eq!(pending["checkpoint"]["type"], "OTP", "{again:?}");
}

/// A refused `connect --detach` onto a file whose intent holds the key of an unanswered
/// solve puts the file back as it was: the intent, that key and the intent's username. The
/// same `solve` then goes with the key, and the server replays its answer.
#[test]
fn a_refused_connect_over_a_file_puts_back_its_intent_with_the_key_of_its_unanswered_solve() {
    let sim = lost_solve_sim(auth_sim::Fault::new());
    let scratch = Scratch::new("detach-refused-over-sent");
    let state = scratch.path("shared.json");
    let kept = unanswered_solve(&sim, &state);
    let mut before = state_file_json(&state);

    detach_cli(&sim, &state, "bob", "not-bobs-password")
        .secret("not-bobs-password")
        .run()
        .exits(4);
    let mut after = state_file_json(&state);
    for saved in [&mut before, &mut after] {
        saved.as_object_mut().unwrap().remove("revision");
    }
    assert_eq!(after, before, "put back as it was");

    same_solve_goes_with(&sim, &state, &kept);
}

/// An unanswered `connect --detach` onto such a file keeps, beside its own key and user,
/// the intent with the key of its unanswered solve and its username: the same `solve` goes
/// with that key, and once that intent has ended, the same connect with its own.
#[test]
fn an_unanswered_connect_over_a_file_keeps_the_key_of_its_unanswered_solve_beside_its_own() {
    let sim = lost_solve_sim(auth_sim::Fault::new().close_without_answer().times(4));
    let scratch = Scratch::new("detach-unanswered-over-sent");
    let state = scratch.path("shared.json");
    let kept = unanswered_solve(&sim, &state);
    let before = state_file_json(&state);

    detach_cli(&sim, &state, "bob", BOB_PW).run().exits(5);
    let both = state_file_json(&state);
    for field in ["username", "snapshot", "sent"] {
        assert_eq!(both[field], before[field], "{field}: {both}");
    }
    assert_eq!(both["connect"]["username"], "bob", "{both}");
    let connect_key = both["connect"]["key"].as_str().unwrap().to_owned();

    same_solve_goes_with(&sim, &state, &kept);

    // faulty's intent ends (connected): the file keeps bob's connect alone, under his name.
    solve_cli(&sim, &state, Some(DAVE_OTP))
        .run()
        .exits(0)
        .outcome("connected");
    let alone = state_file_json(&state);
    assert!(alone.get("snapshot").is_none(), "{alone}");
    assert_eq!(alone["username"], "bob", "{alone}");
    assert_eq!(alone["connect"]["key"], connect_key.as_str(), "{alone}");

    detach_cli(&sim, &state, "bob", BOB_PW)
        .run()
        .exits(10)
        .outcome("checkpoint_pending");
    let last = requests_to(&sim, "/accounts").pop().unwrap();
    assert_eq!(last.header("idempotency-key"), Some(connect_key.as_str()));
    assert_eq!(state_file_json(&state)["username"], "bob");
}

/// While the file holds the key of a code whose answer was lost (the server accepted the
/// 2FA code: its intent moved on to the OTP), another action is refused before anything
/// is sent, and the file is left as it is: a `resend`, or an approval in the app, would
/// drop that key, and the same code sent again under a fresh one would be judged as a
/// wrong OTP. The message says to run the same `solve` first; it then goes with the key,
/// and the server replays its answer.
#[test]
fn another_action_is_refused_while_the_answer_to_a_code_is_lost_and_the_same_solve_goes_first() {
    let sim = lost_solve_sim(auth_sim::Fault::new());
    let scratch = Scratch::new("detach-other-action");
    let state = scratch.path("faulty.json");
    let kept = unanswered_solve(&sim, &state);
    let saved = std::fs::read(&state).unwrap();
    let sent_before = sim.requests().len();

    let resend = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&state])
        .run();
    let in_app = solve_cli(&sim, &state, None).args(["--in-app"]).run();
    for refused in [&resend, &in_app] {
        let json = refused.exits(2).outcome("error");
        assert_eq!(json["type"], "cli/state_file", "{refused:?}");
        let message = json["message"].as_str().unwrap();
        let solve = format!(
            "run `postpress-auth solve --state-file {}` with the same code first",
            state.display()
        );
        assert!(message.contains(&solve), "{refused:?}");
    }
    assert_eq!(sim.requests().len(), sent_before, "nothing was sent");
    assert_eq!(std::fs::read(&state).unwrap(), saved, "the file is as it was");

    same_solve_goes_with(&sim, &state, &kept);
}

/// An unanswered `resend` changes nothing the intent depends on: a `solve` after it goes
/// ahead (and its code with a key of its own).
#[test]
fn a_solve_goes_ahead_after_a_resend_whose_answer_was_lost() {
    use auth_sim::{Account, Checkpoint, Fault, FaultTarget, Fixture};
    let lost = Fault::new().lose_answer().times(1).on(FaultTarget::Resend);
    let fixture = Fixture::new()
        .account(Account::new("faulty", FAULTY_PW).checkpoint(Checkpoint::new("2FA", BOB_CODE).fault(lost)));
    let sim = auth_sim::Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap();
    let scratch = Scratch::new("detach-after-resend");
    let state = scratch.path("faulty.json");
    detach_cli(&sim, &state, "faulty", FAULTY_PW).run().exits(10);
    let running = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&state])
        .spawn();
    let started = std::time::Instant::now();
    while requests_to(&sim, "/accounts/checkpoint/resend").is_empty() {
        assert!(
            started.elapsed() < RUN_LIMIT,
            "the resend never reached the server"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(running.kill().code, None);
    let (resend_key, action) = saved_sent(&state);
    assert_eq!(action, "resend");

    solve_cli(&sim, &state, Some(BOB_CODE))
        .secret(BOB_CODE)
        .run()
        .exits(0)
        .outcome("connected");
    assert_eq!(solve_keys(&sim).len(), 1);
    assert_ne!(solve_keys(&sim)[0], resend_key);
}

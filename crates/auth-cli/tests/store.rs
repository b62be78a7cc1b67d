//! The state file as a store two processes share (issue 14, findings 1 and 7): two real
//! processes on one file, one of them released on cue by feeding its standard input once
//! the other has finished (no sleeps), with assertions on what the simulator received and
//! on what is left on disk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::path::Path;
use std::time::Duration;

use auth_sim::Simulator;
use common::*;
use serde_json::Value;

/// What a `solve` whose state file is loaded writes last before it waits for a code.
const WAITING_FOR_A_CODE: &str = "The authentication intent ends at";

/// What a `solve --in-app` writes once it holds the lock, just before its request goes.
const SENDING_IN_APP: &str = "approve the connection on your device";

/// `connect --detach` of `username`, checked to end with a pending checkpoint saved in `state`.
fn detach(sim: &Simulator, state: &Path, username: &str, password: &str) -> Value {
    detach_cli(sim, state, username, password)
        .run()
        .exits(10)
        .outcome("checkpoint_pending")
}

/// The names in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The POSTs that started an intent (connect) the simulator received.
fn connects(sim: &Simulator) -> usize {
    requests_to(sim, "/accounts").len()
}

/// Finding 1: `solve` A loads the file and waits for a code; `solve` B connects and removes
/// the file; A's code, typed then, is never sent and the file is not re-created.
#[test]
fn a_solve_that_read_the_file_before_another_connected_sends_nothing_and_recreates_nothing() {
    let sim = simulator();
    let scratch = Scratch::new("store-removed");
    let state = scratch.path("bob.json");
    let saved = detach(&sim, &state, "bob", BOB_PW);

    let mut a = solve_cli(&sim, &state, None).spawn();
    a.wait_for(WAITING_FOR_A_CODE);
    let b = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    b.exits(0).outcome("connected");
    assert!(!state.exists());

    // A is released now: it reads its code, and finds the file gone.
    a.feed(&format!("{BOB_CODE}\n"));
    let a = a.finish();
    let conflict = a.exits(6).outcome("state_conflict");
    assert_eq!(conflict["reason"], "removed", "{a:?}");
    assert_eq!(conflict["account_id"], saved["account_id"]);
    assert!(
        conflict["message"].as_str().unwrap().contains("nothing was sent"),
        "{a:?}"
    );
    assert_eq!(solves(&sim).len(), 1, "only B's code was sent");
    assert!(!state.exists(), "the ended intent's file is not re-created");
    assert_eq!(
        listing(scratch.dir()),
        Vec::<String>::new(),
        "no file left at all"
    );
}

/// Finding 1, the other way round: A waits on an old intent; `connect --detach` saves a new
/// intent at the same path; A then sends nothing, and the new intent's file is left whole.
#[test]
fn a_solve_waiting_on_an_old_intent_never_touches_the_newer_intent_saved_over_it() {
    let sim = simulator();
    let scratch = Scratch::new("store-newer");
    let state = scratch.path("bob.json");
    let old = detach(&sim, &state, "bob", BOB_PW);

    let mut a = solve_cli(&sim, &state, None).spawn();
    a.wait_for(WAITING_FOR_A_CODE);
    let new = detach(&sim, &state, "dave", DAVE_PW);
    assert_ne!(new["account_id"], old["account_id"]);
    let newer = std::fs::read(&state).unwrap();

    a.feed(&format!("{BOB_CODE}\n"));
    let a = a.finish();
    let conflict = a.exits(6).outcome("state_conflict");
    assert_eq!(conflict["reason"], "changed", "{a:?}");
    assert_eq!(conflict["account_id"], old["account_id"]);
    let message = conflict["message"].as_str().unwrap();
    assert!(
        message.contains(new["account_id"].as_str().unwrap()),
        "says which intent the file holds now: {a:?}"
    );
    assert!(solves(&sim).is_empty(), "A sent nothing");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        newer,
        "the newer intent's file is untouched"
    );
    assert_eq!(listing(scratch.dir()), ["bob.json"]);
    // And it is still good for its own intent.
    let run = solve_cli(&sim, &state, Some(DAVE_2FA)).stdin("").run();
    assert_eq!(
        run.exits(10).outcome("checkpoint_pending")["checkpoint"]["type"],
        "OTP"
    );
}

/// Finding 1: A solves and saves a wrong code (revision 2) while B waits on revision 1; B
/// sends nothing: it would have sent for a state that is no longer the file's.
#[test]
fn a_solve_that_read_an_earlier_revision_of_the_same_intent_sends_nothing() {
    let sim = simulator();
    let scratch = Scratch::new("store-revision");
    let state = scratch.path("bob.json");
    detach(&sim, &state, "bob", BOB_PW);

    let revision = |bytes: &[u8]| {
        serde_json::from_slice::<Value>(bytes).unwrap()["revision"]
            .as_u64()
            .unwrap()
    };
    let before = revision(&std::fs::read(&state).unwrap());
    let mut b = solve_cli(&sim, &state, None).spawn();
    b.wait_for(WAITING_FOR_A_CODE);
    let a = solve_cli(&sim, &state, Some(WRONG_CODE)).stdin("").run();
    a.exits(4);
    let after_a = std::fs::read(&state).unwrap();
    let written = revision(&after_a);
    assert!(written > before, "A wrote a later revision");

    b.feed(&format!("{BOB_CODE}\n"));
    let b = b.finish();
    let conflict = b.exits(6).outcome("state_conflict");
    assert_eq!(conflict["reason"], "changed");
    assert!(
        conflict["message"].as_str().unwrap().contains(&format!(
            "(revision {written}, this process read revision {before})"
        )),
        "{b:?}"
    );
    assert_eq!(solves(&sim).len(), 1, "only A's code was sent");
    assert_eq!(std::fs::read(&state).unwrap(), after_a);
}

/// Finding 1: two processes at once. A's in-app approval holds its request (and the lock)
/// on the simulator; meanwhile `solve`, `resend` and `connect --detach` on the same file
/// are busy at once: they send nothing (no code, no resend, no password) and do not wait.
/// Once A is approved it connects and removes the file; nothing stale is left.
#[test]
fn while_one_process_sends_for_the_file_every_other_one_is_busy_and_sends_nothing() {
    let sim = manual_clock_simulator();
    let scratch = Scratch::new("store-busy");
    let state = scratch.path("carol.json");
    let saved = detach(&sim, &state, "carol", CAROL_PW);
    assert_eq!(connects(&sim), 1);

    let mut a = cli(&sim)
        .args(["solve", "--json", "--in-app", "--state-file"])
        .args([&state])
        .spawn();
    a.wait_for(SENDING_IN_APP);
    let held = std::fs::read(&state).unwrap();

    let b = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    let busy = b.exits(6).outcome("state_conflict");
    assert_eq!(busy["reason"], "busy", "{b:?}");
    assert_eq!(busy["account_id"], saved["account_id"]);
    let resend = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&state])
        .run();
    assert_eq!(resend.exits(6).outcome("state_conflict")["reason"], "busy");
    let connect = detach_cli(&sim, &state, "carol", CAROL_PW).run();
    let busy = connect.exits(6).outcome("state_conflict");
    assert_eq!(busy["reason"], "busy", "{connect:?}");
    assert_eq!(busy["account_id"], Value::Null);

    assert_eq!(connects(&sim), 1, "the second connect's password never left");
    assert!(requests_to(&sim, "/accounts/checkpoint/resend").is_empty());
    assert_eq!(solves(&sim).len(), 1, "only A's approval request");
    assert_eq!(std::fs::read(&state).unwrap(), held, "the file is as A found it");

    // The approval comes: A connects, and removes the file and its lock.
    sim.advance(Duration::from_secs(1));
    let a = a.finish();
    assert_eq!(a.exits(0).outcome("connected")["account_id"], saved["account_id"]);
    assert_eq!(listing(scratch.dir()), Vec::<String>::new());
}

/// Finding 7: a state file whose intent was connected elsewhere (here: a copy of it, solved
/// first). The API refuses the next request against that intent as malformed; the command
/// asks `GET /accounts/{id}`, finds the account connected, says so (exit 0,
/// `"already_connected": true`), and removes the file.
#[test]
fn a_state_file_whose_intent_connected_elsewhere_ends_connected_and_is_removed() {
    let sim = simulator();
    let scratch = Scratch::new("store-elsewhere");
    let state = scratch.path("bob.json");
    let copy = scratch.path("copy.json");
    let saved = detach(&sim, &state, "bob", BOB_PW);
    std::fs::copy(&state, &copy).unwrap();
    solve_cli(&sim, &state, Some(BOB_CODE)).run().exits(0);

    let run = solve_cli(&sim, &copy, Some(BOB_CODE)).run();
    let connected = run.exits(0).outcome("connected");
    assert_eq!(connected["account_id"], saved["account_id"]);
    assert_eq!(connected["already_connected"], true, "{run:?}");
    assert!(!copy.exists(), "the file of an intent that ended is removed");
    let account_id = saved["account_id"].as_str().unwrap();
    let asked: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/accounts/{account_id}")))
        .collect();
    assert_eq!(asked.len(), 1, "the account's status was asked once");

    // The same with `resend` on another copy.
    let again = scratch.path("again.json");
    detach(&sim, &state, "bob", BOB_PW);
    std::fs::copy(&state, &again).unwrap();
    solve_cli(&sim, &state, Some(BOB_CODE)).run().exits(0);
    let run = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&again])
        .run();
    assert_eq!(
        run.exits(0).outcome("connected")["already_connected"],
        true,
        "{run:?}"
    );
    assert!(!again.exists());
}

/// Finding 7: a state file whose intent the server does not know (the simulator restarted
/// on the same address: another server). `GET /accounts/{id}` finds no account either, so the
/// command cannot tell an unknown intent from a code refused as malformed: it keeps the file
/// (until the intent's deadline, when `solve` expires it locally and removes it) and says
/// why.
#[test]
fn a_state_file_whose_intent_the_server_does_not_know_is_kept_until_its_deadline() {
    let first = simulator();
    let port = first.port();
    let scratch = Scratch::new("store-unknown");
    let state = scratch.path("bob.json");
    detach(&first, &state, "bob", BOB_PW);
    drop(first);
    let other = Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture())
        .port(port)
        .start()
        .unwrap();

    let run = solve_cli(&other, &state, Some(BOB_CODE)).stdin("").run();
    let json = run.exits(4).outcome("error");
    assert_eq!(json["type"], "errors/invalid_parameters", "{run:?}");
    assert!(run.stderr.contains("is not connected"), "{run:?}");
    assert!(state.exists(), "kept until its deadline");
    assert_eq!(
        other.requests().iter().filter(|r| r.method == "GET").count(),
        1,
        "the account's status was asked"
    );
}

/// Finding 7: the message of a destroyed intent says "start over" once.
#[test]
fn the_destroyed_message_says_start_over_once() {
    let sim = manual_clock_simulator();
    let scratch = Scratch::new("store-destroyed");
    let state = scratch.path("bob.json");
    let copy = scratch.path("copy.json");
    detach(&sim, &state, "bob", BOB_PW);
    std::fs::copy(&state, &copy).unwrap();
    sim.advance(Duration::from_secs(301));
    solve_cli(&sim, &state, Some(BOB_CODE)).run().exits(3);
    let run = solve_cli(&sim, &copy, Some(BOB_CODE)).run();
    let json = run.exits(3).outcome("destroyed");
    let message = json["message"].as_str().unwrap();
    assert_eq!(
        message.to_lowercase().matches("start over").count(),
        1,
        "{message}"
    );
    assert_eq!(
        run.stderr.to_lowercase().matches("start over").count(),
        1,
        "{run:?}"
    );
    assert!(message.contains("[request id: "), "{message}");
}

//! Odd state paths (issue 14, findings 2, 3 and 5): everything that can be checked is
//! checked before the password (or a code) leaves; nothing but a regular file of the user is
//! ever replaced or removed; what `connect --detach` writes, `solve` reads. Every special
//! path is made inside the test's own temporary directory.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use std::time::Duration;

use auth_sim::{Account, Checkpoint, Fault, Fixture, Simulator};
use common::*;
use serde_json::Value;

/// Each entry of a directory (recursively): its path, kind, and (for regular files) its
/// bytes; for links, their target.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String, Vec<u8>)> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let kind = meta.file_type();
        let (what, bytes) = if kind.is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            ("link".to_owned(), target.into_os_string().into_encoded_bytes())
        } else if kind.is_dir() {
            entries.extend(snapshot(&path));
            (format!("dir {:o}", meta.permissions().mode() & 0o777), Vec::new())
        } else if kind.is_fifo() {
            ("fifo".to_owned(), Vec::new())
        } else if kind.is_socket() {
            ("socket".to_owned(), Vec::new())
        } else if kind.is_char_device() {
            ("char device".to_owned(), Vec::new())
        } else {
            ("file".to_owned(), std::fs::read(&path).unwrap())
        };
        entries.push((path, what, bytes));
    }
    entries.sort();
    entries
}

/// `connect --detach` of bob to `state`.
fn detach_to(sim: &Simulator, state: &Path) -> Run {
    detach_cli(sim, state, "bob", BOB_PW).run()
}

/// Checks a refusal: exit 2, `cli/state_file`, a message containing `says`.
#[track_caller]
fn refused(run: &Run, says: &str) {
    let json = run.exits(2).outcome("error");
    assert_eq!(json["type"], "cli/state_file", "{run:?}");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains(says), "expected `{says}`: {run:?}");
}

fn mkfifo(path: &Path) {
    let mode = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
    rustix::fs::mkfifoat(rustix::fs::CWD, path, mode).unwrap();
}

/// Finding 2: a state path that cannot be saved is refused before the password leaves:
/// the simulator receives nothing at all, and nothing on disk changes.
#[test]
fn a_state_path_that_cannot_be_saved_is_refused_before_the_password_leaves() {
    let sim = simulator();
    let scratch = Scratch::new("paths-unsaveable");
    let dir = scratch.path("existing-dir");
    std::fs::create_dir(&dir).unwrap();
    let file = scratch.path("file.txt");
    std::fs::write(&file, "not a directory").unwrap();
    let notes = scratch.path("notes.txt");
    std::fs::write(&notes, "my notes, not a state file").unwrap();
    let before = snapshot(scratch.dir());

    let mut slash = dir.clone().into_os_string();
    slash.push("/");
    let mut new_slash = scratch.path("new-dir").into_os_string();
    new_slash.push("/");
    // The state file's name fits a directory entry; its temporary file's does not: a save
    // would fail, and the try (a temporary file created and removed) finds it out first.
    let too_long = scratch.path(&"s".repeat(248));
    let cases: [(PathBuf, &str); 7] = [
        (dir.clone(), "is a directory"),
        (PathBuf::from(slash), "names a directory"),
        (PathBuf::from(new_slash), "names a directory"),
        (file.join("state.json"), "is not a directory"),
        (scratch.path("missing").join("state.json"), "does not exist"),
        (notes.clone(), "is not a postpress-auth state file"),
        (too_long, "cannot be saved"),
    ];
    for (state, says) in cases {
        let run = detach_to(&sim, &state);
        refused(&run, says);
        assert!(sim.requests().is_empty(), "nothing was sent for {state:?}");
    }
    assert_eq!(snapshot(scratch.dir()), before, "nothing on disk changed");
}

/// Makes a directory immutable (`chattr +i`: no file can be created in it, not even by
/// root) until dropped.
struct Immutable(PathBuf);

impl Immutable {
    fn new(dir: &Path) -> Option<Self> {
        let status = std::process::Command::new("chattr").arg("+i").arg(dir).status();
        status.is_ok_and(|s| s.success()).then(|| Self(dir.to_owned()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

/// Finding 2: a directory where no file can be created is refused before the password
/// leaves. Permission bits (mode 0500) stop any user but root; as root (how these tests run
/// here) the directory is made immutable (`chattr +i`, on file systems that have it), which
/// stops root too. A case the machine cannot make is said on standard error, not asserted.
#[test]
fn a_read_only_directory_is_refused_before_the_password_leaves() {
    let sim = simulator();
    let scratch = Scratch::new("paths-read-only");
    let dir = scratch.path("read-only");
    std::fs::create_dir(&dir).unwrap();
    let probe = dir.join("probe");

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let root = std::fs::write(&probe, "").is_ok();
    let _ = std::fs::remove_file(&probe);
    let mut asserted = 0;
    if !root {
        let run = detach_to(&sim, &dir.join("state.json"));
        refused(&run, "cannot be saved");
        asserted += 1;
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();

    if let Some(_immutable) = Immutable::new(&dir) {
        assert!(
            std::fs::write(&probe, "").is_err(),
            "immutable: no file can be created"
        );
        let run = detach_to(&sim, &dir.join("state.json"));
        refused(&run, "cannot be saved");
        asserted += 1;
    } else {
        eprintln!("chattr +i is not available here: the immutable directory is not asserted");
    }
    assert!(sim.requests().is_empty(), "nothing was sent");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left in it");
    eprintln!("read-only directory cases asserted: {asserted}");
}

/// Finding 2, what cannot be checked before: the directory stops taking files while the
/// connect is out (the simulator holds its answer 3 s). The intent the 202 started cannot be
/// saved; the command says so with exit 2 and the intent's `account_id` in its JSON, so the
/// intent is not lost without a trace, and leaves no temporary file.
#[test]
fn an_intent_that_cannot_be_saved_after_all_is_reported_with_its_account_id() {
    let checkpoint = Checkpoint::new("2FA", BOB_CODE);
    let slow = Account::new("slow", FAULTY_PW)
        .checkpoint(checkpoint)
        .fault(auth_sim::Fault::new().delay(std::time::Duration::from_secs(3)));
    let sim = Simulator::builder()
        .api_key(API_KEY)
        .fixture(Fixture::new().account(slow))
        .start()
        .unwrap();
    let scratch = Scratch::new("paths-unsaved");
    let dir = scratch.path("dir");
    std::fs::create_dir(&dir).unwrap();
    let state = dir.join("slow.json");
    let mut running = detach_cli(&sim, &state, "slow", FAULTY_PW).spawn();
    running.wait_for("Connecting slow");
    let read_only = ReadOnly::new(&dir);
    let run = running.finish();
    let Some(read_only) = read_only else {
        eprintln!("cannot make a directory read-only here: not asserted");
        return;
    };
    drop(read_only);
    let json = run.exits(2).outcome("error");
    assert_eq!(json["type"], "cli/state_file", "{run:?}");
    assert!(json["account_id"].is_string(), "{run:?}");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("pending on the server, and was not saved"),
        "{run:?}"
    );
    assert_eq!(
        sim.pending_intents(),
        1,
        "the intent the message names is pending"
    );
    // The file holds what was saved before the connect left: its key, for the same command
    // to send it again (the server then answers with the same intent), and no secret.
    let saved: serde_json::Value = state_file_json(&state);
    assert!(saved["connect"]["key"].is_string(), "{saved}");
    assert!(saved.get("snapshot").is_none(), "{saved}");
    assert!(!saved.to_string().contains(FAULTY_PW));
    // The lock file could not be removed from the read-only directory either; nothing else.
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["slow.json", "slow.json.lock"],
        "no temporary file is left"
    );
}

/// A state file alone in a directory of its own (which a test may make read-only), with
/// the pending intent of `faulty` saved by `connect --detach`.
fn faulty_detached_in_own_dir(sim: &Simulator, scratch: &Scratch) -> PathBuf {
    let dir = scratch.path("dir");
    std::fs::create_dir(&dir).unwrap();
    let state = dir.join("faulty.json");
    detach_cli(sim, &state, "faulty", FAULTY_PW).run().exits(10);
    state
}

/// `solve` of `code` whose result cannot be saved: the state file's directory turns
/// read-only while the simulator holds the code. The run, or `None` (said) where no
/// directory can be made read-only here.
fn solve_unsaved(sim: &Simulator, state: &Path, code: &str) -> Option<Run> {
    let mut running = solve_cli(sim, state, Some(code)).spawn();
    running.wait_for("Sending the code");
    let read_only = ReadOnly::new(state.parent().unwrap());
    let run = running.finish();
    if read_only.is_none() {
        eprintln!("cannot make a directory read-only here: not asserted");
    }
    read_only.map(|_| run)
}

/// The save of a solve's result fails (the directory turned read-only while the code was
/// at the server): the file still holds the intent and the key the code went with, saved
/// before it left. `solve` run again with the same code sends it with that key and gets
/// the server's first answer, replayed (connected), not a request against an intent the
/// server no longer runs; with another code (the first was wrong), the API answers 409
/// without acting and the code goes again under a fresh key.
#[test]
fn a_result_that_could_not_be_saved_is_recovered_with_the_saved_key() {
    for (first_code, first_exit, answered) in [(BOB_CODE, 0, "connected"), (WRONG_CODE, 4, "error")] {
        let sim = faulty_solve(Fault::new().delay(Duration::from_secs(2)).times(1));
        let scratch = Scratch::new("paths-unsaved-result");
        let state = faulty_detached_in_own_dir(&sim, &scratch);
        let Some(first) = solve_unsaved(&sim, &state, first_code) else {
            return;
        };
        first.exits(first_exit).outcome(answered);
        assert!(
            first.stderr.contains("warning"),
            "the failed save is said: {first:?}"
        );
        let saved: Value = state_file_json(&state);
        let key = saved["sent"]["key"].as_str().unwrap().to_owned();
        assert_eq!(saved["sent"]["action"], "code");

        let again = solve_cli(&sim, &state, Some(BOB_CODE)).run();
        let json = again.exits(0).outcome("connected");
        assert_ne!(
            json["already_connected"], true,
            "the server's own answer: {again:?}"
        );
        let keys = solve_keys(&sim);
        if first_code == BOB_CODE {
            assert_eq!(keys, [key.clone(), key], "the same code: its answer replayed");
        } else {
            assert_eq!(
                keys.len(),
                3,
                "the wrong code, the right one under its key (409), then a fresh key"
            );
            assert_eq!(keys[..2], [key.clone(), key.clone()]);
            assert_ne!(keys[2], key);
        }
        assert_eq!(sim.connected_accounts().len(), 1);
        assert!(!state.exists());
    }
}

/// The key a 409 made fresh is saved before the request leaves: `solve` is killed while
/// the code is at the server under that key (every solve is held 1 s), and the state file
/// holds that key. The same `solve` run again sends the code under it, once, and connects.
#[test]
fn the_fresh_key_after_a_409_is_saved_before_the_code_goes_under_it() {
    let sim = faulty_solve(Fault::new().delay(Duration::from_secs(1)));
    let scratch = Scratch::new("paths-fresh-key");
    let state = faulty_detached_in_own_dir(&sim, &scratch);
    // A wrong code whose result could not be saved: its key stays in the file.
    let Some(first) = solve_unsaved(&sim, &state, WRONG_CODE) else {
        return;
    };
    first.exits(4);
    let (kept, _) = saved_sent(&state);

    // The right code meets that key (409), and goes again under a fresh one: killed then.
    let running = solve_cli(&sim, &state, Some(BOB_CODE)).spawn();
    assert_eq!(
        kill_after_solves(&sim, running, 3).code,
        None,
        "killed mid-request"
    );
    let keys = solve_keys(&sim);
    assert_eq!(
        keys[..2],
        [kept.clone(), kept.clone()],
        "the kept key, then the 409's"
    );
    let fresh = keys[2].clone();
    assert_ne!(fresh, kept);
    assert_eq!(
        saved_sent(&state),
        (fresh.clone(), "code".to_owned()),
        "the fresh key was on disk before it left"
    );

    let again = solve_cli(&sim, &state, Some(BOB_CODE)).run();
    again.exits(0).outcome("connected");
    assert!(!again.stderr.contains("under a new one"), "{again:?}");
    assert_eq!(
        solve_keys(&sim)[3..],
        [fresh],
        "the code under the saved key, once"
    );
    assert_eq!(sim.connected_accounts().len(), 1);
    assert!(!state.exists());
}

/// A save that fails after an answer does not leave the answered request's key behind in
/// the process: the wrong code's result cannot be saved (the directory turned read-only
/// while it was at the server), the directory is writable again, and the next code typed
/// in the same `solve` goes under a fresh key, at once (no 409 round trip).
#[test]
fn after_a_failed_save_the_next_code_in_the_same_run_goes_under_a_fresh_key() {
    let sim = faulty_solve(Fault::new().delay(Duration::from_secs(1)).times(1));
    let scratch = Scratch::new("paths-next-code");
    let state = faulty_detached_in_own_dir(&sim, &scratch);
    let mut running = solve_cli(&sim, &state, None).spawn();
    running.type_in(&format!("{WRONG_CODE}\n"));
    running.wait_for("Sending the code");
    let read_only = ReadOnly::new(state.parent().unwrap());
    if read_only.is_some() {
        running.wait_for("warning");
    }
    running.wait_for("Wrong code");
    let asserted = read_only.is_some();
    drop(read_only);
    running.feed(&format!("{BOB_CODE}\n"));
    let run = running.finish();
    run.exits(0).outcome("connected");
    if !asserted {
        eprintln!("cannot make a directory read-only here: not asserted");
        return;
    }
    let keys = solve_keys(&sim);
    assert_eq!(keys.len(), 2, "two codes, two requests: {run:?}");
    assert_ne!(keys[0], keys[1]);
    assert!(!run.stderr.contains("under a new one"), "{run:?}");
    assert_eq!(sim.connected_accounts().len(), 1);
}

/// A directory where no file can be created until dropped: mode 0500 for another user than
/// root, immutable (`chattr +i`) for root, whom mode bits do not stop.
enum ReadOnly {
    Mode(PathBuf),
    /// Held for its `Drop`.
    Immutable {
        _guard: Immutable,
    },
}

impl ReadOnly {
    fn new(dir: &Path) -> Option<Self> {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        let probe = dir.join("probe");
        if std::fs::write(&probe, "").is_err() {
            return Some(Self::Mode(dir.to_owned()));
        }
        let _ = std::fs::remove_file(&probe);
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Immutable::new(dir).map(|guard| Self::Immutable { _guard: guard })
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if let Self::Mode(dir) = self {
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
}

/// Finding 3: a symbolic link as the state path is refused, by `connect --detach` before
/// the password leaves and by `solve` and `resend` before anything is sent; the link stays
/// a link to the same target, and the target is untouched (or not created).
#[test]
fn a_symbolic_link_is_refused_and_never_replaced() {
    let sim = simulator();
    let scratch = Scratch::new("paths-symlink");
    let real = scratch.path("real.json");
    detach_to(&sim, &real).exits(10);
    let link = scratch.path("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let dangling = scratch.path("dangling.json");
    std::os::unix::fs::symlink(scratch.path("nowhere.json"), &dangling).unwrap();
    sim.clear_requests();
    let before = snapshot(scratch.dir());

    refused(
        &solve_cli(&sim, &link, Some(BOB_CODE)).run(),
        "is a symbolic link",
    );
    let resend = cli(&sim)
        .args(["resend", "--json", "--state-file"])
        .args([&link])
        .run();
    refused(&resend, "is a symbolic link");
    for state in [&link, &dangling] {
        let run = detach_to(&sim, state);
        refused(&run, "is a symbolic link");
        assert!(
            run.json()["message"]
                .as_str()
                .unwrap()
                .contains("pass the path of the file itself")
        );
    }
    assert!(sim.requests().is_empty(), "nothing was sent");
    assert_eq!(snapshot(scratch.dir()), before, "links, target: all as they were");
    assert!(!scratch.path("nowhere.json").exists());
}

/// Finding 3: a FIFO, a socket, a device or a directory as the state path is refused at once, from
/// its metadata (a FIFO is never opened, so nothing blocks), and left as it is.
#[test]
fn a_fifo_a_socket_or_a_directory_is_refused_at_once_and_left_as_it_is() {
    let sim = simulator();
    let scratch = Scratch::new("paths-special");
    let fifo = scratch.path("state.fifo");
    mkfifo(&fifo);
    let socket = scratch.path("state.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let dir = scratch.path("state.dir");
    std::fs::create_dir(&dir).unwrap();
    // A link to the FIFO, as `/dev/stdin` is a link to a pipe.
    let link = scratch.path("stdin-like");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    // A character device (1, 3: what /dev/null is), made here; only root can make one.
    let device = scratch.path("state.dev");
    let made = std::process::Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|status| status.success());
    let mut cases = vec![
        (fifo.clone(), "is a FIFO (named pipe), not a regular file"),
        (socket.clone(), "is a socket, not a regular file"),
        (dir.clone(), "is a directory, not a regular file"),
        (link.clone(), "is a symbolic link"),
    ];
    if made {
        cases.push((device.clone(), "is a character device, not a regular file"));
    } else {
        eprintln!("cannot make a device node here (not root): the device case is not asserted");
    }
    let before = snapshot(scratch.dir());

    for (state, says) in &cases {
        refused(&solve_cli(&sim, state, Some(BOB_CODE)).run(), says);
        refused(&detach_to(&sim, state), says);
    }
    assert!(sim.requests().is_empty(), "nothing was sent");
    assert_eq!(snapshot(scratch.dir()), before);
}

/// Finding 3: the state file of another user is neither replaced nor removed (only root can
/// make one here; as another user the case is not asserted).
#[test]
fn a_state_file_of_another_user_is_refused() {
    let sim = simulator();
    let scratch = Scratch::new("paths-owner");
    let state = scratch.path("bob.json");
    detach_to(&sim, &state).exits(10);
    let nobody = 65534;
    let chowned = std::process::Command::new("chown")
        .arg(nobody.to_string())
        .arg(&state)
        .status()
        .is_ok_and(|status| status.success());
    if !chowned {
        eprintln!("cannot give the file to another user (not root): not asserted");
        return;
    }
    sim.clear_requests();
    let before = snapshot(scratch.dir());
    refused(
        &solve_cli(&sim, &state, Some(BOB_CODE)).run(),
        "belongs to another user",
    );
    refused(&detach_to(&sim, &state), "belongs to another user");
    assert!(sim.requests().is_empty());
    assert_eq!(snapshot(scratch.dir()), before);
}

/// Finding 5: a checkpoint with about 600 KB of extra fields is saved compact (about its own
/// size, on one line) and `solve` reads it back and connects.
#[test]
fn a_large_checkpoint_is_saved_compact_and_solve_reads_it_back() {
    // Nested objects: what pretty-printing blew up six times.
    let rows: Vec<Value> = (0..6000)
        .map(|i| serde_json::json!({"row": i, "cells": [{"a": 1, "b": [1, 2, 3]}, {"c": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}))
        .collect();
    let checkpoint = Checkpoint::new("FACE_SCAN", ERIN_CODE).extra("layout", Value::Array(rows));
    let sim = Simulator::builder()
        .api_key(API_KEY)
        .fixture(Fixture::new().account(Account::new("erin", ERIN_PW).checkpoint(checkpoint)))
        .start()
        .unwrap();
    let scratch = Scratch::new("paths-large");
    let state = scratch.path("erin.json");
    let run = detach_cli(&sim, &state, "erin", ERIN_PW).run();
    let pending = run.exits(10).outcome("checkpoint_pending");
    assert_eq!(pending["checkpoint"]["layout"][5999]["row"], 5999);
    let size = std::fs::metadata(&state).unwrap().len();
    assert!((500_000..1_000_000).contains(&size), "{size} bytes");
    let text = state_file_text(&state);
    assert_eq!(text.lines().count(), 1, "compact JSON");

    let run = cli(&sim)
        .args(["solve", "--json", "--code", ERIN_CODE, "--state-file"])
        .args([&state])
        .run();
    run.exits(0).outcome("connected");
    assert!(!state.exists());
}

/// What `connect --detach` says is saved, `solve` reads back, however deep the checkpoint's
/// fields nest: the state file nests the checkpoint two levels deeper than the answer did
/// (`snapshot.intent.checkpoint`), so a checkpoint the client accepts may be too deep for
/// the JSON reader's limit once saved. Such a state is not written: exit 2, with the intent's
/// `account_id`, as for a state too large.
#[test]
fn a_state_too_deep_to_read_back_is_not_written_and_every_state_written_is_read_back() {
    let (mut saved, mut unsavable) = (0, 0);
    for depth in 118..128 {
        let mut nested = Value::Array(vec![]);
        for _ in 1..depth {
            nested = Value::Array(vec![nested]);
        }
        let checkpoint = Checkpoint::new("FACE_SCAN", ERIN_CODE).extra("layout", nested);
        let sim = Simulator::builder()
            .api_key(API_KEY)
            .fixture(Fixture::new().account(Account::new("erin", ERIN_PW).checkpoint(checkpoint)))
            .start()
            .unwrap();
        let scratch = Scratch::new("paths-deep");
        let state = scratch.path("erin.json");
        let detached = detach_cli(&sim, &state, "erin", ERIN_PW).run();
        match detached.code {
            Some(10) => {
                saved += 1;
                let run = cli(&sim)
                    .args(["solve", "--json", "--code", ERIN_CODE, "--state-file"])
                    .args([&state])
                    .run();
                assert_eq!(
                    run.code,
                    Some(0),
                    "depth {depth}: `connect --detach` said saved (exit 10), `solve` cannot read it: {run:?}"
                );
            }
            Some(2) => {
                unsavable += 1;
                let json = detached.outcome("error");
                assert_eq!(json["type"], "cli/state_file", "{detached:?}");
                assert!(json["account_id"].is_string(), "{detached:?}");
                let message = json["message"].as_str().unwrap();
                assert!(message.contains("could not be read back"), "{detached:?}");
                assert!(state_file_json(&state).get("snapshot").is_none(), "not saved");
            }
            // The client refused the answer itself: nothing claimed saved.
            _ => {
                detached.exits(5).outcome("error");
            }
        }
    }
    assert!(
        saved > 0 && unsavable > 0,
        "saved {saved}, not written {unsavable}"
    );
}

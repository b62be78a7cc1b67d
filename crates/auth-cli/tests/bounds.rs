//! Bounded input (issue 14, finding 4, and the smaller points of finding 7): a line of
//! standard input, a password, a code, a username and an account id each have a limit;
//! past it the command stops with exit 2 and a clear message, without reading the rest or
//! sending anything. Non-UTF-8 input is said to be that.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::time::{Duration, Instant};

use common::*;

/// One gibibyte.
const GIB: u64 = 1024 * 1024 * 1024;

/// What a command stopped by the limit may have taken from a pipe: its own read (a line's
/// limit) plus what the pipe buffers. Far less than the flood.
const READ_AT_MOST: u64 = 16 * 1024 * 1024;

/// Checks a usage error whose message contains `says`.
#[track_caller]
fn usage(run: &Run, says: &str) {
    let json = run.exits(2).outcome("error");
    assert_eq!(json["type"], "cli/usage", "{run:?}");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains(says), "expected `{says}`: {run:?}");
}

/// Finding 4: a gigabyte on standard input without a newline, where the password is read:
/// the command stops at the line's limit, exit 2, without reading the rest, and sends
/// nothing.
#[test]
fn a_gigabyte_without_a_newline_where_the_password_is_read_is_refused_at_the_lines_limit() {
    let sim = simulator();
    let started = Instant::now();
    let run = cli(&sim)
        .args(["connect", "--username", "bob", "--json"])
        .stdin_flood(GIB)
        .run();
    usage(
        &run,
        "line 1 of standard input (the password) is longer than 4096 bytes",
    );
    eprintln!("the command took {} bytes of the flood", run.stdin_written);
    assert!(
        run.stdin_written < READ_AT_MOST,
        "{} bytes taken",
        run.stdin_written
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(sim.requests().is_empty(), "nothing was sent");
}

/// Finding 4: the same where a code is read, by `solve`: nothing is sent, the state file is
/// as it was.
#[test]
fn a_gigabyte_without_a_newline_where_a_code_is_read_sends_nothing_and_keeps_the_file() {
    let sim = simulator();
    let scratch = Scratch::new("bounds-code-flood");
    let state = scratch.path("bob.json");
    detach_cli(&sim, &state, "bob", BOB_PW).run().exits(10);
    let saved = std::fs::read(&state).unwrap();
    let run = solve_cli(&sim, &state, None).stdin_flood(GIB).run();
    usage(
        &run,
        "line 1 of standard input (a code) is longer than 4096 bytes",
    );
    eprintln!("the command took {} bytes of the flood", run.stdin_written);
    assert!(
        run.stdin_written < READ_AT_MOST,
        "{} bytes taken",
        run.stdin_written
    );
    assert!(solves(&sim).is_empty(), "nothing was sent");
    assert_eq!(std::fs::read(&state).unwrap(), saved);
    assert_eq!(
        std::fs::read_dir(scratch.dir()).unwrap().count(),
        1,
        "no other file"
    );
}

/// Standard input is read a line at a time, as answers are wanted, never ahead: while
/// the command waits for an approval in the app (carol's, 200 ms), a pipe that keeps
/// giving lines (`yes | postpress-auth …`) is not read into memory. Here 64 MiB of blank
/// lines follow the answer; the command, which needs none of them, takes at most what
/// the pipe and its own buffers hold.
#[test]
fn standard_input_is_not_read_ahead_while_the_command_waits() {
    let sim = simulator();
    let run = cli(&sim)
        .password(CAROL_PW)
        .args(["connect", "--username", "carol", "--json"])
        .stdin("in_app_validation\n")
        .stdin_flood_lines(64 * 1024 * 1024)
        .run();
    run.exits(0).outcome("connected");
    eprintln!("the command took {} bytes of the flood", run.stdin_written);
    assert!(
        run.stdin_written < 1024 * 1024,
        "{} bytes of standard input taken, none of them used",
        run.stdin_written
    );
}

/// Finding 4: the password's own limit (1024 bytes), from a line of standard input and from
/// the environment: nothing is sent.
#[test]
fn a_password_past_its_limit_is_refused_before_it_is_sent() {
    let sim = simulator();
    let long = "p".repeat(1025);
    let run = cli(&sim)
        .secret(&long)
        .args(["connect", "--username", "bob", "--json"])
        .stdin(&format!("{long}\n"))
        .run();
    usage(&run, "at most 1024 bytes");
    let run = cli(&sim)
        .secret(&long)
        .password(&long)
        .args(["connect", "--username", "bob", "--json"])
        .run();
    usage(&run, "at most 1024 bytes");
    assert!(sim.requests().is_empty());
    // 1024 bytes is a password (a wrong one here).
    let run = cli(&sim)
        .password(&"p".repeat(1024))
        .args(["connect", "--username", "bob", "--json"])
        .run();
    run.exits(4);
}

/// Finding 4: a code's limit (256 bytes): on the command line it is refused before the
/// password leaves; on standard input, before the code is sent. The code is not shown.
#[test]
fn a_code_past_its_limit_is_refused_before_anything_is_sent_for_it() {
    let sim = simulator();
    let long = "7".repeat(257);
    let run = cli(&sim)
        .secret(&long)
        .password(BOB_PW)
        .args(["connect", "--username", "bob", "--json", "--code", &long])
        .run();
    usage(&run, "a code is at most 256 bytes");
    assert!(sim.requests().is_empty(), "the password never left");

    let scratch = Scratch::new("bounds-code");
    let state = scratch.path("bob.json");
    detach_cli(&sim, &state, "bob", BOB_PW).run().exits(10);
    let run = solve_cli(&sim, &state, None)
        .secret(&long)
        .stdin(&format!("{long}\n"))
        .run();
    usage(&run, "a code is at most 256 bytes");
    assert!(solves(&sim).is_empty(), "the code was not sent");
    assert!(state.exists());
}

/// Finding 4: a username's limit (512 bytes), checked with the command line: nothing is
/// read, nothing is sent.
#[test]
fn a_username_past_its_limit_is_refused_before_anything_is_sent() {
    let sim = simulator();
    let run = cli(&sim)
        .password(BOB_PW)
        .args(["connect", "--json", "--username", &"u".repeat(513)])
        .run();
    usage(&run, "at most 512 bytes");
    assert!(sim.requests().is_empty());
}

/// Finding 7: a line of standard input that is not UTF-8 is said to be that (not "standard
/// input ended"), for the password and for a code; nothing is sent for it.
#[test]
fn a_line_that_is_not_utf8_is_said_to_be_that() {
    let sim = simulator();
    let run = cli(&sim)
        .args(["connect", "--username", "bob", "--json"])
        .stdin_bytes(b"pass\xffword\n")
        .run();
    usage(&run, "line 1 of standard input (the password) is not valid UTF-8");
    assert!(sim.requests().is_empty());

    let mut input = format!("{BOB_PW}\n").into_bytes();
    input.extend_from_slice(b"\xfe\xff\n");
    let run = cli(&sim)
        .args(["connect", "--username", "bob", "--json"])
        .stdin_bytes(&input)
        .run();
    usage(&run, "line 2 of standard input (a code) is not valid UTF-8");
    assert!(solves(&sim).is_empty(), "no code was sent");
    assert!(!run.stderr.contains("standard input ended"), "{run:?}");
}

/// Finding 7: `--timeout 1e-10` is refused in the option's own words, not an internal
/// setting's.
#[test]
fn a_timeout_below_a_millisecond_is_refused_in_the_options_words() {
    let run = bare_cli()
        .args(["--api-key", API_KEY, "--base-url", "http://127.0.0.1:9/v1"])
        .args(["--timeout", "1e-10", "connect", "--username", "bob", "--json"])
        .stdin(&format!("{BOB_PW}\n"))
        .run();
    usage(&run, "too short: at least 0.001");
    assert!(!run.stderr.contains("connect_timeout"), "{run:?}");
    assert!(
        run.json()["message"].as_str().unwrap().contains("--timeout"),
        "{run:?}"
    );
}

/// Finding 7: `--reconnect ..` (or `.`) is refused before anything is read or sent: a dot
/// segment would change the request's path.
#[test]
fn a_dot_segment_account_id_is_refused_before_anything_is_sent() {
    let sim = simulator();
    for id in ["..", "."] {
        let run = cli(&sim)
            .password(BOB_PW)
            .args(["connect", "--username", "bob", "--json", "--reconnect", id])
            .run();
        usage(&run, "dot segment");
        assert!(
            run.json()["message"].as_str().unwrap().contains("--reconnect"),
            "{run:?}"
        );
    }
    assert!(sim.requests().is_empty(), "no request, to no path");
}

//! `postpress-auth demo`: no network, no key, no input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use common::*;

#[test]
fn the_demo_walks_a_full_2fa_connection_with_no_key_and_no_input() {
    // The demo's own fixture: bob's password and code must not be shown either.
    let run = bare_cli()
        .secret("pw-b")
        .secret("123456")
        .stdin("")
        .args(["demo"])
        .run();
    run.exits(0);
    let steps = [
        "POST http://127.0.0.1:",
        "answer    202",
        "AwaitingCheckpoint",
        "answer    401",
        "1 wrong code(s)",
        "answer    201",
        "event     Connected",
        "state     Connected",
    ];
    let mut from = 0;
    for step in steps {
        let at = run.stdout[from..]
            .find(step)
            .unwrap_or_else(|| panic!("no {step:?} after byte {from}: {run:?}"));
        from += at;
    }
    for redacted in [
        "X-API-KEY: <redacted>",
        r#""password":"<redacted>""#,
        r#""code":"<redacted>""#,
    ] {
        assert!(run.stdout.contains(redacted), "no {redacted:?}: {run:?}");
    }
}

//! Answers a careless or hostile server may send, each found in review and kept here as
//! its example (the generated ones are in `answers.rs`): a `Retry-After` far off, an
//! `x-request-id` cut inside a secret, an endpoint error with an `error` object of its own,
//! a checkpoint that echoes the code just solved. None makes the machine panic, show a
//! secret, misread the intent, or save what it cannot read back.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::time::Duration;

use auth_core::{Answer, Error, Event, Output, Phase, Snapshot};
use support::*;

/// A harness whose connect was answered with `answer`, and what that answer gave.
fn connect_answered(answer: Answer) -> (Harness, Output) {
    let mut harness = Harness::new(config());
    sent(harness.command(0, connect_messenger()));
    let output = harness.answer(1, answer);
    (harness, output)
}

#[test]
fn a_retry_after_date_whose_year_has_more_than_four_digits_is_ignored_without_a_panic() {
    let date = "Sun, 06 Nov 999999999999 08:49:37 GMT";
    let (_, output) =
        connect_answered(error(401, "errors/invalid_credentials").with_header("Retry-After", date));
    let Error::Api(error) = failure(output) else {
        panic!("expected the API's error")
    };
    assert_eq!(error.retry_after, None);
}

#[test]
fn a_refused_intent_saved_with_the_longest_retry_after_reads_back_the_same() {
    let longest = Duration::from_secs(1 << 32);
    for retry_after in [
        "99999999999999999999",
        "4294967297",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let answer = error(403, "errors/account_restricted").with_header("Retry-After", retry_after);
        let (harness, output) = connect_answered(answer);
        let Error::Api(refused) = failure(output) else {
            panic!("expected the API's error")
        };
        assert_eq!(refused.retry_after, Some(longest), "{retry_after}");
        assert_eq!(harness.flow.phase(), Phase::Refused);
        let snapshot = harness.flow.snapshot();
        let json = serde_json::to_string(&snapshot).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snapshot, "{retry_after}: {json}");
    }
}

#[test]
fn a_request_id_header_cut_inside_the_code_shows_none_of_it() {
    const CODE: &str = "918273";
    let (mut harness, _) = pending(0);
    sent(harness.command(1_000, solve(CODE)));
    for pad in 240..260 {
        let header = format!("{}{CODE}", "r".repeat(pad));
        let answer = Answer::new(503, "").with_header("x-request-id", header);
        let mut probe = Harness::resumed(auth_core::Flow::resume(config(), harness.flow.snapshot()));
        sent(probe.command(1_000, solve(CODE)));
        let error = failure(probe.answer(1_100, answer));
        let id = error.request_id().unwrap().to_owned();
        assert!(id.len() <= 256, "bounded: {}", id.len());
        assert!(
            !id.contains("9182"),
            "a part of the code is shown with {pad} bytes before it: {id}"
        );
    }
}

#[test]
fn an_endpoint_error_with_an_error_object_of_its_own_is_read_by_its_type() {
    let (mut harness, _) = pending(0);
    sent(harness.command(1_000, solve("12")));
    let body = r#"{"status":400,"type":"errors/invalid_parameters","title":"Invalid parameters","detail":"code is too short","error":{"field":"code"}}"#;
    let Error::Api(error) = failure(harness.answer(1_100, Answer::new(400, body))) else {
        panic!("expected the API's error")
    };
    assert_eq!(error.title.as_deref(), Some("Invalid parameters"));
    assert_eq!(
        harness.flow.phase(),
        Phase::AwaitingCheckpoint,
        "a validation error leaves the intent alive"
    );
}

#[test]
fn a_checkpoint_that_echoes_the_code_just_solved_keeps_none_of_it() {
    const NUMBER: &str = "(+33)0612345678";
    let (mut harness, _) = connect_answered(checkpoint("acc-1", r#"{"type":"PHONE_REGISTER"}"#));
    sent(harness.command(1_000, solve(NUMBER)));
    let echo = format!(r#"{{"type":"SMS_SENT {NUMBER}","phone":"{NUMBER}","sent":[{{"to":"{NUMBER}"}}]}}"#);
    let output = harness.answer(1_100, checkpoint("acc-1", &echo));
    let shown_output = format!("{output:?}");
    let Event::Checkpoint(intent) = event(output) else {
        panic!("expected the next checkpoint")
    };
    assert!(intent.checkpoint.kind().starts_with("SMS_SENT"));
    let saved = serde_json::to_string(&harness.flow.snapshot()).unwrap();
    let shown = format!("{shown_output} {:?} {saved}", harness.flow);
    assert!(!shown.contains(NUMBER), "the code was kept: {shown}");
}

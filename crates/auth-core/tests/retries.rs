//! Safe retries: every POST carries an idempotency key, the same on every retry of it; the
//! retry policy decides what is retried, and never past the deadline; a request whose answer
//! was lost is sent again with its key, so a server that acted on it answers what it
//! answered then.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::time::Duration;

use auth_core::{
    Command, Config, Credentials, Detection, Error, Event, Fault, Flow, Input, Output, Phase, Problem,
    RequestKind, RetryPolicy, Snapshot, Solution, SolutionKind, TransportError, TransportErrorKind,
};
use support::*;

fn retrying() -> Config {
    Config::new(API_KEY).with_retry_policy(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_backoff(Duration::from_millis(100), Duration::from_millis(400)),
    )
}

/// The retry an output asks for: when, and which attempt.
fn retry(output: Output) -> (u64, u32) {
    match output {
        Output::Retry(retry) => (retry.at.as_millis(), retry.attempt),
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[test]
fn a_connect_whose_202_was_lost_is_retried_and_finds_the_same_intent() {
    let mut harness = Harness::new(retrying());
    let first = sent(harness.command(1_000, connect_messenger()));
    let (at, attempt) = retry(harness.fail(2_000, io_failure()));
    assert!(at > 2_000 && at <= 2_100, "after a backoff of at most 100 ms");
    assert_eq!(attempt, 2);
    assert_eq!(harness.flow.phase(), Phase::Connecting);
    assert!(
        matches!(harness.tick(at - 1), Output::Wait(Some(t)) if t.as_millis() == at),
        "not yet"
    );
    let again = sent(harness.tick(at));
    assert_eq!(again.idempotency_key, first.idempotency_key, "the same key");
    assert_eq!(again.body.as_bytes(), first.body.as_bytes(), "the same body");
    assert_eq!(again.attempt, 2);
    // The server replays the 202 of the first attempt: the intent started then.
    let Event::Checkpoint(intent) = event(harness.answer(at + 50, two_factor("acc-1"))) else {
        panic!()
    };
    assert_eq!(
        intent.started_at,
        at_ms(1_000),
        "the deadline counts from the first send"
    );
}

fn at_ms(ms: u64) -> auth_core::UnixMillis {
    at(ms)
}

#[test]
fn a_solve_whose_201_was_lost_is_retried_and_ends_connected() {
    let (harness, _) = pending(0);
    let mut harness = Harness::resumed(Flow::resume(retrying(), harness.flow.snapshot()));
    let first = sent(harness.command(1_000, solve("123456")));
    let (at, _) = retry(harness.fail(
        1_500,
        TransportError::new(TransportErrorKind::Timeout, "no answer"),
    ));
    let again = sent(harness.tick(at));
    assert_eq!(
        (again.idempotency_key, again.body.as_bytes()),
        (first.idempotency_key, first.body.as_bytes())
    );
    assert!(matches!(
        event(harness.answer(at + 10, created("acc-1"))),
        Event::Connected { .. }
    ));
}

#[test]
fn a_503_then_a_success_uses_one_key() {
    let mut harness = Harness::new(retrying());
    let first = sent(harness.command(0, connect_messenger()));
    let (at, _) = retry(harness.answer(10, error(503, "errors/service_unavailable")));
    let again = sent(harness.tick(at));
    assert_eq!(again.idempotency_key, first.idempotency_key);
    assert!(matches!(
        event(harness.answer(at + 10, created("acc-1"))),
        Event::Connected { .. }
    ));
}

#[test]
fn a_429_retry_after_is_honoured_inside_the_deadline_and_not_past_it() {
    let (harness, intent) = pending(0);
    let mut harness = Harness::resumed(Flow::resume(retrying(), harness.flow.snapshot()));
    sent(harness.command(1_000, solve("123456")));
    let limited = error(429, "errors/too_many_requests").with_header("Retry-After", "3");
    let (at, _) = retry(harness.answer(1_100, limited.clone()));
    assert_eq!(at, 4_100, "the server's wait, longer than the backoff");
    sent(harness.tick(at));
    // Near the deadline, a wait that would end past it is not made: the error comes back.
    let (near, _) = pending(0);
    let mut near = Harness::resumed(Flow::resume(retrying(), near.flow.snapshot()));
    let late = intent.deadline.as_millis() - 2_000;
    sent(near.command(late, solve("123456")));
    let error = failure(near.answer(late + 10, limited));
    assert_eq!(error.api_error().unwrap().problem, Problem::RateLimited);
    assert_eq!(error.fault(), Fault::Server);
    assert!(
        near.flow.is_pending(),
        "the intent is still pending: the caller may try again"
    );
    assert_eq!(near.flow.unsettled().map(|u| u.kind), Some(RequestKind::Solve));
}

#[test]
fn no_4xx_is_retried_but_429() {
    for answer in [
        error(400, "errors/invalid_parameters"),
        error(401, "errors/invalid_checkpoint_solution"),
        error(403, "errors/account_restricted"),
        error(409, "errors/idempotency_conflict"),
    ] {
        let (harness, _) = pending(0);
        let mut harness = Harness::resumed(Flow::resume(retrying(), harness.flow.snapshot()));
        sent(harness.command(1_000, solve("123456")));
        assert!(
            matches!(harness.answer(1_100, answer.clone()), Output::Error(_)),
            "{answer:?}"
        );
    }
}

#[test]
fn only_failures_with_no_answer_at_all_are_retried() {
    for (kind, retried) in [
        (TransportErrorKind::Connect, true),
        (TransportErrorKind::Timeout, true),
        (TransportErrorKind::Io, true),
        (TransportErrorKind::Tls, false),
        (TransportErrorKind::Redirect, false),
        (TransportErrorKind::BodyTooLarge, false),
        (TransportErrorKind::Refused, false),
    ] {
        let mut harness = Harness::new(retrying());
        sent(harness.command(0, connect_messenger()));
        let output = harness.fail(10, TransportError::new(kind, "failure"));
        assert_eq!(
            matches!(output, Output::Retry(_)),
            retried,
            "{kind:?}: {output:?}"
        );
    }
}

#[test]
fn retries_stop_at_the_policys_attempts_and_keep_the_request_as_lost() {
    let mut harness = Harness::new(retrying());
    let first = sent(harness.command(0, connect_messenger()));
    let mut now = 0;
    for attempt in 2..=3 {
        let (at, next) = retry(harness.fail(now + 10, io_failure()));
        assert_eq!(next, attempt);
        now = at;
        assert_eq!(sent(harness.tick(now)).attempt, attempt);
    }
    let error = failure(harness.fail(now + 10, io_failure()));
    assert!(matches!(error, Error::Transport(_)));
    assert_eq!(harness.flow.phase(), Phase::Idle);
    let lost = harness.flow.unsettled().unwrap();
    assert_eq!(
        (lost.kind, lost.key),
        (RequestKind::Connect, first.idempotency_key.unwrap())
    );
    // The same command again sends it again with its key; another one would get a new key.
    let again = sent(harness.command(now + 1_000, connect_messenger()));
    assert_eq!(again.idempotency_key, first.idempotency_key);
    assert_eq!(again.attempt, 1, "the caller's new try counts its own attempts");
}

#[test]
fn a_connect_kept_only_as_its_key_and_first_send_finds_the_intent_with_its_first_deadline() {
    // A process sent the connect at 1 s, kept its key and the time in a file, and died.
    let key = auth_core::IdempotencyKey::from_random_bytes([42; 16]);
    let saved = Snapshot::lost_connect(key, at_ms(1_000), None);
    let mut harness = Harness::resumed(Flow::resume(config(), saved));
    // Another one sends it again a minute later: the same key, and the replayed 202 starts
    // the intent when the server's did.
    let again = sent(harness.command(61_000, connect_messenger()));
    assert_eq!(again.idempotency_key, Some(key));
    let Event::Checkpoint(intent) = event(harness.answer(61_100, two_factor("acc-1"))) else {
        panic!("expected the intent")
    };
    assert_eq!(intent.started_at, at_ms(1_000));
    assert_eq!(intent.deadline, at_ms(301_000));
    // A reconnect kept so is sent again as the same reconnect.
    let saved = Snapshot::lost_connect(key, at_ms(1_000), Some("acc-9".into()));
    let mut harness = Harness::resumed(Flow::resume(config(), saved));
    let credentials = Credentials::messenger("bob", PASSWORD);
    let reconnect = Command::Reconnect {
        account_id: "acc-9".into(),
        credentials,
    };
    assert_eq!(
        sent(harness.command(61_000, reconnect)).idempotency_key,
        Some(key)
    );
}

#[test]
fn a_lost_request_sent_again_under_its_own_key_gets_the_409_itself() {
    // A caller that keeps its keys itself gives the lost connect's key with the command: a
    // 409 (the key went with another password) is its to answer, with a key it saves first.
    let key = auth_core::IdempotencyKey::from_random_bytes([42; 16]);
    let saved = Snapshot::lost_connect(key, at_ms(1_000), None);
    let mut flow = Flow::resume(config(), saved);
    let connect = auth_core::Input::command(connect_messenger(), key);
    let Output::Send(request) = flow.handle(at_ms(61_000), connect) else {
        panic!("expected the connect")
    };
    assert_eq!(request.idempotency_key, Some(key));
    let output = flow.handle(
        at_ms(61_100),
        auth_core::Input::Answer(error(409, "errors/idempotency_conflict")),
    );
    let Error::Api(conflict) = failure(output) else {
        panic!("expected the 409")
    };
    assert_eq!(conflict.problem, Problem::IdempotencyConflict);
    assert_eq!(flow.phase(), Phase::Idle, "nothing more sent");
}

#[test]
fn another_code_after_a_lost_one_goes_with_its_key_then_under_its_own_on_a_409() {
    let (mut harness, _) = pending(0);
    let first = sent(harness.command(1_000, solve("111111")));
    failure(harness.fail(1_100, io_failure()));
    // The same call: the lost request's key goes with it, whatever the code, in this process
    // as in one that resumed it (which could not compare codes it does not hold).
    let other = sent(harness.command(1_200, solve("222222")));
    assert_eq!(other.idempotency_key, first.idempotency_key);
    // A server that acted on the first says the key went with another body: the request
    // goes again under its own key.
    let again = sent(harness.answer(1_300, error(409, "errors/idempotency_conflict")));
    assert_eq!(
        again.idempotency_key,
        Some(key(3)),
        "the key the command came with"
    );
    assert_eq!(again.body.as_bytes(), other.body.as_bytes());
    assert_eq!(harness.flow.unsettled(), None);
}

#[test]
fn a_409_answered_at_the_deadline_sends_nothing_and_the_lost_answer_is_said() {
    let (mut harness, intent) = pending(0);
    let deadline = intent.deadline.as_millis();
    sent(harness.command(1_000, solve("111111")));
    failure(harness.fail(1_100, io_failure()));
    // Another code just before the deadline goes with the lost request's key; the 409 that
    // says it went with another body comes at the deadline: nothing more is sent.
    sent(harness.command(deadline - 1_000, solve("222222")));
    let Error::IntentExpired(expired) =
        failure(harness.answer(deadline, error(409, "errors/idempotency_conflict")))
    else {
        panic!("expected the intent to expire")
    };
    assert_eq!(expired.detected_by, Detection::Unanswered);
    assert_eq!(harness.flow.phase(), Phase::Expired);
    assert!(matches!(
        failure(harness.command(deadline + 1, solve("222222"))),
        Error::IntentExpired(_)
    ));
}

#[test]
fn no_retry_is_sent_at_or_after_the_deadline_and_the_lost_answer_is_said() {
    let (harness, intent) = pending(0);
    let mut harness = Harness::resumed(Flow::resume(retrying(), harness.flow.snapshot()));
    let deadline = intent.deadline.as_millis();
    sent(harness.command(deadline - 500, solve("123456")));
    let (at, _) = retry(harness.fail(deadline - 300, io_failure()));
    assert!(at < deadline);
    // The driver wakes up late, past the deadline: nothing is sent.
    let Error::IntentExpired(expired) = failure(harness.tick(deadline + 1)) else {
        panic!()
    };
    assert_eq!(
        expired.detected_by,
        Detection::Unanswered,
        "the server may have acted on it"
    );
    assert_eq!(harness.flow.phase(), Phase::Expired);
    // A failure right at the deadline gives up at once, saying the same.
    let (harness, _) = pending(0);
    let mut harness = Harness::resumed(Flow::resume(retrying(), harness.flow.snapshot()));
    sent(harness.command(deadline - 100, solve("123456")));
    let Error::IntentExpired(expired) = failure(harness.fail(deadline, io_failure())) else {
        panic!()
    };
    assert_eq!(expired.detected_by, Detection::Unanswered);
}

#[test]
fn an_abandoned_request_keeps_its_key_for_the_same_command() {
    let (mut harness, intent) = pending(0);
    let first = sent(harness.command(1_000, Command::Solve(Solution::InAppValidation)));
    // The driver's future was dropped: the flow is told, and the intent stays pending.
    assert!(matches!(harness.abandon(2_000), Output::Wait(Some(d)) if d == intent.deadline));
    assert!(harness.flow.is_pending());
    let lost = harness.flow.unsettled().unwrap();
    assert_eq!(
        (lost.kind, lost.solution),
        (RequestKind::Solve, Some(SolutionKind::InAppValidation))
    );
    let again = sent(harness.command(3_000, Command::Solve(Solution::InAppValidation)));
    assert_eq!(again.idempotency_key, first.idempotency_key);
    // With nothing out, abandoning forgets the lost request.
    failure(harness.fail(3_100, io_failure()));
    assert!(harness.flow.unsettled().is_some());
    harness.abandon(3_200);
    assert_eq!(harness.flow.unsettled(), None);
}

#[test]
fn a_snapshot_with_a_request_out_resumes_it_as_lost_and_the_same_command_sends_it_again() {
    let (mut harness, _) = pending(0);
    let first = sent(harness.command(1_000, solve("123456")));
    let saved = serde_json::to_string(&harness.flow.snapshot()).unwrap();
    assert!(!saved.contains("123456") && !saved.contains(API_KEY), "{saved}");
    assert!(
        saved.contains(first.idempotency_key.unwrap().as_str()),
        "the key is kept"
    );
    let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
    assert_eq!(snapshot.phase(), Phase::AwaitingCheckpoint);
    assert_eq!(snapshot.unsettled_key(), first.idempotency_key);
    // Another process: the caller gives the code again, and the request goes with its key.
    let mut resumed = Harness::resumed(Flow::resume(config(), snapshot));
    assert_eq!(
        resumed.flow.unsettled().map(|lost| lost.key),
        first.idempotency_key
    );
    let again = sent(resumed.command(2_000, solve("123456")));
    assert_eq!(
        (again.idempotency_key, again.body.as_bytes()),
        (first.idempotency_key, first.body.as_bytes())
    );
    assert!(matches!(
        event(resumed.answer(2_100, created("acc-1"))),
        Event::Connected { .. }
    ));
}

#[test]
fn a_lost_connect_saved_and_resumed_is_replayed_with_its_key_and_its_first_send_time() {
    let mut harness = Harness::new(config());
    let first = sent(harness.command(5_000, connect_messenger()));
    let snapshot = harness.flow.snapshot();
    assert_eq!(snapshot.phase(), Phase::Idle);
    let mut resumed = Harness::resumed(Flow::resume(config(), snapshot));
    let again = sent(resumed.command(9_000, Command::Connect(Credentials::messenger("bob", PASSWORD))));
    assert_eq!(again.idempotency_key, first.idempotency_key);
    let Event::Checkpoint(intent) = event(resumed.answer(9_100, two_factor("acc-1"))) else {
        panic!()
    };
    assert_eq!(
        intent.started_at,
        at(5_000),
        "the server's intent may have started at the first send"
    );
}

#[test]
fn a_409_to_a_reused_key_sends_the_request_again_under_its_own_key() {
    let (mut harness, _) = pending(0);
    let first = sent(harness.command(1_000, solve("111111")));
    let mut resumed = Harness::resumed(Flow::resume(config(), harness.flow.snapshot()));
    // After a resume, the caller gives another code: the lost request's key goes with it.
    let other = sent(resumed.command(2_000, solve("222222")));
    assert_eq!(other.idempotency_key, first.idempotency_key);
    // The server says that key went with another body: this request was not acted on, and
    // goes again under the key its command came with.
    let again = sent(resumed.answer(2_100, error(409, "errors/idempotency_conflict")));
    assert_ne!(again.idempotency_key, first.idempotency_key);
    assert_eq!(again.body.as_bytes(), other.body.as_bytes());
    assert_eq!(again.attempt, 1);
    assert!(matches!(
        event(resumed.answer(2_200, created("acc-1"))),
        Event::Connected { .. }
    ));
    // A 409 to a key of its own is the caller's: an error, the intent pending.
    let (mut fresh, _) = pending(0);
    sent(fresh.command(1_000, solve("111111")));
    let error = failure(fresh.answer(1_100, error(409, "errors/idempotency_conflict")));
    assert_eq!(error.fault(), Fault::Caller);
    assert!(fresh.flow.is_pending());
}

#[test]
fn a_status_check_neither_carries_a_key_nor_settles_a_lost_connect() {
    let mut harness = Harness::new(config());
    let first = sent(harness.command(0, connect_messenger()));
    failure(harness.fail(10, io_failure()));
    sent(harness.command(20, Command::AccountStatus("acc-1".into())));
    failure(harness.answer(30, error(404, "errors/resource_not_found")));
    assert_eq!(harness.flow.unsettled().map(|u| u.key), first.idempotency_key);
    let retried = harness
        .flow
        .handle(at(40), Input::command(connect_messenger(), key(77)));
    assert_eq!(sent(retried).idempotency_key, first.idempotency_key);
}

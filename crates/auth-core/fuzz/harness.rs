//! The fuzz harnesses, shared by the fuzz targets (`fuzz_targets/`) and by the regression
//! test that replays the kept corpus in `cargo test` (`tests/fuzz_regressions.rs`).
//!
//! Both read the fuzzer's bytes with `arbitrary` into the machine's one input type,
//! `auth_core::Input` (feature `arbitrary`), feed them through the one door, and panic only
//! when an invariant of the machine breaks.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use auth_core::{
    Answer, Command, Config, Credentials, Event, Flow, IdempotencyKey, Input, Output, Phase, RetryPolicy,
    Snapshot, Solution, UnixMillis, rule_for,
};

const TTL_MS: u64 = 10_000;
const API_KEY: &str = "fuzz-api-key-123";
const PASSWORD: &str = "fuzz-password";
const CODE: &str = "fuzz-code-1";

fn config() -> Config {
    Config::new(API_KEY)
        .with_intent_ttl(Duration::from_millis(TTL_MS))
        .with_request_timeout(Duration::from_millis(3_000))
        .with_retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(10), Duration::from_millis(40)),
        )
}

fn key(n: u8) -> IdempotencyKey {
    IdempotencyKey::from_random_bytes([n; 16])
}

/// A flow waiting for an answer to a connect, a solve, an in-app solve or a resend.
fn waiting(which: u8) -> Flow {
    let mut flow = Flow::new(config());
    let at = UnixMillis::from_millis;
    let connect = Command::Connect(Credentials::messenger("bob", PASSWORD));
    let _ = flow.handle(at(0), Input::command(connect, key(1)));
    if which.is_multiple_of(4) {
        return flow;
    }
    let checkpoint = Answer::new(
        202,
        r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"2FA"}}"#,
    );
    let _ = flow.handle(at(1), Input::Answer(checkpoint));
    let command = match which % 4 {
        1 => Command::Solve(Solution::code(CODE)),
        2 => Command::Solve(Solution::InAppValidation),
        _ => Command::Resend,
    };
    let _ = flow.handle(at(2), Input::command(command, key(2)));
    flow
}

/// The phase a flow moved to is one its rule allows.
fn assert_move_is_in_the_table(before: Phase, input: &Input, after: Phase) {
    match rule_for(before, input.kind()) {
        Some(rule) => assert!(
            rule.to.contains(&after),
            "{before:?} -> {after:?} on {:?} is not in the rules table",
            input.kind()
        ),
        None => assert_eq!(before, after, "a misuse moved the machine"),
    }
}

/// No secret in a text the machine built from what the server sent: the API key, and the
/// secrets of the request it answers and of the requests before it.
fn assert_no_secret(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "a secret reached {text:?}");
    }
}

/// What the machine said from the server's free text, as text: an error's message, an event's
/// debug form. An expiry holds only the server's account id (an identifier the server chose,
/// kept verbatim: docs/security.md), a deadline and who found out, so it says nothing here.
fn said(output: &Output) -> String {
    match output {
        Output::Error(auth_core::Error::IntentExpired(_)) => String::new(),
        Output::Error(auth_core::Error::IntentDestroyed(destroyed)) => {
            format!("{} {:?}", destroyed.cause, destroyed.cause)
        }
        Output::Error(error) => format!("{error} {error:?}"),
        Output::Retry(retry) => format!("{} {:?}", retry.cause, retry.cause),
        Output::Event(event) => format!("{event:?}"),
        Output::Send(_) | Output::Wait(_) => String::new(),
    }
}

/// Any answer in any state that waits for one: no panic, a move of the table, and no secret
/// of the request in what the machine says, however the server echoes it.
pub fn answer(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let (Ok(which), Ok(late), Ok(mut answer)) = (
        u8::arbitrary(&mut u),
        bool::arbitrary(&mut u),
        Answer::arbitrary(&mut u),
    ) else {
        return;
    };
    // The server echoes the secrets back sometimes.
    if u.arbitrary::<bool>().unwrap_or(false) {
        answer
            .body
            .extend_from_slice(format!(" {PASSWORD} {CODE} {API_KEY}").as_bytes());
    }
    let mut flow = waiting(which);
    let before = flow.phase();
    let now = UnixMillis::from_millis(if late { TTL_MS + 5 } else { 3 });
    let input = Input::Answer(answer);
    let kind_input = input.clone();
    let output = flow.handle(now, input);
    assert_move_is_in_the_table(before, &kind_input, flow.phase());
    // Only structured data the server chose (an account id, a checkpoint's fields) is kept
    // verbatim; everything built from its free text is scrubbed.
    if !matches!(output, Output::Event(_)) {
        let code = if which % 4 == 1 { CODE } else { API_KEY };
        assert_no_secret(&said(&output), &[API_KEY, PASSWORD, code]);
    }
}

/// What an output is, without the server's free text.
fn shape(output: &Output) -> String {
    let error = |error: &auth_core::Error| {
        // A type the crate does not know is the server's text, scrubbed like the rest.
        let kind = |kind: &auth_core::ErrorType| match kind {
            auth_core::ErrorType::Other(_) => "other".to_owned(),
            known => known.as_str().to_owned(),
        };
        let api = error
            .api_error()
            .map(|e| (e.status, e.kind.as_ref().map(kind), e.problem));
        format!("{:?} {api:?}", error.fault())
    };
    match output {
        Output::Error(e) => format!("error {}", error(e)),
        Output::Retry(retry) => format!("retry {:?} {} {}", retry.at, retry.attempt, error(&retry.cause)),
        other => format!("{other:?}"),
    }
}

/// One step of a fuzzed run.
#[derive(Debug, Arbitrary)]
enum Step {
    /// The wall clock moves (negative: backwards), in milliseconds.
    Shift(i16),
    /// A jump to just around the intent's deadline.
    ToDeadline(i8),
    Input(Input),
    SaveAndResume,
}

/// Any sequence of inputs, clock moves and save-and-resume: every move is in the table,
/// nothing is sent at or after the deadline, a retry keeps its key and body, a success
/// connects, the snapshot holds no secret, and a resumed twin answers like the original.
pub fn flow(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(steps) = Vec::<Step>::arbitrary(&mut u) else {
        return;
    };
    let mut flows = vec![Flow::new(config())];
    let mut clock: u64 = 1_700_000_000_000;
    let mut last_sent: Option<(IdempotencyKey, Vec<u8>)> = None;
    for step in steps.into_iter().take(200) {
        let input = match step {
            Step::Shift(delta) => {
                clock = clock.saturating_add_signed(i64::from(delta) * 10);
                continue;
            }
            Step::ToDeadline(delta) => {
                if let Some(deadline) = flows[0].next_deadline() {
                    clock = deadline.as_millis().saturating_add_signed(i64::from(delta));
                }
                continue;
            }
            Step::SaveAndResume => {
                if flows[0].phase().is_in_flight() {
                    continue;
                }
                // Whether the snapshot holds a secret is checked where the secrets are known
                // apart from the caller's data (tests/secrets.rs, tests/snapshots.rs, the
                // model test): here the fuzzer writes any text into usernames and account ids.
                let saved = serde_json::to_string(&flows[0].snapshot()).unwrap_or_default();
                let Ok(snapshot) = serde_json::from_str::<Snapshot>(&saved) else {
                    panic!("a snapshot does not read back: {saved}");
                };
                flows.push(Flow::resume(config(), snapshot));
                continue;
            }
            Step::Input(input) => input,
        };
        let before = flows[0].phase();
        let deadline = flows[0].intent().map(|intent| intent.deadline);
        let seen = flows[0].latest_now().max(UnixMillis::from_millis(clock));
        // A success of the contract: an AccountCreated object with an account id.
        let success = matches!(&input, Input::Answer(a) if a.status == 201
        && serde_json::from_slice::<serde_json::Value>(&a.body).is_ok_and(|body| {
            body["object"] == "AccountCreated" && body["account_id"].as_str().is_some_and(|id| !id.is_empty())
        }));
        let outputs: Vec<Output> = flows
            .iter_mut()
            .map(|flow| flow.handle(UnixMillis::from_millis(clock), input.clone()))
            .collect();
        // Twins answer alike; only the server's free text may differ, since a resumed twin
        // no longer holds the secrets of earlier requests to scrub from it.
        let shapes: Vec<String> = outputs.iter().map(shape).collect();
        assert!(
            shapes.iter().all(|s| s == &shapes[0]),
            "a resumed twin diverged: {shapes:#?}"
        );
        let after = flows[0].phase();
        assert_move_is_in_the_table(before, &input, after);
        if before.is_terminal() && !input.kind().is_command() {
            assert_eq!(before, after, "{before:?} absorbs {:?}", input.kind());
        }
        let misuse = matches!(outputs[0], Output::Error(auth_core::Error::Usage(_)));
        if success && matches!(before, Phase::Connecting | Phase::Solving) && !misuse {
            assert!(flows[0].is_connected(), "a 201 AccountCreated did not connect");
            assert!(matches!(
                outputs[0],
                Output::Event(Event::Connected { .. } | Event::Reconnected { .. })
            ));
        }
        if let Output::Send(request) = &outputs[0] {
            if let (Some(deadline), true) = (deadline, matches!(after, Phase::Solving | Phase::Resending)) {
                assert!(seen < deadline, "sent at {seen:?}, deadline {deadline:?}");
                assert!(
                    request.timeout <= deadline.saturating_duration_since(seen),
                    "a request outlives its intent"
                );
            }
            if let (Some(key), true) = (request.idempotency_key, request.attempt > 1) {
                let (last_key, last_body) = last_sent.as_ref().expect("a retry follows a first attempt");
                assert_eq!(*last_key, key, "a retry keeps its key");
                assert_eq!(
                    last_body.as_slice(),
                    request.body.as_bytes(),
                    "a retry keeps its body"
                );
            }
            if let Some(key) = request.idempotency_key {
                last_sent = Some((key, request.body.as_bytes().to_vec()));
            }
        }
        // A request shows its headers and body redacted (its path is the caller's data).
        if let Output::Send(request) = &outputs[0] {
            let shown = format!("{:?} {:?}", request.headers().collect::<Vec<_>>(), request.body);
            assert_no_secret(&shown, &[API_KEY]);
        }
    }
}

//! The fuzz harnesses, shared by the fuzz targets (`fuzz_targets/`) and by the regression
//! test that replays the kept corpus in `cargo test` (`tests/fuzz_regressions.rs`).
//! Each takes arbitrary bytes and panics only when an invariant of the machine breaks.

use std::time::Duration;

use auth_core::{
    Answer, Command, Config, Credentials, Flow, Phase, Snapshot, Solution, TRANSITIONS, TransportError,
    TransportErrorKind, UnixMillis,
};

const TTL_MS: u64 = 10_000;

fn config() -> Config {
    Config::new("fuzz-api-key-123")
        .with_intent_ttl(Duration::from_millis(TTL_MS))
        .with_request_timeout(Duration::from_millis(3_000))
}

/// Reads the fuzzer's bytes as a stream of small decisions; past the end, everything is zero.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte().unwrap_or(0), self.byte().unwrap_or(0)])
    }

    fn take(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

/// A flow waiting for an answer to a connect, a solve, an in-app solve or a resend.
fn waiting(which: u8) -> Flow {
    let mut flow = Flow::new(config());
    let at = UnixMillis::from_millis;
    let _ = flow.begin(
        at(0),
        Command::Connect(Credentials::messenger("bob", "fuzz-password")),
    );
    if which.is_multiple_of(4) {
        return flow;
    }
    let checkpoint = Answer::new(
        202,
        r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"2FA"}}"#,
    );
    let _ = flow.handle_answer(at(1), &checkpoint);
    let command = match which % 4 {
        1 => Command::Solve(Solution::code("fuzz-code-1")),
        2 => Command::Solve(Solution::InAppValidation),
        _ => Command::Resend,
    };
    let _ = flow.begin(at(2), command);
    flow
}

fn assert_move_is_in_the_table(before: Phase, after: Phase) {
    assert!(
        before == after || TRANSITIONS.iter().any(|t| t.from == before && t.to == after),
        "{before:?} -> {after:?} is not in TRANSITIONS"
    );
}

/// Any answer (status, body bytes) in any state that waits for one.
pub fn answer(data: &[u8]) {
    let mut bytes = Bytes(data);
    let which = bytes.byte().unwrap_or(0);
    let status = bytes.u16();
    let late = !bytes.byte().unwrap_or(0).is_multiple_of(2);
    let body = bytes.take(usize::MAX).to_vec();
    let mut flow = waiting(which);
    let before = flow.phase();
    let now = UnixMillis::from_millis(if late { TTL_MS + 5 } else { 3 });
    let result = flow.handle_answer(now, &Answer::new(status, body));
    let after = flow.phase();
    assert_move_is_in_the_table(before, after);
    if after == Phase::Connected {
        assert!(!late, "connected by an answer after the deadline");
    }
    // Text the machine builds from the server's free text (type, title, detail, instance,
    // excerpts) never carries the API key. Identifiers and checkpoint data are the server's
    // own, kept verbatim (see docs/security.md), so events are not checked.
    if let Err(error @ (auth_core::Error::Api(_) | auth_core::Error::Malformed(_))) = &result {
        let text = format!("{error} {error:?}");
        assert!(!text.contains("fuzz-api-key-123"), "the API key leaked: {text}");
    }
}

/// Any sequence of commands, answers, transport failures, timeouts, clock shifts (both
/// ways) and save-and-resume, with the model test's invariants checked after each step.
pub fn flow(data: &[u8]) {
    let mut bytes = Bytes(data);
    let mut flow = Flow::new(config());
    let mut clock: u64 = 1_000_000;
    let mut latest: u64 = 0;
    while let Some(op) = bytes.byte() {
        let before = flow.phase();
        let deadline = flow.next_deadline();
        let now = UnixMillis::from_millis(clock);
        let seen = latest.max(clock);
        let mut observed = true;
        let command = match op % 11 {
            0 => Some(Command::Connect(Credentials::messenger("bob", "fuzz-password"))),
            1 => Some(Command::Reconnect {
                account_id: "a1".into(),
                credentials: Credentials::messenger("bob", "fuzz-password"),
            }),
            2 => Some(Command::Solve(Solution::code("fuzz-code-1"))),
            3 => Some(Command::Solve(Solution::InAppValidation)),
            4 => Some(Command::Solve(Solution::TryAnotherWay)),
            5 => Some(Command::Resend),
            _ => None,
        };
        if let Some(command) = command {
            let solving = matches!(command, Command::Solve(_) | Command::Resend);
            if let (Ok(request), true) = (flow.begin(now, command), solving) {
                let deadline = deadline.expect("a solve or resend was sent without an intent");
                assert!(
                    UnixMillis::from_millis(seen) < deadline,
                    "sent at or after the deadline"
                );
                assert!(request.timeout <= deadline.saturating_duration_since(UnixMillis::from_millis(seen)));
            }
        } else {
            match op % 11 {
                6 => {
                    let status = bytes.u16();
                    let len = usize::from(bytes.byte().unwrap_or(0));
                    let body = bytes.take(len).to_vec();
                    let _ = flow.handle_answer(now, &Answer::new(status, body));
                }
                7 => {
                    let _ = flow
                        .handle_transport_error(now, TransportError::new(TransportErrorKind::Io, "reset"));
                }
                8 => {
                    let _ = flow.handle_timeout(now);
                }
                9 => {
                    observed = false;
                    let step = i64::from(bytes.u16() as i16) * 7;
                    clock = clock.saturating_add_signed(step);
                }
                _ => {
                    observed = false;
                    let saved = serde_json::to_string(&flow.snapshot()).expect("a snapshot serializes");
                    assert!(!saved.contains("fuzz-password") && !saved.contains("fuzz-api-key-123"));
                    let snapshot: Snapshot = serde_json::from_str(&saved).expect("a snapshot reads back");
                    assert_eq!(snapshot, flow.snapshot());
                    flow = Flow::resume(config(), snapshot);
                }
            }
        }
        if observed {
            latest = seen;
        }
        let after = flow.phase();
        assert_move_is_in_the_table(before, after);
        if before.is_terminal() && !matches!(op % 11, 0 | 1) {
            assert_eq!(before, after, "a terminal phase did not absorb op {op}");
        }
        if after == Phase::Connected && before.has_intent() {
            assert!(UnixMillis::from_millis(seen) < deadline.expect("an intent has a deadline"));
        }
    }
}

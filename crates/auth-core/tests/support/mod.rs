//! Answers of the contract and a small harness, built once for every test file of this crate.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_core::{
    Answer, Command, Config, Credentials, Error, Event, Flow, IdempotencyKey, Input, Intent, Output, Request,
    RetryPolicy, Solution, TransportError, TransportErrorKind, UnixMillis,
};

pub(crate) const API_KEY: &str = "test-api-key-0123";
pub(crate) const PASSWORD: &str = "pw-bob-secret";

pub(crate) fn at(millis: u64) -> UnixMillis {
    UnixMillis::from_millis(millis)
}

/// The `n`th key a test hands the machine.
pub(crate) fn key(n: u8) -> IdempotencyKey {
    IdempotencyKey::from_random_bytes([n; 16])
}

pub(crate) fn created(account_id: &str) -> Answer {
    Answer::new(
        201,
        format!(r#"{{"object":"AccountCreated","account_id":"{account_id}"}}"#),
    )
}

pub(crate) fn reconnected(status: u16, account_id: &str) -> Answer {
    Answer::new(
        status,
        format!(r#"{{"object":"AccountReconnected","account_id":"{account_id}"}}"#),
    )
}

pub(crate) fn checkpoint(account_id: &str, checkpoint_json: &str) -> Answer {
    Answer::new(
        202,
        format!(r#"{{"object":"Checkpoint","account_id":"{account_id}","checkpoint":{checkpoint_json}}}"#),
    )
}

pub(crate) fn two_factor(account_id: &str) -> Answer {
    checkpoint(account_id, r#"{"type":"2FA"}"#)
}

pub(crate) fn resent(success: bool) -> Answer {
    Answer::new(
        200,
        format!(r#"{{"object":"CheckpointResend","account_id":"acc-1","success":{success}}}"#),
    )
}

pub(crate) fn account(status: &str) -> Answer {
    Answer::new(
        200,
        format!(
            r#"{{"object":"Account","id":"acc-1","type":"MESSENGER","name":"Bob","created_at":"2026-01-01T00:00:00.000Z","sources":[{{"id":"acc-1_MESSAGING","status":"{status}"}}]}}"#
        ),
    )
}

/// An error in the endpoint pages' envelope.
pub(crate) fn error(status: u16, kind: &str) -> Answer {
    Answer::new(
        status,
        format!(
            r#"{{"status":{status},"type":"{kind}","title":"Title of {kind}","detail":"Detail of {kind}","instance":"req-{status}"}}"#
        ),
    )
}

/// An error in the quickstart's envelope.
pub(crate) fn quickstart_error(status: u16, code: &str) -> Answer {
    Answer::new(
        status,
        format!(r#"{{"error":{{"code":"{code}","message":"Message of {code}","request_id":"rq-{code}"}}}}"#),
    )
}

pub(crate) fn bare(status: u16) -> Answer {
    Answer::new(status, "")
}

pub(crate) fn config() -> Config {
    Config::new(API_KEY).with_retry_policy(RetryPolicy::never())
}

pub(crate) fn connect_messenger() -> Command {
    Command::Connect(Credentials::messenger("bob", PASSWORD))
}

pub(crate) fn solve(code: &str) -> Command {
    Command::Solve(Solution::code(code))
}

pub(crate) fn io_failure() -> TransportError {
    TransportError::new(TransportErrorKind::Io, "connection reset")
}

/// The request of an output, or a panic saying what came instead.
pub(crate) fn sent(output: Output) -> Request {
    match output {
        Output::Send(request) => request,
        other => panic!("expected a request to send, got {other:?}"),
    }
}

/// The event of an output.
pub(crate) fn event(output: Output) -> Event {
    match output {
        Output::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// The error of an output.
pub(crate) fn failure(output: Output) -> Error {
    match output {
        Output::Error(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A flow and the next key to give it: commands, answers and failures in one line each.
pub(crate) struct Harness {
    pub(crate) flow: Flow,
    next_key: u8,
}

impl Harness {
    pub(crate) fn new(config: Config) -> Self {
        Self {
            flow: Flow::new(config),
            next_key: 1,
        }
    }

    pub(crate) fn resumed(flow: Flow) -> Self {
        Self { flow, next_key: 100 }
    }

    /// A command with a fresh key.
    pub(crate) fn command(&mut self, now: u64, command: Command) -> Output {
        let key = key(self.next_key);
        self.next_key = self.next_key.wrapping_add(1);
        self.flow.handle(at(now), Input::command(command, key))
    }

    pub(crate) fn answer(&mut self, now: u64, answer: Answer) -> Output {
        self.flow.handle(at(now), Input::Answer(answer))
    }

    pub(crate) fn fail(&mut self, now: u64, failure: TransportError) -> Output {
        self.flow.handle(at(now), Input::Failed(failure))
    }

    pub(crate) fn tick(&mut self, now: u64) -> Output {
        self.flow.handle(at(now), Input::Tick)
    }

    pub(crate) fn abandon(&mut self, now: u64) -> Output {
        self.flow.handle(at(now), Input::Abandoned)
    }
}

/// A flow pending on a 2FA checkpoint of account `acc-1`, connected at `t0`.
pub(crate) fn pending(t0: u64) -> (Harness, Intent) {
    let mut harness = Harness::new(config());
    sent(harness.command(t0, connect_messenger()));
    match event(harness.answer(t0 + 250, two_factor("acc-1"))) {
        Event::Checkpoint(intent) => (harness, intent),
        other => panic!("expected a checkpoint, got {other:?}"),
    }
}

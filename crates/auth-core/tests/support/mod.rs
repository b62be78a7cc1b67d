//! Answers of the contract, built once for every test file of this crate.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_core::{Answer, Command, Config, Credentials, Event, Flow, Intent, Solution, UnixMillis};

pub(crate) const API_KEY: &str = "test-api-key-0123";
pub(crate) const PASSWORD: &str = "pw-bob-secret";

pub(crate) fn at(millis: u64) -> UnixMillis {
    UnixMillis::from_millis(millis)
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

pub(crate) fn resent() -> Answer {
    Answer::new(201, r#"{"object":"CheckpointResend"}"#)
}

pub(crate) fn error(status: u16, kind: &str) -> Answer {
    Answer::new(
        status,
        format!(
            r#"{{"status":{status},"type":"{kind}","title":"Title of {kind}","detail":"Detail of {kind}"}}"#
        ),
    )
}

pub(crate) fn bare(status: u16) -> Answer {
    Answer::new(status, "")
}

pub(crate) fn connect_messenger() -> Command {
    Command::Connect(Credentials::messenger("bob", PASSWORD))
}

pub(crate) fn solve(code: &str) -> Command {
    Command::Solve(Solution::code(code))
}

/// A flow pending on a 2FA checkpoint of account `acc-1`, connected at `t0`.
pub(crate) fn pending_flow(t0: u64) -> (Flow, Intent) {
    let mut flow = Flow::new(Config::new(API_KEY));
    flow.begin(at(t0), connect_messenger()).unwrap();
    match flow.handle_answer(at(t0 + 250), &two_factor("acc-1")).unwrap() {
        Event::Checkpoint(intent) => (flow, intent),
        other => panic!("expected a checkpoint, got {other:?}"),
    }
}

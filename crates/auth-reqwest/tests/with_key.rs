//! The `_with_key` calls: a caller that keeps its own `Idempotency-Key` (the web form keeps it
//! in its store, so another instance can send the same request again) sends exactly that
//! key, and the same key again gets the server's first answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use auth_core::{IdempotencyKey, Resend, Solution, Solved};
use auth_reqwest::Connection;
use auth_sim::{Account, Checkpoint, Fault, FaultTarget, Fixture};
use support::{Style, client, start_sim};

fn key(n: u8) -> IdempotencyKey {
    IdempotencyKey::from_random_bytes([n; 16])
}

#[tokio::test]
async fn connect_with_key_sends_that_key_and_the_same_key_finds_the_same_intent() {
    let sim = start_sim(Fixture::demo());
    let client = client(&sim, Style::Postpress);
    let credentials = || auth_core::Credentials::messenger("bob", "pw-b");
    let Connection::Pending(first) = client.connect_with_key(credentials(), key(1)).await.unwrap() else {
        panic!("bob has a checkpoint");
    };
    let Connection::Pending(again) = client.connect_with_key(credentials(), key(1)).await.unwrap() else {
        panic!("bob has a checkpoint");
    };
    assert_eq!(
        first.account_id(),
        again.account_id(),
        "the same intent, replayed"
    );
    assert_eq!(sim.pending_intents(), 1, "not a second intent");
    let sent: Vec<_> = sim
        .requests()
        .iter()
        .map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    assert_eq!(sent, vec![Some(key(1).as_str().to_owned()); 2]);
}

#[tokio::test]
async fn solve_with_key_from_a_resumed_intent_replays_a_lost_answer() {
    // The first solve connects the account, then its answer is lost.
    let sim = start_sim(Fixture::new().account(Account::new("lost", "pw").checkpoint(
        Checkpoint::new("2FA", "123456").fault(Fault::new().lose_answer().on(FaultTarget::Solve).times(1)),
    )));
    let client = client(&sim, Style::Postpress);
    let Connection::Pending(pending) = client.connect_messenger("lost", "pw").await.unwrap() else {
        panic!("a checkpoint");
    };
    // Saved before sending, as a web form does; the process that sends then dies.
    let saved = pending.save();
    let mut first = client.resume(saved.clone()).unwrap();
    let lost = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        first.solve_with_key(Solution::code("123456"), key(7)),
    )
    .await;
    drop(lost);
    assert_eq!(sim.connected_accounts().len(), 1, "the server acted");
    // Another process resumes the saved intent and sends the same solution with the same key.
    let other = support::client(&sim, Style::Postpress);
    let mut resumed = other.resume(saved).unwrap();
    let solved = resumed
        .solve_with_key(Solution::code("123456"), key(7))
        .await
        .unwrap();
    assert!(matches!(solved, Solved::Connected { .. }), "{solved:?}");
    assert_eq!(sim.connected_accounts().len(), 1, "connected once");
    let keys: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/accounts/checkpoint"))
        .map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    assert!(keys.len() >= 2, "sent again from the other process: {keys:?}");
    assert!(
        keys.iter().all(|k| k.as_deref() == Some(key(7).as_str())),
        "{keys:?}"
    );
}

#[tokio::test]
async fn resend_with_key_sends_that_key() {
    let sim = start_sim(Fixture::demo());
    let client = client(&sim, Style::Unipile);
    let Connection::Pending(mut pending) = client.connect_messenger("bob", "pw-b").await.unwrap() else {
        panic!("a checkpoint");
    };
    assert_eq!(
        pending.resend_checkpoint_with_key(key(9)).await.unwrap(),
        Resend::Sent
    );
    let resend = sim
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/checkpoint/resend"))
        .unwrap();
    assert_eq!(resend.header("idempotency-key"), Some(key(9).as_str()));
}

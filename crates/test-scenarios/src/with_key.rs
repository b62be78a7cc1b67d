//! The `_with_key` calls: a caller that keeps its own `Idempotency-Key` (the web form keeps it
//! in its store, so another instance can send the same request again) sends exactly that
//! key, and the same key again gets the server's first answer.

use std::sync::{Arc, Mutex};

use auth_core::{
    Connection, Credentials, IdempotencyKey, Resend, RetryPolicy, Solution, Solved, TransportErrorKind,
};
use auth_sim::{Account, Checkpoint, Fault, FaultTarget, Fixture};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver, IntentUnderTest};
use crate::support::*;

fn key(n: u8) -> IdempotencyKey {
    IdempotencyKey::from_random_bytes([n; 16])
}

/// `connect_with_key` sends that key, and the same key again finds the same intent (the
/// server's first answer, not a second intent).
pub fn connect_with_key_sends_that_key_and_the_same_key_finds_the_same_intent<D: Driver>() {
    let sim = start_sim(Fixture::demo());
    let client = client::<D>(&sim, Style::Postpress);
    let credentials = || Credentials::messenger("bob", "pw-b");
    let Connection::Pending(first) = client.connect_with_key(credentials(), key(1)).unwrap() else {
        panic!("bob has a checkpoint");
    };
    let Connection::Pending(again) = client.connect_with_key(credentials(), key(1)).unwrap() else {
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

/// `connect_again` sends a connect kept only as its key and first send (by a process that
/// died mid-request) under that key: the server's first answer, the same intent, and its
/// deadline counted from the first send, not from the send again a minute later. A
/// snapshot that holds no lost connect is refused, nothing sent; a 409 is the caller's.
pub fn connect_again_sends_the_kept_key_and_keeps_the_first_deadline<D: Driver>() {
    let sim = start_sim(Fixture::demo());
    let clock = ManualClock::new();
    let client = builder::<D>(&sim, Style::Postpress)
        .clock(clock.clone())
        .build()
        .unwrap();
    let credentials = || Credentials::messenger("bob", "pw-b");
    let first_sent_at = clock.now();
    let Connection::Pending(first) = client.connect_with_key(credentials(), key(3)).unwrap() else {
        panic!("bob has a checkpoint");
    };
    clock.advance(std::time::Duration::from_secs(60));
    let lost = auth_core::Snapshot::lost_connect(key(3), first_sent_at, None);
    let Connection::Pending(again) = client.connect_again(lost, credentials()).unwrap() else {
        panic!("bob has a checkpoint");
    };
    assert_eq!(again.account_id(), first.account_id(), "the same intent");
    assert_eq!(again.deadline(), first.deadline(), "counted from the first send");
    assert_eq!(sim.pending_intents(), 1, "not a second intent");
    assert_eq!(
        keys_sent_to(&sim, "/accounts"),
        vec![key(3).as_str().to_owned(); 2]
    );

    let refused = client.connect_again(again.save(), credentials());
    assert!(matches!(refused, Err(auth_core::Error::Usage(_))), "{refused:?}");
    assert_eq!(sim.requests().len(), 2, "nothing sent");

    // Other credentials under the kept key: the 409 is the caller's, who keeps its keys.
    let lost = auth_core::Snapshot::lost_connect(key(3), first_sent_at, None);
    let conflict = client.connect_again(lost, Credentials::messenger("bob", "pw-other"));
    let Err(auth_core::Error::Api(api)) = conflict else {
        panic!("expected the 409: {conflict:?}");
    };
    assert_eq!(api.problem, auth_core::Problem::IdempotencyConflict);
    assert_eq!(sim.requests().len(), 3, "nothing more sent");
}

/// `reconnect_account_with_key` sends that key, and the same key again gets the server's
/// first answer: the same account reconnected once.
pub fn reconnect_with_key_sends_that_key_and_the_same_key_gets_the_first_answer<D: Driver>() {
    let sim = start_sim(Fixture::demo());
    let client = client::<D>(&sim, Style::Postpress);
    let credentials = || Credentials::messenger("alice", "pw-a");
    let Connection::Connected { account_id } = client.connect(credentials()).unwrap() else {
        panic!("alice has no checkpoint");
    };
    let reconnect = || {
        client
            .reconnect_account_with_key(account_id.clone(), credentials(), key(3))
            .unwrap()
    };
    for answer in [reconnect(), reconnect()] {
        let Connection::Reconnected { account_id: again } = answer else {
            panic!("alice reconnects at once: {answer:?}");
        };
        assert_eq!(again, account_id);
    }
    assert_eq!(
        keys_sent_to(&sim, &format!("/accounts/{account_id}")),
        [key(3).as_str(); 2],
        "both with the kept key"
    );
}

/// A solve sent with a kept key loses its answer after the server connected the account;
/// another client resumes the intent saved before, sends the same solution with the same
/// key, and gets the server's first answer, replayed: connected once.
pub fn solve_with_key_from_a_resumed_intent_replays_a_lost_answer<D: Driver>() {
    // The first solve connects the account, then its answer is lost.
    let sim = start_sim(Fixture::new().account(Account::new("lost", "pw").checkpoint(
        Checkpoint::new("2FA", "123456").fault(Fault::new().lose_answer().on(FaultTarget::Solve).times(1)),
    )));
    // Without retries: the lost answer ends the first solve, rather than the core's own
    // retry recovering it (with the same key) before the other process is needed.
    let client = builder::<D>(&sim, Style::Postpress)
        .retry_policy(RetryPolicy::never())
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let Connection::Pending(pending) = client.connect_messenger("lost", "pw").unwrap() else {
        panic!("a checkpoint");
    };
    // Saved before sending, as a web form does; the process that sends then dies.
    let saved = pending.save();
    let mut first = client.resume(saved.clone()).unwrap();
    let lost = expect_err(first.solve_with_key(Solution::code("123456"), key(7)));
    assert_eq!(transport_kind(&lost), TransportErrorKind::Io, "{lost}");
    assert!(first.is_pending(), "no answer came: the intent is still pending");
    assert_eq!(
        keys_sent_to(&sim, "/accounts/checkpoint"),
        [key(7).as_str()],
        "sent once, with the kept key"
    );
    assert_eq!(sim.connected_accounts().len(), 1, "the server acted");

    // Another process resumes the saved intent and sends the same solution with the same key.
    let replayed: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let log = Arc::clone(&replayed);
    let other = builder::<D>(&sim, Style::Postpress)
        .clock(ManualClock::new())
        .on_exchange(move |exchange| {
            let replay = exchange
                .outcome
                .ok()
                .and_then(|answer| answer.header("idempotent-replayed"));
            log.lock().unwrap().push(replay.map(str::to_owned));
        })
        .build()
        .unwrap();
    let mut resumed = other.resume(saved).unwrap();
    let solved = resumed.solve_with_key(Solution::code("123456"), key(7)).unwrap();
    assert!(matches!(solved, Solved::Connected { .. }), "{solved:?}");
    assert_eq!(
        *replayed.lock().unwrap(),
        [Some("true".to_owned())],
        "the server's first answer, replayed from its idempotency record"
    );
    assert_eq!(keys_sent_to(&sim, "/accounts/checkpoint"), [key(7).as_str(); 2]);
    assert_eq!(sim.connected_accounts().len(), 1, "connected once");
}

/// `resend_checkpoint_with_key` sends that key.
pub fn resend_with_key_sends_that_key<D: Driver>() {
    let sim = start_sim(Fixture::demo());
    let client = client::<D>(&sim, Style::Unipile);
    let Connection::Pending(mut pending) = client.connect_messenger("bob", "pw-b").unwrap() else {
        panic!("a checkpoint");
    };
    assert_eq!(pending.resend_checkpoint_with_key(key(9)).unwrap(), Resend::Sent);
    assert_eq!(keys_sent_to(&sim, "/checkpoint/resend"), [key(9).as_str()]);
}

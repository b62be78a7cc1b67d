//! Cancellation: a future of a [`PendingIntent`] dropped mid-request (`select!`,
//! `tokio::time::timeout`, a user who closed the page) leaves the intent pending, resumable,
//! and retryable with the same `Idempotency-Key`; against the simulator, which sees the same
//! key twice and connects the account once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::time::Duration;

use auth_reqwest::{Connection, PendingIntent, Phase, Resend, Solved};
use auth_sim::{Account, Checkpoint as SimCheckpoint, Fault as SimFault, Fixture, LoggedRequest, Simulator};
use support::*;

/// The in-app approval on the simulator's (manual) clock.
const APPROVAL: Duration = Duration::from_millis(1500);

/// How long the simulator holds a connect before it acts on it (real time).
const CONNECT_DELAY: Duration = Duration::from_secs(2);

fn in_app_sim() -> Simulator {
    start_sim(
        Fixture::new()
            .account(Account::new("carol", "pw-c").checkpoint(SimCheckpoint::in_app("2FA", APPROVAL))),
    )
}

async fn pending(client: &auth_reqwest::Client, username: &str, password: &str) -> PendingIntent {
    match client
        .connect_messenger(username.to_owned(), password.to_owned())
        .await
        .unwrap()
    {
        Connection::Pending(intent) => intent,
        other => panic!("expected a checkpoint, got {other:?}"),
    }
}

/// The `Idempotency-Key`s of the requests to a path ending with `suffix`, in order.
fn keys_sent_to(requests: &[LoggedRequest], suffix: &str) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect()
}

/// Solves in the app on a task of its own; the simulator approves once its clock has moved.
async fn approve(sim: &Simulator, mut intent: PendingIntent) -> (PendingIntent, Solved) {
    let solving = tokio::spawn(async move {
        let solved = intent.solve_in_app().await;
        (intent, solved)
    });
    wait_until("the solve held", || sim.held_requests() == 1).await;
    sim.advance(APPROVAL);
    let (intent, solved) = solving.await.unwrap();
    (intent, solved.unwrap())
}

#[tokio::test]
async fn a_solve_dropped_by_select_leaves_the_intent_pending_and_the_same_call_resends_its_key() {
    for style in Style::ALL {
        let sim = in_app_sim();
        let client = client(&sim, style);
        let mut intent = pending(&client, "carol", "pw-c").await;
        {
            let solve = intent.solve_in_app();
            tokio::pin!(solve);
            tokio::select! {
                solved = &mut solve => panic!("answered before the approval: {solved:?}"),
                () = wait_until("the solve held", || sim.held_requests() == 1) => {}
            }
            // `solve` is dropped here, its request out: a user who closed the page.
        }
        assert!(intent.is_pending(), "{intent:?}");
        assert_eq!(intent.phase(), Phase::AwaitingCheckpoint);
        let first = keys_sent_to(&sim.requests(), "/accounts/checkpoint");
        assert_eq!(first.len(), 1);
        // The saved intent keeps the request whose answer never came, with its key.
        assert_eq!(
            intent
                .save()
                .unsettled_key()
                .map(|k| k.as_str().to_owned())
                .as_ref(),
            first.first()
        );
        // The simulator saw the connection go away: its held request is gone, the intent lives.
        wait_until("the held request released", || sim.held_requests() == 0).await;
        assert!(sim.connected_accounts().is_empty());

        // The same call again: the same request, with the same key, approved this time.
        let (intent, solved) = approve(&sim, intent).await;
        assert_eq!(
            solved,
            Solved::Connected {
                account_id: intent.account_id().clone()
            }
        );
        let keys = keys_sent_to(&sim.requests(), "/accounts/checkpoint");
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert_eq!(keys[0], keys[1], "the same Idempotency-Key twice");
        assert_eq!(sim.connected_accounts().len(), 1, "connected once");
        assert_eq!(sim.pending_intents(), 0);
    }
}

#[tokio::test]
async fn a_solve_cut_by_a_timeout_resumes_in_a_new_client_with_the_same_key() {
    let sim = in_app_sim();
    let client = client(&sim, Style::Postpress);
    let mut intent = pending(&client, "carol", "pw-c").await;
    // The simulator never approves while its clock stands still: the timeout always wins.
    let cut = tokio::time::timeout(Duration::from_millis(200), intent.solve_in_app()).await;
    assert!(cut.is_err(), "{cut:?}");
    assert!(intent.is_pending());
    let saved = intent.save();
    let key = saved.unsettled_key().expect("the abandoned request is kept");
    drop(intent);
    let snapshot_json = serde_json::to_string(&saved).unwrap();
    assert!(!snapshot_json.contains("pw-c"), "{snapshot_json}");
    wait_until("the held request released", || sim.held_requests() == 0).await;

    // Another client (another process, say) resumes it and makes the same call.
    let other = client_builder_for(&sim).build().unwrap();
    let resumed = other
        .resume(serde_json::from_str(&snapshot_json).unwrap())
        .unwrap();
    assert!(resumed.is_pending());
    let (resumed, solved) = approve(&sim, resumed).await;
    assert!(matches!(solved, Solved::Connected { .. }));
    assert_eq!(resumed.phase(), Phase::Connected);
    // Every solve that reached the simulator carried the one key.
    let keys = keys_sent_to(&sim.requests(), "/accounts/checkpoint");
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k == key.as_str()),
        "{keys:?} vs {key:?}"
    );
    assert_eq!(sim.connected_accounts().len(), 1);
}

#[tokio::test]
async fn a_resend_dropped_while_the_server_works_is_sent_again_and_gets_the_first_answer() {
    // The resend is held three seconds (real time) by the simulator before it acts and
    // answers; the client drops it as soon as it has arrived.
    let checkpoint = SimCheckpoint::new("2FA", "123456").fault(
        SimFault::new()
            .delay(Duration::from_secs(3))
            .on(auth_sim::FaultTarget::Resend)
            .times(1),
    );
    let sim = start_sim(Fixture::new().account(Account::new("bob", "pw-b").checkpoint(checkpoint)));
    let client = client(&sim, Style::Unipile);
    let mut intent = pending(&client, "bob", "pw-b").await;
    {
        let resend = intent.resend_checkpoint();
        tokio::pin!(resend);
        tokio::select! {
            resent = &mut resend => panic!("answered before the delay: {resent:?}"),
            () = wait_until("the resend received", || sim.requests().len() == 2) => {}
        }
    }
    assert!(intent.is_pending());
    // The same call: the same key; the simulator answers what it answered the first.
    assert_eq!(intent.resend_checkpoint().await.unwrap(), Resend::Sent);
    let keys = keys_sent_to(&sim.requests(), "/accounts/checkpoint/resend");
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[0], keys[1]);
    // Still the same intent: the code connects it.
    assert!(matches!(
        intent.solve_code_checkpoint("123456").await.unwrap(),
        Solved::Connected { .. }
    ));
    assert_eq!(sim.connected_accounts().len(), 1);
}

#[tokio::test]
async fn a_dropped_connect_leaves_nothing_pending_and_a_new_connect_starts_over() {
    // carol's first connect is held by the simulator (real time) before it is acted on.
    let sim = start_sim(
        Fixture::new().account(
            Account::new("carol", "pw-c")
                .fault(
                    SimFault::new()
                        .delay(CONNECT_DELAY)
                        .on(auth_sim::FaultTarget::Connect)
                        .times(1),
                )
                .checkpoint(SimCheckpoint::in_app("2FA", APPROVAL)),
        ),
    );
    let client = client(&sim, Style::Postpress);

    // Dropped before it was even polled: nothing was sent, not even a connection opened.
    drop(client.connect_messenger("carol", "pw-c"));
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
    assert_eq!(sim.connections_accepted(), 0);

    // Dropped mid-request: the connect reached the simulator, then its future was dropped.
    {
        let connect = client.connect_messenger("carol", "pw-c");
        tokio::pin!(connect);
        tokio::select! {
            connected = &mut connect => panic!("answered before the delay: {connected:?}"),
            () = wait_until("the connect received", || sim.requests().len() == 1) => {}
        }
    }
    let received = sim.requests();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        (received[0].method.as_str(), received[0].path.as_str()),
        ("POST", "/v1/accounts")
    );
    assert_eq!(
        received[0].body_json().unwrap(),
        serde_json::json!({"provider": "MESSENGER", "username": "carol", "password": "pw-c"})
    );
    let dropped_key = received[0].header("idempotency-key").unwrap().to_owned();

    // Nothing of it is kept on this side (as `Client::connect` says): a new connect is a new
    // call, with a new key, on a new connection (the dropped one's answer, if it ever comes,
    // is never read as another's), answered with a pending intent that is approved once.
    let intent = pending(&client, "carol", "pw-c").await;
    let received = sim.requests();
    let keys = keys_sent_to(&received, "/accounts");
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_ne!(keys[1], dropped_key, "a new call, not the dropped one again");
    assert_ne!(received[1].connection, received[0].connection);
    assert_eq!(sim.connections_accepted(), 2);
    let (_, solved) = approve(&sim, intent).await;
    assert!(matches!(solved, Solved::Connected { .. }));
    assert_eq!(sim.connected_accounts().len(), 1);
}

fn client_builder_for(sim: &Simulator) -> auth_reqwest::ClientBuilder {
    builder(sim, Style::Postpress).clock(ManualClock::new())
}

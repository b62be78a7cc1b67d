//! Every public future is `Send`, and `'static` when its inputs are owned: each one is
//! given to `tokio::spawn` here, which would not compile otherwise (a compile-time test that
//! also runs, against the simulator).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::future::Future;
use std::time::Duration;

use auth_reqwest::{
    AccountId, AsyncClock, Client, Connection, Credentials, Error, PendingIntent, Resend, Solution, Solved,
};
use auth_sim::{Account, Checkpoint as SimCheckpoint, Fixture};
use support::*;

/// What `tokio::spawn` (and an axum handler) asks of a future.
fn spawnable<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future)
}

/// The bounds alone, for futures this file does not run to their end.
fn assert_spawnable<F>(_: &F)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
}

async fn pending(client: &Client, username: &'static str, password: &'static str) -> PendingIntent {
    match spawnable(client.connect_messenger(username, password))
        .await
        .unwrap()
        .unwrap()
    {
        Connection::Pending(intent) => intent,
        other => panic!("expected a checkpoint, got {other:?}"),
    }
}

#[tokio::test]
async fn every_future_of_the_client_runs_on_tokio_spawn() {
    let fixture = Fixture::demo().account(
        Account::new("erin", "pw-e").checkpoint(SimCheckpoint::in_app("2FA", Duration::from_millis(10))),
    );
    let sim = start_sim(fixture);
    let client = client(&sim, Style::Postpress);

    // The client's own futures own a clone of it: spawned as they are, with owned or
    // 'static arguments.
    let alice = spawnable(client.connect_messenger("alice".to_owned(), "pw-a".to_owned()));
    let Connection::Connected { account_id } = alice.await.unwrap().unwrap() else {
        panic!("alice connects at once");
    };
    let status = spawnable(client.account_status(account_id.clone()))
        .await
        .unwrap();
    assert_eq!(status.unwrap().account_id, account_id);
    let reconnect = spawnable(client.reconnect_account(account_id, Credentials::messenger("alice", "pw-a")));
    assert!(matches!(
        reconnect.await.unwrap().unwrap(),
        Connection::Reconnected { .. }
    ));
    let connect = spawnable(client.connect(Credentials::messenger("alice", "pw-a")));
    assert!(matches!(
        connect.await.unwrap().unwrap(),
        Connection::Connected { .. }
    ));

    // A pending intent's calls borrow it: the task owns the intent and gives it back.
    let mut intent = pending(&client, "dave", "pw-d").await;
    let mut intent = spawnable(async move {
        assert_eq!(intent.resend_checkpoint().await.unwrap(), Resend::Sent);
        assert!(intent.solve_code_checkpoint("000000").await.is_err());
        assert_eq!(
            intent.solve(Solution::code("111111")).await.unwrap(),
            Solved::NextCheckpoint
        );
        intent
    })
    .await
    .unwrap();
    let solved = spawnable(async move { intent.solve_code_checkpoint("222222".to_owned()).await });
    assert!(matches!(solved.await.unwrap().unwrap(), Solved::Connected { .. }));

    let mut intent = pending(&client, "erin", "pw-e").await;
    let solved = spawnable(async move { intent.try_another_way().await.map(|_| intent) });
    let mut intent = solved.await.unwrap().unwrap();
    let solving = spawnable(async move { intent.solve_in_app().await });
    wait_until("the in-app solve held", || sim.held_requests() == 1).await;
    sim.advance(Duration::from_millis(10));
    assert!(matches!(
        solving.await.unwrap().unwrap(),
        Solved::Connected { .. }
    ));

    // The by-hand drive: the transport and the clock are owned clones too.
    let mut transport = client.transport();
    let clock = client.clock().clone();
    let config = client.config().clone();
    let by_hand = spawnable(async move {
        let mut flow = auth_core::Flow::new(config);
        let key = auth_reqwest::new_idempotency_key()?;
        let connect = auth_core::Command::Connect(Credentials::messenger("alice", "pw-a"));
        let _ = clock.now();
        auth_core::drive_async(&mut flow, &mut transport, &clock, connect, key).await
    });
    assert!(matches!(
        by_hand.await.unwrap(),
        Ok(auth_core::Event::Connected { .. })
    ));
}

/// The same bounds with borrowed-then-converted inputs, checked without running.
#[allow(dead_code, reason = "compiled, not run: the bounds are the test")]
fn the_bounds_hold_for_every_public_future(client: &Client, mut intent: PendingIntent) {
    assert_spawnable(&client.connect_messenger("user", "password"));
    assert_spawnable(&client.connect_messenger(String::new(), String::new()));
    assert_spawnable(&client.connect(Credentials::messenger("u", "p")));
    assert_spawnable(&client.reconnect_account("acc", Credentials::messenger("u", "p")));
    assert_spawnable(&client.reconnect_account(AccountId::new("acc"), Credentials::messenger("u", "p")));
    assert_spawnable(&client.account_status("acc"));
    assert_spawnable(&async move {
        intent.solve_code_checkpoint("1").await?;
        intent.solve(Solution::InAppValidation).await?;
        intent.solve_in_app().await?;
        intent.try_another_way().await?;
        intent.resend_checkpoint().await?;
        Ok::<PendingIntent, Error>(intent)
    });
    let transport = client.transport();
    let request: Option<auth_core::Request> = None;
    assert_spawnable(&async move {
        match request {
            Some(request) => transport.execute(&request).await.map(drop),
            None => Ok(()),
        }
    });
    let clock = client.clock().clone();
    assert_spawnable(&async move { clock.sleep_until(clock.now()).await });
}

//! Whole flows through the [`Client`]: in-app validation, expiry found locally, save and
//! resume in a new client, keep-alive, the exchange observer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::RequestKind;
use auth_reqwest::{
    Client, Connection, Detection, Error, PendingIntent, Phase, Snapshot, Solved, UsageError,
    new_idempotency_key,
};
use auth_sim::{Account, Checkpoint as SimCheckpoint, Fixture, Simulator};
use support::*;

async fn pending(client: &Client, username: &str, password: &str) -> PendingIntent {
    match client.connect_messenger(username, password).await.unwrap() {
        Connection::Pending(intent) => intent,
        other => panic!("expected a checkpoint, got {other:?}"),
    }
}

/// Waits until the simulator holds `count` requests.
async fn wait_until_held(sim: &Simulator, count: usize) {
    wait_until("the request held", || sim.held_requests() == count).await;
}

#[tokio::test]
async fn in_app_validation_is_held_until_approved_then_connects() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client(&sim, style);
        let mut intent = pending(&client, "carol", "pw-c").await;
        assert_eq!(intent.checkpoint().kind(), "2FA");
        let solving = tokio::spawn(async move {
            let solved = intent.solve_in_app().await;
            (intent, solved)
        });
        // The simulator holds the request until the user approves (1.5 s on its clock).
        wait_until_held(&sim, 1).await;
        assert!(!solving.is_finished());
        assert!(sim.connected_accounts().is_empty());
        sim.advance(Duration::from_millis(1500));
        let (intent, solved) = solving.await.unwrap();
        assert!(matches!(solved.unwrap(), Solved::Connected { .. }));
        assert!(!intent.is_pending());
        let requests = sim.requests();
        assert_eq!(
            requests[1].body_json().unwrap()["code"],
            serde_json::json!("in_app_validation")
        );
        assert_eq!(sim.connected_accounts().len(), 1);
    }
}

#[tokio::test]
async fn in_app_validation_with_the_real_clock_connects_after_the_approval() {
    let sim = Simulator::builder()
        .api_key(API_KEY)
        .fixture(
            Fixture::new().account(
                Account::new("carol", "pw-c")
                    .checkpoint(SimCheckpoint::in_app("2FA", Duration::from_millis(2500))),
            ),
        )
        .start()
        .unwrap();
    // A request timeout shorter than the approval: the in-app request's budget is the
    // intent's remaining time, not the request timeout.
    let client = builder(&sim, Style::Postpress)
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut intent = pending(&client, "carol", "pw-c").await;
    assert!(matches!(
        intent.solve_in_app().await.unwrap(),
        Solved::Connected { .. }
    ));
}

#[tokio::test]
async fn in_app_validation_held_past_the_deadline_ends_expired() {
    let fixture = Fixture::new().account(
        Account::new("slow", "pw-secret").checkpoint(SimCheckpoint::in_app("2FA", Duration::from_secs(600))),
    );
    let sim = start_sim(fixture);
    let clock = ManualClock::new();
    let client = builder(&sim, Style::Unipile)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut intent = pending(&client, "slow", "pw-secret").await;
    let solving = tokio::spawn(async move { intent.solve_in_app().await });
    wait_until_held(&sim, 1).await;
    sim.advance(Duration::from_secs(300));
    let error = expect_err(solving.await.unwrap());
    let Error::IntentExpired(expired) = error else {
        panic!("expected expired, got {error:?}");
    };
    assert_eq!(expired.detected_by, Detection::Server);
    assert!(sim.connected_accounts().is_empty());
}

#[tokio::test]
async fn a_solve_at_the_deadline_is_expired_at_once_and_sends_nothing() {
    for style in Style::ALL {
        let sim = demo_sim();
        let clock = ManualClock::new();
        let client = builder(&sim, style).clock(clock.clone()).build().unwrap();
        let mut intent = pending(&client, "bob", "pw-b").await;
        clock.advance(Duration::from_secs(300));
        assert_eq!(intent.remaining(), Duration::ZERO);
        assert!(!intent.is_pending());

        let error = expect_err(intent.solve_code_checkpoint("123456").await);
        let Error::IntentExpired(expired) = &error else {
            panic!("expected expired, got {error:?}");
        };
        assert_eq!(expired.detected_by, Detection::Deadline);
        assert_eq!(expired.deadline, intent.deadline());
        assert_eq!(sim.requests().len(), 1, "only the connect was sent");
        assert_eq!(intent.phase(), Phase::Expired);

        // Resend and in-app alike: nothing sent.
        assert!(matches!(
            expect_err(intent.resend_checkpoint().await),
            Error::IntentExpired(_)
        ));
        assert!(matches!(
            expect_err(intent.solve_in_app().await),
            Error::IntentExpired(_)
        ));
        assert_eq!(sim.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_solve_just_before_the_deadline_is_sent_with_only_the_time_left() {
    let sim = demo_sim();
    let clock = ManualClock::new();
    let budgets: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let log = Arc::clone(&budgets);
    let client = builder(&sim, Style::Postpress)
        .clock(clock.clone())
        .on_exchange(move |exchange| log.lock().unwrap().push(exchange.request.timeout))
        .build()
        .unwrap();
    let intent = pending(&client, "bob", "pw-b").await;
    clock.advance(Duration::from_millis(299_999));
    assert!(intent.is_pending());
    assert_eq!(intent.remaining(), Duration::from_millis(1));
    drop(intent);

    // A new intent, from the clock's time now.
    let mut intent = pending(&client, "bob", "pw-b").await;
    clock.advance(Duration::from_secs(299));
    assert_eq!(intent.remaining(), Duration::from_secs(1));
    // The client's clock says one second left; the simulator's (frozen) clock says five
    // minutes: the request is sent, with a budget of the time left, not the 30 s default.
    assert!(matches!(
        intent.solve_code_checkpoint("123456").await.unwrap(),
        Solved::Connected { .. }
    ));
    assert_eq!(sim.requests().len(), 3);
    assert_eq!(
        *budgets.lock().unwrap(),
        [
            Duration::from_secs(30),
            Duration::from_secs(30),
            Duration::from_secs(1)
        ]
    );
}

#[tokio::test]
async fn a_saved_intent_resumes_in_a_new_client_and_connects() {
    for style in Style::ALL {
        let sim = demo_sim();
        let saved = {
            let first = client(&sim, style);
            let mut intent = pending(&first, "dave", "pw-d").await;
            assert_eq!(
                intent.solve_code_checkpoint("111111").await.unwrap(),
                Solved::NextCheckpoint
            );
            serde_json::to_string(&intent.save()).unwrap()
            // The first client and its connections are gone.
        };
        for secret in SECRETS {
            assert!(!saved.contains(secret), "{secret} in the saved intent {saved}");
        }
        let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
        let second = client(&sim, style);
        let mut intent = second.resume(snapshot).unwrap();
        assert!(intent.is_pending());
        assert_eq!(intent.checkpoint().kind(), "OTP");
        assert_eq!(intent.intent().checkpoints_solved, 1);
        assert!(matches!(
            intent.solve_code_checkpoint("222222").await.unwrap(),
            Solved::Connected { .. }
        ));
        assert_eq!(sim.requests().len(), 3);
        assert_eq!(sim.connections_accepted(), 2, "one connection per client");
    }
}

#[tokio::test]
async fn resume_refuses_an_intent_that_is_no_longer_pending_and_sends_nothing() {
    let sim = demo_sim();
    let clock = ManualClock::new();
    let client = builder(&sim, Style::Postpress)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut intent = pending(&client, "bob", "pw-b").await;
    let pending_snapshot = intent.save();

    // Expired by the resuming client's clock.
    clock.advance(Duration::from_secs(300));
    let error = expect_err(client.resume(pending_snapshot.clone()));
    assert!(matches!(error, Error::IntentExpired(ref e) if e.detected_by == Detection::Deadline));
    assert_eq!(sim.requests().len(), 1);

    // Saved after it expired.
    let _ = intent.solve_code_checkpoint("123456").await;
    assert!(matches!(
        expect_err(client.resume(intent.save())),
        Error::IntentExpired(_)
    ));

    // Saved connected.
    let fresh = builder(&sim, Style::Postpress).build().unwrap();
    let mut intent = pending(&fresh, "bob", "pw-b").await;
    intent.solve_code_checkpoint("123456").await.unwrap();
    let error = expect_err(fresh.resume(intent.save()));
    assert!(matches!(error, Error::Usage(UsageError::NoPendingIntent)));
    assert_eq!(sim.requests().len(), 3);
}

#[tokio::test]
async fn a_whole_flow_uses_one_kept_alive_connection() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client(&sim, style);
        let mut intent = pending(&client, "dave", "pw-d").await;
        intent.resend_checkpoint().await.unwrap();
        let _ = intent.solve_code_checkpoint("000000").await;
        intent.solve_code_checkpoint("111111").await.unwrap();
        intent.solve_code_checkpoint("222222").await.unwrap();
        // Clones share the pool and its connections.
        let clone = client.clone();
        let Connection::Connected { .. } = clone.connect_messenger("alice", "pw-a").await.unwrap() else {
            panic!("alice connects at once");
        };
        assert_eq!(sim.requests().len(), 6);
        assert_eq!(sim.connections_accepted(), 1);
        assert!(sim.requests().iter().all(|r| r.connection == 1));
    }
}

#[tokio::test]
async fn the_observer_sees_every_exchange_without_secrets() {
    let sim = demo_sim();
    /// Kind, path, status, and everything an observer could print.
    type Seen = (RequestKind, String, Option<u16>, String);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = Arc::clone(&seen);
    let client = builder(&sim, Style::Postpress)
        .on_exchange(move |exchange| {
            let shown = format!(
                "{:?} {} {:?}",
                exchange.request,
                exchange.request.body.redacted(),
                exchange.outcome
            );
            log.lock().unwrap().push((
                exchange.request.kind,
                exchange.request.path.to_string(),
                exchange.outcome.ok().map(|answer| answer.status),
                shown,
            ));
        })
        .build()
        .unwrap();
    let mut intent = pending(&client, "bob", "pw-b").await;
    let _ = intent.solve_code_checkpoint("999999").await;
    intent.solve_code_checkpoint("123456").await.unwrap();

    let seen = seen.lock().unwrap();
    let summary: Vec<(RequestKind, &str, Option<u16>)> = seen
        .iter()
        .map(|(kind, path, status, _)| (*kind, path.as_str(), *status))
        .collect();
    assert_eq!(
        summary,
        [
            (RequestKind::Connect, "/accounts", Some(202)),
            (RequestKind::Solve, "/accounts/checkpoint", Some(401)),
            (RequestKind::Solve, "/accounts/checkpoint", Some(201)),
        ]
    );
    for (_, _, _, shown) in seen.iter() {
        for secret in SECRETS {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("<redacted>"));
    }
}

#[tokio::test]
async fn the_raw_transport_drives_a_flow_through_the_shared_loop() {
    let sim = demo_sim();
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let log = Arc::clone(&seen);
    let client = builder(&sim, Style::Unipile)
        .clock(ManualClock::new())
        .on_exchange(move |exchange| log.lock().unwrap().push(exchange.request.attempt))
        .build()
        .unwrap();
    let mut transport = client.transport();
    let mut flow = auth_core::Flow::new(client.config().clone());
    let command = auth_core::Command::Connect(auth_core::Credentials::messenger("bob", "pw-b"));
    let key = new_idempotency_key().unwrap();
    let event = auth_core::drive_async(&mut flow, &mut transport, client.clock(), command, key)
        .await
        .unwrap();
    assert!(matches!(event, auth_core::Event::Checkpoint(_)));
    let solve = auth_core::Command::Solve(auth_core::Solution::code("123456"));
    let key = new_idempotency_key().unwrap();
    let event = auth_core::drive_async(&mut flow, &mut transport, client.clock(), solve, key)
        .await
        .unwrap();
    assert!(matches!(event, auth_core::Event::Connected { .. }));
    assert_eq!(sim.requests()[1].path, "/api/v1/accounts/checkpoint");
    assert_eq!(sim.requests()[1].header("idempotency-key"), Some(key.as_str()));
    // The client's observer is told of the raw transport's exchanges too.
    assert_eq!(*seen.lock().unwrap(), [1, 1]);
}

#[tokio::test]
async fn a_request_with_any_time_budget_is_sent_without_panicking() {
    // `Request` is public data: a driver may set any timeout. Timers compute `now + timeout`,
    // which overflows for huge budgets: the transport clamps them to MAX_REQUEST_TIMEOUT.
    let sim = demo_sim();
    let client = client(&sim, Style::Postpress);
    let mut flow = auth_core::Flow::new(client.config().clone());
    let command = auth_core::Command::Connect(auth_core::Credentials::messenger("alice", "pw-a"));
    let input = auth_core::Input::command(command, new_idempotency_key().unwrap());
    let auth_core::Output::Send(mut request) = flow.handle(client.now(), input) else {
        panic!("a connect sends a request");
    };
    for timeout in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        request.timeout = timeout;
        let answer = client.transport().execute(&request).await.unwrap();
        assert_eq!(answer.status, 201, "with a budget of {timeout:?}");
    }
}

#[tokio::test]
async fn a_success_that_comes_after_the_local_deadline_connects() {
    // The server's word over the local clock: the client's clock passes the deadline while
    // the in-app validation is held; the server then approves (its intent is still alive).
    let fixture = Fixture::new().account(
        Account::new("carol", "pw-c").checkpoint(SimCheckpoint::in_app("2FA", Duration::from_secs(10))),
    );
    let sim = start_sim(fixture);
    let clock = ManualClock::new();
    let client = builder(&sim, Style::Postpress)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut intent = pending(&client, "carol", "pw-c").await;
    let solving = tokio::spawn(async move {
        let solved = intent.solve_in_app().await;
        (intent, solved)
    });
    wait_until_held(&sim, 1).await;
    clock.advance(Duration::from_secs(301));
    sim.advance(Duration::from_secs(10));
    let (intent, solved) = solving.await.unwrap();
    assert!(matches!(solved.unwrap(), Solved::Connected { .. }));
    assert_eq!(intent.phase(), Phase::Connected);
    assert_eq!(sim.connected_accounts().len(), 1);
}

#[tokio::test]
async fn tick_expires_the_intent_by_the_clients_clock_and_sends_nothing() {
    let sim = demo_sim();
    let clock = ManualClock::new();
    let client = builder(&sim, Style::Postpress)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut intent = pending(&client, "bob", "pw-b").await;
    clock.advance(Duration::from_millis(299_999));
    intent.tick().unwrap();
    assert!(intent.is_pending());
    clock.advance(Duration::from_millis(1));
    let error = expect_err(intent.tick());
    assert!(matches!(error, Error::IntentExpired(ref e) if e.detected_by == Detection::Deadline));
    assert_eq!(intent.phase(), Phase::Expired);
    // Over: another tick changes nothing; a solve says the expiry again.
    intent.tick().unwrap();
    assert!(matches!(
        expect_err(intent.solve_code_checkpoint("123456").await),
        Error::IntentExpired(_)
    ));
    assert_eq!(sim.requests().len(), 1, "only the connect was sent");
}

#[test]
fn clients_and_intents_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Client>();
    send::<PendingIntent>();
    send::<Connection>();
}

//! Whole flows through the client: in-app validation, expiry found locally, save and
//! resume in a new client, keep-alive, the exchange observer, a flow driven by hand.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_client::new_idempotency_key;
use auth_core::{Connection, Detection, Error, Phase, RequestKind, Snapshot, Solved, UsageError};
use auth_sim::{Account, Checkpoint as SimCheckpoint, Fixture, Simulator};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver, IntentUnderTest};
use crate::support::*;

/// Waits until the simulator holds `count` requests.
fn wait_until_held(sim: &Simulator, count: usize) {
    wait_until("the request held", || sim.held_requests() == count);
}

/// An in-app validation is held until approved, then connects.
pub fn in_app_validation_is_held_until_approved_then_connects<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "carol", "pw-c");
        assert_eq!(intent.checkpoint().kind(), "2FA");
        std::thread::scope(|scope| {
            let solving = scope.spawn(move || {
                let solved = intent.solve_in_app();
                (intent, solved)
            });
            // The simulator holds the request until the user approves (1.5 s on its clock).
            wait_until_held(&sim, 1);
            assert!(!solving.is_finished());
            assert!(sim.connected_accounts().is_empty());
            sim.advance(Duration::from_millis(1500));
            let (intent, solved) = solving.join().unwrap();
            assert!(matches!(solved.unwrap(), Solved::Connected { .. }));
            assert!(!intent.is_pending());
        });
        let requests = sim.requests();
        assert_eq!(
            requests[1].body_json().unwrap()["code"],
            serde_json::json!("in_app_validation")
        );
        assert_eq!(sim.connected_accounts().len(), 1);
    }
}

/// An in-app validation on the real clock connects after the approval.
pub fn in_app_validation_with_the_real_clock_connects_after_the_approval<D: Driver>() {
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
    let client = builder::<D>(&sim, Style::Postpress)
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut intent = pending::<D>(&client, "carol", "pw-c");
    assert!(matches!(intent.solve_in_app().unwrap(), Solved::Connected { .. }));
}

/// An in-app validation held past the deadline ends expired.
pub fn in_app_validation_held_past_the_deadline_ends_expired<D: Driver>() {
    let fixture = Fixture::new().account(
        Account::new("slow", "pw-secret").checkpoint(SimCheckpoint::in_app("2FA", Duration::from_secs(600))),
    );
    let sim = start_sim(fixture);
    let (_clock, _client, mut intent) =
        pending_on_a_manual_clock::<D>(&sim, Style::Unipile, "slow", "pw-secret");
    std::thread::scope(|scope| {
        let solving = scope.spawn(move || intent.solve_in_app());
        wait_until_held(&sim, 1);
        sim.advance(Duration::from_secs(300));
        let error = expect_err(solving.join().unwrap());
        let Error::IntentExpired(expired) = error else {
            panic!("expected expired, got {error:?}");
        };
        assert_eq!(expired.detected_by, Detection::Server);
    });
    assert!(sim.connected_accounts().is_empty());
}

/// A solve at the deadline is expired at once and sends nothing.
pub fn a_solve_at_the_deadline_is_expired_at_once_and_sends_nothing<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let (clock, _client, mut intent) = pending_on_a_manual_clock::<D>(&sim, style, "bob", "pw-b");
        clock.advance(Duration::from_secs(300));
        assert_eq!(intent.remaining(), Duration::ZERO);
        assert!(!intent.is_pending());

        let error = expect_err(intent.solve_code_checkpoint("123456"));
        let Error::IntentExpired(expired) = &error else {
            panic!("expected expired, got {error:?}");
        };
        assert_eq!(expired.detected_by, Detection::Deadline);
        assert_eq!(expired.deadline, intent.deadline());
        assert_eq!(sim.requests().len(), 1, "only the connect was sent");
        assert_eq!(intent.phase(), Phase::Expired);

        // Resend and in-app alike: nothing sent.
        assert!(matches!(
            expect_err(intent.resend_checkpoint()),
            Error::IntentExpired(_)
        ));
        assert!(matches!(
            expect_err(intent.solve_in_app()),
            Error::IntentExpired(_)
        ));
        assert_eq!(sim.requests().len(), 1);
    }
}

/// A solve just before the deadline is sent with only the time left.
pub fn a_solve_just_before_the_deadline_is_sent_with_only_the_time_left<D: Driver>() {
    let sim = demo_sim();
    let clock = ManualClock::new();
    let budgets: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let log = Arc::clone(&budgets);
    let client = builder::<D>(&sim, Style::Postpress)
        .clock(clock.clone())
        .on_exchange(move |exchange| log.lock().unwrap().push(exchange.request.timeout))
        .build()
        .unwrap();
    let intent = pending::<D>(&client, "bob", "pw-b");
    clock.advance(Duration::from_millis(299_999));
    assert!(intent.is_pending());
    assert_eq!(intent.remaining(), Duration::from_millis(1));
    drop(intent);

    // A new intent, from the clock's time now.
    let mut intent = pending::<D>(&client, "bob", "pw-b");
    clock.advance(Duration::from_secs(299));
    assert_eq!(intent.remaining(), Duration::from_secs(1));
    // The client's clock says one second left; the simulator's (frozen) clock says five
    // minutes: the request is sent, with a budget of the time left, not the 30 s default.
    assert!(matches!(
        intent.solve_code_checkpoint("123456").unwrap(),
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

/// A saved intent resumes in a new client and connects.
pub fn a_saved_intent_resumes_in_a_new_client_and_connects<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let saved = {
            let first = client::<D>(&sim, style);
            let mut intent = pending::<D>(&first, "dave", "pw-d");
            assert_eq!(
                intent.solve_code_checkpoint("111111").unwrap(),
                Solved::NextCheckpoint
            );
            serde_json::to_string(&intent.save()).unwrap()
            // The first client and its connections are gone.
        };
        for secret in SECRETS {
            assert!(!saved.contains(secret), "{secret} in the saved intent {saved}");
        }
        let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
        let second = client::<D>(&sim, style);
        let mut intent = second.resume(snapshot).unwrap();
        assert!(intent.is_pending());
        assert_eq!(intent.checkpoint().kind(), "OTP");
        assert_eq!(intent.intent().checkpoints_solved, 1);
        assert!(matches!(
            intent.solve_code_checkpoint("222222").unwrap(),
            Solved::Connected { .. }
        ));
        assert_eq!(sim.requests().len(), 3);
        assert_eq!(sim.connections_accepted(), 2, "one connection per client");
    }
}

/// Resume refuses an intent that is no longer pending and sends nothing.
pub fn resume_refuses_an_intent_that_is_no_longer_pending_and_sends_nothing<D: Driver>() {
    let sim = demo_sim();
    let (clock, client, mut intent) = pending_on_a_manual_clock::<D>(&sim, Style::Postpress, "bob", "pw-b");
    let pending_snapshot = intent.save();

    // Expired by the resuming client's clock.
    clock.advance(Duration::from_secs(300));
    let error = expect_err(client.resume(pending_snapshot.clone()));
    assert!(matches!(error, Error::IntentExpired(ref e) if e.detected_by == Detection::Deadline));
    assert_eq!(sim.requests().len(), 1);

    // Saved after it expired.
    let _ = intent.solve_code_checkpoint("123456");
    assert!(matches!(
        expect_err(client.resume(intent.save())),
        Error::IntentExpired(_)
    ));

    // Saved connected.
    let fresh = builder::<D>(&sim, Style::Postpress).build().unwrap();
    let mut intent = pending::<D>(&fresh, "bob", "pw-b");
    intent.solve_code_checkpoint("123456").unwrap();
    let error = expect_err(fresh.resume(intent.save()));
    assert!(matches!(error, Error::Usage(UsageError::NoPendingIntent)));
    assert_eq!(sim.requests().len(), 3);
}

/// A whole flow uses one kept-alive connection.
pub fn a_whole_flow_uses_one_kept_alive_connection<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "dave", "pw-d");
        intent.resend_checkpoint().unwrap();
        let _ = intent.solve_code_checkpoint("000000");
        intent.solve_code_checkpoint("111111").unwrap();
        intent.solve_code_checkpoint("222222").unwrap();
        // Clones share the agent (or pool) and its connections.
        let clone = client.clone();
        let Connection::Connected { .. } = clone.connect_messenger("alice", "pw-a").unwrap() else {
            panic!("alice connects at once");
        };
        assert_eq!(sim.requests().len(), 6);
        assert_eq!(sim.connections_accepted(), 1);
        assert!(sim.requests().iter().all(|r| r.connection == 1));
    }
}

/// The observer sees every exchange without secrets.
pub fn the_observer_sees_every_exchange_without_secrets<D: Driver>() {
    let sim = demo_sim();
    /// Kind, path, status, and everything an observer could print.
    type Seen = (RequestKind, String, Option<u16>, String);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = Arc::clone(&seen);
    let client = builder::<D>(&sim, Style::Postpress)
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
    let mut intent = pending::<D>(&client, "bob", "pw-b");
    let _ = intent.solve_code_checkpoint("999999");
    intent.solve_code_checkpoint("123456").unwrap();

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

/// The raw transport drives a flow through the core's shared loop.
pub fn the_raw_transport_drives_a_flow_through_the_shared_loop<D: Driver>() {
    let sim = demo_sim();
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let log = Arc::clone(&seen);
    let client = builder::<D>(&sim, Style::Unipile)
        .clock(ManualClock::new())
        .on_exchange(move |exchange| log.lock().unwrap().push(exchange.request.attempt))
        .build()
        .unwrap();
    let mut flow = auth_core::Flow::new(client.config().clone());
    let command = auth_core::Command::Connect(auth_core::Credentials::messenger("bob", "pw-b"));
    let key = new_idempotency_key().unwrap();
    let event = client.drive(&mut flow, command, key).unwrap();
    assert!(matches!(event, auth_core::Event::Checkpoint(_)));
    let solve = auth_core::Command::Solve(auth_core::Solution::code("123456"));
    let key = new_idempotency_key().unwrap();
    let event = client.drive(&mut flow, solve, key).unwrap();
    assert!(matches!(event, auth_core::Event::Connected { .. }));
    assert_eq!(sim.requests()[1].path, "/api/v1/accounts/checkpoint");
    assert_eq!(sim.requests()[1].header("idempotency-key"), Some(key.as_str()));
    // The client's observer is told of the raw transport's exchanges too.
    assert_eq!(*seen.lock().unwrap(), [1, 1]);
}

/// A request with any time budget is sent without panicking.
pub fn a_request_with_any_time_budget_is_sent_without_panicking<D: Driver>() {
    // `Request` is public data: a driver may set any timeout. Timers compute `now + timeout`,
    // which overflows for huge budgets: the transport clamps them to MAX_REQUEST_TIMEOUT.
    let sim = demo_sim();
    let client = client::<D>(&sim, Style::Postpress);
    let mut flow = auth_core::Flow::new(client.config().clone());
    let command = auth_core::Command::Connect(auth_core::Credentials::messenger("alice", "pw-a"));
    let input = auth_core::Input::command(command, new_idempotency_key().unwrap());
    let auth_core::Output::Send(mut request) = flow.handle(client.now(), input) else {
        panic!("a connect sends a request");
    };
    for timeout in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        request.timeout = timeout;
        let answer = client.execute(&request).unwrap();
        assert_eq!(answer.status, 201, "with a budget of {timeout:?}");
    }
}

/// A success that comes after the local deadline connects.
pub fn a_success_that_comes_after_the_local_deadline_connects<D: Driver>() {
    // The server's word over the local clock: the client's clock passes the deadline while
    // the in-app validation is held; the server then approves (its intent is still alive).
    let fixture = Fixture::new().account(
        Account::new("carol", "pw-c").checkpoint(SimCheckpoint::in_app("2FA", Duration::from_secs(10))),
    );
    let sim = start_sim(fixture);
    let (clock, _client, mut intent) =
        pending_on_a_manual_clock::<D>(&sim, Style::Postpress, "carol", "pw-c");
    std::thread::scope(|scope| {
        let solving = scope.spawn(|| intent.solve_in_app());
        wait_until_held(&sim, 1);
        clock.advance(Duration::from_secs(301));
        sim.advance(Duration::from_secs(10));
        assert!(matches!(
            solving.join().unwrap().unwrap(),
            Solved::Connected { .. }
        ));
    });
    assert_eq!(intent.phase(), Phase::Connected);
    assert_eq!(sim.connected_accounts().len(), 1);
}

/// `tick` expires the intent by the client's clock and sends nothing.
pub fn tick_expires_the_intent_by_the_clients_clock_and_sends_nothing<D: Driver>() {
    let sim = demo_sim();
    let (clock, _client, mut intent) = pending_on_a_manual_clock::<D>(&sim, Style::Postpress, "bob", "pw-b");
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
        expect_err(intent.solve_code_checkpoint("123456")),
        Error::IntentExpired(_)
    ));
    assert_eq!(sim.requests().len(), 1, "only the connect was sent");
}

/// Clients and intents can move between threads.
pub fn clients_and_intents_can_move_between_threads<D: Driver>() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<D::Client>();
    send::<D::Intent>();
    send::<Connection<D::Intent>>();
}

//! In-app validation holds, the real and the manual clock, and scale.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use auth_sim::{Account, Checkpoint, Fixture, Simulator};
use common::{Answer, Client, KEY, Style, demo_sim, in_both_styles, sim_with, wait_until};
use serde_json::json;

/// Sends a solve on its own thread (and connection); the answer arrives on the channel.
fn solve_in_background(sim: &Simulator, style: Style, id: &str, code: &str) -> mpsc::Receiver<Answer> {
    let client = Client::new(sim, style);
    let (id, code) = (id.to_owned(), code.to_owned());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client.solve(&id, &code));
    });
    rx
}

/// Sends an `in_app_validation` solve for `id` from another thread and waits until the
/// simulator holds it (one more held request than before); its answer comes on the receiver.
fn held_approval(sim: &Simulator, style: Style, id: &str) -> mpsc::Receiver<Answer> {
    let before = sim.held_requests();
    let answer = solve_in_background(sim, style, id, "in_app_validation");
    wait_until("the solve to be held", || sim.held_requests() == before + 1);
    answer
}

#[test]
fn in_app_validation_is_held_until_approved_then_answers_201() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("carol", "pw-c").account_id();
        let answer = held_approval(sim, client.style, &id);
        sim.advance(Duration::from_millis(1499));
        assert!(
            answer.recv_timeout(Duration::from_millis(200)).is_err(),
            "answered before the approval"
        );
        assert_eq!(sim.held_requests(), 1);
        sim.advance(Duration::from_millis(1));
        let answer = answer
            .recv_timeout(Duration::from_secs(5))
            .expect("answered after approval");
        assert_eq!(answer.status, 201);
        assert_eq!(answer.json(), json!({"object":"AccountCreated","account_id":id}));
        assert_eq!(sim.held_requests(), 0);
    });
}

#[test]
fn in_app_hold_answers_408_when_the_intent_ends_then_400() {
    let fixture = Fixture::new()
        .account(Account::new("slow", "pw").checkpoint(Checkpoint::in_app("2FA", Duration::from_secs(3600))));
    in_both_styles(
        || sim_with(fixture.clone()),
        |sim, client| {
            let id = client.connect("slow", "pw").account_id();
            sim.advance(Duration::from_secs(100));
            let answer = held_approval(sim, client.style, &id);
            sim.advance(Duration::from_secs(199));
            assert!(answer.recv_timeout(Duration::from_millis(150)).is_err());
            sim.advance(Duration::from_secs(1));
            let answer = answer
                .recv_timeout(Duration::from_secs(5))
                .expect("answered at the deadline");
            answer.assert_error(408, "errors/request_timeout");
            client
                .solve(&id, "in_app_validation")
                .assert_error(400, "errors/authentication_intent_error");
        },
    );
}

/// One `advance` far past the approval (due 1.5 s after the solve) and past the deadline:
/// the hold is judged at the moment the approval was due, so it connects.
#[test]
fn an_approval_due_before_the_deadline_connects_even_when_one_advance_jumps_past_the_deadline() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("carol", "pw-c").account_id();
        let held = held_approval(sim, client.style, &id);
        sim.advance(Duration::from_secs(301));
        let answer = held.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.json(), json!({"object":"AccountCreated","account_id":id}));
        assert_eq!(sim.held_requests(), 0);
    });
}

/// The same jump, far enough that the intent would be forgotten (deadline plus
/// `forget_expired_after`): an intent a request is held on is kept until it is answered.
#[test]
fn an_approval_due_before_the_deadline_connects_even_when_one_advance_jumps_past_the_forget_time() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("carol", "pw-c").account_id();
        let held = held_approval(sim, client.style, &id);
        sim.advance(Duration::from_secs(1000));
        let answer = held.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(sim.held_requests(), 0);
        assert_eq!(sim.connected_accounts().len(), 1);
    });
}

/// An approval due after the deadline still ends in 408, however far one `advance` jumps.
#[test]
fn an_approval_due_after_the_deadline_answers_408_even_when_one_advance_jumps_past_the_forget_time() {
    let fixture = Fixture::new()
        .account(Account::new("slow", "pw").checkpoint(Checkpoint::in_app("2FA", Duration::from_secs(3600))));
    in_both_styles(
        || sim_with(fixture.clone()),
        |sim, client| {
            let id = client.connect("slow", "pw").account_id();
            let held = held_approval(sim, client.style, &id);
            sim.advance(Duration::from_secs(5000));
            let answer = held.recv_timeout(Duration::from_secs(10)).unwrap();
            answer.assert_error(408, "errors/request_timeout");
            assert_eq!(sim.held_requests(), 0);
            // Answered, the intent is no longer kept past its time.
            sim.advance(Duration::from_millis(1));
            assert_eq!(sim.tracked_intents(), 0);
        },
    );
}

#[test]
fn held_requests_do_not_block_other_requests() {
    in_both_styles(demo_sim, |sim, client| {
        let carol = client.connect("carol", "pw-c").account_id();
        let held = solve_in_background(sim, client.style, &carol, "in_app_validation");
        wait_until("the solve to be held", || sim.held_requests() == 1);
        let started = Instant::now();
        let bob = client.connect("bob", "pw-b").account_id();
        assert_eq!(client.solve(&bob, "123456").status, 201);
        assert_eq!(client.resend(&carol).status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(held.try_recv().is_err(), "carol is still held");
        sim.advance(Duration::from_secs(2));
        assert_eq!(held.recv_timeout(Duration::from_secs(5)).unwrap().status, 201);
    });
}

#[test]
fn a_second_in_app_solve_waits_for_the_same_approval() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("carol", "pw-c").account_id();
        let first = held_approval(sim, client.style, &id);
        sim.advance(Duration::from_millis(1000));
        let second = held_approval(sim, client.style, &id);
        // The approval comes 1500 ms after the first in-app solve, for both.
        sim.advance(Duration::from_millis(500));
        let a = first.recv_timeout(Duration::from_secs(5)).unwrap();
        let b = second.recv_timeout(Duration::from_secs(5)).unwrap();
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        // One connects; the other finds its checkpoint already answered.
        assert_eq!(statuses, [201, 400]);
    });
}

#[test]
fn real_clock_approves_in_app_after_approve_after_ms() {
    let fixture = Fixture::new().account(
        Account::new("quick", "pw").checkpoint(Checkpoint::in_app("2FA", Duration::from_millis(300))),
    );
    let sim = Simulator::builder()
        .api_key(KEY)
        .fixture(fixture)
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    let id = client.connect("quick", "pw").account_id();
    let started = Instant::now();
    let answer = client.solve(&id, "in_app_validation");
    let waited = started.elapsed();
    assert_eq!(answer.status, 201);
    assert!(waited >= Duration::from_millis(300), "answered after {waited:?}");
    assert!(waited < Duration::from_secs(3), "answered after {waited:?}");
}

#[test]
fn real_clock_expires_intents_and_advance_still_jumps_ahead() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .intent_ttl(Duration::from_millis(300))
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Unipile);
    let id = client.connect("bob", "pw-b").account_id();
    std::thread::sleep(Duration::from_millis(350));
    client
        .solve(&id, "123456")
        .assert_error(408, "errors/request_timeout");
    client
        .solve(&id, "123456")
        .assert_error(400, "errors/authentication_intent_error");

    let sim = Simulator::builder().api_key(KEY).start().unwrap();
    let client = Client::new(&sim, Style::Postpress);
    let id = client.connect("bob", "pw-b").account_id();
    let before = sim.now();
    sim.advance(Duration::from_secs(300));
    assert!(sim.now() >= before + Duration::from_secs(300));
    client
        .solve(&id, "123456")
        .assert_error(408, "errors/request_timeout");
}

#[test]
fn expired_intents_are_forgotten_after_the_grace_period() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .manual_clock()
        .forget_expired_after(Duration::from_secs(60))
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    let ids: Vec<String> = (0..10)
        .map(|_| client.connect("bob", "pw-b").account_id())
        .collect();
    assert_eq!((sim.pending_intents(), sim.tracked_intents()), (10, 10));
    sim.advance(Duration::from_secs(300));
    assert_eq!((sim.pending_intents(), sim.tracked_intents()), (0, 10));
    // Within the grace period the first request still learns of the timeout.
    client
        .solve(&ids[0], "123456")
        .assert_error(408, "errors/request_timeout");
    client
        .solve(&ids[0], "123456")
        .assert_error(400, "errors/authentication_intent_error");
    sim.advance(Duration::from_secs(60));
    assert_eq!(sim.tracked_intents(), 0);
    // Forgotten, whether it was answered 408 or not: unknown to the simulator.
    client
        .solve(&ids[0], "123456")
        .assert_error(400, "errors/invalid_parameters");
    client
        .solve(&ids[1], "123456")
        .assert_error(400, "errors/invalid_parameters");
}

#[test]
fn the_intent_cap_answers_429_instead_of_growing() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .manual_clock()
        .max_pending_intents(3)
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    for _ in 0..3 {
        assert_eq!(client.connect("bob", "pw-b").status, 202);
    }
    client
        .connect("bob", "pw-b")
        .assert_error(429, "errors/too_many_requests");
    // Accounts without checkpoints need no intent.
    assert_eq!(client.connect("alice", "pw-a").status, 201);
    assert_eq!(sim.tracked_intents(), 3);
}

/// Writes a solve request on an open socket without waiting for its answer.
fn send_solve(stream: &mut TcpStream, id: &str) {
    let body = json!({"provider":"MESSENGER","account_id":id,"code":"in_app_validation"}).to_string();
    write!(
        stream,
        "POST /api/v1/accounts/checkpoint HTTP/1.1\r\nhost: sim\r\nx-api-key: {KEY}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
}

#[test]
fn thousands_of_intents_and_a_thousand_concurrent_holds() {
    const INTENTS: usize = 2000;
    const HOLDS: usize = 1000;
    let sim = Simulator::builder()
        .api_key(KEY)
        .manual_clock()
        .forget_expired_after(Duration::ZERO)
        .request_log_capacity(100)
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    let started = Instant::now();
    for _ in 0..INTENTS {
        assert_eq!(client.connect("bob", "pw-b").status, 202);
    }
    let carols: Vec<String> = (0..HOLDS)
        .map(|_| client.connect("carol", "pw-c").account_id())
        .collect();
    assert_eq!(sim.pending_intents(), INTENTS + HOLDS);
    assert_eq!(sim.requests().len(), 100, "the log is bounded");

    let mut sockets: Vec<TcpStream> = carols
        .iter()
        .map(|id| {
            let mut stream = TcpStream::connect(sim.addr()).unwrap();
            send_solve(&mut stream, id);
            stream
        })
        .collect();
    wait_until("every solve to be held", || sim.held_requests() == HOLDS);
    // While hundreds are held, other requests are still answered at once.
    let quick = Instant::now();
    assert_eq!(client.connect("alice", "pw-a").status, 201);
    assert!(quick.elapsed() < Duration::from_secs(1));

    sim.advance(Duration::from_millis(1500));
    for stream in &mut sockets {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
        assert!(answer.contains(r#""object":"AccountCreated""#), "{answer}");
    }
    assert_eq!(sim.held_requests(), 0);
    assert_eq!(sim.pending_intents(), INTENTS);
    assert_eq!(sim.connected_accounts().len(), HOLDS + 1);

    sim.advance(Duration::from_secs(300));
    assert_eq!(sim.pending_intents(), 0);
    assert_eq!(sim.tracked_intents(), 0, "expired intents are forgotten");
    eprintln!("{INTENTS} intents and {HOLDS} holds in {:?}", started.elapsed());
}

//! `Idempotency-Key` (point 3) and answers lost after the simulator acted (point 4), over
//! raw HTTP in both path styles: a retry with the same key gets the original answer, byte
//! for byte, without acting again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use auth_sim::{Account, Checkpoint, Fault, FaultTarget, Fixture, Simulator};
use common::{Answer, Client, KEY, Style, demo_sim, in_both_styles, raw_post_with, sim_with, wait_until};
use serde_json::{Value, json};

fn connect_body(user: &str, pw: &str) -> Value {
    json!({"provider":"MESSENGER","username":user,"password":pw})
}

fn solve_body(id: &str, code: &str) -> Value {
    json!({"provider":"MESSENGER","account_id":id,"code":code})
}

/// The same answer: status, body byte for byte, request id; the replay says it is one.
#[track_caller]
fn assert_replay_of(replay: &Answer, original: &Answer) {
    assert_eq!(replay.status, original.status);
    assert_eq!(replay.text, original.text, "byte for byte");
    assert_eq!(replay.request_id(), original.request_id());
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(original.header("idempotent-replayed"), None);
    assert_eq!(replay.header("content-type"), Some("application/json"));
}

#[test]
fn a_retry_with_the_same_key_gets_the_original_answer_without_acting_again() {
    in_both_styles(demo_sim, |sim, client| {
        // A connect that started an intent.
        let first = client.post_idempotent("/accounts", "k-connect", &connect_body("bob", "pw-b"));
        assert_eq!(first.status, 202);
        let again = client.post_idempotent("/accounts", "k-connect", &connect_body("bob", "pw-b"));
        assert_replay_of(&again, &first);
        assert_eq!(
            (sim.pending_intents(), sim.tracked_intents()),
            (1, 1),
            "no second intent"
        );
        let id = first.account_id();

        // A wrong code: the 401 is replayed too, request id and all.
        let wrong = client.post_idempotent("/accounts/checkpoint", "k-wrong", &solve_body(&id, "000000"));
        wrong.assert_error(401, "errors/invalid_checkpoint_solution");
        let wrong_again =
            client.post_idempotent("/accounts/checkpoint", "k-wrong", &solve_body(&id, "000000"));
        assert_replay_of(&wrong_again, &wrong);

        // The solve that connected: a retry is the same 201, not "no intent runs".
        let done = client.post_idempotent("/accounts/checkpoint", "k-solve", &solve_body(&id, "123456"));
        assert_eq!(done.status, 201);
        let done_again =
            client.post_idempotent("/accounts/checkpoint", "k-solve", &solve_body(&id, "123456"));
        assert_replay_of(&done_again, &done);
        assert_eq!(sim.connected_accounts().len(), 1);
        // Without the key the same request is acted on: the intent is over.
        client
            .solve(&id, "123456")
            .assert_error(400, "errors/invalid_parameters");
        // Another key is another request.
        let other = client.post_idempotent("/accounts", "k-other", &connect_body("bob", "pw-b"));
        assert_ne!(other.account_id(), id);
        assert_eq!(sim.idempotency_records(), 4);
    });
}

#[test]
fn the_same_key_with_another_request_answers_409() {
    in_both_styles(demo_sim, |sim, client| {
        let first = client.post_idempotent("/accounts", "k", &connect_body("alice", "pw-a"));
        assert_eq!(first.status, 201);
        let conflict = client.post_idempotent("/accounts", "k", &connect_body("bob", "pw-b"));
        conflict.assert_error(409, "errors/idempotency_conflict");
        assert_ne!(conflict.request_id(), first.request_id());
        // The same body on another endpoint is another request too.
        let elsewhere = client.post_idempotent(
            &format!("/accounts/{}", first.account_id()),
            "k",
            &connect_body("alice", "pw-a"),
        );
        elsewhere.assert_error(409, "errors/idempotency_conflict");
        assert_eq!(sim.connected_accounts().len(), 1);
        assert_eq!(sim.pending_intents(), 0);
        // The first answer is still the key's.
        let replay = client.post_idempotent("/accounts", "k", &connect_body("alice", "pw-a"));
        assert_replay_of(&replay, &first);
    });
}

#[test]
fn keys_are_per_api_key_and_both_path_styles_share_them() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .api_key("second-key")
        .manual_clock()
        .start()
        .unwrap();
    let postpress = Client::new(&sim, Style::Postpress);
    let unipile = Client::new(&sim, Style::Unipile);
    let second = Client::new(&sim, Style::Postpress).with_bearer("second-key");
    let a = postpress.post_idempotent("/accounts", "shared", &connect_body("alice", "pw-a"));
    // The same endpoint in the other path style is the same request: replayed.
    let b = unipile.post_idempotent("/accounts", "shared", &connect_body("alice", "pw-a"));
    assert_replay_of(&b, &a);
    // The same Idempotency-Key under another API key is another record.
    let c = second.post_idempotent("/accounts", "shared", &connect_body("alice", "pw-a"));
    assert_eq!(c.status, 201);
    assert_ne!(c.account_id(), a.account_id());
    assert_eq!(c.header("idempotent-replayed"), None);
    assert_eq!(sim.connected_accounts().len(), 2);
}

/// Sends a connect with raw bytes for the API key and the `Idempotency-Key` (header values
/// may hold any byte but control characters) and reads the whole answer.
fn connect_with_raw_keys(sim: &Simulator, api_key: &[u8], idempotency_key: &[u8]) -> String {
    use std::io::{Read, Write};
    let body = connect_body("alice", "pw-a").to_string();
    let mut request = b"POST /v1/accounts HTTP/1.1\r\nhost: sim\r\nconnection: close\r\nx-api-key: ".to_vec();
    request.extend_from_slice(api_key);
    request.extend_from_slice(b"\r\nidempotency-key: ");
    request.extend_from_slice(idempotency_key);
    request.extend_from_slice(
        format!(
            "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let mut stream = std::net::TcpStream::connect(sim.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn two_api_keys_never_share_a_record_whatever_bytes_their_keys_hold() {
    // Any key is accepted (none declared): `key\xff` + `x` and `key` + `\xffx` are two
    // requests from two API keys, though their concatenations are the same bytes.
    let sim = Simulator::builder().manual_clock().start().unwrap();
    let first = connect_with_raw_keys(&sim, b"key\xff", b"x");
    let second = connect_with_raw_keys(&sim, b"key", b"\xffx");
    assert!(first.starts_with("HTTP/1.1 201"), "{first}");
    assert!(second.starts_with("HTTP/1.1 201"), "{second}");
    assert!(!second.contains("idempotent-replayed"), "{second}");
    assert_eq!(sim.connected_accounts().len(), 2);
}

#[test]
fn records_live_for_the_intent_lifetime_and_grace_then_are_forgotten() {
    // Default TTL 300 s and grace 600 s: a record lives 900 s from its answer.
    in_both_styles(demo_sim, |sim, client| {
        let first = client.post_idempotent("/accounts", "k", &connect_body("alice", "pw-a"));
        sim.advance(Duration::from_millis(899_999));
        let replay = client.post_idempotent("/accounts", "k", &connect_body("alice", "pw-a"));
        assert_replay_of(&replay, &first);
        assert_eq!(sim.idempotency_records(), 1);
        sim.advance(Duration::from_millis(1));
        assert_eq!(sim.idempotency_records(), 0, "forgotten");
        let anew = client.post_idempotent("/accounts", "k", &connect_body("alice", "pw-a"));
        assert_eq!(anew.status, 201);
        assert_ne!(anew.account_id(), first.account_id(), "acted on again");
        assert_eq!(sim.connected_accounts().len(), 2);
    });
}

#[test]
fn the_number_of_records_is_capped_oldest_first() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .max_idempotency_records(3)
        .manual_clock()
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    let ids: Vec<String> = (0..5)
        .map(|i| {
            client
                .post_idempotent("/accounts", &format!("k{i}"), &connect_body("alice", "pw-a"))
                .account_id()
        })
        .collect();
    assert_eq!(sim.idempotency_records(), 3);
    let newest = client.post_idempotent("/accounts", "k4", &connect_body("alice", "pw-a"));
    assert_eq!(newest.account_id(), ids[4]);
    let oldest = client.post_idempotent("/accounts", "k0", &connect_body("alice", "pw-a"));
    assert_ne!(oldest.account_id(), ids[0], "forgotten, so acted on again");
}

#[test]
fn refused_requests_and_failures_are_not_recorded() {
    let fixture =
        Fixture::demo().account(Account::new("flaky", "pw").fault(Fault::new().force_status(503).times(1)));
    in_both_styles(
        || sim_with(fixture.clone()),
        |sim, client| {
            // A body refused by validation acted on nothing: the key is still free.
            let bad = client.post_with("/accounts", &[("idempotency-key", "k1")], "{not json");
            bad.assert_error(400, "errors/malformed_request");
            let good = client.post_idempotent("/accounts", "k1", &connect_body("alice", "pw-a"));
            assert_eq!(good.status, 201);
            // A 5xx says the request may not have been acted on: the retry is.
            client
                .post_idempotent("/accounts", "k2", &connect_body("flaky", "pw"))
                .assert_error(503, "errors/service_unavailable");
            let retried = client.post_idempotent("/accounts", "k2", &connect_body("flaky", "pw"));
            assert_eq!(retried.status, 201);
            assert_eq!(retried.header("idempotent-replayed"), None);
            // An unusable key is refused before anything is done.
            let long = "x".repeat(256);
            client
                .post_idempotent("/accounts", &long, &connect_body("alice", "pw-a"))
                .assert_error(400, "errors/invalid_parameters");
            assert_eq!(sim.connected_accounts().len(), 2);
            assert_eq!(sim.idempotency_records(), 2);
        },
    );
}

fn idempotent_solve_in_background(
    sim: &Simulator,
    style: Style,
    key: &str,
    body: Value,
) -> mpsc::Receiver<Answer> {
    let client = Client::new(sim, style);
    let key = key.to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client.post_idempotent("/accounts/checkpoint", &key, &body));
    });
    rx
}

#[test]
fn a_retry_of_a_held_request_waits_for_the_same_answer() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("carol", "pw-c").account_id();
        let body = solve_body(&id, "in_app_validation");
        let first = idempotent_solve_in_background(sim, client.style, "k-in-app", body.clone());
        wait_until("the solve to be held", || sim.held_requests() == 1);
        // The client gave up waiting and retries with the same key.
        let retry = idempotent_solve_in_background(sim, client.style, "k-in-app", body.clone());
        wait_until("the retry to arrive", || sim.requests().len() == 3);
        // Not a second hold (which would answer 400 once the first connects): a wait.
        assert_eq!(sim.held_requests(), 1);
        // Meanwhile the same key with another body is a conflict, at once.
        client
            .post_idempotent("/accounts/checkpoint", "k-in-app", &solve_body(&id, "123456"))
            .assert_error(409, "errors/idempotency_conflict");
        assert!(retry.try_recv().is_err() && first.try_recv().is_err());
        sim.advance(Duration::from_millis(1500));
        let a = first
            .recv_timeout(Duration::from_secs(5))
            .expect("the first is answered");
        let b = retry
            .recv_timeout(Duration::from_secs(5))
            .expect("the retry is answered");
        assert_eq!(a.status, 201);
        assert_replay_of(&b, &a);
        assert_eq!(sim.connected_accounts().len(), 1);
    });
}

// ----- point 4: answers lost after acting ----------------------------------------------

const LOST_CONNECT: &str = r#"{"provider":"MESSENGER","username":"lost","password":"pw"}"#;

#[test]
fn a_lost_connect_answer_created_the_intent_and_a_retry_gets_it() {
    let fixture = Fixture::new().account(
        Account::new("lost", "pw")
            .fault(Fault::new().lose_answer().times(1))
            .checkpoint(Checkpoint::new("2FA", "1")),
    );
    for prefix in ["/v1", "/api/v1"] {
        let sim = sim_with(fixture.clone());
        let path = format!("{prefix}/accounts");
        let key = [("idempotency-key", "k-lost")];
        let lost = raw_post_with(sim.addr(), &path, &key, LOST_CONNECT);
        assert!(
            lost.bytes.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&lost.bytes)
        );
        // The simulator acted: the intent runs, though the client never heard of it.
        assert_eq!(sim.pending_intents(), 1);
        let retry = raw_post_with(sim.addr(), &path, &key, LOST_CONNECT);
        assert_eq!(retry.status(), Some(202));
        assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
        let body: Value = serde_json::from_slice(&retry.body).unwrap();
        assert_eq!(body["checkpoint"]["type"], "2FA");
        assert_eq!(sim.pending_intents(), 1, "the same intent, not a second one");
        // And it is solvable.
        let client = Client::new(&sim, Style::Postpress);
        assert_eq!(
            client.solve(body["account_id"].as_str().unwrap(), "1").status,
            201
        );
    }
}

#[test]
fn without_a_key_a_retry_after_a_lost_answer_starts_a_second_intent() {
    let fixture = Fixture::new().account(
        Account::new("lost", "pw")
            .fault(Fault::new().lose_answer().times(1))
            .checkpoint(Checkpoint::new("2FA", "1")),
    );
    let sim = sim_with(fixture);
    assert!(
        raw_post_with(sim.addr(), "/v1/accounts", &[], LOST_CONNECT)
            .bytes
            .is_empty()
    );
    assert_eq!(
        raw_post_with(sim.addr(), "/v1/accounts", &[], LOST_CONNECT).status(),
        Some(202)
    );
    assert_eq!(sim.pending_intents(), 2);
}

#[test]
fn a_lost_solve_answer_connected_the_account_and_a_retry_gets_the_201() {
    let fixture = Fixture::new().account(Account::new("lost", "pw").checkpoint(
        Checkpoint::new("2FA", "1").fault(Fault::new().lose_answer().on(FaultTarget::Solve).times(1)),
    ));
    in_both_styles(
        || sim_with(fixture.clone()),
        |sim, client| {
            let id = client.connect("lost", "pw").account_id();
            let path = format!("{}/accounts/checkpoint", client.style.prefix());
            let key = [("idempotency-key", "k-solve")];
            let body = solve_body(&id, "1").to_string();
            assert!(raw_post_with(sim.addr(), &path, &key, &body).bytes.is_empty());
            assert_eq!(sim.connected_accounts().len(), 1, "connected, unheard");
            let retry = raw_post_with(sim.addr(), &path, &key, &body);
            assert_eq!(retry.status(), Some(201));
            let answer: Value = serde_json::from_slice(&retry.body).unwrap();
            assert_eq!(answer, json!({"object":"AccountCreated","account_id":id}));
        },
    );
}

#[test]
fn a_lost_resend_answer_was_resent_and_a_retry_gets_it() {
    let fixture = Fixture::new().account(Account::new("lost", "pw").checkpoint(
        Checkpoint::new("2FA", "1").fault(Fault::new().lose_answer().on(FaultTarget::Resend).times(1)),
    ));
    in_both_styles(
        || sim_with(fixture.clone()),
        |sim, client| {
            let id = client.connect("lost", "pw").account_id();
            let path = format!("{}/accounts/checkpoint/resend", client.style.prefix());
            let key = [("idempotency-key", "k-resend")];
            let body = json!({"provider":"MESSENGER","account_id":id}).to_string();
            assert!(raw_post_with(sim.addr(), &path, &key, &body).bytes.is_empty());
            let retry = raw_post_with(sim.addr(), &path, &key, &body);
            assert_eq!(retry.status(), Some(200));
            let answer: Value = serde_json::from_slice(&retry.body).unwrap();
            assert_eq!(
                answer,
                json!({"object":"CheckpointResend","account_id":id,"success":true})
            );
            // The fault was on resend only: the solve works.
            assert_eq!(client.solve(&id, "1").status, 201);
            assert_eq!(sim.connected_accounts().len(), 1);
        },
    );
}

#[test]
fn a_lost_answer_of_an_account_without_checkpoint_still_connected_it() {
    let fixture = Fixture::new().account(Account::new("lost", "pw").fault(Fault::new().lose_answer()));
    let sim = sim_with(fixture);
    for prefix in ["/v1", "/api/v1"] {
        let path = format!("{prefix}/accounts");
        assert!(
            raw_post_with(sim.addr(), &path, &[], LOST_CONNECT)
                .bytes
                .is_empty()
        );
    }
    assert_eq!(sim.connected_accounts().len(), 2);
}

#[test]
fn a_held_request_whose_client_went_away_frees_its_key() {
    use std::io::Write;
    let sim = demo_sim();
    let client = Client::new(&sim, Style::Postpress);
    let id = client.connect("carol", "pw-c").account_id();
    let body = solve_body(&id, "in_app_validation").to_string();
    let mut stream = std::net::TcpStream::connect(sim.addr()).unwrap();
    write!(
        stream,
        "POST /v1/accounts/checkpoint HTTP/1.1\r\nhost: sim\r\nx-api-key: {KEY}\r\nidempotency-key: k-gone\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    wait_until("the solve to be held", || sim.held_requests() == 1);
    drop(stream);
    wait_until("the abandoned hold to end", || sim.held_requests() == 0);
    // The key is free: the retry is acted on (held anew), then answered.
    let retry = idempotent_solve_in_background(
        &sim,
        Style::Postpress,
        "k-gone",
        solve_body(&id, "in_app_validation"),
    );
    wait_until("the retry to be held", || sim.held_requests() == 1);
    sim.advance(Duration::from_millis(1500));
    let answer = retry.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(answer.status, 201);
    assert_eq!(answer.header("idempotent-replayed"), None);
}

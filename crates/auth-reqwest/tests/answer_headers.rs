//! An answer's headers reach whoever can see the answer: the `on_exchange` observer, and
//! the caller of `Client::transport()`. (Without an observer the client keeps only those
//! the core reads, `retry-after` and `x-request-id`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::{Arc, Mutex};

use auth_core::{Command, Credentials, Flow, Input, Output};
use auth_reqwest::{Client, Connection};
use auth_sim::{Fixture, Simulator};

const KEY: &str = "answer-headers-key";

fn sim() -> Simulator {
    Simulator::builder()
        .api_key(KEY)
        .fixture(Fixture::demo())
        .start()
        .unwrap()
}

fn content_type(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.as_str())
}

#[tokio::test]
async fn the_observer_sees_every_answers_headers() {
    let sim = sim();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key(KEY)
        .on_exchange(move |exchange| {
            let answer = exchange.outcome.expect("an answer");
            log.lock().unwrap().push(answer.headers.clone());
        })
        .build()
        .unwrap();
    let Connection::Pending(mut intent) = client.connect_messenger("bob", "pw-b").await.unwrap() else {
        panic!("bob has a checkpoint");
    };
    intent.solve_code_checkpoint("123456").await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for headers in seen.iter() {
        assert_eq!(content_type(headers), Some("application/json"), "{headers:?}");
    }
}

#[tokio::test]
async fn the_raw_transport_fills_the_answers_headers() {
    let sim = sim();
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key(KEY)
        .build()
        .unwrap();
    let mut flow = Flow::new(client.config().clone());
    let connect = Command::Connect(Credentials::messenger("alice", "pw-a"));
    let input = Input::command(connect, auth_reqwest::new_idempotency_key().unwrap());
    let Output::Send(request) = flow.handle(client.now(), input) else {
        panic!("a connect sends a request");
    };
    let answer = client.transport().execute(&request).await.unwrap();
    assert_eq!(answer.status, 201);
    assert_eq!(content_type(&answer.headers), Some("application/json"));
}

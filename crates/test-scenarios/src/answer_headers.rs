//! An answer's headers reach whoever can see the answer: the `on_exchange` observer, and
//! the caller of `Client::transport()`. (Without an observer the client keeps only those
//! the core reads, `retry-after` and `x-request-id`.)

use std::sync::{Arc, Mutex};

use auth_client::new_idempotency_key;
use auth_core::{Command, Credentials, Flow, Input, Output};
use auth_sim::{Fixture, Simulator};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver, IntentUnderTest};
use crate::support::pending;

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

/// The observer sees every answer's headers.
pub fn the_observer_sees_every_answers_headers<D: Driver>() {
    let sim = sim();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let client = D::builder()
        .base_url(sim.base_url())
        .api_key(KEY)
        .on_exchange(move |exchange| {
            let answer = exchange.outcome.expect("an answer");
            log.lock().unwrap().push(answer.headers.clone());
        })
        .build()
        .unwrap();
    let mut intent = pending::<D>(&client, "bob", "pw-b");
    intent.solve_code_checkpoint("123456").unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for headers in seen.iter() {
        assert_eq!(content_type(headers), Some("application/json"), "{headers:?}");
    }
}

/// The raw transport (`Client::transport`) fills the answer's headers.
pub fn the_raw_transport_fills_the_answers_headers<D: Driver>() {
    let sim = sim();
    let client = D::builder()
        .base_url(sim.base_url())
        .api_key(KEY)
        .build()
        .unwrap();
    let mut flow = Flow::new(client.config().clone());
    let connect = Command::Connect(Credentials::messenger("alice", "pw-a"));
    let input = Input::command(connect, new_idempotency_key().unwrap());
    let Output::Send(request) = flow.handle(client.now(), input) else {
        panic!("a connect sends a request");
    };
    let answer = client.execute(&request).unwrap();
    assert_eq!(answer.status, 201);
    assert_eq!(content_type(&answer.headers), Some("application/json"));
}

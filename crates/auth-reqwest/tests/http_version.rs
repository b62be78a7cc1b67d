//! The client's HTTP versions against the simulator, which speaks both: with HTTP/2 every
//! request in flight shares one connection (many held in-app validations cost a stream
//! each), with HTTP/1.1 each held request has its own; and a lost answer is recovered the
//! same way over either.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use auth_reqwest::{Client, Connection, HttpVersion, Solved};
use auth_sim::{Account, Checkpoint as SimCheckpoint, Fault, FaultTarget, Fixture, Simulator};
use support::*;

/// How many in-app validations are held at once.
const FLOWS: usize = 24;

/// The in-app approval, on the simulator's manual clock.
const APPROVAL: Duration = Duration::from_secs(5);

fn username(i: usize) -> String {
    format!("user-{i}")
}

fn held_fixture() -> Fixture {
    (0..FLOWS).fold(Fixture::new(), |fixture, i| {
        fixture.account(
            Account::new(username(i), "pw").checkpoint(SimCheckpoint::in_app("IN_APP_VALIDATION", APPROVAL)),
        )
    })
}

fn held_sim() -> Simulator {
    start_sim(held_fixture())
}

fn client(sim: &Simulator, version: HttpVersion) -> Client {
    builder(sim, Style::Postpress)
        .http_version(version)
        .clock(ManualClock::new())
        .build()
        .unwrap()
}

/// One task per account: connect, then solve in the app; each gives the account id.
fn spawn_flows(client: &Client) -> Vec<tokio::task::JoinHandle<String>> {
    (0..FLOWS)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut intent = match client
                    .connect_messenger(username(i), "pw".to_owned())
                    .await
                    .unwrap()
                {
                    Connection::Pending(intent) => intent,
                    other => panic!("expected a pending intent, got {other:?}"),
                };
                match intent.solve_in_app().await.unwrap() {
                    Solved::Connected { account_id } => account_id.as_str().to_owned(),
                    other => panic!("expected Connected, got {other:?}"),
                }
            })
        })
        .collect()
}

/// The account ids the flows gave, one per flow.
async fn join(flows: Vec<tokio::task::JoinHandle<String>>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for flow in flows {
        ids.insert(flow.await.unwrap());
    }
    ids
}

/// Connects every account, holds every in-app solve at the simulator, approves them all,
/// and returns the account ids the client got, one per flow.
async fn hold_and_approve(sim: &Simulator, client: &Client) -> BTreeSet<String> {
    let flows = spawn_flows(client);
    wait_until("every in-app solve held", || sim.held_requests() == FLOWS).await;
    sim.advance(APPROVAL);
    join(flows).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http2_every_held_flow_shares_one_connection() {
    let sim = held_sim();
    let client = client(&sim, HttpVersion::Http2Only);
    let ids = hold_and_approve(&sim, &client).await;
    assert_eq!(ids.len(), FLOWS, "every flow connected with its own account id");
    assert_eq!(sim.connected_accounts().len(), FLOWS);
    let connections: BTreeSet<u64> = sim.requests().iter().map(|r| r.connection).collect();
    assert_eq!(
        connections.len(),
        1,
        "all {} requests on one connection",
        sim.requests().len()
    );
    assert_eq!(sim.connections_accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_servers_stream_limit_the_rest_wait_on_the_same_connection() {
    const LIMIT: usize = 8;
    let sim = Simulator::builder()
        .api_key(auth_test_scenarios::support::API_KEY)
        .fixture(held_fixture())
        .manual_clock()
        .max_streams_per_connection(u32::try_from(LIMIT).unwrap())
        .start()
        .unwrap();
    let client = client(&sim, HttpVersion::Http2Only);
    let flows = spawn_flows(&client);
    // The in-app solves are held LIMIT at a time: the others wait for a stream, on the
    // client's side of the one connection, and are sent as the held ones are approved.
    for round in 0..FLOWS / LIMIT {
        wait_until("a round of held solves", || sim.held_requests() == LIMIT).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            sim.held_requests(),
            LIMIT,
            "round {round}: no more than the limit held"
        );
        sim.advance(APPROVAL);
        wait_until("the round approved", || {
            sim.connected_accounts().len() == (round + 1) * LIMIT
        })
        .await;
    }
    let ids = join(flows).await;
    assert_eq!(ids.len(), FLOWS);
    assert_eq!(sim.connections_accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http1_each_held_flow_has_its_own_connection() {
    let sim = held_sim();
    let client = client(&sim, HttpVersion::Http1Only);
    let ids = hold_and_approve(&sim, &client).await;
    assert_eq!(ids.len(), FLOWS);
    // Every held solve kept a connection of its own until it was approved.
    assert!(
        sim.connections_accepted() >= u64::try_from(FLOWS).unwrap(),
        "{} connections for {FLOWS} held solves",
        sim.connections_accepted()
    );
}

#[tokio::test]
async fn the_default_is_http1_and_plain_http_stays_http1_when_http2_is_only_preferred() {
    let sim = held_sim();
    for version in [HttpVersion::default(), HttpVersion::PreferHttp2] {
        let before = sim.connections_accepted();
        let ids = hold_and_approve(&sim, &client(&sim, version)).await;
        assert_eq!(ids.len(), FLOWS);
        assert!(
            sim.connections_accepted() - before >= u64::try_from(FLOWS).unwrap(),
            "{version:?}: HTTP/1.1 holds a connection per held solve"
        );
    }
}

#[tokio::test]
async fn over_http2_a_lost_answer_is_recovered_by_its_replay() {
    // The simulator connects the account, then resets the stream without answering (on
    // HTTP/2 a failed answer ends its stream, not the connection); the client sends the
    // solve again with the same key and gets the original 201.
    let sim = start_sim(Fixture::new().account(Account::new("erin", "pw-e").checkpoint(
        SimCheckpoint::new("2FA", "123456").fault(Fault::new().lose_answer().on(FaultTarget::Solve).times(1)),
    )));
    let client = client(&sim, HttpVersion::Http2Only);
    let mut intent = match client.connect_messenger("erin", "pw-e").await.unwrap() {
        Connection::Pending(intent) => intent,
        other => panic!("expected a pending intent, got {other:?}"),
    };
    let account_id = match intent.solve_code_checkpoint("123456").await.unwrap() {
        Solved::Connected { account_id } => account_id,
        other => panic!("expected Connected, got {other:?}"),
    };
    assert_eq!(sim.connected_accounts().len(), 1);
    assert_eq!(sim.connected_accounts()[0].account_id, account_id.as_str());
    let solves: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/checkpoint"))
        .collect();
    assert_eq!(solves.len(), 2, "the solve and its replay");
    let key = |r: &auth_sim::LoggedRequest| r.header("idempotency-key").map(str::to_owned);
    assert_eq!(key(&solves[0]), key(&solves[1]));
    assert!(key(&solves[0]).is_some());
    assert_eq!(
        sim.connections_accepted(),
        1,
        "the reset stream did not cost the connection"
    );
}

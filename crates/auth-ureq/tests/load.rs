//! Load without loss: many concurrent clients, each connecting its own account through a
//! 2FA checkpoint against one simulator, and pending intents that expire being forgotten.
//!
//! Bounded on purpose (200 clients × 20 flows on loopback, a few seconds): it proves that
//! nothing is crossed or lost under concurrency, not how fast it goes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use auth_sim::{Account, Checkpoint as SimCheckpoint, Fixture, Simulator};
use auth_test_scenarios::support::{API_KEY, ManualClock};
use auth_ureq::{AccountId, Client, Connection, Detection, Error, PendingIntent, Solved};

const CLIENTS: usize = 200;
const FLOWS: usize = 20;

fn username(client: usize) -> String {
    format!("load-user-{client:03}")
}

fn password(client: usize) -> String {
    format!("load-pw-{client:03}")
}

/// Every account has its own code, so that a code of another account is a wrong code.
fn code(client: usize) -> String {
    format!("{:06}", 700_000 + client * 13)
}

/// `CLIENTS` accounts, each with one 2FA checkpoint and its own username, password and code.
fn fixture() -> Fixture {
    (0..CLIENTS).fold(Fixture::new(), |fixture, i| {
        fixture.account(Account::new(username(i), password(i)).checkpoint(SimCheckpoint::new("2FA", code(i))))
    })
}

fn start_sim(forget_after: Duration) -> Simulator {
    Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture())
        .manual_clock()
        .forget_expired_after(forget_after)
        .request_log_capacity(20_000)
        .start()
        .unwrap()
}

fn pending(client: &Client, i: usize) -> PendingIntent {
    match client.connect_messenger(username(i), password(i)).unwrap() {
        Connection::Pending(intent) => intent,
        other => panic!("client {i}: expected a checkpoint, got {other:?}"),
    }
}

/// The resident set size of this process, for the report only: the allocator need not
/// give memory back to the system, so it is never asserted.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn two_hundred_clients_connect_their_own_accounts_through_a_checkpoint_none_crossed_or_lost() {
    let sim = start_sim(Duration::from_secs(600));
    let started = Instant::now();
    let per_client: Vec<Vec<AccountId>> = std::thread::scope(|scope| {
        let sim = &sim;
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                scope.spawn(move || {
                    let client = Client::builder()
                        .base_url(sim.base_url())
                        .api_key(API_KEY)
                        .build()
                        .unwrap();
                    let mut ids = Vec::with_capacity(FLOWS);
                    for flow in 0..FLOWS {
                        let mut intent = pending(&client, i);
                        let issued = intent.account_id().clone();
                        if flow % 5 == 0 {
                            // Another account's code: this intent refuses it, and stays pending.
                            let error = intent.solve_code_checkpoint(code((i + 1) % CLIENTS)).unwrap_err();
                            assert!(
                                error.api_error().is_some_and(|api| api.is_wrong_code()),
                                "client {i}: {error:?}"
                            );
                            assert!(intent.is_pending());
                        }
                        match intent.solve_code_checkpoint(code(i)).unwrap() {
                            Solved::Connected { account_id } => {
                                assert_eq!(
                                    account_id, issued,
                                    "client {i}, flow {flow}: another account's id"
                                )
                            }
                            other => panic!("client {i}, flow {flow}: {other:?}"),
                        }
                        assert!(!intent.is_pending());
                        ids.push(issued);
                    }
                    ids
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    // Every flow ended connected, each with an id of its own.
    assert_eq!(per_client.len(), CLIENTS);
    let all: HashSet<&AccountId> = per_client.iter().flatten().collect();
    assert!(per_client.iter().all(|ids| ids.len() == FLOWS));
    assert_eq!(all.len(), CLIENTS * FLOWS, "an account id was handed out twice");

    // The simulator connected exactly those accounts, each for the client's own username.
    let connected: HashMap<String, String> = sim
        .connected_accounts()
        .into_iter()
        .map(|account| (account.account_id, account.username))
        .collect();
    assert_eq!(connected.len(), CLIENTS * FLOWS, "a flow was lost or doubled");
    for (i, ids) in per_client.iter().enumerate() {
        for id in ids {
            assert_eq!(connected.get(id.as_str()), Some(&username(i)), "{id} crossed");
        }
    }
    // Nothing left running or remembered on the server's side.
    assert_eq!(sim.pending_intents(), 0);
    assert_eq!(sim.tracked_intents(), 0);
    // One request per connect and per solve, plus the wrong codes.
    let wrong_codes = CLIENTS * FLOWS.div_ceil(5);
    assert_eq!(sim.requests().len(), CLIENTS * FLOWS * 2 + wrong_codes);
    eprintln!(
        "{} flows ({} requests) by {CLIENTS} concurrent clients in {elapsed:?}",
        CLIENTS * FLOWS,
        sim.requests().len()
    );
}

#[test]
fn expired_pending_intents_are_forgotten_and_the_simulators_memory_returns_to_its_baseline() {
    const PER_CLIENT: usize = 10;
    let ttl = Duration::from_secs(300);
    let forget_after = Duration::from_secs(60);
    let sim = start_sim(forget_after);
    let clock = ManualClock::new();
    assert_eq!(sim.tracked_intents(), 0, "the baseline");
    let rss_before = rss_kib();

    // Many clients, each leaving intents pending (a user who never types the code).
    let intents: Vec<PendingIntent> = std::thread::scope(|scope| {
        let (sim, clock) = (&sim, &clock);
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                scope.spawn(move || {
                    let client = Client::builder()
                        .base_url(sim.base_url())
                        .api_key(API_KEY)
                        .intent_ttl(ttl)
                        .clock(clock.clone())
                        .build()
                        .unwrap();
                    (0..PER_CLIENT).map(|_| pending(&client, i)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    let total = CLIENTS * PER_CLIENT;
    assert_eq!(intents.len(), total);
    assert_eq!(sim.pending_intents(), total);
    assert_eq!(sim.tracked_intents(), total);
    let rss_loaded = rss_kib();

    // The lifetime passes on both clocks.
    sim.advance(ttl);
    clock.advance(ttl);
    assert_eq!(sim.pending_intents(), 0, "every intent expired on the server");
    assert_eq!(
        sim.tracked_intents(),
        total,
        "kept for the 408-then-400 grace period"
    );
    // The client knows it too, without asking: nothing is sent for an expired intent.
    let requests = sim.requests().len();
    for mut intent in intents {
        assert!(!intent.is_pending());
        match intent.solve_code_checkpoint("000000") {
            Err(Error::IntentExpired(expired)) => assert_eq!(expired.detected_by, Detection::Deadline),
            other => panic!("expected an expiry, got {other:?}"),
        }
    }
    assert_eq!(sim.requests().len(), requests, "an expired intent sent a request");

    // Past the grace period, every intent is forgotten: back to the baseline.
    sim.advance(forget_after - Duration::from_millis(1));
    assert_eq!(sim.tracked_intents(), total, "forgotten too early");
    sim.advance(Duration::from_millis(1));
    assert_eq!(sim.tracked_intents(), 0, "expired intents were not forgotten");
    // And the simulator still serves: a new intent is tracked, then connected.
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key(API_KEY)
        .build()
        .unwrap();
    let mut intent = pending(&client, 0);
    assert_eq!(sim.tracked_intents(), 1);
    assert!(matches!(
        intent.solve_code_checkpoint(code(0)).unwrap(),
        Solved::Connected { .. }
    ));
    assert_eq!(sim.tracked_intents(), 0);
    eprintln!(
        "RSS (report only, not asserted): {rss_before:?} KiB at start, {rss_loaded:?} KiB with {total} \
         intents pending, {:?} KiB after they were forgotten",
        rss_kib()
    );
}

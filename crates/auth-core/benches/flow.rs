//! One complete 2FA flow through the machine (connect request built, 202 read, solve
//! request built, 201 read) beside a baseline that does only the serde_json work on the
//! same bodies, with the same typed structs a hand-written client would use.
//!
//! Run: `cargo bench -p auth-core --bench flow`. The goal is a ratio of at most 1.5.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;

use auth_core::{Answer, Command, Config, Credentials, Flow, Solution, UnixMillis};
use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};

const CHECKPOINT: &[u8] = br#"{"object":"Checkpoint","account_id":"098dez89d","checkpoint":{"type":"2FA"}}"#;
const CREATED: &[u8] = br#"{"object":"AccountCreated","account_id":"098dez89d"}"#;

#[derive(Serialize)]
struct ConnectBody<'a> {
    provider: &'a str,
    username: &'a str,
    password: &'a str,
}

#[derive(Serialize)]
struct SolveBody<'a> {
    provider: &'a str,
    account_id: &'a str,
    code: &'a str,
}

#[derive(Deserialize)]
struct Checkpoint {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Reply {
    object: String,
    account_id: String,
    checkpoint: Option<Checkpoint>,
}

/// The bare serde_json work of one flow.
fn baseline() -> String {
    let connect = serde_json::to_vec(&ConnectBody {
        provider: "MESSENGER",
        username: "bob",
        password: "pw-b",
    })
    .unwrap();
    black_box(connect);
    let checkpoint: Reply = serde_json::from_slice(CHECKPOINT).unwrap();
    assert_eq!(checkpoint.object, "Checkpoint");
    assert_eq!(checkpoint.checkpoint.unwrap().kind, "2FA");
    let solve = serde_json::to_vec(&SolveBody {
        provider: "MESSENGER",
        account_id: &checkpoint.account_id,
        code: "123456",
    })
    .unwrap();
    black_box(solve);
    let created: Reply = serde_json::from_slice(CREATED).unwrap();
    assert_eq!(created.object, "AccountCreated");
    created.account_id
}

/// The same flow through the machine. The answers are built once, outside: they are what
/// a transport hands over, and the baseline reads the same bytes in place.
fn machine(config: &Config, checkpoint: &Answer, created: &Answer) -> Flow {
    let mut flow = Flow::new(config.clone());
    let connect = flow
        .begin(
            UnixMillis::from_millis(1_000),
            Command::Connect(Credentials::messenger("bob", "pw-b")),
        )
        .unwrap();
    black_box(connect);
    flow.handle_answer(UnixMillis::from_millis(1_200), checkpoint)
        .unwrap();
    let solve = flow
        .begin(
            UnixMillis::from_millis(5_000),
            Command::Solve(Solution::code("123456")),
        )
        .unwrap();
    black_box(solve);
    flow.handle_answer(UnixMillis::from_millis(5_200), created)
        .unwrap();
    flow
}

fn flows(c: &mut Criterion) {
    let config = Config::new("bench-api-key");
    let mut group = c.benchmark_group("2fa_flow");
    group.bench_function("serde_json_baseline", |b| b.iter(baseline));
    let (checkpoint, created) = (Answer::new(202, CHECKPOINT), Answer::new(201, CREATED));
    group.bench_function("auth_core_flow", |b| {
        b.iter(|| machine(black_box(&config), &checkpoint, &created))
    });
    group.finish();
}

criterion_group!(benches, flows);
criterion_main!(benches);

//! Heap allocations of one complete 2FA flow through the machine, beside the bare
//! serde_json work on the same bodies, counted by dhat's global allocator.
//!
//! Run: `cargo bench -p auth-core --bench allocations`.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;

use auth_core::{Answer, Command, Config, Credentials, Flow, Solution, UnixMillis};
use serde::{Deserialize, Serialize};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const CHECKPOINT: &[u8] = br#"{"object":"Checkpoint","account_id":"098dez89d","checkpoint":{"type":"2FA"}}"#;
const CREATED: &[u8] = br#"{"object":"AccountCreated","account_id":"098dez89d"}"#;
const FLOWS: u64 = 1_000;

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
    _kind: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Reply {
    object: String,
    account_id: String,
    checkpoint: Option<Checkpoint>,
}

fn baseline() {
    black_box(
        serde_json::to_vec(&ConnectBody {
            provider: "MESSENGER",
            username: "bob",
            password: "pw-b",
        })
        .unwrap(),
    );
    let checkpoint: Reply = serde_json::from_slice(CHECKPOINT).unwrap();
    let solve = SolveBody {
        provider: "MESSENGER",
        account_id: &checkpoint.account_id,
        code: "123456",
    };
    black_box(serde_json::to_vec(&solve).unwrap());
    black_box(serde_json::from_slice::<Reply>(CREATED).unwrap());
}

fn machine(config: &Config, checkpoint: &Answer, created: &Answer) {
    let mut flow = Flow::new(config.clone());
    let credentials = Credentials::messenger("bob", "pw-b");
    black_box(
        flow.begin(UnixMillis::from_millis(1_000), Command::Connect(credentials))
            .unwrap(),
    );
    black_box(
        flow.handle_answer(UnixMillis::from_millis(1_200), checkpoint)
            .unwrap(),
    );
    let solution = Solution::code("123456");
    black_box(
        flow.begin(UnixMillis::from_millis(5_000), Command::Solve(solution))
            .unwrap(),
    );
    black_box(
        flow.handle_answer(UnixMillis::from_millis(5_200), created)
            .unwrap(),
    );
}

fn allocations_per_flow(run: impl Fn()) -> f64 {
    run(); // warm up
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..FLOWS {
        run();
    }
    let after = dhat::HeapStats::get().total_blocks;
    (after - before) as f64 / FLOWS as f64
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let config = Config::new("bench-api-key");
    let baseline = allocations_per_flow(baseline);
    let (checkpoint, created) = (Answer::new(202, CHECKPOINT), Answer::new(201, CREATED));
    let machine = allocations_per_flow(|| machine(&config, &checkpoint, &created));
    println!("heap allocations per 2FA flow:");
    println!("  serde_json baseline: {baseline:.1}");
    println!("  auth-core flow:      {machine:.1}");
}

//! Heap allocations of one complete 2FA flow through the machine, beside the work of a
//! hand-written client on the same bodies and headers (`common/mod.rs`), counted by dhat's
//! allocator. The answers a transport hands over are built before counting, for both sides.
//!
//! Run: `cargo bench -p auth-core --bench allocations`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

mod common;

use auth_core::Config;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const FLOWS: u64 = 1_000;

fn allocations_per_flow(mut run: impl FnMut(common::Answers)) -> f64 {
    run(common::Answers::new()); // warm up
    let answers: Vec<common::Answers> = (0..FLOWS).map(|_| common::Answers::new()).collect();
    let before = dhat::HeapStats::get().total_blocks;
    for answers in answers {
        run(answers);
    }
    let after = dhat::HeapStats::get().total_blocks;
    (after - before) as f64 / FLOWS as f64
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let config = Config::new("bench-api-key");
    let baseline = allocations_per_flow(|answers| drop(common::baseline(answers)));
    let machine = allocations_per_flow(|answers| drop(common::machine(&config, answers)));
    println!("heap allocations per 2FA flow:");
    println!("  serde_json baseline: {baseline:.1}");
    println!("  auth-core flow:      {machine:.1}");
}

//! Heap allocations of one complete 2FA flow through the machine, beside the bare
//! serde_json work on the same bodies (`common/mod.rs`), counted by dhat's allocator.
//!
//! Run: `cargo bench -p auth-core --bench allocations`.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

mod common;

use auth_core::Config;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const FLOWS: u64 = 1_000;

fn allocations_per_flow(mut run: impl FnMut()) -> f64 {
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
    let answers = common::Answers::new();
    let baseline = allocations_per_flow(|| drop(common::baseline()));
    let machine = allocations_per_flow(|| drop(common::machine(&config, &answers)));
    println!("heap allocations per 2FA flow:");
    println!("  serde_json baseline: {baseline:.1}");
    println!("  auth-core flow:      {machine:.1}");
}

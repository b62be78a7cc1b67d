//! Time of one complete 2FA flow through the machine beside the work of a hand-written
//! client on the same bodies and headers (`common/mod.rs`). The answers a transport would
//! hand over are built outside the timed part, for both sides.
//!
//! Run: `cargo bench -p auth-core --bench flow`. The goal is a ratio of at most 1.4.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

mod common;

use std::hint::black_box;

use auth_core::Config;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn flows(c: &mut Criterion) {
    let config = Config::new("bench-api-key");
    let mut group = c.benchmark_group("2fa_flow");
    group.bench_function("serde_json_baseline", |b| {
        b.iter_batched(common::Answers::new, common::baseline, BatchSize::SmallInput)
    });
    group.bench_function("auth_core_flow", |b| {
        b.iter_batched(
            common::Answers::new,
            |answers| common::machine(black_box(&config), answers),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, flows);
criterion_main!(benches);

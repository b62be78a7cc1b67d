//! Time of one complete 2FA flow through the machine beside the bare serde_json work on
//! the same bodies (`common/mod.rs`).
//!
//! Run: `cargo bench -p auth-core --bench flow`. The goal is a ratio of at most 1.5.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

mod common;

use std::hint::black_box;

use auth_core::Config;
use criterion::{Criterion, criterion_group, criterion_main};

fn flows(c: &mut Criterion) {
    let config = Config::new("bench-api-key");
    let answers = common::Answers::new();
    let mut group = c.benchmark_group("2fa_flow");
    group.bench_function("serde_json_baseline", |b| b.iter(common::baseline));
    group.bench_function("auth_core_flow", |b| {
        b.iter(|| common::machine(black_box(&config), &answers))
    });
    group.finish();
}

criterion_group!(benches, flows);
criterion_main!(benches);

//! Runs N flows of one side (`baseline` or `machine`), for an instruction count that does
//! not depend on what else the machine is doing:
//!
//! `scripts/bench-core-instructions.sh` runs this under `valgrind --tool=callgrind` with
//! N = 0 and N = 10000 for both sides and prints instructions per flow and their ratio.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

mod common;

use auth_core::Config;

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let side = args.next().unwrap_or_else(|| "machine".to_owned());
    let flows: u64 = args.next().map_or(1, |n| n.parse().unwrap());
    let config = Config::new("bench-api-key");
    for _ in 0..flows {
        // Both sides are handed the answers a transport read (the same buffers).
        let answers = common::Answers::new();
        match side.as_str() {
            "baseline" => drop(common::baseline(answers)),
            "machine" => drop(common::machine(&config, answers)),
            other => panic!("unknown side {other}: expected baseline or machine"),
        }
    }
}

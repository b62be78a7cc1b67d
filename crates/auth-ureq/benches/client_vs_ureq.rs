//! The client against raw ureq: sequential complete 2FA flows over loopback against
//! `auth-sim`, through [`auth_ureq::Client`] and through hand-written ureq calls that send
//! the same requests with the same agent settings (`support::RawFlows`).
//!
//! The two sides take turns flow by flow (which one goes first in a pair alternates), each
//! on its own client or agent for a whole round, and each flow is timed alone: whatever
//! else the machine does weighs on both sides alike. A side's rate in a round is its
//! flows over the sum of its flows' times; the figures are the medians over the rounds.
//! The simulator counts the TCP connections each side opened in a round: a sequential
//! run must use one. The comparison is `auth_test_scenarios::bench::vs_raw`, shared with
//! auth-reqwest's `client_vs_reqwest`; the two sides are `support`'s.
//!
//! Run: `cargo bench -p auth-ureq --bench client_vs_ureq` (goal: ratio at least 0.95, one
//! connection per run). Without `--bench` (as `cargo test --all-targets` runs it) it only
//! checks that both sides send the same requests. `--only client|raw FLOWS` runs one side
//! alone, for a profiler (`valgrind --tool=callgrind --separate-threads=yes`).

mod support;

use auth_test_scenarios::bench::{BenchResult, vs_raw};

fn main() -> BenchResult {
    vs_raw::main(&support::Ureq, "client_vs_ureq")
}

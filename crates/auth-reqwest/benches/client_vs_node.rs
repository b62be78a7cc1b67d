//! The client against the official Node SDK (`unipile-node-sdk` 1.9.3): the same
//! sequential complete 2FA flows against the same simulator in the same run, each side in
//! its own process so that each counts its own CPU time and nothing else.
//!
//! - Rust: this binary started again as a worker (`client-worker`), running the flows
//!   through [`auth_reqwest::Client`] on a current-thread tokio runtime and counting its
//!   process's CPU time from `/proc/self/stat`.
//! - Node: auth-test-scenarios' `node/flows.mjs` (shared, not copied), running
//!   `connectMessenger` + `solveCodeCheckpoint` in a loop in one Node process and counting
//!   its CPU time with `process.cpuUsage()`; the SDK is installed by auth-sim's
//!   `node/install.rs` (shared with `#[path]`).
//!
//! Both paths are the Unipile style (`/api/v1/accounts…`); both warm up before they
//! measure; the sides alternate over a few rounds and the figures are medians. The
//! simulator runs in this process, outside both measurements. The comparison is
//! `auth_test_scenarios::bench::vs_node`, shared with auth-ureq's `client_vs_node`; the
//! client's flow and runtime are `support`'s.
//!
//! Run: `cargo bench -p auth-reqwest --bench client_vs_node` (goal: at least 5× less CPU
//! per flow than the SDK). Where `node` (18 or later) is missing it says so and skips the
//! Node side (`AUTH_SIM_REQUIRE_NODE=1` makes a skip fail). Without `--bench` (as `cargo test --all-targets` runs it) each side runs a few
//! flows, as a check.

mod support;

use auth_test_scenarios::bench::{BenchResult, vs_node};

fn main() -> BenchResult {
    vs_node::main(&support::Reqwest::new()?, "async Client", 5)
}

//! Fuzz target: any sequence of inputs into the state machine, with its invariants.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::flow(data));

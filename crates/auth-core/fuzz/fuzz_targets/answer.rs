//! Fuzz target: any answer in any state that waits for one.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::answer(data));

//! Replays the kept fuzz corpus (`fuzz/regressions/{answer,flow}/`) through the same
//! harnesses the fuzz targets run, so every interesting input found stays a test on stable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

#[path = "../fuzz/harness.rs"]
#[allow(dead_code, unreachable_pub, reason = "shared with the fuzz targets")]
mod harness;

use std::path::Path;

/// Runs every input of `fuzz/regressions/<target>.hex` (one input per line in hex; lines
/// starting with `#` are comments) through the harness; returns how many ran.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fuzz/regressions/{target}.hex"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let bytes: Vec<u8> = (0..line.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap())
            .collect();
        run(&bytes);
        count += 1;
    }
    count
}

#[test]
fn the_kept_answer_corpus_passes() {
    assert!(
        replay("answer", harness::answer) > 100,
        "the answer corpus is missing"
    );
}

#[test]
fn the_kept_flow_corpus_passes() {
    assert!(replay("flow", harness::flow) > 100, "the flow corpus is missing");
}

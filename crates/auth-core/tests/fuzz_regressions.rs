//! Replays the kept fuzz corpus (`fuzz/regressions/{answer,flow}/`) through the same
//! harnesses the fuzz targets run, so every interesting input found stays a test on stable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

#[path = "../fuzz/harness.rs"]
#[allow(dead_code, unreachable_pub, reason = "shared with the fuzz targets")]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        run(&std::fs::read(&path).unwrap());
        count += 1;
    }
    count
}

#[test]
fn the_kept_answer_corpus_passes() {
    assert!(
        replay("answer", harness::answer) > 0,
        "the answer corpus is empty"
    );
}

#[test]
fn the_kept_flow_corpus_passes() {
    assert!(replay("flow", harness::flow) > 0, "the flow corpus is empty");
}

//! The official Unipile Node SDK (`unipile-node-sdk` 1.9.3, response validation at level
//! `error`) against the simulator: `node/sdk-check.mjs`.
//!
//! Runs when `node` (18 or later) and `npm` are on the PATH; otherwise it prints why it
//! skipped. Set `AUTH_SIM_REQUIRE_NODE=1` to turn a skip into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use auth_sim::{Fixture, Simulator};

const KEY: &str = "sdk-check-key";
const SHORT_TTL_MS: u64 = 500;

fn skip(reason: &str) {
    assert!(
        std::env::var_os("AUTH_SIM_REQUIRE_NODE").is_none(),
        "AUTH_SIM_REQUIRE_NODE is set but the Node SDK check cannot run: {reason}"
    );
    eprintln!("SKIPPED the Unipile Node SDK check: {reason}");
}

fn node_major() -> Option<u32> {
    let output = Command::new("node").arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&output.stdout);
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

#[test]
fn the_official_unipile_node_sdk_connects_and_solves_against_the_simulator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    match node_major() {
        None => return skip("`node` is not on the PATH"),
        Some(major) if major < 18 => return skip(&format!("node {major} is older than 18")),
        Some(_) => {}
    }
    if !dir.join("node_modules/unipile-node-sdk/package.json").exists() {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .status();
        match installed {
            Ok(status) if status.success() => {}
            Ok(status) => return skip(&format!("`npm ci` in {} failed ({status})", dir.display())),
            Err(e) => return skip(&format!("`npm` cannot run: {e}")),
        }
    }

    let sim = Simulator::builder()
        .api_key(KEY)
        .fixture(Fixture::demo())
        .start()
        .unwrap();
    let short = Simulator::builder()
        .api_key(KEY)
        .fixture(Fixture::demo())
        .intent_ttl(Duration::from_millis(SHORT_TTL_MS))
        .start()
        .unwrap();
    let output = Command::new("node")
        .arg("sdk-check.mjs")
        .current_dir(&dir)
        .env("SIM_ORIGIN", sim.origin())
        .env("SIM_API_KEY", KEY)
        .env("SIM_SHORT_TTL_ORIGIN", short.origin())
        .env("SIM_SHORT_TTL_MS", SHORT_TTL_MS.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "sdk-check.mjs failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("10 passed, 0 failed"), "{stdout}");

    // The SDK really spoke to the simulator, in the Unipile path style.
    let requests = sim.requests();
    assert!(requests.iter().all(|r| r.path.starts_with("/api/v1/accounts")));
    assert!(requests.iter().any(|r| r.path == "/api/v1/accounts/checkpoint"));
    assert!(
        requests
            .iter()
            .all(|r| r.header("accept") == Some("application/json"))
    );
}

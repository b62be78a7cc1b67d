//! The official Unipile Node SDK (`unipile-node-sdk` 1.9.3, response validation at level
//! `error`) against the simulator: `node/sdk-check.mjs`. The SDK has calls for connect,
//! solve, reconnect and `getOne` (`GET /accounts/{id}`, validated against its own
//! `Account` schema); it has none for resend or for an `Idempotency-Key`.
//!
//! Runs when `node` (18 or later) and `npm` are on the PATH; otherwise it prints why it
//! skipped. Set `AUTH_SIM_REQUIRE_NODE=1` to turn a skip into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use auth_sim::{ErrorEnvelope, Fixture, Simulator};

#[path = "../node/install.rs"]
mod node_install;

const KEY: &str = "sdk-check-key";
const SHORT_TTL_MS: u64 = 500;

fn skip(reason: &str) {
    assert!(
        std::env::var_os("AUTH_SIM_REQUIRE_NODE").is_none(),
        "AUTH_SIM_REQUIRE_NODE is set but the Node SDK check cannot run: {reason}"
    );
    eprintln!("SKIPPED the Unipile Node SDK check: {reason}");
}

#[test]
fn the_official_unipile_node_sdk_connects_and_solves_against_the_simulator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    if let Err(reason) = node_install::install_node_sdk(&dir) {
        return skip(&reason);
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
    let quickstart = Simulator::builder()
        .api_key(KEY)
        .fixture(Fixture::demo())
        .error_envelope(ErrorEnvelope::Quickstart)
        .start()
        .unwrap();
    let output = Command::new("node")
        .arg("sdk-check.mjs")
        .current_dir(&dir)
        .env("SIM_ORIGIN", sim.origin())
        .env("SIM_API_KEY", KEY)
        .env("SIM_SHORT_TTL_ORIGIN", short.origin())
        .env("SIM_SHORT_TTL_MS", SHORT_TTL_MS.to_string())
        .env("SIM_QUICKSTART_ORIGIN", quickstart.origin())
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
    assert!(stdout.contains("14 passed, 0 failed"), "{stdout}");

    // The SDK really spoke to the simulator, in the Unipile path style.
    let requests = sim.requests();
    assert!(requests.iter().all(|r| r.path.starts_with("/api/v1/accounts")));
    assert!(requests.iter().any(|r| r.path == "/api/v1/accounts/checkpoint"));
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.query.as_deref() == Some("port=13443")),
        "the SDK's getOne sent ?port="
    );
    assert_eq!(quickstart.connected_accounts().len(), 1);
    assert!(
        requests
            .iter()
            .all(|r| r.header("accept") == Some("application/json"))
    );
}

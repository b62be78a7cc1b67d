//! Finds node and installs the pinned Unipile Node SDK (`npm ci` in this folder), for the
//! programs that run it: auth-sim's SDK check (`tests/node_sdk.rs`) and the clients' Node
//! comparisons (`benches/client_vs_node.rs` of auth-ureq and auth-reqwest), which include
//! this file.

use std::path::Path;
use std::process::{Command, Stdio};

/// Makes sure node 18 or later runs and `dir` (this folder) has the SDK in its
/// `node_modules`, running `npm ci` there if it has not; says why not otherwise.
pub(crate) fn install_node_sdk(dir: &Path) -> Result<(), String> {
    match node_major() {
        None => return Err("`node` is not on the PATH".to_owned()),
        Some(major) if major < 18 => return Err(format!("node {major} is older than 18")),
        Some(_) => {}
    }
    if dir.join("node_modules/unipile-node-sdk/package.json").exists() {
        return Ok(());
    }
    let installed = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .status();
    match installed {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`npm ci` in {} failed ({status})", dir.display())),
        Err(e) => Err(format!("`npm` cannot run: {e}")),
    }
}

/// The major version of the `node` on the PATH.
fn node_major() -> Option<u32> {
    let output = Command::new("node").arg("--version").output().ok()?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

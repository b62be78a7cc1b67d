//! The client against the official Node SDK (`unipile-node-sdk` 1.9.3), each client's
//! `client_vs_node`: the same sequential complete 2FA flows against the same simulator in
//! the same run, each side in its own process so that each counts its own CPU time and
//! nothing else.
//!
//! - Rust: the bench binary started again as a worker (`client-worker`), running the flows
//!   through the client ([`ClientBench`]) and counting its process's CPU time from
//!   `/proc/self/stat` ([`process_cpu`]).
//! - Node: this crate's `node/flows.mjs`, running `connectMessenger` +
//!   `solveCodeCheckpoint` in a loop in one Node process and counting its CPU time with
//!   `process.cpuUsage()`; the SDK is installed in auth-sim's `node/` by its `install.rs`
//!   (included with `#[path]`, as auth-sim's SDK check does).
//!
//! Both paths are the Unipile style (`/api/v1/accounts…`); both warm up before they
//! measure; the sides alternate over a few rounds and the figures are medians. The
//! simulator runs in the bench's process, outside both measurements. Where `node` (18 or
//! later) is missing it says so and skips the Node side (`AUTH_SIM_REQUIRE_NODE=1` makes a
//! skip fail, as it does auth-sim's SDK check). Without `--bench` (as `cargo test
//! --all-targets` runs it) each side runs a few flows, as a check.

#[path = "../../../auth-sim/node/install.rs"]
mod node_install;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{BenchResult, ClientBench, KEY, demo_simulator, invoked_by_cargo_bench, process_cpu, row};

/// The first argument that makes the bench binary a worker.
const WORKER: &str = "client-worker";

/// What each side prints on its last line of output, as JSON.
#[derive(Debug, Serialize, Deserialize)]
struct Measured {
    flows: u64,
    wall_ns: u64,
    cpu_ns: u64,
}

impl Measured {
    fn flows_per_second(&self) -> f64 {
        self.flows as f64 / (self.wall_ns as f64 / 1e9)
    }

    fn cpu_us_per_flow(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.flows as f64
    }
}

/// The worker: `client-worker BASE_URL WARMUP FLOWS`.
fn worker<B: ClientBench>(bench: &B, args: &[String]) -> BenchResult {
    let [base_url, warmup, flows] = args else {
        return Err(format!("usage: {WORKER} BASE_URL WARMUP FLOWS").into());
    };
    let (warmup, flows): (u64, u64) = (warmup.parse()?, flows.parse()?);
    let measured = bench.block_on(async {
        let client = bench.client(base_url)?;
        for _ in 0..warmup {
            B::client_flow(&client).await?;
        }
        let (started, cpu) = (Instant::now(), process_cpu()?);
        for _ in 0..flows {
            B::client_flow(&client).await?;
        }
        Ok::<_, Box<dyn Error>>(Measured {
            flows,
            wall_ns: u64::try_from(started.elapsed().as_nanos())?,
            cpu_ns: u64::try_from((process_cpu()? - cpu).as_nanos())?,
        })
    })?;
    println!("{}", serde_json::to_string(&measured)?);
    Ok(())
}

/// Runs a side's process to its end and reads its last line.
fn measure(mut command: Command) -> BenchResult<Measured> {
    let output = command.stdin(Stdio::null()).stderr(Stdio::inherit()).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("{command:?} failed ({}): {stdout}", output.status).into());
    }
    let last = stdout.lines().last().unwrap_or_default();
    Ok(serde_json::from_str(last).map_err(|e| format!("{command:?} printed {last:?}: {e}"))?)
}

/// The directory holding the SDK's `node_modules` (auth-sim's `node/`), installed with
/// `npm ci` if need be; why the Node side cannot run otherwise.
fn node_sdk() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth-sim/node");
    node_install::install_node_sdk(&dir)?;
    Ok(dir)
}

/// The whole benchmark, its `main` (or the worker's, when the bench binary is started as
/// one). `client` names the client in the summary rows (`Client`, `async Client`);
/// `cpu_goal` is how many times less CPU per flow than the SDK it should spend.
pub fn main<B: ClientBench>(bench: &B, client: &str, cpu_goal: u32) -> BenchResult {
    let args: Vec<String> = std::env::args().collect();
    if let Some((first, rest)) = args.get(1..).and_then(<[String]>::split_first)
        && first == WORKER
    {
        return worker(bench, rest);
    }
    let measuring = invoked_by_cargo_bench();
    let (rounds, warmup, flows) = if measuring { (3, 500, 3_000) } else { (1, 1, 3) };

    let sim = demo_simulator()?;
    let node = node_sdk();
    // As auth-sim's SDK check: a skip fails where `AUTH_SIM_REQUIRE_NODE` is set (CI sets it
    // where node and npm are installed).
    if let Err(reason) = &node
        && std::env::var_os("AUTH_SIM_REQUIRE_NODE").is_some()
    {
        return Err(format!("AUTH_SIM_REQUIRE_NODE is set but the Node SDK cannot run: {reason}").into());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("node/flows.mjs");

    let mut rust = Vec::new();
    let mut sdk = Vec::new();
    let mut connections = (0, 0);
    for _ in 0..rounds {
        let mut command = Command::new(std::env::current_exe()?);
        command.args([
            WORKER,
            &sim.unipile_base_url(),
            &warmup.to_string(),
            &flows.to_string(),
        ]);
        let before = sim.connections_accepted();
        rust.push(measure(command)?);
        connections.0 = connections.0.max(sim.connections_accepted() - before);

        if let Ok(dir) = &node {
            let mut command = Command::new("node");
            command
                .arg(&script)
                .env("SDK_DIR", dir)
                .env("SIM_ORIGIN", sim.origin())
                .env("SIM_API_KEY", KEY)
                .env("WARMUP", warmup.to_string())
                .env("FLOWS", flows.to_string());
            let before = sim.connections_accepted();
            sdk.push(measure(command)?);
            connections.1 = connections.1.max(sim.connections_accepted() - before);
        }
    }
    let median =
        |runs: &[Measured], f: fn(&Measured) -> f64| super::median(&runs.iter().map(f).collect::<Vec<_>>());
    let (rust_rate, rust_cpu) = (
        median(&rust, Measured::flows_per_second),
        median(&rust, Measured::cpu_us_per_flow),
    );

    if !measuring {
        println!("client_vs_node: the Rust worker ran {flows} flows");
        match &node {
            Ok(_) => println!("client_vs_node: the Node SDK ran {flows} flows"),
            Err(reason) => println!("client_vs_node: skipped the Node SDK: {reason}"),
        }
        return Ok(());
    }
    println!(
        "sequential 2FA flows, one process per side ({rounds} rounds of {flows} flows after {warmup} warm-up flows, medians)"
    );
    println!(
        "  Rust Client:     {rust_rate:>8.0} flows/s, {rust_cpu:>7.1} µs CPU per flow (process), {} connection(s) per run",
        connections.0
    );
    match &node {
        Ok(_) => {
            let (node_rate, node_cpu) = (
                median(&sdk, Measured::flows_per_second),
                median(&sdk, Measured::cpu_us_per_flow),
            );
            let ratio = node_cpu / rust_cpu;
            println!(
                "  Node SDK 1.9.3:  {node_rate:>8.0} flows/s, {node_cpu:>7.1} µs CPU per flow (process), {} connection(s) per run",
                connections.1
            );
            println!(
                "  CPU per flow: the SDK spends {ratio:.2}× the client's; flows/s: {:.2}×",
                rust_rate / node_rate
            );
            row(
                &format!("{client} CPU per flow vs Node SDK"),
                &format!("{rust_cpu:.1} µs"),
                &format!("{node_cpu:.1} µs"),
                &format!("{ratio:.2}× less"),
                &format!(">= {cpu_goal}× less"),
                ratio >= f64::from(cpu_goal),
            );
            row(
                &format!("{client} flows/s vs Node SDK"),
                &format!("{rust_rate:.0}/s"),
                &format!("{node_rate:.0}/s"),
                &format!("{:.2}", rust_rate / node_rate),
                "(informative)",
                true,
            );
        }
        Err(reason) => {
            println!("  Node SDK: SKIPPED ({reason})");
            println!(
                "row: {client} CPU per flow vs Node SDK | {rust_cpu:.1} µs | skipped: {reason} | - | >= {cpu_goal}× less | skipped"
            );
        }
    }
    Ok(())
}

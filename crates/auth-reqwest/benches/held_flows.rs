//! 10,000 in-app validations held open at once by the simulator, driven by one
//! [`Client`] on one tokio runtime (two worker threads, this 2-core machine's).
//!
//! Each flow is its own task: `connect_messenger` (202, an `IN_APP` 2FA checkpoint), then
//! `solve_in_app`, which the simulator holds until the account's approval delay has passed
//! (counted from that intent's first in-app solve), then answers 201. The benchmark checks
//! that every flow is approved and connected with its own account id and none is lost, and
//! measures:
//!
//! - the client's memory per held flow: this process's resident memory (`VmRSS`) once every
//!   solve is held by the simulator, minus before the first connect, over the flows. The
//!   simulator runs in a process of its own (this binary started again as `sim-worker`), so
//!   that its memory is not counted;
//! - the wall time from the first solve sent to the last flow connected, beside the
//!   approval delay: how little the client adds to the wait it cannot shorten.
//!
//! It runs once per HTTP version of the client ([`HttpVersion`]): HTTP/1.1 (the default,
//! a connection per held flow) and HTTP/2 (every flow a stream of one connection). Each
//! run is a fresh process (this binary started again as `client-worker VERSION`) against a
//! fresh simulator process, so that neither run's memory is counted in, or hidden by what
//! the allocator kept of, the other's.
//!
//! Everything stays on loopback, bounded in count (one flow per account) and in time (two
//! minutes, then it fails). The file-descriptor limit is raised inside the benchmark, in
//! both processes (a socket per held flow on each side), with `rlimit` (no `unsafe`); the
//! simulator's `max_connections` is raised past its 10,000 default, and so is its HTTP/2
//! streams per connection (256 by default).
//!
//! Run: `cargo bench -p auth-reqwest --bench held_flows` (goals: all 10,000 connected, at
//! most 16 KiB per held flow, wall time close to the approval delay). Without `--bench`
//! (as `cargo test --all-targets` runs it) it drives 200 flows with a short delay, as a
//! check.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_reqwest::{AccountId, Client, Connection, HttpVersion, Solved};
use auth_sim::{Account, Checkpoint, Fixture, Simulator};
use auth_test_scenarios::bench::{BenchResult, KEY, invoked_by_cargo_bench, row, rss_kib};
use tokio::sync::Semaphore;

/// The first argument that makes this binary the simulator's process.
const SIM_WORKER: &str = "sim-worker";

/// The first argument that makes this binary one measured run of the client.
const CLIENT_WORKER: &str = "client-worker";

/// The client's HTTP versions, each measured in its own run, by the name given to a run.
const VERSIONS: [(&str, HttpVersion); 2] = [
    ("http1", HttpVersion::Http1Only),
    ("http2", HttpVersion::Http2Only),
];

/// How many connects are in flight at once (the solves are not limited: all are held).
const CONNECTS_AT_ONCE: usize = 512;

/// The whole run's bound: past it the benchmark fails rather than hangs.
const BOUND: Duration = Duration::from_secs(120);

fn username(i: usize) -> String {
    format!("held-{i}")
}

fn password(i: usize) -> String {
    format!("pw-held-{i}")
}

/// Raises this process's file-descriptor limit to its hard limit; the new soft limit.
fn raise_fd_limit() -> BenchResult<u64> {
    Ok(rlimit::increase_nofile_limit(u64::MAX)?)
}

/// The simulator's process: `sim-worker FLOWS APPROVAL_MS`. Prints its base URL, then
/// answers each line of its stdin (`held`, `connected`, `connections`) with a number, and
/// stops at the end of its stdin.
fn sim_worker(args: &[String]) -> BenchResult {
    let [flows, approval_ms] = args else {
        return Err(format!("usage: {SIM_WORKER} FLOWS APPROVAL_MS").into());
    };
    let (flows, approval_ms): (usize, u64) = (flows.parse()?, approval_ms.parse()?);
    let limit = raise_fd_limit()?;
    let approval = Duration::from_millis(approval_ms);
    let fixture = (0..flows).fold(Fixture::new(), |fixture, i| {
        fixture.account(
            Account::new(username(i), password(i))
                .checkpoint(Checkpoint::in_app("IN_APP_VALIDATION", approval)),
        )
    });
    let sim = Simulator::builder()
        .api_key(KEY)
        .fixture(fixture)
        .max_connections(flows * 2 + 64)
        .max_streams_per_connection(u32::try_from(flows * 2 + 64)?)
        .start()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{} {limit}", sim.base_url())?;
    stdout.flush()?;
    for line in std::io::stdin().lines() {
        let answer = match line?.as_str() {
            "held" => sim.held_requests(),
            "connected" => sim.connected_accounts().len(),
            "connections" => usize::try_from(sim.connections_accepted())?,
            _ => break,
        };
        writeln!(stdout, "{answer}")?;
        stdout.flush()?;
    }
    Ok(())
}

/// The simulator in its own process, asked questions over its stdin and stdout.
struct SimProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    base_url: String,
    fd_limit: String,
}

impl SimProcess {
    fn start(flows: usize, approval: Duration) -> BenchResult<SimProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([SIM_WORKER, &flows.to_string(), &approval.as_millis().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut first = String::new();
        stdout.read_line(&mut first)?;
        let (base_url, fd_limit) = first
            .trim()
            .split_once(' ')
            .ok_or("the simulator did not start")?;
        Ok(SimProcess {
            base_url: base_url.to_owned(),
            fd_limit: fd_limit.to_owned(),
            child,
            stdin,
            stdout,
        })
    }

    fn ask(&mut self, question: &str) -> BenchResult<usize> {
        let stdin = self.stdin.as_mut().ok_or("the simulator's stdin is closed")?;
        writeln!(stdin, "{question}")?;
        stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        Ok(line.trim().parse()?)
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        // The end of its stdin stops it; it is waited for (it is this process's child).
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// What one run measured.
struct Figures {
    flows: usize,
    connected: usize,
    rss_per_flow_kib: f64,
    connect_phase: Duration,
    first_solve_to_last_connected: Duration,
    total: Duration,
    connections: usize,
}

/// One flow: connect (a connect slot at a time), then solve in the app, held until approved.
async fn flow(client: Client, connects: Arc<Semaphore>, i: usize) -> Result<(AccountId, Instant), String> {
    let permit = connects.acquire_owned().await.map_err(|e| e.to_string())?;
    let connection = client.connect_messenger(username(i), password(i)).await;
    let Connection::Pending(mut intent) = connection.map_err(|e| format!("flow {i}: {e}"))? else {
        return Err(format!("flow {i}: the connect did not ask for a checkpoint"));
    };
    drop(permit);
    let solve_sent = Instant::now();
    let expected = intent.account_id().clone();
    match intent
        .solve_in_app()
        .await
        .map_err(|e| format!("flow {i}: {e}"))?
    {
        Solved::Connected { account_id } if account_id == expected => Ok((account_id, solve_sent)),
        other => Err(format!(
            "flow {i}: the solve answered {other:?}, not its own account"
        )),
    }
}

async fn run(sim: &mut SimProcess, flows: usize, version: HttpVersion) -> BenchResult<Figures> {
    let client = Client::builder()
        .base_url(sim.base_url.as_str())
        .api_key(KEY)
        .http_version(version)
        .build()?;
    // The runtime, the pool and the TLS-free connector warmed by one request (a 404).
    let _ = client.account_status("warm-up").await;
    let rss_before = rss_kib()?;
    let connects = Arc::new(Semaphore::new(CONNECTS_AT_ONCE));
    let started = Instant::now();
    let tasks: Vec<_> = (0..flows)
        .map(|i| tokio::spawn(flow(client.clone(), Arc::clone(&connects), i)))
        .collect();
    // Every solve held by the simulator at once (or a flow that ended early: an error).
    loop {
        if sim.ask("held")? == flows || tasks.iter().any(tokio::task::JoinHandle::is_finished) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rss_held = rss_kib()?;
    let connect_phase = started.elapsed();
    let mut ids = HashSet::new();
    let mut first_solve: Option<Instant> = None;
    for task in tasks {
        let (account_id, solve_sent) = task.await??;
        first_solve = Some(first_solve.map_or(solve_sent, |first| first.min(solve_sent)));
        ids.insert(account_id);
    }
    let done = Instant::now();
    let connected = sim.ask("connected")?;
    if ids.len() != flows || connected != flows {
        return Err(format!(
            "{} distinct account ids and {connected} connected accounts for {flows} flows",
            ids.len()
        )
        .into());
    }
    let held_bytes = rss_held.saturating_sub(rss_before) as f64;
    Ok(Figures {
        flows,
        connected,
        rss_per_flow_kib: held_bytes / flows as f64,
        connect_phase,
        first_solve_to_last_connected: done.duration_since(first_solve.unwrap_or(started)),
        total: done.duration_since(started),
        connections: sim.ask("connections")?,
    })
}

fn main() -> BenchResult {
    let args: Vec<String> = std::env::args().collect();
    if let Some((first, rest)) = args.get(1..).and_then(<[String]>::split_first) {
        if first == SIM_WORKER {
            return sim_worker(rest);
        }
        if first == CLIENT_WORKER {
            let name = rest.first().ok_or("usage: client-worker VERSION [--bench]")?;
            let (name, version) = VERSIONS
                .into_iter()
                .find(|(known, _)| known == name)
                .ok_or_else(|| format!("unknown HTTP version {name}"))?;
            return client_worker(name, version);
        }
    }
    // One fresh process per HTTP version, the arguments cargo gave passed on.
    for (name, _) in VERSIONS {
        let status = Command::new(std::env::current_exe()?)
            .args([CLIENT_WORKER, name])
            .args(args.get(1..).unwrap_or_default())
            .status()?;
        if !status.success() {
            return Err(format!("the {name} run failed ({status})").into());
        }
    }
    Ok(())
}

/// One measured run of the client, speaking `version` (named `name`).
fn client_worker(name: &str, version: HttpVersion) -> BenchResult {
    let bench = invoked_by_cargo_bench();
    let (flows, approval) = if bench {
        (10_000, Duration::from_secs(10))
    } else {
        (200, Duration::from_millis(500))
    };
    let limit = raise_fd_limit()?;
    if limit < flows as u64 + 256 {
        return Err(format!("the file-descriptor limit is {limit}, too low for {flows} held flows").into());
    }
    let mut sim = SimProcess::start(flows, approval)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let figures =
        runtime.block_on(async { tokio::time::timeout(BOUND, run(&mut sim, flows, version)).await })??;
    drop(runtime);

    let per_flow = figures.rss_per_flow_kib;
    let wait = figures.first_solve_to_last_connected;
    let over = wait.as_secs_f64() / approval.as_secs_f64();
    if !bench {
        println!(
            "held_flows ({name}): {} in-app validations held at once and connected, each with its own account id",
            figures.connected
        );
        return Ok(());
    }
    println!(
        "{flows} in-app validations held at once by the simulator (approval after {approval:?}), one Client speaking {version:?}, one tokio runtime (2 workers); fd limit {limit} here, {} in the simulator's process",
        sim.fd_limit
    );
    println!(
        "  connected: {} of {flows}, each with its own account id; {} TCP connections accepted by the simulator",
        figures.connected, figures.connections
    );
    println!(
        "  client memory per held flow: {per_flow:.1} KiB (resident, this process; the simulator runs in its own)"
    );
    println!(
        "  wall time: {:.2} s in all; connects done and every solve held after {:.2} s; first solve to last connected {:.2} s ({over:.2}× the approval delay)",
        figures.total.as_secs_f64(),
        figures.connect_phase.as_secs_f64(),
        wait.as_secs_f64()
    );
    row(
        &format!("async Client ({name}): held in-app flows connected"),
        &format!("{}", figures.connected),
        &format!("{} flows", figures.flows),
        "-",
        "all, none lost",
        figures.connected == figures.flows,
    );
    row(
        &format!("async Client ({name}): memory per held flow"),
        &format!("{per_flow:.1} KiB"),
        "-",
        "-",
        "<= 16 KiB",
        per_flow <= 16.0,
    );
    row(
        &format!("async Client ({name}): first solve to last connected"),
        &format!("{:.2} s", wait.as_secs_f64()),
        &format!("{:.2} s approval", approval.as_secs_f64()),
        &format!("{over:.2}"),
        "close to 1",
        over <= 1.5,
    );
    Ok(())
}

//! What the clients' loopback benchmarks share (`benches/` of `auth-ureq` and
//! `auth-reqwest`, docs/performance.md): the simulator they run against, the CPU clock and
//! memory read from `/proc`, the medians and the summary rows, the hand-written raw flows'
//! common part ([`raw`]), the two comparisons whole ([`vs_raw`]: the client against its raw
//! HTTP library, the two sides taking turns; [`vs_node`]: the client against the official
//! Node SDK, one process per side).
//!
//! A client's benches implement [`ClientBench`] (and [`RawBench`] for the raw comparison):
//! how to build the client, one flow through it (and through the raw library), and how to
//! run a future. The comparisons are written once, as async code: the async client runs
//! them on its tokio runtime as before, the blocking client through [`run_blocking`], where
//! every flow is a future ready at its first poll.
//!
//! A flow is the demo account `bob` (2FA, code `123456`): `POST /accounts` answered 202
//! with a checkpoint, then `POST /accounts/checkpoint` answered 201 `AccountCreated`.
//! The simulator lets the same account connect again and again, each time with a new
//! intent.

use std::error::Error;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use auth_sim::{Fixture, Simulator};

pub mod raw;
pub mod vs_node;
pub mod vs_raw;

/// The API key the benchmarks' simulators expect.
pub const KEY: &str = "bench-api-key";
/// The fixture account every flow connects (from `Fixture::demo`).
pub const USERNAME: &str = "bob";
/// Its password.
pub const PASSWORD: &str = "pw-b";
/// The code that solves its 2FA checkpoint.
pub const CODE: &str = "123456";

/// What a benchmark's steps return: a failure ends the run with its message.
pub type BenchResult<T = ()> = Result<T, Box<dyn Error>>;

/// A client under benchmark, as its benches see it.
pub trait ClientBench {
    /// The client.
    type Client;

    /// A client as an application builds it, against `base_url`, with [`KEY`].
    fn client(&self, base_url: &str) -> BenchResult<Self::Client>;

    /// One complete 2FA flow through the client (a blocking client's is ready at its first
    /// poll).
    fn client_flow(client: &Self::Client) -> impl Future<Output = BenchResult>;

    /// Runs `future` to its end on this thread: on the async client's runtime, through
    /// [`run_blocking`] for a blocking client.
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T;
}

/// A client under benchmark beside the same flow written by hand on its HTTP library.
pub trait RawBench: ClientBench {
    /// The hand-written side ([`raw`] has what both clients' share).
    type Raw;

    /// The raw side's name in the report: `raw ureq`, `raw reqwest`.
    const RAW: &'static str;

    /// The raw side, set up as the client sets up its library, against `base_url`.
    fn raw(&self, base_url: &str) -> BenchResult<Self::Raw>;

    /// One complete 2FA flow on the raw side, the same requests as
    /// [`ClientBench::client_flow`].
    fn raw_flow(raw: &Self::Raw) -> impl Future<Output = BenchResult>;
}

/// Runs to its end, on this thread, a future that never waits: a blocking client's flows,
/// written as `async fn` for the comparisons, are ready at their first poll. Should one
/// ever be pending, it is polled again after the thread yields (nothing would wake it).
pub fn run_blocking<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
        std::thread::yield_now();
    }
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs the binary bare, and then
/// it only checks, quickly, that every side works.
pub fn invoked_by_cargo_bench() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// The simulator every comparison runs against, in the bench's process, on loopback: the
/// demo fixture, [`KEY`], the real clock.
pub fn demo_simulator() -> BenchResult<Simulator> {
    Ok(Simulator::builder()
        .api_key(KEY)
        .fixture(Fixture::demo())
        .start()?)
}

/// CPU time of the whole process, user and system, of all its threads, those that ended
/// included (ureq runs each name lookup on a thread of its own): `utime + stime` from
/// `/proc/self/stat`, what `getrusage(RUSAGE_SELF)` counts, in clock ticks of 10 ms
/// (`USER_HZ`, 100 on Linux whatever the kernel's own tick).
pub fn process_cpu() -> BenchResult<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name, in parentheses, may hold spaces: count fields after it.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("no ')' in /proc/self/stat")?;
    let mut fields = after_name.split_whitespace();
    // Fields 14 and 15 of proc(5); the first after the name is field 3.
    let mut tick =
        |n: usize| -> BenchResult<u64> { Ok(fields.nth(n).ok_or("short /proc/self/stat")?.parse()?) };
    let (utime, stime) = (tick(11)?, tick(0)?);
    Ok(Duration::from_millis((utime + stime) * 10))
}

/// The process's resident memory (`VmRSS` of `/proc/self/status`), in KiB.
pub fn rss_kib() -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or("no VmRSS in /proc/self/status")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("short VmRSS line")?
        .parse()?)
}

/// The median of some measurements (the lower middle one for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// One line of the summary table `scripts/bench-all.sh` prints: figure, value, baseline,
/// ratio, goal, met.
pub fn row(figure: &str, value: &str, baseline: &str, ratio: &str, goal: &str, met: bool) {
    let met = if met { "yes" } else { "NO" };
    println!("row: {figure} | {value} | {baseline} | {ratio} | {goal} | {met}");
}

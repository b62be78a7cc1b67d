//! The simulator under load: requests per second and latency with 64 concurrent clients
//! on loopback, memory per pending intent, and throughput with 1,000 against 100,000
//! pending intents.
//!
//! The simulators are `postpress-sim` child processes (the binary as users run it, with
//! its defaults), so that their memory and CPU are counted apart from the load
//! generator's: resident memory from `/proc/PID/status` (`VmRSS`), CPU from
//! `/proc/PID/task/*/schedstat`. The load generator is this process: 64 keep-alive
//! connections on one tokio thread, each sending a request, reading its whole answer,
//! and sending the next (closed loop, no pipelining), with pre-written HTTP/1.1 bytes so
//! that the generator costs as little as it can.
//!
//! Every request is `POST /v1/accounts/checkpoint/resend` for a pending intent picked at
//! random: the full path of a request (JSON body parsed and checked, intent looked up,
//! JSON answer written) that leaves the number of pending intents unchanged. Every
//! request, the connects that create the intents included, carries an `Idempotency-Key`
//! of its own, as a client following the docs sends: the simulator keeps a record of
//! each answer (for the intent's lifetime plus the forget grace, 15 minutes by default),
//! so the memory per pending intent includes its connect's record.
//!
//! Two simulators run side by side: A holds 1,000 pending intents, B 100,000 (the
//! simulator's default cap). Measured rounds alternate between them, so that whatever
//! else the machine does weighs on both alike; each figure is the median round.
//! Memory per pending intent is B's resident memory after its last 99,000 intents were
//! created, minus before, over 99,000 (both readings after a warm-up round that filled
//! the simulator's request log and connection buffers).
//!
//! Run: `cargo bench -p auth-sim --bench load` (add `-- --without-keys` to send no
//! `Idempotency-Key`, the baseline for what the records cost). Goals: at least 20,000 requests per
//! second; at most 1 KiB per pending intent; B's rate within 10% of A's (the median ratio
//! of rounds run one beside the other). Without `--bench` (as `cargo test --all-targets`
//! runs it) it only sends a few requests, as a check.

use std::error::Error;
use std::io::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

type BenchResult<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

const KEY: &str = "bench-api-key";
const CLIENTS: usize = 64;
const FEW: usize = 1_000;
const MANY: usize = 100_000;
/// Each measured round: this long, or this many requests, whichever comes first.
const ROUND: Duration = Duration::from_millis(1500);
const ROUND_MAX_REQUESTS: usize = 1_000_000;
/// Rounds per simulator.
const ROUNDS: usize = 8;

/// A `postpress-sim` child process; killed when dropped.
struct Sim {
    child: Child,
    port: u16,
}

impl Sim {
    fn start() -> BenchResult<Sim> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_postpress-sim"))
            .args(["--port", "0", "--api-key", KEY])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut first = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut first)?;
        }
        let port = first
            .trim_end()
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|port| port.parse().ok());
        match port {
            Some(port) => Ok(Sim { child, port }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("postpress-sim printed {first:?} first").into())
            }
        }
    }

    /// Resident memory, in bytes.
    fn rss(&self) -> BenchResult<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or("no VmRSS line")?;
        Ok(kib * 1024)
    }

    /// CPU time of all its threads.
    fn cpu(&self) -> BenchResult<Duration> {
        process_cpu(&format!("/proc/{}/task", self.child.id()))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time of a process: the first field of each of its threads' `schedstat`, in ns.
fn process_cpu(tasks: &str) -> BenchResult<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(tasks)? {
        let text = std::fs::read_to_string(task?.path().join("schedstat")).unwrap_or_default();
        total += text
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

/// A request written in advance, but for its `Idempotency-Key` (unique per request).
struct Template {
    head: Vec<u8>,
    tail: Vec<u8>,
}

/// The number in every `Idempotency-Key`: no two requests of a run share one.
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// `--without-keys`: requests carry no `Idempotency-Key` (the baseline).
static WITHOUT_KEYS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Template {
    fn new(port: u16, path: &str, body: &str) -> Template {
        let keyed = !WITHOUT_KEYS.load(Ordering::Relaxed);
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\naccept: application/json\r\n\
             content-type: application/json\r\nx-api-key: {KEY}\r\n{}",
            if keyed { "idempotency-key: " } else { "" }
        );
        let tail = format!(
            "{}content-length: {}\r\n\r\n{body}",
            if keyed { "\r\n" } else { "" },
            body.len()
        );
        Template {
            head: head.into_bytes(),
            tail: tail.into_bytes(),
        }
    }

    /// The request, with a new key (`bench-` and 16 hex digits, like a client's UUID
    /// in length), into `out`.
    fn write_to(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.head);
        if !WITHOUT_KEYS.load(Ordering::Relaxed) {
            let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
            let _ = write!(out, "bench-{key:016x}-0000-4000-8000-000000000000");
        }
        out.extend_from_slice(&self.tail);
    }
}

/// One keep-alive connection of the load generator.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// Status and the lengths of head and body, once the head is complete.
fn parse_head(buffer: &[u8]) -> BenchResult<Option<(u16, usize, usize)>> {
    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(buffer.get(..end).unwrap_or_default())?;
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP/1.1 status line: {head:?}"))?;
    let length = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .ok_or("an answer without content-length")?;
    Ok(Some((status, end + 4, length)))
}

impl Connection {
    async fn open(port: u16) -> BenchResult<Connection> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(4096),
        })
    }

    /// Sends one request and reads its whole answer; its body goes to `body` if given.
    async fn exchange(&mut self, request: &[u8], body: Option<&mut Vec<u8>>) -> BenchResult<u16> {
        self.stream.write_all(request).await?;
        loop {
            if let Some((status, head, length)) = parse_head(&self.buffer)?
                && self.buffer.len() >= head + length
            {
                if let Some(body) = body {
                    body.clear();
                    body.extend_from_slice(self.buffer.get(head..head + length).unwrap_or_default());
                }
                self.buffer.drain(..head + length);
                return Ok(status);
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err("the simulator closed the connection".into());
            }
        }
    }
}

/// Creates `count` pending intents (connects of bob, 2FA) over 64 connections; their ids.
async fn create_intents(port: u16, count: usize) -> BenchResult<Vec<String>> {
    let connect = Arc::new(Template::new(
        port,
        "/v1/accounts",
        r#"{"provider":"MESSENGER","username":"bob","password":"pw-b"}"#,
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..CLIENTS {
        let (connect, next) = (Arc::clone(&connect), Arc::clone(&next));
        tasks.spawn(async move {
            let mut connection = Connection::open(port).await?;
            let mut ids = Vec::new();
            let mut body = Vec::new();
            let mut request = Vec::with_capacity(512);
            while next.fetch_add(1, Ordering::Relaxed) < count {
                connect.write_to(&mut request);
                let status = connection.exchange(&request, Some(&mut body)).await?;
                let text = std::str::from_utf8(&body)?;
                let id = text
                    .split_once(r#""account_id":""#)
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(id, _)| id.to_owned());
                match (status, id) {
                    (202, Some(id)) => ids.push(id),
                    _ => return Err(format!("a connect answered {status}: {text}").into()),
                }
            }
            BenchResult::Ok(ids)
        });
    }
    let mut ids = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        ids.extend(done??);
    }
    Ok(ids)
}

/// One round of load: what it measured.
struct Round {
    requests: usize,
    elapsed: Duration,
    /// Latency of every request, in microseconds.
    latencies: Vec<u32>,
    sim_cpu: Duration,
    generator_cpu: Duration,
}

impl Round {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// 64 clients sending resends for random pending intents until `duration` has passed or
/// `max_requests` were sent.
async fn load(
    sim: &Sim,
    requests: Arc<Vec<Template>>,
    duration: Duration,
    max_requests: usize,
) -> BenchResult<Round> {
    let mut connections = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        connections.push(Connection::open(sim.port).await?);
    }
    let sent = Arc::new(AtomicUsize::new(0));
    let (sim_cpu, generator_cpu) = (sim.cpu()?, process_cpu("/proc/self/task")?);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for (i, mut connection) in connections.into_iter().enumerate() {
        let (requests, sent) = (Arc::clone(&requests), Arc::clone(&sent));
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut bytes = Vec::with_capacity(512);
            let mut random = 0x9e37_79b9_7f4a_7c15_u64 ^ (i as u64 + 1);
            while sent.fetch_add(1, Ordering::Relaxed) < max_requests && Instant::now() < deadline {
                // xorshift64: a random pending intent.
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                let index = usize::try_from(random % requests.len() as u64).unwrap_or(0);
                let request = requests.get(index).ok_or("no request")?;
                let begun = Instant::now();
                request.write_to(&mut bytes);
                let status = connection.exchange(&bytes, None).await?;
                if status != 200 {
                    return Err(format!("a resend answered {status}").into());
                }
                latencies.push(u32::try_from(begun.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            BenchResult::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Round {
        requests: latencies.len(),
        elapsed,
        latencies,
        sim_cpu: sim.cpu()? - sim_cpu,
        generator_cpu: process_cpu("/proc/self/task")? - generator_cpu,
    })
}

fn resends(port: u16, ids: &[String]) -> Arc<Vec<Template>> {
    Arc::new(
        ids.iter()
            .map(|id| {
                Template::new(
                    port,
                    "/v1/accounts/checkpoint/resend",
                    &format!(r#"{{"provider":"MESSENGER","account_id":"{id}"}}"#),
                )
            })
            .collect(),
    )
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(0)
}

fn median_round(rounds: &[Round]) -> Option<&Round> {
    let mut sorted: Vec<&Round> = rounds.iter().collect();
    sorted.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// Simulator CPU time per request over all the rounds, in microseconds.
fn sim_cpu_per_request(rounds: &[Round]) -> f64 {
    let requests: usize = rounds.iter().map(|r| r.requests).sum();
    let cpu: Duration = rounds.iter().map(|r| r.sim_cpu).sum();
    cpu.as_secs_f64() * 1e6 / requests.max(1) as f64
}

fn describe(name: &str, rounds: &[Round]) {
    let mut all: Vec<u32> = rounds.iter().flat_map(|r| r.latencies.iter().copied()).collect();
    all.sort_unstable();
    let requests: usize = rounds.iter().map(|r| r.requests).sum();
    let generator_cpu: Duration = rounds.iter().map(|r| r.generator_cpu).sum();
    let rates: Vec<String> = rounds.iter().map(|r| format!("{:.0}", r.rate())).collect();
    println!(
        "  {name}: median {:.0} requests/s (rounds: {}), p50 {} µs, p99 {} µs, max {} µs; \
         CPU per request: simulator {:.1} µs, load generator {:.1} µs",
        median_round(rounds).map_or(0.0, Round::rate),
        rates.join(", "),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(0),
        sim_cpu_per_request(rounds),
        generator_cpu.as_secs_f64() * 1e6 / requests.max(1) as f64,
    );
}

fn row(figure: &str, value: &str, baseline: &str, ratio: &str, goal: &str, met: bool) {
    let met = if met { "yes" } else { "NO" };
    println!("row: {figure} | {value} | {baseline} | {ratio} | {goal} | {met}");
}

async fn check() -> BenchResult {
    let sim = Sim::start()?;
    let ids = create_intents(sim.port, 100).await?;
    let round = load(&sim, resends(sim.port, &ids), Duration::from_secs(5), 500).await?;
    println!(
        "load: {} intents, {} resends from {CLIENTS} clients, each with its own Idempotency-Key, all answered 200",
        ids.len(),
        round.requests
    );
    Ok(())
}

async fn bench() -> BenchResult {
    let (few, many) = (Sim::start()?, Sim::start()?);
    let few_requests = resends(few.port, &create_intents(few.port, FEW).await?);
    let mut many_ids = create_intents(many.port, FEW).await?;
    // Warm-up: fills each simulator's request log and connection buffers.
    load(
        &few,
        Arc::clone(&few_requests),
        Duration::from_secs(1),
        usize::MAX,
    )
    .await?;
    load(
        &many,
        resends(many.port, &many_ids),
        Duration::from_secs(1),
        usize::MAX,
    )
    .await?;

    let before = many.rss()?;
    many_ids.extend(create_intents(many.port, MANY - FEW).await?);
    let after = many.rss()?;
    let added = (MANY - FEW) as f64;
    let per_intent = after.saturating_sub(before) as f64 / added;
    let many_requests = resends(many.port, &many_ids);

    let few_before_rounds = few.rss()?;
    let mut few_rounds = Vec::new();
    let mut many_rounds = Vec::new();
    for i in 0..ROUNDS {
        let first_few = i % 2 == 0;
        for few_now in [first_few, !first_few] {
            if few_now {
                few_rounds.push(load(&few, Arc::clone(&few_requests), ROUND, ROUND_MAX_REQUESTS).await?);
            } else {
                many_rounds.push(load(&many, Arc::clone(&many_requests), ROUND, ROUND_MAX_REQUESTS).await?);
            }
        }
    }
    let (few_end, many_end) = (few.rss()?, many.rss()?);
    let across = many_end.saturating_sub(few_end) as f64 / added;
    // A's pending intents do not change during the rounds: what grows is one
    // idempotency record per resend (and whatever the allocator keeps).
    let few_requests_sent: usize = few_rounds.iter().map(|r| r.requests).sum();
    let per_record = few_end.saturating_sub(few_before_rounds) as f64 / few_requests_sent.max(1) as f64;

    let few_median = median_round(&few_rounds).ok_or("no round")?;
    let many_median = median_round(&many_rounds).ok_or("no round")?;
    let (few_rate, many_rate) = (few_median.rate(), many_median.rate());
    // Each round of B beside the round of A next to it: the median of these ratios.
    let mut ratios: Vec<f64> = few_rounds
        .iter()
        .zip(&many_rounds)
        .map(|(few, many)| many.rate() / few.rate())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios
        .get(ratios.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN);
    let mut latencies: Vec<u32> = few_rounds
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));

    println!(
        "postpress-sim under load: {CLIENTS} keep-alive clients on loopback, resends of random pending \
         intents, {ROUNDS} rounds of {:.1} s per simulator, alternating",
        ROUND.as_secs_f64()
    );
    describe(&format!("{FEW:>7} pending intents"), &few_rounds);
    describe(&format!("{MANY:>7} pending intents"), &many_rounds);
    println!(
        "  resident memory: {:.1} MiB with {FEW} pending, {:.1} MiB after {} more: {per_intent:.0} bytes per \
         pending intent ({across:.0} bytes comparing the two simulators at the end)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        MANY - FEW,
    );
    row(
        "simulator requests/s, 64 clients",
        &format!("{few_rate:.0}/s"),
        "-",
        "-",
        ">= 20000/s",
        few_rate >= 20_000.0,
    );
    row(
        "simulator latency p50 / p99",
        &format!("{p50} µs / {p99} µs"),
        "-",
        "-",
        "(informative)",
        true,
    );
    let keys = if WITHOUT_KEYS.load(Ordering::Relaxed) {
        "without a key"
    } else {
        "each with its own key"
    };
    println!(
        "  idempotency records: {few_requests_sent} resends to A during the rounds, {keys}; \
         A grew {:.1} MiB: {per_record:.0} bytes per resend",
        few_end.saturating_sub(few_before_rounds) as f64 / 1048576.0,
    );
    row(
        "resident memory per idempotency record (A, during the rounds)",
        &format!("{per_record:.0} B"),
        "-",
        "-",
        "(informative)",
        true,
    );
    row(
        "resident memory per pending intent, its connect's record included",
        &format!("{per_intent:.0} B"),
        &format!("{:.1} MiB at {FEW}", before as f64 / 1048576.0),
        "-",
        "<= 1024 B",
        per_intent <= 1024.0,
    );
    let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.3}")).collect();
    println!(
        "  100,000 / 1,000 pending, round beside round: median {ratio:.3} (sorted: {})",
        shown.join(", ")
    );
    let (few_cpu, many_cpu) = (
        sim_cpu_per_request(&few_rounds),
        sim_cpu_per_request(&many_rounds),
    );
    row(
        "simulator CPU per request, 100,000 vs 1,000 pending",
        &format!("{many_cpu:.1} µs"),
        &format!("{few_cpu:.1} µs"),
        &format!("{:.3}", many_cpu / few_cpu),
        "(informative)",
        true,
    );
    row(
        "requests/s at 100,000 vs 1,000 pending",
        &format!("{many_rate:.0}/s"),
        &format!("{few_rate:.0}/s"),
        &format!("{ratio:.3}"),
        "0.90 to 1.10",
        (0.9..=1.1).contains(&ratio),
    );
    Ok(())
}

fn main() -> BenchResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if std::env::args().any(|arg| arg == "--without-keys") {
        WITHOUT_KEYS.store(true, Ordering::Relaxed);
        println!("(--without-keys: no Idempotency-Key on any request)");
    }
    if std::env::args().any(|arg| arg == "--bench") {
        runtime.block_on(bench())
    } else {
        runtime.block_on(check())
    }
}

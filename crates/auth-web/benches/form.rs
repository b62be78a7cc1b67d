//! Simulated users doing a complete 2FA connection through the form's HTTP pages (an HTTP
//! client following the form as a browser would: cookies, CSRF tokens, redirects; no
//! browser) against the simulator, with 64 users at once: connections per second, page
//! latency (p50, p99), with the SQLite store and with the Redis store; and the CPU per
//! connection beside the bare async client (auth-reqwest) doing the same flow.
//!
//! ```sh
//! cargo bench -p auth-web --bench form            # the figures (about a minute)
//! cargo test -p auth-web --bench form             # a quick check (what CI runs)
//! ```
//!
//! Everything runs on loopback in this process (the simulator on its own thread, the form
//! and the users on one tokio runtime), except Redis, a `redis-server` started here. The CPU
//! per connection is this whole process's (users, form, client, simulator), plus
//! redis-server's with the Redis store; the bare client's is the client's and the
//! simulator's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark"
)]
#![allow(missing_docs, reason = "a benchmark")]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_reqwest::Connection;
use auth_sim::{Fixture, Simulator};
use auth_web::{AnyStore, FormConfig};
use support::{Http, Redis};

const USERS: usize = 64;

/// CPU time of this process so far (user + system), from `/proc/self/stat`.
fn cpu_time() -> Duration {
    process_cpu_time("self")
}

/// CPU time of a process so far (user + system), from `/proc/PID/stat`.
fn process_cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are the 12th and 13th after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

struct Figures {
    connections: u64,
    elapsed: Duration,
    cpu: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.connections as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[at.min(sorted.len() - 1)]
    }

    fn cpu_per_connection(&self) -> Duration {
        self.cpu / u32::try_from(self.connections.max(1)).unwrap_or(u32::MAX)
    }
}

/// One user's complete 2FA connection through the pages; the latency of each page.
async fn one_connection(http: &Http, url: &str, latencies: &mut Vec<Duration>) {
    let timed = |latencies: &mut Vec<Duration>, started: Instant| latencies.push(started.elapsed());
    let started = Instant::now();
    let page = http.get(&format!("{url}/")).await;
    timed(latencies, started);
    assert_eq!(page.status, 200);
    let started = Instant::now();
    let answer = http
        .post(
            &format!("{url}/connect"),
            &[("username", "bob"), ("password", "pw-b")],
        )
        .await;
    timed(latencies, started);
    assert_eq!(answer.status, 303, "{}", answer.body);
    let started = Instant::now();
    let page = http.get(&format!("{url}/")).await;
    timed(latencies, started);
    assert_eq!(page.heading(), "2FA");
    let started = Instant::now();
    let answer = http.post(&format!("{url}/solve"), &[("code", "123456")]).await;
    timed(latencies, started);
    assert_eq!(answer.status, 303);
    let started = Instant::now();
    let page = http.get(&format!("{url}/")).await;
    timed(latencies, started);
    assert_eq!(page.heading(), "Connected");
}

/// 64 users, each connecting again and again until `budget` (a count or a time) is spent.
async fn through_the_form(sim: &Simulator, store: AnyStore, budget: Budget, other: Option<u32>) -> Figures {
    let other_cpu = || other.map_or(Duration::ZERO, |pid| process_cpu_time(&pid.to_string()));
    let config = FormConfig::new(support::API_KEY)
        .base_url(sim.base_url())
        .connects_per_ip(u32::MAX, Duration::from_secs(60));
    let (url, server) = support::serve(auth_web::router(config, store)).await;
    let shared = Http::new();
    // Warm up: connections and pools.
    let mut warm = Vec::new();
    one_connection(&shared.fresh(), &url, &mut warm).await;
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_time() + other_cpu();
    let started = Instant::now();
    let mut users = Vec::new();
    for _ in 0..USERS {
        let (http, url, done, stop) = (shared.clone(), url.clone(), Arc::clone(&done), Arc::clone(&stop));
        users.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Budget::Connections(n) = budget
                    && done.fetch_add(1, Ordering::Relaxed) >= n
                {
                    break;
                }
                let browser = http.fresh();
                one_connection(&browser, &url, &mut latencies).await;
                if let Budget::Time(_) = budget {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    if let Budget::Time(time) = budget {
        tokio::time::sleep(time).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut latencies = Vec::new();
    for user in users {
        latencies.extend(user.await.unwrap());
    }
    let elapsed = started.elapsed();
    let cpu = (cpu_time() + other_cpu()).saturating_sub(cpu_before);
    server.abort();
    Figures {
        connections: (latencies.len() / 5) as u64,
        elapsed,
        cpu,
        latencies,
    }
}

/// The same flow with the bare async client, 64 at once: the baseline of CPU per connection.
async fn bare_client(sim: &Simulator, budget: Budget) -> Figures {
    let client = auth_reqwest::Client::builder()
        .base_url(sim.base_url())
        .api_key(support::API_KEY)
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut users = Vec::new();
    for _ in 0..USERS {
        let (client, done, stop) = (client.clone(), Arc::clone(&done), Arc::clone(&stop));
        users.push(tokio::spawn(async move {
            let mut count = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if let Budget::Connections(n) = budget
                    && done.fetch_add(1, Ordering::Relaxed) >= n
                {
                    break;
                }
                let Connection::Pending(mut intent) = client.connect_messenger("bob", "pw-b").await.unwrap()
                else {
                    panic!("bob has a checkpoint");
                };
                intent.solve_code_checkpoint("123456").await.unwrap();
                count += 1;
            }
            count
        }));
    }
    if let Budget::Time(time) = budget {
        tokio::time::sleep(time).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut connections = 0;
    for user in users {
        connections += user.await.unwrap();
    }
    Figures {
        connections,
        elapsed: started.elapsed(),
        cpu: cpu_time().saturating_sub(cpu_before),
        latencies: Vec::new(),
    }
}

#[derive(Clone, Copy)]
enum Budget {
    Connections(u64),
    Time(Duration),
}

fn report(name: &str, figures: &Figures, baseline_cpu: Option<Duration>) {
    println!(
        "{name}: {} connections in {:.1} s = {:.0} connections/s; page latency p50 {:.1} ms, p99 {:.1} ms; \
         CPU {:.0} µs per connection",
        figures.connections,
        figures.elapsed.as_secs_f64(),
        figures.per_second(),
        figures.percentile(0.50).as_secs_f64() * 1e3,
        figures.percentile(0.99).as_secs_f64() * 1e3,
        figures.cpu_per_connection().as_secs_f64() * 1e6,
    );
    let Some(baseline) = baseline_cpu else {
        println!(
            "row: bare client CPU per connection | {:.0} µs | - | - | - | -",
            figures.cpu_per_connection().as_secs_f64() * 1e6
        );
        return;
    };
    let met = |yes: bool| if yes { "yes" } else { "NO" };
    println!(
        "row: form {name} connections/s (64 users) | {:.0} | - | - | >= 500 | {}",
        figures.per_second(),
        met(figures.per_second() >= 500.0)
    );
    let p99 = figures.percentile(0.99).as_secs_f64() * 1e3;
    println!(
        "row: form {name} page p99 | {p99:.1} ms | - | - | <= 50 ms | {}",
        met(p99 <= 50.0)
    );
    let ratio = figures.cpu_per_connection().as_secs_f64() / baseline.as_secs_f64().max(1e-9);
    println!(
        "row: form {name} CPU per connection | {:.0} µs | {:.0} µs (bare client) | {ratio:.2} | - | -",
        figures.cpu_per_connection().as_secs_f64() * 1e6,
        baseline.as_secs_f64() * 1e6,
    );
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let budget = if full {
        Budget::Time(Duration::from_secs(10))
    } else {
        Budget::Connections(16)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sim = Simulator::builder()
            .api_key(support::API_KEY)
            .fixture(Fixture::demo())
            .max_connections(4096)
            .start()
            .unwrap();
        let bare = bare_client(&sim, budget).await;
        report("bare client", &bare, None);
        let baseline = Some(bare.cpu_per_connection());

        let dir = support::temp_dir("bench");
        let sqlite = AnyStore::open(&format!("sqlite:{}", dir.join("bench.sqlite3").display()))
            .await
            .unwrap();
        let figures = through_the_form(&sim, sqlite, budget, None).await;
        report("sqlite", &figures, baseline);
        assert!(figures.connections >= 16);

        let redis = Redis::start();
        let store = AnyStore::open(&redis.url()).await.unwrap();
        let figures = through_the_form(&sim, store, budget, redis.pid()).await;
        report("redis", &figures, baseline);
        assert!(figures.connections >= 16);
        let _ = std::fs::remove_dir_all(dir);
    });
    if !full {
        println!("quick check passed (run with `cargo bench -p auth-web --bench form` for the figures)");
    }
}

//! The client against its raw HTTP library (`client_vs_ureq`, `client_vs_reqwest`):
//! sequential complete 2FA flows over loopback against [`demo_simulator`], through the
//! client and through hand-written calls that send the same requests with the same library
//! settings ([`RawBench`]).
//!
//! The two sides take turns flow by flow (which one goes first in a pair alternates), each
//! on its own client or agent for a whole round, and each flow is timed alone: whatever
//! else the machine does weighs on both sides alike. A side's rate in a round is its
//! flows over the sum of its flows' times; the figures are the medians over the rounds.
//! The simulator counts the TCP connections each side opened in a round: a sequential
//! run must use one.
//!
//! Goal: ratio at least 0.95, one connection per run. Without `--bench` (as `cargo test
//! --all-targets` runs it) it only checks that both sides send the same requests.
//! `--only client|raw FLOWS` runs one side alone, for a profiler (`valgrind
//! --tool=callgrind --separate-threads=yes`).

use std::time::{Duration, Instant};

use auth_sim::{LoggedRequest, Simulator};

use super::{BenchResult, RawBench, demo_simulator, invoked_by_cargo_bench, row};

const ROUNDS: usize = 9;
const FLOWS_PER_ROUND: u32 = 2_000;
const WARMUP_FLOWS: u32 = 300;

/// One round: each side's flows per second and connections opened.
#[derive(Debug, Default)]
struct Round {
    client_rate: f64,
    raw_rate: f64,
    client_connections: u64,
    raw_connections: u64,
}

/// `flows` pairs of flows, taking turns; the first `warmup` pairs are not counted.
fn round<B: RawBench>(bench: &B, sim: &Simulator, warmup: u32, flows: u32) -> BenchResult<Round> {
    bench.block_on(async {
        let client = bench.client(&sim.base_url())?;
        let raw = bench.raw(&sim.base_url())?;
        let (mut client_time, mut raw_time) = (Duration::ZERO, Duration::ZERO);
        let mut result = Round::default();
        for i in 0..warmup + flows {
            for client_turn in [i % 2 == 0, i % 2 == 1] {
                let connections = sim.connections_accepted();
                let started = Instant::now();
                if client_turn {
                    B::client_flow(&client).await?;
                } else {
                    B::raw_flow(&raw).await?;
                }
                let (elapsed, opened) = (started.elapsed(), sim.connections_accepted() - connections);
                let (time, connections) = if client_turn {
                    (&mut client_time, &mut result.client_connections)
                } else {
                    (&mut raw_time, &mut result.raw_connections)
                };
                *connections += opened;
                if i >= warmup {
                    *time += elapsed;
                }
            }
        }
        result.client_rate = f64::from(flows) / client_time.as_secs_f64();
        result.raw_rate = f64::from(flows) / raw_time.as_secs_f64();
        Ok(result)
    })
}

/// `flows` flows on one side (`client_side`, or the raw one), on a client or agent of its own.
fn run_side<B: RawBench>(bench: &B, base_url: &str, client_side: bool, flows: u32) -> BenchResult {
    bench.block_on(async {
        if client_side {
            let client = bench.client(base_url)?;
            for _ in 0..flows {
                B::client_flow(&client).await?;
            }
        } else {
            let raw = bench.raw(base_url)?;
            for _ in 0..flows {
                B::raw_flow(&raw).await?;
            }
        }
        Ok(())
    })
}

/// A request as the simulator saw it: method, path, headers (sorted), body.
type Shape = (String, String, Vec<(String, String)>, String);

/// The requests of one flow, with the account id and the idempotency key (different every
/// time) blanked out.
fn shapes(requests: &[LoggedRequest]) -> Vec<Shape> {
    requests
        .iter()
        .map(|r| {
            let mut body = String::from_utf8_lossy(&r.body).into_owned();
            if let Some(start) = body.find(r#""account_id":""#) {
                let start = start + r#""account_id":""#.len();
                if let Some(len) = body.get(start..).and_then(|rest| rest.find('"')) {
                    body.replace_range(start..start + len, "…");
                }
            }
            let mut headers = r.headers.clone();
            for (name, value) in &mut headers {
                if name.eq_ignore_ascii_case("idempotency-key") {
                    // Both sides send one, of the same shape: a UUID v4.
                    *value = format!("<{} chars>", value.len());
                }
            }
            headers.sort();
            (r.method.clone(), r.path.clone(), headers, body)
        })
        .collect()
}

/// Both sides send byte-identical requests, and each uses one connection.
fn check<B: RawBench>(bench: &B, sim: &Simulator, name: &str) -> BenchResult {
    let base_url = sim.base_url();
    let mut seen = Vec::new();
    for client_side in [true, false] {
        sim.clear_requests();
        let before = sim.connections_accepted();
        run_side(bench, &base_url, client_side, 3)?;
        if sim.connections_accepted() - before != 1 {
            return Err("a side opened more than one connection for 3 sequential flows".into());
        }
        seen.push(shapes(&sim.requests()));
    }
    match seen.as_slice() {
        [client, raw] if client == raw && client.len() == 6 => {
            println!("{name}: both sides send the same 6 requests on one connection each");
            Ok(())
        }
        // Names only: the requests carry the API key and the password.
        [client, raw] => {
            let differ = client.iter().zip(raw).position(|(c, r)| c != r);
            Err(format!(
                "the two sides sent different requests: {} and {} requests, first difference at {differ:?}",
                client.len(),
                raw.len()
            )
            .into())
        }
        _ => Err("a side is missing".into()),
    }
}

/// One side alone, for a profiler: `FLOWS` flows.
fn profile<B: RawBench>(bench: &B, sim: &Simulator, client_side: bool, flows: u32) -> BenchResult {
    let started = Instant::now();
    run_side(bench, &sim.base_url(), client_side, flows)?;
    println!("{flows} flows in {:?}", started.elapsed());
    Ok(())
}

/// The whole benchmark `name` (`client_vs_ureq`…), its `main`: the check, then with
/// `--bench` the rounds and the report; `--only client|raw FLOWS` for a profiler.
pub fn main<B: RawBench>(bench: &B, name: &str) -> BenchResult {
    let sim = demo_simulator()?;
    // For profiling one side alone: `--only client|raw FLOWS`.
    let args: Vec<String> = std::env::args().collect();
    if let [_, only, side, flows] = args.as_slice()
        && only == "--only"
    {
        return profile(bench, &sim, side == "client", flows.parse()?);
    }
    check(bench, &sim, name)?;
    if !invoked_by_cargo_bench() {
        return Ok(());
    }

    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        rounds.push(round(bench, &sim, WARMUP_FLOWS, FLOWS_PER_ROUND)?);
    }
    report(&rounds, B::RAW);
    Ok(())
}

/// The medians over the rounds, and the summary rows; `raw` names the raw side.
fn report(rounds: &[Round], raw: &str) {
    let median = |f: fn(&Round) -> f64| super::median(&rounds.iter().map(f).collect::<Vec<_>>());
    let (client_rate, raw_rate) = (median(|r| r.client_rate), median(|r| r.raw_rate));
    let ratio = median(|r| r.client_rate / r.raw_rate);
    let ratios: Vec<String> = rounds
        .iter()
        .map(|r| format!("{:.3}", r.client_rate / r.raw_rate))
        .collect();
    let client_connections = rounds.iter().map(|r| r.client_connections).max().unwrap_or(0);
    let raw_connections = rounds.iter().map(|r| r.raw_connections).max().unwrap_or(0);

    println!(
        "sequential 2FA flows over loopback, the two sides taking turns ({ROUNDS} rounds of \
         {FLOWS_PER_ROUND} flows per side after {WARMUP_FLOWS}, medians)"
    );
    println!("  {raw}: {raw_rate:>7.0} flows/s, {raw_connections} connection(s) per round");
    println!("  Client:   {client_rate:>7.0} flows/s, {client_connections} connection(s) per round");
    println!("  Client / {raw}: {ratio:.3} (rounds: {})", ratios.join(", "));
    row(
        &format!("Client flows/s vs {raw}"),
        &format!("{client_rate:.0}/s"),
        &format!("{raw_rate:.0}/s"),
        &format!("{ratio:.3}"),
        ">= 0.95",
        ratio >= 0.95,
    );
    row(
        "TCP connections per sequential run",
        &format!("{client_connections} (Client)"),
        &format!("{raw_connections} ({raw})"),
        "-",
        "1",
        client_connections == 1,
    );
}

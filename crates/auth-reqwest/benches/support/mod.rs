//! What the loopback benchmarks share: one complete 2FA flow through the [`Client`], the
//! same flow as hand-written reqwest calls, CPU clocks and memory read from `/proc`, and the
//! output.
//!
//! A flow is the demo account `bob` (2FA, code `123456`): `POST /accounts` answered 202
//! with a checkpoint, then `POST /accounts/checkpoint` answered 201 `AccountCreated`.
//! The simulator lets the same account connect again and again, each time with a new
//! intent.
#![allow(dead_code, reason = "each benchmark uses part of it")]

use std::error::Error;
use std::time::Duration;

use auth_reqwest::{Client, ClientBuilder, Connection, Solved, USER_AGENT};
use serde::Deserialize;

/// The API key the simulator expects.
pub(crate) const KEY: &str = "bench-api-key";
/// The fixture account every flow connects (from `Fixture::demo`).
pub(crate) const USERNAME: &str = "bob";
pub(crate) const PASSWORD: &str = "pw-b";
pub(crate) const CODE: &str = "123456";

pub(crate) type BenchResult<T = ()> = Result<T, Box<dyn Error>>;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs the binary bare, and then
/// it only checks, quickly, that every side works.
pub(crate) fn invoked_by_cargo_bench() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// A current-thread tokio runtime, as a small service or a test would run the client.
pub(crate) fn runtime() -> BenchResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// One complete 2FA flow through the client.
pub(crate) async fn client_flow(client: &Client) -> BenchResult {
    match client.connect_messenger(USERNAME, PASSWORD).await? {
        Connection::Pending(mut intent) => match intent.solve_code_checkpoint(CODE).await? {
            Solved::Connected { .. } => Ok(()),
            other => Err(format!("the solve answered {other:?}, not Connected").into()),
        },
        other => Err(format!("the connect answered {other:?}, not a checkpoint").into()),
    }
}

/// A client as an application builds it, against `base_url`.
pub(crate) fn client(base_url: &str) -> BenchResult<Client> {
    Ok(Client::builder().base_url(base_url).api_key(KEY).build()?)
}

/// The same flow as [`client_flow`], written by hand on reqwest as the docs describe it: the
/// same requests (method, URL, headers with a fresh `Idempotency-Key` of 16 random bytes per
/// request, bytes of the body), a reqwest client built with the same settings as the
/// client's (`ClientBuilder::build`: rustls, no redirect, no proxy to loopback, the connect
/// timeout, the user agent, `TCP_NODELAY`, the default pool), the same per-request time
/// budget and answer limit, and the least reading of the answers a careful caller does:
/// the status, then `object`, `account_id` and the checkpoint's type with serde into
/// borrowed fields. It retries nothing (no fault is injected).
pub(crate) struct RawFlows {
    http: reqwest::Client,
    connect_url: String,
    solve_url: String,
}

#[derive(Deserialize)]
struct Reply<'a> {
    object: &'a str,
    account_id: &'a str,
    #[serde(borrow)]
    checkpoint: Option<CheckpointReply<'a>>,
}

#[derive(Deserialize)]
struct CheckpointReply<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
}

/// The client's per-request budget and answer limit (the builder's defaults).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_ANSWER_BYTES: u64 = ClientBuilder::DEFAULT_MAX_ANSWER_BYTES;

impl RawFlows {
    /// A reqwest client configured as `ClientBuilder::build` configures the client's.
    pub(crate) fn new(base_url: &str) -> BenchResult<RawFlows> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(ClientBuilder::DEFAULT_CONNECT_TIMEOUT)
            .user_agent(USER_AGENT)
            .tcp_nodelay(true)
            .no_proxy()
            .build()?;
        Ok(RawFlows {
            http,
            connect_url: format!("{base_url}/accounts"),
            solve_url: format!("{base_url}/accounts/checkpoint"),
        })
    }

    async fn post(&self, url: &str, body: String) -> BenchResult<(u16, bytes::Bytes)> {
        let key = idempotency_key()?;
        let response = self
            .http
            .post(url)
            .header("accept", "application/json")
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .header("X-API-KEY", KEY)
            .timeout(REQUEST_TIMEOUT)
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|length| length > MAX_ANSWER_BYTES)
        {
            return Err("answer too large".into());
        }
        let body = response.bytes().await?;
        Ok((status, body))
    }

    /// One complete 2FA flow.
    pub(crate) async fn flow(&self) -> BenchResult {
        let connect =
            format!(r#"{{"provider":"MESSENGER","username":"{USERNAME}","password":"{PASSWORD}"}}"#);
        let (status, body) = self.post(&self.connect_url, connect).await?;
        let reply: Reply<'_> = serde_json::from_slice(&body)?;
        let kind = reply.checkpoint.as_ref().map(|c| c.kind);
        if status != 202 || reply.object != "Checkpoint" || kind != Some("2FA") {
            return Err(format!("the connect answered {status}, not a 2FA checkpoint").into());
        }
        let solve = format!(
            r#"{{"provider":"MESSENGER","account_id":"{}","code":"{CODE}"}}"#,
            reply.account_id
        );
        let (status, body) = self.post(&self.solve_url, solve).await?;
        let reply: Reply<'_> = serde_json::from_slice(&body)?;
        if status != 201 || reply.object != "AccountCreated" || reply.account_id.is_empty() {
            return Err(format!("the solve answered {status}, not AccountCreated").into());
        }
        Ok(())
    }
}

/// A UUID v4 from 16 random bytes, written by hand as a client following the docs would.
fn idempotency_key() -> BenchResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    if let Some(byte) = bytes.get_mut(6) {
        *byte = (*byte & 0x0f) | 0x40;
    }
    if let Some(byte) = bytes.get_mut(8) {
        *byte = (*byte & 0x3f) | 0x80;
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    ))
}

/// CPU time of the whole process, user and system, of all its threads, those that ended
/// included: `utime + stime` from `/proc/self/stat`, what `getrusage(RUSAGE_SELF)` counts,
/// in clock ticks of 10 ms (`USER_HZ`).
pub(crate) fn process_cpu() -> BenchResult<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
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
pub(crate) fn rss_kib() -> BenchResult<u64> {
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
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// One line of the summary table `scripts/bench-all.sh` prints: figure, value, baseline,
/// ratio, goal, met.
pub(crate) fn row(figure: &str, value: &str, baseline: &str, ratio: &str, goal: &str, met: bool) {
    let met = if met { "yes" } else { "NO" };
    println!("row: {figure} | {value} | {baseline} | {ratio} | {goal} | {met}");
}

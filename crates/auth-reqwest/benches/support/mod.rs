//! What is the async client's own in its loopback comparisons: one complete 2FA flow
//! through the [`Client`], the same flow as hand-written reqwest calls, and the tokio
//! runtime both run on. The rest (the simulator, the comparisons, the CPU clock, the
//! report) is `auth_test_scenarios::bench`, shared with auth-ureq's benches.

use std::future::Future;

use auth_reqwest::{Client, ClientBuilder, Connection, Solved, USER_AGENT};
use auth_test_scenarios::bench::{self, BenchResult, ClientBench, KEY, RawBench, raw};
use tokio::runtime::Runtime;

/// The async client under benchmark, on a current-thread tokio runtime, as a small service
/// or a test would run it.
pub(crate) struct Reqwest {
    runtime: Runtime,
}

impl Reqwest {
    pub(crate) fn new() -> BenchResult<Reqwest> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Reqwest { runtime })
    }
}

impl ClientBench for Reqwest {
    type Client = Client;

    /// A client as an application builds it, against `base_url`.
    fn client(&self, base_url: &str) -> BenchResult<Client> {
        Ok(Client::builder().base_url(base_url).api_key(KEY).build()?)
    }

    /// One complete 2FA flow through the client.
    async fn client_flow(client: &Client) -> BenchResult {
        match client.connect_messenger(bench::USERNAME, bench::PASSWORD).await? {
            Connection::Pending(mut intent) => match intent.solve_code_checkpoint(bench::CODE).await? {
                Solved::Connected { .. } => Ok(()),
                other => Err(format!("the solve answered {other:?}, not Connected").into()),
            },
            other => Err(format!("the connect answered {other:?}, not a checkpoint").into()),
        }
    }

    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }
}

impl RawBench for Reqwest {
    type Raw = RawFlows;

    const RAW: &'static str = "raw reqwest";

    fn raw(&self, base_url: &str) -> BenchResult<RawFlows> {
        RawFlows::new(base_url)
    }

    fn raw_flow(raw: &RawFlows) -> impl Future<Output = BenchResult> {
        raw.flow()
    }
}

/// The same flow as [`Reqwest::client_flow`], written by hand on reqwest as the docs
/// describe it: the same requests (method, URL, headers with a fresh `Idempotency-Key` of
/// 16 random bytes per request, bytes of the body), a reqwest client built with the same
/// settings as the client's (`ClientBuilder::build`: rustls, no redirect, no proxy to
/// loopback, the connect timeout, the user agent, `TCP_NODELAY`, the default pool), the
/// same per-request time budget and answer limit, and the least reading of the answers a
/// careful caller does ([`raw`]). It retries nothing (no fault is injected).
pub(crate) struct RawFlows {
    http: reqwest::Client,
    connect_url: String,
    solve_url: String,
}

/// The client's answer limit (the builder's default).
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
        let key = raw::idempotency_key()?;
        let response = self
            .http
            .post(url)
            .header("accept", "application/json")
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .header("X-API-KEY", KEY)
            .timeout(raw::REQUEST_TIMEOUT)
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
        let (status, body) = self.post(&self.connect_url, raw::connect_body()).await?;
        let account_id = raw::checkpoint_account_id(status, &body)?;
        let (status, body) = self.post(&self.solve_url, raw::solve_body(account_id)).await?;
        raw::account_created(status, &body)
    }
}

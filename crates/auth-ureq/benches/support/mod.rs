//! What is the blocking client's own in its loopback benchmarks: one complete 2FA flow
//! through the [`Client`], and the same flow as hand-written ureq calls. The rest (the
//! simulator, the comparisons, the CPU clock, the report) is `auth_test_scenarios::bench`,
//! shared with auth-reqwest's benches.

use std::future::Future;

use auth_test_scenarios::bench::{self, BenchResult, ClientBench, KEY, RawBench, raw};
use auth_ureq::{Client, ClientBuilder, Connection, Solved, USER_AGENT};

/// The blocking client under benchmark: its flows are ready at their first poll.
pub(crate) struct Ureq;

impl ClientBench for Ureq {
    type Client = Client;

    /// A client as an application builds it, against `base_url`.
    fn client(&self, base_url: &str) -> BenchResult<Client> {
        Ok(Client::builder().base_url(base_url).api_key(KEY).build()?)
    }

    /// One complete 2FA flow through the client.
    async fn client_flow(client: &Client) -> BenchResult {
        match client.connect_messenger(bench::USERNAME, bench::PASSWORD)? {
            Connection::Pending(mut intent) => match intent.solve_code_checkpoint(bench::CODE)? {
                Solved::Connected { .. } => Ok(()),
                other => Err(format!("the solve answered {other:?}, not Connected").into()),
            },
            other => Err(format!("the connect answered {other:?}, not a checkpoint").into()),
        }
    }

    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        bench::run_blocking(future)
    }
}

impl RawBench for Ureq {
    type Raw = RawFlows;

    const RAW: &'static str = "raw ureq";

    fn raw(&self, base_url: &str) -> BenchResult<RawFlows> {
        Ok(RawFlows::new(base_url))
    }

    async fn raw_flow(raw: &RawFlows) -> BenchResult {
        raw.flow()
    }
}

/// The same flow as [`Ureq::client_flow`], written by hand on ureq as the docs describe it:
/// the same requests (method, URL, headers with a fresh `Idempotency-Key` of 16 random
/// bytes per request, bytes of the body), the same agent settings as the client's, the same
/// per-request time budget and answer limit, and the least reading of the answers a
/// careful caller does ([`raw`]). It retries nothing (no fault is injected).
pub(crate) struct RawFlows {
    agent: ureq::Agent,
    connect_url: String,
    solve_url: String,
}

/// The client's answer limit (the builder's default).
const MAX_ANSWER_BYTES: u64 = ClientBuilder::DEFAULT_MAX_ANSWER_BYTES;

impl RawFlows {
    /// An agent configured as `ClientBuilder::build` configures the client's.
    pub(crate) fn new(base_url: &str) -> RawFlows {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(ClientBuilder::DEFAULT_CONNECT_TIMEOUT))
            .user_agent(USER_AGENT)
            .proxy(None)
            .build();
        RawFlows {
            agent: ureq::Agent::new_with_config(config),
            connect_url: format!("{base_url}/accounts"),
            solve_url: format!("{base_url}/accounts/checkpoint"),
        }
    }

    fn post(&self, url: &str, body: &str) -> BenchResult<(u16, Vec<u8>)> {
        let key = raw::idempotency_key()?;
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(url)
            .header("accept", "application/json")
            .header("content-type", "application/json")
            .header("Idempotency-Key", key.as_str())
            .header("X-API-KEY", KEY)
            .body(body.as_bytes())?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(raw::REQUEST_TIMEOUT))
            .build();
        let mut answer = self.agent.run(request)?;
        let status = answer.status().as_u16();
        let body = answer
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES + 1)
            .read_to_vec()?;
        Ok((status, body))
    }

    /// One complete 2FA flow.
    pub(crate) fn flow(&self) -> BenchResult {
        let (status, body) = self.post(&self.connect_url, &raw::connect_body())?;
        let account_id = raw::checkpoint_account_id(status, &body)?;
        let (status, body) = self.post(&self.solve_url, &raw::solve_body(account_id))?;
        raw::account_created(status, &body)
    }
}

//! The form's one seam to the account-connection API: connect, resume a saved intent, act on
//! it, each with the `Idempotency-Key` the form chose and kept in its record.

use std::sync::Arc;
use std::time::SystemTime;

use auth_core::{
    AccountId, Answer, AsyncClock, AsyncTransport, BaseUrl, Command, Config, Credentials, Error, Event, Flow,
    IdempotencyKey, PendingFlow, Request, Snapshot, TransportError, TransportErrorKind, UnixMillis,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The clock of the form: wall-clock unix milliseconds. Tests move it by hand.
pub(crate) type ClockFn = Arc<dyn Fn() -> UnixMillis + Send + Sync>;

/// The system clock.
pub(crate) fn system_clock() -> ClockFn {
    Arc::new(|| UnixMillis::from_system_time(SystemTime::now()))
}

/// What a connect led to.
#[derive(Debug)]
pub(crate) enum Connected {
    /// The account is connected (or reconnected).
    Account(AccountId),
    /// A checkpoint to solve: the intent to keep.
    Pending(PendingFlow),
}

/// The API: its configuration (API key, time budgets, retry policy), an HTTP client and a
/// clock. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Api {
    config: Config,
    transport: HttpTransport,
    clock: ClockFn,
}

impl Api {
    pub(crate) fn new(config: Config, base_url: BaseUrl, max_answer_bytes: usize, clock: ClockFn) -> Self {
        Self {
            config,
            transport: HttpTransport::new(base_url, max_answer_bytes),
            clock,
        }
    }

    pub(crate) fn now(&self) -> UnixMillis {
        (self.clock)()
    }

    /// `POST /accounts` with `key`.
    pub(crate) async fn connect(
        &self,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connected, Error> {
        let mut flow = Flow::new(self.config.clone());
        let mut transport = self.transport.clone();
        let event = auth_core::drive_async(
            &mut flow,
            &mut transport,
            self,
            Command::Connect(credentials),
            key,
        )
        .await?;
        match event.connected_account() {
            Some(account_id) => Ok(Connected::Account(account_id.clone())),
            None => PendingFlow::new(flow)
                .map(Connected::Pending)
                .ok_or(Error::Usage(auth_core::UsageError::NoPendingIntent)),
        }
    }

    /// Continues a saved intent at the form's `now`: nothing is sent.
    pub(crate) fn resume(&self, snapshot: Snapshot) -> Result<PendingFlow, Error> {
        PendingFlow::resume(self.config.clone(), snapshot, self.now())
    }

    /// Sends one command of a pending intent (solve, resend) with `key`.
    pub(crate) async fn act(
        &self,
        pending: &mut PendingFlow,
        command: Command,
        key: IdempotencyKey,
    ) -> Result<Event, Error> {
        let mut transport = self.transport.clone();
        auth_core::drive_async(pending.flow_mut(), &mut transport, self, command, key).await
    }
}

impl AsyncClock for Api {
    fn now(&self) -> UnixMillis {
        (self.clock)()
    }

    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send {
        let wait = at.saturating_duration_since(self.now());
        tokio::time::sleep(wait)
    }
}

/// Plain HTTP/1.1 on hyper's pooled client: the simulator on loopback, or an API behind a
/// TLS-terminating proxy on the same host.
#[derive(Clone)]
struct HttpTransport {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    base_url: Arc<BaseUrl>,
    max_answer_bytes: usize,
}

impl HttpTransport {
    fn new(base_url: BaseUrl, max_answer_bytes: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
            base_url: Arc::new(base_url),
            max_answer_bytes,
        }
    }

    async fn exchange(&self, request: &Request) -> Result<Answer, TransportError> {
        let url = self.base_url.url_for(&request.path);
        let mut builder = hyper::Request::builder().method(request.method.as_str()).uri(url);
        for header in request.headers() {
            builder = builder.header(header.name(), header.value());
        }
        let http_request = builder
            .body(Full::new(Bytes::copy_from_slice(request.body.as_bytes())))
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))?;
        let response = self
            .client
            .request(http_request)
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Io, e.to_string()))?;
        if response.status().is_redirection() {
            return Err(TransportError::new(
                TransportErrorKind::Redirect,
                "redirects are not followed",
            ));
        }
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| Answer::is_read_header(name.as_str()))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let body = Limited::new(response.into_body(), self.max_answer_bytes)
            .collect()
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Io, e.to_string()))?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}

impl AsyncTransport for HttpTransport {
    fn send(&mut self, request: &Request) -> impl Future<Output = Result<Answer, TransportError>> + Send {
        let this = self.clone();
        let request = request.clone();
        async move {
            match tokio::time::timeout(request.timeout, this.exchange(&request)).await {
                Ok(result) => result,
                Err(_) => Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    "no answer in time",
                )),
            }
        }
    }
}

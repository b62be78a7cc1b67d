//! `auth-core` in async code, with another HTTP client: hyper 1 on tokio.
//!
//! `auth-ureq` is one driver of the sans-IO state machine; this example is another. It
//! writes no loop of its own: [`auth_core::drive_async`] is the loop (send, read the answer,
//! wait and send again when the core's retry policy says so), and this file only says how
//! to send a request ([`AsyncTransport`], hyper's HTTP/1 connection on a
//! `tokio::net::TcpStream`, bounded by `tokio::time::timeout(request.timeout, …)`) and how
//! to tell and wait for the time ([`AsyncClock`], tokio's timer). What each command led to is
//! mapped by the core's [`Connection`] and [`PendingFlow`], as the blocking client does.
//!
//! It runs against an in-process simulator, so it needs no account and no network:
//!
//! ```text
//! cargo run -p auth-ureq --example async_hyper
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use auth_core::{
    Answer, AsyncClock, AsyncTransport, BaseUrl, Checkpoint, Command, Config, Connection, Credentials, Error,
    Flow, IdempotencyKey, PendingFlow, Request, Solution, Solved, TransportError, TransportErrorKind,
    UnixMillis, drive_async,
};
use auth_sim::Simulator;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

const API_KEY: &str = "demo-api-key";

/// The largest answer body read, as `auth-ureq` does.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// A transport on one kept-alive hyper HTTP/1 connection: it sends, it never decides.
struct HyperTransport {
    addr: SocketAddr,
    base_url: BaseUrl,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HyperTransport {
    fn new(addr: SocketAddr, base_url: BaseUrl) -> Self {
        Self {
            addr,
            base_url,
            sender: None,
        }
    }

    async fn exchange(&mut self, request: &Request) -> Result<Answer, TransportError> {
        let broken =
            |e: hyper::Error| TransportError::new(TransportErrorKind::Io, "connection broken").with_source(e);
        // hyper's HTTP/1 connection takes the path and query; the core's base URL joins them.
        let url = self.base_url.url_for(&request.path);
        let path_and_query = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').and_then(|at| rest.get(at..)))
            .unwrap_or("/")
            .to_owned();
        let mut builder = hyper::Request::builder()
            .method(request.method.as_str())
            .uri(path_and_query)
            .header(hyper::header::HOST, self.addr.to_string());
        for header in request.headers() {
            builder = builder.header(header.name(), header.value());
        }
        let body = Full::new(Bytes::copy_from_slice(request.body.as_bytes()));
        let http_request = builder.body(body).map_err(|e| {
            TransportError::new(TransportErrorKind::Refused, "invalid request").with_source(e)
        })?;
        let sender = self.connection().await?;
        let response = sender.send_request(http_request).await.map_err(broken)?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            return Err(TransportError::new(
                TransportErrorKind::Redirect,
                "redirects are never followed",
            ));
        }
        // Only the headers the core reads (`retry-after`, `x-request-id`).
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| Answer::is_read_header(name.as_str()))
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| {
                self.sender = None;
                let kind = if e.is::<http_body_util::LengthLimitError>() {
                    TransportErrorKind::BodyTooLarge
                } else {
                    TransportErrorKind::Io
                };
                TransportError::new(kind, "the answer's body could not be read")
            })?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body: body.to_vec(),
        })
    }

    /// The kept-alive connection, or a new one.
    async fn connection(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, TransportError> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            let stream = tokio::net::TcpStream::connect(self.addr).await.map_err(|e| {
                TransportError::new(TransportErrorKind::Connect, "cannot connect").with_source(e)
            })?;
            let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| {
                TransportError::new(TransportErrorKind::Connect, "handshake failed").with_source(e)
            })?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| TransportError::new(TransportErrorKind::Other, "no connection"))?;
        sender
            .ready()
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Io, "connection closed").with_source(e))?;
        Ok(sender)
    }
}

impl AsyncTransport for HyperTransport {
    /// Sends one request within its time budget (for an in-app validation, the intent's
    /// whole remaining time), and shows it.
    async fn send(&mut self, request: &Request) -> Result<Answer, TransportError> {
        println!(
            "-> {} {} {} (attempt {})",
            request.method,
            request.path,
            request.body.redacted(),
            request.attempt
        );
        let result = match tokio::time::timeout(request.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_elapsed) => {
                // The connection is in an unknown state: never reuse it.
                self.sender = None;
                Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    "no answer in time",
                ))
            }
        };
        match &result {
            Ok(answer) => println!("<- {}", answer.status),
            Err(error) => println!("<- no answer: {error}"),
        }
        result
    }
}

/// The wall clock, and tokio's timer to wait for a retry.
struct TokioClock;

impl AsyncClock for TokioClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::from_system_time(SystemTime::now())
    }

    async fn sleep_until(&self, at: UnixMillis) {
        tokio::time::sleep(at.saturating_duration_since(self.now())).await;
    }
}

/// 16 random bytes for each command's idempotency key: the driver brings the entropy.
fn new_key() -> Result<IdempotencyKey, Error> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| TransportError::new(TransportErrorKind::Refused, "no randomness").with_source(e))?;
    Ok(IdempotencyKey::from_random_bytes(random))
}

/// Connects an account and solves its checkpoints; `answer` stands for the user.
async fn connect(
    transport: &mut HyperTransport,
    credentials: Credentials,
    answer: impl Fn(&Checkpoint) -> Solution,
) -> Result<String, Error> {
    let config = Config::new(API_KEY).with_request_timeout(Duration::from_secs(10));
    let mut flow = Flow::new(config);
    let outcome = drive_async(
        &mut flow,
        transport,
        &TokioClock,
        Command::Connect(credentials),
        new_key()?,
    )
    .await;
    // The core's mapping from events to what a client returns, as the blocking client's.
    let mut pending: PendingFlow = match Connection::from_outcome(flow, outcome, |pending| pending)? {
        Connection::Connected { account_id } | Connection::Reconnected { account_id } => {
            return Ok(account_id.as_str().to_owned());
        }
        Connection::Pending(pending) => pending,
        // `Connection` may grow: a driver treats what it does not know as an error.
        _ => return Err(auth_core::UsageError::NoPendingIntent.into()),
    };
    loop {
        let checkpoint = pending.checkpoint();
        println!(
            "   checkpoint {checkpoint}: {} ({} s left)",
            checkpoint.instructions(),
            pending.remaining(TokioClock.now()).as_secs()
        );
        let solve = Command::Solve(answer(checkpoint));
        let outcome = drive_async(pending.flow_mut(), transport, &TokioClock, solve, new_key()?).await;
        match pending.solved(outcome)? {
            Solved::Connected { account_id } | Solved::Reconnected { account_id } => {
                return Ok(account_id.as_str().to_owned());
            }
            // The next checkpoint of a chain, in the same intent.
            _ => continue,
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The demo accounts of the contract, on loopback, with the real clock.
    let sim = Simulator::builder().api_key(API_KEY).start()?;
    let mut transport = HyperTransport::new(sim.addr(), BaseUrl::parse(&sim.unipile_base_url())?);

    // dave: a 2FA code, then an OTP, in one intent.
    let dave = connect(
        &mut transport,
        Credentials::messenger("dave", "pw-d"),
        |checkpoint| match checkpoint {
            Checkpoint::Otp => Solution::code("222222"),
            _ => Solution::code("111111"),
        },
    )
    .await?;
    println!("connected account {dave}");

    // carol: approves in the app; the request stays open until she does (1.5 s here).
    let carol = connect(&mut transport, Credentials::messenger("carol", "pw-c"), |_| {
        Solution::InAppValidation
    })
    .await?;
    println!("connected account {carol}");

    println!(
        "{} requests on {} connection(s)",
        sim.requests().len(),
        sim.connections_accepted()
    );
    Ok(())
}

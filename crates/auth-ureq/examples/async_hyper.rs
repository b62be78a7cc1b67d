//! `auth-core` in async code, with another HTTP client: hyper 1 on tokio.
//!
//! `auth-ureq` is one driver of the sans-IO state machine; this example is another, in
//! about a hundred lines. The whole loop is three calls: [`Flow::begin`] gives the request
//! as plain data, your client sends it (here, hyper's HTTP/1 connection on a
//! `tokio::net::TcpStream`, bounded by `tokio::time::timeout(request.timeout, …)`), and
//! [`Flow::handle_answer`] (or [`Flow::handle_transport_error`]) reads what came back.
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
    Answer, Checkpoint, Command, Config, Credentials, Event, Flow, Request, Solution, TransportError,
    TransportErrorKind, UnixMillis,
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
    /// The base URL's path, e.g. `/v1` (postpress) or `/api/v1` (Unipile).
    base_path: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HyperTransport {
    fn new(addr: SocketAddr, base_path: &str) -> Self {
        Self {
            addr,
            base_path: base_path.to_owned(),
            sender: None,
        }
    }

    /// Sends one request within its time budget (for an in-app validation, the intent's
    /// whole remaining time).
    async fn send(&mut self, request: &Request) -> Result<Answer, TransportError> {
        match tokio::time::timeout(request.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_elapsed) => {
                // The connection is in an unknown state: never reuse it.
                self.sender = None;
                Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    "no answer in time",
                ))
            }
        }
    }

    async fn exchange(&mut self, request: &Request) -> Result<Answer, TransportError> {
        let broken =
            |e: hyper::Error| TransportError::new(TransportErrorKind::Io, "connection broken").with_source(e);
        let mut builder = hyper::Request::builder()
            .method(request.method.as_str())
            .uri(format!("{}{}", self.base_path, request.path))
            .header(hyper::header::HOST, self.addr.to_string());
        for header in &request.headers {
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
        let headers = response
            .headers()
            .iter()
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

fn now() -> UnixMillis {
    UnixMillis::from_system_time(SystemTime::now())
}

/// One step of the flow: begin, send, read the answer. This is the whole driver loop.
async fn step(
    flow: &mut Flow,
    transport: &mut HyperTransport,
    command: Command,
) -> Result<Event, auth_core::Error> {
    let request = flow.begin(now(), command)?;
    println!(
        "-> {} {} {}",
        request.method,
        request.path,
        request.body.redacted()
    );
    match transport.send(&request).await {
        Ok(answer) => {
            println!("<- {}", answer.status);
            flow.handle_answer(now(), &answer)
        }
        Err(error) => Err(flow.handle_transport_error(now(), error)),
    }
}

/// Connects an account and solves its checkpoints; `answer` stands for the user.
async fn connect(
    transport: &mut HyperTransport,
    credentials: Credentials,
    answer: impl Fn(&Checkpoint) -> Solution,
) -> Result<String, auth_core::Error> {
    let mut flow = Flow::new(Config::new(API_KEY).with_request_timeout(Duration::from_secs(10)));
    let mut event = step(&mut flow, transport, Command::Connect(credentials)).await?;
    loop {
        match event {
            Event::Connected { account_id } | Event::Reconnected { account_id } => {
                return Ok(account_id.as_str().to_owned());
            }
            Event::Checkpoint(intent) | Event::CheckpointResent(intent) => {
                println!(
                    "   checkpoint {}: {} ({} s left)",
                    intent.checkpoint,
                    intent.checkpoint.instructions(),
                    intent.remaining(now()).as_secs()
                );
                let solution = answer(&intent.checkpoint);
                event = step(&mut flow, transport, Command::Solve(solution)).await?;
            }
            // `Event` may grow: a driver treats what it does not know as an error.
            other => {
                println!("   unexpected event {other:?}");
                return Err(auth_core::UsageError::NoPendingIntent.into());
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The demo accounts of the contract, on loopback, with the real clock.
    let sim = Simulator::builder().api_key(API_KEY).start()?;
    let mut transport = HyperTransport::new(sim.addr(), "/api/v1");

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

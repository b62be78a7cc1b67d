//! The HTTP side: accepting connections, and for each request the pipeline of the crate
//! README's "Order of checks": API key, rate limit, route, size, `Idempotency-Key`, body,
//! then faults, holds and the answer, recorded for replays.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, oneshot};

use crate::api_keys::ApiKeys;
use crate::body::SimBody;
use crate::clock::Clock;
use crate::error_types as kinds;
use crate::fixture::Fault;
use crate::idempotency::{Begin, Claim, Records, Stored};
use crate::ids::AccountId;
use crate::log::{LoggedRequest, RequestLog};
use crate::rate_limit::Buckets;
use crate::reply::{ErrorEnvelope, RenderContext, Reply, render};
use crate::request::{Route, idempotency_key, parse_operation, route};
use crate::request_id::{RequestId, RequestIds};
use crate::state::{Decision, Operation, State};

/// The largest request body the simulator reads; larger ones answer 413.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// How much of an over-large body is read and discarded before answering 413.
const DRAIN_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// The body of a `non_json_body` fault.
const NON_JSON_BODY: &str = "<html><body><h1>502 Bad Gateway</h1>oops</body></html>";

/// The request id of every answer (the same as in an error body's `instance` or
/// `request_id`).
pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";

/// Set on an answer replayed from an `Idempotency-Key` record (the simulator's own header).
pub(crate) const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Everything the connection tasks share with the [`crate::Simulator`] handle.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) clock: Clock,
    pub(crate) log: RequestLog,
    pub(crate) connections: AtomicU64,
    /// Requests currently held open for an in-app validation.
    pub(crate) held: AtomicUsize,
    pub(crate) keys: ApiKeys,
    pub(crate) envelope: ErrorEnvelope,
    pub(crate) request_ids: RequestIds,
    pub(crate) records: Records,
    /// Per-key token buckets; `None`: no rate limit (the default).
    pub(crate) buckets: Option<Mutex<Buckets>>,
    pub(crate) trace: bool,
}

impl Shared {
    /// Forgets intents and idempotency records whose time has come.
    pub(crate) fn sweep(&self) {
        let now = self.clock.now_ms();
        crate::lock(&self.state).sweep(now);
        self.records.sweep(now);
    }

    fn context(&self, request_id: RequestId) -> RenderContext {
        RenderContext {
            request_id,
            envelope: self.envelope,
            epoch_unix_ms: self.clock.epoch_unix_ms(),
        }
    }
}

/// Closing the connection without (the rest of) an answer: hyper drops the connection
/// when the service fails.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by the simulator")]
pub(crate) struct Abort;

/// How many connections, and requests on one HTTP/2 connection, are served at once, and
/// how long a connection may stay silent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Connections served at once; more wait in the kernel's backlog.
    pub(crate) max_connections: usize,
    /// Requests in flight on one HTTP/2 connection (its `SETTINGS_MAX_CONCURRENT_STREAMS`).
    pub(crate) max_streams: u32,
    /// How long a client has to send a request's head (see
    /// [`crate::SimulatorBuilder::header_read_timeout`]).
    pub(crate) header_read_timeout: Duration,
}

/// Accepts connections until `shutdown` fires (or its sender is dropped). Each connection
/// speaks HTTP/1.1, or HTTP/2 when it opens with the HTTP/2 preface (cleartext, prior
/// knowledge), as hyper-util's `auto` builder tells them apart.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: ConnectionLimits,
    sweep_every: Option<Duration>,
    mut shutdown: oneshot::Receiver<()>,
) {
    if let Some(period) = sweep_every {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                shared.sweep();
            }
        });
    }
    // A semaphore holds at most MAX_PERMITS (usize::MAX >> 3): more is no cap in practice.
    let permits = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let timeout = limits.header_read_timeout;
    let mut protocols = auto::Builder::new(TokioExecutor::new());
    protocols
        .http1()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(timeout);
    protocols
        .http2()
        .max_concurrent_streams(limits.max_streams.max(1))
        .timer(TokioTimer::new())
        .keep_alive_interval(timeout)
        .keep_alive_timeout(timeout);
    let protocols = Arc::new(protocols);
    loop {
        // At the connection cap, wait for a connection to end: new ones queue in the
        // kernel's backlog instead of growing memory here.
        let permit = tokio::select! {
            biased;
            _ = &mut shutdown => return,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let stream = tokio::select! {
            biased;
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let connection = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let protocols = Arc::clone(&protocols);
        tokio::spawn(async move {
            let first_request = Arc::new(Notify::new());
            let arrived = Arc::clone(&first_request);
            let service = service_fn(move |request| {
                arrived.notify_one();
                handle(Arc::clone(&shared), connection, request)
            });
            let serving = protocols.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(serving);
            // hyper times out a request head over HTTP/1.1, but not a connection that has
            // not yet said which protocol it speaks (nothing, or part of the HTTP/2
            // preface) nor an HTTP/2 connection that sends no request: give each
            // connection the same time for its first request.
            tokio::select! {
                _ = serving.as_mut() => {}
                first = tokio::time::timeout(timeout, first_request.notified()) => {
                    if first.is_ok() {
                        let _ = serving.await;
                    }
                }
            }
            drop(permit);
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    connection: u64,
    request: Request<Incoming>,
) -> Result<Response<SimBody>, Abort> {
    let (parts, body) = request.into_parts();
    let request_id = shared.request_ids.next_id();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (bytes, too_large) = if declared.is_some_and(|n| n > DRAIN_LIMIT_BYTES) {
        (Bytes::new(), true)
    } else {
        read_body(body).await?
    };
    shared.log.push(LoggedRequest {
        connection,
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
        received_at: Duration::from_millis(shared.clock.now_ms()),
    });
    let outcome = answer(&shared, &parts, &bytes, too_large, request_id).await;
    if shared.trace {
        // Method, path and status only: never a header (API keys) or a body (passwords).
        let status = match &outcome {
            Ok(response) if response.headers().contains_key(REPLAYED_HEADER) => {
                format!("{} (replayed)", response.status().as_u16())
            }
            Ok(response) => response.status().as_u16().to_string(),
            Err(_) => "connection closed".to_owned(),
        };
        eprintln!(
            "postpress-sim: {} {} -> {status} [{request_id}]",
            parts.method,
            parts.uri.path()
        );
    }
    outcome
}

/// Reads the body; past [`MAX_BODY_BYTES`] it keeps reading and discarding (up to
/// [`DRAIN_LIMIT_BYTES`]) so that a client that writes its whole body before reading gets
/// the 413 instead of a connection reset.
async fn read_body(mut body: Incoming) -> Result<(Bytes, bool), Abort> {
    let mut kept = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        // An error here: the client went away in the middle of its body.
        let frame = frame.map_err(|_| Abort)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len() as u64);
        if total > MAX_BODY_BYTES as u64 {
            kept = Vec::new();
            if total > DRAIN_LIMIT_BYTES {
                break;
            }
        } else {
            kept.extend_from_slice(&data);
        }
    }
    Ok((Bytes::from(kept), total > MAX_BODY_BYTES as u64))
}

/// One answer, before it is written.
struct Answer {
    status: u16,
    body: Vec<u8>,
    request_id: RequestId,
    retry_after: Option<u32>,
}

impl Answer {
    fn of(shared: &Shared, reply: &Reply, request_id: RequestId) -> Answer {
        Answer {
            status: reply.status(),
            body: render(reply, &shared.context(request_id)),
            request_id,
            retry_after: None,
        }
    }

    fn retry_after(mut self, seconds: Option<u32>) -> Answer {
        self.retry_after = seconds;
        self
    }

    /// The record a retry with the same `Idempotency-Key` replays, if this answer is one
    /// to keep: anything below 500 but 429. A 429 or a 5xx says the request may not have
    /// been acted on, so a retry with the same key is acted on anew.
    fn to_record(&self) -> Option<Stored> {
        (self.status < 500 && self.status != 429).then(|| Stored {
            status: self.status,
            request_id: self.request_id,
            retry_after: self.retry_after,
            body: self.body.as_slice().into(),
        })
    }
}

async fn answer(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    too_large: bool,
    request_id: RequestId,
) -> Result<Response<SimBody>, Abort> {
    let answer_now = |reply: Reply| Ok(write(Answer::of(shared, &reply, request_id), &Fault::default()));
    let api_key = match shared.keys.authenticate(&parts.headers) {
        Ok(key) => key,
        Err(reply) => return answer_now(reply),
    };
    if let Some(buckets) = &shared.buckets {
        let now = shared.clock.now_ms();
        let taken = crate::lock(buckets).take(api_key, now);
        if let Err(seconds) = taken {
            let reply = Reply::error(
                429,
                kinds::TOO_MANY_REQUESTS,
                format!("this API key's rate limit is reached; retry in {seconds} s"),
            );
            let answer = Answer::of(shared, &reply, request_id).retry_after(Some(seconds));
            return Ok(write(answer, &Fault::default()));
        }
    }
    let route = match route(&parts.method, parts.uri.path()) {
        Ok(route) => route,
        Err(refused) => {
            let mut response = write(Answer::of(shared, &refused.reply, request_id), &Fault::default());
            if let Some(allow) = refused.allow {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            return Ok(response);
        }
    };
    let post = match route {
        Route::GetAccount(account_id) => {
            let now = shared.clock.now_ms();
            let reply = crate::lock(&shared.state).account(&account_id, now);
            return answer_now(reply);
        }
        Route::Post(post) => post,
    };
    if too_large {
        return answer_now(Reply::error(
            413,
            kinds::CONTENT_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    let idempotency = match idempotency_key(&parts.headers) {
        Ok(key) => key,
        Err(reply) => return answer_now(reply),
    };
    // Only an idempotent request needs its endpoint's name (its fingerprint).
    let endpoint = idempotency.map(|_| post.endpoint()).unwrap_or_default();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let operation = match parse_operation(post, content_type, body) {
        Ok(operation) => operation,
        Err(reply) => return answer_now(reply),
    };
    let Some(idempotency) = idempotency else {
        return act(shared, &operation, request_id, None).await;
    };
    let records = &shared.records;
    let key = records.key(api_key, idempotency);
    let fingerprint = records.fingerprint(&endpoint, body);
    loop {
        // Armed before asking, so that a claim ending in between still wakes this wait.
        let changed = records.changed().notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        match records.begin(key, fingerprint, shared.clock.now_ms()) {
            Begin::Replay(stored) => return Ok(replay(&stored)),
            Begin::Conflict => {
                return answer_now(Reply::error(
                    409,
                    kinds::IDEMPOTENCY_CONFLICT,
                    "this Idempotency-Key was already used with another request; use a new key",
                ));
            }
            Begin::Wait => changed.await,
            Begin::Run(claim) => return act(shared, &operation, request_id, Some(claim)).await,
        }
    }
}

/// Acts on a valid request: faults, the state's answer (holding it for an in-app
/// approval), the idempotency record, then the answer as the faults say to write it.
async fn act(
    shared: &Shared,
    operation: &Operation,
    request_id: RequestId,
    claim: Option<Claim<'_>>,
) -> Result<Response<SimBody>, Abort> {
    let now = shared.clock.now_ms();
    let fault = crate::lock(&shared.state)
        .take_fault(operation, now)
        .unwrap_or_default();
    if let Some(delay) = fault.delay_duration() {
        tokio::time::sleep(delay).await;
    }
    // Dropping the claim on the two paths below frees the key: nothing was acted on.
    if fault.is_close_without_answer() {
        return Err(Abort);
    }
    if let Some(target) = fault.redirect_target() {
        return Ok(redirect(shared, target, fault.forced_status(), request_id));
    }
    let answer = match fault.forced_status() {
        Some(status) => {
            let reply = crate::lock(&shared.state).forced(operation, status, fault.forced_type());
            Answer::of(shared, &reply, request_id).retry_after(fault.retry_after())
        }
        None => {
            let reply = run(shared, operation).await;
            Answer::of(shared, &reply, request_id)
        }
    };
    if let Some(claim) = claim {
        claim.finish(answer.to_record(), shared.clock.now_ms());
    }
    if fault.is_lose_answer() {
        return Err(Abort);
    }
    Ok(write(answer, &fault))
}

/// Applies the operation, holding the request (without blocking anything) while an in-app
/// validation is pending. A held request is judged at the moment it was due, not at the
/// clock's reading when it wakes: one `advance` far past an approval still sees the
/// approval (and an approval due after the deadline still sees the deadline first).
async fn run(shared: &Shared, operation: &Operation) -> Reply {
    let mut now = shared.clock.now_ms();
    let mut resume = None;
    let mut held: Option<Held<'_>> = None;
    loop {
        let decision = {
            let mut state = crate::lock(&shared.state);
            let decision = state.handle(operation, now, resume);
            // Registered under the same lock as the decision, so that no sweep comes between.
            if let Decision::Hold { intent, .. } = decision
                && held.is_none()
            {
                held = Some(Held::register(shared, &mut state, intent));
            }
            decision
        };
        match decision {
            Decision::Reply(reply) => return reply,
            Decision::Hold {
                until_ms, resume: at, ..
            } => {
                shared.clock.sleep_until(until_ms).await;
                now = shared.clock.now_ms().min(until_ms);
                resume = Some(at);
            }
        }
    }
}

/// A request held on an intent: counted in [`Shared::held`], and keeping its intent from
/// being forgotten, until it is answered or dropped (connection closed, shutdown).
struct Held<'a> {
    shared: &'a Shared,
    intent: AccountId,
}

impl<'a> Held<'a> {
    fn register(shared: &'a Shared, state: &mut State, intent: AccountId) -> Held<'a> {
        state.hold(intent);
        shared.held.fetch_add(1, Ordering::SeqCst);
        Held { shared, intent }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        crate::lock(&self.shared.state).release(self.intent);
        self.shared.held.fetch_sub(1, Ordering::SeqCst);
    }
}

fn header_response(
    status: u16,
    body: SimBody,
    request_id: RequestId,
    retry_after: Option<u32>,
) -> Response<SimBody> {
    let length = body.declared_len();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(id) = HeaderValue::from_str(request_id.text().as_str()) {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn write(answer: Answer, fault: &Fault) -> Response<SimBody> {
    let body = if fault.is_non_json_body() {
        SimBody::whole(NON_JSON_BODY)
    } else if let Some(total) = fault.oversized_body_bytes() {
        SimBody::padded(answer.body, total)
    } else if fault.is_close_mid_answer() {
        SimBody::cut_short(answer.body)
    } else {
        SimBody::whole(answer.body)
    };
    header_response(answer.status, body, answer.request_id, answer.retry_after)
}

/// The recorded answer again: status, body byte for byte, request id, `Retry-After`.
fn replay(stored: &Stored) -> Response<SimBody> {
    let body = SimBody::whole(stored.body_bytes());
    let mut response = header_response(stored.status, body, stored.request_id, stored.retry_after);
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

fn redirect(shared: &Shared, target: &str, status: Option<u16>, request_id: RequestId) -> Response<SimBody> {
    let Ok(location) = HeaderValue::from_str(target) else {
        let reply = Reply::error(
            500,
            kinds::UNEXPECTED_ERROR,
            "the fixture's redirect_to is not a valid header value",
        );
        return write(Answer::of(shared, &reply, request_id), &Fault::default());
    };
    let status = status.unwrap_or(307);
    let reply = Reply::error(status, kinds::UNEXPECTED_ERROR, format!("redirected to {target}"));
    let mut response = write(Answer::of(shared, &reply, request_id), &Fault::default());
    response.headers_mut().insert(header::LOCATION, location);
    response
}

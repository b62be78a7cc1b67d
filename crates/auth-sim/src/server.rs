//! The HTTP side: accepting connections, parsing requests, faults, holds, writing answers.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

use crate::body::SimBody;
use crate::clock::Clock;
use crate::fixture::{Fault, Provider, WireObject};
use crate::log::{LoggedRequest, RequestLog};
use crate::state::{Decision, Operation, Reply, State, kinds};

/// The largest request body the simulator reads; larger ones answer 413.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// How much of an over-large body is read and discarded before answering 413.
const DRAIN_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// The body of a `non_json_body` fault.
const NON_JSON_BODY: &str = "<html><body><h1>502 Bad Gateway</h1>oops</body></html>";

/// Everything the connection tasks share with the [`crate::Simulator`] handle.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) clock: Clock,
    pub(crate) log: RequestLog,
    pub(crate) connections: AtomicU64,
    /// Requests currently held open for an in-app validation.
    pub(crate) held: AtomicUsize,
    pub(crate) api_key: Option<String>,
    pub(crate) trace: bool,
}

/// Closing the connection without (the rest of) an answer: hyper drops the connection
/// when the service fails.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by the simulator")]
pub(crate) struct Abort;

/// Accepts connections until `shutdown` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    max_connections: usize,
    sweep_every: Option<Duration>,
    mut shutdown: oneshot::Receiver<()>,
) {
    if let Some(period) = sweep_every {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                let now = shared.clock.now_ms();
                crate::lock(&shared.state).sweep(now);
            }
        });
    }
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
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
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&shared), connection, request));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
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
    let path = parts.uri.path().to_owned();
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
        path: path.clone(),
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
    let outcome = answer(&shared, &parts, &path, &bytes, too_large).await;
    if shared.trace {
        let status = match &outcome {
            Ok(response) => response.status().as_u16().to_string(),
            Err(_) => "connection closed".to_owned(),
        };
        eprintln!("postpress-sim: {} {path} -> {status}", parts.method);
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

async fn answer(
    shared: &Shared,
    parts: &Parts,
    path: &str,
    body: &[u8],
    too_large: bool,
) -> Result<Response<SimBody>, Abort> {
    if let Err(reply) = check_api_key(shared.api_key.as_deref(), &parts.headers) {
        return Ok(write(&reply, path, &Fault::default()));
    }
    let route = match route(&parts.method, path) {
        Ok(route) => route,
        Err(reply) => {
            let mut response = write(&reply, path, &Fault::default());
            if reply.status() == 405 {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            return Ok(response);
        }
    };
    if too_large {
        let reply = Reply::error(
            413,
            kinds::CONTENT_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        );
        return Ok(write(&reply, path, &Fault::default()));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let operation = match parse_operation(route, content_type, body) {
        Ok(operation) => operation,
        Err(reply) => return Ok(write(&reply, path, &Fault::default())),
    };

    let now = shared.clock.now_ms();
    let fault = crate::lock(&shared.state)
        .take_fault(&operation, now)
        .unwrap_or_default();
    if let Some(delay) = fault.delay_duration() {
        tokio::time::sleep(delay).await;
    }
    if fault.is_close_without_answer() {
        return Err(Abort);
    }
    if let Some(target) = fault.redirect_target() {
        return Ok(redirect(target, fault.forced_status(), path));
    }
    let reply = match fault.forced_status() {
        Some(status) => crate::lock(&shared.state).forced(&operation, status, fault.forced_type()),
        None => run(shared, &operation).await,
    };
    Ok(write(&reply, path, &fault))
}

/// Applies the operation, holding the request (without blocking anything) while an in-app
/// validation is pending.
async fn run(shared: &Shared, operation: &Operation) -> Reply {
    let mut resume = None;
    let mut held_guard: Option<Held<'_>> = None;
    loop {
        let now = shared.clock.now_ms();
        let decision = crate::lock(&shared.state).handle(operation, now, resume);
        match decision {
            Decision::Reply(reply) => return reply,
            Decision::Hold { until_ms, resume: at } => {
                if held_guard.is_none() {
                    shared.held.fetch_add(1, Ordering::SeqCst);
                    held_guard = Some(Held(&shared.held));
                }
                shared.clock.sleep_until(until_ms).await;
                resume = Some(at);
            }
        }
    }
}

/// Counts a held request until it is answered or dropped (connection closed, shutdown).
struct Held<'a>(&'a AtomicUsize);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn check_api_key(expected: Option<&str>, headers: &HeaderMap) -> Result<(), Reply> {
    let given = headers.get("x-api-key").map(HeaderValue::as_bytes);
    let ok = match (expected, given) {
        (_, None) => false,
        (Some(expected), Some(given)) => expected.as_bytes() == given,
        (None, Some(given)) => !given.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(Reply::error(
            401,
            kinds::MISSING_CREDENTIALS,
            "a valid X-API-KEY header is necessary to perform the request",
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Connect,
    Solve,
    Resend,
    Reconnect(String),
}

/// Both path styles: `/v1/…` (postpress) and `/api/v1/…` (Unipile).
fn route(method: &Method, path: &str) -> Result<Route, Reply> {
    let rest = path
        .strip_prefix("/api/v1/")
        .or_else(|| path.strip_prefix("/v1/"));
    let route = match rest {
        Some("accounts") => Some(Route::Connect),
        Some("accounts/checkpoint") => Some(Route::Solve),
        Some("accounts/checkpoint/resend") => Some(Route::Resend),
        Some(other) => other
            .strip_prefix("accounts/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .map(|id| Route::Reconnect(id.to_owned())),
        None => None,
    };
    let Some(route) = route else {
        return Err(Reply::error(
            404,
            kinds::RESOURCE_NOT_FOUND,
            format!("no route for {path}; the API lives under /v1/accounts or /api/v1/accounts"),
        ));
    };
    if method != Method::POST {
        return Err(Reply::error(
            405,
            kinds::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed here; use POST"),
        ));
    }
    Ok(route)
}

/// A field of the body: `Ok(None)` when missing (or null), an error when not a usable string.
fn text_field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Err(format!("`{name}` must not be empty")),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{name}` must be a string")),
    }
}

fn parse_operation(route: Route, content_type: Option<&str>, body: &[u8]) -> Result<Operation, Reply> {
    let is_json = content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Reply::error(
            400,
            kinds::MALFORMED_REQUEST,
            "the body must be JSON sent with content-type: application/json",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Reply::error(
            400,
            kinds::MALFORMED_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(object) = value else {
        return Err(Reply::error(
            400,
            kinds::INVALID_PARAMETERS,
            "the body must be a JSON object",
        ));
    };
    let names: &[&str] = match route {
        Route::Connect | Route::Reconnect(_) => &["provider", "username", "password"],
        Route::Solve => &["provider", "account_id", "code"],
        Route::Resend => &["provider", "account_id"],
    };
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    let mut values = Vec::new();
    for name in names {
        match text_field(&object, name) {
            Ok(Some(value)) => values.push(value),
            Ok(None) => missing.push(*name),
            Err(message) => invalid.push(message),
        }
    }
    if !missing.is_empty() {
        return Err(Reply::error(
            400,
            kinds::MISSING_PARAMETERS,
            format!("missing parameters: {}", missing.join(", ")),
        ));
    }
    if !invalid.is_empty() {
        return Err(Reply::error(400, kinds::INVALID_PARAMETERS, invalid.join("; ")));
    }
    let field = |i: usize| values.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
    let provider_name = field(0);
    let Some(provider) = Provider::parse(&provider_name) else {
        return Err(Reply::error(
            400,
            kinds::INVALID_PARAMETERS,
            format!(
                "`provider` must be one of MESSENGER, LINKEDIN, INSTAGRAM, TWITTER, not `{provider_name}`"
            ),
        ));
    };
    Ok(match route {
        Route::Connect => Operation::Connect {
            provider,
            username: field(1),
            password: field(2),
        },
        Route::Reconnect(account_id) => Operation::Reconnect {
            account_id,
            provider,
            username: field(1),
            password: field(2),
        },
        Route::Solve => Operation::Solve {
            provider,
            account_id: field(1),
            code: field(2),
        },
        Route::Resend => Operation::Resend {
            provider,
            account_id: field(1),
        },
    })
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status: u16,
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    detail: &'a str,
    instance: &'a str,
}

#[derive(Serialize)]
struct AccountBody<'a> {
    object: &'static str,
    account_id: &'a str,
}

#[derive(Serialize)]
struct CheckpointBody<'a> {
    object: &'static str,
    account_id: &'a str,
    checkpoint: &'a WireObject,
}

#[derive(Serialize)]
struct ResendBody {
    object: &'static str,
}

fn title(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The JSON of a reply; `instance` is the request's path.
pub(crate) fn render(reply: &Reply, instance: &str) -> Vec<u8> {
    let json = match reply {
        Reply::AccountCreated(id) => serde_json::to_vec(&AccountBody {
            object: "AccountCreated",
            account_id: id.as_str(),
        }),
        Reply::AccountReconnected(id) => serde_json::to_vec(&AccountBody {
            object: "AccountReconnected",
            account_id: id.as_str(),
        }),
        Reply::Checkpoint(id, checkpoint) => serde_json::to_vec(&CheckpointBody {
            object: "Checkpoint",
            account_id: id.as_str(),
            checkpoint,
        }),
        Reply::CheckpointResend => serde_json::to_vec(&ResendBody {
            object: "CheckpointResend",
        }),
        Reply::Error {
            status,
            kind,
            title: own_title,
            detail,
        } => serde_json::to_vec(&ErrorBody {
            status: *status,
            kind,
            title: own_title.unwrap_or_else(|| title(*status)),
            detail,
            instance,
        }),
    };
    // Serializing strings and numbers cannot fail; an empty object is the fallback.
    json.unwrap_or_else(|_| b"{}".to_vec())
}

fn write(reply: &Reply, path: &str, fault: &Fault) -> Response<SimBody> {
    let json = render(reply, path);
    let body = if fault.is_non_json_body() {
        SimBody::whole(NON_JSON_BODY)
    } else if let Some(total) = fault.oversized_body_bytes() {
        SimBody::padded(json, total)
    } else if fault.is_close_mid_answer() {
        SimBody::cut_short(json)
    } else {
        SimBody::whole(json)
    };
    let length = body.declared_len();
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(reply.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn redirect(target: &str, status: Option<u16>, path: &str) -> Response<SimBody> {
    let Ok(location) = HeaderValue::from_str(target) else {
        let reply = Reply::error(
            500,
            kinds::UNEXPECTED_ERROR,
            "the fixture's redirect_to is not a valid header value",
        );
        return write(&reply, path, &Fault::default());
    };
    let status = status.unwrap_or(307);
    let reply = Reply::error(status, kinds::UNEXPECTED_ERROR, format!("redirected to {target}"));
    let mut response = write(&reply, path, &Fault::default());
    response.headers_mut().insert(header::LOCATION, location);
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use proptest::prelude::*;

    fn kind_of(reply: &Reply) -> String {
        match reply {
            Reply::Error { kind, .. } => kind.to_string(),
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn routes_in_both_styles() {
        for prefix in ["/v1", "/api/v1"] {
            let r = |p: &str| route(&Method::POST, &format!("{prefix}{p}"));
            assert_eq!(r("/accounts").unwrap(), Route::Connect);
            assert_eq!(r("/accounts/checkpoint").unwrap(), Route::Solve);
            assert_eq!(r("/accounts/checkpoint/resend").unwrap(), Route::Resend);
            assert_eq!(r("/accounts/abc").unwrap(), Route::Reconnect("abc".into()));
            assert_eq!(r("/accounts/").unwrap_err().status(), 404);
            assert_eq!(r("/accounts/a/b").unwrap_err().status(), 404);
            assert_eq!(r("/accountz").unwrap_err().status(), 404);
        }
        assert_eq!(route(&Method::POST, "/v2/accounts").unwrap_err().status(), 404);
        assert_eq!(route(&Method::GET, "/v1/accounts").unwrap_err().status(), 405);
    }

    #[test]
    fn bodies_are_validated_in_order() {
        let json = Some("application/json; charset=utf-8");
        let parse = |body: &str| parse_operation(Route::Solve, json, body.as_bytes());
        assert_eq!(kind_of(&parse("{").unwrap_err()), kinds::MALFORMED_REQUEST);
        assert_eq!(kind_of(&parse("[1]").unwrap_err()), kinds::INVALID_PARAMETERS);
        assert_eq!(
            kind_of(&parse(r#"{"provider":"MESSENGER","code":5}"#).unwrap_err()),
            kinds::MISSING_PARAMETERS
        );
        assert_eq!(
            kind_of(&parse(r#"{"provider":"MESSENGER","account_id":"a","code":5}"#).unwrap_err()),
            kinds::INVALID_PARAMETERS
        );
        assert_eq!(
            kind_of(&parse(r#"{"provider":"SKYPE","account_id":"a","code":"5"}"#).unwrap_err()),
            kinds::INVALID_PARAMETERS
        );
        assert_eq!(
            parse(r#"{"provider":"MESSENGER","account_id":"a","code":"5","extra":1}"#).unwrap(),
            Operation::Solve {
                provider: Provider::Messenger,
                account_id: "a".into(),
                code: "5".into()
            }
        );
        let no_type = parse_operation(Route::Connect, None, b"{}").unwrap_err();
        assert_eq!(kind_of(&no_type), kinds::MALFORMED_REQUEST);
        let text = parse_operation(Route::Connect, Some("text/plain"), b"{}").unwrap_err();
        assert_eq!(kind_of(&text), kinds::MALFORMED_REQUEST);
    }

    #[test]
    fn error_bodies_have_the_contract_shape() {
        let reply = Reply::error(401, kinds::INVALID_CREDENTIALS, "nope");
        let value: Value = serde_json::from_slice(&render(&reply, "/v1/accounts")).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"status":401,"type":"errors/invalid_credentials","title":"Unauthorized","detail":"nope","instance":"/v1/accounts"})
        );
        let titled = Reply::error(400, kinds::AUTHENTICATION_INTENT_ERROR, "gone").with_title("Intent gone");
        let value: Value = serde_json::from_slice(&render(&titled, "/v1/accounts/checkpoint")).unwrap();
        assert_eq!(value["title"], "Intent gone");
        assert_eq!(value["status"], 400);
    }

    proptest! {
        #[test]
        fn any_body_and_route_is_answered_without_panic(
            body in proptest::collection::vec(any::<u8>(), 0..200),
            path in "/(api/)?v1/accounts(/[a-z]{0,4}){0,3}",
            json in proptest::option::of(prop_oneof![
                Just(r#"{"provider":"MESSENGER"}"#.to_owned()),
                Just(r#"{"provider":"MESSENGER","username":"bob","password":"pw-b"}"#.to_owned()),
                "\\{\"provider\":\"[A-Z]{0,9}\",\"account_id\":\"[a-zA-Z0-9]{0,30}\",\"code\":\"[0-9]{0,6}\"\\}",
            ]),
        ) {
            let body = json.map(String::into_bytes).unwrap_or(body);
            if let Ok(route) = route(&Method::POST, &path) {
                let _ = parse_operation(route, Some("application/json"), &body);
            }
        }
    }
}

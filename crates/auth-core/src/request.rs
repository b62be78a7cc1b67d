//! Requests as plain data: what the machine wants sent, and a transport sends as it is.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::idempotency::IdempotencyKey;
use crate::secret::{REDACTED, SecretString, wipe_bytes};

/// The HTTP method of a request: `POST` for every call that acts, `GET` to read an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `POST`.
    Post,
    /// `GET`.
    Get,
}

impl Method {
    /// The method's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Get => "GET",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which call of the contract a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// `POST /accounts`: connect with username and password.
    Connect,
    /// `POST /accounts/{account_id}`: reconnect an existing account.
    Reconnect,
    /// `POST /accounts/checkpoint`: solve a checkpoint.
    Solve,
    /// `POST /accounts/checkpoint/resend`: send the checkpoint again.
    Resend,
    /// `GET /accounts/{account_id}`: read an account's status.
    AccountStatus,
}

impl RequestKind {
    /// Every kind, in the contract's order.
    pub const ALL: [Self; 5] = [
        Self::Connect,
        Self::Reconnect,
        Self::Solve,
        Self::Resend,
        Self::AccountStatus,
    ];

    /// The kind's name, as [`Display`](fmt::Display) writes it: `connect`, `solve`…
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Reconnect => "reconnect",
            Self::Solve => "solve",
            Self::Resend => "resend",
            Self::AccountStatus => "account_status",
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request header, as [`Request::headers`] lists it. The API key's header (`X-API-KEY`
/// or `Authorization`) is redacted in `Debug`.
#[derive(Clone, Copy)]
pub struct Header<'a> {
    name: &'static str,
    value: &'a str,
    sensitive: bool,
}

impl<'a> Header<'a> {
    /// The header's name, as the contract writes it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The header's value, to send.
    pub fn value(&self) -> &'a str {
        self.value
    }

    /// Whether the value is a secret, never to be logged.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }
}

impl fmt::Debug for Header<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.sensitive { REDACTED } else { self.value };
        write!(f, "{}: {}", self.name, value)
    }
}

/// How the API key is sent with a request: the header's name, and its value shared with the
/// [`Config`](crate::Config) rather than copied, so it is wiped once, with the last of them.
#[derive(Clone)]
pub(crate) struct Auth {
    pub(crate) name: &'static str,
    pub(crate) value: Arc<SecretString>,
}

/// A request body: JSON bytes that may carry a password or a code.
///
/// `Debug` shows only its length; the buffer is wiped when the body is dropped.
/// [`Body::redacted`] renders it for people, with secret fields replaced.
#[derive(Clone, Default)]
pub struct Body(Vec<u8>);

impl Body {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to send.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The number of bytes to send.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The body as JSON text for a log or a demo, with `password` and `code` redacted
    /// (keys in alphabetical order): [`redacted_json`] of its bytes.
    ///
    /// ```
    /// # use auth_core::{Config, Credentials, Flow, Input, Command, IdempotencyKey, Output, UnixMillis};
    /// let mut flow = Flow::new(Config::new("key"));
    /// let connect = Command::Connect(Credentials::messenger("alice", "pw-a"));
    /// let key = IdempotencyKey::from_random_bytes([1; 16]);
    /// let Output::Send(request) = flow.handle(UnixMillis::from_millis(0), Input::command(connect, key)) else {
    ///     unreachable!()
    /// };
    /// assert_eq!(
    ///     request.body.redacted(),
    ///     r#"{"password":"<redacted>","provider":"MESSENGER","username":"alice"}"#
    /// );
    /// ```
    pub fn redacted(&self) -> String {
        redacted_json(&self.0)
    }
}

/// JSON bytes as text for a log or a demo, with the value of every `password` and `code`
/// field, at any depth (the proxy's password included), replaced by `<redacted>` (keys in
/// alphabetical order). Bytes that are not JSON are shown as their length only.
///
/// ```
/// assert_eq!(
///     auth_core::redacted_json(br#"{"a":[{"code":"123456"}],"b":1}"#),
///     r#"{"a":[{"code":"<redacted>"}],"b":1}"#
/// );
/// assert_eq!(auth_core::redacted_json(b"<html>"), "<6 bytes>");
/// ```
pub fn redacted_json(bytes: &[u8]) -> String {
    fn redact(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(object) => {
                for (key, item) in object.iter_mut() {
                    if key == "password" || key == "code" {
                        *item = serde_json::Value::String(REDACTED.to_owned());
                    } else {
                        redact(item);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(mut value) => {
            redact(&mut value);
            value.to_string()
        }
        Err(_) => format!("<{} bytes>", bytes.len()),
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Body(<{} bytes, redacted>)", self.0.len())
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        wipe_bytes(std::mem::take(&mut self.0));
    }
}

/// An HTTP request the machine wants sent, as plain data.
///
/// The transport joins [`Request::path`] to its base URL (`https://api.postpress.ai/v1`,
/// `https://{DSN}/api/v1`, or a simulator's; [`BaseUrl::url_for`](crate::BaseUrl::url_for)
/// does it, keeping a `?port=` query), sends [`Request::headers`] and the body as they are,
/// and gives up after [`Request::timeout`].
#[derive(Clone)]
#[non_exhaustive]
pub struct Request {
    /// Which call of the contract this is.
    pub kind: RequestKind,
    /// The HTTP method.
    pub method: Method,
    /// The path relative to the base URL, starting with `/`: `/accounts`, `/accounts/checkpoint`…
    pub path: Cow<'static, str>,
    /// The JSON body (empty for a GET).
    pub body: Body,
    /// How long the transport may take to get the whole answer. For an in-app validation
    /// this is the intent's whole remaining time; no request outlives its intent.
    pub timeout: Duration,
    /// The `Idempotency-Key` of a POST: the same on every attempt of this logical request.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Which attempt this is: 1 for the first send, 2 for the first retry…
    pub attempt: u32,
    pub(crate) auth: Auth,
}

impl Request {
    /// The headers to send, in order: `accept`; for a POST `content-type` and
    /// `Idempotency-Key`; and the API key's (`X-API-KEY` or `Authorization`, sensitive).
    /// Listed from the request's own fields, so building a request allocates no list.
    pub fn headers(&self) -> impl Iterator<Item = Header<'_>> {
        let plain = |name, value| Header {
            name,
            value,
            sensitive: false,
        };
        let post = self.method == Method::Post;
        [
            Some(plain("accept", "application/json")),
            post.then(|| plain("content-type", "application/json")),
            self.idempotency_key
                .as_ref()
                .map(|key| plain("Idempotency-Key", key.as_str())),
            Some(Header {
                name: self.auth.name,
                value: self.auth.value.expose(),
                sensitive: true,
            }),
        ]
        .into_iter()
        .flatten()
    }

    /// The value of a header, by name (ignoring ASCII case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("kind", &self.kind)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers().collect::<Vec<_>>())
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .field("idempotency_key", &self.idempotency_key)
            .field("attempt", &self.attempt)
            .finish()
    }
}

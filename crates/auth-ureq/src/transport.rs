//! The blocking transport: sends an [`auth_core::Request`] with ureq and brings back its
//! [`Answer`]. It decides nothing: every status goes back to the core.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_client::{Exchange, Observer, clamped_timeout, redirect_target};
use auth_core::{Answer, BaseUrl, Method, Request, Transport, TransportError, TransportErrorKind};

/// An [`auth_core::Transport`] on a blocking [`ureq::Agent`].
///
/// It joins the base URL and [`Request::path`] with [`BaseUrl::url_for`] (a `?port=` query
/// of the base URL goes on every request), sends the method, headers and body as they are
/// (a `GET` without a body), gives up after [`Request::timeout`] (the whole exchange, body
/// included; clamped to between a millisecond and
/// [`MAX_REQUEST_TIMEOUT`](crate::MAX_REQUEST_TIMEOUT)), and reads at most
/// [`UreqTransport::max_answer_bytes`] of the answer. Every status, 4xx and 5xx
/// included, is an [`Answer`] for the core to read; a 3xx is never followed and is a
/// [`TransportErrorKind::Redirect`] error, so the API key never reaches another host. Of
/// the answer's headers it keeps those the core reads ([`Answer::is_read_header`]:
/// `retry-after`, `x-request-id`), and all of them when an observer or a caller of
/// [`Client::transport`](crate::Client::transport) sees them.
///
/// It decides nothing: whether to send again, and when, is the core's retry policy, run by
/// [`auth_core::drive`]. It tells the client's
/// [`on_exchange`](crate::ClientBuilder::on_exchange) observer of every attempt.
///
/// Cloning is cheap and shares the agent's pool of kept-alive connections. Get one from
/// [`Client::transport`](crate::Client::transport) to drive an [`auth_core::Flow`] through
/// the shared loop:
///
/// ```
/// use auth_core::{drive, Command, Credentials, Event, Flow};
/// # let sim = auth_sim::Simulator::builder().api_key("my-api-key").start()?;
/// let client = auth_ureq::Client::builder().base_url(sim.base_url()).api_key("my-api-key").build()?;
///
/// let mut flow = Flow::new(client.config().clone());
/// let command = Command::Connect(Credentials::messenger("alice", "pw-a"));
/// let key = auth_ureq::new_idempotency_key()?;
/// let event = drive(&mut flow, &mut client.transport(), client.clock(), command, key)?;
/// assert!(matches!(event, Event::Connected { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    base_url: Arc<BaseUrl>,
    max_answer_bytes: u64,
    /// Whether [`Answer::headers`] keeps every header, or only those the core reads (a dozen
    /// allocations less per request when nobody else looks).
    keep_headers: bool,
    observer: Option<Observer>,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("base_url", &self.base_url)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .field("observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl UreqTransport {
    /// A transport on `agent`, sending to `base_url` and telling `observer` of every
    /// exchange. It keeps every header of an answer when an observer sees them.
    ///
    /// The agent should be built with `http_status_as_error(false)` (so 4xx and 5xx bodies
    /// reach the core) and `max_redirects(0)`; [`Client`](crate::Client) builds it so.
    pub(crate) fn new(
        agent: ureq::Agent,
        base_url: BaseUrl,
        max_answer_bytes: u64,
        observer: Option<Observer>,
    ) -> Self {
        Self {
            agent,
            base_url: Arc::new(base_url),
            max_answer_bytes,
            keep_headers: observer.is_some(),
            observer,
        }
    }

    /// The same transport, keeping every header of an answer or only those the core reads.
    pub(crate) fn keeping_headers(mut self, keep: bool) -> Self {
        self.keep_headers = keep;
        self
    }

    /// The base URL every request path is joined to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The largest answer body read; a larger one is a
    /// [`TransportErrorKind::BodyTooLarge`] error, and no more of it is read.
    pub fn max_answer_bytes(&self) -> u64 {
        self.max_answer_bytes
    }

    /// Sends one request and reads its answer, telling the observer: what
    /// [`Transport::send`] does, through a shared reference.
    pub fn execute(&self, request: &Request) -> Result<Answer, TransportError> {
        let Some(observer) = &self.observer else {
            return self.exchange(request);
        };
        // The clock is read only for an observer.
        let started = Instant::now();
        let outcome = self.exchange(request);
        observer(&Exchange {
            request,
            outcome: outcome.as_ref(),
            elapsed: started.elapsed(),
        });
        outcome
    }

    fn exchange(&self, request: &Request) -> Result<Answer, TransportError> {
        let url = self.base_url.url_for(&request.path);
        // Never formats a header: the API key must not reach any message.
        let context = || format!("{} {}", request.method, url);
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(url.as_str());
        for header in request.headers() {
            builder = builder.header(header.name(), header.value());
        }
        let timeout = clamped_timeout(request.timeout);
        // A request without a body (a GET) is sent without one, not with `content-length: 0`.
        let sent = if request.body.is_empty() && request.method == Method::Get {
            builder.body(()).map(|r| self.run(r, timeout))
        } else {
            builder
                .body(request.body.as_bytes())
                .map(|r| self.run(r, timeout))
        };
        let mut response = sent
            .map_err(|e| {
                // `http::Error` says which part is invalid, never the value.
                TransportError::new(
                    TransportErrorKind::Refused,
                    format!("{}: the request could not be built: {e}", context()),
                )
                .with_source(e)
            })?
            .map_err(|e| map_error(e, &context()))?;

        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|value| value.to_str().ok())
                .map(|value| format!(" to {}", redirect_target(value)))
                .unwrap_or_default();
            return Err(TransportError::new(
                TransportErrorKind::Redirect,
                format!(
                    "{}: the server answered {status}, a redirect{location}; redirects are never followed",
                    context()
                ),
            ));
        }
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| self.keep_headers || Answer::is_read_header(name.as_str()))
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    // Header values are nearly always ASCII: check that first, fast.
                    match value.to_str() {
                        Ok(text) => text.to_owned(),
                        Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    },
                )
            })
            .collect();
        let too_large = || {
            TransportError::new(
                TransportErrorKind::BodyTooLarge,
                format!(
                    "{}: the answer's body is larger than {} bytes; it was not read",
                    context(),
                    self.max_answer_bytes
                ),
            )
        };
        // A declared length over the limit fails before a byte of the body is read.
        let declared = response
            .headers()
            .get(ureq::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max_answer_bytes) {
            return Err(too_large());
        }
        // ureq's limit fails when asked for a byte past it, even at the end of the body: a
        // limit one past the maximum accepts a body of exactly the maximum.
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_answer_bytes.saturating_add(1))
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => too_large().with_source(e),
                other => map_error(other, &context()),
            })?;
        if u64::try_from(body.len()).map_or(true, |length| length > self.max_answer_bytes) {
            return Err(too_large());
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Runs a built request on the agent, within `timeout` for the whole exchange.
    fn run(
        &self,
        request: ureq::http::Request<impl ureq::AsSendBody>,
        timeout: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        self.agent.run(request)
    }
}

impl Transport for UreqTransport {
    fn send(&mut self, request: &Request) -> Result<Answer, TransportError> {
        self.execute(request)
    }
}

/// A shared transport sends too: the client drives every flow through its own, unshared.
impl Transport for &UreqTransport {
    fn send(&mut self, request: &Request) -> Result<Answer, TransportError> {
        self.execute(request)
    }
}

/// Maps a ureq error to the kind of transport failure, keeping it as the source.
///
/// ureq's own texts never carry a header value; `context` is the method and URL.
fn map_error(error: ureq::Error, context: &str) -> TransportError {
    use TransportErrorKind as Kind;
    let (kind, what) = match &error {
        ureq::Error::Timeout(_) => (Kind::Timeout, "the request's time budget ran out"),
        ureq::Error::HostNotFound => (Kind::Connect, "the host name was not found"),
        ureq::Error::ConnectionFailed | ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => {
            (Kind::Connect, "the connection could not be made")
        }
        // rustls reports every TLS failure (a certificate that does not verify, a peer that
        // does not speak TLS, a fatal alert) as an `InvalidData` io error around its own
        // error, which ureq passes on as `Error::Io`: it is a TLS failure, not a broken line.
        ureq::Error::Io(io_error) if is_tls_failure(io_error) => (Kind::Tls, "TLS failed"),
        ureq::Error::Io(io_error) => match io_error.kind() {
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NotFound => (Kind::Connect, "the connection could not be made"),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                (Kind::Timeout, "the request's time budget ran out")
            }
            _ => (Kind::Io, "the connection broke before the whole answer arrived"),
        },
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) | ureq::Error::TlsRequired => {
            (Kind::Tls, "TLS failed")
        }
        ureq::Error::BodyExceedsLimit(_) => (Kind::BodyTooLarge, "the answer's body is too large"),
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => (
            Kind::Redirect,
            "the server answered a redirect, which is never followed",
        ),
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => {
            (Kind::Io, "the answer is not valid HTTP/1.1")
        }
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::RequireHttpsOnly(_) => {
            (Kind::Refused, "the request could not be built")
        }
        _ => (Kind::Other, "the request failed"),
    };
    TransportError::new(kind, format!("{context}: {what} ({error})")).with_source(error)
}

/// Whether an io error is rustls's report of a TLS failure.
fn is_tls_failure(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_their_kind() {
        let refused = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(map_error(refused, "POST x").kind(), TransportErrorKind::Connect);
        let reset = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(map_error(reset, "POST x").kind(), TransportErrorKind::Io);
        let eof = ureq::Error::Io(io::Error::from(io::ErrorKind::UnexpectedEof));
        assert_eq!(map_error(eof, "POST x").kind(), TransportErrorKind::Io);
        // How rustls reports a certificate that does not verify, through ureq.
        let certificate = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let tls = ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, certificate));
        assert_eq!(map_error(tls, "POST x").kind(), TransportErrorKind::Tls);
        let other_invalid = ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, "bad gzip"));
        assert_eq!(map_error(other_invalid, "POST x").kind(), TransportErrorKind::Io);
        assert_eq!(
            map_error(ureq::Error::HostNotFound, "POST x").kind(),
            TransportErrorKind::Connect
        );
        assert_eq!(
            map_error(ureq::Error::BodyExceedsLimit(3), "POST x").kind(),
            TransportErrorKind::BodyTooLarge
        );
    }
}

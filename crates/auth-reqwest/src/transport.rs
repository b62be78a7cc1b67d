//! The async transport: sends an [`auth_core::Request`] with reqwest and brings back its
//! [`Answer`]. It decides nothing: every status goes back to the core.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use auth_client::{Exchange, Observer, clamped_timeout, redirect_target};
use auth_core::{Answer, AsyncTransport, BaseUrl, Method, Request, TransportError, TransportErrorKind};
use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

/// An [`auth_core::AsyncTransport`] on one [`reqwest::Client`] (one pool of kept-alive
/// connections).
///
/// It joins the base URL and [`Request::path`] ([`BaseUrl::url_for`], keeping a `?port=`
/// query), sends the method, headers and body as they are, gives up after
/// [`Request::timeout`] (the whole exchange, body included; clamped to between a
/// millisecond and [`MAX_REQUEST_TIMEOUT`](crate::MAX_REQUEST_TIMEOUT)), and reads the
/// answer's body chunk by chunk, stopping past [`ReqwestTransport::max_answer_bytes`]. Every status, 4xx and 5xx
/// included, is an [`Answer`] for the core to read; a 3xx is never followed and is a
/// [`TransportErrorKind::Redirect`] error, so the API key never reaches another host.
///
/// Cloning is cheap and shares the pool. Get one from
/// [`Client::transport`](crate::Client::transport) to drive an [`auth_core::Flow`] by hand
/// through [`auth_core::drive_async`]:
///
/// ```
/// use auth_core::{drive_async, Command, Credentials, Event, Flow};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = auth_sim::Simulator::builder().api_key("my-api-key").start()?;
/// let client = auth_reqwest::Client::builder().base_url(sim.base_url()).api_key("my-api-key").build()?;
///
/// let mut flow = Flow::new(client.config().clone());
/// let command = Command::Connect(Credentials::messenger("alice", "pw-a"));
/// let key = auth_reqwest::new_idempotency_key()?;
/// let event = drive_async(&mut flow, &mut client.transport(), client.clock(), command, key).await?;
/// assert!(matches!(event, Event::Connected { .. }));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ReqwestTransport {
    http: reqwest::Client,
    base_url: Arc<BaseUrl>,
    max_answer_bytes: u64,
    /// The API key's header, built once: a request whose sensitive header is this one
    /// sends this value (one copy of the key for the client's life, not one per request).
    auth: Option<(HeaderName, HeaderValue)>,
    /// Whether [`Answer::headers`] keeps every header, or only those the core reads.
    keep_headers: bool,
    observer: Option<Observer>,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("base_url", &self.base_url)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// A transport on `http`, sending to `base_url`. `http` should not follow redirects
    /// ([`ClientBuilder::build`](crate::ClientBuilder::build) builds it so); this transport
    /// refuses a 3xx whatever it was told.
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: BaseUrl,
        max_answer_bytes: u64,
        auth: Option<(HeaderName, HeaderValue)>,
        observer: Option<Observer>,
    ) -> Self {
        Self {
            http,
            base_url: Arc::new(base_url),
            max_answer_bytes,
            auth,
            // Only an observer sees an answer's other headers.
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

    /// Sends one request and reads its answer: what [`AsyncTransport::send`] does, through a
    /// shared reference. The observer of
    /// [`ClientBuilder::on_exchange`](crate::ClientBuilder::on_exchange), if any, is told.
    pub async fn execute(&self, request: &Request) -> Result<Answer, TransportError> {
        let Some(observer) = &self.observer else {
            return self.exchange(request).await;
        };
        let started = Instant::now();
        let outcome = self.exchange(request).await;
        observer(&Exchange {
            request,
            outcome: outcome.as_ref(),
            elapsed: started.elapsed(),
        });
        outcome
    }

    /// One exchange within the request's budget.
    async fn exchange(&self, request: &Request) -> Result<Answer, TransportError> {
        let url = self.base_url.url_for(&request.path);
        let budget = clamped_timeout(request.timeout);
        let outcome = match tokio::time::timeout(budget, self.exchange_unbounded(request, &url)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!(
                    "{} {url}: the request's time budget ({budget:?}) ran out before the whole answer arrived",
                    request.method
                ),
            )),
        };
        #[cfg(feature = "tracing")]
        if let Err(failure) = &outcome {
            // What the core cannot see: where the request went. The URL holds no secret (user
            // information is refused at build), the message neither (no header is ever
            // formatted).
            tracing::debug!(
                method = request.method.as_str(),
                url = %url,
                attempt = request.attempt,
                transport_error = %failure.kind(),
                error = failure.message(),
                "no answer from the server"
            );
        }
        outcome
    }

    async fn exchange_unbounded(&self, request: &Request, url: &str) -> Result<Answer, TransportError> {
        // Never formats a header: the API key must not reach any message.
        let context = || format!("{} {url}", request.method);
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            _ => reqwest::Method::POST,
        };
        let mut headers = HeaderMap::with_capacity(4);
        for header in request.headers() {
            let (name, value) = match &self.auth {
                Some((name, value))
                    if header.is_sensitive()
                        && name.as_str().eq_ignore_ascii_case(header.name())
                        && value.as_bytes() == header.value().as_bytes() =>
                {
                    (name.clone(), value.clone())
                }
                _ => {
                    let name =
                        header_name(header.name()).ok_or_else(|| refused(&context(), "a header name"))?;
                    let mut value = HeaderValue::from_str(header.value())
                        .map_err(|_| refused(&context(), "a header value"))?;
                    value.set_sensitive(header.is_sensitive());
                    (name, value)
                }
            };
            headers.insert(name, value);
        }
        let mut builder = self.http.request(method, url).headers(headers);
        if !request.body.is_empty() {
            // reqwest needs a body it owns: a copy, wiped when reqwest drops it, as the
            // core wipes its own (the body may carry a password or a code).
            builder = builder.body(Bytes::from_owner(Wiped(request.body.as_bytes().to_vec())));
        }
        let mut response = builder.send().await.map_err(|e| map_error(&e, &context()))?;

        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|value| {
                    format!(
                        " to {}",
                        redirect_target(&String::from_utf8_lossy(value.as_bytes()))
                    )
                })
                .unwrap_or_default();
            return Err(TransportError::new(
                TransportErrorKind::Redirect,
                format!(
                    "{}: the server answered {}, a redirect{location}; redirects are never followed",
                    context(),
                    status.as_u16()
                ),
            ));
        }
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| self.keep_headers || Answer::is_read_header(name.as_str()))
            .map(|(name, value)| {
                let value = match value.to_str() {
                    Ok(text) => text.to_owned(),
                    Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
                };
                (name.as_str().to_owned(), value)
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
        let declared = response.content_length();
        if declared.is_some_and(|length| length > self.max_answer_bytes) {
            return Err(too_large());
        }
        // Room for what the server declared, up to 64 KiB: a larger body grows the buffer as
        // its bytes come, so a declared length alone never allocates a raised limit.
        let expected = declared.unwrap_or(0).min(self.max_answer_bytes).min(64 * 1024);
        let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| map_error(&e, &context()))? {
            let length = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
            if length > self.max_answer_bytes {
                // Dropping the response closes the connection: the rest is never read.
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status: status.as_u16(),
            headers,
            body,
        })
    }
}

impl AsyncTransport for ReqwestTransport {
    fn send(&mut self, request: &Request) -> impl Future<Output = Result<Answer, TransportError>> + Send {
        self.execute(request)
    }
}

impl AsyncTransport for &ReqwestTransport {
    fn send(&mut self, request: &Request) -> impl Future<Output = Result<Answer, TransportError>> + Send {
        let transport: &ReqwestTransport = self;
        transport.execute(request)
    }
}

/// A request body's copy, zeroed when reqwest drops it.
struct Wiped(Vec<u8>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites every byte of the buffer's allocation, its spare capacity included, with zeros.
fn wipe(bytes: &mut Vec<u8>) {
    bytes.clear();
    bytes.resize(bytes.capacity(), 0);
    std::hint::black_box(&*bytes);
}

/// The header names the core sends, without parsing them for each request.
fn header_name(name: &str) -> Option<HeaderName> {
    const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
    const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
    Some(match name {
        "accept" => header::ACCEPT,
        "content-type" => header::CONTENT_TYPE,
        "Idempotency-Key" => IDEMPOTENCY_KEY,
        "X-API-KEY" => X_API_KEY,
        "Authorization" => header::AUTHORIZATION,
        other => HeaderName::from_bytes(other.as_bytes()).ok()?,
    })
}

/// A request that cannot be built: what part is invalid, never its value.
fn refused(context: &str, what: &str) -> TransportError {
    TransportError::new(
        TransportErrorKind::Refused,
        format!("{context}: the request could not be built: {what} is not valid in HTTP"),
    )
}

/// Maps a reqwest error to the kind of transport failure, keeping its text and that of its
/// causes (reqwest's and hyper's texts name the URL, never a header's value).
fn map_error(error: &reqwest::Error, context: &str) -> TransportError {
    use TransportErrorKind as Kind;
    let (kind, what) = if is_tls_failure(error) {
        // rustls reports every TLS failure (a certificate that does not verify, a peer that
        // does not speak TLS, a fatal alert) as an io error around its own error, which
        // reqwest passes on as a connect error: it is a TLS failure, not a refused connection.
        (Kind::Tls, "TLS failed")
    } else if error.is_timeout() {
        (Kind::Timeout, "the request's time budget ran out")
    } else if error.is_connect() {
        (Kind::Connect, "the connection could not be made")
    } else if error.is_redirect() {
        (
            Kind::Redirect,
            "the server answered a redirect, which is never followed",
        )
    } else if error.is_builder() {
        (Kind::Refused, "the request could not be built")
    } else if error.is_request() || error.is_body() || error.is_decode() {
        (Kind::Io, "the connection broke before the whole answer arrived")
    } else {
        (Kind::Other, "the request failed")
    };
    TransportError::new(kind, format!("{context}: {what} ({})", chain(error)))
}

/// An error's text and its causes', `: ` between them.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// Whether a TLS error of rustls is among an error's causes. An io error holds its cause
/// as its inner error, which `source()` skips (and reqwest wraps rustls's io error in
/// another): the walk goes through each io error's inner error.
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(cause) = current {
        if cause.is::<rustls::Error>() {
            return true;
        }
        current = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner),
            None => cause.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_s_header_names_are_known_and_others_parsed() {
        assert_eq!(
            header_name("Idempotency-Key").map(|n| n.to_string()).as_deref(),
            Some("idempotency-key")
        );
        assert_eq!(
            header_name("X-API-KEY"),
            Some(HeaderName::from_static("x-api-key"))
        );
        assert_eq!(
            header_name("X-Other").map(|n| n.to_string()).as_deref(),
            Some("x-other")
        );
        assert_eq!(header_name("bad name"), None);
    }

    #[test]
    fn a_rustls_error_inside_an_io_error_is_a_tls_failure() {
        let certificate = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, certificate);
        assert!(is_tls_failure(&io));
        // As reqwest passes it on: rustls's io error inside another.
        let wrapped = std::io::Error::other(io);
        assert!(is_tls_failure(&wrapped));
        let other = std::io::Error::new(std::io::ErrorKind::InvalidData, "bad gzip");
        assert!(!is_tls_failure(&other));
    }

    #[test]
    fn a_wiped_body_is_zeroed_on_drop() {
        let mut body = b"secret".to_vec();
        body.reserve(10);
        wipe(&mut body);
        assert!(body.iter().all(|&b| b == 0));
        assert_eq!(body.len(), body.capacity());
    }
}

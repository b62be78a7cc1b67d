//! What every answer of the form shares: security headers, cookies, the prefix it is mounted
//! under, the client's address, bodies read within their limit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, OriginalUri, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};

use crate::config::CookieSecurity;

/// The cookie that binds a browser to its record.
pub const SESSION_COOKIE: &str = "pp_form_session";
/// The cookie that carries the CSRF token (the same value is in every form).
pub const CSRF_COOKIE: &str = "pp_form_csrf";

/// No script but our own file, no style but our own file, no frame, forms only to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every answer of the form.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// The path the form is mounted under (`/connect/messenger`), from the URI the app received
/// and the one the form's router sees; empty at the root.
pub(crate) fn prefix(original: &OriginalUri, uri: &Uri) -> String {
    let full = original.0.path();
    let inner = uri.path();
    let prefix = full
        .strip_suffix(inner)
        .unwrap_or_else(|| if inner == "/" { full } else { "" });
    prefix.trim_end_matches('/').to_owned()
}

/// Whether the request came over https: its URI says so, or the trusted proxy's
/// `X-Forwarded-Proto` (its [last entry](last_forwarded)).
pub(crate) fn is_https(uri: &Uri, headers: &HeaderMap, trust_forwarded: bool) -> bool {
    uri.scheme_str() == Some("https")
        || (trust_forwarded
            && last_forwarded(headers, "x-forwarded-proto")
                .is_some_and(|proto| proto.eq_ignore_ascii_case("https")))
}

/// Whether a proxy's headers came with the request (`X-Forwarded-For`, `X-Forwarded-Proto`,
/// `Forwarded`), trusted or not.
pub(crate) fn is_forwarded(headers: &HeaderMap) -> bool {
    ["x-forwarded-for", "x-forwarded-proto", "forwarded"]
        .into_iter()
        .any(|name| headers.contains_key(name))
}

/// The entry the proxy in front added to a header it appends to (`X-Forwarded-For`): the
/// last comma-separated value of the header's last line, trimmed. Whatever comes before it
/// (earlier entries, earlier lines) is what the client sent, and may be forged.
fn last_forwarded<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let line = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    line.rsplit(',').next().map(str::trim)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, scoped to the form's path, Secure when
/// asked, for `max_age` (zero deletes it).
pub(crate) fn cookie(name: &str, value: &str, path: &str, secure: bool, max_age: Duration) -> String {
    let path = if path.is_empty() { "/" } else { path };
    format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Strict{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// Whether cookies get `Secure` for this request. `Auto`: whenever the request is known to
/// have come over https, and whenever the host it was sent to is not loopback (a server
/// behind its own TLS, as `axum-server` with rustls, sees no `https` in its URIs; browsers
/// keep `Secure` cookies from `http://localhost`, so only loopback may go without).
pub(crate) fn secure_cookies(security: CookieSecurity, https: bool, host: Option<&str>) -> bool {
    match security {
        CookieSecurity::Always => true,
        CookieSecurity::Never => false,
        CookieSecurity::Auto => https || !host.is_some_and(is_loopback_host),
    }
}

/// The host a request was sent to: its URI's authority (HTTP/2, absolute-form), else its
/// `Host` header.
pub(crate) fn request_host<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    uri.host()
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
}

/// Whether `host` (maybe with a port) names this machine: `localhost`, a `.localhost` name,
/// `127.0.0.0/8` or `[::1]`.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        rest.split(']').next().unwrap_or_default()
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or_default()
    } else {
        host
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An HTML answer with cookies.
pub(crate) fn html(status: StatusCode, body: String, cookies: &[String]) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    add_cookies(&mut response, cookies);
    response
}

/// `303 See Other` to `location`, with cookies.
pub(crate) fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    add_cookies(&mut response, cookies);
    response
}

fn add_cookies(response: &mut Response, cookies: &[String]) {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

/// A request body in a buffer of our own, overwritten with zeros when dropped: a form's
/// body holds the password as it was typed.
pub(crate) struct Body(Vec<u8>);

impl std::ops::Deref for Body {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        crate::form::wipe_in_place(&mut self.0);
    }
}

/// Reads a body of at most `max` bytes into one buffer of `max` bytes allocated first (so
/// no reallocation leaves a copy behind); `None` if it is larger or broken. Each chunk hyper
/// handed over is wiped too when it is ours alone.
pub(crate) async fn read_body(body: AxumBody, max: usize) -> Option<Body> {
    let mut buffer = Body(Vec::with_capacity(max));
    let mut body = Limited::new(body, max);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.ok()?.into_data() else {
            continue;
        };
        buffer.0.extend_from_slice(&data);
        if let Ok(mut ours) = data.try_into_mut() {
            ours.fill(0);
            std::hint::black_box(&*ours);
        }
    }
    Some(buffer)
}

/// The client's address: `X-Forwarded-For`'s last entry from a trusted proxy (the one that
/// proxy added, on the header's last line; the entries and lines before it are whatever the
/// client sent), else the peer of the connection (when the app serves with
/// `into_make_service_with_connect_info`).
pub(crate) fn client_ip(
    request_headers: &HeaderMap,
    peer: Option<&ConnectInfo<SocketAddr>>,
    trust_forwarded: bool,
) -> Option<IpAddr> {
    if trust_forwarded {
        let forwarded = last_forwarded(request_headers, "x-forwarded-for").and_then(|last| last.parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|ConnectInfo(addr)| addr.ip())
}

/// Connect attempts per client in a fixed window, in this instance's memory: per IPv4
/// address, and per IPv6 /64 (one client's network holds 2^64 addresses; see
/// [`client_of`]). Bounded: past [`RateLimiter::MAX_ADDRESSES`] clients the expired windows
/// are dropped, and if none has expired, the oldest half.
///
/// Dropping the oldest half resets the counts of clients over their limit too, but only
/// once half the table's worth of other clients have made an attempt in one window: an
/// attacker who has that many addresses or /64s already has that many times the limit,
/// far more than the reset gives back.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    attempts: u32,
    window: Duration,
    windows: Mutex<HashMap<IpAddr, (u64, u32)>>,
}

impl RateLimiter {
    pub(crate) const MAX_ADDRESSES: usize = 65_536;

    pub(crate) fn new(attempts: u32, window: Duration) -> Self {
        Self {
            attempts,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `ip` at `now_ms`; `false` if its client (the address, or its
    /// IPv6 /64) is over its limit.
    pub(crate) fn allow(&self, ip: IpAddr, now_ms: u64) -> bool {
        let ip = client_of(ip);
        let window_ms = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() >= Self::MAX_ADDRESSES && !windows.contains_key(&ip) {
            windows.retain(|_, (start, _)| now_ms.saturating_sub(*start) < window_ms);
            if windows.len() >= Self::MAX_ADDRESSES {
                let mut starts: Vec<u64> = windows.values().map(|(start, _)| *start).collect();
                starts.sort_unstable();
                let median = starts.get(starts.len() / 2).copied().unwrap_or(u64::MAX);
                windows.retain(|_, (start, _)| *start > median);
            }
        }
        let entry = windows.entry(ip).or_insert((now_ms, 0));
        if now_ms.saturating_sub(entry.0) >= window_ms {
            *entry = (now_ms, 0);
        }
        if entry.1 >= self.attempts {
            return false;
        }
        entry.1 = entry.1.saturating_add(1);
        true
    }
}

/// The client an address is counted as: an IPv4 address itself (also when written as
/// IPv6, `::ffff:a.b.c.d`, as a dual-stack socket shows it), an IPv6 address as its /64, the
/// smallest network a provider gives one customer.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_what_the_app_nested_the_form_under() {
        let uri = |text: &str| text.parse::<Uri>().unwrap_or_default();
        let p = |full: &str, inner: &str| prefix(&OriginalUri(uri(full)), &uri(inner));
        assert_eq!(p("/connect/messenger/solve", "/solve"), "/connect/messenger");
        assert_eq!(p("/connect/messenger/", "/"), "/connect/messenger");
        assert_eq!(p("/connect/messenger", "/"), "/connect/messenger");
        assert_eq!(p("/solve", "/solve"), "");
        assert_eq!(p("/", "/"), "");
    }

    #[test]
    fn the_rate_limit_counts_per_address_and_window() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let a = IpAddr::from([127, 0, 0, 1]);
        let b = IpAddr::from([127, 0, 0, 2]);
        assert!(limiter.allow(a, 0));
        assert!(limiter.allow(a, 1));
        assert!(!limiter.allow(a, 2));
        assert!(limiter.allow(b, 2));
        assert!(limiter.allow(a, 60_000), "a new window");
    }

    #[test]
    fn the_rate_limit_counts_an_ipv6_64_as_one_client_and_a_mapped_ipv4_as_itself() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60));
        let ip = |text: &str| text.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert!(limiter.allow(ip("2001:db8:1:2::1"), 0));
        assert!(
            !limiter.allow(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), 0),
            "the same /64"
        );
        assert!(limiter.allow(ip("2001:db8:1:3::1"), 0), "the next /64");
        assert!(limiter.allow(ip("::ffff:192.0.2.1"), 0));
        assert!(!limiter.allow(ip("192.0.2.1"), 0), "the same IPv4 address");
        assert!(
            limiter.allow(ip("::ffff:192.0.2.2"), 0),
            "not every IPv4 client as one /64"
        );
        assert_eq!(client_of(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
    }

    #[tokio::test]
    async fn a_body_is_read_into_one_buffer_that_is_never_reallocated() {
        let body = AxumBody::from(b"password=hunter2".to_vec());
        let read = read_body(body, 64).await.unwrap_or(Body(Vec::new()));
        assert_eq!(&*read, b"password=hunter2");
        assert_eq!(read.0.capacity(), 64, "allocated once, at the limit");
        let too_big = AxumBody::from(vec![b'x'; 65]);
        assert!(read_body(too_big, 64).await.is_none());
    }

    #[test]
    fn the_client_is_the_last_forwarded_address_the_trusted_proxy_added() {
        let mut headers = HeaderMap::new();
        // The client sent "6.6.6.6" itself; the proxy appended the address it saw.
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.7"),
        );
        let peer = ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 443)));
        assert_eq!(
            client_ip(&headers, Some(&peer), true),
            Some(IpAddr::from([203, 0, 113, 7]))
        );
        assert_eq!(
            client_ip(&headers, Some(&peer), false),
            Some(IpAddr::from([10, 0, 0, 1])),
            "an untrusted header is ignored"
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7"));
        assert_eq!(
            client_ip(&headers, Some(&peer), true),
            Some(IpAddr::from([203, 0, 113, 7]))
        );
    }

    #[test]
    fn auto_cookies_are_secure_unless_the_host_is_loopback() {
        let auto = |https, host| secure_cookies(CookieSecurity::Auto, https, host);
        // Direct TLS: the URI has no scheme, but the host is a public name.
        assert!(auto(false, Some("connect.example.com")));
        assert!(auto(false, Some("203.0.113.7:8443")));
        assert!(auto(false, None), "no host: the safe side");
        assert!(auto(true, Some("localhost:8080")), "https says so itself");
        for loopback in [
            "localhost",
            "localhost:8080",
            "app.localhost",
            "127.0.0.1:3000",
            "127.1.2.3",
            "[::1]:8080",
            "::1",
            "LOCALHOST.",
        ] {
            assert!(!auto(false, Some(loopback)), "{loopback}");
        }
        assert!(secure_cookies(CookieSecurity::Always, false, Some("localhost")));
        assert!(!secure_cookies(CookieSecurity::Never, true, Some("example.com")));
        let uri: Uri = "/solve".parse().unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("example.com"));
        assert_eq!(request_host(&uri, &headers), Some("example.com"));
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let text = cookie("n", "v", "/connect", true, Duration::from_secs(60));
        assert_eq!(
            text,
            "n=v; Path=/connect; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!cookie("n", "v", "", false, Duration::ZERO).contains("Secure"));
    }
}

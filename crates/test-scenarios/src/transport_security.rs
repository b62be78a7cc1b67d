//! Transport security: https speaks TLS (rustls) before any byte of the request, so a
//! server that does not is a typed TLS error and never sees the API key; a certificate that
//! does not chain to a trusted root is refused before the request is sent; plain http is
//! refused before anything is sent for any host that is not loopback, lookalikes included.
//!
//! (That the API key goes only to the configured host, never along a redirect, is proved in
//! [`hostile`](crate::hostile) and [`faults`](crate::faults).)

use std::time::{Duration, Instant};

use auth_client::BuildError;
use auth_core::{BaseUrlError, Error, TransportErrorKind};
use auth_test_servers::tls::{plain_server, self_signed_tls_server};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver};
use crate::support::{API_KEY, SECRETS, expect_err};

const TIMEOUT: Duration = Duration::from_secs(1);

/// Slack on top of [`TIMEOUT`]: a liveness bound, not a measurement.
const LIVENESS_MARGIN: Duration = Duration::from_secs(5);

/// A client with the default retry policy: a TLS failure is not retried (the servers here
/// take one connection; a second attempt would meet a refused connection, not TLS).
fn https_client<D: Driver>(host: &str, port: u16) -> D::Client {
    D::builder()
        .base_url(format!("https://{host}:{port}/v1"))
        .api_key(API_KEY)
        .request_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .build()
        .unwrap()
}

fn assert_nothing_in_clear<D: Driver>(received: &[u8]) {
    // A TLS record of type handshake (22), version 3.x: the ClientHello, not HTTP.
    assert!(received.len() > 5, "{received:?}");
    assert_eq!(received[..2], [0x16, 0x03], "not a TLS handshake: {received:?}");
    let text = String::from_utf8_lossy(received).to_ascii_lowercase();
    for clear in ["post ", "x-api-key", "provider"] {
        assert!(!text.contains(clear), "{clear:?} was sent in clear");
    }
    // "http/1.1" only as the protocol a hello may offer by ALPN (the name right after its
    // length, 8), and only from a client that offers it; never as in a request line.
    let lower = received.to_ascii_lowercase();
    for (at, _) in lower
        .windows(b"http/1.1".len())
        .enumerate()
        .filter(|(_, window)| *window == b"http/1.1")
    {
        assert!(
            D::TLS_HELLO_OFFERS_HTTP_1_1 && at > 0 && lower[at - 1] == 8,
            "\"http/1.1\" was sent in clear, not as an ALPN protocol, by {}",
            D::NAME
        );
    }
    for secret in SECRETS {
        assert!(
            !text.contains(&secret.to_ascii_lowercase()),
            "{secret} was sent in clear"
        );
    }
}

/// `https` speaks TLS before the request, and a server that does not is a TLS error.
pub fn https_speaks_tls_before_the_request_and_a_server_that_does_not_is_a_tls_error<D: Driver>() {
    for reply in [
        b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}".as_slice(),
        b"\x16\x03\x03\x00\x02\xff\xff garbage that is not a server hello".as_slice(),
    ] {
        let server = plain_server(reply).unwrap();
        let port = server.port();
        let client = https_client::<D>("127.0.0.1", port);
        let started = Instant::now();
        let error = expect_err(client.connect_messenger("erin", "pw-secret"));
        assert!(started.elapsed() < TIMEOUT + LIVENESS_MARGIN);
        let Error::Transport(transport) = &error else {
            panic!("expected a transport error, got {error:?}");
        };
        assert_eq!(transport.kind(), TransportErrorKind::Tls, "{error}");
        assert_nothing_in_clear::<D>(&D::wait(move || server.finish()).unwrap());
    }
}

/// `https` names the configured host in its hello (SNI).
pub fn https_names_the_configured_host_in_its_hello<D: Driver>() {
    // SNI carries the base URL's host name: the certificate is checked for that name.
    let server = plain_server(b"not tls").unwrap();
    let port = server.port();
    let client = https_client::<D>("localhost", port);
    let error = expect_err(client.connect_messenger("erin", "pw-secret"));
    assert!(
        matches!(&error, Error::Transport(e) if e.kind() == TransportErrorKind::Tls),
        "{error:?}"
    );
    let hello = D::wait(move || server.finish()).unwrap();
    assert_nothing_in_clear::<D>(&hello);
    assert!(
        hello.windows(b"localhost".len()).any(|w| w == b"localhost"),
        "no server name in the hello"
    );
}

/// Plain http is refused for every host that only looks like loopback.
pub fn plain_http_is_refused_for_every_host_that_only_looks_like_loopback<D: Driver>() {
    // Each would send the API key in clear over a network; none is loopback.
    for url in [
        "http://localhost.evil.example/v1",
        "http://127.0.0.1.nip.io/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "http://[::ffff:7f00:1]:8080/v1",
        "http://2130706433/v1",
        "http://0x7f000001/v1",
        "HTTP://API.POSTPRESS.AI/v1",
        "http://169.254.169.254/v1",
    ] {
        let refused = D::builder().base_url(url).api_key(API_KEY).build();
        assert!(
            matches!(
                refused,
                Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))
            ),
            "{url}: {refused:?}"
        );
        let text = format!("{:?} {}", refused.as_ref().err(), refused.as_ref().err().unwrap());
        assert!(!text.contains(API_KEY), "{text}");
    }
    // The Unipile preset with an explicit http:// scheme is refused the same way.
    let refused = D::builder()
        .unipile("http://api1.unipile.com:13111")
        .api_key(API_KEY)
        .build();
    assert!(
        matches!(
            refused,
            Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))
        ),
        "{refused:?}"
    );
    // The same hosts over https are fine: nothing is sent at build time.
    for url in [
        "https://localhost.evil.example/v1",
        "https://[::ffff:127.0.0.1]/v1",
    ] {
        assert!(
            D::builder().base_url(url).api_key(API_KEY).build().is_ok(),
            "{url}"
        );
    }
}

/// A certificate no trusted root vouches for is refused before the request is sent.
pub fn a_certificate_no_trusted_root_vouches_for_is_refused_before_the_request_is_sent<D: Driver>() {
    // The certificate names the host correctly; only its issuer is unknown to the web PKI
    // roots the client trusts.
    for host in ["localhost", "127.0.0.1"] {
        let server = self_signed_tls_server().unwrap();
        let port = server.port();
        let client = https_client::<D>(host, port);
        let started = Instant::now();
        let error = expect_err(client.connect_messenger("erin", "pw-secret"));
        assert!(started.elapsed() < TIMEOUT + LIVENESS_MARGIN);
        let Error::Transport(transport) = &error else {
            panic!("expected a transport error, got {error:?}");
        };
        assert_eq!(transport.kind(), TransportErrorKind::Tls, "{host}: {error}");
        assert!(
            error.to_string().contains("invalid peer certificate"),
            "{host}: {error}"
        );
        let seen = D::wait(move || server.finish()).unwrap();
        // The server decrypted nothing: the request, and its X-API-KEY, were never sent.
        assert!(
            seen.plaintext.is_empty(),
            "{host}: {}",
            String::from_utf8_lossy(&seen.plaintext)
        );
        // The handshake never completed on the server's side either (the client hung up, or
        // sent an alert, as soon as the certificate failed).
        assert!(seen.error.is_some(), "{host}: the handshake completed");
    }
}

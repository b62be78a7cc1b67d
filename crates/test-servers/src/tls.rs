//! Servers for `https://` tests: one that does not speak TLS at all, and a real TLS server
//! whose self-signed certificate no root vouches for.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::SERVER_PATIENCE;

/// A self-signed certificate for `localhost` and `127.0.0.1` (EC P-256, valid until 2126):
/// test material only, trusted by nothing. Made with
/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
/// -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1`.
pub const SELF_SIGNED_CERT: &[u8] = b"-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUQjiWoE7F4DgXMSyq6oRrKnbtSJAwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMjAzNDYzOFoYDzIxMjYxMDI5
MDM0NjM4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARscLeZZR1ZSwijH6ahHcXkC1cFXWxuCW+isrRpK+TVnz5D/Rfa2x3V
WogC5pNp0oFdAgWx7SJhkISgWXtEz1Nco28wbTAdBgNVHQ4EFgQUwbIGbDcMyQb+
xlf5LkTUyoc16pswHwYDVR0jBBgwFoAUwbIGbDcMyQb+xlf5LkTUyoc16pswDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDRwAwRAIgbeOuW0iVi43hjpK067Wz2jp7M0QNMNfUu3uAqYIqkCUCICsH
6Gha4bpk9ctijq9/6zBxQp/Nc2WFRc3PMygHUGwT
-----END CERTIFICATE-----
";

/// The test certificate's key (see [`SELF_SIGNED_CERT`]): not a secret of anything.
pub const SELF_SIGNED_KEY: &[u8] = b"-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxttewhihAcDRQ5tk
z3o7cIdLbj0e/AE0HiTqSv3TBNuhRANCAARscLeZZR1ZSwijH6ahHcXkC1cFXWxu
CW+isrRpK+TVnz5D/Rfa2x3VWogC5pNp0oFdAgWx7SJhkISgWXtEz1Nc
-----END PRIVATE KEY-----
";

/// A server on `127.0.0.1:0` for one connection, and what it saw once it is done.
#[derive(Debug)]
pub struct OneConnection<T> {
    port: u16,
    thread: Option<JoinHandle<T>>,
}

impl<T> OneConnection<T> {
    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the connection to end, and says what the server saw (`None` if the
    /// server's thread failed).
    pub fn finish(mut self) -> Option<T> {
        self.thread.take().and_then(|thread| thread.join().ok())
    }
}

/// A plain TCP server for one connection: records what the client sends first (for a TLS
/// client, its ClientHello), answers `reply` in clear, and closes. Returns the bytes
/// received.
pub fn plain_server(reply: &'static [u8]) -> io::Result<OneConnection<Vec<u8>>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let thread = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return Vec::new();
        };
        let _ = stream.set_read_timeout(Some(SERVER_PATIENCE));
        let mut received = vec![0u8; 16 << 10];
        let n = stream.read(&mut received).unwrap_or(0);
        received.truncate(n);
        let _ = stream.write_all(reply);
        let _ = stream.shutdown(Shutdown::Write);
        // Whatever else the client sends before it gives up (an alert, if anything).
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        received.extend_from_slice(&rest);
        received
    });
    Ok(OneConnection {
        port,
        thread: Some(thread),
    })
}

/// What a real TLS server saw of one connection: the request bytes it could decrypt, and
/// how the connection ended (`Some` error if the handshake or a read failed).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TlsSeen {
    /// The plaintext received after the handshake.
    pub plaintext: Vec<u8>,
    /// The error that ended the connection, if any.
    pub error: Option<String>,
}

/// A real TLS server (rustls, ring) with [`SELF_SIGNED_CERT`], for one connection.
pub fn self_signed_tls_server() -> io::Result<OneConnection<TlsSeen>> {
    let invalid = |e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let cert = CertificateDer::from_pem_slice(SELF_SIGNED_CERT).map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(SELF_SIGNED_KEY).map_err(|e| invalid(&e))?;
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&e))?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|e| invalid(&e))?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let thread = std::thread::spawn(move || {
        let mut seen = TlsSeen::default();
        let Ok((tcp, _)) = listener.accept() else {
            seen.error = Some("no connection".to_owned());
            return seen;
        };
        let _ = tcp.set_read_timeout(Some(SERVER_PATIENCE));
        let connection = match rustls::ServerConnection::new(Arc::new(config)) {
            Ok(connection) => connection,
            Err(e) => {
                seen.error = Some(e.to_string());
                return seen;
            }
        };
        let mut tls = rustls::StreamOwned::new(connection, tcp);
        let mut buffer = [0u8; 4096];
        seen.error = loop {
            match tls.read(&mut buffer) {
                Ok(0) => break None,
                Ok(n) => seen
                    .plaintext
                    .extend_from_slice(buffer.get(..n).unwrap_or_default()),
                Err(e) => break Some(e.to_string()),
            }
        };
        seen
    });
    Ok(OneConnection {
        port,
        thread: Some(thread),
    })
}

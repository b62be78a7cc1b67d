//! # auth-test-servers
//!
//! Raw servers that misbehave on purpose, at the socket level, for the tests of every client
//! of this workspace (blocking or async): one set, not a copy per client. Each runs on a
//! thread of its own with blocking std sockets, so it serves a test on any runtime, and
//! each says what it saw.
//!
//! ```
//! use auth_test_servers::{Behaviour, ScriptedServer, answer};
//! use std::io::{Read, Write};
//!
//! // The first connection is answered well, the second trickled byte by byte.
//! let server = ScriptedServer::start(vec![
//!     Behaviour::Answer(answer(201, "application/json", b"{}")),
//!     Behaviour::trickle(answer(201, "application/json", b"{}"), std::time::Duration::from_millis(1)),
//! ])?;
//! for _ in 0..2 {
//!     let mut stream = std::net::TcpStream::connect(server.addr())?;
//!     stream.write_all(b"POST /v1/accounts HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")?;
//!     let mut reply = String::new();
//!     stream.read_to_string(&mut reply)?;
//!     assert!(reply.starts_with("HTTP/1.1 201"));
//! }
//! let served = server.finish();
//! assert_eq!(served.len(), 2);
//! assert_eq!(served[0].request_line(), "POST /v1/accounts HTTP/1.1");
//! assert_eq!(served[1].body(), "{}");
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod tls;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a server waits for a connection, a read or a write before it gives up (so a
/// broken test fails instead of hanging).
pub const SERVER_PATIENCE: Duration = Duration::from_secs(10);

/// 64 MiB: the flood a client must not read.
pub const FLOOD: u64 = 64 << 20;

/// What the server does on one connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Behaviour {
    /// Reads the request, writes these bytes, closes.
    Answer(Vec<u8>),
    /// Reads the request, writes these bytes, then keeps the connection open (never
    /// closes it) until the client hangs up or the server's patience runs out.
    AnswerThenHold(Vec<u8>),
    /// Reads the request, then writes these bytes one at a time, `every` apart, until they
    /// are all sent or the client hangs up.
    Trickle {
        /// The answer's bytes.
        bytes: Vec<u8>,
        /// The pause after each byte.
        every: Duration,
    },
    /// Reads the request, writes `head`, then [`FLOOD`] bytes of body in 64 KiB writes
    /// (as HTTP/1.1 chunks if `chunked`) until the client hangs up.
    Flood {
        /// The status line and headers, blank line included.
        head: Vec<u8>,
        /// Whether the body is framed as chunks.
        chunked: bool,
    },
    /// Waits for the request's first bytes, then drops the connection without reading
    /// them: the kernel answers with a reset (RST), before any byte of an answer.
    Reset,
}

impl Behaviour {
    /// An answer trickled one byte every `every`: at 100 ms a byte, a short answer takes
    /// seconds to arrive.
    pub fn trickle(bytes: Vec<u8>, every: Duration) -> Self {
        Self::Trickle { bytes, every }
    }

    /// A head declaring a `content-length` of `declared`, then only `sent`, then the close.
    pub fn length_then_close(status: u16, declared: usize, sent: &[u8]) -> Self {
        let mut bytes =
            format!("HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n")
                .into_bytes();
        bytes.extend_from_slice(sent);
        Self::Answer(bytes)
    }

    /// A head declaring a `content-length` of 64 MiB, then 64 MiB of body.
    pub fn flood_declared(status: u16) -> Self {
        Self::Flood {
            head: format!(
                "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ncontent-length: {FLOOD}\r\n\r\n"
            )
            .into_bytes(),
            chunked: false,
        }
    }

    /// 64 MiB of body in chunks, no length declared.
    pub fn flood_chunked(status: u16) -> Self {
        Self::Flood {
            head: format!(
                "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            .into_bytes(),
            chunked: true,
        }
    }

    /// 64 MiB of body without a length, to be read until the close (`connection: close`).
    pub fn flood_to_the_close(status: u16) -> Self {
        Self::Flood {
            head: format!(
                "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
            )
            .into_bytes(),
            chunked: false,
        }
    }

    /// An HTTP/1.0 answer without a length: its body ends at the close.
    pub fn http_1_0(status: u16, body: &[u8]) -> Self {
        let mut bytes =
            format!("HTTP/1.0 {status} Whatever\r\ncontent-type: application/json\r\n\r\n").into_bytes();
        bytes.extend_from_slice(body);
        Self::Answer(bytes)
    }

    /// The same HTTP/1.0 answer, never closed: its body has no end a client could see.
    pub fn http_1_0_never_closed(status: u16, body: &[u8]) -> Self {
        match Self::http_1_0(status, body) {
            Self::Answer(bytes) => Self::AnswerThenHold(bytes),
            other => other,
        }
    }

    /// 64 MiB of HTTP/1.0 body, ended by the close (if the client reads that far).
    pub fn http_1_0_flood(status: u16) -> Self {
        Self::Flood {
            head: format!("HTTP/1.0 {status} Whatever\r\ncontent-type: application/json\r\n\r\n")
                .into_bytes(),
            chunked: false,
        }
    }

    /// A well-framed answer whose JSON body holds bytes that are not UTF-8 inside a string.
    pub fn invalid_utf8_body(status: u16, object: &str) -> Self {
        let mut body = format!(r#"{{"object":"{object}","account_id":""#).into_bytes();
        body.extend_from_slice(b"\xff\xfe\xc3\x28");
        body.extend_from_slice(br#""}"#);
        Self::Answer(answer(status, "application/json", &body))
    }

    /// A `transfer-encoding: chunked` head, then `chunks` as given (broken as the caller
    /// likes), then the close.
    pub fn broken_chunked(status: u16, chunks: &str) -> Self {
        let mut bytes = format!(
            "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        )
        .into_bytes();
        bytes.extend_from_slice(chunks.as_bytes());
        Self::Answer(bytes)
    }

    /// A redirect (`307`, `308`, `302`…) to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::Answer(
            format!(
                "HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .into_bytes(),
        )
    }

    /// A body that is not JSON (HTML…) under a JSON content type.
    pub fn not_json(status: u16, content_type: &str, body: &str) -> Self {
        Self::Answer(answer(status, content_type, body.as_bytes()))
    }

    /// A reset before any byte of an answer.
    pub fn reset() -> Self {
        Self::Reset
    }
}

/// What happened on one connection.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Served {
    /// The request's bytes, as far as they were read.
    pub request: Vec<u8>,
    /// How many bytes the server managed to write.
    pub written: u64,
    /// The first write error: the client hung up before the answer was all sent.
    pub write_error: Option<io::ErrorKind>,
    /// Whether the client closed the connection while the server held it open.
    pub client_closed: bool,
}

impl Served {
    /// The request's bytes as text (invalid UTF-8 replaced).
    pub fn request_text(&self) -> String {
        String::from_utf8_lossy(&self.request).into_owned()
    }

    /// The request line: `POST /v1/accounts HTTP/1.1`.
    pub fn request_line(&self) -> String {
        self.request_text().lines().next().unwrap_or_default().to_owned()
    }

    /// The value of a request header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = self.request_text();
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The request's body, after its head.
    pub fn body(&self) -> String {
        let text = self.request_text();
        text.split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// The client closed the connection (a broken pipe or a reset on write), rather than
    /// the server giving up on a stalled client.
    pub fn client_hung_up(&self) -> bool {
        matches!(
            self.write_error,
            Some(
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            )
        )
    }
}

/// A raw TCP server on `127.0.0.1:0` that serves one [`Behaviour`] per connection, in order,
/// then stops (or stops once its patience runs out waiting for the next connection).
#[derive(Debug)]
pub struct ScriptedServer {
    addr: SocketAddr,
    thread: Option<JoinHandle<Vec<Served>>>,
}

impl ScriptedServer {
    /// Starts serving `script`, one behaviour per connection.
    pub fn start(script: Vec<Behaviour>) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let thread = std::thread::Builder::new()
            .name("scripted-server".to_owned())
            .spawn(move || {
                let mut served = Vec::new();
                for behaviour in script {
                    let Some(stream) = accept(&listener) else { break };
                    served.push(serve(stream, behaviour));
                }
                served
            })?;
        Ok(Self {
            addr,
            thread: Some(thread),
        })
    }

    /// A server for one connection.
    pub fn once(behaviour: Behaviour) -> io::Result<Self> {
        Self::start(vec![behaviour])
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A postpress-style base URL on it: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Waits for the server to finish its script (or give up), and says what it saw on each
    /// connection, in order (fewer than the script if fewer connections came).
    pub fn finish(mut self) -> Vec<Served> {
        self.thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or_default()
    }
}

/// A second port, for a redirect to point to: nobody should ever connect to it.
#[derive(Debug)]
pub struct RedirectTrap {
    listener: TcpListener,
}

impl RedirectTrap {
    /// Opens the trap on `127.0.0.1:0`.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        Ok(Self { listener })
    }

    /// A URL on the trap: `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> io::Result<String> {
        Ok(format!("http://{}{path}", self.listener.local_addr()?))
    }

    /// Whether anyone connected to the trap so far (each connection is taken, so the next
    /// call says whether another came).
    pub fn was_contacted(&self) -> bool {
        !matches!(self.listener.accept(), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

/// Accepts the next connection, or `None` once the server's patience runs out.
fn accept(listener: &TcpListener) -> Option<TcpStream> {
    let started = Instant::now();
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).ok()?;
                stream.set_read_timeout(Some(SERVER_PATIENCE)).ok()?;
                stream.set_write_timeout(Some(SERVER_PATIENCE)).ok()?;
                return Some(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && started.elapsed() < SERVER_PATIENCE => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// Reads a request: its head, then as many body bytes as its `content-length` says.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if request.len() > 64 << 10 {
            return request;
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return request,
            Ok(n) => request.extend_from_slice(buffer.get(..n).unwrap_or_default()),
        }
    };
    let head = String::from_utf8_lossy(request.get(..head_end).unwrap_or_default()).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while request.len() < head_end.saturating_add(length) {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(buffer.get(..n).unwrap_or_default()),
        }
    }
    request
}

/// Writes `bytes` unless an earlier write failed; records what was written or the failure.
fn write(stream: &mut TcpStream, served: &mut Served, bytes: &[u8]) -> bool {
    if served.write_error.is_some() {
        return false;
    }
    match stream.write_all(bytes).and_then(|()| stream.flush()) {
        Ok(()) => {
            served.written = served.written.saturating_add(bytes.len() as u64);
            true
        }
        Err(e) => {
            served.write_error = Some(e.kind());
            false
        }
    }
}

fn serve(mut stream: TcpStream, behaviour: Behaviour) -> Served {
    let mut served = Served::default();
    if let Behaviour::Reset = behaviour {
        // The request's first bytes are in the kernel's buffer, unread: closing now makes
        // the kernel send a reset instead of an orderly close.
        let mut first = [0u8; 1];
        let _ = stream.peek(&mut first);
        drop(stream);
        return served;
    }
    served.request = read_request(&mut stream);
    match behaviour {
        Behaviour::Answer(bytes) => {
            write(&mut stream, &mut served, &bytes);
            let _ = stream.shutdown(Shutdown::Write);
        }
        Behaviour::AnswerThenHold(bytes) => {
            write(&mut stream, &mut served, &bytes);
            // Never closes: waits for the client to hang up (a read of 0 bytes or a reset).
            let mut buffer = [0u8; 1024];
            served.client_closed = loop {
                match stream.read(&mut buffer) {
                    Ok(0) => break true,
                    Ok(_) => continue,
                    Err(e) => break e.kind() == io::ErrorKind::ConnectionReset,
                }
            };
        }
        Behaviour::Trickle { bytes, every } => {
            for byte in bytes {
                if !write(&mut stream, &mut served, &[byte]) {
                    break;
                }
                std::thread::sleep(every);
            }
        }
        Behaviour::Flood { head, chunked } => {
            const CHUNK: usize = 64 << 10;
            let data = vec![b'x'; CHUNK];
            let mut framed = format!("{CHUNK:x}\r\n").into_bytes();
            framed.extend_from_slice(&data);
            framed.extend_from_slice(b"\r\n");
            let mut sent = 0u64;
            let mut ok = write(&mut stream, &mut served, &head);
            while ok && sent < FLOOD {
                ok = write(&mut stream, &mut served, if chunked { &framed } else { &data });
                sent += CHUNK as u64;
            }
            if ok && chunked {
                write(&mut stream, &mut served, b"0\r\n\r\n");
            }
        }
        Behaviour::Reset => {}
    }
    served
}

/// An HTTP/1.1 answer with a `content-length`, closing the connection after it.
pub fn answer(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status} Whatever\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn a_redirect_trap_knows_whether_it_was_contacted() {
        let trap = RedirectTrap::start().unwrap();
        assert!(!trap.was_contacted());
        let addr = trap.listener.local_addr().unwrap();
        let _stream = TcpStream::connect(addr).unwrap();
        // The connection is in the kernel's backlog as soon as `connect` returns.
        assert!(trap.was_contacted());
    }

    #[test]
    fn a_reset_writes_nothing() {
        let server = ScriptedServer::once(Behaviour::reset()).unwrap();
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream.write_all(b"POST / HTTP/1.1\r\n\r\n").unwrap();
        let mut buffer = Vec::new();
        let _ = stream.read_to_end(&mut buffer);
        assert!(buffer.is_empty());
        let served = server.finish();
        assert_eq!(served.len(), 1);
        assert!(served.iter().all(|s| s.written == 0));
    }
}

//! A scripted server at the socket level: a raw TCP listener (not the simulator) that reads
//! each request and then does what its script says, well or badly, one behaviour per
//! connection. `hostile.rs` scripts misbehaviours; `answers.rs` scripts the answers of the
//! contract, to check the bytes the client sends and reads.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the server waits for a connection, a read or a write before it gives up (so a
/// broken test fails instead of hanging).
pub(crate) const SERVER_PATIENCE: Duration = Duration::from_secs(10);

/// 64 MiB: the flood the client must not read.
pub(crate) const FLOOD: u64 = 64 << 20;

/// What the server does on one connection.
#[derive(Debug, Clone)]
pub(crate) enum Behaviour {
    /// Reads the request, writes these bytes, closes.
    Answer(Vec<u8>),
    /// Reads the request, writes these bytes, then keeps the connection open (never
    /// closes it) until the client hangs up or the server's patience runs out.
    AnswerThenHold(Vec<u8>),
    /// Reads the request, then writes these bytes one at a time, `every` apart, until they
    /// are all sent or the client hangs up.
    Trickle { bytes: Vec<u8>, every: Duration },
    /// Reads the request, writes `head`, then [`FLOOD`] bytes of body in 64 KiB writes
    /// (as HTTP/1.1 chunks if `chunked`) until the client hangs up.
    Flood { head: Vec<u8>, chunked: bool },
    /// Waits for the request's first bytes, then drops the connection without reading
    /// them: the kernel answers with a reset (RST), before any byte of an answer.
    Reset,
}

/// What happened on one connection.
#[derive(Debug)]
pub(crate) struct Served {
    /// The request's bytes, as far as they were read.
    pub(crate) request: Vec<u8>,
    /// How many bytes the server managed to write.
    pub(crate) written: u64,
    /// The first write error: the client hung up before the answer was all sent.
    pub(crate) write_error: Option<io::ErrorKind>,
    /// Whether the client closed the connection while the server held it open.
    pub(crate) client_closed: bool,
}

impl Served {
    pub(crate) fn request_text(&self) -> String {
        String::from_utf8_lossy(&self.request).into_owned()
    }

    /// The request line: `POST /v1/accounts HTTP/1.1`.
    pub(crate) fn request_line(&self) -> String {
        self.request_text().lines().next().unwrap_or_default().to_owned()
    }

    /// The value of a request header, by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
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
    pub(crate) fn body(&self) -> String {
        let text = self.request_text();
        text.split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// The client closed the connection (a broken pipe or a reset on write), rather than
    /// the server giving up on a stalled client.
    pub(crate) fn client_hung_up(&self) -> bool {
        matches!(
            self.write_error,
            Some(
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            )
        )
    }
}

/// A raw TCP server on `127.0.0.1:0` that serves one behaviour per connection, in order.
pub(crate) struct ScriptedServer {
    addr: SocketAddr,
    thread: Option<JoinHandle<Vec<Served>>>,
}

impl ScriptedServer {
    pub(crate) fn start(script: Vec<Behaviour>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut served = Vec::new();
            for behaviour in script {
                let Some(stream) = accept(&listener) else { break };
                served.push(serve(stream, behaviour));
            }
            served
        });
        Self {
            addr,
            thread: Some(thread),
        }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Waits for the server to finish its script (or give up), and says what it saw.
    pub(crate) fn finish(mut self) -> Vec<Served> {
        self.thread.take().unwrap().join().unwrap()
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
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    request
}

fn serve(mut stream: TcpStream, behaviour: Behaviour) -> Served {
    let mut served = Served {
        request: Vec::new(),
        written: 0,
        write_error: None,
        client_closed: false,
    };
    if let Behaviour::Reset = behaviour {
        // The request's first bytes are in the kernel's buffer, unread: closing now makes
        // the kernel send a reset instead of an orderly close.
        let mut first = [0u8; 1];
        let _ = stream.peek(&mut first);
        drop(stream);
        return served;
    }
    served.request = read_request(&mut stream);
    let mut write = |stream: &mut TcpStream, bytes: &[u8]| -> bool {
        if served.write_error.is_some() {
            return false;
        }
        match stream.write_all(bytes).and_then(|()| stream.flush()) {
            Ok(()) => {
                served.written += bytes.len() as u64;
                true
            }
            Err(e) => {
                served.write_error = Some(e.kind());
                false
            }
        }
    };
    match behaviour {
        Behaviour::Answer(bytes) => {
            write(&mut stream, &bytes);
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        Behaviour::AnswerThenHold(bytes) => {
            write(&mut stream, &bytes);
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
                if !write(&mut stream, &[byte]) {
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
            let mut ok = write(&mut stream, &head);
            while ok && sent < FLOOD {
                ok = write(&mut stream, if chunked { &framed } else { &data });
                sent += CHUNK as u64;
            }
            if ok && chunked {
                write(&mut stream, b"0\r\n\r\n");
            }
        }
        Behaviour::Reset => {}
    }
    served
}

/// An HTTP/1.1 answer with a `content-length`, closing the connection after it.
pub(crate) fn answer(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status} Whatever\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

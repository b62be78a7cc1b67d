//! What the tests of auth-web share: a Redis server, a headless Chromium driven over
//! WebDriver, the form served in-process or as `postpress-web` processes, and an HTTP client
//! that follows the form as a browser would (cookies, CSRF tokens), with no browser.
//!
//! Redis and Chromium are real programs from Debian's packages. A test that needs one and
//! does not find it fails, saying how to install it: `.ci/run` installs them, so CI never
//! skips these tests.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses a part of the support"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use auth_core::UnixMillis;
use auth_sim::Simulator;
use auth_web::{FormConfig, IntentStore, MemoryStore};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub mod browser;

/// The accounts the app's callback was called with: (account id, context).
pub type Calls = Arc<Mutex<Vec<(String, Option<String>)>>>;

pub const API_KEY: &str = "pp_test_auth_web_tests";

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "auth-web-{name}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fails the test, saying how to install a missing program.
pub fn require(program: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(program);
    assert!(
        path.exists(),
        "{program} is missing: install it with `apt-get install -y {package}` (.ci/run does). \
         These tests are never skipped."
    );
    path
}

/// Waits for `check` to hold, polling, up to `limit`; panics with `what` if it never does.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A clock for the form that the simulator's manual clock moves too.
#[derive(Clone, Default)]
pub struct SharedClock {
    offset_ms: Arc<AtomicU64>,
}

impl SharedClock {
    pub fn now(&self) -> UnixMillis {
        UnixMillis::from_system_time(SystemTime::now())
            .saturating_add(Duration::from_millis(self.offset_ms.load(Ordering::SeqCst)))
    }

    /// Moves the form's clock and the simulator's together.
    pub fn advance(&self, sim: &Simulator, by: Duration) {
        self.offset_ms
            .fetch_add(u64::try_from(by.as_millis()).unwrap(), Ordering::SeqCst);
        sim.advance(by);
    }
}

/// A Redis server of its own on a free loopback port, stopped when dropped.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    persistent: bool,
}

impl Redis {
    /// Without persistence.
    pub fn start() -> Redis {
        Self::start_with(false)
    }

    /// With an append-only file, so that a restart keeps the records.
    pub fn start_persistent() -> Redis {
        Self::start_with(true)
    }

    fn start_with(persistent: bool) -> Redis {
        require("/usr/bin/redis-server", "redis-server");
        let mut redis = Redis {
            child: None,
            port: free_port(),
            dir: temp_dir("redis"),
            persistent,
        };
        redis.launch();
        redis
    }

    fn launch(&mut self) {
        let mut command = Command::new("/usr/bin/redis-server");
        command
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(&self.dir)
            .arg("--save")
            .arg("")
            .arg("--appendonly")
            .arg(if self.persistent { "yes" } else { "no" })
            .arg("--appendfsync")
            .arg("always")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(command.spawn().expect("start redis-server"));
        let start = Instant::now();
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::Write;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                if stream.write_all(b"PING\r\n").is_ok() {
                    let mut answer = [0u8; 7];
                    if stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n" {
                        return;
                    }
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server (its port answers nothing until [`Redis::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory.
    pub fn resume(&mut self) {
        self.launch();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The form served in-process on a free loopback port, in front of an in-process simulator.
pub struct InProcessForm {
    pub url: String,
    pub clock: SharedClock,
    pub store: Arc<MemoryStore>,
    pub connected: Calls,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for InProcessForm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The form's settings for a simulator, with a callback that records each connected
/// account.
pub fn form_config(sim: &Simulator, clock: &SharedClock, connected: &Calls) -> FormConfig {
    let clock = clock.clone();
    let connected = Arc::clone(connected);
    FormConfig::new(API_KEY)
        .base_url(sim.base_url())
        .clock(move || clock.now())
        .long_poll(Duration::from_secs(2))
        .connects_per_ip(1000, Duration::from_secs(60))
        .on_connected(move |account| {
            let connected = Arc::clone(&connected);
            async move {
                connected
                    .lock()
                    .unwrap()
                    .push((account.account_id.as_str().to_owned(), account.context));
            }
        })
}

/// Serves `router` (the form nested under `prefix`, or at the root) on a free port.
pub async fn serve(router: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (format!("http://{addr}"), server)
}

impl InProcessForm {
    pub async fn start(sim: &Simulator) -> InProcessForm {
        Self::start_with(sim, |config| config).await
    }

    pub async fn start_with(sim: &Simulator, tweak: impl FnOnce(FormConfig) -> FormConfig) -> InProcessForm {
        let clock = SharedClock::default();
        let connected = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::new(MemoryStore::new());
        let config = tweak(form_config(sim, &clock, &connected));
        let (url, server) = serve(auth_web::router(config, Arc::clone(&store))).await;
        InProcessForm {
            url,
            clock,
            store,
            connected,
            server,
        }
    }

    pub async fn dump(&self) -> String {
        self.store.dump().await.unwrap().join("\n")
    }
}

/// A `postpress-web` process, killed when dropped. Its stderr (the log) goes to a file.
pub struct WebProcess {
    child: Child,
    pub url: String,
    pub log: PathBuf,
}

impl WebProcess {
    pub fn start(args: &[&str]) -> WebProcess {
        let dir = temp_dir("web");
        let log = dir.join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_postpress-web"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start postpress-web");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| {
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("postpress-web did not say where it listens: {line:?}\n{log_text}")
        });
        WebProcess {
            url: url.to_owned(),
            child,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies at once, without a word.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for it to stop; its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "postpress-web did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WebProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One answer, as the tests read it.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The text of the first `<h1>`.
    pub fn heading(&self) -> String {
        between(&self.body, "<h1>", "</h1>").unwrap_or_default()
    }

    /// The text of the element with `role="…"`, tags stripped.
    pub fn role(&self, role: &str) -> Option<String> {
        let at = self.body.find(&format!("role=\"{role}\""))?;
        let rest = &self.body[at..];
        let start = rest.find('>')? + 1;
        let tag_end = self.body[..at].rfind('<')?;
        let tag: String = self.body[tag_end + 1..at].split_whitespace().next()?.to_owned();
        let end = rest.find(&format!("</{tag}>"))?;
        Some(strip_tags(&rest[start..end]))
    }

    pub fn csrf(&self) -> Option<String> {
        between(&self.body, "name=\"csrf\" value=\"", "\"")
    }
}

pub fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_owned())
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An HTTP client that follows the form as a browser would: it keeps cookies (one jar for
/// every origin on 127.0.0.1, as a browser does across ports) and sends the page's CSRF
/// token with each post. It does not follow redirects by itself.
#[derive(Clone)]
pub struct Http {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    pub jar: Arc<Mutex<HashMap<String, String>>>,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    pub fn new() -> Http {
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(64)
            .build(HttpConnector::new());
        Http {
            client,
            jar: Arc::default(),
        }
    }

    /// A client with its own jar, sharing the connection pool.
    pub fn fresh(&self) -> Http {
        Http {
            client: self.client.clone(),
            jar: Arc::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar.lock().unwrap().insert(name.to_owned(), value.to_owned());
    }

    pub async fn send(
        &self,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Page {
        let mut builder = hyper::Request::builder().method(method).uri(url);
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            builder = builder.header("cookie", cookies);
        }
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        let response = self
            .client
            .request(builder.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("<bytes>").to_owned()))
            .collect();
        for (name, value) in &headers {
            if name == "set-cookie" {
                let pair = value.split(';').next().unwrap_or_default();
                if let Some((k, v)) = pair.split_once('=') {
                    let mut jar = self.jar.lock().unwrap();
                    if value.contains("Max-Age=0") {
                        jar.remove(k);
                    } else {
                        jar.insert(k.to_owned(), v.to_owned());
                    }
                }
            }
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        self.send("GET", url, None, Vec::new(), &[]).await
    }

    /// Posts fields as a form, with the CSRF token of the jar added.
    pub async fn post(&self, url: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            all.push((
                "csrf".into(),
                self.cookie(auth_web::wire::CSRF_COOKIE).unwrap_or_default(),
            ));
        }
        let body = all
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            "POST",
            url,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
            &[],
        )
        .await
    }

    /// Posts fields as a form (with the jar's cookies and CSRF token) on a socket of its own,
    /// then closes it after `after`, before the answer: a tab closed while its request runs.
    pub async fn post_and_hang_up(&self, url: &str, fields: &[(&str, &str)], after: Duration) {
        use tokio::io::AsyncWriteExt;
        let mut all: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.push((
            "csrf".into(),
            self.cookie(auth_web::wire::CSRF_COOKIE).unwrap_or_default(),
        ));
        let body = all
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let after_scheme = url.find("://").map_or(0, |at| at + 3);
        let (authority, path) = url[after_scheme..].split_at(url[after_scheme..].find('/').unwrap());
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nCookie: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.cookie_header(),
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        tokio::time::sleep(after).await;
        drop(stream);
    }

    /// Posts, then follows a `303` to the page.
    pub async fn post_and_follow(&self, base: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let answer = self.post(&format!("{base}{path}"), fields).await;
        if answer.status == 303 {
            let location = answer.header("location").unwrap_or("/").to_owned();
            return self.get(&format!("{}{location}", origin(base))).await;
        }
        answer
    }
}

/// `http://127.0.0.1:PORT` of a URL.
pub fn origin(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => url[..after_scheme + slash].to_owned(),
        None => url.to_owned(),
    }
}

pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Random text for secrets that must appear nowhere.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).unwrap();
    format!(
        "{prefix}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Solve requests the simulator received (both path styles).
pub fn solves(sim: &Simulator) -> Vec<auth_sim::LoggedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/accounts/checkpoint"))
        .collect()
}

pub fn path_exists(path: &Path) -> bool {
    path.exists()
}

/// A memory store that can be switched off: every call then fails as an unreachable Redis
/// would.
#[derive(Default)]
pub struct FlakyStore {
    pub inner: MemoryStore,
    pub down: std::sync::atomic::AtomicBool,
}

impl FlakyStore {
    fn check(&self) -> Result<(), auth_web::StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(auth_web::StoreError::Unavailable(
                "switched off by the test".into(),
            ))
        } else {
            Ok(())
        }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

impl IntentStore for FlakyStore {
    fn create<'a>(
        &'a self,
        id: &'a auth_web::SessionId,
        record: &'a auth_web::Record,
        now: UnixMillis,
    ) -> auth_web::StoreFuture<'a, ()> {
        Box::pin(async move {
            self.check()?;
            self.inner.create(id, record, now).await
        })
    }
    fn load<'a>(
        &'a self,
        id: &'a auth_web::SessionId,
        now: UnixMillis,
    ) -> auth_web::StoreFuture<'a, Option<auth_web::Versioned>> {
        Box::pin(async move {
            self.check()?;
            self.inner.load(id, now).await
        })
    }
    fn replace<'a>(
        &'a self,
        id: &'a auth_web::SessionId,
        expected: u64,
        record: &'a auth_web::Record,
    ) -> auth_web::StoreFuture<'a, bool> {
        Box::pin(async move {
            self.check()?;
            self.inner.replace(id, expected, record).await
        })
    }
    fn remove<'a>(&'a self, id: &'a auth_web::SessionId, expected: u64) -> auth_web::StoreFuture<'a, bool> {
        Box::pin(async move {
            self.check()?;
            self.inner.remove(id, expected).await
        })
    }
    fn dump(&self) -> auth_web::StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            self.check()?;
            self.inner.dump().await
        })
    }
}

/// Everything this thread's code logs, at every level (TRACE and DEBUG included), as the
/// text a log file would hold. A current-thread runtime runs the form, its client and its
/// tasks on the test's thread, so all of it is captured until the guard is dropped.
pub fn capture_logs() -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<u8>>>) {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = Buffer(Arc::clone(&buffer));
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), buffer)
}

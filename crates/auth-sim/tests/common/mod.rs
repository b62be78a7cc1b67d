//! Helpers shared by the integration tests: a blocking client over real loopback
//! sockets (ureq, and raw TCP for the fault tests), and the two path styles.
#![allow(dead_code, unreachable_pub)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use auth_sim::{Fixture, Simulator};
use serde_json::{Value, json};

pub const KEY: &str = "test-key";

/// The two path styles of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `/v1/accounts…`
    Postpress,
    /// `/api/v1/accounts…`
    Unipile,
}

impl Style {
    pub fn base(self, sim: &Simulator) -> String {
        match self {
            Style::Postpress => sim.base_url(),
            Style::Unipile => sim.unipile_base_url(),
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Style::Postpress => "/v1",
            Style::Unipile => "/api/v1",
        }
    }
}

/// Runs a test body once per path style, each against a fresh simulator from `start`.
pub fn in_both_styles(start: impl Fn() -> Simulator, test: impl Fn(&Simulator, &Client)) {
    for style in [Style::Postpress, Style::Unipile] {
        eprintln!("-- path style: {style:?}");
        let sim = start();
        let client = Client::new(&sim, style);
        test(&sim, &client);
    }
}

/// A simulator with the demo fixture, key [`KEY`] and a manual clock.
pub fn demo_sim() -> Simulator {
    sim_with(Fixture::demo())
}

pub fn sim_with(fixture: Fixture) -> Simulator {
    Simulator::builder()
        .api_key(KEY)
        .fixture(fixture)
        .manual_clock()
        .start()
        .expect("simulator starts")
}

/// One HTTP answer, fully read.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn account_id(&self) -> String {
        self.json()["account_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no account_id in {:?}", self.text))
            .to_owned()
    }

    /// The `x-request-id` header.
    pub fn request_id(&self) -> &str {
        self.header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id header in {:?}", self.headers))
    }

    /// Asserts an error in the endpoint pages' envelope, with `content-type:
    /// application/json` and the request id both in `instance` and in `x-request-id`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, kind: &str) {
        assert_eq!(self.status, status, "status of {:?}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "content-type of a {status}"
        );
        let body = self.json();
        assert_eq!(body["status"], json!(status), "body.status in {body}");
        assert_eq!(body["type"], json!(kind), "body.type in {body}");
        assert!(
            body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "body.title in {body}"
        );
        assert!(body["detail"].is_string(), "body.detail in {body}");
        let id = self.request_id();
        assert_eq!(id.len(), 36, "a UUID-shaped request id: {id}");
        assert_eq!(body["instance"], json!(id), "body.instance in {body}");
    }

    /// Asserts an error in the quickstart's envelope: `{"error":{"code","message",
    /// "request_id"}}`, `code` being `kind` without `errors/`.
    #[track_caller]
    pub fn assert_quickstart_error(&self, status: u16, kind: &str) {
        assert_eq!(self.status, status, "status of {:?}", self.text);
        let body = self.json();
        let code = kind.strip_prefix("errors/").unwrap_or(kind);
        assert_eq!(body["error"]["code"], json!(code), "error.code in {body}");
        assert!(body["error"]["message"].is_string(), "error.message in {body}");
        assert_eq!(
            body["error"]["request_id"],
            json!(self.request_id()),
            "error.request_id in {body}"
        );
        assert_eq!(
            body.as_object().map(|o| o.len()),
            Some(1),
            "only `error` in {body}"
        );
    }
}

/// A blocking keep-alive client (ureq 3) for one simulator and one path style.
pub struct Client {
    agent: ureq::Agent,
    pub base: String,
    pub style: Style,
    pub key: Option<String>,
    /// Send the key as `Authorization: Bearer` instead of `X-API-KEY`.
    pub bearer: bool,
}

impl Client {
    pub fn new(sim: &Simulator, style: Style) -> Client {
        Client {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into(),
            base: style.base(sim),
            style,
            key: Some(KEY.to_owned()),
            bearer: false,
        }
    }

    /// Another client for the same simulator and path style, with the default key.
    pub fn new_like(other: &Client) -> Client {
        Client {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into(),
            base: other.base.clone(),
            style: other.style,
            key: Some(KEY.to_owned()),
            bearer: false,
        }
    }

    pub fn with_key(mut self, key: Option<&str>) -> Client {
        self.key = key.map(str::to_owned);
        self
    }

    /// Sends the key as `Authorization: Bearer <key>`.
    pub fn with_bearer(mut self, key: &str) -> Client {
        self.key = Some(key.to_owned());
        self.bearer = true;
        self
    }

    fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match (&self.key, self.bearer) {
            (Some(key), false) => request.header("X-API-KEY", key),
            (Some(key), true) => request.header("authorization", format!("Bearer {key}")),
            (None, _) => request,
        }
    }

    /// POSTs `body` as JSON with an `Idempotency-Key`.
    pub fn post_idempotent(&self, path: &str, key: &str, body: &Value) -> Answer {
        self.post_with(path, &[("idempotency-key", key)], &body.to_string())
    }

    /// POSTs `body` (JSON) with extra headers.
    pub fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("accept", "application/json")
            .header("content-type", "application/json");
        request = self.authorize(request);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send(body).expect("request is answered"))
    }

    /// POSTs `body` as JSON to `base + path`.
    pub fn post(&self, path: &str, body: &Value) -> Answer {
        self.post_raw(path, Some("application/json"), &body.to_string())
    }

    pub fn post_raw(&self, path: &str, content_type: Option<&str>, body: &str) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("accept", "application/json");
        request = self.authorize(request);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = request.send(body).expect("request is answered");
        read(response)
    }

    pub fn get(&self, path: &str) -> Answer {
        let request = self.authorize(self.agent.get(format!("{}{path}", self.base)));
        read(request.call().expect("request is answered"))
    }

    pub fn connect(&self, username: &str, password: &str) -> Answer {
        self.post(
            "/accounts",
            &json!({"provider":"MESSENGER","username":username,"password":password}),
        )
    }

    pub fn solve(&self, account_id: &str, code: &str) -> Answer {
        self.post(
            "/accounts/checkpoint",
            &json!({"provider":"MESSENGER","account_id":account_id,"code":code}),
        )
    }

    pub fn resend(&self, account_id: &str) -> Answer {
        self.post(
            "/accounts/checkpoint/resend",
            &json!({"provider":"MESSENGER","account_id":account_id}),
        )
    }

    pub fn reconnect(&self, account_id: &str, username: &str, password: &str) -> Answer {
        self.post(
            &format!("/accounts/{account_id}"),
            &json!({"provider":"MESSENGER","username":username,"password":password}),
        )
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .expect("body is read");
    Answer {
        status,
        headers,
        text,
    }
}

/// What a raw socket received for one request sent with `connection: close`.
#[derive(Debug)]
pub struct RawAnswer {
    pub bytes: Vec<u8>,
    /// The bytes after the blank line that ends the head (empty without a head).
    pub body: Vec<u8>,
    pub head: String,
    pub elapsed: Duration,
}

impl RawAnswer {
    pub fn status(&self) -> Option<u16> {
        self.head.split(' ').nth(1)?.parse().ok()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length")?.parse().ok()
    }
}

/// Writes a POST with `connection: close` on a new socket and reads until the server
/// closes it (or 10 s pass).
pub fn raw_post(addr: SocketAddr, path: &str, body: &str) -> RawAnswer {
    raw_post_with(addr, path, &[], body)
}

/// [`raw_post`] with extra header lines (`name: value`).
pub fn raw_post_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> RawAnswer {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = headers.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nx-api-key: {KEY}\r\ncontent-type: application/json\r\naccept: application/json\r\n{extra}connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            // A reset after a deliberate close counts as the end too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the answer failed: {e}"),
        }
    }
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(at) => (
            String::from_utf8_lossy(&bytes[..at]).into_owned(),
            bytes[at + 4..].to_vec(),
        ),
        None => (String::from_utf8_lossy(&bytes).into_owned(), Vec::new()),
    };
    RawAnswer {
        bytes,
        body,
        head,
        elapsed: started.elapsed(),
    }
}

/// Polls `condition` every 5 ms for up to 10 s.
#[track_caller]
pub fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

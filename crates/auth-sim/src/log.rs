//! The in-process log of the requests the simulator received.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// One request as the simulator received it, logged before it is answered.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// The number of the TCP connection that carried it (1 for the first accepted one).
    pub connection: u64,
    /// `POST`, `GET`, …
    pub method: String,
    /// The path as sent, e.g. `/v1/accounts/checkpoint` (without the query).
    pub path: String,
    /// The query string, without `?`, if any.
    pub query: Option<String>,
    /// Every header in the order received, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (empty when it was over the size limit and not read).
    pub body: Vec<u8>,
    /// When it arrived, on the simulator's clock (time since start, plus manual advances).
    pub received_at: Duration,
}

impl LoggedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text, if it is.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// The body parsed as JSON, if it is.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// `Debug` hides the values of `x-api-key` and `authorization` (the API key), so a logged
/// request's headers can be printed safely. The body is shown as sent.
impl fmt::Debug for LoggedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let secret = n.eq_ignore_ascii_case("x-api-key") || n.eq_ignore_ascii_case("authorization");
                let shown = if secret { "<redacted>" } else { v.as_str() };
                (n.as_str(), shown)
            })
            .collect();
        f.debug_struct("LoggedRequest")
            .field("connection", &self.connection)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .field("received_at", &self.received_at)
            .finish()
    }
}

/// A bounded log: past its capacity the oldest entries are dropped.
pub(crate) struct RequestLog {
    capacity: usize,
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> RequestLog {
        RequestLog {
            capacity,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn push(&self, request: LoggedRequest) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = crate::lock(&self.entries);
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(request);
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        crate::lock(&self.entries).iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        crate::lock(&self.entries).clear();
    }
}

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

/// A bounded log: past its capacity (a count of requests) or its byte budget, the oldest
/// entries are dropped first. A request larger than the whole budget is not kept.
pub(crate) struct RequestLog {
    capacity: usize,
    max_bytes: usize,
    entries: Mutex<Entries>,
}

struct Entries {
    requests: VecDeque<LoggedRequest>,
    /// The sum of the requests' [`LoggedRequest::footprint`].
    bytes: usize,
}

impl LoggedRequest {
    /// About the memory this entry holds: its strings and body, each header's two
    /// strings, and the entry itself. What the byte budget counts.
    fn footprint(&self) -> usize {
        let header = 2 * std::mem::size_of::<String>();
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| header + name.len() + value.len())
            .sum();
        std::mem::size_of::<LoggedRequest>()
            + self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + headers
            + self.body.len()
    }
}

impl RequestLog {
    /// A log of at most `capacity` requests holding at most `max_bytes` (0 for either: no
    /// log).
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> RequestLog {
        RequestLog {
            capacity,
            max_bytes,
            entries: Mutex::new(Entries {
                requests: VecDeque::new(),
                bytes: 0,
            }),
        }
    }

    pub(crate) fn push(&self, request: LoggedRequest) {
        let size = request.footprint();
        if self.capacity == 0 || size > self.max_bytes {
            return;
        }
        let mut entries = crate::lock(&self.entries);
        while entries.requests.len() >= self.capacity || entries.bytes + size > self.max_bytes {
            let Some(oldest) = entries.requests.pop_front() else {
                break;
            };
            entries.bytes -= oldest.footprint();
        }
        entries.bytes += size;
        entries.requests.push_back(request);
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        crate::lock(&self.entries).requests.iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        let mut entries = crate::lock(&self.entries);
        entries.requests.clear();
        entries.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body_bytes: usize) -> LoggedRequest {
        LoggedRequest {
            connection: 1,
            method: "POST".to_owned(),
            path: "/v1/accounts".to_owned(),
            query: None,
            headers: vec![("x-filler".to_owned(), "h".repeat(100))],
            body: vec![b'b'; body_bytes],
            received_at: Duration::ZERO,
        }
    }

    #[test]
    fn the_byte_budget_drops_the_oldest_first_and_skips_what_never_fits() {
        let size = request(1000).footprint();
        let log = RequestLog::new(100, 3 * size + 10);
        for body_bytes in [1000, 1000, 1000] {
            log.push(request(body_bytes));
        }
        assert_eq!(log.snapshot().len(), 3);
        log.push(request(1001));
        let kept: Vec<usize> = log.snapshot().iter().map(|r| r.body.len()).collect();
        assert_eq!(kept, [1000, 1000, 1001]);
        assert!(crate::lock(&log.entries).bytes <= 3 * size + 10);
        log.push(request(4 * size));
        assert_eq!(
            log.snapshot().len(),
            3,
            "too large for the whole budget: not kept"
        );
        log.clear();
        assert_eq!(crate::lock(&log.entries).bytes, 0);
    }
}

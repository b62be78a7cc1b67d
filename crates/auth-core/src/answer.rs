//! Answers as plain data: what a transport brings back.

use std::fmt;

/// An HTTP answer, as plain data: every status, 4xx and 5xx included, is interpreted by
/// the machine.
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers, as received. The machine reads `Retry-After` and `x-request-id` when
    /// present, and nothing else; a transport may leave out the rest.
    pub headers: Vec<(String, String)>,
    /// The body bytes, as received: JSON or not.
    pub body: Vec<u8>,
}

impl Answer {
    /// An answer with a status and a body, and no headers.
    ///
    /// ```
    /// use auth_core::Answer;
    /// let answer = Answer::new(201, r#"{"object":"AccountCreated","account_id":"a1"}"#);
    /// assert_eq!(answer.status, 201);
    /// ```
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The same answer with one more header.
    ///
    /// ```
    /// use auth_core::Answer;
    /// let answer = Answer::new(429, "").with_header("Retry-After", "2");
    /// assert_eq!(answer.header("retry-after"), Some("2"));
    /// ```
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The value of the first header of that name, ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether a transport should keep this header in [`Answer::headers`]: the ones the
    /// machine reads (`retry-after`, `x-request-id`). A transport that keeps no other header
    /// saves an allocation per header.
    pub fn is_read_header(name: &str) -> bool {
        READ_HEADERS.iter().any(|read| read.eq_ignore_ascii_case(name))
    }
}

/// The headers the machine reads.
pub(crate) const READ_HEADERS: [&str; 2] = ["retry-after", "x-request-id"];

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

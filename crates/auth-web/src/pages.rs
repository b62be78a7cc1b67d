//! The pages, as askama templates (`templates/`): checked at compile time, every value
//! HTML-escaped (nothing is marked safe), so whatever the API sends is shown as text.

use std::time::Duration;

use askama::Template;
use auth_core::{Checkpoint, Intent, UnixMillis};
use serde_json::Value;

use crate::config::FormConfig;

/// An alert (`role=alert`): an error with the API's message and request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alert {
    pub(crate) message: String,
    pub(crate) request_id: Option<String>,
}

impl Alert {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            request_id: None,
        }
    }
}

/// What every page shares.
pub(crate) struct Frame<'a> {
    pub(crate) prefix: &'a str,
    pub(crate) provider: &'a str,
    pub(crate) csrf: &'a str,
}

impl Frame<'_> {
    /// The page's own URL: the prefix the app mounted the form under (axum matches a nested
    /// router's `/` without a trailing slash), or `/` at the root.
    pub(crate) fn home(&self) -> &str {
        if self.prefix.is_empty() { "/" } else { self.prefix }
    }
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage<'a> {
    title: &'a str,
    provider: &'a str,
    prefix: &'a str,
    home: &'a str,
    refresh: bool,
    csrf: &'a str,
    context: Option<&'a str>,
    alert: Option<Alert>,
    status: Option<String>,
    max_field: usize,
}

#[derive(Template)]
#[template(path = "checkpoint.html")]
struct CheckpointPage<'a> {
    title: &'a str,
    provider: &'a str,
    prefix: &'a str,
    home: &'a str,
    refresh: bool,
    csrf: &'a str,
    kind: &'a str,
    instructions: String,
    details: Vec<(String, String)>,
    remaining: String,
    remaining_ms: u128,
    alert: Option<Alert>,
    status: Option<String>,
    max_code: usize,
}

#[derive(Template)]
#[template(path = "waiting.html")]
struct WaitingPage<'a> {
    title: &'a str,
    provider: &'a str,
    prefix: &'a str,
    home: &'a str,
    refresh: bool,
    heading: &'a str,
    message: &'a str,
    remaining: Option<String>,
    remaining_ms: u128,
}

#[derive(Template)]
#[template(path = "connected.html")]
struct ConnectedPage<'a> {
    title: &'a str,
    provider: &'a str,
    prefix: &'a str,
    home: &'a str,
    refresh: bool,
    account_id: &'a str,
    success_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "expired.html")]
struct ExpiredPage<'a> {
    title: &'a str,
    provider: &'a str,
    prefix: &'a str,
    home: &'a str,
    refresh: bool,
    csrf: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage<'a> {
    title: &'a str,
    provider: &'a str,
    prefix: &'a str,
    home: &'a str,
    refresh: bool,
    heading: &'a str,
    alert: Option<Alert>,
    status: Option<String>,
}

/// `M:SS` of a duration, rounded up to the second (a page never shows 0:00 while time is
/// left).
pub(crate) fn minutes_seconds(left: Duration) -> String {
    let seconds = left.as_millis().div_ceil(1000);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// A page that could not be rendered is a bug in a template; the user gets a plain line.
fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|error| {
        tracing::error!(%error, "a page could not be rendered");
        "<!doctype html><title>Error</title><p>This page could not be shown.</p>".to_owned()
    })
}

pub(crate) fn start(
    frame: &Frame<'_>,
    context: Option<&str>,
    alert: Option<Alert>,
    status: Option<String>,
) -> String {
    render(&StartPage {
        title: "Sign in",
        provider: frame.provider,
        prefix: frame.prefix,
        home: frame.home(),
        refresh: false,
        csrf: frame.csrf,
        context,
        alert,
        status,
        max_field: FormConfig::MAX_FIELD_BYTES,
    })
}

pub(crate) fn checkpoint(
    frame: &Frame<'_>,
    intent: &Intent,
    now: UnixMillis,
    alert: Option<Alert>,
    status: Option<String>,
) -> String {
    let left = intent.remaining(now);
    render(&CheckpointPage {
        title: intent.checkpoint.kind(),
        provider: frame.provider,
        prefix: frame.prefix,
        home: frame.home(),
        refresh: false,
        csrf: frame.csrf,
        kind: intent.checkpoint.kind(),
        instructions: intent.checkpoint.instructions(),
        details: details(&intent.checkpoint),
        remaining: minutes_seconds(left),
        remaining_ms: left.as_millis(),
        alert,
        status,
        max_code: FormConfig::MAX_CODE_BYTES,
    })
}

pub(crate) fn waiting(frame: &Frame<'_>, heading: &str, message: &str, left: Option<Duration>) -> String {
    render(&WaitingPage {
        title: heading,
        provider: frame.provider,
        prefix: frame.prefix,
        home: frame.home(),
        refresh: true,
        heading,
        message,
        remaining: left.map(minutes_seconds),
        remaining_ms: left.map_or(0, |left| left.as_millis()),
    })
}

pub(crate) fn connected(frame: &Frame<'_>, account_id: &str, success_url: Option<&str>) -> String {
    render(&ConnectedPage {
        title: "Connected",
        provider: frame.provider,
        prefix: frame.prefix,
        home: frame.home(),
        refresh: false,
        account_id,
        success_url,
    })
}

pub(crate) fn expired(frame: &Frame<'_>, message: &str) -> String {
    render(&ExpiredPage {
        title: "Expired",
        provider: frame.provider,
        prefix: frame.prefix,
        home: frame.home(),
        refresh: false,
        csrf: frame.csrf,
        message,
    })
}

pub(crate) fn problem(frame: &Frame<'_>, heading: &str, alert: Alert) -> String {
    render(&ProblemPage {
        title: heading,
        provider: frame.provider,
        prefix: frame.prefix,
        home: frame.home(),
        refresh: false,
        heading,
        alert: Some(alert),
        status: None,
    })
}

/// The checkpoint's fields worth showing, as (name, text): a captcha's data, a QR code's
/// content, the contracts to choose from, every field of an unknown type. Shown as text.
fn details(checkpoint: &Checkpoint) -> Vec<(String, String)> {
    let mut details = Vec::new();
    match checkpoint {
        Checkpoint::Captcha { public_key, data } => {
            details.extend(public_key.clone().map(|v| ("Public key".to_owned(), v)));
            details.extend(data.clone().map(|v| ("Data".to_owned(), v)));
        }
        Checkpoint::QrCode { qrcode: Some(qrcode) } => details.push(("QR code".to_owned(), qrcode.clone())),
        Checkpoint::ContractChooser { options } => {
            details.extend(options.iter().map(|o| (o.id.clone(), o.name.clone())));
        }
        Checkpoint::Other { fields, .. } => {
            details.extend(fields.iter().take(16).map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (name.clone(), text.chars().take(500).collect())
            }));
        }
        _ => {}
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_and_seconds_round_up() {
        assert_eq!(minutes_seconds(Duration::from_secs(300)), "5:00");
        assert_eq!(minutes_seconds(Duration::from_millis(299_001)), "5:00");
        assert_eq!(minutes_seconds(Duration::from_millis(299_000)), "4:59");
        assert_eq!(minutes_seconds(Duration::from_millis(1)), "0:01");
        assert_eq!(minutes_seconds(Duration::ZERO), "0:00");
        assert_eq!(minutes_seconds(Duration::from_secs(61)), "1:01");
    }

    #[test]
    fn what_the_api_sends_is_escaped() {
        let frame = Frame {
            prefix: "/p",
            provider: "Messenger",
            csrf: "t",
        };
        let alert = Alert {
            message: "<script>alert(1)</script>".into(),
            request_id: Some("\"><img src=x onerror=alert(2)>".into()),
        };
        let page = problem(&frame, "Error", alert);
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}"
        );
    }
}

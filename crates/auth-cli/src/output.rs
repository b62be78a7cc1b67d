//! Writing to the terminal: lines that never panic on a closed pipe, no control character
//! from elsewhere, and the blanking of the process's secrets from the free text the core
//! never sees.
//!
//! Every write to the terminal goes through this module, and every text it writes goes
//! through [`printable`] first: a server's words (an unknown checkpoint's type, an
//! account id, an error's title and detail) cannot carry terminal escapes (`ESC [2J`…),
//! a carriage return that overwrites a line, or a bell. Only the countdown's own escapes,
//! written by [`stderr_redraw`], reach the terminal as such. The `--json` line is the one
//! exception to the replacing: [`stdout_json_line`] writes those characters as JSON
//! escapes (`\u0085`), so that the JSON keeps the server's strings exactly and the
//! terminal still sees none of them.
//!
//! The command never formats a secret: request bodies are shown through the core's
//! `Body::redacted`, and the core scrubs the password, code, proxy password and API key of
//! every request it sent from what the server sends back (error titles, details, excerpts),
//! so the errors the command prints need nothing more. One policy, the core's. This
//! module's [`redact`] covers only text the core never handles: clap's usage errors (which
//! may quote an argument, `--api-key` or `--code` included) and the fields of a checkpoint,
//! which the core passes through as the server wrote them. It replaces every password, code
//! and API key this process has seen.

use std::borrow::Cow;
use std::io::Write;
use std::sync::{Mutex, PoisonError};

/// What replaces a control character in text written to the terminal.
pub(crate) const REPLACEMENT: char = '\u{FFFD}';

/// What replaces a secret in text.
pub(crate) const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not searched for in text: blanking out every `12` of a
/// message would corrupt it (and such a secret guesses in no time anyway).
const MIN_REDACTED_LEN: usize = 4;

/// Every password, code and API key this process has seen.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers a secret, so that [`redact`] blanks it out of any text.
pub(crate) fn remember_secret(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_REDACTED_LEN {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    if !secrets.iter().any(|known| known == secret) {
        secrets.push(secret.to_owned());
        // Longest first, so that a secret containing another is blanked out whole.
        secrets.sort_by_key(|known| std::cmp::Reverse(known.len()));
    }
}

/// The text with every remembered secret replaced by [`REDACTED`].
pub(crate) fn redact(text: &str) -> String {
    let secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut text = text.to_owned();
    for secret in secrets.iter() {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), REDACTED);
        }
    }
    text
}

/// Whether `c` may not reach the terminal as such: a control character (C0, DEL, C1:
/// escapes, carriage returns, bells, tabs…), or a bidirectional override or isolate, which
/// can make a line read differently from what it holds (U+202A–U+202E, U+2066–U+2069).
fn is_unwanted(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The text with every control character and every bidirectional override or isolate
/// replaced by [`REPLACEMENT`]; with `newlines`, `\n` is kept.
pub(crate) fn printable(text: &str, newlines: bool) -> Cow<'_, str> {
    let unwanted = |c: char| is_unwanted(c) && !(newlines && c == '\n');
    if !text.contains(unwanted) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if unwanted(c) { REPLACEMENT } else { c })
            .collect(),
    )
}

/// Writes a line on standard output, without control characters; a closed pipe is ignored.
pub(crate) fn stdout_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", printable(line, false));
    let _ = stdout.flush();
}

/// Compact JSON text with every character [`printable`] would replace written as a JSON
/// escape (`\u0085`, `\u202e`): the same JSON value, safe for a terminal. Compact JSON has
/// no whitespace between its tokens and serde_json escapes C0 controls in strings itself,
/// so such characters (DEL, C1, bidirectional overrides) stand only inside its strings,
/// where an escape means the character; all of them are in the Basic Multilingual Plane.
fn json_escaped(json: &str) -> Cow<'_, str> {
    if !json.contains(is_unwanted) {
        return Cow::Borrowed(json);
    }
    let mut escaped = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unwanted(c) {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// Writes the compact JSON line of `--json` on standard output, its server's strings kept
/// exactly: what [`printable`] would replace goes as a JSON escape; a closed pipe is
/// ignored.
pub(crate) fn stdout_json_line(json: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", json_escaped(json));
    let _ = stdout.flush();
}

/// Writes a line on standard error, without control characters; a closed pipe is ignored.
pub(crate) fn stderr_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", printable(line, false));
}

/// Writes text on standard error without a newline, and flushes it (prompts, countdowns,
/// clap's usage errors); control characters but `\n` are replaced.
pub(crate) fn stderr_text(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{}", printable(text, true));
    let _ = stderr.flush();
}

/// Redraws a line in place on a terminal: saves the cursor (`ESC 7`), rewrites the line
/// from its start, restores the cursor (`ESC 8`). These escapes are the only ones this
/// program writes; the line itself goes without control characters.
pub(crate) fn stderr_redraw(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\x1b7\r{}\x1b8", printable(line, false));
    let _ = stderr.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_secrets_are_blanked_out_and_short_ones_are_left() {
        remember_secret("s3cr3t-key-for-output-test");
        remember_secret("s3cr3t");
        remember_secret("12");
        let text = redact("key s3cr3t-key-for-output-test, password s3cr3t, code 12");
        assert_eq!(text, "key <redacted>, password <redacted>, code 12");
    }

    #[test]
    fn the_json_line_escapes_what_the_terminal_must_not_see_and_keeps_its_value() {
        let value = serde_json::json!({"type": "a\u{1b}b\u{7f}c\u{85}d\u{202E}e\u{2069}f\u{FFFD}g"});
        let json = value.to_string();
        let escaped = json_escaped(&json);
        assert_eq!(
            escaped,
            "{\"type\":\"a\\u001bb\\u007fc\\u0085d\\u202ee\\u2069f\u{FFFD}g\"}"
        );
        assert!(!escaped.contains(is_unwanted));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&escaped).unwrap(),
            value
        );
        assert!(matches!(json_escaped(r#"{"a":"b"}"#), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_are_replaced() {
        assert!(matches!(
            printable("2FA (SMS) — 4:12 left", false),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            printable("a\u{1b}[2Jb\rc\u{7}d\u{9b}e\u{7f}f\tg", false),
            "a\u{FFFD}[2Jb\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}f\u{FFFD}g"
        );
        assert_eq!(printable("one\ntwo", false), "one\u{FFFD}two");
        assert_eq!(printable("one\ntwo\u{1b}", true), "one\ntwo\u{FFFD}");
        assert_eq!(
            printable("pay\u{202E}dcba\u{2066}x", false),
            "pay\u{FFFD}dcba\u{FFFD}x"
        );
    }
}

//! Writing to the terminal: lines that never panic on a closed pipe, no control character
//! from elsewhere, and the blanking of the process's secrets from the free text the core
//! never sees.
//!
//! Every write to the terminal goes through this module, and every text it writes goes
//! through [`printable`] first: a server's words (an unknown checkpoint's type, an
//! account id, an error's title and detail) cannot carry terminal escapes (`ESC [2J`…),
//! a carriage return that overwrites a line, or a bell. Only the countdown's own escapes,
//! written by [`stderr_redraw`], reach the terminal as such.
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

/// The text with every control character (C0, DEL, C1: escapes, carriage returns, bells,
/// tabs…) and every bidirectional override or isolate replaced by [`REPLACEMENT`]; with
/// `newlines`, `\n` is kept.
pub(crate) fn printable(text: &str, newlines: bool) -> Cow<'_, str> {
    // Control characters, and the bidirectional overrides and isolates that can make a
    // line read differently from what it holds (U+202A–U+202E, U+2066–U+2069).
    let unwanted = |c: char| {
        (c.is_control() && !(newlines && c == '\n'))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
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

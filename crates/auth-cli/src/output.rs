//! Writing to the terminal: lines that never panic on a closed pipe, and a last line of
//! defence that blanks out the process's secrets in free text.
//!
//! The command never formats a secret on purpose: request bodies are shown through
//! `Body::redacted`, and the core already redacts the password, code and API key of the
//! request in flight from what the server sends back. Free text that comes from
//! elsewhere (a server's error message, clap's usage errors) still goes through
//! [`redact`], which replaces every password, code and API key this process has seen.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

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

/// Writes a line on standard output; a closed pipe is ignored.
pub(crate) fn stdout_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Writes a line on standard error; a closed pipe is ignored.
pub(crate) fn stderr_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Writes text on standard error without a newline, and flushes it (prompts, countdowns).
pub(crate) fn stderr_text(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{text}");
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
}

//! The live countdown of an intent's remaining time, drawn on standard error.
//!
//! On a terminal the line is redrawn in place: the cursor is saved (`ESC 7`), the line
//! rewritten from its start, and the cursor restored (`ESC 8`), so that a code the user
//! is typing after the prompt is left where it is. Elsewhere the line is written once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::output;
use crate::time_text;

/// How often a live countdown is redrawn.
pub(crate) const TICK: Duration = Duration::from_millis(250);

/// Whether a live countdown's line is on the terminal without its newline.
static LINE_OPEN: AtomicBool = AtomicBool::new(false);

/// For the signal thread, before the process dies of a signal: ends a live countdown's line,
/// so that the shell's prompt starts on a line of its own.
pub(crate) fn end_line_on_signal() {
    if LINE_OPEN.swap(false, Ordering::SeqCst) {
        output::stderr_line("");
    }
}

/// One line: `<label> — 4:12 left<tail>`.
#[derive(Debug)]
pub(crate) struct Countdown {
    label: String,
    tail: String,
    live: bool,
    width: usize,
    drawn: Option<String>,
}

impl Countdown {
    /// A countdown line; `live`: redraw it in place (standard error is a terminal).
    pub(crate) fn new(label: impl Into<String>, tail: impl Into<String>, live: bool) -> Self {
        Self {
            label: label.into(),
            tail: tail.into(),
            live,
            width: 0,
            drawn: None,
        }
    }

    /// The line for a remaining time; the time keeps the width it first had, so a redraw
    /// covers the previous one exactly.
    pub(crate) fn line(&mut self, remaining: Duration) -> String {
        let left = time_text::time_left(remaining);
        self.width = self.width.max(left.chars().count());
        format!(
            "{} — {left:>width$} left{}",
            self.label,
            self.tail,
            width = self.width
        )
    }

    /// Draws the line: the first time as it is, then (when live) in place, and only when
    /// its text changed.
    pub(crate) fn draw(&mut self, remaining: Duration) {
        let line = self.line(remaining);
        match &self.drawn {
            None if self.live => {
                LINE_OPEN.store(true, Ordering::SeqCst);
                output::stderr_text(&line);
            }
            None => output::stderr_line(&line),
            Some(previous) if self.live && *previous != line => {
                output::stderr_redraw(&line);
            }
            Some(_) => return,
        }
        self.drawn = Some(line);
    }

    /// Draws the line anew on the next [`Countdown::draw`] (after the user pressed Enter).
    pub(crate) fn restart(&mut self) {
        LINE_OPEN.store(false, Ordering::SeqCst);
        self.drawn = None;
    }

    /// Ends a live line that the user did not end with Enter.
    pub(crate) fn finish(&mut self) {
        if self.live && self.drawn.take().is_some() {
            LINE_OPEN.store(false, Ordering::SeqCst);
            output::stderr_line("");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_keeps_its_first_width() {
        let mut countdown = Countdown::new("2FA (SMS)", ", enter the code: ", false);
        let first = countdown.line(Duration::from_secs(600));
        let later = countdown.line(Duration::from_secs(599));
        assert_eq!(first, "2FA (SMS) — 10:00 left, enter the code: ");
        assert_eq!(later, "2FA (SMS) —  9:59 left, enter the code: ");
        assert_eq!(first.chars().count(), later.chars().count());
    }
}

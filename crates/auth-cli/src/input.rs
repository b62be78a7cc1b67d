//! Where the password and the checkpoint answers come from.
//!
//! - The password: `POSTPRESS_PASSWORD`, else a prompt on the terminal that does not
//!   echo, else (standard input is not a terminal) the first line of standard input.
//! - The answers, one per checkpoint and one more after each wrong code: `--in-app`
//!   first, then the `--code` values in order, then (unless detached) a prompt on the
//!   terminal with a live countdown, or the next line of standard input. A blank line
//!   asks again; the end of standard input means there is no answer left.
//!
//! Standard input is read on a helper thread that sends its lines over a channel, so that
//! waiting for a line stops when the intent's time is up, with nothing sent, whether
//! standard input is a terminal or a pipe. The time left is the caller's to tell (the
//! intent's deadline by the client's clock): this module keeps no clock of its own.

use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use auth_core::{Solution, SolutionKind};

use crate::countdown::{Countdown, TICK};
use crate::outcome::Failure;
use crate::output;

/// The environment variable the password is read from first.
pub(crate) const PASSWORD_ENV: &str = "POSTPRESS_PASSWORD";

/// Reads an answer to a checkpoint as typed: the core's [`Solution::code`] (the literals
/// `in_app_validation` and `TRY_ANOTHER_WAY` are matched whatever their case); `None` for a
/// blank one. A typed code is remembered as a secret.
pub(crate) fn parse_answer(text: &str) -> Option<Solution> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let solution = Solution::code(text);
    if solution.kind() == SolutionKind::Code {
        output::remember_secret(text);
    }
    Some(solution)
}

/// What waiting for an answer gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// An answer to send.
    Answer(Solution),
    /// No answer is left: no more `--code`, standard input ended, or detached.
    Exhausted,
    /// The intent's time ran out while waiting.
    Expired,
}

/// What waiting for a line of standard input gave.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Text(String),
    Ended,
    Expired,
}

/// Standard input, read a line at a time on a helper thread started at the first read.
#[derive(Debug)]
pub(crate) struct StdinLines {
    lines: Option<Receiver<String>>,
    started: bool,
    terminal: bool,
}

impl StdinLines {
    /// Standard input, not read yet.
    pub(crate) fn new() -> Self {
        Self {
            lines: None,
            started: false,
            terminal: std::io::stdin().is_terminal(),
        }
    }

    /// Whether standard input is a terminal.
    pub(crate) fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// The channel of lines, with the reader thread started on first use.
    fn receiver(&mut self) -> Option<&Receiver<String>> {
        if !self.started {
            self.started = true;
            let (sender, receiver) = std::sync::mpsc::channel();
            let spawned = std::thread::Builder::new()
                .name("stdin".to_owned())
                .spawn(move || {
                    let mut stdin = std::io::stdin().lock();
                    loop {
                        let mut line = String::new();
                        match stdin.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {
                                if sender.send(line).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            self.lines = spawned.ok().map(|_| receiver);
        }
        self.lines.as_ref()
    }

    /// The next line (without its line ending), while `remaining` tells some time left (if
    /// it is given), drawing `countdown` meanwhile.
    fn next_line(
        &mut self,
        remaining: Option<&dyn Fn() -> Duration>,
        mut countdown: Option<&mut Countdown>,
    ) -> Line {
        let Some(lines) = self.receiver() else {
            return Line::Ended;
        };
        loop {
            let wait = match remaining {
                Some(remaining) => {
                    let left = remaining();
                    if left.is_zero() {
                        if let Some(countdown) = countdown.as_deref_mut() {
                            countdown.finish();
                        }
                        return Line::Expired;
                    }
                    if let Some(countdown) = countdown.as_deref_mut() {
                        countdown.draw(left);
                    }
                    left.min(TICK)
                }
                None => TICK,
            };
            match lines.recv_timeout(wait) {
                Ok(mut line) => {
                    if let Some(countdown) = countdown.as_deref_mut() {
                        countdown.restart();
                    }
                    let kept = line.trim_end_matches(['\n', '\r']).len();
                    line.truncate(kept);
                    return Line::Text(line);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    if let Some(countdown) = countdown.as_deref_mut() {
                        countdown.finish();
                    }
                    return Line::Ended;
                }
            }
        }
    }
}

/// Reads the password: `POSTPRESS_PASSWORD`, else a prompt that does not echo on a
/// terminal, else the first line of standard input.
pub(crate) fn read_password(stdin: &mut StdinLines, username: &str) -> Result<String, Failure> {
    let password = match std::env::var(PASSWORD_ENV) {
        Ok(password) if !password.is_empty() => password,
        _ if stdin.is_terminal() => {
            rpassword::prompt_password(format!("Password for {}: ", output::printable(username, false)))
                .map_err(|e| Failure::usage(format!("cannot read the password from the terminal: {e}")))?
        }
        _ => match stdin.next_line(None, None) {
            Line::Text(line) => line,
            Line::Ended | Line::Expired => {
                return Err(Failure::usage(format!(
                    "no password: set {PASSWORD_ENV}, or write it on the first line of standard input"
                )));
            }
        },
    };
    if password.is_empty() {
        return Err(Failure::usage("the password is empty"));
    }
    output::remember_secret(&password);
    Ok(password)
}

/// The answers to the checkpoints, in the order they are used.
#[derive(Debug)]
pub(crate) struct Answers {
    given: VecDeque<Solution>,
    ask: bool,
    stdin: StdinLines,
}

impl Answers {
    /// `--in-app` first, then the `--code` values; then, if `ask`, the terminal or
    /// standard input.
    pub(crate) fn new(in_app: bool, codes: &[String], ask: bool, stdin: StdinLines) -> Result<Self, Failure> {
        let mut given = VecDeque::new();
        if in_app {
            given.push_back(Solution::InAppValidation);
        }
        for code in codes {
            let answer = parse_answer(code).ok_or_else(|| Failure::usage("a --code value is empty"))?;
            given.push_back(answer);
        }
        Ok(Self { given, ask, stdin })
    }

    /// Standard input, to read the password from before any answer.
    pub(crate) fn stdin(&mut self) -> &mut StdinLines {
        &mut self.stdin
    }

    /// The next answer for the checkpoint shown as `label`, waiting while `remaining` (the
    /// intent's time left, by the client's clock) is not zero. On a terminal it prompts with
    /// a live countdown.
    pub(crate) fn next(&mut self, label: &str, remaining: &dyn Fn() -> Duration) -> Next {
        if let Some(answer) = self.given.pop_front() {
            return Next::Answer(answer);
        }
        if !self.ask {
            return Next::Exhausted;
        }
        let mut countdown = self.stdin.is_terminal().then(|| {
            Countdown::new(
                label,
                ", enter the code (or in_app_validation): ",
                std::io::stderr().is_terminal(),
            )
        });
        loop {
            match self.stdin.next_line(Some(remaining), countdown.as_mut()) {
                Line::Text(text) => {
                    if let Some(answer) = parse_answer(&text) {
                        return Next::Answer(answer);
                    }
                }
                Line::Ended => return Next::Exhausted,
                Line::Expired => return Next::Expired,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn special_codes_are_read_whatever_their_case_and_blanks_are_skipped() {
        assert_eq!(parse_answer("  123456 \r"), Some(Solution::code("123456")));
        assert_eq!(parse_answer("IN_APP_VALIDATION"), Some(Solution::InAppValidation));
        assert_eq!(parse_answer("try_another_way"), Some(Solution::TryAnotherWay));
        assert_eq!(parse_answer("   "), None);
        assert!(!format!("{:?}", Solution::code("987654")).contains("987654"));
    }

    #[test]
    fn given_answers_come_in_order_then_run_out_when_detached() {
        let codes = ["111111".to_owned(), "in_app_validation".to_owned()];
        let mut answers = Answers::new(true, &codes, false, StdinLines::new()).unwrap();
        let plenty = || Duration::from_secs(60);
        assert_eq!(
            answers.next("2FA", &plenty),
            Next::Answer(Solution::InAppValidation)
        );
        assert_eq!(
            answers.next("2FA", &plenty),
            Next::Answer(Solution::code("111111"))
        );
        assert_eq!(
            answers.next("OTP", &plenty),
            Next::Answer(Solution::InAppValidation)
        );
        assert_eq!(answers.next("OTP", &plenty), Next::Exhausted);
        assert!(Answers::new(false, &[" ".to_owned()], false, StdinLines::new()).is_err());
    }

    #[test]
    fn waiting_for_a_line_stops_when_the_time_is_up() {
        let (sender, receiver) = std::sync::mpsc::channel::<String>();
        let mut stdin = StdinLines {
            lines: Some(receiver),
            started: true,
            terminal: false,
        };
        let until = Instant::now() + Duration::from_millis(30);
        let soon = move || until.saturating_duration_since(Instant::now());
        assert_eq!(stdin.next_line(Some(&soon), None), Line::Expired);
        sender.send("123456\r\n".to_owned()).unwrap();
        let plenty = || Duration::from_secs(60);
        assert_eq!(
            stdin.next_line(Some(&plenty), None),
            Line::Text("123456".to_owned())
        );
        drop(sender);
        assert_eq!(stdin.next_line(Some(&plenty), None), Line::Ended);
    }
}

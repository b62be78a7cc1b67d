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
//! intent's deadline by the client's clock): this module keeps no clock of its own. The
//! channel holds no line: the thread hands each line over when it is asked for, and reads
//! the next one only then, so it is never more than one line ahead (a pipe that keeps
//! giving lines while the command waits for an approval is not read into memory).
//!
//! Every input is bounded: a line of standard input ([`MAX_LINE_BYTES`]), a password
//! ([`MAX_PASSWORD_BYTES`]), a code ([`MAX_CODE_BYTES`]); the username and an account id
//! are bounded where the command line is read. A line is taken at most two bytes past its
//! limit (its `\r\n`): past it, nothing more is read (beyond what standard input's buffer
//! already holds, 8 KiB) and the command stops (exit 2) before sending it.
//! A line that is not UTF-8 is said to be that.

use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal, Read};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use auth_core::{Solution, SolutionKind};

use crate::countdown::{Countdown, TICK};
use crate::outcome::Failure;
use crate::output;
use crate::terminal;

/// The environment variable the password is read from first.
pub(crate) const PASSWORD_ENV: &str = "POSTPRESS_PASSWORD";

/// The longest line of standard input, in bytes, its line ending not counted (a terminal's
/// own line is at most 4095 bytes).
pub(crate) const MAX_LINE_BYTES: usize = 4096;

/// The longest password, in bytes.
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;

/// The longest answer to a checkpoint (a code), in bytes, blanks around it not counted.
pub(crate) const MAX_CODE_BYTES: usize = 256;

/// The longest username, in bytes.
pub(crate) const MAX_USERNAME_BYTES: usize = 512;

/// The longest account id (`--reconnect`), in bytes.
pub(crate) const MAX_ACCOUNT_ID_BYTES: usize = 256;

/// Reads an answer to a checkpoint as typed: the core's [`Solution::code`] (the literals
/// `in_app_validation` and `TRY_ANOTHER_WAY` are matched whatever their case); `None` for a
/// blank one; a usage error past [`MAX_CODE_BYTES`] (the code is not shown). A typed code is
/// remembered as a secret.
pub(crate) fn parse_answer(text: &str, from: &str) -> Result<Option<Solution>, Failure> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_CODE_BYTES {
        return Err(Failure::usage(format!(
            "{from} is {} bytes long: a code is at most {MAX_CODE_BYTES} bytes; nothing was sent for it",
            text.len()
        )));
    }
    let solution = Solution::code(text);
    if solution.kind() == SolutionKind::Code {
        output::remember_secret(text);
    }
    Ok(Some(solution))
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
    /// The input cannot be used (too long, not UTF-8): stop, sending nothing for it.
    Refused(Failure),
}

/// What waiting for a line of standard input gave.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Text(String),
    Ended,
    Expired,
    Refused(LineError),
}

/// A line of standard input that cannot be used; its number counts from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LineError {
    /// Longer than [`MAX_LINE_BYTES`]: the rest was not read.
    TooLong(usize),
    /// Not UTF-8.
    NotUtf8(usize),
    /// Reading failed.
    Unreadable(usize, String),
}

impl LineError {
    /// What went wrong, about the line read for `what` (the password, a code).
    fn failure(&self, what: &str) -> Failure {
        Failure::usage(match self {
            Self::TooLong(n) => format!(
                "line {n} of standard input ({what}) is longer than {MAX_LINE_BYTES} bytes: nothing more \
                 was read, nothing was sent for it"
            ),
            Self::NotUtf8(n) => {
                format!("line {n} of standard input ({what}) is not valid UTF-8: nothing was sent for it")
            }
            Self::Unreadable(n, error) => {
                format!("cannot read line {n} of standard input ({what}): {error}")
            }
        })
    }
}

/// Standard input, read a line at a time on a helper thread started at the first read.
#[derive(Debug)]
pub(crate) struct StdinLines {
    lines: Option<Receiver<Result<String, LineError>>>,
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
    fn receiver(&mut self) -> Option<&Receiver<Result<String, LineError>>> {
        if !self.started {
            self.started = true;
            // A rendezvous channel: each line waits on the thread until it is asked for.
            let (sender, receiver) = std::sync::mpsc::sync_channel(0);
            let spawned = std::thread::Builder::new()
                .name("stdin".to_owned())
                .spawn(move || send_lines(std::io::stdin().lock(), &sender));
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
                Ok(line) => {
                    if let Some(countdown) = countdown.as_deref_mut() {
                        countdown.restart();
                    }
                    return match line {
                        Ok(text) => Line::Text(text),
                        Err(error) => Line::Refused(error),
                    };
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

/// Sends the lines of `input` (without their line endings) until it ends, or until a line
/// that cannot be used, which is sent as an error and ends the reading: nothing past a line's
/// limit is read. Each line is read once the one before was taken from `lines`.
fn send_lines(mut input: impl BufRead, lines: &SyncSender<Result<String, LineError>>) {
    let limit = u64::try_from(MAX_LINE_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(2);
    let mut number = 0_usize;
    loop {
        number = number.saturating_add(1);
        let mut bytes = Vec::new();
        // The line and its ending (`\r\n`): one byte more than that is past the limit.
        match (&mut input).take(limit).read_until(b'\n', &mut bytes) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) => {
                let _ = lines.send(Err(LineError::Unreadable(number, error.to_string())));
                return;
            }
        }
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let line = if bytes.len() > MAX_LINE_BYTES {
            Err(LineError::TooLong(number))
        } else {
            String::from_utf8(bytes).map_err(|_| LineError::NotUtf8(number))
        };
        let refused = line.is_err();
        if lines.send(line).is_err() || refused {
            return;
        }
    }
}

/// Reads the password: `POSTPRESS_PASSWORD`, else a prompt that does not echo on a
/// terminal, else the first line of standard input; at most [`MAX_PASSWORD_BYTES`].
pub(crate) fn read_password(stdin: &mut StdinLines, username: &str) -> Result<String, Failure> {
    let password = match std::env::var_os(PASSWORD_ENV) {
        Some(password) if !password.is_empty() => password
            .into_string()
            .map_err(|_| Failure::usage(format!("{PASSWORD_ENV} is not valid UTF-8: nothing was sent")))?,
        _ if stdin.is_terminal() => {
            let prompt = format!("Password for {}: ", output::printable(username, false));
            terminal::read_hidden(&prompt, MAX_PASSWORD_BYTES)?
        }
        _ => match stdin.next_line(None, None) {
            Line::Text(line) => line,
            Line::Refused(error) => return Err(error.failure("the password")),
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
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Failure::usage(format!(
            "the password is {} bytes long: at most {MAX_PASSWORD_BYTES} bytes are accepted; nothing was sent",
            password.len()
        )));
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
            let answer = parse_answer(code, "a --code value")?
                .ok_or_else(|| Failure::usage("a --code value is empty"))?;
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
                Line::Text(text) => match parse_answer(&text, "the code read from standard input") {
                    Ok(Some(answer)) => return Next::Answer(answer),
                    Ok(None) => {}
                    Err(failure) => return Next::Refused(failure),
                },
                Line::Refused(error) => return Next::Refused(error.failure("a code")),
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
        let parse = |text: &str| parse_answer(text, "a code").unwrap();
        assert_eq!(parse("  123456 \r"), Some(Solution::code("123456")));
        assert_eq!(parse("IN_APP_VALIDATION"), Some(Solution::InAppValidation));
        assert_eq!(parse("try_another_way"), Some(Solution::TryAnotherWay));
        assert_eq!(parse("   "), None);
        assert!(!format!("{:?}", Solution::code("987654")).contains("987654"));
        let long = "7".repeat(MAX_CODE_BYTES + 1);
        let refused = parse_answer(&long, "a code").unwrap_err();
        assert!(
            refused.message.contains("at most 256 bytes"),
            "{}",
            refused.message
        );
        assert!(!refused.message.contains(&long));
        assert!(parse_answer(&"7".repeat(MAX_CODE_BYTES), "a code").is_ok());
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
        let (sender, receiver) = std::sync::mpsc::channel();
        let mut stdin = StdinLines {
            lines: Some(receiver),
            started: true,
            terminal: false,
        };
        let until = Instant::now() + Duration::from_millis(30);
        let soon = move || until.saturating_duration_since(Instant::now());
        assert_eq!(stdin.next_line(Some(&soon), None), Line::Expired);
        sender.send(Ok("123456".to_owned())).unwrap();
        let plenty = || Duration::from_secs(60);
        assert_eq!(
            stdin.next_line(Some(&plenty), None),
            Line::Text("123456".to_owned())
        );
        drop(sender);
        assert_eq!(stdin.next_line(Some(&plenty), None), Line::Ended);
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    /// The lines `send_lines` sends for `input`, and how much of it it read.
    fn lines_of(input: &[u8]) -> (Vec<Result<String, LineError>>, usize) {
        let mut reader = std::io::BufReader::with_capacity(64, input);
        // Room for every line of these inputs: nothing takes them before the end.
        let (sender, receiver) = std::sync::mpsc::sync_channel(16);
        send_lines(&mut reader, &sender);
        drop(sender);
        let left = reader.fill_buf().unwrap().len() + reader.into_inner().len();
        (receiver.into_iter().collect(), input.len() - left)
    }

    #[test]
    fn lines_end_with_lf_or_crlf_and_the_last_may_have_none() {
        let (lines, _) = lines_of(b"one\r\ntwo\n\nthree");
        let lines: Vec<String> = lines.into_iter().map(Result::unwrap).collect();
        assert_eq!(lines, ["one", "two", "", "three"]);
    }

    #[test]
    fn a_line_past_its_limit_is_refused_and_the_rest_is_not_read() {
        let mut input = vec![b'a'; MAX_LINE_BYTES];
        input.extend_from_slice(b"\r\n");
        input.extend(std::iter::repeat_n(b'b', 10 * MAX_LINE_BYTES));
        input.extend_from_slice(b"\nnever read\n");
        let (lines, read) = lines_of(&input);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].as_ref().unwrap().len(), MAX_LINE_BYTES);
        assert_eq!(lines[1], Err(LineError::TooLong(2)));
        assert!(
            read <= MAX_LINE_BYTES + 2 + MAX_LINE_BYTES + 2 + 64,
            "read {read} bytes"
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_said_to_be_that() {
        let (lines, _) = lines_of(b"fine\n\xff\xfe\nnever read\n");
        assert_eq!(lines, [Ok("fine".to_owned()), Err(LineError::NotUtf8(2))]);
        let message = LineError::NotUtf8(2).failure("a code").message;
        assert!(
            message.contains("line 2 of standard input (a code) is not valid UTF-8"),
            "{message}"
        );
    }
}

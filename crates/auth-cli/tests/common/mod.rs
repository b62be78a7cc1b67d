//! Support for the tests that run the real `postpress-auth` binary against an in-process
//! simulator: the fixture, a command builder, and the check, made on every run, that no
//! secret (password, code, API key) appears in anything the command printed.
#![allow(dead_code, reason = "each test file uses a part of the support")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use auth_sim::{Account, Checkpoint, Fault, Fixture, LoggedRequest, Simulator};
use serde_json::Value;

/// The simulator's API key.
pub(crate) const API_KEY: &str = "test-api-key-7f3c9e";

/// Passwords and codes of the test fixture: distinctive strings, so that finding one in
/// the output can only be a leak.
pub(crate) const ALICE_PW: &str = "alice-Pa55word!";
pub(crate) const BOB_PW: &str = "bob-Pa55word!";
pub(crate) const BOB_CODE: &str = "K7-2FA-4417";
pub(crate) const CAROL_PW: &str = "carol-Pa55word!";
pub(crate) const DAVE_PW: &str = "dave-Pa55word!";
pub(crate) const DAVE_2FA: &str = "D1-2FA-5813";
pub(crate) const DAVE_OTP: &str = "D2-OTP-9042";
pub(crate) const ERIN_PW: &str = "erin-Pa55word!";
pub(crate) const ERIN_CODE: &str = "E-FACE-3321";
pub(crate) const FRANK_PW: &str = "frank-Pa55word!";
pub(crate) const FRANK_OTP: &str = "F-OTP-6262";
pub(crate) const WRONG_CODE: &str = "WRONG-5150";
pub(crate) const FAULTY_PW: &str = "faulty-Pa55word!";

/// alice: no checkpoint; bob: 2FA; carol: 2FA approved in the app after 200 ms; dave:
/// 2FA then OTP; erin: a checkpoint type nobody knows yet; frank: a 2FA whose other way
/// (`TRY_ANOTHER_WAY`) is an OTP.
pub(crate) fn fixture() -> Fixture {
    Fixture::new()
        .account(Account::new("alice", ALICE_PW))
        .account(Account::new("bob", BOB_PW).checkpoint(Checkpoint::new("2FA", BOB_CODE).source("SMS")))
        .account(
            Account::new("carol", CAROL_PW).checkpoint(Checkpoint::in_app("2FA", Duration::from_millis(200))),
        )
        .account(
            Account::new("dave", DAVE_PW)
                .checkpoint(Checkpoint::new("2FA", DAVE_2FA))
                .checkpoint(Checkpoint::new("OTP", DAVE_OTP)),
        )
        .account(Account::new("erin", ERIN_PW).checkpoint(Checkpoint::new("FACE_SCAN", ERIN_CODE)))
        .account(Account::new("frank", FRANK_PW).checkpoint(
            Checkpoint::new("2FA", "F-2FA-unused").another_way(Checkpoint::new("OTP", FRANK_OTP)),
        ))
}

/// A simulator of the test fixture, on the real clock.
pub(crate) fn simulator() -> Simulator {
    Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture())
        .start()
        .unwrap()
}

/// A simulator of the test fixture, on a clock that only [`Simulator::advance`] moves.
pub(crate) fn manual_clock_simulator() -> Simulator {
    Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture())
        .manual_clock()
        .start()
        .unwrap()
}

/// A simulator with one account, `faulty`, whose connect requests meet `fault`.
pub(crate) fn faulty_connect(fault: Fault) -> Simulator {
    let fixture = Fixture::new().account(Account::new("faulty", FAULTY_PW).fault(fault));
    Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap()
}

/// A simulator with one account, `faulty`, whose 2FA checkpoint's solves meet `fault`.
pub(crate) fn faulty_solve(fault: Fault) -> Simulator {
    let checkpoint = Checkpoint::new("2FA", BOB_CODE).fault(fault);
    let fixture = Fixture::new().account(Account::new("faulty", FAULTY_PW).checkpoint(checkpoint));
    Simulator::builder()
        .api_key(API_KEY)
        .fixture(fixture)
        .start()
        .unwrap()
}

/// The requests the simulator received on a path ending with `suffix`.
pub(crate) fn requests_to(sim: &Simulator, suffix: &str) -> Vec<LoggedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect()
}

/// The solve requests the simulator received.
pub(crate) fn solves(sim: &Simulator) -> Vec<LoggedRequest> {
    requests_to(sim, "/accounts/checkpoint")
}

/// The `Idempotency-Key` of each solve the simulator received, oldest first.
pub(crate) fn solve_keys(sim: &Simulator) -> Vec<String> {
    solves(sim)
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect()
}

/// Kills `running` once the simulator has received `count` solves (the last one is then at
/// the server, held by a delay fault).
#[track_caller]
pub(crate) fn kill_after_solves(sim: &Simulator, running: Running, count: usize) -> Run {
    let started = Instant::now();
    while solves(sim).len() < count {
        assert!(
            started.elapsed() < RUN_LIMIT,
            "the solve never reached the simulator"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    running.kill()
}

/// One run of `postpress-auth`, about to start.
pub(crate) struct Cli {
    command: Command,
    stdin: Option<Vec<u8>>,
    /// How many bytes to write after the text, and what to write them with.
    flood: Option<(u64, Vec<u8>)>,
    keep_stdin_open: bool,
    secrets: Vec<String>,
}

/// How long a run may take before the test gives up on it (a guard against a hang: a
/// command blocked on a FIFO, a lock it waits for), killing it.
pub(crate) const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Runs of the binary: the environment is cleared of every `POSTPRESS_*` variable, the
/// API key is passed in `POSTPRESS_API_KEY` and the base URL with `--base-url`.
pub(crate) fn cli(sim: &Simulator) -> Cli {
    cli_at(&sim.base_url())
}

/// `connect --detach` of `username` into `state`.
pub(crate) fn detach_cli(sim: &Simulator, state: &Path, username: &str, password: &str) -> Cli {
    cli(sim)
        .password(password)
        .args([
            "connect",
            "--username",
            username,
            "--detach",
            "--json",
            "--state-file",
        ])
        .args([state])
}

/// A run with the API key, against `base_url`.
/// `postpress-auth solve --json [--code CODE] --state-file STATE` against the simulator;
/// the caller adds stdin or more arguments, then runs it.
pub(crate) fn solve_cli(sim: &Simulator, state: &Path, code: Option<&str>) -> Cli {
    let code = code.map(|code| ["--code", code]);
    cli(sim)
        .args(["solve", "--json"])
        .args(code.iter().flatten())
        .args([std::ffi::OsStr::new("--state-file"), state.as_os_str()])
}

pub(crate) fn cli_at(base_url: &str) -> Cli {
    bare_cli().base_url(base_url).env("POSTPRESS_API_KEY", API_KEY)
}

/// A run with nothing set: no key, no base URL, no password.
pub(crate) fn bare_cli() -> Cli {
    let mut command = Command::new(env!("CARGO_BIN_EXE_postpress-auth"));
    for variable in ["POSTPRESS_API_KEY", "POSTPRESS_BASE_URL", "POSTPRESS_PASSWORD"] {
        command.env_remove(variable);
    }
    Cli {
        command,
        stdin: None,
        flood: None,
        keep_stdin_open: false,
        secrets: vec![
            API_KEY.to_owned(),
            ALICE_PW.to_owned(),
            BOB_PW.to_owned(),
            BOB_CODE.to_owned(),
            CAROL_PW.to_owned(),
            DAVE_PW.to_owned(),
            DAVE_2FA.to_owned(),
            DAVE_OTP.to_owned(),
            ERIN_PW.to_owned(),
            ERIN_CODE.to_owned(),
            FRANK_PW.to_owned(),
            FRANK_OTP.to_owned(),
            WRONG_CODE.to_owned(),
            FAULTY_PW.to_owned(),
        ],
    }
}

impl Cli {
    /// Adds arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Adds `--base-url URL` (global flags go before the command).
    pub(crate) fn base_url(mut self, url: &str) -> Self {
        self.command.args(["--base-url", url]);
        self
    }

    /// Sets an environment variable.
    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.command.env(name, value);
        self
    }

    /// Removes an environment variable.
    pub(crate) fn env_remove(mut self, name: &str) -> Self {
        self.command.env_remove(name);
        self
    }

    /// The password, in `POSTPRESS_PASSWORD`.
    pub(crate) fn password(self, password: &str) -> Self {
        self.env("POSTPRESS_PASSWORD", password)
    }

    /// Writes this text on standard input, then closes it.
    pub(crate) fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.as_bytes().to_vec());
        self
    }

    /// Writes these bytes on standard input, then closes it.
    pub(crate) fn stdin_bytes(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    /// Writes `bytes` bytes of `x` (no newline) on standard input, after the text given to
    /// [`Cli::stdin`] if any, until written or until the command closes its end; the run
    /// says how many were written ([`Run::stdin_written`]).
    pub(crate) fn stdin_flood(mut self, bytes: u64) -> Self {
        self.flood = Some((bytes, vec![b'x'; 64 * 1024]));
        self
    }

    /// As [`Cli::stdin_flood`], in blank lines of 4096 bytes (4095 spaces and a newline):
    /// lines within the limit, each skipped where an answer is read.
    pub(crate) fn stdin_flood_lines(mut self, bytes: u64) -> Self {
        let mut line = vec![b' '; 4095];
        line.push(b'\n');
        self.flood = Some((bytes, line));
        self
    }

    /// Writes nothing on standard input, and keeps it open until the command exits.
    pub(crate) fn stdin_open(mut self) -> Self {
        self.keep_stdin_open = true;
        self
    }

    /// Another secret the output must not show.
    pub(crate) fn secret(mut self, secret: &str) -> Self {
        self.secrets.push(secret.to_owned());
        self
    }

    /// Runs the command to its end, and checks that no secret appears in its output.
    pub(crate) fn run(self) -> Run {
        let keep_open = self.keep_stdin_open;
        let text = self.stdin.clone().unwrap_or_default();
        let (flood, chunk) = self.flood.clone().unwrap_or_default();
        let mut running = self.spawn();
        let stdin = running.stdin.take();
        if keep_open {
            // Nothing written; open until the command has ended.
            let run = running.finish();
            drop(stdin);
            return run;
        }
        // Written on a thread: the command may stop reading (and exit) at any point, and a
        // broken pipe is fine.
        let writer = std::thread::spawn(move || {
            let mut written = 0_u64;
            let Some(mut pipe) = stdin else { return written };
            if pipe.write_all(&text).is_err() {
                return written;
            }
            written += text.len() as u64;
            while written < flood && pipe.write_all(&chunk).is_ok() {
                written += chunk.len() as u64;
            }
            written
        });
        let mut run = running.finish_with_stdin_open();
        run.stdin_written = writer.join().unwrap();
        run
    }

    /// Starts the command in the background, its standard input open.
    pub(crate) fn spawn(mut self) -> Running {
        self.command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::piped());
        let mut child = self.command.spawn().unwrap();
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, stderr_lines) = std::sync::mpsc::channel();
        let stderr_reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut all = Vec::new();
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return all,
                    Ok(_) => {
                        all.extend_from_slice(&line);
                        let _ = sender.send(String::from_utf8_lossy(&line).into_owned());
                    }
                }
            }
        });
        let stdout_reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            let _ = stdout.read_to_end(&mut all);
            all
        });
        Running {
            child,
            stdin,
            stderr_lines,
            stderr_reader,
            stdout_reader,
            secrets: self.secrets,
        }
    }
}

/// A run started in the background: its standard error read as it comes (to wait for a cue),
/// its standard input open until fed and closed.
pub(crate) struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr_lines: Receiver<String>,
    stderr_reader: JoinHandle<Vec<u8>>,
    stdout_reader: JoinHandle<Vec<u8>>,
    secrets: Vec<String>,
}

impl Running {
    /// Waits until the command writes a line containing `cue` on standard error (it fails
    /// the test after [`RUN_LIMIT`]).
    #[track_caller]
    pub(crate) fn wait_for(&mut self, cue: &str) -> &mut Self {
        let deadline = Instant::now() + RUN_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(cue) => return self,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("no `{cue}` on standard error"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the command ended without writing `{cue}`: {:?}",
                        self.child.try_wait()
                    )
                }
            }
        }
    }

    /// Writes `text` on the command's standard input, and closes it.
    pub(crate) fn feed(&mut self, text: &str) -> &mut Self {
        self.type_in(text);
        drop(self.stdin.take());
        self
    }

    /// Writes `text` on the command's standard input, and keeps it open for more.
    pub(crate) fn type_in(&mut self, text: &str) -> &mut Self {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(text.as_bytes());
            let _ = stdin.flush();
        }
        self
    }

    /// Kills the command (`SIGKILL`: a crash, or a machine that went down) and waits for it.
    #[track_caller]
    pub(crate) fn kill(mut self) -> Run {
        let _ = self.child.kill();
        self.finish_with_stdin_open()
    }

    /// Closes standard input, waits for the command to end (killing it after
    /// [`RUN_LIMIT`]), and checks that no secret appears in its output.
    #[track_caller]
    pub(crate) fn finish(mut self) -> Run {
        drop(self.stdin.take());
        self.finish_with_stdin_open()
    }

    /// Waits for the command to end (killing it after [`RUN_LIMIT`]), and checks that no
    /// secret appears in its output.
    #[track_caller]
    fn finish_with_stdin_open(mut self) -> Run {
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the command did not end within {RUN_LIMIT:?}: killed");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let run = Run {
            code: status.code(),
            stdout: String::from_utf8_lossy(&self.stdout_reader.join().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr_reader.join().unwrap()).into_owned(),
            stdin_written: 0,
        };
        for secret in &self.secrets {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "a secret appears in the output:\n{run:?}"
            );
        }
        run
    }
}

/// What a run printed, and how it exited.
pub(crate) struct Run {
    /// The exit code (`None`: killed by a signal).
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// How many bytes were written on its standard input.
    pub(crate) stdin_written: u64,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Asserts the exit code.
    #[track_caller]
    pub(crate) fn exits(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{self:?}");
        self
    }

    /// The last line of standard output, parsed as the one JSON object of `--json`.
    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        let last = self
            .stdout
            .lines()
            .last()
            .unwrap_or_else(|| panic!("no output: {self:?}"));
        let value: Value = serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("the last line is not JSON ({e}): {self:?}"));
        assert!(value.is_object(), "{self:?}");
        value
    }

    /// Asserts the JSON outcome's name and returns the object.
    #[track_caller]
    pub(crate) fn outcome(&self, outcome: &str) -> Value {
        let json = self.json();
        assert_eq!(json["outcome"], outcome, "{self:?}");
        json
    }
}

/// A scratch directory, removed when dropped.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("postpress-auth-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The state file's text, checked to hold no secret.
#[track_caller]
pub(crate) fn state_file_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    for secret in [
        API_KEY, BOB_PW, BOB_CODE, DAVE_PW, DAVE_2FA, DAVE_OTP, WRONG_CODE, FAULTY_PW,
    ] {
        assert!(!text.contains(secret), "the state file holds a secret:\n{text}");
    }
    assert!(!text.to_lowercase().contains("password"), "{text}");
    text
}

/// The state file at `path` as JSON, checked as [`state_file_text`] checks it.
pub(crate) fn state_file_json(path: &Path) -> Value {
    serde_json::from_str(&state_file_text(path)).unwrap()
}

/// The request the state file holds as sent without its result: its key and action.
#[track_caller]
pub(crate) fn saved_sent(state: &Path) -> (String, String) {
    let json = state_file_json(state);
    assert!(json["snapshot"].is_object(), "the intent is kept: {json}");
    (
        json["sent"]["key"].as_str().unwrap().to_owned(),
        json["sent"]["action"].as_str().unwrap().to_owned(),
    )
}

//! Ctrl-C, `Ctrl-\` and SIGTERM at a prompt put the terminal back (issue 14, finding 6).
//!
//! The command runs under a pseudo-terminal made by util-linux's `script`, in a `/bin/sh`
//! (pinned: `script` runs `$SHELL`) that prints the terminal's name, the command's process id
//! (`exec` keeps it), its exit status, and then `stty -a` of the same terminal. The shell
//! traps INT, QUIT and TERM, because the terminal sends Ctrl-C and `Ctrl-\` to its whole
//! foreground group: without the trap the shell would die with the command and report
//! nothing. The test waits for the prompt in the output, checks with `stty -F` that echo is
//! off while the password is asked, sends Ctrl-C (the byte 0x03), `Ctrl-\` (0x1c) or SIGTERM,
//! and reads what `stty -a` says after: echo is on again. Without `script` (or `stty`) the
//! tests say so and pass.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use common::*;

/// A command line run by `script` on a pseudo-terminal of its own.
struct Pty {
    child: Child,
    input: Option<ChildStdin>,
    chunks: Receiver<Vec<u8>>,
    seen: String,
}

impl Pty {
    /// Runs the binary with `args` under `script`, with `env` set; `None` when `script` or
    /// `stty` cannot be run here.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Option<Self> {
        for tool in ["script", "stty"] {
            if Command::new(tool).arg("--version").output().is_err() {
                eprintln!("`{tool}` cannot be run here: the pseudo-terminal test is skipped");
                return None;
            }
        }
        let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_postpress-auth"))
            .chain(args.iter().copied())
            .map(|arg| format!("'{}'", arg.replace('\'', r"'\''")))
            .collect();
        let line = format!(
            "trap 'echo TRAPPED' INT QUIT TERM; echo \"TTY=$(tty)\"; \
             sh -c 'echo PID=$$; exec \"$@\"' sh {}; echo \"EXIT=$?\"; stty -a; echo DONE",
            quoted.join(" ")
        );
        let mut command = Command::new("script");
        command.args(["-q", "-e", "-c", &line, "/dev/null"]);
        // `script` runs the line with `$SHELL`: the same shell everywhere, whatever the
        // caller's login shell is.
        command.env("SHELL", "/bin/sh");
        for variable in ["POSTPRESS_API_KEY", "POSTPRESS_BASE_URL", "POSTPRESS_PASSWORD"] {
            command.env_remove(variable);
        }
        command.envs(env.iter().copied());
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let input = child.stdin.take();
        let mut output = child.stdout.take().unwrap();
        let (sender, chunks) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = [0_u8; 4096];
            while let Ok(read) = output.read(&mut buffer) {
                if read == 0 || sender.send(buffer[..read].to_vec()).is_err() {
                    return;
                }
            }
        });
        Some(Self {
            child,
            input,
            chunks,
            seen: String::new(),
        })
    }

    /// Waits until the output holds `cue` (after what was waited for before).
    #[track_caller]
    fn wait_for(&mut self, cue: &str) -> String {
        let deadline = Instant::now() + RUN_LIMIT;
        loop {
            if let Some(at) = self.seen.find(cue) {
                let upto = at + cue.len();
                let before = self.seen[..upto].to_owned();
                self.seen.drain(..upto);
                return before;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("no `{cue}` in the output: {:?}", self.seen);
                }
                Err(RecvTimeoutError::Disconnected) => panic!("no `{cue}` in the output: {:?}", self.seen),
            }
        }
    }

    /// The value printed as `NAME=value` on a line of its own.
    fn value_of(&mut self, name: &str) -> String {
        self.wait_for(&format!("{name}="));
        self.wait_for("\n").trim().to_owned()
    }

    /// Types `bytes` on the terminal.
    fn type_in(&mut self, bytes: &[u8]) {
        let input = self.input.as_mut().unwrap();
        input.write_all(bytes).unwrap();
        input.flush().unwrap();
    }

    /// Everything up to the end of the shell's line (`DONE`), and `script`'s end.
    fn rest(&mut self) -> String {
        let rest = self.wait_for("DONE");
        drop(self.input.take());
        let _ = self.child.wait();
        rest
    }
}

/// Whether `stty -a`'s words say echo is on.
fn echo_is_on(stty: &str) -> bool {
    let words: Vec<&str> = stty.split_whitespace().collect();
    assert!(
        words.contains(&"echo") != words.contains(&"-echo"),
        "not stty -a: {stty:?}"
    );
    words.contains(&"echo")
}

/// `stty -a` of the terminal at `tty`, read from outside.
fn stty_of(tty: &str) -> String {
    let output = Command::new("stty").args(["-a", "-F", tty]).output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How the command is stopped at the prompt.
#[derive(Clone, Copy, Debug)]
enum Stop {
    CtrlC,
    /// Ctrl-\ (SIGQUIT).
    Quit,
    Term,
}

/// At the password prompt echo is off; stopped there, the command dies of the signal and
/// echo is on again.
fn stopped_at_the_password_prompt(stop: Stop) {
    let env = [("POSTPRESS_API_KEY", API_KEY)];
    let args = [
        "--base-url",
        "http://127.0.0.1:9/v1",
        "connect",
        "--username",
        "bob",
    ];
    let Some(mut pty) = Pty::start(&args, &env) else {
        return;
    };
    let tty = pty.value_of("TTY");
    let pid = pty.value_of("PID");
    pty.wait_for("Password for bob: ");
    assert!(
        !echo_is_on(&stty_of(&tty)),
        "echo is off while the password is asked"
    );
    match stop {
        Stop::CtrlC => pty.type_in(b"\x03"),
        Stop::Quit => pty.type_in(b"\x1c"),
        Stop::Term => {
            let pid = rustix::process::Pid::from_raw(pid.parse().unwrap()).unwrap();
            rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        }
    }
    let exit = pty.value_of("EXIT");
    let expected = match stop {
        Stop::CtrlC => "130",
        Stop::Quit => "131",
        Stop::Term => "143",
    };
    assert_eq!(exit, expected, "died of the signal ({stop:?})");
    let after = pty.rest();
    assert!(echo_is_on(&after), "echo is on again after {stop:?}: {after:?}");
}

#[test]
fn ctrl_c_at_the_password_prompt_puts_the_terminal_back() {
    stopped_at_the_password_prompt(Stop::CtrlC);
}

#[test]
fn ctrl_backslash_at_the_password_prompt_puts_the_terminal_back() {
    stopped_at_the_password_prompt(Stop::Quit);
}

#[test]
fn sigterm_at_the_password_prompt_puts_the_terminal_back() {
    stopped_at_the_password_prompt(Stop::Term);
}

/// Ctrl-C at the prompt for a code (a live countdown on the terminal): the terminal is as it
/// was, nothing was sent, the state file is as it was and no lock or temporary file is left.
#[test]
fn ctrl_c_at_the_code_prompt_leaves_the_terminal_and_the_state_file_as_they_were() {
    let sim = simulator();
    let scratch = Scratch::new("terminal-code");
    let state = scratch.path("bob.json");
    detach_cli(&sim, &state, "bob", BOB_PW).run().exits(10);
    let saved = std::fs::read(&state).unwrap();
    let base_url = sim.base_url();
    let args = [
        "--base-url",
        &base_url,
        "solve",
        "--state-file",
        state.to_str().unwrap(),
    ];
    let Some(mut pty) = Pty::start(&args, &[("POSTPRESS_API_KEY", API_KEY)]) else {
        return;
    };
    let tty = pty.value_of("TTY");
    pty.wait_for("enter the code (or in_app_validation): ");
    let during = stty_of(&tty);
    pty.type_in(b"\x03");
    assert_eq!(pty.value_of("EXIT"), "130");
    let after = pty.rest();
    assert!(echo_is_on(&after), "{after:?}");
    assert_eq!(
        echo_is_on(&during),
        echo_is_on(&after),
        "as it was during the prompt"
    );
    assert!(solves(&sim).is_empty(), "nothing was sent");
    assert_eq!(std::fs::read(&state).unwrap(), saved);
    assert_eq!(listing_of(scratch.dir()), ["bob.json"]);
}

fn listing_of(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

//! `postpress-auth`: connect a Messenger account to the postpress API from a terminal, a
//! shell script or a CI job.
//!
//! ```text
//! postpress-auth [--base-url URL] [--api-key KEY] [--timeout SECS] [--intent-ttl SECS] [-v] <command>
//!   connect --username USER [--provider messenger] [--code CODE]... [--in-app] [--json]
//!           [--detach --state-file FILE] [--reconnect ACCOUNT_ID]
//!   solve   --state-file FILE [--code CODE]... [--in-app] [--json]
//!   resend  --state-file FILE [--json]
//!   demo
//! ```
//!
//! Exit codes: 0 connected; 2 usage or configuration error (an API key the API refused
//! included); 3 intent expired or destroyed; 4 rejected by the API; 5 failure; 6 the state
//! file is in use by another process or changed since it was read (nothing sent); 10
//! checkpoint pending. See the crate's README for the whole story.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod countdown;
mod demo;
mod input;
mod outcome;
mod output;
mod signals;
mod state_file;
mod terminal;
mod time_text;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::outcome::{Failure, Outcome};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    remember_secrets_of(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error, &args),
    };
    if !matches!(cli.command, cli::Command::Demo) {
        signals::install();
    }
    let outcome = commands::run(&cli);
    outcome.emit(cli.json(), cli.is_sandbox());
    ExitCode::from(outcome.exit().code())
}

/// Remembers the secrets given on the command line and in the environment, so that no
/// message (clap's included) can repeat them.
fn remember_secrets_of(args: &[OsString]) {
    for variable in ["POSTPRESS_API_KEY", input::PASSWORD_ENV] {
        if let Ok(value) = std::env::var(variable) {
            output::remember_secret(&value);
        }
    }
    let mut takes_secret = false;
    for arg in args.iter().map(|arg| arg.to_string_lossy()) {
        if takes_secret {
            output::remember_secret(&arg);
        }
        takes_secret = matches!(&*arg, "--api-key" | "--code");
        for flag in ["--api-key=", "--code="] {
            if let Some(value) = arg.strip_prefix(flag) {
                output::remember_secret(value);
            }
        }
    }
}

/// A command line clap refused: exit 2 (help and version: exit 0).
fn usage_error(error: &clap::Error, args: &[OsString]) -> ExitCode {
    if !error.use_stderr() {
        // --help, --version: clap's own output, on standard output.
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    let rendered = output::redact(&error.render().to_string());
    output::stderr_text(&rendered);
    // The error without clap's usage and help lines, on one line.
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let message = message.join(" ");
    let outcome = Outcome::from(Failure::usage(message.trim_start_matches("error: ")));
    if args.iter().any(|arg| arg == "--json") {
        output::stdout_json_line(&outcome.to_json(false));
    }
    ExitCode::from(outcome.exit().code())
}

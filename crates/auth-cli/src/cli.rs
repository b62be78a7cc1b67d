//! The command line, as clap reads it.

use std::path::PathBuf;
use std::time::Duration;

use auth_core::Provider;
use clap::{Args, Parser, Subcommand};

use crate::input;

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// The default base URL when neither `--base-url` nor `POSTPRESS_BASE_URL` gives one.
pub(crate) const DEFAULT_BASE_URL: &str = auth_core::POSTPRESS_BASE_URL;

/// Connect a Messenger account to the postpress API: credentials in, two-factor
/// checkpoints solved, the five-minute authentication intent tracked to the second.
///
/// Exit codes: 0 connected; 2 usage or configuration error (an API key the API refused
/// included); 3 intent expired or destroyed; 4 rejected by the API (wrong credentials, a
/// refused account, a wrong code with no more to try); 5 failure (network, timeout, 5xx,
/// malformed answer, after the retries); 6 the state file is in use by another process or
/// changed since it was read (nothing sent); 10 checkpoint pending (after --detach, or
/// `resend`).
// No `Debug`: it would print the API key and the codes.
#[derive(Parser)]
#[command(name = "postpress-auth", version, max_term_width = 100)]
pub(crate) struct Cli {
    /// The API's base URL [default: https://api.postpress.ai/v1]. Plain http is only
    /// allowed to loopback hosts.
    #[arg(long, global = true, value_name = "URL", env = "POSTPRESS_BASE_URL", help_heading = GLOBAL)]
    pub(crate) base_url: Option<String>,

    /// The API key, sent in X-API-KEY; never printed. A `pp_test_` key (sandboxed traffic,
    /// no real account connected) is flagged in the output.
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "POSTPRESS_API_KEY",
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub(crate) api_key: Option<String>,

    /// Time budget of every request, in seconds, at least 0.001 (an in-app validation may
    /// take the intent's remaining time instead).
    #[arg(long, global = true, value_name = "SECS", default_value = "30", value_parser = parse_seconds, help_heading = GLOBAL)]
    pub(crate) timeout: Duration,

    /// The lifetime of an authentication intent the client assumes, in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value = "300", value_parser = parse_seconds, help_heading = GLOBAL)]
    pub(crate) intent_ttl: Duration,

    /// Print each request (method, path, body with secrets redacted) and each answer's
    /// status on standard error. Never prints the password, a code or the API key.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub(crate) verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
// No `Debug`: `connect` and `solve` hold codes.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Connect (or reconnect) an account; solve its checkpoints as they come.
    ///
    /// The password comes from POSTPRESS_PASSWORD, else a prompt that does not echo, or
    /// the first line of standard input when it is not a terminal.
    Connect(ConnectArgs),
    /// Resume an intent saved by `connect --detach` and solve its checkpoint.
    Solve(SolveArgs),
    /// Ask the server to send the checkpoint of a saved intent again.
    Resend(ResendArgs),
    /// Walk a full 2FA connection against a built-in simulator: no network, no key, no input.
    Demo,
}

/// `connect`.
// No `Debug`: it holds codes.
#[derive(Args)]
pub(crate) struct ConnectArgs {
    /// The account's username (at most 512 bytes).
    #[arg(long, value_name = "USER", value_parser = parse_username)]
    pub(crate) username: String,

    /// The provider: messenger, linkedin, instagram or twitter.
    #[arg(long, value_name = "PROVIDER", default_value = "messenger", value_parser = parse_provider)]
    pub(crate) provider: Provider,

    /// Reconnect this existing account instead of connecting a new one.
    #[arg(long, value_name = "ACCOUNT_ID", value_parser = parse_account_id)]
    pub(crate) reconnect: Option<String>,

    /// How the checkpoints are answered.
    #[command(flatten)]
    pub(crate) answers: AnswerArgs,

    /// On a checkpoint that no --code/--in-app answers, save the pending intent to the
    /// --state-file and exit 10 instead of asking.
    #[arg(long, requires = "state_file")]
    pub(crate) detach: bool,

    /// Where --detach saves the pending intent (no password, no API key in it).
    #[arg(long, value_name = "FILE", requires = "detach")]
    pub(crate) state_file: Option<PathBuf>,

    /// Print the outcome as one JSON object on the last line of standard output.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `solve`.
// No `Debug`: it holds codes.
#[derive(Args)]
pub(crate) struct SolveArgs {
    /// The file `connect --detach` saved the intent to; updated while the intent is
    /// pending, removed once it has ended.
    #[arg(long, value_name = "FILE")]
    pub(crate) state_file: PathBuf,

    /// How the checkpoints are answered.
    #[command(flatten)]
    pub(crate) answers: AnswerArgs,

    /// Print the outcome as one JSON object on the last line of standard output.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `resend`.
#[derive(Debug, Args)]
pub(crate) struct ResendArgs {
    /// The file `connect --detach` saved the intent to.
    #[arg(long, value_name = "FILE")]
    pub(crate) state_file: PathBuf,

    /// Print the outcome as one JSON object on the last line of standard output.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The answers to checkpoints given on the command line.
// No `Debug`: it holds codes.
#[derive(Args)]
pub(crate) struct AnswerArgs {
    /// A checkpoint code, used in order: one per checkpoint, and the next one after a
    /// wrong code. `in_app_validation` approves on the device; `TRY_ANOTHER_WAY` asks for
    /// another method. Then codes are asked for (or read from standard input).
    #[arg(long = "code", value_name = "CODE")]
    pub(crate) codes: Vec<String>,

    /// Approve the first checkpoint on the device (in-app validation) instead of typing a
    /// code; later checkpoints take the --code values.
    #[arg(long)]
    pub(crate) in_app: bool,
}

/// The shortest time budget: one millisecond (the clock's unit).
const MIN_SECONDS: Duration = Duration::from_millis(1);

/// Seconds as a positive decimal number: `30`, `0.5`; at least a millisecond, at most
/// [`auth_ureq::MAX_REQUEST_TIMEOUT`] (seven days).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !seconds.is_finite() {
        return Err(format!("`{text}` is not a finite number of seconds"));
    }
    if seconds <= 0.0 {
        return Err("the number of seconds must be positive".to_owned());
    }
    let max = auth_ureq::MAX_REQUEST_TIMEOUT;
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if duration < MIN_SECONDS => Err(format!(
            "`{text}` seconds is too short: at least 0.001 (a millisecond)"
        )),
        Ok(duration) if duration <= max => Ok(duration),
        _ => Err(format!(
            "`{text}` seconds is too long: at most {} (7 days)",
            max.as_secs()
        )),
    }
}

/// A username: not blank, at most [`input::MAX_USERNAME_BYTES`].
fn parse_username(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("the username is empty".to_owned());
    }
    if text.len() > input::MAX_USERNAME_BYTES {
        return Err(format!(
            "the username is {} bytes long: at most {} bytes",
            text.len(),
            input::MAX_USERNAME_BYTES
        ));
    }
    Ok(text.to_owned())
}

/// An account id as one segment of a request's path: not empty, not a dot segment (`.`
/// or `..`, which a URL would resolve away, sending the request to another path), no
/// control character, at most [`input::MAX_ACCOUNT_ID_BYTES`].
fn parse_account_id(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the account id is empty".to_owned());
    }
    if text == "." || text == ".." {
        return Err(format!(
            "`{text}` is not an account id: a dot segment would change the request's path \
             (/accounts/{text}), so it is never sent"
        ));
    }
    if text.chars().any(char::is_control) {
        return Err("the account id holds a control character".to_owned());
    }
    if text.len() > input::MAX_ACCOUNT_ID_BYTES {
        return Err(format!(
            "the account id is {} bytes long: at most {} bytes",
            text.len(),
            input::MAX_ACCOUNT_ID_BYTES
        ));
    }
    Ok(text.to_owned())
}

fn parse_provider(text: &str) -> Result<Provider, String> {
    text.parse::<Provider>().map_err(|e| e.to_string())
}

impl Cli {
    /// The base URL: `--base-url`, else `POSTPRESS_BASE_URL`, else the postpress API.
    pub(crate) fn base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or(DEFAULT_BASE_URL)
    }

    /// Whether the API key is a postpress sandbox key (`pp_test_…`), by the core's test.
    pub(crate) fn is_sandbox(&self) -> bool {
        matches!(
            &self.command,
            Command::Connect(_) | Command::Solve(_) | Command::Resend(_)
        ) && self
            .api_key
            .as_deref()
            .is_some_and(|key| auth_core::ApiKey::new(key.trim()).is_sandbox())
    }

    /// Whether the outcome is wanted as JSON.
    pub(crate) fn json(&self) -> bool {
        match &self.command {
            Command::Connect(args) => args.json,
            Command::Solve(args) => args.json,
            Command::Resend(args) => args.json,
            Command::Demo => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_may_be_decimal_but_must_be_positive() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("NaN").is_err());
        assert!(parse_seconds("inf").is_err());
        assert!(parse_seconds("-inf").is_err());
        assert!(parse_seconds("soon").is_err());
        // ureq computes `now + timeout`: a huge budget would overflow it.
        assert!(parse_seconds("1e19").is_err());
        assert!(parse_seconds("604801").is_err());
        // Below the clock's millisecond: refused in the option's own words.
        let short = parse_seconds("1e-10").unwrap_err();
        assert!(
            short.contains("too short") && !short.contains("connect_timeout"),
            "{short}"
        );
        assert_eq!(parse_seconds("0.001"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_seconds("604800"), Ok(auth_ureq::MAX_REQUEST_TIMEOUT));
    }

    #[test]
    fn an_account_id_is_one_path_segment_and_a_username_is_bounded() {
        for id in ["", ".", "..", "a\nb"] {
            assert!(parse_account_id(id).is_err(), "{id:?}");
        }
        assert!(parse_account_id("..").unwrap_err().contains("dot segment"));
        assert!(parse_account_id(&"a".repeat(257)).is_err());
        assert_eq!(parse_account_id("acc_1.x").unwrap(), "acc_1.x");
        assert!(parse_username(" ").is_err());
        assert!(parse_username(&"u".repeat(513)).is_err());
        assert!(parse_username(&"u".repeat(512)).is_ok());
    }

    #[test]
    fn detach_and_state_file_go_together() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied());
        assert!(parse(&["postpress-auth", "connect", "--username", "bob", "--detach"]).is_err());
        assert!(
            parse(&[
                "postpress-auth",
                "connect",
                "--username",
                "bob",
                "--state-file",
                "f"
            ])
            .is_err()
        );
        let cli = parse(&[
            "postpress-auth",
            "connect",
            "--username",
            "bob",
            "--detach",
            "--state-file",
            "f",
            "--code",
            "1",
            "--code",
            "2",
        ])
        .unwrap();
        let Command::Connect(connect) = cli.command else {
            panic!("not connect")
        };
        assert_eq!(connect.answers.codes, ["1", "2"]);
        assert_eq!(connect.provider, Provider::Messenger);
    }
}

//! The commands: `connect`, `solve` and `resend` (the `demo` lives in `demo.rs`).
//!
//! Time is the client's one clock: the intent's deadline is the core's, its time left is
//! read by the client's clock ([`PendingIntent::remaining`]), and when the wait for a code
//! runs out the core decides the expiry ([`PendingIntent::tick`]). Retries are the core's
//! too: a request that got no answer has already been sent again (with its key) before an
//! error comes back here.
//!
//! Where the intent is kept is a [`Store`]: nowhere (`connect`), a state file locked from
//! before the password leaves until the intent is saved (`connect --detach`), or a state
//! file locked and compared with what was read around each request (`solve`, `resend`):
//! see `state_file.rs` for the rules.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};

use auth_core::{AccountId, Fault, Problem, Snapshot, Solution, TransportErrorKind};
use auth_ureq::{
    BuildError, Client, ClientBuilder, Connection, Credentials, Error, Exchange, IdempotencyKey,
    PendingIntent, Resend, Solved, new_idempotency_key,
};

use crate::cli::{Cli, Command, ConnectArgs, ResendArgs, SolveArgs};
use crate::countdown::{Countdown, TICK};
use crate::input::{self, Answers, Next, StdinLines};
use crate::outcome::{Exit, Failure, Outcome, Pending};
use crate::output;
use crate::state_file::{self, Lock, SentAction, StateFile};
use crate::time_text;

/// Runs the command line's command to its outcome.
pub(crate) fn run(cli: &Cli) -> Outcome {
    let result = match &cli.command {
        Command::Connect(args) => connect(cli, args),
        Command::Solve(args) => solve(cli, args),
        Command::Resend(args) => resend(cli, args),
        Command::Demo => Ok(crate::demo::run()),
    };
    result.unwrap_or_else(|outcome| outcome)
}

/// Where a pending intent is kept between two runs, and the rule for each request.
#[derive(Debug)]
enum Store {
    /// `connect` without `--detach`: the intent lives in this process only.
    Memory,
    /// `connect --detach`: the state file's lock was taken before the password left, and is
    /// held to the end: the connect's key is saved before it leaves, the intent with each
    /// request's key before that request leaves and with its result after, and at the end.
    Detached {
        /// The state file.
        file: StateFile,
        /// Its lock.
        lock: Lock,
    },
    /// `solve` and `resend`: around each request the lock is taken and the file compared
    /// with what this process read or last wrote; the request's result is saved (or the
    /// file removed) before the lock is released.
    Resumed {
        /// The state file.
        file: StateFile,
    },
}

/// What sending one request for the intent led to.
#[derive(Debug)]
enum Step<T> {
    /// The request's result.
    Answered(T),
    /// The API refused the request as one it cannot take, and knows the account as
    /// connected: the intent was finished elsewhere.
    FoundConnected,
}

impl Store {
    /// The state file, if any.
    fn path(&self) -> Option<&Path> {
        match self {
            Self::Memory => None,
            Self::Detached { file, .. } | Self::Resumed { file } => Some(file.path()),
        }
    }

    /// Sends one request for the intent, `action`, by `request` with the key it is given,
    /// under the store's rule. With a state file, the key is saved with the intent before
    /// the request leaves (so that a run killed mid-request, or whose save of the result
    /// failed, leaves it for the same action to send again), and the result saved after.
    /// `Err`: another process holds the state file or changed it since this one read it, or
    /// the key could not be saved; nothing was sent.
    fn send<T>(
        &mut self,
        pending: &mut PendingIntent,
        action: SentAction,
        mut request: impl FnMut(&mut PendingIntent, IdempotencyKey) -> Step<Result<T, Error>>,
    ) -> Result<Step<Result<T, Error>>, Outcome> {
        match self {
            Self::Memory => {
                let key = new_idempotency_key().map_err(|error| Outcome::from_error(&error))?;
                Ok(request(pending, key))
            }
            // `connect --detach` holds the lock from before the password left.
            Self::Detached { file, lock } => send_saved(file, lock, pending, action, request)
                .map_err(|failure| unsaved(failure, pending.account_id().as_str()).into()),
            Self::Resumed { file } => {
                let lock = file.lock_unchanged(pending.account_id().as_str())?;
                Ok(send_saved(file, &lock, pending, action, request)?)
            }
        }
    }

    /// `connect --detach` ended without an intent to save (connected at once, or refused):
    /// the unanswered connect it saved is removed, and the intent the file held before put
    /// back.
    fn forget_connect(&mut self) {
        if let Self::Detached { file, lock } = self
            && let Err(failure) = file.forget_connect(lock)
        {
            warn(&failure.message);
        }
    }

    /// `connect --detach`'s connect was answered with an intent: that intent is what the
    /// file saves from now on.
    fn connect_answered(&mut self) {
        if let Self::Detached { file, .. } = self {
            file.connect_answered();
        }
    }

    /// Once the run's outcome is known: `connect --detach` saves a pending intent (a pending
    /// outcome whose intent could not be saved is a failure naming the account); `solve` and
    /// `resend` remove the file of an intent that ended without a request (its deadline
    /// passed), if it is still theirs.
    fn finish(self, pending: &mut PendingIntent, outcome: Outcome) -> Outcome {
        let outcome = match outcome {
            // The deadline passed while the outcome was being written.
            Outcome::Pending(_) if !pending.is_pending() => time_up(pending),
            other => other,
        };
        let account_id = pending.account_id().as_str().to_owned();
        match self {
            Self::Memory => outcome,
            Self::Detached { mut file, lock } => {
                if !pending.is_pending() || matches!(outcome, Outcome::Connected { .. }) {
                    // What it saved is over (removed already if a request ended it).
                    if let Err(failure) = file.commit(&lock, None) {
                        warn(&failure.message);
                    }
                    return outcome;
                }
                match file.commit(&lock, Some(pending.save())) {
                    Ok(()) => outcome,
                    Err(failure) if matches!(outcome, Outcome::Pending(_)) => {
                        unsaved(failure, &account_id).into()
                    }
                    Err(failure) => {
                        warn(&failure.message);
                        outcome
                    }
                }
            }
            Self::Resumed { mut file } => {
                if !pending.is_pending() {
                    if let Err(left) = file.remove_if_unchanged(&account_id) {
                        warn(&format!("the state file is left as it is: {}", left.message()));
                    }
                    return outcome;
                }
                match (file.save_failed(), &outcome) {
                    (Some(failure), Outcome::Pending(_)) => unsaved(failure.clone(), &account_id).into(),
                    _ => outcome,
                }
            }
        }
    }
}

/// [`Store::send`] with a state file, under its `lock`: the key saved with the intent, the
/// request sent, its result saved (or the file removed once the intent ended). `Err`: the
/// key could not be saved, and nothing was sent.
///
/// A key kept from a request whose result was not saved may meet other input this time
/// (another code): the API answers `409 idempotency_conflict` without acting, and the
/// request goes once more under a fresh key, saved first like the one before.
fn send_saved<T>(
    file: &mut StateFile,
    lock: &Lock,
    pending: &mut PendingIntent,
    action: SentAction,
    mut request: impl FnMut(&mut PendingIntent, IdempotencyKey) -> Step<Result<T, Error>>,
) -> Result<Step<Result<T, Error>>, Failure> {
    let (key, again) = file.begin_request(lock, pending.save(), action, false)?;
    if again {
        say(
            "Sending it with the Idempotency-Key of the same request, sent before and its result never saved…",
        );
    }
    let mut step = request(pending, key);
    if again && matches!(&step, Step::Answered(Err(error)) if is_key_conflict(error)) {
        say("That key went with other input: sending it under a new one…");
        let (fresh, _) = file.begin_request(lock, pending.save(), action, true)?;
        step = request(pending, fresh);
    }
    let ended = matches!(step, Step::FoundConnected) || !pending.is_pending();
    if let Err(failure) = file.commit(lock, (!ended).then(|| pending.save())) {
        warn(&failure.message);
    }
    Ok(step)
}

/// The API's answer to a key that went with another request: nothing was acted on.
fn is_key_conflict(error: &Error) -> bool {
    matches!(error, Error::Api(api) if api.problem == Problem::IdempotencyConflict)
}

/// Whether the server may have acted on a request whose outcome is `error`: no answer came,
/// or a 5xx or 429 after the retries, or an answer that could not be read. Its key is then
/// kept for the same request to go with again.
fn may_have_acted(error: &Error) -> bool {
    matches!(error.fault(), Fault::Network | Fault::Server | Fault::Protocol)
}

/// A pending intent that could not be saved: a failure that names its account (the intent
/// is pending on the server, and nowhere else).
fn unsaved(failure: Failure, account_id: &str) -> Failure {
    let message = format!(
        "{}: the intent of account {account_id} is pending on the server, and was not saved",
        failure.message
    );
    Failure { message, ..failure }.about(account_id)
}

/// `connect`: connect (or reconnect), then solve the checkpoints as they come.
fn connect(cli: &Cli, args: &ConnectArgs) -> Result<Outcome, Outcome> {
    let client = build_client(cli)?;
    if let Some(path) = &args.state_file {
        state_file::check_new(path)?;
    }
    let mut answers = Answers::new(
        args.answers.in_app,
        &args.answers.codes,
        !args.detach,
        StdinLines::new(),
    )?;
    let password = input::read_password(answers.stdin(), &args.username)?;
    // The lock before the password leaves, the path checked again under it, and the
    // connect's key saved before it is sent (the key of an unanswered earlier one, if this
    // is the same call again).
    // The connect's key, saved before it leaves: the kept one of the same call unless
    // `fresh`.
    let begin_connect = |file: &mut StateFile, lock: &Lock, fresh: bool| {
        file.begin_connect(
            lock,
            args.provider.as_str(),
            args.reconnect.as_deref(),
            fresh,
            client.now(),
            client.config().intent_ttl(),
        )
    };
    let (mut store, key, again) = match &args.state_file {
        Some(path) => {
            let (mut file, lock) =
                StateFile::for_connect(path, &client.base_url().to_string(), &args.username)?;
            let (key, again) = begin_connect(&mut file, &lock, false)?;
            if again.is_some() {
                say(
                    "Sending the connect again with the Idempotency-Key of the unanswered one saved in the state file…",
                );
            }
            (Store::Detached { file, lock }, Some(key), again)
        }
        None => (Store::Memory, None, None),
    };
    let credentials = Credentials::new(args.provider, args.username.clone(), password);
    let (doing, account) = match &args.reconnect {
        Some(account_id) => ("Reconnecting", format!("account {account_id} as ")),
        None => ("Connecting", String::new()),
    };
    say(&format!(
        "{doing} {account}{} ({}) at {}…",
        args.username,
        args.provider,
        client.base_url()
    ));
    let key = match key {
        Some(key) => key,
        None => new_idempotency_key().map_err(|error| Outcome::from_error(&error))?,
    };
    let send = |key| match &args.reconnect {
        Some(account_id) => client.reconnect_account_with_key(account_id.clone(), credentials.clone(), key),
        None => client.connect_with_key(credentials.clone(), key),
    };
    let mut connection = match again {
        // The unanswered connect of an earlier run: its key, and the intent the server
        // started then counts its deadline from that first send.
        Some(first_sent_at) => {
            let reconnect = args.reconnect.clone().map(AccountId::new);
            client.connect_again(
                Snapshot::lost_connect(key, first_sent_at, reconnect),
                credentials.clone(),
            )
        }
        None => send(key),
    };
    // A kept key met other input (the password corrected since): the API acted on nothing;
    // the connect goes again under a fresh key, saved first.
    if let (Err(error), Store::Detached { file, lock }) = (&connection, &mut store)
        && is_key_conflict(error)
        && again.is_some()
    {
        say("That key went with other input: sending the connect under a new one…");
        let (fresh, _) = begin_connect(file, lock, true)?;
        connection = send(fresh);
    }
    match connection {
        Ok(Connection::Connected { account_id }) => {
            store.forget_connect();
            Ok(connected(account_id.as_str(), false, false))
        }
        Ok(Connection::Reconnected { account_id }) => {
            store.forget_connect();
            Ok(connected(account_id.as_str(), true, false))
        }
        Ok(Connection::Pending(pending)) => {
            store.connect_answered();
            show_checkpoint(&pending);
            Ok(solve_checkpoints(pending, &mut answers, store))
        }
        Ok(_) => {
            store.forget_connect();
            Err(Failure::cli(
                Exit::Failure,
                "cli/unexpected",
                "the connect request led nowhere known",
            )
            .into())
        }
        // The server may have acted on the connect: its key stays in the state file for the
        // same command to send it again.
        Err(error) if may_have_acted(&error) => Err(match store.path() {
            Some(path) => kept_for_the_same_command(Outcome::from_error(&error), path),
            None => Outcome::from_error(&error),
        }),
        Err(error) => {
            store.forget_connect();
            Err(Outcome::from_error(&error))
        }
    }
}

/// A connect that got no answer, its key kept in the state file at `path`: the failure
/// says how to send it again.
fn kept_for_the_same_command(outcome: Outcome, path: &Path) -> Outcome {
    match outcome {
        Outcome::Failed(failure) => {
            let message = format!(
                "{}; the connect's Idempotency-Key is kept in {}: run the same command again to \
                 send it again (the server answers what it answered then, never a second login)",
                failure.message,
                path.display()
            );
            Outcome::Failed(Failure { message, ..failure })
        }
        other => other,
    }
}

/// `solve`: resume a saved intent and solve its checkpoints.
fn solve(cli: &Cli, args: &SolveArgs) -> Result<Outcome, Outcome> {
    let mut answers = Answers::new(args.answers.in_app, &args.answers.codes, true, StdinLines::new())?;
    let (pending, store) = resume(cli, &args.state_file)?;
    show_checkpoint(&pending);
    Ok(solve_checkpoints(pending, &mut answers, store))
}

/// `resend`: resume a saved intent and ask the server to send its checkpoint again.
fn resend(cli: &Cli, args: &ResendArgs) -> Result<Outcome, Outcome> {
    let (mut pending, mut store) = resume(cli, &args.state_file)?;
    let step = store.send(&mut pending, SentAction::Resend, |pending, key| {
        say(&format!(
            "Asking the server to send the {} checkpoint of account {} again…",
            pending.checkpoint(),
            pending.account_id()
        ));
        let result = pending.resend_checkpoint_with_key(key);
        match &result {
            Err(error) if found_connected(pending, error) => Step::FoundConnected,
            _ => Step::Answered(result),
        }
    })?;
    let path = &args.state_file;
    let outcome = match step {
        Step::FoundConnected => connected(pending.account_id().as_str(), false, true),
        Step::Answered(Ok(Resend::Sent)) => pending_outcome(&pending, path, true),
        // `success: false`, or a new way of not sending: nothing reached the user.
        Step::Answered(Ok(_)) => {
            say(
                "The provider did not send the checkpoint again (success: false): nothing reached you. \
                 The intent is still pending.",
            );
            pending_outcome(&pending, path, false)
        }
        Step::Answered(Err(error)) => Outcome::from_error(&error),
    };
    Ok(store.finish(&mut pending, outcome))
}

/// Loads a state file and resumes its intent. A file whose intent is over is removed (if
/// no other process has changed it since it was read).
fn resume(cli: &Cli, path: &Path) -> Result<(PendingIntent, Store), Outcome> {
    let loaded = state_file::load(path)?;
    let client = build_client(cli)?;
    let base_url = client.base_url().to_string();
    loaded.saved.check_base_url(&base_url, path)?;
    let Some(snapshot) = loaded.saved.snapshot.clone() else {
        return Err(Failure::state_file(format!(
            "{} holds a connect{} that was sent and not answered (the run that sent it lost the \
             answer, or was stopped): run the same `postpress-auth connect --detach --state-file {}` \
             again; the connect goes again with the same Idempotency-Key, so the server answers \
             what it answered then and never starts a second login",
            path.display(),
            loaded
                .saved
                .username
                .as_deref()
                .map(|u| format!(" of {u}"))
                .unwrap_or_default(),
            path.display()
        ))
        .into());
    };
    let account_id = snapshot.intent().map_or_else(
        || "(none)".to_owned(),
        |intent| intent.account_id.as_str().to_owned(),
    );
    let mut file = StateFile::loaded(path, &base_url, loaded);
    match client.resume(snapshot) {
        Ok(pending) => {
            say(&format!(
                "Resuming the intent of account {}{} from {}.",
                pending.account_id(),
                file.username().map(|u| format!(" ({u})")).unwrap_or_default(),
                path.display()
            ));
            Ok((pending, Store::Resumed { file }))
        }
        // Expired, destroyed, refused, or saved after it ended: the saved intent is over.
        Err(error) => {
            let removed = match file.remove_if_unchanged(&account_id) {
                Ok(()) => "it is removed",
                Err(left) => {
                    warn(&format!("the state file is left as it is: {}", left.message()));
                    "it is left as it is"
                }
            };
            Err(match error {
                Error::Usage(_) => Failure::state_file(format!(
                    "{} holds no pending intent (it was saved after its intent ended), so {removed}: \
                     start over with `postpress-auth connect` if the account is not connected",
                    path.display()
                ))
                .into(),
                other => Outcome::from_error(&other),
            })
        }
    }
}

/// Solves checkpoints until the account is connected, the answers run out, or the intent
/// ends; the store keeps the state file (if any) in step with the intent.
fn solve_checkpoints(mut pending: PendingIntent, answers: &mut Answers, mut store: Store) -> Outcome {
    // The last answer the API refused while leaving the intent alive (a wrong code, a code
    // refused as malformed): what to say if no other answer is left.
    let mut refused: Option<Error> = None;
    let outcome = loop {
        let label = pending.checkpoint().to_string();
        let answer = match answers.next(&label, &|| pending.remaining()) {
            Next::Answer(answer) => answer,
            // The time is up by the client's clock: the core says so, nothing is sent.
            Next::Expired => break time_up(&mut pending),
            // Too long, not UTF-8: nothing is sent for it.
            Next::Refused(failure) => break failure.into(),
            Next::Exhausted => {
                break match (refused.take(), store.path()) {
                    (Some(error), _) => no_more_codes_after(&error, &label),
                    (None, Some(path)) => pending_outcome(&pending, path, false),
                    (None, None) => no_code_for(&pending),
                };
            }
        };
        let another_way = answer == Solution::TryAnotherWay;
        let saved = matches!(store, Store::Resumed { .. });
        let action = match &answer {
            Solution::InAppValidation => SentAction::InAppValidation,
            Solution::TryAnotherWay => SentAction::TryAnotherWay,
            _ => SentAction::Code,
        };
        let step = match store.send(&mut pending, action, |pending, key| {
            solve_once(pending, answer.clone(), key, &label, saved)
        }) {
            Ok(step) => step,
            // Another process holds the file, or changed it: nothing was sent.
            Err(conflict) => return conflict,
        };
        let result = match step {
            Step::FoundConnected => break connected(pending.account_id().as_str(), false, true),
            Step::Answered(result) => result,
        };
        match result {
            Ok(Solved::Connected { account_id }) => break connected(account_id.as_str(), false, false),
            Ok(Solved::Reconnected { account_id }) => break connected(account_id.as_str(), true, false),
            Ok(_) => {
                refused = None;
                if another_way {
                    say("The server offers another way to solve the checkpoint.");
                } else {
                    say(&format!(
                        "{label} solved; the intent goes on with another checkpoint."
                    ));
                }
                show_checkpoint(&pending);
            }
            // A wrong code, or a code refused as malformed: the intent is alive, ask again.
            Err(error) if error.is_retryable_by_user() => {
                let what = match error.api_error() {
                    Some(api) if api.is_wrong_code() => format!(
                        "Wrong code for {label} ({} wrong so far)",
                        pending.intent().failed_attempts
                    ),
                    _ => format!("The API refused the code for {label} as malformed"),
                };
                say(&format!(
                    "{what}; the intent is still pending, {} left.",
                    time_text::time_left(pending.remaining())
                ));
                refused = Some(error);
            }
            Err(error) => break Outcome::from_error(&error),
        }
    };
    store.finish(&mut pending, outcome)
}

/// Sends one answer to the checkpoint shown as `label`; `saved`: the intent was read from a
/// state file, and may have been finished elsewhere.
fn solve_once(
    pending: &mut PendingIntent,
    answer: Solution,
    key: IdempotencyKey,
    label: &str,
    saved: bool,
) -> Step<Result<Solved, Error>> {
    let result = match answer {
        Solution::InAppValidation => solve_in_app(pending, key),
        Solution::TryAnotherWay => {
            say(&format!("Asking for another way to solve {label}…"));
            pending.solve_with_key(Solution::TryAnotherWay, key)
        }
        code => {
            say(&format!("Sending the code for {label}…"));
            pending.solve_with_key(code, key)
        }
    };
    match &result {
        Err(error) if saved && found_connected(pending, error) => Step::FoundConnected,
        _ => Step::Answered(result),
    }
}

/// After the API refused a request of a saved intent as malformed (a 400 validation type, which
/// is also what it answers to a request against an intent it no longer runs: connected
/// elsewhere, forgotten), asks `GET /accounts/{id}` whether the account is connected. Only
/// for a connect's intent: the account of a reconnect exists before its intent ends.
fn found_connected(pending: &PendingIntent, error: &Error) -> bool {
    let refused_as_malformed = matches!(error, Error::Api(api) if api.problem == Problem::InvalidRequest);
    if !refused_as_malformed || pending.intent().reconnect {
        return false;
    }
    let account_id = pending.account_id();
    say(&format!(
        "The API refused the request as malformed; asking whether account {account_id} is connected already…"
    ));
    match pending.client().account_status(account_id.clone()) {
        Ok(account) => {
            say(&format!(
                "Account {account_id} is connected (status {}): its intent was finished elsewhere.",
                account.status()
            ));
            true
        }
        Err(_) => {
            say(&format!(
                "Account {account_id} is not connected: the API does not run this intent, or refuses the code's form."
            ));
            false
        }
    }
}

/// Approves on the device: the request waits for the approval, up to the intent's
/// remaining time, with a live countdown on a terminal.
fn solve_in_app(pending: &mut PendingIntent, key: IdempotencyKey) -> Result<Solved, Error> {
    let label = pending.checkpoint().to_string();
    if !std::io::stderr().is_terminal() {
        say(&format!(
            "{label}: approve the connection on your device; waiting up to {}…",
            time_text::time_left(pending.remaining())
        ));
        return pending.solve_with_key(Solution::InAppValidation, key);
    }
    // The intent's deadline, by the client's clock, while the request holds the intent.
    let client = pending.client().clone();
    let deadline = pending.deadline();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        let solving = &mut *pending;
        scope.spawn(move || {
            let _ = sender.send(solving.solve_with_key(Solution::InAppValidation, key));
        });
        let mut countdown = Countdown::new(label, ", approve the connection on your device…", true);
        loop {
            countdown.draw(deadline.saturating_duration_since(client.now()));
            match receiver.recv_timeout(TICK) {
                Ok(result) => {
                    countdown.finish();
                    return result;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    countdown.finish();
                    return Err(Error::Transport(auth_core::TransportError::new(
                        TransportErrorKind::Other,
                        "the in-app validation request stopped without an answer",
                    )));
                }
            }
        }
    })
}

/// The intent's time is up by the client's clock: the core expires it (nothing is sent) and
/// says how.
fn time_up(pending: &mut PendingIntent) -> Outcome {
    match pending.tick() {
        Err(error) => Outcome::from_error(&error),
        Ok(()) => Failure::cli(
            Exit::Failure,
            "cli/unexpected",
            format!(
                "the intent of account {} is no longer pending, but did not expire",
                pending.account_id()
            ),
        )
        .into(),
    }
}

/// Connected; `already`: found connected by `GET /accounts/{id}` after the API refused this
/// run's request.
fn connected(account_id: &str, reconnected: bool, already: bool) -> Outcome {
    Outcome::Connected {
        account_id: account_id.to_owned(),
        reconnected,
        already,
    }
}

fn pending_outcome(pending: &PendingIntent, state_file: &Path, resent: bool) -> Outcome {
    Outcome::Pending(Box::new(Pending {
        account_id: pending.account_id().as_str().to_owned(),
        checkpoint: pending.checkpoint().clone(),
        deadline: pending.deadline(),
        remaining: pending.remaining(),
        state_file: state_file.to_owned(),
        resent,
    }))
}

/// A code refused (a wrong one, or one refused as malformed), and no code left to try:
/// rejected (exit 4, as the refusal's status says).
fn no_more_codes_after(error: &Error, label: &str) -> Outcome {
    let mut outcome = Outcome::from_error(error);
    if let Outcome::Failed(failure) = &mut outcome {
        let what = if error.api_error().is_some_and(|api| api.is_wrong_code()) {
            "wrong code"
        } else {
            "the code was refused"
        };
        failure.message = format!(
            "{what} for {label}, and no more codes to try ({})",
            failure.message
        );
    }
    outcome
}

/// A checkpoint and no answer at all for it (no `--code`, standard input ended): exit 4.
fn no_code_for(pending: &PendingIntent) -> Outcome {
    Failure::cli(
        Exit::Rejected,
        "cli/no_more_codes",
        format!(
            "the {} checkpoint of account {} needs an answer and none is left (no more --code, standard \
             input ended); the intent is abandoned (use --detach --state-file FILE to keep it)",
            pending.checkpoint(),
            pending.account_id()
        ),
    )
    .into()
}

/// Builds the client from the command line, or says what is wrong with it (exit 2).
fn build_client(cli: &Cli) -> Result<Client, Failure> {
    let no_key = || Failure::configuration("no API key: pass --api-key KEY or set POSTPRESS_API_KEY");
    let api_key = cli
        .api_key
        .as_deref()
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .ok_or_else(no_key)?;
    output::remember_secret(api_key);
    let mut builder = Client::builder()
        .base_url(cli.base_url())
        .api_key(api_key)
        .request_timeout(cli.timeout)
        .connect_timeout(cli.timeout.min(ClientBuilder::DEFAULT_CONNECT_TIMEOUT))
        .intent_ttl(cli.intent_ttl);
    if cli.verbose {
        builder = builder.on_exchange(show_exchange);
    }
    let client = builder.build().map_err(|error| match error {
        BuildError::MissingApiKey => no_key(),
        // The builder's own words (the core's, for a base URL): what is wrong, and what to do.
        other => Failure::configuration(other.to_string()),
    })?;
    if client.is_sandbox() {
        say(
            "Sandbox: the API key is a postpress test key (pp_test_…): its traffic is sandboxed and no real account is connected.",
        );
    }
    Ok(client)
}

/// `-v`: one line per attempt of a request (method, path, body with its secrets redacted by
/// the core, the attempt's number from the second on) and one per answer (status) or
/// failure. Headers, and so the API key, are never shown.
fn show_exchange(exchange: &Exchange<'_>) {
    let request = exchange.request;
    let took = format!("{} ms", exchange.elapsed.as_millis());
    let attempt = match request.attempt {
        0 | 1 => String::new(),
        n => format!(" (attempt {n}, the same Idempotency-Key)"),
    };
    output::stderr_line(&format!(
        "> {} {} {}{attempt}",
        request.method,
        request.path,
        request.body.redacted()
    ));
    let answer = match exchange.outcome {
        Ok(answer) => format!("< {} ({} bytes, {took})", answer.status, answer.body.len()),
        Err(error) => format!("< no answer after {took}: {error}"),
    };
    output::stderr_line(&answer);
}

/// Shows the checkpoint to solve: its type (unknown types included), what to do, any
/// extra data it came with, and the intent's time left.
fn show_checkpoint(pending: &PendingIntent) {
    let checkpoint = pending.checkpoint();
    say(&format!(
        "Checkpoint {checkpoint} for account {}: {}.",
        pending.account_id(),
        checkpoint.instructions()
    ));
    if let Ok(serde_json::Value::Object(mut fields)) = serde_json::to_value(checkpoint) {
        fields.remove("type");
        if !fields.is_empty() {
            // The checkpoint's fields are the server's, passed through by the core as sent.
            say(&output::redact(&format!(
                "  details: {}",
                serde_json::Value::Object(fields)
            )));
        }
    }
    say(&format!(
        "  The authentication intent ends at {} ({} left).",
        time_text::rfc3339(pending.deadline()),
        time_text::time_left(pending.remaining())
    ));
}

/// Progress for people, on standard error.
fn say(text: &str) {
    output::stderr_line(text);
}

fn warn(text: &str) {
    output::stderr_line(&format!("postpress-auth: warning: {text}"));
}

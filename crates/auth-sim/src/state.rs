//! The simulator's rules, in one place: accounts, authentication intents, the intent clock.
//!
//! Nothing here does IO or reads a clock: every call takes `now_ms` (the simulator's
//! clock) and returns what to answer. The server (`server.rs`) parses requests into
//! [`Operation`]s, applies faults and holds, and writes [`Reply`]s on the wire.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use crate::fixture::{Checkpoint, Fault, Fixture, IN_APP_VALIDATION, Provider, TRY_ANOTHER_WAY, WireObject};
use crate::ids::{AccountId, IdGenerator};

/// Error types of the contract, plus the few HTTP-level ones the contract leaves open.
pub(crate) mod kinds {
    pub(crate) const INVALID_CREDENTIALS: &str = "errors/invalid_credentials";
    pub(crate) const MISSING_CREDENTIALS: &str = "errors/missing_credentials";
    pub(crate) const INVALID_CHECKPOINT_SOLUTION: &str = "errors/invalid_checkpoint_solution";
    pub(crate) const AUTHENTICATION_INTENT_ERROR: &str = "errors/authentication_intent_error";
    pub(crate) const INVALID_PARAMETERS: &str = "errors/invalid_parameters";
    pub(crate) const MISSING_PARAMETERS: &str = "errors/missing_parameters";
    pub(crate) const MALFORMED_REQUEST: &str = "errors/malformed_request";
    pub(crate) const REQUEST_TIMEOUT: &str = "errors/request_timeout";
    pub(crate) const RESOURCE_NOT_FOUND: &str = "errors/resource_not_found";
    pub(crate) const METHOD_NOT_ALLOWED: &str = "errors/method_not_allowed";
    pub(crate) const CONTENT_TOO_LARGE: &str = "errors/content_too_large";
    pub(crate) const TOO_MANY_REQUESTS: &str = "errors/too_many_requests";
    pub(crate) const INSUFFICIENT_PRIVILEGES: &str = "errors/insufficient_privileges";
    pub(crate) const UNEXPECTED_ERROR: &str = "errors/unexpected_error";
    pub(crate) const SERVICE_UNAVAILABLE: &str = "errors/service_unavailable";
    pub(crate) const BAD_GATEWAY: &str = "errors/bad_gateway";
    pub(crate) const GATEWAY_TIMEOUT: &str = "errors/gateway_timeout";
}

/// A request, parsed and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    Connect {
        provider: Provider,
        username: String,
        password: String,
    },
    Solve {
        provider: Provider,
        account_id: String,
        code: String,
    },
    Resend {
        provider: Provider,
        account_id: String,
    },
    Reconnect {
        account_id: String,
        provider: Provider,
        username: String,
        password: String,
    },
}

/// What to answer (the server adds `instance` and writes it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// 201 `{"object":"AccountCreated","account_id":…}`
    AccountCreated(AccountId),
    /// 201 `{"object":"AccountReconnected","account_id":…}`
    AccountReconnected(AccountId),
    /// 202 `{"object":"Checkpoint","account_id":…,"checkpoint":{…}}`
    Checkpoint(AccountId, WireObject),
    /// 201 `{"object":"CheckpointResend"}`
    CheckpointResend,
    /// An error in the contract's shape.
    Error {
        status: u16,
        kind: Cow<'static, str>,
        /// The body's `title`; `None` for the status's reason phrase.
        title: Option<&'static str>,
        detail: Cow<'static, str>,
    },
}

impl Reply {
    pub(crate) fn error(
        status: u16,
        kind: impl Into<Cow<'static, str>>,
        detail: impl Into<Cow<'static, str>>,
    ) -> Reply {
        Reply::Error {
            status,
            kind: kind.into(),
            title: None,
            detail: detail.into(),
        }
    }

    /// The same reply with its own `title` instead of the status's reason phrase.
    pub(crate) fn with_title(self, title: &'static str) -> Reply {
        match self {
            Reply::Error {
                status, kind, detail, ..
            } => Reply::Error {
                status,
                kind,
                title: Some(title),
                detail,
            },
            other => other,
        }
    }

    pub(crate) fn status(&self) -> u16 {
        match self {
            Reply::AccountCreated(_) | Reply::AccountReconnected(_) | Reply::CheckpointResend => 201,
            Reply::Checkpoint(..) => 202,
            Reply::Error { status, .. } => *status,
        }
    }
}

/// The result of one step: answer now, or hold the request (in-app validation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    Reply(Reply),
    /// Wait until the clock reads `until_ms`, then call [`State::handle`] again with `resume`.
    Hold {
        until_ms: u64,
        resume: Resume,
    },
}

/// Which checkpoint a held request was waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resume {
    step: u16,
    variant: u8,
}

/// Where a fault is declared; the key of its `times` counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FaultSite {
    Account(u32),
    Checkpoint { account: u32, step: u16, variant: u8 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Connect,
    Reconnect,
}

/// One authentication intent: a few integers, never a copy of the fixture.
#[derive(Debug, Clone)]
pub(crate) struct Intent {
    /// The intent is alive while `now < deadline_ms`.
    deadline_ms: u64,
    /// When the pending in-app approval happens (set by the first `in_app_validation`).
    approve_at_ms: Option<u64>,
    /// Index of the account in the fixture.
    account: u32,
    /// Index of the current checkpoint in the account's chain.
    step: u16,
    /// How many `TRY_ANOTHER_WAY` switches were made at this step.
    variant: u8,
    provider: Provider,
    purpose: Purpose,
    /// Answered 408, or killed by a forced 500 or 408: every later request answers
    /// 400 `errors/authentication_intent_error` until the intent is forgotten.
    ended: bool,
}

/// Limits and durations, in milliseconds of the simulator's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) ttl_ms: u64,
    pub(crate) forget_after_ms: u64,
    pub(crate) max_intents: usize,
    pub(crate) max_accounts: usize,
}

/// A connected account, as listed by [`crate::Simulator::connected_accounts`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectedAccount {
    /// The id handed out in `AccountCreated`.
    pub account_id: String,
    /// The fixture account's username.
    pub username: String,
}

pub(crate) struct State {
    fixture: Fixture,
    by_username: HashMap<String, Vec<u32>>,
    intents: HashMap<AccountId, Intent>,
    accounts: HashMap<AccountId, u32>,
    account_order: VecDeque<AccountId>,
    fault_uses: HashMap<FaultSite, u32>,
    ids: IdGenerator,
    limits: Limits,
}

fn unknown_intent() -> Reply {
    Reply::error(
        400,
        kinds::INVALID_PARAMETERS,
        "no authentication intent is running for this account_id; start over with connect",
    )
}

/// A request against an intent this simulator issued and that has ended (answered 408,
/// killed by a forced 500 or 408): the contract's 400 "it has destroyed itself", typed
/// `errors/authentication_intent_error` ("the intent was killed; start over") so that a
/// client tells it from a malformed request, which leaves the intent pending.
fn ended_intent() -> Reply {
    Reply::error(
        400,
        kinds::AUTHENTICATION_INTENT_ERROR,
        "the authentication intent has ended and destroyed itself; start over with connect",
    )
    .with_title("Authentication intent destroyed")
}

fn timed_out_intent() -> Reply {
    Reply::error(
        408,
        kinds::REQUEST_TIMEOUT,
        "the authentication intent is older than its lifetime; the account is not connected",
    )
}

fn invalid_credentials() -> Reply {
    Reply::error(401, kinds::INVALID_CREDENTIALS, "wrong username or password")
}

fn wrong_code() -> Reply {
    Reply::error(
        401,
        kinds::INVALID_CHECKPOINT_SOLUTION,
        "the code does not solve the checkpoint; the intent is still running",
    )
}

/// The contract's error type for a forced status.
pub(crate) fn default_kind(status: u16, operation: &Operation) -> &'static str {
    match (status, operation) {
        (400, _) => kinds::INVALID_PARAMETERS,
        (401, Operation::Solve { .. }) => kinds::INVALID_CHECKPOINT_SOLUTION,
        (401, _) => kinds::INVALID_CREDENTIALS,
        (403, _) => kinds::INSUFFICIENT_PRIVILEGES,
        (404, _) => kinds::RESOURCE_NOT_FOUND,
        (405, _) => kinds::METHOD_NOT_ALLOWED,
        (408, _) => kinds::REQUEST_TIMEOUT,
        (413, _) => kinds::CONTENT_TOO_LARGE,
        (429, _) => kinds::TOO_MANY_REQUESTS,
        (500, _) => kinds::AUTHENTICATION_INTENT_ERROR,
        (502, _) => kinds::BAD_GATEWAY,
        (503, _) => kinds::SERVICE_UNAVAILABLE,
        (504, _) => kinds::GATEWAY_TIMEOUT,
        _ => kinds::UNEXPECTED_ERROR,
    }
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl State {
    pub(crate) fn new(fixture: Fixture, limits: Limits) -> State {
        let mut by_username: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, account) in fixture.accounts().iter().enumerate() {
            if let Ok(i) = u32::try_from(i) {
                by_username
                    .entry(account.username().to_owned())
                    .or_default()
                    .push(i);
            }
        }
        State {
            fixture,
            by_username,
            intents: HashMap::new(),
            accounts: HashMap::new(),
            account_order: VecDeque::new(),
            fault_uses: HashMap::new(),
            ids: IdGenerator::new(),
            limits,
        }
    }

    /// Intents still running at `now_ms` (not ended, not past their deadline).
    pub(crate) fn pending_intents(&self, now_ms: u64) -> usize {
        self.intents
            .values()
            .filter(|i| !i.ended && now_ms < i.deadline_ms)
            .count()
    }

    /// Intents held in memory, including ended ones not yet forgotten.
    pub(crate) fn tracked_intents(&self) -> usize {
        self.intents.len()
    }

    pub(crate) fn connected_accounts(&self) -> Vec<ConnectedAccount> {
        self.account_order
            .iter()
            .filter_map(|id| {
                let index = *self.accounts.get(id)?;
                let account = self.fixture.accounts().get(usize::try_from(index).ok()?)?;
                Some(ConnectedAccount {
                    account_id: id.as_str().to_owned(),
                    username: account.username().to_owned(),
                })
            })
            .collect()
    }

    /// Forgets intents whose deadline passed more than `forget_after` ago.
    pub(crate) fn sweep(&mut self, now_ms: u64) {
        let forget_after = self.limits.forget_after_ms;
        self.intents
            .retain(|_, intent| now_ms < intent.deadline_ms.saturating_add(forget_after));
    }

    fn checkpoint_at(&self, account: u32, step: u16, variant: u8) -> Option<&Checkpoint> {
        let account = self.fixture.accounts().get(usize::try_from(account).ok()?)?;
        let mut checkpoint = account.checkpoints().get(usize::from(step))?;
        for _ in 0..variant {
            checkpoint = checkpoint.alternative()?;
        }
        Some(checkpoint)
    }

    fn find_account(&self, username: &str, provider: Provider) -> Option<u32> {
        self.by_username.get(username)?.iter().copied().find(|&i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| self.fixture.accounts().get(i))
                .is_some_and(|a| a.provider_restriction().is_none_or(|p| p == provider))
        })
    }

    /// The fault that applies to `operation`, if any; consumes one of its `times`.
    pub(crate) fn take_fault(&mut self, operation: &Operation, now_ms: u64) -> Option<Fault> {
        let (site, fault) = match operation {
            Operation::Connect {
                provider, username, ..
            } => {
                let index = self.find_account(username, *provider)?;
                let account = self.fixture.accounts().get(usize::try_from(index).ok()?)?;
                (FaultSite::Account(index), account.account_fault())
            }
            Operation::Reconnect { account_id, .. } => {
                let index = *self.accounts.get(&AccountId::parse(account_id)?)?;
                let account = self.fixture.accounts().get(usize::try_from(index).ok()?)?;
                (FaultSite::Account(index), account.account_fault())
            }
            Operation::Solve { account_id, .. } | Operation::Resend { account_id, .. } => {
                let intent = self.intents.get(&AccountId::parse(account_id)?)?;
                if intent.ended || now_ms >= intent.deadline_ms {
                    return None;
                }
                let site = FaultSite::Checkpoint {
                    account: intent.account,
                    step: intent.step,
                    variant: intent.variant,
                };
                let checkpoint = self.checkpoint_at(intent.account, intent.step, intent.variant)?;
                (site, checkpoint.checkpoint_fault())
            }
        };
        if fault.is_empty() {
            return None;
        }
        let fault = fault.clone();
        if let Some(limit) = fault.times_limit() {
            let used = self.fault_uses.entry(site).or_insert(0);
            if *used >= limit {
                return None;
            }
            *used += 1;
        }
        Some(fault)
    }

    /// The answer to a request whose status a fault forces. 500 and 408 end the intent.
    pub(crate) fn forced(&mut self, operation: &Operation, status: u16, kind: Option<&str>) -> Reply {
        if let Operation::Solve { account_id, .. } | Operation::Resend { account_id, .. } = operation
            && (status == 500 || status == 408)
            && let Some(intent) = AccountId::parse(account_id).and_then(|id| self.intents.get_mut(&id))
        {
            intent.ended = true;
        }
        let kind: Cow<'static, str> = match kind {
            Some(kind) => Cow::Owned(kind.to_owned()),
            None => Cow::Borrowed(default_kind(status, operation)),
        };
        let detail = if status == 500 {
            "the authentication intent was killed after a failure; start over with connect"
        } else {
            "status forced by the simulator's fixture (fault injection)"
        };
        Reply::error(status, kind, detail)
    }

    /// Applies one request. `resume` is set when a held in-app request wakes up.
    pub(crate) fn handle(&mut self, operation: &Operation, now_ms: u64, resume: Option<Resume>) -> Decision {
        match operation {
            Operation::Connect {
                provider,
                username,
                password,
            } => Decision::Reply(self.connect(*provider, username, password, now_ms)),
            Operation::Reconnect {
                account_id,
                provider,
                username,
                password,
            } => Decision::Reply(self.reconnect(account_id, *provider, username, password, now_ms)),
            Operation::Resend { provider, account_id } => {
                Decision::Reply(match self.live_intent(account_id, *provider, now_ms) {
                    Ok(_) => Reply::CheckpointResend,
                    Err(reply) => reply,
                })
            }
            Operation::Solve {
                provider,
                account_id,
                code,
            } => self.solve(account_id, *provider, code, now_ms, resume),
        }
    }

    fn connect(&mut self, provider: Provider, username: &str, password: &str, now_ms: u64) -> Reply {
        let Some(index) = self.find_account(username, provider) else {
            return invalid_credentials();
        };
        let Some(account) = usize::try_from(index)
            .ok()
            .and_then(|i| self.fixture.accounts().get(i))
        else {
            return invalid_credentials();
        };
        if account.password() != password {
            return invalid_credentials();
        }
        if account.checkpoints().is_empty() {
            let id = self.ids.next_id();
            self.remember_account(id, index);
            return Reply::AccountCreated(id);
        }
        let id = self.ids.next_id();
        self.start_intent(id, index, provider, Purpose::Connect, now_ms)
    }

    fn reconnect(
        &mut self,
        account_id: &str,
        provider: Provider,
        username: &str,
        password: &str,
        now_ms: u64,
    ) -> Reply {
        let found = AccountId::parse(account_id).and_then(|id| Some((id, *self.accounts.get(&id)?)));
        let Some((id, index)) = found else {
            return Reply::error(
                404,
                kinds::RESOURCE_NOT_FOUND,
                "no connected account has this account_id",
            );
        };
        let Some(account) = usize::try_from(index)
            .ok()
            .and_then(|i| self.fixture.accounts().get(i))
        else {
            return invalid_credentials();
        };
        let provider_ok = account.provider_restriction().is_none_or(|p| p == provider);
        if account.username() != username || account.password() != password || !provider_ok {
            return invalid_credentials();
        }
        if account.checkpoints().is_empty() {
            return Reply::AccountReconnected(id);
        }
        self.start_intent(id, index, provider, Purpose::Reconnect, now_ms)
    }

    fn start_intent(
        &mut self,
        id: AccountId,
        account: u32,
        provider: Provider,
        purpose: Purpose,
        now_ms: u64,
    ) -> Reply {
        if self.intents.len() >= self.limits.max_intents && !self.intents.contains_key(&id) {
            self.sweep(now_ms);
            if self.intents.len() >= self.limits.max_intents {
                return Reply::error(
                    429,
                    kinds::TOO_MANY_REQUESTS,
                    "too many authentication intents are running in this simulator",
                );
            }
        }
        let Some(first) = self.checkpoint_at(account, 0, 0) else {
            return invalid_credentials();
        };
        let object = first.wire_object();
        self.intents.insert(
            id,
            Intent {
                deadline_ms: now_ms.saturating_add(self.limits.ttl_ms),
                approve_at_ms: None,
                account,
                step: 0,
                variant: 0,
                provider,
                purpose,
                ended: false,
            },
        );
        Reply::Checkpoint(id, object)
    }

    fn remember_account(&mut self, id: AccountId, index: u32) {
        if self.accounts.insert(id, index).is_none() {
            self.account_order.push_back(id);
        }
        while self.accounts.len() > self.limits.max_accounts {
            match self.account_order.pop_front() {
                Some(oldest) => {
                    self.accounts.remove(&oldest);
                }
                None => break,
            }
        }
    }

    /// The intent behind `account_id` if it may be acted on; otherwise the answer.
    /// The first request after the deadline answers 408 and ends the intent; a request
    /// against an ended intent answers 400 `errors/authentication_intent_error`, one
    /// against an unknown (or forgotten) `account_id` 400 `errors/invalid_parameters`.
    fn live_intent(&mut self, account_id: &str, provider: Provider, now_ms: u64) -> Result<AccountId, Reply> {
        let id = AccountId::parse(account_id).ok_or_else(unknown_intent)?;
        let intent = self.intents.get_mut(&id).ok_or_else(unknown_intent)?;
        if intent.ended {
            return Err(ended_intent());
        }
        if now_ms >= intent.deadline_ms {
            intent.ended = true;
            return Err(timed_out_intent());
        }
        if intent.provider != provider {
            return Err(Reply::error(
                400,
                kinds::INVALID_PARAMETERS,
                format!(
                    "this intent was started for provider {}, not {provider}",
                    intent.provider
                ),
            ));
        }
        Ok(id)
    }

    fn solve(
        &mut self,
        account_id: &str,
        provider: Provider,
        code: &str,
        now_ms: u64,
        resume: Option<Resume>,
    ) -> Decision {
        let id = match self.live_intent(account_id, provider, now_ms) {
            Ok(id) => id,
            Err(reply) => return Decision::Reply(reply),
        };
        let Some(intent) = self.intents.get(&id).cloned() else {
            return Decision::Reply(unknown_intent());
        };
        let here = Resume {
            step: intent.step,
            variant: intent.variant,
        };
        if resume.is_some_and(|r| r != here) {
            return Decision::Reply(Reply::error(
                400,
                kinds::INVALID_PARAMETERS,
                "this checkpoint was already answered by another request",
            ));
        }
        let Some(checkpoint) = self.checkpoint_at(intent.account, intent.step, intent.variant) else {
            return Decision::Reply(unknown_intent());
        };
        if code == TRY_ANOTHER_WAY {
            let switched = match checkpoint.alternative() {
                Some(alternative) if intent.variant < u8::MAX => Some(alternative.wire_object()),
                _ => None,
            };
            let object = match switched {
                Some(object) => {
                    if let Some(live) = self.intents.get_mut(&id) {
                        live.variant += 1;
                        live.approve_at_ms = None;
                    }
                    object
                }
                None => checkpoint.wire_object(),
            };
            return Decision::Reply(Reply::Checkpoint(id, object));
        }
        if code == IN_APP_VALIDATION {
            let Some(delay) = checkpoint.in_app_delay() else {
                return Decision::Reply(wrong_code());
            };
            let approve_at = match intent.approve_at_ms {
                Some(at) => at,
                None => {
                    let at = now_ms.saturating_add(ms(delay));
                    if let Some(live) = self.intents.get_mut(&id) {
                        live.approve_at_ms = Some(at);
                    }
                    at
                }
            };
            if now_ms < approve_at {
                return Decision::Hold {
                    until_ms: approve_at.min(intent.deadline_ms),
                    resume: here,
                };
            }
            return Decision::Reply(self.advance(id));
        }
        if code == checkpoint.code() {
            return Decision::Reply(self.advance(id));
        }
        Decision::Reply(wrong_code())
    }

    /// The current checkpoint is solved: answer the next one, or connect.
    fn advance(&mut self, id: AccountId) -> Reply {
        let Some(intent) = self.intents.get_mut(&id) else {
            return unknown_intent();
        };
        intent.step = intent.step.saturating_add(1);
        intent.variant = 0;
        intent.approve_at_ms = None;
        let (account, step, purpose) = (intent.account, intent.step, intent.purpose);
        if let Some(next) = self.checkpoint_at(account, step, 0) {
            return Reply::Checkpoint(id, next.wire_object());
        }
        self.intents.remove(&id);
        match purpose {
            Purpose::Connect => {
                self.remember_account(id, account);
                Reply::AccountCreated(id)
            }
            Purpose::Reconnect => {
                self.remember_account(id, account);
                Reply::AccountReconnected(id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use std::time::Duration;

    fn limits() -> Limits {
        Limits {
            ttl_ms: 300_000,
            forget_after_ms: 600_000,
            max_intents: 1000,
            max_accounts: 1000,
        }
    }

    fn connect(state: &mut State, user: &str, pw: &str, now: u64) -> Reply {
        match state.handle(
            &Operation::Connect {
                provider: Provider::Messenger,
                username: user.into(),
                password: pw.into(),
            },
            now,
            None,
        ) {
            Decision::Reply(r) => r,
            Decision::Hold { .. } => panic!("connect never holds"),
        }
    }

    fn solve(state: &mut State, id: AccountId, code: &str, now: u64) -> Decision {
        state.handle(
            &Operation::Solve {
                provider: Provider::Messenger,
                account_id: id.as_str().into(),
                code: code.into(),
            },
            now,
            None,
        )
    }

    #[test]
    fn a_pending_intent_is_small() {
        // The per-intent cost: the key (22 bytes inline) and this struct.
        assert!(
            std::mem::size_of::<Intent>() <= 40,
            "{}",
            std::mem::size_of::<Intent>()
        );
        assert_eq!(std::mem::size_of::<AccountId>(), 22);
    }

    #[test]
    fn chain_then_connect_and_the_deadline_is_not_extended() {
        let mut state = State::new(Fixture::demo(), limits());
        let Reply::Checkpoint(id, cp) = connect(&mut state, "dave", "pw-d", 0) else {
            panic!()
        };
        assert_eq!(cp.get("type").unwrap(), "2FA");
        let Decision::Reply(Reply::Checkpoint(same, cp)) = solve(&mut state, id, "111111", 299_000) else {
            panic!()
        };
        assert_eq!((same, cp.get("type").and_then(|t| t.as_str())), (id, Some("OTP")));
        // Solving the first checkpoint did not extend the 5 minutes.
        assert_eq!(
            solve(&mut state, id, "222222", 300_000),
            Decision::Reply(timed_out_intent())
        );
        let Decision::Reply(Reply::Error {
            status, kind, title, ..
        }) = solve(&mut state, id, "222222", 300_001)
        else {
            panic!()
        };
        assert_eq!(
            (status, kind.as_ref(), title),
            (
                400,
                kinds::AUTHENTICATION_INTENT_ERROR,
                Some("Authentication intent destroyed")
            )
        );
        assert_eq!(state.pending_intents(300_001), 0);
        assert_eq!(state.tracked_intents(), 1);
        state.sweep(300_000 + 600_000);
        assert_eq!(state.tracked_intents(), 0);
        // Forgotten: now an intent the simulator knows nothing about.
        assert_eq!(
            solve(&mut state, id, "222222", 900_000),
            Decision::Reply(unknown_intent())
        );
    }

    #[test]
    fn ended_unknown_and_finished_intents_answer_apart() {
        let mut state = State::new(Fixture::demo(), limits());
        // Killed by a forced 500: destroyed.
        let Reply::Checkpoint(killed, _) = connect(&mut state, "bob", "pw-b", 0) else {
            panic!()
        };
        let op = Operation::Solve {
            provider: Provider::Messenger,
            account_id: killed.as_str().into(),
            code: "123456".into(),
        };
        assert_eq!(state.forced(&op, 500, None).status(), 500);
        assert_eq!(
            solve(&mut state, killed, "123456", 1),
            Decision::Reply(ended_intent())
        );
        // A forced status other than 500 or 408 ends nothing.
        let Reply::Checkpoint(alive, _) = connect(&mut state, "bob", "pw-b", 0) else {
            panic!()
        };
        let op = Operation::Resend {
            provider: Provider::Messenger,
            account_id: alive.as_str().into(),
        };
        assert_eq!(state.forced(&op, 503, None).status(), 503);
        assert_eq!(
            solve(&mut state, alive, "123456", 1),
            Decision::Reply(Reply::AccountCreated(alive))
        );
        // Connected, then asked again: no intent runs for it (it is not destroyed).
        assert_eq!(
            solve(&mut state, alive, "123456", 2),
            Decision::Reply(unknown_intent())
        );
        // Never issued: unknown.
        let stranger = IdGenerator::new().next_id();
        assert_ne!(stranger, killed);
        assert_eq!(
            solve(&mut state, stranger, "123456", 1),
            Decision::Reply(unknown_intent())
        );
    }

    #[test]
    fn in_app_holds_until_the_approval_then_connects() {
        let mut state = State::new(Fixture::demo(), limits());
        let Reply::Checkpoint(id, _) = connect(&mut state, "carol", "pw-c", 1_000) else {
            panic!()
        };
        let Decision::Hold { until_ms, resume } = solve(&mut state, id, IN_APP_VALIDATION, 2_000) else {
            panic!()
        };
        assert_eq!(until_ms, 3_500);
        let again = state.handle(
            &Operation::Solve {
                provider: Provider::Messenger,
                account_id: id.as_str().into(),
                code: IN_APP_VALIDATION.into(),
            },
            until_ms,
            Some(resume),
        );
        assert_eq!(again, Decision::Reply(Reply::AccountCreated(id)));
        assert_eq!(state.connected_accounts()[0].username, "carol");
    }

    #[test]
    fn in_app_past_the_deadline_holds_only_until_the_deadline() {
        let fixture = Fixture::new().account(
            crate::Account::new("slow", "pw").checkpoint(Checkpoint::in_app("2FA", Duration::from_secs(600))),
        );
        let mut state = State::new(fixture, limits());
        let Reply::Checkpoint(id, _) = connect(&mut state, "slow", "pw", 0) else {
            panic!()
        };
        let Decision::Hold { until_ms, .. } = solve(&mut state, id, IN_APP_VALIDATION, 10) else {
            panic!()
        };
        assert_eq!(until_ms, 300_000);
    }

    #[test]
    fn in_app_on_a_code_only_checkpoint_is_a_wrong_code() {
        let mut state = State::new(Fixture::demo(), limits());
        let Reply::Checkpoint(id, _) = connect(&mut state, "bob", "pw-b", 0) else {
            panic!()
        };
        assert_eq!(
            solve(&mut state, id, IN_APP_VALIDATION, 1),
            Decision::Reply(wrong_code())
        );
    }

    #[test]
    fn times_limits_a_fault() {
        let fixture = Fixture::new()
            .account(crate::Account::new("a", "p").fault(Fault::new().force_status(503).times(2)));
        let mut state = State::new(fixture, limits());
        let op = Operation::Connect {
            provider: Provider::Messenger,
            username: "a".into(),
            password: "p".into(),
        };
        assert!(state.take_fault(&op, 0).is_some());
        assert!(state.take_fault(&op, 0).is_some());
        assert!(state.take_fault(&op, 0).is_none());
    }

    #[test]
    fn the_intent_cap_answers_429_and_frees_after_expiry() {
        let mut state = State::new(
            Fixture::demo(),
            Limits {
                max_intents: 2,
                forget_after_ms: 0,
                ..limits()
            },
        );
        assert_eq!(connect(&mut state, "bob", "pw-b", 0).status(), 202);
        assert_eq!(connect(&mut state, "bob", "pw-b", 0).status(), 202);
        assert_eq!(connect(&mut state, "bob", "pw-b", 0).status(), 429);
        assert_eq!(connect(&mut state, "bob", "pw-b", 300_000).status(), 202);
    }
}

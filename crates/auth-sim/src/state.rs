//! The simulator's rules, in one place: accounts, authentication intents, the intent clock.
//!
//! Nothing here does IO or reads a clock: every call takes `now_ms` (the simulator's
//! clock) and returns what to answer. The server (`server.rs`) parses requests into
//! [`Operation`]s, applies faults, holds and idempotency records, and writes [`Reply`]s on
//! the wire.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use crate::error_types as kinds;
use crate::fixture::{
    Checkpoint, Fault, FaultTarget, Fixture, IN_APP_VALIDATION, Provider, SourceStatus, TRY_ANOTHER_WAY,
};
use crate::ids::{AccountId, IdGenerator};
use crate::reply::{AccountView, Reply};

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

impl Operation {
    /// The kind of request, as a fault's `on` names it.
    pub(crate) fn target(&self) -> FaultTarget {
        match self {
            Operation::Connect { .. } => FaultTarget::Connect,
            Operation::Reconnect { .. } => FaultTarget::Reconnect,
            Operation::Solve { .. } => FaultTarget::Solve,
            Operation::Resend { .. } => FaultTarget::Resend,
        }
    }
}

/// The result of one step: answer now, or hold the request (in-app validation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    Reply(Reply),
    /// Wait until the clock reads `until_ms`, then call [`State::handle`] again with `resume`,
    /// at `until_ms` (the moment the request was due) even if the clock has moved further.
    /// While it waits, the request holds `intent` ([`State::hold`]) so that it is not
    /// forgotten.
    Hold {
        intent: AccountId,
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
    /// Requests held open on this intent right now (in-app validation); an intent with
    /// holds is never forgotten, so that each is answered as of the moment it was due.
    holds: u32,
}

/// Limits and durations, in milliseconds of the simulator's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) ttl_ms: u64,
    pub(crate) forget_after_ms: u64,
    pub(crate) max_intents: usize,
    pub(crate) max_accounts: usize,
    /// How long a connected account reports `CONNECTING` before its settled status.
    pub(crate) connecting_ms: u64,
}

/// A connected account: which fixture account, for which provider, since when.
#[derive(Debug, Clone, Copy)]
struct Connected {
    index: u32,
    provider: Provider,
    at_ms: u64,
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
    accounts: HashMap<AccountId, Connected>,
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

/// Whether a forced answer ends the intent it is about, as the contract's table says:
/// 408 expires it; 500 `errors/authentication_intent_error` kills it; a 400 of a type that
/// is not one of the documented validation types is the intent that destroyed itself.
/// Everything else (validation 400s, 401, 403, 429, other 5xx, 3xx) leaves it alive.
pub(crate) fn ends_intent(status: u16, kind: &str) -> bool {
    match status {
        408 => true,
        500 => kind == kinds::AUTHENTICATION_INTENT_ERROR,
        400 => !kinds::is_validation_400(kind),
        _ => false,
    }
}

/// The contract's error type for a forced status.
pub(crate) fn default_kind(status: u16, operation: &Operation) -> &'static str {
    match (status, operation) {
        (400, _) => kinds::INVALID_PARAMETERS,
        (401, Operation::Solve { .. }) => kinds::INVALID_CHECKPOINT_SOLUTION,
        (401, _) => kinds::INVALID_CREDENTIALS,
        (403, _) => kinds::ACCOUNT_RESTRICTED,
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
                let index = self.accounts.get(id)?.index;
                let account = self.fixture.accounts().get(usize::try_from(index).ok()?)?;
                Some(ConnectedAccount {
                    account_id: id.as_str().to_owned(),
                    username: account.username().to_owned(),
                })
            })
            .collect()
    }

    /// Forgets intents whose deadline passed more than `forget_after` ago, unless a
    /// request is held on them.
    pub(crate) fn sweep(&mut self, now_ms: u64) {
        let forget_after = self.limits.forget_after_ms;
        self.intents
            .retain(|_, intent| intent.holds > 0 || now_ms < intent.deadline_ms.saturating_add(forget_after));
    }

    /// A request is held on `intent` (a [`Decision::Hold`]): keep the intent until
    /// [`State::release`].
    pub(crate) fn hold(&mut self, intent: AccountId) {
        if let Some(intent) = self.intents.get_mut(&intent) {
            intent.holds = intent.holds.saturating_add(1);
        }
    }

    /// A request held on `intent` was answered or dropped; the intent may be forgotten
    /// again in its time (if it is still there: a connected intent is already gone).
    pub(crate) fn release(&mut self, intent: AccountId) {
        if let Some(intent) = self.intents.get_mut(&intent) {
            intent.holds = intent.holds.saturating_sub(1);
        }
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
                let index = self.accounts.get(&AccountId::parse(account_id)?)?.index;
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
        if fault.is_empty() || fault.target().is_some_and(|t| t != operation.target()) {
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

    /// The answer to a request whose status a fault forces; it ends the intent only as
    /// [`ends_intent`] says.
    pub(crate) fn forced(&mut self, operation: &Operation, status: u16, kind: Option<&str>) -> Reply {
        let kind: Cow<'static, str> = match kind {
            Some(kind) => Cow::Owned(kind.to_owned()),
            None => Cow::Borrowed(default_kind(status, operation)),
        };
        let ends = ends_intent(status, &kind);
        if let Operation::Solve { account_id, .. } | Operation::Resend { account_id, .. } = operation
            && ends
            && let Some(intent) = AccountId::parse(account_id).and_then(|id| self.intents.get_mut(&id))
        {
            intent.ended = true;
        }
        let detail = if status == 500 && ends {
            "the authentication intent was killed after a failure; start over with connect"
        } else {
            "status forced by the simulator's fixture (fault injection)"
        };
        Reply::error(status, kind, detail)
    }

    /// `GET /accounts/{id}`: a connected account, `CONNECTING` until `connecting_ms` after
    /// it connected, then its fixture's status; 404 for anything else.
    pub(crate) fn account(&self, account_id: &str, now_ms: u64) -> Reply {
        let found = AccountId::parse(account_id).and_then(|id| {
            let connected = *self.accounts.get(&id)?;
            let account = self
                .fixture
                .accounts()
                .get(usize::try_from(connected.index).ok()?)?;
            Some((id, connected, account))
        });
        let Some((id, connected, account)) = found else {
            return Reply::error(404, kinds::RESOURCE_NOT_FOUND, "no connected account has this id");
        };
        let settled_at = connected.at_ms.saturating_add(self.limits.connecting_ms);
        let status = if now_ms < settled_at {
            SourceStatus::Connecting
        } else {
            account.settled_status()
        };
        Reply::Account(Box::new(AccountView {
            id,
            provider: connected.provider,
            name: account.username().to_owned(),
            connected_at_ms: connected.at_ms,
            status,
        }))
    }

    /// The status `GET /accounts/{id}` would report now, if the account is connected.
    pub(crate) fn account_status(&self, account_id: &str, now_ms: u64) -> Option<SourceStatus> {
        match self.account(account_id, now_ms) {
            Reply::Account(view) => Some(view.status),
            _ => None,
        }
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
                Decision::Reply(self.resend(account_id, *provider, now_ms))
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
            self.remember_account(id, index, provider, now_ms);
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
        let found = AccountId::parse(account_id).and_then(|id| Some((id, self.accounts.get(&id)?.index)));
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
            self.remember_account(id, index, provider, now_ms);
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
                holds: 0,
            },
        );
        Reply::Checkpoint(id, object)
    }

    fn remember_account(&mut self, id: AccountId, index: u32, provider: Provider, now_ms: u64) {
        let connected = Connected {
            index,
            provider,
            at_ms: now_ms,
        };
        if self.accounts.insert(id, connected).is_none() {
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

    /// A resend against a live intent: `success` unless the current checkpoint's provider
    /// refuses (`resend_refused`). Nothing else changes.
    fn resend(&mut self, account_id: &str, provider: Provider, now_ms: u64) -> Reply {
        let id = match self.live_intent(account_id, provider, now_ms) {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        let refused = self
            .intents
            .get(&id)
            .and_then(|i| self.checkpoint_at(i.account, i.step, i.variant))
            .is_some_and(Checkpoint::is_resend_refused);
        Reply::CheckpointResend {
            account_id: id,
            success: !refused,
        }
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
                    intent: id,
                    until_ms: approve_at.min(intent.deadline_ms),
                    resume: here,
                };
            }
            return Decision::Reply(self.advance(id, now_ms));
        }
        if code == checkpoint.code() {
            return Decision::Reply(self.advance(id, now_ms));
        }
        Decision::Reply(wrong_code())
    }

    /// The current checkpoint is solved: answer the next one, or connect.
    fn advance(&mut self, id: AccountId, now_ms: u64) -> Reply {
        let Some(intent) = self.intents.get_mut(&id) else {
            return unknown_intent();
        };
        intent.step = intent.step.saturating_add(1);
        intent.variant = 0;
        intent.approve_at_ms = None;
        let (account, step, purpose, provider) =
            (intent.account, intent.step, intent.purpose, intent.provider);
        if let Some(next) = self.checkpoint_at(account, step, 0) {
            return Reply::Checkpoint(id, next.wire_object());
        }
        self.intents.remove(&id);
        match purpose {
            Purpose::Connect => {
                self.remember_account(id, account, provider, now_ms);
                Reply::AccountCreated(id)
            }
            Purpose::Reconnect => {
                self.remember_account(id, account, provider, now_ms);
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
            connecting_ms: 200,
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
        let Decision::Hold {
            intent,
            until_ms,
            resume,
        } = solve(&mut state, id, IN_APP_VALIDATION, 2_000)
        else {
            panic!()
        };
        assert_eq!((intent, until_ms), (id, 3_500));
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
    fn an_intent_a_request_is_held_on_is_not_forgotten_until_released() {
        let mut state = State::new(Fixture::demo(), limits());
        let Reply::Checkpoint(id, _) = connect(&mut state, "carol", "pw-c", 0) else {
            panic!()
        };
        let Decision::Hold { intent, .. } = solve(&mut state, id, IN_APP_VALIDATION, 0) else {
            panic!()
        };
        state.hold(intent);
        let long_after = 300_000 + 600_000 + 1;
        state.sweep(long_after);
        assert_eq!(state.tracked_intents(), 1);
        state.release(intent);
        state.sweep(long_after);
        assert_eq!(state.tracked_intents(), 0);
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

    #[test]
    fn forced_answers_end_the_intent_as_the_contract_table_says() {
        for kind in kinds::VALIDATION_400 {
            assert!(!ends_intent(400, kind), "{kind}");
        }
        assert!(ends_intent(400, kinds::AUTHENTICATION_INTENT_ERROR));
        assert!(ends_intent(400, "errors/something_else"));
        assert!(ends_intent(408, kinds::REQUEST_TIMEOUT));
        assert!(ends_intent(500, kinds::AUTHENTICATION_INTENT_ERROR));
        assert!(!ends_intent(500, kinds::UNEXPECTED_ERROR));
        for status in [401, 403, 429, 502, 503, 504, 307] {
            assert!(
                !ends_intent(
                    status,
                    default_kind(
                        status,
                        &Operation::Resend {
                            provider: Provider::Messenger,
                            account_id: String::new(),
                        }
                    )
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn a_resend_answers_success_unless_the_checkpoint_refuses() {
        let fixture = Fixture::new().account(
            crate::Account::new("r", "p")
                .checkpoint(Checkpoint::new("2FA", "1"))
                .checkpoint(Checkpoint::new("OTP", "2").resend_refused()),
        );
        let mut state = State::new(fixture, limits());
        let Reply::Checkpoint(id, _) = connect(&mut state, "r", "p", 0) else {
            panic!()
        };
        let resend = |state: &mut State| {
            state.handle(
                &Operation::Resend {
                    provider: Provider::Messenger,
                    account_id: id.as_str().into(),
                },
                1,
                None,
            )
        };
        assert_eq!(
            resend(&mut state),
            Decision::Reply(Reply::CheckpointResend {
                account_id: id,
                success: true
            })
        );
        let _ = solve(&mut state, id, "1", 1);
        assert_eq!(
            resend(&mut state),
            Decision::Reply(Reply::CheckpointResend {
                account_id: id,
                success: false
            })
        );
    }

    #[test]
    fn a_connected_account_is_connecting_then_settles() {
        let fixture = Fixture::new()
            .account(crate::Account::new("ok", "p"))
            .account(crate::Account::new("stale", "p").source_status(SourceStatus::Credentials));
        let mut state = State::new(fixture, limits());
        let Reply::AccountCreated(ok) = connect(&mut state, "ok", "p", 1000) else {
            panic!()
        };
        let Reply::AccountCreated(stale) = connect(&mut state, "stale", "p", 1000) else {
            panic!()
        };
        assert_eq!(
            state.account_status(ok.as_str(), 1199),
            Some(SourceStatus::Connecting)
        );
        assert_eq!(state.account_status(ok.as_str(), 1200), Some(SourceStatus::Ok));
        assert_eq!(
            state.account_status(stale.as_str(), 1200),
            Some(SourceStatus::Credentials)
        );
        assert_eq!(state.account_status("0000000000000000000000", 1200), None);
        assert_eq!(state.account("nope", 0).status(), 404);
    }

    #[test]
    fn a_targeted_fault_applies_to_its_kind_of_request_only() {
        let fixture = Fixture::new().account(crate::Account::new("a", "p").checkpoint(
            Checkpoint::new("2FA", "1").fault(Fault::new().force_status(403).on(FaultTarget::Resend)),
        ));
        let mut state = State::new(fixture, limits());
        let Reply::Checkpoint(id, _) = connect(&mut state, "a", "p", 0) else {
            panic!()
        };
        let solve_op = Operation::Solve {
            provider: Provider::Messenger,
            account_id: id.as_str().into(),
            code: "1".into(),
        };
        let resend_op = Operation::Resend {
            provider: Provider::Messenger,
            account_id: id.as_str().into(),
        };
        assert!(state.take_fault(&solve_op, 0).is_none());
        assert_eq!(
            state.take_fault(&resend_op, 0).and_then(|f| f.forced_status()),
            Some(403)
        );
    }
}

//! The accounts the simulator knows, their checkpoints and their injected faults.
//!
//! A [`Fixture`] is read from the JSON format of `api-contract.md` ([`Fixture::from_json`],
//! [`Fixture::from_file`]) or built in Rust ([`Fixture::new`], [`Account`], [`Checkpoint`],
//! [`Fault`]). Parsing is strict: an unknown field is an error, so a typo in a fixture
//! fails loudly instead of silently doing nothing.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object that keeps its fields in insertion order when serialized.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct WireObject(pub(crate) Vec<(String, Value)>);

impl WireObject {
    fn insert(&mut self, key: String, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The value of a field.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl Serialize for WireObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The code that asks for an approval in the provider's app instead of a typed code.
pub const IN_APP_VALIDATION: &str = "in_app_validation";

/// The code that asks for another checkpoint method (Unipile).
pub const TRY_ANOTHER_WAY: &str = "TRY_ANOTHER_WAY";

/// The largest body `oversized_body_bytes` may ask for (1 GiB).
pub const MAX_OVERSIZED_BODY_BYTES: u64 = 1 << 30;

/// The fixture of `api-contract.md`: alice connects at once, bob has a 2FA code, carol
/// approves in the app after 1.5 s, dave has a 2FA code then an OTP.
pub const DEMO_JSON: &str = r#"{
  "accounts": [
    {"username": "alice", "password": "pw-a", "checkpoints": []},
    {"username": "bob", "password": "pw-b", "checkpoints": [{"type": "2FA", "code": "123456"}]},
    {"username": "carol", "password": "pw-c",
     "checkpoints": [{"type": "2FA", "code": "in_app_validation", "approve_after_ms": 1500}]},
    {"username": "dave", "password": "pw-d",
     "checkpoints": [{"type": "2FA", "code": "111111"}, {"type": "OTP", "code": "222222"}]}
  ]
}
"#;

macro_rules! fault_of {
    ($w:expr) => {
        RawFault {
            delay_ms: $w.delay_ms,
            force_status: $w.force_status,
            force_type: $w.force_type,
            non_json_body: $w.non_json_body,
            close_mid_answer: $w.close_mid_answer,
            close_without_answer: $w.close_without_answer,
            oversized_body_bytes: $w.oversized_body_bytes,
            redirect_to: $w.redirect_to,
            times: $w.times,
        }
    };
}

/// A provider named by the `provider` field of every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// `MESSENGER`
    Messenger,
    /// `LINKEDIN`
    Linkedin,
    /// `INSTAGRAM`
    Instagram,
    /// `TWITTER`
    Twitter,
}

impl Provider {
    /// Every provider the simulator accepts.
    pub const ALL: [Provider; 4] = [
        Provider::Messenger,
        Provider::Linkedin,
        Provider::Instagram,
        Provider::Twitter,
    ];

    /// The name written on the wire, e.g. `"MESSENGER"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Messenger => "MESSENGER",
            Provider::Linkedin => "LINKEDIN",
            Provider::Instagram => "INSTAGRAM",
            Provider::Twitter => "TWITTER",
        }
    }

    /// Reads a wire name (exact, upper case); `None` for anything else.
    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a fixture could not be read or is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// The fixture file could not be read.
    #[error("cannot read fixture file {path}: {source}")]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON of the fixture's shape (includes unknown fields, with line and column).
    #[error("fixture is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON has the right shape but a value is not usable.
    #[error("fixture is not valid at {at}: {message}")]
    Invalid {
        /// Where, e.g. `accounts[1].checkpoints[0].force_status`.
        at: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(at: impl Into<String>, message: impl Into<String>) -> FixtureError {
    FixtureError::Invalid {
        at: at.into(),
        message: message.into(),
    }
}

/// The accounts a simulator knows.
///
/// ```
/// use auth_sim::{Account, Checkpoint, Fixture};
/// use std::time::Duration;
///
/// let fixture = Fixture::new()
///     .account(Account::new("alice", "pw-a"))
///     .account(Account::new("bob", "pw-b").checkpoint(Checkpoint::new("2FA", "123456")))
///     .account(
///         Account::new("carol", "pw-c")
///             .checkpoint(Checkpoint::in_app("2FA", Duration::from_millis(1500))),
///     );
/// assert_eq!(fixture.accounts().len(), 3);
/// // The same fixture as JSON, e.g. for `postpress-sim --accounts FILE`:
/// let again = Fixture::from_json(&fixture.to_json())?;
/// assert_eq!(again, fixture);
/// # Ok::<(), auth_sim::FixtureError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fixture {
    accounts: Vec<Account>,
}

impl Fixture {
    /// An empty fixture: every connect answers 401 `errors/invalid_credentials`.
    pub fn new() -> Fixture {
        Fixture::default()
    }

    /// The fixture of `api-contract.md` (see [`DEMO_JSON`]).
    pub fn demo() -> Fixture {
        // DEMO_JSON is a constant checked by a unit test; an empty fixture is the
        // (unreachable) fallback rather than a panic.
        Fixture::from_json(DEMO_JSON).unwrap_or_default()
    }

    /// Adds an account.
    #[must_use]
    pub fn account(mut self, account: Account) -> Fixture {
        self.accounts.push(account);
        self
    }

    /// The accounts, in order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Reads and checks the JSON fixture format of `api-contract.md`.
    pub fn from_json(text: &str) -> Result<Fixture, FixtureError> {
        let raw: RawFixture = serde_json::from_str(text)?;
        let fixture = Fixture {
            accounts: raw.accounts.into_iter().map(Account::from_raw).collect(),
        };
        fixture.validate()?;
        Ok(fixture)
    }

    /// Reads and checks a JSON fixture file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Fixture, FixtureError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Fixture::from_json(&text)
    }

    /// Writes the fixture as JSON that [`Fixture::from_json`] reads back.
    pub fn to_json(&self) -> String {
        let raw = RawFixture {
            accounts: self.accounts.iter().map(Account::to_raw).collect(),
        };
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(&raw).unwrap_or_default()
    }

    /// Checks every rule that the JSON shape alone does not express: non-empty names and
    /// codes, no two accounts with the same username for the same provider, sensible
    /// fault fields. [`crate::SimulatorBuilder::start`] calls it too.
    pub fn validate(&self) -> Result<(), FixtureError> {
        let mut seen: HashSet<(String, Option<Provider>)> = HashSet::new();
        for (i, account) in self.accounts.iter().enumerate() {
            let at = format!("accounts[{i}]");
            if account.username.is_empty() {
                return Err(invalid(format!("{at}.username"), "must not be empty"));
            }
            let clashes = seen.iter().any(|(name, provider)| {
                name == &account.username
                    && (provider.is_none() || account.provider.is_none() || *provider == account.provider)
            });
            if clashes {
                return Err(invalid(
                    format!("{at}.username"),
                    format!("`{}` is declared twice for the same provider", account.username),
                ));
            }
            seen.insert((account.username.clone(), account.provider));
            account.fault.validate(&at)?;
            if account.checkpoints.len() > usize::from(u16::MAX) {
                return Err(invalid(format!("{at}.checkpoints"), "too many checkpoints"));
            }
            for (j, checkpoint) in account.checkpoints.iter().enumerate() {
                checkpoint.validate(&format!("{at}.checkpoints[{j}]"), 0)?;
            }
        }
        Ok(())
    }
}

/// One account: its credentials and the checkpoints a connect goes through.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    username: String,
    password: String,
    provider: Option<Provider>,
    checkpoints: Vec<Checkpoint>,
    fault: Fault,
}

impl Account {
    /// An account that connects at once (no checkpoint) for any provider.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Account {
        Account {
            username: username.into(),
            password: password.into(),
            provider: None,
            checkpoints: Vec::new(),
            fault: Fault::default(),
        }
    }

    /// Restricts the account to one provider (by default it answers for every provider).
    #[must_use]
    pub fn provider(mut self, provider: Provider) -> Account {
        self.provider = Some(provider);
        self
    }

    /// Appends a checkpoint: checkpoints are answered in turn, the last one connects.
    #[must_use]
    pub fn checkpoint(mut self, checkpoint: Checkpoint) -> Account {
        self.checkpoints.push(checkpoint);
        self
    }

    /// Injects a fault into the answers to connect and reconnect requests for this account.
    #[must_use]
    pub fn fault(mut self, fault: Fault) -> Account {
        self.fault = fault;
        self
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The provider it is restricted to, if any.
    pub fn provider_restriction(&self) -> Option<Provider> {
        self.provider
    }

    /// The checkpoints, in order.
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }

    /// The account-level fault (empty when none).
    pub fn account_fault(&self) -> &Fault {
        &self.fault
    }

    fn from_raw(raw: RawAccount) -> Account {
        Account {
            username: raw.username,
            password: raw.password,
            provider: raw.provider,
            fault: Fault::from_raw(fault_of!(raw)),
            checkpoints: raw.checkpoints.into_iter().map(Checkpoint::from_raw).collect(),
        }
    }

    fn to_raw(&self) -> RawAccount {
        let f = self.fault.to_raw();
        RawAccount {
            username: self.username.clone(),
            password: self.password.clone(),
            provider: self.provider,
            checkpoints: self.checkpoints.iter().map(Checkpoint::to_raw).collect(),
            delay_ms: f.delay_ms,
            force_status: f.force_status,
            force_type: f.force_type,
            non_json_body: f.non_json_body,
            close_mid_answer: f.close_mid_answer,
            close_without_answer: f.close_without_answer,
            oversized_body_bytes: f.oversized_body_bytes,
            redirect_to: f.redirect_to,
            times: f.times,
        }
    }
}

/// One option of a `CONTRACT_CHOOSER` checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractOption {
    /// The contract's id: the code that solves the checkpoint when it is chosen.
    pub id: String,
    /// The contract's name, shown to the user.
    pub name: String,
}

/// One checkpoint of an account: the `type` answered in the 202, the code that solves it,
/// the fields echoed into the 202's `checkpoint` object, and optional faults.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    kind: String,
    code: String,
    approve_after: Option<Duration>,
    source: Option<String>,
    public_key: Option<String>,
    data: Option<String>,
    qrcode: Option<String>,
    contract_options: Option<Vec<ContractOption>>,
    extra: Map<String, Value>,
    another_way: Option<Box<Checkpoint>>,
    fault: Fault,
}

/// Names that `extra` may not use: they are the checkpoint's own fields.
const RESERVED_CHECKPOINT_FIELDS: [&str; 6] = [
    "type",
    "source",
    "public_key",
    "data",
    "qrcode",
    "contract_options",
];

impl Checkpoint {
    /// A checkpoint of `kind` (`2FA`, `OTP`, … or any new type) solved by `code`.
    pub fn new(kind: impl Into<String>, code: impl Into<String>) -> Checkpoint {
        Checkpoint {
            kind: kind.into(),
            code: code.into(),
            approve_after: None,
            source: None,
            public_key: None,
            data: None,
            qrcode: None,
            contract_options: None,
            extra: Map::new(),
            another_way: None,
            fault: Fault::default(),
        }
    }

    /// A checkpoint solved by approving in the app: a solve with `in_app_validation` is
    /// held open until `approve_after` has passed, then answered as solved.
    pub fn in_app(kind: impl Into<String>, approve_after: Duration) -> Checkpoint {
        Checkpoint::new(kind, IN_APP_VALIDATION).approve_after(approve_after)
    }

    /// Also accepts `in_app_validation`, approved `approve_after` after the first such solve.
    #[must_use]
    pub fn approve_after(mut self, approve_after: Duration) -> Checkpoint {
        self.approve_after = Some(approve_after);
        self
    }

    /// Echoes `source` (`SMS`, `APP`) in the 202.
    #[must_use]
    pub fn source(mut self, source: impl Into<String>) -> Checkpoint {
        self.source = Some(source.into());
        self
    }

    /// Echoes `public_key` (CAPTCHA) in the 202.
    #[must_use]
    pub fn public_key(mut self, public_key: impl Into<String>) -> Checkpoint {
        self.public_key = Some(public_key.into());
        self
    }

    /// Echoes `data` (CAPTCHA) in the 202.
    #[must_use]
    pub fn data(mut self, data: impl Into<String>) -> Checkpoint {
        self.data = Some(data.into());
        self
    }

    /// Echoes `qrcode` (QRCODE) in the 202.
    #[must_use]
    pub fn qrcode(mut self, qrcode: impl Into<String>) -> Checkpoint {
        self.qrcode = Some(qrcode.into());
        self
    }

    /// Adds one entry to `contract_options` (CONTRACT_CHOOSER) in the 202.
    #[must_use]
    pub fn contract_option(mut self, id: impl Into<String>, name: impl Into<String>) -> Checkpoint {
        self.contract_options
            .get_or_insert_with(Vec::new)
            .push(ContractOption {
                id: id.into(),
                name: name.into(),
            });
        self
    }

    /// Echoes any other field in the 202's `checkpoint` object (for new checkpoint types).
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Checkpoint {
        self.extra.insert(key.into(), value);
        self
    }

    /// The checkpoint a `TRY_ANOTHER_WAY` solve switches to (at the same place in the chain).
    #[must_use]
    pub fn another_way(mut self, checkpoint: Checkpoint) -> Checkpoint {
        self.another_way = Some(Box::new(checkpoint));
        self
    }

    /// Injects a fault into the answers to solve and resend requests against this checkpoint.
    #[must_use]
    pub fn fault(mut self, fault: Fault) -> Checkpoint {
        self.fault = fault;
        self
    }

    /// The checkpoint's `type`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The code that solves it.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// How long an `in_app_validation` solve is held before it is approved, if the
    /// checkpoint accepts in-app approval with a delay.
    pub fn approve_after_duration(&self) -> Option<Duration> {
        self.approve_after
    }

    /// The checkpoint `TRY_ANOTHER_WAY` switches to, if any.
    pub fn alternative(&self) -> Option<&Checkpoint> {
        self.another_way.as_deref()
    }

    /// The checkpoint-level fault (empty when none).
    pub fn checkpoint_fault(&self) -> &Fault {
        &self.fault
    }

    /// Whether `in_app_validation` is accepted, and after how long it is approved.
    pub(crate) fn in_app_delay(&self) -> Option<Duration> {
        match self.approve_after {
            Some(after) => Some(after),
            None if self.code == IN_APP_VALIDATION => Some(Duration::ZERO),
            None => None,
        }
    }

    /// The `checkpoint` object of the 202, `type` first.
    pub(crate) fn wire_object(&self) -> WireObject {
        let mut object = WireObject(Vec::new());
        object.insert("type".to_owned(), Value::String(self.kind.clone()));
        let optional = [
            ("source", &self.source),
            ("public_key", &self.public_key),
            ("data", &self.data),
            ("qrcode", &self.qrcode),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                object.insert(name.to_owned(), Value::String(value.clone()));
            }
        }
        if let Some(options) = &self.contract_options {
            let list = options
                .iter()
                .map(|o| {
                    let mut entry = Map::new();
                    entry.insert("id".to_owned(), Value::String(o.id.clone()));
                    entry.insert("name".to_owned(), Value::String(o.name.clone()));
                    Value::Object(entry)
                })
                .collect();
            object.insert("contract_options".to_owned(), Value::Array(list));
        }
        for (key, value) in &self.extra {
            object.insert(key.clone(), value.clone());
        }
        object
    }

    fn validate(&self, at: &str, depth: usize) -> Result<(), FixtureError> {
        if self.kind.is_empty() {
            return Err(invalid(format!("{at}.type"), "must not be empty"));
        }
        if self.code.is_empty() {
            return Err(invalid(format!("{at}.code"), "must not be empty"));
        }
        if self.code == TRY_ANOTHER_WAY {
            return Err(invalid(
                format!("{at}.code"),
                "TRY_ANOTHER_WAY asks for another method; it cannot solve a checkpoint",
            ));
        }
        if let Some(key) = self
            .extra
            .keys()
            .find(|k| RESERVED_CHECKPOINT_FIELDS.contains(&k.as_str()))
        {
            return Err(invalid(
                format!("{at}.extra.{key}"),
                "is a checkpoint field of its own; set it directly",
            ));
        }
        self.fault.validate(at)?;
        if let Some(alternative) = &self.another_way {
            if depth >= usize::from(u8::MAX) - 1 {
                return Err(invalid(format!("{at}.another_way"), "nested too deeply"));
            }
            alternative.validate(&format!("{at}.another_way"), depth + 1)?;
        }
        Ok(())
    }

    fn from_raw(raw: RawCheckpoint) -> Checkpoint {
        Checkpoint {
            kind: raw.kind,
            code: raw.code,
            approve_after: raw.approve_after_ms.map(Duration::from_millis),
            source: raw.source,
            public_key: raw.public_key,
            data: raw.data,
            qrcode: raw.qrcode,
            contract_options: raw.contract_options,
            extra: raw.extra.unwrap_or_default(),
            fault: Fault::from_raw(fault_of!(raw)),
            another_way: raw.another_way.map(|b| Box::new(Checkpoint::from_raw(*b))),
        }
    }

    fn to_raw(&self) -> RawCheckpoint {
        let f = self.fault.to_raw();
        RawCheckpoint {
            kind: self.kind.clone(),
            code: self.code.clone(),
            approve_after_ms: self.approve_after.map(duration_ms),
            source: self.source.clone(),
            public_key: self.public_key.clone(),
            data: self.data.clone(),
            qrcode: self.qrcode.clone(),
            contract_options: self.contract_options.clone(),
            extra: (!self.extra.is_empty()).then(|| self.extra.clone()),
            another_way: self.another_way.as_ref().map(|c| Box::new(c.to_raw())),
            delay_ms: f.delay_ms,
            force_status: f.force_status,
            force_type: f.force_type,
            non_json_body: f.non_json_body,
            close_mid_answer: f.close_mid_answer,
            close_without_answer: f.close_without_answer,
            oversized_body_bytes: f.oversized_body_bytes,
            redirect_to: f.redirect_to,
            times: f.times,
        }
    }
}

/// Faults injected into some answers, for testing a client's failure paths.
///
/// On an [`Account`] a fault applies to the connect and reconnect requests naming that
/// account; on a [`Checkpoint`] it applies to the solve and resend requests made while that
/// checkpoint is the intent's current one. In JSON, the fields sit directly on the account
/// or checkpoint object (`"delay_ms": 500`, …).
///
/// Order of effects: `delay_ms` first (wall-clock time), then `close_without_answer`,
/// `redirect_to`, `force_status`, and otherwise the normal answer; the body fields
/// (`non_json_body`, `oversized_body_bytes`, `close_mid_answer`) then change how that
/// answer is written. A forced status changes nothing in the simulator's state, except
/// 500 and 408, which end the intent (every later request against it answers 400).
/// With the body fields, the request *is* processed (an account may be connected even
/// though the client could not read the answer), as with a real network failure.
///
/// ```
/// use auth_sim::Fault;
/// use std::time::Duration;
/// let fault = Fault::new().delay(Duration::from_millis(200)).force_status(503).times(1);
/// assert_eq!(fault.forced_status(), Some(503));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    delay: Option<Duration>,
    force_status: Option<u16>,
    force_type: Option<String>,
    non_json_body: bool,
    close_mid_answer: bool,
    close_without_answer: bool,
    oversized_body_bytes: Option<u64>,
    redirect_to: Option<String>,
    times: Option<u32>,
}

impl Fault {
    /// No fault.
    pub fn new() -> Fault {
        Fault::default()
    }

    /// Waits this long (real time, whatever the intent clock) before answering.
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Fault {
        self.delay = Some(delay);
        self
    }

    /// Answers this status with the contract's error body for it (see [`Fault::force_type`]).
    #[must_use]
    pub fn force_status(mut self, status: u16) -> Fault {
        self.force_status = Some(status);
        self
    }

    /// The error `type` of the forced status (default: the contract's type for that status).
    #[must_use]
    pub fn force_type(mut self, error_type: impl Into<String>) -> Fault {
        self.force_type = Some(error_type.into());
        self
    }

    /// Answers `<html>…</html>` (not JSON) while still saying `content-type: application/json`.
    #[must_use]
    pub fn non_json_body(mut self) -> Fault {
        self.non_json_body = true;
        self
    }

    /// Declares the whole body's `content-length`, sends part of it, then closes the connection.
    #[must_use]
    pub fn close_mid_answer(mut self) -> Fault {
        self.close_mid_answer = true;
        self
    }

    /// Closes the connection without writing any answer.
    #[must_use]
    pub fn close_without_answer(mut self) -> Fault {
        self.close_without_answer = true;
        self
    }

    /// Pads the normal JSON answer with a `"padding"` field so the body is `bytes` long.
    #[must_use]
    pub fn oversized_body(mut self, bytes: u64) -> Fault {
        self.oversized_body_bytes = Some(bytes);
        self
    }

    /// Answers 307 with `Location: url` (or the forced status, if it is a 3xx).
    #[must_use]
    pub fn redirect_to(mut self, url: impl Into<String>) -> Fault {
        self.redirect_to = Some(url.into());
        self
    }

    /// Applies the fault to the first `times` matching requests only (default: all of them).
    #[must_use]
    pub fn times(mut self, times: u32) -> Fault {
        self.times = Some(times);
        self
    }

    /// Whether the fault does anything.
    pub fn is_empty(&self) -> bool {
        Fault {
            times: None,
            ..self.clone()
        } == Fault::default()
    }

    /// The delay before answering.
    pub fn delay_duration(&self) -> Option<Duration> {
        self.delay
    }

    /// The forced status.
    pub fn forced_status(&self) -> Option<u16> {
        self.force_status
    }

    /// The forced error type.
    pub fn forced_type(&self) -> Option<&str> {
        self.force_type.as_deref()
    }

    /// Whether the body is replaced by non-JSON text.
    pub fn is_non_json_body(&self) -> bool {
        self.non_json_body
    }

    /// Whether the connection is closed mid-answer.
    pub fn is_close_mid_answer(&self) -> bool {
        self.close_mid_answer
    }

    /// Whether the connection is closed without an answer.
    pub fn is_close_without_answer(&self) -> bool {
        self.close_without_answer
    }

    /// The padded body size.
    pub fn oversized_body_bytes(&self) -> Option<u64> {
        self.oversized_body_bytes
    }

    /// The redirect target.
    pub fn redirect_target(&self) -> Option<&str> {
        self.redirect_to.as_deref()
    }

    /// How many requests the fault applies to (`None`: all).
    pub fn times_limit(&self) -> Option<u32> {
        self.times
    }

    fn validate(&self, at: &str) -> Result<(), FixtureError> {
        if let Some(status) = self.force_status {
            if !(300..=599).contains(&status) {
                return Err(invalid(
                    format!("{at}.force_status"),
                    format!("{status} is not a redirect or error status (300..=599)"),
                ));
            }
            if self.redirect_to.is_some() && !(300..=399).contains(&status) {
                return Err(invalid(
                    format!("{at}.force_status"),
                    "with redirect_to, force_status must be a 3xx status",
                ));
            }
        }
        if self.force_type.is_some() && self.force_status.is_none() {
            return Err(invalid(format!("{at}.force_type"), "needs force_status"));
        }
        if let Some(url) = &self.redirect_to
            && (url.is_empty() || url.contains(['\r', '\n']))
        {
            return Err(invalid(
                format!("{at}.redirect_to"),
                "must be a non-empty URL on one line",
            ));
        }
        if self.times == Some(0) {
            return Err(invalid(
                format!("{at}.times"),
                "must be at least 1 (omit it for always)",
            ));
        }
        if let Some(bytes) = self.oversized_body_bytes
            && bytes > MAX_OVERSIZED_BODY_BYTES
        {
            return Err(invalid(
                format!("{at}.oversized_body_bytes"),
                format!("at most {MAX_OVERSIZED_BODY_BYTES}"),
            ));
        }
        let body_faults = [
            ("non_json_body", self.non_json_body),
            ("close_mid_answer", self.close_mid_answer),
            ("close_without_answer", self.close_without_answer),
            ("oversized_body_bytes", self.oversized_body_bytes.is_some()),
            ("redirect_to", self.redirect_to.is_some()),
        ];
        let set: Vec<&str> = body_faults
            .iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect();
        if set.len() > 1 {
            return Err(invalid(
                at.to_owned(),
                format!("{} cannot be combined: pick one", set.join(" and ")),
            ));
        }
        Ok(())
    }

    fn from_raw(raw: RawFault) -> Fault {
        Fault {
            delay: raw.delay_ms.map(Duration::from_millis),
            force_status: raw.force_status,
            force_type: raw.force_type,
            non_json_body: raw.non_json_body.unwrap_or(false),
            close_mid_answer: raw.close_mid_answer.unwrap_or(false),
            close_without_answer: raw.close_without_answer.unwrap_or(false),
            oversized_body_bytes: raw.oversized_body_bytes,
            redirect_to: raw.redirect_to,
            times: raw.times,
        }
    }

    fn to_raw(&self) -> RawFault {
        RawFault {
            delay_ms: self.delay.map(duration_ms),
            force_status: self.force_status,
            force_type: self.force_type.clone(),
            non_json_body: self.non_json_body.then_some(true),
            close_mid_answer: self.close_mid_answer.then_some(true),
            close_without_answer: self.close_without_answer.then_some(true),
            oversized_body_bytes: self.oversized_body_bytes,
            redirect_to: self.redirect_to.clone(),
            times: self.times,
        }
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------------------
// The JSON shape. Fault fields sit flat on accounts and checkpoints; serde's `flatten`
// cannot be combined with `deny_unknown_fields`, so a macro spells them out on both.
// ---------------------------------------------------------------------------------------

impl Serialize for Provider {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Provider::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown provider `{name}`, expected one of MESSENGER, LINKEDIN, INSTAGRAM, TWITTER"
            ))
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixture {
    accounts: Vec<RawAccount>,
}

#[derive(Default)]
struct RawFault {
    delay_ms: Option<u64>,
    force_status: Option<u16>,
    force_type: Option<String>,
    non_json_body: Option<bool>,
    close_mid_answer: Option<bool>,
    close_without_answer: Option<bool>,
    oversized_body_bytes: Option<u64>,
    redirect_to: Option<String>,
    times: Option<u32>,
}

macro_rules! with_fault_fields {
    ($(#[$meta:meta])* struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        struct $name {
            $($body)*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            delay_ms: Option<u64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            force_status: Option<u16>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            force_type: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            non_json_body: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            close_mid_answer: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            close_without_answer: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            oversized_body_bytes: Option<u64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            redirect_to: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            times: Option<u32>,
        }
    };
}

with_fault_fields! {
    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawAccount {
        username: String,
        password: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<Provider>,
        #[serde(default)]
        checkpoints: Vec<RawCheckpoint>,
    }
}

with_fault_fields! {
    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawCheckpoint {
        #[serde(rename = "type")]
        kind: String,
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approve_after_ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qrcode: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contract_options: Option<Vec<ContractOption>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra: Option<Map<String, Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        another_way: Option<Box<RawCheckpoint>>,
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    #[test]
    fn demo_json_parses_to_the_contract_accounts() {
        let fixture = Fixture::from_json(DEMO_JSON).unwrap();
        let names: Vec<&str> = fixture.accounts().iter().map(Account::username).collect();
        assert_eq!(names, ["alice", "bob", "carol", "dave"]);
        assert_eq!(Fixture::demo(), fixture);
        let carol = &fixture.accounts()[2];
        assert_eq!(
            carol.checkpoints()[0].in_app_delay(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(fixture.accounts()[3].checkpoints()[1].kind(), "OTP");
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_name() {
        let err = Fixture::from_json(
            r#"{"accounts":[{"username":"a","password":"p","checkpoints":[{"type":"2FA","code":"1","delay":5}]}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `delay`"), "{err}");
        let err = Fixture::from_json(r#"{"accounts":[{"username":"a","pasword":"p"}]}"#).unwrap_err();
        assert!(err.to_string().contains("pasword"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_place() {
        let err = Fixture::from_json(
            r#"{"accounts":[{"username":"a","password":"p"},{"username":"b","password":"p","checkpoints":[{"type":"2FA","code":"1","force_status":99}]}]}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("accounts[1].checkpoints[0].force_status"),
            "{err}"
        );
        let err = Fixture::from_json(
            r#"{"accounts":[{"username":"a","password":"p"},{"username":"a","password":"q"}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("declared twice"), "{err}");
        let err = Fixture::from_json(
            r#"{"accounts":[{"username":"a","password":"p","non_json_body":true,"close_mid_answer":true}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot be combined"), "{err}");
        let err = Fixture::from_json(r#"{"accounts":[{"username":"a","password":"p","provider":"SKYPE"}]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown provider"), "{err}");
    }

    #[test]
    fn same_username_for_different_providers_is_allowed() {
        let fixture = Fixture::new()
            .account(Account::new("a", "p").provider(Provider::Messenger))
            .account(Account::new("a", "q").provider(Provider::Linkedin));
        assert!(fixture.validate().is_ok());
        let clash = fixture.account(Account::new("a", "r"));
        assert!(clash.validate().is_err());
    }

    #[test]
    fn builder_fixture_round_trips_through_json() {
        let fixture = Fixture::new().account(
            Account::new("erin", "pw-e")
                .provider(Provider::Linkedin)
                .fault(Fault::new().delay(Duration::from_millis(5)).times(2))
                .checkpoint(
                    Checkpoint::new("CAPTCHA", "solved")
                        .public_key("pk")
                        .data("blob")
                        .another_way(Checkpoint::new("OTP", "999").fault(Fault::new().non_json_body())),
                )
                .checkpoint(
                    Checkpoint::new("CONTRACT_CHOOSER", "c2")
                        .contract_option("c1", "One")
                        .contract_option("c2", "Two")
                        .extra("hint", Value::from(3)),
                ),
        );
        let json = fixture.to_json();
        assert!(json.contains("\"delay_ms\": 5"), "{json}");
        assert_eq!(Fixture::from_json(&json).unwrap(), fixture);
    }

    #[test]
    fn wire_object_echoes_the_extra_fields() {
        let cp = Checkpoint::new("CONTRACT_CHOOSER", "c1")
            .contract_option("c1", "One")
            .extra("future_field", Value::Bool(true));
        let object = serde_json::to_value(cp.wire_object()).unwrap();
        assert_eq!(
            object,
            serde_json::json!({"type":"CONTRACT_CHOOSER","contract_options":[{"id":"c1","name":"One"}],"future_field":true})
        );
        let bad = Checkpoint::new("X", "1").extra("type", Value::Null);
        assert!(
            Fixture::new()
                .account(Account::new("a", "p").checkpoint(bad))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn fault_is_empty_only_without_effects() {
        assert!(Fault::new().is_empty());
        assert!(Fault::new().times(3).is_empty());
        assert!(!Fault::new().non_json_body().is_empty());
    }
}

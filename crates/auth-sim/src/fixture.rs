//! The accounts the simulator knows, their checkpoints, their injected faults, and the
//! API keys it declares.
//!
//! A [`Fixture`] is read from the JSON format of `api-contract.md` ([`Fixture::from_json`],
//! [`Fixture::from_file`]) or built in Rust ([`Fixture::new`], [`Account`], [`Checkpoint`],
//! [`Fault`], [`ApiKey`]). Parsing is strict: an unknown field is an error, so a typo in a
//! fixture fails loudly instead of silently doing nothing.
//!
//! One file per concern: `account.rs`, `checkpoint.rs`, `fault.rs`, `api_key.rs` and
//! `provider.rs` hold the model; `json.rs` the file format; `rules.rs` the checks that the
//! format alone does not express.

mod account;
mod api_key;
mod checkpoint;
mod fault;
mod json;
mod provider;
mod rules;

use std::path::{Path, PathBuf};

pub use account::{Account, SourceStatus};
pub use api_key::{ApiKey, ApiKeyStatus};
pub(crate) use checkpoint::WireObject;
pub use checkpoint::{Checkpoint, ContractOption, IN_APP_VALIDATION, TRY_ANOTHER_WAY};
pub use fault::{Fault, FaultTarget, MAX_OVERSIZED_BODY_BYTES};
pub use provider::Provider;

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

/// The accounts a simulator knows, and optionally the API keys it declares.
///
/// ```
/// use auth_sim::{Account, ApiKey, Checkpoint, Fixture};
/// use std::time::Duration;
///
/// let fixture = Fixture::new()
///     .account(Account::new("alice", "pw-a"))
///     .account(Account::new("bob", "pw-b").checkpoint(Checkpoint::new("2FA", "123456")))
///     .account(
///         Account::new("carol", "pw-c")
///             .checkpoint(Checkpoint::in_app("2FA", Duration::from_millis(1500))),
///     )
///     .api_key(ApiKey::expired("pp_test_old"));
/// assert_eq!(fixture.accounts().len(), 3);
/// // The same fixture as JSON, e.g. for `postpress-sim --accounts FILE`:
/// let again = Fixture::from_json(&fixture.to_json())?;
/// assert_eq!(again, fixture);
/// # Ok::<(), auth_sim::FixtureError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fixture {
    accounts: Vec<Account>,
    api_keys: Vec<ApiKey>,
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

    /// Declares an API key: valid, expired or out of scope (JSON: `"api_keys"`). Keys
    /// declared here and with the builder's `api_key` methods are one set.
    #[must_use]
    pub fn api_key(mut self, key: ApiKey) -> Fixture {
        self.api_keys.push(key);
        self
    }

    /// The accounts, in order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The declared API keys, in order.
    pub fn api_keys(&self) -> &[ApiKey] {
        &self.api_keys
    }

    /// Reads and checks the JSON fixture format of `api-contract.md`.
    pub fn from_json(text: &str) -> Result<Fixture, FixtureError> {
        let fixture = json::read(text)?;
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
        json::write(self)
    }

    /// Checks every rule that the JSON shape alone does not express: non-empty names and
    /// codes, no two accounts with the same username for the same provider, API keys
    /// declared once, sensible fault fields. [`crate::SimulatorBuilder::start`] calls it too.
    pub fn validate(&self) -> Result<(), FixtureError> {
        rules::check(self)
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
    use std::time::Duration;

    use serde_json::Value;

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
        assert!(fixture.api_keys().is_empty());
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
        let err =
            Fixture::from_json(r#"{"accounts":[],"api_keys":[{"key":"k","state":"expired"}]}"#).unwrap_err();
        assert!(err.to_string().contains("state"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_place() {
        let bad = |json: &str, expected: &str| {
            let err = Fixture::from_json(json).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected:?} not in {err}");
        };
        bad(
            r#"{"accounts":[{"username":"a","password":"p"},{"username":"b","password":"p","checkpoints":[{"type":"2FA","code":"1","force_status":99}]}]}"#,
            "accounts[1].checkpoints[0].force_status",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p"},{"username":"a","password":"q"}]}"#,
            "declared twice",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","non_json_body":true,"close_mid_answer":true}]}"#,
            "cannot be combined",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","lose_answer":true,"close_without_answer":true}]}"#,
            "cannot be combined",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","lose_answer":true,"force_status":503}]}"#,
            "accounts[0].lose_answer",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","provider":"SKYPE"}]}"#,
            "unknown provider",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","retry_after_s":3}]}"#,
            "accounts[0].retry_after_s",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","force_status":503,"on":"solve"}]}"#,
            "accounts[0].on",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","checkpoints":[{"type":"2FA","code":"1","force_status":503,"on":"connect"}]}]}"#,
            "accounts[0].checkpoints[0].on",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","source_status":"FINE"}]}"#,
            "unknown source status",
        );
        bad(
            r#"{"accounts":[{"username":"a","password":"p","force_status":403,"force_type":""}]}"#,
            "accounts[0].force_type",
        );
    }

    #[test]
    fn api_keys_are_checked_without_repeating_them() {
        let err = Fixture::from_json(
            r#"{"api_keys":[{"key":"sk-secret-1"},{"key":"sk-secret-1","status":"expired"}],"accounts":[]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("api_keys[1].key"), "{err}");
        assert!(!err.contains("sk-secret-1"), "{err}");
        let err = Fixture::new()
            .api_key(ApiKey::valid("with space"))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("api_keys[0].key"), "{err}");
        let err = Fixture::from_json(r#"{"api_keys":[{"key":"k","status":"revoked"}],"accounts":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown API key status"), "{err}");
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
        let fixture = Fixture::new()
            .api_key(ApiKey::valid("k-1"))
            .api_key(ApiKey::expired("k-2"))
            .api_key(ApiKey::out_of_scope("k-3"))
            .account(
                Account::new("erin", "pw-e")
                    .provider(Provider::Linkedin)
                    .source_status(SourceStatus::Credentials)
                    .fault(
                        Fault::new()
                            .delay(Duration::from_millis(5))
                            .lose_answer()
                            .on(FaultTarget::Reconnect)
                            .times(2),
                    )
                    .checkpoint(
                        Checkpoint::new("CAPTCHA", "solved")
                            .public_key("pk")
                            .data("blob")
                            .resend_refused()
                            .another_way(Checkpoint::new("OTP", "999").fault(Fault::new().non_json_body())),
                    )
                    .checkpoint(
                        Checkpoint::new("CONTRACT_CHOOSER", "c2")
                            .contract_option("c1", "One")
                            .contract_option("c2", "Two")
                            .extra("hint", Value::from(3))
                            .fault(
                                Fault::new()
                                    .force_status(503)
                                    .force_type("errors/service_unavailable")
                                    .retry_after_secs(7)
                                    .on(FaultTarget::Resend),
                            ),
                    ),
            );
        let json = fixture.to_json();
        for field in [
            "\"delay_ms\": 5",
            "\"lose_answer\": true",
            "\"on\": \"reconnect\"",
            "\"source_status\": \"CREDENTIALS\"",
            "\"resend_refused\": true",
            "\"retry_after_s\": 7",
            "\"status\": \"out_of_scope\"",
        ] {
            assert!(json.contains(field), "{field} in {json}");
        }
        assert_eq!(Fixture::from_json(&json).unwrap(), fixture);
    }

    #[test]
    fn extra_may_not_shadow_a_checkpoint_field() {
        let bad = Checkpoint::new("X", "1").extra("type", Value::Null);
        let err = Fixture::new()
            .account(Account::new("a", "p").checkpoint(bad))
            .validate()
            .unwrap_err();
        assert!(
            err.to_string().contains("accounts[0].checkpoints[0].extra.type"),
            "{err}"
        );
    }
}

//! `arbitrary::Arbitrary` for the machine's inputs (feature `arbitrary`), for cargo-fuzz:
//! `fuzz_target!(|inputs: Vec<(u32, auth_core::Input)>| …)`.

use arbitrary::{Arbitrary, Result, Unstructured};

use crate::account::{AccountId, ConnectOptions, Credentials, Provider, Proxy};
use crate::answer::Answer;
use crate::checkpoint::Solution;
use crate::error::{TransportError, TransportErrorKind};
use crate::idempotency::IdempotencyKey;
use crate::input::{Command, Input};

/// Words of the contract, so fuzzed answers reach past the first `match`.
const WORDS: &[&str] = &[
    "AccountCreated",
    "AccountReconnected",
    "Checkpoint",
    "CheckpointResend",
    "Account",
    "2FA",
    "OTP",
    "IN_APP_VALIDATION",
    "errors/invalid_checkpoint_solution",
    "errors/invalid_credentials",
    "errors/missing_credentials",
    "errors/invalid_parameters",
    "errors/authentication_intent_error",
    "errors/account_restricted",
    "invalid_parameters",
];

impl<'a> Arbitrary<'a> for IdempotencyKey {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Self::from_random_bytes(u.arbitrary()?))
    }
}

impl<'a> Arbitrary<'a> for Answer {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let status = match u.int_in_range(0u8..=9)? {
            0 => 200,
            1 => 201,
            2 => 202,
            3 => 400,
            4 => 401,
            5 => 403,
            6 => 408,
            7 => 429,
            8 => 503,
            _ => u.int_in_range(0u16..=999)?,
        };
        let body = if u.arbitrary()? {
            let word = u.choose(WORDS)?;
            let other = u.choose(WORDS)?;
            let text: &str = u.arbitrary()?;
            match u.int_in_range(0u8..=3)? {
                0 => format!(r#"{{"object":"{word}","account_id":"{text}","checkpoint":{{"type":"{other}"}},"success":false}}"#),
                1 => format!(r#"{{"status":{status},"type":"{word}","title":"{text}","instance":"{other}"}}"#),
                2 => format!(r#"{{"error":{{"code":"{word}","message":"{text}","request_id":"{other}"}}}}"#),
                _ => format!(r#"{{"object":"Account","id":"{text}","sources":[{{"id":"s","status":"{word}"}}]}}"#),
            }
            .into_bytes()
        } else {
            u.arbitrary()?
        };
        let mut answer = Answer::new(status, body);
        if u.arbitrary()? {
            answer = answer.with_header("Retry-After", <&str>::arbitrary(u)?);
        }
        if u.arbitrary()? {
            answer = answer.with_header("x-request-id", <&str>::arbitrary(u)?);
        }
        Ok(answer)
    }
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0u8..=10)? {
            0 | 1 => {
                let provider = *u.choose(&Provider::ALL)?;
                let mut credentials =
                    Credentials::new(provider, <&str>::arbitrary(u)?, <&str>::arbitrary(u)?);
                if u.arbitrary()? {
                    let proxy =
                        Proxy::new(<&str>::arbitrary(u)?, u.arbitrary()?).auth("u", <&str>::arbitrary(u)?);
                    credentials = credentials.with_options(ConnectOptions::new().proxy(proxy));
                }
                let command = if u.arbitrary()? {
                    Command::Connect(credentials)
                } else {
                    Command::Reconnect {
                        account_id: AccountId::new(<&str>::arbitrary(u)?),
                        credentials,
                    }
                };
                Self::command(command, u.arbitrary()?)
            }
            2 | 3 => {
                let solution = match u.int_in_range(0u8..=3)? {
                    0 => Solution::InAppValidation,
                    1 => Solution::TryAnotherWay,
                    _ => Solution::code(<&str>::arbitrary(u)?),
                };
                Self::command(Command::Solve(solution), u.arbitrary()?)
            }
            4 => Self::command(Command::Resend, u.arbitrary()?),
            5 => Self::command(
                Command::AccountStatus(AccountId::new(<&str>::arbitrary(u)?)),
                u.arbitrary()?,
            ),
            6 | 7 => Self::Answer(u.arbitrary()?),
            8 => {
                let kinds = [
                    TransportErrorKind::Connect,
                    TransportErrorKind::Timeout,
                    TransportErrorKind::Tls,
                    TransportErrorKind::BodyTooLarge,
                    TransportErrorKind::Redirect,
                    TransportErrorKind::Io,
                    TransportErrorKind::Refused,
                    TransportErrorKind::Other,
                ];
                Self::Failed(TransportError::new(*u.choose(&kinds)?, "fuzzed"))
            }
            9 => Self::Abandoned,
            _ => Self::Tick,
        })
    }
}

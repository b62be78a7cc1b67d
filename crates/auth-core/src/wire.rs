//! The contract's JSON on the wire: request bodies out, answers in.
//!
//! Reading an answer never panics, whatever the bytes: anything outside the contract
//! becomes a [`MalformedAnswer`] with a bounded, scrubbed excerpt of the body.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::account::{AccountId, Provider};
use crate::checkpoint::Checkpoint;
use crate::error::{ApiError, ErrorType, MalformedAnswer};
use crate::http::{Answer, Body};
use crate::secret::{MAX_ESCAPE_GROWTH, scrub};

/// `POST /accounts` and `POST /accounts/{account_id}`.
#[derive(Serialize)]
pub(crate) struct ConnectBody<'a> {
    pub(crate) provider: Provider,
    pub(crate) username: &'a str,
    pub(crate) password: &'a str,
}

/// `POST /accounts/checkpoint`.
#[derive(Serialize)]
pub(crate) struct SolveBody<'a> {
    pub(crate) provider: Provider,
    pub(crate) account_id: &'a AccountId,
    pub(crate) code: &'a str,
}

/// `POST /accounts/checkpoint/resend`.
#[derive(Serialize)]
pub(crate) struct ResendBody<'a> {
    pub(crate) provider: Provider,
    pub(crate) account_id: &'a AccountId,
}

/// Serializes a request body. These bodies hold only strings, so this cannot fail.
pub(crate) fn json_body(body: &impl Serialize) -> Body {
    let mut bytes = Vec::with_capacity(128);
    // Serializing a struct of strings into a Vec has no failure case.
    let _ = serde_json::to_writer(&mut bytes, body);
    Body::new(bytes)
}

/// The path of `POST /accounts/{account_id}`, the id percent-encoded as one segment.
pub(crate) fn reconnect_path(account_id: &AccountId) -> String {
    let mut path = String::with_capacity(10 + account_id.as_str().len());
    path.push_str("/accounts/");
    for byte in account_id.as_str().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// An answer read in the contract's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `{"object":"AccountCreated","account_id":…}`.
    AccountCreated(AccountId),
    /// `{"object":"AccountReconnected","account_id":…}`.
    AccountReconnected(AccountId),
    /// `{"object":"Checkpoint","account_id":…,"checkpoint":{…}}`.
    Checkpoint {
        account_id: AccountId,
        checkpoint: Checkpoint,
    },
    /// `{"object":"CheckpointResend"}`.
    CheckpointResend,
    /// Any 4xx or 5xx.
    Error(ApiError),
}

/// The body of any success answer.
#[derive(Deserialize)]
struct SuccessBody {
    object: ObjectName,
    account_id: Option<AccountId>,
    checkpoint: Option<Checkpoint>,
}

/// The `object` of a success answer.
#[derive(Debug)]
enum ObjectName {
    AccountCreated,
    AccountReconnected,
    Checkpoint,
    CheckpointResend,
    Unknown,
}

impl<'de> Deserialize<'de> for ObjectName {
    /// Matches the name in place: no allocation, no enum machinery.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl serde::de::Visitor<'_> for NameVisitor {
            type Value = ObjectName;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the name of a success object")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<ObjectName, E> {
                Ok(match name {
                    "AccountCreated" => ObjectName::AccountCreated,
                    "AccountReconnected" => ObjectName::AccountReconnected,
                    "Checkpoint" => ObjectName::Checkpoint,
                    "CheckpointResend" => ObjectName::CheckpointResend,
                    _ => ObjectName::Unknown,
                })
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// Reads an answer, redacting `secrets` from any text of the server's it keeps.
pub(crate) fn read_answer(answer: &Answer, secrets: &[&str]) -> Result<Reply, MalformedAnswer> {
    let malformed = |reason: &str| malformed(answer, reason, secrets);
    match answer.status {
        200..=299 => {
            // serde reads a struct from a JSON array too (fields by position): the contract's
            // answers are objects, so anything else is refused before parsing.
            if answer.body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(malformed("the body is not a JSON object"));
            }
            let body: SuccessBody = serde_json::from_slice(&answer.body)
                .map_err(|e| malformed(&format!("the body is not a success object of the contract ({e})")))?;
            let object = body.object;
            let account_id = body.account_id.filter(|id| !id.as_str().is_empty());
            let account_id =
                || account_id.ok_or_else(|| malformed(&format!("{object:?} without an account_id")));
            match object {
                ObjectName::AccountCreated => Ok(Reply::AccountCreated(account_id()?)),
                ObjectName::AccountReconnected => Ok(Reply::AccountReconnected(account_id()?)),
                ObjectName::Checkpoint => {
                    let checkpoint = body
                        .checkpoint
                        .ok_or_else(|| malformed("Checkpoint without a checkpoint"))?;
                    Ok(Reply::Checkpoint {
                        account_id: account_id()?,
                        checkpoint,
                    })
                }
                ObjectName::CheckpointResend => Ok(Reply::CheckpointResend),
                ObjectName::Unknown => Err(malformed("unexpected object")),
            }
        }
        400..=599 => Ok(Reply::Error(read_error(answer, secrets))),
        status => Err(malformed(&format!("unexpected status {status}"))),
    }
}

/// Reads an error answer. Its status alone is meaningful, so a body that is not the
/// contract's JSON still gives an [`ApiError`], with an excerpt instead of its fields.
fn read_error(answer: &Answer, secrets: &[&str]) -> ApiError {
    let mut error = ApiError {
        status: answer.status,
        kind: None,
        title: None,
        detail: None,
        instance: None,
        excerpt: None,
    };
    match serde_json::from_slice::<Map<String, Value>>(&answer.body) {
        Ok(mut fields) => {
            // A known type is matched before any scrubbing: a one-letter secret must not
            // turn `errors/invalid_checkpoint_solution` into something unrecognisable.
            error.kind = match fields.remove("type") {
                Some(Value::String(name)) => Some(match ErrorType::from(name) {
                    ErrorType::Other(mut name) => {
                        scrub(&mut name, secrets);
                        ErrorType::Other(name)
                    }
                    known => known,
                }),
                _ => None,
            };
            let mut text = |name: &str| match fields.remove(name) {
                Some(Value::String(mut value)) => {
                    scrub(&mut value, secrets);
                    Some(value)
                }
                _ => None,
            };
            error.title = text("title");
            error.detail = text("detail");
            error.instance = text("instance");
        }
        Err(_) if answer.body.is_empty() => {}
        Err(_) => error.excerpt = Some(excerpt(&answer.body, secrets)),
    }
    error
}

fn malformed(answer: &Answer, reason: &str, secrets: &[&str]) -> MalformedAnswer {
    let mut reason = reason.to_owned();
    scrub(&mut reason, secrets);
    MalformedAnswer {
        status: answer.status,
        reason,
        excerpt: excerpt(&answer.body, secrets),
    }
}

/// The start of a body as text, at most [`MalformedAnswer::EXCERPT_LIMIT`] bytes, with
/// every secret redacted, including one that the cut would otherwise have left half-shown.
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    let limit = MalformedAnswer::EXCERPT_LIMIT;
    let longest_secret = secrets.iter().map(|s| s.len()).max().unwrap_or(0);
    let window = body
        .get(..limit.saturating_add(longest_secret.saturating_mul(MAX_ESCAPE_GROWTH)))
        .unwrap_or(body);
    let mut text = String::from_utf8_lossy(window).into_owned();
    scrub(&mut text, secrets);
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, body: &str) -> Result<Reply, MalformedAnswer> {
        read_answer(&Answer::new(status, body), &["hunter2"])
    }

    #[test]
    fn success_objects_of_the_contract() {
        assert_eq!(
            read(201, r#"{"object":"AccountCreated","account_id":"a1"}"#),
            Ok(Reply::AccountCreated(AccountId::new("a1")))
        );
        assert_eq!(
            read(200, r#"{"object":"AccountReconnected","account_id":"a1"}"#),
            Ok(Reply::AccountReconnected(AccountId::new("a1")))
        );
        assert_eq!(
            read(201, r#"{"object":"CheckpointResend"}"#),
            Ok(Reply::CheckpointResend)
        );
        assert!(matches!(
            read(
                202,
                r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"OTP"}}"#
            ),
            Ok(Reply::Checkpoint {
                checkpoint: Checkpoint::Otp,
                ..
            })
        ));
    }

    #[test]
    fn successes_outside_the_contract_are_malformed() {
        for body in [
            "",
            "<html>",
            r#"{"object":"AccountCreated"}"#,
            r#"{"object":"AccountCreated","account_id":""}"#,
            r#"{"object":"Checkpoint","account_id":"a1"}"#,
            r#"{"object":"Surprise","account_id":"a1"}"#,
            r#"{"object":"Checkpoint","account_id":"a1","checkpoint":"2FA"}"#,
            "[1,2,3]",
            r#"["AccountCreated","a1",null]"#,
        ] {
            assert!(read(201, body).is_err(), "{body}");
        }
        assert!(read(302, "").is_err());
        assert!(read(101, "").is_err());
    }

    #[test]
    fn errors_keep_status_type_title_and_detail() {
        let body = r#"{"status":401,"type":"errors/invalid_credentials","title":"Invalid","detail":"no"}"#;
        let Ok(Reply::Error(error)) = read(401, body) else {
            panic!("not an error reply");
        };
        assert_eq!(error.kind, Some(ErrorType::InvalidCredentials));
        assert_eq!(error.title.as_deref(), Some("Invalid"));
        assert_eq!(error.detail.as_deref(), Some("no"));
        assert_eq!(error.excerpt, None);
    }

    #[test]
    fn non_json_errors_keep_the_status_and_an_excerpt() {
        let Ok(Reply::Error(error)) = read(502, "<html>Bad Gateway</html>") else {
            panic!("not an error reply");
        };
        assert_eq!(error.status, 502);
        assert_eq!(error.kind, None);
        assert_eq!(error.excerpt.as_deref(), Some("<html>Bad Gateway</html>"));
    }

    #[test]
    fn a_short_secret_never_hides_a_known_error_type() {
        let body = r#"{"type":"errors/invalid_checkpoint_solution","title":"Wrong code"}"#;
        let Ok(Reply::Error(error)) = read_answer(&Answer::new(401, body), &["o", "p"]) else {
            panic!("not an error reply");
        };
        assert!(error.is_wrong_code());
        let body = r#"{"type":"errors/echo-pw"}"#;
        let Ok(Reply::Error(error)) = read_answer(&Answer::new(401, body), &["pw"]) else {
            panic!("not an error reply");
        };
        assert_eq!(
            error.kind,
            Some(ErrorType::Other("errors/echo-<redacted>".to_owned()))
        );
    }

    #[test]
    fn echoed_secrets_are_redacted_from_server_text() {
        let Ok(Reply::Error(error)) =
            read(401, r#"{"type":"errors/x","detail":"password hunter2 is wrong"}"#)
        else {
            panic!("not an error reply");
        };
        assert_eq!(error.detail.as_deref(), Some("password <redacted> is wrong"));
        let Err(malformed) = read(200, "echo: hunter2") else {
            panic!("not malformed");
        };
        assert!(!malformed.excerpt.contains("hunter2"));
    }

    #[test]
    fn excerpts_are_bounded_and_never_cut_a_secret_in_half() {
        let long = "é".repeat(1000);
        assert!(excerpt(long.as_bytes(), &[]).len() <= MalformedAnswer::EXCERPT_LIMIT);
        let mut body = "x".repeat(MalformedAnswer::EXCERPT_LIMIT - 3);
        body.push_str("hunter2");
        let text = excerpt(body.as_bytes(), &["hunter2"]);
        assert!(!text.contains("hun"), "{text}");
    }

    #[test]
    fn reconnect_paths_encode_the_id_as_one_segment() {
        assert_eq!(
            reconnect_path(&AccountId::new("abc-1_2.3~")),
            "/accounts/abc-1_2.3~"
        );
        assert_eq!(
            reconnect_path(&AccountId::new("a/b?c d")),
            "/accounts/a%2Fb%3Fc%20d"
        );
    }
}

//! The contract's JSON on the wire: request bodies out, answers in (both error envelopes).
//!
//! Reading an answer never panics, whatever the bytes: anything outside the contract
//! becomes a [`MalformedAnswer`] with a bounded, scrubbed excerpt of the body.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::account::{AccountId, ConnectOptions, Credentials, Provider, ProxyProtocol, SyncFrom};
use crate::answer::Answer;
use crate::checkpoint::Checkpoint;
use crate::error::{ApiError, ErrorType, MalformedAnswer};
use crate::request::Body;
use crate::retry::parse_retry_after;
use crate::secret::{MAX_ESCAPE_GROWTH, scrub};
use crate::status::AccountStatus;
use crate::time::UnixMillis;

/// `POST /accounts` and `POST /accounts/{account_id}`: the credentials and the optional
/// fields that are set.
#[derive(Serialize)]
struct ConnectBody<'a> {
    provider: Provider,
    username: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy: Option<ProxyBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sync_limit: Option<SyncLimitBody<'a>>,
}

#[derive(Serialize)]
struct ProxyBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<ProxyProtocol>,
    host: &'a str,
    port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
}

#[derive(Serialize)]
struct SyncLimitBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    chats: Option<&'a SyncFrom>,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<&'a SyncFrom>,
}

/// `POST /accounts/checkpoint`.
#[derive(Serialize)]
struct SolveBody<'a> {
    provider: Provider,
    account_id: &'a AccountId,
    code: &'a str,
}

/// `POST /accounts/checkpoint/resend`.
#[derive(Serialize)]
struct ResendBody<'a> {
    provider: Provider,
    account_id: &'a AccountId,
}

/// The body of a connect or reconnect.
pub(crate) fn connect_body(credentials: &Credentials) -> Body {
    let options: &ConnectOptions = credentials.options();
    json_body(&ConnectBody {
        provider: credentials.provider(),
        username: credentials.username(),
        password: credentials.password().expose_secret(),
        proxy: options.proxy.as_ref().map(|proxy| ProxyBody {
            protocol: proxy.protocol,
            host: &proxy.host,
            port: proxy.port,
            username: proxy.username.as_deref(),
            password: proxy.password.as_ref().map(|p| p.expose_secret()),
        }),
        country: options.country_code(),
        ip: options.ip,
        user_agent: options.user_agent.as_deref(),
        sync_limit: options.sync_limit.as_ref().map(|limit| SyncLimitBody {
            chats: limit.chats.as_ref(),
            messages: limit.messages.as_ref(),
        }),
    })
}

/// The body of a solve.
pub(crate) fn solve_body(provider: Provider, account_id: &AccountId, code: &str) -> Body {
    json_body(&SolveBody {
        provider,
        account_id,
        code,
    })
}

/// The body of a resend.
pub(crate) fn resend_body(provider: Provider, account_id: &AccountId) -> Body {
    json_body(&ResendBody { provider, account_id })
}

/// Serializes a request body. These bodies hold only strings and numbers, so this cannot fail.
fn json_body(body: &impl Serialize) -> Body {
    let mut bytes = Vec::with_capacity(128);
    // Serializing a struct of strings and numbers into a Vec has no failure case.
    let _ = serde_json::to_writer(&mut bytes, body);
    Body::new(bytes)
}

/// The path `/accounts/{account_id}` (reconnect, account status), the id percent-encoded as
/// one segment.
pub(crate) fn account_path(account_id: &AccountId) -> String {
    let mut path = String::with_capacity(10 + account_id.as_str().len());
    path.push_str("/accounts/");
    for byte in account_id.as_str().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            path.push('%');
            for nibble in [byte >> 4, byte & 0x0f] {
                path.push(char::from(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0')));
            }
        }
    }
    path
}

/// An answer read in the contract's terms: a success object, or an error in either envelope.
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
    /// `{"object":"CheckpointResend","account_id":…,"success":…}`; a missing `success`
    /// reads as `true` (the first edition's simulator and Unipile's examples leave it out).
    CheckpointResend {
        /// Whether the provider acknowledged the resend.
        success: bool,
    },
    /// `{"object":"Account",…}`.
    Account(Box<AccountStatus>),
    /// Any 4xx or 5xx, in either envelope (its [`ApiError::problem`] is not set yet). Boxed:
    /// the error is large and rare, the successes small and frequent.
    Error(Box<ApiError>),
}

impl Reply {
    /// The word the answer table matches: the success's `object` (`CheckpointResend` split
    /// by its `success`), or the error's `type`.
    pub(crate) fn word(&self) -> &str {
        match self {
            Self::AccountCreated(_) => "AccountCreated",
            Self::AccountReconnected(_) => "AccountReconnected",
            Self::Checkpoint { .. } => "Checkpoint",
            Self::CheckpointResend { success: true } => "CheckpointResend",
            Self::CheckpointResend { success: false } => "CheckpointResend(success:false)",
            Self::Account(_) => "Account",
            Self::Error(error) => error.kind.as_ref().map_or("", ErrorType::as_str),
        }
    }
}

/// The body of any success answer.
#[derive(Deserialize)]
struct SuccessBody {
    object: ObjectName,
    account_id: Option<AccountId>,
    checkpoint: Option<Checkpoint>,
    success: Option<bool>,
}

/// The `object` of a success answer.
#[derive(Debug)]
enum ObjectName {
    AccountCreated,
    AccountReconnected,
    Checkpoint,
    CheckpointResend,
    Account,
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
                    "Account" => ObjectName::Account,
                    _ => ObjectName::Unknown,
                })
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// Reads an answer at `now`, redacting `secrets` from any text of the server's it keeps.
pub(crate) fn read_answer(
    answer: &Answer,
    secrets: &[&str],
    now: UnixMillis,
) -> Result<Reply, MalformedAnswer> {
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
                    let mut checkpoint = body
                        .checkpoint
                        .ok_or_else(|| malformed("Checkpoint without a checkpoint"))?;
                    checkpoint.scrub(secrets);
                    Ok(Reply::Checkpoint {
                        account_id: account_id()?,
                        checkpoint,
                    })
                }
                ObjectName::CheckpointResend => Ok(Reply::CheckpointResend {
                    success: body.success.unwrap_or(true),
                }),
                ObjectName::Account => serde_json::from_slice::<AccountStatus>(&answer.body)
                    .ok()
                    .filter(|account| !account.account_id.as_str().is_empty())
                    .map(|account| Reply::Account(Box::new(account)))
                    .ok_or_else(|| malformed("an Account without its id and sources")),
                ObjectName::Unknown => Err(malformed("unexpected object")),
            }
        }
        400..=599 => Ok(Reply::Error(Box::new(read_error(answer, secrets, now)))),
        status => Err(malformed(&format!("unexpected status {status}"))),
    }
}

/// Reads an error answer in either envelope the docs describe: the endpoint pages'
/// `{"status","type","title","detail","instance"}` or the quickstart's
/// `{"error":{"code","message","request_id"}}`. Its status alone is meaningful, so a body
/// that is neither still gives an [`ApiError`], with an excerpt instead of its fields.
fn read_error(answer: &Answer, secrets: &[&str], now: UnixMillis) -> ApiError {
    let mut error = ApiError::bare(answer.status);
    match serde_json::from_slice::<Map<String, Value>>(&answer.body) {
        Ok(mut fields) => {
            // The quickstart's envelope is the one without a top-level `type`: an endpoint
            // page's error may carry an `error` object of its own beside its fields.
            let quickstart = match fields.remove("error") {
                Some(Value::Object(inner)) if !fields.contains_key("type") => Some(inner),
                Some(other) => {
                    fields.insert("error".to_owned(), other);
                    None
                }
                None => None,
            };
            let (mut fields, type_field, title_field) = match quickstart {
                Some(inner) => (inner, "code", "message"),
                None => (fields, "type", "title"),
            };
            // A known type is matched before any scrubbing: a one-letter secret must not
            // turn `errors/invalid_checkpoint_solution` into something unrecognisable.
            error.kind = match fields.remove(type_field) {
                Some(Value::String(name)) => Some(match ErrorType::from_wire(&name) {
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
            error.title = text(title_field);
            error.detail = text("detail");
            error.request_id = text("request_id").or_else(|| text("instance"));
            if error.kind.is_none() && error.title.is_none() && error.detail.is_none() {
                error.excerpt = Some(excerpt(&answer.body, secrets));
            }
        }
        Err(_) if answer.body.is_empty() => {}
        Err(_) => error.excerpt = Some(excerpt(&answer.body, secrets)),
    }
    if error.request_id.is_none() {
        // Scrubbed, then cut: a cut first could leave part of a secret it split.
        error.request_id = answer
            .header("x-request-id")
            .map(|id| excerpt(id.as_bytes(), secrets));
    }
    error.retry_after = answer
        .header("retry-after")
        .and_then(|value| parse_retry_after(value, now));
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
        read_answer(&Answer::new(status, body), &["hunter2"], UnixMillis::EPOCH)
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
            read(
                200,
                r#"{"object":"CheckpointResend","account_id":"a1","success":true}"#
            ),
            Ok(Reply::CheckpointResend { success: true })
        );
        assert_eq!(
            read(
                200,
                r#"{"object":"CheckpointResend","account_id":"a1","success":false}"#
            ),
            Ok(Reply::CheckpointResend { success: false })
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
        let Ok(Reply::Error(error)) = read_answer(&Answer::new(401, body), &["o", "p"], UnixMillis::EPOCH)
        else {
            panic!("not an error reply");
        };
        assert_eq!(error.kind, Some(ErrorType::InvalidCheckpointSolution));
        let body = r#"{"type":"errors/echo-pw"}"#;
        let Ok(Reply::Error(error)) = read_answer(&Answer::new(401, body), &["pw"], UnixMillis::EPOCH) else {
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
    fn account_paths_encode_the_id_as_one_segment() {
        assert_eq!(
            account_path(&AccountId::new("abc-1_2.3~")),
            "/accounts/abc-1_2.3~"
        );
        assert_eq!(
            account_path(&AccountId::new("a/b?c d")),
            "/accounts/a%2Fb%3Fc%20d"
        );
    }

    #[test]
    fn both_error_envelopes_are_read_with_their_request_id() {
        let Ok(Reply::Error(error)) = read(
            400,
            r#"{"error":{"code":"invalid_parameters","message":"One or more parameters are invalid.","request_id":"0e1f3a8a"}}"#,
        ) else {
            panic!("not an error reply");
        };
        assert_eq!(error.kind, Some(ErrorType::InvalidParameters));
        assert_eq!(
            error.title.as_deref(),
            Some("One or more parameters are invalid.")
        );
        assert_eq!(error.request_id.as_deref(), Some("0e1f3a8a"));
        let Ok(Reply::Error(error)) = read(
            401,
            r#"{"status":401,"type":"errors/expired_credentials","title":"Expired","instance":"req-7"}"#,
        ) else {
            panic!("not an error reply");
        };
        assert_eq!(error.kind, Some(ErrorType::ExpiredCredentials));
        assert_eq!(error.request_id.as_deref(), Some("req-7"));
        let answer = Answer::new(503, "")
            .with_header("X-Request-Id", "req-h")
            .with_header("Retry-After", "3");
        let Ok(Reply::Error(error)) = read_answer(&answer, &[], UnixMillis::EPOCH) else {
            panic!("not an error reply");
        };
        assert_eq!(error.request_id.as_deref(), Some("req-h"));
        assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(3)));
    }

    #[test]
    fn an_account_is_read_with_its_sources() {
        let Ok(Reply::Account(account)) = read(
            200,
            r#"{"object":"Account","id":"a1","type":"MESSENGER","name":"Bob","created_at":"2025-01-01T00:00:00.000Z","sources":[{"id":"s1","status":"OK"}]}"#,
        ) else {
            panic!("not an account");
        };
        assert!(account.is_ok());
        assert!(read(200, r#"{"object":"Account"}"#).is_err());
    }
}

//! What the simulator answers, as data ([`Reply`]), and its JSON on the wire in either
//! error envelope ([`ErrorEnvelope`]).

use std::borrow::Cow;

use hyper::StatusCode;
use serde::Serialize;

use crate::error_types::code_of;
use crate::fixture::{Provider, SourceStatus, WireObject};
use crate::ids::AccountId;
use crate::request_id::RequestId;

/// The shape of every error body. postpress documents two (contract, "Error bodies: two
/// envelopes"); a client must read both, so the simulator can speak either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ErrorEnvelope {
    /// The endpoint pages' `{"status","type","title","detail","instance"}`, with the
    /// request id in `instance` (the default).
    #[default]
    Endpoint,
    /// The quickstart's `{"error":{"code","message","request_id"}}`, `code` being the
    /// type without its `errors/` prefix.
    Quickstart,
}

impl ErrorEnvelope {
    /// The name used by `postpress-sim --error-envelope`: `endpoint` or `quickstart`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorEnvelope::Endpoint => "endpoint",
            ErrorEnvelope::Quickstart => "quickstart",
        }
    }

    /// Reads `endpoint` or `quickstart`.
    pub fn parse(name: &str) -> Option<ErrorEnvelope> {
        [ErrorEnvelope::Endpoint, ErrorEnvelope::Quickstart]
            .into_iter()
            .find(|e| e.as_str() == name)
    }
}

/// A connected account as `GET /accounts/{id}` shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccountView {
    pub(crate) id: AccountId,
    pub(crate) provider: Provider,
    pub(crate) name: String,
    /// When it connected, on the simulator's clock.
    pub(crate) connected_at_ms: u64,
    pub(crate) status: SourceStatus,
}

/// What to answer (the server adds the request id and writes it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// 201 `{"object":"AccountCreated","account_id":…}`
    AccountCreated(AccountId),
    /// 201 `{"object":"AccountReconnected","account_id":…}`
    AccountReconnected(AccountId),
    /// 202 `{"object":"Checkpoint","account_id":…,"checkpoint":{…}}`
    Checkpoint(AccountId, WireObject),
    /// 200 `{"object":"CheckpointResend","account_id":…,"success":…}`
    CheckpointResend { account_id: AccountId, success: bool },
    /// 200 `{"object":"Account",…}`
    Account(Box<AccountView>),
    /// An error, in the configured envelope.
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
            Reply::AccountCreated(_) | Reply::AccountReconnected(_) => 201,
            Reply::Checkpoint(..) => 202,
            Reply::CheckpointResend { .. } | Reply::Account(_) => 200,
            Reply::Error { status, .. } => *status,
        }
    }

    /// The error type, for an error.
    #[cfg(test)]
    pub(crate) fn kind(&self) -> Option<&str> {
        match self {
            Reply::Error { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

/// What rendering needs besides the reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RenderContext {
    pub(crate) request_id: RequestId,
    pub(crate) envelope: ErrorEnvelope,
    /// Unix time (ms) when the simulator's clock read 0: turns clock readings into dates.
    pub(crate) epoch_unix_ms: u64,
}

#[derive(Serialize)]
struct EndpointError<'a> {
    status: u16,
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    detail: &'a str,
    instance: &'a str,
}

#[derive(Serialize)]
struct QuickstartError<'a> {
    error: QuickstartInner<'a>,
}

#[derive(Serialize)]
struct QuickstartInner<'a> {
    code: &'a str,
    message: &'a str,
    request_id: &'a str,
}

#[derive(Serialize)]
struct AccountBody<'a> {
    object: &'static str,
    account_id: &'a str,
}

#[derive(Serialize)]
struct CheckpointBody<'a> {
    object: &'static str,
    account_id: &'a str,
    checkpoint: &'a WireObject,
}

#[derive(Serialize)]
struct ResendBody<'a> {
    object: &'static str,
    account_id: &'a str,
    success: bool,
}

/// The contract's `Account` object, with what the Unipile SDK's schema for a `MESSENGER`
/// account also requires (`groups`, `connection_params.im`).
#[derive(Serialize)]
struct AccountObject<'a> {
    object: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    name: &'a str,
    created_at: &'a str,
    groups: [&'a str; 0],
    sources: [Source<'a>; 1],
    connection_params: ConnectionParams<'a>,
}

#[derive(Serialize)]
struct Source<'a> {
    id: &'a str,
    status: &'static str,
}

#[derive(Serialize)]
struct ConnectionParams<'a> {
    im: Im<'a>,
}

#[derive(Serialize)]
struct Im<'a> {
    id: &'a str,
    username: &'a str,
}

fn title(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The JSON body of a reply.
pub(crate) fn render(reply: &Reply, context: &RenderContext) -> Vec<u8> {
    let json = match reply {
        Reply::AccountCreated(id) => serde_json::to_vec(&AccountBody {
            object: "AccountCreated",
            account_id: id.as_str(),
        }),
        Reply::AccountReconnected(id) => serde_json::to_vec(&AccountBody {
            object: "AccountReconnected",
            account_id: id.as_str(),
        }),
        Reply::Checkpoint(id, checkpoint) => serde_json::to_vec(&CheckpointBody {
            object: "Checkpoint",
            account_id: id.as_str(),
            checkpoint,
        }),
        Reply::CheckpointResend { account_id, success } => serde_json::to_vec(&ResendBody {
            object: "CheckpointResend",
            account_id: account_id.as_str(),
            success: *success,
        }),
        Reply::Account(view) => {
            let created_at =
                crate::clock::iso8601_ms(context.epoch_unix_ms.saturating_add(view.connected_at_ms));
            let source_id = format!("{}_MESSAGING", view.id);
            serde_json::to_vec(&AccountObject {
                object: "Account",
                kind: view.provider.as_str(),
                id: view.id.as_str(),
                name: &view.name,
                created_at: &created_at,
                groups: [],
                sources: [Source {
                    id: &source_id,
                    status: view.status.as_str(),
                }],
                connection_params: ConnectionParams {
                    im: Im {
                        id: view.id.as_str(),
                        username: &view.name,
                    },
                },
            })
        }
        Reply::Error {
            status,
            kind,
            title: own_title,
            detail,
        } => {
            let id = context.request_id.text();
            match context.envelope {
                ErrorEnvelope::Endpoint => serde_json::to_vec(&EndpointError {
                    status: *status,
                    kind,
                    title: own_title.unwrap_or_else(|| title(*status)),
                    detail,
                    instance: id.as_str(),
                }),
                ErrorEnvelope::Quickstart => serde_json::to_vec(&QuickstartError {
                    error: QuickstartInner {
                        code: code_of(kind),
                        message: detail,
                        request_id: id.as_str(),
                    },
                }),
            }
        }
    };
    // Serializing strings and numbers cannot fail; an empty object is the fallback.
    json.unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error_types as kinds;
    use crate::request_id::RequestIds;
    use serde_json::{Value, json};

    fn context(envelope: ErrorEnvelope) -> RenderContext {
        RenderContext {
            request_id: RequestIds::new().next_id(),
            envelope,
            epoch_unix_ms: 1_767_225_599_999,
        }
    }

    #[test]
    fn error_bodies_have_either_envelope_with_the_request_id() {
        let reply = Reply::error(401, kinds::INVALID_CREDENTIALS, "nope");
        let endpoint = context(ErrorEnvelope::Endpoint);
        let value: Value = serde_json::from_slice(&render(&reply, &endpoint)).unwrap();
        let id = endpoint.request_id.to_string();
        assert_eq!(
            value,
            json!({"status":401,"type":"errors/invalid_credentials","title":"Unauthorized","detail":"nope","instance":id})
        );
        let quick = context(ErrorEnvelope::Quickstart);
        let value: Value = serde_json::from_slice(&render(&reply, &quick)).unwrap();
        let id = quick.request_id.to_string();
        assert_eq!(
            value,
            json!({"error":{"code":"invalid_credentials","message":"nope","request_id":id}})
        );
        let titled = Reply::error(400, kinds::AUTHENTICATION_INTENT_ERROR, "gone").with_title("Intent gone");
        let value: Value = serde_json::from_slice(&render(&titled, &endpoint)).unwrap();
        assert_eq!(value["title"], "Intent gone");
    }

    #[test]
    fn the_account_object_has_the_contract_fields() {
        let id = crate::ids::IdGenerator::new().next_id();
        let view = AccountView {
            id,
            provider: Provider::Messenger,
            name: "bob".into(),
            connected_at_ms: 1,
            status: SourceStatus::Connecting,
        };
        let value: Value = serde_json::from_slice(&render(
            &Reply::Account(Box::new(view)),
            &context(ErrorEnvelope::Endpoint),
        ))
        .unwrap();
        assert_eq!(
            value,
            json!({"object":"Account","type":"MESSENGER","id":id.as_str(),"name":"bob",
                   "created_at":"2026-01-01T00:00:00.000Z","groups":[],
                   "sources":[{"id":format!("{id}_MESSAGING"),"status":"CONNECTING"}],
                   "connection_params":{"im":{"id":id.as_str(),"username":"bob"}}})
        );
    }

    #[test]
    fn envelope_names_read_back() {
        for envelope in [ErrorEnvelope::Endpoint, ErrorEnvelope::Quickstart] {
            assert_eq!(ErrorEnvelope::parse(envelope.as_str()), Some(envelope));
        }
        assert_eq!(ErrorEnvelope::parse("problem"), None);
    }
}

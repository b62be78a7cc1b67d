//! The request side of the wire: routes in both path styles, the `Idempotency-Key` header,
//! and bodies parsed and checked into an [`Operation`].

use std::net::Ipv4Addr;

use hyper::Method;
use hyper::header::HeaderMap;
use serde_json::{Map, Value};

use crate::error_types as kinds;
use crate::fixture::Provider;
use crate::idempotency::MAX_KEY_BYTES;
use crate::reply::Reply;
use crate::state::Operation;

/// A POST endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PostRoute {
    Connect,
    Solve,
    Resend,
    Reconnect(String),
}

impl PostRoute {
    /// The endpoint whatever the path style: part of an idempotent request's fingerprint.
    pub(crate) fn endpoint(&self) -> Vec<u8> {
        match self {
            PostRoute::Connect => b"POST /accounts".to_vec(),
            PostRoute::Solve => b"POST /accounts/checkpoint".to_vec(),
            PostRoute::Resend => b"POST /accounts/checkpoint/resend".to_vec(),
            PostRoute::Reconnect(id) => format!("POST /accounts/{id}").into_bytes(),
        }
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Post(PostRoute),
    /// `GET /accounts/{id}`
    GetAccount(String),
}

/// A request refused by its path or method: the answer, and the `Allow` header of a 405.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refused {
    pub(crate) reply: Reply,
    pub(crate) allow: Option<&'static str>,
}

/// Both path styles: `/v1/…` (postpress) and `/api/v1/…` (Unipile). The query (`?port=`,
/// anything else) is not part of `path` and plays no part.
pub(crate) fn route(method: &Method, path: &str) -> Result<Route, Refused> {
    let rest = path
        .strip_prefix("/api/v1/")
        .or_else(|| path.strip_prefix("/v1/"));
    let found = match rest {
        Some("accounts") => Some(PostRoute::Connect),
        Some("accounts/checkpoint") => Some(PostRoute::Solve),
        Some("accounts/checkpoint/resend") => Some(PostRoute::Resend),
        Some(other) => other
            .strip_prefix("accounts/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .map(|id| PostRoute::Reconnect(id.to_owned())),
        None => None,
    };
    let Some(found) = found else {
        return Err(Refused {
            reply: Reply::error(
                404,
                kinds::RESOURCE_NOT_FOUND,
                format!("no route for {path}; the API lives under /v1/accounts or /api/v1/accounts"),
            ),
            allow: None,
        });
    };
    match (method, found) {
        (&Method::POST, found) => Ok(Route::Post(found)),
        (&Method::GET, PostRoute::Reconnect(id)) => Ok(Route::GetAccount(id)),
        (_, found) => {
            let allow = match found {
                PostRoute::Reconnect(_) => "GET, POST",
                _ => "POST",
            };
            Err(Refused {
                reply: Reply::error(
                    405,
                    kinds::METHOD_NOT_ALLOWED,
                    format!("{method} is not allowed here; use {allow}"),
                ),
                allow: Some(allow),
            })
        }
    }
}

/// The `Idempotency-Key` header: `Ok(None)` without one; 400 when empty or longer than
/// [`MAX_KEY_BYTES`] (an *inferred* rule).
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<&[u8]>, Reply> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.as_bytes();
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(Reply::error(
            400,
            kinds::INVALID_PARAMETERS,
            format!("the Idempotency-Key header must be 1 to {MAX_KEY_BYTES} characters long"),
        ));
    }
    Ok(Some(key))
}

/// A field of the body: `Ok(None)` when missing (or null), an error when not a usable string.
fn text_field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Err(format!("`{name}` must not be empty")),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{name}` must be a string")),
    }
}

/// A field that is there and not null (an optional field sent as null counts as absent).
fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn is_non_empty_text(value: &Value) -> bool {
    value.as_str().is_some_and(|text| !text.is_empty())
}

/// An ISO 3166-1 alpha-2 code's shape: two letters.
fn is_country_code(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
}

fn is_ipv4(value: &Value) -> bool {
    value.as_str().is_some_and(|ip| ip.parse::<Ipv4Addr>().is_ok())
}

fn is_port(value: &Value) -> bool {
    value.as_u64().is_some_and(|port| (1..=65_535).contains(&port))
}

fn is_proxy_protocol(value: &Value) -> bool {
    matches!(value.as_str(), Some("https" | "http" | "socks5"))
}

/// A count (0: no history) or a UTC datetime (whose format is not checked).
fn is_sync_from(value: &Value) -> bool {
    value.is_u64() || is_non_empty_text(value)
}

/// Adds `problem` when `field` is present and not `valid`.
fn check(problems: &mut Vec<String>, field: Option<&Value>, valid: fn(&Value) -> bool, problem: &str) {
    if field.is_some_and(|value| !valid(value)) {
        problems.push(problem.to_owned());
    }
}

/// What is wrong with the optional fields of a connect or reconnect that are present, as
/// `api-contract.md` documents them (accounts-connect, accounts-reconnect): `proxy`
/// `{"protocol": "https"|"http"|"socks5" (optional), "host" (required), "port" (number,
/// required), "username", "password" (optional)}`, `country` (ISO 3166-1 alpha-2), `ip`
/// (IPv4), `user_agent`, `sync_limit` `{"chats", "messages"}` (each a UTC datetime or a
/// count). Messages name fields, never their values (the proxy's password is a secret).
fn connect_option_problems(object: &Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    check(
        &mut problems,
        present(object, "country"),
        is_country_code,
        "`country` must be an ISO 3166-1 alpha-2 code, such as \"FR\"",
    );
    check(
        &mut problems,
        present(object, "ip"),
        is_ipv4,
        "`ip` must be an IPv4 address, such as \"203.0.113.7\"",
    );
    check(
        &mut problems,
        present(object, "user_agent"),
        is_non_empty_text,
        "`user_agent` must be a non-empty string",
    );
    match present(object, "sync_limit") {
        None => {}
        Some(Value::Object(limit)) => {
            check(
                &mut problems,
                present(limit, "chats"),
                is_sync_from,
                "`sync_limit.chats` must be a count (0 or more) or a UTC datetime",
            );
            check(
                &mut problems,
                present(limit, "messages"),
                is_sync_from,
                "`sync_limit.messages` must be a count (0 or more) or a UTC datetime",
            );
        }
        Some(_) => problems.push("`sync_limit` must be an object: {\"chats\", \"messages\"}".to_owned()),
    }
    match present(object, "proxy") {
        None => {}
        Some(Value::Object(proxy)) => problems.extend(proxy_problems(proxy)),
        Some(_) => problems.push("`proxy` must be an object: {\"host\", \"port\", …}".to_owned()),
    }
    problems
}

/// See [`connect_option_problems`]: the fields of the `proxy` object.
fn proxy_problems(proxy: &Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    let (host, port) = (present(proxy, "host"), present(proxy, "port"));
    if host.is_none() {
        problems.push("`proxy.host` is required".to_owned());
    }
    if port.is_none() {
        problems.push("`proxy.port` is required".to_owned());
    }
    check(
        &mut problems,
        host,
        is_non_empty_text,
        "`proxy.host` must be a non-empty string",
    );
    check(
        &mut problems,
        port,
        is_port,
        "`proxy.port` must be a port number, 1 to 65535",
    );
    check(
        &mut problems,
        present(proxy, "protocol"),
        is_proxy_protocol,
        "`proxy.protocol` must be one of https, http, socks5",
    );
    check(
        &mut problems,
        present(proxy, "username"),
        Value::is_string,
        "`proxy.username` must be a string",
    );
    check(
        &mut problems,
        present(proxy, "password"),
        Value::is_string,
        "`proxy.password` must be a string",
    );
    problems
}

/// Parses and checks a POST body: content-type, JSON, an object, the required string
/// fields, a known provider (one of the three a resend accepts, for a resend), and the
/// optional fields of a connect or reconnect that are present.
pub(crate) fn parse_operation(
    route: PostRoute,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Operation, Reply> {
    let is_json = content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Reply::error(
            400,
            kinds::MALFORMED_REQUEST,
            "the body must be JSON sent with content-type: application/json",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Reply::error(
            400,
            kinds::MALFORMED_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(object) = value else {
        return Err(Reply::error(
            400,
            kinds::INVALID_PARAMETERS,
            "the body must be a JSON object",
        ));
    };
    let names: &[&str] = match route {
        PostRoute::Connect | PostRoute::Reconnect(_) => &["provider", "username", "password"],
        PostRoute::Solve => &["provider", "account_id", "code"],
        PostRoute::Resend => &["provider", "account_id"],
    };
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    let mut values = Vec::new();
    for name in names {
        match text_field(&object, name) {
            Ok(Some(value)) => values.push(value),
            Ok(None) => missing.push(*name),
            Err(message) => invalid.push(message),
        }
    }
    if !missing.is_empty() {
        return Err(Reply::error(
            400,
            kinds::MISSING_PARAMETERS,
            format!("missing parameters: {}", missing.join(", ")),
        ));
    }
    if matches!(route, PostRoute::Connect | PostRoute::Reconnect(_)) {
        invalid.extend(connect_option_problems(&object));
    }
    if !invalid.is_empty() {
        return Err(Reply::error(400, kinds::INVALID_PARAMETERS, invalid.join("; ")));
    }
    let field = |i: usize| values.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
    let provider_name = field(0);
    let Some(provider) = Provider::parse(&provider_name) else {
        return Err(Reply::error(
            400,
            kinds::INVALID_PARAMETERS,
            format!(
                "`provider` must be one of MESSENGER, LINKEDIN, INSTAGRAM, TWITTER, not `{provider_name}`"
            ),
        ));
    };
    if route == PostRoute::Resend && !provider.can_resend() {
        return Err(Reply::error(
            400,
            kinds::INVALID_PARAMETERS,
            format!("a resend's `provider` must be one of LINKEDIN, INSTAGRAM, MESSENGER, not `{provider}`"),
        ));
    }
    Ok(match route {
        PostRoute::Connect => Operation::Connect {
            provider,
            username: field(1),
            password: field(2),
        },
        PostRoute::Reconnect(account_id) => Operation::Reconnect {
            account_id,
            provider,
            username: field(1),
            password: field(2),
        },
        PostRoute::Solve => Operation::Solve {
            provider,
            account_id: field(1),
            code: field(2),
        },
        PostRoute::Resend => Operation::Resend {
            provider,
            account_id: field(1),
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use hyper::header::HeaderValue;
    use proptest::prelude::*;

    fn kind_of(reply: &Reply) -> String {
        reply.kind().unwrap_or_default().to_owned()
    }

    #[test]
    fn routes_in_both_styles() {
        for prefix in ["/v1", "/api/v1"] {
            let r = |p: &str| route(&Method::POST, &format!("{prefix}{p}"));
            assert_eq!(r("/accounts").unwrap(), Route::Post(PostRoute::Connect));
            assert_eq!(r("/accounts/checkpoint").unwrap(), Route::Post(PostRoute::Solve));
            assert_eq!(
                r("/accounts/checkpoint/resend").unwrap(),
                Route::Post(PostRoute::Resend)
            );
            assert_eq!(
                r("/accounts/abc").unwrap(),
                Route::Post(PostRoute::Reconnect("abc".into()))
            );
            assert_eq!(r("/accounts/").unwrap_err().reply.status(), 404);
            assert_eq!(r("/accounts/a/b").unwrap_err().reply.status(), 404);
            assert_eq!(r("/accountz").unwrap_err().reply.status(), 404);
            let get = |p: &str| route(&Method::GET, &format!("{prefix}{p}"));
            assert_eq!(get("/accounts/abc").unwrap(), Route::GetAccount("abc".into()));
            let list = get("/accounts").unwrap_err();
            assert_eq!((list.reply.status(), list.allow), (405, Some("POST")));
            let put = route(&Method::PUT, &format!("{prefix}/accounts/abc")).unwrap_err();
            assert_eq!((put.reply.status(), put.allow), (405, Some("GET, POST")));
        }
        assert_eq!(
            route(&Method::POST, "/v2/accounts").unwrap_err().reply.status(),
            404
        );
    }

    #[test]
    fn an_endpoint_is_the_same_in_both_styles() {
        let a = route(&Method::POST, "/v1/accounts/x").unwrap();
        let b = route(&Method::POST, "/api/v1/accounts/x").unwrap();
        assert_eq!(a, b);
        assert_ne!(PostRoute::Solve.endpoint(), PostRoute::Resend.endpoint());
    }

    #[test]
    fn idempotency_keys_are_bounded() {
        let mut headers = HeaderMap::new();
        assert_eq!(idempotency_key(&headers).unwrap(), None);
        headers.insert("idempotency-key", HeaderValue::from_static("abc"));
        assert_eq!(idempotency_key(&headers).unwrap(), Some(&b"abc"[..]));
        headers.insert("idempotency-key", HeaderValue::from_static(""));
        assert!(idempotency_key(&headers).is_err());
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        headers.insert("idempotency-key", HeaderValue::from_str(&long).unwrap());
        assert!(idempotency_key(&headers).is_err());
    }

    #[test]
    fn bodies_are_validated_in_order() {
        let json = Some("application/json; charset=utf-8");
        let parse = |body: &str| parse_operation(PostRoute::Solve, json, body.as_bytes());
        assert_eq!(kind_of(&parse("{").unwrap_err()), kinds::MALFORMED_REQUEST);
        assert_eq!(kind_of(&parse("[1]").unwrap_err()), kinds::INVALID_PARAMETERS);
        assert_eq!(
            kind_of(&parse(r#"{"provider":"MESSENGER","code":5}"#).unwrap_err()),
            kinds::MISSING_PARAMETERS
        );
        assert_eq!(
            kind_of(&parse(r#"{"provider":"MESSENGER","account_id":"a","code":5}"#).unwrap_err()),
            kinds::INVALID_PARAMETERS
        );
        assert_eq!(
            kind_of(&parse(r#"{"provider":"SKYPE","account_id":"a","code":"5"}"#).unwrap_err()),
            kinds::INVALID_PARAMETERS
        );
        assert_eq!(
            parse(r#"{"provider":"MESSENGER","account_id":"a","code":"5","extra":1}"#).unwrap(),
            Operation::Solve {
                provider: Provider::Messenger,
                account_id: "a".into(),
                code: "5".into()
            }
        );
        let no_type = parse_operation(PostRoute::Connect, None, b"{}").unwrap_err();
        assert_eq!(kind_of(&no_type), kinds::MALFORMED_REQUEST);
        let text = parse_operation(PostRoute::Connect, Some("text/plain"), b"{}").unwrap_err();
        assert_eq!(kind_of(&text), kinds::MALFORMED_REQUEST);
    }

    #[test]
    fn a_resend_accepts_three_providers_of_four() {
        let resend = |provider: &str| {
            let body = format!(r#"{{"provider":"{provider}","account_id":"a"}}"#);
            parse_operation(PostRoute::Resend, Some("application/json"), body.as_bytes())
        };
        for provider in ["MESSENGER", "LINKEDIN", "INSTAGRAM"] {
            assert!(resend(provider).is_ok(), "{provider}");
        }
        let twitter = resend("TWITTER").unwrap_err();
        assert_eq!(
            (twitter.status(), kind_of(&twitter)),
            (400, kinds::INVALID_PARAMETERS.to_owned())
        );
        // TWITTER still solves.
        let solve = br#"{"provider":"TWITTER","account_id":"a","code":"1"}"#;
        assert!(parse_operation(PostRoute::Solve, Some("application/json"), solve).is_ok());
    }

    proptest! {
        #[test]
        fn any_body_and_route_is_answered_without_panic(
            body in proptest::collection::vec(any::<u8>(), 0..200),
            path in "/(api/)?v1/accounts(/[a-z]{0,4}){0,3}",
            json in proptest::option::of(prop_oneof![
                Just(r#"{"provider":"MESSENGER"}"#.to_owned()),
                Just(r#"{"provider":"MESSENGER","username":"bob","password":"pw-b"}"#.to_owned()),
                "\\{\"provider\":\"[A-Z]{0,9}\",\"account_id\":\"[a-zA-Z0-9]{0,30}\",\"code\":\"[0-9]{0,6}\"\\}",
            ]),
        ) {
            let body = json.map(String::into_bytes).unwrap_or(body);
            if let Ok(Route::Post(route)) = route(&Method::POST, &path) {
                let _ = parse_operation(route, Some("application/json"), &body);
            }
        }
    }
}
